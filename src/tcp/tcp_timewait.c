/*
 * TIME-WAIT (RFC 9293 3.10.7.4, 3.10.8): when a connection enters TIME_WAIT
 * it shrinks to a compact record (struct tw in tcp.h) that answers
 * stragglers for 2 MSL (time_wait_ms), and its TCB and buffers are freed.
 * This module makes, restarts, expires and frees the records, and answers
 * the segments that arrive for them.
 */
#include <string.h>

#include "tcp/tcp.h"

/* The full arming number of a record from its low 32 bits: the largest
 * number below the next one to be handed out with those low bits. */
static uint64_t tw_order(const struct tcp_layer *st, const struct tw *tw)
{
	uint64_t next = st->timers.next_order;
	uint64_t o = (next & ~(uint64_t)0xffffffffu) | tw->order_lo;
	return o < next ? o : o - ((uint64_t)1 << 32);
}

/* Frees the dead records at the front of the list, then arms the timer for
 * the oldest live one (or cancels it when there is none). */
static void tw_settle(struct tcp_layer *st)
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
static void tw_append(struct tcp_layer *st, struct tw *tw, uint64_t order)
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
	struct tcp_layer *st = tcb->st;
	struct tw *tw = NULL;
	if (ENV(st)->stats.time_wait_live < ENV(st)->cfg.max_tw_buckets)
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
	tw->oow_ack_at = SYNACK_NEVER;
	tw->snd_nxt = tcb->snd_max;
	tw->rcv_nxt = tcb->rcv_nxt;
	tw->iss = tcb->iss;
	tw->irs = tcb->irs;
	/* The window as the header field carries it: the record answers
	 * with the ACK the connection would have sent. */
	tw->h.node.aux = tcp_wnd_to_wire(tcb, tcp_rcv_window(tcb));
	tw->expires = ENV(st)->now + (uint64_t)ENV(st)->cfg.time_wait_ms * 1000u;
	tw->since_before = ENV(st)->cfg.time_wait_ms * 1000u <= UINT32_MAX
	                       ? (uint32_t)((uint64_t)ENV(st)->cfg.time_wait_ms * 1000u)
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
	ENV(st)->stats.time_wait_live++;
	STAT_INC(st, TimeWaitEntered);
	tcp_tcb_release(tcb, 0);
}

/* Takes a record out of the table; it leaves the list when it reaches the
 * front. */
static void tw_kill(struct tcp_layer *st, struct tw *tw)
{
	if (tw->h.node.table)
		htable_remove(&st->conns, &tw->h.node);
	tw->h.node.table = 0;
	tw->h.node.kind = CONN_TW_DEAD;
	if (st->tw_oldest == tw)
		tw_settle(st);
}

void tcp_tw_free(struct tcp_layer *st, struct tw *tw, int cause)
{
	tcp_trace_state(st, &tw->h.node.key, tw->iss, tw->irs, SYNACK_TIME_WAIT, SYNACK_CLOSED,
	                cause);
	ENV(st)->stats.time_wait_live--;
	tw_kill(st, tw);
}

