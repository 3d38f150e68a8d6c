import test from 'ava';
import { decodeMessage } from '../../../lib/drivers/strongswan/codec.js';
import { trackerToContext } from '../../../lib/drivers/strongswan/to-model.js';
import { HaTracker } from '../../../lib/drivers/strongswan/tracker.js';
import { Context } from '../../../lib/model/context.js';
import { SchemaError } from '../../../lib/errors.js';
import { SCENARIOS, listedSpis } from './scenarios.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const auth = () => ({ local: 'psk' as const, remote: 'psk' as const });

/** A capture's datagrams up to the moment its list-sas.txt and context.json were taken (before the disconnect). */
function replayCut<T extends { bytes: Uint8Array }>(datagrams: T[]): T[] {
  // The snapshot was taken before the client's disconnect: its DELETE request (a MID) and the IKE_DELETE.
  const types = datagrams.map((d) => decodeMessage(d.bytes).type);
  let end = types.lastIndexOf('ikeDelete');
  while (end > 0 && (types[end - 1] === 'ikeMidResponder' || types[end - 1] === 'status')) end--;
  return datagrams.slice(0, end);
}

/** Replays a capture up to the moment its list-sas.txt and context.json were taken. */
function replayToSnapshot(datagrams: { atMs: number; bytes: Uint8Array }[]): HaTracker {
  let clock = 0;
  const tracker = new HaTracker(() => clock);
  for (const { atMs, bytes } of replayCut(datagrams)) {
    clock = 1_795_000_000_000 + atMs;
    tracker.apply(decodeMessage(bytes));
  }
  return tracker;
}

for (const scenario of SCENARIOS) {
  test(`HA sync of ${scenario.name} becomes a valid context with the IKE and CHILD SAs swanctl lists`, (t) => {
    const tracker = replayToSnapshot(scenario.datagrams);
    const { context, skipped } = trackerToContext(tracker, { source: 'lab-gw', nowMs: 1_795_000_100_000, authentication: auth });
    t.deepEqual(skipped, []);
    const listed = listedSpis(scenario.listSas);
    t.deepEqual(context.ikeSas.map((sa) => `${hex(sa.spiInitiator)}${hex(sa.spiResponder)}`), listed.ike);
    t.deepEqual(context.childSas.filter((c) => c.direction === 'in').map((c) => hex(c.spi)), listed.childIn);
    t.deepEqual(context.childSas.filter((c) => c.direction === 'out').map((c) => hex(c.spi)), listed.childOut);
    const [ike] = context.ikeSas;
    t.is(ike?.connection, 'rw');
    t.is(ike?.role, 'responder');
    t.is(ike?.localIdentity, 'gw.lab');
    t.is(ike?.remoteIdentity, 'cl.lab');
    t.deepEqual(ike?.local, { address: '10.0.0.1', port: 4500 });
    t.deepEqual(ike?.childSaIds, context.childSas.map((c) => c.id));
    // After the IKE rekey the client sent two requests (CHILD rekey, delete): IDs 0 and 1.
    t.deepEqual(ike?.messageIds, { nextToSend: 0, nextExpected: 2, windowSize: 1 });
    // kernel-libipsec always encapsulates in UDP, which charon reports as a NAT.
    t.true(ike?.extensions.natRemote);
    t.is(context.childSas[0]?.encapsulation?.destinationPort, 4500);
    // The model the live run wrote holds the same SAs with the same keys.
    const recorded = Context.parse(scenario.contextJson);
    t.deepEqual(recorded.ikeSas.map((sa) => sa.keys), context.ikeSas.map((sa) => sa.keys));
    t.deepEqual(recorded.childSas.map((c) => c.crypto), context.childSas.map((c) => c.crypto));
  });
}

