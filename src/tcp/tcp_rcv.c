/*
 * The receive side: the window we offer (RFC 9293 3.8.6), in-order text
 * into the receive ring, and out-of-order text held in the reassembly queue
 * until the gap before it fills (RFC 9293 3.10.7.4, seventh step).  The
 * decisions of that step (what is acceptable, when to acknowledge) are
 * tcp_input.c's; this module owns the bytes.
 *
 * SACK (RFC 2018) generates its blocks here: the reassembly queue
 * tcb->ofo is sorted and free of overlaps, so the blocks are its runs of
 * contiguous segments, the one holding the latest arrival first (RFC 2018
 * section 4), next to tcp_ofo_insert, which knows that arrival.  A
 * duplicate is reported in a D-SACK block (RFC 2883).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"

/*
 * The window we offer: the free space of the receive buffer.  The right edge
 * we advertised earlier is never withdrawn (RFC 9293 3.8.6: shrinking the
 * window is strongly discouraged), and the header field bounds it
 * (tcp_rcv_wnd_max).
 */
uint32_t tcp_rcv_window(const struct tcb *tcb)
{
	uint32_t space = tcp_rcv_space(tcb);
	uint32_t promised = seq_gt(tcb->rcv_adv, tcb->rcv_nxt) ? tcb->rcv_adv - tcb->rcv_nxt : 0;
	uint32_t w = space, max = tcp_rcv_wnd_max(tcb);
	/* RFC 9293 3.8.6.2.2, receiver silly-window avoidance: move the
	 * right edge only by at least min(half the buffer, one MSS); never
	 * take back what was offered. */
	uint32_t step = tcb->rcv_buf.cap / 2 < tcb->rcv_mss ? tcb->rcv_buf.cap / 2 : tcb->rcv_mss;
	uint32_t unit = (1u << tcb->rcv_wscale) - 1;
	if (w < promised || w - promised < step)
		w = promised;
	if (w > max)
		w = max;
	/* RFC 7323 2.4: the field carries w >> Rcv.Wind.Shift, so the
	 * window is a whole number of units.  A new edge is rounded down
	 * (no more than the buffer holds); the edge already promised is
	 * rounded up, so that the shift never takes back what was offered
	 * (RFC 9293 3.8.6), as long as that overshoots the buffer's room by
	 * less than a unit, which tcp_rcv_deliver takes in.  Past that it is
	 * rounded down, moving the edge back by less than a unit: rounding
	 * up again and again, each time from a new left edge, would creep
	 * the edge past the buffer without bound (RFC 7323 Appendix F; the
	 * bytes beyond the buffer were dropped and sent again, and a whole
	 * window queued out of order behind them).  max is a whole number
	 * of units. */
	if (w > promised)
		w &= ~unit;
	if (w <= promised) {
		uint32_t up = (promised + unit) & ~unit;
		w = up <= space + unit ? up : promised & ~unit;
	}
	return w;
}

uint32_t tcp_rcv_deliver(struct tcb *tcb, const uint8_t *data, uint32_t len)
{
	struct ring *r = &tcb->rcv_buf;
	uint32_t n;
	if (tcp_rcvq(tcb)) {
		/* Behind text held by reference (tcp_rcvq.c): in order after
		 * it, the caller having trimmed the text to the window. */
		n = tcp_rcvq_copy(tcb, data, len);
		tcb->rcv_nxt += n;
		tcb->sender->bytes_received += n;
		return n;
	}
	n = len ? ring_write_pool(r, &tcb->st->buf_pool, data, len) : 0;
	if (n < len && tcb->rcv_wscale) {
		/* RFC 7323 2.4: an edge already promised is rounded up to the
		 * scale's unit (tcp_rcv_window), so the window may reach up to
		 * unit - 1 bytes past the buffer.  The caller has trimmed the
		 * text to the window: take those bytes rather than drop what we
		 * offered (a drop there costs the sender a retransmission and
		 * queues a whole window out of order behind the hole).  The
		 * buffer then holds more than its size; its room reads 0 until
		 * the application reads. */
		uint32_t cap = r->cap;
		r->cap = cap + (1u << tcb->rcv_wscale) - 1;
		n += ring_write_pool(r, &tcb->st->buf_pool, data + n, len - n);
		r->cap = cap;
	}
	tcb->rcv_nxt += n;
	tcb->sender->bytes_received += n;
	return n;
}

