/*
 * The network layer's boundary, the same for every IP version: what goes
 * down (a transport payload and the two addresses it travels between) and
 * what comes up (a transport segment to deliver, or an ICMP error about a
 * segment we sent, already translated out of its family's codes).  TCP
 * uses only this header of src/net, so it never names a family; IPv4
 * lives behind it in ip4.c and icmp4.c, IPv6 in ip6.c and icmp6.c.
 */
#ifndef SYNACK_NET_H
#define SYNACK_NET_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "core/addr.h"
#include "core/bslab.h"
#include "core/env.h"
#include "core/mem.h"
#include "core/hash.h"
#include "net/reasm4.h"
#include "net/route.h"
#include "wire/wire.h"
#include "wire/wire6.h"

/* One queued outgoing datagram. */
struct pkt {
	struct pkt *next;
	uint16_t len;
	uint8_t small; /* of the small class (NET_PKT_SMALL bytes of data) */
	/* The next hop (route.h): a gateway, or the destination.  IPv4's
	 * only, in what was padding: a whole struct addr would grow every
	 * queued datagram by 16 bytes; an IPv6 datagram's is looked up again
	 * when it leaves (net_next_hop6). */
	uint32_t hop;
	uint8_t data[]; /* net_layer.pkt_size bytes, NET_PKT_SMALL when small */
};
/* The data of a small datagram: a control segment or a short one with its
 * options and both families' headers (IPv6 40 + TCP 60 + up to 140 bytes
 * of text), in 256 bytes with the header above. */
#define NET_PKT_SMALL 240u

/*
 * The network layer's state in a stack: the outbox of datagrams for the
 * caller (a FIFO and a pool of free ones), the IPv4 identification counter,
 * the ICMP error rate limit and IPv4 reassembly.  It begins with what every
 * layer shares (env.h).
 */
struct net_layer {
	struct env env;
	struct pkt *out_head, *out_tail, *pkt_free;
	/* Bounded by outbox_max and 256: 32 bits, which leaves room for
	 * reasm below without growing the layer. */
	uint32_t out_len, pkt_free_len;
	uint32_t pkt_size; /* the MTU: the largest datagram we send */
	uint16_t ip_id;
	/* ICMP error rate limit: a token bucket kept as credit in
	 * microseconds (one token = icmp_ratelimit_ms), as of icmp_credit_at. */
	uint64_t icmp_credit_us, icmp_credit_at;
	/* IPv4 reassembly (reasm4.h), allocated with the first fragment: a
	 * stack that never sees one pays a pointer. */
	struct reasm4 *reasm;
	/* Addresses and routes (route.h), and the loopback queue: datagrams
	 * to our own addresses, delivered back into our input by the stack
	 * (net_loopback_pop); in_lo is set while one is. */
	struct route_table *rt;
	struct pkt *lo_head, *lo_tail;
	uint32_t lo_len;
	uint8_t in_lo;
	/* IPv6 (issue 14): the key of the flow labels we send (RFC 6437 3,
	 * derived from the stack's secret), as siphash13_words takes it. */
	uint64_t key_flow[2];
	/* Memory (issue 16 item 4): the fewest datagrams the pool held since
	 * pool_trim_at last moved, and when the period ends (net_pool_tick). */
	uint32_t pkt_free_low;
	uint64_t pool_trim_at;
	/* Issue 16 item 4 (lifecycle): small datagrams (ACKs, SYNs, short
	 * segments; net_pkt_alloc_small) have a pool of their own, sized to
	 * the bursts: pool_keep_pct of the most datagrams the outbox held at
	 * once (pkt_peak), at least 256; its fewest since the period began. */
	struct pkt *small_free;
	uint32_t small_free_len, small_free_low;
	/* pkt_peak counts with the outbox the datagrams a link took and has
	 * not given back yet (out_taken: synack_output_take, until
	 * synack_output_done or synack_output_give): the simulator holds a
	 * whole window of them on its paths and in the receiver's queue, and
	 * a pool sized to the outbox alone freed most of each window as it
	 * came back and allocated the next one afresh. */
	uint32_t pkt_peak, out_taken;
	/* Where the small datagrams come from (core/bslab.h): blocks, so
	 * that those of a burst (SYNs, SYN-ACKs, ACKs) lie together and go
	 * back whole, not in holes between the connections the burst made.
	 * Allocated: a link may give back a datagram after the stack is gone
	 * (synack_output_done with no stack).  MTU-sized ones are malloc()
	 * blocks of their own, which a link may lend to another stack
	 * (synack_output_block). */
	struct bslab *small_slab;
};
_Static_assert(offsetof(struct net_layer, env) == 0, "a layer begins with the one below (env.h)");

