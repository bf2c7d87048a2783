/*
 * TCB lifecycle: creation, the one function that changes state, the end of a
 * connection, TIME_WAIT records, and initial sequence numbers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "sock/sock.h"
#include "tcp/tcp.h"

struct tcb *tcp_tcb_new(struct synack_stack *st)
{
	struct tcb *tcb = slab_alloc(&st->tcb_slab);
	if (!tcb)
		return NULL;
	memset(tcb, 0, sizeof(*tcb));
	if (tcp_snd_new(tcb)) {
		slab_free(&st->tcb_slab, tcb);
		return NULL;
	}
	tcb->h.node.kind = CONN_TCB;
	timer_node_init(&tcb->timer);
	tcb->st = st;
	tcb->state = SYNACK_CLOSED;
	tcb->state_since = st->now;
	tcb->sockfd = -1;
	tcb->rto_us = st->cfg.rto_initial_ms * 1000u;
	tcb->rtx_at = tcb->fin2_at = tcb->close_wait_at = SYNACK_NEVER;
	tcb->delack_at = tcb->ka_at = SYNACK_NEVER;
	tcb->snd_mss = 536; /* RFC 9293 3.7.1: the default when no MSS option arrives */
	ring_init(&tcb->snd_buf, st->cfg.sndbuf);
	ring_init(&tcb->rcv_buf, st->cfg.rcvbuf);
	st->stats.conns_live++;
	return tcb;
}

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

struct tcb_rare *tcp_rare(struct tcb *tcb)
{
	if (tcb->rare)
		return tcb->rare;
	struct tcb_rare *r = slab_alloc(&tcb->st->rare_slab);
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->oow_ack_at = SYNACK_NEVER;
	tcb->rare = r;
	return r;
}

/* The listener's queues or the child's links. */
static void ext_free(struct tcb *tcb)
{
	if (tcb->listening)
		free(tcb->ext.lsn);
	else
		slab_free(&tcb->st->child_slab, tcb->ext.ch);
	tcb->ext.lsn = NULL;
}

void tcp_tcb_ext_free(struct tcb *tcb)
{
	ext_free(tcb);
	tcp_snd_free(tcb);
	slab_free(&tcb->st->rare_slab, tcb->rare);
	tcb->rare = NULL;
}

void tcp_ofo_free(struct synack_stack *st, struct ofo_seg *o)
{
	if (o->big)
		free(o);
	else
		slab_free(&st->ofo_slab, o);
}

static void ofo_free(struct tcb *tcb)
{
	while (tcb->ofo) {
		struct ofo_seg *o = tcb->ofo;
		tcb->ofo = o->next;
		tcp_ofo_free(tcb->st, o);
	}
	tcb->st->ofo_total -= tcb->ofo_bytes;
	tcb->ofo_bytes = 0;
}

void tcp_tcb_free(struct tcb *tcb)
{
	struct synack_stack *st = tcb->st;
	timer_cancel(&st->timers, &tcb->timer);
	tcp_tcb_unhash(tcb);
	ofo_free(tcb);
	ring_fini_pool(&tcb->snd_buf, &st->buf_slab);
	ring_fini_pool(&tcb->rcv_buf, &st->buf_slab);
	tcp_tcb_ext_free(tcb);
	if (tcb->orphan)
		st->stats.orphans_live--;
	st->stats.conns_live--;
	slab_free(&st->tcb_slab, tcb);
}

int tcp_is_orphan(const struct tcb *tcb)
{
	return tcb->orphan;
}

int tcp_tcb_hash(struct tcb *tcb, int listening)
{
	struct synack_stack *st = tcb->st;
	int err;
	if (tcb->h.node.table)
		return 0;
	tcb->h.node.key = tcb->t;
	if (listening) {
		tcb->h.node.key.raddr = 0;
		tcb->h.node.key.rport = 0;
	}
	err = htable_insert(listening ? &st->listeners : &st->conns, &tcb->h.node);
	if (err == 0)
		tcb->h.node.table = listening ? HASHED_LISTENERS : HASHED_CONNS;
	return err;
}

void tcp_tcb_unhash(struct tcb *tcb)
{
	struct synack_stack *st = tcb->st;
	if (!tcb->h.node.table)
		return;
	htable_remove(tcb->h.node.table == HASHED_LISTENERS ? &st->listeners : &st->conns,
	              &tcb->h.node);
	tcb->h.node.table = 0;
}

