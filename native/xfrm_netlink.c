/*
 * xfrm_netlink: the smallest native piece ipsec-ctx needs to talk to the Linux XFRM
 * subsystem. Node has no AF_NETLINK sockets, so this addon opens NETLINK_XFRM sockets
 * (optionally inside a named network namespace), sends and receives whole datagrams and
 * closes them. It does not build or parse any message: all of that lives in TypeScript
 * (lib/drivers/xfrm/). It also reports sizeof/offsetof of the kernel structs the TypeScript
 * side lays out by hand, so a test can hold those offsets against the C compiler's.
 *
 * All calls are synchronous and run on the calling JS thread.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/xfrm.h>

#include <node_api.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

/* Receive buffer per addon instance (per JS environment, so worker threads don't share it). */
#define RECV_BUFFER_BYTES (1u << 20)

typedef struct {
  unsigned char *buffer;
  size_t size;
} instance_t;

/* ---- errors ------------------------------------------------------------------------------ */

static const char *errno_code(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOSPC: return "ENOSPC";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTSOCK: return "ENOTSOCK";
    case EMSGSIZE: return "EMSGSIZE";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENOBUFS: return "ENOBUFS";
    case ECONNREFUSED: return "ECONNREFUSED";
    default: return "EUNKNOWN";
  }
}

/* Throws an Error whose message names the call, with `code` ("EPERM") and `errno` (1). */
static void throw_errno(napi_env env, const char *what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_value msg, code, error, number;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok) return;
  if (napi_create_string_utf8(env, errno_code(err), NAPI_AUTO_LENGTH, &code) != napi_ok) return;
  if (napi_create_error(env, code, msg, &error) != napi_ok) return;
  if (napi_create_int32(env, err, &number) == napi_ok) napi_set_named_property(env, error, "errno", number);
  napi_set_named_property(env, error, "syscall", msg);
  napi_throw(env, error);
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* ---- argument helpers -------------------------------------------------------------------- */

static int get_fd(napi_env env, napi_value value, int *fd) {
  int32_t n;
  if (napi_get_value_int32(env, value, &n) != napi_ok || n < 0) {
    throw_type(env, "expected a socket descriptor (a non-negative integer)");
    return 0;
  }
  *fd = n;
  return 1;
}

/* Reads an optional numeric property; returns 0 (and throws) when present but not a number. */
static int get_optional_uint(napi_env env, napi_value object, const char *name, uint32_t *out, int *present) {
  bool has = false;
  *present = 0;
  if (napi_has_named_property(env, object, name, &has) != napi_ok || !has) return 1;
  napi_value value;
  napi_valuetype type;
  if (napi_get_named_property(env, object, name, &value) != napi_ok) return 0;
  if (napi_typeof(env, value, &type) != napi_ok) return 0;
  if (type == napi_undefined) return 1;
  if (type != napi_number || napi_get_value_uint32(env, value, out) != napi_ok) {
    char message[96];
    snprintf(message, sizeof message, "option %s must be a non-negative integer", name);
    throw_type(env, message);
    return 0;
  }
  *present = 1;
  return 1;
}

/* ---- network namespaces ------------------------------------------------------------------ */

/*
 * A netns is named like `ip netns` names them (a file in /run/netns), or given as an absolute
 * path to a namespace file (/proc/PID/ns/net, a bind mount).
 */
static int netns_path(const char *name, char *path, size_t size) {
  if (name[0] == '/') {
    if (strlen(name) >= size) return -ENAMETOOLONG;
    strcpy(path, name);
    return 0;
  }
  if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/') != NULL) {
    return -EINVAL;
  }
  if ((size_t)snprintf(path, size, "/run/netns/%s", name) >= size) return -ENAMETOOLONG;
  return 0;
}

/* Opens the NETLINK_XFRM socket, inside `netns` when it is not NULL. Returns fd or -errno. */
static int open_socket(napi_env env, const char *netns, const char **failed) {
  int original = -1, target = -1, fd, err;

  if (netns != NULL) {
    char path[PATH_MAX];
    err = netns_path(netns, path, sizeof path);
    if (err < 0) {
      *failed = "network namespace name";
      return err;
    }
    target = open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      *failed = "open network namespace";
      return -errno;
    }
    original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original < 0) {
      err = -errno;
      close(target);
      *failed = "open /proc/thread-self/ns/net";
      return err;
    }
    if (setns(target, CLONE_NEWNET) < 0) {
      err = -errno;
      close(target);
      close(original);
      *failed = "setns";
      return err;
    }
    close(target);
  }

  fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);
  err = fd < 0 ? -errno : 0;

  if (netns != NULL) {
    if (setns(original, CLONE_NEWNET) < 0) {
      /* The JS thread would go on in the wrong namespace: nothing sane is left to do. */
      napi_fatal_error("xfrm_netlink", NAPI_AUTO_LENGTH,
                       "cannot return to the original network namespace", NAPI_AUTO_LENGTH);
    }
    close(original);
  }
  if (err < 0) {
    *failed = "socket(AF_NETLINK, NETLINK_XFRM)";
    return err;
  }
  return fd;
}

