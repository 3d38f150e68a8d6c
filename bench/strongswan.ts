/**
 * The strongSwan benchmark's measurements and its table (docs/strongswan.md "Benchmark"),
 * started by bench/strongswan.sh, which makes a fresh lab (namespaces, charons) for each one:
 *
 *   node dist/bench/strongswan.js reestablish LAB N RUN   one JSON line: N clients re-establish to B
 *   node dist/bench/strongswan.js move LAB N RUN          one JSON line: N tunnels moved from A to B
 *   node dist/bench/strongswan.js table RESULTS.jsonl     the markdown tables
 *
 * LAB is a lab directory made with lab/strongswan/swlab.sh: gw (in `move`: gateway A; in
 * `reestablish`: gateway B), gwb (gateway B, `move` only), cl (a charon with the load-tester
 * plugin, whose control socket cl/run/charon.ldt fires N initiations at once on "N 0"). Every
 * charon's CPU is utime + stime from /proc/PID/stat (10 ms ticks; for N = 1 read it as 0 or 1
 * tick) over the measured interval; ipsec-ctx's own CPU and peak RSS come from GNU time
 * (its process's rusage). A move counts only if B then lists N ESTABLISHED IKE SAs, the same
 * SPIs A had, each with its CHILD SA INSTALLED.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ViciClient, listSas } from '../lib/drivers/strongswan/vici.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'bin', 'ipsec-ctx');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TICK_MS = 10; // USER_HZ = 100 on Linux

/** utime + stime of a process, all threads, in ms (clock ticks × 10). */
function cpuMs(pid: number, statFile = `/proc/${pid}/stat`): number {
  const stat = readFileSync(statFile, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** CPU ms of each thread of a process (TID → ms). */
function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(tid, cpuMs(pid, `/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** The busiest thread's CPU and the other threads' sum, between two threadCpuMs() readings. */
function threadSplit(before: Map<string, number>, after: Map<string, number>): { busiest: number; others: number } {
  const deltas = [...after].map(([tid, ms]) => ms - (before.get(tid) ?? 0)).sort((x, y) => y - x);
  return { busiest: deltas[0] ?? 0, others: deltas.slice(1).reduce((k, x) => k + x, 0) };
}

/** charon's log lines (time_format %T, time_add_ms) as [ms since the epoch today, text]. */
function logLines(file: string): Array<[number, string]> {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const out: Array<[number, string]> = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d\d):(\d\d):(\d\d)\.(\d{3}) (.*)$/.exec(line);
    if (m) out.push([midnight.getTime() + ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]), m[5]!]);
  }
  return out;
}
const firstAt = (lines: Array<[number, string]>, from: number, re: RegExp) => lines.find(([t, text]) => t >= from && re.test(text))?.[0] ?? NaN;
const lastAt = (lines: Array<[number, string]>, from: number, to: number, re: RegExp) => lines.filter(([t, text]) => t >= from && t <= to && re.test(text)).pop()?.[0] ?? NaN;

/** UDP receive errors (datagrams dropped for a full socket buffer) in a process's network namespace. */
function udpRcvbufErrors(pid: number): number {
  const lines = readFileSync(`/proc/${pid}/net/snmp`, 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const [names, values] = lines.map((l) => l.split(/\s+/));
  const i = names?.indexOf('RcvbufErrors') ?? -1;
  return i < 0 ? NaN : Number(values?.[i]);
}

const pidOf = (lab: string, node: string) => Number(readFileSync(join(lab, node, 'charon.pid'), 'utf8').trim());
const netnsOf = (lab: string, node: string) => readFileSync(join(lab, node, 'netns'), 'utf8').trim();
const viciOf = (lab: string, node: string) => join(lab, node, 'run', 'charon.vici');

interface Fired {
  ms: number;
  established: number;
  failed: number;
  retransmits: number;
}

/**
 * Asks the load-tester client for N initiations at once and waits until every one is
 * ESTABLISHED or failed: the control socket answers "." per initiation, "+" per IKE SA
 * ESTABLISHED on the client, "-" per failure, "*" per retransmit, a newline when all are done.
 */
function fire(lab: string, n: number, timeoutMs: number): Promise<Fired> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(join(lab, 'cl', 'run', 'charon.ldt'));
    const counts = { established: 0, failed: 0, retransmits: 0 };
    let started = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`load-tester: not all ${n} initiations done after ${timeoutMs} ms (${counts.established} established, ${counts.failed} failed)`));
    }, timeoutMs);
    socket.on('connect', () => {
      started = performance.now();
      socket.write(`${n} 0\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      for (const c of chunk.toString('latin1')) {
        if (c === '+') counts.established++;
        else if (c === '-' || c === '!') counts.failed++;
        else if (c === '*') counts.retransmits++;
        else if (c === '\n') {
          const ms = performance.now() - started;
          clearTimeout(timer);
          socket.destroy();
          resolve({ ms, ...counts });
          return;
        }
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

interface Listed {
  established: number;
  installed: number;
  /** IKE SAs ESTABLISHED with at least one CHILD SA, every one INSTALLED. */
  complete: number;
  spis: Set<string>;
}

async function listed(vici: string): Promise<Listed> {
  const client = await ViciClient.connect(vici);
  try {
    const sas = await listSas(client);
    const established = sas.filter((sa) => sa.state === 'ESTABLISHED');
    const complete = established.filter((sa) => sa.children.length > 0 && sa.children.every((c) => c.state === 'INSTALLED'));
    return {
      established: established.length,
      installed: established.reduce((k, sa) => k + sa.children.filter((c) => c.state === 'INSTALLED').length, 0),
      complete: complete.length,
      spis: new Set(complete.map((sa) => sa.spis)),
    };
  } finally {
    client.close();
  }
}

interface Timed {
  status: number | null;
  ms: number;
  /** Date.now() at start and end. */
  startMs: number;
  endMs: number;
  stdout: string;
  stderr: string;
  /** GNU time: the ipsec-ctx process's user + system CPU and peak RSS. */
  cpuMs: number;
  userMs: number;
  sysMs: number;
  peakRssMb: number;
}

/**
 * Runs the real ipsec-ctx inside a network namespace, under GNU time. With BENCH_PROFILE=1,
 * node writes a CPU profile (--cpu-prof) next to timeFile, for finding where the time goes.
 */
function ipsecCtx(netns: string, args: string[], timeFile: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const startMs = Date.now();
    const profile = process.env['BENCH_PROFILE'] === '1' ? ['--cpu-prof', `--cpu-prof-dir=${timeFile.replace(/\.time$/, '')}.prof`] : [];
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, 'ip', 'netns', 'exec', netns, process.execPath, ...profile, cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (status) => {
      const ms = performance.now() - started;
      const [user, sys, rss] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      const userMs = (user ?? NaN) * 1000;
      const sysMs = (sys ?? NaN) * 1000;
      resolve({ status, ms, startMs, endMs: Date.now(), stdout, stderr, cpuMs: userMs + sysMs, userMs, sysMs, peakRssMb: (rss ?? NaN) / 1024 });
    });
  });
}

async function reestablish(lab: string, n: number, run: number): Promise<Record<string, unknown>> {
  const gw = pidOf(lab, 'gw');
  const cl = pidOf(lab, 'cl');
  const load = loadAverage();
  const before = { gw: cpuMs(gw), cl: cpuMs(cl) };
  const fired = await fire(lab, n, 120_000 + n * 100);
  const after = { gw: cpuMs(gw), cl: cpuMs(cl) };
  const b = await listed(viciOf(lab, 'gw'));
  const ok = fired.established === n && fired.failed === 0 && b.complete === n;
  return {
    mode: 'reestablish',
    n,
    run,
    ok,
    load,
    ms: fired.ms,
    bCpuMs: after.gw - before.gw,
    clientCpuMs: after.cl - before.cl,
    retransmits: fired.retransmits,
    clientEstablished: fired.established,
    clientFailed: fired.failed,
    bEstablished: b.established,
    bInstalled: b.installed,
    ...(ok ? {} : { error: `client ${fired.established}/${n} ESTABLISHED (${fired.failed} failed), B lists ${b.complete} complete` }),
  };
}

/** ipsec-ctx's error line (no keys are ever in it), else its last line. */
const errorLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  const line = lines.find((l) => l.startsWith('ipsec-ctx: error:')) ?? lines.pop() ?? '';
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
};

/** The 1-minute load average: the machine is shared, this says how busy it was. */
const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

async function move(lab: string, n: number, run: number): Promise<Record<string, unknown>> {
  const a = pidOf(lab, 'gw');
  const b = pidOf(lab, 'gwb');
  const cl = pidOf(lab, 'cl');
  const result: Record<string, unknown> = { mode: 'move', n, run, ok: false, load: loadAverage() };
  // A's ha plugin takes its segments only after 2.1 s without a heartbeat from its peer; an
  // IKE SA made before that would be PASSIVE.
  await sleep(2600);
  const fired = await fire(lab, n, 120_000 + n * 100);
  result['establishAMs'] = fired.ms;
  result['retransmits'] = fired.retransmits;
  const onA = await listed(viciOf(lab, 'gw'));
  result['aEstablished'] = onA.complete;
  if (fired.established !== n || onA.complete !== n) {
    result['error'] = `only ${fired.established}/${n} clients came up to A (A lists ${onA.complete})`;
    return result;
  }
  // Let A's last HA sends and the clients' last jobs pass before anything is timed.
  await sleep(500);

  const keyA = join(lab, 'a.key');
  const keyB = join(lab, 'b.key');
  const keygen = (file: string) => ipsecCtx(netnsOf(lab, 'gw'), ['keygen', '-o', file], `${file}.time`).then((r) => r.stdout.trim());
  const pubA = await keygen(keyA);
  const pubB = await keygen(keyB);
  const extra = (name: string) => process.env[name] ?? '';
  const uri = (node: string, params: string) => `strongswan:127.0.0.1?bind=127.0.0.2&vici=${viciOf(lab, node)}${params}`;
  const blob = join(lab, 'ctx.blob');

  // get: RESYNC from A, which rekeys every CHILD SA (A and the clients pay for that).
  const aDropsBefore = udpRcvbufErrors(a);
  const before = { a: cpuMs(a), cl: cpuMs(cl) };
  const aThreads = threadCpuMs(a);
  const get = await ipsecCtx(netnsOf(lab, 'gw'), ['get', '--from', uri('gw', extra('BENCH_GET_PARAMS')), '-i', keyA, '-r', pubB, '-o', blob, '--label', 'gw-a'], join(lab, 'get.time'));
  const after = { a: cpuMs(a), cl: cpuMs(cl) };
  const aSplit = threadSplit(aThreads, threadCpuMs(a));
  writeFileSync(join(lab, 'get.stderr'), get.stderr);
  Object.assign(result, {
    getMs: get.ms,
    aCpuMs: after.a - before.a,
    clientCpuGetMs: after.cl - before.cl,
    ctxGetCpuMs: get.cpuMs,
    ctxGetRssMb: get.peakRssMb,
    getUdpDrops: udpRcvbufErrors(a) - aDropsBefore,
    aCpuBusiestThreadMs: aSplit.busiest,
    aCpuOtherThreadsMs: aSplit.others,
    rekeyed: Number(/rekey (\d+) CHILD SA/.exec(get.stderr)?.[1] ?? NaN),
  });
  if (get.status !== 0) {
    result['error'] = `get exited ${get.status}: ${errorLine(get.stderr)}`;
    return result;
  }
  // Where get's time went, from A's log: ipsec-ctx's start-up and vici queries until A takes
  // the RESYNC, A's resync (IKE state sent, every CHILD SA rekeyed, the old ones deleted) until
  // its last log line, then ipsec-ctx's settle wait, sealing and exit.
  const aLog = logLines(join(lab, 'gw', 'charon.log'));
  const resyncAt = firstAt(aLog, get.startMs - 1000, /resyncing HA segment/);
  const aDoneAt = lastAt(aLog, get.startMs - 1000, get.endMs, /./);
  result['getPhases'] = { startToResync: resyncAt - get.startMs, resyncWork: aDoneAt - resyncAt, settleSealExit: get.endMs - aDoneAt };
  // A fails: no HA drop, no IKE DELETE (its address would move to B next).
  process.kill(a, 'SIGKILL');

  // put into B, which takes them over.
  // BENCH_PERF=1: perf samples B's charon during the put (LAB/put.perf.data, `perf report -i`).
  const perf = process.env['BENCH_PERF'] === '1' ? spawn('perf', ['record', '-q', '-F', '1999', '-g', '-p', String(b), '-o', join(lab, 'put.perf.data')], { stdio: 'ignore' }) : undefined;
  if (perf) await sleep(300);
  const bDropsBefore = udpRcvbufErrors(b);
  const bBefore = cpuMs(b);
  const bThreads = threadCpuMs(b);
  const put = await ipsecCtx(netnsOf(lab, 'gwb'), ['put', '--to', uri('gwb', extra('BENCH_PUT_PARAMS')), '-i', keyB, '--trust', pubA, '--state-dir', join(lab, 'state'), blob], join(lab, 'put.time'));
  Object.assign(result, {
    putMs: put.ms,
    bCpuMs: cpuMs(b) - bBefore,
    putUdpDrops: udpRcvbufErrors(b) - bDropsBefore,
    ...(() => {
      const split = threadSplit(bThreads, threadCpuMs(b));
      return { bCpuBusiestThreadMs: split.busiest, bCpuOtherThreadsMs: split.others };
    })(),
    ctxPutCpuMs: put.cpuMs,
    ctxPutRssMb: put.peakRssMb,
    moveMs: get.ms + put.ms,
  });
  writeFileSync(join(lab, 'put.stderr'), put.stderr);
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((resolve) => perf.on('close', resolve));
  }
  // Where put's time went, from B's log: start-up, blob, plan, vici and the first heartbeat
  // until B takes SEGMENT_TAKE; the wait for B's next STATUS until the first synced SA; the
  // sync itself until the last CHILD SA installed; the check over vici until SEGMENT_DROP;
  // activation, the ESTABLISHED check and exit.
  const bLog = logLines(join(lab, 'gwb', 'charon.log'));
  const takeAt = firstAt(bLog, put.startMs - 1000, /remote node takes segment/);
  const firstSyncAt = firstAt(bLog, put.startMs - 1000, /installed HA (passive IKE_SA|CHILD_SA)/);
  const lastInstallAt = lastAt(bLog, put.startMs - 1000, put.endMs, /installed HA (passive IKE_SA|CHILD_SA)/);
  const dropAt = firstAt(bLog, put.startMs - 1000, /remote node drops segment/);
  result['putPhases'] = {
    startToTake: takeAt - put.startMs,
    takeToSync: firstSyncAt - takeAt,
    sync: lastInstallAt - firstSyncAt,
    verifyPassive: dropAt - lastInstallAt,
    activateExit: put.endMs - dropAt,
  };
  if (put.status !== 0) {
    result['error'] = `put exited ${put.status}: ${errorLine(put.stderr)}`;
    return result;
  }
  // The check is one vici list-sas; what one costs B with N SAs (kernel-libipsec looks up
  // each CHILD SA's usage in a linear list) tells what put's polling costs it.
  const listStart = performance.now();
  const bListBefore = cpuMs(b);
  const onB = await listed(viciOf(lab, 'gwb'));
  Object.assign(result, { bListSasMs: performance.now() - listStart, bListSasCpuMs: cpuMs(b) - bListBefore });
  const sameSpis = [...onA.spis].filter((spis) => onB.spis.has(spis)).length;
  Object.assign(result, { bEstablished: onB.established, bInstalled: onB.installed, bSameSpis: sameSpis });
  result['ok'] = onB.complete === n && sameSpis === n;
  if (!result['ok']) result['error'] = `B lists ${onB.complete} ESTABLISHED IKE SAs with INSTALLED CHILD SAs, ${sameSpis} of A's ${n}`;
  return result;
}

