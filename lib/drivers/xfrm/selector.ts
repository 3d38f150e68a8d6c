/**
 * struct xfrm_selector: the traffic an SA may carry or a policy matches.
 *
 * Model <-> kernel: prefixes as text, the protocol absent when 0, ports absent when port and
 * mask are both 0. The interface is an ifindex in the kernel and a name in the model; a
 * resolver has to translate it (the driver has none yet, so a selector bound to an interface
 * is refused rather than silently widened). A selector bound to a user id (`user`, used by
 * per-socket policies only) cannot be held by the model and is refused too.
 */
import { GatewayError } from '../../errors.js';
import { parsePrefix } from '../../model/address.js';
import type { Selector } from '../../model/common.js';
import { familyName, familyNumber, isZeroAddress, readPrefix, writeAddress } from './address.js';
import { LAYOUT } from './layout.js';
import { LITTLE_ENDIAN, bufferView, malformed, view } from './netlink.js';

const SEL = LAYOUT.xfrm_selector;

export interface KernelSelector {
  daddr: Uint8Array;
  saddr: Uint8Array;
  /** Ports and masks in host order (the kernel keeps them big-endian). */
  dport: number;
  dportMask: number;
  sport: number;
  sportMask: number;
  family: number;
  prefixlenD: number;
  prefixlenS: number;
  proto: number;
  ifindex: number;
  user: number;
}

export function parseSelector(bytes: Uint8Array, offset = 0): KernelSelector {
  if (bytes.byteLength < offset + SEL.size) throw malformed(`xfrm_selector needs ${SEL.size} bytes`);
  const dv = bufferView(bytes);
  const at = bytes.byteOffset + offset;
  const o = SEL.offsets;
  return {
    daddr: bytes.subarray(offset + o.daddr, offset + o.daddr + 16),
    saddr: bytes.subarray(offset + o.saddr, offset + o.saddr + 16),
    dport: dv.getUint16(at + o.dport, false),
    dportMask: dv.getUint16(at + o.dport_mask, false),
    sport: dv.getUint16(at + o.sport, false),
    sportMask: dv.getUint16(at + o.sport_mask, false),
    family: dv.getUint16(at + o.family, LITTLE_ENDIAN),
    prefixlenD: bytes[offset + o.prefixlen_d]!,
    prefixlenS: bytes[offset + o.prefixlen_s]!,
    proto: bytes[offset + o.proto]!,
    ifindex: dv.getInt32(at + o.ifindex, LITTLE_ENDIAN),
    user: dv.getUint32(at + o.user, LITTLE_ENDIAN),
  };
}

export function writeSelector(out: Uint8Array, offset: number, sel: KernelSelector): void {
  const dv = view(out);
  const o = SEL.offsets;
  out.set(sel.daddr, offset + o.daddr);
  out.set(sel.saddr, offset + o.saddr);
  dv.setUint16(offset + o.dport, sel.dport, false);
  dv.setUint16(offset + o.dport_mask, sel.dportMask, false);
  dv.setUint16(offset + o.sport, sel.sport, false);
  dv.setUint16(offset + o.sport_mask, sel.sportMask, false);
  dv.setUint16(offset + o.family, sel.family, LITTLE_ENDIAN);
  dv.setUint8(offset + o.prefixlen_d, sel.prefixlenD);
  dv.setUint8(offset + o.prefixlen_s, sel.prefixlenS);
  dv.setUint8(offset + o.proto, sel.proto);
  dv.setInt32(offset + o.ifindex, sel.ifindex, LITTLE_ENDIAN);
  dv.setUint32(offset + o.user, sel.user >>> 0, LITTLE_ENDIAN);
}

export function emptySelector(family = 0): KernelSelector {
  return {
    daddr: new Uint8Array(16),
    saddr: new Uint8Array(16),
    dport: 0,
    dportMask: 0,
    sport: 0,
    sportMask: 0,
    family,
    prefixlenD: 0,
    prefixlenS: 0,
    proto: 0,
    ifindex: 0,
    user: 0,
  };
}

