import test from 'ava';
import { seededRandom } from '../../lib/crypto/random.js';
import { keyLabels } from '../../lib/format/cbor-labels.js';
import { encodeCanonical, encodeCanonicalInChunks } from '../../lib/format/cbor-encode.js';
import { openBlob, PARALLEL_SEAL_RECORDS, seal, sealLarge } from '../../lib/format/envelope.js';
import { PAYLOAD_LABELS } from '../../lib/format/payload-labels.js';
import { randomContext } from '../helpers/random-context.js';
import { testIdentity } from '../helpers/workspace.js';

const alice = testIdentity('alice');
const bob = testIdentity('bob');
const PAYLOAD = keyLabels(PAYLOAD_LABELS);

test('chunked encoding gives the same bytes, whatever the chunk size, exact multiples included', (t) => {
  const context = randomContext('chunks', { ikeSas: 3, childPairsPerIke: 2, looseChildren: 1 });
  const whole = encodeCanonical(context, PAYLOAD);
  for (const chunkBytes of [16, 100, 1000, whole.byteLength, whole.byteLength / 2, whole.byteLength + 1].filter(Number.isInteger)) {
    const chunks: Uint8Array[] = [];
    const rest = encodeCanonicalInChunks(context, { chunkBytes, chunk: (bytes) => chunks.push(bytes) }, PAYLOAD);
    t.true(chunks.every((chunk) => chunk.byteLength === chunkBytes), `chunk size ${chunkBytes}`);
    t.true(rest.byteLength < chunkBytes);
    t.deepEqual(new Uint8Array(Buffer.concat([...chunks, rest])), whole, `chunk size ${chunkBytes}`);
  }
});

test('sealing on two threads gives the very same blob as sealing on one', async (t) => {
  const context = randomContext('parallel', { ikeSas: 250, childPairsPerIke: 2, looseChildren: 0 });
  const records = context.ikeSas.length + context.childSas.length + context.policies.length;
  t.true(records < PARALLEL_SEAL_RECORDS, 'the threshold is forced below, to keep the test quick');
  const options = (seed: string) => ({ context, recipients: [bob.publicKey], signer: alice, createdMs: 1, expiresMs: 2, random: seededRandom(seed) });
  const parallel = await sealLarge(options('same'), records);
  t.deepEqual(parallel, seal(options('same')));
  t.true(parallel.byteLength > 3 * 65_536, 'several chunks');
  t.deepEqual(openBlob(parallel, { identities: [bob], trust: { signers: [alice.publicKey] }, nowMs: 1 }).context, context);
});
