/**
 * struct xfrm_lifetime_cfg (limits) and struct xfrm_lifetime_cur (usage so far).
 *
 * Model <-> kernel: a byte or packet limit of XFRM_INF is "no limit" (absent in the model); a
 * time limit of 0 seconds is "no limit" to the kernel (absent in the model). A model limit of 0
 * seconds has no kernel spelling and is refused. `use_time` 0 means never used.
 */
import { GatewayError } from '../../errors.js';
import type { ChildSa } from '../../model/child-sa.js';
import { XFRM_INF } from './constants.js';
import { LAYOUT } from './layout.js';
import { LITTLE_ENDIAN, bufferView, malformed, view } from './netlink.js';

const CFG = LAYOUT.xfrm_lifetime_cfg;
const CUR = LAYOUT.xfrm_lifetime_cur;

export interface KernelLifetimeCfg {
  softByteLimit: bigint;
  hardByteLimit: bigint;
  softPacketLimit: bigint;
  hardPacketLimit: bigint;
  softAddExpiresSeconds: bigint;
  hardAddExpiresSeconds: bigint;
  softUseExpiresSeconds: bigint;
  hardUseExpiresSeconds: bigint;
}

export interface KernelLifetimeCur {
  bytes: bigint;
  packets: bigint;
  addTime: bigint;
  useTime: bigint;
}

const CFG_FIELDS = [
  ['softByteLimit', CFG.offsets.soft_byte_limit],
  ['hardByteLimit', CFG.offsets.hard_byte_limit],
  ['softPacketLimit', CFG.offsets.soft_packet_limit],
  ['hardPacketLimit', CFG.offsets.hard_packet_limit],
  ['softAddExpiresSeconds', CFG.offsets.soft_add_expires_seconds],
  ['hardAddExpiresSeconds', CFG.offsets.hard_add_expires_seconds],
  ['softUseExpiresSeconds', CFG.offsets.soft_use_expires_seconds],
  ['hardUseExpiresSeconds', CFG.offsets.hard_use_expires_seconds],
] as const;

const CUR_FIELDS = [
  ['bytes', CUR.offsets.bytes],
  ['packets', CUR.offsets.packets],
  ['addTime', CUR.offsets.add_time],
  ['useTime', CUR.offsets.use_time],
] as const;

/**
 * The u64 at `at` of `dv`. The kernel fills most lifetime fields with 0 or XFRM_INF (every
 * policy's limits, the usage of a fresh SA): those are the shared constants, so only other
 * values make a new BigInt (twelve per policy before, a good part of parsing a dump). Both
 * constants read the same in either byte order, so the halves need no order.
 */
function readU64(dv: DataView, at: number): bigint {
  const first = dv.getUint32(at, LITTLE_ENDIAN);
  const second = dv.getUint32(at + 4, LITTLE_ENDIAN);
  if (first === 0 && second === 0) return 0n;
  if (first === 0xffff_ffff && second === 0xffff_ffff) return XFRM_INF;
  return dv.getBigUint64(at, LITTLE_ENDIAN);
}

// The parsers spell out every field (rather than loop over CFG_FIELDS) so that each record is
// made in one step with one shape.

export function parseLifetimeCfg(bytes: Uint8Array, offset = 0): KernelLifetimeCfg {
  if (bytes.byteLength < offset + CFG.size) throw malformed(`xfrm_lifetime_cfg needs ${CFG.size} bytes`);
  const dv = bufferView(bytes);
  const at = bytes.byteOffset + offset;
  const o = CFG.offsets;
  return {
    softByteLimit: readU64(dv, at + o.soft_byte_limit),
    hardByteLimit: readU64(dv, at + o.hard_byte_limit),
    softPacketLimit: readU64(dv, at + o.soft_packet_limit),
    hardPacketLimit: readU64(dv, at + o.hard_packet_limit),
    softAddExpiresSeconds: readU64(dv, at + o.soft_add_expires_seconds),
    hardAddExpiresSeconds: readU64(dv, at + o.hard_add_expires_seconds),
    softUseExpiresSeconds: readU64(dv, at + o.soft_use_expires_seconds),
    hardUseExpiresSeconds: readU64(dv, at + o.hard_use_expires_seconds),
  };
}

export function writeLifetimeCfg(out: Uint8Array, offset: number, cfg: KernelLifetimeCfg): void {
  const dv = view(out);
  for (const [name, at] of CFG_FIELDS) dv.setBigUint64(offset + at, cfg[name], LITTLE_ENDIAN);
}

export function parseLifetimeCur(bytes: Uint8Array, offset = 0): KernelLifetimeCur {
  if (bytes.byteLength < offset + CUR.size) throw malformed(`xfrm_lifetime_cur needs ${CUR.size} bytes`);
  const dv = bufferView(bytes);
  const at = bytes.byteOffset + offset;
  const o = CUR.offsets;
  return {
    bytes: readU64(dv, at + o.bytes),
    packets: readU64(dv, at + o.packets),
    addTime: readU64(dv, at + o.add_time),
    useTime: readU64(dv, at + o.use_time),
  };
}

