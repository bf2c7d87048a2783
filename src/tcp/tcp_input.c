/*
 * SEGMENT ARRIVES (RFC 9293 3.10.7): the entry point and the RFC's steps.
 *
 * CLOSED and SYN-SENT have one function each here (3.10.7.1, 3.10.7.3);
 * LISTEN is tcp_listen.c's (3.10.7.2) and TIME-WAIT's compact records
 * tcp_timewait.c's.  The synchronized states run the RFC's checks in its
 * order, one function each: check sequence, check RST, check SYN, check
 * ACK, (URG), process text, check FIN.  Every step returns a verdict (struct
 * tcp_verdict, tcp.h): go on, accepted or dropped with a named reason, what
 * to send, and whether the connection ends.  No step sends by itself: one
 * exit block, apply_verdict, records the arrival in the trace as received
 * or dropped with its reason, counts it, sends what the verdict asks for,
 * ends the connection and rearms its timer.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "tcp/tcp.h"

/* ------------------------------------------------------------------ */
/* The exit block.                                                     */

static void trace_arrival(struct tcp_layer *st, struct tcp_rx *s, struct tcp_verdict v)
{
	struct trace_rec *r = trace_slot(ENV(st), s->trace_idx);
	int dropped = v.action == TCP_V_DROP;
	if (dropped) {
		env_count_drop(ENV(st), v.reason);
		s->dropped = v.reason;
	}
	if (!r)
		return;
	r->kind = dropped ? SYNACK_TRACE_DROP : SYNACK_TRACE_RX;
	r->reason = dropped ? v.reason : 0;
	r->iss = s->iss;
	r->irs = s->irs;
}

/*
 * Whether the ACK that answers an unacceptable segment is left out
 * (invalid_ratelimit_ms, as Linux's tcp_invalid_ratelimit).  Only pure ACKs
 * are limited: an ACK loop between two ends that disagree about the
 * sequence numbers is made of them, while a segment with data, SYN or FIN
 * is answered every time so that a peer whose ACK was lost can finish.
 */
static int oow_ack_limited(struct tcp_layer *st, const struct tcp_rx *s)
{
	uint64_t limit_us = (uint64_t)ENV(st)->cfg.invalid_ratelimit_ms * 1000u;
	if (!limit_us || s->w->data_len || tcp_rx_has(s, SYNACK_TH_SYN | SYNACK_TH_FIN))
		return 0;
	/* The connection's own time, never one shared by connections
	 * (tcp.h, struct tw, says why): a TIME-WAIT record's, or the TCB's
	 * in its rare state (none without memory for it). */
	if (s->tw) {
		if (tcp_tw_may_answer(st, s->tw, ENV(st)->cfg.invalid_ratelimit_ms))
			return 0;
		STAT_INC(st, AckSkippedSeq);
		return 1;
	}
	struct tcb_rare *r = tcp_rare(s->tcb);
	uint64_t *last = r ? &r->oow_ack_at : NULL;
	/* Without memory to remember the last answer: no answer, the side
	 * of the limit that cannot be turned into an ACK storm. */
	if (!last || (*last != SYNACK_NEVER && ENV(st)->now - *last < limit_us)) {
		STAT_INC(st, AckSkippedSeq);
		return 1;
	}
	*last = ENV(st)->now;
	return 0;
}

/* An ACK of the arrival's connection or TIME-WAIT record. */
static void send_ack(struct tcp_layer *st, const struct tcp_rx *s)
{
	if (s->tw)
		tcp_tw_send_ack(st, s->tw);
	else
		tcp_send_ack(s->tcb);
}

/* What the windows allow, then the ACK the segment asked for if nothing
 * sent carried it: at once or delayed (RFC 9293 3.10.7.4, RFC 1122
 * 4.2.3.2). */
static void send_data(struct tcb *tcb, const struct tcp_rx *s)
{
	tcb->ack_owed = s->need_ack;
	tcp_output(tcb);
	if (tcb->ack_owed) {
		tcb->ack_owed = 0;
		tcp_ack_later(tcb, s->ack_now, s->data_len);
	}
}

/*
 * The one exit block: every arrival ends here with its verdict.  The order
 * is the order segments and trace records leave in: the arrival's trace
 * record (reserved when it arrived, so it precedes what it causes), what is
 * sent, then the end of the connection (a reset or a last ACK leaves
 * before the state change to CLOSED or TIME_WAIT is traced), then the timer.
 */
static void apply_verdict(struct tcp_layer *st, struct tcp_rx *s, struct tcp_verdict v)
{
	struct tcb *tcb = s->tcb;
	trace_arrival(st, s, v);
	switch (v.send) {
	case TCP_SEND_NONE:
		break;
	case TCP_SEND_ACK:
		send_ack(st, s);
		break;
	case TCP_SEND_OOW_ACK:
		if (!oow_ack_limited(st, s))
			send_ack(st, s);
		break;
	case TCP_SEND_CHALLENGE_ACK:
		if (s->tw)
			tcp_tw_challenge_ack(st, s->tw);
		else
			tcp_challenge_ack(tcb);
		break;
	case TCP_SEND_RST_REPLY:
		tcp_reset_reply(st, s->w);
		break;
	case TCP_SEND_RST_CONN:
		tcp_send_rst_for(tcb);
		break;
	case TCP_SEND_SYN_ACK:
		tcp_send_syn_first(tcb);
		break;
	case TCP_SEND_SYN_AGAIN:
		tcp_send_syn_again(tcb);
		break;
	case TCP_SEND_COOKIE_SYN_ACK:
		tcp_listen_send_cookie(tcb, s);
		break;
	case TCP_SEND_DATA:
		send_data(tcb, s);
		break;
	}
	/* The one place a connection ends on arrival; after it, tcb and
	 * s->tw are gone. */
	switch (v.end) {
	case TCP_END_NONE:
		if (v.rearm)
			tcp_rearm(tcb);
		break;
	case TCP_END_CLOSED:
		tcp_done(tcb, v.cause, v.err);
		break;
	case TCP_END_TIME_WAIT:
		tcp_time_wait(tcb, v.cause);
		break;
	case TCP_END_TW:
		tcp_tw_free(st, s->tw, v.cause);
		break;
	}
}

