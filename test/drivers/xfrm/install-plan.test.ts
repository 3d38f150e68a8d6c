/**
 * What put sends and how it is undone (install-plan.ts, rollback.ts), what get --move deletes
 * (take-order.ts), and xfrm: URIs, without a kernel: the decisions are checked on the
 * requests' message types.
 */
import test from 'ava';
import { XFRM_MSG } from '../../../lib/drivers/xfrm/constants.js';
import { planInstall } from '../../../lib/drivers/xfrm/install-plan.js';
import { messageType } from '../../../lib/drivers/xfrm/netlink.js';
import { planRollback } from '../../../lib/drivers/xfrm/rollback.js';
import type { BatchResult } from '../../../lib/drivers/xfrm/socket.js';
import { removalsOf } from '../../../lib/drivers/xfrm/take-order.js';
import { parseXfrmUri } from '../../../lib/drivers/xfrm/xfrm-uri.js';
import { GatewayError, UsageError } from '../../../lib/errors.js';
import type { ChildSa } from '../../../lib/model/child-sa.js';
import type { Context } from '../../../lib/model/context.js';
import type { Policy } from '../../../lib/model/policy.js';
import { planMerge } from '../../../lib/restore/merge.js';
import { fixtureContext } from '../../helpers/workspace.js';

const NAMES = Object.fromEntries(Object.entries(XFRM_MSG).map(([name, type]) => [type, name]));
const types = (messages: readonly { message: Uint8Array }[]) => messages.map((m) => NAMES[messageType(m.message)]);

const base = fixtureContext('site-to-site.json');
const kernelOnly = (context: Context): Context => ({ ...context, ikeSas: [], childSas: context.childSas.map(({ ikeSaId: _x, ...child }) => child) });
const existing = kernelOnly(base);
const [sa0, sa1] = existing.childSas as [ChildSa, ChildSa];
const [policy0] = existing.policies as [Policy];
const target = (childSas: ChildSa[], policies: Policy[] = []): Context => ({ ...existing, childSas, policies });

function plan(incoming: Context, replace = false) {
  const merged = planMerge(existing, incoming, { replace });
  return planInstall(existing, incoming, merged.result);
}

test('xfrm: URIs name this namespace or one netns, and nothing else', (t) => {
  t.deepEqual(parseXfrmUri(''), { uri: 'xfrm:' });
  t.deepEqual(parseXfrmUri('?netns=gw-a'), { uri: 'xfrm:?netns=gw-a', netns: 'gw-a' });
  t.deepEqual(parseXfrmUri('?netns=/proc/1/ns/net'), { uri: 'xfrm:?netns=/proc/1/ns/net', netns: '/proc/1/ns/net' });
  for (const bad of ['gw', '?ns=a', '?netns=', '?netns=a&x=1', '?netns=../x', '?netns=a/b', '?netns=/a/../b']) {
    t.throws(() => parseXfrmUri(bad), { instanceOf: UsageError, code: 'usage.bad_uri' }, bad);
  }
});

test('new SAs come before new policies; what the target holds unchanged is not sent', (t) => {
  const newSa = { ...sa0, id: 'new', spi: new Uint8Array([9, 9, 9, 9]) };
  const newPolicy = { ...policy0, id: 'p-new', selector: { ...policy0.selector, source: '10.99.0.0/16' } };
  const { steps, unchanged } = plan(target([sa1, newSa], [newPolicy, policy0]));
  t.deepEqual(types(steps), ['NEWSA', 'NEWPOLICY']);
  t.deepEqual(unchanged.map((c) => c.id), [sa1.id]);
});

test('the same SA with counters ahead gets NEWAE; with the kernel ahead nothing is sent', (t) => {
  const ahead = { ...sa0, sequence: { ...sa0.sequence, outbound: sa0.sequence.outbound + 100_000n } };
  t.deepEqual(types(plan(target([ahead])).steps), ['NEWAE']);
  const behind = { ...sa0, sequence: { ...sa0.sequence, outbound: 0n } };
  const { steps, unchanged } = plan(target([behind]));
  t.deepEqual(steps, []);
  t.deepEqual(unchanged.map((c) => c.id), [sa0.id]);
});

