#include "core/rng.h"

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

/* splitmix64 spreads any seed (including 0) over the whole state, which
 * xoshiro needs: an all-zero state would only ever produce zeros. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

/* xoshiro256** (Blackman and Vigna). */
uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return result;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	/* 2^64 mod n values at the bottom of the range would make the low
	 * residues slightly more likely; rejecting them leaves a multiple of n
	 * equally likely values.  (-n % n) is 2^64 mod n in unsigned math. */
	uint64_t reject_below = -n % n;
	uint64_t x;
	do {
		x = rng_next(r);
	} while (x < reject_below);
	return x % n;
}

double rng_unit(struct rng *r)
{
	/* The top 53 bits fill a double's mantissa exactly, so every value is
	 * a multiple of 2^-53 in [0, 1). */
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

int rng_chance(struct rng *r, double p)
{
	/* Decide the edges without drawing so p = 1 is certain, not merely
	 * almost certain, and NaN counts as "never". */
	if (!(p > 0))
		return 0;
	if (p >= 1)
		return 1;
	return rng_unit(r) < p;
}
