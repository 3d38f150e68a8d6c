/**
 * The whole XFRM state of one network namespace: dump every SA and policy, and turn them into
 * the model's ChildSa and Policy records (ids, directions); and the reverse, the NEWSA and
 * NEWPOLICY requests that install a set of model records.
 *
 * Direction. Linux before 6.10 does not know whether an SA is inbound or outbound (the
 * XFRMA_SA_DIR attribute came in 6.10), so saDirection infers it, in this order: XFRMA_SA_DIR;
 * the policies (an SA that a template of an `out` policy picks is outbound, one that a
 * template of an `in` or `fwd` policy accepts is inbound); the counters (only an outbound SA
 * has sent packets, only an inbound one has received some); the replay window (strongSwan gives
 * outbound SAs none, or 1 with ESN). The kernel itself does not care: the
 * direction only matters to ipsec-ctx's own bookkeeping (sequence jumps on restore).
 */
import { GatewayError } from '../../errors.js';
import type { ChildSa } from '../../model/child-sa.js';
import type { Policy } from '../../model/policy.js';
import { familyName, readAddress } from './address.js';
import { XFRM_MODE, XFRM_MSG, XFRM_POLICY_DIR } from './constants.js';
import { type NetlinkMessage, malformed } from './netlink.js';
import { type KernelPolicy, delPolicyMessage, newPolicyMessage, parsePolicyMessage, policyToModel } from './policy.js';
import { type KernelSa, delSaMessage, isKernelMadeTunnelSa, newSaMessage, parseSaMessage, protocolName, saToModel, spiHex } from './sa.js';
import type { InterfaceNames, KernelSelector } from './selector.js';
import { type DumpResult, XfrmSocket } from './socket.js';

export interface KernelState {
  sas: KernelSa[];
  policies: KernelPolicy[];
}

export function parseSaDump(messages: readonly NetlinkMessage[]): KernelSa[] {
  return messages.map((message) => {
    if (message.type !== XFRM_MSG.NEWSA) throw malformed(`message type ${message.type} in an SA dump`);
    return parseSaMessage(message);
  });
}

export function parsePolicyDump(messages: readonly NetlinkMessage[]): KernelPolicy[] {
  return messages.map((message) => {
    if (message.type !== XFRM_MSG.NEWPOLICY) throw malformed(`message type ${message.type} in a policy dump`);
    return parsePolicyMessage(message);
  });
}

export interface RawDumps {
  sa: DumpResult;
  policy: DumpResult;
}

/** Dumps SAs and policies on `socket`, keeping the raw datagrams too. */
export function dumpKernelState(socket: XfrmSocket): { state: KernelState; raw: RawDumps } {
  const sa = socket.dump(XFRM_MSG.GETSA, 'SAs');
  const policy = socket.dump(XFRM_MSG.GETPOLICY, 'policies');
  return { state: { sas: parseSaDump(sa.messages), policies: parsePolicyDump(policy.messages) }, raw: { sa, policy } };
}

// ---------------------------------------------------------------------------------------------
// Direction

function prefixContains(prefix: Uint8Array, length: number, address: Uint8Array): boolean {
  for (let bit = 0; bit < length; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((prefix[bit >> 3]! & mask) !== (address[bit >> 3]! & mask)) return false;
  }
  return true;
}

function sameAddress(a: Uint8Array, b: Uint8Array): boolean {
  return a.every((byte, i) => byte === b[i]);
}

function selectorOriented(sel: KernelSelector, sa: KernelSa): boolean {
  return prefixContains(sel.saddr, sel.prefixlenS, sa.info.saddr) && prefixContains(sel.daddr, sel.prefixlenD, sa.info.id.daddr);
}

/** Does a template of `policy` stand for `sa` (same protocol and reqid, same endpoints)? */
function templateFits(policy: KernelPolicy, sa: KernelSa): boolean {
  return policy.templates.some((tmpl) => {
    if (tmpl.id.proto !== sa.info.id.proto || tmpl.family !== sa.info.family) return false;
    if (tmpl.reqid !== 0 && tmpl.reqid !== sa.info.reqid) return false;
    if (tmpl.mode === XFRM_MODE.TRANSPORT) {
      // Transport templates carry no addresses; the policy selector's orientation tells.
      return sa.info.mode === XFRM_MODE.TRANSPORT && selectorOriented(policy.info.sel, sa);
    }
    return sameAddress(tmpl.saddr, sa.info.saddr) && sameAddress(tmpl.id.daddr, sa.info.id.daddr);
  });
}

/**
 * The 16 bytes of an xfrm_address_t as a string key: one UTF-16 unit per two bytes, so no
 * DataView and no number formatting (a key is only compared with other keys).
 */
function addressKey(b: Uint8Array): string {
  return String.fromCharCode(
    (b[0]! << 8) | b[1]!,
    (b[2]! << 8) | b[3]!,
    (b[4]! << 8) | b[5]!,
    (b[6]! << 8) | b[7]!,
    (b[8]! << 8) | b[9]!,
    (b[10]! << 8) | b[11]!,
    (b[12]! << 8) | b[13]!,
    (b[14]! << 8) | b[15]!,
  );
}

