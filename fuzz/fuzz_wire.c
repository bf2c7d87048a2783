/*
 * fuzz_wire: the wire parsers on any bytes.
 *
 * Every input goes through every entry of PARSERS.  Each parser must never
 * read outside its input (ASan), and what it accepts must be a consistent
 * view: lengths that add up, pointers inside the datagram, options within
 * their bounds, and a segment that emits and parses back to the same fields.
 * Random bytes rarely carry a right checksum, so each parser also runs on a
 * copy whose checksums were made right, which lets the fuzzer reach the
 * option walk and the flag and port checks behind them.
 *
 * A new parser is one more line in PARSERS.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wire/wire.h"
#include "wire/wire6.h"

#define MAX_DATAGRAM 65535

static uint8_t scratch[MAX_DATAGRAM + 64];
static uint8_t emitted[MAX_DATAGRAM + 64];

static void check_ip4_view(const uint8_t *pkt, size_t len, const struct wire_ip4 *ip)
{
	if (ip->hdr_len < WIRE_IP4_HDR_LEN || ip->hdr_len > 60 || ip->hdr_len % 4)
		fuzz_fail("ip4: header length %u", ip->hdr_len);
	if (ip->total_len < ip->hdr_len || ip->total_len > len)
		fuzz_fail("ip4: total length %u with header %u in %zu bytes", ip->total_len,
		          ip->hdr_len, len);
	if (ip->payload != pkt + ip->hdr_len ||
	    ip->payload_len != (size_t)ip->total_len - ip->hdr_len)
		fuzz_fail("ip4: payload view does not match the header");
}

static void check_tcp_view(const struct wire_ip4 *ip, const struct wire_tcp *t)
{
	if (t->hdr_len < WIRE_TCP_HDR_LEN || t->hdr_len > 60 || t->hdr_len % 4 ||
	    t->hdr_len > ip->payload_len)
		fuzz_fail("tcp: header length %u in %zu bytes", t->hdr_len, ip->payload_len);
	if (t->data != ip->payload + t->hdr_len || t->data_len != ip->payload_len - t->hdr_len)
		fuzz_fail("tcp: data view does not match the header");
	if (t->opts.has_wscale && t->opts.wscale > 14)
		fuzz_fail("tcp: window scale %u above 14", t->opts.wscale);
	if ((t->flags & SYNACK_TH_SYN) && (t->flags & (SYNACK_TH_FIN | SYNACK_TH_RST)))
		fuzz_fail("tcp: accepted flags 0x%02x", t->flags);
	if (t->sport == 0 || t->dport == 0)
		fuzz_fail("tcp: accepted port 0");
	if (addr_to_v4(&t->saddr) != ip->src || addr_to_v4(&t->daddr) != ip->dst)
		fuzz_fail("tcp: addresses differ from the IP header");
}

/* What we accept, we can say again: emit the parsed segment (known options
 * only, urgent pointer 0) in a fresh datagram and parse it back. */
