// twinvip_net: the raw sockets VRRP needs, as a small N-API addon.
//
// Why our own: the npm `raw-socket` package is NAN (rebuilt per Node ABI: built against Node 20
// it refuses to load in Node 24), cannot read ancillary data (the IPv6 hop limit of a received
// advert only exists as IPV6_HOPLIMIT cmsg, RFC 5798 section 5.1.2.3 requires it to be 255) and
// has no AF_PACKET (gratuitous ARP, unsolicited NA). N-API version 8 keeps one binary per
// architecture loadable by every Node release since 12.22.
//
// The interface stays narrow: sockets are opaque handles; the addon moves bytes plus metadata
// and knows nothing of VRRP. Readability is watched by a libuv poll handle on Node's own loop
// (no thread, no busy polling); every socket is non-blocking, so a send never blocks the loop
// (a full send buffer is an EAGAIN error the caller counts). Errors are JS errors whose `code`
// is the errno name (EPERM, ENODEV, ...), with `errno` and `syscall` set as in Node's own.

#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sock_diag.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL 49
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif
#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

// keepalived's VRRP send socket (vrrp_if.c if_setsockopt_priority, vrrp.c vrrp_build_ip4): IPv4
// TOS 0xc0 (IPTOS_PREC_INTERNETCONTROL, DSCP CS6) and IPv6 traffic class 0xc0, so adverts keep
// their place under QoS; and frag_off 0 in the IPv4 header it builds, i.e. DF clear.
#define VRRP_TOS 0xc0

enum kind { KIND_IP4 = 4, KIND_IP6 = 6, KIND_PACKET = 17, KIND_NETLINK = 16 };

#define RECV_BUF 65536
// Packets read per readability event before returning to the loop, so a flood on one socket
// cannot starve timers (the advert timer must keep its schedule).
#define RECV_BURST 64

typedef struct sock {
  int fd;
  int kind;
  int ifindex;
  int with_header; // IPv4 IP_HDRINCL socket: sends and receives whole datagrams (IPsec AH)
  int receives;    // packet socket opened with a protocol: frames of it can be received
  napi_env env;
  uv_poll_t *poll; // inside a poller_t: it must outlive this struct until its close callback
  napi_ref callback;
  napi_ref self; // strong reference to the handle while receiving, so GC cannot close it
  napi_async_cleanup_hook_handle teardown; // registered while receiving
  unsigned char *buf;
  // Options this kernel (or emulator) refused that the socket works without, e.g.
  // "SO_RXQ_OVFL ENOPROTOOPT"; reported by stats() so the daemon can say so once.
  char degraded[192];
} sock_t;

// ---------------------------------------------------------------- errors

static void throw_errno(napi_env env, int err, const char *syscall) {
  char name[32];
  const char *n = uv_err_name_r(-err, name, sizeof name);
  char msg[256];
  snprintf(msg, sizeof msg, "%s %s (%s)", syscall, n, strerror(err));
  napi_value code, message, error, num, sc;
  napi_create_string_utf8(env, n, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, error, "errno", num);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, error, "syscall", sc);
  napi_throw(env, error);
}

static napi_value errno_value(napi_env env, int err, const char *syscall) {
  throw_errno(env, err, syscall);
  napi_value exc;
  napi_get_and_clear_last_exception(env, &exc);
  return exc;
}

#define CHECK(call)                                                                             \
  do {                                                                                          \
    if ((call) != napi_ok) {                                                                    \
      const napi_extended_error_info *info__;                                                   \
      napi_get_last_error_info(env, &info__);                                                   \
      bool pending__;                                                                           \
      napi_is_exception_pending(env, &pending__);                                               \
      if (!pending__)                                                                           \
        napi_throw_error(env, "EINVAL",                                                         \
                         info__ && info__->error_message ? info__->error_message : #call);      \
      return NULL;                                                                              \
    }                                                                                           \
  } while (0)

#define FAIL_TYPE(msg)                                                                          \
  do {                                                                                          \
    napi_throw_type_error(env, "EINVAL", msg);                                                  \
    return NULL;                                                                                \
  } while (0)

// ---------------------------------------------------------------- argument helpers

static int get_string(napi_env env, napi_value v, char *out, size_t len) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) return -1;
  size_t n;
  if (napi_get_value_string_utf8(env, v, out, len, &n) != napi_ok) return -1;
  return n + 1 >= len ? -1 : 0;
}

static int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 1;
  return t == napi_undefined || t == napi_null;
}

static sock_t *get_sock(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  void *p;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return (sock_t *)p;
}

static int get_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is;
  if (napi_is_buffer(env, v, &is) == napi_ok && is)
    return napi_get_buffer_info(env, v, data, len) == napi_ok ? 0 : -1;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t length, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &length, data, &ab, &offset) != napi_ok) return -1;
    if (type != napi_uint8_array) return -1;
    *len = length;
    return 0;
  }
  return -1;
}

// ---------------------------------------------------------------- lifetime

// The poll handle and, when the environment is being torn down, the clean-up hook to release
// once libuv has closed it: Node keeps the addon loaded until then (N-API async clean-up hooks),
// so the close callback below still exists when a worker thread's loop runs it.
typedef struct poller {
  uv_poll_t poll;
  napi_async_cleanup_hook_handle teardown;
} poller_t;

static void poll_closed(uv_handle_t *h) {
  poller_t *p = (poller_t *)h;
  napi_async_cleanup_hook_handle done = p->teardown;
  free(p);
  if (done) napi_remove_async_cleanup_hook(done);
}

static void env_teardown(napi_async_cleanup_hook_handle handle, void *arg);

// Stops receiving and closes the descriptor. Safe to call twice and from inside the receive
// callback (the poll handle memory lives until libuv's close callback).
static void sock_shutdown(sock_t *s) {
  if (s->teardown) {
    napi_remove_async_cleanup_hook(s->teardown);
    s->teardown = NULL;
  }
  if (s->poll) {
    uv_poll_stop(s->poll);
    uv_close((uv_handle_t *)s->poll, poll_closed);
    s->poll = NULL;
  }
  if (s->callback) {
    napi_delete_reference(s->env, s->callback);
    s->callback = NULL;
  }
  if (s->self) {
    napi_delete_reference(s->env, s->self);
    s->self = NULL;
  }
  if (s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
}

// A worker thread that ends with a socket still receiving: close the poll handle (the hook is
// released by its close callback) and drop the references before the environment goes away.
static void env_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  sock_t *s = (sock_t *)arg;
  s->teardown = NULL;
  if (s->poll) ((poller_t *)s->poll)->teardown = handle;
  else napi_remove_async_cleanup_hook(handle);
  sock_shutdown(s);
}

static void sock_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  sock_t *s = (sock_t *)data;
  // Only reachable when not receiving (receiving holds a strong reference), so no poll
  // handle or JS reference is left: just the descriptor and the buffer.
  if (s->fd >= 0) close(s->fd);
  free(s->buf);
  free(s);
}

static napi_value wrap_sock_notes(napi_env env, int fd, int kind, int ifindex, const char *notes);

static napi_value wrap_sock(napi_env env, int fd, int kind, int ifindex) {
  return wrap_sock_notes(env, fd, kind, ifindex, "");
}

static napi_value wrap_sock_notes(napi_env env, int fd, int kind, int ifindex, const char *notes) {
  sock_t *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    throw_errno(env, ENOMEM, "calloc");
    return NULL;
  }
  s->fd = fd;
  s->kind = kind;
  s->ifindex = ifindex;
  s->env = env;
  snprintf(s->degraded, sizeof s->degraded, "%s", notes);
  napi_value ext;
  if (napi_create_external(env, s, sock_finalize, NULL, &ext) != napi_ok) {
    close(fd);
    free(s);
    return NULL;
  }
  return ext;
}