/**
 * The policies a template could tie to an SA, found without looking at every policy (a
 * gateway with 100k SAs and 100k policies would otherwise make 10^10 comparisons): tunnel and
 * BEET templates by (protocol, family, endpoints), transport templates by (protocol, family,
 * reqid). templateFits still decides; the index only leaves out policies none of whose
 * templates can fit.
 *
 * The maps are built on the first question: a dump without SAs (the host kernel's, policies
 * only) or whose SAs all carry XFRMA_SA_DIR never asks one, and building them for 100k
 * policies cost a quarter of the conversion.
 */
export class PolicyIndex {
  private maps: { byEndpoints: Map<string, KernelPolicy[]>; byReqid: Map<string, KernelPolicy[]> } | undefined;

  constructor(private readonly policies: readonly KernelPolicy[]) {}

  private build(): NonNullable<PolicyIndex['maps']> {
    const byEndpoints = new Map<string, KernelPolicy[]>();
    const byReqid = new Map<string, KernelPolicy[]>();
    for (const policy of this.policies) {
      for (const tmpl of policy.templates) {
        const [map, key] =
          tmpl.mode === XFRM_MODE.TRANSPORT
            ? [byReqid, `${tmpl.id.proto}/${tmpl.family}/${tmpl.reqid}`]
            : [byEndpoints, `${tmpl.id.proto}/${tmpl.family}/${addressKey(tmpl.saddr)}${addressKey(tmpl.id.daddr)}`];
        const list = map.get(key);
        if (!list) map.set(key, [policy]);
        else if (list[list.length - 1] !== policy) list.push(policy);
      }
    }
    return { byEndpoints, byReqid };
  }

  /** Every policy with a template that may fit `sa` (a policy can come twice). */
  candidates(sa: KernelSa): KernelPolicy[] {
    const { byEndpoints, byReqid } = (this.maps ??= this.build());
    const { proto } = sa.info.id;
    const { family } = sa.info;
    const found = byEndpoints.get(`${proto}/${family}/${addressKey(sa.info.saddr)}${addressKey(sa.info.id.daddr)}`) ?? [];
    if (sa.info.mode !== XFRM_MODE.TRANSPORT) return found;
    const exact = byReqid.get(`${proto}/${family}/${sa.info.reqid}`) ?? [];
    const any = sa.info.reqid === 0 ? [] : (byReqid.get(`${proto}/${family}/0`) ?? []);
    return exact.length + any.length === 0 ? found : [...found, ...exact, ...any];
  }
}

/**
 * `policies` may be given as a PolicyIndex built once for many SAs (kernelStateToModel does);
 * a plain list is indexed on each call.
 */
export function saDirection(sa: KernelSa, policies: readonly KernelPolicy[] | PolicyIndex): ChildSa['direction'] {
  if (sa.direction === 1) return 'in';
  if (sa.direction === 2) return 'out';
  let inbound = false;
  let outbound = false;
  const index = policies instanceof PolicyIndex ? policies : new PolicyIndex(policies);
  for (const policy of index.candidates(sa)) {
    if (!templateFits(policy, sa)) continue;
    if (policy.info.dir === XFRM_POLICY_DIR.OUT) outbound = true;
    else inbound = true;
  }
  if (inbound !== outbound) return inbound ? 'in' : 'out';
  const replay = sa.replay;
  if (replay) {
    const sent = replay.kind === 'legacy' ? replay.state.oseq !== 0 : replay.state.oseq !== 0 || replay.state.oseqHi !== 0;
    const received = replay.kind === 'legacy' ? replay.state.seq !== 0 : replay.state.seq !== 0 || replay.state.seqHi !== 0;
    if (sent !== received) return sent ? 'out' : 'in';
    const window = replay.kind === 'legacy' ? replay.window : replay.state.replayWindow;
    return window > 1 ? 'in' : 'out';
  }
  return 'out';
}

// ---------------------------------------------------------------------------------------------
// Kernel -> model

export interface Skipped {
  what: string;
  reason: string;
}

export interface XfrmState {
  childSas: ChildSa[];
  policies: Policy[];
  /** Kernel entries that are not state to carry (e.g. the IPIP SA the kernel adds for IPComp). */
  skipped: Skipped[];
}

export interface ToModelOptions {
  interfaces?: InterfaceNames;
  /**
   * List entries the model cannot hold in `skipped` instead of refusing the whole state. `put`
   * uses it: state it does not touch need not be representable, and a clash with such an entry
   * still fails in the kernel (EEXIST) and is rolled back.
   */
  skipUnsupported?: boolean;
}

function uniqueId(wanted: string, taken: Set<string>): string {
  let id = wanted;
  for (let n = 2; taken.has(id); n++) id = `${wanted}/${n}`;
  taken.add(id);
  return id;
}

const POLICY_DIRECTIONS: readonly string[] = ['in', 'out', 'fwd'];

