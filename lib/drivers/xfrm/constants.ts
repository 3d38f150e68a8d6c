/**
 * Numbers of the Linux XFRM netlink ABI (include/uapi/linux/xfrm.h, netlink.h), written out
 * by hand: the kernel's user-space ABI is stable, and test/drivers/xfrm/ checks the struct
 * layouts against the C compiler's through the addon.
 */

export const NETLINK_XFRM = 6;

/** nlmsghdr.nlmsg_type values of the netlink core. */
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

/** nlmsghdr.nlmsg_flags. */
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
/** In an NLMSG_ERROR: the copy of the request was cut to its header (NETLINK_CAP_ACK). */
export const NLM_F_CAPPED = 0x100;
/** In an NLMSG_ERROR: extended-ACK attributes follow. */
export const NLM_F_ACK_TLVS = 0x200;
/** In NLMSG_DONE of a dump: the dump was interrupted by a change and may be inconsistent. */
export const NLM_F_DUMP_INTR = 0x10;

/** Extended-ACK attributes (enum nlmsgerr_attrs). */
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;
export const NLMSGERR_ATTR_MISS_TYPE = 5;

/** XFRM message types. */
export const XFRM_MSG = {
  NEWSA: 16,
  DELSA: 17,
  GETSA: 18,
  NEWPOLICY: 19,
  DELPOLICY: 20,
  GETPOLICY: 21,
  ALLOCSPI: 22,
  ACQUIRE: 23,
  EXPIRE: 24,
  UPDPOLICY: 25,
  UPDSA: 26,
  POLEXPIRE: 27,
  FLUSHSA: 28,
  FLUSHPOLICY: 29,
  NEWAE: 30,
  GETAE: 31,
  GETSPDINFO: 37,
} as const;

/** XFRMA_* attribute types. */
export const XFRMA = {
  ALG_AUTH: 1,
  ALG_CRYPT: 2,
  ALG_COMP: 3,
  ENCAP: 4,
  TMPL: 5,
  SA: 6,
  POLICY: 7,
  SEC_CTX: 8,
  LTIME_VAL: 9,
  REPLAY_VAL: 10,
  REPLAY_THRESH: 11,
  ETIMER_THRESH: 12,
  SRCADDR: 13,
  COADDR: 14,
  LASTUSED: 15,
  POLICY_TYPE: 16,
  MIGRATE: 17,
  ALG_AEAD: 18,
  KMADDRESS: 19,
  ALG_AUTH_TRUNC: 20,
  MARK: 21,
  TFCPAD: 22,
  REPLAY_ESN_VAL: 23,
  SA_EXTRA_FLAGS: 24,
  PROTO: 25,
  ADDRESS_FILTER: 26,
  PAD: 27,
  OFFLOAD_DEV: 28,
  SET_MARK: 29,
  SET_MARK_MASK: 30,
  IF_ID: 31,
  MTIMER_THRESH: 32,
  SA_DIR: 33,
  NAT_KEEPALIVE_INTERVAL: 34,
} as const;

/** Attribute number to name, for messages. */
export const XFRMA_NAME: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(XFRMA).map(([name, type]) => [type, `XFRMA_${name}`]),
);

/** Address families (linux/socket.h). */
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** IP protocol numbers the SAD and SPD use. */
export const IPPROTO = {
  IPIP: 4,
  IPV6: 41,
  ESP: 50,
  AH: 51,
  COMP: 108,
  ROUTING: 43,
  DSTOPTS: 60,
} as const;

/** xfrm_usersa_info.mode / xfrm_user_tmpl.mode. */
export const XFRM_MODE = {
  TRANSPORT: 0,
  TUNNEL: 1,
  ROUTEOPTIMIZATION: 2,
  IN_TRIGGER: 3,
  BEET: 4,
} as const;

/** xfrm_usersa_info.flags. */
export const XFRM_STATE = {
  NOECN: 1,
  DECAP_DSCP: 2,
  NOPMTUDISC: 4,
  WILDRECV: 8,
  ICMP: 16,
  AF_UNSPEC: 32,
  ALIGN4: 64,
  ESN: 128,
} as const;

/** XFRMA_SA_EXTRA_FLAGS bits. */
export const XFRM_SA_XFLAG = {
  DONT_ENCAP_DSCP: 1,
  OSEQ_MAY_WRAP: 2,
} as const;

/** xfrm_userpolicy_info.dir / action / flags. */
export const XFRM_POLICY_DIR = { IN: 0, OUT: 1, FWD: 2 } as const;
export const XFRM_POLICY_ACTION = { ALLOW: 0, BLOCK: 1 } as const;
export const XFRM_POLICY_FLAG = { LOCALOK: 1, ICMP: 2 } as const;
/** XFRMA_POLICY_TYPE: the main policy database or a sub-policy (CONFIG_XFRM_SUB_POLICY). */
export const XFRM_POLICY_TYPE = { MAIN: 0, SUB: 1 } as const;

/** xfrm_encap_tmpl.encap_type (linux/udp.h). */
export const UDP_ENCAP_ESPINUDP_NON_IKE = 1;
export const UDP_ENCAP_ESPINUDP = 2;
export const TCP_ENCAP_ESPINTCP = 7;

/** "No limit" for byte and packet lifetime limits (XFRM_INF = ~(__u64)0). */
export const XFRM_INF = 0xffff_ffff_ffff_ffffn;

/**
 * The kernel refuses an ESN replay state whose bitmap is longer than XFRMA_REPLAY_ESN_MAX / 4 / 8
 * = 128 words, so the largest replay window is 4096 packets.
 */
export const MAX_REPLAY_WINDOW = 4096;

/** An algorithm name buffer in xfrm_algo*: 64 bytes, NUL-terminated. */
export const ALGO_NAME_BYTES = 64;