// ---------------------------------------------------------------- open

static int set_int(int fd, int level, int opt, int value) {
  return setsockopt(fd, level, opt, &value, sizeof value);
}

// An option the socket is correct without, that an emulator may not implement (qemu-user answers
// ENOPROTOOPT for options it does not translate): that error sets *soft and counts as done; any
// other error is returned as it is and is fatal.
static int soft_opt(int *soft, int rc) {
  if (rc < 0 && errno == ENOPROTOOPT) {
    *soft = 1;
    return 0;
  }
  return rc;
}

// openVrrp(family: 4|6, ifname: string, protocol: number, rcvbuf?: number, withHeader?: boolean) -> handle
// rcvbuf: receive buffer in bytes (SO_RCVBUFFORCE, SO_RCVBUF without CAP_NET_ADMIN; the kernel
// doubles it for its bookkeeping); absent or 0 keeps the system default.
// withHeader (IPv4 only): IP_HDRINCL, the caller builds the IP header and receives it too.
// VRRP with IPsec AH needs that: the ICV covers the header, including its ID field.
static napi_value open_vrrp(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) FAIL_TYPE("openVrrp(family, ifname, protocol, rcvbuf?, withHeader?)");
  int32_t family, protocol, rcvbuf = 0;
  if (argc >= 4 && !is_nullish(env, argv[3])) {
    CHECK(napi_get_value_int32(env, argv[3], &rcvbuf));
    if (rcvbuf < 0 || rcvbuf > (64 << 20)) FAIL_TYPE("rcvbuf must be 0..64 MiB");
  }
  bool with_header = false;
  if (argc >= 5 && !is_nullish(env, argv[4])) CHECK(napi_get_value_bool(env, argv[4], &with_header));
  char ifname[IF_NAMESIZE + 1];
  CHECK(napi_get_value_int32(env, argv[0], &family));
  if (family != 4 && family != 6) FAIL_TYPE("family must be 4 or 6");
  if (get_string(env, argv[1], ifname, sizeof ifname) < 0 || ifname[0] == 0)
    FAIL_TYPE("ifname must be an interface name of at most 15 characters");
  CHECK(napi_get_value_int32(env, argv[2], &protocol));
  if (protocol < 1 || protocol > 255) FAIL_TYPE("protocol must be 1..255");
  if (with_header && family != 4) FAIL_TYPE("withHeader is for IPv4 only");

  unsigned ifindex = if_nametoindex(ifname);
  if (ifindex == 0) {
    throw_errno(env, errno, "if_nametoindex");
    return NULL;
  }
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  protocol);
  if (fd < 0) {
    throw_errno(env, errno, "socket");
    return NULL;
  }
  const char *failed = NULL;
  int soft_mif = 0, soft_mall = 0, soft_mall6 = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname)) < 0)
    failed = "setsockopt SO_BINDTODEVICE";
  else if (family == 4) {
    struct ip_mreqn mif;
    memset(&mif, 0, sizeof mif);
    mif.imr_ifindex = (int)ifindex;
    // RFC 3768 5.2.3 / RFC 5798 5.1.1.3: TTL 255, checked by the receiver.
    if (set_int(fd, IPPROTO_IP, IP_TTL, 255) < 0) failed = "setsockopt IP_TTL";
    else if (set_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, 255) < 0) failed = "setsockopt IP_MULTICAST_TTL";
    else if (set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0) < 0) failed = "setsockopt IP_MULTICAST_LOOP";
    // IP_MULTICAST_IF only repeats SO_BINDTODEVICE for multicast sends (raw_sendmsg takes the
    // bound device as the output interface before mc_index), so an emulator that does not know
    // the option (qemu-user: ENOPROTOOPT) costs nothing; any other error is real and fatal.
    else if (soft_opt(&soft_mif, setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof mif)) < 0)
      failed = "setsockopt IP_MULTICAST_IF";
    else if (set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) < 0) failed = "setsockopt IP_PKTINFO";
    // Only the groups this socket joined, not every group any socket joined on the host: wanted,
    // not needed (the runner drops adverts of other VRIDs), so ENOPROTOOPT is soft as for IPv6.
    else if (soft_opt(&soft_mall, set_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0)) < 0)
      failed = "setsockopt IP_MULTICAST_ALL";
    else if (with_header && set_int(fd, IPPROTO_IP, IP_HDRINCL, 1) < 0) failed = "setsockopt IP_HDRINCL";
  } else {
    int idx = (int)ifindex;
    // IPV6_CHECKSUM stays unset: the codec computes the VRRP checksum itself (RFC 5798 5.2.8).
    if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255) < 0) failed = "setsockopt IPV6_MULTICAST_HOPS";
    else if (set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255) < 0) failed = "setsockopt IPV6_UNICAST_HOPS";
    else if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0) < 0) failed = "setsockopt IPV6_MULTICAST_LOOP";
    else if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx) < 0)
      failed = "setsockopt IPV6_MULTICAST_IF";
    else if (set_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1) < 0) failed = "setsockopt IPV6_RECVHOPLIMIT";
    else if (set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) < 0) failed = "setsockopt IPV6_RECVPKTINFO";
    else if (soft_opt(&soft_mall6, set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0)) < 0)
      failed = "setsockopt IPV6_MULTICAST_ALL";
  }
  if (failed) {
    int e = errno;
    close(fd);
    throw_errno(env, e, failed);
    return NULL;
  }
  // Wanted but not required (an emulator such as qemu-user may refuse some): the socket still
  // does VRRP without them, and stats().degraded says which are missing.
  char notes[192] = "";
  size_t used = 0;
#define SOFT(call, name)                                                                         \
  do {                                                                                          \
    if ((call) < 0 && used < sizeof notes)                                                      \
      used += (size_t)snprintf(notes + used, sizeof notes - used, "%s%s %s", used ? ", " : "",   \
                               name, uv_err_name(-errno));                                      \
  } while (0)
  // Every datagram read carries the socket's count of packets the kernel dropped (receive
  // queue full), so the daemon's counters can add up to what was sent.
  // The options above an emulator refused with ENOPROTOOPT, named like the others.
  if (soft_mif) SOFT((errno = ENOPROTOOPT, -1), "IP_MULTICAST_IF");
  if (soft_mall) SOFT((errno = ENOPROTOOPT, -1), "IP_MULTICAST_ALL");
  if (soft_mall6) SOFT((errno = ENOPROTOOPT, -1), "IPV6_MULTICAST_ALL");
  SOFT(set_int(fd, SOL_SOCKET, SO_RXQ_OVFL, 1), "SO_RXQ_OVFL");
  if (rcvbuf > 0 && set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf) < 0)
    SOFT(set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf), "SO_RCVBUF");
  if (family == 4) {
    SOFT(set_int(fd, IPPROTO_IP, IP_TOS, VRRP_TOS), "IP_TOS");
    SOFT(set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT), "IP_MTU_DISCOVER");
  } else {
    SOFT(set_int(fd, IPPROTO_IPV6, IPV6_TCLASS, VRRP_TOS), "IPV6_TCLASS");
  }
#undef SOFT
  napi_value handle = wrap_sock_notes(env, fd, family, (int)ifindex, notes);
  sock_t *s = handle ? get_sock(env, handle) : NULL;
  if (s) s->with_header = with_header;
  return handle;
}

