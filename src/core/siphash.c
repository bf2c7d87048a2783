#include "core/siphash.h"

#include <string.h>

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

/* The paper defines words as little-endian; assemble them byte by byte so
 * the result does not depend on host byte order or on alignment. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint8_t b[8];
	memcpy(b, p, 8);
	return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 |
	       (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 |
	       (uint64_t)b[7] << 56;
}

struct sipstate {
	uint64_t v0, v1, v2, v3;
};

static inline void sipround(struct sipstate *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl64(s->v2, 32);
}

static inline struct sipstate sip_init(uint64_t k0, uint64_t k1)
{
	struct sipstate s = {
	    .v0 = k0 ^ 0x736f6d6570736575ULL, /* "somepseudorandomlygeneratedbytes" */
	    .v1 = k1 ^ 0x646f72616e646f6dULL,
	    .v2 = k0 ^ 0x6c7967656e657261ULL,
	    .v3 = k1 ^ 0x7465646279746573ULL,
	};
	return s;
}

/* crounds compression rounds per message word; drounds finalisation rounds. */
static inline void sip_word(struct sipstate *s, uint64_t m, int crounds)
{
	s->v3 ^= m;
	for (int i = 0; i < crounds; i++)
		sipround(s);
	s->v0 ^= m;
}

static inline uint64_t sip_final(struct sipstate *s, int drounds)
{
	s->v2 ^= 0xff;
	for (int i = 0; i < drounds; i++)
		sipround(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static inline uint64_t siphash_kcd(uint64_t k0, uint64_t k1, const void *data, size_t len, int c,
                                   int d)
{
	const uint8_t *p = data;
	struct sipstate s = sip_init(k0, k1);
	size_t full = len & ~(size_t)7;

	for (size_t i = 0; i < full; i += 8)
		sip_word(&s, load_le64(p + i), c);

	/* The last word carries the remaining 0..7 bytes and, in its top byte,
	 * the message length mod 256, so that messages differing only in
	 * trailing zero bytes hash differently. */
	uint64_t last = (uint64_t)(len & 0xff) << 56;
	for (size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)p[full + i] << (8 * i);
	sip_word(&s, last, c);
	return sip_final(&s, d);
}

static inline uint64_t siphash_cd(const uint8_t key[16], const void *data, size_t len, int c, int d)
{
	return siphash_kcd(load_le64(key), load_le64(key + 8), data, len, c, d);
}

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len)
{
	/* An ISN's 4-tuple (RFC 6528), hashed for every connection, with
	 * the loops unrolled for its length: the same function, fewer steps. */
	if (len == 12)
		return siphash_cd(key, data, 12, 2, 4);
	return siphash_cd(key, data, len, 2, 4);
}

uint64_t siphash13(const uint8_t key[16], const void *data, size_t len)
{
	return siphash_cd(key, data, len, 1, 3);
}

uint64_t siphash13_words(const uint64_t k[2], const void *data, size_t len)
{
	return siphash_kcd(k[0], k[1], data, len, 1, 3);
}

void siphash_derive_key(const uint8_t secret[16], uint8_t label, uint8_t out[16])
{
	uint8_t in[2] = {label, 0};
	uint64_t a = siphash24(secret, in, sizeof(in));
	in[1] = 1;
	uint64_t b = siphash24(secret, in, sizeof(in));
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
}

void siphash_key_words(const uint8_t key[16], uint64_t k[2])
{
	k[0] = load_le64(key);
	k[1] = load_le64(key + 8);
}

/*
 * SipHash-1-3 of the 12 bytes a, b (big-endian 32-bit), c, d (big-endian
 * 16-bit), the same value siphash13() gives for that byte string, without
 * assembling it: the first message word holds a and b, the last c, d and
 * the length 12.
 */
uint64_t siphash13_tuple(const uint64_t k[2], uint32_t a, uint32_t b, uint16_t c, uint16_t d)
{
	struct sipstate s = sip_init(k[0], k[1]);
	uint64_t m0 = (uint64_t)__builtin_bswap32(a) | (uint64_t)__builtin_bswap32(b) << 32;
	uint64_t m1 = (uint64_t)__builtin_bswap16(c) | (uint64_t)__builtin_bswap16(d) << 16 |
	              (uint64_t)12 << 56;
	sip_word(&s, m0, 1);
	sip_word(&s, m1, 1);
	return sip_final(&s, 3);
}
