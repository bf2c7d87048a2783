/*
 * Reno congestion control (RFC 5681), the arithmetic NewReno (RFC 6582)
 * recovery uses: slow start to ssthresh, then one segment per window of
 * acknowledged data; on loss, half the flight size but at least two
 * segments.
 */
#include "tcp/tcp.h"

static void reno_init(struct tcb *tcb)
{
	tcb->cc_priv[0] = 0; /* bytes acknowledged toward the next increase */
}

static void reno_cong_avoid(struct tcb *tcb, uint32_t acked)
{
	acked = tcp_cc_slow_start(tcb, acked);
	if (acked == 0)
		return;
	/* RFC 5681 3.1, equation (3) done by byte counting (RFC 3465 2.1):
	 * cwnd grows by SMSS once a full cwnd of data has been acknowledged. */
	tcb->cc_priv[0] += acked;
	if (tcb->cc_priv[0] >= tcb->cwnd) {
		tcb->cc_priv[0] -= tcb->cwnd;
		tcb->cwnd += tcb->snd_mss;
	}
}

static uint32_t reno_ssthresh(struct tcb *tcb)
{
	/* RFC 5681 3.1, equation (4). */
	uint32_t half = tcp_cc_flight(tcb) / 2, floor = 2 * tcb->snd_mss;
	return half > floor ? half : floor;
}

static void reno_event(struct tcb *tcb, enum tcp_cc_event ev)
{
	(void)ev;
	tcb->cc_priv[0] = 0;
}

const struct tcp_cc_ops tcp_cc_reno = {
    .name = "reno",
    .init = reno_init,
    .cong_avoid = reno_cong_avoid,
    .ssthresh = reno_ssthresh,
    .event = reno_event,
};