test('in and out CHILD SAs get the initiator or responder keys by who started the exchange', (t) => {
  const scenario = SCENARIOS.find((s) => s.name === 'gcm-x25519');
  if (!scenario) return t.fail('fixture missing');
  const tracker = new HaTracker(() => 0);
  const roles: boolean[] = [];
  for (const { bytes } of scenario.datagrams) {
    const message = decodeMessage(bytes);
    tracker.apply(message);
    if (message.type !== 'childAdd') continue;
    const child = [...tracker.ikeSas.values()].flatMap((sa) => [...sa.children.values()]).at(-1);
    if (!child) continue;
    roles.push(child.initiator);
    const { context } = trackerToContext(tracker, { source: 'gw', nowMs: 0, authentication: auth });
    const inbound = context.childSas.find((c) => c.direction === 'in' && hex(c.spi) === hex(child.inboundSpi));
    const outbound = context.childSas.find((c) => c.direction === 'out' && hex(c.spi) === hex(child.outboundSpi));
    const key = (c: typeof inbound) => (c?.crypto.kind === 'aead' ? hex(c.crypto.key) : undefined);
    t.is(key(outbound), hex(child.initiator ? child.keys.encrI : child.keys.encrR));
    t.is(key(inbound), hex(child.initiator ? child.keys.encrR : child.keys.encrI));
  }
  // The IKE_AUTH CHILD SA and the client's rekey were started by the client, one rekey by the gateway.
  t.deepEqual(roles, [false, true, false]);
});

test('an SA seen only half way is left out with a reason, and unknown SAs produce warnings', (t) => {
  const scenario = SCENARIOS.find((s) => s.name === 'gcm-x25519');
  if (!scenario) return t.fail('fixture missing');
  const tracker = new HaTracker(() => 0);
  const messages = scenario.datagrams.map((d) => decodeMessage(d.bytes));
  const add = messages.find((m) => m.type === 'ikeAdd');
  const child = messages.find((m) => m.type === 'childAdd');
  if (!add || !child) return t.fail('fixture incomplete');
  t.regex(tracker.apply(child).warning ?? '', /unknown IKE SA/);
  t.is(tracker.apply(add).warning, undefined);
  const { context, skipped } = trackerToContext(tracker, { source: 'gw', nowMs: 0, authentication: auth });
  t.is(context.ikeSas.length, 0);
  t.regex(skipped[0] ?? '', /not established/);
});

test('the model built from HA is checked by the model schema', (t) => {
  const scenario = SCENARIOS[0];
  if (!scenario) return t.fail('fixture missing');
  const tracker = replayToSnapshot(scenario.datagrams);
  const sa = [...tracker.ikeSas.values()][0];
  if (!sa) return t.fail('no SA');
  sa.keys = { ...sa.keys, skD: sa.keys.skD.subarray(0, 8) };
  t.throws(() => trackerToContext(tracker, { source: 'gw', nowMs: 0, authentication: auth }), { instanceOf: SchemaError });
});

test("virtual IPs that a RESYNC after an IKE rekey lacks come from options.remoteVirtualIps; HA's own win", (t) => {
  const scenario = SCENARIOS.find((s) => s.name === 'gcm-x25519');
  if (!scenario) return t.fail('fixture missing');
  const full = replayToSnapshot(scenario.datagrams);
  const fullContext = trackerToContext(full, { source: 'gw', nowMs: 0, authentication: auth, remoteVirtualIps: () => ['10.9.9.9'] }).context;
  const vips = fullContext.ikeSas[0]?.remoteVirtualIps;
  t.deepEqual(vips, ['10.3.0.1'], 'from the IKE_UPDATE after IKE_AUTH, inherited by the rekeyed SA');

  // What a peer learns when it starts at the rekey (as charon's RESYNC cache holds it): the
  // VIP update went with the old SA.
  const messages = scenario.datagrams.map((d) => decodeMessage(d.bytes));
  const rekey = messages.findIndex((m) => m.type === 'ikeAdd' && m.attributes.some((a) => a.name === 'ikeRekeyId'));
  const late = new HaTracker(() => 0);
  for (const { bytes } of replayCut(scenario.datagrams).slice(rekey)) late.apply(decodeMessage(bytes));
  t.is(trackerToContext(late, { source: 'gw', nowMs: 0, authentication: auth }).context.ikeSas[0]?.remoteVirtualIps, undefined);
  const [sa] = late.ikeSas.values();
  const asked: string[] = [];
  const filled = trackerToContext(late, {
    source: 'gw',
    nowMs: 0,
    authentication: auth,
    remoteVirtualIps: (ike) => {
      asked.push(ike.key);
      return ['10.3.0.1'];
    },
  }).context;
  t.deepEqual(filled.ikeSas[0]?.remoteVirtualIps, ['10.3.0.1']);
  t.deepEqual(asked, [sa?.key]);
});
