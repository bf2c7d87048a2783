/*
 * User calls (RFC 9293 3.10.1-3.10.6): OPEN, SEND, RECEIVE, CLOSE, ABORT,
 * STATUS, as the socket layer maps the BSD calls onto them, and the little
 * BSD sockets need beyond the RFC (options, buffer sizes, the backlog,
 * accept, listing connections).  This file is the only way the socket
 * layer reaches TCP; TCP answers it through tcp_sock_event().
 */
#include <errno.h>
#include <string.h>

#include "tcp/tcp.h"

/* ------------------------------------------------------------------ */
/* OPEN (RFC 9293 3.10.1)                                              */

/* What the socket asked for, taken by a new connection or listener. */
static void take_user_cfg(struct tcb *tcb, const struct tcp_user_cfg *cfg)
{
	tcb->rcv_mss = cfg->mss;
	ring_set_cap(&tcb->rcv_buf, cfg->rcvbuf);
	ring_set_cap(&tcb->snd_buf, cfg->sndbuf);
	tcb->buf_locks = cfg->buf_locks;
}

int tcp_open_active(struct tcp_layer *st, int sockfd, const struct tuple *t,
                    const struct tcp_user_cfg *cfg, struct tcb **out)
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
	take_user_cfg(tcb, cfg);
	tcb->rcv_mss = tcp_mss_cap(st, &t->laddr, cfg->mss);
	tcb->iss = tcp_isn(st, t, &tcb->ts_offset);
	tcb->snd_una = tcb->iss;
	tcb->snd_nxt = tcb->snd_max = tcb->iss + 1;
	tcb->snd_buf_seq = tcb->iss + 1;
	tcp_opt_open(tcb);
	if (tcp_tcb_hash(tcb, 0) != 0) {
		tcp_tcb_free(tcb);
		return -ENOMEM;
	}
	/* RFC 3168 6.1.1: ecn = 1 asks for ECN in the SYN (tcp_ecn.c). */
	tcb->ecn_ok = ENV(st)->cfg.ecn == 1;
	tcp_set_state(tcb, SYNACK_SYN_SENT, SYNACK_CAUSE_APP_CONNECT);
	/* RFC 7413: with a cookie for the server, TCP_FASTOPEN_CONNECT keeps
	 * the SYN for the first send, which it carries (tcp_fastopen.c). */
	if (!cfg->fastopen_connect || !tcp_fastopen_connect(tcb))
		tcp_send_syn_first(tcb);
	/* The options come after the SYN left: none of them shapes it, and
	 * keepalive (RFC 1122 4.2.3.6) counts idleness from here. */
	tcb->opts = cfg->opts;
	tcp_keepalive_reset(tcb);
	*out = tcb;
	return 0;
}

int tcp_open_passive(struct tcp_layer *st, int sockfd, const struct tuple *t, uint32_t backlog,
                     const struct tcp_user_cfg *cfg, struct tcb **out)
{
	struct tcb *l = tcp_tcb_new(st);
	if (!l)
		return -ENOMEM;
	l->t = *t;
	l->sockfd = sockfd;
	if (tcp_tcb_listen_init(l, backlog) != 0 || tcp_tcb_hash(l, 1) != 0) {
		tcp_tcb_free(l);
		return -ENOMEM;
	}
	tcp_set_state(l, SYNACK_LISTEN, SYNACK_CAUSE_APP_LISTEN);
	/* The listener holds what its children inherit (tcp_listen.c). */
	take_user_cfg(l, cfg);
	l->opts = cfg->opts;
	tcp_fastopen_set_qlen(l, cfg->fastopen_qlen);
	*out = l;
	return 0;
}

void tcp_set_backlog(struct tcb *l, uint32_t backlog)
{
	tcp_lsn(l)->backlog = backlog;
}

void tcp_accept(struct tcb *c, int sockfd)
{
	c->sockfd = sockfd;
	if (c->state == SYNACK_CLOSED) {
		/* Reset (or timed out) while it waited: kept for this moment
		 * (tcp_done), it now ends for its socket, which keeps the
		 * unread data and reads the error after it, as on Linux. */
		tcp_tcb_release(c, tcp_child(c)->err);
		return;
	}
	tcp_unlink_child(c);
}

/* ------------------------------------------------------------------ */
/* SEND (RFC 9293 3.10.2)                                              */

