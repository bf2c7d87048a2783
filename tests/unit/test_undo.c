/*
 * Undo of a spurious retransmission timeout (issue 13 item 2), segment by
 * segment: Eifel detection (RFC 3522) on the first ACK of the timeout's
 * retransmission and the Eifel response (RFC 4015 3.1: SND.NXT back to
 * SND.MAX, cwnd and ssthresh restored), with and without F-RTO, with and
 * without SACK; D-SACKs for every retransmission of the loss state (RFC
 * 3708, Linux's tcp_try_undo_loss); a real loss whose ACK echoes the
 * retransmission, which stands; and RACK's losses after the recovery
 * point, which start the next recovery at once (RFC 8985 6.2, RFC 6675 5,
 * Linux's tcp_fastretrans_alert).
 */
#include <string.h>

#include "script.h"

/* Segment k with timestamps on (12 bytes of options per segment). */
#define TS_MSS (T_MSS - 12)
#define ST(k) (T_ISS + 1 + (uint32_t)(k)*TS_MSS)
/* Segment k without timestamps. */
#define S(k) (T_ISS + 1 + (uint32_t)(k)*T_MSS)

static void no_frto(struct synack_config *cfg)
{
	cfg->frto = 0;
}

static void no_rack_no_frto(struct synack_config *cfg)
{
	cfg->recovery = 0;
	cfg->frto = 0;
}

/* Reno and standard slow start, pacing off (the segments an ACK releases
 * leave at once), then what the test tunes. */
static struct t *new_with(void (*tune)(struct synack_config *))
{
	struct synack_config cfg;
	t_config(&cfg);
	snprintf(cfg.congestion_control, sizeof(cfg.congestion_control), "reno");
	cfg.hystart = 0;
	cfg.pacing = 0;
	if (tune)
		tune(&cfg);
	return t_new_with(&cfg);
}

/* An active open whose handshake took 20 ms (SRTT 20 ms, RTO 200 ms), the
 * peer with timestamps (ts) and SACK (sack) as asked. */
static struct t *sender(void (*tune)(struct synack_config *), int ts, int sack)
{
	struct t *t = new_with(tune);
	t->peer_sack_ok = (uint8_t)sack;
	t->peer_ts = ts;
	t->peer_tsval = 500;
	t_at(t, 0);
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	uint32_t syn_ts = ts ? t_expect_ts(t, 1, 0) : 0;
	t_at(t, 20);
	t->peer_tsecr = syn_ts;
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	CHECK_EQ(t_info(t).srtt_us, 20000);
	return t;
}

/* n segments of T_MSS (no timestamps) leave at once, and nothing more. */
static void send_window(struct t *t, int n)
{
	t_send(t, (size_t)n * T_MSS);
	for (int k = 0; k < n; k++)
		t_expect(t, ".", S(k), 1001, T_MSS);
	t_expect_nothing(t);
}

/* n segments of TS_MSS leave at once; returns the TSval of the first. */
static uint32_t fill_ts(struct t *t, int n)
{
	t_send(t, (size_t)n * TS_MSS);
	t_expect(t, ".", ST(0), 1001, TS_MSS);
	uint32_t ts = t_expect_ts(t, 1, 500);
	for (int k = 1; k < n; k++)
		t_expect(t, ".", ST(k), 1001, TS_MSS);
	t_expect_nothing(t);
	return ts;
}

/*
 * The whole flight was only delayed.  Four segments leave at 20 ms; the
 * timeout sends segment 0 again (its TSval is RetransmitTS); the ACK of
 * segment 0 echoes the TSval of its first transmission: the original
 * arrived, the timeout was spurious (RFC 3522 3.2).  The response (RFC
 * 4015 3.1): segments 1-3, in flight, are not sent again (SND.NXT back to
 * SND.MAX, and with RACK the timeout's loss marks go), ssthresh comes
 * back, and cwnd is the flight plus what this ACK acknowledged.  Counted
 * as Linux does: TCPLossUndo, not TCPSpuriousRTOs (that is F-RTO's).
 * With RACK on, the probe (RFC 8985 7) goes first, at 60 ms.
 */
