/**
 * The other direction of to-model.ts: the HA sync messages that make a receiving charon hold
 * the IKE and CHILD SAs of a context (docs/strongswan.md §8). charon never takes keys as they
 * are; it derives them itself from what the IKE exchanges produced (nonces, the key
 * exchange's shared secret, for a rekeyed SA the old SK_d), so a context can only be put
 * into charon when it carries that material (`derivation` on IKE SAs, `negotiation` on CHILD
 * SAs, as the strongswan: driver's get fills them). Before anything is sent, every key is
 * derived here the way charon will and compared with the context's own keys: a mismatch
 * would install SAs that silently drop every packet.
 *
 * Per IKE SA, in the order charon accepts: IKE_ADD (IKE_VERSION before IKE_ID), IKE_UPDATE
 * (IKE_ID first; the connection name makes the SA PASSIVE), IKE_UPDATE with the peer's
 * virtual IPs, IKE_MID_INITIATOR and IKE_MID_RESPONDER, then one CHILD_ADD per CHILD SA pair.
 */
import { GatewayError } from '../../errors.js';
import type { ChildSa, TrafficSelector } from '../../model/child-sa.js';
import type { Context } from '../../model/context.js';
import type { IkeSa } from '../../model/ike-sa.js';
import type { HaAttribute, HaMessage } from './codec.js';
import type { HaHost, HaTrafficSelector } from './encodings.js';
import { identityToIke } from './identity.js';
import { type ChildKeys, type IkeKeyInput, deriveChildKeys, deriveIkeKeys } from './keymat.js';
import { CONDITION, EXTENSION, type Layout } from './protocol.js';
import { DH_IDS, ENCRYPTION_IDS, INTEGRITY_IDS, PRF_IDS } from './transforms.js';

const hex = (b: Uint8Array | undefined) => (b === undefined ? '' : Buffer.from(b).toString('hex'));
const equal = (a: Uint8Array | undefined, b: Uint8Array | undefined) => (a === undefined || b === undefined ? a === b : Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b));

const invert = <T extends string>(table: Readonly<Record<number, T | { name: T }>>): Map<string, number> =>
  new Map(Object.entries(table).map(([id, v]) => [typeof v === 'string' ? v : v.name, Number(id)]));
const ENCRYPTION_BY_NAME = invert(ENCRYPTION_IDS);
const INTEGRITY_BY_NAME = invert(INTEGRITY_IDS);
const PRF_BY_NAME = invert(PRF_IDS);
const DH_BY_NAME = invert(DH_IDS);

function transformId(table: Map<string, number>, kind: string, name: string, where: string): number {
  const id = table.get(name);
  if (id === undefined) throw new GatewayError('strongswan.unsupported_transform', `${where}: ${kind} ${name} has no IKEv2 transform ID ipsec-ctx knows`);
  return id;
}

/** The key size charon puts in ALG_ENCR_LEN: none for ciphers with a fixed key size. */
function encryptionLength(name: string, keySize: number): number | undefined {
  const id = ENCRYPTION_BY_NAME.get(name);
  return id !== undefined && ENCRYPTION_IDS[id]?.defaultKeyBits !== undefined ? undefined : keySize;
}

const family = (address: string) => (address.includes(':') ? 10 : 2);
const host = (address: string, port: number): HaHost => ({ family: family(address), port, address });

const selector = (ts: TrafficSelector): HaTrafficSelector => ({
  tsType: ts.start.includes(':') ? 8 : 7,
  protocol: ts.protocol,
  fromPort: ts.startPort,
  toPort: ts.endPort,
  dynamic: false,
  from: ts.start,
  to: ts.end,
});

export interface ChildPair {
  inbound: ChildSa;
  outbound: ChildSa;
  /** This gateway started the exchange that made the pair (HA INITIATOR). */
  initiator: boolean;
}

export interface PlannedIkeSa {
  ike: IkeSa;
  children: ChildPair[];
  /** In sending order. */
  messages: Pick<HaMessage, 'type' | 'attributes'>[];
}

function childKeysOf(child: ChildSa): { encr: Uint8Array; integ?: Uint8Array } {
  if (child.crypto.kind === 'aead') return { encr: child.crypto.key };
  if (child.crypto.kind === 'cipher') return { encr: child.crypto.encryption.key, integ: child.crypto.integrity.key };
  throw new GatewayError('strongswan.unsupported_child', `CHILD SA ${child.id}: ${child.crypto.kind} SAs cannot be synced to charon`);
}

