/*
 * User calls (RFC 9293 3.10.1-3.10.6): OPEN, SEND, RECEIVE, CLOSE, ABORT,
 * as the socket layer maps the BSD calls onto them.
 */
#include <errno.h>

#include "tcp/tcp.h"

int tcp_open_active(struct synack_stack *st, int sockfd, const struct tuple *t, uint32_t mss,
                    uint32_t rcvbuf, uint32_t sndbuf, struct tcb **out)
{
	struct tcb *tcb = tcp_tcb_new(st);
	if (!tcb)
		return -ENOMEM;
	/* An active open will send: its sender's state comes with it. */
	if (tcp_snd_new(tcb) != 0) {
		tcp_tcb_free(tcb);
		return -ENOMEM;
	}
	tcb->t = *t;
	tcb->sockfd = sockfd;
	tcb->rcv_mss = mss;
	ring_set_cap(&tcb->rcv_buf, rcvbuf);
	ring_set_cap(&tcb->snd_buf, sndbuf);
	tcb->iss = tcp_isn(st, t);
	tcb->snd_una = tcb->iss;
	tcb->snd_nxt = tcb->snd_max = tcb->iss + 1;
	tcb->snd_buf_seq = tcb->iss + 1;
	if (tcp_tcb_hash(tcb, 0) != 0) {
		tcp_tcb_free(tcb);
		return -ENOMEM;
	}
	tcp_set_state(tcb, SYNACK_SYN_SENT, SYNACK_CAUSE_APP_CONNECT);
	tcb->rtt_timing = 1;
	tcb->rtt_seq = tcb->iss;
	tcb->rtt_start = st->now;
	tcp_send_syn(tcb);
	tcp_arm_rtx(tcb);
	*out = tcb;
	return 0;
}

int tcp_open_passive(struct synack_stack *st, int sockfd, const struct tuple *t, int backlog,
                     struct tcb **out)
{
	struct tcb *l = tcp_tcb_new(st);
	if (!l)
		return -ENOMEM;
	l->t = *t;
	l->sockfd = sockfd;
	if (tcp_tcb_listen_init(l, (uint32_t)backlog) != 0 || tcp_tcb_hash(l, 1) != 0) {
		tcp_tcb_free(l);
		return -ENOMEM;
	}
	tcp_set_state(l, SYNACK_LISTEN, SYNACK_CAUSE_APP_LISTEN);
	*out = l;
	return 0;
}

int tcp_send(struct tcb *tcb, const void *buf, uint32_t len)
{
	uint32_t n = ring_write_pool(&tcb->snd_buf, &tcb->st->buf_slab, buf, len);
	if (n == 0)
		return len ? -EAGAIN : 0;
	tcp_output(tcb);
	tcp_rearm(tcb);
	return (int)n;
}

/*
 * The application read data: if that opened the window by a useful
 * amount, tell the peer (RFC 9293 3.8.6.2.2, receiver-side silly window
 * avoidance: at least min(half the buffer, one MSS)).
 */
void tcp_receive_done(struct tcb *tcb)
{
	uint32_t advertised;
	if (!tcp_receives_text(tcb->state))
		return;
	advertised = seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
	/* tcp_rcv_window moves the edge only by a useful amount. */
	if (tcp_rcv_window(tcb) > advertised)
		tcp_send_ack(tcb);
}

/* CLOSE: our side has no more to send.  The FIN follows queued data. */
void tcp_close(struct tcb *tcb, int cause)
{
	struct synack_stack *st = tcb->st;
	switch (tcb->state) {
	case SYNACK_SYN_SENT:
		tcp_done(tcb, cause, 0);
		return;
	case SYNACK_SYN_RECEIVED:
		/* RFC 9293 3.10.4: the FIN waits for the handshake in
		 * FIN-WAIT-1.  The connection never passes ESTABLISHED, where
		 * congestion control is set up, yet its SYN and FIN may time
		 * out and the peer's ACK of them is processed as in any
		 * synchronized state. */
		tcp_cc_init(tcb);
		/* fall through */
	case SYNACK_ESTABLISHED:
		tcb->fin_queued = 1;
		tcp_set_state(tcb, SYNACK_FIN_WAIT_1, cause);
		break;
	case SYNACK_CLOSE_WAIT:
		tcb->fin_queued = 1;
		tcb->close_wait_at = SYNACK_NEVER;
		tcp_set_state(tcb, SYNACK_LAST_ACK, cause);
		break;
	default:
		/* FIN_WAIT_1, FIN_WAIT_2, CLOSING, LAST_ACK: already closing. */
		break;
	}
	if (tcb->state == SYNACK_FIN_WAIT_2 && tcb->orphan)
		tcb->fin2_at = st->now + (uint64_t)st->cfg.fin_timeout_ms * 1000u;
	tcp_output(tcb);
	tcp_rearm(tcb);
}

/* ABORT (RFC 9293 3.10.5): a reset where the peer may hold state. */
void tcp_abort(struct tcb *tcb, int cause)
{
	switch (tcb->state) {
	case SYNACK_SYN_RECEIVED:
	case SYNACK_ESTABLISHED:
	case SYNACK_FIN_WAIT_1:
	case SYNACK_FIN_WAIT_2:
	case SYNACK_CLOSE_WAIT:
		tcp_send_rst_for(tcb);
		break;
	default:
		break;
	}
	tcp_done(tcb, cause, 0);
}

/* The socket lets go of the connection; it finishes on its own. */
void tcp_orphan(struct tcb *tcb)
{
	tcb->sockfd = -1;
	tcb->orphan = 1;
	tcb->st->stats.orphans_live++;
}

void tcp_close_listener(struct tcb *l)
{
	/* Connections that finished the handshake but were never accepted
	 * are reset; half-open ones just vanish. */
	while (tcp_lsn(l)->children) {
		struct tcb *c = tcp_lsn(l)->children;
		if (c->state == SYNACK_SYN_RECEIVED)
			tcp_done(c, SYNACK_CAUSE_LISTENER_CLOSED, 0);
		else
			tcp_abort(c, SYNACK_CAUSE_LISTENER_CLOSED);
	}
	l->sockfd = -1;
	tcp_done(l, SYNACK_CAUSE_APP_CLOSE, 0);
}

struct tcb *tcp_accept(struct tcb *l)
{
	struct tcb *c = tcp_lsn(l)->acq_head;
	if (!c)
		return NULL;
	tcp_unlink_child(c);
	return c;
}
