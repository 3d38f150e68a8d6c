/**
 * The chunked payload (docs/FORMAT.md §5.4), STREAM-style (Hoang, Reyhanitabar, Rogaway,
 * Vizár, "Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", 2015):
 * plaintext in chunks of CHUNK_BYTES (the last one 1..CHUNK_BYTES), each sealed with
 * XSalsa20-Poly1305 under the payload key and nonce = 15 zero bytes ‖ chunk counter (u64 BE) ‖
 * last-chunk flag. A reordered, dropped, duplicated or truncated chunk fails to open.
 *
 * The payload key is fresh per blob (derived from a random file key and the blob id), so
 * counting nonces from zero never repeats a (key, nonce) pair.
 */
import nacl from 'tweetnacl';
import { AuthError, FormatError } from '../errors.js';

export const CHUNK_BYTES = 64 * 1024;
export const TAG_BYTES = nacl.secretbox.overheadLength;
const SEALED_CHUNK_BYTES = CHUNK_BYTES + TAG_BYTES;

function chunkNonce(counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(nacl.secretbox.nonceLength);
  new DataView(nonce.buffer).setBigUint64(15, BigInt(counter), false);
  nonce[23] = last ? 1 : 0;
  return nonce;
}

export function sealedPayloadSize(plaintextBytes: number): number {
  const chunks = Math.max(1, Math.ceil(plaintextBytes / CHUNK_BYTES));
  return plaintextBytes + chunks * TAG_BYTES;
}

/** Chunk `counter` of a payload, sealed. */
export function sealChunk(plaintext: Uint8Array, counter: number, last: boolean, key: Uint8Array): Uint8Array {
  return nacl.secretbox(plaintext, chunkNonce(counter, last), key);
}

export function sealPayload(plaintext: Uint8Array, key: Uint8Array): Uint8Array {
  if (plaintext.byteLength === 0) throw new RangeError('the payload must not be empty');
  const out = new Uint8Array(sealedPayloadSize(plaintext.byteLength));
  let offset = 0;
  for (let counter = 0, start = 0; start < plaintext.byteLength; counter++, start += CHUNK_BYTES) {
    const end = Math.min(start + CHUNK_BYTES, plaintext.byteLength);
    const sealed = sealChunk(plaintext.subarray(start, end), counter, end === plaintext.byteLength, key);
    out.set(sealed, offset);
    offset += sealed.byteLength;
  }
  return out;
}

/**
 * @throws FormatError `format.payload` when the sizes cannot be a payload,
 *         AuthError `auth.payload` when a chunk does not authenticate
 */
export function openPayload(sealed: Uint8Array, key: Uint8Array): Uint8Array {
  const fullChunks = Math.floor(sealed.byteLength / SEALED_CHUNK_BYTES);
  const rest = sealed.byteLength % SEALED_CHUNK_BYTES;
  // A final chunk carries at least one byte; when the rest is 0, the last full chunk is final.
  if (rest !== 0 && rest <= TAG_BYTES) throw new FormatError('format.payload', 'payload ends in an empty or partial chunk');
  const chunks = fullChunks + (rest === 0 ? 0 : 1);
  if (chunks === 0) throw new FormatError('format.payload', 'payload is empty');
  const out = new Uint8Array(sealed.byteLength - chunks * TAG_BYTES);
  for (let counter = 0, offset = 0, written = 0; counter < chunks; counter++) {
    const last = counter === chunks - 1;
    const size = last && rest !== 0 ? rest : SEALED_CHUNK_BYTES;
    const opened = nacl.secretbox.open(sealed.subarray(offset, offset + size), chunkNonce(counter, last), key);
    if (!opened) throw new AuthError('auth.payload', `payload chunk ${counter} does not authenticate`);
    out.set(opened, written);
    written += opened.byteLength;
    offset += size;
  }
  return out;
}
