import test from 'ava';
import nacl from 'tweetnacl';
import { ed25519PrivateKey, rawPublicKey, x25519, x25519Base } from '../../lib/crypto/curves.js';
import { seededRandom } from '../../lib/crypto/random.js';
import { wrapFileKey } from '../../lib/crypto/x25519-recipient.js';

test('node:crypto X25519 and Ed25519 keys are exactly tweetnacl\'s', (t) => {
  const random = seededRandom('curves');
  for (let i = 0; i < 20; i++) {
    const [a, b, seed] = [random(32), random(32), random(32)];
    t.deepEqual(x25519Base(a), nacl.scalarMult.base(a));
    t.deepEqual(x25519(a, x25519Base(b)), nacl.scalarMult(a, nacl.scalarMult.base(b)));
    t.deepEqual(rawPublicKey(ed25519PrivateKey(seed)), nacl.sign.keyPair.fromSeed(seed).publicKey);
  }
});

test('X25519 with a low-order point gives nothing, and such a recipient is refused', (t) => {
  const random = seededRandom('low order');
  // 0 and 1 are points of low order (RFC 7748 §6.1): every shared secret with them is zero.
  for (const point of [new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))]) {
    t.is(x25519(random(32), point), undefined);
    t.throws(() => wrapFileKey(random(32), { x25519: point, ed25519: new Uint8Array(32) }, random), { code: 'key.invalid_public' });
  }
});
