/*
 * Addresses and routes (issue 17 item 1) and the stack's own addresses
 * (item 4): prefixes parsed and printed; the table's edits and their
 * errors; longest-prefix match; the source a connection takes and the next
 * hop its datagrams carry; segments to every address accepted; a reset
 * to an unroutable source dropped and counted; and connections to our own
 * addresses (and 127.0.0.1) carried inside the stack, both ends traced,
 * never reaching the outbox.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synack/sim.h"
#include "synack/synack.h"
#include "wire/wire.h"

#define A1 0x0a070002u /* 10.7.0.2, cfg.addr on 10.7.0.0/24 */
#define A2 0x0a090005u /* 10.9.0.5, a second address on 10.9.0.0/16 */
#define GW 0x0a070001u /* 10.7.0.1 */

static struct synack_prefix pfx(uint32_t addr, uint8_t len)
{
	return (struct synack_prefix){.addr = addr, .family = SYNACK_AF_INET, .len = len};
}

static struct synack_endpoint ep(uint32_t addr, uint16_t port)
{
	return (struct synack_endpoint){.addr = addr, .port = port};
}

static struct synack_stack *new_stack(uint32_t prefix_len)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = A1;
	cfg.prefix_len = prefix_len;
	cfg.max_routes = 8;
	struct synack_stack *st = synack_stack_new(&cfg, NULL);
	CHECK(st != NULL);
	return st;
}

static uint64_t counter(struct synack_stack *st, const char *name)
{
	struct synack_stats s;
	synack_stats(st, &s);
	for (size_t i = 0; synack_counter_name(i); i++)
		if (strcmp(synack_counter_name(i), name) == 0)
			return synack_counter_value(&s, i);
	CHECK(!"no such counter");
	return 0;
}

static uint64_t drops(struct synack_stack *st, int reason)
{
	struct synack_stats s;
	synack_stats(st, &s);
	return s.drops[reason];
}

static uint32_t ip_src(const uint8_t *d)
{
	return (uint32_t)d[12] << 24 | (uint32_t)d[13] << 16 | (uint32_t)d[14] << 8 | d[15];
}

