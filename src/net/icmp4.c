/*
 * ICMP for IPv4.  What we answer: echo requests (RFC 792, RFC 1122
 * 3.2.2.6).  What we send unasked: Protocol Unreachable for datagrams of a
 * protocol we do not implement (RFC 1122 3.2.2.1) and Time Exceeded for
 * datagrams whose reassembly timed out (reasm4.c), rate limited.  What we
 * act on: Destination Unreachable, Time Exceeded and Parameter Problem
 * about a TCP segment we sent, translated into a family-neutral struct
 * net_err that the stack hands to TCP (src/tcp/tcp_err.c).  Source
 * Quench (RFC 6633), Redirect, echo replies and unknown types are counted
 * and dropped.
 */
#include "net/icmp4.h"

#include <errno.h>

#include "net/ip4.h"
#include "net/net.h"

/* RFC 792: the informational (query) types.  Anything else -- the error
 * types and types we do not know -- counts as an error message, about
 * which no error is ever sent (RFC 1122 3.2.2; Linux treats unknown types
 * the same way). */
static int icmp_is_query(uint8_t type)
{
	switch (type) {
	case WIRE_ICMP_ECHO_REPLY:
	case WIRE_ICMP_ECHO:
	case 9:  /* router advertisement (RFC 1256) */
	case 10: /* router solicitation */
	case 13: /* timestamp */
	case 14: /* timestamp reply */
	case 15: /* information request */
	case 16: /* information reply */
	case 17: /* address mask request (RFC 950) */
	case 18: /* address mask reply */
		return 1;
	default:
		return 0;
	}
}

/* RFC 1122 3.2.2 / RFC 1812 4.3.2.7: an address that names one host: not
 * "this network" (0/8), loopback (127/8), multicast (224/4), class E or
 * the limited broadcast (240/4). */
static int is_unicast(uint32_t a)
{
	uint32_t net = a >> 24;
	return net != 0 && net != 127 && (a >> 28) < 0xe;
}

int icmp_send_error(struct net_layer *st, const uint8_t *pkt, size_t len, uint8_t type,
                    uint8_t code, uint32_t rest)
{
	size_t hdr_len, total, quote;
	uint32_t src, dst;
	struct pkt *p;

	if (len < WIRE_IP4_HDR_LEN)
		return 0;
	hdr_len = (size_t)(pkt[0] & 0x0f) * 4;
	total = wire_get16(pkt + 2);
	if (total > len)
		total = len;
	if (hdr_len < WIRE_IP4_HDR_LEN || hdr_len > total)
		return 0;
	src = wire_get32(pkt + 12);
	dst = wire_get32(pkt + 16);

	/* RFC 1122 3.2.2: never an error about an ICMP error message (nor
	 * about an ICMP message too short to tell) ... */
	if (pkt[9] == WIRE_IPPROTO_ICMP && (total == hdr_len || !icmp_is_query(pkt[hdr_len])))
		return 0;
	/* ... a datagram to a broadcast or multicast address (we take only
	 * our own unicast addresses, so anything else is one of those or not
	 * ours at all) ... */
	struct addr d = addr_v4(dst), s = addr_v4(src);
	if (!route_is_ours(st, &d, st->in_lo))
		return 0;
	/* ... a fragment other than the first ... */
	if (wire_get16(pkt + 6) & 0x1fff)
		return 0;
	/* ... or a datagram whose source does not name a single host (and
	 * never to ourselves: the error would come back to us). */
	if (!is_unicast(src) || route_is_ours(st, &s, 1))
		return 0;
	if (!net_icmp_ratelimit_allows(st)) {
		STAT_INC(st, IcmpOutRateLimitGlobal);
		return 0;
	}
	p = net_pkt_alloc(st);
	if (!p) {
		STAT_INC(st, IcmpOutErrors);
		return 0;
	}
	/* RFC 792 asks for the header and 8 bytes; we quote as much as fits
	 * in a 576-byte datagram, as RFC 1812 4.3.2.3 and Linux do, so the
	 * sender sees more of what it sent. */
	quote = ICMP_ERROR_MAX - WIRE_IP4_HDR_LEN - WIRE_ICMP_HDR_LEN;
	if (quote > total)
		quote = total;
	size_t n = wire_icmp_emit(p->data + WIRE_IP4_HDR_LEN, st->pkt_size - WIRE_IP4_HDR_LEN, type,
	                          code, rest, pkt, quote);
	/* From the address the datagram was sent to (RFC 1812 4.3.2.4 asks
	 * routers for their interface's; a host has the one it was sent). */
	ip4_output(st, dst, src, WIRE_IPPROTO_ICMP, p, n, WIRE_ECN_NOT_ECT);
	STAT_INC(st, IcmpOutMsgs);
	if (type == WIRE_ICMP_DEST_UNREACH)
		STAT_INC(st, IcmpOutDestUnreachs);
	else if (type == WIRE_ICMP_TIME_EXCEEDED)
		STAT_INC(st, IcmpOutTimeExcds);
	return 1;
}

