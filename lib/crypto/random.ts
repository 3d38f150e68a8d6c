/**
 * Randomness is passed in, never set globally (tweetnacl's setPRNG would affect every
 * caller), so the test vectors can be produced with a fixed seed.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

export type Random = (length: number) => Uint8Array;

export const systemRandom: Random = (length) => new Uint8Array(randomBytes(length));

/**
 * A deterministic stream for test vectors only: ChaCha20 keyed with SHA-256(seed), zero IV.
 * Never use it for real blobs.
 */
export function seededRandom(seed: string): Random {
  const key = createHash('sha256').update(seed).digest();
  const stream = createCipheriv('chacha20', key, Buffer.alloc(16));
  return (length) => new Uint8Array(stream.update(Buffer.alloc(length)));
}
