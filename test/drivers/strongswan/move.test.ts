/**
 * Live: a road-warrior tunnel moved between two real charons with `ipsec-ctx get --from
 * strongswan:…` and `ipsec-ctx put --to strongswan:…` (move-scenario.ts, in a lab made by
 * lab/strongswan/with-lab --with-b). After the move, B lists the same IKE SA and the CHILD
 * SA A announced, traffic continues, the client's DPD, a CHILD rekey and an IKE rekey run by
 * B succeed, and the client never runs IKE_SA_INIT or IKE_AUTH again. A target without the
 * connection is refused before anything is sent.
 *
 * Needs root and lab/strongswan/install-deps. Skipped with a message otherwise, except in CI
 * (CI=true), where a lab that cannot run is a failure.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_PROPOSALS, inCi, missing, runLabScenario } from './lab-availability.js';
import { assertCarriesOnAfterMove } from './after-move.js';

interface Result {
  error?: string;
  get: { status: number; stderr: string };
  put: { status: number; stderr: string };
  listA: { ike: string[]; childIn: string[]; childOut: string[] };
  listB: { ike: string[]; childIn: string[]; childOut: string[] };
  listBText: string;
  gwbHaReceived: number;
  [key: string]: unknown;
}

async function scenario(t: { log: (...v: unknown[]) => void; teardown: (f: () => void) => void }, variant: string, proposals: readonly string[] = []): Promise<Result> {
  const out = await runLabScenario(t, ['--with-b', '--client-dpd', '4s', ...proposals, '--no-start', '--timeout', '150'], 'move-scenario', [variant]);
  return JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as Result;
}

if (missing !== undefined && !inCi) {
  test('lab: move a tunnel between real charons (strongswan: get and put)', (t) => {
    t.log(`SKIPPED: ${missing}; run \`sudo lab/strongswan/install-deps\` and the tests as root`);
    t.pass();
  });
} else {
  for (const proposal of LAB_PROPOSALS) {
    test(`lab: get from charon A, put to charon B, move the address: B carries on the same IKE and CHILD SAs without a new IKE_SA_INIT (${proposal.name})`, async (t) => {
      if (missing !== undefined) return t.fail(`the strongSwan lab cannot run in CI: ${missing}`);
      t.timeout(180_000);
      const r = await scenario(t, 'move', proposal.args);
      t.log((r['timeline'] as string[]).join('\n'));
      t.is(r.error, undefined, r.error);
      t.is(r.get.status, 0, r.get.stderr);
      t.regex(r.get.stderr, /RESYNC made the gateway rekey 1 CHILD SA\(s\)/);
      t.is(r.put.status, 0, r.put.stderr);
      t.true(r['pingBefore'] as boolean);

      // B lists the IKE SA A held, and the CHILD SA A announced (the rekeyed one; A still listed
      // the old one until its delayed delete), ESTABLISHED with the CHILD SA INSTALLED.
      t.is(r.listB.ike.length, 1);
      t.deepEqual(r.listB.ike, r.listA.ike);
      t.is(r.listB.childIn.length, 1);
      t.true(r.listA.childIn.includes(r.listB.childIn[0] as string));
      t.true(r.listA.childOut.includes(r.listB.childOut[0] as string));
      t.regex(r.listBText, /ESTABLISHED/);
      t.regex(r.listBText, /INSTALLED/);
      t.regex(r.listBText, /remote 'cl\.lab' @ 10\.0\.0\.2\[4500\] \[10\.3\.0\.1\]/);

      // Traffic, DPD, CHILD and IKE rekeys after the move, all on B.
      assertCarriesOnAfterMove(t, r);
    });
  }

  test('lab: get --move takes the SAs out of service on A without telling the client, and B carries on', async (t) => {
    if (missing !== undefined) return t.fail(`the strongSwan lab cannot run in CI: ${missing}`);
    t.timeout(180_000);
    const r = await scenario(t, 'take');
    t.is(r.error, undefined, r.error);
    t.is(r.get.status, 0, r.get.stderr);
    t.regex(r.get.stderr, /moved: took 3 record\(s\) out of service/);
    const taken = r['listAAfterTake'] as Result['listA'];
    const client = r['clientAfterTake'] as Result['listA'];
    t.deepEqual(taken.ike, [], 'A holds no IKE SA after the take');
    t.is(client.ike.length, 1, 'the client still holds its IKE SA (A sent no DELETE)');
    t.is(r.put.status, 0, r.put.stderr);
    t.deepEqual(r.listB.ike, client.ike);
    t.true(r['pingAfterMove'] as boolean);
    t.true(r['ikeRekeyed'] as boolean);
    t.true(r['pingAfterIkeRekey'] as boolean);
    t.is(r['clientIkeSaInit'], 0);
    t.is(r['clientIkeAuth'], 0);
  });

  test('lab: put refuses a target charon without the context\'s connection, before sending anything', async (t) => {
    if (missing !== undefined) return t.fail(`the strongSwan lab cannot run in CI: ${missing}`);
    t.timeout(180_000);
    const r = await scenario(t, 'missing-connection');
    t.is(r.get.status, 0, r.get.stderr);
    t.is(r.put.status, 6);
    t.regex(r.put.stderr, /the target charon has no connection "rw"; nothing was sent/);
    t.is(r.gwbHaReceived, 0, 'B received no HA message');
    t.deepEqual(r.listB.ike, []);
  });
}
