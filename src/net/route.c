/*
 * Addresses and routes (route.h): longest-prefix match over a small sorted
 * table, source-address selection (RFC 1122 3.3.4.3 for IPv4, RFC 6724 5
 * for IPv6), and which destinations are our own.
 */
#include "net/route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

/* The length of an IPv4 prefix in the 128-bit form of struct addr: the
 * 96 bits of the IPv4-mapped prefix (RFC 4291 2.5.5.2) come first. */
static unsigned bits128(const struct addr *a, uint8_t len)
{
	return addr_is_v4(a) ? 96u + len : len;
}

static struct addr mask_of(unsigned bits)
{
	struct addr m;
	for (int i = 0; i < 4; i++) {
		m.w[i] = bits >= 32 ? 0xffffffffu : bits ? ~(0xffffffffu >> bits) : 0;
		bits = bits > 32 ? bits - 32 : 0;
	}
	return m;
}

static struct addr masked(const struct addr *a, const struct addr *m)
{
	struct addr r;
	for (int i = 0; i < 4; i++)
		r.w[i] = a->w[i] & m->w[i];
	return r;
}

/* Whether a lies in the prefix of r: four words, no branch. */
static inline int in_prefix(const struct addr *a, const struct route *r)
{
	return (((a->w[0] ^ r->dst.w[0]) & r->mask.w[0]) |
	        ((a->w[1] ^ r->dst.w[1]) & r->mask.w[1]) |
	        ((a->w[2] ^ r->dst.w[2]) & r->mask.w[2]) |
	        ((a->w[3] ^ r->dst.w[3]) & r->mask.w[3])) == 0;
}

static int is_loopback(const struct addr *a)
{
	/* RFC 1122 3.2.1.3 (g): 127.0.0.0/8, which Linux puts on lo. */
	return addr_is_v4(a) && (addr_to_v4(a) >> 24) == 127;
}

int route_is_ours(const struct net_layer *n, const struct addr *a, int loopback)
{
	const struct route_table *t = n->rt;
	for (uint32_t i = 0; i < t->naddrs; i++)
		if (addr_eq(a, &t->addrs[i].a))
			return 1;
	return loopback && is_loopback(a);
}

/* The stack's first address of a's family (cfg.addr, or cfg.addr6 when
 * set); :: when it has no IPv6 address. */
static struct addr first_like(const struct route_table *t, const struct addr *a)
{
	for (uint32_t i = 0; i < t->naddrs; i++)
		if (addr_is_v4(&t->addrs[i].a) == addr_is_v4(a))
			return t->addrs[i].a;
	return (struct addr){{0, 0, 0, 0}};
}

/* The address a route's gateway is reached from: the address whose
 * on-link prefix holds it, else the stack's first of its family. */
static struct addr source_for(const struct net_layer *n, const struct addr *on_link)
{
	const struct route_table *t = n->rt;
	for (uint32_t i = 0; i < t->nroutes; i++) {
		const struct route *r = &t->routes[i];
		if (r->kind == SYNACK_ROUTE_CONNECTED && r->v6 == !addr_is_v4(on_link) &&
		    in_prefix(on_link, r))
			return r->src;
	}
	return first_like(t, on_link);
}

/* RFC 4291 2.5.6: fe80::/10, the link-local unicast addresses. */
static int is_link_local6(const struct addr *a)
{
	return (a->w[0] >> 22) == (0xfe80u >> 6);
}

/* The bits a and b have in common from the left, at most max. */
static unsigned common_prefix(const struct addr *a, const struct addr *b, unsigned max)
{
	unsigned n = 0;
	for (int i = 0; i < 4; i++) {
		uint32_t x = a->w[i] ^ b->w[i];
		if (x) {
			n += (unsigned)__builtin_clz(x);
			break;
		}
		n += 32;
	}
	return n < max ? n : max;
}

