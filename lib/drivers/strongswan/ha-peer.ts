/**
 * A passive HA peer: binds where a gateway charon's `charon.plugins.ha.remote` points, takes
 * its sync datagrams and keeps an HaTracker current (docs/strongswan.md §1, §11).
 *
 * The channel has no authentication of its own, so the peer binds only the address it is
 * given and drops every datagram that does not come from the gateway's HA address and port
 * 4510 (charon sends from a socket connected to us, so that is the only legitimate source).
 * It must run over loopback or a trusted link. It sends nothing: without a STATUS from us the
 * gateway takes every segment after its heartbeat timeout (2.1 s) and stays fully active.
 */
import { type Socket, createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { GatewayError, isCtxError } from '../../errors.js';
import { type DecodeOptions, type HaMessage, decodeMessage } from './codec.js';
import { HA_PORT } from './protocol.js';
import { type ApplyResult, HaTracker } from './tracker.js';

export interface HaPeerOptions {
  /** The local address to bind: the gateway's `ha.remote`. */
  bind: string;
  /** The gateway's HA address (its `ha.local`); datagrams from elsewhere are dropped. */
  gateway: string;
  /** Both default to 4510, the only port charon uses; other values are for tests. */
  port?: number;
  gatewayPort?: number;
  decode?: DecodeOptions;
  /** Called for every accepted datagram, after the tracker applied it. */
  onMessage?: (event: HaPeerEvent) => void;
  nowMs?: () => number;
}

export type HaPeerEvent =
  | { kind: 'message'; raw: Uint8Array; message: HaMessage; result: ApplyResult; atMs: number }
  | { kind: 'undecodable'; raw: Uint8Array; error: string; atMs: number };

export class HaPeer {
  readonly tracker: HaTracker;
  /** Datagrams dropped because they came from somewhere else than the gateway's HA socket. */
  rejected = 0;
  received = 0;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly socket: Socket,
    private readonly options: HaPeerOptions,
  ) {
    const now = options.nowMs ?? Date.now;
    this.tracker = new HaTracker(now);
    socket.on('message', (raw, from) => {
      if (from.address !== options.gateway || from.port !== (options.gatewayPort ?? HA_PORT)) {
        this.rejected++;
        return;
      }
      this.received++;
      const bytes = new Uint8Array(raw);
      const atMs = now();
      let event: HaPeerEvent;
      try {
        const message = decodeMessage(bytes, options.decode);
        event = { kind: 'message', raw: bytes, message, result: this.tracker.apply(message), atMs };
      } catch (error) {
        if (!isCtxError(error)) throw error;
        event = { kind: 'undecodable', raw: bytes, error: error.message, atMs };
      }
      options.onMessage?.(event);
      for (const wake of [...this.waiters]) wake();
    });
  }

  /**
   * @throws GatewayError `strongswan.bind_failed` when the address is not local or the port is taken
   */
  static async open(options: HaPeerOptions): Promise<HaPeer> {
    const socket = createSocket({ type: isIPv6(options.bind) ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: options.bind, port: options.port ?? HA_PORT, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      socket.close();
      throw new GatewayError('strongswan.bind_failed', `cannot listen for HA sync on ${options.bind} port ${options.port ?? HA_PORT}: ${error.code ?? error.message}`, {
        hint: 'bind the address the gateway has as charon.plugins.ha.remote, on this host',
        cause: error,
      });
    });
    return new HaPeer(socket, options);
  }

  /** Resolves once `condition` holds after some datagram (or now); rejects after `timeoutMs`. */
  async until(condition: (tracker: HaTracker) => boolean, timeoutMs: number, what = 'the expected HA messages'): Promise<void> {
    if (condition(this.tracker)) return;
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        if (!condition(this.tracker)) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new GatewayError('strongswan.timeout', `no ${what} from the gateway within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(wake);
    });
  }

  /** Sends one datagram to the gateway's HA socket. */
  async send(datagram: Uint8Array): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.socket.send(datagram, this.options.gatewayPort ?? HA_PORT, this.options.gateway, (error) => (error ? reject(error) : resolve())),
    );
  }

  async close(): Promise<void> {
    for (const wake of this.waiters) wake();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
