/*
 * Hostile input: mutated, truncated and random datagrams never crash the
 * stack, leak (run under ASan too) or corrupt a connection.
 *
 * One stack (10.0.0.1) has a listener on port 80 and an established
 * connection to a peer (10.0.0.2) that this file plays by hand.  A corpus
 * of valid datagrams (SYN, SYN-ACK, ACK, data, out-of-order data, FIN, RST,
 * with and without options) is built with wire_tcp_emit from the
 * connection's current sequence numbers and mutated at random with a fixed
 * seed.  Half the mutants get their checksums recomputed so that they reach
 * the TCP state machine; the other half are checked as they are.
 *
 * The peer's byte at sequence number s is always pattern(s), and any mutant
 * that reaches TCP carries pattern bytes at the position its (possibly
 * mutated) sequence number names: an attacker who injects the peer's own
 * bytes.  So whatever the stack accepts, the application must read exactly
 * pattern(s) for every s: a mismatch is corruption inside the stack (bad
 * trimming, reassembly at the wrong offset), never the mutation's doing.
 *
 * A mutant may legitimately end the connection: a RST with exactly RCV.NXT
 * (RFC 5961) resets it, an in-sequence FIN half-closes it.  Such endings are
 * checked, counted and reported, and a new connection takes its place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synack/synack.h"
#include "wire/wire.h"

#define US 0x0a000001u   /* 10.0.0.1 */
#define PEER 0x0a000002u /* 10.0.0.2 */
#define LPORT 80         /* the listener the mutants aim at */
#define CPORT 81         /* the listener the connections come from (rarely hit) */
#define PEER_ISN 5000u
#define MUTATIONS 200000
#define MAXPKT 70000

static uint64_t rng_state;

static uint64_t xorshift(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(xorshift() % n) : 0;
}

static int seq_ge(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

static uint8_t pattern(uint32_t seq)
{
	return (uint8_t)('A' + seq % 23);
}

/* What we send the peer: our byte at our sequence number s. */
static uint8_t our_pattern(uint32_t seq)
{
	return (uint8_t)('a' + seq % 19);
}

/* ------------------------------------------------------------------ */
/* The stack, the peer and the bookkeeping.                            */

struct h {
	struct synack_stack *st;
	uint64_t now;
	int listener, clistener, sock;
	uint16_t pport;    /* the peer's port of the current connection */
	uint32_t iss, irs; /* of the current connection */
	uint32_t read_seq; /* peer sequence number of the next byte the app reads */
	uint64_t inputs;   /* datagrams handed to synack_input */
	uint64_t dropped;  /* ... that it reported as dropped */
	uint64_t reported[SYNACK_DROP_COUNT]; /* ... by reason */
	uint64_t resets, fin_closes, reconnects;
	uint64_t bytes_read;
	uint8_t out[MAXPKT];
};

static struct synack_stack *new_stack(void)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = US;
	cfg.delack_ms = 0; /* the checks below expect each segment acknowledged at once */
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)(i * 5 + 1);
	int err = 0;
	struct synack_stack *st = synack_stack_new(&cfg, &err);
	if (!st)
		abort();
	return st;
}

/* Builds a datagram from the peer: payload bytes follow pattern(). */
static size_t build(uint8_t *buf, size_t cap, uint32_t src, uint16_t sport, uint16_t dport,
                    uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, size_t len,
                    const struct wire_tcp_opts *opts)
{
	static uint8_t payload[MAXPKT];
	struct wire_tcp_out o;
	memset(&o, 0, sizeof o);
	o.saddr = addr_v4(src);
	o.daddr = addr_v4(US);
	o.sport = sport;
	o.dport = dport;
	o.seq = seq;
	o.ack = ack;
	o.flags = flags;
	o.wnd = wnd;
	if (opts)
		o.opts = *opts;
	uint32_t first = seq + ((flags & SYNACK_TH_SYN) ? 1u : 0u);
	for (size_t i = 0; i < len; i++)
		payload[i] = pattern(first + (uint32_t)i);
	size_t n = wire_tcp_emit(buf + WIRE_IP4_HDR_LEN, cap - WIRE_IP4_HDR_LEN, &o, payload, len);
	if (!n)
		abort();
	wire_ip4_emit(buf, src, US, WIRE_IPPROTO_TCP, 64, 1, n);
	return n + WIRE_IP4_HDR_LEN;
}

