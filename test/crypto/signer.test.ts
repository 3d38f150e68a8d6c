import test from 'ava';
import nacl from 'tweetnacl';
import { seededRandom } from '../../lib/crypto/random.js';
import { signDetached, verifyDetached } from '../../lib/crypto/signer.js';

test('node:crypto Ed25519 signs exactly like tweetnacl and verifies tweetnacl signatures', (t) => {
  const random = seededRandom('signer');
  for (let i = 0; i < 20; i++) {
    const keys = nacl.sign.keyPair.fromSeed(random(32));
    const message = random(i * 13);
    const ours = signDetached(message, keys.secretKey);
    t.deepEqual(ours, nacl.sign.detached(message, keys.secretKey));
    t.true(verifyDetached(message, ours, keys.publicKey));
    t.true(nacl.sign.detached.verify(message, ours, keys.publicKey));
  }
});

test('a changed message, signature or key does not verify', (t) => {
  const random = seededRandom('signer 2');
  const keys = nacl.sign.keyPair.fromSeed(random(32));
  const message = random(100);
  const signature = signDetached(message, keys.secretKey);
  const flipped = (b: Uint8Array, at: number) => Uint8Array.from(b, (x, i) => (i === at ? x ^ 1 : x));
  t.false(verifyDetached(flipped(message, 5), signature, keys.publicKey));
  t.false(verifyDetached(message, flipped(signature, 63), keys.publicKey));
  t.false(verifyDetached(message, signature, flipped(keys.publicKey, 0)));
  t.false(verifyDetached(message, signature.subarray(0, 63), keys.publicKey));
});
