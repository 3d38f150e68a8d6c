/**
 * Undoing a `put` batch that failed part way: for every request the kernel accepted, in
 * reverse order, the request that takes it back (install-plan.ts says which). It works from a
 * dump taken after the failure, because two things are only known then: the index the kernel
 * gave each policy it added, and whether packets used an SA since it was installed.
 *
 * Counters never move backward, not even in a rollback. An SA whose counters moved since the
 * batch set them (traffic already used it) keeps them: putting back older ones could reuse a
 * sequence number with the same key. That is reported, and is the one way the target can end
 * up other than it was, apart from statistics the kernel resets when an SA is re-created.
 */
import type { ChildSa } from '../../model/child-sa.js';
import { sadKey } from '../../model/context.js';
import { XFRM_MSG } from './constants.js';
import { newAeMessage } from './aevent.js';
import type { Step } from './install-plan.js';
import { countersMoved, sameKeys, samePolicy } from './install-plan.js';
import { delPolicyMessage, newPolicyMessage, updPolicyMessage } from './policy.js';
import { delSaMessage, newSaMessage, parseSaMessage, saToModel } from './sa.js';
import type { BatchResult } from './socket.js';
import type { Request, XfrmState } from './state.js';

export interface RollbackPlan {
  requests: Request[];
  /** What the rollback leaves as it is, and why. */
  notes: string[];
}

/** The SA a GETSA answered with, as a model record named like `old`; `old` if there was none. */
function snapshotOf(result: BatchResult | undefined, old: ChildSa): ChildSa {
  const reply = result?.replies?.find((message) => message.type === XFRM_MSG.NEWSA);
  if (!reply) return old;
  return saToModel(parseSaMessage(reply), { id: old.id, direction: old.direction });
}

/** `old` with counters no lower than `now`'s (both hold the same key). */
function notBehind(old: ChildSa, now: ChildSa): ChildSa {
  const max = (a: bigint, b: bigint) => (a > b ? a : b);
  const window = now.sequence.inbound > old.sequence.inbound && now.sequence.windowSize === old.sequence.windowSize ? now.sequence : old.sequence;
  return {
    ...old,
    sequence: { ...old.sequence, outbound: max(old.sequence.outbound, now.sequence.outbound), inbound: window.inbound, bitmap: window.bitmap },
    lifetime: {
      ...old.lifetime,
      used: { ...old.lifetime.used, bytes: max(old.lifetime.used.bytes, now.lifetime.used.bytes), packets: max(old.lifetime.used.packets, now.lifetime.used.packets) },
    },
  };
}

/**
 * The undo requests for the steps that succeeded (`results[i].errno === 0`), newest first.
 * `fresh` is the target's state after the failure.
 */
export function planRollback(steps: readonly Step[], results: readonly BatchResult[], fresh: XfrmState): RollbackPlan {
  const byIndex = new Map(results.map((result) => [result.index, result]));
  const freshSas = new Map(fresh.childSas.map((child) => [sadKey(child), child]));
  const requests: Request[] = [];
  const notes: string[] = [];
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i]!;
    const undo = step.undo;
    if (!undo || byIndex.get(i)?.errno !== 0) continue;
    switch (undo.kind) {
      case 'delete-sa':
        requests.push({ what: `delete SA ${undo.child.id} again`, message: delSaMessage(undo.child) });
        break;
      case 'readd-sa': {
        const old = snapshotOf(byIndex.get(undo.snapshot), undo.old);
        const replacement = freshSas.get(sadKey(undo.replacedBy));
        // Same key, and traffic used the replacement: the old SA must not go back behind it.
        const sameKey = sameKeys(old, undo.replacedBy);
        const restored = sameKey && replacement && countersMoved(replacement, undo.replacedBy) ? notBehind(old, replacement) : old;
        if (restored !== old) notes.push(`SA ${old.id} goes back with the counters its replacement reached, not its own older ones`);
        requests.push({ what: `add SA ${old.id} back`, message: newSaMessage(restored) });
        break;
      }
      case 'reset-ae': {
        const now = freshSas.get(sadKey(undo.set));
        if (now && countersMoved(now, undo.set)) {
          notes.push(`the counters of SA ${undo.old.id} stay moved forward: packets used it after they were set`);
          break;
        }
        requests.push({ what: `set the counters of SA ${undo.old.id} back`, message: newAeMessage(undo.old) });
        break;
      }
      case 'delete-policy': {
        // The kernel may have given the policy another index than the one asked for.
        const installed = fresh.policies.find((policy) => samePolicy(policy, undo.policy));
        if (!installed) {
          notes.push(`${undo.policy.id} was already gone`);
          break;
        }
        requests.push({ what: `delete ${undo.policy.id} again`, message: delPolicyMessage(installed) });
        break;
      }
      case 'readd-policy':
        requests.push({ what: `add ${undo.old.id} back`, message: newPolicyMessage(undo.old) });
        break;
      case 'upd-policy':
        requests.push({ what: `put ${undo.old.id} back as it was`, message: updPolicyMessage(undo.old) });
        break;
    }
  }
  return { requests, notes };
}