static void set_buffer(int fd, int force_option, int option, int bytes) {
  /* SO_*BUFFORCE passes rmem_max/wmem_max when we hold CAP_NET_ADMIN; else the capped one. */
  if (setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) < 0) {
    setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
  }
}

/*
 * open(options?: { netns?: string, receiveBuffer?: number, sendBuffer?: number,
 *                  timeoutMs?: number }): number
 */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;

  char netns[PATH_MAX];
  int has_netns = 0;
  uint32_t rcvbuf = 8u << 20, sndbuf = 8u << 20, timeout_ms = 0, value;
  int present;

  if (argc >= 1) {
    napi_valuetype type;
    if (napi_typeof(env, argv[0], &type) != napi_ok) return NULL;
    if (type == napi_object) {
      bool has = false;
      if (napi_has_named_property(env, argv[0], "netns", &has) != napi_ok) return NULL;
      if (has) {
        napi_value ns;
        napi_valuetype ns_type;
        if (napi_get_named_property(env, argv[0], "netns", &ns) != napi_ok) return NULL;
        if (napi_typeof(env, ns, &ns_type) != napi_ok) return NULL;
        if (ns_type == napi_string) {
          size_t length = 0;
          if (napi_get_value_string_utf8(env, ns, netns, sizeof netns, &length) != napi_ok) return NULL;
          if (length >= sizeof netns - 1) return throw_type(env, "netns name is too long");
          has_netns = 1;
        } else if (ns_type != napi_undefined) {
          return throw_type(env, "option netns must be a string");
        }
      }
      if (!get_optional_uint(env, argv[0], "receiveBuffer", &value, &present)) return NULL;
      if (present) rcvbuf = value;
      if (!get_optional_uint(env, argv[0], "sendBuffer", &value, &present)) return NULL;
      if (present) sndbuf = value;
      if (!get_optional_uint(env, argv[0], "timeoutMs", &value, &present)) return NULL;
      if (present) timeout_ms = value;
    } else if (type != napi_undefined) {
      return throw_type(env, "expected an options object");
    }
  }
  if (rcvbuf > INT_MAX / 2 || sndbuf > INT_MAX / 2) return throw_type(env, "buffer size too large");

  const char *failed = "socket";
  int fd = open_socket(env, has_netns ? netns : NULL, &failed);
  if (fd < 0) {
    throw_errno(env, failed, -fd);
    return NULL;
  }

  int one = 1;
  /* Error strings from the kernel (extended ACK), and ACKs without a copy of our request. */
  if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one) < 0 ||
      setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "setsockopt(NETLINK_EXT_ACK/NETLINK_CAP_ACK)", err);
    return NULL;
  }
  set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, (int)rcvbuf);
  set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, (int)sndbuf);
  if (timeout_ms > 0) {
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  struct sockaddr_nl local = { .nl_family = AF_NETLINK };
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "bind(AF_NETLINK)", err);
    return NULL;
  }

  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

/* send(fd: number, datagram: Buffer | Uint8Array): number */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) return throw_type(env, "send(fd, datagram)");
  int fd;
  if (!get_fd(env, argv[0], &fd)) return NULL;

  void *data = NULL;
  size_t length = 0;
  bool is_typed = false;
  if (napi_is_typedarray(env, argv[1], &is_typed) != napi_ok) return NULL;
  if (is_typed) {
    napi_typedarray_type type;
    size_t count, offset;
    napi_value buffer;
    if (napi_get_typedarray_info(env, argv[1], &type, &count, &data, &buffer, &offset) != napi_ok) return NULL;
    if (type != napi_uint8_array) return throw_type(env, "datagram must be a Uint8Array or Buffer");
    length = count;
  } else {
    return throw_type(env, "datagram must be a Uint8Array or Buffer");
  }

  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  ssize_t sent;
  do {
    sent = sendto(fd, data, length, 0, (struct sockaddr *)&kernel, sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    throw_errno(env, "sendto(netlink)", errno);
    return NULL;
  }
  napi_value result;
  napi_create_double(env, (double)sent, &result);
  return result;
}

