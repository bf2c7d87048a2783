/*
 * IPv4 reassembly (RFC 791 3.2, RFC 815, RFC 1122 3.3.2; src/net/reasm4.c)
 * and the fragmented echo replies that answer large pings: fragments in
 * any order make the datagram they came from, which is then processed
 * like one that came whole; every bad fragment and every overlap is
 * dropped with its reason and counted; incomplete datagrams time out
 * (ICMP Time Exceeded, code 1, when the first fragment came) or are
 * evicted within ipfrag_high_thresh.
 */
#include <stdlib.h>

#include "script.h"
#include "stack/stack.h"

/* A whole datagram from the peer to us: header and payload. */
static size_t dgram(uint8_t *buf, uint8_t proto, uint16_t id, const uint8_t *payload, size_t len)
{
	memcpy(buf + WIRE_IP4_HDR_LEN, payload, len);
	wire_ip4_emit(buf, T_PEER_ADDR, T_US_ADDR, proto, 64, id, len);
	wire_put16(buf + 6, 0); /* no DF: it may be fragmented */
	t_fix_ip_csum(buf);
	return WIRE_IP4_HDR_LEN + len;
}

/* An echo request with n data bytes (a pattern), id and sequence 7. */
static size_t echo(uint8_t *buf, uint16_t id, size_t n)
{
	uint8_t *m = malloc(WIRE_ICMP_HDR_LEN + n);
	for (size_t i = 0; i < n; i++)
		m[WIRE_ICMP_HDR_LEN + i] = (uint8_t)(i * 7 + 3);
	size_t len = wire_icmp_emit(m, WIRE_ICMP_HDR_LEN + n, WIRE_ICMP_ECHO, 0,
	                            ((uint32_t)id << 16) | 7, m + WIRE_ICMP_HDR_LEN, n);
	size_t total = dgram(buf, WIRE_IPPROTO_ICMP, id, m, len);
	free(m);
	return total;
}

/* Sends bytes [off, off + len) of whole's payload as a fragment, MF set
 * unless last; flags adds other bits (DF).  Returns synack_input's result. */
static int frag(struct t *t, const uint8_t *whole, size_t off, size_t len, int last, uint16_t flags)
{
	static uint8_t f[70000];
	memcpy(f, whole, WIRE_IP4_HDR_LEN);
	memcpy(f + WIRE_IP4_HDR_LEN, whole + WIRE_IP4_HDR_LEN + off, len);
	wire_put16(f + 2, (uint16_t)(WIRE_IP4_HDR_LEN + len));
	wire_put16(f + 6, (uint16_t)((off / 8) | (last ? 0 : WIRE_IP4_MF) | flags));
	t_fix_ip_csum(f);
	return t_input_raw(t, f, WIRE_IP4_HDR_LEN + len);
}

/* Sends whole's payload in pieces of size bytes (the last shorter), in
 * the order given by order[] (indexes of pieces), all of them when order
 * is NULL (in order).  Returns the last input's result. */
static int frags(struct t *t, const uint8_t *whole, size_t total, size_t size, const size_t *order)
{
	size_t payload = total - WIRE_IP4_HDR_LEN, n = (payload + size - 1) / size;
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = order ? order[i] : i;
		size_t off = k * size, len = payload - off < size ? payload - off : size;
		r = frag(t, whole, off, len, off + len == payload, 0);
	}
	return r;
}

/*
 * Takes every datagram we sent: fragments (or one whole datagram) of one
 * ICMP message to the peer, checked one by one (RFC 791 3.2: the same
 * identification, DF clear, MF on all but the last, 8-byte multiples but
 * the last, none above the MTU), put together into msg.  Returns the
 * message's length, 0 when something was wrong.
 */
