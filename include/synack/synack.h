/*
 * synack: a user-space TCP/IP stack (IPv4, and IPv6 on the way: issue 14).
 *
 * The stack is a pure state machine driven by three inputs: IP datagrams
 * (synack_input), time (synack_advance) and the socket calls below.  It never
 * reads a clock, makes a system call or calls back into user code while a
 * packet is processed; outgoing datagrams, readiness changes and trace records
 * are queued and read by the caller afterwards.
 *
 * Time is a monotonically non-decreasing count of microseconds chosen by the
 * caller.  Socket calls act at the time last given to synack_input() or
 * synack_advance().
 *
 * Every call returns 0 (or a size, or a socket number) on success and a
 * negative errno value on failure; synack_strerror() names it.  Each
 * declaration below lists the values it can return.  Every socket call
 * returns -EINVAL when st is NULL and -EBADF when s is not an open socket;
 * the lists below do not repeat these two.
 */
#ifndef SYNACK_SYNACK_H
#define SYNACK_SYNACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#pragma GCC visibility push(default) /* the API; the rest of libsynack is hidden */
#endif

#define SYNACK_NEVER UINT64_MAX

struct synack_stack;

/* Address families of an endpoint.  IPv4 is 0, so an endpoint written
 * before endpoints had a family (only addr and port set, the rest zero)
 * is still an IPv4 one. */
#define SYNACK_AF_INET 0
#define SYNACK_AF_INET6 1

/*
 * An endpoint: an address and a port, the port in host byte order.  For
 * SYNACK_AF_INET the address is addr, in host byte order (10.0.0.1 is
 * 0x0a000001); for SYNACK_AF_INET6 it is addr6, the 16 bytes in network
 * order, and addr is 0.  Initialise every field (e.g. `= {0}` or a
 * designated initialiser): the family decides which address is read.
 * An IPv6 endpoint speaks IPv6 when the stack has an IPv6 address
 * (synack_config.addr6); an IPv4-mapped one (::ffff:a.b.c.d) is the IPv4
 * address it maps.
 */
struct synack_endpoint {
	uint32_t addr;
	uint16_t port;
	uint8_t family; /* SYNACK_AF_INET (0) or SYNACK_AF_INET6 */
	uint8_t addr6[16];
};

/* ------------------------------------------------------------------ */
/* Configuration.  Names mirror the Linux sysctls where one exists.    */

struct synack_config {
	uint32_t addr;      /* this host's IPv4 address, host byte order (required) */
	uint8_t secret[16]; /* key for ISNs (RFC 6528), ports (RFC 6056), hashes */
	uint32_t mtu;       /* link MTU; MSS = mtu - 40 (default 1500) */
	uint8_t ttl;        /* IPv4 TTL of datagrams we send (default 64) */

	uint32_t time_wait_ms;          /* TIME_WAIT length, 2*MSL (default 60000) */
	uint32_t fin_timeout_ms;        /* orphaned FIN_WAIT_2 lifetime (default 60000) */
	uint32_t close_wait_timeout_ms; /* abort CLOSE_WAIT after this; 0 = never (default 0) */
	uint32_t syn_retries;           /* SYN retransmissions before -ETIMEDOUT (default 6) */
	uint32_t synack_retries;        /* SYN-ACK retransmissions (default 5) */
	uint32_t orphan_retries;        /* retransmissions of an orphan's FIN (default 8) */
	uint32_t retries2; /* retransmissions of data/FIN while the app holds the socket (15) */
	uint32_t rto_initial_ms; /* RFC 6298 2.1 initial RTO (default 1000) */
	uint32_t rto_min_ms;     /* lower bound of the RTO (default 200) */
	uint32_t rto_max_ms;     /* upper bound of the RTO (default 120000) */
	uint32_t max_orphans;    /* closed-but-not-finished connections (default 65536) */
	uint32_t max_tw_buckets; /* TIME_WAIT records (default 262144) */
	uint32_t somaxconn;      /* cap on a listen() backlog (default 4096) */
	/* The initial SO_RCVBUF and SO_SNDBUF in bytes, Linux's tcp_rmem[1] and
	 * tcp_wmem[1] (defaults 65536, 65536); rcvbuf and sndbuf are their
	 * older names, kept for programs and `--set` that use them.  Linux's
	 * tcp_rmem[1] is 131072, but it counts buffer overhead and advertises
	 * half of it (tcp_adv_win_scale 1): a 64 KiB window.  synack counts
	 * payload bytes, so 65536 opens with the window Linux opens with, and
	 * a request read before our first ACK does not draw a window update
	 * (the window the SYN-ACK offered, 65535, is already all of it). */
	union {
		uint32_t rmem_default;
		uint32_t rcvbuf;
	};
	union {
		uint32_t wmem_default;
		uint32_t sndbuf;
	};
	uint16_t ephemeral_port_min; /* ip_local_port_range (default 32768) */
	uint16_t ephemeral_port_max; /* (default 60999) */
	uint32_t trace_capacity;     /* trace ring entries; 0 disables tracing (default 4096) */
	uint32_t outbox_max;         /* queued outgoing datagrams before drops (default 4096) */

	/* Data transfer (RFC 5681, RFC 6928, RFC 1122 4.2.3.2, RFC 9293 3.8.6). */
	uint32_t delack_ms; /* delayed-ACK timeout; 0 acknowledges at once (default 40) */
	uint32_t init_cwnd; /* initial window in segments, RFC 6928 (default 10) */
	/* "cubic" (RFC 9438; the default) or "reno" (NewReno, RFC 5681 + RFC
	 * 6582); a socket may pick its own with SYNACK_TCP_CONGESTION. */
	char congestion_control[16];
	uint32_t keepalive_time_ms;  /* idle time before the first keepalive (default 7200000) */
	uint32_t keepalive_intvl_ms; /* between unanswered keepalives (default 75000) */
	uint32_t keepalive_probes;   /* unanswered keepalives before -ETIMEDOUT (default 9) */

	/* Hostile networks (RFC 4987, RFC 5961, RFC 1337; docs/BEHAVIOUR.md). */
	/* Half-open connections a listener holds, tcp_max_syn_backlog; the SYN
	 * queue of a listener holds min(backlog, max_syn_backlog) (default 4096). */
	uint32_t max_syn_backlog;
	/* SYN cookies (RFC 4987) as Linux's tcp_syncookies: 0 never, 1 when a
	 * listener's SYN queue is full, 2 always (default 1). */
	uint32_t syncookies;
	/* A handshake completing while the accept queue is full: 0 drops the
	 * ACK (the peer retransmits), 1 answers with a RST (default 0). */
	uint32_t abort_on_overflow;
	/* RFC 5961 section 7: challenge ACKs a connection sends per second at
	 * most; 0 = no limit (default 100). */
	uint32_t challenge_ack_limit;
	/* RFC 1337: 1 = a RST in TIME_WAIT is ignored (no assassination);
	 * 0 = handled as RFC 5961 says (default 0, as Linux). */
	uint32_t rfc1337;
	/* Bytes of out-of-order segments the whole stack may hold for
	 * reassembly; past it new out-of-order text is dropped, never in-order
	 * text (default 33554432, at most 2^31). */
	uint32_t ofo_budget;
	/* ICMP (RFC 792, RFC 1122 3.2.2, RFC 1191).  One token bucket limits
	 * every ICMP error we send (echo replies are not limited): it holds
	 * icmp_ratelimit_burst tokens and earns one every icmp_ratelimit_ms;
	 * icmp_ratelimit_ms = 0 turns the limit off.  Linux's per-destination
	 * icmp_ratelimit with its burst of 6, applied to all destinations. */
	uint32_t icmp_ratelimit_ms;    /* one ICMP error token per this many ms (default 1000) */
	uint32_t icmp_ratelimit_burst; /* tokens the bucket holds (default 6) */
	uint32_t min_pmtu; /* a Fragmentation Needed never lowers the path MTU below this (552) */
	/*
	 * Linux's tcp_invalid_ratelimit: a connection answers at most one
	 * unacceptable pure ACK (no data, SYN or FIN) per this many ms with an
	 * ACK of its own (RFC 9293 3.10.7.4 asks for one every time).  Two ends
	 * that disagree about the sequence numbers (after a forged or mangled
	 * segment) would otherwise ACK each other's ACKs forever.  0 answers
	 * every one.  (default 500, at most 60000)
	 */
	uint32_t invalid_ratelimit_ms;
	/*
	 * IPv4 reassembly (RFC 791 3.2, RFC 815; docs/BEHAVIOUR.md).
	 * ipfrag_high_thresh: bytes the datagrams being reassembled may hold
	 * together (their fragments and bookkeeping), as Linux's sysctl of
	 * that name.  A fragment that would pass it evicts the oldest
	 * incomplete datagrams; one whose datagram alone would not fit is
	 * dropped.  0 turns reassembly off: every fragment is dropped.
	 * (default 4194304, at most 2^30)
	 */
	uint32_t ipfrag_high_thresh;
	/* A datagram still incomplete this long after its first fragment
	 * arrived is discarded, with ICMP Time Exceeded (code 1) to its sender
	 * when the fragment at offset 0 came.  Linux's ipfrag_time (30 s; RFC
	 * 1122 3.3.2 suggests 60 to 120 s).  (default 30000, 1..3600000) */
	uint32_t ipfrag_time_ms;
	/* Fragments one datagram may arrive in; one more discards it.  Keeps
	 * the sorted insert of a hostile order (every fragment placed before
	 * all those held) bounded, as FreeBSD's maxfragsperpacket does: 64
	 * covers 64 KiB at the IPv6 minimum MTU, 1280.  (default 64, 1..8192) */
	uint32_t ipfrag_max_frags;

	/* CUBIC and HyStart++ (RFC 9438, RFC 9406). */
	/* HyStart++ in the initial slow start: leave it on a delay increase,
	 * before the queue overflows (default 1; 0 is standard slow start). */
	uint32_t hystart;
	/*
	 * RFC 7323 and the socket buffers (docs/BEHAVIOUR.md), named as Linux's
	 * sysctls.  window_scaling, timestamps: 1 = our SYN offers the option
	 * (a peer's offer is taken only then), 0 = never (default 1 each).
	 * rmem_max (Linux's tcp_rmem[2]) decides the window scale we announce
	 * and is as far as autotuning grows a receive buffer; wmem_max the
	 * same for send buffers.  rmem_min and wmem_min (tcp_rmem[0],
	 * tcp_wmem[0]) are the floors Linux keeps under memory pressure;
	 * synack has no such mode yet and only checks them.  1 <= *_min <=
	 * *_max <= 2^30 (defaults 4096, 6291456; wmem 4096, 4194304); an
	 * initial size above *_max is allowed: that buffer does not grow.
	 */
	uint32_t window_scaling;
	uint32_t timestamps;
	uint32_t rmem_min, rmem_max;
	uint32_t wmem_min, wmem_max;

