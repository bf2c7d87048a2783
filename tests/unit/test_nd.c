/*
 * IPv6 over Ethernet and neighbour discovery for TAP links (src/link/nd.c,
 * RFC 4861), with hand-made frames on a virtual clock: the link-local and
 * solicited-node addresses, answering solicitations for our addresses
 * (duplicate address detection's too), resolving a next hop while holding
 * datagrams, the cache's states and timers (INCOMPLETE, REACHABLE, STALE,
 * DELAY, PROBE), advertisements nobody asked for or without the override
 * flag, the 7.1 validity checks (each failure dropped and counted), the
 * multicast MACs accepted, and a give-up reaching the stack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "link/nd.h"

static const uint8_t OUR_MAC[6] = {0x02, 0x53, 0x59, 0x07, 0x00, 0x02};
static const uint8_t PEER_MAC[6] = {0x4a, 0x0a, 0x5e, 0xd4, 0x62, 0xcf};
static const uint8_t OTHER_MAC[6] = {0x4a, 0x0a, 0x5e, 0x00, 0x00, 0x09};
/* 2001:db8::2 (ours) and 2001:db8::1 (the peer). */
static const uint8_t OUR_IP[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
static const uint8_t PEER_IP[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t UNSPEC[16] = {0};
static const uint8_t ALL_NODES[16] = {0xff, 0x02, [15] = 1};
#define MS 1000ull

struct fixture {
	struct nd n;
	struct synack_link_stats st;
};

static void setup_q(struct fixture *f, uint32_t queue_len, uint32_t cache_max)
{
	memset(f, 0, sizeof(*f));
	struct nd_config cfg = {.reachable_ms = 30000,
	                        .retrans_ms = 1000,
	                        .delay_first_probe_ms = 5000,
	                        .max_multicast_solicit = 3,
	                        .max_unicast_solicit = 3,
	                        .queue_len = queue_len,
	                        .cache_max = cache_max};
	CHECK_EQ(nd_init(&f->n, &cfg, OUR_MAC, &f->st), 0);
	CHECK_EQ(nd_add_addr(&f->n, OUR_IP), 0);
}

static void setup(struct fixture *f)
{
	setup_q(f, 3, 16);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint16_t csum6(const uint8_t *ip, size_t plen)
{
	uint32_t s = 0;
	for (size_t i = 8; i < 40; i += 2)
		s += get16(ip + i);
	s += (uint32_t)plen + 58;
	const uint8_t *m = ip + 40;
	for (size_t i = 0; i + 1 < plen; i += 2)
		s += get16(m + i);
	if (plen & 1)
		s += (uint32_t)m[plen - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The multicast MAC of an IPv6 group (RFC 2464 7). */
static void mcast_mac(const uint8_t a[16], uint8_t mac[6])
{
	mac[0] = mac[1] = 0x33;
	memcpy(mac + 2, a + 12, 4);
}

/*
 * A neighbour discovery frame as a neighbour would send it: type 135 or
 * 136, from src to dst, about target, with a link-layer address option
 * lla (kind 1 for a solicitation, 2 for an advertisement) unless NULL.
 * Returns its length; the checksum is right.
 */
static size_t nd_frame(uint8_t *f, const uint8_t eth_dst[6], const uint8_t eth_src[6], int type,
                       uint8_t flags, const uint8_t src[16], const uint8_t dst[16],
                       const uint8_t target[16], const uint8_t *lla)
{
	memset(f, 0, 200);
	memcpy(f, eth_dst, 6);
	memcpy(f + 6, eth_src, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	uint8_t *ip = f + 14;
	size_t plen = 24 + (lla ? 8 : 0);
	ip[0] = 0x60;
	ip[5] = (uint8_t)plen;
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	uint8_t *m = ip + 40;
	m[0] = (uint8_t)type;
	m[4] = flags;
	memcpy(m + 8, target, 16);
	if (lla) {
		m[24] = type == ND_NEIGH_SOLICIT ? 1 : 2;
		m[25] = 1;
		memcpy(m + 26, lla, 6);
	}
	uint16_t c = csum6(ip, plen);
	m[2] = (uint8_t)(c >> 8);
	m[3] = (uint8_t)c;
	return 14 + 40 + plen;
}

/* Recomputes the checksum after a test changed the message. */
static void resum(uint8_t *f)
{
	uint8_t *ip = f + 14;
	size_t plen = get16(ip + 4);
	ip[42] = ip[43] = 0;
	uint16_t c = csum6(ip, plen);
	ip[42] = (uint8_t)(c >> 8);
	ip[43] = (uint8_t)c;
}

static size_t next_out(struct fixture *f, uint8_t *buf)
{
	ssize_t n = nd_output(&f->n, buf, 2048);
	CHECK(n >= 0);
	return n > 0 ? (size_t)n : 0;
}

static int frame_in(struct fixture *f, uint64_t now, const uint8_t *frame, size_t len)
{
	const uint8_t *ip = NULL;
	size_t iplen = 0;
	return nd_frame_in(&f->n, now, frame, len, &ip, &iplen);
}

/* A minimal IPv6 datagram to dst from src (TCP, 8 bytes, tagged). */
static size_t datagram(uint8_t *p, const uint8_t src[16], const uint8_t dst[16], uint8_t tag)
{
	memset(p, 0, 48);
	p[0] = 0x60;
	p[5] = 8;
	p[6] = 6;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	p[47] = tag;
	return 48;
}

static void link_local_and_solicited_node_addresses(void)
{
	/* RFC 4291 appendix A: 02:53:59:07:00:02 -> fe80::53:59ff:fe07:2
	 * (the universal/local bit inverted, ff:fe in the middle). */
	static const uint8_t want[16] = {0xfe, 0x80, [8] = 0x00, 0x53, 0x59,
	                                 0xff, 0xfe, 0x07,       0x00, 0x02};
	uint8_t ll[16], sn[16];
	nd_link_local(OUR_MAC, ll);
	CHECK(memcmp(ll, want, 16) == 0);
	/* RFC 4291 2.7.1: ff02::1:ff00:2 for 2001:db8::2. */
	static const uint8_t sn_want[16] = {0xff, 0x02, [11] = 0x01, 0xff, 0x00, 0x00, 0x02};
	nd_solicited_node(OUR_IP, sn);
	CHECK(memcmp(sn, sn_want, 16) == 0);
	struct fixture f;
	setup(&f);
	CHECK(nd_is_ours(&f.n, ll));
	CHECK(nd_is_ours(&f.n, OUR_IP));
	CHECK(!nd_is_ours(&f.n, PEER_IP));
	CHECK_EQ(nd_add_addr(&f.n, ALL_NODES), -EINVAL);
	nd_free(&f.n);
}

static void solicitation_for_us_is_answered_and_learnt_stale(void)
{
	struct fixture f;
	setup(&f);
	uint8_t sn[16], mac[6], in[200], out[2048];
	nd_solicited_node(OUR_IP, sn);
	mcast_mac(sn, mac);
	size_t n = nd_frame(in, mac, PEER_MAC, ND_NEIGH_SOLICIT, 0, PEER_IP, sn, OUR_IP, PEER_MAC);
	CHECK_EQ(frame_in(&f, 5 * MS, in, n), 0);
	CHECK_EQ_U64(f.st.nd_solicits_in, 1);
	size_t m = next_out(&f, out);
	CHECK_EQ(m, 14 + 40 + 32);
	CHECK(memcmp(out, PEER_MAC, 6) == 0); /* unicast answer */
	CHECK(memcmp(out + 6, OUR_MAC, 6) == 0);
	const uint8_t *ip = out + 14;
	CHECK_EQ(ip[7], 255);
	CHECK(memcmp(ip + 8, OUR_IP, 16) == 0);
	CHECK(memcmp(ip + 24, PEER_IP, 16) == 0);
	CHECK_EQ(ip[40], ND_NEIGH_ADVERT);
	CHECK_EQ(ip[44], 0x60); /* solicited, override; not a router */
	CHECK(memcmp(ip + 48, OUR_IP, 16) == 0);
	CHECK_EQ(ip[64], 2); /* target link-layer address */
	CHECK(memcmp(ip + 66, OUR_MAC, 6) == 0);
	CHECK_EQ(csum6(ip, 32), 0);
	CHECK_EQ_U64(f.st.nd_adverts_out, 1);
	/* 7.2.3: the sender's MAC learnt, STALE until confirmed. */
	uint8_t got[6];
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, got), ND_STALE);
	CHECK(memcmp(got, PEER_MAC, 6) == 0);
	/* Its first use starts DELAY (7.3.3). */
	uint8_t hdr[14];
	CHECK_EQ(nd_eth_header(&f.n, 6 * MS, PEER_IP, hdr), 1);
	CHECK(memcmp(hdr, PEER_MAC, 6) == 0);
	CHECK_EQ(get16(hdr + 12), 0x86dd);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, got), ND_DELAY);
	CHECK_EQ(next_out(&f, out), 0);
	nd_free(&f.n);
}

static void solicitation_for_link_local_and_dad_are_answered(void)
{
	struct fixture f;
	setup(&f);
	uint8_t ll[16], sn[16], mac[6], in[200], out[2048];
	nd_link_local(OUR_MAC, ll);
	nd_solicited_node(ll, sn);
	mcast_mac(sn, mac);
	/* Duplicate address detection of our link-local by someone else:
	 * from ::, no source MAC option; answered to all nodes, unsolicited
	 * (7.2.4), and nothing learnt. */
	size_t n = nd_frame(in, mac, OTHER_MAC, ND_NEIGH_SOLICIT, 0, UNSPEC, sn, ll, NULL);
	CHECK_EQ(frame_in(&f, 0, in, n), 0);
	CHECK(next_out(&f, out) > 0);
	uint8_t all[6];
	mcast_mac(ALL_NODES, all);
	CHECK(memcmp(out, all, 6) == 0);
	CHECK(memcmp(out + 14 + 24, ALL_NODES, 16) == 0);
	CHECK(memcmp(out + 14 + 8, ll, 16) == 0);
	CHECK_EQ(out[14 + 44], 0x20); /* override only */
	CHECK_EQ_U64(f.st.nd_entries, 0);
	nd_free(&f.n);
}

static void solicitation_for_another_host_is_ignored_and_not_learnt(void)
{
	struct fixture f;
	setup(&f);
	uint8_t sn[16], mac[6], in[200], out[2048];
	static const uint8_t THIRD[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 3};
	nd_solicited_node(THIRD, sn);
	mcast_mac(sn, mac);
	size_t n = nd_frame(in, mac, PEER_MAC, ND_NEIGH_SOLICIT, 0, PEER_IP, sn, THIRD, PEER_MAC);
	/* Not our group's MAC: the frame is not for us at all. */
	CHECK_EQ(frame_in(&f, 0, in, n), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_NOT_FOR_US], 1);
	/* To all nodes: read, but about another host. */
	uint8_t all[6];
	mcast_mac(ALL_NODES, all);
	memcpy(in, all, 6);
	CHECK_EQ(frame_in(&f, 0, in, n), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ND_IGNORED], 1);
	CHECK_EQ(next_out(&f, out), 0);
	CHECK_EQ_U64(f.st.nd_entries, 0);
	nd_free(&f.n);
}

