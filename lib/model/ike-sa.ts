/**
 * An IKE SA as the IKE daemon holds it (RFC 7296 §2.14 keys, §2.2 message IDs), enough for
 * another daemon to carry on the same SA: answer DPD, rekey, delete, without IKE_SA_INIT.
 */
import { z } from 'zod';
import { DH_GROUPS, ENCRYPTION, INTEGRITY, PRF, encryptionKeyBytes, encryptionNames, integrityNames, prfNames } from './algorithms.js';
import { Address, Endpoint } from './common.js';
import { bytes, isAllZero, label, localId, u32, u8, unixSeconds } from './leaves.js';
import { secret } from './secret.js';

export const IkeProposal = z.strictObject({
  encryption: z.strictObject({ algorithm: z.enum(encryptionNames), keySize: z.number().int() }),
  /** Absent with an AEAD cipher, which integrity-protects by itself. */
  integrity: z.enum(integrityNames).optional(),
  prf: z.enum(prfNames),
  dhGroup: z.enum(DH_GROUPS),
  /** RFC 9370 additional key exchanges, ADDITIONAL_KEY_EXCHANGE_1 first (strongSwan's `ke1_`...). */
  additionalKeyExchanges: z.array(z.enum(DH_GROUPS)).min(1).max(7).optional(),
});
export type IkeProposal = z.infer<typeof IkeProposal>;

export const AuthMethod = z.enum(['pubkey', 'psk', 'eap', 'xauth', 'null']);

/** SK_* as derived in RFC 7296 §2.14; SK_ai/SK_ar are absent with AEAD ciphers. */
export const IkeKeys = z.strictObject({
  skD: secret(bytes({ min: 1, max: 64 })),
  skAi: secret(bytes({ min: 1, max: 64 })).optional(),
  skAr: secret(bytes({ min: 1, max: 64 })).optional(),
  skEi: secret(bytes({ min: 0, max: 64 })),
  skEr: secret(bytes({ min: 0, max: 64 })),
  skPi: secret(bytes({ min: 1, max: 64 })),
  skPr: secret(bytes({ min: 1, max: 64 })),
});
export type IkeKeys = z.infer<typeof IkeKeys>;

/** Nonces feed the key derivation of every rekey, so they are as secret as the keys. */
export const IkeNonces = z.strictObject({
  ni: secret(bytes({ min: 16, max: 256 })),
  nr: secret(bytes({ min: 16, max: 256 })),
});

/** RFC 7296 §2.2/§2.3: the next ID we will use for a request, the next we expect from the peer. */
export const MessageIds = z.strictObject({
  nextToSend: u32(),
  nextExpected: u32(),
  windowSize: z.number().int().min(1).max(0xffff),
});

export const IkeExtensions = z.strictObject({
  /** NAT detected in front of us / in front of the peer (RFC 7296 §2.23). */
  natLocal: z.boolean(),
  natRemote: z.boolean(),
  mobike: z.boolean(),
  /** RFC 6311 IKEV2_MESSAGE_ID_SYNC_SUPPORTED and IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED. */
  messageIdSync: z.boolean(),
  replayCounterSync: z.boolean(),
});

export const IkeTimes = z.strictObject({
  established: unixSeconds(),
  rekey: unixSeconds().optional(),
  reauth: unixSeconds().optional(),
  expires: unixSeconds().optional(),
});

/**
 * What an IKE daemon needs to derive this SA's keys itself (RFC 7296 §2.14, §2.18) instead of
 * taking them as they are: the daemon-to-daemon sync of strongSwan's `ha` plugin carries
 * exactly this, never SK_* (docs/strongswan.md). `key` is the key exchange's shared secret
 * (g^ir); `rekey` the PRF and SK_d of the SA this one replaced, for SAs made by an IKE rekey.
 * Nonces are the SA's `nonces`. Absent when not known (every driver but `strongswan:`).
 */
export const IkeDerivation = z.strictObject({
  key: secret(bytes({ min: 1, max: 1024 })),
  rekey: z
    .strictObject({
      prf: z.enum(prfNames),
      skD: secret(bytes({ min: 1, max: 64 })),
      /** With additional key exchanges (RFC 9370 §2.2.2): their shared secrets joined, as charon appends them after the nonces. */
      additionalKey: secret(bytes({ min: 1, max: 8192 })).optional(),
    })
    .optional(),
  /**
   * For an SA whose IKE_SA_INIT was followed by additional key exchanges (RFC 9370
   * IKE_INTERMEDIATE): each one's shared secret, in order. Each round derives the keys again
   * from the previous round's SK_d: SKEYSEED(n) = prf(SK_d(n-1), key(n) | Ni | Nr).
   */
  // Tagged as a whole: redaction goes by field name (lib/cli/render.ts).
  intermediateKeys: secret(z.array(bytes({ min: 1, max: 2048 })).min(1).max(7)).optional(),
});

/**
 * strongSwan's own state bits for the SA (ike_condition_t, ike_extension_t as its `ha`
 * plugin syncs them): only meaningful to a strongSwan target, which restores them exactly.
 * Other targets use `extensions` above.
 */
