/*
 * IPv6 (issue 14): the wire formats (RFC 8200 header and extension
 * headers, RFC 4443 ICMPv6), the text of addresses (RFC 4291 2.2, RFC
 * 5952), the network layer's answers (echo, Parameter Problem, Packet Too
 * Big, Destination Unreachable) and TCP between two stacks over IPv6 in
 * the simulator.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "synack/sim.h"
#include "synack/synack.h"
#include "wire/wire6.h"

/* 2001:db8::1 (us) and 2001:db8::2 (the peer), RFC 3849's documentation prefix. */
static const uint8_t US6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t PEER6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static struct synack_stack *stack6(uint32_t addr, const uint8_t addr6[16])
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = addr;
	memcpy(cfg.addr6, addr6, 16);
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)(3 * i + 5);
	int err = 0;
	struct synack_stack *st = synack_stack_new(&cfg, &err);
	CHECK(st != NULL);
	CHECK_EQ(err, 0);
	return st;
}

static struct synack_endpoint ep6(const uint8_t a[16], uint16_t port)
{
	struct synack_endpoint e;
	memset(&e, 0, sizeof(e));
	e.family = SYNACK_AF_INET6;
	memcpy(e.addr6, a, 16);
	e.port = port;
	return e;
}

/* ------------------------------------------------------------------ */
/* Text.                                                               */

static void check_roundtrip(const char *in, const char *want)
{
	struct synack_endpoint e;
	char buf[64];
	CHECK_EQ(synack_endpoint_parse(in, &e), 0);
	CHECK_EQ(e.family, SYNACK_AF_INET6);
	CHECK_STR(synack_endpoint_str(&e, buf, sizeof(buf)), want);
}

static void endpoints_parse_and_print_rfc5952(void)
{
	check_roundtrip("[2001:db8::1]:80", "[2001:db8::1]:80");
	/* RFC 5952 4.1 leading zeros, 4.3 lower case, 4.2.1 the longest run. */
	check_roundtrip("[2001:0DB8:0000:0000:0000:0000:0000:0001]:443", "[2001:db8::1]:443");
	check_roundtrip("[2001:db8:0:0:1:0:0:1]:1", "[2001:db8::1:0:0:1]:1");
	/* 4.2.3: the first of two equal runs. */
	check_roundtrip("[2001:db8:0:0:1:0:0:1]", "[2001:db8::1:0:0:1]:0");
	check_roundtrip("[2001:0:0:1:0:0:0:1]:2", "[2001:0:0:1::1]:2");
	/* 4.2.2: one zero group is not "::". */
	check_roundtrip("[2001:db8:0:1:1:1:1:1]:3", "[2001:db8:0:1:1:1:1:1]:3");
	check_roundtrip("[::]:80", "[::]:80");
	check_roundtrip("[::1]:80", "[::1]:80");
	check_roundtrip("[fe80::]:80", "[fe80::]:80");
	check_roundtrip("2001:db8::7", "[2001:db8::7]:0");
	/* RFC 4291 2.2 form 3 in, RFC 5952 5 out. */
	check_roundtrip("[::ffff:10.0.0.1]:80", "[::ffff:10.0.0.1]:80");
	check_roundtrip("[64:ff9b::1.2.3.4]:5", "[64:ff9b::102:304]:5");

	const char *bad[] = {"[2001:db8::1",
	                     "[2001:db8::1]:",
	                     "[2001:db8::1]:65536",
	                     "[2001:db8::1]x",
	                     "[1:2:3:4:5:6:7:8:9]:1",
	                     "[1::2::3]:1",
	                     "[12345::]:1",
	                     "[:1]:1",
	                     "[1:]:1",
	                     "[1:2:3:4:5:6:7]:1",
	                     "[::1.2.3]:1",
	                     "[::1.2.3.256]:1",
	                     "[g::]:1",
	                     "[]:1",
	                     "[::1]:-1",
	                     "[::1]: 1",
	                     "[::1.2.3.4:5]:1",
	                     ":::"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct synack_endpoint e;
		if (synack_endpoint_parse(bad[i], &e) != -EINVAL)
			fprintf(stderr, "accepted %s\n", bad[i]);
		CHECK_EQ(synack_endpoint_parse(bad[i], &e), -EINVAL);
	}
	/* IPv4 stays as it was. */
	struct synack_endpoint e;
	char buf[64];
	CHECK_EQ(synack_endpoint_parse("10.0.0.1:80", &e), 0);
	CHECK_EQ(e.family, SYNACK_AF_INET);
	CHECK_STR(synack_endpoint_str(&e, buf, sizeof(buf)), "10.0.0.1:80");
	/* The longest form fits the documented 48 bytes. */
	check_roundtrip("[1111:2222:3333:4444:5555:6666:7777:8888]:65535",
	                "[1111:2222:3333:4444:5555:6666:7777:8888]:65535");
	CHECK_EQ(strlen("[1111:2222:3333:4444:5555:6666:7777:8888]:65535") + 1, 48);
}

/* ------------------------------------------------------------------ */
/* The wire: header and extension headers.                             */

/* A datagram from PEER6 to US6: the fixed header with next header nh,
 * then ext (elen bytes), then a TCP-sized payload of 20 zero bytes. */
static size_t build6(uint8_t *buf, uint8_t nh, const uint8_t *ext, size_t elen, uint8_t hop)
{
	struct addr s = wire_addr6_from_bytes(PEER6), d = wire_addr6_from_bytes(US6);
	wire_ip6_emit(buf, &s, &d, nh, hop, 0x12345, elen + 20, WIRE_ECN_ECT0);
	if (elen)
		memcpy(buf + 40, ext, elen);
	memset(buf + 40 + elen, 0, 20);
	return 40 + elen + 20;
}

static void ip6_header_parses(void)
{
	uint8_t p[256];
	struct wire_ip6 ip;
	size_t n = build6(p, WIRE_IPPROTO_TCP, NULL, 0, 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.proto, WIRE_IPPROTO_TCP);
	CHECK_EQ(ip.flow, 0x12345);
	CHECK_EQ(ip.tclass & 3, WIRE_ECN_ECT0);
	CHECK_EQ(ip.hop_limit, 64);
	CHECK_EQ(ip.payload_len_up, 20);
	CHECK(ip.payload == p + 40);
	/* Link padding past the payload length is not part of it. */
	CHECK_EQ(wire_ip6_parse(p, n + 6, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.payload_len_up, 20);
	/* Truncated: below the fixed header, or below the payload length. */
	CHECK_EQ(wire_ip6_parse(p, 39, &ip), SYNACK_DROP_IP_TRUNCATED);
	CHECK_EQ(wire_ip6_parse(p, n - 1, &ip), SYNACK_DROP_IP_TRUNCATED);
	p[4] = 0xff; /* a payload length past the datagram */
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP_TRUNCATED);
	n = build6(p, WIRE_IPPROTO_TCP, NULL, 0, 0);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_HOP_LIMIT);
	p[0] = 0x45;
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP_BAD_VERSION);
}

