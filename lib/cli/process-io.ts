/** The real process as an Io. */
import { systemRandom } from '../crypto/random.js';
import { catchProcessInterrupts } from '../util/interruption.js';
import type { Io } from './io.js';

export function processIo(): Io {
  // A reader that went away (`ipsec-ctx --help | head`) is not an error worth a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    nowMs: () => Date.now(),
    random: systemRandom,
    catchInterrupts: catchProcessInterrupts,
  };
}
