/**
 * Attribute bodies of the HA sync protocol, byte by byte (docs/strongswan.md §4). Each
 * `read*` takes the datagram and an offset and returns the value and the bytes it used, or
 * undefined when the body is cut short; each `write*` appends the body to a byte list.
 *
 * Integers are big-endian, except SPIs and CPIs: charon keeps them in network order in memory
 * and byte-swaps them once more for the wire, so the wire holds them in the sender's host
 * byte order (little-endian on x86; the ESP SPI 0x376d4b1b goes out as `1b 4b 6d 37`). The
 * value here is always the SPI in network order, as ESP carries it; `spiOrder` says how the
 * sender stored it.
 */
import { canonicalAddress } from '../../model/address.js';

export type ByteOrder = 'le' | 'be';

/** An IKE SA id: SPIs are the raw IKE header bytes, never swapped. */
export interface HaIkeSaId {
  ikeVersion: number;
  spiI: Uint8Array;
  spiR: Uint8Array;
  /** True when the sending node is the SA's original initiator. */
  initiator: boolean;
}

/** An identity: type as in IKEv2 ID payloads (1 IPv4, 2 FQDN, 3 RFC822, 5 IPv6, 9 DN, 11 KEY_ID), raw value. */
export interface HaIdentity {
  type: number;
  data: Uint8Array;
}

/** A host: `family` is the sender's AF_* number (2 IPv4, 10 IPv6 on Linux). */
export interface HaHost {
  family: number;
  address: string;
  port: number;
}

/** A traffic selector: `tsType` 7 (IPv4 range) or 8 (IPv6 range); `dynamic` means "the SA's own address". */
export interface HaTrafficSelector {
  tsType: number;
  protocol: number;
  fromPort: number;
  toPort: number;
  dynamic: boolean;
  from: string;
  to: string;
}

export const AF_INET = 2;
export const AF_INET6 = 10;
export const TS_IPV4_ADDR_RANGE = 7;
export const TS_IPV6_ADDR_RANGE = 8;

export interface Read<T> {
  value: T;
  size: number;
}

const u16be = (b: Uint8Array, at: number) => ((b[at] as number) << 8) | (b[at + 1] as number);

export function readU8(b: Uint8Array, at: number): Read<number> | undefined {
  return at + 1 <= b.length ? { value: b[at] as number, size: 1 } : undefined;
}

export function readU16(b: Uint8Array, at: number): Read<number> | undefined {
  return at + 2 <= b.length ? { value: u16be(b, at), size: 2 } : undefined;
}

export function readU32(b: Uint8Array, at: number): Read<number> | undefined {
  return at + 4 <= b.length ? { value: ((u16be(b, at) << 16) >>> 0) + u16be(b, at + 2), size: 4 } : undefined;
}

export function readChunk(b: Uint8Array, at: number): Read<Uint8Array> | undefined {
  const length = readU16(b, at);
  if (!length || at + 2 + length.value > b.length) return undefined;
  return { value: b.slice(at + 2, at + 2 + length.value), size: 2 + length.value };
}

export function readU16List(b: Uint8Array, at: number): Read<number[]> | undefined {
  const chunk = readChunk(b, at);
  if (!chunk || chunk.value.length % 2 !== 0) return undefined;
  const values: number[] = [];
  for (let i = 0; i < chunk.value.length; i += 2) values.push(u16be(chunk.value, i));
  return { value: values, size: chunk.size };
}

/** SPI (4 bytes) or CPI (2 bytes) stored in `order`, returned in network order. */
export function readSwapped(b: Uint8Array, at: number, length: 2 | 4, order: ByteOrder): Read<Uint8Array> | undefined {
  if (at + length > b.length) return undefined;
  const raw = b.slice(at, at + length);
  return { value: order === 'le' ? raw.reverse() : raw, size: length };
}

export function readIkeSaId(b: Uint8Array, at: number): Read<HaIkeSaId> | undefined {
  if (at + 18 > b.length) return undefined;
  return {
    value: { ikeVersion: b[at] as number, spiI: b.slice(at + 1, at + 9), spiR: b.slice(at + 9, at + 17), initiator: b[at + 17] !== 0 },
    size: 18,
  };
}

export function readIdentity(b: Uint8Array, at: number): Read<HaIdentity> | undefined {
  if (at + 2 > b.length) return undefined;
  const length = b[at + 1] as number;
  if (at + 2 + length > b.length) return undefined;
  return { value: { type: b[at] as number, data: b.slice(at + 2, at + 2 + length) }, size: 2 + length };
}

/**
 * charon gives the address parser everything left in the datagram and takes what the family
 * needs; family 0 (an "any" host) only parses when exactly 4 or 16 bytes remain.
 */
export function readHost(b: Uint8Array, at: number): Read<HaHost> | undefined {
  if (at + 3 > b.length) return undefined;
  const port = u16be(b, at);
  const family = b[at + 2] as number;
  const rest = b.length - (at + 3);
  let length: number;
  if (family === AF_INET) length = 4;
  else if (family === AF_INET6) length = 16;
  else if (family === 0 && (rest === 4 || rest === 16)) length = rest;
  else return undefined;
  if (rest < length) return undefined;
  return { value: { family, port, address: formatAddress(b.subarray(at + 3, at + 3 + length)) }, size: 3 + length };
}

