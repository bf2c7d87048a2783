/*
 * RACK-TLP (RFC 8985): time-based loss detection over the transmit
 * records, and the tail loss probe.
 *
 * RACK (section 6): every record keeps its last send time; the most
 * recently sent segment that the peer has delivered (cumulatively or by
 * SACK) sets RACK.xmit_ts and RACK.rtt, and any unSACKed segment sent
 * more than RACK.rtt + the reordering window before it is lost.  What is
 * not lost yet but would be soon arms the reordering timer.
 *
 * TLP (section 7): when a flight ends without an ACK (the tail of a
 * transfer lost), a probe after about two round trips sends new data or
 * the last segment again, so that the ACK it draws lets SACK and RACK
 * find the loss before the retransmission timer would.
 *
 * Both share the connection's one retransmission deadline (rtx_at, with
 * rtx_kind saying which it is), as Linux's icsk_pending does.
 */
#include "tcp/tcp.h"

/* RFC 8985 6.2 step 4: recoveries a grown reordering window outlasts
 * without a D-SACK (Linux's TCP_RACK_RECOVERY_THRESH). */
#define RACK_REO_WND_PERSIST 16u
/* RFC 8985 7.2: the worst-case delayed-ACK time of a peer. */
#define WC_DEL_ACK_T_US 200000u
/* The shortest probe timeout, as Linux's (tcp_schedule_loss_probe): a
 * tiny SRTT must not make probes of every flight. */
#define PTO_MIN_US 10000u

/* seg sent after (ts, end): its time is later, or the same with a later end
 * (RFC 8985 6.2, RACK_sent_after). */
static int sent_after(uint64_t t1, uint32_t e1, uint64_t t2, uint32_t e2)
{
	return t1 > t2 || (t1 == t2 && seq_gt(e1, e2));
}

/*
 * A segment came later than segments sent after it: the network reordered
 * (RFC 8985 6.2 step 3), and the reordering window opens.  Counted once
 * per ACK that shows it, as Linux's tcp_check_sack_reordering counts
 * TCPSACKReorder (rack_prior_valid 2: this ACK's is counted).
 *
 * Without timestamps the segment's RTT, rtt, is also a sample for SRTT.
 * With them the receiver echoes the TSval of the segment that fills a
 * hole (RFC 7323 4.3: the RTT then includes the delay), so SRTT learns how
 * late reordered segments come, and the reordering window, which RFC 8985
 * 6.2 bounds by SRTT, can grow to cover them.  Without them only the timed
 * segment of each round trip is sampled (RFC 6298 3 asks for at least
 * one), seldom a reordered one: SRTT stays at the path's RTT and a segment
 * held back a little more than that is called lost every time, just
 * before its ACK comes (3 % of the bytes sent again under issue 13's 5 %
 * reordering).  Linux samples every ACK from its oldest newly delivered
 * segment sent once (tcp_clean_rtx_queue's seq_rtt_us), which times the
 * hole's filler as the echo would; here only such late deliveries are
 * added to RFC 6298's one sample per round trip.
 */
static void rack_reordered(struct tcb *tcb, uint64_t rtt)
{
	struct tcp_sender *sd = tcb->sender;
	if (!(tcb->options & SYNACK_TCPI_OPT_TIMESTAMPS))
		tcp_rtt_sample(tcb, rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt);
	sd->rack_reordering_seen = 1;
	if (sd->rack_prior_valid == 1) {
		sd->rack_prior_valid = 2;
		STAT_INC(tcb->st, TCPSACKReorder);
	}
}

