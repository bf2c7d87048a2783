/*
 * IPv4 (RFC 791, RFC 1122 3.2.1): datagrams in, validated, reassembled
 * when they came in fragments (reasm4.c) and handed up; transport payloads
 * out, wrapped in a header, and in fragments where only that will do.
 */
#include "net/ip4.h"

#include "net/icmp4.h"
#include "net/ip6.h"
#include "net/net.h"
#include "net/reasm4.h"
#include "wire/wire.h"

int net_drop(struct net_layer *st, int reason, const struct addr *src, const struct addr *dst)
{
	struct trace_rec *r;
	env_count_drop(ENV(st), reason);
	r = trace_add(ENV(st), SYNACK_TRACE_DROP);
	if (r) {
		r->reason = (uint8_t)reason;
		if (src)
			env_trace_ends(ENV(st), r, dst, 0, src, 0);
	}
	return reason;
}

static int ip4_drop(struct net_layer *st, int reason, const struct wire_ip4 *ip)
{
	struct addr src, dst;
	if (!ip)
		return net_drop(st, reason, NULL, NULL);
	src = addr_v4(ip->src);
	dst = addr_v4(ip->dst);
	return net_drop(st, reason, &src, &dst);
}

int net_error_dropped(struct net_layer *st, const struct net_up *up, int reason)
{
	return net_drop(st, reason, &up->src, &up->dst);
}

static int is_bad_source(uint32_t a)
{
	/* RFC 1122 3.2.1.3: a datagram from a broadcast, multicast or
	 * "this network" source address is silently discarded. */
	return a == 0 || a == 0xffffffffu || (a >> 28) == 0xe || (a >> 24) == 0;
}

/*
 * RFC 1122 3.2.2.1: Protocol Unreachable when the transport protocol is not
 * supported.  We have no UDP either, so a UDP datagram gets this too rather
 * than Port Unreachable.  answer: 0 for a fragment that is not the first.
 */
static int unknown_proto(struct net_layer *st, const struct wire_ip4 *ip, const uint8_t *pkt,
                         int answer)
{
	STAT_INC(st, IpInUnknownProtos);
	if (answer)
		icmp_send_error(st, pkt, ip->total_len, WIRE_ICMP_DEST_UNREACH,
		                WIRE_ICMP_PROTO_UNREACH, 0);
	return ip4_drop(st, SYNACK_DROP_IP_NOT_TCP, ip);
}

/* Whether a is one of our addresses (route.h); loopback: 127.0.0.0/8 too.
 * A stack with one address asks one comparison. */
static int is_ours(const struct net_layer *st, uint32_t a, int loopback)
{
	if (a == ENV(st)->cfg.addr || (loopback && (a >> 24) == 127))
		return 1;
	if (st->rt->naddrs == 1)
		return 0;
	struct addr x = addr_v4(a);
	return route_is_ours(st, &x, 0);
}

