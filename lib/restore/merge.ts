/**
 * What `put` does to a gateway that already holds state: the merge plan. Drivers that keep the
 * whole context in one place (the file gateway) apply `result`; all drivers show `changes`
 * for --dry-run and refuse on `conflicts` before touching anything.
 *
 * Identity of a record is what the gateway identifies it by: an IKE SA by its SPI pair, a
 * CHILD SA by (protocol, destination, SPI) as the kernel does, a policy by (direction,
 * selector, mark, if_id). The same identity with the same keys is an update, in which no
 * counter moves backward; with different keys it is a conflict unless --replace.
 */
import { GatewayError } from '../errors.js';
import { encodeCanonical } from '../format/cbor-encode.js';
import type { ChildSa } from '../model/child-sa.js';
import { type Context, sadKey } from '../model/context.js';
import { describeChildSa, describeIkeSa, describePolicy } from '../model/describe.js';
import type { IkeSa } from '../model/ike-sa.js';
import type { Policy } from '../model/policy.js';

export type ChangeAction = 'add' | 'update' | 'replace' | 'keep' | 'remove';

export interface PlannedChange {
  kind: 'ike' | 'child' | 'policy';
  action: ChangeAction;
  description: string;
}

export interface MergePlan {
  result: Context;
  changes: PlannedChange[];
  /** Same identity, different keys or content, and --replace was not given. */
  conflicts: PlannedChange[];
}

const same = (a: unknown, b: unknown) => Buffer.compare(encodeCanonical(a), encodeCanonical(b)) === 0;
const max = (a: bigint, b: bigint) => (a > b ? a : b);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

const ikeKey = (ike: IkeSa) => `${hex(ike.spiInitiator)}/${hex(ike.spiResponder)}`;
/** A policy's identity as a Map key (the bytes as latin1: half the length of hex, never shown). */
export const policyKey = (policy: Policy) =>
  `${policy.direction}/${Buffer.from(encodeCanonical({ selector: policy.selector, mark: policy.mark, ifId: policy.ifId })).toString('latin1')}`;

/**
 * policyKey (an encoding of the selector, mark and if_id) for the policies of one plan,
 * computed once per selector: the records that planMerge and adoptPolicyIndexes make from an
 * incoming policy share its selector object, so a put of N policies encodes N keys, not 3N.
 * Use one instance per plan only: it assumes the records do not change while it lives.
 */
export class PolicyKeys {
  private readonly cache = new WeakMap<object, { direction: Policy['direction']; mark: Policy['mark']; ifId: Policy['ifId']; key: string }>();

  of(policy: Policy): string {
    const hit = this.cache.get(policy.selector);
    if (hit && hit.direction === policy.direction && hit.mark === policy.mark && hit.ifId === policy.ifId) return hit.key;
    const key = policyKey(policy);
    this.cache.set(policy.selector, { direction: policy.direction, mark: policy.mark, ifId: policy.ifId, key });
    return key;
  }
}

function ikeSecretsOf(ike: IkeSa) {
  return { proposal: ike.proposal, keys: ike.keys, nonces: ike.nonces };
}

/** `incoming`, but never behind `existing` on a counter that must only grow. */
function advanceIke(existing: IkeSa, incoming: IkeSa): IkeSa {
  return {
    ...incoming,
    messageIds: {
      ...incoming.messageIds,
      nextToSend: Math.max(existing.messageIds.nextToSend, incoming.messageIds.nextToSend),
      nextExpected: Math.max(existing.messageIds.nextExpected, incoming.messageIds.nextExpected),
    },
  };
}

function advanceChild(existing: ChildSa, incoming: ChildSa): ChildSa {
  const inboundFrom = existing.sequence.inbound > incoming.sequence.inbound ? existing.sequence : incoming.sequence;
  return {
    ...incoming,
    sequence: {
      ...incoming.sequence,
      outbound: max(existing.sequence.outbound, incoming.sequence.outbound),
      inbound: inboundFrom.inbound,
      windowSize: inboundFrom.windowSize,
      bitmap: inboundFrom.bitmap,
    },
    lifetime: {
      ...incoming.lifetime,
      used: {
        ...incoming.lifetime.used,
        bytes: max(existing.lifetime.used.bytes, incoming.lifetime.used.bytes),
        packets: max(existing.lifetime.used.packets, incoming.lifetime.used.packets),
      },
    },
  };
}

function freshId(wanted: string, taken: Set<string>): string {
  let id = wanted;
  for (let n = 2; taken.has(id); n++) id = `${wanted}~${n}`;
  taken.add(id);
  return id;
}

export interface MergeOptions {
  replace: boolean;
  /** The plan's policy keys, shared with the caller's other steps (computed once per policy). */
  keys?: PolicyKeys;
}