static size_t collect(struct t *t, uint8_t *msg, size_t cap, size_t *count)
{
	static uint8_t d[2048];
	ssize_t n;
	size_t end = 0, got = 0, last_end = 0;
	int id = -1;
	*count = 0;
	while ((n = synack_output(t->st, d, sizeof d)) > 0) {
		struct wire_ip4 ip;
		int r = wire_ip4_parse(d, (size_t)n, &ip);
		CHECK(r == SYNACK_DROP_NONE || r == SYNACK_DROP_IP_FRAGMENT);
		CHECK(n <= 1500);
		CHECK_EQ(ip.src, T_US_ADDR);
		CHECK_EQ(ip.dst, T_PEER_ADDR);
		CHECK_EQ(ip.proto, WIRE_IPPROTO_ICMP);
		if (id >= 0)
			CHECK_EQ(ip.id, (uint16_t)id);
		id = ip.id;
		size_t off = (size_t)(ip.frag & WIRE_IP4_OFFSET_MASK) * 8;
		if (r == SYNACK_DROP_IP_FRAGMENT) {
			CHECK(!(ip.frag & WIRE_IP4_DF));
			if (ip.frag & WIRE_IP4_MF)
				CHECK_EQ(ip.payload_len % 8, 0);
			else
				last_end = off + ip.payload_len;
		} else {
			last_end = ip.payload_len;
		}
		if (off + ip.payload_len > cap)
			return 0;
		memcpy(msg + off, ip.payload, ip.payload_len);
		got += ip.payload_len;
		if (off + ip.payload_len > end)
			end = off + ip.payload_len;
		(*count)++;
	}
	CHECK_EQ(end, last_end);
	CHECK_EQ(got, end); /* no gaps, no overlaps */
	return got == end && end == last_end ? end : 0;
}

/* The reply to the echo request req must be what collect put together:
 * type 0, the same identifier, sequence and data, a right checksum. */
static void expect_echo_reply(struct t *t, const uint8_t *req, size_t req_len, size_t nfrags)
{
	static uint8_t msg[70000], want[70000];
	size_t count, n = collect(t, msg, sizeof msg, &count);
	size_t len = req_len - WIRE_IP4_HDR_LEN;
	CHECK_EQ(n, len);
	CHECK_EQ(count, nfrags);
	memcpy(want, req + WIRE_IP4_HDR_LEN, len);
	wire_icmp_emit(want, sizeof want, WIRE_ICMP_ECHO_REPLY, 0,
	               wire_get32(req + WIRE_IP4_HDR_LEN + 4), want + WIRE_ICMP_HDR_LEN,
	               len - WIRE_ICMP_HDR_LEN);
	CHECK(n == len && memcmp(msg, want, len) == 0);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, msg, n)), 0);
}

static uint64_t reasm_mem(struct t *t)
{
	struct synack_mem m;
	synack_memory(t->st, &m);
	return m.packets;
}

/* ------------------------------------------------------------------ */

/* `ping -s 3000`: three fragments in, three out, byte-exact. */
static void reasm_ping_3000_in_order_is_answered_in_fragments(void)
{
	struct t *t = t_new();
	static uint8_t req[70000];
	size_t n = echo(req, 1, 3000);
	CHECK_EQ(frag(t, req, 0, 1480, 0, 0), 0);
	CHECK_EQ(frag(t, req, 1480, 1480, 0, 0), 0);
	CHECK_EQ(synack_output_pending(t->st), 0);
	CHECK_EQ(frag(t, req, 2960, n - 20 - 2960, 1, 0), 0);
	expect_echo_reply(t, req, n, 3);
	t_counter(t, "IpReasmReqds", 3);
	t_counter(t, "IpReasmOKs", 1);
	t_counter(t, "IpReasmFails", 0);
	t_counter(t, "IcmpInEchos", 1);
	t_counter(t, "IcmpOutEchoReps", 1);
	t_counter(t, "IpFragOKs", 1);
	t_counter(t, "IpFragCreates", 3);
	t_counter(t, "IpOutRequests", 1);
	t_free(t);
}