uint32_t tcp_send_queue(struct tcb *tcb, const void *buf, uint32_t len)
{
	/* Delivery rate samples from here on may be app-limited. */
	tcp_rate_check_app_limited(tcb);
	return ring_write_pool(&tcb->snd_buf, &tcb->st->buf_pool, buf, len);
}

void tcp_send_push(struct tcb *tcb, int more)
{
	/* MSG_MORE holds the partial last segment for this push only, as
	 * Linux's tcp_push with TCP_NAGLE_CORK: the next ACK, send or the
	 * persist timer (tcp_output.c) lets it go. */
	if (tcb->tfo_defer)
		tcp_fastopen_send_syn(tcb); /* RFC 7413: the data rides in the SYN */
	tcb->more = more != 0;
	tcp_output(tcb);
	tcb->more = 0;
	tcp_rearm(tcb);
}

int tcp_send(struct tcb *tcb, const void *buf, uint32_t len)
{
	uint32_t n = tcp_send_queue(tcb, buf, len);
	if (n == 0)
		return len ? -EAGAIN : 0;
	tcp_send_push(tcb, 0);
	return (int)n;
}

/* ------------------------------------------------------------------ */
/* RECEIVE (RFC 9293 3.10.3)                                           */

/*
 * The application read data: if that opened the window by a useful
 * amount, tell the peer (RFC 9293 3.8.6.2.2, receiver-side silly window
 * avoidance: at least min(half the buffer, one MSS)).  An ACK that the
 * text's arrival left to this read (tcp_ack_on_read: two full-sized
 * segments or more unacknowledged) goes now in any case, as Linux's
 * tcp_cleanup_rbuf sends "the once-per-two-segments ACK not sent by
 * tcp_input.c".
 */
static void receive_done(struct tcb *tcb)
{
	uint32_t advertised;
	if (!tcp_receives_text(tcb->state))
		return;
	if (tcp_two_segs_unacked(tcb)) {
		tcp_send_ack(tcb);
		return;
	}
	advertised = seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
	/* tcp_rcv_window moves the edge only by a useful amount, and keeps
	 * the edge already advertised rounded up to the window scale's unit
	 * (RFC 7323 2.4), which is no news to the peer. */
	advertised = (advertised + (1u << tcb->rcv_wscale) - 1) & ~((1u << tcb->rcv_wscale) - 1);
	if (tcp_rcv_window(tcb) > advertised)
		tcp_send_ack(tcb);
}

void tcp_receive_consume(struct tcb *tcb, uint32_t n)
{
	/* The ring's bytes come first, then those held by reference. */
	uint32_t rn = n < tcb->rcv_buf.len ? n : tcb->rcv_buf.len;
	if (n > rn)
		tcp_rcvq_consume(tcb, n - rn);
	if ((rn || !tcp_rcvq(tcb)) && ring_consume_keep(&tcb->rcv_buf, &tcb->st->buf_pool, rn)) {
		tcp_buf_kept(tcb);
		tcp_rearm(tcb);
	}
	tcp_rcv_space_adjust(tcb);
	receive_done(tcb);
}

int tcp_receive_copy(struct tcb *tcb, void *buf, uint32_t len, int peek)
{
	uint32_t unread = tcp_unread(tcb);
	uint32_t n = len > unread ? unread : len;
	tcp_unread_peek(tcb, 0, buf, n);
	if (!peek)
		tcp_receive_consume(tcb, n);
	return (int)n;
}

void tcp_receive_discard(struct tcb *tcb)
{
	ring_consume_pool(&tcb->rcv_buf, &tcb->st->buf_pool, tcb->rcv_buf.len);
	tcp_rcvq_free(tcb);
}

void tcp_receive_take(struct tcb *tcb, struct ring *out)
{
	/* What is held by reference joins the ring's bytes (the ring may
	 * pass its size for that; it only drains from here on). */
	const struct rcvq *q = tcp_rcvq(tcb);
	if (q) {
		struct ring *r = &tcb->rcv_buf;
		uint32_t cap = r->cap, len = r->len + q->len;
		r->cap = len > cap ? len : cap;
		for (const struct rcv_ref *p = q->head; p; p = p->next)
			(void)ring_write_pool(r, &tcb->st->buf_pool, p->data, p->len);
		tcp_rcvq_free(tcb);
	}
	*out = tcb->rcv_buf;
	ring_init(&tcb->rcv_buf, 0);
}

/* ------------------------------------------------------------------ */
/* CLOSE and ABORT (RFC 9293 3.10.4, 3.10.5)                           */

