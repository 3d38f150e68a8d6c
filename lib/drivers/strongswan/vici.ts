/**
 * A minimal client for charon's vici control socket (the one swanctl uses), enough for what
 * the `strongswan:` driver asks a daemon: its release (`version`), its connection and CHILD
 * config names (`list-conns`) and its SAs (`list-sas`).
 *
 * Wire format (our own reading of the protocol): every packet is a u32 big-endian length and
 * that many bytes: a type byte, for named types a u8-length name, then a message. A message is
 * a sequence of elements: 1 section start (name), 2 section end, 3 key/value (name, u16-length
 * value), 4 list start (name), 5 list item (u16-length value), 6 list end. Requests are type 0,
 * their response 1 (2: unknown command); streamed listings arrive as events (7) between
 * registering for them (3, confirmed by 5; 6: unknown event) and the command's response.
 */
import { type Socket, createConnection } from 'node:net';
import { GatewayError } from '../../errors.js';

export type ViciValue = string | ViciValue[] | ViciSection;
export interface ViciSection {
  [key: string]: ViciValue;
}

const CMD_REQUEST = 0;
const CMD_RESPONSE = 1;
const CMD_UNKNOWN = 2;
const EVENT_REGISTER = 3;
const EVENT_UNREGISTER = 4;
const EVENT_CONFIRM = 5;
const EVENT_UNKNOWN = 6;
const EVENT = 7;

export function encodeViciMessage(section: ViciSection): Buffer {
  const out: Buffer[] = [];
  const name = (text: string) => {
    const b = Buffer.from(text, 'utf8');
    if (b.length > 255) throw new RangeError(`vici name too long: ${text}`);
    out.push(Buffer.from([b.length]), b);
  };
  const value = (text: string) => {
    const b = Buffer.from(text, 'utf8');
    const head = Buffer.alloc(2);
    head.writeUInt16BE(b.length);
    out.push(head, b);
  };
  const walk = (s: ViciSection) => {
    for (const [key, v] of Object.entries(s)) {
      if (typeof v === 'string') {
        out.push(Buffer.from([3]));
        name(key);
        value(v);
      } else if (Array.isArray(v)) {
        out.push(Buffer.from([4]));
        name(key);
        for (const item of v) {
          if (typeof item !== 'string') throw new TypeError('vici lists hold strings only');
          out.push(Buffer.from([5]));
          value(item);
        }
        out.push(Buffer.from([6]));
      } else {
        out.push(Buffer.from([1]));
        name(key);
        walk(v);
        out.push(Buffer.from([2]));
      }
    }
  };
  walk(section);
  return Buffer.concat(out);
}

/** @throws GatewayError `strongswan.vici_protocol` on malformed input */
export function decodeViciMessage(b: Buffer): ViciSection {
  const bad = () => new GatewayError('strongswan.vici_protocol', 'malformed vici message from charon');
  let at = 0;
  const name = () => {
    if (at + 1 > b.length) throw bad();
    const n = b[at] as number;
    if (at + 1 + n > b.length) throw bad();
    const text = b.toString('utf8', at + 1, at + 1 + n);
    at += 1 + n;
    return text;
  };
  const value = () => {
    if (at + 2 > b.length) throw bad();
    const n = b.readUInt16BE(at);
    if (at + 2 + n > b.length) throw bad();
    const text = b.toString('utf8', at + 2, at + 2 + n);
    at += 2 + n;
    return text;
  };
  const root: ViciSection = {};
  const stack: ViciSection[] = [root];
  let list: string[] | undefined;
  while (at < b.length) {
    const type = b[at++] as number;
    const top = stack[stack.length - 1] as ViciSection;
    switch (type) {
      case 1: {
        const section: ViciSection = {};
        top[name()] = section;
        stack.push(section);
        break;
      }
      case 2:
        if (stack.length === 1) throw bad();
        stack.pop();
        break;
      case 3: {
        const key = name();
        top[key] = value();
        break;
      }
      case 4:
        list = [];
        top[name()] = list;
        break;
      case 5:
        if (!list) throw bad();
        list.push(value());
        break;
      case 6:
        if (!list) throw bad();
        list = undefined;
        break;
      default:
        throw bad();
    }
  }
  if (stack.length !== 1 || list) throw bad();
  return root;
}

