/**
 * Lab scenarios (d) failures half way and (e) IKE SAs put into the kernel.
 *
 * (d) Namespace `fd` holds fixtures/netlink/states.batch. Each case asks the driver (and once
 *     the real CLI, in-process) to apply a context that fails part way, and then compares
 *     `ip -s xfrm state` and `ip xfrm policy` with what they printed before:
 *     1. an SA with other keys and --replace off: refused before any change;
 *     2. SAs added, a live SA's counters moved forward (NEWAE), then an IPComp SA with LZS,
 *        which this kernel lacks, then more SAs and a policy: all undone, byte for byte;
 *     3. --replace on: an SA re-keyed, a policy replaced, counters moved, SAs and policies
 *        added, then a policy the kernel refuses (its index names another direction): undone;
 *     4. case 2 through `ipsec-ctx put`: exit status 6, one error line with the kernel's words.
 * (e) A file-gateway context with IKE SAs goes into namespace `ike`: the CHILD SAs are
 *     installed, each IKE SA is reported as not applied.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readIdentityFile } from '../../../lib/crypto/key-files.js';
import { parsePublicKey } from '../../../lib/crypto/key-text.js';
import { openDriver } from '../../../lib/drivers/registry.js';
import { CtxError } from '../../../lib/errors.js';
import { seal } from '../../../lib/format/envelope.js';
import type { ChildSa } from '../../../lib/model/child-sa.js';
import type { Context } from '../../../lib/model/context.js';
import type { Policy } from '../../../lib/model/policy.js';
import { parseContext } from '../../../lib/model/validate.js';
import { run } from '../../helpers/cli.js';
import { compareOutputs, entries, ip } from './ip-oracle.js';
import { type Gateway, Tally, ipBatch, work } from './lab-kit.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function find<T>(items: readonly T[], test: (item: T) => boolean, what: string): T {
  const item = items.find(test);
  if (!item) throw new Error(`the fixture has no ${what}`);
  return item;
}

/** The target's oracle output. */
const snapshot = (ns: string) => `${ip(ns, ['-s', 'xfrm', 'state'])}\n----\n${ip(ns, ['xfrm', 'policy'])}`;

