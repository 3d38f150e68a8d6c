/**
 * Text forms of keys (docs/FORMAT.md §6). A gateway has one public string that serves both as
 * a recipient (-r) and as a trusted signer (--trust):
 *
 *   public:  "ipsecctx1" || base32(x25519 public ‖ ed25519 public ‖ checksum)            lower case
 *   secret:  "IPSECCTX-SECRET-1" || BASE32(x25519 secret ‖ ed25519 seed ‖ checksum)       upper case
 *
 * checksum = first 4 bytes of SHA-256(label ‖ key bytes), so a mistyped or truncated key is
 * caught before it is used. The case difference makes a pasted secret easy to spot.
 */
import { FormatError } from '../errors.js';
import { base32Decode, base32Encode } from './base32.js';
import { ed25519PrivateKey, rawPublicKey, x25519Base } from './curves.js';
import { constantTimeEqual, sha256 } from './kdf.js';
import { LABEL_PUBLIC_KEY_CHECKSUM, LABEL_SECRET_KEY_CHECKSUM } from './labels.js';

export const PUBLIC_PREFIX = 'ipsecctx1';
export const SECRET_PREFIX = 'IPSECCTX-SECRET-1';
const CHECKSUM_BYTES = 4;

export interface PublicKey {
  readonly x25519: Uint8Array;
  readonly ed25519: Uint8Array;
}

export interface Identity {
  readonly publicKey: PublicKey;
  readonly x25519Secret: Uint8Array;
  /** tweetnacl's 64-byte Ed25519 secret key (seed ‖ public key). */
  readonly ed25519Secret: Uint8Array;
}

function checksum(label: string, body: Uint8Array): Uint8Array {
  return sha256(new TextEncoder().encode(label), body).subarray(0, CHECKSUM_BYTES);
}

function withChecksum(label: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + CHECKSUM_BYTES);
  out.set(body);
  out.set(checksum(label, body), body.byteLength);
  return out;
}

/** The 64 key bytes behind a text key, or undefined when the text or its checksum is wrong. */
function decodeKeyText(text: string, prefix: string, label: string): Uint8Array | undefined {
  if (!text.startsWith(prefix)) return undefined;
  const raw = base32Decode(text.slice(prefix.length));
  if (!raw || raw.byteLength !== 64 + CHECKSUM_BYTES) return undefined;
  const body = raw.subarray(0, 64);
  return constantTimeEqual(raw.subarray(64), checksum(label, body)) ? body : undefined;
}

export function encodePublicKey(key: PublicKey): string {
  const body = new Uint8Array(64);
  body.set(key.x25519, 0);
  body.set(key.ed25519, 32);
  return PUBLIC_PREFIX + base32Encode(withChecksum(LABEL_PUBLIC_KEY_CHECKSUM, body));
}

export function publicKeyFromBytes(body: Uint8Array): PublicKey {
  return { x25519: body.slice(0, 32), ed25519: body.slice(32, 64) };
}

export function publicKeyBytes(key: PublicKey): Uint8Array {
  const body = new Uint8Array(64);
  body.set(key.x25519, 0);
  body.set(key.ed25519, 32);
  return body;
}

/** @throws FormatError `key.invalid_public` (never echoes the text when it looks secret) */
export function parsePublicKey(text: string): PublicKey {
  const trimmed = text.trim();
  if (looksSecret(trimmed)) {
    throw new FormatError('key.secret_as_public', 'a secret key was given where a public key belongs', {
      hint: 'pass the public key that `ipsec-ctx keygen` printed, never the identity file contents',
    });
  }
  const body = decodeKeyText(trimmed, PUBLIC_PREFIX, LABEL_PUBLIC_KEY_CHECKSUM);
  if (!body) {
    // Echo the text only when it is plainly meant as one of our public keys: anything else
    // might be a secret pasted into the wrong place.
    const what = trimmed.startsWith(PUBLIC_PREFIX) ? `${shorten(trimmed)} (bad length or checksum)` : `it does not start with ${PUBLIC_PREFIX}`;
    throw new FormatError('key.invalid_public', `not a valid ipsec-ctx public key: ${what}`, {
      hint: 'copy the whole line that `ipsec-ctx keygen` printed',
    });
  }
  return publicKeyFromBytes(body);
}

export function looksSecret(text: string): boolean {
  return text.toUpperCase().startsWith(SECRET_PREFIX);
}

export function encodeSecretKey(identity: Identity): string {
  const body = new Uint8Array(64);
  body.set(identity.x25519Secret, 0);
  body.set(identity.ed25519Secret.subarray(0, 32), 32);
  return SECRET_PREFIX + base32Encode(withChecksum(LABEL_SECRET_KEY_CHECKSUM, body)).toUpperCase();
}

/** @throws FormatError `key.invalid_secret`; the message never contains the text itself */
export function parseSecretKey(text: string): Identity {
  const body = decodeKeyText(text.trim(), SECRET_PREFIX, LABEL_SECRET_KEY_CHECKSUM);
  if (!body) throw new FormatError('key.invalid_secret', 'the identity holds a damaged secret key (bad encoding or checksum)');
  return identityFromSecrets(body.slice(0, 32), body.slice(32, 64));
}

export function identityFromSecrets(x25519Secret: Uint8Array, ed25519Seed: Uint8Array): Identity {
  const ed25519 = rawPublicKey(ed25519PrivateKey(ed25519Seed));
  const ed25519Secret = new Uint8Array(64);
  ed25519Secret.set(ed25519Seed, 0);
  ed25519Secret.set(ed25519, 32);
  return { publicKey: { x25519: x25519Base(x25519Secret), ed25519 }, x25519Secret, ed25519Secret };
}

export function generateIdentity(random: (n: number) => Uint8Array): Identity {
  return identityFromSecrets(random(32), random(32));
}

export function samePublicKey(a: PublicKey, b: PublicKey): boolean {
  return constantTimeEqual(a.x25519, b.x25519) && constantTimeEqual(a.ed25519, b.ed25519);
}

/** A short, non-secret handle for messages: the first characters of the public text. */
export function fingerprint(key: PublicKey): string {
  const text = encodePublicKey(key);
  return `${text.slice(0, PUBLIC_PREFIX.length + 12)}…`;
}

function shorten(text: string): string {
  return text.length > 24 ? `${text.slice(0, 20)}…` : text;
}
