/** Runs the CLI in-process (`main(argv, io)`) with buffers, a fixed clock and fixed randomness. */
import { main } from '../../lib/cli/main.js';
import type { Io } from '../../lib/cli/io.js';
import { seededRandom } from '../../lib/crypto/random.js';
import { manualInterrupts } from '../../lib/util/interruption.js';

export interface RunOptions {
  cwd: string;
  stdin?: Uint8Array | string;
  stdinIsTTY?: boolean;
  stdoutIsTTY?: boolean;
  nowMs?: number;
  seed?: string;
  env?: NodeJS.ProcessEnv;
  /** Aborting it is what SIGINT/SIGTERM are to the real process (for follow and put). */
  interrupt?: AbortController;
}

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
  /** stdout as text, for commands that print text. */
  out: string;
}

export const NOW_MS = 1_795_610_000_000;

export async function run(argv: string[], options: RunOptions): Promise<RunResult> {
  const stdout: Buffer[] = [];
  let stderr = '';
  const input = options.stdin === undefined ? [] : [typeof options.stdin === 'string' ? Buffer.from(options.stdin) : options.stdin];
  const stdin = Object.assign(
    (async function* () {
      yield* input;
    })(),
    { isTTY: options.stdinIsTTY ?? false },
  );
  const io: Io = {
    stdin,
    stdout: {
      write: (chunk) => stdout.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk)),
      isTTY: options.stdoutIsTTY ?? false,
    },
    stderr: { write: (chunk) => (stderr += chunk) },
    env: { HOME: options.cwd, ...options.env },
    cwd: options.cwd,
    nowMs: () => options.nowMs ?? NOW_MS,
    random: seededRandom(options.seed ?? `cli ${argv.join(' ')}`),
    catchInterrupts: manualInterrupts(options.interrupt ?? new AbortController()),
  };
  const code = await main(argv, io);
  const out = Buffer.concat(stdout);
  return { code, stdout: out, stderr, out: out.toString('utf8') };
}
