/*
 * IPv6 (RFC 8200) and ICMPv6 (RFC 4443) on the wire, and IPv6 addresses
 * as text (RFC 4291 2.2, RFC 5952).  Pure functions, like wire.c: the
 * parsers treat their input as hostile and never read past the length
 * they are given.
 */
#include "wire/wire6.h"

#include <stdio.h>
#include <string.h>

struct addr wire_addr6_from_bytes(const uint8_t b[16])
{
	struct addr a;
	for (int i = 0; i < 4; i++)
		a.w[i] = wire_get32(b + 4 * i);
	return a;
}

void wire_addr6_to_bytes(const struct addr *a, uint8_t b[16])
{
	for (int i = 0; i < 4; i++)
		wire_put32(b + 4 * i, a->w[i]);
}

/* RFC 4291 2.7: ff00::/8. */
static int is_multicast6(const struct addr *a)
{
	return (a->w[0] >> 24) == 0xff;
}

/* ------------------------------------------------------------------ */
/* IPv6 (RFC 8200).                                                    */

/* Option types (RFC 8200 4.2): the two padding options. */
enum { OPT6_PAD1 = 0, OPT6_PADN = 1 };

/* RFC 8200 4.2: "the Pad1 option is used to insert one octet of padding
 * ... the PadN option ... two or more", to align what follows to 8 bytes:
 * more than 7 bytes of padding in a row align nothing, and only make the
 * walk longer (Linux refuses them the same way). */
#define OPT6_PAD_MAX 7

static int problem(struct wire_ip6 *out, uint8_t code, size_t ptr, int reason)
{
	out->pp = (uint8_t)(code + 1);
	out->pp_ptr = (uint32_t)ptr;
	return reason;
}

/*
 * The options of a hop-by-hop or destination options header of hlen bytes
 * at pkt + off (RFC 8200 4.2, 4.3, 4.6): each a type, a length and data.
 * An unknown option is handled as the two high bits of its type say: 00
 * skip it, 01 discard the datagram, 10 discard and send a Parameter
 * Problem (code 2, pointing at the type), 11 the same unless the
 * destination was a multicast address.  We know only the padding.
 */
static int walk_options(const uint8_t *pkt, size_t off, size_t hlen, struct wire_ip6 *out)
{
	size_t i = off + 2, end = off + hlen, pad = 0;
	while (i < end) {
		uint8_t type = pkt[i];
		if (type == OPT6_PAD1) {
			if (++pad > OPT6_PAD_MAX)
				return SYNACK_DROP_IP6_BAD_OPTION;
			i++;
			continue;
		}
		if (end - i < 2 || end - i - 2 < pkt[i + 1])
			return SYNACK_DROP_IP6_BAD_OPTION;
		size_t olen = 2 + (size_t)pkt[i + 1];
		if (type == OPT6_PADN) {
			pad += olen;
			if (pad > OPT6_PAD_MAX)
				return SYNACK_DROP_IP6_BAD_OPTION;
			i += olen;
			continue;
		}
		pad = 0;
		switch (type >> 6) {
		case 0: /* skip over this option */
			break;
		case 1: /* discard the packet */
			return SYNACK_DROP_IP6_UNKNOWN_OPTION;
		case 2: /* discard, Parameter Problem code 2 whatever the destination */
			return problem(out, WIRE_ICMP6_PP_OPTION, i,
			               SYNACK_DROP_IP6_UNKNOWN_OPTION);
		default: /* the same, only if the destination was not multicast */
			if (is_multicast6(&out->dst))
				return SYNACK_DROP_IP6_UNKNOWN_OPTION;
			return problem(out, WIRE_ICMP6_PP_OPTION, i,
			               SYNACK_DROP_IP6_UNKNOWN_OPTION);
		}
		i += olen;
	}
	return SYNACK_DROP_NONE;
}

/* The length of the extension header at pkt + off, which has end - off
 * bytes of room, for next header nh: 0 when it runs past them. */
static size_t ext_len(const uint8_t *pkt, size_t off, size_t end, uint8_t nh)
{
	if (end - off < 8)
		return 0;
	/* RFC 8200 4.5: the fragment header is 8 bytes, its second byte
	 * reserved; the others count 8-byte units past the first 8. */
	size_t hlen = nh == WIRE_IPPROTO_FRAGMENT ? 8 : ((size_t)pkt[off + 1] + 1) * 8;
	return end - off < hlen ? 0 : hlen;
}

static int is_ext(uint8_t nh)
{
	return nh == WIRE_IPPROTO_HOPOPTS || nh == WIRE_IPPROTO_DSTOPTS ||
	       nh == WIRE_IPPROTO_ROUTING || nh == WIRE_IPPROTO_FRAGMENT;
}

