/**
 * struct xfrm_algo / xfrm_algo_auth / xfrm_algo_aead, and the names: the model speaks IANA
 * transform names (AES_GCM_16, HMAC_SHA2_256_128), the kernel its crypto API names
 * (rfc4106(gcm(aes)), hmac(sha256)) plus a key length in bits (salt included) and, for
 * integrity and AEAD, a truncation/ICV length in bits.
 *
 * The kernel reports the canonical crypto API name of each algorithm whatever alias it was
 * installed with (`ip xfrm ... enc aes` reads back as cbc(aes)), so only canonical names are
 * mapped. Anything else is refused with the kernel's name in the message.
 */
import { GatewayError } from '../../errors.js';
import { COMPRESSION, ENCRYPTION, INTEGRITY } from '../../model/algorithms.js';
import type { ChildCrypto } from '../../model/child-sa.js';
import { ALGO_NAME_BYTES, XFRMA } from './constants.js';
import { LAYOUT } from './layout.js';
import { type Attribute, LITTLE_ENDIAN, copyBytes, malformed, view } from './netlink.js';

// ---------------------------------------------------------------------------------------------
// Names

/** Plain ciphers (XFRMA_ALG_CRYPT). */
const CIPHERS: Readonly<Record<string, string>> = {
  NULL: 'ecb(cipher_null)',
  '3DES': 'cbc(des3_ede)',
  AES_CBC: 'cbc(aes)',
  AES_CTR: 'rfc3686(ctr(aes))',
  CAMELLIA_CBC: 'cbc(camellia)',
};

/** AEAD ciphers (XFRMA_ALG_AEAD): the kernel name, the ICV length tells the variants apart. */
const AEADS: Readonly<Record<string, string>> = {
  AES_GCM_8: 'rfc4106(gcm(aes))',
  AES_GCM_12: 'rfc4106(gcm(aes))',
  AES_GCM_16: 'rfc4106(gcm(aes))',
  AES_CCM_8: 'rfc4309(ccm(aes))',
  AES_CCM_12: 'rfc4309(ccm(aes))',
  AES_CCM_16: 'rfc4309(ccm(aes))',
  CHACHA20_POLY1305: 'rfc7539esp(chacha20,poly1305)',
};

/** Integrity (XFRMA_ALG_AUTH_TRUNC): the kernel name; the truncation tells variants apart. */
const INTEGRITIES: Readonly<Record<string, string>> = {
  HMAC_MD5_96: 'hmac(md5)',
  HMAC_SHA1_96: 'hmac(sha1)',
  AES_XCBC_96: 'xcbc(aes)',
  AES_CMAC_96: 'cmac(aes)',
  HMAC_SHA2_256_96: 'hmac(sha256)',
  HMAC_SHA2_256_128: 'hmac(sha256)',
  HMAC_SHA2_384_192: 'hmac(sha384)',
  HMAC_SHA2_512_256: 'hmac(sha512)',
};

const COMPRESSORS: Readonly<Record<(typeof COMPRESSION)[number], string>> = {
  DEFLATE: 'deflate',
  LZS: 'lzs',
  LZJH: 'lzjh',
};

function unsupported(owner: string, what: string): GatewayError {
  return new GatewayError('gateway.unsupported_algorithm', `${owner} uses ${what}, which ipsec-ctx cannot carry`, {
    hint: 'the model covers the IANA transforms in lib/model/algorithms.ts',
  });
}

function modelCipher(kernelName: string, keyBits: number, owner: string): { algorithm: string; keySize: number } {
  const algorithm = Object.keys(CIPHERS).find((name) => CIPHERS[name] === kernelName);
  if (!algorithm) throw unsupported(owner, `the cipher ${JSON.stringify(kernelName)}`);
  return { algorithm, keySize: keyBits - 8 * ENCRYPTION[algorithm]!.saltBytes };
}

function modelAead(kernelName: string, keyBits: number, icvBits: number, owner: string): { algorithm: string; keySize: number } {
  const algorithm = Object.keys(AEADS).find((name) => AEADS[name] === kernelName && ENCRYPTION[name]!.icvBits === icvBits);
  if (!algorithm) throw unsupported(owner, `the AEAD ${JSON.stringify(kernelName)} with a ${icvBits}-bit ICV`);
  return { algorithm, keySize: keyBits - 8 * ENCRYPTION[algorithm]!.saltBytes };
}

function modelIntegrity(kernelName: string, truncBits: number, owner: string): string {
  const algorithm = Object.keys(INTEGRITIES).find((name) => INTEGRITIES[name] === kernelName && INTEGRITY[name]!.truncBits === truncBits);
  if (!algorithm) throw unsupported(owner, `the integrity algorithm ${JSON.stringify(kernelName)} truncated to ${truncBits} bits`);
  return algorithm;
}