// Reads a classic BPF program (struct sock_filter[], 8 bytes each in host order, built by
// src/net/bpf.ts) and attaches it, replacing any earlier one (atomic for the socket).
static int attach_filter(napi_env env, int fd, napi_value program) {
  void *data;
  size_t len;
  if (get_bytes(env, program, &data, &len) < 0 || len == 0 || len % sizeof(struct sock_filter) ||
      len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    napi_throw_type_error(env, "EINVAL", "filter must be a Uint8Array of 8-byte BPF instructions");
    return -1;
  }
  struct sock_fprog prog = {.len = (unsigned short)(len / sizeof(struct sock_filter)),
                            .filter = (struct sock_filter *)data};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    throw_errno(env, errno, "setsockopt SO_ATTACH_FILTER");
    return -1;
  }
  return 0;
}

// openPacket(ifname: string, protocol?: number, filter?: Uint8Array, rcvbuf?: number) -> handle.
// Without protocol: send-only (protocol 0: the kernel queues nothing to it). With an ethertype
// (e.g. 0x0806, ARP): frames of it received on ifname (not our own outgoing ones), through the
// BPF filter when given; the filter is attached before the socket is bound, so nothing unfiltered
// is ever queued. rcvbuf bounds what a flood can queue (0/absent: the system default).
static napi_value open_packet(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char ifname[IF_NAMESIZE + 1];
  if (argc < 1 || get_string(env, argv[0], ifname, sizeof ifname) < 0 || ifname[0] == 0)
    FAIL_TYPE("openPacket(ifname, protocol?, filter?, rcvbuf?)");
  int32_t protocol = 0, rcvbuf = 0;
  if (argc >= 2 && !is_nullish(env, argv[1])) {
    CHECK(napi_get_value_int32(env, argv[1], &protocol));
    if (protocol < 0 || protocol > 0xffff) FAIL_TYPE("protocol must be an ethertype 0..0xffff");
  }
  if (argc >= 4 && !is_nullish(env, argv[3])) {
    CHECK(napi_get_value_int32(env, argv[3], &rcvbuf));
    if (rcvbuf < 0 || rcvbuf > (64 << 20)) FAIL_TYPE("rcvbuf must be 0..64 MiB");
  }
  unsigned ifindex = if_nametoindex(ifname);
  if (ifindex == 0) {
    throw_errno(env, errno, "if_nametoindex");
    return NULL;
  }
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, errno, "socket");
    return NULL;
  }
  if (protocol > 0) {
    // Our own frames are not wanted (kernel 4.20+; older ones: the filter drops them too).
    set_int(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
    set_int(fd, SOL_SOCKET, SO_RXQ_OVFL, 1);
    if (rcvbuf > 0) set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
    if (argc >= 3 && !is_nullish(env, argv[2]) && attach_filter(env, fd, argv[2]) < 0) {
      close(fd);
      return NULL;
    }
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons((uint16_t)protocol);
    sll.sll_ifindex = (int)ifindex;
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
      int e = errno;
      close(fd);
      throw_errno(env, e, "bind");
      return NULL;
    }
  }
  napi_value handle = wrap_sock(env, fd, KIND_PACKET, (int)ifindex);
  sock_t *s = handle ? get_sock(env, handle) : NULL;
  if (s) s->receives = protocol > 0;
  return handle;
}

// setFilter(packetHandle, filter: Uint8Array) -> undefined: replaces the socket's BPF filter.
static napi_value set_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 2 ? get_sock(env, argv[0]) : NULL;
  if (!s || s->kind != KIND_PACKET || !s->receives) FAIL_TYPE("setFilter(receivingPacketHandle, filter)");
  if (s->fd < 0) {
    throw_errno(env, EBADF, "setsockopt");
    return NULL;
  }
  attach_filter(env, s->fd, argv[1]);
  return NULL;
}

// openLinkEvents() -> handle: rtnetlink RTMGRP_LINK, delivering raw netlink datagrams.
static napi_value open_link_events(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    throw_errno(env, errno, "socket");
    return NULL;
  }
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    throw_errno(env, e, "bind");
    return NULL;
  }
  return wrap_sock(env, fd, KIND_NETLINK, 0);
}

// ---------------------------------------------------------------- membership

// setMembership(handle, group: string, join: boolean) -> undefined
static napi_value set_membership(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 3 ? get_sock(env, argv[0]) : NULL;
  if (!s || (s->kind != KIND_IP4 && s->kind != KIND_IP6)) FAIL_TYPE("setMembership(vrrpHandle, group, join)");
  if (s->fd < 0) {
    throw_errno(env, EBADF, "setsockopt");
    return NULL;
  }
  char group[INET6_ADDRSTRLEN + 1];
  bool join;
  if (get_string(env, argv[1], group, sizeof group) < 0) FAIL_TYPE("group must be an address string");
  CHECK(napi_get_value_bool(env, argv[2], &join));
  if (s->kind == KIND_IP4) {
    // struct ip_mreqn with the interface index as a long (8 + sizeof(long) bytes): the kernel
    // reads the first sizeof(struct ip_mreqn) of any longer buffer, the index being the low half
    // of the long on a little-endian CPU, while qemu-user converts only a buffer of exactly its
    // target's ip_mreqn size (in_addr, in_addr, abi_long) and otherwise passes an uninitialised
    // index on to the host kernel. Same bytes for a real kernel, a working join under qemu.
    struct {
      struct in_addr imr_multiaddr;
      struct in_addr imr_address;
      long imr_ifindex;
    } m;
    _Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the long ifindex relies on little-endian");
    _Static_assert(sizeof m >= sizeof(struct ip_mreqn), "at least an ip_mreqn");
    memset(&m, 0, sizeof m);
    if (inet_pton(AF_INET, group, &m.imr_multiaddr) != 1) FAIL_TYPE("group is not an IPv4 address");
    m.imr_ifindex = s->ifindex;
    if (setsockopt(s->fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m) < 0) {
      throw_errno(env, errno, join ? "setsockopt IP_ADD_MEMBERSHIP" : "setsockopt IP_DROP_MEMBERSHIP");
      return NULL;
    }
  } else {
    struct ipv6_mreq m;
    memset(&m, 0, sizeof m);
    if (inet_pton(AF_INET6, group, &m.ipv6mr_multiaddr) != 1) FAIL_TYPE("group is not an IPv6 address");
    m.ipv6mr_interface = (unsigned)s->ifindex;
    if (setsockopt(s->fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &m, sizeof m) < 0) {
      throw_errno(env, errno, join ? "setsockopt IPV6_ADD_MEMBERSHIP" : "setsockopt IPV6_DROP_MEMBERSHIP");
      return NULL;
    }
  }
  return NULL;
}

// ---------------------------------------------------------------- send

