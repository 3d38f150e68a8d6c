/**
 * `ipsec-ctx follow` (docs/strongswan.md §8, "follow"): ipsec-ctx as a gateway charon's HA
 * standby. It binds where the gateway's `charon.plugins.ha.remote` points and takes every sync
 * datagram the gateway sends as it creates, updates, rekeys and deletes IKE and CHILD SAs,
 * keeping an HaTracker current; after each change (at most once per `everyMs`) it hands the
 * whole context to `snapshot`, which seals and writes it.
 *
 * Passive: it sends the gateway nothing (no STATUS, no RESYNC), so the gateway takes every
 * segment after its heartbeat timeout and carries on unchanged; with `resync` it sends one
 * RESYNC at start to learn what existed before (which rekeys every CHILD SA of the gateway,
 * as `get` does). Without it, an IKE SA made before the follower started enters the snapshot
 * at its next IKE rekey, a CHILD SA at its next CHILD rekey (charon caches neither CHILD SAs
 * nor, for a peer that joins late, IKE_ADDs it has not been asked to resend).
 *
 * With `counters=xfrm` (a charon with kernel-netlink on the same host) each snapshot carries
 * the CHILD SAs' live counters from the kernel, and a new snapshot is written every `everyMs`
 * while there are CHILD SAs, since their counters change with every packet.
 *
 * When the gateway falls silent (no heartbeat for 3 s: it died, or the link did), the
 * snapshot keeps the last state: that is the state to fail over with.
 */
import { GatewayError } from '../../errors.js';
import type { Context } from '../../model/context.js';
import { encodeMessage } from './codec.js';
import { HaPeer } from './ha-peer.js';
import { ALL_SEGMENTS, LAYOUT_VERSION } from './protocol.js';
import type { StrongswanTarget } from './strongswan-uri.js';
import { overlayKernelCounters } from './kernel-counters.js';
import { trackerToContext } from './to-model.js';
import { type DaemonConfig, ViciClient, authenticationOf, daemonConfig, listSas } from './vici.js';
import { layoutForRelease } from './version.js';

export interface FollowOptions {
  /** Stops the follower; it writes a last snapshot if something changed since the previous one. */
  signal: AbortSignal;
  /** At most one snapshot per this many milliseconds (changes in between are batched). */
  everyMs: number;
  /** A snapshot at least this often even without change (so the sealed blob never expires). */
  refreshMs: number;
  /** Send one RESYNC at start (the gateway rekeys every CHILD SA to announce it). */
  resync?: boolean;
  nowMs: () => number;
  notice: (text: string) => void;
  /** Seals and writes one snapshot; a throw stops the follower with that error. */
  snapshot: (context: Context, info: SnapshotInfo) => Promise<void>;
  /** How long without any datagram before the gateway counts as silent (default 3000 ms). */
  silenceMs?: number;
  /** Tests only: other UDP ports than charon's fixed 4510. */
  port?: number;
  gatewayPort?: number;
}

export interface SnapshotInfo {
  /** 1 for the first snapshot (written at start, possibly empty). */
  sequence: number;
  ikeSas: number;
  childSaPairs: number;
  /** IKE SAs left out (half-open, or IPComp CHILD SAs), with the reason. */
  skipped: string[];
  reason: 'start' | 'change' | 'refresh' | 'final';
}

export interface FollowReport {
  snapshots: number;
  /** Datagrams taken from the gateway, and dropped ones from elsewhere. */
  received: number;
  rejected: number;
  /** IKE SAs vici listed when the follower started (not known to it unless rekeyed or resynced). */
  preexistingIkeSas: number;
}


async function readConfig(path: string): Promise<{ config: DaemonConfig; established: number }> {
  const vici = await ViciClient.connect(path);
  try {
    const config = await daemonConfig(vici);
    const established = (await listSas(vici)).filter((sa) => sa.state === 'ESTABLISHED').length;
    return { config, established };
  } finally {
    vici.close();
  }
}

