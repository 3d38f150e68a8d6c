/**
 * IKEv2 transform IDs (RFC 7296 §3.3.2, IANA "IKEv2 Parameters", plus strongSwan's private
 * IDs above 1024) as the HA protocol carries them, mapped to the model's names
 * (lib/model/algorithms.ts) with the key sizes charon derives for them.
 */
import { GatewayError } from '../../errors.js';
import { DH_GROUPS, ENCRYPTION, INTEGRITY, PRF } from '../../model/algorithms.js';

export interface EncryptionTransform {
  name: string;
  /** Key size in bits when the proposal carries none (ALG_ENCR_LEN left out). */
  defaultKeyBits?: number;
}

export const ENCRYPTION_IDS: Readonly<Record<number, EncryptionTransform>> = {
  3: { name: '3DES', defaultKeyBits: 192 },
  11: { name: 'NULL', defaultKeyBits: 0 },
  12: { name: 'AES_CBC' },
  13: { name: 'AES_CTR' },
  14: { name: 'AES_CCM_8' },
  15: { name: 'AES_CCM_12' },
  16: { name: 'AES_CCM_16' },
  18: { name: 'AES_GCM_8' },
  19: { name: 'AES_GCM_12' },
  20: { name: 'AES_GCM_16' },
  23: { name: 'CAMELLIA_CBC' },
  28: { name: 'CHACHA20_POLY1305', defaultKeyBits: 256 },
};

export const INTEGRITY_IDS: Readonly<Record<number, string>> = {
  1: 'HMAC_MD5_96',
  2: 'HMAC_SHA1_96',
  5: 'AES_XCBC_96',
  8: 'AES_CMAC_96',
  12: 'HMAC_SHA2_256_128',
  13: 'HMAC_SHA2_384_192',
  14: 'HMAC_SHA2_512_256',
  /** strongSwan's private ID for the pre-RFC 4868 96-bit truncation (`sha256_96`). */
  1026: 'HMAC_SHA2_256_96',
};

export const PRF_IDS: Readonly<Record<number, string>> = {
  1: 'PRF_HMAC_MD5',
  2: 'PRF_HMAC_SHA1',
  4: 'PRF_AES128_XCBC',
  5: 'PRF_HMAC_SHA2_256',
  6: 'PRF_HMAC_SHA2_384',
  7: 'PRF_HMAC_SHA2_512',
  8: 'PRF_AES128_CMAC',
};

export const DH_IDS: Readonly<Record<number, (typeof DH_GROUPS)[number]>> = {
  2: 'MODP_1024',
  5: 'MODP_1536',
  14: 'MODP_2048',
  15: 'MODP_3072',
  16: 'MODP_4096',
  17: 'MODP_6144',
  18: 'MODP_8192',
  19: 'ECP_256',
  20: 'ECP_384',
  21: 'ECP_521',
  28: 'ECP_256_BP',
  29: 'ECP_384_BP',
  30: 'ECP_512_BP',
  31: 'CURVE_25519',
  32: 'CURVE_448',
  35: 'ML_KEM_512',
  36: 'ML_KEM_768',
  37: 'ML_KEM_1024',
};

function unknown(kind: string, id: number): GatewayError {
  return new GatewayError('strongswan.unsupported_transform', `the gateway uses ${kind} transform ${id}, which ipsec-ctx does not know`);
}

export interface ResolvedEncryption {
  name: string;
  keyBits: number;
  /** Bytes of key material charon derives: cipher key plus salt/nonce (GCM, CTR, ChaCha +4, CCM +3). */
  keyBytes: number;
  aead: boolean;
  icvBits?: number;
}

/** @throws GatewayError `strongswan.unsupported_transform` */
export function resolveEncryption(id: number, keyBits: number | undefined): ResolvedEncryption {
  const transform = ENCRYPTION_IDS[id];
  const model = transform && ENCRYPTION[transform.name];
  if (!transform || !model) throw unknown('encryption', id);
  const bits = keyBits ?? transform.defaultKeyBits;
  if (bits === undefined) throw new GatewayError('strongswan.missing_key_size', `${transform.name} needs a key size, and the gateway sent none`);
  return {
    name: transform.name,
    keyBits: bits,
    keyBytes: bits / 8 + model.saltBytes,
    aead: model.icvBits !== undefined,
    ...(model.icvBits !== undefined ? { icvBits: model.icvBits } : {}),
  };
}

/** @throws GatewayError `strongswan.unsupported_transform` */
export function resolveIntegrity(id: number): { name: string; keyBytes: number; truncBits: number } {
  const name = INTEGRITY_IDS[id];
  const model = name === undefined ? undefined : INTEGRITY[name];
  if (name === undefined || !model) throw unknown('integrity', id);
  return { name, keyBytes: model.keyBytes, truncBits: model.truncBits };
}

/** @throws GatewayError `strongswan.unsupported_transform` */
export function resolvePrf(id: number): { name: string; keyBytes: number } {
  const name = PRF_IDS[id];
  const model = name === undefined ? undefined : PRF[name];
  if (name === undefined || !model) throw unknown('PRF', id);
  return { name, keyBytes: model.keyBytes };
}

/** @throws GatewayError `strongswan.unsupported_transform` */
export function resolveDhGroup(id: number): (typeof DH_GROUPS)[number] {
  const name = DH_IDS[id];
  if (name === undefined) throw unknown('key exchange', id);
  return name;
}
