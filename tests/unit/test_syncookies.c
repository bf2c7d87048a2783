/*
 * SYN cookies (RFC 4987) and the SYN and accept queues of a listener:
 * syncookies 0 / 1 / 2, what a cookie carries (the MSS), how long it lives
 * (its 64 s slot and the next), what a forged or stale one gets (a RST,
 * SyncookiesFailed), and abort_on_overflow.
 */
#include <string.h>

#include "script.h"

static struct t *with_cookies(uint32_t syncookies)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.syncookies = syncookies;
	return t_new_with(&cfg);
}

static uint64_t live_conns(struct t *t)
{
	struct synack_stats s;
	synack_stats(t->st, &s);
	return s.conns_live;
}

/* The state change of the last connection traced: to ESTABLISHED, why. */
static int established_cause(struct t *t)
{
	int cause = -1;
	t_trace_sync(t);
	for (size_t i = 0; i < t->ntrace; i++)
		if (t->trace[i].kind == SYNACK_TRACE_STATE && t->trace[i].to == SYNACK_ESTABLISHED)
			cause = t->trace[i].cause;
	return cause;
}

/* syncookies = 2: the SYN-ACK keeps no state; the ACK makes the connection
 * straight in ESTABLISHED, traced with the cause syncookie. */
static void syncookie_always_answers_without_state(void)
{
	struct t *t = with_cookies(2);
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_expect_mss(t, T_MSS);
	t_expect_win(t, T_RCVBUF);
	t_state(t, SYNACK_CLOSED); /* nothing remembered */
	CHECK_EQ_U64(live_conns(t), 1);
	t_counter(t, "SyncookiesSent", 1);
	t_counter(t, "PassiveOpens", 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	CHECK_EQ(established_cause(t), SYNACK_CAUSE_SYNCOOKIE);
	t_counter(t, "SyncookiesRecv", 1);
	t_counter(t, "SyncookiesFailed", 0);
	t_counter(t, "PassiveOpens", 1);
	t_counter(t, "CurrEstab", 1);
	t_accept(t);
	/* Data both ways, as on any connection. */
	t_peer(t, "P.", 1001, T_ISS + 1, 100);
	t_expect(t, ".", T_ISS + 1, 1101, 0);
	t_recv(t, 100);
	t_send(t, 50);
	t_expect(t, "P.", T_ISS + 1, 1101, 50);
	t_peer(t, ".", 1101, T_ISS + 51, 0);
	t_expect_nothing(t);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &info), 0);
	CHECK_EQ(info.snd_una, info.snd_nxt);
	CHECK_EQ(info.mss, T_MSS);
	t_free(t);
}

/* The cookie carries the peer's MSS, rounded down to a table entry. */
static void syncookie_carries_the_mss(void)
{
	static const struct {
		uint16_t announced, carried;
	} cases[] = {{1460, 1460}, {1400, 1380}, {1000, 536}, {536, 536}, {100, 64}, {9000, 1460}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct t *t = with_cookies(2);
		t->peer_mss = cases[i].announced;
		t_listen(t);
		t_peer(t, "S", 1000, 0, 0);
		t_expect(t, "S.", T_ISS, 1001, 0);
		t_peer(t, ".", 1001, T_ISS + 1, 0);
		t_state(t, SYNACK_ESTABLISHED);
		t_accept(t);
		struct synack_tcp_info info;
		CHECK_EQ(synack_tcp_info(t->st, t->sock, &info), 0);
		CHECK_EQ(info.mss, cases[i].carried);
		t_free(t);
	}
	/* No MSS option: 536 (RFC 9293 3.7.1); over IPv6 1220 (RFC 8200 8.3),
	 * which the cookie carries as the table's entry below it, 1200. */
	struct t *t = with_cookies(2);
	t->peer_mss = 0;
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_accept(t);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &info), 0);
	CHECK_EQ(info.mss, t_family6() ? 1200 : 536);
	t_free(t);
}

/* An ACK whose cookie is wrong (one off) is a bad ACK in LISTEN: a RST with
 * SEQ = SEG.ACK, counted as SyncookiesFailed; no connection. */
