/*
 * synack links: real network devices for a synack stack.
 *
 * A link carries IPv4 datagrams between a stack and a Linux TUN or TAP
 * device.  With TAP (Ethernet frames) the link has its own MAC address,
 * answers ARP requests for the stack's address, resolves next hops with ARP
 * (holding a few datagrams per address meanwhile) and announces itself with
 * a gratuitous ARP when it opens.  With TUN (raw IPv4, IFF_NO_PI) datagrams
 * cross as they are.  IPv6 crosses both (issue 14 item 3): TAP frames it
 * as RFC 2464 says and resolves next hops with neighbour discovery (RFC
 * 4861, src/link/nd.c); TUN tells the families by the version nibble.
 * The stack routes (synack_route_add): its datagrams
 * come with their next hop (synack_output_via, synack_link_send_to), which
 * the link resolves; a next hop outside the link's prefixes (cfg.addr's,
 * and those of synack_link_add_addr) is dropped and counted (no_route).
 *
 * Any link can impair the datagrams it carries with the model of the
 * simulated network (struct synack_sim_path: loss, duplication, reordering,
 * delay with jitter, corruption, a bottleneck), seeded, and capture every
 * frame that crosses the device to a pcap file.
 *
 * Like the stack, a link is driven by its caller: time (microseconds on the
 * caller's monotonic clock, the same the stack is given) is passed in, and
 * the caller polls the descriptor synack_link_fd() for input and calls
 * synack_link_advance() by synack_link_next_deadline().  src/run (synack/run.h)
 * does all of that for one stack and one link.
 *
 *     struct synack_link *l;
 *     char err[160];
 *     struct synack_link_config lc;
 *     synack_link_config_default(&lc);
 *     lc.addr = 0x0a070002; lc.prefix_len = 24;
 *     if (synack_link_open(&l, SYNACK_LINK_TAP, "tap0", &lc, err, sizeof(err)) < 0)
 *             fprintf(stderr, "%s\n", err);
 *
 * Functions return 0 (or a size) on success and a negative errno on failure.
 */
#ifndef SYNACK_LINK_H
#define SYNACK_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "synack/sim.h"
#include "synack/synack.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#pragma GCC visibility push(default) /* the API; the rest of libsynack is hidden */
#endif

struct synack_link;

enum synack_link_kind {
	SYNACK_LINK_TAP = 1, /* Ethernet frames, ARP */
	SYNACK_LINK_TUN = 2, /* raw IPv4 datagrams */
};

