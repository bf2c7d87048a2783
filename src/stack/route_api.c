/*
 * The public face of the network layer's addresses and routes (route.h):
 * prefixes parsed and printed, arguments checked, the table edited and
 * read out.  Family-neutral: IPv4 and IPv6 prefixes alike (issue 14).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/net.h"
#include "net/route.h"
#include "stack/stack.h"
#include "wire/wire6.h"

static struct net_layer *net_of(struct synack_stack *st)
{
	return &st->sock.tcp.net;
}

static const struct net_layer *cnet_of(const struct synack_stack *st)
{
	return &st->sock.tcp.net;
}

/* A dotted quad, each part 0..255, nothing after it but what end allows. */
static const char *parse_v4(const char *s, uint32_t *out)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		if (i && *s++ != '.')
			return NULL;
		if (*s < '0' || *s > '9')
			return NULL;
		uint32_t v = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (uint32_t)(*s++ - '0');
			digits++;
		}
		if (v > 255 || digits > 3)
			return NULL;
		a = a << 8 | v;
	}
	*out = a;
	return s;
}

/* The prefix length after a '/' at p (at most max, nothing after it):
 * 0, or -EINVAL. */
static int parse_len(const char *p, unsigned max, uint8_t *len)
{
	if (*p++ != '/' || *p < '0' || *p > '9')
		return -EINVAL;
	unsigned n = 0;
	while (*p >= '0' && *p <= '9' && n <= max)
		n = n * 10 + (unsigned)(*p++ - '0');
	if (*p != '\0' || n > max)
		return -EINVAL;
	*len = (uint8_t)n;
	return 0;
}