void tcp_rack_delivered(struct tcb *tcb, const struct tcp_txrec *r)
{
	struct tcp_sender *sd = tcb->sender;
	uint64_t now = ENV(tcb->st)->now;
	uint32_t rtt = (uint32_t)(now - r->xmit_at), end = r->seq + r->len;
	/* Step 2: an ACK of a retransmitted segment sooner than min_RTT
	 * after it went answers an earlier copy: no sample for RACK.  For
	 * a segment sent just twice that copy is the original, which the
	 * network held back until after it went again: reordering (or delay)
	 * the window missed, and an RTT timed from the original (Karn's
	 * ambiguity, RFC 6298 3, does not arise: no ACK of the
	 * retransmission can come that soon; with timestamps the echo
	 * says the same). */
	if ((r->flags & TXREC_RETRANS) && sd->rack_min_rtt && rtt < sd->rack_min_rtt) {
		if (r->first_gap)
			rack_reordered(tcb, (uint64_t)rtt + r->first_gap);
		return;
	}
	if (!(r->flags & TXREC_RETRANS) && (sd->rack_min_rtt == 0 || rtt < sd->rack_min_rtt))
		sd->rack_min_rtt = rtt ? rtt : 1;
	/* Step 3: delivered now, below what an earlier ACK delivered
	 * already: the network reordered (a retransmission proves nothing;
	 * one ACK's own deliveries count as in ascending order). */
	if (!(r->flags & TXREC_RETRANS) && sd->rack_prior_valid && seq_lt(end, sd->rack_fack_prior))
		rack_reordered(tcb, rtt);
	/* RACK.fack itself moves in tcp_sack_delivered, after this. */
	if (!sd->rack_valid || sent_after(r->xmit_at, end, sd->rack_xmit_ts, sd->rack_end_seq)) {
		sd->rack_valid = 1;
		sd->rack_rtt = rtt;
		sd->rack_xmit_ts = r->xmit_at;
		sd->rack_end_seq = end;
	}
}

void tcp_rack_dsack(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	sd->tlp_dsack = 1;
	/* A needless retransmission is reordering the window missed (as
	 * Linux counts it in reord_seen): the window opens from now on. */
	sd->rack_reordering_seen = 1;
	/* Step 4: a D-SACK says the window was too small: grow it by one
	 * quarter min_RTT (RACK.reo_wnd_mult starts at 1, which 0 stands
	 * for), at most once a round trip, up to 255 times, and keep it for
	 * the next 16 recoveries (RACK.reo_wnd_persist). */
	if (seq_geq(tcb->snd_una, sd->rack_dsack_round) || sd->rack_reo_wnd_mult == 0) {
		sd->rack_dsack_round = tcb->snd_max;
		uint32_t mult = sd->rack_reo_wnd_mult ? sd->rack_reo_wnd_mult : 1;
		if (mult < 255)
			sd->rack_reo_wnd_mult = (uint8_t)(mult + 1);
		sd->rack_reo_wnd_persist = RACK_REO_WND_PERSIST;
	}
}

void tcp_rack_recovery_exit(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	/* Step 4: "Reset the window after 16 DSACK-free recoveries." */
	if (sd->rack_reo_wnd_persist && --sd->rack_reo_wnd_persist == 0)
		sd->rack_reo_wnd_mult = 0;
}

/* RFC 8985 6.2 step 4, RACK_update_reo_wnd. */
static uint32_t reo_wnd(const struct tcb *tcb)
{
	const struct tcp_sender *sd = tcb->sender;
	if (!sd->rack_reordering_seen) {
		if (tcb->ca_state != SYNACK_CA_OPEN)
			return 0;
		uint32_t dupthresh_bytes = tcp_dupthresh(tcb) * tcb->snd_mss;
		if (sd->sacked >= dupthresh_bytes)
			return 0;
	}
	uint32_t mult = sd->rack_reo_wnd_mult ? sd->rack_reo_wnd_mult : 1;
	uint64_t w = (uint64_t)mult * sd->rack_min_rtt / 4;
	return w < tcb->srtt_us ? (uint32_t)w : tcb->srtt_us;
}

