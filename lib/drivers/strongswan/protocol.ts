/**
 * The strongSwan `ha` plugin sync protocol: message types, attribute names and how each
 * protocol version numbers them (docs/strongswan.md §2, §3).
 *
 * A datagram is `version u8, type u8`, then attributes to its end, each `number u8` + body.
 * Bodies carry no length: the attribute's number alone fixes its encoding, so a reader must
 * know the sender's numbering. Versions renumbered attributes by inserting new ones in the
 * middle, so the same byte means different things per version:
 *
 * | layout  | version byte | releases        | difference                                     |
 * |---------|--------------|-----------------|------------------------------------------------|
 * | `v3-50` | 3            | 5.0.0 – 5.3.x   | no ALG_KE (DH) attribute                       |
 * | `v3`    | 3            | 5.4.0 – 6.0.0   | ALG_KE inserted at 24; AUTH_METHOD (41) 5.7.2+ |
 * | `v4`    | 4            | 6.0.1           | ADD_SECRET at 18, ALG_ADD_KES at 26            |
 * | `v5`    | 5            | 6.0.2 and later | v4 numbers; CONDITIONS/EXTENSIONS sent twice   |
 *
 * Version 3 has two layouts under one byte; `v3` (the 5.4+ numbering, Debian 12's 5.9.8) is
 * the default and lib/drivers/strongswan/version.ts tells them apart where it matters.
 */

export const MESSAGE_TYPES = {
  ikeAdd: 1,
  ikeUpdate: 2,
  ikeMidInitiator: 3,
  ikeMidResponder: 4,
  ikeDelete: 5,
  childAdd: 6,
  childDelete: 7,
  segmentDrop: 8,
  segmentTake: 9,
  status: 10,
  resync: 11,
  ikeIv: 12,
} as const;
export type MessageType = keyof typeof MESSAGE_TYPES;

const TYPE_BY_NUMBER = new Map<number, MessageType>(Object.entries(MESSAGE_TYPES).map(([name, n]) => [n, name as MessageType]));

export function messageTypeName(n: number): MessageType | undefined {
  return TYPE_BY_NUMBER.get(n);
}

/**
 * How an attribute body is encoded (all packed, multi-byte integers big-endian except SPIs and
 * CPIs, see encodings.ts):
 * - `sa`: IKE SA id, 18 bytes: IKE version u8, SPIi 8 bytes, SPIr 8 bytes, initiator u8
 * - `id`: identity type u8, length u8, value
 * - `host`: port u16, address family u8 (Linux numbers: 2, 10), 4 or 16 address bytes
 * - `str`: NUL-terminated
 * - `chunk`: length u16, bytes
 * - `u16list`: a chunk holding u16 values
 * - `spi`, `cpi`: 4 and 2 bytes in the sender's host byte order
 * - `ts`: traffic selector, see encodings.ts
 */
export type Encoding = 'sa' | 'id' | 'host' | 'str' | 'u8' | 'u16' | 'u32' | 'chunk' | 'u16list' | 'spi' | 'cpi' | 'ts';

/** Every attribute any version defines, with its encoding. */
export const ATTRIBUTE_ENCODINGS = {
  ikeId: 'sa',
  ikeRekeyId: 'sa',
  localId: 'id',
  remoteId: 'id',
  remoteEapId: 'id',
  localAddr: 'host',
  remoteAddr: 'host',
  configName: 'str',
  conditions: 'u32',
  extensions: 'u32',
  localVip: 'host',
  remoteVip: 'host',
  peerAddr: 'host',
  initiator: 'u8',
  nonceI: 'chunk',
  nonceR: 'chunk',
  secret: 'chunk',
  addSecret: 'chunk',
  oldSkd: 'chunk',
  algPrf: 'u16',
  algOldPrf: 'u16',
  algEncr: 'u16',
  /** Key size in bits, although charon's header comment says bytes. */
  algEncrLen: 'u16',
  algInteg: 'u16',
  /** ALG_DH before 6.0.1. */
  algKe: 'u16',
  algAddKes: 'u16list',
  ipsecMode: 'u8',
  ipcomp: 'u8',
  inboundSpi: 'spi',
  outboundSpi: 'spi',
  inboundCpi: 'cpi',
  outboundCpi: 'cpi',
  localTs: 'ts',
  remoteTs: 'ts',
  mid: 'u32',
  segment: 'u16',
  esn: 'u16',
  ikeVersion: 'u8',
  localDh: 'chunk',
  remoteDh: 'chunk',
  psk: 'chunk',
  iv: 'chunk',
  authMethod: 'u16',
} as const satisfies Record<string, Encoding>;
export type AttributeName = keyof typeof ATTRIBUTE_ENCODINGS;

