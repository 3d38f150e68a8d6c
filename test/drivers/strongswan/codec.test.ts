import test from 'ava';
import { FormatError } from '../../../lib/errors.js';
import { type HaMessage, decodeMessage, encodeMessage, valueOf, valuesOf } from '../../../lib/drivers/strongswan/codec.js';
import { attributeNumber } from '../../../lib/drivers/strongswan/protocol.js';
import { layoutForRelease, layoutForVersion, releaseFromText } from '../../../lib/drivers/strongswan/version.js';
import { SCENARIOS, listedSpis } from './scenarios.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const decodedAll = (name: string): HaMessage[] => {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`no fixture scenario ${name}`);
  return scenario.datagrams.map((d) => decodeMessage(d.bytes, { strict: true }));
};

test('there are captures from a real charon to test against', (t) => {
  t.true(SCENARIOS.length >= 3);
  for (const s of SCENARIOS) t.regex(s.version, /5\.9\.8/);
});

for (const scenario of SCENARIOS) {
  test(`every datagram charon sent in ${scenario.name} decodes completely and re-encodes to the same bytes`, (t) => {
    for (const { bytes } of scenario.datagrams) {
      const message = decodeMessage(bytes, { strict: true });
      t.is(message.stopped, undefined);
      t.is(hex(encodeMessage(message)), hex(bytes));
    }
    const types = new Set(scenario.datagrams.map((d) => decodeMessage(d.bytes).type));
    for (const type of ['status', 'resync', 'segmentTake', 'ikeAdd', 'ikeUpdate', 'ikeMidInitiator', 'ikeMidResponder', 'ikeDelete', 'childAdd', 'childDelete'] as const) {
      t.true(types.has(type), `${type} was captured`);
    }
  });

  test(`CHILD_ADD SPIs of ${scenario.name} are read in the sender's byte order and equal swanctl's`, (t) => {
    const listed = listedSpis(scenario.listSas);
    const adds = scenario.datagrams.map((d) => decodeMessage(d.bytes)).filter((m) => m.type === 'childAdd');
    const pairs = adds.map((m) => [hex(valueOf(m, 'inboundSpi') as Uint8Array), hex(valueOf(m, 'outboundSpi') as Uint8Array)]);
    t.deepEqual(pairs.at(-1), [listed.childIn[0], listed.childOut[0]]);
    // On the wire the bytes are reversed (x86 host order).
    const raw = scenario.datagrams.find((d) => decodeMessage(d.bytes).type === 'childAdd')?.bytes as Uint8Array;
    const spi = pairs[0]?.[0] as string;
    t.true(hex(raw).includes(Buffer.from(spi, 'hex').reverse().toString('hex')));
  });
}

test('STATUS, RESYNC and SEGMENT_TAKE decode byte by byte', (t) => {
  t.deepEqual(decodeMessage(Uint8Array.from([3, 10])), { version: 3, layout: 'v3', type: 'status', attributes: [] });
  // 0x22 = 34 is SEGMENT in the 5.4+ numbering, a u16.
  t.deepEqual(decodeMessage(Uint8Array.from([3, 11, 0x22, 0, 1])).attributes, [{ name: 'segment', value: 1 }]);
  t.deepEqual(decodeMessage(Uint8Array.from([3, 9, 0x22, 0, 1])).type, 'segmentTake');
});

test('IKE_ADD, IKE_UPDATE and CHILD_ADD carry what charon 5.9.8 puts in them, in its order', (t) => {
  const messages = decodedAll('cbc-modp2048-pfs');
  const add = messages.find((m) => m.type === 'ikeAdd') as HaMessage;
  t.deepEqual(
    add.attributes.map((a) => a.name),
    ['ikeVersion', 'ikeId', 'algEncr', 'algEncrLen', 'algInteg', 'algPrf', 'algKe', 'nonceI', 'nonceR', 'secret', 'remoteAddr'],
  );
  t.is(valueOf(add, 'algEncr'), 12); // AES_CBC
  t.is(valueOf(add, 'algEncrLen'), 256); // bits, not bytes
  t.is(valueOf(add, 'algKe'), 14); // MODP_2048
  t.is(valueOf(add, 'secret')?.length, 256);
  t.deepEqual(valueOf(add, 'remoteAddr'), { family: 2, address: '10.0.0.2', port: 500 });
  t.false(valueOf(add, 'ikeId')?.initiator);

  const update = messages.find((m) => m.type === 'ikeUpdate') as HaMessage;
  t.is(update.attributes[0]?.name, 'ikeId');
  t.deepEqual(valueOf(update, 'localId'), { type: 2, data: new Uint8Array(Buffer.from('gw.lab')) });
  t.deepEqual(valueOf(update, 'localAddr'), { family: 2, address: '10.0.0.1', port: 4500 });
  t.is(valueOf(update, 'configName'), 'rw');
  const vipUpdate = messages.filter((m) => m.type === 'ikeUpdate')[1] as HaMessage;
  t.deepEqual(vipUpdate.attributes.map((a) => a.name), ['ikeId', 'remoteVip']);
  t.deepEqual(valueOf(vipUpdate, 'remoteVip'), { family: 2, address: '10.3.0.1', port: 0 });

  const childAdds = messages.filter((m) => m.type === 'childAdd');
  const first = childAdds[0] as HaMessage;
  t.is(valueOf(first, 'configName'), 'net');
  t.is(valueOf(first, 'ipsecMode'), 2);
  t.is(valueOf(first, 'secret'), undefined, 'the IKE_AUTH CHILD SA has no key exchange of its own');
  t.is(valueOf(childAdds[1] as HaMessage, 'secret')?.length, 256, 'a PFS rekey carries its MODP-2048 secret');
  t.deepEqual(valuesOf(first, 'localTs'), [{ tsType: 7, protocol: 0, fromPort: 0, toPort: 65535, dynamic: false, from: '10.10.1.0', to: '10.10.1.255' }]);
  t.deepEqual(valuesOf(first, 'remoteTs'), [{ tsType: 7, protocol: 0, fromPort: 0, toPort: 65535, dynamic: false, from: '10.3.0.1', to: '10.3.0.1' }]);
});

