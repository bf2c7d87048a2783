/*
 * CUBIC congestion control (RFC 9438), the default.
 *
 * After a reduction the window follows a cubic function of the time t
 * since congestion avoidance began (section 4.2):
 *
 *	W_cubic(t) = C * (t - K)^3 + W_max          (eq. 1)
 *	K = cubic_root((W_max - cwnd_epoch) / C)     (eq. 2)
 *
 * with C = 0.4 and W in segments, t and K in seconds: concave up to W_max,
 * a plateau around it, convex beyond (4.4, 4.5).  Where Reno would do
 * better (short RTTs, small windows) the window follows Reno's estimate
 * W_est instead (the Reno-friendly region, 4.3).  On congestion, loss or
 * ECN alike, cwnd falls to beta_cubic = 0.7 of the flight (4.6), and W_max
 * is lowered further when the window had not reached the previous one
 * (fast convergence, 4.7).
 *
 * All of it is integer arithmetic: windows in bytes, t and K in 1/1024 s
 * (as Linux's BICTCP_HZ), the cube root by the bitwise method.  The time
 * comes with each signal.  Slow start is HyStart++ (RFC 9406,
 * tcp_hystart.c).
 */
#include "tcp/tcp.h"

/* beta_cubic = 7/10, C = 4/10 (RFC 9438 4.6, 5). */
#define BETA_NUM 7u
#define BETA_DEN 10u
/* alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic) = 9/17 (4.3). */
#define ALPHA_NUM 9u
#define ALPHA_DEN 17u
/* t and K in units of 1/1024 s. */
#define CUBIC_HZ_SHIFT 10
/* |t - K| is bounded where its cube would overflow (about 17 minutes):
 * by then the target is clamped to 1.5 cwnd anyway. */
#define OFFS_MAX (1u << 20)

enum {
	CUBIC_EPOCH = 1 << 0,     /* epoch_ms, k and w_est hold a CA stage */
	CUBIC_AFTER_RTO = 1 << 1, /* the next CA stage is the first after a timeout (4.8) */
};

struct cubic {
	struct tcp_hystart hystart;
	uint32_t epoch_ms;    /* the start of the current CA stage (ms, wraps) */
	uint32_t k;           /* K, 1/1024 s */
	uint32_t w_max;       /* W_max in bytes (0: no congestion event yet) */
	uint32_t w_max_prior; /* W_max before the last reduction (4.9) */
	uint32_t cwnd_prior;  /* cwnd before the last reduction (4.6) */
	uint32_t w_est;       /* W_est in bytes (4.3) */
	uint64_t w_est_frac;  /* W_est's fraction: units of 1 / (ALPHA_DEN * cwnd) byte */
	uint32_t acked;       /* bytes acknowledged toward the next SMSS of growth */
	uint8_t flags;
};
TCP_CC_PRIV_FITS(struct cubic);

static struct cubic *cubic(struct tcb *tcb)
{
	return tcp_cc_priv(tcb);
}

/* floor(cbrt(x)), digit by digit (three bits at a time). */
uint32_t tcp_cubic_root(uint64_t x)
{
	uint64_t y = 0;
	for (int s = 63; s >= 0; s -= 3) {
		y <<= 1;
		uint64_t b = 3 * y * (y + 1) + 1;
		if ((x >> s) >= b) {
			x -= b << s;
			y++;
		}
	}
	return (uint32_t)y;
}

uint32_t tcp_cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss)
{
	if (cwnd_epoch >= w_max || mss == 0)
		return 0;
	/* K = cbrt((W_max - cwnd_epoch) / (C * SMSS)) s; in 1/1024 s that
	 * is cbrt(diff / SMSS * 5/2 * 2^30) = cbrt(diff * 5 * 2^29 / SMSS),
	 * below 2^64 for any 32-bit diff. */
	uint64_t diff = w_max - cwnd_epoch;
	return tcp_cubic_root((diff * 5u << 29) / mss);
}

uint64_t tcp_cubic_window(uint32_t w_max, uint32_t k, uint64_t t, uint32_t mss)
{
	/* C * (t - K)^3 segments: 0.4 * offs^3 / 2^30, or in SMSS/1024
	 * (offs^3 / 5) >> 19. */
	uint64_t offs = t > k ? t - k : k - t;
	if (offs > OFFS_MAX)
		offs = OFFS_MAX;
	uint64_t delta = ((offs * offs * offs / 5) >> 19) * mss >> CUBIC_HZ_SHIFT;
	if (t >= k)
		return w_max + delta;
	return delta < w_max ? w_max - delta : 0;
}