// send(handle, payload: Uint8Array, destination: string, source?: string) -> bytes sent
static napi_value send_ip(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 3 ? get_sock(env, argv[0]) : NULL;
  if (!s || (s->kind != KIND_IP4 && s->kind != KIND_IP6)) FAIL_TYPE("send(vrrpHandle, payload, destination, source?)");
  if (s->fd < 0) {
    throw_errno(env, EBADF, "sendmsg");
    return NULL;
  }
  void *data;
  size_t len;
  if (get_bytes(env, argv[1], &data, &len) < 0) FAIL_TYPE("payload must be a Uint8Array");
  char dst[INET6_ADDRSTRLEN + 1], src[INET6_ADDRSTRLEN + 1];
  if (get_string(env, argv[2], dst, sizeof dst) < 0) FAIL_TYPE("destination must be an address string");
  int has_src = argc >= 4 && !is_nullish(env, argv[3]);
  if (has_src && get_string(env, argv[3], src, sizeof src) < 0) FAIL_TYPE("source must be an address string");

  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  union {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct sockaddr_in sin;
  struct sockaddr_in6 sin6;

  if (s->kind == KIND_IP4) {
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    if (inet_pton(AF_INET, dst, &sin.sin_addr) != 1) FAIL_TYPE("destination is not an IPv4 address");
    msg.msg_name = &sin;
    msg.msg_namelen = sizeof sin;
    if (has_src) {
      // IP_PKTINFO's ipi_spec_dst chooses the source address without bind(), which on a raw
      // socket would also filter what it receives by destination.
      struct in_pktinfo pi;
      memset(&pi, 0, sizeof pi);
      if (inet_pton(AF_INET, src, &pi.ipi_spec_dst) != 1) FAIL_TYPE("source is not an IPv4 address");
      pi.ipi_ifindex = s->ifindex;
      msg.msg_control = control.buf;
      msg.msg_controllen = CMSG_SPACE(sizeof pi);
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof pi);
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
  } else {
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, dst, &sin6.sin6_addr) != 1) FAIL_TYPE("destination is not an IPv6 address");
    sin6.sin6_scope_id = (uint32_t)s->ifindex;
    msg.msg_name = &sin6;
    msg.msg_namelen = sizeof sin6;
    if (has_src) {
      struct in6_pktinfo pi;
      memset(&pi, 0, sizeof pi);
      if (inet_pton(AF_INET6, src, &pi.ipi6_addr) != 1) FAIL_TYPE("source is not an IPv6 address");
      pi.ipi6_ifindex = (unsigned)s->ifindex;
      msg.msg_control = control.buf;
      msg.msg_controllen = CMSG_SPACE(sizeof pi);
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof pi);
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
  }
  ssize_t n;
  do n = sendmsg(s->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    throw_errno(env, errno, "sendmsg");
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_int32(env, (int32_t)n, &out));
  return out;
}

// sendFrame(handle, frame: Uint8Array) -> bytes sent. The frame is a whole Ethernet frame.
static napi_value send_frame(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 2 ? get_sock(env, argv[0]) : NULL;
  if (!s || s->kind != KIND_PACKET) FAIL_TYPE("sendFrame(packetHandle, frame)");
  if (s->fd < 0) {
    throw_errno(env, EBADF, "sendto");
    return NULL;
  }
  void *data;
  size_t len;
  if (get_bytes(env, argv[1], &data, &len) < 0) FAIL_TYPE("frame must be a Uint8Array");
  if (len < ETH_HLEN) FAIL_TYPE("frame shorter than an Ethernet header");
  const unsigned char *f = data;
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = s->ifindex;
  sll.sll_protocol = (uint16_t)(f[12] | (f[13] << 8)); // already network order in the frame
  sll.sll_halen = ETH_ALEN;
  memcpy(sll.sll_addr, f, ETH_ALEN);
  ssize_t n;
  do n = sendto(s->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sll, sizeof sll);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    throw_errno(env, errno, "sendto");
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_int32(env, (int32_t)n, &out));
  return out;
}

// ---------------------------------------------------------------- receive

// Calls the JS callback through napi_make_callback so promises and nextTicks it queues run
// right after it, as for any Node I/O callback. A throw becomes an uncaught exception.
// No async context: the callback may close the socket, and destroying an async context from
// inside its own callback is not safe; async_hooks see these callbacks as top-level.
static int deliver(sock_t *s, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value fn, recv;
  if (!s->callback || napi_get_reference_value(env, s->callback, &fn) != napi_ok) return -1;
  // napi_make_callback converts recv to an object: undefined would throw.
  napi_get_global(env, &recv);
  napi_value result;
  napi_status st = napi_make_callback(env, NULL, recv, fn, argc, argv, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
    return -1;
  }
  return st == napi_ok ? 0 : -1;
}

static int read_one(sock_t *s) {
  napi_env env = s->env;
  union {
    struct sockaddr_in6 sin6;
    struct sockaddr_in sin;
    struct sockaddr_nl snl;
    struct sockaddr_ll sll;
  } from;
  union {
    char buf[512];
    struct cmsghdr align;
  } control;
  struct iovec iov = {.iov_base = s->buf, .iov_len = RECV_BUF};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n;
  do n = recvmsg(s->fd, &msg, MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  napi_value argv[7];
  napi_get_null(env, &argv[0]);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    // ENOBUFS on netlink means events were lost: the caller must resynchronise.
    argv[0] = errno_value(env, errno, "recvmsg");
    deliver(s, 1, argv);
    return errno == ENOBUFS ? 1 : -1;
  }
  if (s->kind == KIND_NETLINK) {
    if (napi_create_buffer_copy(env, (size_t)n, s->buf, NULL, &argv[1]) != napi_ok) return -1;
    return deliver(s, 2, argv) < 0 ? -1 : 1;
  }
  if (s->kind == KIND_PACKET) {
    // A whole Ethernet frame; hops carries the packet type (PACKET_HOST, _BROADCAST, ...).
    double drops = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
        uint32_t d;
        memcpy(&d, CMSG_DATA(c), sizeof d);
        drops = d;
      }
    if (napi_create_buffer_copy(env, (size_t)n, s->buf, NULL, &argv[1]) != napi_ok) return -1;
    napi_create_string_utf8(env, "", 0, &argv[2]);
    napi_create_string_utf8(env, "", 0, &argv[3]);
    napi_create_int32(env, from.sll.sll_pkttype, &argv[4]);
    napi_create_int32(env, from.sll.sll_ifindex, &argv[5]);
    napi_create_double(env, drops, &argv[6]);
    return deliver(s, 7, argv) < 0 ? -1 : 1;
  }
  char src[INET6_ADDRSTRLEN] = "", dst[INET6_ADDRSTRLEN] = "";
  int hops = -1, ifindex = 0;
  double overflow = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      uint32_t d;
      memcpy(&d, CMSG_DATA(c), sizeof d);
      overflow = d;
    }
  const unsigned char *payload = s->buf;
  size_t plen = (size_t)n;
  // A datagram whose IPv4 header cannot be read is still handed up (empty source), so that
  // every datagram read is counted somewhere.
  int bad_header = 0;
  if (s->kind == KIND_IP4) {
    // IPv4 raw sockets deliver the IP header: TTL, source and destination are read from it.
    size_t ihl = plen >= 1 ? (size_t)(payload[0] & 0x0f) * 4 : 0;
    if (plen < 20 || (payload[0] >> 4) != 4 || ihl < 20 || ihl > plen) bad_header = 1;
  }
  if (bad_header) {
    // nothing to parse: payload is the whole datagram, source and destination empty
  } else if (s->kind == KIND_IP4) {
    size_t ihl = (size_t)(payload[0] & 0x0f) * 4;
    size_t total = ((size_t)payload[2] << 8) | payload[3];
    if (total >= ihl && total < plen) plen = total;
    hops = payload[8];
    inet_ntop(AF_INET, payload + 12, src, sizeof src);
    inet_ntop(AF_INET, payload + 16, dst, sizeof dst);
    if (!s->with_header) {
      payload += ihl;
      plen -= ihl;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        struct in_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        ifindex = pi.ipi_ifindex;
      }
  } else {
    // IPv6 raw sockets deliver no header (RFC 3542): hop limit and destination arrive as
    // ancillary data, the source in msg_name.
    inet_ntop(AF_INET6, &from.sin6.sin6_addr, src, sizeof src);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != IPPROTO_IPV6) continue;
      if (c->cmsg_type == IPV6_HOPLIMIT) {
        int h;
        memcpy(&h, CMSG_DATA(c), sizeof h);
        hops = h;
      } else if (c->cmsg_type == IPV6_PKTINFO) {
        struct in6_pktinfo pi;
        memcpy(&pi, CMSG_DATA(c), sizeof pi);
        inet_ntop(AF_INET6, &pi.ipi6_addr, dst, sizeof dst);
        ifindex = (int)pi.ipi6_ifindex;
      }
    }
  }
  if (napi_create_buffer_copy(env, plen, payload, NULL, &argv[1]) != napi_ok) return -1;
  napi_create_string_utf8(env, src, NAPI_AUTO_LENGTH, &argv[2]);
  napi_create_string_utf8(env, dst, NAPI_AUTO_LENGTH, &argv[3]);
  napi_create_int32(env, hops, &argv[4]);
  napi_create_int32(env, ifindex, &argv[5]);
  napi_create_double(env, overflow, &argv[6]);
  return deliver(s, 7, argv) < 0 ? -1 : 1;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  sock_t *s = (sock_t *)h->data;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  // A local handle to the socket object keeps it alive even if the callback closes it.
  napi_value self;
  if (s->self) napi_get_reference_value(env, s->self, &self);
  if (status < 0) {
    napi_value argv[1];
    argv[0] = errno_value(env, -status, "poll");
    deliver(s, 1, argv);
  } else {
    for (int i = 0; i < RECV_BURST && s->fd >= 0 && s->poll == h; i++) {
      napi_handle_scope inner;
      if (napi_open_handle_scope(env, &inner) != napi_ok) break;
      int r = read_one(s);
      napi_close_handle_scope(env, inner);
      if (r <= 0) break;
    }
  }
  napi_close_handle_scope(env, scope);
}

