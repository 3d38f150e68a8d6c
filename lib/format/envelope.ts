/**
 * Sealing and opening a blob (docs/FORMAT.md §5):
 *
 *   blob = preamble ‖ header ‖ header MAC (32) ‖ payload ‖ signature (64)
 *
 * Opening checks in this order, so that each failure gets its own error and nothing
 * unauthenticated is ever decrypted or parsed: structure and sizes (FormatError), trusted
 * signer and signature (AuthError), expiry (StaleError), then recipient, header MAC, payload,
 * and finally CBOR and the model (FormatError/SchemaError).
 */
import { AuthError, FormatError, StaleError } from '../errors.js';
import { constantTimeEqual, hkdf, hmacSha256, sha512, wipe } from '../crypto/kdf.js';
import { type Identity, type PublicKey, fingerprint, publicKeyBytes, publicKeyFromBytes, samePublicKey } from '../crypto/key-text.js';
import { signDetached, verifyDetached } from '../crypto/signer.js';
import { LABEL_HEADER_MAC, LABEL_PAYLOAD, LABEL_SIGNATURE } from '../crypto/labels.js';
import type { Random } from '../crypto/random.js';
import { FILE_KEY_BYTES, STANZA_TYPE_X25519, unwrapFileKey, wrapFileKey } from '../crypto/x25519-recipient.js';
import type { Context } from '../model/context.js';
import { parseContext } from '../model/validate.js';
import { keyLabels } from './cbor-labels.js';
import { encodeCanonical } from './cbor-encode.js';
import { decodeCanonical } from './cbor-decode.js';
import { PAYLOAD_LABELS } from './payload-labels.js';
import { type Header, encodePreambleAndHeader, parseHeader } from './header.js';
import { encodeAndSealInParallel } from './parallel-seal.js';
import { openPayload, sealPayload } from './stream.js';

export const MAC_BYTES = 32;
export const SIGNATURE_BYTES = 64;
const SIGNATURE_PREFIX = new TextEncoder().encode(`${LABEL_SIGNATURE}\u0000`);

export interface SealOptions {
  context: Context;
  recipients: readonly PublicKey[];
  signer: Identity;
  /** The label shown to receivers before decryption; defaults to the context's source. */
  source?: string;
  createdMs: number;
  expiresMs: number;
  random: Random;
}

export function headerMacKey(fileKey: Uint8Array, id: Uint8Array): Uint8Array {
  return hkdf(fileKey, id, LABEL_HEADER_MAC, 32);
}

export function payloadKey(fileKey: Uint8Array, id: Uint8Array): Uint8Array {
  return hkdf(fileKey, id, LABEL_PAYLOAD, 32);
}

export function signedMessage(signedBytes: Uint8Array): Uint8Array {
  const digest = sha512(signedBytes);
  const message = new Uint8Array(SIGNATURE_PREFIX.byteLength + digest.byteLength);
  message.set(SIGNATURE_PREFIX, 0);
  message.set(digest, SIGNATURE_PREFIX.byteLength);
  return message;
}

const PAYLOAD = keyLabels(PAYLOAD_LABELS);

/** The context as blob payload plaintext: deterministic CBOR of the runtime form, labelled keys. */
export function encodeContextPayload(context: Context): Uint8Array {
  return encodeCanonical(context, PAYLOAD);
}

export function seal(options: SealOptions): Uint8Array {
  if (options.recipients.length === 0) throw new RangeError('a blob needs at least one recipient');
  const plaintext = encodeContextPayload(options.context);
  const fileKey = options.random(FILE_KEY_BYTES);
  const id = options.random(16);
  const key = payloadKey(fileKey, id);
  const payload = sealPayload(plaintext, key);
  wipe(key);
  return assemble(options, fileKey, id, payload);
}

/**
 * Contexts with at least this many records are encoded and encrypted on two threads. Below
 * it, starting the worker (about 100 ms here) costs more than the overlap saves.
 */
