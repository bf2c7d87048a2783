/*
 * SYN_RECEIVED (RFC 9293 3.10.7.4 with RFC 5961): from a passive open (a
 * listener's child, no socket yet) and from a simultaneous open (a socket).
 */
#include "script.h"

/* Simultaneous open: connect, then the peer's bare SYN crosses ours. */
static void to_syn_received_active(struct t *t)
{
	t_to_syn_sent(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_state(t, SYNACK_SYN_RECEIVED);
}

/* RFC 9293 3.10.7.4, fifth, SYN-RECEIVED: SND.UNA < SEG.ACK =< SND.NXT -> ESTABLISHED. */
static void syn_received_ack_enters_established(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	t_counter(t, "CurrEstab", 1);
	t_accept(t);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* ... otherwise <SEQ=SEG.ACK><CTL=RST>, and the connection stays. */
static void syn_received_ack_future_gets_rst(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_expect(t, "R", T_ISS + 2, 0, 0);
	t_dropped(t, SYNACK_DROP_SYN_RECEIVED_BAD_ACK);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

static void syn_received_ack_old_gets_rst(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, ".", 1001, T_ISS, 0);
	t_expect(t, "R", T_ISS, 0, 0);
	t_dropped(t, SYNACK_DROP_SYN_RECEIVED_BAD_ACK);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_free(t);
}

/* RFC 9293 3.10.7.4, fifth: "if the ACK bit is off, drop the segment and return". */
static void syn_received_data_without_ack_is_dropped(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, "P", 1001, 0, 10);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_NO_ACK);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_free(t);
}

/* The third segment of the handshake may carry data: ESTABLISHED, data queued and ACKed. */
static void syn_received_data_with_ack_establishes_and_is_delivered(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_expect_win(t, T_RCVBUF - 10);
	t_state(t, SYNACK_ESTABLISHED);
	t_accept(t);
	t_recv(t, 10);
	t_free(t);
}

/* Data right of the window is unacceptable: ACK it and drop it (first check). */
static void syn_received_data_right_of_window_is_acked_and_dropped(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, "P.", 1001 + T_RCVBUF, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_dropped(t, SYNACK_DROP_SEQ_OUT_OF_WINDOW);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_free(t);
}

/* RFC 9293 3.10.7.4, eighth: a FIN in SYN-RECEIVED -> CLOSE-WAIT (after the ACK established it). */
static void syn_received_fin_with_ack_enters_close_wait(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, "F.", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1002, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_accept(t);
	t_recv(t, 0);
	t_free(t);
}

/*
 * A retransmitted SYN is left of the window, so the sequence check fails and
 * an ACK is owed (RFC 9293 3.10.7.4 first check).  Our SYN is not yet
 * acknowledged: the peer lost our SYN-ACK, and a bare ACK would be dropped by
 * its SYN-SENT processing.  Like Linux and FreeBSD, synack answers with the
 * SYN-ACK again (docs/BEHAVIOUR.md), dropping the SYN as dup_syn.
 */
static void syn_received_syn_retransmit_gets_syn_ack_again(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_expect_mss(t, T_MSS);
	t_dropped(t, SYNACK_DROP_DUP_SYN);
	t_state(t, SYNACK_SYN_RECEIVED);
	/* The peer's ACK of it completes the handshake as usual. */
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/*
 * RFC 9293 3.10.7.4 fourth, SYN-RECEIVED: a SYN in the window on a connection
 * from a passive OPEN returns it to LISTEN: the embryonic connection goes away.
 */
static void syn_received_syn_in_window_returns_to_listen(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, "S", 5000, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->listener, &info), 0);
	CHECK_EQ(info.state, SYNACK_LISTEN);
	CHECK_EQ(synack_accept(t->st, t->listener, NULL), -EAGAIN);
	t_free(t);
}

