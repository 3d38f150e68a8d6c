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

// A context names the same endpoints over and over, and node's address regexes are slow:
// remember each spelling's answer (null: not an address).
const known = new Map<string, KnownAddress | null>();

function lookup(address: string): KnownAddress | null {
  let answer = known.get(address);
  if (answer === undefined) {
    answer = classify(address);
    if (known.size >= 65_536) known.clear();
    known.set(address, answer);
  }
  return answer;
}

function classify(address: string): KnownAddress | null {
  if (isIPv4(address)) return { family: 'ipv4', canonical: address.split('.').map(Number).join('.') };
  // WHATWG URL serialises IPv6 hosts in RFC 5952 form (lower case, longest zero run compressed).
  if (isIPv6(address)) return { family: 'ipv6', canonical: new URL(`http://[${address}]/`).hostname.slice(1, -1) };
  return null;
}

export function familyOf(address: string): Family | undefined {
  return lookup(address)?.family;
}

/** The canonical spelling, or undefined when `address` is not an IP address at all. */
export function canonicalAddress(address: string): string | undefined {
  return lookup(address)?.canonical;
}

export interface Prefix {
  address: string;
  length: number;
  family: Family;
}

export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = familyOf(address);
  if (!family) return undefined;
  const lengthText = slash < 0 ? String(FAMILY_BITS[family]) : text.slice(slash + 1);
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(lengthText)) return undefined;
  return { address, length: Number(lengthText), family };
}
