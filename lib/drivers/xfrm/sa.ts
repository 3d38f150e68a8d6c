/**
 * SAs: struct xfrm_usersa_info with its attributes (XFRM_MSG_NEWSA, also what a GETSA dump
 * returns), struct xfrm_usersa_id (DELSA), and the conversion to and from the model's ChildSa.
 *
 * Reading goes in two steps: parseSaMessage gives a KernelSa that holds every field and
 * attribute the kernel sent, then saToModel turns it into a ChildSa and refuses anything the
 * model has no field for (a security context, an output mark, TFC padding, an offload device,
 * an attribute this code does not know...) with a GatewayError naming it, so that nothing is
 * dropped without the user knowing. Statistics that cannot be written back (xfrm_stats,
 * XFRMA_LASTUSED) are kept in the KernelSa and not carried.
 */
import { GatewayError } from '../../errors.js';
import { type ChildSa, STATE_FLAGS } from '../../model/child-sa.js';
import { familyOf } from '../../model/address.js';
import { familyName, familyNumber, isZeroAddress, readAddress, writeAddress } from './address.js';
import { type KernelCrypto, cryptoAttributes, cryptoToModel, parseCrypto } from './algorithms.js';
import {
  XFRM_SA_XFLAG,
  AF_UNSPEC,
  IPPROTO,
  NLM_F_ACK,
  NLM_F_REQUEST,
  UDP_ENCAP_ESPINUDP,
  XFRMA,
  XFRMA_NAME,
  XFRM_MODE,
  XFRM_MSG,
  XFRM_STATE,
} from './constants.js';
import { LAYOUT } from './layout.js';
import {
  type KernelLifetimeCfg,
  type KernelLifetimeCur,
  lifetimeCfgFromModel,
  lifetimeCurFromModel,
  lifetimeToModel,
  parseLifetimeCfg,
  parseLifetimeCur,
  writeLifetimeCfg,
  writeLifetimeCur,
} from './lifetime.js';
import { type Attribute, LITTLE_ENDIAN, type NetlinkMessage, encodeMessage, malformed, parseAttributes, readU32Attribute, u32Attribute, view } from './netlink.js';
import { type KernelReplay, encodeReplayEsn, encodeReplayState, parseReplayEsn, parseReplayState, sequenceFromModel, sequenceToModel } from './replay.js';
import {
  type InterfaceNames,
  type KernelSelector,
  cannotHold,
  emptySelector,
  matchesAnything,
  parseSelector,
  selectorFromModel,
  selectorToModel,
  writeSelector,
} from './selector.js';

const INFO = LAYOUT.xfrm_usersa_info;
const ID = LAYOUT.xfrm_id;
const SAID = LAYOUT.xfrm_usersa_id;
const ENCAP = LAYOUT.xfrm_encap_tmpl;
const MARK = LAYOUT.xfrm_mark;

// ---------------------------------------------------------------------------------------------
// Kernel records

export interface KernelId {
  daddr: Uint8Array;
  /** Network order, as on the wire. */
  spi: Uint8Array;
  proto: number;
}

export interface KernelStats {
  replayWindow: number;
  replay: number;
  integrityFailed: number;
}

export interface KernelUsersaInfo {
  sel: KernelSelector;
  id: KernelId;
  saddr: Uint8Array;
  lft: KernelLifetimeCfg;
  curlft: KernelLifetimeCur;
  stats: KernelStats;
  seq: number;
  reqid: number;
  family: number;
  mode: number;
  replayWindow: number;
  flags: number;
}

export interface KernelEncap {
  type: number;
  sport: number;
  dport: number;
  oa: Uint8Array;
}

export interface KernelMark {
  value: number;
  mask: number;
}

/** Everything one SA message carried. */
export interface KernelSa {
  info: KernelUsersaInfo;
  crypto: KernelCrypto;
  replay?: KernelReplay;
  encap?: KernelEncap;
  mark?: KernelMark;
  /** XFRMA_SET_MARK with XFRMA_SET_MARK_MASK (the kernel's default mask is all ones). */
  outputMark?: KernelMark;
  ifId?: number;
  extraFlags?: number;
  /** XFRMA_SA_DIR (kernel 6.10 and later): 1 in, 2 out. */
  direction?: number;
  /** XFRMA_LASTUSED: seconds since the epoch of the last packet (statistics, not carried). */
  lastUsed?: bigint;
  /** Attributes present that the model cannot hold, by name. */
  unsupported: string[];
}