static void check_round_trip(const struct wire_tcp *t)
{
	struct wire_tcp_out o;
	memset(&o, 0, sizeof(o));
	o.saddr = t->saddr;
	o.daddr = t->daddr;
	o.sport = t->sport;
	o.dport = t->dport;
	o.seq = t->seq;
	o.ack = t->ack;
	o.flags = t->flags;
	o.wnd = t->wnd;
	o.opts = t->opts;
	size_t n = wire_tcp_emit(emitted + WIRE_IP4_HDR_LEN, sizeof(emitted) - WIRE_IP4_HDR_LEN, &o,
	                         t->data, t->data_len);
	if (n == 0)
		fuzz_fail("tcp: an accepted segment (%u data bytes) cannot be emitted",
		          t->data_len);
	wire_ip4_emit(emitted, addr_to_v4(&t->saddr), addr_to_v4(&t->daddr), WIRE_IPPROTO_TCP, 64,
	              1, n);
	struct wire_ip4 ip2;
	struct wire_tcp t2;
	int r = wire_ip4_parse(emitted, n + WIRE_IP4_HDR_LEN, &ip2);
	if (r != SYNACK_DROP_NONE)
		fuzz_fail("round trip: our IPv4 header is refused (%s)", synack_drop_name(r));
	r = wire_tcp_parse(&ip2, &t2);
	if (r != SYNACK_DROP_NONE)
		fuzz_fail("round trip: our segment is refused (%s)", synack_drop_name(r));
	if (t2.sport != t->sport || t2.dport != t->dport || t2.seq != t->seq || t2.ack != t->ack ||
	    t2.flags != t->flags || t2.wnd != t->wnd || t2.data_len != t->data_len ||
	    memcmp(t2.data, t->data, t->data_len) != 0)
		fuzz_fail("round trip: the segment changed");
	const struct wire_tcp_opts *a = &t->opts, *b = &t2.opts;
	if (a->has_mss != b->has_mss || a->mss != b->mss || a->has_wscale != b->has_wscale ||
	    a->wscale != b->wscale || a->sack_permitted != b->sack_permitted ||
	    a->has_ts != b->has_ts || a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr)
		fuzz_fail("round trip: the options changed");
}

/* The receive path's parser (checksum left to the copy) agrees with the
 * whole one: the same verdict once the pending sum is verified, in place
 * and while copying split at an odd point. */
static void check_deferred(const struct wire_ip4 *ip, int want)
{
	static uint8_t copy[65536];
	struct wire_tcp d;
	int r = wire_tcp_parse_deferred(ip, &d);
	if (r == SYNACK_DROP_NONE && d.csum_pending) {
		int ok = wire_tcp_verify(&d);
		uint32_t first = d.data_len / 2 | 1;
		if (first > d.data_len)
			first = d.data_len;
		if (wire_tcp_verify_copy(&d, copy + d.data_len - first, first, copy) != ok)
			fuzz_fail("tcp: verifying while copying disagrees with verifying in place");
		if (memcmp(copy + d.data_len - first, d.data, first) ||
		    memcmp(copy, d.data + first, d.data_len - first))
			fuzz_fail("tcp: verifying while copying copied wrong");
		if (!ok)
			r = SYNACK_DROP_TCP_BAD_CHECKSUM;
	}
	if (r != want)
		fuzz_fail("tcp: the deferred parser says %s, the whole one %s", synack_drop_name(r),
		          synack_drop_name(want));
}

static void tcp_of(const struct wire_ip4 *ip)
{
	struct wire_tcp t;
	int r = wire_tcp_parse(ip, &t);
	check_deferred(ip, r);
	if (r == SYNACK_DROP_NONE) {
		check_tcp_view(ip, &t);
		check_round_trip(&t);
	}
}

/* IPv4 as it comes, then with its header checksum made right; the TCP
 * segment of an accepted TCP datagram goes on to the TCP parser. */
static void parse_ip4(const uint8_t *data, size_t len)
{
	struct wire_ip4 ip;
	int r = wire_ip4_parse(data, len, &ip);
	if (r == SYNACK_DROP_NONE) {
		check_ip4_view(data, len, &ip);
		if (ip.proto == WIRE_IPPROTO_TCP)
			tcp_of(&ip);
	}
	if (r == SYNACK_DROP_IP_FRAGMENT) {
		/* A fragment's view is filled for reassembly. */
		check_ip4_view(data, len, &ip);
		if (!(ip.frag & (WIRE_IP4_MF | WIRE_IP4_OFFSET_MASK)))
			fuzz_fail("ip4: a fragment without MF or an offset");
	}
	if (len < WIRE_IP4_HDR_LEN || len > MAX_DATAGRAM)
		return;
	size_t ihl = (size_t)(data[0] & 0x0f) * 4;
	if (ihl < WIRE_IP4_HDR_LEN || ihl > len)
		return;
	memcpy(scratch, data, len);
	wire_put16(scratch + 10, 0);
	wire_put16(scratch + 10, wire_csum_fold(wire_csum_add(0, scratch, ihl)));
	r = wire_ip4_parse(scratch, len, &ip);
	if (r == SYNACK_DROP_NONE || r == SYNACK_DROP_IP_FRAGMENT)
		check_ip4_view(scratch, len, &ip);
}

