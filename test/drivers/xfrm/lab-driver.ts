/**
 * The `xfrm:` driver in a real kernel (run inside the lab by lab-suite.sh): the scenarios of
 * issue 4, one after the other in one boot, each in namespaces of its own.
 *
 *   (a) lab-cli-roundtrip.ts  get | put of every SA and policy kind, checked against `ip`
 *   (b) lab-migration.ts      live migration of an ESP tunnel under traffic
 *   (c) lab-migration.ts      restore after a reboot (flush, put an older blob)
 *   (d) lab-failures.ts       failures half way leave the target as it was
 *   (e) lab-failures.ts       IKE SAs are reported as not applied
 *
 * Prints `ok`/`FAIL` lines and `scenario X OK`; exits 0 only if every scenario passed.
 */
import { cliRoundTrip } from './lab-cli-roundtrip.js';
import { failures } from './lab-failures.js';
import { identity } from './lab-kit.js';
import { migration } from './lab-migration.js';

if (process.env['IPSEC_CTX_LAB'] !== '1') {
  console.error('run inside the lab: lab/run -- test/drivers/xfrm/lab-suite.sh');
  process.exit(2);
}
const started = Date.now();
const a = identity('gw-a');
const b = identity('gw-b');
const results: boolean[] = [];
/** LAB_SCENARIOS=a,b picks scenarios while debugging; all by default. */
const only = process.env['LAB_SCENARIOS']?.split(',');
for (const [name, scenario] of [
  ['a', () => cliRoundTrip(a, b)],
  ['b, c', () => migration(a, b)],
  ['d, e', () => failures(a)],
] as const) {
  if (only && !only.some((pick) => name.includes(pick))) continue;
  const at = Date.now();
  try {
    results.push(await scenario());
  } catch (error) {
    console.log(`FAIL ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    results.push(false);
  }
  console.log(`   (${name}: ${((Date.now() - at) / 1000).toFixed(1)} s, guest clock)`);
}
console.log(`driver scenarios: ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(results.every(Boolean) ? 0 : 1);
