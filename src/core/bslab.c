#include "core/bslab.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct bslab_block {
	struct bslab_block *prev, *next; /* the partial list */
	struct bslab *owner;             /* the cache the block belongs to */
	void *free;                      /* free slots, linked through their objects */
	uint32_t nfree;
	uint32_t nslots;
	_Alignas(8) unsigned char mem[];
};

void bslab_init(struct bslab *s, size_t size)
{
	memset(s, 0, sizeof(*s));
	s->size = size < sizeof(void *) ? sizeof(void *) : size;
	s->slot = (sizeof(struct bslab_block *) + s->size + 7) & ~(size_t)7;
	s->max_slots = (uint32_t)((BSLAB_BLOCK_MAX - sizeof(struct bslab_block)) / s->slot);
	assert(s->max_slots >= 1);
}

static void partial_push(struct bslab *s, struct bslab_block *b)
{
	b->prev = NULL;
	b->next = s->partial;
	if (s->partial)
		s->partial->prev = b;
	s->partial = b;
}

static void partial_remove(struct bslab *s, struct bslab_block *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		s->partial = b->next;
	if (b->next)
		b->next->prev = b->prev;
	b->prev = b->next = NULL;
}

static size_t block_bytes(const struct bslab *s, uint32_t nslots)
{
	return sizeof(struct bslab_block) + (size_t)nslots * s->slot;
}

static struct bslab_block *block_new(struct bslab *s)
{
	uint32_t n = s->blocks < 31 ? 2u << s->blocks : s->max_slots;
	if (n > s->max_slots)
		n = s->max_slots;
	struct bslab_block *b = malloc(block_bytes(s, n));
	if (!b)
		return NULL;
	b->prev = b->next = NULL;
	b->owner = s;
	b->free = NULL;
	b->nfree = b->nslots = n;
	/* Thread the slots in address order, the first on top. */
	for (uint32_t i = n; i-- > 0;) {
		unsigned char *slot = b->mem + (size_t)i * s->slot;
		memcpy(slot, &b, sizeof(b));
		void *obj = slot + sizeof(b);
		memcpy(obj, &b->free, sizeof(void *));
		b->free = obj;
	}
	s->blocks++;
	s->bytes += block_bytes(s, n);
	return b;
}

void *bslab_alloc(struct bslab *s)
{
	struct bslab_block *b = s->partial;
	if (!b) {
		b = s->empty ? s->empty : block_new(s);
		if (!b)
			return NULL;
		s->empty = NULL;
		partial_push(s, b);
	}
	void *p = b->free;
	memcpy(&b->free, p, sizeof(void *));
	if (--b->nfree == 0)
		partial_remove(s, b);
	s->live++;
	return p;
}

static void block_free(struct bslab *s, struct bslab_block *b)
{
	s->blocks--;
	s->bytes -= block_bytes(s, b->nslots);
	free(b);
}

void bslab_free(struct bslab *s, void *p)
{
	if (!p)
		return;
	struct bslab_block *b;
	memcpy(&b, (unsigned char *)p - sizeof(b), sizeof(b));
	memcpy(p, &b->free, sizeof(void *));
	b->free = p;
	s->live--;
	if (++b->nfree == 1 && b->nslots > 1)
		partial_push(s, b);
	if (b->nfree < b->nslots)
		return;
	/* The block is wholly free: kept for the next allocation if none is,
	 * else back to the allocator. */
	if (b->nslots > 1)
		partial_remove(s, b);
	if (s->orphaned) {
		/* Its owner is gone: the last object out frees the rest. */
		block_free(s, b);
		if (!s->live)
			free(s);
		return;
	}
	if (!s->empty) {
		s->empty = b;
		s->empty_idle = 0;
		return;
	}
	block_free(s, b);
}

void bslab_free_any(void *p)
{
	if (!p)
		return;
	struct bslab_block *b;
	memcpy(&b, (unsigned char *)p - sizeof(b), sizeof(b));
	bslab_free(b->owner, p);
}

void bslab_trim(struct bslab *s)
{
	if (s->empty && s->empty_idle) {
		block_free(s, s->empty);
		s->empty = NULL;
	}
	s->empty_idle = 1;
}

struct bslab *bslab_new(size_t size)
{
	struct bslab *s = malloc(sizeof(*s));
	if (s)
		bslab_init(s, size);
	return s;
}

void bslab_release(struct bslab *s)
{
	if (!s)
		return;
	if (!s->live) {
		bslab_fini(s);
		free(s);
		return;
	}
	/* Objects are still out: the blocks that hold them stay, and the
	 * last one given back (bslab_free_any) frees the cache. */
	free(s->empty);
	s->empty = NULL;
	s->orphaned = 1;
}

void bslab_fini(struct bslab *s)
{
	while (s->partial) {
		struct bslab_block *b = s->partial;
		s->partial = b->next;
		free(b);
	}
	free(s->empty);
	s->empty = NULL;
	s->blocks = s->bytes = 0;
}
