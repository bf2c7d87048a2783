/*
 * The congestion control algorithms synack knows, and what they share.
 */
#include <string.h>

#include "tcp/tcp.h"

static const struct tcp_cc_ops *const algorithms[] = {&tcp_cc_reno};

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
		if (strcmp(algorithms[i]->name, name) == 0)
			return algorithms[i];
	return NULL;
}

const char *tcp_cc_names(void)
{
	return "reno";
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
