/*
 * The congestion control algorithms synack knows, what they share (the
 * initial window, slow start, the restart window), and the delivery of
 * recovery's signals to the connection's algorithm.
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

static uint32_t initial_window(const struct tcb *tcb)
{
	return ENV(tcb->st)->cfg.init_cwnd * tcb->snd_mss;
}

void tcp_cc_init(struct tcb *tcb)
{
	const struct tcp_layer *st = tcb->st;
	/* The configuration was checked; when the name is not found (never)
	 * the first algorithm, Reno, is used. */
	int i = cc_index(ENV(st)->cfg.congestion_control);
	tcb->cc_algo = i < 0 ? 0 : (uint8_t)i;
	/* RFC 5681 3.1: IW (RFC 6928: init_cwnd segments), but one segment
	 * when the SYN or SYN-ACK had to be sent again. */
	tcb->cwnd = tcb->total_retrans ? tcb->snd_mss : initial_window(tcb);
	tcb->ssthresh = UINT32_MAX; /* "arbitrarily high" */
	tcp_recovery_init(tcb);
	cc_ops(tcb)->init(tcb, ENV(st)->now);
}

void tcp_cc_ack(struct tcb *tcb, const struct tcp_cc_ack *ack)
{
	cc_ops(tcb)->ack(tcb, ack);
}

uint32_t tcp_cc_ssthresh(struct tcb *tcb, const struct tcp_cc_event *ev)
{
	return cc_ops(tcb)->ssthresh(tcb, ev);
}

void tcp_cc_event(struct tcb *tcb, const struct tcp_cc_event *ev)
{
	if (cc_ops(tcb)->event)
		cc_ops(tcb)->event(tcb, ev);
}

void tcp_cc_idle_restart(struct tcb *tcb, const struct tcp_cc_event *ev)
{
	/* RFC 5681 4.1: slow start again from RW = min(IW, cwnd). */
	uint32_t iw = initial_window(tcb);
	if (tcb->cwnd > iw)
		tcb->cwnd = iw;
	tcp_cc_event(tcb, ev);
}
