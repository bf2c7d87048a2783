/*
 * Congestion control: the interface an algorithm implements.
 *
 * Loss detection and recovery (fast retransmit on three duplicate ACKs,
 * NewReno partial ACKs, retransmission timeouts) live in the TCP core; an
 * algorithm only decides how the congestion window grows and how far it
 * falls.  Each algorithm is one file (cc_reno.c ...) defining a struct
 * tcp_cc_ops, listed in tcp_cc.c.  Per-connection state goes in
 * tcb->cc_priv, two words (Reno uses one); an algorithm that needs more
 * would keep it out of line.
 */
#ifndef SYNACK_TCP_CC_H
#define SYNACK_TCP_CC_H

#include <stddef.h>
#include <stdint.h>

struct tcb;

enum tcp_cc_event {
	CC_EVENT_RECOVERY_EXIT, /* fast recovery ended: every lost byte acknowledged */
	CC_EVENT_RTO,           /* a retransmission timeout: cwnd is now one segment */
	CC_EVENT_IDLE_RESTART,  /* sending after an idle period longer than the RTO */
};

struct tcp_cc_ops {
	const char *name;
	/* Sets up cc_priv (cwnd and ssthresh are already the initial values). */
	void (*init)(struct tcb *tcb);
	/* `acked` bytes of new data were acknowledged outside recovery: grow
	 * cwnd (slow start below ssthresh, congestion avoidance above). */
	void (*cong_avoid)(struct tcb *tcb, uint32_t acked);
	/* Loss detected (fast retransmit or timeout): the new ssthresh. */
	uint32_t (*ssthresh)(struct tcb *tcb);
	/* Optional: told of the events above. */
	void (*event)(struct tcb *tcb, enum tcp_cc_event ev);
};

const struct tcp_cc_ops *tcp_cc_find(const char *name);
/* The name of algorithm i, NULL past the last (for error messages). */
const char *tcp_cc_name(size_t i);

/* Helpers for algorithms. */
/* RFC 5681 3.1 slow start with RFC 3465 appropriate byte counting (L = 2
 * SMSS).  Returns the acked bytes slow start did not use (left for
 * congestion avoidance once cwnd reaches ssthresh). */
uint32_t tcp_cc_slow_start(struct tcb *tcb, uint32_t acked);
/* Bytes sent and not yet acknowledged. */
uint32_t tcp_cc_flight(const struct tcb *tcb);

extern const struct tcp_cc_ops tcp_cc_reno;

#endif
