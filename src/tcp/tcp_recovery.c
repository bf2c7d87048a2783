/*
 * Loss recovery: deciding that data was lost and what goes again.
 *
 * Without SACK this is NewReno: duplicate ACKs are counted (RFC 5681
 * section 2), the first two release new data (RFC 3042 limited transmit),
 * the third starts fast retransmit and fast recovery (RFC 5681 3.2) in
 * which partial ACKs repair one hole each (RFC 6582); a retransmission
 * timeout sends everything outstanding again (go-back-N, RFC 5681 3.1 and
 * RFC 6298 5.4).
 *
 * With SACK (both ends offered it) loss recovery is RFC 6675's: the
 * scoreboard (tcp_sack.c) says which holes are lost, recovery starts at
 * DupThresh duplicate ACKs or as soon as the
 * first hole is lost, every hole deemed lost is sent again within one
 * round trip, and the window comes down by PRR (RFC 6937, its slow-start
 * reduction bound PRR-SSRB) instead of NewReno's inflation.  After a
 * timeout the SACKed data is not sent again; with RACK (RFC 8985 6.3) the
 * timeout marks lost only what waited its RACK timeout, and the lost
 * segments go from the scoreboard in slow start instead of go-back-N.
 *
 * Recovery owns ca_state, dupacks, recover and limited_tx, and the window
 * arithmetic of fast recovery (inflation and deflation); congestion
 * control hears what happened through the signals of tcp_cc.h and decides
 * ssthresh and how cwnd grows outside recovery.
 */
#include "tcp/tcp.h"

/*
 * DupThresh per connection.  RFC 6675 2 leaves DupThresh at 3 and says
 * (section 6) that a sender may adjust it when it learns the network
 * reorders; RFC 4653 and Linux's tp->reordering do.  Here, as Linux's
 * tcp_check_sack_reordering: data from low_seq came after data up to
 * fack, so (fack - low_seq) bytes overtook it; when that is more than
 * DupThresh segments, DupThresh becomes that many (rounded up, at most
 * the max_reordering setting), and that reordering no longer starts a recovery
 * nor makes IsLost true.  It only grows while the connection lasts,
 * except on a timeout (tcp_recovery_timeout).
 */
void tcp_reordering_update(struct tcb *tcb, uint32_t low_seq, uint32_t fack)
{
	struct tcp_sender *sd = tcb->sender;
	uint32_t mss = tcb->snd_mss;
	if (!sd || mss == 0 || !seq_lt(low_seq, fack))
		return;
	uint64_t metric = fack - low_seq;
	if (metric <= (uint64_t)tcp_dupthresh(tcb) * mss)
		return;
	uint64_t segs = (metric + mss - 1) / mss;
	uint32_t cap = ENV(tcb->st)->cfg.max_reordering;
	if (segs > cap)
		segs = cap;
	if (segs > tcp_dupthresh(tcb))
		sd->reordering = (uint16_t)segs;
}

/* DupThresh as a count of duplicate ACKs, which stops at 255. */
static uint32_t dupack_thresh(const struct tcb *tcb)
{
	uint32_t n = tcp_dupthresh(tcb);
	return n < 255 ? n : 255;
}

/* A signal about this connection, stamped now. */
static struct tcp_cc_event cc_event_now(const struct tcb *tcb, enum tcp_cc_signal signal,
                                        enum tcp_cc_cause cause)
{
	struct tcp_cc_event ev = {
	    .now = ENV(tcb->st)->now,
	    .flight = tcp_cc_flight(tcb),
	    .signal = (uint8_t)signal,
	    .cause = (uint8_t)cause,
	};
	return ev;
}

void tcp_recovery_init(struct tcb *tcb)
{
	tcb->ca_state = SYNACK_CA_OPEN;
	tcb->dupacks = 0;
	/* RFC 6582 3.2 step 1: recover starts at the initial send sequence. */
	tcb->sender->recover = tcb->iss;
}

void tcp_recovery_idle_restart(struct tcb *tcb)
{
	struct tcp_cc_event ev = cc_event_now(tcb, CC_SIG_IDLE_RESTART, CC_CAUSE_NONE);
	tcp_cc_idle_restart(tcb, &ev);
}

/* RFC 6582 3.2 step 3, full acknowledgment: deflate to
 * cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS) and leave recovery. */
static void full_ack(struct tcb *tcb)
{
	uint32_t flight = tcp_cc_flight(tcb);
	uint32_t w = (flight > tcb->snd_mss ? flight : tcb->snd_mss) + tcb->snd_mss;
	tcb->cwnd = w < tcb->ssthresh ? w : tcb->ssthresh;
	tcb->ca_state = SYNACK_CA_OPEN;
	struct tcp_cc_event ev = cc_event_now(tcb, CC_SIG_RECOVERY_EXIT, CC_CAUSE_NONE);
	tcp_cc_event(tcb, &ev);
}

/* RFC 6582 3.2 step 4, partial acknowledgment: the next hole is lost too.
 * Send it again, deflate by what was acknowledged, and add back one SMSS
 * if at least that much was. */
static void partial_ack(struct tcb *tcb, uint32_t acked)
{
	tcp_retransmit_head(tcb);
	tcb->cwnd = tcb->cwnd > acked ? tcb->cwnd - acked : 0;
	if (acked >= tcb->snd_mss)
		tcb->cwnd += tcb->snd_mss;
	if (tcb->cwnd < tcb->snd_mss)
		tcb->cwnd = tcb->snd_mss;
}

