/**
 * Deterministic CBOR (RFC 8949 §4.2.1, "core deterministic encoding") for the subset of CBOR
 * that ipsec-ctx signs and encrypts (docs/FORMAT.md §2):
 *
 * - unsigned and negative integers up to 64 bits, in their shortest form;
 * - byte strings, UTF-8 text strings, definite-length arrays, `true` and `false`;
 * - maps whose keys are either all text strings or, with a label table, all small unsigned
 *   integers (docs/FORMAT.md §4.2), sorted by their encoded bytes, without duplicates;
 * - no floats, no tags, no null or undefined, no indefinite lengths. `undefined` object
 *   fields are left out on encoding.
 *
 * The decoder (cbor-decode.ts) accepts exactly what the encoder produces and rejects everything else as it
 * reads (non-shortest heads, unsorted or repeated keys, forbidden types), so a decoded value
 * re-encodes to the same bytes without being re-encoded to check.
 *
 * Written for this subset rather than configured from a general CBOR library: one with no
 * deterministic mode needs a full re-encode to check canonical form, which cost ten times
 * more than decoding here (see `npm run bench`).
 */
import type { KeyLabels } from './cbor-labels.js';

const TWO_32 = 0x1_0000_0000;
const MAX_U64 = 2n ** 64n - 1n;
const MIN_I64 = -MAX_U64 - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_DEPTH = 32;

/** RFC 8949 §4.2.1 order for text keys: shorter UTF-8 encoding first, then bytewise. */
export function compareKeys(a: string, b: string): number {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length - bb.length || Buffer.compare(ab, bb);
}

/** Receives the encoding in pieces of exactly `chunkBytes`, as soon as each is complete. */
export interface ChunkSink {
  readonly chunkBytes: number;
  chunk(bytes: Uint8Array): void;
}

class Writer {
  private buffer: Uint8Array;
  private view: DataView;
  private position = 0;

  constructor(private readonly sink?: ChunkSink) {
    this.buffer = new Uint8Array(sink ? sink.chunkBytes * 2 : 1024);
    this.view = new DataView(this.buffer.buffer);
  }

  /** Starts over, keeping the buffer (the scratch writer of `encodeCanonical`). */
  reset(): void {
    this.position = 0;
  }

  get capacity(): number {
    return this.buffer.byteLength;
  }

  /** Hands every complete chunk to the sink and keeps only the tail. */
  flushChunks(): void {
    if (!this.sink || this.position < this.sink.chunkBytes) return;
    const { chunkBytes } = this.sink;
    const complete = this.position - (this.position % chunkBytes);
    for (let start = 0; start < complete; start += chunkBytes) this.sink.chunk(this.buffer.slice(start, start + chunkBytes));
    this.buffer.copyWithin(0, complete, this.position);
    this.position -= complete;
  }

  /** Room for `n` more bytes. Small, so that it is inlined into every write; `grow` is the rare case. */
  private reserve(n: number): void {
    if (this.position + n > this.buffer.byteLength) this.grow(n);
  }

  private grow(n: number): void {
    // With a sink, memory stays at a few chunks: flush before growing.
    this.flushChunks();
    if (this.position + n <= this.buffer.byteLength) return;
    let size = this.buffer.byteLength * 2;
    while (size < this.position + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.position));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  /** A head with a non-negative safe-integer argument, in its shortest form. */
  head(major: number, argument: number): void {
    this.reserve(9);
    const type = major << 5;
    if (argument < 24) this.buffer[this.position++] = type | argument;
    else if (argument < 0x100) {
      this.buffer[this.position++] = type | 24;
      this.buffer[this.position++] = argument;
    } else if (argument < 0x1_0000) {
      this.buffer[this.position++] = type | 25;
      this.view.setUint16(this.position, argument);
      this.position += 2;
    } else if (argument < TWO_32) {
      this.buffer[this.position++] = type | 26;
      this.view.setUint32(this.position, argument);
      this.position += 4;
    } else {
      this.buffer[this.position++] = type | 27;
      this.view.setUint32(this.position, Math.floor(argument / TWO_32));
      this.view.setUint32(this.position + 4, argument >>> 0);
      this.position += 8;
    }
  }

