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
import { checkAcrossRecords } from './across-records.js';
import { reportTo } from './rules.js';

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
  .superRefine((context, ctx) => checkAcrossRecords(context, reportTo(ctx)));
export type Context = z.infer<typeof Context>;
/** The JSON form (hex byte strings, counters as numbers or decimal strings). */
export type ContextJson = z.input<typeof Context>;

/** The kernel's identity of an SA: (protocol, destination, SPI). */
export function sadKey(child: Pick<ChildSa, 'destination' | 'spi' | 'protocol'>): string {
  return `${child.protocol}/${child.destination}/${hexOf(child.spi)}`;
}

const BYTE_HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** Lowercase hex of a short byte string (an SPI), without a Buffer per call. */
function hexOf(bytes: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < bytes.byteLength; i++) hex += BYTE_HEX[bytes[i] as number];
  return hex;
}

export function emptyContext(provenance: Provenance): Context {
  return { version: MODEL_VERSION, provenance, ikeSas: [], childSas: [], policies: [] };
}
