/*
 * A per-stack cache of fixed-size objects: freed objects wait on a free list
 * (up to a limit) for the next allocation, so that a steady stream of
 * connections, TIME_WAIT records or buffers costs no malloc once the stack
 * has warmed up.  Stacks share nothing, so there is no locking.
 *
 * The limit follows the load: keep objects, or keep_pct percent of the
 * most objects handed out at once (peak), whichever is more (the setting
 * pool_keep_pct, default 100).  With 10,000 connections in flight and
 * more, a fixed 256 sent most of each wave of closes and opens to malloc
 * and free (17 % of the CPU of a run at 100,000).  A cache never holds more
 * than the stack once had in use, memory the allocator would keep in its
 * arena after free() as well; synack_memory() counts it as cached.
 *
 * The cache decays as the packet pool does (slab_trim, the setting
 * pool_trim_ms): the objects that lay on the free list through a whole
 * period, which no allocation needed, go back to the allocator, so a
 * stack whose burst of connections has ended (a million closed into
 * TIME_WAIT, say) does not keep their TCBs and sockets for good.
 */
#ifndef SYNACK_SLAB_H
#define SYNACK_SLAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct slab {
	void *free;        /* singly linked through each object's first word */
	size_t size;       /* object size in bytes (at least a pointer) */
	uint32_t nfree;    /* objects on the free list */
	uint32_t keep;     /* objects the free list may always hold */
	uint64_t live;     /* objects handed out and not returned */
	uint64_t peak;     /* most objects live at once */
	uint32_t keep_pct; /* the free list may also hold keep_pct % of peak */
	uint32_t low;      /* fewest objects on the free list since the last slab_trim */
};

void slab_init(struct slab *s, size_t size, uint32_t keep);
/* The allocator's side: an empty free list, or a full one. */
void *slab_alloc_slow(struct slab *s);
void slab_free_slow(struct slab *s, void *p);

/* Returns an object (contents unspecified) or NULL when out of memory.
 * The free-list paths are inline: every connection, buffer and record
 * comes and goes through them. */
static inline void *slab_alloc(struct slab *s)
{
	void *p = s->free;
	if (!p)
		return slab_alloc_slow(s);
	memcpy(&s->free, p, sizeof(void *));
	if (--s->nfree < s->low)
		s->low = s->nfree;
	if (++s->live > s->peak)
		s->peak = s->live;
	return p;
}
/* Takes back an object (NULL is ignored). */
static inline void slab_free(struct slab *s, void *p)
{
	if (!p)
		return;
	if (s->nfree >= s->keep && (uint64_t)s->nfree * 100 >= s->peak * s->keep_pct) {
		slab_free_slow(s, p);
		return;
	}
	s->live--;
	memcpy(p, &s->free, sizeof(void *));
	s->free = p;
	s->nfree++;
}
/* An object handed out leaves the slab for good (its owner reallocates or
 * frees it directly), or comes back under the slab's care. */
static inline void slab_forget(struct slab *s)
{
	s->live--;
}
static inline void slab_adopt(struct slab *s)
{
	s->live++;
}
/* The end of a trim period: the objects that stayed on the free list
 * through all of it (low) go back to the allocator. */
void slab_trim(struct slab *s);
/* Releases the free list; objects still live are their owners' to free. */
void slab_fini(struct slab *s);
/* Bytes of the objects handed out, and of those waiting on the free list. */
static inline uint64_t slab_live_bytes(const struct slab *s)
{
	return s->live * s->size;
}
static inline uint64_t slab_cached_bytes(const struct slab *s)
{
	return (uint64_t)s->nfree * s->size;
}

#endif
