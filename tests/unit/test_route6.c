/*
 * IPv6 addresses and routes (issue 14): several IPv6 addresses per stack,
 * link-local among them; IPv6 prefixes parsed, printed, added and
 * refused; longest prefix match over 128 bits in the one family-neutral
 * table (an IPv6 ::/0 never routes IPv4); a default route through a
 * link-local gateway; RFC 6724 source selection (scope, longest matching
 * prefix); the next hop synack_output_via gives for IPv6 datagrams;
 * connections to our own IPv6 addresses carried inside the stack; an
 * IPV6_V6ONLY listener on :: taking every IPv6 address of ours; and a
 * route deleted under a connection counted as Ip6OutNoRoutes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synack/synack.h"

#define A4 0x0a070002u /* 10.7.0.2 on 10.7.0.0/24 */

static struct synack_prefix pfx6(const char *text)
{
	struct synack_prefix p;
	CHECK_EQ(synack_prefix_parse(text, &p), 0);
	CHECK_EQ(p.family, SYNACK_AF_INET6);
	return p;
}

static struct synack_endpoint ep6(const char *text, uint16_t port)
{
	struct synack_prefix p = pfx6(text);
	struct synack_endpoint e;
	memset(&e, 0, sizeof(e));
	e.family = SYNACK_AF_INET6;
	memcpy(e.addr6, p.addr6, 16);
	e.port = port;
	return e;
}

static int is6(const uint8_t a[16], const char *text)
{
	struct synack_prefix p = pfx6(text);
	return memcmp(a, p.addr6, 16) == 0;
}

/* A stack with 10.7.0.2/24 and, when addr6 is not NULL, cfg.addr6 on
 * prefix_len6 64. */
static struct synack_stack *new_stack(const char *addr6)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = A4;
	cfg.prefix_len = 24;
	cfg.max_routes = 16;
	if (addr6) {
		struct synack_prefix p = pfx6(addr6);
		memcpy(cfg.addr6, p.addr6, 16);
		cfg.prefix_len6 = 64;
	}
	struct synack_stack *st = synack_stack_new(&cfg, NULL);
	CHECK(st != NULL);
	return st;
}