void tcp_close(struct tcb *tcb, int cause)
{
	struct tcp_layer *st = tcb->st;
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
		tcb->fin2_at = ENV(st)->now + (uint64_t)ENV(st)->cfg.fin_timeout_ms * 1000u;
	tcp_output(tcb);
	tcp_rearm(tcb);
}

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
static void orphan(struct tcb *tcb)
{
	tcb->sockfd = -1;
	tcb->orphan = 1;
	ENV(tcb->st)->stats.orphans_live++;
}

static void close_listener(struct tcb *l)
{
	/* Connections that finished the handshake but were never accepted
	 * are reset; half-open ones just vanish, and so do those that ended
	 * while they waited (no socket is left to take them: tcp_done). */
	l->sockfd = -1;
	while (tcp_lsn(l)->children) {
		struct tcb *c = tcp_lsn(l)->children;
		if (c->state == SYNACK_SYN_RECEIVED)
			tcp_done(c, SYNACK_CAUSE_LISTENER_CLOSED, 0);
		else
			tcp_abort(c, SYNACK_CAUSE_LISTENER_CLOSED);
	}
	tcp_done(l, SYNACK_CAUSE_APP_CLOSE, 0);
}

void tcp_close_handle(struct tcb *tcb, unsigned how)
{
	struct tcp_layer *st = tcb->st;
	if (tcb->listening) {
		close_listener(tcb);
		return;
	}
	tcb->sockfd = -1;
	if (how & TCP_CLOSE_LINGER_ZERO) {
		/* SO_LINGER with a zero timeout: abort with a reset. */
		STAT_INC(st, AbortOnLinger);
		tcp_abort(tcb, SYNACK_CAUSE_APP_ABORT);
		return;
	}
	if (tcp_unread(tcb) && !(how & TCP_CLOSE_READ_SHUT)) {
		/* RFC 1122 4.2.2.13 / RFC 9293 3.10.4: closing with unread
		 * data loses it; a reset tells the peer so. */
		STAT_INC(st, AbortOnClose);
		tcp_abort(tcb, SYNACK_CAUSE_APP_ABORT);
		return;
	}
	if (tcb->state == SYNACK_SYN_SENT) {
		/* RFC 9293 3.10.4, SYN-SENT: delete the TCB; nothing was
		 * synchronized, so the peer need not hear of it. */
		tcp_done(tcb, SYNACK_CAUSE_APP_CLOSE, 0);
		return;
	}
	orphan(tcb);
	if (ENV(st)->stats.orphans_live > ENV(st)->cfg.max_orphans) {
		/* Past max_orphans, as Linux does: reset instead of lingering. */
		STAT_INC(st, OrphanOverflow);
		tcp_abort(tcb, SYNACK_CAUSE_ORPHAN_OVERFLOW);
		return;
	}
	tcp_close(tcb, SYNACK_CAUSE_APP_CLOSE);
}

/* ------------------------------------------------------------------ */
/* Socket options and buffer sizes (beyond the RFC)                    */

void tcp_set_opts(struct tcb *tcb, const struct tcp_opts *opts, int push)
{
	tcb->opts = *opts;
	if (push)
		tcp_output(tcb); /* data Nagle held goes now */
	tcp_keepalive_reset(tcb);
	tcp_rearm(tcb);
}

void tcp_set_lowat(struct tcb *tcb, int lowat)
{
	tcb->opts.lowat = lowat != 0;
}

void tcp_set_cork(struct tcb *tcb, int cork)
{
	tcb->opts.cork = cork != 0;
	/* Linux: uncorking pushes what waits, by the usual rules (Nagle
	 * still holds a partial segment behind unacknowledged data unless
	 * TCP_NODELAY is on). */
	if (!cork) {
		tcp_output(tcb);
		tcp_rearm(tcb);
	}
}

void tcp_set_maxseg(struct tcb *l, uint32_t mss)
{
	/* Children copy it when their SYN arrives (tcp_listen.c); those
	 * already half-open keep the MSS their SYN-ACK announced. */
	l->rcv_mss = mss;
}

void tcp_set_congestion(struct tcb *tcb, uint8_t algo)
{
	tcb->opts.cc_algo = (uint8_t)(algo + 1);
	/* Before the handshake completes tcp_cc_init will read it.  A quiet
	 * connection's state is woken first (without memory the connection
	 * keeps its algorithm, whole). */
	if (tcp_snd_wake(tcb) == 0 && tcp_cc_running(tcb))
		tcp_cc_switch(tcb, algo);
}

