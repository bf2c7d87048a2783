/*
 * IPv6 reassembly (RFC 8200 4.5; issue 14): an echo request and a SYN in
 * fragments, in order and not, put together byte for byte, the
 * unfragmentable part (a hop-by-hop header) kept; overlaps discard the
 * datagram (RFC 5722); the lone fragment's checks answered with the
 * Parameter Problems RFC 8200 4.5 and RFC 7112 ask for; a timeout answered
 * with Time Exceeded code 1 only when the first fragment came; the budget
 * shared with IPv4 (0 turns reassembly off); the counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synack/synack.h"
#include "wire/wire.h"
#include "wire/wire6.h"

/* 2001:db8::1 (us) and 2001:db8::2 (the peer). */
static const uint8_t US6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t PEER6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static struct synack_stack *stack6(uint32_t high_thresh)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = 0x0a000001;
	memcpy(cfg.addr6, US6, 16);
	cfg.ipfrag_high_thresh = high_thresh;
	struct synack_stack *st = synack_stack_new(&cfg, NULL);
	CHECK(st != NULL);
	return st;
}

static struct synack_stats stats(struct synack_stack *st)
{
	struct synack_stats s;
	synack_stats(st, &s);
	return s;
}

/* An echo request of n data bytes (a pattern) from the peer: the ICMPv6
 * message into msg; returns its length. */
static size_t echo_msg(uint8_t *msg, size_t n)
{
	static uint8_t data[4000];
	struct addr a = wire_addr6_from_bytes(US6), b = wire_addr6_from_bytes(PEER6);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	return wire_icmp6_emit(msg, 4096, &b, &a, WIRE_ICMP6_ECHO, 0, 0x00420007, data, n);
}

/* A fragment of the upper-layer message msg (next header nh): its bytes
 * off..off+len, M set when more, identification id; hbh adds an 8-byte
 * hop-by-hop header before the Fragment header (the unfragmentable part).
 * Returns the datagram's length. */
static size_t frag6(uint8_t *buf, uint8_t nh, const uint8_t *msg, size_t off, size_t len, int more,
                    uint32_t id, int hbh)
{
	struct addr a = wire_addr6_from_bytes(US6), b = wire_addr6_from_bytes(PEER6);
	size_t h = hbh ? 8 : 0;
	wire_ip6_emit(buf, &b, &a, hbh ? WIRE_IPPROTO_HOPOPTS : WIRE_IPPROTO_FRAGMENT, 64, 0,
	              h + 8 + len, 0);
	if (hbh) {
		static const uint8_t pad[8] = {WIRE_IPPROTO_FRAGMENT, 0, 1, 4, 0, 0, 0, 0};
		memcpy(buf + 40, pad, 8);
	}
	uint8_t *fh = buf + 40 + h;
	fh[0] = nh;
	fh[1] = 0;
	wire_put16(fh + 2, (uint16_t)(off | (more ? 1u : 0u)));
	wire_put32(fh + 4, id);
	memcpy(fh + 8, msg + off, len);
	return 40 + h + 8 + len;
}

/* The next datagram the stack sends, parsed as ICMPv6 into *ic (0 when
 * none): its length. */
static size_t next_icmp6(struct synack_stack *st, uint8_t *r, struct wire_icmp6 *ic)
{
	ssize_t n = synack_output(st, r, 2000);
	if (n <= 0)
		return 0;
	struct wire_ip6 ip;
	CHECK_EQ(wire_ip6_parse(r, (size_t)n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.proto, WIRE_IPPROTO_ICMPV6);
	struct wire_net net = wire_ip6_net(&ip);
	CHECK_EQ(wire_icmp6_parse(&net, ic), SYNACK_DROP_NONE);
	return (size_t)n;
}

static void check_echo_reply(struct synack_stack *st, const uint8_t *msg, size_t n)
{
	uint8_t r[2000];
	struct wire_icmp6 ic;
	CHECK(next_icmp6(st, r, &ic) > 0);
	CHECK_EQ(ic.type, WIRE_ICMP6_ECHO_REPLY);
	CHECK_EQ(ic.rest, 0x00420007);
	CHECK_EQ(ic.data_len, n - 8);
	CHECK(memcmp(ic.data, msg + 8, n - 8) == 0);
}

static void echo_in_fragments_is_put_together(void)
{
	struct synack_stack *st = stack6(4u << 20);
	uint8_t msg[4096], p[2000];
	size_t n = echo_msg(msg, 1200); /* 1208 bytes: the reply fits 1500 */
	/* In order, three pieces (multiples of 8 but the last). */
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 0, 400, 1, 1, 0)), 0);
	CHECK_EQ(synack_output_pending(st), 0);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 400, 400, 1, 1, 0)), 0);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 800, n - 800, 0, 1, 0)), 0);
	check_echo_reply(st, msg, n);
	/* Backwards, with a hop-by-hop header in the unfragmentable part. */
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 800, n - 800, 0, 2, 1)), 0);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 400, 400, 1, 2, 1)), 0);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 0, 400, 1, 2, 1)), 0);
	check_echo_reply(st, msg, n);
	/* Two datagrams interleaved, told apart by their identification. */
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 0, 800, 1, 3, 0)), 0);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 0, 800, 1, 4, 0)), 0);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 800, n - 800, 0, 4, 0)), 0);
	check_echo_reply(st, msg, n);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 800, n - 800, 0, 3, 0)), 0);
	check_echo_reply(st, msg, n);
	struct synack_stats s = stats(st);
	CHECK_EQ_U64(s.Ip6ReasmReqds, 10);
	CHECK_EQ_U64(s.Ip6ReasmOKs, 4);
	CHECK_EQ_U64(s.Ip6ReasmFails, 0);
	CHECK_EQ_U64(s.IpReasmReqds, 0);
	CHECK_EQ_U64(s.Icmp6InEchos, 4);
	synack_stack_free(st);
}

