/*
 * ARP and Ethernet framing for TAP links (src/link/arp.c), with hand-made
 * frames on a virtual clock: answering requests for our address, learning
 * only what RFC 826 lets us learn, resolving a next hop while holding a few
 * datagrams, retries and giving up (and telling the stack), lifetimes and
 * confirmation, and the malformed frames that must be dropped and counted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "link/arp.h"

static const uint8_t OUR_MAC[6] = {0x02, 0x53, 0x59, 0x07, 0x00, 0x02};
static const uint8_t PEER_MAC[6] = {0x4a, 0x0a, 0x5e, 0xd4, 0x62, 0xcf};
static const uint8_t OTHER_MAC[6] = {0x4a, 0x0a, 0x5e, 0x00, 0x00, 0x09};
static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
#define OUR_IP 0x0a070002u
#define PEER_IP 0x0a070001u
#define MS 1000ull

struct fixture {
	struct arp a;
	struct synack_link_stats st;
};

static void setup(struct fixture *f, uint32_t retries, uint32_t queue_len, uint32_t cache_max)
{
	memset(f, 0, sizeof(*f));
	struct arp_config cfg = {.lifetime_ms = 60000,
	                         .retry_ms = 1000,
	                         .retries = retries,
	                         .queue_len = queue_len,
	                         .cache_max = cache_max};
	CHECK_EQ(arp_init(&f->a, &cfg, OUR_MAC, OUR_IP, &f->st), 0);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* An Ethernet + ARP frame as a neighbour would send it. */
