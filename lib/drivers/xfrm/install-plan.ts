/**
 * What `put` sends to the kernel: the merge plan (lib/restore/merge.ts) turned into netlink
 * requests, each with the way to undo it if a later one fails.
 *
 * Order. All SA requests come before all policy requests: a policy whose SA does not exist yet
 * makes the kernel drop the packet and ask the IKE daemon for a new SA (ACQUIRE), which is the
 * renegotiation a move must avoid. An SA without its policy is harmless: nothing uses it yet.
 *
 * Per record, by what the target holds with the same identity:
 *
 * | target holds | requests | undo |
 * |---|---|---|
 * | nothing | NEWSA / NEWPOLICY | DELSA / DELPOLICY |
 * | the same | none | none |
 * | the SA with the same keys, other counters | NEWAE (counters and usage only; the live SA stays) | NEWAE back, only if no packet used the SA since |
 * | the SA with other settings or keys | GETSA, DELSA, NEWSA (adjacent) | DELSA, NEWSA of what GETSA returned |
 * | the policy with other settings, same priority | UPDPOLICY (an in-place replace: never a moment without a policy) | UPDPOLICY back |
 * | the policy with another priority | NEWPOLICY, then DELPOLICY of the old one (the kernel keeps both for a moment) | NEWPOLICY back, DELPOLICY |
 *
 * The GETSA just before a DELSA reads the SA's counters as they are at that moment (the
 * kernel handles the batch's requests one after the other), so an undo re-installs the SA
 * without reusing a sequence number it sent after the plan's dump.
 */
import { GatewayError } from '../../errors.js';
import type { ChildSa } from '../../model/child-sa.js';
import { type Context, sadKey } from '../../model/context.js';
import type { Policy } from '../../model/policy.js';
import { encodeCanonical } from '../../format/cbor-encode.js';
import { PolicyKeys } from '../../restore/merge.js';
import { newAeMessage } from './aevent.js';
import { delPolicyMessage, newPolicyMessage, updPolicyMessage } from './policy.js';
import { delSaMessage, getSaMessage, newSaMessage } from './sa.js';

export type Undo =
  | { kind: 'delete-sa'; child: ChildSa }
  /** Re-add `old`, as the GETSA at step `snapshot` read it when that worked. */
  | { kind: 'readd-sa'; old: ChildSa; snapshot: number; replacedBy: ChildSa }
  | { kind: 'reset-ae'; old: ChildSa; set: ChildSa }
  | { kind: 'delete-policy'; policy: Policy }
  | { kind: 'readd-policy'; old: Policy }
  | { kind: 'upd-policy'; old: Policy };

export interface Step {
  /** For messages: "add SA esp:c0000001@192.0.2.1". */
  what: string;
  message: Uint8Array;
  undo?: Undo;
}

const same = (a: unknown, b: unknown) => Buffer.compare(encodeCanonical(a), encodeCanonical(b)) === 0;

/** What the kernel holds of an SA: not ipsec-ctx's id, IKE SA link or direction guess. */
function kernelView(child: ChildSa): Omit<ChildSa, 'id' | 'ikeSaId' | 'direction'> {
  const { id: _id, ikeSaId: _ike, direction: _dir, ...rest } = child;
  return rest;
}

/** The same, without what NEWAE sets (sequence counters, replay bitmap, usage). */
function settingsView(child: ChildSa): unknown {
  const view = kernelView(child);
  return { ...view, sequence: { esn: view.sequence.esn, windowSize: view.sequence.windowSize }, lifetime: { soft: view.lifetime.soft, hard: view.lifetime.hard } };
}

function policyView(policy: Policy): Omit<Policy, 'id' | 'index'> {
  const { id: _id, index: _index, ...rest } = policy;
  return rest;
}

/** Does `policy` (from a fresh dump) stand for `wanted`, whatever index the kernel gave it? */
export function samePolicy(policy: Policy, wanted: Policy): boolean {
  return same(policyView(policy), policyView(wanted));
}

export function sameKeys(a: ChildSa, b: ChildSa): boolean {
  return same(a.crypto, b.crypto);
}

export function sameSa(a: ChildSa, b: ChildSa): boolean {
  return same(kernelView(a), kernelView(b));
}

/** Have the counters of `now` moved on from what was installed (`installed`)? */
export function countersMoved(now: ChildSa, installed: ChildSa): boolean {
  return !same(
    { sequence: now.sequence, used: now.lifetime.used },
    { sequence: installed.sequence, used: installed.lifetime.used },
  );
}

