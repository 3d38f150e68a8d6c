/**
 * Policies: struct xfrm_userpolicy_info with its templates (struct xfrm_user_tmpl, an array in
 * XFRMA_TMPL) and attributes (XFRM_MSG_NEWPOLICY, also what a GETPOLICY dump returns), struct
 * xfrm_userpolicy_id (DELPOLICY), and the conversion to and from the model's Policy.
 *
 * As for SAs, parsing keeps every field (KernelPolicy) and policyToModel refuses what the
 * model cannot hold: policy lifetimes, the LOCALOK/ICMP flags, security contexts, sub-policies,
 * templates restricted to an SPI or to particular algorithms. The current lifetime of a policy
 * (add and use time) is statistics and is not carried.
 */
import { GatewayError } from '../../errors.js';
import type { Policy, Template } from '../../model/policy.js';
import { familyOf } from '../../model/address.js';
import { familyName, familyNumber, isZeroAddress, readAddress, writeAddress } from './address.js';
import { NLM_F_ACK, NLM_F_REQUEST, XFRMA, XFRMA_NAME, XFRM_MSG, XFRM_POLICY_TYPE } from './constants.js';
import { LAYOUT } from './layout.js';
import {
  type KernelLifetimeCfg,
  type KernelLifetimeCur,
  isUnlimited,
  parseLifetimeCfg,
  parseLifetimeCur,
  unlimitedCfg,
  writeLifetimeCfg,
  writeLifetimeCur,
} from './lifetime.js';
import { type Attribute, LITTLE_ENDIAN, type NetlinkMessage, bufferView, encodeMessage, malformed, parseAttributes, readU32Attribute, u32Attribute, view } from './netlink.js';
import { type KernelId, type KernelMark, encodeMark, modeName, modeNumber, parseId, parseMark, protocolName, protocolNumber } from './sa.js';
import { type InterfaceNames, type KernelSelector, cannotHold, parseSelector, selectorFromModel, selectorToModel, writeSelector } from './selector.js';

const INFO = LAYOUT.xfrm_userpolicy_info;
const POLID = LAYOUT.xfrm_userpolicy_id;
const TMPL = LAYOUT.xfrm_user_tmpl;
const ID = LAYOUT.xfrm_id;
/** Templates accept every algorithm unless restricted: ~0 in aalgos/ealgos/calgos. */
const ALL_ALGORITHMS = 0xffff_ffff;

// ---------------------------------------------------------------------------------------------
// Kernel records

export interface KernelUserpolicyInfo {
  sel: KernelSelector;
  lft: KernelLifetimeCfg;
  curlft: KernelLifetimeCur;
  priority: number;
  index: number;
  dir: number;
  action: number;
  flags: number;
  share: number;
}

export interface KernelTemplate {
  id: KernelId;
  family: number;
  saddr: Uint8Array;
  reqid: number;
  mode: number;
  share: number;
  optional: number;
  aalgos: number;
  ealgos: number;
  calgos: number;
}

export interface KernelPolicy {
  info: KernelUserpolicyInfo;
  templates: KernelTemplate[];
  mark?: KernelMark;
  ifId?: number;
  /** XFRMA_POLICY_TYPE: main (0) or sub (1); only on kernels with CONFIG_XFRM_SUB_POLICY. */
  type?: number;
  unsupported: string[];
}

const POLICY_ATTRIBUTES_HANDLED = new Set<number>([XFRMA.TMPL, XFRMA.MARK, XFRMA.IF_ID, XFRMA.POLICY_TYPE, XFRMA.PAD]);

// ---------------------------------------------------------------------------------------------
// Parsing

export function parseUserpolicyInfo(bytes: Uint8Array): KernelUserpolicyInfo {
  if (bytes.byteLength < INFO.size) throw malformed(`xfrm_userpolicy_info is ${bytes.byteLength} bytes, want ${INFO.size}`);
  const dv = bufferView(bytes);
  const at = bytes.byteOffset;
  const o = INFO.offsets;
  return {
    sel: parseSelector(bytes, o.sel),
    lft: parseLifetimeCfg(bytes, o.lft),
    curlft: parseLifetimeCur(bytes, o.curlft),
    priority: dv.getUint32(at + o.priority, LITTLE_ENDIAN),
    index: dv.getUint32(at + o.index, LITTLE_ENDIAN),
    dir: bytes[o.dir]!,
    action: bytes[o.action]!,
    flags: bytes[o.flags]!,
    share: bytes[o.share]!,
  };
}

