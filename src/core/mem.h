/*
 * Memory helpers for the hot paths.
 *
 * Zeroing an object of a few hundred bytes.  Given one memset of a known
 * size past about 64 bytes, compilers emit a string instruction (rep
 * stos), which costs a step per eight bytes; in pieces of 64 bytes they
 * emit a handful of vector stores instead.  The objects zeroed this way
 * are made for every connection and every trace record.
 */
#ifndef SYNACK_MEM_H
#define SYNACK_MEM_H

#include <stddef.h>
#include <string.h>

static inline __attribute__((always_inline)) void mem_zero(void *p, size_t n)
{
	char *c = p;
	size_t off = 0;
	for (; off + 64 <= n; off += 64)
		memset(c + off, 0, 64);
	memset(c + off, 0, n - off);
}

/* A hint that p is about to be read (mem_prefetch) or written
 * (mem_prefetch_w): it changes no result and never faults, not even on
 * an address that is not mapped. */
static inline __attribute__((always_inline)) void mem_prefetch(const void *p)
{
	__builtin_prefetch(p);
}
static inline __attribute__((always_inline)) void mem_prefetch_w(const void *p)
{
	__builtin_prefetch(p, 1);
}

#endif
