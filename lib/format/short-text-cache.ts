/**
 * Short ASCII text strings by content, so that decoding the same spelling twice gives the same
 * string. A context repeats most of its text (enum values, algorithm names, the endpoints of
 * every SA pair): a cache hit allocates nothing, and the string it returns is flat and has its
 * hash computed, which later Map lookups and regular expressions (address canonicalisation, id
 * checks) would otherwise pay for on every fresh copy.
 *
 * A direct-mapped table: each spelling has one slot, chosen by a hash of its bytes; a miss
 * overwrites the slot. Never wrong, at worst a copy more.
 */

/** Longer text is rarely repeated; copying it is cheaper than comparing it. */
export const SHORT_TEXT_BYTES = 48;
const SLOTS = 4096; // a power of two

export class ShortTextCache {
  private readonly slots = new Array<string | undefined>(SLOTS).fill(undefined);

  /**
   * The text of `bytes[start..end)`, or undefined if it is longer than SHORT_TEXT_BYTES or not
   * ASCII (the caller decodes it as UTF-8).
   */
  ascii(bytes: Uint8Array, start: number, end: number, latin1: (start: number, end: number) => string): string | undefined {
    if (end - start > SHORT_TEXT_BYTES) return undefined;
    let hash = end - start;
    for (let i = start; i < end; i++) {
      const byte = bytes[i] as number;
      if (byte >= 0x80) return undefined;
      hash = Math.imul(hash ^ byte, 0x01000193);
    }
    const slot = (hash ^ (hash >>> 15)) & (SLOTS - 1);
    const cached = this.slots[slot];
    if (cached !== undefined && sameAscii(cached, bytes, start, end)) return cached;
    // ASCII is its own Latin-1; the native copy makes a flat string.
    const text = latin1(start, end);
    this.slots[slot] = text;
    return text;
  }
}

function sameAscii(text: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}