  bigHead(major: number, argument: bigint): void {
    if (argument <= MAX_SAFE) return this.head(major, Number(argument));
    this.reserve(9);
    this.buffer[this.position++] = (major << 5) | 27;
    this.view.setBigUint64(this.position, argument);
    this.position += 8;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.byteLength);
    this.buffer.set(bytes, this.position);
    this.position += bytes.byteLength;
  }

  text(value: string): void {
    // Most strings are short ASCII (ids, enum values, addresses): copy their code units.
    if (value.length < 24) {
      this.reserve(1 + value.length);
      const start = this.position;
      this.buffer[this.position++] = 0x60 | value.length;
      for (let i = 0; i < value.length; i++) {
        const unit = value.charCodeAt(i);
        if (unit >= 0x80) {
          this.position = start;
          return this.longText(value);
        }
        this.buffer[this.position++] = unit;
      }
      return;
    }
    this.longText(value);
  }

  private longText(value: string): void {
    const length = Buffer.byteLength(value, 'utf8');
    this.head(3, length);
    this.reserve(length);
    Buffer.from(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength).write(value, this.position, 'utf8');
    this.position += length;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.position++] = value;
  }

  result(): Uint8Array {
    return this.buffer.subarray(0, this.position);
  }
}

/** Writes one object as a map: its head, then each present entry in deterministic order. */
type MapEmitter = (writer: Writer, planner: MapPlanner, record: Record<string, unknown>, depth: number, encode: typeof encodeInto) => void;

interface PlanNode {
  readonly next: Map<string, PlanNode>;
  /** The child found last: records of one kind take the same path, and this skips the Map. */
  lastKey?: string;
  lastChild?: PlanNode;
  emit?: MapEmitter;
}

/**
 * Map emitters, one per object shape, cached in a trie over the keys in property order
 * (records of one kind share a few shapes, so finding one allocates nothing). Each emitter is
 * compiled for its key list, so its property reads stay monomorphic: the generic, keyed
 * reads they replace cost half the encoding time. Key names enter the generated source only
 * through JSON.stringify.
 */
class MapPlanner {
  private readonly root: PlanNode = { next: new Map() };

  constructor(private readonly table: KeyLabels | undefined) {}

  /** The emitter for the record's own keys, found without listing them into an array. */
  emitter(record: Record<string, unknown>): MapEmitter {
    let node = this.root;
    for (const key in record) node = node.lastKey === key ? (node.lastChild as PlanNode) : this.child(node, key);
    return (node.emit ??= this.compile(this.sorted(Object.keys(record))));
  }

  private child(node: PlanNode, key: string): PlanNode {
    let child = node.next.get(key);
    if (!child) {
      child = { next: new Map() };
      node.next.set(key, child);
    }
    node.lastKey = key;
    node.lastChild = child;
    return child;
  }

  private sorted(keys: readonly string[]): { key: string; label: number }[] {
    const table = this.table;
    if (!table) return keys.map((key) => ({ key, label: -1 })).sort((a, b) => compareKeys(a.key, b.key));
    return keys
      .map((key) => {
        const label = table.labels.get(key);
        if (label === undefined) throw new TypeError(`no label for field ${JSON.stringify(key)}`);
        return { key, label };
      })
      .sort((a, b) => a.label - b.label);
  }

