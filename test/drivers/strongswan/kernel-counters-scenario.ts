/**
 * A road-warrior tunnel whose CHILD SAs live in the kernel's own ESP (charon with
 * kernel-netlink), moved from gateway A to gateway B while traffic flows, with
 * `counters=xfrm`: get takes the CHILD SAs' live sequence counters and replay windows from A's
 * kernel, put sets them (outbound jumped forward) in B's kernel before B takes over. Runs in
 * the user-mode-Linux lab (the host kernel has no ESP), inside namespace gw of
 *
 *   lab/run --mem 1G -- lab/strongswan/with-lab --kernel netlink --with-b --no-start -- \
 *     node dist/test/drivers/strongswan/kernel-counters-scenario.js OUTDIR [get|follow]
 *
 * Steps: start A, B and the client (with `follow`, `ipsec-ctx follow` on A too, writing a
 * snapshot at most every 250 ms); the client connects to A; a ping stream starts (every
 * 50 ms); with `get`, `ipsec-ctx get` on A (the RESYNC rekeys the CHILD SA, the stream goes on
 * over the new one); A carries on for a while, then fails (charon SIGKILLed and its link down;
 * its kernel SAs stay and show A's last counters); `put` of the blob (get's, or follow's last
 * snapshot) on B; B's kernel counters are read before any packet can reach B; A's address
 * moves to B; the stream goes on for 3 s more.
 *
 * Writes OUTDIR/result.json (what kernel-lab.test.ts asserts) and the listings behind it.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, ipsecCtx, run, scenarioSetup, sleep } from './scenario-kit.js';

const { out, dir, gwbNs, mark, step, pingOk, logOf, uri, finish, startAll } = scenarioSetup('kernel-counters-scenario.js OUTDIR [get|follow]');
const result: Record<string, unknown> = {};
let stream: ReturnType<typeof spawn> | undefined;
let follower: ReturnType<typeof spawn> | undefined;
let followOutput = '';
const variant = process.argv[3] ?? 'get';
if (variant !== 'get' && variant !== 'follow') throw new Error(`unknown variant ${variant}: get or follow`);
const clNs = readFileSync(join(dir, 'cl', 'netns'), 'utf8').trim();
const gwNs = readFileSync(join(dir, 'gw', 'netns'), 'utf8').trim();

/** One SA of `ip -s xfrm state`: its counters and replay statistics, as decimal strings. */
export interface KernelSaCounters {
  spi: string;
  src: string;
  dst: string;
  oseq: string;
  seq: string;
  bitmap: string;
  replayWindowDrops: number;
  replayDrops: number;
  integrityFailures: number;
  packets: number;
}

async function kernelSas(netns: string): Promise<KernelSaCounters[]> {
  const { stdout } = await run('ip', ['-n', netns, '-s', 'xfrm', 'state'], { maxBuffer: 16 << 20 });
  return stdout
    .split(/^(?=src )/m)
    .filter((block) => block.startsWith('src '))
    .map((block) => {
      const must = (pattern: RegExp) => {
        const m = pattern.exec(block);
        if (!m) throw new Error(`no ${pattern} in ip -s xfrm state block:\n${block.replace(/0x[0-9a-f]{32,}/g, '[key]')}`);
        return m;
      };
      const [, src, dst] = must(/^src (\S+) dst (\S+)/);
      const [, spi] = must(/spi 0x([0-9a-f]+)/);
      const [, seq, oseq, bitmap] = must(/anti-replay context: seq 0x([0-9a-f]+), oseq 0x([0-9a-f]+), bitmap 0x([0-9a-f]+)/);
      const [, window, replay, failed] = must(/stats:\s+replay-window (\d+) replay (\d+) failed (\d+)/);
      const [, packets] = must(/lifetime current:\s+\d+\(bytes\), (\d+)\(packets\)/);
      return {
        spi: spi!.padStart(8, '0'),
        src: src!,
        dst: dst!,
        oseq: BigInt(`0x${oseq}`).toString(),
        seq: BigInt(`0x${seq}`).toString(),
        bitmap: bitmap!,
        replayWindowDrops: Number(window),
        replayDrops: Number(replay),
        integrityFailures: Number(failed),
        packets: Number(packets),
      };
    });
}

/** The client's virtual IP (from the gateways' pool 10.3.0.0/24). */
async function clientVip(): Promise<string> {
  const { stdout } = await run('ip', ['-n', clNs, '-4', '-o', 'addr', 'show']);
  const vip = /inet (10\.3\.0\.\d+)\//.exec(stdout)?.[1];
  if (!vip) throw new Error('the client has no virtual IP');
  return vip;
}

