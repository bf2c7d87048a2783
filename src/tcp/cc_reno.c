/*
 * Reno congestion control (RFC 5681), the arithmetic NewReno (RFC 6582)
 * recovery uses: slow start to ssthresh, then one segment per window of
 * acknowledged data; on loss, half the flight size but at least two
 * segments.  The initial slow start is HyStart++ (RFC 9406, which is
 * CC-neutral) unless the hystart setting is 0.
 */
#include "tcp/tcp.h"

struct reno {
	struct tcp_hystart hystart;
	uint32_t acked; /* bytes acknowledged toward the next increase */
};
TCP_CC_PRIV_FITS(struct reno);

static struct reno *reno(struct tcb *tcb)
{
	return tcp_cc_priv(tcb);
}

static void reno_init(struct tcb *tcb, uint64_t now)
{
	(void)now;
	tcp_hystart_init(tcb, &reno(tcb)->hystart);
	reno(tcb)->acked = 0;
}

static void reno_ack(struct tcb *tcb, const struct tcp_cc_ack *a)
{
	/* In fast recovery NewReno's own arithmetic sets cwnd (RFC 6582
	 * 3.2); the window grows again once recovery is over. */
	if (a->ca_state == SYNACK_CA_RECOVERY)
		return;
	struct reno *r = reno(tcb);
	uint32_t acked = a->acked;
	if (tcb->cwnd < tcb->ssthresh) {
		acked = tcp_hystart_ack(tcb, &r->hystart, a);
		if (acked == 0)
			return;
	}
	if (!tcp_cc_cwnd_limited(tcb, a->flight_before))
		return;
	/* RFC 5681 3.1, equation (3) done by byte counting (RFC 3465 2.1):
	 * cwnd grows by SMSS once a full cwnd of data has been acknowledged. */
	r->acked += acked;
	if (r->acked >= tcb->cwnd) {
		r->acked -= tcb->cwnd;
		tcb->cwnd += tcb->snd_mss;
	}
}

static uint32_t reno_ssthresh(struct tcb *tcb, const struct tcp_cc_event *ev)
{
	/* RFC 5681 3.1, equation (4); the initial slow start is over. */
	tcp_hystart_stop(&reno(tcb)->hystart);
	uint32_t half = ev->flight / 2, floor = 2 * tcb->snd_mss;
	return half > floor ? half : floor;
}

static void reno_event(struct tcb *tcb, const struct tcp_cc_event *ev)
{
	/* A new window starts counting afresh after recovery, a timeout,
	 * an idle restart or an ECN reduction. */
	if (ev->signal == CC_SIG_RECOVERY_EXIT || ev->signal == CC_SIG_RTO ||
	    ev->signal == CC_SIG_IDLE_RESTART || ev->signal == CC_SIG_ECN_ECHO)
		reno(tcb)->acked = 0;
	if (ev->signal == CC_SIG_RTO)
		tcp_hystart_stop(&reno(tcb)->hystart);
}

static void reno_info(const struct tcb *tcb, struct synack_tcp_info *info)
{
	info->hystart = ((const struct reno *)tcb->sender->cc_priv)->hystart.phase;
}

const struct tcp_cc_ops tcp_cc_reno = {
    .name = "reno",
    .init = reno_init,
    .ack = reno_ack,
    .ssthresh = reno_ssthresh,
    .event = reno_event,
    .info = reno_info,
};