export function planMerge(existing: Context, incoming: Context, options: MergeOptions): MergePlan {
  const keys = options.keys ?? new PolicyKeys();
  const changes: PlannedChange[] = [];
  const conflicts: PlannedChange[] = [];
  const note = (kind: PlannedChange['kind'], action: ChangeAction, description: string) => changes.push({ kind, action, description });

  // IKE SAs
  const ikeSas = [...existing.ikeSas];
  const ikeIndex = new Map(ikeSas.map((ike, i) => [ikeKey(ike), i]));
  const ikeIds = new Set(ikeSas.map((ike) => ike.id));
  const ikeIdMap = new Map<string, string>();
  for (const ike of incoming.ikeSas) {
    const at = ikeIndex.get(ikeKey(ike));
    const description = describeIkeSa(ike);
    if (at === undefined) {
      const id = freshId(ike.id, ikeIds);
      ikeIdMap.set(ike.id, id);
      ikeIndex.set(ikeKey(ike), ikeSas.length);
      ikeSas.push({ ...ike, id });
      note('ike', 'add', description);
      continue;
    }
    const old = ikeSas[at] as IkeSa;
    ikeIdMap.set(ike.id, old.id);
    if (same(ikeSecretsOf(old), ikeSecretsOf(ike))) {
      const next = { ...advanceIke(old, ike), id: old.id };
      note('ike', same(next, old) ? 'keep' : 'update', description);
      ikeSas[at] = next;
    } else if (options.replace) {
      ikeSas[at] = { ...ike, id: old.id };
      note('ike', 'replace', description);
    } else {
      conflicts.push({ kind: 'ike', action: 'replace', description: `${description} exists with different keys` });
    }
  }

  // CHILD SAs
  const childSas = [...existing.childSas];
  const childIndex = new Map(childSas.map((child, i) => [sadKey(child), i]));
  const childIds = new Set(childSas.map((child) => child.id));
  for (const child of incoming.childSas) {
    const ikeSaId = child.ikeSaId === undefined ? undefined : ikeIdMap.get(child.ikeSaId);
    const linked = (record: ChildSa, id: string): ChildSa => {
      const { ikeSaId: _dropped, ...rest } = record;
      return ikeSaId === undefined ? { ...rest, id } : { ...rest, id, ikeSaId };
    };
    const at = childIndex.get(sadKey(child));
    const description = describeChildSa(child);
    if (at === undefined) {
      childIndex.set(sadKey(child), childSas.length);
      childSas.push(linked(child, freshId(child.id, childIds)));
      note('child', 'add', description);
      continue;
    }
    const old = childSas[at] as ChildSa;
    if (same(old.crypto, child.crypto)) {
      const next = linked(advanceChild(old, child), old.id);
      note('child', same(next, old) ? 'keep' : 'update', description);
      childSas[at] = next;
    } else if (options.replace) {
      childSas[at] = linked(child, old.id);
      note('child', 'replace', description);
    } else {
      conflicts.push({ kind: 'child', action: 'replace', description: `${description} exists with different keys` });
    }
  }

  // Policies
  const policies = [...existing.policies];
  const policyIndex = new Map(policies.map((policy, i) => [keys.of(policy), i]));
  const policyIds = new Set(policies.map((policy) => policy.id));
  for (const policy of incoming.policies) {
    const key = keys.of(policy);
    const at = policyIndex.get(key);
    const description = describePolicy(policy);
    if (at === undefined) {
      policyIndex.set(key, policies.length);
      policies.push({ ...policy, id: freshId(policy.id, policyIds) });
      note('policy', 'add', description);
      continue;
    }
    const old = policies[at] as Policy;
    const next = { ...policy, id: old.id };
    if (same(next, old)) note('policy', 'keep', description);
    else if (options.replace) {
      policies[at] = next;
      note('policy', 'replace', description);
    } else conflicts.push({ kind: 'policy', action: 'replace', description: `${description} exists with other templates or settings` });
  }

  // Links are derived from the CHILD SAs, so a CHILD SA that changed hands is listed once.
  const childIdsOf = new Map<string, string[]>();
  for (const child of childSas) {
    if (child.ikeSaId === undefined) continue;
    const ids = childIdsOf.get(child.ikeSaId);
    if (ids) ids.push(child.id);
    else childIdsOf.set(child.ikeSaId, [child.id]);
  }
  const linkedIkeSas = ikeSas.map((ike) => ({ ...ike, childSaIds: childIdsOf.get(ike.id) ?? [] }));
  return {
    result: { ...existing, ikeSas: linkedIkeSas, childSas, policies },
    changes,
    conflicts,
  };
}

/** @throws GatewayError `gateway.conflict` naming the first conflict, before anything changed */
export function refuseConflicts(uri: string, plan: MergePlan): void {
  const first = plan.conflicts[0];
  if (!first) return;
  const more = plan.conflicts.length > 1 ? ` (and ${plan.conflicts.length - 1} more conflicts)` : '';
  throw new GatewayError('gateway.conflict', `${uri}: ${first.description}${more}; nothing was changed`, {
    hint: 'pass --replace to overwrite them, or remove them from the target first',
  });
}