static void ip6_extension_headers_walk(void)
{
	uint8_t p[512];
	struct wire_ip6 ip;
	size_t n;

	/* Hop-by-hop first, then destination options, then TCP: each 8
	 * bytes, padded with PadN. */
	uint8_t chain[] = {WIRE_IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0,
	                   WIRE_IPPROTO_TCP,     0, 1, 4, 0, 0, 0, 0};
	n = build6(p, WIRE_IPPROTO_HOPOPTS, chain, sizeof(chain), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.proto, WIRE_IPPROTO_TCP);
	CHECK_EQ(ip.nh_off, 48);
	CHECK_EQ(ip.payload_len_up, 20);

	/* Hop-by-hop after destination options: Parameter Problem code 1
	 * pointing at the Next Header naming it (RFC 8200 4.1). */
	uint8_t late[] = {WIRE_IPPROTO_HOPOPTS, 0, 1, 4, 0, 0, 0, 0,
	                  WIRE_IPPROTO_TCP,     0, 1, 4, 0, 0, 0, 0};
	n = build6(p, WIRE_IPPROTO_DSTOPTS, late, sizeof(late), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_HBH_NOT_FIRST);
	CHECK_EQ(ip.pp, WIRE_ICMP6_PP_NEXT_HEADER + 1);
	CHECK_EQ(ip.pp_ptr, 40);

	/* Unknown options by their two high bits (RFC 8200 4.2). */
	uint8_t opt[] = {WIRE_IPPROTO_TCP, 0, 0x1e, 2, 0, 0, 1, 0};
	n = build6(p, WIRE_IPPROTO_DSTOPTS, opt, sizeof(opt), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_NONE); /* 00: skipped */
	p[42] = 0x5e;                                          /* 01: discard */
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_UNKNOWN_OPTION);
	CHECK_EQ(ip.pp, 0);
	p[42] = 0x9e; /* 10: discard, Parameter Problem code 2 */
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_UNKNOWN_OPTION);
	CHECK_EQ(ip.pp, WIRE_ICMP6_PP_OPTION + 1);
	CHECK_EQ(ip.pp_ptr, 42);
	p[42] = 0xde; /* 11: the same to a unicast destination */
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_UNKNOWN_OPTION);
	CHECK_EQ(ip.pp, WIRE_ICMP6_PP_OPTION + 1);
	p[24] = 0xff; /* ... but not to a multicast one */
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_UNKNOWN_OPTION);
	CHECK_EQ(ip.pp, 0);

	/* An option running past its header; padding of more than 7 bytes
	 * (a "loop" of Pad1). */
	uint8_t past[] = {WIRE_IPPROTO_TCP, 0, 0x1e, 9, 0, 0, 0, 0};
	n = build6(p, WIRE_IPPROTO_DSTOPTS, past, sizeof(past), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_BAD_OPTION);
	uint8_t pads[16] = {WIRE_IPPROTO_TCP, 1};
	n = build6(p, WIRE_IPPROTO_DSTOPTS, pads, sizeof(pads), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_BAD_OPTION);
	uint8_t padn[16] = {WIRE_IPPROTO_TCP, 1, 1, 12};
	n = build6(p, WIRE_IPPROTO_DSTOPTS, padn, sizeof(padn), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_BAD_OPTION);

	/* Routing: Segments Left 0 is skipped whatever the type; with
	 * segments left (type 0 above all, RFC 5095) a Parameter Problem
	 * code 0 points at the type (RFC 8200 4.4). */
	uint8_t rh[] = {WIRE_IPPROTO_TCP, 0, 4, 0, 0, 0, 0, 0};
	n = build6(p, WIRE_IPPROTO_ROUTING, rh, sizeof(rh), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_NONE);
	uint8_t rh0[] = {
	    WIRE_IPPROTO_TCP, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	n = build6(p, WIRE_IPPROTO_ROUTING, rh0, sizeof(rh0), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_ROUTING);
	CHECK_EQ(ip.pp, WIRE_ICMP6_PP_HEADER + 1);
	CHECK_EQ(ip.pp_ptr, 42);

	/* Fragments: an atomic one goes on (RFC 6946), others stop the walk
	 * at their Fragment header for reassembly (test_reasm6). */
	uint8_t frag[] = {WIRE_IPPROTO_TCP, 0, 0, 0, 0, 0, 0, 7};
	n = build6(p, WIRE_IPPROTO_FRAGMENT, frag, sizeof(frag), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.proto, WIRE_IPPROTO_TCP);
	CHECK_EQ(ip.frag_off, 0);
	p[43] = 1; /* M */
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_FRAGMENT);
	CHECK_EQ(ip.frag_off, 40);
	CHECK_EQ(ip.nh_off, 6);
	p[43] = 0;
	p[42] = 1; /* offset 32 */
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_FRAGMENT);
	/* Behind a hop-by-hop header: the unfragmentable part is 48 bytes,
	 * the Next Header naming the Fragment header the hop-by-hop one's. */
	uint8_t hbh_frag[] = {WIRE_IPPROTO_FRAGMENT, 0, 1, 4, 0, 0, 0, 0,
	                      WIRE_IPPROTO_TCP,      0, 0, 9, 0, 0, 0, 7};
	n = build6(p, WIRE_IPPROTO_HOPOPTS, hbh_frag, sizeof(hbh_frag), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_FRAGMENT);
	CHECK_EQ(ip.frag_off, 48);
	CHECK_EQ(ip.nh_off, 40);

	/* A chain running past the payload, and one too long. */
	uint8_t longhdr[] = {WIRE_IPPROTO_TCP, 5, 1, 4, 0, 0, 0, 0};
	n = build6(p, WIRE_IPPROTO_DSTOPTS, longhdr, sizeof(longhdr), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_EXT_TRUNCATED);
	uint8_t many[8 * 9];
	for (int i = 0; i < 9; i++) {
		uint8_t h[8] = {i == 8 ? WIRE_IPPROTO_TCP : WIRE_IPPROTO_DSTOPTS, 0, 1, 4};
		memcpy(many + 8 * i, h, 8);
	}
	n = build6(p, WIRE_IPPROTO_DSTOPTS, many, sizeof(many), 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_IP6_EXT_TOO_MANY);
	n = build6(p, WIRE_IPPROTO_DSTOPTS, many + 8, sizeof(many) - 8, 64);
	CHECK_EQ(wire_ip6_parse(p, n, &ip), SYNACK_DROP_NONE);
	/* An extension header cut short by the payload length itself. */
	n = build6(p, WIRE_IPPROTO_DSTOPTS, NULL, 0, 64);
	wire_put16(p + 4, 4);
	CHECK_EQ(wire_ip6_parse(p, 44, &ip), SYNACK_DROP_IP6_EXT_TRUNCATED);
}