/** Attributes an SA message may carry that saToModel reads (or ignores on purpose). */
const SA_ATTRIBUTES_HANDLED = new Set<number>([
  XFRMA.ALG_AEAD,
  XFRMA.ALG_CRYPT,
  XFRMA.ALG_AUTH,
  XFRMA.ALG_AUTH_TRUNC,
  XFRMA.ALG_COMP,
  XFRMA.ENCAP,
  XFRMA.REPLAY_VAL,
  XFRMA.REPLAY_ESN_VAL,
  XFRMA.LTIME_VAL,
  XFRMA.MARK,
  XFRMA.SET_MARK,
  XFRMA.SET_MARK_MASK,
  XFRMA.IF_ID,
  XFRMA.SA_EXTRA_FLAGS,
  XFRMA.SA_DIR,
  XFRMA.LASTUSED,
  XFRMA.PAD,
]);

// ---------------------------------------------------------------------------------------------
// Parsing, one function per struct

/**
 * The SPI is a view, like the addresses: only an SA's reaches the model, and saToModel copies
 * it there; every policy template has one too, nearly always zero.
 */
export function parseId(bytes: Uint8Array, offset: number): KernelId {
  return {
    daddr: bytes.subarray(offset + ID.offsets.daddr, offset + ID.offsets.daddr + 16),
    spi: bytes.subarray(offset + ID.offsets.spi, offset + ID.offsets.spi + 4),
    proto: bytes[offset + ID.offsets.proto]!,
  };
}

export function parseUsersaInfo(bytes: Uint8Array): KernelUsersaInfo {
  if (bytes.byteLength < INFO.size) throw malformed(`xfrm_usersa_info is ${bytes.byteLength} bytes, want ${INFO.size}`);
  const dv = view(bytes);
  const o = INFO.offsets;
  const stats = LAYOUT.xfrm_stats.offsets;
  return {
    sel: parseSelector(bytes, o.sel),
    id: parseId(bytes, o.id),
    saddr: bytes.subarray(o.saddr, o.saddr + 16),
    lft: parseLifetimeCfg(bytes, o.lft),
    curlft: parseLifetimeCur(bytes, o.curlft),
    stats: {
      replayWindow: dv.getUint32(o.stats + stats.replay_window, LITTLE_ENDIAN),
      replay: dv.getUint32(o.stats + stats.replay, LITTLE_ENDIAN),
      integrityFailed: dv.getUint32(o.stats + stats.integrity_failed, LITTLE_ENDIAN),
    },
    seq: dv.getUint32(o.seq, LITTLE_ENDIAN),
    reqid: dv.getUint32(o.reqid, LITTLE_ENDIAN),
    family: dv.getUint16(o.family, LITTLE_ENDIAN),
    mode: dv.getUint8(o.mode),
    replayWindow: dv.getUint8(o.replay_window),
    flags: dv.getUint8(o.flags),
  };
}

export function parseEncap(bytes: Uint8Array): KernelEncap {
  if (bytes.byteLength < ENCAP.size) throw malformed(`XFRMA_ENCAP is ${bytes.byteLength} bytes, want ${ENCAP.size}`);
  const dv = view(bytes);
  return {
    type: dv.getUint16(ENCAP.offsets.encap_type, LITTLE_ENDIAN),
    sport: dv.getUint16(ENCAP.offsets.encap_sport, false),
    dport: dv.getUint16(ENCAP.offsets.encap_dport, false),
    oa: bytes.subarray(ENCAP.offsets.encap_oa, ENCAP.offsets.encap_oa + 16),
  };
}

export function parseMark(bytes: Uint8Array): KernelMark {
  if (bytes.byteLength < MARK.size) throw malformed(`XFRMA_MARK is ${bytes.byteLength} bytes, want ${MARK.size}`);
  const dv = view(bytes);
  return { value: dv.getUint32(MARK.offsets.v, LITTLE_ENDIAN), mask: dv.getUint32(MARK.offsets.m, LITTLE_ENDIAN) };
}

