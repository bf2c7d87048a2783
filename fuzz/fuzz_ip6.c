/*
 * fuzz_ip6: IPv6 and ICMPv6 through a stack's network layer (issue 14):
 * the header and extension-header walk, reassembly, ICMPv6 in and out,
 * and TCP behind them, on any sequence of datagrams.
 *
 * The input is a list of records, each a flags byte, a time step (units of
 * 100 ms, so a reassembly timeout is reachable), a 2-byte big-endian length
 * and the datagram.  The flags repair what random bytes rarely get right,
 * so the fuzzer reaches the paths behind them: bit 0 makes it IPv6 from
 * the peer to one of our addresses (bit 3 picks the link-local one), bit 1
 * makes the payload length agree with the bytes, bit 2 makes an ICMPv6 or
 * TCP checksum right (of a whole datagram; a fragment's is the put-together
 * datagram's business).  The stack has a listener on [::]:80 and a small
 * reassembly budget, so eviction happens too.
 *
 * What must hold: every datagram of version 6 counts Ip6InReceives once;
 * synack_input returns 0 or a named drop reason; what the stack sends
 * parses (IPv6 header, ICMPv6 or TCP checksum right); reassembly holds no
 * more than ipfrag_high_thresh; after ipfrag_time_ms more, nothing is held
 * and the stack frees without a leak (ASan).  The seed corpus (corpus/
 * fuzz_ip6) holds datagrams of real traces: the Linux kernel's (ping -6
 * with fragments, TCP, neighbour discovery, errors) and synack's own.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net/net.h"
#include "stack/stack.h"
#include "synack/synack.h"
#include "wire/wire.h"
#include "wire/wire6.h"

#define HIGH_THRESH (64u << 10)

static const uint8_t US6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t LL6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t PEER6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static uint8_t pkt[65536 + 64];
static uint8_t out[65536 + 64];

/* Makes the checksum of the upper layer of a whole datagram right. */
static void fix_checksum(uint8_t *p, size_t n)
{
	uint8_t proto;
	size_t off = wire_ip6_upper(p, n, &proto);
	if (!off || off >= n)
		return;
	size_t len = n - off;
	size_t at = proto == WIRE_IPPROTO_ICMPV6 ? 2 : proto == WIRE_IPPROTO_TCP ? 16 : 0;
	if (!at || len < at + 2)
		return;
	struct addr s = wire_addr6_from_bytes(p + 8), d = wire_addr6_from_bytes(p + 24);
	wire_put16(p + off + at, 0);
	uint32_t sum = wire_csum_pseudo_net(&s, &d, proto, (uint32_t)len);
	wire_put16(p + off + at, wire_csum_fold(wire_csum_add(sum, p + off, len)));
}