static void syn_in_fragments_reaches_the_listener(void)
{
	struct synack_stack *st = stack6(4u << 20);
	int l = synack_socket(st);
	struct synack_endpoint any = {.family = SYNACK_AF_INET6, .port = 80};
	CHECK_EQ(synack_bind(st, l, &any), 0);
	CHECK_EQ(synack_listen(st, l, 4), 0);
	struct wire_tcp_out seg;
	memset(&seg, 0, sizeof(seg));
	seg.saddr = wire_addr6_from_bytes(PEER6);
	seg.daddr = wire_addr6_from_bytes(US6);
	seg.sport = 40000;
	seg.dport = 80;
	seg.seq = 1000;
	seg.flags = SYNACK_TH_SYN;
	seg.wnd = 65535;
	seg.opts.has_mss = 1;
	seg.opts.mss = 1440;
	uint8_t msg[256], p[512], r[2000];
	size_t n = wire_tcp_emit(msg, sizeof msg, &seg, NULL, 0);
	CHECK(n > 16);
	/* The second piece first; the first holds the ports (RFC 7112). */
	CHECK_EQ(synack_input(st, 0, p, frag6(p, WIRE_IPPROTO_TCP, msg, 16, n - 16, 0, 9, 0)), 0);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, WIRE_IPPROTO_TCP, msg, 0, 16, 1, 9, 0)), 0);
	ssize_t rn = synack_output(st, r, sizeof r);
	CHECK(rn > 40);
	struct wire_ip6 ip;
	CHECK_EQ(wire_ip6_parse(r, (size_t)rn, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.proto, WIRE_IPPROTO_TCP);
	CHECK_EQ(ip.payload[13] & 0x12, 0x12); /* SYN-ACK */
	struct synack_stats s = stats(st);
	CHECK_EQ_U64(s.Ip6ReasmOKs, 1);
	CHECK_EQ_U64(s.InSegs, 1);
	synack_stack_free(st);
}

/* RFC 5722: a fragment overlapping one held discards the whole datagram,
 * an exact duplicate too; its later fragments start anew. */
static void overlap_discards_the_datagram(void)
{
	struct synack_stack *st = stack6(4u << 20);
	uint8_t msg[4096], p[2000], r[2000];
	size_t n = echo_msg(msg, 1200);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 0, 800, 1, 5, 0)), 0);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 400, 400, 1, 5, 0)),
	         SYNACK_DROP_FRAG_OVERLAP);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 800, n - 800, 0, 5, 0)), 0);
	CHECK_EQ(synack_output(st, r, sizeof r), 0); /* nothing whole */
	/* An exact duplicate. */
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 800, n - 800, 0, 5, 0)),
	         SYNACK_DROP_FRAG_OVERLAP);
	struct synack_stats s = stats(st);
	CHECK_EQ_U64(s.Ip6ReasmFails, 2);
	CHECK_EQ_U64(s.drops[SYNACK_DROP_FRAG_OVERLAP], 2);
	CHECK_EQ_U64(s.Ip6ReasmOKs, 0);
	synack_stack_free(st);
}

/* The Parameter Problem each bad lone fragment gets (RFC 8200 4.5, RFC
 * 7112 5), with its drop reason; none costs any state. */
static void expect_pp(struct synack_stack *st, uint8_t *p, size_t len, int reason, uint8_t code,
                      uint32_t ptr)
{
	uint8_t r[2000];
	CHECK_EQ(synack_input(st, 0, p, len), reason);
	/* Read by hand: our own parser refuses errors quoting a fragment
	 * other than the first or an incomplete chain (nothing TCP could
	 * use), which two of these are. */
	ssize_t rn = synack_output(st, r, sizeof r);
	CHECK(rn >= 48 + 40);
	CHECK_EQ(r[6], WIRE_IPPROTO_ICMPV6);
	CHECK_EQ(r[40], WIRE_ICMP6_PARAM_PROBLEM);
	CHECK_EQ(r[41], code);
	CHECK_EQ(wire_get32(r + 44), ptr);
	CHECK(memcmp(r + 48, p, 40) == 0); /* the quote */
	CHECK_EQ(synack_next_deadline(st), SYNACK_NEVER);
}

