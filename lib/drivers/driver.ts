/**
 * The driver contract (docs/drivers.md). A driver translates between one kind of gateway and
 * the context model, and nothing else: sealing, trust, replay protection, sequence jumps and
 * filtering happen above it, the same for every driver.
 */
import type { Context } from '../model/context.js';
import type { PlannedChange } from '../restore/merge.js';
import type { CatchInterrupts } from '../util/interruption.js';

export interface ApplyOptions {
  /** Overwrite records with the same identity and different keys instead of refusing. */
  replace: boolean;
  /** Compute and return the changes without making them. */
  dryRun: boolean;
}

export interface ApplyReport {
  changes: PlannedChange[];
  applied: boolean;
  /** What was deliberately not applied, and why (e.g. IKE SAs put into `xfrm:`). */
  warnings?: string[];
}

export interface Driver {
  /** The URI the driver was opened with, for messages. */
  readonly uri: string;
  /** The gateway's whole context, validated. */
  read(): Promise<Context>;
  /**
   * `get --move`: reads the context, lets `select` pick the part to export, hands it to
   * `deliver` (which seals and writes the blob), and only when that succeeded takes exactly
   * that part out of service, in one step, so no SA is ever live on two gateways and none is
   * lost when the blob could not be written.
   */
  take(select: (context: Context) => Context, deliver: (taken: Context) => Promise<void>): Promise<{ taken: Context; removed: PlannedChange[] }>;
  /**
   * Applies `context` all or nothing: on any failure the gateway is left exactly as it was and
   * a GatewayError says what failed. Conflicts are reported before anything is changed.
   */
  apply(context: Context, options: ApplyOptions): Promise<ApplyReport>;
}

export interface DriverEnvironment {
  nowMs: () => number;
  cwd: string;
  /** Reports a side effect or a skipped record on the user's diagnostics channel (stderr). */
  notice?: (text: string) => void;
  /**
   * For a driver whose apply can stop half way and roll back (strongswan:): SIGINT/SIGTERM as
   * an AbortSignal instead of the end of the process. Without it, signals keep their default.
   */
  catchInterrupts?: CatchInterrupts;
}
