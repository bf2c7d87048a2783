/*
 * The stack's timer queue: one node per owner (a connection, or the
 * TIME_WAIT list), each armed at most once, keyed by its deadline in
 * microseconds.  Nodes fire exactly at their deadline, and among equal
 * deadlines in arming order, so runs are reproducible.
 *
 * Two parts.  A hierarchical timer wheel (levels of 64 slots, each level
 * 64 times coarser than the one below, relative to a base time) holds every
 * deadline after the base: arming and cancelling there is O(1).  A small
 * binary heap holds the deadlines at or before the base, which are the
 * earliest ones, so the next deadline is always exact and at hand.  When the
 * heap runs empty the wheel's earliest slot is cascaded down, moving the base
 * forward to that slot, until the earliest deadline lands in the heap.  Each
 * node moves down at most once per level, so the cost is amortised O(1) per
 * arming; only timers armed before the current earliest deadline pay the
 * heap's O(log k), k being how many such timers are armed.
 */
#ifndef SYNACK_TIMER_H
#define SYNACK_TIMER_H

#include <stddef.h>
#include <stdint.h>

#include "core/heap.h"

#define TIMER_UNARMED UINT32_MAX
/* idx of a node in the wheel: this bit plus level * 64 + slot. */
#define TIMER_IN_WHEEL 0x80000000u
#define TIMER_LEVELS 11 /* 11 levels of 6 bits cover 64-bit deadlines */
#define TIMER_SLOTS 64

struct timer_node {
	uint64_t at;                    /* deadline, valid while armed */
	uint64_t order;                 /* arming sequence number, breaks ties */
	struct timer_node *next, *prev; /* slot list while in the wheel */
	uint32_t idx;                   /* heap position, TIMER_IN_WHEEL | slot, or TIMER_UNARMED */
};

struct timer_queue {
	struct heap heap; /* of struct timer_node *: deadlines <= base */
	uint64_t next_order;
	uint64_t base;                      /* every wheel node's deadline is > base */
	uint32_t wheel_count;               /* nodes in the wheel */
	uint32_t level_count[TIMER_LEVELS]; /* nodes in the wheel by level */
	uint32_t early;                     /* nodes armed before base since the base last moved */
	uint64_t occupied[TIMER_LEVELS];    /* bit s: slot s of the level is not empty */
	struct timer_node *slots[TIMER_LEVELS][TIMER_SLOTS];
};

/* A node must be initialised once before first use (it starts unarmed). */
static inline void timer_node_init(struct timer_node *n)
{
	n->idx = TIMER_UNARMED;
	n->at = 0;
	n->order = 0;
	n->next = n->prev = NULL;
}
static inline int timer_armed(const struct timer_node *n)
{
	return n->idx != TIMER_UNARMED;
}

void timer_queue_init(struct timer_queue *q);
void timer_queue_fini(struct timer_queue *q); /* frees the heap, not the nodes */
/* Arms (or re-arms) n at time at.  Returns 0 or -ENOMEM (n is then unarmed). */
int timer_arm(struct timer_queue *q, struct timer_node *n, uint64_t at);
/* Arms n with a given arming sequence number (one taken earlier from
 * timer_take_order()), as if it had been armed at that moment. */
int timer_arm_ordered(struct timer_queue *q, struct timer_node *n, uint64_t at, uint64_t order);
/* Takes the next arming sequence number without arming anything. */
static inline uint64_t timer_take_order(struct timer_queue *q)
{
	return q->next_order++;
}
/* Cancels n if armed; a no-op otherwise. */
void timer_cancel(struct timer_queue *q, struct timer_node *n);
/* Earliest deadline, or UINT64_MAX when nothing is armed (inline: the
 * caller of a stack asks after every call).  The heap holds the earliest
 * deadlines and is empty only when the wheel is. */
static inline uint64_t timer_next(const struct timer_queue *q)
{
	return q->heap.len ? (*(struct timer_node *const *)q->heap.v)->at : UINT64_MAX;
}
/* Removes and returns the earliest node due at or before now, or NULL. */
struct timer_node *timer_pop_due(struct timer_queue *q, uint64_t now);
static inline uint32_t timer_count(const struct timer_queue *q)
{
	return q->heap.len + q->wheel_count;
}
/* Bytes the queue itself holds (not the nodes, which their owners embed). */
static inline size_t timer_queue_bytes(const struct timer_queue *q)
{
	return (size_t)q->heap.cap * sizeof(struct timer_node *);
}
/* Checks every internal invariant; returns 0 when they hold (for tests). */
int timer_queue_check(const struct timer_queue *q);

#endif