/*
 * recv(fd: number, wait?: boolean): Buffer | null
 * One whole datagram. With wait false, null when nothing is queued. A datagram larger than
 * the receive buffer is an EMSGSIZE error (never a silently cut message).
 */
static napi_value js_recv(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) return throw_type(env, "recv(fd, wait?)");
  int fd;
  if (!get_fd(env, argv[0], &fd)) return NULL;
  bool wait = true;
  if (argc >= 2) {
    napi_valuetype type;
    if (napi_typeof(env, argv[1], &type) != napi_ok) return NULL;
    if (type == napi_boolean) napi_get_value_bool(env, argv[1], &wait);
    else if (type != napi_undefined) return throw_type(env, "wait must be a boolean");
  }

  instance_t *instance = NULL;
  if (napi_get_instance_data(env, (void **)&instance) != napi_ok || instance == NULL) {
    return throw_type(env, "xfrm_netlink: addon not initialised");
  }
  if (instance->buffer == NULL) {
    instance->buffer = malloc(RECV_BUFFER_BYTES);
    if (instance->buffer == NULL) {
      throw_errno(env, "malloc", ENOMEM);
      return NULL;
    }
    instance->size = RECV_BUFFER_BYTES;
  }

  struct sockaddr_nl from;
  struct iovec iov = { .iov_base = instance->buffer, .iov_len = instance->size };
  struct msghdr msg;
  ssize_t received;
  for (;;) {
    memset(&msg, 0, sizeof msg);
    memset(&from, 0, sizeof from);
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    /* MSG_TRUNC makes netlink return the datagram's real length even when it did not fit. */
    received = recvmsg(fd, &msg, MSG_TRUNC | (wait ? 0 : MSG_DONTWAIT));
    if (received < 0 && errno == EINTR) continue;
    break;
  }
  if (received < 0) {
    int err = errno;
    napi_value result;
    if (!wait && (err == EAGAIN || err == EWOULDBLOCK)) {
      napi_get_null(env, &result);
      return result;
    }
    throw_errno(env, "recvmsg(netlink)", err);
    return NULL;
  }
  if ((msg.msg_flags & MSG_TRUNC) || (size_t)received > instance->size) {
    char what[128];
    snprintf(what, sizeof what, "recvmsg(netlink): a %zd-byte datagram did not fit in %zu bytes", received,
             instance->size);
    throw_errno(env, what, EMSGSIZE);
    return NULL;
  }
  napi_value result;
  void *copy;
  if (napi_create_buffer_copy(env, (size_t)received, instance->buffer, &copy, &result) != napi_ok) return NULL;
  return result;
}

/* portId(fd): the socket's netlink port id (nlmsg_pid of the kernel's replies). */
static napi_value js_port_id(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) return throw_type(env, "portId(fd)");
  int fd;
  if (!get_fd(env, argv[0], &fd)) return NULL;
  struct sockaddr_nl local;
  socklen_t length = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &length) < 0) {
    throw_errno(env, "getsockname(netlink)", errno);
    return NULL;
  }
  napi_value result;
  napi_create_uint32(env, local.nl_pid, &result);
  return result;
}

/* close(fd): closes the socket. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) return throw_type(env, "close(fd)");
  int fd;
  if (!get_fd(env, argv[0], &fd)) return NULL;
  if (close(fd) < 0 && errno != EINTR) {
    throw_errno(env, "close", errno);
    return NULL;
  }
  return NULL;
}

/* ---- layout -------------------------------------------------------------------------------- */

static void put_number(napi_env env, napi_value object, const char *name, size_t number) {
  napi_value value;
  napi_create_uint32(env, (uint32_t)number, &value);
  napi_set_named_property(env, object, name, value);
}

