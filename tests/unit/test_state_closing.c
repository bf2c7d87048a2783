/*
 * The closing states (RFC 9293 3.10.7.4): FIN_WAIT_1, FIN_WAIT_2, CLOSING,
 * LAST_ACK and CLOSE_WAIT, their timers, user calls, and simultaneous close.
 * Numbers after the helpers: the peer's FIN (when sent) is 1001, ours ISS+1.
 */
#include "script.h"

/*
 * Steps through the timers until the connection is CLOSED, expecting only
 * retransmissions of our FIN (seq ISS+1, ack rcv_nxt); returns how many.
 */
static int fins_until_closed(struct t *t, uint32_t rcv_nxt)
{
	int fins = 0;
	for (int i = 0; i < 64 && t_get_state(t) != SYNACK_CLOSED; i++) {
		uint64_t d = synack_next_deadline(t->st);
		if (d == SYNACK_NEVER)
			break;
		t_at(t, (d + 999) / 1000);
		while (synack_output_pending(t->st) > 0) {
			t_expect(t, "F.", T_ISS + 1, rcv_nxt, 0);
			fins++;
		}
	}
	return fins;
}

/* ---------------------------------------------------------------- FIN_WAIT_1 */

static void fin_wait_1_ack_of_fin_enters_fin_wait_2(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1(t);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_free(t);
}

/* An ACK that does not cover our FIN leaves us in FIN_WAIT_1. */
static void fin_wait_1_ack_old_stays(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1(t);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_free(t);
}

static void fin_wait_1_ack_future_gets_ack_and_is_dropped(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1(t);
	t_peer(t, ".", 1001, T_ISS + 10, 0);
	t_expect(t, ".", T_ISS + 2, 1001, 0);
	t_dropped(t, SYNACK_DROP_ACK_FUTURE);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_free(t);
}

/* Simultaneous close: the peer's FIN crosses ours -> CLOSING. */
static void fin_wait_1_fin_enters_closing(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1(t);
	t_peer(t, "F.", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_CLOSING);
	t_free(t);
}

/* RFC 9293 3.10.7.4 eighth: a FIN whose segment also acks our FIN -> TIME_WAIT. */
static void fin_wait_1_fin_acking_our_fin_enters_time_wait(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1(t);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_counter(t, "TimeWaitEntered", 1);
	t_free(t);
}

/* After shutdown(SHUT_WR) the socket still receives in FIN_WAIT_1. */
static void fin_wait_1_data_after_shutdown_is_delivered(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1_shutdown(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 2, 1011, 0);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_recv(t, 10);
	t_free(t);
}

static void fin_wait_1_data_right_of_window_is_acked_and_dropped(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1_shutdown(t);
	t_peer(t, "P.", 1001 + T_RCVBUF, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 2, 1001, 0);
	t_dropped(t, SYNACK_DROP_SEQ_OUT_OF_WINDOW);
	t_recv_err(t, -EAGAIN);
	t_free(t);
}

/*
 * After close() nobody will read: new data aborts the connection (RFC 2525
 * 2.17, Linux AbortOnData) with the RST of an ABORT, <SEQ=SND.NXT> (RFC 9293
 * 3.10.5).
 */
static void fin_wait_1_data_after_close_gets_rst(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, "R*", T_ISS + 2, 0, 0);
	t_dropped(t, SYNACK_DROP_DATA_AFTER_CLOSE);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "AbortOnData", 1);
	t_free(t);
}

static void fin_wait_1_rst_exact_closes(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1(t);
	t_peer(t, "R", 1001, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_at(t, 600000);
	t_expect_nothing(t);
	t_free(t);
}

static void fin_wait_1_rst_in_window_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1(t);
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1001, 0);
	t_counter(t, "RstChallenge", 1);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_free(t);
}

static void fin_wait_1_rst_out_of_window_is_dropped(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1(t);
	t_peer(t, "R", 1001 + 70000, 0, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_RST_OUT_OF_WINDOW);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_free(t);
}