	/* ECN (RFC 3168; docs/BEHAVIOUR.md), as Linux's tcp_ecn: 0 never; 1
	 * ask for it in our SYNs and accept it in the peer's; 2 accept it
	 * when the peer asks, never ask (default 2).  A SYN asking for ECN
	 * is answered whatever this says, with ECN or without. */
	uint32_t ecn;
	/* Linux's tcp_ecn_fallback: 1 = a SYN sent again after a timeout no
	 * longer asks for ECN (RFC 3168 6.1.1.1: a middlebox may drop
	 * ECN-setup SYNs), 0 = every SYN asks (default 1). */
	uint32_t ecn_fallback;
	/* SACK and loss recovery (RFC 2018, RFC 2883, RFC 6675; issue 13).
	 * sack: offer and accept SACK-permitted and SACK blocks, Linux's
	 * tcp_sack (0 or 1, default 1).  dsack: report duplicate segments as
	 * the first SACK block, tcp_dsack (0 or 1, default 1). */
	uint32_t sack;
	uint32_t dsack;
	/* reordering: segments the network is assumed to reorder by, RFC
	 * 6675's DupThresh, Linux's tcp_reordering (1..300, default 3): the
	 * initial value; each connection raises its own when it sees more
	 * reordering (a late delivery, an undone recovery), up to
	 * max_reordering, and goes back to this on a timeout. */
	uint32_t reordering;
	/* recovery: loss detection beyond RFC 6675, Linux's tcp_recovery:
	 * bit 1 (value 1) = RACK-TLP (RFC 8985) on connections with SACK
	 * (0..1, default 1). */
	uint32_t recovery;
	/* frto: F-RTO (RFC 5682) detects a spurious retransmission timeout
	 * and undoes it, Linux's tcp_frto: 0 off, 1 or 2 on (2, Linux's
	 * default, its SACK-enhanced form; both are that here, on
	 * connections with SACK) (default 2). */
	uint32_t frto;
	/* Routing (issue 17 items 1 and 4; docs/BEHAVIOUR.md "Addresses and
	 * routes").  prefix_len: the on-link prefix of addr, its connected
	 * route (0..32; default 0: every destination is on-link, as a stack
	 * with one address always took it; `synack serve`/`connect` give the
	 * link's, /24 unless --addr says otherwise).  max_addrs: the
	 * addresses a stack holds, addr included (1..256, default 16).
	 * max_routes: its routes, connected ones included (1..4096, default
	 * 64). */
	uint32_t prefix_len;
	uint32_t max_addrs;
	uint32_t max_routes;
	/* Quick-ACK mode (issue 17 item 11), as Linux's: the first data of a
	 * connection, and data after an idle period longer than the RTO, are
	 * acknowledged at once, not delayed, for up to this many ACKs (fewer
	 * when the window holds fewer pairs of segments), until the exchange
	 * looks like request/response, where ACKs wait to ride on replies.
	 * Linux's TCP_MAX_QUICKACKS; 0 turns the mode off (0..255, default
	 * 16).  SYNACK_TCP_QUICKACK acts on it per socket. */
	uint32_t max_quickacks;

	/* IPv6 (issue 14).  The stack's IPv6 address, 16 bytes in network
	 * order; all zero (the default) = none: IPv6 datagrams are dropped as
	 * not for us and IPv6 endpoints refused with -EADDRNOTAVAIL.  A unicast
	 * address: not ::, ::1, multicast (ff00::/8) or IPv4-mapped.  Datagrams
	 * we send over IPv6 carry hop limit ttl. */
	uint8_t addr6[16];

	/* TCP Fast Open (RFC 7413; docs/BEHAVIOUR.md), Linux's tcp_fastopen
	 * bits: 0x1 client (SYNACK_TCP_FASTOPEN_CONNECT), 0x2 server (a
	 * listener with SYNACK_TCP_FASTOPEN), 0x4 the client sends data in
	 * its SYN without a cookie, 0x200 the server takes SYN data without
	 * a cookie, 0x400 every listener takes TFO, its backlog as the queue
	 * length (default 1, the client).  Other bits are refused. */
	uint32_t fastopen;
	/* Cookies the client keeps, one per server address, the least
	 * recently used replaced (Linux keeps them in its TCP metrics);
	 * 0..65536 (default 64; 0: no cookie is ever kept). */
	uint32_t fastopen_cache_size;

	/* IPv6 routes (issue 14): the on-link prefix of addr6, its connected
	 * route, as prefix_len is addr's (0..128; default 0: every IPv6
	 * destination is on-link, as a stack with one IPv6 address always
	 * took it).  Ignored without addr6. */
	uint32_t prefix_len6;
	/* Pacing (issue 13; docs/BEHAVIOUR.md), as Linux's internal TCP
	 * pacing without fq: segments leave at a rate of cwnd / SRTT times
	 * pacing_ss_ratio percent in slow start (cwnd below half of
	 * ssthresh), pacing_ca_ratio percent after, instead of in bursts
	 * at the speed of the link.  pacing: 1 on, 0 off (default 1).
	 * pacing_ss_ratio, pacing_ca_ratio: Linux's tcp_pacing_ss_ratio and
	 * tcp_pacing_ca_ratio (defaults 200 and 120, 1..1000). */
	uint32_t pacing;
	uint32_t pacing_ss_ratio;
	uint32_t pacing_ca_ratio;
	/* HyStart++'s exit signals (issue 13, slow start on shallow queues;
	 * docs/BEHAVIOUR.md), bits as Linux's hystart_detect: 1 the delay
	 * increase between rounds (RFC 9406 4.2: into CSS), 2 the same
	 * increase within a round, every 8 RTT samples, for a paced sender
	 * whose queue builds within one round (ends slow start).  0..3,
	 * default 3; hystart 0 turns them all off. */
	uint32_t hystart_detect;
	/* Object caches (issue 16; docs/PERFORMANCE.md): freed TCBs,
	 * sockets, TIME_WAIT records and buffers wait in per-stack caches
	 * for reuse, up to 256 (1024 TIME_WAIT records) per cache or
	 * pool_keep_pct percent of the most objects the cache has had in
	 * use at once, whichever is more (default 100, 0..100; 0: the fixed
	 * counts only).  The pools of datagrams too, small (ACKs, SYNs,
	 * short segments) and MTU-sized: 256 each, or this percent of the
	 * most datagrams the outbox held at once. */
	uint32_t pool_keep_pct;
	/* Memory (issue 16 item 4): the datagrams a stack keeps for reuse
	 * (by pool_keep_pct) that no send took during a
	 * whole period of this length go back to the allocator, so an idle
	 * stack holds none;
	 * 0 = keep them (0..3600000 ms, default 1000). */
	uint32_t packet_pool_trim_ms;
	/* Memory (issue 16 item 4, idle endpoints): the objects the caches
	 * of pool_keep_pct keep (TCBs, sockets, TIME_WAIT records, buffers)
	 * that no allocation took during a whole period of this length go
	 * back to the allocator, as the datagrams of packet_pool_trim_ms do;
	 * 0 = keep them (0..3600000 ms, default 1000). */
	uint32_t pool_trim_ms;
	/* Bulk receive (issue 16 item 2; docs/PERFORMANCE.md, branch
	 * taprecv): 1 (default) lets the ACK of a segment of more than one
	 * MSS (GRO, a TAP's TSO super-segments) whose text waits unread in
	 * the buffer wait for the application's read, which then sends one
	 * ACK with the window it opened, as Linux does (__tcp_ack_snd_check,
	 * tcp_cleanup_rbuf); delack_ms bounds the wait.  Segments of one MSS,
	 * and sockets with SO_RCVLOWAT above 1, are acknowledged as with 0:
	 * every second full-sized segment at once (RFC 1122 4.2.3.2), read
	 * or not. */
	uint32_t ack_on_read;
	/* The most a connection raises its DupThresh to for reordering it
	 * saw, in segments (reordering above), Linux's tcp_max_reordering
	 * (reordering..300, default 300). */
	uint32_t max_reordering;
};
/* The bits of synack_config.fastopen (Linux's TFO_* flags). */
#define SYNACK_FASTOPEN_CLIENT 0x1
#define SYNACK_FASTOPEN_SERVER 0x2
#define SYNACK_FASTOPEN_CLIENT_NO_COOKIE 0x4
#define SYNACK_FASTOPEN_SERVER_NO_COOKIE 0x200
#define SYNACK_FASTOPEN_SERVER_ALL 0x400
#define SYNACK_FASTOPEN_BITS 0x607
/* The bits of synack_config.hystart_detect (issue 13). */
#define SYNACK_HYSTART_DETECT_DELAY 0x1       /* RFC 9406 4.2, between rounds */
#define SYNACK_HYSTART_DETECT_ROUND_DELAY 0x2 /* within a round, paced */
#define SYNACK_HYSTART_DETECT_ALL 0x3

/* Fills *cfg with the defaults above (secret all zero, addr 0). */
void synack_config_default(struct synack_config *cfg);
/*
 * Checks a configuration.  Returns 0 or -EINVAL and, when err is not NULL,
 * writes a sentence naming the bad setting into err.  Nothing is clamped.
 */
int synack_config_check(const struct synack_config *cfg, char *err, size_t errlen);

/*
 * Creates a stack.  Returns NULL and sets *error (if not NULL) to a negative
 * errno: -EINVAL for a bad configuration, -ENOMEM when out of memory.
 */
struct synack_stack *synack_stack_new(const struct synack_config *cfg, int *error);
/* Frees the stack and everything it holds, NULL is ignored.  Connections end
 * without a segment being sent, and queued datagrams are discarded. */
void synack_stack_free(struct synack_stack *st);

/* ------------------------------------------------------------------ */
/* Packets and time.                                                   */

/*
 * Hands one IP datagram (IPv4, or IPv6 by its version) to the stack at time
 * now.  Returns 0 when it was accepted for processing, or a positive
 * synack_drop reason when it was dropped (the drop is also counted and
 * traced); -EINVAL when st is NULL.
 * A NULL pkt is taken as an empty datagram (ip_truncated).
 */
int synack_input(struct synack_stack *st, uint64_t now, const void *pkt, size_t len);
/*
 * As synack_input, with what the link knows of the datagram (issue 16
 * item 2), as Linux's skb->ip_summed:
 * SYNACK_INPUT_CSUM_UNNECESSARY: the TCP checksum is known to be right and
 * is not summed again (counted in InCsumTrusted): the device verified it
 * (Linux's CHECKSUM_UNNECESSARY, virtio's DATA_VALID), or the datagram
 * comes from the local kernel with a partial checksum and never crossed a
 * wire (CHECKSUM_PARTIAL, virtio's NEEDS_CSUM, which Linux's receive path
 * also takes as verified).  Only a TCP segment in one piece is taken so:
 * the IPv4 header checksum, ICMP and datagrams put together from fragments
 * are verified as ever.  synack_link_recv_ref() says when it applies.
 * Returns what synack_input returns, or -EINVAL for an unknown flag.
 */
#define SYNACK_INPUT_CSUM_UNNECESSARY 0x1u
int synack_input_flags(struct synack_stack *st, uint64_t now, const void *pkt, size_t len,
                       unsigned flags);
/*
 * As synack_input_flags, where the datagram lies inside block, size bytes
 * from malloc() that the caller lends (issue 16 item 2, the zero-copy
 * receive queue): TCP text that arrives in order and fills at least half
 * of the block stays there until the application reads it, as Linux keeps
 * skbs on its receive queue, and is charged to the receive buffer at the
 * block's size.  *kept (not NULL) says on return whether the stack kept
 * the block: then it is the stack's, freed with free() once read, and the
 * caller must neither touch nor free it; else it is still the caller's.
 * A block of NULL is synack_input_flags.  Returns what synack_input_flags
 * returns (-EINVAL also for kept NULL, or pkt, len not inside the block).
 */
int synack_input_block(struct synack_stack *st, uint64_t now, const void *pkt, size_t len,
                       unsigned flags, void *block, size_t size, int *kept);
/*
 * A block of size bytes from malloc() that the stack kept and the
 * application has read, now the caller's to lend again, give to a sending
 * stack's datagram pool (synack_output_give) or free, so that a busy
 * receiver does not allocate a fresh block per datagram; NULL when there
 * is none of that size.  Blocks of the size last asked for are kept for
 * this (asking for another size frees them), as many as the receive
 * queues held at once (at least 128), and given back over pool_trim_ms
 * when unused.
 */
void *synack_block_spare(struct synack_stack *st, size_t size);
/*
 * Tells the stack at time now that the link cannot reach dst (only its
 * address is read): its neighbour resolution failed, as when ARP gets no
 * answer (Linux: the neighbour goes FAILED).  Every connection to dst, or
 * routed through dst as its gateway (synack_route_add), takes
 * err as for an ICMP host unreachable (RFC 1122 4.2.3.9): one in SYN_SENT
 * fails at once with err (cause neigh_failed), one in SYN_RECEIVED goes
 * back to LISTEN, a synchronized one keeps err as a soft error, reported
 * instead of -ETIMEDOUT if it later times out.  Counted in NeighResFailed;
 * a report no connection was waiting on is also dropped as neigh_no_conn.
 * err is a negative errno, normally -EHOSTUNREACH.  Returns the number of
 * connections to dst (0: ignored), -EINVAL (st or dst NULL, err not a
 * negative errno, an unknown family).
 */
