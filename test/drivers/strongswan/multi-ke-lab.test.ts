/**
 * Live: a post-quantum hybrid tunnel (x25519 + ML-KEM-768, RFC 9370 additional key exchanges
 * for IKE and for CHILD SA PFS) moved between strongSwan 6 charons, as multi-ke-scenario.ts
 * runs it: on 6.0.1 (HA protocol version 4) right after the client connected (the IKE SA's
 * keys chain through an IKE_INTERMEDIATE round), on 6.1.0 (version 5) after A rekeyed the IKE
 * SA (one derivation with the ML-KEM secret appended). Asserted: get's IKE keys equal A's log, put is
 * taken by B without a refusal, traffic, DPD and rekeys carry on on B, and a get from B has
 * B's own keys.
 *
 * Needs root, lab/strongswan/install-deps (which builds 6.0.1 with ML-KEM). Skipped with a
 * message otherwise, except in CI (CI=true), where a lab that cannot run is a failure.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { charon6Missing, charon6Prefix, inCi, runLabScenario } from './lab-availability.js';
import { assertCarriesOnAfterMove } from './after-move.js';

const RUNS = [
  { variant: 'initial', release: '6.0.1' },
  { variant: 'rekeyed', release: '6.1.0' },
] as const;
const ALL_KEYS = { skD: true, skAi: true, skAr: true, skEi: true, skEr: true, skPi: true, skPr: true };

interface Run {
  status: number;
  stderr: string;
}
interface Compared {
  ikeSas: number;
  childSas: number;
  additionalKeyExchanges: string[];
  intermediateKeys: number;
  rekeyAdditionalKey: boolean;
  childAdditionalKey: boolean;
  childAdditionalKeyExchanges: string[][];
  ikeKeys: Record<string, boolean>;
}

for (const { variant, release } of RUNS) {
  const missing = charon6Missing(release, 'lib/ipsec/plugins/libstrongswan-ml.so');
  const title = `lab: a post-quantum hybrid tunnel (x25519 + ML-KEM-768) moves between strongSwan ${release} charons with its chained keys (${variant === 'initial' ? 'keys from IKE_INTERMEDIATE' : 'after an IKE rekey'})`;
  if (missing !== undefined && !inCi) {
    test(title, (t) => {
      t.log(`SKIPPED: ${missing}; run \`sudo lab/strongswan/install-deps\` and the tests as root`);
      t.pass();
    });
    continue;
  }
  test(title, async (t) => {
    if (missing !== undefined) return t.fail(`the strongSwan ${release} lab cannot run in CI: ${missing}`);
    t.timeout(180_000);
    const flags = ['--with-b', '--charon', charon6Prefix(release), '--client-dpd', '4s', '--ike-proposal', 'aes256gcm16-prfsha384-x25519-ke1_mlkem768'];
    flags.push('--esp-proposal', 'aes256gcm16-x25519-ke1_mlkem768', '--no-start', '--timeout', '150');
    const out = await runLabScenario(t, flags, 'multi-ke-scenario', [variant]);
    const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as Record<string, unknown>;
    t.log((r['timeline'] as string[]).join('\n'));
    t.is(r['error'], undefined, r['error'] as string);

    t.regex(r['listAText'] as string, /AES_GCM_16-256\/PRF_HMAC_SHA2_384\/CURVE_25519\/KE1_ML_KEM_768/, 'A negotiated the hybrid proposal');
    t.true(r['pingBefore'] as boolean);
    if (variant === 'rekeyed') t.true(r['aRekeyedIke'] as boolean, 'A rekeyed the IKE SA before the get');

    // What get read from A: the key exchanges, how the keys were derived, and A's own keys.
    t.is((r['get'] as Run).status, 0, (r['get'] as Run).stderr);
    const fromA = r['fromA'] as Compared;
    t.deepEqual(fromA.additionalKeyExchanges, ['ML_KEM_768']);
    t.is(fromA.intermediateKeys, variant === 'initial' ? 1 : 0);
    t.is(fromA.rekeyAdditionalKey, variant === 'rekeyed');
    // get's RESYNC rekeyed the CHILD SA with both key exchanges (PFS).
    t.true(fromA.childAdditionalKey, 'the CHILD SA carries the ML-KEM secret');
    t.deepEqual(fromA.childAdditionalKeyExchanges, [['ML_KEM_768'], ['ML_KEM_768']]);
    t.deepEqual(fromA.ikeKeys, ALL_KEYS, "the IKE keys equal the last set A's charon logged");

    // put: B takes every message, and lists the SA with its proposal.
    t.is((r['put'] as Run).status, 0, (r['put'] as Run).stderr);
    t.true((r['put'] as Run).stderr.includes(`the target speaks HA protocol version ${release === '6.0.1' ? 4 : 5} (strongSwan ${release})`), (r['put'] as Run).stderr);
    t.is(r['gwbRefusals'], 0, "B's log shows no HA refusal or failed derivation");
    t.regex(r['listBText'] as string, /ESTABLISHED/);
    t.regex(r['listBText'] as string, /CURVE_25519\/KE1_ML_KEM_768/);
    t.regex(r['listBText'] as string, /INSTALLED/);

    // After the move: traffic, the client's DPD, a CHILD and an IKE rekey by B (both hybrid).
    assertCarriesOnAfterMove(t, r);

    // A get from B reads the IKE SA B rekeyed itself: one derivation with the ML-KEM secret appended.
    t.is((r['getB'] as Run).status, 0, (r['getB'] as Run).stderr);
    const fromB = r['fromB'] as Compared;
    t.is(fromB.ikeSas, 1);
    t.is(fromB.childSas, 2);
    t.true(fromB.rekeyAdditionalKey);
    t.deepEqual(fromB.ikeKeys, ALL_KEYS, "the IKE keys equal the last set B's charon logged");
  });
}