static void spurious_timeout_run(void (*tune)(struct synack_config *), int sack, int rack)
{
	struct t *t = sender(tune, 1, sack);
	uint32_t orig_ts = fill_ts(t, 4);
	struct synack_tcp_info before = t_info(t);
	uint64_t rto_at = 220;
	if (rack) {
		t_at(t, 60);
		t_expect(t, ".", ST(3), 1001, TS_MSS); /* the probe */
		t_expect_nothing(t);
		rto_at = 260;
	}
	t_at(t, rto_at - 1);
	t_expect_nothing(t);
	t_at(t, rto_at);
	t_expect(t, ".", ST(0), 1001, TS_MSS); /* the timeout */
	uint32_t rtx_ts = t_expect_ts(t, 1, 500);
	CHECK(rtx_ts != orig_ts);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_LOSS);
	CHECK_EQ(t_info(t).cwnd, TS_MSS);
	t_at(t, rto_at + 10);
	t->peer_tsecr = orig_ts;
	t_peer(t, ".", 1001, ST(1), 0);
	t_expect_nothing(t); /* no go-back-N: 1-3 are in flight */
	t_counter(t, "TCPLossUndo", 1);
	t_counter(t, "TCPSpuriousRTOs", 0);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.ssthresh, before.ssthresh);
	CHECK(i.cwnd >= 4 * TS_MSS); /* RFC 4015: flight 3 + min(acked 1, IW) */
	CHECK_EQ(i.lost, 0);
	/* The rest of the flight arrives: nothing was ever sent again but
	 * the timeout's segment (and the probe). */
	t_at(t, rto_at + 12);
	t_peer(t, ".", 1001, ST(4), 0);
	t_expect_nothing(t);
	t_counter(t, "RetransSegs", rack ? 2 : 1);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_free(t);
}

/* SACK, RACK and F-RTO (the defaults): the timestamps decide first. */
static void spurious_timeout_undone_by_timestamps(void)
{
	spurious_timeout_run(NULL, 1, 1);
}

/* F-RTO off: only the timestamps can tell. */
static void spurious_timeout_undone_by_timestamps_without_frto(void)
{
	spurious_timeout_run(no_frto, 1, 1);
}

/* Without SACK (NewReno, go-back-N after the timeout): no D-SACK can ever
 * tell, the timestamps do. */
static void spurious_timeout_undone_by_timestamps_newreno(void)
{
	spurious_timeout_run(NULL, 0, 0);
}

/*
 * The loss was real: the ACK after the timeout echoes the TSval of the
 * retransmission (the original never arrived).  Nothing is undone: the
 * loss state goes on, go-back-N sends segments 1 and 2 in slow start.
 */
static void real_loss_echoing_the_retransmission_stands(void)
{
	struct t *t = sender(NULL, 1, 0);
	uint32_t orig_ts = fill_ts(t, 4);
	uint32_t ssthresh_before = t_info(t).ssthresh;
	t_at(t, 220);
	t_expect(t, ".", ST(0), 1001, TS_MSS);
	uint32_t rtx_ts = t_expect_ts(t, 1, 500);
	CHECK(rtx_ts != orig_ts);
	t_at(t, 240);
	t->peer_tsecr = rtx_ts;
	t_peer(t, ".", 1001, ST(1), 0);
	t_expect(t, ".", ST(1), 1001, TS_MSS);
	t_expect(t, ".", ST(2), 1001, TS_MSS);
	t_expect_nothing(t);
	t_counter(t, "TCPLossUndo", 0);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_LOSS);
	CHECK(i.ssthresh < ssthresh_before);
	CHECK_EQ(i.cwnd, 2 * TS_MSS);
	t_drain(t);
	t_free(t);
}

/*
 * D-SACK undo in the loss state (Linux's tcp_try_undo_loss once
 * undo_retrans is 0): the three segments arrived but their ACKs were
 * lost.  The timeout sends segment 0 again; the peer answers with the
 * ACK of everything and a D-SACK of segment 0: the one retransmission of
 * the loss state was needless, and the timeout is undone (TCPLossUndo).
 * No timestamps, no F-RTO, no RACK: only the D-SACK can tell.
 */
static void spurious_timeout_undone_by_dsack(void)
{
	struct t *t = sender(no_rack_no_frto, 0, 1);
	send_window(t, 3);
	struct synack_tcp_info before = t_info(t);
	t_at(t, 220);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	CHECK(t_info(t).ssthresh < before.ssthresh);
	t_at(t, 230);
	t_peer_sack(t, 1, S(0), S(1));
	t_peer(t, ".", 1001, S(3), 0);
	t_counter(t, "TCPDSACKRecv", 1);
	t_counter(t, "TCPLossUndo", 1);
	t_counter(t, "TCPDSACKUndo", 0);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.ssthresh, before.ssthresh);
	CHECK(i.cwnd >= 3 * T_MSS);
	t_free(t);
}

/*
 * A timeout repeated on the same data (the timer backed off) keeps the
 * first timeout's undo state (Linux's tcp_enter_loss): when the delayed
 * original's echo finally comes, the undo restores what the first
 * timeout took, not the one-segment window of the second.
 */
