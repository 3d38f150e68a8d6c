/** One SPD entry (RFC 4301 §4.4.1) as the Linux kernel and strongSwan hold it. */
import { z } from 'zod';
import { Address, Family, IpsecMode, IpsecProtocol, Mark, Selector } from './common.js';
import { familyOf } from './address.js';
import { localId, u32 } from './leaves.js';

/** What an outbound packet needs (or an inbound one must have had) to match the policy. */
export const Template = z
  .strictObject({
    protocol: IpsecProtocol,
    mode: IpsecMode,
    reqid: u32(),
    family: Family,
    /** Tunnel endpoints; required in tunnel and BEET mode, absent in transport mode. */
    source: Address.optional(),
    destination: Address.optional(),
    /** `level use` in `ip xfrm`: the SA is used when there is one, but not required. */
    optional: z.boolean(),
  })
  .superRefine((tmpl, ctx) => {
    const tunnel = tmpl.mode !== 'transport';
    for (const side of ['source', 'destination'] as const) {
      const address = tmpl[side];
      if (tunnel && address === undefined) ctx.addIssue({ code: 'custom', path: [side], message: `a ${tmpl.mode} template needs a ${side} address` });
      if (address !== undefined && familyOf(address) !== tmpl.family) {
        ctx.addIssue({ code: 'custom', path: [side], message: `address is not ${tmpl.family}` });
      }
    }
  });
export type Template = z.infer<typeof Template>;

export const Policy = z.strictObject({
  id: localId(),
  direction: z.enum(['in', 'out', 'fwd']),
  action: z.enum(['allow', 'block']),
  selector: Selector,
  priority: u32(),
  /** The kernel's policy index; absent lets the target gateway pick one. */
  index: u32().optional(),
  mark: Mark.optional(),
  ifId: u32().optional(),
  templates: z.array(Template),
});
export type Policy = z.infer<typeof Policy>;
