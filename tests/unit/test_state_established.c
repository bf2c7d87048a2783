/*
 * ESTABLISHED (RFC 9293 3.10.7.4 with RFC 5961): the sequence check, RST,
 * SYN, ACK, text and FIN processing, and the user calls.
 * After t_establish_passive: RCV.NXT = 1001, SND.NXT = ISS+1, window 65535.
 */
#include "script.h"

/* In-order data is queued for the application and ACKed at once. */
static void established_data_in_window_is_acked_and_delivered(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_expect_win(t, T_RCVBUF - 100); /* the window is the free receive buffer */
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLIN);
	t_recv(t, 100);
	t_recv_err(t, -EAGAIN);
	t_free(t);
}

/* Data left of the window (already received) is re-ACKed and dropped. */
static void established_data_left_of_window_is_reacked_and_dropped(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_dropped(t, SYNACK_DROP_SEQ_OUT_OF_WINDOW);
	t_recv(t, 100);
	t_recv_err(t, -EAGAIN);
	t_free(t);
}

/* A segment that starts left of the window but ends inside it delivers its new part. */
static void established_data_overlapping_left_edge_delivers_new_part(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_peer(t, "P.", 1051, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1151, 0);
	t_recv(t, 150);
	t_free(t);
}

/* Data right of the window is unacceptable: ACK and drop (RFC 9293 3.10.7.4 first). */
static void established_data_right_of_window_is_acked_and_dropped(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001 + T_RCVBUF, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_dropped(t, SYNACK_DROP_SEQ_OUT_OF_WINDOW);
	t_recv_err(t, -EAGAIN);
	t_free(t);
}

/* Out-of-order data in the window is held, a duplicate ACK sent, delivered when the gap fills. */
static void established_data_out_of_order_is_held_and_dup_acked(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1101, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_recv_err(t, -EAGAIN);
	t_counter(t, "OfoQueued", 1);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1201, 0);
	t_recv(t, 200);
	t_free(t);
}

/* An ACK of new data advances SND.UNA and frees the send buffer. */
static void established_ack_acceptable_advances_snd_una(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &info), 0);
	CHECK_EQ(info.send_queue, 100);
	t_peer(t, ".", 1001, T_ISS + 101, 0);
	t_expect_nothing(t);
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &info), 0);
	CHECK_EQ(info.snd_una, t->iss + 101);
	CHECK_EQ(info.send_queue, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* RFC 9293 3.10.7.4 fifth: SEG.ACK < SND.UNA is a duplicate: ignored, the text still processed. */
static void established_ack_old_is_ignored_and_data_processed(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	t_peer(t, ".", 1001, T_ISS + 101, 0);
	t_peer(t, "P.", 1001, T_ISS + 1, 10); /* an old ACK riding on new data */
	t_expect(t, ".", T_ISS + 101, 1011, 0);
	t_recv(t, 10);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &info), 0);
	CHECK_EQ(info.snd_una, t->iss + 101);
	t_free(t);
}

/* SEG.ACK > SND.NXT acks something not yet sent: send an ACK, drop the segment. */
static void established_ack_future_gets_ack_and_is_dropped(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 500, 10);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_dropped(t, SYNACK_DROP_ACK_FUTURE);
	t_recv_err(t, -EAGAIN);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* RFC 9293 3.10.7.4 fifth: "if the ACK bit is off, drop the segment and return". */
static void established_data_without_ack_is_dropped(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P", 1001, 0, 10);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_NO_ACK);
	t_recv_err(t, -EAGAIN);
	t_free(t);
}

/* RFC 9293 3.10.7.4 eighth: FIN -> CLOSE-WAIT, ACK it, the application sees end of stream. */
static void established_fin_enters_close_wait(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "F.", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1002, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLRDHUP);
	t_recv(t, 0);
	t_free(t);
}

static void established_fin_with_data_delivers_data_then_end(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "FP.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1012, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_recv(t, 10);
	t_recv(t, 0);
	t_free(t);
}

/* A FIN that arrives before earlier data is held until every byte before it is in. */
static void established_fin_before_data_is_held_until_gap_fills(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "F.", 1101, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_recv_err(t, -EAGAIN);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1102, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_recv(t, 100);
	t_recv(t, 0);
	t_free(t);
}

/* RFC 5961 3.2: RST exactly at RCV.NXT resets the connection. */
static void established_rst_exact_resets_connection(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "R", 1001, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLERR);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLHUP);
	t_recv_err(t, -ECONNRESET);
	t_counter(t, "EstabResets", 1);
	t_counter(t, "CurrEstab", 0);
	t_counter(t, "InRsts", 1);
	t_free(t);
}

