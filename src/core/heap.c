/*
 * The part of the binary heap that allocates; the sift operations are
 * inline in heap.h.
 */
#include "core/heap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int heap_grow(struct heap *h, size_t size, size_t first_cap, size_t max_cap)
{
	size_t cap = h->cap ? (size_t)h->cap * 2 : first_cap;
	if (max_cap > UINT32_MAX)
		max_cap = UINT32_MAX;
	if (cap > max_cap)
		cap = max_cap;
	if (cap <= h->cap || cap > SIZE_MAX / size)
		return -ENOMEM;
	void *v = realloc(h->v, cap * size);
	if (!v)
		return -ENOMEM;
	h->v = v;
	h->cap = (uint32_t)cap;
	return 0;
}

void heap_fini(struct heap *h)
{
	free(h->v);
	h->v = NULL;
	h->len = h->cap = 0;
}
