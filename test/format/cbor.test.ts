import test from 'ava';
import fc from 'fast-check';
import { FormatError } from '../../lib/errors.js';
import { canonicalize, compareKeys, decodeCanonical, encodeCanonical } from '../../lib/format/cbor.js';
import { GATEWAY_FIXTURES, fixtureContext } from '../helpers/workspace.js';

/** Slow reference for RFC 8949 §4.2.1 key order: compare the encoded keys byte by byte. */
function referenceOrder(keys: string[]): string[] {
  const encoded = (key: string) => Buffer.from(encodeCanonical(key));
  return [...keys].sort((a, b) => Buffer.compare(encoded(a), encoded(b)));
}

test('keys sort like their deterministic encodings do', (t) => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ unit: 'grapheme', maxLength: 30 }), { maxLength: 20 }), (keys) => {
      t.deepEqual([...keys].sort(compareKeys), referenceOrder(keys));
    }),
  );
});

test('encoding does not depend on property order', (t) => {
  t.deepEqual(encodeCanonical({ b: 1, a: { d: 2n, c: new Uint8Array([1]) } }), encodeCanonical({ a: { c: new Uint8Array([1]), d: 2n }, b: 1 }));
});

test('integers take their shortest form whatever their JS type', (t) => {
  t.is(Buffer.from(encodeCanonical(23n)).toString('hex'), '17');
  t.is(Buffer.from(encodeCanonical(24)).toString('hex'), '1818');
  t.is(Buffer.from(encodeCanonical(2n ** 32n)).toString('hex'), '1b0000000100000000');
  t.is(Buffer.from(encodeCanonical(2n ** 64n - 1n)).toString('hex'), '1bffffffffffffffff');
});

for (const name of GATEWAY_FIXTURES) {
  test(`fixture ${name}: decode(encode(x)) re-encodes to the same bytes`, (t) => {
    const bytes = encodeCanonical(fixtureContext(name));
    t.deepEqual(encodeCanonical(decodeCanonical(bytes, 'fixture')), bytes);
  });
}

test('non-canonical encodings are rejected', (t) => {
  const bad = {
    'unsorted keys': 'a2616201616101',
    'duplicate keys': 'a2616101616102',
    'non-shortest integer': '1817',
    float: 'fb3ff0000000000000',
    'indefinite-length array': '9f01ff',
    'a tag': 'c11a5f000000',
    null: 'f6',
    'trailing bytes': '0100',
  };
  for (const [what, hex] of Object.entries(bad)) {
    t.throws(() => decodeCanonical(Buffer.from(hex, 'hex'), what), { instanceOf: FormatError }, what);
  }
});

test('values outside the wire model cannot be encoded', (t) => {
  for (const value of [1.5, null, new Date(0), new Map(), Number.MAX_SAFE_INTEGER + 1, 2n ** 64n, () => 1]) {
    t.throws(() => canonicalize(value), { instanceOf: TypeError });
  }
});
