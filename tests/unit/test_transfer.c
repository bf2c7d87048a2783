/*
 * Reliable transfer, segment by segment: the RTO estimator against the
 * arithmetic of RFC 6298, Karn's rule, backoff and its cap, retries2 and
 * TCP_USER_TIMEOUT, zero-window persist, keepalive, delayed ACKs, Nagle,
 * slow start, fast retransmit and NewReno recovery (RFC 5681, RFC 6582),
 * restart after idle.
 */
#include <string.h>

#include "script.h"

static struct t *new_with(void (*tune)(struct synack_config *))
{
	struct synack_config cfg;
	t_config(&cfg);
	if (tune)
		tune(&cfg);
	return t_new_with(&cfg);
}

static void setopt(struct t *t, int opt, int value)
{
	CHECK_EQ(synack_setsockopt(t->st, t->sock, opt, value), 0);
}

/* ------------------------------------------------------------------ */
/* RFC 6298: the estimator.                                            */

static void no_rto_floor(struct synack_config *cfg)
{
	cfg->rto_min_ms = 1;
}

/* RFC 6298 2.2 and 2.3 on two measurements: the SYN's and a data segment's. */
static void rto_follows_rfc6298_arithmetic(void)
{
	struct t *t = new_with(no_rto_floor);
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_at(t, 100);
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	/* First measurement R = 100 ms: SRTT = R, RTTVAR = R/2,
	 * RTO = SRTT + max(G, 4 RTTVAR) = 300 ms. */
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.srtt_us, 100000);
	CHECK_EQ(i.rttvar_us, 50000);
	CHECK_EQ(i.rto_us, 300000);
	/* Second, R' = 200 ms: RTTVAR = 3/4 50 + 1/4 |100 - 200| = 62.5,
	 * SRTT = 7/8 100 + 1/8 200 = 112.5, RTO = 112.5 + 250 = 362.5 ms. */
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	t_at(t, 300);
	t_peer(t, ".", 1001, T_ISS + 101, 0);
	i = t_info(t);
	CHECK_EQ(i.rttvar_us, 62500);
	CHECK_EQ(i.srtt_us, 112500);
	CHECK_EQ(i.rto_us, 362500);
	t_free(t);
}

/* RFC 6298 2.4: the RTO never goes below rto_min_ms (200 ms by default). */
static void rto_is_floored_at_rto_min(void)
{
	struct t *t = t_new();
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_at(t, 1);
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	CHECK_EQ(t_info(t).srtt_us, 1000);
	CHECK_EQ(t_info(t).rto_us, 200000);
	t_free(t);
}

/* Karn: an ACK for a retransmitted segment gives no sample and the
 * backed-off RTO stays until a segment sent once is acknowledged. */
static void karn_no_sample_from_retransmission(void)
{
	struct t *t = new_with(no_rto_floor);
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_at(t, 100);
	t_peer(t, "S.", 1000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	t_at(t, 399);
	t_expect_nothing(t);
	t_at(t, 400); /* RTO 300 ms: sent again, RTO doubled */
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	CHECK_EQ(t_info(t).rto_us, 600000);
	t_at(t, 450);
	t_peer(t, ".", 1001, T_ISS + 101, 0);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.srtt_us, 100000); /* unchanged: ambiguous sample ignored */
	CHECK_EQ(i.rttvar_us, 50000);
	CHECK_EQ(i.rto_us, 600000); /* still backed off */
	CHECK_EQ(i.retransmits, 0); /* progress was made */
	/* New data, sent once, acknowledged after 100 ms: a valid sample. */
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 101, 1001, 100);
	t_at(t, 550);
	t_peer(t, ".", 1001, T_ISS + 201, 0);
	i = t_info(t);
	CHECK_EQ(i.srtt_us, 100000);
	CHECK_EQ(i.rttvar_us, 37500);
	CHECK_EQ(i.rto_us, 250000);
	t_free(t);
}

static void short_retries(struct synack_config *cfg)
{
	cfg->rto_max_ms = 2000;
	cfg->retries2 = 5;
}