/*
 * RFC 6937 3: the window while SACK recovery lasts, from what this ACK
 * delivered (cumulatively or by SACK).  While pipe is above ssthresh
 * sending follows the deliveries in proportion ssthresh / RecoverFS;
 * below it PRR-SSRB grows back toward ssthresh by at most one SMSS more
 * than was delivered.  cwnd = pipe + sndcnt is how the sender sees it.
 */
static void prr_ack(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	uint32_t delivered = sd->delivered;
	int64_t sndcnt;
	sd->delivered = 0;
	sd->prr_delivered += delivered;
	if (sd->pipe > tcb->ssthresh) {
		uint64_t fs = sd->recover_fs ? sd->recover_fs : 1;
		sndcnt = (int64_t)(((uint64_t)sd->prr_delivered * tcb->ssthresh + fs - 1) / fs) -
		         sd->prr_out;
	} else {
		int64_t limit = (int64_t)sd->prr_delivered - sd->prr_out;
		if (limit < (int64_t)delivered)
			limit = delivered;
		limit += tcb->snd_mss;
		sndcnt = (int64_t)tcb->ssthresh - sd->pipe;
		if (sndcnt > limit)
			sndcnt = limit;
	}
	/* The fast retransmit itself always goes (RFC 6675 5 step 4.3;
	 * Linux's tcp_cwnd_reduction sends one segment when PRR has sent
	 * none yet). */
	if (sd->prr_out == 0 && sndcnt < tcb->snd_mss)
		sndcnt = tcb->snd_mss;
	if (sndcnt < 0)
		sndcnt = 0;
	tcb->cwnd = sd->pipe + (uint32_t)sndcnt;
}

/* A reduction begins: what undo restores if it proves needless (Linux's
 * tcp_init_undo): cwnd and ssthresh now, SND.UNA, no retransmission yet
 * (D-SACKs count them down, RFC 3708 3.2), and RetransmitTS unset until
 * the first retransmission (RFC 3522 2). */
static void undo_init(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	sd->prior_cwnd = tcb->cwnd;
	sd->prior_ssthresh = tcb->ssthresh;
	sd->undo_retrans = 0;
	sd->undo_marker = tcb->snd_una;
	sd->undo_fack = tcb->snd_una;
	sd->undo_on = 1;
	sd->undo_ts = 0;
}

/* RFC 6675 5 step 4: recovery begins.  RecoveryPoint = HighData, ssthresh
 * from congestion control, the first hole is sent again (marked lost here,
 * sent by tcp_output), PRR starts (RFC 6937: RecoverFS = the flight). */
static void sack_recovery_enter(struct tcb *tcb, enum tcp_cc_cause cause, int again)
{
	struct tcp_sender *sd = tcb->sender;
	struct tcp_cc_event ev = cc_event_now(tcb, CC_SIG_RECOVERY_ENTER, cause);
	/* Straight after a recovery (rack_reenter) the flight still holds
	 * the SACKed data above the last episode's holes, and may be far
	 * above the cwnd it ended with: a reduction from it would raise the
	 * window.  The window in force is the basis then (as Linux's
	 * ssthresh functions take cwnd). */
	if (again && ev.flight > tcb->cwnd)
		ev.flight = tcb->cwnd;
	undo_init(tcb);
	sd->tlp_on = 0; /* RFC 8985 7.4: recovery takes over from the probe */
	/* RFC 8985 7.2: no probe in recovery.  A probe timer armed before
	 * this ACK (a duplicate, which rearms nothing) would send the last
	 * segment again, SACKed or not; the retransmission timer takes its
	 * place, as Linux's tcp_xmit_retransmit_queue rearms it. */
	if (tcb->rtx_kind == TCP_RTX_TLP)
		tcp_arm_rtx(tcb);
	tcb->ssthresh = tcp_cc_ssthresh(tcb, &ev);
	tcb->sender->recover = tcb->snd_max;
	tcb->ca_state = SYNACK_CA_RECOVERY;
	tcb->sender->limited_tx = 0;
	STAT_INC(tcb->st, FastRetrans);
	STAT_INC(tcb->st, TCPSACKRecovery);
	/* Entered by DupThresh: the first hole is the loss that says so.
	 * RACK names its losses itself. */
	if (cause == CC_CAUSE_SACK && tcp_snd_records(tcb) &&
	    !(tcp_snd_record(tcb, 0)->flags & (TXREC_SACKED | TXREC_RETRANS)))
		tcp_snd_mark(tcb, tcb->snd_una, tcb->snd_una + tcb->snd_mss, TXREC_LOST);
	tcp_sack_update(tcb);
	sd->recover_fs = tcp_cc_flight(tcb);
	sd->prr_delivered = sd->prr_out = 0;
	prr_ack(tcb);
	tcp_cc_event(tcb, &ev);
}

