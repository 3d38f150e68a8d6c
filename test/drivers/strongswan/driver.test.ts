/**
 * The strongswan: driver without a real charon: its URI, the vici codec, the HA messages put
 * sends (replayed into a tracker, they rebuild the same SAs with the same keys), the checks
 * before anything is sent, and the refusals against a fake target (a vici socket and an HA
 * heartbeat on loopback) that speaks another HA protocol version or lacks a connection.
 */
import test from 'ava';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage, encodeMessage } from '../../../lib/drivers/strongswan/codec.js';
import { planSync } from '../../../lib/drivers/strongswan/from-model.js';
import { ID_TYPE, formatIdentity, identityEncodingsOf, identityToIke, parseIdentity } from '../../../lib/drivers/strongswan/identity.js';
import { StrongswanGateway } from '../../../lib/drivers/strongswan/strongswan-driver.js';
import { parseStrongswanUri } from '../../../lib/drivers/strongswan/strongswan-uri.js';
import { trackerToContext } from '../../../lib/drivers/strongswan/to-model.js';
import { HaTracker } from '../../../lib/drivers/strongswan/tracker.js';
import { type ViciSection, decodeViciMessage, encodeViciMessage } from '../../../lib/drivers/strongswan/vici.js';
import { fakeVici } from './fake-charon.js';
import type { Context } from '../../../lib/model/context.js';
import { parseContext } from '../../../lib/model/validate.js';
import { SCENARIOS } from './scenarios.js';

const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));
const auth = () => ({ local: 'psk' as const, remote: 'psk' as const });

/** A fixture's datagrams replayed into a tracker up to its snapshot. */
function fixtureTracker(index = 0): HaTracker {
  const datagrams = SCENARIOS[index]!.datagrams;
  const tracker = new HaTracker(() => 1_795_000_000_000);
  // Up to the snapshot, before the client's disconnect (its DELETE request's MID and the IKE_DELETE).
  const types = datagrams.map((d) => decodeMessage(d.bytes).type);
  let end = types.lastIndexOf('ikeDelete');
  while (end > 0 && (types[end - 1] === 'ikeMidResponder' || types[end - 1] === 'status')) end--;
  for (const { bytes } of datagrams.slice(0, end)) tracker.apply(decodeMessage(bytes));
  return tracker;
}

/** A fixture replayed up to its snapshot, as the model. */
function fixtureContext(index = 0): Context {
  return trackerToContext(fixtureTracker(index), { source: 'gw', nowMs: 1_795_000_000_000, authentication: auth }).context;
}

test('strongswan: URIs name the HA address, the bind address and vici', (t) => {
  t.like(parseStrongswanUri('127.0.0.1?bind=127.0.0.2'), { gateway: '127.0.0.1', bind: '127.0.0.2', vici: '/var/run/charon.vici', settleMs: 1000 });
  t.like(parseStrongswanUri('[fd00::1]?bind=fd00::2&vici=/run/x.vici&settle=200&timeout=5000'), { gateway: 'fd00::1', bind: 'fd00::2', vici: '/run/x.vici', settleMs: 200, timeoutMs: 5000 });
  t.is(parseStrongswanUri('127.0.0.1?bind=127.0.0.2').counters, undefined);
  t.is(parseStrongswanUri('127.0.0.1?bind=127.0.0.2&counters=none').counters, undefined);
  t.deepEqual(parseStrongswanUri('127.0.0.1?bind=127.0.0.2&counters=xfrm').counters, {});
  t.deepEqual(parseStrongswanUri('127.0.0.1?bind=127.0.0.2&counters=xfrm:gw-a').counters, { netns: 'gw-a' });
  const bads = ['', '127.0.0.1', 'gw.example?bind=127.0.0.2', '127.0.0.1?bind=::1', '127.0.0.1?bind=127.0.0.2&vici=rel', '127.0.0.1?bind=127.0.0.2&port=1', '127.0.0.1?bind=127.0.0.2&settle=x'];
  bads.push('127.0.0.1?bind=127.0.0.2&counters=kernel', '127.0.0.1?bind=127.0.0.2&counters=xfrm:', '127.0.0.1?bind=127.0.0.2&counters=xfrm:../x');
  for (const bad of bads) {
    t.throws(() => parseStrongswanUri(bad), { code: 'usage.bad_uri' }, bad);
  }
});

