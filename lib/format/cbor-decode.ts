/**
 * The strict decoder for the deterministic CBOR subset described in cbor-encode.ts
 * (docs/FORMAT.md §2). It accepts exactly what the encoder produces and rejects everything
 * else while it reads: non-shortest heads, unsorted or repeated map keys, floats, tags, null,
 * indefinite lengths, invalid UTF-8, lengths past the input, trailing bytes.
 */
import { FormatError } from '../errors.js';
import type { KeyLabels } from './cbor-labels.js';
import { ObjectShapes } from './object-shapes.js';
import { ShortTextCache } from './short-text-cache.js';

const TWO_32 = 0x1_0000_0000;
const MAX_DEPTH = 32;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const shortTexts = new ShortTextCache();

// Compiled object constructors live as long as their label table. Text-keyed maps (the blob
// header, read before anything is authenticated) are built property by property instead, so
// that no input can make the process keep its key names.
const shapesByTable = new WeakMap<KeyLabels, ObjectShapes>();

function shapesFor(table: KeyLabels): ObjectShapes {
  let shapes = shapesByTable.get(table);
  if (!shapes) shapesByTable.set(table, (shapes = new ObjectShapes(table)));
  return shapes;
}

class Reader {
  private position = 0;
  private readonly view: DataView;
  private readonly end: number;
  /** Argument of the last head, when it fits a safe integer; otherwise `big` holds it. */
  private argument = 0;
  private big: bigint | undefined;
  private readonly shapes: ObjectShapes | undefined;
  /**
   * Entries of the maps being read, outermost first, until their object is built: a nested map
   * pushes its entries above its parent's and pops them when it is done.
   */
  private readonly pendingKeys: string[] = [];
  private readonly pendingValues: unknown[] = [];
  private pendingTop = 0;
  private readonly latin1: (start: number, end: number) => string;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
    private readonly table: KeyLabels | undefined,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.byteLength;
    this.shapes = table && shapesFor(table);
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.latin1 = (start, end) => buffer.toString('latin1', start, end);
  }

  private malformed(message: string): FormatError {
    return new FormatError('format.cbor', `${this.what} is not valid CBOR (${message} at byte ${this.position})`);
  }

  private nonCanonical(message: string): FormatError {
    return new FormatError('format.non_canonical', `${this.what} is not in deterministic CBOR encoding (${message} at byte ${this.position})`);
  }

  private need(n: number): void {
    if (this.position + n > this.end) throw this.malformed('ends early');
  }

  /** Reads a head, leaving its argument in `argument`/`big`; returns the major type. */
  private head(): number {
    if (this.position >= this.end) throw this.malformed('ends early');
    const initial = this.bytes[this.position++] as number;
    const info = initial & 31;
    this.big = undefined;
    // Most heads (labels, small integers, short strings and maps) carry their argument inline.
    if (info < 24) this.argument = info;
    else this.longArgument(info);
    return initial >> 5;
  }

  /** The argument of a head with additional information `info` (24 and up), in its shortest form. */
  private longArgument(info: number): void {
    if (info === 24) {
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
  }

  /** The head's argument as a length that must fit in what is left of the input. */
  private length(unit: number): number {
    if (this.big !== undefined || this.argument * unit > this.end - this.position) throw this.malformed('length beyond the input');
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
        // Filled by push, the array stays packed (no holes for later reads to check for).
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
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
    return this.table ? this.labelledMap(this.table, n, depth) : this.textMap(n, depth);
  }

  /**
   * A map with integer labels: the label table names the keys. The canonical encodings of
   * unsigned integers sort bytewise exactly as the numbers do, so the order check compares
   * labels.
   */
  private labelledMap(table: KeyLabels, n: number, depth: number): Record<string, unknown> {
    const base = this.pendingTop;
    let shape = this.shapes?.root;
    let previous = -1;
    for (let i = 0; i < n; i++) {
      const keyStart = this.position;
      const major = this.head();
      const name = major === 0 && this.big === undefined ? table.names[this.argument] : undefined;
      if (name === undefined) throw new FormatError('format.unknown_field', `${this.what} holds a field this version does not know (key at byte ${keyStart})`);
      if (this.argument <= previous) throw this.nonCanonical('map keys out of order or repeated');
      previous = this.argument;
      shape = shape?.child(this.argument);
      this.push(name, this.value(depth + 1));
    }
    const out = shape ? shape.build(this.pendingValues, base) : this.assemble(base);
    this.pendingTop = base;
    return out;
  }

  /** A map with text keys, compared as their encoded bytes. */
  private textMap(n: number, depth: number): Record<string, unknown> {
    const base = this.pendingTop;
    let previousStart = -1;
    let previousEnd = -1;
    for (let i = 0; i < n; i++) {
      const keyStart = this.position;
      if (this.head() !== 3) throw this.nonCanonical('a map key that is not text');
      const key = this.text(this.length(1));
      // Deterministic order is the bytewise order of the encoded keys; equal means repeated.
      if (previousStart >= 0 && this.compareRanges(previousStart, previousEnd, keyStart, this.position) >= 0) {
        throw this.nonCanonical('map keys out of order or repeated');
      }
      previousStart = keyStart;
      previousEnd = this.position;
      this.push(key, this.value(depth + 1));
    }
    const out = this.assemble(base);
    this.pendingTop = base;
    return out;
  }

  private push(key: string, value: unknown): void {
    this.pendingKeys[this.pendingTop] = key;
    this.pendingValues[this.pendingTop] = value;
    this.pendingTop++;
  }

  /** An object from the pending entries above `base`, one property at a time. */
  private assemble(base: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = base; i < this.pendingTop; i++) {
      const key = this.pendingKeys[i] as string;
      const item = this.pendingValues[i];
      if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
      else out[key] = item;
    }
    return out;
  }

  /** UTF-8 text of `n` bytes; short ASCII (almost all of it) through the cache, without a decoder call. */
  private text(n: number): string {
    const start = this.position;
    this.position += n;
    return shortTexts.ascii(this.bytes, start, start + n, this.latin1) ?? this.utf8(start, n);
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

  finish(): void {
    if (this.position !== this.end) throw this.malformed('data after the end');
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
  reader.finish();
  return value;
}
