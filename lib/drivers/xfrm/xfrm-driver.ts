/**
 * The `xfrm:` driver (docs/drivers.md, docs/xfrm.md): the Linux kernel's SAD and SPD over
 * NETLINK_XFRM, of the caller's network namespace (`xfrm:`) or of a named one
 * (`xfrm:?netns=NAME`).
 *
 * - read: dump SAs and policies into a validated Context. IKE SAs live in the IKE daemon, not
 *   in the kernel, so there are none.
 * - take (`get --move`): dump, select, deliver the blob, then delete exactly the taken SAs and
 *   policies in one batch (take-order.ts says in which order, and why).
 * - apply (`put`): dump, merge (conflicts before any change), then one batch with an ACK per
 *   request, SAs before policies (install-plan.ts); on any failure, undo what was done
 *   (rollback.ts) and report the kernel's own words.
 *
 * The kernel has no transactions and no lock that user space can hold: another program (an
 * IKE daemon rekeying) can change the state between the dump and the batch. Such a change
 * makes a request fail (EEXIST, ESRCH), and the batch is rolled back.
 */
import { hostname } from 'node:os';
import { GatewayError } from '../../errors.js';
import type { ChildSa } from '../../model/child-sa.js';
import { type Context, MODEL_VERSION } from '../../model/context.js';
import { describeChildSa, describeIkeSa } from '../../model/describe.js';
import { parseContext } from '../../model/validate.js';
import { type PlannedChange, PolicyKeys, planMerge, refuseConflicts } from '../../restore/merge.js';
import type { ApplyOptions, ApplyReport, Driver, DriverEnvironment } from '../driver.js';
import { type Step, adoptPolicyIndexes, planInstall } from './install-plan.js';
import { usageAtRestore } from './lifetime.js';
import { kernelRefused } from './netlink.js';
import { planRollback } from './rollback.js';
import { type BatchResult, XfrmSocket } from './socket.js';
import { type XfrmState, dumpKernelState, kernelStateToModel } from './state.js';
import { takeOutOfService } from './take-order.js';
import { type XfrmTarget, parseXfrmUri } from './xfrm-uri.js';

export async function openXfrmGateway(rest: string, env: DriverEnvironment): Promise<Driver> {
  return new XfrmGateway(parseXfrmUri(rest), env);
}

export class XfrmGateway implements Driver {
  readonly uri: string;

  constructor(
    private readonly target: XfrmTarget,
    private readonly env: DriverEnvironment,
  ) {
    this.uri = target.uri;
  }

  private open(): XfrmSocket {
    return XfrmSocket.open(this.target.netns === undefined ? {} : { netns: this.target.netns });
  }

  /**
   * The kernel dumps newest first (it links each new SA and policy at the head of its list),
   * so the records are turned around into the order they were installed in. Installed in that
   * order, they dump on the target exactly as on the source; and among policies of equal
   * priority whose selectors overlap, the kernel prefers the older, so the order is meaning.
   */
  private contextOf(state: XfrmState, capturedAtMs: number): Context {
    return {
      version: MODEL_VERSION,
      provenance: { source: this.target.netns ?? hostname(), driver: 'xfrm', capturedAtMs },
      ikeSas: [],
      childSas: [...state.childSas].reverse(),
      policies: [...state.policies].reverse(),
    };
  }

  /**
   * The whole state, validated. The capture time is taken before the dump: put's sequence
   * jump grows with the time since capture, so an early stamp errs on the safe side.
   */
  private snapshot(socket: XfrmSocket): Context {
    const capturedAtMs = this.env.nowMs();
    return parseContext(this.contextOf(kernelStateToModel(dumpKernelState(socket).state), capturedAtMs));
  }

  async read(): Promise<Context> {
    const socket = this.open();
    try {
      return this.snapshot(socket);
    } finally {
      socket.close();
    }
  }

  async take(select: (context: Context) => Context, deliver: (taken: Context) => Promise<void>): Promise<{ taken: Context; removed: PlannedChange[] }> {
    const socket = this.open();
    try {
      const taken = select(this.snapshot(socket));
      await deliver(taken);
      return { taken, removed: takeOutOfService(socket, this.uri, taken) };
    } finally {
      socket.close();
    }
  }

