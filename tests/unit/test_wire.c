/*
 * Unit tests for the wire layer: checksums against known answers and a
 * naive reference, IPv4 and TCP parsing of every drop reason, and emit ->
 * parse round trips.
 */
#include "check.h"
#include "wire/wire.h"

#include <stdlib.h>

#define SRC_ADDR 0x0a000001u /* 10.0.0.1 */
#define DST_ADDR 0x0a000002u /* 10.0.0.2 */

/* A small xorshift32 with a fixed seed, so failures reproduce. */
static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/*
 * The checksum the slow, obvious way (RFC 1071 section 1): add big-endian
 * byte pairs, pad an odd last byte with zero, fold, invert.  Independent of
 * the code under test.
 */
static uint16_t naive_csum(uint32_t init, const uint8_t *p, size_t n)
{
	uint64_t s = init;
	size_t i;
	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t naive_pseudo(uint32_t src, uint32_t dst, uint32_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + (len >> 16) +
	       (len & 0xffff);
}

/* Recomputes the IPv4 header checksum of a datagram after tampering. */
static void fix_ip_csum(uint8_t *d)
{
	size_t hl = (size_t)(d[0] & 0x0f) * 4;
	d[10] = d[11] = 0;
	wire_put16(d + 10, naive_csum(0, d, hl));
}

/* Recomputes the TCP checksum of a datagram with a 20-byte IP header. */
static void fix_tcp_csum(uint8_t *d, size_t dlen)
{
	uint8_t *t = d + 20;
	size_t n = dlen - 20;
	t[16] = t[17] = 0;
	wire_put16(t + 16, naive_csum(naive_pseudo(SRC_ADDR, DST_ADDR, (uint32_t)n), t, n));
}

static struct wire_tcp_out base_seg(void)
{
	struct wire_tcp_out s;
	memset(&s, 0, sizeof(s));
	s.saddr = addr_v4(SRC_ADDR);
	s.daddr = addr_v4(DST_ADDR);
	s.sport = 49152;
	s.dport = 80;
	s.seq = 0x01020304;
	s.ack = 0xa0b0c0d0;
	s.flags = SYNACK_TH_ACK;
	s.wnd = 64240;
	return s;
}

/* Builds an IPv4 + TCP datagram with wire_*_emit; returns its length. */
static size_t build(uint8_t *d, size_t cap, const struct wire_tcp_out *seg, const uint8_t *payload,
                    size_t len)
{
	size_t n = wire_tcp_emit(d + 20, cap - 20, seg, payload, len);
	if (n == 0)
		return 0;
	wire_ip4_emit(d, addr_to_v4(&seg->saddr), addr_to_v4(&seg->daddr), WIRE_IPPROTO_TCP, 64,
	              0x1234, n);
	return 20 + n;
}

/*
 * Builds a datagram by hand with the given raw option bytes (optlen a
 * multiple of 4) and plen payload bytes, with correct checksums.
 */
static size_t build_raw(uint8_t *d, const uint8_t *opts, size_t optlen, uint8_t flags,
                        uint16_t sport, uint16_t dport, size_t plen)
{
	size_t hl = 20 + optlen, n = hl + plen, i;
	uint8_t *t = d + 20;
	memset(t, 0, n);
	wire_put16(t, sport);
	wire_put16(t + 2, dport);
	wire_put32(t + 4, 1000);
	wire_put32(t + 8, 2000);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	wire_put16(t + 14, 8192);
	if (optlen)
		memcpy(t + 20, opts, optlen);
	for (i = 0; i < plen; i++)
		t[hl + i] = (uint8_t)(i * 7 + 1);
	wire_ip4_emit(d, SRC_ADDR, DST_ADDR, WIRE_IPPROTO_TCP, 64, 1, n);
	fix_tcp_csum(d, 20 + n);
	return 20 + n;
}

/* Parses a datagram through both layers; returns the first drop reason. */
static int parse_both(const uint8_t *d, size_t len, struct wire_tcp *tcp)
{
	struct wire_ip4 ip;
	int r = wire_ip4_parse(d, len, &ip);
	if (r != SYNACK_DROP_NONE)
		return r;
	return wire_tcp_parse(&ip, tcp);
}

static int parse_raw_opts(const uint8_t *opts, size_t optlen, struct wire_tcp *tcp)
{
	uint8_t d[128];
	size_t n = build_raw(d, opts, optlen, SYNACK_TH_SYN, 1234, 80, 0);
	return parse_both(d, n, tcp);
}

/* ------------------------------------------------------------------ */
/* Checksums                                                           */

/* RFC 1071 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
static void csum_rfc1071_example(void)
{
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	uint32_t s = wire_csum_add(0, b, sizeof(b));
	CHECK_EQ(wire_csum_fold(s), (uint16_t)~0xddf2);
	/* The same bytes fed in pieces that keep word boundaries. */
	s = wire_csum_add(wire_csum_add(0, b, 2), b + 2, 6);
	CHECK_EQ(wire_csum_fold(s), (uint16_t)~0xddf2);
}

/* The textbook IPv4 header 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7. */
static void csum_ip4_header_known_answer(void)
{
	static const uint8_t want[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
	                                 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
	                                 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint8_t got[20];
	wire_ip4_emit(got, 0xc0a80001, 0xc0a800c7, 17, 64, 0, 0x73 - 20);
	CHECK(memcmp(got, want, 20) == 0);
	CHECK_EQ(wire_get16(got + 10), 0xb861);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, want, 20)), 0);
}

/*
 * A SYN from 10.0.0.1:49152 to 10.0.0.2:80 with Linux's option layout,
 * written out byte by byte; its checksum 0x3050 was computed independently.
 * The IP header for it (id 0x1234, ttl 64) has checksum 0x1486.
 */
static const uint8_t syn_tcp[40] = {
    0xc0, 0x00, 0x00, 0x50, /* ports 49152 -> 80 */
    0x01, 0x02, 0x03, 0x04, /* seq */
    0x00, 0x00, 0x00, 0x00, /* ack */
    0xa0, 0x02, 0xfa, 0xf0, /* offset 10, SYN, window 64240 */
    0x30, 0x50, 0x00, 0x00, /* checksum, urgent */
    0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
    0x04, 0x02, 0x08, 0x0a, /* SACK-permitted, timestamps ... */
    0x11, 0x22, 0x33, 0x44, /* ... TSval */
    0x00, 0x00, 0x00, 0x00, /* ... TSecr */
    0x01, 0x03, 0x03, 0x07, /* NOP, window scale 7 */
};

