/*
 * Wire formats: IPv4 and TCP header parsing and emission, and the Internet
 * checksum.  Everything here is a pure function of its arguments; the
 * parsers treat their input as hostile and never read past the length they
 * are given.
 */
#include "wire/wire.h"

#include <assert.h>
#include <string.h>

/* TCP option kinds (RFC 9293 3.2, RFC 7323, RFC 2018). */
enum {
	OPT_EOL = 0,
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WSCALE = 3,
	OPT_SACK_PERM = 4,
	OPT_TS = 8,
};

enum {
	OPT_MSS_LEN = 4,
	OPT_WSCALE_LEN = 3,
	OPT_SACK_PERM_LEN = 2,
	OPT_TS_LEN = 10,
};

/* RFC 7323 2.3: a shift count above 14 must be treated as 14. */
#define WSCALE_MAX 14

/* RFC 791 3.1: the flags / fragment offset word. */
#define IP4_FLAG_DF 0x4000
#define IP4_FLAG_MF 0x2000
#define IP4_FRAG_OFFSET_MASK 0x1fff

/* ------------------------------------------------------------------ */
/* The Internet checksum (RFC 1071).                                   */

/*
 * RFC 1071 2(B): the one's-complement sum does not depend on byte order --
 * summing the data as native 16-bit words gives the big-endian sum with its
 * two bytes swapped -- and 2(C): words may be added in wider units, with
 * every carry out of the top folded back in (2^64 == 1 mod 0xffff).  So the
 * data is read eight bytes at a time in the host's order, with any alignment
 * (memcpy compiles to one load), into four independent accumulators so that
 * the carries do not form one long chain; the result is folded to 16 bits
 * and swapped on a little-endian host.
 */
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
 * big-endian sum, and adds it to sum. */
static inline uint32_t finish_native(uint32_t sum, uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	if (host_little_endian())
		acc = ((acc & 0xff) << 8) | (acc >> 8);
	uint64_t r = (uint64_t)sum + acc;
	return (uint32_t)((r & 0xffffffffu) + (r >> 32));
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

uint32_t wire_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t a = 0, b = 0, c = 0, d = 0;
	while (len >= 32) {
		a = add_carry(a, load64(p));
		b = add_carry(b, load64(p + 8));
		c = add_carry(c, load64(p + 16));
		d = add_carry(d, load64(p + 24));
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		a = add_carry(a, load64(p));
		p += 8;
		len -= 8;
	}
	if (len)
		b = add_carry(b, sum_tail(p, len));
	return finish_native(sum, add_carry(add_carry(a, b), add_carry(c, d)));
}

uint32_t wire_csum_copy(uint32_t sum, void *dst, const void *src, size_t len)
{
	const uint8_t *p = src;
	uint8_t *q = dst;
	uint64_t a = 0, b = 0, c = 0, d = 0;
	while (len >= 32) {
		uint64_t w0 = load64(p), w1 = load64(p + 8), w2 = load64(p + 16),
		         w3 = load64(p + 24);
		memcpy(q, &w0, 8);
		memcpy(q + 8, &w1, 8);
		memcpy(q + 16, &w2, 8);
		memcpy(q + 24, &w3, 8);
		a = add_carry(a, w0);
		b = add_carry(b, w1);
		c = add_carry(c, w2);
		d = add_carry(d, w3);
		p += 32;
		q += 32;
		len -= 32;
	}
	while (len >= 8) {
		uint64_t w = load64(p);
		memcpy(q, &w, 8);
		a = add_carry(a, w);
		p += 8;
		q += 8;
		len -= 8;
	}
	if (len) {
		memcpy(q, p, len);
		b = add_carry(b, sum_tail(p, len));
	}
	return finish_native(sum, add_carry(add_carry(a, b), add_carry(c, d)));
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

/*
 * RFC 9293 3.1: the pseudo-header is the source address, the destination
 * address, a zero byte, the protocol and the TCP length (header plus data,
 * not counting the pseudo-header).  len is summed as two 16-bit halves so
 * the function is also right for lengths above 65535.
 */
uint32_t wire_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	uint32_t sum = 0;
	sum += src >> 16;
	sum += src & 0xffff;
	sum += dst >> 16;
	sum += dst & 0xffff;
	sum += proto;
	sum += len >> 16;
	sum += len & 0xffff;
	return sum;
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
	if (wire_csum_fold(wire_csum_add(0, pkt, hdr_len)) != 0)
		return SYNACK_DROP_IP_BAD_CHECKSUM;

	/* We do not reassemble: any piece of a fragmented datagram (more
	 * fragments follow, or this is not the first) is dropped. */
	uint16_t frag = wire_get16(pkt + 6);
	if ((frag & IP4_FLAG_MF) || (frag & IP4_FRAG_OFFSET_MASK))
		return SYNACK_DROP_IP_FRAGMENT;

	out->tos = pkt[1];
	out->id = wire_get16(pkt + 4);
	out->ttl = pkt[8];
	out->proto = pkt[9];
	out->src = wire_get32(pkt + 12);
	out->dst = wire_get32(pkt + 16);
	out->hdr_len = (uint16_t)hdr_len;
	out->total_len = (uint16_t)total_len;
	out->payload = pkt + hdr_len;
	out->payload_len = total_len - hdr_len;
	return SYNACK_DROP_NONE;
}

