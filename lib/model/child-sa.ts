/**
 * One IPsec SA of the SAD (RFC 4301 §4.4.2), unidirectional, with everything the kernel needs
 * to carry on: keys, outbound sequence counter, inbound anti-replay state, lifetime used so far.
 */
import { z } from 'zod';
import { COMPRESSION, DH_GROUPS, ENCRYPTION, INTEGRITY, encryptionKeyBytes, encryptionNames, integrityNames } from './algorithms.js';
import { Address, Family, IpsecMode, IpsecProtocol, Mark, Selector } from './common.js';
import { familyOf } from './address.js';
import { bytes, isAllZero, label, localId, u16, u32, u64, u8, unixSeconds } from './leaves.js';
import { type ReportIssue, reportTo } from './rules.js';
import { secret } from './secret.js';

export const Integrity = z.strictObject({
  algorithm: z.enum(integrityNames),
  truncBits: z.number().int().min(32).max(512),
  key: secret(bytes({ max: 64 })),
});

/** Keys and algorithms, by shape: AEAD (ESP), cipher plus integrity (ESP), integrity only (AH), compression (IPComp). */
export const ChildCrypto = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('aead'),
    algorithm: z.enum(encryptionNames),
    keySize: z.number().int(),
    icvBits: z.number().int(),
    key: secret(bytes({ max: 64 })),
  }),
  z.strictObject({
    kind: z.literal('cipher'),
    encryption: z.strictObject({
      algorithm: z.enum(encryptionNames),
      keySize: z.number().int(),
      key: secret(bytes({ max: 64 })),
    }),
    integrity: Integrity,
  }),
  z.strictObject({ kind: z.literal('integrity'), integrity: Integrity }),
  z.strictObject({ kind: z.literal('compression'), algorithm: z.enum(COMPRESSION) }),
]);
export type ChildCrypto = z.infer<typeof ChildCrypto>;

/**
 * Sequence state (RFC 4303 §3.3.3, §3.4.3). `outbound` is the last sequence number sent;
 * `inbound` the highest received, with the anti-replay window: `windowSize` packets, and
 * `bitmap` where bit i (bit i % 8 of byte i / 8) says `inbound - i` was received
 * (docs/FORMAT.md §4.3).
 * With ESN all counters are 64-bit; without, they must fit in 32 bits.
 */
export const Sequence = z.strictObject({
  esn: z.boolean(),
  outbound: u64(),
  inbound: u64(),
  windowSize: z.number().int().min(0).max(0x1_0000 * 32),
  bitmap: bytes({ max: 0x1_0000 * 4 }),
});
export type Sequence = z.infer<typeof Sequence>;

/** One side of a lifetime (RFC 4301 §4.4.2.1); absent fields mean no limit. */
export const LifetimeLimit = z.strictObject({
  bytes: u64().optional(),
  packets: u64().optional(),
  addSeconds: u64().optional(),
  useSeconds: u64().optional(),
});

export const Lifetime = z.strictObject({
  soft: LifetimeLimit,
  hard: LifetimeLimit,
  used: z.strictObject({
    bytes: u64(),
    packets: u64(),
    /** When the SA was installed, seconds since the epoch. */
    addTime: unixSeconds(),
    /** When the SA first carried a packet; absent if it never did. */
    useTime: unixSeconds().optional(),
  }),
});
export type Lifetime = z.infer<typeof Lifetime>;

/** ESP in UDP (RFC 3948); `originalAddress` is the NAT-OA for transport mode checksum fixes. */
export const Encapsulation = z.strictObject({
  type: z.literal('espinudp'),
  sourcePort: u16(),
  destinationPort: u16(),
  originalAddress: Address.optional(),
});

/**
 * An IKEv2 traffic selector (RFC 7296 §3.13.1): an address range, an IP protocol (0 = any)
 * and a port range, as the IKE daemon negotiated it (the kernel's policies are prefixes).
 */
export const TrafficSelector = z
  .strictObject({
    protocol: u8(),
    start: Address,
    end: Address,
    startPort: u16(),
    endPort: u16(),
  })
  .superRefine((ts, ctx) => {
    if (familyOf(ts.start) !== familyOf(ts.end)) ctx.addIssue({ code: 'custom', path: ['end'], message: 'start and end of a traffic selector are of different families' });
    if (ts.startPort > ts.endPort) ctx.addIssue({ code: 'custom', path: ['endPort'], message: 'port range ends before it starts' });
  });