static void csum_syn_known_answer(void)
{
	uint8_t d[60], e[60];
	struct wire_tcp_out s = base_seg();
	struct wire_ip4 ip;
	struct wire_tcp t;

	wire_ip4_emit(d, SRC_ADDR, DST_ADDR, WIRE_IPPROTO_TCP, 64, 0x1234, 40);
	CHECK_EQ(wire_get16(d + 10), 0x1486);
	memcpy(d + 20, syn_tcp, 40);
	CHECK_EQ(
	    wire_csum_fold(wire_csum_add(wire_csum_pseudo(SRC_ADDR, DST_ADDR, 6, 40), syn_tcp, 40)),
	    0);

	CHECK_EQ(wire_ip4_parse(d, 60, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_tcp_parse(&ip, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.sport, 49152);
	CHECK_EQ(t.dport, 80);
	CHECK_EQ(t.seq, 0x01020304);
	CHECK_EQ(t.flags, SYNACK_TH_SYN);
	CHECK_EQ(t.wnd, 64240);
	CHECK_EQ(t.hdr_len, 40);
	CHECK_EQ(t.data_len, 0);
	CHECK(t.opts.has_mss && t.opts.mss == 1460);
	CHECK(t.opts.sack_permitted);
	CHECK(t.opts.has_ts && t.opts.ts_val == 0x11223344 && t.opts.ts_ecr == 0);
	CHECK(t.opts.has_wscale && t.opts.wscale == 7);

	/* Emitting the same segment reproduces every byte. */
	s.ack = 0;
	s.flags = SYNACK_TH_SYN;
	s.opts = t.opts;
	CHECK_EQ(wire_tcp_opts_len(&s.opts), 20);
	CHECK_EQ(build(e, sizeof(e), &s, NULL, 0), 60);
	CHECK(memcmp(e, d, 60) == 0);
}

/* Brute force against the naive reference: every length 0..200 at every
 * alignment 0..7, with random data and random starting sums. */
static void csum_matches_naive_reference(void)
{
	uint32_t seed = 0x9e3779b9;
	uint8_t buf[208];
	size_t len, off, i;
	int mismatches = 0;

	for (len = 0; len <= 200; len++) {
		for (off = 0; off < 8; off++) {
			for (i = 0; i < sizeof(buf); i++)
				buf[i] = (uint8_t)xorshift(&seed);
			uint32_t init = (len % 3 == 0) ? 0 : xorshift(&seed);
			uint16_t got = wire_csum_fold(wire_csum_add(init, buf + off, len));
			uint16_t want = naive_csum(init, buf + off, len);
			if (got != want && mismatches++ < 5)
				check_fail(__FILE__, __LINE__, "len %zu off %zu: %04x != %04x", len,
				           off, got, want);
		}
	}
	CHECK_EQ(mismatches, 0);
}

/* Sums chain: an even-length prefix followed by the rest equals the whole. */
static void csum_chains_across_even_split(void)
{
	uint32_t seed = 12345;
	uint8_t buf[301];
	size_t i, cut;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)xorshift(&seed);
	uint16_t whole = naive_csum(0, buf, sizeof(buf));
	for (cut = 0; cut <= sizeof(buf); cut += 2) {
		uint32_t s =
		    wire_csum_add(wire_csum_add(0, buf, cut), buf + cut, sizeof(buf) - cut);
		CHECK_EQ(wire_csum_fold(s), whole);
	}
}

/* The fused copy: every length 0..1600 (random ones past 64) at every
 * source and destination alignment 0..7 copies exactly and sums as the
 * naive reference does. */
static void csum_copy_matches_naive_reference(void)
{
	uint32_t seed = 4242;
	static uint8_t src[1700], dst[1700];
	int mismatches = 0;
	for (size_t k = 0; k < 400; k++) {
		size_t len = k <= 64 ? k : 65 + xorshift(&seed) % 1536;
		for (size_t so = 0; so < 8; so++) {
			size_t doff = (so * 3 + k) % 8;
			for (size_t i = 0; i < len + 8; i++)
				src[i] = (uint8_t)xorshift(&seed);
			memset(dst, 0xa5, sizeof(dst));
			uint32_t init = k % 2 ? xorshift(&seed) : 0;
			uint16_t got =
			    wire_csum_fold(wire_csum_copy(init, dst + doff, src + so, len));
			int bad = got != naive_csum(init, src + so, len) ||
			          memcmp(dst + doff, src + so, len) != 0 ||
			          dst[doff + len] != 0xa5 || (doff && dst[doff - 1] != 0xa5);
			if (bad && mismatches++ < 5)
				check_fail(__FILE__, __LINE__, "len %zu src off %zu dst off %zu",
				           len, so, doff);
		}
	}
	CHECK_EQ(mismatches, 0);
}

/* A buffer summed in two pieces cut anywhere: a piece that starts at an odd
 * offset is summed as if even and swapped (what the send path does when a
 * ring buffer wraps after an odd number of bytes). */
static void csum_split_anywhere_with_swap(void)
{
	uint32_t seed = 777;
	uint8_t buf[257], out[257];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)xorshift(&seed);
	uint16_t whole = naive_csum(0, buf, sizeof(buf));
	for (size_t cut = 0; cut <= sizeof(buf); cut++) {
		uint32_t a = wire_csum_copy(0, out, buf, cut);
		uint32_t b = wire_csum_copy(0, out + cut, buf + cut, sizeof(buf) - cut);
		uint64_t all = (uint64_t)a + (cut & 1 ? wire_csum_swap(b) : b);
		uint32_t s = (uint32_t)((all & 0xffffffffu) + (all >> 32));
		CHECK_EQ(wire_csum_fold(s), whole);
		CHECK(memcmp(out, buf, sizeof(buf)) == 0);
	}
}

/* A header written around a payload summed beforehand is the segment
 * wire_tcp_emit writes. */
static void tcp_emit_summed_matches_emit(void)
{
	uint32_t seed = 99;
	uint8_t payload[1001], a[1100], b[1100];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)xorshift(&seed);
	struct wire_tcp_out o;
	memset(&o, 0, sizeof(o));
	o.saddr = addr_v4(SRC_ADDR);
	o.daddr = addr_v4(DST_ADDR);
	o.sport = 1234;
	o.dport = 80;
	o.seq = 0x01020304;
	o.ack = 0xa0b0c0d0;
	o.flags = SYNACK_TH_ACK | SYNACK_TH_PSH;
	o.wnd = 4321;
	for (size_t len = 0; len <= sizeof(payload); len += 1 + len / 3) {
		o.opts.has_mss = len % 2 == 0;
		o.opts.mss = 1460;
		size_t hl = wire_tcp_hdr_len(&o);
		size_t na = wire_tcp_emit(a, sizeof(a), &o, payload, len);
		uint32_t sum = wire_csum_copy(0, b + hl, payload, len);
		size_t nb = wire_tcp_emit_summed(b, sizeof(b), &o, len, sum);
		CHECK_EQ(na, hl + len);
		CHECK_EQ(nb, na);
		CHECK(memcmp(a, b, na) == 0);
	}
}

/*
 * The receive checksum fused with the copy (wire_tcp_parse_deferred,
 * wire_tcp_verify_copy): for payloads short and long (the 16-byte loop
 * below 128 bytes, the AVX2 one above where the CPU has it), split at every
 * kind of point (none, odd, even: RFC 1071 2(B)), a right segment verifies
 * and its bytes arrive; one wrong byte anywhere fails, as wire_tcp_parse
 * says.  Control segments are never deferred.
 */
static void tcp_parse_deferred_verifies_while_copying(void)
{
	static uint8_t d[2100], dst[4200];
	static const uint8_t ts[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
	uint32_t seed = 7;
	for (size_t plen = 1; plen <= 2000; plen += 1 + plen / 4) {
		size_t n = build_raw(d, ts, sizeof(ts), SYNACK_TH_ACK | SYNACK_TH_PSH, 1, 2, plen);
		for (int bad = -1; bad < 3; bad++) {
			size_t flip = 0;
			uint8_t bit = 0;
			if (bad >= 0) {
				/* a header byte (the ACK field) or a payload byte */
				flip = bad == 0 ? 20 + 9 : 20 + 32 + xorshift(&seed) % plen;
				bit = (uint8_t)(1u << (xorshift(&seed) % 8));
				d[flip] ^= bit;
			}
			struct wire_ip4 ip;
			struct wire_tcp full, def;
			CHECK_EQ(wire_ip4_parse(d, n, &ip), SYNACK_DROP_NONE);
			int want = wire_tcp_parse(&ip, &full);
			CHECK_EQ(want, bad < 0 ? SYNACK_DROP_NONE : SYNACK_DROP_TCP_BAD_CHECKSUM);
			if (plen < WIRE_TCP_DEFER_MIN) {
				CHECK_EQ(wire_tcp_parse_deferred(&ip, &def), want);
				CHECK_EQ(def.csum_pending, 0);
				if (bad >= 0)
					d[flip] ^= bit;
				continue;
			}
			CHECK_EQ(wire_tcp_parse_deferred(&ip, &def), SYNACK_DROP_NONE);
			CHECK_EQ(def.csum_pending, 1);
			CHECK_EQ(def.data_len, plen);
			CHECK_EQ(wire_tcp_verify(&def), bad < 0);
			uint32_t cuts[] = {
			    (uint32_t)plen,    0, 1, (uint32_t)plen / 2, (uint32_t)plen / 2 | 1,
			    (uint32_t)plen - 1};
			for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
				uint32_t first = cuts[c] <= plen ? cuts[c] : (uint32_t)plen;
				memset(dst, 0, sizeof(dst));
				CHECK_EQ(wire_tcp_verify_copy(&def, dst + 2100, first, dst),
				         bad < 0);
				CHECK(memcmp(dst + 2100, def.data, first) == 0);
				CHECK(memcmp(dst, def.data + first, plen - first) == 0);
			}
			d[flip] ^= bit; /* right again (a no-op when bit is 0) */
		}
	}
	/* Control bits or no text: checked whole, never deferred. */
	static const uint8_t flags[] = {
	    SYNACK_TH_ACK | SYNACK_TH_FIN, SYNACK_TH_ACK | SYNACK_TH_RST,
	    SYNACK_TH_ACK | SYNACK_TH_URG, SYNACK_TH_ACK | SYNACK_TH_SYN, 0};
	for (size_t f = 0; f < sizeof(flags); f++) {
		size_t n = build_raw(d, NULL, 0, flags[f], 1, 2, 300);
		d[20 + 20 + 50] ^= 1;
		struct wire_ip4 ip;
		struct wire_tcp t;
		CHECK_EQ(wire_ip4_parse(d, n, &ip), SYNACK_DROP_NONE);
		CHECK_EQ(wire_tcp_parse_deferred(&ip, &t), SYNACK_DROP_TCP_BAD_CHECKSUM);
	}
	size_t n = build_raw(d, NULL, 0, SYNACK_TH_ACK, 1, 2, 0);
	struct wire_ip4 ip;
	struct wire_tcp t;
	CHECK_EQ(wire_ip4_parse(d, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_tcp_parse_deferred(&ip, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.csum_pending, 0);
	/* A header wrong otherwise too (port 0) with a wrong sum: the sum is
	 * the reason, as wire_tcp_parse gives it. */
	n = build_raw(d, NULL, 0, SYNACK_TH_ACK, 0, 2, 300);
	CHECK_EQ(wire_ip4_parse(d, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_tcp_parse_deferred(&ip, &t), SYNACK_DROP_TCP_BAD_PORT);
	d[20 + 20 + 3] ^= 1;
	CHECK_EQ(wire_tcp_parse_deferred(&ip, &t), SYNACK_DROP_TCP_BAD_CHECKSUM);
}

/* All-ones data and starting sums exercise every carry path. */
static void csum_carries_on_all_ones(void)
{
	size_t n = 200001;
	uint8_t *b = malloc(n);
	CHECK(b != NULL);
	if (!b)
		return;
	memset(b, 0xff, n);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0xffffffffu, b, n)), naive_csum(0xffffffffu, b, n));
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, b, n - 1)), naive_csum(0, b, n - 1));
	CHECK_EQ(wire_csum_fold(wire_csum_add(0xffffffffu, b, 8)), naive_csum(0xffffffffu, b, 8));
	free(b);
}

