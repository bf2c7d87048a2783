/*
 * Wire formats: IPv4 and TCP header parsing and emission, and the Internet
 * checksum.  Everything here is a pure function of its arguments; the
 * parsers treat their input as hostile and never read past the length they
 * are given.
 */
#include "wire/wire.h"

#include <assert.h>
#include <string.h>
#ifdef SYNACK_CSUM_AVX2
#include <immintrin.h>
#endif

/* TCP option kinds (RFC 9293 3.2, RFC 7323, RFC 2018). */
enum {
	OPT_EOL = 0,
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WSCALE = 3,
	OPT_SACK_PERM = 4,
	OPT_SACK = 5,
	OPT_TS = 8,
	OPT_TFO = 34,               /* TCP Fast Open (RFC 7413 4.1.1) */
	OPT_EXP = 254,              /* RFC 6994 experiments: a 16-bit magic follows */
	OPT_TFO_EXP_MAGIC = 0xF989, /* TFO before kind 34 was assigned */
};

enum {
	OPT_MSS_LEN = 4,
	OPT_WSCALE_LEN = 3,
	OPT_SACK_PERM_LEN = 2,
	OPT_TS_LEN = 10,
	OPT_SACK_BASE_LEN = 2, /* kind and length, then 8 bytes a block */
	OPT_SACK_BLOCK_LEN = 8,
};

/* RFC 7323 2.3: a shift count above 14 must be treated as 14. */
#define WSCALE_MAX 14

/* ------------------------------------------------------------------ */
/* The Internet checksum (RFC 1071).                                   */

/*
 * RFC 1071 2(B): the one's-complement sum does not depend on byte order --
 * summing the data as native 16-bit words gives the big-endian sum with its
 * two bytes swapped -- and 2(C): words may be added in wider units, with
 * every carry out of the top folded back in (2^64 == 1 mod 0xffff).
 *
 * The bulk of the data is read a vector at a time as native 32-bit lanes,
 * and each lane's two 16-bit words are added to two vectors of 32-bit
 * accumulators.  A lane gains at most 0xffff per step, so CSUM_BLOCK_STEPS
 * steps cannot overflow it; the accumulators are then added up as 64-bit
 * integers.  A plain integer sum of the words is what the end-around carry
 * computes once folded, so the result equals a word-by-word one's-complement
 * sum bit for bit (a non-zero sum never folds to 0).  The vectors are
 * GCC/Clang vector extensions: 16 bytes (SSE2, NEON) everywhere, 32 bytes
 * (AVX2, which adds the pairs with a multiply-add instead: block_madd) on
 * x86-64 CPUs that have it.  The rest, less than a vector, is
 * read eight bytes at a time in the host's order with any alignment (memcpy
 * compiles to one load) and added with end-around carry, as are headers
 * too short for the vectors.  The result is folded to 32 bits (not 16) and
 * byte-swapped on a little-endian host.
 */
typedef uint32_t csum_v16 __attribute__((vector_size(16)));
#define CSUM_BLOCK_STEPS 65536u

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t add_carry(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w); /* end-around carry */
}

static inline int host_little_endian(void)
{
	const uint16_t one = 1;
	uint8_t first;
	memcpy(&first, &one, 1);
	return first == 1;
}

/* Folds a native-order 64-bit sum into a 32-bit value congruent to the
 * big-endian sum (mod 0xffff, and non-zero unless every word was zero), and
 * adds it to sum.  2^32 == 1 and 2^8 * 2^8 == 1 mod 0xffff: the halves add
 * with end-around carry, and swapping the bytes of each 16-bit half
 * multiplies by 2^8, which turns the native sum into the big-endian one
 * without folding to 16 bits first (wire_csum_fold does that, once). */
static inline uint32_t finish_native(uint32_t sum, uint64_t acc)
{
	uint32_t hi = (uint32_t)(acc >> 32), x = (uint32_t)acc + hi;
	x += x < hi;
	if (host_little_endian())
		x = ((x & 0x00ff00ffu) << 8) | ((x >> 8) & 0x00ff00ffu);
	uint32_t r = sum + x;
	return r + (r < x);
}

/* The last 0..7 bytes (at an even offset), zero-padded in memory order,
 * which is RFC 1071 4.1's zero low byte after an odd final byte in either
 * byte order.  Summed as the native 32- and 16-bit words they are. */
static inline uint64_t sum_tail(const uint8_t *p, size_t len)
{
	uint64_t acc = 0;
	if (len & 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
	}
	if (len & 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		acc += w;
		p += 2;
	}
	if (len & 1)
		acc += host_little_endian() ? p[0] : (uint64_t)p[0] << 8;
	return acc;
}

/* Adds the native words of len bytes at p to acc, eight bytes at a time:
 * short buffers (headers) and what the vector loops leave over. */
static inline uint64_t sum_words(uint64_t acc, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		acc = add_carry(acc, load64(p));
		p += 8;
		len -= 8;
	}
	if (len)
		acc = add_carry(acc, sum_tail(p, len));
	return acc;
}

/*
 * One block loop, stamped out per vector type and for summing alone or
 * copying too: sums the native 16-bit words of steps vectors at p (steps
 * <= CSUM_BLOCK_STEPS), copying them to q when COPY is 1.  nvec vectors
 * a step, in independent accumulators.
 */
