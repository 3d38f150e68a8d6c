/**
 * SIGINT and SIGTERM, caught only while a command asks for it. Most commands keep the default
 * (the process ends at once, which is safe: nothing is half-applied before their last step).
 * Two do not: `follow` stops on a signal after a last snapshot, and a strongSwan `put` rolls
 * back instead of leaving a half-synced target.
 */
export interface Interruption {
  /** Aborted by the first SIGINT or SIGTERM; its reason is the signal's name. */
  signal: AbortSignal;
  /** Gives the signals back their default (ending the process). */
  release(): void;
}

export type CatchInterrupts = () => Interruption;

/** The real process: SIGINT and SIGTERM abort `signal` instead of ending it, until release. */
export const catchProcessInterrupts: CatchInterrupts = () => {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) controller.abort(name);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
};

/** An interruption that `abort()` triggers (tests, and callers with their own reason to stop). */
export function manualInterrupts(controller: AbortController): CatchInterrupts {
  return () => ({ signal: controller.signal, release: () => undefined });
}