void wire_ip4_emit(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
                   uint16_t id, size_t payload_len)
{
	/* The caller sizes its datagrams; one that does not fit the 16-bit
	 * total length field is a bug in the stack, not hostile input. */
	assert(payload_len <= 0xffff - WIRE_IP4_HDR_LEN);

	buf[0] = 0x45; /* version 4, IHL 5 */
	buf[1] = 0;    /* TOS */
	wire_put16(buf + 2, (uint16_t)(WIRE_IP4_HDR_LEN + payload_len));
	wire_put16(buf + 4, id);
	/* DF: we do path MTU discovery rather than let routers fragment
	 * (RFC 1191), and we could not reassemble fragments ourselves. */
	wire_put16(buf + 6, IP4_FLAG_DF);
	buf[8] = ttl;
	buf[9] = proto;
	wire_put16(buf + 10, 0);
	wire_put32(buf + 12, src);
	wire_put32(buf + 16, dst);
	wire_put16(buf + 10, wire_csum_fold(wire_csum_add(0, buf, WIRE_IP4_HDR_LEN)));
}

/* ------------------------------------------------------------------ */
/* TCP (RFC 9293 3.1).                                                 */

/*
 * Walks the option list (RFC 9293 3.1, "Options").  Kinds 0 and 1 are one
 * byte; every other kind has a length byte that counts the kind and length
 * bytes themselves, so a length below 2 could never advance and is
 * malformed.  The options we understand must have exactly their defined
 * length; everything else (SACK blocks, MD5, TFO, experiments) is skipped
 * by its length, as RFC 9293 3.1 requires of unknown options.
 */
static int parse_opts(const uint8_t *o, size_t n, struct wire_tcp_opts *opts)
{
	size_t i = 0;

	memset(opts, 0, sizeof(*opts));
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
		default:
			break;
		}
		i += olen;
	}
	return SYNACK_DROP_NONE;
}

int wire_tcp_parse(const struct wire_ip4 *ip, struct wire_tcp *out)
{
	const uint8_t *seg = ip->payload;
	size_t n = ip->payload_len;

	if (n < WIRE_TCP_HDR_LEN)
		return SYNACK_DROP_TCP_TRUNCATED;

	/* RFC 9293 3.1: the data offset counts 32-bit words of header. */
	size_t hdr_len = (size_t)(seg[12] >> 4) * 4;
	if (hdr_len < WIRE_TCP_HDR_LEN || hdr_len > n)
		return SYNACK_DROP_TCP_BAD_OFFSET;

	/* RFC 9293 3.1: the checksum covers the pseudo-header, the header and
	 * the data; over a correct segment it sums to all ones.  The
	 * protocol is TCP's own number whatever the caller's ip->proto says. */
	uint32_t sum = wire_csum_pseudo(ip->src, ip->dst, WIRE_IPPROTO_TCP, (uint32_t)n);
	if (wire_csum_fold(wire_csum_add(sum, seg, n)) != 0)
		return SYNACK_DROP_TCP_BAD_CHECKSUM;

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

	out->saddr = ip->src;
	out->daddr = ip->dst;
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

/*
 * Writes the options into o (at least WIRE_TCP_MAX_OPT_LEN bytes) and
 * returns their length, always a multiple of 4.  The layout is Linux's, so
 * our segments look familiar in captures and middleboxes that expect it
 * are not surprised:
 *   MSS | SACK-permitted, timestamps | NOP, window scale
 * with NOPs in front of timestamps or SACK-permitted when the other is
 * absent, which keeps the 4-byte values of the timestamps aligned.
 */
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
	assert(i % 4 == 0 && i <= WIRE_TCP_MAX_OPT_LEN);
	return i;
}

/* Computed by writing them, so the length can never disagree with emit. */
size_t wire_tcp_opts_len(const struct wire_tcp_opts *opts)
{
	uint8_t scratch[WIRE_TCP_MAX_OPT_LEN];
	return write_opts(scratch, opts);
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

	/* Also refuse a segment no IPv4 datagram could carry (RFC 791 total
	 * length is 16 bits); nothing is written in either case. */
	if (len > 0xffff - WIRE_IP4_HDR_LEN - hdr_len || cap < hdr_len + len)
		return 0;

	wire_put16(buf, seg->sport);
	wire_put16(buf + 2, seg->dport);
	wire_put32(buf + 4, seg->seq);
	wire_put32(buf + 8, seg->ack);
	buf[12] = (uint8_t)((hdr_len / 4) << 4);
	buf[13] = seg->flags;
	wire_put16(buf + 14, seg->wnd);
	wire_put16(buf + 16, 0); /* checksum, filled below */
	wire_put16(buf + 18, 0); /* urgent pointer: we never send urgent data */
	memcpy(buf + WIRE_TCP_HDR_LEN, opts, opt_len);

	/* The header is a multiple of four bytes long, so the payload's sum
	 * (taken from its own start) adds in without a byte swap. */
	size_t total = hdr_len + len;
	uint32_t sum = wire_csum_pseudo(seg->saddr, seg->daddr, WIRE_IPPROTO_TCP, (uint32_t)total);
	sum = wire_csum_add(sum, buf, hdr_len);
	uint64_t all = (uint64_t)sum + payload_sum;
	wire_put16(buf + 16, wire_csum_fold((uint32_t)((all & 0xffffffffu) + (all >> 32))));
	return total;
}

size_t wire_tcp_emit(uint8_t *buf, size_t cap, const struct wire_tcp_out *seg,
                     const uint8_t *payload, size_t len)
{
	size_t hdr_len = wire_tcp_hdr_len(seg);
	if (len > 0xffff - WIRE_IP4_HDR_LEN - hdr_len || cap < hdr_len + len)
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
