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
}

void *slab_alloc(struct slab *s)
{
	void *p = s->free;
	if (p) {
		memcpy(&s->free, p, sizeof(void *));
		s->nfree--;
	} else if (!(p = malloc(s->size))) {
		return NULL;
	}
	s->live++;
	return p;
}

void slab_free(struct slab *s, void *p)
{
	if (!p)
		return;
	s->live--;
	if (s->nfree >= s->keep) {
		free(p);
		return;
	}
	memcpy(p, &s->free, sizeof(void *));
	s->free = p;
	s->nfree++;
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