static void begin_trace(struct tcp_layer *st, struct tcp_rx *s)
{
	const struct wire_tcp *w = s->w;
	struct trace_rec *r;
	s->trace_idx = trace_reserve(ENV(st));
	r = trace_slot(ENV(st), s->trace_idx);
	if (!r)
		return;
	r->kind = SYNACK_TRACE_RX;
	env_trace_ends(ENV(st), r, &w->daddr, w->dport, &w->saddr, w->sport);
	r->flags = w->flags;
	r->seq = w->seq;
	r->ack = w->ack;
	r->len = w->data_len;
	r->win = w->wnd;
	tcp_trace_opts(st, r, w->flags, &w->opts);
	r->ecn = w->ecn;
	if (w->opts.sack_count)
		tcp_trace_sack(st, r, &w->opts);
}

/* ------------------------------------------------------------------ */
/* CLOSED (RFC 9293 3.10.7.1): no connection exists.                   */

static struct tcp_verdict closed_segment_arrives(struct tcp_rx *s)
{
	s->irs = s->seq;
	if (tcp_rx_has(s, SYNACK_TH_RST))
		return TCP_DROP(CLOSED_RST);
	return TCP_DROP_SEND(RST_REPLY, NO_SOCKET);
}

/* ------------------------------------------------------------------ */
/* What LISTEN and SYN-SENT share.                                     */

void tcp_learn_peer(struct tcb *tcb, const struct tcp_rx *s)
{
	tcb->irs = s->seq;
	tcb->rcv_nxt = s->seq + 1;
	tcb->rcv_adv = tcb->rcv_nxt;
	tcb->snd_wnd = s->wnd;
	tcb->max_snd_wnd = s->wnd;
	tcb->snd_wl1 = s->seq;
	tcb->snd_wl2 = s->ack;
	tcp_opt_learn(tcb, s->w);
}

void tcp_enter_established(struct tcb *tcb, int cause)
{
	/* RFC 6298 5.7: after a SYN (or SYN-ACK) was retransmitted on a
	 * timeout, data transmission starts with an RTO of at least 3 s
	 * unless an RTT was measured.  The retransmission count says so on
	 * both sides: a passive open's ACK already cleared the backoff. */
	if (tcb->total_retrans && tcb->srtt_us == 0 && tcb->rto_us < 3000000u)
		tcb->rto_us = 3000000u;
	tcb->backoff = 0;
	tcp_cc_init(tcb);
	tcp_autotune_init(tcb);
	tcp_snd_buf_expand(tcb);
	tcp_set_state(tcb, SYNACK_ESTABLISHED, cause);
	tcp_keepalive_reset(tcb);
}

/* ------------------------------------------------------------------ */
/* SYN-SENT (RFC 9293 3.10.7.3).                                       */

static struct tcp_verdict process_text(struct tcb *tcb, struct tcp_rx *s);
static struct tcp_verdict check_fin(struct tcb *tcb, struct tcp_rx *s);
static void trim_to_window(struct tcb *tcb, struct tcp_rx *s, uint32_t wnd);

static struct tcp_verdict syn_sent_segment_arrives(struct tcb *tcb, struct tcp_rx *s)
{
	int ack_ok = 0;
	/* First, check the ACK bit: it must acknowledge our SYN and nothing
	 * beyond, ISS < SEG.ACK =< SND.NXT. */
	if (tcp_rx_has(s, SYNACK_TH_ACK)) {
		if (seq_leq(s->ack, tcb->iss) || seq_gt(s->ack, tcb->snd_max)) {
			if (tcp_rx_has(s, SYNACK_TH_RST))
				return TCP_DROP(SYN_SENT_BAD_ACK);
			return TCP_DROP_SEND(RST_REPLY, SYN_SENT_BAD_ACK);
		}
		ack_ok = 1;
	}
	/* Second, check the RST bit: with an acceptable ACK the peer refused
	 * us (RFC 5961 3.2 is satisfied by the ACK check above). */
	if (tcp_rx_has(s, SYNACK_TH_RST)) {
		if (!ack_ok)
			return TCP_DROP(SYN_SENT_RST_NO_ACK);
		STAT_INC(tcb->st, InRsts);
		return tcp_v_end(TCP_ACCEPT, TCP_END_CLOSED, SYNACK_CAUSE_RCV_RST, -ECONNREFUSED);
	}
	/* Fourth, check the SYN bit. */
	if (!tcp_rx_has(s, SYNACK_TH_SYN))
		return TCP_DROP(SYN_SENT_NO_SYN);

	tcp_learn_peer(tcb, s);
	tcp_ecn_syn_sent(tcb, s->w);
	s->irs = tcb->irs;
	if (!ack_ok) {
		/* Simultaneous open: a SYN without ACK.  Our SYN is still
		 * unacknowledged; what we send from now on is SYN-ACK. */
		tcb->snd_wl2 = tcb->iss;
		tcp_set_state(tcb, SYNACK_SYN_RECEIVED, SYNACK_CAUSE_RCV_SYN);
		return TCP_ACCEPT_SEND(SYN_AGAIN);
	}
	tcb->snd_una = s->ack;
	if (tcb->tfo_req || tcb->tfo_syn_data)
		tcp_fastopen_synack(tcb, s);
	if (tcb->rtt_timing && !tcb->backoff)
		tcp_rtt_sample(tcb, (uint32_t)(ENV(tcb->st)->now - tcb->rtt_start));
	tcb->rtt_timing = 0;
	tcb->rtx_at = SYNACK_NEVER;
	/* Quiet from here unless SYN data is outstanding: after a
	 * retransmission timeout the sender's state rests (tcp_snd_rest.c). */
	if (tcb->snd_una == tcb->snd_max)
		tcp_buf_kept(tcb);
	tcp_enter_established(tcb, SYNACK_CAUSE_RCV_SYN_ACK);
	/* The timer is rearmed here, before the text, and not again in the
	 * exit block: the retransmission deadline just went away, and what
	 * follows arms its own deadlines (this order is what the recorded
	 * traces show). */
	tcp_rearm(tcb);
	/* Text or a FIN on the SYN-ACK: continue at the sixth step. */
	trim_to_window(tcb, s, tcp_rcv_window(tcb));
	struct tcp_verdict v = process_text(tcb, s);
	if (v.action == TCP_V_CONTINUE)
		v = check_fin(tcb, s);
	if (v.action != TCP_V_CONTINUE)
		return v;
	/* Data queued while in SYN-SENT carries the ACK of the SYN-ACK;
	 * without data the ACK goes at once. */
	s->need_ack = s->ack_now = 1;
	return TCP_ACCEPT_SEND(DATA);
}