function modelCompression(kernelName: string, owner: string): ChildCrypto & { kind: 'compression' } {
  const algorithm = COMPRESSION.find((name) => COMPRESSORS[name] === kernelName);
  if (!algorithm) throw unsupported(owner, `the compression ${JSON.stringify(kernelName)}`);
  return { kind: 'compression', algorithm };
}

function kernelName(table: Readonly<Record<string, string>>, algorithm: string, owner: string): string {
  const name = table[algorithm];
  if (name === undefined) throw unsupported(owner, `${algorithm}, which has no Linux XFRM name in this position`);
  return name;
}

// ---------------------------------------------------------------------------------------------
// Structs

/** xfrm_algo (extra undefined), xfrm_algo_auth (extra = trunc_len), xfrm_algo_aead (extra = icv_len). */
export interface KernelAlgo {
  name: string;
  keyBits: number;
  /** trunc_len or icv_len in bits; absent for a plain xfrm_algo. */
  extraBits?: number;
  key: Uint8Array;
}

type AlgoStruct = 'xfrm_algo' | 'xfrm_algo_auth' | 'xfrm_algo_aead';

function readName(bytes: Uint8Array): string {
  const end = bytes.subarray(0, ALGO_NAME_BYTES).indexOf(0);
  if (end < 0) throw malformed('an algorithm name without its NUL');
  let name = '';
  for (let i = 0; i < end; i++) name += String.fromCharCode(bytes[i]!);
  return name;
}

export function parseAlgo(bytes: Uint8Array, struct: AlgoStruct, attributeName: string): KernelAlgo {
  const layout = LAYOUT[struct];
  if (bytes.byteLength < layout.size) throw malformed(`${attributeName} is ${bytes.byteLength} bytes, want at least ${layout.size}`);
  const dv = view(bytes);
  const keyBits = dv.getUint32(layout.offsets.alg_key_len, LITTLE_ENDIAN);
  const keyBytes = Math.ceil(keyBits / 8);
  const keyAt = layout.offsets.alg_key;
  if (bytes.byteLength < keyAt + keyBytes) throw malformed(`${attributeName}: a ${keyBits}-bit key in ${bytes.byteLength - keyAt} bytes`);
  const algo: KernelAlgo = { name: readName(bytes), keyBits, key: copyBytes(bytes, keyAt, keyAt + keyBytes) };
  if (struct === 'xfrm_algo_auth') algo.extraBits = dv.getUint32(LAYOUT.xfrm_algo_auth.offsets.alg_trunc_len, LITTLE_ENDIAN);
  if (struct === 'xfrm_algo_aead') algo.extraBits = dv.getUint32(LAYOUT.xfrm_algo_aead.offsets.alg_icv_len, LITTLE_ENDIAN);
  return algo;
}

export function encodeAlgo(algo: KernelAlgo, struct: AlgoStruct): Uint8Array {
  const layout = LAYOUT[struct];
  const name = Buffer.from(algo.name, 'latin1');
  if (name.byteLength >= ALGO_NAME_BYTES) throw new RangeError(`algorithm name ${algo.name} is too long`);
  const out = new Uint8Array(layout.size + algo.key.byteLength);
  const dv = view(out);
  out.set(name, layout.offsets.alg_name);
  dv.setUint32(layout.offsets.alg_key_len, algo.keyBits, LITTLE_ENDIAN);
  if (struct === 'xfrm_algo_auth') dv.setUint32(LAYOUT.xfrm_algo_auth.offsets.alg_trunc_len, algo.extraBits ?? 0, LITTLE_ENDIAN);
  if (struct === 'xfrm_algo_aead') dv.setUint32(LAYOUT.xfrm_algo_aead.offsets.alg_icv_len, algo.extraBits ?? 0, LITTLE_ENDIAN);
  out.set(algo.key, layout.offsets.alg_key);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Model

/** The algorithm attributes of one SA, as the kernel reports them. */
export interface KernelCrypto {
  aead?: KernelAlgo;
  crypt?: KernelAlgo;
  /** XFRMA_ALG_AUTH: the legacy form without truncation length (the kernel sends both). */
  auth?: KernelAlgo;
  authTrunc?: KernelAlgo;
  comp?: KernelAlgo;
}

export function parseCrypto(attributes: ReadonlyMap<number, Uint8Array>): KernelCrypto {
  const crypto: KernelCrypto = {};
  const get = (type: number) => attributes.get(type);
  let data;
  if ((data = get(XFRMA.ALG_AEAD))) crypto.aead = parseAlgo(data, 'xfrm_algo_aead', 'XFRMA_ALG_AEAD');
  if ((data = get(XFRMA.ALG_CRYPT))) crypto.crypt = parseAlgo(data, 'xfrm_algo', 'XFRMA_ALG_CRYPT');
  if ((data = get(XFRMA.ALG_AUTH))) crypto.auth = parseAlgo(data, 'xfrm_algo', 'XFRMA_ALG_AUTH');
  if ((data = get(XFRMA.ALG_AUTH_TRUNC))) crypto.authTrunc = parseAlgo(data, 'xfrm_algo_auth', 'XFRMA_ALG_AUTH_TRUNC');
  if ((data = get(XFRMA.ALG_COMP))) crypto.comp = parseAlgo(data, 'xfrm_algo', 'XFRMA_ALG_COMP');
  return crypto;
}

/** Default truncation of XFRMA_ALG_AUTH (no trunc_len) where it is not 96 bits. */
const LEGACY_TRUNC_BITS: Readonly<Record<string, number>> = { 'hmac(sha384)': 192, 'hmac(sha512)': 256 };

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}

