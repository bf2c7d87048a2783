/*
 * LISTEN (RFC 9293 3.10.7.2) and what a listener owns: its SYN queue (the
 * children whose handshake is under way), its accept queue (those ready for
 * accept()), and SYN cookies (RFC 4987; the arithmetic is tcp_cookie.c's)
 * for when the SYN queue is full.  A child is a full TCB from its SYN on,
 * linked to its listener until accept() or its end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"

int tcp_tcb_listen_init(struct tcb *tcb, uint32_t backlog)
{
	struct tcp_listen *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->backlog = backlog;
	tcb->ext.lsn = l;
	tcb->listening = 1;
	return 0;
}

int tcp_tcb_child_init(struct tcb *tcb)
{
	struct tcp_child *ch = slab_alloc(&tcb->st->child_slab);
	if (!ch)
		return -ENOMEM;
	memset(ch, 0, sizeof(*ch));
	tcb->ext.ch = ch;
	return 0;
}

void tcp_listen_ext_free(struct tcb *tcb)
{
	if (tcb->listening)
		free(tcb->ext.lsn);
	else
		slab_free(&tcb->st->child_slab, tcb->ext.ch);
	tcb->ext.lsn = NULL;
}

void tcp_unlink_child(struct tcb *tcb)
{
	struct tcp_child *ch = tcp_child(tcb);
	if (!ch || !ch->listener)
		return;
	struct tcp_listen *l = tcp_lsn(ch->listener);
	if (tcb->in_acceptq) {
		/* Doubly linked: closing a listener with a full accept queue
		 * unlinks every child in O(1), not by a walk from the head. */
		if (ch->acq_prev)
			tcp_child(ch->acq_prev)->acq_next = ch->acq_next;
		else
			l->acq_head = ch->acq_next;
		if (ch->acq_next)
			tcp_child(ch->acq_next)->acq_prev = ch->acq_prev;
		else
			l->acq_tail = ch->acq_prev;
		l->acq_len--;
		tcb->in_acceptq = 0;
	} else if (l->syn_len) {
		l->syn_len--;
	}
	if (ch->prev)
		tcp_child(ch->prev)->next = ch->next;
	else
		l->children = ch->next;
	if (ch->next)
		tcp_child(ch->next)->prev = ch->prev;
	/* Accepted or ending: the links are no longer needed. */
	tcp_listen_ext_free(tcb);
}

struct tcb *tcp_find_listener(struct tcp_layer *st, const struct addr *addr, uint16_t port)
{
	/* A listener bound to this address first, then one bound to the
	 * unspecified address of its family. */
	struct tuple k = {.laddr = *addr, .raddr = addr_any_like(addr), .lport = port};
	struct hnode *n = htable_find(&st->listeners, &k);
	if (!n) {
		k.laddr = k.raddr;
		n = htable_find(&st->listeners, &k);
	}
	/* An IPv4 segment may last find a dual-stack IPv6 listener, bound to
	 * :: without IPV6_V6ONLY: only such a listener is kept under ::, ::
	 * (sock.c), as on Linux (issue 14).  An IPv6 segment may last find
	 * one bound to :: with IPV6_V6ONLY, kept under ::, 0.0.0.0, which an
	 * IPv4 segment never asks for. */
	if (!n) {
		k.laddr = (struct addr){{0, 0, 0, 0}};
		k.raddr = addr_is_v4(addr) ? k.laddr : addr_v4(0);
		n = htable_find(&st->listeners, &k);
	}
	return n ? container_of(container_of(n, struct conn_head, node), struct tcb, h) : NULL;
}

static void link_child(struct tcb *l, struct tcb *c)
{
	struct tcp_listen *q = tcp_lsn(l);
	struct tcp_child *ch = tcp_child(c);
	ch->listener = l;
	ch->next = q->children;
	if (q->children)
		tcp_child(q->children)->prev = c;
	q->children = c;
	q->syn_len++;
}

/* A child whose handshake is complete moves from the SYN queue to the
 * accept queue, ready for accept(). */
void tcp_acceptq_add(struct tcb *l, struct tcb *c)
{
	struct tcp_listen *q = tcp_lsn(l);
	q->syn_len--;
	c->in_acceptq = 1;
	tcp_child(c)->acq_prev = q->acq_tail;
	tcp_child(c)->acq_next = NULL;
	if (q->acq_tail)
		tcp_child(q->acq_tail)->acq_next = c;
	else
		q->acq_head = c;
	q->acq_tail = c;
	q->acq_len++;
	if (l->sockfd >= 0)
		tcp_sock_event(l->st, l->sockfd, TCP_SOCK_READY, 0);
}

/* A new connection forked from the listener for the segment's 4-tuple: it
 * starts in LISTEN, so its first transition reads LISTEN -> ... */