struct synack_link_config {
	uint32_t addr;       /* the stack's IPv4 address, host byte order (required) */
	uint32_t prefix_len; /* on-link prefix length, 1..32 (default 24) */
	uint8_t mac[6];      /* TAP: our MAC; all zero (the default) derives
	                      * 02:53:59:xx:xx:xx from the low 3 bytes of addr */
	/* ARP (TAP only), after Linux's neighbour settings. */
	uint32_t arp_lifetime_ms; /* a resolved entry is used this long before it is
	                           * confirmed again (default 60000, 1..86400000) */
	uint32_t arp_retry_ms;    /* between requests for an unresolved address
	                           * (default 1000, 10..60000) */
	uint32_t arp_retries;     /* requests before giving up, dropping the held
	                           * datagrams and reporting the address with
	                           * synack_link_unreachable_next() (default 3,
	                           * 1..100; with arp_retry_ms Linux's ucast_solicit
	                           * 3 and retrans_time 1 s: about 3 s) */
	uint32_t arp_queue_len;   /* datagrams held per unresolved address
	                           * (default 3, 0..1024; Linux's unres_qlen) */
	uint32_t arp_cache_max;   /* cache entries (default 256, 1..65536) */
	int gratuitous_arp;       /* announce addr when the link opens (default 1;
	                           * 0 or 1) */
	uint32_t read_batch;      /* frames read per synack_link_recv() wakeup before
	                           * yielding (default 64, 1..65536) */
	/* Bursts (issue 17 item 5). */
	uint32_t txqueuelen; /* frames the kernel may hold for us to read (the
	                      * device's txqueuelen), set on a device this link
	                      * creates; one that exists keeps its own unless
	                      * synack_link_set_txqueuelen() is called (default
	                      * 10000, 0..1000000; 0 keeps the kernel's 500 for
	                      * TUN, 1000 for TAP) */
	/* Offloads of a TUN/TAP device (issue 16 item 2), named after
	 * ethtool's features; each 0 or 1, default 1.  csum_offload opens the
	 * device with IFF_VNET_HDR: each frame then carries a virtio_net_hdr,
	 * and the kernel may hand the link partial checksums, which it
	 * completes (ethtool's rx/tx-checksumming).  The other two need it,
	 * as ethtool's TSO needs tx-checksumming:
	 * gro: the kernel may hand over TCP super-segments of up to 64 KiB
	 * (TUNSETOFFLOAD TUN_F_TSO4, and TUN_F_TSO6 for IPv6), which go to
	 * the stack whole;
	 * tso: consecutive full-sized segments of one connection that the
	 * stack sends in one go are handed to the kernel as one super-segment
	 * that it cuts again into those very segments (gso_size: their MSS).
	 * A descriptor given to synack_link_open_fd() uses them when it is a
	 * TUN/TAP descriptor opened with IFF_VNET_HDR.
	 * csum_trust (with csum_offload): a frame whose checksum the kernel
	 * left partial (it comes from the local kernel and never crossed a
	 * wire: Linux's CHECKSUM_PARTIAL) or marked verified (DATA_VALID)
	 * goes to the stack as known good, neither completed nor verified
	 * again, as Linux's receive path takes such a buffer
	 * (synack_link_recv_ref(), SYNACK_INPUT_CSUM_UNNECESSARY); 0
	 * completes partial checksums and lets the stack verify every
	 * datagram.  Not while impairments act on what the link receives
	 * (corruption); a capture still shows every checksum whole. */
	int csum_offload;
	int gro;
	int tso;
	int csum_trust;
	/* IPv6 (issue 14 item 3).  The stack's IPv6 address on the link
	 * (all zero: none; further ones with synack_link_add_addr6()), its
	 * on-link prefix, and the default gateway for IPv6 destinations off
	 * every on-link prefix (all zero: none; such datagrams are dropped,
	 * no_route).  TAP resolves next hops with neighbour discovery (RFC
	 * 4861) and answers solicitations for these addresses and for the
	 * link-local one made from the MAC (synack_link_addr6_link_local()):
	 * the nd_* settings are RFC 4861 10's constants (Linux's neigh
	 * sysctls). */
	uint8_t addr6[16];
	uint32_t prefix6_len;              /* 1..128 (default 64) */
	uint8_t gw6[16];                   /* on-link (or link-local) */
	uint32_t nd_reachable_ms;          /* ReachableTime: a confirmed neighbour is
	                                    * REACHABLE this long, then STALE (default
	                                    * 30000, 1..3600000) */
	uint32_t nd_retrans_ms;            /* RetransTimer: between solicitations
	                                    * (default 1000, 10..60000) */
	uint32_t nd_delay_first_probe_ms;  /* DELAY_FIRST_PROBE_TIME: a STALE
	                                    * neighbour used waits this long for a
	                                    * confirmation before it is probed
	                                    * (default 5000, 1..60000) */
	uint32_t nd_max_multicast_solicit; /* solicitations before a resolution is
	                                    * given up (default 3, 1..100) */
	uint32_t nd_max_unicast_solicit;   /* probes before a neighbour is
	                                    * forgotten (default 3, 1..100) */
	uint32_t nd_queue_len;             /* datagrams held per neighbour being
	                                    * resolved (default 3, 0..1024) */
	uint32_t nd_cache_max;             /* neighbour cache entries (default 256,
	                                    * 1..65536) */
	/* Bring-up (issue 15).  Opening a device whose kernel side is up
	 * (IFF_UP) waits until the kernel sends through it (IFF_RUNNING: its
	 * link watch has handled the carrier that the open turned on), at
	 * most this long; before, the kernel drops what it sends, such as
	 * the reply to the first ARP request (default 1000, 0..60000; 0 does
	 * not wait). */
	uint32_t link_up_wait_ms;
};

