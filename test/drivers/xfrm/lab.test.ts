/**
 * Runs every real-kernel test of the xfrm driver in ONE boot of the lab (lab/run, user-mode
 * Linux 6.1 with ESP/AH): lab-suite.sh runs the netlink round trip (lab-roundtrip.sh) and the
 * driver scenarios (lab-driver.ts). Each scenario is then its own ava test, reading its result
 * from the shared output. Skipped with a message when the lab kernel is not installed, except
 * in CI (CI=true), where a missing lab is a failure: `sudo lab/install-deps` installs it.
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

const SCENARIOS = [
  ['netlink round trip: every SA and policy kind survives dump, delete and re-install', /round trip OK/],
  ['(a) get | put through the CLI gives the same `ip -s xfrm state` and `ip xfrm policy`, outbound counters jumped', /scenario a-cli-roundtrip OK/],
  ['(b) live migration: traffic carries on with no replay drops, counters ahead, nothing renegotiated', /scenario b-live-migration OK/],
  ['(c) restore after a reboot: traffic resumes', /scenario c-reboot-restore OK/],
  ['(d) a put that fails half way leaves the target as it was', /scenario d-failure-rollback OK/],
  ['(e) IKE SAs put into the kernel are reported as not applied', /scenario e-ike-sas-not-applied OK/],
] as const;

if (missing !== undefined && !inCi) {
  test('lab: real-kernel tests', (t) => {
    t.log(`SKIPPED: ${missing}; run \`sudo lab/install-deps\` to test against a real kernel with ESP`);
    t.pass();
  });
} else {
  let suite: Promise<{ output: string; seconds: number }> | undefined;
  const runSuite = () =>
    (suite ??= (async () => {
      if (missing !== undefined) throw new Error(`the lab cannot run in CI: ${missing}`);
      const started = Date.now();
      const { stdout, stderr } = await promisify(execFile)('lab/run', ['--timeout', '400', '--', 'test/drivers/xfrm/lab-suite.sh'], { cwd: root, maxBuffer: 16 << 20 }).catch(
        (error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
      );
      return { output: `${stdout}${stderr}`, seconds: (Date.now() - started) / 1000 };
    })());

  for (const [title, pattern] of SCENARIOS) {
    test(`lab: ${title}`, async (t) => {
      t.timeout(420_000);
      const { output, seconds } = await runSuite();
      if (!pattern.test(output)) {
        t.log(output.trim());
        return t.fail(`the lab run (${seconds.toFixed(1)} s) did not print ${pattern}`);
      }
      // The lines of this scenario, for the record (timings, interruptions).
      const tag = /scenario (\S+) OK/.exec(pattern.source)?.[1];
      const lines = tag ? output.split('\n').filter((line) => line.includes(`${tag}:`)) : output.split('\n').filter((line) => /entries|bits checked|refused with EEXIST|SAs, \d+ policies/.test(line));
      t.log([...lines, `lab run: ${seconds.toFixed(1)} s for all scenarios`].join('\n'));
      t.pass();
    });
  }
}