int synack_prefix_parse(const char *s, struct synack_prefix *out)
{
	if (!s || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->family = SYNACK_AF_INET;
	if (strcmp(s, "default") == 0)
		return 0; /* 0.0.0.0/0 */
	if (strchr(s, ':')) {
		/* IPv6 (issue 14): RFC 4291 2.3's address/prefix-length. */
		const char *slash = strchr(s, '/');
		size_t n = slash ? (size_t)(slash - s) : strlen(s);
		out->family = SYNACK_AF_INET6;
		out->len = 128;
		if (wire_addr6_parse(s, n, out->addr6) != 0)
			return -EINVAL;
		return slash ? parse_len(slash, 128, &out->len) : 0;
	}
	const char *p = parse_v4(s, &out->addr);
	if (!p)
		return -EINVAL;
	out->len = 32;
	if (*p == '\0')
		return 0;
	return parse_len(p, 32, &out->len);
}

const char *synack_prefix_str(const struct synack_prefix *p, char *buf, size_t n)
{
	if (!buf || !n)
		return buf;
	if (p && p->family == SYNACK_AF_INET6 && p->len <= 128) {
		char a[64];
		snprintf(buf, n, "%s/%u", wire_addr6_str(p->addr6, a, sizeof(a)), p->len);
		return buf;
	}
	if (!p || p->family != SYNACK_AF_INET) {
		snprintf(buf, n, "?");
		return buf;
	}
	if (p->addr == 0 && p->len == 0) {
		snprintf(buf, n, "default");
		return buf;
	}
	snprintf(buf, n, "%u.%u.%u.%u/%u", p->addr >> 24, (p->addr >> 16) & 255,
	         (p->addr >> 8) & 255, p->addr & 255, p->len);
	return buf;
}

/* The address and length of a prefix the caller gave: 0 or -EINVAL. */
static int prefix_in(const struct synack_prefix *p, struct addr *a)
{
	if (!p)
		return -EINVAL;
	if (p->family == SYNACK_AF_INET6) {
		if (p->len > 128)
			return -EINVAL;
		*a = wire_addr6_from_bytes(p->addr6);
		/* An IPv4-mapped prefix would be IPv4 in the table's form. */
		return addr_is_v4(a) ? -EINVAL : 0;
	}
	if (p->family != SYNACK_AF_INET || p->len > 32)
		return -EINVAL;
	*a = addr_v4(p->addr);
	return 0;
}

static void prefix_out(struct synack_prefix *p, const struct addr *a, uint8_t len)
{
	memset(p, 0, sizeof(*p));
	p->len = len;
	if (!addr_is_v4(a)) {
		p->family = SYNACK_AF_INET6;
		wire_addr6_to_bytes(a, p->addr6);
		return;
	}
	p->family = SYNACK_AF_INET;
	p->addr = addr_to_v4(a);
}

static void endpoint_out(struct synack_endpoint *e, const struct addr *a)
{
	memset(e, 0, sizeof(*e));
	env_endpoint_zeroed(e, a, 0);
}

/* A host's own address must name one host (RFC 1122 3.2.1.3). */
static int is_unicast_v4(uint32_t a)
{
	return a != 0 && a != 0xffffffffu && (a >> 28) != 0xe && (a >> 28) != 0xf &&
	       (a >> 24) != 0 && (a >> 24) != 127;
}

/* Either family's: IPv6's as net_addr6_is_unicast (RFC 4291 2.4). */
static int is_unicast(const struct addr *a)
{
	return addr_is_v4(a) ? is_unicast_v4(addr_to_v4(a)) : net_addr6_is_unicast(a);
}

int synack_addr_add(struct synack_stack *st, const struct synack_prefix *p)
{
	struct addr a;
	int rc;
	if (!st)
		return -EINVAL;
	if ((rc = prefix_in(p, &a)) != 0)
		return rc;
	if (!is_unicast(&a))
		return -EINVAL;
	/* IPv6 needs a link of its minimum MTU (RFC 8200 5), as addr6 does. */
	if (!addr_is_v4(&a) && ENV(st)->cfg.mtu < WIRE_IP6_MIN_MTU)
		return -EINVAL;
	return route_addr_add(net_of(st), &a, p->len);
}

int synack_addr_del(struct synack_stack *st, const struct synack_prefix *p)
{
	struct addr a;
	int rc;
	if (!st)
		return -EINVAL;
	if ((rc = prefix_in(p, &a)) != 0)
		return rc;
	return route_addr_del(net_of(st), &a, p->len);
}

size_t synack_addrs(const struct synack_stack *st, struct synack_prefix *out, size_t n)
{
	if (!st)
		return 0;
	const struct route_table *t = cnet_of(st)->rt;
	for (size_t i = 0; out && i < n && i < t->naddrs; i++)
		prefix_out(&out[i], &t->addrs[i].a, t->addrs[i].len);
	return t->naddrs;
}

int synack_route_add(struct synack_stack *st, const struct synack_prefix *dst,
                     const struct synack_endpoint *via)
{
	struct addr d, g;
	int rc;
	if (!st)
		return -EINVAL;
	if ((rc = prefix_in(dst, &d)) != 0)
		return rc;
	if (via) {
		/* A gateway of the prefix's family (IPv4 over an IPv6 next
		 * hop, RFC 8950, is not carried). */
		if (via->family == SYNACK_AF_INET6)
			g = wire_addr6_from_bytes(via->addr6);
		else if (via->family == SYNACK_AF_INET)
			g = addr_v4(via->addr);
		else
			return -EINVAL;
		if (!is_unicast(&g) || addr_is_v4(&g) != addr_is_v4(&d))
			return -EINVAL;
	}
	return route_add(net_of(st), &d, dst->len, via ? &g : NULL);
}

int synack_route_del(struct synack_stack *st, const struct synack_prefix *dst)
{
	struct addr d;
	int rc;
	if (!st)
		return -EINVAL;
	if ((rc = prefix_in(dst, &d)) != 0)
		return rc;
	return route_del(net_of(st), &d, dst->len);
}

static void route_out(struct synack_route *o, const struct route *r, const struct addr *src)
{
	memset(o, 0, sizeof(*o));
	prefix_out(&o->dst, &r->dst, r->len);
	if (r->kind == SYNACK_ROUTE_GATEWAY)
		endpoint_out(&o->via, &r->via);
	endpoint_out(&o->src, src);
	o->kind = r->kind;
}

size_t synack_routes(const struct synack_stack *st, struct synack_route *out, size_t n)
{
	if (!st)
		return 0;
	const struct route_table *t = cnet_of(st)->rt;
	for (size_t i = 0; out && i < n && i < t->nroutes; i++)
		route_out(&out[i], &t->routes[i], &t->routes[i].src);
	return t->nroutes;
}

int synack_route_get(const struct synack_stack *st, const struct synack_endpoint *dst,
                     struct synack_route *out)
{
	if (!st || !dst || !out)
		return -EINVAL;
	struct addr d, hop, src;
	if (dst->family == SYNACK_AF_INET6)
		d = wire_addr6_from_bytes(dst->addr6);
	else if (dst->family == SYNACK_AF_INET)
		d = addr_v4(dst->addr);
	else
		return -EINVAL;
	const struct route *r;
	switch (route_lookup(cnet_of(st), &d, &hop, &src, &r)) {
	case ROUTE_VIA:
		/* The source a connection takes: the route's for IPv4, RFC
		 * 6724's choice for IPv6 (route.h). */
		route_out(out, r, &src);
		return 0;
	case ROUTE_LOCAL:
		memset(out, 0, sizeof(*out));
		prefix_out(&out->dst, &d, addr_is_v4(&d) ? 32 : 128);
		endpoint_out(&out->via, &hop);
		endpoint_out(&out->src, &src);
		return 0;
	default:
		return -ENETUNREACH;
	}
}