static void fix_ip_csum(uint8_t *pkt, size_t len)
{
	if (len < 20)
		return;
	size_t ihl = (size_t)(pkt[0] & 15) * 4;
	if (ihl < 20 || ihl > len)
		ihl = 20;
	pkt[10] = pkt[11] = 0;
	wire_put16(pkt + 10, wire_csum_fold(wire_csum_add(0, pkt, ihl)));
}

/*
 * If the datagram has a usable IPv4 header (after fixing its checksum),
 * rewrite its TCP payload to the peer's pattern at the sequence number it
 * names and recompute the TCP checksum.  With fix_csum 0 this happens only
 * when the datagram would reach TCP anyway (a mutation that kept the
 * checksums valid).
 */
static void repair(uint8_t *pkt, size_t len, int fix_csum)
{
	struct wire_ip4 ip;
	struct wire_tcp tcp;
	if (fix_csum)
		fix_ip_csum(pkt, len);
	if (wire_ip4_parse(pkt, len, &ip) != SYNACK_DROP_NONE)
		return;
	if (!fix_csum && wire_tcp_parse(&ip, &tcp) != SYNACK_DROP_NONE)
		return;
	uint8_t *seg = pkt + ip.hdr_len;
	size_t seglen = ip.payload_len;
	if (seglen < 20)
		return;
	size_t off = (size_t)(seg[12] >> 4) * 4;
	if (off >= 20 && off <= seglen) {
		uint32_t first = wire_get32(seg + 4) + ((seg[13] & SYNACK_TH_SYN) ? 1u : 0u);
		for (size_t i = off; i < seglen; i++)
			seg[i] = pattern(first + (uint32_t)(i - off));
	}
	seg[16] = seg[17] = 0;
	uint32_t sum = wire_csum_pseudo(ip.src, ip.dst, ip.proto, (uint32_t)seglen);
	wire_put16(seg + 16, wire_csum_fold(wire_csum_add(sum, seg, seglen)));
}

/* Everything the stack sends must be a well-formed datagram to someone. */
static size_t drain(struct h *h)
{
	ssize_t n;
	size_t count = 0;
	while ((n = synack_output(h->st, h->out, sizeof h->out)) > 0) {
		struct wire_ip4 ip;
		struct wire_tcp tcp;
		struct wire_icmp icmp;
		CHECK_EQ(wire_ip4_parse(h->out, (size_t)n, &ip), SYNACK_DROP_NONE);
		CHECK_EQ(ip.src, US);
		if (ip.proto == WIRE_IPPROTO_ICMP) {
			/* A mutated protocol field draws Protocol Unreachable,
			 * a mutated datagram may be an echo request. */
			CHECK_EQ(wire_icmp_parse(&ip, &icmp), SYNACK_DROP_NONE);
			CHECK(icmp.type == WIRE_ICMP_ECHO_REPLY ||
			      (icmp.type == WIRE_ICMP_DEST_UNREACH &&
			       icmp.code == WIRE_ICMP_PROTO_UNREACH));
			continue;
		}
		CHECK_EQ(wire_tcp_parse(&ip, &tcp), SYNACK_DROP_NONE);
		count++;
	}
	CHECK_EQ(n, 0);
	return count;
}

static int input(struct h *h, const void *pkt, size_t len)
{
	int r = synack_input(h->st, h->now, pkt, len);
	h->inputs++;
	CHECK(r >= 0 && r < SYNACK_DROP_COUNT);
	if (r > 0) {
		h->dropped++;
		h->reported[r]++;
	}
	return r;
}

/* Pops our next segment (there must be one) into *tcp. */
static int pop(struct h *h, struct wire_ip4 *ip, struct wire_tcp *tcp)
{
	ssize_t n = synack_output(h->st, h->out, sizeof h->out);
	if (n <= 0)
		return 0;
	if (wire_ip4_parse(h->out, (size_t)n, ip) != SYNACK_DROP_NONE ||
	    wire_tcp_parse(ip, tcp) != SYNACK_DROP_NONE)
		return 0;
	return 1;
}

/* Reads everything the application has, checking every byte; returns
 * what the last recv said (-EAGAIN, 0 for end of stream, or the error). */
static ssize_t app_read(struct h *h)
{
	uint8_t buf[8192];
	ssize_t n;
	while ((n = synack_recv(h->st, h->sock, buf, sizeof buf, 0)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(h->read_seq + (uint32_t)i)) {
				check_fail(
				    __FILE__, __LINE__,
				    "byte at peer seq %u (offset %u): 0x%02x, expected 0x%02x",
				    h->read_seq + (uint32_t)i,
				    h->read_seq + (uint32_t)i - h->irs - 1, buf[i],
				    pattern(h->read_seq + (uint32_t)i));
				break;
			}
		h->read_seq += (uint32_t)n;
		h->bytes_read += (uint64_t)n;
	}
	return n;
}

