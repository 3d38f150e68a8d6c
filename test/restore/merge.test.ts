import test from 'ava';
import type { ChildSa } from '../../lib/model/child-sa.js';
import { emptyContext } from '../../lib/model/context.js';
import { parseContext } from '../../lib/model/validate.js';
import { planMerge } from '../../lib/restore/merge.js';
import { fixtureContext } from '../helpers/workspace.js';

const site = fixtureContext('site-to-site.json');
const road = fixtureContext('road-warrior.json');
const empty = emptyContext({ source: 'gw-b', driver: 'file', capturedAtMs: 0 });

test('merging into an empty gateway adds everything and keeps the context valid', (t) => {
  const plan = planMerge(empty, site, { replace: false });
  t.deepEqual(plan.conflicts, []);
  t.is(plan.changes.filter((c) => c.action === 'add').length, site.ikeSas.length + site.childSas.length + site.policies.length);
  t.notThrows(() => parseContext(plan.result));
});

test('merging keeps the target\'s other SAs and renames colliding ids', (t) => {
  const plan = planMerge(road, site, { replace: false });
  const result = parseContext(plan.result);
  t.is(result.ikeSas.length, road.ikeSas.length + site.ikeSas.length);
  t.is(result.childSas.length, road.childSas.length + site.childSas.length);
  t.is(new Set(result.childSas.map((c) => c.id)).size, result.childSas.length);
});

test('the same SA again is unchanged; a newer copy is an update that never moves counters back', (t) => {
  const again = planMerge(site, site, { replace: false });
  t.true(again.changes.every((c) => c.action === 'keep'));
  const out = site.childSas.find((c) => c.direction === 'out') as ChildSa;
  const older: ChildSa = { ...out, sequence: { ...out.sequence, outbound: out.sequence.outbound - 100n } };
  const plan = planMerge(site, { ...site, childSas: site.childSas.map((c) => (c.id === out.id ? older : c)) }, { replace: false });
  t.is(plan.result.childSas.find((c) => c.id === out.id)?.sequence.outbound, out.sequence.outbound);
});

test('an SA with the same identity and other keys is a conflict unless --replace', (t) => {
  const first = site.childSas[0] as ChildSa;
  const rekeyed: ChildSa = { ...first, crypto: first.crypto.kind === 'aead' ? { ...first.crypto, key: new Uint8Array(first.crypto.key).map((b) => b ^ 1) } : first.crypto };
  const incoming = { ...site, childSas: site.childSas.map((c) => (c.id === first.id ? rekeyed : c)) };
  const refused = planMerge(site, incoming, { replace: false });
  t.is(refused.conflicts.length, 1);
  t.regex(refused.conflicts[0]?.description ?? '', /exists with different keys/);
  const replaced = planMerge(site, incoming, { replace: true });
  t.deepEqual(replaced.conflicts, []);
  t.deepEqual(replaced.result.childSas.find((c) => c.id === first.id)?.crypto, rekeyed.crypto);
});
