/**
 * Writes the gateway fixtures in fixtures/gateways/ (`tsc -b && node dist/scripts/gen-fixtures.js`).
 *
 * Each fixture is the state one gateway would hold: the IKE SAs of the daemon (strongSwan), the
 * SAD and the SPD of the kernel (Linux XFRM), shaped the way strongSwan's kernel-netlink plugin
 * installs them (src/libcharon/plugins/kernel_netlink/kernel_netlink_ipsec.c):
 *
 * - tunnel-mode SAs carry the `af-unspec` flag and no selector; transport-mode SAs carry the
 *   first traffic selector pair without protocol and ports; IPv4 AH SAs carry `align4`;
 * - inbound SAs use the configured replay window (default 32, the legacy `xfrm_replay_state`);
 *   outbound SAs get window 0, or 1 with ESN (kernels before 6.10, no XFRMA_SA_DIR);
 * - lifetimes count from installation: hard = life_time, soft = rekey_time minus a random
 *   jitter of up to rand_time, drawn for each SA separately; byte and packet limits unlimited;
 * - an IPComp SA sits beside the ESP SA under the same reqid, with no lifetime and no replay
 *   state; the policy lists the IPComp template first, optional only on in/fwd policies;
 * - policies: out and in, plus fwd in tunnel mode, with strongSwan's automatic priority;
 *   the kernel's policy index carries the direction in its low 3 bits (in 0, out 1, fwd 2);
 * - SPIs come from the kernel's default range for strongSwan, 0xc0000000-0xcfffffff.
 *
 * Replay bitmaps: bit i (bit i%32 of little-endian 32-bit word i/32) stands for sequence number
 * `inbound - i`. That is exactly the kernel's legacy 32-packet window. Larger and ESN windows are
 * a ring in the kernel (bit (seq-1) % window), so the fixtures give those no holes, which makes
 * both readings agree.
 *
 * All key bytes, SPIs and nonces come from seededRandom(), so a rerun writes identical files.
 * Every context is validated with parseContext() and must re-encode to the same JSON; the script
 * exits non-zero otherwise and writes nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { seededRandom, type Random } from '../lib/crypto/random.js';
import { ENCRYPTION, INTEGRITY, PRF, encryptionKeyBytes } from '../lib/model/algorithms.js';
import { parsePrefix } from '../lib/model/address.js';
import { Context, type ContextJson } from '../lib/model/context.js';
import { toHex } from '../lib/model/leaves.js';
import { parseContext } from '../lib/model/validate.js';

type IkeSaJson = ContextJson['ikeSas'][number];
type ChildSaJson = ContextJson['childSas'][number];
type PolicyJson = ContextJson['policies'][number];
type SelectorJson = PolicyJson['selector'];
type TemplateJson = PolicyJson['templates'][number];
type MarkJson = { value: number; mask: number };
type Family = 'ipv4' | 'ipv6';
type StateFlag = ChildSaJson['flags'][number];

const TCP = 6;
const UDP = 17;

// ---------------------------------------------------------------------------------------------
// Deterministic bytes

class Bytes {
  private readonly random: Random;

  constructor(seed: string) {
    this.random = seededRandom(`ipsec-ctx fixtures/gateways ${seed}`);
  }

  hex(length: number): string {
    return toHex(this.random(length));
  }

  /** An IKE SPI: 8 random bytes, never zero. */
  ikeSpi(): string {
    for (;;) {
      const spi = this.random(8);
      if (spi.some((b) => b !== 0)) return toHex(spi);
    }
  }

  /** An ESP/AH SPI from the range strongSwan asks the kernel for (0xc0000000-0xcfffffff). */
  childSpi(): string {
    const spi = this.random(4);
    spi[0] = 0xc0 | (spi[0]! & 0x0f);
    return toHex(spi);
  }

  /** An IPComp CPI as the kernel allocates it for strongSwan (0x100-0xefff), in a 4-byte SPI. */
  cpi(): string {
    const raw = this.random(2);
    const cpi = 0x100 + (((raw[0]! << 8) | raw[1]!) % (0xefff - 0x100 + 1));
    return cpi.toString(16).padStart(8, '0');
  }
}

// ---------------------------------------------------------------------------------------------
// Leaves

