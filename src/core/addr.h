/*
 * A network address of either family, as one value type: what the demux
 * key, endpoints, ISNs and SYN cookies hold, so that nothing above the
 * network layer needs to know which IP version carried a segment.
 *
 * The 16 bytes of an IPv6 address (RFC 4291 2.1) are kept as four words,
 * w[0] the first four bytes read big-endian, and so on.  An IPv4 address
 * is held as the IPv4-mapped IPv6 address ::ffff:a.b.c.d (RFC 4291
 * 2.5.5.2), so w[3] is the IPv4 address in host byte order, as it has
 * always been in synack, and comparing two addresses never asks for their
 * family.  The unspecified address of each family (0.0.0.0, ::) is what a
 * wildcard listener binds.
 */
#ifndef SYNACK_ADDR_H
#define SYNACK_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct addr {
	uint32_t w[4];
};

#define ADDR_V4_MAPPED 0x0000ffffu /* w[2] of an IPv4-mapped address */

/* The IPv4 address v4 (host byte order) as an address. */
static inline struct addr addr_v4(uint32_t v4)
{
	struct addr a = {{0, 0, ADDR_V4_MAPPED, v4}};
	return a;
}

/* Whether a is an IPv4 address (an IPv4-mapped IPv6 address). */
static inline int addr_is_v4(const struct addr *a)
{
	/* Asked for every segment, several times: one 8-byte load for the
	 * two zero words, no branches. */
	uint64_t zero;
	memcpy(&zero, a->w, sizeof(zero));
	return (zero == 0) & (a->w[2] == ADDR_V4_MAPPED);
}

/* The IPv4 address of an IPv4 a, host byte order. */
static inline uint32_t addr_to_v4(const struct addr *a)
{
	return a->w[3];
}

static inline int addr_eq(const struct addr *a, const struct addr *b)
{
	/* No padding: the bytes are the value (compilers turn this into
	 * two 8-byte or one 16-byte comparison). */
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* The unspecified address of a's family (0.0.0.0 or ::). */
static inline struct addr addr_any_like(const struct addr *a)
{
	return addr_is_v4(a) ? addr_v4(0) : (struct addr){{0, 0, 0, 0}};
}

/* Whether a is 0.0.0.0 or ::. */
static inline int addr_is_any(const struct addr *a)
{
	return (a->w[0] | a->w[1] | a->w[3]) == 0 && (a->w[2] == 0 || a->w[2] == ADDR_V4_MAPPED);
}

/* Whether every bit of a is 0 (::, which is not the IPv4 0.0.0.0). */
static inline int addr_is_zero(const struct addr *a)
{
	return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

/* Writes a's wire form (4 bytes for IPv4, 16 for IPv6) to out and returns
 * its length. */
static inline size_t addr_put(uint8_t *out, const struct addr *a)
{
	int first = addr_is_v4(a) ? 3 : 0;
	size_t n = 0;
	for (int i = first; i < 4; i++) {
		uint32_t v = a->w[i];
		out[n++] = (uint8_t)(v >> 24);
		out[n++] = (uint8_t)(v >> 16);
		out[n++] = (uint8_t)(v >> 8);
		out[n++] = (uint8_t)v;
	}
	return n;
}

#endif