#define CSUM_BLOCK(name, vec, nvec, COPY, attr)                                                    \
	attr static uint64_t name(const uint8_t *p, uint8_t *q, size_t steps)                      \
	{                                                                                          \
		const vec low = (vec){0} + 0xffff;                                                 \
		vec lo[nvec], hi[nvec];                                                            \
		(void)q;                                                                           \
		for (int j = 0; j < (nvec); j++)                                                   \
			lo[j] = hi[j] = (vec){0};                                                  \
		for (size_t i = 0; i < steps; i++) {                                               \
			for (int j = 0; j < (nvec); j++) {                                         \
				vec v;                                                             \
				memcpy(&v, p + j * sizeof(vec), sizeof(vec));                      \
				if (COPY)                                                          \
					memcpy(q + j * sizeof(vec), &v, sizeof(vec));              \
				lo[j] += v & low;                                                  \
				hi[j] += v >> 16;                                                  \
			}                                                                          \
			p += (nvec) * sizeof(vec);                                                 \
			if (COPY)                                                                  \
				q += (nvec) * sizeof(vec);                                         \
		}                                                                                  \
		uint32_t w[(nvec) * sizeof(vec) / 2];                                              \
		memcpy(w, lo, sizeof(lo));                                                         \
		memcpy(w + (nvec) * sizeof(vec) / 4, hi, sizeof(hi));                              \
		uint64_t acc = 0;                                                                  \
		for (size_t k = 0; k < sizeof(w) / sizeof(w[0]); k++)                              \
			acc += w[k];                                                               \
		return acc;                                                                        \
	}

CSUM_BLOCK(block_sum_v16, csum_v16, 2, 0, )
CSUM_BLOCK(block_copy_v16, csum_v16, 2, 1, )

/* The AVX2 variants and their run-time choice (a CPUID bit the compiler's
 * runtime reads once at start-up) come from the build on x86-64
 * (SYNACK_CSUM_AVX2); elsewhere the 16-byte loops are all there is. */
#ifdef SYNACK_CSUM_AVX2
/*
 * The AVX2 loop adds pairs of words with one multiply-add (vpmaddwd by
 * ones) instead of a mask, a shift and two adds: each word u, its top bit
 * flipped, reads as the signed u - 32768, so a 32-bit lane gains the exact
 * (u0 - 32768) + (u1 - 32768) a step, in [-65536, 65534]; CSUM_MADD_STEPS
 * steps keep a lane within 2^31, and adding 32768 for every word read gives
 * back the plain integer sum the other loops return.
 */
#define CSUM_MADD_STEPS 16384u
__attribute__((target("avx2"), always_inline)) static inline uint64_t
block_madd(const uint8_t *p, uint8_t *q, size_t steps, int copy)
{
	const __m256i flip = _mm256_set1_epi16((short)0x8000), ones = _mm256_set1_epi16(1);
	__m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
	for (size_t i = 0; i < steps; i++, p += 64) {
		__m256i v0 = _mm256_loadu_si256((const __m256i *)p);
		__m256i v1 = _mm256_loadu_si256((const __m256i *)(p + 32));
		if (copy) {
			_mm256_storeu_si256((__m256i *)q, v0);
			_mm256_storeu_si256((__m256i *)(q + 32), v1);
			q += 64;
		}
		a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_xor_si256(v0, flip), ones));
		a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_xor_si256(v1, flip), ones));
	}
	int32_t w[16];
	_mm256_storeu_si256((__m256i *)w, a0);
	_mm256_storeu_si256((__m256i *)(w + 8), a1);
	int64_t acc = (int64_t)steps * 32 * 32768; /* 32 words a step */
	for (int k = 0; k < 16; k++)
		acc += w[k];
	return (uint64_t)acc;
}
__attribute__((target("avx2"))) static uint64_t block_sum_v32(const uint8_t *p, uint8_t *q,
                                                              size_t steps)
{
	return block_madd(p, q, steps, 0);
}
__attribute__((target("avx2"))) static uint64_t block_copy_v32(const uint8_t *p, uint8_t *q,
                                                               size_t steps)
{
	return block_madd(p, q, steps, 1);
}
static inline int have_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}
#else
#define CSUM_MADD_STEPS CSUM_BLOCK_STEPS
#define block_sum_v32 block_sum_v16
#define block_copy_v32 block_copy_v16
static inline int have_avx2(void)
{
	return 0;
}
#endif

static uint32_t csum_any(uint32_t sum, const uint8_t *p, uint8_t *q, size_t len)
{
	uint64_t acc = 0;
	int wide = len >= 128 && have_avx2();
	size_t step = wide ? 2 * 32 : 2 * 16; /* bytes per step of the loop chosen */
	while (len >= step) {
		size_t steps = len / step, most = wide ? CSUM_MADD_STEPS : CSUM_BLOCK_STEPS;
		if (steps > most)
			steps = most;
		uint64_t part;
		if (q)
			part = wide ? block_copy_v32(p, q, steps) : block_copy_v16(p, q, steps);
		else
			part = wide ? block_sum_v32(p, q, steps) : block_sum_v16(p, q, steps);
		acc = add_carry(acc, part);
		p += steps * step;
		if (q)
			q += steps * step;
		len -= steps * step;
	}
	/* What is left is less than a step: copied eight bytes at a time
	 * with their sum, no call for a few bytes. */
	if (q) {
		for (; len >= 8; p += 8, q += 8, len -= 8) {
			uint64_t w = load64(p);
			memcpy(q, &w, sizeof(w));
			acc = add_carry(acc, w);
		}
		for (size_t i = 0; i < len; i++)
			q[i] = p[i];
	}
	return finish_native(sum, sum_words(acc, p, len));
}