export type TrafficSelector = z.infer<typeof TrafficSelector>;

/**
 * How the IKE SA negotiated this CHILD SA, for an IKE daemon that derives the keys itself
 * (RFC 7296 §2.17) rather than taking them: the CHILD SA's config name (`connection`), the
 * nonces of its exchange, the PFS shared secret (`key`, with `dhGroup`) and the traffic
 * selectors. Both SAs of a pair (in and out) carry the same record. Absent when not known.
 */
export const ChildNegotiation = z.strictObject({
  connection: label(),
  nonces: z.strictObject({
    ni: secret(bytes({ min: 1, max: 256 })),
    nr: secret(bytes({ min: 1, max: 256 })),
  }),
  key: secret(bytes({ min: 1, max: 1024 })).optional(),
  dhGroup: z.enum(DH_GROUPS).optional(),
  /** PFS with additional key exchanges (RFC 9370): their shared secrets joined, appended after the nonces. */
  additionalKey: secret(bytes({ min: 1, max: 8192 })).optional(),
  additionalKeyExchanges: z.array(z.enum(DH_GROUPS)).min(1).max(7).optional(),
  local: z.array(TrafficSelector),
  remote: z.array(TrafficSelector),
});
export type ChildNegotiation = z.infer<typeof ChildNegotiation>;

/** XFRM state flags (struct xfrm_usersa_info `flags`), in bit order. */
export const STATE_FLAGS = ['noecn', 'decap-dscp', 'nopmtudisc', 'wildrecv', 'icmp', 'af-unspec', 'align4'] as const;
/**
 * Extra state flags (XFRMA_SA_EXTRA_FLAGS). `dont-encap-dscp` is what strongSwan sets on
 * outbound SAs unless `copy_dscp` includes `out`. (oseq-may-wrap, which lets a counter wrap
 * without ESN, is not carried: a restore must never let a counter wrap.)
 */
export const EXTRA_STATE_FLAGS = ['dont-encap-dscp'] as const;

export const ChildSa = z
  .strictObject({
    id: localId(),
    /** The IKE SA that negotiated this SA; absent for SAs with no IKE SA in the context. */
    ikeSaId: localId().optional(),
    direction: z.enum(['in', 'out']),
    protocol: IpsecProtocol,
    spi: bytes(4),
    family: Family,
    source: Address,
    destination: Address,
    mode: IpsecMode,
    reqid: u32(),
    crypto: ChildCrypto,
    sequence: Sequence,
    lifetime: Lifetime,
    encapsulation: Encapsulation.optional(),
    mark: Mark.optional(),
    /**
     * The mark the kernel sets on a packet once this SA has transformed it (XFRMA_SET_MARK and
     * its mask; strongSwan's `set_mark_in`/`set_mark_out`), for routing or filtering it after.
     */
    outputMark: Mark.optional(),
    ifId: u32().optional(),
    flags: z.array(z.enum([...STATE_FLAGS, ...EXTRA_STATE_FLAGS])),
    /** The selector the kernel stores with the SA (traffic it may carry); absent means any. */
    selector: Selector.optional(),
    negotiation: ChildNegotiation.optional(),
  })
  .superRefine((sa, ctx) => checkChildSa(sa, reportTo(ctx)));
export type ChildSa = z.infer<typeof ChildSa>;

/** The key kinds each protocol takes. */
const KINDS_BY_PROTOCOL: Readonly<Record<IpsecProtocol, readonly ChildCrypto['kind'][]>> = { esp: ['aead', 'cipher'], ah: ['integrity'], ipcomp: ['compression'] };
const SIDES = ['source', 'destination'] as const;
const COUNTERS = ['outbound', 'inbound'] as const;
const MAX_SEQUENCE_ESN = 2n ** 64n - 1n;
const MAX_SEQUENCE = 2n ** 32n - 1n;

