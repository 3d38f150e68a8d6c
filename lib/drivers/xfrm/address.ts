/**
 * xfrm_address_t (16 bytes, network order: an IPv4 address in the first 4) to and from the
 * model's canonical address text, and the address family numbers.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { GatewayError } from '../../errors.js';
import type { Family } from '../../model/common.js';
import { AF_INET, AF_INET6 } from './constants.js';
import { ADDRESS_BYTES } from './layout.js';

export function familyNumber(family: Family): number {
  return family === 'ipv4' ? AF_INET : AF_INET6;
}

/** The model family of a kernel family number, or undefined for AF_UNSPEC and the rest. */
export function familyName(number: number): Family | undefined {
  if (number === AF_INET) return 'ipv4';
  if (number === AF_INET6) return 'ipv6';
  return undefined;
}

export function isZeroAddress(bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < ADDRESS_BYTES; i++) if (bytes[offset + i] !== 0) return false;
  return true;
}

/**
 * Reads the address at `offset` as `family` and spells it canonically, as lib/model/address.ts
 * does (WHATWG URL serialisation): dotted quad, or lower-case hex groups without leading zeros,
 * the longest run of two or more zero groups (the first on a tie) as `::`, and no dotted
 * IPv4 tail even for IPv4-mapped addresses.
 */
export function readAddress(bytes: Uint8Array, offset: number, family: Family): string {
  if (family === 'ipv4') return dottedQuad(bytes, offset);
  return readIpv6(bytes, offset);
}

/** `address/length`, as selectors spell their prefixes. */
export function readPrefix(bytes: Uint8Array, offset: number, family: Family, length: number): string {
  if (family === 'ipv4') return dottedQuad(bytes, offset, length);
  return `${readIpv6(bytes, offset)}/${length}`;
}

// Dotted quads are spelled into this buffer and made a string once: a template literal makes
// a string of every part and of every join (seven per address, eleven with a prefix), and a
// dump of 100k policies spells 400k addresses. The longest text is "255.255.255.255/255".
const quadText = Buffer.alloc(20);

/** Writes `value` (0 to 999) in decimal at `at`; returns the end. */
function writeDecimal(value: number, at: number): number {
  if (value >= 100) quadText[at++] = 0x30 + Math.floor(value / 100);
  if (value >= 10) quadText[at++] = 0x30 + (Math.floor(value / 10) % 10);
  quadText[at++] = 0x30 + (value % 10);
  return at;
}

/** The IPv4 address at `offset`, with `/prefixLength` when given (a u8). */
function dottedQuad(bytes: Uint8Array, offset: number, prefixLength?: number): string {
  let at = writeDecimal(bytes[offset]!, 0);
  for (let i = 1; i < 4; i++) {
    quadText[at++] = 0x2e; // '.'
    at = writeDecimal(bytes[offset + i]!, at);
  }
  if (prefixLength !== undefined) {
    quadText[at++] = 0x2f; // '/'
    at = writeDecimal(prefixLength, at);
  }
  return quadText.toString('latin1', 0, at);
}

function readIpv6(bytes: Uint8Array, offset: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[offset + i]! << 8) | bytes[offset + i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

// A context names the same endpoints over and over, and node's isIPv4/isIPv6 are regexes:
// remember the bytes of each spelling (4 for IPv4, 16 for IPv6).
const parsed = new Map<string, Uint8Array>();

/** Writes `address` (IPv4 or IPv6 text) at `offset`; the rest of the 16 bytes stays as it is (zero). */
export function writeAddress(bytes: Uint8Array, offset: number, address: string): void {
  // Dotted quads are read in place: a put of 100k policies names more distinct addresses than
  // the memo holds, and a miss (two regexes and a split) cost more than the rest of a message.
  if (writeDottedQuad(bytes, offset, address)) return;
  let known = parsed.get(address);
  if (known === undefined) {
    const scratch = new Uint8Array(16);
    known = isIPv4(address) ? scratch.subarray(0, 4) : scratch;
    parseAddress(known, address);
    if (parsed.size >= 65_536) parsed.clear();
    parsed.set(address, known);
  }
  bytes.set(known, offset);
}

/**
 * Writes `address` at `offset` if it is a dotted quad as node's isIPv4 accepts it (four
 * decimal parts of 0 to 255, no leading zeros) and says whether it was; anything else is left
 * to the general parser, which overwrites whatever was written here.
 */
function writeDottedQuad(bytes: Uint8Array, offset: number, address: string): boolean {
  let part = 0;
  let digits = 0;
  let index = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || index === 3) return false;
      bytes[offset + index++] = part;
      part = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39 || (digits > 0 && part === 0)) return false;
    part = part * 10 + (c - 0x30);
    if (part > 255) return false;
    digits++;
  }
  if (digits === 0 || index !== 3) return false;
  bytes[offset + 3] = part;
  return true;
}

function parseAddress(bytes: Uint8Array, address: string): void {
  const offset = 0;
  if (isIPv4(address)) {
    address.split('.').forEach((part, i) => (bytes[offset + i] = Number(part)));
    return;
  }
  if (!isIPv6(address)) throw new GatewayError('gateway.bad_address', `not an IP address: ${JSON.stringify(address)}`);
  let text = address;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...new Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[offset + 2 * i] = value >> 8;
    bytes[offset + 2 * i + 1] = value & 0xff;
  });
}