/* Buffers longer than the vector loops take in one block (their 32-bit lane
 * accumulators are added up every 65,536 steps, 16,384 in the AVX2 loop):
 * all ones, the largest words, then random bytes, then all zeros (the
 * AVX2 loop's most negative lanes), summed and copied at an odd address,
 * against the naive reference. */
static void csum_long_buffers_cross_blocks(void)
{
	size_t n = (9u << 20) + 5;
	uint8_t *b = malloc(n + 1), *d = malloc(n + 1);
	CHECK(b != NULL && d != NULL);
	if (!b || !d) {
		free(b);
		free(d);
		return;
	}
	uint32_t seed = 31337;
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < n + 1; i++)
			b[i] = round == 2 ? 0 : round ? (uint8_t)xorshift(&seed) : 0xff;
		for (size_t off = 0; off < 2; off++) {
			uint16_t want = naive_csum(0x1234, b + off, n - off);
			CHECK_EQ(wire_csum_fold(wire_csum_add(0x1234, b + off, n - off)), want);
			CHECK_EQ(
			    wire_csum_fold(wire_csum_copy(0x1234, d + 1 - off, b + off, n - off)),
			    want);
			CHECK(memcmp(d + 1 - off, b + off, n - off) == 0);
		}
	}
	free(b);
	free(d);
}

/* RFC 1071 4.1: an odd last byte is the high byte of a zero-padded word. */
static void csum_odd_length_pads_low_byte(void)
{
	static const uint8_t b[] = {0x12, 0x34, 0x56};
	/* 0x1234 + 0x5600 = 0x6834 */
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, b, 3)), (uint16_t)~0x6834);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, b + 2, 1)), (uint16_t)~0x5600);
	CHECK_EQ(wire_csum_fold(wire_csum_add(0, NULL, 0)), 0xffff);
}

static void csum_fold_folds_and_inverts(void)
{
	CHECK_EQ(wire_csum_fold(0), 0xffff);
	CHECK_EQ(wire_csum_fold(0xffff), 0);
	CHECK_EQ(wire_csum_fold(0x1fffe), 0);
	CHECK_EQ(wire_csum_fold(0xffffffffu), 0);
	CHECK_EQ(wire_csum_fold(0x2ddf0), (uint16_t)~0xddf2);
	CHECK_EQ(wire_csum_fold(0x10000), 0xfffe);
}

static void csum_pseudo_sums_fields(void)
{
	CHECK_EQ(wire_csum_pseudo(0x0a000001, 0xc0a80102, 6, 40),
	         0x0a00 + 0x0001 + 0xc0a8 + 0x0102 + 6 + 40);
	CHECK_EQ(wire_csum_pseudo(0xffffffffu, 0xffffffffu, 255, 0x12345),
	         4 * 0xffff + 255 + 0x1 + 0x2345);
}

/* ------------------------------------------------------------------ */
/* IPv4                                                                */

static void ip_emit_layout(void)
{
	uint8_t d[20];
	wire_ip4_emit(d, 0x01020304, 0x05060708, WIRE_IPPROTO_ICMP, 33, 0xbeef, 100);
	CHECK_EQ(d[0], 0x45);
	CHECK_EQ(d[1], 0);
	CHECK_EQ(wire_get16(d + 2), 120);
	CHECK_EQ(wire_get16(d + 4), 0xbeef);
	CHECK_EQ(wire_get16(d + 6), 0x4000); /* DF, offset 0 */
	CHECK_EQ(d[8], 33);
	CHECK_EQ(d[9], 1);
	CHECK_EQ(wire_get32(d + 12), 0x01020304);
	CHECK_EQ(wire_get32(d + 16), 0x05060708);
	CHECK_EQ(naive_csum(0, d, 20), 0);
}