test('strongswan: vici messages encode and decode sections, key/values and lists', (t) => {
  const message: ViciSection = { version: '5.9.8', rw: { local_addrs: ['10.0.0.1', '10.0.0.3'], children: { net: { mode: 'TUNNEL' } }, 'local-1': { class: 'pre-shared key' } } };
  const bytes = encodeViciMessage(message);
  t.deepEqual(decodeViciMessage(bytes), message);
  t.throws(() => decodeViciMessage(Buffer.from([1, 2, 0x61])), { code: 'strongswan.vici_protocol' });
  t.throws(() => decodeViciMessage(Buffer.from([2])), { code: 'strongswan.vici_protocol' });
});

test('strongswan: identities spelt as strongSwan prints them go back to their IKE form', (t) => {
  for (const text of ['gw.lab', '10.0.0.2', 'fd00::2', 'user@example.org', '%any']) {
    t.is(formatIdentity(identityToIke(text, undefined, 'x')), text);
    t.deepEqual(identityEncodingsOf({ remote: parseIdentity(text) }), {}, `${text} needs no encoding`);
  }
  t.throws(() => identityToIke('C=CH, O=Org, CN=gw', undefined, 'x'), { code: 'strongswan.unsupported_identity' });
});

/** "C=CH, CN=carol" as DER, its CN a UTF8String or a PrintableString: the same text either way. */
const dn = (cnStringTag: number) =>
  new Uint8Array([0x30, 0x1d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x43, 0x48, 0x31, 0x0e, 0x30, 0x0c, 0x06, 0x03, 0x55, 0x04, 0x03, cnStringTag, 0x05, ...Buffer.from('carol')]);

test('strongswan: distinguished names and key IDs move byte for byte through their recorded encoding', (t) => {
  const utf8 = { type: ID_TYPE.derAsn1Dn, data: dn(0x0c) };
  const printable = { type: ID_TYPE.derAsn1Dn, data: dn(0x13) };
  const keyId = { type: ID_TYPE.keyId, data: new Uint8Array(Buffer.from('gw-key-1')) };
  t.is(formatIdentity(utf8), 'C=CH, CN=carol');
  t.is(formatIdentity(printable), 'C=CH, CN=carol');
  t.is(formatIdentity(keyId), 'gw-key-1'); // which would read back as an FQDN

  const base = fixtureContext();
  for (const [local, remote] of [[keyId, utf8], [keyId, printable]] as const) {
    const ike = { ...base.ikeSas[0]!, localIdentity: formatIdentity(local), remoteIdentity: formatIdentity(remote), ...identityEncodingsOf({ local, remote }) };
    t.deepEqual(ike.identityEncodings, { local, remote });
    const context = parseContext({ ...base, ikeSas: [ike] });
    // What a receiving charon holds after the sync: the same identities, the same bytes.
    const receiver = new HaTracker(() => 1_795_000_000_000);
    for (const message of planSync(context, 'v3')[0]!.messages) receiver.apply(decodeMessage(encodeMessage({ layout: 'v3', ...message }), { strict: true }));
    const held = [...receiver.ikeSas.values()][0]!;
    t.deepEqual([hex(held.localId?.data), held.localId?.type], [hex(local.data), local.type]);
    t.deepEqual([hex(held.remoteId?.data), held.remoteId?.type], [hex(remote.data), remote.type]);
    const again = trackerToContext(receiver, { source: 'gw', nowMs: 1_795_000_000_000, authentication: auth }).context.ikeSas[0]!;
    t.is(again.remoteIdentity, 'C=CH, CN=carol');
    t.deepEqual(again.identityEncodings, ike.identityEncodings);
  }

  // A text edited by hand no longer matches the encoding beside it: refused, not guessed.
  const edited = { ...base.ikeSas[0]!, remoteIdentity: 'C=CH, CN=dave', identityEncodings: { remote: utf8 } };
  t.throws(() => planSync({ ...base, ikeSas: [edited] }, 'v3'), { code: 'strongswan.identity_mismatch', message: /"C=CH, CN=dave" does not match its encoding, which reads "C=CH, CN=carol"/ });
});