/* Headers (20 to 60 bytes) are too short for a vector loop to pay.  The
 * parsers and emitters below call this inline, so that a fixed length
 * (an IPv4 header's 20 bytes) compiles to straight-line code. */
static inline uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	if (len < 64)
		return finish_native(sum, sum_words(0, data, len));
	return csum_any(sum, data, NULL, len);
}

uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len)
{
	return csum_add(sum, data, len);
}

uint32_t wire_csum_copy(uint32_t sum, void *dst, const void *src, size_t len)
{
	return csum_any(sum, src, dst, len);
}

uint32_t wire_csum_swap(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ((sum & 0xff) << 8) | (sum >> 8);
}

uint16_t wire_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The longest TCP segment (header and data) a datagram of seg's family
 * carries: IPv4's total length counts its own header, IPv6's payload
 * length does not. */
static size_t wire_tcp_max_len(const struct wire_tcp_out *seg)
{
	return addr_is_v4(&seg->saddr) ? 0xffff - WIRE_IP4_HDR_LEN : 0xffff;
}

/* ------------------------------------------------------------------ */
/* IPv4 (RFC 791).                                                     */

int wire_ip4_parse(const uint8_t *pkt, size_t len, struct wire_ip4 *out)
{
	if (len < WIRE_IP4_HDR_LEN)
		return SYNACK_DROP_IP_TRUNCATED;
	if ((pkt[0] >> 4) != 4)
		return SYNACK_DROP_IP_BAD_VERSION;

	/* RFC 791 3.1: IHL counts 32-bit words; 5 is the minimum. */
	size_t hdr_len = (size_t)(pkt[0] & 0x0f) * 4;
	if (hdr_len < WIRE_IP4_HDR_LEN)
		return SYNACK_DROP_IP_BAD_IHL;
	if (len < hdr_len)
		return SYNACK_DROP_IP_TRUNCATED;

	/*
	 * The total length covers header and data.  The link may deliver more
	 * bytes than that (Ethernet pads short frames to 60 bytes); those are
	 * not part of the datagram and are ignored.  Fewer bytes than the
	 * header claims means the datagram was cut short.
	 */
	size_t total_len = wire_get16(pkt + 2);
	if (total_len < hdr_len)
		return SYNACK_DROP_IP_BAD_TOTAL_LEN;
	if (len < total_len)
		return SYNACK_DROP_IP_TRUNCATED;

	/* RFC 791 3.1 / RFC 1071: the sum over a correct header, checksum
	 * field included, is all ones, so its complement is zero. */
	uint32_t hsum = hdr_len == WIRE_IP4_HDR_LEN ? csum_add(0, pkt, WIRE_IP4_HDR_LEN)
	                                            : csum_add(0, pkt, hdr_len);
	if (wire_csum_fold(hsum) != 0)
		return SYNACK_DROP_IP_BAD_CHECKSUM;

	out->tos = pkt[1];
	out->id = wire_get16(pkt + 4);
	out->frag = wire_get16(pkt + 6);
	out->ttl = pkt[8];
	out->proto = pkt[9];
	out->src = wire_get32(pkt + 12);
	out->dst = wire_get32(pkt + 16);
	out->hdr_len = (uint16_t)hdr_len;
	out->total_len = (uint16_t)total_len;
	out->payload = pkt + hdr_len;
	out->payload_len = total_len - hdr_len;
	/* A piece of a larger datagram (more fragments follow, or this is
	 * not the first) is a valid header, but not a datagram to hand up
	 * as it is: *out is filled for reassembly (src/net/reasm4.c). */
	if (out->frag & (WIRE_IP4_MF | WIRE_IP4_OFFSET_MASK))
		return SYNACK_DROP_IP_FRAGMENT;
	return SYNACK_DROP_NONE;
}

/* Both emitters share this, inlined: wire_ip4_emit, on the path of every
 * segment, folds its constant flags. */
static inline void ip4_emit(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
                            uint16_t id, size_t payload_len, uint16_t frag, uint8_t tos)
{
	/* The caller sizes its datagrams; one that does not fit the 16-bit
	 * total length field is a bug in the stack, not hostile input. */
	assert(payload_len <= 0xffff - WIRE_IP4_HDR_LEN);

	buf[0] = 0x45; /* version 4, IHL 5 */
	buf[1] = tos;  /* TOS: DSCP 0 and the ECN field (RFC 3168 5) */
	wire_put16(buf + 2, (uint16_t)(WIRE_IP4_HDR_LEN + payload_len));
	wire_put16(buf + 4, id);
	wire_put16(buf + 6, frag);
	buf[8] = ttl;
	buf[9] = proto;
	wire_put32(buf + 12, src);
	wire_put32(buf + 16, dst);
	/* RFC 1071's sum of the header's ten 16-bit words (the checksum's
	 * own one zero), taken from the values rather than read back from
	 * buf: reading whole words just written in bytes and halves stalls
	 * the store-to-load forwarding of the CPU (6 % of an in-memory bulk
	 * transfer's time, perf, on this code when it read them back). */
	uint32_t sum = (0x45u << 8 | tos) + (uint32_t)(WIRE_IP4_HDR_LEN + payload_len) + id + frag +
	               ((uint32_t)ttl << 8 | proto) + (src >> 16) + (src & 0xffffu) + (dst >> 16) +
	               (dst & 0xffffu);
	wire_put16(buf + 10, wire_csum_fold(sum));
}