static struct tcb *child_new(struct tcb *l, const struct tcp_rx *s)
{
	struct tcb *c = tcp_tcb_new(l->st);
	if (!c)
		return NULL;
	if (tcp_tcb_child_init(c) != 0) {
		tcp_tcb_free(c);
		return NULL;
	}
	c->t = tcp_seg_tuple(s->w);
	c->passive = 1;
	c->opts = l->opts;
	/* A dual-stack listener's IPv4 child announces IPv4's MSS. */
	c->rcv_mss = tcp_mss_cap(l->st, &c->t.laddr, l->rcv_mss);
	ring_set_cap(&c->rcv_buf, l->rcv_buf.cap);
	ring_set_cap(&c->snd_buf, l->snd_buf.cap);
	c->buf_locks = l->buf_locks;
	/* What the SYN-ACK will offer; tcp_learn_peer keeps what the SYN
	 * offered too. */
	tcp_opt_open(c);
	c->state = SYNACK_LISTEN;
	return c;
}

/* The window a listener's SYN-ACK offers: what a child's empty receive
 * buffer offers (tcp_rcv_window of a new connection), never scaled. */
static uint32_t listener_window(const struct tcb *l)
{
	return l->rcv_buf.cap > 65535u ? 65535u : l->rcv_buf.cap;
}

/* SYN-ACK with a cookie for its ISN; no state is kept (RFC 4987 3.6). */
void tcp_listen_send_cookie(struct tcb *l, const struct tcp_rx *s)
{
	struct tcp_layer *st = l->st;
	const struct wire_tcp *w = s->w;
	struct tuple t = tcp_seg_tuple(w);
	struct wire_tcp_opts o;
	uint8_t ecn = 0;
	memset(&o, 0, sizeof(o));
	tcp_opt_syn(l, &o);
	o.mss = (uint16_t)tcp_mss_cap(st, &t.laddr, l->rcv_mss); /* as child_new's */
	/* Issue 13 item 5, RFC 7323 when the SYN offered timestamps: what
	 * the SYN asked for and we grant (window scale, SACK-permitted, ECN)
	 * rides in the low bits of our TSval (tcp_cookie.c), which the ACK
	 * echoes (cookie_ack_arrives); our shift is the one a child of this
	 * listener would choose.  A SYN-ACK without a timestamp has nowhere
	 * to keep them and declines them all: ECN too, which it could agree
	 * to but the cookie's ACK could not remember. */
	const struct synack_config *cfg = &ENV(st)->cfg;
	if (cfg->timestamps && w->opts.has_ts) {
		struct tcp_cookie_opts co = tcp_cookie_syn_opts(st, w);
		o.has_ts = 1;
		o.ts_val = tcp_cookie_ts_make(st, &t, co);
		o.ts_ecr = w->opts.ts_val;
		if (co.wscale != TCP_COOKIE_NO_WSCALE) {
			o.has_wscale = 1;
			o.wscale = tcp_opt_wscale_of(l);
		}
		o.sack_permitted = co.sack_ok; /* RFC 2018 2: only when the SYN did */
		if (co.ecn_ok)
			ecn = SYNACK_TH_ECE; /* RFC 3168 6.1.1: ECE alone */
	}
	tcp_send_raw(st, &t, s->iss, s->seq + 1, SYNACK_TH_SYN | SYNACK_TH_ACK | ecn,
	             tcp_wnd_to_wire(l, listener_window(l), SYNACK_TH_SYN), &o, NULL, 0, 0, s->iss,
	             s->seq);
	STAT_INC(st, SyncookiesSent);
}

/* With syncookies = 1 an ACK to a listener is taken for a cookie only while
 * one it sent may still be valid (two 64 s slots), as Linux does: otherwise
 * it is the bad ACK of RFC 9293 3.10.7.2. */
static int cookies_live(const struct tcb *l)
{
	const struct tcp_layer *st = l->st;
	if (ENV(st)->cfg.syncookies == 2)
		return 1;
	return ENV(st)->cfg.syncookies == 1 && l->cookie_sent &&
	       ENV(st)->now - tcp_lsn(l)->cookie_sent_at < 2 * 64ull * 1000000u;
}

/* The handshake completes while the accept queue is full: the ACK is
 * dropped (the peer sends it again) or, with abort_on_overflow, reset. */
struct tcp_verdict tcp_accept_queue_overflow(struct tcp_layer *st)
{
	STAT_INC(st, ListenOverflows);
	STAT_INC(st, ListenDrops);
	if (ENV(st)->cfg.abort_on_overflow)
		return TCP_DROP_SEND(RST_REPLY, LISTEN_OVERFLOW);
	return TCP_DROP(LISTEN_OVERFLOW);
}