static void ip_parse_reads_fields(void)
{
	uint8_t d[30];
	struct wire_ip4 ip;
	wire_ip4_emit(d, 0xc0a80001, 0x08080808, 17, 42, 0x4321, 10);
	d[1] = 0xb8; /* a TOS we did not emit */
	fix_ip_csum(d);
	memset(d + 20, 0x5a, 10);
	CHECK_EQ(wire_ip4_parse(d, sizeof(d), &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.src, 0xc0a80001);
	CHECK_EQ(ip.dst, 0x08080808);
	CHECK_EQ(ip.proto, 17);
	CHECK_EQ(ip.ttl, 42);
	CHECK_EQ(ip.tos, 0xb8);
	CHECK_EQ(ip.id, 0x4321);
	CHECK_EQ(ip.hdr_len, 20);
	CHECK_EQ(ip.total_len, 30);
	CHECK(ip.payload == d + 20);
	CHECK_EQ(ip.payload_len, 10);
}

static void ip_parse_skips_options(void)
{
	uint8_t d[64];
	struct wire_ip4 ip;
	wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 0);
	/* IHL 7: two words of options (NOP NOP NOP EOL, then zeros), 4 bytes data. */
	d[0] = 0x47;
	wire_put16(d + 2, 32);
	d[20] = d[21] = d[22] = 1;
	d[23] = 0;
	memset(d + 24, 0, 4);
	memset(d + 28, 0xcc, 4);
	fix_ip_csum(d);
	CHECK_EQ(wire_ip4_parse(d, 32, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.hdr_len, 28);
	CHECK(ip.payload == d + 28);
	CHECK_EQ(ip.payload_len, 4);
	/* IHL 15, the largest header, with no data. */
	memset(d + 20, 1, 40);
	d[0] = 0x4f;
	wire_put16(d + 2, 60);
	fix_ip_csum(d);
	CHECK_EQ(wire_ip4_parse(d, 60, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.hdr_len, 60);
	CHECK_EQ(ip.payload_len, 0);
}

/* Ethernet pads short frames; bytes after the total length are not data. */
static void ip_parse_ignores_link_padding(void)
{
	uint8_t d[60];
	struct wire_ip4 ip;
	memset(d, 0xee, sizeof(d));
	wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 6);
	CHECK_EQ(wire_ip4_parse(d, 60, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.total_len, 26);
	CHECK_EQ(ip.payload_len, 6);
}

/* Every prefix of a 40-byte datagram, and of a bare 20-byte header. */
static void ip_truncated_at_every_length(void)
{
	uint8_t d[64];
	struct wire_ip4 ip;
	struct wire_tcp_out s = base_seg();
	size_t n = build(d, sizeof(d), &s, NULL, 0), len;
	CHECK_EQ(n, 40);
	for (len = 0; len < n; len++) {
		/* A copy of exactly len bytes, so a sanitizer sees any overread. */
		uint8_t *c = malloc(len ? len : 1);
		CHECK(c != NULL);
		if (!c)
			return;
		memcpy(c, d, len);
		int r = wire_ip4_parse(c, len, &ip);
		if (r != SYNACK_DROP_IP_TRUNCATED)
			check_fail(__FILE__, __LINE__, "len %zu: reason %d", len, r);
		free(c);
	}
	CHECK_EQ(wire_ip4_parse(d, n, &ip), SYNACK_DROP_NONE);
}

/* IHL says 60 bytes of header but fewer arrived. */
static void ip_truncated_inside_options(void)
{
	uint8_t d[60];
	struct wire_ip4 ip;
	size_t len;
	memset(d, 1, sizeof(d));
	wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 40);
	d[0] = 0x4f;
	fix_ip_csum(d);
	for (len = 20; len < 60; len++)
		CHECK_EQ(wire_ip4_parse(d, len, &ip), SYNACK_DROP_IP_TRUNCATED);
	CHECK_EQ(wire_ip4_parse(d, 60, &ip), SYNACK_DROP_NONE);
}

static void ip_bad_version(void)
{
	static const uint8_t versions[] = {0, 1, 3, 5, 6, 15};
	uint8_t d[20];
	struct wire_ip4 ip;
	size_t i;
	for (i = 0; i < sizeof(versions); i++) {
		wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 0);
		d[0] = (uint8_t)(versions[i] << 4 | 5);
		fix_ip_csum(d);
		CHECK_EQ(wire_ip4_parse(d, 20, &ip), SYNACK_DROP_IP_BAD_VERSION);
	}
}

static void ip_bad_ihl(void)
{
	uint8_t d[20];
	struct wire_ip4 ip;
	int ihl;
	for (ihl = 0; ihl <= 4; ihl++) {
		wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 0);
		d[0] = (uint8_t)(0x40 | ihl);
		fix_ip_csum(d); /* sums ihl*4 bytes: immaterial, IHL is checked first */
		CHECK_EQ(wire_ip4_parse(d, 20, &ip), SYNACK_DROP_IP_BAD_IHL);
	}
}

static void ip_total_len_below_header(void)
{
	uint8_t d[24];
	struct wire_ip4 ip;
	uint16_t tl;
	for (tl = 0; tl < 20; tl++) {
		wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 0);
		wire_put16(d + 2, tl);
		fix_ip_csum(d);
		CHECK_EQ(wire_ip4_parse(d, 20, &ip), SYNACK_DROP_IP_BAD_TOTAL_LEN);
	}
	/* With options, total length 20..23 is still inside the header. */
	for (tl = 20; tl < 24; tl++) {
		wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 0);
		d[0] = 0x46;
		memset(d + 20, 1, 4);
		wire_put16(d + 2, tl);
		fix_ip_csum(d);
		CHECK_EQ(wire_ip4_parse(d, 24, &ip), SYNACK_DROP_IP_BAD_TOTAL_LEN);
	}
}

static void ip_total_len_past_buffer(void)
{
	uint8_t d[40];
	struct wire_ip4 ip;
	memset(d, 0, sizeof(d));
	wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 20);
	CHECK_EQ(wire_ip4_parse(d, 40, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_ip4_parse(d, 39, &ip), SYNACK_DROP_IP_TRUNCATED);
	wire_put16(d + 2, 0xffff);
	fix_ip_csum(d);
	CHECK_EQ(wire_ip4_parse(d, 40, &ip), SYNACK_DROP_IP_TRUNCATED);
}

/* Any single bit flipped after the length fields breaks the checksum. */
static void ip_bad_checksum_every_bit(void)
{
	uint8_t d[20];
	struct wire_ip4 ip;
	int bit;
	for (bit = 8; bit < 160; bit++) {
		if (bit >= 16 && bit < 32)
			continue; /* total length: a different, earlier check */
		wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 0);
		d[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		int r = wire_ip4_parse(d, 20, &ip);
		if (r != SYNACK_DROP_IP_BAD_CHECKSUM)
			check_fail(__FILE__, __LINE__, "bit %d: reason %d", bit, r);
	}
}

static void ip_more_fragments_dropped(void)
{
	uint8_t d[28];
	struct wire_ip4 ip;
	memset(d, 0, sizeof(d));
	wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 8);
	wire_put16(d + 6, 0x2000); /* MF, offset 0: the first fragment */
	fix_ip_csum(d);
	CHECK_EQ(wire_ip4_parse(d, 28, &ip), SYNACK_DROP_IP_FRAGMENT);
}

/* A fragment's header is valid: the view is filled for reassembly, and
 * wire_ip4_emit_frag writes the word it is given. */
static void ip_fragment_view_and_emit(void)
{
	uint8_t d[36];
	struct wire_ip4 ip;
	memset(d, 0, sizeof(d));
	wire_ip4_emit_frag(d, SRC_ADDR, DST_ADDR, 1, 64, 99, 16, WIRE_IP4_MF | 185);
	CHECK_EQ(wire_ip4_parse(d, 36, &ip), SYNACK_DROP_IP_FRAGMENT);
	CHECK_EQ(ip.frag, WIRE_IP4_MF | 185);
	CHECK_EQ(ip.id, 99);
	CHECK_EQ(ip.src, SRC_ADDR);
	CHECK_EQ(ip.total_len, 36);
	CHECK(ip.payload == d + 20 && ip.payload_len == 16);
	wire_ip4_emit_frag(d, SRC_ADDR, DST_ADDR, 1, 64, 99, 16, 0); /* whole, no DF */
	CHECK_EQ(wire_ip4_parse(d, 36, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.frag, 0);
	wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 1, 64, 99, 16);
	CHECK_EQ(wire_ip4_parse(d, 36, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(ip.frag, WIRE_IP4_DF);
}

/* wire_icmp_emit_hdr sums data that is elsewhere as wire_icmp_emit does. */
static void icmp_emit_hdr_matches_emit(void)
{
	uint8_t a[64], b[8], data[40];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 13 + 1);
	CHECK_EQ(wire_icmp_emit(a, sizeof a, 0, 0, 0x12345678, data, 37), 45);
	wire_icmp_emit_hdr(b, 0, 0, 0x12345678, wire_csum_add(0, data, 37));
	CHECK(memcmp(a, b, 8) == 0);
}

static void ip_fragment_offset_dropped(void)
{
	static const uint16_t words[] = {0x0001, 0x1fff, 0x4001, 0x0100};
	uint8_t d[28];
	struct wire_ip4 ip;
	size_t i;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		memset(d, 0, sizeof(d));
		wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 8);
		wire_put16(d + 6, words[i]); /* MF clear: the last fragment */
		fix_ip_csum(d);
		CHECK_EQ(wire_ip4_parse(d, 28, &ip), SYNACK_DROP_IP_FRAGMENT);
	}
	/* DF alone, or no flags at all, is a whole datagram. */
	wire_put16(d + 6, 0);
	fix_ip_csum(d);
	CHECK_EQ(wire_ip4_parse(d, 28, &ip), SYNACK_DROP_NONE);
}