static void repeated_timeout_is_undone_to_before_the_first(void)
{
	struct t *t = sender(NULL, 1, 0);
	uint32_t orig_ts = fill_ts(t, 4);
	struct synack_tcp_info before = t_info(t);
	t_at(t, 220);
	t_expect(t, ".", ST(0), 1001, TS_MSS);
	t_at(t, 620);
	t_expect(t, ".", ST(0), 1001, TS_MSS); /* backed off: 400 ms */
	t_expect_nothing(t);
	t_counter(t, "Timeouts", 2);
	t_at(t, 630);
	t->peer_tsecr = orig_ts;
	t_peer(t, ".", 1001, ST(1), 0);
	t_expect_nothing(t);
	t_counter(t, "TCPLossUndo", 1);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.ssthresh, before.ssthresh);
	t_drain(t);
	t_free(t);
}

/*
 * A loss after the recovery point (RFC 8985 6.2, RFC 6675 5; Linux's
 * tcp_fastretrans_alert).  Ten segments leave at 20 ms; at 40 ms SACKs
 * of 1-4 start recovery for segment 0 (RecoveryPoint = segment 10), and
 * the SACK of 1-9 lets PRR send new data, 10-13.  At 60 ms the ACK of
 * everything below 10 ends the recovery and SACKs 11-13: segment 10, sent
 * after the recovery point with 11, is lost by RACK's clock.  That is a
 * loss in the next window: the next recovery begins on this same ACK
 * (its own reduction) and segment 10 goes again at once, instead of new
 * data going and segment 10 waiting for a later ACK, the probe or the
 * timeout.
 */
static void rack_loss_after_the_recovery_point_starts_the_next_recovery(void)
{
	struct t *t = sender(NULL, 0, 1);
	t_send(t, 30 * T_MSS);
	for (int k = 0; k < 10; k++)
		t_expect(t, ".", S(k), 1001, T_MSS);
	t_expect_nothing(t);
	t_at(t, 40);
	t_peer_sack(t, 1, S(1), S(5));
	t_peer(t, ".", 1001, S(0), 0);
	t_expect(t, ".", S(0), 1001, T_MSS); /* recovery: segment 0 again */
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_RECOVERY);
	t_peer_sack(t, 1, S(1), S(10));
	t_peer(t, ".", 1001, S(0), 0);
	for (int k = 10; k < 14; k++)
		t_expect(t, ".", S(k), 1001, T_MSS); /* after the recovery point */
	t_expect_nothing(t);
	uint32_t ssthresh = t_info(t).ssthresh;
	t_counter(t, "TCPSACKRecovery", 1);
	t_at(t, 60);
	t_peer_sack(t, 1, S(11), S(14));
	t_peer(t, ".", 1001, S(10), 0);
	t_expect(t, ".", S(10), 1001, T_MSS);
	t_expect_nothing(t);
	t_counter(t, "TCPSACKRecovery", 2);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_RECOVERY);
	CHECK(i.ssthresh < ssthresh);
	/* The retransmission arrives: the second recovery ends. */
	t_at(t, 80);
	t_peer(t, ".", 1001, S(14), 0);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_drain(t);
	t_free(t);
}

/*
 * The same after a timeout (RFC 8985 6.3, then 6.2): the loss state
 * ends when segment 4, the recovery point, is acknowledged.  The whole
 * flight 0-3 and the probe were lost; the timeout marks 1-3 lost, the
 * slow-start window sends them and then new data, 4 and 5.  The ACK of
 * 0-3 at 320 ms SACKs 5 and ends the loss state: segment 4, sent after
 * the recovery point with 5, is judged at once (Linux's CA_Loss falling
 * through to tcp_identify_packet_loss), its reordering window (a quarter
 * of min_RTT, 5 ms) arms RACK's timer, and when that expires a recovery
 * begins and segment 4 goes again, not two round trips later by the
 * probe.
 */
static void rack_loss_after_the_timeout_recovery_point_starts_a_recovery(void)
{
	struct t *t = sender(no_frto, 0, 1);
	t_send(t, 4 * T_MSS);
	for (int k = 0; k < 4; k++)
		t_expect(t, ".", S(k), 1001, T_MSS);
	t_at(t, 60);
	t_expect(t, ".", S(3), 1001, T_MSS); /* the probe */
	t_at(t, 260);
	t_expect(t, ".", S(0), 1001, T_MSS); /* the timeout */
	t_expect_nothing(t);
	t_send(t, 4 * T_MSS); /* 4-7: cwnd is the timeout's segment */
	t_expect_nothing(t);
	t_at(t, 280);
	t_peer(t, ".", 1001, S(1), 0);
	t_expect(t, ".", S(1), 1001, T_MSS);
	t_expect(t, ".", S(2), 1001, T_MSS);
	t_expect_nothing(t);
	t_at(t, 300);
	t_peer(t, ".", 1001, S(3), 0);
	t_expect(t, ".", S(3), 1001, T_MSS);
	t_expect(t, ".", S(4), 1001, T_MSS); /* new data, after the recovery point */
	t_expect(t, ".", S(5), 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_LOSS);
	t_at(t, 320);
	t_peer_sack(t, 1, S(5), S(6));
	t_peer(t, ".", 1001, S(4), 0);
	t_expect(t, ".", S(6), 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_at(t, 324);
	t_expect_nothing(t);
	t_at(t, 325);
	t_expect(t, ".", S(4), 1001, T_MSS);
	t_expect_nothing(t);
	t_counter(t, "TCPSACKRecovery", 1);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_RECOVERY);
	t_drain(t);
	t_free(t);
}