int synack_unreachable(struct synack_stack *st, uint64_t now, const struct synack_endpoint *dst,
                       int err);
/*
 * Copies the next queued outgoing datagram into buf.  Returns its length, 0
 * when nothing is queued, -EMSGSIZE when buf is NULL or cap is too small (it
 * stays queued), or -EINVAL when st is NULL.
 */
ssize_t synack_output(struct synack_stack *st, void *buf, size_t cap);
/* Number of datagrams waiting in the outbox. */
size_t synack_output_pending(const struct synack_stack *st);
/*
 * As synack_output without the copy (issue 16 item 4), for a link that
 * keeps the datagram until it delivers it (the simulator): takes the
 * oldest queued datagram out of the stack and points *pkt at it.  Its
 * bytes then belong to the caller, which may change them, until it gives
 * them back with synack_output_done(st, *pkt) to the stack they came from
 * (its pool of datagram buffers reuses them), or with st NULL, which only
 * frees them (after the stack itself was freed, too).  Returns the
 * length, 0 when nothing is queued, -EINVAL (st or pkt NULL).
 */
ssize_t synack_output_take(struct synack_stack *st, void **pkt);
void synack_output_done(struct synack_stack *st, void *pkt);
/*
 * For a link that delivers a datagram it took (synack_output_take) to
 * another stack in memory, as the simulator does: the block from malloc()
 * that holds pkt, its first byte returned and its bytes in *size, to lend
 * to the receiver with synack_input_block; NULL (and *size untouched) when
 * the datagram is of the small class (control segments and short text,
 * which a receiver copies anyway) or an argument is NULL.  A block the
 * receiver kept is no longer st's (nor to be given back with
 * synack_output_done): it belongs to the receiver, and st's pool is made
 * whole again with synack_output_give.
 */
void *synack_output_block(const struct synack_stack *st, const void *pkt, size_t *size);
/* The size of the blocks synack_output_block gives (fixed by cfg.mtu), 0
 * for a NULL st: a datagram shorter than half of it is never kept by a
 * receiver (the half-block rule of synack_input_block), so a link need
 * not ask to lend it. */
size_t synack_output_block_size(const struct synack_stack *st);
/*
 * Ends a datagram of st's (synack_output_take) that a receiver kept
 * (synack_output_block, synack_input_block), as synack_output_done ends
 * one that came back: every datagram taken ends with exactly one of the
 * two, which is how st sizes its pool to what is in flight.  In its place
 * st gets block, size bytes from malloc() (normally one a receiver read
 * out, synack_block_spare; NULL when there is none) for its pool of
 * datagram buffers, so that lending a datagram's buffer costs no malloc
 * in st and no free in the receiver.  A block of a size other than st's
 * datagram blocks (synack_output_block), or any block when st is NULL, is
 * freed.
 */
void synack_output_give(struct synack_stack *st, void *block, size_t size);
/* Moves the stack's clock to now (never backwards) and runs every timer due
 * at or before it. */
void synack_advance(struct synack_stack *st, uint64_t now);
/* Earliest time a timer is due, or SYNACK_NEVER. */
uint64_t synack_next_deadline(const struct synack_stack *st);
/* The time the stack last saw. */
uint64_t synack_now(const struct synack_stack *st);
/* The stack's IPv4 address (host byte order): cfg.addr, the first of its
 * addresses (synack_addrs lists them all). */
uint32_t synack_stack_addr(const struct synack_stack *st);
/* Copies the stack's first IPv6 address (cfg.addr6, else the first one
 * synack_addr_add gave it) to out; returns 1, or 0 when the stack has none
 * (or st or out is NULL). */
int synack_stack_addr6(const struct synack_stack *st, uint8_t out[16]);

/* ------------------------------------------------------------------ */
/* Addresses and routes (issue 17 items 1 and 4).                      */

/*
 * A stack has one or more addresses and a small routing table, looked up
 * by longest prefix match (RFC 1122 3.3.1).  cfg.addr is the first address,
 * with its on-link ("connected") route of cfg.prefix_len; every address
 * added brings its own.  A route sends what matches it to a gateway on a
 * connected prefix, or on-link.  The table decides, for each datagram the
 * stack sends, its next hop (synack_output_via, which links use to resolve
 * the gateway rather than the far destination) and, for each connect(),
 * the source address (the route's: the address on the prefix its gateway
 * is on, RFC 1122 3.3.4.3, as Linux's preferred source); no route makes
 * connect() fail with -ENETUNREACH and a datagram be dropped (no_route,
 * IpOutNoRoutes).  Segments to any of the addresses are accepted, and
 * bind() takes any of them.
 *
 * Destinations that are the stack's own (each address, and 127.0.0.0/8 as
 * on Linux's lo) never reach the link: their datagrams go back into the
 * stack's own input, at the next synack_advance (synack_next_deadline says
 * when: at once), at most 256 per call, so both ends of a connection may
 * live in one stack.  127.0.0.0/8 is reached only that way: such a
 * datagram from the link is not for us.
 *
 * IPv6 (issue 14) shares the table: cfg.addr6 (on-link prefix
 * cfg.prefix_len6) is the first IPv6 address, synack_addr_add adds more,
 * link-local ones (fe80::/64) included; an IPv6 route matches IPv6
 * destinations only (::/0 is IPv6's default, "default" IPv4's).  A stack
 * has one link, so link-local addresses need no zone (scope id): fe80::/10
 * is always on that link (RFC 4861 5.2), and an endpoint carries none.
 * The source of an IPv6 connection is chosen among the stack's IPv6
 * addresses (RFC 6724 5, rules 1, 2 and 8): a link-local source only for
 * a link-local destination, then the longest prefix in common with the
 * destination; no fitting source is no route.  synack_output_via gives an
 * IPv6 datagram's next hop as looked up when it is taken.
 * Tables are bounded by cfg.max_addrs and cfg.max_routes.
 */
struct synack_prefix {
	uint32_t addr;     /* SYNACK_AF_INET: host byte order */
	uint8_t family;    /* SYNACK_AF_INET or SYNACK_AF_INET6 */
	uint8_t len;       /* prefix length: 0..32 for IPv4, 0..128 for IPv6 */
	uint8_t addr6[16]; /* SYNACK_AF_INET6: network order */
};

enum synack_route_kind {
	SYNACK_ROUTE_CONNECTED = 1, /* an address's prefix, on-link */
	SYNACK_ROUTE_ONLINK = 2,    /* added without a gateway */
	SYNACK_ROUTE_GATEWAY = 3,   /* added with a gateway (via) */
};

struct synack_route {
	struct synack_prefix dst;
	struct synack_endpoint via; /* SYNACK_ROUTE_GATEWAY: the gateway (port 0) */
	struct synack_endpoint src; /* the source address connections take (port 0) */
	uint8_t kind;               /* enum synack_route_kind */
};

/*
 * Parses "10.7.0.2/24", "10.7.0.2" (a /32), "default" (0.0.0.0/0),
 * "2001:db8::2/64" or "fe80::1" (a /128; no zone) into *out, host bits
 * kept (an address with its prefix).  Returns 0 or -EINVAL (not a prefix).
 */
int synack_prefix_parse(const char *s, struct synack_prefix *out);
/* Writes "10.7.0.2/24" ("default" for 0.0.0.0/0) or "2001:db8::2/64"
 * (RFC 5952; "::/0"; at most 44 bytes with the NUL) into buf (n bytes) and
 * returns buf ("?" for a NULL p, an unknown family or a length out of
 * range). */
const char *synack_prefix_str(const struct synack_prefix *p, char *buf, size_t n);
/*
 * Adds an address (a->addr or a->addr6) with its on-link prefix (a->len):
 * segments to it are ours from now on, and its connected route is added
 * unless one for that prefix exists.  Returns 0, -EINVAL (NULL, not a
 * unicast address -- for IPv6 not ::, ::1, multicast or IPv4-mapped --,
 * len above 32 or 128, IPv6 on an MTU below 1280), -EEXIST (already ours)
 * or -ENOSPC (max_addrs or max_routes reached).
 */
int synack_addr_add(struct synack_stack *st, const struct synack_prefix *a);
/* Removes an address and its connected route.  Connections using it stay
 * and find out as Linux's do.  0, -EINVAL, -EADDRNOTAVAIL (not ours with
 * that prefix) or -EBUSY (cfg.addr or cfg.addr6, which stay). */
int synack_addr_del(struct synack_stack *st, const struct synack_prefix *a);
/* Copies up to n addresses, cfg.addr first (then cfg.addr6 when set), into
 * out; returns how many the stack has. */
size_t synack_addrs(const struct synack_stack *st, struct synack_prefix *out, size_t n);
/*
 * Adds a route to dst (host bits zero) through the gateway via, or on-link
 * when via is NULL.  Returns 0, -EINVAL (NULL dst, host bits set, a bad
 * gateway address or one of the other family), -EEXIST (a route to dst
 * was added before), -ENETUNREACH (the gateway is not on a connected
 * prefix, as Linux refuses it; an IPv6 link-local one always is) or
 * -ENOSPC (max_routes).
 */
int synack_route_add(struct synack_stack *st, const struct synack_prefix *dst,
                     const struct synack_endpoint *via);
/* Removes the route to exactly dst (an added one before a connected one).
 * 0, -EINVAL or -ESRCH (none). */
int synack_route_del(struct synack_stack *st, const struct synack_prefix *dst);
/* Copies up to n routes into out, in lookup order (longest prefix first);
 * returns how many there are. */
size_t synack_routes(const struct synack_stack *st, struct synack_route *out, size_t n);
/*
 * Looks dst up as a datagram to it would be (like `ip route get`): 0 and
 * *out (for one of our own addresses: kind 0, via and src the address the
 * connection would use; an IPv6 one its RFC 6724 source), -ENETUNREACH
 * (no route, no source, or a broadcast or multicast destination) or
 * -EINVAL.
 */
int synack_route_get(const struct synack_stack *st, const struct synack_endpoint *dst,
                     struct synack_route *out);
/*
 * As synack_output, and sets *next_hop (when not NULL) to the neighbour
 * the datagram goes to: its gateway, or its destination when that is
 * on-link.  A link resolves next_hop (ARP), not the destination.
 */
ssize_t synack_output_via(struct synack_stack *st, void *buf, size_t cap,
                          struct synack_endpoint *next_hop);

/* ------------------------------------------------------------------ */
/* Sockets: BSD semantics, always non-blocking.                        */

#define SYNACK_SHUT_RD 0
#define SYNACK_SHUT_WR 1
#define SYNACK_SHUT_RDWR 2

/*
 * Flags of the send and receive calls, with Linux's MSG_* values (so a
 * program's flags pass through unchanged), defined here so that this
 * header needs no <sys/socket.h>.  The calls are non-blocking whatever
 * the flags say; the blocking helpers of synack/run.h give DONTWAIT and
 * WAITALL their blocking meaning.
 *  PEEK      receive: copy without removing (from SYNACK_SO_PEEK_OFF when
 *            that is set).
 *  DONTWAIT  both: accepted; the calls never wait anyway.
 *  WAITALL   receive: accepted; returns what is there, as a non-blocking
 *            Linux socket does (the run.h helpers wait for all).
 *  MORE      send: more data follows, so a partial last segment waits
 *            (as TCP_CORK, for this call): the next send without it, an
 *            ACK, or the persist timer (at the RTO, at least rto_min_ms)
 *            sends it.
 *  NOSIGNAL  send: accepted; the stack never raises SIGPIPE.
 * Any other bit: -EOPNOTSUPP (Linux ignores unknown bits; an error tells
 * a program that a flag it relies on means nothing here).
 */
#define SYNACK_MSG_PEEK 0x2
#define SYNACK_MSG_DONTWAIT 0x40
#define SYNACK_MSG_WAITALL 0x100
#define SYNACK_MSG_NOSIGNAL 0x4000
#define SYNACK_MSG_MORE 0x8000

