/**
 * What a passive HA peer learns from a gateway's sync messages (docs/strongswan.md §5, §6):
 * the IKE SAs with their derived keys, identities, addresses and message IDs, and the CHILD
 * SAs with theirs. `HaTracker.apply` takes decoded messages in arrival order and does what a
 * receiving charon would do, minus the kernel; to-model.ts turns the result into the model.
 *
 * What charon never sends cannot be learnt here: sequence numbers, replay windows, lifetimes,
 * reqids and authentication methods (§9). CHILD SAs are not cached by charon either, so a
 * tracker that starts after a CHILD SA was made never sees it unless the gateway rekeys it.
 */
import type { HaHost, HaIdentity, HaIkeSaId, HaTrafficSelector } from './encodings.js';
import { type HaMessage, valueOf, valuesOf } from './codec.js';
import { type ChildKeys, type IkeKeys, deriveChildKeys, deriveIkeKeys } from './keymat.js';
import { PRIVATE_MARKER } from './protocol.js';

export interface IkeProposalIds {
  encryption: number;
  encryptionKeyBits?: number;
  integrity?: number;
  prf: number;
  keyExchange?: number;
  /** ALG_ADD_KES (6.0.1+): ADDITIONAL_KEY_EXCHANGE_1.. methods, 0 for a gap. */
  additionalKeyExchanges?: number[];
}

export interface TrackedIkeSa {
  /** SPIi | SPIr in hex: the SA's identity. */
  key: string;
  id: HaIkeSaId;
  proposal: IkeProposalIds;
  nonceI: Uint8Array;
  nonceR: Uint8Array;
  keys: IkeKeys;
  /**
   * The key exchange's shared secret (SECRET); for a rekey the old SA's PRF and SK_d, and with
   * additional key exchanges their secrets joined (ADD_SECRET).
   */
  sharedSecret: Uint8Array;
  rekeyedFrom?: { prf: number; skD: Uint8Array; additionalSecret?: Uint8Array };
  /** 6.0.1+: the secrets of the IKE_INTERMEDIATE key exchanges that followed, in order (one IKE_ADD each). */
  intermediateSecrets?: Uint8Array[];
  /** The key of the SA this one replaced by an IKE rekey. */
  rekeyOf?: string;
  addedAtMs: number;
  /** From IKE_UPDATE; absent until the SA is established on the gateway. */
  updatedAtMs?: number;
  localId?: HaIdentity;
  remoteId?: HaIdentity;
  remoteEapId?: HaIdentity;
  localAddr?: HaHost;
  remoteAddr?: HaHost;
  conditions: number;
  extensions: number;
  /** v5 only: the private condition and extension bits, sent as a second value. */
  privateConditions?: number;
  privateExtensions?: number;
  configName?: string;
  peerAddrs: HaHost[];
  remoteVips: HaHost[];
  /** Next message ID as initiator / as responder (IKE_MID_*); absent until first seen. */
  midInitiator?: number;
  midResponder?: number;
  children: Map<string, TrackedChildSa>;
}

export interface TrackedChildSa {
  /** Network order, as ESP carries them. */
  inboundSpi: Uint8Array;
  outboundSpi: Uint8Array;
  inboundCpi: Uint8Array;
  outboundCpi: Uint8Array;
  /** This gateway started the exchange that made the CHILD SA. */
  initiator: boolean;
  /** charon's ipsec_mode_t: 1 transport, 2 tunnel, 3 BEET. */
  mode: number;
  ipcomp: number;
  configName: string;
  encryption: number;
  encryptionKeyBits?: number;
  integrity?: number;
  keyExchange?: number;
  esn: boolean;
  pfs: boolean;
  localTs: HaTrafficSelector[];
  remoteTs: HaTrafficSelector[];
  nonceI: Uint8Array;
  nonceR: Uint8Array;
  /** The PFS shared secret, with PFS; with additional key exchanges their secrets joined. */
  sharedSecret?: Uint8Array;
  additionalSecret?: Uint8Array;
  additionalKeyExchanges?: number[];
  keys: ChildKeys;
  addedAtMs: number;
}

