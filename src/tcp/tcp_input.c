/*
 * SEGMENT ARRIVES (RFC 9293 3.10.7).
 *
 * CLOSED, LISTEN and SYN-SENT have one function each (3.10.7.1-3).  The
 * synchronized states run the RFC's checks in its order, one function each:
 * check sequence, check RST, check SYN, check ACK, process text, check FIN.
 * Every step returns a verdict; one exit block acts on it (drop, drop and
 * ACK, drop and RST, challenge ACK) and records the arrival in the trace as
 * received or dropped with its reason.  TIME_WAIT is a compact record with
 * its own small function.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sock/sock.h"
#include "tcp/tcp.h"

enum action {
	A_CONTINUE,       /* go on to the next step */
	A_ACCEPT,         /* processed; stop here */
	A_DROP,           /* drop silently */
	A_DROP_ACK,       /* drop and send an ACK */
	A_DROP_RST,       /* drop and answer with a reset (RFC 9293 3.10.7.1 form) */
	A_DROP_CHALLENGE, /* drop and send a challenge ACK (RFC 5961) */
	A_DROP_SYNACK,    /* drop and send our SYN-ACK again */
	A_GONE,           /* processed and the connection no longer exists */
	A_GONE_DROP,      /* dropped and the connection no longer exists */
};

struct verdict {
	uint8_t action;
	uint8_t reason; /* enum synack_drop */
};

#define CONTINUE ((struct verdict){A_CONTINUE, 0})
#define ACCEPT ((struct verdict){A_ACCEPT, 0})
#define GONE ((struct verdict){A_GONE, 0})
#define VERDICT(a, r) ((struct verdict){(a), SYNACK_DROP_##r})

/* What the steps learn about the segment as they go. */
struct rx {
	const struct wire_tcp *w;
	uint32_t seq, ack, len; /* SEG.SEQ, SEG.ACK, SEG.LEN (SYN and FIN count) */
	uint8_t flags;
	/* The text after trimming to the window. */
	const uint8_t *data;
	uint32_t data_seq, data_len;
	uint8_t fin;        /* the segment's FIN survives trimming */
	uint8_t fin_in_seq; /* a FIN (this one or a held one) is next in sequence */
	uint8_t need_ack;
	uint8_t ack_now;   /* the ACK may not be delayed (out of order, gap filled, FIN) */
	uint32_t iss, irs; /* for the trace, once known */
	uint64_t trace_idx;
	uint8_t dropped; /* the drop reason, once decided */
};

static int has(const struct rx *s, uint8_t f)
{
	return (s->flags & f) != 0;
}

/* ------------------------------------------------------------------ */
/* The exit block.                                                     */

static void trace_arrival(struct synack_stack *st, struct rx *s, struct verdict v)
{
	struct synack_trace *r = trace_slot(st, s->trace_idx);
	int dropped = v.action != A_ACCEPT && v.action != A_GONE && v.action != A_CONTINUE;
	if (dropped) {
		stack_count_drop(st, v.reason);
		s->dropped = v.reason;
	}
	if (!r)
		return;
	r->kind = dropped ? SYNACK_TRACE_DROP : SYNACK_TRACE_RX;
	r->reason = dropped ? v.reason : 0;
	r->iss = s->iss;
	r->irs = s->irs;
}

/*
 * Whether the ACK that answers an unacceptable segment is left out
 * (invalid_ratelimit_ms, as Linux's tcp_invalid_ratelimit).  Only pure ACKs
 * are limited: an ACK loop between two ends that disagree about the
 * sequence numbers is made of them, while a segment with data, SYN or FIN
 * is answered every time so that a peer whose ACK was lost can finish.
 */
static int oow_ack_limited(struct tcb *tcb, const struct rx *s)
{
	struct synack_stack *st = tcb->st;
	uint64_t limit_us = (uint64_t)st->cfg.invalid_ratelimit_ms * 1000u;
	if (!limit_us || s->w->data_len || has(s, SYNACK_TH_SYN | SYNACK_TH_FIN))
		return 0;
	struct tcb_rare *r = tcp_rare(tcb);
	/* Without memory to remember the last answer: no answer, the side
	 * of the limit that cannot be turned into an ACK storm. */
	if (!r || (r->oow_ack_at != SYNACK_NEVER && st->now - r->oow_ack_at < limit_us)) {
		STAT_INC(st, AckSkippedSeq);
		return 1;
	}
	r->oow_ack_at = st->now;
	return 0;
}

static void finish_tcb(struct tcb *tcb, struct rx *s, struct verdict v)
{
	struct synack_stack *st = tcb->st;
	trace_arrival(st, s, v);
	switch (v.action) {
	case A_DROP_ACK:
		if (!oow_ack_limited(tcb, s))
			tcp_send_ack(tcb);
		break;
	case A_DROP_RST:
		tcp_reset_reply(st, s->w);
		break;
	case A_DROP_CHALLENGE:
		tcp_challenge_ack(tcb);
		break;
	case A_DROP_SYNACK:
		tcp_send_syn(tcb);
		break;
	default:
		break;
	}
}

static void begin_trace(struct synack_stack *st, struct rx *s)
{
	const struct wire_tcp *w = s->w;
	struct synack_trace *r;
	s->trace_idx = trace_reserve(st);
	r = trace_slot(st, s->trace_idx);
	if (!r)
		return;
	r->kind = SYNACK_TRACE_RX;
	r->local.addr = w->daddr;
	r->local.port = w->dport;
	r->remote.addr = w->saddr;
	r->remote.port = w->sport;
	r->flags = w->flags;
	r->seq = w->seq;
	r->ack = w->ack;
	r->len = w->data_len;
	r->win = w->wnd;
}

/* ------------------------------------------------------------------ */
/* CLOSED (RFC 9293 3.10.7.1): no connection exists.                   */

static void closed_segment_arrives(struct synack_stack *st, struct rx *s)
{
	struct verdict v =
	    has(s, SYNACK_TH_RST) ? VERDICT(A_DROP, CLOSED_RST) : VERDICT(A_DROP_RST, NO_SOCKET);
	s->irs = s->seq;
	trace_arrival(st, s, v);
	if (v.action == A_DROP_RST)
		tcp_reset_reply(st, s->w);
}