/* A passive open from the peer's port pport: < S, > S., < ., accept. */
static void establish(struct h *h, uint16_t pport)
{
	uint8_t pkt[256];
	struct wire_ip4 ip;
	struct wire_tcp tcp;
	struct wire_tcp_opts mss = {.has_mss = 1, .mss = 1460};
	struct synack_endpoint local = {.addr = 0, .port = CPORT};
	/* A fresh listener: mutants may have filled the old one's backlog
	 * with half-open children. */
	if (h->clistener > 0)
		CHECK_EQ(synack_close(h->st, h->clistener), 0);
	drain(h);
	h->clistener = synack_socket(h->st);
	CHECK_EQ(synack_bind(h->st, h->clistener, &local), 0);
	CHECK_EQ(synack_listen(h->st, h->clistener, 16), 0);
	h->pport = pport;
	h->irs = PEER_ISN + pport * 100000u;
	size_t n =
	    build(pkt, sizeof pkt, PEER, pport, CPORT, SYNACK_TH_SYN, h->irs, 0, 65535, 0, &mss);
	CHECK_EQ(input(h, pkt, n), 0);
	CHECK(pop(h, &ip, &tcp));
	CHECK_EQ(tcp.flags, SYNACK_TH_SYN | SYNACK_TH_ACK);
	CHECK_EQ(tcp.ack, h->irs + 1);
	h->iss = tcp.seq;
	drain(h);
	n = build(pkt, sizeof pkt, PEER, pport, CPORT, SYNACK_TH_ACK, h->irs + 1, h->iss + 1, 65535,
	          0, NULL);
	CHECK_EQ(input(h, pkt, n), 0);
	drain(h);
	h->sock = synack_accept(h->st, h->clistener, NULL);
	CHECK(h->sock >= 0);
	h->read_seq = h->irs + 1;
	h->reconnects++;
}

static struct h *h_new(void)
{
	struct h *h = calloc(1, sizeof(*h));
	if (!h)
		abort();
	h->st = new_stack();
	h->now = 1000;
	h->listener = synack_socket(h->st);
	struct synack_endpoint local = {.addr = 0, .port = LPORT};
	CHECK_EQ(synack_bind(h->st, h->listener, &local), 0);
	CHECK_EQ(synack_listen(h->st, h->listener, 16), 0);
	h->clistener = -1;
	establish(h, 40000);
	return h;
}

/* ------------------------------------------------------------------ */
/* Checks on the counters.                                             */