/*
 * A send() right after a timeout with RACK (RFC 8985 6.3, RFC 6675 4
 * SetPipe).  The whole flight 0-3 and the probe were lost; the timeout
 * marks 0-3 lost and sends segment 0 again: cwnd is one segment and that
 * segment is in flight.  The application then writes more: nothing may
 * go, neither lost segment 1 nor new data, until an ACK opens the window
 * (the timeout's retransmission had not been counted in pipe, and
 * segment 1 went out at once beside it).  The ACK of segment 0 then
 * releases two segments of slow start: lost ones first, new data waits
 * (without F-RTO); F-RTO's step 2b sends its two new segments instead.
 */
static void send_after_timeout_run(void (*tune)(struct synack_config *), int frto)
{
	struct t *t = sender(tune, 0, 1);
	t_send(t, 4 * T_MSS);
	for (int k = 0; k < 4; k++)
		t_expect(t, ".", S(k), 1001, T_MSS);
	t_at(t, 60);
	t_expect(t, ".", S(3), 1001, T_MSS); /* the probe */
	t_at(t, 260);
	t_expect(t, ".", S(0), 1001, T_MSS); /* the timeout */
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).cwnd, T_MSS);
	t_send(t, 4 * T_MSS); /* 4-7 */
	t_expect_nothing(t);
	t_advance_ms(t, 5);
	t_expect_nothing(t);
	t_at(t, 280);
	t_peer(t, ".", 1001, S(1), 0);
	if (frto) {
		t_expect(t, ".", S(4), 1001, T_MSS);
		t_expect(t, ".", S(5), 1001, T_MSS);
	} else {
		t_expect(t, ".", S(1), 1001, T_MSS);
		t_expect(t, ".", S(2), 1001, T_MSS);
	}
	t_expect_nothing(t);
	t_send(t, T_MSS); /* 8: still nothing beyond cwnd */
	t_expect_nothing(t);
	t_drain(t);
	t_free(t);
}

static void send_after_timeout_waits_for_the_window(void)
{
	send_after_timeout_run(no_frto, 0);
}

static void send_after_timeout_waits_for_the_window_frto(void)
{
	send_after_timeout_run(NULL, 1);
}

/*
 * Undo of a fast recovery (issue 13 item 2): the timestamps (RFC 3522)
 * or D-SACKs (RFC 3708) show the fast retransmission needless, and the
 * reduction goes (RFC 4015; Linux's tcp_try_undo_recovery,
 * tcp_try_undo_partial, tcp_try_undo_dsack).
 */

static void cubic_cc(struct synack_config *cfg)
{
	snprintf(cfg->congestion_control, sizeof(cfg->congestion_control), "cubic");
}

static void cubic_no_rack(struct synack_config *cfg)
{
	cubic_cc(cfg);
	cfg->recovery = 0;
}

/* Three duplicate ACKs for segment 0 (NewReno: no SACK), each echoing
 * ts_ecr: the fast retransmission of segment 0 leaves; returns its TSval
 * (RetransmitTS). */
static uint32_t newreno_fast_retransmit(struct t *t, uint32_t ts_ecr)
{
	t->peer_tsecr = ts_ecr;
	for (int k = 0; k < 3; k++)
		t_peer(t, ".", 1001, ST(0), 0);
	t_expect(t, ".", ST(0), 1001, TS_MSS);
	uint32_t rtx_ts = t_expect_ts(t, 1, 500);
	t_expect_nothing(t);
	t_counter(t, "FastRetrans", 1);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_RECOVERY);
	return rtx_ts;
}

/*
 * NewReno, the whole recovery at once.  Ten segments leave at 20 ms;
 * segment 0 is delayed, and the three duplicates its successors draw send
 * it again.  The ACK of everything then echoes either the TSval of
 * segment 0's first transmission (it was only late: TCPFullUndo, cwnd and
 * ssthresh as before, the inflation gone) or that of the retransmission
 * (it was lost: the reduction stands, RFC 6582's deflation).
 */
