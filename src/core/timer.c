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

static int heap_node_before(const void *a, const void *b, void *ctx)
{
	(void)ctx;
	return node_before(*(struct timer_node *const *)a, *(struct timer_node *const *)b);
}

/* Each node knows its heap position, so that it can be cancelled. */
static void heap_node_placed(void *elem, size_t i, void *ctx)
{
	(void)ctx;
	(*(struct timer_node **)elem)->idx = (uint32_t)i;
}

static const struct heap_ops timer_heap_ops = {
    .size = sizeof(struct timer_node *),
    .before = heap_node_before,
    .placed = heap_node_placed,
};

static inline struct timer_node **heap_nodes(const struct timer_queue *q)
{
	return q->heap.v;
}

static void heap_remove_node(struct timer_queue *q, struct timer_node *gone)
{
	heap_remove_at(q->heap.v, q->heap.len--, gone->idx, NULL, &timer_heap_ops, NULL);
	gone->idx = TIMER_UNARMED;
}

static int heap_insert(struct timer_queue *q, struct timer_node *n)
{
	/* Positions stay below TIMER_IN_WHEEL, which caps the heap size. */
	if (heap_reserve(&q->heap, sizeof(n), 16, TIMER_IN_WHEEL) < 0)
		return -ENOMEM;
	heap_push(&q->heap, &n, &timer_heap_ops, NULL);
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
	q->level_count[level]++;
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
	q->level_count[level]--;
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
	while (q->heap.len == 0 && q->wheel_count) {
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
		q->early = 0;
		while (list) {
			struct timer_node *n = list;
			list = n->next;
			q->wheel_count--;
			q->level_count[level]--;
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
/* A rebase moves the heap's nodes and every wheel node below the level at
 * which the two bases differ, and the refill that follows when the heap
 * runs empty moves them down again.  With 100,000 connections, thousands
 * of deadlines fall in one slot, often at the same microsecond (all of
 * them in the heap after a refill), and rebasing whenever the heap held
 * 64 nodes made a storm of such round trips: ~380 node moves per
 * connection lifecycle, 57 % of the CPU.  So a rebase waits until 64 nodes
 * were armed before the base since it last moved (early), and until they
 * are at least 1/REBASE_RATIO of the nodes it would move: it then costs at
 * most REBASE_RATIO moves per early arming, amortised O(1). */
#define REBASE_RATIO 8

static int rebase_pays(const struct timer_queue *q, uint64_t nb)
{
	unsigned top = level_of(q->base, nb);
	uint64_t moved = q->heap.len;
	for (unsigned l = 0; l < top; l++)
		moved += q->level_count[l];
	return (uint64_t)q->early * REBASE_RATIO >= moved;
}

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
				q->level_count[l]--;
				n = next;
			}
		}
	}
	q->base = nb;
	q->early = 0;
	while (moved) {
		struct timer_node *n = moved;
		moved = n->next;
		wheel_insert(q, n);
	}
	/* Rebuild the heap in place from the nodes at or before the new
	 * base; writes stay below the position being read. */
	struct timer_node **v = heap_nodes(q);
	uint32_t old_len = q->heap.len;
	q->heap.len = 0;
	for (uint32_t i = 0; i < old_len; i++) {
		struct timer_node *n = v[i];
		if (n->at > nb) {
			wheel_insert(q, n);
		} else {
			heap_append(v, q->heap.len++, &n, &timer_heap_ops, NULL);
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
	heap_fini(&q->heap);
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
	heap_remove_node(q, n);
	if (q->heap.len == 0)
		(void)refill(q);
}

int timer_arm_ordered(struct timer_queue *q, struct timer_node *n, uint64_t at, uint64_t order)
{
	/* A re-arm is a cancel and a new arming, also for tie-breaking. */
	if (timer_armed(n)) {
		if (n->idx & TIMER_IN_WHEEL)
			wheel_unlink(q, n);
		else
			heap_remove_node(q, n);
	}
	n->at = at;
	n->order = order;
	int err = 0;
	if (at < q->base && ++q->early >= HEAP_SOFT_MAX && q->heap.len >= HEAP_SOFT_MAX &&
	    rebase_pays(q, at))
		rebase(q, at);
	if (at > q->base)
		wheel_insert(q, n);
	else if ((err = heap_insert(q, n)) < 0)
		n->idx = TIMER_UNARMED;
	/* Whatever just happened, the heap must hold the earliest deadline. */
	if (q->heap.len == 0)
		(void)refill(q);
	return err;
}

int timer_arm(struct timer_queue *q, struct timer_node *n, uint64_t at)
{
	return timer_arm_ordered(q, n, at, q->next_order++);
}

struct timer_node *timer_pop_due(struct timer_queue *q, uint64_t now)
{
	if (!q->heap.len || heap_nodes(q)[0]->at > now)
		return NULL;
	struct timer_node *n = heap_nodes(q)[0];
	heap_remove_node(q, n);
	if (q->heap.len == 0)
		(void)refill(q);
	return n;
}

int timer_queue_check(const struct timer_queue *q)
{
	uint32_t count = 0, level_total[TIMER_LEVELS] = {0};
	if (q->heap.len == 0 && q->wheel_count)
		return -1;
	for (size_t i = 0; i < q->heap.len; i++) {
		const struct timer_node *n = heap_nodes(q)[i];
		if (n->idx != i || n->at > q->base)
			return -1;
		if (i > 0 && node_before(n, heap_nodes(q)[(i - 1) / 2]))
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
				level_total[l]++;
			}
		}
	for (unsigned l = 0; l < TIMER_LEVELS; l++)
		if (level_total[l] != q->level_count[l])
			return -1;
	return count == q->wheel_count ? 0 : -1;
}
