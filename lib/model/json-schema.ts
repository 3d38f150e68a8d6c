/**
 * The JSON Schema of the context's JSON form, generated from the zod model so the two cannot
 * drift (a test compares it with the committed schemas/context-v1.schema.json).
 */
import { z } from 'zod';
import { Context, MODEL_VERSION } from './context.js';
import { jsonForm } from './leaves.js';

type JsonSchema = { [key: string]: unknown };

export function contextJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(Context, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: (ctx) => {
      // Leaf inputs also accept in-memory forms (Uint8Array, bigint) that JSON never holds.
      const form = jsonForm.get(ctx.zodSchema as unknown as z.ZodType);
      if (form) {
        for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as JsonSchema)[key];
        Object.assign(ctx.jsonSchema, structuredClone(form.jsonSchema));
      }
    },
  }) as JsonSchema;
  return {
    ...schema,
    $id: `https://ipsec-ctx.invalid/schemas/context-v${MODEL_VERSION}.schema.json`,
    title: `ipsec-ctx security context, model version ${MODEL_VERSION} (JSON form)`,
  };
}