void wire_ip4_emit(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
                   uint16_t id, size_t payload_len)
{
	/* DF: we do path MTU discovery rather than let routers fragment
	 * (RFC 1191). */
	ip4_emit(buf, src, dst, proto, ttl, id, payload_len, WIRE_IP4_DF, 0);
}

void wire_ip4_emit_ecn(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
                       uint16_t id, size_t payload_len, uint8_t ecn)
{
	ip4_emit(buf, src, dst, proto, ttl, id, payload_len, WIRE_IP4_DF, ecn & WIRE_ECN_MASK);
}

void wire_ip4_emit_frag(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
                        uint16_t id, size_t payload_len, uint16_t frag)
{
	ip4_emit(buf, src, dst, proto, ttl, id, payload_len, frag, 0);
}

/* ------------------------------------------------------------------ */
/* TCP (RFC 9293 3.1).                                                 */

/*
 * Walks the option list (RFC 9293 3.1, "Options").  Kinds 0 and 1 are one
 * byte; every other kind has a length byte that counts the kind and length
 * bytes themselves, so a length below 2 could never advance and is
 * malformed.  The options we understand must have exactly their defined
 * length; everything else (MD5, other experiments) is skipped by its
 * length, as RFC 9293 3.1 requires of unknown options.  SACK blocks (RFC
 * 2018 3) of a length that is not 2 + 8 n are skipped the same way, as
 * Linux does (tcp_parse_options): the segment is still good.  So is a TCP
 * Fast Open option (RFC 7413, kind 34 or the experimental 254) with a
 * cookie length it does not allow: parse_tfo ignores it.
 */
static void parse_tfo(const uint8_t *v, unsigned len, struct wire_tcp_opts *opts, int exp)
{
	/* RFC 7413 4.1.1: no cookie asks for one; a cookie has 4 to 16
	 * bytes.  An odd length or one out of range is ignored, not the
	 * segment (as Linux's tcp_parse_fastopen_option); the first option
	 * wins. */
	if (opts->tfo)
		return;
	if (len == 0) {
		opts->tfo = WIRE_TFO_REQUEST;
	} else if (len >= WIRE_TFO_COOKIE_MIN && len <= WIRE_TFO_COOKIE_MAX && !(len & 1)) {
		opts->tfo = WIRE_TFO_COOKIE;
		opts->tfo_len = (uint8_t)len;
		memcpy(opts->tfo_cookie, v, len);
	} else {
		return;
	}
	opts->tfo_exp = (uint8_t)exp;
}

static int parse_opts(const uint8_t *o, size_t n, struct wire_tcp_opts *opts)
{
	size_t i = 0;

	memset(opts, 0, sizeof(*opts));
	/* The options of nearly every segment once timestamps are agreed,
	 * as RFC 7323 Appendix A lays them out (and Linux and synack send
	 * them): NOP, NOP, timestamps.  Read at once, as Linux's
	 * tcp_parse_aligned_timestamp does. */
	if (n == 12 && o[0] == OPT_NOP && o[1] == OPT_NOP && o[2] == OPT_TS && o[3] == OPT_TS_LEN) {
		opts->has_ts = 1;
		opts->ts_val = wire_get32(o + 4);
		opts->ts_ecr = wire_get32(o + 8);
		return SYNACK_DROP_NONE;
	}
	while (i < n) {
		uint8_t kind = o[i];
		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (n - i < 2)
			return SYNACK_DROP_TCP_BAD_OPTION; /* no room for the length */
		uint8_t olen = o[i + 1];
		if (olen < 2 || olen > n - i)
			return SYNACK_DROP_TCP_BAD_OPTION;
		const uint8_t *v = o + i + 2;
		switch (kind) {
		case OPT_MSS:
			if (olen != OPT_MSS_LEN)
				return SYNACK_DROP_TCP_BAD_OPTION;
			opts->has_mss = 1;
			opts->mss = wire_get16(v);
			break;
		case OPT_WSCALE:
			if (olen != OPT_WSCALE_LEN)
				return SYNACK_DROP_TCP_BAD_OPTION;
			opts->has_wscale = 1;
			/* RFC 7323 2.3: a shift above 14 MUST be used as 14.
			 * Clamping here means no caller can shift by more. */
			opts->wscale = v[0] > WSCALE_MAX ? WSCALE_MAX : v[0];
			break;
		case OPT_SACK_PERM:
			if (olen != OPT_SACK_PERM_LEN)
				return SYNACK_DROP_TCP_BAD_OPTION;
			opts->sack_permitted = 1;
			break;
		case OPT_TS:
			if (olen != OPT_TS_LEN)
				return SYNACK_DROP_TCP_BAD_OPTION;
			opts->has_ts = 1;
			opts->ts_val = wire_get32(v);
			opts->ts_ecr = wire_get32(v + 4);
			break;
		case OPT_TFO:
			parse_tfo(v, olen - 2u, opts, 0);
			break;
		case OPT_EXP:
			if (olen >= 4 && wire_get16(v) == OPT_TFO_EXP_MAGIC)
				parse_tfo(v + 2, olen - 4u, opts, 1);
			break;
		case OPT_SACK:
			if (olen < OPT_SACK_BASE_LEN + OPT_SACK_BLOCK_LEN ||
			    (olen - OPT_SACK_BASE_LEN) % OPT_SACK_BLOCK_LEN)
				break;
			/* 40 option bytes hold 4 blocks at most. */
			opts->sack_count =
			    (uint8_t)((olen - OPT_SACK_BASE_LEN) / OPT_SACK_BLOCK_LEN);
			for (unsigned b = 0; b < opts->sack_count; b++) {
				opts->sack[b].start = wire_get32(v + b * OPT_SACK_BLOCK_LEN);
				opts->sack[b].end = wire_get32(v + b * OPT_SACK_BLOCK_LEN + 4);
			}
			break;
		default:
			break;
		}
		i += olen;
	}
	return SYNACK_DROP_NONE;
}