static uint32_t ip_dst(const uint8_t *d)
{
	return (uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 | (uint32_t)d[18] << 8 | d[19];
}

/* A TCP segment from src:sport to dst:dport in an IPv4 datagram. */
static size_t segment(uint8_t *buf, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                      uint8_t flags)
{
	struct wire_tcp_out seg;
	memset(&seg, 0, sizeof(seg));
	seg.saddr = addr_v4(src);
	seg.daddr = addr_v4(dst);
	seg.sport = sport;
	seg.dport = dport;
	seg.seq = 1000;
	seg.flags = flags;
	seg.wnd = 65535;
	size_t n = wire_tcp_emit(buf + WIRE_IP4_HDR_LEN, 1500, &seg, NULL, 0);
	wire_ip4_emit(buf, src, dst, WIRE_IPPROTO_TCP, 64, 1, n);
	return n + WIRE_IP4_HDR_LEN;
}

static void prefixes_parse_and_print(void)
{
	struct synack_prefix p;
	char buf[32];
	CHECK_EQ(synack_prefix_parse("10.7.0.2/24", &p), 0);
	CHECK_EQ(p.addr, A1);
	CHECK_EQ(p.len, 24);
	CHECK_STR(synack_prefix_str(&p, buf, sizeof buf), "10.7.0.2/24");
	CHECK_EQ(synack_prefix_parse("10.7.0.2", &p), 0);
	CHECK_EQ(p.len, 32);
	CHECK_EQ(synack_prefix_parse("default", &p), 0);
	CHECK_EQ(p.addr, 0);
	CHECK_EQ(p.len, 0);
	CHECK_STR(synack_prefix_str(&p, buf, sizeof buf), "default");
	CHECK_EQ(synack_prefix_parse("0.0.0.0/0", &p), 0);
	CHECK_STR(synack_prefix_str(&p, buf, sizeof buf), "default");
	static const char *const bad[] = {
	    "",           "10.7.0",      "10.7.0.256/24", "10.7.0.2/33",
	    "10.7.0.2/",  "10.7.0.2/2x", "10.7.0.2 /24",  "1.2.3.4.5",
	    "10.07.0.2x", "/24",         "0010.7.0.2"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (synack_prefix_parse(bad[i], &p) != -EINVAL)
			check_fail(__FILE__, __LINE__, "'%s' parsed", bad[i]);
	CHECK_EQ(synack_prefix_parse("2001:db8::/32", &p), 0); /* test_route6 */
	CHECK_EQ(p.family, SYNACK_AF_INET6);
	CHECK_EQ(synack_prefix_parse(NULL, &p), -EINVAL);
}

static void table_edits_and_longest_prefix_match(void)
{
	struct synack_stack *st = new_stack(24);
	struct synack_route r[8];
	struct synack_prefix a = pfx(A2, 16);

	/* cfg.addr and its connected route. */
	CHECK_EQ(synack_routes(st, r, 8), 1);
	CHECK_EQ(r[0].kind, SYNACK_ROUTE_CONNECTED);
	CHECK_EQ(r[0].dst.addr, 0x0a070000u);
	CHECK_EQ(r[0].dst.len, 24);
	CHECK_EQ(r[0].src.addr, A1);

	/* A second address brings its prefix; errors. */
	CHECK_EQ(synack_addr_add(st, &a), 0);
	CHECK_EQ(synack_addr_add(st, &a), -EEXIST);
	struct synack_prefix bad = pfx(0xe0000001u, 24);
	CHECK_EQ(synack_addr_add(st, &bad), -EINVAL);
	bad = pfx(0x7f000001u, 8);
	CHECK_EQ(synack_addr_add(st, &bad), -EINVAL);
	bad = pfx(A2, 33);
	CHECK_EQ(synack_addr_add(st, &bad), -EINVAL);
	bad.family = 7;
	CHECK_EQ(synack_addr_add(st, &bad), -EINVAL);
	struct synack_prefix as[4];
	CHECK_EQ(synack_addrs(st, as, 4), 2);
	CHECK_EQ(as[0].addr, A1);
	CHECK_EQ(as[1].addr, A2);
	CHECK_EQ(as[1].len, 16);

	/* Routes: gateways on a connected prefix only. */
	struct synack_prefix def = pfx(0, 0), net192 = pfx(0xc0a80000u, 16),
	                     net192_1 = pfx(0xc0a80100u, 24), far = pfx(0xac100000u, 12);
	struct synack_endpoint gw = ep(GW, 0), gw2 = ep(0x0a090001u, 0), off = ep(0xac100001u, 0);
	CHECK_EQ(synack_route_add(st, &def, &gw), 0);
	CHECK_EQ(synack_route_add(st, &def, &gw), -EEXIST);
	CHECK_EQ(synack_route_add(st, &net192, &gw2), 0);
	CHECK_EQ(synack_route_add(st, &far, &off), -ENETUNREACH);
	struct synack_prefix hostbits = pfx(0xc0a80101u, 24);
	CHECK_EQ(synack_route_add(st, &hostbits, &gw), -EINVAL);
	struct synack_endpoint bcast = ep(0xffffffffu, 0);
	CHECK_EQ(synack_route_add(st, &far, &bcast), -EINVAL);

	/* Longest prefix first. */
	size_t n = synack_routes(st, r, 8);
	CHECK_EQ(n, 4);
	CHECK_EQ(r[0].dst.len, 24);
	CHECK_EQ(r[1].dst.len, 16);
	CHECK_EQ(r[2].dst.len, 16);
	CHECK_EQ(r[3].dst.len, 0);
	CHECK_EQ(r[3].kind, SYNACK_ROUTE_GATEWAY);
	CHECK_EQ(r[3].via.addr, GW);

	struct synack_route got;
	struct synack_endpoint d = ep(0xc0a80101u, 80);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.dst.len, 16);
	CHECK_EQ(got.via.addr, 0x0a090001u);
	CHECK_EQ(got.src.addr, A2); /* the address on the gateway's prefix */
	/* A longer prefix takes over, and gives way when deleted. */
	CHECK_EQ(synack_route_add(st, &net192_1, &gw), 0);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.dst.len, 24);
	CHECK_EQ(got.via.addr, GW);
	CHECK_EQ(got.src.addr, A1);
	CHECK_EQ(synack_route_del(st, &net192_1), 0);
	CHECK_EQ(synack_route_del(st, &net192_1), -ESRCH);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.dst.len, 16);

	d = ep(0x08080808u, 53);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.kind, SYNACK_ROUTE_GATEWAY);
	CHECK_EQ(got.via.addr, GW);
	CHECK_EQ(got.src.addr, A1);
	d = ep(0x0a070009u, 80);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.kind, SYNACK_ROUTE_CONNECTED);
	d = ep(A2, 80); /* ours: local */
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.kind, 0);
	CHECK_EQ(got.src.addr, A2);
	d = ep(0x7f000005u, 80);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.src.addr, 0x7f000001u);
	d = ep(0x0a0700ffu, 80); /* 10.7.0.0/24's broadcast */
	CHECK_EQ(synack_route_get(st, &d, &got), -ENETUNREACH);

	/* Bounded: max_routes 8. */
	int added = 0, rc;
	for (uint32_t k = 1;
	     (rc = synack_route_add(st, &(struct synack_prefix){.addr = k << 24, .len = 8}, &gw)) ==
	     0;
	     k++)
		added++;
	CHECK_EQ(rc, -ENOSPC);
	CHECK_EQ(added, 4);

	/* Addresses: cfg.addr stays; another goes with its route. */
	struct synack_prefix a1 = pfx(A1, 24);
	CHECK_EQ(synack_addr_del(st, &a1), -EBUSY);
	struct synack_prefix wrong = pfx(A2, 24);
	CHECK_EQ(synack_addr_del(st, &wrong), -EADDRNOTAVAIL);
	CHECK_EQ(synack_addr_del(st, &a), 0);
	CHECK_EQ(synack_addrs(st, NULL, 0), 1);
	d = ep(0x0a090101u, 80);
	CHECK_EQ(synack_route_get(st, &d, &got), 0);
	CHECK_EQ(got.kind, SYNACK_ROUTE_GATEWAY); /* by default now */
	CHECK_EQ(synack_route_del(st, &def), 0);
	CHECK_EQ(synack_route_get(st, &d, &got), -ENETUNREACH);
	synack_stack_free(st);
}