export const PARALLEL_SEAL_RECORDS = 50_000;

/**
 * The same blob as `seal` (byte for byte, given the same randomness), produced faster for
 * large contexts by encrypting each payload chunk on a worker thread while the next one is
 * being encoded.
 */
export async function sealLarge(options: SealOptions, parallelFromRecords = PARALLEL_SEAL_RECORDS): Promise<Uint8Array> {
  const { ikeSas, childSas, policies } = options.context;
  if (ikeSas.length + childSas.length + policies.length < parallelFromRecords) return seal(options);
  if (options.recipients.length === 0) throw new RangeError('a blob needs at least one recipient');
  const fileKey = options.random(FILE_KEY_BYTES);
  const id = options.random(16);
  const key = payloadKey(fileKey, id);
  try {
    const { payload } = await encodeAndSealInParallel(options.context, PAYLOAD, key);
    return assemble(options, fileKey, id, payload);
  } finally {
    wipe(key);
  }
}

/** Header, MAC and signature around a sealed payload; wipes the file key. */
function assemble(options: SealOptions, fileKey: Uint8Array, id: Uint8Array, payload: Uint8Array): Uint8Array {
  const header: Header = {
    id,
    created: options.createdMs,
    expires: options.expiresMs,
    source: options.source ?? options.context.provenance.source,
    signer: publicKeyBytes(options.signer.publicKey),
    recipients: options.recipients.map((recipient) => ({ type: STANZA_TYPE_X25519, body: wrapFileKey(fileKey, recipient, options.random) })),
    counts: {
      ikeSas: options.context.ikeSas.length,
      childSas: options.context.childSas.length,
      policies: options.context.policies.length,
    },
    payloadSize: payload.byteLength,
  };
  const headerBytes = encodePreambleAndHeader(header);
  const macKey = headerMacKey(fileKey, id);
  const mac = hmacSha256(macKey, headerBytes);
  wipe(fileKey, macKey);

  const signedLength = headerBytes.byteLength + MAC_BYTES + payload.byteLength;
  const blob = new Uint8Array(signedLength + SIGNATURE_BYTES);
  blob.set(headerBytes, 0);
  blob.set(mac, headerBytes.byteLength);
  blob.set(payload, headerBytes.byteLength + MAC_BYTES);
  const signature = signDetached(signedMessage(blob.subarray(0, signedLength)), options.signer.ed25519Secret);
  blob.set(signature, signedLength);
  return blob;
}

export interface ParsedBlob {
  header: Header;
  signer: PublicKey;
  headerBytes: Uint8Array;
  mac: Uint8Array;
  payload: Uint8Array;
  /** Everything the signature covers. */
  signed: Uint8Array;
  signature: Uint8Array;
}

/** Structure only: nothing here is authenticated yet. @throws FormatError */
export function parseBlob(blob: Uint8Array): ParsedBlob {
  const { header, headerBytes } = parseHeader(blob);
  const signedLength = headerBytes.byteLength + MAC_BYTES + header.payloadSize;
  const total = signedLength + SIGNATURE_BYTES;
  if (blob.byteLength < total) throw new FormatError('format.truncated', `blob is truncated: ${blob.byteLength} of ${total} bytes`);
  if (blob.byteLength > total) throw new FormatError('format.trailing_data', `blob has ${blob.byteLength - total} unexpected bytes after the signature`);
  const macStart = headerBytes.byteLength;
  return {
    header,
    signer: publicKeyFromBytes(header.signer),
    headerBytes,
    mac: blob.subarray(macStart, macStart + MAC_BYTES),
    payload: blob.subarray(macStart + MAC_BYTES, signedLength),
    signed: blob.subarray(0, signedLength),
    signature: blob.subarray(signedLength),
  };
}

export type Trust = { readonly signers: readonly PublicKey[] } | { readonly any: true };

