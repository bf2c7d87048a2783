/*
 * TIME-WAIT (RFC 9293 3.10.7.4, 3.10.8): when a connection enters TIME_WAIT
 * it shrinks to a compact record (struct tw in tcp.h) that answers
 * stragglers for 2 MSL (time_wait_ms), and its TCB and buffers are freed.
 * This module makes, restarts, expires and frees the records, and answers
 * the segments that arrive for them.
 */
#include <string.h>

#include "tcp/tcp.h"

/* The clock in milliseconds modulo 2^31, as a record keeps its last
 * answer (struct tw, oow_ack_ms). */
static uint32_t tw_ms(const struct tcp_layer *st)
{
	return (uint32_t)(ENV(st)->now / 1000u) & 0x7fffffffu;
}

int tcp_tw_may_answer(struct tcp_layer *st, struct tw *tw, uint32_t interval_ms)
{
	uint32_t now = tw_ms(st);
	if (((now - tw->oow_ack_ms) & 0x7fffffffu) < interval_ms)
		return 0;
	tw->oow_ack_ms = now & 0x7fffffffu;
	return 1;
}

/* The full arming number of a record from its low 32 bits: the largest
 * number below the next one to be handed out with those low bits. */
static uint64_t tw_order(const struct tcp_layer *st, const struct tw *tw)
{
	uint64_t next = st->timers.next_order;
	uint64_t o = (next & ~(uint64_t)0xffffffffu) | tw->order_lo;
	return o < next ? o : o - ((uint64_t)1 << 32);
}

/* A record restarted while younger ones waited behind it (tcp_tw_restart)
 * now ends after the one that follows it: at the front of the list it
 * moves to the young end, keeping its expiry and arming number. */
static int tw_out_of_place(const struct tw *tw)
{
	const struct tw *n = tw->older_next;
	return n && tw->expires > n->expires;
}

/* Frees the dead records at the front of the list, moves restarted ones
 * that reached it to the young end, then arms the timer for the oldest
 * live one (or cancels it when there is none).  Every move brings a record
 * that ends no later than the moved one to the front, so the loop ends. */