// recvStart(handle, callback) -> undefined
// IP sockets: callback(err, payload: Buffer, source, destination, ttlOrHopLimit, ifindex,
//             kernelDrops) — kernelDrops: the socket's drop count (SO_RXQ_OVFL) when the datagram
//             was read, -1 if not reported; source "" = an IPv4 header that could not be read.
// netlink:    callback(err, datagram: Buffer)
// packet (opened with a protocol): callback(err, frame: Buffer, "", "", packetType, ifindex,
//             kernelDrops) — packetType is sll_pkttype (0 host, 1 broadcast, 2 multicast, 3 other host)
static napi_value recv_start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 2 ? get_sock(env, argv[0]) : NULL;
  if (!s || (s->kind == KIND_PACKET && !s->receives))
    FAIL_TYPE("recvStart(vrrpNetlinkOrReceivingPacketHandle, callback)");
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[1], &t));
  if (t != napi_function) FAIL_TYPE("callback must be a function");
  if (s->fd < 0) {
    throw_errno(env, EBADF, "recvStart");
    return NULL;
  }
  if (s->poll) {
    throw_errno(env, EALREADY, "recvStart");
    return NULL;
  }
  if (!s->buf && !(s->buf = malloc(RECV_BUF))) {
    throw_errno(env, ENOMEM, "malloc");
    return NULL;
  }
  struct uv_loop_s *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  poller_t *pp = calloc(1, sizeof *pp);
  if (!pp) {
    throw_errno(env, ENOMEM, "calloc");
    return NULL;
  }
  uv_poll_t *p = &pp->poll;
  int r = uv_poll_init(loop, p, s->fd);
  if (r < 0) {
    free(pp);
    throw_errno(env, -r, "uv_poll_init");
    return NULL;
  }
  p->data = s;
  r = uv_poll_start(p, UV_READABLE, on_readable);
  if (r < 0) {
    uv_close((uv_handle_t *)p, poll_closed);
    throw_errno(env, -r, "uv_poll_start");
    return NULL;
  }
  s->poll = p;
  CHECK(napi_create_reference(env, argv[1], 1, &s->callback));
  CHECK(napi_create_reference(env, argv[0], 1, &s->self));
  if (napi_add_async_cleanup_hook(env, env_teardown, s, &s->teardown) != napi_ok) s->teardown = NULL;
  return NULL;
}

// stats(handle) -> { drops, rcvbuf, queued, degraded }: packets the kernel dropped for this socket (the
// same count SO_RXQ_OVFL reports, readable when nothing arrives), the receive buffer as the
// kernel accounts it (twice the size asked for) and the bytes queued now (SO_MEMINFO); degraded:
// the wanted options openVrrp could not set ("" when all were set).
static napi_value sock_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 1 ? get_sock(env, argv[0]) : NULL;
  if (!s) FAIL_TYPE("stats(handle)");
  if (s->fd < 0) {
    throw_errno(env, EBADF, "getsockopt");
    return NULL;
  }
  uint32_t mem[SK_MEMINFO_VARS];
  socklen_t len = sizeof mem;
  memset(mem, 0, sizeof mem);
  if (getsockopt(s->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0) {
    throw_errno(env, errno, "getsockopt SO_MEMINFO");
    return NULL;
  }
  napi_value out, v;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_double(env, mem[SK_MEMINFO_DROPS], &v));
  CHECK(napi_set_named_property(env, out, "drops", v));
  CHECK(napi_create_double(env, mem[SK_MEMINFO_RCVBUF], &v));
  CHECK(napi_set_named_property(env, out, "rcvbuf", v));
  CHECK(napi_create_double(env, mem[SK_MEMINFO_RMEM_ALLOC], &v));
  CHECK(napi_set_named_property(env, out, "queued", v));
  CHECK(napi_create_string_utf8(env, s->degraded, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, out, "degraded", v));
  return out;
}

// close(handle) -> undefined. Idempotent.
static napi_value close_sock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc >= 1 ? get_sock(env, argv[0]) : NULL;
  if (!s) FAIL_TYPE("close(handle)");
  sock_shutdown(s);
  return NULL;
}

// ---------------------------------------------------------------- namespaces

// inNetns(path: string, fn: () => T) -> T
// Runs fn with the calling thread inside the network namespace at path (e.g. /run/netns/NAME),
// then returns to the original one, even when fn throws. A socket keeps the namespace it was
// created in, so this lets one process open sockets in several namespaces (tests, demo).
// fn must be synchronous: nothing else runs on the thread while it is switched.
static napi_value in_netns(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[4096];
  napi_valuetype t = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &t);
  if (argc < 2 || get_string(env, argv[0], path, sizeof path) < 0 || t != napi_function)
    FAIL_TYPE("inNetns(path, fn)");
  int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved < 0) {
    throw_errno(env, errno, "open /proc/thread-self/ns/net");
    return NULL;
  }
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(saved);
    throw_errno(env, e, "open netns");
    return NULL;
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int e = errno;
    close(target);
    close(saved);
    throw_errno(env, e, "setns");
    return NULL;
  }
  close(target);
  napi_value global, result = NULL;
  napi_get_global(env, &global);
  napi_status st = napi_call_function(env, global, argv[1], 0, NULL, &result);
  if (setns(saved, CLONE_NEWNET) < 0) {
    // Cannot return to where we were: continuing would silently act in the wrong namespace.
    napi_fatal_error("twinvip_net.inNetns", NAPI_AUTO_LENGTH, "setns back to the original network namespace failed", NAPI_AUTO_LENGTH);
  }
  close(saved);
  if (st != napi_ok) return NULL; // the exception stays pending and propagates
  return result;
}

// ---------------------------------------------------------------- unix datagram (sd_notify)

