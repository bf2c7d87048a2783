/*
 * The congestion control algorithms synack knows, and what they share.
 */
#include <string.h>

#include "tcp/tcp.h"

static const struct tcp_cc_ops *const algorithms[] = {&tcp_cc_reno};
_Static_assert(sizeof(algorithms) / sizeof(algorithms[0]) <= 256, "tcb->cc_algo is 8 bits");

/* The algorithm's place in the list, or -1 when there is none by that name. */
static int cc_index(const char *name)
{
	for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
		if (strcmp(algorithms[i]->name, name) == 0)
			return (int)i;
	return -1;
}

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	int i = cc_index(name);
	return i < 0 ? NULL : algorithms[i];
}

/* The algorithm a connection uses (tcb->cc_algo indexes the list). */
static const struct tcp_cc_ops *cc_ops(const struct tcb *tcb)
{
	return algorithms[tcb->cc_algo];
}

const char *tcp_cc_name(size_t i)
{
	return i < sizeof(algorithms) / sizeof(algorithms[0]) ? algorithms[i]->name : NULL;
}

uint32_t tcp_cc_flight(const struct tcb *tcb)
{
	return tcb->snd_max - tcb->snd_una;
}

uint32_t tcp_cc_slow_start(struct tcb *tcb, uint32_t acked)
{
	if (tcb->cwnd >= tcb->ssthresh)
		return acked;
	/* RFC 3465 2.2: grow by the bytes acknowledged, at most L = 2 SMSS
	 * per ACK, and no further than ssthresh. */
	uint32_t inc = acked < 2 * tcb->snd_mss ? acked : 2 * tcb->snd_mss;
	uint32_t room = tcb->ssthresh - tcb->cwnd;
	if (inc > room)
		inc = room;
	tcb->cwnd += inc;
	return tcb->cwnd >= tcb->ssthresh ? acked - inc : 0;
}

/* ------------------------------------------------------------------ */
/* Loss recovery, shared by every algorithm (RFC 5681, RFC 6582).      */

static uint32_t initial_window(const struct tcb *tcb)
{
	return tcb->st->cfg.init_cwnd * tcb->snd_mss;
}

void tcp_cc_init(struct tcb *tcb)
{
	const struct synack_stack *st = tcb->st;
	/* The configuration was checked; when the name is not found (never)
	 * the first algorithm, Reno, is used. */
	int i = cc_index(st->cfg.congestion_control);
	tcb->cc_algo = i < 0 ? 0 : (uint8_t)i;
	/* RFC 5681 3.1: IW (RFC 6928: init_cwnd segments), but one segment
	 * when the SYN or SYN-ACK had to be sent again. */
	tcb->cwnd = tcb->total_retrans ? tcb->snd_mss : initial_window(tcb);
	tcb->ssthresh = UINT32_MAX; /* "arbitrarily high" */
	tcb->ca_state = SYNACK_CA_OPEN;
	tcb->dupacks = 0;
	tcb->recover = tcb->iss;
	cc_ops(tcb)->init(tcb);
}

static void cc_event(struct tcb *tcb, enum tcp_cc_event ev)
{
	if (cc_ops(tcb)->event)
		cc_ops(tcb)->event(tcb, ev);
}

void tcp_cc_idle_check(struct tcb *tcb)
{
	/* RFC 5681 4.1: after an idle period longer than the RTO, slow start
	 * again from RW = min(IW, cwnd). */
	if (tcb->snd_una != tcb->snd_max || tcb->st->now - tcb->last_send <= tcb->rto_us)
		return;
	uint32_t iw = initial_window(tcb);
	if (tcb->cwnd > iw)
		tcb->cwnd = iw;
	cc_event(tcb, CC_EVENT_IDLE_RESTART);
}