static void resolution_holds_datagrams_then_sends_them_in_order(void)
{
	struct fixture f;
	setup(&f);
	uint8_t d[64], out[2048], in[200], hdr[14];
	CHECK_EQ(nd_eth_header(&f.n, 0, PEER_IP, hdr), 0);
	for (uint8_t tag = 1; tag <= 4; tag++)
		nd_hold(&f.n, 0, PEER_IP, d, datagram(d, OUR_IP, PEER_IP, tag));
	/* One solicitation to the solicited-node group, from the datagram's
	 * own source (7.2.2), with our MAC. */
	size_t m = next_out(&f, out);
	CHECK_EQ(m, 14 + 40 + 32);
	uint8_t sn[16], mac[6];
	nd_solicited_node(PEER_IP, sn);
	mcast_mac(sn, mac);
	CHECK(memcmp(out, mac, 6) == 0);
	CHECK(memcmp(out + 14 + 24, sn, 16) == 0);
	CHECK(memcmp(out + 14 + 8, OUR_IP, 16) == 0);
	CHECK_EQ(out[14 + 7], 255);
	CHECK_EQ(out[14 + 40], ND_NEIGH_SOLICIT);
	CHECK_EQ(out[14 + 64], 1);
	CHECK(memcmp(out + 14 + 66, OUR_MAC, 6) == 0);
	CHECK_EQ(csum6(out + 14, 32), 0);
	CHECK_EQ(next_out(&f, out), 0);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), ND_INCOMPLETE);
	/* Four held, three kept: the oldest made room. */
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ND_QUEUE_FULL], 1);
	/* The solicited answer: REACHABLE, the held datagrams go, oldest
	 * first, behind the peer's MAC. */
	size_t n = nd_frame(in, OUR_MAC, PEER_MAC, ND_NEIGH_ADVERT, 0x60, PEER_IP, OUR_IP, PEER_IP,
	                    PEER_MAC);
	CHECK_EQ(frame_in(&f, 10 * MS, in, n), 0);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), ND_REACHABLE);
	CHECK_EQ_U64(f.st.nd_resolved, 1);
	for (uint8_t tag = 2; tag <= 4; tag++) {
		CHECK_EQ(next_out(&f, out), 14 + 48);
		CHECK(memcmp(out, PEER_MAC, 6) == 0);
		CHECK_EQ(get16(out + 12), 0x86dd);
		CHECK_EQ(out[14 + 47], tag);
	}
	CHECK_EQ(next_out(&f, out), 0);
	CHECK_EQ(nd_eth_header(&f.n, 11 * MS, PEER_IP, hdr), 1);
	nd_free(&f.n);
}