/*
 * One piece of a vectored send or receive.  Laid out as POSIX's struct
 * iovec on Linux (base, then len), so an array of those may be passed
 * cast; this header stays free of <sys/uio.h>.
 */
struct synack_iovec {
	void *base;
	size_t len;
};
/* The most pieces one vectored call takes (Linux's UIO_MAXIOV). */
#define SYNACK_IOV_MAX 1024

/*
 * The pending error of a socket is how a connection that ended badly reports
 * why: -ECONNREFUSED (a RST answered our SYN, or ICMP port unreachable),
 * -ECONNRESET (a RST ended an established connection), -ETIMEDOUT
 * (retransmissions, keepalives, the user timeout or close_wait_timeout_ms ran
 * out), the ICMP errors of RFC 1122 3.2.2.1 as Linux maps them (-ENETUNREACH,
 * -EHOSTUNREACH, -EHOSTDOWN, -ENONET, -ENOPROTOOPT, -EOPNOTSUPP, -EPROTO),
 * either at once during the handshake or instead of -ETIMEDOUT after it, and
 * -ENOMEM when data received before the end was lost for want of memory.
 */

/* Creates a socket (the lowest free number).  Returns it, or -EMFILE (2^20
 * sockets are open), -ENOMEM, -EINVAL. */
int synack_socket(struct synack_stack *st);
/*
 * Names the socket's local end: the address is the unspecified one of its
 * family (0, ::) or the stack's address of that family, and makes the
 * socket one of that family; port 0 picks an ephemeral port at listen() or
 * connect().  A listener takes connections of its own family, and one
 * bound to :: IPv4 ones too unless SYNACK_IPV6_V6ONLY is set (Linux's
 * default).
 * Returns 0, -EINVAL (local is NULL or of no known family, or the socket
 * is bound or in use already), -EADDRNOTAVAIL (another address),
 * -EADDRINUSE (the port is taken; see SYNACK_SO_REUSEADDR), -ENOMEM.
 */
int synack_bind(struct synack_stack *st, int s, const struct synack_endpoint *local);
/*
 * Makes s a listener with a backlog capped at somaxconn (at least 1); on a
 * listener it only changes the backlog.  Returns 0, -EINVAL (the socket is
 * connected or connecting), -EADDRNOTAVAIL (no ephemeral port is free),
 * -EADDRINUSE (another socket listens on the port), -ENOMEM.
 */
int synack_listen(struct synack_stack *st, int s, int backlog);
/* Takes the oldest established connection off the listener's queue and fills
 * *peer (if not NULL).  Returns the new socket, -EAGAIN when no connection is
 * ready, -EINVAL (s is not listening), -EMFILE, -ENOMEM. */
int synack_accept(struct synack_stack *st, int s, struct synack_endpoint *peer);
/*
 * Starts an active open: the SYN is queued at once.  Returns -EINPROGRESS
 * when it started (readiness says when it ends; synack_socket_error() says
 * how), -EINVAL (peer is NULL or of no known family, has port 0 or address
 * 0, or s listens), -EAFNOSUPPORT (s was bound in the other family),
 * -EALREADY (a handshake is under way), -EISCONN (connected, or connected
 * once: a socket is not reused), -ENETUNREACH (peer is the broadcast address
 * 255.255.255.255 or multicast, 224.0.0.0/4, as Linux answers; a subnet's
 * broadcast address is not known to the stack; an IPv6 peer that is
 * multicast, or any IPv6 peer when the stack has no IPv6 address),
 * -EADDRNOTAVAIL (no ephemeral
 * port is free), -EADDRINUSE (the 4-tuple exists), -ENOMEM.
 */
int synack_connect(struct synack_stack *st, int s, const struct synack_endpoint *peer);
/*
 * Queues up to len bytes for sending (in SYN_SENT and SYN_RECEIVED too; they
 * go once the connection is established).  Returns the bytes queued (less
 * than len when the send buffer fills; 0 for len 0), -EAGAIN when the send
 * buffer is full, the pending error (once, then cleared), -ENOTCONN (never
 * connected, or listening), -EPIPE (shut for writing, or the connection has
 * sent its FIN or ended), -EINVAL (buf is NULL with len > 0).
 */
ssize_t synack_send(struct synack_stack *st, int s, const void *buf, size_t len);
/*
 * sendmsg(2) without an address: queues the pieces in order, as one send
 * of their total length, and sends what the windows allow.  flags:
 * SYNACK_MSG_DONTWAIT, _MORE, _NOSIGNAL.  Returns what synack_send()
 * returns, the bytes queued (those of the first pieces, then part of one,
 * when the buffer fills), and -EOPNOTSUPP (another flag), -EMSGSIZE
 * (iovcnt < 0 or > SYNACK_IOV_MAX), -EINVAL (iov NULL with iovcnt > 0, a
 * piece with base NULL and len > 0, or a total above SSIZE_MAX), checked
 * in that order before the socket's state.
 */
ssize_t synack_sendv(struct synack_stack *st, int s, const struct synack_iovec *iov, int iovcnt,
                     int flags);
/*
 * Copies up to len received bytes into buf and, without SYNACK_MSG_PEEK,
 * removes them (which may open the window to the peer).  Data received before
 * the connection ended stays readable after it.  Returns the bytes copied, 0 at
 * the end of the stream (the peer's FIN, SHUT_RD, or an ended connection fully
 * read), -EAGAIN when nothing is there yet, the pending error (once, after the
 * data), -ENOTCONN (never connected, or listening), -EOPNOTSUPP (a flag other
 * than SYNACK_MSG_PEEK, _DONTWAIT, _WAITALL), -EINVAL (buf is NULL with
 * len > 0).  With SYNACK_SO_PEEK_OFF set, a peek past the unread bytes
 * returns -EAGAIN (0 at the end of the stream).
 */
ssize_t synack_recv(struct synack_stack *st, int s, void *buf, size_t len, int flags);
/*
 * recvmsg(2) without control data: fills the pieces in order, as one
 * synack_recv() of their total length (flags as there: SYNACK_MSG_PEEK,
 * _DONTWAIT, _WAITALL).  Returns what synack_recv() returns, and
 * -EMSGSIZE (iovcnt < 0 or > SYNACK_IOV_MAX), -EINVAL (iov NULL with
 * iovcnt > 0, a piece with base NULL and len > 0, a total above
 * SSIZE_MAX), checked after the flags.
 */
ssize_t synack_recvv(struct synack_stack *st, int s, const struct synack_iovec *iov, int iovcnt,
                     int flags);
/*
 * SYNACK_SHUT_RD discards unread and future data (recv returns 0);
 * SYNACK_SHUT_WR sends a FIN after the queued data (RFC 9293 3.10.4 CLOSE,
 * the socket stays open for reading); SYNACK_SHUT_RDWR does both.  Returns 0,
 * -EINVAL (another how), -ENOTCONN (no connection, or listening).
 */
int synack_shutdown(struct synack_stack *st, int s, int how);
/*
 * Releases the socket.  Graceful (a FIN follows the queued data) unless
 * SO_LINGER is on with a zero timeout or unread data is pending, which abort
 * the connection with a RST (RFC 9293 3.10.5, RFC 1122 4.2.2.13).  Closing a
 * listener resets the established connections it has not handed out yet and
 * forgets the half-open ones.  Returns 0 (the connection goes on
 * in the stack as an orphan), or -EBADF, -EINVAL.
 */
int synack_close(struct synack_stack *st, int s);
/* Pending error of the socket (SO_ERROR), cleared by reading it: 0 or one of
 * the values listed above; -EBADF, -EINVAL for a bad s or st. */
int synack_socket_error(struct synack_stack *st, int s);
/* The local end: the stack's address once the socket is named (address 0
 * before), the port (0 until one is bound or picked).  Returns 0 or -EINVAL
 * (local is NULL). */
int synack_getsockname(struct synack_stack *st, int s, struct synack_endpoint *local);
/* The remote end of a socket that connected or was accepted (also after the
 * connection ended).  Returns 0, -ENOTCONN, -EINVAL (peer is NULL). */
int synack_getpeername(struct synack_stack *st, int s, struct synack_endpoint *peer);

enum synack_sockopt {
	SYNACK_SO_LINGER = 1, /* int: -1 off, >= 0 linger seconds (0 aborts) */
	/* int bytes; read: the buffer now (autotuning grows it).  Set on a
	 * connection, at most what its window scale expresses, 65535 <<
	 * shift (RFC 7323 2.2: the shift is fixed by the SYNs): a larger
	 * size is cut to that, and reading it back tells so. */
	SYNACK_SO_RCVBUF,
	SYNACK_SO_SNDBUF,        /* int bytes; read: the buffer now (autotuning grows it) */
	SYNACK_SO_REUSEADDR,     /* int 0/1 */
	SYNACK_TCP_NODELAY,      /* int 0/1 */
	SYNACK_TCP_MAXSEG,       /* int bytes, before connect/listen */
	SYNACK_SO_ERROR,         /* int, read only */
	SYNACK_SO_KEEPALIVE,     /* int 0/1: probe an idle connection (default off) */
	SYNACK_TCP_KEEPIDLE,     /* int ms of idleness before the first probe (keepalive_time_ms) */
	SYNACK_TCP_KEEPINTVL,    /* int ms between probes (keepalive_intvl_ms) */
	SYNACK_TCP_KEEPCNT,      /* int unanswered probes before -ETIMEDOUT (keepalive_probes) */
	SYNACK_TCP_USER_TIMEOUT, /* int ms data may stay unacknowledged; 0 = retries2 rules */
	/* Congestion control (CUBIC): */
	SYNACK_TCP_CONGESTION, /* name ("cubic", "reno"): synack_setsockopt_str only */
	/* Socket calls (issue 17 item 11), as Linux's: */
	/* int bytes >= 0 (0 is taken as 1): readable (SYNACK_POLLIN, the
	 * run.h receive helpers) once this many bytes are unread, or at the
	 * end or an error; a plain synack_recv() returns what is there.  At
	 * most half the receive buffer counts, so it can always be met. */
	SYNACK_SO_RCVLOWAT,
	/* int: writable (SYNACK_POLLOUT) only while fewer than this many
	 * queued bytes are unsent; 0 (the default) or negative: no limit. */
	SYNACK_TCP_NOTSENT_LOWAT,
	/* int >= 0: MSG_PEEK reads from this offset into the unread bytes and
	 * moves it on by what it copied; reads move it back by what they
	 * remove (not below 0).  Negative (the default, -1): off. */
	SYNACK_SO_PEEK_OFF,
	/* int 0/1: hold partial segments until uncorked, a segment fills, the
	 * FIN, or the persist timer (at the RTO, at least rto_min_ms: Linux's
	 * 200 ms ceiling).  Uncorking sends what waits, Nagle permitting. */
	SYNACK_TCP_CORK,
	/* int: 1 leaves request/response mode (ACKs go at once until the
	 * exchange looks like it again) and sends a delayed ACK now; 0 delays
	 * ACKs (max_quickacks says when they go at once).  Reads 1 unless in
	 * request/response mode.  Not sticky, as on Linux. */
	SYNACK_TCP_QUICKACK,
	/* int 0/1, Linux's TCP_INQ.  synack has no control messages: the
	 * count itself is synack_ioctl(SYNACK_SIOCINQ). */
	SYNACK_TCP_INQ,
	/* IPv6 (issue 14): */
	SYNACK_IPV6_V6ONLY, /* int 0/1, before listen: 1 = a socket bound to :: takes IPv6 only;
	                       0 (default, Linux's bindv6only) IPv4 too, peers ::ffff:a.b.c.d */
	/* TCP Fast Open (RFC 7413), as Linux's: */
	SYNACK_TCP_FASTOPEN,         /* int >= 0: a listener takes data in SYNs, at most this many
	                              * connections waiting for their handshake (0 off) */
	SYNACK_TCP_FASTOPEN_CONNECT, /* int 0/1, before connect: with a cookie for the server,
	                              * connect() returns 0 at once and the first send goes
	                              * in the SYN; without, the SYN asks for one */
};
/*
 * Sets an option (enum synack_sockopt); a connection takes a TCP option at
 * once.  Returns 0, -EINVAL (value out of the option's range, or a buffer
 * smaller than the data it holds now), -EISCONN (SYNACK_TCP_MAXSEG after
 * connect or listen), -ENOPROTOOPT (an unknown option, or SYNACK_SO_ERROR,
 * which is read only).
 */