static size_t arp_frame(uint8_t *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha,
                        uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	memset(f, 0, 60);
	memcpy(f, eth_dst, 6);
	memcpy(f + 6, sha, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	uint8_t *p = f + 14;
	p[1] = 1;
	p[2] = 0x08;
	p[4] = 6;
	p[5] = 4;
	p[7] = (uint8_t)op;
	memcpy(p + 8, sha, 6);
	put32(p + 14, spa);
	memcpy(p + 18, tha, 6);
	put32(p + 24, tpa);
	return 60; /* padded to Ethernet's minimum, as a NIC would */
}

/* A minimal IPv4 datagram to dst (only what the link looks at is real). */
static size_t datagram(uint8_t *p, uint32_t dst, uint8_t tag)
{
	memset(p, 0, 40);
	p[0] = 0x45;
	p[3] = 40;
	p[9] = 6;
	put32(p + 12, OUR_IP);
	put32(p + 16, dst);
	p[39] = tag;
	return 40;
}

/* Pops the next queued frame; returns its length (0 when none). */
static size_t next_out(struct fixture *f, uint8_t *buf)
{
	ssize_t n = arp_output(&f->a, buf, 2048);
	CHECK(n >= 0);
	return n > 0 ? (size_t)n : 0;
}

static uint16_t op_of(const uint8_t *frame)
{
	return (uint16_t)((frame[20] << 8) | frame[21]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void announce_is_a_gratuitous_request(void)
{
	struct fixture f;
	setup(&f, 3, 3, 16);
	arp_announce(&f.a);
	uint8_t out[2048];
	CHECK_EQ(next_out(&f, out), ARP_FRAME_LEN);
	CHECK(memcmp(out, BCAST, 6) == 0);
	CHECK(memcmp(out + 6, OUR_MAC, 6) == 0);
	CHECK_EQ(op_of(out), ARP_OP_REQUEST);
	CHECK_EQ_U64(get32(out + 14 + 14), OUR_IP); /* sender */
	CHECK_EQ_U64(get32(out + 14 + 24), OUR_IP); /* target */
	CHECK_EQ_U64(f.st.arp_gratuitous_out, 1);
	CHECK_EQ(next_out(&f, out), 0);
	arp_free(&f.a);
}

static void request_for_us_is_answered_and_learnt(void)
{
	struct fixture f;
	setup(&f, 3, 3, 16);
	uint8_t in[64], out[2048];
	size_t n = arp_frame(in, BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, BCAST, OUR_IP);
	const uint8_t *ip = NULL;
	size_t iplen = 0;
	CHECK_EQ(arp_frame_in(&f.a, 5 * MS, in, n, &ip, &iplen), 0);
	CHECK_EQ(next_out(&f, out), ARP_FRAME_LEN);
	CHECK(memcmp(out, PEER_MAC, 6) == 0); /* unicast reply */
	CHECK_EQ(op_of(out), ARP_OP_REPLY);
	CHECK(memcmp(out + 22, OUR_MAC, 6) == 0);
	CHECK_EQ_U64(get32(out + 28), OUR_IP);
	CHECK(memcmp(out + 32, PEER_MAC, 6) == 0);
	CHECK_EQ_U64(get32(out + 38), PEER_IP);
	CHECK_EQ_U64(f.st.arp_requests_in, 1);
	CHECK_EQ_U64(f.st.arp_replies_out, 1);
	/* The asker is learnt, so a datagram to it goes out at once. */
	uint8_t mac[6];
	CHECK_EQ(arp_lookup(&f.a, PEER_IP, mac), 1);
	CHECK(memcmp(mac, PEER_MAC, 6) == 0);
	uint8_t d[64], frame[128];
	size_t dl = datagram(d, PEER_IP, 7);
	CHECK_EQ(arp_send_ip(&f.a, 6 * MS, PEER_IP, d, dl, frame, sizeof(frame)), dl + 14);
	CHECK(memcmp(frame, PEER_MAC, 6) == 0);
	CHECK(memcmp(frame + 6, OUR_MAC, 6) == 0);
	CHECK_EQ(frame[12], 0x08);
	CHECK_EQ(frame[13], 0x00);
	CHECK(memcmp(frame + 14, d, dl) == 0);
	arp_free(&f.a);
}

static void request_for_another_host_is_ignored_and_not_learnt(void)
{
	struct fixture f;
	setup(&f, 3, 3, 16);
	uint8_t in[64], out[2048];
	size_t n = arp_frame(in, BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, BCAST, 0x0a070009);
	const uint8_t *ip;
	size_t iplen;
	CHECK_EQ(arp_frame_in(&f.a, 0, in, n, &ip, &iplen), 0);
	CHECK_EQ(next_out(&f, out), 0);
	uint8_t mac[6];
	CHECK_EQ(arp_lookup(&f.a, PEER_IP, mac), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ARP_IGNORED], 1);
	CHECK_EQ_U64(f.st.arp_entries, 0);
	arp_free(&f.a);
}

static void resolution_holds_datagrams_then_sends_them_in_order(void)
{
	struct fixture f;
	setup(&f, 3, 2, 16);
	uint8_t d[64], frame[128], out[2048];
	for (uint8_t tag = 1; tag <= 3; tag++) {
		size_t dl = datagram(d, PEER_IP, tag);
		CHECK_EQ(arp_send_ip(&f.a, tag * MS, PEER_IP, d, dl, frame, sizeof(frame)), 0);
	}
	/* One broadcast request; the third datagram pushed out the first. */
	CHECK_EQ(next_out(&f, out), ARP_FRAME_LEN);
	CHECK(memcmp(out, BCAST, 6) == 0);
	CHECK_EQ(op_of(out), ARP_OP_REQUEST);
	CHECK_EQ_U64(get32(out + 38), PEER_IP);
	CHECK_EQ(next_out(&f, out), 0);
	CHECK_EQ_U64(f.st.arp_requests_out, 1);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ARP_QUEUE_FULL], 1);
	CHECK_EQ_U64(arp_next_deadline(&f.a), 1 * MS + 1000 * MS);

	/* The reply releases the held datagrams, oldest first. */
	uint8_t in[64];
	size_t n = arp_frame(in, OUR_MAC, ARP_OP_REPLY, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP);
	const uint8_t *ip;
	size_t iplen;
	CHECK_EQ(arp_frame_in(&f.a, 10 * MS, in, n, &ip, &iplen), 0);
	CHECK_EQ_U64(f.st.arp_replies_in, 1);
	CHECK_EQ_U64(f.st.arp_resolved, 1);
	for (uint8_t tag = 2; tag <= 3; tag++) {
		CHECK_EQ(next_out(&f, out), 54);
		CHECK(memcmp(out, PEER_MAC, 6) == 0);
		CHECK_EQ(out[14 + 39], tag);
	}
	CHECK_EQ(next_out(&f, out), 0);
	/* Resolved: the next deadline is the end of its lifetime. */
	CHECK_EQ_U64(arp_next_deadline(&f.a), 10 * MS + 60000 * MS);
	arp_free(&f.a);
}

