/**
 * Taking SAs and policies out of service for `get --move`, after the blob was delivered: one
 * batch, DELSA for every taken SA first, then DELPOLICY for every taken policy.
 *
 * Why SAs first. The kernel handles the batch one request after another while packets keep
 * flowing, so for a moment some records are gone and others are not:
 *
 * - SAs first: for that moment a policy has no SA. An outbound packet it matches is dropped
 *   (and the kernel asks the IKE daemon for an SA); an inbound ESP packet finds no SA and is
 *   dropped; an inbound clear packet fails the `in` policy and is dropped. Nothing passes.
 * - Policies first: for that moment an SA has no policy, and a packet with no policy is let
 *   through as it is: outbound traffic of the tunnel would leave in the clear.
 *
 * So the order fails closed. Once the policies are gone too, the gateway treats that traffic
 * as it treats any traffic without a policy; on a gateway whose address moves to another one,
 * none arrives.
 *
 * Something already gone (ESRCH, ENOENT: expired, or deleted by the IKE daemon) counts as
 * taken. Any other failure leaves a record in service here while the blob holds it too: the
 * error says so, and which.
 */
import { GatewayError } from '../../errors.js';
import type { Context } from '../../model/context.js';
import { describeChildSa, describePolicy } from '../../model/describe.js';
import type { PlannedChange } from '../../restore/merge.js';
import { kernelRefused } from './netlink.js';
import { delPolicyMessage } from './policy.js';
import { delSaMessage } from './sa.js';
import type { BatchResult, XfrmSocket } from './socket.js';

const ENOENT = 2;
const ESRCH = 3;

interface Removal {
  change: PlannedChange;
  what: string;
  message: Uint8Array;
}

/** The requests, in the order above. */
export function removalsOf(taken: Context): Removal[] {
  return [
    ...taken.childSas.map((child) => ({
      change: { kind: 'child' as const, action: 'remove' as const, description: describeChildSa(child) },
      what: `delete SA ${child.id}`,
      message: delSaMessage(child),
    })),
    ...taken.policies.map((policy) => ({
      change: { kind: 'policy' as const, action: 'remove' as const, description: describePolicy(policy) },
      what: `delete ${policy.id}`,
      message: delPolicyMessage(policy),
    })),
  ];
}

/** Deletes what `taken` holds; returns what was removed. @throws GatewayError `gateway.take_incomplete` */
export function takeOutOfService(socket: XfrmSocket, uri: string, taken: Context): PlannedChange[] {
  const removals = removalsOf(taken);
  if (removals.length === 0) return [];
  let results: BatchResult[];
  try {
    results = socket.batch(removals.map((removal) => removal.message));
  } catch (error) {
    throw new GatewayError('gateway.take_incomplete', `${uri}: the blob was written, but deleting its SAs and policies here failed: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'some of them may still be in service here: check `ip xfrm state` before the blob is put anywhere',
      cause: error,
    });
  }
  const removed: PlannedChange[] = [];
  const failed: string[] = [];
  for (const result of results) {
    const removal = removals[result.index]!;
    if (result.errno === 0) removed.push(removal.change);
    else if (result.errno === ESRCH || result.errno === ENOENT) removed.push({ ...removal.change, description: `${removal.change.description} (already gone)` });
    else failed.push(kernelRefused(removal.what, result).message);
  }
  if (failed.length > 0) {
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
    throw new GatewayError(
      'gateway.take_incomplete',
      `${uri}: the blob was written and ${removed.length} of ${removals.length} records were taken out of service, but not the rest: ${failed[0]}${more}`,
      { hint: 'those records are live here and in the blob: delete them here (ip xfrm state delete / ip xfrm policy delete) before the blob is put anywhere, or discard the blob' },
    );
  }
  return removed;
}
