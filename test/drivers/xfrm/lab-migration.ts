/**
 * Lab scenarios (b) live migration and (c) restore after a reboot, on one topology:
 *
 *   h1 10.1.0.2 ── lan-a 10.1.0.1 [gwa] wan-a 192.0.2.1 ══ESP tunnel══ 192.0.2.3 [gwc] 10.2.0.1 ── h2 10.2.0.2
 *                                 [gwb] (standby: empty)
 *
 * gwa→gwc is AES-GCM with ESN, its counter starting just below 2^32 so the jump carries into
 * the high half; gwc→gwa is AES-CBC + HMAC-SHA256 with a 32-packet window. h1 and h2 exchange
 * a counting UDP stream (udp-stream.ts) both ways, one datagram every 20 ms each way.
 *
 * (b) `get --move` on gwa piped into `put` on gwb; then gwb takes over gwa's addresses (its two
 *     interfaces move to gwb's namespace, as a failover address would). Traffic must carry on,
 *     gwc must count no replayed, too-old or corrupt packet, gwb's counters must be ahead of
 *     gwa's last, and no SA may have changed on gwc (nothing renegotiated).
 * (c) `get` on gwb (no move), traffic goes on, gwb's SAD and SPD are flushed (a reboot), and
 *     the blob is put back: traffic resumes, still without replay drops at gwc.
 *
 * Interruptions are measured on the stream: the silence in arrivals around each step, and the
 * datagrams that never arrived.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ip } from './ip-oracle.js';
import { type SaFields, saFields } from './ip-state-fields.js';
import { type Gateway, Tally, ipBatch, pipeline, pipelineAsync, sh, work } from './lab-kit.js';

const FLOOR = 65_536n;
/** One datagram per direction every 20 ms: the single guest CPU also runs the CLI. */
const INTERVAL_MS = 20;
const A_TO_C = 'a0000001@192.0.2.3';
const C_TO_A = 'c0000001@192.0.2.1';
const GCM_KEY = '0x' + '4a'.repeat(16) + '01020304';
const CBC_KEY = '0x' + '5b'.repeat(16);
const HMAC_KEY = '0x' + '6c'.repeat(32);
const a2c = `src 192.0.2.1 dst 192.0.2.3 proto esp spi 0xa0000001 reqid 1 mode tunnel aead rfc4106(gcm(aes)) ${GCM_KEY} 128 flag esn`;
const c2a = `src 192.0.2.3 dst 192.0.2.1 proto esp spi 0xc0000001 reqid 2 mode tunnel enc cbc(aes) ${CBC_KEY} auth-trunc hmac(sha256) ${HMAC_KEY} 128`;
const tmplAC = 'tmpl src 192.0.2.1 dst 192.0.2.3 proto esp reqid 1 mode tunnel';
const tmplCA = 'tmpl src 192.0.2.3 dst 192.0.2.1 proto esp reqid 2 mode tunnel';
/** gwa's addresses, configured wherever its interfaces are. */
const gwaAddresses = ['addr add 10.1.0.1/24 dev lan-a', 'addr add 192.0.2.1/24 dev wan-a', 'link set lan-a up', 'link set wan-a up', 'route add 10.2.0.0/24 via 192.0.2.3'];

