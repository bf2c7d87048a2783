/*
 * SYN_SENT (RFC 9293 3.10.7.3): first check the ACK, second the RST, fourth
 * the SYN, fifth drop; the SYN retransmission timer; the user calls.
 */
#include "script.h"

static void syn_sent_syn_ack_enters_established_and_acks(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_syn_sent(t);
	t_expect_mss(t, T_MSS);
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_expect_win(t, T_RCVBUF);
	t_state(t, SYNACK_ESTABLISHED);
	t_counter(t, "ActiveOpens", 1);
	t_counter(t, "CurrEstab", 1);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLOUT);
	t_free(t);
}

/* RFC 9293 3.10.7.3: SEG.ACK =< ISS or SEG.ACK > SND.NXT -> <SEQ=SEG.ACK><CTL=RST>. */
static void syn_sent_syn_ack_with_future_ack_gets_rst(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, "S.", 1000, T_ISS + 5, 0);
	t_expect(t, "R", T_ISS + 5, 0, 0);
	t_dropped(t, SYNACK_DROP_SYN_SENT_BAD_ACK);
	t_state(t, SYNACK_SYN_SENT);
	t_free(t);
}

static void syn_sent_syn_ack_with_old_ack_gets_rst(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, "S.", 1000, T_ISS, 0);
	t_expect(t, "R", T_ISS, 0, 0);
	t_state(t, SYNACK_SYN_SENT);
	t_free(t);
}

static void syn_sent_ack_with_bad_ack_gets_rst(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, ".", 1000, T_ISS + 100, 0);
	t_expect(t, "R", T_ISS + 100, 0, 0);
	t_state(t, SYNACK_SYN_SENT);
	t_free(t);
}

/* RFC 9293 3.10.7.3, fifth: neither SYN nor RST -> drop, even with a good ACK. */
static void syn_sent_ack_acceptable_without_syn_is_dropped(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, ".", 1000, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_SYN_SENT_NO_SYN);
	t_state(t, SYNACK_SYN_SENT);
	t_free(t);
}

static void syn_sent_data_without_syn_is_dropped(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_SYN_SENT_NO_SYN);
	t_state(t, SYNACK_SYN_SENT);
	t_free(t);
}

static void syn_sent_fin_without_syn_is_dropped(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, "F", 1001, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_SYN_SENT);
	t_free(t);
}

/* RFC 9293 3.10.7.3, second: RST with an acceptable ACK -> "connection reset", CLOSED. */
static void syn_sent_rst_with_acceptable_ack_refuses_connection(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, "R.", 0, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_sock_error(t, -ECONNREFUSED);
	t_counter(t, "AttemptFails", 1);
	t_counter(t, "CurrEstab", 0);
	CHECK(synack_events(t->st, t->sock) & (SYNACK_POLLERR | SYNACK_POLLHUP));
	t_free(t);
}

/* RFC 9293 3.10.7.3, first: a RST whose ACK is bad is dropped, no RST back. */
static void syn_sent_rst_with_bad_ack_is_dropped(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, "R.", 0, T_ISS + 7, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_SYN_SENT_BAD_ACK);
	t_state(t, SYNACK_SYN_SENT);
	t_free(t);
}

/* RFC 9293 3.10.7.3, second: "If the ACK bit is off, drop the segment and return." */
static void syn_sent_rst_without_ack_is_dropped(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, "R", 1000, 0, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_SYN_SENT_RST_NO_ACK);
	t_state(t, SYNACK_SYN_SENT);
	t_free(t);
}

/*
 * Simultaneous open, RFC 9293 Figure 7: a bare SYN in SYN_SENT -> SYN_RECEIVED
 * and <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; the peer's SYN-ACK then
 * completes the handshake (ESTABLISHED) and is acknowledged.
 */
static void syn_sent_syn_enters_syn_received_and_sends_syn_ack(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_expect_mss(t, T_MSS);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_send(t, 5);
	t_expect(t, "P.", T_ISS + 1, 1001, 5);
	t_free(t);
}

/* Simultaneous open where the peer's ACK (not a SYN-ACK) completes it. */
static void syn_sent_simultaneous_open_completes_on_ack(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLOUT);
	t_free(t);
}

/* RFC 6298 2.1 and 5.5: RTO 1 s, doubled on each timeout. */
static void syn_sent_syn_retransmitted_with_backoff(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_syn_sent(t);
	t_at(t, 999);
	t_expect_nothing(t);
	t_at(t, 1000);
	t_expect(t, "S", T_ISS, 0, 0);
	t_at(t, 2999);
	t_expect_nothing(t);
	t_at(t, 3000);
	t_expect(t, "S", T_ISS, 0, 0);
	t_at(t, 7000);
	t_expect(t, "S", T_ISS, 0, 0);
	t_state(t, SYNACK_SYN_SENT);
	t_counter(t, "RetransSegs", 3);
	t_free(t);
}

/* syn_retries (6) retransmissions, then the last timeout ends it with -ETIMEDOUT. */
static void syn_sent_gives_up_after_syn_retries_with_etimedout(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_syn_sent(t);
	uint64_t at = 0, rto = 1000;
	for (int i = 0; i < 6; i++) {
		at += rto;
		rto *= 2;
		t_at(t, at);
		t_expect(t, "S", T_ISS, 0, 0);
		t_state(t, SYNACK_SYN_SENT);
	}
	t_at(t, at + rto - 1);
	t_expect_nothing(t);
	t_state(t, SYNACK_SYN_SENT);
	t_at(t, at + rto); /* 127 s */
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_sock_error(t, -ETIMEDOUT);
	t_counter(t, "AttemptFails", 1);
	t_counter(t, "RetransSegs", 6);
	t_free(t);
}

