/*
 * The congestion control algorithms synack knows, what they share (the
 * initial window, slow start, the restart window), and the delivery of
 * recovery's signals to the connection's algorithm.
 */
#include <stdio.h>
#include <string.h>

#include "tcp/tcp.h"

/* Reno first: it is what a connection falls back to. */
static const struct tcp_cc_ops *const algorithms[] = {&tcp_cc_reno, &tcp_cc_cubic};
_Static_assert(sizeof(algorithms) / sizeof(algorithms[0]) <= 256, "tcb->cc_algo is 8 bits");

int tcp_cc_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++)
		if (strcmp(algorithms[i]->name, name) == 0)
			return (int)i;
	return -1;
}

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	int i = tcp_cc_lookup(name);
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
	/* TCP_CONGESTION when the application set it, else the stack's
	 * congestion_control, both resolved to the index already. */
	tcb->cc_algo = tcb->opts.cc_algo ? (uint8_t)(tcb->opts.cc_algo - 1) : st->cc_default;
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

void tcp_cc_switch(struct tcb *tcb, uint8_t algo)
{
	/* Linux keeps cwnd and ssthresh and lets the new algorithm start
	 * from them; it is not slow start again. */
	tcb->cc_algo = algo;
	cc_ops(tcb)->init(tcb, ENV(tcb->st)->now);
}

uint32_t tcp_cc_undo_cwnd(struct tcb *tcb)
{
	return cc_ops(tcb)->undo_cwnd ? cc_ops(tcb)->undo_cwnd(tcb) : tcb->cwnd;
}

int tcp_cc_running(const struct tcb *tcb)
{
	/* tcp_cc_init runs when the handshake completes (or at a close in
	 * SYN-RECEIVED, which goes to FIN-WAIT-1); the sender exists by then. */
	return (tcb->sender || tcb->snd_rest) && tcb->state != SYNACK_SYN_SENT &&
	       tcb->state != SYNACK_SYN_RECEIVED && tcb->state != SYNACK_LISTEN;
}

void tcp_cc_info(const struct tcb *tcb, struct synack_tcp_info *info)
{
	/* A quiet connection's state is read from a decoded copy. */
	struct tcb tcb_tmp;
	struct tcp_sender snd_tmp;
	tcb = tcp_snd_view(tcb, &tcb_tmp, &snd_tmp);
	int running = tcp_cc_running(tcb);
	/* Before the handshake, the algorithm the connection will use. */
	uint8_t i = running             ? tcb->cc_algo
	            : tcb->opts.cc_algo ? (uint8_t)(tcb->opts.cc_algo - 1)
	                                : tcb->st->cc_default;
	snprintf(info->congestion, sizeof(info->congestion), "%s", algorithms[i]->name);
	if (running && algorithms[i]->info)
		algorithms[i]->info(tcb, info);
}

void tcp_cc_idle_restart(struct tcb *tcb, const struct tcp_cc_event *ev)
{
	/* RFC 5681 4.1: slow start again from RW = min(IW, cwnd). */
	uint32_t iw = initial_window(tcb);
	if (tcb->cwnd > iw)
		tcb->cwnd = iw;
	tcp_cc_event(tcb, ev);
}
