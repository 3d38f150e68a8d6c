/**
 * Turns what an HaTracker learnt into the context model (docs/model.md), validated with
 * lib/model's Context schema. One HA CHILD_ADD becomes two model CHILD SAs (in and out).
 *
 * The HA protocol does not carry everything the model holds (docs/strongswan.md §9). What it
 * lacks is filled in as follows, and must be overlaid from the kernel (the xfrm driver) or the
 * gateway's configuration where that matters:
 * - authentication methods: from `options.authentication` (charon never syncs them);
 * - reqid: 0, i.e. "let the target choose" (a receiving charon takes it from its own config);
 * - sequence numbers and replay state: those of a fresh SA (the CHILD SA was just installed
 *   when charon sent CHILD_ADD), with `options.replayWindow` (charon's default 32) inbound;
 * - lifetime limits: none known (empty), usage zero, added when CHILD_ADD arrived.
 */
import { GatewayError } from '../../errors.js';
import { ENCRYPTION } from '../../model/algorithms.js';
import type { ChildSa, TrafficSelector } from '../../model/child-sa.js';
import { type Context, MODEL_VERSION } from '../../model/context.js';
import type { AuthMethod, IkeSa } from '../../model/ike-sa.js';
import { parseContext } from '../../model/validate.js';
import type { z } from 'zod';
import type { HaTrafficSelector } from './encodings.js';
import { identityEncodingsOf, formatIdentity } from './identity.js';
import { CONDITION, EXTENSION } from './protocol.js';
import type { TrackedChildSa, TrackedIkeSa, HaTracker } from './tracker.js';
import { resolveDhGroup, resolveEncryption, resolveIntegrity, resolvePrf } from './transforms.js';

type Auth = z.infer<typeof AuthMethod>;

export interface ModelOptions {
  /** The gateway's label for provenance. */
  source: string;
  nowMs: number;
  /** Authentication methods of an IKE SA's connection; the HA protocol does not carry them. */
  authentication: (connection: string, sa: TrackedIkeSa) => { local: Auth; remote: Auth };
  /** Inbound anti-replay window of the gateway's CHILD SAs (charon.replay_window, default 32). */
  replayWindow?: number;
  /**
   * The peer's virtual IPs where HA did not say them (e.g. from vici): charon syncs them once,
   * after IKE_AUTH, and its RESYNC cache drops that message with the SA an IKE rekey replaces.
   */
  remoteVirtualIps?: (sa: TrackedIkeSa) => string[] | undefined;
}