export interface ApplyResult {
  /** What the message did, for logs: "IKE_ADD 1a2b…/3c4d… rekeying 5e6f…/7a8b…". */
  summary: string;
  /** Set when the message could not be applied; the tracker is unchanged then. */
  warning?: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const ikeKey = (id: HaIkeSaId) => `${hex(id.spiI)}${hex(id.spiR)}`;
const short = (key: string) => `${key.slice(0, 16)}/${key.slice(16)}`;

export class HaTracker {
  readonly ikeSas = new Map<string, TrackedIkeSa>();
  /** Segments the gateway said it serves in its last STATUS. */
  gatewaySegments: number[] = [];
  /** The version byte of the last message, for version checks before sending. */
  lastVersion?: number;
  /** Recently deleted IKE SAs: messages for them still trickle in (the DELETE exchange's MID). */
  private readonly deleted = new Set<string>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  apply(message: HaMessage): ApplyResult {
    this.lastVersion = message.version;
    const skipped = (summary: string, warning: string): ApplyResult => ({ summary, warning });
    const stop = message.stopped ? ` (stopped reading at offset ${message.stopped.offset}: ${message.stopped.reason} attribute ${message.stopped.attribute})` : '';
    const id = valueOf(message, 'ikeId');
    switch (message.type) {
      case 'ikeAdd':
        return this.ikeAdd(message, stop);
      case 'ikeUpdate': {
        if (!id || message.attributes[0]?.name !== 'ikeId') return skipped('IKE_UPDATE', 'IKE_UPDATE without IKE_ID first: charon ignores it too');
        const sa = this.ikeSas.get(ikeKey(id));
        if (!sa) return skipped(`IKE_UPDATE ${short(ikeKey(id))}`, `IKE_UPDATE for an IKE SA never added (started after its IKE_SA_INIT?)`);
        this.ikeUpdate(sa, message);
        return { summary: `IKE_UPDATE ${short(sa.key)} ${sa.configName ?? ''}${stop}` };
      }
      case 'ikeMidInitiator':
      case 'ikeMidResponder': {
        const mid = valueOf(message, 'mid');
        const sa = id && this.ikeSas.get(ikeKey(id));
        const name = message.type === 'ikeMidInitiator' ? 'IKE_MID_INITIATOR' : 'IKE_MID_RESPONDER';
        if (id && !sa && this.deleted.has(ikeKey(id))) return { summary: `${name} ${short(ikeKey(id))} (deleted SA, ignored)` };
        if (!sa || mid === undefined) return skipped(name, `${name} for an unknown IKE SA or without MID`);
        // charon ignores 0, which never follows a real request.
        if (mid !== 0) sa[message.type === 'ikeMidInitiator' ? 'midInitiator' : 'midResponder'] = mid;
        return { summary: `${name} ${short(sa.key)} ${mid}` };
      }
      case 'ikeDelete': {
        if (!id) return skipped('IKE_DELETE', 'IKE_DELETE without IKE_ID');
        const existed = this.ikeSas.delete(ikeKey(id));
        this.deleted.add(ikeKey(id));
        if (this.deleted.size > 1024) this.deleted.delete(this.deleted.values().next().value as string);
        return existed ? { summary: `IKE_DELETE ${short(ikeKey(id))}` } : skipped(`IKE_DELETE ${short(ikeKey(id))}`, 'IKE_DELETE for an unknown IKE SA');
      }
      case 'childAdd':
        return this.childAdd(message, stop);
      case 'childDelete': {
        const spi = valueOf(message, 'inboundSpi');
        const sa = id && this.ikeSas.get(ikeKey(id));
        if (!sa || !spi) return skipped('CHILD_DELETE', 'CHILD_DELETE for an unknown IKE SA or without SPI');
        const existed = sa.children.delete(hex(spi));
        return existed ? { summary: `CHILD_DELETE ${hex(spi)}` } : skipped(`CHILD_DELETE ${hex(spi)}`, 'CHILD_DELETE for an unknown CHILD SA');
      }
      case 'status':
        this.gatewaySegments = valuesOf(message, 'segment');
        return { summary: `STATUS [${this.gatewaySegments.join(',')}]` };
      case 'segmentTake':
      case 'segmentDrop':
      case 'resync':
        return { summary: `${message.type} [${valuesOf(message, 'segment').join(',')}]` };
      case 'ikeIv':
        return skipped('IKE_IV', 'IKEv1 is not supported');
    }
  }