/*
 * RFC 792 / RFC 1122 3.2.2.6: the reply carries the request's identifier,
 * sequence number and data unchanged, from the address the request was
 * sent to (ours).  Echo replies are not rate limited (Linux's default
 * icmp_ratemask does not cover them): a reply is no larger than its
 * request, so answering amplifies nothing.  A reply larger than our MTU
 * (to a request that came in fragments, or over a link with a larger
 * MTU) goes in fragments: RFC 1122 3.3.2 lets hosts send them, and
 * `ping -s 3000` expects an answer.  It is the only datagram we fragment.
 */
static int echo_reply(struct net_layer *st, const struct wire_ip4 *ip, const struct wire_icmp *m)
{
	uint8_t hdr[WIRE_ICMP_HDR_LEN];
	/* The request's checksum was verified, so its header and data sum to
	 * zero (RFC 1071): the data's sum is the complement of the header's,
	 * and a 64 KiB reply is not summed a second time (RFC 1624's
	 * incremental update, in effect). */
	uint32_t data_sum =
	    wire_csum_fold(wire_csum_add(0, m->data - WIRE_ICMP_HDR_LEN, WIRE_ICMP_HDR_LEN));
	wire_icmp_emit_hdr(hdr, WIRE_ICMP_ECHO_REPLY, 0, m->rest, data_sum);
	int reason = ip4_output_frags(st, ip->dst, ip->src, WIRE_IPPROTO_ICMP, hdr, sizeof(hdr),
	                              m->data, m->data_len);
	if (reason != SYNACK_DROP_NONE) {
		STAT_INC(st, IcmpOutErrors);
		return reason;
	}
	STAT_INC(st, IcmpOutMsgs);
	STAT_INC(st, IcmpOutEchoReps);
	return SYNACK_DROP_NONE;
}

/* Destination Unreachable codes as errnos: Linux's icmp_err_convert, so an
 * application sees what it would see on the kernel's TCP. */
static int unreach_errno(uint8_t code)
{
	switch (code) {
	case 0:  /* net unreachable */
	case 6:  /* destination network unknown */
	case 9:  /* network administratively prohibited */
	case 11: /* network unreachable for TOS */
		return -ENETUNREACH;
	case 2: /* protocol unreachable */
		return -ENOPROTOOPT;
	case 3: /* port unreachable */
		return -ECONNREFUSED;
	case 4: /* fragmentation needed: handled by path MTU discovery */
		return -EMSGSIZE;
	case 5: /* source route failed */
		return -EOPNOTSUPP;
	case 7: /* destination host unknown */
		return -EHOSTDOWN;
	case 8: /* source host isolated */
		return -ENONET;
	default: /* 1 host unreachable, 10 and 12 host prohibited / for TOS,
	          * 13-15 communication administratively prohibited */
		return -EHOSTUNREACH;
	}
}

/* RFC 1191 7: the plateaus of common MTUs, to estimate the next-hop MTU
 * when an old router sends Fragmentation Needed without one. */
static uint32_t plateau_below(uint32_t len)
{
	static const uint16_t plateaus[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296};
	for (size_t i = 0; i < sizeof(plateaus) / sizeof(plateaus[0]); i++)
		if (plateaus[i] < len)
			return plateaus[i];
	return 68;
}

/* An error about a datagram: find what it is about and say it in the
 * terms TCP understands (struct net_err).  Only TCP sends datagrams that
 * can draw errors (echo replies may too, but nothing here waits for news
 * of them). */
