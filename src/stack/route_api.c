/*
 * The public face of the network layer's addresses and routes (route.h):
 * prefixes parsed and printed, arguments checked, the table edited and
 * read out.  Family-neutral in its types; IPv4 only for now.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/net.h"
#include "net/route.h"
#include "stack/stack.h"

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

int synack_prefix_parse(const char *s, struct synack_prefix *out)
{
	if (!s || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->family = SYNACK_AF_INET;
	if (strcmp(s, "default") == 0)
		return 0; /* 0.0.0.0/0 */
	if (strchr(s, ':'))
		return -EAFNOSUPPORT;
	const char *p = parse_v4(s, &out->addr);
	if (!p)
		return -EINVAL;
	out->len = 32;
	if (*p == '\0')
		return 0;
	if (*p++ != '/' || *p < '0' || *p > '9')
		return -EINVAL;
	unsigned len = 0;
	while (*p >= '0' && *p <= '9' && len <= 32)
		len = len * 10 + (unsigned)(*p++ - '0');
	if (*p != '\0' || len > 32)
		return -EINVAL;
	out->len = (uint8_t)len;
	return 0;
}

const char *synack_prefix_str(const struct synack_prefix *p, char *buf, size_t n)
{
	if (!buf || !n)
		return buf;
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

/* The address and length of a prefix the caller gave: 0, -EINVAL or
 * -EAFNOSUPPORT (IPv6 lands with its own slice: the table takes it then). */
static int prefix_in(const struct synack_prefix *p, struct addr *a)
{
	if (!p)
		return -EINVAL;
	if (p->family == SYNACK_AF_INET6)
		return -EAFNOSUPPORT;
	if (p->family != SYNACK_AF_INET || p->len > 32)
		return -EINVAL;
	*a = addr_v4(p->addr);
	return 0;
}

static void prefix_out(struct synack_prefix *p, const struct addr *a, uint8_t len)
{
	memset(p, 0, sizeof(*p));
	p->family = SYNACK_AF_INET;
	p->addr = addr_to_v4(a);
	p->len = len;
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

int synack_addr_add(struct synack_stack *st, const struct synack_prefix *p)
{
	struct addr a;
	int rc;
	if (!st)
		return -EINVAL;
	if ((rc = prefix_in(p, &a)) != 0)
		return rc;
	if (!is_unicast_v4(p->addr))
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
		if (via->family == SYNACK_AF_INET6)
			return -EAFNOSUPPORT;
		if (via->family != SYNACK_AF_INET || !is_unicast_v4(via->addr))
			return -EINVAL;
		g = addr_v4(via->addr);
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

static void route_out(struct synack_route *o, const struct route *r)
{
	memset(o, 0, sizeof(*o));
	prefix_out(&o->dst, &r->dst, r->len);
	if (r->kind == SYNACK_ROUTE_GATEWAY)
		endpoint_out(&o->via, &r->via);
	endpoint_out(&o->src, &r->src);
	o->kind = r->kind;
}

size_t synack_routes(const struct synack_stack *st, struct synack_route *out, size_t n)
{
	if (!st)
		return 0;
	const struct route_table *t = cnet_of(st)->rt;
	for (size_t i = 0; out && i < n && i < t->nroutes; i++)
		route_out(&out[i], &t->routes[i]);
	return t->nroutes;
}

int synack_route_get(const struct synack_stack *st, const struct synack_endpoint *dst,
                     struct synack_route *out)
{
	if (!st || !dst || !out)
		return -EINVAL;
	if (dst->family == SYNACK_AF_INET6)
		return -EAFNOSUPPORT;
	if (dst->family != SYNACK_AF_INET)
		return -EINVAL;
	struct addr d = addr_v4(dst->addr), hop, src;
	const struct route *r;
	switch (route_lookup(cnet_of(st), &d, &hop, &src, &r)) {
	case ROUTE_VIA:
		route_out(out, r);
		return 0;
	case ROUTE_LOCAL:
		memset(out, 0, sizeof(*out));
		prefix_out(&out->dst, &d, 32);
		endpoint_out(&out->via, &hop);
		endpoint_out(&out->src, &src);
		return 0;
	default:
		return -ENETUNREACH;
	}
}
