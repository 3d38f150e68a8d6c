/** Rewrites fixtures/vectors/ from test/helpers/vectors.ts (`npm run vectors`). */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { generateVectors } from '../test/helpers/vectors.js';

const dir = new URL('../../fixtures/vectors/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const name of readdirSync(dir)) rmSync(new URL(name, dir));
const vectors = generateVectors();
for (const vector of vectors) writeFileSync(new URL(vector.name, dir), vector.file);
console.log(`wrote ${vectors.length} vectors to ${dir.pathname}`);
