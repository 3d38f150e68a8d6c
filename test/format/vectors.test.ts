import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isCtxError } from '../../lib/errors.js';
import { parsePublicKey, parseSecretKey } from '../../lib/crypto/key-text.js';
import { encodeContextPayload, openBlob } from '../../lib/format/envelope.js';
import { generateVectors, parseVector } from '../helpers/vectors.js';
import { FIXTURES } from '../helpers/workspace.js';

const dir = join(FIXTURES, 'vectors');
const committed = readdirSync(dir).sort();

test('the committed vectors are exactly what the generator makes (run `npm run vectors`)', (t) => {
  const generated = generateVectors();
  t.deepEqual(committed, generated.map((v) => v.name).sort());
  for (const vector of generated) {
    t.true(Buffer.from(vector.file).equals(readFileSync(join(dir, vector.name))), `${vector.name} differs from its generator`);
  }
});

for (const name of committed) {
  test(`vector ${name}`, (t) => {
    const vector = parseVector(new Uint8Array(readFileSync(join(dir, name))));
    const open = () =>
      openBlob(vector.blob, { identities: [parseSecretKey(vector.identity)], trust: { signers: [parsePublicKey(vector.trust)] }, nowMs: vector.nowMs });
    if (vector.expect === 'success') {
      const opened = open();
      t.is(createHash('sha256').update(encodeContextPayload(opened.context)).digest('hex'), vector.payload ?? '(no payload hash in vector)');
      return;
    }
    const error = t.throws(open);
    t.true(isCtxError(error), `${name}: ${String(error)}`);
    t.is((error as { code?: string }).code, vector.expect, vector.comment);
  });
}
