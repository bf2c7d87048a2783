/*
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

#endif