static void unanswered_resolution_gives_up_and_reaches_the_stack(void)
{
	struct fixture f;
	setup(&f);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = 0x0a070002;
	memcpy(cfg.addr6, OUR_IP, 16);
	struct synack_stack *st = synack_stack_new(&cfg, NULL);
	CHECK(st != NULL);
	int s = synack_socket(st);
	struct synack_endpoint peer = {.family = SYNACK_AF_INET6, .port = 80};
	memcpy(peer.addr6, PEER_IP, 16);
	CHECK_EQ(synack_connect(st, s, &peer), -EINPROGRESS);
	uint8_t d[256], out[2048], addr[16];
	ssize_t n;
	while ((n = synack_output(st, d, sizeof(d))) > 0)
		nd_hold(&f.n, 0, PEER_IP, d, (size_t)n);
	uint64_t now = 0;
	int sent = 0;
	while (nd_failed_next(&f.n, addr) == 0 && now <= 10000 * MS) {
		while (next_out(&f, out) > 0)
			sent++;
		now += 100 * MS;
		nd_advance(&f.n, now);
	}
	/* MAX_MULTICAST_SOLICIT solicitations, RetransTimer apart. */
	CHECK_EQ(sent, 3);
	CHECK_EQ_U64(now, 3000 * MS);
	CHECK(memcmp(addr, PEER_IP, 16) == 0);
	CHECK_EQ_U64(f.st.nd_failed, 1);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ND_UNRESOLVED], 1);
	CHECK_EQ_U64(f.st.nd_entries, 0);
	struct synack_endpoint dst = {.family = SYNACK_AF_INET6};
	memcpy(dst.addr6, addr, 16);
	CHECK_EQ(synack_unreachable(st, now, &dst, -EHOSTUNREACH), 1);
	CHECK_EQ(synack_socket_error(st, s), -EHOSTUNREACH);
	synack_stack_free(st);
	nd_free(&f.n);
}

