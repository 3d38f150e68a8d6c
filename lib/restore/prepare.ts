/**
 * Driver-independent steps between decrypting a context and applying it (docs/restore.md):
 *
 * 1. Drop CHILD SAs already past a hard lifetime limit: a gateway would delete them at once,
 *    and installing them would only confuse the IKE daemon. Each one is reported.
 * 2. Jump every outbound sequence counter forward, strictly past anything the source can have
 *    sent since it was read. The source may keep sending between `get` and the switch-over;
 *    reusing a sequence number with the same key breaks AES-GCM (nonce reuse) and makes the
 *    peer drop packets as replays. The jump is the SA's observed packet rate times the time
 *    since capture, times a safety factor, plus a floor.
 * 3. Refuse an SA whose counter would pass 2^32 without ESN: it must be rekeyed first.
 */
import { GatewayError } from '../errors.js';
import type { ChildSa } from '../model/child-sa.js';
import type { Context } from '../model/context.js';
import { describeChildSa } from '../model/describe.js';

export interface JumpPolicy {
  /** Added to every outbound counter even when the SA was idle. */
  floor: bigint;
  /** Multiplies the observed average rate, to cover bursts above the average. */
  rateFactor: number;
}

export const DEFAULT_JUMP: JumpPolicy = { floor: 65_536n, rateFactor: 4 };

export interface SequenceJump {
  description: string;
  from: bigint;
  to: bigint;
}

export interface PreparedContext {
  context: Context;
  jumps: SequenceJump[];
  skipped: { description: string; reason: string }[];
}

/** Why `child` is past a hard limit at `nowSeconds`, or undefined when it is still usable. */
export function hardLimitPassed(child: ChildSa, nowSeconds: number): string | undefined {
  const { hard, used } = child.lifetime;
  if (hard.bytes !== undefined && used.bytes >= hard.bytes) return `used ${used.bytes} of ${hard.bytes} bytes`;
  if (hard.packets !== undefined && used.packets >= hard.packets) return `used ${used.packets} of ${hard.packets} packets`;
  if (hard.addSeconds !== undefined && BigInt(nowSeconds - used.addTime) >= hard.addSeconds) {
    return `installed ${nowSeconds - used.addTime}s ago, hard limit ${hard.addSeconds}s`;
  }
  if (hard.useSeconds !== undefined && used.useTime !== undefined && BigInt(nowSeconds - used.useTime) >= hard.useSeconds) {
    return `first used ${nowSeconds - used.useTime}s ago, hard limit ${hard.useSeconds}s`;
  }
  return undefined;
}

/** The counter the restored SA starts from. */
export function jumpedOutbound(child: ChildSa, capturedAtMs: number, nowMs: number, policy: JumpPolicy): bigint {
  const capturedSeconds = Math.floor(capturedAtMs / 1000);
  const activeSeconds = Math.max(1, capturedSeconds - (child.lifetime.used.useTime ?? child.lifetime.used.addTime));
  const packetsPerSecond = Number(child.lifetime.used.packets) / activeSeconds;
  const sinceCaptureSeconds = Math.max(0, nowMs - capturedAtMs) / 1000;
  const expected = Math.ceil(packetsPerSecond * sinceCaptureSeconds * policy.rateFactor);
  return child.sequence.outbound + BigInt(expected) + policy.floor;
}

/** @throws GatewayError `gateway.sequence_exhausted` */
export function prepareForRestore(context: Context, nowMs: number, policy: JumpPolicy = DEFAULT_JUMP): PreparedContext {
  const nowSeconds = Math.floor(nowMs / 1000);
  const skipped: PreparedContext['skipped'] = [];
  const jumps: SequenceJump[] = [];
  const childSas: ChildSa[] = [];
  for (const child of context.childSas) {
    const reason = hardLimitPassed(child, nowSeconds);
    if (reason !== undefined) {
      skipped.push({ description: describeChildSa(child), reason: `past its hard lifetime (${reason})` });
      continue;
    }
    // IPComp has no sequence numbers; inbound SAs never send.
    if (child.direction !== 'out' || child.protocol === 'ipcomp') {
      childSas.push(child);
      continue;
    }
    const to = jumpedOutbound(child, context.provenance.capturedAtMs, nowMs, policy);
    const ceiling = child.sequence.esn ? 2n ** 64n - 1n : 2n ** 32n - 1n;
    if (to > ceiling) {
      throw new GatewayError('gateway.sequence_exhausted', `${describeChildSa(child)}: its sequence counter would pass ${child.sequence.esn ? '2^64' : '2^32'} after the restore jump`, {
        hint: 'rekey that CHILD SA on the source (e.g. `swanctl --rekey --child NAME`) and take a new blob',
      });
    }
    jumps.push({ description: describeChildSa(child), from: child.sequence.outbound, to });
    childSas.push({ ...child, sequence: { ...child.sequence, outbound: to } });
  }
  const kept = new Set(childSas.map((child) => child.id));
  const ikeSas = context.ikeSas.map((ike) => ({ ...ike, childSaIds: ike.childSaIds.filter((id) => kept.has(id)) }));
  return { context: { ...context, ikeSas, childSas }, jumps, skipped };
}