/* The input as a TCP segment behind a valid IPv4 header, with the TCP
 * checksum made right (the fuzzer's bytes 16..17 are overwritten), so the
 * data offset, the option walk, the flags and the ports are what decide. */
static void parse_tcp(const uint8_t *data, size_t len)
{
	if (len > MAX_DATAGRAM - WIRE_IP4_HDR_LEN)
		return;
	uint8_t *seg = scratch + WIRE_IP4_HDR_LEN;
	memcpy(seg, data, len);
	uint32_t src = 0x0a000002u, dst = 0x0a000001u;
	if (len >= WIRE_TCP_HDR_LEN) {
		wire_put16(seg + 16, 0);
		uint32_t sum = wire_csum_pseudo(src, dst, WIRE_IPPROTO_TCP, (uint32_t)len);
		wire_put16(seg + 16, wire_csum_fold(wire_csum_add(sum, seg, len)));
	}
	wire_ip4_emit(scratch, src, dst, WIRE_IPPROTO_TCP, 64, 0, len);
	struct wire_ip4 ip;
	if (wire_ip4_parse(scratch, len + WIRE_IP4_HDR_LEN, &ip) != SYNACK_DROP_NONE)
		fuzz_fail("tcp: our own IPv4 header is refused");
	tcp_of(&ip);
}

/* The input as an ICMP message behind a valid IPv4 header, with the ICMP
 * checksum made right (bytes 2..3 overwritten), so the type, the lengths
 * and the quote of an error are what decide.  What the parser accepts must
 * lie inside the message, and an accepted message must emit back the same. */
static void parse_icmp(const uint8_t *data, size_t len)
{
	if (len > MAX_DATAGRAM - WIRE_IP4_HDR_LEN)
		return;
	uint8_t *msg = scratch + WIRE_IP4_HDR_LEN;
	memcpy(msg, data, len);
	if (len >= WIRE_ICMP_HDR_LEN) {
		wire_put16(msg + 2, 0);
		wire_put16(msg + 2, wire_csum_fold(wire_csum_add(0, msg, len)));
	}
	wire_ip4_emit(scratch, 0x0a000002u, 0x0a000001u, WIRE_IPPROTO_ICMP, 64, 0, len);
	struct wire_ip4 ip;
	if (wire_ip4_parse(scratch, len + WIRE_IP4_HDR_LEN, &ip) != SYNACK_DROP_NONE)
		fuzz_fail("icmp: our own IPv4 header is refused");
	struct wire_icmp m;
	int r = wire_icmp_parse(&ip, &m);
	if (len >= WIRE_ICMP_HDR_LEN && r == SYNACK_DROP_ICMP_BAD_CHECKSUM)
		fuzz_fail("icmp: a message with a right checksum is refused as bad");
	if (r != SYNACK_DROP_NONE)
		return;
	if (m.data != msg + WIRE_ICMP_HDR_LEN || m.data_len != len - WIRE_ICMP_HDR_LEN)
		fuzz_fail("icmp: data outside the message");
	if (m.is_error) {
		const struct wire_icmp_quote *q = &m.quote;
		if (q->l4 < m.data || q->l4 + q->l4_len != m.data + m.data_len ||
		    q->hdr_len < WIRE_IP4_HDR_LEN)
			fuzz_fail("icmp: quote outside the message (hdr_len %u, l4_len %zu)",
			          (unsigned)q->hdr_len, q->l4_len);
	}
	size_t n =
	    wire_icmp_emit(emitted, sizeof(emitted), m.type, m.code, m.rest, m.data, m.data_len);
	if (n != len || memcmp(emitted, msg, len) != 0)
		fuzz_fail("icmp: an accepted message does not emit back the same bytes");
}