/*
 * SND.UNA reached the recovery point (RFC 6675's RecoveryPoint, the
 * snd_max of the episode's start): the episode is over.  RACK (RFC 8985
 * 6.2, on every ACK) may have deemed lost segments sent after that point
 * which no retransmission has repaired yet: they were sent a round trip
 * or more after the losses that began the episode, a loss in a later
 * window and a congestion event of its own (RFC 6675 5: one reduction
 * per window of data; RFC 8985 9.3).  As Linux's tcp_fastretrans_alert
 * (the state ends, this ACK's losses are identified, tcp_time_to_recover
 * sees lost_out), the next recovery starts on this ACK with its own
 * reduction and sends them at once, instead of their waiting for a later
 * ACK, the probe or the retransmission timer.  Linux also counts segments
 * it has already sent again in lost_out and starts a recovery for those;
 * here they were repaired within the episode, and a reduction for them
 * cost 4-9 % of goodput on random-loss paths in the simulator, so they
 * only count for the new episode's undo (D-SACKs of them may still come;
 * Linux's tcp_init_undo).
 * Returns 1 when recovery began again.
 */
static int rack_reenter(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	tcp_sack_update(tcb);
	if (tcp_rack_detect(tcb))
		tcp_sack_update(tcb);
	if (sd->lost == 0)
		return 0;
	uint32_t retrans = 0;
	for (uint32_t i = 0, n = tcp_snd_records(tcb); i < n; i++) {
		const struct tcp_txrec *r = tcp_snd_record(tcb, i);
		if ((r->flags & (TXREC_RETRANS | TXREC_SACKED | TXREC_LOST)) == TXREC_RETRANS)
			retrans++;
	}
	sd->delivered = 0;
	sack_recovery_enter(tcb, CC_CAUSE_RACK, 1);
	sd->undo_retrans = retrans;
	return 1;
}

/* An ACK in SACK recovery or one that may start it: the scoreboard is
 * brought up to date, then recovery ends, goes on by PRR, or begins when
 * enough duplicates came or the first hole is deemed lost (RFC 6675 5
 * step 2). */
static void sack_ack(struct tcb *tcb, int sack_news, uint32_t sacked_before, uint32_t newly)
{
	if (tcb->ca_state == SYNACK_CA_RECOVERY && seq_geq(tcb->snd_una, tcb->sender->recover)) {
		/* RFC 6937: recovery ends with cwnd = ssthresh. */
		tcb->cwnd = tcb->ssthresh;
		tcb->ca_state = SYNACK_CA_OPEN;
		if (tcp_rack_on(tcb))
			tcp_rack_recovery_exit(tcb);
		tcb->sender->delivered = 0;
		struct tcp_cc_event ev = cc_event_now(tcb, CC_SIG_RECOVERY_EXIT, CC_CAUSE_NONE);
		tcp_cc_event(tcb, &ev);
		/* Losses RACK found in data sent after the recovery point
		 * start the next recovery now. */
		if (tcp_rack_on(tcb))
			rack_reenter(tcb);
		return;
	}
	/* Nothing SACKed, nothing new: no scoreboard to walk. */
	if (tcb->ca_state == SYNACK_CA_OPEN && !sack_news && tcb->sender->sacked == 0 &&
	    tcb->dupacks < dupack_thresh(tcb)) {
		tcb->sender->delivered = 0;
		return;
	}
	/* RACK (RFC 8985 6.2) marks what time says is lost, with the sums
	 * of this ACK (its reordering window depends on what is SACKed). */
	tcp_sack_update(tcb);
	/* RFC 6937 3: DeliveredData = (delta snd.una) + (delta SACKd).  Bytes
	 * SACKed by an earlier ACK and now acknowledged cumulatively were
	 * delivered then: they leave SACKd as snd.una passes them, and count
	 * once.  Counted twice, every hole filled in a large window let PRR
	 * send the SACKed block again as new data, and the flight grew back
	 * to the window that had overflowed the queue before recovery ended. */
	struct tcp_sender *sd = tcb->sender;
	uint64_t gone = (uint64_t)sacked_before + newly;
	gone = gone > sd->sacked ? gone - sd->sacked : 0;
	sd->delivered -= gone < sd->delivered ? (uint32_t)gone : sd->delivered;
	int rack_lost = tcp_rack_on(tcb) && tcp_rack_detect(tcb);
	if (rack_lost)
		tcp_sack_update(tcb);
	if (tcb->ca_state == SYNACK_CA_RECOVERY)
		prr_ack(tcb);
	else if (tcb->ca_state == SYNACK_CA_OPEN && seq_gt(tcb->snd_una, tcb->sender->recover) &&
	         !tcp_rack_on(tcb) &&
	         (tcb->dupacks >= dupack_thresh(tcb) || tcp_sack_head_lost(tcb)))
		sack_recovery_enter(tcb, CC_CAUSE_SACK, 0);
	else if (tcb->ca_state == SYNACK_CA_OPEN && rack_lost)
		sack_recovery_enter(tcb, CC_CAUSE_RACK, 0);
	else
		tcb->sender->delivered = 0;
}

/* cwnd and ssthresh back to at least what they were before the reduction,
 * and congestion control's own state with them (RFC 9438 4.9: CUBIC's
 * W_max; as Linux's tcp_undo_cwnd_reduction: cwnd = max(cwnd, the
 * algorithm's undo_cwnd), ssthresh = max(ssthresh, prior_ssthresh)). */
static void undo_cwnd(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	uint32_t cwnd = tcp_cc_undo_cwnd(tcb);
	if (cwnd < sd->prior_cwnd)
		cwnd = sd->prior_cwnd;
	if (tcb->cwnd < cwnd)
		tcb->cwnd = cwnd;
	if (tcb->ssthresh < sd->prior_ssthresh)
		tcb->ssthresh = sd->prior_ssthresh;
}