int tcp_rack_detect(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	uint64_t now = ENV(tcb->st)->now, timeout = 0;
	int marked = 0;
	if (!sd->rack_valid)
		return 0;
	uint64_t wait = (uint64_t)sd->rack_rtt + reo_wnd(tcb);
	/* Step 5: every segment not SACKed, not already lost, and sent
	 * before the one most recently delivered. */
	for (uint32_t i = 0, n = tcp_snd_records(tcb); i < n; i++) {
		struct tcp_txrec *r = tcp_snd_record(tcb, i);
		if (r->flags & (TXREC_SACKED | TXREC_LOST))
			continue;
		if (sent_after(r->xmit_at, r->seq + r->len, sd->rack_xmit_ts, sd->rack_end_seq))
			continue;
		/* A retransmission that went in the same instant as the segment
		 * most recently delivered: the clock cannot say which left
		 * first, and RACK_sent_after's tie on sequence numbers would
		 * call the (lower) retransmission older and lost the moment the
		 * new data's ACK came, though it left with or after it (on a
		 * clock that does not tick between sends, the simulator's, every
		 * such retransmission went again needlessly).  It is left to a
		 * later delivery or the retransmission timer. */
		if ((r->flags & TXREC_RETRANS) && r->xmit_at == sd->rack_xmit_ts)
			continue;
		uint64_t due = r->xmit_at + wait;
		if (due <= now) {
			r->flags |= TXREC_LOST;
			marked = 1;
		} else if (due - now > timeout) {
			timeout = due - now;
		}
	}
	/* Section 6.3: what is not lost yet is judged again when it would
	 * be; the reordering timer takes the retransmission timer's place. */
	sd->reo_at = timeout ? now + timeout : 0;
	return marked;
}

void tcp_rack_mark_lost_on_rto(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	uint64_t now = ENV(tcb->st)->now;
	/* Without a delivery yet RACK.rtt is 0: every segment sent before
	 * now has waited long enough (as Linux's tcp_rack_skb_timeout). */
	uint64_t wait = sd->rack_valid ? (uint64_t)sd->rack_rtt + reo_wnd(tcb) : 0;
	/* RFC 8985 6.3, RACK_mark_losses_on_RTO: "For each segment, Segment,
	 * not acknowledged yet: If SEG.UNA == Segment.seq or Segment.xmit_ts
	 * + RACK.rtt + RACK.reo_wnd - Now() <= 0: Segment.lost = TRUE".  A
	 * segment sent too recently to be judged is left in flight, for RACK
	 * to judge on the ACKs that follow (6.2), not sent again blindly as
	 * a classic timeout's go-back-N would (Linux's tcp_timeout_mark_lost
	 * with tcp_recovery bit 0x1).  What the peer SACKed stays SACKed. */
	for (uint32_t i = 0, n = tcp_snd_records(tcb); i < n; i++) {
		struct tcp_txrec *r = tcp_snd_record(tcb, i);
		if (r->flags & TXREC_SACKED)
			continue;
		if (r->seq == tcb->snd_una || r->xmit_at + wait <= now)
			r->flags |= TXREC_LOST;
	}
	sd->reo_at = 0;
	tcp_sack_update(tcb);
}

void tcp_rack_timers(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	if (!tcp_rack_on(tcb) || tcb->snd_una == tcb->snd_max)
		return;
	if (sd->reo_at) {
		if (sd->reo_at < tcb->rtx_at) {
			tcb->rtx_at = sd->reo_at;
			tcb->rtx_kind = TCP_RTX_REO;
		}
		sd->reo_at = 0;
		return;
	}
	tcp_tlp_schedule(tcb);
}

void tcp_rack_timeout(struct tcb *tcb)
{
	tcb->rtx_at = SYNACK_NEVER;
	tcb->rtx_kind = TCP_RTX_RTO;
	if (tcb->snd_una == tcb->snd_max)
		return;
	tcp_arm_rtx(tcb);
	if (tcp_rack_detect(tcb))
		tcp_recovery_rack_loss(tcb);
	tcp_output(tcb);
	tcp_rack_timers(tcb);
}