// sendUnixDatagram(path: string, payload: Uint8Array) -> bytes sent
// One datagram to an AF_UNIX SOCK_DGRAM socket, as sd_notify(3) sends to $NOTIFY_SOCKET: Node
// has no unix datagram socket. A leading "@" names an abstract socket (its first byte becomes
// NUL, the name is not NUL-terminated). Like libsystemd, a fresh socket per call: nothing stays
// open across a fork or exec, and the sender is this process, so NotifyAccess=main accepts it.
// Non-blocking: a full receive queue is EAGAIN for the caller, never a stalled event loop.
static napi_value send_unix_datagram(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct sockaddr_un sun;
  char path[sizeof sun.sun_path + 1];
  void *data;
  size_t len;
  if (argc < 2 || get_string(env, argv[0], path, sizeof path) < 0) FAIL_TYPE("sendUnixDatagram(path, payload)");
  if (get_bytes(env, argv[1], &data, &len) < 0) FAIL_TYPE("payload must be a Uint8Array");
  size_t plen = strlen(path);
  if (plen < 2 && path[0] == '@') FAIL_TYPE("abstract socket name is empty");
  if (plen == 0 || plen > sizeof sun.sun_path || (path[0] != '/' && path[0] != '@'))
    FAIL_TYPE("path must be absolute or @abstract, at most 108 bytes");
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path, plen);
  socklen_t alen;
  if (path[0] == '@') {
    sun.sun_path[0] = '\0';
    alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
  } else {
    if (plen == sizeof sun.sun_path) FAIL_TYPE("path must be absolute or @abstract, at most 108 bytes");
    alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + 1);
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    throw_errno(env, errno, "socket");
    return NULL;
  }
  ssize_t n;
  do n = sendto(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sun, alen);
  while (n < 0 && errno == EINTR);
  int e = errno;
  close(fd);
  if (n < 0) {
    throw_errno(env, e, "sendto");
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_int32(env, (int32_t)n, &out));
  return out;
}

// ---------------------------------------------------------------- fd readiness (serial ports)

// @serialport/bindings-cpp watches a port's descriptor with a uv_poll on uv_default_loop(): in a
// worker thread that is the main thread's loop, and its callback enters the worker's isolate from
// the main thread (V8 aborts: "Entering the V8 API without proper locking"). The HA thread's
// serial link therefore waits for readability and writability here, on the loop of the calling
// environment: one watch per descriptor (libuv allows one poll handle per fd), whose event mask
// the caller sets as it needs (0 = paused).
typedef struct fdwatch fdwatch_t;
typedef struct fdbox {
  fdwatch_t *w; // NULL once closed
} fdbox_t;
struct fdwatch {
  uv_poll_t poll; // first: libuv hands the handle back as the struct
  napi_env env;
  napi_ref callback;
  fdbox_t *box;
  napi_async_cleanup_hook_handle hook;     // registered while open
  napi_async_cleanup_hook_handle teardown; // set when the environment is being torn down
};

static void fdwatch_closed(uv_handle_t *h) {
  fdwatch_t *w = (fdwatch_t *)h;
  napi_async_cleanup_hook_handle done = w->teardown;
  free(w);
  if (done) napi_remove_async_cleanup_hook(done);
}

static void fdwatch_end(fdwatch_t *w) {
  if (w->box) {
    w->box->w = NULL;
    w->box = NULL;
  }
  if (w->hook) {
    napi_remove_async_cleanup_hook(w->hook);
    w->hook = NULL;
  }
  if (w->callback) {
    napi_delete_reference(w->env, w->callback);
    w->callback = NULL;
  }
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t *)&w->poll, fdwatch_closed);
}

static void fdwatch_env_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  fdwatch_t *w = (fdwatch_t *)arg;
  w->hook = NULL;
  w->teardown = handle;
  fdwatch_end(w);
}

static void fdbox_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  fdbox_t *box = (fdbox_t *)data;
  if (box->w) fdwatch_end(box->w);
  free(box);
}

static void on_fd_ready(uv_poll_t *h, int status, int events) {
  fdwatch_t *w = (fdwatch_t *)h;
  napi_env env = w->env;
  if (!w->callback) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, global, argv[2], ignored;
  napi_get_reference_value(env, w->callback, &cb);
  if (status < 0) {
    argv[0] = errno_value(env, -status, "poll");
    napi_get_undefined(env, &argv[1]);
    // An error ends the readiness of this handle: pause until the caller asks again.
    uv_poll_stop(&w->poll);
  } else {
    napi_get_null(env, &argv[0]);
    napi_create_int32(env, events, &argv[1]);
  }
  napi_get_global(env, &global);
  if (napi_call_function(env, global, cb, 2, argv, &ignored) != napi_ok) {
    bool pending;
    napi_value exc;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

static fdbox_t *get_fdbox(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  void *p;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return (fdbox_t *)p;
}

// watchFd(fd, callback) -> handle: callback(err, events) each time the descriptor is ready for
// the events set by watchFdSet (1 readable, 2 writable); paused until then.
static napi_value watch_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  napi_valuetype t;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function)
    FAIL_TYPE("watchFd(fd, callback)");
  struct uv_loop_s *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  fdwatch_t *w = calloc(1, sizeof *w);
  fdbox_t *box = calloc(1, sizeof *box);
  if (!w || !box) {
    free(w);
    free(box);
    throw_errno(env, ENOMEM, "calloc");
    return NULL;
  }
  w->env = env;
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r < 0) {
    free(w);
    free(box);
    throw_errno(env, -r, "uv_poll_init");
    return NULL;
  }
  box->w = w;
  w->box = box;
  napi_value out;
  if (napi_create_reference(env, argv[1], 1, &w->callback) != napi_ok || napi_create_external(env, box, fdbox_finalize, NULL, &out) != napi_ok) {
    fdwatch_end(w);
    free(box);
    napi_throw_error(env, "EINVAL", "watchFd: cannot create the handle");
    return NULL;
  }
  if (napi_add_async_cleanup_hook(env, fdwatch_env_teardown, w, &w->hook) != napi_ok) w->hook = NULL;
  return out;
}

// watchFdSet(handle, events): 0 pauses, 1 readable, 2 writable, 3 both.
static napi_value watch_fd_set(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fdbox_t *box = argc >= 2 ? get_fdbox(env, argv[0]) : NULL;
  int32_t events;
  if (!box || napi_get_value_int32(env, argv[1], &events) != napi_ok || (events & ~(UV_READABLE | UV_WRITABLE)))
    FAIL_TYPE("watchFdSet(handle, events 0..3)");
  if (!box->w) {
    throw_errno(env, EBADF, "watchFdSet");
    return NULL;
  }
  int r = events ? uv_poll_start(&box->w->poll, events, on_fd_ready) : uv_poll_stop(&box->w->poll);
  if (r < 0) {
    throw_errno(env, -r, "uv_poll_start");
    return NULL;
  }
  return NULL;
}

// watchFdClose(handle): stops watching (the descriptor itself is the caller's). Idempotent.
static napi_value watch_fd_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  fdbox_t *box = argc >= 1 ? get_fdbox(env, argv[0]) : NULL;
  if (!box) FAIL_TYPE("watchFdClose(handle)");
  if (box->w) fdwatch_end(box->w);
  return NULL;
}

// ---------------------------------------------------------------- rtnetlink requests (VIPs)

#define RTNL_MAX_REPLY (16 << 20)

