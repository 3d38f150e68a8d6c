/**
 * Moves every absolute time in a context by the same amount. The file gateway uses it: a
 * gateway file is a snapshot whose clock stopped at `provenance.capturedAtMs`, and reading it
 * presents that state as if it had been captured now, so SA ages and remaining lifetimes
 * stay what they were when the file was written (docs/drivers.md, "file").
 */
import type { Context } from './context.js';

export function shiftTimes(context: Context, deltaSeconds: number): Context {
  if (deltaSeconds === 0) return context;
  const shift = (t: number) => Math.max(0, t + deltaSeconds);
  const shiftOptional = (t: number | undefined) => (t === undefined ? undefined : shift(t));
  return {
    ...context,
    ikeSas: context.ikeSas.map((ike) => {
      const times = { established: shift(ike.times.established) } as typeof ike.times;
      for (const key of ['rekey', 'reauth', 'expires'] as const) {
        const value = shiftOptional(ike.times[key]);
        if (value !== undefined) times[key] = value;
      }
      return { ...ike, times };
    }),
    childSas: context.childSas.map((child) => {
      const used = { ...child.lifetime.used, addTime: shift(child.lifetime.used.addTime) };
      if (child.lifetime.used.useTime !== undefined) used.useTime = shift(child.lifetime.used.useTime);
      return { ...child, lifetime: { ...child.lifetime, used } };
    }),
  };
}
