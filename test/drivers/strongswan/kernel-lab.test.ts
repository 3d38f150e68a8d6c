/**
 * Live, with the kernel's own ESP: charons with kernel-netlink inside the user-mode-Linux lab
 * (the host kernel has no ESP), a tunnel moved from A to B while a ping stream runs, with
 * `counters=xfrm` on both ends (kernel-counters-scenario.ts). get (or follow, the passive
 * standby, in every snapshot) takes the CHILD SAs' live sequence counters and replay windows
 * from A's kernel; put sets them in B's kernel, outbound jumped past anything A sent, before B
 * takes over; the client's kernel then counts no replayed, too-old or failed packet, and
 * nothing is renegotiated.
 *
 * Needs root, lab/strongswan/install-deps and lab/install-deps. Skipped with a message
 * otherwise, except in CI (CI=true), where a lab that cannot run is a failure.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// Type only: importing the scenario's values would run the scenario.
import type { KernelSaCounters as KernelSa } from './kernel-counters-scenario.js';
import { inCi, runLabScenario, umlMissing } from './lab-availability.js';

interface Result {
  error?: string;
  get?: { status: number; stderr: string };
  follow?: { status: number; stderr: string };
  put: { status: number; stderr: string };
  blobChildSas: { spi: string; direction: 'in' | 'out'; outbound: string; inbound: string; bitmap: string }[];
  aFinal: KernelSa[];
  bAfterPut: KernelSa[];
  bEnd: KernelSa[];
  clientEnd: KernelSa[];
  stream: { transmitted: number; received: number; longestGap: number };
  pingAfter: boolean;
  clientIkeSaInit: number;
  clientRekeys: number;
  timeline: string[];
}

const VARIANTS = [
  { variant: 'get', title: 'lab (kernel ESP): a tunnel moved from charon A to B with get/put counters=xfrm carries on with B ahead of A and no replay drops at the client' },
  {
    variant: 'follow',
    title: "lab (kernel ESP): after A fails, follow's last snapshot with counters=xfrm put to B carries on with B ahead of A and no replay drops at the client",
  },
] as const;

for (const { variant, title } of VARIANTS) {
  if (umlMissing !== undefined && !inCi) {
    test(title, (t) => {
      t.log(`SKIPPED: ${umlMissing}`);
      t.pass();
    });
    continue;
  }
  test(title, async (t) => {
    if (umlMissing !== undefined) return t.fail(`the lab cannot run in CI: ${umlMissing}`);
    t.timeout(400_000);
    const out = await runLabScenario(t, ['--kernel', 'netlink', '--with-b', '--no-start', '--timeout', '300'], 'kernel-counters-scenario', [variant], {
      uml: { timeoutSeconds: 360, mem: '1G' },
    });
    const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as Result;
    t.log(r.timeline.join('\n'));
    t.is(r.error, undefined, r.error);
    if (variant === 'get') {
      t.is(r.get!.status, 0, r.get!.stderr);
      t.regex(r.get!.stderr, /took the sequence counters, replay windows and usage of 2 CHILD SA\(s\) from the kernel/);
    } else {
      // Stopped with SIGTERM after A failed: a last write, exit 0; never a counters warning.
      t.is(r.follow!.status, 0, r.follow!.stderr);
      t.notRegex(r.follow!.stderr, /warning/);
    }
    t.is(r.put.status, 0, r.put.stderr);
    t.regex(r.put.stderr, /set the sequence counters, replay windows and usage of 2 CHILD SA\(s\) in the kernel before the target took over/);

    t.is(r.blobChildSas.length, 2, 'the blob holds the CHILD SA pair');
    const blobIn = r.blobChildSas.find((c) => c.direction === 'in')!;
    const blobOut = r.blobChildSas.find((c) => c.direction === 'out')!;
    const bySpi = (list: KernelSa[], spi: string) => {
      const sa = list.find((s) => s.spi === spi);
      if (!sa) throw new Error(`no SA ${spi} in ${JSON.stringify(list)}`);
      return sa;
    };
    // The blob has A's kernel counters, not HA's zeros: the stream ran over the CHILD SA.
    t.true(BigInt(blobOut.outbound) > 0n, 'outbound counter in the blob');
    t.true(BigInt(blobIn.inbound) > 0n, 'inbound replay state in the blob');
    const aOut = bySpi(r.aFinal, blobOut.spi);
    t.true(BigInt(aOut.oseq) >= BigInt(blobOut.outbound), 'A only counted up after the blob');

    // B, before any packet reached it: outbound past everything A sent, inbound window as read.
    const bOut = bySpi(r.bAfterPut, blobOut.spi);
    const bIn = bySpi(r.bAfterPut, blobIn.spi);
    t.true(BigInt(bOut.oseq) > BigInt(aOut.oseq), `B's outbound ${bOut.oseq} > A's last ${aOut.oseq}`);
    t.true(BigInt(bOut.oseq) >= BigInt(blobOut.outbound) + 65_536n, 'the jump floor');
    t.is(bIn.seq, blobIn.inbound);
    t.log(`outbound: blob ${blobOut.outbound}, A's last ${aOut.oseq}, B's first ${BigInt(bOut.oseq) + 1n}; inbound: blob ${blobIn.inbound}, B ${bIn.seq}`);

    // Traffic went on through B, and the client's kernel dropped nothing as a replay.
    t.true(r.pingAfter);
    t.true(bySpi(r.bEnd, blobOut.spi).packets > bOut.packets, 'B sent on the moved SA');
    t.true(bySpi(r.bEnd, blobIn.spi).packets > bIn.packets, 'B received on the moved SA');
    const clientIn = bySpi(r.clientEnd, blobOut.spi);
    t.deepEqual(
      { replayWindowDrops: clientIn.replayWindowDrops, replayDrops: clientIn.replayDrops, integrityFailures: clientIn.integrityFailures },
      { replayWindowDrops: 0, replayDrops: 0, integrityFailures: 0 },
    );
    t.is(r.clientIkeSaInit, 0, 'the client did not start a new IKE SA');
    t.is(r.clientRekeys, 0, 'nothing was rekeyed after the move');
    t.log(`ping stream every 50 ms: ${r.stream.transmitted} sent, ${r.stream.received} answered, longest gap ${r.stream.longestGap} (${r.stream.longestGap * 50} ms: A failing, put on B, the address moving)`);
  });
}