int synack_setsockopt(struct synack_stack *st, int s, int opt, int value);
/* Reads an option into *value (SYNACK_TCP_MAXSEG: the effective send MSS once
 * connected; SYNACK_SO_ERROR takes the pending error).  Returns 0, -EINVAL
 * (value is NULL), -ENOPROTOOPT (an unknown option). */
int synack_getsockopt(struct synack_stack *st, int s, int opt, int *value);
/*
 * The options that take a name (SYNACK_TCP_CONGESTION, as Linux's
 * TCP_CONGESTION): set by name, which a live connection takes at once (its
 * algorithm starts afresh from the current window) and a listener passes
 * to the connections it makes.  Returns 0, -ENOENT (no algorithm of that
 * name), -EINVAL (value NULL), -ENOPROTOOPT (not an option that takes a
 * name).  synack_setsockopt and synack_getsockopt refuse these with
 * -EINVAL.
 */
int synack_setsockopt_str(struct synack_stack *st, int s, int opt, const char *value);
/* Reads the name into buf, NUL-terminated, cut to len - 1 characters (16
 * always suffices).  Returns 0, -EINVAL (buf NULL or len 0), -ENOPROTOOPT. */
int synack_getsockopt_str(struct synack_stack *st, int s, int opt, char *buf, size_t len);

/*
 * Bytes queued, as the Linux ioctls of the same names (values too):
 * SYNACK_FIONREAD (= SYNACK_SIOCINQ) the unread bytes, also after the
 * connection ended; SYNACK_SIOCOUTQ the bytes queued and not yet
 * acknowledged; SYNACK_SIOCOUTQNSD those of them not yet sent.  0 before a
 * connection exists and during the handshake.  Returns 0, -EINVAL (value
 * NULL, or s listens), -ENOTTY (another request).
 */
#define SYNACK_FIONREAD 0x541B
#define SYNACK_SIOCINQ SYNACK_FIONREAD
#define SYNACK_SIOCOUTQ 0x5411
#define SYNACK_SIOCOUTQNSD 0x894B
int synack_ioctl(struct synack_stack *st, int s, unsigned long request, int *value);

/* Readiness, as poll(2) reports it. */
#define SYNACK_POLLIN 0x001
#define SYNACK_POLLOUT 0x004
#define SYNACK_POLLERR 0x008
#define SYNACK_POLLHUP 0x010
#define SYNACK_POLLRDHUP 0x2000
#define SYNACK_POLLNVAL 0x020 /* synack_run_poll: not an open socket */

/* The socket's readiness (SYNACK_POLL* bits), as poll(2) would report it for
 * a kernel socket; SYNACK_POLLERR for a bad s or st.  Never an errno. */
uint32_t synack_events(struct synack_stack *st, int s);

/*
 * Sockets whose readiness may have changed: data or a FIN arrived, a
 * connection completed or failed, send buffer space freed up, a connection
 * waits to be accepted.  Each is reported once per change with its
 * readiness at the time of reading (so a report may show nothing new; none
 * is ever lost).
 */
struct synack_event {
	int socket;
	uint32_t events; /* synack_events() at the time of reading */
};
/* Returns 1 and fills *ev, or 0 when no socket is waiting to be reported. */
int synack_event_next(struct synack_stack *st, struct synack_event *ev);

/* ------------------------------------------------------------------ */
/* States, connections, counters.                                      */

#define SYNACK_STATES(X)                                                                           \
	X(CLOSED)                                                                                  \
	X(LISTEN)                                                                                  \
	X(SYN_SENT)                                                                                \
	X(SYN_RECEIVED)                                                                            \
	X(ESTABLISHED)                                                                             \
	X(FIN_WAIT_1)                                                                              \
	X(FIN_WAIT_2)                                                                              \
	X(CLOSE_WAIT)                                                                              \
	X(CLOSING)                                                                                 \
	X(LAST_ACK)                                                                                \
	X(TIME_WAIT)

enum synack_state {
#define SYNACK_STATE_ENUM(name) SYNACK_##name,
	SYNACK_STATES(SYNACK_STATE_ENUM)
#undef SYNACK_STATE_ENUM
	    SYNACK_STATE_COUNT
};
/* "ESTABLISHED", "FIN_WAIT_1" ...; "?" for an unknown value. */
const char *synack_state_name(int state);

struct synack_tcp_info {
	int state;               /* enum synack_state; CLOSED once the connection is gone */
	uint64_t state_since_us; /* when the current state was entered */
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_wnd;
	uint32_t rcv_nxt, rcv_wnd;
	uint32_t mss; /* effective send MSS */
	uint32_t rto_us, srtt_us, rttvar_us;
	uint32_t cwnd;          /* congestion window in bytes */
	uint32_t ssthresh;      /* slow-start threshold in bytes */
	int ca_state;           /* enum synack_ca_state */
	uint32_t retransmits;   /* consecutive timeouts (backoff count) */
	uint64_t total_retrans; /* segments retransmitted */
	uint32_t send_queue;    /* bytes queued but not yet acknowledged */
	uint32_t recv_queue;    /* bytes received and not yet read */
	int soft_error;         /* last ICMP soft error (negative errno), 0 when none */
	/* Congestion control (CUBIC, RFC 9438; HyStart++, RFC 9406). */
	char congestion[16]; /* the algorithm's name, as TCP_CONGESTION reads it */
	uint32_t cubic_wmax; /* CUBIC's W_max in bytes (0 before any congestion event) */
	uint32_t cubic_k_ms; /* CUBIC's K, the time from W_max's reduction back to it */
	int hystart;         /* enum synack_hystart (0 for an algorithm without it) */
	/* RFC 7323 and buffer autotuning, named as Linux's tcpi_ fields. */
	uint8_t snd_wscale;      /* the peer's window scale (0 without the option) */
	uint8_t rcv_wscale;      /* ours */
	uint8_t options;         /* SYNACK_TCPI_OPT_* agreed on */
	uint32_t min_rtt;        /* smallest RTT sample, microseconds (0 before one) */
	uint64_t bytes_acked;    /* bytes the peer acknowledged (RFC 4898) */
	uint64_t bytes_received; /* bytes received in order (RFC 4898) */
	uint32_t rcv_space;      /* bytes read in the last measured round trip (autotuning) */
	/* ECN (RFC 3168): SYNACK_TCPI_ECN_* bits. */
	uint32_t ecn;
	/* SACK and loss recovery (issue 13): bytes outstanding that the peer
	 * SACKed, deemed lost and not yet sent again, and sent again and not
	 * yet acknowledged (Linux's tcpi_sacked, tcpi_lost, tcpi_retrans,
	 * which count segments); the reordering the loss detection assumes,
	 * in segments (tcpi_reordering): the reordering setting, or more
	 * once the connection saw the network reorder further. */
	uint32_t sacked, lost, retrans;
	uint32_t reordering;
	/* Payload bytes sent again (Linux's tcpi_bytes_retrans, RFC 4898
	 * tcpEStatsPerfOctetsRetrans). */
	uint64_t bytes_retrans;
	/* Delivery rate (issue 13, draft-cheng-iccrg-delivery-rate-
	 * estimation as Linux's tcp_rate.c): the last rate sample's bytes
	 * per second (Linux's tcpi_delivery_rate; 0 before one), and whether
	 * the application limited it (tcpi_delivery_rate_app_limited). */
	uint64_t delivery_rate;
	uint8_t delivery_rate_app_limited;
};
#define SYNACK_TCPI_ECN_OK 0x1  /* negotiated in the handshake (Linux TCPI_OPT_ECN) */
#define SYNACK_TCPI_ECN_ECE 0x2 /* a CE mark arrived: our ACKs carry ECE until the peer's CWR */
#define SYNACK_TCPI_ECN_CWR 0x4 /* we reduced the window for an ECE; its round trip runs */
/* Where HyStart++ is (RFC 9406). */
enum synack_hystart {
	SYNACK_HYSTART_OFF = 0, /* not in the initial slow start (or turned off) */
	SYNACK_HYSTART_SS,      /* standard slow start, watching the RTT */
	SYNACK_HYSTART_CSS,     /* Conservative Slow Start after a delay increase */
};
/* synack_tcp_info.options: the options the connection agreed on, as
 * Linux's TCPI_OPT_* bits. */
#define SYNACK_TCPI_OPT_TIMESTAMPS 1
#define SYNACK_TCPI_OPT_SACK 2
#define SYNACK_TCPI_OPT_WSCALE 4
#define SYNACK_TCPI_OPT_ECN 8
#define SYNACK_TCPI_OPT_SYN_DATA 32 /* TCP Fast Open: data in the SYN was taken (RFC 7413) */
/* Fills *info for the socket's connection (TIME_WAIT included; state CLOSED
 * once it is gone).  Returns 0 or -EINVAL (info is NULL). */
int synack_tcp_info(struct synack_stack *st, int s, struct synack_tcp_info *info);

/* Where congestion control is (Linux's tcp_ca_state, reduced). */
enum synack_ca_state {
	SYNACK_CA_OPEN = 0, /* slow start or congestion avoidance */
	SYNACK_CA_RECOVERY, /* fast recovery after a fast retransmit (RFC 6582) */
	SYNACK_CA_LOSS,     /* after a retransmission timeout, until the loss is repaired */
};
/* "open", "recovery", "loss"; "?" for an unknown value. */
const char *synack_ca_state_name(int ca_state);

/* One connection as `ss` lists it. */
struct synack_conn {
	struct synack_endpoint local, remote;
	int state;
	uint64_t state_since_us;
	uint32_t send_queue, recv_queue;
	int socket; /* owning socket, -1 for orphans, TIME_WAIT and pending SYNs */
	/* Congestion control (CUBIC): 0 and "" where there is no connection
	 * sending (listeners, TIME_WAIT). */
	uint32_t cwnd;       /* bytes */
	uint32_t srtt_us;    /* smoothed RTT, 0 before a sample */
	char congestion[16]; /* the algorithm */
	uint32_t ssthresh;   /* bytes; UINT32_MAX until a loss sets it */
	/* The delivery rate, bytes per second (synack_tcp_info's; issue 13). */
	uint64_t delivery_rate;
};
typedef void (*synack_conn_fn)(void *ctx, const struct synack_conn *conn);
/* Calls fn for every listener, connection and TIME_WAIT record; returns the count. */
size_t synack_conns(struct synack_stack *st, synack_conn_fn fn, void *ctx);