// rtnlTalk(request: Uint8Array) -> Buffer
// One rtnetlink request (a complete nlmsghdr + payload built by the caller, NLM_F_ACK or
// NLM_F_DUMP set) on a fresh NETLINK_ROUTE socket of the calling thread's network namespace;
// returns every reply message of its sequence number up to the ACK/error or NLMSG_DONE,
// concatenated, for the caller to decode. Blocking, with a 2 s receive timeout: the kernel
// answers an address change or a dump at once (microseconds), which is why this replaces two
// `ip addr` processes on the handover path. The kernel's refusal is an NLMSG_ERROR in the reply
// (the caller names the VIP and interface); only the socket calls themselves throw here.
static napi_value rtnl_talk(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *req;
  size_t req_len;
  if (argc < 1 || get_bytes(env, argv[0], &req, &req_len) < 0) FAIL_TYPE("rtnlTalk(request: Uint8Array)");
  if (req_len < sizeof(struct nlmsghdr)) FAIL_TYPE("request shorter than a netlink header");
  uint32_t seq = ((struct nlmsghdr *)req)->nlmsg_seq;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    throw_errno(env, errno, "socket");
    return NULL;
  }
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  ssize_t n;
  do n = sendto(fd, req, req_len, MSG_NOSIGNAL, (struct sockaddr *)&kernel, sizeof kernel);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int e = errno;
    close(fd);
    throw_errno(env, e, "sendto");
    return NULL;
  }
  unsigned char *out = NULL;
  size_t out_len = 0;
  unsigned char *buf = malloc(RECV_BUF);
  int done = 0;
  int err = 0;
  const char *call = "recv";
  while (!done && buf) {
    do n = recv(fd, buf, RECV_BUF, MSG_TRUNC);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      err = errno;
      break;
    }
    if ((size_t)n > RECV_BUF || out_len + (size_t)n > RTNL_MAX_REPLY) {
      err = EMSGSIZE;
      break;
    }
    // Only this request's messages (the socket is fresh, but a dump may be followed by nothing else).
    size_t len = (size_t)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;
      unsigned char *grown = realloc(out, out_len + h->nlmsg_len);
      if (!grown) {
        err = ENOMEM;
        call = "malloc";
        done = 1;
        break;
      }
      out = grown;
      memcpy(out + out_len, h, h->nlmsg_len);
      out_len += h->nlmsg_len;
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) done = 1;
    }
  }
  if (!buf) {
    err = ENOMEM;
    call = "malloc";
  }
  free(buf);
  close(fd);
  if (err) {
    free(out);
    throw_errno(env, err, call);
    return NULL;
  }
  napi_value result;
  void *data;
  napi_status st = napi_create_buffer_copy(env, out_len, out_len ? out : (void *)"", &data, &result);
  free(out);
  CHECK(st);
  return result;
}

// ifIndex(name: string) -> ifindex (throws ENODEV for an interface that does not exist here)
static napi_value if_index(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IF_NAMESIZE + 1];
  if (argc < 1 || get_string(env, argv[0], name, sizeof name) < 0) FAIL_TYPE("ifIndex(name: string)");
  unsigned idx = if_nametoindex(name);
  if (idx == 0) {
    throw_errno(env, errno, "if_nametoindex");
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_uint32(env, idx, &out));
  return out;
}

// ---------------------------------------------------------------- thread scheduling

// The HA thread's scheduling, as keepalived sets its VRRP process's (lib/process.c
// set_process_priorities: vrrp_priority, vrrp_rt_priority, vrrp_rlimit_rttime; not vrrp_no_swap:
// mlockall of a V8 process makes it abort, bench/README.md "the HA thread real-time"),
// but for the calling thread only: setpriority(2) and sched_setscheduler(2) given a thread id
// act on that thread, so the main thread, libuv's pool and V8's helpers stay where they are.
//
// Safety net (keepalived's too): RLIMIT_RTTIME, the CPU time a real-time thread may use without
// blocking. At the soft limit (half of it) the kernel sends SIGXCPU; the handler below puts the
// real-time thread back to normal scheduling at once (a runaway loop then competes like any
// other thread and cannot lock a core), and counts it; JavaScript reports it and restores the
// policy later (threadScheduling). At the hard limit the kernel kills the process: only reached
// if the handler could not run.

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#ifndef RLIMIT_RTTIME
#define RLIMIT_RTTIME 15
#endif

static volatile sig_atomic_t rt_tid;       // the thread made real-time (0: none)
static volatile sig_atomic_t xcpu_count;   // SIGXCPU received (soft RLIMIT_RTTIME reached)
static volatile sig_atomic_t xcpu_demoted; // the handler put rt_tid back to SCHED_OTHER

static void on_sigxcpu(int sig) {
  (void)sig;
  int saved = errno;
  xcpu_count++;
  pid_t tid = (pid_t)rt_tid;
  if (tid > 0) {
    struct sched_param sp = {.sched_priority = 0};
    if (syscall(SYS_sched_setscheduler, tid, SCHED_OTHER, &sp) == 0) xcpu_demoted++;
  }
  errno = saved;
}

// SIGXCPU's default action dumps core: install ours unless someone else installed a handler.
static int install_sigxcpu(void) {
  struct sigaction old;
  if (sigaction(SIGXCPU, NULL, &old) != 0) return errno;
  if (old.sa_handler == on_sigxcpu) return 0;
  if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL) return EBUSY;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigxcpu;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGXCPU, &sa, NULL) != 0) return errno;
  return 0;
}

static void set_err(napi_env env, napi_value obj, const char *key, int err, const char *call) {
  char name[32];
  char msg[160];
  snprintf(msg, sizeof msg, "%s %s (%s)", call, uv_err_name_r(-err, name, sizeof name), strerror(err));
  napi_value v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

static void put_int(napi_env env, napi_value obj, const char *key, int64_t n) {
  napi_value v;
  napi_create_int64(env, n, &v);
  napi_set_named_property(env, obj, key, v);
}

static napi_value scheduling_info(napi_env env, napi_value out, pid_t tid) {
  int policy = sched_getscheduler(tid);
  struct sched_param sp = {0};
  sched_getparam(tid, &sp);
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, (id_t)tid);
  struct rlimit rl;
  int have_rl = getrlimit(RLIMIT_RTTIME, &rl) == 0;
  put_int(env, out, "tid", tid);
  napi_value pol;
  const char *name = policy < 0 ? "unknown" : (policy & ~SCHED_RESET_ON_FORK) == SCHED_RR ? "SCHED_RR"
                     : (policy & ~SCHED_RESET_ON_FORK) == SCHED_FIFO ? "SCHED_FIFO"
                     : (policy & ~SCHED_RESET_ON_FORK) == SCHED_OTHER ? "SCHED_OTHER" : "other";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &pol);
  napi_set_named_property(env, out, "policy", pol);
  put_int(env, out, "rtPriority", sp.sched_priority);
  put_int(env, out, "nice", nice);
  put_int(env, out, "rttimeSoft", have_rl && rl.rlim_cur != RLIM_INFINITY ? (int64_t)rl.rlim_cur : -1);
  put_int(env, out, "rttimeHard", have_rl && rl.rlim_max != RLIM_INFINITY ? (int64_t)rl.rlim_max : -1);
  put_int(env, out, "xcpu", xcpu_count);
  put_int(env, out, "demoted", xcpu_demoted);
  return out;
}

static int get_int_prop(napi_env env, napi_value obj, const char *key, int64_t *out) {
  bool has;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  napi_value v;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return -1;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_undefined) return 0;
  if (t == napi_boolean) {
    bool b;
    napi_get_value_bool(env, v, &b);
    *out = b;
    return 1;
  }
  if (t != napi_number || napi_get_value_int64(env, v, out) != napi_ok) return -1;
  return 1;
}