export async function failures(a: Gateway): Promise<boolean> {
  const t = new Tally('d-failure-rollback');
  ipBatch(undefined, ['netns add fd', 'netns add ike']);
  execFileSync('ip', ['-n', 'fd', '-batch', 'fixtures/netlink/states.batch']);
  const driver = await openDriver('xfrm:?netns=fd', { nowMs: Date.now, cwd: process.cwd() });
  const current = await driver.read();
  const before = snapshot('fd');

  const gcm = find(current.childSas, (c) => hex(c.spi) === 'c0000008', 'SA c0000008');
  const live = find(current.childSas, (c) => hex(c.spi) === 'c0000001' && c.direction === 'out', 'outbound SA c0000001');
  const comp = find(current.childSas, (c) => c.protocol === 'ipcomp' && c.mode === 'transport', 'IPComp SA');
  const tunnelOut = find(current.policies, (p) => p.direction === 'out' && p.selector.source === '10.1.0.0/16', 'out policy 10.1.0.0/16');
  const added = (n: number): ChildSa => ({ ...gcm, id: `new-${n}`, spi: new Uint8Array([0xd0, 0, 0, n]) });
  const rekeyed: ChildSa = { ...gcm, crypto: gcm.crypto.kind === 'aead' ? { ...gcm.crypto, key: gcm.crypto.key.map((byte) => byte ^ 0xff) } : gcm.crypto };
  const ahead: ChildSa = { ...live, sequence: { ...live.sequence, outbound: live.sequence.outbound + 1000n } };
  const lzs: ChildSa = { ...comp, id: 'lzs', spi: new Uint8Array([0, 0, 0x50, 0x01]), crypto: { kind: 'compression', algorithm: 'LZS' } };
  const policy = (n: number, extra: Partial<Policy> = {}): Policy => {
    const { index: _index, ...rest } = tunnelOut;
    return { ...rest, id: `new-policy-${n}`, selector: { ...tunnelOut.selector, source: `10.7${n}.0.0/16` }, ...extra };
  };
  const replacedPolicy: Policy = { ...tunnelOut, templates: tunnelOut.templates.map((tmpl) => ({ ...tmpl, reqid: tmpl.reqid + 100 })) };
  const badIndex = policy(9, { direction: 'in', index: 0x1001 });
  const context = (childSas: ChildSa[], policies: Policy[]): Context => parseContext({ ...current, childSas, policies });

  const attempt = async (label: string, incoming: Context, replace: boolean, code: string, text: RegExp, exact: boolean) => {
    let error: unknown;
    try {
      await driver.apply(incoming, { replace, dryRun: false });
    } catch (caught) {
      error = caught;
    }
    const err = error instanceof CtxError ? error : undefined;
    t.check(err?.code === code && text.test(err.message), `${label}: ${err ? `${err.code}: ${err.message}` : 'no error'}`, String(error));
    const after = snapshot('fd');
    const sameEntries = compareOutputs(before, after).length === 0 && entries(before).length === entries(after).length;
    if (exact) t.check(after === before, `${label}: ip -s xfrm state and ip xfrm policy are byte for byte as before`, compareOutputs(before, after).map((d) => d.key).join('\n'));
    else {
      t.check(sameEntries, `${label}: every entry of ip -s xfrm state and ip xfrm policy is byte for byte as before`, JSON.stringify(compareOutputs(before, after)));
      t.info(`${label}: the whole text is ${after === before ? '' : 'not '}identical (${after === before ? 'same order' : 'the kernel lists re-installed entries first'})`);
    }
  };

  await attempt('1 conflict', context([added(1), rekeyed], []), false, 'gateway.conflict', /exists with different keys; nothing was changed/, true);
  const halfWay = context([added(1), ahead, lzs, added(2), added(3)], [policy(1)]);
  await attempt('2 unknown algorithm', halfWay, false, 'gateway.rolled_back', /add SA lzs: Requested COMP algorithm not found.*undone, the target is as it was/, true);
  await attempt(
    '3 replace, then a refused policy',
    context([added(1), rekeyed, ahead, added(2)], [policy(1), replacedPolicy, policy(2), badIndex, policy(3)]),
    true,
    'gateway.rolled_back',
    /Policy index doesn't match direction.*undone, the target is as it was/,
    false,
  );

  // 4: the same as 2, through the command line.
  const identity = readIdentityFile(a.key);
  const nowMs = Date.now();
  const blob = seal({ context: halfWay, recipients: [parsePublicKey(a.pub)], signer: identity, createdMs: nowMs, expiresMs: nowMs + 600_000, random: (n) => new Uint8Array(n).map(() => Math.floor(Math.random() * 256)) });
  mkdirSync(join(work, 'cli'), { recursive: true });
  const beforeCli = snapshot('fd');
  const cli = await run(['put', '--to', 'xfrm:?netns=fd', '-i', a.key, '--trust', a.pub, '--state-dir', 'state'], { cwd: join(work, 'cli'), stdin: blob, nowMs });
  const lines = cli.stderr.trimEnd().split('\n');
  t.check(cli.code === 6 && lines.length <= 2 && /^ipsec-ctx: error: .*Requested COMP algorithm not found/.test(lines[0] ?? ''), `4 ipsec-ctx put exits ${cli.code}: ${lines[0]}`, cli.stderr);
  t.check(snapshot('fd') === beforeCli, '4 ipsec-ctx put: byte for byte as before');
  const failed = t.done();

  // (e) IKE SAs into the kernel
  const te = new Tally('e-ike-sas-not-applied');
  const file = await openDriver('file:fixtures/gateways/site-to-site.json', { nowMs: Date.now, cwd: process.cwd() });
  const fromFile = await file.read();
  const target = await openDriver('xfrm:?netns=ike', { nowMs: Date.now, cwd: process.cwd() });
  const report = (await target.apply(fromFile, { replace: false, dryRun: false }));
  const installed = entries(ip('ike', ['xfrm', 'state'])).length;
  te.check(report.applied && installed === fromFile.childSas.length, `${installed} of ${fromFile.childSas.length} CHILD SAs installed from a file-gateway context`);
  const warnings = report.warnings ?? [];
  te.check(warnings.length === fromFile.ikeSas.length && fromFile.ikeSas.length > 0, `${warnings.length} warning(s): ${warnings[0] ?? ''}`);
  te.check(!report.changes.some((change) => change.kind === 'ike'), 'the plan lists no IKE SA change');
  return te.done() && failed;
}
