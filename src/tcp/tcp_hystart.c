/*
 * HyStart++ (RFC 9406): slow start that watches the round trip time and,
 * when it rises by more than a threshold between rounds, leaves standard
 * slow start for Conservative Slow Start (CSS) before the queue overflows;
 * if the RTT falls again the exit was spurious and slow start resumes.
 * After CSS_ROUNDS rounds of CSS the connection goes to congestion
 * avoidance.  Only the initial slow start uses it (RFC 9406 4.3); it is
 * CC-neutral, so any algorithm keeps a struct tcp_hystart in its area.
 *
 * A round (RFC 9406 4.2) ends when windowEnd, SND.NXT at the round's
 * start, is acknowledged.  Every ACK that gives an RTT sample (tcp_cc_ack.rtt_us,
 * one per ACK: the newest segment acknowledged) counts.
 *
 * Shallow queues (issue 13).  The RFC compares the minimum RTT of a
 * round's first samples with the last round's.  A round's samples are
 * those of the segments sent in the round before, and a paced sender's
 * queue builds within a round: its first segments leave into what the
 * round before left queued, which in slow start is still nothing in the
 * round where cwnd passes the path's BDP.  So on a queue of one BDP the
 * RFC's signal comes one round late, when cwnd has doubled past BDP plus
 * queue (20 ms and 100 Mbit/s: exit planned at 630 segments, the path
 * holds 338).  The setting hystart_detect chooses the signals:
 *   1  the RFC's delay increase between rounds, into CSS;
 *   2  the same increase, measured within the round: the minimum of each
 *      group of N_RTT_SAMPLE samples against the last round's minimum,
 *      so the queue is seen while it builds.  It is a paced sender's
 *      signal only (unpaced bursts queue behind themselves at any
 *      cwnd).  A sample is a round trip old: by the time it shows the
 *      increase, cwnd has grown by the round trip's ACKs and covers the
 *      path, so that slow start ends there (ssthresh = cwnd) as Linux's
 *      ACK train does (tcp_cubic.c HYSTART_ACK_TRAIN) rather than going
 *      on into CSS, whose 5 rounds of 25 % would overflow the queue.
 *      A pause is no queue (a real path's jitter): when the ACKs stop
 *      for RttThresh / 4 or longer (and longer than a group of ACKs
 *      normally spans), and the first sample after the gap is the delay
 *      increase, the path or this host held them (a user-space forwarder
 *      or this process descheduled for milliseconds) and they now arrive
 *      in one burst, every sample carrying the pause.  The groups skip
 *      the samples of the pause's shadow, as long after it as the first
 *      sample's excess over lastRoundMinRTT (a pause right after a
 *      shadow starts another).  A queue that the window builds shows in
 *      samples that come without such a gap.  (Through synack bridge at
 *      1 Gbit/s and 200 ms, the ACKs of a 29 ms pause arrived at one
 *      instant, each sample 229 ms against 200, and ended slow start at
 *      0.97 x BDP, another run's at 0.54 x BDP; CUBIC's growth from
 *      there at 200 ms takes seconds, so the path stayed half empty for
 *      the whole measured run.)
 */
#include "tcp/tcp.h"

/* RFC 9406 4.3, the constants. */
#define MIN_RTT_THRESH 4000u  /* 4 ms, in microseconds */
#define MAX_RTT_THRESH 16000u /* 16 ms */
#define MIN_RTT_DIVISOR 8u
#define N_RTT_SAMPLE 8u
#define CSS_GROWTH_DIVISOR 4u
#define CSS_ROUNDS 5u
/* Bound on the per-ACK increase in SMSS: 8 for a sender that does not pace. */
#define L 8u

#define RTT_INFINITY UINT32_MAX
/* tcp_hystart.group_count: the samples are in a pause's shadow. */
#define GROUP_PAUSED 0x80u

_Static_assert((int)HYSTART_OFF == (int)SYNACK_HYSTART_OFF &&
                   (int)HYSTART_SS == (int)SYNACK_HYSTART_SS &&
                   (int)HYSTART_CSS == (int)SYNACK_HYSTART_CSS,
               "synack_tcp_info.hystart shows the phase as it is");