static void check_drop_accounting(struct h *h)
{
	struct synack_stats s;
	synack_stats(h->st, &s);
	uint64_t sum = 0;
	for (int i = 0; i < SYNACK_DROP_COUNT; i++) {
		/* Datagrams discarded while being reassembled (to make room,
		 * or when their time ran out) are no input's result. */
		if (i == SYNACK_DROP_FRAG_EVICTED || i == SYNACK_DROP_FRAG_TIMEOUT)
			continue;
		sum += s.drops[i];
		if (s.drops[i] != h->reported[i])
			check_fail(__FILE__, __LINE__,
			           "drops[%s] = %" PRIu64 ", synack_input reported %" PRIu64,
			           synack_drop_name(i), s.drops[i], h->reported[i]);
	}
	CHECK_EQ_U64(sum, h->dropped);
	/* Both families (issue 14): random bytes of version 6 are IPv6. */
	uint64_t hdr_errs = s.IpInHdrErrors + s.Ip6InHdrErrors,
	         addr_errs = s.IpInAddrErrors + s.Ip6InAddrErrors,
	         unknown = s.IpInUnknownProtos + s.Ip6InUnknownProtos;
	CHECK_EQ_U64(s.IpInReceives + s.Ip6InReceives, h->inputs);
	CHECK_EQ_U64(s.InCsumErrors, s.drops[SYNACK_DROP_TCP_BAD_CHECKSUM]);
	CHECK_EQ_U64(s.InErrs,
	             s.drops[SYNACK_DROP_TCP_TRUNCATED] + s.drops[SYNACK_DROP_TCP_BAD_OFFSET] +
	                 s.drops[SYNACK_DROP_TCP_BAD_CHECKSUM] +
	                 s.drops[SYNACK_DROP_TCP_BAD_OPTION] + s.drops[SYNACK_DROP_TCP_BAD_FLAGS] +
	                 s.drops[SYNACK_DROP_TCP_BAD_PORT]);
	uint64_t ip6_hdr_drops = 0;
	for (int i = SYNACK_DROP_IP6_HOP_LIMIT; i <= SYNACK_DROP_IP6_ROUTING; i++)
		ip6_hdr_drops += s.drops[i];
	CHECK_EQ_U64(hdr_errs,
	             s.drops[SYNACK_DROP_IP_TRUNCATED] + s.drops[SYNACK_DROP_IP_BAD_VERSION] +
	                 s.drops[SYNACK_DROP_IP_BAD_IHL] + s.drops[SYNACK_DROP_IP_BAD_TOTAL_LEN] +
	                 s.drops[SYNACK_DROP_IP_BAD_CHECKSUM] + ip6_hdr_drops);
	uint64_t frag_drops = 0;
	for (int i = SYNACK_DROP_FRAG_DF; i <= SYNACK_DROP_FRAG_TIMEOUT; i++)
		frag_drops += s.drops[i];
	/* Both families reassemble (issue 14). */
	CHECK_EQ_U64(s.IpReasmFails + s.Ip6ReasmFails,
	             frag_drops + s.drops[SYNACK_DROP_IP6_FRAGMENT]);
	CHECK_EQ_U64(s.drops[SYNACK_DROP_IP_FRAGMENT], 0);
	CHECK_EQ_U64(addr_errs,
	             s.drops[SYNACK_DROP_IP_NOT_FOR_US] + s.drops[SYNACK_DROP_IP_BAD_SRC]);
	CHECK_EQ_U64(unknown, s.drops[SYNACK_DROP_IP_NOT_TCP]);
	CHECK_EQ_U64(s.IcmpInErrors + s.Icmp6InErrors, s.drops[SYNACK_DROP_ICMP_TRUNCATED] +
	                                                   s.drops[SYNACK_DROP_ICMP_BAD_CHECKSUM] +
	                                                   s.drops[SYNACK_DROP_ICMP_BAD_QUOTE]);
	/* Every datagram either failed the IP/TCP parse, went to ICMP or
	 * reached TCP; a fragment went to reassembly, and each datagram put
	 * together came out of it to go on like the others. */
	CHECK_EQ_U64(s.InSegs, h->inputs - hdr_errs - s.IpReasmReqds - s.Ip6ReasmReqds +
	                           s.IpReasmOKs + s.Ip6ReasmOKs - addr_errs - unknown -
	                           s.IcmpInMsgs - s.Icmp6InMsgs - s.InErrs);
}

/* ------------------------------------------------------------------ */
/* The connection after the storm.                                     */

/* The current connection carries data both ways, byte-exact. */
static void check_connection_works(struct h *h)
{
	struct synack_tcp_info info;
	struct wire_ip4 ip;
	struct wire_tcp tcp;
	uint8_t pkt[2048];
	app_read(h);
	CHECK_EQ(synack_tcp_info(h->st, h->sock, &info), 0);
	CHECK_EQ(info.state, SYNACK_ESTABLISHED);
	CHECK_EQ(info.rcv_nxt, h->read_seq); /* everything accepted was read */
	uint32_t pseq = info.rcv_nxt, pack = info.snd_nxt;
	CHECK_EQ(info.snd_una, info.snd_nxt);

	/* A window update from the peer first: a mutated ACK may have left a
	 * small window behind. */
	size_t n = build(pkt, sizeof pkt, PEER, h->pport, CPORT, SYNACK_TH_ACK, pseq, pack, 65535,
	                 0, NULL);
	CHECK_EQ(input(h, pkt, n), 0);
	drain(h);

	/* Peer -> app: 3 segments of 1000 bytes. */
	for (int i = 0; i < 3; i++) {
		n = build(pkt, sizeof pkt, PEER, h->pport, CPORT, SYNACK_TH_ACK | SYNACK_TH_PSH,
		          pseq, pack, 65535, 1000, NULL);
		CHECK_EQ(input(h, pkt, n), 0);
		CHECK(pop(h, &ip, &tcp));
		/* Text a mutant left out of order beyond it may join in:
		 * the peer's own bytes, so it is delivered too. */
		CHECK(seq_ge(tcp.ack, pseq + 1000));
		pseq = tcp.ack;
		drain(h);
	}
	uint64_t before = h->bytes_read;
	app_read(h);
	CHECK(h->bytes_read - before >= 3000);
	CHECK_EQ(h->read_seq, pseq);

	/* App -> peer: 3000 bytes, MSS-sized segments, each byte checked. */
	static uint8_t data[3000];
	for (uint32_t i = 0; i < sizeof data; i++)
		data[i] = our_pattern(pack + i);
	CHECK_EQ(synack_setsockopt(h->st, h->sock, SYNACK_TCP_NODELAY, 1), 0); /* all at once */
	CHECK_EQ(synack_send(h->st, h->sock, data, sizeof data), 3000);
	uint32_t got = 0;
	while (pop(h, &ip, &tcp)) {
		CHECK_EQ(tcp.seq, pack + got);
		for (uint32_t i = 0; i < tcp.data_len; i++)
			if (tcp.data[i] != our_pattern(tcp.seq + i)) {
				check_fail(__FILE__, __LINE__, "sent byte %u corrupt", got + i);
				break;
			}
		got += tcp.data_len;
		CHECK(tcp.data_len <= 1460);
	}
	CHECK_EQ(got, 3000);
	n = build(pkt, sizeof pkt, PEER, h->pport, CPORT, SYNACK_TH_ACK, pseq, pack + got, 65535, 0,
	          NULL);
	CHECK_EQ(input(h, pkt, n), 0);
	drain(h);
	CHECK_EQ(synack_tcp_info(h->st, h->sock, &info), 0);
	CHECK_EQ(info.snd_una, pack + 3000);
	CHECK_EQ(info.send_queue, 0);
	CHECK_EQ(info.state, SYNACK_ESTABLISHED);
}