/* Counters, named as `netstat -s` and the RFC 4022 TCP-MIB name them. */
#define SYNACK_COUNTERS(X)                                                                         \
	X(ActiveOpens)                                                                             \
	X(PassiveOpens)                                                                            \
	X(AttemptFails)                                                                            \
	X(EstabResets)                                                                             \
	X(CurrEstab)                                                                               \
	X(InSegs)                                                                                  \
	X(OutSegs)                                                                                 \
	X(RetransSegs)                                                                             \
	X(InErrs)                                                                                  \
	X(InCsumErrors)                                                                            \
	X(OutRsts)                                                                                 \
	X(InRsts)                                                                                  \
	X(IpInReceives)                                                                            \
	X(IpInHdrErrors)                                                                           \
	X(IpInAddrErrors)                                                                          \
	X(IpInUnknownProtos)                                                                       \
	X(IpReasmReqds)   /* fragments received for reassembly (RFC 4293) */                       \
	X(IpReasmOKs)     /* datagrams reassembled */                                              \
	X(IpReasmFails)   /* fragments dropped, and incomplete datagrams discarded */              \
	X(IpReasmTimeout) /* incomplete datagrams discarded at ipfrag_time_ms */                   \
	X(IpOutRequests)                                                                           \
	X(IpOutDiscards)                                                                           \
	X(IpFragOKs)     /* datagrams we sent in fragments (echo replies above the MTU) */         \
	X(IpFragCreates) /* fragments we made */                                                   \
	X(TimeWaitEntered)                                                                         \
	X(TimeWaitExpired)                                                                         \
	X(TimeWaitRecycled)                                                                        \
	X(TimeWaitOverflow)                                                                        \
	X(FinWait2Timeouts)                                                                        \
	X(CloseWaitTimeouts)                                                                       \
	X(OrphanRetriesExceeded)                                                                   \
	X(OrphanOverflow)                                                                          \
	X(SynRetransTimeouts)                                                                      \
	X(SynAckRetransTimeouts)                                                                   \
	X(DataRetransTimeouts)                                                                     \
	X(ListenOverflows)                                                                         \
	X(ListenDrops)                                                                             \
	X(ChallengeAcks)                                                                           \
	X(SynChallenge)                                                                            \
	X(RstChallenge)                                                                            \
	X(AbortOnData)                                                                             \
	X(AbortOnClose)                                                                            \
	X(AbortOnLinger)                                                                           \
	X(OfoQueued)                                                                               \
	X(DelayedFinQueued)                                                                        \
	X(FastRetrans)                                                                             \
	X(Timeouts)                                                                                \
	X(DelayedACKs)                                                                             \
	X(WinProbes)                                                                               \
	X(KeepAliveProbes)                                                                         \
	X(KeepAliveTimeouts)                                                                       \
	X(UserTimeouts)                                                                            \
	X(SyncookiesSent)                                                                          \
	X(SyncookiesRecv)                                                                          \
	X(SyncookiesFailed)                                                                        \
	X(AckChallenge)                                                                            \
	X(ChallengeAcksLimited)                                                                    \
	X(OfoDrop)                                                                                 \
	X(TimeWaitRstIgnored)                                                                      \
	X(IcmpInMsgs)                                                                              \
	X(IcmpInErrors)                                                                            \
	X(IcmpInCsumErrors)                                                                        \
	X(IcmpInDestUnreachs)                                                                      \
	X(IcmpInTimeExcds)                                                                         \
	X(IcmpInParmProbs)                                                                         \
	X(IcmpInSrcQuenchs)                                                                        \
	X(IcmpInRedirects)                                                                         \
	X(IcmpInEchos)                                                                             \
	X(IcmpInEchoReps)                                                                          \
	X(IcmpOutMsgs)                                                                             \
	X(IcmpOutErrors)                                                                           \
	X(IcmpOutRateLimitGlobal)                                                                  \
	X(IcmpOutDestUnreachs)                                                                     \
	X(IcmpOutTimeExcds)                                                                        \
	X(IcmpOutEchoReps)                                                                         \
	X(OutOfWindowIcmps)                                                                        \
	X(PmtuReductions)                                                                          \
	X(NeighResFailed) /* destinations a link could not resolve (synack_unreachable) */         \
	X(AckSkippedSeq)  /* unacceptable pure ACKs left unanswered (invalid_ratelimit_ms) */      \
	X(TraceLost)                                                                               \
	/* HyStart++ (RFC 9406): */                                                                \
	X(TCPHystartDelayDetect) /* slow starts left on a delay increase */                        \
	X(TCPHystartDelayCwnd)   /* the sum of cwnd (segments) at those exits */                   \
	/* RFC 7323 */                                                                             \
	X(PAWSEstab) /* segments rejected by PAWS (drop reason paws) */                            \
	/* ECN (RFC 3168): datagrams received by their IP ECN codepoint, in                        \
	 * codepoint order (Linux IpExt), and segments the peer reported                           \
	 * congestion-marked with ECE (TcpExt TCPDeliveredCE). */                                  \
	X(IpExtInNoECTPkts)                                                                        \
	X(IpExtInECT1Pkts)                                                                         \
	X(IpExtInECT0Pkts)                                                                         \
	X(IpExtInCEPkts)                                                                           \
	X(TCPDeliveredCE)                                                                          \
	/* SACK and loss recovery (issue 13), as Linux's TcpExt names. */                          \
	X(TCPSACKRecovery)      /* SACK recoveries entered (RFC 6675) */                           \
	X(TCPSACKReorder)       /* a SACK showed reordering beyond what was assumed */             \
	X(TCPSACKDiscard)       /* SACK blocks ignored: outside what is outstanding */             \
	X(TCPDSACKRecv)         /* D-SACK blocks received below the cumulative ACK */              \
	X(TCPDSACKOfoRecv)      /* D-SACK blocks received above it */                              \
	X(TCPDSACKOldSent)      /* D-SACK blocks sent for a duplicate below RCV.NXT */             \
	X(TCPDSACKOfoSent)      /* D-SACK blocks sent for a duplicate of held data */              \
	X(TCPLossProbes)        /* tail loss probes sent (RFC 8985 7) */                           \
	X(TCPLossProbeRecovery) /* losses repaired by a tail loss probe */                         \
	X(TCPSpuriousRTOs)      /* timeouts found spurious (RFC 5682) */                           \
	X(TCPDSACKUndo) /* window reductions undone: D-SACKs showed the recovery spurious */       \
	/* Routing (issue 17 item 1). */                                                           \
	X(IpOutNoRoutes) /* datagrams dropped for want of a route (no_route) */                    \
	/* Undo by timestamps and recovery failures (issue 13, tcpperf). */                        \
	X(TCPFullUndo)         /* recoveries undone by timestamps at their end (RFC 3522) */       \
	X(TCPPartialUndo)      /* recoveries undone by timestamps before their end (RFC 3522) */   \
	X(TCPSackRecoveryFail) /* retransmission timeouts during SACK recovery */                  \
	/* IPv6 and ICMPv6 (issue 14), Linux's /proc/net/snmp6 names */                            \
	X(Ip6InReceives)                                                                           \
	X(Ip6InHdrErrors)                                                                          \
	X(Ip6InAddrErrors)                                                                         \
	X(Ip6InUnknownProtos)                                                                      \
	X(Ip6OutRequests)                                                                          \
	X(Ip6ReasmReqds)                                                                           \
	X(Ip6ReasmFails)                                                                           \
	X(Icmp6InMsgs)                                                                             \
	X(Icmp6InErrors)                                                                           \
	X(Icmp6InCsumErrors)                                                                       \
	X(Icmp6InDestUnreachs)                                                                     \
	X(Icmp6InPktTooBigs)                                                                       \
	X(Icmp6InTimeExcds)                                                                        \
	X(Icmp6InParmProblems)                                                                     \
	X(Icmp6InEchos)                                                                            \
	X(Icmp6InEchoReplies)                                                                      \
	X(Icmp6OutMsgs)                                                                            \
	X(Icmp6OutErrors)                                                                          \
	X(Icmp6OutDestUnreachs)                                                                    \
	X(Icmp6OutTimeExcds)                                                                       \
	X(Icmp6OutParmProblems)                                                                    \
	X(Icmp6OutEchoReplies)                                                                     \
	/* TCP Fast Open (RFC 7413), as Linux's TcpExt names: our SYN's data                       \
	 * acknowledged, or not (sent again after the handshake); SYNs whose                       \
	 * data a listener took with a valid cookie; SYNs with a cookie that                       \
	 * was not valid; SYN data refused because the listener's TFO queue                        \
	 * was full; SYNs that asked for a cookie. */                                              \
	X(TCPFastOpenActive)                                                                       \
	X(TCPFastOpenActiveFail)                                                                   \
	X(TCPFastOpenPassive)                                                                      \
	X(TCPFastOpenPassiveFail)                                                                  \
	X(TCPFastOpenListenOverflow)                                                               \
	X(TCPFastOpenCookieReqd)                                                                   \
	/* IPv6 routes and reassembly (issue 14), as Linux's snmp6 names:                          \
	 * datagrams dropped for want of a route; datagrams put together                           \
	 * from fragments; incomplete ones discarded at ipfrag_time_ms. */                         \
	X(Ip6OutNoRoutes)                                                                          \
	X(Ip6ReasmOKs)                                                                             \
	X(Ip6ReasmTimeout)                                                                         \
	/* HyStart++ on shallow queues (issue 13, hystart_detect 2): slow                          \
	 * starts ended on a delay increase within a round; the sum of cwnd                        \
	 * (segments) at those exits. */                                                           \
	X(TCPHystartRoundDetect)                                                                   \
	X(TCPHystartRoundCwnd)                                                                     \
	/* The checksum state from the link (issue 16 item 2): TCP segments                        \
	 * taken without summing their checksum, which the link vouched for                        \
	 * (synack_input_flags, SYNACK_INPUT_CSUM_UNNECESSARY). */                                 \
	X(InCsumTrusted)                                                                           \
	/* Undo of a spurious timeout (issue 13, undo), as Linux's TcpExt:                         \
	 * loss states undone by timestamps or D-SACKs (F-RTO's too). */                           \
	X(TCPLossUndo)                                                                             \
	/* The zero-copy receive queue (issue 16 item 2, taprx2): segments                         \
	 * whose text stayed in the link's block (synack_input_block) until                        \
	 * read; segments copied behind such a block (as Linux's collapse). */                     \
	X(TCPRcvQueueRef)                                                                          \
	X(TCPRcvCollapsed)

struct synack_stats {
#define SYNACK_COUNTER_FIELD(name) uint64_t name;
	SYNACK_COUNTERS(SYNACK_COUNTER_FIELD)
#undef SYNACK_COUNTER_FIELD
	uint64_t drops[128];     /* by enum synack_drop (128: room for IPv6 and more, issue 14) */
	uint64_t conns_live;     /* TCBs allocated (listeners included) */
	uint64_t time_wait_live; /* TIME_WAIT records held */
	uint64_t orphans_live;   /* TCBs no socket owns */
	uint64_t bytes_buffered; /* payload bytes held in send/receive/reassembly buffers */
};
/* Copies the stack's counters into *out. */
void synack_stats(const struct synack_stack *st, struct synack_stats *out);
/*
 * Memory the stack holds now, in bytes, by what it is for: what the stack
 * allocated (the sizes it asked the allocator for), not the allocator's own
 * overhead.  An idle established connection costs tcbs + sockets (its
 * buffers are released when empty); a TIME_WAIT entry costs time_wait.
 * Freed objects kept for reuse are in cached (and in total): what a set of
 * connections costs is the change in total - cached.
 */
struct synack_mem {
	uint64_t total; /* the sum of the fields below */
	/* TCBs (listeners and connections) past SYN_RECEIVED, with what they
	 * keep out of line (a listener's queues, a child's links until
	 * accepted, state only misbehaving peers or ICMP errors create). */
	uint64_t tcbs;
	uint64_t time_wait;   /* compact TIME_WAIT records */
	uint64_t syn_pending; /* TCBs of half-open connections (SYN_RECEIVED), likewise */
	/* send, receive and reassembly buffers, unread data of closed sockets
	 * (with its holder) */
	uint64_t buffers;
	uint64_t other;   /* the stack object, hash tables, timers, trace ring, queues */
	uint64_t sockets; /* socket objects and the descriptor table */
	/* datagrams in the outbox and the packet free list, fragments held for
	 * reassembly and the last datagram put together from them */
	uint64_t packets;
	/* freed TCBs (and their out-of-line parts), sockets, TIME_WAIT records
	 * and buffers kept for reuse */
	uint64_t cached;
};
/* Fills *out with the memory the stack holds now. */
void synack_memory(const struct synack_stack *st, struct synack_mem *out);
/* Number of counters in SYNACK_COUNTERS (the named fields of synack_stats). */
size_t synack_counter_count(void);
/* Name of counter i in struct order ("ActiveOpens" ...), NULL past the end. */
const char *synack_counter_name(size_t i);
/* Value of counter i in *s, 0 past the end. */
uint64_t synack_counter_value(const struct synack_stats *s, size_t i);

/* ------------------------------------------------------------------ */
/* Why a segment or datagram was dropped.                              */

