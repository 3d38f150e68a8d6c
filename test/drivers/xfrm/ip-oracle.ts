/**
 * `ip xfrm` as the test oracle (never used by the product): run it, and cut its text output
 * into entries that can be compared field by field.
 */
import { execFileSync } from 'node:child_process';

export function ip(netns: string | undefined, args: readonly string[], input?: string): string {
  const full = netns === undefined ? [...args] : ['-n', netns, ...args];
  return execFileSync('ip', full, { encoding: 'utf8', ...(input === undefined ? {} : { input }), stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Entries of `ip xfrm state` / `ip xfrm policy` output: a line at column 0 and its indented lines. */
export function entries(text: string): string[][] {
  const result: string[][] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line) || result.length === 0) result.push([line.trimEnd()]);
    else result[result.length - 1]!.push(line.trimEnd());
  }
  return result;
}

/** The line that names an entry: `src A dst B` plus `proto P spi S` (states) or `dir D` (policies). */
export function entryKey(entry: readonly string[]): string {
  const head = entry[0]!;
  const second = entry[1] ?? '';
  const state = /proto \S+ spi \S+/.exec(second);
  if (state) return `${head} ${state[0]}`;
  const policy = /dir \S+/.exec(second);
  const mark = entry.find((line) => /^\s+mark /.test(line));
  return `${head} ${policy ? policy[0] : second.trim()}${mark ? ` ${mark.trim()}` : ''}`;
}

export interface EntryDifference {
  key: string;
  /** Lines only in `before` and only in `after`, or a missing/extra entry. */
  before: string[];
  after: string[];
}

/**
 * Compares two outputs entry by entry (order-independent) and line by line within an entry.
 * `ignore` drops lines that legitimately differ.
 */
export function compareOutputs(
  before: string,
  after: string,
  ignore: (key: string, line: string) => boolean = () => false,
): EntryDifference[] {
  const index = (text: string) => {
    const map = new Map<string, string[]>();
    for (const entry of entries(text)) {
      const key = entryKey(entry);
      if (map.has(key)) throw new Error(`two entries named ${key}`);
      map.set(key, entry.filter((line) => !ignore(key, line)));
    }
    return map;
  };
  const a = index(before);
  const b = index(after);
  const differences: EntryDifference[] = [];
  for (const [key, lines] of a) {
    const other = b.get(key);
    if (!other) {
      differences.push({ key, before: lines, after: [] });
      continue;
    }
    const onlyBefore = lines.filter((line, i) => other[i] !== line);
    const onlyAfter = other.filter((line, i) => lines[i] !== line);
    if (onlyBefore.length > 0 || onlyAfter.length > 0) differences.push({ key, before: onlyBefore, after: onlyAfter });
  }
  for (const [key, lines] of b) if (!a.has(key)) differences.push({ key, before: [], after: lines });
  return differences;
}

/** Number of fields compared: whitespace-separated words over all entries. */
export function fieldCount(text: string): number {
  return text.split(/\s+/).filter((word) => word !== '').length;
}
