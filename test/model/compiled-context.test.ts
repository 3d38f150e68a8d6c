/**
 * parseContext() runs zod's compiled form of the model (lib/model/validate.ts). The compiled
 * function's answer is final when it accepts, so it must accept exactly what the interpreted
 * model accepts, with the same output; when it rejects, zod re-runs the interpreted model,
 * whose issues parseContext() reports. These properties hold all of that, on random valid
 * contexts and on damaged ones, in each form a context arrives in.
 */
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { z } from 'zod';
import { INVALID, compileFn } from 'zod/v4/core';
import { SchemaError } from '../../lib/errors.js';
import { keyLabels } from '../../lib/format/cbor-labels.js';
import { encodeCanonical } from '../../lib/format/cbor-encode.js';
import { decodeCanonical } from '../../lib/format/cbor-decode.js';
import { PAYLOAD_LABELS } from '../../lib/format/payload-labels.js';
import { Context } from '../../lib/model/context.js';
import { issuesOf, parseContext } from '../../lib/model/validate.js';
import { mutationOf } from '../helpers/mutations.js';
import { randomContext } from '../helpers/random-context.js';

/** The generated function alone, without zod's fallback to the interpreted model. */
const compiledOnly = compileFn(Context);
const PAYLOAD = keyLabels(PAYLOAD_LABELS);

const FORMS = {
  runtime: (context: Context): unknown => context,
  json: (context: Context): unknown => JSON.parse(JSON.stringify(Context.encode(context))),
  cbor: (context: Context): unknown => decodeCanonical(encodeCanonical(context, PAYLOAD), 'payload', PAYLOAD),
};

/** A random context in one of its forms. */
const anyInput = fc
  .record({ seed: fc.string(), ikeSas: fc.nat(3), childPairsPerIke: fc.nat(2), looseChildren: fc.nat(2), exactIdentities: fc.boolean(), form: fc.constantFrom(...(Object.keys(FORMS) as (keyof typeof FORMS)[])) })
  .map(({ seed, form, ...shape }) => FORMS[form](randomContext(seed, shape)));

/** The compiled function and parseContext() agree with the interpreted model on `input`. */
function agrees(t: ExecutionContext, input: unknown, what: string): void {
  const interpreted = Context.safeParse(input);
  const compiled = compiledOnly(input);
  let parsed: { data: Context } | { issues: SchemaError['issues'] };
  try {
    parsed = { data: parseContext(input) };
  } catch (error) {
    if (!(error instanceof SchemaError)) throw error;
    parsed = { issues: error.issues };
  }
  if (interpreted.success) {
    t.not(compiled, INVALID, `compiled model rejects a valid context (${what})`);
    t.deepEqual(compiled, interpreted.data, what);
    t.deepEqual(parsed, { data: interpreted.data }, what);
  } else {
    t.is(compiled, INVALID, `compiled model accepts an invalid context (${what})`);
    t.deepEqual(parsed, { issues: issuesOf(interpreted.error) }, what);
  }
}

test('the model compiles whole: nothing in it falls back to the interpreter', (t) => {
  t.notThrows(() => z.compile(Context, { strict: true }));
});

test('valid contexts of every shape and form: compiled and interpreted give the same context', (t) => {
  fc.assert(
    fc.property(anyInput, (input) => {
      t.true(Context.safeParse(input).success);
      agrees(t, input, 'random context');
    }),
    { numRuns: 150 },
  );
});

test('damaged contexts: compiled and interpreted accept and reject alike, with the same issues', (t) => {
  fc.assert(
    fc.property(
      anyInput.chain((input) => mutationOf(input)),
      (mutation) => agrees(t, mutation.value, mutation.description),
    ),
    { numRuns: 1500 },
  );
});
