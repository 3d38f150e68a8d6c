/**
 * One scripted life of a road-warrior tunnel, watched through the gateway's HA sync. Runs
 * inside the gateway's namespace of a lab made by `lab/strongswan/with-lab --no-start`:
 *
 *   lab/strongswan/with-lab --no-start [--ike-proposal P --esp-proposal Q] -- \
 *     node dist/test/drivers/strongswan/lab-scenario.js OUTDIR
 *
 * Binds the HA peer first, then starts the gateway and client charons (so their STATUS and
 * RESYNC are seen too), and then: the client connects; ping; the gateway rekeys the CHILD SA;
 * the client rekeys the IKE SA; the client rekeys the CHILD SA; ping; snapshot; the client
 * disconnects. Writes to OUTDIR:
 * - ha.txt          every datagram: milliseconds since start, hex
 * - events.txt      what the tracker made of each
 * - charon-gw.log   the gateway's charon log (level 4: keys)
 * - list-sas.txt    `swanctl --list-sas` on the gateway at snapshot time
 * - context.json    the model built from HA at snapshot time
 * - version.txt     `swanctl --version` of the gateway
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HaPeer } from '../../../lib/drivers/strongswan/ha-peer.js';
import { trackerToContext } from '../../../lib/drivers/strongswan/to-model.js';
import type { HaTracker } from '../../../lib/drivers/strongswan/tracker.js';
import { contextToJsonText } from '../../../lib/model/context-json.js';

const run = promisify(execFile);
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run under lab/strongswan/with-lab`);
  return value;
};

const out = process.argv[2];
if (!out) throw new Error('usage: lab-scenario.js OUTDIR');
mkdirSync(out, { recursive: true });
const ctl = env('SWLAB_CTL');
const dir = env('SWLAB_DIR');
const started = Date.now();
const datagrams: string[] = [];
const events: string[] = [];

const peer = await HaPeer.open({
  bind: env('SWLAB_HA_REMOTE'),
  gateway: env('SWLAB_HA_LOCAL'),
  onMessage: (event) => {
    const t = event.atMs - started;
    datagrams.push(`${t} ${Buffer.from(event.raw).toString('hex')}`);
    events.push(event.kind === 'message' ? `${t} ${event.result.summary}${event.result.warning ? ` WARNING ${event.result.warning}` : ''}` : `${t} UNDECODABLE ${event.error}`);
  },
});

const step = async (...args: string[]) => {
  const { stdout } = await run(ctl, args, { timeout: 30_000 });
  return stdout;
};
const children = (t: HaTracker) => [...t.ikeSas.values()].flatMap((sa) => [...sa.children.values()]);
const established = (t: HaTracker) => [...t.ikeSas.values()].filter((sa) => sa.updatedAtMs !== undefined);

try {
  await step('start', 'gw');
  await step('start', 'cl');
  writeFileSync(join(out, 'version.txt'), await step('swanctl', 'gw', '--version'));
  // Without a STATUS from us the gateway takes every segment after 2.1 s: wait for that.
  await peer.until(() => events.some((e) => e.includes('segmentTake')), 5000, 'SEGMENT_TAKE');

  await step('initiate');
  await peer.until((t) => established(t).length === 1 && children(t).length === 1, 5000, 'IKE_UPDATE and CHILD_ADD');
  await step('ping', '2');

  const first = children(peer.tracker)[0];
  await step('swanctl', 'gw', '--rekey', '--child', 'net');
  await peer.until((t) => children(t).length === 1 && children(t)[0] !== first, 10_000, 'CHILD_ADD and CHILD_DELETE of a CHILD rekey');

  const ike = established(peer.tracker)[0];
  await step('swanctl', 'cl', '--rekey', '--ike', 'rw');
  await peer.until((t) => t.ikeSas.size === 1 && established(t)[0] !== ike && established(t)[0]?.rekeyOf === ike?.key, 10_000, 'an IKE rekey');

  const second = children(peer.tracker)[0];
  await step('swanctl', 'cl', '--rekey', '--child', 'net');
  await peer.until((t) => children(t).length === 1 && children(t)[0] !== second, 10_000, 'a CHILD rekey by the client');
  await step('ping', '2');
  // A DPD-like exchange: an empty INFORMATIONAL from the gateway moves its initiator message ID.
  await new Promise((resolve) => setTimeout(resolve, 300));

  writeFileSync(join(out, 'list-sas.txt'), await step('swanctl', 'gw', '--list-sas'));
  const { context, skipped } = trackerToContext(peer.tracker, {
    source: 'lab-gw',
    nowMs: Date.now(),
    authentication: () => ({ local: 'psk', remote: 'psk' }),
  });
  writeFileSync(join(out, 'context.json'), contextToJsonText(context));
  if (skipped.length > 0) events.push(`SKIPPED ${skipped.join('; ')}`);

  await step('swanctl', 'cl', '--terminate', '--ike', 'rw');
  await peer.until((t) => t.ikeSas.size === 0, 10_000, 'IKE_DELETE');
} finally {
  await peer.close();
  writeFileSync(join(out, 'ha.txt'), `${datagrams.join('\n')}\n`);
  writeFileSync(join(out, 'events.txt'), `${events.join('\n')}\n`);
  copyFileSync(join(dir, 'gw', 'charon.log'), join(out, 'charon-gw.log'));
}