void tcp_cc_ack(struct tcb *tcb, uint32_t acked, uint32_t flight_before)
{
	tcb->dupacks = 0;
	tcb->limited_tx = 0;
	switch (tcb->ca_state) {
	case SYNACK_CA_RECOVERY:
		if (seq_geq(tcb->snd_una, tcb->recover)) {
			/* RFC 6582 3.2 step 3, full acknowledgment: deflate,
			 * cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS). */
			uint32_t flight = tcp_cc_flight(tcb);
			uint32_t w = (flight > tcb->snd_mss ? flight : tcb->snd_mss) + tcb->snd_mss;
			tcb->cwnd = w < tcb->ssthresh ? w : tcb->ssthresh;
			tcb->ca_state = SYNACK_CA_OPEN;
			cc_event(tcb, CC_EVENT_RECOVERY_EXIT);
			return;
		}
		/* Partial acknowledgment: the next hole is lost too.  Send it
		 * again, deflate by what was acknowledged, add back one SMSS
		 * if at least that much was (RFC 6582 3.2 step 4). */
		tcp_retransmit_head(tcb);
		tcb->cwnd = tcb->cwnd > acked ? tcb->cwnd - acked : 0;
		if (acked >= tcb->snd_mss)
			tcb->cwnd += tcb->snd_mss;
		if (tcb->cwnd < tcb->snd_mss)
			tcb->cwnd = tcb->snd_mss;
		return;
	case SYNACK_CA_LOSS:
		if (seq_geq(tcb->snd_una, tcb->recover))
			tcb->ca_state = SYNACK_CA_OPEN;
		break;
	default:
		break;
	}
	/* Grow only while cwnd is what limits sending: neither an
	 * application that sends little nor the peer's window may inflate
	 * it (RFC 7661 2, as Linux's tcp_is_cwnd_limited).  In slow start a
	 * flight of half the window counts too, since ACKs come back before
	 * the window fills. */
	int in_ss = tcb->cwnd < tcb->ssthresh;
	if (tcb->cwnd_limited ||
	    (in_ss && 2 * (uint64_t)flight_before >= tcb->cwnd && tcb->cwnd < tcb->snd_wnd))
		cc_ops(tcb)->cong_avoid(tcb, acked);
}

void tcp_cc_dupack(struct tcb *tcb)
{
	if (tcb->ca_state == SYNACK_CA_RECOVERY) {
		/* RFC 5681 3.2 step 4: each further duplicate ACK means a
		 * segment left the network; inflate cwnd by one SMSS. */
		tcb->cwnd += tcb->snd_mss;
		return;
	}
	if (tcb->ca_state == SYNACK_CA_LOSS)
		return; /* go-back-N after a timeout produces these */
	if (tcb->dupacks < 255)
		tcb->dupacks++;
	if (tcb->dupacks < 3) {
		/* RFC 3042 limited transmit: one new segment for each of the
		 * first two duplicate ACKs, outside cwnd. */
		tcb->limited_tx = tcb->dupacks * tcb->snd_mss;
		return;
	}
	if (tcb->dupacks > 3)
		return;
	/* RFC 6582 3.2 step 2: only when the ACK covers more than recover,
	 * so that one window's losses start one recovery. */
	if (!seq_gt(tcb->snd_una, tcb->recover))
		return;
	tcb->ssthresh = cc_ops(tcb)->ssthresh(tcb);
	tcb->recover = tcb->snd_max;
	tcb->ca_state = SYNACK_CA_RECOVERY;
	tcb->limited_tx = 0;
	STAT_INC(tcb->st, FastRetrans);
	tcp_retransmit_head(tcb);
	tcb->cwnd = tcb->ssthresh + 3 * tcb->snd_mss;
}

void tcp_cc_timeout(struct tcb *tcb)
{
	/* RFC 5681 3.1: ssthresh from equation (4) on the first timeout of
	 * a segment only; cwnd is one segment (the loss window).  RFC 6582
	 * 3.2 step 1 (after a timeout): recover = the highest sequence sent.
	 * Everything after snd_una is sent again (go-back-N) in slow start.
	 * Called before the timeout is counted in backoff. */
	if (tcb->backoff == 0)
		tcb->ssthresh = cc_ops(tcb)->ssthresh(tcb);
	tcb->cwnd = tcb->snd_mss;
	tcb->ca_state = SYNACK_CA_LOSS;
	tcb->recover = tcb->snd_max;
	tcb->dupacks = 0;
	tcb->limited_tx = 0;
	tcb->snd_nxt = tcb->snd_una;
	STAT_INC(tcb->st, Timeouts);
	cc_event(tcb, CC_EVENT_RTO);
}
