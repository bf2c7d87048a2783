#include "core/timer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The heap: deadlines at or before the wheel's base.                  */

/* Earlier deadline first, and among equal deadlines the one armed first,
 * so that runs replay identically. */
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

static void heap_remove_at(struct timer_queue *q, uint32_t i)
{
	struct timer_node *gone = q->heap[i];
	struct timer_node *last = q->heap[--q->len];

	gone->idx = TIMER_UNARMED;
	if (i == q->len)
		return;
	heap_place(q, i, last);
	/* Only one of the two directions can apply. */
	if (i > 0 && node_before(q->heap[i], q->heap[(i - 1) / 2]))
		sift_up(q, i);
	else
		sift_down(q, i);
}

static int heap_grow(struct timer_queue *q)
{
	/* Positions stay below TIMER_IN_WHEEL, which caps the heap size. */
	uint64_t cap = q->cap ? (uint64_t)q->cap * 2 : 16;
	if (cap > TIMER_IN_WHEEL)
		cap = TIMER_IN_WHEEL;
	if (cap <= q->cap || cap > SIZE_MAX / sizeof(*q->heap))
		return -ENOMEM;
	struct timer_node **h = realloc(q->heap, (size_t)cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	q->heap = h;
	q->cap = (uint32_t)cap;
	return 0;
}

static int heap_insert(struct timer_queue *q, struct timer_node *n)
{
	if (q->len == q->cap && heap_grow(q) < 0)
		return -ENOMEM;
	heap_place(q, q->len++, n);
	sift_up(q, n->idx);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The wheel: deadlines after the base.                                */

/*
 * A deadline at > base sits at the level of the highest 6-bit digit in
 * which it differs from base, in the slot named by its own digit there.
 * All nodes of a level share base's higher digits and have a larger digit
 * at their level, so every node of level L is earlier than every node of
 * level L + 1, and within a level the slots are in time order.
 */
static inline unsigned level_of(uint64_t base, uint64_t at)
{
	return (unsigned)(63 - __builtin_clzll(at ^ base)) / 6;
}

static void wheel_insert(struct timer_queue *q, struct timer_node *n)
{
	unsigned level = level_of(q->base, n->at);
	unsigned slot = (unsigned)(n->at >> (6 * level)) & (TIMER_SLOTS - 1);
	struct timer_node **head = &q->slots[level][slot];
	n->prev = NULL;
	n->next = *head;
	if (*head)
		(*head)->prev = n;
	*head = n;
	q->occupied[level] |= 1ull << slot;
	n->idx = TIMER_IN_WHEEL | (uint32_t)(level * TIMER_SLOTS + slot);
	q->wheel_count++;
}

static void wheel_unlink(struct timer_queue *q, struct timer_node *n)
{
	uint32_t pos = n->idx & ~TIMER_IN_WHEEL;
	unsigned level = pos / TIMER_SLOTS, slot = pos % TIMER_SLOTS;
	if (n->prev)
		n->prev->next = n->next;
	else
		q->slots[level][slot] = n->next;
	if (n->next)
		n->next->prev = n->prev;
	if (!q->slots[level][slot])
		q->occupied[level] &= ~(1ull << slot);
	n->next = n->prev = NULL;
	n->idx = TIMER_UNARMED;
	q->wheel_count--;
}

/*
 * The heap ran empty: move the base forward to the wheel's earliest slot
 * and cascade that slot's nodes down, until the earliest deadline is at
 * the base and its nodes are in the heap.  Moving the base to the start of
 * the earliest slot keeps every other node where it is: they share the
 * new base's higher digits and still have larger digits at their level.
 * Returns -ENOMEM when a node could not be placed in the heap (it is then
 * unarmed, as a failed timer_arm leaves it).
 */
static int refill(struct timer_queue *q)
{
	int err = 0;
	while (q->len == 0 && q->wheel_count) {
		unsigned level = 0;
		while (!q->occupied[level])
			level++;
		unsigned slot = (unsigned)__builtin_ctzll(q->occupied[level]);
		struct timer_node *list = q->slots[level][slot];
		q->slots[level][slot] = NULL;
		q->occupied[level] &= ~(1ull << slot);
		/* The first deadline this slot can hold. */
		unsigned shift = 6 * (level + 1);
		uint64_t high = shift >= 64 ? 0 : (q->base >> shift) << shift;
		q->base = high | ((uint64_t)slot << (6 * level));
		while (list) {
			struct timer_node *n = list;
			list = n->next;
			q->wheel_count--;
			n->next = n->prev = NULL;
			if (n->at == q->base) {
				if (heap_insert(q, n) < 0) {
					n->idx = TIMER_UNARMED;
					err = -ENOMEM;
				}
			} else {
				wheel_insert(q, n);
			}
		}
	}
	return err;
}

/*
 * Timers armed before the base go to the heap.  When many pile up there (a
 * burst of short timers armed while a long one set the base), the base is
 * moved back to the new deadline instead: the heap's nodes after it return
 * to the wheel, and so do the wheel's nodes below the highest digit in
 * which the two bases differ (those at that digit and above stay where they
 * are, being placed the same way for either base).
 */
#define HEAP_SOFT_MAX 64

static void rebase(struct timer_queue *q, uint64_t nb)
{
	unsigned top = level_of(q->base, nb);
	struct timer_node *moved = NULL;
	for (unsigned l = 0; l < top; l++) {
		while (q->occupied[l]) {
			unsigned slot = (unsigned)__builtin_ctzll(q->occupied[l]);
			struct timer_node *n = q->slots[l][slot];
			q->slots[l][slot] = NULL;
			q->occupied[l] &= ~(1ull << slot);
			while (n) {
				struct timer_node *next = n->next;
				n->next = moved;
				moved = n;
				q->wheel_count--;
				n = next;
			}
		}
	}
	q->base = nb;
	while (moved) {
		struct timer_node *n = moved;
		moved = n->next;
		wheel_insert(q, n);
	}
	/* Rebuild the heap in place from the nodes at or before the new
	 * base; writes stay below the position being read. */
	uint32_t old_len = q->len;
	q->len = 0;
	for (uint32_t i = 0; i < old_len; i++) {
		struct timer_node *n = q->heap[i];
		if (n->at > nb) {
			wheel_insert(q, n);
		} else {
			heap_place(q, q->len++, n);
			sift_up(q, n->idx);
		}
	}
}

/* ------------------------------------------------------------------ */

void timer_queue_init(struct timer_queue *q)
{
	memset(q, 0, sizeof(*q));
}

void timer_queue_fini(struct timer_queue *q)
{
	/* The nodes belong to their owners and may already be gone, so they
	 * are not touched here. */
	free(q->heap);
	timer_queue_init(q);
}

void timer_cancel(struct timer_queue *q, struct timer_node *n)
{
	if (!timer_armed(n))
		return;
	if (n->idx & TIMER_IN_WHEEL) {
		wheel_unlink(q, n);
		return;
	}
	heap_remove_at(q, n->idx);
	if (q->len == 0)
		(void)refill(q);
}

int timer_arm_ordered(struct timer_queue *q, struct timer_node *n, uint64_t at, uint64_t order)
{
	/* A re-arm is a cancel and a new arming, also for tie-breaking. */
	if (timer_armed(n)) {
		if (n->idx & TIMER_IN_WHEEL)
			wheel_unlink(q, n);
		else
			heap_remove_at(q, n->idx);
	}
	n->at = at;
	n->order = order;
	int err = 0;
	if (at < q->base && q->len >= HEAP_SOFT_MAX)
		rebase(q, at);
	if (at > q->base)
		wheel_insert(q, n);
	else if ((err = heap_insert(q, n)) < 0)
		n->idx = TIMER_UNARMED;
	/* Whatever just happened, the heap must hold the earliest deadline. */
	if (q->len == 0)
		(void)refill(q);
	return err;
}

int timer_arm(struct timer_queue *q, struct timer_node *n, uint64_t at)
{
	return timer_arm_ordered(q, n, at, q->next_order++);
}

uint64_t timer_next(const struct timer_queue *q)
{
	/* The heap is empty only when the wheel is. */
	return q->len ? q->heap[0]->at : UINT64_MAX;
}

struct timer_node *timer_pop_due(struct timer_queue *q, uint64_t now)
{
	if (!q->len || q->heap[0]->at > now)
		return NULL;
	struct timer_node *n = q->heap[0];
	heap_remove_at(q, 0);
	if (q->len == 0)
		(void)refill(q);
	return n;
}

int timer_queue_check(const struct timer_queue *q)
{
	uint32_t count = 0;
	if (q->len == 0 && q->wheel_count)
		return -1;
	for (uint32_t i = 0; i < q->len; i++) {
		const struct timer_node *n = q->heap[i];
		if (n->idx != i || n->at > q->base)
			return -1;
		if (i > 0 && node_before(n, q->heap[(i - 1) / 2]))
			return -1;
	}
	for (unsigned l = 0; l < TIMER_LEVELS; l++)
		for (unsigned s = 0; s < TIMER_SLOTS; s++) {
			const struct timer_node *n = q->slots[l][s];
			if (!!n != !!(q->occupied[l] & (1ull << s)))
				return -1;
			for (const struct timer_node *p = NULL; n; p = n, n = n->next) {
				if (n->prev != p || n->at <= q->base ||
				    level_of(q->base, n->at) != l ||
				    ((n->at >> (6 * l)) & (TIMER_SLOTS - 1)) != s ||
				    n->idx != (TIMER_IN_WHEEL | (l * TIMER_SLOTS + s)))
					return -1;
				count++;
			}
		}
	return count == q->wheel_count ? 0 : -1;
}
