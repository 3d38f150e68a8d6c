/**
 * The transforms the model knows, named as strongSwan prints them (`swanctl --list-sas`), which
 * are the IANA IKEv2 transform names (RFC 7296 §3.3.2, IANA "IKEv2 Parameters"). Drivers map
 * them to their own vocabulary (the xfrm driver to Linux crypto names such as
 * `rfc4106(gcm(aes))`).
 *
 * Each entry says how many key bytes a gateway holds for it, so the model can reject a key of
 * the wrong length the way the gateway would. AEAD and counter-mode keys carry their salt
 * (RFC 4106 §8.1: 4 bytes for GCM, RFC 4309 §7.1: 3 bytes for CCM, RFC 7634 §2: 4 bytes for
 * ChaCha20-Poly1305, RFC 3686 §5.1: 4 bytes for CTR) after the cipher key, as both IKE's key
 * derivation and the kernel's ESP keys do.
 */

export interface EncryptionAlgorithm {
  /** Allowed cipher key sizes in bits (without salt). */
  readonly keySizes: readonly number[];
  /** Salt bytes appended to the cipher key. */
  readonly saltBytes: number;
  /** For AEAD: the ICV length in bits. Absent for plain ciphers. */
  readonly icvBits?: number;
  /** Usable for IKE SAs (some, like NULL, are ESP-only). */
  readonly ike: boolean;
}

export const ENCRYPTION: Readonly<Record<string, EncryptionAlgorithm>> = {
  NULL: { keySizes: [0], saltBytes: 0, ike: false },
  '3DES': { keySizes: [192], saltBytes: 0, ike: true },
  AES_CBC: { keySizes: [128, 192, 256], saltBytes: 0, ike: true },
  AES_CTR: { keySizes: [128, 192, 256], saltBytes: 4, ike: true },
  CAMELLIA_CBC: { keySizes: [128, 192, 256], saltBytes: 0, ike: true },
  AES_GCM_8: { keySizes: [128, 192, 256], saltBytes: 4, icvBits: 64, ike: true },
  AES_GCM_12: { keySizes: [128, 192, 256], saltBytes: 4, icvBits: 96, ike: true },
  AES_GCM_16: { keySizes: [128, 192, 256], saltBytes: 4, icvBits: 128, ike: true },
  AES_CCM_8: { keySizes: [128, 192, 256], saltBytes: 3, icvBits: 64, ike: true },
  AES_CCM_12: { keySizes: [128, 192, 256], saltBytes: 3, icvBits: 96, ike: true },
  AES_CCM_16: { keySizes: [128, 192, 256], saltBytes: 3, icvBits: 128, ike: true },
  CHACHA20_POLY1305: { keySizes: [256], saltBytes: 4, icvBits: 128, ike: true },
};

export interface IntegrityAlgorithm {
  readonly keyBytes: number;
  readonly truncBits: number;
}

export const INTEGRITY: Readonly<Record<string, IntegrityAlgorithm>> = {
  HMAC_MD5_96: { keyBytes: 16, truncBits: 96 },
  HMAC_SHA1_96: { keyBytes: 20, truncBits: 96 },
  AES_XCBC_96: { keyBytes: 16, truncBits: 96 },
  AES_CMAC_96: { keyBytes: 16, truncBits: 96 },
  /** The pre-RFC 4868 truncation Linux and strongSwan (`sha256_96`) still offer for old peers. */
  HMAC_SHA2_256_96: { keyBytes: 32, truncBits: 96 },
  HMAC_SHA2_256_128: { keyBytes: 32, truncBits: 128 },
  HMAC_SHA2_384_192: { keyBytes: 48, truncBits: 192 },
  HMAC_SHA2_512_256: { keyBytes: 64, truncBits: 256 },
};

/** PRFs with the length of SK_d, SK_pi and SK_pr they produce (RFC 7296 §2.14: the PRF key size). */
export const PRF: Readonly<Record<string, { keyBytes: number }>> = {
  PRF_HMAC_MD5: { keyBytes: 16 },
  PRF_HMAC_SHA1: { keyBytes: 20 },
  PRF_AES128_XCBC: { keyBytes: 16 },
  PRF_AES128_CMAC: { keyBytes: 16 },
  PRF_HMAC_SHA2_256: { keyBytes: 32 },
  PRF_HMAC_SHA2_384: { keyBytes: 48 },
  PRF_HMAC_SHA2_512: { keyBytes: 64 },
};

export const DH_GROUPS = [
  'MODP_1024',
  'MODP_1536',
  'MODP_2048',
  'MODP_3072',
  'MODP_4096',
  'MODP_6144',
  'MODP_8192',
  'ECP_256',
  'ECP_384',
  'ECP_521',
  'ECP_256_BP',
  'ECP_384_BP',
  'ECP_512_BP',
  'CURVE_25519',
  'CURVE_448',
  // ML-KEM (FIPS 203), strongSwan 6: usually an additional key exchange (RFC 9370) after a
  // classic one, for post-quantum protection of the keys.
  'ML_KEM_512',
  'ML_KEM_768',
  'ML_KEM_1024',
] as const;

export const COMPRESSION = ['DEFLATE', 'LZS', 'LZJH'] as const;

/** Total key bytes a gateway stores for an encryption transform of the given key size. */
export function encryptionKeyBytes(algorithm: EncryptionAlgorithm, keySizeBits: number): number {
  return keySizeBits / 8 + algorithm.saltBytes;
}

export const encryptionNames = Object.keys(ENCRYPTION) as [string, ...string[]];
export const integrityNames = Object.keys(INTEGRITY) as [string, ...string[]];
export const prfNames = Object.keys(PRF) as [string, ...string[]];