int ip4_input(struct net_layer *st, const uint8_t *pkt, size_t len, int csum, struct net_up *up)
{
	struct wire_ip4 ip;
	int reason;

	up->kind = NET_UP_NONE;
	reason = wire_ip4_parse(pkt, len, &ip);
	if (reason != SYNACK_DROP_NONE && reason != SYNACK_DROP_IP_FRAGMENT) {
		/* Not IPv4, or too short for it: IPv6 when its version says so
		 * (net_input's dispatch, off the IPv4 path). */
		if (len && (pkt[0] >> 4) == 6)
			return ip6_input(st, pkt, len, csum, up);
		STAT_INC(st, IpInReceives);
		STAT_INC(st, IpInHdrErrors);
		return ip4_drop(st, reason, NULL);
	}
	STAT_INC(st, IpInReceives);
	net_count_ecn(st, ip.tos);
	/* Any of our addresses; 127.0.0.0/8 only through the loopback queue
	 * (Linux drops it from a device as a martian). */
	if (!is_ours(st, ip.dst, st->in_lo)) {
		STAT_INC(st, IpInAddrErrors);
		return ip4_drop(st, SYNACK_DROP_IP_NOT_FOR_US, &ip);
	}
	/* ... and our own source address only from ourselves: from the link
	 * it is a martian (Linux's fib_validate_source), one that would make
	 * a connection talk to itself. */
	if (is_bad_source(ip.src) || (!st->in_lo && is_ours(st, ip.src, 1))) {
		STAT_INC(st, IpInAddrErrors);
		return ip4_drop(st, SYNACK_DROP_IP_BAD_SRC, &ip);
	}
	if (reason == SYNACK_DROP_IP_FRAGMENT) {
		/* A fragment of a protocol we do not carry costs no state
		 * either: every fragment names the protocol, and the first
		 * (offset 0) holds the header and 8 bytes an error quotes
		 * (RFC 792), so it alone gets the Protocol Unreachable the
		 * whole datagram would have had; the others are dropped. */
		if (ip.proto != WIRE_IPPROTO_TCP && ip.proto != WIRE_IPPROTO_ICMP)
			return unknown_proto(st, &ip, pkt, (ip.frag & WIRE_IP4_OFFSET_MASK) == 0);
		/* RFC 791 3.2, after the address checks (a fragment not for
		 * us, or from a source no error may go to, costs no state):
		 * held until its datagram is whole, which then goes on below
		 * as if it had come in one piece. */
		reason = reasm4_input(st, &ip, pkt, &ip);
		if (reason == REASM4_HELD)
			return 0;
		if (reason != SYNACK_DROP_NONE)
			return ip4_drop(st, reason, &ip);
		pkt = st->reasm->done;
		csum = NET_CSUM_NONE; /* the link vouched for a fragment, not for this */
	}
	if (ip.proto == WIRE_IPPROTO_ICMP) {
		/* For the trace, should TCP drop an error this carries. */
		up->src = addr_v4(ip.src);
		up->dst = addr_v4(ip.dst);
		reason = icmp_input(st, &ip, up);
		return reason == SYNACK_DROP_NONE ? 0 : ip4_drop(st, reason, &ip);
	}
	if (ip.proto != WIRE_IPPROTO_TCP)
		return unknown_proto(st, &ip, pkt, 1);
	/* TCP verifies the checksum of in-sequence text while it copies it
	 * into the receive buffer (tcp_input, wire_tcp_parse_deferred),
	 * unless the link vouched for it (enum net_csum). */
	if (csum == NET_CSUM_UNNECESSARY) {
		struct wire_net net = wire_ip4_net(&ip);
		reason = wire_tcp_parse_trusted(&net, &up->tcp);
	} else {
		reason = wire_tcp_parse_deferred(&ip, &up->tcp);
	}
	if (reason != SYNACK_DROP_NONE) {
		/* RFC 4022 tcpInErrs: segments received in error. */
		STAT_INC(st, InErrs);
		if (reason == SYNACK_DROP_TCP_BAD_CHECKSUM)
			STAT_INC(st, InCsumErrors);
		return ip4_drop(st, reason, &ip);
	}
	STAT_INC(st, InSegs);
	if (csum == NET_CSUM_UNNECESSARY)
		STAT_INC(st, InCsumTrusted);
	up->kind = NET_UP_TCP;
	return 0;
}

/* The route to an IPv4 destination: the verdict of route_lookup, and for
 * ROUTE_VIA and ROUTE_LOCAL the next hop in *hop.  The last answer is kept
 * (route_table's cache): a connection sends to one peer. */
static int route_v4(struct net_layer *st, uint32_t dst, uint32_t *hop)
{
	struct route_table *t = st->rt;
	if (t->cache_ok && t->cache_dst == dst) {
		*hop = t->cache_hop;
		return t->cache_verdict;
	}
	struct addr d = addr_v4(dst), h;
	int verdict = route_lookup(st, &d, &h, NULL, NULL);
	if (verdict != ROUTE_VIA && verdict != ROUTE_LOCAL)
		return verdict;
	*hop = addr_to_v4(&h);
	t->cache_dst = dst;
	t->cache_hop = *hop;
	t->cache_verdict = (uint8_t)verdict;
	t->cache_ok = 1;
	return verdict;
}

static void no_route(struct net_layer *st, uint32_t src, uint32_t dst)
{
	struct addr s = addr_v4(src), d = addr_v4(dst);
	STAT_INC(st, IpOutNoRoutes);
	/* A sent datagram: we are the local end. */
	net_drop(st, SYNACK_DROP_NO_ROUTE, &d, &s);
}

static void queue(struct net_layer *st, int verdict, struct pkt *p)
{
	if (verdict == ROUTE_LOCAL)
		net_loopback_push(st, p);
	else
		net_outbox_push(st, p);
}

static void emit(struct net_layer *st, uint32_t src, uint32_t dst, uint8_t proto, struct pkt *p,
                 size_t len, uint8_t ecn)
{
	wire_ip4_emit_ecn(p->data, src, dst, proto, ENV(st)->cfg.ttl, st->ip_id++, len, ecn);
	p->len = (uint16_t)(len + WIRE_IP4_HDR_LEN);
	STAT_INC(st, IpOutRequests);
}

/* RFC 1122 3.3.1: the route to dst decides where a datagram goes: the
 * outbox with its next hop, the loopback queue (ROUTE_LOCAL), or nowhere
 * (IpOutNoRoutes, no_route). */