int tcp_set_rcvbuf(struct tcb *tcb, uint32_t size)
{
	/* The window scale was fixed by the SYNs (RFC 7323 2.2): past
	 * 65535 << Rcv.Wind.Shift the peer could never be offered the room,
	 * so the buffer takes what the shift expresses and SO_RCVBUF reads
	 * that back (a listener's children choose their shift afresh). */
	if (!tcb->listening && size > tcp_rcv_wnd_max(tcb))
		size = tcp_rcv_wnd_max(tcb);
	if (ring_set_cap(&tcb->rcv_buf, size) != 0)
		return -1;
	tcb->buf_locks |= TCP_LOCK_RCVBUF;
	return 0;
}

uint32_t tcp_buf_size(const struct tcb *tcb, int rcv)
{
	return rcv ? tcb->rcv_buf.cap : tcb->snd_buf.cap;
}

int tcp_set_sndbuf(struct tcb *tcb, uint32_t size)
{
	if (ring_set_cap(&tcb->snd_buf, size) != 0)
		return -1;
	tcb->buf_locks |= TCP_LOCK_SNDBUF;
	return 0;
}

/* ------------------------------------------------------------------ */
/* STATUS (RFC 9293 3.10.6)                                            */

void tcp_status(const struct tcb *t, struct synack_tcp_info *info)
{
	/* A quiet connection's sender is read from a decoded copy. */
	struct tcb tcb_tmp;
	struct tcp_sender snd_tmp;
	t = tcp_snd_view(t, &tcb_tmp, &snd_tmp);
	memset(info, 0, sizeof(*info));
	info->state = t->state;
	info->state_since_us = t->state_since;
	info->iss = t->iss;
	info->irs = t->irs;
	info->snd_una = t->snd_una;
	info->snd_nxt = t->snd_nxt;
	info->snd_wnd = t->snd_wnd;
	info->rcv_nxt = t->rcv_nxt;
	info->rcv_wnd = t->state == SYNACK_LISTEN ? 0 : tcp_rcv_window(t);
	info->mss = t->snd_mss;
	info->rto_us = t->rto_us;
	info->srtt_us = t->srtt_us;
	info->rttvar_us = t->rttvar_us;
	info->cwnd = t->cwnd;
	info->ssthresh = t->ssthresh;
	info->ca_state = t->ca_state;
	info->retransmits = t->backoff;
	info->total_retrans = t->total_retrans;
	info->send_queue = t->snd_buf.len;
	info->recv_queue = tcp_unread(t);
	info->soft_error = tcp_soft_err(t);
	tcp_cc_info(t, info);
	info->snd_wscale = t->snd_wscale;
	info->rcv_wscale = t->state == SYNACK_SYN_SENT ? 0 : t->rcv_wscale;
	/* Agreed only once the peer's SYN or SYN-ACK came: in SYN_SENT the
	 * field holds what our SYN offers. */
	info->options = t->state == SYNACK_SYN_SENT ? 0 : t->options;
	info->min_rtt = t->sender ? t->sender->min_rtt_us : 0;
	info->bytes_acked = t->bytes_acked;
	info->bytes_received = t->sender ? t->sender->bytes_received : 0;
	info->rcv_space = t->rcv_space;
	info->ecn = tcp_ecn_info(t);
	if (t->sack_ok)
		info->options |= SYNACK_TCPI_OPT_SACK;
	if (t->tfo_used)
		info->options |= SYNACK_TCPI_OPT_SYN_DATA;
	/* SACK and loss recovery: the scoreboard read from the records. */
	info->reordering = tcp_dupthresh(t);
	info->bytes_retrans = t->sender ? t->sender->bytes_retrans : 0;
	int app_limited;
	info->delivery_rate = tcp_rate_bps(t, &app_limited);
	info->delivery_rate_app_limited = (uint8_t)app_limited;
	for (uint32_t i = 0, n = t->sender ? tcp_snd_records(t) : 0; i < n; i++) {
		const struct tcp_txrec *r = tcp_snd_record(t, i);
		if (r->flags & TXREC_SACKED)
			info->sacked += r->len;
		else if (r->flags & TXREC_LOST)
			info->lost += r->len;
		else if (r->flags & TXREC_RETRANS)
			info->retrans += r->len;
	}
}