/**
 * Policy ids, `policy:DIR:INDEX`, made unique as uniqueId does: the first policy with a
 * direction and index gets the plain id, the next ones `/2`, `/3`. The kernel gives each
 * policy an index of its own, so a repeat is rare; the pairs seen are kept as numbers, and
 * only a repeat goes through a set of strings (which, for 100k policies, took as long as
 * converting them). No SA id starts with `policy:`, so SA ids never clash with these.
 */
class PolicyIds {
  private readonly seen = new Set<number>();
  private readonly repeated = new Set<string>();

  next(dir: number, index: number): string {
    const id = `policy:${POLICY_DIRECTIONS[dir] ?? `dir${dir}`}:${index}`;
    const pair = index * 256 + dir; // dir is a u8, index a u32: exact in a double
    if (!this.seen.has(pair)) {
      this.seen.add(pair);
      return id;
    }
    this.repeated.add(id); // the first policy's own id, taken without the set
    return uniqueId(id, this.repeated);
  }
}

/**
 * Every SA and policy as model records. Ids: `esp:c0000001@192.0.2.1` for SAs (protocol, SPI,
 * destination: the kernel's own key) and `policy:out:1025` for policies (direction, index).
 * @throws GatewayError for anything the model cannot hold
 */
export function kernelStateToModel(state: KernelState, options: ToModelOptions = {}): XfrmState {
  const result: XfrmState = { childSas: [], policies: [], skipped: [] };
  const taken = new Set<string>();
  const interfaces = options.interfaces ? { interfaces: options.interfaces } : {};
  const policyIndex = new PolicyIndex(state.policies);
  for (const sa of state.sas) {
    const family = familyName(sa.info.family);
    const destination = family ? readAddress(sa.info.id.daddr, 0, family) : '?';
    if (isKernelMadeTunnelSa(sa)) {
      result.skipped.push({
        what: `IP-in-IP SA ${spiHex(sa.info.id.spi)} to ${destination}`,
        reason: 'the kernel adds it for an IPComp tunnel SA and will add it again',
      });
      continue;
    }
    const protocol = protocolName(sa.info.id.proto) ?? `proto${sa.info.id.proto}`;
    const id = uniqueId(`${protocol}:${spiHex(sa.info.id.spi)}@${destination}`, taken);
    const child = convert(() => saToModel(sa, { id, direction: saDirection(sa, policyIndex), ...interfaces }), id, result, options);
    if (child) result.childSas.push(child);
  }
  const policyIds = new PolicyIds();
  for (const policy of state.policies) {
    const id = policyIds.next(policy.info.dir, policy.info.index);
    const converted = convert(() => policyToModel(policy, { id, ...interfaces }), id, result, options);
    if (converted) result.policies.push(converted);
  }
  return result;
}

function convert<T>(run: () => T, id: string, result: XfrmState, options: ToModelOptions): T | undefined {
  if (!options.skipUnsupported) return run();
  try {
    return run();
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    result.skipped.push({ what: id, reason: error.message });
    return undefined;
  }
}

export interface ReadOptions extends ToModelOptions {
  /** A network namespace name (/run/netns) or path; absent: the caller's namespace. */
  netns?: string;
}

/** Dumps the XFRM state of a namespace and converts it. @throws GatewayError */
export function readXfrmState(options: ReadOptions = {}): XfrmState {
  const socket = XfrmSocket.open(options.netns === undefined ? {} : { netns: options.netns });
  try {
    return kernelStateToModel(dumpKernelState(socket).state, options);
  } finally {
    socket.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Model -> requests

export interface InstallOptions extends ToModelOptions {
  /** Send each SA's usage so far (XFRMA_LTIME_VAL); default true. */
  currentLifetime?: boolean;
}

export interface Request {
  what: string;
  message: Uint8Array;
}

/** NEWSA for every SA, then NEWPOLICY for every policy: no packet meets a policy before its SA. */
export function installRequests(childSas: readonly ChildSa[], policies: readonly Policy[], options: InstallOptions = {}): Request[] {
  const saOptions = {
    ...(options.currentLifetime === undefined ? {} : { currentLifetime: options.currentLifetime }),
    ...(options.interfaces ? { interfaces: options.interfaces } : {}),
  };
  const policyOptions = options.interfaces ? { interfaces: options.interfaces } : {};
  return [
    ...childSas.map((child) => ({ what: `add SA ${child.id}`, message: newSaMessage(child, saOptions) })),
    ...policies.map((policy) => ({ what: `add policy ${policy.id}`, message: newPolicyMessage(policy, policyOptions) })),
  ];
}

/** DELPOLICY for every policy, then DELSA for every SA (the reverse order of installing). */
export function removeRequests(childSas: readonly ChildSa[], policies: readonly Policy[], options: ToModelOptions = {}): Request[] {
  const policyOptions = options.interfaces ? { interfaces: options.interfaces } : {};
  return [
    ...policies.map((policy) => ({ what: `delete policy ${policy.id}`, message: delPolicyMessage(policy, policyOptions) })),
    ...childSas.map((child) => ({ what: `delete SA ${child.id}`, message: delSaMessage(child) })),
  ];
}