/* ------------------------------------------------------------------ */
/* LISTEN (RFC 9293 3.10.7.2).                                         */

/* Takes what a SYN or SYN-ACK says about the peer: its ISN, its window and
 * the largest segment it accepts (RFC 9293 3.7.1; 536 when it says nothing). */
static void learn_peer(struct tcb *tcb, const struct rx *s)
{
	const struct wire_tcp *w = s->w;
	tcb->irs = s->seq;
	tcb->rcv_nxt = s->seq + 1;
	tcb->rcv_adv = tcb->rcv_nxt;
	tcb->snd_wnd = w->wnd;
	tcb->max_snd_wnd = w->wnd;
	tcb->snd_wl1 = s->seq;
	tcb->snd_wl2 = s->ack;
	tcb->snd_mss = w->opts.has_mss ? w->opts.mss : 536;
	if (tcb->snd_mss > tcb->rcv_mss)
		tcb->snd_mss = tcb->rcv_mss;
	if (tcb->snd_mss < 64)
		tcb->snd_mss = 64; /* a tiny announced MSS must not make us loop */
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
static void acceptq_add(struct tcb *l, struct tcb *c)
{
	struct tcp_listen *q = tcp_lsn(l);
	q->syn_len--;
	c->in_acceptq = 1;
	if (q->acq_tail)
		tcp_child(q->acq_tail)->acq_next = c;
	else
		q->acq_head = c;
	q->acq_tail = c;
	q->acq_len++;
	if (l->sockfd >= 0)
		stack_notify(l->st, l->sockfd);
}

/* A new connection forked from the listener for the segment's 4-tuple: it
 * starts in LISTEN, so its first transition reads LISTEN -> ... */
static struct tcb *child_new(struct tcb *l, const struct rx *s)
{
	struct tcb *c = tcp_tcb_new(l->st);
	if (!c)
		return NULL;
	if (tcp_tcb_child_init(c) != 0) {
		tcp_tcb_free(c);
		return NULL;
	}
	c->t.laddr = s->w->daddr;
	c->t.lport = s->w->dport;
	c->t.raddr = s->w->saddr;
	c->t.rport = s->w->sport;
	c->passive = 1;
	c->opts = l->opts;
	c->rcv_mss = l->rcv_mss;
	ring_set_cap(&c->rcv_buf, l->rcv_buf.cap);
	ring_set_cap(&c->snd_buf, l->snd_buf.cap);
	c->state = SYNACK_LISTEN;
	return c;
}

/* The window a listener's SYN-ACK offers: what a child's empty receive
 * buffer offers (tcp_rcv_window of a new connection). */
static uint16_t listener_window(const struct tcb *l)
{
	return (uint16_t)(l->rcv_buf.cap > 65535 ? 65535 : l->rcv_buf.cap);
}

/* SYN-ACK with a cookie for its ISN; no state is kept (RFC 4987 3.6). */
static void send_cookie_syn_ack(struct tcb *l, struct rx *s)
{
	struct synack_stack *st = l->st;
	const struct wire_tcp *w = s->w;
	struct tuple t = {w->daddr, w->saddr, w->dport, w->sport};
	struct wire_tcp_opts o;
	uint32_t iss = tcp_cookie_make(st, &t, s->seq, w->opts.has_mss ? w->opts.mss : 536);
	memset(&o, 0, sizeof(o));
	o.has_mss = 1;
	o.mss = (uint16_t)l->rcv_mss;
	s->iss = iss;
	s->irs = s->seq;
	tcp_send_raw(st, &t, iss, s->seq + 1, SYNACK_TH_SYN | SYNACK_TH_ACK, listener_window(l), &o,
	             NULL, 0, 0, iss, s->seq);
	STAT_INC(st, SyncookiesSent);
	l->cookie_sent = 1;
	tcp_lsn(l)->cookie_sent_at = st->now;
}

/* With syncookies = 1 an ACK to a listener is taken for a cookie only while
 * one it sent may still be valid (two 64 s slots), as Linux does: otherwise
 * it is the bad ACK of RFC 9293 3.10.7.2. */
static int cookies_live(const struct tcb *l)
{
	const struct synack_stack *st = l->st;
	if (st->cfg.syncookies == 2)
		return 1;
	return st->cfg.syncookies == 1 && l->cookie_sent &&
	       st->now - tcp_lsn(l)->cookie_sent_at < 2 * 64ull * 1000000u;
}

/* The handshake completes while the accept queue is full: the ACK is
 * dropped (the peer sends it again) or, with abort_on_overflow, reset. */
static struct verdict accept_queue_overflow(struct synack_stack *st)
{
	STAT_INC(st, ListenOverflows);
	STAT_INC(st, ListenDrops);
	if (st->cfg.abort_on_overflow)
		return VERDICT(A_DROP_RST, LISTEN_OVERFLOW);
	return VERDICT(A_DROP, LISTEN_OVERFLOW);
}

static void enter_established(struct tcb *tcb, int cause);

/*
 * An ACK that may answer one of our cookies: SEG.ACK - 1 is the cookie,
 * SEG.SEQ - 1 the peer's ISN.  A valid one creates the connection straight
 * in ESTABLISHED, in the accept queue; the segment itself (its text, its
 * FIN) is then processed by the new connection (*child).  An invalid one is
 * a bad ACK in LISTEN and gets a RST, as in Linux.
 */
static struct verdict cookie_ack_arrives(struct tcb *l, struct rx *s, struct tcb **child)
{
	struct synack_stack *st = l->st;
	const struct wire_tcp *w = s->w;
	struct tuple t = {w->daddr, w->saddr, w->dport, w->sport};
	uint32_t mss;
	if (tcp_cookie_check(st, &t, s->seq - 1, s->ack - 1, &mss) != 0) {
		STAT_INC(st, SyncookiesFailed);
		return VERDICT(A_DROP_RST, SYNCOOKIE_FAILED);
	}
	STAT_INC(st, SyncookiesRecv);
	if (tcp_lsn(l)->acq_len >= tcp_lsn(l)->backlog)
		return accept_queue_overflow(st);
	struct tcb *c = child_new(l, s);
	if (!c)
		return VERDICT(A_DROP, NO_MEMORY);
	c->iss = s->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = c->snd_buf_seq = s->ack;
	c->irs = s->seq - 1;
	c->rcv_nxt = c->rcv_adv = c->rcv_acked = s->seq;
	c->snd_wnd = c->max_snd_wnd = w->wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->snd_mss = mss < c->rcv_mss ? mss : c->rcv_mss;
	if (tcp_tcb_hash(c, 0) != 0) {
		tcp_tcb_free(c);
		return VERDICT(A_DROP, NO_MEMORY);
	}
	link_child(l, c);
	enter_established(c, SYNACK_CAUSE_SYNCOOKIE);
	acceptq_add(l, c);
	*child = c;
	return CONTINUE;
}

static struct verdict listen_segment_arrives(struct tcb *l, struct rx *s, uint32_t iss_floor,
                                             int use_floor, struct tcb **child)
{
	struct synack_stack *st = l->st;
	struct tcp_listen *q = tcp_lsn(l);
	struct tcb *c;

	/* First, check for a RST: an incoming RST is ignored. */
	if (has(s, SYNACK_TH_RST))
		return VERDICT(A_DROP, LISTEN_RST);
	/* Second, an ACK in LISTEN is bad: <SEQ=SEG.ACK><CTL=RST>, unless it
	 * answers a SYN cookie. */
	if (has(s, SYNACK_TH_ACK)) {
		if (child && !has(s, SYNACK_TH_SYN) && cookies_live(l))
			return cookie_ack_arrives(l, s, child);
		return VERDICT(A_DROP_RST, LISTEN_ACK);
	}
	/* Fourth, anything but a SYN is dropped. */
	if (!has(s, SYNACK_TH_SYN))
		return VERDICT(A_DROP, LISTEN_NO_SYN);

	/* Third, a SYN.  A full accept queue refuses it, cookies or not: a
	 * connection made now could not be accepted either (as Linux). */
	if (q->acq_len >= q->backlog) {
		STAT_INC(st, ListenOverflows);
		STAT_INC(st, ListenDrops);
		return VERDICT(A_DROP, LISTEN_OVERFLOW);
	}
	/* The SYN queue holds min(backlog, max_syn_backlog) half-open
	 * connections; past it, a cookie answers (RFC 4987) or the SYN is
	 * dropped. */
	uint32_t synq_max =
	    q->backlog < st->cfg.max_syn_backlog ? q->backlog : st->cfg.max_syn_backlog;
	if (st->cfg.syncookies == 2 || (st->cfg.syncookies == 1 && q->syn_len >= synq_max)) {
		send_cookie_syn_ack(l, s);
		return ACCEPT;
	}
	if (q->syn_len >= synq_max) {
		STAT_INC(st, ListenDrops);
		return VERDICT(A_DROP, LISTEN_OVERFLOW);
	}
	c = child_new(l, s);
	if (!c)
		return VERDICT(A_DROP, NO_MEMORY);
	c->iss = tcp_isn(st, &c->t);
	/* RFC 1122 4.2.2.13: a connection reopened from TIME_WAIT must start
	 * above every sequence number the old incarnation used. */
	if (use_floor && seq_leq(c->iss, iss_floor))
		c->iss = iss_floor + 1;
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->iss + 1;
	c->snd_buf_seq = c->iss + 1;
	learn_peer(c, s);
	c->snd_wl2 = c->iss; /* no ACK came with the SYN */
	if (tcp_tcb_hash(c, 0) != 0) {
		tcp_tcb_free(c);
		return VERDICT(A_DROP, NO_MEMORY);
	}
	link_child(l, c);
	s->iss = c->iss;
	s->irs = c->irs;
	/* Data on a SYN is not queued: it is not acknowledged and the peer
	 * sends it again once the connection is established. */
	tcp_set_state(c, SYNACK_SYN_RECEIVED, SYNACK_CAUSE_RCV_SYN);
	tcp_send_syn(c);
	tcp_arm_rtx(c);
	tcp_rearm(c);
	return ACCEPT;
}

/* ------------------------------------------------------------------ */
/* SYN-SENT (RFC 9293 3.10.7.3).                                       */

static void enter_established(struct tcb *tcb, int cause)
{
	/* RFC 6298 5.7: after a SYN was retransmitted, data transmission
	 * starts with an RTO of at least 3 s unless an RTT was measured. */
	if (tcb->backoff && tcb->srtt_us == 0 && tcb->rto_us < 3000000u)
		tcb->rto_us = 3000000u;
	tcb->backoff = 0;
	tcp_cc_init(tcb);
	tcp_set_state(tcb, SYNACK_ESTABLISHED, cause);
	tcp_keepalive_reset(tcb);
}

static struct verdict process_text(struct tcb *tcb, struct rx *s);
static struct verdict check_fin(struct tcb *tcb, struct rx *s);
static void trim_to_window(struct tcb *tcb, struct rx *s);

static struct verdict syn_sent_segment_arrives(struct tcb *tcb, struct rx *s)
{
	int ack_ok = 0;
	/* First, check the ACK bit: it must acknowledge our SYN and nothing
	 * beyond, ISS < SEG.ACK =< SND.NXT. */
	if (has(s, SYNACK_TH_ACK)) {
		if (seq_leq(s->ack, tcb->iss) || seq_gt(s->ack, tcb->snd_max)) {
			if (has(s, SYNACK_TH_RST))
				return VERDICT(A_DROP, SYN_SENT_BAD_ACK);
			return VERDICT(A_DROP_RST, SYN_SENT_BAD_ACK);
		}
		ack_ok = 1;
	}
	/* Second, check the RST bit: with an acceptable ACK the peer refused
	 * us (RFC 5961 3.2 is satisfied by the ACK check above). */
	if (has(s, SYNACK_TH_RST)) {
		if (!ack_ok)
			return VERDICT(A_DROP, SYN_SENT_RST_NO_ACK);
		STAT_INC(tcb->st, InRsts);
		tcp_done(tcb, SYNACK_CAUSE_RCV_RST, -ECONNREFUSED);
		return GONE;
	}
	/* Fourth, check the SYN bit. */
	if (!has(s, SYNACK_TH_SYN))
		return VERDICT(A_DROP, SYN_SENT_NO_SYN);

	learn_peer(tcb, s);
	s->irs = tcb->irs;
	if (ack_ok) {
		tcb->snd_una = s->ack;
		if (tcb->rtt_timing && !tcb->backoff)
			tcp_rtt_sample(tcb, (uint32_t)(tcb->st->now - tcb->rtt_start));
		tcb->rtt_timing = 0;
		tcb->rtx_at = SYNACK_NEVER;
		enter_established(tcb, SYNACK_CAUSE_RCV_SYN_ACK);
		tcp_rearm(tcb);
		/* Text or a FIN on the SYN-ACK: continue at the sixth step. */
		trim_to_window(tcb, s);
		struct verdict v = process_text(tcb, s);
		if (v.action == A_CONTINUE)
			v = check_fin(tcb, s);
		if (v.action == A_GONE || v.action == A_GONE_DROP)
			return v;
		uint64_t sent = tcb->st->stats.OutSegs;
		tcp_output(tcb); /* data queued while in SYN-SENT carries the ACK */
		if (tcb->st->stats.OutSegs == sent)
			tcp_send_ack(tcb);
		return v.action == A_CONTINUE ? ACCEPT : v;
	}
	/* Simultaneous open: a SYN without ACK.  Our SYN is still
	 * unacknowledged; what we send from now on is SYN-ACK. */
	tcb->snd_wl2 = tcb->iss;
	tcp_set_state(tcb, SYNACK_SYN_RECEIVED, SYNACK_CAUSE_RCV_SYN);
	tcp_send_syn(tcb);
	return ACCEPT;
}

/* ------------------------------------------------------------------ */
/* Synchronized states (RFC 9293 3.10.7.4).                            */

/*
 * First, check the sequence number against the receive window, using the
 * four cases of the acceptability test, then trim the text to the window.
 */
static struct verdict check_sequence(struct tcb *tcb, struct rx *s)
{
	uint32_t wnd = tcp_rcv_window(tcb);
	uint32_t nxt = tcb->rcv_nxt;
	int ok;
	if (s->len == 0)
		ok = wnd == 0 ? s->seq == nxt : seq_in(s->seq, nxt, nxt + wnd);
	else
		ok = wnd != 0 && (seq_in(s->seq, nxt, nxt + wnd) ||
		                  seq_in(s->seq + s->len - 1, nxt, nxt + wnd));
	/* With a zero window, valid ACKs and RSTs must still get through:
	 * a segment at RCV.NXT is taken for its control bits, its text
	 * trimmed away below. */
	if (!ok && wnd == 0 && s->seq == nxt)
		ok = 1;
	if (!ok) {
		if (has(s, SYNACK_TH_RST))
			return VERDICT(A_DROP, RST_OUT_OF_WINDOW);
		/* The peer's SYN again while ours is unacknowledged: our
		 * SYN-ACK was lost, so the useful "ACK" is the SYN-ACK itself
		 * (what Linux and FreeBSD do; a bare ACK would be dropped by
		 * a peer in SYN-SENT). */
		if (tcb->state == SYNACK_SYN_RECEIVED && has(s, SYNACK_TH_SYN) &&
		    !has(s, SYNACK_TH_ACK) && s->seq == tcb->irs)
			return VERDICT(A_DROP_SYNACK, DUP_SYN);
		/* RFC 5961 4.2: a SYN gets a challenge ACK whatever its
		 * sequence number (rate-limited like every challenge). */
		if (has(s, SYNACK_TH_SYN)) {
			STAT_INC(tcb->st, SynChallenge);
			return VERDICT(A_DROP_CHALLENGE, SYN_CHALLENGED);
		}
		return VERDICT(A_DROP_ACK, SEQ_OUT_OF_WINDOW);
	}
	trim_to_window(tcb, s);
	return CONTINUE;
}

/* Only the new part of a segment that straddles the window edges is
 * processed: old bytes on the left and bytes past the window on the right
 * are cut off (a FIN past the window goes with them). */
static void trim_to_window(struct tcb *tcb, struct rx *s)
{
	uint32_t nxt = tcb->rcv_nxt;
	uint32_t wnd_end = nxt + tcp_rcv_window(tcb);
	s->data = s->w->data;
	s->data_seq = s->seq + !!has(s, SYNACK_TH_SYN);
	s->data_len = s->w->data_len;
	s->fin = has(s, SYNACK_TH_FIN);
	if (seq_lt(s->data_seq, nxt)) {
		uint32_t cut = nxt - s->data_seq;
		if (cut >= s->data_len) {
			/* All text is old; the FIN is old too unless it sits
			 * exactly at RCV.NXT. */
			if (s->fin && s->data_seq + s->data_len != nxt)
				s->fin = 0;
			cut = s->data_len;
		}
		s->data += cut;
		s->data_len -= cut;
		s->data_seq += cut;
		if (cut)
			s->need_ack = s->ack_now = 1;
	}
	if (seq_gt(s->data_seq + s->data_len, wnd_end)) {
		s->data_len = seq_gt(wnd_end, s->data_seq) ? wnd_end - s->data_seq : 0;
		s->fin = 0;
		s->need_ack = s->ack_now = 1;
	}
}

/* Second, check the RST bit: only an exact match resets (RFC 5961 3.2). */
static struct verdict check_rst(struct tcb *tcb, struct rx *s)
{
	struct synack_stack *st = tcb->st;
	if (!has(s, SYNACK_TH_RST))
		return CONTINUE;
	if (s->seq != tcb->rcv_nxt) {
		STAT_INC(st, RstChallenge);
		return VERDICT(A_DROP_CHALLENGE, RST_CHALLENGED);
	}
	STAT_INC(st, InRsts);
	switch (tcb->state) {
	case SYNACK_SYN_RECEIVED:
		if (tcb->passive) {
			/* Back to LISTEN: the embryonic connection goes away,
			 * the listener stays. */
			tcp_set_state(tcb, SYNACK_LISTEN, SYNACK_CAUSE_RCV_RST);
			tcp_done(tcb, SYNACK_CAUSE_RCV_RST, 0);
		} else {
			tcp_done(tcb, SYNACK_CAUSE_RCV_RST, -ECONNREFUSED);
		}
		return GONE;
	case SYNACK_ESTABLISHED:
	case SYNACK_FIN_WAIT_1:
	case SYNACK_FIN_WAIT_2:
	case SYNACK_CLOSE_WAIT:
		tcp_done(tcb, SYNACK_CAUSE_RCV_RST, -ECONNRESET);
		return GONE;
	default: /* CLOSING, LAST_ACK */
		tcp_done(tcb, SYNACK_CAUSE_RCV_RST, 0);
		return GONE;
	}
}

/* Fourth, check the SYN bit (the third, security, does not apply). */
static struct verdict check_syn(struct tcb *tcb, struct rx *s)
{
	if (!has(s, SYNACK_TH_SYN))
		return CONTINUE;
	if (tcb->state == SYNACK_SYN_RECEIVED && tcb->passive) {
		/* RFC 9293: a passive open returns to LISTEN. */
		tcp_set_state(tcb, SYNACK_LISTEN, SYNACK_CAUSE_RCV_SYN);
		tcp_done(tcb, SYNACK_CAUSE_RCV_SYN, 0);
		return GONE;
	}
	/* RFC 5961 4.2: whatever its sequence number, answer with a challenge
	 * ACK; a peer that really restarted answers that with a RST. */
	STAT_INC(tcb->st, SynChallenge);
	return VERDICT(A_DROP_CHALLENGE, SYN_CHALLENGED);
}

/* SND.UNA advances to ack: the send side drops acknowledged data, times
 * the round trip, tells recovery and congestion control, and restarts or
 * stops the retransmission timer (tcp_snd_acked). */
static void ack_advances(struct tcb *tcb, uint32_t ack)
{
	/* The path works: an old ICMP error explains no later timeout. */
	if (tcb->rare)
		tcb->rare->soft_err = 0;
	tcp_snd_acked(tcb, ack);
	if (tcb->sockfd >= 0)
		stack_notify(tcb->st, tcb->sockfd);
}

/* Fifth, check the ACK field. */
static struct verdict check_ack(struct tcb *tcb, struct rx *s)
{
	struct synack_stack *st = tcb->st;
	if (!has(s, SYNACK_TH_ACK))
		return VERDICT(A_DROP, NO_ACK);

	if (tcb->state == SYNACK_SYN_RECEIVED) {
		if (!(seq_gt(s->ack, tcb->snd_una) && seq_leq(s->ack, tcb->snd_max)))
			return VERDICT(A_DROP_RST, SYN_RECEIVED_BAD_ACK);
		struct tcb *l = tcp_listener_of(tcb);
		if (l && tcp_lsn(l)->acq_len >= tcp_lsn(l)->backlog) {
			/* The accept queue is full: like Linux, ignore the
			 * ACK (our SYN-ACK retransmission asks for it again),
			 * or with abort_on_overflow reset the connection. */
			struct verdict v = accept_queue_overflow(st);
			if (v.action == A_DROP_RST) {
				tcp_reset_reply(st, s->w);
				tcp_done(tcb, SYNACK_CAUSE_LISTEN_OVERFLOW, 0);
				return VERDICT(A_GONE_DROP, LISTEN_OVERFLOW);
			}
			return v;
		}
		tcb->snd_wnd = s->w->wnd;
		tcb->snd_wl1 = s->seq;
		tcb->snd_wl2 = s->ack;
		if (tcb->snd_wnd > tcb->max_snd_wnd)
			tcb->max_snd_wnd = tcb->snd_wnd;
		ack_advances(tcb, s->ack);
		enter_established(tcb, SYNACK_CAUSE_RCV_ACK);
		if (l)
			acceptq_add(l, tcb);
		return CONTINUE;
	}

	/* RFC 9293 / RFC 5961 5.2: acceptable only if
	 * SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT (SND.MAX here).
	 * Anything else is dropped and answered with a challenge ACK (section
	 * 5.2): a blind attacker who guessed an in-window sequence number
	 * must guess the acknowledgment too, and its text is never taken. */
	if (seq_gt(s->ack, tcb->snd_max)) {
		STAT_INC(st, AckChallenge);
		return VERDICT(A_DROP_CHALLENGE, ACK_FUTURE);
	}
	if (seq_lt(s->ack, tcb->snd_una - tcb->max_snd_wnd)) {
		STAT_INC(st, AckChallenge);
		return VERDICT(A_DROP_CHALLENGE, ACK_UNACCEPTABLE);
	}

	if (seq_gt(s->ack, tcb->snd_una))
		ack_advances(tcb, s->ack);
	else if (s->ack == tcb->snd_una && tcb->snd_una != tcb->snd_max && s->w->data_len == 0 &&
	         !has(s, SYNACK_TH_SYN | SYNACK_TH_FIN) && s->w->wnd == tcb->snd_wnd)
		/* A duplicate ACK as RFC 5681 section 2 defines it. */
		tcp_recovery_dupack(tcb);
	/* Update the send window from the newest segment only. */
	if (seq_lt(tcb->snd_wl1, s->seq) ||
	    (tcb->snd_wl1 == s->seq && seq_leq(tcb->snd_wl2, s->ack))) {
		tcb->snd_wnd = s->w->wnd;
		tcb->snd_wl1 = s->seq;
		tcb->snd_wl2 = s->ack;
		if (tcb->snd_wnd > tcb->max_snd_wnd)
			tcb->max_snd_wnd = tcb->snd_wnd;
		/* A peer answering our window probes is alive: probing
		 * must not count toward giving up (RFC 1122 4.2.2.17). */
		if (tcb->snd_wnd == 0) {
			tcb->backoff = 0;
			tcb->unacked_since = st->now;
		}
	}

	switch (tcb->state) {
	case SYNACK_FIN_WAIT_1:
		if (tcp_fin_acked(tcb)) {
			tcp_set_state(tcb, SYNACK_FIN_WAIT_2, SYNACK_CAUSE_RCV_ACK_OF_FIN);
			if (tcb->orphan)
				tcb->fin2_at = st->now + (uint64_t)st->cfg.fin_timeout_ms * 1000u;
		}
		break;
	case SYNACK_CLOSING:
		if (tcp_fin_acked(tcb)) {
			tcp_time_wait(tcb, SYNACK_CAUSE_RCV_ACK_OF_FIN);
			return GONE;
		}
		/* Otherwise the segment is ignored. */
		return ACCEPT;
	case SYNACK_LAST_ACK:
		if (tcp_fin_acked(tcb)) {
			tcp_done(tcb, SYNACK_CAUSE_RCV_ACK_OF_FIN, 0);
			return GONE;
		}
		break;
	default:
		break;
	}
	return CONTINUE;
}

/* ------------------------------------------------------------------ */
/* Seventh, process the segment text; out-of-order text is held.       */

static void ofo_drop(struct tcb *tcb)
{
	while (tcb->ofo) {
		struct ofo_seg *o = tcb->ofo;
		tcb->ofo = o->next;
		tcb->ofo_bytes -= o->len;
		tcb->st->ofo_total -= o->len;
		tcp_ofo_free(tcb->st, o);
	}
}

static struct ofo_seg *ofo_new(struct tcb *tcb, uint32_t seq, const uint8_t *data, uint32_t len)
{
	/* The cache's objects hold a datagram of our MTU; a peer that ignores
	 * our MSS can send more, which gets an allocation of its own. */
	struct synack_stack *st = tcb->st;
	int big = sizeof(struct ofo_seg) + len > st->ofo_slab.size;
	struct ofo_seg *o = big ? malloc(sizeof(*o) + len) : slab_alloc(&st->ofo_slab);
	if (!o)
		return NULL;
	o->big = (uint8_t)big;
	o->next = NULL;
	o->seq = seq;
	o->len = len;
	o->fin = 0;
	if (len)
		memcpy(o->data, data, len);
	tcb->ofo_bytes += len;
	tcb->st->ofo_total += len;
	return o;
}

/*
 * Holds [seq, seq+len) (and a FIN after it) until the gap before it fills.
 * The list stays sorted and free of overlaps: bytes already held win, and
 * only the gaps between held segments are filled from the new one.
 */
static int ofo_insert(struct tcb *tcb, uint32_t seq, const uint8_t *data, uint32_t len, int fin)
{
	struct ofo_seg **pp = &tcb->ofo;
	uint32_t cur = seq, end = seq + len;
	struct ofo_seg *last = NULL; /* the held segment ending at `end` */
	while (seq_lt(cur, end)) {
		/* Skip what ends before cur (a FIN marker at cur stops us). */
		while (*pp && (seq_lt((*pp)->seq + (*pp)->len, cur) ||
		               ((*pp)->len && (*pp)->seq + (*pp)->len == cur)))
			pp = &(*pp)->next;
		struct ofo_seg *o = *pp;
		if (o && o->len == 0 && o->seq == cur)
			return 0; /* bytes after a FIN are never valid */
		if (o && seq_leq(o->seq, cur)) {
			cur = o->seq + o->len;
			if (cur == end || seq_gt(cur, end))
				last = o;
			pp = &o->next;
			continue;
		}
		uint32_t gap_end = o && seq_lt(o->seq, end) ? o->seq : end;
		/* The stack-wide reassembly budget: what does not fit is
		 * not held (the peer sends it again). */
		if (tcb->st->ofo_total + (gap_end - cur) > tcb->st->cfg.ofo_budget)
			return -ENOBUFS;
		struct ofo_seg *n = ofo_new(tcb, cur, data + (cur - seq), gap_end - cur);
		if (!n)
			return -ENOMEM;
		n->next = o;
		*pp = n;
		pp = &n->next;
		cur = gap_end;
		if (cur == end)
			last = n;
	}
	if (fin) {
		if (!last) {
			/* A bare FIN, or one after text that is all held:
			 * find or make the zero-length entry at `end`. */
			pp = &tcb->ofo;
			while (*pp && seq_lt((*pp)->seq + (*pp)->len, end))
				pp = &(*pp)->next;
			if (*pp && (*pp)->seq + (*pp)->len == end) {
				last = *pp;
			} else {
				last = ofo_new(tcb, end, NULL, 0);
				if (!last)
					return -ENOMEM;
				last->next = *pp;
				*pp = last;
			}
		}
		last->fin = 1;
		STAT_INC(tcb->st, DelayedFinQueued);
	}
	STAT_INC(tcb->st, OfoQueued);
	return 0;
}

/* Appends in-order text to the receive buffer.  Returns bytes taken. */
static uint32_t deliver(struct tcb *tcb, const uint8_t *data, uint32_t len)
{
	uint32_t n = len ? ring_write_pool(&tcb->rcv_buf, &tcb->st->buf_slab, data, len) : 0;
	tcb->rcv_nxt += n;
	return n;
}

/* Moves held segments that the new text made contiguous. */
static void ofo_pull(struct tcb *tcb, struct rx *s)
{
	while (tcb->ofo && seq_leq(tcb->ofo->seq, tcb->rcv_nxt)) {
		struct ofo_seg *o = tcb->ofo;
		uint32_t end = o->seq + o->len;
		if (seq_gt(end, tcb->rcv_nxt)) {
			uint32_t off = tcb->rcv_nxt - o->seq;
			if (deliver(tcb, o->data + off, o->len - off) != o->len - off)
				return; /* no memory: keep it, try again later */
		}
		if (o->fin && end == tcb->rcv_nxt)
			s->fin_in_seq = 1;
		tcb->ofo = o->next;
		tcb->ofo_bytes -= o->len;
		tcb->st->ofo_total -= o->len;
		tcp_ofo_free(tcb->st, o);
		if (s->fin_in_seq)
			break;
	}
}

static struct verdict process_text(struct tcb *tcb, struct rx *s)
{
	if (!tcp_receives_text(tcb->state)) {
		/* CLOSE_WAIT, CLOSING, LAST_ACK: the peer's FIN has come, so
		 * text should not occur; it is ignored. */
		if (s->data_len)
			return VERDICT(A_DROP_ACK, DATA_AFTER_FIN);
		return CONTINUE;
	}
	if (s->data_len == 0) {
		if (s->fin && s->data_seq == tcb->rcv_nxt)
			s->fin_in_seq = 1;
		else if (s->fin && ofo_insert(tcb, s->data_seq, NULL, 0, 1) == 0)
			s->need_ack = s->ack_now = 1;
		return CONTINUE;
	}
	if (tcb->orphan) {
		/* RFC 1122 4.2.2.13: data arriving after the application
		 * closed cannot be delivered; say so with a reset. */
		STAT_INC(tcb->st, AbortOnData);
		tcp_send_rst_for(tcb);
		tcp_done(tcb, SYNACK_CAUSE_RCV_DATA_AFTER_CLOSE, 0);
		return VERDICT(A_GONE_DROP, DATA_AFTER_CLOSE);
	}
	s->need_ack = 1;
	if (s->data_len > tcb->rcv_seg_max)
		tcb->rcv_seg_max = s->data_len < tcb->rcv_mss ? s->data_len : tcb->rcv_mss;
	/* RFC 5681 4.2: acknowledge out-of-order data at once (the sender
	 * counts duplicate ACKs), and data that fills a gap. */
	if (s->data_seq != tcb->rcv_nxt || tcb->ofo)
		s->ack_now = 1;
	if (s->data_seq == tcb->rcv_nxt) {
		uint32_t n = deliver(tcb, s->data, s->data_len);
		if (n < s->data_len) {
			/* Out of memory for the buffer: take what fit; the
			 * rest (and any FIN) is sent again by the peer. */
			s->fin = 0;
			stack_count_drop(tcb->st, SYNACK_DROP_NO_MEMORY);
		} else if (s->fin) {
			s->fin_in_seq = 1;
		}
		if (tcb->ofo && !s->fin_in_seq)
			ofo_pull(tcb, s);
		if (tcb->sockfd >= 0)
			stack_notify(tcb->st, tcb->sockfd);
	} else {
		int err = ofo_insert(tcb, s->data_seq, s->data, s->data_len, s->fin);
		if (err == -ENOBUFS) {
			STAT_INC(tcb->st, OfoDrop);
			stack_count_drop(tcb->st, SYNACK_DROP_OFO_BUDGET);
		} else if (err) {
			stack_count_drop(tcb->st, SYNACK_DROP_NO_MEMORY);
		}
	}
	return CONTINUE;
}

/* Eighth, check the FIN bit: it takes effect only in sequence, after
 * every byte before it has arrived. */
static struct verdict check_fin(struct tcb *tcb, struct rx *s)
{
	struct synack_stack *st = tcb->st;
	if (!s->fin_in_seq)
		return CONTINUE;
	tcb->rcv_nxt += 1;
	tcb->rcv_fin = 1;
	ofo_drop(tcb); /* nothing can follow the FIN */
	if (tcb->sockfd >= 0)
		stack_notify(st, tcb->sockfd);
	switch (tcb->state) {
	case SYNACK_SYN_RECEIVED:
	case SYNACK_ESTABLISHED:
		tcp_set_state(tcb, SYNACK_CLOSE_WAIT, SYNACK_CAUSE_RCV_FIN);
		if (st->cfg.close_wait_timeout_ms) {
			tcb->close_wait_at =
			    st->now + (uint64_t)st->cfg.close_wait_timeout_ms * 1000u;
			tcp_rearm(tcb);
		}
		break;
	case SYNACK_FIN_WAIT_1:
		/* Our FIN not yet acknowledged (else we would be in
		 * FIN_WAIT_2 by now): simultaneous close. */
		tcp_set_state(tcb, SYNACK_CLOSING, SYNACK_CAUSE_RCV_FIN);
		break;
	case SYNACK_FIN_WAIT_2:
		tcp_send_ack(tcb);
		tcp_time_wait(tcb, SYNACK_CAUSE_RCV_FIN);
		return GONE;
	default:
		break;
	}
	s->need_ack = s->ack_now = 1;
	return CONTINUE;
}

static struct verdict synchronized_segment_arrives(struct tcb *tcb, struct rx *s)
{
	/* Simultaneous open (RFC 9293 Figure 8, line 7): in SYN-RECEIVED the
	 * peer's SYN-ACK repeats the SYN we already took, which the sequence
	 * check would refuse; what counts is its ACK of our SYN.  Like Linux,
	 * take it without the SYN and acknowledge it. */
	if (tcb->state == SYNACK_SYN_RECEIVED && !tcb->passive && has(s, SYNACK_TH_SYN) &&
	    has(s, SYNACK_TH_ACK) && s->seq == tcb->irs && s->ack == tcb->snd_nxt) {
		s->flags &= (uint8_t)~SYNACK_TH_SYN;
		s->seq += 1;
		s->len -= 1;
		s->need_ack = s->ack_now = 1;
	}
	struct verdict v = check_sequence(tcb, s);
	if (v.action == A_CONTINUE)
		v = check_rst(tcb, s);
	if (v.action == A_CONTINUE)
		v = check_syn(tcb, s);
	if (v.action == A_CONTINUE)
		v = check_ack(tcb, s);
	if (v.action == A_CONTINUE)
		v = process_text(tcb, s);
	if (v.action == A_CONTINUE)
		v = check_fin(tcb, s);
	if (v.action != A_CONTINUE && v.action != A_ACCEPT)
		return v;
	/* The ACK may have opened the window or freed the buffer; what we
	 * send carries the acknowledgment, else it is sent or delayed. */
	uint64_t sent = tcb->st->stats.OutSegs;
	tcp_output(tcb);
	if (s->need_ack && tcb->st->stats.OutSegs == sent)
		tcp_ack_later(tcb, s->ack_now);
	tcp_rearm(tcb);
	return ACCEPT;
}

/* ------------------------------------------------------------------ */
/* TIME-WAIT, answered from the compact record.                        */

static struct tcb *find_listener(struct synack_stack *st, uint32_t addr, uint16_t port)
{
	struct tuple k = {addr, 0, port, 0};
	struct hnode *n = htable_find(&st->listeners, &k);
	if (!n) {
		k.laddr = 0;
		n = htable_find(&st->listeners, &k);
	}
	return n ? container_of(container_of(n, struct conn_head, node), struct tcb, h) : NULL;
}

static void tw_segment_arrives(struct synack_stack *st, struct tw *tw, struct rx *s)
{
	uint32_t nxt = tw->rcv_nxt;
	uint32_t wnd = tcp_tw_rcv_wnd(tw) ? tcp_tw_rcv_wnd(tw) : 1;
	struct verdict v = ACCEPT;
	int send_ack = 0;
	s->iss = tw->iss;
	s->irs = tw->irs;
	if (has(s, SYNACK_TH_RST) && st->cfg.rfc1337) {
		/* RFC 1337 (TIME-WAIT assassination): a RST must not cut
		 * TIME_WAIT short, so it is ignored whatever it says. */
		STAT_INC(st, TimeWaitRstIgnored);
		v = VERDICT(A_DROP, TIME_WAIT_RST);
	} else if (has(s, SYNACK_TH_RST)) {
		if (s->seq == nxt) {
			STAT_INC(st, InRsts);
			trace_arrival(st, s, ACCEPT);
			tcp_tw_free(st, tw, SYNACK_CAUSE_RCV_RST);
			return;
		}
		if (seq_in(s->seq, nxt, nxt + wnd)) {
			STAT_INC(st, RstChallenge);
			STAT_INC(st, ChallengeAcks);
			v = VERDICT(A_DROP, RST_CHALLENGED);
			send_ack = 1;
		} else {
			v = VERDICT(A_DROP, RST_OUT_OF_WINDOW);
		}
	} else if (has(s, SYNACK_TH_SYN)) {
		struct tcb *l = find_listener(st, s->w->daddr, s->w->dport);
		if (l && seq_gt(s->seq, nxt) && !has(s, SYNACK_TH_ACK)) {
			/* RFC 1122 4.2.2.13 (RFC 6191 without timestamps): a
			 * SYN above the old RCV.NXT may reopen the connection,
			 * with an ISN above the old SND.NXT. */
			uint32_t floor = tw->snd_nxt + 65536u;
			STAT_INC(st, TimeWaitRecycled);
			tcp_tw_free(st, tw, SYNACK_CAUSE_TIME_WAIT_NEW_SYN);
			v = listen_segment_arrives(l, s, floor, 1, NULL);
			trace_arrival(st, s, v);
			if (v.action == A_DROP_RST)
				tcp_reset_reply(st, s->w);
			return;
		}
		STAT_INC(st, SynChallenge);
		STAT_INC(st, ChallengeAcks);
		v = VERDICT(A_DROP, SYN_CHALLENGED);
		send_ack = 1;
	} else if (has(s, SYNACK_TH_FIN) && s->seq + s->len == nxt) {
		/* The peer's FIN again: our last ACK was lost.  Acknowledge
		 * it and restart the 2 MSL timeout. */
		tw = tcp_tw_restart(st, tw);
		send_ack = 1;
	} else {
		/* Old duplicates and stray text: absorbed, never delivered.
		 * Anything but a bare in-window ACK is re-ACKed; a bare ACK
		 * is absorbed silently whatever it acknowledges (RFC 9293:
		 * only a FIN retransmission is expected here; Linux does the
		 * same). */
		int acceptable = s->len == 0 && seq_in(s->seq, nxt, nxt + wnd);
		v = VERDICT(A_DROP, TIME_WAIT_OLD);
		send_ack = !acceptable;
	}
	trace_arrival(st, s, v);
	if (send_ack)
		tcp_tw_send_ack(st, tw);
}

/* ------------------------------------------------------------------ */

static struct verdict tcb_segment_arrives(struct tcb *tcb, struct rx *s)
{
	s->iss = tcb->iss;
	s->irs = tcb->irs;
	/* The peer is alive: keepalive counts idleness from here. */
	tcb->last_rcv = tcb->st->now;
	if (tcb->opts.keepalive)
		tcp_keepalive_reset(tcb);
	if (tcb->state == SYNACK_SYN_SENT)
		return syn_sent_segment_arrives(tcb, s);
	return synchronized_segment_arrives(tcb, s);
}

static void segment_arrives(struct synack_stack *st, const struct wire_tcp *w, struct rx *s);

int tcp_input(struct synack_stack *st, const struct wire_tcp *w)
{
	struct rx s;
	segment_arrives(st, w, &s);
	return s.dropped;
}

static void segment_arrives(struct synack_stack *st, const struct wire_tcp *w, struct rx *s)
{
	struct tuple key = {w->daddr, w->saddr, w->dport, w->sport};
	struct hnode *n;

	memset(s, 0, sizeof(*s));
	s->w = w;
	s->seq = w->seq;
	s->ack = w->ack;
	s->flags = w->flags;
	s->len = w->data_len + !!(w->flags & SYNACK_TH_SYN) + !!(w->flags & SYNACK_TH_FIN);
	begin_trace(st, s);

	n = htable_find(&st->conns, &key);
	if (n) {
		struct conn_head *h = container_of(n, struct conn_head, node);
		if (h->node.kind == CONN_TW) {
			tw_segment_arrives(st, container_of(h, struct tw, h), s);
			return;
		}
		struct tcb *tcb = container_of(h, struct tcb, h);
		struct verdict v = tcb_segment_arrives(tcb, s);
		if (v.action == A_GONE || v.action == A_GONE_DROP) {
			trace_arrival(st, s, v.action == A_GONE ? ACCEPT : v);
			return;
		}
		finish_tcb(tcb, s, v);
		return;
	}
	struct tcb *l = find_listener(st, w->daddr, w->dport);
	if (l) {
		struct tcb *child = NULL;
		struct verdict v = listen_segment_arrives(l, s, 0, 0, &child);
		if (child) {
			/* A SYN cookie made the connection: it takes the
			 * segment from here, like any connection. */
			v = tcb_segment_arrives(child, s);
			if (v.action == A_GONE || v.action == A_GONE_DROP)
				trace_arrival(st, s, v.action == A_GONE ? ACCEPT : v);
			else
				finish_tcb(child, s, v);
			return;
		}
		trace_arrival(st, s, v);
		if (v.action == A_DROP_RST)
			tcp_reset_reply(st, w);
		return;
	}
	closed_segment_arrives(st, s);
}