/* REACHABLE -> STALE after ReachableTime; used -> DELAY; after
 * DELAY_FIRST_PROBE_TIME -> PROBE with unicast solicitations; unanswered
 * MAX_UNICAST_SOLICIT times -> deleted.  An answer in PROBE confirms. */
static void states_and_timers_follow_rfc4861_7_3(void)
{
	struct fixture f;
	setup(&f);
	uint8_t d[64], out[2048], in[200], mac[6], hdr[14];
	nd_hold(&f.n, 0, PEER_IP, d, datagram(d, OUR_IP, PEER_IP, 1));
	while (next_out(&f, out) > 0)
		;
	size_t n = nd_frame(in, OUR_MAC, PEER_MAC, ND_NEIGH_ADVERT, 0x60, PEER_IP, OUR_IP, PEER_IP,
	                    PEER_MAC);
	CHECK_EQ(frame_in(&f, 0, in, n), 0);
	while (next_out(&f, out) > 0)
		;
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), ND_REACHABLE);
	CHECK_EQ_U64(nd_next_deadline(&f.n), 30000 * MS);
	nd_advance(&f.n, 29999 * MS);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), ND_REACHABLE);
	nd_advance(&f.n, 30000 * MS);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), ND_STALE);
	CHECK_EQ_U64(nd_next_deadline(&f.n), SYNACK_NEVER);
	CHECK_EQ(next_out(&f, out), 0); /* STALE sends nothing by itself */
	CHECK_EQ(nd_eth_header(&f.n, 40000 * MS, PEER_IP, hdr), 1);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), ND_DELAY);
	nd_advance(&f.n, 45000 * MS);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), ND_PROBE);
	/* The probe: unicast to the address and MAC we hold. */
	CHECK(next_out(&f, out) > 0);
	CHECK(memcmp(out, PEER_MAC, 6) == 0);
	CHECK(memcmp(out + 14 + 24, PEER_IP, 16) == 0);
	/* Still usable while probing. */
	CHECK_EQ(nd_eth_header(&f.n, 45001 * MS, PEER_IP, hdr), 1);
	/* A solicited answer confirms it. */
	CHECK_EQ(frame_in(&f, 45500 * MS, in, n), 0);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), ND_REACHABLE);
	/* Again, unanswered this time: three probes, then forgotten. */
	nd_advance(&f.n, 75500 * MS);
	CHECK_EQ(nd_eth_header(&f.n, 75500 * MS, PEER_IP, hdr), 1);
	int probes = 0;
	for (uint64_t t = 75500 * MS; t <= 90000 * MS; t += 100 * MS) {
		nd_advance(&f.n, t);
		while (next_out(&f, out) > 0)
			probes++;
	}
	CHECK_EQ(probes, 3);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), 0);
	CHECK_EQ_U64(f.st.nd_failed, 0); /* a failed probe reports nothing */
	nd_free(&f.n);
}