static void unanswered_resolution_retries_then_drops_counted(void)
{
	struct fixture f;
	setup(&f, 3, 3, 16);
	uint8_t d[64], frame[128], out[2048];
	size_t dl = datagram(d, PEER_IP, 1);
	CHECK_EQ(arp_send_ip(&f.a, 0, PEER_IP, d, dl, frame, sizeof(frame)), 0);
	CHECK_EQ(arp_send_ip(&f.a, 0, PEER_IP, d, dl, frame, sizeof(frame)), 0);
	CHECK_EQ(next_out(&f, out), ARP_FRAME_LEN);
	/* Nothing happens before the retry interval. */
	arp_advance(&f.a, 999 * MS);
	CHECK_EQ(next_out(&f, out), 0);
	arp_advance(&f.a, 1000 * MS);
	CHECK_EQ(next_out(&f, out), ARP_FRAME_LEN);
	arp_advance(&f.a, 2000 * MS);
	CHECK_EQ(next_out(&f, out), ARP_FRAME_LEN);
	CHECK_EQ_U64(f.st.arp_requests_out, 3);
	/* Three requests unanswered: give up, both held datagrams dropped. */
	arp_advance(&f.a, 3000 * MS);
	CHECK_EQ(next_out(&f, out), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ARP_UNRESOLVED], 2);
	CHECK_EQ_U64(f.st.arp_entries, 0);
	CHECK_EQ_U64(arp_next_deadline(&f.a), SYNACK_NEVER);
	/* The address is reported once, for the caller to tell the stack. */
	uint32_t addr = 0;
	CHECK_EQ(arp_failed_next(&f.a, &addr), 1);
	CHECK_EQ(addr, PEER_IP);
	CHECK_EQ(arp_failed_next(&f.a, &addr), 0);
	CHECK_EQ_U64(f.st.arp_failed, 1);
	/* The next datagram starts over with a new request. */
	CHECK_EQ(arp_send_ip(&f.a, 3001 * MS, PEER_IP, d, dl, frame, sizeof(frame)), 0);
	CHECK_EQ(next_out(&f, out), ARP_FRAME_LEN);
	arp_free(&f.a);
}

static void entry_in_use_is_confirmed_by_unicast_then_forgotten_without_answer(void)
{
	struct fixture f;
	setup(&f, 2, 3, 16);
	uint8_t in[64], out[2048], d[64], frame[128];
	size_t n = arp_frame(in, BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, BCAST, OUR_IP);
	const uint8_t *ip;
	size_t iplen;
	arp_frame_in(&f.a, 0, in, n, &ip, &iplen);
	CHECK_EQ(next_out(&f, out), ARP_FRAME_LEN); /* the reply */
	size_t dl = datagram(d, PEER_IP, 1);
	CHECK_EQ(arp_send_ip(&f.a, 30000 * MS, PEER_IP, d, dl, frame, sizeof(frame)), dl + 14);
	/* Lifetime over while in use: a unicast request, still used meanwhile. */
	arp_advance(&f.a, 60000 * MS);
	CHECK_EQ(next_out(&f, out), ARP_FRAME_LEN);
	CHECK(memcmp(out, PEER_MAC, 6) == 0);
	CHECK_EQ(op_of(out), ARP_OP_REQUEST);
	CHECK_EQ(arp_send_ip(&f.a, 60001 * MS, PEER_IP, d, dl, frame, sizeof(frame)), dl + 14);
	arp_advance(&f.a, 61000 * MS);
	CHECK_EQ(next_out(&f, out), ARP_FRAME_LEN);
	arp_advance(&f.a, 62000 * MS);
	uint8_t mac[6];
	CHECK_EQ(arp_lookup(&f.a, PEER_IP, mac), 0);
	CHECK_EQ_U64(f.st.arp_entries, 0);
	/* A failed confirmation held nothing and reports nothing (as in
	 * Linux): the next datagram's own resolution will. */
	uint32_t addr;
	CHECK_EQ(arp_failed_next(&f.a, &addr), 0);
	CHECK_EQ_U64(f.st.arp_failed, 0);
	arp_free(&f.a);
}

static void unused_entry_expires_silently(void)
{
	struct fixture f;
	setup(&f, 3, 3, 16);
	uint8_t in[64], out[2048];
	size_t n = arp_frame(in, BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, BCAST, OUR_IP);
	const uint8_t *ip;
	size_t iplen;
	arp_frame_in(&f.a, 0, in, n, &ip, &iplen);
	next_out(&f, out);
	arp_advance(&f.a, 60000 * MS);
	CHECK_EQ(next_out(&f, out), 0);
	CHECK_EQ_U64(f.st.arp_entries, 0);
	arp_free(&f.a);
}

