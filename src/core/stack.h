/*
 * The stack object: configuration, tables, timers, the outbox, counters,
 * the trace ring and the readiness queue.  Private to the library.
 */
#ifndef SYNACK_STACK_H
#define SYNACK_STACK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/addr.h"
#include "core/hash.h"
#include "core/mem.h"
#include "core/slab.h"
#include "core/timer.h"
#include "synack/synack.h"

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

struct sock;
struct tcb;

/* How many bound sockets use a local port, and how many of them refuse to
 * share it (no SO_REUSEADDR, or listening). */
struct port_use {
	uint32_t bound, blocking;
	uint16_t port;
};

/* One queued outgoing datagram. */
struct pkt {
	struct pkt *next;
	uint16_t len;
	uint8_t data[]; /* stack->pkt_size bytes */
};

struct synack_stack {
	struct synack_config cfg;
	uint64_t now;

	/* Keys derived from cfg.secret, one per use, so that no two uses of
	 * the secret can be compared against each other. */
	uint8_t key_isn[16], key_port[16], key_hash[16], key_cookie[16];

	struct htable conns;     /* TCBs and TIME_WAIT records by 4-tuple */
	struct htable listeners; /* listening TCBs by (laddr or 0, lport) */
	struct timer_queue timers;

	/* TIME_WAIT records, oldest first, and the one timer for the oldest
	 * live one; tw_records counts the dead ones still listed too. */
	struct tw *tw_oldest, *tw_youngest;
	struct timer_node tw_timer;
	uint64_t tw_records;

	/* Caches of fixed-size objects. */
	struct slab tcb_slab, tw_slab, sock_slab;
	struct slab child_slab; /* passive children's links until accepted */
	struct slab rare_slab;  /* connections' rarely used state (struct tcb_rare) */
	struct slab sender_slab; /* the sender's state beside each TCB (struct tcp_sender) */
	struct slab txq_slab;    /* first blocks of transmit records (TCP_TXQ_FIRST_BYTES) */
	struct slab buf_slab;   /* first buffers of rings (RING_FIRST_ALLOC bytes) */
	struct slab ofo_slab;   /* out-of-order segments, room for a whole datagram */

	/* Outbox: FIFO of datagrams for the caller, and a free list. */
	struct pkt *out_head, *out_tail, *pkt_free;
	size_t out_len, pkt_free_len;
	uint32_t pkt_size;
	uint16_t ip_id;

	/* ICMP error rate limit: a token bucket kept as credit in
	 * microseconds (one token = icmp_ratelimit_ms), as of icmp_credit_at. */
	uint64_t icmp_credit_us, icmp_credit_at;

	/* Sockets: a table indexed by descriptor with a free list. */
	struct sock **socks;
	int *free_fds; /* a stack of unused descriptors */
	int nsocks, nfree;

	/* Readiness queue: sockets whose readiness may have changed. */
	int *evq;
	/* evq_mark[fd]: fd is in evq.  Kept per descriptor, not per socket,
	 * so that a socket closed while queued and a new one given its
	 * descriptor share the one entry instead of queueing it twice (an
	 * application that never drains would grow the queue forever). */
	uint8_t *evq_mark;
	size_t evq_head, evq_len, evq_cap;

	/* Trace ring. */
	struct synack_trace *trace;
	uint64_t trace_head, trace_tail; /* absolute indexes; slot = index % capacity */
	uint32_t trace_pos;              /* trace_head % capacity, kept without dividing */

	/* Local ports bound by sockets (src/sock): an open-addressing table
	 * so that finding whether a port is taken is O(1). */
	struct port_use *ports;
	uint32_t ports_mask, ports_used;

	struct synack_stats stats;
	uint32_t ephemeral_next; /* RFC 6056 algorithm 3 counter */
	/* RFC 6056 offsets of recent peers (stack_port_offset), direct-mapped
	 * by the peer; a slot is valid when its `ok` is set. */
	struct port_memo {
		struct addr addr;
		uint32_t offset;
		uint16_t port, ok;
	} port_memo[8];
	uint64_t ofo_total; /* out-of-order bytes held by every connection (ofo_budget) */
};