/**
 * Follows the gateway until `options.signal` aborts.
 * @throws GatewayError `strongswan.bind_failed`, `strongswan.vici_unavailable`,
 *   `strongswan.version_mismatch` (the gateway speaks another HA version than its release
 *   says), or whatever `snapshot` throws
 */
export async function followGateway(target: StrongswanTarget, options: FollowOptions): Promise<FollowReport> {
  const { nowMs, notice } = options;
  let { config, established: preexisting } = await readConfig(target.vici);
  const layout = layoutForRelease(config.release);
  const expectedVersion = LAYOUT_VERSION[layout];
  const silenceMs = options.silenceMs ?? 3000;

  let failure: unknown;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const fail = (error: unknown) => {
    failure ??= error;
    stop();
  };

  let dirty = false;
  let sequence = 0;
  let lastWriteMs = -Infinity;
  let writing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastCounts = '';
  let lastDatagramMs = nowMs();
  let silent = false;
  let versionChecked = false;
  let missingConfig = false;
  let childSaPairs = 0;
  let countersProblem = '';

  /**
   * With `counters=xfrm`: the CHILD SAs' live counters from the kernel. A failure or a CHILD SA
   * the kernel lacks leaves HA's zeros, said once per new situation, never fatal: the snapshot
   * is still the best state to fail over with.
   */
  const withKernelCounters = (context: Context): Context => {
    let problem = '';
    let result = context;
    try {
      const overlay = overlayKernelCounters(context, target.counters!);
      result = overlay.context;
      if (overlay.missing.length > 0) problem = `${overlay.missing.length} CHILD SA(s) are not in the kernel; their counters are HA's zeros`;
    } catch (error) {
      problem = `the kernel's counters could not be read (${error instanceof Error ? error.message : String(error)}); the snapshot has HA's zeros`;
    }
    if (problem !== countersProblem && problem !== '') notice(`${target.uri}: warning: ${problem}`);
    countersProblem = problem;
    return result;
  };

  const build = (): { context: Context; skipped: string[] } =>
    trackerToContext(peer.tracker, {
      source: target.gateway,
      nowMs: nowMs(),
      authentication: (connection) => {
        if (!config.connections.has(connection)) missingConfig = true;
        return authenticationOf(config, connection);
      },
    });

  const write = async (reason: SnapshotInfo['reason']): Promise<void> => {
    dirty = false;
    missingConfig = false;
    let built = build();
    if (missingConfig) {
      // A connection loaded after the follower started: learn its authentication classes.
      try {
        config = (await readConfig(target.vici)).config;
        built = build();
      } catch {
        // vici is gone (the gateway died?): keep what is known.
      }
    }
    if (target.counters && built.context.childSas.length > 0) built = { ...built, context: withKernelCounters(built.context) };
    const info: SnapshotInfo = {
      sequence: ++sequence,
      ikeSas: built.context.ikeSas.length,
      childSaPairs: built.context.childSas.length / 2,
      skipped: built.skipped,
      reason,
    };
    await options.snapshot(built.context, info);
    childSaPairs = info.childSaPairs;
    lastWriteMs = nowMs();
    const counts = `${info.ikeSas} IKE SA(s), ${info.childSaPairs} CHILD SA pair(s)${info.skipped.length ? `, ${info.skipped.length} not yet established` : ''}`;
    if (counts !== lastCounts || reason === 'final') notice(`snapshot ${info.sequence}: ${counts}`);
    lastCounts = counts;
  };

  const flush = (reason: SnapshotInfo['reason']) => {
    timer = undefined;
    if (writing) return;
    writing = write(reason)
      .catch(fail)
      .finally(() => {
        writing = undefined;
        if (dirty) schedule();
      });
  };

  let closing = false;
  function schedule(): void {
    if (closing || timer || writing || failure !== undefined) return;
    timer = setTimeout(() => flush('change'), Math.max(0, lastWriteMs + options.everyMs - nowMs()));
  }

  const peer = await HaPeer.open({
    bind: target.bind,
    gateway: target.gateway,
    decode: { v3Layout: layout === 'v3-50' ? 'v3-50' : 'v3' },
    nowMs,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.gatewayPort !== undefined ? { gatewayPort: options.gatewayPort } : {}),
    onMessage: (event) => {
      lastDatagramMs = event.atMs;
      if (silent) {
        silent = false;
        notice(`${target.uri}: the gateway's HA heartbeat is back`);
      }
      if (!versionChecked) {
        versionChecked = true;
        if (event.raw[0] !== expectedVersion) {
          fail(
            new GatewayError('strongswan.version_mismatch', `${target.uri}: the gateway speaks HA protocol version ${event.raw[0]}, but its release ${config.release} speaks ${expectedVersion}`, {
              hint: 'ipsec-ctx speaks HA versions 3 (strongSwan 5.x, 6.0.0), 4 (6.0.1) and 5 (6.0.2+)',
            }),
          );
          return;
        }
      }
      if (event.kind === 'undecodable') {
        notice(`${target.uri}: warning: undecodable HA datagram: ${event.error}`);
        return;
      }
      const type = event.message.type;
      if (type === 'resync') {
        notice(`${target.uri}: the gateway (re)started and asks its peer for a resync (ignored: ipsec-ctx holds nothing to give); the SAs it held before are kept in the snapshot`);
        return;
      }
      if (type === 'status' || type === 'segmentTake' || type === 'segmentDrop') return;
      if (event.result.warning) notice(`${target.uri}: ${event.result.summary}: ${event.result.warning}`);
      dirty = true;
      schedule();
    },
  });

  const onAbort = () => stop();
  options.signal.addEventListener('abort', onAbort, { once: true });
  if (options.signal.aborted) stop();
  const watchdog = setInterval(() => {
    if (!silent && nowMs() - lastDatagramMs > silenceMs) {
      silent = true;
      notice(`${target.uri}: no HA heartbeat from the gateway for ${Math.round(silenceMs / 1000)} s: keeping the last snapshot (${lastCounts || 'empty'})`);
    }
  }, Math.min(1000, silenceMs));
  // With counters=xfrm, the CHILD SAs' counters move with every packet, unseen by HA: a fresh
  // snapshot of them every everyMs (charon's own heartbeat is not regular enough to drive it).
  const counters = target.counters
    ? setInterval(() => {
        if (childSaPairs === 0) return;
        dirty = true;
        schedule();
      }, options.everyMs)
    : undefined;
  const refresh = setInterval(() => {
    dirty = true;
    if (!closing && !timer && !writing) flush('refresh');
  }, options.refreshMs);

  try {
    notice(`following ${target.uri} as its passive HA standby (HA version ${expectedVersion}, charon ${config.release})${options.resync ? '' : ': nothing is sent to the gateway'}`);
    if (options.resync) {
      await peer.send(encodeMessage({ layout, type: 'resync', attributes: ALL_SEGMENTS.map((segment) => ({ name: 'segment', value: segment })) }));
      notice(`${target.uri}: sent RESYNC: the gateway resends its IKE SAs and rekeys every CHILD SA of its ${preexisting} established IKE SA(s) to announce them`);
      preexisting = 0;
    } else if (preexisting > 0) {
      notice(
        `${target.uri}: the gateway already holds ${preexisting} established IKE SA(s); charon does not resend them to a standby that joins late: each enters the snapshot at its next IKE rekey (its CHILD SAs at their next rekey), or now with --resync`,
      );
    }
    // The file exists (empty, or with what the RESYNC brought) from the start.
    writing = write('start')
      .catch(fail)
      .finally(() => {
        writing = undefined;
        if (dirty) schedule();
      });
    await stopped;
    closing = true;
    if (failure === undefined) {
      clearTimeout(timer);
      timer = undefined;
      while (writing) await writing;
      if (dirty && failure === undefined) await write('final').catch(fail);
    }
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    clearInterval(watchdog);
    clearInterval(refresh);
    clearInterval(counters);
    clearTimeout(timer);
    while (writing) await writing.catch(() => undefined);
    await peer.close();
  }
  if (failure !== undefined) throw failure;
  return { snapshots: sequence, received: peer.received, rejected: peer.rejected, preexistingIkeSas: preexisting };
}
