/**
 * Rules that span several fields are plain functions of the parsed record that report each
 * broken rule, with its path relative to the record, through a ReportIssue. `reportTo` hands
 * them a zod refinement's context, so the rule functions stay free of zod and cheap to call.
 */
import type { z } from 'zod';

export type ReportIssue = (path: (string | number)[], message: string) => void;

export function reportTo(ctx: z.RefinementCtx): ReportIssue {
  return (path, message) => ctx.addIssue({ code: 'custom', path, message });
}
