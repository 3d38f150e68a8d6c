/**
 * A tunnel moved from a strongSwan 5.9.8 charon (HA protocol version 3) to a strongSwan 6
 * charon (6.0.1: version 4, 6.1.0: version 5), then read back from B. Runs inside namespace gw
 * of a lab made by
 *
 *   lab/strongswan/with-lab --with-b --gwb-charon /opt/ipsec-ctx/strongswan-6.0.1 \
 *     --client-dpd 4s --no-start -- node dist/test/drivers/strongswan/version-scenario.js OUTDIR
 *
 * Steps: start A (gw, Debian's 5.9.8), B (gwb, from lab/strongswan/build-charon6) and the
 * client (cl, 5.9.8); read one HA datagram of each gateway (its version byte), and send B a
 * version-3 one (B must drop it); the client connects to A; ping; A rekeys the IKE SA (so the
 * put carries a rekey derivation); `ipsec-ctx get --move` on A
 * (v3); `ipsec-ctx put` on B (v4, from B's release and heartbeat); A's address moves to B;
 * ping; the client's DPD; B rekeys the CHILD SA, then the IKE SA; ping; then `ipsec-ctx get`
 * on B (v4 decode): the IKE and CHILD keys in the blob are compared here with the last key
 * sets B's charon logged. Only the comparison's outcome is written, never a key.
 *
 * Writes OUTDIR/result.json (what the test asserts), swanctl listings and the charons' logs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readIdentityFile } from '../../../lib/crypto/key-files.js';
import { openBlob } from '../../../lib/format/envelope.js';
import type { ChildSa } from '../../../lib/model/child-sa.js';
import { childKeySets, ikeKeySets, parseDumps } from './charon-log.js';
import { listedSpis } from './scenarios.js';
import { checkCarriesOnAfterMove, env, ipsecCtx, run, scenarioSetup, sleep } from './scenario-kit.js';

const kit = scenarioSetup('version-scenario.js OUTDIR');
const { out, dir, gwbNs, mark, step, pingOk, logOf, uri, finish } = kit;
const result: Record<string, unknown> = {};
const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

/** The first two bytes (version, type) of the next HA datagram a gateway sends to its peer address, read in its namespace. */
async function heartbeat(ns: string): Promise<string> {
  const code = `
    const s = require('node:dgram').createSocket('udp4');
    const t = setTimeout(() => { console.log('none'); process.exit(0); }, 3000);
    s.on('message', (m, r) => { if (r.address === process.argv[1] && r.port === 4510) { console.log(m.subarray(0, 2).toString('hex')); clearTimeout(t); s.close(); } });
    s.bind(4510, process.argv[2]);`;
  const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '-e', code, env('SWLAB_HA_LOCAL'), env('SWLAB_HA_REMOTE')], { timeout: 10_000 });
  return stdout.trim();
}

/** Sends one raw datagram from the HA peer address to the gateway's HA address, in its namespace. */
async function sendRaw(ns: string, bytes: string): Promise<void> {
  const code = `
    const s = require('node:dgram').createSocket('udp4');
    s.bind(4510, process.argv[2], () => s.send(Buffer.from(process.argv[3], 'hex'), 4510, process.argv[1], () => s.close()));`;
  await run('ip', ['netns', 'exec', ns, process.execPath, '-e', code, env('SWLAB_HA_LOCAL'), env('SWLAB_HA_REMOTE'), bytes], { timeout: 10_000 });
}

const release = async (node: string) => /strongSwan (\d+\.\d+\.\d+)/.exec(await step('swanctl', node, '--version', '--daemon'))?.[1];
const childKey = (c: ChildSa) => (c.crypto.kind === 'aead' ? hex(c.crypto.key) : c.crypto.kind === 'cipher' ? `${hex(c.crypto.encryption.key)}/${hex(c.crypto.integrity.key)}` : undefined);

