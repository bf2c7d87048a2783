/*
 * Quick-ACK mode, as Linux's (net/ipv4/tcp_input.c tcp_incr_quickack,
 * tcp_event_data_recv; inet_connection_sock's pingpong).  RFC 1122
 * 4.2.3.2 lets a receiver delay its ACKs, and RFC 9293 3.8.6.3 asks it
 * to; but a delayed ACK early in a connection holds the sender's slow
 * start back by the timer on every round trip, and after an idle period
 * the sender restarts with a small window.  So the first data of a
 * connection, and data after a silence longer than the RTO, are
 * acknowledged at once, up to max_quickacks ACKs (fewer when the window
 * holds fewer than that many pairs of segments).  Once the connection
 * looks like request/response (we sent data within the delayed-ACK time
 * of the data it answers) ACKs wait again, to ride on the replies; a
 * delayed ACK that no reply carried ends that mode (tcp_timer.c).
 * TCP_QUICKACK sets and clears it from the application.
 */
#include "tcp/tcp.h"

/* tcp_incr_quickack: a window's worth of quick ACKs, one per two
 * segments, at least 2, at most max_quickacks. */
static void incr_quickack(struct tcb *tcb)
{
	uint32_t max = ENV(tcb->st)->cfg.max_quickacks;
	uint32_t mss = tcb->rcv_mss ? tcb->rcv_mss : 536;
	uint32_t q = tcp_rcv_window(tcb) / (2 * mss);
	if (q == 0)
		q = 2;
	if (q > max)
		q = max;
	if (q > tcb->quickacks)
		tcb->quickacks = (uint8_t)q;
}

void tcp_quickack_data_rcvd(struct tcb *tcb)
{
	uint64_t now = ENV(tcb->st)->now;
	/* The first data, or data after a gap longer than the RTO: the
	 * sender is starting (again) from a small window. */
	if (!tcb->data_seen || now - tcb->sender->last_data_rcv > tcb->rto_us)
		incr_quickack(tcb);
	tcb->data_seen = 1;
	tcb->sender->last_data_rcv = now;
}

void tcp_set_quickack(struct tcb *tcb, int on)
{
	if (!on) {
		tcb->pingpong = 1;
		return;
	}
	tcb->pingpong = 0;
	/* A delayed ACK pending goes now (Linux's tcp_cleanup_rbuf). */
	if ((tcb->state == SYNACK_ESTABLISHED || tcb->state == SYNACK_CLOSE_WAIT) &&
	    tcb->rcv_acked != tcb->rcv_nxt) {
		tcp_send_ack(tcb);
		tcp_rearm(tcb);
	}
}