export function parseTemplate(bytes: Uint8Array, offset: number): KernelTemplate {
  if (bytes.byteLength < offset + TMPL.size) throw malformed(`xfrm_user_tmpl needs ${TMPL.size} bytes`);
  const dv = bufferView(bytes);
  const at = bytes.byteOffset + offset;
  const o = TMPL.offsets;
  return {
    id: parseId(bytes, offset + o.id),
    family: dv.getUint16(at + o.family, LITTLE_ENDIAN),
    saddr: bytes.subarray(offset + o.saddr, offset + o.saddr + 16),
    reqid: dv.getUint32(at + o.reqid, LITTLE_ENDIAN),
    mode: bytes[offset + o.mode]!,
    share: bytes[offset + o.share]!,
    optional: bytes[offset + o.optional]!,
    aalgos: dv.getUint32(at + o.aalgos, LITTLE_ENDIAN),
    ealgos: dv.getUint32(at + o.ealgos, LITTLE_ENDIAN),
    calgos: dv.getUint32(at + o.calgos, LITTLE_ENDIAN),
  };
}

/** XFRMA_TMPL: an array of xfrm_user_tmpl. */
export function parseTemplates(bytes: Uint8Array): KernelTemplate[] {
  if (bytes.byteLength % TMPL.size !== 0) throw malformed(`XFRMA_TMPL is ${bytes.byteLength} bytes, not a multiple of ${TMPL.size}`);
  const templates: KernelTemplate[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += TMPL.size) templates.push(parseTemplate(bytes, offset));
  return templates;
}

/** An XFRM_MSG_NEWPOLICY message (a dump entry or a request) with all its attributes. */
export function parsePolicyMessage(message: Pick<NetlinkMessage, 'payload'>): KernelPolicy {
  const info = parseUserpolicyInfo(message.payload);
  const attributes = parseAttributes(message.payload, 'policy message', INFO.size);
  let data = attributes.get(XFRMA.TMPL);
  const policy: KernelPolicy = { info, templates: data ? parseTemplates(data) : [], unsupported: [] };
  if ((data = attributes.get(XFRMA.MARK))) policy.mark = parseMark(data);
  if ((data = attributes.get(XFRMA.IF_ID))) policy.ifId = readU32Attribute(data, 'XFRMA_IF_ID');
  if ((data = attributes.get(XFRMA.POLICY_TYPE))) {
    if (data.byteLength < 1) throw malformed('XFRMA_POLICY_TYPE is empty');
    policy.type = data[0]!;
  }
  for (const type of attributes.keys()) {
    if (!POLICY_ATTRIBUTES_HANDLED.has(type)) policy.unsupported.push(XFRMA_NAME[type] ?? `attribute ${type}`);
  }
  return policy;
}

// ---------------------------------------------------------------------------------------------
// Kernel record -> model

const DIRECTIONS: readonly Policy['direction'][] = ['in', 'out', 'fwd'];
const ACTIONS: readonly Policy['action'][] = ['allow', 'block'];

export const directionNumber = (direction: Policy['direction']): number => DIRECTIONS.indexOf(direction);
export const directionName = (dir: number): Policy['direction'] | undefined => DIRECTIONS[dir];

export function describeKernelPolicy(info: KernelUserpolicyInfo): string {
  return `${DIRECTIONS[info.dir] ?? `direction ${info.dir}`} policy ${info.index}`;
}

function isZeroSpi(spi: Uint8Array): boolean {
  for (let i = 0; i < spi.byteLength; i++) if (spi[i] !== 0) return false;
  return true;
}

export function templateToModel(tmpl: KernelTemplate, owner: string): Template {
  const protocol = protocolName(tmpl.id.proto);
  if (!protocol) throw cannotHold(owner, `a template for IP protocol ${tmpl.id.proto}`);
  const mode = modeName(tmpl.mode);
  if (!mode) throw cannotHold(owner, `a template with mode ${tmpl.mode}`);
  const family = familyName(tmpl.family);
  if (!family) throw cannotHold(owner, `a template of address family ${tmpl.family}`);
  if (!isZeroSpi(tmpl.id.spi)) throw cannotHold(owner, `a template bound to SPI ${Buffer.from(tmpl.id.spi).toString('hex')}`);
  if (tmpl.aalgos !== ALL_ALGORITHMS || tmpl.ealgos !== ALL_ALGORITHMS || tmpl.calgos !== ALL_ALGORITHMS) {
    throw cannotHold(owner, 'a template restricted to some algorithms (aalgos/ealgos/calgos)');
  }
  if (tmpl.share !== 0) throw cannotHold(owner, `a template with share ${tmpl.share}`);
  if (tmpl.optional > 1) throw cannotHold(owner, `a template with optional ${tmpl.optional}`);
  const reqid = tmpl.reqid;
  const optional = tmpl.optional === 1;
  const hasSource = !isZeroAddress(tmpl.saddr, 0);
  const hasDestination = !isZeroAddress(tmpl.id.daddr, 0);
  if (mode !== 'transport' && !(hasSource && hasDestination)) throw cannotHold(owner, `a ${mode} template without both endpoint addresses`);
  // Tunnel templates (nearly all) are made whole in one literal: properties added afterwards
  // would go to a separate store, one more allocation per template.
  if (hasSource && hasDestination) {
    return { protocol, mode, reqid, family, optional, source: readAddress(tmpl.saddr, 0, family), destination: readAddress(tmpl.id.daddr, 0, family) };
  }
  const template: Template = { protocol, mode, reqid, family, optional };
  if (hasSource) template.source = readAddress(tmpl.saddr, 0, family);
  if (hasDestination) template.destination = readAddress(tmpl.id.daddr, 0, family);
  return template;
}

