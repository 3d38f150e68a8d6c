/**
 * A post-quantum hybrid tunnel (x25519 plus ML-KEM-768 as an RFC 9370 additional key exchange,
 * for IKE and for the CHILD SA's PFS) moved between two strongSwan 6 charons (6.0.1 or 6.1.0).
 * Runs inside namespace gw of a lab made by
 *
 *   lab/strongswan/with-lab --with-b --charon /opt/ipsec-ctx/strongswan-6.0.1 --client-dpd 4s \
 *     --ike-proposal aes256gcm16-prfsha384-x25519-ke1_mlkem768 \
 *     --esp-proposal aes256gcm16-x25519-ke1_mlkem768 --no-start -- \
 *     node dist/test/drivers/strongswan/multi-ke-scenario.js OUTDIR initial|rekeyed
 *
 * Steps: start A, B and the client (all the same release); the client connects to A (IKE_SA_INIT, then
 * IKE_INTERMEDIATE with ML-KEM); ping; with `rekeyed`, A rekeys the IKE SA first (one
 * CREATE_CHILD_SA and an IKE_FOLLOWUP_KE); `ipsec-ctx get --move` on A (its RESYNC rekeys the
 * CHILD SA, with both key exchanges); the IKE keys in the blob are compared with the last set
 * A's charon logged; `ipsec-ctx put` on B; A's address moves to B; ping, the client's DPD, a
 * CHILD and an IKE rekey by B; then `ipsec-ctx get` on B, whose keys are compared with B's log.
 * Only the comparisons' outcomes are written, never a key.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readIdentityFile } from '../../../lib/crypto/key-files.js';
import { openBlob } from '../../../lib/format/envelope.js';
import type { Context } from '../../../lib/model/context.js';
import { ikeKeySets, parseDumps } from './charon-log.js';
import { listedSpis } from './scenarios.js';
import { checkCarriesOnAfterMove, ipsecCtx, scenarioSetup, sleep } from './scenario-kit.js';

const kit = scenarioSetup('multi-ke-scenario.js OUTDIR initial|rekeyed');
const { out, gwbNs, mark, step, pingOk, logOf, uri, finish } = kit;
const variant = process.argv[3];
if (variant !== 'initial' && variant !== 'rekeyed') throw new Error('usage: multi-ke-scenario.js OUTDIR initial|rekeyed');
const result: Record<string, unknown> = { variant };
const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));
const IKE_KEYS = ['skD', 'skAi', 'skAr', 'skEi', 'skEr', 'skPi', 'skPr'] as const;

/** The blob's shape of key exchanges, and whether its IKE keys equal the last set `node`'s charon logged. */
function compare(context: Context, node: string): Record<string, unknown> {
  const ike = context.ikeSas[0];
  const logged = ikeKeySets(parseDumps(logOf(node))).at(-1);
  return {
    ikeSas: context.ikeSas.length,
    childSas: context.childSas.length,
    additionalKeyExchanges: ike?.proposal.additionalKeyExchanges ?? [],
    intermediateKeys: ike?.derivation?.intermediateKeys?.length ?? 0,
    rekeyAdditionalKey: ike?.derivation?.rekey?.additionalKey !== undefined,
    childAdditionalKey: context.childSas.every((c) => c.negotiation?.additionalKey !== undefined),
    childAdditionalKeyExchanges: context.childSas.map((c) => c.negotiation?.additionalKeyExchanges ?? []),
    ikeKeys: Object.fromEntries(IKE_KEYS.map((f) => [f, ike !== undefined && logged !== undefined && hex(ike.keys[f]) === hex(logged[f])])),
  };
}

function open(blob: string, key: string, signer: string): Context {
  const identity = readIdentityFile(join(out, key));
  const trusted = readIdentityFile(join(out, signer)).publicKey;
  return openBlob(new Uint8Array(readFileSync(join(out, blob))), { identities: [identity], trust: { signers: [trusted] }, nowMs: Date.now() }).context;
}

try {
  await kit.startAll();

  await step('initiate');
  const listA = await step('swanctl', 'gw', '--list-sas');
  writeFileSync(join(out, 'list-sas-a.txt'), listA);
  result['listAText'] = listA;
  result['pingBefore'] = await pingOk();
  mark('tunnel up, ping');
  if (variant === 'rekeyed') {
    const before = listedSpis(listA).ike;
    await step('swanctl', 'gw', '--rekey', '--ike', 'rw');
    await sleep(1500);
    const after = listedSpis(await step('swanctl', 'gw', '--list-sas')).ike;
    result['aRekeyedIke'] = after.length === 1 && !before.includes(after[0] as string);
    mark('A rekeyed the IKE SA');
  }

  for (const name of ['a', 'b']) ipsecCtx(['keygen', '-o', join(out, `${name}.key`)]);
  const pub = (name: string) => ipsecCtx(['keygen', '-y', join(out, `${name}.key`)]).stdout.trim();
  const get = ipsecCtx(['get', '--from', uri('gw'), '-i', join(out, 'a.key'), '-r', pub('b'), '-o', join(out, 'ctx.blob'), '--label', 'gw-a', '--move']);
  result['get'] = get;
  mark(`get --move exit ${get.status}`);
  if (get.status !== 0) throw new Error(`get failed: ${get.stderr}`);
  result['fromA'] = compare(open('ctx.blob', 'b.key', 'a.key'), 'gw');
  const clientLogMark = logOf('cl').length;
  const gwbLogMark = logOf('gwb').length;

  const put = ipsecCtx(['put', '--to', uri('gwb'), '-i', join(out, 'b.key'), '--trust', pub('a'), '--state-dir', join(out, 'state'), join(out, 'ctx.blob')], gwbNs);
  result['put'] = put;
  mark(`put exit ${put.status}`);
  const listB = await step('swanctl', 'gwb', '--list-sas');
  writeFileSync(join(out, 'list-sas-b.txt'), listB);
  result['listBText'] = listB;
  result['gwbRefusals'] = (logOf('gwb').slice(gwbLogMark).match(/HA .*(failed|missing)|keymat derivation failed/g) ?? []).length;
  if (put.status !== 0) throw new Error(`put failed: ${put.stderr}`);

  await step('move');
  mark('address moved');
  result['pingAfterMove'] = await pingOk();
  await checkCarriesOnAfterMove(kit, result, { client: clientLogMark, gwb: gwbLogMark });

  const getB = ipsecCtx(['get', '--from', uri('gwb'), '-i', join(out, 'b.key'), '-r', pub('a'), '-o', join(out, 'ctx-b.blob'), '--label', 'gw-b'], gwbNs);
  result['getB'] = getB;
  mark(`get from B exit ${getB.status}`);
  if (getB.status !== 0) throw new Error(`get from B failed: ${getB.stderr}`);
  result['fromB'] = compare(open('ctx-b.blob', 'a.key', 'b.key'), 'gwb');
  mark('keys compared');
} catch (error) {
  result['error'] = error instanceof Error ? error.message : String(error);
} finally {
  finish(result);
}
