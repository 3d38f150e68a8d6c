/**
 * Every failure ipsec-ctx reports on purpose is a CtxError: a stable, namespaced `code`
 * (`format.truncated`, `auth.untrusted_signer`, ...), the process exit status that category
 * maps to, and an optional hint. The CLI prints `message` (and `hint`) as one line each and
 * never a stack trace unless --debug. Messages must never contain secret material.
 *
 * Exit statuses are documented in docs/cli.md (EXIT STATUS) and the README.
 */

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  badInput: 3,
  auth: 4,
  stale: 5,
  gateway: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface CtxErrorOptions {
  hint?: string;
  cause?: unknown;
}

export abstract class CtxError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: CtxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.name = new.target.name;
  }
}

/** The command line itself is wrong: unknown option, missing argument, conflicting options. */
export class UsageError extends CtxError {
  readonly exitCode = ExitCode.usage;
}

/** The input is not a well-formed blob, identity, key list or context (exit 3). */
export class FormatError extends CtxError {
  readonly exitCode = ExitCode.badInput;
}

/** The context decoded but breaks a model rule; `issues` name the field paths. */
export class SchemaError extends CtxError {
  readonly exitCode = ExitCode.badInput;
  readonly issues: readonly { path: string; message: string }[];

  constructor(issues: readonly { path: string; message: string }[], options: CtxErrorOptions = {}) {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(
      'schema.invalid',
      first ? `invalid context at ${first.path || '(root)'}: ${first.message}${more}` : 'invalid context',
      options,
    );
    this.issues = issues;
  }
}

/** Cryptographic refusal: no matching recipient, bad signature or MAC, untrusted signer (exit 4). */
export class AuthError extends CtxError {
  readonly exitCode = ExitCode.auth;
}

/** The blob is authentic but must not be applied now: expired, already applied, older (exit 5). */
export class StaleError extends CtxError {
  readonly exitCode = ExitCode.stale;
}

/** The gateway refused or failed; nothing was changed, or everything was rolled back (exit 6). */
export class GatewayError extends CtxError {
  readonly exitCode = ExitCode.gateway;
}

export function isCtxError(value: unknown): value is CtxError {
  return value instanceof CtxError;
}