function checkIkeKeys(ike: IkeSa, where: string): void {
  const derivation = ike.derivation;
  if (!derivation || !ike.nonces) {
    throw new GatewayError('strongswan.not_derivable', `${where} carries no key derivation material (nonces, shared secret): charon derives IKE keys itself and cannot take them as they are`, {
      hint: 'read the source with the strongswan: driver; contexts from other drivers cannot be put into charon',
    });
  }
  const p = ike.proposal;
  const bits = encryptionLength(p.encryption.algorithm, p.encryption.keySize);
  const prf = transformId(PRF_BY_NAME, 'PRF', p.prf, where);
  const round = (sharedSecret: Uint8Array, rekey?: IkeKeyInput['rekey'], additionalSecrets?: Uint8Array) =>
    deriveIkeKeys({
      prf,
      encryption: transformId(ENCRYPTION_BY_NAME, 'encryption', p.encryption.algorithm, where),
      ...(bits !== undefined ? { encryptionKeyBits: bits } : {}),
      ...(p.integrity !== undefined ? { integrity: transformId(INTEGRITY_BY_NAME, 'integrity', p.integrity, where) } : {}),
      nonceI: ike.nonces!.ni,
      nonceR: ike.nonces!.nr,
      sharedSecret,
      spiI: ike.spiInitiator,
      spiR: ike.spiResponder,
      ...(rekey ? { rekey } : {}),
      ...(additionalSecrets ? { additionalSecrets } : {}),
    });
  const r = derivation.rekey;
  let keys = round(derivation.key, r ? { prf: transformId(PRF_BY_NAME, 'PRF', r.prf, where), skD: r.skD } : undefined, r?.additionalKey);
  // RFC 9370 IKE_INTERMEDIATE: each further key exchange derives again from the SK_d before it.
  for (const key of derivation.intermediateKeys ?? []) keys = round(key, { prf, skD: keys.skD });
  for (const name of ['skD', 'skAi', 'skAr', 'skEi', 'skEr', 'skPi', 'skPr'] as const) {
    if (!equal(keys[name], ike.keys[name])) {
      throw new GatewayError('strongswan.keys_mismatch', `${where}: ${name} derived from the context's nonces and shared secret differs from the context's own ${name}; charon would hold other keys than the peer`);
    }
  }
}

/** Which side of the derived CHILD keys the outbound SA holds: initiator → responder (`_i`) or the reverse. */
function childInitiator(ike: IkeSa, pair: { inbound: ChildSa; outbound: ChildSa }, where: string): boolean {
  const n = pair.outbound.negotiation!;
  const crypto = pair.outbound.crypto;
  const encryption = crypto.kind === 'aead' ? { algorithm: crypto.algorithm, keySize: crypto.keySize } : crypto.kind === 'cipher' ? crypto.encryption : undefined;
  if (!encryption) throw new GatewayError('strongswan.unsupported_child', `${where}: only ESP SAs can be synced to charon`);
  const bits = encryptionLength(encryption.algorithm, encryption.keySize);
  const keys: ChildKeys = deriveChildKeys({
    prf: transformId(PRF_BY_NAME, 'PRF', ike.proposal.prf, where),
    skD: ike.keys.skD,
    encryption: transformId(ENCRYPTION_BY_NAME, 'encryption', encryption.algorithm, where),
    ...(bits !== undefined ? { encryptionKeyBits: bits } : {}),
    ...(crypto.kind === 'cipher' ? { integrity: transformId(INTEGRITY_BY_NAME, 'integrity', crypto.integrity.algorithm, where) } : {}),
    nonceI: n.nonces.ni,
    nonceR: n.nonces.nr,
    ...(n.key ? { sharedSecret: n.key } : {}),
    ...(n.additionalKey ? { additionalSecrets: n.additionalKey } : {}),
  });
  const out = childKeysOf(pair.outbound);
  const inb = childKeysOf(pair.inbound);
  const matches = (a: { encr: Uint8Array; integ?: Uint8Array }, encr: Uint8Array, integ: Uint8Array | undefined) => equal(a.encr, encr) && equal(a.integ, integ);
  if (matches(out, keys.encrI, keys.integI) && matches(inb, keys.encrR, keys.integR)) return true;
  if (matches(out, keys.encrR, keys.integR) && matches(inb, keys.encrI, keys.integI)) return false;
  throw new GatewayError(
    'strongswan.keys_mismatch',
    `${where}: its keys do not derive from its IKE SA's SK_d and nonces (was it made before an IKE rekey?); charon would install other keys than the peer's`,
    { hint: 'read the gateway again with the strongswan: driver: its RESYNC rekeys every CHILD SA under the current IKE SA' },
  );
}

