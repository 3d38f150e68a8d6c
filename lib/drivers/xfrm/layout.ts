/**
 * Byte layouts of the kernel structs the driver reads and writes (x86_64 and every other
 * Linux ABI with 4-byte-aligned u32 and 8-byte-aligned u64 inside these structs). The numbers
 * are written here by hand and checked against offsetof/sizeof from the C compiler by
 * test/drivers/xfrm/layout.test.ts through the addon's layout().
 */

export const NLMSG_ALIGNTO = 4;
export const NLA_ALIGNTO = 4;
export const align4 = (n: number): number => (n + 3) & ~3;

export const LAYOUT = {
  nlmsghdr: { size: 16, offsets: { nlmsg_len: 0, nlmsg_type: 4, nlmsg_flags: 6, nlmsg_seq: 8, nlmsg_pid: 12 } },
  nlattr: { size: 4, offsets: { nla_len: 0, nla_type: 2 } },
  nlmsgerr: { size: 20, offsets: { error: 0, msg: 4 } },
  xfrm_selector: {
    size: 56,
    offsets: {
      daddr: 0,
      saddr: 16,
      dport: 32,
      dport_mask: 34,
      sport: 36,
      sport_mask: 38,
      family: 40,
      prefixlen_d: 42,
      prefixlen_s: 43,
      proto: 44,
      ifindex: 48,
      user: 52,
    },
  },
  xfrm_id: { size: 24, offsets: { daddr: 0, spi: 16, proto: 20 } },
  xfrm_lifetime_cfg: {
    size: 64,
    offsets: {
      soft_byte_limit: 0,
      hard_byte_limit: 8,
      soft_packet_limit: 16,
      hard_packet_limit: 24,
      soft_add_expires_seconds: 32,
      hard_add_expires_seconds: 40,
      soft_use_expires_seconds: 48,
      hard_use_expires_seconds: 56,
    },
  },
  xfrm_lifetime_cur: { size: 32, offsets: { bytes: 0, packets: 8, add_time: 16, use_time: 24 } },
  xfrm_stats: { size: 12, offsets: { replay_window: 0, replay: 4, integrity_failed: 8 } },
  xfrm_usersa_info: {
    size: 224,
    offsets: {
      sel: 0,
      id: 56,
      saddr: 80,
      lft: 96,
      curlft: 160,
      stats: 192,
      seq: 204,
      reqid: 208,
      family: 212,
      mode: 214,
      replay_window: 215,
      flags: 216,
    },
  },
  xfrm_usersa_id: { size: 24, offsets: { daddr: 0, spi: 16, family: 20, proto: 22 } },
  xfrm_userpolicy_info: {
    size: 168,
    offsets: { sel: 0, lft: 56, curlft: 120, priority: 152, index: 156, dir: 160, action: 161, flags: 162, share: 163 },
  },
  xfrm_userpolicy_id: { size: 64, offsets: { sel: 0, index: 56, dir: 60 } },
  xfrm_user_tmpl: {
    size: 64,
    offsets: {
      id: 0,
      family: 24,
      saddr: 28,
      reqid: 44,
      mode: 48,
      share: 49,
      optional: 50,
      aalgos: 52,
      ealgos: 56,
      calgos: 60,
    },
  },
  xfrm_replay_state: { size: 12, offsets: { oseq: 0, seq: 4, bitmap: 8 } },
  xfrm_replay_state_esn: {
    size: 24,
    offsets: { bmp_len: 0, oseq: 4, seq: 8, oseq_hi: 12, seq_hi: 16, replay_window: 20, bmp: 24 },
  },
  xfrm_algo: { size: 68, offsets: { alg_name: 0, alg_key_len: 64, alg_key: 68 } },
  xfrm_algo_auth: { size: 72, offsets: { alg_name: 0, alg_key_len: 64, alg_trunc_len: 68, alg_key: 72 } },
  xfrm_algo_aead: { size: 72, offsets: { alg_name: 0, alg_key_len: 64, alg_icv_len: 68, alg_key: 72 } },
  xfrm_encap_tmpl: { size: 24, offsets: { encap_type: 0, encap_sport: 2, encap_dport: 4, encap_oa: 8 } },
  xfrm_mark: { size: 8, offsets: { v: 0, m: 4 } },
  xfrm_aevent_id: { size: 48, offsets: { sa_id: 0, saddr: 24, flags: 40, reqid: 44 } },
  xfrm_userpolicy_type: { size: 6, offsets: { type: 0, reserved1: 2, reserved2: 4 } },
} as const;

export type StructName = keyof typeof LAYOUT;

/** Size of an xfrm_address_t (a union of an IPv4 and an IPv6 address). */
export const ADDRESS_BYTES = 16;
