/**
 * Encodes a context and seals its payload at the same time, on two threads: the main thread
 * writes the CBOR and hands each 64 KiB chunk, as soon as it is complete, to a worker thread
 * that encrypts it (lib/format/seal-worker.ts). For large contexts this takes about as long
 * as the slower of the two instead of their sum. The bytes are exactly those of
 * `encodeCanonical` followed by `sealPayload`; a test holds both paths to that.
 */
import { Worker } from 'node:worker_threads';
import { type KeyLabels } from './cbor-labels.js';
import { encodeCanonicalInChunks } from './cbor-encode.js';
import { CHUNK_BYTES } from './stream.js';

export interface SealedPayload {
  plaintextBytes: number;
  payload: Uint8Array;
}

export async function encodeAndSealInParallel(value: unknown, labels: KeyLabels, key: Uint8Array): Promise<SealedPayload> {
  const worker = new Worker(new URL('./seal-worker.js', import.meta.url), { workerData: key });
  try {
    const sealed: Uint8Array[] = [];
    let received = 0;
    let total = -1; // known once encoding has ended
    let settle = (): void => {};
    const done = new Promise<void>((resolve, reject) => {
      settle = () => {
        if (received === total) resolve();
      };
      worker.on('message', (message: { counter: number; sealed: Uint8Array }) => {
        sealed[message.counter] = message.sealed;
        received++;
        settle();
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`payload sealing worker stopped early (status ${code})`)));
    });

    let posted = 0;
    const post = (plaintext: Uint8Array, last: boolean) => {
      worker.postMessage({ counter: posted++, last, plaintext }, [plaintext.buffer as ArrayBuffer]);
    };
    // A chunk goes out once the next one exists: only then is it known not to be the last.
    let held: Uint8Array | undefined;
    let plaintextBytes = 0;
    const rest = encodeCanonicalInChunks(
      value,
      {
        chunkBytes: CHUNK_BYTES,
        chunk: (bytes) => {
          if (held) post(held, false);
          held = bytes;
          plaintextBytes += bytes.byteLength;
        },
      },
      labels,
    );
    plaintextBytes += rest.byteLength;
    if (rest.byteLength > 0) {
      if (held) post(held, false);
      post(rest, true);
    } else if (held) {
      post(held, true);
    } else {
      throw new RangeError('the payload must not be empty');
    }
    total = posted;
    settle();
    await done;

    const payload = new Uint8Array(sealed.reduce((sum, chunk) => sum + chunk.byteLength, 0));
    let offset = 0;
    for (const chunk of sealed) {
      payload.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return { plaintextBytes, payload };
  } finally {
    await worker.terminate();
  }
}
