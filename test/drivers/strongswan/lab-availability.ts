/**
 * Whether the real-charon tests can run here, shared by every strongSwan lab test. They need
 * Linux, root (or passwordless sudo) for network namespaces, and Debian's charon with the ha
 * plugin (`lab/strongswan/install-deps`). Outside CI a missing piece skips them with a loud
 * message; in CI (CI=true) it is a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

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