/* When a datagram has several faults the earliest check names it. */
static void ip_check_order(void)
{
	uint8_t d[40];
	struct wire_ip4 ip;
	memset(d, 0, sizeof(d));

	/* Short and wrong version: truncated. */
	wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 0);
	d[0] = 0x64;
	CHECK_EQ(wire_ip4_parse(d, 19, &ip), SYNACK_DROP_IP_TRUNCATED);
	/* Wrong version and IHL 4: version. */
	d[0] = 0x64 - 1;
	CHECK_EQ(wire_ip4_parse(d, 20, &ip), SYNACK_DROP_IP_BAD_VERSION);
	/* IHL 4 and a bad total length: IHL. */
	d[0] = 0x44;
	wire_put16(d + 2, 3);
	CHECK_EQ(wire_ip4_parse(d, 20, &ip), SYNACK_DROP_IP_BAD_IHL);
	/* IHL 15 with 20 bytes and a bad total length: truncated. */
	d[0] = 0x4f;
	CHECK_EQ(wire_ip4_parse(d, 20, &ip), SYNACK_DROP_IP_TRUNCATED);
	/* Bad total length and bad checksum: total length. */
	d[0] = 0x45;
	CHECK_EQ(wire_ip4_parse(d, 20, &ip), SYNACK_DROP_IP_BAD_TOTAL_LEN);
	/* Bad checksum and a fragment: checksum. */
	wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, 0);
	wire_put16(d + 6, 0x2000);
	CHECK_EQ(wire_ip4_parse(d, 20, &ip), SYNACK_DROP_IP_BAD_CHECKSUM);
}

/* ------------------------------------------------------------------ */
/* TCP                                                                 */

static void tcp_truncated_at_every_length(void)
{
	uint8_t d[64];
	struct wire_ip4 ip;
	struct wire_tcp t;
	size_t len;
	for (len = 0; len < 20; len++) {
		memset(d, 0x55, sizeof(d));
		wire_ip4_emit(d, SRC_ADDR, DST_ADDR, 6, 64, 7, len);
		CHECK_EQ(wire_ip4_parse(d, 20 + len, &ip), SYNACK_DROP_NONE);
		CHECK_EQ(ip.payload_len, len);
		CHECK_EQ(wire_tcp_parse(&ip, &t), SYNACK_DROP_TCP_TRUNCATED);
	}
}

static void check_roundtrip(const struct wire_tcp_out *s, const uint8_t *payload, size_t plen)
{
	uint8_t d[1600];
	struct wire_tcp t;
	size_t ol = wire_tcp_opts_len(&s->opts);
	size_t n = build(d, sizeof(d), s, payload, plen);

	CHECK_EQ(n, 20 + 20 + ol + plen);
	CHECK_EQ(ol % 4, 0);
	CHECK(ol <= WIRE_TCP_MAX_OPT_LEN);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_NONE);
	CHECK(addr_eq(&t.saddr, &s->saddr));
	CHECK(addr_eq(&t.daddr, &s->daddr));
	CHECK_EQ(t.sport, s->sport);
	CHECK_EQ(t.dport, s->dport);
	CHECK_EQ_U64(t.seq, s->seq);
	CHECK_EQ_U64(t.ack, s->ack);
	CHECK_EQ(t.flags, s->flags);
	CHECK_EQ(t.wnd, s->wnd);
	CHECK_EQ(t.urp, 0);
	CHECK_EQ(t.hdr_len, 20 + ol);
	CHECK_EQ(t.opts.has_mss, s->opts.has_mss);
	CHECK_EQ(t.opts.has_wscale, s->opts.has_wscale);
	CHECK_EQ(t.opts.sack_permitted, s->opts.sack_permitted);
	CHECK_EQ(t.opts.has_ts, s->opts.has_ts);
	if (s->opts.has_mss)
		CHECK_EQ(t.opts.mss, s->opts.mss);
	if (s->opts.has_wscale)
		CHECK_EQ(t.opts.wscale, s->opts.wscale);
	if (s->opts.has_ts) {
		CHECK_EQ_U64(t.opts.ts_val, s->opts.ts_val);
		CHECK_EQ_U64(t.opts.ts_ecr, s->opts.ts_ecr);
	}
	CHECK_EQ(t.data_len, plen);
	CHECK(t.data == d + 20 + 20 + ol);
	CHECK(plen == 0 || memcmp(t.data, payload, plen) == 0);
}

static void tcp_roundtrip_every_option_combination(void)
{
	static const size_t plens[] = {0, 1, 2, 3, 536, 1460};
	static const uint8_t flag_sets[] = {SYNACK_TH_SYN, SYNACK_TH_SYN | SYNACK_TH_ACK,
	                                    SYNACK_TH_ACK | SYNACK_TH_PSH, 0xff & ~SYNACK_TH_SYN};
	uint8_t payload[1460];
	uint32_t seed = 777;
	size_t i, p;
	unsigned combo;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)xorshift(&seed);
	for (combo = 0; combo < 16; combo++) {
		for (p = 0; p < sizeof(plens) / sizeof(plens[0]); p++) {
			struct wire_tcp_out s = base_seg();
			s.seq = xorshift(&seed);
			s.ack = xorshift(&seed);
			s.wnd = (uint16_t)xorshift(&seed);
			s.sport = (uint16_t)(1 + xorshift(&seed) % 65535);
			s.dport = (uint16_t)(1 + xorshift(&seed) % 65535);
			s.flags = flag_sets[(combo + p) % 4];
			s.opts.has_mss = combo & 1;
			s.opts.has_wscale = (combo >> 1) & 1;
			s.opts.sack_permitted = (combo >> 2) & 1;
			s.opts.has_ts = (combo >> 3) & 1;
			s.opts.mss = (uint16_t)xorshift(&seed);
			s.opts.wscale = (uint8_t)(xorshift(&seed) % 15);
			s.opts.ts_val = xorshift(&seed);
			s.opts.ts_ecr = xorshift(&seed);
			check_roundtrip(&s, payload, plens[p]);
		}
	}
}

/* The byte layouts, one per option set, Linux-style. */
static void tcp_emit_option_layouts(void)
{
	struct wire_tcp_out s = base_seg();
	uint8_t d[80];
	static const uint8_t ts_only[] = {1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6};
	static const uint8_t sack_only[] = {1, 1, 4, 2};
	static const uint8_t ws_only[] = {1, 3, 3, 9};
	static const uint8_t mss_sack_ws[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 9};

	CHECK_EQ(wire_tcp_opts_len(&s.opts), 0);
	CHECK_EQ(wire_tcp_emit(d, sizeof(d), &s, NULL, 0), 20);
	CHECK_EQ(d[12], 0x50);

	s.opts.has_ts = 1;
	s.opts.ts_val = 5;
	s.opts.ts_ecr = 6;
	CHECK_EQ(wire_tcp_emit(d, sizeof(d), &s, NULL, 0), 32);
	CHECK_EQ(d[12], 0x80);
	CHECK(memcmp(d + 20, ts_only, sizeof(ts_only)) == 0);

	memset(&s.opts, 0, sizeof(s.opts));
	s.opts.sack_permitted = 1;
	CHECK_EQ(wire_tcp_emit(d, sizeof(d), &s, NULL, 0), 24);
	CHECK(memcmp(d + 20, sack_only, sizeof(sack_only)) == 0);

	memset(&s.opts, 0, sizeof(s.opts));
	s.opts.has_wscale = 1;
	s.opts.wscale = 9;
	CHECK_EQ(wire_tcp_emit(d, sizeof(d), &s, NULL, 0), 24);
	CHECK(memcmp(d + 20, ws_only, sizeof(ws_only)) == 0);

	s.opts.has_mss = 1;
	s.opts.mss = 1460;
	s.opts.sack_permitted = 1;
	CHECK_EQ(wire_tcp_emit(d, sizeof(d), &s, NULL, 0), 32);
	CHECK(memcmp(d + 20, mss_sack_ws, sizeof(mss_sack_ws)) == 0);
}