/* Fills *cfg with the defaults above (addr 0, which must be set). */
void synack_link_config_default(struct synack_link_config *cfg);
/* Checks a configuration (cfg NULL, addr not unicast, a setting out of its
 * range).  Returns 0, or -EINVAL with a sentence naming the bad setting in
 * err when err is not NULL. */
int synack_link_config_check(const struct synack_link_config *cfg, char *err, size_t errlen);

/*
 * Opens the TUN or TAP device called dev (IFF_NO_PI), creating it when it
 * does not exist (a device created here disappears when the link closes,
 * and gets cfg->txqueuelen).
 * The descriptor is non-blocking.  Returns 0 and sets *out, or a negative
 * errno with a sentence in err: -EINVAL (bad name or settings, or the device
 * exists with the other kind), -EPERM/-EACCES (no CAP_NET_ADMIN), -ENOENT
 * (no /dev/net/tun), -EBUSY (in use), -ENOMEM, or any other errno of
 * open(2) and ioctl(2) TUNSETIFF negated.
 */
int synack_link_open(struct synack_link **out, int kind, const char *dev,
                     const struct synack_link_config *cfg, char *err, size_t errlen);
/*
 * One stack per core (issue 16 item 3).  Opens n queues of the multi-queue
 * TUN or TAP device dev (IFF_MULTI_QUEUE), one link each in out[0..n-1]:
 * give each to its own stack and run loop, on its own thread.  The kernel
 * hands each flow to one queue (the queue that last wrote the flow, else
 * its symmetric flow hash over the queues: docs/THREADS.md), so a stack
 * per queue sees whole connections.  Every link answers ARP for cfg->addr
 * and resolves its next hops itself; only out[0] sends the gratuitous ARP.
 * The kernel hands every ARP frame to the queue that wrote ARP last, so an
 * answer may reach another queue than the one that asked: TAP links of
 * one device pass what they learn from ARP on to each other (counted as
 * arp_shared_in), and a loop must poll synack_link_wake_fd() beside
 * synack_link_fd() (synack_run_new does) and call synack_link_recv() when
 * it is readable.
 * A device created here disappears when the last queue closes.  n 1
 * opens one queue of a multi-queue device (synack_link_open() opens a
 * device without IFF_MULTI_QUEUE; neither opens the other).  Returns 0, or
 * what synack_link_open() returns, with nothing left open: -EINVAL also
 * for n outside 1..SYNACK_LINK_MAX_QUEUES or an existing device made
 * without multi_queue.
 */
#define SYNACK_LINK_MAX_QUEUES 256 /* the kernel's MAX_TAP_QUEUES */
/* A descriptor readable when another queue of the link's multi-queue TAP
 * device passed on a neighbour (synack_link_recv takes it), or -1 for a
 * link that has none: poll it beside synack_link_fd(). */
int synack_link_wake_fd(const struct synack_link *l);
int synack_link_open_queues(struct synack_link **out, unsigned n, int kind, const char *dev,
                            const struct synack_link_config *cfg, char *err, size_t errlen);
/*
 * Wraps a descriptor that already carries frames of the given kind (one
 * read or write per frame, e.g. one end of a SOCK_DGRAM socketpair, or a
 * TUN/TAP descriptor opened elsewhere).  The link owns fd from then on,
 * even on failure.  name is only a label.  Returns 0 and sets *out, or
 * -EINVAL (out NULL, fd < 0, a bad kind or configuration) or -ENOMEM with a
 * sentence in err.
 */
int synack_link_open_fd(struct synack_link **out, int kind, int fd, const char *name,
                        const struct synack_link_config *cfg, char *err, size_t errlen);
/* Flushes the capture, frees everything, closes the descriptor. */
void synack_link_close(struct synack_link *l);