static void cubic_init(struct tcb *tcb, uint64_t now)
{
	(void)now;
	struct cubic *c = cubic(tcb);
	tcp_hystart_init(tcb, &c->hystart);
	c->epoch_ms = 0;
	c->k = 0;
	c->w_max = 0;
	c->w_max_prior = 0;
	c->cwnd_prior = 0;
	c->w_est = 0;
	c->w_est_frac = 0;
	c->acked = 0;
	c->flags = 0;
}

/* The start of a congestion avoidance stage (4.2): t counts from here;
 * K from W_max and cwnd_epoch (eq. 2), or 0 with W_max = cwnd when cwnd
 * is already there (no congestion event yet, or after a timeout, 4.8);
 * W_est starts at cwnd_epoch (4.3). */
static void epoch_start(struct tcb *tcb, struct cubic *c, uint64_t now)
{
	c->flags |= CUBIC_EPOCH;
	c->epoch_ms = (uint32_t)(now / 1000);
	if ((c->flags & CUBIC_AFTER_RTO) || c->w_max <= tcb->cwnd) {
		c->w_max = tcb->cwnd;
		c->k = 0;
	} else {
		c->k = tcp_cubic_k(c->w_max, tcb->cwnd, tcb->snd_mss);
	}
	c->flags &= (uint8_t)~CUBIC_AFTER_RTO;
	c->w_est = tcb->cwnd;
	c->w_est_frac = 0;
	c->acked = 0;
}

/* W_est += alpha_cubic * segments_acked / cwnd (in segments, eq. 4), in
 * bytes: alpha * acked * SMSS / cwnd; alpha is 1 once W_est reached the
 * window before the reduction (4.3). */
static void reno_estimate(struct tcb *tcb, struct cubic *c, uint32_t acked)
{
	uint32_t num = ALPHA_NUM, den = ALPHA_DEN;
	if (c->w_est >= c->cwnd_prior)
		num = den = 1;
	uint64_t unit = (uint64_t)den * tcb->cwnd;
	uint64_t x = (uint64_t)num * acked * tcb->snd_mss + c->w_est_frac;
	uint64_t w = c->w_est + x / unit;
	c->w_est = w < UINT32_MAX ? (uint32_t)w : UINT32_MAX;
	c->w_est_frac = x % unit;
}

/* Congestion avoidance (4.2-4.5) for an ACK of acked bytes. */
static void cubic_avoid(struct tcb *tcb, struct cubic *c, uint32_t acked, uint64_t now)
{
	if (!(c->flags & CUBIC_EPOCH))
		epoch_start(tcb, c, now);
	uint32_t mss = tcb->snd_mss;
	uint64_t t_ms = (uint32_t)(now / 1000) - c->epoch_ms;
	uint64_t t = (t_ms << CUBIC_HZ_SHIFT) / 1000;
	uint64_t rtt = ((uint64_t)tcb->srtt_us << CUBIC_HZ_SHIFT) / 1000000;
	reno_estimate(tcb, c, acked);
	/* 4.3: in the Reno-friendly region, when W_cubic(t) < W_est, cwnd
	 * is set to W_est (here, the whole segments of it). */
	if (tcp_cubic_window(c->w_max, c->k, t, mss) < c->w_est) {
		uint32_t w = c->w_est - c->w_est % mss;
		if (w > tcb->cwnd)
			tcb->cwnd = w;
		return;
	}
	/* 4.4, 4.5: concave and convex regions alike.  The target is
	 * W_cubic(t + RTT), at least cwnd and at most 1.5 cwnd (4.2); cwnd
	 * grows by (target - cwnd) / cwnd per segment acknowledged, here one
	 * SMSS per cwnd * SMSS / (target - cwnd) bytes acknowledged. */
	uint64_t target = tcp_cubic_window(c->w_max, c->k, t + rtt, mss);
	uint64_t most = (uint64_t)tcb->cwnd + tcb->cwnd / 2;
	if (target > most)
		target = most;
	if (target <= tcb->cwnd)
		return;
	uint64_t per_smss = (uint64_t)tcb->cwnd * mss / (target - tcb->cwnd);
	if (per_smss == 0)
		per_smss = 1;
	uint64_t sum = (uint64_t)c->acked + acked;
	uint64_t inc = sum / per_smss * mss;
	sum %= per_smss;
	c->acked = (uint32_t)sum;
	uint64_t w = tcb->cwnd + inc;
	tcb->cwnd = w < UINT32_MAX ? (uint32_t)w : UINT32_MAX;
}