static void newreno_full_run(int echo_original)
{
	struct t *t = sender(NULL, 1, 0);
	uint32_t orig_ts = fill_ts(t, 10);
	struct synack_tcp_info before = t_info(t);
	t_at(t, 40);
	uint32_t rtx_ts = newreno_fast_retransmit(t, orig_ts);
	CHECK(rtx_ts != orig_ts);
	CHECK(t_info(t).ssthresh < before.ssthresh);
	t_at(t, 45);
	t->peer_tsecr = echo_original ? orig_ts : rtx_ts;
	t_peer(t, ".", 1001, ST(10), 0);
	t_expect_nothing(t);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	t_counter(t, "TCPPartialUndo", 0);
	if (echo_original) {
		t_counter(t, "TCPFullUndo", 1);
		CHECK_EQ(i.ssthresh, before.ssthresh);
		CHECK(i.cwnd >= before.cwnd);
		CHECK(i.cwnd <= before.cwnd + 2 * TS_MSS); /* the restored window, its growth */
	} else {
		t_counter(t, "TCPFullUndo", 0);
		CHECK(i.ssthresh < before.ssthresh);
		CHECK(i.cwnd < before.cwnd);
	}
	t_free(t);
}

static void newreno_recovery_undone_by_timestamps(void)
{
	newreno_full_run(1);
}

static void newreno_real_loss_is_not_undone(void)
{
	newreno_full_run(0);
}

/*
 * NewReno, partial ACK (RFC 6582 3.2 step 4).  Segment 0 was only
 * delayed, segment 5 really lost.  The original of segment 0 fills the
 * first hole: the ACK up to segment 5 echoes its TSval.  No other
 * retransmission is out: the reduction is undone (TCPPartialUndo, as
 * Linux's tcp_try_undo_partial) and segment 5 is not sent at once as
 * NewReno's partial ACK would.  Segments 1-4 overtook segment 0: the
 * network reorders by five segments, and DupThresh is five from now on
 * (RFC 6675 2 and 6, Linux's tcp_check_sack_reordering from the
 * partial undo).  Five duplicates of segment 5 (three are no longer
 * enough) then start a recovery of its own: the episode's recovery point
 * went with the undo.
 */
static void newreno_partial_undo_then_a_real_loss(void)
{
	struct t *t = sender(NULL, 1, 0);
	uint32_t orig_ts = fill_ts(t, 10);
	struct synack_tcp_info before = t_info(t);
	t_at(t, 40);
	(void)newreno_fast_retransmit(t, orig_ts);
	t_at(t, 45);
	t->peer_tsecr = orig_ts;
	t_peer(t, ".", 1001, ST(5), 0);
	t_expect_nothing(t);
	t_counter(t, "TCPPartialUndo", 1);
	t_counter(t, "TCPFullUndo", 0);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.ssthresh, before.ssthresh);
	CHECK(i.cwnd >= before.cwnd);
	CHECK_EQ(before.reordering, 3);
	CHECK_EQ(i.reordering, 5);
	t_at(t, 46);
	for (int k = 0; k < 4; k++)
		t_peer(t, ".", 1001, ST(5), 0);
	t_expect_nothing(t);
	t_counter(t, "FastRetrans", 1);
	t_peer(t, ".", 1001, ST(5), 0);
	t_expect(t, ".", ST(5), 1001, TS_MSS);
	uint32_t rtx5_ts = t_expect_ts(t, 1, 500);
	t_expect_nothing(t);
	t_counter(t, "FastRetrans", 2);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_RECOVERY);
	CHECK(t_info(t).ssthresh < before.ssthresh);
	t_at(t, 66);
	t->peer_tsecr = rtx5_ts; /* the retransmission filled the hole */
	t_peer(t, ".", 1001, ST(10), 0);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_counter(t, "TCPFullUndo", 0);
	t_free(t);
}

/*
 * At 40 ms, three ACKs SACK segments 1-3 (echoing orig_ts, the TSval of
 * the first flight) while segment 0 is still missing: RACK deems it lost
 * and recovery sends it again, and nothing else.
 */
static void rack_recovery_of_segment_0(struct t *t, uint32_t orig_ts)
{
	t_at(t, 40);
	t->peer_tsecr = orig_ts;
	for (int k = 2; k <= 4; k++) {
		t_peer_sack(t, 1, ST(1), ST(k));
		t_peer(t, ".", 1001, ST(0), 0);
	}
	t_expect(t, ".", ST(0), 1001, TS_MSS);
	t_expect_nothing(t);
}

/*
 * SACK with RACK (the defaults), CUBIC.  Segment 0 is delayed past the
 * SACKs of 1-3: RACK deems it lost, recovery sends it again.  The ACK of
 * everything echoes the original's TSval: TCPFullUndo, and CUBIC's W_max
 * comes back with cwnd (RFC 9438 4.9).  The network reordered: RACK's
 * window opens (RFC 8985 6.2 step 4), so the same reordering in the next
 * flight is waited for and nothing goes again.
 */