static void icmp6_parses_and_emits(void)
{
	uint8_t m[1400], q[128];
	struct addr a = wire_addr6_from_bytes(US6), b = wire_addr6_from_bytes(PEER6);
	struct wire_icmp6 ic;
	/* An echo request, checksummed over the pseudo-header. */
	uint8_t data[5] = {1, 2, 3, 4, 5};
	size_t n = wire_icmp6_emit(m, sizeof(m), &b, &a, WIRE_ICMP6_ECHO, 0, 0x00070009, data, 5);
	CHECK_EQ(n, 13);
	struct wire_net net = {b, a, m, n, 0};
	CHECK_EQ(wire_icmp6_parse(&net, &ic), SYNACK_DROP_NONE);
	CHECK_EQ(ic.type, WIRE_ICMP6_ECHO);
	CHECK_EQ(ic.id, 7);
	CHECK_EQ(ic.seq, 9);
	CHECK_EQ(ic.data_len, 5);
	CHECK(!ic.is_error);
	/* The pseudo-header counts: the same bytes between other addresses fail. */
	struct addr c = a;
	c.w[3] ^= 0x100;
	struct wire_net other = {b, c, m, n, 0};
	CHECK_EQ(wire_icmp6_parse(&other, &ic), SYNACK_DROP_ICMP_BAD_CHECKSUM);
	net.payload_len = 7;
	CHECK_EQ(wire_icmp6_parse(&net, &ic), SYNACK_DROP_ICMP_TRUNCATED);

	/* An error quoting a TCP segment behind a destination options header. */
	uint8_t ext[] = {WIRE_IPPROTO_TCP, 0, 1, 4, 0, 0, 0, 0};
	size_t qn = build6(q, WIRE_IPPROTO_DSTOPTS, ext, sizeof(ext), 64);
	wire_put16(q + 48, 4321);
	n = wire_icmp6_emit(m, sizeof(m), &b, &a, WIRE_ICMP6_PACKET_TOO_BIG, 0, 1300, q, qn);
	net = (struct wire_net){b, a, m, n, 0};
	CHECK_EQ(wire_icmp6_parse(&net, &ic), SYNACK_DROP_NONE);
	CHECK(ic.is_error);
	CHECK_EQ(ic.rest, 1300);
	CHECK_EQ(ic.quote.proto, WIRE_IPPROTO_TCP);
	CHECK_EQ(wire_get16(ic.quote.l4), 4321);
	CHECK(addr_eq(&ic.quote.src, &b));
	/* Quotes that are no IPv6 header, or stop inside the extensions. */
	n = wire_icmp6_emit(m, sizeof(m), &b, &a, WIRE_ICMP6_DEST_UNREACH, 4, 0, q, 44);
	net.payload_len = n;
	CHECK_EQ(wire_icmp6_parse(&net, &ic), SYNACK_DROP_ICMP_BAD_QUOTE);
	n = wire_icmp6_emit(m, sizeof(m), &b, &a, WIRE_ICMP6_DEST_UNREACH, 4, 0, q, 52);
	net.payload_len = n;
	CHECK_EQ(wire_icmp6_parse(&net, &ic), SYNACK_DROP_ICMP_BAD_QUOTE);
	q[0] = 0x45;
	n = wire_icmp6_emit(m, sizeof(m), &b, &a, WIRE_ICMP6_DEST_UNREACH, 4, 0, q, qn);
	net.payload_len = n;
	CHECK_EQ(wire_icmp6_parse(&net, &ic), SYNACK_DROP_ICMP_BAD_QUOTE);
}

/* ------------------------------------------------------------------ */
/* The network layer, one stack fed by hand.                           */

static size_t out(struct synack_stack *st, uint8_t *buf, size_t cap)
{
	ssize_t n = synack_output(st, buf, cap);
	return n > 0 ? (size_t)n : 0;
}