/* The last fast recovery was needless: cwnd and ssthresh come back,
 * recovery ends (RFC 3708 3.2, RFC 3522 3.2; RFC 4015 for the response;
 * Linux's tcp_try_undo_recovery, tcp_try_undo_partial and
 * tcp_try_undo_dsack).  The retransmission was needless because the
 * network reordered: RACK's reordering window opens from now on (RFC
 * 8985 6.2 step 4, as Linux's tcp_check_sack_reordering counts it in
 * reord_seen), and DupThresh grows to cover what overtook the hole the
 * recovery began with (as Linux's tcp_try_undo_partial checks from the
 * hole to its highest SACK): the data up to sd->undo_fack when the hole
 * was filled by an earlier ACK, else up to fack (undo_fack). */
static void undo_reduction(struct tcb *tcb, uint32_t fack)
{
	struct tcp_sender *sd = tcb->sender;
	if (seq_gt(sd->undo_fack, sd->undo_marker))
		fack = sd->undo_fack;
	tcp_reordering_update(tcb, sd->undo_marker, fack);
	sd->undo_on = 0;
	sd->undo_ts = 2;
	/* NewReno's inflation (RFC 6582 3.2 step 3) counted the duplicates,
	 * not a window: the window to restore is the one before it. */
	if (!tcb->sack_ok && tcb->ca_state == SYNACK_CA_RECOVERY && tcb->cwnd > tcb->ssthresh)
		tcb->cwnd = tcb->ssthresh;
	undo_cwnd(tcb);
	if (tcp_rack_on(tcb))
		sd->rack_reordering_seen = 1;
	if (tcb->ca_state == SYNACK_CA_RECOVERY) {
		tcb->ca_state = SYNACK_CA_OPEN;
		struct tcp_cc_event ev = cc_event_now(tcb, CC_SIG_RECOVERY_EXIT, CC_CAUSE_NONE);
		tcp_cc_event(tcb, &ev);
	}
}

/* How far the data that overtook the recovery's first hole reached, for
 * the ACK up to ack (full: past the recovery point) that fills it.  With
 * SACK, the highest end delivered before that ACK's cumulative part
 * (sack_fack: RACK.fack, or the one before the ACK once its cumulative
 * deliveries moved it), and ack on a partial ACK when it is beyond.
 * Without SACK a partial ACK names it: the hole's filler was acknowledged
 * with everything that came before it.  A full one says only that
 * DupThresh duplicates came first (the rest of the window may have come
 * after the hole was filled). */
static uint32_t undo_fack(const struct tcb *tcb, uint32_t ack, int full, int sack_valid,
                          uint32_t sack_fack)
{
	const struct tcp_sender *sd = tcb->sender;
	uint32_t fack = full ? sd->undo_marker + (tcp_dupthresh(tcb) + 1) * tcb->snd_mss : ack;
	if (tcb->sack_ok && sack_valid) {
		fack = sack_fack;
		if (!full && seq_gt(ack, fack))
			fack = ack;
	}
	return fack;
}

/* A timeout proved spurious: no segment RACK marked lost was. */
static void rack_unmark_lost(struct tcb *tcb)
{
	for (uint32_t i = 0, n = tcp_snd_records(tcb); i < n; i++)
		tcp_snd_record(tcb, i)->flags &= (uint8_t)~TXREC_LOST;
	tcp_sack_update(tcb);
}

/*
 * The timeout was spurious: the segments it sent again had only been
 * delayed (RFC 3522 or D-SACKs for every retransmission).  The response
 * is RFC 4015 3.1's for a spurious timeout:
 * - go-back-N is reversed, SND.NXT <- SND.MAX (step 8): what was sent
 *   before the timeout is not sent again, and with RACK the timeout's
 *   loss marks go (as Linux's tcp_undo_cwnd_reduction with unmark_loss);
 * - the congestion state is reversed without a burst: ssthresh <-
 *   pipe_prev, the larger of the flight and ssthresh when the timeout
 *   came (here recover - undo_marker and prior_ssthresh), and cwnd <-
 *   FlightSize + min(bytes_acked, IW); congestion control's own
 *   state goes back too (RFC 9438 4.9 for CUBIC);
 * - the RTO: RFC 4015 rebases SRTT and RTTVAR on the first RTT sample
 *   (SRTT <- max(SRTT_prev, sample), RTTVAR <- max(RTTVAR_prev,
 *   sample / 2)); Linux takes that sample, the echo of the delayed
 *   original's TSval, through its usual estimator and clears the backoff
 *   (tcp_ack_update_rtt), and so does tcp_snd_acked here.
 * Counted as Linux's tcp_try_undo_loss: TCPLossUndo (TCPSpuriousRTOs only
 * for F-RTO's undo, frto_ack).  acked: bytes this ACK newly acknowledges.
 */