/* ------------------------------------------------------------------ */
/* The corpus and the mutator.                                         */

struct corpus {
	uint8_t pkt[16][2048];
	size_t len[16];
	int n;
};

static void capture(struct h *h, struct corpus *c)
{
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(h->st, h->sock, &info), 0);
	uint32_t s = info.rcv_nxt, a = info.snd_nxt;
	uint16_t p = h->pport;
	struct wire_tcp_opts mss = {.has_mss = 1, .mss = 1460};
	struct wire_tcp_opts all = {.has_mss = 1,
	                            .mss = 536,
	                            .has_wscale = 1,
	                            .wscale = 7,
	                            .sack_permitted = 1,
	                            .has_ts = 1,
	                            .ts_val = 12345,
	                            .ts_ecr = 0};
	struct wire_tcp_opts ts = {.has_ts = 1, .ts_val = 777, .ts_ecr = 888};
	const uint8_t A = SYNACK_TH_ACK;
	uint16_t np = (uint16_t)(20000 + rnd(1000)); /* a new peer port for the listener */
	c->n = 0;
#define ADD(...) (c->len[c->n] = build(c->pkt[c->n], sizeof c->pkt[0], __VA_ARGS__), c->n++)
	ADD(PEER, np, LPORT, SYNACK_TH_SYN, 900000u + rnd(1000), 0, 65535, 0, &mss);
	ADD(PEER, np, LPORT, SYNACK_TH_SYN, 1u, 0, 8192, 0, &all);
	ADD(PEER, np, LPORT, A, 900001u, 12345, 65535, 0, NULL);
	ADD(PEER, p, CPORT, SYNACK_TH_SYN | A, s - 1, a, 65535, 0, &mss);
	ADD(PEER, p, CPORT, A, s, a, 65535, 0, NULL);
	ADD(PEER, p, CPORT, A | SYNACK_TH_PSH, s, a, 65535, 100, NULL);
	ADD(PEER, p, CPORT, A | SYNACK_TH_PSH, s, a, 65535, 1460, &ts);
	ADD(PEER, p, CPORT, A, s + 200, a, 65535, 50, NULL);
	ADD(PEER, p, CPORT, A | SYNACK_TH_FIN, s, a, 65535, 0, NULL);
	ADD(PEER, p, CPORT, A | SYNACK_TH_FIN | SYNACK_TH_PSH, s + 10, a, 65535, 20, NULL);
	ADD(PEER, p, CPORT, SYNACK_TH_RST, s + 1, 0, 0, 0, NULL);
	ADD(PEER, p, CPORT, SYNACK_TH_RST | A, s + 1000, a, 0, 0, NULL);
	ADD(PEER, p, 9, SYNACK_TH_SYN, 4242, 0, 1024, 0, NULL); /* a closed port */
	ADD(PEER, p, CPORT, A, s - 70000, a - 5, 100, 10, NULL);
