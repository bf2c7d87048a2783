/*
 * IPv6 (RFC 8200): datagrams in, their extension headers walked (wire6.c),
 * validated and handed up; transport payloads out, wrapped in the fixed
 * header with a flow label (RFC 6437).  Fragments addressed to us are
 * reassembled (RFC 8200 4.5, reasm4.c, within the budget IPv4's share) and
 * the datagram put together goes on as if it had come whole; an atomic
 * fragment (RFC 6946) is whole already.  We never fragment: TCP sizes its
 * segments by the path MTU.
 */
#include "net/ip6.h"

#include "core/siphash.h"
#include "net/icmp6.h"
#include "net/net.h"
#include "wire/wire6.h"

uint32_t ip6_flow_label(const struct net_layer *st, const struct addr *src, const struct addr *dst,
                        uint8_t proto, const uint8_t *l4, size_t l4_len)
{
	/* RFC 6437 3: "Flow Label = F(Source Address, Destination Address,
	 * Protocol, Source Port, Destination Port)", F a keyed hash so that
	 * labels are uniformly distributed and not predictable (RFC 6437 6). */
	uint8_t b[16 + 16 + 4 + 1];
	wire_addr6_to_bytes(src, b);
	wire_addr6_to_bytes(dst, b + 16);
	memset(b + 32, 0, 4);
	if (proto == WIRE_IPPROTO_TCP && l4_len >= 4)
		memcpy(b + 32, l4, 4);
	b[36] = proto;
	return (uint32_t)siphash13_words(st->key_flow, b, sizeof(b)) & 0xfffff;
}

void ip6_output(struct net_layer *st, const struct addr *src, const struct addr *dst, uint8_t proto,
                struct pkt *p, size_t len, uint8_t ecn)
{
	/* RFC 8200 / RFC 4861 5.2: the route decides where a datagram goes,
	 * as for IPv4 (ip4.c): the outbox, our own input (a destination of
	 * ours), or nowhere (Ip6OutNoRoutes).  Its next hop is looked up
	 * again when it leaves (net_next_hop6). */
	struct addr hop;
	int verdict = route_lookup(st, dst, &hop, NULL, NULL);
	if (verdict != ROUTE_VIA && verdict != ROUTE_LOCAL) {
		STAT_INC(st, Ip6OutNoRoutes);
		net_drop(st, SYNACK_DROP_NO_ROUTE, dst, src); /* we are the local end */
		net_pkt_free(st, p);
		return;
	}
	uint8_t *l4 = p->data + WIRE_IP6_HDR_LEN;
	uint32_t flow = ip6_flow_label(st, src, dst, proto, l4, len);
	wire_ip6_emit(p->data, src, dst, proto, ENV(st)->cfg.ttl, flow, len, ecn);
	p->len = (uint16_t)(len + WIRE_IP6_HDR_LEN);
	STAT_INC(st, Ip6OutRequests);
	if (verdict == ROUTE_LOCAL)
		net_loopback_push(st, p);
	else
		net_outbox_push(st, p);
}

struct addr net_next_hop6(const struct net_layer *n, const struct pkt *p)
{
	struct addr dst = wire_addr6_from_bytes(p->data + 24);
	return route_next_hop(n, &dst);
}

