#include "core/hash.h"

#include "core/siphash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HTABLE_MIN_BUCKETS 16

static struct hnode **buckets_alloc(size_t n)
{
	if (n > SIZE_MAX / sizeof(struct hnode *))
		return NULL;
	return calloc(n, sizeof(struct hnode *));
}

int htable_init(struct htable *t, const uint8_t key[16], size_t initial_buckets)
{
	size_t n = HTABLE_MIN_BUCKETS;
	while (n < initial_buckets) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	t->buckets = buckets_alloc(n);
	if (!t->buckets)
		return -ENOMEM;
	t->mask = n - 1;
	t->count = 0;
	memset(t->memo, 0, sizeof(t->memo));
	siphash_key_words(key, t->key);
	return 0;
}

void htable_fini(struct htable *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->mask = 0;
	t->count = 0;
}

static uint64_t tuple_hash(const struct htable *t, const struct tuple *k)
{
	/* The hash of an explicit byte layout (addresses and ports in network
	 * order), never of the struct's bytes: padding is unspecified and the
	 * result must not depend on the host.  An IPv4 tuple (the common case,
	 * and the one the table was first written for) takes the unrolled
	 * 12-byte path: both addresses, then both ports. */
	if (addr_is_v4(&k->laddr)) /* both addresses are of one family */
		return siphash13_tuple(t->key, addr_to_v4(&k->laddr), addr_to_v4(&k->raddr),
		                       k->lport, k->rport);
	uint8_t b[36];
	size_t n = addr_put(b, &k->laddr);
	n += addr_put(b + n, &k->raddr);
	b[n++] = (uint8_t)(k->lport >> 8);
	b[n++] = (uint8_t)k->lport;
	b[n++] = (uint8_t)(k->rport >> 8);
	b[n++] = (uint8_t)k->rport;
	return siphash13_words(t->key, b, n);
}

uint64_t htable_hash(struct htable *t, const struct tuple *k)
{
	/* The slot comes from the words that differ most between peers (the
	 * last of each address, the first of an IPv6 one); the comparison
	 * below decides, so a coarse slot costs a miss at most. */
	uint32_t x = k->laddr.w[0] ^ k->raddr.w[0] ^ k->laddr.w[3] ^ k->raddr.w[3] ^
	             ((uint32_t)k->lport << 16 | k->rport);
	x ^= x >> 16;
	x ^= x >> 8;
	struct htable_memo *m = &t->memo[x & (HTABLE_MEMO - 1)];
	if (m->ok && tuple_eq(&m->key, k))
		return m->hash;
	m->hash = tuple_hash(t, k);
	m->key = *k;
	m->ok = 1;
	return m->hash;
}

struct hnode *htable_find(struct htable *t, const struct tuple *k)
{
	for (struct hnode *n = t->buckets[htable_hash(t, k) & t->mask]; n; n = n->next)
		if (tuple_eq(&n->key, k))
			return n;
	return NULL;
}

/* Doubles the bucket array, hashing every key again.  On allocation failure
 * the old table stays in use. */
static void htable_grow(struct htable *t)
{
	size_t old_n = t->mask + 1;
	if (old_n > SIZE_MAX / 2)
		return;
	size_t new_n = old_n * 2;
	struct hnode **nb = buckets_alloc(new_n);
	if (!nb)
		return;
	for (size_t i = 0; i < old_n; i++) {
		struct hnode *n = t->buckets[i];
		while (n) {
			struct hnode *next = n->next;
			struct hnode **slot = &nb[tuple_hash(t, &n->key) & (new_n - 1)];
			n->next = *slot;
			*slot = n;
			n = next;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->mask = new_n - 1;
}

int htable_insert(struct htable *t, struct hnode *n)
{
	struct hnode **slot = &t->buckets[htable_hash(t, &n->key) & t->mask];
	n->next = *slot;
	*slot = n;
	t->count++;
	if (t->count > t->mask + 1)
		htable_grow(t);
	return 0;
}

void htable_remove(struct htable *t, struct hnode *n)
{
	/* The chain is singly linked, so find the pointer that refers to n. */
	for (struct hnode **pp = &t->buckets[htable_hash(t, &n->key) & t->mask]; *pp;
	     pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			t->count--;
			return;
		}
	}
}

void htable_foreach(const struct htable *t, void (*fn)(void *ctx, struct hnode *n), void *ctx)
{
	for (size_t i = 0; i <= t->mask; i++)
		for (struct hnode *n = t->buckets[i], *next; n; n = next) {
			next = n->next; /* fn may remove n */
			fn(ctx, n);
		}
}
