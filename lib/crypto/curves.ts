/**
 * X25519 (RFC 7748) and Ed25519 key derivation through node:crypto (OpenSSL). tweetnacl does
 * the same in JavaScript, where deriving an Ed25519 public key from its seed costs about 40 ms
 * in a fresh process (every CLI call that loads an identity) and one X25519 about 1 ms;
 * OpenSSL takes tens of microseconds. Keys stay raw 32-byte strings, as tweetnacl and the key
 * texts have them; the DER wrappers below are the fixed PKCS#8 and SPKI prefixes of RFC 8410.
 */
import { type KeyObject, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

const der = (prefix: Buffer, raw: Uint8Array) => Buffer.concat([prefix, raw]);

export function x25519PrivateKey(secret: Uint8Array): KeyObject {
  return createPrivateKey({ key: der(PKCS8_X25519, secret), format: 'der', type: 'pkcs8' });
}

export function x25519PublicKey(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: der(SPKI_X25519, publicKey), format: 'der', type: 'spki' });
}

export function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: der(PKCS8_ED25519, seed), format: 'der', type: 'pkcs8' });
}

export function ed25519PublicKey(publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: der(SPKI_ED25519, publicKey), format: 'der', type: 'spki' });
}

/** The raw 32-byte public key of a private KeyObject (the last bytes of its SPKI form). */
export function rawPublicKey(privateKey: KeyObject): Uint8Array {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.byteLength - 32));
}

/** X25519(secret, 9): the public key of an X25519 secret. */
export function x25519Base(secret: Uint8Array): Uint8Array {
  return rawPublicKey(x25519PrivateKey(secret));
}

/**
 * X25519(secret, publicKey), or undefined when the result is all zeros (a low-order public
 * key), which OpenSSL refuses to return and a caller must refuse anyway (RFC 7748 §6.1).
 */
export function x25519(secret: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined {
  try {
    return new Uint8Array(diffieHellman({ privateKey: x25519PrivateKey(secret), publicKey: x25519PublicKey(publicKey) }));
  } catch {
    return undefined;
  }
}
