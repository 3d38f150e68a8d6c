/**
 * A NETLINK_XFRM socket: dumps (GETSA/GETPOLICY with NLM_F_DUMP, read until NLMSG_DONE) and a
 * batch sender that packs many requests into few datagrams on one socket and collects each
 * request's ACK or errno by sequence number. The addon does the system calls; framing and
 * error handling are here.
 */
import { GatewayError } from '../../errors.js';
import { type OpenOptions, type XfrmNetlinkAddon, loadAddon } from './addon.js';
import { NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN } from './constants.js';
import { LITTLE_ENDIAN, type NetlinkAck, type NetlinkMessage, encodeMessage, kernelRefused, malformed, parseAck, setSequence, splitMessages, view } from './netlink.js';

export interface BatchResult extends NetlinkAck {
  /** Position of the request in the batch. */
  index: number;
  /** Messages the kernel answered a GET request with (e.g. the SA of a GETSA), before its ACK. */
  replies?: NetlinkMessage[];
}

export interface BatchOptions {
  /** Stop sending after the first window that had an error (the rest get no result). */
  stopOnError?: boolean;
  /** Most bytes per datagram (default 256 KiB). */
  datagramBytes?: number;
  /** Most requests in flight before their ACKs are read (default 1024). */
  window?: number;
}

export interface DumpResult {
  messages: NetlinkMessage[];
  /** The raw datagrams, in order (fixtures and debugging). */
  datagrams: Buffer[];
}

const DUMP_ATTEMPTS = 5;

function socketError(what: string, error: unknown): GatewayError {
  const err = error as NodeJS.ErrnoException;
  if (err?.code === 'EAGAIN' || err?.code === 'EWOULDBLOCK') {
    return new GatewayError('gateway.timeout', `no answer from the kernel's XFRM netlink socket (${what})`);
  }
  const code = err?.code ? ` [${err.code}]` : '';
  return new GatewayError('gateway.netlink', `${what} failed: ${err?.message ?? String(error)}${code}`, { cause: error });
}

/**
 * One view on `parts` when they lie side by side in one buffer (messages made one after the
 * other, see encodeMessage), so a datagram needs no copy; else undefined.
 */
function adjacent(parts: readonly Uint8Array[], bytes: number): Uint8Array | undefined {
  const first = parts[0]!;
  let end = first.byteOffset + first.byteLength;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.buffer !== first.buffer || part.byteOffset !== end) return undefined;
    end += part.byteLength;
  }
  return new Uint8Array(first.buffer, first.byteOffset, bytes);
}

export class XfrmSocket {
  private nextSeq: number;
  private closed = false;

  private constructor(
    private readonly addon: XfrmNetlinkAddon,
    private readonly fd: number,
    readonly portId: number,
    /** For messages: `xfrm:` or `xfrm:?netns=NAME`. */
    readonly where: string,
  ) {
    // Any start works: replies are matched by sequence number and our port id.
    this.nextSeq = (Date.now() & 0x3fff_ffff) + 1;
  }

  /** @throws GatewayError when the addon is missing or the socket cannot be opened. */
  static open(options: OpenOptions = {}): XfrmSocket {
    const addon = loadAddon();
    const where = options.netns === undefined ? 'xfrm:' : `xfrm:?netns=${options.netns}`;
    let fd: number;
    try {
      fd = addon.open({ timeoutMs: 30_000, ...options });
    } catch (error) {
      const err = error as NodeJS.ErrnoException;
      if (err.code === 'ENOENT' && options.netns !== undefined) {
        throw new GatewayError('gateway.no_netns', `no network namespace named ${options.netns}`, { cause: error });
      }
      if (err.code === 'EPERM' || err.code === 'EACCES') {
        throw new GatewayError('gateway.permission', `opening the XFRM netlink socket of ${where} needs CAP_NET_ADMIN${options.netns ? ' and CAP_SYS_ADMIN' : ''}`, {
          hint: 'run as root',
          cause: error,
        });
      }
      throw socketError(`opening the XFRM netlink socket of ${where}`, error);
    }
    return new XfrmSocket(addon, fd, addon.portId(fd), where);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.addon.close(this.fd);
  }

  private seq(): number {
    const seq = this.nextSeq;
    this.nextSeq = this.nextSeq >= 0xffff_fff0 ? 1 : this.nextSeq + 1;
    return seq;
  }

  private send(datagram: Uint8Array, what: string): void {
    try {
      this.addon.send(this.fd, datagram);
    } catch (error) {
      throw socketError(`sending ${what}`, error);
    }
  }

