/**
 * What every real-charon scenario script (run by lab/strongswan/with-lab, see
 * lab-availability.ts) needs: the lab's environment, a timeline, the lab's control commands,
 * and running ipsec-ctx or another node script, optionally inside a network namespace.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

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
  };
}