static void established_rst_ack_exact_resets_connection(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	t_peer(t, "R.", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_recv_err(t, -ECONNRESET);
	t_free(t);
}

/* RFC 5961 3.2: RST in the window but not exact -> challenge ACK, nothing else. */
static void established_rst_in_window_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_dropped(t, SYNACK_DROP_RST_CHALLENGED);
	t_state(t, SYNACK_ESTABLISHED);
	t_counter(t, "ChallengeAcks", 1);
	t_counter(t, "RstChallenge", 1);
	t_counter(t, "EstabResets", 0);
	t_free(t);
}

static void established_rst_out_of_window_is_dropped(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "R", 1001 + T_RCVBUF, 0, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_RST_OUT_OF_WINDOW);
	t_peer(t, "R", 1000, 0, 0); /* left of the window */
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	t_counter(t, "ChallengeAcks", 0);
	t_free(t);
}

/* RFC 5961 4.2: a SYN in a synchronized state gets a challenge ACK. */
static void established_syn_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "S", 1001, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_dropped(t, SYNACK_DROP_SYN_CHALLENGED);
	t_counter(t, "SynChallenge", 1);
	t_counter(t, "ChallengeAcks", 1);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* An old SYN (left of the window) fails the sequence check: ACK, no reset. */
static void established_syn_left_of_window_gets_ack(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* Our ACK of the SYN-ACK was lost: the peer's retransmitted SYN-ACK is re-ACKed. */
static void established_syn_ack_retransmit_is_reacked(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* SEND in ESTABLISHED: segmentize and send with the current ACK. */
static void established_send_transmits_data(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	t_peer(t, ".", 1001, T_ISS + 101, 0);
	t_send(t, 3000); /* two full segments and a rest, the peer's window allows it */
	t_expect(t, ".", T_ISS + 101, 1001, T_MSS);
	t_expect(t, ".", T_ISS + 101 + T_MSS, 1001, T_MSS);
	/* Nagle as Minshall (draft-minshall-nagle, Linux's
	 * tcp_nagle_check): the short rest goes at once, since the only
	 * earlier short segment (the 100 bytes) is acknowledged. */
	t_expect(t, "P.", T_ISS + 101 + 2 * T_MSS, 1001, 3000 - 2 * T_MSS);
	t_expect_nothing(t);
	t_free(t);
}

/* Minshall: full segments unacknowledged do not hold a short tail (an
 * HTTP response written at once leaves whole, not with the FIN). */
static void established_nagle_sends_tail_after_full_segments(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	t_send(t, 2 * T_MSS + 104);
	t_expect(t, ".", T_ISS + 1, 1001, T_MSS);
	t_expect(t, ".", T_ISS + 1 + T_MSS, 1001, T_MSS);
	t_expect(t, "P.", T_ISS + 1 + 2 * T_MSS, 1001, 104);
	t_expect_nothing(t);
	t_free(t);
}

/* Minshall: a short segment is held while an earlier short one is
 * unacknowledged (RFC 896's one small segment per round trip), even when
 * its ACK acknowledges only the full segments before it; the ACK of the
 * short one releases it. */
static void established_nagle_holds_short_behind_unacked_short(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	t_send(t, T_MSS + 100);
	t_expect(t, ".", T_ISS + 1, 1001, T_MSS);
	t_expect(t, "P.", T_ISS + 1 + T_MSS, 1001, 100);
	t_send(t, 50);
	t_expect_nothing(t); /* the 100 bytes are out, unacknowledged */
	t_peer(t, ".", 1001, T_ISS + 1 + T_MSS, 0);
	t_expect_nothing(t); /* the full segment's ACK changes nothing */
	t_send(t, 30);
	t_expect_nothing(t);
	t_peer(t, ".", 1001, T_ISS + 1 + T_MSS + 100, 0);
	t_expect(t, "P.", T_ISS + 1 + T_MSS + 100, 1001, 80); /* released, coalesced */
	t_expect_nothing(t);
	t_free(t);
}

/* TCP_CORK holds even a tail that Minshall would send; uncorking sends
 * it at once when no short segment is outstanding (as Linux). */
static void established_cork_holds_tail_until_uncork(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_TCP_CORK, 1), 0);
	t_send(t, T_MSS + 200);
	t_expect(t, ".", T_ISS + 1, 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_TCP_CORK, 0), 0);
	t_expect(t, "P.", T_ISS + 1 + T_MSS, 1001, 200);
	t_expect_nothing(t);
	t_free(t);
}