/* What tcp_parse checks after the checksum: options, flags, ports. */
__attribute__((always_inline)) static inline int
tcp_parse_fields(const uint8_t *seg, size_t n, size_t hdr_len, struct wire_tcp *out)
{
	int err = parse_opts(seg + WIRE_TCP_HDR_LEN, hdr_len - WIRE_TCP_HDR_LEN, &out->opts);
	if (err != SYNACK_DROP_NONE)
		return err;

	/*
	 * A SYN opens a connection while FIN and RST end one; no correct
	 * sender combines them, and such combinations are a known scan and
	 * evasion technique, so they are refused here before TCP sees them.
	 */
	uint8_t flags = seg[13];
	if ((flags & SYNACK_TH_SYN) && (flags & (SYNACK_TH_FIN | SYNACK_TH_RST)))
		return SYNACK_DROP_TCP_BAD_FLAGS;

	/* Port 0 is reserved and is never a valid endpoint. */
	uint16_t sport = wire_get16(seg), dport = wire_get16(seg + 2);
	if (sport == 0 || dport == 0)
		return SYNACK_DROP_TCP_BAD_PORT;

	out->sport = sport;
	out->dport = dport;
	out->seq = wire_get32(seg + 4);
	out->ack = wire_get32(seg + 8);
	out->flags = flags;
	out->wnd = wire_get16(seg + 14);
	out->urp = wire_get16(seg + 18);
	out->hdr_len = (uint16_t)hdr_len;
	out->data = seg + hdr_len;
	out->data_len = (uint32_t)(n - hdr_len);
	return SYNACK_DROP_NONE;
}

/* How tcp_parse treats the checksum. */
enum {
	CSUM_WHOLE,   /* verified over the whole segment */
	CSUM_DEFER,   /* an ACK with text may leave its payload's sum to the caller */
	CSUM_TRUSTED, /* not summed: the link vouched for it (wire_tcp_parse_trusted) */
};

/* Parses a TCP segment of n bytes whose pseudo-header sums to pseudo (the
 * addresses are the caller's to fill in).  CSUM_DEFER: an ACK with text
 * (at least WIRE_TCP_DEFER_MIN bytes) and no other control bit but PSH
 * leaves its payload's sum to the caller (wire_tcp_parse_deferred). */
__attribute__((always_inline)) static inline int
tcp_parse(const uint8_t *seg, size_t n, uint32_t pseudo, struct wire_tcp *out, int defer)
{
	out->csum_pending = 0;
	if (n < WIRE_TCP_HDR_LEN)
		return SYNACK_DROP_TCP_TRUNCATED;

	/* RFC 9293 3.1: the data offset counts 32-bit words of header. */
	size_t hdr_len = (size_t)(seg[12] >> 4) * 4;
	if (hdr_len < WIRE_TCP_HDR_LEN || hdr_len > n)
		return SYNACK_DROP_TCP_BAD_OFFSET;

	if (defer == CSUM_TRUSTED)
		return tcp_parse_fields(seg, n, hdr_len, out);

	if (defer == CSUM_DEFER && n - hdr_len >= WIRE_TCP_DEFER_MIN &&
	    (seg[13] & ~SYNACK_TH_PSH) == SYNACK_TH_ACK) {
		/* The header's part now; the payload starts at an even
		 * offset (hdr_len counts words), so its sum adds on. */
		uint32_t part = csum_add(pseudo, seg, hdr_len);
		int err = tcp_parse_fields(seg, n, hdr_len, out);
		if (err == SYNACK_DROP_NONE) {
			out->csum_pending = 1;
			out->csum_part = part;
			return err;
		}
		/* Wrong elsewhere too: the checksum decides first, as below. */
		if (wire_csum_fold(csum_add(part, seg + hdr_len, n - hdr_len)) != 0)
			return SYNACK_DROP_TCP_BAD_CHECKSUM;
		return err;
	}

	/* RFC 9293 3.1: the checksum covers the pseudo-header, the header and
	 * the data; over a correct segment it sums to all ones. */
	if (wire_csum_fold(csum_add(pseudo, seg, n)) != 0)
		return SYNACK_DROP_TCP_BAD_CHECKSUM;

	return tcp_parse_fields(seg, n, hdr_len, out);
}

/* The protocol in the pseudo-header is TCP's own number whatever the
 * network header says. */
static int tcp_parse_net(const struct wire_net *net, struct wire_tcp *out, int csum)
{
	uint32_t n = (uint32_t)net->payload_len;
	int r = tcp_parse(net->payload, net->payload_len,
	                  csum == CSUM_TRUSTED
	                      ? 0
	                      : wire_csum_pseudo_net(&net->src, &net->dst, WIRE_IPPROTO_TCP, n),
	                  out, csum);
	out->saddr = net->src;
	out->daddr = net->dst;
	out->ecn = net->ecn;
	return r;
}