/** The IKE SAs of `context` with their CHILD SA pairs, checked, and the HA messages for each. @throws GatewayError */
export function planSync(context: Context, layout: Layout): PlannedIkeSa[] {
  const childById = new Map(context.childSas.map((c) => [c.id, c]));
  const loose = context.childSas.filter((c) => c.ikeSaId === undefined);
  if (loose.length > 0) {
    throw new GatewayError('strongswan.unsupported_child', `CHILD SA ${loose[0]!.id} belongs to no IKE SA: charon holds CHILD SAs only under an IKE SA`, {
      hint: 'put manually keyed SAs with the xfrm: driver',
    });
  }
  if (context.policies.length > 0) {
    // charon installs the policies of each CHILD SA itself, from its traffic selectors.
  }
  return context.ikeSas.map((ike) => {
    const where = `IKE SA ${ike.connection} ${hex(ike.spiInitiator)}_i ${hex(ike.spiResponder)}_r`;
    checkIkeKeys(ike, where);
    const groups = new Map<string, { inbound?: ChildSa; outbound?: ChildSa }>();
    for (const id of ike.childSaIds) {
      const child = childById.get(id)!;
      const n = child.negotiation;
      if (!n) {
        throw new GatewayError('strongswan.not_derivable', `CHILD SA ${child.id} of ${where} carries no negotiation record (config name, nonces, traffic selectors): charon cannot take it`, {
          hint: 'read the source with the strongswan: driver',
        });
      }
      if (child.protocol !== 'esp') throw new GatewayError('strongswan.unsupported_child', `CHILD SA ${child.id}: only ESP SAs can be synced to charon`);
      const key = `${hex(n.nonces.ni)}/${hex(n.nonces.nr)}`;
      const group = groups.get(key) ?? {};
      group[child.direction === 'in' ? 'inbound' : 'outbound'] = child;
      groups.set(key, group);
    }
    const children: ChildPair[] = [...groups.values()].map((group) => {
      const { inbound, outbound } = group;
      if (!inbound || !outbound) {
        throw new GatewayError('strongswan.unsupported_child', `CHILD SA ${(inbound ?? outbound)!.id} of ${where} has no partner in the other direction: charon installs CHILD SAs as in/out pairs`);
      }
      return { inbound, outbound, initiator: childInitiator(ike, { inbound, outbound }, `CHILD SA ${inbound.negotiation!.connection} ${hex(inbound.spi)}/${hex(outbound.spi)} of ${where}`) };
    });
    checkKeyExchangesFit(ike, children, layout, where);
    return { ike, children, messages: messagesFor(ike, children, layout, where) };
  });
}

function conditionsOf(ike: IkeSa): number {
  if (ike.strongswan) return ike.strongswan.conditions;
  let c = 0;
  if (ike.extensions.natLocal || ike.extensions.natRemote) c |= CONDITION.natAny;
  if (ike.extensions.natLocal) c |= CONDITION.natHere;
  if (ike.extensions.natRemote) c |= CONDITION.natThere;
  if (ike.role === 'initiator') c |= CONDITION.originalInitiator;
  return c | (1 << 14); // COND_AUTHENTICATED: the SA completed IKE_AUTH
}

function extensionsOf(ike: IkeSa): number {
  if (ike.strongswan) return ike.strongswan.extensions;
  let e = EXTENSION.natt;
  if (ike.extensions.mobike) e |= EXTENSION.mobike;
  if (ike.extensions.messageIdSync) e |= EXTENSION.ikeMessageIdSync;
  return e;
}

function addKesAttribute(names: readonly string[] | undefined, where: string): HaAttribute[] {
  if (!names) return [];
  return [{ name: 'algAddKes', value: names.map((name) => transformId(DH_BY_NAME, 'key exchange', name, where)) }];
}

/**
 * Several key exchanges (RFC 9370) exist only from HA protocol version 4 (strongSwan 6.0.1) on:
 * version 3 has no ADD_SECRET or ALG_ADD_KES, and a 6.0.0 or 5.x target would derive other keys.
 * @throws GatewayError `strongswan.version_unsupported`
 */