/* Sets up the layer for a checked configuration (env.cfg already set):
 * 0 or -ENOMEM. */
int net_layer_init(struct net_layer *n);
/* Frees the queued (outbox and loopback) and pooled datagrams, the
 * fragments held and the routing table. */
void net_layer_fini(struct net_layer *n);
/* Bytes the layer holds: datagrams queued and pooled, fragments held for
 * reassembly and the last datagram put together. */
uint64_t net_memory(const struct net_layer *n);

/* The layer's timers (reassembly timeouts), run by the stack beside TCP's:
 * the earlier of the layer's deadline and other (the layers above), and
 * run what is due by env.now.  Inline: the stack asks on every call, and
 * a stack that never saw a fragment pays one test. */
static inline uint64_t net_next_deadline(const struct net_layer *n, uint64_t other)
{
	const struct reasm4 *r = n->reasm;
	if (!r || r->deadline >= other)
		return other;
	return r->deadline;
}
static inline void net_advance(struct net_layer *n)
{
	if (n->reasm && n->reasm->deadline <= ENV(n)->now)
		reasm4_expire(n);
}

/* The outbox.  A datagram comes from the pool (or the allocator; NULL when
 * memory ran out), goes to the caller's FIFO, or back to the pool. */
struct pkt *net_pkt_alloc_slow(struct net_layer *n);
static inline struct pkt *net_pkt_alloc(struct net_layer *n)
{
	struct pkt *p = n->pkt_free;
	if (!p)
		return net_pkt_alloc_slow(n);
	n->pkt_free = p->next;
	/* The next one's header line, which the next call reads for its
	 * link and the caller writes the headers in: a pool as deep as a
	 * window is colder than the cache (net_pkt_free's rule). */
	if (n->pkt_free)
		mem_prefetch_w(n->pkt_free);
	if (--n->pkt_free_len < n->pkt_free_low)
		n->pkt_free_low = n->pkt_free_len;
	p->next = NULL;
	p->len = 0;
	return p;
}
/* A datagram for need bytes (network header included): of the small class
 * when it fits, else as net_pkt_alloc.  Inline: every TCP segment. */
struct pkt *net_pkt_alloc_small_slow(struct net_layer *n);
static inline struct pkt *net_pkt_alloc_small(struct net_layer *n, size_t need)
{
	if (need > NET_PKT_SMALL)
		return net_pkt_alloc(n);
	struct pkt *p = n->small_free;
	if (!p)
		return net_pkt_alloc_small_slow(n);
	n->small_free = p->next;
	if (n->small_free)
		mem_prefetch_w(n->small_free);
	if (--n->small_free_len < n->small_free_low)
		n->small_free_low = n->small_free_len;
	p->next = NULL;
	p->len = 0;
	return p;
}
/* The room of p's data. */
static inline size_t net_pkt_cap(const struct net_layer *n, const struct pkt *p)
{
	return p->small ? NET_PKT_SMALL : n->pkt_size;
}
/* A datagram back to where it was allocated: a small one to the blocks
 * it came from, which are this stack's unless a link gave it to another
 * one (synack_output_done), an MTU-sized one to free(). */