struct tw *tcp_tw_restart(struct tcp_layer *st, struct tw *tw)
{
	uint64_t order = timer_take_order(&st->timers);
	uint64_t expires = ENV(st)->now + (uint64_t)ENV(st)->cfg.time_wait_ms * 1000u;
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

void tcp_tw_expire(struct tcp_layer *st)
{
	/* The timer is armed for the oldest live record only. */
	struct tw *tw = st->tw_oldest;
	if (!tw || tw->h.node.kind != CONN_TW || tw->expires > ENV(st)->now) {
		tw_settle(st);
		return;
	}
	STAT_INC(st, TimeWaitExpired);
	tcp_tw_free(st, tw, SYNACK_CAUSE_TIME_WAIT_EXPIRED);
}

void tcp_tw_free_all(struct tcp_layer *st)
{
	while (st->tw_oldest) {
		struct tw *tw = st->tw_oldest;
		st->tw_oldest = tw->older_next;
		slab_free(&st->tw_slab, tw);
	}
	st->tw_youngest = NULL;
	st->tw_records = 0;
}

/* ------------------------------------------------------------------ */
/* A segment arrives for a record.                                      */

struct tcp_verdict tcp_tw_segment_arrives(struct tcp_layer *st, struct tw *tw, struct tcp_rx *s)
{
	uint32_t nxt = tw->rcv_nxt;
	uint32_t wnd = tcp_tw_rcv_wnd(tw) ? tcp_tw_rcv_wnd(tw) : 1;
	s->iss = tw->iss;
	s->irs = tw->irs;
	s->tw = tw;
	if (tcp_rx_has(s, SYNACK_TH_RST) && ENV(st)->cfg.rfc1337) {
		/* RFC 1337 (TIME-WAIT assassination): a RST must not cut
		 * TIME_WAIT short, so it is ignored whatever it says. */
		STAT_INC(st, TimeWaitRstIgnored);
		return TCP_DROP(TIME_WAIT_RST);
	}
	if (tcp_rx_has(s, SYNACK_TH_RST)) {
		/* RFC 5961 3.2: only an exact match ends the record; one
		 * elsewhere in the window is challenged. */
		if (s->seq == nxt) {
			STAT_INC(st, InRsts);
			return tcp_v_end(TCP_ACCEPT, TCP_END_TW, SYNACK_CAUSE_RCV_RST, 0);
		}
		if (seq_in(s->seq, nxt, nxt + wnd)) {
			STAT_INC(st, RstChallenge);
			STAT_INC(st, ChallengeAcks);
			return TCP_DROP_SEND(ACK, RST_CHALLENGED);
		}
		return TCP_DROP(RST_OUT_OF_WINDOW);
	}
	if (tcp_rx_has(s, SYNACK_TH_SYN)) {
		struct tcb *l = tcp_find_listener(st, &s->w->daddr, s->w->dport);
		if (l && seq_gt(s->seq, nxt) && !tcp_rx_has(s, SYNACK_TH_ACK)) {
			/* RFC 1122 4.2.2.13 (RFC 6191 without timestamps): a
			 * SYN above the old RCV.NXT may reopen the connection,
			 * with an ISN above the old SND.NXT.  The record ends
			 * here, not in the exit block: the new connection
			 * takes its place in the table at once. */
			uint32_t floor = tw->snd_nxt + 65536u;
			STAT_INC(st, TimeWaitRecycled);
			tcp_tw_free(st, tw, SYNACK_CAUSE_TIME_WAIT_NEW_SYN);
			s->tw = NULL;
			return tcp_listen_segment_arrives(l, s, floor, 1, NULL);
		}
		STAT_INC(st, SynChallenge);
		STAT_INC(st, ChallengeAcks);
		return TCP_DROP_SEND(ACK, SYN_CHALLENGED);
	}
	if (tcp_rx_has(s, SYNACK_TH_FIN) && s->seq + s->len == nxt) {
		/* The peer's FIN again: our last ACK was lost.  Acknowledge
		 * it and restart the 2 MSL timeout. */
		s->tw = tcp_tw_restart(st, tw);
		return TCP_ACCEPT_SEND(ACK);
	}
	/* Nothing else is delivered.  A bare ACK at exactly RCV.NXT is
	 * absorbed silently whatever it acknowledges, as Linux's
	 * tcp_timewait_state_process does: it is where the peer's next
	 * segment sits.  Everything else is not acceptable and gets an ACK
	 * (RFC 9293 3.10.7.4, first check), as in Linux and FreeBSD: old
	 * duplicates and text left of RCV.NXT, and a bare ACK beyond it, past
	 * the peer's FIN, where nothing legitimate can be.  Pure ACKs are
	 * answered at most once per invalid_ratelimit_ms (the exit block). */
	if (s->len == 0 && s->seq == nxt)
		return TCP_DROP(TIME_WAIT_OLD);
	return TCP_DROP_SEND(OOW_ACK, TIME_WAIT_OLD);
}