static void syncookie_forged_ack_gets_rst(void)
{
	struct t *t = with_cookies(2);
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_expect(t, "R", T_ISS + 2, 0, 0);
	t_dropped(t, SYNACK_DROP_SYNCOOKIE_FAILED);
	t_state(t, SYNACK_CLOSED);
	t_counter(t, "SyncookiesFailed", 1);
	t_counter(t, "SyncookiesRecv", 0);
	/* The right cookie with another peer ISN (the SYN's seq is in it). */
	t_peer(t, ".", 1002, T_ISS + 1, 0);
	t_expect(t, "R", T_ISS + 1, 0, 0);
	t_counter(t, "SyncookiesFailed", 2);
	/* The right one still works. */
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* A cookie lives in its 64 s slot and the next one, no longer. */
static void syncookie_expires_after_two_slots(void)
{
	struct t *t = with_cookies(2);
	t_listen(t);
	t_at(t, 10000);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_at(t, 127999); /* slot 1 */
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);

	t = with_cookies(2);
	t_listen(t);
	t_at(t, 10000);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_at(t, 128000); /* slot 2: too old */
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect(t, "R", T_ISS + 1, 0, 0);
	t_dropped(t, SYNACK_DROP_SYNCOOKIE_FAILED);
	t_state(t, SYNACK_CLOSED);
	t_free(t);
}

/* Cookie ISNs are not predictable: another port, another peer ISN, another
 * secret, another value; and no two of a burst are close. */
static void syncookie_isns_look_random(void)
{
	uint32_t isn[4];
	struct t *t = with_cookies(2);
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ANY, 1001, 0);
	isn[0] = t->seg.seq;
	t->peer_port = T_PEER_PORT + 1;
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ANY, 1001, 0);
	isn[1] = t->seg.seq;
	t_peer(t, "S", 2000, 0, 0);
	t_expect(t, "S.", T_ANY, 2001, 0);
	isn[2] = t->seg.seq;
	t_free(t);
	struct synack_config cfg;
	t_config(&cfg);
	cfg.syncookies = 2;
	cfg.secret[0] ^= 1;
	t = t_new_with(&cfg);
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ANY, 1001, 0);
	isn[3] = t->seg.seq;
	t_free(t);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < i; j++) {
			uint32_t d = isn[i] - isn[j];
			CHECK(d > 65536 && d < 0u - 65536);
		}
}

/* syncookies = 1: the SYN queue (min(backlog, max_syn_backlog)) fills with
 * half-open connections, then cookies answer; each completes. */