void tcp_trace_state(struct synack_stack *st, const struct tuple *t, uint32_t iss, uint32_t irs,
                     int from, int to, int cause)
{
	struct synack_trace *r = trace_add(st, SYNACK_TRACE_STATE);
	if (!r)
		return;
	r->local.addr = t->laddr;
	r->local.port = t->lport;
	r->remote.addr = t->raddr;
	r->remote.port = t->rport;
	r->from = (uint8_t)from;
	r->to = (uint8_t)to;
	r->cause = (uint8_t)cause;
	r->iss = iss;
	r->irs = irs;
}

static int counts_as_established(int state)
{
	/* RFC 4022 tcpCurrEstab: connections in ESTABLISHED or CLOSE-WAIT. */
	return state == SYNACK_ESTABLISHED || state == SYNACK_CLOSE_WAIT;
}

/*
 * Every state change goes through here, so that each one is traced with
 * its cause, counted, and timed (synack_conns shows the time in state).
 */
void tcp_set_state(struct tcb *tcb, int to, int cause)
{
	struct synack_stack *st = tcb->st;
	int from = tcb->state;
	struct tcb *l;
	if (from == to)
		return;
	tcb->state = (uint8_t)to;
	tcb->state_since = st->now;
	/* RFC 4022 tcpActiveOpens, tcpPassiveOpens, tcpAttemptFails and
	 * tcpEstabResets are defined by these transitions. */
	if (from == SYNACK_CLOSED && to == SYNACK_SYN_SENT)
		STAT_INC(st, ActiveOpens);
	/* A SYN cookie's connection goes from LISTEN straight to ESTABLISHED. */
	if (from == SYNACK_LISTEN && (to == SYNACK_SYN_RECEIVED || to == SYNACK_ESTABLISHED))
		STAT_INC(st, PassiveOpens);
	if ((from == SYNACK_SYN_SENT || from == SYNACK_SYN_RECEIVED) &&
	    (to == SYNACK_CLOSED || to == SYNACK_LISTEN))
		STAT_INC(st, AttemptFails);
	if (counts_as_established(from) && to == SYNACK_CLOSED)
		STAT_INC(st, EstabResets);
	if (counts_as_established(from) && !counts_as_established(to))
		STAT_DEC(st, CurrEstab);
	if (!counts_as_established(from) && counts_as_established(to))
		STAT_INC(st, CurrEstab);
	tcp_trace_state(st, &tcb->t, tcb->iss, tcb->irs, from, to, cause);
	if (tcb->sockfd >= 0)
		stack_notify(st, tcb->sockfd);
	else if ((l = tcp_listener_of(tcb)) && l->sockfd >= 0)
		stack_notify(st, l->sockfd);
}

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a timer ticking every 4 microseconds, F a keyed hash. */
uint32_t tcp_isn(struct synack_stack *st, const struct tuple *t)
{
	uint8_t b[12];
	wire_put32(b, t->laddr);
	wire_put16(b + 4, t->lport);
	wire_put32(b + 6, t->raddr);
	wire_put16(b + 10, t->rport);
	return (uint32_t)siphash24(st->key_isn, b, sizeof(b)) + (uint32_t)(st->now / 4);
}

uint32_t tcp_fin_seq(const struct tcb *tcb)
{
	return tcb->snd_buf_seq + tcb->snd_buf.len;
}

int tcp_fin_acked(const struct tcb *tcb)
{
	return tcb->fin_queued && seq_gt(tcb->snd_una, tcp_fin_seq(tcb));
}

/*
 * The window we offer: the free space of the receive buffer.  The right edge
 * we advertised earlier is never withdrawn (RFC 9293 3.8.6: shrinking the
 * window is strongly discouraged), and without window scaling the field
 * holds at most 65535.
 */
uint32_t tcp_rcv_window(const struct tcb *tcb)
{
	uint32_t space = ring_space(&tcb->rcv_buf);
	uint32_t promised = seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
	uint32_t w = space;
	/* RFC 9293 3.8.6.2.2, receiver silly-window avoidance: move the
	 * right edge only by at least min(half the buffer, one MSS); never
	 * take back what was offered. */
	uint32_t step = tcb->rcv_buf.cap / 2 < tcb->rcv_mss ? tcb->rcv_buf.cap / 2 : tcb->rcv_mss;
	if (w < promised || w - promised < step)
		w = promised;
	return w > 65535 ? 65535 : w;
}