/* A buffer one byte short gets nothing written and a 0 back. */
static void tcp_emit_refuses_small_cap(void)
{
	struct wire_tcp_out s = base_seg();
	uint8_t payload[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	uint8_t d[64];
	size_t need, cap, i;

	s.opts.has_mss = 1;
	s.opts.has_ts = 1;
	need = 20 + wire_tcp_opts_len(&s.opts) + sizeof(payload);
	CHECK_EQ(need, 20 + 16 + 10);
	for (cap = 0; cap < need; cap++) {
		memset(d, 0xaa, sizeof(d));
		CHECK_EQ(wire_tcp_emit(d, cap, &s, payload, sizeof(payload)), 0);
		for (i = 0; i < sizeof(d); i++)
			if (d[i] != 0xaa) {
				check_fail(__FILE__, __LINE__, "cap %zu wrote byte %zu", cap, i);
				break;
			}
	}
	CHECK_EQ(wire_tcp_emit(d, need, &s, payload, sizeof(payload)), need);
}

/* The segment must fit an IPv4 datagram: total length is 16 bits. */
static void tcp_emit_refuses_oversized_segment(void)
{
	struct wire_tcp_out s = base_seg();
	size_t cap = 70000, max = 65535 - 20 - 20 - 12;
	uint8_t *buf = calloc(1, cap), *payload = calloc(1, cap);
	struct wire_tcp t;
	CHECK(buf && payload);
	if (buf && payload) {
		s.opts.has_ts = 1;
		CHECK_EQ(wire_tcp_emit(buf + 20, cap - 20, &s, payload, max + 1), 0);
		CHECK_EQ(wire_tcp_emit(buf + 20, cap - 20, &s, payload, max), 65535 - 20);
		wire_ip4_emit(buf, addr_to_v4(&s.saddr), addr_to_v4(&s.daddr), 6, 64, 1,
		              65535 - 20);
		CHECK_EQ(parse_both(buf, 65535, &t), SYNACK_DROP_NONE);
		CHECK_EQ(t.data_len, max);
	}
	free(buf);
	free(payload);
}

/* The payload may be written in place, right after the header. */
static void tcp_emit_payload_in_place(void)
{
	struct wire_tcp_out s = base_seg();
	uint8_t d[100], want[100];
	size_t ol, i;
	s.opts.has_ts = 1;
	ol = wire_tcp_opts_len(&s.opts);
	for (i = 0; i < 33; i++)
		d[20 + 20 + ol + i] = (uint8_t)(i + 100);
	memcpy(want, d + 40 + ol, 33);
	size_t n = wire_tcp_emit(d + 20, sizeof(d) - 20, &s, d + 40 + ol, 33);
	CHECK_EQ(n, 20 + ol + 33);
	wire_ip4_emit(d, addr_to_v4(&s.saddr), addr_to_v4(&s.daddr), 6, 64, 1, n);
	struct wire_tcp t;
	CHECK_EQ(parse_both(d, 20 + n, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.data_len, 33);
	CHECK(memcmp(t.data, want, 33) == 0);
}

static void tcp_odd_length_payload_checksum(void)
{
	static const size_t lens[] = {1, 3, 5, 7, 9, 1461};
	uint8_t payload[1461], d[1600];
	uint32_t seed = 4242;
	size_t i, k;
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(xorshift(&seed) | 1);
	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		struct wire_tcp_out s = base_seg();
		struct wire_tcp t;
		size_t n = build(d, sizeof(d), &s, payload, lens[k]);
		uint16_t got = wire_get16(d + 20 + 16);
		fix_tcp_csum(d, n);
		CHECK_EQ(got, wire_get16(d + 20 + 16));
		CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_NONE);
		CHECK_EQ(t.data_len, lens[k]);
		/* Flipping the last, odd byte must be noticed. */
		d[n - 1] ^= 0x01;
		CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_CHECKSUM);
	}
}

/* TCP parses only up to the IP total length, never the link padding. */
static void tcp_ignores_link_padding(void)
{
	uint8_t d[80];
	struct wire_tcp_out s = base_seg();
	struct wire_tcp t;
	size_t n;
	memset(d, 0x77, sizeof(d));
	n = build(d, sizeof(d), &s, (const uint8_t *)"hi", 2);
	CHECK_EQ(n, 42);
	CHECK_EQ(parse_both(d, 60, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.data_len, 2);
}

static void tcp_bad_offset_below_five(void)
{
	uint8_t d[80];
	struct wire_tcp t;
	int off;
	for (off = 0; off < 5; off++) {
		size_t n = build_raw(d, NULL, 0, SYNACK_TH_ACK, 1, 2, 20);
		d[20 + 12] = (uint8_t)(off << 4);
		fix_tcp_csum(d, n);
		CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_OFFSET);
	}
}

static void tcp_bad_offset_past_end(void)
{
	uint8_t d[80];
	struct wire_tcp t;
	/* Offset 15 (60 bytes) in a 40-byte segment. */
	size_t n = build_raw(d, NULL, 0, SYNACK_TH_ACK, 1, 2, 20);
	d[20 + 12] = 0xf0;
	fix_tcp_csum(d, n);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_OFFSET);
	/* Offset 6 in a bare 20-byte segment: one word past the end. */
	n = build_raw(d, NULL, 0, SYNACK_TH_ACK, 1, 2, 0);
	d[20 + 12] = 0x60;
	fix_tcp_csum(d, n);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_OFFSET);
	/* Offset exactly the segment length is fine. */
	n = build_raw(d, NULL, 0, SYNACK_TH_ACK, 1, 2, 4);
	d[20 + 12] = 0x60;
	d[20 + 20] = 1; /* a NOP, then EOL */
	d[20 + 21] = 0;
	fix_tcp_csum(d, n);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.data_len, 0);
}

