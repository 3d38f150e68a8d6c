import test from 'ava';
import { createHmac } from 'node:crypto';
import { decodeMessage } from '../../../lib/drivers/strongswan/codec.js';
import { deriveChildKeys, deriveIkeKeys } from '../../../lib/drivers/strongswan/keymat.js';
import { aesCmac, aesCmacPrf128, aesXcbcMac, aesXcbcPrf128, prfById, prfPlus } from '../../../lib/drivers/strongswan/prf.js';
import { type TrackedChildSa, type TrackedIkeSa, HaTracker } from '../../../lib/drivers/strongswan/tracker.js';
import { GatewayError } from '../../../lib/errors.js';
import { childKeySets, ikeKeySets, parseDumps } from './charon-log.js';
import { SCENARIOS } from './scenarios.js';

const h = (text: string) => new Uint8Array(Buffer.from(text.replace(/\s/g, ''), 'hex'));
const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));
const range = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

test('AES-XCBC-MAC matches RFC 3566 §4.6 test cases 1-5', (t) => {
  const key = range(16);
  t.is(hex(aesXcbcMac(key, range(0))), '75f0251d528ac01c4573dfd584d79f29');
  t.is(hex(aesXcbcMac(key, range(3))), '5b376580ae2f19afe7219ceef172756f');
  t.is(hex(aesXcbcMac(key, range(16))), 'd2a246fa349b68a79998a4394ff7a263');
  t.is(hex(aesXcbcMac(key, range(20))), '47f51b4564966215b8985c63055ed308');
  t.is(hex(aesXcbcMac(key, range(32))), 'f54f0ec8d2b9f3d36807734bd5283fd4');
});

test('AES-XCBC-PRF-128 matches RFC 4434 §4 for 16-, 10- and 18-byte keys', (t) => {
  t.is(hex(aesXcbcPrf128(range(16), range(20))), '47f51b4564966215b8985c63055ed308');
  t.is(hex(aesXcbcPrf128(range(10), range(20))), '0fa087af7d866e7653434e602fdde835');
  t.is(hex(aesXcbcPrf128(h('000102030405060708090a0b0c0d0e0fedcb'), range(20))), '8cd3c93ae598a9803006ffb67c40e9e4');
});

test('AES-CMAC matches RFC 4493 §4 and AES-CMAC-PRF-128 RFC 4615 §4', (t) => {
  const key = h('2b7e151628aed2a6abf7158809cf4f3c');
  t.is(hex(aesCmac(key, new Uint8Array(0))), 'bb1d6929e95937287fa37d129b756746');
  t.is(hex(aesCmac(key, h('6bc1bee22e409f96e93d7e117393172a'))), '070a16b46b4d4144f79bdd9dd04a287c');
  t.is(hex(aesCmac(key, h('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411'))), 'dfa66747de9ae63030ca32611497c827');
  t.is(hex(aesCmacPrf128(range(16), range(20))), '980ae87b5f4c9c5214f5b6a8455e4c2d');
  t.is(hex(aesCmacPrf128(range(10), range(20))), '290d9e112edb09ee141fcf64c0b72f3d');
  t.is(hex(aesCmacPrf128(h('000102030405060708090a0b0c0d0e0fedcb'), range(20))), '84a348a4a45d235babfffc0d2b4da09a');
});

test('prf+ chains T(n) = prf(K, T(n-1) | S | n) and cuts to length', (t) => {
  const prf = prfById(5);
  const key = range(32);
  const seed = h('cafe');
  const t1 = createHmac('sha256', key).update(h('cafe01')).digest();
  const t2 = createHmac('sha256', key).update(Buffer.concat([t1, h('cafe02')])).digest();
  t.is(hex(prfPlus(prf, key, seed, 40)), Buffer.concat([t1, t2]).subarray(0, 40).toString('hex'));
  t.throws(() => prfById(3), { instanceOf: GatewayError, code: 'strongswan.unsupported_transform' });
});

/** Replays a scenario and collects every IKE and CHILD key set the tracker derived, in order. */
function replay(datagrams: { bytes: Uint8Array }[]) {
  const tracker = new HaTracker(() => 0);
  const ike: TrackedIkeSa[] = [];
  const child: TrackedChildSa[] = [];
  for (const { bytes } of datagrams) {
    const message = decodeMessage(bytes, { strict: true });
    const result = tracker.apply(message);
    if (message.type === 'ikeAdd') ike.push([...tracker.ikeSas.values()].at(-1) as TrackedIkeSa);
    if (message.type === 'childAdd') {
      for (const sa of tracker.ikeSas.values()) for (const c of sa.children.values()) if (!child.includes(c)) child.push(c);
    }
    if (result.warning && !result.summary.includes('deleted')) throw new Error(`${result.summary}: ${result.warning}`);
  }
  return { ike, child };
}

for (const scenario of SCENARIOS) {
  test(`IKE keys derived from HA equal charon's own, initial and rekeyed (${scenario.name})`, (t) => {
    const logged = ikeKeySets(parseDumps(scenario.log));
    const { ike } = replay(scenario.datagrams);
    t.is(ike.length, 2);
    t.is(logged.length, ike.length);
    t.truthy(ike[1]?.rekeyOf);
    ike.forEach((sa, i) => {
      const log = logged[i];
      for (const field of ['skD', 'skAi', 'skAr', 'skEi', 'skEr', 'skPi', 'skPr'] as const) {
        t.is(hex(sa.keys[field]), hex(log?.[field]), `${field} of IKE SA ${i}`);
      }
    });
  });

  test(`CHILD SA keys derived from HA equal charon's own, with and without PFS (${scenario.name})`, (t) => {
    const logged = childKeySets(parseDumps(scenario.log));
    const { child } = replay(scenario.datagrams);
    t.is(child.length, 3);
    t.is(logged.length, child.length);
    child.forEach((c, i) => {
      const log = logged[i];
      for (const field of ['encrI', 'encrR', 'integI', 'integR'] as const) t.is(hex(c.keys[field]), hex(log?.[field]), `${field} of CHILD SA ${i}`);
    });
    t.is(child[0]?.pfs, false);
    t.is(child[1]?.pfs, scenario.name.includes('pfs'));
  });
}

test('key derivation refuses transforms it cannot compute and sizes keys as charon does', (t) => {
  const base = { nonceI: range(32), nonceR: range(32), sharedSecret: range(32), spiI: range(8), spiR: range(8) };
  t.throws(() => deriveIkeKeys({ ...base, prf: 5, encryption: 12, encryptionKeyBits: 128 }), { code: 'strongswan.missing_integrity' });
  t.throws(() => deriveIkeKeys({ ...base, prf: 5, encryption: 99, encryptionKeyBits: 128 }), { code: 'strongswan.unsupported_transform' });
  const chacha = deriveIkeKeys({ ...base, prf: 7, encryption: 28 });
  t.is(chacha.skEi.length, 36);
  t.is(chacha.skD.length, 64);
  t.is(chacha.skAi, undefined);
  const ccm = deriveChildKeys({ prf: 5, skD: range(32), encryption: 16, encryptionKeyBits: 256, nonceI: range(16), nonceR: range(16) });
  t.is(ccm.encrI.length, 35);
  t.is(ccm.integI, undefined);
});