static void rack_recovery_undone_by_timestamps_and_reordering_learned(void)
{
	struct t *t = sender(cubic_cc, 1, 1);
	uint32_t orig_ts = fill_ts(t, 10);
	struct synack_tcp_info before = t_info(t);
	rack_recovery_of_segment_0(t, orig_ts);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_RECOVERY);
	CHECK(t_info(t).cubic_wmax != before.cubic_wmax);
	t_at(t, 41);
	t_peer(t, ".", 1001, ST(10), 0);
	t_expect_nothing(t);
	t_counter(t, "TCPFullUndo", 1);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.ssthresh, before.ssthresh);
	CHECK(i.cwnd >= before.cwnd);
	CHECK_EQ(i.cubic_wmax, before.cubic_wmax);
	/* The next flight, reordered the same way: within the reordering
	 * window (a quarter of min_RTT, 5 ms) segment 10 arrives late. */
	t_send(t, 4 * TS_MSS);
	for (int k = 10; k < 14; k++)
		t_expect(t, ".", ST(k), 1001, TS_MSS);
	t_expect_nothing(t);
	t_at(t, 61);
	for (int k = 12; k <= 14; k++) {
		t_peer_sack(t, 1, ST(11), ST(k));
		t_peer(t, ".", 1001, ST(10), 0);
	}
	t_expect_nothing(t);
	t_at(t, 63);
	t_peer(t, ".", 1001, ST(14), 0);
	t_expect_nothing(t);
	t_counter(t, "RetransSegs", 1);
	t_counter(t, "TCPSACKRecovery", 1);
	t_free(t);
}

/*
 * SACK without RACK, CUBIC, no timestamps: only a D-SACK can tell.  The
 * third SACK starts recovery for segment 0; the original arrives, then
 * the retransmission comes back as a D-SACK: TCPDSACKUndo, cwnd,
 * ssthresh and CUBIC's W_max as before the recovery.
 */
static void sack_recovery_undone_by_dsack_restores_cubic(void)
{
	struct t *t = sender(cubic_no_rack, 0, 1);
	send_window(t, 10);
	struct synack_tcp_info before = t_info(t);
	t_at(t, 40);
	for (int k = 2; k <= 4; k++) {
		t_peer_sack(t, 1, S(1), S(k));
		t_peer(t, ".", 1001, S(0), 0);
	}
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	CHECK(t_info(t).cubic_wmax != before.cubic_wmax);
	t_at(t, 41);
	t_peer(t, ".", 1001, S(10), 0);
	t_counter(t, "TCPDSACKUndo", 0);
	t_at(t, 60);
	t_peer_sack(t, 1, S(0), S(1));
	t_peer(t, ".", 1001, S(10), 0);
	t_counter(t, "TCPDSACKUndo", 1);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.ssthresh, before.ssthresh);
	CHECK(i.cwnd >= before.cwnd);
	CHECK_EQ(i.cubic_wmax, before.cubic_wmax);
	t_free(t);
}

/*
 * F-RTO's undo (RFC 5682 3, the response of RFC 4015) with CUBIC: the
 * timeout set W_max to the window it came at and marked the next
 * congestion avoidance stage as the first after a timeout (RFC 9438 4.8);
 * once F-RTO shows the timeout spurious (an ACK of segment 1, sent once
 * and never again), W_max is the one from before the timeout again, and
 * so are cwnd and ssthresh (TCPSpuriousRTOs).
 */
static void frto_undo_restores_cubic(void)
{
	struct t *t = sender(cubic_no_rack, 0, 1);
	send_window(t, 4);
	struct synack_tcp_info before = t_info(t);
	t_at(t, 220);
	t_expect(t, ".", S(0), 1001, T_MSS); /* the timeout */
	t_expect_nothing(t);
	CHECK(t_info(t).cubic_wmax != before.cubic_wmax);
	t_send(t, 2 * T_MSS); /* 4-5, for F-RTO's step 2b */
	t_expect_nothing(t);
	t_at(t, 230);
	t_peer(t, ".", 1001, S(1), 0); /* covers only the retransmission */
	t_expect(t, ".", S(4), 1001, T_MSS);
	t_expect(t, ".", S(5), 1001, T_MSS);
	t_expect_nothing(t);
	t_at(t, 231);
	t_peer(t, ".", 1001, S(2), 0); /* segment 1, sent once: spurious */
	t_expect_nothing(t);
	t_counter(t, "TCPSpuriousRTOs", 1);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.ssthresh, before.ssthresh);
	CHECK(i.cwnd >= before.cwnd);
	CHECK_EQ(i.cubic_wmax, before.cubic_wmax);
	t_drain(t);
	t_free(t);
}

