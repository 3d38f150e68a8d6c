/**
 * The IKEv2 pseudorandom functions and prf+ (RFC 7296 §2.13), from node:crypto only:
 * HMAC (RFC 2104) with MD5, SHA-1 and SHA-2; AES-XCBC-PRF-128 (RFC 4434, on AES-XCBC-MAC of
 * RFC 3566) and AES-CMAC-PRF-128 (RFC 4615, on AES-CMAC of RFC 4493).
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { GatewayError } from '../../errors.js';

export type Prf = (key: Uint8Array, data: Uint8Array) => Uint8Array;

const HMAC_HASHES: Readonly<Record<number, string>> = { 1: 'md5', 2: 'sha1', 5: 'sha256', 6: 'sha384', 7: 'sha512' };
const PRF_AES128_XCBC = 4;
const PRF_AES128_CMAC = 8;

/** True for the PRFs that take a fixed 128-bit key, for which SKEYSEED uses only 8 bytes of each nonce. */
export function isFixedKeyPrf(id: number): boolean {
  return id === PRF_AES128_XCBC || id === PRF_AES128_CMAC;
}

/** @throws GatewayError `strongswan.unsupported_transform` */
export function prfById(id: number): Prf {
  const hash = HMAC_HASHES[id];
  if (hash !== undefined) return (key, data) => new Uint8Array(createHmac(hash, key).update(data).digest());
  if (id === PRF_AES128_XCBC) return aesXcbcPrf128;
  if (id === PRF_AES128_CMAC) return aesCmacPrf128;
  throw new GatewayError('strongswan.unsupported_transform', `PRF transform ${id} is not supported`);
}

/**
 * prf+ (RFC 7296 §2.13): T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n), output T1 | T2 | ...
 * cut to `length` bytes. At most 255 blocks.
 */
export function prfPlus(prf: Prf, key: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  let filled = 0;
  for (let n = 1; filled < length; n++) {
    if (n > 255) throw new RangeError(`prf+ cannot produce ${length} bytes with this PRF`);
    const input = new Uint8Array(previous.length + seed.length + 1);
    input.set(previous, 0);
    input.set(seed, previous.length);
    input[input.length - 1] = n;
    previous = prf(key, input);
    out.set(previous.subarray(0, Math.min(previous.length, length - filled)), filled);
    filled += previous.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// AES block helpers

function aes128(key: Uint8Array, block: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-128-ecb', key, null);
  cipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([cipher.update(block), cipher.final()]));
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

/** The message split into 16-byte blocks, the last one padded 10* if short; and whether it was complete. */
function lastBlock(message: Uint8Array): { blocks: Uint8Array[]; complete: boolean } {
  const blocks: Uint8Array[] = [];
  const count = Math.max(1, Math.ceil(message.length / 16));
  for (let i = 0; i < count - 1; i++) blocks.push(message.subarray(16 * i, 16 * i + 16));
  const tail = message.subarray(16 * (count - 1));
  const complete = tail.length === 16;
  const last = new Uint8Array(16);
  last.set(tail);
  if (!complete) last[tail.length] = 0x80;
  blocks.push(last);
  return { blocks, complete };
}

function chain(key: Uint8Array, blocks: Uint8Array[], finalMask: Uint8Array): Uint8Array {
  let state: Uint8Array = new Uint8Array(16);
  blocks.forEach((block, i) => {
    const input = i === blocks.length - 1 ? xor(xor(block, state), finalMask) : xor(block, state);
    state = aes128(key, input);
  });
  return state;
}

/** AES-XCBC-MAC (RFC 3566 §4), full 128-bit output. */
export function aesXcbcMac(key: Uint8Array, message: Uint8Array): Uint8Array {
  const k1 = aes128(key, new Uint8Array(16).fill(0x01));
  const k2 = aes128(key, new Uint8Array(16).fill(0x02));
  const k3 = aes128(key, new Uint8Array(16).fill(0x03));
  const { blocks, complete } = lastBlock(message);
  return chain(k1, blocks, complete ? k2 : k3);
}

/** AES-XCBC-PRF-128 (RFC 4434 §2): keys other than 16 bytes are zero-padded or hashed down. */
export function aesXcbcPrf128(key: Uint8Array, data: Uint8Array): Uint8Array {
  let k = key;
  if (key.length < 16) {
    k = new Uint8Array(16);
    k.set(key);
  } else if (key.length > 16) {
    k = aesXcbcMac(new Uint8Array(16), key);
  }
  return aesXcbcMac(k, data);
}

function double(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = (((block[i] as number) << 1) | ((block[i + 1] ?? 0) >> 7)) & 0xff;
  if ((block[0] as number) & 0x80) out[15] = (out[15] as number) ^ 0x87;
  return out;
}

/** AES-CMAC (RFC 4493 §2.4). */
export function aesCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  const l = aes128(key, new Uint8Array(16));
  const k1 = double(l);
  const k2 = double(k1);
  const { blocks, complete } = lastBlock(message);
  return chain(key, blocks, complete ? k1 : k2);
}

/** AES-CMAC-PRF-128 (RFC 4615 §3): keys other than 16 bytes are hashed with a zero key. */
export function aesCmacPrf128(key: Uint8Array, data: Uint8Array): Uint8Array {
  return aesCmac(key.length === 16 ? key : aesCmac(new Uint8Array(16), key), data);
}
