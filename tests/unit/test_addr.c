/* Unit tests for the family-neutral address (src/core/addr.h), the demux
 * key built on it (src/core/hash.h), the pseudo-header sums of both
 * families (src/wire) and the endpoint checks of the public API. */
#include "check.h"

#include "core/addr.h"
#include "core/hash.h"
#include "core/siphash.h"
#include "synack/synack.h"
#include "wire/wire.h"

#include <errno.h>

/* 2001:db8::1 and 2001:db8::2 (RFC 3849 documentation prefix). */
static const struct addr V6_A = {{0x20010db8u, 0, 0, 1}};
static const struct addr V6_B = {{0x20010db8u, 0, 0, 2}};

static void v4_addresses_are_v4_mapped(void)
{
	struct addr a = addr_v4(0x0a000001);
	CHECK(addr_is_v4(&a));
	CHECK_EQ(addr_to_v4(&a), 0x0a000001u);
	CHECK_EQ(a.w[2], 0x0000ffffu);
	CHECK(!addr_is_v4(&V6_A));
	uint8_t b[16];
	CHECK_EQ(addr_put(b, &a), 4u);
	CHECK(b[0] == 10 && b[1] == 0 && b[2] == 0 && b[3] == 1);
	CHECK_EQ(addr_put(b, &V6_A), 16u);
	CHECK(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 && b[15] == 1);
}

static void unspecified_address_of_each_family(void)
{
	struct addr v4 = addr_v4(0x0a000001), any4 = addr_any_like(&v4);
	struct addr any6 = addr_any_like(&V6_A);
	CHECK(addr_is_any(&any4) && addr_is_v4(&any4));
	CHECK(addr_is_any(&any6) && !addr_is_v4(&any6));
	CHECK(!addr_eq(&any4, &any6));
	CHECK(!addr_is_any(&v4));
	CHECK(!addr_is_any(&V6_A));
}

static void tuple_bytes_keep_the_ipv4_layout(void)
{
	/* ISNs, cookies and ports hash these bytes: for IPv4 they are the
	 * 12 bytes synack always hashed (local address, local port, remote
	 * address, remote port), so no ISN changed when addresses widened. */
	struct tuple t = {addr_v4(0x0a000001), addr_v4(0xc0a80102), 80, 5000};
	uint8_t b[TUPLE_BYTES_MAX];
	static const uint8_t want[12] = {10, 0, 0, 1, 0, 80, 192, 168, 1, 2, 0x13, 0x88};
	CHECK_EQ(tuple_put(b, &t), 12u);
	CHECK(memcmp(b, want, 12) == 0);
	struct tuple t6 = {V6_A, V6_B, 80, 5000};
	CHECK_EQ(tuple_put(b, &t6), 36u);
	CHECK(b[16] == 0 && b[17] == 80 && b[33] == 2 && b[34] == 0x13 && b[35] == 0x88);
}

static void ipv6_tuples_hash_every_byte(void)
{
	static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct htable t;
	CHECK_EQ(htable_init(&t, key, 16), 0);
	struct tuple base = {V6_A, V6_B, 443, 40000};
	uint64_t h0 = htable_hash(&t, &base);
	for (int w = 0; w < 8; w++) {
		for (int bit = 0; bit < 32; bit += 8) {
			struct tuple k = base;
			struct addr *a = w < 4 ? &k.laddr : &k.raddr;
			a->w[w % 4] ^= 1u << bit;
			CHECK(htable_hash(&t, &k) != h0);
		}
	}
	/* An IPv4 tuple and an IPv6 one are different keys in one table. */
	struct hnode n4 = {0}, n6 = {0};
	n4.key = (struct tuple){addr_v4(1), addr_v4(2), 443, 40000};
	n6.key = base;
	CHECK_EQ(htable_insert(&t, &n4), 0);
	CHECK_EQ(htable_insert(&t, &n6), 0);
	CHECK(htable_find(&t, &n4.key) == &n4);
	CHECK(htable_find(&t, &n6.key) == &n6);
	struct tuple other = base;
	other.raddr.w[0] ^= 0x80000000u;
	CHECK(htable_find(&t, &other) == NULL);
	htable_fini(&t);
}

static void pseudo_header_sums_of_both_families(void)
{
	/* IPv4: the new function gives RFC 9293 3.1's sum. */
	struct addr s4 = addr_v4(0x0a000001), d4 = addr_v4(0xc0a80102);
	CHECK_EQ(wire_csum_pseudo_net(&s4, &d4, 6, 40),
	         wire_csum_pseudo(0x0a000001, 0xc0a80102, 6, 40));
	/* IPv6 (RFC 8200 8.1): both addresses as 16-bit words, the 32-bit
	 * length, the next header.  Summed by hand here. */
	uint32_t want = 0x2001 + 0x0db8 + 1 + 0x2001 + 0x0db8 + 2 + 0x0001 + 0x0002 + 6;
	CHECK_EQ(wire_csum_pseudo_net(&V6_A, &V6_B, 6, 0x10002), want);
}