static inline void net_pkt_release(struct pkt *p)
{
	if (p->small)
		bslab_free_any(p);
	else
		free(p);
}
static inline void net_pkt_free(struct net_layer *n, struct pkt *p)
{
	/* Small datagrams: 256, or pool_keep_pct percent of the most the
	 * outbox held at once, whichever is more, the rule of the other
	 * caches (core/slab.h).  With thousands of connections in flight the
	 * outbox fills with thousands of ACKs and SYNs per call, and a fixed
	 * 256 sent the rest of every burst to free() and the next one to
	 * malloc().  A burst does not pin memory forever: what no send took
	 * for a whole packet_pool_trim_ms goes back (net_pool_trim). */
	if (p->small) {
		if (n->small_free_len >= 256 &&
		    (uint64_t)n->small_free_len * 100 >=
		        (uint64_t)n->pkt_peak * ENV(n)->cfg.pool_keep_pct) {
			net_pkt_release(p);
			return;
		}
		p->next = n->small_free;
		n->small_free = p;
		n->small_free_len++;
		return;
	}
	/* MTU-sized ones by the same rule (issue 16 item 4): a bulk sender
	 * puts a window of them in the outbox at once, and a fixed 256 sent
	 * the rest of every window to free() and the next one to malloc()
	 * (half the data segments of an in-memory bulk transfer). */
	if (n->pkt_free_len >= 256 &&
	    (uint64_t)n->pkt_free_len * 100 >= (uint64_t)n->pkt_peak * ENV(n)->cfg.pool_keep_pct) {
		free(p);
		return;
	}
	p->next = n->pkt_free;
	n->pkt_free = p;
	n->pkt_free_len++;
}
/* The bytes of an MTU-sized datagram's allocation, header and all: the
 * block a link may lend a receiving stack (synack_output_block). */
static inline size_t net_pkt_block_size(const struct net_layer *n)
{
	return sizeof(struct pkt) + n->pkt_size;
}
/* Takes block, net_pkt_block_size(n) bytes from malloc(), as an MTU-sized
 * datagram of the pool (or frees it when the pool is full). */
void net_pkt_adopt(struct net_layer *n, void *block);
/* The pool's decay (packet_pool_trim_ms): at the end of each period the
 * datagrams that lay in the pool through all of it, which no send needed,
 * go back to the allocator.  Run when the stack is entered (input and
 * advance), never a deadline of its own: an idle stack is not woken for
 * it, and gives the pool back the next time it is called after a period.
 * Inline: every arriving datagram asks. */
void net_pool_trim(struct net_layer *n);
static inline void net_pool_tick(struct net_layer *n)
{
	if (ENV(n)->now >= n->pool_trim_at)
		net_pool_trim(n);
}
/* Queues a finished datagram for the caller; past outbox_max it is dropped
 * (IpOutDiscards, SYNACK_DROP_OUTBOX_FULL). */
void net_outbox_push(struct net_layer *n, struct pkt *p);
/* Queues a datagram for our own input (the loopback path of route.h);
 * past outbox_max it is dropped as the outbox's are. */
void net_loopback_push(struct net_layer *n, struct pkt *p);
/* Takes the oldest looped-back datagram (NULL when none); the caller hands
 * it to the input and frees it with net_pkt_free. */
static inline struct pkt *net_loopback_pop(struct net_layer *n)
{
	struct pkt *p = n->lo_head;
	if (p) {
		n->lo_head = p->next;
		if (!n->lo_head)
			n->lo_tail = NULL;
		n->lo_len--;
	}
	return p;
}
/* The next hop of a queued IPv6 datagram, looked up when it leaves
 * (route.h: struct pkt keeps 32 bits of next hop). */
struct addr net_next_hop6(const struct net_layer *n, const struct pkt *p);
/* Takes the oldest queued datagram out of the outbox whole (NULL when none
 * is queued): the caller owns it and frees it with net_pkt_free (issue 16
 * item 4, synack_output_take: no copy on the way out). */
static inline struct pkt *net_outbox_take(struct net_layer *n)
{
	struct pkt *p = n->out_head;
	if (!p)
		return NULL;
	n->out_head = p->next;
	if (!n->out_head)
		n->out_tail = NULL;
	n->out_len--;
	p->next = NULL;
	return p;
}
/* Takes the oldest queued datagram: its length, 0 when none is queued, or
 * -EMSGSIZE when buf (cap bytes) cannot hold it; *hop (when not NULL) gets
 * its next hop.  Inline: the caller drains every datagram through it. */