try {
  await step('start', 'gw');
  await step('start', 'gwb');
  await step('start', 'cl');
  result['releaseA'] = await release('gw');
  result['releaseB'] = await release('gwb');
  // STATUS every second; without an HA peer each gateway takes all segments after 2.1 s.
  result['heartbeatA'] = await heartbeat(env('SWLAB_GW_NS'));
  result['heartbeatB'] = await heartbeat(gwbNs);
  // No negotiation: B drops a version-3 message (an empty STATUS) and says so in its log.
  const gwbLogStart = logOf('gwb').length;
  await sendRaw(gwbNs, '030a');
  await sleep(300);
  result['gwbDropsV3'] = /HA message has version 3, expected (\d)/.exec(logOf('gwb').slice(gwbLogStart))?.[1] ?? false;
  await sleep(1200);
  mark('gateways up, heartbeats read');

  await step('initiate');
  result['pingBefore'] = await pingOk();
  mark('tunnel up, ping');
  // A rekeys the IKE SA first, so the put carries a rekey derivation (OLD_SKD, ALG_OLD_PRF: v4
  // numbers them one higher than v3).
  const ikeBefore = listedSpis(await step('swanctl', 'gw', '--list-sas')).ike;
  await step('swanctl', 'gw', '--rekey', '--ike', 'rw');
  await sleep(1500);
  const ikeAfter = listedSpis(await step('swanctl', 'gw', '--list-sas')).ike;
  result['aRekeyedIke'] = ikeAfter.length === 1 && !ikeBefore.includes(ikeAfter[0] as string);
  mark('A rekeyed the IKE SA');

  for (const name of ['a', 'b']) ipsecCtx(['keygen', '-o', join(out, `${name}.key`)]);
  const pub = (name: string) => ipsecCtx(['keygen', '-y', join(out, `${name}.key`)]).stdout.trim();

  // get --move from A (5.9.8, HA version 3): A rekeys the CHILD SA, then drops the SAs silently.
  const get = ipsecCtx(['get', '--from', uri('gw'), '-i', join(out, 'a.key'), '-r', pub('b'), '-o', join(out, 'ctx.blob'), '--label', 'gw-a', '--move']);
  mark(`get --move exit ${get.status}`);
  result['get'] = get;
  if (get.status !== 0) throw new Error(`get failed: ${get.stderr}`);
  const listA = await step('swanctl', 'gw', '--list-sas');
  const listClient = await step('swanctl', 'cl', '--list-sas');
  writeFileSync(join(out, 'list-sas-a-after-take.txt'), listA);
  writeFileSync(join(out, 'list-sas-cl-after-take.txt'), listClient);
  result['listAAfterTake'] = listedSpis(listA);
  result['clientAfterTake'] = listedSpis(listClient);
  const clientLogMark = logOf('cl').length;
  const gwbLogMark = logOf('gwb').length;

  // put to B (HA version 4 or 5), in B's namespace.
  const put = ipsecCtx(['put', '--to', uri('gwb'), '-i', join(out, 'b.key'), '--trust', pub('a'), '--state-dir', join(out, 'state'), join(out, 'ctx.blob')], gwbNs);
  mark(`put exit ${put.status}`);
  result['put'] = put;
  const gwbPut = logOf('gwb').slice(gwbLogMark);
  result['gwbHaReceived'] = (gwbPut.match(/received HA (IKE|CHILD)\w* message/g) ?? []).length;
  result['gwbVersionErrors'] = (gwbPut.match(/HA message has version \d+, expected \d+/g) ?? []).length;
  const listB = await step('swanctl', 'gwb', '--list-sas');
  writeFileSync(join(out, 'list-sas-b.txt'), listB);
  result['listB'] = listedSpis(listB);
  result['listBText'] = listB;
  if (put.status !== 0) throw new Error('put refused');

  await step('move');
  mark('address moved');
  result['pingAfterMove'] = await pingOk();

  await checkCarriesOnAfterMove(kit, result, { client: clientLogMark, gwb: gwbLogMark });

  // get from B: its RESYNC answer is decoded with B's numbering (v4, v5); the keys must be
  // the ones B derived itself (its IKE rekey above, the CHILD rekey the RESYNC made).
  const getB = ipsecCtx(['get', '--from', uri('gwb'), '-i', join(out, 'b.key'), '-r', pub('a'), '-o', join(out, 'ctx-b.blob'), '--label', 'gw-b'], gwbNs);
  mark(`get from B exit ${getB.status}`);
  result['getB'] = getB;
  if (getB.status !== 0) throw new Error(`get from B failed: ${getB.stderr}`);
  await sleep(500);
  const listBAfterGet = await step('swanctl', 'gwb', '--list-sas');
  writeFileSync(join(out, 'list-sas-b-after-get.txt'), listBAfterGet);
  const blob = new Uint8Array(readFileSync(join(out, 'ctx-b.blob')));
  const a = readIdentityFile(join(out, 'a.key'));
  const b = readIdentityFile(join(out, 'b.key'));
  const context = openBlob(blob, { identities: [a], trust: { signers: [b.publicKey] }, nowMs: Date.now() }).context;
  const dumps = parseDumps(logOf('gwb'));
  const loggedIke = ikeKeySets(dumps);
  const loggedChild = childKeySets(dumps);
  const ike = context.ikeSas[0];
  const lastIke = loggedIke.at(-1);
  const lastChild = loggedChild.at(-1);
  const listedB = listedSpis(listBAfterGet);
  result['fromB'] = {
    ikeSas: context.ikeSas.length,
    childSas: context.childSas.length,
    spisAsListed: ike !== undefined && listedB.ike.includes(`${hex(ike.spiInitiator)}${hex(ike.spiResponder)}`),
    childSpisAsListed: context.childSas.every((c) => (c.direction === 'in' ? listedB.childIn : listedB.childOut).includes(hex(c.spi) as string)),
    loggedIkeKeySets: loggedIke.length,
    loggedChildKeySets: loggedChild.length,
    // Each IKE key of the blob's IKE SA against the last IKE key set B logged.
    ikeKeys: Object.fromEntries(
      (['skD', 'skAi', 'skAr', 'skEi', 'skEr', 'skPi', 'skPr'] as const).map((f) => [f, ike !== undefined && lastIke !== undefined && hex(ike.keys[f]) === hex(lastIke[f])]),
    ),
    rekeyDerivation: ike?.derivation?.rekey !== undefined,
    // After B's IKE rekey its RESYNC carries no virtual IP; the driver takes it from vici.
    remoteVirtualIps: ike?.remoteVirtualIps ?? [],
    // The blob's CHILD keys (in and out) against the last CHILD key set B logged (initiator and responder).
    childKeys: (() => {
      if (!lastChild || context.childSas.length !== 2) return false;
      const logged = [lastChild.integI ? `${hex(lastChild.encrI)}/${hex(lastChild.integI)}` : hex(lastChild.encrI), lastChild.integR ? `${hex(lastChild.encrR)}/${hex(lastChild.integR)}` : hex(lastChild.encrR)];
      return context.childSas.map(childKey).sort().join() === logged.sort().join();
    })(),
  };
  mark('keys compared');
} catch (error) {
  result['error'] = error instanceof Error ? error.message : String(error);
} finally {
  finish(result);
}
