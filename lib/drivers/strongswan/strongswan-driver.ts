/**
 * The `strongswan:` driver (docs/strongswan.md §7): a charon's IKE SAs with their CHILD SAs,
 * through its `ha` plugin's sync protocol, with ipsec-ctx as the charon's HA peer, and its
 * vici socket for what HA does not say (release, connection names, authentication, SAs).
 *
 * - read (get): RESYNC. charon resends its cached IKE state at once and rekeys every CHILD SA
 *   of its established IKE SAs to announce them (it never caches CHILD SAs): a visible side
 *   effect, counted in `lastRead.rekeyedChildSas` and reported on stderr.
 * - take (get --move): read, deliver, then IKE_DELETE over HA for each taken IKE SA: charon
 *   destroys it and its CHILD SAs locally, without telling the peer (an HA peer's delete is
 *   not an IKE DELETE), so the peer keeps the tunnel for whoever takes it over.
 * - apply (put): the target's ha plugin must point at ipsec-ctx. Checked before anything is
 *   sent: connection and CHILD config names (vici), the HA protocol version (the target's own
 *   heartbeat, and its release), derivable keys. Then the target's segments are taken away
 *   (its IKE SAs there go PASSIVE), the SAs are synced (PASSIVE, CHILD SAs installed), checked
 *   over vici, and the segments handed back, which activates them. On a failure before the
 *   hand-back the synced IKE SAs are deleted again (with their CHILD SAs) and the segments
 *   returned: the target is as it was.
 */
import { GatewayError } from '../../errors.js';
import type { Context } from '../../model/context.js';
import { describeChildSa, describeIkeSa } from '../../model/describe.js';
import type { PlannedChange } from '../../restore/merge.js';
import type { Interruption } from '../../util/interruption.js';
import type { ApplyOptions, ApplyReport, Driver, DriverEnvironment } from '../driver.js';
import { encodeMessage } from './codec.js';
import { type PlannedIkeSa, planSync } from './from-model.js';
import { HaPeer } from './ha-peer.js';
import { PacedHaSender } from './paced-sender.js';
import { refuseHeldIkeSas, refuseMissingNames } from './put-checks.js';
import { overlayKernelCounters, writeKernelCounters } from './kernel-counters.js';
import { ALL_SEGMENTS, LAYOUT_VERSION, type Layout } from './protocol.js';
import { type StrongswanTarget, parseStrongswanUri } from './strongswan-uri.js';
import { trackerToContext } from './to-model.js';
import { type DaemonConfig, type ListedIkeSa, ViciClient, authenticationOf, daemonConfig, listSas } from './vici.js';
import { SUPPORTED_VERSIONS, layoutForRelease } from './version.js';

export async function openStrongswanGateway(rest: string, env: DriverEnvironment): Promise<Driver> {
  return new StrongswanGateway(parseStrongswanUri(rest), env);
}