/* TCP_NODELAY: no Nagle, the short rest goes at once. */
static void established_nodelay_sends_short_segments_at_once(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_TCP_NODELAY, 1), 0);
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	t_send(t, 3000);
	t_expect(t, ".", T_ISS + 101, 1001, T_MSS);
	t_expect(t, ".", T_ISS + 101 + T_MSS, 1001, T_MSS);
	t_expect(t, "P.", T_ISS + 101 + 2 * T_MSS, 1001, 3000 - 2 * T_MSS);
	t_free(t);
}

static void established_recv_without_data_would_block(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_recv_err(t, -EAGAIN);
	CHECK(!(synack_events(t->st, t->sock) & SYNACK_POLLIN));
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLOUT);
	t_free(t);
}

/* Reading opens the window again; the peer learns of it with our next segment. */
static void established_window_reopens_after_recv(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 1000);
	t_expect(t, ".", T_ISS + 1, 2001, 0);
	t_expect_win(t, T_RCVBUF - 1000);
	t_recv(t, 1000);
	/* 1000 bytes are less than one MSS: receiver silly-window avoidance
	 * (RFC 9293 3.8.6.2.2) keeps the right edge where it was. */
	t_expect_nothing(t);
	t_send(t, 1);
	t_expect(t, "P.", T_ISS + 1, 2001, 1);
	t_expect_win(t, T_RCVBUF - 1000);
	/* Another 1000 bytes read: now the edge may move by a full MSS. */
	t_peer(t, "P.", 2001, T_ISS + 2, 1000);
	t_expect(t, ".", T_ISS + 2, 3001, 0);
	t_expect_win(t, T_RCVBUF - 2000);
	t_recv(t, 1000);
	t_expect(t, ".", T_ISS + 2, 3001, 0);
	t_expect_win(t, T_RCVBUF);
	t_free(t);
}

/* RFC 9293 3.10.4: CLOSE in ESTABLISHED -> FIN, FIN-WAIT-1. */
static void established_close_sends_fin_and_enters_fin_wait_1(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_free(t);
}

/* The FIN follows queued data. */
static void established_close_after_send_sends_data_then_fin(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1, 1001, 10);
	t_close(t);
	t_expect(t, "F.", T_ISS + 11, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 12, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_free(t);
}

/* shutdown(SHUT_WR): FIN sent, the socket keeps receiving (half-close). */
static void established_shutdown_wr_sends_fin_and_keeps_receiving(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_shutdown_wr(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_peer(t, "P.", 1001, T_ISS + 2, 10);
	t_expect(t, ".", T_ISS + 2, 1011, 0);
	t_recv(t, 10);
	CHECK_EQ(synack_send(t->st, t->sock, "x", 1), -EPIPE);
	t_free(t);
}

/* RFC 1122 4.2.2.13 / RFC 9293 3.10.4: close() with unread data aborts with a RST. */
static void established_close_with_unread_data_sends_rst(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_close(t);
	t_expect(t, "R.", T_ISS + 1, 1011, 0);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "AbortOnClose", 1);
	t_counter(t, "OutRsts", 1);
	t_peer(t, "P.", 1011, T_ISS + 1, 10);
	t_expect(t, "R", T_ISS + 1, 0, 0);
	t_free(t);
}

/* SO_LINGER 0: close() is ABORT (RFC 9293 3.10.5): <SEQ=SND.NXT><CTL=RST>, CLOSED at once. */
static void established_abort_with_linger_zero_sends_rst(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_abort(t);
	t_expect(t, "R.", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "AbortOnLinger", 1);
	t_at(t, 200000);
	t_expect_nothing(t);
	t_free(t);
}

/* A stack with a small receive buffer, to see the window close. */
static struct t *small_rcvbuf(uint32_t bytes)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.rcvbuf = bytes;
	return t_new_with(&cfg);
}

/*
 * RFC 9293 3.10.7.4 first: with RCV.WND = 0 no segment with data is
 * acceptable: ACK it and drop it ...
 */
