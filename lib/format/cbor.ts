/**
 * Deterministic CBOR (RFC 8949 §4.2.1, "core deterministic encoding"), the only encoding of
 * signed or encrypted data in ipsec-ctx (docs/FORMAT.md §2):
 * - map keys are text strings, sorted by encoded length, then bytewise;
 * - integers in their shortest form; no floats, no tags, no indefinite lengths;
 * - byte strings for bytes, text strings for text, `undefined` fields omitted.
 * cbor-x has no canonical mode, so `canonicalize()` sorts keys into Maps (which cbor-x encodes
 * in insertion order) and hands cbor-x integers that fit in 32 bits as numbers and all others
 * as bigints: cbor-x writes every bigint with a 9-byte head and every number beyond 32 bits as
 * a float64, neither of which is the shortest form. Decoding re-encodes and compares,
 * rejecting anything else.
 */
import { Decoder, Encoder } from 'cbor-x';
import { FormatError } from '../errors.js';

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  tagUint8Array: false,
  useTag259ForMaps: false,
} as ConstructorParameters<typeof Encoder>[0]);

const decoder = new Decoder({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' } as ConstructorParameters<typeof Decoder>[0]);

const keyOrderCache = new Map<string, string[]>();

/** RFC 8949 §4.2.1 order for text keys: shorter UTF-8 encoding first, then bytewise. */
export function compareKeys(a: string, b: string): number {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length - bb.length || Buffer.compare(ab, bb);
}

function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  const shape = keys.join('\u0000');
  let sorted = keyOrderCache.get(shape);
  if (!sorted) {
    sorted = [...keys].sort(compareKeys);
    if (keyOrderCache.size < 4096) keyOrderCache.set(shape, sorted);
  }
  return sorted;
}

/** The value rebuilt in the shape cbor-x encodes deterministically. @throws TypeError */
export function canonicalize(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer: ${value}`);
      // cbor-x writes numbers beyond 32 bits as float64; as bigints they get 64-bit integer heads.
      return value > 0xffff_ffff || value < -0x1_0000_0000 ? BigInt(value) : value;
    case 'bigint':
      if (value >= -0x1_0000_0000n && value <= 0xffff_ffffn) return Number(value);
      if (value < -(2n ** 64n) || value >= 2n ** 64n) throw new TypeError('integer does not fit in 64 bits');
      return value;
    case 'object': {
      if (value === null) throw new TypeError('null is not part of the wire model');
      if (value instanceof Uint8Array) return value;
      if (Array.isArray(value)) return value.map(canonicalize);
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        throw new TypeError(`cannot encode ${prototype?.constructor?.name ?? 'object'}`);
      }
      const map = new Map<string, unknown>();
      for (const key of sortedKeys(value)) {
        const item = (value as Record<string, unknown>)[key];
        if (item !== undefined) map.set(key, canonicalize(item));
      }
      return map;
    }
    default:
      throw new TypeError(`cannot encode ${typeof value}`);
  }
}

export function encodeCanonical(value: unknown): Uint8Array {
  // A fresh plain view: cbor-x returns Buffers, sometimes carrying an expando `dataView`.
  const encoded = encoder.encode(canonicalize(value));
  return new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/**
 * cbor-x hands out every 64-bit integer as a bigint; the model wants numbers for values that
 * fit (times, counts) and accepts either for 64-bit counters. Converts in place.
 */
function safeIntegersAsNumbers(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = safeIntegersAsNumbers(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) record[key] = safeIntegersAsNumbers(record[key]);
  return value;
}

/**
 * Decodes one deterministic CBOR item that must span all of `bytes`.
 * @throws FormatError `format.cbor` (malformed) or `format.non_canonical`
 */
export function decodeCanonical(bytes: Uint8Array, what: string): unknown {
  let value: unknown;
  try {
    // A throwaway view: cbor-x caches a `dataView` property on whatever array it decodes.
    value = decoder.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch {
    throw new FormatError('format.cbor', `${what} is not valid CBOR`);
  }
  value = safeIntegersAsNumbers(value);
  let again: Uint8Array;
  try {
    again = encodeCanonical(value);
  } catch {
    throw new FormatError('format.non_canonical', `${what} holds a CBOR type the format does not allow`);
  }
  if (Buffer.compare(again, bytes) !== 0) {
    throw new FormatError('format.non_canonical', `${what} is not in deterministic CBOR encoding`);
  }
  return value;
}
