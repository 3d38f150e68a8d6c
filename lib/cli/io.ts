/**
 * Everything the CLI touches outside itself, injected so that tests run `main()` in-process
 * with buffers, a fixed clock and fixed randomness. Output rules (after age): data on stdout,
 * diagnostics on stderr only, no binary to a terminal, files written whole or not at all.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { Random } from '../crypto/random.js';
import type { CatchInterrupts } from '../util/interruption.js';
import { writeFileAtomic } from '../util/atomic-file.js';

export interface Io {
  stdin: AsyncIterable<Uint8Array | string> & { isTTY?: boolean };
  stdout: { write(chunk: Uint8Array | string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(chunk: string): unknown };
  env: NodeJS.ProcessEnv;
  cwd: string;
  nowMs(): number;
  random: Random;
  /** SIGINT/SIGTERM as an AbortSignal, for the commands that stop cleanly on them (follow, put). */
  catchInterrupts: CatchInterrupts;
}

async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  const all = Buffer.concat(chunks);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}

/** The input file, or stdin for `-` or no file. */
export async function readInput(io: Io, path: string | undefined): Promise<Uint8Array> {
  if (path === undefined || path === '-') {
    if (io.stdin.isTTY) {
      throw new UsageError('usage.no_input', 'no blob given and stdin is a terminal', { hint: 'pass a FILE, or pipe a blob in: ipsec-ctx get ... | ipsec-ctx put ...' });
    }
    return readAll(io.stdin);
  }
  try {
    return new Uint8Array(readFileSync(resolve(io.cwd, path)));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError('usage.unreadable_file', `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}`);
  }
}

/** @throws UsageError when binary output would go to a terminal without an explicit `-o -` */
export function refuseBinaryToTerminal(io: Io, path: string | undefined): void {
  if (path === undefined && io.stdout.isTTY) {
    throw new UsageError('usage.binary_to_terminal', 'refusing to write a binary blob to a terminal', { hint: 'pass -o FILE, pipe the output, or force it with -o -' });
  }
}

/** Writes a binary blob to `path` (atomically, mode 0600) or to stdout, never to a terminal unless `-o -`. */
export function writeBinaryOutput(io: Io, path: string | undefined, bytes: Uint8Array): void {
  refuseBinaryToTerminal(io, path);
  if (path === undefined || path === '-') io.stdout.write(bytes);
  else writeFileAtomic(resolve(io.cwd, path), bytes, 0o600);
}

export function say(io: Io, message: string): void {
  io.stderr.write(`ipsec-ctx: ${message}\n`);
}

export function warn(io: Io, message: string): void {
  io.stderr.write(`ipsec-ctx: warning: ${message}\n`);
}
