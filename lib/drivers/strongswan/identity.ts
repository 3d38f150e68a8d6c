/**
 * IKE identities (RFC 7296 §3.5) as strongSwan prints them (`swanctl --list-sas`), which is
 * how the model spells `localIdentity`/`remoteIdentity`: addresses, FQDNs and e-mail
 * addresses as text, distinguished names as "C=CH, O=Org, CN=host", anything else as hex.
 */
import type { HaIdentity } from './encodings.js';
import { formatAddress } from './encodings.js';

export const ID_TYPE = { any: 0, ipv4: 1, fqdn: 2, rfc822: 3, ipv6: 5, derAsn1Dn: 9, derAsn1Gn: 10, keyId: 11 } as const;

const OID_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'T',
  '2.5.4.42': 'G',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'E',
};

const printable = (data: Uint8Array) => data.length > 0 && data.every((b) => b >= 0x20 && b < 0x7f);
const hex = (data: Uint8Array) => Array.from(data, (b) => b.toString(16).padStart(2, '0')).join(':');

export function formatIdentity(id: HaIdentity): string {
  switch (id.type) {
    case ID_TYPE.any:
      return '%any';
    case ID_TYPE.ipv4:
    case ID_TYPE.ipv6:
      return id.data.length === 4 || id.data.length === 16 ? formatAddress(id.data) : hex(id.data);
    case ID_TYPE.fqdn:
    case ID_TYPE.rfc822:
      return Buffer.from(id.data).toString('utf8');
    case ID_TYPE.derAsn1Dn:
      return formatDn(id.data) ?? hex(id.data);
    case ID_TYPE.keyId:
      return printable(id.data) ? Buffer.from(id.data).toString('latin1') : hex(id.data);
    default:
      return hex(id.data);
  }
}

interface Tlv {
  tag: number;
  body: Uint8Array;
  next: number;
}

function readTlv(b: Uint8Array, at: number): Tlv | undefined {
  if (at + 2 > b.length) return undefined;
  const tag = b[at] as number;
  let length = b[at + 1] as number;
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3 || start + count > b.length) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | (b[start + i] as number);
    start += count;
  }
  if (start + length > b.length) return undefined;
  return { tag, body: b.subarray(start, start + length), next: start + length };
}

function formatOid(body: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of body) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

/** "C=CH, O=Org, CN=host" from a DER Name (RFC 5280 §4.1.2.4), or undefined if it does not parse. */
export function formatDn(der: Uint8Array): string | undefined {
  const name = readTlv(der, 0);
  if (!name || name.tag !== 0x30 || name.next !== der.length) return undefined;
  const parts: string[] = [];
  for (let at = 0; at < name.body.length; ) {
    const set = readTlv(name.body, at);
    if (!set || set.tag !== 0x31) return undefined;
    for (let inner = 0; inner < set.body.length; ) {
      const pair = readTlv(set.body, inner);
      if (!pair || pair.tag !== 0x30) return undefined;
      const oid = readTlv(pair.body, 0);
      const value = oid && readTlv(pair.body, oid.next);
      if (!oid || oid.tag !== 0x06 || !value) return undefined;
      const dotted = formatOid(oid.body);
      parts.push(`${OID_NAMES[dotted] ?? dotted}=${Buffer.from(value.body).toString('utf8')}`);
      inner = pair.next;
    }
    at = set.next;
  }
  return parts.join(', ');
}
