/**
 * Runs the real-kernel round trip (lab-roundtrip.sh) in the lab (lab/run, user-mode Linux 6.1
 * with ESP/AH). Skipped with a message when the lab kernel is not installed, except in CI
 * (CI=true), where a missing lab is a failure: `sudo lab/install-deps` installs it.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const kernel = process.env['LAB_KERNEL'] ?? '/usr/bin/linux.uml';
const missing = process.platform !== 'linux' || process.arch !== 'x64' ? 'not an x86_64 Linux host' : existsSync(kernel) ? undefined : `${kernel} is not installed`;
const inCi = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';

if (missing !== undefined && !inCi) {
  test('lab: real-kernel round trip', (t) => {
    t.log(`SKIPPED: ${missing}; run \`sudo lab/install-deps\` to test against a real kernel with ESP`);
    t.pass();
  });
} else {
  test('lab: every SA and policy kind survives dump, delete and re-install in a real kernel', async (t) => {
    if (missing !== undefined) return t.fail(`the lab cannot run in CI: ${missing}`);
    t.timeout(180_000);
    const started = Date.now();
    const { stdout } = await promisify(execFile)('lab/run', ['--timeout', '150', '--', 'test/drivers/xfrm/lab-roundtrip.sh'], { cwd: root }).catch(
      (error: { stdout?: string; stderr?: string; code?: number }) => {
        t.log(error.stdout ?? '', error.stderr ?? '');
        throw new Error(`lab/run exited with status ${error.code}`);
      },
    );
    t.log(stdout.trim());
    t.log(`lab run: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    t.regex(stdout, /round trip OK/);
  });
}