static void cubic_ack(struct tcb *tcb, const struct tcp_cc_ack *a)
{
	/* As Reno: in fast recovery, recovery's arithmetic sets cwnd. */
	if (a->ca_state == SYNACK_CA_RECOVERY)
		return;
	struct cubic *c = cubic(tcb);
	uint32_t acked = a->acked;
	if (tcb->cwnd < tcb->ssthresh) {
		acked = tcp_hystart_ack(tcb, &c->hystart, a);
		if (acked == 0)
			return;
	}
	if (!tcp_cc_cwnd_limited(tcb, a->flight_before))
		return;
	cubic_avoid(tcb, c, acked, a->now);
}

/* 4.6 and 4.7: a congestion event, from loss or ECN alike. */
static uint32_t cubic_ssthresh(struct tcb *tcb, const struct tcp_cc_event *ev)
{
	struct cubic *c = cubic(tcb);
	tcp_hystart_stop(&c->hystart);
	/* 4.9: what an undo restores, unless an earlier reduction of the
	 * same episode saved it already (a later undo goes back to before
	 * the first, as Linux's prior_cwnd and bictcp's undo state). */
	if (!ev->undo_kept) {
		c->w_max_prior = c->w_max;
		c->cwnd_prior = tcb->cwnd;
	}
	/* 4.7: fast convergence. */
	if (tcb->cwnd < c->w_max)
		c->w_max = (uint32_t)((uint64_t)tcb->cwnd * (BETA_DEN + BETA_NUM) / (2 * BETA_DEN));
	else
		c->w_max = tcb->cwnd;
	c->flags &= (uint8_t)~CUBIC_EPOCH;
	/* 4.6: ssthresh = flight_size * beta_cubic, at least two segments
	 * (RFC 5681 3.1's floor, which 4.6 keeps). */
	uint32_t w = (uint32_t)((uint64_t)ev->flight * BETA_NUM / BETA_DEN);
	uint32_t floor = 2 * tcb->snd_mss;
	return w > floor ? w : floor;
}

static void cubic_event(struct tcb *tcb, const struct tcp_cc_event *ev)
{
	struct cubic *c = cubic(tcb);
	switch (ev->signal) {
	case CC_SIG_RTO:
		/* 4.8: after a timeout slow start runs to ssthresh; the first
		 * CA stage after it starts with K = 0 and W_max = cwnd. */
		tcp_hystart_stop(&c->hystart);
		c->flags = (uint8_t)((c->flags & ~CUBIC_EPOCH) | CUBIC_AFTER_RTO);
		break;
	case CC_SIG_IDLE_RESTART:
		/* The window restarts from RW; a new CA stage follows. */
		c->flags &= (uint8_t)~CUBIC_EPOCH;
		break;
	default:
		break;
	}
}

/* 4.9: the reduction was spurious; W_max goes back, and a new CA stage
 * starts from the cwnd restored. */
static uint32_t cubic_undo_cwnd(struct tcb *tcb)
{
	struct cubic *c = cubic(tcb);
	c->w_max = c->w_max_prior;
	c->flags &= (uint8_t) ~(CUBIC_EPOCH | CUBIC_AFTER_RTO);
	return c->cwnd_prior > tcb->cwnd ? c->cwnd_prior : tcb->cwnd;
}

static void cubic_info(const struct tcb *tcb, struct synack_tcp_info *info)
{
	const struct cubic *c = (const struct cubic *)tcb->sender->cc_priv;
	info->cubic_wmax = c->w_max;
	info->cubic_k_ms = (uint32_t)(((uint64_t)c->k * 1000) >> CUBIC_HZ_SHIFT);
	info->hystart = c->hystart.phase;
}

const struct tcp_cc_ops tcp_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .ack = cubic_ack,
    .ssthresh = cubic_ssthresh,
    .event = cubic_event,
    .undo_cwnd = cubic_undo_cwnd,
    .info = cubic_info,
};
