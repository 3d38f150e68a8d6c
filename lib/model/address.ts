/**
 * IP addresses and prefixes in the model are text, in one canonical spelling per address
 * (dotted quad for IPv4, RFC 5952 for IPv6), so that two contexts naming the same endpoint
 * compare equal as strings. Anything else is rejected with the canonical spelling as a hint.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 'ipv4' | 'ipv6';

export const FAMILY_BITS: Readonly<Record<Family, number>> = { ipv4: 32, ipv6: 128 };

export function familyOf(address: string): Family | undefined {
  if (isIPv4(address)) return 'ipv4';
  if (isIPv6(address)) return 'ipv6';
  return undefined;
}

// A context names the same few endpoints over and over; remember the answers.
const canonicalCache = new Map<string, string | undefined>();

/** The canonical spelling, or undefined when `address` is not an IP address at all. */
export function canonicalAddress(address: string): string | undefined {
  if (canonicalCache.has(address)) return canonicalCache.get(address);
  const canonical = spellCanonically(address);
  if (canonicalCache.size >= 65_536) canonicalCache.clear();
  canonicalCache.set(address, canonical);
  return canonical;
}

function spellCanonically(address: string): string | undefined {
  const family = familyOf(address);
  if (family === 'ipv4') {
    const parts = address.split('.').map((part) => Number(part));
    return parts.join('.');
  }
  if (family === 'ipv6') {
    // WHATWG URL serialises IPv6 hosts in RFC 5952 form (lower case, longest zero run compressed).
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  }
  return undefined;
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