/**
 * Checks the signer against `trust`, then the signature. A signature by an untrusted key is
 * reported as untrusted without checking it: either way the blob is refused.
 * @throws AuthError `auth.untrusted_signer` or `auth.bad_signature`
 */
export function verifyBlob(parsed: ParsedBlob, trust: Trust): void {
  if (!('any' in trust) && !trust.signers.some((signer) => samePublicKey(signer, parsed.signer))) {
    throw new AuthError('auth.untrusted_signer', `blob signed by ${parsed.header.source} (${fingerprint(parsed.signer)}), which is not trusted`, {
      hint: 'pass that gateway\'s public key with --trust or --trust-file, after checking it out of band',
    });
  }
  if (!verifyDetached(signedMessage(parsed.signed), parsed.signature, parsed.signer.ed25519)) {
    throw new AuthError('auth.bad_signature', `blob signature does not verify: the blob was altered or is damaged`);
  }
}

/** @throws StaleError `stale.expired` */
export function checkExpiry(header: Header, nowMs: number): void {
  if (nowMs > header.expires) {
    const ago = Math.round((nowMs - header.expires) / 1000);
    throw new StaleError('stale.expired', `blob from ${header.source} expired ${ago}s ago`, {
      hint: 'take a fresh one with `ipsec-ctx get`, or a longer --expires',
    });
  }
}

/**
 * Finds the file key, checks the header MAC and decrypts the payload.
 * @throws AuthError `auth.no_matching_recipient`, `auth.header_mac`, `auth.payload`, `auth.stanza`
 */
export function decryptBlob(parsed: ParsedBlob, identities: readonly Identity[]): Uint8Array {
  let fileKey: Uint8Array | undefined;
  for (const stanza of parsed.header.recipients) {
    if (stanza.type !== STANZA_TYPE_X25519) continue;
    for (const identity of identities) {
      fileKey = unwrapFileKey(stanza.body, identity);
      if (fileKey) break;
    }
    if (fileKey) break;
  }
  if (!fileKey) {
    throw new AuthError('auth.no_matching_recipient', 'this blob is not encrypted to the given identity', {
      hint: `it has ${parsed.header.recipients.length} recipient(s); the sender must add yours with -r`,
    });
  }
  const macKey = headerMacKey(fileKey, parsed.header.id);
  const key = payloadKey(fileKey, parsed.header.id);
  wipe(fileKey);
  const macOk = constantTimeEqual(hmacSha256(macKey, parsed.headerBytes), parsed.mac);
  wipe(macKey);
  if (!macOk) {
    wipe(key);
    throw new AuthError('auth.header_mac', 'blob header MAC does not match the file key');
  }
  try {
    return openPayload(parsed.payload, key);
  } finally {
    wipe(key);
  }
}

/** @throws FormatError, SchemaError */
export function decodeContextPayload(plaintext: Uint8Array, header: Header): Context {
  const context = parseContext(decodeCanonical(plaintext, 'blob payload', PAYLOAD));
  const { counts } = header;
  if (counts.ikeSas !== context.ikeSas.length || counts.childSas !== context.childSas.length || counts.policies !== context.policies.length) {
    throw new FormatError('format.count_mismatch', 'blob header counts do not match its payload');
  }
  return context;
}

export interface OpenOptions {
  identities: readonly Identity[];
  trust: Trust;
  nowMs: number;
}

export interface OpenedBlob {
  header: Header;
  signer: PublicKey;
  context: Context;
}

/** All checks of `put` and `inspect -i`, in order. */
export function openBlob(blob: Uint8Array, options: OpenOptions): OpenedBlob {
  const parsed = parseBlob(blob);
  verifyBlob(parsed, options.trust);
  checkExpiry(parsed.header, options.nowMs);
  const plaintext = decryptBlob(parsed, options.identities);
  return { header: parsed.header, signer: parsed.signer, context: decodeContextPayload(plaintext, parsed.header) };
}
