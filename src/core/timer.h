/*
 * The stack's timer queue: one node per owner (a connection or a TIME_WAIT
 * record), each armed at most once, keyed by its deadline.  Ties break by
 * arming order, so runs are reproducible.  This is a binary min-heap with
 * O(log n) arm and cancel; the interface is the one a hierarchical wheel
 * would have, so the structure can change without touching callers.
 */
#ifndef SYNACK_TIMER_H
#define SYNACK_TIMER_H

#include <stddef.h>
#include <stdint.h>

#define TIMER_UNARMED UINT32_MAX

struct timer_node {
	uint64_t at;    /* deadline, valid while armed */
	uint64_t order; /* arming sequence number, breaks ties */
	uint32_t idx;   /* position in the heap, TIMER_UNARMED when not armed */
};

struct timer_queue {
	struct timer_node **heap;
	uint32_t len, cap;
	uint64_t next_order;
};

/* A node must be initialised once before first use (it starts unarmed). */
static inline void timer_node_init(struct timer_node *n)
{
	n->idx = TIMER_UNARMED;
	n->at = 0;
	n->order = 0;
}
static inline int timer_armed(const struct timer_node *n)
{
	return n->idx != TIMER_UNARMED;
}

void timer_queue_init(struct timer_queue *q);
void timer_queue_fini(struct timer_queue *q); /* frees the heap, not the nodes */
/* Arms (or re-arms) n at time at.  Returns 0 or -ENOMEM (n is then unarmed). */
int timer_arm(struct timer_queue *q, struct timer_node *n, uint64_t at);
/* Cancels n if armed; a no-op otherwise. */
void timer_cancel(struct timer_queue *q, struct timer_node *n);
/* Earliest deadline, or UINT64_MAX when nothing is armed. */
uint64_t timer_next(const struct timer_queue *q);
/* Removes and returns the earliest node due at or before now, or NULL. */
struct timer_node *timer_pop_due(struct timer_queue *q, uint64_t now);
/* Bytes the queue itself holds (not the nodes, which their owners embed). */
static inline size_t timer_queue_bytes(const struct timer_queue *q)
{
	return (size_t)q->cap * sizeof(*q->heap);
}
static inline uint32_t timer_count(const struct timer_queue *q)
{
	return q->len;
}

#endif
