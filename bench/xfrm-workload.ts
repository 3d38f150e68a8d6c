/**
 * The xfrm benchmark's workload (bench/xfrm.ts): N ESP tunnel SAs of one gateway, as N/2
 * in/out pairs to N/2 peers, with one policy per SA (`out` for the outbound SA, `in` for the
 * inbound one), as a model context and as the `ip -batch` text that installs the same SAs and
 * policies. Deterministic: the same N gives the same records.
 *
 * Pair i: peer 198.18.(i>>8).(i&255), local 192.0.2.1, reqid i+1, subnets 10.(i>>8).(i&255).0/24
 * (local) and 11.(i>>8).(i&255).0/24 (remote). Even pairs AES-GCM-16 (256-bit key), odd pairs
 * AES-CBC-256 + HMAC-SHA2-256-128. Inbound windows cycle through 32 (XFRMA_REPLAY_VAL), 64
 * (XFRMA_REPLAY_ESN_VAL without ESN) and 128 with ESN; outbound SAs have no window (1 with ESN).
 * Lifetimes: soft 3240 s, hard 3600 s after adding, 60 s old. Policy indexes are given (as a
 * blob from `get` has them).
 *
 * What `ip` cannot say: the replay bitmap and the usage so far (XFRMA_LTIME_VAL); the driver
 * sends both, so its requests are a little larger than `ip`'s.
 */
import type { ChildSa } from '../lib/model/child-sa.js';
import { type Context, MODEL_VERSION } from '../lib/model/context.js';
import type { Policy } from '../lib/model/policy.js';

export const LOCAL = '192.0.2.1';
const PRIORITY = 375423;

/** Deterministic key bytes (not secret: a benchmark). */
function keyBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

export interface Workload {
  context: Context;
  /** `ip -batch` lines installing the same SAs, then the same policies. */
  ipLines: string[];
}

/** `sas` SAs (even) and `sas` policies; with `policiesOnly`, the policies alone (host kernel, no ESP). */
export function workload(sas: number, nowMs: number, options: { policiesOnly?: boolean } = {}): Workload {
  const pairs = Math.ceil(sas / 2);
  const now = Math.floor(nowMs / 1000);
  const childSas: ChildSa[] = [];
  const policies: Policy[] = [];
  const saLines: string[] = [];
  const policyLines: string[] = [];
  for (let i = 0; i < pairs; i++) {
    const a = i >> 8;
    const b = i & 255;
    const peer = `198.18.${a}.${b}`;
    const reqid = i + 1;
    const gcm = i % 2 === 0;
    const kind = i % 3; // 0: window 32, 1: window 64, 2: ESN with window 128
    const esn = kind === 2;
    for (const direction of ['out', 'in'] as const) {
      const out = direction === 'out';
      const spi = (out ? 0xc1000000 : 0xc2000000) + i;
      const spiBytes = new Uint8Array(4);
      new DataView(spiBytes.buffer).setUint32(0, spi);
      const source = out ? LOCAL : peer;
      const destination = out ? peer : LOCAL;
      const windowSize = out ? (esn ? 1 : 0) : [32, 64, 128][kind]!;
      const counter = BigInt(1000 + i) + (esn ? 1n << 32n : 0n);
      const packets = BigInt(1000 + i);
      const crypto: ChildSa['crypto'] = gcm
        ? { kind: 'aead', algorithm: 'AES_GCM_16', keySize: 256, icvBits: 128, key: keyBytes(36, spi) }
        : {
            kind: 'cipher',
            encryption: { algorithm: 'AES_CBC', keySize: 256, key: keyBytes(32, spi) },
            integrity: { algorithm: 'HMAC_SHA2_256_128', truncBits: 128, key: keyBytes(32, spi ^ 0x5555) },
          };
      const bitmap = new Uint8Array(Math.ceil(windowSize / 32) * 4);
      if (!out) bitmap.fill(0xff, 0, windowSize / 8);
      const child: ChildSa = {
        id: `esp:${spi.toString(16)}@${destination}`,
        direction,
        protocol: 'esp',
        spi: spiBytes,
        family: 'ipv4',
        source,
        destination,
        mode: 'tunnel',
        reqid,
        crypto,
        sequence: { esn, outbound: out ? counter : 0n, inbound: out ? 0n : counter, windowSize, bitmap },
        lifetime: {
          soft: { addSeconds: 3240n },
          hard: { addSeconds: 3600n },
          used: { bytes: packets * 100n, packets, addTime: now - 60, useTime: now - 30 },
        },
        flags: [],
      };
      if (!options.policiesOnly) childSas.push(child);
      const algorithms = gcm
        ? `aead rfc4106(gcm(aes)) 0x${hex(crypto.kind === 'aead' ? crypto.key : new Uint8Array())} 128`
        : crypto.kind === 'cipher'
          ? `enc cbc(aes) 0x${hex(crypto.encryption.key)} auth-trunc hmac(sha256) 0x${hex(crypto.integrity.key)} 128`
          : '';
      const seq = out ? `replay-oseq ${counter & 0xffffffffn}` : `replay-seq ${counter & 0xffffffffn}`;
      const seqHi = esn ? (out ? ' replay-oseq-hi 1' : ' replay-seq-hi 1') : '';
      saLines.push(
        `xfrm state add src ${source} dst ${destination} proto esp spi 0x${spi.toString(16)} reqid ${reqid} mode tunnel ${algorithms} ` +
          `replay-window ${windowSize} ${seq}${seqHi}${esn ? ' flag esn' : ''} limit time-soft 3240 limit time-hard 3600`,
      );

      // The policy that uses this SA: out (local subnet -> remote subnet) or in (the reverse).
      const local = `10.${a}.${b}.0/24`;
      const remote = `11.${a}.${b}.0/24`;
      const index = 8 * (i + 1) + (out ? 1 : 0);
      policies.push({
        id: `policy:${direction}:${index}`,
        direction,
        action: 'allow',
        selector: { family: 'ipv4', source: out ? local : remote, destination: out ? remote : local },
        priority: PRIORITY,
        index,
        templates: [{ protocol: 'esp', mode: 'tunnel', reqid, family: 'ipv4', source, destination, optional: false }],
      });
      policyLines.push(
        `xfrm policy add src ${out ? local : remote} dst ${out ? remote : local} dir ${direction} index ${index} priority ${PRIORITY} ` +
          `tmpl src ${source} dst ${destination} proto esp reqid ${reqid} mode tunnel`,
      );
    }
  }
  return {
    context: { version: MODEL_VERSION, provenance: { source: 'bench', driver: 'xfrm', capturedAtMs: nowMs }, ikeSas: [], childSas, policies },
    ipLines: options.policiesOnly ? policyLines : [...saLines, ...policyLines],
  };
}
