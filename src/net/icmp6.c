/*
 * ICMPv6 (RFC 4443).  What we answer: echo requests (4.1, 4.2).  What we
 * send unasked: Parameter Problem for the datagrams RFC 8200 tells a host
 * to answer so (an unrecognized Next Header, option or routing type),
 * within the ICMP rate limit shared with ICMPv4.  What we act on:
 * Destination Unreachable, Packet Too Big, Time Exceeded and Parameter
 * Problem about a TCP segment we sent, translated into the same
 * family-neutral struct net_err as ICMPv4's, so TCP (src/tcp/tcp_err.c)
 * applies the same RFC 5927 checks.  Neighbour discovery (RFC 4861),
 * Redirect and echo replies are counted and dropped for now.
 */
#include "net/icmp6.h"

#include <errno.h>

#include "net/ip6.h"
#include "net/net.h"

/* RFC 4443 2.4 (c): an error carries as much of the offending datagram as
 * fits a datagram of the IPv6 minimum MTU. */
#define ICMP6_ERROR_MAX WIRE_IP6_MIN_MTU
/* The Redirect message (RFC 4861 4.5), never answered with an error. */
#define ICMP6_REDIRECT 137

int icmp6_send_error(struct net_layer *st, const uint8_t *pkt, size_t len, uint8_t type,
                     uint8_t code, uint32_t rest)
{
	if (len < WIRE_IP6_HDR_LEN)
		return 0;
	size_t total = WIRE_IP6_HDR_LEN + (size_t)wire_get16(pkt + 4);
	if (total > len)
		total = len;
	struct addr src = wire_addr6_from_bytes(pkt + 8), dst = wire_addr6_from_bytes(pkt + 24);
	/* RFC 4443 2.4 (e.1, e.2): never an error about an ICMPv6 error
	 * message or a Redirect (nor about an ICMPv6 message too short to
	 * tell which it is) ... */
	uint8_t proto;
	size_t off = wire_ip6_upper(pkt, total, &proto);
	if (off && proto == WIRE_IPPROTO_ICMPV6 &&
	    (off == total || pkt[off] < 128 || pkt[off] == ICMP6_REDIRECT))
		return 0;
	/* ... (e.3) about a datagram to a multicast address (we take only
	 * our unicast address, so anything else is one of those or not ours
	 * at all) ... */
	if (!net_is_local6(st, &dst))
		return 0;
	/* ... (e.6) or one whose source names no single node (and never to
	 * ourselves). */
	if (!net_addr6_is_unicast(&src) || net_is_local6(st, &src))
		return 0;
	if (!net_icmp_ratelimit_allows(st)) {
		STAT_INC(st, IcmpOutRateLimitGlobal);
		return 0;
	}
	struct pkt *p = net_pkt_alloc(st);
	if (!p) {
		STAT_INC(st, Icmp6OutErrors);
		return 0;
	}
	size_t quote = ICMP6_ERROR_MAX - WIRE_IP6_HDR_LEN - WIRE_ICMP_HDR_LEN;
	if (quote > total)
		quote = total;
	size_t n = wire_icmp6_emit(p->data + WIRE_IP6_HDR_LEN, st->pkt_size - WIRE_IP6_HDR_LEN,
	                           &dst, &src, type, code, rest, pkt, quote);
	ip6_output(st, &dst, &src, WIRE_IPPROTO_ICMPV6, p, n, WIRE_ECN_NOT_ECT);
	STAT_INC(st, Icmp6OutMsgs);
	if (type == WIRE_ICMP6_DEST_UNREACH)
		STAT_INC(st, Icmp6OutDestUnreachs);
	else if (type == WIRE_ICMP6_TIME_EXCEEDED)
		STAT_INC(st, Icmp6OutTimeExcds);
	else if (type == WIRE_ICMP6_PARAM_PROBLEM)
		STAT_INC(st, Icmp6OutParmProblems);
	return 1;
}

/*
 * RFC 4443 4.2: the reply carries the request's identifier, sequence
 * number and data, from the address the request was sent to (ours, a
 * unicast one).  Not rate limited, as ICMPv4's: a reply is no larger than
 * its request.  We send no fragments: a request whose reply would not fit
 * our MTU (it came over a link with a larger one) is dropped
 * (icmp_too_big).
 */
static int echo_reply(struct net_layer *st, const struct wire_ip6 *ip, const struct wire_icmp6 *m)
{
	size_t n = WIRE_ICMP_HDR_LEN + m->data_len;
	if (n > st->pkt_size - WIRE_IP6_HDR_LEN)
		return SYNACK_DROP_ICMP_TOO_BIG;
	struct pkt *p = net_pkt_alloc(st);
	if (!p) {
		STAT_INC(st, Icmp6OutErrors);
		return SYNACK_DROP_NO_MEMORY;
	}
	n = wire_icmp6_emit(p->data + WIRE_IP6_HDR_LEN, st->pkt_size - WIRE_IP6_HDR_LEN, &ip->dst,
	                    &ip->src, WIRE_ICMP6_ECHO_REPLY, 0, m->rest, m->data, m->data_len);
	ip6_output(st, &ip->dst, &ip->src, WIRE_IPPROTO_ICMPV6, p, n, WIRE_ECN_NOT_ECT);
	STAT_INC(st, Icmp6OutMsgs);
	STAT_INC(st, Icmp6OutEchoReplies);
	return SYNACK_DROP_NONE;
}