#define STAT_INC(st, name) ((st)->stats.name++)
#define STAT_DEC(st, name) ((st)->stats.name--)

/* Trace records.  trace_reserve returns an absolute index whose record the
 * caller fills later (or SYNACK_NEVER when tracing is off); trace_slot gives
 * the record while it has not been overwritten, else NULL.  Inline: every
 * segment sent or received and every state change makes one, so the ring's
 * bookkeeping is kept to a few instructions (no division, no call). */
static inline struct synack_trace *trace_next(struct synack_stack *st, uint8_t kind)
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

static inline uint64_t trace_reserve(struct synack_stack *st)
{
	if (!st->trace)
		return SYNACK_NEVER;
	(void)trace_next(st, 0);
	return st->trace_head - 1;
}

static inline struct synack_trace *trace_slot(struct synack_stack *st, uint64_t idx)
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

static inline struct synack_trace *trace_add(struct synack_stack *st, uint8_t kind)
{
	return st->trace ? trace_next(st, kind) : NULL;
}

/* Fills a public endpoint that is all zero (a fresh trace record is) with
 * an address and a port. */
static inline void stack_endpoint_zeroed(struct synack_endpoint *e, const struct addr *a,
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
static inline void stack_trace_ends(struct synack_trace *r, const struct addr *laddr,
                                    uint16_t lport, const struct addr *raddr, uint16_t rport)
{
	if (addr_is_v4(laddr)) {
		r->local.addr = addr_to_v4(laddr);
		r->remote.addr = addr_to_v4(raddr);
		r->local.port = lport;
		r->remote.port = rport;
		return;
	}
	stack_endpoint_zeroed(&r->local, laddr, lport);
	stack_endpoint_zeroed(&r->remote, raddr, rport);
}

/* The same for a connection's tuple. */
static inline void stack_trace_tuple(struct synack_trace *r, const struct tuple *t)
{
	stack_trace_ends(r, &t->laddr, t->lport, &t->raddr, t->rport);
}

/* A public endpoint for an address and a port. */
static inline void stack_endpoint(struct synack_endpoint *e, const struct addr *a, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	stack_endpoint_zeroed(e, a, port);
}

/* Drops something and says why: counts it and traces it. */
void stack_count_drop(struct synack_stack *st, int reason);

/* Outbox. */
struct pkt *stack_pkt_alloc(struct synack_stack *st);
void stack_pkt_free(struct synack_stack *st, struct pkt *p);
void stack_outbox_push(struct synack_stack *st, struct pkt *p);

/* RFC 6056 algorithm 3's F(local address, remote address, remote port,
 * secret): SipHash-2-4 under key_port, remembered for recent peers since a
 * client connects to the same few servers again and again. */
uint32_t stack_port_offset(struct synack_stack *st, const struct addr *raddr, uint16_t rport);

/* Readiness queue. */
void stack_notify(struct synack_stack *st, int sockfd);

/* What TCP tells the socket that owns a connection. */
enum stack_sock_ev {
	/* The socket's readiness may have changed: it is queued for
	 * synack_event_next (err unused). */
	STACK_SOCK_READY,
	/* The connection is about to be freed, still intact: the socket lets
	 * go of it, keeps the unread data, and is told err (0 for a normal
	 * end, else the negative errno the application sees). */
	STACK_SOCK_DETACH,
};
/* The end of a connection, handed to the socket layer (stack.c, which
 * assembles the layers, is the one place that knows both). */
void stack_sock_detach(struct synack_stack *st, int sockfd, int err);
/* The one way TCP tells the socket layer about an event on the socket
 * sockfd, at the moment it happens: readiness goes straight into the
 * queue, the end of a connection to the socket layer. */
static inline void stack_sock_event(struct synack_stack *st, int sockfd, int ev, int err)
{
	if (ev == STACK_SOCK_DETACH)
		stack_sock_detach(st, sockfd, err);
	else
		stack_notify(st, sockfd);
}

#endif
