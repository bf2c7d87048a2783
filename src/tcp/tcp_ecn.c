/*
 * Explicit Congestion Notification for TCP (RFC 3168 section 6.1), as
 * Linux runs it with tcp_ecn (RFC 8311's relaxations only where Linux
 * follows them: it does not, for ECT on SYNs, pure ACKs or
 * retransmissions, so neither do we).
 *
 * Negotiation (6.1.1): with the setting ecn = 1 our SYN asks (ECE and
 * CWR); a peer's SYN that asks is answered by a SYN-ACK with ECE alone when
 * ecn is 1 or 2, without it when ecn is 0, and is never dropped for asking.
 * Once agreed, new data is sent ECT(0) (tcp_ecn_out, tcp.h); a router
 * under congestion marks it CE instead of dropping it; the receiver echoes
 * the mark with ECE on its ACKs until it sees CWR (6.1.3); the sender
 * reduces its window once per round trip for it, as for a loss but
 * without retransmitting, and sets CWR on its next new data (6.1.2).
 *
 * The IP layer carries the codepoint: up in struct wire_tcp's ecn (set
 * from the network header), down as ip_output's ecn.
 */
#include "tcp/tcp.h"

#define ECN_SETUP (SYNACK_TH_ECE | SYNACK_TH_CWR)

uint8_t tcp_ecn_syn_flags(const struct tcb *tcb)
{
	if (!tcb->ecn_ok)
		return 0;
	if (tcb->state == SYNACK_SYN_SENT) {
		/* RFC 3168 6.1.1.1: a SYN sent again after a timeout may be
		 * lost to a middlebox that drops ECN-setup SYNs; like Linux
		 * (tcp_ecn_fallback) it no longer asks.  A SYN-ACK that
		 * still agrees, answering the first SYN, is taken. */
		if (tcb->backoff && ENV(tcb->st)->cfg.ecn_fallback)
			return 0;
		return ECN_SETUP;
	}
	/* RFC 3168 6.1.1: an ECN-setup SYN-ACK has ECE and not CWR. */
	return SYNACK_TH_ECE;
}

int tcp_ecn_syn_accept(const struct tcp_layer *st, const struct wire_tcp *syn)
{
	/* RFC 3168 6.1.1: a SYN with ECE and CWR asks for ECN; any other
	 * combination does not. */
	if ((syn->flags & ECN_SETUP) != ECN_SETUP || ENV(st)->cfg.ecn == 0)
		return 0;
	/* A SYN must not be ECN-capable (RFC 3168 6.1.1); one that arrives
	 * ECT or CE was rewritten on its way, and a path that rewrites the
	 * field cannot be trusted to carry marks.  Linux declines ECN then
	 * (tcp_ecn_create_request), and so do we: the SYN is still answered. */
	return syn->ecn == WIRE_ECN_NOT_ECT;
}

void tcp_ecn_syn_sent(struct tcb *tcb, const struct wire_tcp *w)
{
	uint8_t f = w->flags & ECN_SETUP;
	if (!tcb->ecn_ok)
		return;
	/* RFC 3168 6.1.1: the SYN-ACK agrees with ECE alone; one with both
	 * bits is a reflector of our flags, not an ECN peer.  In a
	 * simultaneous open the peer's SYN must ask, as ours did. */
	if (w->flags & SYNACK_TH_ACK)
		tcb->ecn_ok = f == SYNACK_TH_ECE;
	else
		tcb->ecn_ok = f == ECN_SETUP;
}

void tcp_ecn_text(struct tcb *tcb, struct tcp_rx *s)
{
	/* RFC 3168 6.1.3: the peer reduced its window: stop echoing.  It
	 * may now send one segment at a time, so the ACK goes at once
	 * (Linux's tcp_ecn_accept_cwr).  CWR first, so that a segment
	 * carrying both CWR and a new CE mark starts the echo again. */
	if (tcp_rx_has(s, SYNACK_TH_CWR)) {
		tcb->ecn_demand_cwr = 0;
		s->ack_now = 1;
	}
	/* RFC 3168 6.1.3: a CE mark is echoed with ECE on every ACK until
	 * CWR arrives.  The first mark of an episode is acknowledged at once
	 * rather than delayed, as Linux's quick-ack mode does: the sender
	 * learns of the congestion a delayed-ACK timeout sooner. */
	if (s->w->ecn == WIRE_ECN_CE && !tcb->ecn_demand_cwr) {
		tcb->ecn_demand_cwr = 1;
		s->ack_now = 1;
	}
}

void tcp_ecn_echo(struct tcb *tcb, const struct tcp_rx *s)
{
	struct tcp_layer *st = tcb->st;
	struct tcp_sender *snd = tcb->sender;
	/* Linux's TCPDeliveredCE: the segments this ACK reports delivered
	 * with a congestion mark (one for a duplicate ACK: one arrived). */
	uint32_t acked = seq_gt(s->ack, tcb->snd_una) ? s->ack - tcb->snd_una : 0;
	ENV(st)->stats.TCPDeliveredCE += acked ? (acked + tcb->snd_mss - 1) / tcb->snd_mss : 1;
	if (!snd)
		return;
	/* RFC 3168 6.1.2: at most one reduction per round trip.  The round
	 * trip of the last one ends once the data sent after it (from
	 * ecn_cwr_end, the first carrying CWR) is acknowledged: until then
	 * an ECE may still answer marks from before the reduction. */
	if (tcb->ecn_cwr) {
		if (!seq_gt(tcb->snd_una, snd->ecn_cwr_end))
			return;
		tcb->ecn_cwr = 0;
	}
	/* Loss recovery already reduced the window in this round trip (and
	 * a timeout to one segment): the ECE adds nothing (RFC 3168 6.1.2,
	 * "the sender should not reduce ... in response to both"). */
	if (tcb->ca_state != SYNACK_CA_OPEN)
		return;
	/* As for a loss (RFC 5681 3.1's ssthresh, through the algorithm), but
	 * nothing is sent again: cwnd falls to the new ssthresh at once. */
	struct tcp_cc_event ev = {
	    .now = ENV(st)->now,
	    .flight = tcp_cc_flight(tcb),
	    .signal = CC_SIG_ECN_ECHO,
	    .cause = CC_CAUSE_ECN,
	};
	tcb->ssthresh = tcp_cc_ssthresh(tcb, &ev);
	if (tcb->cwnd > tcb->ssthresh)
		tcb->cwnd = tcb->ssthresh;
	tcb->ecn_cwr = 1;
	tcb->ecn_queue_cwr = 1;
	snd->ecn_cwr_end = tcb->snd_max;
	tcp_cc_event(tcb, &ev);
}

uint32_t tcp_ecn_info(const struct tcb *tcb)
{
	uint32_t f = 0;
	if (tcb->ecn_ok)
		f |= SYNACK_TCPI_ECN_OK;
	if (tcb->ecn_demand_cwr)
		f |= SYNACK_TCPI_ECN_ECE;
	if (tcb->ecn_cwr && tcb->sender && !seq_gt(tcb->snd_una, tcb->sender->ecn_cwr_end))
		f |= SYNACK_TCPI_ECN_CWR;
	return f;
}
