/**
 * What a strongSwan `put` refuses before it sends anything (docs/strongswan.md §8, put, steps
 * 1 and 3): names the target lacks, and IKE SAs it already holds.
 */
import { GatewayError } from '../../errors.js';
import type { Context } from '../../model/context.js';
import { describeIkeSa } from '../../model/describe.js';
import type { PlannedIkeSa } from './from-model.js';
import type { DaemonConfig, ListedIkeSa } from './vici.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * Every IKE SA's connection and every CHILD SA's config name must exist on the target: charon
 * looks both up by name and silently drops what it lacks ("HA is missing nodes peer
 * configuration").
 * @throws GatewayError `strongswan.missing_connection`
 */
export function refuseMissingNames(uri: string, context: Context, config: DaemonConfig): void {
  const childNames = new Map<string, Set<string>>();
  for (const child of context.childSas) {
    const name = child.negotiation?.connection;
    if (child.ikeSaId === undefined || name === undefined) continue;
    let names = childNames.get(child.ikeSaId);
    if (!names) childNames.set(child.ikeSaId, (names = new Set()));
    names.add(name);
  }
  const missing = new Set<string>();
  for (const ike of context.ikeSas) {
    const conn = config.connections.get(ike.connection);
    if (!conn) {
      missing.add(`connection ${JSON.stringify(ike.connection)}`);
      continue;
    }
    for (const name of childNames.get(ike.id) ?? []) {
      if (!conn.children.has(name)) missing.add(`CHILD config ${JSON.stringify(name)} in connection ${JSON.stringify(ike.connection)}`);
    }
  }
  if (missing.size > 0) {
    throw new GatewayError('strongswan.missing_connection', `${uri}: the target charon has no ${[...missing].join(', ')}; nothing was sent`, {
      hint: 'load the same swanctl connections (names, CHILD names) on the target first: charon takes synced SAs only into configs of the same name',
    });
  }
}

/**
 * An IKE SA the target already lists (by its SPIs) is refused: `--replace` has no HA spelling.
 * @throws GatewayError `gateway.conflict`
 */
export function refuseHeldIkeSas(uri: string, plan: readonly PlannedIkeSa[], listed: readonly ListedIkeSa[]): void {
  const held = new Set(listed.map((sa) => sa.spis));
  const conflicts = plan.filter((item) => held.has(`${hex(item.ike.spiInitiator)}${hex(item.ike.spiResponder)}`));
  if (conflicts.length === 0) return;
  throw new GatewayError('gateway.conflict', `${uri}: the target already holds ${describeIkeSa(conflicts[0]!.ike)}${conflicts.length > 1 ? ` (and ${conflicts.length - 1} more)` : ''}; nothing was sent`, {
    hint: 'terminate it on the target first; --replace is not supported by the strongswan: driver',
  });
}