static void echo_is_answered(void)
{
	struct synack_stack *st = stack6(0x0a000001, US6);
	uint8_t p[1500], r[1500];
	struct addr a = wire_addr6_from_bytes(US6), b = wire_addr6_from_bytes(PEER6);
	uint8_t data[100];
	for (int i = 0; i < 100; i++)
		data[i] = (uint8_t)i;
	size_t n = wire_icmp6_emit(p + 40, sizeof(p) - 40, &b, &a, WIRE_ICMP6_ECHO, 0, 0x12340001,
	                           data, sizeof(data));
	wire_ip6_emit(p, &b, &a, WIRE_IPPROTO_ICMPV6, 64, 0, n, 0);
	CHECK_EQ(synack_input(st, 0, p, 40 + n), 0);
	size_t rn = out(st, r, sizeof(r));
	CHECK_EQ(rn, 40 + n);
	struct wire_ip6 ip;
	CHECK_EQ(wire_ip6_parse(r, rn, &ip), SYNACK_DROP_NONE);
	CHECK(addr_eq(&ip.src, &a));
	CHECK(addr_eq(&ip.dst, &b));
	CHECK_EQ(ip.proto, WIRE_IPPROTO_ICMPV6);
	struct wire_net net = wire_ip6_net(&ip);
	struct wire_icmp6 ic;
	CHECK_EQ(wire_icmp6_parse(&net, &ic), SYNACK_DROP_NONE);
	CHECK_EQ(ic.type, WIRE_ICMP6_ECHO_REPLY);
	CHECK_EQ(ic.rest, 0x12340001);
	CHECK_EQ(ic.data_len, 100);
	CHECK(memcmp(ic.data, data, 100) == 0);
	struct synack_stats s;
	synack_stats(st, &s);
	CHECK_EQ_U64(s.Icmp6InEchos, 1);
	CHECK_EQ_U64(s.Icmp6OutEchoReplies, 1);
	CHECK_EQ_U64(s.Ip6InReceives, 1);
	CHECK_EQ_U64(s.Ip6OutRequests, 1);

	/* Not for us, from a multicast or IPv4-mapped source: dropped, no answer. */
	p[39] = 9;
	CHECK_EQ(synack_input(st, 0, p, 40 + n), SYNACK_DROP_IP_NOT_FOR_US);
	p[39] = 1;
	p[8] = 0xff;
	CHECK_EQ(synack_input(st, 0, p, 40 + n), SYNACK_DROP_IP_BAD_SRC);
	uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
	memcpy(p + 8, mapped, 16);
	CHECK_EQ(synack_input(st, 0, p, 40 + n), SYNACK_DROP_IP_BAD_SRC);
	CHECK_EQ(out(st, r, sizeof(r)), 0);
	synack_stats(st, &s);
	CHECK_EQ_U64(s.Ip6InAddrErrors, 3);
	synack_stack_free(st);

	/* A stack without an IPv6 address takes none of it. */
	uint8_t none[16] = {0};
	st = stack6(0x0a000001, none);
	memcpy(p + 8, PEER6, 16);
	CHECK_EQ(synack_input(st, 0, p, 40 + n), SYNACK_DROP_IP_NOT_FOR_US);
	synack_stack_free(st);
}

/* Hands the stack p (a datagram built by build6, with ext headers) and
 * checks the drop and the Parameter Problem sent back, if any. */
static void expect_problem(struct synack_stack *st, uint8_t *p, size_t n, int reason, int code,
                           uint32_t ptr)
{
	uint8_t r[1500];
	CHECK_EQ(synack_input(st, 0, p, n), reason);
	size_t rn = out(st, r, sizeof(r));
	if (code < 0) {
		CHECK_EQ(rn, 0);
		return;
	}
	struct wire_ip6 ip;
	CHECK_EQ(wire_ip6_parse(r, rn, &ip), SYNACK_DROP_NONE);
	struct wire_net net = wire_ip6_net(&ip);
	struct wire_icmp6 ic;
	CHECK_EQ(wire_icmp6_parse(&net, &ic), SYNACK_DROP_NONE);
	CHECK_EQ(ic.type, WIRE_ICMP6_PARAM_PROBLEM);
	CHECK_EQ(ic.code, code);
	CHECK_EQ(ic.rest, ptr);
	/* The whole offending datagram is quoted (it is short). */
	CHECK_EQ(ic.data_len, n);
	CHECK(memcmp(ic.data, p, n) == 0);
}

static void bad_headers_are_answered_and_counted(void)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	struct synack_stack *st = stack6(0x0a000001, US6);
	uint8_t p[512];
	size_t n;

	/* An unknown upper layer (UDP): code 1 at its Next Header. */
	n = build6(p, 17, NULL, 0, 64);
	expect_problem(st, p, n, SYNACK_DROP_IP_NOT_TCP, WIRE_ICMP6_PP_NEXT_HEADER, 6);
	/* No Next Header: dropped quietly. */
	n = build6(p, WIRE_IPPROTO_NONE, NULL, 0, 64);
	expect_problem(st, p, n, SYNACK_DROP_IP_NOT_TCP, -1, 0);
	/* Routing header type 0 with segments left (RFC 5095). */
	uint8_t rh0[] = {
	    WIRE_IPPROTO_TCP, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	n = build6(p, WIRE_IPPROTO_ROUTING, rh0, sizeof(rh0), 64);
	expect_problem(st, p, n, SYNACK_DROP_IP6_ROUTING, WIRE_ICMP6_PP_HEADER, 42);
	/* An option saying "discard and tell". */
	uint8_t opt[] = {WIRE_IPPROTO_TCP, 0, 0x9e, 2, 0, 0, 1, 0};
	n = build6(p, WIRE_IPPROTO_DSTOPTS, opt, sizeof(opt), 64);
	expect_problem(st, p, n, SYNACK_DROP_IP6_UNKNOWN_OPTION, WIRE_ICMP6_PP_OPTION, 42);
	/* Hop-by-hop not first. */
	uint8_t late[] = {WIRE_IPPROTO_HOPOPTS, 0, 1, 4, 0, 0, 0, 0,
	                  WIRE_IPPROTO_TCP,     0, 1, 4, 0, 0, 0, 0};
	n = build6(p, WIRE_IPPROTO_DSTOPTS, late, sizeof(late), 64);
	expect_problem(st, p, n, SYNACK_DROP_IP6_HBH_NOT_FIRST, WIRE_ICMP6_PP_NEXT_HEADER, 40);
	/* A fragment with more to come whose 20 bytes are no multiple of 8:
	 * code 0 at the Payload Length (RFC 8200 4.5). */
	uint8_t frag[] = {WIRE_IPPROTO_TCP, 0, 0, 1, 0, 0, 0, 7};
	n = build6(p, WIRE_IPPROTO_FRAGMENT, frag, sizeof(frag), 64);
	expect_problem(st, p, n, SYNACK_DROP_FRAG_BAD_LEN, WIRE_ICMP6_PP_HEADER, 4);
	/* Silent drops: hop limit 0, a chain past the end. */
	n = build6(p, WIRE_IPPROTO_TCP, NULL, 0, 0);
	expect_problem(st, p, n, SYNACK_DROP_IP6_HOP_LIMIT, -1, 0);
	uint8_t longhdr[] = {WIRE_IPPROTO_TCP, 5, 1, 4, 0, 0, 0, 0};
	n = build6(p, WIRE_IPPROTO_DSTOPTS, longhdr, sizeof(longhdr), 64);
	expect_problem(st, p, n, SYNACK_DROP_IP6_EXT_TRUNCATED, -1, 0);
	CHECK_EQ(synack_input(st, 0, p, 20), SYNACK_DROP_IP_TRUNCATED);

	struct synack_stats s;
	synack_stats(st, &s);
	CHECK_EQ_U64(s.Ip6InUnknownProtos, 2);
	CHECK_EQ_U64(s.Ip6InHdrErrors, 6);
	CHECK_EQ_U64(s.Ip6ReasmFails, 1);
	CHECK_EQ_U64(s.Icmp6OutParmProblems, 5);
	CHECK_EQ_U64(s.drops[SYNACK_DROP_IP6_ROUTING], 1);
	CHECK_STR(synack_drop_name(SYNACK_DROP_IP6_ROUTING), "ip6_routing");

	/* The errors share ICMPv4's rate limit: the burst of 6 is spent. */
	n = build6(p, 17, NULL, 0, 64);
	expect_problem(st, p, n, SYNACK_DROP_IP_NOT_TCP, WIRE_ICMP6_PP_NEXT_HEADER, 6);
	expect_problem(st, p, n, SYNACK_DROP_IP_NOT_TCP, -1, 0);
	synack_stats(st, &s);
	CHECK_EQ_U64(s.IcmpOutRateLimitGlobal, 1);
	synack_stack_free(st);
}