#undef ADD
}

static const uint32_t interesting[] = {0,          1,          0x7f,   0x80,       0xff,
                                       0x7fff,     0x8000,     0xffff, 0x7fffffff, 0x80000000,
                                       0xffffffff, 0xfffffffe, 0x100,  20,         40};

static size_t mutate(uint8_t *pkt, size_t len, size_t cap)
{
	int ops = 1 + (int)rnd(4);
	for (int k = 0; k < ops; k++) {
		/* Three times in four inside the headers. */
		size_t span = rnd(4) ? (len < 64 ? len : 64) : len;
		size_t at = span ? rnd((uint32_t)span) : 0;
		uint32_t v = interesting[rnd(sizeof interesting / sizeof interesting[0])];
		switch (rnd(9)) {
		case 0:
		case 1:
			if (len)
				pkt[at] ^= (uint8_t)(1u << rnd(8));
			break;
		case 2:
			if (len)
				pkt[at] = (uint8_t)xorshift();
			break;
		case 3:
			if (len)
				pkt[at] = (uint8_t)v;
			break;
		case 4:
			if (at + 2 <= len)
				wire_put16(pkt + at, (uint16_t)v);
			break;
		case 5:
			if (at + 4 <= len)
				wire_put32(pkt + at, v);
			break;
		case 6:
			len = rnd((uint32_t)len + 1); /* truncate */
			break;
		case 7: {
			size_t extra = rnd(60);
			for (size_t i = 0; i < extra && len < cap; i++)
				pkt[len++] = (uint8_t)xorshift();
			break;
		}
		case 8:
			if (len > 33)
				pkt[33] = (uint8_t)xorshift(); /* the TCP flags */
			break;
		}
	}
	return len;
}

/* ------------------------------------------------------------------ */
/* After each hostile datagram: is the connection still ours?          */

/*
 * Called after every input aimed at the stack.  rcv_nxt_before is the
 * connection's RCV.NXT before the datagram.  A connection that left
 * ESTABLISHED must have been ended by what the datagram legitimately says.
 */
static void after_input(struct h *h, const uint8_t *pkt, size_t len, uint32_t rcv_nxt_before)
{
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(h->st, h->sock, &info), 0);
	if (info.state == SYNACK_ESTABLISHED)
		return;
	struct wire_ip4 ip;
	struct wire_tcp tcp;
	int parsed = wire_ip4_parse(pkt, len, &ip) == SYNACK_DROP_NONE &&
	             wire_tcp_parse(&ip, &tcp) == SYNACK_DROP_NONE && ip.dst == US &&
	             tcp.dport == CPORT && tcp.sport == h->pport && ip.src == PEER;
	ssize_t last = app_read(h);
	if (info.state == SYNACK_CLOSED) {
		/* RFC 5961 3.2: only a RST at exactly RCV.NXT resets. */
		int legit = parsed && (tcp.flags & SYNACK_TH_RST) && tcp.seq == rcv_nxt_before;
		if (!legit)
			check_fail(__FILE__, __LINE__,
			           "connection reset by a datagram that may not "
			           "reset it (len %zu)",
			           len);
		CHECK_EQ(last, -ECONNRESET);
		h->resets++;
	} else if (info.state == SYNACK_CLOSE_WAIT) {
		/* An in-sequence FIN: this datagram's, or one held out of order
		 * that its text made in-sequence. */
		int legit = parsed && ((tcp.flags & SYNACK_TH_FIN) || tcp.data_len > 0);
		if (!legit)
			check_fail(__FILE__, __LINE__, "CLOSE_WAIT without a FIN (len %zu)", len);
		CHECK_EQ(last, 0); /* end of stream */
		h->fin_closes++;
	} else {
		check_fail(__FILE__, __LINE__, "connection in %s after a hostile datagram",
		           synack_state_name(info.state));
	}
	/* Leave with a RST (linger 0) so nothing lingers, and start over. */
	CHECK_EQ(synack_setsockopt(h->st, h->sock, SYNACK_SO_LINGER, 0), 0);
	CHECK_EQ(synack_close(h->st, h->sock), 0);
	drain(h);
	establish(h, (uint16_t)(h->pport + 1));
}

static uint32_t rcv_nxt(struct h *h)
{
	struct synack_tcp_info info;
	synack_tcp_info(h->st, h->sock, &info);
	return info.rcv_nxt;
}

/* Accepts and aborts whatever handshakes the mutants completed, and lets
 * time pass so that half-open children time out. */