static void ipv4_frames_for_us_pass_trimmed_others_dropped(void)
{
	struct fixture f;
	setup(&f, 3, 3, 16);
	uint8_t fr[64];
	memset(fr, 0, sizeof(fr));
	memcpy(fr, OUR_MAC, 6);
	memcpy(fr + 6, PEER_MAC, 6);
	fr[12] = 0x08;
	datagram(fr + 14, OUR_IP, 9);
	fr[14 + 3] = 30; /* total length 30 inside a 60-byte padded frame */
	const uint8_t *ip = NULL;
	size_t iplen = 0;
	CHECK_EQ(arp_frame_in(&f.a, 0, fr, 60, &ip, &iplen), 1);
	CHECK(ip == fr + 14);
	CHECK_EQ(iplen, 30);
	/* Another host's unicast, a multicast, IPv6, a runt. */
	memcpy(fr, OTHER_MAC, 6);
	CHECK_EQ(arp_frame_in(&f.a, 0, fr, 60, &ip, &iplen), 0);
	static const uint8_t MCAST[6] = {0x33, 0x33, 0, 0, 0, 0x16};
	memcpy(fr, MCAST, 6);
	CHECK_EQ(arp_frame_in(&f.a, 0, fr, 60, &ip, &iplen), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_NOT_FOR_US], 2);
	memcpy(fr, OUR_MAC, 6);
	fr[12] = 0x86;
	fr[13] = 0xdd;
	CHECK_EQ(arp_frame_in(&f.a, 0, fr, 60, &ip, &iplen), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ETHERTYPE], 1);
	CHECK_EQ(arp_frame_in(&f.a, 0, fr, 13, &ip, &iplen), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_FRAME_SHORT], 1);
	arp_free(&f.a);
}

static void malformed_and_hostile_arp_is_dropped_counted(void)
{
	struct fixture f;
	setup(&f, 3, 3, 16);
	uint8_t in[64], out[2048];
	const uint8_t *ip;
	size_t iplen;
	size_t n = arp_frame(in, BCAST, ARP_OP_REQUEST, PEER_MAC, PEER_IP, BCAST, OUR_IP);
	/* Truncated ARP payload. */
	CHECK_EQ(arp_frame_in(&f.a, 0, in, 14 + 27, &ip, &iplen), 0);
	/* Wrong hardware length, unknown op, broadcast sender MAC. */
	in[14 + 4] = 8;
	CHECK_EQ(arp_frame_in(&f.a, 0, in, n, &ip, &iplen), 0);
	in[14 + 4] = 6;
	in[14 + 7] = 9;
	CHECK_EQ(arp_frame_in(&f.a, 0, in, n, &ip, &iplen), 0);
	n = arp_frame(in, BCAST, ARP_OP_REQUEST, BCAST, PEER_IP, BCAST, OUR_IP);
	CHECK_EQ(arp_frame_in(&f.a, 0, in, n, &ip, &iplen), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ARP_BAD], 4);
	/* Someone else claiming our address: neither learnt nor answered. */
	n = arp_frame(in, BCAST, ARP_OP_REQUEST, OTHER_MAC, OUR_IP, BCAST, OUR_IP);
	CHECK_EQ(arp_frame_in(&f.a, 0, in, n, &ip, &iplen), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ARP_CONFLICT], 1);
	CHECK_EQ(next_out(&f, out), 0);
	CHECK_EQ_U64(f.st.arp_entries, 0);
	arp_free(&f.a);
}

