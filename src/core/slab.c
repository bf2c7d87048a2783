#include "core/slab.h"

#include <stdlib.h>
#include <string.h>

void slab_init(struct slab *s, size_t size, uint32_t keep)
{
	s->free = NULL;
	s->size = size < sizeof(void *) ? sizeof(void *) : size;
	s->nfree = 0;
	s->keep = keep;
	s->live = 0;
	s->keep_pct = 0;
	s->peak = 0;
	s->low = 0;
}

void *slab_alloc_slow(struct slab *s)
{
	void *p = malloc(s->size);
	if (p && ++s->live > s->peak)
		s->peak = s->live;
	return p;
}

void slab_free_slow(struct slab *s, void *p)
{
	s->live--;
	free(p);
}

void slab_trim(struct slab *s)
{
	for (uint32_t i = 0; i < s->low && s->free; i++) {
		void *p = s->free;
		memcpy(&s->free, p, sizeof(void *));
		s->nfree--;
		free(p);
	}
	s->low = s->nfree;
}

void slab_fini(struct slab *s)
{
	while (s->free) {
		void *p = s->free;
		memcpy(&s->free, p, sizeof(void *));
		free(p);
	}
	s->nfree = 0;
}
