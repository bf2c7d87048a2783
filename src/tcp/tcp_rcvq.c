/*
 * The zero-copy receive queue (issue 16 item 2).  Text that arrives in
 * order inside a block its caller lends the stack (synack_input_block: the
 * link's frame buffer, a 64 KiB GSO super-segment read from a TAP device)
 * stays there, referenced, until the application reads it: the one copy is
 * the one out to the application, as Linux keeps skbs on
 * sk_receive_queue and copies in tcp_recvmsg.
 *
 * Memory stays honest as Linux's truesize accounting keeps it: a held
 * block is charged to the receive buffer at its full size, so the window
 * we offer (tcp_rcv_window, tcp_rcv_space) shrinks by what we really hold,
 * and a block is held only when the text fills at least half of it, so a
 * peer sending small segments cannot make us keep a 64 KiB block per
 * segment: such text is copied (Linux's tcp_collapse packs small skbs the
 * same way), into the ring while nothing is held, else into copy chunks at
 * the queue's tail, which keeps the order.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"

/* A copy chunk's room for text (the header comes on top). */
#define RCVQ_CHUNK 4096u

static struct rcvq *rcvq_get(struct tcb *tcb)
{
	struct tcb_rare *r = tcp_rare(tcb);
	if (!r)
		return NULL;
	if (!r->rq) {
		r->rq = slab_alloc(&tcb->st->rcvq_slab);
		if (!r->rq)
			return NULL;
		memset(r->rq, 0, sizeof(*r->rq));
	}
	return r->rq;
}

static void rcvq_append(struct rcvq *q, struct rcv_ref *p)
{
	p->next = NULL;
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->len += p->len;
	q->charge += p->truesize;
}

int tcp_rcvq_may_hold(const struct tcp_layer *st, const uint8_t *data, uint32_t len)
{
	const uint8_t *b = st->rx_block;
	/* One segment per datagram: the block is held once.  Text outside
	 * it (a reassembled datagram, the loopback's) is not the caller's. */
	return b && !st->rx_block_kept && len != 0 && data >= b &&
	       (size_t)(data - b) + len <= st->rx_block_size &&
	       2 * (uint64_t)len >= st->rx_block_size;
}

int tcp_rcvq_hold(struct tcb *tcb, const uint8_t *data, uint32_t len)
{
	struct tcp_layer *st = tcb->st;
	const uint8_t *b = st->rx_block;
	if (!tcp_rcvq_may_hold(st, data, len))
		return 0;
	struct rcvq *q = rcvq_get(tcb);
	struct rcv_ref *p = q ? slab_alloc(&st->rcvq_slab) : NULL;
	if (!p)
		return 0; /* copied instead */
	p->block = (void *)(uintptr_t)b;
	p->data = data;
	p->len = len;
	p->room = 0;
	p->truesize = st->rx_block_size + (uint32_t)sizeof(*p);
	rcvq_append(q, p);
	st->rx_block_kept = 1;
	if (++st->rx_held > st->rx_held_peak)
		st->rx_held_peak = st->rx_held;
	STAT_INC(st, TCPRcvQueueRef);
	return 1;
}

uint32_t tcp_rcvq_copy(struct tcb *tcb, const uint8_t *data, uint32_t len)
{
	struct rcvq *q = tcb->rare->rq;
	uint32_t done = 0;
	STAT_INC(tcb->st, TCPRcvCollapsed);
	while (done < len) {
		struct rcv_ref *t = q->tail;
		if (t && !t->block && t->room) {
			uint32_t n = len - done < t->room ? len - done : t->room;
			memcpy((uint8_t *)(uintptr_t)t->data + t->len, data + done, n);
			t->len += n;
			t->room -= n;
			q->len += n;
			done += n;
			continue;
		}
		uint32_t size = len - done > RCVQ_CHUNK ? len - done : RCVQ_CHUNK;
		struct rcv_ref *p = malloc(sizeof(*p) + size);
		if (!p)
			break;
		p->block = NULL;
		p->data = (const uint8_t *)(p + 1);
		p->len = 0;
		p->room = size;
		p->truesize = (uint32_t)sizeof(*p) + size;
		rcvq_append(q, p);
	}
	return done;
}

uint32_t tcp_rcvq_peek(const struct rcvq *q, uint32_t off, void *out, uint32_t n)
{
	uint32_t done = 0;
	for (const struct rcv_ref *p = q->head; p && done < n; p = p->next) {
		if (off >= p->len) {
			off -= p->len;
			continue;
		}
		uint32_t k = p->len - off < n - done ? p->len - off : n - done;
		memcpy((uint8_t *)out + done, p->data + off, k);
		done += k;
		off = 0;
	}
	return done;
}

