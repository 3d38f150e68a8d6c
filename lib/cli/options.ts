/** Parsers for option values shared by several commands. Each throws a UsageError naming the option. */
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { UsageError } from '../errors.js';
import type { PublicKey } from '../crypto/key-text.js';
import { parsePublicKey } from '../crypto/key-text.js';
import { readKeyListFile } from '../crypto/key-files.js';
import type { Io } from './io.js';

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "10m", "2h", "1d" in milliseconds; at most 30 days. */
export function parseDuration(text: string): number {
  const match = /^([1-9][0-9]{0,6})([smhd])$/.exec(text);
  const seconds = match ? Number(match[1]) * (UNITS[match[2] as string] as number) : NaN;
  if (!Number.isFinite(seconds) || seconds > 30 * 86400) {
    throw new InvalidArgumentError('expected a duration such as 90s, 10m, 2h or 1d (at most 30d)');
  }
  return seconds * 1000;
}

export function parseUint32(text: string): number {
  if (!/^(?:0|[1-9][0-9]*)$/.test(text) || Number(text) > 0xffff_ffff) throw new InvalidArgumentError('expected an integer from 0 to 4294967295');
  return Number(text);
}

export function parseCount(text: string): bigint {
  if (!/^(?:0|[1-9][0-9]{0,18})$/.test(text)) throw new InvalidArgumentError('expected a non-negative integer');
  return BigInt(text);
}

/** An SPI as printed by `ip xfrm` (0xc1a2b3c4) or by charon (c1a2b3c4): 8 lowercase hex digits. */
export function parseSpi(text: string): string {
  const digits = text.toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{1,8}$/.test(digits)) throw new InvalidArgumentError('expected a 32-bit SPI in hex, e.g. 0xc1a2b3c4');
  return digits.padStart(8, '0');
}

/** Public keys from -r/--trust values and from key list files, in order. */
export function gatherKeys(io: Io, keys: readonly string[] | undefined, files: readonly string[] | undefined): PublicKey[] {
  return [...(keys ?? []).map((key) => parsePublicKey(key)), ...(files ?? []).flatMap((file) => readKeyListFile(resolve(io.cwd, file)))];
}

export function requireIdentityPath(path: string | undefined, why: string): string {
  if (!path) throw new UsageError('usage.no_identity', `-i IDENTITY is required ${why}`, { hint: 'create one with `ipsec-ctx keygen -o FILE`' });
  return path;
}
