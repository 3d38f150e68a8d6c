/**
 * Live, across HA protocol versions: a road-warrior tunnel moved from Debian's charon 5.9.8
 * (HA version 3) to a strongSwan 6.0.1 charon (HA version 4) and to a 6.1.0 charon (version 5),
 * both built by lab/strongswan/build-charon6, then read back from B (version-scenario.ts, in
 * `with-lab --with-b --gwb-charon /opt/ipsec-ctx/strongswan-VERSION`). Asserted: each
 * gateway's datagrams carry its version byte and B drops a version-3 one; `get --move` from A
 * and `put` to B (which says which version it speaks); B lists the same IKE SA and the CHILD SA
 * A announced; ping, the client's DPD, a CHILD rekey and an IKE rekey by B all work without a
 * new IKE_SA_INIT; a `get` from B decodes B's version and its keys equal what B's charon logs.
 * 6.1.0 runs with one proposal set, 6.0.1 with both.
 *
 * Needs root, lab/strongswan/install-deps (which builds both). Skipped with a message
 * otherwise, except in CI (CI=true), where a lab that cannot run is a failure.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_PROPOSALS, charon6Missing, charon6Prefix, inCi, runLabScenario } from './lab-availability.js';
import { assertCarriesOnAfterMove } from './after-move.js';

/** Each strongSwan 6 release B runs, the HA version it speaks, and the proposal sets it is tested with. */
const TARGETS = [
  { release: '6.0.1', ha: 4, proposals: LAB_PROPOSALS },
  { release: '6.1.0', ha: 5, proposals: LAB_PROPOSALS.slice(0, 1) },
] as const;

interface Listed {
  ike: string[];
  childIn: string[];
  childOut: string[];
}
interface Run {
  status: number;
  stderr: string;
}
interface Result {
  error?: string;
  get: Run;
  put: Run;
  getB: Run;
  listB: Listed;
  clientAfterTake: Listed;
  listAAfterTake: Listed;
  listBText: string;
  fromB: {
    ikeSas: number;
    childSas: number;
    spisAsListed: boolean;
    childSpisAsListed: boolean;
    loggedIkeKeySets: number;
    ikeKeys: Record<string, boolean>;
    rekeyDerivation: boolean;
    remoteVirtualIps: string[];
    childKeys: boolean;
  };
  [key: string]: unknown;
}

for (const { release, ha, proposals } of TARGETS) {
  const missing = charon6Missing(release);
  if (missing !== undefined && !inCi) {
    test(`lab: move a tunnel from strongSwan 5.9.8 (HA v3) to ${release} (HA v${ha})`, (t) => {
      t.log(`SKIPPED: ${missing}; run \`sudo lab/strongswan/install-deps\` and the tests as root`);
      t.pass();
    });
    continue;
  }
  for (const proposal of proposals) {
    test(`lab: get --move from charon 5.9.8 (HA v3), put to charon ${release} (HA v${ha}): B carries on the same SAs, and a get from B has B's own keys (${proposal.name})`, async (t) => {
      if (missing !== undefined) return t.fail(`the strongSwan ${release} lab cannot run in CI: ${missing}`);
      t.timeout(180_000);
      const out = await runLabScenario(t, ['--with-b', '--gwb-charon', charon6Prefix(release), '--client-dpd', '4s', ...proposal.args, '--no-start', '--timeout', '150'], 'version-scenario');
      const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as Result;
      t.log((r['timeline'] as string[]).join('\n'));
      t.is(r.error, undefined, r.error);

      // The versions on the wire: each gateway's first datagram, and B refusing version 3.
      t.is(r['releaseA'], '5.9.8');
      t.is(r['releaseB'], release);
      t.regex(r['heartbeatA'] as string, /^03/);
      t.regex(r['heartbeatB'] as string, new RegExp(`^0${ha}`));
      t.is(r['gwbDropsV3'], String(ha), `B logs "HA message has version 3, expected ${ha}"`);

      // get --move from A (v3) after A rekeyed the IKE SA, put to B (v4 or v5).
      t.true(r['aRekeyedIke'] as boolean, 'A rekeyed the IKE SA before the get');
      t.is(r.get.status, 0, r.get.stderr);
      t.regex(r.get.stderr, /RESYNC made the gateway rekey 1 CHILD SA\(s\)/);
      t.deepEqual(r.listAAfterTake.ike, [], 'A holds no IKE SA after the take');
      t.is(r.clientAfterTake.ike.length, 1, 'the client still holds its IKE SA');
      t.is(r.put.status, 0, r.put.stderr);
      t.true(r.put.stderr.includes(`the target speaks HA protocol version ${ha} (strongSwan ${release})`), r.put.stderr);
      t.is(r['gwbVersionErrors'], 0, 'B dropped none of the put as a version mismatch');
      // IKE_ADD, 2 IKE_UPDATE, IKE_MID_INITIATOR (and IKE_MID_RESPONDER once the client sent a request on the rekeyed SA), CHILD_ADD.
      t.true((r['gwbHaReceived'] as number) >= 5, `B received ${r['gwbHaReceived']} HA sync messages`);

      // B lists the client's IKE SA and the CHILD SA A announced (the client's side of it).
      t.deepEqual(r.listB.ike, r.clientAfterTake.ike);
      t.is(r.listB.childIn.length, 1);
      t.true(r.clientAfterTake.childOut.includes(r.listB.childIn[0] as string));
      t.true(r.clientAfterTake.childIn.includes(r.listB.childOut[0] as string));
      t.regex(r.listBText, /ESTABLISHED/);
      t.regex(r.listBText, /INSTALLED/);
      t.regex(r.listBText, /remote 'cl\.lab' @ 10\.0\.0\.2\[4500\] \[10\.3\.0\.1\]/);

      // Traffic, DPD, CHILD and IKE rekeys after the move, all on B.
      t.true(r['pingBefore'] as boolean);
      assertCarriesOnAfterMove(t, r);
      // A DPD the client sent during the put (A no longer had the SA) is retransmitted until B
      // answers it after the move: 0 to 2 retransmits, depending on how long the put took.
      t.log(`client retransmits after the take: ${r['clientRetransmits']}`);

      // get from B (v4 or v5): the IKE SA B rekeyed, keys equal to B's last logged set.
      t.is(r.getB.status, 0, r.getB.stderr);
      t.regex(r.getB.stderr, /RESYNC made the gateway rekey 1 CHILD SA\(s\)/);
      t.is(r.fromB.ikeSas, 1);
      t.is(r.fromB.childSas, 2);
      t.true(r.fromB.spisAsListed, 'the IKE SPIs B lists');
      t.true(r.fromB.childSpisAsListed, 'the CHILD SPIs B lists');
      t.true(r.fromB.rekeyDerivation, 'derived from the old SK_d (B rekeyed the IKE SA)');
      t.deepEqual(r.fromB.remoteVirtualIps, ['10.3.0.1'], "the client's virtual IP (from vici: the RESYNC after a rekey has none)");
      t.is(r.fromB.loggedIkeKeySets, 2, "B's log: the put's IKE SA and its own rekey");
      t.deepEqual(r.fromB.ikeKeys, { skD: true, skAi: true, skAr: true, skEi: true, skEr: true, skPi: true, skPr: true });
      t.true(r.fromB.childKeys, 'CHILD keys equal the last set B logged');
    });
  }
}