export const StrongswanIkeState = z.strictObject({
  conditions: u32(),
  extensions: u32(),
});

/**
 * An identity as IKE carries it (RFC 7296 §3.5): the ID type and its data. The text form in
 * `localIdentity`/`remoteIdentity` is how strongSwan prints an identity, and for some it loses
 * bytes: a distinguished name's text does not say which ASN.1 string types its values had, a
 * key ID prints as hex or as text. A driver that reads identities from IKE (`strongswan:`)
 * adds the encoding for those, so a target gets back exactly the identity the peer
 * authenticated with; addresses, FQDNs, e-mail addresses and %any round-trip through the
 * text and carry no encoding.
 */
export const IdentityEncoding = z.strictObject({
  type: u8(),
  data: bytes({ max: 255 }),
});
export type IdentityEncoding = z.infer<typeof IdentityEncoding>;

export const IkeSa = z
  .strictObject({
    id: localId(),
    ikeVersion: z.literal(2),
    connection: label(),
    spiInitiator: bytes(8),
    spiResponder: bytes(8),
    role: z.enum(['initiator', 'responder']),
    local: Endpoint,
    remote: Endpoint,
    localIdentity: label(),
    remoteIdentity: label(),
    proposal: IkeProposal,
    authentication: z.strictObject({ local: AuthMethod, remote: AuthMethod }),
    keys: IkeKeys,
    nonces: IkeNonces.optional(),
    messageIds: MessageIds,
    extensions: IkeExtensions,
    times: IkeTimes,
    childSaIds: z.array(localId()),
    /** The EAP identity the peer authenticated with, when it differs from `remoteIdentity`. */
    remoteEapIdentity: label().optional(),
    /** The encodings of identities whose text form is not exact (see IdentityEncoding). */
    identityEncodings: z
      .strictObject({ local: IdentityEncoding.optional(), remote: IdentityEncoding.optional(), remoteEap: IdentityEncoding.optional() })
      .optional(),
    /** Virtual IPs assigned to the peer (from an address pool), if any. */
    remoteVirtualIps: z.array(Address).optional(),
    derivation: IkeDerivation.optional(),
    strongswan: StrongswanIkeState.optional(),
  })
  .superRefine((sa, ctx) => {
    if (isAllZero(sa.spiInitiator)) ctx.addIssue({ code: 'custom', path: ['spiInitiator'], message: 'SPI must not be zero' });
    // The responder SPI is zero only before IKE_SA_INIT completes, and such an SA cannot move.
    if (isAllZero(sa.spiResponder)) ctx.addIssue({ code: 'custom', path: ['spiResponder'], message: 'SPI must not be zero' });

    const enc = ENCRYPTION[sa.proposal.encryption.algorithm];
    if (!enc) return;
    if (!enc.ike) {
      ctx.addIssue({ code: 'custom', path: ['proposal', 'encryption', 'algorithm'], message: `${sa.proposal.encryption.algorithm} is not allowed for IKE` });
    }
    if (!enc.keySizes.includes(sa.proposal.encryption.keySize)) {
      ctx.addIssue({
        code: 'custom',
        path: ['proposal', 'encryption', 'keySize'],
        message: `${sa.proposal.encryption.algorithm} takes ${enc.keySizes.join('/')}-bit keys`,
      });
      return;
    }
    const aead = enc.icvBits !== undefined;
    const keyLength = (name: keyof IkeKeys, expected: number | undefined) => {
      const value = sa.keys[name];
      if (expected === undefined) {
        if (value !== undefined) ctx.addIssue({ code: 'custom', path: ['keys', name], message: `not used with ${sa.proposal.encryption.algorithm}` });
      } else if (value === undefined) {
        ctx.addIssue({ code: 'custom', path: ['keys', name], message: 'missing' });
      } else if (value.byteLength !== expected) {
        ctx.addIssue({ code: 'custom', path: ['keys', name], message: `expected ${expected} bytes, got ${value.byteLength}` });
      }
    };
    if (aead && sa.proposal.integrity !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['proposal', 'integrity'], message: 'an AEAD cipher takes no integrity algorithm' });
    }
    if (!aead && sa.proposal.integrity === undefined) {
      ctx.addIssue({ code: 'custom', path: ['proposal', 'integrity'], message: `${sa.proposal.encryption.algorithm} needs an integrity algorithm` });
    }
    const integ = sa.proposal.integrity === undefined ? undefined : INTEGRITY[sa.proposal.integrity];
    const prf = PRF[sa.proposal.prf];
    const encBytes = encryptionKeyBytes(enc, sa.proposal.encryption.keySize);
    keyLength('skD', prf?.keyBytes);
    keyLength('skPi', prf?.keyBytes);
    keyLength('skPr', prf?.keyBytes);
    keyLength('skEi', encBytes);
    keyLength('skEr', encBytes);
    keyLength('skAi', aead ? undefined : integ?.keyBytes);
    keyLength('skAr', aead ? undefined : integ?.keyBytes);
  });
export type IkeSa = z.infer<typeof IkeSa>;
