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

/*
 * A trace record as the ring holds it: what every record carries, in one
 * cache line.  A record per segment sent, per segment received and per
 * state change is written while a connection runs; the public struct
 * synack_trace (160 bytes) cost two and a half lines each, and at 100,000
 * connections in flight every one of them a cache miss (branch
 * lifecycle4).  What few records carry (IPv6 ends, a SYN's options, SACK
 * blocks, a Fast Open cookie) lies in a parallel array of struct
 * trace_ext, touched only by those records; synack_trace_read assembles
 * the public record from both, field by field, so readers see exactly what
 * they saw before.
 */
struct trace_rec {
	uint64_t t_us;
	uint32_t seq, ack, len, win, iss, irs;
	uint32_t laddr, raddr; /* IPv4 ends (host byte order) unless v6 */
	uint16_t lport, rport;
	uint8_t kind, from, to, cause, flags, reason, ecn;
	uint8_t opts, sack_count; /* as in struct synack_trace */
	uint8_t v6;               /* the ends are IPv6: their addresses are in the ext */
	uint8_t ext;              /* this record's struct trace_ext is filled */
	uint8_t pad[9];
};
_Static_assert(sizeof(struct trace_rec) == 64, "a trace record is one cache line");
struct trace_ext {
	struct addr laddr6, raddr6;
	uint32_t opt_ts_val, opt_ts_ecr;
	uint16_t opt_mss;
	uint8_t opt_wscale, opt_tfo_len;
	struct synack_sack_block sack[4];
	uint8_t opt_tfo_cookie[16];
};

struct env {
	struct synack_config cfg;
	uint64_t now; /* virtual time in microseconds; never runs backwards */
	struct synack_stats stats;
	/* The trace ring: absolute indexes, slot = index % capacity.  trace
	 * is 64-byte aligned, so each record is one line; trace_ext[i] goes
	 * with trace[i]. */
	struct trace_rec *trace;
	struct trace_ext *trace_ext;
	void *trace_mem; /* the allocation both lie in */
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
static inline struct trace_rec *trace_next(struct env *st, uint8_t kind)
{
	struct trace_rec *r = &st->trace[st->trace_pos];
	if (++st->trace_pos == st->cfg.trace_capacity)
		st->trace_pos = 0;
	if (st->trace_head - st->trace_tail == st->cfg.trace_capacity) {
		st->trace_tail++; /* overwrite the oldest */
		STAT_INC(st, TraceLost);
	}
	st->trace_head++;
	mem_zero(r, sizeof(*r)); /* the ext is zeroed when first asked for */
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

static inline struct trace_rec *trace_slot(struct env *st, uint64_t idx)
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

static inline struct trace_rec *trace_add(struct env *st, uint8_t kind)
{
	return st->trace ? trace_next(st, kind) : NULL;
}

/* A record's rarely used part, zeroed the first time it is asked for. */
static inline struct trace_ext *trace_ext(struct env *st, struct trace_rec *r)
{
	struct trace_ext *x = &st->trace_ext[r - st->trace];
	if (!r->ext) {
		mem_zero(x, sizeof(*x));
		r->ext = 1;
	}
	return x;
}

/* Fills a public endpoint that is all zero with an address and a port. */
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
static inline void env_trace_ends(struct env *st, struct trace_rec *r, const struct addr *laddr,
                                  uint16_t lport, const struct addr *raddr, uint16_t rport)
{
	r->lport = lport;
	r->rport = rport;
	if (addr_is_v4(laddr)) {
		r->laddr = addr_to_v4(laddr);
		r->raddr = addr_to_v4(raddr);
		return;
	}
	struct trace_ext *x = trace_ext(st, r);
	r->v6 = 1;
	x->laddr6 = *laddr;
	x->raddr6 = *raddr;
}

/* The same for a connection's tuple. */
static inline void env_trace_tuple(struct env *st, struct trace_rec *r, const struct tuple *t)
{
	env_trace_ends(st, r, &t->laddr, t->lport, &t->raddr, t->rport);
}

/* A public endpoint for an address and a port. */
static inline void env_endpoint(struct synack_endpoint *e, const struct addr *a, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	env_endpoint_zeroed(e, a, port);
}

#endif