int wire_tcp_parse_net(const struct wire_net *net, struct wire_tcp *out)
{
	return tcp_parse_net(net, out, CSUM_WHOLE);
}

__attribute__((always_inline)) static inline int tcp_parse_ip4(const struct wire_ip4 *ip,
                                                               struct wire_tcp *out, int defer)
{
	uint32_t n = (uint32_t)ip->payload_len;
	int r = tcp_parse(ip->payload, ip->payload_len,
	                  wire_csum_pseudo(ip->src, ip->dst, WIRE_IPPROTO_TCP, n), out, defer);
	out->saddr = addr_v4(ip->src);
	out->daddr = addr_v4(ip->dst);
	out->ecn = ip->tos & WIRE_ECN_MASK;
	return r;
}

int wire_tcp_parse(const struct wire_ip4 *ip, struct wire_tcp *out)
{
	return tcp_parse_ip4(ip, out, CSUM_WHOLE);
}

int wire_tcp_parse_deferred(const struct wire_ip4 *ip, struct wire_tcp *out)
{
	return tcp_parse_ip4(ip, out, CSUM_DEFER);
}

int wire_tcp_parse_trusted(const struct wire_net *net, struct wire_tcp *out)
{
	return tcp_parse_net(net, out, CSUM_TRUSTED);
}

int wire_tcp_verify(const struct wire_tcp *w)
{
	return wire_csum_fold(csum_add(w->csum_part, w->data, w->data_len)) == 0;
}

int wire_tcp_verify_copy(const struct wire_tcp *w, uint8_t *dst, uint32_t first, uint8_t *rest)
{
	uint32_t sum = wire_csum_copy(w->csum_part, dst, w->data, first);
	if (first < w->data_len) {
		uint32_t tail = wire_csum_copy(0, rest, w->data + first, w->data_len - first);
		/* RFC 1071 2(B): bytes that start at an odd offset sum
		 * byte-swapped. */
		if (first & 1)
			tail = wire_csum_swap(tail);
		sum += tail;
		sum += sum < tail;
	}
	return wire_csum_fold(sum) == 0;
}

/*
 * Writes the options into o (at least WIRE_TCP_MAX_OPT_LEN bytes) and
 * returns their length, always a multiple of 4.  The layout is Linux's, so
 * our segments look familiar in captures and middleboxes that expect it
 * are not surprised:
 *   MSS | SACK-permitted, timestamps | NOP, window scale | NOP, NOP, SACK
 * with NOPs in front of timestamps or SACK-permitted when the other is
 * absent, which keeps the 4-byte values of the timestamps aligned.  SACK
 * blocks are cut to what fits (wire_tcp_sack_room).
 */
/* How many of n SACK blocks fit after used bytes of other options: two
 * NOPs, kind and length, then 8 bytes a block, within the 40 bytes.  The one
 * place the room is reckoned (write_sack, wire_tcp_opts_len,
 * wire_tcp_sack_room). */
static unsigned sack_blocks_fit(size_t used, unsigned n)
{
	if (n == 0 || used + 2 + OPT_SACK_BASE_LEN + OPT_SACK_BLOCK_LEN > WIRE_TCP_MAX_OPT_LEN)
		return 0;
	size_t room = (WIRE_TCP_MAX_OPT_LEN - used - 2 - OPT_SACK_BASE_LEN) / OPT_SACK_BLOCK_LEN;
	return n < room ? n : (unsigned)room;
}

static size_t write_sack(uint8_t *o, size_t i, const struct wire_tcp_opts *opts)
{
	unsigned n = sack_blocks_fit(i, opts->sack_count);
	if (n == 0)
		return i;
	o[i++] = OPT_NOP;
	o[i++] = OPT_NOP;
	o[i++] = OPT_SACK;
	o[i++] = (uint8_t)(OPT_SACK_BASE_LEN + n * OPT_SACK_BLOCK_LEN);
	for (unsigned b = 0; b < n; b++) {
		wire_put32(o + i, opts->sack[b].start);
		wire_put32(o + i + 4, opts->sack[b].end);
		i += OPT_SACK_BLOCK_LEN;
	}
	return i;
}

static size_t write_opts(uint8_t *o, const struct wire_tcp_opts *opts)
{
	size_t i = 0;

	if (opts->has_mss) {
		o[i++] = OPT_MSS;
		o[i++] = OPT_MSS_LEN;
		wire_put16(o + i, opts->mss);
		i += 2;
	}
	if (opts->sack_permitted && opts->has_ts) {
		o[i++] = OPT_SACK_PERM;
		o[i++] = OPT_SACK_PERM_LEN;
	} else if (opts->sack_permitted) {
		o[i++] = OPT_NOP;
		o[i++] = OPT_NOP;
		o[i++] = OPT_SACK_PERM;
		o[i++] = OPT_SACK_PERM_LEN;
	} else if (opts->has_ts) {
		o[i++] = OPT_NOP;
		o[i++] = OPT_NOP;
	}
	if (opts->has_ts) {
		o[i++] = OPT_TS;
		o[i++] = OPT_TS_LEN;
		wire_put32(o + i, opts->ts_val);
		wire_put32(o + i + 4, opts->ts_ecr);
		i += 8;
	}
	if (opts->has_wscale) {
		o[i++] = OPT_NOP;
		o[i++] = OPT_WSCALE;
		o[i++] = OPT_WSCALE_LEN;
		o[i++] = opts->wscale;
	}
	if (opts->tfo) {
		/* RFC 7413 4.1.1, after the others and padded with NOPs to a
		 * word, as Linux writes it: kind 34, or the experimental
		 * form (RFC 6994) when answering a client that used it. */
		unsigned len = opts->tfo == WIRE_TFO_COOKIE ? opts->tfo_len : 0;
		if (opts->tfo_exp) {
			o[i++] = OPT_EXP;
			o[i++] = (uint8_t)(4 + len);
			wire_put16(o + i, OPT_TFO_EXP_MAGIC);
			i += 2;
		} else {
			o[i++] = OPT_TFO;
			o[i++] = (uint8_t)(2 + len);
		}
		memcpy(o + i, opts->tfo_cookie, len);
		i += len;
		while (i % 4)
			o[i++] = OPT_NOP;
	}
	i = write_sack(o, i, opts);
	assert(i % 4 == 0 && i <= WIRE_TCP_MAX_OPT_LEN && i == wire_tcp_opts_len(opts));
	return i;
}