/** An XFRM_MSG_NEWSA message (a dump entry or a request) with all its attributes. */
export function parseSaMessage(message: Pick<NetlinkMessage, 'payload'>): KernelSa {
  const info = parseUsersaInfo(message.payload);
  const attributes = parseAttributes(message.payload.subarray(INFO.size), 'SA message');
  const sa: KernelSa = { info, crypto: parseCrypto(attributes), unsupported: [] };
  let data;
  if ((data = attributes.get(XFRMA.REPLAY_ESN_VAL))) sa.replay = { kind: 'esn', state: parseReplayEsn(data) };
  else if ((data = attributes.get(XFRMA.REPLAY_VAL))) sa.replay = { kind: 'legacy', window: info.replayWindow, state: parseReplayState(data) };
  if ((data = attributes.get(XFRMA.ENCAP))) sa.encap = parseEncap(data);
  if ((data = attributes.get(XFRMA.MARK))) sa.mark = parseMark(data);
  if ((data = attributes.get(XFRMA.SET_MARK))) {
    const mask = attributes.get(XFRMA.SET_MARK_MASK);
    sa.outputMark = { value: readU32Attribute(data, 'XFRMA_SET_MARK'), mask: mask ? readU32Attribute(mask, 'XFRMA_SET_MARK_MASK') : 0xffff_ffff };
  }
  if ((data = attributes.get(XFRMA.IF_ID))) sa.ifId = readU32Attribute(data, 'XFRMA_IF_ID');
  if ((data = attributes.get(XFRMA.SA_EXTRA_FLAGS))) sa.extraFlags = readU32Attribute(data, 'XFRMA_SA_EXTRA_FLAGS');
  if ((data = attributes.get(XFRMA.SA_DIR))) {
    if (data.byteLength < 1) throw malformed('XFRMA_SA_DIR is empty');
    sa.direction = data[0]!;
  }
  if ((data = attributes.get(XFRMA.LASTUSED))) {
    if (data.byteLength < 8) throw malformed('XFRMA_LASTUSED is not 8 bytes');
    sa.lastUsed = view(data).getBigUint64(0, LITTLE_ENDIAN);
  }
  if ((data = attributes.get(XFRMA.LTIME_VAL))) info.curlft = parseLifetimeCur(data);
  for (const [type, value] of attributes) {
    if (SA_ATTRIBUTES_HANDLED.has(type)) continue;
    // Some attributes are harmless when they carry a zero (e.g. a zero NAT keepalive interval).
    if (value.every((byte) => byte === 0) && (type === XFRMA.NAT_KEEPALIVE_INTERVAL || type === XFRMA.MTIMER_THRESH || type === XFRMA.TFCPAD)) continue;
    sa.unsupported.push(XFRMA_NAME[type] ?? `attribute ${type}`);
  }
  return sa;
}

// ---------------------------------------------------------------------------------------------
// Kernel record -> model

const PROTOCOLS: Readonly<Record<number, ChildSa['protocol']>> = { [IPPROTO.ESP]: 'esp', [IPPROTO.AH]: 'ah', [IPPROTO.COMP]: 'ipcomp' };
const MODES: Readonly<Record<number, ChildSa['mode']>> = {
  [XFRM_MODE.TRANSPORT]: 'transport',
  [XFRM_MODE.TUNNEL]: 'tunnel',
  [XFRM_MODE.BEET]: 'beet',
};
const MODE_NUMBERS: Readonly<Record<ChildSa['mode'], number>> = { transport: XFRM_MODE.TRANSPORT, tunnel: XFRM_MODE.TUNNEL, beet: XFRM_MODE.BEET };
const PROTOCOL_NUMBERS: Readonly<Record<ChildSa['protocol'], number>> = { esp: IPPROTO.ESP, ah: IPPROTO.AH, ipcomp: IPPROTO.COMP };

export const protocolName = (proto: number): ChildSa['protocol'] | undefined => PROTOCOLS[proto];
export const protocolNumber = (protocol: ChildSa['protocol']): number => PROTOCOL_NUMBERS[protocol];
export const modeName = (mode: number): ChildSa['mode'] | undefined => MODES[mode];
export const modeNumber = (mode: ChildSa['mode']): number => MODE_NUMBERS[mode];

export const spiHex = (spi: Uint8Array): string =>
  spi.byteLength === 4 ? (((spi[0]! << 24) | (spi[1]! << 16) | (spi[2]! << 8) | spi[3]!) >>> 0).toString(16).padStart(8, '0') : Buffer.from(spi).toString('hex');

/** "esp SA c0000001 to 192.0.2.1", for messages. */
export function describeKernelSa(info: KernelUsersaInfo): string {
  const family = familyName(info.family);
  const protocol = PROTOCOLS[info.id.proto] ?? `protocol ${info.id.proto}`;
  const destination = family ? readAddress(info.id.daddr, 0, family) : '?';
  return `${protocol} SA ${spiHex(info.id.spi)} to ${destination}`;
}