/* Connects s to dst and returns the SYN's datagram (its source, its next
 * hop in *hop). */
static ssize_t syn_of(struct synack_stack *st, uint32_t dst, uint8_t *buf,
                      struct synack_endpoint *hop)
{
	int s = synack_socket(st);
	struct synack_endpoint peer = ep(dst, 80);
	CHECK_EQ(synack_connect(st, s, &peer), -EINPROGRESS);
	return synack_output_via(st, buf, 1600, hop);
}

static void connect_takes_the_route_source_and_next_hop(void)
{
	struct synack_stack *st = new_stack(24);
	struct synack_prefix a = pfx(A2, 16), def = pfx(0, 0);
	struct synack_endpoint gw = ep(GW, 0), hop;
	uint8_t d[1600];
	CHECK_EQ(synack_addr_add(st, &a), 0);

	/* No route: refused at once, nothing sent. */
	int s = synack_socket(st);
	struct synack_endpoint far = ep(0xc0a80101u, 80);
	CHECK_EQ(synack_connect(st, s, &far), -ENETUNREACH);
	struct synack_endpoint bcast = ep(0x0a0700ffu, 80);
	CHECK_EQ(synack_connect(st, s, &bcast), -ENETUNREACH);
	CHECK_EQ(synack_output_pending(st), 0);

	/* On-link: the address on that prefix, the destination as next hop. */
	CHECK(syn_of(st, 0x0a090303u, d, &hop) > 0);
	CHECK_EQ(ip_src(d), A2);
	CHECK_EQ(hop.addr, 0x0a090303u);
	CHECK(syn_of(st, 0x0a070009u, d, &hop) > 0);
	CHECK_EQ(ip_src(d), A1);
	CHECK_EQ(hop.addr, 0x0a070009u);

	/* Through the gateway: its prefix's address, the gateway next. */
	CHECK_EQ(synack_route_add(st, &def, &gw), 0);
	CHECK(syn_of(st, 0xc0a80101u, d, &hop) > 0);
	CHECK_EQ(ip_src(d), A1);
	CHECK_EQ(ip_dst(d), 0xc0a80101u);
	CHECK_EQ(hop.addr, GW);

	/* bind() to an address of ours wins over the route's; others are
	 * not ours. */
	s = synack_socket(st);
	struct synack_endpoint local = ep(A2, 0);
	CHECK_EQ(synack_bind(st, s, &local), 0);
	struct synack_endpoint peer = ep(0xc0a80102u, 80);
	CHECK_EQ(synack_connect(st, s, &peer), -EINPROGRESS);
	CHECK(synack_output_via(st, d, sizeof d, &hop) > 0);
	CHECK_EQ(ip_src(d), A2);
	CHECK_EQ(hop.addr, GW);
	struct synack_endpoint name;
	CHECK_EQ(synack_getsockname(st, s, &name), 0);
	CHECK_EQ(name.addr, A2);
	s = synack_socket(st);
	local = ep(0x0a630001u, 0);
	CHECK_EQ(synack_bind(st, s, &local), -EADDRNOTAVAIL);
	local = ep(0x7f000001u, 0);
	CHECK_EQ(synack_bind(st, s, &local), 0);
	synack_stack_free(st);
}