static void housekeeping(struct h *h)
{
	int l[2] = {h->listener, h->clistener};
	for (int i = 0; i < 2; i++) {
		int a;
		while ((a = synack_accept(h->st, l[i], NULL)) >= 0) {
			synack_setsockopt(h->st, a, SYNACK_SO_LINGER, 0);
			CHECK_EQ(synack_close(h->st, a), 0);
		}
		CHECK_EQ(a, -EAGAIN);
	}
	h->now += 100000; /* 100 ms */
	synack_advance(h->st, h->now);
	drain(h);
	app_read(h);
}

/* ------------------------------------------------------------------ */
/* Tests.                                                              */

static void hostile_mutations_never_corrupt(void)
{
	struct h *h = h_new();
	static struct corpus c;
	static uint8_t pkt[4096];
	rng_state = 0x9e3779b97f4a7c15ull;
	capture(h, &c);
	uint64_t fixed = 0, reached_tcp = 0;
	for (int i = 0; i < MUTATIONS; i++) {
		if (i % 1000 == 999) {
			housekeeping(h);
			capture(h, &c); /* follow the connection's sequence numbers */
		}
		int k = (int)rnd((uint32_t)c.n);
		size_t len = c.len[k];
		memcpy(pkt, c.pkt[k], len);
		len = mutate(pkt, len, sizeof pkt);
		int fix = i & 1;
		repair(pkt, len, fix);
		fixed += (uint64_t)fix;
		uint32_t before = rcv_nxt(h);
		int r = input(h, pkt, len);
		reached_tcp += r == 0 || r >= SYNACK_DROP_NO_SOCKET;
		drain(h);
		after_input(h, pkt, len, before);
		if (i % 64 == 0)
			app_read(h);
	}
	housekeeping(h);
	check_drop_accounting(h);
	struct synack_stats s;
	synack_stats(h->st, &s);
	CHECK(s.InCsumErrors > 1000);
	CHECK(s.InErrs > s.InCsumErrors);
	CHECK(s.InSegs > MUTATIONS / 5); /* most of the fixed half reaches TCP */
	CHECK(reached_tcp > MUTATIONS / 5);
	fprintf(stderr,
	        "  %d mutants: %" PRIu64 " reached TCP, %" PRIu64 " dropped, %" PRIu64
	        " legitimate resets, %" PRIu64 " legitimate FINs, %" PRIu64
	        " bytes accepted and read byte-exact\n",
	        MUTATIONS, reached_tcp, h->dropped, h->resets, h->fin_closes, h->bytes_read);
	check_connection_works(h);
	check_drop_accounting(h);
	synack_stack_free(h->st);
	free(h);
}

static void hostile_truncations_at_every_length(void)
{
	struct h *h = h_new();
	static struct corpus c;
	static uint8_t pkt[4096];
	rng_state = 12345;
	capture(h, &c);
	for (int k = 0; k < c.n; k++) {
		for (size_t len = 0; len <= c.len[k]; len++) {
			/* As cut short on the wire: the IP total length is a lie. */
			memcpy(pkt, c.pkt[k], len);
			uint32_t before = rcv_nxt(h);
			int r = input(h, pkt, len);
			if (len < c.len[k])
				CHECK_EQ(r, SYNACK_DROP_IP_TRUNCATED);
			drain(h);
			after_input(h, pkt, len, before);
			/* As if sent that short: IP length and checksums fixed,
			 * so TCP sees a short header, options or text. */
			if (len >= 20) {
				memcpy(pkt, c.pkt[k], len);
				wire_put16(pkt + 2, (uint16_t)len);
				repair(pkt, len, 1);
				before = rcv_nxt(h);
				r = input(h, pkt, len);
				if (len < 40)
					CHECK_EQ(r, SYNACK_DROP_TCP_TRUNCATED);
				drain(h);
				after_input(h, pkt, len, before);
			}
		}
		capture(h, &c);
	}
	housekeeping(h);
	check_drop_accounting(h);
	check_connection_works(h);
	synack_stack_free(h->st);
	free(h);
}