export type Layout = 'v3-50' | 'v3' | 'v4' | 'v5';
export const LAYOUTS: readonly Layout[] = ['v3-50', 'v3', 'v4', 'v5'];

/** The version byte each layout sends. */
export const LAYOUT_VERSION: Readonly<Record<Layout, number>> = { 'v3-50': 3, v3: 3, v4: 4, v5: 5 };

// Attribute numbers are positions in these lists, starting at 1.
const V3_50: readonly AttributeName[] = [
  'ikeId', 'ikeRekeyId', 'localId', 'remoteId', 'remoteEapId', 'localAddr', 'remoteAddr', 'configName',
  'conditions', 'extensions', 'localVip', 'remoteVip', 'peerAddr', 'initiator', 'nonceI', 'nonceR', 'secret',
  'oldSkd', 'algPrf', 'algOldPrf', 'algEncr', 'algEncrLen', 'algInteg',
  'ipsecMode', 'ipcomp', 'inboundSpi', 'outboundSpi', 'inboundCpi', 'outboundCpi', 'localTs', 'remoteTs',
  'mid', 'segment', 'esn', 'ikeVersion', 'localDh', 'remoteDh', 'psk', 'iv',
];
const V3: readonly AttributeName[] = [...V3_50.slice(0, 23), 'algKe', ...V3_50.slice(23), 'authMethod'];
const V4: readonly AttributeName[] = [...V3.slice(0, 17), 'addSecret', ...V3.slice(17, 24), 'algAddKes', ...V3.slice(24)];

const NUMBERING: Readonly<Record<Layout, readonly AttributeName[]>> = { 'v3-50': V3_50, v3: V3, v4: V4, v5: V4 };

const BY_NAME = new Map<Layout, Map<AttributeName, number>>(
  LAYOUTS.map((layout) => [layout, new Map(NUMBERING[layout].map((name, i) => [name, i + 1]))]),
);

/** The attribute a number stands for in a layout, or undefined if the layout has none. */
export function attributeName(layout: Layout, n: number): AttributeName | undefined {
  return NUMBERING[layout][n - 1];
}

/** The number of an attribute in a layout, or undefined if that layout cannot express it. */
export function attributeNumber(layout: Layout, name: AttributeName): number | undefined {
  return BY_NAME.get(layout)?.get(name);
}

/** charon's UDP port for HA sync, fixed at build time on both ends (not a setting). */
export const HA_PORT = 4510;

/** IKE SA conditions (ike_condition_t) the model cares about. */
export const CONDITION = {
  natAny: 1 << 0,
  natHere: 1 << 1,
  natThere: 1 << 2,
  natFake: 1 << 3,
  eapAuthenticated: 1 << 4,
  originalInitiator: 1 << 6,
} as const;

/** IKE SA extensions (ike_extension_t) the model cares about. */
export const EXTENSION = {
  natt: 1 << 0,
  mobike: 1 << 1,
  ikeMessageIdSync: 1 << 14,
} as const;

/** In a v5 IKE_UPDATE, a CONDITIONS/EXTENSIONS value with this bit carries the private bits. */
export const PRIVATE_MARKER = 0x8000_0000;

/** charon's segments are numbered 1..segment_count, at most 16; 0 in TAKE/DROP means all. */
export const ALL_SEGMENTS: readonly number[] = Array.from({ length: 16 }, (_, i) => i + 1);
