/**
 * What every real-charon scenario script (run by lab/strongswan/with-lab, see
 * lab-availability.ts) needs: the lab's environment, a timeline, the lab's control commands,
 * and running ipsec-ctx or another node script, optionally inside a network namespace.
 */
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listedSpis } from './scenarios.js';

export const run = promisify(execFile);
export const root = fileURLToPath(new URL('../../../../', import.meta.url));
export const cli = join(root, 'bin', 'ipsec-ctx');
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A variable with-lab sets; its absence means the script was not started by with-lab. */
export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run under lab/strongswan/with-lab (see the scenario's test)`);
  return value;
}

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a node script, inside `netns` when given, and waits for it. */
export function runNode(script: string, args: readonly string[], netns?: string, timeoutMs = 60_000): RunResult {
  const [command, argv] = netns ? ['ip', ['netns', 'exec', netns, process.execPath, script, ...args]] : [process.execPath, [script, ...args]];
  const started = Date.now();
  const r = spawnSync(command, argv, { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

/** The real ipsec-ctx binary, inside `netns` when given. */
export function ipsecCtx(args: readonly string[], netns?: string): RunResult {
  return runNode(cli, args, netns);
}

/**
 * The scenario's output directory (argv[2], created), the lab's directories and namespaces,
 * a timeline with marks in milliseconds since start, and the lab's commands.
 */
export function scenarioSetup(usage: string, stepTimeoutMs = 60_000) {
  const out = process.argv[2];
  if (!out) throw new Error(`usage: ${usage}`);
  mkdirSync(out, { recursive: true });
  const ctl = env('SWLAB_CTL');
  const dir = env('SWLAB_DIR');
  const timeline: string[] = [];
  const started = Date.now();
  /** Runs `swlab-ctl ARGS` and returns its stdout. */
  const step = async (...args: string[]) => (await run(ctl, args, { timeout: stepTimeoutMs, maxBuffer: 16 << 20 })).stdout;
  return {
    out,
    dir,
    gwbNs: env('SWLAB_GWB_NS'),
    timeline,
    started,
    mark: (what: string) => void timeline.push(`${Date.now() - started} ${what}`),
    step,
    /** Whether `count` pings through the tunnel all come back. */
    pingOk: async (count = 3): Promise<boolean> => {
      try {
        await step('ping', String(count));
        return true;
      } catch {
        return false;
      }
    },
    logOf: (node: string) => readFileSync(join(dir, node, 'charon.log'), 'utf8'),
    /** The strongswan: URI for a lab gateway, with its vici socket. */
    uri: (node: string) => `strongswan:${env('SWLAB_HA_LOCAL')}?bind=${env('SWLAB_HA_REMOTE')}&vici=${join(dir, node, 'run', 'charon.vici')}`,
    /**
     * Starts gateways A and B and the client, then waits out the gateways' 2.1 s heartbeat
     * timeout: without an HA peer each takes all segments only then.
     */
    startAll: async (): Promise<void> => {
      for (const node of ['gw', 'gwb', 'cl']) await step('start', node);
      await sleep(2600);
      timeline.push(`${Date.now() - started} gateways up`);
    },
    /** Writes OUT/result.json (with the timeline) and copies each started node's charon.log beside it. */
    finish: (result: Record<string, unknown>) => {
      result['timeline'] = timeline;
      writeFileSync(join(out, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
      for (const node of ['gw', 'gwb', 'cl']) {
        const log = join(dir, node, 'charon.log');
        if (existsSync(log)) copyFileSync(log, join(out, `charon-${node}.log`));
      }
    },
  };
}

type ScenarioKit = ReturnType<typeof scenarioSetup>;

/**
 * What every move scenario checks once gateway B holds the SAs and A's address, into `result`:
 * the client's DPD (dpd_delay 4 s) is answered by B; B rekeys the CHILD SA, then the IKE SA,
 * and the client follows; ping after each; and, from the client's log since `marks.client`,
 * how many IKE_SA_INIT, IKE_AUTH and retransmits there were (saved as
 * charon-cl-after-move.log). Returns that part of the client's log.
 */
export async function checkCarriesOnAfterMove(kit: ScenarioKit, result: Record<string, unknown>, marks: { client: number; gwb: number }): Promise<string> {
  const { out, step, pingOk, logOf, mark } = kit;
  // DPD: the client asks once nothing came in for 4 s.
  await sleep(5500);
  result['clientDpdSent'] = /sending DPD request/.test(logOf('cl').slice(marks.client));
  result['gwbDpdAnswered'] = /parsed INFORMATIONAL request \d+ \[ \]/.test(logOf('gwb').slice(marks.gwb));
  mark('dpd');

  // A rekey is asynchronous (swanctl returns once it is queued), and with several labs on two
  // cores it can take a few seconds: B's listing is polled until it shows the new SA, for up to
  // 8 s. The conditions are the same as with one look.
  const listedOn = async (node: string) => listedSpis(await step('swanctl', node, '--list-sas'));
  const pollB = async (done: (listed: ReturnType<typeof listedSpis>) => boolean) => {
    let listed = await listedOn('gwb');
    for (let waited = 0; !done(listed) && waited < 8000; waited += 500) {
      await sleep(500);
      listed = await listedOn('gwb');
    }
    return listed;
  };

  const listBefore = await listedOn('gwb');
  await step('swanctl', 'gwb', '--rekey', '--child', 'net');
  await sleep(1500);
  const childRekeyed = (listed: ReturnType<typeof listedSpis>) => listed.childIn.some((spi) => !listBefore.childIn.includes(spi));
  result['childRekeyed'] = childRekeyed(await pollB(childRekeyed));
  result['pingAfterChildRekey'] = await pingOk();
  mark('child rekey');

  await step('swanctl', 'gwb', '--rekey', '--ike', 'rw');
  await sleep(1500);
  const ikeRekeyed = (listed: ReturnType<typeof listedSpis>) => listed.ike.length === 1 && !listBefore.ike.includes(listed.ike[0] as string);
  const listIke = await pollB(ikeRekeyed);
  const listClient = await listedOn('cl');
  result['ikeRekeyed'] = ikeRekeyed(listIke);
  result['clientSeesNewIke'] = listClient.ike.length === 1 && listClient.ike[0] === listIke.ike[0];
  result['pingAfterIkeRekey'] = await pingOk();
  mark('ike rekey');

  const clientAfter = logOf('cl').slice(marks.client);
  writeFileSync(join(out, 'charon-cl-after-move.log'), clientAfter);
  result['clientIkeSaInit'] = (clientAfter.match(/IKE_SA_INIT/g) ?? []).length;
  result['clientIkeAuth'] = (clientAfter.match(/IKE_AUTH/g) ?? []).length;
  result['clientRetransmits'] = (clientAfter.match(/retransmit \d+ of request/g) ?? []).length;
  result['clientEstablished'] = (clientAfter.match(/IKE_SA \S+ established/g) ?? []).length;
  return clientAfter;
}
