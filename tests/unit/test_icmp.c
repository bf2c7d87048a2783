/*
 * ICMP: echo replies, Protocol Unreachable and its limits (RFC 792, RFC 1122
 * 3.2.2), ICMP errors delivered to TCP (RFC 5927, RFC 5461, RFC 1191), and
 * a link's report that it cannot resolve the peer (synack_unreachable).
 * The peer is 10.0.0.2; errors about our segments come from a router,
 * 10.0.0.254, quoting the datagram we sent.
 */
#include <stdlib.h>

#include "net/icmp4.h"
#include "stack/stack.h"
#include "script.h"

#define ROUTER 0x0a0000feu

/* ------------------------------------------------------------------ */
/* Building datagrams.                                                 */

/* An ICMP message from src to dst: 8-byte header, then data. */
static size_t icmp_build(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint8_t type,
                         uint8_t code, uint32_t rest, const uint8_t *data, size_t len)
{
	size_t n = wire_icmp_emit(buf + WIRE_IP4_HDR_LEN, cap - WIRE_IP4_HDR_LEN, type, code, rest,
	                          data, len);
	if (n == 0)
		return 0;
	wire_ip4_emit(buf, src, dst, WIRE_IPPROTO_ICMP, 64, 1, n);
	return n + WIRE_IP4_HDR_LEN;
}

/* An echo request from the peer with len bytes of data. */
static size_t echo_build(uint8_t *buf, size_t cap, uint16_t id, uint16_t seq, size_t len)
{
	uint8_t *data = malloc(len + 1);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	size_t n = icmp_build(buf, cap, T_PEER_ADDR, T_US_ADDR, WIRE_ICMP_ECHO, 0,
	                      ((uint32_t)id << 16) | seq, data, len);
	free(data);
	return n;
}

/* A datagram of another protocol (UDP, 17) from src to dst, len bytes of payload. */
static size_t proto_build(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[WIRE_IP4_HDR_LEN + i] = (uint8_t)(i + 1);
	wire_ip4_emit(buf, src, dst, proto, 64, 7, len);
	return len + WIRE_IP4_HDR_LEN;
}

/* An ICMP error from the router about the datagram dgram (quote bytes of it). */
static size_t error_about(uint8_t *buf, size_t cap, const uint8_t *dgram, size_t quote,
                          uint8_t type, uint8_t code, uint32_t rest)
{
	return icmp_build(buf, cap, ROUTER, T_US_ADDR, type, code, rest, dgram, quote);
}

/* Copies the segment t_expect just matched (our datagram). */
static size_t keep_sent(struct t *t, uint8_t *buf)
{
	memcpy(buf, t->pkt, t->ip.total_len);
	return t->ip.total_len;
}

/* The trace holds a state change from -> to with this cause. */
static int has_change(struct t *t, int from, int to, int cause)
{
	t_trace_sync(t);
	for (size_t i = 0; i < t->ntrace; i++) {
		const struct synack_trace *r = &t->trace[i];
		if (r->kind == SYNACK_TRACE_STATE && r->from == from && r->to == to &&
		    r->cause == cause)
			return 1;
	}
	return 0;
}

static int soft_error(struct t *t)
{
	struct synack_tcp_info info;
	if (synack_tcp_info(t->st, t->sock, &info) != 0)
		return 1;
	return info.soft_error;
}

static uint32_t mss_of(struct t *t)
{
	struct synack_tcp_info info;
	if (synack_tcp_info(t->st, t->sock, &info) != 0)
		return 0;
	return info.mss;
}

/* RFC 1071 the slow way, independent of wire_csum_*: the 16-bit one's
 * complement sum over a correct message (checksum included) is 0xffff. */
static int naive_csum_ok(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < len; i += 2) {
		sum += (uint32_t)(p[i] << 8) | (i + 1 < len ? p[i + 1] : 0);
		while (sum > 0xffff)
			sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum == 0xffff;
}

/* ------------------------------------------------------------------ */
/* The wire format.                                                    */