/* A spare block lies on its list linked through its own first bytes: the
 * block is free memory, and a list costs no array sized to the most ever
 * read at once (a simulated receiver reads a window of MTU-sized blocks
 * in one go). */
struct rx_spare {
	struct rx_spare *next;
};

/* How many read blocks may lie as spares: as many as the receive queues
 * held at once this trim period or the last (the caches' rule, pool_keep_pct
 * aside), so that a window read in one go comes back whole for the caller
 * to lend again, and never more than the memory the receive buffers were
 * charged for; at least TCP_RX_SPARE. */
static uint32_t spare_cap(const struct tcp_layer *st)
{
	return st->rx_held_peak > TCP_RX_SPARE ? st->rx_held_peak : TCP_RX_SPARE;
}

/* Gives a piece's memory back: a held block's header to the slab, a copy
 * chunk (header and text in one malloc) to the allocator.  The block of
 * the datagram still being input stays its caller's (it may yet look at
 * it): it was not kept. */
static void ref_free(struct tcp_layer *st, struct rcv_ref *p)
{
	if (!p->block) {
		free(p);
		return;
	}
	uint32_t size = p->truesize - (uint32_t)sizeof(*p);
	st->rx_held--;
	if (p->block == (const void *)st->rx_block) {
		st->rx_block_kept = 0;
	} else if (size == st->rx_spare_size && st->rx_spare_n < spare_cap(st)) {
		struct rx_spare *f = p->block;
		f->next = st->rx_spare;
		st->rx_spare = f;
		st->rx_spare_n++;
	} else {
		free(p->block);
	}
	slab_free(&st->rcvq_slab, p);
}

void *tcp_rcvq_spare(struct tcp_layer *tl, uint32_t size)
{
	if (size != tl->rx_spare_size) {
		tcp_rcvq_spare_trim(tl, 1);
		tl->rx_spare_size = size;
		return NULL;
	}
	struct rx_spare *f = tl->rx_spare;
	if (!f)
		return NULL;
	tl->rx_spare = f->next;
	if (--tl->rx_spare_n < tl->rx_spare_low)
		tl->rx_spare_low = tl->rx_spare_n;
	return f;
}

void tcp_rcvq_spare_trim(struct tcp_layer *tl, int all)
{
	uint32_t n = all ? tl->rx_spare_n : tl->rx_spare_low;
	for (uint32_t i = 0; i < n; i++) {
		struct rx_spare *f = tl->rx_spare;
		tl->rx_spare = f->next;
		free(f);
	}
	tl->rx_spare_n -= n;
	tl->rx_spare_low = tl->rx_spare_n;
	/* The next period's bound starts from what is held now. */
	tl->rx_held_peak = tl->rx_held;
}

void tcp_rcvq_consume(struct tcb *tcb, uint32_t n)
{
	struct rcvq *q = tcb->rare->rq;
	while (n) {
		struct rcv_ref *p = q->head;
		if (n < p->len) {
			p->data += n;
			p->len -= n;
			q->len -= n;
			return;
		}
		n -= p->len;
		q->len -= p->len;
		q->charge -= p->truesize;
		q->head = p->next;
		if (!q->head)
			q->tail = NULL;
		ref_free(tcb->st, p);
	}
	if (!q->head)
		tcp_rcvq_free(tcb); /* an idle connection holds nothing */
}

void tcp_rcvq_free(struct tcb *tcb)
{
	struct rcvq *q = tcb->rare ? tcb->rare->rq : NULL;
	if (!q)
		return;
	while (q->head) {
		struct rcv_ref *p = q->head;
		q->head = p->next;
		ref_free(tcb->st, p);
	}
	slab_free(&tcb->st->rcvq_slab, q);
	tcb->rare->rq = NULL;
}

uint32_t tcp_unread_peek(const struct tcb *tcb, uint32_t off, void *out, uint32_t n)
{
	const struct ring *r = &tcb->rcv_buf;
	const struct rcvq *q = tcp_rcvq(tcb);
	uint32_t done = 0;
	if (off < r->len) {
		done = ring_peek(r, off, out, n);
		off = 0;
	} else {
		off -= r->len;
	}
	if (q && done < n)
		done += tcp_rcvq_peek(q, off, (uint8_t *)out + done, n - done);
	return done;
}