static void loss_undo(struct tcb *tcb, uint32_t acked)
{
	struct tcp_sender *sd = tcb->sender;
	sd->undo_on = 0;
	sd->undo_ts = 2;
	sd->frto = sd->frto_orig = sd->frto_new = 0;
	if (tcp_rack_on(tcb))
		rack_unmark_lost(tcb);
	tcb->snd_nxt = tcb->snd_max;
	uint32_t pipe_prev = tcb->sender->recover - sd->undo_marker;
	if (pipe_prev < sd->prior_ssthresh)
		pipe_prev = sd->prior_ssthresh;
	if (tcb->ssthresh < pipe_prev)
		tcb->ssthresh = pipe_prev;
	(void)tcp_cc_undo_cwnd(tcb);
	uint32_t iw = ENV(tcb->st)->cfg.init_cwnd * tcb->snd_mss;
	uint64_t w = (uint64_t)(tcb->snd_max - tcb->snd_una - acked) + (acked < iw ? acked : iw);
	if (w > UINT32_MAX)
		w = UINT32_MAX;
	if (tcb->cwnd < w)
		tcb->cwnd = (uint32_t)w;
	tcb->ca_state = SYNACK_CA_OPEN;
	STAT_INC(tcb->st, TCPLossUndo);
	struct tcp_cc_event ev = cc_event_now(tcb, CC_SIG_RECOVERY_EXIT, CC_CAUSE_NONE);
	tcp_cc_event(tcb, &ev);
}

void tcp_recovery_dsack_undo(struct tcb *tcb, uint32_t end)
{
	struct tcp_sender *sd = tcb->sender;
	/* Only a duplicate of data sent since the reduction began can be
	 * one of its retransmissions (Linux's tcp_check_dsack). */
	if (!sd->undo_on || sd->undo_retrans == 0 || !seq_gt(end, sd->undo_marker))
		return;
	if (--sd->undo_retrans)
		return;
	/* Every retransmission of the reduction came back as a duplicate:
	 * nothing was lost, the network duplicated or reordered (RFC 3708
	 * 3.2, Linux's tcp_try_undo_dsack; in the loss state, its
	 * tcp_try_undo_loss). */
	if (tcb->ca_state == SYNACK_CA_LOSS) {
		loss_undo(tcb, 0);
		return;
	}
	undo_reduction(tcb, undo_fack(tcb, tcb->snd_una, 0, sd->rack_fack_valid, sd->rack_fack));
	STAT_INC(tcb->st, TCPDSACKUndo);
}

void tcp_recovery_eifel_mark(struct tcb *tcb, uint32_t seq)
{
	struct tcp_sender *sd = tcb->sender;
	if (sd->undo_ts != 0 || !(tcb->options & SYNACK_TCPI_OPT_TIMESTAMPS))
		return;
	/* RFC 3522 2: RetransmitTS, what the first retransmission carries
	 * in TSval (tcp_opt_segment). */
	sd->undo_ts = 1;
	sd->undo_tsval = tcp_ts_clock(tcb->st) + tcb->ts_offset;
	sd->undo_ts_seq = seq;
}

/* Is any segment above ack sent again and not yet delivered? */
static int retrans_out_above(struct tcb *tcb, uint32_t ack)
{
	for (uint32_t i = 0, n = tcp_snd_records(tcb); i < n; i++) {
		const struct tcp_txrec *r = tcp_snd_record(tcb, i);
		if ((r->flags & (TXREC_RETRANS | TXREC_SACKED)) == TXREC_RETRANS &&
		    seq_gt(r->seq + r->len, ack))
			return 1;
	}
	return 0;
}

void tcp_recovery_eifel_ack(struct tcb *tcb, uint32_t ack, uint32_t ts_ecr)
{
	struct tcp_sender *sd = tcb->sender;
	if (!sd || !sd->undo_on || sd->undo_ts != 1 || tcb->ca_state == SYNACK_CA_OPEN ||
	    !seq_gt(ack, sd->undo_ts_seq))
		return;
	/* RFC 3522 3.2: the first acceptable ACK of the retransmitted
	 * segment decides.  Its echo older than RetransmitTS names the
	 * original transmission: that one arrived, the retransmission was
	 * needless (as Linux's tcp_packet_delayed).  An echo of the
	 * retransmission or later: it was needed, and the reduction stands.
	 * An ACK below the segment (one sent again in an earlier episode
	 * being acknowledged) says nothing about it. */
	sd->undo_ts = 2;
	if (ts_ecr == 0 || (int32_t)(ts_ecr - sd->undo_tsval) >= 0)
		return;
	/* After a timeout (the loss state), with or without SACK and
	 * whether or not F-RTO watches: Linux's tcp_try_undo_loss, which
	 * comes before F-RTO's own test (tcp_process_loss). */
	if (tcb->ca_state == SYNACK_CA_LOSS) {
		loss_undo(tcb, ack - tcb->snd_una);
		return;
	}
	/* A partial ACK (RFC 6582 3.2 step 4): the hole was filled by the
	 * delayed original.  Other retransmissions still out may yet be
	 * real losses: the undo waits, and a later ACK that echoes an
	 * original again decides (Linux's tcp_try_undo_partial holds while
	 * retrans_out).  When none is out the reduction goes, and so does
	 * the episode's recovery point: a later hole of this window is a
	 * loss of its own, whose duplicate ACKs may start a recovery (RFC
	 * 6582 3.2 step 2 guards one reduction per window; none is left). */
	int full = seq_geq(ack, tcb->sender->recover);
	if (!full && retrans_out_above(tcb, ack)) {
		sd->undo_ts = 1;
		return;
	}
	undo_reduction(tcb, undo_fack(tcb, ack, full, sd->rack_fack_valid, sd->rack_fack));
	if (full) {
		STAT_INC(tcb->st, TCPFullUndo);
	} else {
		tcb->sender->recover = sd->undo_marker;
		STAT_INC(tcb->st, TCPPartialUndo);
	}
}

void tcp_recovery_rack_loss(struct tcb *tcb)
{
	tcp_sack_update(tcb);
	if (tcb->ca_state == SYNACK_CA_OPEN)
		sack_recovery_enter(tcb, CC_CAUSE_RACK, 0);
}

