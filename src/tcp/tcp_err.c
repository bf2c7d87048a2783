/*
 * ICMP errors about segments we sent (RFC 1122 4.2.3.9, RFC 5927, RFC 5461,
 * RFC 6633, RFC 1191).  The network layer translates each into a struct
 * net_err first (src/net/net.h: the family's codes become an errno, a
 * cause and a path MTU), so nothing here depends on the IP version.
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
 *
 * A link that cannot resolve a destination (ARP gets no answer) reports it
 * through tcp_unreachable, a sibling of tcp_net_error rather than another
 * kind of struct net_err: it names an address, not one connection and a
 * quoted sequence number, and it comes from our own link, not from the
 * network, so there is nothing for RFC 5927's check to guard against.  Each
 * connection to that address (or routed through it, when it is a
 * gateway) is then treated as for an ICMP host
 * unreachable, which is what Linux turns a failed neighbour into
 * (arp_error_report -> icmp_send), by the same function dest_unreachable.
 */
#include <errno.h>

#include "net/net.h"
#include "tcp/tcp.h"

static int synchronized(int state)
{
	return state != SYNACK_SYN_SENT && state != SYNACK_SYN_RECEIVED;
}

/*
 * RFC 1191: a router could not forward a datagram of ours with DF set.  The
 * network layer has already kept the path MTU at or above min_pmtu, and the
 * MSS stays at or above TCP_MIN_MSS even when min_pmtu is as low as 68, so an
 * attacker who guesses the sequence number can slow the connection down,
 * not make it send 28-byte segments.  It never rises from an ICMP message
 * either.
 */
static int path_mtu_reduced(struct tcb *tcb, uint32_t mtu)
{
	struct tcp_layer *st = tcb->st;
	/* Our SYN and SYN-ACK are at most 64 bytes, below the 68 every
	 * link carries (RFC 791): no honest router sends this about them. */
	if (!synchronized(tcb->state))
		return SYNACK_DROP_ICMP_IGNORED;
	/* Our data segments carry the agreed options (timestamps) only. */
	uint32_t mss =
	    mtu - (uint32_t)ip_hdr_len(&tcb->t.raddr) - WIRE_TCP_HDR_LEN - tcp_opt_overhead(tcb);
	if (mss < TCP_MIN_MSS)
		mss = TCP_MIN_MSS;
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

/*
 * The destination of tcb cannot be reached (err, cause): RFC 1122 4.2.3.9
 * and RFC 5461 as the comment at the top says, by state.
 */
static void dest_unreachable(struct tcb *tcb, int err, int cause)
{
	if (synchronized(tcb->state)) {
		struct tcb_rare *r = tcp_rare(tcb);
		if (r) /* else the timeout, if it comes, says -ETIMEDOUT */
			r->soft_err = err;
		return;
	}
	if (tcb->passive) {
		/* The half-open child goes away; the listener stays, and no
		 * application ever knew of the connection. */
		tcp_set_state(tcb, SYNACK_LISTEN, cause);
		tcp_done(tcb, cause, 0);
	} else {
		tcp_done(tcb, cause, err);
	}
}

int tcp_net_error(struct tcp_layer *st, const struct net_err *e)
{
	struct hnode *n = htable_find(&st->conns, &e->t);
	struct conn_head *h;
	struct tcb *tcb;

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
	if (!seq_in(e->seq, tcb->snd_una, tcb->snd_max)) {
		STAT_INC(st, OutOfWindowIcmps);
		return SYNACK_DROP_ICMP_OUT_OF_WINDOW;
	}

	switch (e->kind) {
	case NET_ERR_PMTU:
		return path_mtu_reduced(tcb, e->mtu);
	case NET_ERR_DEST:
		break;
	default:
		return SYNACK_DROP_ICMP_IGNORED;
	}
	dest_unreachable(tcb, e->err, e->cause);
	return SYNACK_DROP_NONE;
}

struct unreachable_walk {
	const struct net_layer *net;
	const struct addr *raddr;
	int err;
	size_t n;
};

/* Whether a connection to raddr waits on the neighbour hop: raddr itself,
 * or the gateway its route goes through (route.h). */
static int goes_through(const struct net_layer *net, const struct addr *raddr,
                        const struct addr *hop)
{
	struct addr h;
	return addr_eq(raddr, hop) ||
	       (route_lookup(net, raddr, &h, NULL, NULL) == ROUTE_VIA && addr_eq(&h, hop));
}

static void unreachable_conn(void *ctx, struct hnode *n)
{
	struct unreachable_walk *w = ctx;
	struct conn_head *h = container_of(n, struct conn_head, node);
	/* TIME_WAIT records have nothing in flight and nobody waiting. */
	if (h->node.kind != CONN_TCB || !goes_through(w->net, &n->key.raddr, w->raddr))
		return;
	w->n++;
	/* May free the TCB: htable_foreach allows removing the node it
	 * is called for. */
	dest_unreachable(container_of(h, struct tcb, h), w->err, SYNACK_CAUSE_NEIGH_FAILED);
}

size_t tcp_unreachable(struct tcp_layer *st, const struct addr *raddr, int err)
{
	/* A walk over every connection: a link gives up on an address at most
	 * once per resolution (about 3 s), so this is rare, and it spares
	 * every connection an index by remote address. */
	struct unreachable_walk w = {&st->net, raddr, err, 0};
	htable_foreach(&st->conns, unreachable_conn, &w);
	return w.n;
}

int tcp_timeout_error(const struct tcb *tcb)
{
	/* RFC 1122 4.2.3.9: a soft error is reported when the connection
	 * times out; Linux reports it instead of ETIMEDOUT. */
	return tcp_soft_err(tcb) ? tcp_soft_err(tcb) : -ETIMEDOUT;
}