/* RFC 6298 5.5 doubling, capped at rto_max_ms; after retries2
 * retransmissions the connection ends with -ETIMEDOUT (no RST, as Linux). */
static void backoff_doubles_to_the_cap_then_retries2_ends_it(void)
{
	struct t *t = new_with(short_retries);
	t_establish_active(t); /* RTT ~0: RTO = rto_min = 200 ms */
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1, 1001, 10);
	static const uint64_t at[] = {200, 600, 1400, 3000, 5000};
	for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
		t_at(t, at[k] - 1);
		t_expect_nothing(t);
		t_at(t, at[k]);
		t_expect(t, "P.", T_ISS + 1, 1001, 10);
		CHECK_EQ(t_info(t).retransmits, (uint32_t)k + 1);
	}
	CHECK_EQ(t_info(t).rto_us, 2000000);
	t_at(t, 6999);
	t_state(t, SYNACK_ESTABLISHED);
	t_at(t, 7000);
	t_expect_nothing(t);
	t_state(t, SYNACK_CLOSED);
	t_sock_error(t, -ETIMEDOUT);
	t_counter(t, "DataRetransTimeouts", 1);
	t_counter(t, "Timeouts", 5);
	t_counter(t, "RetransSegs", 5);
	t_free(t);
}

/* TCP_USER_TIMEOUT: data unacknowledged for that long ends the connection
 * at that moment, whatever retries2 says; the peer gets a RST. */
static void user_timeout_ends_the_connection_on_time(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	setopt(t, SYNACK_TCP_USER_TIMEOUT, 1000);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1, 1001, 10);
	t_at(t, 200);
	t_expect(t, "P.", T_ISS + 1, 1001, 10);
	t_at(t, 600);
	t_expect(t, "P.", T_ISS + 1, 1001, 10);
	t_at(t, 999); /* the next RTO would be at 1400 */
	t_expect_nothing(t);
	t_at(t, 1000);
	t_expect(t, "R.", T_ISS + 11, 1001, 0);
	t_state(t, SYNACK_CLOSED);
	t_sock_error(t, -ETIMEDOUT);
	t_counter(t, "UserTimeouts", 1);
	t_free(t);
}