void tcp_hystart_init(struct tcb *tcb, struct tcp_hystart *h)
{
	/* RFC 9406 4.3: only while ssthresh is at its initial, arbitrarily
	 * high value, and only when the setting allows it. */
	int on = ENV(tcb->st)->cfg.hystart && tcb->ssthresh == UINT32_MAX;
	h->phase = (uint8_t)(on ? HYSTART_SS : HYSTART_OFF);
	h->window_end = tcb->snd_nxt;
	h->last_round_min_rtt = RTT_INFINITY;
	h->cur_round_min_rtt = RTT_INFINITY;
	h->group_at_us = (uint32_t)ENV(tcb->st)->now;
	h->rtt_sample_count = 0;
	h->css_rounds = 0;
	h->group_count = 0;
	h->group_min_rtt = RTT_INFINITY;
}

/* RFC 9406 4.2: at the start of each round in slow start and CSS. */
static void round_start(struct tcb *tcb, struct tcp_hystart *h)
{
	h->last_round_min_rtt = h->cur_round_min_rtt;
	h->cur_round_min_rtt = RTT_INFINITY;
	h->rtt_sample_count = 0;
	h->group_count &= GROUP_PAUSED; /* a pause's shadow goes on */
	h->group_min_rtt = RTT_INFINITY;
	h->window_end = tcb->snd_nxt;
	if (h->phase != HYSTART_CSS)
		return;
	/* CSS lasts at most CSS_ROUNDS rounds, the partial round it began
	 * in counting; then congestion avoidance: ssthresh = cwnd. */
	if (h->css_rounds >= CSS_ROUNDS) {
		tcb->ssthresh = tcb->cwnd;
		h->phase = HYSTART_OFF;
		return;
	}
	h->css_rounds++;
}

/* RFC 9406 4.2: RttThresh = clamp(lastRoundMinRTT / MIN_RTT_DIVISOR,
 * MIN_RTT_THRESH, MAX_RTT_THRESH). */
static uint32_t rtt_thresh(const struct tcp_hystart *h)
{
	uint32_t thresh = h->last_round_min_rtt / MIN_RTT_DIVISOR;
	if (thresh > MAX_RTT_THRESH)
		thresh = MAX_RTT_THRESH;
	if (thresh < MIN_RTT_THRESH)
		thresh = MIN_RTT_THRESH;
	return thresh;
}

/* RFC 9406 4.2: is rtt, the minimum of at least N_RTT_SAMPLE samples of
 * this round, the delay increase that ends standard slow start? */
static int delay_increased(const struct tcp_hystart *h, uint32_t rtt)
{
	if (rtt == RTT_INFINITY || h->last_round_min_rtt == RTT_INFINITY)
		return 0;
	return (uint64_t)rtt >= (uint64_t)h->last_round_min_rtt + rtt_thresh(h);
}

/* The shortest gap in the ACKs that is a pause: RttThresh / 4, and at
 * least the time a group of N_RTT_SAMPLE ACKs (of 2 segments each, as a
 * delayed ACK covers) spans at the window's rate, cwnd per
 * lastRoundMinRTT (on a slow link the ACKs of a queue that builds come
 * that far apart: at 10 Mbit/s, 2.4 ms). */
static uint32_t pause_gap(const struct tcb *tcb, const struct tcp_hystart *h)
{
	uint64_t group = (uint64_t)N_RTT_SAMPLE * 2 * tcb->snd_mss * h->last_round_min_rtt /
	                 (tcb->cwnd ? tcb->cwnd : 1);
	uint32_t gap = rtt_thresh(h) / 4;
	return group > gap ? (uint32_t)(group < UINT32_MAX ? group : UINT32_MAX) : gap;
}

/* hystart_detect 2: the minimum of the group of N_RTT_SAMPLE samples the
 * sample rtt completes, when it is the delay increase; the samples in a
 * pause's shadow count in no group. */