test('an SA with other keys (--replace) is read, deleted and re-added in one place', (t) => {
  const rekeyed = { ...sa0, crypto: sa0.crypto.kind === 'aead' ? { ...sa0.crypto, key: sa0.crypto.key.map((x) => x ^ 1) } : sa0.crypto };
  t.not(rekeyed.crypto, sa0.crypto);
  t.deepEqual(types(plan(target([rekeyed]), true).steps), ['GETSA', 'DELSA', 'NEWSA']);
});

test('the same keys with other settings and the kernel ahead is refused before any change', (t) => {
  const other = { ...sa0, sequence: { ...sa0.sequence, outbound: 0n }, lifetime: { ...sa0.lifetime, hard: { ...sa0.lifetime.hard, bytes: 1n << 40n } } };
  t.throws(() => plan(target([other])), { instanceOf: GatewayError, code: 'gateway.conflict' });
  const ahead = { ...other, sequence: { ...sa0.sequence, outbound: sa0.sequence.outbound + 1n } };
  t.deepEqual(types(plan(target([ahead])).steps), ['GETSA', 'DELSA', 'NEWSA']);
});

test('a replaced policy is UPDPOLICY with the same priority, NEWPOLICY then DELPOLICY with another', (t) => {
  const retemplated = { ...policy0, templates: policy0.templates.map((tmpl) => ({ ...tmpl, reqid: tmpl.reqid + 1 })) };
  t.deepEqual(types(plan(target([], [retemplated]), true).steps), ['UPDPOLICY']);
  const reprioritized = { ...policy0, priority: policy0.priority + 1 };
  t.deepEqual(types(plan(target([], [reprioritized]), true).steps), ['NEWPOLICY', 'DELPOLICY']);
});

test('a rollback undoes what succeeded, newest first, and never moves used counters back', (t) => {
  const newSa = { ...sa0, id: 'new', spi: new Uint8Array([9, 9, 9, 9]) };
  const ahead = { ...sa1, sequence: { ...sa1.sequence, outbound: sa1.sequence.outbound + 100_000n, inbound: sa1.sequence.inbound } };
  const retemplated = { ...policy0, templates: policy0.templates.map((tmpl) => ({ ...tmpl, reqid: tmpl.reqid + 1 })) };
  const newPolicy = { ...policy0, id: 'p-new', selector: { ...policy0.selector, source: '10.99.0.0/16' } };
  const { steps } = plan(target([newSa, ahead], [retemplated, newPolicy]), true);
  t.deepEqual(types(steps), ['NEWSA', 'NEWAE', 'UPDPOLICY', 'NEWPOLICY']);
  // Everything but the last succeeded; the kernel gave the new policy index 4242.
  const results: BatchResult[] = steps.map((_, index) => ({ index, seq: index, errno: index === 3 ? 22 : 0 }));
  const fresh = { childSas: [newSa, ahead], policies: [{ ...retemplated }, { ...newPolicy, index: 4242 }], skipped: [] };
  t.deepEqual(types(planRollback(steps, results, fresh).requests), ['UPDPOLICY', 'NEWAE', 'DELSA']);
  // The new policy did get in (say the failure was elsewhere): it is deleted by the index it got.
  const allOk = steps.map((_, index) => ({ index, seq: index, errno: 0 }));
  const undo = planRollback(steps, allOk, fresh);
  t.deepEqual(types(undo.requests), ['DELPOLICY', 'UPDPOLICY', 'NEWAE', 'DELSA']);
  // Packets used the SA after NEWAE: its counters stay where they are.
  const used = { ...ahead, sequence: { ...ahead.sequence, outbound: ahead.sequence.outbound + 5n } };
  const moved = planRollback(steps, results, { ...fresh, childSas: [newSa, used] });
  t.deepEqual(types(moved.requests), ['UPDPOLICY', 'DELSA']);
  t.regex(moved.notes.join(), /stay moved forward/);
});

test('get --move deletes the SAs before the policies (fail closed)', (t) => {
  t.deepEqual(types(removalsOf(existing)), [...existing.childSas.map(() => 'DELSA'), ...existing.policies.map(() => 'DELPOLICY')]);
});