#define STRUCT_BEGIN(type)                     \
  do {                                         \
    napi_value entry, fields;                  \
    napi_create_object(env, &entry);           \
    napi_create_object(env, &fields);          \
    put_number(env, entry, "size", sizeof(struct type));
#define FIELD(type, field) put_number(env, fields, #field, offsetof(struct type, field));
#define STRUCT_END(type)                                \
    napi_set_named_property(env, entry, "offsets", fields); \
    napi_set_named_property(env, result, #type, entry);    \
  } while (0);

/*
 * layout(): { [struct]: { size, offsets: { [field]: offset } } } for every kernel struct
 * lib/drivers/xfrm/layout.ts lays out by hand.
 */
static napi_value js_layout(napi_env env, napi_callback_info info) {
  napi_value result;
  napi_create_object(env, &result);

  STRUCT_BEGIN(nlmsghdr)
  FIELD(nlmsghdr, nlmsg_len) FIELD(nlmsghdr, nlmsg_type) FIELD(nlmsghdr, nlmsg_flags)
  FIELD(nlmsghdr, nlmsg_seq) FIELD(nlmsghdr, nlmsg_pid)
  STRUCT_END(nlmsghdr)

  STRUCT_BEGIN(nlattr)
  FIELD(nlattr, nla_len) FIELD(nlattr, nla_type)
  STRUCT_END(nlattr)

  STRUCT_BEGIN(nlmsgerr)
  FIELD(nlmsgerr, error) FIELD(nlmsgerr, msg)
  STRUCT_END(nlmsgerr)

  STRUCT_BEGIN(xfrm_selector)
  FIELD(xfrm_selector, daddr) FIELD(xfrm_selector, saddr) FIELD(xfrm_selector, dport)
  FIELD(xfrm_selector, dport_mask) FIELD(xfrm_selector, sport) FIELD(xfrm_selector, sport_mask)
  FIELD(xfrm_selector, family) FIELD(xfrm_selector, prefixlen_d) FIELD(xfrm_selector, prefixlen_s)
  FIELD(xfrm_selector, proto) FIELD(xfrm_selector, ifindex) FIELD(xfrm_selector, user)
  STRUCT_END(xfrm_selector)

  STRUCT_BEGIN(xfrm_id)
  FIELD(xfrm_id, daddr) FIELD(xfrm_id, spi) FIELD(xfrm_id, proto)
  STRUCT_END(xfrm_id)

  STRUCT_BEGIN(xfrm_lifetime_cfg)
  FIELD(xfrm_lifetime_cfg, soft_byte_limit) FIELD(xfrm_lifetime_cfg, hard_byte_limit)
  FIELD(xfrm_lifetime_cfg, soft_packet_limit) FIELD(xfrm_lifetime_cfg, hard_packet_limit)
  FIELD(xfrm_lifetime_cfg, soft_add_expires_seconds) FIELD(xfrm_lifetime_cfg, hard_add_expires_seconds)
  FIELD(xfrm_lifetime_cfg, soft_use_expires_seconds) FIELD(xfrm_lifetime_cfg, hard_use_expires_seconds)
  STRUCT_END(xfrm_lifetime_cfg)

  STRUCT_BEGIN(xfrm_lifetime_cur)
  FIELD(xfrm_lifetime_cur, bytes) FIELD(xfrm_lifetime_cur, packets) FIELD(xfrm_lifetime_cur, add_time)
  FIELD(xfrm_lifetime_cur, use_time)
  STRUCT_END(xfrm_lifetime_cur)

  STRUCT_BEGIN(xfrm_stats)
  FIELD(xfrm_stats, replay_window) FIELD(xfrm_stats, replay) FIELD(xfrm_stats, integrity_failed)
  STRUCT_END(xfrm_stats)

  STRUCT_BEGIN(xfrm_usersa_info)
  FIELD(xfrm_usersa_info, sel) FIELD(xfrm_usersa_info, id) FIELD(xfrm_usersa_info, saddr)
  FIELD(xfrm_usersa_info, lft) FIELD(xfrm_usersa_info, curlft) FIELD(xfrm_usersa_info, stats)
  FIELD(xfrm_usersa_info, seq) FIELD(xfrm_usersa_info, reqid) FIELD(xfrm_usersa_info, family)
  FIELD(xfrm_usersa_info, mode) FIELD(xfrm_usersa_info, replay_window) FIELD(xfrm_usersa_info, flags)
  STRUCT_END(xfrm_usersa_info)

  STRUCT_BEGIN(xfrm_usersa_id)
  FIELD(xfrm_usersa_id, daddr) FIELD(xfrm_usersa_id, spi) FIELD(xfrm_usersa_id, family)
  FIELD(xfrm_usersa_id, proto)
  STRUCT_END(xfrm_usersa_id)

  STRUCT_BEGIN(xfrm_userpolicy_info)
  FIELD(xfrm_userpolicy_info, sel) FIELD(xfrm_userpolicy_info, lft) FIELD(xfrm_userpolicy_info, curlft)
  FIELD(xfrm_userpolicy_info, priority) FIELD(xfrm_userpolicy_info, index) FIELD(xfrm_userpolicy_info, dir)
  FIELD(xfrm_userpolicy_info, action) FIELD(xfrm_userpolicy_info, flags) FIELD(xfrm_userpolicy_info, share)
  STRUCT_END(xfrm_userpolicy_info)

  STRUCT_BEGIN(xfrm_userpolicy_id)
  FIELD(xfrm_userpolicy_id, sel) FIELD(xfrm_userpolicy_id, index) FIELD(xfrm_userpolicy_id, dir)
  STRUCT_END(xfrm_userpolicy_id)

  STRUCT_BEGIN(xfrm_user_tmpl)
  FIELD(xfrm_user_tmpl, id) FIELD(xfrm_user_tmpl, family) FIELD(xfrm_user_tmpl, saddr)
  FIELD(xfrm_user_tmpl, reqid) FIELD(xfrm_user_tmpl, mode) FIELD(xfrm_user_tmpl, share)
  FIELD(xfrm_user_tmpl, optional) FIELD(xfrm_user_tmpl, aalgos) FIELD(xfrm_user_tmpl, ealgos)
  FIELD(xfrm_user_tmpl, calgos)
  STRUCT_END(xfrm_user_tmpl)

  STRUCT_BEGIN(xfrm_replay_state)
  FIELD(xfrm_replay_state, oseq) FIELD(xfrm_replay_state, seq) FIELD(xfrm_replay_state, bitmap)
  STRUCT_END(xfrm_replay_state)

  STRUCT_BEGIN(xfrm_replay_state_esn)
  FIELD(xfrm_replay_state_esn, bmp_len) FIELD(xfrm_replay_state_esn, oseq) FIELD(xfrm_replay_state_esn, seq)
  FIELD(xfrm_replay_state_esn, oseq_hi) FIELD(xfrm_replay_state_esn, seq_hi)
  FIELD(xfrm_replay_state_esn, replay_window) FIELD(xfrm_replay_state_esn, bmp)
  STRUCT_END(xfrm_replay_state_esn)

  STRUCT_BEGIN(xfrm_algo)
  FIELD(xfrm_algo, alg_name) FIELD(xfrm_algo, alg_key_len) FIELD(xfrm_algo, alg_key)
  STRUCT_END(xfrm_algo)

  STRUCT_BEGIN(xfrm_algo_auth)
  FIELD(xfrm_algo_auth, alg_name) FIELD(xfrm_algo_auth, alg_key_len) FIELD(xfrm_algo_auth, alg_trunc_len)
  FIELD(xfrm_algo_auth, alg_key)
  STRUCT_END(xfrm_algo_auth)

  STRUCT_BEGIN(xfrm_algo_aead)
  FIELD(xfrm_algo_aead, alg_name) FIELD(xfrm_algo_aead, alg_key_len) FIELD(xfrm_algo_aead, alg_icv_len)
  FIELD(xfrm_algo_aead, alg_key)
  STRUCT_END(xfrm_algo_aead)

  STRUCT_BEGIN(xfrm_encap_tmpl)
  FIELD(xfrm_encap_tmpl, encap_type) FIELD(xfrm_encap_tmpl, encap_sport) FIELD(xfrm_encap_tmpl, encap_dport)
  FIELD(xfrm_encap_tmpl, encap_oa)
  STRUCT_END(xfrm_encap_tmpl)

  STRUCT_BEGIN(xfrm_mark)
  FIELD(xfrm_mark, v) FIELD(xfrm_mark, m)
  STRUCT_END(xfrm_mark)

  STRUCT_BEGIN(xfrm_aevent_id)
  FIELD(xfrm_aevent_id, sa_id) FIELD(xfrm_aevent_id, saddr) FIELD(xfrm_aevent_id, flags)
  FIELD(xfrm_aevent_id, reqid)
  STRUCT_END(xfrm_aevent_id)

  STRUCT_BEGIN(xfrm_userpolicy_type)
  FIELD(xfrm_userpolicy_type, type) FIELD(xfrm_userpolicy_type, reserved1)
  FIELD(xfrm_userpolicy_type, reserved2)
  STRUCT_END(xfrm_userpolicy_type)

  return result;
}

/* ---- module ------------------------------------------------------------------------------ */

static void instance_finalize(napi_env env, void *data, void *hint) {
  instance_t *instance = data;
  if (instance != NULL) {
    free(instance->buffer);
    free(instance);
  }
}

static napi_value init(napi_env env, napi_value exports) {
  instance_t *instance = calloc(1, sizeof *instance);
  if (instance == NULL || napi_set_instance_data(env, instance, instance_finalize, NULL) != napi_ok) {
    free(instance);
    napi_throw_error(env, NULL, "xfrm_netlink: cannot allocate instance data");
    return NULL;
  }
  napi_property_descriptor properties[] = {
    { "open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL },
    { "send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL },
    { "recv", NULL, js_recv, NULL, NULL, NULL, napi_enumerable, NULL },
    { "portId", NULL, js_port_id, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL },
    { "layout", NULL, js_layout, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) {
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