/* The TIME-WAIT record the demux node n is, or NULL. */
static struct tw *tw_of(struct hnode *n)
{
	struct conn_head *h = container_of(n, struct conn_head, node);
	return n->kind == CONN_TW ? container_of(h, struct tw, h) : NULL;
}

void tcp_status_gone(struct tcp_layer *st, const struct tuple *t, struct synack_tcp_info *info)
{
	struct hnode *n = t ? htable_find(&st->conns, t) : NULL;
	const struct tw *tw = n ? tw_of(n) : NULL;
	memset(info, 0, sizeof(*info));
	info->state = SYNACK_CLOSED;
	if (tw) {
		info->state = SYNACK_TIME_WAIT;
		info->state_since_us = tcp_tw_since(tw);
		info->iss = tw->iss;
		info->irs = tw->irs;
		info->snd_una = info->snd_nxt = tw->snd_nxt;
		info->rcv_nxt = tw->rcv_nxt;
	}
}

/* ------------------------------------------------------------------ */
/* Listing connections, as `ss` does.                                  */

struct conns_walk {
	synack_conn_fn fn;
	void *ctx;
	size_t n;
};

/* What a TCB shows in the listing (its local end from the TCB: a
 * listener's demux key has no remote end). */
static void tcb_conn(const struct tcb *t, struct synack_conn *c)
{
	struct tcb tcb_tmp;
	struct tcp_sender snd_tmp;
	t = tcp_snd_view(t, &tcb_tmp, &snd_tmp);
	env_endpoint(&c->local, &t->t.laddr, t->t.lport);
	c->state = t->state;
	c->state_since_us = t->state_since;
	c->socket = t->sockfd;
	c->send_queue = t->snd_buf.len;
	c->recv_queue = tcp_lsn(t) ? tcp_lsn(t)->acq_len : tcp_unread(t);
	if (tcp_cc_running(t)) {
		struct synack_tcp_info info;
		memset(&info, 0, sizeof(info));
		tcp_cc_info(t, &info);
		c->cwnd = t->cwnd;
		c->ssthresh = t->ssthresh;
		c->srtt_us = t->srtt_us;
		memcpy(c->congestion, info.congestion, sizeof(c->congestion));
		int app_limited;
		c->delivery_rate = tcp_rate_bps(t, &app_limited);
	}
}

static void walk_conn(void *ctx, struct hnode *n)
{
	struct conns_walk *w = ctx;
	const struct tw *tw = tw_of(n);
	struct synack_conn c;
	memset(&c, 0, sizeof(c));
	env_endpoint(&c.local, &n->key.laddr, n->key.lport);
	env_endpoint(&c.remote, &n->key.raddr, n->key.rport);
	if (tw) {
		c.state = SYNACK_TIME_WAIT;
		c.state_since_us = tcp_tw_since(tw);
		c.socket = -1;
	} else {
		tcb_conn(container_of(container_of(n, struct conn_head, node), struct tcb, h), &c);
		/* A listener has no remote end: the unspecified address of its
		 * own family (its key may say 0.0.0.0 for IPV6_V6ONLY). */
		if (c.state == SYNACK_LISTEN) {
			struct addr any = addr_any_like(&n->key.laddr);
			env_endpoint(&c.remote, &any, 0);
		}
	}
	w->n++;
	if (w->fn)
		w->fn(w->ctx, &c);
}

/* A connection that ended in an accept queue, listed as it waits there:
 * CLOSED, its unread data, no socket yet. */
static void walk_kept(void *ctx, struct tcb *t)
{
	struct conns_walk *w = ctx;
	struct synack_conn c;
	memset(&c, 0, sizeof(c));
	env_endpoint(&c.remote, &t->t.raddr, t->t.rport);
	tcb_conn(t, &c);
	w->n++;
	if (w->fn)
		w->fn(w->ctx, &c);
}

static void walk_listener_kept(void *ctx, struct hnode *n)
{
	tcp_each_kept_for_accept(
	    container_of(container_of(n, struct conn_head, node), struct tcb, h), walk_kept, ctx);
}

size_t tcp_conns(struct tcp_layer *st, synack_conn_fn fn, void *ctx)
{
	struct conns_walk w = {fn, ctx, 0};
	htable_foreach(&st->listeners, walk_conn, &w);
	htable_foreach(&st->conns, walk_conn, &w);
	/* Every TCB is listed, those an accept queue keeps included. */
	htable_foreach(&st->listeners, walk_listener_kept, &w);
	return w.n;
}
