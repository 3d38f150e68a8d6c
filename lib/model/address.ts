/**
 * IP addresses and prefixes in the model are text, in one canonical spelling per address
 * (dotted quad for IPv4, RFC 5952 for IPv6), so that two contexts naming the same endpoint
 * compare equal as strings. Anything else is rejected with the canonical spelling as a hint.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 'ipv4' | 'ipv6';

export const FAMILY_BITS: Readonly<Record<Family, number>> = { ipv4: 32, ipv6: 128 };

interface KnownAddress {
  family: Family;
  canonical: string;
}

/**
 * A memo of a pure function of short strings: a context names the same endpoints and prefixes
 * over and over, and node's address regexes are slow. Memory stays bounded whatever the input:
 * longer text (never an address or prefix, which take at most 49 characters) is not kept, and
 * the memo is cleared when full.
 */
class Memo<T> {
  private readonly answers = new Map<string, T>();

  constructor(private readonly compute: (text: string) => T) {}

  get(text: string): T {
    if (text.length > 64) return this.compute(text);
    let answer = this.answers.get(text);
    if (answer === undefined) {
      answer = this.compute(text);
      if (this.answers.size >= 65_536) this.answers.clear();
      this.answers.set(text, answer);
    }
    return answer;
  }
}

// null: not an address
const addresses = new Memo<KnownAddress | null>(classify);

function classify(address: string): KnownAddress | null {
  if (isIPv4(address)) return { family: 'ipv4', canonical: address.split('.').map(Number).join('.') };
  // WHATWG URL serialises IPv6 hosts in RFC 5952 form (lower case, longest zero run compressed).
  // It refuses what isIPv6 lets through but an address field cannot hold: a zone (fe80::1%eth0).
  if (isIPv6(address) && URL.canParse(`http://[${address}]/`)) return { family: 'ipv6', canonical: new URL(`http://[${address}]/`).hostname.slice(1, -1) };
  return null;
}

/**
 * Whether `text` is a dotted quad as node's isIPv4 accepts it: four decimal numbers from 0 to
 * 255 without leading zeros, which is also its canonical spelling. Most addresses in a
 * context are, and this answers for them without a memo lookup.
 */
function isDottedQuad(text: string): boolean {
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : DOT;
    if (code === DOT) {
      if (digits === 0 || value > 255 || ++parts > 4) return false;
      value = 0;
      digits = 0;
    } else if (code >= ZERO && code <= ZERO + 9 && digits < 3 && !(digits === 1 && value === 0)) {
      value = value * 10 + (code - ZERO);
      digits++;
    } else {
      return false;
    }
  }
  return parts === 4;
}

const DOT = 0x2e;
const ZERO = 0x30;

export function familyOf(address: string): Family | undefined {
  return isDottedQuad(address) ? 'ipv4' : addresses.get(address)?.family;
}

/** The canonical spelling, or undefined when `address` is not an IP address at all. */
export function canonicalAddress(address: string): string | undefined {
  return isDottedQuad(address) ? address : addresses.get(address)?.canonical;
}

export interface Prefix {
  readonly address: string;
  readonly length: number;
  readonly family: Family;
}

// null: not a prefix
const prefixes = new Memo<Prefix | null>(readPrefix);

/** `address/length`, or a bare address (a host prefix); undefined when `text` is neither. */
export function parsePrefix(text: string): Prefix | undefined {
  return prefixes.get(text) ?? undefined;
}

function readPrefix(text: string): Prefix | null {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = familyOf(address);
  if (!family) return null;
  const lengthText = slash < 0 ? String(FAMILY_BITS[family]) : text.slice(slash + 1);
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(lengthText)) return null;
  return Object.freeze({ address, length: Number(lengthText), family });
}