static void ipv6_tcp_segment_round_trips(void)
{
	/* A segment emitted between IPv6 addresses parses back with its
	 * checksum verified against the IPv6 pseudo-header, and fails
	 * against another address. */
	struct wire_tcp_out o;
	memset(&o, 0, sizeof(o));
	o.saddr = V6_A;
	o.daddr = V6_B;
	o.sport = 443;
	o.dport = 40000;
	o.seq = 1000;
	o.ack = 2000;
	o.flags = SYNACK_TH_ACK | SYNACK_TH_PSH;
	o.wnd = 65535;
	uint8_t buf[128];
	size_t n = wire_tcp_emit(buf, sizeof(buf), &o, (const uint8_t *)"hello", 5);
	CHECK_EQ(n, 25u);
	struct wire_net net = {V6_A, V6_B, buf, n, WIRE_ECN_NOT_ECT};
	struct wire_tcp t;
	CHECK_EQ(wire_tcp_parse_net(&net, &t), SYNACK_DROP_NONE);
	CHECK(addr_eq(&t.saddr, &V6_A) && addr_eq(&t.daddr, &V6_B));
	CHECK_EQ(t.data_len, 5u);
	net.dst.w[3] = 3;
	CHECK_EQ(wire_tcp_parse_net(&net, &t), SYNACK_DROP_TCP_BAD_CHECKSUM);
	/* The same bytes between the IPv4-mapped forms do not verify either:
	 * the two families' pseudo-headers differ. */
	struct wire_net mapped = {addr_v4(0x20010db8), addr_v4(0x20010db8), buf, n,
	                          WIRE_ECN_NOT_ECT};
	CHECK_EQ(wire_tcp_parse_net(&mapped, &t), SYNACK_DROP_TCP_BAD_CHECKSUM);
}

static void api_refuses_endpoints_it_cannot_serve(void)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = 0x0a000001;
	int err;
	struct synack_stack *st = synack_stack_new(&cfg, &err);
	CHECK(st != NULL);
	int s = synack_socket(st);
	CHECK(s >= 0);
	struct synack_endpoint v6 = {.port = 80, .family = SYNACK_AF_INET6, .addr6 = {0x20, 0x01}};
	struct synack_endpoint bad = {.addr = 0x0a000002, .port = 80, .family = 7};
	/* IPv6 (issue 14): a stack without an IPv6 address has none to bind
	 * and no route to an IPv6 peer. */
	CHECK_EQ(synack_bind(st, s, &v6), -EADDRNOTAVAIL);
	CHECK_EQ(synack_connect(st, s, &v6), -ENETUNREACH);
	CHECK_EQ(synack_bind(st, s, &bad), -EINVAL);
	CHECK_EQ(synack_connect(st, s, &bad), -EINVAL);
	/* An endpoint written the old way (address and port only) is IPv4. */
	struct synack_endpoint old = {.addr = 0x0a000002, .port = 80};
	CHECK_EQ(old.family, SYNACK_AF_INET);
	CHECK_EQ(synack_connect(st, s, &old), -EINPROGRESS);
	struct synack_endpoint peer;
	CHECK_EQ(synack_getpeername(st, s, &peer), 0);
	CHECK(peer.family == SYNACK_AF_INET && peer.addr == 0x0a000002 && peer.port == 80);
	synack_stack_free(st);
}

/* An endpoint parsed into memory full of garbage is whole: IPv4, its
 * unused IPv6 bytes zero, so connect takes it; the IPv6 form prints. */
static void endpoint_parse_fills_every_field(void)
{
	struct synack_endpoint ep;
	memset(&ep, 0xa5, sizeof(ep));
	CHECK_EQ(synack_endpoint_parse("10.0.0.2:80", &ep), 0);
	CHECK_EQ(ep.family, SYNACK_AF_INET);
	CHECK(ep.addr == 0x0a000002 && ep.port == 80);
	for (size_t i = 0; i < sizeof(ep.addr6); i++)
		CHECK_EQ(ep.addr6[i], 0);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = 0x0a000001;
	struct synack_stack *st = synack_stack_new(&cfg, NULL);
	CHECK(st != NULL);
	int s = synack_socket(st);
	CHECK_EQ(synack_connect(st, s, &ep), -EINPROGRESS);
	synack_stack_free(st);
	char buf[64];
	CHECK(strcmp(synack_endpoint_str(&ep, buf, sizeof buf), "10.0.0.2:80") == 0);
	struct synack_endpoint v6 = {
	    .port = 443, .family = SYNACK_AF_INET6, .addr6 = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	CHECK(strcmp(synack_endpoint_str(&v6, buf, sizeof buf), "[2001:db8::1]:443") == 0);
	v6.family = 9;
	CHECK(strcmp(synack_endpoint_str(&v6, buf, sizeof buf), "?") == 0);
}

int main(void)
{
	RUN(v4_addresses_are_v4_mapped);
	RUN(unspecified_address_of_each_family);
	RUN(tuple_bytes_keep_the_ipv4_layout);
	RUN(ipv6_tuples_hash_every_byte);
	RUN(pseudo_header_sums_of_both_families);
	RUN(ipv6_tcp_segment_round_trips);
	RUN(api_refuses_endpoints_it_cannot_serve);
	RUN(endpoint_parse_fills_every_field);
	return check_summary("test_addr");
}