/* Any flipped bit in the segment is a bad checksum. */
static void tcp_bad_checksum(void)
{
	uint8_t d[80];
	struct wire_tcp_out s = base_seg();
	struct wire_tcp t;
	size_t n = build(d, sizeof(d), &s, (const uint8_t *)"hello", 5), bit;
	for (bit = 0; bit < (n - 20) * 8; bit++) {
		if (bit >= 96 && bit < 100)
			continue; /* data offset: an earlier check */
		d[20 + bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		int r = parse_both(d, n, &t);
		if (r != SYNACK_DROP_TCP_BAD_CHECKSUM)
			check_fail(__FILE__, __LINE__, "bit %zu: reason %d", bit, r);
		d[20 + bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
	}
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_NONE);
}

/* RFC 9293 3.1: the addresses are covered through the pseudo-header. */
static void tcp_checksum_covers_pseudo_header(void)
{
	uint8_t d[80];
	struct wire_tcp_out s = base_seg();
	struct wire_ip4 ip, alt;
	struct wire_tcp t;
	size_t n = build(d, sizeof(d), &s, (const uint8_t *)"abcd", 4);
	CHECK_EQ(wire_ip4_parse(d, n, &ip), SYNACK_DROP_NONE);
	CHECK_EQ(wire_tcp_parse(&ip, &t), SYNACK_DROP_NONE);
	alt = ip;
	alt.src ^= 0x100;
	CHECK_EQ(wire_tcp_parse(&alt, &t), SYNACK_DROP_TCP_BAD_CHECKSUM);
	alt = ip;
	alt.dst = 0x0a000003;
	CHECK_EQ(wire_tcp_parse(&alt, &t), SYNACK_DROP_TCP_BAD_CHECKSUM);
	/* The protocol in the pseudo-header is TCP's, not the IP field. */
	alt = ip;
	alt.proto = 17;
	CHECK_EQ(wire_tcp_parse(&alt, &t), SYNACK_DROP_NONE);
	/* A shorter segment changes the TCP length: 2 bytes of zeros would
	 * not change the sum, the length does. */
	memset(d + n - 2, 0, 2);
	fix_tcp_csum(d, n);
	CHECK_EQ(wire_ip4_parse(d, n, &ip), SYNACK_DROP_NONE);
	alt = ip;
	alt.payload_len -= 2;
	CHECK_EQ(wire_tcp_parse(&alt, &t), SYNACK_DROP_TCP_BAD_CHECKSUM);
}

static void tcp_option_length_zero_or_one(void)
{
	struct wire_tcp t;
	static const uint8_t len0[] = {30, 0, 1, 1};
	static const uint8_t len1[] = {30, 1, 1, 1};
	static const uint8_t mss0[] = {1, 1, 2, 0};
	CHECK_EQ(parse_raw_opts(len0, 4, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(len1, 4, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(mss0, 4, &t), SYNACK_DROP_TCP_BAD_OPTION);
}

static void tcp_option_past_header(void)
{
	struct wire_tcp t;
	static const uint8_t unknown_long[] = {30, 8, 0, 0};
	static const uint8_t mss_cut[] = {1, 1, 2, 4};
	static const uint8_t ts_cut[] = {1, 1, 8, 10, 0, 0, 0, 0};
	static const uint8_t kind_last[] = {1, 1, 1, 30}; /* no room for its length */
	static const uint8_t one_over[] = {30, 5, 0, 0};
	CHECK_EQ(parse_raw_opts(unknown_long, 4, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(mss_cut, 4, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(ts_cut, 8, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(kind_last, 4, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(one_over, 4, &t), SYNACK_DROP_TCP_BAD_OPTION);
}

static void tcp_known_option_with_wrong_length(void)
{
	struct wire_tcp t;
	static const uint8_t mss3[] = {2, 3, 5, 1};
	static const uint8_t mss6[] = {2, 6, 5, 0xb4, 0, 0, 1, 1};
	static const uint8_t ws2[] = {1, 1, 3, 2};
	static const uint8_t ws4[] = {3, 4, 7, 0};
	static const uint8_t sack3[] = {4, 3, 0, 1};
	static const uint8_t ts8[] = {8, 8, 0, 0, 0, 0, 0, 0};
	static const uint8_t ts12[] = {8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	CHECK_EQ(parse_raw_opts(mss3, 4, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(mss6, 8, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(ws2, 4, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(ws4, 4, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(sack3, 4, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(ts8, 8, &t), SYNACK_DROP_TCP_BAD_OPTION);
	CHECK_EQ(parse_raw_opts(ts12, 12, &t), SYNACK_DROP_TCP_BAD_OPTION);
}

/* Unknown kinds are stepped over by their length; SACK blocks are read. */
static void tcp_unknown_option_skipped(void)
{
	struct wire_tcp t;
	static const uint8_t unknown[] = {30, 6, 9, 9, 9, 9, 2, 4, 0x05, 0xb4, 1, 1};
	static const uint8_t sack_blocks[] = {1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 2};
	static const uint8_t two_byte_unknown[] = {200, 2, 4, 2};
	CHECK_EQ(parse_raw_opts(unknown, sizeof(unknown), &t), SYNACK_DROP_NONE);
	CHECK(t.opts.has_mss && t.opts.mss == 1460);
	CHECK(!t.opts.has_ts && !t.opts.has_wscale && !t.opts.sack_permitted);
	CHECK_EQ(parse_raw_opts(sack_blocks, sizeof(sack_blocks), &t), SYNACK_DROP_NONE);
	CHECK(t.opts.has_wscale && t.opts.wscale == 2);
	CHECK(!t.opts.has_mss);
	CHECK_EQ(t.opts.sack_count, 1);
	CHECK_EQ_U64(t.opts.sack[0].start, 1);
	CHECK_EQ_U64(t.opts.sack[0].end, 2);
	CHECK_EQ(parse_raw_opts(two_byte_unknown, sizeof(two_byte_unknown), &t), SYNACK_DROP_NONE);
	CHECK(t.opts.sack_permitted);
}

/* RFC 2018 3: SACK blocks, 1 to 4 of them, read in order; a length that
 * is not 2 + 8 n is skipped as Linux skips it, and the segment is good. */
static void tcp_sack_blocks_parsed_or_skipped(void)
{
	struct wire_tcp t;
	uint8_t four[36] = {1, 1, 5, 34};
	for (unsigned b = 0; b < 8; b++)
		wire_put32(four + 4 + 4 * b, 1000 + 100 * b);
	CHECK_EQ(parse_raw_opts(four, sizeof(four), &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.opts.sack_count, 4);
	for (unsigned b = 0; b < 4; b++) {
		CHECK_EQ_U64(t.opts.sack[b].start, 1000 + 200 * b);
		CHECK_EQ_U64(t.opts.sack[b].end, 1100 + 200 * b);
	}
	static const uint8_t short_len[] = {1, 1, 5, 6, 0, 0, 0, 1, 2, 4, 0x05, 0xb4};
	static const uint8_t odd_len[] = {5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 9, 1};
	static const uint8_t bare[] = {1, 1, 5, 2};
	CHECK_EQ(parse_raw_opts(short_len, sizeof(short_len), &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.opts.sack_count, 0);
	CHECK(t.opts.has_mss && t.opts.mss == 1460);
	CHECK_EQ(parse_raw_opts(odd_len, sizeof(odd_len), &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.opts.sack_count, 0);
	CHECK_EQ(parse_raw_opts(bare, sizeof(bare), &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.opts.sack_count, 0);
}

/* SACK blocks are written NOP, NOP, kind 5 as Linux writes them: 4 fit
 * alone, 3 beside timestamps, and more are cut to what fits. */
static void tcp_sack_blocks_emitted_as_fit(void)
{
	struct wire_tcp_out s = base_seg();
	uint8_t d[80];
	struct wire_tcp t;
	s.opts.sack_count = 4;
	for (unsigned b = 0; b < 4; b++) {
		s.opts.sack[b].start = 5000 + 10 * b;
		s.opts.sack[b].end = 5005 + 10 * b;
	}
	CHECK_EQ(wire_tcp_sack_room(&s.opts), 4);
	size_t n = build(d, sizeof(d), &s, NULL, 0);
	CHECK_EQ(n, 20 + 20 + 36);
	CHECK(d[40] == 1 && d[41] == 1 && d[42] == 5 && d[43] == 34);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.opts.sack_count, 4);
	CHECK_EQ_U64(t.opts.sack[3].end, 5035);
	s.opts.has_ts = 1;
	CHECK_EQ(wire_tcp_sack_room(&s.opts), 3);
	n = build(d, sizeof(d), &s, NULL, 0);
	CHECK_EQ(n, 20 + 20 + 12 + 28);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.opts.sack_count, 3);
	CHECK(t.opts.has_ts);
	CHECK_EQ_U64(t.opts.sack[2].start, 5020);
	/* MSS, timestamps and window scale leave room for two. */
	s.opts.has_mss = s.opts.has_wscale = 1;
	CHECK_EQ(wire_tcp_sack_room(&s.opts), 2);
	n = build(d, sizeof(d), &s, NULL, 0);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.opts.sack_count, 2);
	CHECK(t.hdr_len <= 60);
}

/* EOL ends the list: what follows is padding, even if it looks invalid. */
static void tcp_eol_stops_parsing(void)
{
	struct wire_tcp t;
	static const uint8_t eol_then_mss[] = {0, 2, 4, 5, 0xb4, 0, 0, 0};
	static const uint8_t eol_then_junk[] = {1, 3, 3, 7, 0, 0x2, 0x1, 0xff};
	CHECK_EQ(parse_raw_opts(eol_then_mss, 8, &t), SYNACK_DROP_NONE);
	CHECK(!t.opts.has_mss);
	CHECK_EQ(parse_raw_opts(eol_then_junk, 8, &t), SYNACK_DROP_NONE);
	CHECK(t.opts.has_wscale && t.opts.wscale == 7);
	CHECK_EQ(t.hdr_len, 28);
}

/* RFC 7323 2.3: a shift count above 14 is used as 14. */
static void tcp_wscale_above_14_is_clamped(void)
{
	struct wire_tcp t;
	static const uint8_t ws15[] = {1, 3, 3, 15};
	static const uint8_t ws255[] = {1, 3, 3, 255};
	static const uint8_t ws14[] = {1, 3, 3, 14};
	CHECK_EQ(parse_raw_opts(ws15, 4, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.opts.wscale, 14);
	CHECK_EQ(parse_raw_opts(ws255, 4, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.opts.wscale, 14);
	CHECK_EQ(parse_raw_opts(ws14, 4, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.opts.wscale, 14);
}

static void tcp_bad_flags(void)
{
	static const uint8_t bad[] = {
	    SYNACK_TH_SYN | SYNACK_TH_FIN,
	    SYNACK_TH_SYN | SYNACK_TH_RST,
	    SYNACK_TH_SYN | SYNACK_TH_FIN | SYNACK_TH_RST,
	    SYNACK_TH_SYN | SYNACK_TH_ACK | SYNACK_TH_FIN,
	    0xff,
	};
	static const uint8_t good[] = {
	    0,
	    SYNACK_TH_SYN,
	    SYNACK_TH_SYN | SYNACK_TH_ACK,
	    SYNACK_TH_FIN | SYNACK_TH_RST,
	    SYNACK_TH_RST | SYNACK_TH_ACK,
	    SYNACK_TH_FIN | SYNACK_TH_ACK | SYNACK_TH_PSH,
	    0xff & ~SYNACK_TH_SYN,
	};
	uint8_t d[64];
	struct wire_tcp t;
	size_t i, n;
	for (i = 0; i < sizeof(bad); i++) {
		n = build_raw(d, NULL, 0, bad[i], 1, 2, 0);
		CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_FLAGS);
	}
	for (i = 0; i < sizeof(good); i++) {
		n = build_raw(d, NULL, 0, good[i], 1, 2, 0);
		CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_NONE);
		CHECK_EQ(t.flags, good[i]);
	}
}

static void tcp_port_zero(void)
{
	uint8_t d[64];
	struct wire_tcp t;
	size_t n = build_raw(d, NULL, 0, SYNACK_TH_SYN, 0, 80, 0);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_PORT);
	n = build_raw(d, NULL, 0, SYNACK_TH_SYN, 80, 0, 0);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_PORT);
	n = build_raw(d, NULL, 0, SYNACK_TH_SYN, 0, 0, 0);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_PORT);
	n = build_raw(d, NULL, 0, SYNACK_TH_SYN, 65535, 1, 0);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_NONE);
	CHECK_EQ(t.sport, 65535);
	CHECK_EQ(t.dport, 1);
}

/* Several faults at once: the earliest check in the documented order wins. */
static void tcp_check_order(void)
{
	static const uint8_t bad_opt[] = {30, 0, 0, 0};
	uint8_t d[80];
	struct wire_tcp t;
	size_t n;

	/* Offset 4 and a bad checksum: offset. */
	n = build_raw(d, NULL, 0, SYNACK_TH_ACK, 1, 2, 4);
	d[20 + 12] = 0x40;
	d[20 + 16] ^= 0xff;
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_OFFSET);
	/* A bad option and a bad checksum: checksum. */
	n = build_raw(d, bad_opt, 4, SYNACK_TH_ACK, 1, 2, 0);
	d[20 + 16] ^= 0xff;
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_CHECKSUM);
	/* A bad option, SYN+FIN and port 0: option. */
	n = build_raw(d, bad_opt, 4, SYNACK_TH_SYN | SYNACK_TH_FIN, 0, 0, 0);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_OPTION);
	/* SYN+RST and port 0: flags. */
	n = build_raw(d, NULL, 0, SYNACK_TH_SYN | SYNACK_TH_RST, 0, 0, 0);
	CHECK_EQ(parse_both(d, n, &t), SYNACK_DROP_TCP_BAD_FLAGS);
}

/*
 * Hostile input: random datagrams and mutated valid ones, each in a heap
 * buffer of exactly its length, so a sanitizer catches any overread.  The
 * parsers must never crash, and what they accept must lie inside the buffer.
 */
static void hostile_input_stays_in_bounds(void)
{
	uint8_t base[200];
	struct wire_tcp_out s = base_seg();
	uint32_t seed = 0xdeadbeef;
	size_t base_len, iter;
	int accepted = 0;

	s.opts.has_mss = s.opts.has_ts = s.opts.has_wscale = s.opts.sack_permitted = 1;
	base_len = build(base, sizeof(base), &s, (const uint8_t *)"0123456789", 10);
	for (iter = 0; iter < 200000; iter++) {
		size_t len = xorshift(&seed) % (base_len + 8), i;
		uint8_t *b = malloc(len ? len : 1);
		struct wire_ip4 ip;
		struct wire_tcp t;
		CHECK(b != NULL);
		if (!b)
			return;
		if (iter & 1) {
			for (i = 0; i < len; i++)
				b[i] = (uint8_t)xorshift(&seed);
			if (len >= 20) {
				b[0] = (uint8_t)(0x40 | (b[0] & 0x0f));
				wire_put16(b + 6, 0);
			}
		} else {
			for (i = 0; i < len; i++)
				b[i] = i < base_len ? base[i] : 0;
			unsigned flips = 1 + xorshift(&seed) % 3;
			while (len && flips--)
				b[xorshift(&seed) % len] ^= (uint8_t)(1u << (xorshift(&seed) % 8));
		}
		/* Keep the headers self-consistent often enough to reach TCP. */
		if (len >= 20 && (iter % 4) < 2) {
			size_t hl = (size_t)(b[0] & 0x0f) * 4;
			if (hl >= 20 && hl <= len) {
				wire_put16(b + 2, (uint16_t)len);
				wire_put16(b + 6, 0);
				b[10] = b[11] = 0;
				wire_put16(b + 10, naive_csum(0, b, hl));
			}
		}
		if (wire_ip4_parse(b, len, &ip) == SYNACK_DROP_NONE) {
			CHECK(ip.payload >= b && ip.payload + ip.payload_len <= b + len);
			/* Give TCP a correct checksum now and then, to reach options. */
			if ((iter % 8) < 4 && ip.payload_len >= 20) {
				uint8_t *tp = b + ip.hdr_len;
				tp[16] = tp[17] = 0;
				wire_put16(tp + 16,
				           naive_csum(naive_pseudo(ip.src, ip.dst,
				                                   (uint32_t)ip.payload_len),
				                      tp, ip.payload_len));
			}
			if (wire_tcp_parse(&ip, &t) == SYNACK_DROP_NONE) {
				accepted++;
				CHECK(t.data >= ip.payload &&
				      t.data + t.data_len <= ip.payload + ip.payload_len);
				CHECK(t.hdr_len >= 20 && t.opts.wscale <= 14);
			}
		}
		free(b);
	}
	/* The mutation mix must actually reach the end of the TCP parser. */
	CHECK(accepted > 1000);
}

int main(void)
{
	RUN(csum_rfc1071_example);
	RUN(tcp_sack_blocks_parsed_or_skipped);
	RUN(tcp_sack_blocks_emitted_as_fit);
	RUN(csum_ip4_header_known_answer);
	RUN(csum_syn_known_answer);
	RUN(csum_matches_naive_reference);
	RUN(csum_chains_across_even_split);
	RUN(csum_carries_on_all_ones);
	RUN(csum_long_buffers_cross_blocks);
	RUN(csum_copy_matches_naive_reference);
	RUN(tcp_parse_deferred_verifies_while_copying);
	RUN(csum_split_anywhere_with_swap);
	RUN(tcp_emit_summed_matches_emit);
	RUN(csum_odd_length_pads_low_byte);
	RUN(csum_fold_folds_and_inverts);
	RUN(csum_pseudo_sums_fields);

	RUN(ip_emit_layout);
	RUN(ip_parse_reads_fields);
	RUN(ip_parse_skips_options);
	RUN(ip_parse_ignores_link_padding);
	RUN(ip_truncated_at_every_length);
	RUN(ip_truncated_inside_options);
	RUN(ip_bad_version);
	RUN(ip_bad_ihl);
	RUN(ip_total_len_below_header);
	RUN(ip_total_len_past_buffer);
	RUN(ip_bad_checksum_every_bit);
	RUN(ip_more_fragments_dropped);
	RUN(ip_fragment_offset_dropped);
	RUN(ip_fragment_view_and_emit);
	RUN(icmp_emit_hdr_matches_emit);
	RUN(ip_check_order);

	RUN(tcp_truncated_at_every_length);
	RUN(tcp_roundtrip_every_option_combination);
	RUN(tcp_emit_option_layouts);
	RUN(tcp_emit_refuses_small_cap);
	RUN(tcp_emit_refuses_oversized_segment);
	RUN(tcp_emit_payload_in_place);
	RUN(tcp_odd_length_payload_checksum);
	RUN(tcp_ignores_link_padding);
	RUN(tcp_bad_offset_below_five);
	RUN(tcp_bad_offset_past_end);
	RUN(tcp_bad_checksum);
	RUN(tcp_checksum_covers_pseudo_header);
	RUN(tcp_option_length_zero_or_one);
	RUN(tcp_option_past_header);
	RUN(tcp_known_option_with_wrong_length);
	RUN(tcp_unknown_option_skipped);
	RUN(tcp_eol_stops_parsing);
	RUN(tcp_wscale_above_14_is_clamped);
	RUN(tcp_bad_flags);
	RUN(tcp_port_zero);
	RUN(tcp_check_order);
	RUN(hostile_input_stays_in_bounds);
	return check_summary("test_wire");
}