static int group_delay_increased(const struct tcb *tcb, struct tcp_hystart *h, uint32_t rtt)
{
	uint32_t now = (uint32_t)ENV(tcb->st)->now;
	if (h->group_count & GROUP_PAUSED) {
		if ((int32_t)(now - h->group_at_us) < 0)
			return 0;
		h->group_count = 0; /* the gap is from the shadow's end */
	}
	if (delay_increased(h, rtt) && now - h->group_at_us >= pause_gap(tcb, h)) {
		/* The ACKs paused and this first one after the gap carries
		 * the pause: the shadow lasts as long as its excess delay. */
		h->group_count = GROUP_PAUSED;
		h->group_min_rtt = RTT_INFINITY;
		h->group_at_us = now + (rtt - h->last_round_min_rtt);
		return 0;
	}
	h->group_at_us = now;
	if (rtt < h->group_min_rtt)
		h->group_min_rtt = rtt;
	if (++h->group_count < N_RTT_SAMPLE)
		return 0;
	uint32_t group = h->group_min_rtt;
	h->group_count = 0;
	h->group_min_rtt = RTT_INFINITY;
	return tcb->sender->pace_rate && delay_increased(h, group);
}

uint32_t tcp_hystart_ack(struct tcb *tcb, struct tcp_hystart *h, const struct tcp_cc_ack *a)
{
	int limited = tcp_cc_cwnd_limited(tcb, a->flight_before);
	/* The round ends once windowEnd is acknowledged: the first ACK
	 * beyond it (as Linux's after(snd_una, end_seq)) is for a segment
	 * sent in the new round, and its sample belongs to it. */
	if (h->phase != HYSTART_OFF && seq_gt(tcb->snd_una, h->window_end))
		round_start(tcb, h);
	if (h->phase == HYSTART_OFF || tcb->cwnd >= tcb->ssthresh)
		return limited ? tcp_cc_slow_start(tcb, a->acked) : 0;
	uint32_t detect = ENV(tcb->st)->cfg.hystart_detect;
	int group_delay = 0;
	if (a->rtt_us) {
		if (a->rtt_us < h->cur_round_min_rtt)
			h->cur_round_min_rtt = a->rtt_us;
		if (h->rtt_sample_count < UINT8_MAX)
			h->rtt_sample_count++;
		if (h->phase == HYSTART_SS && (detect & SYNACK_HYSTART_DETECT_ROUND_DELAY))
			group_delay = group_delay_increased(tcb, h, a->rtt_us);
	}
	if (limited) {
		/* cwnd = cwnd + min(N, L * SMSS), divided by
		 * CSS_GROWTH_DIVISOR in CSS. */
		uint64_t inc =
		    a->acked < (uint64_t)L * tcb->snd_mss ? a->acked : (uint64_t)L * tcb->snd_mss;
		if (h->phase == HYSTART_CSS)
			inc /= CSS_GROWTH_DIVISOR;
		uint64_t w = tcb->cwnd + inc;
		tcb->cwnd = w < tcb->ssthresh ? (uint32_t)w : tcb->ssthresh;
	}
	if (group_delay) {
		tcb->ssthresh = tcb->cwnd;
		h->phase = HYSTART_OFF;
		STAT_INC(tcb->st, TCPHystartRoundDetect);
		ENV(tcb->st)->stats.TCPHystartRoundCwnd += tcb->cwnd / tcb->snd_mss;
	} else if (h->phase == HYSTART_SS && (detect & SYNACK_HYSTART_DETECT_DELAY) &&
	           h->rtt_sample_count >= N_RTT_SAMPLE &&
	           delay_increased(h, h->cur_round_min_rtt)) {
		h->css_baseline_min_rtt = h->cur_round_min_rtt;
		h->phase = HYSTART_CSS;
		h->css_rounds = 1;
		STAT_INC(tcb->st, TCPHystartDelayDetect);
		ENV(tcb->st)->stats.TCPHystartDelayCwnd += tcb->cwnd / tcb->snd_mss;
	} else if (h->phase == HYSTART_CSS && h->rtt_sample_count >= N_RTT_SAMPLE &&
	           h->cur_round_min_rtt < h->css_baseline_min_rtt) {
		/* The RTT fell below the baseline: the exit was spurious;
		 * slow start resumes, HyStart++ included. */
		h->phase = HYSTART_SS;
		h->group_count = 0;
		h->group_min_rtt = RTT_INFINITY;
		h->group_at_us = (uint32_t)ENV(tcb->st)->now; /* (CSS's baseline till now) */
	}
	return 0;
}
