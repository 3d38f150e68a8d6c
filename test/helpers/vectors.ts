/**
 * The committed test vectors (fixtures/vectors/), after C2SP's CCTV: one small generator per
 * vector named `category_scenario`, each file a text header (`expect:`, `comment:`, the
 * identity and trusted key to open it with, the clock to open it at, and for valid blobs the
 * SHA-256 of the payload plaintext), a blank line, then the blob. Failures are told apart
 * by their error code, so a parse bug cannot hide behind a later signature failure.
 *
 * Everything is derived from fixed seeds; `npm run vectors` rewrites the files, and a test
 * fails when they differ from what this module generates.
 */
import { createHash } from 'node:crypto';
import { encodePublicKey, encodeSecretKey, generateIdentity } from '../../lib/crypto/key-text.js';
import { seededRandom } from '../../lib/crypto/random.js';
import { encodeContextPayload } from '../../lib/format/envelope.js';
import { CHUNK_BYTES } from '../../lib/format/stream.js';
import { PAYLOAD_LABELS } from '../../lib/format/payload-labels.js';
import type { Context } from '../../lib/model/context.js';
import { buildBlob, type BuildOptions, sealChunks } from './blob-builder.js';
import { randomContext } from './random-context.js';
import { fixtureContext } from './workspace.js';

export const VECTOR_RECIPIENT = generateIdentity(seededRandom('ipsec-ctx vectors recipient'));
export const VECTOR_SIGNER = generateIdentity(seededRandom('ipsec-ctx vectors signer'));
const STRANGER = generateIdentity(seededRandom('ipsec-ctx vectors stranger'));
export const VECTOR_CREATED = 1_795_600_000_000;
const VECTOR_NOW = VECTOR_CREATED + 1_000;

interface VectorSpec {
  name: string;
  expect: string;
  comment: string;
  build: (base: BuildOptions) => Uint8Array;
}

const flipByte = (bytes: Uint8Array, at: number) => {
  const out = new Uint8Array(bytes);
  out[at] = (out[at] as number) ^ 0x01;
  return out;
};

/** A context whose payload spans three chunks, for the stream vectors. */
const threeChunks = (): Context => {
  const context = randomContext('vectors three chunks', { ikeSas: 70, childPairsPerIke: 2, looseChildren: 0 });
  const size = encodeContextPayload(context).byteLength;
  if (size <= 2 * CHUNK_BYTES) throw new Error(`three-chunk context has only ${size} bytes`);
  return context;
};