/**
 * SAs the kernel makes by itself: an IPComp tunnel SA gets an IPIP (IPv4) or IPv6-in-IPv6 SA
 * whose SPI is its source address (net/xfrm/xfrm_ipcomp.c, ipcomp_tunnel_attach). They come
 * back when the IPComp SA is installed again, so they are not state to carry.
 */
export function isKernelMadeTunnelSa(sa: KernelSa): boolean {
  return sa.info.id.proto === IPPROTO.IPIP || sa.info.id.proto === IPPROTO.IPV6;
}

export interface SaToModelOptions {
  id: string;
  direction: ChildSa['direction'];
  interfaces?: InterfaceNames;
}

export function saToModel(sa: KernelSa, options: SaToModelOptions): ChildSa {
  const { info } = sa;
  const owner = describeKernelSa(info);
  if (sa.unsupported.length > 0) throw cannotHold(owner, sa.unsupported.join(', '));
  const protocol = PROTOCOLS[info.id.proto];
  if (!protocol) throw cannotHold(owner, `IP protocol ${info.id.proto}`);
  const family = familyName(info.family);
  if (!family) throw cannotHold(owner, `address family ${info.family}`);
  const mode = MODES[info.mode];
  if (!mode) throw cannotHold(owner, `mode ${info.mode}`);
  const extraFlags = sa.extraFlags ?? 0;
  if (extraFlags & ~XFRM_SA_XFLAG.DONT_ENCAP_DSCP) throw cannotHold(owner, `extra flags 0x${extraFlags.toString(16)} (XFRMA_SA_EXTRA_FLAGS)`);
  if (!sa.replay) throw malformed(`${owner}: no replay state`);

  const flags: ChildSa['flags'] = [];
  STATE_FLAGS.forEach((name, bit) => {
    if (info.flags & (1 << bit)) flags.push(name);
  });
  const known = (1 << STATE_FLAGS.length) - 1;
  if (info.flags & ~known & ~XFRM_STATE.ESN) throw cannotHold(owner, `state flags 0x${info.flags.toString(16)}`);
  if (extraFlags & XFRM_SA_XFLAG.DONT_ENCAP_DSCP) flags.push('dont-encap-dscp');

  const child: ChildSa = {
    id: options.id,
    direction: options.direction,
    protocol,
    spi: new Uint8Array(info.id.spi), // a copy: the model must not hold on to the datagram
    family,
    source: readAddress(info.saddr, 0, family),
    destination: readAddress(info.id.daddr, 0, family),
    mode,
    reqid: info.reqid,
    crypto: cryptoToModel(sa.crypto, owner),
    sequence: sequenceToModel(sa.replay, (info.flags & XFRM_STATE.ESN) !== 0, owner),
    lifetime: lifetimeToModel(info.lft, info.curlft, owner),
    flags,
  };
  if (sa.encap) {
    if (sa.encap.type !== UDP_ENCAP_ESPINUDP) throw cannotHold(owner, `encapsulation type ${sa.encap.type} (only espinudp is carried)`);
    child.encapsulation = { type: 'espinudp', sourcePort: sa.encap.sport, destinationPort: sa.encap.dport };
    if (!isZeroAddress(sa.encap.oa, 0)) child.encapsulation.originalAddress = readAddress(sa.encap.oa, 0, family);
  }
  if (sa.mark) child.mark = { value: sa.mark.value, mask: sa.mark.mask };
  // Value and mask both zero is no output mark (the kernel does not dump one).
  if (sa.outputMark && (sa.outputMark.value !== 0 || sa.outputMark.mask !== 0)) child.outputMark = { value: sa.outputMark.value, mask: sa.outputMark.mask };
  if (sa.ifId !== undefined) child.ifId = sa.ifId;
  // The kernel fills in the SA's family when the selector has none (copy_from_user_state), so
  // a selector that is all zeros with that family is the one an SA without selector gets.
  const unsetFamily = info.flags & XFRM_STATE.AF_UNSPEC ? AF_UNSPEC : info.family;
  if (!(matchesAnything(info.sel) && info.sel.family === unsetFamily)) {
    child.selector = selectorToModel(info.sel, { owner, ...(options.interfaces ? { interfaces: options.interfaces } : {}) });
  }
  return child;
}

// ---------------------------------------------------------------------------------------------
// Model -> messages

export function describeChild(child: Pick<ChildSa, 'protocol' | 'spi' | 'destination'>): string {
  return `${child.protocol} SA ${spiHex(child.spi)} to ${child.destination}`;
}