int wire_ip6_parse(const uint8_t *pkt, size_t len, struct wire_ip6 *out)
{
	out->pp = 0;
	out->pp_ptr = 0;
	out->frag_off = 0;
	if (len < WIRE_IP6_HDR_LEN)
		return SYNACK_DROP_IP_TRUNCATED;
	if ((pkt[0] >> 4) != 6)
		return SYNACK_DROP_IP_BAD_VERSION;
	uint32_t first = wire_get32(pkt);
	out->tclass = (uint8_t)(first >> 20);
	out->flow = first & 0xfffff;
	out->payload_len = wire_get16(pkt + 4);
	out->hop_limit = pkt[7];
	out->src = wire_addr6_from_bytes(pkt + 8);
	out->dst = wire_addr6_from_bytes(pkt + 24);
	out->proto = pkt[6];
	out->nh_off = 6;
	out->payload = pkt + WIRE_IP6_HDR_LEN;
	out->payload_len_up = 0;

	/* RFC 8200 3: the payload length counts what follows the fixed
	 * header; bytes the link delivers past it are padding.  A jumbogram
	 * (length 0 and a Jumbo Payload option, RFC 2675) cannot come over
	 * any link we drive: its option is unknown to us and refused. */
	size_t end = WIRE_IP6_HDR_LEN + (size_t)out->payload_len;
	if (len < end)
		return SYNACK_DROP_IP_TRUNCATED;
	/* RFC 8200 3: a datagram whose hop limit reached 0 is discarded; one
	 * that arrives with 0 was sent that way by a broken or hostile node
	 * (a forwarder never passes it on), and we drop it too. */
	if (out->hop_limit == 0)
		return SYNACK_DROP_IP6_HOP_LIMIT;

	/* RFC 8200 4.1: the extension headers in the order they come, each
	 * naming the next in its first byte. */
	uint8_t nh = out->proto;
	size_t off = WIRE_IP6_HDR_LEN, nh_off = 6;
	for (unsigned n = 0; is_ext(nh); n++) {
		/* RFC 8200 4.1: hop-by-hop options only right after the fixed
		 * header; anywhere else the Next Header naming them is
		 * unrecognized (Parameter Problem code 1). */
		if (nh == WIRE_IPPROTO_HOPOPTS && n != 0)
			return problem(out, WIRE_ICMP6_PP_NEXT_HEADER, nh_off,
			               SYNACK_DROP_IP6_HBH_NOT_FIRST);
		if (n == WIRE_IP6_MAX_EXT)
			return SYNACK_DROP_IP6_EXT_TOO_MANY;
		size_t hlen = ext_len(pkt, off, end, nh);
		if (hlen == 0)
			return SYNACK_DROP_IP6_EXT_TRUNCATED;
		int reason = SYNACK_DROP_NONE;
		if (nh == WIRE_IPPROTO_HOPOPTS || nh == WIRE_IPPROTO_DSTOPTS) {
			reason = walk_options(pkt, off, hlen, out);
		} else if (nh == WIRE_IPPROTO_ROUTING && pkt[off + 3] != 0) {
			/* RFC 8200 4.4: an unrecognized Routing Type with
			 * Segments Left 0 is ignored; with segments left the
			 * datagram is discarded with a Parameter Problem code 0
			 * pointing at the type.  We are a host and process no
			 * type; type 0 is unrecognized by RFC 5095 3 in any
			 * case. */
			reason =
			    problem(out, WIRE_ICMP6_PP_HEADER, off + 2, SYNACK_DROP_IP6_ROUTING);
		} else if (nh == WIRE_IPPROTO_FRAGMENT) {
			/* RFC 8200 4.5: offset (13 bits) and M.  Only an atomic
			 * fragment (offset 0, M clear; RFC 6946 4) is whole and
			 * goes on; the others wait for reassembly (ip6.c). */
			if (wire_get16(pkt + off + 2) & 0xfff9) {
				out->frag_off = (uint16_t)off;
				out->nh_off = (uint16_t)nh_off;
				reason = SYNACK_DROP_IP6_FRAGMENT;
			}
		}
		if (reason != SYNACK_DROP_NONE)
			return reason;
		nh_off = off;
		nh = pkt[off];
		off += hlen;
	}
	out->proto = nh;
	out->nh_off = (uint16_t)nh_off;
	out->payload = pkt + off;
	out->payload_len_up = end - off;
	return SYNACK_DROP_NONE;
}

