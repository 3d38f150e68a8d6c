/**
 * Netlink framing: message headers, attributes (TLVs) and the kernel's error/ACK messages.
 * Nothing here knows about XFRM; sa.ts and policy.ts build and read the payloads.
 *
 * Struct fields are host-endian, as the kernel writes them; addresses, ports and SPIs inside
 * the payloads are in network order and handled where they are read.
 */
import { endianness } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { GatewayError } from '../../errors.js';
import { LAYOUT, NLA_ALIGNTO, NLMSG_ALIGNTO, align4 } from './layout.js';
import { NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_ERROR, NLMSGERR_ATTR_MISS_TYPE, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS } from './constants.js';

/** The kernel writes struct fields in host byte order. */
export const LITTLE_ENDIAN = endianness() === 'LE';

const HDR = LAYOUT.nlmsghdr;
const NLA = LAYOUT.nlattr;
/** nla_type carries two flag bits (NLA_F_NESTED, NLA_F_NET_BYTEORDER) above the type. */
const NLA_TYPE_MASK = 0x3fff;

let lastBytes: Uint8Array | undefined;
let lastView: DataView | undefined;

/**
 * A DataView on `bytes`. The parsers of nested structs ask for a view on the same payload
 * several times in a row, so the last one is reused (dumps of 100k SAs spent most of their
 * time making and collecting DataViews).
 */
export function view(bytes: Uint8Array): DataView {
  if (bytes !== lastBytes || lastView === undefined || lastView.buffer !== bytes.buffer) {
    lastView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    lastBytes = bytes;
  }
  return lastView;
}

let lastBufferBytes: Uint8Array | undefined;
let lastBuffer: ArrayBufferLike | undefined;
let lastBufferView: DataView | undefined;

/**
 * A DataView on the whole ArrayBuffer under `bytes`: read at `bytes.byteOffset + offset`, and
 * check lengths against `bytes` first (the view itself reaches past them). The dump parsers
 * use it: every message, attribute and nested struct of a datagram shares one view, where
 * view() makes one per payload (three per policy, a fifth of parsing a dump).
 */
export function bufferView(bytes: Uint8Array): DataView {
  // The same payload comes several times in a row (a struct and its nested structs), and
  // comparing it is cheaper than asking for its buffer.
  if (bytes === lastBufferBytes && lastBufferView !== undefined) return lastBufferView;
  lastBufferBytes = bytes;
  const { buffer } = bytes;
  if (buffer !== lastBuffer || lastBufferView === undefined) {
    lastBufferView = new DataView(buffer);
    lastBuffer = buffer;
  }
  return lastBufferView;
}

/** A plain Uint8Array copy of bytes [start, end), for what goes into the model (SPIs, keys). */
export function copyBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}

