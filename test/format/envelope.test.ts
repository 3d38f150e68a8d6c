import test from 'ava';
import fc from 'fast-check';
import { AuthError, ExitCode, FormatError, StaleError, isCtxError } from '../../lib/errors.js';
import { seededRandom } from '../../lib/crypto/random.js';
import { openBlob, parseBlob, seal, type OpenOptions } from '../../lib/format/envelope.js';
import { PREAMBLE_BYTES } from '../../lib/format/header.js';
import type { Context } from '../../lib/model/context.js';
import { randomContext } from '../helpers/random-context.js';
import { GATEWAY_FIXTURES, fixtureContext, testIdentity } from '../helpers/workspace.js';

const alice = testIdentity('alice');
const bob = testIdentity('bob');
const carol = testIdentity('carol');
const NOW = 1_795_600_000_000;

const sealFor = (context: Context, seed = 'seal') =>
  seal({ context, recipients: [bob.publicKey], signer: alice, createdMs: NOW, expiresMs: NOW + 600_000, random: seededRandom(seed) });
const asBob: OpenOptions = { identities: [bob], trust: { signers: [alice.publicKey] }, nowMs: NOW + 1_000 };

for (const name of GATEWAY_FIXTURES) {
  test(`fixture ${name} seals and opens to the same context`, (t) => {
    const context = fixtureContext(name);
    t.deepEqual(openBlob(sealFor(context), asBob).context, context);
  });
}

test('random contexts of every shape seal and open to the same context', (t) => {
  fc.assert(
    fc.property(fc.string(), fc.nat(4), fc.nat(3), fc.nat(3), fc.boolean(), (seed, ikeSas, childPairsPerIke, looseChildren, exactIdentities) => {
      const context = randomContext(seed, { ikeSas, childPairsPerIke, looseChildren, exactIdentities });
      t.deepEqual(openBlob(sealFor(context, seed), asBob).context, context);
    }),
    { numRuns: 60 },
  );
});

test('the same context gives the same payload bytes; the blob differs only by its randomness', (t) => {
  const context = fixtureContext('road-warrior.json');
  t.deepEqual(sealFor(context, 'x'), sealFor(context, 'x'));
  t.notDeepEqual(sealFor(context, 'x'), sealFor(context, 'y'));
});

test('any listed recipient can open a blob, nobody else', (t) => {
  const context = fixtureContext('site-to-site.json');
  const blob = seal({ context, recipients: [bob.publicKey, carol.publicKey], signer: alice, createdMs: NOW, expiresMs: NOW + 1000, random: seededRandom('two') });
  t.deepEqual(openBlob(blob, { ...asBob, identities: [carol] }).context, context);
  t.deepEqual(openBlob(blob, asBob).context, context);
  t.throws(() => openBlob(blob, { ...asBob, identities: [alice] }), { instanceOf: AuthError, code: 'auth.no_matching_recipient' });
});

test('an untrusted signer is refused, unless any signer is accepted explicitly', (t) => {
  const blob = sealFor(fixtureContext('site-to-site.json'));
  t.throws(() => openBlob(blob, { ...asBob, trust: { signers: [carol.publicKey] } }), { instanceOf: AuthError, code: 'auth.untrusted_signer' });
  t.notThrows(() => openBlob(blob, { ...asBob, trust: { any: true } }));
});

test('an expired blob is refused after its signature is checked', (t) => {
  const blob = sealFor(fixtureContext('site-to-site.json'));
  t.throws(() => openBlob(blob, { ...asBob, nowMs: NOW + 600_001 }), { instanceOf: StaleError, code: 'stale.expired' });
});

/** A small blob, so every byte can be corrupted in reasonable time. */
function smallBlob(): Uint8Array {
  return sealFor(randomContext('corrupt', { ikeSas: 1, childPairsPerIke: 1, looseChildren: 0 }));
}

test('every single-byte corruption is rejected: format errors in the preamble, auth errors after it', (t) => {
  const blob = smallBlob();
  const { headerBytes } = parseBlob(blob);
  let checked = 0;
  for (let at = 0; at < blob.byteLength; at++) {
    const bad = new Uint8Array(blob);
    bad[at] = (bad[at] as number) ^ 0x01;
    let error: unknown;
    try {
      openBlob(bad, asBob);
    } catch (caught) {
      error = caught;
    }
    if (!isCtxError(error)) {
      t.fail(`byte ${at}: ${error === undefined ? 'accepted' : String(error)}`);
      return;
    }
    if (at < 8) t.is(error.code, 'format.not_a_blob', `byte ${at}`);
    else if (at === 8) t.is(error.code, 'format.unsupported_version', `byte ${at}`);
    else if (at < PREAMBLE_BYTES) t.is(error.exitCode, ExitCode.badInput, `byte ${at}: ${error.code}`);
    else if (at < headerBytes.byteLength) t.true(error instanceof FormatError || error instanceof AuthError, `byte ${at}: ${error.code}`);
    else t.is(error.code, 'auth.bad_signature', `byte ${at}`);
    checked++;
  }
  t.is(checked, blob.byteLength);
});

test('every truncation is rejected as truncated', (t) => {
  const blob = smallBlob();
  for (let length = 0; length < blob.byteLength; length++) {
    const error = t.throws(() => openBlob(blob.subarray(0, length), asBob), undefined, `length ${length}`);
    if ((error as FormatError | undefined)?.code !== 'format.truncated') {
      t.fail(`length ${length}: ${String(error)}`);
      return;
    }
  }
});
