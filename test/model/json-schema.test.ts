import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contextJsonSchema } from '../../lib/model/json-schema.js';
import { FIXTURES } from '../helpers/workspace.js';

test('the committed JSON Schema is the one the zod model generates (run `npm run schema`)', (t) => {
  const committed = JSON.parse(readFileSync(join(FIXTURES, '..', 'schemas', 'context-v1.schema.json'), 'utf8'));
  t.deepEqual(committed, contextJsonSchema());
});

test('the JSON Schema describes byte strings as hex of the right length', (t) => {
  const schema = contextJsonSchema() as any;
  const spi = schema.properties.childSas.items.properties.spi;
  t.deepEqual(spi, { type: 'string', minLength: 8, maxLength: 8, pattern: '^(?:[0-9a-f]{2})*$' });
  t.false(JSON.stringify(schema).includes('"not":{}'));
});
