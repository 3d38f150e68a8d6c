/**
 * Live: `ipsec-ctx follow` as a real charon's HA standby (follow-scenario.ts, in a lab made by
 * lab/strongswan/with-lab --with-b). A tunnel set up after follow started appears in the
 * snapshot with the keys charon logs, A's CHILD rekey replaces it there, the gateway received
 * nothing from the follower, SIGTERM stops it with exit 0, and the snapshot, put on B after A
 * failed, carries the tunnel on without a new IKE_SA_INIT.
 *
 * Needs root and lab/strongswan/install-deps. Skipped with a message otherwise, except in CI
 * (CI=true), where a lab that cannot run is a failure.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '../../../lib/model/context.js';
import { childKeySets, ikeKeySets, parseDumps } from './charon-log.js';
import { listedSpis } from './scenarios.js';
import { inCi, missing, runLabScenario } from './lab-availability.js';

const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

if (missing !== undefined && !inCi) {
  test('lab: follow a real charon as its HA standby', (t) => {
    t.log(`SKIPPED: ${missing}; run \`sudo lab/strongswan/install-deps\` and the tests as root`);
    t.pass();
  });
} else {
  test('lab: follow keeps a snapshot of a real charon current (keys as charon logs them, CHILD rekey) without touching it, and B carries on from it', async (t) => {
    if (missing !== undefined) return t.fail(`the strongSwan lab cannot run in CI: ${missing}`);
    t.timeout(150_000);
    const out = await runLabScenario(t, ['--with-b', '--no-start', '--timeout', '120'], 'follow-scenario');
    const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as Record<string, unknown>;
    t.log((r['timeline'] as string[]).join('\n'));
    t.is(r['error'], undefined, `${r['error']}\n${r['followStderr']}`);
    t.is(r['snapshotMode'], '600');

    // Keys: the snapshot's equal what charon logged for the IKE SA and both CHILD SAs.
    const dumps = parseDumps(readFileSync(join(out, 'charon-gw.log'), 'utf8'));
    const loggedIke = ikeKeySets(dumps);
    const loggedChild = childKeySets(dumps);
    t.is(loggedIke.length, 1);
    t.is(loggedChild.length, 2);
    const established = Context.parse(JSON.parse(readFileSync(join(out, 'snap-established.json'), 'utf8')));
    const rekeyed = Context.parse(JSON.parse(readFileSync(join(out, 'snap-rekeyed.json'), 'utf8')));
    for (const snap of [established, rekeyed]) {
      t.is(snap.ikeSas.length, 1);
      for (const f of ['skD', 'skAi', 'skAr', 'skEi', 'skEr', 'skPi', 'skPr'] as const) t.is(hex(snap.ikeSas[0]!.keys[f]), hex(loggedIke[0]![f]), f);
    }
    const aead = (c: Context, direction: 'in' | 'out') => {
      const sa = c.childSas.find((x) => x.direction === direction)!;
      return sa.crypto.kind === 'aead' ? hex(sa.crypto.key) : undefined;
    };
    // The client initiated the first CHILD SA (its outbound = charon's "initiator" keys), A the rekey.
    t.is(aead(established, 'in'), hex(loggedChild[0]!.encrI));
    t.is(aead(established, 'out'), hex(loggedChild[0]!.encrR));
    t.is(aead(rekeyed, 'in'), hex(loggedChild[1]!.encrR));
    t.is(aead(rekeyed, 'out'), hex(loggedChild[1]!.encrI));
    // The snapshots name the SAs swanctl listed at the time.
    for (const [snap, file] of [[established, 'list-sas-established.txt'], [rekeyed, 'list-sas-rekeyed.txt']] as const) {
      const listed = listedSpis(readFileSync(join(out, file), 'utf8'));
      t.deepEqual(snap.ikeSas.map((sa) => `${hex(sa.spiInitiator)}${hex(sa.spiResponder)}`), listed.ike);
      t.deepEqual(snap.childSas.filter((c) => c.direction === 'in').map((c) => hex(c.spi)), listed.childIn.slice(-1));
    }
    t.is(rekeyed.provenance.source, 'gw-a');

    // No side effect on A (no RESYNC: charon logged exactly the two CHILD key sets above, the
    // client's and the one rekey asked for), and a clean stop on SIGTERM.
    t.is(r['gwHaReceived'], 0, 'A received no HA message');
    t.is(r['followExit'], 0, r['followStderr'] as string);
    t.regex(r['followStderr'] as string, /nothing is sent to the gateway/);
    t.regex(r['followStderr'] as string, /stopped following strongswan:127\.0\.0\.1\?.*: wrote \d+ snapshot\(s\)/);

    // The snapshot feeds put: B carries the tunnel on.
    const put = r['put'] as { status: number; stderr: string };
    t.is(put.status, 0, put.stderr);
    const listB = r['listB'] as { ike: string[]; childIn: string[] };
    t.deepEqual(listB.ike, (r['listRekeyed'] as { ike: string[] }).ike);
    t.deepEqual(listB.childIn, rekeyed.childSas.filter((c) => c.direction === 'in').map((c) => hex(c.spi)));
    t.true(r['pingAfterMove'] as boolean);
    t.is(r['clientIkeSaInit'], 0);
    t.is(r['clientIkeAuth'], 0);
  });
}
