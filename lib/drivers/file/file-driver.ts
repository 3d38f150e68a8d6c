/**
 * The file-backed gateway, `file:PATH`: one gateway's context as a JSON file in the model's
 * JSON form (byte strings as lowercase hex, as `ip xfrm` and charon print them). It is the
 * embedded default for the demo and the tests, and a faithful stand-in for the contract every
 * other driver follows: whole-context reads, all-or-nothing writes, conflicts before changes.
 *
 * Writes are atomic (temporary file, fsync, rename) under a lock file, so a crash or a
 * concurrent ipsec-ctx never leaves a half-written or lost update.
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { FormatError, GatewayError, SchemaError, UsageError } from '../../errors.js';
import { contextToJsonText } from '../../model/context-json.js';
import { type Context, emptyContext, sadKey } from '../../model/context.js';
import { parseContext } from '../../model/validate.js';
import { shiftTimes } from '../../model/time-shift.js';
import { type PlannedChange, planMerge, policyKey, refuseConflicts } from '../../restore/merge.js';
import { describeChildSa, describeIkeSa, describePolicy } from '../../model/describe.js';
import { withLockFile, writeFileAtomic } from '../../util/atomic-file.js';
import type { ApplyOptions, ApplyReport, Driver, DriverEnvironment } from '../driver.js';

export async function openFileGateway(rest: string, env: DriverEnvironment): Promise<Driver> {
  if (rest === '') throw new UsageError('usage.bad_uri', 'file: needs a path, e.g. file:gw.json');
  return new FileGateway(`file:${rest}`, resolve(env.cwd, rest), env);
}

class FileGateway implements Driver {
  constructor(
    readonly uri: string,
    private readonly path: string,
    private readonly env: DriverEnvironment,
  ) {}

  private load(): Context | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new GatewayError('gateway.unreadable', `cannot read ${this.uri}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new FormatError('format.gateway_json', `${this.uri} is not valid JSON`);
    }
    try {
      return parseContext(json);
    } catch (error) {
      if (error instanceof SchemaError) {
        throw new SchemaError(error.issues.map((issue) => ({ ...issue, path: `${this.uri}: ${issue.path}` })));
      }
      throw error;
    }
  }

  private store(context: Context): void {
    writeFileAtomic(this.path, contextToJsonText(context));
  }

  private locked<T>(work: () => Promise<T> | T): Promise<T> {
    return withLockFile(
      this.path,
      () => new GatewayError('gateway.busy', `${this.uri} is locked by another ipsec-ctx`, { hint: `if no other ipsec-ctx is running, remove ${this.path}.lock` }),
      work,
    );
  }

  /** The stored snapshot as if captured now: its clock resumes where the file stopped it. */
  private captured(context: Context): Context {
    const nowMs = this.env.nowMs();
    const deltaSeconds = Math.floor(nowMs / 1000) - Math.floor(context.provenance.capturedAtMs / 1000);
    return { ...shiftTimes(context, deltaSeconds), provenance: { ...context.provenance, driver: 'file', capturedAtMs: nowMs } };
  }

  /** What is stored: the state as of now, stamped now. */
  private stamped(context: Context): Context {
    return { ...context, provenance: { ...context.provenance, driver: 'file', capturedAtMs: this.env.nowMs() } };
  }

  async read(): Promise<Context> {
    const context = this.load();
    if (!context) throw new GatewayError('gateway.not_found', `no gateway at ${this.uri} (${this.path} does not exist)`);
    return this.captured(context);
  }

  async take(select: (context: Context) => Context, deliver: (taken: Context) => Promise<void>): Promise<{ taken: Context; removed: PlannedChange[] }> {
    return this.locked(async () => {
      const context = this.load();
      if (!context) throw new GatewayError('gateway.not_found', `no gateway at ${this.uri} (${this.path} does not exist)`);
      const taken = select(this.captured(context));
      await deliver(taken);
      const ike = new Set(taken.ikeSas.map((sa) => sa.id));
      const child = new Set(taken.childSas.map(sadKey));
      const policy = new Set(taken.policies.map(policyKey));
      const remaining: Context = {
        ...context,
        ikeSas: context.ikeSas.filter((sa) => !ike.has(sa.id)),
        childSas: context.childSas.filter((sa) => !child.has(sadKey(sa))),
        policies: context.policies.filter((p) => !policy.has(policyKey(p))),
      };
      this.store(parseContext(remaining));
      const removed: PlannedChange[] = [
        ...taken.ikeSas.map((sa) => ({ kind: 'ike' as const, action: 'remove' as const, description: describeIkeSa(sa) })),
        ...taken.childSas.map((sa) => ({ kind: 'child' as const, action: 'remove' as const, description: describeChildSa(sa) })),
        ...taken.policies.map((p) => ({ kind: 'policy' as const, action: 'remove' as const, description: describePolicy(p) })),
      ];
      return { taken, removed };
    });
  }

  async apply(incoming: Context, options: ApplyOptions): Promise<ApplyReport> {
    return this.locked(() => {
      const stored = this.load();
      const existing =
        (stored && this.captured(stored)) ??
        emptyContext({ source: basename(this.path).replace(/\.json$/, ''), driver: 'file', capturedAtMs: this.env.nowMs() });
      const plan = planMerge(existing, incoming, { replace: options.replace });
      refuseConflicts(this.uri, plan);
      if (options.dryRun) return { changes: plan.changes, applied: false };
      let result: Context;
      try {
        result = parseContext(this.stamped(plan.result));
      } catch (error) {
        const reason = error instanceof SchemaError ? error.message : String(error);
        throw new GatewayError('gateway.invalid_result', `${this.uri}: the merged state would be invalid (${reason}); nothing was changed`);
      }
      this.store(result);
      return { changes: plan.changes, applied: true };
    });
  }
}