/* Destination Unreachable codes (RFC 4443 3.1) as errnos: Linux's
 * icmpv6_err_convert, so an application sees what it would see on the
 * kernel's TCP.  0 for codes RFC 4443 does not define. */
static int unreach_errno(uint8_t code)
{
	switch (code) {
	case WIRE_ICMP6_NO_ROUTE:
		return -ENETUNREACH;
	case WIRE_ICMP6_BEYOND_SCOPE:
	case WIRE_ICMP6_ADDR_UNREACH:
		return -EHOSTUNREACH;
	case WIRE_ICMP6_PORT_UNREACH:
		return -ECONNREFUSED;
	case WIRE_ICMP6_ADMIN_PROHIBITED:
	case WIRE_ICMP6_POLICY_FAIL:
	case WIRE_ICMP6_REJECT_ROUTE:
		return -EACCES;
	default:
		return 0;
	}
}

/* An error about a datagram: find what it is about and say it in the
 * terms TCP understands, as icmp4.c's error_arrives does. */
static int error_arrives(struct net_layer *st, const struct wire_icmp6 *m, struct net_up *up)
{
	const struct wire_icmp6_quote *q = &m->quote;
	struct net_err *e = &up->err;

	/* The quoted datagram must be one of ours. */
	if (!net_is_local6(st, &q->src))
		return SYNACK_DROP_ICMP_NO_CONN;
	if (q->proto != WIRE_IPPROTO_TCP)
		return SYNACK_DROP_ICMP_IGNORED;
	/* The ports and the sequence number. */
	if (q->l4_len < 8) {
		STAT_INC(st, Icmp6InErrors);
		return SYNACK_DROP_ICMP_BAD_QUOTE;
	}
	e->t = (struct tuple){.laddr = q->src,
	                      .raddr = q->dst,
	                      .lport = wire_get16(q->l4),
	                      .rport = wire_get16(q->l4 + 2)};
	e->seq = wire_get32(q->l4 + 4);
	e->kind = NET_ERR_DEST;
	e->err = 0;
	e->cause = 0;
	e->mtu = 0;
	switch (m->type) {
	case WIRE_ICMP6_DEST_UNREACH:
		e->err = unreach_errno(m->code);
		e->cause = SYNACK_CAUSE_ICMP_UNREACHABLE;
		if (e->err == 0)
			e->kind = NET_ERR_IGNORED;
		break;
	case WIRE_ICMP6_PACKET_TOO_BIG:
		/* RFC 8201 4: the MTU of the next hop, but never below the
		 * IPv6 minimum of 1280 (a smaller one is a lie or a link that
		 * must fragment below IP; RFC 8021 has no atomic fragments
		 * sent for it) nor below min_pmtu. */
		e->kind = NET_ERR_PMTU;
		e->mtu = m->rest > 0xffff ? 0xffff : m->rest;
		if (e->mtu < WIRE_IP6_MIN_MTU)
			e->mtu = WIRE_IP6_MIN_MTU;
		if (e->mtu < ENV(st)->cfg.min_pmtu)
			e->mtu = ENV(st)->cfg.min_pmtu;
		break;
	case WIRE_ICMP6_TIME_EXCEEDED:
		e->err = -EHOSTUNREACH;
		e->cause = SYNACK_CAUSE_ICMP_TIME_EXCEEDED;
		break;
	case WIRE_ICMP6_PARAM_PROBLEM:
		e->err = -EPROTO;
		e->cause = SYNACK_CAUSE_ICMP_PARAM_PROBLEM;
		break;
	default:
		/* Unassigned error types (RFC 4443 2.1): nothing to act on. */
		e->kind = NET_ERR_IGNORED;
		break;
	}
	up->kind = NET_UP_TCP_ERROR;
	return SYNACK_DROP_NONE;
}

int icmp6_input(struct net_layer *st, const struct wire_ip6 *ip, struct net_up *up)
{
	struct wire_icmp6 m;
	struct wire_net net = wire_ip6_net(ip);
	int reason;

	STAT_INC(st, Icmp6InMsgs);
	reason = wire_icmp6_parse(&net, &m);
	if (reason != SYNACK_DROP_NONE) {
		STAT_INC(st, Icmp6InErrors);
		if (reason == SYNACK_DROP_ICMP_BAD_CHECKSUM)
			STAT_INC(st, Icmp6InCsumErrors);
		return reason;
	}
	switch (m.type) {
	case WIRE_ICMP6_ECHO:
		STAT_INC(st, Icmp6InEchos);
		return echo_reply(st, ip, &m);
	case WIRE_ICMP6_ECHO_REPLY:
		/* We send no echo requests. */
		STAT_INC(st, Icmp6InEchoReplies);
		return SYNACK_DROP_ICMP_IGNORED;
	case WIRE_ICMP6_DEST_UNREACH:
		STAT_INC(st, Icmp6InDestUnreachs);
		return error_arrives(st, &m, up);
	case WIRE_ICMP6_PACKET_TOO_BIG:
		STAT_INC(st, Icmp6InPktTooBigs);
		return error_arrives(st, &m, up);
	case WIRE_ICMP6_TIME_EXCEEDED:
		STAT_INC(st, Icmp6InTimeExcds);
		return error_arrives(st, &m, up);
	case WIRE_ICMP6_PARAM_PROBLEM:
		STAT_INC(st, Icmp6InParmProblems);
		return error_arrives(st, &m, up);
	default:
		/* Neighbour discovery (RFC 4861) and the rest: not yet. */
		return m.is_error ? error_arrives(st, &m, up) : SYNACK_DROP_ICMP_IGNORED;
	}
}
