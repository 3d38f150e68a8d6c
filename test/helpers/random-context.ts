/**
 * Valid contexts of any size, built from a seed: the property tests' generator and the
 * benchmark's workload. Every choice (algorithms, modes, families, optional fields) is drawn,
 * so random contexts cover shapes the fixtures do not.
 */
import { ENCRYPTION, INTEGRITY, PRF, DH_GROUPS, encryptionKeyBytes } from '../../lib/model/algorithms.js';
import type { ChildSa } from '../../lib/model/child-sa.js';
import type { Context } from '../../lib/model/context.js';
import type { IkeSa } from '../../lib/model/ike-sa.js';
import type { Policy } from '../../lib/model/policy.js';
import { seededRandom } from '../../lib/crypto/random.js';

export interface ContextShape {
  ikeSas: number;
  childPairsPerIke: number;
  looseChildren: number;
  /**
   * Give each IKE SA's local identity (a distinguished name) its exact DER encoding, as the
   * strongswan: driver records it. Off by default, so that the contexts the test vectors
   * were made from stay the same.
   */
  exactIdentities?: boolean;
}

/**
 * The key exchanges of IKE_SA_INIT in practice: ML-KEM comes as an additional one. Also the
 * list the test vectors' contexts were drawn from, so it must not grow.
 */
const CLASSIC_KEY_EXCHANGES = DH_GROUPS.filter((group) => !group.startsWith('ML_KEM'));

/** DER of a distinguished name of UTF8String values, each part short (one length byte). */
function derName(parts: readonly [oid: readonly number[], value: string][]): Uint8Array {
  const tlv = (tag: number, body: Uint8Array) => new Uint8Array([tag, body.byteLength, ...body]);
  const rdns = parts.map(([oid, value]) => tlv(0x31, tlv(0x30, new Uint8Array([...tlv(0x06, new Uint8Array(oid)), ...tlv(0x0c, new TextEncoder().encode(value))]))));
  return tlv(0x30, new Uint8Array(rdns.flatMap((rdn) => [...rdn])));
}

const OID_CN = [0x55, 0x04, 0x03];
const OID_O = [0x55, 0x04, 0x0a];