function packet(type: number, name: string | undefined, message?: ViciSection): Buffer {
  const parts: Buffer[] = [Buffer.from([type])];
  if (name !== undefined) parts.push(Buffer.from([Buffer.byteLength(name)]), Buffer.from(name));
  if (message) parts.push(encodeViciMessage(message));
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

interface Incoming {
  type: number;
  name?: string;
  message?: ViciSection;
}

/** One connection to charon's vici socket; requests run one at a time. */
export class ViciClient {
  private buffer = Buffer.alloc(0);
  private readonly queue: Incoming[] = [];
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  /** Events subscribed to with `subscribe`, delivered as they arrive instead of queued. */
  private readonly listeners = new Map<string, (message: ViciSection) => void>();

  private constructor(
    private readonly socket: Socket,
    readonly path: string,
  ) {
    socket.on('data', (data) => {
      this.buffer = Buffer.concat([this.buffer, data]);
      while (this.buffer.length >= 4) {
        const length = this.buffer.readUInt32BE(0);
        if (this.buffer.length < 4 + length) break;
        const body = this.buffer.subarray(4, 4 + length);
        this.buffer = this.buffer.subarray(4 + length);
        try {
          const incoming = parseIncoming(body);
          const listener = incoming.type === EVENT && incoming.name !== undefined ? this.listeners.get(incoming.name) : undefined;
          if (listener) listener(incoming.message ?? {});
          else this.queue.push(incoming);
        } catch (error) {
          this.failure = error as Error;
        }
      }
      this.wake();
    });
    socket.on('error', (error) => {
      this.failure = error;
      this.wake();
    });
    socket.on('close', () => {
      this.failure ??= new Error('charon closed the vici connection');
      this.wake();
    });
  }

  /** @throws GatewayError `strongswan.vici_unavailable` */
  static async connect(path: string, timeoutMs = 5000): Promise<ViciClient> {
    const socket = createConnection({ path });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    }).catch((error: NodeJS.ErrnoException) => {
      socket.destroy();
      throw new GatewayError('strongswan.vici_unavailable', `cannot reach charon's vici socket ${path}: ${error.code ?? error.message}`, {
        hint: 'pass vici=PATH in the strongswan: URI (the vici plugin must be loaded; swanctl uses the same socket)',
        cause: error,
      });
    });
    return new ViciClient(socket, path);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async next(timeoutMs: number): Promise<Incoming> {
    for (;;) {
      const item = this.queue.shift();
      if (item) return item;
      if (this.failure) throw new GatewayError('strongswan.vici_failed', `vici ${this.path}: ${this.failure.message}`, { cause: this.failure });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waiter = undefined;
          reject(new GatewayError('strongswan.vici_timeout', `vici ${this.path}: no answer from charon within ${timeoutMs} ms`));
        }, timeoutMs);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** A command and its response. @throws GatewayError */
  async request(command: string, message: ViciSection = {}, timeoutMs = 10_000): Promise<ViciSection> {
    this.socket.write(packet(CMD_REQUEST, command, message));
    for (;;) {
      const answer = await this.next(timeoutMs);
      if (answer.type === CMD_RESPONSE) return answer.message ?? {};
      if (answer.type === CMD_UNKNOWN) throw new GatewayError('strongswan.vici_unknown_command', `charon does not know the vici command ${command}`);
    }
  }

  /** A command whose results stream as `event` events; returns them and the response. */
  async stream(command: string, event: string, message: ViciSection = {}, timeoutMs = 10_000): Promise<{ events: ViciSection[]; response: ViciSection }> {
    this.socket.write(packet(EVENT_REGISTER, event));
    for (;;) {
      const answer = await this.next(timeoutMs);
      if (answer.type === EVENT_CONFIRM) break;
      if (answer.type === EVENT_UNKNOWN) throw new GatewayError('strongswan.vici_unknown_event', `charon does not know the vici event ${event}`);
    }
    this.socket.write(packet(CMD_REQUEST, command, message));
    const events: ViciSection[] = [];
    let response: ViciSection | undefined;
    while (response === undefined) {
      const answer = await this.next(timeoutMs);
      if (answer.type === EVENT && answer.name === event) events.push(answer.message ?? {});
      else if (answer.type === CMD_RESPONSE) response = answer.message ?? {};
      else if (answer.type === CMD_UNKNOWN) throw new GatewayError('strongswan.vici_unknown_command', `charon does not know the vici command ${command}`);
    }
    this.socket.write(packet(EVENT_UNREGISTER, event));
    for (;;) {
      const answer = await this.next(timeoutMs);
      if (answer.type === EVENT_CONFIRM || answer.type === EVENT_UNKNOWN) break;
    }
    return { events, response };
  }

  /**
   * Registers for `event` and hands each one to `listener` as it arrives, until the connection
   * closes. Use a connection of its own: its other requests would see nothing of these events.
   * @throws GatewayError `strongswan.vici_unknown_event`
   */
  async subscribe(event: string, listener: (message: ViciSection) => void, timeoutMs = 10_000): Promise<void> {
    this.listeners.set(event, listener);
    this.socket.write(packet(EVENT_REGISTER, event));
    for (;;) {
      const answer = await this.next(timeoutMs);
      if (answer.type === EVENT_CONFIRM) return;
      if (answer.type === EVENT_UNKNOWN) {
        this.listeners.delete(event);
        throw new GatewayError('strongswan.vici_unknown_event', `charon does not know the vici event ${event}`);
      }
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function parseIncoming(body: Buffer): Incoming {
  const type = body[0] as number;
  if (type === EVENT) {
    const n = body[1] as number;
    return { type, name: body.toString('utf8', 2, 2 + n), message: decodeViciMessage(body.subarray(2 + n)) };
  }
  if (type === CMD_RESPONSE) return { type, message: decodeViciMessage(body.subarray(1)) };
  return { type };
}

// ---------------------------------------------------------------------------------------------
// What the driver asks.

export interface DaemonConfig {
  /** The daemon's release, e.g. "5.9.8". */
  release: string;
  /** Connection name → its CHILD config names and the class of its first local/remote auth round. */
  connections: Map<string, { children: Set<string>; localAuth?: string; remoteAuth?: string }>;
}

type AuthMethodName = 'pubkey' | 'psk' | 'eap' | 'xauth';

/** vici's auth round classes (`local-1`/`remote-1` `class`) as the model names them. */
const AUTH_CLASSES: Readonly<Record<string, AuthMethodName>> = {
  any: 'pubkey',
  'public key': 'pubkey',
  'pre-shared key': 'psk',
  EAP: 'eap',
  XAuth: 'xauth',
};

/**
 * The authentication methods of a connection's first rounds, which HA never syncs; a class
 * ipsec-ctx does not know, or a connection the daemon lacks, counts as public key.
 */
export function authenticationOf(config: DaemonConfig, connection: string): { local: AuthMethodName; remote: AuthMethodName } {
  const conn = config.connections.get(connection);
  const method = (cls: string | undefined) => AUTH_CLASSES[cls ?? 'any'] ?? 'pubkey';
  return { local: method(conn?.localAuth), remote: method(conn?.remoteAuth) };
}

export interface ListedChildSa {
  name: string;
  state: string;
  spiIn: string;
  spiOut: string;
}

export interface ListedIkeSa {
  connection: string;
  state: string;
  /** SPIi | SPIr in hex. */
  spis: string;
  /** The peer's virtual IPs (`remote-vips`). */
  remoteVips: string[];
  children: ListedChildSa[];
}

const section = (v: ViciValue | undefined): ViciSection => (v !== undefined && typeof v === 'object' && !Array.isArray(v) ? v : {});
const text = (v: ViciValue | undefined): string => (typeof v === 'string' ? v : '');

export async function daemonConfig(vici: ViciClient): Promise<DaemonConfig> {
  const version = await vici.request('version');
  const { events } = await vici.stream('list-conns', 'list-conn');
  const connections: DaemonConfig['connections'] = new Map();
  for (const event of events) {
    for (const [name, raw] of Object.entries(event)) {
      const conn = section(raw);
      const localAuth = text(section(conn['local-1'])['class']);
      const remoteAuth = text(section(conn['remote-1'])['class']);
      connections.set(name, {
        children: new Set(Object.keys(section(conn['children']))),
        ...(localAuth ? { localAuth } : {}),
        ...(remoteAuth ? { remoteAuth } : {}),
      });
    }
  }
  return { release: text(version['version']), connections };
}

export async function listSas(vici: ViciClient): Promise<ListedIkeSa[]> {
  const { events } = await vici.stream('list-sas', 'list-sa', { noblock: 'yes' });
  const out: ListedIkeSa[] = [];
  for (const event of events) {
    for (const [connection, raw] of Object.entries(event)) {
      const ike = section(raw);
      const children = Object.values(section(ike['child-sas'])).map((c) => {
        const child = section(c);
        return { name: text(child['name']), state: text(child['state']), spiIn: text(child['spi-in']), spiOut: text(child['spi-out']) };
      });
      const vips = ike['remote-vips'];
      const remoteVips = Array.isArray(vips) ? vips.filter((v): v is string => typeof v === 'string') : [];
      out.push({ connection, state: text(ike['state']), spis: `${text(ike['initiator-spi'])}${text(ike['responder-spi'])}`, remoteVips, children });
    }
  }
  return out;
}