static void a_gateway_that_does_not_resolve_fails_its_connections(void)
{
	/* The link gives up on the gateway (its ARP went unanswered): the
	 * connections routed through it fail as for an on-link host, those
	 * elsewhere do not (RFC 1122 4.2.3.9, as Linux's neighbour). */
	struct synack_stack *st = new_stack(24);
	struct synack_prefix def = pfx(0, 0);
	struct synack_endpoint gw = ep(GW, 0);
	CHECK_EQ(synack_route_add(st, &def, &gw), 0);
	int far = synack_socket(st), near = synack_socket(st);
	struct synack_endpoint f = ep(0xc0a80101u, 80), n = ep(0x0a070009u, 80);
	CHECK_EQ(synack_connect(st, far, &f), -EINPROGRESS);
	CHECK_EQ(synack_connect(st, near, &n), -EINPROGRESS);
	CHECK_EQ(synack_unreachable(st, 0, &gw, -EHOSTUNREACH), 1);
	CHECK_EQ(synack_socket_error(st, far), -EHOSTUNREACH);
	CHECK_EQ(synack_socket_error(st, near), 0);
	synack_stack_free(st);
}

static void segments_to_every_address_and_unroutable_resets(void)
{
	struct synack_stack *st = new_stack(24);
	struct synack_prefix a = pfx(A2, 16);
	CHECK_EQ(synack_addr_add(st, &a), 0);
	int l = synack_socket(st);
	struct synack_endpoint any = ep(0, 80);
	CHECK_EQ(synack_bind(st, l, &any), 0);
	CHECK_EQ(synack_listen(st, l, 4), 0);

	uint8_t d[1600];
	struct synack_endpoint hop;
	/* A SYN to the second address: answered from it. */
	size_t n = segment(d, 0x0a090202u, 4000, A2, 80, SYNACK_TH_SYN);
	CHECK_EQ(synack_input(st, 0, d, n), 0);
	CHECK(synack_output_via(st, d, sizeof d, &hop) > 0);
	CHECK_EQ(ip_src(d), A2);
	CHECK_EQ(d[33] & (SYNACK_TH_SYN | SYNACK_TH_ACK), SYNACK_TH_SYN | SYNACK_TH_ACK);
	CHECK_EQ(hop.addr, 0x0a090202u);

	/* Not ours: dropped. */
	n = segment(d, 0x0a090202u, 4000, 0x0a0a0001u, 80, SYNACK_TH_SYN);
	CHECK_EQ(synack_input(st, 0, d, n), SYNACK_DROP_IP_NOT_FOR_US);
	/* 127.0.0.1 from the link: a martian, not ours. */
	n = segment(d, 0x0a070009u, 4000, 0x7f000001u, 80, SYNACK_TH_SYN);
	CHECK_EQ(synack_input(st, 0, d, n), SYNACK_DROP_IP_NOT_FOR_US);
	/* Our own address as the source, from the link: a martian too. */
	n = segment(d, A2, 4000, A1, 80, SYNACK_TH_SYN);
	CHECK_EQ(synack_input(st, 0, d, n), SYNACK_DROP_IP_BAD_SRC);
	n = segment(d, 0x7f000001u, 4000, A1, 80, SYNACK_TH_SYN);
	CHECK_EQ(synack_input(st, 0, d, n), SYNACK_DROP_IP_BAD_SRC);
	CHECK_EQ(synack_output_pending(st), 0);

	/* A SYN to a closed port from a source we have no route back to:
	 * the reset is dropped (no_route), counted. */
	n = segment(d, 0xc0a80707u, 4000, A1, 81, SYNACK_TH_SYN);
	CHECK_EQ(synack_input(st, 0, d, n), SYNACK_DROP_NO_SOCKET);
	CHECK_EQ(synack_output_pending(st), 0);
	CHECK_EQ_U64(counter(st, "IpOutNoRoutes"), 1);
	CHECK_EQ_U64(drops(st, SYNACK_DROP_NO_ROUTE), 1);
	CHECK_STR(synack_drop_name(SYNACK_DROP_NO_ROUTE), "no_route");
	synack_stack_free(st);
}

