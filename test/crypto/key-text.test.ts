import test from 'ava';
import fc from 'fast-check';
import { FormatError } from '../../lib/errors.js';
import { base32Decode, base32Encode } from '../../lib/crypto/base32.js';
import { parseIdentityText, parseKeyList } from '../../lib/crypto/key-files.js';
import { encodePublicKey, encodeSecretKey, parsePublicKey, parseSecretKey, PUBLIC_PREFIX } from '../../lib/crypto/key-text.js';
import { identityFileText } from '../../lib/crypto/key-files.js';
import { testIdentity } from '../helpers/workspace.js';

const gw = testIdentity('gw');

test('base32 round-trips any bytes and rejects stray characters and pad bits', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => void t.deepEqual(base32Decode(base32Encode(bytes)), bytes)));
  t.is(base32Decode('ab1c'), undefined);
  t.is(base32Decode('b'), undefined); // 5 bits: not a whole byte
  t.is(base32Decode('ab'), undefined); // 10 bits, non-zero padding
});

test('public and secret key texts round-trip', (t) => {
  const text = encodePublicKey(gw.publicKey);
  t.true(text.startsWith(PUBLIC_PREFIX));
  t.deepEqual(parsePublicKey(text), gw.publicKey);
  t.deepEqual(parseSecretKey(encodeSecretKey(gw)).publicKey, gw.publicKey);
});

test('every single-character typo in a public key is caught by the checksum', (t) => {
  const text = encodePublicKey(gw.publicKey);
  for (let at = PUBLIC_PREFIX.length; at < text.length; at++) {
    const typo = text.slice(0, at) + (text[at] === 'a' ? 'b' : 'a') + text.slice(at + 1);
    t.throws(() => parsePublicKey(typo), { instanceOf: FormatError, code: 'key.invalid_public' });
  }
});

test('a secret key given as a public key is refused without being echoed', (t) => {
  const secret = encodeSecretKey(gw);
  const error = t.throws(() => parsePublicKey(secret), { instanceOf: FormatError, code: 'key.secret_as_public' });
  t.false(error?.message.includes(secret.slice(17, 30)));
});

test('a key list skips comments and blank lines, and names the line of a pasted secret', (t) => {
  const other = testIdentity('other');
  const list = `# peers\n\n${encodePublicKey(gw.publicKey)}\n  # indented comment\n${encodePublicKey(other.publicKey)}\n`;
  t.deepEqual(parseKeyList(list, 'peers.txt'), [gw.publicKey, other.publicKey]);
  const error = t.throws(() => parseKeyList(`${encodePublicKey(gw.publicKey)}\n${encodeSecretKey(other)}\n`, 'peers.txt'), { code: 'key.secret_in_list' });
  t.is(error?.message, 'apparent identity found in peers.txt at line 2');
});

test('an identity file holds exactly one secret key', (t) => {
  const text = identityFileText(gw, new Date(0));
  t.deepEqual(parseIdentityText(text, 'gw.key').publicKey, gw.publicKey);
  t.throws(() => parseIdentityText(`${encodePublicKey(gw.publicKey)}\n`, 'gw.pub'), { code: 'key.no_identity', message: /holds no identity/ });
  t.throws(() => parseIdentityText(text + encodeSecretKey(testIdentity('x')), 'two.key'), { code: 'key.identity_lines' });
  const damaged = text.replace(/IPSECCTX-SECRET-1(.)/, (_m, c: string) => `IPSECCTX-SECRET-1${c === 'A' ? 'B' : 'A'}`);
  const error = t.throws(() => parseIdentityText(damaged, 'damaged.key'), { code: 'key.invalid_secret' });
  t.false(error?.message.includes('IPSECCTX'));
});