/* ... otherwise (an active OPEN) as in the synchronized states: RFC 5961 4.2 challenge ACK. */
static void syn_received_syn_in_window_after_simultaneous_open_gets_challenge_ack(void)
{
	struct t *t = t_new();
	to_syn_received_active(t);
	t_peer(t, "S", 5000, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_dropped(t, SYNACK_DROP_SYN_CHALLENGED);
	t_counter(t, "SynChallenge", 1);
	t_counter(t, "ChallengeAcks", 1);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_free(t);
}

/* RFC 9293 3.10.7.4 second, SYN-RECEIVED from a passive OPEN: RST -> back to LISTEN. */
static void syn_received_rst_exact_returns_to_listen(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, "R", 1001, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	CHECK_EQ(synack_accept(t->st, t->listener, NULL), -EAGAIN);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->listener, &info), 0);
	CHECK_EQ(info.state, SYNACK_LISTEN);
	/* The listener takes the same 4-tuple again. */
	t_forget_iss(t);
	t_peer(t, "S", 2000, 0, 0);
	t_expect(t, "S.", T_ISS, 2001, 0);
	t_free(t);
}

/* From an active OPEN (simultaneous open): RST -> "connection refused", CLOSED. */
static void syn_received_rst_exact_after_simultaneous_open_refuses(void)
{
	struct t *t = t_new();
	to_syn_received_active(t);
	t_peer(t, "R", 1001, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_sock_error(t, -ECONNREFUSED);
	t_free(t);
}

/* RFC 5961 3.2: in the window but not exact -> challenge ACK. */
static void syn_received_rst_in_window_gets_challenge_ack(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, "R", 1500, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_dropped(t, SYNACK_DROP_RST_CHALLENGED);
	t_counter(t, "ChallengeAcks", 1);
	t_counter(t, "RstChallenge", 1);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_free(t);
}

static void syn_received_rst_out_of_window_is_dropped(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_peer(t, "R", 1001 + 70000, 0, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_RST_OUT_OF_WINDOW);
	t_peer(t, "R", 900, 0, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_free(t);
}

/* The SYN-ACK is retransmitted with backoff, up to synack_retries (5), then given up. */
static void syn_received_syn_ack_retransmitted_then_given_up(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_syn_received(t);
	uint64_t at = 0, rto = 1000;
	for (int i = 0; i < 5; i++) {
		at += rto;
		rto *= 2;
		t_at(t, at);
		t_expect(t, "S.", T_ISS, 1001, 0);
		t_state(t, SYNACK_SYN_RECEIVED);
	}
	t_at(t, at + rto - 1);
	t_expect_nothing(t);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_at(t, at + rto);
	t_drain(t); /* whether a RST goes out on giving up is not the RFC's to say */
	t_state(t, SYNACK_CLOSED);
	CHECK_EQ(synack_accept(t->st, t->listener, NULL), -EAGAIN);
	t_free(t);
}

/* An ACK after a SYN-ACK retransmission still completes the open. */
static void syn_received_ack_after_retransmission_establishes(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_syn_received(t);
	t_at(t, 1000);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_at(t, 100000);
	t_expect_nothing(t);
	t_free(t);
}

/* RFC 9293 3.10.4: CLOSE in SYN-RECEIVED with nothing to send -> FIN, FIN-WAIT-1. */
static void syn_received_close_sends_fin_and_enters_fin_wait_1(void)
{
	struct t *t = t_new();
	to_syn_received_active(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_free(t);
}

/* CLOSE in SYN-RECEIVED after a simultaneous open, then a retransmission
 * timeout: what is outstanding (SYN and FIN) is sent again, and once the
 * peer acknowledges it all the connection holds no send-side memory (its
 * transmit records, which never cover the SYN, are gone). */
static void syn_received_close_then_timeout_keeps_no_records(void)
{
	struct t *t = t_new();
	to_syn_received_active(t);
	t_close(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_at(t, 1000);
	/* The SYN is still unacknowledged: what goes again is the SYN-ACK
	 * at ISS, never a bare FIN numbered ISS (which would claim the
	 * SYN's sequence number for a FIN). */
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_expect_nothing(t);
	t_at(t, 5000);
	t_drain(t);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	struct synack_mem m;
	synack_memory(t->st, &m);
	CHECK_EQ_U64(m.buffers, 0);
	t_free(t);
}

/* RFC 9293 3.10.5: ABORT in SYN-RECEIVED sends <SEQ=SND.NXT><CTL=RST>. */
static void syn_received_abort_sends_rst(void)
{
	struct t *t = t_new();
	to_syn_received_active(t);
	t_abort(t);
	t_expect(t, "R.", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

/* The handshake's last step at time ms: the peer's ACK, accept(), and the
 * RTT estimate the new connection holds (srtt, rttvar, rto in us). */
static void ack_accept_expect_rto(struct t *t, uint64_t ms, uint32_t srtt, uint32_t rttvar,
                                  uint32_t rto)
{
	t_at(t, ms);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &info), 0);
	CHECK_EQ(info.srtt_us, srtt);
	CHECK_EQ(info.rttvar_us, rttvar);
	CHECK_EQ(info.rto_us, rto);
}

/*
 * RFC 6298 2.2 and 3: the passive opener times its SYN-ACK, and the ACK
 * that completes the handshake gives the first RTT sample: SRTT = R,
 * RTTVAR = R/2, RTO = SRTT + 4 RTTVAR.  The server's first lost data
 * segment is then sent again after that RTO, not the 1 s initial one.
 */
static void syn_received_ack_takes_rtt_sample_and_sets_rto(void)
{
	struct t *t = t_new();
	t_to_syn_received(t); /* at 0 ms */
	ack_accept_expect_rto(t, 100, 100000, 50000, 300000);
	/* The first data segment is lost: it goes again after 300 ms. */
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	t_at(t, 399);
	t_expect_nothing(t);
	t_at(t, 400);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	t_free(t);
}

/* RFC 6298 3 (Karn): the ACK of a SYN-ACK sent again after a timeout may
 * answer either copy, so it times nothing; RFC 6298 5.7 then keeps an RTO
 * of 3 s for the data. */
static void syn_received_ack_of_retransmitted_syn_ack_takes_no_rtt_sample(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_at(t, 1000);
	t_expect(t, "S.", T_ISS, 1001, 0);
	ack_accept_expect_rto(t, 1100, 0, 0, 3000000);
	t_free(t);
}

/* The same when the SYN-ACK went again because the peer's SYN came again
 * (no timeout): the ACK times nothing, and the RTO stays the initial 1 s. */
static void syn_received_ack_after_duplicate_syn_takes_no_rtt_sample(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	t_at(t, 50);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	ack_accept_expect_rto(t, 100, 0, 0, 1000000);
	t_free(t);
}

int main(void)
{
	RUN(syn_received_ack_enters_established);
	RUN(syn_received_ack_takes_rtt_sample_and_sets_rto);
	RUN(syn_received_ack_of_retransmitted_syn_ack_takes_no_rtt_sample);
	RUN(syn_received_ack_after_duplicate_syn_takes_no_rtt_sample);
	RUN(syn_received_ack_future_gets_rst);
	RUN(syn_received_ack_old_gets_rst);
	RUN(syn_received_data_without_ack_is_dropped);
	RUN(syn_received_data_with_ack_establishes_and_is_delivered);
	RUN(syn_received_data_right_of_window_is_acked_and_dropped);
	RUN(syn_received_fin_with_ack_enters_close_wait);
	RUN(syn_received_syn_retransmit_gets_syn_ack_again);
	RUN(syn_received_syn_in_window_returns_to_listen);
	RUN(syn_received_syn_in_window_after_simultaneous_open_gets_challenge_ack);
	RUN(syn_received_rst_exact_returns_to_listen);
	RUN(syn_received_rst_exact_after_simultaneous_open_refuses);
	RUN(syn_received_rst_in_window_gets_challenge_ack);
	RUN(syn_received_rst_out_of_window_is_dropped);
	RUN(syn_received_syn_ack_retransmitted_then_given_up);
	RUN(syn_received_ack_after_retransmission_establishes);
	RUN(syn_received_close_sends_fin_and_enters_fin_wait_1);
	RUN(syn_received_close_then_timeout_keeps_no_records);
	RUN(syn_received_abort_sends_rst);
	return check_summary("test_state_synrcvd");
}
