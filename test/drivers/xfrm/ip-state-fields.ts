/**
 * Reading single fields out of `ip -s xfrm state` text (the test oracle): per SA, the sequence
 * counters of its anti-replay context (legacy or ESN) and its statistics. Entries are keyed
 * `SPI@DESTINATION` (`c0000001@192.0.2.1`).
 */
import { entries } from './ip-oracle.js';

export interface SaFields {
  /** Last sequence number sent (oseq, with oseq-hi under ESN). */
  oseq: bigint;
  /** Highest sequence number received (seq, with seq-hi under ESN). */
  seq: bigint;
  stats: { replayWindow: number; replay: number; failed: number };
  /** The key lines (enc/auth/aead), to show that no key changed. */
  keys: string[];
  lines: string[];
}

const hex = (text: string | undefined) => BigInt(`0x${text ?? '0'}`);

export function saKey(entry: readonly string[]): string {
  const dst = /dst (\S+)/.exec(entry[0] ?? '')?.[1] ?? '?';
  const spi = /spi 0x([0-9a-f]+)/.exec(entry[1] ?? '')?.[1] ?? '?';
  return `${spi}@${dst}`;
}

export function saFields(text: string): Map<string, SaFields> {
  const result = new Map<string, SaFields>();
  for (const entry of entries(text)) {
    const at = entry.findIndex((line) => line.includes('anti-replay'));
    const replay = at < 0 ? '' : `${entry[at]} ${entry[at + 1] ?? ''}`;
    const esn = replay.includes('esn context');
    const number = (name: string) => hex(new RegExp(`(?:^|[\\s:,])${name} 0x([0-9a-f]+)`).exec(replay)?.[1]);
    const oseq = esn ? (number('oseq-hi') << 32n) | number('oseq') : number('oseq');
    const seq = esn ? (number('seq-hi') << 32n) | number('seq') : number('seq');
    const stats = /replay-window (\d+) replay (\d+) failed (\d+)/.exec(entry.find((line) => /^\s+replay-window \d+ replay \d+ failed/.test(line)) ?? '');
    result.set(saKey(entry), {
      oseq,
      seq,
      stats: { replayWindow: Number(stats?.[1] ?? -1), replay: Number(stats?.[2] ?? -1), failed: Number(stats?.[3] ?? -1) },
      keys: entry.filter((line) => /^\s+(enc|auth|auth-trunc|aead|comp) /.test(line)),
      lines: entry,
    });
  }
  return result;
}

/** The text with every oseq value replaced by OSEQ, for comparing the rest. */
export function withoutOseq(text: string): string {
  return text.replace(/oseq(-hi)? 0x[0-9a-f]+/g, 'oseq$1 OSEQ');
}