/* ------------------------------------------------------------------ */
/* TCP over IPv6 between two stacks in the simulator.                  */

struct pair {
	struct synack_sim *sim;
	struct synack_stack *a, *b;
};

static void pair_open(struct pair *n)
{
	n->sim = synack_sim_new(6);
	n->a = stack6(0x0a000001, US6);
	n->b = stack6(0x0a000002, PEER6);
	CHECK_EQ(synack_sim_add_host(n->sim, n->a, "a"), 0);
	CHECK_EQ(synack_sim_add_host(n->sim, n->b, "b"), 1);
	/* Another host with b's IPv6 address is refused. */
	struct synack_stack *dup = stack6(0x0a000003, PEER6);
	CHECK_EQ(synack_sim_add_host(n->sim, dup, "dup"), -EEXIST);
	synack_stack_free(dup);
}

static void pair_close(struct pair *n)
{
	synack_sim_free(n->sim);
	synack_stack_free(n->a);
	synack_stack_free(n->b);
}

/* The first datagram the tap sees, kept for a look at its header. */
struct first {
	uint8_t pkt[128];
	size_t len;
	uint32_t flows[2];
	int nflows, flow_changed;
};

static void tap_first(void *ctx, int event, int from, int to, const uint8_t *pkt, size_t len,
                      uint64_t now)
{
	struct first *f = ctx;
	(void)to;
	(void)now;
	if (event != SYNACK_SIM_SENT || len < 40)
		return;
	if (!f->len) {
		f->len = len < sizeof(f->pkt) ? len : sizeof(f->pkt);
		memcpy(f->pkt, pkt, f->len);
	}
	/* Every datagram of one direction carries the flow's label. */
	uint32_t flow = ((uint32_t)pkt[1] & 15) << 16 | (uint32_t)pkt[2] << 8 | pkt[3];
	if (f->nflows <= from) {
		f->flows[from] = flow;
		f->nflows = from + 1;
	} else if (f->flows[from] != flow) {
		f->flow_changed = 1;
	}
}

static void tcp_connects_transfers_and_closes_over_ipv6(void)
{
	struct pair n;
	pair_open(&n);
	struct first f = {0};
	synack_sim_set_tap(n.sim, tap_first, &f);

	int ls = synack_socket(n.b);
	struct synack_endpoint any = ep6((const uint8_t[16]){0}, 80);
	CHECK_EQ(synack_bind(n.b, ls, &any), 0);
	CHECK_EQ(synack_listen(n.b, ls, 8), 0);
	struct synack_endpoint name;
	char buf[64];
	CHECK_EQ(synack_getsockname(n.b, ls, &name), 0);
	CHECK_STR(synack_endpoint_str(&name, buf, sizeof(buf)), "[2001:db8::2]:80");

	int cs = synack_socket(n.a);
	struct synack_endpoint srv = ep6(PEER6, 80);
	CHECK_EQ(synack_connect(n.a, cs, &srv), -EINPROGRESS);
	synack_sim_run_until(n.sim, 100000);
	struct synack_endpoint peer;
	int as = synack_accept(n.b, ls, &peer);
	CHECK(as >= 0);
	CHECK_EQ(peer.family, SYNACK_AF_INET6);
	CHECK(memcmp(peer.addr6, US6, 16) == 0);
	CHECK_EQ(synack_getpeername(n.a, cs, &peer), 0);
	CHECK_STR(synack_endpoint_str(&peer, buf, sizeof(buf)), "[2001:db8::2]:80");
	CHECK_EQ(synack_getsockname(n.a, cs, &name), 0);
	CHECK_EQ(name.family, SYNACK_AF_INET6);
	CHECK(memcmp(name.addr6, US6, 16) == 0);

	/* The SYN: IPv6, hop limit ttl, MSS of the MTU less 60 (RFC 8200 8.3). */
	CHECK(f.len >= 60);
	CHECK_EQ(f.pkt[0] >> 4, 6);
	CHECK_EQ(f.pkt[6], WIRE_IPPROTO_TCP);
	CHECK_EQ(f.pkt[7], 64);
	struct wire_ip6 ip;
	CHECK_EQ(wire_ip6_parse(f.pkt, f.len, &ip), SYNACK_DROP_NONE);
	struct wire_net net = wire_ip6_net(&ip);
	struct wire_tcp seg;
	CHECK_EQ(wire_tcp_parse_net(&net, &seg), SYNACK_DROP_NONE);
	CHECK(seg.opts.has_mss);
	CHECK_EQ(seg.opts.mss, 1440);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(n.a, cs, &info), 0);
	CHECK_EQ(info.state, SYNACK_ESTABLISHED);
	CHECK(info.mss <= 1440 && info.mss >= 1400);

	/* 200 KB each way, then close. */
	static uint8_t tx[200000], rx[200000];
	for (size_t i = 0; i < sizeof(tx); i++)
		tx[i] = (uint8_t)(i * 7 + 3);
	size_t sent = 0, got = 0;
	for (int round = 0; round < 2000 && got < sizeof(tx); round++) {
		if (sent < sizeof(tx)) {
			ssize_t w = synack_send(n.a, cs, tx + sent, sizeof(tx) - sent);
			if (w > 0)
				sent += (size_t)w;
		}
		synack_sim_run_until(n.sim, synack_sim_now(n.sim) + 1000);
		ssize_t r = synack_recv(n.b, as, rx + got, sizeof(rx) - got, 0);
		if (r > 0)
			got += (size_t)r;
	}
	CHECK_EQ(got, sizeof(tx));
	CHECK(memcmp(tx, rx, sizeof(tx)) == 0);
	CHECK_EQ(synack_close(n.a, cs), 0);
	CHECK_EQ(synack_close(n.b, as), 0);
	synack_sim_run_until(n.sim, synack_sim_now(n.sim) + 1000000);
	CHECK_EQ(f.flow_changed, 0);
	CHECK_EQ(f.nflows, 2);
	struct synack_stats s;
	synack_stats(n.b, &s);
	CHECK(s.Ip6InReceives > 100);
	CHECK_EQ_U64(s.IpInReceives, 0);
	CHECK_EQ_U64(s.PassiveOpens, 1);
	CHECK_EQ(synack_close(n.b, ls), 0);
	pair_close(&n);
}

