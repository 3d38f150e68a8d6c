/**
 * The `xfrm:` driver against the host kernel, in throw-away network namespaces. The host has
 * no ESP, so only policies here: read, put (add, keep, replace), a put that fails half way,
 * and take. SAs, traffic and the CLI are tested in the lab (lab-driver.ts). Needs root.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { openDriver } from '../../../lib/drivers/registry.js';
import { GatewayError } from '../../../lib/errors.js';
import type { Context } from '../../../lib/model/context.js';
import { compareOutputs, entries, ip } from './ip-oracle.js';

const root = process.platform === 'linux' && process.getuid?.() === 0;
const hostTest = root ? test : test.skip;
if (!root) test('xfrm driver host tests', (t) => t.log('skipped: needs root for ip netns') ?? t.pass());

let counter = 0;
function netns(t: ExecutionContext, lines: string[] = []): string {
  const name = `ipsec-ctx-d${process.pid}-${counter++}`;
  execFileSync('ip', ['netns', 'add', name]);
  t.teardown(() => execFileSync('ip', ['netns', 'del', name]));
  if (lines.length > 0) ip(name, ['-batch', '-'], `${lines.join('\n')}\n`);
  return name;
}

const POLICIES = [
  'xfrm policy add src 10.1.0.0/16 dst 10.2.0.0/16 dir out priority 100 tmpl src 192.0.2.1 dst 198.51.100.1 proto esp reqid 1 mode tunnel',
  'xfrm policy add src 10.2.0.0/16 dst 10.1.0.0/16 dir in priority 100 tmpl src 198.51.100.1 dst 192.0.2.1 proto esp reqid 2 mode tunnel',
  'xfrm policy add src 10.2.0.0/16 dst 10.1.0.0/16 dir fwd priority 100 tmpl src 198.51.100.1 dst 192.0.2.1 proto esp reqid 2 mode tunnel',
  'xfrm policy add src 10.9.0.0/16 dst 0.0.0.0/0 dir out action block priority 50',
];
const env = { nowMs: Date.now, cwd: process.cwd() };
const driver = (ns: string) => openDriver(`xfrm:?netns=${ns}`, env);

hostTest('read gives a validated context named after the netns, with no IKE SAs', async (t) => {
  const ns = netns(t, POLICIES);
  const context = await (await driver(ns)).read();
  t.is(context.provenance.source, ns);
  t.is(context.provenance.driver, 'xfrm');
  t.deepEqual(context.ikeSas, []);
  t.is(context.policies.length, 4);
});

hostTest('put adds, then keeps; the target ends up printing what the source printed', async (t) => {
  const a = netns(t, POLICIES);
  const b = netns(t);
  const context = await (await driver(a)).read();
  const target = await driver(b);
  const dry = await target.apply(context, { replace: false, dryRun: true });
  t.false(dry.applied);
  t.is(ip(b, ['xfrm', 'policy']), '');
  const first = (await target.apply(context, { replace: false, dryRun: false }));
  t.deepEqual(first.changes.map((c) => c.action), ['add', 'add', 'add', 'add']);
  t.deepEqual(first.warnings ?? [], []);
  t.is(ip(b, ['xfrm', 'policy']), ip(a, ['xfrm', 'policy']));
  const again = await target.apply(context, { replace: false, dryRun: false });
  t.deepEqual(again.changes.map((c) => c.action), ['keep', 'keep', 'keep', 'keep']);
});

function retemplate(context: Context): Context {
  return { ...context, policies: context.policies.map((p) => ({ ...p, templates: p.templates.map((tmpl) => ({ ...tmpl, reqid: tmpl.reqid + 10 })) })) };
}

hostTest('a policy with other templates is a conflict, and with --replace is replaced in place', async (t) => {
  const ns = netns(t, POLICIES);
  const gw = await driver(ns);
  const changed = retemplate(await gw.read());
  const before = ip(ns, ['xfrm', 'policy']);
  await t.throwsAsync(gw.apply(changed, { replace: false, dryRun: false }), { instanceOf: GatewayError, code: 'gateway.conflict' });
  t.is(ip(ns, ['xfrm', 'policy']), before);
  const report = await gw.apply(changed, { replace: true, dryRun: false });
  t.is(report.changes.filter((c) => c.action === 'replace').length, 3);
  const after = await gw.read();
  t.deepEqual(
    after.policies.map((p) => [p.index, p.templates.map((tmpl) => tmpl.reqid)]).sort(),
    changed.policies.map((p) => [p.index, p.templates.map((tmpl) => tmpl.reqid)]).sort(),
  );
});

hostTest('a put that fails half way is undone: every entry of ip xfrm policy is as it was', async (t) => {
  const ns = netns(t, POLICIES);
  const gw = await driver(ns);
  const current = await gw.read();
  const before = ip(ns, ['xfrm', 'policy']);
  const [first] = current.policies;
  if (!first) return t.fail();
  const added = (n: number, extra = {}) => ({ ...first, id: `p${n}`, index: undefined, selector: { ...first.selector, source: `10.${50 + n}.0.0/16` }, ...extra });
  const incoming: Context = {
    ...retemplate(current),
    policies: [...retemplate(current).policies, added(1), added(2, { direction: 'in' as const, index: 0x1001 }), added(3)].map(({ index, ...p }) => (index === undefined ? p : { ...p, index })),
  };
  const error = await t.throwsAsync(gw.apply(incoming, { replace: true, dryRun: false }), { instanceOf: GatewayError, code: 'gateway.rolled_back' });
  t.regex(error?.message ?? '', /Policy index doesn't match direction \[EINVAL\]; the \d+ change\(s\) made before it were undone/);
  const after = ip(ns, ['xfrm', 'policy']);
  // Every entry is as it was; the kernel lists the ones put back (re-linked) first.
  t.deepEqual(compareOutputs(before, after), []);
  t.is(entries(after).length, entries(before).length);
});

hostTest('a failed put that only added policies leaves ip xfrm policy byte for byte as it was', async (t) => {
  const ns = netns(t, POLICIES);
  const gw = await driver(ns);
  const current = await gw.read();
  const before = ip(ns, ['xfrm', 'policy']);
  const [first] = current.policies;
  if (!first) return t.fail();
  const { index: _index, ...plain } = first;
  const added = (n: number, extra = {}) => ({ ...plain, id: `p${n}`, selector: { ...first.selector, source: `10.${50 + n}.0.0/16` }, ...extra });
  await t.throwsAsync(gw.apply({ ...current, policies: [added(1), added(2, { direction: 'in' as const, index: 0x1001 }), added(3)] }, { replace: false, dryRun: false }), {
    instanceOf: GatewayError,
    code: 'gateway.rolled_back',
  });
  t.is(ip(ns, ['xfrm', 'policy']), before);
});

hostTest('take hands over the selection, then deletes exactly that', async (t) => {
  const ns = netns(t, POLICIES);
  const gw = await driver(ns);
  let delivered: Context | undefined;
  const { taken, removed } = await gw.take(
    (context) => ({ ...context, policies: context.policies.filter((p) => p.action === 'allow') }),
    async (context) => {
      // Delivered while everything is still in service.
      t.is((await gw.read()).policies.length, 4);
      delivered = context;
    },
  );
  t.is(delivered, taken);
  t.is(removed.length, 3);
  const left = await gw.read();
  t.deepEqual(left.policies.map((p) => p.action), ['block']);
});

hostTest('a failed delivery leaves everything in service', async (t) => {
  const ns = netns(t, POLICIES);
  const gw = await driver(ns);
  const before = ip(ns, ['xfrm', 'policy']);
  await t.throwsAsync(
    gw.take(
      (context) => context,
      async () => {
        throw new Error('disk full');
      },
    ),
    { message: 'disk full' },
  );
  t.is(ip(ns, ['xfrm', 'policy']), before);
});
