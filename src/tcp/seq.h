/* Sequence number arithmetic modulo 2^32 (RFC 9293 3.4). */
#ifndef SYNACK_SEQ_H
#define SYNACK_SEQ_H

#include <stdint.h>

static inline int seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline int seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}
static inline int seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}
static inline int seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}
/* lo <= a < hi, for a window [lo, hi) of less than 2^31. */
static inline int seq_in(uint32_t a, uint32_t lo, uint32_t hi)
{
	return a - lo < hi - lo;
}
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}
static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

#endif