/* 7.2.5: an advertisement creates no entry; without the override flag
 * it cannot change a MAC we hold (a REACHABLE entry goes STALE); with it,
 * it can. */
static void unsolicited_and_spoofed_advertisements(void)
{
	struct fixture f;
	setup(&f);
	uint8_t in[200], out[2048], mac[6], d[64];
	size_t n = nd_frame(in, OUR_MAC, OTHER_MAC, ND_NEIGH_ADVERT, 0x20, PEER_IP, OUR_IP, PEER_IP,
	                    OTHER_MAC);
	CHECK_EQ(frame_in(&f, 0, in, n), 0);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ND_IGNORED], 1);
	/* Resolve the peer properly. */
	nd_hold(&f.n, 0, PEER_IP, d, datagram(d, OUR_IP, PEER_IP, 1));
	size_t k = nd_frame(in, OUR_MAC, PEER_MAC, ND_NEIGH_ADVERT, 0x60, PEER_IP, OUR_IP, PEER_IP,
	                    PEER_MAC);
	CHECK_EQ(frame_in(&f, 0, in, k), 0);
	while (next_out(&f, out) > 0)
		;
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), ND_REACHABLE);
	/* A spoofer without override: refused, entry STALE, MAC kept. */
	n = nd_frame(in, OUR_MAC, OTHER_MAC, ND_NEIGH_ADVERT, 0x40, PEER_IP, OUR_IP, PEER_IP,
	             OTHER_MAC);
	CHECK_EQ(frame_in(&f, MS, in, n), 0);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), ND_STALE);
	CHECK(memcmp(mac, PEER_MAC, 6) == 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ND_IGNORED], 2);
	/* With override, unsolicited: the MAC changes, STALE. */
	n = nd_frame(in, OUR_MAC, OTHER_MAC, ND_NEIGH_ADVERT, 0x20, PEER_IP, OUR_IP, PEER_IP,
	             OTHER_MAC);
	CHECK_EQ(frame_in(&f, 2 * MS, in, n), 0);
	CHECK_EQ(nd_lookup(&f.n, PEER_IP, mac), ND_STALE);
	CHECK(memcmp(mac, OTHER_MAC, 6) == 0);
	/* Someone claiming our own address: a conflict, counted. */
	n = nd_frame(in, OUR_MAC, OTHER_MAC, ND_NEIGH_ADVERT, 0x20, PEER_IP, OUR_IP, OUR_IP,
	             OTHER_MAC);
	CHECK_EQ(frame_in(&f, 3 * MS, in, n), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ND_CONFLICT], 1);
	CHECK_EQ(next_out(&f, out), 0);
	nd_free(&f.n);
}