/**
 * The kernel's policy index is a handle, not a setting: an incoming policy that differs from
 * the target's only in its index is the same policy (and keeps the target's index).
 */
export function adoptPolicyIndexes(existing: readonly Policy[], incoming: readonly Policy[], keys = new PolicyKeys()): Policy[] {
  if (existing.length === 0) return [...incoming];
  const byKey = new Map(existing.map((policy) => [keys.of(policy), policy]));
  return incoming.map((policy) => {
    const old = byKey.get(keys.of(policy));
    if (!old || old.index === policy.index || !samePolicy(old, policy)) return policy;
    const { index: _index, ...rest } = policy;
    return old.index === undefined ? rest : { ...rest, index: old.index };
  });
}

/**
 * The requests that take the target from `existing` to `merged` (planMerge's result) for the
 * records of `incoming`, SAs first. Builds every message before anything is sent, so a record
 * the kernel cannot be given (a 0-second lifetime, a bad address) fails before any change.
 */
export interface InstallPlan {
  steps: Step[];
  /** Incoming SAs the kernel already holds as they are, or ahead (merge calls some "update"). */
  unchanged: ChildSa[];
}

export function planInstall(existing: Context, incoming: Context, merged: Context, keys = new PolicyKeys()): InstallPlan {
  const steps: Step[] = [];
  const unchanged: ChildSa[] = [];
  const oldSas = new Map(existing.childSas.map((child) => [sadKey(child), child]));
  const mergedSas = new Map(merged.childSas.map((child) => [sadKey(child), child]));
  for (const child of incoming.childSas) {
    const key = sadKey(child);
    const target = mergedSas.get(key) ?? child;
    const old = oldSas.get(key);
    if (!old) {
      steps.push({ what: `add SA ${target.id}`, message: newSaMessage(target), undo: { kind: 'delete-sa', child: target } });
      continue;
    }
    // Counters only ever move forward. When the kernel's are as far as the blob's or further,
    // the SA may be live here: writing them back (they move on while the batch is on its way)
    // could reuse a sequence number. Leave them to the kernel.
    const keysKept = sameKeys(old, target);
    const ahead = !same(old.sequence, target.sequence);
    if (keysKept && (sameSa(old, target) || (!ahead && same(settingsView(old), settingsView(target))))) {
      unchanged.push(child);
    } else if (keysKept && !ahead) {
      throw new GatewayError('gateway.conflict', `SA ${old.id} is installed with the same keys but other settings, and its counters are ahead of the blob's; nothing was changed`, {
        hint: 'the kernel cannot change those settings in place, and re-creating a live SA from older counters could reuse sequence numbers: delete the SA on the target first',
      });
    } else if (keysKept && same(settingsView(old), settingsView(target))) {
      steps.push({ what: `move the counters of SA ${old.id} forward`, message: newAeMessage(target), undo: { kind: 'reset-ae', old, set: target } });
    } else {
      const snapshot = steps.length;
      steps.push({ what: `read SA ${old.id}`, message: getSaMessage(old) });
      steps.push({ what: `delete SA ${old.id} to replace it`, message: delSaMessage(old), undo: { kind: 'readd-sa', old, snapshot, replacedBy: target } });
      steps.push({ what: `add SA ${target.id} in its place`, message: newSaMessage(target), undo: { kind: 'delete-sa', child: target } });
    }
  }

  const oldPolicies = new Map(existing.policies.map((policy) => [keys.of(policy), policy]));
  const mergedPolicies = new Map(merged.policies.map((policy) => [keys.of(policy), policy]));
  for (const policy of incoming.policies) {
    const key = keys.of(policy);
    const target = mergedPolicies.get(key) ?? policy;
    const old = oldPolicies.get(key);
    if (!old) {
      steps.push({ what: `add ${target.id}`, message: newPolicyMessage(target), undo: { kind: 'delete-policy', policy: target } });
    } else if (samePolicy(old, target)) {
      continue;
    } else if (old.priority === target.priority) {
      steps.push({ what: `replace ${old.id}`, message: updPolicyMessage(target), undo: { kind: 'upd-policy', old } });
    } else {
      // The index would clash with the old policy's, which is still there: let the kernel pick.
      const { index: _index, ...fresh } = target;
      steps.push({ what: `add ${target.id} beside ${old.id}`, message: newPolicyMessage(fresh), undo: { kind: 'delete-policy', policy: fresh } });
      steps.push({ what: `delete ${old.id}, replaced`, message: delPolicyMessage(old), undo: { kind: 'readd-policy', old } });
    }
  }
  return { steps, unchanged };
}
