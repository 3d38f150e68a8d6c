/**
 * Live: real charons (gateway with the ha plugin pointed at ipsec-ctx, road-warrior client) in
 * network namespaces on this host (lab/strongswan/with-lab), a tunnel with traffic, CHILD and
 * IKE rekeys, all watched by ipsec-ctx's passive HA peer (lab-scenario.ts). Checks the keys it
 * derived against the gateway's own level-4 log, the SAs against `swanctl --list-sas`, and the
 * model against lib/model's schema.
 *
 * Needs root and lab/strongswan/install-deps. Skipped with a message otherwise, except in CI
 * (CI=true), where a lab that cannot run is a failure.
 */
import test from 'ava';
import { decodeMessage, encodeMessage } from '../../../lib/drivers/strongswan/codec.js';
import { HaTracker, type TrackedChildSa, type TrackedIkeSa } from '../../../lib/drivers/strongswan/tracker.js';
import { Context } from '../../../lib/model/context.js';
import { childKeySets, ikeKeySets, parseDumps } from './charon-log.js';
import { listedSpis, readScenario } from './scenarios.js';
import { inCi, missing, runLabScenario } from './lab-availability.js';

const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

const PROPOSALS = [
  { name: 'AES-GCM, x25519, no PFS', ike: 'aes128gcm16-prfsha256-x25519', esp: 'aes128gcm16' },
  { name: 'AES-CBC/SHA-256, MODP-2048, PFS', ike: 'aes256-sha256-modp2048', esp: 'aes128-sha256-modp2048' },
];

for (const proposal of PROPOSALS) {
  if (missing !== undefined && !inCi) {
    test(`lab: HA peer against real charons (${proposal.name})`, (t) => {
      t.log(`SKIPPED: ${missing}; run \`sudo lab/strongswan/install-deps\` and the tests as root`);
      t.pass();
    });
    continue;
  }
  test(`lab: a real gateway's IKE and CHILD SAs arrive over HA with the keys charon logs (${proposal.name})`, async (t) => {
    if (missing !== undefined) return t.fail(`the strongSwan lab cannot run in CI: ${missing}`);
    t.timeout(120_000);
    const out = await runLabScenario(t, ['--no-start', '--timeout', '100', '--ike-proposal', proposal.ike, '--esp-proposal', proposal.esp], 'lab-scenario');
    const scenario = readScenario(out);

    // Every datagram decodes completely and re-encodes to itself.
    const messages = scenario.datagrams.map(({ bytes }) => {
      const message = decodeMessage(bytes, { strict: true });
      t.is(hex(encodeMessage(message)), hex(bytes));
      return message;
    });

    // Replaying them derives exactly the keys charon logged: 2 IKE SAs (initial, rekeyed), 3 CHILD SAs.
    const tracker = new HaTracker();
    const ike: TrackedIkeSa[] = [];
    const child: TrackedChildSa[] = [];
    for (const message of messages) {
      tracker.apply(message);
      if (message.type === 'ikeAdd') ike.push([...tracker.ikeSas.values()].at(-1) as TrackedIkeSa);
      if (message.type === 'childAdd') for (const sa of tracker.ikeSas.values()) for (const c of sa.children.values()) if (!child.includes(c)) child.push(c);
    }
    const dumps = parseDumps(scenario.log);
    const loggedIke = ikeKeySets(dumps);
    const loggedChild = childKeySets(dumps);
    t.is(ike.length, 2);
    t.is(loggedIke.length, 2);
    t.is(child.length, 3);
    t.is(loggedChild.length, 3);
    ike.forEach((sa, i) => {
      for (const f of ['skD', 'skAi', 'skAr', 'skEi', 'skEr', 'skPi', 'skPr'] as const) t.is(hex(sa.keys[f]), hex(loggedIke[i]?.[f]), `IKE SA ${i} ${f}`);
    });
    child.forEach((c, i) => {
      for (const f of ['encrI', 'encrR', 'integI', 'integR'] as const) t.is(hex(c.keys[f]), hex(loggedChild[i]?.[f]), `CHILD SA ${i} ${f}`);
    });

    // The model taken mid-run is valid and names the SAs swanctl listed at that moment.
    const context = Context.parse(scenario.contextJson);
    const listed = listedSpis(scenario.listSas);
    t.deepEqual(context.ikeSas.map((sa) => `${hex(sa.spiInitiator)}${hex(sa.spiResponder)}`), listed.ike);
    t.deepEqual(context.childSas.filter((c) => c.direction === 'in').map((c) => hex(c.spi)), listed.childIn);
    t.deepEqual(context.childSas.filter((c) => c.direction === 'out').map((c) => hex(c.spi)), listed.childOut);
    t.deepEqual(context.ikeSas[0]?.keys.skD, ike[1]?.keys.skD);
  });
}