export interface NewSaOptions {
  /** Send the usage so far (XFRMA_LTIME_VAL: bytes, packets, add and use time); default true. */
  currentLifetime?: boolean;
  interfaces?: InterfaceNames;
}

export function writeUsersaInfo(out: Uint8Array, info: KernelUsersaInfo): void {
  const dv = view(out);
  const o = INFO.offsets;
  const stats = LAYOUT.xfrm_stats.offsets;
  writeSelector(out, o.sel, info.sel);
  out.set(info.id.daddr, o.id + ID.offsets.daddr);
  out.set(info.id.spi, o.id + ID.offsets.spi);
  dv.setUint8(o.id + ID.offsets.proto, info.id.proto);
  out.set(info.saddr, o.saddr);
  writeLifetimeCfg(out, o.lft, info.lft);
  writeLifetimeCur(out, o.curlft, info.curlft);
  dv.setUint32(o.stats + stats.replay_window, info.stats.replayWindow, LITTLE_ENDIAN);
  dv.setUint32(o.stats + stats.replay, info.stats.replay, LITTLE_ENDIAN);
  dv.setUint32(o.stats + stats.integrity_failed, info.stats.integrityFailed, LITTLE_ENDIAN);
  dv.setUint32(o.seq, info.seq >>> 0, LITTLE_ENDIAN);
  dv.setUint32(o.reqid, info.reqid >>> 0, LITTLE_ENDIAN);
  dv.setUint16(o.family, info.family, LITTLE_ENDIAN);
  dv.setUint8(o.mode, info.mode);
  dv.setUint8(o.replay_window, info.replayWindow);
  dv.setUint8(o.flags, info.flags);
}

export function encodeEncap(encap: KernelEncap): Uint8Array {
  const out = new Uint8Array(ENCAP.size);
  const dv = view(out);
  dv.setUint16(ENCAP.offsets.encap_type, encap.type, LITTLE_ENDIAN);
  dv.setUint16(ENCAP.offsets.encap_sport, encap.sport, false);
  dv.setUint16(ENCAP.offsets.encap_dport, encap.dport, false);
  out.set(encap.oa, ENCAP.offsets.encap_oa);
  return out;
}

export function encodeMark(mark: KernelMark): Uint8Array {
  const out = new Uint8Array(MARK.size);
  const dv = view(out);
  dv.setUint32(MARK.offsets.v, mark.value >>> 0, LITTLE_ENDIAN);
  dv.setUint32(MARK.offsets.m, mark.mask >>> 0, LITTLE_ENDIAN);
  return out;
}

function checkAddress(address: string, family: ChildSa['family'], owner: string, what: string): void {
  if (familyOf(address) !== family) throw new GatewayError('gateway.bad_address', `${owner}: ${what} ${address} is not an ${family} address`);
}