/*
 * Every drop adds one to synack_stats.drops[SYNACK_DROP_<reason>], and a
 * SYNACK_TRACE_DROP record names it; synack_input() returns it for drops
 * decided before TCP runs (IP, TCP header and ICMP checks).  The MIB counter
 * each reason moves as well, if any, is named in brackets.
 *
 *  NONE                 not a drop (the datagram was accepted).
 *  IP_TRUNCATED         fewer bytes than an IPv4 header, its IHL or its total
 *                       length say [IpInHdrErrors].
 *  IP_BAD_VERSION       the version field is not 4 [IpInHdrErrors].
 *  IP_BAD_IHL           IHL below 5 words [IpInHdrErrors].
 *  IP_BAD_TOTAL_LEN     total length below the header length [IpInHdrErrors].
 *  IP_BAD_CHECKSUM      the IPv4 header checksum fails [IpInHdrErrors].
 *  IP_FRAGMENT          reserved: fragments are reassembled now, and dropped
 *                       only for the FRAG_ reasons below.
 *  IP_NOT_FOR_US        destination is not the stack's address
 *                       [IpInAddrErrors].
 *  IP_BAD_SRC           source is 0/8, broadcast or multicast, RFC 1122
 *                       3.2.1.3 [IpInAddrErrors].
 *  IP_NOT_TCP           neither TCP nor ICMP; Protocol Unreachable is sent
 *                       [IpInUnknownProtos].
 *  TCP_TRUNCATED        shorter than a TCP header [InErrs].
 *  TCP_BAD_OFFSET       data offset below 5 words or past the segment [InErrs].
 *  TCP_BAD_CHECKSUM     the TCP checksum fails [InErrs, InCsumErrors].
 *  TCP_BAD_OPTION       an option runs past the header or has a bad length
 *                       [InErrs].
 *  TCP_BAD_FLAGS        SYN with FIN or RST [InErrs].
 *  TCP_BAD_PORT         source or destination port 0 [InErrs].
 *  NO_SOCKET            no connection or listener matches; answered with a
 *                       RST, RFC 9293 3.10.7.1.
 *  CLOSED_RST           a RST for no connection, ignored (RFC 9293 3.10.7.1).
 *  LISTEN_RST           a RST to a listener, ignored (RFC 9293 3.10.7.2).
 *  LISTEN_ACK           an ACK to a listener that answers no live SYN cookie;
 *                       answered with a RST.
 *  LISTEN_NO_SYN        neither SYN, ACK nor RST to a listener.
 *  LISTEN_OVERFLOW      the accept queue is full (a SYN, or the handshake's
 *                       last ACK), or the SYN queue is full without cookies
 *                       [ListenDrops; a full accept queue also ListenOverflows].
 *  SYN_SENT_BAD_ACK     in SYN_SENT, an ACK of something we never sent;
 *                       answered with a RST unless it carries one.
 *  SYN_SENT_RST_NO_ACK  in SYN_SENT, a RST without an acceptable ACK.
 *  SYN_SENT_NO_SYN      in SYN_SENT, neither SYN nor RST.
 *  SEQ_OUT_OF_WINDOW    no byte in the receive window (RFC 9293 3.10.7.4,
 *                       first check); an ACK answers unless it is rate
 *                       limited [AckSkippedSeq when it is].
 *  DUP_SYN              the peer's SYN again in SYN_RECEIVED; our SYN-ACK is
 *                       sent again.
 *  RST_OUT_OF_WINDOW    a RST outside the receive window, ignored (RFC 5961
 *                       3.2).
 *  RST_CHALLENGED       a RST in the window but not at RCV.NXT; a challenge
 *                       ACK answers (RFC 5961 3.2) [RstChallenge].
 *  SYN_CHALLENGED       a SYN on a synchronized connection or in TIME_WAIT;
 *                       a challenge ACK answers (RFC 5961 4.2) [SynChallenge].
 *  NO_ACK               a segment without ACK on a synchronized connection
 *                       (RFC 9293 3.10.7.4, fifth check).
 *  ACK_UNACCEPTABLE     SEG.ACK below SND.UNA - MAX.SND.WND; a challenge ACK
 *                       answers (RFC 5961 5.2) [AckChallenge].
 *  ACK_FUTURE           SEG.ACK above anything we sent; a challenge ACK
 *                       answers (RFC 5961 5.2) [AckChallenge].
 *  DATA_AFTER_FIN       text after the peer's FIN (CLOSE_WAIT, CLOSING,
 *                       LAST_ACK), ignored and acknowledged.
 *  DATA_AFTER_CLOSE     text for a connection the application closed; reset,
 *                       RFC 1122 4.2.2.13 [AbortOnData].
 *  RCV_BUFFER_FULL      reserved: no code path drops for this reason now.
 *  TIME_WAIT_OLD        an old duplicate or stray text in TIME_WAIT, absorbed
 *                       (re-ACKed unless a bare in-window ACK).
 *  TIME_WAIT_RST        a RST in TIME_WAIT ignored, rfc1337 = 1
 *                       [TimeWaitRstIgnored].
 *  SYN_RECEIVED_BAD_ACK in SYN_RECEIVED, an ACK that does not acknowledge
 *                       our SYN; answered with a RST.
 *  NO_MEMORY            an allocation failed: a new connection, a reply, or
 *                       received text (what did not fit is dropped; the peer
 *                       sends it again) [IcmpOutErrors for an echo reply].
 *  OUTBOX_FULL          a datagram we made found outbox_max datagrams queued
 *                       and was discarded [IpOutDiscards].
 *  SYNCOOKIE_FAILED     an ACK to a listener sending cookies whose cookie is
 *                       wrong or stale; answered with a RST [SyncookiesFailed].
 *  OFO_BUDGET           out-of-order text past ofo_budget, dropped [OfoDrop].
 *  ICMP_TRUNCATED       shorter than an ICMP header [IcmpInErrors].
 *  ICMP_BAD_CHECKSUM    the ICMP checksum fails [IcmpInErrors,
 *                       IcmpInCsumErrors].
 *  ICMP_BAD_QUOTE       an ICMP error whose quoted datagram is malformed or
 *                       too short for the ports and sequence number
 *                       [IcmpInErrors].
 *  ICMP_IGNORED         an ICMP message nothing here acts on: echo reply,
 *                       source quench (RFC 6633), redirect, an unknown type
 *                       or code, an error quoting another protocol, a
 *                       Fragmentation Needed before the handshake ends.
 *  ICMP_NO_CONN         an ICMP error about a datagram we did not send or
 *                       a connection we do not have.
 *  ICMP_OUT_OF_WINDOW   an ICMP error quoting a sequence number outside
 *                       SND.UNA..SND.MAX, RFC 5927 4.1 [OutOfWindowIcmps].
 *  ICMP_TOO_BIG         an ICMPv6 echo request whose reply would not fit the
 *                       MTU (IPv6 replies are not fragmented; ICMPv4 replies
 *                       larger than the MTU are sent in fragments).
 *  NEIGH_NO_CONN        a link reported a destination unreachable
 *                       (synack_unreachable) that no connection was using
 *                       [NeighResFailed].
 * Fragments (RFC 791 3.2, RFC 8200 4.5; every one of these also counts
 * IpReasmFails, or Ip6ReasmFails for IPv6):
 *  FRAG_DF              a fragment with Don't Fragment set.
 *  FRAG_BAD_LEN         a fragment with no data, or one other than the last
 *                       whose data is not a multiple of 8 bytes.
 *  FRAG_TOO_BIG         a fragment, or a datagram put together, longer than
 *                       65535 bytes; the datagram is discarded.
 *  FRAG_OVERLAP         a fragment overlapping one held (an exact duplicate
 *                       too); the whole datagram is discarded (RFC 5722).
 *  FRAG_BAD_END         a last fragment disagreeing with the end known (a
 *                       second last fragment, data held beyond it), or data
 *                       beyond the end; the datagram is discarded.
 *  FRAG_BUDGET          a fragment that does not fit ipfrag_high_thresh even
 *                       after evicting every other datagram, or for which
 *                       memory ran out.
 *  FRAG_EVICTED         an incomplete datagram discarded, oldest first, to
 *                       make room within ipfrag_high_thresh (not returned by
 *                       synack_input: the fragment that needed room was kept).
 *  FRAG_TIMEOUT         an incomplete datagram discarded ipfrag_time_ms after
 *                       its first fragment came [IpReasmTimeout] (counted by
 *                       synack_advance).
 *  FRAG_TOO_MANY        a fragment past ipfrag_max_frags of its datagram; the
 *                       datagram is discarded [IpReasmFails].
 * RFC 7323:
 *  PAWS                 a segment whose timestamp is older than TS.Recent
 *                       (RFC 7323 5.3 R1), on a connection or a TIME_WAIT
 *                       record; an ACK answers unless it is rate limited or
 *                       the segment is a RST [PAWSEstab].
 * Routing (issue 17 item 1):
 *  NO_ROUTE             a datagram we would send has no route to its
 *                       destination (a reset to an unroutable source, a
 *                       route deleted under a connection) [IpOutNoRoutes].
 * IPv6 (RFC 8200; the IPv4 reasons above serve IPv6 too where they say the
 * same: ip_truncated, ip_bad_version, ip_not_for_us, ip_bad_src, ip_not_tcp,
 * and the tcp_ and icmp_ ones):
 *  IP6_HOP_LIMIT        a datagram that arrived with hop limit 0
 *                       [Ip6InHdrErrors].
 *  IP6_EXT_TRUNCATED    an extension header running past the payload
 *                       [Ip6InHdrErrors].
 *  IP6_EXT_TOO_MANY     more than 8 extension headers [Ip6InHdrErrors].
 *  IP6_HBH_NOT_FIRST    hop-by-hop options after another extension header;
 *                       Parameter Problem code 1 (RFC 8200 4.1)
 *                       [Ip6InHdrErrors].
 *  IP6_BAD_OPTION       an option running past its header, or more than 7
 *                       bytes of padding in a row [Ip6InHdrErrors].
 *  IP6_UNKNOWN_OPTION   an unknown option whose two high bits say discard;
 *                       Parameter Problem code 2 when they say so (RFC 8200
 *                       4.2) [Ip6InHdrErrors].
 *  IP6_ROUTING          a routing header with segments left (any type: a
 *                       host processes none, RFC 5095 3 forbids type 0);
 *                       Parameter Problem code 0 (RFC 8200 4.4)
 *                       [Ip6InHdrErrors].
 *  IP6_FRAGMENT         a first fragment (offset 0) without the whole header
 *                       chain, Parameter Problem code 3 (RFC 7112 5), or a
 *                       datagram put together that holds another fragment
 *                       header [Ip6ReasmFails].  Other IPv6 fragments are
 *                       reassembled and take the FRAG_ reasons below
 *                       [Ip6ReasmReqds, Ip6ReasmOKs, Ip6ReasmFails,
 *                       Ip6ReasmTimeout].
 */