static int error_arrives(struct net_layer *st, const struct wire_icmp *m, struct net_up *up)
{
	const struct wire_icmp_quote *q = &m->quote;
	struct net_err *e = &up->err;

	/* The quoted datagram must be one of ours. */
	struct addr qsrc = addr_v4(m->quote.src);
	if (!route_is_ours(st, &qsrc, 1))
		return SYNACK_DROP_ICMP_NO_CONN;
	if (m->quote.proto != WIRE_IPPROTO_TCP)
		return SYNACK_DROP_ICMP_IGNORED;
	/* No TCP segment is shorter than 20 bytes: the quote must hold the
	 * ports and the sequence number. */
	if (m->quote.l4_len < 8) {
		STAT_INC(st, IcmpInErrors);
		return SYNACK_DROP_ICMP_BAD_QUOTE;
	}
	/* The quote is of a segment we sent: we are its source. */
	e->t = (struct tuple){.laddr = addr_v4(q->src),
	                      .raddr = addr_v4(q->dst),
	                      .lport = wire_get16(q->l4),
	                      .rport = wire_get16(q->l4 + 2)};
	e->seq = wire_get32(q->l4 + 4);
	e->kind = NET_ERR_DEST;
	e->err = 0;
	e->cause = 0;
	e->mtu = 0;
	switch (m->type) {
	case WIRE_ICMP_DEST_UNREACH:
		if (m->code == WIRE_ICMP_FRAG_NEEDED) {
			/* RFC 1191: the next-hop MTU, or an estimate from the
			 * quoted length when an old router left it out; never
			 * below min_pmtu (Linux's, 552 unless set otherwise). */
			e->kind = NET_ERR_PMTU;
			e->mtu = m->mtu ? m->mtu : plateau_below(q->total_len);
			if (e->mtu < ENV(st)->cfg.min_pmtu)
				e->mtu = ENV(st)->cfg.min_pmtu;
		} else if (m->code > 15) {
			/* Codes past 15 are not defined (RFC 1812 5.2.7.1). */
			e->kind = NET_ERR_IGNORED;
		} else {
			e->err = unreach_errno(m->code);
			e->cause = SYNACK_CAUSE_ICMP_UNREACHABLE;
		}
		break;
	case WIRE_ICMP_TIME_EXCEEDED:
		e->err = -EHOSTUNREACH;
		e->cause = SYNACK_CAUSE_ICMP_TIME_EXCEEDED;
		break;
	case WIRE_ICMP_PARAM_PROBLEM:
		e->err = -EPROTO;
		e->cause = SYNACK_CAUSE_ICMP_PARAM_PROBLEM;
		break;
	default:
		/* Source Quench (RFC 6633) and Redirect do not get here. */
		e->kind = NET_ERR_IGNORED;
		break;
	}
	up->kind = NET_UP_TCP_ERROR;
	return SYNACK_DROP_NONE;
}

int icmp_input(struct net_layer *st, const struct wire_ip4 *ip, struct net_up *up)
{
	struct wire_icmp m;
	int reason;

	STAT_INC(st, IcmpInMsgs);
	reason = wire_icmp_parse(ip, &m);
	if (reason != SYNACK_DROP_NONE) {
		/* RFC 4293 icmpStatsInErrors: bad checksums, bad lengths. */
		STAT_INC(st, IcmpInErrors);
		if (reason == SYNACK_DROP_ICMP_BAD_CHECKSUM)
			STAT_INC(st, IcmpInCsumErrors);
		return reason;
	}
	switch (m.type) {
	case WIRE_ICMP_ECHO:
		STAT_INC(st, IcmpInEchos);
		return echo_reply(st, ip, &m);
	case WIRE_ICMP_ECHO_REPLY:
		/* We send no echo requests. */
		STAT_INC(st, IcmpInEchoReps);
		return SYNACK_DROP_ICMP_IGNORED;
	case WIRE_ICMP_DEST_UNREACH:
		STAT_INC(st, IcmpInDestUnreachs);
		return error_arrives(st, &m, up);
	case WIRE_ICMP_TIME_EXCEEDED:
		STAT_INC(st, IcmpInTimeExcds);
		return error_arrives(st, &m, up);
	case WIRE_ICMP_PARAM_PROBLEM:
		STAT_INC(st, IcmpInParmProbs);
		return error_arrives(st, &m, up);
	case WIRE_ICMP_SOURCE_QUENCH:
		/* RFC 6633: hosts MUST ignore Source Quench. */
		STAT_INC(st, IcmpInSrcQuenchs);
		return SYNACK_DROP_ICMP_IGNORED;
	case WIRE_ICMP_REDIRECT:
		/* Ignored: routes change only through the API (synack_route_add).
		 * RFC 1122 3.2.2.2 has hosts heed redirects, but one from off the
		 * path could steer our traffic, and a static setup needs none. */
		STAT_INC(st, IcmpInRedirects);
		return SYNACK_DROP_ICMP_IGNORED;
	default:
		return SYNACK_DROP_ICMP_IGNORED;
	}
}