/* The largest datagram IPv4 can say (65535 bytes) and odd sizes. */
static void reasm_pings_of_many_sizes_are_answered(void)
{
	struct t *t = t_new();
	static uint8_t req[70000];
	size_t sizes[] = {1473, 1472 + 8, 8000, 65535 - 28};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = echo(req, (uint16_t)(10 + i), sizes[i]);
		CHECK_EQ(frags(t, req, n, 1480, NULL), 0);
		expect_echo_reply(t, req, n, (n - 20 + 1479) / 1480);
	}
	t_counter(t, "IpReasmOKs", 4);
	t_free(t);
}

static void reasm_reversed_and_shuffled_fragments_make_the_datagram(void)
{
	struct t *t = t_new();
	static uint8_t req[70000];
	size_t n = echo(req, 2, 3000); /* 3008 bytes of payload: 47 pieces of 64 */
	size_t order[47];
	for (size_t i = 0; i < 47; i++)
		order[i] = 46 - i;
	CHECK_EQ(frags(t, req, n, 64, order), 0);
	expect_echo_reply(t, req, n, 3);
	/* A fixed shuffle: i * 17 mod 47 visits every piece once. */
	n = echo(req, 3, 3000);
	for (size_t i = 0; i < 47; i++)
		order[i] = i * 17 % 47;
	CHECK_EQ(frags(t, req, n, 64, order), 0);
	expect_echo_reply(t, req, n, 3);
	/* Eight-byte pieces, the smallest, from both ends inwards. */
	n = echo(req, 4, 400); /* 408 bytes: 51 pieces */
	size_t o2[51];
	for (size_t i = 0; i < 51; i++)
		o2[i] = i % 2 ? 50 - i / 2 : i / 2;
	CHECK_EQ(frags(t, req, n, 8, o2), 0);
	expect_echo_reply(t, req, n, 1);
	t_counter(t, "IpReasmOKs", 3);
	t_counter(t, "IpReasmFails", 0);
	t_free(t);
}

/* Two datagrams with different identifications interleave. */
static void reasm_interleaved_datagrams_are_kept_apart(void)
{
	struct t *t = t_new();
	static uint8_t a[4000], b[4000];
	size_t na = echo(a, 5, 2000), nb = echo(b, 6, 2000);
	CHECK_EQ(frag(t, a, 0, 1000, 0, 0), 0);
	CHECK_EQ(frag(t, b, 1000, nb - 20 - 1000, 1, 0), 0);
	CHECK_EQ(frag(t, b, 0, 1000, 0, 0), 0);
	expect_echo_reply(t, b, nb, 2);
	CHECK_EQ(frag(t, a, 1000, na - 20 - 1000, 1, 0), 0);
	expect_echo_reply(t, a, na, 2);
	t_free(t);
}

/* RFC 5722 style: any overlap with a fragment held, an exact duplicate
 * included, discards the whole datagram; the rest then completes nothing. */
