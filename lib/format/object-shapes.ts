/**
 * Plain objects for decoded CBOR maps with labelled keys (docs/FORMAT.md §4.2), built by one
 * compiled constructor per key list. Records of one kind share a few key lists (which optional
 * fields are present), so a context of 100 000 CHILD SAs needs a handful of constructors. Each
 * returns an object literal: one allocation with every property in the object itself, where
 * adding the properties one by one reallocates the property store as it grows and walks a map
 * transition per property.
 *
 * The counterpart of the encoder's compiled map emitters (cbor-encode.ts). Constructors are
 * found through a trie over the labels in order, so finding one allocates nothing. Key names
 * come from the label table and enter the generated source only through JSON.stringify.
 */
import type { KeyLabels } from './cbor-labels.js';

/** Builds an object from `values[base..]`, one value per key of the node's key list. */
type Construct = (values: readonly unknown[], base: number) => Record<string, unknown>;

export class ShapeNode {
  /** Children by label. */
  private readonly next: (ShapeNode | undefined)[] = [];
  private construct: Construct | undefined;

  constructor(
    private readonly shapes: ObjectShapes,
    /** The property names from the root to here, in order. */
    private readonly names: readonly string[],
  ) {}

  /** The node for this key list plus the key with `label`, or undefined when the trie is full. */
  child(label: number): ShapeNode | undefined {
    const known = this.next[label];
    if (known !== undefined || !this.shapes.admit()) return known;
    const node = new ShapeNode(this.shapes, [...this.names, this.shapes.table.names[label] as string]);
    this.next[label] = node;
    return node;
  }

  build(values: readonly unknown[], base: number): Record<string, unknown> {
    return (this.construct ??= compile(this.names))(values, base);
  }
}

/**
 * The trie of one label table's key lists, bounded: past `maxNodes` distinct prefixes (an input
 * can hold any number of key lists) callers build objects property by property instead.
 */
export class ObjectShapes {
  readonly root: ShapeNode = new ShapeNode(this, []);
  private nodes = 0;

  constructor(
    readonly table: KeyLabels,
    private readonly maxNodes = 4096,
  ) {}

  admit(): boolean {
    if (this.nodes >= this.maxNodes) return false;
    this.nodes++;
    return true;
  }
}

function compile(names: readonly string[]): Construct {
  // `__proto__: v` in a literal would set the prototype; a computed key defines the property.
  const entries = names.map((name, i) => `${name === '__proto__' ? '["__proto__"]' : JSON.stringify(name)}: values[base + ${i}]`);
  return new Function('values', 'base', `return { ${entries.join(', ')} };`) as Construct;
}