void wire_ip6_emit(uint8_t *buf, const struct addr *src, const struct addr *dst, uint8_t proto,
                   uint8_t hop_limit, uint32_t flow, size_t payload_len, uint8_t ecn)
{
	/* Version 6, Traffic Class (DSCP 0 and the ECN field), flow label. */
	wire_put32(buf, 6u << 28 | (uint32_t)(ecn & WIRE_ECN_MASK) << 20 | (flow & 0xfffff));
	wire_put16(buf + 4, (uint16_t)payload_len);
	buf[6] = proto;
	buf[7] = hop_limit;
	wire_addr6_to_bytes(src, buf + 8);
	wire_addr6_to_bytes(dst, buf + 24);
}

/* ------------------------------------------------------------------ */
/* ICMPv6 (RFC 4443).                                                  */

/*
 * The quote of an error (RFC 4443 3.1: "as much of invoking packet as
 * possible without the ICMPv6 packet exceeding the minimum IPv6 MTU"): the
 * IPv6 header, the extension headers walked to the transport header, and
 * at least 8 bytes of it unless the datagram itself had fewer.  Options
 * are not interpreted: the quote is of a datagram we sent.
 */
size_t wire_ip6_upper(const uint8_t *q, size_t n, uint8_t *proto)
{
	if (n < WIRE_IP6_HDR_LEN || (q[0] >> 4) != 6)
		return 0;
	uint8_t nh = q[6];
	size_t off = WIRE_IP6_HDR_LEN;
	for (unsigned i = 0; is_ext(nh); i++) {
		size_t hlen = ext_len(q, off, n, nh);
		if (i == WIRE_IP6_MAX_EXT || hlen == 0)
			return 0;
		/* A fragment other than the first begins with no upper-layer
		 * header. */
		if (nh == WIRE_IPPROTO_FRAGMENT && (wire_get16(q + off + 2) & 0xfff8))
			return 0;
		nh = q[off];
		off += hlen;
	}
	*proto = nh;
	return off;
}

/*
 * The quote of an error (RFC 4443 3.1: "as much of invoking packet as
 * possible without the ICMPv6 packet exceeding the minimum IPv6 MTU"): the
 * IPv6 header, the extension headers walked to the transport header, and
 * at least 8 bytes of it unless the datagram itself had fewer.  Options
 * are not interpreted: the quote is of a datagram we sent.
 */
static int parse_quote6(const uint8_t *q, size_t n, struct wire_icmp6_quote *out)
{
	uint8_t nh;
	size_t off = wire_ip6_upper(q, n, &nh);
	if (off == 0)
		return SYNACK_DROP_ICMP_BAD_QUOTE;
	out->src = wire_addr6_from_bytes(q + 8);
	out->dst = wire_addr6_from_bytes(q + 24);
	out->payload_len = wire_get16(q + 4);
	size_t had = WIRE_IP6_HDR_LEN + (size_t)out->payload_len;
	size_t want = had < off ? 0 : had - off < 8 ? had - off : 8;
	if (n - off < want)
		return SYNACK_DROP_ICMP_BAD_QUOTE;
	out->proto = nh;
	out->l4 = q + off;
	out->l4_len = n - off;
	return SYNACK_DROP_NONE;
}

int wire_icmp6_parse(const struct wire_net *net, struct wire_icmp6 *out)
{
	const uint8_t *m = net->payload;
	size_t n = net->payload_len;

	if (n < WIRE_ICMP_HDR_LEN)
		return SYNACK_DROP_ICMP_TRUNCATED;
	/* RFC 4443 2.3: the checksum covers the RFC 8200 8.1 pseudo-header
	 * (Next Header 58) and the whole message. */
	uint32_t sum = wire_csum_pseudo_net(&net->src, &net->dst, WIRE_IPPROTO_ICMPV6, (uint32_t)n);
	if (wire_csum_fold(wire_csum_add(sum, m, n)) != 0)
		return SYNACK_DROP_ICMP_BAD_CHECKSUM;

	memset(out, 0, sizeof(*out));
	out->type = m[0];
	out->code = m[1];
	out->rest = wire_get32(m + 4);
	out->id = wire_get16(m + 4);
	out->seq = wire_get16(m + 6);
	out->data = m + WIRE_ICMP_HDR_LEN;
	out->data_len = n - WIRE_ICMP_HDR_LEN;
	/* RFC 4443 2.1: error messages have types 0 to 127. */
	out->is_error = out->type < 128;
	if (out->is_error)
		return parse_quote6(out->data, out->data_len, &out->quote);
	return SYNACK_DROP_NONE;
}