/* The SYN-ACK to a retransmitted SYN still completes the open. */
static void syn_sent_syn_ack_after_retransmission_establishes(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_syn_sent(t);
	t_at(t, 1000);
	t_expect(t, "S", T_ISS, 0, 0);
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_at(t, 200000);
	t_expect_nothing(t);
	t_free(t);
}

/* RFC 9293 3.10.4: CLOSE in SYN_SENT deletes the TCB; nothing is sent. */
static void syn_sent_close_goes_closed_silently(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_close(t);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	/* The late SYN-ACK now finds no connection. */
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	t_expect(t, "R", T_ISS + 1, 0, 0);
	t_at(t, 10000);
	t_expect_nothing(t);
	t_free(t);
}

/* RFC 9293 3.10.5: ABORT in SYN_SENT: delete the TCB, no RST. */
static void syn_sent_abort_with_linger_zero_sends_nothing(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_abort(t);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

/* RFC 9293 3.10.3: RECEIVE in SYN_SENT waits (here: would block). */
static void syn_sent_recv_would_block(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_recv_err(t, -EAGAIN);
	CHECK(!(synack_events(t->st, t->sock) & SYNACK_POLLOUT));
	t_free(t);
}

/*
 * RFC 9293 3.10.2: SEND in SYN_SENT queues the data for transmission after
 * entering ESTABLISHED.
 */
static void syn_sent_send_is_queued_until_established(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	ssize_t r = synack_send(t->st, t->sock, "hello", 5);
	t_expect_nothing(t);
	CHECK_EQ(r, 5);
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	/* The data may ride on the ACK of the SYN-ACK or follow it. */
	t_expect(t, ".", T_ISS + 1, 1001, T_ANY);
	if (t->seg.data_len == 0)
		t_expect(t, "P.", T_ISS + 1, 1001, 5);
	else
		CHECK_EQ(t->seg.data_len, 5);
	t_free(t);
}

/* RFC 9293 3.10.7.3 fourth: text on the SYN-ACK is queued for the application and ACKed. */
static void syn_sent_syn_ack_with_data_is_delivered(void)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	t_peer(t, "S.", 1000, T_ISS + 1, 20);
	t_expect(t, ".", T_ISS + 1, 1021, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_recv(t, 20);
	t_free(t);
}

/* The MSS option of the SYN-ACK bounds the segments we send (RFC 9293 3.7.1). */
static void syn_sent_syn_ack_mss_limits_segment_size(void)
{
	struct t *t = t_new();
	t->peer_mss = 536;
	t_to_syn_sent(t);
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_send(t, 1000);
	t_expect(t, ".", T_ISS + 1, 1001, 536);
	/* The short rest follows at once: nothing short is outstanding
	 * (Nagle as Minshall). */
	t_expect(t, "P.", T_ISS + 537, 1001, 1000 - 536);
	t_expect_nothing(t);
	t_free(t);
}

/* RFC 9293 3.7.1: without an MSS option the peer takes 536 bytes; over
 * IPv6, 1220 (RFC 8200 8.3: its minimum MTU less 60). */
static void syn_sent_syn_ack_without_mss_means_536(void)
{
	uint32_t mss = t_family6() ? 1220 : 536;
	struct t *t = t_new();
	t->peer_mss = 0;
	t_to_syn_sent(t);
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_send(t, mss + 64);
	t_expect(t, ".", T_ISS + 1, 1001, mss);
	t_expect(t, "P.", T_ISS + 1 + mss, 1001, 64);
	t_free(t);
}

int main(void)
{
	RUN(syn_sent_syn_ack_enters_established_and_acks);
	RUN(syn_sent_syn_ack_with_future_ack_gets_rst);
	RUN(syn_sent_syn_ack_with_old_ack_gets_rst);
	RUN(syn_sent_ack_with_bad_ack_gets_rst);
	RUN(syn_sent_ack_acceptable_without_syn_is_dropped);
	RUN(syn_sent_data_without_syn_is_dropped);
	RUN(syn_sent_fin_without_syn_is_dropped);
	RUN(syn_sent_rst_with_acceptable_ack_refuses_connection);
	RUN(syn_sent_rst_with_bad_ack_is_dropped);
	RUN(syn_sent_rst_without_ack_is_dropped);
	RUN(syn_sent_syn_enters_syn_received_and_sends_syn_ack);
	RUN(syn_sent_simultaneous_open_completes_on_ack);
	RUN(syn_sent_syn_retransmitted_with_backoff);
	RUN(syn_sent_gives_up_after_syn_retries_with_etimedout);
	RUN(syn_sent_syn_ack_after_retransmission_establishes);
	RUN(syn_sent_close_goes_closed_silently);
	RUN(syn_sent_abort_with_linger_zero_sends_nothing);
	RUN(syn_sent_recv_would_block);
	RUN(syn_sent_send_is_queued_until_established);
	RUN(syn_sent_syn_ack_with_data_is_delivered);
	RUN(syn_sent_syn_ack_mss_limits_segment_size);
	RUN(syn_sent_syn_ack_without_mss_means_536);
	return check_summary("test_state_syn_sent");
}