static void prefixes6_parse_and_print(void)
{
	struct synack_prefix p;
	char buf[64];
	p = pfx6("2001:db8:1::2/64");
	CHECK_EQ(p.len, 64);
	CHECK_STR(synack_prefix_str(&p, buf, sizeof buf), "2001:db8:1::2/64");
	p = pfx6("FE80::1");
	CHECK_EQ(p.len, 128);
	CHECK_STR(synack_prefix_str(&p, buf, sizeof buf), "fe80::1/128");
	p = pfx6("::/0");
	CHECK_EQ(p.len, 0);
	CHECK_STR(synack_prefix_str(&p, buf, sizeof buf), "::/0");
	static const char *const bad[] = {"2001:db8::1/129",
	                                  "2001:db8::1/",
	                                  "2001:db8:::1/64",
	                                  "2001:db8::1/6x",
	                                  "2001:db8::1 /64",
	                                  "fe80::1%eth0",
	                                  "/64",
	                                  ":",
	                                  "2001:db8::1/0064x"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (synack_prefix_parse(bad[i], &p) != -EINVAL)
			check_fail(__FILE__, __LINE__, "'%s' parsed", bad[i]);
	p.family = SYNACK_AF_INET6;
	p.len = 129;
	CHECK_STR(synack_prefix_str(&p, buf, sizeof buf), "?");
}

static void addresses6_added_listed_and_refused(void)
{
	struct synack_stack *st = new_stack("2001:db8:1::2");
	struct synack_prefix as[8];
	uint8_t first[16];
	CHECK_EQ(synack_addrs(st, as, 8), 2);
	CHECK_EQ(as[0].family, SYNACK_AF_INET);
	CHECK_EQ(as[1].family, SYNACK_AF_INET6);
	CHECK(is6(as[1].addr6, "2001:db8:1::2"));
	CHECK_EQ(as[1].len, 64);

	/* The link-local address the link derives from its MAC (RFC 4291
	 * 2.5.1), and a second global one. */
	struct synack_prefix ll = pfx6("fe80::211:22ff:fe33:4455/64"),
	                     g2 = pfx6("2001:db8:2::2/64");
	CHECK_EQ(synack_addr_add(st, &ll), 0);
	CHECK_EQ(synack_addr_add(st, &ll), -EEXIST);
	CHECK_EQ(synack_addr_add(st, &g2), 0);
	CHECK_EQ(synack_addrs(st, as, 8), 4);
	CHECK(is6(as[2].addr6, "fe80::211:22ff:fe33:4455"));
	CHECK(synack_stack_addr6(st, first));
	CHECK(is6(first, "2001:db8:1::2"));

	/* Not unicast, or not IPv6 in IPv6 clothes: refused. */
	static const char *const bad[] = {"ff02::1/64", "::1/128", "::/0", "::ffff:10.7.0.9/120"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct synack_prefix b;
		CHECK_EQ(synack_prefix_parse(bad[i], &b), 0);
		if (synack_addr_add(st, &b) != -EINVAL)
			check_fail(__FILE__, __LINE__, "'%s' added", bad[i]);
	}
	struct synack_prefix b = g2;
	b.len = 129;
	CHECK_EQ(synack_addr_add(st, &b), -EINVAL);

	/* cfg.addr6 stays; the others go with their routes. */
	struct synack_prefix a6 = pfx6("2001:db8:1::2/64");
	CHECK_EQ(synack_addr_del(st, &a6), -EBUSY);
	CHECK_EQ(synack_addr_del(st, &g2), 0);
	CHECK_EQ(synack_addr_del(st, &g2), -EADDRNOTAVAIL);
	struct synack_route r[16];
	size_t n = synack_routes(st, r, 16);
	CHECK_EQ(n, 3); /* 10.7.0.0/24, 2001:db8:1::/64, fe80::/64 */
	for (size_t i = 0; i < n; i++)
		CHECK(!(r[i].dst.family == SYNACK_AF_INET6 && r[i].dst.addr6[5] == 2));
	synack_stack_free(st);

	/* A stack without cfg.addr6 gains IPv6 by synack_addr_add, and the
	 * first one added is its IPv6 address; IPv6 needs a 1280-byte MTU. */
	st = new_stack(NULL);
	CHECK(!synack_stack_addr6(st, first));
	CHECK_EQ(synack_addr_add(st, &ll), 0);
	CHECK(synack_stack_addr6(st, first));
	CHECK(is6(first, "fe80::211:22ff:fe33:4455"));
	synack_stack_free(st);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = A4;
	cfg.mtu = 576;
	st = synack_stack_new(&cfg, NULL);
	CHECK_EQ(synack_addr_add(st, &ll), -EINVAL);
	synack_stack_free(st);
}

static void routes6_longest_match_and_source_selection(void)
{
	struct synack_stack *st = new_stack("2001:db8:1::2");
	struct synack_prefix ll = pfx6("fe80::2/64"), ula = pfx6("fd00::2/64"),
	                     g2 = pfx6("2001:db8:2::2/64"), def = pfx6("::/0"),
	                     far = pfx6("2001:db8:9::/48");
	CHECK_EQ(synack_addr_add(st, &ll), 0);
	CHECK_EQ(synack_addr_add(st, &ula), 0);
	CHECK_EQ(synack_addr_add(st, &g2), 0);

	/* Gateways: a link-local one is always on the link (RFC 4861 5.2);
	 * a global one must be on a connected prefix; no IPv4 gateway for
	 * an IPv6 prefix; host bits refused. */
	struct synack_endpoint gw = ep6("fe80::1", 0), off = ep6("2001:db8:7::1", 0),
	                       gw4 = {.addr = 0x0a070001u}, mc = ep6("ff02::2", 0);
	CHECK_EQ(synack_route_add(st, &far, &off), -ENETUNREACH);
	CHECK_EQ(synack_route_add(st, &far, &gw4), -EINVAL);
	CHECK_EQ(synack_route_add(st, &far, &mc), -EINVAL);
	struct synack_prefix hostbits = pfx6("2001:db8:9::1/48");
	CHECK_EQ(synack_route_add(st, &hostbits, &gw), -EINVAL);
	CHECK_EQ(synack_route_add(st, &def, &gw), 0);
	CHECK_EQ(synack_route_add(st, &def, &gw), -EEXIST);
	struct synack_endpoint gw2 = ep6("2001:db8:2::1", 0);
	CHECK_EQ(synack_route_add(st, &far, &gw2), 0);

	struct synack_route got;
	/* The default through fe80::1; a global source for a global
	 * destination (never the link-local one), the longest match. */
	struct synack_endpoint d = ep6("2001:db8:5::5", 80);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.kind, SYNACK_ROUTE_GATEWAY);
	CHECK_EQ(got.dst.len, 0);
	CHECK(is6(got.via.addr6, "fe80::1"));
	CHECK_EQ(got.src.family, SYNACK_AF_INET6);
	CHECK(is6(got.src.addr6, "2001:db8:1::2") || is6(got.src.addr6, "2001:db8:2::2"));
	d = ep6("2001:db8:2:77::1", 80); /* 48 bits in common with 2001:db8:2::2 */
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK(is6(got.src.addr6, "2001:db8:2::2"));
	d = ep6("fd00:1::1", 80);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK(is6(got.src.addr6, "fd00::2"));
	/* The longer prefix wins over the default. */
	d = ep6("2001:db8:9:1::1", 80);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.dst.len, 48);
	CHECK(is6(got.via.addr6, "2001:db8:2::1"));
	/* On-link prefixes, and link-local destinations with a link-local
	 * source (RFC 6724 rule 2). */
	d = ep6("2001:db8:1::9", 80);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.kind, SYNACK_ROUTE_CONNECTED);
	CHECK(is6(got.src.addr6, "2001:db8:1::2"));
	d = ep6("fe80::9", 80);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.kind, SYNACK_ROUTE_CONNECTED);
	CHECK(is6(got.src.addr6, "fe80::2"));
	/* Ours: local; multicast: none. */
	d = ep6("2001:db8:2::2", 80);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.kind, 0);
	CHECK(is6(got.src.addr6, "2001:db8:2::2"));
	d = ep6("ff02::1", 80);
	CHECK_EQ(synack_route_get(st, &d, &got), -ENETUNREACH);

	/* The IPv6 default route is no route for IPv4. */
	struct synack_endpoint v4 = {.addr = 0x08080808u, .port = 53};
	CHECK_EQ(synack_route_get(st, &v4, &got), -ENETUNREACH);
	/* ... nor an IPv4 one for IPv6. */
	CHECK_EQ(synack_route_del(st, &def), 0);
	struct synack_prefix def4;
	CHECK_EQ(synack_prefix_parse("default", &def4), 0);
	struct synack_endpoint gwv4 = {.addr = 0x0a070001u};
	CHECK_EQ(synack_route_add(st, &def4, &gwv4), 0);
	d = ep6("2001:db8:5::5", 80);
	CHECK_EQ(synack_route_get(st, &d, &got), -ENETUNREACH);
	synack_stack_free(st);

	/* Only a link-local address: link-local peers only. */
	st = new_stack(NULL);
	CHECK_EQ(synack_addr_add(st, &ll), 0);
	CHECK_EQ(synack_route_add(st, &def, &gw), 0);
	d = ep6("2001:db8:5::5", 80);
	CHECK_EQ(synack_route_get(st, &d, &got), -ENETUNREACH);
	int s = synack_socket(st);
	CHECK_EQ(synack_connect(st, s, &d), -ENETUNREACH);
	d = ep6("fe80::9", 80);
	CHECK_EQ(synack_connect(st, s, &d), -EINPROGRESS);
	synack_stack_free(st);
}