static void bad_fragments_are_answered(void)
{
	struct synack_stack *st = stack6(4u << 20);
	uint8_t msg[70000], p[2000];
	size_t n = echo_msg(msg, 1200);
	(void)n;
	/* M set, 20 bytes: not a multiple of 8; code 0 at Payload Length. */
	expect_pp(st, p, frag6(p, 58, msg, 0, 20, 1, 6, 0), SYNACK_DROP_FRAG_BAD_LEN,
	          WIRE_ICMP6_PP_HEADER, 4);
	/* Past 65535 bytes of payload: code 0 at the Fragment Offset. */
	expect_pp(st, p, frag6(p, 58, msg, 65528, 16, 0, 6, 0), SYNACK_DROP_FRAG_TOO_BIG,
	          WIRE_ICMP6_PP_HEADER, 42);
	/* A first fragment whose destination options header runs past it:
	 * the chain is incomplete, code 3 pointer 0 (RFC 7112). */
	uint8_t chain[16] = {WIRE_IPPROTO_TCP, 3, 1, 4, 0, 0, 0, 0, 1, 6};
	expect_pp(st, p, frag6(p, WIRE_IPPROTO_DSTOPTS, chain, 0, 16, 1, 6, 0),
	          SYNACK_DROP_IP6_FRAGMENT, WIRE_ICMP6_PP_CHAIN, 0);
	struct synack_stats s = stats(st);
	CHECK_EQ_U64(s.Ip6ReasmReqds, 3);
	CHECK_EQ_U64(s.Ip6ReasmFails, 3);
	CHECK_EQ_U64(s.Icmp6OutParmProblems, 3);
	synack_stack_free(st);
}

/* ipfrag_time_ms after its first fragment came, an incomplete datagram is
 * discarded: Time Exceeded code 1 quoting the first fragment when it had
 * come, nothing otherwise. */
static void timeout_sends_time_exceeded(void)
{
	struct synack_stack *st = stack6(4u << 20);
	uint8_t msg[4096], p[2000], r[2000];
	size_t n = echo_msg(msg, 1200);
	size_t first = frag6(p, 58, msg, 0, 400, 1, 7, 0);
	CHECK_EQ(synack_input(st, 0, p, first), 0);
	uint8_t quoted[2000];
	memcpy(quoted, p, first);
	CHECK_EQ(synack_input(st, 1000, p, frag6(p, 58, msg, 800, n - 800, 0, 8, 0)), 0);
	CHECK_EQ(synack_next_deadline(st), 30000000u);
	synack_advance(st, 29999999);
	CHECK_EQ(synack_output(st, r, sizeof r), 0);
	synack_advance(st, 30000000);
	struct wire_icmp6 ic;
	CHECK(next_icmp6(st, r, &ic) > 0);
	CHECK_EQ(ic.type, WIRE_ICMP6_TIME_EXCEEDED);
	CHECK_EQ(ic.code, WIRE_ICMP6_REASM_TIMEOUT);
	CHECK_EQ(ic.data_len, first);
	CHECK(memcmp(ic.data, quoted, first) == 0);
	synack_advance(st, 30001000); /* id 8 never had its first fragment */
	CHECK_EQ(synack_output(st, r, sizeof r), 0);
	struct synack_stats s = stats(st);
	CHECK_EQ_U64(s.Ip6ReasmTimeout, 2);
	CHECK_EQ_U64(s.Ip6ReasmFails, 2);
	CHECK_EQ_U64(s.drops[SYNACK_DROP_FRAG_TIMEOUT], 2);
	CHECK_EQ_U64(s.IpReasmTimeout, 0);
	synack_stack_free(st);
}

/* The budget is IPv4's: 0 keeps nothing. */
static void budget_zero_turns_it_off(void)
{
	struct synack_stack *st = stack6(0);
	uint8_t msg[4096], p[2000];
	echo_msg(msg, 1200);
	CHECK_EQ(synack_input(st, 0, p, frag6(p, 58, msg, 0, 400, 1, 1, 0)),
	         SYNACK_DROP_FRAG_BUDGET);
	CHECK_EQ(synack_next_deadline(st), SYNACK_NEVER);
	struct synack_stats s = stats(st);
	CHECK_EQ_U64(s.Ip6ReasmFails, 1);
	synack_stack_free(st);
}

int main(void)
{
	RUN(echo_in_fragments_is_put_together);
	RUN(syn_in_fragments_reaches_the_listener);
	RUN(overlap_discards_the_datagram);
	RUN(bad_fragments_are_answered);
	RUN(timeout_sends_time_exceeded);
	RUN(budget_zero_turns_it_off);
	return check_summary("test_reasm6");
}
