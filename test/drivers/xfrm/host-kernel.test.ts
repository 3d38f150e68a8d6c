/**
 * The driver's socket against the host kernel, in throw-away network namespaces. The host has
 * XFRM but no ESP/AH (see docs/lab.md), so this covers policies, batches, dumps across many
 * datagrams and the kernel's error replies; SAs are tested in the lab (lab-roundtrip.sh).
 * Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for `ip netns`); the tests are skipped otherwise.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { GatewayError } from '../../../lib/errors.js';
import type { Policy } from '../../../lib/model/policy.js';
import { XFRM_MSG } from '../../../lib/drivers/xfrm/constants.js';
import { splitMessages } from '../../../lib/drivers/xfrm/netlink.js';
import { newPolicyMessage } from '../../../lib/drivers/xfrm/policy.js';
import { newSaMessage } from '../../../lib/drivers/xfrm/sa.js';
import { XfrmSocket } from '../../../lib/drivers/xfrm/socket.js';
import { dumpKernelState, installRequests, kernelStateToModel, parsePolicyDump, parseSaDump, readXfrmState, removeRequests } from '../../../lib/drivers/xfrm/state.js';
import { FIXTURES } from '../../helpers/workspace.js';
import { compareOutputs, ip } from './ip-oracle.js';

function netnsUsable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  try {
    const name = `ipsec-ctx-probe-${process.pid}`;
    execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'cannot create network namespaces with ip netns';
  }
}
const unusable = netnsUsable();
const hostTest = unusable === undefined ? test : test.skip;
if (unusable !== undefined) test('host-kernel tests', (t) => t.log(`skipped: ${unusable}`) ?? t.pass());

let counter = 0;
function netns(t: ExecutionContext): string {
  const name = `ipsec-ctx-t${process.pid}-${counter++}`;
  execFileSync('ip', ['netns', 'add', name]);
  t.teardown(() => execFileSync('ip', ['netns', 'del', name]));
  return name;
}

const DIR = join(FIXTURES, 'netlink');
const dumped = (name: string) => splitMessages(readFileSync(join(DIR, name)));
const fixture = kernelStateToModel({
  sas: parseSaDump(dumped('states.sa.bin').filter((m) => m.type === XFRM_MSG.NEWSA)),
  policies: parsePolicyDump(dumped('states.policy.bin').filter((m) => m.type === XFRM_MSG.NEWPOLICY)),
});

hostTest('policies installed in one batch read back identically, and ip prints what the lab kernel printed', (t) => {
  const ns = netns(t);
  const socket = XfrmSocket.open({ netns: ns });
  t.teardown(() => socket.close());
  const requests = installRequests([], fixture.policies);
  const results = socket.batch(requests.map((r) => r.message));
  t.deepEqual(
    results.map((r) => r.errno),
    requests.map(() => 0),
  );
  // The kernel dumps newest first; ids and indexes are the original ones.
  const byId = (a: Policy, b: Policy) => a.id.localeCompare(b.id);
  const { policies } = kernelStateToModel(dumpKernelState(socket).state);
  t.deepEqual(policies.sort(byId), [...fixture.policies].sort(byId));
  const differences = compareOutputs(readFileSync(join(DIR, 'states.ip-policy.txt'), 'utf8'), ip(ns, ['xfrm', 'policy']));
  t.deepEqual(differences, []);
  // readXfrmState opens its own socket in the namespace.
  t.deepEqual(readXfrmState({ netns: ns }).policies.sort(byId), [...fixture.policies].sort(byId));
});

hostTest('a batch reports every request by sequence number, with the kernel\'s own error text', (t) => {
  const ns = netns(t);
  const socket = XfrmSocket.open({ netns: ns });
  t.teardown(() => socket.close());
  const policy = fixture.policies[0]!;
  const esp = fixture.childSas.find((c) => c.crypto.kind === 'aead')!;
  // ok, duplicate, an ESP SA the host kernel cannot do, ok
  const requests = [newPolicyMessage(policy), newPolicyMessage(policy), newSaMessage(esp), newPolicyMessage(fixture.policies[1]!)];
  const results = socket.batch(requests);
  t.deepEqual(
    results.map((r) => [r.index, r.errno]),
    [
      [0, 0],
      [1, 17],
      [2, results[2]!.errno],
      [3, 0],
    ],
  );
  t.not(results[2]!.errno, 0);
  t.log(`NEWSA for ESP on the host: errno ${results[2]!.errno}, "${results[2]!.message ?? ''}"`);
  // Linux 6.3 and later explain; older kernels only give the errno.
  if (results[2]!.message !== undefined) t.regex(results[2]!.message, /algorithm not found|type not found/);

  const error = t.throws(() => socket.request(newPolicyMessage(policy), `add policy ${policy.id}`), { instanceOf: GatewayError });
  t.is(error!.code, 'gateway.kernel_refused');
  t.regex(error!.message, /^the kernel refused to add policy policy:out:\d+: .*EEXIST/);
});

hostTest('stopOnError sends nothing after the window that failed', (t) => {
  const ns = netns(t);
  const socket = XfrmSocket.open({ netns: ns });
  t.teardown(() => socket.close());
  const policy = fixture.policies[0]!;
  const requests = [newPolicyMessage(policy), newPolicyMessage(policy), newPolicyMessage(fixture.policies[1]!)];
  const results = socket.batch(requests, { window: 2, stopOnError: true });
  t.deepEqual(
    results.map((r) => r.errno),
    [0, 17],
  );
  t.is(kernelStateToModel(dumpKernelState(socket).state).policies.length, 1);
});

hostTest('thousands of policies: batches in windows, dumps across datagrams, deletes by index', (t) => {
  const ns = netns(t);
  const socket = XfrmSocket.open({ netns: ns });
  t.teardown(() => socket.close());
  const count = 5000;
  const policies: Policy[] = Array.from({ length: count }, (_, i) => ({
    id: `p${i}`,
    direction: (['in', 'out', 'fwd'] as const)[i % 3]!,
    action: 'allow',
    selector: { family: 'ipv4', source: `10.${i >> 8}.${i & 255}.0/24`, destination: '10.200.0.0/16' },
    priority: 1000 + i,
    templates: [{ protocol: 'esp', mode: 'tunnel', reqid: i + 1, family: 'ipv4', source: '192.0.2.1', destination: '198.51.100.1', optional: false }],
  }));
  let start = performance.now();
  const results = socket.batch(installRequests([], policies).map((r) => r.message));
  const installMs = performance.now() - start;
  t.is(results.filter((r) => r.errno === 0).length, count);
  start = performance.now();
  const dump = socket.dump(XFRM_MSG.GETPOLICY, 'policies');
  const dumpMs = performance.now() - start;
  t.is(dump.messages.length, count);
  t.true(dump.datagrams.length > 1);
  const read = kernelStateToModel({ sas: [], policies: parsePolicyDump(dump.messages) }).policies;
  const byPriority = new Map(read.map((p) => [p.priority, p]));
  for (const policy of policies) {
    const { id: _id, ...expected } = policy;
    const { id: _readId, index: _index, ...actual } = byPriority.get(policy.priority)!;
    if (!isDeepStrictEqual(actual, expected)) t.fail(`policy ${policy.id} read back as ${JSON.stringify(actual)}`);
  }
  start = performance.now();
  const removed = socket.batch(removeRequests([], read).map((r) => r.message));
  const deleteMs = performance.now() - start;
  t.is(removed.filter((r) => r.errno === 0).length, count);
  t.is(socket.dump(XFRM_MSG.GETPOLICY, 'policies').messages.length, 0);
  t.log(`${count} policies: install ${installMs.toFixed(0)} ms, dump ${dumpMs.toFixed(0)} ms in ${dump.datagrams.length} datagrams, delete ${deleteMs.toFixed(0)} ms`);
});

hostTest('a namespace that does not exist is a GatewayError naming it', (t) => {
  t.throws(() => XfrmSocket.open({ netns: 'ipsec-ctx-no-such-namespace' }), {
    code: 'gateway.no_netns',
    message: 'no network namespace named ipsec-ctx-no-such-namespace',
  });
});