/* The SYN of a connect() to dst: its bytes in buf, its next hop in *hop. */
static ssize_t syn6_of(struct synack_stack *st, const char *dst, uint8_t *buf,
                       struct synack_endpoint *hop)
{
	int s = synack_socket(st);
	struct synack_endpoint peer = ep6(dst, 80);
	CHECK_EQ(synack_connect(st, s, &peer), -EINPROGRESS);
	return synack_output_via(st, buf, 1600, hop);
}

static void connect6_takes_the_source_and_next_hop(void)
{
	struct synack_stack *st = new_stack("2001:db8:1::2");
	struct synack_prefix ll = pfx6("fe80::2/64"), def = pfx6("::/0");
	struct synack_endpoint gw = ep6("fe80::1", 0), hop;
	uint8_t d[1600];
	CHECK_EQ(synack_addr_add(st, &ll), 0);

	/* No route beyond the /64 yet. */
	int s = synack_socket(st);
	struct synack_endpoint far = ep6("2001:db8:5::5", 80);
	CHECK_EQ(synack_connect(st, s, &far), -ENETUNREACH);
	CHECK_EQ(synack_output_pending(st), 0);

	/* On-link and link-local: the destination is the next hop. */
	CHECK(syn6_of(st, "2001:db8:1::9", d, &hop) > 0);
	CHECK_EQ(d[0] >> 4, 6);
	CHECK(is6(d + 8, "2001:db8:1::2"));
	CHECK_EQ(hop.family, SYNACK_AF_INET6);
	CHECK(is6(hop.addr6, "2001:db8:1::9"));
	CHECK(syn6_of(st, "fe80::9", d, &hop) > 0);
	CHECK(is6(d + 8, "fe80::2"));
	CHECK(is6(hop.addr6, "fe80::9"));

	/* Through the default: the gateway next. */
	CHECK_EQ(synack_route_add(st, &def, &gw), 0);
	s = synack_socket(st);
	CHECK_EQ(synack_connect(st, s, &far), -EINPROGRESS);
	CHECK(synack_output_via(st, d, sizeof d, &hop) > 0);
	CHECK(is6(d + 8, "2001:db8:1::2"));
	CHECK(is6(d + 24, "2001:db8:5::5"));
	CHECK(is6(hop.addr6, "fe80::1"));

	/* Deleted under the connection: its retransmission has no route. */
	struct synack_stats before, after;
	synack_stats(st, &before);
	CHECK_EQ(synack_route_del(st, &def), 0);
	synack_advance(st, 3000000);
	synack_stats(st, &after);
	CHECK(after.Ip6OutNoRoutes > before.Ip6OutNoRoutes);
	CHECK(after.drops[SYNACK_DROP_NO_ROUTE] > before.drops[SYNACK_DROP_NO_ROUTE]);
	synack_stack_free(st);
}