interface StreamSummary {
  sent: number;
  received: number;
  highest: number;
  missing: number;
  duplicates: number;
  gaps: { afterSeq: number; nextSeq: number; fromMs: number; toMs: number; ms: number; missing: number }[];
  /** Wall-clock time of the last arrival. */
  lastMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function buildTopology(): void {
  ipBatch(undefined, [
    ...['h1', 'gwa', 'gwb', 'gwc', 'h2'].map((ns) => `netns add ${ns}`),
    'link add lan-a netns gwa type veth peer name eth0 netns h1',
    'link add wan-a netns gwa type veth peer name wan-c netns gwc',
    'link add lan-c netns gwc type veth peer name eth0 netns h2',
  ]);
  for (const ns of ['h1', 'gwa', 'gwb', 'gwc', 'h2']) ipBatch(ns, ['link set lo up']);
  sh('for ns in gwa gwb gwc; do ip netns exec $ns sh -c "echo 1 > /proc/sys/net/ipv4/ip_forward"; done');
  ipBatch('h1', ['addr add 10.1.0.2/24 dev eth0', 'link set eth0 up', 'route add default via 10.1.0.1']);
  ipBatch('h2', ['addr add 10.2.0.2/24 dev eth0', 'link set eth0 up', 'route add default via 10.2.0.1']);
  ipBatch('gwc', ['addr add 192.0.2.3/24 dev wan-c', 'addr add 10.2.0.1/24 dev lan-c', 'link set wan-c up', 'link set lan-c up', 'route add 10.1.0.0/24 via 192.0.2.1']);
  ipBatch('gwa', gwaAddresses);
  ipBatch('gwa', [
    `xfrm state add ${a2c} replay-window 1 replay-oseq 0xfffff000`,
    `xfrm state add ${c2a} replay-window 32`,
    `xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir out ${tmplAC}`,
    `xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir in ${tmplCA}`,
    `xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir fwd ${tmplCA}`,
  ]);
  ipBatch('gwc', [
    `xfrm state add ${a2c} replay-window 128`,
    `xfrm state add ${c2a} replay-window 0`,
    `xfrm policy add src 10.2.0.0/24 dst 10.1.0.0/24 dir out ${tmplCA}`,
    `xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir in ${tmplAC}`,
    `xfrm policy add src 10.1.0.0/24 dst 10.2.0.0/24 dir fwd ${tmplAC}`,
  ]);
}

function startStream(ns: string, self: string, port: number, peer: string, peerPort: number): { child: ChildProcess; out: string } {
  const out = join(work, `${ns}.json`);
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, 'dist/test/drivers/xfrm/udp-stream.js', self, String(port), peer, String(peerPort), String(INTERVAL_MS), out], { stdio: 'inherit' });
  return { child, out };
}

async function stopStream(stream: { child: ChildProcess; out: string }): Promise<StreamSummary> {
  const exited = new Promise((resolve) => stream.child.once('exit', resolve));
  stream.child.kill('SIGTERM');
  await exited;
  return JSON.parse(readFileSync(stream.out, 'utf8')) as StreamSummary;
}

const stats = (sa: SaFields | undefined) => (sa ? `replay-window ${sa.stats.replayWindow} replay ${sa.stats.replay} failed ${sa.stats.failed}` : 'missing');
const clean = (sa: SaFields | undefined) => sa !== undefined && sa.stats.replayWindow === 0 && sa.stats.replay === 0 && sa.stats.failed === 0;
const sameKeys = (x: Map<string, SaFields>, y: Map<string, SaFields>) =>
  x.size === y.size && [...x].every(([key, sa]) => JSON.stringify(y.get(key)?.keys) === JSON.stringify(sa.keys));

/** The silence in a direction's arrivals that overlaps [from, to] (wall clock). */
function outage(summary: StreamSummary, from: number, to: number): { ms: number; fromMs: number; toMs: number; missing: number } | undefined {
  const gaps = summary.gaps.filter((gap) => gap.toMs >= from && gap.fromMs <= to);
  const longest = gaps.sort((x, y) => y.ms - x.ms)[0];
  if (!longest) return undefined;
  return { ms: longest.ms, fromMs: longest.fromMs, toMs: longest.toMs, missing: gaps.reduce((sum, gap) => sum + gap.missing, 0) };
}