void tcp_tlp_schedule(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	/* RFC 8985 7.2: with data outstanding, an RTT sample, SACK, no
	 * recovery and no probe in flight. */
	if (!tcp_rack_on(tcb) || tcb->snd_una == tcb->snd_max || !tcb->srtt_us || sd->tlp_on ||
	    tcb->ca_state != SYNACK_CA_OPEN || tcb->rtx_kind == TCP_RTX_REO ||
	    tcb->rtx_at == SYNACK_NEVER || tcb->opts.user_timeout_ms)
		return;
	/* A lone FIN outstanding: a probe would only be the FIN again. */
	if (tcb->fin_queued && tcb->snd_una == tcp_fin_seq(tcb))
		return;
	uint64_t now = ENV(tcb->st)->now;
	uint64_t pto = 2ull * tcb->srtt_us;
	if (tcp_cc_flight(tcb) <= tcb->snd_mss)
		pto += WC_DEL_ACK_T_US;
	if (pto < PTO_MIN_US)
		pto = PTO_MIN_US;
	/* Never later than the retransmission timeout would be: when that
	 * comes first the probe goes then instead, and the flight is probed
	 * without the timeout's collapse of cwnd (as Linux's
	 * tcp_schedule_loss_probe). */
	uint64_t at = now + pto;
	if (at > tcb->rtx_at)
		at = tcb->rtx_at;
	tcb->rtx_at = at;
	tcb->rtx_kind = TCP_RTX_TLP;
}

void tcp_tlp_timeout(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	tcb->rtx_at = SYNACK_NEVER;
	tcb->rtx_kind = TCP_RTX_RTO;
	if (tcb->snd_una == tcb->snd_max)
		return;
	/* RFC 8985 7.3: new data if the peer's window takes it, else the
	 * last segment again; cwnd does not limit the probe. */
	uint32_t data_end = tcp_fin_seq(tcb), before = tcb->snd_max;
	uint32_t room = seq_gt(tcb->snd_una + tcb->snd_wnd, tcb->snd_nxt)
	                    ? tcb->snd_una + tcb->snd_wnd - tcb->snd_nxt
	                    : 0;
	int sent_new = 0;
	if (tcb->snd_nxt == tcb->snd_max && seq_lt(tcb->snd_nxt, data_end) && room) {
		uint32_t n = data_end - tcb->snd_nxt;
		if (n > tcb->snd_mss)
			n = tcb->snd_mss;
		if (n > room)
			n = room;
		tcb->snd_nxt += tcp_retransmit_at(tcb, tcb->snd_nxt, n);
		sent_new = seq_gt(tcb->snd_max, before);
	}
	if (!sent_new && tcp_snd_records(tcb)) {
		const struct tcp_txrec *last = tcp_snd_record(tcb, tcp_snd_records(tcb) - 1);
		uint32_t seq = last->seq, len = last->len;
		if (len > tcb->snd_mss)
			seq += len - tcb->snd_mss, len = tcb->snd_mss;
		tcp_retransmit_at(tcb, seq, len);
	}
	STAT_INC(tcb->st, TCPLossProbes);
	sd->tlp_on = 1;
	sd->tlp_retrans = (uint8_t)!sent_new;
	sd->tlp_dsack = 0;
	sd->tlp_end_seq = tcb->snd_max;
	tcp_arm_rtx(tcb);
}

void tcp_tlp_ack(struct tcb *tcb, uint32_t ack)
{
	struct tcp_sender *sd = tcb->sender;
	if (!sd->tlp_on || !seq_geq(ack, sd->tlp_end_seq))
		return;
	sd->tlp_on = 0;
	/* RFC 8985 7.4: a probe that sent old data again and drew no D-SACK
	 * repaired a real loss: congestion control must hear of it. */
	if (sd->tlp_retrans && !sd->tlp_dsack) {
		STAT_INC(tcb->st, TCPLossProbeRecovery);
		struct tcp_cc_event ev = {
		    .now = ENV(tcb->st)->now,
		    .flight = tcp_cc_flight(tcb),
		    .signal = CC_SIG_RECOVERY_ENTER,
		    .cause = CC_CAUSE_RACK,
		};
		tcb->ssthresh = tcp_cc_ssthresh(tcb, &ev);
		if (tcb->cwnd > tcb->ssthresh)
			tcb->cwnd = tcb->ssthresh;
		tcp_cc_event(tcb, &ev);
		ev.signal = CC_SIG_RECOVERY_EXIT;
		ev.cause = CC_CAUSE_NONE;
		tcp_cc_event(tcb, &ev);
	}
}
