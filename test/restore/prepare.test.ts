import test from 'ava';
import { GatewayError } from '../../lib/errors.js';
import type { ChildSa } from '../../lib/model/child-sa.js';
import type { Context } from '../../lib/model/context.js';
import { DEFAULT_JUMP, hardLimitPassed, jumpedOutbound, prepareForRestore } from '../../lib/restore/prepare.js';
import { fixtureContext } from '../helpers/workspace.js';

const site = fixtureContext('site-to-site.json');
const captured = site.provenance.capturedAtMs;
const out = site.childSas.find((c) => c.direction === 'out') as ChildSa;
/** A context holding only `child`, unlinked from its IKE SA. */
function withChild(child: ChildSa): Context {
  const { ikeSaId: _unlinked, ...loose } = child;
  return { ...site, ikeSas: [], policies: [], childSas: [loose] };
}

test('every outbound counter moves strictly forward, by at least the floor', (t) => {
  const prepared = prepareForRestore(site, captured);
  const outs = site.childSas.filter((c) => c.direction === 'out' && c.protocol !== 'ipcomp');
  t.is(prepared.jumps.length, outs.length);
  for (const child of outs) {
    const restored = prepared.context.childSas.find((c) => c.id === child.id) as ChildSa;
    t.true(restored.sequence.outbound >= child.sequence.outbound + DEFAULT_JUMP.floor);
  }
});

test('inbound SAs keep their replay window exactly', (t) => {
  const prepared = prepareForRestore(site, captured + 5_000);
  for (const child of site.childSas.filter((c) => c.direction === 'in')) {
    t.deepEqual(prepared.context.childSas.find((c) => c.id === child.id)?.sequence, child.sequence);
  }
});

test('the jump grows with the observed packet rate and the time since capture', (t) => {
  const policy = { floor: 0n, rateFactor: 1 };
  const busy: ChildSa = { ...out, lifetime: { ...out.lifetime, used: { ...out.lifetime.used, packets: 1_000_000n, useTime: Math.floor(captured / 1000) - 100 } } };
  // 10 000 packets/s observed; 3 s after capture at least 30 000 more may have been sent.
  t.is(jumpedOutbound(busy, captured, captured + 3_000, policy), busy.sequence.outbound + 30_000n);
  t.is(jumpedOutbound(busy, captured, captured, policy), busy.sequence.outbound);
  t.true(jumpedOutbound(busy, captured, captured + 3_000, DEFAULT_JUMP) > jumpedOutbound(busy, captured, captured + 3_000, policy));
});

test('a 32-bit counter that the jump would wrap is refused with a hint to rekey', (t) => {
  const nearlyFull: ChildSa = { ...out, sequence: { ...out.sequence, esn: false, outbound: 2n ** 32n - 10n } };
  const error = t.throws(() => prepareForRestore(withChild(nearlyFull), captured), { instanceOf: GatewayError, code: 'gateway.sequence_exhausted' });
  t.regex(error?.hint ?? '', /rekey/);
  const esn: ChildSa = { ...nearlyFull, sequence: { ...nearlyFull.sequence, esn: true, windowSize: nearlyFull.sequence.windowSize } };
  t.notThrows(() => prepareForRestore(withChild(esn), captured));
});

test('CHILD SAs past a hard limit are skipped, reported and unlinked from their IKE SA', (t) => {
  const nowSeconds = Math.floor(captured / 1000);
  const expired: ChildSa = { ...out, lifetime: { ...out.lifetime, hard: { addSeconds: 60n }, used: { ...out.lifetime.used, addTime: nowSeconds - 61 } } };
  t.regex(hardLimitPassed(expired, nowSeconds) ?? '', /hard limit 60s/);
  const context = { ...site, childSas: site.childSas.map((c) => (c.id === out.id ? expired : c)) };
  const prepared = prepareForRestore(context, captured);
  t.is(prepared.skipped.length, 1);
  t.false(prepared.context.childSas.some((c) => c.id === out.id));
  t.false(prepared.context.ikeSas.some((ike) => ike.childSaIds.includes(out.id)));
  const byBytes: ChildSa = { ...out, lifetime: { ...out.lifetime, hard: { bytes: 10n }, used: { ...out.lifetime.used, bytes: 10n } } };
  t.regex(hardLimitPassed(byBytes, nowSeconds) ?? '', /bytes/);
});