static void fin_wait_1_syn_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1(t);
	t_peer(t, "S", 1001, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1001, 0);
	t_counter(t, "SynChallenge", 1);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_free(t);
}

/* The FIN is retransmitted on the RTO with backoff (RFC 6298 5.4-5.6).
 * The handshake took no time, so its RTT sample (RFC 6298 2.2) put the RTO
 * at rto_min_ms (200 ms). */
static void fin_wait_1_fin_retransmitted_with_backoff(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_fin_wait_1(t);
	t_at(t, 199);
	t_expect_nothing(t);
	t_at(t, 200);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_at(t, 599);
	t_expect_nothing(t);
	t_at(t, 600);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_free(t);
}

/* An orphan's FIN is retransmitted orphan_retries (8) times, then the connection is CLOSED. */
static void fin_wait_1_orphan_gives_up_after_orphan_retries(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_fin_wait_1(t);
	CHECK_EQ(fins_until_closed(t, 1001), 8);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "OrphanRetriesExceeded", 1);
	t_free(t);
}

static void fin_wait_1_send_after_shutdown_fails_with_epipe(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1_shutdown(t);
	CHECK_EQ(synack_send(t->st, t->sock, "x", 1), -EPIPE);
	t_expect_nothing(t);
	t_free(t);
}