export interface ReadReport {
  /** CHILD SAs the gateway rekeyed because of the RESYNC (each a CREATE_CHILD_SA with its peer). */
  rekeyedChildSas: number;
  /** IKE SAs and CHILD SAs vici listed as established / installed before the RESYNC. */
  listedIkeSas: number;
  listedChildSas: number;
  skipped: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class StrongswanGateway implements Driver {
  readonly uri: string;
  lastRead: ReadReport | undefined;
  constructor(
    readonly target: StrongswanTarget,
    private readonly env: DriverEnvironment,
  ) {
    this.uri = target.uri;
  }

  private async withVici<T>(work: (vici: ViciClient, config: DaemonConfig) => Promise<T>): Promise<T> {
    const vici = await ViciClient.connect(this.target.vici);
    try {
      return await work(vici, await daemonConfig(vici));
    } finally {
      vici.close();
    }
  }

  async read(): Promise<Context> {
    return this.withVici(async (vici, config) => this.resync(vici, config));
  }

  private async resync(vici: ViciClient, config: DaemonConfig): Promise<Context> {
    const layout = layoutForRelease(config.release);
    const listed = (await listSas(vici)).filter((sa) => sa.state === 'ESTABLISHED');
    const listedChildSas = listed.reduce((n, sa) => n + sa.children.filter((c) => c.state === 'INSTALLED').length, 0);
    let rekeyed = 0;
    let resyncSent = false;
    let lastActivity = this.env.nowMs();
    const peer = await HaPeer.open({
      bind: this.target.bind,
      gateway: this.target.gateway,
      decode: { v3Layout: layout === 'v3-50' ? 'v3-50' : 'v3' },
      nowMs: this.env.nowMs,
      onMessage: (event) => {
        if (event.kind === 'message' && event.message.type === 'status') return;
        lastActivity = this.env.nowMs();
        if (resyncSent && event.kind === 'message' && event.message.type === 'childAdd' && !event.result.warning) rekeyed++;
      },
    });
    try {
      await peer.send(encodeMessage({ layout, type: 'resync', attributes: ALL_SEGMENTS.map((segment) => ({ name: 'segment', value: segment })) }));
      resyncSent = true;
      lastActivity = this.env.nowMs();
      // Counted every 20 ms rather than after each datagram: with N SAs a count costs O(N),
      // and a RESYNC brings several datagrams per SA.
      const counts = () => {
        let ikeSas = 0;
        let childSas = 0;
        for (const sa of peer.tracker.ikeSas.values()) {
          if (sa.updatedAtMs === undefined) continue;
          ikeSas++;
          childSas += sa.children.size;
        }
        return { ikeSas, childSas };
      };
      const resyncDeadline = this.env.nowMs() + this.target.timeoutMs;
      for (let got = counts(); got.ikeSas < listed.length || got.childSas < listedChildSas; got = counts()) {
        if (this.env.nowMs() > resyncDeadline) {
          throw new GatewayError(
            'strongswan.timeout',
            `no resynchronisation of ${listed.length} IKE SA(s) and rekeys of ${listedChildSas} CHILD SA(s) from the gateway within ${this.target.timeoutMs} ms (got ${got.ikeSas} and ${got.childSas})`,
          );
        }
        await sleep(20);
      }
      // The rekeys go on with the deletes of the old CHILD SAs (INFORMATIONAL exchanges that
      // move the message IDs): wait until the channel is quiet.
      const deadline = this.env.nowMs() + this.target.timeoutMs;
      while (this.env.nowMs() - lastActivity < this.target.settleMs) {
        if (this.env.nowMs() > deadline) break;
        await sleep(Math.min(100, this.target.settleMs));
      }
      const nowMs = this.env.nowMs();
      const listedBySpis = new Map(listed.map((sa) => [sa.spis, sa]));
      const { context: announced, skipped } = trackerToContext(peer.tracker, {
        source: this.target.gateway,
        nowMs,
        authentication: (connection) => authenticationOf(config, connection),
        // After an IKE rekey charon's RESYNC has no virtual IPs for the SA; vici lists them.
        remoteVirtualIps: (sa) => listedBySpis.get(sa.key)?.remoteVips,
      });
      const context = this.withKernelCounters(announced);
      this.lastRead = { rekeyedChildSas: rekeyed, listedIkeSas: listed.length, listedChildSas, skipped };
      this.env.notice?.(`${this.uri}: RESYNC made the gateway rekey ${rekeyed} CHILD SA(s) to announce them (charon never caches CHILD SAs); read ${context.ikeSas.length} IKE SA(s) and ${context.childSas.length / 2} CHILD SA pair(s)`);
      for (const skip of skipped) this.env.notice?.(`${this.uri}: skipped ${skip}`);
      return context;
    } finally {
      await peer.close();
    }
  }

  /**
   * The HA snapshot with its CHILD SAs' live counters from the kernel, when the URI says where
   * they are (`counters=xfrm`); a CHILD SA the kernel no longer holds keeps HA's zeros, and
   * the user is told.
   */
  private withKernelCounters(context: Context): Context {
    if (!this.target.counters) return context;
    const { context: overlaid, missing } = overlayKernelCounters(context, this.target.counters);
    this.env.notice?.(`${this.uri}: took the sequence counters, replay windows and usage of ${context.childSas.length - missing.length} CHILD SA(s) from the kernel`);
    for (const child of missing) this.env.notice?.(`${this.uri}: ${describeChildSa(child)} is not in the kernel (rekeyed or deleted since); its counters are HA's zeros`);
    return overlaid;
  }

  async take(select: (context: Context) => Context, deliver: (taken: Context) => Promise<void>): Promise<{ taken: Context; removed: PlannedChange[] }> {
    return this.withVici(async (vici, config) => {
      const taken = select(await this.resync(vici, config));
      await deliver(taken);
      const layout = layoutForRelease(config.release);
      const peer = await HaPeer.open({ bind: this.target.bind, gateway: this.target.gateway, nowMs: this.env.nowMs });
      try {
        for (const ike of taken.ikeSas) {
          const id = { ikeVersion: 2, spiI: ike.spiInitiator, spiR: ike.spiResponder, initiator: ike.role === 'initiator' };
          await peer.send(encodeMessage({ layout, type: 'ikeDelete', attributes: [{ name: 'ikeId', value: id }] }));
        }
      } finally {
        await peer.close();
      }
      const gone = new Set(taken.ikeSas.map((ike) => `${hex(ike.spiInitiator)}${hex(ike.spiResponder)}`));
      const deadline = this.env.nowMs() + 5000;
      for (;;) {
        const left = (await listSas(vici)).filter((sa) => gone.has(sa.spis));
        if (left.length === 0) break;
        if (this.env.nowMs() > deadline) {
          throw new GatewayError('gateway.state_unknown', `${this.uri}: the blob was written, but ${left.length} taken IKE SA(s) are still on the gateway after IKE_DELETE over HA`, {
            hint: 'check `swanctl --list-sas`; terminate them with --force only if the peer must not see a DELETE',
          });
        }
        await sleep(100);
      }
      const removed: PlannedChange[] = [
        ...taken.ikeSas.map((sa) => ({ kind: 'ike' as const, action: 'remove' as const, description: describeIkeSa(sa) })),
        ...taken.childSas.map((sa) => ({ kind: 'child' as const, action: 'remove' as const, description: describeChildSa(sa) })),
      ];
      return { taken, removed };
    });
  }

  async apply(context: Context, options: ApplyOptions): Promise<ApplyReport> {
    // Listening from the start: the target's heartbeat (STATUS every second) says which HA
    // version it speaks, and one arrives while vici is asked the rest. The STATUS is decoded
    // with any v3 numbering: only its first byte, the version, matters here.
    let version: number | undefined;
    const peer = await HaPeer.open({
      bind: this.target.bind,
      gateway: this.target.gateway,
      nowMs: this.env.nowMs,
      onMessage: (event) => {
        version ??= event.raw[0];
      },
    });
    try {
      return await this.applyWith(peer, () => version, context, options);
    } finally {
      await peer.close();
    }
  }

  private async applyWith(peer: HaPeer, version: () => number | undefined, context: Context, options: ApplyOptions): Promise<ApplyReport> {
    return this.withVici(async (vici, config) => {
      // 1. Names the target must have; 2. the keys charon will derive, and the messages;
      // 3. no IKE SA the target already holds.
      refuseMissingNames(this.uri, context, config);
      const releaseLayout = layoutForRelease(config.release);
      const plan = planSync(context, releaseLayout);
      refuseHeldIkeSas(this.uri, plan, await listSas(vici));
      const changes: PlannedChange[] = plan.flatMap((p) => [
        { kind: 'ike' as const, action: 'add' as const, description: describeIkeSa(p.ike) },
        ...p.children.flatMap((c) => [c.inbound, c.outbound].map((sa) => ({ kind: 'child' as const, action: 'add' as const, description: describeChildSa(sa) }))),
      ]);
      const warnings =
        context.childSas.length > 0 && !this.target.counters
          ? [
              `${this.uri}: charon installed the CHILD SAs with sequence counters and replay windows at zero (the HA protocol does not carry them): outbound packets are dropped by the peer as replays until the counter passes what the source sent, unless the CHILD SAs were fresh (get's RESYNC rekeys them) and carried no traffic since`,
            ]
          : [];

      // 4. The target's HA protocol version, from its own heartbeat.
      let heartbeat: NodeJS.Timeout | undefined;
      let sender: PacedHaSender | undefined;
      let interruption: Interruption | undefined;
      const interrupted = () => (interruption?.signal.aborted ? String(interruption.signal.reason) : undefined);
      try {
        await peer.until(() => version() !== undefined, Math.min(this.target.timeoutMs, 5000), 'HA heartbeat (is the ha plugin loaded, with remote = the bind address?)');
        const spoken = version()!;
        if (!(SUPPORTED_VERSIONS as readonly number[]).includes(spoken) || spoken !== LAYOUT_VERSION[releaseLayout]) {
          throw new GatewayError(
            'strongswan.version_mismatch',
            `${this.uri}: the target speaks HA protocol version ${spoken} (release ${config.release}), ipsec-ctx would send version ${LAYOUT_VERSION[releaseLayout]}; nothing was sent`,
            { hint: 'ipsec-ctx speaks HA versions 3 (strongSwan 5.x, 6.0.0), 4 (6.0.1) and 5 (6.0.2+)' },
          );
        }
        this.env.notice?.(`${this.uri}: the target speaks HA protocol version ${spoken} (strongSwan ${config.release})`);
        if (options.dryRun) return { changes, applied: false, warnings };
        const layout: Layout = releaseLayout;
        const send = (type: 'segmentTake' | 'segmentDrop' | 'status', segments: readonly number[]) =>
          peer.send(encodeMessage({ layout, type, attributes: segments.map((segment) => ({ name: 'segment' as const, value: segment })) }));

        // From here until the hand-back, SIGINT/SIGTERM do not end the process half way: they
        // make the sync stop and roll back (only SIGKILL or a crash leaves a partial state,
        // docs/strongswan.md "An interrupted put").
        interruption = this.env.catchInterrupts?.();
        const total = plan.reduce((n, item) => n + item.messages.length, 0);
        let sent = 0;
        const checkInterrupted = () => {
          const by = interrupted();
          if (by) throw new GatewayError('strongswan.interrupted', `interrupted by ${by} after ${sent} of ${total} HA sync message(s)`);
        };

        // 5. Take the target's segments away, so synced SAs stay PASSIVE until handed back
        //    (an SA synced into an active segment would stay PASSIVE for good); our STATUS
        //    claims them every 400 ms, so the target does not take them back.
        sender = await PacedHaSender.open(this.target.vici, peer, layout, this.target.timeoutMs);
        await send('status', ALL_SEGMENTS);
        heartbeat = setInterval(() => void send('status', ALL_SEGMENTS).catch(() => undefined), 400);

        // 6. Sync, as fast as the target applies it, then check what the target made of it.
        try {
          await sender.takeAllSegments();
          checkInterrupted();
          for (const item of plan) {
            for (const message of item.messages) {
              await sender.send(encodeMessage({ layout, ...message }));
              sent++;
              checkInterrupted();
            }
          }
          await sender.drain();
          await this.verify(vici, plan, 'PASSIVE', checkInterrupted);
          checkInterrupted();
          // The target installed the CHILD SAs with zero counters; before it takes over (and
          // before any packet can reach it), they get the source's, jumped forward.
          if (this.target.counters) {
            writeKernelCounters(context, this.target.counters, this.env.nowMs());
            this.env.notice?.(`${this.uri}: set the sequence counters, replay windows and usage of ${context.childSas.length} CHILD SA(s) in the kernel before the target took over`);
          }
        } catch (error) {
          const left = await this.rollback(sender, layout, plan, vici).catch(() => -1);
          await send('segmentDrop', [0]);
          clearInterval(heartbeat);
          heartbeat = undefined;
          const reason = error instanceof Error ? error.message : String(error);
          if (left !== 0) {
            throw new GatewayError(
              'gateway.rollback_failed',
              `${this.uri}: ${reason}; rolling back failed too: ${left < 0 ? 'the target did not confirm the deletes' : `${left} synced IKE SA(s) are still on the target`} (segments handed back)`,
              { cause: error, hint: "check the target's `swanctl --list-sas`; restart its charon to drop what was synced (docs/strongswan.md, \"An interrupted put\")" },
            );
          }
          throw new GatewayError('gateway.rolled_back', `${this.uri}: ${reason}; the synced IKE SAs were deleted again and the target's segments handed back, the target is as it was`, { cause: error });
        }

        // 7. Hand the segments back: the target activates them and its PASSIVE SAs become ESTABLISHED.
        clearInterval(heartbeat);
        heartbeat = undefined;
        await send('segmentDrop', [0]);
        await send('status', []);
        try {
          await this.verify(vici, plan, 'ESTABLISHED');
        } catch (error) {
          warnings.push(`${this.uri}: synced, but not every IKE SA became ESTABLISHED: ${error instanceof Error ? error.message : String(error)}`);
        }
        const lateSignal = interrupted();
        if (lateSignal) warnings.push(`${this.uri}: ${lateSignal} arrived while the target was taking over; the put was completed first`);
        return { changes, applied: true, warnings };
      } finally {
        interruption?.release();
        if (heartbeat) clearInterval(heartbeat);
        sender?.close();
      }
    });
  }

  /** Polls vici until every planned IKE SA is in `state` with all its CHILD SAs installed. @throws GatewayError */
  private async verify(vici: ViciClient, plan: PlannedIkeSa[], state: string, check: () => void = () => undefined): Promise<void> {
    const deadline = this.env.nowMs() + 5000;
    for (;;) {
      check();
      const listed = new Map<string, ListedIkeSa>((await listSas(vici)).map((sa) => [sa.spis, sa]));
      const problems: string[] = [];
      for (const item of plan) {
        const sa = listed.get(`${hex(item.ike.spiInitiator)}${hex(item.ike.spiResponder)}`);
        if (!sa) {
          problems.push(`${describeIkeSa(item.ike)} is missing`);
          continue;
        }
        if (sa.state !== state) problems.push(`${describeIkeSa(item.ike)} is ${sa.state}, not ${state}`);
        for (const pair of item.children) {
          if (!sa.children.some((c) => c.spiIn === hex(pair.inbound.spi) && c.spiOut === hex(pair.outbound.spi) && c.state === 'INSTALLED')) {
            problems.push(`CHILD SA ${hex(pair.inbound.spi)}/${hex(pair.outbound.spi)} of ${describeIkeSa(item.ike)} was not installed (see the target's log: "HA CHILD_SA installation failed"?)`);
          }
        }
      }
      if (problems.length === 0) return;
      if (this.env.nowMs() > deadline) {
        throw new GatewayError('strongswan.sync_failed', `${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : ''}`);
      }
      await sleep(100);
    }
  }

  /**
   * IKE_DELETE, paced, for every planned SA the target lists (charon destroys it with its
   * CHILD SAs, without telling the peer), up to three rounds; returns how many are still listed.
   */
  private async rollback(sender: PacedHaSender, layout: Layout, plan: PlannedIkeSa[], vici: ViciClient): Promise<number> {
    // Let the sync's last datagrams be applied first, so that what is listed is final.
    await sender.drain().catch(() => undefined);
    sender.startOver();
    const ours = new Map(plan.map((item) => [`${hex(item.ike.spiInitiator)}${hex(item.ike.spiResponder)}`, item.ike]));
    const stillThere = async () => (await listSas(vici)).filter((sa) => ours.has(sa.spis));
    for (let round = 0; round < 3; round++) {
      const left = await stillThere();
      if (left.length === 0) return 0;
      for (const listed of left) {
        const ike = ours.get(listed.spis)!;
        const id = { ikeVersion: 2, spiI: ike.spiInitiator, spiR: ike.spiResponder, initiator: ike.role === 'initiator' };
        await sender.send(encodeMessage({ layout, type: 'ikeDelete', attributes: [{ name: 'ikeId', value: id }] }));
      }
      await sender.drain();
    }
    return (await stillThere()).length;
  }
}
