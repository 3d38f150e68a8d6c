/**
 * 50 tunnels moved from gateway A to gateway B at once, and put interrupted half way. Runs
 * inside namespace gw of a lab made by
 *
 *   lab/strongswan/with-lab --with-b --clients 50 --no-start -- \
 *     node dist/test/drivers/strongswan/scale-scenario.js OUTDIR
 *
 * Steps: start A, B and the client charon (connections rw1..rw50); bring all 50 up; ping
 * through each; `get` from A (A rekeys 50 CHILD SAs); A fails (SIGKILL). Then on B: a put
 * SIGTERMed after 120 HA datagrams (must roll back: B holds nothing), a put SIGKILLed after
 * 120 datagrams (B keeps what arrived: listed at once and after charon's 2.1 s heartbeat
 * timeout), B restarted (the way back from a crashed put), the full put; A's address moves to
 * B; ping through each tunnel; `get` from B, to compare the identities B holds with A's (rw1
 * has a distinguished name, rw2 a key ID). Writes OUTDIR/result.json with the timings and
 * listings.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listedSpis } from './scenarios.js';
import { cli, env, root, run, runNode, scenarioSetup, sleep } from './scenario-kit.js';

const { out, dir, gwbNs, mark, step, logOf, uri, finish, startAll } = scenarioSetup('scale-scenario.js OUTDIR', 90_000);
const interrupted = join(root, 'dist', 'test', 'drivers', 'strongswan', 'put-interrupted.js');
const clNs = env('SWLAB_CL_NS');
const result: Record<string, unknown> = {};
const node = (script: string, args: string[], netns?: string) => runNode(script, args, netns, 90_000);
/** IKE SA states and installed CHILD SAs in a `swanctl --list-sas`. */
const states = (text: string) => {
  const ike: Record<string, number> = {};
  for (const m of text.matchAll(/^\S+: #\d+, (\w+), IKEv2/gm)) ike[m[1] as string] = (ike[m[1] as string] ?? 0) + 1;
  return { ike, childInstalled: (text.match(/, INSTALLED, /g) ?? []).length, spis: listedSpis(text) };
};
const pingAll = async (): Promise<number> => {
  const { stdout } = await run('ip', ['-n', clNs, '-4', '-o', 'addr', 'show']);
  const vips = [...stdout.matchAll(/inet (10\.3\.0\.\d+)\//g)].map((m) => m[1] as string);
  const ok = await Promise.all(
    vips.map((vip) =>
      run('ip', ['netns', 'exec', clNs, 'ping', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '2', '-I', vip, '10.10.1.1']).then(
        () => true,
        () => false,
      ),
    ),
  );
  result['vips'] = vips.length;
  return ok.filter(Boolean).length;
};

try {
  await startAll();

  let t0 = Date.now();
  await step('initiate-all', '10');
  result['establishMs'] = Date.now() - t0;
  result['listA'] = states(await step('swanctl', 'gw', '--list-sas'));
  mark('50 tunnels up');
  result['pingBefore'] = await pingAll();
  mark('pings');

  for (const name of ['a', 'b']) node(cli, ['keygen', '-o', join(out, `${name}.key`)]);
  const pub = (name: string) => node(cli, ['keygen', '-y', join(out, `${name}.key`)]).stdout.trim();
  const get = node(cli, ['get', '--from', uri('gw'), '-i', join(out, 'a.key'), '-r', pub('b'), '-o', join(out, 'ctx.blob'), '--label', 'gw-a']);
  result['get'] = get;
  mark(`get exit ${get.status} in ${get.ms} ms`);
  if (get.status !== 0) throw new Error(`get failed: ${get.stderr}`);
  await step('kill', 'gw');
  const clientLogMark = logOf('cl').length;
  mark('A killed');

  const putArgs = (state: string) => ['--to', uri('gwb'), '-i', join(out, 'b.key'), '--trust', pub('a'), '--state-dir', join(out, state), join(out, 'ctx.blob')];

  // A put interrupted by SIGTERM half way: it stops and rolls back.
  const term = node(interrupted, ['term', '120', ...putArgs('state-term')], gwbNs);
  result['putTerm'] = term;
  result['listBAfterTerm'] = states(await step('swanctl', 'gwb', '--list-sas'));
  mark(`put SIGTERMed: exit ${term.status} in ${term.ms} ms`);

  // A put killed half way: what B is left with, at once and after its heartbeat timeout.
  const killed = node(interrupted, ['kill', '120', ...putArgs('state-kill')], gwbNs);
  result['putKill'] = killed;
  const listKilled = await step('swanctl', 'gwb', '--list-sas');
  result['listBAfterKill'] = states(listKilled);
  await sleep(3000);
  const listKilledLater = await step('swanctl', 'gwb', '--list-sas');
  result['listBAfterKillLater'] = states(listKilledLater);
  writeFileSync(join(out, 'list-sas-b-after-kill.txt'), `${listKilled}\n--- 3 s later ---\n${listKilledLater}`);
  // A second put now meets the half-synced SAs.
  const again = node(cli, ['put', ...putArgs('state-again')], gwbNs);
  result['putAgain'] = again;
  mark(`put SIGKILLed (signal ${killed.signal}); again: exit ${again.status}`);

  // The way back from a crashed put: restart B's charon (it keeps no SA), then put again.
  await step('stop', 'gwb');
  await step('start', 'gwb');
  await sleep(2600);
  mark('B restarted');
  const put = node(cli, ['put', ...putArgs('state')], gwbNs);
  result['put'] = put;
  mark(`put exit ${put.status} in ${put.ms} ms`);
  result['listB'] = states(await step('swanctl', 'gwb', '--list-sas'));
  await step('move');
  result['pingAfterMove'] = await pingAll();
  mark('pings after move');
  // The identities whose text is not exact (rw1's DN, rw2's key ID), as A's blob carries them
  // and as B holds them after the put: a get from B (it rekeys B's 50 CHILD SAs).
  const getB = node(cli, ['get', '--from', uri('gwb'), '-i', join(out, 'b.key'), '-r', pub('a'), '-o', join(out, 'ctx-b.blob'), '--label', 'gw-b'], gwbNs);
  result['getB'] = getB;
  mark(`get from B exit ${getB.status}`);
  if (getB.status !== 0) throw new Error(`get from B failed: ${getB.stderr}`);
  const identities = (blob: string, key: string, signer: string) => {
    const inspect = node(cli, ['inspect', '--json', '-i', join(out, key), '--trust', pub(signer), join(out, blob)]);
    if (inspect.status !== 0) throw new Error(`inspect failed: ${inspect.stderr}`);
    const { context } = JSON.parse(inspect.stdout) as { context: { ikeSas: { remoteIdentity: string; identityEncodings?: unknown }[] } };
    // The gateway's connection is `rw` for all 50; rw1..rw3 are the client's names for them.
    const ofClient = (text: string) => context.ikeSas.filter((sa) => sa.remoteIdentity === text).map((sa) => sa.identityEncodings ?? null);
    return { rw1: ofClient('C=CH, O=ipsec-ctx lab, CN=carol'), rw2: ofClient('cl2-key'), rw3: ofClient('cl3.lab') };
  };
  result['identitiesA'] = identities('ctx.blob', 'b.key', 'a');
  result['identitiesB'] = identities('ctx-b.blob', 'a.key', 'b');
  const clientAfter = logOf('cl').slice(clientLogMark);
  result['clientIkeSaInit'] = (clientAfter.match(/IKE_SA_INIT/g) ?? []).length;
  result['clientIkeAuth'] = (clientAfter.match(/IKE_AUTH/g) ?? []).length;
  result['clientDeletes'] = (clientAfter.match(/received DELETE for IKE_SA/g) ?? []).length;
} catch (error) {
  result['error'] = error instanceof Error ? error.message : String(error);
} finally {
  finish(result);
}
