/**
 * Whether the real-charon tests can run here, shared by every strongSwan lab test. They need
 * Linux, root (or passwordless sudo) for network namespaces, and Debian's charon with the ha
 * plugin (`lab/strongswan/install-deps`). Outside CI a missing piece skips them with a loud
 * message; in CI (CI=true) it is a failure.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = fileURLToPath(new URL('../../../../', import.meta.url));
export const inCi = process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false';
const isRoot = process.getuid?.() === 0;
/** The command prefix that runs a lab script as root, or undefined when nothing can. */
export const sudo = isRoot ? [] : spawnSync('sudo', ['-n', 'true']).status === 0 ? ['sudo', '-n'] : undefined;
/** Why the lab cannot run here, or undefined when it can. */
export const missing =
  process.platform !== 'linux'
    ? 'not a Linux host'
    : sudo === undefined
      ? 'not root, and no passwordless sudo (network namespaces need root)'
      : !existsSync('/usr/lib/ipsec/plugins/libstrongswan-ha.so')
        ? 'strongSwan with the ha plugin is not installed'
        : undefined;

/** Where lab/strongswan/build-charon6 installs strongSwan `release` (6.0.1, 6.1.0). */
export const charon6Prefix = (release: string) => `/opt/ipsec-ctx/strongswan-${release}`;

/** Why a lab with strongSwan `release` cannot run here (`file` under its prefix is missing), or undefined. */
export function charon6Missing(release: string, file = 'libexec/ipsec/charon'): string | undefined {
  if (missing !== undefined) return missing;
  return existsSync(join(charon6Prefix(release), file)) ? undefined : `strongSwan ${release} is not built in ${charon6Prefix(release)}, or without ${file} (lab/strongswan/build-charon6 --release ${release})`;
}

/** The proposal sets the move scenarios run with: with-lab flags, and a name for the test title. */
export const LAB_PROPOSALS = [
  { name: 'AES-GCM, x25519', args: [] },
  { name: 'AES-CBC/SHA-256, MODP-2048, PFS', args: ['--ike-proposal', 'aes256-sha256-modp2048', '--esp-proposal', 'aes128-sha256-modp2048'] },
] as const;

/** Why charons with the kernel's own ESP cannot run here (they need the user-mode-Linux lab). */
export const umlMissing = missing ?? (existsSync(process.env['LAB_KERNEL'] ?? '/usr/bin/linux.uml') ? undefined : 'the user-mode-Linux lab is not installed (sudo lab/install-deps)');

export interface LabScenarioOptions {
  /** Run with-lab inside the user-mode-Linux lab (lab/run), whose kernel has ESP. */
  uml?: { timeoutSeconds: number; mem: string };
}

/**
 * Runs `lab/strongswan/with-lab FLAGS -- node dist/test/drivers/strongswan/SCENARIO.js OUT ARGS`
 * as root, in a fresh output directory removed after the test, and returns that directory.
 * With `uml`, with-lab runs inside `lab/run`, and OUT is under lab/.out/ in the repo (the one
 * directory the guest shares with the host). On failure the lab's output is logged and the
 * error says the exit status.
 */
export async function runLabScenario(
  t: { log: (...values: unknown[]) => void; teardown: (fn: () => void) => void },
  flags: readonly string[],
  scenario: string,
  args: readonly string[] = [],
  options: LabScenarioOptions = {},
): Promise<string> {
  const { uml } = options;
  if (uml) mkdirSync(join(root, 'lab', '.out'), { recursive: true });
  const out = mkdtempSync(uml ? join(root, 'lab', '.out', `${scenario}-`) : join(tmpdir(), `ipsec-ctx-${scenario}-`));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const started = Date.now();
  const umlPrefix = uml ? ['lab/run', '--timeout', String(uml.timeoutSeconds), '--mem', uml.mem, '--'] : [];
  const [command, ...prefix] = [...(sudo ?? []), ...umlPrefix, 'lab/strongswan/with-lab'];
  const script = `dist/test/drivers/strongswan/${scenario}.js`;
  await promisify(execFile)(command as string, [...prefix, ...flags, '--', process.execPath, script, out, ...args], { cwd: root, maxBuffer: 16 << 20 }).catch(
    (error: { stdout?: string; stderr?: string; code?: number }) => {
      t.log(error.stdout ?? '', error.stderr ?? '');
      throw new Error(`${uml ? 'lab/run' : 'with-lab'} exited with status ${error.code}`);
    },
  );
  t.log(`lab run: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return out;
}