for (const [index, scenario] of SCENARIOS.entries()) {
  test(`strongswan: the HA messages put sends rebuild the same SAs and keys in a receiver (${scenario.name})`, (t) => {
    const context = fixtureContext(index);
    t.true(context.ikeSas.length === 1 && context.childSas.length === 2);
    t.truthy(context.ikeSas[0]?.derivation);
    t.truthy(context.childSas[0]?.negotiation);
    const plan = planSync(context, 'v3');
    const types = plan[0]!.messages.map((m) => m.type);
    t.deepEqual(types.slice(0, 2), ['ikeAdd', 'ikeUpdate']);
    t.is(types.at(-1), 'childAdd');
    // What a receiving charon does with them, as the tracker models it.
    const receiver = new HaTracker(() => 1_795_000_000_000);
    for (const message of plan[0]!.messages) {
      const bytes = encodeMessage({ layout: 'v3', ...message });
      const result = receiver.apply(decodeMessage(bytes, { strict: true }));
      t.is(result.warning, undefined, result.summary);
    }
    const again = trackerToContext(receiver, { source: 'gw', nowMs: 1_795_000_000_000, authentication: auth }).context;
    const [a, b] = [context.ikeSas[0]!, again.ikeSas[0]!];
    t.deepEqual(b.keys, a.keys);
    t.deepEqual(b.messageIds, a.messageIds);
    t.is(b.remoteIdentity, a.remoteIdentity);
    t.deepEqual(b.remoteVirtualIps, a.remoteVirtualIps);
    t.deepEqual(b.strongswan, a.strongswan);
    t.deepEqual(again.childSas.map((c) => [hex(c.spi), c.direction, c.crypto]), context.childSas.map((c) => [hex(c.spi), c.direction, c.crypto]));
    t.deepEqual(again.childSas.map((c) => c.negotiation), context.childSas.map((c) => c.negotiation));
    // A v5 target gets the private-bit second CONDITIONS/EXTENSIONS; v3-50 no ALG_KE.
    const v5 = planSync(context, 'v5')[0]!.messages[1]!.attributes.filter((x) => x.name === 'conditions');
    t.is(v5.length, 2);
    t.false(planSync(context, 'v3-50')[0]!.messages[0]!.attributes.some((x) => x.name === 'algKe'));
  });
}

test('strongswan: an IKE SA with an IKE_INTERMEDIATE key exchange (RFC 9370) is read, put and read back with the same chained keys', (t) => {
  // A fixture tracker, then what a 6.0.1 gateway sends after an ML-KEM round: an IKE_ADD
  // without a proposal, whose secret chains the keys from the SA's own SK_d.
  const tracker = fixtureTracker();
  const [tracked] = [...tracker.ikeSas.values()];
  const mlkemSecret = new Uint8Array(32).fill(7);
  const before = hex(tracked!.keys.skD);
  const result = tracker.apply(
    decodeMessage(
      encodeMessage({
        layout: 'v4',
        type: 'ikeAdd',
        attributes: [
          { name: 'ikeVersion', value: 2 },
          { name: 'ikeId', value: tracked!.id },
          { name: 'nonceI', value: tracked!.nonceI },
          { name: 'nonceR', value: tracked!.nonceR },
          { name: 'secret', value: mlkemSecret },
        ],
      }),
    ),
  );
  t.is(result.warning, undefined);
  t.not(hex(tracked!.keys.skD), before, 'the round changed the keys');
  // The fixture's CHILD SAs come from the SK_d before this made-up round: leave them out.
  const read = trackerToContext(tracker, { source: 'gw', nowMs: 1_795_000_000_000, authentication: auth }).context;
  const context = { ...read, ikeSas: [{ ...read.ikeSas[0]!, childSaIds: [] }], childSas: [] };
  const ike = context.ikeSas[0]!;
  t.deepEqual(ike.derivation?.intermediateKeys?.map(hex), [hex(mlkemSecret)]);
  t.is(hex(ike.keys.skD), hex(tracked!.keys.skD));

  // put to a 6.0.1 target: IKE_ADD, the intermediate IKE_ADD, then the rest; a receiver holds the same keys.
  const plan = planSync(context, 'v4')[0]!;
  t.deepEqual(plan.messages.slice(0, 3).map((m) => m.type), ['ikeAdd', 'ikeAdd', 'ikeUpdate']);
  t.false(plan.messages.some((m) => m.type === 'childAdd'));
  const receiver = new HaTracker(() => 1_795_000_000_000);
  for (const message of plan.messages) t.is(receiver.apply(decodeMessage(encodeMessage({ layout: 'v4', ...message }), { strict: true })).warning, undefined);
  const again = trackerToContext(receiver, { source: 'gw', nowMs: 1_795_000_000_000, authentication: auth }).context.ikeSas[0]!;
  t.deepEqual(again.keys, ike.keys);
  t.deepEqual(again.derivation, ike.derivation);

  // A version-3 target cannot take it; a context whose chain does not give its keys is refused.
  t.throws(() => planSync(context, 'v3'), { code: 'strongswan.version_unsupported', message: /several key exchanges \(RFC 9370\)/ });
  const wrong = { ...ike, derivation: { ...ike.derivation!, intermediateKeys: [new Uint8Array(32).fill(8)] } };
  t.throws(() => planSync({ ...context, ikeSas: [wrong] }, 'v4'), { code: 'strongswan.keys_mismatch' });
});