static void hostile_random_bytes(void)
{
	struct h *h = h_new();
	static uint8_t pkt[2048];
	rng_state = 0xdeadbeefcafef00dull;
	for (int i = 0; i < 20000; i++) {
		size_t len = rnd(1500);
		for (size_t j = 0; j < len; j++)
			pkt[j] = (uint8_t)xorshift();
		if (i & 1 && len >= 40) {
			/* A plausible IPv4 header around random TCP bytes, and
			 * often a valid checksum, to reach the TCP parser. */
			wire_ip4_emit(pkt, PEER, US, WIRE_IPPROTO_TCP, 64, (uint16_t)i, len - 20);
			if (rnd(2))
				wire_put16(pkt + 22, LPORT);
			if (rnd(2))
				repair(pkt, len, 1);
		}
		uint32_t before = rcv_nxt(h);
		input(h, pkt, len);
		drain(h);
		after_input(h, pkt, len, before);
		if (i % 1000 == 999)
			housekeeping(h);
	}
	housekeeping(h);
	check_drop_accounting(h);
	check_connection_works(h);
	synack_stack_free(h->st);
	free(h);
}

static void hostile_special_lengths(void)
{
	struct h *h = h_new();
	static uint8_t big[100000];
	CHECK_EQ(input(h, NULL, 0), SYNACK_DROP_IP_TRUNCATED);
	CHECK_EQ(input(h, NULL, 20), SYNACK_DROP_IP_TRUNCATED); /* NULL: len ignored */
	CHECK_EQ(input(h, big, 0), SYNACK_DROP_IP_TRUNCATED);
	big[0] = 0x45;
	CHECK_EQ(input(h, big, 1), SYNACK_DROP_IP_TRUNCATED);
	CHECK_EQ(input(h, big, 19), SYNACK_DROP_IP_TRUNCATED);
	/* 20 bytes: a header claiming 20 bytes of a TCP datagram, no TCP. */
	wire_ip4_emit(big, PEER, US, WIRE_IPPROTO_TCP, 64, 1, 0);
	CHECK_EQ(input(h, big, 20), SYNACK_DROP_TCP_TRUNCATED);
	/* Zeros of every special length. */
	static uint8_t zeros[65536];
	CHECK_EQ(input(h, zeros, 20), SYNACK_DROP_IP_BAD_VERSION);
	CHECK_EQ(input(h, zeros, 65535), SYNACK_DROP_IP_BAD_VERSION);
	drain(h);

	/* 65535 bytes, the largest datagram: a valid in-window data segment
	 * of 65495 bytes at RCV.NXT.  The window is 65535, so it is taken
	 * whole and read byte-exact. */
	struct synack_tcp_info info;
	CHECK_EQ(synack_tcp_info(h->st, h->sock, &info), 0);
	size_t n = build(big, sizeof big, PEER, h->pport, CPORT, SYNACK_TH_ACK, info.rcv_nxt,
	                 info.snd_nxt, 65535, 65535 - 40, NULL);
	CHECK_EQ(n, 65535);
	CHECK_EQ(input(h, big, n), 0);
	drain(h);
	uint64_t before = h->bytes_read;
	app_read(h);
	CHECK_EQ_U64(h->bytes_read - before, 65495);
	/* Longer than any datagram: the excess is link padding after the
	 * IP total length, ignored. */
	CHECK_EQ(synack_tcp_info(h->st, h->sock, &info), 0);
	n = build(big, sizeof big, PEER, h->pport, CPORT, SYNACK_TH_ACK | SYNACK_TH_PSH,
	          info.rcv_nxt, info.snd_nxt, 65535, 10, NULL);
	memset(big + n, 0xee, sizeof big - n);
	CHECK_EQ(input(h, big, sizeof big), 0);
	drain(h);
	before = h->bytes_read;
	app_read(h);
	CHECK_EQ_U64(h->bytes_read - before, 10);
	/* A header whose total length says 65535 on a 1000-byte buffer. */
	wire_ip4_emit(big, PEER, US, WIRE_IPPROTO_TCP, 64, 1, 65535 - 20);
	CHECK_EQ(input(h, big, 1000), SYNACK_DROP_IP_TRUNCATED);
	/* IHL 15 (60 bytes of options) on a 40-byte datagram. */
	wire_ip4_emit(big, PEER, US, WIRE_IPPROTO_TCP, 64, 1, 20);
	big[0] = 0x4f;
	fix_ip_csum(big, 40);
	CHECK(input(h, big, 40) > 0);
	drain(h);
	check_drop_accounting(h);
	check_connection_works(h);
	synack_stack_free(h->st);
	free(h);
}

int main(void)
{
	RUN(hostile_special_lengths);
	RUN(hostile_truncations_at_every_length);
	RUN(hostile_random_bytes);
	RUN(hostile_mutations_never_corrupt);
	return check_summary("test_hostile");
}