/** The usersa_info and attributes of an XFRM_MSG_NEWSA that installs `child`. */
export function saFromModel(child: ChildSa, options: NewSaOptions = {}): { info: KernelUsersaInfo; attributes: Attribute[] } {
  const owner = describeChild(child);
  checkAddress(child.source, child.family, owner, 'source');
  checkAddress(child.destination, child.family, owner, 'destination');
  const replay = sequenceFromModel(child.sequence, owner);
  let flags = 0;
  let extraFlags = 0;
  for (const flag of child.flags) {
    if (flag === 'dont-encap-dscp') extraFlags |= XFRM_SA_XFLAG.DONT_ENCAP_DSCP;
    else flags |= 1 << STATE_FLAGS.indexOf(flag);
  }
  if (child.sequence.esn) flags |= XFRM_STATE.ESN;

  const daddr = new Uint8Array(16);
  writeAddress(daddr, 0, child.destination);
  const saddr = new Uint8Array(16);
  writeAddress(saddr, 0, child.source);
  const info: KernelUsersaInfo = {
    sel: child.selector
      ? selectorFromModel(child.selector, { owner, ...(options.interfaces ? { interfaces: options.interfaces } : {}) })
      : // The selector the kernel gives an SA without one (see saToModel).
        emptySelector(child.flags.includes('af-unspec') ? AF_UNSPEC : familyNumber(child.family)),
    id: { daddr, spi: child.spi, proto: PROTOCOL_NUMBERS[child.protocol] },
    saddr,
    lft: lifetimeCfgFromModel(child.lifetime, owner),
    curlft: lifetimeCurFromModel(child.lifetime),
    stats: { replayWindow: 0, replay: 0, integrityFailed: 0 },
    seq: 0,
    reqid: child.reqid,
    family: familyNumber(child.family),
    mode: MODE_NUMBERS[child.mode],
    // With XFRMA_REPLAY_ESN_VAL the window travels there and this u8 stays 0 (as iproute2 and
    // strongSwan send it).
    replayWindow: replay.kind === 'legacy' ? replay.window : 0,
    flags,
  };

  const attributes: Attribute[] = cryptoAttributes(child.crypto, owner);
  attributes.push(
    replay.kind === 'legacy'
      ? { type: XFRMA.REPLAY_VAL, data: encodeReplayState(replay.state) }
      : { type: XFRMA.REPLAY_ESN_VAL, data: encodeReplayEsn(replay.state) },
  );
  if (options.currentLifetime ?? true) {
    const cur = new Uint8Array(LAYOUT.xfrm_lifetime_cur.size);
    writeLifetimeCur(cur, 0, info.curlft);
    attributes.push({ type: XFRMA.LTIME_VAL, data: cur });
  }
  if (child.encapsulation) {
    const oa = new Uint8Array(16);
    if (child.encapsulation.originalAddress !== undefined) {
      checkAddress(child.encapsulation.originalAddress, child.family, owner, 'NAT original address');
      writeAddress(oa, 0, child.encapsulation.originalAddress);
    }
    attributes.push({
      type: XFRMA.ENCAP,
      data: encodeEncap({ type: UDP_ENCAP_ESPINUDP, sport: child.encapsulation.sourcePort, dport: child.encapsulation.destinationPort, oa }),
    });
  }
  if (child.mark) attributes.push({ type: XFRMA.MARK, data: encodeMark(child.mark) });
  if (child.outputMark) attributes.push(u32Attribute(XFRMA.SET_MARK, child.outputMark.value), u32Attribute(XFRMA.SET_MARK_MASK, child.outputMark.mask));
  if (child.ifId !== undefined) attributes.push(u32Attribute(XFRMA.IF_ID, child.ifId));
  if (extraFlags !== 0) attributes.push(u32Attribute(XFRMA.SA_EXTRA_FLAGS, extraFlags));
  return { info, attributes };
}

/** XFRM_MSG_NEWSA for `child`, asking for an ACK. `seq` is usually set later by the batch sender. */
export function newSaMessage(child: ChildSa, options: NewSaOptions = {}, seq = 0): Uint8Array {
  const { info, attributes } = saFromModel(child, options);
  const body = new Uint8Array(INFO.size);
  writeUsersaInfo(body, info);
  return encodeMessage({ type: XFRM_MSG.NEWSA, flags: NLM_F_REQUEST | NLM_F_ACK, seq, pid: 0 }, body, attributes);
}

/** XFRM_MSG_DELSA for the SA (destination, SPI, protocol, and mark when it has one). */
export function delSaMessage(child: Pick<ChildSa, 'destination' | 'spi' | 'protocol' | 'family' | 'mark'>, seq = 0): Uint8Array {
  return saIdMessage(XFRM_MSG.DELSA, child, seq);
}

/** XFRM_MSG_GETSA for one SA: the kernel answers with the SA as it is now (a NEWSA message). */
export function getSaMessage(child: Pick<ChildSa, 'destination' | 'spi' | 'protocol' | 'family' | 'mark'>, seq = 0): Uint8Array {
  return saIdMessage(XFRM_MSG.GETSA, child, seq);
}

/** A request that names one SA by struct xfrm_usersa_id (and its mark, which the lookup matches). */
function saIdMessage(type: number, child: Pick<ChildSa, 'destination' | 'spi' | 'protocol' | 'family' | 'mark'>, seq: number): Uint8Array {
  const body = new Uint8Array(SAID.size);
  const dv = view(body);
  writeAddress(body, SAID.offsets.daddr, child.destination);
  body.set(child.spi, SAID.offsets.spi);
  dv.setUint16(SAID.offsets.family, familyNumber(child.family), LITTLE_ENDIAN);
  dv.setUint8(SAID.offsets.proto, PROTOCOL_NUMBERS[child.protocol]);
  const attributes: Attribute[] = child.mark ? [{ type: XFRMA.MARK, data: encodeMark(child.mark) }] : [];
  return encodeMessage({ type, flags: NLM_F_REQUEST | NLM_F_ACK, seq, pid: 0 }, body, attributes);
}