/*
 * F-RTO (RFC 5682 3, SACK-enhanced as Linux's tcp_frto = 2): after a
 * first timeout only the first segment went again.  An ACK that delivers
 * data sent before the timeout and never sent again shows the timeout
 * spurious: the segments were delayed, not lost, and the reduction is
 * undone (TCPSpuriousRTOs).  The first ACK that only covers the
 * retransmission sends new data instead of more old data (step 2b), so
 * that the next ACK can tell; a duplicate ACK (step 3a) says the loss was
 * real and go-back-N goes on.  Returns 1 when the ACK was taken here.
 */
static int frto_ack(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	if (sd->frto_orig) {
		sd->frto = sd->frto_orig = sd->frto_new = 0;
		/* With RACK the timeout marked segments lost (RFC 8985 6.3):
		 * nothing was, the marks go (Linux's tcp_undo_cwnd_reduction
		 * with unmark_loss). */
		if (tcp_rack_on(tcb))
			rack_unmark_lost(tcb);
		/* RFC 5682 3.1 leaves the response to RFC 4015; congestion
		 * control's state goes back with cwnd (RFC 9438 4.9: CUBIC
		 * no longer keeps the timeout's W_max and epoch). */
		undo_cwnd(tcb);
		tcb->ca_state = SYNACK_CA_OPEN;
		tcb->snd_nxt = tcb->snd_max;
		STAT_INC(tcb->st, TCPSpuriousRTOs);
		STAT_INC(tcb->st, TCPLossUndo); /* as Linux's tcp_try_undo_loss */
		struct tcp_cc_event ev = cc_event_now(tcb, CC_SIG_RECOVERY_EXIT, CC_CAUSE_NONE);
		tcp_cc_event(tcb, &ev);
		return 1;
	}
	if (sd->frto == 1 && seq_lt(tcb->snd_una, tcb->sender->recover) &&
	    seq_lt(tcb->snd_max, tcp_fin_seq(tcb))) {
		/* Step 2b: up to two new segments, not the rest of the old
		 * data; tcp_output sends them once the ACK's window is taken
		 * (tcp_frto_output). */
		sd->frto = 2;
		sd->frto_new = 1;
		tcb->snd_nxt = tcb->snd_max;
		return 0;
	}
	/* Nothing new could go, or the ACK after the new data neither
	 * proved the timeout spurious nor was a duplicate: go-back-N (with
	 * RACK, what the timeout and RACK marked lost goes again). */
	if (sd->frto == 2 && !tcp_rack_loss_recovering(tcb))
		tcb->snd_nxt = tcb->snd_una;
	sd->frto = 0;
	if (seq_lt(tcb->snd_nxt, tcb->snd_una))
		tcb->snd_nxt = tcb->snd_una;
	return 0;
}

void tcp_frto_output(struct tcb *tcb)
{
	struct tcp_sender *sd = tcb->sender;
	uint32_t data_end = tcp_fin_seq(tcb), sent = 0;
	sd->frto_new = 0;
	/* RFC 5682 3 step 2b: two new segments within the peer's window but
	 * outside cwnd, whose window from SND.UNA still counts the old
	 * flight. */
	for (int k = 0; k < 2; k++) {
		uint32_t wnd_end = tcb->snd_una + tcb->snd_wnd;
		uint32_t n = seq_lt(tcb->snd_max, data_end) ? data_end - tcb->snd_max : 0;
		uint32_t room = seq_gt(wnd_end, tcb->snd_max) ? wnd_end - tcb->snd_max : 0;
		n = n < room ? n : room;
		n = n < tcb->snd_mss ? n : tcb->snd_mss;
		if (n == 0)
			break;
		sent += tcp_retransmit_at(tcb, tcb->snd_max, n);
	}
	tcb->snd_nxt = tcb->snd_max;
	if (!sent) {
		/* Nothing new could go: go-back-N after all (with RACK, the
		 * lost segments go again). */
		sd->frto = 0;
		if (!tcp_rack_loss_recovering(tcb))
			tcb->snd_nxt = tcb->snd_una;
	}
}

/* RFC 8985 6.3: after a timeout RACK goes on judging by time what each
 * ACK leaves outstanding, and the scoreboard says what goes again. */
static void rack_loss_ack(struct tcb *tcb)
{
	tcp_sack_update(tcb);
	if (tcp_rack_detect(tcb))
		tcp_sack_update(tcb);
	tcb->sender->delivered = 0;
}