/* ------------------------------------------------------------------ */
/* Synchronized states (RFC 9293 3.10.7.4).                            */

/*
 * First, check the sequence number against the receive window, using the
 * four cases of the acceptability test, then trim the text to the window.
 */
static struct tcp_verdict check_sequence(struct tcb *tcb, struct tcp_rx *s)
{
	uint32_t wnd = tcp_rcv_window(tcb);
	uint32_t nxt = tcb->rcv_nxt;
	/* RCV.WND is the window we advertised: the edge once offered is
	 * honoured (RFC 9293 3.8.6), also where the scaled field can no
	 * longer say it (tcp_rcv_window rounds a promise that overshoots the
	 * buffer's room by a unit or more down, RFC 7323 Appendix F).  A
	 * sender filling it exactly then lost the last bytes of a segment to
	 * the trim below and queued the rest of the window out of order
	 * behind them.  tcp_rcv_deliver takes in up to a unit less one past
	 * the buffer, which bounds it. */
	uint32_t promised = seq_gt(tcb->rcv_adv, nxt) ? tcb->rcv_adv - nxt : 0;
	if (promised > wnd && tcb->rcv_wscale) {
		uint32_t room = tcp_rcv_space(tcb) + (1u << tcb->rcv_wscale) - 1;
		uint32_t honoured = promised < room ? promised : room;
		if (honoured > wnd)
			wnd = honoured;
	}
	int ok;
	if (s->len == 0)
		ok = wnd == 0 ? s->seq == nxt : seq_in(s->seq, nxt, nxt + wnd);
	else
		ok = wnd != 0 && (seq_in(s->seq, nxt, nxt + wnd) ||
		                  seq_in(s->seq + s->len - 1, nxt, nxt + wnd));
	/* With a zero window, valid ACKs and RSTs must still get through:
	 * a segment at RCV.NXT is taken for its control bits, its text
	 * trimmed away below. */
	if (!ok && wnd == 0 && s->seq == nxt)
		ok = 1;
	if (!ok) {
		if (tcp_rx_has(s, SYNACK_TH_RST))
			return TCP_DROP(RST_OUT_OF_WINDOW);
		/* The peer's SYN again while ours is unacknowledged: our
		 * SYN-ACK was lost, so the useful "ACK" is the SYN-ACK itself
		 * (what Linux and FreeBSD do; a bare ACK would be dropped by
		 * a peer in SYN-SENT). */
		if (tcb->state == SYNACK_SYN_RECEIVED && tcp_rx_has(s, SYNACK_TH_SYN) &&
		    !tcp_rx_has(s, SYNACK_TH_ACK) && s->seq == tcb->irs)
			return TCP_DROP_SEND(SYN_AGAIN, DUP_SYN);
		/* RFC 5961 4.2: a SYN gets a challenge ACK whatever its
		 * sequence number (rate-limited like every challenge). */
		if (tcp_rx_has(s, SYNACK_TH_SYN)) {
			STAT_INC(tcb->st, SynChallenge);
			return TCP_DROP_SEND(CHALLENGE_ACK, SYN_CHALLENGED);
		}
		/* RFC 2883 4.1.1: text that all arrived before is reported
		 * in a D-SACK block on the ACK that answers it. */
		uint32_t data_seq = s->seq + !!tcp_rx_has(s, SYNACK_TH_SYN);
		if (s->w->data_len && seq_leq(data_seq + s->w->data_len, nxt))
			tcp_rcv_dsack(tcb, data_seq, data_seq + s->w->data_len, 0);
		return TCP_DROP_SEND(OOW_ACK, SEQ_OUT_OF_WINDOW);
	}
	trim_to_window(tcb, s, wnd);
	return TCP_CONTINUE;
}

/* Only the new part of a segment that straddles the window edges is
 * processed: old bytes on the left and bytes past the window (wnd, as the
 * caller just computed it) on the right are cut off (a FIN past the
 * window goes with them). */
static void trim_to_window(struct tcb *tcb, struct tcp_rx *s, uint32_t wnd)
{
	uint32_t nxt = tcb->rcv_nxt;
	uint32_t wnd_end = nxt + wnd;
	s->data = s->w->data;
	s->data_seq = s->seq + !!tcp_rx_has(s, SYNACK_TH_SYN);
	s->data_len = s->w->data_len;
	s->fin = tcp_rx_has(s, SYNACK_TH_FIN);
	if (seq_lt(s->data_seq, nxt)) {
		uint32_t cut = nxt - s->data_seq;
		if (cut >= s->data_len) {
			/* All text is old; the FIN is old too unless it sits
			 * exactly at RCV.NXT. */
			if (s->fin && s->data_seq + s->data_len != nxt)
				s->fin = 0;
			cut = s->data_len;
		}
		/* RFC 2883 4.1.1: the old part is a duplicate (D-SACK). */
		tcp_rcv_dsack(tcb, s->data_seq, s->data_seq + cut, 0);
		s->data += cut;
		s->data_len -= cut;
		s->data_seq += cut;
		if (cut)
			s->need_ack = s->ack_now = 1;
	}
	if (seq_gt(s->data_seq + s->data_len, wnd_end)) {
		s->data_len = seq_gt(wnd_end, s->data_seq) ? wnd_end - s->data_seq : 0;
		s->fin = 0;
		s->need_ack = s->ack_now = 1;
	}
}

