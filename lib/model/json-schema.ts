/**
 * The JSON Schema of the context's JSON form, generated from the zod model so the two cannot
 * drift (a test compares it with the committed schemas/context-v1.schema.json).
 */
import { z } from 'zod';
import { Context, MODEL_VERSION } from './context.js';
import { cborOnly } from './leaves.js';

type JsonSchema = { [key: string]: unknown };

export function contextJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(Context, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: (ctx) => {
      // Byte strings and bigints only exist in memory and in CBOR; JSON never holds them.
      if (cborOnly.has(ctx.zodSchema as unknown as z.ZodType)) {
        for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as JsonSchema)[key];
        (ctx.jsonSchema as JsonSchema)['not'] = {};
      }
    },
  }) as JsonSchema;
  return {
    ...dropImpossibleBranches(schema),
    $id: `https://ipsec-ctx.invalid/schemas/context-v${MODEL_VERSION}.schema.json`,
    title: `ipsec-ctx security context, model version ${MODEL_VERSION} (JSON form)`,
  };
}

function isImpossible(node: unknown): boolean {
  return typeof node === 'object' && node !== null && Object.keys(node).length === 1 && 'not' in node;
}

function dropImpossibleBranches(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (Array.isArray(value)) {
      const kept = value.filter((item) => !(key === 'anyOf' && isImpossible(item)));
      const mapped = kept.map((item) => (typeof item === 'object' && item !== null ? dropImpossibleBranches(item as JsonSchema) : item));
      if (key === 'anyOf' && mapped.length === 1) Object.assign(out, mapped[0] as JsonSchema);
      else out[key] = mapped;
    } else if (typeof value === 'object' && value !== null) {
      out[key] = dropImpossibleBranches(value as JsonSchema);
    } else {
      out[key] = value;
    }
  }
  return out;
}