// setThreadScheduling({nice?, rtPriority?, rttimeUs?, inherit?}) on the calling thread.
// Real-time is set with SCHED_RESET_ON_FORK (threads and processes it creates start at normal
// scheduling) unless inherit is true: the start-up boost hands its priority to the HA worker's
// thread that way, for the one pthread_create of `new Worker()` (src/ha/worker/start-boost.ts).
// Never throws for a refusal: each part that failed is named in the result (errors.nice,
// errors.rt, errors.rlimit, errors.sigxcpu) beside the thread's policy as it is.
static napi_value set_thread_scheduling(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object)
    FAIL_TYPE("setThreadScheduling({nice, rtPriority, rttimeUs})");
  int64_t nice = 0, rt = 0, rttime = 0;
  int has_nice = get_int_prop(env, argv[0], "nice", &nice);
  int has_rt = get_int_prop(env, argv[0], "rtPriority", &rt);
  int has_rttime = get_int_prop(env, argv[0], "rttimeUs", &rttime);
  int64_t inherit = 0;
  napi_value iv;
  bool has_inherit = false;
  if (napi_has_named_property(env, argv[0], "inherit", &has_inherit) == napi_ok && has_inherit &&
      napi_get_named_property(env, argv[0], "inherit", &iv) == napi_ok) {
    bool b = false;
    if (napi_get_value_bool(env, iv, &b) == napi_ok) inherit = b ? 1 : 0;
  }
  if (has_nice < 0 || has_rt < 0 || has_rttime < 0 || nice < -20 || nice > 19 || rt < 0 || rt > 99 || rttime < 0)
    FAIL_TYPE("setThreadScheduling: nice -20..19, rtPriority 0..99, rttimeUs >= 0");
  pid_t tid = (pid_t)syscall(SYS_gettid);
  napi_value out, errors;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_object(env, &errors));

  if (has_nice && setpriority(PRIO_PROCESS, (id_t)tid, (int)nice) != 0) set_err(env, errors, "nice", errno, "setpriority");

  if (has_rt) {
    struct sched_param sp = {.sched_priority = (int)rt};
    if (rt > 0) {
      int rt_ok = 1;
      if (has_rttime && rttime > 0) {
        int e = install_sigxcpu();
        if (e) {
          // Without the handler the soft limit would dump core: no limit, and no real-time.
          set_err(env, errors, "sigxcpu", e, "sigaction(SIGXCPU)");
          rt_ok = 0;
        } else {
          struct rlimit rl = {.rlim_cur = (rlim_t)(rttime / 2 > 0 ? rttime / 2 : 1), .rlim_max = (rlim_t)rttime};
          if (setrlimit(RLIMIT_RTTIME, &rl) != 0) {
            set_err(env, errors, "rlimit", errno, "setrlimit(RLIMIT_RTTIME)");
            rt_ok = 0; // real-time without its safety net: refused
          }
        }
      }
      if (rt_ok) {
        rt_tid = tid;
        if (sched_setscheduler(tid, SCHED_RR | (inherit ? 0 : SCHED_RESET_ON_FORK), &sp) != 0) {
          set_err(env, errors, "rt", errno, "sched_setscheduler(SCHED_RR)");
          rt_tid = 0;
        }
      }
    } else {
      // 0: normal scheduling (a reload that turns real-time off).
      if (sched_setscheduler(tid, SCHED_OTHER, &sp) != 0) set_err(env, errors, "rt", errno, "sched_setscheduler(SCHED_OTHER)");
      if (rt_tid == tid) rt_tid = 0;
      if (has_nice && setpriority(PRIO_PROCESS, (id_t)tid, (int)nice) != 0) set_err(env, errors, "nice", errno, "setpriority");
    }
  }

  CHECK(napi_set_named_property(env, out, "errors", errors));
  return scheduling_info(env, out, tid);
}

// threadScheduling(tid?) -> the policy of a thread (default: the calling one) and the SIGXCPU counts.
static napi_value thread_scheduling(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t tid = 0;
  if (argc >= 1 && !is_nullish(env, argv[0]) && napi_get_value_int32(env, argv[0], &tid) != napi_ok) FAIL_TYPE("threadScheduling(tid?: number)");
  if (tid <= 0) tid = (int32_t)syscall(SYS_gettid);
  napi_value out;
  CHECK(napi_create_object(env, &out));
  return scheduling_info(env, out, tid);
}

// ---------------------------------------------------------------- plain descriptor I/O

// writeFd(fd, bytes, offset?) -> bytes written, or -1 when the descriptor would block (EAGAIN);
// throws on any other error. One write(2) on the calling thread: no thread-pool job. The serial
// heartbeat's frames are a few dozen bytes into a tty's 4 KB output buffer, so the write is done
// at once; what remains (a partial write, EAGAIN) is the caller's to finish.
static napi_value write_fd(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  void *data;
  size_t len;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || get_bytes(env, argv[1], &data, &len) < 0)
    FAIL_TYPE("writeFd(fd: number, bytes: Uint8Array, offset?: number)");
  uint32_t off = 0;
  if (argc >= 3 && !is_nullish(env, argv[2]) && napi_get_value_uint32(env, argv[2], &off) != napi_ok) FAIL_TYPE("writeFd: offset must be a number");
  if (off > len) FAIL_TYPE("writeFd: offset beyond the buffer");
  ssize_t n;
  do n = write(fd, (unsigned char *)data + off, len - off);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) n = -1;
  else if (n < 0) {
    throw_errno(env, errno, "write");
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_int64(env, n, &out));
  return out;
}

// readFd(fd, buffer, offset, length) -> bytes read (0: end of file), or -1 when nothing is
// there (EAGAIN); throws on any other error. One read(2) on the calling thread.
static napi_value read_fd(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  void *data;
  size_t len;
  uint32_t off, want;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || get_bytes(env, argv[1], &data, &len) < 0 ||
      napi_get_value_uint32(env, argv[2], &off) != napi_ok || napi_get_value_uint32(env, argv[3], &want) != napi_ok)
    FAIL_TYPE("readFd(fd: number, buffer: Uint8Array, offset: number, length: number)");
  if ((size_t)off + want > len) FAIL_TYPE("readFd: offset + length beyond the buffer");
  ssize_t n;
  do n = read(fd, (unsigned char *)data + off, want);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) n = -1;
  else if (n < 0) {
    throw_errno(env, errno, "read");
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_int64(env, n, &out));
  return out;
}

// socketPair() -> [fd, fd]: an AF_UNIX SOCK_STREAM pair, close-on-exec. The HA thread and the
// main thread talk over it (src/ha/worker/socket-port.ts), each with its own libuv stream on its
// own loop: no mutex the two threads share (MessagePort's are), no buffer one thread allocates and
// the other frees (a glibc arena lock), only the kernel's socket buffer between them.
static napi_value socket_pair(napi_env env, napi_callback_info info) {
  (void)info;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    throw_errno(env, errno, "socketpair");
    return NULL;
  }
  napi_value out, a, b;
  CHECK(napi_create_array_with_length(env, 2, &out));
  CHECK(napi_create_int32(env, sv[0], &a));
  CHECK(napi_create_int32(env, sv[1], &b));
  CHECK(napi_set_element(env, out, 0, a));
  CHECK(napi_set_element(env, out, 1, b));
  return out;
}

// ---------------------------------------------------------------- module

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"openVrrp", NULL, open_vrrp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openPacket", NULL, open_packet, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setFilter", NULL, set_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openLinkEvents", NULL, open_link_events, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMembership", NULL, set_membership, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, send_ip, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendFrame", NULL, send_frame, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recvStart", NULL, recv_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"inNetns", NULL, in_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_sock, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, sock_stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendUnixDatagram", NULL, send_unix_datagram, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watchFd", NULL, watch_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watchFdSet", NULL, watch_fd_set, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watchFdClose", NULL, watch_fd_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rtnlTalk", NULL, rtnl_talk, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifIndex", NULL, if_index, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreadScheduling", NULL, set_thread_scheduling, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threadScheduling", NULL, thread_scheduling, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeFd", NULL, write_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readFd", NULL, read_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"socketPair", NULL, socket_pair, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
