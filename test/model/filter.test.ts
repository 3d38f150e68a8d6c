import test from 'ava';
import { filterContext } from '../../lib/model/filter.js';
import { parseContext } from '../../lib/model/validate.js';
import { fixtureContext } from '../helpers/workspace.js';

const road = fixtureContext('road-warrior.json');
const transport = fixtureContext('transport-ah.json');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('an empty filter selects everything', (t) => {
  t.is(filterContext(road, {}), road);
});

test('a connection filter takes its IKE SAs with all their CHILD SAs and policies', (t) => {
  const ike = road.ikeSas[1];
  if (!ike) throw new Error('fixture changed');
  const picked = parseContext(filterContext(road, { connections: [ike.connection] }));
  t.true(picked.ikeSas.every((sa) => sa.connection === ike.connection));
  t.deepEqual(new Set(picked.childSas.map((c) => c.id)), new Set(picked.ikeSas.flatMap((sa) => sa.childSaIds)));
  t.true(picked.policies.length > 0);
});

test('an SPI filter brings the IKE SA and so all its sibling CHILD SAs along', (t) => {
  const child = road.childSas.find((c) => c.ikeSaId !== undefined);
  if (!child) throw new Error('fixture changed');
  const picked = parseContext(filterContext(road, { spis: [hex(child.spi)] }));
  t.is(picked.ikeSas.length, 1);
  t.deepEqual(picked.childSas.map((c) => c.id).sort(), [...(picked.ikeSas[0]?.childSaIds ?? [])].sort());
});

test('a CHILD SA without an IKE SA moves alone', (t) => {
  const loose = transport.childSas.find((c) => c.ikeSaId === undefined);
  if (!loose) throw new Error('fixture changed');
  const picked = parseContext(filterContext(transport, { spis: [hex(loose.spi)] }));
  t.deepEqual(picked.ikeSas, []);
  t.deepEqual(picked.childSas.map((c) => c.id), [loose.id]);
});

test('a peer filter matches IKE SA remotes and SA endpoints', (t) => {
  const peer = road.ikeSas[2]?.remote.address ?? '';
  const picked = filterContext(road, { peers: [peer] });
  t.true(picked.ikeSas.some((sa) => sa.remote.address === peer));
  t.true(picked.childSas.every((c) => c.source === peer || c.destination === peer || picked.ikeSas.some((sa) => sa.id === c.ikeSaId)));
});