/*
 * RFC 1071 2(C) lets the checksum be summed while the data is copied; so
 * does Linux for a reader waiting on an in-order segment
 * (skb_copy_and_csum_datagram_msg).  Nothing of the segment has been acted
 * upon yet (tcp_input calls this before its steps), and nothing is
 * committed here: the bytes lie past the ring's length, where a wrong
 * segment leaves them unseen, and RCV.NXT, the ring and the ACK state
 * stay as they are until process_text delivers the text.
 */
int tcp_rcv_precopy(struct tcb *tcb, struct tcp_rx *s)
{
	const struct wire_tcp *w = s->w;
	struct ring *r = &tcb->rcv_buf;
	uint32_t first;
	uint8_t *at;
	/* Text that can stay in the block it came in (tcp_rcvq.c) is summed
	 * where it lies instead: copied once, out to the application, rather
	 * than twice. */
	if (!tcp_receives_text(tcb->state) || tcb->orphan || w->seq != tcb->rcv_nxt ||
	    tcp_rcvq(tcb) || w->data_len > ring_space(r) ||
	    tcp_rcvq_may_hold(tcb->st, w->data, w->data_len) ||
	    !(at = ring_tail(r, w->data_len, &first)))
		return -1;
	if (!wire_tcp_verify_copy(w, at, first, r->buf))
		return 0;
	s->pre_ring = *r;
	s->pre_len = w->data_len;
	return 1;
}

uint32_t tcp_rcv_deliver_rx(struct tcb *tcb, const struct tcp_rx *s)
{
	struct ring *r = &tcb->rcv_buf;
	const struct ring *p = &s->pre_ring;
	/* The copy stands if it is of these bytes (nothing trimmed off the
	 * front) into the ring as it still is. */
	if (!s->pre_len || s->data != s->w->data || s->data_len > s->pre_len || r->buf != p->buf ||
	    r->alloc != p->alloc || r->head != p->head || r->len != p->len) {
		/* No copy at all when the text can stay where it lies
		 * (tcp_rcvq.c). */
		if (!tcp_rcvq_hold(tcb, s->data, s->data_len))
			return tcp_rcv_deliver(tcb, s->data, s->data_len);
		tcb->rcv_nxt += s->data_len;
		tcb->sender->bytes_received += s->data_len;
		return s->data_len;
	}
	ring_commit(r, s->data_len);
	tcb->rcv_nxt += s->data_len;
	tcb->sender->bytes_received += s->data_len;
	return s->data_len;
}

/* ------------------------------------------------------------------ */
/* The reassembly queue.                                               */

void tcp_ofo_free(struct tcp_layer *st, struct ofo_seg *o)
{
	if (o->big)
		free(o);
	else
		slab_free(&st->ofo_slab, o);
}

/* Takes the first held segment off the queue and frees it. */
static void ofo_unlink_first(struct tcb *tcb)
{
	struct ofo_seg *o = tcb->ofo;
	tcb->ofo = o->next;
	tcb->ofo_bytes -= o->len;
	tcb->st->ofo_total -= o->len;
	tcp_ofo_free(tcb->st, o);
}

void tcp_ofo_purge(struct tcb *tcb)
{
	while (tcb->ofo)
		ofo_unlink_first(tcb);
}