void tcp_recovery_ack(struct tcb *tcb, const struct tcp_cc_ack *ack)
{
	/* An ACK of new data ends a run of duplicates (RFC 5681 3.2). */
	tcb->dupacks = 0;
	/* The first ACK of the segment a reduction began with: how far the
	 * data that overtook it reached is kept, for DupThresh should the
	 * reduction be undone later (a D-SACK may come a round trip after). */
	struct tcp_sender *sd = tcb->sender;
	if (sd && sd->undo_on && sd->undo_fack == sd->undo_marker &&
	    seq_gt(tcb->snd_una, sd->undo_marker))
		sd->undo_fack = undo_fack(tcb, tcb->snd_una, seq_geq(tcb->snd_una, sd->recover),
		                          sd->rack_prior_valid, sd->rack_fack_prior);
	tcb->sender->limited_tx = 0;
	if (tcb->sack_ok && tcb->ca_state != SYNACK_CA_LOSS) {
		/* tcp_input left what this ACK newly SACKed in delivered; the
		 * scoreboard's SACKed sum is still the one before it. */
		uint32_t newly = tcb->sender->delivered;
		int news = newly != 0;
		tcb->sender->delivered += ack->acked;
		sack_ack(tcb, news, tcb->sender->sacked, newly);
		tcp_cc_ack(tcb, ack);
		return;
	}
	if (tcb->ca_state == SYNACK_CA_LOSS && tcb->sender && tcb->sender->frto && frto_ack(tcb)) {
		tcp_cc_ack(tcb, ack);
		return;
	}
	switch (tcb->ca_state) {
	case SYNACK_CA_RECOVERY:
		if (seq_geq(tcb->snd_una, tcb->sender->recover))
			full_ack(tcb);
		else
			partial_ack(tcb, ack->acked);
		break;
	case SYNACK_CA_LOSS:
		/* After a timeout, go-back-N ends once everything sent
		 * before it is acknowledged (RFC 6582 3.2 step 1's recover). */
		if (seq_geq(tcb->snd_una, tcb->sender->recover)) {
			tcb->ca_state = SYNACK_CA_OPEN;
			if (tcp_rack_on(tcb)) {
				tcp_rack_recovery_exit(tcb);
				/* Losses after the recovery point: the next
				 * recovery begins now (Linux's tcp_fastretrans_alert
				 * falls through from CA_Loss to tcp_time_to_recover). */
				if (tcb->sender && !tcb->txq_untracked)
					rack_reenter(tcb);
			}
		} else if (tcp_rack_loss_recovering(tcb)) {
			rack_loss_ack(tcb);
		}
		break;
	default:
		break;
	}
	tcp_cc_ack(tcb, ack);
}

/* RFC 5681 3.2 steps 2 and 3 with RFC 6582 3.2 step 2: ssthresh from
 * congestion control, recover = the highest sequence sent, the first
 * unacknowledged segment again, and cwnd = ssthresh + 3 SMSS for the three
 * segments the duplicates say have left the network. */
static void fast_retransmit(struct tcb *tcb)
{
	struct tcp_cc_event ev = cc_event_now(tcb, CC_SIG_RECOVERY_ENTER, CC_CAUSE_DUPACKS);
	/* The episode's own undo state (a timeout's does not reach into
	 * it): the timestamps may show the retransmission needless. */
	undo_init(tcb);
	tcb->ssthresh = tcp_cc_ssthresh(tcb, &ev);
	tcb->sender->recover = tcb->snd_max;
	tcb->ca_state = SYNACK_CA_RECOVERY;
	tcb->sender->limited_tx = 0;
	STAT_INC(tcb->st, FastRetrans);
	tcp_retransmit_head(tcb);
	tcb->cwnd = tcb->ssthresh + 3 * tcb->snd_mss;
	tcp_cc_event(tcb, &ev);
}

void tcp_recovery_dupack(struct tcb *tcb)
{
	if (tcb->ca_state == SYNACK_CA_LOSS && tcb->sender && tcb->sender->frto) {
		struct tcp_sender *sd = tcb->sender;
		if (sd->frto_orig) {
			(void)frto_ack(tcb); /* a SACK of an original: spurious */
			return;
		}
		/* RFC 5682 3 step 3a: a duplicate ACK, the loss was real;
		 * go-back-N resumes from SND.UNA (with RACK, recovery from
		 * the scoreboard goes on, below). */
		sd->frto = 0;
		if (!tcp_rack_loss_recovering(tcb)) {
			tcb->snd_nxt = tcb->snd_una;
			return;
		}
	}
	if (tcp_rack_loss_recovering(tcb)) {
		rack_loss_ack(tcb);
		tcp_rack_timers(tcb);
		return;
	}
	if (tcb->sack_ok && tcb->ca_state != SYNACK_CA_LOSS) {
		/* RFC 6675 2: with SACK an ACK is a duplicate for DupThresh
		 * only when its SACK blocks name data not SACKed before.  A
		 * copy of an earlier ACK (the network duplicated it) names
		 * none, and counted, it started recoveries on a duplicating
		 * path with fewer than DupThresh segments SACKed (recovery = 0
		 * under 20 % duplication: 1.29 % of the bytes sent again
		 * needlessly, 1.09 % without).  With RACK, which starts no
		 * recovery on the count, it only sizes limited transmit, and
		 * stays as it was. */
		if (tcb->ca_state == SYNACK_CA_OPEN && tcb->dupacks < 255 &&
		    (tcb->sender->delivered || tcp_rack_on(tcb)))
			tcb->dupacks++;
		/* RFC 3042 limited transmit before recovery, as without SACK
		 * (with RACK, which starts recoveries by time, its two
		 * segments whatever DupThresh is). */
		uint32_t lt = tcp_rack_on(tcb) ? 3 : dupack_thresh(tcb);
		if (tcb->ca_state == SYNACK_CA_OPEN && tcb->dupacks < lt)
			tcb->sender->limited_tx = tcb->dupacks * tcb->snd_mss;
		sack_ack(tcb, 1, tcb->sender->sacked, tcb->sender->delivered);
		tcp_rack_timers(tcb);
		return;
	}
	if (tcb->ca_state == SYNACK_CA_RECOVERY) {
		/* RFC 5681 3.2 step 4: each further duplicate ACK means a
		 * segment left the network; inflate cwnd by one SMSS. */
		tcb->cwnd += tcb->snd_mss;
		return;
	}
	if (tcb->ca_state == SYNACK_CA_LOSS)
		return; /* go-back-N after a timeout produces these */
	if (tcb->dupacks < 255)
		tcb->dupacks++;
	uint32_t thresh = dupack_thresh(tcb);
	if (tcb->dupacks < thresh) {
		/* RFC 3042 limited transmit: one new segment for each
		 * duplicate ACK below DupThresh, outside cwnd (the first two
		 * at DupThresh 3; RFC 4653 4.1 extends it so to a DupThresh
		 * raised for reordering, as Linux's in-flight count does). */
		tcb->sender->limited_tx = tcb->dupacks * tcb->snd_mss;
		return;
	}
	if (tcb->dupacks > thresh)
		return;
	/* RFC 6582 3.2 step 2: only when the ACK covers more than recover,
	 * so that one window's losses start one recovery. */
	if (!seq_gt(tcb->snd_una, tcb->sender->recover))
		return;
	fast_retransmit(tcb);
}