/* Second, check the RST bit: only an exact match resets (RFC 5961 3.2). */
static struct tcp_verdict check_rst(struct tcb *tcb, struct tcp_rx *s)
{
	struct tcp_layer *st = tcb->st;
	if (!tcp_rx_has(s, SYNACK_TH_RST))
		return TCP_CONTINUE;
	if (s->seq != tcb->rcv_nxt) {
		STAT_INC(st, RstChallenge);
		return TCP_DROP_SEND(CHALLENGE_ACK, RST_CHALLENGED);
	}
	STAT_INC(st, InRsts);
	switch (tcb->state) {
	case SYNACK_SYN_RECEIVED:
		if (tcb->passive) {
			/* Back to LISTEN: the embryonic connection goes away,
			 * the listener stays. */
			tcp_set_state(tcb, SYNACK_LISTEN, SYNACK_CAUSE_RCV_RST);
			return tcp_v_end(TCP_ACCEPT, TCP_END_CLOSED, SYNACK_CAUSE_RCV_RST, 0);
		}
		return tcp_v_end(TCP_ACCEPT, TCP_END_CLOSED, SYNACK_CAUSE_RCV_RST, -ECONNREFUSED);
	case SYNACK_ESTABLISHED:
	case SYNACK_FIN_WAIT_1:
	case SYNACK_FIN_WAIT_2:
		return tcp_v_end(TCP_ACCEPT, TCP_END_CLOSED, SYNACK_CAUSE_RCV_RST, -ECONNRESET);
	case SYNACK_CLOSE_WAIT:
		/* RFC 9293 says "connection reset"; the error is Linux's
		 * (tcp_reset: EPIPE in CLOSE_WAIT): the peer had already
		 * finished, so what failed is our side's writing. */
		return tcp_v_end(TCP_ACCEPT, TCP_END_CLOSED, SYNACK_CAUSE_RCV_RST, -EPIPE);
	default: /* CLOSING, LAST_ACK */
		return tcp_v_end(TCP_ACCEPT, TCP_END_CLOSED, SYNACK_CAUSE_RCV_RST, 0);
	}
}

/* Fourth, check the SYN bit (the third, security, does not apply). */
static struct tcp_verdict check_syn(struct tcb *tcb, struct tcp_rx *s)
{
	if (!tcp_rx_has(s, SYNACK_TH_SYN))
		return TCP_CONTINUE;
	if (tcb->state == SYNACK_SYN_RECEIVED && tcb->passive) {
		/* RFC 9293: a passive open returns to LISTEN. */
		tcp_set_state(tcb, SYNACK_LISTEN, SYNACK_CAUSE_RCV_SYN);
		return tcp_v_end(TCP_ACCEPT, TCP_END_CLOSED, SYNACK_CAUSE_RCV_SYN, 0);
	}
	/* RFC 5961 4.2: whatever its sequence number, answer with a challenge
	 * ACK; a peer that really restarted answers that with a RST. */
	STAT_INC(tcb->st, SynChallenge);
	return TCP_DROP_SEND(CHALLENGE_ACK, SYN_CHALLENGED);
}

/*
 * RFC 7323 4.1 (RTTM): with timestamps, every ACK of new data measures the
 * round trip of the segment whose TSval it echoes, however many are in
 * flight and whether or not it was sent again (Karn's ambiguity does not
 * arise: the echo names the transmission).  In microseconds, at least one
 * tick (as Linux); 0 when there is no sample: no timestamps, a zero TSecr,
 * or one from the future or older than 2^31 microseconds (a broken peer).
 */
static uint32_t ts_rtt(const struct tcb *tcb, const struct tcp_rx *s)
{
	const struct wire_tcp_opts *o = &s->w->opts;
	if (!(tcb->options & SYNACK_TCPI_OPT_TIMESTAMPS) || !o->has_ts || o->ts_ecr == 0)
		return 0;
	uint32_t ticks = tcp_ts_clock(tcb->st) + tcb->ts_offset - o->ts_ecr;
	if (ticks > INT32_MAX / 1000)
		return 0;
	return (ticks ? ticks : 1) * 1000u;
}

/* SND.UNA advances to ack: the send side drops acknowledged data, times
 * the round trip, tells recovery and congestion control, and restarts or
 * stops the retransmission timer (tcp_snd_acked). */
static void ack_advances(struct tcb *tcb, const struct tcp_rx *s)
{
	/* The path works: an old ICMP error explains no later timeout. */
	if (tcb->rare)
		tcb->rare->soft_err = 0;
	tcb->bytes_acked += s->ack - tcb->snd_una;
	if (s->w->opts.has_ts)
		tcp_recovery_eifel_ack(tcb, s->ack, s->w->opts.ts_ecr);
	tcp_snd_acked(tcb, s->ack, ts_rtt(tcb, s));
	tcp_snd_buf_expand(tcb);
	if (tcb->sockfd >= 0)
		tcp_sock_event(tcb->st, tcb->sockfd, TCP_SOCK_READY, 0);
}

/*
 * Fifth, check the ACK field, in the RFC's sub-steps: SYN-RECEIVED's ACK
 * of our SYN, the acceptability test, SND.UNA's advance, the window
 * update, then what the ACK means in FIN-WAIT-1, FIN-WAIT-2, CLOSING,
 * LAST-ACK and TIME-WAIT.
 */

/* Whether the segment is newer than the one that last set the window:
 * SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK), so
 * that an old, reordered segment cannot shrink it. */
static int window_is_newer(const struct tcb *tcb, const struct tcp_rx *s)
{
	return seq_lt(tcb->snd_wl1, s->seq) ||
	       (tcb->snd_wl1 == s->seq && seq_leq(tcb->snd_wl2, s->ack));
}

/* SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK. */
static void window_update(struct tcb *tcb, const struct tcp_rx *s)
{
	tcb->snd_wnd = s->wnd;
	tcb->snd_wl1 = s->seq;
	tcb->snd_wl2 = s->ack;
	if (tcb->snd_wnd > tcb->max_snd_wnd)
		tcb->max_snd_wnd = tcb->snd_wnd;
	/* A peer answering our window probes is alive: probing must not
	 * count toward giving up (RFC 1122 4.2.2.17). */
	if (tcb->snd_wnd == 0) {
		tcb->backoff = 0;
		tcb->unacked_since = ENV(tcb->st)->now;
	}
}