/* The length write_opts writes, computed without writing (every segment
 * asks it, for its room); write_opts asserts that the two agree. */
size_t wire_tcp_opts_len(const struct wire_tcp_opts *opts)
{
	size_t n = opts->has_mss ? 4 : 0;
	if (opts->sack_permitted)
		n += opts->has_ts ? 2 : 4;
	else if (opts->has_ts)
		n += 2;
	if (opts->has_ts)
		n += 10;
	if (opts->has_wscale)
		n += 4;
	if (opts->tfo)
		n += (2u + 2u * opts->tfo_exp + (opts->tfo == WIRE_TFO_COOKIE ? opts->tfo_len : 0) +
		      3u) &
		     ~3u;
	/* SACK blocks, as write_sack writes them. */
	unsigned k = sack_blocks_fit(n, opts->sack_count);
	if (k)
		n += 2 + OPT_SACK_BASE_LEN + (size_t)k * OPT_SACK_BLOCK_LEN;
	return n;
}

unsigned wire_tcp_sack_room(const struct wire_tcp_opts *opts)
{
	struct wire_tcp_opts o = *opts;
	o.sack_count = 0;
	return sack_blocks_fit(wire_tcp_opts_len(&o), WIRE_SACK_MAX);
}

size_t wire_tcp_hdr_len(const struct wire_tcp_out *seg)
{
	return WIRE_TCP_HDR_LEN + wire_tcp_opts_len(&seg->opts);
}

size_t wire_tcp_emit_summed(uint8_t *buf, size_t cap, const struct wire_tcp_out *seg, size_t len,
                            uint32_t payload_sum)
{
	uint8_t opts[WIRE_TCP_MAX_OPT_LEN];
	size_t opt_len = write_opts(opts, &seg->opts);
	size_t hdr_len = WIRE_TCP_HDR_LEN + opt_len;

	/* Also refuse a segment no datagram could carry (RFC 791's total
	 * length and RFC 8200's payload length are 16 bits); nothing is
	 * written in either case. */
	if (len > wire_tcp_max_len(seg) - hdr_len || cap < hdr_len + len)
		return 0;

	wire_put16(buf, seg->sport);
	wire_put16(buf + 2, seg->dport);
	wire_put32(buf + 4, seg->seq);
	wire_put32(buf + 8, seg->ack);
	buf[12] = (uint8_t)((hdr_len / 4) << 4);
	buf[13] = seg->flags;
	wire_put16(buf + 14, seg->wnd);
	wire_put16(buf + 18, 0); /* urgent pointer: we never send urgent data */
	memcpy(buf + WIRE_TCP_HDR_LEN, opts, opt_len);

	/* The header is a multiple of four bytes long, so the payload's sum
	 * (taken from its own start) adds in without a byte swap.  The fixed
	 * header's words are summed from their values, not read back from
	 * buf just after being written in pieces (a store-to-load forwarding
	 * stall per segment, as in ip4_emit); the options from the copy the
	 * stack wrote them in. */
	size_t total = hdr_len + len;
	uint32_t sum =
	    wire_csum_pseudo_net(&seg->saddr, &seg->daddr, WIRE_IPPROTO_TCP, (uint32_t)total);
	sum = csum_add(sum, opts, opt_len);
	uint64_t hdr = (uint64_t)seg->sport + seg->dport + (seg->seq >> 16) + (seg->seq & 0xffffu) +
	               (seg->ack >> 16) + (seg->ack & 0xffffu) +
	               ((uint32_t)(hdr_len / 4) << 12 | seg->flags) + seg->wnd;
	hdr += sum;
	sum = (uint32_t)((hdr & 0xffffffffu) + (hdr >> 32));
	uint64_t all = (uint64_t)sum + payload_sum;
	wire_put16(buf + 16, wire_csum_fold((uint32_t)((all & 0xffffffffu) + (all >> 32))));
	return total;
}

/* ------------------------------------------------------------------ */
/* ICMP (RFC 792).                                                     */

int wire_icmp_is_error(uint8_t type)
{
	switch (type) {
	case WIRE_ICMP_DEST_UNREACH:
	case WIRE_ICMP_SOURCE_QUENCH:
	case WIRE_ICMP_REDIRECT:
	case WIRE_ICMP_TIME_EXCEEDED:
	case WIRE_ICMP_PARAM_PROBLEM:
		return 1;
	default:
		return 0;
	}
}