static void reasm_every_overlap_drops_the_datagram(void)
{
	static const struct {
		size_t off, len;
		int last;
	} shapes[] = {
	    {64, 64, 0},  /* an exact duplicate */
	    {32, 40, 0},  /* over the start */
	    {120, 40, 0}, /* over the end */
	    {72, 8, 0},   /* inside */
	    {0, 256, 0},  /* covering it */
	    {56, 16, 0},  /* straddling the start */
	    {64, 8, 0},   /* the same start, shorter */
	    {120, 8, 0},  /* the same end, shorter */
	    {64, 200, 1}, /* a last fragment over it */
	};
	struct t *t = t_new();
	static uint8_t req[1000];
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		size_t n = echo(req, (uint16_t)(100 + i), 400); /* 408 bytes */
		CHECK_EQ(frag(t, req, 64, 64, 0, 0), 0);
		CHECK_EQ(frag(t, req, shapes[i].off, shapes[i].len, shapes[i].last, 0),
		         SYNACK_DROP_FRAG_OVERLAP);
		CHECK(t_trace_has_drop(t, SYNACK_DROP_FRAG_OVERLAP));
		/* The datagram is gone: everything but the first fragment held
		 * before now starts a new one, which stays incomplete. */
		CHECK_EQ(frag(t, req, 0, 64, 0, 0), 0);
		CHECK_EQ(frag(t, req, 128, n - 20 - 128, 1, 0), 0);
		t_expect_nothing(t);
	}
	t_drops(t, SYNACK_DROP_FRAG_OVERLAP, 9);
	t_counter(t, "IpReasmFails", 9);
	t_counter(t, "IpReasmOKs", 0);
	/* The incomplete ones time out with Time Exceeded (each had its
	 * first fragment; the rate limit lets 6 go), and nothing is held. */
	t_advance_ms(t, 30000);
	CHECK_EQ(t_drain(t), 6);
	CHECK_EQ(t->st->sock.tcp.net.reasm->bytes, 0);
	t_free(t);
}

static void reasm_bad_fragments_are_dropped_with_their_reasons(void)
{
	struct t *t = t_new();
	static uint8_t req[70000];
	size_t n = echo(req, 20, 400);
	/* DF with MF, DF with an offset. */
	CHECK_EQ(frag(t, req, 0, 64, 0, WIRE_IP4_DF), SYNACK_DROP_FRAG_DF);
	CHECK_EQ(frag(t, req, 64, n - 20 - 64, 1, WIRE_IP4_DF), SYNACK_DROP_FRAG_DF);
	/* An empty fragment; one not the last whose length is not 8k. */
	CHECK_EQ(frag(t, req, 64, 0, 0, 0), SYNACK_DROP_FRAG_BAD_LEN);
	CHECK_EQ(frag(t, req, 64, 0, 1, 0), SYNACK_DROP_FRAG_BAD_LEN);
	CHECK_EQ(frag(t, req, 0, 60, 0, 0), SYNACK_DROP_FRAG_BAD_LEN);
	/* Ending past 65535 bytes: offset 8189 * 8 with 16 bytes and more. */
	static uint8_t big[70000];
	memcpy(big, req, 20);
	CHECK_EQ(frag(t, big, 8189 * 8, 16, 1, 0), SYNACK_DROP_FRAG_TOO_BIG);
	CHECK_EQ(frag(t, big, 8191 * 8, 8, 0, 0), SYNACK_DROP_FRAG_TOO_BIG);
	t_drops(t, SYNACK_DROP_FRAG_DF, 2);
	t_drops(t, SYNACK_DROP_FRAG_BAD_LEN, 3);
	t_drops(t, SYNACK_DROP_FRAG_TOO_BIG, 2);
	t_counter(t, "IpReasmFails", 7);
	t_counter(t, "IpReasmReqds", 7);
	t_expect_nothing(t);
	/* None of them cost a queue: nothing times out. */
	CHECK_EQ(synack_next_deadline(t->st), SYNACK_NEVER);
	t_free(t);
}

static void reasm_disagreeing_ends_drop_the_datagram(void)
{
	struct t *t = t_new();
	static uint8_t req[2000];
	size_t n = echo(req, 30, 400); /* 408 bytes */
	/* A second last fragment with another end. */
	CHECK_EQ(frag(t, req, 200, n - 20 - 200, 1, 0), 0);
	CHECK_EQ(frag(t, req, 200, 8, 1, 0), SYNACK_DROP_FRAG_BAD_END);
	/* Data past the end known. */
	CHECK_EQ(frag(t, req, 200, n - 20 - 200, 1, 0), 0);
	CHECK_EQ(frag(t, req, 400, 16, 0, 0), SYNACK_DROP_FRAG_BAD_END);
	/* A last fragment ending before data held. */
	CHECK_EQ(frag(t, req, 256, 64, 0, 0), 0);
	CHECK_EQ(frag(t, req, 200, 8, 1, 0), SYNACK_DROP_FRAG_BAD_END);
	t_drops(t, SYNACK_DROP_FRAG_BAD_END, 3);
	t_counter(t, "IpReasmFails", 3);
	/* Each discarded its datagram: nothing is held. */
	CHECK_EQ(synack_next_deadline(t->st), SYNACK_NEVER);
	t_expect_nothing(t);
	t_free(t);
}

