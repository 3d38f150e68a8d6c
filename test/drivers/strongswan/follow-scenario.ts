/**
 * `ipsec-ctx follow` against a real charon, and its snapshot used for a failover. Runs inside
 * namespace gw of a lab made by
 *
 *   lab/strongswan/with-lab --with-b --no-start -- node dist/test/drivers/strongswan/follow-scenario.js OUTDIR
 *
 * Steps: start A (gw), B (gwb), the client (cl); start `ipsec-ctx follow` on A (the real
 * binary, as a child process) with --every 200ms; the client connects (after follow started);
 * wait until the snapshot holds the IKE SA and its CHILD SA; ping; A rekeys the CHILD SA; wait
 * until the snapshot holds only the new CHILD SA; SIGTERM follow; A fails (SIGKILL); `put` the
 * snapshot on B; A's address moves to B; ping.
 *
 * Writes OUTDIR/result.json, the decrypted snapshots (snap-established.json,
 * snap-rekeyed.json), swanctl listings, and the charons' logs (charon-gw.log has the keys at
 * level 4, the oracle the test compares the snapshots with).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readIdentityFile } from '../../../lib/crypto/key-files.js';
import { openBlob } from '../../../lib/format/envelope.js';
import type { Context } from '../../../lib/model/context.js';
import { contextToJsonText } from '../../../lib/model/context-json.js';
import { listedSpis } from './scenarios.js';
import { cli, ipsecCtx, scenarioSetup, sleep } from './scenario-kit.js';

const { out, dir, gwbNs, started, mark, step, pingOk, logOf, uri, finish } = scenarioSetup('follow-scenario.js OUTDIR');
const result: Record<string, unknown> = {};
const snapPath = join(out, 'snap.blob');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

let follower: ReturnType<typeof spawn> | undefined;
let followStderr = '';
try {
  await step('start', 'gw');
  await step('start', 'gwb');
  await step('start', 'cl');
  for (const name of ['a', 'b']) ipsecCtx(['keygen', '-o', join(out, `${name}.key`)]);
  const pub = (name: string) => ipsecCtx(['keygen', '-y', join(out, `${name}.key`)]).stdout.trim();
  const identity = readIdentityFile(join(out, 'a.key'));
  const snapshot = (): Context => openBlob(new Uint8Array(readFileSync(snapPath)), { identities: [identity], trust: { signers: [identity.publicKey] }, nowMs: Date.now() }).context;
  const waitFor = async (what: string, condition: (c: Context) => boolean, timeoutMs = 15_000): Promise<Context> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (existsSync(snapPath)) {
        const c = snapshot();
        if (condition(c)) return c;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the snapshot to hold ${what}`);
      await sleep(100);
    }
  };
  const gwLogMark = logOf('gw').length;

  // follow on A, as the real binary, stopped with SIGTERM at the end.
  follower = spawn(process.execPath, [cli, 'follow', '--from', uri('gw'), '-i', join(out, 'a.key'), '-r', pub('a'), '-r', pub('b'), '-o', snapPath, '--every', '200ms', '--label', 'gw-a'], { stdio: ['ignore', 'ignore', 'pipe'] });
  follower.stderr?.on('data', (chunk: Buffer) => (followStderr += chunk.toString()));
  await waitFor('nothing (the first snapshot)', (c) => c.ikeSas.length === 0);
  result['snapshotMode'] = (statSync(snapPath).mode & 0o777).toString(8);
  // Without an HA peer's STATUS the gateways take all segments after 2.1 s.
  await sleep(2200);
  mark('follow up, gateways active');

  await step('initiate');
  const established = await waitFor('an IKE SA and a CHILD SA', (c) => c.ikeSas.length === 1 && c.childSas.length === 2);
  mark('tunnel up, in the snapshot');
  writeFileSync(join(out, 'snap-established.json'), contextToJsonText(established));
  writeFileSync(join(out, 'list-sas-established.txt'), await step('swanctl', 'gw', '--list-sas'));
  result['pingBefore'] = await pingOk();

  // A rekeys the CHILD SA; the old one goes 5 s later (charon's delete delay).
  const oldIn = hex(established.childSas.find((c) => c.direction === 'in')!.spi);
  await step('swanctl', 'gw', '--rekey', '--child', 'net');
  const rekeyed = await waitFor('only the rekeyed CHILD SA', (c) => c.ikeSas.length === 1 && c.childSas.length === 2 && !c.childSas.some((x) => hex(x.spi) === oldIn));
  await sleep(600); // the DELETE's message ID
  const final = snapshot();
  mark('CHILD SA rekeyed, in the snapshot');
  writeFileSync(join(out, 'snap-rekeyed.json'), contextToJsonText(final));
  writeFileSync(join(out, 'list-sas-rekeyed.txt'), await step('swanctl', 'gw', '--list-sas'));
  result['rekeyedSameAsFinal'] = contextToJsonText(rekeyed).length > 0;

  // Stop follow with SIGTERM: exit 0, a last line on stderr.
  const exited = new Promise<number | null>((resolve) => follower!.once('exit', (code) => resolve(code)));
  follower.kill('SIGTERM');
  result['followExit'] = await exited;
  follower = undefined;
  result['followStderr'] = followStderr;
  result['gwHaReceived'] = (logOf('gw').slice(gwLogMark).match(/received HA \w+ message/g) ?? []).length;
  result['gwResyncs'] = (logOf('gw').slice(gwLogMark).match(/HA (resync|RESYNC)/gi) ?? []).length;
  mark('follow stopped');

  // Failover: A dies, B takes the snapshot, A's address moves to B.
  await step('kill', 'gw');
  const clientLogMark = logOf('cl').length;
  const put = ipsecCtx(['put', '--to', uri('gwb'), '-i', join(out, 'b.key'), '--trust', pub('a'), '--state-dir', join(out, 'state'), snapPath], gwbNs);
  result['put'] = put;
  mark(`put exit ${put.status}`);
  const listB = await step('swanctl', 'gwb', '--list-sas');
  writeFileSync(join(out, 'list-sas-b.txt'), listB);
  result['listB'] = listedSpis(listB);
  result['listRekeyed'] = listedSpis(readFileSync(join(out, 'list-sas-rekeyed.txt'), 'utf8'));
  await step('move');
  result['pingAfterMove'] = await pingOk();
  mark('ping after move');
  const clientAfter = logOf('cl').slice(clientLogMark);
  result['clientIkeSaInit'] = (clientAfter.match(/IKE_SA_INIT/g) ?? []).length;
  result['clientIkeAuth'] = (clientAfter.match(/IKE_AUTH/g) ?? []).length;
} catch (error) {
  result['error'] = error instanceof Error ? error.message : String(error);
} finally {
  if (follower) follower.kill('SIGKILL');
  result['followStderr'] ??= followStderr;
  finish(result);
}
