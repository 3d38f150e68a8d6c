/**
 * `get` filters. The unit that moves is a tunnel: an IKE SA always travels with all of its
 * CHILD SAs, because only the IKE SA can rekey or delete them; a CHILD SA without an IKE SA
 * moves alone. Policies follow the CHILD SAs they point at (template reqid), or match the
 * filter themselves.
 */
import type { Context } from './context.js';
import type { ChildSa } from './child-sa.js';
import type { IkeSa } from './ike-sa.js';
import type { Policy } from './policy.js';

export interface ContextFilter {
  connections?: readonly string[];
  reqids?: readonly number[];
  /** CHILD SA SPIs as 8 lowercase hex digits. */
  spis?: readonly string[];
  peers?: readonly string[];
}

export function isEmptyFilter(filter: ContextFilter): boolean {
  return !filter.connections?.length && !filter.reqids?.length && !filter.spis?.length && !filter.peers?.length;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function ikeMatches(ike: IkeSa, filter: ContextFilter): boolean {
  return Boolean(filter.connections?.includes(ike.connection) || filter.peers?.includes(ike.remote.address));
}

function childMatches(child: ChildSa, filter: ContextFilter): boolean {
  return Boolean(
    filter.reqids?.includes(child.reqid) ||
      filter.spis?.includes(hex(child.spi)) ||
      filter.peers?.includes(child.source) ||
      filter.peers?.includes(child.destination),
  );
}

function policyMatches(policy: Policy, filter: ContextFilter, reqids: Set<number>): boolean {
  return policy.templates.some(
    (tmpl) =>
      reqids.has(tmpl.reqid) ||
      filter.reqids?.includes(tmpl.reqid) ||
      (tmpl.source !== undefined && filter.peers?.includes(tmpl.source)) ||
      (tmpl.destination !== undefined && filter.peers?.includes(tmpl.destination)),
  );
}

/** The part of `context` the filter selects (everything when the filter is empty). */
export function filterContext(context: Context, filter: ContextFilter): Context {
  if (isEmptyFilter(filter)) return context;
  const ikeIds = new Set(context.ikeSas.filter((ike) => ikeMatches(ike, filter)).map((ike) => ike.id));
  for (const child of context.childSas) {
    if (child.ikeSaId !== undefined && childMatches(child, filter)) ikeIds.add(child.ikeSaId);
  }
  const childSas = context.childSas.filter((child) =>
    child.ikeSaId !== undefined ? ikeIds.has(child.ikeSaId) : childMatches(child, filter),
  );
  const reqids = new Set(childSas.map((child) => child.reqid));
  return {
    ...context,
    ikeSas: context.ikeSas.filter((ike) => ikeIds.has(ike.id)),
    childSas,
    policies: context.policies.filter((policy) => policyMatches(policy, filter, reqids)),
  };
}