static void icmp_wire_emit_parse_round_trip(void)
{
	uint8_t buf[128], data[11] = "hello icmp";
	struct wire_ip4 ip;
	struct wire_icmp m;
	size_t n = icmp_build(buf, sizeof buf, T_PEER_ADDR, T_US_ADDR, WIRE_ICMP_ECHO, 0,
	                      0x12340007u, data, sizeof data);
	CHECK_EQ(n, 20 + 8 + sizeof data);
	CHECK_EQ(wire_ip4_parse(buf, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_icmp_parse(&ip, &m), SYNACK_DROP_NONE);
	CHECK_EQ(m.type, WIRE_ICMP_ECHO);
	CHECK_EQ(m.code, 0);
	CHECK_EQ(m.id, 0x1234);
	CHECK_EQ(m.seq, 7);
	CHECK_EQ(m.is_error, 0);
	CHECK_EQ(m.data_len, sizeof data);
	CHECK(memcmp(m.data, data, sizeof data) == 0);
	/* The checksum covers the data: one flipped bit is caught. */
	buf[n - 1] ^= 1;
	CHECK_EQ(wire_icmp_parse(&ip, &m), SYNACK_DROP_ICMP_BAD_CHECKSUM);
	/* Too short for the header. */
	ip.payload_len = 7;
	CHECK_EQ(wire_icmp_parse(&ip, &m), SYNACK_DROP_ICMP_TRUNCATED);
	/* Too small a buffer: nothing written. */
	CHECK_EQ(wire_icmp_emit(buf, 8 + sizeof data - 1, 0, 0, 0, data, sizeof data), 0);
}

static void icmp_wire_error_quote_is_parsed_and_checked(void)
{
	uint8_t dgram[64], buf[128];
	struct wire_ip4 ip;
	struct wire_icmp m;
	/* A quoted datagram with 4 bytes of IP options (IHL 6). */
	memset(dgram, 0, sizeof dgram);
	dgram[0] = 0x46;
	wire_put16(dgram + 2, 1500);
	dgram[9] = WIRE_IPPROTO_TCP;
	wire_put32(dgram + 12, T_US_ADDR);
	wire_put32(dgram + 16, T_PEER_ADDR);
	wire_put16(dgram + 24, 80);
	wire_put16(dgram + 26, 40000);
	wire_put32(dgram + 28, 0xdeadbeef);
	size_t n = icmp_build(buf, sizeof buf, ROUTER, T_US_ADDR, WIRE_ICMP_DEST_UNREACH,
	                      WIRE_ICMP_FRAG_NEEDED, 1280, dgram, 24 + 8);
	CHECK_EQ(wire_ip4_parse(buf, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_icmp_parse(&ip, &m), SYNACK_DROP_NONE);
	CHECK_EQ(m.is_error, 1);
	CHECK_EQ(m.mtu, 1280);
	CHECK_EQ(m.quote.src, T_US_ADDR);
	CHECK_EQ(m.quote.dst, T_PEER_ADDR);
	CHECK_EQ(m.quote.proto, WIRE_IPPROTO_TCP);
	CHECK_EQ(m.quote.hdr_len, 24);
	CHECK_EQ(m.quote.total_len, 1500);
	CHECK_EQ(m.quote.l4_len, 8);
	CHECK_EQ(wire_get16(m.quote.l4), 80);
	CHECK_EQ(wire_get32(m.quote.l4 + 4), 0xdeadbeefu);
	/* One byte short of header + 8. */
	n = icmp_build(buf, sizeof buf, ROUTER, T_US_ADDR, WIRE_ICMP_DEST_UNREACH, 1, 0, dgram,
	               24 + 7);
	CHECK_EQ(wire_ip4_parse(buf, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_icmp_parse(&ip, &m), SYNACK_DROP_ICMP_BAD_QUOTE);
	/* A datagram of 4 data bytes, quoted whole: fine. */
	wire_put16(dgram + 2, 28);
	n = icmp_build(buf, sizeof buf, ROUTER, T_US_ADDR, WIRE_ICMP_DEST_UNREACH, 1, 0, dgram,
	               24 + 4);
	CHECK_EQ(wire_ip4_parse(buf, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_icmp_parse(&ip, &m), SYNACK_DROP_NONE);
	CHECK_EQ(m.quote.l4_len, 4);
	/* A total length below the header. */
	wire_put16(dgram + 2, 20);
	n = icmp_build(buf, sizeof buf, ROUTER, T_US_ADDR, WIRE_ICMP_DEST_UNREACH, 1, 0, dgram,
	               24 + 4);
	CHECK_EQ(wire_ip4_parse(buf, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_icmp_parse(&ip, &m), SYNACK_DROP_ICMP_BAD_QUOTE);
	wire_put16(dgram + 2, 1500);
	/* Not IPv4. */
	dgram[0] = 0x65;
	n = icmp_build(buf, sizeof buf, ROUTER, T_US_ADDR, WIRE_ICMP_TIME_EXCEEDED, 0, 0, dgram,
	               40);
	CHECK_EQ(wire_ip4_parse(buf, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_icmp_parse(&ip, &m), SYNACK_DROP_ICMP_BAD_QUOTE);
	/* IHL below 5. */
	dgram[0] = 0x44;
	n = icmp_build(buf, sizeof buf, ROUTER, T_US_ADDR, WIRE_ICMP_TIME_EXCEEDED, 0, 0, dgram,
	               40);
	CHECK_EQ(wire_ip4_parse(buf, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_icmp_parse(&ip, &m), SYNACK_DROP_ICMP_BAD_QUOTE);
	/* A fragment other than the first: its 8 bytes are no TCP header. */
	dgram[0] = 0x45;
	wire_put16(dgram + 6, 185);
	n = icmp_build(buf, sizeof buf, ROUTER, T_US_ADDR, WIRE_ICMP_TIME_EXCEEDED, 0, 0, dgram,
	               40);
	CHECK_EQ(wire_ip4_parse(buf, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_icmp_parse(&ip, &m), SYNACK_DROP_ICMP_BAD_QUOTE);
}

/* ------------------------------------------------------------------ */
/* Echo.                                                               */

static void icmp_echo_request_gets_byte_exact_reply(void)
{
	struct t *t = t_new();
	uint8_t req[256], want[256];
	size_t n = echo_build(req, sizeof req, 0xbeef, 42, 56);
	CHECK_EQ(t_input_raw(t, req, n), 0);
	if (t_expect_icmp(t, WIRE_ICMP_ECHO_REPLY, 0)) {
		CHECK_EQ(t->icmp.id, 0xbeef);
		CHECK_EQ(t->icmp.seq, 42);
		CHECK_EQ(t->ip.total_len, n);
		CHECK_EQ(t->ip.ttl, 64);
		CHECK(naive_csum_ok(t->pkt, 20));
		CHECK(naive_csum_ok(t->pkt + 20, n - 20));
		CHECK(!naive_csum_ok(req + 20, n - 20 - 1)); /* the helper can say no */
		/* The request's message with type 0 and its checksum redone. */
		size_t w =
		    icmp_build(want, sizeof want, T_US_ADDR, T_PEER_ADDR, WIRE_ICMP_ECHO_REPLY, 0,
		               (0xbeefu << 16) | 42, req + 28, n - 28);
		CHECK_EQ(w, n);
		CHECK(memcmp(t->pkt + 20, want + 20, n - 20) == 0);
	}
	t_counter(t, "IcmpInMsgs", 1);
	t_counter(t, "IcmpInEchos", 1);
	t_counter(t, "IcmpOutMsgs", 1);
	t_counter(t, "IcmpOutEchoReps", 1);
	t_counter(t, "IpInUnknownProtos", 0);
	t_expect_nothing(t);
	t_free(t);
}

static void icmp_echo_of_any_size_up_to_the_mtu_is_answered(void)
{
	struct t *t = t_new();
	static uint8_t req[2048];
	/* No data at all, then a datagram of exactly the MTU (1500). */
	size_t sizes[] = {0, 1, 1472};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = echo_build(req, sizeof req, 1, (uint16_t)i, sizes[i]);
		CHECK_EQ(t_input_raw(t, req, n), 0);
		if (t_expect_icmp(t, WIRE_ICMP_ECHO_REPLY, 0)) {
			CHECK_EQ(t->ip.total_len, n);
			CHECK_EQ(t->icmp.data_len, sizes[i]);
			CHECK(naive_csum_ok(t->pkt + 20, n - 20));
			CHECK(memcmp(t->icmp.data, req + 28, sizes[i]) == 0);
		}
	}
	/* One byte more and the reply does not fit our MTU: it goes in two
	 * fragments (RFC 791 3.2), 1480 bytes of the message and then 1
	 * (test_reasm.c checks larger replies byte by byte). */
	size_t n = echo_build(req, sizeof req, 1, 9, 1473);
	CHECK_EQ(t_input_raw(t, req, n), 0);
	uint8_t frag[1600];
	CHECK_EQ(synack_output(t->st, frag, sizeof frag), 1500);
	CHECK_EQ(wire_get16(frag + 6), WIRE_IP4_MF);
	uint16_t id = wire_get16(frag + 4);
	CHECK_EQ(synack_output(t->st, frag, sizeof frag), 21);
	CHECK_EQ(wire_get16(frag + 6), 1480 / 8);
	CHECK_EQ(wire_get16(frag + 4), id);
	CHECK_EQ(frag[20], req[n - 1]);
	t_counter(t, "IpFragOKs", 1);
	t_counter(t, "IpFragCreates", 2);
	t_drops(t, SYNACK_DROP_ICMP_TOO_BIG, 0);
	t_expect_nothing(t);
	t_free(t);
}

static void icmp_echo_to_broadcast_or_multicast_is_not_answered(void)
{
	struct t *t = t_new();
	uint32_t dsts[] = {0xffffffffu, 0xe0000001u, 0x0a0000ffu};
	uint8_t req[128];
	for (size_t i = 0; i < 3; i++) {
		size_t n = echo_build(req, sizeof req, 1, 1, 8);
		wire_put32(req + 16, dsts[i]);
		t_fix_ip_csum(req);
		CHECK_EQ(t_input_raw(t, req, n), SYNACK_DROP_IP_NOT_FOR_US);
	}
	t_expect_nothing(t);
	t_counter(t, "IcmpInEchos", 0);
	t_free(t);
}

static void icmp_bad_checksum_or_truncated_gets_no_reply(void)
{
	struct t *t = t_new();
	uint8_t req[128];
	size_t n = echo_build(req, sizeof req, 1, 1, 16);
	req[30] ^= 0x40;
	CHECK_EQ(t_input_raw(t, req, n), SYNACK_DROP_ICMP_BAD_CHECKSUM);
	/* Seven bytes of ICMP: no room for the header. */
	n = echo_build(req, sizeof req, 1, 1, 0);
	wire_put16(req + 2, 27);
	t_fix_ip_csum(req);
	CHECK_EQ(t_input_raw(t, req, 27), SYNACK_DROP_ICMP_TRUNCATED);
	t_expect_nothing(t);
	t_counter(t, "IcmpInMsgs", 2);
	t_counter(t, "IcmpInErrors", 2);
	t_counter(t, "IcmpInCsumErrors", 1);
	t_counter(t, "IcmpInEchos", 0);
	CHECK(t_trace_has_drop(t, SYNACK_DROP_ICMP_BAD_CHECKSUM));
	CHECK(t_trace_has_drop(t, SYNACK_DROP_ICMP_TRUNCATED));
	t_free(t);
}

static void icmp_messages_we_do_not_act_on_are_counted_and_dropped(void)
{
	struct t *t = t_new();
	uint8_t buf[128], quote[28];
	memset(quote, 0, sizeof quote);
	quote[0] = 0x45;
	quote[3] = 40;
	quote[9] = WIRE_IPPROTO_TCP;
	wire_put32(quote + 12, T_US_ADDR);
	size_t n = icmp_build(buf, sizeof buf, T_PEER_ADDR, T_US_ADDR, WIRE_ICMP_ECHO_REPLY, 0, 1,
	                      NULL, 0);
	CHECK_EQ(t_input_raw(t, buf, n), SYNACK_DROP_ICMP_IGNORED);
	n = icmp_build(buf, sizeof buf, ROUTER, T_US_ADDR, WIRE_ICMP_SOURCE_QUENCH, 0, 0, quote,
	               sizeof quote);
	CHECK_EQ(t_input_raw(t, buf, n), SYNACK_DROP_ICMP_IGNORED);
	n = icmp_build(buf, sizeof buf, ROUTER, T_US_ADDR, WIRE_ICMP_REDIRECT, 1, ROUTER, quote,
	               sizeof quote);
	CHECK_EQ(t_input_raw(t, buf, n), SYNACK_DROP_ICMP_IGNORED);
	n = icmp_build(buf, sizeof buf, T_PEER_ADDR, T_US_ADDR, 42, 0, 0, NULL, 0);
	CHECK_EQ(t_input_raw(t, buf, n), SYNACK_DROP_ICMP_IGNORED);
	t_drops(t, SYNACK_DROP_ICMP_IGNORED, 4);
	t_counter(t, "IcmpInMsgs", 4);
	t_counter(t, "IcmpInEchoReps", 1);
	t_counter(t, "IcmpInSrcQuenchs", 1);
	t_counter(t, "IcmpInRedirects", 1);
	t_counter(t, "IcmpInErrors", 0);
	t_expect_nothing(t);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Protocol Unreachable and when not to send it.                       */

static void icmp_udp_gets_protocol_unreachable_quoting_it(void)
{
	struct t *t = t_new();
	static uint8_t udp[1500];
	size_t n = proto_build(udp, T_PEER_ADDR, T_US_ADDR, 17, 8 + 20);
	CHECK_EQ(t_input_raw(t, udp, n), SYNACK_DROP_IP_NOT_TCP);
	if (t_expect_icmp(t, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PROTO_UNREACH)) {
		/* A small datagram is quoted whole. */
		CHECK_EQ(t->icmp.rest, 0);
		CHECK_EQ(t->icmp.data_len, n);
		CHECK(memcmp(t->icmp.data, udp, n) == 0);
		CHECK_EQ(t->icmp.quote.proto, 17);
		CHECK_EQ(t->icmp.quote.src, T_PEER_ADDR);
	}
	/* A large one is quoted up to a 576-byte error (RFC 1812 4.3.2.3). */
	n = proto_build(udp, T_PEER_ADDR, T_US_ADDR, 17, 1400);
	CHECK_EQ(t_input_raw(t, udp, n), SYNACK_DROP_IP_NOT_TCP);
	if (t_expect_icmp(t, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PROTO_UNREACH)) {
		CHECK_EQ(t->ip.total_len, 576);
		CHECK_EQ(t->icmp.data_len, 576 - 28);
		CHECK(memcmp(t->icmp.data, udp, 576 - 28) == 0);
		CHECK_EQ(t->icmp.quote.total_len, n);
	}
	/* Any protocol we lack gets it, e.g. GRE (47). */
	n = proto_build(udp, T_PEER_ADDR, T_US_ADDR, 47, 4);
	CHECK_EQ(t_input_raw(t, udp, n), SYNACK_DROP_IP_NOT_TCP);
	t_expect_icmp(t, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PROTO_UNREACH);
	t_counter(t, "IpInUnknownProtos", 3);
	t_counter(t, "IcmpOutMsgs", 3);
	t_counter(t, "IcmpOutDestUnreachs", 3);
	t_free(t);
}

static void icmp_no_error_where_rfc1122_forbids_one(void)
{
	struct t *t = t_new();
	uint8_t d[256], e[256];
	/* Through synack_input: a fragment of TCP (held for reassembly,
	 * where no error is sent until its time runs out), a fragment of
	 * UDP other than the first (RFC 1122 3.2.2: no error for those), a
	 * datagram to broadcast, one from a multicast source; IP drops each
	 * before ICMP could answer. */
	size_t n = proto_build(d, T_PEER_ADDR, T_US_ADDR, 6, 16);
	wire_put16(d + 6, 0x2000); /* more fragments: the first fragment */
	t_fix_ip_csum(d);
	CHECK_EQ(t_input_raw(t, d, n), 0);
	t_counter(t, "IpReasmReqds", 1);
	n = proto_build(d, T_PEER_ADDR, T_US_ADDR, 17, 16);
	wire_put16(d + 6, 0x2001); /* more fragments, offset 8 */
	t_fix_ip_csum(d);
	CHECK_EQ(t_input_raw(t, d, n), SYNACK_DROP_IP_NOT_TCP);
	n = proto_build(d, T_PEER_ADDR, 0xffffffffu, 17, 16);
	CHECK_EQ(t_input_raw(t, d, n), SYNACK_DROP_IP_NOT_FOR_US);
	n = proto_build(d, 0xe0000005u, T_US_ADDR, 17, 16);
	CHECK_EQ(t_input_raw(t, d, n), SYNACK_DROP_IP_BAD_SRC);
	t_expect_nothing(t);

	/* The error sender's own guards, called directly. */
	struct synack_stack *st = t->st;
	n = proto_build(d, T_PEER_ADDR, T_US_ADDR, 17, 16);
	CHECK_EQ(icmp_send_error(&st->sock.tcp.net, d, n, 3, 2, 0), 1);
	t_expect_icmp(t, 3, 2);
	/* About an ICMP error (and an unknown type, and an empty message): no. */
	size_t m =
	    icmp_build(e, sizeof e, T_PEER_ADDR, T_US_ADDR, WIRE_ICMP_DEST_UNREACH, 3, 0, d, 28);
	CHECK_EQ(icmp_send_error(&st->sock.tcp.net, e, m, 3, 2, 0), 0);
	m = icmp_build(e, sizeof e, T_PEER_ADDR, T_US_ADDR, WIRE_ICMP_TIME_EXCEEDED, 0, 0, d, 28);
	CHECK_EQ(icmp_send_error(&st->sock.tcp.net, e, m, 3, 2, 0), 0);
	m = icmp_build(e, sizeof e, T_PEER_ADDR, T_US_ADDR, 42, 0, 0, NULL, 0);
	CHECK_EQ(icmp_send_error(&st->sock.tcp.net, e, m, 3, 2, 0), 0);
	wire_ip4_emit(e, T_PEER_ADDR, T_US_ADDR, WIRE_IPPROTO_ICMP, 64, 0, 0);
	CHECK_EQ(icmp_send_error(&st->sock.tcp.net, e, 20, 3, 2, 0), 0);
	/* About an ICMP query it may. */
	m = icmp_build(e, sizeof e, T_PEER_ADDR, T_US_ADDR, WIRE_ICMP_ECHO, 0, 0, NULL, 0);
	CHECK_EQ(icmp_send_error(&st->sock.tcp.net, e, m, 3, 2, 0), 1);
	t_expect_icmp(t, 3, 2);
	/* To broadcast, multicast, or another host. */
	uint32_t dsts[] = {0xffffffffu, 0xe0000001u, 0x0a000009u};
	for (size_t i = 0; i < 3; i++) {
		n = proto_build(d, T_PEER_ADDR, dsts[i], 17, 16);
		CHECK_EQ(icmp_send_error(&st->sock.tcp.net, d, n, 3, 2, 0), 0);
	}
	/* A fragment other than the first. */
	n = proto_build(d, T_PEER_ADDR, T_US_ADDR, 17, 16);
	wire_put16(d + 6, 100);
	CHECK_EQ(icmp_send_error(&st->sock.tcp.net, d, n, 3, 2, 0), 0);
	/* From a source that names no single host, or from ourselves. */
	uint32_t srcs[] = {0,           0x00000005u, 0x7f000001u, 0xe0000001u,
	                   0xf0000001u, 0xffffffffu, T_US_ADDR};
	for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
		n = proto_build(d, srcs[i], T_US_ADDR, 17, 16);
		CHECK_EQ(icmp_send_error(&st->sock.tcp.net, d, n, 3, 2, 0), 0);
	}
	/* Nothing usable as a header. */
	CHECK_EQ(icmp_send_error(&st->sock.tcp.net, d, 19, 3, 2, 0), 0);
	t_expect_nothing(t);
	t_counter(t, "IcmpOutMsgs", 2);
	t_counter(t, "IcmpOutRateLimitGlobal", 0);
	t_free(t);
}

/* Sends count UDP datagrams; returns how many Protocol Unreachables came back. */
static int udp_burst(struct t *t, int count)
{
	uint8_t d[64];
	int got = 0;
	for (int i = 0; i < count; i++) {
		size_t n = proto_build(d, T_PEER_ADDR, T_US_ADDR, 17, 8);
		CHECK_EQ(t_input_raw(t, d, n), SYNACK_DROP_IP_NOT_TCP);
	}
	while (synack_output_pending(t->st) > 0) {
		if (t_expect_icmp(t, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PROTO_UNREACH))
			got++;
	}
	return got;
}

static void icmp_errors_are_rate_limited_by_a_token_bucket(void)
{
	struct t *t = t_new(); /* icmp_ratelimit_ms 1000, burst 6 */
	t_at(t, 5000);
	CHECK_EQ(udp_burst(t, 10), 6);
	t_counter(t, "IcmpOutRateLimitGlobal", 4);
	/* Echo replies are not limited. */
	uint8_t req[64];
	for (int i = 0; i < 20; i++) {
		size_t n = echo_build(req, sizeof req, 1, (uint16_t)i, 8);
		CHECK_EQ(t_input_raw(t, req, n), 0);
		t_expect_icmp(t, WIRE_ICMP_ECHO_REPLY, 0);
	}
	/* One token per second of virtual time. */
	t_advance_ms(t, 999);
	CHECK_EQ(udp_burst(t, 1), 0);
	t_advance_ms(t, 1);
	CHECK_EQ(udp_burst(t, 3), 1);
	t_advance_ms(t, 2500);
	CHECK_EQ(udp_burst(t, 3), 2);
	/* A long pause refills the bucket to its burst, no more. */
	t_advance_ms(t, 60000);
	CHECK_EQ(udp_burst(t, 10), 6);
	t_counter(t, "IcmpOutDestUnreachs", 15);
	t_counter(t, "IcmpOutRateLimitGlobal", 4 + 1 + 2 + 1 + 4);
	t_free(t);
}

static void icmp_ratelimit_settings_take_effect(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.icmp_ratelimit_ms = 0; /* no limit */
	struct t *t = t_new_with(&cfg);
	CHECK_EQ(udp_burst(t, 100), 100);
	t_counter(t, "IcmpOutRateLimitGlobal", 0);
	t_free(t);

	t_config(&cfg);
	cfg.icmp_ratelimit_ms = 10;
	cfg.icmp_ratelimit_burst = 1;
	t = t_new_with(&cfg);
	CHECK_EQ(udp_burst(t, 5), 1);
	t_advance_ms(t, 9);
	CHECK_EQ(udp_burst(t, 1), 0);
	t_advance_ms(t, 1);
	CHECK_EQ(udp_burst(t, 1), 1);
	t_advance_ms(t, 1000);
	CHECK_EQ(udp_burst(t, 5), 1);
	t_free(t);
}

static void icmp_settings_are_checked(void)
{
	struct synack_config cfg;
	char msg[256];
	t_config(&cfg);
	CHECK_EQ(cfg.icmp_ratelimit_ms, 1000);
	CHECK_EQ(cfg.icmp_ratelimit_burst, 6);
	CHECK_EQ(cfg.min_pmtu, 552);
	struct {
		uint32_t rl, burst, min_pmtu, mtu;
		int ok;
		const char *name;
	} cases[] = {
	    {0, 1, 68, 576, 1, ""},
	    {3600000, 100000, 1500, 1500, 1, ""},
	    {3600001, 6, 552, 1500, 0, "icmp_ratelimit_ms"},
	    {1000, 0, 552, 1500, 0, "icmp_ratelimit_burst"},
	    {1000, 100001, 552, 1500, 0, "icmp_ratelimit_burst"},
	    {1000, 6, 67, 1500, 0, "min_pmtu"},
	    {1000, 6, 577, 576, 0, "min_pmtu"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		t_config(&cfg);
		cfg.icmp_ratelimit_ms = cases[i].rl;
		cfg.icmp_ratelimit_burst = cases[i].burst;
		cfg.min_pmtu = cases[i].min_pmtu;
		cfg.mtu = cases[i].mtu;
		int r = synack_config_check(&cfg, msg, sizeof msg);
		CHECK_EQ(r, cases[i].ok ? 0 : -EINVAL);
		if (!cases[i].ok && !strstr(msg, cases[i].name))
			check_fail(__FILE__, __LINE__, "case %zu: \"%s\" lacks %s", i, msg,
			           cases[i].name);
	}
}

/* ------------------------------------------------------------------ */
/* Errors about our connection attempts (RFC 5461).                    */

/* connect() and the SYN; dgram receives our SYN datagram. */
static struct t *syn_sent(uint8_t *dgram, size_t *len)
{
	struct t *t = t_new();
	t_to_syn_sent(t);
	*len = keep_sent(t, dgram);
	return t;
}

static void icmp_syn_sent_port_unreachable_refuses_the_connect(void)
{
	uint8_t syn[128], e[256];
	size_t n;
	struct t *t = syn_sent(syn, &n);
	size_t m =
	    error_about(e, sizeof e, syn, 28, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PORT_UNREACH, 0);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	t_state(t, SYNACK_CLOSED);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLERR);
	t_sock_error(t, -ECONNREFUSED);
	CHECK(has_change(t, SYNACK_SYN_SENT, SYNACK_CLOSED, SYNACK_CAUSE_ICMP_UNREACHABLE));
	t_counter(t, "AttemptFails", 1);
	t_counter(t, "IcmpInDestUnreachs", 1);
	t_expect_nothing(t); /* no RST, no error about an error */
	t_free(t);
}

static void icmp_syn_sent_other_errors_end_the_connect_with_their_errno(void)
{
	struct {
		uint8_t type, code;
		int err, cause;
	} cases[] = {
	    {3, 0, -ENETUNREACH, SYNACK_CAUSE_ICMP_UNREACHABLE},
	    {3, 1, -EHOSTUNREACH, SYNACK_CAUSE_ICMP_UNREACHABLE},
	    {3, 2, -ENOPROTOOPT, SYNACK_CAUSE_ICMP_UNREACHABLE},
	    {3, 5, -EOPNOTSUPP, SYNACK_CAUSE_ICMP_UNREACHABLE},
	    {3, 6, -ENETUNREACH, SYNACK_CAUSE_ICMP_UNREACHABLE},
	    {3, 7, -EHOSTDOWN, SYNACK_CAUSE_ICMP_UNREACHABLE},
	    {3, 8, -ENONET, SYNACK_CAUSE_ICMP_UNREACHABLE},
	    {3, 10, -EHOSTUNREACH, SYNACK_CAUSE_ICMP_UNREACHABLE},
	    {3, 13, -EHOSTUNREACH, SYNACK_CAUSE_ICMP_UNREACHABLE},
	    {11, 0, -EHOSTUNREACH, SYNACK_CAUSE_ICMP_TIME_EXCEEDED},
	    {12, 0, -EPROTO, SYNACK_CAUSE_ICMP_PARAM_PROBLEM},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t syn[128], e[256];
		size_t n;
		struct t *t = syn_sent(syn, &n);
		size_t m = error_about(e, sizeof e, syn, n, cases[i].type, cases[i].code, 0);
		CHECK_EQ(t_input_raw(t, e, m), 0);
		t_state(t, SYNACK_CLOSED);
		if (synack_socket_error(t->st, t->sock) != cases[i].err)
			check_fail(__FILE__, __LINE__, "case %zu (type %u code %u): not %s", i,
			           cases[i].type, cases[i].code, synack_strerror(cases[i].err));
		CHECK(has_change(t, SYNACK_SYN_SENT, SYNACK_CLOSED, cases[i].cause));
		t_free(t);
	}
}

static void icmp_syn_sent_undefined_code_and_frag_needed_are_ignored(void)
{
	uint8_t syn[128], e[256];
	size_t n;
	struct t *t = syn_sent(syn, &n);
	size_t m = error_about(e, sizeof e, syn, 28, WIRE_ICMP_DEST_UNREACH, 16, 0);
	CHECK_EQ(t_input_raw(t, e, m), SYNACK_DROP_ICMP_IGNORED);
	m = error_about(e, sizeof e, syn, 28, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 576);
	CHECK_EQ(t_input_raw(t, e, m), SYNACK_DROP_ICMP_IGNORED);
	t_state(t, SYNACK_SYN_SENT);
	t_drops(t, SYNACK_DROP_ICMP_IGNORED, 2);
	t_free(t);
}

static void icmp_out_of_window_quote_is_dropped_and_counted(void)
{
	uint8_t syn[128], e[256];
	size_t n;
	struct t *t = syn_sent(syn, &n);
	uint32_t iss = wire_get32(syn + 24);
	/* The quoted SEQ must be SND.UNA (our ISS) here: one above or below
	 * is not a segment we have outstanding. */
	uint32_t bad[] = {iss + 1, iss - 1, iss + 0x80000000u};
	for (size_t i = 0; i < 3; i++) {
		wire_put32(syn + 24, bad[i]);
		size_t m = error_about(e, sizeof e, syn, 28, WIRE_ICMP_DEST_UNREACH,
		                       WIRE_ICMP_PORT_UNREACH, 0);
		CHECK_EQ(t_input_raw(t, e, m), SYNACK_DROP_ICMP_OUT_OF_WINDOW);
	}
	t_counter(t, "OutOfWindowIcmps", 3);
	t_drops(t, SYNACK_DROP_ICMP_OUT_OF_WINDOW, 3);
	CHECK(t_trace_has_drop(t, SYNACK_DROP_ICMP_OUT_OF_WINDOW));
	t_state(t, SYNACK_SYN_SENT);
	t_sock_error(t, 0);
	/* The connection goes on as if nothing came. */
	t_peer(t, "S.", T_PEER_ISN, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, T_PEER_ISN + 1, 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

static void icmp_error_about_no_connection_of_ours_is_dropped(void)
{
	uint8_t syn[128], q[128], e[256];
	size_t n;
	struct t *t = syn_sent(syn, &n);
	/* Other ports. */
	memcpy(q, syn, n);
	wire_put16(q + 22, 81);
	size_t m = error_about(e, sizeof e, q, 28, WIRE_ICMP_DEST_UNREACH, 3, 0);
	CHECK_EQ(t_input_raw(t, e, m), SYNACK_DROP_ICMP_NO_CONN);
	/* A quote of a datagram someone else sent. */
	memcpy(q, syn, n);
	wire_put32(q + 12, 0x0a000007u);
	m = error_about(e, sizeof e, q, 28, WIRE_ICMP_DEST_UNREACH, 3, 0);
	CHECK_EQ(t_input_raw(t, e, m), SYNACK_DROP_ICMP_NO_CONN);
	/* Another destination. */
	memcpy(q, syn, n);
	wire_put32(q + 16, 0x0a000007u);
	m = error_about(e, sizeof e, q, 28, WIRE_ICMP_DEST_UNREACH, 3, 0);
	CHECK_EQ(t_input_raw(t, e, m), SYNACK_DROP_ICMP_NO_CONN);
	/* A quote of a protocol we do not send: nothing to tell. */
	memcpy(q, syn, n);
	q[9] = 17;
	m = error_about(e, sizeof e, q, 28, WIRE_ICMP_DEST_UNREACH, 3, 0);
	CHECK_EQ(t_input_raw(t, e, m), SYNACK_DROP_ICMP_IGNORED);
	/* A quote of a TCP datagram that says it carried only 4 bytes. */
	memcpy(q, syn, n);
	wire_put16(q + 2, 24);
	m = error_about(e, sizeof e, q, 24, WIRE_ICMP_DEST_UNREACH, 3, 0);
	CHECK_EQ(t_input_raw(t, e, m), SYNACK_DROP_ICMP_BAD_QUOTE);
	t_counter(t, "IcmpInErrors", 1);
	t_drops(t, SYNACK_DROP_ICMP_NO_CONN, 3);
	t_state(t, SYNACK_SYN_SENT);
	t_expect_nothing(t);
	t_free(t);
}

/* The half-open child went away: nothing to accept, the listener goes on
 * and answers the peer's next SYN.  Frees t. */
static void back_in_listen(struct t *t)
{
	t_counter(t, "AttemptFails", 1);
	CHECK_EQ(synack_accept(t->st, t->listener, NULL), -EAGAIN);
	t_forget_iss(t);
	t_peer(t, "S", T_PEER_ISN + 5000, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 5001, 0);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_free(t);
}

static void icmp_passive_syn_received_unreachable_returns_to_listen(void)
{
	struct t *t = t_new();
	uint8_t synack[128], e[256];
	t_to_syn_received(t);
	size_t n = keep_sent(t, synack);
	size_t m =
	    error_about(e, sizeof e, synack, n, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_HOST_UNREACH, 0);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	t_state(t, SYNACK_CLOSED);
	CHECK(has_change(t, SYNACK_SYN_RECEIVED, SYNACK_LISTEN, SYNACK_CAUSE_ICMP_UNREACHABLE));
	back_in_listen(t);
}

/* ------------------------------------------------------------------ */
/* Errors in synchronized states are soft (RFC 5927 5.2, RFC 5461).     */

/* Established (passive) with 100 bytes of ours outstanding; dgram gets
 * that segment. */
static struct t *established_with_data(const struct synack_config *cfg, uint8_t *dgram, size_t *len)
{
	struct t *t = t_new_with(cfg);
	t_establish_passive(t);
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	*len = keep_sent(t, dgram);
	return t;
}

/* Runs the clock until the connection is gone; returns the ms it took. */
static uint64_t run_until_closed(struct t *t)
{
	uint64_t start = t_now_ms(t);
	for (int i = 0; i < 1000 && t_get_state(t) != SYNACK_CLOSED; i++) {
		t_advance_ms(t, 1000);
		t_drain(t);
	}
	return t_now_ms(t) - start;
}

static void icmp_established_unreachable_is_soft_and_reported_on_timeout(void)
{
	struct synack_config cfg;
	uint8_t seg[256], e[512];
	size_t n;
	t_config(&cfg);
	cfg.retries2 = 3;
	struct t *t = established_with_data(&cfg, seg, &n);
	size_t m =
	    error_about(e, sizeof e, seg, n, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_HOST_UNREACH, 0);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	t_state(t, SYNACK_ESTABLISHED);
	CHECK_EQ(soft_error(t), -EHOSTUNREACH);
	t_expect_nothing(t);
	/* A port unreachable (hard by RFC 1122) is soft here too. */
	m = error_about(e, sizeof e, seg, n, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PORT_UNREACH, 0);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	t_state(t, SYNACK_ESTABLISHED);
	CHECK_EQ(soft_error(t), -ECONNREFUSED);
	m = error_about(e, sizeof e, seg, n, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_HOST_UNREACH, 0);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	/* Not reported while the connection lives: sends and reads work. */
	t_sock_error(t, 0);
	t_recv_err(t, -EAGAIN);
	CHECK(synack_send(t->st, t->sock, "x", 1) == 1);
	/* The retransmissions go unanswered; the timeout reports the soft
	 * error, not ETIMEDOUT (as Linux does). */
	run_until_closed(t);
	t_state(t, SYNACK_CLOSED);
	CHECK(has_change(t, SYNACK_ESTABLISHED, SYNACK_CLOSED, SYNACK_CAUSE_RETRANS_TIMEOUT));
	t_counter(t, "DataRetransTimeouts", 1);
	t_sock_error(t, -EHOSTUNREACH);
	t_free(t);
}

static void icmp_soft_error_is_forgotten_once_data_is_acknowledged(void)
{
	struct synack_config cfg;
	uint8_t seg[256], e[512];
	size_t n;
	t_config(&cfg);
	cfg.retries2 = 2;
	struct t *t = established_with_data(&cfg, seg, &n);
	size_t m = error_about(e, sizeof e, seg, n, WIRE_ICMP_TIME_EXCEEDED, 0, 0);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	CHECK_EQ(soft_error(t), -EHOSTUNREACH);
	t_counter(t, "IcmpInTimeExcds", 1);
	t_peer(t, ".", 1001, T_ISS + 101, 0);
	CHECK_EQ(soft_error(t), 0);
	/* A later timeout is a plain one. */
	t_send(t, 10);
	t_expect(t, "P.", T_ISS + 101, 1001, 10);
	run_until_closed(t);
	t_state(t, SYNACK_CLOSED);
	t_sock_error(t, -ETIMEDOUT);
	t_free(t);
}

static void icmp_established_quote_outside_the_send_window_is_dropped(void)
{
	struct synack_config cfg;
	uint8_t seg[256], e[512];
	size_t n;
	t_config(&cfg);
	struct t *t = established_with_data(&cfg, seg, &n);
	/* Acknowledged data (seq < SND.UNA) and data never sent (>= SND.MAX). */
	t_peer(t, ".", 1001, T_ISS + 50, 0);
	uint32_t una = wire_get32(seg + 24) + 49; /* ISS + 50; SND.MAX is ISS + 101 */
	uint32_t seqs[] = {una - 1, una + 51, una + 1000};
	for (size_t i = 0; i < 3; i++) {
		wire_put32(seg + 24, seqs[i]);
		size_t m = error_about(e, sizeof e, seg, 28, WIRE_ICMP_DEST_UNREACH, 1, 0);
		CHECK_EQ(t_input_raw(t, e, m), SYNACK_DROP_ICMP_OUT_OF_WINDOW);
	}
	t_counter(t, "OutOfWindowIcmps", 3);
	CHECK_EQ(soft_error(t), 0);
	/* SND.UNA itself and the last byte outstanding are in. */
	wire_put32(seg + 24, una);
	size_t m = error_about(e, sizeof e, seg, 28, WIRE_ICMP_DEST_UNREACH, 1, 0);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	CHECK_EQ(soft_error(t), -EHOSTUNREACH);
	wire_put32(seg + 24, una + 50);
	m = error_about(e, sizeof e, seg, 28, WIRE_ICMP_TIME_EXCEEDED, 0, 0);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	CHECK_EQ(soft_error(t), -EHOSTUNREACH);
	t_counter(t, "IcmpInTimeExcds", 1);
	t_state(t, SYNACK_ESTABLISHED);
	t_free(t);
}

static void icmp_error_about_a_time_wait_connection_is_dropped(void)
{
	struct t *t = t_new();
	uint8_t fin[128], e[256];
	t_establish_passive(t);
	t_shutdown_wr(t);
	t_expect(t, "F.", T_ISS + 1, 1001, 0);
	size_t n = keep_sent(t, fin);
	t_peer(t, "F.", 1001, T_ISS + 2, 0);
	t_expect(t, ".", T_ISS + 2, 1002, 0);
	t_state(t, SYNACK_TIME_WAIT);
	size_t m = error_about(e, sizeof e, fin, n, WIRE_ICMP_DEST_UNREACH, 3, 0);
	CHECK_EQ(t_input_raw(t, e, m), SYNACK_DROP_ICMP_NO_CONN);
	t_state(t, SYNACK_TIME_WAIT);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* Path MTU discovery (RFC 1191).                                       */

static void icmp_frag_needed_lowers_the_mss_and_resends(void)
{
	struct t *t = t_new();
	uint8_t seg[1600], e[256];
	t_establish_passive(t);
	CHECK_EQ(mss_of(t), 1460);
	t_send(t, 3000);
	t_expect(t, ".", T_ISS + 1, 1001, 1460);
	size_t n = keep_sent(t, seg);
	CHECK_EQ(n, 1500);
	t_expect(t, ".", T_ISS + 1461, 1001, 1460);
	t_expect(t, "P.", T_ISS + 2921, 1001, 80); /* no short one outstanding */
	t_expect_nothing(t);
	/* A router with a 1000-byte next hop: header + 8 bytes quoted. */
	size_t m =
	    error_about(e, sizeof e, seg, 28, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 1000);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	CHECK_EQ(mss_of(t), 960);
	t_counter(t, "PmtuReductions", 1);
	t_state(t, SYNACK_ESTABLISHED);
	CHECK_EQ(soft_error(t), 0);
	/* Everything outstanding again, in segments that fit. */
	t_expect(t, ".", T_ISS + 1, 1001, 960);
	t_expect(t, ".", T_ISS + 961, 1001, 960);
	t_expect(t, ".", T_ISS + 1921, 1001, 960);
	t_expect(t, "P.", T_ISS + 2881, 1001, 120);
	t_expect_nothing(t);
	t_counter(t, "RetransSegs", 4);
	/* The same message again, or a larger MTU: nothing changes. */
	CHECK_EQ(t_input_raw(t, e, m), 0);
	m = error_about(e, sizeof e, seg, 28, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 1400);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	CHECK_EQ(mss_of(t), 960);
	t_expect_nothing(t);
	/* The peer takes it all; new data goes in 960-byte segments. */
	t_peer(t, ".", 1001, T_ISS + 3001, 0);
	t_send(t, 1000);
	t_expect(t, ".", T_ISS + 3001, 1001, 960);
	t_expect(t, "P.", T_ISS + 3961, 1001, 40);
	t_expect_nothing(t);
	t_counter(t, "PmtuReductions", 1);
	t_free(t);
}

static void icmp_frag_needed_never_goes_below_min_pmtu(void)
{
	struct t *t = t_new();
	uint8_t seg[1600], e[256];
	t_establish_passive(t);
	t_send(t, 1000);
	t_expect(t, "P.", T_ISS + 1, 1001, 1000);
	keep_sent(t, seg);
	size_t m =
	    error_about(e, sizeof e, seg, 28, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 68);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	CHECK_EQ(mss_of(t), 552 - 40);
	t_expect(t, ".", T_ISS + 1, 1001, 512);
	t_expect(t, "P.", T_ISS + 513, 1001, 488);
	t_free(t);
}

/* min_pmtu = 68 lets the path MTU fall to 68 (RFC 791), but the MSS stays
 * at 64 (TCP_MIN_MSS): 28-byte segments would cost a segment per 28 bytes. */
static void icmp_frag_needed_keeps_the_mss_floor_when_min_pmtu_is_68(void)
{
	struct synack_config cfg;
	uint8_t seg[1600], e[256];
	t_config(&cfg);
	cfg.min_pmtu = 68;
	struct t *t = t_new_with(&cfg);
	t_establish_passive(t);
	t_send(t, 100);
	t_expect(t, "P.", T_ISS + 1, 1001, 100);
	keep_sent(t, seg);
	size_t m =
	    error_about(e, sizeof e, seg, 28, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 68);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	CHECK_EQ(mss_of(t), 64);
	t_expect(t, ".", T_ISS + 1, 1001, 64);
	t_expect(t, "P.", T_ISS + 65, 1001, 36);
	t_free(t);
}

static void icmp_frag_needed_without_mtu_uses_the_rfc1191_plateaus(void)
{
	struct synack_config cfg;
	uint8_t seg[1600], e[256];
	t_config(&cfg);
	cfg.min_pmtu = 68;
	struct t *t = t_new_with(&cfg);
	t_establish_passive(t);
	t_send(t, 1000);
	t_expect(t, "P.", T_ISS + 1, 1001, 1000);
	keep_sent(t, seg); /* a 1040-byte datagram */
	/* An old router says nothing of the next hop: the plateau below
	 * 1040 is 1006. */
	size_t m =
	    error_about(e, sizeof e, seg, 28, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 0);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	CHECK_EQ(mss_of(t), 1006 - 40);
	t_expect(t, ".", T_ISS + 1, 1001, 966);
	t_expect(t, "P.", T_ISS + 967, 1001, 34);
	/* Again, quoting the 1006-byte datagram: 508. */
	keep_sent(t, seg);
	wire_put16(seg + 2, 1006);
	m = error_about(e, sizeof e, seg, 28, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 0);
	CHECK_EQ(t_input_raw(t, e, m), 0);
	CHECK_EQ(mss_of(t), 508 - 40);
	t_drain(t);
	t_free(t);
}

/* ------------------------------------------------------------------ */
/* A link that cannot resolve the peer (synack_unreachable): each     */
/* connection to it is treated as for an ICMP host unreachable        */
/* (RFC 1122 4.2.3.9), as Linux treats a failed neighbour.            */

static const struct synack_endpoint PEER = {.addr = T_PEER_ADDR};

static int unreachable(struct t *t)
{
	return synack_unreachable(t->st, t_now_ms(t) * 1000, &PEER, -EHOSTUNREACH);
}

static void neigh_syn_sent_unreachable_fails_the_connect_at_once(void)
{
	uint8_t syn[128];
	size_t n;
	struct t *t = syn_sent(syn, &n);
	CHECK_EQ(unreachable(t), 1);
	t_state(t, SYNACK_CLOSED);
	CHECK(synack_events(t->st, t->sock) & SYNACK_POLLERR);
	t_sock_error(t, -EHOSTUNREACH);
	CHECK(has_change(t, SYNACK_SYN_SENT, SYNACK_CLOSED, SYNACK_CAUSE_NEIGH_FAILED));
	t_counter(t, "AttemptFails", 1);
	t_counter(t, "NeighResFailed", 1);
	t_drops(t, SYNACK_DROP_NEIGH_NO_CONN, 0);
	t_expect_nothing(t); /* nothing to send to a host we cannot reach */
	t_free(t);
}

static void neigh_established_unreachable_is_soft_and_reported_on_timeout(void)
{
	struct synack_config cfg;
	uint8_t seg[256];
	size_t n;
	t_config(&cfg);
	cfg.retries2 = 3;
	struct t *t = established_with_data(&cfg, seg, &n);
	CHECK_EQ(unreachable(t), 1);
	t_state(t, SYNACK_ESTABLISHED);
	CHECK_EQ(soft_error(t), -EHOSTUNREACH);
	t_sock_error(t, 0);
	t_expect_nothing(t);
	run_until_closed(t);
	t_state(t, SYNACK_CLOSED);
	CHECK(has_change(t, SYNACK_ESTABLISHED, SYNACK_CLOSED, SYNACK_CAUSE_RETRANS_TIMEOUT));
	t_sock_error(t, -EHOSTUNREACH);
	t_counter(t, "NeighResFailed", 1);
	t_free(t);
}

static void neigh_syn_received_unreachable_returns_to_listen(void)
{
	struct t *t = t_new();
	t_to_syn_received(t);
	CHECK_EQ(unreachable(t), 1);
	t_state(t, SYNACK_CLOSED);
	CHECK(has_change(t, SYNACK_SYN_RECEIVED, SYNACK_LISTEN, SYNACK_CAUSE_NEIGH_FAILED));
	back_in_listen(t);
}

static void neigh_unreachable_without_a_connection_is_counted_and_ignored(void)
{
	uint8_t syn[128];
	size_t n;
	struct t *t = syn_sent(syn, &n);
	/* Another address on the link: the attempt to the peer goes on. */
	struct synack_endpoint other = {.addr = T_PEER_ADDR + 1};
	CHECK_EQ(synack_unreachable(t->st, 0, &other, -EHOSTUNREACH), 0);
	t_state(t, SYNACK_SYN_SENT);
	t_sock_error(t, 0);
	t_counter(t, "NeighResFailed", 1);
	t_drops(t, SYNACK_DROP_NEIGH_NO_CONN, 1);
	CHECK(strcmp(synack_drop_name(SYNACK_DROP_NEIGH_NO_CONN), "neigh_no_conn") == 0);
	CHECK(strcmp(synack_cause_name(SYNACK_CAUSE_NEIGH_FAILED), "neigh_failed") == 0);
	t_free(t);
}

static void neigh_unreachable_bad_arguments_are_refused(void)
{
	struct t *t = t_new();
	struct synack_endpoint v6 = {.family = SYNACK_AF_INET6};
	struct synack_endpoint bad = {.addr = T_PEER_ADDR, .family = 7};
	CHECK_EQ(synack_unreachable(NULL, 0, &PEER, -EHOSTUNREACH), -EINVAL);
	CHECK_EQ(synack_unreachable(t->st, 0, NULL, -EHOSTUNREACH), -EINVAL);
	CHECK_EQ(synack_unreachable(t->st, 0, &PEER, 0), -EINVAL);
	CHECK_EQ(synack_unreachable(t->st, 0, &PEER, EHOSTUNREACH), -EINVAL);
	CHECK_EQ(synack_unreachable(t->st, 0, &bad, -EHOSTUNREACH), -EINVAL);
	/* IPv6 (issue 14): taken, and here about no connection. */
	CHECK_EQ(synack_unreachable(t->st, 0, &v6, -EHOSTUNREACH), 0);
	t_counter(t, "NeighResFailed", 1);
	t_free(t);
}

int main(void)
{
	RUN(icmp_wire_emit_parse_round_trip);
	RUN(icmp_wire_error_quote_is_parsed_and_checked);
	RUN(icmp_echo_request_gets_byte_exact_reply);
	RUN(icmp_echo_of_any_size_up_to_the_mtu_is_answered);
	RUN(icmp_echo_to_broadcast_or_multicast_is_not_answered);
	RUN(icmp_bad_checksum_or_truncated_gets_no_reply);
	RUN(icmp_messages_we_do_not_act_on_are_counted_and_dropped);
	RUN(icmp_udp_gets_protocol_unreachable_quoting_it);
	RUN(icmp_no_error_where_rfc1122_forbids_one);
	RUN(icmp_errors_are_rate_limited_by_a_token_bucket);
	RUN(icmp_ratelimit_settings_take_effect);
	RUN(icmp_settings_are_checked);
	RUN(icmp_syn_sent_port_unreachable_refuses_the_connect);
	RUN(icmp_syn_sent_other_errors_end_the_connect_with_their_errno);
	RUN(icmp_syn_sent_undefined_code_and_frag_needed_are_ignored);
	RUN(icmp_out_of_window_quote_is_dropped_and_counted);
	RUN(icmp_error_about_no_connection_of_ours_is_dropped);
	RUN(icmp_passive_syn_received_unreachable_returns_to_listen);
	RUN(icmp_established_unreachable_is_soft_and_reported_on_timeout);
	RUN(icmp_soft_error_is_forgotten_once_data_is_acknowledged);
	RUN(icmp_established_quote_outside_the_send_window_is_dropped);
	RUN(icmp_error_about_a_time_wait_connection_is_dropped);
	RUN(icmp_frag_needed_lowers_the_mss_and_resends);
	RUN(icmp_frag_needed_never_goes_below_min_pmtu);
	RUN(icmp_frag_needed_keeps_the_mss_floor_when_min_pmtu_is_68);
	RUN(icmp_frag_needed_without_mtu_uses_the_rfc1191_plateaus);
	RUN(neigh_syn_sent_unreachable_fails_the_connect_at_once);
	RUN(neigh_established_unreachable_is_soft_and_reported_on_timeout);
	RUN(neigh_syn_received_unreachable_returns_to_listen);
	RUN(neigh_unreachable_without_a_connection_is_counted_and_ignored);
	RUN(neigh_unreachable_bad_arguments_are_refused);
	return check_summary("test_icmp");
}