void tcp_rearm(struct tcb *tcb)
{
	uint64_t at = tcb->rtx_at;
	if (tcb->fin2_at < at)
		at = tcb->fin2_at;
	if (tcb->close_wait_at < at)
		at = tcb->close_wait_at;
	if (tcb->delack_at < at)
		at = tcb->delack_at;
	if (tcb->ka_at < at)
		at = tcb->ka_at;
	if (at == SYNACK_NEVER) {
		timer_cancel(&tcb->st->timers, &tcb->timer);
		return;
	}
	if (timer_armed(&tcb->timer) && tcb->timer.at == at)
		return;
	/* On allocation failure the connection runs without a timer; the
	 * next arming tries again.  Nothing is corrupted. */
	(void)timer_arm(&tcb->st->timers, &tcb->timer, at);
}

void tcp_unlink_child(struct tcb *tcb)
{
	struct tcp_child *ch = tcp_child(tcb);
	if (!ch || !ch->listener)
		return;
	struct tcp_listen *l = tcp_lsn(ch->listener);
	if (tcb->in_acceptq) {
		struct tcb **pp = &l->acq_head;
		struct tcb *prev = NULL;
		while (*pp && *pp != tcb) {
			prev = *pp;
			pp = &tcp_child(*pp)->acq_next;
		}
		if (*pp) {
			*pp = ch->acq_next;
			if (l->acq_tail == tcb)
				l->acq_tail = prev;
			l->acq_len--;
		}
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
	ext_free(tcb);
}

/* Takes the TCB out of every table and away from its socket, then frees it. */
static void tcb_release(struct tcb *tcb, int err)
{
	struct synack_stack *st = tcb->st;
	tcp_unlink_child(tcb);
	if (tcb->sockfd >= 0) {
		sock_detach(st, tcb->sockfd, err);
		tcb->sockfd = -1;
	}
	tcp_tcb_free(tcb);
}

void tcp_done(struct tcb *tcb, int cause, int err)
{
	if (tcb->state != SYNACK_CLOSED)
		tcp_set_state(tcb, SYNACK_CLOSED, cause);
	tcb_release(tcb, err);
}

/* ------------------------------------------------------------------ */
/* TIME_WAIT records.                                                  */

/* The full arming number of a record from its low 32 bits: the largest
 * number below the next one to be handed out with those low bits. */
static uint64_t tw_order(const struct synack_stack *st, const struct tw *tw)
{
	uint64_t next = st->timers.next_order;
	uint64_t o = (next & ~(uint64_t)0xffffffffu) | tw->order_lo;
	return o < next ? o : o - ((uint64_t)1 << 32);
}

/* Frees the dead records at the front of the list, then arms the timer for
 * the oldest live one (or cancels it when there is none). */
static void tw_settle(struct synack_stack *st)
{
	struct tw *tw;
	while ((tw = st->tw_oldest) && tw->h.node.kind == CONN_TW_DEAD) {
		st->tw_oldest = tw->older_next;
		if (!st->tw_oldest)
			st->tw_youngest = NULL;
		st->tw_records--;
		slab_free(&st->tw_slab, tw);
	}
	if (!tw) {
		timer_cancel(&st->timers, &st->tw_timer);
		return;
	}
	if (timer_armed(&st->tw_timer) && st->tw_timer.at == tw->expires &&
	    st->tw_timer.order == tw_order(st, tw))
		return;
	(void)timer_arm_ordered(&st->timers, &st->tw_timer, tw->expires, tw_order(st, tw));
}

/* Appends a record made now (expires set) as the youngest; order is the
 * arming number it took. */
static void tw_append(struct synack_stack *st, struct tw *tw, uint64_t order)
{
	tw->order_lo = (uint32_t)order;
	tw->older_next = NULL;
	if (st->tw_youngest)
		st->tw_youngest->older_next = tw;
	else
		st->tw_oldest = tw;
	st->tw_youngest = tw;
	st->tw_records++;
	if (st->tw_oldest == tw)
		tw_settle(st);
}

void tcp_time_wait(struct tcb *tcb, int cause)
{
	struct synack_stack *st = tcb->st;
	struct tw *tw = NULL;
	if (st->stats.time_wait_live < st->cfg.max_tw_buckets)
		tw = slab_alloc(&st->tw_slab);
	if (!tw) {
		/* Past max_tw_buckets the connection closes at once, as in
		 * Linux: the straggler protection is lost, the memory bound kept. */
		STAT_INC(st, TimeWaitOverflow);
		tcp_done(tcb, SYNACK_CAUSE_TIME_WAIT_OVERFLOW, 0);
		return;
	}
	tcp_set_state(tcb, SYNACK_TIME_WAIT, cause);
	memset(tw, 0, sizeof(*tw));
	tw->h.node.kind = CONN_TW;
	tw->snd_nxt = tcb->snd_max;
	tw->rcv_nxt = tcb->rcv_nxt;
	tw->iss = tcb->iss;
	tw->irs = tcb->irs;
	tw->h.node.aux = (uint16_t)tcp_rcv_window(tcb);
	tw->expires = st->now + (uint64_t)st->cfg.time_wait_ms * 1000u;
	tw->since_before = st->cfg.time_wait_ms * 1000u <= UINT32_MAX
	                       ? (uint32_t)((uint64_t)st->cfg.time_wait_ms * 1000u)
	                       : UINT32_MAX;
	tw->h.node.key = tcb->t;
	tcp_tcb_unhash(tcb);
	if (htable_insert(&st->conns, &tw->h.node) != 0) {
		slab_free(&st->tw_slab, tw);
		STAT_INC(st, TimeWaitOverflow);
		tcp_done(tcb, SYNACK_CAUSE_TIME_WAIT_OVERFLOW, 0);
		return;
	}
	tw->h.node.table = HASHED_CONNS;
	tw_append(st, tw, timer_take_order(&st->timers));
	st->stats.time_wait_live++;
	STAT_INC(st, TimeWaitEntered);
	tcb_release(tcb, 0);
}

/* Takes a record out of the table; it leaves the list when it reaches the
 * front. */
static void tw_kill(struct synack_stack *st, struct tw *tw)
{
	if (tw->h.node.table)
		htable_remove(&st->conns, &tw->h.node);
	tw->h.node.table = 0;
	tw->h.node.kind = CONN_TW_DEAD;
	if (st->tw_oldest == tw)
		tw_settle(st);
}

void tcp_tw_free(struct synack_stack *st, struct tw *tw, int cause)
{
	tcp_trace_state(st, &tw->h.node.key, tw->iss, tw->irs, SYNACK_TIME_WAIT, SYNACK_CLOSED,
	                cause);
	st->stats.time_wait_live--;
	tw_kill(st, tw);
}

struct tw *tcp_tw_restart(struct synack_stack *st, struct tw *tw)
{
	uint64_t order = timer_take_order(&st->timers);
	uint64_t expires = st->now + (uint64_t)st->cfg.time_wait_ms * 1000u;
	uint64_t since = tcp_tw_since(tw);
	uint64_t before = expires - since;
	if (tw != st->tw_youngest) {
		/* A later expiry than the younger records: the connection
		 * moves to a new record at the young end of the list. */
		struct tw *n = slab_alloc(&st->tw_slab);
		if (!n)
			return tw; /* keeps its old expiry: the one effect of no memory */
		*n = *tw;
		tw_kill(st, tw);
		tw = n;
		tw->h.node.kind = CONN_TW;
		(void)htable_insert(&st->conns, &tw->h.node);
		tw->h.node.table = HASHED_CONNS;
		tw->expires = expires;
		tw->since_before = before <= UINT32_MAX ? (uint32_t)before : UINT32_MAX;
		tw_append(st, tw, order);
		return tw;
	}
	tw->expires = expires;
	tw->since_before = before <= UINT32_MAX ? (uint32_t)before : UINT32_MAX;
	tw->order_lo = (uint32_t)order;
	if (st->tw_oldest == tw)
		tw_settle(st);
	return tw;
}

void tcp_tw_expire(struct synack_stack *st)
{
	/* The timer is armed for the oldest live record only. */
	struct tw *tw = st->tw_oldest;
	if (!tw || tw->h.node.kind != CONN_TW || tw->expires > st->now) {
		tw_settle(st);
		return;
	}
	STAT_INC(st, TimeWaitExpired);
	tcp_tw_free(st, tw, SYNACK_CAUSE_TIME_WAIT_EXPIRED);
}

void tcp_tw_free_all(struct synack_stack *st)
{
	while (st->tw_oldest) {
		struct tw *tw = st->tw_oldest;
		st->tw_oldest = tw->older_next;
		slab_free(&st->tw_slab, tw);
	}
	st->tw_youngest = NULL;
	st->tw_records = 0;
}