/** A u64 in its JSON form: a number up to 2^53, a decimal string beyond. */
function u64(value: bigint | number): number | string {
  const n = BigInt(value);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

/**
 * An inbound replay bitmap (see the header comment for the bit order): the window below
 * `inbound`, with the sequence numbers `inbound - offset` for each of `holes` not received.
 */
function replayBitmap(windowSize: number, inbound: bigint, holes: readonly number[]): string {
  const bytes = new Uint8Array(Math.ceil(windowSize / 32) * 4);
  for (let i = 0; i < windowSize; i++) {
    if (inbound - BigInt(i) < 1n) break;
    if (holes.includes(i)) continue;
    bytes[(i >> 5) * 4 + ((i & 31) >> 3)]! |= 1 << (i & 7);
  }
  return toHex(bytes);
}

// ---------------------------------------------------------------------------------------------
// IKE SAs

interface IkeProposalSpec {
  encryption: { algorithm: string; keySize: number };
  integrity?: string;
  prf: string;
  dhGroup: IkeSaJson['proposal']['dhGroup'];
}

interface IkeSaSpec {
  id: string;
  connection: string;
  role: 'initiator' | 'responder';
  local: { address: string; port: number };
  remote: { address: string; port: number };
  localIdentity: string;
  remoteIdentity: string;
  proposal: IkeProposalSpec;
  authentication: IkeSaJson['authentication'];
  messageIds: { nextToSend: number; nextExpected: number };
  extensions: IkeSaJson['extensions'];
  times: IkeSaJson['times'];
  childSaIds: string[];
}

/** strongSwan's nonce length (NONCE_SIZE in libcharon): 32 bytes. */
const NONCE_BYTES = 32;

function ikeSa(bytes: Bytes, spec: IkeSaSpec): IkeSaJson {
  const enc = ENCRYPTION[spec.proposal.encryption.algorithm];
  const prf = PRF[spec.proposal.prf];
  if (!enc || !prf) throw new Error(`${spec.id}: unknown IKE algorithm`);
  const integ = spec.proposal.integrity === undefined ? undefined : INTEGRITY[spec.proposal.integrity];
  const encBytes = encryptionKeyBytes(enc, spec.proposal.encryption.keySize);
  const spiInitiator = bytes.ikeSpi();
  const spiResponder = bytes.ikeSpi();
  // RFC 7296 §2.14 order: SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr.
  const skD = bytes.hex(prf.keyBytes);
  const skAi = integ ? bytes.hex(integ.keyBytes) : undefined;
  const skAr = integ ? bytes.hex(integ.keyBytes) : undefined;
  const skEi = bytes.hex(encBytes);
  const skEr = bytes.hex(encBytes);
  const skPi = bytes.hex(prf.keyBytes);
  const skPr = bytes.hex(prf.keyBytes);
  return {
    id: spec.id,
    ikeVersion: 2,
    connection: spec.connection,
    spiInitiator,
    spiResponder,
    role: spec.role,
    local: spec.local,
    remote: spec.remote,
    localIdentity: spec.localIdentity,
    remoteIdentity: spec.remoteIdentity,
    proposal: {
      encryption: spec.proposal.encryption,
      ...(spec.proposal.integrity === undefined ? {} : { integrity: spec.proposal.integrity }),
      prf: spec.proposal.prf,
      dhGroup: spec.proposal.dhGroup,
    },
    authentication: spec.authentication,
    keys: {
      skD,
      ...(skAi === undefined ? {} : { skAi }),
      ...(skAr === undefined ? {} : { skAr }),
      skEi,
      skEr,
      skPi,
      skPr,
    },
    nonces: { ni: bytes.hex(NONCE_BYTES), nr: bytes.hex(NONCE_BYTES) },
    // strongSwan's default charon.window_size is 1.
    messageIds: { ...spec.messageIds, windowSize: 1 },
    extensions: spec.extensions,
    times: spec.times,
    childSaIds: spec.childSaIds,
  };
}

/**
 * IKE SA times as strongSwan sets them: rekey = established + rekey_time - jitter,
 * expires = rekey + over_time (10% of rekey_time unless configured).
 */
function ikeTimes(established: number, rekeyTime: number, jitter: number): IkeSaJson['times'] {
  const rekey = established + rekeyTime - jitter;
  return { established, rekey, expires: rekey + Math.round(rekeyTime / 10) };
}

// ---------------------------------------------------------------------------------------------
// CHILD SAs

type CryptoSpec =
  | { kind: 'aead'; algorithm: string; keySize: number }
  | { kind: 'cipher'; algorithm: string; keySize: number; integrity: string }
  | { kind: 'integrity'; integrity: string }
  | { kind: 'compression'; algorithm: 'DEFLATE' | 'LZS' | 'LZJH' };

function childCrypto(bytes: Bytes, spec: CryptoSpec): ChildSaJson['crypto'] {
  const integrity = (name: string) => {
    const algorithm = INTEGRITY[name];
    if (!algorithm) throw new Error(`unknown integrity algorithm ${name}`);
    return { algorithm: name, truncBits: algorithm.truncBits, key: bytes.hex(algorithm.keyBytes) };
  };
  const cipherKey = (name: string, keySize: number) => {
    const algorithm = ENCRYPTION[name];
    if (!algorithm) throw new Error(`unknown encryption algorithm ${name}`);
    return { algorithm, key: bytes.hex(encryptionKeyBytes(algorithm, keySize)) };
  };
  switch (spec.kind) {
    case 'aead': {
      const { algorithm, key } = cipherKey(spec.algorithm, spec.keySize);
      return { kind: 'aead', algorithm: spec.algorithm, keySize: spec.keySize, icvBits: algorithm.icvBits ?? 0, key };
    }
    case 'cipher': {
      const { key } = cipherKey(spec.algorithm, spec.keySize);
      return {
        kind: 'cipher',
        encryption: { algorithm: spec.algorithm, keySize: spec.keySize, key },
        integrity: integrity(spec.integrity),
      };
    }
    case 'integrity':
      return { kind: 'integrity', integrity: integrity(spec.integrity) };
    case 'compression':
      return { kind: 'compression', algorithm: spec.algorithm };
  }
}

/** Traffic one SA carried. For inbound SAs, `lost` sequence numbers never arrived, `holes` of them inside the window (offsets below the highest). */
interface Traffic {
  packets: bigint | number;
  bytes: bigint | number;
  /** Seconds after installation of the first packet; absent if the SA never carried one. */
  firstUse?: number;
  lost?: number;
  holes?: number[];
}

interface ChildSaSpec {
  id: string;
  ikeSaId?: string;
  direction: 'in' | 'out';
  protocol: 'esp' | 'ah' | 'ipcomp';
  spi: string;
  family: Family;
  source: string;
  destination: string;
  mode: 'transport' | 'tunnel' | 'beet';
  reqid: number;
  crypto: ChildSaJson['crypto'];
  esn: boolean;
  /** The configured replay window; outbound SAs get strongSwan's 0 (or 1 with ESN). */
  replayWindow: number;
  lifetime: { soft?: number; hard?: number };
  addTime: number;
  traffic: Traffic;
  encapsulation?: { sourcePort: number; destinationPort: number };
  mark?: MarkJson;
  ifId?: number;
  /** The SA selector (transport/BEET mode only, as strongSwan installs it). */
  selector?: SelectorJson;
}

function childSa(spec: ChildSaSpec): ChildSaJson {
  const { traffic } = spec;
  const packets = BigInt(traffic.packets);
  let sequence: ChildSaJson['sequence'];
  if (spec.protocol === 'ipcomp') {
    // No replay protection and no sequence numbers for IPComp.
    sequence = { esn: false, outbound: 0, inbound: 0, windowSize: 0, bitmap: '' };
  } else if (spec.direction === 'out') {
    const windowSize = spec.esn ? 1 : 0;
    sequence = {
      esn: spec.esn,
      outbound: u64(packets),
      inbound: 0,
      windowSize,
      bitmap: '00'.repeat(Math.ceil(windowSize / 32) * 4),
    };
  } else {
    const windowSize = spec.replayWindow;
    // With a zero window the kernel skips replay processing and never advances the counter.
    const inbound = windowSize === 0 ? 0n : packets + BigInt(traffic.lost ?? 0);
    const holes = traffic.holes ?? [];
    if (holes.length > (traffic.lost ?? 0)) throw new Error(`${spec.id}: more holes than lost packets`);
    if (holes.length > 0 && (spec.esn || windowSize > 32)) {
      throw new Error(`${spec.id}: holes in a ring-buffer window would depend on the bitmap convention`);
    }
    sequence = { esn: spec.esn, outbound: 0, inbound: u64(inbound), windowSize, bitmap: replayBitmap(windowSize, inbound, holes) };
  }
  const limit = (seconds: number | undefined) => (seconds === undefined ? {} : { addSeconds: seconds });
  const flags: StateFlag[] = [];
  if (spec.mode === 'tunnel') flags.push('af-unspec');
  if (spec.protocol === 'ah' && spec.family === 'ipv4') flags.push('align4');
  return {
    id: spec.id,
    ...(spec.ikeSaId === undefined ? {} : { ikeSaId: spec.ikeSaId }),
    direction: spec.direction,
    protocol: spec.protocol,
    spi: spec.spi,
    family: spec.family,
    source: spec.source,
    destination: spec.destination,
    mode: spec.mode,
    reqid: spec.reqid,
    crypto: spec.crypto,
    sequence,
    lifetime: {
      soft: limit(spec.lifetime.soft),
      hard: limit(spec.lifetime.hard),
      used: {
        bytes: u64(traffic.bytes),
        packets: u64(packets),
        addTime: spec.addTime,
        ...(traffic.firstUse === undefined ? {} : { useTime: spec.addTime + traffic.firstUse }),
      },
    },
    ...(spec.encapsulation === undefined ? {} : { encapsulation: { type: 'espinudp' as const, ...spec.encapsulation } }),
    ...(spec.mark === undefined ? {} : { mark: spec.mark }),
    ...(spec.ifId === undefined ? {} : { ifId: spec.ifId }),
    flags,
    ...(spec.selector === undefined ? {} : { selector: spec.selector }),
  };
}

/** One side of a traffic selector: a prefix, optionally one port (strongSwan installs a single port or any). */
interface TsSide {
  net: string;
  port?: number;
}

interface TrafficSelectors {
  family: Family;
  local: TsSide;
  remote: TsSide;
  protocol?: number;
}

function selector(ts: TrafficSelectors, outbound: boolean, withProtoPorts = true): SelectorJson {
  const src = outbound ? ts.local : ts.remote;
  const dst = outbound ? ts.remote : ts.local;
  const port = (side: TsSide) => (withProtoPorts && side.port !== undefined ? { port: side.port, mask: 0xffff } : undefined);
  const sourcePort = port(src);
  const destinationPort = port(dst);
  return {
    family: ts.family,
    source: src.net,
    destination: dst.net,
    ...(withProtoPorts && ts.protocol !== undefined ? { protocol: ts.protocol } : {}),
    ...(sourcePort ? { sourcePort } : {}),
    ...(destinationPort ? { destinationPort } : {}),
  };
}

/**
 * A negotiated CHILD SA as the kernel holds it: an inbound and an outbound SA (plus an IPComp
 * pair with `cpi`), each with its own keys and its own lifetime jitter.
 */
interface ChildPairSpec {
  /** strongSwan's unique id of the CHILD SA; the SA ids derive from it. */
  name: string;
  ikeSaId?: string;
  reqid: number;
  mode: 'transport' | 'tunnel';
  protocol: 'esp' | 'ah';
  crypto: CryptoSpec;
  family: Family;
  local: string;
  remote: string;
  ts: TrafficSelectors;
  esn?: boolean;
  replayWindow?: number;
  /** hard: life_time; soft: rekey_time minus jitter, for the inbound and the outbound SA. */
  lifetime?: { hard: number; softIn: number; softOut: number };
  addTime: number;
  inbound: Traffic;
  outbound: Traffic;
  /** NAT-T: the local and remote UDP ports. */
  encapsulation?: { localPort: number; remotePort: number };
  markIn?: MarkJson;
  markOut?: MarkJson;
  ifIdIn?: number;
  ifIdOut?: number;
  /** strongSwan's mark_in_sa option: also put mark_in on the inbound SA (off by default). */
  markInSa?: boolean;
  ipcomp?: { cpiIn: string; cpiOut: string; inbound: Traffic; outbound: Traffic };
  /** Leave transport-mode SAs without a selector (`ip xfrm state add` without `sel`). */
  noSaSelector?: boolean;
}

interface ChildPair {
  sas: ChildSaJson[];
  ids: string[];
  spec: ChildPairSpec;
  spiIn: string;
  spiOut: string;
}

function childPair(bytes: Bytes, spec: ChildPairSpec, spis?: { in: string; out: string }): ChildPair {
  const spiIn = spis?.in ?? bytes.childSpi();
  const spiOut = spis?.out ?? bytes.childSpi();
  const cryptoIn = childCrypto(bytes, spec.crypto);
  const cryptoOut = childCrypto(bytes, spec.crypto);
  const transport = spec.mode === 'transport' && !spec.noSaSelector;
  const common = {
    ...(spec.ikeSaId === undefined ? {} : { ikeSaId: spec.ikeSaId }),
    family: spec.family,
    mode: spec.mode,
    reqid: spec.reqid,
    esn: spec.esn ?? false,
    replayWindow: spec.replayWindow ?? 32,
    addTime: spec.addTime,
  };
  const inSpec = {
    ...common,
    direction: 'in' as const,
    source: spec.remote,
    destination: spec.local,
    ...(spec.ifIdIn === undefined ? {} : { ifId: spec.ifIdIn }),
    ...(spec.markInSa && spec.markIn ? { mark: spec.markIn } : {}),
    ...(transport ? { selector: selector(spec.ts, false, false) } : {}),
  };
  const outSpec = {
    ...common,
    direction: 'out' as const,
    source: spec.local,
    destination: spec.remote,
    ...(spec.ifIdOut === undefined ? {} : { ifId: spec.ifIdOut }),
    ...(spec.markOut ? { mark: spec.markOut } : {}),
    ...(transport ? { selector: selector(spec.ts, true, false) } : {}),
  };
  const sas: ChildSaJson[] = [];
  if (spec.ipcomp) {
    // kernel-netlink installs the IPComp SA first, with no lifetime and no replay window.
    const compression: CryptoSpec = { kind: 'compression', algorithm: 'DEFLATE' };
    sas.push(
      childSa({ ...inSpec, id: `${spec.name}:ipcomp-in`, protocol: 'ipcomp', spi: spec.ipcomp.cpiIn, crypto: childCrypto(bytes, compression), lifetime: {}, traffic: spec.ipcomp.inbound }),
      childSa({ ...outSpec, id: `${spec.name}:ipcomp-out`, protocol: 'ipcomp', spi: spec.ipcomp.cpiOut, crypto: childCrypto(bytes, compression), lifetime: {}, traffic: spec.ipcomp.outbound }),
    );
  }
  const lifetime = spec.lifetime;
  sas.push(
    childSa({
      ...inSpec,
      id: `${spec.name}:in`,
      protocol: spec.protocol,
      spi: spiIn,
      crypto: cryptoIn,
      lifetime: lifetime ? { soft: lifetime.softIn, hard: lifetime.hard } : {},
      traffic: spec.inbound,
      ...(spec.encapsulation ? { encapsulation: { sourcePort: spec.encapsulation.remotePort, destinationPort: spec.encapsulation.localPort } } : {}),
    }),
    childSa({
      ...outSpec,
      id: `${spec.name}:out`,
      protocol: spec.protocol,
      spi: spiOut,
      crypto: cryptoOut,
      lifetime: lifetime ? { soft: lifetime.softOut, hard: lifetime.hard } : {},
      traffic: spec.outbound,
      ...(spec.encapsulation ? { encapsulation: { sourcePort: spec.encapsulation.localPort, destinationPort: spec.encapsulation.remotePort } } : {}),
    }),
  );
  return { sas, ids: sas.map((sa) => sa.id), spec, spiIn, spiOut };
}

// ---------------------------------------------------------------------------------------------
// Policies

/** strongSwan's base for automatic policy priorities (PRIO_BASE in kernel_netlink_ipsec.c). */
const PRIO_BASE = 200_000;

function bitsOf(mask: number): number {
  let bits = 0;
  for (let m = mask; m; m >>>= 1) bits += m & 1;
  return bits;
}

/** get_priority() of strongSwan's kernel-netlink plugin for a policy of default priority. */
function strongswanPriority(sel: SelectorJson, routed = false): number {
  const prefixLength = (text: string) => {
    const prefix = parsePrefix(text);
    if (!prefix) throw new Error(`not a prefix: ${text}`);
    return prefix.length;
  };
  let priority = PRIO_BASE + PRIO_BASE;
  priority -= (prefixLength(sel.source) + prefixLength(sel.destination)) * 512;
  priority -= sel.protocol ? 256 : 0;
  priority -= (bitsOf(sel.sourcePort?.mask ?? 0) + bitsOf(sel.destinationPort?.mask ?? 0)) * 4;
  priority -= sel.interface !== undefined ? 2 : 0;
  priority -= routed ? 0 : 1;
  return priority;
}

/** The kernel's policy index: a counter stepping by 8, or-ed with the direction. */
class PolicyIndex {
  constructor(private next: number) {}

  take(direction: 'in' | 'out' | 'fwd'): number {
    const index = this.next | { in: 0, out: 1, fwd: 2 }[direction];
    this.next += 8;
    return index;
  }
}

interface PolicyOptions {
  index: PolicyIndex;
  /** Fixed priority (manual policies); default: strongSwan's automatic one. */
  priority?: number;
  /** Installation order; default strongSwan's: in, fwd (tunnel mode), out. */
  order?: ('in' | 'out' | 'fwd')[];
}

/** The SPD entries for a CHILD SA pair: in, fwd (tunnel mode only), out, in the order strongSwan installs them. */
function policies(pair: ChildPair, options: PolicyOptions): PolicyJson[] {
  const { spec } = pair;
  const tunnel = spec.mode === 'tunnel';
  const templates = (direction: 'in' | 'out' | 'fwd'): TemplateJson[] => {
    const [source, destination] = direction === 'out' ? [spec.local, spec.remote] : [spec.remote, spec.local];
    const protocols: ('ipcomp' | 'esp' | 'ah')[] = [...(spec.ipcomp ? (['ipcomp'] as const) : []), spec.protocol];
    // Only the first template is in the SA's own mode; the others are transport (IPComp wraps ESP).
    return protocols.map((protocol, i) => {
      const mode = i === 0 ? spec.mode : 'transport';
      return {
        protocol,
        mode,
        reqid: spec.reqid,
        family: spec.family,
        ...(mode === 'tunnel' ? { source, destination } : {}),
        optional: protocol === 'ipcomp' && direction !== 'out',
      };
    });
  };
  const policy = (direction: 'in' | 'out' | 'fwd'): PolicyJson => {
    const sel = selector(spec.ts, direction === 'out');
    const mark = direction === 'out' ? spec.markOut : spec.markIn;
    const ifId = direction === 'out' ? spec.ifIdOut : spec.ifIdIn;
    return {
      id: `${spec.name}:${direction}`,
      direction,
      action: 'allow',
      selector: sel,
      priority: options.priority ?? strongswanPriority(sel),
      index: options.index.take(direction),
      ...(mark === undefined ? {} : { mark }),
      ...(ifId === undefined ? {} : { ifId }),
      templates: templates(direction),
    };
  };
  const order = options.order ?? (tunnel ? ['in', 'fwd', 'out'] : ['in', 'out']);
  return order.map(policy);
}

// ---------------------------------------------------------------------------------------------
// The fixtures

function context(source: string, driver: string, capturedAtMs: number, parts: { ikeSas?: IkeSaJson[]; pairs?: ChildPair[]; policies?: PolicyJson[] }): ContextJson {
  return {
    version: 1,
    provenance: { source, driver, capturedAtMs },
    ikeSas: parts.ikeSas ?? [],
    childSas: (parts.pairs ?? []).flatMap((pair) => pair.sas),
    policies: parts.policies ?? [],
  };
}

/**
 * gw-zurich, initiator of a site-to-site tunnel to a branch office: one IKE SA, three CHILD SAs
 * (two AES-GCM-256, one AES-CBC-128/SHA-256 for a legacy subnet that overlaps the first one and
 * wins on priority). The third was triggered later by a trap policy.
 */
function siteToSite(): ContextJson {
  const bytes = new Bytes('site-to-site');
  const now = 1_795_600_000;
  const established = now - 2417;
  const zurich = '203.0.113.1';
  const basel = '198.51.100.77';
  const ikeId = 'ike:14';
  // swanctl: rekey_time = 54m, life_time = 60m, so rand_time = 6m: soft in [2880, 3240].
  const base = { ikeSaId: ikeId, mode: 'tunnel' as const, protocol: 'esp' as const, family: 'ipv4' as const, local: zurich, remote: basel };
  const gcm256: CryptoSpec = { kind: 'aead', algorithm: 'AES_GCM_16', keySize: 256 };
  const netNet = childPair(bytes, {
    ...base,
    name: 'child:31',
    reqid: 1,
    crypto: gcm256,
    ts: { family: 'ipv4', local: { net: '10.1.0.0/16' }, remote: { net: '10.2.0.0/16' } },
    lifetime: { hard: 3600, softIn: 3117, softOut: 3188 },
    addTime: established,
    outbound: { packets: 1_843_227, bytes: 1_498_361_040, firstUse: 1 },
    inbound: { packets: 2_291_580, bytes: 2_812_004_118, firstUse: 1, lost: 3, holes: [7] },
  });
  const https = childPair(bytes, {
    ...base,
    name: 'child:32',
    reqid: 2,
    crypto: gcm256,
    ts: { family: 'ipv4', local: { net: '10.1.5.0/24', port: 443 }, remote: { net: '192.168.50.0/24' }, protocol: TCP },
    lifetime: { hard: 3600, softIn: 2964, softOut: 3209 },
    addTime: established + 1,
    outbound: { packets: 412_966, bytes: 389_114_204, firstUse: 18 },
    inbound: { packets: 301_455, bytes: 31_870_012, firstUse: 18 },
  });
  const legacy = childPair(bytes, {
    ...base,
    name: 'child:35',
    reqid: 3,
    crypto: { kind: 'cipher', algorithm: 'AES_CBC', keySize: 128, integrity: 'HMAC_SHA2_256_128' },
    ts: { family: 'ipv4', local: { net: '10.1.20.0/24' }, remote: { net: '10.2.20.0/24' } },
    lifetime: { hard: 3600, softIn: 3051, softOut: 2893 },
    addTime: now - 1210,
    outbound: { packets: 18_204, bytes: 2_038_848, firstUse: 0 },
    inbound: { packets: 18_190, bytes: 1_746_240, firstUse: 0, lost: 2, holes: [12, 29] },
  });
  const pairs = [netNet, https, legacy];
  const ike = ikeSa(bytes, {
    id: ikeId,
    connection: 'branch-basel',
    role: 'initiator',
    local: { address: zurich, port: 500 },
    remote: { address: basel, port: 500 },
    localIdentity: 'C=CH, O=Example AG, CN=gw-zurich.example.com',
    remoteIdentity: 'C=CH, O=Example AG, CN=gw-basel.example.com',
    proposal: { encryption: { algorithm: 'AES_CBC', keySize: 256 }, integrity: 'HMAC_SHA2_256_128', prf: 'PRF_HMAC_SHA2_256', dhGroup: 'MODP_3072' },
    authentication: { local: 'pubkey', remote: 'pubkey' },
    // 0 IKE_SA_INIT, 1 IKE_AUTH (child 31), 2 and 3 CREATE_CHILD_SA; the peer sent one liveness check.
    messageIds: { nextToSend: 4, nextExpected: 1 },
    extensions: { natLocal: false, natRemote: false, mobike: true, messageIdSync: false, replayCounterSync: false },
    times: ikeTimes(established, 4 * 3600, 1113),
    childSaIds: pairs.flatMap((pair) => pair.ids),
  });
  const index = new PolicyIndex(1024);
  return context('gw-zurich', 'strongswan', now * 1000 + 123, {
    ikeSas: [ike],
    pairs,
    policies: pairs.flatMap((pair) => policies(pair, { index })),
  });
}

/**
 * vpn-concentrator with three road warriors behind NAT, each with a virtual IP from
 * 10.99.0.0/24 and one CHILD SA (0.0.0.0/0 on our side). alice (EAP, port-preserving home NAT,
 * mark %unique, CHILD SA rekeyed once), bob (certificate, ChaCha20-Poly1305, XFRM interface),
 * carol (EAP, carrier-grade NAT with a translated port, XFRM interface).
 */
function roadWarrior(): ContextJson {
  const bytes = new Bytes('road-warrior');
  const now = 1_795_600_412;
  const concentrator = '203.0.113.10';
  const anyV4 = { net: '0.0.0.0/0' };
  // swanctl defaults: rekey_time = 1h, life_time = 66m, rand_time = 6m: soft in [3240, 3600].
  const ikeProposal: IkeProposalSpec = { encryption: { algorithm: 'AES_GCM_16', keySize: 128 }, prf: 'PRF_HMAC_SHA2_256', dhGroup: 'CURVE_25519' };
  const extensions = { natLocal: false, natRemote: true, mobike: true, messageIdSync: false, replayCounterSync: false };
  const ifId = 42;

  interface Client {
    ikeUid: number;
    childUid: number;
    connection: string;
    identity: string;
    auth: 'eap' | 'pubkey';
    nat: { address: string; port: number };
    vip: string;
    reqid: number;
    established: number;
    childAdded: number;
    crypto: CryptoSpec;
    messageIds: { nextToSend: number; nextExpected: number };
    rekeyJitter: number;
    lifetime: { hard: number; softIn: number; softOut: number };
    inbound: Traffic;
    outbound: Traffic;
    mark?: MarkJson;
    ifId?: number;
  }
  const clients: Client[] = [
    {
      ikeUid: 1041,
      childUid: 1187,
      connection: 'rw-eap',
      identity: 'alice@example.org',
      auth: 'eap',
      nat: { address: '198.51.100.23', port: 4500 },
      vip: '10.99.0.3',
      reqid: 7,
      established: now - 5311,
      // The first CHILD SA was rekeyed (by us) after 3402 s.
      childAdded: now - 5311 + 3402,
      crypto: { kind: 'aead', algorithm: 'AES_GCM_16', keySize: 128 },
      // Client: 0 IKE_SA_INIT, 1-4 IKE_AUTH with EAP-MSCHAPv2, 5 UPDATE_SA_ADDRESSES (MOBIKE).
      // Us: 0 CREATE_CHILD_SA (rekey), 1 INFORMATIONAL (delete), 2-10 DPD while the phone idled.
      messageIds: { nextToSend: 11, nextExpected: 6 },
      rekeyJitter: 802,
      lifetime: { hard: 3960, softIn: 3491, softOut: 3366 },
      outbound: { packets: 52_114, bytes: 61_203_877, firstUse: 0 },
      inbound: { packets: 31_998, bytes: 4_112_560, firstUse: 0, lost: 5, holes: [3, 17] },
      mark: { value: 3, mask: 0xffff_ffff },
    },
    {
      ikeUid: 1063,
      childUid: 1090,
      connection: 'rw-pubkey',
      identity: 'bob@example.org',
      auth: 'pubkey',
      nat: { address: '192.0.2.77', port: 4500 },
      vip: '10.99.0.7',
      reqid: 9,
      established: now - 2740,
      childAdded: now - 2740,
      crypto: { kind: 'aead', algorithm: 'CHACHA20_POLY1305', keySize: 256 },
      // Client: 0 IKE_SA_INIT, 1 IKE_AUTH. Us: two DPDs.
      messageIds: { nextToSend: 2, nextExpected: 2 },
      rekeyJitter: 1302,
      lifetime: { hard: 3960, softIn: 3288, softOut: 3557 },
      outbound: { packets: 204_551, bytes: 247_018_334, firstUse: 2 },
      inbound: { packets: 122_310, bytes: 18_904_227, firstUse: 1 },
      ifId,
    },
    {
      ikeUid: 1102,
      childUid: 1121,
      connection: 'rw-eap',
      identity: 'carol@example.org',
      auth: 'eap',
      nat: { address: '198.51.100.140', port: 38611 },
      vip: '10.99.0.12',
      reqid: 12,
      established: now - 611,
      childAdded: now - 611,
      crypto: { kind: 'aead', algorithm: 'AES_GCM_16', keySize: 256 },
      messageIds: { nextToSend: 0, nextExpected: 5 },
      rekeyJitter: 57,
      lifetime: { hard: 3960, softIn: 3599, softOut: 3402 },
      outbound: { packets: 3_122, bytes: 2_914_560, firstUse: 2 },
      inbound: { packets: 2_847, bytes: 611_204, firstUse: 2, lost: 1 },
      ifId,
    },
  ];

  const ikeSas: IkeSaJson[] = [];
  const pairs: ChildPair[] = [];
  for (const client of clients) {
    const ikeId = `ike:${client.ikeUid}`;
    const pair = childPair(bytes, {
      name: `child:${client.childUid}`,
      ikeSaId: ikeId,
      reqid: client.reqid,
      mode: 'tunnel',
      protocol: 'esp',
      crypto: client.crypto,
      family: 'ipv4',
      local: concentrator,
      remote: client.nat.address,
      ts: { family: 'ipv4', local: anyV4, remote: { net: `${client.vip}/32` } },
      lifetime: client.lifetime,
      addTime: client.childAdded,
      inbound: client.inbound,
      outbound: client.outbound,
      encapsulation: { localPort: 4500, remotePort: client.nat.port },
      ...(client.mark ? { markIn: client.mark, markOut: client.mark } : {}),
      ...(client.ifId === undefined ? {} : { ifIdIn: client.ifId, ifIdOut: client.ifId }),
    });
    pairs.push(pair);
    ikeSas.push(
      ikeSa(bytes, {
        id: ikeId,
        connection: client.connection,
        role: 'responder',
        local: { address: concentrator, port: 4500 },
        remote: client.nat,
        localIdentity: 'vpn.example.org',
        remoteIdentity: client.identity,
        proposal: ikeProposal,
        authentication: { local: 'pubkey', remote: client.auth },
        messageIds: client.messageIds,
        extensions,
        times: ikeTimes(client.established, 4 * 3600, client.rekeyJitter),
        childSaIds: pair.ids,
      }),
    );
  }
  const index = new PolicyIndex(52_168);
  return context('vpn-concentrator', 'strongswan', now * 1000 + 980, {
    ikeSas,
    pairs,
    policies: pairs.flatMap((pair) => policies(pair, { index })),
  });
}

/**
 * gw6-frankfurt, responder of an IPv6 data-centre interconnect with ESN and RFC 6311 sync.
 * The IKE SA was rekeyed 90 minutes ago by the peer, so the replication CHILD SA is older than
 * its IKE SA; its outbound counter has passed 2^32. A syslog CHILD SA, created on the new IKE SA,
 * never sent a packet.
 */
function ipv6Esn(): ContextJson {
  const bytes = new Bytes('ipv6-esn');
  const now = 1_795_601_337;
  const frankfurt = '2001:db8:f00:1::1';
  const amsterdam = '2001:db8:a00:1::1';
  const established = now - 5400;
  const ikeId = 'ike:212';
  const gcm256: CryptoSpec = { kind: 'aead', algorithm: 'AES_GCM_16', keySize: 256 };
  // swanctl: rekey_time = 7h, life_time = 8h, rand_time = 1h; replay_window = 1024.
  const base = {
    ikeSaId: ikeId,
    mode: 'tunnel' as const,
    protocol: 'esp' as const,
    family: 'ipv6' as const,
    local: frankfurt,
    remote: amsterdam,
    esn: true,
    replayWindow: 1024,
    crypto: gcm256,
  };
  const sentPastWrap = 2n ** 32n + 12_345n;
  const replication = childPair(bytes, {
    ...base,
    name: 'child:70',
    reqid: 4,
    ts: { family: 'ipv6', local: { net: '2001:db8:1000::/48' }, remote: { net: '2001:db8:2000::/48' } },
    lifetime: { hard: 28_800, softIn: 24_114, softOut: 22_871 },
    addTime: now - 9013,
    outbound: { packets: sentPastWrap, bytes: sentPastWrap * 1384n, firstUse: 0 },
    inbound: { packets: 187_422_511, bytes: 16_493_180_968, firstUse: 0, lost: 12 },
  });
  const syslog = childPair(bytes, {
    ...base,
    name: 'child:214',
    reqid: 9,
    ts: { family: 'ipv6', local: { net: '2001:db8:1000:10::5/128', port: 514 }, remote: { net: '2001:db8:2000::/56' }, protocol: UDP },
    lifetime: { hard: 28_800, softIn: 21_977, softOut: 24_630 },
    addTime: now - 3002,
    outbound: { packets: 0, bytes: 0 },
    inbound: { packets: 843, bytes: 197_262, firstUse: 4 },
  });
  const pairs = [replication, syslog];
  const ike = ikeSa(bytes, {
    id: ikeId,
    connection: 'dc-interconnect',
    role: 'responder',
    local: { address: frankfurt, port: 500 },
    remote: { address: amsterdam, port: 500 },
    localIdentity: 'gw6-frankfurt.example.net',
    remoteIdentity: 'gw6-amsterdam.example.net',
    proposal: { encryption: { algorithm: 'AES_GCM_16', keySize: 256 }, prf: 'PRF_HMAC_SHA2_384', dhGroup: 'ECP_384' },
    authentication: { local: 'pubkey', remote: 'pubkey' },
    // Message IDs restart with the rekeyed IKE SA; the peer then created the syslog CHILD SA (0).
    messageIds: { nextToSend: 0, nextExpected: 1 },
    extensions: { natLocal: false, natRemote: false, mobike: false, messageIdSync: true, replayCounterSync: true },
    times: ikeTimes(established, 4 * 3600, 1630),
    childSaIds: pairs.flatMap((pair) => pair.ids),
  });
  const index = new PolicyIndex(4096);
  return context('gw6-frankfurt', 'strongswan', now * 1000 + 5, {
    ikeSas: [ike],
    pairs,
    policies: pairs.flatMap((pair) => policies(pair, { index })),
  });
}

/**
 * db-primary, host-to-host transport mode with its replica: an AH CHILD SA for everything,
 * an ESP CHILD SA with IPComp (compress = yes) for PostgreSQL replication, and a manually keyed
 * ESP pair to a storage box (`ip xfrm state add`, no IKE SA, reqid 0, replay window 0, no
 * lifetime, installed at boot 40 days ago).
 */
function transportAh(): ContextJson {
  const bytes = new Bytes('transport-ah');
  const now = 1_795_599_871;
  const primary = '192.0.2.10';
  const replica = '192.0.2.20';
  const storage = '192.0.2.30';
  const established = now - 1500;
  const ikeId = 'ike:5';
  const hosts = { family: 'ipv4' as const, local: { net: `${primary}/32` }, remote: { net: `${replica}/32` } };
  const base = { ikeSaId: ikeId, mode: 'transport' as const, family: 'ipv4' as const, local: primary, remote: replica };
  // swanctl defaults: rekey_time = 1h, life_time = 66m, rand_time = 6m.
  const heartbeat = childPair(bytes, {
    ...base,
    name: 'child:9',
    reqid: 1,
    protocol: 'ah',
    crypto: { kind: 'integrity', integrity: 'HMAC_SHA2_256_128' },
    ts: hosts,
    lifetime: { hard: 3960, softIn: 3305, softOut: 3561 },
    addTime: established,
    outbound: { packets: 3_001, bytes: 288_096, firstUse: 0 },
    inbound: { packets: 2_998, bytes: 287_808, firstUse: 0 },
  });
  const replication = childPair(bytes, {
    ...base,
    name: 'child:10',
    reqid: 2,
    protocol: 'esp',
    crypto: { kind: 'cipher', algorithm: 'AES_CBC', keySize: 256, integrity: 'HMAC_SHA2_512_256' },
    ts: { ...hosts, local: { net: `${primary}/32`, port: 5432 }, protocol: TCP },
    lifetime: { hard: 3960, softIn: 3390, softOut: 3247 },
    addTime: established + 1,
    // Outbound, every packet passes the IPComp SA (its bytes are before compression) and then
    // ESP; inbound, only the packets the replica compressed pass the IPComp SA.
    outbound: { packets: 905_331, bytes: 1_190_245_108, firstUse: 3 },
    inbound: { packets: 460_118, bytes: 29_447_552, firstUse: 3 },
    ipcomp: {
      cpiIn: '0000c5a1',
      cpiOut: bytes.cpi(),
      outbound: { packets: 905_331, bytes: 1_391_870_214, firstUse: 3 },
      inbound: { packets: 12_077, bytes: 9_842_755, firstUse: 41 },
    },
  });
  const manual = childPair(bytes, {
    name: 'manual:storage',
    reqid: 0,
    mode: 'transport',
    protocol: 'esp',
    crypto: { kind: 'cipher', algorithm: 'AES_CBC', keySize: 128, integrity: 'HMAC_SHA2_256_128' },
    family: 'ipv4',
    local: primary,
    remote: storage,
    ts: { family: 'ipv4', local: { net: `${primary}/32` }, remote: { net: `${storage}/32` } },
    replayWindow: 0,
    noSaSelector: true,
    addTime: now - 40 * 86_400,
    outbound: { packets: 48_212_906, bytes: 52_618_330_112, firstUse: 7 },
    inbound: { packets: 47_998_310, bytes: 4_223_851_280, firstUse: 7 },
  });
  const pairs = [heartbeat, replication, manual];
  const ike = ikeSa(bytes, {
    id: ikeId,
    connection: 'db-replication',
    role: 'responder',
    local: { address: primary, port: 500 },
    remote: { address: replica, port: 500 },
    localIdentity: 'db-primary.example.net',
    remoteIdentity: 'db-replica.example.net',
    proposal: { encryption: { algorithm: 'AES_CBC', keySize: 128 }, integrity: 'HMAC_SHA2_256_128', prf: 'PRF_HMAC_SHA2_256', dhGroup: 'ECP_256' },
    authentication: { local: 'pubkey', remote: 'pubkey' },
    // Peer: 0 IKE_SA_INIT, 1 IKE_AUTH (AH CHILD SA), 2 CREATE_CHILD_SA (ESP + IPComp).
    messageIds: { nextToSend: 0, nextExpected: 3 },
    extensions: { natLocal: false, natRemote: false, mobike: true, messageIdSync: false, replayCounterSync: false },
    times: ikeTimes(established, 4 * 3600, 466),
    childSaIds: [...heartbeat.ids, ...replication.ids],
  });
  // The manual policies came first, at boot (`ip xfrm policy add ... dir out`, then `dir in`;
  // priority 0 by default, index counter still at 0); strongSwan's were installed 40 days later.
  const manualPolicies = policies(manual, { index: new PolicyIndex(0), priority: 0, order: ['out', 'in'] });
  const index = new PolicyIndex(8200);
  return context('db-primary', 'strongswan', now * 1000 + 611, {
    ikeSas: [ike],
    pairs,
    policies: [...manualPolicies, ...policies(heartbeat, { index }), ...policies(replication, { index })],
  });
}

function empty(): ContextJson {
  return context('gw-empty', 'xfrm', 1_795_600_500 * 1000 + 250, {});
}

// ---------------------------------------------------------------------------------------------
// Checks beyond the schema, then writing

/** Cross-record facts the schema does not check but a real gateway state always satisfies. */
function checkConsistency(name: string, ctx: ContextJson): string[] {
  const problems: string[] = [];
  const capturedAt = Math.floor(ctx.provenance.capturedAtMs / 1000);
  const reqids = new Set(ctx.childSas.map((sa) => sa.reqid));
  for (const ike of ctx.ikeSas) {
    if (ike.times.established > capturedAt) problems.push(`${ike.id}: established after the capture`);
    if (ike.times.rekey !== undefined && ike.times.rekey <= capturedAt) problems.push(`${ike.id}: rekey time already passed`);
  }
  for (const sa of ctx.childSas) {
    const used = sa.lifetime.used;
    if (used.addTime > capturedAt) problems.push(`${sa.id}: added after the capture`);
    if (used.useTime !== undefined && (used.useTime < used.addTime || used.useTime > capturedAt)) problems.push(`${sa.id}: useTime out of range`);
    if ((used.useTime === undefined) !== (BigInt(used.packets) === 0n)) problems.push(`${sa.id}: useTime and packets disagree`);
    const soft = sa.lifetime.soft.addSeconds;
    const hard = sa.lifetime.hard.addSeconds;
    if (soft !== undefined && hard !== undefined && BigInt(soft) >= BigInt(hard)) problems.push(`${sa.id}: soft lifetime not below hard`);
    if (soft !== undefined && used.addTime + Number(soft) <= capturedAt) problems.push(`${sa.id}: soft lifetime already expired`);
    if (sa.protocol !== 'ipcomp' && sa.direction === 'out' && BigInt(sa.sequence.outbound) !== BigInt(used.packets)) {
      problems.push(`${sa.id}: outbound sequence differs from packets sent`);
    }
    if (sa.direction === 'in' && sa.sequence.windowSize > 0 && BigInt(sa.sequence.inbound) < BigInt(used.packets)) {
      problems.push(`${sa.id}: received more packets than the highest sequence number`);
    }
  }
  for (const policy of ctx.policies) {
    for (const tmpl of policy.templates) {
      if (!reqids.has(tmpl.reqid)) problems.push(`${policy.id}: no SA with reqid ${tmpl.reqid}`);
    }
  }
  return problems.map((problem) => `${name}: ${problem}`);
}

const fixtures: Record<string, () => ContextJson> = {
  'site-to-site': siteToSite,
  'road-warrior': roadWarrior,
  'ipv6-esn': ipv6Esn,
  'transport-ah': transportAh,
  empty,
};

const outputs: { path: URL; text: string; summary: string }[] = [];
let failed = false;
for (const [name, build] of Object.entries(fixtures)) {
  const json = build();
  const text = `${JSON.stringify(json, null, 2)}\n`;
  try {
    const parsed = parseContext(JSON.parse(text));
    // The file must be in the canonical JSON form: decoding and encoding again changes nothing.
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(Context.encode(parsed))), JSON.parse(text))) {
      throw new Error('does not re-encode to the same JSON');
    }
  } catch (error) {
    failed = true;
    const issues = (error as { issues?: { path: string; message: string }[] }).issues;
    console.error(`${name}: invalid: ${error instanceof Error ? error.message : String(error)}`);
    for (const issue of issues ?? []) console.error(`  ${issue.path}: ${issue.message}`);
    continue;
  }
  const problems = checkConsistency(name, json);
  if (problems.length > 0) {
    failed = true;
    for (const problem of problems) console.error(problem);
    continue;
  }
  outputs.push({
    path: new URL(`../../fixtures/gateways/${name}.json`, import.meta.url),
    text,
    summary: `${name}.json: ${json.ikeSas.length} IKE SAs, ${json.childSas.length} CHILD SAs, ${json.policies.length} policies`,
  });
}
if (failed) {
  console.error('gen-fixtures: nothing written');
  process.exit(1);
}
mkdirSync(new URL('../../fixtures/gateways/', import.meta.url), { recursive: true });
for (const output of outputs) {
  writeFileSync(output.path, output.text);
  console.log(`wrote ${output.summary}`);
}
