/** Writes schemas/context-v1.schema.json from the zod model (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { contextJsonSchema } from '../lib/model/json-schema.js';
import { MODEL_VERSION } from '../lib/model/context.js';

const path = new URL(`../../schemas/context-v${MODEL_VERSION}.schema.json`, import.meta.url);
writeFileSync(path, `${JSON.stringify(contextJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
