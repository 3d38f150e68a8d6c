/**
 * The security context of one gateway, model version 1: IKE SAs, CHILD SAs (the SAD),
 * policies (the SPD) and where it came from. Every driver produces and consumes this model;
 * schemas/context-v1.schema.json is its JSON form, generated from here.
 */
import { z } from 'zod';
import { IkeSa } from './ike-sa.js';
import { ChildSa } from './child-sa.js';
import { Policy } from './policy.js';
import { label } from './leaves.js';

export const MODEL_VERSION = 1;

export const Provenance = z.strictObject({
  /** The gateway's label as its operator named it (`get --label`, default the host name). */
  source: label(),
  /** Driver scheme the context was read with: `file`, `xfrm`, `strongswan`. */
  driver: z.string().regex(/^[a-z][a-z0-9-]*$/),
  /** When the gateway was read, milliseconds since the epoch; restore computes jumps from it. */
  capturedAtMs: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type Provenance = z.infer<typeof Provenance>;

export const Context = z
  .strictObject({
    version: z.literal(MODEL_VERSION),
    provenance: Provenance,
    ikeSas: z.array(IkeSa),
    childSas: z.array(ChildSa),
    policies: z.array(Policy),
  })
  .superRefine((context, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });

    const ikeById = new Map<string, IkeSa>();
    context.ikeSas.forEach((ike, i) => {
      if (ikeById.has(ike.id)) issue(['ikeSas', i, 'id'], `duplicate IKE SA id ${ike.id}`);
      ikeById.set(ike.id, ike);
    });
    const childById = new Map<string, ChildSa>();
    const sadKeys = new Set<string>();
    context.childSas.forEach((child, i) => {
      if (childById.has(child.id)) issue(['childSas', i, 'id'], `duplicate CHILD SA id ${child.id}`);
      childById.set(child.id, child);
      // The kernel identifies an SA by (destination, SPI, protocol); a second one is a conflict.
      const key = sadKey(child);
      if (sadKeys.has(key)) issue(['childSas', i, 'spi'], `a second ${child.protocol} SA to ${child.destination} with this SPI`);
      sadKeys.add(key);
      if (child.ikeSaId !== undefined) {
        const ike = ikeById.get(child.ikeSaId);
        if (!ike) issue(['childSas', i, 'ikeSaId'], `no IKE SA with id ${child.ikeSaId}`);
        else if (!ike.childSaIds.includes(child.id)) {
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
  });
export type Context = z.infer<typeof Context>;
/** The JSON form (hex byte strings, counters as numbers or decimal strings). */
export type ContextJson = z.input<typeof Context>;

export function sadKey(child: Pick<ChildSa, 'destination' | 'spi' | 'protocol'>): string {
  return `${child.protocol}/${child.destination}/${Buffer.from(child.spi).toString('hex')}`;
}

export function emptyContext(provenance: Provenance): Context {
  return { version: MODEL_VERSION, provenance, ikeSas: [], childSas: [], policies: [] };
}