/*
 * SACK with RACK, partial ACK: segment 0 was only delayed, segment 5
 * really lost.  Recovery sends 0 again; then the original of 0 arrives
 * and the ACK up to 5 (SACKing 6-9) echoes its TSval: no other
 * retransmission is out, the reduction is undone (TCPPartialUndo) and
 * the loss marks go.  Segment 5 is judged afresh with the reordering
 * window now open (a quarter of min_RTT, 5 ms): it goes again when
 * RACK's timer expires, in a recovery of its own.
 */
static void rack_partial_undo_then_a_real_loss(void)
{
	struct t *t = sender(NULL, 1, 1);
	uint32_t orig_ts = fill_ts(t, 10);
	struct synack_tcp_info before = t_info(t);
	rack_recovery_of_segment_0(t, orig_ts);
	t_at(t, 41);
	t_peer_sack(t, 1, ST(6), ST(10));
	t_peer(t, ".", 1001, ST(5), 0);
	t_expect_nothing(t);
	t_counter(t, "TCPPartialUndo", 1);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.ssthresh, before.ssthresh);
	CHECK(i.cwnd >= before.cwnd);
	CHECK_EQ(i.lost, 0);
	t_at(t, 45);
	t_expect_nothing(t);
	t_at(t, 46);
	t_expect(t, ".", ST(5), 1001, TS_MSS);
	t_expect_nothing(t);
	t_counter(t, "TCPSACKRecovery", 2);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_RECOVERY);
	t_drain(t);
	t_free(t);
}

/*
 * SACK without RACK (RFC 6675 alone, recovery = 0), no timestamps: the
 * reordering a D-SACK undo proves raises DupThresh (RFC 6675 6; Linux's
 * tp->reordering, tcp_check_sack_reordering).  Segments 1-3 overtake
 * segment 0: the third SACK starts a recovery, the D-SACK of the
 * retransmission undoes it, and DupThresh is four (three overtook).  The
 * next flight, reordered the same way (12-14 before 11), is waited for:
 * nothing goes again.
 */
static void dsack_undo_raises_dupthresh_without_rack(void)
{
	struct t *t = sender(cubic_no_rack, 0, 1);
	send_window(t, 10);
	CHECK_EQ(t_info(t).reordering, 3);
	t_at(t, 40);
	for (int k = 2; k <= 4; k++) {
		t_peer_sack(t, 1, S(1), S(k));
		t_peer(t, ".", 1001, S(0), 0);
	}
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	t_at(t, 41);
	t_peer(t, ".", 1001, S(10), 0);
	t_drain(t);
	t_at(t, 60);
	t_peer_sack(t, 1, S(0), S(1));
	t_peer(t, ".", 1001, S(10), 0);
	t_counter(t, "TCPDSACKUndo", 1);
	CHECK_EQ(t_info(t).reordering, 4);
	t_drain(t);
	uint64_t rtx = t_counter_get(t, "RetransSegs");
	/* The next flight: segment 11 comes after 12-14 (10 first, so
	 * that SND.UNA is past the last recovery point, RFC 6582 3.2
	 * step 2). */
	t_send(t, 5 * T_MSS);
	for (int k = 10; k < 15; k++)
		t_expect(t, ".", S(k), 1001, T_MSS);
	t_expect_nothing(t);
	t_at(t, 80);
	t_peer(t, ".", 1001, S(11), 0);
	t_drain(t);
	for (int k = 13; k <= 15; k++) {
		t_peer_sack(t, 1, S(12), S(k));
		t_peer(t, ".", 1001, S(11), 0);
	}
	t_expect_nothing(t);
	t_at(t, 81);
	t_peer(t, ".", 1001, S(15), 0);
	t_counter(t, "RetransSegs", rtx);
	t_counter(t, "TCPSACKRecovery", 1);
	t_drain(t);
	t_free(t);
}

/*
 * With RACK (the defaults) and timestamps: the timestamps undo the
 * recovery segment 0's lateness began (1-3 overtook it: DupThresh four,
 * as above), and RACK's window is open.  In the next flight segments
 * 11-14 overtake segment 10, within the reordering window: nothing goes
 * again, and the delivery of 10, sent once, below the highest SACK shows
 * the network reorders by five segments (as Linux's tcp_clean_rtx_queue
 * finds its reord): DupThresh, and tcpi_reordering, is five.
 */
static void late_delivery(void (*tune)(struct synack_config *), uint32_t want)
{
	struct t *t = sender(tune, 1, 1);
	uint32_t orig_ts = fill_ts(t, 10);
	rack_recovery_of_segment_0(t, orig_ts);
	t_at(t, 41);
	t_peer(t, ".", 1001, ST(10), 0);
	t_expect_nothing(t);
	t_counter(t, "TCPFullUndo", 1);
	CHECK_EQ(t_info(t).reordering, 4);
	t_send(t, 5 * TS_MSS);
	for (int k = 10; k < 15; k++)
		t_expect(t, ".", ST(k), 1001, TS_MSS);
	t_expect_nothing(t);
	t_at(t, 61);
	for (int k = 12; k <= 15; k++) {
		t_peer_sack(t, 1, ST(11), ST(k));
		t_peer(t, ".", 1001, ST(10), 0);
	}
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).reordering, 4);
	t_at(t, 63);
	t_peer(t, ".", 1001, ST(15), 0);
	t_expect_nothing(t);
	t_counter(t, "RetransSegs", 1);
	CHECK_EQ(t_info(t).reordering, want);
	t_free(t);
}

