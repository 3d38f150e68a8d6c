/**
 * The native netlink binding (native/xfrm_netlink.c), loaded on first use so that the rest of
 * ipsec-ctx works on machines where it did not build (macOS, no compiler, no Node headers).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { GatewayError } from '../../errors.js';

export interface OpenOptions {
  /** A network namespace: a name from /run/netns (as `ip netns` names them) or an absolute path. */
  netns?: string;
  /** SO_RCVBUF(FORCE) in bytes (default 8 MiB). */
  receiveBuffer?: number;
  /** SO_SNDBUF(FORCE) in bytes (default 8 MiB). */
  sendBuffer?: number;
  /** SO_RCVTIMEO/SO_SNDTIMEO in milliseconds; 0 waits forever. */
  timeoutMs?: number;
}

export interface StructLayout {
  size: number;
  offsets: Record<string, number>;
}

export interface XfrmNetlinkAddon {
  /** Opens an AF_NETLINK/NETLINK_XFRM socket with NETLINK_EXT_ACK and NETLINK_CAP_ACK set. */
  open(options?: OpenOptions): number;
  /** Sends one datagram (one or more netlink messages) to the kernel. */
  send(fd: number, datagram: Uint8Array): number;
  /** One datagram; with wait false, null when nothing is queued. Errors carry `code` (errno name). */
  recv(fd: number, wait?: boolean): Buffer | null;
  /** The socket's netlink port id. */
  portId(fd: number): number;
  close(fd: number): void;
  /** sizeof/offsetof of the kernel structs, from the C compiler. */
  layout(): Record<string, StructLayout>;
}

/** Where the addon may be, relative to this module in lib/ (tsx) or dist/lib/ (compiled). */
const CANDIDATES = [
  '../../../native/build/Release/xfrm_netlink.node',
  '../../../../native/build/Release/xfrm_netlink.node',
  '../../../native/build/Debug/xfrm_netlink.node',
  '../../../../native/build/Debug/xfrm_netlink.node',
];

let loaded: XfrmNetlinkAddon | undefined;
let failure: unknown;

/** The path of the built addon, or undefined when it was not built. */
export function addonPath(): string | undefined {
  const override = process.env['IPSEC_CTX_XFRM_ADDON'];
  if (override) return override;
  for (const candidate of CANDIDATES) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** @throws GatewayError `gateway.xfrm_unavailable` when the addon is missing or does not load. */
export function loadAddon(): XfrmNetlinkAddon {
  if (loaded) return loaded;
  if (failure === undefined) {
    const path = addonPath();
    if (path === undefined) {
      failure = new Error('native/build/Release/xfrm_netlink.node does not exist');
    } else {
      try {
        loaded = createRequire(import.meta.url)(path) as XfrmNetlinkAddon;
        return loaded;
      } catch (error) {
        failure = error;
      }
    }
  }
  const reason = failure instanceof Error ? failure.message : String(failure);
  throw new GatewayError('gateway.xfrm_unavailable', `the xfrm driver's netlink addon is not available: ${reason}`, {
    hint: process.platform === 'linux' ? 'build it with `npm rebuild` (needs a C compiler and node-gyp)' : 'the xfrm driver works on Linux only',
    cause: failure,
  });
}
