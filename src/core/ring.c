#include "core/ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* RING_SMALL_ALLOC, then RING_FIRST_ALLOC, then doubling: the allocation
 * tracks the data actually held without sizing every buffer for the worst
 * case up front. */

void ring_pool_init(struct ring_pool *p, uint32_t keep)
{
	slab_init(&p->small, RING_SMALL_ALLOC, keep);
	slab_init(&p->first, RING_FIRST_ALLOC, keep);
}

/* The pool's slab for blocks of size bytes, or NULL for a malloc'd size. */
static struct slab *pool_slab(struct ring_pool *pool, uint32_t size)
{
	if (!pool)
		return NULL;
	if (size == RING_SMALL_ALLOC)
		return &pool->small;
	if (size == RING_FIRST_ALLOC)
		return &pool->first;
	return NULL;
}

void ring_init(struct ring *r, uint32_t cap)
{
	r->buf = NULL;
	r->cap = cap;
	r->alloc = 0;
	r->head = 0;
	r->len = 0;
}

/* Releases the buffer: a pooled size goes back to its slab. */
static void ring_release(struct ring *r, struct ring_pool *pool)
{
	struct slab *s = pool_slab(pool, r->alloc);
	if (s)
		slab_free(s, r->buf);
	else
		free(r->buf);
	r->buf = NULL;
	r->alloc = 0;
	r->head = 0;
}

void ring_fini_pool(struct ring *r, struct ring_pool *pool)
{
	ring_release(r, pool);
	ring_init(r, r->cap);
}

void ring_fini(struct ring *r)
{
	ring_fini_pool(r, NULL);
}

/* Makes room for need bytes in total (need <= cap, but for the moment's
 * excess tcp_rcv_deliver allows). */
static int ring_reserve(struct ring *r, struct ring_pool *pool, uint32_t need)
{
	if (need <= r->alloc)
		return 0;
	uint64_t size =
	    r->alloc ? r->alloc : (r->cap < RING_SMALL_ALLOC ? r->cap : RING_SMALL_ALLOC);
	while (size < need)
		size = size < RING_FIRST_ALLOC ? RING_FIRST_ALLOC : size * 2;
	/* Up to an eighth past cap: a caller may hold a little more than cap
	 * for a moment (TCP takes up to a window-scale unit past its receive
	 * buffer, tcp_rcv_deliver), and a ring whose allocation stopped at
	 * exactly cap would be copied whole to make room for it. */
	uint64_t limit = (uint64_t)r->cap + r->cap / 8;
	if (limit < need)
		limit = need;
	if (size > limit)
		size = limit;
	struct slab *from = pool_slab(pool, r->alloc), *to = pool_slab(pool, (uint32_t)size);
	uint8_t *nb;
	if (!from && !to) {
		nb = realloc(r->buf, (size_t)size);
		if (!nb)
			return -ENOMEM;
		/* If the data wrapped, its first part sat at the end of the
		 * old allocation; slide that part to the end of the new one
		 * so the bytes stay contiguous modulo the new size. */
		uint32_t old = r->alloc;
		if (r->len && (uint64_t)r->head + r->len > old) {
			uint32_t first = old - r->head;
			uint32_t new_head = (uint32_t)size - first;
			memmove(nb + new_head, nb + r->head, first);
			r->head = new_head;
		}
	} else {
		/* A pooled block is not resized in place (the slab must get
		 * back a block of its size): the bytes move to the new block,
		 * in order from its start.  At most RING_FIRST_ALLOC of them,
		 * once per growth. */
		nb = to ? slab_alloc(to) : malloc((size_t)size);
		if (!nb)
			return -ENOMEM;
		ring_peek(r, 0, nb, r->len);
		if (from)
			slab_free(from, r->buf);
		else
			free(r->buf);
		r->head = 0;
	}
	r->buf = nb;
	r->alloc = (uint32_t)size;
	return 0;
}

/* Position in buf of the byte off bytes after the head (off < alloc). */
static inline uint32_t ring_pos(const struct ring *r, uint32_t off)
{
	uint64_t p = (uint64_t)r->head + off;
	return (uint32_t)(p >= r->alloc ? p - r->alloc : p);
}

uint32_t ring_write(struct ring *r, const void *data, uint32_t n)
{
	return ring_write_pool(r, NULL, data, n);
}

uint32_t ring_write_pool(struct ring *r, struct ring_pool *pool, const void *data, uint32_t n)
{
	uint32_t space = ring_space(r);
	if (n > space)
		n = space;
	if (n == 0 || ring_reserve(r, pool, r->len + n) < 0)
		return 0;
	uint32_t tail = ring_pos(r, r->len);
	uint32_t first = r->alloc - tail < n ? r->alloc - tail : n;
	memcpy(r->buf + tail, data, first);
	memcpy(r->buf, (const uint8_t *)data + first, n - first);
	r->len += n;
	return n;
}

uint32_t ring_peek(const struct ring *r, uint32_t off, void *out, uint32_t n)
{
	if (off >= r->len)
		return 0;
	if (n > r->len - off)
		n = r->len - off;
	uint32_t start = ring_pos(r, off);
	uint32_t first = r->alloc - start < n ? r->alloc - start : n;
	memcpy(out, r->buf + start, first);
	memcpy((uint8_t *)out + first, r->buf, n - first);
	return n;
}

const uint8_t *ring_span(const struct ring *r, uint32_t off, uint32_t n, uint32_t *first)
{
	if (n == 0) {
		*first = 0;
		return r->buf;
	}
	uint32_t start = ring_pos(r, off);
	*first = r->alloc - start < n ? r->alloc - start : n;
	return r->buf + start;
}

void ring_consume(struct ring *r, uint32_t n)
{
	ring_consume_pool(r, NULL, n);
}

void ring_consume_pool(struct ring *r, struct ring_pool *pool, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	r->len -= n;
	if (r->len == 0) {
		/* An idle connection holds no payload memory. */
		ring_release(r, pool);
		return;
	}
	r->head = ring_pos(r, n);
}

int ring_consume_keep(struct ring *r, struct ring_pool *pool, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	if (n < r->len || r->alloc <= RING_FIRST_ALLOC || r->alloc > r->cap + r->cap / 8) {
		ring_consume_pool(r, pool, n);
		return 0;
	}
	/* Drained, and grown past the first size: keep the allocation for
	 * the next burst (regrowing it by doubling copied the buffer over
	 * and over on a busy connection) until ring_trim. */
	r->len = 0;
	r->head = 0;
	return 1;
}

void ring_trim(struct ring *r, struct ring_pool *pool)
{
	if (r->len == 0 && r->alloc)
		ring_release(r, pool);
}

int ring_set_cap(struct ring *r, uint32_t cap)
{
	if (cap < r->len)
		return -EINVAL;
	/* The allocation is left as it is: it shrinks to nothing the next
	 * time the ring drains (at once if it is empty and kept). */
	r->cap = cap;
	if (r->len == 0 && r->alloc > RING_FIRST_ALLOC && r->alloc > cap + cap / 8)
		ring_release(r, NULL); /* not a pooled size */
	return 0;
}
