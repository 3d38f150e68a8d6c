/**
 * Reads the key dumps out of a charon file log written at level 4 for `ike` and `chd`
 * (lab/strongswan/swlab.sh configures it), the oracle the derived keys are checked against:
 *
 *   16:58:20.508 14[IKE] <1> Sk_d secret => 32 bytes @ 0x7f3a000091f0
 *   16:58:20.508 14[IKE] <1>    0: 16 A4 B5 8D A4 AC 27 B1 5F A1 2A 4F DB BC A1 C1  ......'._.*O....
 *
 * Dumps of different threads interleave, so rows are joined to the header of the same thread.
 * Consecutive dumps of one thread form a block: an IKE key set (Sk_d … Sk_pr) or a CHILD key
 * set (encryption/integrity initiator/responder key).
 */
import type { IkeKeys } from '../../../lib/drivers/strongswan/keymat.js';

export interface Dump {
  thread: string;
  /** The `<name|id>` or `<id>` tag, when charon logged one. */
  sa: string | undefined;
  label: string;
  bytes: Uint8Array;
}

const HEADER = /^\S+ (\d+)\[(\w+)\] (?:<([^>]*)> )?(.+?) => (\d+) bytes @ 0x[0-9a-f]+$/;
const ROW = /^\S+ (\d+)\[(\w+)\] (?:<[^>]*> )?\s*(\d+): ((?:[0-9A-F]{2} ?)+)/;

export function parseDumps(log: string): Dump[] {
  const dumps: Dump[] = [];
  const open = new Map<string, { dump: Omit<Dump, 'bytes'>; length: number; data: number[] }>();
  const close = (thread: string) => {
    const pending = open.get(thread);
    if (!pending) return;
    open.delete(thread);
    dumps.push({ ...pending.dump, bytes: Uint8Array.from(pending.data.slice(0, pending.length)) });
  };
  for (const line of log.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      const [, thread, , sa, label, length] = header as unknown as [string, string, string, string | undefined, string, string];
      close(thread);
      open.set(thread, { dump: { thread, sa, label }, length: Number(length), data: [] });
      if (Number(length) === 0) close(thread);
      continue;
    }
    const row = ROW.exec(line);
    if (row) {
      const [, thread, , , hex] = row as unknown as [string, string, string, string, string];
      const pending = open.get(thread);
      if (!pending) continue;
      // The hex columns end where two spaces precede the ASCII column.
      for (const byte of hex.trim().split(' ').slice(0, 16)) pending.data.push(parseInt(byte, 16));
      if (pending.data.length >= pending.length) close(thread);
      continue;
    }
  }
  for (const thread of [...open.keys()]) close(thread);
  return dumps;
}

/** IKE SA keys as charon logged them, for the SA named `sa`. */
export interface LoggedIkeKeys extends IkeKeys {
  sa: string | undefined;
}

export interface LoggedChildKeys {
  sa: string | undefined;
  encrI: Uint8Array;
  encrR: Uint8Array;
  integI?: Uint8Array;
  integR?: Uint8Array;
}

const IKE_LABELS: Record<string, keyof Omit<LoggedIkeKeys, 'sa'>> = {
  'Sk_d secret': 'skD',
  'Sk_ai secret': 'skAi',
  'Sk_ar secret': 'skAr',
  'Sk_ei secret': 'skEi',
  'Sk_er secret': 'skEr',
  'Sk_pi secret': 'skPi',
  'Sk_pr secret': 'skPr',
};
const CHILD_LABELS: Record<string, keyof Omit<LoggedChildKeys, 'sa'>> = {
  'encryption initiator key': 'encrI',
  'encryption responder key': 'encrR',
  'integrity initiator key': 'integI',
  'integrity responder key': 'integR',
};

/** IKE key sets in log order: each starts at an "Sk_d secret" and ends at "Sk_pr secret" of the same thread. */
export function ikeKeySets(dumps: readonly Dump[]): LoggedIkeKeys[] {
  const sets: LoggedIkeKeys[] = [];
  const open = new Map<string, Partial<LoggedIkeKeys>>();
  for (const dump of dumps) {
    const field = IKE_LABELS[dump.label];
    if (!field) continue;
    if (field === 'skD') open.set(dump.thread, { sa: dump.sa });
    const set = open.get(dump.thread);
    if (!set) continue;
    set[field] = dump.bytes;
    if (field === 'skPr') {
      sets.push(set as LoggedIkeKeys);
      open.delete(dump.thread);
    }
  }
  return sets;
}

/** CHILD key sets in log order: from "encryption initiator key" to the last key of the same thread. */
export function childKeySets(dumps: readonly Dump[]): LoggedChildKeys[] {
  const sets: LoggedChildKeys[] = [];
  let current: Partial<LoggedChildKeys> | undefined;
  let thread = '';
  const flush = () => {
    if (current?.encrI && current.encrR) sets.push(current as LoggedChildKeys);
    current = undefined;
  };
  for (const dump of dumps) {
    const field = CHILD_LABELS[dump.label];
    if (!field) continue;
    if (field === 'encrI' || dump.thread !== thread) {
      flush();
      current = { sa: dump.sa };
      thread = dump.thread;
    }
    (current as Partial<LoggedChildKeys>)[field] = dump.bytes;
  }
  flush();
  return sets;
}