size_t wire_icmp6_emit(uint8_t *buf, size_t cap, const struct addr *src, const struct addr *dst,
                       uint8_t type, uint8_t code, uint32_t rest, const uint8_t *data, size_t len)
{
	if (len > 0xffff - WIRE_ICMP_HDR_LEN || cap < WIRE_ICMP_HDR_LEN + len)
		return 0;
	if (len && data != buf + WIRE_ICMP_HDR_LEN)
		memmove(buf + WIRE_ICMP_HDR_LEN, data, len);
	buf[0] = type;
	buf[1] = code;
	wire_put16(buf + 2, 0);
	wire_put32(buf + 4, rest);
	uint32_t sum = wire_csum_pseudo_net(src, dst, WIRE_IPPROTO_ICMPV6,
	                                    (uint32_t)(WIRE_ICMP_HDR_LEN + len));
	wire_put16(buf + 2, wire_csum_fold(wire_csum_add(sum, buf, WIRE_ICMP_HDR_LEN + len)));
	return WIRE_ICMP_HDR_LEN + len;
}

/* ------------------------------------------------------------------ */
/* Text (RFC 4291 2.2, RFC 5952).                                      */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A dotted quad filling exactly s[0..len) into out[4]: four decimal parts
 * of one to three digits, each at most 255. */
static int parse_quad(const char *s, size_t len, uint8_t out[4])
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(s[i++] - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return -1;
		out[part] = (uint8_t)v;
		if (part < 3 && (i >= len || s[i++] != '.'))
			return -1;
	}
	return i == len ? 0 : -1;
}

int wire_addr6_parse(const char *s, size_t len, uint8_t out[16])
{
	uint16_t g[8];
	int ng = 0, gap = -1; /* groups read; where "::" stood, in groups */
	size_t i = 0;
	if (!s)
		return -1;
	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	}
	while (i < len) {
		size_t j = i;
		unsigned v = 0;
		while (j < len && j - i < 5 && hex_digit(s[j]) >= 0)
			v = v * 16 + (unsigned)hex_digit(s[j++]);
		if (j < len && s[j] == '.') {
			/* RFC 4291 2.2 form 3: the low 32 bits as a dotted quad,
			 * last. */
			uint8_t q[4];
			if (ng > 6 || parse_quad(s + i, len - i, q) != 0)
				return -1;
			g[ng++] = (uint16_t)(q[0] << 8 | q[1]);
			g[ng++] = (uint16_t)(q[2] << 8 | q[3]);
			i = len;
			break;
		}
		if (j == i || j - i > 4 || ng == 8)
			return -1;
		g[ng++] = (uint16_t)v;
		i = j;
		if (i == len)
			break;
		if (s[i++] != ':' || i == len)
			return -1;
		if (s[i] == ':') {
			/* "::" at most once (RFC 4291 2.2 form 2). */
			if (gap >= 0)
				return -1;
			gap = ng;
			i++;
		}
	}
	if (gap < 0 ? ng != 8 : ng > 7)
		return -1;
	memset(out, 0, 16);
	int tail = gap < 0 ? 0 : ng - gap;
	for (int k = 0; k < ng - tail; k++)
		wire_put16(out + 2 * k, g[k]);
	for (int k = 0; k < tail; k++)
		wire_put16(out + 16 - 2 * tail + 2 * k, g[ng - tail + k]);
	return 0;
}

char *wire_addr6_str(const uint8_t a[16], char *buf, size_t len)
{
	uint16_t g[8];
	int best = -1, best_len = 1; /* RFC 5952 4.2.2: "::" never for one group */
	for (int k = 0; k < 8; k++)
		g[k] = wire_get16(a + 2 * k);
	/* RFC 5952 5: an IPv4-mapped address ends in its dotted quad. */
	if (!(g[0] | g[1] | g[2] | g[3] | g[4]) && g[5] == 0xffff) {
		snprintf(buf, len, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
		return buf;
	}
	/* RFC 5952 4.2.1, 4.2.3: the longest run of zero groups, the first
	 * of two as long. */
	for (int k = 0; k < 8;) {
		int run = 0;
		while (k + run < 8 && g[k + run] == 0)
			run++;
		if (run > best_len) {
			best = k;
			best_len = run;
		}
		k += run ? run : 1;
	}
	size_t n = 0;
	buf[0] = '\0';
	for (int k = 0; k < 8 && n < len; k++) {
		if (k == best) {
			n += (size_t)snprintf(buf + n, len - n, k == 0 ? "::" : ":");
			k += best_len - 1;
			continue;
		}
		/* RFC 5952 4.1, 4.3: no leading zeros, lower case. */
		n += (size_t)snprintf(buf + n, len - n, "%x%s", g[k], k < 7 ? ":" : "");
	}
	return buf;
}