export interface ModelResult {
  context: Context;
  /** SAs left out, and why (not yet established, IPComp, ...). */
  skipped: string[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const seconds = (ms: number) => Math.floor(ms / 1000);
const MODES = { 1: 'transport', 2: 'tunnel', 3: 'beet' } as const;

/**
 * @throws SchemaError when the result breaks a model rule (a bug, or a transform the model
 *   cannot express); GatewayError for transforms ipsec-ctx does not know
 */
export function trackerToContext(tracker: HaTracker, options: ModelOptions): ModelResult {
  const skipped: string[] = [];
  const ikeSas: IkeSa[] = [];
  const childSas: ChildSa[] = [];
  for (const sa of tracker.ikeSas.values()) {
    const name = `IKE SA ${sa.key.slice(0, 16)}/${sa.key.slice(16)}`;
    if (sa.updatedAtMs === undefined || !sa.configName || !sa.localAddr || !sa.remoteAddr || !sa.localId || !sa.remoteId) {
      skipped.push(`${name}: not established on the gateway yet (no IKE_UPDATE)`);
      continue;
    }
    const ikeId = `ike:${hex(sa.id.spiI)}-${hex(sa.id.spiR)}`;
    const children: ChildSa[] = [];
    for (const child of sa.children.values()) {
      if (child.ipcomp !== 0) {
        skipped.push(`CHILD SA ${hex(child.inboundSpi)} of ${name}: IPComp is not supported yet`);
        continue;
      }
      children.push(...childToModel(sa, child, ikeId, options));
    }
    ikeSas.push(ikeToModel(sa, ikeId, children, options));
    childSas.push(...children);
  }
  const context = parseContext({
    version: MODEL_VERSION,
    provenance: { source: options.source, driver: 'strongswan', capturedAtMs: options.nowMs },
    ikeSas,
    childSas,
    policies: [],
  });
  return { context, skipped };
}

function ikeToModel(sa: TrackedIkeSa, id: string, children: ChildSa[], options: ModelOptions): IkeSa {
  const encryption = resolveEncryption(sa.proposal.encryption, sa.proposal.encryptionKeyBits);
  if (sa.proposal.keyExchange === undefined) throw new GatewayError('strongswan.missing_transform', `IKE SA ${sa.key} has no key exchange method`);
  const local = sa.localAddr as NonNullable<TrackedIkeSa['localAddr']>;
  const remote = sa.remoteAddr as NonNullable<TrackedIkeSa['remoteAddr']>;
  const connection = sa.configName as string;
  const vips = sa.remoteVips.length > 0 ? sa.remoteVips.map((vip) => vip.address) : (options.remoteVirtualIps?.(sa) ?? []);
  return {
    id,
    ikeVersion: 2,
    connection,
    spiInitiator: sa.id.spiI,
    spiResponder: sa.id.spiR,
    role: sa.id.initiator ? 'initiator' : 'responder',
    local: { address: local.address, port: local.port },
    remote: { address: remote.address, port: remote.port },
    localIdentity: formatIdentity(sa.localId as NonNullable<TrackedIkeSa['localId']>),
    remoteIdentity: formatIdentity(sa.remoteId as NonNullable<TrackedIkeSa['remoteId']>),
    proposal: {
      encryption: { algorithm: encryption.name, keySize: encryption.keyBits },
      ...(encryption.aead || sa.proposal.integrity === undefined ? {} : { integrity: resolveIntegrity(sa.proposal.integrity).name }),
      prf: resolvePrf(sa.proposal.prf).name,
      dhGroup: resolveDhGroup(sa.proposal.keyExchange),
      ...additionalKeyExchanges(sa.proposal.additionalKeyExchanges, `IKE SA ${sa.key}`),
    },
    authentication: options.authentication(connection, sa),
    keys: { ...sa.keys },
    nonces: { ni: sa.nonceI, nr: sa.nonceR },
    // Request ID + 1 as charon syncs them; 0 where this side never sent (or got) a request.
    messageIds: { nextToSend: sa.midInitiator ?? 0, nextExpected: sa.midResponder ?? 0, windowSize: 1 },
    extensions: {
      natLocal: (sa.conditions & CONDITION.natHere) !== 0,
      natRemote: (sa.conditions & CONDITION.natThere) !== 0,
      mobike: (sa.extensions & EXTENSION.mobike) !== 0,
      messageIdSync: (sa.extensions & EXTENSION.ikeMessageIdSync) !== 0,
      replayCounterSync: false,
    },
    times: { established: seconds(sa.updatedAtMs as number) },
    childSaIds: children.map((c) => c.id),
    ...(sa.remoteEapId ? { remoteEapIdentity: formatIdentity(sa.remoteEapId) } : {}),
    ...identityEncodingsOf({ local: sa.localId, remote: sa.remoteId, remoteEap: sa.remoteEapId }),
    ...(vips.length > 0 ? { remoteVirtualIps: vips } : {}),
    derivation: {
      key: sa.sharedSecret,
      ...(sa.rekeyedFrom
        ? {
            rekey: {
              prf: resolvePrf(sa.rekeyedFrom.prf).name,
              skD: sa.rekeyedFrom.skD,
              ...(sa.rekeyedFrom.additionalSecret ? { additionalKey: sa.rekeyedFrom.additionalSecret } : {}),
            },
          }
        : {}),
      ...(sa.intermediateSecrets ? { intermediateKeys: sa.intermediateSecrets } : {}),
    },
    strongswan: { conditions: sa.conditions >>> 0, extensions: sa.extensions >>> 0 },
  };
}

/**
 * ALG_ADD_KES as the model's list. A gap (0: ke2 without ke1) is refused: RFC 9370 allows it,
 * strongSwan never proposes one, and the model has no spelling for it.
 * @throws GatewayError `strongswan.unsupported_transform`
 */
function additionalKeyExchanges(ids: readonly number[] | undefined, where: string): { additionalKeyExchanges?: ReturnType<typeof resolveDhGroup>[] } {
  if (!ids || ids.length === 0) return {};
  if (ids.includes(0)) throw new GatewayError('strongswan.unsupported_transform', `${where} has a gap in its additional key exchanges (${ids.join(', ')})`);
  return { additionalKeyExchanges: ids.map(resolveDhGroup) };
}

function selectorToModel(ts: HaTrafficSelector): TrafficSelector {
  // A dynamic selector means "the host's own address": charon only reads its start.
  return { protocol: ts.protocol, start: ts.from, end: ts.dynamic ? ts.from : ts.to, startPort: ts.fromPort, endPort: ts.toPort };
}

function childToModel(sa: TrackedIkeSa, child: TrackedChildSa, ikeSaId: string, options: ModelOptions): ChildSa[] {
  const local = sa.localAddr as NonNullable<TrackedIkeSa['localAddr']>;
  const remote = sa.remoteAddr as NonNullable<TrackedIkeSa['remoteAddr']>;
  const encryption = resolveEncryption(child.encryption, child.encryptionKeyBits);
  const integrity = child.integrity === undefined ? undefined : resolveIntegrity(child.integrity);
  // "_i" keys protect initiator → responder traffic: outbound if this gateway initiated.
  const { encrI, integI, encrR, integR } = child.keys;
  const keys = {
    out: child.initiator ? { encr: encrI, integ: integI } : { encr: encrR, integ: integR },
    in: child.initiator ? { encr: encrR, integ: integR } : { encr: encrI, integ: integI },
  };
  const crypto = (direction: 'in' | 'out'): ChildSa['crypto'] => {
    const k = keys[direction];
    if (encryption.aead) {
      return { kind: 'aead', algorithm: encryption.name, keySize: encryption.keyBits, icvBits: ENCRYPTION[encryption.name]?.icvBits ?? 0, key: k.encr };
    }
    if (!integrity || !k.integ) throw new GatewayError('strongswan.missing_transform', `CHILD SA ${hex(child.inboundSpi)} uses ${encryption.name} without integrity`);
    return {
      kind: 'cipher',
      encryption: { algorithm: encryption.name, keySize: encryption.keyBits, key: k.encr },
      integrity: { algorithm: integrity.name, truncBits: integrity.truncBits, key: k.integ },
    };
  };
  const family = local.address.includes(':') ? 'ipv6' : 'ipv4';
  const nat = (sa.conditions & CONDITION.natAny) !== 0;
  const window = options.replayWindow ?? 32;
  const make = (direction: 'in' | 'out'): ChildSa => {
    const inbound = direction === 'in';
    const windowSize = inbound ? window : 0;
    return {
      id: `child:${hex(inbound ? child.inboundSpi : child.outboundSpi)}:${direction}`,
      ikeSaId,
      direction,
      protocol: 'esp',
      spi: inbound ? child.inboundSpi : child.outboundSpi,
      family,
      source: inbound ? remote.address : local.address,
      destination: inbound ? local.address : remote.address,
      mode: MODES[child.mode as 1 | 2 | 3] ?? 'tunnel',
      reqid: 0,
      crypto: crypto(direction),
      sequence: { esn: child.esn, outbound: 0n, inbound: 0n, windowSize, bitmap: new Uint8Array(Math.ceil(windowSize / 32) * 4) },
      lifetime: { soft: {}, hard: {}, used: { bytes: 0n, packets: 0n, addTime: seconds(child.addedAtMs) } },
      ...(nat
        ? {
            encapsulation: {
              type: 'espinudp' as const,
              sourcePort: inbound ? remote.port : local.port,
              destinationPort: inbound ? local.port : remote.port,
            },
          }
        : {}),
      flags: [],
      negotiation: {
        connection: child.configName,
        nonces: { ni: child.nonceI, nr: child.nonceR },
        ...(child.sharedSecret ? { key: child.sharedSecret } : {}),
        ...(child.keyExchange ? { dhGroup: resolveDhGroup(child.keyExchange) } : {}),
        ...(child.additionalSecret ? { additionalKey: child.additionalSecret } : {}),
        ...additionalKeyExchanges(child.additionalKeyExchanges, `CHILD SA ${hex(child.inboundSpi)}`),
        local: child.localTs.map(selectorToModel),
        remote: child.remoteTs.map(selectorToModel),
      },
    };
  };
  if (!(child.mode in MODES)) throw new GatewayError('strongswan.unsupported_mode', `CHILD SA ${hex(child.inboundSpi)} has IPsec mode ${child.mode}`);
  return [make('in'), make('out')];
}