/* RFC 4861 7.1.1 and 7.1.2: each check failing drops the message as
 * nd_bad, answered by nothing and learnt from by nothing. */
static void invalid_messages_are_dropped_counted(void)
{
	struct fixture f;
	setup(&f);
	uint8_t sn[16], mac[6], in[200], out[2048];
	nd_solicited_node(OUR_IP, sn);
	mcast_mac(sn, mac);
	uint64_t bad = 0;
	for (int c = 0; c < 10; c++) {
		size_t n =
		    nd_frame(in, mac, PEER_MAC, ND_NEIGH_SOLICIT, 0, PEER_IP, sn, OUR_IP, PEER_MAC);
		uint8_t *ip = in + 14, *m = ip + 40;
		switch (c) {
		case 0:
			ip[7] = 254; /* hop limit: forwarded from elsewhere */
			break;
		case 1:
			m[2] ^= 1; /* checksum */
			break;
		case 2:
			m[1] = 1; /* code */
			resum(in);
			break;
		case 3:
			m[25] = 0; /* an option of length 0 */
			resum(in);
			break;
		case 4:
			m[25] = 2; /* an option running past the message */
			resum(in);
			break;
		case 5:
			memcpy(m + 8, ALL_NODES, 16); /* multicast target */
			resum(in);
			break;
		case 6:
			/* from :: with a source link-layer address */
			memset(ip + 8, 0, 16);
			resum(in);
			break;
		case 7:
			ip[5] = 16; /* shorter than the fixed part */
			n = 14 + 40 + 16;
			resum(in);
			break;
		case 8:
			ip[5] = 200; /* runs past the frame */
			break;
		default:
			/* an advertisement to a multicast group, solicited */
			n = nd_frame(in, mac, PEER_MAC, ND_NEIGH_ADVERT, 0x40, PEER_IP, sn, PEER_IP,
			             PEER_MAC);
			break;
		}
		CHECK_EQ(frame_in(&f, 0, in, n), 0);
		bad++;
		CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ND_BAD], bad);
	}
	CHECK_EQ(next_out(&f, out), 0);
	CHECK_EQ_U64(f.st.nd_entries, 0);
	CHECK_EQ_U64(f.st.nd_solicits_in, 0);
	/* Routers' messages are not taken (a static setup). */
	size_t n = nd_frame(in, mac, PEER_MAC, ND_ROUTER_ADVERT, 0, PEER_IP, sn, PEER_IP, NULL);
	CHECK_EQ(frame_in(&f, 0, in, n), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ND_IGNORED], 1);
	nd_free(&f.n);
}