static void full_cache_evicts_least_recently_used_resolved_entry(void)
{
	struct fixture f;
	setup(&f, 3, 3, 2);
	uint8_t in[64], out[2048], d[64], frame[128];
	const uint8_t *ip;
	size_t iplen;
	for (uint32_t h = 1; h <= 3; h++) {
		uint8_t mac[6] = {0x4a, 0, 0, 0, 0, (uint8_t)h};
		size_t n = arp_frame(in, BCAST, ARP_OP_REQUEST, mac, 0x0a070010 + h, BCAST, OUR_IP);
		arp_frame_in(&f.a, h * MS, in, n, &ip, &iplen);
		while (next_out(&f, out))
			;
		if (h == 1) {
			size_t dl = datagram(d, 0x0a070011, 1);
			CHECK_EQ(arp_send_ip(&f.a, 2 * MS, 0x0a070011, d, dl, frame, sizeof(frame)),
			         dl + 14);
		}
	}
	/* Two slots: host 2 (used least recently) made room for host 3. */
	uint8_t mac[6];
	CHECK_EQ(arp_lookup(&f.a, 0x0a070011, mac), 1);
	CHECK_EQ(arp_lookup(&f.a, 0x0a070012, mac), 0);
	CHECK_EQ(arp_lookup(&f.a, 0x0a070013, mac), 1);
	CHECK_EQ_U64(f.st.arp_entries, 2);
	/* With every slot resolving, a new destination is refused, counted. */
	struct fixture g;
	setup(&g, 3, 3, 1);
	size_t dl = datagram(d, 0x0a070021, 1);
	CHECK_EQ(arp_send_ip(&g.a, 0, 0x0a070021, d, dl, frame, sizeof(frame)), 0);
	CHECK_EQ(arp_send_ip(&g.a, 0, 0x0a070022, d, dl, frame, sizeof(frame)), 0);
	CHECK_EQ_U64(g.st.drops[SYNACK_LINK_DROP_ARP_CACHE_FULL], 1);
	arp_free(&g.a);
	arp_free(&f.a);
}

static void zero_queue_drops_while_resolving(void)
{
	struct fixture f;
	setup(&f, 3, 0, 16);
	uint8_t d[64], frame[128], out[2048];
	size_t dl = datagram(d, PEER_IP, 1);
	CHECK_EQ(arp_send_ip(&f.a, 0, PEER_IP, d, dl, frame, sizeof(frame)), 0);
	CHECK_EQ(next_out(&f, out), ARP_FRAME_LEN); /* still asks */
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ARP_QUEUE_FULL], 1);
	arp_free(&f.a);
}

/* The whole path the run loop takes (src/run/loop.c): a stack's SYN to an
 * absent neighbour is held, ARP gives up after retries * retry_ms (Linux:
 * 3 x 1 s), the address goes to synack_unreachable, and connect() fails
 * with EHOSTUNREACH instead of waiting 127 s for ETIMEDOUT. */
static void give_up_reaches_the_stack_and_fails_the_connect(void)
{
	struct fixture f;
	setup(&f, 3, 3, 16);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = OUR_IP;
	struct synack_stack *st = synack_stack_new(&cfg, NULL);
	CHECK(st != NULL);
	int s = synack_socket(st);
	struct synack_endpoint peer = {.addr = PEER_IP, .port = 80};
	CHECK_EQ(synack_connect(st, s, &peer), -EINPROGRESS);
	uint8_t d[128], frame[256], out[2048];
	ssize_t n;
	while ((n = synack_output(st, d, sizeof(d))) > 0)
		CHECK_EQ(arp_send_ip(&f.a, 0, PEER_IP, d, (size_t)n, frame, sizeof(frame)), 0);
	uint64_t now = 0;
	uint32_t addr;
	while (arp_failed_next(&f.a, &addr) == 0 && now <= 10000 * MS) {
		now += 100 * MS;
		arp_advance(&f.a, now);
		while (next_out(&f, out) > 0)
			;
	}
	CHECK_EQ_U64(now, 3000 * MS);
	CHECK_EQ(addr, PEER_IP);
	struct synack_endpoint dst = {.addr = addr};
	CHECK_EQ(synack_unreachable(st, now, &dst, -EHOSTUNREACH), 1);
	CHECK_EQ(synack_socket_error(st, s), -EHOSTUNREACH);
	struct synack_stats stats;
	synack_stats(st, &stats);
	CHECK_EQ_U64(stats.NeighResFailed, 1);
	CHECK_EQ_U64(stats.AttemptFails, 1);
	synack_stack_free(st);
	arp_free(&f.a);
}

int main(void)
{
	RUN(announce_is_a_gratuitous_request);
	RUN(request_for_us_is_answered_and_learnt);
	RUN(request_for_another_host_is_ignored_and_not_learnt);
	RUN(resolution_holds_datagrams_then_sends_them_in_order);
	RUN(unanswered_resolution_retries_then_drops_counted);
	RUN(entry_in_use_is_confirmed_by_unicast_then_forgotten_without_answer);
	RUN(unused_entry_expires_silently);
	RUN(ipv4_frames_for_us_pass_trimmed_others_dropped);
	RUN(malformed_and_hostile_arp_is_dropped_counted);
	RUN(full_cache_evicts_least_recently_used_resolved_entry);
	RUN(zero_queue_drops_while_resolving);
	RUN(give_up_reaches_the_stack_and_fails_the_connect);
	return check_summary("test_arp");
}