export interface PolicyToModelOptions {
  id: string;
  interfaces?: InterfaceNames;
}

export function policyToModel(policy: KernelPolicy, options: PolicyToModelOptions): Policy {
  const { info } = policy;
  const owner = describeKernelPolicy(info);
  if (policy.unsupported.length > 0) throw cannotHold(owner, policy.unsupported.join(', '));
  const direction = DIRECTIONS[info.dir];
  if (!direction) throw cannotHold(owner, `direction ${info.dir} (a per-socket policy)`);
  const action = ACTIONS[info.action];
  if (!action) throw cannotHold(owner, `action ${info.action}`);
  if (info.flags !== 0) throw cannotHold(owner, `policy flags 0x${info.flags.toString(16)} (localok/icmp)`);
  if (info.share !== 0) throw cannotHold(owner, `share ${info.share}`);
  if (!isUnlimited(info.lft)) throw cannotHold(owner, 'a lifetime limit');
  if (policy.type !== undefined && policy.type !== XFRM_POLICY_TYPE.MAIN) throw cannotHold(owner, 'a sub-policy type');
  const selector = selectorToModel(info.sel, options.interfaces ? { owner, interfaces: options.interfaces } : { owner });
  const templates: Template[] = [];
  for (const tmpl of policy.templates) templates.push(templateToModel(tmpl, owner));
  const result: Policy = {
    id: options.id,
    direction,
    action,
    selector,
    priority: info.priority,
    index: info.index,
    templates,
  };
  if (policy.mark) result.mark = { value: policy.mark.value, mask: policy.mark.mask };
  if (policy.ifId !== undefined) result.ifId = policy.ifId;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Model -> messages

export function describePolicy(policy: Pick<Policy, 'direction' | 'selector' | 'index'>): string {
  const where = `${policy.selector.source} -> ${policy.selector.destination}`;
  return `${policy.direction} policy ${policy.index === undefined ? where : `${policy.index} (${where})`}`;
}

export function writeUserpolicyInfo(out: Uint8Array, info: KernelUserpolicyInfo): void {
  const dv = view(out);
  const o = INFO.offsets;
  writeSelector(out, o.sel, info.sel);
  writeLifetimeCfg(out, o.lft, info.lft);
  writeLifetimeCur(out, o.curlft, info.curlft);
  dv.setUint32(o.priority, info.priority >>> 0, LITTLE_ENDIAN);
  dv.setUint32(o.index, info.index >>> 0, LITTLE_ENDIAN);
  dv.setUint8(o.dir, info.dir);
  dv.setUint8(o.action, info.action);
  dv.setUint8(o.flags, info.flags);
  dv.setUint8(o.share, info.share);
}

export function writeTemplate(out: Uint8Array, offset: number, tmpl: KernelTemplate): void {
  const dv = view(out);
  const o = TMPL.offsets;
  out.set(tmpl.id.daddr, offset + o.id + ID.offsets.daddr);
  out.set(tmpl.id.spi, offset + o.id + ID.offsets.spi);
  dv.setUint8(offset + o.id + ID.offsets.proto, tmpl.id.proto);
  dv.setUint16(offset + o.family, tmpl.family, LITTLE_ENDIAN);
  out.set(tmpl.saddr, offset + o.saddr);
  dv.setUint32(offset + o.reqid, tmpl.reqid >>> 0, LITTLE_ENDIAN);
  dv.setUint8(offset + o.mode, tmpl.mode);
  dv.setUint8(offset + o.share, tmpl.share);
  dv.setUint8(offset + o.optional, tmpl.optional);
  dv.setUint32(offset + o.aalgos, tmpl.aalgos >>> 0, LITTLE_ENDIAN);
  dv.setUint32(offset + o.ealgos, tmpl.ealgos >>> 0, LITTLE_ENDIAN);
  dv.setUint32(offset + o.calgos, tmpl.calgos >>> 0, LITTLE_ENDIAN);
}

export function templateFromModel(template: Template, owner: string): KernelTemplate {
  const daddr = new Uint8Array(16);
  const saddr = new Uint8Array(16);
  for (const [side, bytes] of [
    ['source', saddr],
    ['destination', daddr],
  ] as const) {
    const address = template[side];
    if (address === undefined) continue;
    if (familyOf(address) !== template.family) {
      throw new GatewayError('gateway.bad_address', `${owner}: template ${side} ${address} is not an ${template.family} address`);
    }
    writeAddress(bytes, 0, address);
  }
  return {
    id: { daddr, spi: new Uint8Array(4), proto: protocolNumber(template.protocol) },
    family: familyNumber(template.family),
    saddr,
    reqid: template.reqid,
    mode: modeNumber(template.mode),
    share: 0,
    optional: template.optional ? 1 : 0,
    aalgos: ALL_ALGORITHMS,
    ealgos: ALL_ALGORITHMS,
    calgos: ALL_ALGORITHMS,
  };
}

export interface NewPolicyOptions {
  interfaces?: InterfaceNames;
}

export function policyFromModel(policy: Policy, options: NewPolicyOptions = {}): { info: KernelUserpolicyInfo; attributes: Attribute[] } {
  const owner = describePolicy(policy);
  const info: KernelUserpolicyInfo = {
    sel: selectorFromModel(policy.selector, { owner, ...(options.interfaces ? { interfaces: options.interfaces } : {}) }),
    lft: unlimitedCfg(),
    curlft: { bytes: 0n, packets: 0n, addTime: 0n, useTime: 0n },
    priority: policy.priority,
    index: policy.index ?? 0,
    dir: directionNumber(policy.direction),
    action: ACTIONS.indexOf(policy.action),
    flags: 0,
    share: 0,
  };
  const attributes: Attribute[] = [];
  if (policy.templates.length > 0) {
    const data = new Uint8Array(TMPL.size * policy.templates.length);
    policy.templates.forEach((template, i) => writeTemplate(data, i * TMPL.size, templateFromModel(template, owner)));
    attributes.push({ type: XFRMA.TMPL, data });
  }
  if (policy.mark) attributes.push({ type: XFRMA.MARK, data: encodeMark(policy.mark) });
  if (policy.ifId !== undefined) attributes.push(u32Attribute(XFRMA.IF_ID, policy.ifId));
  return { info, attributes };
}

/** XFRM_MSG_NEWPOLICY for `policy`, asking for an ACK. */
export function newPolicyMessage(policy: Policy, options: NewPolicyOptions = {}, seq = 0): Uint8Array {
  return policyInfoMessage(XFRM_MSG.NEWPOLICY, policy, options, seq);
}

/**
 * XFRM_MSG_UPDPOLICY: replaces, in one step, the policy the kernel holds with the same
 * direction, selector, mark, if_id and priority (it keeps that policy's index), or adds it.
 * Unlike DELPOLICY + NEWPOLICY there is no moment without a policy, when packets would pass
 * in the clear.
 */
export function updPolicyMessage(policy: Policy, options: NewPolicyOptions = {}, seq = 0): Uint8Array {
  return policyInfoMessage(XFRM_MSG.UPDPOLICY, policy, options, seq);
}

function policyInfoMessage(type: number, policy: Policy, options: NewPolicyOptions, seq: number): Uint8Array {
  const { info, attributes } = policyFromModel(policy, options);
  const body = new Uint8Array(INFO.size);
  writeUserpolicyInfo(body, info);
  return encodeMessage({ type, flags: NLM_F_REQUEST | NLM_F_ACK, seq, pid: 0 }, body, attributes);
}

/**
 * XFRM_MSG_DELPOLICY: by index when the policy has one (the kernel then ignores the selector),
 * else by direction and selector; with the mark and if_id the kernel also matches on.
 */
export function delPolicyMessage(policy: Policy, options: NewPolicyOptions = {}, seq = 0): Uint8Array {
  const owner = describePolicy(policy);
  const body = new Uint8Array(POLID.size);
  const dv = view(body);
  writeSelector(body, POLID.offsets.sel, selectorFromModel(policy.selector, { owner, ...(options.interfaces ? { interfaces: options.interfaces } : {}) }));
  dv.setUint32(POLID.offsets.index, (policy.index ?? 0) >>> 0, LITTLE_ENDIAN);
  dv.setUint8(POLID.offsets.dir, directionNumber(policy.direction));
  const attributes: Attribute[] = [];
  if (policy.mark) attributes.push({ type: XFRMA.MARK, data: encodeMark(policy.mark) });
  if (policy.ifId !== undefined) attributes.push(u32Attribute(XFRMA.IF_ID, policy.ifId));
  return encodeMessage({ type: XFRM_MSG.DELPOLICY, flags: NLM_F_REQUEST | NLM_F_ACK, seq, pid: 0 }, body, attributes);
}
