/**
 * The rules of a context that span records (docs/model.md, Validation): ids are unique, no two
 * CHILD SAs share a SAD key, and every link between an IKE SA and a CHILD SA resolves both
 * ways. They run on every context a gateway reads or receives, so they stay linear in the
 * number of records and links however these are distributed, and build nothing per record
 * that a lookup can do without.
 */
import type { ChildSa } from './child-sa.js';
import type { Context } from './context.js';
import type { IkeSa } from './ike-sa.js';
import type { ReportIssue } from './rules.js';

export function checkAcrossRecords(context: Context, issue: ReportIssue): void {
  const ikeById = new Map<string, IkeSa>();
  context.ikeSas.forEach((ike, i) => {
    if (ikeById.has(ike.id)) issue(['ikeSas', i, 'id'], `duplicate IKE SA id ${ike.id}`);
    ikeById.set(ike.id, ike);
  });
  const listed = new ChildLists();
  const childById = new Map<string, ChildSa>();
  const sad = new SadIndex();
  context.childSas.forEach((child, i) => {
    if (childById.has(child.id)) issue(['childSas', i, 'id'], `duplicate CHILD SA id ${child.id}`);
    childById.set(child.id, child);
    // The kernel identifies an SA by (destination, SPI, protocol); a second one is a conflict.
    if (!sad.add(child)) issue(['childSas', i, 'spi'], `a second ${child.protocol} SA to ${child.destination} with this SPI`);
    if (child.ikeSaId !== undefined) {
      const ike = ikeById.get(child.ikeSaId);
      if (!ike) issue(['childSas', i, 'ikeSaId'], `no IKE SA with id ${child.ikeSaId}`);
      else if (!listed.lists(ike, child.id)) {
        issue(['childSas', i, 'ikeSaId'], `IKE SA ${ike.id} does not list this CHILD SA in childSaIds`);
      }
    }
  });
  context.ikeSas.forEach((ike, i) => {
    ike.childSaIds.forEach((childId, j) => {
      const child = childById.get(childId);
      if (!child) issue(['ikeSas', i, 'childSaIds', j], `no CHILD SA with id ${childId}`);
      else if (child.ikeSaId !== ike.id) issue(['ikeSas', i, 'childSaIds', j], `CHILD SA ${childId} belongs to ${child.ikeSaId ?? 'no IKE SA'}`);
    });
  });
  const policyIds = new Set<string>();
  context.policies.forEach((policy, i) => {
    if (policyIds.has(policy.id)) issue(['policies', i, 'id'], `duplicate policy id ${policy.id}`);
    policyIds.add(policy.id);
  });
}

/**
 * CHILD SAs by their SAD identity, as `sadKey` (context.ts) names it, for the duplicate check: indexed by
 * the SPI as a number rather than by a string built and hashed per SA. An SPI usually belongs
 * to one SA; those that repeat (16-bit IPComp CPIs do, in large contexts) get a list each.
 */
class SadIndex {
  private readonly bySpi = new Map<number, ChildSa | ChildSa[]>();

  /** False if an SA with the same identity is already in. */
  add(child: ChildSa): boolean {
    const spi = spiNumber(child.spi);
    const known = this.bySpi.get(spi);
    if (known === undefined) {
      this.bySpi.set(spi, child);
    } else if (Array.isArray(known)) {
      if (known.some((other) => sameSa(other, child))) return false;
      known.push(child);
    } else {
      if (sameSa(known, child)) return false;
      this.bySpi.set(spi, [known, child]);
    }
    return true;
  }
}

function sameSa(a: ChildSa, b: ChildSa): boolean {
  return a.protocol === b.protocol && a.destination === b.destination && equalBytes(a.spi, b.spi);
}

/** The SPI's bytes as one number (exact up to 6 bytes; a longer one only shares its index entry). */
function spiNumber(spi: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < spi.byteLength && i < 6; i++) n = n * 256 + (spi[i] as number);
  return n;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether an IKE SA's `childSaIds` holds an id. An IKE SA usually lists a few CHILD SAs, and a
 * scan of a few ids beats any index; a long list (one IKE SA with thousands of CHILD SAs) gets
 * a Set, built once, so the check stays linear overall.
 */
class ChildLists {
  private static readonly SCAN_UP_TO = 16;
  private readonly sets = new Map<IkeSa, Set<string>>();

  lists(ike: IkeSa, childId: string): boolean {
    if (ike.childSaIds.length <= ChildLists.SCAN_UP_TO) return ike.childSaIds.includes(childId);
    let ids = this.sets.get(ike);
    if (!ids) this.sets.set(ike, (ids = new Set(ike.childSaIds)));
    return ids.has(childId);
  }
}
