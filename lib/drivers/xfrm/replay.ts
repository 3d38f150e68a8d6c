/**
 * Replay state: struct xfrm_replay_state (XFRMA_REPLAY_VAL, the legacy 32-packet window) and
 * struct xfrm_replay_state_esn (XFRMA_REPLAY_ESN_VAL, any window, 64-bit counters), and the
 * model's Sequence.
 *
 * Bitmaps. The model (lib/model/child-sa.ts, scripts/gen-fixtures.ts) has one convention for
 * every window: bit i, that is bit i%32 of little-endian 32-bit word i/32, stands for sequence
 * number `inbound - i`. The legacy kernel bitmap is exactly that (the kernel shifts it left as
 * the window advances). The ESN/large-window bitmap is a ring: the kernel keeps the bit of the
 * highest sequence number S at position pos = ((S_lo - 1) mod 2^32) mod W, where S_lo is the low
 * 32 bits of S and W the window, and the bit of S - d at (pos - d) mod W
 * (xfrm_replay_check_esn / xfrm_replay_check_bmp). ringToLinear and linearToRing convert
 * between the two; they are each other's inverse for every d in [0, W). Bits at and beyond
 * position W (the unused tail of the last word) stand for nothing and are neither read nor
 * written.
 *
 * The conversion reads the ring the way the kernel checks an arriving packet against it, so a
 * restored window rejects and accepts exactly what the original would have. (When W does not
 * divide 2^32, the kernel's own ring is off by some slots for the packets received before
 * S_lo - 1 wrapped: the first packet of a fresh SA, and each 2^32 boundary. linearToRing
 * (ringToLinear(ring)) still gives back the identical ring, so nothing changes on restore.)
 */
import { GatewayError } from '../../errors.js';
import type { Sequence } from '../../model/child-sa.js';
import { MAX_REPLAY_WINDOW } from './constants.js';
import { LAYOUT } from './layout.js';
import { LITTLE_ENDIAN, malformed, view } from './netlink.js';

const LEGACY = LAYOUT.xfrm_replay_state;
const ESN = LAYOUT.xfrm_replay_state_esn;
/** The legacy bitmap is one u32. */
export const LEGACY_WINDOW_MAX = 32;

export interface KernelReplayState {
  oseq: number;
  seq: number;
  bitmap: number;
}

export interface KernelReplayEsn {
  oseq: number;
  seq: number;
  oseqHi: number;
  seqHi: number;
  replayWindow: number;
  /** bmp[], bmp_len words (host-order u32 values). */
  bmp: number[];
}

export function parseReplayState(bytes: Uint8Array): KernelReplayState {
  if (bytes.byteLength < LEGACY.size) throw malformed(`XFRMA_REPLAY_VAL is ${bytes.byteLength} bytes, want ${LEGACY.size}`);
  const dv = view(bytes);
  return {
    oseq: dv.getUint32(LEGACY.offsets.oseq, LITTLE_ENDIAN),
    seq: dv.getUint32(LEGACY.offsets.seq, LITTLE_ENDIAN),
    bitmap: dv.getUint32(LEGACY.offsets.bitmap, LITTLE_ENDIAN),
  };
}

export function encodeReplayState(state: KernelReplayState): Uint8Array {
  const out = new Uint8Array(LEGACY.size);
  const dv = view(out);
  dv.setUint32(LEGACY.offsets.oseq, state.oseq >>> 0, LITTLE_ENDIAN);
  dv.setUint32(LEGACY.offsets.seq, state.seq >>> 0, LITTLE_ENDIAN);
  dv.setUint32(LEGACY.offsets.bitmap, state.bitmap >>> 0, LITTLE_ENDIAN);
  return out;
}