/* Trace records of an IPv6 connection name both ends in full (family,
 * the 16 address bytes, the port) and carry the SYN's options: the ring
 * keeps IPv6 addresses and options apart from its one-line records
 * (core/env.h), and synack_trace_read must put them back. */
static void trace_records_name_ipv6_ends(void)
{
	struct pair n;
	pair_open(&n);
	int ls = synack_socket(n.b);
	struct synack_endpoint any = ep6((const uint8_t[16]){0}, 80);
	CHECK_EQ(synack_bind(n.b, ls, &any), 0);
	CHECK_EQ(synack_listen(n.b, ls, 8), 0);
	int cs = synack_socket(n.a);
	struct synack_endpoint srv = ep6(PEER6, 80), name;
	CHECK_EQ(synack_connect(n.a, cs, &srv), -EINPROGRESS);
	synack_sim_run_until(n.sim, 100000);
	CHECK_EQ(synack_getsockname(n.a, cs, &name), 0);
	static struct synack_trace tr[64];
	size_t got = synack_trace_read(n.a, tr, 64);
	int syn = 0, states = 0;
	for (size_t i = 0; i < got; i++) {
		const struct synack_trace *r = &tr[i];
		CHECK_EQ(r->local.family, SYNACK_AF_INET6);
		CHECK_EQ(r->remote.family, SYNACK_AF_INET6);
		CHECK_EQ(r->local.addr, 0);
		CHECK(memcmp(r->local.addr6, US6, 16) == 0);
		CHECK(memcmp(r->remote.addr6, PEER6, 16) == 0);
		CHECK_EQ(r->local.port, name.port);
		CHECK_EQ(r->remote.port, 80);
		states += r->kind == SYNACK_TRACE_STATE;
		if (r->kind == SYNACK_TRACE_TX && r->flags == SYNACK_TH_SYN) {
			syn++;
			CHECK(r->opts & SYNACK_TRACE_OPT_MSS);
			CHECK_EQ(r->opt_mss, 1440);
		} else if (r->kind != SYNACK_TRACE_STATE && !(r->flags & SYNACK_TH_SYN)) {
			CHECK_EQ(r->opts, 0);
			CHECK_EQ(r->opt_mss, 0);
		}
	}
	CHECK_EQ(syn, 1);
	CHECK_EQ(states, 2); /* SYN-SENT, ESTABLISHED */
	CHECK_EQ(synack_close(n.a, cs), 0);
	CHECK_EQ(synack_close(n.b, ls), 0);
	pair_close(&n);
}

