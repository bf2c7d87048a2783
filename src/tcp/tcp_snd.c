/*
 * The send side: the acknowledged bytes leave the send ring, and every
 * segment sent keeps a transmit record until it is acknowledged (tcp.h
 * describes the records).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"

static size_t txq_bytes(uint32_t cap)
{
	return sizeof(struct tcp_txq) + (size_t)cap * sizeof(struct tcp_txrec);
}

/* A block of records goes back where it came from: the first size to the
 * stack's slab (a connection's first flight costs no malloc), larger ones
 * to the allocator. */
static void txq_release(struct tcp_layer *st, struct tcp_txq *q)
{
	if (!q)
		return;
	if (q->cap == TCP_TXQ_FIRST_CAP)
		slab_free(&st->txq_slab, q);
	else
		free(q);
}

uint64_t tcp_snd_bytes(const struct tcb *tcb)
{
	return tcb->sender && tcb->sender->txq ? txq_bytes(tcb->sender->txq->cap) : 0;
}

/* Forgets the records: they could not be kept (memory ran out), and they
 * stay off until the flight has drained. */
static void txq_untrack(struct tcb *tcb)
{
	txq_release(tcb->st, tcb->sender->txq);
	tcb->sender->txq = NULL;
	tcb->txq_untracked = 1;
}

/* Room for one more record: the first block, or twice the block, moved so
 * that the records start at index 0.  Returns 0, or -1 when memory ran out. */
static int txq_reserve(struct tcb *tcb)
{
	struct tcp_txq *q = tcb->sender->txq;
	if (q && q->count < q->cap)
		return 0;
	uint32_t cap = q ? 2 * q->cap : TCP_TXQ_FIRST_CAP;
	struct tcp_txq *n = q ? malloc(txq_bytes(cap)) : slab_alloc(&tcb->st->txq_slab);
	if (!n)
		return -1;
	n->head = 0;
	n->count = q ? q->count : 0;
	n->cap = cap;
	n->spare = 0;
	if (q) {
		uint32_t first = q->cap - q->head < q->count ? q->cap - q->head : q->count;
		memcpy(n->rec, q->rec + q->head, first * sizeof(n->rec[0]));
		memcpy(n->rec + first, q->rec, (q->count - first) * sizeof(n->rec[0]));
		txq_release(tcb->st, q);
	}
	tcb->sender->txq = n;
	return 0;
}

/* Appends the record of a segment sent for the first time. */
static int txq_append(struct tcb *tcb, uint32_t seq, uint32_t len)
{
	/* A record spans at most 65535; a segment is never that long (the
	 * MSS fits the MTU), but a longer one would take several records. */
	while (len) {
		uint32_t n = len < UINT16_MAX ? len : UINT16_MAX;
		if (txq_reserve(tcb))
			return -1;
		struct tcp_txq *q = tcb->sender->txq;
		q->count++;
		struct tcp_txrec *r = tcp_snd_record(tcb, q->count - 1);
		r->xmit_at = ENV(tcb->st)->now;
		r->seq = seq;
		r->len = (uint16_t)n;
		r->flags = 0;
		r->spare = 0;
		r->first_gap = 0;
		tcp_rate_sent(tcb, r);
		seq += n;
		len -= n;
	}
	return 0;
}

/* Splits record i at seq, which lies inside it: i keeps the front, a new
 * record i + 1 the rest (with the same marks and time). */
static int txq_split(struct tcb *tcb, uint32_t i, uint32_t seq)
{
	if (txq_reserve(tcb))
		return -1;
	struct tcp_txq *q = tcb->sender->txq;
	q->count++;
	for (uint32_t j = q->count - 1; j > i + 1; j--)
		*tcp_snd_record(tcb, j) = *tcp_snd_record(tcb, j - 1);
	struct tcp_txrec *r = tcp_snd_record(tcb, i), *back = tcp_snd_record(tcb, i + 1);
	*back = *r;
	r->len = (uint16_t)(seq - r->seq);
	back->seq = seq;
	back->len = (uint16_t)(back->len - r->len);
	return 0;
}