export function parseReplayEsn(bytes: Uint8Array): KernelReplayEsn {
  if (bytes.byteLength < ESN.size) throw malformed(`XFRMA_REPLAY_ESN_VAL is ${bytes.byteLength} bytes, want at least ${ESN.size}`);
  const dv = view(bytes);
  const bmpLen = dv.getUint32(ESN.offsets.bmp_len, LITTLE_ENDIAN);
  if (bytes.byteLength < ESN.size + 4 * bmpLen) {
    throw malformed(`XFRMA_REPLAY_ESN_VAL is ${bytes.byteLength} bytes, too short for bmp_len ${bmpLen}`);
  }
  const bmp: number[] = [];
  for (let i = 0; i < bmpLen; i++) bmp.push(dv.getUint32(ESN.offsets.bmp + 4 * i, LITTLE_ENDIAN));
  return {
    oseq: dv.getUint32(ESN.offsets.oseq, LITTLE_ENDIAN),
    seq: dv.getUint32(ESN.offsets.seq, LITTLE_ENDIAN),
    oseqHi: dv.getUint32(ESN.offsets.oseq_hi, LITTLE_ENDIAN),
    seqHi: dv.getUint32(ESN.offsets.seq_hi, LITTLE_ENDIAN),
    replayWindow: dv.getUint32(ESN.offsets.replay_window, LITTLE_ENDIAN),
    bmp,
  };
}