static void connect_errors_over_ipv6(void)
{
	struct pair n;
	pair_open(&n);
	/* No listener: the RST refuses, as over IPv4. */
	int cs = synack_socket(n.a);
	struct synack_endpoint srv = ep6(PEER6, 81);
	CHECK_EQ(synack_connect(n.a, cs, &srv), -EINPROGRESS);
	synack_sim_run_until(n.sim, 100000);
	CHECK_EQ(synack_socket_error(n.a, cs), -ECONNREFUSED);
	CHECK_EQ(synack_close(n.a, cs), 0);
	/* Multicast and unspecified peers; a family the socket was not named in. */
	cs = synack_socket(n.a);
	uint8_t mc[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct synack_endpoint bad = ep6(mc, 80);
	CHECK_EQ(synack_connect(n.a, cs, &bad), -ENETUNREACH);
	bad = ep6((const uint8_t[16]){0}, 80);
	CHECK_EQ(synack_connect(n.a, cs, &bad), -EINVAL);
	struct synack_endpoint v4 = {.addr = 0x0a000001, .port = 90};
	CHECK_EQ(synack_bind(n.a, cs, &v4), 0);
	CHECK_EQ(synack_connect(n.a, cs, &srv), -EAFNOSUPPORT);
	CHECK_EQ(synack_close(n.a, cs), 0);
	/* Binding an IPv6 address not ours. */
	cs = synack_socket(n.a);
	struct synack_endpoint other = ep6(PEER6, 90);
	CHECK_EQ(synack_bind(n.a, cs, &other), -EADDRNOTAVAIL);
	CHECK_EQ(synack_close(n.a, cs), 0);
	pair_close(&n);

	/* A stack without an IPv6 address has no route. */
	uint8_t none[16] = {0};
	struct synack_stack *st = stack6(0x0a000001, none);
	cs = synack_socket(st);
	CHECK_EQ(synack_connect(st, cs, &srv), -ENETUNREACH);
	uint8_t a6[16];
	CHECK_EQ(synack_stack_addr6(st, a6), 0);
	synack_stack_free(st);
}

/* Sends the stack st an ICMPv6 error of type, code and rest from the
 * peer, quoting q (qn bytes). */
static int icmp6_to(struct synack_stack *st, uint64_t now, uint8_t type, uint8_t code,
                    uint32_t rest, const uint8_t *q, size_t qn)
{
	uint8_t p[1500];
	struct addr a = wire_addr6_from_bytes(US6), b = wire_addr6_from_bytes(PEER6);
	/* RFC 4443 2.4 (c): the quote keeps the error within 1280 bytes. */
	if (qn > 1280 - 48)
		qn = 1280 - 48;
	size_t n = wire_icmp6_emit(p + 40, sizeof(p) - 40, &b, &a, type, code, rest, q, qn);
	wire_ip6_emit(p, &b, &a, WIRE_IPPROTO_ICMPV6, 64, 0, n, 0);
	return synack_input(st, now, p, 40 + n);
}

/* A peer that never answers: the segments of a stay in this buffer. */
struct held {
	uint8_t pkt[1600];
	size_t len;
};

static void hold_data(void *ctx, int event, int from, int to, const uint8_t *pkt, size_t len,
                      uint64_t now)
{
	struct held *h = ctx;
	(void)to;
	(void)now;
	if (event == SYNACK_SIM_SENT && from == 0 && len > 100 && len <= sizeof(h->pkt)) {
		memcpy(h->pkt, pkt, len);
		h->len = len;
	}
}

static void packet_too_big_lowers_the_mss_to_the_floor(void)
{
	struct pair n;
	pair_open(&n);
	struct held h = {{0}, 0};
	synack_sim_set_tap(n.sim, hold_data, &h);
	int ls = synack_socket(n.b);
	struct synack_endpoint srv = ep6(PEER6, 80);
	CHECK_EQ(synack_bind(n.b, ls, &srv), 0);
	CHECK_EQ(synack_listen(n.b, ls, 8), 0);
	int cs = synack_socket(n.a);
	CHECK_EQ(synack_connect(n.a, cs, &srv), -EINPROGRESS);
	synack_sim_run_until(n.sim, 100000);
	/* b goes down: a's data stays in flight, unacknowledged. */
	CHECK_EQ(synack_sim_set_down(n.sim, 1, 1), 0);
	static uint8_t data[20000];
	CHECK(synack_send(n.a, cs, data, sizeof(data)) > 0);
	synack_sim_run_until(n.sim, synack_sim_now(n.sim) + 1000);
	CHECK(h.len > 1000);
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(n.a, cs, &info), 0);
	uint32_t before = info.mss;
	/* A router says 1400: the MSS follows (1400 - 60 - options). */
	uint64_t now = synack_sim_now(n.sim);
	CHECK_EQ(icmp6_to(n.a, now, WIRE_ICMP6_PACKET_TOO_BIG, 0, 1400, h.pkt, h.len), 0);
	CHECK_EQ(synack_tcp_info(n.a, cs, &info), 0);
	CHECK_EQ(info.mss, before - 100);
	/* One says 600: never below IPv6's 1280 (RFC 8201 4). */
	CHECK_EQ(icmp6_to(n.a, now, WIRE_ICMP6_PACKET_TOO_BIG, 0, 600, h.pkt, h.len), 0);
	CHECK_EQ(synack_tcp_info(n.a, cs, &info), 0);
	CHECK_EQ(info.mss, before - 220);
	struct synack_stats s;
	synack_stats(n.a, &s);
	CHECK_EQ_U64(s.Icmp6InPktTooBigs, 2);
	CHECK_EQ_U64(s.PmtuReductions, 2);
	/* A quote of a segment we did not send (another source) is no news. */
	uint8_t forged[1600];
	memcpy(forged, h.pkt, h.len);
	forged[23] ^= 1;
	CHECK_EQ(icmp6_to(n.a, now, WIRE_ICMP6_PACKET_TOO_BIG, 0, 1300, forged, h.len),
	         SYNACK_DROP_ICMP_NO_CONN);
	/* RFC 5927: a quoted sequence number outside the window is ignored. */
	memcpy(forged, h.pkt, h.len);
	forged[44] ^= 0x80;
	CHECK_EQ(
	    icmp6_to(n.a, now, WIRE_ICMP6_DEST_UNREACH, WIRE_ICMP6_PORT_UNREACH, 0, forged, h.len),
	    SYNACK_DROP_ICMP_OUT_OF_WINDOW);
	/* A Destination Unreachable in the window: a soft error, reported when
	 * the connection times out. */
	CHECK_EQ(
	    icmp6_to(n.a, now, WIRE_ICMP6_DEST_UNREACH, WIRE_ICMP6_ADDR_UNREACH, 0, h.pkt, h.len),
	    0);
	synack_stats(n.a, &s);
	CHECK_EQ_U64(s.Icmp6InDestUnreachs, 2);
	CHECK_EQ_U64(s.OutOfWindowIcmps, 1);
	pair_close(&n);
}

static void port_unreachable_refuses_a_connect(void)
{
	struct pair n;
	pair_open(&n);
	struct held h = {{0}, 0};
	CHECK_EQ(synack_sim_set_down(n.sim, 1, 1), 0);
	int cs = synack_socket(n.a);
	struct synack_endpoint srv = ep6(PEER6, 80);
	CHECK_EQ(synack_connect(n.a, cs, &srv), -EINPROGRESS);
	uint8_t syn[200];
	size_t sn = (size_t)synack_output(n.a, syn, sizeof(syn));
	(void)h;
	CHECK(sn >= 60);
	CHECK_EQ(icmp6_to(n.a, 1000, WIRE_ICMP6_DEST_UNREACH, WIRE_ICMP6_PORT_UNREACH, 0, syn, sn),
	         0);
	CHECK_EQ(synack_socket_error(n.a, cs), -ECONNREFUSED);
	pair_close(&n);
}

/* IPV6_V6ONLY (issue 14): a listener bound to :: takes IPv4 connections too
 * unless the option is set, and shows their addresses IPv4-mapped, as Linux. */