/** True when every field but the family is zero: the selector matches everything. */
export function matchesAnything(sel: KernelSelector): boolean {
  return (
    isZeroAddress(sel.daddr, 0) &&
    isZeroAddress(sel.saddr, 0) &&
    sel.dport === 0 &&
    sel.dportMask === 0 &&
    sel.sport === 0 &&
    sel.sportMask === 0 &&
    sel.prefixlenD === 0 &&
    sel.prefixlenS === 0 &&
    sel.proto === 0 &&
    sel.ifindex === 0 &&
    sel.user === 0
  );
}

/** Maps interface indexes to names and back, in the namespace the selectors belong to. */
export interface InterfaceNames {
  name(ifindex: number): string | undefined;
  index(name: string): number | undefined;
}

export interface SelectorContext {
  /** What the selector belongs to, for messages ("SA esp c0000001 to 192.0.2.1"). */
  owner: string;
  interfaces?: InterfaceNames;
}

export function selectorToModel(sel: KernelSelector, context: SelectorContext): Selector {
  const family = familyName(sel.family);
  if (!family) throw cannotHold(context.owner, `a selector of address family ${sel.family}`);
  if (sel.user !== 0) throw cannotHold(context.owner, `a selector bound to user id ${sel.user}`);
  const bits = family === 'ipv4' ? 32 : 128;
  if (sel.prefixlenS > bits || sel.prefixlenD > bits) {
    throw malformed(`${context.owner}: selector prefix /${Math.max(sel.prefixlenS, sel.prefixlenD)} in an ${family} selector`);
  }
  const selector: Selector = {
    family,
    source: readPrefix(sel.saddr, 0, family, sel.prefixlenS),
    destination: readPrefix(sel.daddr, 0, family, sel.prefixlenD),
  };
  if (sel.proto !== 0) selector.protocol = sel.proto;
  if (sel.sport !== 0 || sel.sportMask !== 0) selector.sourcePort = { port: sel.sport, mask: sel.sportMask };
  if (sel.dport !== 0 || sel.dportMask !== 0) selector.destinationPort = { port: sel.dport, mask: sel.dportMask };
  if (sel.ifindex !== 0) {
    const name = context.interfaces?.name(sel.ifindex);
    if (name === undefined) {
      throw cannotHold(context.owner, `a selector bound to interface index ${sel.ifindex} whose name is unknown`);
    }
    selector.interface = name;
  }
  return selector;
}

export function selectorFromModel(selector: Selector, context: SelectorContext): KernelSelector {
  const sel = emptySelector(familyNumber(selector.family));
  const source = parsePrefix(selector.source);
  const destination = parsePrefix(selector.destination);
  if (!source || !destination) throw new GatewayError('gateway.bad_selector', `${context.owner}: selector prefixes must be address/length`);
  writeAddress(sel.saddr, 0, source.address);
  writeAddress(sel.daddr, 0, destination.address);
  sel.prefixlenS = source.length;
  sel.prefixlenD = destination.length;
  sel.proto = selector.protocol ?? 0;
  if (selector.sourcePort) {
    sel.sport = selector.sourcePort.port;
    sel.sportMask = selector.sourcePort.mask;
  }
  if (selector.destinationPort) {
    sel.dport = selector.destinationPort.port;
    sel.dportMask = selector.destinationPort.mask;
  }
  if (selector.interface !== undefined) {
    const index = context.interfaces?.index(selector.interface);
    if (index === undefined) {
      throw new GatewayError('gateway.unknown_interface', `${context.owner}: no interface named ${selector.interface} on this gateway`);
    }
    sel.ifindex = index;
  }
  return sel;
}

/** The kernel holds something the model has no field for: refuse rather than drop it. */
export function cannotHold(owner: string, what: string): GatewayError {
  return new GatewayError('gateway.unsupported_state', `${owner} has ${what}, which ipsec-ctx cannot carry`, {
    hint: 'remove or change it on the gateway, or leave this SA/policy out with a filter',
  });
}
