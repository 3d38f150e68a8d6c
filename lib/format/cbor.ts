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
 * The decoder accepts exactly what the encoder produces and rejects everything else as it
 * reads (non-shortest heads, unsorted or repeated keys, forbidden types), so a decoded value
 * re-encodes to the same bytes without being re-encoded to check.
 *
 * Written for this subset rather than configured from a general CBOR library: one with no
 * deterministic mode needs a full re-encode to check canonical form, which cost ten times
 * more than decoding here (see `npm run bench`).
 */
import { FormatError } from '../errors.js';

/** A label table: `names[label]` is the property name written as integer key `label`. */
export interface KeyLabels {
  readonly names: readonly string[];
  readonly labels: ReadonlyMap<string, number>;
}

export function keyLabels(names: readonly string[]): KeyLabels {
  return { names, labels: new Map(names.map((name, label) => [name, label])) };
}

const TWO_32 = 0x1_0000_0000;
const MAX_U64 = 2n ** 64n - 1n;
const MAX_DEPTH = 32;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

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

  /** Hands every complete chunk to the sink and keeps only the tail. */
  flushChunks(): void {
    if (!this.sink || this.position < this.sink.chunkBytes) return;
    const { chunkBytes } = this.sink;
    const complete = this.position - (this.position % chunkBytes);
    for (let start = 0; start < complete; start += chunkBytes) this.sink.chunk(this.buffer.slice(start, start + chunkBytes));
    this.buffer.copyWithin(0, complete, this.position);
    this.position -= complete;
  }

  private reserve(n: number): void {
    if (this.position + n <= this.buffer.byteLength) return;
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
    if (argument <= BigInt(Number.MAX_SAFE_INTEGER)) return this.head(major, Number(argument));
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

  emitter(keys: readonly string[]): MapEmitter {
    let node = this.root;
    for (const key of keys) {
      let child = node.next.get(key);
      if (!child) {
        child = { next: new Map() };
        node.next.set(key, child);
      }
      node = child;
    }
    return (node.emit ??= this.compile(this.sorted(keys)));
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
      if (value > MAX_U64 || value < -MAX_U64 - 1n) throw new TypeError('integer does not fit in 64 bits');
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
      planner.emitter(Object.keys(record))(writer, planner, record, depth, encodeInto);
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
  const writer = new Writer();
  encodeInto(writer, plannerFor(labels), value, 0);
  return writer.result();
}

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

class Reader {
  private position = 0;
  private readonly view: DataView;
  /** Argument of the last head, when it fits a safe integer; otherwise `big` holds it. */
  private argument = 0;
  private big: bigint | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
    private readonly table: KeyLabels | undefined,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private malformed(message: string): FormatError {
    return new FormatError('format.cbor', `${this.what} is not valid CBOR (${message} at byte ${this.position})`);
  }

  private nonCanonical(message: string): FormatError {
    return new FormatError('format.non_canonical', `${this.what} is not in deterministic CBOR encoding (${message} at byte ${this.position})`);
  }

  private need(n: number): void {
    if (this.position + n > this.bytes.byteLength) throw this.malformed('ends early');
  }

  /** Reads a head, leaving its argument in `argument`/`big`; returns the major type. */
  private head(): number {
    this.need(1);
    const initial = this.bytes[this.position++] as number;
    const major = initial >> 5;
    const info = initial & 31;
    this.big = undefined;
    if (info < 24) {
      this.argument = info;
    } else if (info === 24) {
      this.need(1);
      this.argument = this.bytes[this.position++] as number;
      if (this.argument < 24) throw this.nonCanonical('non-shortest integer');
    } else if (info === 25) {
      this.need(2);
      this.argument = this.view.getUint16(this.position);
      this.position += 2;
      if (this.argument < 0x100) throw this.nonCanonical('non-shortest integer');
    } else if (info === 26) {
      this.need(4);
      this.argument = this.view.getUint32(this.position);
      this.position += 4;
      if (this.argument < 0x1_0000) throw this.nonCanonical('non-shortest integer');
    } else if (info === 27) {
      this.need(8);
      const high = this.view.getUint32(this.position);
      const low = this.view.getUint32(this.position + 4);
      this.position += 8;
      if (high === 0) throw this.nonCanonical('non-shortest integer');
      if (high < 0x20_0000) this.argument = high * TWO_32 + low;
      else this.big = (BigInt(high) << 32n) | BigInt(low);
    } else if (info === 31) {
      throw this.nonCanonical('indefinite length');
    } else {
      throw this.malformed('reserved head');
    }
    return major;
  }

  /** The head's argument as a length that must fit in what is left of the input. */
  private length(unit: number): number {
    if (this.big !== undefined || this.argument * unit > this.bytes.byteLength - this.position) throw this.malformed('length beyond the input');
    return this.argument;
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw this.malformed('nested too deeply');
    const start = this.position;
    const major = this.head();
    switch (major) {
      case 0:
        return this.big ?? this.argument;
      case 1:
        return this.big !== undefined ? -1n - this.big : this.argument >= Number.MAX_SAFE_INTEGER ? -1n - BigInt(this.argument) : -1 - this.argument;
      case 2: {
        const n = this.length(1);
        const out = new Uint8Array(this.bytes.buffer, this.bytes.byteOffset + this.position, n);
        this.position += n;
        return out;
      }
      case 3:
        return this.text(this.length(1));
      case 4: {
        const n = this.length(1);
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
        return out;
      }
      case 5:
        return this.map(this.length(2), depth);
      case 7:
        if (this.bytes[start] === 0xf4) return false;
        if (this.bytes[start] === 0xf5) return true;
        throw this.nonCanonical('a float or simple value');
      default:
        throw this.nonCanonical('a tag');
    }
  }

  private map(n: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let previousStart = -1;
    let previousEnd = -1;
    for (let i = 0; i < n; i++) {
      const keyStart = this.position;
      const major = this.head();
      let key: string;
      if (this.table) {
        const name = major === 0 && this.big === undefined ? this.table.names[this.argument] : undefined;
        if (name === undefined) throw new FormatError('format.unknown_field', `${this.what} holds a field this version does not know (key at byte ${keyStart})`);
        key = name;
      } else {
        if (major !== 3) throw this.nonCanonical('a map key that is not text');
        key = this.text(this.length(1));
      }
      // Deterministic order is the bytewise order of the encoded keys; equal means repeated.
      if (previousStart >= 0 && this.compareRanges(previousStart, previousEnd, keyStart, this.position) >= 0) {
        throw this.nonCanonical('map keys out of order or repeated');
      }
      previousStart = keyStart;
      previousEnd = this.position;
      const item = this.value(depth + 1);
      if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
      else out[key] = item;
    }
    return out;
  }

  /** UTF-8 text of `n` bytes; short ASCII (almost all of it) without a decoder call. */
  private text(n: number): string {
    const start = this.position;
    this.position += n;
    if (n <= 64) {
      let ascii = '';
      for (let i = start; i < start + n; i++) {
        const byte = this.bytes[i] as number;
        if (byte >= 0x80) return this.utf8(start, n);
        ascii += String.fromCharCode(byte);
      }
      return ascii;
    }
    return this.utf8(start, n);
  }

  private utf8(start: number, n: number): string {
    try {
      return strictUtf8.decode(this.bytes.subarray(start, start + n));
    } catch {
      throw this.malformed('invalid UTF-8');
    }
  }

  /** Bytewise comparison of two ranges of the input, shorter first on a common prefix. */
  private compareRanges(aStart: number, aEnd: number, bStart: number, bEnd: number): number {
    const n = Math.min(aEnd - aStart, bEnd - bStart);
    for (let i = 0; i < n; i++) {
      const diff = (this.bytes[aStart + i] as number) - (this.bytes[bStart + i] as number);
      if (diff !== 0) return diff;
    }
    return aEnd - aStart - (bEnd - bStart);
  }

  end(): void {
    if (this.position !== this.bytes.byteLength) throw this.malformed('data after the end');
  }
}

/**
 * Decodes one deterministic CBOR item that spans all of `bytes`. Byte strings in the result
 * are views into `bytes`.
 * @throws FormatError `format.cbor`, `format.non_canonical` or `format.unknown_field`
 */
export function decodeCanonical(bytes: Uint8Array, what: string, labels?: KeyLabels): unknown {
  const reader = new Reader(bytes, what, labels);
  const value = reader.value(0);
  reader.end();
  return value;
}