/*
 * RFC 6724 5, source address selection for an IPv6 dst not ours (rule 1,
 * the same address, made it local), by the rules a static setup meets:
 * rule 2 (appropriate scope) with two scopes, link-local and global -- a
 * link-local source only for a link-local destination (which takes a
 * global one when we have no link-local address, as Linux does), never
 * for a global one, since its answer could not come back beyond the link;
 * rule 8, the longest prefix in common with dst, counted up to the
 * source's own prefix length (its interface identifier is no match).
 * Rules 3-7 need deprecated addresses, home addresses, several
 * interfaces, policy labels or temporary addresses, which synack has not.
 * Ties: the address added first (cfg.addr6 first).  0 when none fits.
 */
static int source6(const struct route_table *t, const struct addr *dst, struct addr *src)
{
	int dst_ll = is_link_local6(dst), best_ll = 0;
	unsigned best_len = 0;
	const struct route_addr *best = NULL;
	for (uint32_t i = 0; i < t->naddrs; i++) {
		const struct route_addr *c = &t->addrs[i];
		if (addr_is_v4(&c->a))
			continue;
		int ll = is_link_local6(&c->a);
		if (ll && !dst_ll)
			continue; /* rule 2: never beyond its scope */
		unsigned len = common_prefix(&c->a, dst, c->len);
		/* rule 2: a link-local destination prefers its own scope */
		if (best && (ll != best_ll ? !ll || !dst_ll : len <= best_len))
			continue;
		best = c;
		best_ll = ll;
		best_len = len;
	}
	if (best)
		*src = best->a;
	return best != NULL;
}

/* The on-link route of the link-local prefix (RFC 4861 5.2), which every
 * IPv6 link has whether or not we hold a link-local address on it. */
static const struct route link_local6 = {
    .dst = {{0xfe800000u, 0, 0, 0}},
    .mask = {{0xffc00000u, 0, 0, 0}},
    .len = 10,
    .kind = SYNACK_ROUTE_CONNECTED,
    .v6 = 1,
};

int route_lookup(const struct net_layer *n, const struct addr *dst, struct addr *hop,
                 struct addr *src, const struct route **rt)
{
	const struct route_table *t = n->rt;
	/* Linux's local table is asked before the main one: our own
	 * addresses never leave through a route. */
	if (route_is_ours(n, dst, 1)) {
		*hop = *dst;
		if (src)
			*src = is_loopback(dst) ? addr_v4(0x7f000001u) : *dst;
		if (rt)
			*rt = NULL;
		return ROUTE_LOCAL;
	}
	uint8_t v6 = !addr_is_v4(dst);
	if (!v6) {
		uint32_t v4 = addr_to_v4(dst);
		if (v4 == 0xffffffffu || (v4 >> 28) == 0xe || v4 == 0)
			return ROUTE_BROADCAST;
	} else {
		/* Multicast (ff00::/8) and :: are no unicast destination
		 * (RFC 4291 2.7, 2.5.2); with no IPv6 source there is no
		 * route at all (Linux: ENETUNREACH). */
		struct addr s6;
		if ((dst->w[0] >> 24) == 0xff || addr_is_zero(dst))
			return ROUTE_BROADCAST;
		if (!source6(t, dst, &s6))
			return ROUTE_NONE;
		if (src)
			*src = s6;
		if (is_link_local6(dst)) {
			*hop = *dst;
			if (rt)
				*rt = &link_local6;
			return ROUTE_VIA;
		}
	}
	for (uint32_t i = 0; i < t->nroutes; i++) {
		const struct route *r = &t->routes[i];
		if (r->v6 != v6 || !in_prefix(dst, r))
			continue;
		/* A subnet's directed broadcast (host bits all ones, RFC
		 * 919; not on /31 and /32, RFC 3021). */
		if (r->kind == SYNACK_ROUTE_CONNECTED && r->len < 31 && addr_is_v4(dst) &&
		    ((addr_to_v4(dst) | r->mask.w[3]) == 0xffffffffu))
			return ROUTE_BROADCAST;
		*hop = r->kind == SYNACK_ROUTE_GATEWAY ? r->via : *dst;
		if (src && !v6)
			*src = r->src;
		if (rt)
			*rt = r;
		return ROUTE_VIA;
	}
	return ROUTE_NONE;
}