  private receive(what: string): Buffer {
    try {
      return this.addon.recv(this.fd, true)!;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOBUFS') {
        throw new GatewayError('gateway.netlink_overrun', `the kernel's answers to ${what} overflowed the socket's receive buffer`, { cause: error });
      }
      throw socketError(`receiving ${what}`, error);
    }
  }

  /**
   * Dumps one table: `type` is XFRM_MSG_GETSA or XFRM_MSG_GETPOLICY. Returns the messages in
   * the order the kernel sent them (NLMSG_DONE not included). A dump that a concurrent change
   * interrupted (NLM_F_DUMP_INTR) is repeated.
   */
  dump(type: number, what: string, body: Uint8Array = new Uint8Array(0)): DumpResult {
    for (let attempt = 1; ; attempt++) {
      const seq = this.seq();
      this.send(encodeMessage({ type, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, pid: 0 }, body), `the ${what} dump request`);
      const result: DumpResult = { messages: [], datagrams: [] };
      let interrupted = false;
      for (let done = false; !done; ) {
        const datagram = this.receive(`the ${what} dump`);
        let mine = false;
        for (const message of splitMessages(datagram)) {
          if (message.seq !== seq) continue; // a late answer to something earlier
          mine = true;
          if (message.flags & NLM_F_DUMP_INTR) interrupted = true;
          if (message.type === NLMSG_DONE) {
            const error = message.payload.byteLength >= 4 ? view(message.payload).getInt32(0, LITTLE_ENDIAN) : 0;
            if (error < 0) throw kernelRefused(`dump ${what}`, { errno: -error });
            done = true;
            break;
          }
          if (message.type === NLMSG_ERROR) {
            const ack = parseAck(message);
            throw kernelRefused(`dump ${what}`, ack);
          }
          if (message.type === NLMSG_NOOP) continue;
          if (message.type === NLMSG_OVERRUN) throw malformed(`NLMSG_OVERRUN in the ${what} dump`);
          result.messages.push(message);
        }
        if (mine) result.datagrams.push(datagram);
      }
      if (!interrupted) return result;
      if (attempt >= DUMP_ATTEMPTS) {
        throw new GatewayError('gateway.busy', `the ${what} dump of ${this.where} kept changing while it was read (${DUMP_ATTEMPTS} attempts)`);
      }
    }
  }

  /**
   * Sends every request (each encoded with NLM_F_ACK) and returns one result per request, in
   * request order: errno 0 for success, else the errno and the kernel's extended-ACK message.
   * The kernel handles the requests in order and goes on after a failed one, so without
   * stopOnError every request gets a result. Sequence numbers are assigned here, written into
   * the requests in place.
   */
  batch(requests: readonly Uint8Array[], options: BatchOptions = {}): BatchResult[] {
    const datagramBytes = options.datagramBytes ?? 256 * 1024;
    const windowSize = options.window ?? 1024;
    const results: BatchResult[] = [];
    let next = 0;
    while (next < requests.length) {
      // Number a window of requests and pack them into datagrams.
      const pending = new Map<number, number>();
      const datagrams: Uint8Array[] = [];
      let parts: Uint8Array[] = [];
      let bytes = 0;
      const flush = () => {
        if (parts.length === 0) return;
        datagrams.push(parts.length === 1 ? parts[0]! : (adjacent(parts, bytes) ?? Buffer.concat(parts, bytes)));
        parts = [];
        bytes = 0;
      };
      const end = Math.min(requests.length, next + windowSize);
      for (let i = next; i < end; i++) {
        const request = requests[i]!;
        const seq = this.seq();
        setSequence(request, seq);
        pending.set(seq, i);
        if (bytes + request.byteLength > datagramBytes) flush();
        parts.push(request);
        bytes += request.byteLength;
      }
      flush();
      for (const datagram of datagrams) this.send(datagram, 'a batch of requests');

      let failed = false;
      const replies = new Map<number, NetlinkMessage[]>();
      while (pending.size > 0) {
        const datagram = this.receive('a batch of requests');
        for (const message of splitMessages(datagram)) {
          if (message.type !== NLMSG_ERROR) {
            // The answer to a GET request comes before its ACK, with the request's number.
            if (pending.has(message.seq)) replies.set(message.seq, [...(replies.get(message.seq) ?? []), message]);
            continue;
          }
          const ack = parseAck(message);
          const index = pending.get(ack.seq);
          if (index === undefined) continue;
          pending.delete(ack.seq);
          const answer = replies.get(ack.seq);
          results.push(answer ? { index, ...ack, replies: answer } : { index, ...ack });
          if (ack.errno !== 0) failed = true;
        }
      }
      next = end;
      if (failed && options.stopOnError) break;
    }
    return results.sort((a, b) => a.index - b.index);
  }

  /** Sends one request and throws a GatewayError with the kernel's message if it failed. */
  request(message: Uint8Array, what: string): void {
    const [result] = this.batch([message]);
    if (!result) throw malformed(`no answer to the request to ${what}`);
    if (result.errno !== 0) throw kernelRefused(what, result);
  }
}