export function readString(b: Uint8Array, at: number): Read<string> | undefined {
  const end = b.indexOf(0, at);
  if (end < 0) return undefined;
  return { value: Buffer.from(b.subarray(at, end)).toString('utf8'), size: end - at + 1 };
}

export function readTrafficSelector(b: Uint8Array, at: number): Read<HaTrafficSelector> | undefined {
  if (at + 7 > b.length) return undefined;
  const tsType = b[at] as number;
  const length = tsType === TS_IPV4_ADDR_RANGE ? 4 : tsType === TS_IPV6_ADDR_RANGE ? 16 : 0;
  if (length === 0 || at + 7 + 2 * length > b.length) return undefined;
  const from = at + 7;
  return {
    value: {
      tsType,
      protocol: b[at + 1] as number,
      fromPort: u16be(b, at + 2),
      toPort: u16be(b, at + 4),
      dynamic: b[at + 6] !== 0,
      from: formatAddress(b.subarray(from, from + length)),
      to: formatAddress(b.subarray(from + length, from + 2 * length)),
    },
    size: 7 + 2 * length,
  };
}

// ---------------------------------------------------------------------------------------------
// Writers append to a plain number list; codec.ts turns it into bytes once.

export function writeU8(out: number[], value: number): void {
  out.push(value & 0xff);
}

export function writeU16(out: number[], value: number): void {
  out.push((value >>> 8) & 0xff, value & 0xff);
}

export function writeU32(out: number[], value: number): void {
  out.push((value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

export function writeBytes(out: number[], bytes: Uint8Array): void {
  for (const byte of bytes) out.push(byte);
}

export function writeChunk(out: number[], bytes: Uint8Array): void {
  writeU16(out, bytes.length);
  writeBytes(out, bytes);
}

export function writeU16List(out: number[], values: readonly number[]): void {
  writeU16(out, values.length * 2);
  for (const value of values) writeU16(out, value);
}

export function writeSwapped(out: number[], value: Uint8Array, order: ByteOrder): void {
  writeBytes(out, order === 'le' ? value.slice().reverse() : value);
}

export function writeIkeSaId(out: number[], id: HaIkeSaId): void {
  writeU8(out, id.ikeVersion);
  writeBytes(out, id.spiI);
  writeBytes(out, id.spiR);
  writeU8(out, id.initiator ? 1 : 0);
}

export function writeIdentity(out: number[], id: HaIdentity): void {
  writeU8(out, id.type);
  // charon writes the length as one byte but copies all the data; refuse what it would garble.
  if (id.data.length > 255) throw new RangeError(`an identity of ${id.data.length} bytes does not fit the HA encoding (255 at most)`);
  writeU8(out, id.data.length);
  writeBytes(out, id.data);
}

export function writeHost(out: number[], host: HaHost): void {
  writeU16(out, host.port);
  writeU8(out, host.family);
  writeBytes(out, parseAddress(host.address));
}

export function writeString(out: number[], value: string): void {
  writeBytes(out, Buffer.from(value, 'utf8'));
  out.push(0);
}

export function writeTrafficSelector(out: number[], ts: HaTrafficSelector): void {
  writeU8(out, ts.tsType);
  writeU8(out, ts.protocol);
  writeU16(out, ts.fromPort);
  writeU16(out, ts.toPort);
  writeU8(out, ts.dynamic ? 1 : 0);
  writeBytes(out, parseAddress(ts.from));
  writeBytes(out, parseAddress(ts.to));
}

// ---------------------------------------------------------------------------------------------
// Addresses: canonical text (dotted quad, RFC 5952) as the model spells them.

/** The four bytes of a dotted quad ("10.0.0.1"), undefined for anything else. */
function dottedQuadBytes(text: string): Uint8Array | undefined {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (code === 0x2e) {
      if (digits === 0 || value > 255 || part > 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (code >= 0x30 && code <= 0x39 && digits < 3) {
      value = value * 10 + (code - 0x30);
      digits++;
    } else {
      return undefined;
    }
  }
  return part === 4 ? out : undefined;
}

export function formatAddress(raw: Uint8Array): string {
  if (raw.length === 4) return raw.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(u16be(raw, i).toString(16));
  return canonicalAddress(groups.join(':')) as string;
}

export function parseAddress(text: string): Uint8Array {
  const quad = dottedQuadBytes(text);
  if (quad) return quad;
  const canonical = canonicalAddress(text);
  if (canonical === undefined) throw new RangeError(`not an IP address: ${JSON.stringify(text)}`);
  // Expand "::" and any embedded IPv4 tail into eight groups.
  const [head, tail] = canonical.includes('::') ? canonical.split('::') : [canonical, undefined];
  const parts = (s: string | undefined) => (s ? s.split(':') : []);
  const expand = (list: string[]) =>
    list.flatMap((p) => (p.includes('.') ? (([a, b, c, d]) => [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)])(p.split('.').map(Number) as [number, number, number, number]) : [p]));
  const h = expand(parts(head));
  const t = expand(parts(tail));
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}
