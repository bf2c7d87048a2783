#include "ip/ip4.h"

#include "ip/icmp.h"

#include "tcp/tcp.h"
#include "wire/wire.h"

static int ip4_drop(struct synack_stack *st, int reason, const struct wire_ip4 *ip)
{
	struct synack_trace *r;
	stack_count_drop(st, reason);
	r = trace_add(st, SYNACK_TRACE_DROP);
	if (r) {
		r->reason = (uint8_t)reason;
		if (ip) {
			r->local.addr = ip->dst;
			r->remote.addr = ip->src;
		}
	}
	return reason;
}

static int is_bad_source(uint32_t a)
{
	/* RFC 1122 3.2.1.3: a datagram from a broadcast, multicast or
	 * "this network" source address is silently discarded. */
	return a == 0 || a == 0xffffffffu || (a >> 28) == 0xe || (a >> 24) == 0;
}

int ip4_input(struct synack_stack *st, const uint8_t *pkt, size_t len)
{
	struct wire_ip4 ip;
	struct wire_tcp tcp;
	int reason;

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
	if (ip.dst != st->cfg.addr) {
		STAT_INC(st, IpInAddrErrors);
		return ip4_drop(st, SYNACK_DROP_IP_NOT_FOR_US, &ip);
	}
	if (is_bad_source(ip.src)) {
		STAT_INC(st, IpInAddrErrors);
		return ip4_drop(st, SYNACK_DROP_IP_BAD_SRC, &ip);
	}
	if (ip.proto == WIRE_IPPROTO_ICMP) {
		reason = icmp_input(st, &ip);
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
	reason = wire_tcp_parse(&ip, &tcp);
	if (reason != SYNACK_DROP_NONE) {
		/* RFC 4022 tcpInErrs: segments received in error. */
		STAT_INC(st, InErrs);
		if (reason == SYNACK_DROP_TCP_BAD_CHECKSUM)
			STAT_INC(st, InCsumErrors);
		return ip4_drop(st, reason, &ip);
	}
	STAT_INC(st, InSegs);
	return tcp_input(st, &tcp);
}

void ip4_finish(struct synack_stack *st, struct pkt *p, uint32_t src, uint32_t dst, uint8_t proto,
                size_t len)
{
	wire_ip4_emit(p->data, src, dst, proto, st->cfg.ttl, st->ip_id++, len);
	p->len = (uint16_t)(len + WIRE_IP4_HDR_LEN);
}

void ip4_send(struct synack_stack *st, struct pkt *p)
{
	STAT_INC(st, IpOutRequests);
	stack_outbox_push(st, p);
}