/* Runs the stack's own traffic (the loopback queue) until it is quiet;
 * nothing may reach the outbox. */
static void settle(struct synack_stack *st, uint64_t *now)
{
	for (int i = 0; i < 1000; i++) {
		CHECK_EQ(synack_output_pending(st), 0);
		uint64_t d = synack_next_deadline(st);
		if (d > *now + 1000000)
			return;
		if (d > *now)
			*now = d;
		synack_advance(st, *now);
	}
	CHECK(!"the loopback did not settle");
}

/* A connection to each of our IPv6 addresses, through a listener on ::
 * with and without IPV6_V6ONLY: carried inside, from the same address
 * (RFC 6724 rule 1), the IPv4 address refused by the IPV6_V6ONLY one. */
static void connections_to_our_own_ipv6_addresses(void)
{
	static const char *const ours[] = {"2001:db8:1::2", "fe80::2", "2001:db8:2::2"};
	for (int v6only = 0; v6only <= 1; v6only++) {
		struct synack_stack *st = new_stack("2001:db8:1::2");
		struct synack_prefix ll = pfx6("fe80::2/64"), g2 = pfx6("2001:db8:2::2/64");
		CHECK_EQ(synack_addr_add(st, &ll), 0);
		CHECK_EQ(synack_addr_add(st, &g2), 0);
		uint64_t now = 0;
		int l = synack_socket(st);
		struct synack_endpoint any = ep6("::", 80), from, name;
		CHECK_EQ(synack_setsockopt(st, l, SYNACK_IPV6_V6ONLY, v6only), 0);
		CHECK_EQ(synack_bind(st, l, &any), 0);
		CHECK_EQ(synack_listen(st, l, 8), 0);
		for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
			int c = synack_socket(st);
			struct synack_endpoint peer = ep6(ours[i], 80);
			CHECK_EQ(synack_connect(st, c, &peer), -EINPROGRESS);
			settle(st, &now);
			int a = synack_accept(st, l, &from);
			CHECK(a >= 0);
			CHECK(is6(from.addr6, ours[i]));
			CHECK_EQ(synack_getsockname(st, a, &name), 0);
			CHECK(is6(name.addr6, ours[i]));
			CHECK_EQ(synack_send(st, c, "hi", 2), 2);
			settle(st, &now);
			char buf[8];
			CHECK_EQ(synack_recv(st, a, buf, sizeof buf, 0), 2);
		}
		int c = synack_socket(st);
		struct synack_endpoint v4 = {.addr = A4, .port = 80};
		CHECK_EQ(synack_connect(st, c, &v4), -EINPROGRESS);
		settle(st, &now);
		CHECK_EQ(synack_socket_error(st, c), v6only ? -ECONNREFUSED : 0);
		synack_stack_free(st);
	}
}

static void settings6_are_checked(void)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = A4;
	CHECK_EQ(cfg.prefix_len6, 0);
	cfg.prefix_len6 = 129;
	char err[160];
	CHECK_EQ(synack_config_check(&cfg, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "prefix_len6") != NULL);
	cfg.prefix_len6 = 128;
	CHECK_EQ(synack_config_check(&cfg, err, sizeof err), 0);
}

int main(void)
{
	RUN(prefixes6_parse_and_print);
	RUN(addresses6_added_listed_and_refused);
	RUN(routes6_longest_match_and_source_selection);
	RUN(connect6_takes_the_source_and_next_hop);
	RUN(connections_to_our_own_ipv6_addresses);
	RUN(settings6_are_checked);
	return check_summary("test_route6");
}
