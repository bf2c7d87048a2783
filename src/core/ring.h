/*
 * A byte ring for socket buffers.  Memory is allocated on the first write
 * and released as soon as the ring is empty (or, with ring_consume_keep,
 * when its owner calls ring_trim after a quiet spell), so an idle
 * connection holds no payload memory.  The capacity is a limit, not an allocation size.
 */
#ifndef SYNACK_RING_H
#define SYNACK_RING_H

#include <stdint.h>

#include "core/slab.h"

/*
 * The sizes a ring's allocation starts from.  A ring first takes
 * RING_SMALL_ALLOC bytes (or its limit, when less): a request or a reply of
 * a few hundred bytes, the common case, then costs a quarter of a page, not
 * a page: with 100,000 connections in flight, each holding its four rings
 * (both ends' send and receive), that is up to 100 MB of buffers rather
 * than 1.6 GB.  Past that it takes RING_FIRST_ALLOC, and then doubles.
 * A stack keeps freed buffers of both sizes in caches (struct ring_pool).
 */
#define RING_SMALL_ALLOC 256u
#define RING_FIRST_ALLOC 4096u

/* A stack's caches of ring buffers, one slab per pooled size: with a pool,
 * an allocation of exactly one of these sizes always comes from (and goes
 * back to) that slab, and one of any other size from malloc. */
struct ring_pool {
	struct slab small; /* RING_SMALL_ALLOC bytes */
	struct slab first; /* RING_FIRST_ALLOC bytes */
};
void ring_pool_init(struct ring_pool *p, uint32_t keep);

struct ring {
	uint8_t *buf;   /* NULL while empty */
	uint32_t cap;   /* size limit in bytes */
	uint32_t alloc; /* bytes allocated for buf (0 while empty) */
	uint32_t head;  /* offset of the first byte in buf */
	uint32_t len;   /* bytes held */
};

void ring_init(struct ring *r, uint32_t cap);
void ring_fini(struct ring *r);
static inline uint32_t ring_space(const struct ring *r)
{
	return r->cap > r->len ? r->cap - r->len : 0;
}
/* Appends up to n bytes (as many as fit).  Returns the count appended; 0
 * also when memory could not be had. */
uint32_t ring_write(struct ring *r, const void *data, uint32_t n);
/* Copies up to n bytes starting off bytes after the head, without removing. */
uint32_t ring_peek(const struct ring *r, uint32_t off, void *out, uint32_t n);
/* Where the bytes from off on lie: returns the first contiguous piece and
 * sets *first to its length (at most n); the rest, n - *first bytes, starts
 * at r->buf.  off + n must not pass len. */
const uint8_t *ring_span(const struct ring *r, uint32_t off, uint32_t n, uint32_t *first);
/* Removes n bytes (n <= len) from the head; frees memory when empty. */
void ring_consume(struct ring *r, uint32_t n);
/*
 * The same, taking the first buffer from pool and returning it there when
 * the ring drains, so that a connection exchanging small messages costs no
 * malloc per message.  pool may be NULL.  A ring used with a pool must
 * always be used with it.
 */
uint32_t ring_write_pool(struct ring *r, struct ring_pool *pool, const void *data, uint32_t n);
void ring_consume_pool(struct ring *r, struct ring_pool *pool, uint32_t n);
void ring_fini_pool(struct ring *r, struct ring_pool *pool);
/*
 * For a busy ring: as ring_consume_pool, but a ring drained to empty keeps
 * an allocation grown past RING_FIRST_ALLOC (and within its limit), so the
 * next burst does not regrow it.  Returns 1 when it kept one: the owner
 * then gives it back with ring_trim once the ring has been idle.
 */
int ring_consume_keep(struct ring *r, struct ring_pool *pool, uint32_t n);
/* Releases the allocation of an empty ring (a no-op otherwise). */
void ring_trim(struct ring *r, struct ring_pool *pool);
/*
 * Filling the ring in place (the receive checksum fused with the copy):
 * ring_tail says where the next n bytes go without allocating (NULL when
 * the allocation has no room for them: alloc - len < n), the first piece
 * of *first bytes there and the rest at r->buf; the writer fills them and
 * then ring_commit appends them (n <= ring_space).
 */
static inline uint8_t *ring_tail(const struct ring *r, uint32_t n, uint32_t *first)
{
	if (n == 0 || r->alloc - r->len < n)
		return 0;
	uint64_t p = (uint64_t)r->head + r->len;
	uint32_t tail = (uint32_t)(p >= r->alloc ? p - r->alloc : p);
	*first = r->alloc - tail < n ? r->alloc - tail : n;
	return r->buf + tail;
}
static inline void ring_commit(struct ring *r, uint32_t n)
{
	r->len += n;
}
/* Changes the limit.  Returns 0, or -EINVAL when cap < len. */
int ring_set_cap(struct ring *r, uint32_t cap);

#endif