static void ipv6_frames_for_us_pass_trimmed_others_dropped(void)
{
	struct fixture f;
	setup(&f);
	uint8_t in[200];
	memset(in, 0, sizeof(in));
	memcpy(in, OUR_MAC, 6);
	memcpy(in + 6, PEER_MAC, 6);
	in[12] = 0x86;
	in[13] = 0xdd;
	/* 40 + 8 bytes padded to 100. */
	datagram(in + 14, PEER_IP, OUR_IP, 7);
	const uint8_t *ip = NULL;
	size_t iplen = 0;
	CHECK_EQ(nd_frame_in(&f.n, 0, in, 100, &ip, &iplen), 1);
	CHECK(ip == in + 14);
	CHECK_EQ(iplen, 48);
	/* To all nodes: for us too (the stack decides about the datagram). */
	uint8_t all[6];
	mcast_mac(ALL_NODES, all);
	memcpy(in, all, 6);
	CHECK_EQ(nd_frame_in(&f.n, 0, in, 100, &ip, &iplen), 1);
	/* Another host's MAC, another group's. */
	memcpy(in, OTHER_MAC, 6);
	CHECK_EQ(nd_frame_in(&f.n, 0, in, 100, &ip, &iplen), 0);
	in[0] = 0x33;
	in[1] = 0x33;
	CHECK_EQ(nd_frame_in(&f.n, 0, in, 100, &ip, &iplen), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_NOT_FOR_US], 2);
	CHECK_EQ(nd_frame_in(&f.n, 0, in, 10, &ip, &iplen), 0);
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_FRAME_SHORT], 1);
	nd_free(&f.n);
}

static void full_cache_evicts_least_recently_used_and_never_resolving(void)
{
	struct fixture f;
	setup_q(&f, 3, 2);
	uint8_t d[64], out[2048], in[200], mac[6], hdr[14];
	static const uint8_t A[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x0a};
	static const uint8_t B[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x0b};
	static const uint8_t C[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0x0c};
	nd_hold(&f.n, 0, A, d, datagram(d, OUR_IP, A, 1));
	nd_hold(&f.n, 0, B, d, datagram(d, OUR_IP, B, 1));
	/* Both resolving: no room for a third. */
	nd_hold(&f.n, 0, C, d, datagram(d, OUR_IP, C, 1));
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ND_CACHE_FULL], 1);
	size_t n = nd_frame(in, OUR_MAC, PEER_MAC, ND_NEIGH_ADVERT, 0x60, A, OUR_IP, A, PEER_MAC);
	CHECK_EQ(frame_in(&f, MS, in, n), 0);
	n = nd_frame(in, OUR_MAC, OTHER_MAC, ND_NEIGH_ADVERT, 0x60, B, OUR_IP, B, OTHER_MAC);
	CHECK_EQ(frame_in(&f, MS, in, n), 0);
	while (next_out(&f, out) > 0)
		;
	CHECK_EQ(nd_eth_header(&f.n, 5 * MS, A, hdr), 1); /* A used last */
	nd_hold(&f.n, 6 * MS, C, d, datagram(d, OUR_IP, C, 1));
	CHECK_EQ(nd_lookup(&f.n, B, mac), 0);
	CHECK_EQ(nd_lookup(&f.n, A, mac), ND_REACHABLE);
	CHECK_EQ(nd_lookup(&f.n, C, mac), ND_INCOMPLETE);
	nd_free(&f.n);
}

static void zero_queue_drops_while_resolving(void)
{
	struct fixture f;
	setup_q(&f, 0, 16);
	uint8_t d[64], out[2048];
	nd_hold(&f.n, 0, PEER_IP, d, datagram(d, OUR_IP, PEER_IP, 1));
	CHECK_EQ_U64(f.st.drops[SYNACK_LINK_DROP_ND_QUEUE_FULL], 1);
	CHECK(next_out(&f, out) > 0); /* the solicitation still goes */
	nd_free(&f.n);
}

int main(void)
{
	RUN(link_local_and_solicited_node_addresses);
	RUN(solicitation_for_us_is_answered_and_learnt_stale);
	RUN(solicitation_for_link_local_and_dad_are_answered);
	RUN(solicitation_for_another_host_is_ignored_and_not_learnt);
	RUN(resolution_holds_datagrams_then_sends_them_in_order);
	RUN(unanswered_resolution_gives_up_and_reaches_the_stack);
	RUN(states_and_timers_follow_rfc4861_7_3);
	RUN(unsolicited_and_spoofed_advertisements);
	RUN(invalid_messages_are_dropped_counted);
	RUN(ipv6_frames_for_us_pass_trimmed_others_dropped);
	RUN(full_cache_evicts_least_recently_used_and_never_resolving);
	RUN(zero_queue_drops_while_resolving);
	return check_summary("test_nd");
}