/*
 * The quote of an error: the offending datagram's IPv4 header (with its
 * options) and at least the first 8 bytes after it (RFC 792), or all of
 * them when the datagram carried fewer (its total length says so).  Its checksum is not
 * verified: routers quote the header as they received it, and some rewrite
 * fields of it; the TCP layer checks what matters (addresses, ports, the
 * sequence number).
 */
static int parse_quote(const uint8_t *q, size_t n, struct wire_icmp_quote *out)
{
	if (n < WIRE_IP4_HDR_LEN || (q[0] >> 4) != 4)
		return SYNACK_DROP_ICMP_BAD_QUOTE;
	size_t hdr_len = (size_t)(q[0] & 0x0f) * 4;
	size_t total_len = wire_get16(q + 2);
	if (hdr_len < WIRE_IP4_HDR_LEN || total_len < hdr_len)
		return SYNACK_DROP_ICMP_BAD_QUOTE;
	/* Eight bytes of data, or all the datagram had when it was shorter. */
	size_t want = total_len - hdr_len < 8 ? total_len - hdr_len : 8;
	if (n < hdr_len + want)
		return SYNACK_DROP_ICMP_BAD_QUOTE;
	if (wire_get16(q + 6) & WIRE_IP4_OFFSET_MASK)
		return SYNACK_DROP_ICMP_BAD_QUOTE;
	out->src = wire_get32(q + 12);
	out->dst = wire_get32(q + 16);
	out->proto = q[9];
	out->hdr_len = (uint16_t)hdr_len;
	out->total_len = (uint16_t)total_len;
	out->l4 = q + hdr_len;
	out->l4_len = n - hdr_len;
	return SYNACK_DROP_NONE;
}

int wire_icmp_parse(const struct wire_ip4 *ip, struct wire_icmp *out)
{
	const uint8_t *m = ip->payload;
	size_t n = ip->payload_len;

	if (n < WIRE_ICMP_HDR_LEN)
		return SYNACK_DROP_ICMP_TRUNCATED;
	/* RFC 792: the checksum covers the whole ICMP message, no pseudo-header. */
	if (wire_csum_fold(wire_csum_add(0, m, n)) != 0)
		return SYNACK_DROP_ICMP_BAD_CHECKSUM;

	memset(out, 0, sizeof(*out));
	out->type = m[0];
	out->code = m[1];
	out->rest = wire_get32(m + 4);
	out->id = wire_get16(m + 4);
	out->seq = wire_get16(m + 6);
	out->data = m + WIRE_ICMP_HDR_LEN;
	out->data_len = n - WIRE_ICMP_HDR_LEN;
	out->is_error = (uint8_t)wire_icmp_is_error(out->type);
	/* RFC 1191 4: the low 16 bits of the unused field carry the
	 * next-hop MTU in a Fragmentation Needed message. */
	if (out->type == WIRE_ICMP_DEST_UNREACH && out->code == WIRE_ICMP_FRAG_NEEDED)
		out->mtu = out->seq;
	if (out->is_error)
		return parse_quote(out->data, out->data_len, &out->quote);
	return SYNACK_DROP_NONE;
}

size_t wire_icmp_emit(uint8_t *buf, size_t cap, uint8_t type, uint8_t code, uint32_t rest,
                      const uint8_t *data, size_t len)
{
	if (len > 0xffff - WIRE_IP4_HDR_LEN - WIRE_ICMP_HDR_LEN || cap < WIRE_ICMP_HDR_LEN + len)
		return 0;
	if (len && data != buf + WIRE_ICMP_HDR_LEN)
		memmove(buf + WIRE_ICMP_HDR_LEN, data, len);
	wire_icmp_emit_hdr(buf, type, code, rest, wire_csum_add(0, buf + WIRE_ICMP_HDR_LEN, len));
	return WIRE_ICMP_HDR_LEN + len;
}

void wire_icmp_emit_hdr(uint8_t *buf, uint8_t type, uint8_t code, uint32_t rest, uint32_t data_sum)
{
	buf[0] = type;
	buf[1] = code;
	wire_put16(buf + 2, 0);
	wire_put32(buf + 4, rest);
	/* RFC 792: the checksum covers the whole message; the header is 8
	 * bytes, so the data's sum needs no byte swap (RFC 1071 2(B)). */
	wire_put16(buf + 2, wire_csum_fold(wire_csum_add(data_sum, buf, WIRE_ICMP_HDR_LEN)));
}

size_t wire_tcp_emit(uint8_t *buf, size_t cap, const struct wire_tcp_out *seg,
                     const uint8_t *payload, size_t len)
{
	size_t hdr_len = wire_tcp_hdr_len(seg);
	if (len > wire_tcp_max_len(seg) - hdr_len || cap < hdr_len + len)
		return 0;
	/* The payload may already sit at buf + hdr_len (built in place);
	 * memmove copes with that and with any other overlap. */
	uint32_t psum;
	uintptr_t from = (uintptr_t)payload, to = (uintptr_t)(buf + hdr_len);
	if (len && (from + len <= to || to + len <= from)) {
		psum = wire_csum_copy(0, buf + hdr_len, payload, len);
	} else {
		if (len && payload != buf + hdr_len)
			memmove(buf + hdr_len, payload, len);
		psum = wire_csum_add(0, buf + hdr_len, len);
	}
	return wire_tcp_emit_summed(buf, cap, seg, len, psum);
}