try {
  await startAll();
  for (const name of ['a', 'b']) ipsecCtx(['keygen', '-o', join(out, `${name}.key`)]);
  const pub = (name: string) => ipsecCtx(['keygen', '-y', join(out, `${name}.key`)]).stdout.trim();
  const pubB = pub('b');
  const pubA = pub('a');
  const blob = join(out, 'ctx.blob');

  if (variant === 'follow') {
    // The standby starts with the gateway, so it sees the IKE and CHILD SAs as they are made.
    follower = spawn(process.execPath, [cli, 'follow', '--from', `${uri('gw')}&counters=xfrm`, '-i', join(out, 'a.key'), '-r', pubB, '-o', blob, '--every', '250ms', '--label', 'gw-a'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    follower.stderr!.on('data', (chunk: Buffer) => (followOutput += chunk.toString()));
    // Bound and listening once it says so (node starts slowly in the lab).
    for (let waited = 0; !followOutput.includes('snapshot 1:'); waited += 100) {
      if (waited > 60_000 || follower.exitCode !== null) throw new Error(`follow did not start: ${followOutput}`);
      await sleep(100);
    }
    mark('follow started');
  }

  await step('initiate');
  result['pingBefore'] = await pingOk(); // also loads the GCM modules of the fresh kernel
  mark('tunnel up');

  // A ping stream from the client's virtual IP through the tunnel, every 50 ms, until stopped.
  stream = spawn('ip', ['netns', 'exec', clNs, 'ping', '-n', '-i', '0.05', '-W', '1', '-I', await clientVip(), '10.10.1.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let streamOutput = '';
  stream.stdout!.on('data', (chunk: Buffer) => (streamOutput += chunk.toString()));
  await sleep(1000);
  mark('stream started');

  if (variant === 'get') {
    const get = ipsecCtx(['get', '--from', `${uri('gw')}&counters=xfrm`, '-i', join(out, 'a.key'), '-r', pubB, '-o', blob, '--label', 'gw-a']);
    mark(`get exit ${get.status}`);
    result['get'] = get;
    if (get.status !== 0) throw new Error(`get failed: ${get.stderr}`);
  }

  // A carries on for a while, then fails as a host does: charon is gone and its link down
  // (a SIGKILLed charon alone leaves its SAs in the kernel, which would go on forwarding).
  // The kernel keeps the SAs, with the last counters A used.
  await sleep(variant === 'follow' ? 3000 : 1000);
  await step('kill', 'gw');
  await run('ip', ['-n', gwNs, 'link', 'set', 'vgw', 'down']);
  mark('A failed');
  result['aFinal'] = await kernelSas(gwNs);
  if (follower) {
    const exited = new Promise<number | null>((resolve) => follower!.once('exit', resolve));
    follower.kill('SIGTERM');
    result['follow'] = { status: await exited, stderr: followOutput };
    follower = undefined;
    mark('follow stopped');
  }

  const inspect = ipsecCtx(['inspect', '--json', '-i', join(out, 'b.key'), '--trust', pubA, blob]);
  if (inspect.status !== 0) throw new Error(`inspect failed: ${inspect.stderr}`);
  const { context } = JSON.parse(inspect.stdout) as { context: { childSas: { spi: string; direction: string; sequence: { outbound: number | string; inbound: number | string; bitmap: string } }[] } };
  result['blobChildSas'] = context.childSas.map((c) => ({ spi: c.spi, direction: c.direction, outbound: String(c.sequence.outbound), inbound: String(c.sequence.inbound), bitmap: c.sequence.bitmap }));

  const put = ipsecCtx(['put', '--to', `${uri('gwb')}&counters=xfrm`, '-i', join(out, 'b.key'), '--trust', pubA, '--state-dir', join(out, 'state'), blob], gwbNs);
  mark(`put exit ${put.status}`);
  result['put'] = put;
  if (put.status !== 0) throw new Error(`put failed: ${put.stderr}`);
  // Before any packet can reach B (it does not have A's address yet).
  result['bAfterPut'] = await kernelSas(gwbNs);
  const clientLogMark = logOf('cl').length;

  await step('move');
  mark('address moved');
  await sleep(3000);
  const stopped = new Promise((resolve) => stream!.once('exit', resolve));
  stream.kill('SIGINT');
  await stopped;
  stream = undefined;
  mark('stream stopped');
  const sent = /(\d+) packets transmitted, (\d+) received/.exec(streamOutput);
  const replies = [...streamOutput.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
  // The longest run of missing replies, at 50 ms per request: the interruption.
  let gap = 0;
  for (let i = 1; i < replies.length; i++) gap = Math.max(gap, replies[i]! - replies[i - 1]! - 1);
  result['stream'] = { transmitted: Number(sent?.[1] ?? 0), received: Number(sent?.[2] ?? 0), lastReply: replies.at(-1) ?? 0, longestGap: gap };
  result['pingAfter'] = await pingOk();
  result['bEnd'] = await kernelSas(gwbNs);
  result['clientEnd'] = await kernelSas(clNs);
  const clientAfter = logOf('cl').slice(clientLogMark);
  result['clientIkeSaInit'] = (clientAfter.match(/IKE_SA_INIT/g) ?? []).length;
  result['clientRekeys'] = (clientAfter.match(/CREATE_CHILD_SA/g) ?? []).length;
} catch (error) {
  result['error'] = error instanceof Error ? error.message : String(error);
} finally {
  stream?.kill('SIGKILL');
  follower?.kill('SIGKILL');
  finish(result);
}
