/*
 * An intrusive hash table keyed by a TCP 4-tuple, hashed with SipHash-1-3 under
 * the stack's secret so that remote peers cannot aim many connections at one
 * bucket.  Chained buckets, power-of-two sized, doubled when the load passes
 * one entry per bucket.  Nodes are embedded in their owners.
 */
#ifndef SYNACK_HASH_H
#define SYNACK_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "core/addr.h"

/* A connection's addresses and ports (ports in host byte order), of either
 * family: both addresses are of the same one.  Listeners use the
 * unspecified address of their family as raddr and rport = 0. */
struct tuple {
	struct addr laddr, raddr;
	uint16_t lport, rport;
};

_Static_assert(sizeof(struct tuple) == 2 * sizeof(struct addr) + 4, "struct tuple has no padding");

static inline int tuple_eq(const struct tuple *a, const struct tuple *b)
{
	/* No padding (asserted above): the bytes are the value. */
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* The bytes keyed hashes of a connection are taken over (RFC 6528's
 * F(localip, localport, remoteip, remoteport), RFC 4987 cookies): local
 * address, local port, remote address, remote port in network byte order,
 * addresses in their wire form, so an IPv4 tuple is 12 bytes and an IPv6
 * one 36.  Returns the length written to out. */
#define TUPLE_BYTES_MAX 36
static inline size_t tuple_put(uint8_t *out, const struct tuple *t)
{
	size_t n = addr_put(out, &t->laddr);
	out[n++] = (uint8_t)(t->lport >> 8);
	out[n++] = (uint8_t)t->lport;
	n += addr_put(out + n, &t->raddr);
	out[n++] = (uint8_t)(t->rport >> 8);
	out[n++] = (uint8_t)t->rport;
	return n;
}

/* No hash is stored in the node: comparing the key is as cheap as comparing
 * a stored hash, and leaving it out keeps TIME_WAIT records small.  Removal
 * and growth hash the key again. */
struct hnode {
	struct hnode *next;
	struct tuple key;
	/* For the owner; they fill what would be padding after the key. */
	uint8_t kind;  /* what the node is embedded in */
	uint8_t table; /* which table holds it, 0 for none */
	uint16_t aux;  /* a small value the owner keeps here */
};

#define HTABLE_MEMO 8 /* a power of two */

struct htable {
	struct hnode **buckets;
	size_t mask; /* bucket count - 1 */
	size_t count;
	uint64_t key[2]; /* the SipHash key as words */
	/* Keys hashed lately and their hashes, direct-mapped by a cheap fold
	 * of the key.  One segment looks up, inserts and removes the same
	 * 4-tuple several times (a SYN: looked up, then its connection
	 * inserted; a final ACK: the TCB removed, the TIME_WAIT record
	 * inserted), and consecutive segments of a connection share it;
	 * comparing 12 bytes is much cheaper than SipHash.  Only hashes are
	 * kept here, so a key aimed at a memo slot costs a miss, nothing
	 * more. */
	struct htable_memo {
		struct tuple key;
		uint32_t ok;
		uint64_t hash;
	} memo[HTABLE_MEMO];
};

/* initial_buckets is rounded up to a power of two (at least 16). */
int htable_init(struct htable *t, const uint8_t key[16], size_t initial_buckets);
void htable_fini(struct htable *t); /* frees buckets, not nodes */
/* Bytes the table itself holds (its buckets; nodes belong to their owners). */
static inline size_t htable_bytes(const struct htable *t)
{
	return t->buckets ? (t->mask + 1) * sizeof(*t->buckets) : 0;
}
uint64_t htable_hash(struct htable *t, const struct tuple *k);
struct hnode *htable_find(struct htable *t, const struct tuple *k);
/* Inserts n under n->key (which the caller set).  Returns 0 or -ENOMEM.  A
 * failed grow is not an error: the table keeps working at a higher load. */
int htable_insert(struct htable *t, struct hnode *n);
void htable_remove(struct htable *t, struct hnode *n);
/* Calls fn for every node; fn may remove the node it is called for, and
 * must not insert or remove any other. */
void htable_foreach(const struct htable *t, void (*fn)(void *ctx, struct hnode *n), void *ctx);

#endif