static void established_data_with_zero_window_is_acked_and_dropped(void)
{
	struct t *t = small_rcvbuf(1000);
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 1000);
	t_expect(t, ".", T_ISS + 1, 2001, 0);
	t_expect_win(t, 0);
	t_peer(t, "P.", 2001, T_ISS + 1, 1);
	t_expect(t, ".", T_ISS + 1, 2001, 0);
	t_expect_win(t, 0);
	t_recv(t, 1000);
	/* The window opened from zero by the whole buffer: a window update (RFC 1122 4.2.3.3). */
	t_expect(t, ".", T_ISS + 1, 2001, 0);
	t_expect_win(t, 1000);
	t_recv_err(t, -EAGAIN);
	t_free(t);
}

/* ... "but special allowance should be made to accept valid ACKs". */
static void established_ack_with_zero_window_is_processed(void)
{
	struct t *t = small_rcvbuf(1000);
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 1000);
	t_expect(t, ".", T_ISS + 1, 2001, 0);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1, 2001, 10);
	t_expect_win(t, 0);
	t_peer(t, ".", 2001, T_ISS + 11, 0);
	t_expect_nothing(t);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &info), 0);
	CHECK_EQ(info.snd_una, t->iss + 11);
	t_free(t);
}

/* So is a RST at RCV.NXT. */
static void established_rst_exact_with_zero_window_resets(void)
{
	struct t *t = small_rcvbuf(1000);
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 1000);
	t_expect(t, ".", T_ISS + 1, 2001, 0);
	t_peer(t, "R", 2001, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

/* The window we offer follows SO_RCVBUF (no window scaling: at most 65535). */
static void established_window_follows_so_rcvbuf(void)
{
	struct t *t = small_rcvbuf(4000);
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_expect_win(t, 4000);
	t_free(t);
}

/* An idle connection without keepalive: nothing is sent, nothing ends.
 * One deadline runs, a retransmission timeout after the handshake, when
 * the sender's state goes to rest (issue 16 item 4, tcp_snd_rest.c);
 * then none. */
static void established_idle_connection_stays_silent(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_establish_passive(t);
	uint64_t quiet = synack_next_deadline(t->st);
	CHECK(quiet != SYNACK_NEVER && quiet <= 1000000);
	t_at(t, 1000);
	t_expect_nothing(t);
	CHECK_EQ_U64(synack_next_deadline(t->st), SYNACK_NEVER);
	t_at(t, 7200000);
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* The peer's window bounds what we send. */
static void established_send_respects_peer_window(void)
{
	struct t *t = t_new();
	t->peer_wnd = 100;
	t_establish_passive(t);
	t_send(t, 300);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	t_expect_nothing(t);
	t_peer(t, ".", 1001, T_ISS + 101, 0);
	t_expect(t, "P.", T_ISS + 101, 1001, 100);
	t_free(t);
}

/* Sequence numbers wrap: the peer's ISN just below 2^32, data across the wrap, held and in order.
 */
static void established_data_across_sequence_wrap_is_delivered_in_order(void)
{
	struct t *t = t_new();
	const uint32_t isn = 0xffffff00u;
	t_listen(t);
	t_peer(t, "S", isn, 0, 0);
	t_expect(t, "S.", T_ISS, isn + 1, 0);
	t_peer(t, ".", isn + 1, T_ISS + 1, 0);
	t_accept(t);
	t->rcv_seq = isn + 1;
	t_peer(t, "P.", isn + 1 + 256, T_ISS + 1, 256); /* the part after the wrap, first */
	t_expect(t, ".", T_ISS + 1, isn + 1, 0);
	t_peer(t, "P.", isn + 1, T_ISS + 1, 256);
	t_expect(t, ".", T_ISS + 1, (uint32_t)(isn + 1 + 512), 0);
	t_recv(t, 512);
	t_peer(t, "F.", isn + 1 + 512, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, (uint32_t)(isn + 2 + 512), 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_free(t);
}

/* Several out-of-order segments, one overlapping another, are delivered once, in order. */
static void established_overlapping_out_of_order_segments_are_merged(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1201, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_peer(t, "P.", 1151, T_ISS + 1, 100); /* overlaps the held 1201-1300 */
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0); /* 1101-1150 still missing */
	t_peer(t, "P.", 1101, T_ISS + 1, 50);
	t_expect(t, ".", T_ISS + 1, 1301, 0);
	t_recv(t, 300);
	t_recv_err(t, -EAGAIN);
	t_free(t);
}

/*
 * RFC 9293 3.10.7.4 fifth: the send window is taken from a segment only when
 * SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK: a delayed
 * older segment must not shrink it.
 */
static void established_old_segment_does_not_update_send_window(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_peer(t, "P.", 1011, T_ISS + 1, 10); /* SND.WL1 = 1011 */
	t_expect(t, ".", T_ISS + 1, 1021, 0);
	t->peer_wnd = 0;
	t_peer(t, "P.", 1006, T_ISS + 1, 20); /* older (1006 < 1011), new bytes 1021-1025 */
	t_expect(t, ".", T_ISS + 1, 1026, 0);
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 1, 1026, 100);
	t_free(t);
}

/* The third handshake segment may carry data and the FIN: ESTABLISHED, then CLOSE_WAIT. */
static void established_handshake_ack_with_data_and_fin_enters_close_wait(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, "FP.", 1001, T_ISS + 1, 30);
	t_expect(t, ".", T_ISS + 1, 1032, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_accept(t);
	t_recv(t, 30);
	t_recv(t, 0);
	t_free(t);
}

/*
 * RFC 9293 3.10.7.4 fifth with RFC 5961 5.2: an ACK below SND.UNA - MAX.SND.WND
 * is unacceptable: the segment is dropped and an ACK sent back.  At the edge
 * it is an old duplicate: ignored, and the text processed.
 */
static void established_ack_older_than_max_window_gets_ack_and_is_dropped(void)
{
	struct t *t = t_new();
	t->peer_wnd = 1000;
	t_establish_passive(t);
	t_send(t, 1000);
	t_expect(t, "P.", T_ISS + 1, 1001, 1000);
	t_peer(t, ".", 1001, T_ISS + 1001, 0);
	t_send(t, 1000);
	t_expect(t, "P.", T_ISS + 1001, 1001, 1000);
	t_peer(t, ".", 1001, T_ISS + 2001, 0); /* SND.UNA = ISS+2001, MAX.SND.WND = 1000 */
	t_peer(t, "P.", 1001, T_ISS + 1000, 10);
	t_expect(t, ".", T_ISS + 2001, 1001, 0);
	t_dropped(t, SYNACK_DROP_ACK_UNACCEPTABLE);
	t_recv_err(t, -EAGAIN);
	t_peer(t, "P.", 1001, T_ISS + 1001, 10);
	t_expect(t, ".", T_ISS + 2001, 1011, 0);
	t_recv(t, 10);
	t_free(t);
}

struct kept_seen {
	int closed;
	uint32_t recv_queue;
};

static void see_kept(void *ctx, const struct synack_conn *c)
{
	struct kept_seen *k = ctx;
	if (c->state == SYNACK_CLOSED && c->socket == -1) {
		k->closed++;
		k->recv_queue = c->recv_queue;
	}
}

/*
 * A connection reset while it waits in the accept queue, as Linux handles
 * it: it stays in the queue (the listener stays readable), accept() hands
 * it out, the data that came before the RST is read, then the reset
 * (-ECONNRESET), then the end of the stream; a write after that fails with
 * -EPIPE.  Meanwhile it holds no demux entry: the 4-tuple is free; the
 * listing (synack_conns) shows it, CLOSED and without a socket.
 */
static void established_rst_in_accept_queue_is_accepted_then_econnreset(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_syn_received(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10); /* completes the handshake, with data */
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_peer(t, "R", 1011, 0, 0);
	t_expect_nothing(t);
	t_counter(t, "EstabResets", 1);
	CHECK_EQ(synack_events(t->st, t->listener), SYNACK_POLLIN);
	struct synack_stats st;
	synack_stats(t->st, &st);
	CHECK_EQ_U64(st.bytes_buffered, 10);
	/* Like every TCB it is listed: CLOSED, no socket yet, its data. */
	struct kept_seen seen = {0, 0};
	CHECK_EQ(synack_conns(t->st, see_kept, &seen), 2); /* the listener and it */
	CHECK_EQ(seen.closed, 1);
	CHECK_EQ(seen.recv_queue, 10);
	t_at(t, 1000); /* no timer of its own is left to fire */
	t_expect_nothing(t);
	t_accept(t);
	CHECK_EQ(synack_events(t->st, t->listener), 0);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &info), 0);
	CHECK_EQ(info.state, SYNACK_CLOSED);
	CHECK_EQ(info.recv_queue, 10);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLERR);
	t_recv(t, 10);
	t_recv_err(t, -ECONNRESET);
	t_recv(t, 0);
	CHECK_EQ(synack_send(t->st, t->sock, "x", 1), -EPIPE);
	t_free(t);
}