/** The rules that span fields of one CHILD SA (docs/model.md, Validation). */
function checkChildSa(sa: ChildSa, issue: ReportIssue): void {
  if (isAllZero(sa.spi)) issue(['spi'], 'SPI must not be zero');
  if (sa.protocol === 'ipcomp' && (sa.spi[0] !== 0 || sa.spi[1] !== 0)) {
    issue(['spi'], 'an IPComp CPI is 16 bits: the first two bytes must be zero');
  }
  for (const side of SIDES) {
    const family = familyOf(sa[side]);
    if (family && family !== sa.family) issue([side], `${family} address in an ${sa.family} SA`);
  }

  if (sa.outputMark && sa.outputMark.value === 0 && sa.outputMark.mask === 0) {
    issue(['outputMark'], 'an output mark with value and mask 0 sets nothing: leave it out');
  }

  const wanted = KINDS_BY_PROTOCOL[sa.protocol];
  if (!wanted.includes(sa.crypto.kind)) {
    issue(['crypto', 'kind'], `${sa.protocol} takes ${wanted.join(' or ')} keys, not ${sa.crypto.kind}`);
  }
  checkCrypto(sa.crypto, issue);

  const seq = sa.sequence;
  const limit = seq.esn ? MAX_SEQUENCE_ESN : MAX_SEQUENCE;
  for (const field of COUNTERS) {
    if (seq[field] > limit) issue(['sequence', field], 'exceeds 32 bits without ESN');
  }
  const words = Math.ceil(seq.windowSize / 32);
  if (seq.bitmap.byteLength !== words * 4) {
    issue(['sequence', 'bitmap'], `a ${seq.windowSize}-packet window takes ${words * 4} bitmap bytes, got ${seq.bitmap.byteLength}`);
  } else {
    for (let bit = seq.windowSize; bit < words * 32; bit++) {
      if (((seq.bitmap[bit >> 3] as number) >> (bit & 7)) & 1) {
        issue(['sequence', 'bitmap'], `bit ${bit} is set, beyond the ${seq.windowSize}-packet window`);
        break;
      }
    }
  }
  if (sa.encapsulation && sa.protocol !== 'esp') issue(['encapsulation'], 'only ESP can be UDP-encapsulated');
}

function checkCrypto(crypto: ChildCrypto, issue: ReportIssue): void {
  switch (crypto.kind) {
    case 'aead':
      checkCipher(crypto.algorithm, crypto.keySize, crypto.key, ['crypto'], true, issue, crypto.icvBits);
      break;
    case 'cipher':
      checkCipher(crypto.encryption.algorithm, crypto.encryption.keySize, crypto.encryption.key, ['crypto', 'encryption'], false, issue);
      checkIntegrity(crypto.integrity, ['crypto', 'integrity'], issue);
      break;
    case 'integrity':
      checkIntegrity(crypto.integrity, ['crypto', 'integrity'], issue);
      break;
    case 'compression':
      break;
  }
}

function checkIntegrity(integrity: z.infer<typeof Integrity>, path: string[], issue: ReportIssue): void {
  const algorithm = INTEGRITY[integrity.algorithm];
  if (!algorithm) return;
  if (integrity.key.byteLength !== algorithm.keyBytes) {
    issue([...path, 'key'], `${integrity.algorithm} takes a ${algorithm.keyBytes}-byte key, got ${integrity.key.byteLength}`);
  }
  if (integrity.truncBits !== algorithm.truncBits) {
    issue([...path, 'truncBits'], `${integrity.algorithm} truncates to ${algorithm.truncBits} bits`);
  }
}

function checkCipher(name: string, keySize: number, key: Uint8Array, path: string[], aead: boolean, issue: ReportIssue, icvBits?: number): void {
  const algorithm = ENCRYPTION[name];
  if (!algorithm) return;
  if ((algorithm.icvBits !== undefined) !== aead) {
    issue([...path, 'algorithm'], aead ? `${name} is not an AEAD cipher` : `${name} is an AEAD cipher: use kind "aead"`);
    return;
  }
  if (!algorithm.keySizes.includes(keySize)) {
    issue([...path, 'keySize'], `${name} takes ${algorithm.keySizes.join('/')}-bit keys`);
    return;
  }
  const expected = encryptionKeyBytes(algorithm, keySize);
  if (key.byteLength !== expected) {
    issue([...path, 'key'], `${name}-${keySize} takes ${expected} key bytes (salt included), got ${key.byteLength}`);
  }
  if (aead && icvBits !== algorithm.icvBits) issue([...path, 'icvBits'], `${name} has a ${algorithm.icvBits}-bit ICV`);
}