static void tw_settle(struct tcp_layer *st)
{
	struct tw *tw;
	while ((tw = st->tw_oldest) && (tw->h.node.kind == CONN_TW_DEAD || tw_out_of_place(tw))) {
		st->tw_oldest = tw->older_next;
		if (tw->h.node.kind == CONN_TW) {
			st->tw_youngest->older_next = tw;
			st->tw_youngest = tw;
			tw->older_next = NULL;
			continue;
		}
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
	tw->oow_ack_ms = (tw_ms(st) - (1u << 30)) & 0x7fffffffu; /* long ago: nothing answered */
	/* RFC 7323 5.5: a TS.Recent already too old to trust is not kept. */
	if ((tcb->options & SYNACK_TCPI_OPT_TIMESTAMPS) &&
	    ENV(st)->now - tcb->ts_recent_at <= TCP_PAWS_IDLE_US) {
		tw->ts_ok = 1;
		tw->ts_recent = tcb->ts_recent;
	}
	tw->snd_nxt = tcb->snd_max;
	tw->rcv_nxt = tcb->rcv_nxt;
	tw->iss = tcb->iss;
	tw->irs = tcb->irs;
	/* The window as the header field carries it: the record answers
	 * with the ACK the connection would have sent. */
	tw->h.node.aux = tcp_wnd_to_wire(tcb, tcp_rcv_window(tcb), 0);
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

/*
 * The record starts over in place: no new record, whatever the peer sends.
 * Its later expiry may put it out of order with the younger records behind
 * it; it moves to the young end when it reaches the front (tw_settle), at
 * once if it is the front.  A record restarted in the middle of the list
 * may therefore end later than time_wait_ms after the restart (by less
 * than the time it had left), never earlier: TIME_WAIT is a minimum.
 */
struct tw *tcp_tw_restart(struct tcp_layer *st, struct tw *tw)
{
	uint64_t order = timer_take_order(&st->timers);
	uint64_t expires = ENV(st)->now + (uint64_t)ENV(st)->cfg.time_wait_ms * 1000u;
	uint64_t since = tcp_tw_since(tw);
	uint64_t before = expires - since;
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

/* RFC 7323 5.3 R1 against the record's TS.Recent: a segment with an older
 * timestamp is an old duplicate.  RSTs are exempt, as on a connection. */
static int tw_paws_reject(const struct tw *tw, const struct tcp_rx *s)
{
	const struct wire_tcp_opts *o = &s->w->opts;
	return tw->ts_ok && o->has_ts && !tcp_rx_has(s, SYNACK_TH_RST) &&
	       (int32_t)(o->ts_val - tw->ts_recent) < 0;
}

/*
 * RFC 6191 section 3 (RFC 1122 4.2.2.13 without timestamps): may this SYN
 * (no ACK, not an old duplicate by PAWS) start a new incarnation of the
 * connection?  With timestamps on both incarnations, when its TSval is
 * above TS.Recent, or equal with a higher sequence number; when only the
 * old one had them, yes; without, when its sequence number is above the
 * old RCV.NXT.
 */
static int tw_syn_may_reopen(const struct tcp_layer *st, const struct tw *tw,
                             const struct tcp_rx *s)
{
	const struct wire_tcp_opts *o = &s->w->opts;
	int ts_new = o->has_ts && ENV(st)->cfg.timestamps;
	if (tcp_rx_has(s, SYNACK_TH_ACK))
		return 0;
	if (ts_new && tw->ts_ok)
		return (int32_t)(o->ts_val - tw->ts_recent) > 0 ||
		       (o->ts_val == tw->ts_recent && seq_gt(s->seq, tw->rcv_nxt));
	if (tw->ts_ok)
		return 1;
	return seq_gt(s->seq, tw->rcv_nxt);
}

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
			return TCP_DROP_SEND(CHALLENGE_ACK, RST_CHALLENGED);
		}
		return TCP_DROP(RST_OUT_OF_WINDOW);
	}
	int paws_reject = tw_paws_reject(tw, s);
	if (paws_reject)
		STAT_INC(st, PAWSEstab);
	if (tcp_rx_has(s, SYNACK_TH_SYN)) {
		struct tcb *l = tcp_find_listener(st, &s->w->daddr, s->w->dport);
		if (l && !paws_reject && tw_syn_may_reopen(st, tw, s)) {
			/* RFC 6191 (RFC 1122 4.2.2.13): the SYN reopens the
			 * connection, with an ISN above the old SND.NXT.  The
			 * record ends here, not in the exit block: the new
			 * connection takes its place in the table at once. */
			uint32_t floor = tw->snd_nxt + 65536u;
			STAT_INC(st, TimeWaitRecycled);
			tcp_tw_free(st, tw, SYNACK_CAUSE_TIME_WAIT_NEW_SYN);
			s->tw = NULL;
			return tcp_listen_segment_arrives(l, s, floor, 1, NULL);
		}
		/* RFC 5961 4.2 (RFC 6191 would drop it silently): a
		 * challenge ACK, rate limited as every challenge is. */
		if (paws_reject)
			return TCP_DROP_SEND(CHALLENGE_ACK, PAWS);
		STAT_INC(st, SynChallenge);
		return TCP_DROP_SEND(CHALLENGE_ACK, SYN_CHALLENGED);
	}
	if (paws_reject)
		return TCP_DROP_SEND(OOW_ACK, PAWS);
	if (tcp_rx_has(s, SYNACK_TH_FIN) && s->seq + s->len == nxt) {
		/* The peer's FIN again: our last ACK was lost.  Acknowledge
		 * it and restart the 2 MSL timeout; its timestamp is the
		 * newest (RFC 7323 4.3, as Linux keeps it). */
		if (tw->ts_ok && s->w->opts.has_ts)
			tw->ts_recent = s->w->opts.ts_val;
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
