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

export function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.byteLength; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** A view on the same memory with the plain Uint8Array prototype (Node hands out Buffers). */
export function plainBytes(value: Uint8Array): Uint8Array {
  return value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(text: string): Uint8Array {
  return plainBytes(Buffer.from(text, 'hex'));
}

/**
 * JSON Schema text for leaf schemas whose input zod cannot describe (it accepts a Uint8Array
 * or a bigint beside the JSON form); lib/model/json-schema.ts substitutes it.
 */
export const jsonForm = z.registry<{ jsonSchema: Record<string, unknown> }>();

// Leaves are plain predicates rather than unions of schemas: a context holds hundreds of
// thousands of them, and a failing union branch costs an issue object each time.

/** A byte string, optionally of an exact length or a length range (in bytes). */
export function bytes(length?: number | { min?: number; max?: number }) {
  const range = typeof length === 'number' ? { min: length, max: length } : (length ?? {});
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const want = min === max ? `${min}` : `${min}..${range.max ?? 'any'}`;
  const input = z.custom<string | Uint8Array>((value) => (typeof value === 'string' ? HEX.test(value) : isBytes(value)), {
    error: (issue) => (typeof issue.input === 'string' ? 'expected lowercase hex with an even number of digits' : 'expected a byte string'),
  });
  jsonForm.add(input, {
    jsonSchema: { type: 'string', ...(range.min !== undefined ? { minLength: min * 2 } : {}), ...(range.max !== undefined ? { maxLength: max * 2 } : {}), pattern: HEX.source },
  });
  const runtime = z.custom<Uint8Array>((value) => isBytes(value) && value.byteLength >= min && value.byteLength <= max, {
    error: (issue) => `expected ${want} bytes, got ${isBytes(issue.input) ? issue.input.byteLength : typeof issue.input}`,
  });
  return z.codec(input, runtime, {
    decode: (value) => (typeof value === 'string' ? fromHex(value) : plainBytes(value)),
    encode: (value) => toHex(value),
  });
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** An unsigned 64-bit counter or limit. */
export function u64() {
  const input = z.custom<number | string | bigint>(
    (value) =>
      (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) ||
      (typeof value === 'string' && DECIMAL.test(value)) ||
      typeof value === 'bigint',
    { error: 'expected a non-negative integer (a decimal string above 2^53)' },
  );
  jsonForm.add(input, {
    jsonSchema: { anyOf: [{ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, { type: 'string', pattern: DECIMAL.source }] },
  });
  const runtime = z.custom<bigint>((value) => typeof value === 'bigint' && value >= 0n && value <= MAX_U64, { error: 'expected an integer from 0 to 2^64-1' });
  return z.codec(input, runtime, {
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