/* RFC 1122 3.3.2 / RFC 792: Time Exceeded, code 1, quoting the first
 * fragment, ipfrag_time_ms after the first fragment came (not refreshed by
 * later ones). */
static void reasm_timeout_sends_time_exceeded_quoting_the_first_fragment(void)
{
	struct t *t = t_new();
	static uint8_t req[4000];
	size_t n = echo(req, 40, 3000);
	uint64_t base = reasm_mem(t);
	t_at(t, 1000);
	CHECK_EQ(frag(t, req, 0, 1480, 0, 0), 0);
	CHECK(reasm_mem(t) > base + 1480);
	t_at(t, 20000);
	CHECK_EQ(frag(t, req, 2960, n - 20 - 2960, 1, 0), 0);
	CHECK_EQ(synack_next_deadline(t->st), 31000ull * 1000);
	t_at(t, 30999);
	t_expect_nothing(t);
	t_at(t, 31000);
	if (t_expect_icmp(t, WIRE_ICMP_TIME_EXCEEDED, WIRE_ICMP_REASM_TIMEOUT)) {
		CHECK_EQ(t->icmp.quote.src, T_PEER_ADDR);
		CHECK_EQ(t->icmp.quote.proto, WIRE_IPPROTO_ICMP);
		CHECK_EQ(t->ip.total_len, 576); /* as much as an error carries */
		CHECK(memcmp(t->icmp.data + 20, req + 20, 576 - 48) == 0);
	}
	t_counter(t, "IpReasmTimeout", 1);
	t_counter(t, "IpReasmFails", 1);
	t_counter(t, "IcmpOutTimeExcds", 1);
	t_drops(t, SYNACK_DROP_FRAG_TIMEOUT, 1);
	CHECK(t_trace_has_drop(t, SYNACK_DROP_FRAG_TIMEOUT));
	CHECK_EQ(synack_next_deadline(t->st), SYNACK_NEVER);
	/* Only the state itself (the table) stays. */
	CHECK_EQ(t->st->sock.tcp.net.reasm->bytes, 0);
	CHECK_EQ(reasm4_memory(&t->st->sock.tcp.net), sizeof(struct reasm4) + 16 * sizeof(void *));
	CHECK(reasm_mem(t) > base); /* it is counted (with a pooled datagram now) */
	t_free(t);
}

static void reasm_timeout_without_first_fragment_sends_nothing(void)
{
	struct t *t = t_new();
	static uint8_t req[4000];
	size_t n = echo(req, 41, 3000);
	CHECK_EQ(frag(t, req, 1480, 1480, 0, 0), 0);
	CHECK_EQ(frag(t, req, 2960, n - 20 - 2960, 1, 0), 0);
	t_advance_ms(t, 30000);
	t_expect_nothing(t);
	t_counter(t, "IpReasmTimeout", 1);
	t_counter(t, "IcmpOutTimeExcds", 0);
	t_free(t);
}

/* ipfrag_time_ms is a setting. */
static void reasm_timeout_follows_ipfrag_time_ms(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.ipfrag_time_ms = 500;
	struct t *t = t_new_with(&cfg);
	static uint8_t req[4000];
	echo(req, 42, 3000);
	CHECK_EQ(frag(t, req, 0, 1480, 0, 0), 0);
	t_advance_ms(t, 499);
	t_expect_nothing(t);
	t_advance_ms(t, 1);
	t_expect_icmp(t, WIRE_ICMP_TIME_EXCEEDED, WIRE_ICMP_REASM_TIMEOUT);
	t_free(t);
}