  private ikeAdd(message: HaMessage, stop: string): ApplyResult {
    const id = valueOf(message, 'ikeId');
    const version = valueOf(message, 'ikeVersion') ?? 2;
    if (!id) return { summary: 'IKE_ADD', warning: 'IKE_ADD without IKE_ID' };
    const key = ikeKey(id);
    if (version !== 2 || id.ikeVersion !== 2) return { summary: `IKE_ADD ${short(key)}`, warning: 'IKEv1 SAs are not supported' };
    const nonceI = valueOf(message, 'nonceI');
    const nonceR = valueOf(message, 'nonceR');
    const secret = valueOf(message, 'secret');
    if (!nonceI || !nonceR || !secret) return { summary: `IKE_ADD ${short(key)}`, warning: `IKE_ADD without nonces or shared secret${stop}` };
    const addSecret = valueOf(message, 'addSecret');
    const encryption = valueOf(message, 'algEncr');
    const existing = this.ikeSas.get(key);

    // 6.0.1+: a further IKE_ADD for an SA that already has a proposal carries the next key
    // exchange (IKE_INTERMEDIATE); keys chain from the SA's own SK_d (RFC 9370).
    if (encryption === undefined) {
      if (!existing) return { summary: `IKE_ADD ${short(key)}`, warning: 'IKE_ADD without a proposal for an unknown IKE SA' };
      existing.keys = deriveIkeKeys({
        ...existing.proposal,
        nonceI,
        nonceR,
        sharedSecret: secret,
        ...(addSecret ? { additionalSecrets: addSecret } : {}),
        spiI: id.spiI,
        spiR: id.spiR,
        rekey: { prf: existing.proposal.prf, skD: existing.keys.skD },
      });
      (existing.intermediateSecrets ??= []).push(secret);
      return { summary: `IKE_ADD ${short(key)} (additional key exchange)` };
    }

    const prf = valueOf(message, 'algPrf');
    if (prf === undefined) return { summary: `IKE_ADD ${short(key)}`, warning: 'IKE_ADD without a PRF' };
    const proposal: IkeProposalIds = { encryption, prf };
    const bits = valueOf(message, 'algEncrLen');
    const integrity = valueOf(message, 'algInteg');
    const ke = valueOf(message, 'algKe');
    if (bits !== undefined) proposal.encryptionKeyBits = bits;
    if (integrity !== undefined) proposal.integrity = integrity;
    if (ke !== undefined) proposal.keyExchange = ke;
    const addKes = valueOf(message, 'algAddKes');
    if (addKes && addKes.length > 0) proposal.additionalKeyExchanges = addKes;

    const rekeyId = valueOf(message, 'ikeRekeyId');
    const oldSkd = valueOf(message, 'oldSkd');
    const oldPrf = valueOf(message, 'algOldPrf');
    if (rekeyId && (!oldSkd || oldPrf === undefined)) return { summary: `IKE_ADD ${short(key)}`, warning: 'IKE rekey without the old SK_d or PRF' };
    // As charon does: OLD_SKD with ALG_OLD_PRF means rekey derivation, REKEY_ID or not (ipsec-ctx's
    // put sends no REKEY_ID: the target does not hold the old SA).
    const rekeyed = oldSkd !== undefined && oldPrf !== undefined;
    // Further secrets are appended only in a rekey's derivation; a new SA gets them one
    // IKE_ADD per IKE_INTERMEDIATE round instead.
    if (addSecret && !rekeyed) return { summary: `IKE_ADD ${short(key)}`, warning: 'IKE_ADD with ADD_SECRET for an SA that is no rekey' };
    const keys = deriveIkeKeys({
      ...proposal,
      nonceI,
      nonceR,
      sharedSecret: secret,
      ...(rekeyed && addSecret ? { additionalSecrets: addSecret } : {}),
      spiI: id.spiI,
      spiR: id.spiR,
      ...(rekeyed ? { rekey: { prf: oldPrf, skD: oldSkd } } : {}),
    });
    const sa: TrackedIkeSa = {
      key,
      id,
      proposal,
      nonceI,
      nonceR,
      keys,
      sharedSecret: secret,
      ...(rekeyed ? { rekeyedFrom: { prf: oldPrf, skD: oldSkd, ...(addSecret ? { additionalSecret: addSecret } : {}) } } : {}),
      addedAtMs: this.nowMs(),
      conditions: 0,
      extensions: 0,
      peerAddrs: [],
      remoteVips: [],
      children: new Map(),
    };
    const remote = valueOf(message, 'remoteAddr');
    if (remote) sa.remoteAddr = remote;
    let summary = `IKE_ADD ${short(key)}`;
    if (rekeyId) {
      const oldKey = ikeKey(rekeyId);
      sa.rekeyOf = oldKey;
      summary += ` rekeying ${short(oldKey)}`;
      // As a receiving charon does: the new SA inherits config, hosts, identities and CHILD SAs.
      const old = this.ikeSas.get(oldKey);
      if (old) {
        for (const field of ['localId', 'remoteId', 'remoteEapId', 'localAddr', 'remoteAddr', 'configName', 'privateConditions', 'privateExtensions'] as const) {
          if (old[field] !== undefined) (sa as unknown as Record<string, unknown>)[field] = old[field];
        }
        sa.conditions = old.conditions;
        sa.extensions = old.extensions;
        sa.peerAddrs = old.peerAddrs;
        sa.remoteVips = old.remoteVips;
        sa.children = old.children;
        old.children = new Map();
      }
    }
    this.ikeSas.set(key, sa);
    return { summary: summary + stop };
  }

