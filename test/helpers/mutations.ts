/**
 * Small damage to a context in any of its forms (JSON, runtime, decoded CBOR), for property
 * tests that need invalid contexts of every kind: one leaf replaced, one key removed or one
 * unknown key added. Replacement values come both from a list of awkward values (wrong
 * types, out of range, badly spelt) and from the context's own other leaves, which break the
 * rules across fields (a key of another algorithm's length, a family's address in the other
 * family, an id that is already taken or does not resolve).
 */
import fc from 'fast-check';

type Tree = Record<string, unknown> | unknown[];
type Path = (string | number)[];

const AWKWARD: readonly unknown[] = [
  undefined,
  null,
  true,
  0,
  -1,
  1.5,
  Number.NaN,
  2 ** 32,
  2 ** 53,
  -1n,
  2n ** 64n,
  '',
  'x',
  '0',
  '00',
  'ABCD',
  '-1',
  '18446744073709551616',
  '10.0.0.1',
  '010.0.0.1',
  '2001:DB8::1',
  '2001:db8:0:0::1',
  '10.0.0.0/33',
  'esp',
  new Uint8Array(0),
  new Uint8Array(4),
  new Uint8Array([0, 0, 0, 1]),
  [],
  {},
];

export interface Mutation {
  /** What was done, for the failure message of a property. */
  description: string;
  /** A damaged deep copy; the original is untouched. */
  value: unknown;
}

/**
 * An arbitrary mutation of `context`, built from random indexes into its leaves and objects.
 * Most replace a leaf, usually with another leaf's value of the same type, which gets past
 * the type checks to the rules across fields.
 */
export function mutationOf(context: unknown): fc.Arbitrary<Mutation> {
  const leaves = pathsOf(context, (value) => !isTree(value));
  const objects = pathsOf(context, (value) => isTree(value) && !Array.isArray(value));
  const leafValues = leaves.map((path) => valueAt(context, path));
  const replace = fc.constantFrom(...leaves).chain((path) => {
    const kind = kindOf(valueAt(context, path));
    const sameKind = leafValues.filter((value) => kindOf(value) === kind);
    return fc
      .oneof({ weight: 3, arbitrary: fc.constantFrom(...sameKind) }, { weight: 1, arbitrary: fc.constantFrom(...leafValues) }, { weight: 2, arbitrary: fc.constantFrom(...AWKWARD) })
      .map((value) => mutate(context, `set ${show(path)} to ${describe(value)}`, (copy) => setAt(copy, path, value)));
  });
  const remove = fc.constantFrom(...leaves, ...objects.filter((path) => path.length > 0)).map((path) =>
    mutate(context, `delete ${show(path)}`, (copy) => {
      const parent = valueAt(copy, path.slice(0, -1)) as Tree;
      if (Array.isArray(parent)) parent.splice(path[path.length - 1] as number, 1);
      else delete parent[path[path.length - 1] as string];
    }),
  );
  const add = fc.tuple(fc.constantFrom(...objects), fc.constantFrom('colour', 'id', 'spi', '__proto__', 'constructor')).map(([path, key]) =>
    mutate(context, `add ${key} to ${show(path)}`, (copy) => {
      Object.defineProperty(valueAt(copy, path), key, { value: 1, enumerable: true, writable: true, configurable: true });
    }),
  );
  return fc.oneof({ weight: 8, arbitrary: replace }, { weight: 1, arbitrary: remove }, { weight: 1, arbitrary: add });
}

function kindOf(value: unknown): string {
  return value instanceof Uint8Array ? 'bytes' : typeof value;
}

function mutate(context: unknown, description: string, change: (copy: unknown) => void): Mutation {
  const copy = deepCopy(context);
  change(copy);
  return { description, value: copy };
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array);
}

/** Paths of every node for which `wanted` holds, the root included, in depth-first order. */
function pathsOf(value: unknown, wanted: (value: unknown) => boolean, path: Path = [], out: Path[] = []): Path[] {
  if (wanted(value)) out.push(path);
  if (Array.isArray(value)) value.forEach((item, i) => pathsOf(item, wanted, [...path, i], out));
  else if (isTree(value)) for (const [key, item] of Object.entries(value)) pathsOf(item, wanted, [...path, key], out);
  return out;
}

function valueAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], value);
}

function setAt(root: unknown, path: Path, value: unknown): void {
  const parent = valueAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path[path.length - 1] as string | number] = value;
}

function deepCopy(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(deepCopy);
  if (isTree(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, deepCopy(item)]));
  return value;
}

function show(path: Path): string {
  return path.length === 0 ? '(root)' : path.join('.');
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (typeof value === 'bigint') return `${value}n`;
  return JSON.stringify(value) ?? String(value);
}