/* Runs the stack's own loopback until it is quiet (bounded), checking
 * that nothing reaches the outbox. */
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

struct trace_count {
	unsigned tx, rx, syn_tx, syn_rx;
};

static struct trace_count count_trace(struct synack_stack *st)
{
	struct trace_count c = {0};
	struct synack_trace tr[64];
	size_t n;
	while ((n = synack_trace_read(st, tr, 64)) > 0)
		for (size_t i = 0; i < n; i++) {
			if (tr[i].kind == SYNACK_TRACE_TX) {
				c.tx++;
				c.syn_tx += (tr[i].flags & SYNACK_TH_SYN) != 0;
			} else if (tr[i].kind == SYNACK_TRACE_RX) {
				c.rx++;
				c.syn_rx += (tr[i].flags & SYNACK_TH_SYN) != 0;
			}
		}
	return c;
}

static void loopback_connection(uint32_t dst, uint32_t expect_src)
{
	struct synack_stack *st = new_stack(24);
	uint64_t now = 0;
	int l = synack_socket(st);
	struct synack_endpoint any = ep(0, 80);
	CHECK_EQ(synack_bind(st, l, &any), 0);
	CHECK_EQ(synack_listen(st, l, 4), 0);
	int c = synack_socket(st);
	struct synack_endpoint peer = ep(dst, 80), from;
	CHECK_EQ(synack_connect(st, c, &peer), -EINPROGRESS);
	CHECK_EQ(synack_next_deadline(st), now); /* the SYN waits in the loopback */
	settle(st, &now);
	int a = synack_accept(st, l, &from);
	CHECK(a >= 0);
	CHECK_EQ(from.addr, expect_src);
	struct synack_endpoint name;
	CHECK_EQ(synack_getsockname(st, c, &name), 0);
	CHECK_EQ(name.addr, expect_src);
	CHECK_EQ(synack_getsockname(st, a, &name), 0);
	CHECK_EQ(name.addr, dst);
	CHECK_EQ(name.port, 80);

	/* Data both ways. */
	char buf[16];
	CHECK_EQ(synack_send(st, c, "ping", 4), 4);
	settle(st, &now);
	CHECK_EQ(synack_recv(st, a, buf, sizeof buf, 0), 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	CHECK_EQ(synack_send(st, a, "pong!", 5), 5);
	settle(st, &now);
	CHECK_EQ(synack_recv(st, c, buf, sizeof buf, 0), 5);
	CHECK(memcmp(buf, "pong!", 5) == 0);

	/* Close: the client first (it keeps TIME_WAIT), then the server. */
	CHECK_EQ(synack_close(st, c), 0);
	settle(st, &now);
	CHECK_EQ(synack_recv(st, a, buf, sizeof buf, 0), 0);
	CHECK_EQ(synack_close(st, a), 0);
	settle(st, &now);
	struct synack_stats s;
	synack_stats(st, &s);
	CHECK_EQ_U64(s.time_wait_live, 1);
	CHECK_EQ_U64(s.conns_live, 1); /* the listener */
	CHECK_EQ_U64(counter(st, "ActiveOpens"), 1);
	CHECK_EQ_U64(counter(st, "PassiveOpens"), 1);
	/* Both ends traced: every segment sent was received, the SYN and
	 * the SYN-ACK among them. */
	struct trace_count t = count_trace(st);
	CHECK(t.tx >= 8);
	CHECK_EQ(t.tx, t.rx);
	CHECK_EQ(t.syn_tx, 2);
	CHECK_EQ(t.syn_rx, 2);
	synack_stack_free(st);
}

static void connect_to_own_address_carried_inside(void)
{
	loopback_connection(A1, A1);
}

static void connect_to_127_0_0_1_carried_inside(void)
{
	loopback_connection(0x7f000001u, 0x7f000001u);
}

static void own_address_closed_port_is_refused(void)
{
	struct synack_stack *st = new_stack(24);
	uint64_t now = 0;
	int c = synack_socket(st);
	struct synack_endpoint peer = ep(A1, 9);
	CHECK_EQ(synack_connect(st, c, &peer), -EINPROGRESS);
	settle(st, &now);
	CHECK_EQ(synack_socket_error(st, c), -ECONNREFUSED);
	CHECK_EQ(now, 0); /* at once: no timer ran */
	synack_stack_free(st);
}

static void loopback_in_the_simulator(void)
{
	/* Two hosts; B connects to itself and to A.  Its own connection never
	 * crosses the network (the counters of B -> A stay at the one
	 * connection to A), and a few microseconds of simulated time carry
	 * the handshake: each step delivers what the last one queued. */
	struct synack_sim *sim = synack_sim_new(1);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = A1;
	struct synack_stack *a = synack_stack_new(&cfg, NULL);
	cfg.addr = GW;
	struct synack_stack *b = synack_stack_new(&cfg, NULL);
	CHECK_EQ(synack_sim_add_host(sim, a, "a"), 0);
	CHECK_EQ(synack_sim_add_host(sim, b, "b"), 1);
	int la = synack_socket(a), lb = synack_socket(b);
	struct synack_endpoint any = ep(0, 80);
	CHECK_EQ(synack_bind(a, la, &any), 0);
	CHECK_EQ(synack_listen(a, la, 4), 0);
	CHECK_EQ(synack_bind(b, lb, &any), 0);
	CHECK_EQ(synack_listen(b, lb, 4), 0);
	int self = synack_socket(b), other = synack_socket(b);
	struct synack_endpoint me = ep(GW, 80), them = ep(A1, 80);
	CHECK_EQ(synack_connect(b, self, &me), -EINPROGRESS);
	CHECK_EQ(synack_connect(b, other, &them), -EINPROGRESS);
	synack_sim_run_until(sim, 10000);
	CHECK(synack_accept(b, lb, NULL) >= 0);
	CHECK(synack_accept(a, la, NULL) >= 0);
	CHECK(synack_events(b, self) & SYNACK_POLLOUT);
	CHECK(synack_events(b, other) & SYNACK_POLLOUT);
	struct synack_sim_counters c;
	synack_sim_counters(sim, 1, 0, &c);
	CHECK_EQ_U64(c.sent, 2); /* SYN, ACK: to A only */
	synack_sim_free(sim);
	synack_stack_free(a);
	synack_stack_free(b);
}

static void a_config_with_one_address_reaches_everything(void)
{
	/* prefix_len 0 (the default): every destination is on-link, as
	 * before routing existed; the next hop is the destination. */
	struct synack_stack *st = new_stack(0);
	uint8_t d[1600];
	struct synack_endpoint hop;
	CHECK(syn_of(st, 0x5a5a5a5au, d, &hop) > 0);
	CHECK_EQ(hop.addr, 0x5a5a5a5au);
	CHECK_EQ(ip_src(d), A1);
	/* A default route added later wins over that connected /0. */
	struct synack_prefix def = pfx(0, 0);
	struct synack_endpoint gw = ep(GW, 0);
	CHECK_EQ(synack_route_add(st, &def, &gw), 0);
	CHECK(syn_of(st, 0x5a5a5a5bu, d, &hop) > 0);
	CHECK_EQ(hop.addr, GW);
	synack_stack_free(st);
}

static void settings_are_checked(void)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = A1;
	char err[160];
	cfg.prefix_len = 33;
	CHECK_EQ(synack_config_check(&cfg, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "prefix_len") != NULL);
	cfg.prefix_len = 24;
	cfg.max_addrs = 0;
	CHECK_EQ(synack_config_check(&cfg, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "max_addrs") != NULL);
	cfg.max_addrs = 1;
	cfg.max_routes = 0;
	CHECK_EQ(synack_config_check(&cfg, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "max_routes") != NULL);
	cfg.max_routes = 1;
	CHECK_EQ(synack_config_check(&cfg, err, sizeof err), 0);
	struct synack_stack *st = synack_stack_new(&cfg, NULL);
	struct synack_prefix a = pfx(A2, 16);
	CHECK_EQ(synack_addr_add(st, &a), -ENOSPC); /* max_addrs 1 */
	synack_stack_free(st);
}

int main(void)
{
	RUN(prefixes_parse_and_print);
	RUN(table_edits_and_longest_prefix_match);
	RUN(connect_takes_the_route_source_and_next_hop);
	RUN(a_gateway_that_does_not_resolve_fails_its_connections);
	RUN(segments_to_every_address_and_unroutable_resets);
	RUN(connect_to_own_address_carried_inside);
	RUN(connect_to_127_0_0_1_carried_inside);
	RUN(own_address_closed_port_is_refused);
	RUN(loopback_in_the_simulator);
	RUN(a_config_with_one_address_reaches_everything);
	RUN(settings_are_checked);
	return check_summary("test_route");
}