/* ABORT in FIN_WAIT_1 (RFC 9293 3.10.5): RST <SEQ=SND.NXT>, CLOSED. */
static void fin_wait_1_abort_with_linger_zero_sends_rst(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1_shutdown(t);
	t_abort(t);
	t_expect(t, "R.", T_ISS + 2, 1001, 0);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

/* ---------------------------------------------------------------- FIN_WAIT_2 */

static void fin_wait_2_fin_enters_time_wait(void)
{
	struct t *t = t_new();
	t_to_fin_wait_2(t);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_counter(t, "TimeWaitEntered", 1);
	t_free(t);
}

/* Half-close: the peer keeps sending and we keep receiving in FIN_WAIT_2. */
static void fin_wait_2_data_after_shutdown_is_delivered(void)
{
	struct t *t = t_new();
	t_to_fin_wait_2_shutdown(t);
	t_peer(t, "P.", 1001, T_ISS + 2, 100);
	t_expect(t, ".", T_ISS + 2, 1101, 0);
	t_peer(t, "FP.", 1101, T_ISS + 2, 50);
	t_expect(t, ".", T_ISS + 2, 1152, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_recv(t, 150);
	t_recv(t, 0);
	t_free(t);
}

static void fin_wait_2_data_left_of_window_is_reacked_and_dropped(void)
{
	struct t *t = t_new();
	t_to_fin_wait_2_shutdown(t);
	t_peer(t, "P.", 1001, T_ISS + 2, 100);
	t_expect(t, ".", T_ISS + 2, 1101, 0);
	t_peer(t, "P.", 1001, T_ISS + 2, 100);
	t_expect(t, ".", T_ISS + 2, 1101, 0);
	t_recv(t, 100);
	t_recv_err(t, -EAGAIN);
	t_free(t);
}

static void fin_wait_2_fin_before_data_is_held_until_gap_fills(void)
{
	struct t *t = t_new();
	t_to_fin_wait_2_shutdown(t);
	t_peer(t, "F.", 1101, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1001, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_peer(t, "P.", 1001, T_ISS + 2, 100);
	t_expect(t, ".", T_ISS + 2, 1102, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_recv(t, 100);
	t_recv(t, 0);
	t_free(t);
}

static void fin_wait_2_data_after_close_gets_rst(void)
{
	struct t *t = t_new();
	t_to_fin_wait_2(t);
	t_peer(t, "P.", 1001, T_ISS + 2, 10);
	t_expect(t, "R*", T_ISS + 2, 0, 0);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "AbortOnData", 1);
	t_free(t);
}

static void fin_wait_2_ack_future_gets_ack(void)
{
	struct t *t = t_new();
	t_to_fin_wait_2(t);
	t_peer(t, ".", 1001, T_ISS + 10, 0);
	t_expect(t, ".", T_ISS + 2, 1001, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_free(t);
}

static void fin_wait_2_rst_exact_closes(void)
{
	struct t *t = t_new();
	t_to_fin_wait_2(t);
	t_peer(t, "R", 1001, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

static void fin_wait_2_rst_in_window_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_fin_wait_2(t);
	t_peer(t, "R", 2000, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1001, 0);
	t_counter(t, "RstChallenge", 1);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_free(t);
}

static void fin_wait_2_rst_out_of_window_is_dropped(void)
{
	struct t *t = t_new();
	t_to_fin_wait_2(t);
	t_peer(t, "R", 999, 0, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_RST_OUT_OF_WINDOW);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_free(t);
}

static void fin_wait_2_syn_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_fin_wait_2(t);
	t_peer(t, "S", 1001, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1001, 0);
	t_counter(t, "SynChallenge", 1);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_free(t);
}

/* An orphaned FIN_WAIT_2 ends fin_timeout_ms (60 s) after it was entered. */
static void fin_wait_2_orphan_times_out_after_fin_timeout(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_fin_wait_1(t);
	t_at(t, 100); /* before the FIN's RTO (200 ms after a 0 ms handshake) */
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_at(t, 60099);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_at(t, 60100);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "FinWait2Timeouts", 1);
	t_free(t);
}

/* With a socket still open (shutdown), FIN_WAIT_2 waits for the peer as long as it takes. */
static void fin_wait_2_with_socket_does_not_time_out(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_fin_wait_2_shutdown(t);
	t_at(t, 600000);
	t_expect_nothing(t);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_counter(t, "FinWait2Timeouts", 0);
	t_free(t);
}

/* ---------------------------------------------------------------- CLOSING */

static void closing_ack_of_fin_enters_time_wait(void)
{
	struct t *t = t_new();
	t_to_closing(t);
	t_peer(t, ".", 1002, T_ISS + 2, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

static void closing_ack_old_stays(void)
{
	struct t *t = t_new();
	t_to_closing(t);
	t_peer(t, ".", 1002, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSING);
	t_free(t);
}

static void closing_ack_future_gets_ack(void)
{
	struct t *t = t_new();
	t_to_closing(t);
	t_peer(t, ".", 1002, T_ISS + 9, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_CLOSING);
	t_free(t);
}

/* A retransmitted FIN is left of the window: ACK it, stay. */
static void closing_fin_retransmit_is_reacked(void)
{
	struct t *t = t_new();
	t_to_closing(t);
	t_peer(t, "F.", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_CLOSING);
	t_free(t);
}

/* RFC 9293 3.10.7.4 eighth, CLOSING: text after the FIN "should not occur": ignore it. */
static void closing_data_is_ignored(void)
{
	struct t *t = t_new();
	t_to_closing(t);
	t_peer(t, "P.", 1002, T_ISS + 1, 10);
	/* An ACK in reply is allowed; it must not acknowledge the text. */
	if (synack_output_pending(t->st) > 0)
		t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_CLOSING);
	t_free(t);
}

static void closing_rst_exact_closes(void)
{
	struct t *t = t_new();
	t_to_closing(t);
	t_peer(t, "R", 1002, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

static void closing_rst_in_window_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_closing(t);
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_counter(t, "RstChallenge", 1);
	t_state(t, SYNACK_CLOSING);
	t_free(t);
}

static void closing_rst_out_of_window_is_dropped(void)
{
	struct t *t = t_new();
	t_to_closing(t);
	t_peer(t, "R", 1002 + 70000, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSING);
	t_free(t);
}

static void closing_syn_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_closing(t);
	t_peer(t, "S", 1002, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_counter(t, "SynChallenge", 1);
	t_state(t, SYNACK_CLOSING);
	t_free(t);
}

static void closing_fin_retransmitted_on_timeout(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_closing(t);
	t_at(t, 200); /* the RTO after a 0 ms handshake: rto_min_ms */
	t_expect(t, "F.", T_ISS + 1, 1002, 0);
	t_at(t, 600);
	t_expect(t, "F.", T_ISS + 1, 1002, 0);
	t_peer(t, ".", 1002, T_ISS + 2, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

static void closing_orphan_gives_up_after_orphan_retries(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_closing(t);
	CHECK_EQ(fins_until_closed(t, 1002), 8);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "OrphanRetriesExceeded", 1);
	t_free(t);
}

/* Simultaneous close, RFC 9293 Figure 13: FIN crosses FIN, both go CLOSING then TIME_WAIT. */
static void simultaneous_close_goes_through_closing_and_time_wait(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_establish_active(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_peer(t, "F.", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_CLOSING);
	t_peer(t, ".", 1002, T_ISS + 2, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_TIME_WAIT);
	t_at(t, 60000);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

/* ---------------------------------------------------------------- LAST_ACK */

static void last_ack_ack_of_fin_closes(void)
{
	struct t *t = t_new();
	t_to_last_ack(t);
	t_peer(t, ".", 1002, T_ISS + 2, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "TimeWaitEntered", 0);
	t_free(t);
}

static void last_ack_ack_old_stays(void)
{
	struct t *t = t_new();
	t_to_last_ack(t);
	t_peer(t, ".", 1002, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_LAST_ACK);
	t_free(t);
}

static void last_ack_ack_future_gets_ack(void)
{
	struct t *t = t_new();
	t_to_last_ack(t);
	t_peer(t, ".", 1002, T_ISS + 5, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_LAST_ACK);
	t_free(t);
}

static void last_ack_fin_retransmit_is_reacked(void)
{
	struct t *t = t_new();
	t_to_last_ack(t);
	t_peer(t, "F.", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_LAST_ACK);
	t_free(t);
}

static void last_ack_data_is_ignored(void)
{
	struct t *t = t_new();
	t_to_last_ack(t);
	t_peer(t, "P.", 1002, T_ISS + 1, 10);
	if (synack_output_pending(t->st) > 0)
		t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_LAST_ACK);
	t_free(t);
}

static void last_ack_rst_exact_closes(void)
{
	struct t *t = t_new();
	t_to_last_ack(t);
	t_peer(t, "R", 1002, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

static void last_ack_rst_in_window_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_last_ack(t);
	t_peer(t, "R", 1003, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_counter(t, "RstChallenge", 1);
	t_state(t, SYNACK_LAST_ACK);
	t_free(t);
}

static void last_ack_rst_out_of_window_is_dropped(void)
{
	struct t *t = t_new();
	t_to_last_ack(t);
	t_peer(t, "R", 1002 + 70000, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_LAST_ACK);
	t_free(t);
}

static void last_ack_syn_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_last_ack(t);
	t_peer(t, "S", 1002, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_counter(t, "SynChallenge", 1);
	t_state(t, SYNACK_LAST_ACK);
	t_free(t);
}

static void last_ack_fin_retransmitted_with_backoff(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_last_ack(t);
	t_at(t, 200); /* the RTO after a 0 ms handshake: rto_min_ms */
	t_expect(t, "F.", T_ISS + 1, 1002, 0);
	t_at(t, 599);
	t_expect_nothing(t);
	t_at(t, 600);
	t_expect(t, "F.", T_ISS + 1, 1002, 0);
	t_peer(t, ".", 1002, T_ISS + 2, 0);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

static void last_ack_orphan_gives_up_after_orphan_retries(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_last_ack(t);
	CHECK_EQ(fins_until_closed(t, 1002), 8);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "OrphanRetriesExceeded", 1);
	t_free(t);
}

/* ---------------------------------------------------------------- CLOSE_WAIT */

static void close_wait_close_sends_fin_and_enters_last_ack(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1002, 0);
	t_state(t, SYNACK_LAST_ACK);
	t_free(t);
}

static void close_wait_shutdown_wr_sends_fin_and_enters_last_ack(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_shutdown_wr(t);
	t_expect(t, "F.", T_ISS + 1, 1002, 0);
	t_state(t, SYNACK_LAST_ACK);
	t_peer(t, ".", 1002, T_ISS + 2, 0);
	t_state(t, SYNACK_CLOSED);
	t_recv(t, 0);
	t_free(t);
}

/* RFC 9293 3.10.2: SEND in CLOSE-WAIT works as in ESTABLISHED. */
static void close_wait_send_transmits_data(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1, 1002, 10);
	t_peer(t, ".", 1002, T_ISS + 11, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_free(t);
}

static void close_wait_recv_returns_end_of_stream(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_recv(t, 0);
	t_recv(t, 0);
	t_free(t);
}

static void close_wait_fin_retransmit_is_reacked(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_peer(t, "F.", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1002, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_free(t);
}

/* RFC 9293 3.10.7.4 seventh, CLOSE-WAIT: text after the FIN is ignored. */
static void close_wait_data_after_fin_is_ignored(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_peer(t, "P.", 1002, T_ISS + 1, 10);
	if (synack_output_pending(t->st) > 0)
		t_expect(t, ".", T_ISS + 1, 1002, 0);
	t_dropped(t, SYNACK_DROP_DATA_AFTER_FIN);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_recv(t, 0);
	t_free(t);
}

static void close_wait_ack_future_gets_ack(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_peer(t, ".", 1002, T_ISS + 50, 0);
	t_expect(t, ".", T_ISS + 1, 1002, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_free(t);
}

/* A RST in CLOSE_WAIT: the error is -EPIPE, as Linux's tcp_reset() sets it
 * there (-ECONNRESET in the other synchronized states).  A read after the
 * peer's FIN sees the end only (Linux's tcp_recvmsg tests SOCK_DONE before
 * sk_err); the error waits for the write, once, then the write's own
 * -EPIPE. */
static void close_wait_rst_exact_resets(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_peer(t, "R", 1002, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "EstabResets", 1);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLERR);
	t_recv(t, 0);
	t_recv(t, 0);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLERR);
	CHECK_EQ(synack_send(t->st, t->sock, "x", 1), -EPIPE);
	CHECK(!(synack_events(t->st, t->sock) & SYNACK_POLLERR));
	CHECK_EQ(synack_send(t->st, t->sock, "x", 1), -EPIPE);
	t_free(t);
}

/* The same with data unread: the data, then the end; SO_ERROR takes the
 * -EPIPE. */
static void close_wait_rst_keeps_data_then_so_error_epipe(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "FP.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1012, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_peer(t, "R", 1012, 0, 0);
	t_state(t, SYNACK_CLOSED);
	t_recv(t, 10);
	t_recv(t, 0);
	int v = 0;
	CHECK_EQ(synack_getsockopt(t->st, t->sock, SYNACK_SO_ERROR, &v), 0);
	CHECK_EQ(v, -EPIPE);
	CHECK_EQ(synack_getsockopt(t->st, t->sock, SYNACK_SO_ERROR, &v), 0);
	CHECK_EQ(v, 0);
	t_free(t);
}

static void close_wait_rst_in_window_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1002, 0);
	t_counter(t, "RstChallenge", 1);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_free(t);
}

static void close_wait_rst_out_of_window_is_dropped(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_peer(t, "R", 1001, 0, 0); /* left of the window: the FIN already took 1001 */
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_free(t);
}

static void close_wait_syn_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_peer(t, "S", 1002, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1002, 0);
	t_counter(t, "SynChallenge", 1);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_free(t);
}

static void close_wait_abort_with_linger_zero_sends_rst(void)
{
	struct t *t = t_new();
	t_to_close_wait(t);
	t_abort(t);
	t_expect(t, "R.", T_ISS + 1, 1002, 0);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

/* close_wait_timeout_ms is 0 by default: CLOSE_WAIT lasts as long as the application wants. */
static void close_wait_does_not_time_out_by_default(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_close_wait(t);
	t_at(t, 3600000);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_free(t);
}

static void fin_wait_1_data_left_of_window_is_reacked_and_dropped(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1_shutdown(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 2, 1011, 0);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 2, 1011, 0);
	t_recv(t, 10);
	t_recv_err(t, -EAGAIN);
	t_free(t);
}

/* close() after shutdown(SHUT_WR): the FIN is already out, nothing more to send. */
static void fin_wait_1_close_after_shutdown_sends_nothing(void)
{
	struct t *t = t_new();
	t_to_fin_wait_1_shutdown(t);
	t_close(t);
	t_expect_nothing(t);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_free(t);
}

/* While the application holds the socket, the FIN is retried retries2 (15) times, then -ETIMEDOUT.
 */
static void fin_wait_1_with_socket_gives_up_after_retries2(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_fin_wait_1_shutdown(t);
	CHECK_EQ(fins_until_closed(t, 1001), 15);
	t_state(t, SYNACK_CLOSED);
	t_sock_error(t, -ETIMEDOUT);
	t_counter(t, "OrphanRetriesExceeded", 0);
	t_free(t);
}

static void fin_wait_2_data_right_of_window_is_acked_and_dropped(void)
{
	struct t *t = t_new();
	t_to_fin_wait_2_shutdown(t);
	t_peer(t, "P.", 1001 + T_RCVBUF, T_ISS + 2, 10);
	t_expect(t, ".", T_ISS + 2, 1001, 0);
	t_dropped(t, SYNACK_DROP_SEQ_OUT_OF_WINDOW);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_free(t);
}

/* The peer's data sent before its FIN, retransmitted: left of the window, re-ACKed. */
static void close_wait_data_left_of_window_is_reacked(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "FP.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1012, 0);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1012, 0);
	t_recv(t, 10);
	t_recv(t, 0);
	t_free(t);
}

/* close_wait_timeout_ms, when set, aborts a CLOSE_WAIT the application forgot (RFC 9293 3.10.5
 * RST). */
static void close_wait_times_out_when_configured(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.close_wait_timeout_ms = 5000;
	struct t *t = t_new_with(&cfg);
	t_at(t, 0);
	t_to_close_wait(t);
	t_at(t, 4999);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_at(t, 5000);
	t_expect(t, "R*", T_ISS + 1, 0, 0);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "CloseWaitTimeouts", 1);
	t_free(t);
}

/* close() after a half-close makes an orphan: the FIN_WAIT_2 timer starts then. */
static void fin_wait_2_close_after_shutdown_starts_fin_timeout(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_fin_wait_2_shutdown(t);
	t_at(t, 1000);
	t_close(t);
	t_expect_nothing(t);
	t_at(t, 60999);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_at(t, 61000);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "FinWait2Timeouts", 1);
	t_free(t);
}

/* Only new data aborts an orphan; a retransmission of old data is just re-ACKed. */
static void fin_wait_2_orphan_old_data_is_reacked_not_reset(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_recv(t, 10);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1011, 0);
	t_peer(t, ".", 1011, T_ISS + 2, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_peer(t, "P.", 1001, T_ISS + 2, 10);
	t_expect(t, ".", T_ISS + 2, 1011, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_counter(t, "AbortOnData", 0);
	t_free(t);
}

int main(void)
{
	RUN(fin_wait_1_ack_of_fin_enters_fin_wait_2);
	RUN(fin_wait_1_ack_old_stays);
	RUN(fin_wait_1_ack_future_gets_ack_and_is_dropped);
	RUN(fin_wait_1_fin_enters_closing);
	RUN(fin_wait_1_fin_acking_our_fin_enters_time_wait);
	RUN(fin_wait_1_data_after_shutdown_is_delivered);
	RUN(fin_wait_1_data_right_of_window_is_acked_and_dropped);
	RUN(fin_wait_1_data_after_close_gets_rst);
	RUN(fin_wait_1_rst_exact_closes);
	RUN(fin_wait_1_rst_in_window_gets_challenge_ack);
	RUN(fin_wait_1_rst_out_of_window_is_dropped);
	RUN(fin_wait_1_syn_gets_challenge_ack);
	RUN(fin_wait_1_fin_retransmitted_with_backoff);
	RUN(fin_wait_1_orphan_gives_up_after_orphan_retries);
	RUN(fin_wait_1_send_after_shutdown_fails_with_epipe);
	RUN(fin_wait_1_abort_with_linger_zero_sends_rst);

	RUN(fin_wait_2_fin_enters_time_wait);
	RUN(fin_wait_2_data_after_shutdown_is_delivered);
	RUN(fin_wait_2_data_left_of_window_is_reacked_and_dropped);
	RUN(fin_wait_2_fin_before_data_is_held_until_gap_fills);
	RUN(fin_wait_2_data_after_close_gets_rst);
	RUN(fin_wait_2_ack_future_gets_ack);
	RUN(fin_wait_2_rst_exact_closes);
	RUN(fin_wait_2_rst_in_window_gets_challenge_ack);
	RUN(fin_wait_2_rst_out_of_window_is_dropped);
	RUN(fin_wait_2_syn_gets_challenge_ack);
	RUN(fin_wait_2_orphan_times_out_after_fin_timeout);
	RUN(fin_wait_2_with_socket_does_not_time_out);

	RUN(closing_ack_of_fin_enters_time_wait);
	RUN(closing_ack_old_stays);
	RUN(closing_ack_future_gets_ack);
	RUN(closing_fin_retransmit_is_reacked);
	RUN(closing_data_is_ignored);
	RUN(closing_rst_exact_closes);
	RUN(closing_rst_in_window_gets_challenge_ack);
	RUN(closing_rst_out_of_window_is_dropped);
	RUN(closing_syn_gets_challenge_ack);
	RUN(closing_fin_retransmitted_on_timeout);
	RUN(closing_orphan_gives_up_after_orphan_retries);
	RUN(simultaneous_close_goes_through_closing_and_time_wait);

	RUN(last_ack_ack_of_fin_closes);
	RUN(last_ack_ack_old_stays);
	RUN(last_ack_ack_future_gets_ack);
	RUN(last_ack_fin_retransmit_is_reacked);
	RUN(last_ack_data_is_ignored);
	RUN(last_ack_rst_exact_closes);
	RUN(last_ack_rst_in_window_gets_challenge_ack);
	RUN(last_ack_rst_out_of_window_is_dropped);
	RUN(last_ack_syn_gets_challenge_ack);
	RUN(last_ack_fin_retransmitted_with_backoff);
	RUN(last_ack_orphan_gives_up_after_orphan_retries);

	RUN(close_wait_close_sends_fin_and_enters_last_ack);
	RUN(close_wait_shutdown_wr_sends_fin_and_enters_last_ack);
	RUN(close_wait_send_transmits_data);
	RUN(close_wait_recv_returns_end_of_stream);
	RUN(close_wait_fin_retransmit_is_reacked);
	RUN(close_wait_data_after_fin_is_ignored);
	RUN(close_wait_ack_future_gets_ack);
	RUN(close_wait_rst_exact_resets);
	RUN(close_wait_rst_keeps_data_then_so_error_epipe);
	RUN(close_wait_rst_in_window_gets_challenge_ack);
	RUN(close_wait_rst_out_of_window_is_dropped);
	RUN(close_wait_syn_gets_challenge_ack);
	RUN(close_wait_abort_with_linger_zero_sends_rst);
	RUN(close_wait_does_not_time_out_by_default);
	RUN(fin_wait_1_data_left_of_window_is_reacked_and_dropped);
	RUN(fin_wait_1_close_after_shutdown_sends_nothing);
	RUN(fin_wait_1_with_socket_gives_up_after_retries2);
	RUN(fin_wait_2_data_right_of_window_is_acked_and_dropped);
	RUN(close_wait_data_left_of_window_is_reacked);
	RUN(close_wait_times_out_when_configured);
	RUN(fin_wait_2_close_after_shutdown_starts_fin_timeout);
	RUN(fin_wait_2_orphan_old_data_is_reacked_not_reset);
	return check_summary("test_state_closing");
}