void tcp_recovery_timeout(struct tcb *tcb)
{
	/* With nothing outstanding the timer was the persist timer, and
	 * during the handshake it was the SYN's: neither says anything
	 * about congestion. */
	if (tcb->snd_una == tcb->snd_max || tcb->state == SYNACK_SYN_SENT ||
	    tcb->state == SYNACK_SYN_RECEIVED)
		return;
	/* RFC 5681 3.1: ssthresh from equation (4) on the first timeout of
	 * a segment only; cwnd is one segment (the loss window).  RFC 6582
	 * 3.2 step 1 (after a timeout): recover = the highest sequence sent.
	 * Everything after snd_una is sent again (go-back-N) in slow start.
	 * Called before the timeout is counted in backoff. */
	struct tcp_cc_event ev = cc_event_now(tcb, CC_SIG_RTO, CC_CAUSE_RTO);
	/* F-RTO (RFC 5682 3 step 1) watches a first timeout with SACK: what
	 * it would undo is kept. */
	if (tcb->sender) {
		struct tcp_sender *sd = tcb->sender;
		sd->frto = tcb->backoff == 0 && tcb->sack_ok && ENV(tcb->st)->cfg.frto &&
		                   tcb->ca_state != SYNACK_CA_LOSS
		               ? 1
		               : 0;
		sd->frto_orig = sd->frto_new = 0;
		sd->frto_at = ENV(tcb->st)->now;
		/* What undo restores if the timeout proves spurious (Eifel,
		 * D-SACKs or F-RTO).  As Linux's tcp_enter_loss: a new episode
		 * unless the timeout comes inside one whose window is not yet
		 * acknowledged (fast recovery, or a timeout repeated on the
		 * same data), whose undo state stands.  RetransmitTS is the
		 * TSval of the timeout's retransmission (RFC 3522 2).
		 * Inside such an episode RFC 5681 3.1 still asks ssthresh
		 * (the first timeout of a segment), but congestion control
		 * keeps what its undo restores (CUBIC's W_max and cwnd, RFC
		 * 9438 4.9) from before the episode's first reduction, as the
		 * undo state here does, so that an undo of the episode (F-RTO,
		 * D-SACKs, timestamps) restores the state from before the
		 * first reduction, not from between the two (Linux keeps
		 * prior_cwnd and prior_ssthresh the same way).  Linux's
		 * tcp_enter_loss asks no ssthresh at all then; done so here it
		 * cost 2.3 % of goodput with recovery = 0 under 1 % loss
		 * (docs/PERFORMANCE.md, r13tail). */
		int fresh = tcb->ca_state == SYNACK_CA_OPEN || seq_geq(tcb->snd_una, sd->recover) ||
		            (tcb->ca_state == SYNACK_CA_LOSS && tcb->backoff == 0);
		if (fresh)
			undo_init(tcb);
		ev.undo_kept = (uint8_t)!fresh;
		/* A timeout before a recovery began though DupThresh segments
		 * were SACKed: the reordering DupThresh waits for is
		 * overestimated, it goes back to the setting (as Linux's
		 * tcp_enter_loss). */
		if (tcb->ca_state == SYNACK_CA_OPEN &&
		    sd->sacked >= ENV(tcb->st)->cfg.reordering * tcb->snd_mss)
			sd->reordering = 0;
	}
	if (tcb->backoff == 0)
		tcb->ssthresh = tcp_cc_ssthresh(tcb, &ev);
	tcb->cwnd = tcb->snd_mss;
	tcb->ca_state = SYNACK_CA_LOSS;
	tcb->sender->recover = tcb->snd_max;
	tcb->dupacks = 0;
	tcb->sender->limited_tx = 0;
	if (tcb->sender)
		tcb->sender->tlp_on = 0; /* RFC 8985 7.4: the episode ends */
	/* RFC 8985 6.3: with RACK only what has waited its RACK timeout is
	 * lost (and the first segment); the rest stays in flight.  Without
	 * it, everything outstanding goes again (go-back-N). */
	if (tcp_rack_loss_recovering(tcb) && tcb->sender)
		tcp_rack_mark_lost_on_rto(tcb);
	else
		tcb->snd_nxt = tcb->snd_una;
	STAT_INC(tcb->st, Timeouts);
	tcp_cc_event(tcb, &ev);
}