static void syncookie_when_syn_queue_full(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.max_syn_backlog = 2;
	struct t *t = t_new_with(&cfg);
	t_listen(t);
	for (int i = 0; i < 2; i++) {
		t->peer_port = (uint16_t)(T_PEER_PORT + i);
		t_forget_iss(t);
		t_peer(t, "S", 1000, 0, 0);
		t_expect(t, "S.", T_ISS, 1001, 0);
		t_state(t, SYNACK_SYN_RECEIVED);
	}
	CHECK_EQ_U64(live_conns(t), 3);
	t_counter(t, "SyncookiesSent", 0);
	/* The listener has never sent a cookie: an ACK is just bad. */
	t->peer_port = T_PEER_PORT + 9;
	t_peer(t, ".", 1001, 12345, 0);
	t_expect(t, "R", 12345, 0, 0);
	t_dropped(t, SYNACK_DROP_LISTEN_ACK);
	t_counter(t, "SyncookiesFailed", 0);
	/* The queue is full: a cookie. */
	t->peer_port = T_PEER_PORT + 2;
	t_forget_iss(t);
	t_peer(t, "S", 7000, 0, 0);
	t_expect(t, "S.", T_ISS, 7001, 0);
	t_state(t, SYNACK_CLOSED);
	CHECK_EQ_U64(live_conns(t), 3);
	t_counter(t, "SyncookiesSent", 1);
	t_counter(t, "ListenDrops", 0);
	/* Now an ACK to the listener is checked as a cookie. */
	t->peer_port = T_PEER_PORT + 9;
	t_peer(t, ".", 1001, 12345, 0);
	t_expect(t, "R", 12345, 0, 0);
	t_dropped(t, SYNACK_DROP_SYNCOOKIE_FAILED);
	t->peer_port = T_PEER_PORT + 2;
	t_peer(t, "P.", 7001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 7011, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_counter(t, "SyncookiesRecv", 1);
	t->rcv_seq = 7001;
	t_accept(t);
	t_recv(t, 10);
	/* The half-open ones still complete the ordinary way. */
	t->peer_port = T_PEER_PORT;
	t_forget_iss(t);
	t_peer(t, "S", 1000, 0, 0); /* a duplicate SYN: our SYN-ACK again */
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

/* syncookies = 0: past the SYN queue a SYN is dropped (ListenDrops). */
static void syncookie_off_drops_past_syn_queue(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.syncookies = 0;
	cfg.max_syn_backlog = 1;
	struct t *t = t_new_with(&cfg);
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t->peer_port = T_PEER_PORT + 1;
	t_peer(t, "S", 1000, 0, 0);
	t_expect_nothing(t);
	t_dropped(t, SYNACK_DROP_LISTEN_OVERFLOW);
	t_counter(t, "ListenDrops", 1);
	t_counter(t, "ListenOverflows", 0);
	t_counter(t, "SyncookiesSent", 0);
	/* And ACKs are never taken for cookies. */
	t_peer(t, ".", 1001, 5, 0);
	t_expect(t, "R", 5, 0, 0);
	t_dropped(t, SYNACK_DROP_LISTEN_ACK);
	t_free(t);
}

/* A cookie's ACK carrying a FIN: the connection goes on to CLOSE_WAIT. */
static void syncookie_ack_with_data_and_fin(void)
{
	struct t *t = with_cookies(2);
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_peer(t, "FP.", 1001, T_ISS + 1, 20);
	t_expect(t, ".", T_ISS + 1, 1022, 0);
	t_state(t, SYNACK_CLOSE_WAIT);
	t_accept(t);
	t_recv(t, 20);
	t_recv(t, 0);
	t_free(t);
}

/* A cookie's ACK while the accept queue is full: dropped (the peer sends
 * again), or reset with abort_on_overflow.  (A SYN that finds the accept
 * queue full gets no cookie at all, as in Linux.) */
static void syncookie_accept_queue_full(void)
{
	for (uint32_t abort_on = 0; abort_on <= 1; abort_on++) {
		struct synack_config cfg;
		t_config(&cfg);
		cfg.syncookies = 2;
		cfg.abort_on_overflow = abort_on;
		struct t *t = t_new_with(&cfg);
		t_listen_backlog(t, 1);
		t_peer(t, "S", 1000, 0, 0);
		t_expect(t, "S.", T_ISS, 1001, 0);
		uint32_t iss_a = t->iss;
		t->peer_port = T_PEER_PORT + 1;
		t_forget_iss(t);
		t_peer(t, "S", 5000, 0, 0);
		t_expect(t, "S.", T_ISS, 5001, 0);
		uint32_t iss_b = t->iss;
		/* A completes and fills the accept queue of one. */
		t->peer_port = T_PEER_PORT;
		t->iss = iss_a;
		t_peer(t, ".", 1001, T_ISS + 1, 0);
		t_state(t, SYNACK_ESTABLISHED);
		t->peer_port = T_PEER_PORT + 1;
		t->iss = iss_b;
		t_peer(t, "S", 6000, 0, 0);
		t_expect_nothing(t);
		t_dropped(t, SYNACK_DROP_LISTEN_OVERFLOW);
		t_counter(t, "ListenOverflows", 1);
		t_peer(t, ".", 5001, T_ISS + 1, 0);
		if (abort_on)
			t_expect(t, "R", T_ISS + 1, 0, 0);
		else
			t_expect_nothing(t);
		t_dropped(t, SYNACK_DROP_LISTEN_OVERFLOW);
		t_state(t, SYNACK_CLOSED);
		t_counter(t, "ListenOverflows", 2);
		t_counter(t, "ListenDrops", 2);
		t_counter(t, "SyncookiesRecv", 2);
		/* accept() makes room; the same ACK again now succeeds. */
		t->peer_port = T_PEER_PORT;
		t_accept(t);
		t->peer_port = T_PEER_PORT + 1;
		t_peer(t, ".", 5001, T_ISS + 1, 0);
		t_expect_nothing(t);
		t_state(t, SYNACK_ESTABLISHED);
		t_free(t);
	}
}

/* abort_on_overflow for an ordinary half-open connection whose ACK finds
 * the accept queue full: 0 ignores the ACK and keeps the connection in
 * SYN_RECEIVED (it completes once there is room), 1 resets it. */
/* RFC 7323 with cookies, as Linux: when the SYN carries timestamps the
 * cookie SYN-ACK offers window scale and timestamps too, the peer's scale
 * riding in the low bits of our TSval; the ACK's TSecr brings it back and
 * the connection has both. */
static void syncookie_keeps_wscale_in_the_timestamp(void)
{
	struct t *t = with_cookies(2);
	t->peer_wscale = 5;
	t->peer_ts = 1;
	t->peer_tsval = 700;
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_expect_wscale(t, 7);
	uint32_t ts = t_expect_ts(t, 1, 700);
	CHECK_EQ(ts & 0x3f, 5);
	t_state(t, SYNACK_CLOSED); /* nothing remembered */
	t->peer_tsval = 701;
	t->peer_tsecr = ts;
	t->peer_wnd = 100; /* 3200 bytes with the shift of 5 */
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_expect_nothing(t);
	t_state(t, SYNACK_ESTABLISHED);
	t_accept(t);
	struct synack_tcp_info i;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &i), 0);
	CHECK_EQ(i.options, SYNACK_TCPI_OPT_TIMESTAMPS | SYNACK_TCPI_OPT_WSCALE);
	CHECK_EQ(i.snd_wscale, 5);
	CHECK_EQ(i.rcv_wscale, 7);
	CHECK_EQ(i.snd_wnd, 3200);
	CHECK_EQ(i.mss, T_MSS - 12);
	t->peer_tsval = 702;
	t_peer(t, "P.", 1001, T_ISS + 1, 10);
	t_expect(t, ".", T_ISS + 1, 1011, 0);
	t_expect_ts(t, 1, 702);
	t_expect_win(t, (T_RCVBUF - 10 + 127) / 128);
	t_free(t);
}

