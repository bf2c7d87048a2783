/* A small seeded pseudo-random generator (xoshiro256**, seeded through
 * splitmix64).  Deterministic: the same seed gives the same sequence on every
 * machine.  Not for secrets. */
#ifndef SYNACK_RNG_H
#define SYNACK_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n); n > 0.  Unbiased (rejection sampling). */
uint64_t rng_below(struct rng *r, uint64_t n);
/* Uniform in [0, 1). */
double rng_unit(struct rng *r);
/* 1 with probability p (p <= 0 never, p >= 1 always). */
int rng_chance(struct rng *r, double p);

#endif