/* Everything the stack sent must be a datagram it could parse itself. */
static void check_output(struct synack_stack *st)
{
	ssize_t n;
	while ((n = synack_output(st, out, sizeof(out))) > 0) {
		if ((out[0] >> 4) != 6)
			continue; /* an IPv4 answer: fuzz_wire's and fuzz_stack's business */
		struct wire_ip6 ip;
		int r = wire_ip6_parse(out, (size_t)n, &ip);
		if (r != SYNACK_DROP_NONE)
			fuzz_fail("sent an IPv6 datagram of %zd bytes that parses as %s", n,
			          synack_drop_name(r));
		struct wire_net net = wire_ip6_net(&ip);
		if (ip.proto == WIRE_IPPROTO_ICMPV6) {
			struct wire_icmp6 ic;
			r = wire_icmp6_parse(&net, &ic);
			/* An error may quote what our parser would not act on
			 * (a later fragment, a broken chain): only its own
			 * header and checksum must be right. */
			if (r != SYNACK_DROP_NONE && r != SYNACK_DROP_ICMP_BAD_QUOTE)
				fuzz_fail("sent an ICMPv6 message that parses as %s",
				          synack_drop_name(r));
		} else if (ip.proto == WIRE_IPPROTO_TCP) {
			struct wire_tcp t;
			r = wire_tcp_parse_net(&net, &t);
			if (r != SYNACK_DROP_NONE)
				fuzz_fail("sent a TCP segment that parses as %s",
				          synack_drop_name(r));
		} else {
			fuzz_fail("sent IPv6 next header %u", ip.proto);
		}
		if ((size_t)n > 1500)
			fuzz_fail("sent %zd bytes, above the MTU", n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = 0x0a000001;
	memcpy(cfg.addr6, US6, 16);
	cfg.prefix_len6 = 64;
	cfg.ipfrag_high_thresh = HIGH_THRESH;
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)(i * 11 + 1);
	struct synack_stack *st = synack_stack_new(&cfg, NULL);
	if (!st)
		fuzz_fail("the stack was not made");
	struct synack_prefix ll = {.family = SYNACK_AF_INET6, .len = 64};
	memcpy(ll.addr6, LL6, 16);
	if (synack_addr_add(st, &ll) != 0)
		fuzz_fail("the link-local address was refused");
	int l = synack_socket(st);
	struct synack_endpoint any = {.family = SYNACK_AF_INET6, .port = 80};
	if (synack_bind(st, l, &any) != 0 || synack_listen(st, l, 16) != 0)
		fuzz_fail("the listener was not made");

	uint64_t now = 0, v6_in = 0;
	struct synack_stats s;
	for (size_t i = 0; i + 4 <= size;) {
		uint8_t flags = data[i], dt = data[i + 1];
		size_t n = (size_t)data[i + 2] << 8 | data[i + 3];
		i += 4;
		if (n > size - i)
			n = size - i;
		memcpy(pkt, data + i, n);
		i += n;
		if ((flags & 1) && n >= WIRE_IP6_HDR_LEN) {
			pkt[0] = (uint8_t)(0x60 | (pkt[0] & 0x0f));
			memcpy(pkt + 8, PEER6, 16);
			memcpy(pkt + 24, (flags & 8) ? LL6 : US6, 16);
		}
		if ((flags & 2) && n >= WIRE_IP6_HDR_LEN)
			wire_put16(pkt + 4, (uint16_t)(n - WIRE_IP6_HDR_LEN));
		if ((flags & 4) && n >= WIRE_IP6_HDR_LEN && (pkt[0] >> 4) == 6)
			fix_checksum(pkt, n);
		now += (uint64_t)dt * 100000u;
		synack_advance(st, now);
		check_output(st);
		int is6 = n > 0 && (pkt[0] >> 4) == 6;
		int r = synack_input(st, now, pkt, n);
		if (r < 0 || r >= SYNACK_DROP_COUNT)
			fuzz_fail("synack_input returned %d", r);
		v6_in += (uint64_t)is6;
		synack_stats(st, &s);
		if (s.Ip6InReceives != v6_in)
			fuzz_fail("%llu IPv6 datagrams in, Ip6InReceives %llu",
			          (unsigned long long)v6_in, (unsigned long long)s.Ip6InReceives);
		const struct reasm4 *ra = st->sock.tcp.net.reasm;
		if (ra && ra->bytes > HIGH_THRESH)
			fuzz_fail("reassembly holds %llu bytes, above %u",
			          (unsigned long long)ra->bytes, HIGH_THRESH);
		check_output(st);
	}
	/* Past every reassembly timeout nothing is held. */
	now += (uint64_t)cfg.ipfrag_time_ms * 1000u + 1;
	synack_advance(st, now);
	check_output(st);
	const struct reasm4 *ra = st->sock.tcp.net.reasm;
	if (ra && (ra->oldest || ra->bytes))
		fuzz_fail("reassembly holds %llu bytes after its timeout",
		          (unsigned long long)ra->bytes);
	synack_stack_free(st);
	return 0;
}