/* Past ipfrag_high_thresh the oldest incomplete datagrams are evicted; a
 * datagram that alone does not fit is dropped; 0 turns reassembly off. */
static void reasm_budget_evicts_the_oldest_and_bounds_memory(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.ipfrag_high_thresh = 8192;
	struct t *t = t_new_with(&cfg);
	static uint8_t req[70000];
	/* Incomplete datagrams of 1480 bytes each until the budget is full. */
	for (uint16_t id = 0; id < 10; id++) {
		echo(req, (uint16_t)(200 + id), 3000);
		CHECK_EQ(frag(t, req, 0, 1480, 0, 0), 0);
		CHECK(reasm_mem(t) <= 8192 + 4096); /* the budget, the state and the table */
	}
	uint64_t evicted = t_counter_get(t, "IpReasmFails");
	CHECK(evicted >= 5);
	CHECK_EQ(t->st->sock.tcp.net.reasm->bytes <= 8192, 1);
	/* A new datagram still completes: older ones make room. */
	size_t n = echo(req, 300, 3000);
	CHECK_EQ(frags(t, req, n, 1480, NULL), 0);
	expect_echo_reply(t, req, n, 3);
	CHECK(t_counter_get(t, "IpReasmFails") > evicted);
	CHECK_EQ(t_counter_get(t, "IpReasmFails"),
	         ENV(t->st)->stats.drops[SYNACK_DROP_FRAG_EVICTED]);
	CHECK(t_trace_has_drop(t, SYNACK_DROP_FRAG_EVICTED));
	/* 9000 bytes cannot fit 8192 whatever is evicted. */
	n = echo(req, 301, 9000);
	CHECK_EQ(frags(t, req, n, 1480, NULL), 0); /* the last fragments start anew */
	CHECK_EQ(ENV(t->st)->stats.drops[SYNACK_DROP_FRAG_BUDGET], 1);
	t_expect_nothing(t);
	t_free(t);

	cfg.ipfrag_high_thresh = 0;
	t = t_new_with(&cfg);
	n = echo(req, 302, 3000);
	CHECK_EQ(frag(t, req, 0, 1480, 0, 0), SYNACK_DROP_FRAG_BUDGET);
	CHECK_EQ(synack_next_deadline(t->st), SYNACK_NEVER);
	t_free(t);
}

/* A datagram may arrive in ipfrag_max_frags fragments, not one more: a
 * hostile order (each fragment before all those held) then costs at most
 * that many steps per fragment.  The datagram that passes it is discarded;
 * another is untouched. */
static void reasm_fragments_per_datagram_are_bounded(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.ipfrag_max_frags = 4;
	struct t *t = t_new_with(&cfg);
	static uint8_t req[4000], other[4000];
	size_t n = echo(req, 400, 3000); /* 3008 bytes of ICMP: 4 pieces of 800 */
	CHECK_EQ(frags(t, req, n, 800, NULL), 0);
	expect_echo_reply(t, req, n, 3);
	/* The same size in 8 pieces of 400, the pieces from the back. */
	size_t held = echo(other, 402, 3000);
	CHECK_EQ(frag(t, other, 0, 400, 0, 0), 0); /* another datagram, held */
	n = echo(req, 401, 3000);
	size_t back[] = {7, 6, 5, 4, 3, 2, 1, 0};
	CHECK_EQ(frags(t, req, n, 400, back), 0);
	CHECK_EQ(ENV(t->st)->stats.drops[SYNACK_DROP_FRAG_TOO_MANY], 1);
	t_expect_nothing(t);
	/* The other datagram was not touched: its rest completes it. */
	size_t rest = held - WIRE_IP4_HDR_LEN - 400;
	CHECK_EQ(frag(t, other, 400, rest, 1, 0), 0);
	expect_echo_reply(t, other, held, 3);
	t_free(t);
}

