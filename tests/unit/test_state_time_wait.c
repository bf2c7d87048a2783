/*
 * TIME_WAIT (RFC 9293 3.10.7.4, RFC 1122 4.2.2.13, RFC 6191): the connection
 * is a compact record with no socket; it answers stragglers for time_wait_ms.
 * After t_to_time_wait at time 0: RCV.NXT = 1002, SND.NXT = ISS+2.
 */
#include "script.h"

static void time_wait_expires_after_time_wait_ms(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_time_wait(t);
	t_counter(t, "TimeWaitEntered", 1);
	t_at(t, 59999);
	t_state(t, SYNACK_TIME_WAIT);
	t_at(t, 60000);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "TimeWaitExpired", 1);
	/* The 4-tuple is closed now: a segment gets a RST. */
	t_peer(t, ".", 1002, T_ISS + 2, 0);
	t_expect(t, "R", T_ISS + 2, 0, 0);
	t_free(t);
}

/* The only thing that should arrive is the peer's FIN again: ACK it, restart 2 MSL. */
static void time_wait_fin_retransmit_is_reacked_and_restarts_timer(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_time_wait(t);
	t_at(t, 30000);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_at(t, 89999);
	t_state(t, SYNACK_TIME_WAIT);
	t_at(t, 90000);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

/* Old data (left of the window) is re-ACKed, dropped, never delivered. */
static void time_wait_old_data_is_reacked_and_dropped(void)
{
	struct t *t = t_new();
	t_to_time_wait(t);
	t_peer(t, "P.", 1001, T_ISS + 2, 10);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

/* A bare ACK at exactly RCV.NXT needs no answer (Linux absorbs it too). */
static void time_wait_ack_is_ignored(void)
{
	struct t *t = t_new();
	t_to_time_wait(t);
	t_peer(t, ".", 1002, T_ISS + 2, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

/*
 * RFC 9293 3.10.7.4 fifth, TIME-WAIT: "The only thing that can arrive in this
 * state is a retransmission of the remote FIN"; a bare ACK at RCV.NXT is not
 * answered whatever it acknowledges (unlike ESTABLISHED, there is nothing to
 * resynchronize), as Linux.
 */
static void time_wait_ack_future_is_ignored(void)
{
	struct t *t = t_new();
	t_to_time_wait(t);
	t_peer(t, ".", 1002, T_ISS + 10, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

/* RFC 9293 3.10.7.4 second, TIME-WAIT: an acceptable RST -> CLOSED. */
static void time_wait_rst_exact_closes(void)
{
	struct t *t = t_new();
	t_to_time_wait(t);
	t_peer(t, "R", 1002, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

static void time_wait_rst_in_window_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_time_wait(t);
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_counter(t, "RstChallenge", 1);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

static void time_wait_rst_out_of_window_is_dropped(void)
{
	struct t *t = t_new();
	t_to_time_wait(t);
	t_peer(t, "R", 1002 + 70000, 0, 0);
	t_expect_nothing(t);
	t_peer(t, "R", 1001, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

/*
 * RFC 6191 (no timestamps) / RFC 1122 4.2.2.13: a SYN whose sequence number
 * is above the old RCV.NXT may start a new incarnation when a listener exists.
 */
static void time_wait_syn_with_higher_seq_opens_new_connection(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_time_wait(t);
	uint32_t old_iss = t->iss;
	t_at(t, 1000);
	t_forget_iss(t);
	t_peer(t, "S", 100000, 0, 0);
	t_expect(t, "S.", T_ISS, 100001, 0);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_counter(t, "TimeWaitRecycled", 1);
	CHECK(t->iss != old_iss);
	t_peer(t, ".", 100001, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/*
 * RFC 1122 4.2.2.13 again, with SYN cookies always on: the reopening SYN
 * gets a real half-open connection whose ISN clears the old incarnation's
 * sequence space, not a cookie (a cookie's ISN is a hash and could land
 * among the old segments still in flight).  Linux does the same: it never
 * answers a SYN that carries a TIME_WAIT ISN with a cookie.
 */
static void time_wait_reopen_is_not_answered_by_a_cookie(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.max_syn_backlog = 1; /* one half-open connection, then cookies */
	struct t *t = t_new_with(&cfg);
	t_at(t, 0);
	t_to_time_wait(t);
	uint32_t old_snd_nxt = t->iss + 2; /* SYN and FIN */
	t_at(t, 1000);
	/* Another client fills the SYN queue. */
	t->peer_port = T_PEER_PORT + 1;
	t_forget_iss(t);
	t_peer(t, "S", 5000, 0, 0);
	t_expect(t, "S.", T_ISS, 5001, 0);
	t->peer_port = T_PEER_PORT;
	t_forget_iss(t);
	t_peer(t, "S", 100000, 0, 0);
	t_expect(t, "S.", T_ISS, 100001, 0);
	t_counter(t, "TimeWaitRecycled", 1);
	t_counter(t, "SyncookiesSent", 0);
	CHECK((int32_t)(t->iss - (old_snd_nxt + 65536u)) > 0); /* above the floor */
	t_peer(t, ".", 100001, T_ISS + 1, 0);
	t_counter(t, "SyncookiesRecv", 0);
	t_free(t);
}

/* An old-sequence SYN is not a new connection: ACK it (RFC 5961 4.2), stay. */
static void time_wait_syn_with_old_seq_gets_ack(void)
{
	struct t *t = t_new();
	t_to_time_wait(t);
	t_peer(t, "S", 500, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_counter(t, "TimeWaitRecycled", 0);
	t_free(t);
}

/* Without a listener there is nothing to open: the SYN gets an ACK and TIME_WAIT stays. */
static void time_wait_syn_without_listener_gets_ack(void)
{
	struct t *t = t_new();
	t_to_time_wait(t);
	CHECK_EQ(synack_close(t->st, t->listener), 0);
	t->listener = -1;
	t_peer(t, "S", 100000, 0, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_counter(t, "TimeWaitRecycled", 0);
	t_free(t);
}

/* TIME_WAIT after an active open and close: the client side of the article's picture. */
static void time_wait_after_active_close_is_listed_without_socket(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_establish_active(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	struct synack_stats s;
	synack_stats(t->st, &s);
	CHECK_EQ(s.time_wait_live, 1);
	t_at(t, 60000);
	t_state(t, SYNACK_CLOSED);
	synack_stats(t->st, &s);
	CHECK_EQ(s.time_wait_live, 0);
	t_free(t);
}

/* A stray retransmission of the peer's SYN-ACK is old: ACK it, stay. */
static void time_wait_syn_ack_from_old_peer_gets_ack(void)
{
	struct t *t = t_new();
	t_to_time_wait(t);
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

/* max_tw_buckets full: the next connection skips TIME_WAIT (counted TimeWaitOverflow). */
static void time_wait_overflow_closes_at_once(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.max_tw_buckets = 1;
	struct t *t = t_new_with(&cfg);
	t_to_time_wait(t);
	/* A second connection from another peer port, closed the same way. */
	t->peer_port = T_PEER_PORT + 1;
	t->sock = -1;
	t_forget_iss(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "TimeWaitOverflow", 1);
	t->peer_port = T_PEER_PORT;
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

/* New data in TIME_WAIT is never delivered; the record stays. */
static void time_wait_new_data_is_not_delivered(void)
{
	struct t *t = t_new();
	t_to_time_wait(t);
	t_peer(t, "P.", 1002, T_ISS + 2, 10);
	if (synack_output_pending(t->st) > 0)
		t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	struct synack_stats s;
	synack_stats(t->st, &s);
	CHECK_EQ(s.bytes_buffered, 0);
	t_free(t);
}

/* Another connection from peer port `port`, closed by us first, so that it
 * enters TIME_WAIT now. */
static void another_time_wait(struct t *t, uint16_t port)
{
	t->peer_port = port;
	t->sock = -1;
	t_forget_iss(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
}

/*
 * Several records: A (entered at 0 s), B (10 s), C (20 s).  A's FIN comes
 * again at 30 s, so A now ends after the younger B and C (at 90 s); B is
 * reset at 35 s.  Every record still ends exactly time_wait_ms after it
 * was last (re)started, and the next deadline is always the true one.
 */
static void time_wait_records_restart_and_end_in_any_order(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_time_wait(t);
	uint32_t iss_a = t->iss;
	t_at(t, 10000);
	another_time_wait(t, T_PEER_PORT + 1);
	t_at(t, 20000);
	another_time_wait(t, T_PEER_PORT + 2);
	CHECK_EQ_U64(synack_next_deadline(t->st), 60000000);
	t_at(t, 30000);
	t->peer_port = T_PEER_PORT;
	uint32_t iss_c = t->iss;
	t->iss = iss_a; /* sequence numbers relative to A's again */
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t->iss = iss_c;
	CHECK_EQ_U64(synack_next_deadline(t->st), 70000000); /* B is the oldest now */
	t_at(t, 35000);
	t->peer_port = T_PEER_PORT + 1;
	t_peer(t, "R", 1002, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	CHECK_EQ_U64(synack_next_deadline(t->st), 80000000); /* then C */
	t_at(t, 79999);
	t->peer_port = T_PEER_PORT + 2;
	t_state(t, SYNACK_TIME_WAIT);
	t_at(t, 80000);
	t_state(t, SYNACK_CLOSED);
	t->peer_port = T_PEER_PORT;
	t_state(t, SYNACK_TIME_WAIT);
	CHECK_EQ_U64(synack_next_deadline(t->st), 90000000);
	t_at(t, 89999);
	t_state(t, SYNACK_TIME_WAIT);
	t_at(t, 90000);
	t_state(t, SYNACK_CLOSED);
	CHECK_EQ_U64(synack_next_deadline(t->st), SYNACK_NEVER);
	t_counter(t, "TimeWaitEntered", 3);
	t_counter(t, "TimeWaitExpired", 2);
	struct synack_mem m;
	synack_memory(t->st, &m);
	CHECK_EQ_U64(m.time_wait, 0);
	t_free(t);
}

/* The same as another_time_wait, for a connection that finds no room in
 * TIME_WAIT and ends in CLOSED. */
static void another_time_wait_overflowing(struct t *t, uint16_t port)
{
	t->peer_port = port;
	t->sock = -1;
	t_forget_iss(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_CLOSED);
}

/* The overflow is traced: the connection goes straight to CLOSED with the
 * cause time_wait_overflow, and no record is made for it. */
static void time_wait_overflow_is_traced_and_costs_no_record(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.max_tw_buckets = 1;
	struct t *t = t_new_with(&cfg);
	t_to_time_wait(t);
	struct synack_mem before, after;
	synack_memory(t->st, &before);
	another_time_wait_overflowing(t, T_PEER_PORT + 1);
	t_trace_sync(t);
	int found = 0;
	for (size_t i = 0; i < t->ntrace; i++) {
		const struct synack_trace *r = &t->trace[i];
		if (r->kind == SYNACK_TRACE_STATE && r->remote.port == T_PEER_PORT + 1 &&
		    r->to == SYNACK_CLOSED)
			found = r->cause == SYNACK_CAUSE_TIME_WAIT_OVERFLOW;
	}
	CHECK(found);
	synack_memory(t->st, &after);
	CHECK_EQ_U64(after.time_wait, before.time_wait);
	t_counter(t, "TimeWaitOverflow", 1);
	t_free(t);
}

/*
 * RFC 9293 3.10.7.4, first check: a bare ACK beyond RCV.NXT (past the
 * peer's FIN, where nothing legitimate can be) is not acceptable and is
 * answered with an ACK, as Linux and FreeBSD answer it.  It used to be
 * absorbed anywhere in the old receive window.
 */
static void time_wait_ack_beyond_rcv_nxt_gets_ack(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_time_wait(t);
	t_peer(t, ".", 1003, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_dropped(t, SYNACK_DROP_TIME_WAIT_OLD);
	t_state(t, SYNACK_TIME_WAIT);
	/* Far beyond, outside the old window too. */
	t_at(t, 1000);
	t_peer(t, ".", 1002 + 70000, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_counter(t, "AckSkippedSeq", 0);
	t_free(t);
}

/* An old bare ACK, left of RCV.NXT, is answered too (as before, and as Linux). */
static void time_wait_ack_below_rcv_nxt_gets_ack(void)
{
	struct t *t = t_new();
	t_to_time_wait(t);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

/*
 * Those answers to pure ACKs are limited to one per invalid_ratelimit_ms
 * (500 ms), as Linux limits them (tcp_timewait_check_oow_rate_limit), so
 * that two ends that disagree cannot ACK each other's ACKs forever.  Each
 * record keeps the time of its last answer, as Linux's TIME_WAIT sockets
 * do: one record's answers never silence another's (a shared time would
 * tell an observer that another connection's record exists).  Text is
 * always answered (a peer whose ACK was lost can finish).
 */
static void time_wait_ack_beyond_rcv_nxt_answers_are_rate_limited(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_time_wait(t);
	uint32_t iss_a = t->iss;
	t_at(t, 100);
	another_time_wait(t, T_PEER_PORT + 1);
	uint32_t iss_b = t->iss;
	t_peer(t, ".", 1500, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_at(t, 200);
	t_peer(t, ".", 1500, T_ISS + 2, 0);
	t_expect_nothing(t);
	t_counter(t, "AckSkippedSeq", 1);
	t_peer(t, "P.", 1500, T_ISS + 2, 10);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	/* The first record has answered nothing yet: B's limit is not its. */
	t->peer_port = T_PEER_PORT;
	t->iss = iss_a;
	t_peer(t, ".", 1500, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_peer(t, ".", 1500, T_ISS + 2, 0);
	t_expect_nothing(t);
	t_counter(t, "AckSkippedSeq", 2);
	/* 500 ms after its last answer each record answers again, on its
	 * own clock: B (answered at 100 ms) at 600 ms, A (200 ms) not yet. */
	t_at(t, 600);
	t_peer(t, ".", 1500, T_ISS + 2, 0);
	t_expect_nothing(t);
	t_counter(t, "AckSkippedSeq", 3);
	t->peer_port = T_PEER_PORT + 1;
	t->iss = iss_b;
	t_peer(t, ".", 1500, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_at(t, 700);
	t->peer_port = T_PEER_PORT;
	t->iss = iss_a;
	t_peer(t, ".", 1500, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

int main(void)
{
	RUN(time_wait_expires_after_time_wait_ms);
	RUN(time_wait_fin_retransmit_is_reacked_and_restarts_timer);
	RUN(time_wait_old_data_is_reacked_and_dropped);
	RUN(time_wait_ack_is_ignored);
	RUN(time_wait_ack_future_is_ignored);
	RUN(time_wait_ack_beyond_rcv_nxt_gets_ack);
	RUN(time_wait_ack_below_rcv_nxt_gets_ack);
	RUN(time_wait_ack_beyond_rcv_nxt_answers_are_rate_limited);
	RUN(time_wait_rst_exact_closes);
	RUN(time_wait_rst_in_window_gets_challenge_ack);
	RUN(time_wait_rst_out_of_window_is_dropped);
	RUN(time_wait_syn_with_higher_seq_opens_new_connection);
	RUN(time_wait_reopen_is_not_answered_by_a_cookie);
	RUN(time_wait_syn_with_old_seq_gets_ack);
	RUN(time_wait_syn_without_listener_gets_ack);
	RUN(time_wait_after_active_close_is_listed_without_socket);
	RUN(time_wait_syn_ack_from_old_peer_gets_ack);
	RUN(time_wait_overflow_closes_at_once);
	RUN(time_wait_new_data_is_not_delivered);
	RUN(time_wait_records_restart_and_end_in_any_order);
	RUN(time_wait_overflow_is_traced_and_costs_no_record);
	return check_summary("test_state_time_wait");
}