int ip6_input(struct net_layer *st, const uint8_t *pkt, size_t len, int csum, struct net_up *up)
{
	struct wire_ip6 ip;
	int reason;

	up->kind = NET_UP_NONE;
	STAT_INC(st, Ip6InReceives);
	reason = wire_ip6_parse(pkt, len, &ip);
	if (reason == SYNACK_DROP_IP_TRUNCATED || reason == SYNACK_DROP_IP_BAD_VERSION) {
		STAT_INC(st, Ip6InHdrErrors);
		return net_drop(st, reason, NULL, NULL);
	}
	net_count_ecn(st, ip.tclass);
	/* The fixed header is whole: its addresses are known.  A datagram
	 * not for us, or from a source no answer may go to, costs nothing
	 * more (RFC 4291 2.7: multicast is never a source; RFC 4443 2.4 e). */
	if (!net_is_local6(st, &ip.dst)) {
		STAT_INC(st, Ip6InAddrErrors);
		return net_drop(st, SYNACK_DROP_IP_NOT_FOR_US, &ip.src, &ip.dst);
	}
	/* ... and our own source only from ourselves (the loopback queue):
	 * from the link it is a martian, as for IPv4. */
	if (!net_addr6_is_unicast(&ip.src) || (!st->in_lo && net_is_local6(st, &ip.src))) {
		STAT_INC(st, Ip6InAddrErrors);
		return net_drop(st, SYNACK_DROP_IP_BAD_SRC, &ip.src, &ip.dst);
	}
	if (reason == SYNACK_DROP_IP6_FRAGMENT) {
		/* After the address checks (a fragment not for us, or from a
		 * source no error may go to, costs no state): held until its
		 * datagram is whole, which is then parsed and goes on. */
		reason = reasm6_input(st, &ip, pkt);
		if (reason == REASM4_HELD)
			return 0;
		if (reason != SYNACK_DROP_NONE)
			return net_drop(st, reason, &ip.src, &ip.dst);
		pkt = st->reasm->done;
		len = st->reasm->done_len;
		csum = NET_CSUM_NONE; /* the link vouched for a fragment, not for this */
		reason = wire_ip6_parse(pkt, len, &ip);
		/* A Fragment header in what was put together: a datagram
		 * fragmented twice, which no sender makes (RFC 8200 4.1: each
		 * extension header at most once). */
		if (reason == SYNACK_DROP_IP6_FRAGMENT) {
			STAT_INC(st, Ip6ReasmFails);
			return net_drop(st, reason, &ip.src, &ip.dst);
		}
	}
	if (reason != SYNACK_DROP_NONE) {
		STAT_INC(st, Ip6InHdrErrors);
		if (ip.pp)
			icmp6_send_error(st, pkt, len, WIRE_ICMP6_PARAM_PROBLEM,
			                 (uint8_t)(ip.pp - 1), ip.pp_ptr);
		return net_drop(st, reason, &ip.src, &ip.dst);
	}
	if (ip.proto == WIRE_IPPROTO_ICMPV6) {
		/* For the trace, should TCP drop an error this carries. */
		up->src = ip.src;
		up->dst = ip.dst;
		reason = icmp6_input(st, &ip, up);
		return reason == SYNACK_DROP_NONE ? 0 : net_drop(st, reason, &ip.src, &ip.dst);
	}
	if (ip.proto != WIRE_IPPROTO_TCP) {
		/* RFC 8200 4: an unrecognized Next Header is answered with a
		 * Parameter Problem code 1 pointing at it; No Next Header
		 * (59) ends the datagram and asks for nothing. */
		STAT_INC(st, Ip6InUnknownProtos);
		if (ip.proto != WIRE_IPPROTO_NONE)
			icmp6_send_error(st, pkt, len, WIRE_ICMP6_PARAM_PROBLEM,
			                 WIRE_ICMP6_PP_NEXT_HEADER, ip.nh_off);
		return net_drop(st, SYNACK_DROP_IP_NOT_TCP, &ip.src, &ip.dst);
	}
	struct wire_net net = wire_ip6_net(&ip);
	reason = csum == NET_CSUM_UNNECESSARY ? wire_tcp_parse_trusted(&net, &up->tcp)
	                                      : wire_tcp_parse_net(&net, &up->tcp);
	if (reason != SYNACK_DROP_NONE) {
		STAT_INC(st, InErrs);
		if (reason == SYNACK_DROP_TCP_BAD_CHECKSUM)
			STAT_INC(st, InCsumErrors);
		return net_drop(st, reason, &ip.src, &ip.dst);
	}
	STAT_INC(st, InSegs);
	if (csum == NET_CSUM_UNNECESSARY)
		STAT_INC(st, InCsumTrusted);
	up->kind = NET_UP_TCP;
	return 0;
}