  private ikeUpdate(sa: TrackedIkeSa, message: HaMessage): void {
    sa.updatedAtMs ??= this.nowMs();
    let peerAddrs: HaHost[] | undefined;
    let vips: HaHost[] | undefined;
    for (const attribute of message.attributes) {
      switch (attribute.name) {
        case 'localId':
        case 'remoteId':
        case 'remoteEapId':
        case 'localAddr':
        case 'remoteAddr':
        case 'configName':
          (sa as unknown as Record<string, unknown>)[attribute.name] = attribute.value;
          break;
        case 'conditions':
          if (message.version >= 5 && attribute.value & PRIVATE_MARKER) sa.privateConditions = attribute.value & ~PRIVATE_MARKER;
          else sa.conditions = attribute.value;
          break;
        case 'extensions':
          if (message.version >= 5 && attribute.value & PRIVATE_MARKER) sa.privateExtensions = attribute.value & ~PRIVATE_MARKER;
          else sa.extensions = attribute.value;
          break;
        case 'peerAddr':
          (peerAddrs ??= []).push(attribute.value);
          break;
        case 'remoteVip':
          (vips ??= []).push(attribute.value);
          break;
        default:
          break;
      }
    }
    if (peerAddrs) sa.peerAddrs = peerAddrs;
    if (vips) sa.remoteVips = vips;
  }

  private childAdd(message: HaMessage, stop: string): ApplyResult {
    const id = valueOf(message, 'ikeId');
    const sa = id && this.ikeSas.get(ikeKey(id));
    if (!sa) return { summary: 'CHILD_ADD', warning: 'CHILD_ADD for an unknown IKE SA' };
    const need = <T>(value: T | undefined, name: string): T => {
      if (value === undefined) throw new Error(name);
      return value;
    };
    try {
      const encryption = need(valueOf(message, 'algEncr'), 'ALG_ENCR');
      const nonceI = need(valueOf(message, 'nonceI'), 'NONCE_I');
      const nonceR = need(valueOf(message, 'nonceR'), 'NONCE_R');
      const secret = valueOf(message, 'secret');
      const addSecret = valueOf(message, 'addSecret');
      const bits = valueOf(message, 'algEncrLen');
      const integrity = valueOf(message, 'algInteg');
      const ke = valueOf(message, 'algKe');
      const keys = deriveChildKeys({
        prf: sa.proposal.prf,
        skD: sa.keys.skD,
        encryption,
        ...(bits !== undefined ? { encryptionKeyBits: bits } : {}),
        ...(integrity !== undefined ? { integrity } : {}),
        nonceI,
        nonceR,
        ...(secret ? { sharedSecret: secret } : {}),
        ...(addSecret ? { additionalSecrets: addSecret } : {}),
      });
      const child: TrackedChildSa = {
        inboundSpi: need(valueOf(message, 'inboundSpi'), 'INBOUND_SPI'),
        outboundSpi: need(valueOf(message, 'outboundSpi'), 'OUTBOUND_SPI'),
        inboundCpi: valueOf(message, 'inboundCpi') ?? new Uint8Array(2),
        outboundCpi: valueOf(message, 'outboundCpi') ?? new Uint8Array(2),
        initiator: need(valueOf(message, 'initiator'), 'INITIATOR') !== 0,
        mode: need(valueOf(message, 'ipsecMode'), 'IPSEC_MODE'),
        ipcomp: valueOf(message, 'ipcomp') ?? 0,
        configName: need(valueOf(message, 'configName'), 'CONFIG_NAME'),
        encryption,
        esn: (valueOf(message, 'esn') ?? 0) === 1,
        pfs: secret !== undefined,
        localTs: valuesOf(message, 'localTs'),
        remoteTs: valuesOf(message, 'remoteTs'),
        nonceI,
        nonceR,
        ...(secret ? { sharedSecret: secret } : {}),
        ...(addSecret ? { additionalSecret: addSecret } : {}),
        keys,
        addedAtMs: this.nowMs(),
      };
      const addKes = valueOf(message, 'algAddKes');
      if (addKes && addKes.length > 0) child.additionalKeyExchanges = addKes;
      if (bits !== undefined) child.encryptionKeyBits = bits;
      if (integrity !== undefined) child.integrity = integrity;
      if (ke !== undefined) child.keyExchange = ke;
      sa.children.set(hex(child.inboundSpi), child);
      return { summary: `CHILD_ADD ${child.configName} in ${hex(child.inboundSpi)} out ${hex(child.outboundSpi)}${stop}` };
    } catch (error) {
      if (error instanceof Error && /^[A-Z_]+$/.test(error.message)) {
        return { summary: 'CHILD_ADD', warning: `CHILD_ADD without ${error.message}${stop}` };
      }
      throw error;
    }
  }
}
