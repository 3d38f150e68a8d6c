/**
 * Worker thread of lib/format/parallel-seal.ts: seals payload chunks (docs/FORMAT.md §5.4)
 * with the key it was started with, in the order they arrive, and sends each back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sealChunk } from './stream.js';

const key = new Uint8Array(workerData as Uint8Array);
parentPort?.on('message', (message: { counter: number; last: boolean; plaintext: Uint8Array }) => {
  const sealed = sealChunk(message.plaintext, message.counter, message.last, key);
  parentPort?.postMessage({ counter: message.counter, sealed }, [sealed.buffer as ArrayBuffer]);
  if (message.last) key.fill(0);
});