static struct ofo_seg *ofo_new(struct tcb *tcb, uint32_t seq, const uint8_t *data, uint32_t len)
{
	/* The cache's objects hold a datagram of our MTU; a peer that ignores
	 * our MSS can send more, which gets an allocation of its own. */
	struct tcp_layer *st = tcb->st;
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

/* ------------------------------------------------------------------ */
/* SACK blocks (RFC 2018 4) and D-SACK (RFC 2883).                      */

/* The latest arrival's block goes first in the next ACK (RFC 2018 4). */
static void sack_note_arrival(struct tcb *tcb, uint32_t seq)
{
	struct tcb_rare *r = tcp_rare(tcb);
	if (!r)
		return; /* without memory the blocks go lowest first */
	unsigned n = r->sack_nrecent < WIRE_SACK_MAX ? r->sack_nrecent : WIRE_SACK_MAX - 1;
	memmove(r->sack_recent + 1, r->sack_recent, n * sizeof(r->sack_recent[0]));
	r->sack_recent[0] = seq;
	r->sack_nrecent = (uint8_t)(n + 1);
}

void tcp_rcv_dsack(struct tcb *tcb, uint32_t start, uint32_t end, int ofo)
{
	if (!tcb->sack_ok || !ENV(tcb->st)->cfg.dsack || !seq_lt(start, end))
		return;
	struct tcb_rare *r = tcp_rare(tcb);
	if (!r || r->dsack_pending)
		return; /* one D-SACK block per ACK: the first duplicate */
	r->dsack_pending = 1;
	r->dsack.start = start;
	r->dsack.end = end;
	if (ofo)
		STAT_INC(tcb->st, TCPDSACKOfoSent);
	else
		STAT_INC(tcb->st, TCPDSACKOldSent);
}

/* The run of contiguous held segments that holds seq, into *b; 0 when
 * no held byte is seq. */
static int ofo_run_of(const struct tcb *tcb, uint32_t seq, struct wire_sack *b)
{
	const struct ofo_seg *o = tcb->ofo;
	while (o) {
		uint32_t start = o->seq, end = o->seq + o->len;
		while (o->next && o->next->seq == end) {
			o = o->next;
			end = o->seq + o->len;
		}
		if (seq_leq(start, seq) && seq_lt(seq, end)) {
			b->start = start;
			b->end = end;
			return 1;
		}
		o = o->next;
	}
	return 0;
}

static int sack_listed(const struct wire_tcp_opts *o, unsigned from, const struct wire_sack *b)
{
	for (unsigned i = from; i < o->sack_count; i++)
		if (o->sack[i].start == b->start)
			return 1;
	return 0;
}

void tcp_rcv_sack_fill(struct tcb *tcb, struct wire_tcp_opts *o)
{
	struct tcb_rare *r = tcb->rare;
	unsigned room = wire_tcp_sack_room(o), first = 0;
	o->sack_count = 0;
	if (room == 0)
		return;
	/* RFC 2883 4: a D-SACK block is the first, reported once. */
	if (r->dsack_pending) {
		o->sack[o->sack_count++] = r->dsack;
		r->dsack_pending = 0;
		first = 1;
	}
	/* RFC 2018 4: the block holding the latest arrival, then the most
	 * recently reported others that are still held... */
	struct wire_sack b;
	for (unsigned i = 0; i < r->sack_nrecent && o->sack_count < room; i++)
		if (ofo_run_of(tcb, r->sack_recent[i], &b) && !sack_listed(o, first, &b))
			o->sack[o->sack_count++] = b;
	/* ... then the other runs, lowest first, while there is room. */
	for (const struct ofo_seg *s = tcb->ofo; s && o->sack_count < room; s = s->next) {
		b.start = s->seq;
		b.end = s->seq + s->len;
		while (s->next && s->next->seq == b.end) {
			s = s->next;
			b.end = s->seq + s->len;
		}
		if (seq_lt(b.start, b.end) && !sack_listed(o, first, &b))
			o->sack[o->sack_count++] = b;
	}
	r->sack_nrecent = 0;
	for (unsigned i = first; i < o->sack_count; i++)
		r->sack_recent[r->sack_nrecent++] = o->sack[i].start;
}

/*
 * Holds [seq, seq+len) (and a FIN after it) until the gap before it fills.
 * The list stays sorted and free of overlaps: bytes already held win, and
 * only the gaps between held segments are filled from the new one.
 */
int tcp_ofo_insert(struct tcb *tcb, uint32_t seq, const uint8_t *data, uint32_t len, int fin)
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
			/* RFC 2883 4.1.2: held bytes that came again. */
			uint32_t held_end = o->seq + o->len;
			tcp_rcv_dsack(tcb, cur, seq_lt(end, held_end) ? end : held_end, 1);
			cur = o->seq + o->len;
			if (cur == end || seq_gt(cur, end))
				last = o;
			pp = &o->next;
			continue;
		}
		uint32_t gap_end = o && seq_lt(o->seq, end) ? o->seq : end;
		/* The stack-wide reassembly budget: what does not fit is
		 * not held (the peer sends it again). */
		if (tcb->st->ofo_total + (gap_end - cur) > ENV(tcb->st)->cfg.ofo_budget)
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
	if (len && tcb->sack_ok)
		sack_note_arrival(tcb, seq);
	STAT_INC(tcb->st, OfoQueued);
	return 0;
}

int tcp_ofo_pull(struct tcb *tcb)
{
	while (tcb->ofo && seq_leq(tcb->ofo->seq, tcb->rcv_nxt)) {
		struct ofo_seg *o = tcb->ofo;
		uint32_t end = o->seq + o->len;
		int fin;
		if (seq_gt(end, tcb->rcv_nxt)) {
			uint32_t off = tcb->rcv_nxt - o->seq;
			if (tcp_rcv_deliver(tcb, o->data + off, o->len - off) != o->len - off)
				return 0; /* no memory: keep it, try again later */
		}
		fin = o->fin && end == tcb->rcv_nxt;
		ofo_unlink_first(tcb);
		if (fin)
			return 1;
	}
	return 0;
}