/* An ACK that makes progress restarts the user timeout. */
static void user_timeout_counts_from_the_last_progress(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	setopt(t, SYNACK_TCP_USER_TIMEOUT, 1000);
	CHECK_EQ(synack_setsockopt(t->st, t->sock, SYNACK_TCP_NODELAY, 1), 0);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 1, 1001, 10);
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 11, 1001, 10);
	t_at(t, 150);
	t_peer(t, ".", 1001, T_ISS + 11, 0); /* the first acknowledged */
	t_at(t, 1149);
	t_drain(t); /* retransmissions of the second */
	t_state(t, SYNACK_ESTABLISHED);
	t_at(t, 1150);
	t_expect(t, "R.", T_ISS + 21, 1001, 0);
	t_sock_error(t, -ETIMEDOUT);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Zero window: persist probes with backoff (RFC 9293 3.8.6.1,        */
/* RFC 1122 4.2.2.17).                                                 */

static void three_retries(struct synack_config *cfg)
{
	cfg->retries2 = 3;
}

/* The peer keeps answering with a zero window: probes back off, and the
 * connection lives on past retries2 because each probe is answered. */
static void zero_window_is_probed_with_backoff_and_never_given_up(void)
{
	struct t *t = new_with(three_retries);
	t_establish_active(t);
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	t->peer_wnd = 0;
	t_peer(t, ".", 1001, T_ISS + 101, 0);
	t_send(t, 100); /* waits behind the zero window */
	t_expect_nothing(t);
	uint64_t at = 0, gap = 200;
	for (int k = 0; k < 6; k++) {
		at += gap;
		t_at(t, at - 1);
		t_expect_nothing(t);
		t_at(t, at);
		/* <SEQ=SND.UNA-1>, no data: the peer must answer. */
		t_expect(t, ".", T_ISS + 100, 1001, 0);
		t_peer(t, ".", 1001, T_ISS + 101, 0);
		gap *= 2;
	}
	t_state(t, SYNACK_ESTABLISHED);
	t_counter(t, "WinProbes", 6);
	t_counter(t, "Timeouts", 0);
	/* The window opens: the data goes. */
	t->peer_wnd = 65535;
	t_peer(t, ".", 1001, T_ISS + 101, 0);
	t_expect(t, "P.", T_ISS + 101, 1001, 100);
	t_peer(t, ".", 1001, T_ISS + 201, 0);
	t_expect_nothing(t);
	t_free(t);
}

/* Unanswered probes count like retransmissions: retries2 ends it. */
static void zero_window_peer_that_vanishes_times_out(void)
{
	struct t *t = new_with(three_retries);
	t_establish_active(t);
	t->peer_wnd = 0;
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_send(t, 100);
	t_expect_nothing(t);
	static const uint64_t at[] = {200, 600, 1400};
	for (size_t k = 0; k < 3; k++) {
		t_at(t, at[k]);
		t_expect(t, ".", T_ISS, 1001, 0);
	}
	t_at(t, 2999);
	t_state(t, SYNACK_ESTABLISHED);
	t_at(t, 3000);
	t_state(t, SYNACK_CLOSED);
	t_sock_error(t, -ETIMEDOUT);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Keepalive (RFC 1122 4.2.3.6).                                       */

static void keepalive_on(struct t *t)
{
	setopt(t, SYNACK_SO_KEEPALIVE, 1);
	setopt(t, SYNACK_TCP_KEEPIDLE, 1000);
	setopt(t, SYNACK_TCP_KEEPINTVL, 500);
	setopt(t, SYNACK_TCP_KEEPCNT, 3);
}

static void keepalive_kills_a_dead_peer(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	keepalive_on(t);
	t_at(t, 999);
	t_expect_nothing(t);
	static const uint64_t at[] = {1000, 1500, 2000};
	for (size_t k = 0; k < 3; k++) {
		t_at(t, at[k]);
		t_expect(t, ".", T_ISS, 1001, 0);
	}
	t_at(t, 2499);
	t_expect_nothing(t);
	t_at(t, 2500);
	t_expect(t, "R.", T_ISS + 1, 1001, 0);
	t_state(t, SYNACK_CLOSED);
	t_sock_error(t, -ETIMEDOUT);
	t_counter(t, "KeepAliveProbes", 3);
	t_counter(t, "KeepAliveTimeouts", 1);
	t_free(t);
}

static void keepalive_answered_keeps_the_connection(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	keepalive_on(t);
	t_at(t, 1000);
	t_expect(t, ".", T_ISS, 1001, 0);
	t_at(t, 1100);
	t_peer(t, ".", 1001, T_ISS + 1, 0); /* the answer: idle again from here */
	t_at(t, 2099);
	t_expect_nothing(t);
	t_at(t, 2100);
	t_expect(t, ".", T_ISS, 1001, 0);
	t_state(t, SYNACK_ESTABLISHED);
	/* Off: no more probes. */
	setopt(t, SYNACK_SO_KEEPALIVE, 0);
	t_at(t, 100000);
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* Half-closed (FIN_WAIT_2 after shutdown): we still wait for the peer's
 * data, and keepalive still watches it; a silent peer is found dead. */
static void keepalive_watches_a_half_closed_connection(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	keepalive_on(t);
	t_shutdown_wr(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	t_at(t, 100);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_at(t, 1099);
	t_expect_nothing(t);
	static const uint64_t at[] = {1100, 1600, 2100};
	for (size_t k = 0; k < 3; k++) {
		t_at(t, at[k]);
		t_expect(t, ".", T_ISS + 1, 1001, 0);
	}
	t_at(t, 2600);
	t_expect(t, "R.", T_ISS + 2, 1001, 0);
	t_state(t, SYNACK_CLOSED);
	t_sock_error(t, -ETIMEDOUT);
	t_free(t);
}

static void keepalive_off_by_default(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	int v = -1;
	CHECK_EQ(synack_getsockopt(t->st, t->sock, SYNACK_SO_KEEPALIVE, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(synack_getsockopt(t->st, t->sock, SYNACK_TCP_KEEPIDLE, &v), 0);
	CHECK_EQ(v, 7200000);
	t_at(t, 8000000);
	t_expect_nothing(t);
	CHECK_EQ(synack_next_deadline(t->st), SYNACK_NEVER);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Delayed ACK (RFC 1122 4.2.3.2, RFC 5681 4.2).                       */

/* The delayed ACK itself, from the first segment on: quick-ACK mode,
 * which acknowledges a connection's first segments at once, is off here
 * (test_sockapi.c covers it). */
static void delack_default(struct synack_config *cfg)
{
	cfg->delack_ms = 40;
	cfg->max_quickacks = 0;
}

static void delayed_ack_waits_delack_ms(void)
{
	struct t *t = new_with(delack_default);
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect_nothing(t);
	t_at(t, 39);
	t_expect_nothing(t);
	t_at(t, 40);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_counter(t, "DelayedACKs", 1);
	t_free(t);
}

static void delayed_ack_rides_on_the_reply(void)
{
	struct t *t = new_with(delack_default);
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_at(t, 10);
	t_recv(t, 100);
	t_send(t, 50); /* the answer carries the ACK */
	t_expect(t, "P.", T_ISS + 1, 1101, 50);
	t_at(t, 100);
	t_expect_nothing(t);
	t_counter(t, "DelayedACKs", 0);
	t_free(t);
}

static void every_second_full_segment_is_acked_at_once(void)
{
	struct t *t = new_with(delack_default);
	t_establish_passive(t);
	t_peer(t, ".", 1001, T_ISS + 1, T_MSS);
	t_expect_nothing(t);
	t_peer(t, ".", 1001 + T_MSS, T_ISS + 1, T_MSS);
	t_expect(t, ".", T_ISS + 1, 1001 + 2 * T_MSS, 0);
	t_free(t);
}

static void out_of_order_and_gap_fill_are_acked_at_once(void)
{
	struct t *t = new_with(delack_default);
	t_establish_passive(t);
	t_peer(t, ".", 1101, T_ISS + 1, 100); /* a hole at 1001 */
	t_expect(t, ".", T_ISS + 1, 1001, 0); /* duplicate ACK at once */
	t_peer(t, ".", 1001, T_ISS + 1, 100); /* fills it */
	t_expect(t, ".", T_ISS + 1, 1201, 0);
	t_free(t);
}

static void fin_is_acked_at_once(void)
{
	struct t *t = new_with(delack_default);
	t_establish_passive(t);
	t_peer(t, "F.", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1002, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Congestion control (RFC 5681, RFC 6582, RFC 6928).                  */

/* Establishes, then queues n full segments; expects the first `sent` of
 * them on the wire. */
static void fill(struct t *t, int n, int sent)
{
	t_send(t, (size_t)n * T_MSS);
	for (int k = 0; k < sent; k++)
		t_expect(t, ".", T_ISS + 1 + (uint32_t)k * T_MSS, 1001, T_MSS);
	t_expect_nothing(t);
}

/* Reno with standard slow start (hystart 0): the arithmetic of RFC 5681,
 * RFC 3465 and RFC 6582 these tests spell out.  CUBIC and HyStart++, the
 * defaults, have their own tests (test_cubic.c). */
static struct t *t_new_reno(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	memcpy(cfg.congestion_control, "reno", 5);
	cfg.hystart = 0;
	return t_new_with(&cfg);
}

/* RFC 6928: ten segments at first; slow start adds what each ACK covers
 * (RFC 3465, at most 2 SMSS per ACK). */
static void initial_window_is_ten_segments_then_slow_start(void)
{
	struct t *t = t_new();
	t_establish_active(t);
	CHECK_EQ(t_info(t).cwnd, 10 * T_MSS);
	CHECK_EQ(t_info(t).ssthresh, UINT32_MAX);
	fill(t, 30, 10);
	/* One ACK for two segments: cwnd 12 segments, 8 in flight: 4 go. */
	t_peer(t, ".", 1001, T_ISS + 1 + 2 * T_MSS, 0);
	CHECK_EQ(t_info(t).cwnd, 12 * T_MSS);
	for (int k = 10; k < 14; k++)
		t_expect(t, ".", T_ISS + 1 + (uint32_t)k * T_MSS, 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_OPEN);
	t_free(t);
}

/* Three duplicate ACKs: the lost segment goes at once (fast retransmit),
 * ssthresh = flight/2, cwnd = ssthresh + 3 SMSS; each further duplicate
 * inflates cwnd; a partial ACK sends the next hole; the full ACK ends
 * recovery with cwnd = min(ssthresh, flight + SMSS) (RFC 6582). */
static void fast_retransmit_and_newreno_recovery(void)
{
	struct t *t = t_new_reno();
	t_establish_active(t);
	fill(t, 12, 10);
	/* Segments 0 and 3 are lost; 1, 2, 4 ... 9 arrive: duplicate ACKs. */
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	/* Limited transmit (RFC 3042): a new segment for each of the first two. */
	t_expect(t, ".", T_ISS + 1 + 10 * T_MSS, 1001, T_MSS);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1 + 11 * T_MSS, 1001, T_MSS);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, T_MSS); /* fast retransmit */
	t_expect_nothing(t);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_RECOVERY);
	CHECK_EQ(i.ssthresh, 6 * T_MSS); /* 12 segments in flight */
	CHECK_EQ(i.cwnd, 9 * T_MSS);
	t_counter(t, "FastRetrans", 1);
	for (int k = 0; k < 6; k++)
		t_peer(t, ".", 1001, T_ISS + 1, 0);
	CHECK_EQ(t_info(t).cwnd, 15 * T_MSS);
	t_expect_nothing(t); /* nothing new to send */
	/* Partial ACK up to the second hole: it goes at once. */
	t_peer(t, ".", 1001, T_ISS + 1 + 3 * T_MSS, 0);
	t_expect(t, ".", T_ISS + 1 + 3 * T_MSS, 1001, T_MSS);
	CHECK_EQ(t_info(t).ca_state, SYNACK_CA_RECOVERY);
	CHECK_EQ(t_info(t).cwnd, 13 * T_MSS); /* 15 - 3 + 1 */
	/* Full ACK: recovery ends, cwnd deflates to ssthresh. */
	t_peer(t, ".", 1001, T_ISS + 1 + 12 * T_MSS, 0);
	i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.cwnd, 2 * T_MSS); /* min(ssthresh, max(flight 0, SMSS) + SMSS) */
	CHECK_EQ(i.ssthresh, 6 * T_MSS);
	t_counter(t, "Timeouts", 0);
	t_counter(t, "RetransSegs", 2);
	t_free(t);
}

/* A timeout: cwnd one segment, ssthresh half the flight, and everything
 * after SND.UNA sent again in slow start (go-back-N). */
static void timeout_restarts_from_snd_una_in_slow_start(void)
{
	struct t *t = t_new_reno();
	t_establish_active(t);
	fill(t, 4, 4);
	t_at(t, 200);
	t_expect(t, ".", T_ISS + 1, 1001, T_MSS);
	t_expect_nothing(t);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_LOSS);
	CHECK_EQ(i.cwnd, T_MSS);
	CHECK_EQ(i.ssthresh, 2 * T_MSS);
	t_counter(t, "Timeouts", 1);
	/* A pure ACK now carries SND.MAX, not the rolled-back SND.NXT: the
	 * peer may hold everything we sent, and would refuse (and not read)
	 * an ACK numbered below its RCV.NXT. */
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1 + 4 * T_MSS, 1011, 0);
	/* Its ACK: cwnd 2 segments, the next two go again. */
	t_peer(t, ".", 1011, T_ISS + 1 + T_MSS, 0);
	t_expect(t, ".", T_ISS + 1 + T_MSS, 1011, T_MSS);
	t_expect(t, ".", T_ISS + 1 + 2 * T_MSS, 1011, T_MSS);
	t_expect_nothing(t);
	/* The peer had segment 3 all along: one ACK covers everything. */
	t_peer(t, ".", 1011, T_ISS + 1 + 4 * T_MSS, 0);
	t_expect_nothing(t);
	i = t_info(t);
	CHECK_EQ(i.ca_state, SYNACK_CA_OPEN);
	CHECK_EQ(i.snd_una, i.snd_nxt);
	t_free(t);
}

/* RFC 5681 4.1: idle for longer than the RTO, the window restarts at IW. */
static void restart_after_idle(void)
{
	struct t *t = t_new_reno();
	t_establish_active(t);
	fill(t, 10, 10);
	t_peer(t, ".", 1001, T_ISS + 1 + 10 * T_MSS, 0);
	CHECK_EQ(t_info(t).cwnd, 12 * T_MSS);
	t_at(t, 5000);
	t_send(t, 14 * T_MSS);
	for (int k = 0; k < 10; k++)
		t_expect(t, ".", T_ISS + 1 + (uint32_t)(10 + k) * T_MSS, 1001, T_MSS);
	t_expect_nothing(t);
	CHECK_EQ(t_info(t).cwnd, 10 * T_MSS);
	t_free(t);
}

/* The peer's window bounds what is in flight as much as cwnd does. */
static void peer_window_bounds_the_flight(void)
{
	struct t *t = t_new();
	t->peer_wnd = 3 * T_MSS;
	t_establish_active(t);
	fill(t, 10, 3);
	t_peer(t, ".", 1001, T_ISS + 1 + T_MSS, 0);
	t_expect(t, ".", T_ISS + 1 + 3 * T_MSS, 1001, T_MSS);
	t_expect_nothing(t);
	/* The peer's window, not cwnd, is the limit: cwnd does not grow
	 * (RFC 7661), however many ACKs come back. */
	for (int k = 2; k <= 7; k++) {
		t_peer(t, ".", 1001, T_ISS + 1 + (uint32_t)k * T_MSS, 0);
		t_expect(t, ".", T_ISS + 1 + (uint32_t)(k + 2) * T_MSS, 1001, T_MSS);
	}
	CHECK_EQ(t_info(t).cwnd, 10 * T_MSS);
	t_free(t);
}

/* A retransmission never overshoots the peer's window (XFER_FINDINGS X1):
 * with a window below one MSS it is cut at the window, so the next ACK
 * leaves no hole behind. */
static void retransmission_is_cut_at_the_peer_window(void)
{
	struct t *t = t_new();
	t->peer_wnd = 1000;
	t_establish_active(t);
	t_send(t, 3000);
	t_expect(t, ".", T_ISS + 1, 1001, 1000);
	t_expect_nothing(t);
	t_at(t, 200);
	t_expect(t, ".", T_ISS + 1, 1001, 1000);
	t_expect_nothing(t);
	t_peer(t, ".", 1001, T_ISS + 1001, 0);
	t_expect(t, ".", T_ISS + 1001, 1001, 1000);
	t_free(t);
}

int main(void)
{
	RUN(rto_follows_rfc6298_arithmetic);
	RUN(rto_is_floored_at_rto_min);
	RUN(karn_no_sample_from_retransmission);
	RUN(backoff_doubles_to_the_cap_then_retries2_ends_it);
	RUN(user_timeout_ends_the_connection_on_time);
	RUN(user_timeout_counts_from_the_last_progress);
	RUN(zero_window_is_probed_with_backoff_and_never_given_up);
	RUN(zero_window_peer_that_vanishes_times_out);
	RUN(keepalive_kills_a_dead_peer);
	RUN(keepalive_answered_keeps_the_connection);
	RUN(keepalive_watches_a_half_closed_connection);
	RUN(keepalive_off_by_default);
	RUN(delayed_ack_waits_delack_ms);
	RUN(delayed_ack_rides_on_the_reply);
	RUN(every_second_full_segment_is_acked_at_once);
	RUN(out_of_order_and_gap_fill_are_acked_at_once);
	RUN(fin_is_acked_at_once);
	RUN(initial_window_is_ten_segments_then_slow_start);
	RUN(fast_retransmit_and_newreno_recovery);
	RUN(timeout_restarts_from_snd_una_in_slow_start);
	RUN(restart_after_idle);
	RUN(peer_window_bounds_the_flight);
	RUN(retransmission_is_cut_at_the_peer_window);
	return check_summary("test_transfer");
}