/* IPv6 (issue 14): the header and its extension-header walk as they come.
 * What is accepted lies inside the datagram and names an upper layer that
 * is no extension header; a Parameter Problem points inside the datagram;
 * an accepted TCP segment goes on to the TCP parser (its checksum made
 * right in a copy). */
static void parse_ip6(const uint8_t *data, size_t len)
{
	struct wire_ip6 ip;
	if (len > MAX_DATAGRAM)
		return;
	int r = wire_ip6_parse(data, len, &ip);
	if (ip.pp && (r == SYNACK_DROP_NONE || ip.pp > 3 || ip.pp_ptr >= len))
		fuzz_fail("ip6: parameter problem %u at %u in %zu bytes", ip.pp, ip.pp_ptr, len);
	if (r != SYNACK_DROP_NONE)
		return;
	if (ip.payload < data + WIRE_IP6_HDR_LEN ||
	    ip.payload + ip.payload_len_up != data + WIRE_IP6_HDR_LEN + ip.payload_len ||
	    ip.nh_off >= (size_t)(ip.payload - data))
		fuzz_fail("ip6: payload view does not match the header");
	if (ip.proto == WIRE_IPPROTO_HOPOPTS || ip.proto == WIRE_IPPROTO_DSTOPTS ||
	    ip.proto == WIRE_IPPROTO_ROUTING || ip.proto == WIRE_IPPROTO_FRAGMENT)
		fuzz_fail("ip6: the walk stopped at extension header %u", ip.proto);
	if (ip.proto != WIRE_IPPROTO_TCP || ip.payload_len_up < WIRE_TCP_HDR_LEN)
		return;
	size_t off = (size_t)(ip.payload - data), n = off + ip.payload_len_up;
	memcpy(scratch, data, n);
	uint8_t *seg = scratch + off;
	wire_put16(seg + 16, 0);
	uint32_t sum =
	    wire_csum_pseudo_net(&ip.src, &ip.dst, WIRE_IPPROTO_TCP, (uint32_t)ip.payload_len_up);
	wire_put16(seg + 16, wire_csum_fold(wire_csum_add(sum, seg, ip.payload_len_up)));
	struct wire_ip6 ip2;
	if (wire_ip6_parse(scratch, n, &ip2) != SYNACK_DROP_NONE)
		fuzz_fail("ip6: the same header is refused the second time");
	struct wire_net net = wire_ip6_net(&ip2);
	struct wire_tcp t;
	if (wire_tcp_parse_net(&net, &t) == SYNACK_DROP_NONE &&
	    (t.data + t.data_len != net.payload + net.payload_len || !addr_eq(&t.saddr, &ip2.src)))
		fuzz_fail("ip6: tcp view does not match the header");
}

/* The input as an ICMPv6 message behind a valid IPv6 header, its checksum
 * (with the pseudo-header) made right: the quote walk decides. */