static inline ssize_t net_outbox_pop(struct net_layer *n, void *buf, size_t cap, struct addr *hop)
{
	struct pkt *p = n->out_head;
	size_t len;
	if (!p)
		return 0;
	if (!buf || cap < p->len)
		return -EMSGSIZE;
	len = p->len;
	memcpy(buf, p->data, len);
	if (hop)
		*hop = (p->data[0] >> 4) == 6 ? net_next_hop6(n, p) : addr_v4(p->hop);
	net_pkt_free(n, net_outbox_take(n));
	return (ssize_t)len;
}

#include "net/ip4.h"
#include "net/ip6.h"

/* Whether the stack has an IPv6 address (cfg.addr6 or one added). */
static inline int net_has_addr6(const struct net_layer *n)
{
	return n->rt->naddrs6 != 0;
}
/* The stack's first IPv6 address, cfg.addr6 when set (:: when it has
 * none). */
static inline struct addr net_addr6(const struct net_layer *n)
{
	const struct route_table *t = n->rt;
	for (uint32_t i = 0; t->naddrs6 && i < t->naddrs; i++)
		if (!addr_is_v4(&t->addrs[i].a))
			return t->addrs[i].a;
	return (struct addr){{0, 0, 0, 0}};
}
/* Whether a is one of our IPv6 addresses (route.h's list).  :: is never
 * ours. */
static inline int net_is_local6(const struct net_layer *n, const struct addr *a)
{
	return !addr_is_zero(a) && route_is_ours(n, a, 0);
}
/* RFC 4291 2.4: an IPv6 address that names one interface and may be a
 * source: not :: or ::1, not multicast (ff00::/8), and not IPv4-mapped
 * (::ffff:0:0/96, which synack holds IPv4 addresses as: an IPv6 datagram
 * claiming one would pass for IPv4 above this layer). */
static inline int net_addr6_is_unicast(const struct addr *a)
{
	struct addr loopback = {{0, 0, 0, 1}};
	return !addr_is_zero(a) && !addr_eq(a, &loopback) && (a->w[0] >> 24) != 0xff &&
	       !addr_is_v4(a);
}

/* RFC 3168 5: the ECN field of every datagram with a valid header,
 * counted by codepoint as Linux's IpExt counters are (IPv6's Traffic
 * Class too: the same counters for both families).  The four counters
 * lie in codepoint order, so the field indexes them (one add per
 * datagram, no branch). */
_Static_assert(offsetof(struct synack_stats, IpExtInECT1Pkts) ==
                       offsetof(struct synack_stats, IpExtInNoECTPkts) + 1 * sizeof(uint64_t) &&
                   offsetof(struct synack_stats, IpExtInECT0Pkts) ==
                       offsetof(struct synack_stats, IpExtInNoECTPkts) + 2 * sizeof(uint64_t) &&
                   offsetof(struct synack_stats, IpExtInCEPkts) ==
                       offsetof(struct synack_stats, IpExtInNoECTPkts) + 3 * sizeof(uint64_t),
               "the IpExt ECN counters are in codepoint order");
static inline void net_count_ecn(struct net_layer *st, uint8_t tos)
{
	unsigned char *base = (unsigned char *)&ENV(st)->stats;
	size_t off = offsetof(struct synack_stats, IpExtInNoECTPkts) +
	             (size_t)(tos & WIRE_ECN_MASK) * sizeof(uint64_t);
	(*(uint64_t *)(base + off))++;
}

/* The shared ICMP error rate limit (ICMPv4 and ICMPv6 alike): whether one
 * more error may be sent now, taking its token. */
int net_icmp_ratelimit_allows(struct net_layer *st);

/* The network header of a datagram from src to dst: IPv4's 20 bytes (we
 * send no options) or IPv6's fixed 40 (RFC 8200 3; we send no extension
 * headers).  What comes before a transport header in every datagram. */
static inline size_t ip_hdr_len(const struct addr *dst)
{
	return addr_is_v4(dst) ? WIRE_IP4_HDR_LEN : 40;
}