const SPECS: VectorSpec[] = [
  { name: 'valid_site_to_site', expect: 'success', comment: 'the site-to-site fixture, one recipient', build: buildBlob },
  {
    name: 'valid_two_recipients',
    expect: 'success',
    comment: 'the vector identity is the second of two recipients',
    build: (base) => buildBlob({ ...base, recipients: [STRANGER.publicKey, VECTOR_RECIPIENT.publicKey] }),
  },
  { name: 'valid_three_chunks', expect: 'success', comment: 'a payload of three chunks, the last one partial', build: (base) => buildBlob({ ...base, context: threeChunks() }) },
  { name: 'header_bad_magic', expect: 'format.not_a_blob', comment: 'first magic byte changed', build: (base) => flipByte(buildBlob(base), 0) },
  { name: 'version_unsupported', expect: 'format.unsupported_version', comment: 'format version 2, otherwise valid and signed', build: (base) => buildBlob({ ...base, version: 2 }) },
  { name: 'header_truncated', expect: 'format.truncated', comment: 'cut inside the header', build: (base) => buildBlob(base).subarray(0, 40) },
  { name: 'payload_truncated', expect: 'format.truncated', comment: 'the last 100 bytes are missing', build: (base) => buildBlob(base).subarray(0, -100) },
  { name: 'trailing_data', expect: 'format.trailing_data', comment: 'one byte after the signature', build: (base) => new Uint8Array(Buffer.concat([buildBlob(base), Buffer.from([0])])) },
  {
    name: 'header_non_canonical',
    expect: 'format.non_canonical',
    comment: 'header map keys in insertion order instead of deterministic order, validly signed',
    build: (base) =>
      buildBlob({
        ...base,
        encodeHeader: (header) => {
          // A hand-made encoding with keys in the wrong order: cbor-x writes object keys as given.
          const reordered = Object.fromEntries(Object.entries(header).reverse());
          return encodeRaw(reordered);
        },
      }),
  },
  {
    name: 'header_unknown_field',
    expect: 'format.header',
    comment: 'an extra header field "note"',
    build: (base) => buildBlob({ ...base, header: (h) => ({ ...h, note: 'hello' }) }),
  },
  { name: 'signature_bad', expect: 'auth.bad_signature', comment: 'last signature byte changed', build: (base) => flipByte(buildBlob(base), buildBlob(base).byteLength - 1) },
  {
    name: 'signature_untrusted',
    expect: 'auth.untrusted_signer',
    comment: 'validly signed by a key not in the trust list',
    build: (base) => buildBlob({ ...base, signer: STRANGER }),
  },
  {
    name: 'signature_wrong_key',
    expect: 'auth.bad_signature',
    comment: 'header names the trusted signer, but another key signed',
    build: (base) => buildBlob({ ...base, signWith: STRANGER }),
  },
  { name: 'recipient_wrong_key', expect: 'auth.no_matching_recipient', comment: 'encrypted to another key only', build: (base) => buildBlob({ ...base, recipients: [STRANGER.publicKey] }) },
  {
    name: 'recipient_low_order_share',
    expect: 'auth.stanza',
    comment: 'X25519 share is the all-zero low-order point',
    build: (base) =>
      buildBlob({
        ...base,
        header: (h) => {
          const recipients = h['recipients'] as { type: string; body: Uint8Array }[];
          const body = new Uint8Array(recipients[0]?.body ?? []);
          body.fill(0, 0, 32);
          return { ...h, recipients: [{ type: 'X25519', body }] };
        },
      }),
  },
  { name: 'header_mac_bad', expect: 'auth.header_mac', comment: 'header MAC changed, then validly signed', build: (base) => buildBlob({ ...base, mac: (mac) => flipByte(mac, 0) }) },
  {
    name: 'stream_missing_final',
    expect: 'auth.payload',
    comment: 'last chunk sealed without the last-chunk flag',
    build: (base) => buildBlob({ ...base, sealPayload: (p, k) => sealChunks(p, k, (chunks) => chunks.map((c, i) => ({ data: c.data, counter: i, last: false }))) }),
  },
  {
    name: 'stream_reordered',
    expect: 'auth.payload',
    comment: 'first two chunks of three swapped',
    build: (base) =>
      buildBlob({
        ...base,
        context: threeChunks(),
        sealPayload: (p, k) =>
          sealChunks(p, k, (chunks) => {
            const sealed = chunks.map((c, i) => ({ data: c.data, counter: i, last: c.last }));
            return [sealed[1], sealed[0], ...sealed.slice(2)] as typeof sealed;
          }),
      }),
  },
  {
    name: 'stream_final_first',
    expect: 'auth.payload',
    comment: 'a three-chunk payload whose first chunk carries the last-chunk flag',
    build: (base) =>
      buildBlob({
        ...base,
        context: threeChunks(),
        sealPayload: (p, k) => sealChunks(p, k, (chunks) => chunks.map((c, i) => ({ data: c.data, counter: i, last: i === 0 || c.last }))),
      }),
  },
  {
    name: 'cbor_non_canonical',
    expect: 'format.non_canonical',
    comment: 'payload CBOR with a non-shortest integer (version 1 as 0x1801), validly encrypted and signed',
    build: (base) =>
      buildBlob({
        ...base,
        plaintext: (p) => {
          // The version field: label, then the value 1 in one byte.
          const field = Buffer.from([0x18, PAYLOAD_LABELS.indexOf('version'), 0x01]);
          const at = Buffer.from(p).indexOf(field);
          if (at < 0) throw new Error('version field not found');
          return new Uint8Array(Buffer.concat([p.subarray(0, at + 2), Buffer.from([0x18, 0x01]), p.subarray(at + 3)]));
        },
      }),
  },
  {
    name: 'schema_invalid',
    expect: 'schema.invalid',
    comment: 'a CHILD SA with SPI 0',
    build: (base) => buildBlob({ ...base, context: { ...base.context, childSas: base.context.childSas.map((c, i) => (i === 0 ? { ...c, spi: new Uint8Array(4) } : c)) } }),
  },
  {
    name: 'count_mismatch',
    expect: 'format.count_mismatch',
    comment: 'header claims one policy more than the payload holds',
    build: (base) => buildBlob({ ...base, header: (h) => ({ ...h, counts: { ...(h['counts'] as object), policies: base.context.policies.length + 1 } }) }),
  },
  {
    name: 'expired',
    expect: 'stale.expired',
    comment: 'expired one second before the vector clock',
    build: (base) => buildBlob({ ...base, expiresMs: VECTOR_NOW - 1_000 }),
  },
];

import { Encoder } from 'cbor-x';
const rawEncoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false } as ConstructorParameters<typeof Encoder>[0]);
/** CBOR exactly as given (key order as inserted): only for building non-canonical vectors. */
function encodeRaw(value: unknown): Uint8Array {
  return new Uint8Array(rawEncoder.encode(value));
}

export interface Vector {
  name: string;
  file: Uint8Array;
}

export function generateVectors(): Vector[] {
  return SPECS.map((spec) => {
    const base: BuildOptions = {
      context: fixtureContext('site-to-site.json'),
      recipients: [VECTOR_RECIPIENT.publicKey],
      signer: VECTOR_SIGNER,
      createdMs: VECTOR_CREATED,
      expiresMs: VECTOR_CREATED + 600_000,
      random: seededRandom(`ipsec-ctx vector ${spec.name}`),
    };
    const blob = spec.build(base);
    const lines = [
      `expect: ${spec.expect}`,
      `comment: ${spec.comment}`,
      `identity: ${encodeSecretKey(VECTOR_RECIPIENT)}`,
      `trust: ${encodePublicKey(VECTOR_SIGNER.publicKey)}`,
      `now: ${VECTOR_NOW}`,
    ];
    if (spec.expect === 'success') {
      const context = spec.name === 'valid_three_chunks' ? threeChunks() : base.context;
      lines.push(`payload: ${createHash('sha256').update(encodeContextPayload(context)).digest('hex')}`);
    }
    return { name: spec.name, file: new Uint8Array(Buffer.concat([Buffer.from(`${lines.join('\n')}\n\n`), blob])) };
  });
}

export interface ParsedVector {
  expect: string;
  comment: string;
  identity: string;
  trust: string;
  nowMs: number;
  payload?: string;
  blob: Uint8Array;
}

export function parseVector(file: Uint8Array): ParsedVector {
  const split = Buffer.from(file).indexOf('\n\n');
  const fields = Object.fromEntries(
    Buffer.from(file.subarray(0, split))
      .toString('utf8')
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
  ) as Record<string, string>;
  const vector: ParsedVector = {
    expect: fields['expect'] ?? '',
    comment: fields['comment'] ?? '',
    identity: fields['identity'] ?? '',
    trust: fields['trust'] ?? '',
    nowMs: Number(fields['now']),
    blob: file.subarray(split + 2),
  };
  if (fields['payload']) vector.payload = fields['payload'];
  return vector;
}