export async function migration(a: Gateway, b: Gateway): Promise<boolean> {
  const tb = new Tally('b-live-migration');
  const tc = new Tally('c-reboot-restore');
  buildTopology();
  const streams = { h1: startStream('h1', '10.1.0.2', 5001, '10.2.0.2', 5002), h2: startStream('h2', '10.2.0.2', 5002, '10.1.0.2', 5001) };
  for (let i = 0; i < 200 && !(existsSync(`${streams.h1.out}.ready`) && existsSync(`${streams.h2.out}.ready`)); i++) await sleep(50);
  await sleep(1000);

  // (b) live migration
  const aBefore = saFields(ip('gwa', ['-s', 'xfrm', 'state']));
  const cBefore = saFields(ip('gwc', ['-s', 'xfrm', 'state']));
  tb.check((cBefore.get(A_TO_C)?.seq ?? 0n) > 0xfffff000n && (cBefore.get(C_TO_A)?.oseq ?? 0n) > 0n, 'ESP traffic flows both ways through the tunnel before the move');
  const moveAt = Date.now();
  // One shell chain, so no step waits for this process: move, note what gwc received from
  // gwa last (before gwb can send), take over gwa's addresses.
  const atPut = join(work, 'gwc-at-put.txt');
  const move = pipeline(
    `"$BIN" get --from 'xfrm:?netns=gwa' --move -i ${a.key} -r ${b.pub} | "$BIN" put --to 'xfrm:?netns=gwb' -i ${b.key} --trust ${a.pub} --state-dir ${join(work, 'state-b')} && ` +
      `ip -n gwc -s xfrm state > ${atPut} && date +%s%3N >&2 && ip -n gwa link set lan-a netns gwb && ip -n gwa link set wan-a netns gwb && ` +
      `printf '%s\n' ${gwaAddresses.map((line) => `'${line}'`).join(' ')} | ip -n gwb -batch -`,
  );
  const takeoverAt = Date.now();
  const cAtPut = saFields(readFileSync(atPut, 'utf8'));
  const putDoneAt = Number(/^(\d{13})$/m.exec(move.stderr)?.[1] ?? takeoverAt);
  tb.check(move.status === 0, `get --move | put exits 0 (${putDoneAt - moveAt} ms), then gwb takes over gwa's addresses (${takeoverAt - putDoneAt} ms more)`, move.stderr);
  tb.info(move.stderr.trim().replace(/^\d{13}$/m, '').replace(/\n+/g, ' / '));
  tb.check(ip('gwa', ['xfrm', 'state']).trim() === '' && ip('gwa', ['xfrm', 'policy']).trim() === '', 'gwa holds no SA and no policy after --move');
  await sleep(1500);
  const bAfter = saFields(ip('gwb', ['-s', 'xfrm', 'state']));
  const cAfter = saFields(ip('gwc', ['-s', 'xfrm', 'state']));
  tb.check(sameKeys(aBefore, bAfter) && sameKeys(cBefore, cAfter), 'gwb holds gwa\'s SAs with the same SPIs and keys, and gwc\'s SAs did not change: nothing was renegotiated');
  const aLast = cAtPut.get(A_TO_C)?.seq ?? 0n;
  const bNow = bAfter.get(A_TO_C)?.oseq ?? 0n;
  tb.check(bNow > aLast + FLOOR, `gwb's outbound counter is ahead of gwa's last: gwa sent up to 0x${aLast.toString(16)}, gwb is at 0x${bNow.toString(16)}`);
  tb.check((cAfter.get(A_TO_C)?.seq ?? 0n) > aLast + FLOOR, `gwc receives gwb's packets: its window moved from 0x${aLast.toString(16)} to 0x${(cAfter.get(A_TO_C)?.seq ?? 0n).toString(16)}`);
  tb.check((bAfter.get(C_TO_A)?.seq ?? 0n) > (cAtPut.get(C_TO_A)?.oseq ?? 0n) - 32n && (bAfter.get(C_TO_A)?.seq ?? 0n) > (aBefore.get(C_TO_A)?.seq ?? 0n), 'gwb accepts gwc\'s packets in the restored window');
  tb.check(clean(cAfter.get(A_TO_C)) && clean(bAfter.get(C_TO_A)), `no replayed, too-old or corrupt packet: gwc ${stats(cAfter.get(A_TO_C))}; gwb ${stats(bAfter.get(C_TO_A))}`);

  // (c) restore after a reboot
  const blob = join(work, 'reboot.blob');
  const taken = pipeline(`"$BIN" get --from 'xfrm:?netns=gwb' -i ${b.key} -r ${b.pub} -o ${blob}`);
  tc.check(taken.status === 0, `get from gwb exits 0 (${taken.ms} ms)`, taken.stderr);
  await sleep(500);
  // put is started before the flush and waits for its input (node takes seconds to start in
  // the guest, which would otherwise be most of the measured outage), as a boot script would
  // have it ready; the flush stands for the reboot, then the blob goes in.
  const go = join(work, 'go');
  execFileSync('mkfifo', [go]);
  const restoring = pipelineAsync(`{ read x < ${go}; cat ${blob}; } | "$BIN" put --to 'xfrm:?netns=gwb' -i ${b.key} --trust ${b.pub} --state-dir ${join(work, 'state-b')}`);
  await sleep(6000);
  const cBeforeReboot = saFields(ip('gwc', ['-s', 'xfrm', 'state']));
  ipBatch('gwb', ['xfrm state flush', 'xfrm policy flush']);
  const flushAt = Date.now();
  writeFileSync(go, 'go\n');
  const restore = await restoring;
  const restoredAt = Date.now();
  tc.check(restore.status === 0, `put after the flush exits 0 (${restoredAt - flushAt} ms from the flush)`, restore.stderr);
  tc.info(restore.stderr.trim().replace(/\n/g, ' / '));
  await sleep(1500);
  const bRebooted = saFields(ip('gwb', ['-s', 'xfrm', 'state']));
  const cRebooted = saFields(ip('gwc', ['-s', 'xfrm', 'state']));
  tc.check(sameKeys(aBefore, bRebooted), 'gwb holds the same SAs again');
  tc.check((cRebooted.get(A_TO_C)?.seq ?? 0n) > (cBeforeReboot.get(A_TO_C)?.seq ?? 0n) + FLOOR, 'traffic resumes, its counter jumped past everything sent before the flush');
  tc.check(clean(cRebooted.get(A_TO_C)) && clean(bRebooted.get(C_TO_A)), `still no replayed, too-old or corrupt packet: gwc ${stats(cRebooted.get(A_TO_C))}; gwb ${stats(bRebooted.get(C_TO_A))}`);

  const h1 = await stopStream(streams.h1);
  const h2 = await stopStream(streams.h2);
  for (const [label, summary, tally, from, to] of [
    ['h2->h1', h1, tb, moveAt, takeoverAt],
    ['h1->h2', h2, tb, moveAt, takeoverAt],
    ['h2->h1', h1, tc, flushAt, restoredAt],
    ['h1->h2', h2, tc, flushAt, restoredAt],
  ] as const) {
    const out = outage(summary, from, to);
    const steps = out && tally === tb ? ` (last datagram before: put done ${putDoneAt - out.fromMs} ms later, takeover ${takeoverAt - putDoneAt} ms, first after ${out.toMs - takeoverAt} ms later)` : '';
    tally.info(`${label}: interruption ${out ? `${out.ms} ms, ${out.missing} datagrams lost${steps}` : 'none measured (no gap over 3 intervals)'}`);
  }
  for (const [label, summary] of [['h2->h1', h1], ['h1->h2', h2]] as const) {
    tb.info(`${label}: ${summary.sent} sent, ${summary.received} received, ${summary.missing} missing in all, ${summary.duplicates} duplicates`);
    tb.check(summary.duplicates === 0 && summary.lastMs > restoredAt + 500, `${label}: the stream went on after both steps, no datagram arrived twice`);
  }
  const migrated = tb.done();
  const restored = tc.done();
  return migrated && restored;
}