/* SYN-RECEIVED: if SND.UNA < SEG.ACK =< SND.NXT, enter ESTABLISHED with
 * the window of this segment (the RFC sets it unconditionally here);
 * otherwise <SEQ=SEG.ACK><CTL=RST>. */
static struct tcp_verdict syn_received_ack(struct tcb *tcb, struct tcp_rx *s)
{
	if (!(seq_gt(s->ack, tcb->snd_una) && seq_leq(s->ack, tcb->snd_max)))
		return TCP_DROP_SEND(RST_REPLY, SYN_RECEIVED_BAD_ACK);
	/* A connection made from SYN data (RFC 7413) is in the accept
	 * queue already, or accepted. */
	struct tcb *l = tcb->in_acceptq ? NULL : tcp_listener_of(tcb);
	if (l && tcp_lsn(l)->acq_len >= tcp_lsn(l)->backlog) {
		/* The accept queue is full: like Linux, ignore the ACK (our
		 * SYN-ACK retransmission asks for it again), or with
		 * abort_on_overflow reset the connection. */
		struct tcp_verdict v = tcp_accept_queue_overflow(tcb->st);
		if (v.send == TCP_SEND_RST_REPLY)
			v = tcp_v_end(v, TCP_END_CLOSED, SYNACK_CAUSE_LISTEN_OVERFLOW, 0);
		return v;
	}
	/* A passive connection gets its sender's state (congestion control,
	 * transmit records) only now that it is synchronized, so that a SYN
	 * flood's half-open children cost no more than they did.  Without
	 * memory the ACK is dropped and the connection stays half-open: our
	 * SYN-ACK retransmission asks for it again. */
	if (tcp_snd_new(tcb) != 0)
		return TCP_DROP(NO_MEMORY);
	/* The window first: ack_advances below does what the window update
	 * does for a zero window, and no congestion control runs yet. */
	window_update(tcb, s);
	ack_advances(tcb, s);
	tcp_enter_established(tcb, SYNACK_CAUSE_RCV_ACK);
	if (l)
		tcp_acceptq_add(l, tcb);
	return TCP_CONTINUE;
}

/* RFC 9293 / RFC 5961 5.2: acceptable only if
 * SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT (SND.MAX here).  Anything
 * else is dropped and answered with a challenge ACK (section 5.2): a blind
 * attacker who guessed an in-window sequence number must guess the
 * acknowledgment too, and its text is never taken. */
static struct tcp_verdict ack_acceptable(struct tcb *tcb, const struct tcp_rx *s)
{
	if (seq_gt(s->ack, tcb->snd_max)) {
		STAT_INC(tcb->st, AckChallenge);
		return TCP_DROP_SEND(CHALLENGE_ACK, ACK_FUTURE);
	}
	if (seq_lt(s->ack, tcb->snd_una - tcb->max_snd_wnd)) {
		STAT_INC(tcb->st, AckChallenge);
		return TCP_DROP_SEND(CHALLENGE_ACK, ACK_UNACCEPTABLE);
	}
	return TCP_CONTINUE;
}

/* FIN-WAIT-1: once our FIN is acknowledged, enter FIN-WAIT-2 (with the
 * orphan's timeout, as Linux's tcp_fin_timeout). */
static void fin_wait_1_ack(struct tcb *tcb)
{
	struct tcp_layer *st = tcb->st;
	if (!tcp_fin_acked(tcb))
		return;
	tcp_set_state(tcb, SYNACK_FIN_WAIT_2, SYNACK_CAUSE_RCV_ACK_OF_FIN);
	if (tcb->orphan)
		tcb->fin2_at = ENV(st)->now + (uint64_t)ENV(st)->cfg.fin_timeout_ms * 1000u;
}

/* CLOSING: once our FIN is acknowledged, enter TIME-WAIT; otherwise the
 * segment is ignored (its text and FIN are not looked at). */
static struct tcp_verdict closing_ack(struct tcb *tcb)
{
	if (tcp_fin_acked(tcb))
		return tcp_v_end(TCP_ACCEPT, TCP_END_TIME_WAIT, SYNACK_CAUSE_RCV_ACK_OF_FIN, 0);
	return TCP_ACCEPT;
}

/* LAST-ACK: once our FIN is acknowledged, the connection is closed. */
static struct tcp_verdict last_ack_ack(struct tcb *tcb)
{
	if (tcp_fin_acked(tcb))
		return tcp_v_end(TCP_ACCEPT, TCP_END_CLOSED, SYNACK_CAUSE_RCV_ACK_OF_FIN, 0);
	return TCP_CONTINUE;
}

static struct tcp_verdict check_ack(struct tcb *tcb, struct tcp_rx *s)
{
	if (!tcp_rx_has(s, SYNACK_TH_ACK))
		return TCP_DROP(NO_ACK);
	if (tcb->state == SYNACK_SYN_RECEIVED)
		return syn_received_ack(tcb, s);

	struct tcp_verdict v = ack_acceptable(tcb, s);
	if (v.action != TCP_V_CONTINUE)
		return v;
	/* RFC 3168 6.1.2: an ECN-Echo, heard before the ACK moves anything,
	 * as the sender stood when the peer sent it.  Ignored on a
	 * connection that did not negotiate ECN (a peer that sets ECE
	 * anyway cannot make us slow down). */
	if (tcb->ecn_ok && tcp_rx_has(s, SYNACK_TH_ECE))
		tcp_ecn_echo(tcb, s);
	/* ESTABLISHED: SND.UNA < SEG.ACK =< SND.NXT advances SND.UNA; an ACK
	 * of nothing new is a duplicate ACK when RFC 5681 section 2 says so. */
	/* RFC 2018 3: SACK blocks mark the scoreboard first, so that the
	 * ACK's cumulative part and recovery see it (RFC 6675 5). */
	uint32_t sacked = 0;
	if (tcb->sender)
		tcp_rate_ack_begin(tcb);
	if (tcb->sack_ok && tcb->sender) {
		tcp_rack_ack_begin(tcb);
		if (s->w->opts.sack_count)
			sacked = tcp_sack_take(tcb, &s->w->opts, s->ack);
		tcb->sender->delivered = sacked;
	}
	if (seq_gt(s->ack, tcb->snd_una))
		ack_advances(tcb, s);
	else if (s->ack == tcb->snd_una && tcb->snd_una != tcb->snd_max &&
	         ((s->w->data_len == 0 && !tcp_rx_has(s, SYNACK_TH_SYN | SYNACK_TH_FIN) &&
	           s->wnd == tcb->snd_wnd) ||
	          sacked))
		/* RFC 6675 2: an ACK with new SACK information is a
		 * duplicate whatever else it carries. */
		tcp_recovery_dupack(tcb);
	if (tcb->sender) {
		tcp_rate_gen(tcb);
		tcp_pacing_update(tcb);
	}
	if (window_is_newer(tcb, s))
		window_update(tcb, s);