/* The device's descriptor, to poll for input (-1 for a NULL l). */
int synack_link_fd(const struct synack_link *l);
/* SYNACK_LINK_TAP or SYNACK_LINK_TUN (0 for a NULL l). */
int synack_link_kind(const struct synack_link *l);
/* The device's name, or the label given to synack_link_open_fd(). */
const char *synack_link_name(const struct synack_link *l);
/* The device's MTU (1500 when it cannot be read); give it to the stack. */
uint32_t synack_link_mtu(const struct synack_link *l);
/* The link's MAC address (TAP). */
void synack_link_mac(const struct synack_link *l, uint8_t mac[6]);

/*
 * Impairs every datagram the link sends (out) and every one it receives
 * (in), as the simulated network does (src/link/impair.c is the shared
 * model); NULL leaves a direction clean.  Each direction has its own
 * generator seeded from seed, so a seed replays the same fates for the same
 * sequence of datagrams.  ARP frames are never impaired.  Returns 0, or
 * -EINVAL for a NULL l or a probability outside [0, 1].
 */
int synack_link_set_impairment(struct synack_link *l, const struct synack_sim_path *out,
                               const struct synack_sim_path *in, uint64_t seed);

/*
 * Captures every frame read from or written to the device into a classic
 * pcap file (LINKTYPE_ETHERNET for TAP, ARP included; LINKTYPE_RAW for TUN),
 * with wall-clock timestamps in microseconds.  The file is flushed at least
 * every 200 ms of link activity (synack_link_advance included) and on close.
 * NULL stops capturing.  Returns 0, -EINVAL (l NULL), or an error of
 * synack_pcap_open() (synack/pcap.h) with a sentence in err.
 */
int synack_link_set_pcap(struct synack_link *l, const char *path, char *err, size_t errlen);

/*
 * One capture for the n links of synack_link_open_queues(), which may run on
 * n threads: every frame of every queue goes into the one file at path,
 * stamped and written under a lock, so the records are in time order.
 * Closed when the last of the links closes (or is given another capture).
 * Returns 0, -EINVAL (links or path NULL, n 0, links of different kinds),
 * -ENOMEM, or what synack_link_set_pcap() returns.
 */
int synack_link_set_pcap_shared(struct synack_link *const *links, unsigned n, const char *path,
                                char *err, size_t errlen);

/*
 * Copies the next IPv4 or IPv6 datagram for the stack into buf: one whose
 * impaired delay has passed, else one read from the device now (ARP and
 * neighbour discovery frames are answered on the way).  Returns its
 * length, 0 when nothing is ready (after read_batch frames at most),
 * -EINVAL (l or buf NULL), -EPIPE (the other end of a wrapped descriptor is
 * gone), or another errno of read(2) negated when the device fails (-EIO,
 * -EBADFD ...).  A datagram longer than cap is dropped (too_big).
 */
ssize_t synack_link_recv(struct synack_link *l, uint64_t now, void *buf, size_t cap);
/*
 * As synack_link_recv() without the copy (issue 16 item 2): *pkt points
 * at the datagram inside the link, valid until the next call of either
 * function or synack_link_close(), and *flags says what to hand
 * synack_input_flags() with it: SYNACK_INPUT_CSUM_UNNECESSARY when its
 * TCP checksum is known good (cfg.csum_trust).  synack_link_recv()
 * instead hands over every datagram with its checksums whole.  Returns
 * what synack_link_recv() returns (-EINVAL also for pkt or flags NULL).
 */
ssize_t synack_link_recv_ref(struct synack_link *l, uint64_t now, const void **pkt,
                             unsigned *flags);
/*
 * The block holding pkt, the datagram synack_link_recv_ref() returned
 * last, for synack_input_block() (issue 16 item 2, the zero-copy receive
 * queue): the link's frame buffer, from malloc(), of *size bytes; NULL
 * when pkt lies elsewhere (a datagram the impairments delayed).
 * synack_link_give_rbuf() then gives it up for good, when the stack kept
 * it: the link reads the next frame into spare, a block of the same size
 * from malloc() that the link takes (synack_block_spare()), or, when spare
 * is NULL, into a new one (synack_link_recv_ref() returns -ENOMEM when it
 * cannot have one).
 */
