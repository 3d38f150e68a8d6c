/** Label tables for CBOR maps with integer keys (docs/FORMAT.md §4.2). */

/** A label table: `names[label]` is the property name written as integer key `label`. */
export interface KeyLabels {
  readonly names: readonly string[];
  readonly labels: ReadonlyMap<string, number>;
}

export function keyLabels(names: readonly string[]): KeyLabels {
  return { names, labels: new Map(names.map((name, label) => [name, label])) };
}