	switch (tcb->state) {
	case SYNACK_FIN_WAIT_1:
		fin_wait_1_ack(tcb);
		return TCP_CONTINUE;
	case SYNACK_CLOSING:
		return closing_ack(tcb);
	case SYNACK_LAST_ACK:
		return last_ack_ack(tcb);
	default:
		/* FIN-WAIT-2: nothing more; the user's CLOSE completes when
		 * the peer's FIN comes.  TIME-WAIT: the compact record
		 * answers instead (tcp_timewait.c), a TCB never sees it. */
		return TCP_CONTINUE;
	}
}

/* ------------------------------------------------------------------ */
/* Sixth, check the URG bit (RFC 9293 3.10.7.4).                       */

/*
 * Decided here: synack does not implement urgent data.  The URG bit and
 * the urgent pointer are read by nobody, and urgent bytes are delivered
 * in line with the rest of the text, in sequence, as if URG were not set.
 * RFC 6093 section 5 says new applications should not use the urgent
 * mechanism and that, where it remains, it delivers data in line
 * (SO_OOBINLINE); with no out-of-band API to signal an urgent mark there
 * is nothing else a receiver could do with it, and no step is needed.
 */

/* ------------------------------------------------------------------ */
/* Seventh, process the segment text; out-of-order text is held        */
/* (tcp_rcv.c keeps the bytes, this step decides).                     */

static struct tcp_verdict process_text(struct tcb *tcb, struct tcp_rx *s)
{
	if (!tcp_receives_text(tcb->state)) {
		/* CLOSE_WAIT, CLOSING, LAST_ACK: the peer's FIN has come, so
		 * text should not occur; it is ignored. */
		if (s->data_len)
			return TCP_DROP_SEND(OOW_ACK, DATA_AFTER_FIN);
		return TCP_CONTINUE;
	}
	if (s->data_len == 0) {
		if (s->fin && s->data_seq == tcb->rcv_nxt)
			s->fin_in_seq = 1;
		else if (s->fin && tcp_ofo_insert(tcb, s->data_seq, NULL, 0, 1) == 0)
			s->need_ack = s->ack_now = 1;
		return TCP_CONTINUE;
	}
	if (tcb->orphan) {
		/* RFC 1122 4.2.2.13: data arriving after the application
		 * closed cannot be delivered; say so with a reset. */
		STAT_INC(tcb->st, AbortOnData);
		return tcp_v_end(TCP_DROP_SEND(RST_CONN, DATA_AFTER_CLOSE), TCP_END_CLOSED,
		                 SYNACK_CAUSE_RCV_DATA_AFTER_CLOSE, 0);
	}
	s->need_ack = 1;
	if (tcb->ecn_ok)
		tcp_ecn_text(tcb, s);
	if (s->data_len > tcb->sender->rcv_seg_max)
		tcb->sender->rcv_seg_max = s->data_len < tcb->rcv_mss ? s->data_len : tcb->rcv_mss;
	/* RFC 5681 4.2: acknowledge out-of-order data at once (the sender
	 * counts duplicate ACKs), and data that fills a gap. */
	if (s->data_seq != tcb->rcv_nxt || tcb->ofo)
		s->ack_now = 1;
	tcp_rcv_rtt_sample(tcb, s->w);
	if (s->data_seq == tcb->rcv_nxt) {
		tcp_quickack_data_rcvd(tcb);
		uint32_t n = tcp_rcv_deliver_rx(tcb, s);
		if (n < s->data_len) {
			/* Out of memory for the buffer: take what fit; the
			 * rest (and any FIN) is sent again by the peer. */
			s->fin = 0;
			env_count_drop(ENV(tcb->st), SYNACK_DROP_NO_MEMORY);
		} else if (s->fin) {
			s->fin_in_seq = 1;
		}
		if (tcb->ofo && !s->fin_in_seq)
			s->fin_in_seq = (uint8_t)tcp_ofo_pull(tcb);
		tcp_rcv_rtt_window(tcb);
		if (tcb->sockfd >= 0)
			tcp_sock_event(tcb->st, tcb->sockfd, TCP_SOCK_READY, 0);
	} else {
		int err = tcp_ofo_insert(tcb, s->data_seq, s->data, s->data_len, s->fin);
		if (err == -ENOBUFS) {
			STAT_INC(tcb->st, OfoDrop);
			env_count_drop(ENV(tcb->st), SYNACK_DROP_OFO_BUDGET);
		} else if (err) {
			env_count_drop(ENV(tcb->st), SYNACK_DROP_NO_MEMORY);
		}
	}
	return TCP_CONTINUE;
}

/* Eighth, check the FIN bit: it takes effect only in sequence, after
 * every byte before it has arrived. */
