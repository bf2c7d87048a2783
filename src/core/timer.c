#include "core/timer.h"

#include <errno.h>
#include <stdlib.h>

/* The heap order: earlier deadline first, and among equal deadlines the one
 * armed first, so that runs replay identically. */
static inline int node_before(const struct timer_node *a, const struct timer_node *b)
{
	return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static inline void heap_place(struct timer_queue *q, uint32_t i, struct timer_node *n)
{
	q->heap[i] = n;
	n->idx = i;
}

static void sift_up(struct timer_queue *q, uint32_t i)
{
	struct timer_node *n = q->heap[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!node_before(n, q->heap[parent]))
			break;
		heap_place(q, i, q->heap[parent]);
		i = parent;
	}
	heap_place(q, i, n);
}

static void sift_down(struct timer_queue *q, uint32_t i)
{
	struct timer_node *n = q->heap[i];
	for (;;) {
		/* 64-bit so that 2i + 1 cannot wrap for huge heaps. */
		uint64_t child = 2 * (uint64_t)i + 1;
		if (child >= q->len)
			break;
		if (child + 1 < q->len && node_before(q->heap[child + 1], q->heap[child]))
			child++;
		if (!node_before(q->heap[child], n))
			break;
		heap_place(q, i, q->heap[child]);
		i = (uint32_t)child;
	}
	heap_place(q, i, n);
}

/* Restores the heap around position i after its node changed key or was
 * replaced; only one of the two directions can apply. */
static void heap_fix(struct timer_queue *q, uint32_t i)
{
	if (i > 0 && node_before(q->heap[i], q->heap[(i - 1) / 2]))
		sift_up(q, i);
	else
		sift_down(q, i);
}

static void heap_remove_at(struct timer_queue *q, uint32_t i)
{
	struct timer_node *gone = q->heap[i];
	struct timer_node *last = q->heap[--q->len];

	gone->idx = TIMER_UNARMED;
	if (i == q->len)
		return;
	heap_place(q, i, last);
	heap_fix(q, i);
}

static int heap_grow(struct timer_queue *q)
{
	/* Positions run up to TIMER_UNARMED - 1, which caps the heap size. */
	uint64_t cap = q->cap ? (uint64_t)q->cap * 2 : 16;
	if (cap > TIMER_UNARMED)
		cap = TIMER_UNARMED;
	if (cap <= q->cap || cap > SIZE_MAX / sizeof(*q->heap))
		return -ENOMEM;
	struct timer_node **h = realloc(q->heap, (size_t)cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	q->heap = h;
	q->cap = (uint32_t)cap;
	return 0;
}

void timer_queue_init(struct timer_queue *q)
{
	q->heap = NULL;
	q->len = 0;
	q->cap = 0;
	q->next_order = 0;
}

void timer_queue_fini(struct timer_queue *q)
{
	/* The nodes belong to their owners and may already be gone, so they
	 * are not touched here. */
	free(q->heap);
	timer_queue_init(q);
}

int timer_arm(struct timer_queue *q, struct timer_node *n, uint64_t at)
{
	if (timer_armed(n)) {
		/* A re-arm counts as a new arming for tie-breaking, as if the
		 * timer had been cancelled and armed again. */
		n->at = at;
		n->order = q->next_order++;
		heap_fix(q, n->idx);
		return 0;
	}
	if (q->len == q->cap && heap_grow(q) < 0)
		return -ENOMEM;
	n->at = at;
	n->order = q->next_order++;
	heap_place(q, q->len++, n);
	sift_up(q, n->idx);
	return 0;
}

void timer_cancel(struct timer_queue *q, struct timer_node *n)
{
	if (timer_armed(n))
		heap_remove_at(q, n->idx);
}

uint64_t timer_next(const struct timer_queue *q)
{
	return q->len ? q->heap[0]->at : UINT64_MAX;
}

struct timer_node *timer_pop_due(struct timer_queue *q, uint64_t now)
{
	if (!q->len || q->heap[0]->at > now)
		return NULL;
	struct timer_node *n = q->heap[0];
	heap_remove_at(q, 0);
	return n;
}