/* Fragments of a protocol we do not carry (UDP) are not reassembled: the
 * first gets the Protocol Unreachable the datagram would have had (it
 * holds what the error quotes), the others are dropped, and no state is
 * kept for any of them. */
static void reasm_udp_fragments_keep_no_state(void)
{
	struct t *t = t_new();
	static uint8_t d[70000], payload[3000];
	memset(payload, 0x5a, sizeof payload);
	size_t n = dgram(d, 17, 77, payload, sizeof payload);
	CHECK_EQ(frag(t, d, 1480, 1480, 0, 0), SYNACK_DROP_IP_NOT_TCP);
	CHECK_EQ(reasm_mem(t), 0);
	t_expect_nothing(t);
	CHECK_EQ(frag(t, d, 0, 1480, 0, 0), SYNACK_DROP_IP_NOT_TCP);
	t_expect_icmp(t, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PROTO_UNREACH);
	uint64_t freelist = reasm_mem(t); /* the error's datagram, kept for reuse */
	CHECK_EQ(frag(t, d, 2960, n - 20 - 2960, 1, 0), SYNACK_DROP_IP_NOT_TCP);
	t_expect_nothing(t);
	CHECK_EQ(reasm_mem(t), freelist);
	t_counter(t, "IpReasmReqds", 0);
	t_counter(t, "IpInUnknownProtos", 3);
	t_free(t);
}

/* A fragmented echo reply leaves whole or not at all: with room in the
 * outbox for two of its three fragments, none is sent (the receiver could
 * not use two), and it is counted. */
static void reasm_fragmented_reply_without_outbox_room_sends_nothing(void)
{
	struct synack_config cfg;
	t_config(&cfg);
	cfg.outbox_max = 2;
	struct t *t = t_new_with(&cfg);
	static uint8_t req[70000];
	size_t n = echo(req, 1, 3000);
	CHECK_EQ(frags(t, req, n, 1480, NULL), SYNACK_DROP_OUTBOX_FULL);
	CHECK_EQ(synack_output_pending(t->st), 0);
	t_counter(t, "IpOutDiscards", 1);
	t_counter(t, "IcmpOutErrors", 1);
	t_counter(t, "IpFragCreates", 0);
	/* One that fits in one datagram still goes. */
	n = echo(req, 2, 100);
	CHECK_EQ(frags(t, req, n, 1480, NULL), 0);
	expect_echo_reply(t, req, n, 1);
	t_free(t);
}

/* The budget counts what an allocation holds, not the bytes asked for: an
 * 8-byte fragment (24 bytes of list header and 8 of data) costs the 48-byte
 * chunk malloc gives it, so a flood of tiny fragments cannot hold half as
 * much again as ipfrag_high_thresh says. */
static void reasm_tiny_fragments_count_their_allocation(void)
{
	struct t *t = t_new();
	static uint8_t req[70000];
	echo(req, 3, 3000);
	CHECK_EQ(frag(t, req, 0, 8, 0, 0), 0);
	uint64_t one = t->st->sock.tcp.net.reasm->bytes;
	CHECK_EQ(frag(t, req, 16, 8, 0, 0), 0);
	CHECK_EQ_U64(t->st->sock.tcp.net.reasm->bytes - one, 48);
	t_free(t);
}

