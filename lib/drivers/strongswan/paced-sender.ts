/**
 * Sends HA datagrams to a target charon no faster than it applies them (docs/strongswan.md
 * §8, put, "Pacing").
 *
 * HA is UDP without acknowledgements. charon reads its HA socket with one thread that applies
 * each datagram in turn (deriving keys, installing CHILD SAs with their policies and routes),
 * and the socket keeps the kernel's default receive buffer (about 208 KiB). A burst larger
 * than that is dropped without a trace, and a dropped IKE_MID or CHILD_ADD leaves an SA that
 * looks fine and is not: measured with 1000 tunnels on a busy machine, most puts lost
 * hundreds of datagrams.
 *
 * So the sender waits for the target. After every FENCE_EVERY datagrams it sends a fence: a
 * SEGMENT_TAKE for a segment the target does not hold (a put takes all of them away first),
 * which changes nothing but which charon logs as "remote node takes segment N" once it got
 * there. charon's log reaches ipsec-ctx as vici `log` events (charon sends every level-1
 * line to a subscriber), so a fence seen there means every datagram before it was applied.
 * No more than MAX_UNCONFIRMED fences are ever outstanding: a few dozen datagrams, far below
 * the buffer. The same events carry charon's refusals ("HA CHILD_SA installation failed",
 * "HA is missing nodes peer configuration", ...), which end the sync at once.
 */
import { GatewayError } from '../../errors.js';
import { encodeMessage } from './codec.js';
import type { HaPeer } from './ha-peer.js';
import type { Layout } from './protocol.js';
import { ViciClient, type ViciSection } from './vici.js';

const FENCE_EVERY = 16;
const MAX_UNCONFIRMED = 2;
const SEGMENTS = 16;

/** charon's log lines that mean it refused a synced datagram (ha_dispatcher.c). */
const REFUSAL = /^HA .*(failed|missing)|^IKE_SA for HA .* not found|^passive HA IKE_SA to update not found|^HA message has version/;
const FENCE = /^remote node takes segment (\d+)$/;

export class PacedHaSender {
  /** Segment numbers of the fences sent and not yet seen in charon's log, oldest first. */
  private readonly pending: number[] = [];
  private sinceFence = 0;
  private fences = 0;
  private wake: (() => void) | undefined;
  /** charon's refusals, in its words. */
  readonly refusals: string[] = [];
  /** Fences overtaken by a later one: the datagrams between them may have been dropped. */
  lostFences = 0;

  private constructor(
    private readonly log: ViciClient,
    private readonly peer: HaPeer,
    private readonly layout: Layout,
    private readonly timeoutMs: number,
  ) {}

  /** Subscribes to charon's log on a vici connection of its own. @throws GatewayError */
  static async open(viciPath: string, peer: HaPeer, layout: Layout, timeoutMs: number): Promise<PacedHaSender> {
    const log = await ViciClient.connect(viciPath);
    const sender = new PacedHaSender(log, peer, layout, timeoutMs);
    try {
      await log.subscribe('log', (event) => sender.onLogLine(event));
    } catch (error) {
      log.close();
      throw error;
    }
    return sender;
  }

  private onLogLine(event: ViciSection): void {
    const line = typeof event['msg'] === 'string' ? event['msg'] : '';
    const fence = FENCE.exec(line);
    if (fence) {
      const index = this.pending.indexOf(Number(fence[1]));
      if (index < 0) return; // someone else's SEGMENT_TAKE
      this.lostFences += index;
      this.pending.splice(0, index + 1);
    } else if (REFUSAL.test(line)) {
      this.refusals.push(line);
    } else {
      return;
    }
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /**
   * Sends SEGMENT_TAKE 0 (all segments) and waits until the target applied it: from then on
   * its segments are inactive, and SAs synced into them stay PASSIVE until handed back.
   * @throws GatewayError
   */
  async takeAllSegments(): Promise<void> {
    await this.fence(0, 0);
  }

  /** Forgets refusals and lost fences seen so far, e.g. to send a rollback after a failed sync. */
  startOver(): void {
    this.refusals.length = 0;
    this.lostFences = 0;
  }

  /** Sends one datagram; waits for the target first when too much is still unapplied. @throws GatewayError */
  async send(datagram: Uint8Array): Promise<void> {
    this.check();
    await this.peer.send(datagram);
    if (++this.sinceFence >= FENCE_EVERY) await this.fence(this.nextFenceSegment(), MAX_UNCONFIRMED);
  }

  /** Waits until the target applied everything sent so far. @throws GatewayError */
  async drain(): Promise<void> {
    await this.fence(this.nextFenceSegment(), 0);
  }

  /** Fences cycle through segments 1..16, so that each outstanding one is told apart. */
  private nextFenceSegment(): number {
    return (this.fences++ % SEGMENTS) + 1;
  }

  /** Sends a SEGMENT_TAKE fence, then waits until at most `unconfirmed` fences are outstanding. */
  private async fence(segment: number, unconfirmed: number): Promise<void> {
    this.pending.push(segment);
    this.sinceFence = 0;
    await this.peer.send(encodeMessage({ layout: this.layout, type: 'segmentTake', attributes: [{ name: 'segment', value: segment }] }));
    const deadline = Date.now() + this.timeoutMs;
    while (this.pending.length > unconfirmed) {
      this.check();
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new GatewayError('strongswan.sync_stalled', `the target charon applied no HA datagram for ${this.timeoutMs} ms (its log shows no progress)`, {
          hint: "check the target's log; is its HA socket bound where ipsec-ctx sends?",
        });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.check();
  }

  /** @throws GatewayError when charon refused something or datagrams may have been lost */
  private check(): void {
    if (this.refusals.length > 0) {
      throw new GatewayError('strongswan.sync_refused', `the target charon refused the sync: "${this.refusals[0]}"${this.refusals.length > 1 ? ` (and ${this.refusals.length - 1} more)` : ''}`);
    }
    if (this.lostFences > 0) {
      throw new GatewayError('strongswan.sync_lost', `${this.lostFences} HA fence(s) never reached the target charon, so datagrams sent with them may be lost too`);
    }
  }

  close(): void {
    this.log.close();
  }
}
