/*
 * IPv4 (RFC 791, RFC 1122 3.2.1): datagrams in, validated and handed up;
 * transport payloads out, wrapped in a header.
 */
#include "net/ip4.h"

#include "net/icmp4.h"
#include "net/net.h"
#include "wire/wire.h"

/* Counts and traces a dropped datagram; src and dst are NULL when its
 * header did not parse. */
static int net_drop(struct net_layer *st, int reason, const struct addr *src,
                    const struct addr *dst)
{
	struct synack_trace *r;
	env_count_drop(ENV(st), reason);
	r = trace_add(ENV(st), SYNACK_TRACE_DROP);
	if (r) {
		r->reason = (uint8_t)reason;
		if (src) {
			env_endpoint_zeroed(&r->local, dst, 0);
			env_endpoint_zeroed(&r->remote, src, 0);
		}
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

int ip4_input(struct net_layer *st, const uint8_t *pkt, size_t len, struct net_up *up)
{
	struct wire_ip4 ip;
	int reason;

	up->kind = NET_UP_NONE;
	STAT_INC(st, IpInReceives);
	reason = wire_ip4_parse(pkt, len, &ip);
	if (reason == SYNACK_DROP_IP_FRAGMENT) {
		/* Reassembly is not implemented: fragments are counted as
		 * reassembly failures (RFC 4293 ipSystemStatsReasmFails). */
		STAT_INC(st, IpReasmFails);
		return ip4_drop(st, reason, NULL);
	}
	if (reason != SYNACK_DROP_NONE) {
		STAT_INC(st, IpInHdrErrors);
		return ip4_drop(st, reason, NULL);
	}
	if (ip.dst != ENV(st)->cfg.addr) {
		STAT_INC(st, IpInAddrErrors);
		return ip4_drop(st, SYNACK_DROP_IP_NOT_FOR_US, &ip);
	}
	if (is_bad_source(ip.src)) {
		STAT_INC(st, IpInAddrErrors);
		return ip4_drop(st, SYNACK_DROP_IP_BAD_SRC, &ip);
	}
	if (ip.proto == WIRE_IPPROTO_ICMP) {
		/* For the trace, should TCP drop an error this carries. */
		up->src = addr_v4(ip.src);
		up->dst = addr_v4(ip.dst);
		reason = icmp_input(st, &ip, up);
		return reason == SYNACK_DROP_NONE ? 0 : ip4_drop(st, reason, &ip);
	}
	if (ip.proto != WIRE_IPPROTO_TCP) {
		/* RFC 1122 3.2.2.1: Protocol Unreachable when the transport
		 * protocol is not supported.  We have no UDP either, so a
		 * UDP datagram gets this too rather than Port Unreachable. */
		STAT_INC(st, IpInUnknownProtos);
		icmp_send_error(st, pkt, len, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PROTO_UNREACH, 0);
		return ip4_drop(st, SYNACK_DROP_IP_NOT_TCP, &ip);
	}
	reason = wire_tcp_parse(&ip, &up->tcp);
	if (reason != SYNACK_DROP_NONE) {
		/* RFC 4022 tcpInErrs: segments received in error. */
		STAT_INC(st, InErrs);
		if (reason == SYNACK_DROP_TCP_BAD_CHECKSUM)
			STAT_INC(st, InCsumErrors);
		return ip4_drop(st, reason, &ip);
	}
	STAT_INC(st, InSegs);
	up->kind = NET_UP_TCP;
	return 0;
}

void ip4_output(struct net_layer *st, uint32_t src, uint32_t dst, uint8_t proto, struct pkt *p,
                size_t len)
{
	wire_ip4_emit(p->data, src, dst, proto, ENV(st)->cfg.ttl, st->ip_id++, len);
	p->len = (uint16_t)(len + WIRE_IP4_HDR_LEN);
	STAT_INC(st, IpOutRequests);
	net_outbox_push(st, p);
}
