/**
 * Real-kernel round trip (run inside the lab, see lab-roundtrip.sh): in network namespace
 * NETNS, whose SAs and policies `ip -batch` installed, this program
 *
 *  1. saves `ip -s xfrm state` and `ip xfrm policy` (the oracle),
 *  2. dumps SAs and policies with the driver and converts them to the model,
 *     and checks the replay windows that real traffic filled (lab-roundtrip.sh) against the
 *     sequence numbers that were sent, bit by bit, in the model's bitmap convention,
 *  3. passes them through the model's JSON form (Context.encode, JSON, parseContext),
 *  4. deletes every SA and policy with DELSA/DELPOLICY in one batch and checks the namespace is empty,
 *  5. installs them again with NEWSA/NEWPOLICY in one batch,
 *  6. compares `ip` output before and after, entry by entry and line by line,
 *  7. installs the same batch once more and checks every request fails with EEXIST, by sequence number.
 *
 * Prints a summary and exits 0 only if everything matched.
 */
import { performance } from 'node:perf_hooks';
import { Context } from '../../../lib/model/context.js';
import { parseContext } from '../../../lib/model/validate.js';
import { XFRM_MSG } from '../../../lib/drivers/xfrm/constants.js';
import { XfrmSocket } from '../../../lib/drivers/xfrm/socket.js';
import { dumpKernelState, installRequests, kernelStateToModel, removeRequests } from '../../../lib/drivers/xfrm/state.js';
import { compareOutputs, entries, fieldCount, ip } from './ip-oracle.js';

/** What lab-roundtrip.sh sent to each receiving SA: the highest sequence number and all of them. */
const range = (from: bigint, to: bigint) => Array.from({ length: Number(to - from + 1n) }, (_, i) => from + BigInt(i));
const TRAFFIC: Readonly<Record<string, { inbound: bigint; received: bigint[] }>> = {
  d0000001: { inbound: 12n, received: [...range(1n, 5n), ...range(10n, 12n)] },
  d0000002: { inbound: 43n, received: [...range(1n, 5n), ...range(41n, 43n)] },
  d0000003: { inbound: 0x1_0000_0005n, received: [...range(0xffff_fffbn, 0xffff_ffffn), ...range(0x1_0000_0003n, 0x1_0000_0005n)] },
};

const netns = process.argv[2];
if (!netns) {
  console.error('usage: lab-roundtrip NETNS');
  process.exit(2);
}

let failures = 0;
const fail = (message: string) => {
  failures++;
  console.log(`FAIL: ${message}`);
};
const timings: string[] = [];
const timed = <T>(label: string, run: () => T): T => {
  const start = performance.now();
  const result = run();
  timings.push(`${label} ${(performance.now() - start).toFixed(1)} ms`);
  return result;
};

const beforeState = ip(netns, ['-s', 'xfrm', 'state']);
const beforePolicy = ip(netns, ['xfrm', 'policy']);

const socket = XfrmSocket.open({ netns });
try {
  const { state } = timed('dump', () => dumpKernelState(socket));
  const model = timed('to model', () => kernelStateToModel(state));
  for (const skipped of model.skipped) console.log(`skipped ${skipped.what}: ${skipped.reason}`);
  let checkedBits = 0;
  for (const [spi, sent] of Object.entries(TRAFFIC)) {
    const child = model.childSas.find((c) => Buffer.from(c.spi).toString('hex') === spi && c.destination === '10.99.0.2');
    if (!child) {
      fail(`no SA ${spi} to 10.99.0.2 in the dump`);
      continue;
    }
    const { sequence } = child;
    if (sequence.inbound !== sent.inbound) fail(`SA ${spi}: inbound ${sequence.inbound}, sent up to ${sent.inbound}`);
    const wrong: number[] = [];
    for (let i = 0; i < sequence.windowSize; i++) {
      const bit = ((sequence.bitmap[(i >> 5) * 4 + ((i & 31) >> 3)]! >> (i & 7)) & 1) === 1;
      if (bit !== sent.received.includes(sequence.inbound - BigInt(i))) wrong.push(i);
      checkedBits++;
    }
    if (wrong.length > 0) fail(`SA ${spi} (window ${sequence.windowSize}, esn ${sequence.esn}): bitmap bits ${wrong.join(',')} are wrong`);
  }
  console.log(`replay bitmaps from real traffic: ${Object.keys(TRAFFIC).length} SAs, ${checkedBits} bits checked`);

  const context: Context = {
    version: 1,
    provenance: { source: 'lab', driver: 'xfrm', capturedAtMs: Date.now() },
    ikeSas: [],
    childSas: model.childSas,
    policies: model.policies,
  };
  const restored = timed('JSON form and back', () => parseContext(JSON.parse(JSON.stringify(Context.encode(context)))));

  const removal = removeRequests(restored.childSas, restored.policies);
  const removed = timed('delete batch', () => socket.batch(removal.map((request) => request.message)));
  for (const result of removed) if (result.errno !== 0) fail(`${removal[result.index]!.what}: errno ${result.errno} ${result.message ?? ''}`);
  const leftSas = socket.dump(XFRM_MSG.GETSA, 'SAs').messages.length;
  const leftPolicies = socket.dump(XFRM_MSG.GETPOLICY, 'policies').messages.length;
  if (leftSas !== 0 || leftPolicies !== 0) fail(`after deleting: ${leftSas} SAs and ${leftPolicies} policies left`);
  const emptyState = ip(netns, ['xfrm', 'state']);
  if (emptyState.trim() !== '') fail(`ip xfrm state after deleting:\n${emptyState}`);

  const install = installRequests(restored.childSas, restored.policies);
  const installed = timed('install batch', () => socket.batch(install.map((request) => request.message)));
  for (const result of installed) if (result.errno !== 0) fail(`${install[result.index]!.what}: errno ${result.errno} ${result.message ?? ''}`);

  const afterState = ip(netns, ['-s', 'xfrm', 'state']);
  const afterPolicy = ip(netns, ['xfrm', 'policy']);
  for (const [what, before, after] of [
    ['ip -s xfrm state', beforeState, afterState],
    ['ip xfrm policy', beforePolicy, afterPolicy],
  ] as const) {
    // The IP-in-IP SA of an IPComp tunnel is the kernel's: it is made anew, with a new add time.
    const differences = compareOutputs(before, after, (key, line) => / proto 4 spi /.test(key) && /^\s+add /.test(line));
    console.log(`${what}: ${entries(before).length} entries, ${fieldCount(before)} fields, ${differences.length} entries differ`);
    for (const difference of differences) {
      fail(`${what}: ${difference.key}\n  before: ${difference.before.join('\n          ')}\n  after:  ${difference.after.join('\n          ')}`);
    }
  }

  const again = installRequests(restored.childSas, restored.policies);
  const refused = timed('repeated install batch', () => socket.batch(again.map((request) => request.message)));
  const eexist = refused.filter((result) => result.errno === 17).length;
  console.log(`installing again: ${eexist} of ${again.length} refused with EEXIST`);
  if (eexist !== again.length || refused.length !== again.length) fail('installing the same state again should fail with EEXIST for every request');

  console.log(`${restored.childSas.length} SAs, ${restored.policies.length} policies; ${timings.join(', ')} (guest clock)`);
} finally {
  socket.close();
}
if (failures > 0) {
  console.log(`${failures} failure(s)`);
  process.exit(1);
}
console.log('round trip OK');