function integrityOf(crypto: KernelCrypto, owner: string) {
  const { auth, authTrunc } = crypto;
  if (!authTrunc) {
    // Only the legacy attribute (a hand-made message; the kernel always adds the other): the
    // truncation is the kernel's default for the algorithm (net/xfrm/xfrm_algo.c icv_truncbits).
    if (!auth) return undefined;
    const truncBits = LEGACY_TRUNC_BITS[auth.name] ?? 96;
    return { algorithm: modelIntegrity(auth.name, truncBits, owner), truncBits, key: auth.key };
  }
  if (auth && (auth.name !== authTrunc.name || !sameKey(auth.key, authTrunc.key))) {
    throw malformed(`${owner}: XFRMA_ALG_AUTH and XFRMA_ALG_AUTH_TRUNC disagree`);
  }
  const truncBits = authTrunc.extraBits ?? 0;
  return { algorithm: modelIntegrity(authTrunc.name, truncBits, owner), truncBits, key: authTrunc.key };
}

export function cryptoToModel(crypto: KernelCrypto, owner: string): ChildCrypto {
  const integrity = integrityOf(crypto, owner);
  if (crypto.aead) {
    if (crypto.crypt || integrity || crypto.comp) throw malformed(`${owner}: an AEAD SA with other algorithms`);
    const { algorithm, keySize } = modelAead(crypto.aead.name, crypto.aead.keyBits, crypto.aead.extraBits ?? 0, owner);
    return { kind: 'aead', algorithm, keySize, icvBits: crypto.aead.extraBits ?? 0, key: crypto.aead.key };
  }
  if (crypto.comp) {
    if (crypto.crypt || integrity) throw malformed(`${owner}: a compression SA with other algorithms`);
    return modelCompression(crypto.comp.name, owner);
  }
  if (crypto.crypt) {
    const { algorithm, keySize } = modelCipher(crypto.crypt.name, crypto.crypt.keyBits, owner);
    if (!integrity) throw unsupported(owner, `${algorithm} encryption without integrity protection`);
    return { kind: 'cipher', encryption: { algorithm, keySize, key: crypto.crypt.key }, integrity };
  }
  if (integrity) return { kind: 'integrity', integrity };
  throw unsupported(owner, 'no algorithm at all (an SA of this protocol needs one)');
}

export function cryptoAttributes(crypto: ChildCrypto, owner: string): Attribute[] {
  const integrityAttribute = (integrity: Extract<ChildCrypto, { kind: 'integrity' }>['integrity']): Attribute => ({
    type: XFRMA.ALG_AUTH_TRUNC,
    data: encodeAlgo(
      { name: kernelName(INTEGRITIES, integrity.algorithm, owner), keyBits: integrity.key.byteLength * 8, extraBits: integrity.truncBits, key: integrity.key },
      'xfrm_algo_auth',
    ),
  });
  switch (crypto.kind) {
    case 'aead':
      return [
        {
          type: XFRMA.ALG_AEAD,
          data: encodeAlgo(
            { name: kernelName(AEADS, crypto.algorithm, owner), keyBits: crypto.key.byteLength * 8, extraBits: crypto.icvBits, key: crypto.key },
            'xfrm_algo_aead',
          ),
        },
      ];
    case 'cipher':
      return [
        {
          type: XFRMA.ALG_CRYPT,
          data: encodeAlgo(
            { name: kernelName(CIPHERS, crypto.encryption.algorithm, owner), keyBits: crypto.encryption.key.byteLength * 8, key: crypto.encryption.key },
            'xfrm_algo',
          ),
        },
        integrityAttribute(crypto.integrity),
      ];
    case 'integrity':
      return [integrityAttribute(crypto.integrity)];
    case 'compression':
      return [{ type: XFRMA.ALG_COMP, data: encodeAlgo({ name: COMPRESSORS[crypto.algorithm], keyBits: 0, key: new Uint8Array(0) }, 'xfrm_algo') }];
  }
}