struct addr route_next_hop(const struct net_layer *n, const struct addr *dst)
{
	struct addr hop;
	return route_lookup(n, dst, &hop, NULL, NULL) == ROUTE_VIA ? hop : *dst;
}

/* Puts r in the table, after the longer prefixes and before those of its
 * length or shorter: the newest of a length wins. */
/* Room for one more of an array of *cap elements of size each (n used),
 * doubled up to max: 0, -ENOSPC or -ENOMEM.  A stack with one address
 * holds one of each. */
static int grow(void **v, uint32_t *cap, uint32_t n, uint32_t max, size_t size)
{
	if (n < *cap)
		return 0;
	if (n >= max)
		return -ENOSPC;
	uint32_t c = *cap ? *cap * 2 : 1;
	if (c > max)
		c = max;
	void *p = realloc(*v, (size_t)c * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static int insert(struct net_layer *n, const struct route *r)
{
	struct route_table *t = n->rt;
	int rc = grow((void **)&t->routes, &t->cap_routes, t->nroutes, ENV(n)->cfg.max_routes,
	              sizeof(*r));
	if (rc)
		return rc;
	uint32_t i = 0;
	while (i < t->nroutes &&
	       bits128(&t->routes[i].dst, t->routes[i].len) > bits128(&r->dst, r->len))
		i++;
	t->cache_ok = 0;
	memmove(&t->routes[i + 1], &t->routes[i], (t->nroutes - i) * sizeof(*r));
	t->routes[i] = *r;
	t->nroutes++;
	return 0;
}

static void remove_at(struct route_table *t, uint32_t i)
{
	t->cache_ok = 0;
	memmove(&t->routes[i], &t->routes[i + 1], (t->nroutes - i - 1) * sizeof(t->routes[0]));
	t->nroutes--;
}

static struct route make(const struct addr *dst, uint8_t len, uint8_t kind)
{
	struct route r;
	memset(&r, 0, sizeof(r));
	r.mask = mask_of(bits128(dst, len));
	r.dst = masked(dst, &r.mask);
	r.len = len;
	r.kind = kind;
	r.v6 = !addr_is_v4(dst);
	return r;
}

static int find(const struct route_table *t, const struct addr *dst, uint8_t len, int kind)
{
	for (uint32_t i = 0; i < t->nroutes; i++) {
		const struct route *r = &t->routes[i];
		if (r->len == len && addr_eq(&r->dst, dst) && (kind < 0 || r->kind == kind) &&
		    r->v6 == !addr_is_v4(dst))
			return (int)i;
	}
	return -1;
}

int route_addr_add(struct net_layer *n, const struct addr *a, uint8_t len)
{
	struct route_table *t = n->rt;
	if (route_is_ours(n, a, 0))
		return -EEXIST;
	int rc = grow((void **)&t->addrs, &t->cap_addrs, t->naddrs, ENV(n)->cfg.max_addrs,
	              sizeof(*t->addrs));
	if (rc)
		return rc;
	struct route r = make(a, len, SYNACK_ROUTE_CONNECTED);
	r.src = *a;
	/* A second address on a prefix already connected shares its route
	 * (and leaves it its source), as Linux's secondary addresses do. */
	if (find(t, &r.dst, len, SYNACK_ROUTE_CONNECTED) < 0) {
		rc = insert(n, &r);
		if (rc)
			return rc;
	}
	t->addrs[t->naddrs++] = (struct route_addr){*a, len};
	t->naddrs6 = (uint16_t)(t->naddrs6 + !addr_is_v4(a));
	t->cache_ok = 0; /* it may have been a destination */
	return 0;
}

int route_addr_del(struct net_layer *n, const struct addr *a, uint8_t len)
{
	struct route_table *t = n->rt;
	uint32_t i = 0;
	while (i < t->naddrs && !addr_eq(&t->addrs[i].a, a))
		i++;
	if (i == t->naddrs || t->addrs[i].len != len)
		return -EADDRNOTAVAIL;
	/* cfg.addr is the stack's address (synack_stack_addr, listeners
	 * named by it): it stays, and so does cfg.addr6 (synack_stack_addr6). */
	struct addr a6 = wire_addr6_from_bytes(ENV(n)->cfg.addr6);
	if (i == 0 || addr_eq(a, &a6))
		return -EBUSY;
	memmove(&t->addrs[i], &t->addrs[i + 1], (t->naddrs - i - 1) * sizeof(t->addrs[0]));
	t->naddrs--;
	t->naddrs6 = (uint16_t)(t->naddrs6 - !addr_is_v4(a));
	t->cache_ok = 0;
	/* Its connected route goes with it, or passes to another address on
	 * the same prefix. */
	struct route r = make(a, len, SYNACK_ROUTE_CONNECTED);
	int k = find(t, &r.dst, len, SYNACK_ROUTE_CONNECTED);
	if (k >= 0 && addr_eq(&t->routes[k].src, a)) {
		remove_at(t, (uint32_t)k);
		for (uint32_t j = 0; j < t->naddrs; j++)
			if (t->addrs[j].len == len && in_prefix(&t->addrs[j].a, &r)) {
				r.src = t->addrs[j].a;
				(void)insert(n, &r); /* a slot was just freed */
				break;
			}
	}
	return 0;
}

int route_add(struct net_layer *n, const struct addr *dst, uint8_t len, const struct addr *via)
{
	struct route r = make(dst, len, via ? SYNACK_ROUTE_GATEWAY : SYNACK_ROUTE_ONLINK);
	if (!addr_eq(&r.dst, dst))
		return -EINVAL; /* host bits set: Linux's "Invalid prefix" */
	if (find(n->rt, &r.dst, len, SYNACK_ROUTE_GATEWAY) >= 0 ||
	    find(n->rt, &r.dst, len, SYNACK_ROUTE_ONLINK) >= 0)
		return -EEXIST;
	if (via) {
		/* RFC 1122 3.3.1.1: a gateway is on a connected network.
		 * Linux refuses any other with -ENETUNREACH. */
		struct addr hop;
		const struct route *on;
		if (route_lookup(n, via, &hop, NULL, &on) != ROUTE_VIA ||
		    on->kind == SYNACK_ROUTE_GATEWAY)
			return -ENETUNREACH;
		r.via = *via;
		r.src = source_for(n, via);
	} else {
		r.src = first_like(n->rt, dst);
	}
	return insert(n, &r);
}

int route_del(struct net_layer *n, const struct addr *dst, uint8_t len)
{
	struct route r = make(dst, len, 0);
	/* An added route first; then a connected one. */
	int k = find(n->rt, &r.dst, len, SYNACK_ROUTE_GATEWAY);
	if (k < 0)
		k = find(n->rt, &r.dst, len, SYNACK_ROUTE_ONLINK);
	if (k < 0)
		k = find(n->rt, &r.dst, len, SYNACK_ROUTE_CONNECTED);
	if (k < 0)
		return -ESRCH;
	remove_at(n->rt, (uint32_t)k);
	return 0;
}

int route_init(struct net_layer *n)
{
	const struct synack_config *cfg = &ENV(n)->cfg;
	n->rt = calloc(1, sizeof(*n->rt));
	if (!n->rt)
		return -ENOMEM;
	struct addr a = addr_v4(cfg->addr);
	int rc = route_addr_add(n, &a, (uint8_t)cfg->prefix_len);
	/* IPv6 (issue 14): cfg.addr6, when set, is the first IPv6 address,
	 * on-link prefix prefix_len6 (0: every IPv6 destination on-link). */
	struct addr a6 = wire_addr6_from_bytes(cfg->addr6);
	if (rc == 0 && !addr_is_zero(&a6))
		rc = route_addr_add(n, &a6, (uint8_t)cfg->prefix_len6);
	return rc;
}

void route_fini(struct net_layer *n)
{
	if (n->rt) {
		free(n->rt->addrs);
		free(n->rt->routes);
	}
	free(n->rt);
	n->rt = NULL;
}

uint64_t route_memory(const struct net_layer *n)
{
	const struct route_table *t = n->rt;
	return sizeof(*t) + (uint64_t)t->cap_addrs * sizeof(*t->addrs) +
	       (uint64_t)t->cap_routes * sizeof(*t->routes);
}