test('strongswan: put refuses contexts charon could not derive the same keys from', (t) => {
  const context = fixtureContext(0);
  const { derivation: _d, ...bare } = context.ikeSas[0]!;
  t.throws(() => planSync(parseContext({ ...context, ikeSas: [bare] }), 'v3'), { code: 'strongswan.not_derivable' });
  const wrongKey = structuredClone(context);
  const skD = wrongKey.ikeSas[0]!.keys.skD;
  skD[0] = skD[0]! ^ 1;
  t.throws(() => planSync(wrongKey, 'v3'), { code: 'strongswan.keys_mismatch' });
  const wrongChild = structuredClone(context);
  const crypto = wrongChild.childSas[0]!.crypto;
  const key = crypto.kind === 'aead' ? crypto.key : crypto.kind === 'cipher' ? crypto.encryption.key : new Uint8Array(1);
  key[0] = key[0]! ^ 1;
  t.throws(() => planSync(wrongChild, 'v3'), { code: 'strongswan.keys_mismatch' });
  const noNegotiation = structuredClone(context);
  delete noNegotiation.childSas[1]!.negotiation;
  t.throws(() => planSync(noNegotiation, 'v3'), { code: 'strongswan.not_derivable' });
});

// ---------------------------------------------------------------------------------------------
// A fake target: vici on a unix socket, an HA heartbeat from 127.45.N.1:4510 to 127.45.N.2.

let fakes = 0;
async function fakeTarget(t: { teardown: (f: () => void | Promise<void>) => void }, release: string, version: number, connections: Record<string, string[]>) {
  const dir = mkdtempSync(join(tmpdir(), 'ipsec-ctx-fakevici-'));
  const path = join(dir, 'charon.vici');
  const server = await fakeVici(path, release, connections);
  const ha = createSocket('udp4');
  const received: Buffer[] = [];
  ha.on('message', (m) => received.push(m));
  // Each fake on its own pair of loopback addresses (all of 127/8 is local on Linux).
  const n = ++fakes;
  const [gateway, bind] = [`127.45.${n}.1`, `127.45.${n}.2`];
  await new Promise<void>((resolve, reject) => {
    ha.once('error', reject);
    ha.bind(4510, gateway, resolve);
  });
  const timer = setInterval(() => ha.send(Buffer.from([version, 10, 36, 0, 1]), 4510, bind), 100);
  t.teardown(async () => {
    clearInterval(timer);
    ha.close();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  const driver = new StrongswanGateway(parseStrongswanUri(`${gateway}?bind=${bind}&vici=${path}&timeout=3000`), { nowMs: Date.now, cwd: dir });
  return { driver, received };
}

test.serial('strongswan: put refuses a target that speaks another HA protocol version, before sending anything', async (t) => {
  const { driver, received } = await fakeTarget(t, '5.9.8', 5, { rw: ['net'] });
  await t.throwsAsync(driver.apply(fixtureContext(0), { replace: false, dryRun: false }), { code: 'strongswan.version_mismatch', message: /speaks HA protocol version 5 \(release 5\.9\.8\).*nothing was sent/ });
  t.is(received.length, 0);
});

test.serial('strongswan: put refuses a target that lacks the connection or CHILD config, before sending anything', async (t) => {
  const { driver, received } = await fakeTarget(t, '5.9.8', 3, { other: ['net'] });
  await t.throwsAsync(driver.apply(fixtureContext(0), { replace: false, dryRun: false }), { code: 'strongswan.missing_connection', message: /no connection "rw"; nothing was sent/ });
  const second = await fakeTarget(t, '5.9.8', 3, { rw: ['other'] });
  await t.throwsAsync(second.driver.apply(fixtureContext(0), { replace: false, dryRun: true }), { code: 'strongswan.missing_connection', message: /no CHILD config "net" in connection "rw"/ });
  t.is(received.length + second.received.length, 0);
});

test.serial('strongswan: a dry run against a matching target plans the SAs and sends nothing', async (t) => {
  const { driver, received } = await fakeTarget(t, '5.9.8', 3, { rw: ['net'] });
  const report = await driver.apply(fixtureContext(0), { replace: false, dryRun: true });
  t.false(report.applied);
  t.deepEqual(report.changes.map((c) => `${c.kind} ${c.action}`), ['ike add', 'child add', 'child add']);
  t.is(received.length, 0);
});