/* The index of the record holding seq (which lies in [snd_una, snd_max)
 * and so in some record): records are ordered, so a binary search. */
static uint32_t txq_find(const struct tcb *tcb, uint32_t seq)
{
	uint32_t lo = 0, hi = tcp_snd_records(tcb) - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (seq_leq(tcp_snd_record(tcb, mid)->seq, seq))
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* The records of [from, to) (to above from, both within the records)
 * made whole: split where a boundary falls inside one.  *first is the
 * first of them; returns the index after the last, or -1 when memory ran
 * out. */
static int64_t txq_span(struct tcb *tcb, uint32_t from, uint32_t to, uint32_t *first)
{
	uint32_t i = txq_find(tcb, from);
	if (tcp_snd_record(tcb, i)->seq != from) {
		if (txq_split(tcb, i, from))
			return -1;
		i++;
	}
	*first = i;
	for (; i < tcp_snd_records(tcb); i++) {
		struct tcp_txrec *r = tcp_snd_record(tcb, i);
		if (!seq_lt(r->seq, to))
			break;
		if (seq_gt(r->seq + r->len, to) && txq_split(tcb, i, to))
			return -1;
	}
	return i;
}

/* [from, to) was sent again: its records are marked, split where a
 * boundary of the retransmission falls inside one. */
static int txq_retransmitted(struct tcb *tcb, uint32_t from, uint32_t to)
{
	if (tcp_snd_records(tcb) == 0)
		return -1; /* below snd_max there must be records */
	/* Records never cover the SYN: a retransmission that starts at it
	 * (a SYN-ACK and FIN sent again after a close in SYN-RECEIVED) marks
	 * only what the records hold. */
	uint32_t first = tcp_snd_record(tcb, 0)->seq;
	if (seq_lt(from, first))
		from = first;
	if (!seq_lt(from, to))
		return 0;
	uint32_t i;
	int64_t end = txq_span(tcb, from, to, &i);
	if (end < 0)
		return -1;
	for (; i < (uint32_t)end; i++) {
		struct tcp_txrec *r = tcp_snd_record(tcb, i);
		/* Sent again: no longer lost (RFC 6675's pipe counts it). */
		if ((r->flags & TXREC_LOST) && tcp_rack_loss_recovering(tcb))
			r->flags |= TXREC_WAS_LOST;
		/* The first retransmission keeps how long after the original
		 * it went; a later one leaves no copy unambiguous. */
		uint64_t gap = ENV(tcb->st)->now - r->xmit_at;
		r->first_gap = !(r->flags & TXREC_RETRANS) && gap <= UINT32_MAX ? (uint32_t)gap : 0;
		r->flags = (uint8_t)((r->flags | TXREC_RETRANS) & ~TXREC_LOST);
		r->xmit_at = ENV(tcb->st)->now;
		tcp_rate_sent(tcb, r);
	}
	return 0;
}

int64_t tcp_snd_mark(struct tcb *tcb, uint32_t from, uint32_t to, uint8_t flag)
{
	if (tcb->txq_untracked || !tcb->sender || tcp_snd_records(tcb) == 0)
		return 0;
	uint32_t lo = tcp_snd_record(tcb, 0)->seq;
	struct tcp_txrec *last = tcp_snd_record(tcb, tcp_snd_records(tcb) - 1);
	uint32_t hi = last->seq + last->len;
	if (seq_lt(from, lo))
		from = lo;
	if (seq_gt(to, hi))
		to = hi;
	if (!seq_lt(from, to))
		return 0;
	uint32_t i;
	int64_t end = txq_span(tcb, from, to, &i);
	if (end < 0) {
		txq_untrack(tcb);
		return -1;
	}
	int64_t marked = 0;
	for (; i < (uint32_t)end; i++) {
		struct tcp_txrec *r = tcp_snd_record(tcb, i);
		if (!(r->flags & flag)) {
			marked += r->len;
			if (flag == TXREC_SACKED && tcp_rack_on(tcb))
				tcp_rack_delivered(tcb, r);
			if (flag == TXREC_SACKED)
				tcp_sack_delivered(tcb, r);
			if (flag == TXREC_SACKED) {
				tcp_frto_delivered(tcb, r);
				tcp_rate_delivered(tcb, r);
			}
			/* SACKed: no longer lost, whatever was thought. */
			if (flag == TXREC_SACKED)
				r->flags &= (uint8_t)~TXREC_LOST;
		}
		r->flags |= flag;
	}
	return marked;
}

void tcp_snd_sent(struct tcb *tcb, uint32_t seq, uint32_t used)
{
	/* Only synchronized connections send data, and they all have a
	 * sender (tcp_snd_new); nothing is recorded for one without. */
	if (tcb->txq_untracked || !tcb->sender)
		return;
	uint32_t end = seq + used;
	if (seq_lt(seq, tcb->snd_max)) {
		uint32_t again = seq_lt(end, tcb->snd_max) ? end : tcb->snd_max;
		if (txq_retransmitted(tcb, seq, again)) {
			txq_untrack(tcb);
			return;
		}
		seq = again;
	}
	if (seq_lt(seq, end) && txq_append(tcb, seq, end - seq))
		txq_untrack(tcb);
}

/* The records of what snd_una now covers go; one cut by it keeps its
 * unacknowledged end.  With nothing outstanding the block is freed.
 * Returns 1 with *sent_at the send time of the newest acknowledged record
 * when none of them was sent twice (Karn: the ACK may be for either
 * copy), else 0. */
static int txq_trim(struct tcb *tcb, uint64_t *sent_at)
{
	struct tcp_txq *q = tcb->sender->txq;
	int timed = 0, ambiguous = 0;
	if (q) {
		while (q->count) {
			struct tcp_txrec *r = &q->rec[q->head];
			if (!seq_lt(r->seq, tcb->snd_una))
				break;
			ambiguous |= r->flags & TXREC_RETRANS;
			*sent_at = r->xmit_at;
			timed = 1;
			if (seq_gt(r->seq + r->len, tcb->snd_una)) {
				r->len = (uint16_t)(r->len - (tcb->snd_una - r->seq));
				r->seq = tcb->snd_una;
				break;
			}
			/* RACK (RFC 8985 6.2) and F-RTO learn from every
			 * delivery. */
			if (!(r->flags & TXREC_SACKED)) {
				if (tcp_rack_on(tcb))
					tcp_rack_delivered(tcb, r);
				if (tcb->sack_ok)
					tcp_sack_delivered(tcb, r);
				tcp_frto_delivered(tcb, r);
				tcp_rate_delivered(tcb, r);
			}
			q->head = (q->head + 1) & (q->cap - 1);
			q->count--;
		}
		if (q->count == 0) {
			txq_release(tcb->st, q);
			tcb->sender->txq = NULL;
		}
	}
	if (tcb->snd_una == tcb->snd_max)
		tcb->txq_untracked = 0;
	return timed && !ambiguous;
}

void tcp_snd_acked(struct tcb *tcb, uint32_t ack, uint32_t ts_rtt_us)
{
	struct tcp_layer *st = tcb->st;
	uint32_t data_end = tcp_fin_seq(tcb);
	uint32_t acked_to = seq_lt(ack, data_end) ? ack : data_end;
	if (seq_gt(acked_to, tcb->snd_buf_seq)) {
		uint32_t n = acked_to - tcb->snd_buf_seq;
		if (ring_consume_keep(&tcb->snd_buf, &st->buf_pool, n))
			tcp_buf_kept(tcb); /* the ACK's processing rearms the timer */
		tcb->snd_buf_seq += n;
	}
	struct tcp_cc_ack a = {
	    .now = ENV(st)->now,
	    .acked = ack - tcb->snd_una,
	    .flight_before = tcb->snd_max - tcb->snd_una,
	    .ca_state = tcb->ca_state,
	};
	if (tcp_rack_on(tcb))
		tcp_tlp_ack(tcb, ack);
	tcb->snd_una = ack;
	uint64_t sent_at = 0;
	int sampled = txq_trim(tcb, &sent_at);
	/* After a timeout snd_nxt went back; what the peer already has
	 * need not be sent again. */
	if (seq_gt(ack, tcb->snd_nxt))
		tcb->snd_nxt = ack;
	if (ts_rtt_us) {
		/* RFC 7323 4.1: the timestamp's sample replaces the timed
		 * segment's. */
		tcp_rtt_sample(tcb, ts_rtt_us);
		a.rtt_us = ts_rtt_us;
		tcb->rtt_timing = 0;
	} else if (tcb->rtt_timing && seq_gt(ack, tcb->rtt_seq)) {
		uint32_t r = (uint32_t)(ENV(st)->now - tcb->rtt_start);
		tcp_rtt_sample(tcb, r);
		a.rtt_us = r ? r : 1;
		tcb->rtt_timing = 0;
	}
	/* Congestion control takes a sample from every ACK that gives one
	 * (HyStart++ counts them per round, RFC 9406 4.2): the newest
	 * segment acknowledged, as Linux's ca_rtt_us.  The RTO estimator
	 * above keeps its one timed segment per round trip. */
	if (sampled) {
		uint64_t r = ENV(st)->now - sent_at;
		a.rtt_us = r == 0 ? 1 : r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
		tcp_pacing_rtt(tcb, r > UINT32_MAX ? UINT32_MAX : (uint32_t)r);
		if (r && (tcb->sender->rate_min_rtt_us == 0 || r < tcb->sender->rate_min_rtt_us))
			tcb->sender->rate_min_rtt_us = (uint32_t)a.rtt_us;
	}
	tcb->backoff = 0;
	tcb->unacked_since = ENV(st)->now;
	/* The ACK of our SYN-ACK ends the handshake; congestion control
	 * starts only after it (tcp_cc_init). */
	if (tcb->state != SYNACK_SYN_RECEIVED)
		tcp_recovery_ack(tcb, &a);
	if (tcb->snd_una == tcb->snd_max) {
		tcb->rtx_at = SYNACK_NEVER;
		/* Quiet from here: after a retransmission timeout the
		 * sender's state rests (tcp_snd_rest.c). */
		tcp_buf_kept(tcb);
	} else {
		tcp_arm_rtx(tcb);
		tcp_rack_timers(tcb);
	}
}

int tcp_snd_new(struct tcb *tcb)
{
	if (tcb->sender)
		return 0;
	struct tcp_sender *s = bslab_alloc(&tcb->st->sender_slab);
	if (!s)
		return -ENOMEM;
	/* No records yet, an empty scoreboard, no RACK or TLP state.  The
	 * algorithm's area is zeroed too, though tcp_cc_init (always after
	 * this) sets up what it uses: tcp_snd_rest stores the sender word by
	 * word, and bytes an algorithm leaves unset must rest as zeros, not
	 * as whatever the slab held before. */
	memset(s, 0, sizeof(*s));
	s->snd_sml = tcb->snd_una; /* no short segment sent yet (Linux's tcp_connect_init) */
	s->pace_at = SYNACK_NEVER;
	tcb->sender = s;
	return 0;
}

void tcp_snd_free(struct tcb *tcb)
{
	tcp_snd_rest_free(tcb);
	if (!tcb->sender)
		return;
	txq_release(tcb->st, tcb->sender->txq);
	bslab_free(&tcb->st->sender_slab, tcb->sender);
	tcb->sender = NULL;
}