// ---------------------------------------------------------------------------------------------
// The table.

type Row = Record<string, number | boolean | string | undefined>;
const num = (row: Row, key: string) => (typeof row[key] === 'number' ? (row[key] as number) : NaN);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
/** "mean (run1, run2)" of the ok rows. */
const cell = (rows: Row[], value: (row: Row) => number, digits = 0) => {
  const xs = rows.map(value).filter(Number.isFinite);
  if (xs.length === 0) return '–';
  return xs.length === 1 ? fmt(xs[0]!, digits) : `${fmt(mean(xs), digits)} (${xs.map((x) => fmt(x, digits)).join(', ')})`;
};

function markdown(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

function table(file: string): void {
  const all = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row);
  const sizes = [...new Set(all.map((r) => num(r, 'n')))].sort((x, y) => x - y);
  const failed = all.filter((r) => r['ok'] !== true);
  const perTunnel = (key: string) => (r: Row) => num(r, key) / num(r, 'n');

  const summary: string[][] = [
    ['N', 're-establish ms', 'B CPU ms/tunnel', 'move ms (get + put)', 'get ms', 'put ms', 'B CPU ms/tunnel (put)', 'A CPU ms/tunnel (get)', 'ipsec-ctx CPU ms (get + put)', 'ipsec-ctx peak RSS MB', 'time ratio', 'time ratio, put only', 'B CPU ratio', 'runs ok'],
  ];
  const ratios = new Map<number, { time: number; put: number; cpu: number }>();
  /** "12.3x"; a CPU reading of 0 ticks on either side is below what /proc/PID/stat resolves. */
  const ratio = (x: number, num: number, den: number) => (!Number.isFinite(x) || num === 0 || den === 0 ? '–' : `${fmt(x, x < 0.1 ? 3 : x < 10 ? 2 : 1)}x`);
  for (const n of sizes) {
    const re = all.filter((r) => r['mode'] === 'reestablish' && num(r, 'n') === n && r['ok'] === true);
    const mv = all.filter((r) => r['mode'] === 'move' && num(r, 'n') === n && r['ok'] === true);
    const reTotal = all.filter((r) => r['mode'] === 'reestablish' && num(r, 'n') === n).length;
    const mvTotal = all.filter((r) => r['mode'] === 'move' && num(r, 'n') === n).length;
    const reMs = mean(re.map((r) => num(r, 'ms')));
    const time = reMs / mean(mv.map((r) => num(r, 'moveMs')));
    const put = reMs / mean(mv.map((r) => num(r, 'putMs')));
    const reCpu = mean(re.map((r) => num(r, 'bCpuMs')));
    const mvCpu = mean(mv.map((r) => num(r, 'bCpuMs')));
    const cpu = reCpu / mvCpu;
    ratios.set(n, { time, put, cpu: reCpu === 0 || mvCpu === 0 ? NaN : cpu });
    summary.push([
      String(n),
      cell(re, (r) => num(r, 'ms')),
      cell(re, perTunnel('bCpuMs'), 2),
      cell(mv, (r) => num(r, 'moveMs')),
      cell(mv, (r) => num(r, 'getMs')),
      cell(mv, (r) => num(r, 'putMs')),
      cell(mv, perTunnel('bCpuMs'), 2),
      cell(mv, perTunnel('aCpuMs'), 2),
      cell(mv, (r) => num(r, 'ctxGetCpuMs') + num(r, 'ctxPutCpuMs')),
      cell(mv, (r) => Math.max(num(r, 'ctxGetRssMb'), num(r, 'ctxPutRssMb'))),
      ratio(time, 1, 1),
      ratio(put, 1, 1),
      ratio(cpu, reCpu, mvCpu),
      `${re.length}/${reTotal} re-establish, ${mv.length}/${mvTotal} move`,
    ]);
  }

  const runs: string[][] = [
    ['N', 'run', 'mode', 'ok', 'load avg', 'ms', 'get ms', 'put ms', 'B CPU ms', 'A CPU ms (get)', 'client CPU ms', 'ipsec-ctx CPU ms get / put', 'RSS MB get / put', 'CHILD SAs rekeyed by get', 'HA datagrams dropped (B)', 'retransmits'],
  ];
  for (const r of [...all].sort((x, y) => num(x, 'n') - num(y, 'n') || num(x, 'run') - num(y, 'run') || String(y['mode']).localeCompare(String(x['mode'])))) {
    const isMove = r['mode'] === 'move';
    runs.push([
      fmt(num(r, 'n')),
      fmt(num(r, 'run')),
      isMove ? 'move' : 're-establish',
      r['ok'] === true ? 'yes' : 'FAILED',
      fmt(num(r, 'load'), 1),
      fmt(isMove ? num(r, 'moveMs') : num(r, 'ms')),
      isMove ? fmt(num(r, 'getMs')) : '',
      isMove ? fmt(num(r, 'putMs')) : '',
      fmt(num(r, 'bCpuMs')),
      isMove ? fmt(num(r, 'aCpuMs')) : '',
      fmt(isMove ? num(r, 'clientCpuGetMs') : num(r, 'clientCpuMs')),
      isMove ? `${fmt(num(r, 'ctxGetCpuMs'))} / ${fmt(num(r, 'ctxPutCpuMs'))}` : '',
      isMove ? `${fmt(num(r, 'ctxGetRssMb'), 1)} / ${fmt(num(r, 'ctxPutRssMb'), 1)}` : '',
      isMove ? fmt(num(r, 'rekeyed')) : '',
      isMove ? fmt(num(r, 'putUdpDrops')) : '',
      fmt(num(r, 'retransmits')),
    ]);
  }

  const phase = (key: string, name: string) => (r: Row) => {
    const phases = r[key] as unknown as Record<string, number> | undefined;
    return phases?.[name] ?? NaN;
  };
  const phases: string[][] = [
    [
      'N',
      'get: start-up, vici → A resyncs',
      "A's resync (CHILD rekeys)",
      'settle, seal, exit',
      'put: start-up, blob, plan, vici, heartbeat → SEGMENT_TAKE',
      "wait for B's STATUS",
      'sync (B installs)',
      'verify PASSIVE',
      'hand back, verify ESTABLISHED, exit',
      'B CPU ms: HA thread / others',
      'A CPU ms: busiest thread / others',
      'one list-sas of B: ms / B CPU ms',
    ],
  ];
  for (const n of sizes) {
    const mv = all.filter((r) => r['mode'] === 'move' && num(r, 'n') === n && r['putPhases'] !== undefined);
    phases.push([
      String(n),
      cell(mv, phase('getPhases', 'startToResync')),
      cell(mv, phase('getPhases', 'resyncWork')),
      cell(mv, phase('getPhases', 'settleSealExit')),
      cell(mv, phase('putPhases', 'startToTake')),
      cell(mv, phase('putPhases', 'takeToSync')),
      cell(mv, phase('putPhases', 'sync')),
      cell(mv, phase('putPhases', 'verifyPassive')),
      cell(mv, phase('putPhases', 'activateExit')),
      `${cell(mv, (r) => num(r, 'bCpuBusiestThreadMs'))} / ${cell(mv, (r) => num(r, 'bCpuOtherThreadsMs'))}`,
      `${cell(mv, (r) => num(r, 'aCpuBusiestThreadMs'))} / ${cell(mv, (r) => num(r, 'aCpuOtherThreadsMs'))}`,
      `${cell(mv, (r) => num(r, 'bListSasMs'))} / ${cell(mv, (r) => num(r, 'bListSasCpuMs'))}`,
    ]);
  }

  console.log('\nstrongSwan: moving N tunnels from gateway A to gateway B with ipsec-ctx (get from A, put into B) against the same N clients re-establishing to B from scratch');
  console.log(`(IKE ${process.env['BENCH_IKE_PROPOSAL'] ?? 'aes128gcm16-prfsha256-x25519'}, ESP AES-GCM, PSK road warriors from one load-tester charon, kernel-libipsec gateways; mean of the ok runs, the runs in brackets; CPU from /proc/PID/stat in 10 ms ticks)\n`);
  console.log(markdown(summary));
  console.log('\nruns (move ms = get + put, each the wall time of the ipsec-ctx process including Node start-up; B CPU during put or during re-establishing; A and client CPU during get):\n');
  console.log(markdown(runs));
  console.log("\nwhere the move's time goes (ms, from the charons' log timestamps; every move run, failed ones too):\n");
  console.log(markdown(phases));
  for (const r of failed) console.log(`\nFAILED: N=${fmt(num(r, 'n'))} run ${fmt(num(r, 'run'))} ${String(r['mode'])}: ${String(r['error'] ?? 'no result')}`);
  const at = ratios.get(1000);
  if (at) {
    const verdict = (x: number) => (Number.isFinite(x) ? (x >= 10 ? 'met' : 'NOT met') : 'not measured');
    console.log(
      `\ntarget (issue): at N = 1000 at least 10x less time and gateway CPU per tunnel than re-establishing: time ${fmt(at.time, 2)}x (${verdict(at.time)}; put alone, as after \`ipsec-ctx follow\`: ${fmt(at.put, 2)}x), gateway B CPU ${fmt(at.cpu, 2)}x (${verdict(at.cpu)})`,
    );
  } else {
    console.log('\ntarget (issue): N = 1000 not measured in this run');
  }
  console.log(
    'note: get makes A rekey every CHILD SA (RESYNC: one CREATE_CHILD_SA and one DELETE per tunnel with its client), which costs A ("A CPU") and the clients ("client CPU" of the move rows); re-establishing costs the clients their IKE_SA_INIT and IKE_AUTH instead',
  );
}

const [mode, arg, nText, runText] = process.argv.slice(2);
if (mode === 'table' && arg) {
  table(arg);
} else if ((mode === 'reestablish' || mode === 'move') && arg && nText) {
  const n = Number(nText);
  const run = Number(runText ?? 1);
  let result: Record<string, unknown>;
  try {
    result = mode === 'move' ? await move(arg, n, run) : await reestablish(arg, n, run);
  } catch (error) {
    result = { mode, n, run, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stderr.write(`  ${mode} N=${n} run ${run}: ${result['ok'] ? 'ok' : `FAILED: ${String(result['error'])}`}${mode === 'move' ? `, get ${fmt(Number(result['getMs']))} ms, put ${fmt(Number(result['putMs']))} ms` : `, ${fmt(Number(result['ms']))} ms`}\n`);
} else {
  process.stderr.write('usage: strongswan.js reestablish|move LAB N [RUN] | table RESULTS.jsonl (run by bench/strongswan.sh)\n');
  process.exitCode = 2;
}