static void parse_icmp6(const uint8_t *data, size_t len)
{
	if (len > MAX_DATAGRAM - WIRE_IP6_HDR_LEN)
		return;
	struct addr s = {{0x20010db8u, 0, 0, 2}}, d = {{0x20010db8u, 0, 0, 1}};
	uint8_t *msg = scratch + WIRE_IP6_HDR_LEN;
	memcpy(msg, data, len);
	if (len >= WIRE_ICMP_HDR_LEN) {
		wire_put16(msg + 2, 0);
		uint32_t sum = wire_csum_pseudo_net(&s, &d, WIRE_IPPROTO_ICMPV6, (uint32_t)len);
		wire_put16(msg + 2, wire_csum_fold(wire_csum_add(sum, msg, len)));
	}
	wire_ip6_emit(scratch, &s, &d, WIRE_IPPROTO_ICMPV6, 64, 0, len, 0);
	struct wire_ip6 ip;
	if (wire_ip6_parse(scratch, len + WIRE_IP6_HDR_LEN, &ip) != SYNACK_DROP_NONE)
		fuzz_fail("icmp6: our own IPv6 header is refused");
	struct wire_net net = wire_ip6_net(&ip);
	struct wire_icmp6 m;
	int r = wire_icmp6_parse(&net, &m);
	if (len >= WIRE_ICMP_HDR_LEN && r == SYNACK_DROP_ICMP_BAD_CHECKSUM)
		fuzz_fail("icmp6: a message with a right checksum is refused as bad");
	if (r != SYNACK_DROP_NONE)
		return;
	if (m.data != msg + WIRE_ICMP_HDR_LEN || m.data_len != len - WIRE_ICMP_HDR_LEN)
		fuzz_fail("icmp6: data outside the message");
	if (m.is_error &&
	    (m.quote.l4 < m.data + WIRE_IP6_HDR_LEN || m.quote.l4 + m.quote.l4_len != msg + len))
		fuzz_fail("icmp6: quote outside the message");
	size_t n = wire_icmp6_emit(emitted, sizeof(emitted), &s, &d, m.type, m.code, m.rest, m.data,
	                           m.data_len);
	if (n != len || memcmp(emitted, msg, len) != 0)
		fuzz_fail("icmp6: an accepted message does not emit back the same bytes");
}

/* The input as the text of an IPv6 address: what parses prints (RFC 5952)
 * as text that parses to the same address. */
static void parse_addr6(const uint8_t *data, size_t len)
{
	uint8_t a[16], b[16];
	char text[64];
	if (wire_addr6_parse((const char *)data, len, a) != 0)
		return;
	wire_addr6_str(a, text, sizeof(text));
	if (wire_addr6_parse(text, strlen(text), b) != 0 || memcmp(a, b, 16) != 0)
		fuzz_fail("addr6: %s does not parse back", text);
}

/* A plain RFC 1071 sum, 16 bits at a time, to hold the fast one against. */
static uint16_t csum_reference(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The checksum equals the reference, and summing in two pieces split at an
 * even offset (the first byte chooses it) gives the same value. */
static void parse_csum(const uint8_t *data, size_t len)
{
	uint16_t whole = wire_csum_fold(wire_csum_add(0, data, len));
	uint16_t ref = csum_reference(data, len);
	/* 0x0000 and 0xffff are the same number in one's complement. */
	if (whole != ref && !((whole == 0 || whole == 0xffff) && (ref == 0 || ref == 0xffff)))
		fuzz_fail("checksum 0x%04x, reference 0x%04x over %zu bytes", whole, ref, len);
	if (len == 0)
		return;
	size_t k = ((size_t)data[0] * 2) % (len + 1);
	k &= ~(size_t)1;
	uint16_t split =
	    wire_csum_fold(wire_csum_add(wire_csum_add(0, data, k), data + k, len - k));
	if (split != whole && !((whole == 0 || whole == 0xffff) && (split == 0 || split == 0xffff)))
		fuzz_fail("checksum split at %zu is 0x%04x, whole 0x%04x", k, split, whole);
}

static const struct {
	const char *name;
	void (*parse)(const uint8_t *data, size_t len);
} PARSERS[] = {
    {"ip4", parse_ip4}, {"tcp", parse_tcp},     {"icmp", parse_icmp},   {"csum", parse_csum},
    {"ip6", parse_ip6}, {"icmp6", parse_icmp6}, {"addr6", parse_addr6},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof(PARSERS) / sizeof(PARSERS[0]); i++)
		PARSERS[i].parse(data, size);
	return 0;
}
