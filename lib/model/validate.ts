/**
 * The one way lib/ turns untrusted data (a file gateway, a decrypted payload) into a runtime
 * Context: zod validation, with failures turned into a SchemaError naming each field path.
 */
import type { z } from 'zod';
import { SchemaError } from '../errors.js';
import { Context } from './context.js';

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
}

export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** @throws SchemaError */
export function parseContext(value: unknown): Context {
  const result = Context.safeParse(value);
  if (!result.success) throw new SchemaError(issuesOf(result.error));
  return result.data;
}