static struct tcp_verdict check_fin(struct tcb *tcb, struct tcp_rx *s)
{
	struct tcp_layer *st = tcb->st;
	if (!s->fin_in_seq)
		return TCP_CONTINUE;
	tcb->rcv_nxt += 1;
	tcb->rcv_fin = 1;
	tcp_ofo_purge(tcb); /* nothing can follow the FIN */
	if (tcb->sockfd >= 0)
		tcp_sock_event(st, tcb->sockfd, TCP_SOCK_READY, 0);
	switch (tcb->state) {
	case SYNACK_SYN_RECEIVED:
	case SYNACK_ESTABLISHED:
		tcp_set_state(tcb, SYNACK_CLOSE_WAIT, SYNACK_CAUSE_RCV_FIN);
		if (ENV(st)->cfg.close_wait_timeout_ms) {
			tcb->close_wait_at =
			    ENV(st)->now + (uint64_t)ENV(st)->cfg.close_wait_timeout_ms * 1000u;
			/* Armed now, not only in the exit block: SYN-SENT's
			 * path (a FIN on the SYN-ACK) does not rearm there,
			 * and the arming order is part of what ties break on. */
			tcp_rearm(tcb);
		}
		break;
	case SYNACK_FIN_WAIT_1:
		/* Our FIN not yet acknowledged (else we would be in
		 * FIN_WAIT_2 by now): simultaneous close. */
		tcp_set_state(tcb, SYNACK_CLOSING, SYNACK_CAUSE_RCV_FIN);
		break;
	case SYNACK_FIN_WAIT_2:
		/* The ACK of the FIN leaves before TIME-WAIT begins. */
		return tcp_v_end(TCP_ACCEPT_SEND(ACK), TCP_END_TIME_WAIT, SYNACK_CAUSE_RCV_FIN, 0);
	default:
		break;
	}
	s->need_ack = s->ack_now = 1;
	return TCP_CONTINUE;
}

/* ------------------------------------------------------------------ */
/* RFC 7323: PAWS before the sequence check, TS.Recent after the ACK.  */

