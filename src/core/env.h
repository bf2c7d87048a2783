/*
 * What every layer of a stack shares: the configuration, the clock, the
 * counters and the trace ring.  A primitive of the core: it knows nothing
 * of sockets, TCP or IP.
 *
 * The layers' states nest: each begins with the state of the layer below
 * it (struct net_layer with this, struct tcp_layer with a struct
 * net_layer, struct sock_layer with a struct tcp_layer, and the stack
 * object, src/stack, with a struct sock_layer), so a layer reaches what it
 * owns and what lies below it at fixed offsets, and nothing above it.
 * ENV() gives the shared part from any of them: a pointer to a structure
 * converted to a pointer to its first member points to that member (C11
 * 6.7.2.1 paragraph 15).  Each layer's header asserts that it begins
 * with the layer below.
 */
#ifndef SYNACK_ENV_H
#define SYNACK_ENV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/addr.h"
#include "core/hash.h"
#include "core/mem.h"
#include "synack/synack.h"

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

struct env {
	struct synack_config cfg;
	uint64_t now; /* virtual time in microseconds; never runs backwards */
	struct synack_stats stats;
	/* The trace ring: absolute indexes, slot = index % capacity. */
	struct synack_trace *trace;
	uint64_t trace_head, trace_tail;
	uint32_t trace_pos; /* trace_head % capacity, kept without dividing */
};

/* The layers' states, by name only: ENV() accepts these and nothing else. */
struct net_layer;
struct tcp_layer;
struct sock_layer;
struct synack_stack;

#define ENV_OF(T, l)                                                                               \
	T * : (struct env *)(void *)(l), const T * : (const struct env *)(const void *)(l)
#define ENV(l)                                                                                     \
	_Generic((l), ENV_OF(struct env, l), ENV_OF(struct net_layer, l),                          \
	         ENV_OF(struct tcp_layer, l), ENV_OF(struct sock_layer, l),                        \
	         ENV_OF(struct synack_stack, l))

#define STAT_INC(l, name) (ENV(l)->stats.name++)
#define STAT_DEC(l, name) (ENV(l)->stats.name--)

/* Counts a drop under its reason (stats.drops[reason]).  The caller
 * traces it where it has a record to fill (a received segment's, or a
 * datagram's SYNACK_TRACE_DROP), and moves the MIB counter that goes
 * with it. */
void env_count_drop(struct env *st, int reason);

/* Trace records.  trace_reserve returns an absolute index whose record the
 * caller fills later (or SYNACK_NEVER when tracing is off); trace_slot gives
 * the record while it has not been overwritten, else NULL.  Inline: every
 * segment sent or received and every state change makes one, so the ring's
 * bookkeeping is kept to a few instructions (no division, no call). */
static inline struct synack_trace *trace_next(struct env *st, uint8_t kind)
{
	struct synack_trace *r = &st->trace[st->trace_pos];
	if (++st->trace_pos == st->cfg.trace_capacity)
		st->trace_pos = 0;
	if (st->trace_head - st->trace_tail == st->cfg.trace_capacity) {
		st->trace_tail++; /* overwrite the oldest */
		STAT_INC(st, TraceLost);
	}
	st->trace_head++;
	mem_zero(r, sizeof(*r)); /* padding too: records are copied out whole */
	r->t_us = st->now;
	r->kind = kind;
	return r;
}

static inline uint64_t trace_reserve(struct env *st)
{
	if (!st->trace)
		return SYNACK_NEVER;
	(void)trace_next(st, 0);
	return st->trace_head - 1;
}

static inline struct synack_trace *trace_slot(struct env *st, uint64_t idx)
{
	if (idx == SYNACK_NEVER || idx < st->trace_tail || idx >= st->trace_head)
		return NULL;
	/* idx is within the last capacity records, which end at trace_pos. */
	uint64_t back = st->trace_head - idx;
	uint32_t pos = st->trace_pos >= back
	                   ? st->trace_pos - (uint32_t)back
	                   : st->trace_pos + st->cfg.trace_capacity - (uint32_t)back;
	return &st->trace[pos];
}

static inline struct synack_trace *trace_add(struct env *st, uint8_t kind)
{
	return st->trace ? trace_next(st, kind) : NULL;
}

/* Fills a public endpoint that is all zero (a fresh trace record is) with
 * an address and a port. */
static inline void env_endpoint_zeroed(struct synack_endpoint *e, const struct addr *a,
                                       uint16_t port)
{
	e->port = port;
	if (addr_is_v4(a)) {
		e->addr = addr_to_v4(a);
		return;
	}
	e->family = SYNACK_AF_INET6;
	for (int i = 0; i < 4; i++) {
		e->addr6[4 * i] = (uint8_t)(a->w[i] >> 24);
		e->addr6[4 * i + 1] = (uint8_t)(a->w[i] >> 16);
		e->addr6[4 * i + 2] = (uint8_t)(a->w[i] >> 8);
		e->addr6[4 * i + 3] = (uint8_t)a->w[i];
	}
}

/* Fills the endpoints of a fresh (all zero) trace record: both addresses
 * are of one family, asked once. */
static inline void env_trace_ends(struct synack_trace *r, const struct addr *laddr, uint16_t lport,
                                  const struct addr *raddr, uint16_t rport)
{
	if (addr_is_v4(laddr)) {
		r->local.addr = addr_to_v4(laddr);
		r->remote.addr = addr_to_v4(raddr);
		r->local.port = lport;
		r->remote.port = rport;
		return;
	}
	env_endpoint_zeroed(&r->local, laddr, lport);
	env_endpoint_zeroed(&r->remote, raddr, rport);
}

/* The same for a connection's tuple. */
static inline void env_trace_tuple(struct synack_trace *r, const struct tuple *t)
{
	env_trace_ends(r, &t->laddr, t->lport, &t->raddr, t->rport);
}

/* A public endpoint for an address and a port. */
static inline void env_endpoint(struct synack_endpoint *e, const struct addr *a, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	env_endpoint_zeroed(e, a, port);
}

#endif
