/*
 * The delivery rate (issue 13, src/tcp/tcp_rate.c;
 * draft-cheng-iccrg-delivery-rate-estimation as Linux's tcp_rate.c),
 * segment by segment: the sample of an ACK is the bytes delivered since its
 * newest segment was sent over the longer of the send and ACK phases;
 * the first flight after an idle pipe is app-limited; synack_tcp_info and
 * synack_conns show it.
 */
#include <string.h>

#include "script.h"

#define S(k) (T_ISS + 1 + (uint32_t)(k)*T_MSS)

/* Reno and standard slow start (2 SMSS per ACK), unpaced so that what an
 * ACK releases leaves at once (test_pacing.c paces it). */
static void tune(struct synack_config *cfg)
{
	snprintf(cfg->congestion_control, sizeof(cfg->congestion_control), "reno");
	cfg->hystart = 0;
	cfg->pacing = 0;
}

/* An active open whose handshake took 20 ms; n segments queued at once,
 * of which the initial window (10) leaves. */
static struct t *sender(int n)
{
	struct synack_config cfg;
	t_config(&cfg);
	tune(&cfg);
	struct t *t = t_new_with(&cfg);
	t_at(t, 0);
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_at(t, 20);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_send(t, (size_t)n * T_MSS);
	for (int k = 0; k < 10; k++)
		t_expect(t, ".", S(k), 1001, T_MSS);
	t_expect_nothing(t);
	return t;
}

struct conn_rate {
	uint64_t rate;
	int seen;
};

static void conn_fn(void *ctx, const struct synack_conn *c)
{
	struct conn_rate *r = ctx;
	if (c->congestion[0]) {
		r->rate = c->delivery_rate;
		r->seen++;
	}
}

/* Before any ACK there is no sample; the first window, acknowledged 20 ms
 * after it left, gives 14600 bytes over 20 ms, app-limited: the
 * application had queued less than a segment beyond what was in flight
 * (nothing) when it wrote, as Linux marks a connection's first flight. */
static void first_window_is_app_limited(void)
{
	struct t *t = sender(10);
	CHECK_EQ(t_info(t).delivery_rate, 0);
	t_at(t, 40);
	t_peer(t, ".", 1001, S(10), 0);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.delivery_rate, 14600ull * 1000000 / 20000);
	CHECK_EQ(i.delivery_rate_app_limited, 1);
	struct conn_rate r = {0, 0};
	synack_conns(t->st, conn_fn, &r);
	CHECK_EQ(r.seen, 1);
	CHECK_EQ(r.rate, i.delivery_rate);
	t_free(t);
}

/* The next round: 12 segments sent at 40 ms on the ACK, acknowledged in
 * two ACKs at 60 ms.  The sample is the newest segment's: 17520 bytes
 * delivered since it left, over the 20 ms of the ACK phase (the send
 * phase took no time), and no longer app-limited (the application had
 * more queued than cwnd allowed). */
static void next_round_measures_the_path(void)
{
	struct t *t = sender(40);
	t_at(t, 40);
	t_peer(t, ".", 1001, S(10), 0);
	for (int k = 10; k < 22; k++)
		t_expect(t, ".", S(k), 1001, T_MSS);
	t_at(t, 60);
	t_peer(t, ".", 1001, S(16), 0);
	t_drain(t); /* what the ACK released */
	t_peer(t, ".", 1001, S(22), 0);
	t_drain(t);
	struct synack_tcp_info i = t_info(t);
	CHECK_EQ(i.delivery_rate, 17520ull * 1000000 / 20000);
	CHECK_EQ(i.delivery_rate_app_limited, 0);
	t_free(t);
}

int main(void)
{
	RUN(first_window_is_app_limited);
	RUN(next_round_measures_the_path);
	return check_summary("test_rate");
}