/*
 * An ACK that may answer one of our cookies: SEG.ACK - 1 is the cookie,
 * SEG.SEQ - 1 the peer's ISN.  A valid one creates the connection straight
 * in ESTABLISHED, in the accept queue; the segment itself (its text, its
 * FIN) is then processed by the new connection (*child).  An invalid one is
 * a bad ACK in LISTEN and gets a RST, as in Linux.
 */
static struct tcp_verdict cookie_ack_arrives(struct tcb *l, struct tcp_rx *s, struct tcb **child)
{
	struct tcp_layer *st = l->st;
	const struct wire_tcp *w = s->w;
	struct tuple t = tcp_seg_tuple(w);
	uint32_t mss;
	if (tcp_cookie_check(st, &t, s->seq - 1, s->ack - 1, &mss) != 0) {
		STAT_INC(st, SyncookiesFailed);
		return TCP_DROP_SEND(RST_REPLY, SYNCOOKIE_FAILED);
	}
	STAT_INC(st, SyncookiesRecv);
	if (tcp_lsn(l)->acq_len >= tcp_lsn(l)->backlog)
		return tcp_accept_queue_overflow(st);
	struct tcb *c = child_new(l, s);
	if (!c)
		return TCP_DROP(NO_MEMORY);
	/* Synchronized at once: the sender's state comes now too. */
	if (tcp_snd_new(c) != 0) {
		tcp_tcb_free(c);
		return TCP_DROP(NO_MEMORY);
	}
	c->iss = s->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = c->snd_buf_seq = s->ack;
	c->irs = s->seq - 1;
	c->rcv_nxt = c->rcv_acked = s->seq;
	/* The edge the cookie SYN-ACK offered, which the window must not pull
	 * back (RFC 9293 3.8.6, RFC 7323 2.4). */
	c->rcv_adv = s->seq + listener_window(l);
	c->snd_wnd = c->max_snd_wnd = s->wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->snd_mss = mss < c->rcv_mss ? mss : c->rcv_mss;
	/* What the cookie SYN-ACK offered: with timestamps, what the SYN
	 * asked for came back in the TSecr (tcp_cookie.c), trusted only when
	 * it echoes a TSval of ours from a live cookie; without, nothing. */
	struct tcp_cookie_opts co;
	int fresh = 0;
	const struct synack_config *cfg = &ENV(st)->cfg;
	if (cfg->timestamps && w->opts.has_ts)
		fresh = tcp_cookie_ts_check(st, &t, w->opts.ts_ecr, &co) == 0;
	c->options = 0;
	c->snd_wscale = c->rcv_wscale = 0;
	if (fresh) {
		c->options = SYNACK_TCPI_OPT_TIMESTAMPS;
		c->ts_offset = tcp_ts_offset(st, &t);
		c->ts_recent = w->opts.ts_val;
		c->ts_recent_at = ENV(st)->now;
		c->snd_mss -= tcp_opt_overhead(c);
		c->ecn_ok = co.ecn_ok && cfg->ecn != 0;
		c->sack_ok = co.sack_ok && cfg->sack;
	}
	if (fresh && co.wscale != TCP_COOKIE_NO_WSCALE && cfg->window_scaling) {
		c->options |= SYNACK_TCPI_OPT_WSCALE;
		c->snd_wscale = co.wscale;
		c->rcv_wscale = tcp_opt_wscale_of(c);
		c->snd_wnd = c->max_snd_wnd = (uint32_t)w->wnd << co.wscale;
	}
	if (tcp_tcb_hash(c, 0) != 0) {
		tcp_tcb_free(c);
		return TCP_DROP(NO_MEMORY);
	}
	link_child(l, c);
	tcp_enter_established(c, SYNACK_CAUSE_SYNCOOKIE);
	tcp_acceptq_add(l, c);
	*child = c;
	return TCP_CONTINUE;
}

