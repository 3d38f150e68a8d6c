/**
 * Leaf types of the context model and how they look in each form.
 *
 * A context exists in three forms (docs/FORMAT.md §4):
 * - runtime: what lib/ works with; byte strings are `Uint8Array`, 64-bit counters `bigint`;
 * - JSON (the file gateway, `inspect --json`): byte strings as lowercase hex, counters as JSON
 *   numbers when they fit in 2^53 and as decimal strings beyond;
 * - CBOR (the blob payload): byte strings as CBOR byte strings, counters as CBOR integers.
 *
 * Each leaf is a zod codec whose input side accepts the JSON *and* the CBOR representation, so
 * one `Context.parse()` turns either into the runtime form, and `Context.encode()` gives JSON.
 */
import { z } from 'zod';

export const MAX_U64 = 2n ** 64n - 1n;
export const MAX_U32 = 0xffff_ffff;

const HEX = /^(?:[0-9a-f]{2})*$/;

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** A view on the same memory with the plain Uint8Array prototype (cbor-x hands out Buffers). */
export function plainBytes(value: Uint8Array): Uint8Array {
  return value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(text: string): Uint8Array {
  return plainBytes(Buffer.from(text, 'hex'));
}

/** Schemas that stand for in-memory-only representations; the JSON Schema generator drops them. */
export const cborOnly = z.registry<{ cborOnly: true }>();

const BytesRuntime = z.custom<Uint8Array>(isBytes, { message: 'expected a byte string' });
const BytesCbor = z.custom<Uint8Array>(isBytes, { message: 'expected a byte string' }).register(cborOnly, {
  cborOnly: true,
});
const BytesJson = z.string().regex(HEX, { message: 'expected lowercase hex with an even number of digits' });

function bytesJson(range: { min?: number; max?: number }) {
  let schema = BytesJson;
  if (range.min !== undefined) schema = schema.min(range.min * 2);
  if (range.max !== undefined) schema = schema.max(range.max * 2);
  return schema;
}

/** A byte string, optionally of an exact length or a length range (in bytes). */
export function bytes(length?: number | { min?: number; max?: number }) {
  const range = typeof length === 'number' ? { min: length, max: length } : (length ?? {});
  const runtime = BytesRuntime.superRefine((value, ctx) => {
    const n = value.byteLength;
    if ((range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
      const want =
        range.min === range.max ? `${range.min}` : `${range.min ?? 0}..${range.max ?? 'any'}`;
      ctx.addIssue({ code: 'custom', message: `expected ${want} bytes, got ${n}` });
    }
  });
  return z.codec(z.union([bytesJson(range), BytesCbor]), runtime, {
    decode: (value) => (typeof value === 'string' ? fromHex(value) : plainBytes(value)),
    encode: (value) => toHex(value),
  });
}

const U64Cbor = z.bigint().register(cborOnly, { cborOnly: true });
const U64Number = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const U64String = z.string().regex(/^(?:0|[1-9][0-9]*)$/, { message: 'expected a decimal integer' });
const U64Runtime = z.bigint().min(0n).max(MAX_U64, { message: 'does not fit in 64 bits' });

/** An unsigned 64-bit counter or limit. */
export function u64() {
  return z.codec(z.union([U64Number, U64String, U64Cbor]), U64Runtime, {
    decode: (value) => BigInt(value),
    encode: (value) => (value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString()),
  });
}

export const u32 = () => z.number().int().min(0).max(MAX_U32);
export const u16 = () => z.number().int().min(0).max(0xffff);
export const u8 = () => z.number().int().min(0).max(0xff);
/** Seconds since the Unix epoch (UTC). */
export const unixSeconds = () => z.number().int().min(0).max(2 ** 40);
/** A short identifier used to link records inside one context. */
export const localId = () =>
  z.string().min(1).max(128).regex(/^[A-Za-z0-9._:@/-]+$/, { message: 'expected letters, digits or ._:@/-' });
export const label = () => z.string().min(1).max(256);