#define SYNACK_DROPS(X)                                                                            \
	X(NONE, "none")                                                                            \
	X(IP_TRUNCATED, "ip_truncated")                                                            \
	X(IP_BAD_VERSION, "ip_bad_version")                                                        \
	X(IP_BAD_IHL, "ip_bad_ihl")                                                                \
	X(IP_BAD_TOTAL_LEN, "ip_bad_total_len")                                                    \
	X(IP_BAD_CHECKSUM, "ip_bad_checksum")                                                      \
	X(IP_FRAGMENT, "ip_fragment")                                                              \
	X(IP_NOT_FOR_US, "ip_not_for_us")                                                          \
	X(IP_BAD_SRC, "ip_bad_src")                                                                \
	X(IP_NOT_TCP, "ip_not_tcp")                                                                \
	X(TCP_TRUNCATED, "tcp_truncated")                                                          \
	X(TCP_BAD_OFFSET, "tcp_bad_offset")                                                        \
	X(TCP_BAD_CHECKSUM, "tcp_bad_checksum")                                                    \
	X(TCP_BAD_OPTION, "tcp_bad_option")                                                        \
	X(TCP_BAD_FLAGS, "tcp_bad_flags")                                                          \
	X(TCP_BAD_PORT, "tcp_bad_port")                                                            \
	X(NO_SOCKET, "no_socket")                                                                  \
	X(CLOSED_RST, "closed_rst")                                                                \
	X(LISTEN_RST, "listen_rst")                                                                \
	X(LISTEN_ACK, "listen_ack")                                                                \
	X(LISTEN_NO_SYN, "listen_no_syn")                                                          \
	X(LISTEN_OVERFLOW, "listen_overflow")                                                      \
	X(SYN_SENT_BAD_ACK, "syn_sent_bad_ack")                                                    \
	X(SYN_SENT_RST_NO_ACK, "syn_sent_rst_no_ack")                                              \
	X(SYN_SENT_NO_SYN, "syn_sent_no_syn")                                                      \
	X(SEQ_OUT_OF_WINDOW, "seq_out_of_window")                                                  \
	X(DUP_SYN, "dup_syn")                                                                      \
	X(RST_OUT_OF_WINDOW, "rst_out_of_window")                                                  \
	X(RST_CHALLENGED, "rst_challenged")                                                        \
	X(SYN_CHALLENGED, "syn_challenged")                                                        \
	X(NO_ACK, "no_ack")                                                                        \
	X(ACK_UNACCEPTABLE, "ack_unacceptable")                                                    \
	X(ACK_FUTURE, "ack_future")                                                                \
	X(DATA_AFTER_FIN, "data_after_fin")                                                        \
	X(DATA_AFTER_CLOSE, "data_after_close")                                                    \
	X(RCV_BUFFER_FULL, "rcv_buffer_full")                                                      \
	X(TIME_WAIT_OLD, "time_wait_old")                                                          \
	X(TIME_WAIT_RST, "time_wait_rst")                                                          \
	X(SYN_RECEIVED_BAD_ACK, "syn_received_bad_ack")                                            \
	X(NO_MEMORY, "no_memory")                                                                  \
	X(OUTBOX_FULL, "outbox_full")                                                              \
	X(SYNCOOKIE_FAILED, "syncookie_failed")                                                    \
	X(OFO_BUDGET, "ofo_budget")                                                                \
	X(ICMP_TRUNCATED, "icmp_truncated")                                                        \
	X(ICMP_BAD_CHECKSUM, "icmp_bad_checksum")                                                  \
	X(ICMP_BAD_QUOTE, "icmp_bad_quote")                                                        \
	X(ICMP_IGNORED, "icmp_ignored")                                                            \
	X(ICMP_NO_CONN, "icmp_no_conn")                                                            \
	X(ICMP_OUT_OF_WINDOW, "icmp_out_of_window")                                                \
	X(ICMP_TOO_BIG, "icmp_too_big")                                                            \
	X(NEIGH_NO_CONN, "neigh_no_conn")                                                          \
	X(FRAG_DF, "frag_df")                                                                      \
	X(FRAG_BAD_LEN, "frag_bad_len")                                                            \
	X(FRAG_TOO_BIG, "frag_too_big")                                                            \
	X(FRAG_OVERLAP, "frag_overlap")                                                            \
	X(FRAG_BAD_END, "frag_bad_end")                                                            \
	X(FRAG_BUDGET, "frag_budget")                                                              \
	X(FRAG_EVICTED, "frag_evicted")                                                            \
	X(FRAG_TIMEOUT, "frag_timeout")                                                            \
	X(FRAG_TOO_MANY, "frag_too_many")                                                          \
	X(PAWS, "paws")                                                                            \
	X(NO_ROUTE, "no_route")                                                                    \
	/* IPv6 (issue 14) */                                                                      \
	X(IP6_HOP_LIMIT, "ip6_hop_limit")                                                          \
	X(IP6_EXT_TRUNCATED, "ip6_ext_truncated")                                                  \
	X(IP6_EXT_TOO_MANY, "ip6_ext_too_many")                                                    \
	X(IP6_HBH_NOT_FIRST, "ip6_hbh_not_first")                                                  \
	X(IP6_BAD_OPTION, "ip6_bad_option")                                                        \
	X(IP6_UNKNOWN_OPTION, "ip6_unknown_option")                                                \
	X(IP6_ROUTING, "ip6_routing")                                                              \
	X(IP6_FRAGMENT, "ip6_fragment")

enum synack_drop {
#define SYNACK_DROP_ENUM(name, str) SYNACK_DROP_##name,
	SYNACK_DROPS(SYNACK_DROP_ENUM)
#undef SYNACK_DROP_ENUM
	    SYNACK_DROP_COUNT
};
/* "tcp_bad_checksum" ...; "?" for an unknown value. */
const char *synack_drop_name(int reason);

/* ------------------------------------------------------------------ */
/* Trace: every state change and every segment, read from a ring.      */

enum synack_trace_kind {
	SYNACK_TRACE_STATE = 1, /* a connection changed state */
	SYNACK_TRACE_TX,        /* we sent a segment */
	SYNACK_TRACE_RX,        /* a segment arrived and was accepted for processing */
	SYNACK_TRACE_DROP,      /* a datagram or segment was dropped */
};

/* What caused a state change. */
#define SYNACK_CAUSES(X)                                                                           \
	X(NONE, "none")                                                                            \
	X(APP_LISTEN, "app_listen")                                                                \
	X(APP_CONNECT, "app_connect")                                                              \
	X(APP_CLOSE, "app_close")                                                                  \
	X(APP_SHUTDOWN, "app_shutdown")                                                            \
	X(APP_ABORT, "app_abort")                                                                  \
	X(RCV_SYN, "rcv_syn")                                                                      \
	X(RCV_SYN_ACK, "rcv_syn_ack")                                                              \
	X(RCV_ACK, "rcv_ack")                                                                      \
	X(RCV_ACK_OF_FIN, "rcv_ack_of_fin")                                                        \
	X(RCV_FIN, "rcv_fin")                                                                      \
	X(RCV_FIN_ACK, "rcv_fin_ack")                                                              \
	X(RCV_RST, "rcv_rst")                                                                      \
	X(RCV_DATA_AFTER_CLOSE, "rcv_data_after_close")                                            \
	X(SYN_TIMEOUT, "syn_timeout")                                                              \
	X(SYNACK_TIMEOUT, "synack_timeout")                                                        \
	X(RETRANS_TIMEOUT, "retrans_timeout")                                                      \
	X(ORPHAN_RETRIES, "orphan_retries")                                                        \
	X(FIN_WAIT_2_TIMEOUT, "fin_wait_2_timeout")                                                \
	X(CLOSE_WAIT_TIMEOUT, "close_wait_timeout")                                                \
	X(KEEPALIVE_TIMEOUT, "keepalive_timeout")                                                  \
	X(USER_TIMEOUT, "user_timeout")                                                            \
	X(TIME_WAIT_EXPIRED, "time_wait_expired")                                                  \
	X(TIME_WAIT_NEW_SYN, "time_wait_new_syn")                                                  \
	X(TIME_WAIT_OVERFLOW, "time_wait_overflow")                                                \
	X(LISTENER_CLOSED, "listener_closed")                                                      \
	X(ORPHAN_OVERFLOW, "orphan_overflow")                                                      \
	X(STACK_FREED, "stack_freed")                                                              \
	X(SYNCOOKIE, "syncookie")                                                                  \
	X(LISTEN_OVERFLOW, "listen_overflow")                                                      \
	X(ICMP_UNREACHABLE, "icmp_unreachable")                                                    \
	X(ICMP_TIME_EXCEEDED, "icmp_time_exceeded")                                                \
	X(ICMP_PARAM_PROBLEM, "icmp_param_problem")                                                \
	X(NEIGH_FAILED, "neigh_failed") /* the link could not resolve the peer (ARP) */

enum synack_cause {
#define SYNACK_CAUSE_ENUM(name, str) SYNACK_CAUSE_##name,
	SYNACK_CAUSES(SYNACK_CAUSE_ENUM)
#undef SYNACK_CAUSE_ENUM
	    SYNACK_CAUSE_COUNT
};
/* "app_close" ...; "?" for an unknown value. */
const char *synack_cause_name(int cause);

/* TCP header flag bits, as on the wire. */
#define SYNACK_TH_FIN 0x01
#define SYNACK_TH_SYN 0x02
#define SYNACK_TH_RST 0x04
#define SYNACK_TH_PSH 0x08
#define SYNACK_TH_ACK 0x10
#define SYNACK_TH_URG 0x20
#define SYNACK_TH_ECE 0x40
#define SYNACK_TH_CWR 0x80

/* One SACK block of a traced segment: the sequence space [start, end). */
struct synack_sack_block {
	uint32_t start, end;
};

struct synack_trace {
	uint64_t t_us;
	uint8_t kind;                         /* enum synack_trace_kind */
	struct synack_endpoint local, remote; /* zero when a datagram never parsed */
	/* SYNACK_TRACE_STATE */
	uint8_t from, to; /* enum synack_state */
	uint8_t cause;    /* enum synack_cause */
	/* SYNACK_TRACE_TX, _RX, _DROP */
	uint8_t flags;          /* SYNACK_TH_* */
	uint8_t reason;         /* enum synack_drop, on SYNACK_TRACE_DROP */
	uint32_t seq, ack, len; /* len: payload bytes */
	uint32_t win;           /* window field as sent/received */
	uint32_t iss, irs;      /* the connection's ISS and IRS when known, for relative numbers */
	/* The options of a SYN or SYN-ACK (SYNACK_TRACE_OPT_* in opts, 0 on
	 * other segments): MSS, window scale, timestamps. */
	uint8_t opts;
	uint8_t opt_wscale;
	uint16_t opt_mss;
	uint32_t opt_ts_val, opt_ts_ecr;
	uint8_t ecn; /* the datagram's IP ECN codepoint: 0 Not-ECT, 1 ECT(1), 2 ECT(0),
	                3 CE (RFC 3168 5) */
	/* SACK blocks the segment carried (RFC 2018; issue 13), in order. */
	uint8_t sack_count;
	struct synack_sack_block sack[4];
	/* TCP Fast Open (RFC 7413): with SYNACK_TRACE_OPT_TFO, the cookie
	 * (opt_tfo_len bytes; 0 is a cookie request). */
	uint8_t opt_tfo_len;
	uint8_t opt_tfo_cookie[16];
};
#define SYNACK_TRACE_OPT_MSS 1
#define SYNACK_TRACE_OPT_WSCALE 2
#define SYNACK_TRACE_OPT_SACK_PERM 4
#define SYNACK_TRACE_OPT_TS 8
#define SYNACK_TRACE_OPT_TFO 16     /* TCP Fast Open, kind 34 */
#define SYNACK_TRACE_OPT_TFO_EXP 32 /* TCP Fast Open, experimental kind 254 */

/*
 * Copies up to max records, oldest first, removing them from the ring.
 * Returns the number copied.  When the ring overflows the oldest records are
 * overwritten and the TraceLost counter says how many.
 */
size_t synack_trace_read(struct synack_stack *st, struct synack_trace *out, size_t max);
/* tcpdump's flag letters ("S", "S.", "P.", "F.", "R", "R." ...); buf >= 9 bytes. */
const char *synack_flags_str(uint8_t flags, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */

/* A short text naming an errno value (either sign), "unknown error" for one
 * it does not know; never NULL. */
const char *synack_strerror(int err);
/* Parses "a.b.c.d" (port 0) or "a.b.c.d:port", and IPv6 (RFC 4291 2.2
 * text) as "[x::y]:port", "[x::y]" or a bare "x::y" (port 0).  Returns 0
 * or -EINVAL. */
int synack_endpoint_parse(const char *text, struct synack_endpoint *ep);
/* Writes "a.b.c.d:port" into buf (>= 22 bytes) and returns buf; an IPv6
 * endpoint as "[x:x:x:x:x:x:x:x]:port" (>= 48 bytes), an endpoint of no
 * known family as "?". */
const char *synack_endpoint_str(const struct synack_endpoint *ep, char *buf, size_t len);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