export function malformed(message: string): GatewayError {
  return new GatewayError('gateway.netlink_malformed', `malformed netlink message from the kernel: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Messages

export interface NetlinkHeader {
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

export interface NetlinkMessage extends NetlinkHeader {
  /** Everything after the 16-byte header (a view into the datagram). */
  payload: Uint8Array;
}

/**
 * Splits one received datagram into its messages. The payloads are plain Uint8Array views even
 * when the datagram is a Buffer: parsing cuts every attribute and address of a dump from them,
 * and a Buffer's subarray goes through Node's own constructor, which costs more.
 */
export function splitMessages(received: Uint8Array): NetlinkMessage[] {
  const datagram = received instanceof Buffer ? new Uint8Array(received.buffer, received.byteOffset, received.byteLength) : received;
  const messages: NetlinkMessage[] = [];
  const dv = view(datagram);
  let offset = 0;
  while (offset + HDR.size <= datagram.byteLength) {
    const length = dv.getUint32(offset + HDR.offsets.nlmsg_len, LITTLE_ENDIAN);
    if (length < HDR.size || offset + length > datagram.byteLength) {
      throw malformed(`message length ${length} at offset ${offset} of a ${datagram.byteLength}-byte datagram`);
    }
    messages.push({
      type: dv.getUint16(offset + HDR.offsets.nlmsg_type, LITTLE_ENDIAN),
      flags: dv.getUint16(offset + HDR.offsets.nlmsg_flags, LITTLE_ENDIAN),
      seq: dv.getUint32(offset + HDR.offsets.nlmsg_seq, LITTLE_ENDIAN),
      pid: dv.getUint32(offset + HDR.offsets.nlmsg_pid, LITTLE_ENDIAN),
      payload: datagram.subarray(offset + HDR.size, offset + length),
    });
    offset += align4(length);
  }
  if (offset < datagram.byteLength && datagram.byteLength - offset >= NLMSG_ALIGNTO) {
    throw malformed(`${datagram.byteLength - offset} stray bytes after the last message`);
  }
  return messages;
}

/** An attribute to put into a message: its type and its payload. */
export interface Attribute {
  type: number;
  data: Uint8Array;
}

/** Messages are cut from slabs of this size, in the order they are made. */
const SLAB_BYTES = 256 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

/**
 * `length` zeroed bytes for one message. A put of 100k SAs makes 200k messages: one
 * ArrayBuffer each cost more in allocation and garbage collection than writing them. So
 * messages come from shared slabs, each part used once (so still zero), and messages made one
 * after the other lie side by side: the batch sender sends a run of them as one datagram
 * without copying (socket.ts).
 */
function messageBytes(length: number): Uint8Array {
  if (length > SLAB_BYTES / 8) return new Uint8Array(length);
  if (slabUsed + length > slab.byteLength) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + length);
  slabUsed += length;
  return out;
}

/** One message: header, fixed payload (a struct) and attributes, each padded to 4 bytes. */
export function encodeMessage(header: NetlinkHeader, body: Uint8Array, attributes: readonly Attribute[] = []): Uint8Array {
  let length = HDR.size + align4(body.byteLength);
  for (const attribute of attributes) length += align4(NLA.size + attribute.data.byteLength);
  const out = messageBytes(length);
  const dv = view(out);
  dv.setUint32(HDR.offsets.nlmsg_len, length, LITTLE_ENDIAN);
  dv.setUint16(HDR.offsets.nlmsg_type, header.type, LITTLE_ENDIAN);
  dv.setUint16(HDR.offsets.nlmsg_flags, header.flags, LITTLE_ENDIAN);
  dv.setUint32(HDR.offsets.nlmsg_seq, header.seq >>> 0, LITTLE_ENDIAN);
  dv.setUint32(HDR.offsets.nlmsg_pid, header.pid >>> 0, LITTLE_ENDIAN);
  out.set(body, HDR.size);
  let offset = HDR.size + align4(body.byteLength);
  for (const attribute of attributes) {
    const attributeLength = NLA.size + attribute.data.byteLength;
    if (attributeLength > 0xffff) throw new RangeError(`netlink attribute ${attribute.type} is too long (${attributeLength} bytes)`);
    dv.setUint16(offset + NLA.offsets.nla_len, attributeLength, LITTLE_ENDIAN);
    dv.setUint16(offset + NLA.offsets.nla_type, attribute.type, LITTLE_ENDIAN);
    out.set(attribute.data, offset + NLA.size);
    offset += align4(attributeLength);
  }
  return out;
}

/** Sets the sequence number of an encoded message in place (the batch sender numbers them). */
export function setSequence(message: Uint8Array, seq: number): void {
  view(message).setUint32(HDR.offsets.nlmsg_seq, seq >>> 0, LITTLE_ENDIAN);
}

export function messageType(message: Uint8Array): number {
  return view(message).getUint16(HDR.offsets.nlmsg_type, LITTLE_ENDIAN);
}

// ---------------------------------------------------------------------------------------------
// Attributes

/**
 * Attributes by type (flag bits masked off) of bytes [start, end): the attributes after a
 * message's fixed struct are read without cutting them out first. A type that occurs twice is
 * malformed. Offsets in messages count from `start`.
 */
export function parseAttributes(bytes: Uint8Array, where: string, start = 0): Map<number, Uint8Array> {
  const attributes = new Map<number, Uint8Array>();
  const dv = bufferView(bytes);
  const base = bytes.byteOffset;
  const end = bytes.byteLength;
  let offset = start;
  while (offset + NLA.size <= end) {
    const length = dv.getUint16(base + offset + NLA.offsets.nla_len, LITTLE_ENDIAN);
    const type = dv.getUint16(base + offset + NLA.offsets.nla_type, LITTLE_ENDIAN) & NLA_TYPE_MASK;
    if (length < NLA.size || offset + length > end) {
      throw malformed(`${where}: attribute ${type} has length ${length} at offset ${offset - start} of ${end - start}`);
    }
    if (attributes.has(type)) throw malformed(`${where}: attribute ${type} occurs twice`);
    attributes.set(type, bytes.subarray(offset + NLA.size, offset + length));
    offset += align4(length);
  }
  if (offset < end && end - offset >= NLA_ALIGNTO) {
    throw malformed(`${where}: ${end - offset} stray bytes after the attributes`);
  }
  return attributes;
}

export function u32Attribute(type: number, value: number): Attribute {
  const data = new Uint8Array(4);
  view(data).setUint32(0, value >>> 0, LITTLE_ENDIAN);
  return { type, data };
}

export function readU32Attribute(data: Uint8Array, name: string): number {
  if (data.byteLength < 4) throw malformed(`${name} is ${data.byteLength} bytes, want 4`);
  return view(data).getUint32(0, LITTLE_ENDIAN);
}

// ---------------------------------------------------------------------------------------------
// Errors and ACKs

export interface NetlinkAck {
  /** The sequence number of the request this answers. */
  seq: number;
  /** 0 for success, else a positive errno. */
  errno: number;
  /** The kernel's extended-ACK message, when it gave one. */
  message?: string;
  /** Offset of the offending attribute in the request, when the kernel named one. */
  offset?: number;
  /** A required attribute that was missing. */
  missingType?: number;
}

/**
 * Reads an NLMSG_ERROR payload: `int error`, the request's header (NETLINK_CAP_ACK: without its
 * payload, unless the kernel could not cap it), then extended-ACK attributes when
 * NLM_F_ACK_TLVS is set.
 */
export function parseAck(message: NetlinkMessage): NetlinkAck {
  if (message.type !== NLMSG_ERROR) throw new TypeError('not an NLMSG_ERROR message');
  const { payload } = message;
  if (payload.byteLength < LAYOUT.nlmsgerr.size) throw malformed(`NLMSG_ERROR of ${payload.byteLength} bytes`);
  const dv = view(payload);
  const error = dv.getInt32(LAYOUT.nlmsgerr.offsets.error, LITTLE_ENDIAN);
  const requestOffset = LAYOUT.nlmsgerr.offsets.msg;
  const requestSeq = dv.getUint32(requestOffset + HDR.offsets.nlmsg_seq, LITTLE_ENDIAN);
  const ack: NetlinkAck = { seq: requestSeq, errno: error === 0 ? 0 : -error };
  if (message.flags & NLM_F_ACK_TLVS) {
    // Capped: only the request's header was echoed; otherwise the whole request.
    const requestLength = dv.getUint32(requestOffset + HDR.offsets.nlmsg_len, LITTLE_ENDIAN);
    const echoed = message.flags & NLM_F_CAPPED ? HDR.size : align4(requestLength);
    const start = requestOffset + echoed;
    if (start <= payload.byteLength) {
      const tlvs = parseAttributes(payload.subarray(start), 'extended ACK');
      const text = tlvs.get(NLMSGERR_ATTR_MSG);
      if (text && text.byteLength > 0) {
        const end = text.indexOf(0);
        ack.message = Buffer.from(text.buffer, text.byteOffset, end < 0 ? text.byteLength : end).toString('utf8');
      }
      const offs = tlvs.get(NLMSGERR_ATTR_OFFS);
      if (offs && offs.byteLength >= 4) ack.offset = view(offs).getUint32(0, LITTLE_ENDIAN);
      const miss = tlvs.get(NLMSGERR_ATTR_MISS_TYPE);
      if (miss && miss.byteLength >= 4) ack.missingType = view(miss).getUint32(0, LITTLE_ENDIAN);
    }
  }
  return ack;
}

const ERRNO_TEXT = getSystemErrorMap();

/** `EEXIST (file already exists)` for errno 17. */
export function describeErrno(errno: number): string {
  const entry = ERRNO_TEXT.get(-errno);
  return entry ? `${entry[0]} (${entry[1]})` : `errno ${errno}`;
}

export function errnoName(errno: number): string {
  return ERRNO_TEXT.get(-errno)?.[0] ?? `errno ${errno}`;
}

/**
 * The kernel refused a request: the error says what we asked (`what`), the kernel's own words
 * when it gave some (extended ACK), and the errno.
 */
export function kernelRefused(what: string, ack: Pick<NetlinkAck, 'errno' | 'message'>): GatewayError {
  const reason = ack.message ? `${ack.message} [${errnoName(ack.errno)}]` : describeErrno(ack.errno);
  return new GatewayError('gateway.kernel_refused', `the kernel refused to ${what}: ${reason}`);
}