void *synack_link_rbuf(struct synack_link *l, const void *pkt, size_t *size);
void synack_link_give_rbuf(struct synack_link *l, void *spare);
/*
 * Sends one IPv4 datagram from the stack: routed to its destination when it
 * is on the link's prefix, impaired, resolved with ARP (TAP) and written
 * (an IPv6 one goes as synack_link_send_via() with no next hop sends it).
 * Returns 0 when it was written, held or dropped (drops are counted), or
 * -EINVAL (l or pkt NULL, len outside 20..65535).  Write errors of the device
 * are counted as drops (device_busy, device_error), not returned.
 */
int synack_link_send(struct synack_link *l, uint64_t now, const void *pkt, size_t len);
/*
 * As synack_link_send, to the neighbour next_hop (host byte order) that
 * the stack's routing table chose (synack_output_via): a gateway, or the
 * destination itself.  TAP resolves next_hop with ARP; a next hop outside
 * the link's prefixes is dropped (no_route).
 */
int synack_link_send_to(struct synack_link *l, uint64_t now, const void *pkt, size_t len,
                        uint32_t next_hop);
/*
 * Another address of the stack on this link (synack_addr_add), with its
 * on-link prefix: TAP answers ARP for it, and its prefix holds next hops
 * too.  0 (also when already known), -EINVAL (not unicast, prefix_len
 * above 32) or -ENOSPC (15 beside cfg.addr).
 */
int synack_link_add_addr(struct synack_link *l, uint32_t addr, uint32_t prefix_len);
/*
 * Hands the kernel the super-segment synack_link_send() is still building
 * (tso): the run loop calls it after each batch of sends.  Until then (or
 * the next synack_link_advance(), which it asks for at once through
 * synack_link_next_deadline()) the segments wait in the link.
 */
void synack_link_flush(struct synack_link *l, uint64_t now);
/* Writes the delayed datagrams that are due, runs ARP retries and expiry,
 * flushes the capture when it is due. */
void synack_link_advance(struct synack_link *l, uint64_t now);
/*
 * The next destination the link gave up resolving (TAP: arp_retries
 * requests went unanswered): returns 1 and sets *addr (host byte order),
 * 0 when none is left (always for TUN), -EINVAL when l or addr is NULL.
 * Hand each to synack_unreachable() with -EHOSTUNREACH so the connections
 * waiting on it fail as Linux's do (src/run does).  At most arp_cache_max
 * wait to be read.
 */
int synack_link_unreachable_next(struct synack_link *l, uint32_t *addr);
/* When synack_link_advance() wants to run next, or SYNACK_NEVER. */
uint64_t synack_link_next_deadline(const struct synack_link *l);
/* 1 when destination addr is on the link's prefix (routable), else 0. */
int synack_link_routes(const struct synack_link *l, uint32_t addr);

/* IPv6 (issue 14 item 3). */
/*
 * As synack_link_send_to, to the next hop the stack chose in either family
 * (synack_output_via's): an IPv6 datagram goes to an IPv6 next_hop, or,
 * when next_hop is NULL, not IPv6 or ::, to its destination when that is
 * on-link (cfg.addr6's prefix, those of synack_link_add_addr6(), fe80::/10)
 * or to cfg.gw6; TAP resolves it with neighbour discovery.
 */
int synack_link_send_via(struct synack_link *l, uint64_t now, const void *pkt, size_t len,
                         const struct synack_endpoint *next_hop);
/* Another IPv6 address of the stack on this link with its on-link prefix:
 * TAP answers solicitations for it.  0 (also when known), -EINVAL (not
 * unicast, prefix_len outside 1..128) or -ENOSPC (15 beside the
 * link-local). */
