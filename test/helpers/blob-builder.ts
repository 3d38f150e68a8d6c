/**
 * Builds blobs step by step, like `seal()`, with a hook at each step so test vectors can be
 * wrong in exactly one way while everything after that step is still correct (a bad MAC
 * under a valid signature, a non-canonical payload that decrypts fine, ...). Built only from
 * the envelope's own exported pieces, so it cannot drift from the real format.
 */
import nacl from 'tweetnacl';
import { signDetached } from '../../lib/crypto/signer.js';
import { hmacSha256 } from '../../lib/crypto/kdf.js';
import { type Identity, type PublicKey, publicKeyBytes } from '../../lib/crypto/key-text.js';
import type { Random } from '../../lib/crypto/random.js';
import { STANZA_TYPE_X25519, wrapFileKey } from '../../lib/crypto/x25519-recipient.js';
import { encodeCanonical } from '../../lib/format/cbor-encode.js';
import { encodeContextPayload, headerMacKey, payloadKey, signedMessage } from '../../lib/format/envelope.js';
import { type Header, FORMAT_VERSION, MAGIC, PREAMBLE_BYTES } from '../../lib/format/header.js';
import { CHUNK_BYTES, sealPayload } from '../../lib/format/stream.js';
import type { Context } from '../../lib/model/context.js';

export interface BuildOptions {
  context: Context;
  recipients: readonly PublicKey[];
  signer: Identity;
  createdMs: number;
  expiresMs: number;
  random: Random;
  /** Replaces the payload plaintext (CBOR of the context). */
  plaintext?: (plaintext: Uint8Array) => Uint8Array;
  /** Seals the payload differently (receives plaintext and payload key). */
  sealPayload?: (plaintext: Uint8Array, key: Uint8Array) => Uint8Array;
  /** Edits the header before it is encoded. */
  header?: (header: Record<string, unknown>) => Record<string, unknown>;
  /** Encodes the header body differently. */
  encodeHeader?: (header: Record<string, unknown>) => Uint8Array;
  version?: number;
  mac?: (mac: Uint8Array) => Uint8Array;
  /** Signs with this identity instead of the signer named in the header. */
  signWith?: Identity;
}

export function buildBlob(options: BuildOptions): Uint8Array {
  const plaintext = (options.plaintext ?? ((p) => p))(encodeContextPayload(options.context));
  const fileKey = options.random(32);
  const id = options.random(16);
  const key = payloadKey(fileKey, id);
  const payload = (options.sealPayload ?? sealPayload)(plaintext, key);
  const baseHeader: Header = {
    id,
    created: options.createdMs,
    expires: options.expiresMs,
    source: options.context.provenance.source,
    signer: publicKeyBytes(options.signer.publicKey),
    recipients: options.recipients.map((r) => ({ type: STANZA_TYPE_X25519, body: wrapFileKey(fileKey, r, options.random) })),
    counts: { ikeSas: options.context.ikeSas.length, childSas: options.context.childSas.length, policies: options.context.policies.length },
    payloadSize: payload.byteLength,
  };
  const header = (options.header ?? ((h) => h))({ ...baseHeader });
  const body = (options.encodeHeader ?? encodeCanonical)(header);
  const headerBytes = new Uint8Array(PREAMBLE_BYTES + body.byteLength);
  headerBytes.set(MAGIC, 0);
  headerBytes[MAGIC.byteLength] = options.version ?? FORMAT_VERSION;
  new DataView(headerBytes.buffer).setUint32(MAGIC.byteLength + 1, body.byteLength, false);
  headerBytes.set(body, PREAMBLE_BYTES);
  const mac = (options.mac ?? ((m) => m))(hmacSha256(headerMacKey(fileKey, id), headerBytes));
  const signed = Buffer.concat([headerBytes, mac, payload]);
  const signature = signDetached(signedMessage(signed), (options.signWith ?? options.signer).ed25519Secret);
  return new Uint8Array(Buffer.concat([signed, signature]));
}

/** Seals chunks like the real stream, but lets the caller break the STREAM rules. */
export function sealChunks(plaintext: Uint8Array, key: Uint8Array, plan: (chunks: { data: Uint8Array; last: boolean }[]) => { data: Uint8Array; counter: number; last: boolean }[]): Uint8Array {
  const chunks: { data: Uint8Array; last: boolean }[] = [];
  for (let start = 0; start < plaintext.byteLength; start += CHUNK_BYTES) {
    const end = Math.min(start + CHUNK_BYTES, plaintext.byteLength);
    chunks.push({ data: plaintext.subarray(start, end), last: end === plaintext.byteLength });
  }
  const sealed = plan(chunks).map(({ data, counter, last }) => {
    const nonce = new Uint8Array(24);
    new DataView(nonce.buffer).setBigUint64(15, BigInt(counter), false);
    nonce[23] = last ? 1 : 0;
    return nacl.secretbox(data, nonce, key);
  });
  return new Uint8Array(Buffer.concat(sealed));
}