function checkKeyExchangesFit(ike: IkeSa, children: ChildPair[], layout: Layout, where: string): void {
  if (layout === 'v4' || layout === 'v5') return;
  const d = ike.derivation;
  const several =
    ike.proposal.additionalKeyExchanges !== undefined ||
    d?.intermediateKeys !== undefined ||
    d?.rekey?.additionalKey !== undefined ||
    children.some(({ inbound }) => inbound.negotiation?.additionalKey !== undefined || inbound.negotiation?.additionalKeyExchanges !== undefined);
  if (several) {
    throw new GatewayError('strongswan.version_unsupported', `${where} uses several key exchanges (RFC 9370), which the target's HA protocol version 3 cannot carry`, {
      hint: 'the target must run strongSwan 6.0.1 or later (HA protocol version 4)',
    });
  }
}

function messagesFor(ike: IkeSa, children: ChildPair[], layout: Layout, where: string): Pick<HaMessage, 'type' | 'attributes'>[] {
  const id = { ikeVersion: 2, spiI: ike.spiInitiator, spiR: ike.spiResponder, initiator: ike.role === 'initiator' };
  const p = ike.proposal;
  const bits = encryptionLength(p.encryption.algorithm, p.encryption.keySize);
  const d = ike.derivation!;
  const nonces = ike.nonces!;
  const add: HaAttribute[] = [
    { name: 'ikeVersion', value: 2 },
    { name: 'ikeId', value: id },
    ...(d.rekey
      ? ([
          // Only the derivation needs these; charon does not find the old SA and moves on.
          { name: 'algOldPrf', value: transformId(PRF_BY_NAME, 'PRF', d.rekey.prf, where) },
          { name: 'oldSkd', value: d.rekey.skD },
        ] as HaAttribute[])
      : []),
    { name: 'algEncr', value: transformId(ENCRYPTION_BY_NAME, 'encryption', p.encryption.algorithm, where) },
    ...(bits !== undefined ? ([{ name: 'algEncrLen', value: bits }] as HaAttribute[]) : []),
    ...(p.integrity !== undefined ? ([{ name: 'algInteg', value: transformId(INTEGRITY_BY_NAME, 'integrity', p.integrity, where) }] as HaAttribute[]) : []),
    { name: 'algPrf', value: transformId(PRF_BY_NAME, 'PRF', p.prf, where) },
    ...(layout === 'v3-50' ? [] : ([{ name: 'algKe', value: transformId(DH_BY_NAME, 'key exchange', p.dhGroup, where) }] as HaAttribute[])),
    ...addKesAttribute(p.additionalKeyExchanges, where),
    { name: 'nonceI', value: nonces.ni },
    { name: 'nonceR', value: nonces.nr },
    { name: 'secret', value: d.key },
    ...(d.rekey?.additionalKey ? ([{ name: 'addSecret', value: d.rekey.additionalKey }] as HaAttribute[]) : []),
    { name: 'remoteAddr', value: host(ike.remote.address, ike.remote.port) },
  ];
  // One IKE_ADD per IKE_INTERMEDIATE key exchange, without a proposal: the receiver derives its
  // keys again from the SA's own SK_d, as charon does after each round.
  const intermediate = (d.intermediateKeys ?? []).map(
    (key): Pick<HaMessage, 'type' | 'attributes'> => ({
      type: 'ikeAdd',
      attributes: [
        { name: 'ikeVersion', value: 2 },
        { name: 'ikeId', value: id },
        { name: 'nonceI', value: nonces.ni },
        { name: 'nonceR', value: nonces.nr },
        { name: 'secret', value: key },
        { name: 'remoteAddr', value: host(ike.remote.address, ike.remote.port) },
      ],
    }),
  );
  const conditions = conditionsOf(ike);
  const extensions = extensionsOf(ike);
  const encodings = ike.identityEncodings;
  const update: HaAttribute[] = [
    { name: 'ikeId', value: id },
    { name: 'localId', value: identityToIke(ike.localIdentity, encodings?.local, `${where} local identity`) },
    { name: 'remoteId', value: identityToIke(ike.remoteIdentity, encodings?.remote, `${where} remote identity`) },
    ...(ike.remoteEapIdentity !== undefined
      ? ([{ name: 'remoteEapId', value: identityToIke(ike.remoteEapIdentity, encodings?.remoteEap, `${where} EAP identity`) }] as HaAttribute[])
      : []),
    { name: 'localAddr', value: host(ike.local.address, ike.local.port) },
    { name: 'remoteAddr', value: host(ike.remote.address, ike.remote.port) },
    { name: 'conditions', value: conditions },
    { name: 'extensions', value: extensions },
    // v5 receivers take a second value with bit 31 set as the private bits: none here.
    ...(layout === 'v5'
      ? ([
          { name: 'conditions', value: 0x8000_0000 },
          { name: 'extensions', value: 0x8000_0000 },
        ] as HaAttribute[])
      : []),
    { name: 'configName', value: ike.connection },
    { name: 'peerAddr', value: host(ike.remote.address, ike.remote.port) },
  ];
  const messages: Pick<HaMessage, 'type' | 'attributes'>[] = [{ type: 'ikeAdd', attributes: add }, ...intermediate, { type: 'ikeUpdate', attributes: update }];
  if (ike.remoteVirtualIps && ike.remoteVirtualIps.length > 0) {
    messages.push({
      type: 'ikeUpdate',
      attributes: [{ name: 'ikeId', value: id }, ...ike.remoteVirtualIps.map((vip): HaAttribute => ({ name: 'remoteVip', value: host(vip, 0) }))],
    });
  }
  // charon ignores 0: an SA that never sent (or got) a request keeps its fresh counter.
  if (ike.messageIds.nextToSend !== 0) messages.push({ type: 'ikeMidInitiator', attributes: [{ name: 'ikeId', value: id }, { name: 'mid', value: ike.messageIds.nextToSend }] });
  if (ike.messageIds.nextExpected !== 0) messages.push({ type: 'ikeMidResponder', attributes: [{ name: 'ikeId', value: id }, { name: 'mid', value: ike.messageIds.nextExpected }] });

  for (const pair of children) {
    const n = pair.inbound.negotiation!;
    const crypto = pair.inbound.crypto;
    const encryption = crypto.kind === 'aead' ? { algorithm: crypto.algorithm, keySize: crypto.keySize } : crypto.kind === 'cipher' ? crypto.encryption : undefined;
    const cbits = encryptionLength(encryption!.algorithm, encryption!.keySize);
    const mode = { transport: 1, tunnel: 2, beet: 3 }[pair.inbound.mode];
    messages.push({
      type: 'childAdd',
      attributes: [
        { name: 'ikeId', value: id },
        { name: 'initiator', value: pair.initiator ? 1 : 0 },
        { name: 'inboundSpi', value: pair.inbound.spi },
        { name: 'outboundSpi', value: pair.outbound.spi },
        { name: 'inboundCpi', value: new Uint8Array(2) },
        { name: 'outboundCpi', value: new Uint8Array(2) },
        { name: 'ipsecMode', value: mode },
        { name: 'ipcomp', value: 0 },
        { name: 'configName', value: n.connection },
        { name: 'algEncr', value: transformId(ENCRYPTION_BY_NAME, 'encryption', encryption!.algorithm, where) },
        ...(cbits !== undefined ? ([{ name: 'algEncrLen', value: cbits }] as HaAttribute[]) : []),
        ...(crypto.kind === 'cipher' ? ([{ name: 'algInteg', value: transformId(INTEGRITY_BY_NAME, 'integrity', crypto.integrity.algorithm, where) }] as HaAttribute[]) : []),
        ...(n.dhGroup !== undefined && layout !== 'v3-50' ? ([{ name: 'algKe', value: transformId(DH_BY_NAME, 'key exchange', n.dhGroup, where) }] as HaAttribute[]) : []),
        ...addKesAttribute(n.additionalKeyExchanges, where),
        { name: 'esn', value: pair.inbound.sequence.esn ? 1 : 0 },
        { name: 'nonceI', value: n.nonces.ni },
        { name: 'nonceR', value: n.nonces.nr },
        ...(n.key ? ([{ name: 'secret', value: n.key }] as HaAttribute[]) : []),
        ...(n.additionalKey ? ([{ name: 'addSecret', value: n.additionalKey }] as HaAttribute[]) : []),
        ...n.local.map((ts): HaAttribute => ({ name: 'localTs', value: selector(ts) })),
        ...n.remote.map((ts): HaAttribute => ({ name: 'remoteTs', value: selector(ts) })),
      ],
    });
  }
  return messages;
}
