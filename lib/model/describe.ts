/** One-line, secret-free names for model records, used in plans, warnings and errors. */
import type { ChildSa } from './child-sa.js';
import type { IkeSa } from './ike-sa.js';
import type { Policy } from './policy.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

export function describeIkeSa(ike: IkeSa): string {
  return `IKE SA ${ike.connection} ${hex(ike.spiInitiator)}_i ${hex(ike.spiResponder)}_r (${ike.local.address} <-> ${ike.remote.address})`;
}

export function describeChildSa(child: ChildSa): string {
  return `CHILD SA ${child.direction} ${child.protocol} spi ${hex(child.spi)} ${child.source} -> ${child.destination} reqid ${child.reqid}`;
}

export function describePolicy(policy: Policy): string {
  const sel = policy.selector;
  const proto = sel.protocol === undefined ? '' : ` proto ${sel.protocol}`;
  return `policy ${policy.direction} ${sel.source} -> ${sel.destination}${proto}${policy.mark ? ` mark ${policy.mark.value}/${policy.mark.mask}` : ''}`;
}
