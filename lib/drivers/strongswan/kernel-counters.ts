/**
 * The live state of charon's CHILD SAs, where they live in the Linux kernel (kernel-netlink),
 * through the xfrm driver's netlink code (docs/strongswan.md §8, "Counters").
 *
 * The HA protocol carries keys but no sequence numbers, replay windows or usage: a charon that
 * receives a CHILD SA installs it with every counter at zero, and its outbound packets would
 * reuse sequence numbers the source already sent with the same key (the peer drops them as
 * replays; with AES-GCM a reused counter is a reused nonce). So:
 * - get overlays each CHILD SA of the HA snapshot with the sequence state and lifetime (limits
 *   and usage) of the kernel SA of the same SPI, destination and protocol;
 * - put, once the target charon has installed the synced CHILD SAs and before it takes over,
 *   sets those of its kernel SAs to the context's (outbound counters already jumped forward by
 *   the generic layer, lib/restore/prepare.ts) with XFRM_MSG_NEWAE, which changes nothing else.
 */
import { GatewayError } from '../../errors.js';
import type { ChildSa } from '../../model/child-sa.js';
import type { Context } from '../../model/context.js';
import { parseContext } from '../../model/validate.js';
import { newAeMessage } from '../xfrm/aevent.js';
import { usageAtRestore } from '../xfrm/lifetime.js';
import { kernelRefused } from '../xfrm/netlink.js';
import { XfrmSocket } from '../xfrm/socket.js';
import { dumpKernelState, kernelStateToModel } from '../xfrm/state.js';

/** Where charon's CHILD SAs live: the kernel of the caller's network namespace, or of a named one. */
export interface KernelCounters {
  netns?: string;
}

/** What identifies an SA to the kernel (xfrm_state_lookup: destination, SPI, protocol). */
const identity = (sa: Pick<ChildSa, 'protocol' | 'spi' | 'destination'>) => `${sa.protocol} ${Buffer.from(sa.spi).toString('hex')} ${sa.destination}`;

function open(where: KernelCounters): XfrmSocket {
  return XfrmSocket.open(where.netns === undefined ? {} : { netns: where.netns });
}

export interface OverlayResult {
  context: Context;
  /** CHILD SAs the kernel does not hold (rekeyed or deleted since HA announced them). */
  missing: ChildSa[];
}

/**
 * `context` with each CHILD SA's sequence state and lifetime taken from the kernel, validated.
 * @throws GatewayError when the kernel cannot be read
 */
export function overlayKernelCounters(context: Context, where: KernelCounters): OverlayResult {
  const socket = open(where);
  let kernelSas: ChildSa[];
  try {
    kernelSas = kernelStateToModel(dumpKernelState(socket).state, { skipUnsupported: true }).childSas;
  } finally {
    socket.close();
  }
  const live = new Map(kernelSas.map((sa) => [identity(sa), sa]));
  const missing: ChildSa[] = [];
  const childSas = context.childSas.map((child) => {
    const sa = live.get(identity(child));
    if (!sa) {
      missing.push(child);
      return child;
    }
    return { ...child, sequence: sa.sequence, lifetime: sa.lifetime };
  });
  return { context: parseContext({ ...context, childSas }), missing };
}

/**
 * Sets the sequence state and usage of the kernel SAs a target charon installed for
 * `context`'s CHILD SAs, in one batch. Stops at the first refusal; what was set before it
 * belongs to SAs the caller's rollback deletes anyway.
 * @throws GatewayError `strongswan.counters_failed` with the kernel's own words
 */
export function writeKernelCounters(context: Context, where: KernelCounters, nowMs: number): void {
  const childSas = context.childSas.filter((child) => child.protocol !== 'ipcomp');
  if (childSas.length === 0) return;
  const aged = childSas.map((child) => ({ ...child, lifetime: { ...child.lifetime, used: usageAtRestore(child.lifetime.used, context.provenance.capturedAtMs, nowMs) } }));
  const socket = open(where);
  try {
    const results = socket.batch(
      aged.map((child) => newAeMessage(child)),
      { stopOnError: true },
    );
    const failed = results.find((result) => result.errno !== 0);
    if (failed) {
      const refused = kernelRefused(`set the counters of CHILD SA ${identity(childSas[failed.index]!)}`, failed);
      throw new GatewayError('strongswan.counters_failed', `${socket.where}: ${refused.message}`, {
        hint: 'the target charon must install its CHILD SAs in this kernel (kernel-netlink) with the same replay window as the source (charon.replay_window)',
      });
    }
  } finally {
    socket.close();
  }
}