int synack_link_add_addr6(struct synack_link *l, const uint8_t addr[16], uint32_t prefix_len);
/* The link-local address fe80::/64 made from the link's MAC (modified
 * EUI-64, RFC 4291 2.5.1, RFC 2464 4) into out: 1 for TAP, 0 for TUN (no
 * MAC, out untouched). */
int synack_link_addr6_link_local(const struct synack_link *l, uint8_t out[16]);
/* The next IPv6 destination the link gave up resolving (TAP): 1 and
 * *addr, 0 when none is left, -EINVAL.  Hand it to synack_unreachable()
 * as synack_link_unreachable_next()'s. */
int synack_link_unreachable6_next(struct synack_link *l, uint8_t addr[16]);
/* The neighbour cache's entry for addr (TAP): its state, 1 INCOMPLETE,
 * 2 REACHABLE, 3 STALE, 4 DELAY, 5 PROBE (RFC 4861 7.3.2) and *mac; 0 when
 * there is none. */
int synack_link_neigh6(const struct synack_link *l, const uint8_t addr[16], uint8_t mac[6]);

/* Why the link dropped a frame or a datagram. */
#define SYNACK_LINK_DROPS(X)                                                                       \
	X(NONE, "none")                                                                            \
	X(FRAME_SHORT, "frame_short")       /* no datagram after the Ethernet header */            \
	X(NOT_FOR_US, "not_for_us")         /* another host's unicast or a multicast MAC */        \
	X(ETHERTYPE, "ethertype")           /* neither IPv4, IPv6 nor ARP (VLAN ...) */            \
	X(NOT_IPV4, "not_ipv4")             /* TUN: neither IPv4 nor IPv6 */                       \
	X(ARP_BAD, "arp_bad")               /* malformed or not Ethernet/IPv4 ARP */               \
	X(ARP_IGNORED, "arp_ignored")       /* valid, but about other hosts */                     \
	X(ARP_CONFLICT, "arp_conflict")     /* another MAC claims our address */                   \
	X(ARP_UNRESOLVED, "arp_unresolved") /* held while resolving, no answer */                  \
	X(ARP_QUEUE_FULL, "arp_queue_full") /* more than arp_queue_len held */                     \
	X(ARP_CACHE_FULL, "arp_cache_full") /* no room for another entry */                        \
	X(NO_ROUTE, "no_route")             /* destination outside the prefix */                   \
	X(TOO_BIG, "too_big")               /* larger than the link can carry */                   \
	X(IMPAIR_LOST, "impair_lost")       /* the impairment middleware lost it */                \
	X(NO_MEMORY, "no_memory")                                                                  \
	X(DEVICE_BUSY, "device_busy")   /* the device would block (EAGAIN, ENOBUFS) */             \
	X(DEVICE_ERROR, "device_error") /* a write failed otherwise (EIO: device down ...) */      \
	X(VNET_BAD, "vnet_bad")         /* a malformed virtio_net_hdr (issue 16 item 2) */         \
	/* Neighbour discovery (issue 14 item 3, RFC 4861): */                                     \
	X(ND_BAD, "nd_bad")               /* fails RFC 4861 7.1's checks (hop limit ...) */        \
	X(ND_IGNORED, "nd_ignored")       /* valid, but not about us, unasked or a router's */     \
	X(ND_CONFLICT, "nd_conflict")     /* another MAC claims our IPv6 address */                \
	X(ND_UNRESOLVED, "nd_unresolved") /* held while resolving, no answer */                    \
	X(ND_QUEUE_FULL, "nd_queue_full") /* more than nd_queue_len held */                        \
	X(ND_CACHE_FULL, "nd_cache_full") /* no room for another neighbour */

enum synack_link_drop {
#define SYNACK_LINK_DROP_ENUM(name, str) SYNACK_LINK_DROP_##name,
	SYNACK_LINK_DROPS(SYNACK_LINK_DROP_ENUM)
#undef SYNACK_LINK_DROP_ENUM
	    SYNACK_LINK_DROP_COUNT
};
/* "arp_unresolved" ...; "?" for an unknown value. */
const char *synack_link_drop_name(int reason);

