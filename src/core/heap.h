/*
 * A binary min-heap over an array of fixed-size elements, generic over the
 * element type: the caller gives the element size and a "before" function
 * (the strict order on its key, tie-breaks included), and optionally a
 * "placed" function told each element's new position, for callers that
 * remove or re-key elements in the middle of the heap.
 *
 * The sift functions are static inline so that, called with a constant
 * struct heap_ops, the compiler turns the callbacks into direct, inlined
 * code: the timer queue and the simulators run them per packet.  Every
 * operation moves a hole instead of swapping, and compares in one fixed
 * way (a child replaces the hole only when strictly before it, the right
 * child is taken only when strictly before the left), so equal keys keep
 * the same relative places whichever caller uses it.
 */
#ifndef SYNACK_HEAP_H
#define SYNACK_HEAP_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The sift functions are inlined into each caller even where the compiler
 * would judge them large, so that the callbacks become direct code. */
#define HEAP_INLINE static inline __attribute__((always_inline))

/* The largest element a heap may hold (the hole is kept on the stack). */
#define HEAP_ELEM_MAX 64

struct heap_ops {
	size_t size; /* bytes per element, at most HEAP_ELEM_MAX */
	/* Whether a must come out before b: a strict weak order. */
	int (*before)(const void *a, const void *b, void *ctx);
	/* Called after an element was stored at position i; may be NULL. */
	void (*placed)(void *elem, size_t i, void *ctx);
};

/* A heap that owns its array; the sift functions also work on an array the
 * caller owns (base, len).  32-bit counts keep it as small as the heaps it
 * replaced (the stack's memory figures count it). */
struct heap {
	void *v;
	uint32_t len, cap;
};

HEAP_INLINE void *heap_at(void *base, const struct heap_ops *ops, size_t i)
{
	return (char *)base + i * ops->size;
}

HEAP_INLINE void heap_store(void *base, const struct heap_ops *ops, size_t i, const void *src,
                            void *ctx)
{
	void *dst = heap_at(base, ops, i);
	memcpy(dst, src, ops->size);
	if (ops->placed)
		ops->placed(dst, i, ctx);
}

/* Moves the hole at i towards the root while hole (the element that will
 * fill it) is before its parent, each parent moved down once; returns
 * where the hole ends. */
HEAP_INLINE size_t heap_rise(void *base, size_t i, const void *hole, const struct heap_ops *ops,
                             void *ctx)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!ops->before(hole, heap_at(base, ops, parent), ctx))
			break;
		heap_store(base, ops, i, heap_at(base, ops, parent), ctx);
		i = parent;
	}
	return i;
}

/*
 * Puts elem into the hole at position i of a heap of len elements (the
 * element that was at i is overwritten) and moves it towards the root while
 * it is before its parent, else towards the leaves while a child is before
 * it; only one direction can apply.  Each element moved is stored once.
 */
HEAP_INLINE void heap_place(void *base, size_t len, size_t i, const void *elem,
                            const struct heap_ops *ops, void *ctx)
{
	unsigned char hole[HEAP_ELEM_MAX];
	assert(ops->size <= sizeof(hole));
	memcpy(hole, elem, ops->size);
	i = heap_rise(base, i, hole, ops, ctx);
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= len || child < i) /* child < i: 2i + 1 wrapped */
			break;
		if (child + 1 < len &&
		    ops->before(heap_at(base, ops, child + 1), heap_at(base, ops, child), ctx))
			child++;
		if (!ops->before(heap_at(base, ops, child), hole, ctx))
			break;
		heap_store(base, ops, i, heap_at(base, ops, child), ctx);
		i = child;
	}
	heap_store(base, ops, i, hole, ctx);
}

/* Restores the order after the key of the element at i changed. */
HEAP_INLINE void heap_fix(void *base, size_t len, size_t i, const struct heap_ops *ops, void *ctx)
{
	heap_place(base, len, i, heap_at(base, ops, i), ops, ctx);
}

/* Appends elem to a heap of len elements (the array has room for it); the
 * heap then holds len + 1. */
HEAP_INLINE void heap_append(void *base, size_t len, const void *elem, const struct heap_ops *ops,
                             void *ctx)
{
	/* heap_place() would find no child below a new leaf; the loop towards
	 * the root is all there is to do. */
	unsigned char hole[HEAP_ELEM_MAX];
	assert(ops->size <= sizeof(hole));
	memcpy(hole, elem, ops->size);
	heap_store(base, ops, heap_rise(base, len, hole, ops, ctx), hole, ctx);
}

/* Removes the element at i of a heap of len elements, copying it to out
 * (if not NULL) first; the heap then holds the first len - 1 elements. */
HEAP_INLINE void heap_remove_at(void *base, size_t len, size_t i, void *out,
                                const struct heap_ops *ops, void *ctx)
{
	if (out)
		memcpy(out, heap_at(base, ops, i), ops->size);
	size_t last = len - 1;
	if (i == last)
		return;
	heap_place(base, last, i, heap_at(base, ops, last), ops, ctx);
}

/* Grows the array of h: 0 or -ENOMEM.  It starts at first_cap elements and
 * doubles, up to max_cap (at most UINT32_MAX). */
int heap_grow(struct heap *h, size_t size, size_t first_cap, size_t max_cap);

/* Makes room for one more element of h: 0 or -ENOMEM. */
static inline int heap_reserve(struct heap *h, size_t size, size_t first_cap, size_t max_cap)
{
	return h->len < h->cap ? 0 : heap_grow(h, size, first_cap, max_cap);
}

/* Adds *elem to h, which must have room (heap_reserve). */
HEAP_INLINE void heap_push(struct heap *h, const void *elem, const struct heap_ops *ops, void *ctx)
{
	assert(h->len < h->cap);
	heap_append(h->v, h->len++, elem, ops, ctx);
}

/* Removes the first element of a non-empty h into *out. */
HEAP_INLINE void heap_pop(struct heap *h, void *out, const struct heap_ops *ops, void *ctx)
{
	heap_remove_at(h->v, h->len--, 0, out, ops, ctx);
}

/* The first element, or NULL when h is empty. */
static inline void *heap_first(const struct heap *h)
{
	return h->len ? h->v : NULL;
}

/* Frees the array (not what the elements point to) and empties h. */
void heap_fini(struct heap *h);

#endif
