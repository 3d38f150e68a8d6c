/**
 * Secret fields are tagged once, where the model declares them, and redacted at the edge
 * (lib/cli/render.ts) unless the user asked for --show-keys. Nonces are tagged too: they
 * feed IKE key derivation (RFC 7296 §2.14), so with SK_d they would let a reader rebuild keys.
 */
import { z } from 'zod';

export const secrets = z.registry<{ secret: true }>();

export function secret<T extends z.ZodType>(schema: T): T {
  secrets.add(schema, { secret: true });
  return schema;
}

/** Names of object properties whose schema is tagged secret, found by walking `schema`. */
export function secretFieldNames(schema: z.ZodType): Set<string> {
  const names = new Set<string>();
  const seen = new Set<z.ZodType>();
  const visit = (node: z.ZodType): void => {
    if (seen.has(node)) return;
    seen.add(node);
    const def = (node as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
    switch (def['type']) {
      case 'object':
        for (const [key, child] of Object.entries(def['shape'] as Record<string, z.ZodType>)) {
          if (isSecret(child)) names.add(key);
          visit(child);
        }
        break;
      case 'array':
        visit(def['element'] as z.ZodType);
        break;
      case 'union':
        for (const option of def['options'] as z.ZodType[]) visit(option);
        break;
      case 'optional':
      case 'nullable':
      case 'default':
      case 'readonly':
        visit(def['innerType'] as z.ZodType);
        break;
      case 'pipe':
        visit(def['in'] as z.ZodType);
        visit(def['out'] as z.ZodType);
        break;
      default:
        break;
    }
  };
  visit(schema);
  return names;
}

function isSecret(schema: z.ZodType): boolean {
  let node: z.ZodType | undefined = schema;
  while (node) {
    if (secrets.get(node)?.secret) return true;
    const def: Record<string, unknown> = (node as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
    node = def['type'] === 'optional' ? (def['innerType'] as z.ZodType) : undefined;
  }
  return false;
}