struct synack_link_stats {
	uint64_t frames_in, frames_out; /* crossed the device */
	uint64_t bytes_in, bytes_out;
	uint64_t datagrams_in;  /* IPv4 datagrams handed to the stack */
	uint64_t datagrams_out; /* IPv4 datagrams taken from the stack */
	uint64_t arp_requests_in, arp_replies_in;
	uint64_t arp_requests_out, arp_replies_out, arp_gratuitous_out;
	uint64_t arp_resolved; /* addresses resolved (or confirmed again) */
	uint64_t arp_failed;   /* resolutions given up (Linux's res_failed) */
	uint64_t arp_entries;  /* entries in the cache now */
	uint64_t pcap_errors;  /* records the capture failed to write */
	uint64_t drops[SYNACK_LINK_DROP_COUNT];
	/* What the impairment middleware did in each direction. */
	struct synack_sim_counters impair_out, impair_in;
	/* Offloads (issue 16 item 2). */
	uint64_t gso_in;         /* super-segments from the kernel (gro) */
	uint64_t gso_out;        /* super-segments to the kernel (tso) */
	uint64_t gso_segs_out;   /* the segments they held */
	uint64_t csum_completed; /* partial checksums completed (csum_offload) */
	/* One stack per core (issue 16 item 3): neighbours another queue of
	 * the same multi-queue device learnt and passed on. */
	uint64_t arp_shared_in;
	/* IPv6 neighbour discovery (issue 14 item 3, TAP). */
	uint64_t nd_solicits_in, nd_adverts_in;   /* valid ones received */
	uint64_t nd_solicits_out, nd_adverts_out; /* sent */
	uint64_t nd_resolved;                     /* neighbours resolved */
	uint64_t nd_failed;                       /* resolutions given up */
	uint64_t nd_entries;                      /* in the neighbour cache now */
	uint64_t datagrams6_in, datagrams6_out;   /* of datagrams_in/_out: IPv6 */
	/* Datagrams handed on with their checksum known good (csum_trust,
	 * issue 16 item 2): neither completed (unless captured) nor verified
	 * by the stack. */
	uint64_t csum_trusted;
};
/* Copies the link's counters into *out. */
void synack_link_stats(const struct synack_link *l, struct synack_link_stats *out);

/*
 * The device's queue: the frames the kernel holds for the link to read.
 * When the link does not read them fast enough (a burst of connections,
 * a loaded machine) the kernel drops what does not fit and counts it as
 * the device's tx_dropped; its senders find out at their retransmission
 * timeouts.  synack_link_txqueuelen() returns the device's txqueuelen, or
 * -ENODEV when the link's name is not a device here (a wrapped
 * descriptor) or another errno of ioctl(2) SIOCGIFTXQLEN negated.
 * synack_link_set_txqueuelen() sets it (SIOCSIFTXQLEN; 1..1000000): 0, -EINVAL,
 * -EPERM (no CAP_NET_ADMIN) or another errno of ioctl(2) negated.
 */
int synack_link_txqueuelen(const struct synack_link *l);
int synack_link_set_txqueuelen(struct synack_link *l, uint32_t len);

/*
 * The kernel's counters of the device (as `ip -s link` and /proc/net/dev
 * show them), counted since the link opened.  The kernel's direction: tx
 * is what it sends to the link, rx what the link writes to it.
 * tx_dropped counts the frames for the link that found the device's queue
 * full (txqueuelen); rx_dropped the link's frames the kernel refused.
 */
struct synack_link_device_stats {
	uint64_t rx_packets, rx_errors, rx_dropped, rx_fifo_errors;
	uint64_t tx_packets, tx_errors, tx_dropped, tx_fifo_errors;
};
/* Copies them into *out: 0, -EINVAL (l or out NULL), -ENODEV (not a device
 * in this network namespace: a wrapped descriptor), or an errno of reading
 * /proc/net/dev negated. */
int synack_link_device_stats(const struct synack_link *l, struct synack_link_device_stats *out);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