  async apply(context: Context, options: ApplyOptions): Promise<ApplyReport> {
    const socket = this.open();
    try {
      const nowMs = this.env.nowMs();
      const existing = this.contextOf(kernelStateToModel(dumpKernelState(socket).state, { skipUnsupported: true }), nowMs);
      const warnings = context.ikeSas.map(
        (ike) => `${describeIkeSa(ike)} not applied: the kernel holds no IKE SAs (restore it into the IKE daemon); its CHILD SAs are installed`,
      );
      const keys = new PolicyKeys();
      const incoming = forKernel(context, existing, nowMs, keys);
      const plan = planMerge(existing, incoming, { replace: options.replace, keys });
      refuseConflicts(this.uri, plan);
      const { steps, unchanged } = planInstall(existing, incoming, plan.result, keys);
      const kept = new Set(unchanged.map(describeChildSa));
      const changes = plan.changes.map((change) => (change.kind === 'child' && change.action === 'update' && kept.has(change.description) ? { ...change, action: 'keep' as const } : change));
      if (options.dryRun) return { changes, applied: false, warnings };
      if (steps.length > 0) this.install(socket, steps);
      return { changes, applied: true, warnings };
    } finally {
      socket.close();
    }
  }

  /** Sends the batch; on a failure undoes what succeeded and throws. @throws GatewayError */
  private install(socket: XfrmSocket, steps: readonly Step[]): void {
    let results: BatchResult[];
    try {
      results = socket.batch(
        steps.map((step) => step.message),
        { stopOnError: true },
      );
    } catch (error) {
      throw new GatewayError('gateway.state_unknown', `${this.uri}: ${error instanceof Error ? error.message : String(error)}; the kernel's answers were lost, so some changes may be in place`, {
        hint: 'check `ip xfrm state` and `ip xfrm policy` on the target',
        cause: error,
      });
    }
    const failed = results.find((result) => result.errno !== 0);
    if (!failed) return;
    const refused = kernelRefused(steps[failed.index]!.what, failed).message;
    const done = results.filter((result) => result.errno === 0 && steps[result.index]!.undo).length;

    let undone: BatchResult[] = [];
    let undo: ReturnType<typeof planRollback>;
    try {
      const fresh = kernelStateToModel(dumpKernelState(socket).state, { skipUnsupported: true });
      undo = planRollback(steps, results, fresh);
      if (undo.requests.length > 0) undone = socket.batch(undo.requests.map((request) => request.message));
    } catch (error) {
      throw new GatewayError('gateway.rollback_failed', `${this.uri}: ${refused}; undoing the ${done} change(s) made before it failed too: ${error instanceof Error ? error.message : String(error)}`, {
        hint: 'the target is NOT as it was: check `ip xfrm state` and `ip xfrm policy`',
        cause: error,
      });
    }
    // Something already gone (ESRCH, ENOENT) is as good as removed.
    const bad = undone.filter((result) => result.errno !== 0 && result.errno !== 2 && result.errno !== 3);
    if (bad.length > 0) {
      const firstBad = bad[0]!;
      throw new GatewayError(
        'gateway.rollback_failed',
        `${this.uri}: ${refused}; ${bad.length} of ${undo.requests.length} undo request(s) failed too, first: ${kernelRefused(undo.requests[firstBad.index]!.what, firstBad).message}`,
        { hint: 'the target is NOT as it was: check `ip xfrm state` and `ip xfrm policy`' },
      );
    }
    const notes = undo.notes.length > 0 ? ` (${undo.notes.join('; ')})` : '';
    throw new GatewayError('gateway.rolled_back', `${this.uri}: ${refused}; the ${done} change(s) made before it were undone, the target is as it was${notes}`);
  }
}

/**
 * The part of an incoming context the kernel takes: no IKE SAs (nor links to them); policy
 * indexes the target already uses for the same policy; and usage times never younger than at
 * capture (a target clock behind the source's would otherwise give lifetimes back).
 */
function forKernel(context: Context, existing: Context, nowMs: number, keys: PolicyKeys): Context {
  const childSas = context.childSas.map((child): ChildSa => {
    const { ikeSaId: _ike, ...rest } = child;
    return { ...rest, lifetime: { ...rest.lifetime, used: usageAtRestore(rest.lifetime.used, context.provenance.capturedAtMs, nowMs) } };
  });
  return { ...context, ikeSas: [], childSas, policies: adoptPolicyIndexes(existing.policies, context.policies, keys) };
}