class Draw {
  private readonly random;
  private pool: Uint8Array = new Uint8Array(0);
  private used = 0;
  constructor(seed: string) {
    this.random = seededRandom(seed);
  }
  /** Random bytes, cut from 64 KiB blocks of the seeded stream (large contexts build quickly). */
  bytes(n: number): Uint8Array {
    if (this.used + n > this.pool.byteLength) {
      this.pool = this.random(Math.max(n, 65_536));
      this.used = 0;
    }
    return this.pool.subarray(this.used, (this.used += n));
  }
  int(maxExclusive: number): number {
    const b = this.bytes(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0) % maxExclusive;
  }
  bool(): boolean {
    return this.int(2) === 1;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  nonZero(n: number): Uint8Array {
    const b = this.bytes(n);
    b[n - 1] = (b[n - 1] as number) | 1;
    return b;
  }
  ipv4(): string {
    return `${10 + this.int(200)}.${this.int(256)}.${this.int(256)}.${1 + this.int(254)}`;
  }
  ipv6(): string {
    return `2001:db8:${(1 + this.int(0xfffe)).toString(16)}::${(1 + this.int(0xfffe)).toString(16)}`;
  }
  address(family: 'ipv4' | 'ipv6'): string {
    return family === 'ipv4' ? this.ipv4() : this.ipv6();
  }
}

const AEAD = Object.entries(ENCRYPTION).filter(([, a]) => a.icvBits !== undefined);
const CIPHERS = Object.entries(ENCRYPTION).filter(([, a]) => a.icvBits === undefined);
const INTEG = Object.entries(INTEGRITY);

function childCrypto(d: Draw, protocol: ChildSa['protocol']): ChildSa['crypto'] {
  const integrity = () => {
    const [algorithm, spec] = d.pick(INTEG);
    return { algorithm, truncBits: spec.truncBits, key: d.bytes(spec.keyBytes) };
  };
  if (protocol === 'ah') return { kind: 'integrity', integrity: integrity() };
  if (protocol === 'ipcomp') return { kind: 'compression', algorithm: d.pick(['DEFLATE', 'LZS', 'LZJH'] as const) };
  if (d.bool()) {
    const [algorithm, spec] = d.pick(AEAD);
    const keySize = d.pick(spec.keySizes);
    return { kind: 'aead', algorithm, keySize, icvBits: spec.icvBits as number, key: d.bytes(encryptionKeyBytes(spec, keySize)) };
  }
  const [algorithm, spec] = d.pick(CIPHERS);
  const keySize = d.pick(spec.keySizes);
  return { kind: 'cipher', encryption: { algorithm, keySize, key: d.bytes(encryptionKeyBytes(spec, keySize)) }, integrity: integrity() };
}

function childSa(d: Draw, id: string, direction: 'in' | 'out', family: 'ipv4' | 'ipv6', local: string, remote: string, reqid: number, now: number, ikeSaId?: string): ChildSa {
  const protocol = d.pick(['esp', 'esp', 'esp', 'ah', 'ipcomp'] as const);
  const esn = protocol !== 'ipcomp' && d.bool();
  const windowSize = protocol === 'ipcomp' ? 0 : d.pick([0, 32, 64, 128, 1024]);
  const packets = BigInt(d.int(1_000_000));
  const limit = esn ? 2 ** 40 : 2 ** 31;
  const spi = protocol === 'ipcomp' ? new Uint8Array([0, 0, 0x40 | d.int(0x3f), 1 + d.int(255)]) : d.nonZero(4);
  const sa: ChildSa = {
    id,
    direction,
    protocol,
    spi,
    family,
    source: direction === 'out' ? local : remote,
    destination: direction === 'out' ? remote : local,
    mode: d.pick(['tunnel', 'tunnel', 'transport', 'beet'] as const),
    reqid,
    crypto: childCrypto(d, protocol),
    sequence: {
      esn,
      outbound: direction === 'out' && protocol !== 'ipcomp' ? BigInt(d.int(limit)) : 0n,
      inbound: direction === 'in' && protocol !== 'ipcomp' ? BigInt(d.int(limit)) : 0n,
      windowSize,
      bitmap: d.bytes(Math.ceil(windowSize / 32) * 4),
    },
    lifetime: {
      soft: d.bool() ? { addSeconds: 3240n + BigInt(d.int(200)) } : {},
      hard: d.bool() ? { addSeconds: 3600n, bytes: d.bool() ? 2n ** 40n : undefined } : {},
      used: { bytes: packets * 120n, packets, addTime: now - 60 - d.int(1800), useTime: d.bool() ? now - 30 : undefined },
    },
    flags: d.bool() ? [] : [d.pick(['noecn', 'decap-dscp', 'af-unspec'] as const)],
  };
  if (ikeSaId !== undefined) sa.ikeSaId = ikeSaId;
  if (protocol === 'esp' && family === 'ipv4' && d.bool()) sa.encapsulation = { type: 'espinudp', sourcePort: 4500, destinationPort: 4500 + d.int(60000) };
  if (d.bool()) sa.mark = { value: d.int(1 << 16), mask: 0xffffffff };
  if (d.bool()) sa.ifId = 1 + d.int(1000);
  // Drop the explicit undefineds the lifetime builder left, as a decoded context has none.
  for (const side of ['soft', 'hard'] as const) {
    const limits = sa.lifetime[side] as Record<string, unknown>;
    for (const key of Object.keys(limits)) if (limits[key] === undefined) delete limits[key];
  }
  if (sa.lifetime.used.useTime === undefined) delete sa.lifetime.used.useTime;
  return sa;
}

function ikeSa(d: Draw, id: string, family: 'ipv4' | 'ipv6', local: string, remote: string, childSaIds: string[], now: number): IkeSa {
  const aead = d.bool();
  const [encryption, encSpec] = aead ? d.pick(AEAD.filter(([, a]) => a.ike)) : d.pick(CIPHERS.filter(([, a]) => a.ike));
  const keySize = d.pick(encSpec.keySizes);
  const [prf, prfSpec] = d.pick(Object.entries(PRF));
  const [integrity, integSpec] = d.pick(INTEG);
  const encBytes = encryptionKeyBytes(encSpec, keySize);
  const sa: IkeSa = {
    id,
    ikeVersion: 2,
    connection: `conn-${id}`,
    spiInitiator: d.nonZero(8),
    spiResponder: d.nonZero(8),
    role: d.pick(['initiator', 'responder'] as const),
    local: { address: local, port: d.pick([500, 4500]) },
    remote: { address: remote, port: d.pick([500, 4500, 1024 + d.int(60000)]) },
    localIdentity: `CN=gw-${id}, O=Example`,
    remoteIdentity: `peer-${id}@example.org`,
    proposal: { encryption: { algorithm: encryption, keySize }, prf, dhGroup: d.pick(CLASSIC_KEY_EXCHANGES) },
    authentication: { local: 'pubkey', remote: d.pick(['pubkey', 'psk', 'eap'] as const) },
    keys: {
      skD: d.bytes(prfSpec.keyBytes),
      skEi: d.bytes(encBytes),
      skEr: d.bytes(encBytes),
      skPi: d.bytes(prfSpec.keyBytes),
      skPr: d.bytes(prfSpec.keyBytes),
    },
    messageIds: { nextToSend: d.int(1000), nextExpected: d.int(1000), windowSize: 1 },
    extensions: { natLocal: d.bool(), natRemote: d.bool(), mobike: d.bool(), messageIdSync: d.bool(), replayCounterSync: false },
    times: { established: now - 100 - d.int(3000), rekey: now + d.int(10000) },
    childSaIds,
  };
  if (!aead) {
    sa.proposal.integrity = integrity;
    sa.keys.skAi = d.bytes(integSpec.keyBytes);
    sa.keys.skAr = d.bytes(integSpec.keyBytes);
  }
  if (d.bool()) sa.nonces = { ni: d.bytes(32), nr: d.bytes(32) };
  return sa;
}

function policyFor(d: Draw, id: string, child: ChildSa, direction: Policy['direction']): Policy {
  const width = child.family === 'ipv4' ? 32 : 128;
  const prefix = (address: string) => `${address}/${d.pick([width, width])}`;
  const out = direction === 'out';
  return {
    id,
    direction,
    action: 'allow',
    selector: {
      family: child.family,
      source: prefix(out ? child.source : child.destination),
      destination: prefix(out ? child.destination : child.source),
      ...(d.bool() ? { protocol: 6, destinationPort: { port: 443, mask: 0xffff } } : {}),
    },
    priority: 375423 + d.int(1000),
    templates: [
      {
        protocol: child.protocol,
        mode: child.mode,
        reqid: child.reqid,
        family: child.family,
        ...(child.mode === 'transport' ? {} : { source: child.source, destination: child.destination }),
        optional: false,
      },
    ],
  };
}

export function randomContext(seed: string, shape: ContextShape, nowMs = 1_795_600_000_000): Context {
  const d = new Draw(seed);
  const now = Math.floor(nowMs / 1000);
  const ikeSas: IkeSa[] = [];
  const childSas: ChildSa[] = [];
  const policies: Policy[] = [];
  let reqid = 1;
  for (let i = 0; i < shape.ikeSas; i++) {
    const family = d.pick(['ipv4', 'ipv6'] as const);
    const local = d.address(family);
    const remote = d.address(family);
    const ids: string[] = [];
    for (let j = 0; j < shape.childPairsPerIke; j++, reqid++) {
      for (const direction of ['out', 'in'] as const) {
        const child = childSa(d, `c${childSas.length}`, direction, family, local, remote, reqid, now, `i${i}`);
        ids.push(child.id);
        childSas.push(child);
        policies.push(policyFor(d, `p${policies.length}`, child, direction));
      }
    }
    const ike = ikeSa(d, `i${i}`, family, local, remote, ids, now);
    if (shape.exactIdentities) ike.identityEncodings = { local: { type: 9, data: derName([[OID_CN, `gw-i${i}`], [OID_O, 'Example']]) } };
    ikeSas.push(ike);
  }
  for (let k = 0; k < shape.looseChildren; k++, reqid++) {
    const family = d.pick(['ipv4', 'ipv6'] as const);
    childSas.push(childSa(d, `c${childSas.length}`, d.pick(['in', 'out'] as const), family, d.address(family), d.address(family), reqid, now));
  }
  return {
    version: 1,
    provenance: { source: `gw-${seed}`.slice(0, 200), driver: 'file', capturedAtMs: nowMs },
    ikeSas,
    childSas,
    policies,
  };
}
