/**
 * `ipsec-ctx put` in-process, interrupted after its Nth HA datagram to the target (a test
 * helper for scale-scenario.ts, run in the target's namespace):
 *
 *   node dist/test/drivers/strongswan/put-interrupted.js term|kill N PUT-ARGS...
 *
 * `term` sends this process SIGTERM (put must stop the sync and roll back), `kill` SIGKILLs
 * it (a crash: nothing can roll back). Exits with put's status.
 */
import { main } from '../../../lib/cli/main.js';
import { processIo } from '../../../lib/cli/process-io.js';
import { HaPeer } from '../../../lib/drivers/strongswan/ha-peer.js';

const [mode, count, ...args] = process.argv.slice(2);
if ((mode !== 'term' && mode !== 'kill') || !count) throw new Error('usage: put-interrupted.js term|kill N PUT-ARGS...');
const limit = Number(count);
let sent = 0;
const send = HaPeer.prototype.send;
HaPeer.prototype.send = async function (this: HaPeer, datagram: Uint8Array) {
  await send.call(this, datagram);
  if (++sent === limit) {
    process.stderr.write(`put-interrupted: ${mode === 'term' ? 'SIGTERM' : 'SIGKILL'} after ${sent} HA datagram(s)\n`);
    process.kill(process.pid, mode === 'term' ? 'SIGTERM' : 'SIGKILL');
  }
};
process.exitCode = await main(['put', ...args], processIo());