/* A SYN in two fragments reaches the listener like any SYN. */
static void reasm_fragmented_syn_reaches_the_listener(void)
{
	struct t *t = t_new();
	t_listen(t);
	static uint8_t seg[256];
	size_t n = t_build(t, seg, sizeof seg, "S", T_PEER_ISN, 0, 0);
	wire_put16(seg + 6, 0);
	t_fix_ip_csum(seg);
	CHECK_EQ(frag(t, seg, 8, n - 28, 1, 0), 0);
	CHECK_EQ(frag(t, seg, 0, 8, 0, 0), 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	t_counter(t, "IpReasmOKs", 1);
	t_counter(t, "InSegs", 1);
	t_free(t);
}

/* 3000 bytes of data in one segment, in three fragments, reach the
 * application byte-exact. */
static void reasm_fragmented_segment_delivers_its_data(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	static uint8_t seg[4000];
	size_t n = t_build(t, seg, sizeof seg, "P.", 1001, T_ISS + 1, 3000);
	wire_put16(seg + 6, 0);
	t_fix_ip_csum(seg);
	size_t order[] = {2, 0, 1};
	CHECK_EQ(frags(t, seg, n, 1024, order), 0);
	t_expect(t, ".", T_ISS + 1, 4001, 0);
	t_recv(t, 3000);
	t_expect(t, ".", T_ISS + 1, 4001, 0); /* the window opens again */
	t_free(t);
}

static void reasm_settings_are_checked(void)
{
	struct synack_config cfg;
	char msg[256];
	synack_config_default(&cfg);
	cfg.addr = T_US_ADDR;
	CHECK_EQ(cfg.ipfrag_high_thresh, 4u << 20);
	CHECK_EQ(cfg.ipfrag_time_ms, 30000);
	CHECK_EQ(cfg.ipfrag_max_frags, 64);
	cfg.ipfrag_high_thresh = (1u << 30) + 1;
	CHECK_EQ(synack_config_check(&cfg, msg, sizeof msg), -EINVAL);
	CHECK(strstr(msg, "ipfrag_high_thresh") != NULL);
	cfg.ipfrag_high_thresh = 0;
	CHECK_EQ(synack_config_check(&cfg, msg, sizeof msg), 0);
	cfg.ipfrag_time_ms = 0;
	CHECK_EQ(synack_config_check(&cfg, msg, sizeof msg), -EINVAL);
	CHECK(strstr(msg, "ipfrag_time_ms") != NULL);
	cfg.ipfrag_time_ms = 3600001;
	CHECK_EQ(synack_config_check(&cfg, msg, sizeof msg), -EINVAL);
	cfg.ipfrag_time_ms = 30000;
	cfg.ipfrag_max_frags = 0;
	CHECK_EQ(synack_config_check(&cfg, msg, sizeof msg), -EINVAL);
	CHECK(strstr(msg, "ipfrag_max_frags") != NULL);
	cfg.ipfrag_max_frags = 8193;
	CHECK_EQ(synack_config_check(&cfg, msg, sizeof msg), -EINVAL);
}

int main(void)
{
	RUN(reasm_ping_3000_in_order_is_answered_in_fragments);
	RUN(reasm_pings_of_many_sizes_are_answered);
	RUN(reasm_fragments_per_datagram_are_bounded);
	RUN(reasm_reversed_and_shuffled_fragments_make_the_datagram);
	RUN(reasm_interleaved_datagrams_are_kept_apart);
	RUN(reasm_every_overlap_drops_the_datagram);
	RUN(reasm_bad_fragments_are_dropped_with_their_reasons);
	RUN(reasm_disagreeing_ends_drop_the_datagram);
	RUN(reasm_timeout_sends_time_exceeded_quoting_the_first_fragment);
	RUN(reasm_timeout_without_first_fragment_sends_nothing);
	RUN(reasm_timeout_follows_ipfrag_time_ms);
	RUN(reasm_budget_evicts_the_oldest_and_bounds_memory);
	RUN(reasm_udp_fragments_keep_no_state);
	RUN(reasm_fragmented_reply_without_outbox_room_sends_nothing);
	RUN(reasm_tiny_fragments_count_their_allocation);
	RUN(reasm_fragmented_syn_reaches_the_listener);
	RUN(reasm_fragmented_segment_delivers_its_data);
	RUN(reasm_settings_are_checked);
	return check_summary("test_reasm");
}
