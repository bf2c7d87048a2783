/*
 * Pacing (issue 13, src/tcp/tcp_pacing.c), segment by segment: the first
 * ten segments leave unpaced; after that what an ACK releases leaves at
 * max(cwnd, flight) / SRTT x pacing_ss_ratio % in bursts of about a
 * millisecond (at least two segments), the rest sent by the pacing timer;
 * the ratios and the `pacing` setting change that; an RTT below our
 * clock's tick paces nothing (test_cli's transfer_in_no_time).
 */
#include <string.h>

#include "script.h"

#define S(k) (T_ISS + 1 + (uint32_t)(k)*T_MSS)

static void reno(struct synack_config *cfg)
{
	snprintf(cfg->congestion_control, sizeof(cfg->congestion_control), "reno");
	cfg->hystart = 0;
}

/* An active open whose handshake took 20 ms, 40 segments queued: the
 * initial window (10 segments, unpaced) leaves at once. */
static struct t *sender(void (*tune)(struct synack_config *))
{
	struct synack_config cfg;
	t_config(&cfg);
	reno(&cfg);
	if (tune)
		tune(&cfg);
	struct t *t = t_new_with(&cfg);
	t_at(t, 0);
	t_connect(t);
	t_expect(t, "S", T_ISS, 0, 0);
	t_at(t, 20);
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_send(t, 40 * T_MSS);
	for (int k = 0; k < 10; k++)
		t_expect(t, ".", S(k), 1001, T_MSS);
	t_expect_nothing(t);
	return t;
}

/* The initial window is acknowledged 20 ms after it left (one ACK for all
 * ten: the records' RTT sample is 20 ms); Reno's slow start (RFC 5681 3.1,
 * at most 2 SMSS per ACK) makes cwnd 12 segments, all of which may leave.  Returns how many left at
 * each millisecond from then on, up to 19 ms later, in got[]. */
static int release(struct t *t, int got[20])
{
	int total = 0;
	t_at(t, 40);
	t_peer(t, ".", 1001, S(10), 0);
	for (int ms = 0; ms < 20; ms++) {
		if (ms)
			t_at(t, 40 + (uint64_t)ms);
		got[ms] = t_drain(t);
		total += got[ms];
	}
	return total;
}

static void pacing_off(struct synack_config *cfg)
{
	cfg->pacing = 0;
}

/* pacing 0: what the ACK releases leaves in one burst. */
static void unpaced_burst(void)
{
	int got[20];
	struct t *t = sender(pacing_off);
	CHECK_EQ(release(t, got), 12);
	CHECK_EQ(got[0], 12);
	t_free(t);
}

/*
 * Paced at 200 % of cwnd / SRTT in slow start (ssthresh is infinite):
 * 12 segments of 1460 bytes per 20 ms at twice that rate, 0.83 ms apart
 * (the first after the idle time half that, Linux's credit), in bursts of
 * two segments' time (the rate's 1 ms of data, 1.7 KB, is less than the
 * two segments Linux's autosizing allows at least): three leave at once
 * (the third within the burst's time), then three every 2.5 ms, all of
 * them within the 10 ms that half the round trip gives.
 */
static void paced_in_slow_start(void)
{
	int got[20];
	struct t *t = sender(NULL);
	CHECK_EQ(release(t, got), 12);
	CHECK_EQ(got[0], 3);
	int spread = 0, last = 0;
	for (int ms = 0; ms < 20; ms++) {
		CHECK(got[ms] <= 3);
		spread += got[ms] > 0;
		if (got[ms])
			last = ms;
	}
	CHECK_EQ(spread, 4);
	CHECK(last >= 7 && last <= 10);
	t_free(t);
}

/* pacing_ss_ratio 100: the same 12 segments at cwnd / SRTT take most of
 * the round trip (three every 5 ms). */
static void ss_ratio_100(struct synack_config *cfg)
{
	cfg->pacing_ss_ratio = 100;
}

static void ss_ratio_slows_slow_start(void)
{
	int got[20];
	struct t *t = sender(ss_ratio_100);
	CHECK_EQ(release(t, got), 12);
	CHECK_EQ(got[0], 3);
	int last = 0;
	for (int ms = 0; ms < 20; ms++)
		if (got[ms])
			last = ms;
	CHECK(last >= 13);
	t_free(t);
}

/* The settings are checked. */
static void settings_are_bounded(void)
{
	struct synack_config cfg;
	char err[200];
	t_config(&cfg);
	CHECK_EQ(cfg.pacing, 1u);
	CHECK_EQ(cfg.pacing_ss_ratio, 200u);
	CHECK_EQ(cfg.pacing_ca_ratio, 120u);
	cfg.pacing = 2;
	CHECK_EQ(synack_config_check(&cfg, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "pacing: 2") != NULL);
	cfg.pacing = 1;
	cfg.pacing_ss_ratio = 0;
	CHECK_EQ(synack_config_check(&cfg, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "pacing_ss_ratio") != NULL);
	cfg.pacing_ss_ratio = 200;
	cfg.pacing_ca_ratio = 1001;
	CHECK_EQ(synack_config_check(&cfg, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "pacing_ca_ratio") != NULL);
}

int main(void)
{
	RUN(unpaced_burst);
	RUN(paced_in_slow_start);
	RUN(ss_ratio_slows_slow_start);
	RUN(settings_are_bounded);
	return check_summary("test_pacing");
}
