/**
 * The X25519 recipient stanza (docs/FORMAT.md §5.3), after age's X25519 recipient type:
 *
 *   share    = X25519(ephemeral secret, basepoint)                      32 bytes
 *   shared   = X25519(ephemeral secret, recipient public key)
 *   wrap key = HKDF-SHA-256(ikm = shared, salt = share ‖ recipient public, info = LABEL, 32)
 *   wrapped  = XSalsa20-Poly1305(wrap key, nonce = 24 zero bytes, file key)   48 bytes
 *   body     = share ‖ wrapped                                           80 bytes
 *
 * The all-zero nonce is safe because every wrap key is used once: the ephemeral secret is new
 * for every stanza.
 */
import nacl from 'tweetnacl';
import { AuthError, FormatError } from '../errors.js';
import { x25519, x25519Base } from './curves.js';
import { hkdf, wipe } from './kdf.js';
import type { Identity, PublicKey } from './key-text.js';
import { LABEL_RECIPIENT_X25519 } from './labels.js';
import type { Random } from './random.js';

export const STANZA_TYPE_X25519 = 'X25519';
export const FILE_KEY_BYTES = 32;
const SHARE_BYTES = 32;
const WRAPPED_BYTES = FILE_KEY_BYTES + nacl.secretbox.overheadLength;
export const X25519_BODY_BYTES = SHARE_BYTES + WRAPPED_BYTES;
const ZERO_NONCE = new Uint8Array(nacl.secretbox.nonceLength);

function wrapKey(shared: Uint8Array, share: Uint8Array, recipient: Uint8Array): Uint8Array {
  const salt = new Uint8Array(SHARE_BYTES * 2);
  salt.set(share, 0);
  salt.set(recipient, SHARE_BYTES);
  return hkdf(shared, salt, LABEL_RECIPIENT_X25519, 32);
}

/** @throws FormatError `key.invalid_public` for a recipient key of low order */
export function wrapFileKey(fileKey: Uint8Array, recipient: PublicKey, random: Random): Uint8Array {
  const ephemeral = random(32);
  const share = x25519Base(ephemeral);
  const shared = x25519(ephemeral, recipient.x25519);
  // A recipient key of low order would give every blob the same wrap key: refuse it.
  if (!shared) throw new FormatError('key.invalid_public', 'a recipient\'s public key has an X25519 part of low order, which no real key has');
  const key = wrapKey(shared, share, recipient.x25519);
  const body = new Uint8Array(X25519_BODY_BYTES);
  body.set(share, 0);
  body.set(nacl.secretbox(fileKey, ZERO_NONCE, key), SHARE_BYTES);
  wipe(ephemeral, shared, key);
  return body;
}

/**
 * The file key if this stanza was made for `identity`, undefined if it was made for someone else.
 * @throws AuthError `auth.stanza` when the body has the wrong length or a low-order share
 */
export function unwrapFileKey(body: Uint8Array, identity: Identity): Uint8Array | undefined {
  // Demand the exact size before opening anything (age does the same against multi-key attacks).
  if (body.byteLength !== X25519_BODY_BYTES) throw new AuthError('auth.stanza', `X25519 stanza has ${body.byteLength} bytes, not ${X25519_BODY_BYTES}`);
  const share = body.subarray(0, SHARE_BYTES);
  const shared = x25519(identity.x25519Secret, share);
  if (!shared) throw new AuthError('auth.stanza', 'X25519 stanza has a low-order share');
  const key = wrapKey(shared, share, identity.publicKey.x25519);
  const fileKey = nacl.secretbox.open(body.subarray(SHARE_BYTES), ZERO_NONCE, key);
  wipe(shared, key);
  return fileKey ?? undefined;
}