export function writeLifetimeCur(out: Uint8Array, offset: number, cur: KernelLifetimeCur): void {
  const dv = view(out);
  for (const [name, at] of CUR_FIELDS) dv.setBigUint64(offset + at, cur[name], LITTLE_ENDIAN);
}

/** No limits at all: what `ip xfrm` sends when no `limit` is given. */
export function unlimitedCfg(): KernelLifetimeCfg {
  return {
    softByteLimit: XFRM_INF,
    hardByteLimit: XFRM_INF,
    softPacketLimit: XFRM_INF,
    hardPacketLimit: XFRM_INF,
    softAddExpiresSeconds: 0n,
    hardAddExpiresSeconds: 0n,
    softUseExpiresSeconds: 0n,
    hardUseExpiresSeconds: 0n,
  };
}

/** True when `cfg` is unlimitedCfg(): asked for every policy of a dump, so it makes nothing. */
export function isUnlimited(cfg: KernelLifetimeCfg): boolean {
  return (
    cfg.softByteLimit === XFRM_INF &&
    cfg.hardByteLimit === XFRM_INF &&
    cfg.softPacketLimit === XFRM_INF &&
    cfg.hardPacketLimit === XFRM_INF &&
    cfg.softAddExpiresSeconds === 0n &&
    cfg.hardAddExpiresSeconds === 0n &&
    cfg.softUseExpiresSeconds === 0n &&
    cfg.hardUseExpiresSeconds === 0n
  );
}

type Limit = ChildSa['lifetime']['soft'];

function limit(bytes: bigint, packets: bigint, addSeconds: bigint, useSeconds: bigint): Limit {
  const out: Limit = {};
  if (bytes !== XFRM_INF) out.bytes = bytes;
  if (packets !== XFRM_INF) out.packets = packets;
  if (addSeconds !== 0n) out.addSeconds = addSeconds;
  if (useSeconds !== 0n) out.useSeconds = useSeconds;
  return out;
}

export function lifetimeToModel(cfg: KernelLifetimeCfg, cur: KernelLifetimeCur, owner: string): ChildSa['lifetime'] {
  if (cur.addTime > 2n ** 40n || cur.useTime > 2n ** 40n) throw malformed(`${owner}: add/use time beyond 2^40 seconds`);
  const used: ChildSa['lifetime']['used'] = { bytes: cur.bytes, packets: cur.packets, addTime: Number(cur.addTime) };
  if (cur.useTime !== 0n) used.useTime = Number(cur.useTime);
  return {
    soft: limit(cfg.softByteLimit, cfg.softPacketLimit, cfg.softAddExpiresSeconds, cfg.softUseExpiresSeconds),
    hard: limit(cfg.hardByteLimit, cfg.hardPacketLimit, cfg.hardAddExpiresSeconds, cfg.hardUseExpiresSeconds),
    used,
  };
}

function seconds(value: bigint | undefined, what: string, owner: string): bigint {
  if (value === undefined) return 0n;
  if (value === 0n) {
    throw new GatewayError('gateway.bad_lifetime', `${owner}: a ${what} limit of 0 seconds means "no limit" to the kernel`, {
      hint: 'an SA whose lifetime is used up must not be installed',
    });
  }
  return value;
}

export function lifetimeCfgFromModel(lifetime: ChildSa['lifetime'], owner: string): KernelLifetimeCfg {
  const { soft, hard } = lifetime;
  return {
    softByteLimit: soft.bytes ?? XFRM_INF,
    hardByteLimit: hard.bytes ?? XFRM_INF,
    softPacketLimit: soft.packets ?? XFRM_INF,
    hardPacketLimit: hard.packets ?? XFRM_INF,
    softAddExpiresSeconds: seconds(soft.addSeconds, 'soft add-time', owner),
    hardAddExpiresSeconds: seconds(hard.addSeconds, 'hard add-time', owner),
    softUseExpiresSeconds: seconds(soft.useSeconds, 'soft use-time', owner),
    hardUseExpiresSeconds: seconds(hard.useSeconds, 'hard use-time', owner),
  };
}

export function lifetimeCurFromModel(lifetime: ChildSa['lifetime']): KernelLifetimeCur {
  const { used } = lifetime;
  return { bytes: used.bytes, packets: used.packets, addTime: BigInt(used.addTime), useTime: BigInt(used.useTime ?? 0) };
}

/**
 * Usage to install on a target at `nowMs` for an SA captured at `capturedAtMs`. The target's
 * clock may be behind the source's: an SA that was `captured - t` seconds old at capture is at
 * least that old now, so add and use times only ever move earlier, and lifetime used stays used.
 */
export function usageAtRestore(used: ChildSa['lifetime']['used'], capturedAtMs: number, nowMs: number): ChildSa['lifetime']['used'] {
  const captured = Math.floor(capturedAtMs / 1000);
  const now = Math.floor(nowMs / 1000);
  const notYounger = (t: number) => Math.min(t, now - Math.max(0, captured - t));
  const aged = { ...used, addTime: notYounger(used.addTime) };
  if (used.useTime !== undefined) aged.useTime = notYounger(used.useTime);
  return aged;
}
