/**
 * The one way lib/ turns untrusted data (a file gateway, a decrypted payload) into a runtime
 * Context: zod validation, with failures turned into a SchemaError naming each field path.
 *
 * Parsing goes through zod's ahead-of-time compiled form of the model (`z.compile`): one
 * generated function checks and copies a whole context, where the interpreted schema walks a
 * tree of parser objects and allocates a result per field, most of the validation time of a
 * large context. The compiled function only ever answers "valid, here is the output"; for
 * anything else zod runs the interpreted schema, so what is accepted and every issue reported
 * are the model's own (test/model/compiled-context.test.ts holds the two to that).
 */
import { z } from 'zod';
import { SchemaError } from '../errors.js';
import { Context } from './context.js';

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
}

export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

// Compiled on first use: generating the code takes a few milliseconds that commands which
// never parse a context (keygen) should not pay.
let compiled: typeof Context | undefined;

/** The model, compiled; `z.compile` gives the schema back unchanged if it cannot compile it. */
function compiledContext(): typeof Context {
  return (compiled ??= z.compile(Context));
}

/** @throws SchemaError */
export function parseContext(value: unknown): Context {
  const result = compiledContext().safeParse(value);
  if (!result.success) throw new SchemaError(issuesOf(result.error));
  return result.data;
}