/* Without timestamps in the ACK, or with a TSecr that is not one of ours,
 * the cookie's connection has neither option; without timestamps in the
 * SYN, the SYN-ACK offers only the MSS. */
static void syncookie_options_need_a_valid_echo(void)
{
	struct t *t = with_cookies(2);
	t->peer_wscale = 5;
	t->peer_ts = 1;
	t->peer_tsval = 700;
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	uint32_t ts = t_expect_ts(t, 1, 700);
	t->peer_tsecr = ts + 1000000; /* from the future */
	t_peer(t, ".", 1001, T_ISS + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_accept(t);
	struct synack_tcp_info i;
	CHECK_EQ(synack_tcp_info(t->st, t->sock, &i), 0);
	CHECK_EQ(i.options, 0);
	CHECK_EQ(i.snd_wscale, 0);
	CHECK_EQ(i.mss, T_MSS);
	t_free(t);

	t = with_cookies(2);
	t->peer_wscale = 5;
	t_listen(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_expect_wscale(t, -1);
	t_expect_ts(t, 0, T_ANY);
	t_free(t);
}

static void abort_on_overflow_settings(void)
{
	for (uint32_t abort_on = 0; abort_on <= 1; abort_on++) {
		struct synack_config cfg;
		t_config(&cfg);
		cfg.abort_on_overflow = abort_on;
		struct t *t = t_new_with(&cfg);
		t_listen_backlog(t, 2);
		/* A: established, waiting in the accept queue. */
		t_peer(t, "S", 1000, 0, 0);
		t_expect(t, "S.", T_ISS, 1001, 0);
		t_peer(t, ".", 1001, T_ISS + 1, 0);
		/* B: half-open. */
		t->peer_port = T_PEER_PORT + 1;
		t_forget_iss(t);
		t_peer(t, "S", 3000, 0, 0);
		t_expect(t, "S.", T_ISS, 3001, 0);
		uint32_t iss_b = t->iss;
		/* C: overtakes B and fills the accept queue. */
		t->peer_port = T_PEER_PORT + 2;
		t_forget_iss(t);
		t_peer(t, "S", 4000, 0, 0);
		t_expect(t, "S.", T_ISS, 4001, 0);
		t_peer(t, ".", 4001, T_ISS + 1, 0);
		t_state(t, SYNACK_ESTABLISHED);
		/* B's ACK. */
		t->peer_port = T_PEER_PORT + 1;
		t->iss = iss_b;
		t_peer(t, ".", 3001, T_ISS + 1, 0);
		t_dropped(t, SYNACK_DROP_LISTEN_OVERFLOW);
		t_counter(t, "ListenOverflows", 1);
		t_counter(t, "ListenDrops", 1);
		if (abort_on) {
			t_expect(t, "R", T_ISS + 1, 0, 0);
			t_state(t, SYNACK_CLOSED);
			t_trace_sync(t);
			int cause = -1;
			for (size_t k = 0; k < t->ntrace; k++)
				if (t->trace[k].kind == SYNACK_TRACE_STATE &&
				    t->trace[k].to == SYNACK_CLOSED)
					cause = t->trace[k].cause;
			CHECK_EQ(cause, SYNACK_CAUSE_LISTEN_OVERFLOW);
		} else {
			t_expect_nothing(t);
			t_state(t, SYNACK_SYN_RECEIVED);
			/* Room again: the ACK sent once more completes it. */
			t->peer_port = T_PEER_PORT;
			t_accept(t);
			t->peer_port = T_PEER_PORT + 1;
			t_peer(t, ".", 3001, T_ISS + 1, 0);
			t_expect_nothing(t);
			t_state(t, SYNACK_ESTABLISHED);
		}
		t_free(t);
	}
}

int main(void)
{
	RUN(syncookie_always_answers_without_state);
	RUN(syncookie_carries_the_mss);
	RUN(syncookie_forged_ack_gets_rst);
	RUN(syncookie_expires_after_two_slots);
	RUN(syncookie_isns_look_random);
	RUN(syncookie_when_syn_queue_full);
	RUN(syncookie_off_drops_past_syn_queue);
	RUN(syncookie_ack_with_data_and_fin);
	RUN(syncookie_accept_queue_full);
	RUN(abort_on_overflow_settings);
	RUN(syncookie_keeps_wscale_in_the_timestamp);
	RUN(syncookie_options_need_a_valid_echo);
	return check_summary("test_syncookies");
}