export function encodeReplayEsn(state: KernelReplayEsn): Uint8Array {
  const out = new Uint8Array(ESN.size + 4 * state.bmp.length);
  const dv = view(out);
  dv.setUint32(ESN.offsets.bmp_len, state.bmp.length, LITTLE_ENDIAN);
  dv.setUint32(ESN.offsets.oseq, state.oseq >>> 0, LITTLE_ENDIAN);
  dv.setUint32(ESN.offsets.seq, state.seq >>> 0, LITTLE_ENDIAN);
  dv.setUint32(ESN.offsets.oseq_hi, state.oseqHi >>> 0, LITTLE_ENDIAN);
  dv.setUint32(ESN.offsets.seq_hi, state.seqHi >>> 0, LITTLE_ENDIAN);
  dv.setUint32(ESN.offsets.replay_window, state.replayWindow >>> 0, LITTLE_ENDIAN);
  state.bmp.forEach((word, i) => dv.setUint32(ESN.offsets.bmp + 4 * i, word >>> 0, LITTLE_ENDIAN));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bitmaps

export const wordsFor = (window: number): number => Math.ceil(window / 32);

function getLinearBit(bitmap: Uint8Array, i: number): boolean {
  return ((bitmap[(i >> 5) * 4 + ((i & 31) >> 3)]! >> (i & 7)) & 1) === 1;
}

function setLinearBit(bitmap: Uint8Array, i: number): void {
  bitmap[(i >> 5) * 4 + ((i & 31) >> 3)]! |= 1 << (i & 7);
}

/** Ring position of the highest sequence number (`inbound`), as the kernel computes it. */
export function ringTop(inbound: bigint, window: number): number {
  const low = Number(inbound & 0xffff_ffffn);
  return ((low - 1) >>> 0) % window;
}

/**
 * The kernel's ring bitmap (`bmp` words, host-order values) as the model's bitmap: bit i of
 * the result is set when the ring bit of sequence number `inbound - i` is set.
 */
export function ringToLinear(bmp: readonly number[], window: number, inbound: bigint): Uint8Array {
  const out = new Uint8Array(wordsFor(window) * 4);
  if (window === 0) return out;
  const top = ringTop(inbound, window);
  for (let i = 0; i < window; i++) {
    const position = (((top - i) % window) + window) % window;
    if ((bmp[position >> 5]! >>> (position & 31)) & 1) setLinearBit(out, i);
  }
  return out;
}

/** The model's bitmap as the kernel's ring words (the inverse of ringToLinear). */
export function linearToRing(bitmap: Uint8Array, window: number, inbound: bigint): number[] {
  const bmp = new Array<number>(wordsFor(window)).fill(0);
  if (window === 0) return bmp;
  const top = ringTop(inbound, window);
  for (let i = 0; i < window; i++) {
    if (!getLinearBit(bitmap, i)) continue;
    const position = (((top - i) % window) + window) % window;
    bmp[position >> 5] = (bmp[position >> 5]! | (1 << (position & 31))) >>> 0;
  }
  return bmp;
}

/** A legacy u32 bitmap as model bytes (one little-endian word), and back. */
function legacyToLinear(bitmap: number): Uint8Array {
  const out = new Uint8Array(4);
  view(out).setUint32(0, bitmap >>> 0, true);
  return out;
}

function linearToLegacy(bitmap: Uint8Array): number {
  return bitmap.byteLength >= 4 ? view(bitmap).getUint32(0, true) : 0;
}

// ---------------------------------------------------------------------------------------------
// Model

/** How an SA's replay state travels: the legacy attribute or the ESN one. */
export type KernelReplay = { kind: 'legacy'; window: number; state: KernelReplayState } | { kind: 'esn'; state: KernelReplayEsn };

export function sequenceToModel(replay: KernelReplay, esnFlag: boolean, owner: string): Sequence {
  if (replay.kind === 'legacy') {
    if (esnFlag) throw malformed(`${owner}: an ESN SA without XFRMA_REPLAY_ESN_VAL`);
    const { window, state } = replay;
    if (window > LEGACY_WINDOW_MAX) throw malformed(`${owner}: a legacy replay window of ${window}`);
    if (window === 0 && state.bitmap !== 0) {
      throw new GatewayError('gateway.unsupported_state', `${owner} has a replay bitmap but no replay window, which ipsec-ctx cannot carry`);
    }
    return {
      esn: false,
      outbound: BigInt(state.oseq),
      inbound: BigInt(state.seq),
      windowSize: window,
      bitmap: window === 0 ? new Uint8Array(0) : legacyToLinear(state.bitmap),
    };
  }
  const { state } = replay;
  const window = state.replayWindow;
  if (window > MAX_REPLAY_WINDOW) throw malformed(`${owner}: replay window ${window} is larger than ${MAX_REPLAY_WINDOW}`);
  if (state.bmp.length !== wordsFor(window)) {
    throw new GatewayError(
      'gateway.unsupported_state',
      `${owner} has a ${state.bmp.length}-word replay bitmap for a ${window}-packet window, which ipsec-ctx cannot carry`,
    );
  }
  if (!esnFlag && (state.oseqHi !== 0 || state.seqHi !== 0)) {
    throw malformed(`${owner}: high sequence number halves without the ESN flag`);
  }
  const outbound = (BigInt(state.oseqHi) << 32n) | BigInt(state.oseq);
  const inbound = (BigInt(state.seqHi) << 32n) | BigInt(state.seq);
  return { esn: esnFlag, outbound, inbound, windowSize: window, bitmap: ringToLinear(state.bmp, window, inbound) };
}

/**
 * The attribute a model Sequence travels in: ESN SAs and windows over 32 packets take
 * XFRMA_REPLAY_ESN_VAL (as iproute2 and strongSwan send them), the rest the legacy one.
 */
export function sequenceFromModel(sequence: Sequence, owner: string): KernelReplay {
  const { windowSize: window, inbound, outbound } = sequence;
  if (window > MAX_REPLAY_WINDOW) {
    throw new GatewayError('gateway.bad_replay_window', `${owner}: the kernel takes replay windows of up to ${MAX_REPLAY_WINDOW} packets, not ${window}`);
  }
  const limit = sequence.esn ? 2n ** 64n : 2n ** 32n;
  if (inbound >= limit || outbound >= limit) {
    throw new GatewayError('gateway.bad_sequence', `${owner}: a sequence number beyond ${sequence.esn ? 64 : 32} bits`);
  }
  if (sequence.esn || window > LEGACY_WINDOW_MAX) {
    return {
      kind: 'esn',
      state: {
        oseq: Number(outbound & 0xffff_ffffn),
        oseqHi: Number(outbound >> 32n),
        seq: Number(inbound & 0xffff_ffffn),
        seqHi: Number(inbound >> 32n),
        replayWindow: window,
        bmp: linearToRing(sequence.bitmap, window, inbound),
      },
    };
  }
  return {
    kind: 'legacy',
    window,
    state: { oseq: Number(outbound), seq: Number(inbound), bitmap: window === 0 ? 0 : linearToLegacy(sequence.bitmap) },
  };
}
