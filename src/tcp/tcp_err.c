/*
 * ICMP errors about segments we sent (RFC 1122 4.2.3.9, RFC 5927, RFC 5461,
 * RFC 6633, RFC 1191).
 *
 * The connection is found from the quoted headers, and the quoted sequence
 * number must be one we sent and is still unacknowledged, SND.UNA <= SEG.SEQ
 * < SND.MAX (RFC 5927 4.1): a blind attacker must then guess it, as for a
 * RST.  What follows depends on the state, not on RFC 1122's hard/soft split:
 *
 *  - SYN_SENT and SYN_RECEIVED: every Destination Unreachable (but
 *    Fragmentation Needed), Time Exceeded and Parameter Problem ends the
 *    attempt (RFC 5461; Linux and the BSDs do this): an active open fails
 *    with the errno Linux gives, a passive one returns to LISTEN.
 *  - Synchronized states: every error is soft (RFC 5927 5.2 treats even hard
 *    errors as soft there, against blind resets).  It is kept in the TCB and
 *    reported instead of -ETIMEDOUT if the connection later times out, as
 *    Linux does; an acknowledgment of new data clears it.
 *  - Fragmentation Needed lowers the send MSS (RFC 1191) and sends what is
 *    outstanding again in segments that fit.
 */
#include <errno.h>

#include "tcp/tcp.h"

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

static int synchronized(int state)
{
	return state != SYNACK_SYN_SENT && state != SYNACK_SYN_RECEIVED;
}

/*
 * RFC 1191: a router could not forward a datagram of ours with DF set.  The
 * path MTU never drops below min_pmtu (Linux's min_pmtu, 552, unless set
 * otherwise): an attacker who guesses the sequence number can slow the
 * connection down, not make it send 28-byte segments.  It never rises from
 * an ICMP message either.
 */
static int path_mtu_reduced(struct tcb *tcb, const struct wire_icmp *m)
{
	struct synack_stack *st = tcb->st;
	/* Our SYN and SYN-ACK are at most 64 bytes, below the 68 every
	 * link carries (RFC 791): no honest router sends this about them. */
	if (!synchronized(tcb->state))
		return SYNACK_DROP_ICMP_IGNORED;
	uint32_t mtu = m->mtu ? m->mtu : plateau_below(m->quote.total_len);
	if (mtu < st->cfg.min_pmtu)
		mtu = st->cfg.min_pmtu;
	/* Our data segments carry no TCP options. */
	uint32_t mss = mtu - WIRE_IP4_HDR_LEN - WIRE_TCP_HDR_LEN;
	if (mss >= tcb->snd_mss)
		return SYNACK_DROP_NONE; /* already small enough: nothing to do */
	tcb->snd_mss = mss;
	STAT_INC(st, PmtuReductions);
	if (tcb->snd_una == tcb->snd_max)
		return SYNACK_DROP_NONE;
	/* What is in flight was sent in segments too large for the path and
	 * is lost: send it again from SND.UNA in segments that fit.  This
	 * is not congestion, so the windows stay as they are (Linux's
	 * tcp_simple_retransmit does the same); a running RTT measurement
	 * is abandoned (Karn). */
	tcb->rtt_timing = 0;
	tcb->snd_nxt = tcb->snd_una;
	tcp_output(tcb);
	tcp_rearm(tcb);
	return SYNACK_DROP_NONE;
}

int tcp_icmp_error(struct synack_stack *st, const struct wire_icmp *m)
{
	const struct wire_icmp_quote *q = &m->quote;
	/* The quote is of a segment we sent: we are its source. */
	struct tuple key = {q->src, q->dst, wire_get16(q->l4), wire_get16(q->l4 + 2)};
	uint32_t seq = wire_get32(q->l4 + 4);
	struct hnode *n = htable_find(&st->conns, &key);
	struct conn_head *h;
	struct tcb *tcb;
	int err, cause;

	/* No connection, or one in TIME_WAIT, which has nothing in flight. */
	if (!n)
		return SYNACK_DROP_ICMP_NO_CONN;
	h = container_of(n, struct conn_head, node);
	if (h->node.kind != CONN_TCB)
		return SYNACK_DROP_ICMP_NO_CONN;
	tcb = container_of(h, struct tcb, h);

	/* RFC 5927 4.1: SND.UNA <= SEG.SEQ < SND.NXT, with SND.MAX for
	 * SND.NXT since a timeout moves SND.NXT back (Linux's
	 * OutOfWindowIcmps counts the failures). */
	if (!seq_in(seq, tcb->snd_una, tcb->snd_max)) {
		STAT_INC(st, OutOfWindowIcmps);
		return SYNACK_DROP_ICMP_OUT_OF_WINDOW;
	}

	switch (m->type) {
	case WIRE_ICMP_DEST_UNREACH:
		if (m->code == WIRE_ICMP_FRAG_NEEDED)
			return path_mtu_reduced(tcb, m);
		/* Codes past 15 are not defined (RFC 1812 5.2.7.1). */
		if (m->code > 15)
			return SYNACK_DROP_ICMP_IGNORED;
		err = unreach_errno(m->code);
		cause = SYNACK_CAUSE_ICMP_UNREACHABLE;
		break;
	case WIRE_ICMP_TIME_EXCEEDED:
		err = -EHOSTUNREACH;
		cause = SYNACK_CAUSE_ICMP_TIME_EXCEEDED;
		break;
	case WIRE_ICMP_PARAM_PROBLEM:
		err = -EPROTO;
		cause = SYNACK_CAUSE_ICMP_PARAM_PROBLEM;
		break;
	default:
		/* Source Quench (RFC 6633) and Redirect do not get here. */
		return SYNACK_DROP_ICMP_IGNORED;
	}

	if (synchronized(tcb->state)) {
		struct tcb_rare *r = tcp_rare(tcb);
		if (r) /* else the timeout, if it comes, says -ETIMEDOUT */
			r->soft_err = err;
		return SYNACK_DROP_NONE;
	}
	if (tcb->passive) {
		/* The half-open child goes away; the listener stays, and no
		 * application ever knew of the connection. */
		tcp_set_state(tcb, SYNACK_LISTEN, cause);
		tcp_done(tcb, cause, 0);
	} else {
		tcp_done(tcb, cause, err);
	}
	return SYNACK_DROP_NONE;
}

int tcp_timeout_error(const struct tcb *tcb)
{
	/* RFC 1122 4.2.3.9: a soft error is reported when the connection
	 * times out; Linux reports it instead of ETIMEDOUT. */
	return tcp_soft_err(tcb) ? tcp_soft_err(tcb) : -ETIMEDOUT;
}
