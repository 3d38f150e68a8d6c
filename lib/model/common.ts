/** Small records shared by IKE SAs, CHILD SAs and policies. */
import { z } from 'zod';
import { FAMILY_BITS, canonicalAddress, parsePrefix } from './address.js';
import { u16, u32 } from './leaves.js';

export const Family = z.enum(['ipv4', 'ipv6']);
export type Family = z.infer<typeof Family>;

/**
 * An IP address in its canonical spelling (see address.ts). A predicate rather than a
 * superRefine: a context holds hundreds of thousands of addresses, and the compiled model
 * (validate.ts) calls a predicate inline; the message is worked out only for a rejected one.
 */
export const Address = z.string().refine((text) => canonicalAddress(text) === text, {
  error: (issue) => {
    const text = issue.input as string;
    const canonical = canonicalAddress(text);
    return canonical === undefined ? `not an IP address: ${JSON.stringify(text)}` : `write ${JSON.stringify(text)} as ${canonical}`;
  },
});

export const Endpoint = z.strictObject({
  address: Address,
  port: u16(),
});
export type Endpoint = z.infer<typeof Endpoint>;

/** XFRM mark: packets match when (packet mark & mask) == value. */
export const Mark = z.strictObject({
  value: u32(),
  mask: u32(),
});
export type Mark = z.infer<typeof Mark>;

export const IpsecProtocol = z.enum(['esp', 'ah', 'ipcomp']);
export type IpsecProtocol = z.infer<typeof IpsecProtocol>;

export const IpsecMode = z.enum(['transport', 'tunnel', 'beet']);
export type IpsecMode = z.infer<typeof IpsecMode>;

/**
 * A traffic selector as the kernel keeps it: prefixes, an optional upper-layer protocol,
 * optional ports with masks (for ICMP the kernel stores type in sport and code in dport),
 * and an optional interface name. Absent means "any".
 */
export const PortMatch = z.strictObject({
  port: u16(),
  mask: u16(),
});

export const Selector = z.strictObject({
  family: Family,
  source: z.string(),
  destination: z.string(),
  protocol: z.number().int().min(1).max(255).optional(),
  sourcePort: PortMatch.optional(),
  destinationPort: PortMatch.optional(),
  interface: z.string().min(1).max(15).optional(),
}).superRefine((selector, ctx) => {
  for (const side of ['source', 'destination'] as const) {
    const prefix = parsePrefix(selector[side]);
    if (!prefix) {
      ctx.addIssue({ code: 'custom', path: [side], message: `not an address prefix: ${JSON.stringify(selector[side])}` });
      continue;
    }
    if (prefix.family !== selector.family) {
      ctx.addIssue({ code: 'custom', path: [side], message: `${prefix.family} prefix in an ${selector.family} selector` });
    }
    if (prefix.length > FAMILY_BITS[prefix.family]) {
      ctx.addIssue({
        code: 'custom',
        path: [side],
        message: `prefix length ${prefix.length} is longer than ${FAMILY_BITS[prefix.family]} bits`,
      });
    }
    const canonical = canonicalAddress(prefix.address);
    if (canonical !== prefix.address) {
      ctx.addIssue({ code: 'custom', path: [side], message: `write ${prefix.address} as ${canonical}` });
    }
  }
});
export type Selector = z.infer<typeof Selector>;