struct tcp_verdict tcp_listen_segment_arrives(struct tcb *l, struct tcp_rx *s, uint32_t iss_floor,
                                              int use_floor, struct tcb **child)
{
	struct tcp_layer *st = l->st;
	struct tcp_listen *q = tcp_lsn(l);
	struct tcb *c;

	s->tcb = l;
	/* First, check for a RST: an incoming RST is ignored. */
	if (tcp_rx_has(s, SYNACK_TH_RST))
		return TCP_DROP(LISTEN_RST);
	/* Second, an ACK in LISTEN is bad: <SEQ=SEG.ACK><CTL=RST>, unless it
	 * answers a SYN cookie. */
	if (tcp_rx_has(s, SYNACK_TH_ACK)) {
		if (child && !tcp_rx_has(s, SYNACK_TH_SYN) && cookies_live(l))
			return cookie_ack_arrives(l, s, child);
		return TCP_DROP_SEND(RST_REPLY, LISTEN_ACK);
	}
	/* Fourth, anything but a SYN is dropped. */
	if (!tcp_rx_has(s, SYNACK_TH_SYN))
		return TCP_DROP(LISTEN_NO_SYN);

	/* Third, a SYN.  A full accept queue refuses it, cookies or not: a
	 * connection made now could not be accepted either (as Linux). */
	if (q->acq_len >= q->backlog) {
		STAT_INC(st, ListenOverflows);
		STAT_INC(st, ListenDrops);
		return TCP_DROP(LISTEN_OVERFLOW);
	}
	/* RFC 7413: a SYN with a valid TFO cookie makes its connection at
	 * once, whatever the SYN queue holds (its own queue length bounds
	 * it), so TFO works while SYN cookies answer the others. */
	int tfo = tcp_fastopen_syn(l, s);
	/* The SYN queue holds min(backlog, max_syn_backlog) half-open
	 * connections; past it, a cookie answers (RFC 4987) or the SYN is
	 * dropped.  A SYN that reopens a TIME_WAIT 4-tuple (use_floor) is
	 * neither: its ISN must clear the old incarnation's sequence space
	 * (RFC 1122 4.2.2.13), which a cookie's hash cannot promise, and the
	 * record it replaces has just been freed, so it always gets a real
	 * half-open connection (as Linux, which never answers a SYN carrying
	 * a TIME_WAIT ISN with a cookie).  One TIME_WAIT record buys at most
	 * one such connection, so max_tw_buckets bounds them. */
	uint32_t synq_max =
	    q->backlog < ENV(st)->cfg.max_syn_backlog ? q->backlog : ENV(st)->cfg.max_syn_backlog;
	if (tfo & TCP_TFO_CHILD)
		synq_max = UINT32_MAX;
	if (!use_floor && ((ENV(st)->cfg.syncookies == 2 && !(tfo & TCP_TFO_CHILD)) ||
	                   (ENV(st)->cfg.syncookies == 1 && q->syn_len >= synq_max))) {
		s->irs = s->seq;
		const struct wire_tcp *w = s->w;
		struct tuple t = tcp_seg_tuple(w);
		s->iss = tcp_cookie_make(st, &t, s->seq, tcp_opt_peer_mss(w));
		l->cookie_sent = 1;
		q->cookie_sent_at = ENV(st)->now;
		return TCP_ACCEPT_SEND(COOKIE_SYN_ACK);
	}
	if (q->syn_len >= synq_max && !use_floor) {
		STAT_INC(st, ListenDrops);
		return TCP_DROP(LISTEN_OVERFLOW);
	}
	c = child_new(l, s);
	if (!c)
		return TCP_DROP(NO_MEMORY);
	c->iss = tcp_isn(st, &c->t, &c->ts_offset);
	/* RFC 1122 4.2.2.13: a connection reopened from TIME_WAIT must start
	 * above every sequence number the old incarnation used. */
	if (use_floor && seq_leq(c->iss, iss_floor))
		c->iss = iss_floor + 1;
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->snd_buf_seq = c->iss + 1;
	tcp_learn_peer(c, s);
	/* RFC 3168 6.1.1: the child remembers whether its SYN-ACK agrees. */
	c->ecn_ok = (unsigned)tcp_ecn_syn_accept(st, s->w);
	c->snd_wl2 = c->iss; /* no ACK came with the SYN */
	/* RFC 7413 4.2.2: a cookie back when the client asked for one
	 * (tcp_fastopen.c); the data of a SYN with a valid one taken. */
	c->tfo_cookie_out = !!(tfo & TCP_TFO_COOKIE);
	c->tfo_exp = s->w->opts.tfo_exp;
	if (((tfo & TCP_TFO_CHILD) && tcp_fastopen_child(c, s) != 0) || tcp_tcb_hash(c, 0) != 0) {
		tcp_tcb_free(c);
		return TCP_DROP(NO_MEMORY);
	}
	link_child(l, c);
	s->iss = c->iss;
	s->irs = c->irs;
	s->tcb = c;
	/* Data on a SYN is not queued: it is not acknowledged and the peer
	 * sends it again once the connection is established -- unless it
	 * came with a valid TFO cookie (RFC 7413 4.2.2): then it was taken,
	 * and the connection is the application's at once (accept() returns
	 * it before the handshake completes, as Linux), counted in the
	 * listener's TFO queue until it leaves SYN-RECEIVED. */
	tcp_set_state(c, SYNACK_SYN_RECEIVED, SYNACK_CAUSE_RCV_SYN);
	if (c->tfo_child) {
		q->tfo_pending++;
		tcp_acceptq_add(l, c);
	}
	struct tcp_verdict v = TCP_ACCEPT_SEND(SYN_ACK);
	v.rearm = 1;
	return v;
}