/* Writing first reports the reset to the write (then -EPIPE), as Linux. */
static void established_rst_in_accept_queue_then_send_gets_econnreset(void)
{
	struct t *t = t_new();
	t_establish_passive(t); /* accepted: the listener's queue is empty again */
	t->sock = -1;
	t->peer_port = T_PEER_PORT + 1;
	t_forget_iss(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_peer(t, "R", 1001, 0, 0);
	t_expect_nothing(t);
	t_accept(t);
	CHECK_EQ(synack_send(t->st, t->sock, "x", 1), -ECONNRESET);
	CHECK_EQ(synack_send(t->st, t->sock, "x", 1), -EPIPE);
	t_recv(t, 0);
	/* A new SYN from the same port finds the listener: a new connection. */
	t_forget_iss(t);
	t_peer(t, "S", 5000, 0, 0);
	t_expect(t, "S.", T_ISS, 5001, 0);
	t_free(t);
}

/* A listener closed with a reset connection still queued frees it (the
 * sanitizer build finds a leak), and a queued live one gets its RST. */
static void established_rst_in_accept_queue_then_listener_closes(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_peer(t, "R", 1011, 0, 0);
	t->peer_port = T_PEER_PORT + 1;
	t_forget_iss(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	CHECK_EQ(synack_close(t->st, t->listener), 0);
	t->listener = -1;
	t_expect(t, "R.", T_ISS + 1, 1001, 0);
	struct synack_stats st;
	synack_stats(t->st, &st);
	CHECK_EQ_U64(st.bytes_buffered, 0);
	CHECK_EQ_U64(st.conns_live, 0);
	t_free(t);
}

int main(void)
{
	RUN(established_rst_in_accept_queue_is_accepted_then_econnreset);
	RUN(established_rst_in_accept_queue_then_send_gets_econnreset);
	RUN(established_rst_in_accept_queue_then_listener_closes);
	RUN(established_data_in_window_is_acked_and_delivered);
	RUN(established_data_left_of_window_is_reacked_and_dropped);
	RUN(established_data_overlapping_left_edge_delivers_new_part);
	RUN(established_data_right_of_window_is_acked_and_dropped);
	RUN(established_data_out_of_order_is_held_and_dup_acked);
	RUN(established_ack_acceptable_advances_snd_una);
	RUN(established_ack_old_is_ignored_and_data_processed);
	RUN(established_ack_future_gets_ack_and_is_dropped);
	RUN(established_data_without_ack_is_dropped);
	RUN(established_fin_enters_close_wait);
	RUN(established_fin_with_data_delivers_data_then_end);
	RUN(established_fin_before_data_is_held_until_gap_fills);
	RUN(established_rst_exact_resets_connection);
	RUN(established_rst_ack_exact_resets_connection);
	RUN(established_rst_in_window_gets_challenge_ack);
	RUN(established_rst_out_of_window_is_dropped);
	RUN(established_syn_gets_challenge_ack);
	RUN(established_syn_left_of_window_gets_ack);
	RUN(established_syn_ack_retransmit_is_reacked);
	RUN(established_send_transmits_data);
	RUN(established_nagle_sends_tail_after_full_segments);
	RUN(established_nagle_holds_short_behind_unacked_short);
	RUN(established_cork_holds_tail_until_uncork);
	RUN(established_nodelay_sends_short_segments_at_once);
	RUN(established_recv_without_data_would_block);
	RUN(established_window_reopens_after_recv);
	RUN(established_close_sends_fin_and_enters_fin_wait_1);
	RUN(established_close_after_send_sends_data_then_fin);
	RUN(established_shutdown_wr_sends_fin_and_keeps_receiving);
	RUN(established_close_with_unread_data_sends_rst);
	RUN(established_abort_with_linger_zero_sends_rst);
	RUN(established_data_with_zero_window_is_acked_and_dropped);
	RUN(established_ack_with_zero_window_is_processed);
	RUN(established_rst_exact_with_zero_window_resets);
	RUN(established_window_follows_so_rcvbuf);
	RUN(established_idle_connection_stays_silent);
	RUN(established_send_respects_peer_window);
	RUN(established_data_across_sequence_wrap_is_delivered_in_order);
	RUN(established_overlapping_out_of_order_segments_are_merged);
	RUN(established_old_segment_does_not_update_send_window);
	RUN(established_handshake_ack_with_data_and_fin_enters_close_wait);
	RUN(established_ack_older_than_max_window_gets_ack_and_is_dropped);
	return check_summary("test_state_established");
}