static void dual_stack_listener_takes_ipv4_unless_v6only(void)
{
	for (int v6only = 0; v6only <= 1; v6only++) {
		struct pair n;
		pair_open(&n);
		int ls = synack_socket(n.b);
		struct synack_endpoint any = ep6((const uint8_t[16]){0}, 80);
		int v = -1;
		CHECK_EQ(synack_getsockopt(n.b, ls, SYNACK_IPV6_V6ONLY, &v), 0);
		CHECK_EQ(v, 0);
		CHECK_EQ(synack_setsockopt(n.b, ls, SYNACK_IPV6_V6ONLY, 2), -EINVAL);
		CHECK_EQ(synack_setsockopt(n.b, ls, SYNACK_IPV6_V6ONLY, v6only), 0);
		CHECK_EQ(synack_bind(n.b, ls, &any), 0);
		CHECK_EQ(synack_listen(n.b, ls, 8), 0);
		CHECK_EQ(synack_setsockopt(n.b, ls, SYNACK_IPV6_V6ONLY, 1), -EINVAL);
		CHECK_EQ(synack_getsockopt(n.b, ls, SYNACK_IPV6_V6ONLY, &v), 0);
		CHECK_EQ(v, v6only);

		/* Over IPv4, to 10.0.0.2:80. */
		int c4 = synack_socket(n.a);
		struct synack_endpoint srv4 = {.addr = 0x0a000002, .port = 80};
		CHECK_EQ(synack_connect(n.a, c4, &srv4), -EINPROGRESS);
		/* Over IPv6. */
		int c6 = synack_socket(n.a);
		struct synack_endpoint srv6 = ep6(PEER6, 80);
		CHECK_EQ(synack_connect(n.a, c6, &srv6), -EINPROGRESS);
		synack_sim_run_until(n.sim, 100000);
		CHECK_EQ(synack_socket_error(n.a, c4), v6only ? -ECONNREFUSED : 0);
		CHECK_EQ(synack_socket_error(n.a, c6), 0);

		char buf[64];
		struct synack_endpoint peer, local;
		int accepted = 0, mapped = 0;
		for (int as; (as = synack_accept(n.b, ls, &peer)) >= 0; accepted++) {
			CHECK_EQ(peer.family, SYNACK_AF_INET6);
			CHECK_EQ(synack_getsockname(n.b, as, &local), 0);
			synack_endpoint_str(&peer, buf, sizeof(buf));
			/* Each child takes its own family's MSS: an IPv4 one
			 * is not clamped by the listener's IPv6 header. */
			int mss = 0;
			CHECK_EQ(synack_getsockopt(n.b, as, SYNACK_TCP_MAXSEG, &mss), 0);
			CHECK_EQ(mss, strncmp(buf, "[::ffff:", 8) == 0
			                  ? 1448
			                  : 1428); /* less timestamps */
			if (strncmp(buf, "[::ffff:", 8) == 0) {
				mapped++;
				CHECK(strncmp(buf, "[::ffff:10.0.0.1]:", 18) == 0);
				CHECK_STR(synack_endpoint_str(&local, buf, sizeof(buf)),
				          "[::ffff:10.0.0.2]:80");
				CHECK_EQ(synack_getpeername(n.b, as, &peer), 0);
				CHECK_EQ(peer.family, SYNACK_AF_INET6);
			} else {
				CHECK_STR(synack_endpoint_str(&local, buf, sizeof(buf)),
				          "[2001:db8::2]:80");
			}
		}
		CHECK_EQ(accepted, v6only ? 1 : 2);
		CHECK_EQ(mapped, v6only ? 0 : 1);
		pair_close(&n);
	}
}

/* Linux's bind() rules across the families (issue 14): an IPv4 listener and
 * an IPV6_V6ONLY one share a port, each taking its own family; a dual-stack
 * listener on :: conflicts with 0.0.0.0 in either order (-EADDRINUSE);
 * IPV6_V6ONLY cannot change after bind(). */
static void ipv4_and_v6only_listeners_share_a_port(void)
{
	struct pair n;
	pair_open(&n);
	struct synack_endpoint any6 = ep6((const uint8_t[16]){0}, 80), any4 = {.port = 80};
	int l4 = synack_socket(n.b), l6 = synack_socket(n.b), dual = synack_socket(n.b);
	CHECK_EQ(synack_bind(n.b, l4, &any4), 0);
	CHECK_EQ(synack_listen(n.b, l4, 8), 0);
	CHECK_EQ(synack_bind(n.b, dual, &any6), -EADDRINUSE);
	CHECK_EQ(synack_setsockopt(n.b, l6, SYNACK_IPV6_V6ONLY, 1), 0);
	CHECK_EQ(synack_bind(n.b, l6, &any6), 0);
	CHECK_EQ(synack_setsockopt(n.b, l6, SYNACK_IPV6_V6ONLY, 0), -EINVAL);
	CHECK_EQ(synack_listen(n.b, l6, 8), 0);
	/* A second IPv6 one meets the first. */
	int again = synack_socket(n.b);
	struct synack_endpoint ours6 = ep6(PEER6, 80);
	CHECK_EQ(synack_bind(n.b, again, &ours6), -EADDRINUSE);

	int c4 = synack_socket(n.a), c6 = synack_socket(n.a);
	struct synack_endpoint srv4 = {.addr = 0x0a000002, .port = 80}, srv6 = ep6(PEER6, 80);
	CHECK_EQ(synack_connect(n.a, c4, &srv4), -EINPROGRESS);
	CHECK_EQ(synack_connect(n.a, c6, &srv6), -EINPROGRESS);
	synack_sim_run_until(n.sim, 100000);
	CHECK_EQ(synack_socket_error(n.a, c4), 0);
	CHECK_EQ(synack_socket_error(n.a, c6), 0);
	struct synack_endpoint peer;
	CHECK(synack_accept(n.b, l4, &peer) >= 0);
	CHECK_EQ(peer.family, SYNACK_AF_INET);
	CHECK(synack_accept(n.b, l4, &peer) == -EAGAIN);
	CHECK(synack_accept(n.b, l6, &peer) >= 0);
	CHECK_EQ(peer.family, SYNACK_AF_INET6);
	CHECK(synack_accept(n.b, l6, &peer) == -EAGAIN);

	/* The other order: a dual-stack listener first, then 0.0.0.0. */
	struct synack_endpoint any6_81 = ep6((const uint8_t[16]){0}, 81), any4_81 = {.port = 81};
	int d = synack_socket(n.b), v4 = synack_socket(n.b);
	CHECK_EQ(synack_bind(n.b, d, &any6_81), 0);
	CHECK_EQ(synack_listen(n.b, d, 8), 0);
	CHECK_EQ(synack_bind(n.b, v4, &any4_81), -EADDRINUSE);
	/* Closed, the port is free for IPv4 again. */
	CHECK_EQ(synack_close(n.b, d), 0);
	CHECK_EQ(synack_bind(n.b, v4, &any4_81), 0);
	pair_close(&n);
}

int main(void)
{
	RUN(endpoints_parse_and_print_rfc5952);
	RUN(ip6_header_parses);
	RUN(ip6_extension_headers_walk);
	RUN(icmp6_parses_and_emits);
	RUN(echo_is_answered);
	RUN(bad_headers_are_answered_and_counted);
	RUN(tcp_connects_transfers_and_closes_over_ipv6);
	RUN(trace_records_name_ipv6_ends);
	RUN(connect_errors_over_ipv6);
	RUN(packet_too_big_lowers_the_mss_to_the_floor);
	RUN(port_unreachable_refuses_a_connect);
	RUN(dual_stack_listener_takes_ipv4_unless_v6only);
	RUN(ipv4_and_v6only_listeners_share_a_port);
	return check_summary("test_ipv6");
}
