/**
 * IKEv2 key derivation as charon computes it (RFC 7296 §2.14, §2.17, §2.18; charon's
 * keymat_v2), from what the HA protocol carries: the nonces, the key exchange's shared
 * secret, the SPIs, the negotiated transforms, and for an IKE rekey the old SA's SK_d and PRF.
 *
 * - new IKE SA:     SKEYSEED = prf(Ni | Nr, g^ir)
 * - rekeyed IKE SA: SKEYSEED = prf_old(SK_d old, g^ir | Ni | Nr | [g^ir 2..n]), prf+ uses prf_old too
 * - both:           SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr
 *                     = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
 * - CHILD SA:       encr_i | integ_i | encr_r | integ_r = prf+(SK_d, [g^ir] | Ni | Nr | [g^ir 2..n])
 *
 * For AES-XCBC and AES-CMAC PRFs the SKEYSEED key is only the first 8 bytes of each nonce
 * (their fixed 128-bit key), while prf+ still takes the full nonces.
 */
import { GatewayError } from '../../errors.js';
import { isFixedKeyPrf, prfById, prfPlus } from './prf.js';
import { resolveEncryption, resolveIntegrity, resolvePrf } from './transforms.js';

export interface IkeKeyInput {
  /** PRF transform ID of the new SA. */
  prf: number;
  encryption: number;
  /** Key size in bits (ALG_ENCR_LEN); absent for fixed-size ciphers. */
  encryptionKeyBits?: number;
  /** Absent with AEAD ciphers. */
  integrity?: number;
  nonceI: Uint8Array;
  nonceR: Uint8Array;
  /** The key exchange's shared secret (HA_SECRET). */
  sharedSecret: Uint8Array;
  /** 6.0.1+ rekeys with several key exchanges: the further secrets (HA_ADD_SECRET), after the nonces. */
  additionalSecrets?: Uint8Array;
  spiI: Uint8Array;
  spiR: Uint8Array;
  /** For an IKE SA made by rekeying: the old SA's SK_d and PRF (HA_OLD_SKD, HA_ALG_OLD_PRF). */
  rekey?: { prf: number; skD: Uint8Array };
}

export interface IkeKeys {
  skD: Uint8Array;
  /** Absent (empty in charon) with AEAD. */
  skAi?: Uint8Array;
  skAr?: Uint8Array;
  skEi: Uint8Array;
  skEr: Uint8Array;
  skPi: Uint8Array;
  skPr: Uint8Array;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/** @throws GatewayError for transforms ipsec-ctx cannot derive keys for */
export function deriveIkeKeys(input: IkeKeyInput): IkeKeys {
  const prfInfo = resolvePrf(input.prf);
  const encryption = resolveEncryption(input.encryption, input.encryptionKeyBits);
  if (!encryption.aead && input.integrity === undefined) {
    throw new GatewayError('strongswan.missing_integrity', `${encryption.name} needs an integrity algorithm, and the gateway sent none`);
  }
  const integrityBytes = encryption.aead || input.integrity === undefined ? 0 : resolveIntegrity(input.integrity).keyBytes;
  const nonces = concat(input.nonceI, input.nonceR);

  let skeyseed: Uint8Array;
  let prfPlusPrf;
  if (input.rekey === undefined) {
    const prf = prfById(input.prf);
    const key = isFixedKeyPrf(input.prf) ? concat(input.nonceI.subarray(0, 8), input.nonceR.subarray(0, 8)) : nonces;
    skeyseed = prf(key, input.sharedSecret);
    prfPlusPrf = prf;
  } else {
    // RFC 7296 §2.18: the old SA's PRF, for SKEYSEED and prf+ alike.
    const prf = prfById(input.rekey.prf);
    skeyseed = prf(input.rekey.skD, concat(input.sharedSecret, nonces, input.additionalSecrets ?? new Uint8Array(0)));
    prfPlusPrf = prf;
  }

  const sizes = [prfInfo.keyBytes, integrityBytes, integrityBytes, encryption.keyBytes, encryption.keyBytes, prfInfo.keyBytes, prfInfo.keyBytes];
  const total = sizes.reduce((a, b) => a + b, 0);
  const keymat = prfPlus(prfPlusPrf, skeyseed, concat(nonces, input.spiI, input.spiR), total);
  skeyseed.fill(0);
  const [skD, skAi, skAr, skEi, skEr, skPi, skPr] = split(keymat, sizes);
  keymat.fill(0);
  return {
    skD: skD as Uint8Array,
    ...(integrityBytes > 0 ? { skAi: skAi as Uint8Array, skAr: skAr as Uint8Array } : {}),
    skEi: skEi as Uint8Array,
    skEr: skEr as Uint8Array,
    skPi: skPi as Uint8Array,
    skPr: skPr as Uint8Array,
  };
}

export interface ChildKeyInput {
  /** PRF transform ID of the IKE SA the CHILD SA belongs to. */
  prf: number;
  /** SK_d of that IKE SA. */
  skD: Uint8Array;
  encryption: number;
  encryptionKeyBits?: number;
  integrity?: number;
  nonceI: Uint8Array;
  nonceR: Uint8Array;
  /** The shared secret of the CREATE_CHILD_SA key exchange, with PFS only. */
  sharedSecret?: Uint8Array;
  /** 6.0.1+: secrets of further key exchanges (HA_ADD_SECRET), after the nonces. */
  additionalSecrets?: Uint8Array;
}

export interface ChildKeys {
  /** Initiator → responder: cipher key with salt, and integrity key (absent with AEAD). */
  encrI: Uint8Array;
  integI?: Uint8Array;
  encrR: Uint8Array;
  integR?: Uint8Array;
}

/** @throws GatewayError for transforms ipsec-ctx cannot derive keys for */
export function deriveChildKeys(input: ChildKeyInput): ChildKeys {
  const encryption = resolveEncryption(input.encryption, input.encryptionKeyBits);
  const integrityBytes = input.integrity === undefined ? 0 : resolveIntegrity(input.integrity).keyBytes;
  const seed = concat(input.sharedSecret ?? new Uint8Array(0), input.nonceI, input.nonceR, input.additionalSecrets ?? new Uint8Array(0));
  const sizes = [encryption.keyBytes, integrityBytes, encryption.keyBytes, integrityBytes];
  const keymat = prfPlus(prfById(input.prf), input.skD, seed, sizes.reduce((a, b) => a + b, 0));
  seed.fill(0);
  const [encrI, integI, encrR, integR] = split(keymat, sizes);
  keymat.fill(0);
  return {
    encrI: encrI as Uint8Array,
    encrR: encrR as Uint8Array,
    ...(integrityBytes > 0 ? { integI: integI as Uint8Array, integR: integR as Uint8Array } : {}),
  };
}

function split(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  let at = 0;
  return sizes.map((size) => {
    const part = bytes.slice(at, at + size);
    at += size;
    return part;
  });
}
