/** The JSON text form of a context: what the file gateway stores and `inspect --json` builds on. */
import { Context } from './context.js';

export function contextToJsonText(context: Context): string {
  return `${JSON.stringify(Context.encode(context), null, 2)}\n`;
}
