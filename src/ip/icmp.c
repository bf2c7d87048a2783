/*
 * ICMP for IPv4.  What we answer: echo requests (RFC 792, RFC 1122
 * 3.2.2.6).  What we send unasked: Protocol Unreachable for datagrams of a
 * protocol we do not implement (RFC 1122 3.2.2.1), rate limited.  What we
 * act on: Destination Unreachable, Time Exceeded and Parameter Problem
 * about a TCP segment we sent, handed to TCP (src/tcp/tcp_err.c).  Source
 * Quench (RFC 6633), Redirect, echo replies and unknown types are counted
 * and dropped.
 */
#include "ip/icmp.h"

#include "ip/ip4.h"
#include "tcp/tcp.h"

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

/*
 * The token bucket of the ICMP errors we send.  Credit is kept in
 * microseconds of virtual time: one token is icmp_ratelimit_ms, the bucket
 * holds icmp_ratelimit_burst tokens.  Linux limits per destination
 * (icmp_ratelimit, a burst of 6) and globally (icmp_msgs_per_sec,
 * icmp_msgs_burst); one bucket for all destinations keeps no per-peer
 * state an attacker could make us allocate.
 */
static int icmp_ratelimit_allows(struct synack_stack *st)
{
	uint64_t token = (uint64_t)st->cfg.icmp_ratelimit_ms * 1000u;
	uint64_t full = token * st->cfg.icmp_ratelimit_burst;
	uint64_t gap = st->now - st->icmp_credit_at;
	if (token == 0)
		return 1;
	st->icmp_credit_at = st->now;
	st->icmp_credit_us = gap >= full - st->icmp_credit_us ? full : st->icmp_credit_us + gap;
	if (st->icmp_credit_us < token)
		return 0;
	st->icmp_credit_us -= token;
	return 1;
}

int icmp_send_error(struct synack_stack *st, const uint8_t *pkt, size_t len, uint8_t type,
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
	 * our own unicast address, so anything else is one of those or not
	 * ours at all) ... */
	if (dst != st->cfg.addr)
		return 0;
	/* ... a fragment other than the first ... */
	if (wire_get16(pkt + 6) & 0x1fff)
		return 0;
	/* ... or a datagram whose source does not name a single host (and
	 * never to ourselves: the error would come back to us). */
	if (!is_unicast(src) || src == st->cfg.addr)
		return 0;
	if (!icmp_ratelimit_allows(st)) {
		STAT_INC(st, IcmpOutRateLimitGlobal);
		return 0;
	}
	p = stack_pkt_alloc(st);
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
	ip4_finish(st, p, st->cfg.addr, src, WIRE_IPPROTO_ICMP, n);
	STAT_INC(st, IcmpOutMsgs);
	if (type == WIRE_ICMP_DEST_UNREACH)
		STAT_INC(st, IcmpOutDestUnreachs);
	ip4_send(st, p);
	return 1;
}

/*
 * RFC 792 / RFC 1122 3.2.2.6: the reply carries the request's identifier,
 * sequence number and data unchanged, from the address the request was
 * sent to (ours).  Echo replies are not rate limited (Linux's default
 * icmp_ratemask does not cover them): a reply is no larger than its
 * request, so answering amplifies nothing.
 */
static int echo_reply(struct synack_stack *st, const struct wire_ip4 *ip, const struct wire_icmp *m)
{
	struct pkt *p;
	size_t n;
	/* We never fragment: a request whose reply would not fit our MTU
	 * (it came larger than our link carries) goes unanswered. */
	if (WIRE_IP4_HDR_LEN + ip->payload_len > st->pkt_size)
		return SYNACK_DROP_ICMP_TOO_BIG;
	p = stack_pkt_alloc(st);
	if (!p) {
		STAT_INC(st, IcmpOutErrors);
		return SYNACK_DROP_NO_MEMORY;
	}
	n = wire_icmp_emit(p->data + WIRE_IP4_HDR_LEN, st->pkt_size - WIRE_IP4_HDR_LEN,
	                   WIRE_ICMP_ECHO_REPLY, 0, m->rest, m->data, m->data_len);
	ip4_finish(st, p, st->cfg.addr, ip->src, WIRE_IPPROTO_ICMP, n);
	STAT_INC(st, IcmpOutMsgs);
	STAT_INC(st, IcmpOutEchoReps);
	ip4_send(st, p);
	return SYNACK_DROP_NONE;
}

/* An error about a datagram: find what it is about.  Only TCP sends
 * datagrams that can draw errors (echo replies may too, but nothing here
 * waits for news of them). */
static int error_arrives(struct synack_stack *st, const struct wire_icmp *m)
{
	/* The quoted datagram must be one of ours. */
	if (m->quote.src != st->cfg.addr)
		return SYNACK_DROP_ICMP_NO_CONN;
	if (m->quote.proto != WIRE_IPPROTO_TCP)
		return SYNACK_DROP_ICMP_IGNORED;
	/* No TCP segment is shorter than 20 bytes: the quote must hold the
	 * ports and the sequence number. */
	if (m->quote.l4_len < 8) {
		STAT_INC(st, IcmpInErrors);
		return SYNACK_DROP_ICMP_BAD_QUOTE;
	}
	return tcp_icmp_error(st, m);
}

int icmp_input(struct synack_stack *st, const struct wire_ip4 *ip)
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
		return error_arrives(st, &m);
	case WIRE_ICMP_TIME_EXCEEDED:
		STAT_INC(st, IcmpInTimeExcds);
		return error_arrives(st, &m);
	case WIRE_ICMP_PARAM_PROBLEM:
		STAT_INC(st, IcmpInParmProbs);
		return error_arrives(st, &m);
	case WIRE_ICMP_SOURCE_QUENCH:
		/* RFC 6633: hosts MUST ignore Source Quench. */
		STAT_INC(st, IcmpInSrcQuenchs);
		return SYNACK_DROP_ICMP_IGNORED;
	case WIRE_ICMP_REDIRECT:
		/* We keep no routing table: every datagram goes to the link. */
		STAT_INC(st, IcmpInRedirects);
		return SYNACK_DROP_ICMP_IGNORED;
	default:
		return SYNACK_DROP_ICMP_IGNORED;
	}
}
