/* The frame queues and the give-up ring ARP and ND share; see neigh.h. */
#include "link/neigh.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct neigh_frame *neigh_frame_new(size_t len, struct synack_link_stats *stats)
{
	struct neigh_frame *f = malloc(sizeof(*f) + len);
	if (!f) {
		stats->drops[SYNACK_LINK_DROP_NO_MEMORY]++;
		return NULL;
	}
	f->next = NULL;
	f->len = len;
	return f;
}

void neigh_fifo_push(struct neigh_fifo *q, struct neigh_frame *f)
{
	f->next = NULL;
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->n++;
}

struct neigh_frame *neigh_fifo_pop(struct neigh_fifo *q)
{
	struct neigh_frame *f = q->head;
	if (!f)
		return NULL;
	q->head = f->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	f->next = NULL;
	return f;
}

void neigh_fifo_clear(struct neigh_fifo *q, struct synack_link_stats *stats, int reason)
{
	struct neigh_frame *f;
	while ((f = neigh_fifo_pop(q))) {
		if (reason)
			stats->drops[reason]++;
		free(f);
	}
}

ssize_t neigh_fifo_output(struct neigh_fifo *q, uint8_t *buf, size_t cap)
{
	struct neigh_frame *f = q->head;
	if (!f)
		return 0;
	if (f->len > cap)
		return -EMSGSIZE;
	memcpy(buf, f->data, f->len);
	ssize_t n = (ssize_t)f->len;
	free(neigh_fifo_pop(q));
	return n;
}

void neigh_hold(struct neigh_fifo *q, uint32_t max, const uint8_t *pkt, size_t len, size_t hlen,
                struct synack_link_stats *stats, int full_reason)
{
	if (max == 0) {
		stats->drops[full_reason]++;
		return;
	}
	struct neigh_frame *f = neigh_frame_new(hlen + len, stats);
	if (!f)
		return;
	memcpy(f->data + hlen, pkt, len);
	if (q->n >= max) {
		free(neigh_fifo_pop(q));
		stats->drops[full_reason]++;
	}
	neigh_fifo_push(q, f);
}

int neigh_failed_init(struct neigh_failed *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->cap = cap ? cap : 1;
	r->v = calloc(r->cap, sizeof(*r->v));
	return r->v ? 0 : -ENOMEM;
}

void neigh_failed_free(struct neigh_failed *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

void neigh_failed_push(struct neigh_failed *r, const uint8_t addr[16])
{
	if (r->n == r->cap)
		return;
	memcpy(r->v[(r->head + r->n++) % r->cap], addr, 16);
}

int neigh_failed_pop(struct neigh_failed *r, uint8_t addr[16])
{
	if (!r->n)
		return 0;
	memcpy(addr, r->v[r->head], 16);
	r->head = (r->head + 1) % r->cap;
	r->n--;
	return 1;
}