/* a is older than b in timestamp space (RFC 7323 5.2: modular, 2^31). */
static int ts_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* RFC 7323 5.5: TS.Recent is valid unless it was set more than 24 days
 * ago (an idle connection whose peer's clock may have wrapped since). */
static int ts_recent_valid(const struct tcb *tcb)
{
	return ENV(tcb->st)->now - tcb->ts_recent_at <= TCP_PAWS_IDLE_US;
}

/*
 * RFC 7323 5.3, R1: with timestamps agreed, a segment whose SEG.TSval is
 * older than a valid TS.Recent is an old duplicate: not acceptable, an
 * ACK answers it (rate limited as every unacceptable segment's), and it is
 * dropped.  A RST is exempt (5.3: RSTs are acceptable whatever their
 * timestamp, and should carry none), as is a segment without a timestamp
 * (3.2 says such a segment should be dropped; like Linux we take it).  In
 * SYN-RECEIVED too, as Linux checks the ACK of a pending SYN.
 */
/*
 * A duplicate ACK the network held back (Linux's tcp_disordered_ack):
 * a pure ACK at RCV.NXT that acknowledges nothing new and would not move
 * the window, whose TSval is older than TS.Recent by less than one RTO
 * (in the 1 ms ticks RFC 7323 4.1 recommends and we use).  It can be
 * neither an old duplicate from an earlier incarnation nor harmful, and
 * it carries SACK blocks the later ACKs may no longer repeat (RFC 2018 4
 * reports only the most recent); PAWS dropping it lost them, and RACK
 * then sent data again that the peer had.
 */
static int disordered_ack(const struct tcb *tcb, const struct tcp_rx *s)
{
	return tcp_rx_has(s, SYNACK_TH_ACK) && !tcp_rx_has(s, SYNACK_TH_SYN | SYNACK_TH_FIN) &&
	       s->w->data_len == 0 && s->seq == tcb->rcv_nxt && s->ack == tcb->snd_una &&
	       !seq_gt(s->seq, tcb->snd_wl1) && s->wnd <= tcb->snd_wnd &&
	       (int32_t)(tcb->ts_recent - s->w->opts.ts_val) <= (int32_t)(tcb->rto_us / 1000u);
}

static struct tcp_verdict check_paws(struct tcb *tcb, const struct tcp_rx *s)
{
	const struct wire_tcp_opts *o = &s->w->opts;
	if (!(tcb->options & SYNACK_TCPI_OPT_TIMESTAMPS) || !o->has_ts ||
	    tcp_rx_has(s, SYNACK_TH_RST))
		return TCP_CONTINUE;
	if (!ts_before(o->ts_val, tcb->ts_recent) || !ts_recent_valid(tcb) ||
	    disordered_ack(tcb, s))
		return TCP_CONTINUE;
	STAT_INC(tcb->st, PAWSEstab);
	/* Text below RCV.NXT arrived before: the ACK that answers reports
	 * it in a D-SACK block (RFC 2883 4.1.1, as Linux's tcp_send_dupack
	 * for a PAWS reject).  Typically the original of a segment the
	 * network held back, which came after its retransmission had filled
	 * the hole and moved TS.Recent past it: without the D-SACK the
	 * sender never learned that retransmission was needless, and
	 * neither undid it nor widened RACK's reordering window (RFC 8985
	 * 6.2 step 4), so under reordering with timestamps on it went on
	 * retransmitting held-back segments (docs/PERFORMANCE.md, r13tail). */
	uint32_t data_seq = s->seq + !!tcp_rx_has(s, SYNACK_TH_SYN);
	if (s->w->data_len && seq_lt(data_seq, tcb->rcv_nxt)) {
		uint32_t end = data_seq + s->w->data_len;
		tcp_rcv_dsack(tcb, data_seq, seq_lt(end, tcb->rcv_nxt) ? end : tcb->rcv_nxt, 0);
	}
	return TCP_DROP_SEND(OOW_ACK, PAWS);
}

/* RFC 7323 4.3 (as Appendix D writes it): an acceptable segment at or
 * left of Last.ACK.sent (rcv_acked) whose SEG.TSval is not older than
 * TS.Recent sets TS.Recent, which our next ACK echoes; so a delayed ACK
 * echoes the earliest segment it covers, and the RTT it measures includes
 * the delay.  A TS.Recent gone stale (5.5) is replaced by any. */
static void update_ts_recent(struct tcb *tcb, const struct tcp_rx *s)
{
	const struct wire_tcp_opts *o = &s->w->opts;
	if (!(tcb->options & SYNACK_TCPI_OPT_TIMESTAMPS) || !o->has_ts ||
	    seq_gt(s->seq, tcb->rcv_acked))
		return;
	if (ts_before(o->ts_val, tcb->ts_recent) && ts_recent_valid(tcb))
		return;
	tcb->ts_recent = o->ts_val;
	tcb->ts_recent_at = ENV(tcb->st)->now;
}

static struct tcp_verdict synchronized_segment_arrives(struct tcb *tcb, struct tcp_rx *s)
{
	/* Simultaneous open (RFC 9293 Figure 8, line 7): in SYN-RECEIVED the
	 * peer's SYN-ACK repeats the SYN we already took, which the sequence
	 * check would refuse; what counts is its ACK of our SYN.  Like Linux,
	 * take it without the SYN and acknowledge it. */
	if (tcb->state == SYNACK_SYN_RECEIVED && !tcb->passive && tcp_rx_has(s, SYNACK_TH_SYN) &&
	    tcp_rx_has(s, SYNACK_TH_ACK) && s->seq == tcb->irs && s->ack == tcb->snd_nxt) {
		s->flags &= (uint8_t)~SYNACK_TH_SYN;
		s->seq += 1;
		s->len -= 1;
		s->need_ack = s->ack_now = 1;
	}
	struct tcp_verdict v = check_paws(tcb, s);
	if (v.action == TCP_V_CONTINUE)
		v = check_sequence(tcb, s);
	if (v.action == TCP_V_CONTINUE)
		v = check_rst(tcb, s);
	if (v.action == TCP_V_CONTINUE)
		v = check_syn(tcb, s);
	if (v.action == TCP_V_CONTINUE)
		v = check_ack(tcb, s);
	if (v.action != TCP_V_DROP)
		update_ts_recent(tcb, s);
	if (v.action == TCP_V_CONTINUE)
		v = process_text(tcb, s);
	if (v.action == TCP_V_CONTINUE)
		v = check_fin(tcb, s);
	if (v.action == TCP_V_DROP || v.end != TCP_END_NONE)
		return v;
	/* Taken (the steps ran through, or CLOSING ignored the rest): the
	 * ACK may have opened the window or freed the buffer, so send what
	 * may go, which carries the acknowledgment; else it is sent or
	 * delayed.  Then the timer. */
	v = TCP_ACCEPT_SEND(DATA);
	v.rearm = 1;
	return v;
}

/* ------------------------------------------------------------------ */
/* The entry point: demux, then the state's function.                  */

static struct tcp_verdict tcb_segment_arrives(struct tcb *tcb, struct tcp_rx *s)
{
	s->tcb = tcb;
	s->iss = tcb->iss;
	s->irs = tcb->irs;
	s->wnd = tcp_seg_wnd(tcb, s->w);
	/* A quiet connection's sender's state comes back before any step
	 * reads it (tcp_snd_rest.c); without memory the segment is dropped
	 * and the peer sends it again. */
	if (tcp_snd_wake(tcb) != 0)
		return TCP_DROP(NO_MEMORY);
	/* The peer is alive: keepalive counts idleness from here. */
	tcb->last_rcv = ENV(tcb->st)->now;
	if (tcb->opts.keepalive)
		tcp_keepalive_reset(tcb);
	if (tcb->state == SYNACK_SYN_SENT)
		return syn_sent_segment_arrives(tcb, s);
	return synchronized_segment_arrives(tcb, s);
}

static struct tcp_verdict segment_arrives(struct tcp_layer *st, struct tcp_rx *s, struct hnode *n)
{
	const struct wire_tcp *w = s->w;
	if (n) {
		struct conn_head *h = container_of(n, struct conn_head, node);
		if (h->node.kind == CONN_TW)
			return tcp_tw_segment_arrives(st, container_of(h, struct tw, h), s);
		return tcb_segment_arrives(container_of(h, struct tcb, h), s);
	}
	struct tcb *l = tcp_find_listener(st, &w->daddr, w->dport);
	if (l) {
		struct tcb *child = NULL;
		struct tcp_verdict v = tcp_listen_segment_arrives(l, s, 0, 0, &child);
		/* A SYN cookie made the connection: it takes the segment from
		 * here, like any connection. */
		if (child)
			return tcb_segment_arrives(child, s);
		return v;
	}
	return closed_segment_arrives(s);
}

/*
 * The checksum the parser left to TCP (wire_tcp_parse_deferred): summed
 * while the text is copied into the receive buffer when it goes there in
 * order (tcp_rcv_precopy), else in place; before any step looks at the
 * segment.  A wrong one is dropped and counted as the network layer counts
 * it (ip4_input: tcpInErrs, InCsumErrors, no tcpInSegs).  Returns 0 or the
 * drop reason.
 */
static int verify_checksum(struct tcp_layer *st, struct tcp_rx *s, struct hnode *n)
{
	const struct wire_tcp *w = s->w;
	int ok = -1;
	if (n && n->kind == CONN_TCB)
		ok = tcp_rcv_precopy(
		    container_of(container_of(n, struct conn_head, node), struct tcb, h), s);
	if (ok < 0)
		ok = wire_tcp_verify(w);
	if (ok)
		return SYNACK_DROP_NONE;
	STAT_DEC(st, InSegs);
	STAT_INC(st, InErrs);
	STAT_INC(st, InCsumErrors);
	return net_drop(&st->net, SYNACK_DROP_TCP_BAD_CHECKSUM, &w->saddr, &w->daddr);
}

int tcp_input(struct tcp_layer *st, const struct wire_tcp *w)
{
	struct tcp_rx s;
	memset(&s, 0, offsetof(struct tcp_rx, pre_ring));
	s.pre_len = 0;
	s.w = w;
	struct tuple key = tcp_seg_tuple(w);
	struct hnode *n = htable_find(&st->conns, &key);
	if (w->csum_pending) {
		int reason = verify_checksum(st, &s, n);
		if (reason != SYNACK_DROP_NONE)
			return reason;
	}
	s.seq = w->seq;
	s.ack = w->ack;
	s.wnd = w->wnd; /* unscaled until a connection is found */
	s.flags = w->flags;
	s.len = w->data_len + !!(w->flags & SYNACK_TH_SYN) + !!(w->flags & SYNACK_TH_FIN);
	begin_trace(st, &s);
	apply_verdict(st, &s, segment_arrives(st, &s, n));
	return s.dropped;
}
