import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../../lib/errors.js';
import { Decoder } from 'cbor-x';
import { keyLabels } from '../../lib/format/cbor-labels.js';
import { compareKeys, encodeCanonical } from '../../lib/format/cbor-encode.js';
import { decodeCanonical } from '../../lib/format/cbor-decode.js';
import { PAYLOAD_LABELS } from '../../lib/format/payload-labels.js';
import { Context } from '../../lib/model/context.js';
import { FIXTURES, GATEWAY_FIXTURES, fixtureContext } from '../helpers/workspace.js';

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
  for (const value of [1.5, null, new Date(0), new Map(), Number.MAX_SAFE_INTEGER + 1, 2n ** 64n, -(2n ** 64n) - 1n, () => 1]) {
    t.throws(() => encodeCanonical(value), { instanceOf: TypeError });
  }
});

const PAYLOAD = keyLabels(PAYLOAD_LABELS);

test('an independent CBOR decoder (cbor-x) reads what we write, text keys and labels alike', (t) => {
  const reference = new Decoder({ useRecords: false, mapsAsObjects: false, int64AsType: 'bigint' } as ConstructorParameters<typeof Decoder>[0]);
  const site = fixtureContext('site-to-site.json');
  const plain = reference.decode(Buffer.from(encodeCanonical({ b: [1, -2, 3n ** 30n], a: new Uint8Array([7]), c: 'ü', d: true })));
  t.deepEqual([...plain.keys()], ['a', 'b', 'c', 'd']);
  t.deepEqual(plain.get('b'), [1, -2, 3n ** 30n]);
  const labelled = reference.decode(Buffer.from(encodeCanonical(site, PAYLOAD)));
  t.deepEqual([...labelled.keys()], [...labelled.keys()].sort((x: number, y: number) => x - y));
  t.is(labelled.get(PAYLOAD_LABELS.indexOf('version')), 1);
  t.is(labelled.get(PAYLOAD_LABELS.indexOf('childSas')).length, site.childSas.length);
});

test('labelled payloads round-trip every fixture, and unknown labels are refused', (t) => {
  for (const name of GATEWAY_FIXTURES) {
    const context = fixtureContext(name);
    const bytes = encodeCanonical(context, PAYLOAD);
    t.deepEqual(Context.parse(decodeCanonical(bytes, name, PAYLOAD)), context);
    t.deepEqual(encodeCanonical(decodeCanonical(bytes, name, PAYLOAD), PAYLOAD), bytes);
  }
  t.throws(() => encodeCanonical({ colour: 1 }, PAYLOAD), { instanceOf: TypeError });
  const unknownLabel = Buffer.from([0xa1, 0x18, PAYLOAD_LABELS.length, 0x01]);
  t.throws(() => decodeCanonical(unknownLabel, 'x', PAYLOAD), { code: 'format.unknown_field' });
  t.throws(() => decodeCanonical(Buffer.from('a1616101', 'hex'), 'x', PAYLOAD), { code: 'format.unknown_field' });
});

test('every model field has exactly one payload label', (t) => {
  t.is(new Set(PAYLOAD_LABELS).size, PAYLOAD_LABELS.length);
  const names = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (node: any): void => {
    if (seen.has(node)) return;
    seen.add(node);
    const def = node._zod.def;
    if (def.type === 'object') for (const [key, child] of Object.entries(def.shape)) (names.add(key), visit(child));
    else if (def.type === 'array') visit(def.element);
    else if (def.type === 'union') def.options.forEach(visit);
    else if (['optional', 'nullable', 'default', 'readonly'].includes(def.type)) visit(def.innerType);
    else if (def.type === 'pipe') (visit(def.in), visit(def.out));
  };
  visit(Context);
  t.deepEqual([...names].sort(), [...PAYLOAD_LABELS].sort());
});

test('decoding never reads past a truncated input', (t) => {
  const bytes = encodeCanonical(fixtureContext('road-warrior.json'), PAYLOAD);
  for (let length = 0; length < bytes.byteLength; length += 7) {
    t.throws(() => decodeCanonical(bytes.subarray(0, length), 'x', PAYLOAD), { code: 'format.cbor' });
  }
});

test('docs/FORMAT.md lists every payload label with its number', (t) => {
  const doc = readFileSync(join(FIXTURES, '..', 'docs', 'FORMAT.md'), 'utf8');
  PAYLOAD_LABELS.forEach((name, label) => t.true(doc.includes(`| ${label} | \`${name}\` |`), `${label} ${name}`));
});

test('text of every kind decodes to the same strings, repeated or not', (t) => {
  const text = fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 60 }), fc.constantFrom('esp', 'tunnel', '10.0.0.1'));
  fc.assert(
    fc.property(fc.array(text, { maxLength: 40 }), (strings) => {
      t.deepEqual(decodeCanonical(encodeCanonical(strings), 'strings'), strings);
    }),
  );
});

test('labelled maps of thousands of key lists decode to the same objects, past the cache of compiled shapes', (t) => {
  const record = fc
    .uniqueArray(fc.constantFrom(...PAYLOAD_LABELS), { minLength: 1, maxLength: 12 })
    .map((names) => Object.fromEntries(names.map((name, i) => [name, i % 3 === 0 ? `v${i}` : i])));
  fc.assert(
    fc.property(fc.array(record, { minLength: 200, maxLength: 200 }), (records) => {
      t.deepEqual(decodeCanonical(encodeCanonical(records, PAYLOAD), 'records', PAYLOAD), records);
    }),
    { numRuns: 40 },
  );
});