static void late_delivery_raises_dupthresh(void)
{
	late_delivery(NULL, 5);
}

/* The same with max_reordering 4 (Linux's tcp_max_reordering): the
 * undo's raise to four stands, the late delivery's to five stops there. */
static void max_reordering_4(struct synack_config *cfg)
{
	cfg->max_reordering = 4;
}

static void late_delivery_raise_stops_at_max_reordering(void)
{
	late_delivery(max_reordering_4, 4);
}

/*
 * A timeout inside a fast recovery (SACK, no RACK, CUBIC) reduces again
 * (RFC 5681 3.1) but keeps the undo state of the recovery's first
 * reduction, CUBIC's included (RFC 9438 4.9).  So when F-RTO then shows
 * the timeout spurious (an ACK of segment 4, sent once before it), the
 * undo goes back to the state from before the FIRST reduction: cwnd,
 * ssthresh and CUBIC's W_max, not to those between the two (as Linux's
 * prior_cwnd and prior_ssthresh, which tcp_enter_loss leaves alone then).
 */
static void timeout_in_recovery_undone_to_before_the_first_reduction(void)
{
	struct t *t = sender(cubic_no_rack, 0, 1);
	send_window(t, 10);
	struct synack_tcp_info before = t_info(t);
	t_at(t, 40);
	for (int k = 2; k <= 4; k++) {
		t_peer_sack(t, 1, S(1), S(k));
		t_peer(t, ".", 1001, S(0), 0);
	}
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	struct synack_tcp_info rec = t_info(t);
	CHECK_EQ(rec.ca_state, SYNACK_CA_RECOVERY);
	CHECK(rec.cubic_wmax != before.cubic_wmax);
	CHECK(rec.ssthresh < before.ssthresh);
	/* Nothing more comes: the retransmission timer expires. */
	t_at(t, 240);
	t_expect(t, ".", S(0), 1001, T_MSS);
	t_expect_nothing(t);
	struct synack_tcp_info loss = t_info(t);
	CHECK_EQ(loss.ca_state, SYNACK_CA_LOSS);
	CHECK(loss.ssthresh <= rec.ssthresh);
	t_send(t, 2 * T_MSS); /* 10-11, for F-RTO's step 2b */
	t_expect_nothing(t);
	t_at(t, 250);
	t_peer_sack(t, 1, S(1), S(4));
	t_peer(t, ".", 1001, S(1), 0); /* covers only the retransmission */
	t_drain(t);
	t_at(t, 251);
	t_peer(t, ".", 1001, S(5), 0); /* segment 4, sent once: spurious */
	t_drain(t);
	t_counter(t, "TCPSpuriousRTOs", 1);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.ssthresh, before.ssthresh);
	CHECK(i.cwnd >= before.cwnd);
	CHECK_EQ(i.cubic_wmax, before.cubic_wmax);
	t_drain(t);
	t_free(t);
}

int main(void)
{
	RUN(spurious_timeout_undone_by_timestamps);
	RUN(spurious_timeout_undone_by_timestamps_without_frto);
	RUN(spurious_timeout_undone_by_timestamps_newreno);
	RUN(real_loss_echoing_the_retransmission_stands);
	RUN(spurious_timeout_undone_by_dsack);
	RUN(repeated_timeout_is_undone_to_before_the_first);
	RUN(rack_loss_after_the_recovery_point_starts_the_next_recovery);
	RUN(rack_loss_after_the_timeout_recovery_point_starts_a_recovery);
	RUN(send_after_timeout_waits_for_the_window);
	RUN(send_after_timeout_waits_for_the_window_frto);
	RUN(newreno_recovery_undone_by_timestamps);
	RUN(newreno_real_loss_is_not_undone);
	RUN(newreno_partial_undo_then_a_real_loss);
	RUN(rack_recovery_undone_by_timestamps_and_reordering_learned);
	RUN(sack_recovery_undone_by_dsack_restores_cubic);
	RUN(frto_undo_restores_cubic);
	RUN(rack_partial_undo_then_a_real_loss);
	RUN(dsack_undo_raises_dupthresh_without_rack);
	RUN(late_delivery_raises_dupthresh);
	RUN(late_delivery_raise_stops_at_max_reordering);
	RUN(timeout_in_recovery_undone_to_before_the_first_reduction);
	return check_summary("test_undo");
}
