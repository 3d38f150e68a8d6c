/**
 * A road-warrior tunnel moved from gateway A to gateway B with the ipsec-ctx CLI and the
 * strongswan: driver, between real charons. Runs inside namespace gw of a lab made by
 *
 *   lab/strongswan/with-lab --with-b --client-dpd 4s --no-start -- \
 *     node dist/test/drivers/strongswan/move-scenario.js OUTDIR [missing-connection]
 *
 * Steps: start A (gw), B (gwb), the client (cl); the client connects to A; ping;
 * `ipsec-ctx get --from strongswan:…` on A (a RESYNC: A rekeys the CHILD SA); A fails
 * (SIGKILL); `ipsec-ctx put --to strongswan:…` on B (run in B's namespace); A's address moves
 * to B; ping; the client's DPD; B rekeys the CHILD SA; B rekeys the IKE SA; ping. With
 * `missing-connection`, B's connection is renamed first and the put must be refused; with
 * `take`, `get --move` takes the SAs out of service on A (which stays up) instead of killing A.
 *
 * Writes OUTDIR/result.json (what the test asserts) and the logs and listings it is based on.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listedSpis } from './scenarios.js';
import { checkCarriesOnAfterMove, ipsecCtx, run, scenarioSetup } from './scenario-kit.js';

const kit = scenarioSetup('move-scenario.js OUTDIR [missing-connection|take]');
const { out, dir, gwbNs, mark, step, pingOk, logOf, uri, finish } = kit;
const variant = process.argv[3] ?? 'move';
const result: Record<string, unknown> = { variant };

try {
  await kit.startAll();

  await step('initiate');
  result['pingBefore'] = await pingOk();
  mark('tunnel up, ping');

  for (const name of ['a', 'b']) ipsecCtx(['keygen', '-o', join(out, `${name}.key`)]);
  const pub = (name: string) => ipsecCtx(['keygen', '-y', join(out, `${name}.key`)]).stdout.trim();

  if (variant === 'missing-connection') {
    // B loads its connection under another name.
    const conf = join(dir, 'gwb', 'swanctl', 'swanctl.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^  rw \{/m, '  rw-other {'));
    await step('swanctl', 'gwb', '--load-all', '--noprompt', '--file', conf);
    await step('swanctl', 'gwb', '--unload-conn', '--name', 'rw').catch(() => undefined);
  }

  // get from A: the RESYNC makes A rekey the CHILD SA.
  writeFileSync(join(out, 'list-sas-a-before.txt'), await step('swanctl', 'gw', '--list-sas'));
  const take = variant === 'take';
  const get = ipsecCtx(['get', '--from', uri('gw'), '-i', join(out, 'a.key'), '-r', pub('b'), '-o', join(out, 'ctx.blob'), '--label', 'gw-a', ...(take ? ['--move'] : [])]);
  mark(`get exit ${get.status}`);
  result['get'] = get;
  const listA = await step('swanctl', 'gw', '--list-sas');
  writeFileSync(join(out, 'list-sas-a.txt'), listA);
  if (get.status !== 0) throw new Error(`get failed: ${get.stderr}`);

  if (take) {
    // get --move: A dropped the SAs itself, without telling the client; A stays up.
    result['listAAfterTake'] = listedSpis(listA);
    result['clientAfterTake'] = listedSpis(await step('swanctl', 'cl', '--list-sas'));
  } else {
    // A fails.
    await step('kill', 'gw');
    mark('A killed');
  }
  const clientLogMark = logOf('cl').length;
  const gwbLogMark = logOf('gwb').length;

  const put = ipsecCtx(['put', '--to', uri('gwb'), '-i', join(out, 'b.key'), '--trust', pub('a'), '--state-dir', join(out, 'state'), join(out, 'ctx.blob')], gwbNs);
  mark(`put exit ${put.status}`);
  result['put'] = put;
  result['gwbHaReceived'] = (logOf('gwb').slice(gwbLogMark).match(/received HA (IKE|CHILD|SEGMENT)\w* message/g) ?? []).length;
  const listB = await step('swanctl', 'gwb', '--list-sas');
  writeFileSync(join(out, 'list-sas-b.txt'), listB);
  result['listA'] = listedSpis(listA);
  result['listB'] = listedSpis(listB);
  result['listBText'] = listB;
  if (put.status !== 0) throw new Error('put refused');

  await step('move');
  mark('address moved');
  result['pingAfterMove'] = await pingOk();
  mark('ping after move');

  await checkCarriesOnAfterMove(kit, result, { client: clientLogMark, gwb: gwbLogMark });
} catch (error) {
  result['error'] = error instanceof Error ? error.message : String(error);
} finally {
  finish(result);
}