test('version 4 and 5 renumber the attributes from 18 on, and decode back to the same message', (t) => {
  const add = decodedAll('gcm-x25519').find((m) => m.type === 'ikeAdd') as HaMessage;
  const v3 = encodeMessage(add);
  const v5 = encodeMessage({ ...add, layout: 'v5' });
  t.is(v5[0], 5);
  t.is(v5.length, v3.length);
  t.is(attributeNumber('v3', 'algPrf'), 19);
  t.is(attributeNumber('v5', 'algPrf'), 20);
  t.is(attributeNumber('v3', 'ipsecMode'), 25);
  t.is(attributeNumber('v4', 'ipsecMode'), 27);
  t.is(attributeNumber('v3-50', 'ipsecMode'), 24);
  t.is(attributeNumber('v3', 'authMethod'), 41);
  t.is(attributeNumber('v5', 'authMethod'), 43);
  t.is(attributeNumber('v3', 'addSecret'), undefined);
  t.deepEqual(decodeMessage(v5).attributes, add.attributes);
  t.is(decodeMessage(v5).layout, 'v5');
  t.throws(() => encodeMessage({ layout: 'v3', type: 'ikeAdd', attributes: [{ name: 'addSecret', value: new Uint8Array(1) }] }), {
    instanceOf: FormatError,
    code: 'strongswan.attribute_not_in_layout',
  });
});

test('decoding stops at an unknown attribute as charon does, and strict decoding refuses it', (t) => {
  const bytes = Uint8Array.from([3, 4, 33, 0, 0, 0, 7, 200, 1, 2]);
  const message = decodeMessage(bytes);
  t.deepEqual(message.attributes, [{ name: 'mid', value: 7 }]);
  t.deepEqual(message.stopped, { offset: 7, attribute: 200, reason: 'unknown' });
  t.throws(() => decodeMessage(bytes, { strict: true }), { instanceOf: FormatError, code: 'strongswan.unknown_attribute' });
  const cut = decodeMessage(Uint8Array.from([3, 4, 33, 0, 0]));
  t.deepEqual(cut.stopped, { offset: 2, attribute: 33, reason: 'truncated' });
  t.throws(() => decodeMessage(Uint8Array.from([3, 4, 33, 0, 0]), { strict: true }), { code: 'strongswan.truncated_attribute' });
});

test('a datagram too short, of an unknown type or of an unknown version is refused with its own code', (t) => {
  t.throws(() => decodeMessage(Uint8Array.from([3])), { instanceOf: FormatError, code: 'strongswan.truncated' });
  t.throws(() => decodeMessage(Uint8Array.from([3, 13])), { instanceOf: FormatError, code: 'strongswan.unknown_type' });
  t.throws(() => decodeMessage(Uint8Array.from([2, 10])), { instanceOf: FormatError, code: 'strongswan.version_unsupported' });
  t.throws(() => decodeMessage(Uint8Array.from([6, 10])), { instanceOf: FormatError, code: 'strongswan.version_unsupported' });
  t.is(decodeMessage(Uint8Array.from([4, 10])).layout, 'v4');
  t.is(decodeMessage(Uint8Array.from([5, 10])).layout, 'v5');
  t.is(layoutForVersion(3, 'v3-50'), 'v3-50');
});

test('the protocol version follows from the strongSwan release', (t) => {
  t.is(layoutForRelease('5.9.8'), 'v3');
  t.is(layoutForRelease('5.3.5'), 'v3-50');
  t.is(layoutForRelease('5.4.0'), 'v3');
  t.is(layoutForRelease('6.0.0'), 'v3');
  t.is(layoutForRelease('6.0.1'), 'v4');
  t.is(layoutForRelease('6.0.2'), 'v5');
  t.is(layoutForRelease('6.1.0'), 'v5');
  t.throws(() => layoutForRelease('4.6.4'), { code: 'strongswan.version_unsupported' });
  t.is(releaseFromText((SCENARIOS[0] as { version: string }).version), '5.9.8');
  t.is(releaseFromText('Starting IKE charon daemon (strongSwan 6.0.2, Linux 6.18.44, x86_64)'), '6.0.2');
});

test('hosts, identities and traffic selectors encode IPv6 as charon does', (t) => {
  const message: Pick<HaMessage, 'layout' | 'type' | 'attributes'> = {
    layout: 'v3',
    type: 'ikeUpdate',
    attributes: [
      { name: 'ikeId', value: { ikeVersion: 2, spiI: new Uint8Array(8).fill(1), spiR: new Uint8Array(8).fill(2), initiator: true } },
      { name: 'localAddr', value: { family: 10, address: '2001:db8::1', port: 4500 } },
      { name: 'localId', value: { type: 5, data: new Uint8Array(16).fill(0xfe) } },
      { name: 'localTs', value: { tsType: 8, protocol: 17, fromPort: 500, toPort: 500, dynamic: true, from: '::', to: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' } },
    ],
  };
  const bytes = encodeMessage(message);
  t.is(hex(bytes.subarray(2 + 19, 2 + 19 + 20)), `0611940a${'20010db8000000000000000000000001'}`);
  t.deepEqual(decodeMessage(bytes).attributes, message.attributes);
});