static __attribute__((noinline)) void ip4_output_routed(struct net_layer *st, uint32_t src,
                                                        uint32_t dst, uint8_t proto, struct pkt *p,
                                                        size_t len, uint8_t ecn)
{
	uint32_t hop;
	int verdict = route_v4(st, dst, &hop);
	if (verdict != ROUTE_VIA && verdict != ROUTE_LOCAL) {
		no_route(st, src, dst);
		net_pkt_free(st, p);
		return;
	}
	p->hop = hop;
	emit(st, src, dst, proto, p, len, ecn);
	queue(st, verdict, p);
}

void ip4_output(struct net_layer *st, uint32_t src, uint32_t dst, uint8_t proto, struct pkt *p,
                size_t len, uint8_t ecn)
{
	/* Nearly every datagram goes where the last one went, through the
	 * link: that path costs two comparisons more than no routing. */
	const struct route_table *t = st->rt;
	if (!(t->cache_ok && t->cache_dst == dst && t->cache_verdict == ROUTE_VIA)) {
		ip4_output_routed(st, src, dst, proto, p, len, ecn);
		return;
	}
	p->hop = t->cache_hop;
	emit(st, src, dst, proto, p, len, ecn);
	net_outbox_push(st, p);
}

/* Copies n bytes from offset off of the concatenation of head and body. */
static void copy_span(uint8_t *to, size_t off, size_t n, const uint8_t *head, size_t head_len,
                      const uint8_t *body)
{
	if (off < head_len) {
		size_t k = head_len - off < n ? head_len - off : n;
		memcpy(to, head + off, k);
		to += k;
		off += k;
		n -= k;
	}
	if (n)
		memcpy(to, body + (off - head_len), n);
}

int ip4_output_frags(struct net_layer *st, uint32_t src, uint32_t dst, uint8_t proto,
                     const uint8_t *head, size_t head_len, const uint8_t *body, size_t body_len)
{
	size_t total = head_len + body_len;
	size_t room = st->pkt_size - WIRE_IP4_HDR_LEN;
	struct pkt *p;

	if (total <= room) {
		p = net_pkt_alloc(st);
		if (!p)
			return SYNACK_DROP_NO_MEMORY;
		copy_span(p->data + WIRE_IP4_HDR_LEN, 0, total, head, head_len, body);
		ip4_output(st, src, dst, proto, p, total, WIRE_ECN_NOT_ECT);
		return SYNACK_DROP_NONE;
	}
	/* RFC 791 3.2: every fragment but the last carries a multiple of 8
	 * bytes; all carry the datagram's identification, MF but the last,
	 * and their offset in 8-byte units.  DF is clear: these may be
	 * fragmented again on the way. */
	size_t per = room & ~(size_t)7;
	size_t nfrags = (total + per - 1) / per;
	uint32_t hop;
	int verdict = route_v4(st, dst, &hop);
	if (verdict != ROUTE_VIA && verdict != ROUTE_LOCAL) {
		no_route(st, src, dst);
		return SYNACK_DROP_NO_ROUTE;
	}
	/* The datagram leaves whole or not at all: a fragment lost to a full
	 * outbox or to memory would make the others useless to the receiver
	 * (they would wait out its reassembly timer), so every fragment is
	 * made before any is queued. */
	if (st->out_len + nfrags > ENV(st)->cfg.outbox_max) {
		STAT_INC(st, IpOutDiscards);
		return SYNACK_DROP_OUTBOX_FULL;
	}
	struct pkt *first = NULL, **link = &first;
	uint16_t id = st->ip_id++;
	for (size_t off = 0; off < total; off += per) {
		size_t n = total - off < per ? total - off : per;
		uint16_t frag = (uint16_t)(off / 8);
		if (off + n < total)
			frag |= WIRE_IP4_MF;
		p = net_pkt_alloc(st);
		if (!p) {
			while (first) {
				p = first->next;
				net_pkt_free(st, first);
				first = p;
			}
			return SYNACK_DROP_NO_MEMORY;
		}
		copy_span(p->data + WIRE_IP4_HDR_LEN, off, n, head, head_len, body);
		wire_ip4_emit_frag(p->data, src, dst, proto, ENV(st)->cfg.ttl, id, n, frag);
		p->len = (uint16_t)(n + WIRE_IP4_HDR_LEN);
		p->hop = hop;
		*link = p;
		link = &p->next;
	}
	STAT_INC(st, IpOutRequests);
	while (first) {
		p = first->next;
		STAT_INC(st, IpFragCreates);
		queue(st, verdict, first);
		first = p;
	}
	STAT_INC(st, IpFragOKs);
	return SYNACK_DROP_NONE;
}
