/**
 * IKE identities (RFC 7296 §3.5) as strongSwan prints them (`swanctl --list-sas`), which is
 * how the model spells `localIdentity`/`remoteIdentity`: addresses, FQDNs and e-mail
 * addresses as text, distinguished names as "C=CH, O=Org, CN=host", anything else as hex.
 *
 * Only addresses, FQDNs, e-mail addresses and %any can be turned back from that text into the
 * bytes the peer sent. For every other identity, get records its exact encoding beside the
 * text (`identityEncodings` in the model) and put sends that encoding.
 */
import { GatewayError } from '../../errors.js';
import type { IdentityEncoding, IkeSa } from '../../model/ike-sa.js';
import type { HaIdentity } from './encodings.js';
import { formatAddress, parseAddress } from './encodings.js';

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

/**
 * An identity's text back to its IKE form, for the forms whose text is exact: addresses,
 * e-mail addresses, FQDNs, %any. Undefined for anything else.
 */
export function parseIdentity(text: string): HaIdentity | undefined {
  if (text === '%any') return { type: ID_TYPE.any, data: new Uint8Array(0) };
  try {
    const raw = parseAddress(text);
    return { type: raw.length === 4 ? ID_TYPE.ipv4 : ID_TYPE.ipv6, data: raw };
  } catch {
    // not an address
  }
  if (/^[^\s@=,]+@[^\s@=,]+$/.test(text)) return { type: ID_TYPE.rfc822, data: new TextEncoder().encode(text) };
  if (/^[A-Za-z0-9.-]+$/.test(text)) return { type: ID_TYPE.fqdn, data: new TextEncoder().encode(text) };
  return undefined;
}

const sameIdentity = (a: HaIdentity, b: HaIdentity) => a.type === b.type && Buffer.from(a.data).equals(Buffer.from(b.data));

/** The encoding to record beside `formatIdentity(id)`: none when the text alone gives `id` back. */
function encodingOf(id: HaIdentity | undefined): IdentityEncoding | undefined {
  if (id === undefined) return undefined;
  const fromText = parseIdentity(formatIdentity(id));
  return fromText && sameIdentity(fromText, id) ? undefined : { type: id.type, data: id.data };
}

/** `identityEncodings` of a model IKE SA for the identities charon synced: present only when needed. */
export function identityEncodingsOf(ids: { local?: HaIdentity; remote?: HaIdentity; remoteEap?: HaIdentity }): Pick<IkeSa, 'identityEncodings'> {
  const local = encodingOf(ids.local);
  const remote = encodingOf(ids.remote);
  const remoteEap = encodingOf(ids.remoteEap);
  if (!local && !remote && !remoteEap) return {};
  return { identityEncodings: { ...(local ? { local } : {}), ...(remote ? { remote } : {}), ...(remoteEap ? { remoteEap } : {}) } };
}

/**
 * The identity to send to charon for a model identity: its recorded encoding, which must print
 * as the text beside it (a hand-edited text with a stale encoding would otherwise install an
 * identity nobody asked for), or else the text itself.
 * @throws GatewayError `strongswan.identity_mismatch`, `strongswan.unsupported_identity`
 */
export function identityToIke(text: string, encoding: IdentityEncoding | undefined, where: string): HaIdentity {
  if (encoding) {
    const id = { type: encoding.type, data: encoding.data };
    const printed = formatIdentity(id);
    if (printed !== text) {
      throw new GatewayError('strongswan.identity_mismatch', `${where}: the text ${JSON.stringify(text)} does not match its encoding, which reads ${JSON.stringify(printed)}`, {
        hint: 'correct the text or remove the encoding from identityEncodings',
      });
    }
    return id;
  }
  const id = parseIdentity(text);
  if (id) return id;
  throw new GatewayError('strongswan.unsupported_identity', `${where}: ${JSON.stringify(text)} is not an address, FQDN or e-mail address, and the context has no encoding for it`, {
    hint: 'distinguished names and key IDs move with the encoding that `ipsec-ctx get --from strongswan:` records in identityEncodings',
  });
}