/*
 * Sends a transport payload of len bytes that the caller has written at
 * p->data + ip_hdr_len(dst) (its checksum over the pseudo-header of src and
 * dst included): writes the network header in front and queues the
 * datagram for the caller of the stack.  src and dst are of one family.
 * ecn is the datagram's ECN codepoint (WIRE_ECN_*, RFC 3168 5), which the
 * transport chooses per segment: IPv4 carries it in the TOS byte, IPv6
 * will in the Traffic Class.
 */
static inline void ip_output(struct net_layer *st, const struct addr *src, const struct addr *dst,
                             uint8_t proto, struct pkt *p, size_t len, uint8_t ecn)
{
	if (!addr_is_v4(dst)) {
		ip6_output(st, src, dst, proto, p, len, ecn);
		return;
	}
	ip4_output(st, addr_to_v4(src), addr_to_v4(dst), proto, p, len, ecn);
}

/* What an ICMP error about one of our TCP segments asks of TCP. */
enum net_err_kind {
	NET_ERR_IGNORED, /* nothing: counted as ignored once its connection is found */
	NET_ERR_PMTU,    /* the path carries datagrams of at most mtu bytes (RFC 1191, 8201) */
	NET_ERR_DEST,    /* the destination cannot be reached: err, cause */
};

struct net_err {
	struct tuple t; /* from the quoted headers: we are the source */
	uint32_t seq;   /* the quoted sequence number */
	uint8_t kind;   /* enum net_err_kind */
	uint8_t cause;  /* NET_ERR_DEST: enum synack_cause for a state change */
	int err;        /* NET_ERR_DEST: the negative errno the application sees */
	uint32_t mtu;   /* NET_ERR_PMTU: the new path MTU, at least the stack's min_pmtu */
};

/* What a datagram that passed the network layer's checks carries up. */
enum net_up_kind {
	NET_UP_NONE,      /* handled (or dropped) by the network layer itself */
	NET_UP_TCP,       /* a TCP segment for us: tcp */
	NET_UP_TCP_ERROR, /* an ICMP error about a TCP segment we sent: err */
};

struct net_up {
	uint8_t kind; /* enum net_up_kind */
	/* NET_UP_TCP: the segment, with the ECN codepoint of the datagram
	 * that carried it in tcp.ecn (RFC 3168 5). */
	struct wire_tcp tcp;
	struct net_err err;
	struct addr src, dst; /* NET_UP_TCP_ERROR: of the ICMP datagram, for the trace of a drop */
};

/*
 * The checksum state of a datagram handed to net_input (issue 16 item 2),
 * as Linux's skb->ip_summed.  NET_CSUM_UNNECESSARY: the link vouches for
 * the TCP checksum, which is then not summed (InCsumTrusted): the device
 * verified it (CHECKSUM_UNNECESSARY), or the datagram came from the local
 * kernel with a partial checksum and never crossed a wire
 * (CHECKSUM_PARTIAL, which Linux's receive path treats as verified,
 * skb_csum_unnecessary).  Only a TCP segment in one piece is taken so; the
 * IPv4 header checksum, ICMP and a datagram put together from fragments
 * are verified as ever.
 */
enum net_csum {
	NET_CSUM_NONE,
	NET_CSUM_UNNECESSARY,
};

/*
 * Validates a datagram of either family and says what it carries up in
 * *up.  Returns 0, or the enum synack_drop reason it was dropped for
 * (counted and traced here).  The caller hands up->tcp to TCP, or up->err;
 * when TCP drops an error, net_error_dropped counts and traces it as the
 * network layer's own drops are.  up may point into a datagram the layer
 * put together from fragments, which stays until the next datagram or
 * net_advance.
 */
static inline int net_input(struct net_layer *st, const uint8_t *pkt, size_t len, int csum,
                            struct net_up *up)
{
	/* IPv4 first: its parser refuses any other version, and only then
	 * does ip4_input ask whether the datagram is IPv6 (the version in its
	 * first four bits, RFC 8200 3), so telling them apart costs IPv4
	 * nothing. */
	return ip4_input(st, pkt, len, csum, up);
}
int net_error_dropped(struct net_layer *st, const struct net_up *up, int reason);
/* Counts and traces a dropped datagram; src and dst are NULL when its
 * header did not parse. */
int net_drop(struct net_layer *st, int reason, const struct addr *src, const struct addr *dst);

#endif