  private compile(plan: readonly { key: string; label: number }[]): MapEmitter {
    const reads = plan.map(({ key }, i) => `const v${i} = record[${JSON.stringify(key)}];`);
    const count = plan.map((_, i) => `if (v${i} !== undefined) n++;`);
    const writes = plan.map(({ key, label }, i) => {
      const writeKey = label >= 0 ? `writer.head(0, ${label});` : `writer.text(${JSON.stringify(key)});`;
      return `if (v${i} !== undefined) { ${writeKey} encode(writer, planner, v${i}, depth + 1); }`;
    });
    const body = [...reads, 'let n = 0;', ...count, 'writer.head(5, n);', ...writes].join('\n');
    return new Function('writer', 'planner', 'record', 'depth', 'encode', body) as MapEmitter;
  }
}

function encodeInto(writer: Writer, planner: MapPlanner, value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new TypeError('nested too deeply');
  switch (typeof value) {
    case 'number':
      if (!Number.isSafeInteger(value)) throw new TypeError(`not an integer: ${value}`);
      if (value >= 0) writer.head(0, value);
      else writer.head(1, -1 - value);
      return;
    case 'bigint':
      if (value > MAX_U64 || value < MIN_I64) throw new TypeError('integer does not fit in 64 bits');
      if (value >= 0n) writer.bigHead(0, value);
      else writer.bigHead(1, -1n - value);
      return;
    case 'string':
      writer.text(value);
      return;
    case 'boolean':
      writer.byte(value ? 0xf5 : 0xf4);
      return;
    case 'object': {
      if (value === null) throw new TypeError('null is not part of the wire model');
      if (value instanceof Uint8Array) {
        writer.head(2, value.byteLength);
        writer.raw(value);
        return;
      }
      if (Array.isArray(value)) {
        writer.head(4, value.length);
        for (const item of value) encodeInto(writer, planner, item, depth + 1);
        return;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) throw new TypeError(`cannot encode ${prototype?.constructor?.name ?? 'object'}`);
      const record = value as Record<string, unknown>;
      // for-in sees the same keys as Object.keys: the prototype has no enumerable properties.
      planner.emitter(record)(writer, planner, record, depth, encodeInto);
      return;
    }
    default:
      throw new TypeError(`cannot encode ${typeof value}`);
  }
}

/**
 * The deterministic encoding of `value`; with `labels`, object keys become integer labels.
 * @throws TypeError for values outside the wire model (floats, null, Maps, unknown fields)
 */
export function encodeCanonical(value: unknown, labels?: KeyLabels): Uint8Array {
  // One scratch writer for every call, its result copied out: merge plans encode small
  // records by the ten thousand (to compare them, or as map keys), and a fresh buffer each
  // time cost more than the encoding. A scratch grown past SCRATCH_KEEP_BYTES by a large
  // context is let go, so memory is not held after a big seal.
  const writer = scratch ?? new Writer();
  scratch = undefined; // not reentrant: a nested call (there is none) would get its own
  try {
    writer.reset();
    encodeInto(writer, plannerFor(labels), value, 0);
    return writer.result().slice();
  } finally {
    if (writer.capacity <= SCRATCH_KEEP_BYTES) scratch = writer;
  }
}

const SCRATCH_KEEP_BYTES = 64 * 1024;
let scratch: Writer | undefined;

/**
 * The same encoding as `encodeCanonical`, handed to `sink` in complete chunks while it is
 * written; returns the final, incomplete chunk (possibly empty).
 */
export function encodeCanonicalInChunks(value: unknown, sink: ChunkSink, labels?: KeyLabels): Uint8Array {
  const writer = new Writer(sink);
  encodeInto(writer, plannerFor(labels), value, 0);
  writer.flushChunks();
  return writer.result().slice();
}

// Planners (and their compiled emitters) live as long as their label table.
const textPlanner = new MapPlanner(undefined);
const labelledPlanners = new WeakMap<KeyLabels, MapPlanner>();

function plannerFor(labels: KeyLabels | undefined): MapPlanner {
  if (!labels) return textPlanner;
  let planner = labelledPlanners.get(labels);
  if (!planner) labelledPlanners.set(labels, (planner = new MapPlanner(labels)));
  return planner;
}
