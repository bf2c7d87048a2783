/*
 * The impairment model shared by the simulated network and the real links
 * (src/link/impair.c), and the middleware a link puts it in (link.c) seen
 * through a socketpair standing in for the device: seeded fates, counters,
 * delays held until due, the bottleneck, and the same seed giving the same
 * fates.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "link/impair.h"
#include "synack/link.h"

#define MS 1000ull

static void clean_path_passes_at_once_and_draws_nothing(void)
{
	struct impair im, ref;
	impair_init(&im, 42);
	impair_init(&ref, 42);
	CHECK(impair_is_clean(&im));
	uint8_t pkt[100] = {0};
	uint64_t at[2];
	for (int i = 0; i < 100; i++) {
		CHECK_EQ(impair_decide(&im, 7 * MS, pkt, sizeof(pkt), at), 1);
		CHECK_EQ_U64(at[0], 7 * MS);
	}
	/* The generator has not moved. */
	CHECK_EQ_U64(rng_next(&im.rng), rng_next(&ref.rng));
	impair_free(&im);
	impair_free(&ref);
}

static void certain_loss_and_duplication(void)
{
	struct impair im;
	impair_init(&im, 1);
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.loss = 1;
	impair_set_path(&im, &p);
	uint8_t pkt[60] = {0};
	uint64_t at[2];
	CHECK_EQ(impair_decide(&im, 0, pkt, sizeof(pkt), at), 0);
	CHECK_EQ_U64(im.c.lost, 1);
	p.loss = 0;
	p.dup = 1;
	p.delay_us = 5 * MS;
	impair_set_path(&im, &p);
	CHECK_EQ(impair_decide(&im, 10 * MS, pkt, sizeof(pkt), at), 2);
	CHECK_EQ_U64(at[0], 15 * MS);
	CHECK_EQ_U64(at[1], 15 * MS + 1);
	CHECK_EQ_U64(im.c.duplicated, 1);
	impair_free(&im);
}

static void seeded_fates_replay_and_match_their_rates(void)
{
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.loss = 0.1;
	p.dup = 0.05;
	p.reorder = 0.2;
	p.delay_us = 1 * MS;
	p.jitter_us = 500;
	struct impair a, b;
	impair_init(&a, 7);
	impair_init(&b, 7);
	impair_set_path(&a, &p);
	impair_set_path(&b, &p);
	uint8_t pkt[80] = {0};
	int lost = 0, dups = 0;
	for (int i = 0; i < 10000; i++) {
		uint64_t at_a[2], at_b[2];
		int na = impair_decide(&a, (uint64_t)i * MS, pkt, sizeof(pkt), at_a);
		int nb = impair_decide(&b, (uint64_t)i * MS, pkt, sizeof(pkt), at_b);
		CHECK_EQ(na, nb);
		for (int k = 0; k < na && k < nb; k++)
			CHECK_EQ_U64(at_a[k], at_b[k]);
		lost += na == 0;
		dups += na == 2;
		if (na) {
			/* delay + jitter, plus the reorder hold (2 * delay + 1 ms) */
			uint64_t d = at_a[0] - (uint64_t)i * MS;
			CHECK(d >= 1 * MS && (d <= 1500 || (d >= 4 * MS && d <= 4 * MS + 500)));
		}
	}
	CHECK_EQ_U64(a.c.lost, (uint64_t)lost);
	CHECK_EQ_U64(a.c.duplicated, (uint64_t)dups);
	CHECK(lost > 850 && lost < 1150);
	CHECK(dups > 350 && dups < 550);
	CHECK(a.c.reordered > 1600 && a.c.reordered < 2000);
	/* Another seed, other fates. */
	struct impair c;
	impair_init(&c, 8);
	impair_set_path(&c, &p);
	int differ = 0;
	impair_init(&a, 7);
	impair_set_path(&a, &p);
	for (int i = 0; i < 100; i++) {
		uint64_t at_a[2], at_c[2];
		int na = impair_decide(&a, 0, pkt, sizeof(pkt), at_a);
		int nc = impair_decide(&c, 0, pkt, sizeof(pkt), at_c);
		differ += na != nc || (na && at_a[0] != at_c[0]);
	}
	CHECK(differ > 0);
	impair_free(&a);
	impair_free(&b);
	impair_free(&c);
}

static void corruption_flips_one_bit(void)
{
	struct impair im;
	impair_init(&im, 3);
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.corrupt = 1;
	impair_set_path(&im, &p);
	uint8_t pkt[64] = {0};
	uint64_t at[2];
	CHECK_EQ(impair_decide(&im, 0, pkt, sizeof(pkt), at), 1);
	int bits = 0;
	for (size_t i = 0; i < sizeof(pkt); i++)
		bits += __builtin_popcount(pkt[i]);
	CHECK_EQ(bits, 1);
	CHECK_EQ_U64(im.c.corrupted, 1);
	impair_free(&im);
}

static void bottleneck_serialises_and_drops_tail(void)
{
	struct impair im;
	impair_init(&im, 1);
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.rate_bps = 8000; /* 100 bytes take 100 ms */
	p.queue_pkts = 1;
	impair_set_path(&im, &p);
	uint8_t pkt[100] = {0};
	uint64_t at[2];
	CHECK_EQ(impair_decide(&im, 0, pkt, sizeof(pkt), at), 1);
	CHECK_EQ_U64(at[0], 100 * MS);
	CHECK_EQ(impair_decide(&im, 0, pkt, sizeof(pkt), at), 1); /* waits */
	CHECK_EQ_U64(at[0], 200 * MS);
	CHECK_EQ(impair_decide(&im, 0, pkt, sizeof(pkt), at), 0); /* queue full */
	CHECK_EQ_U64(im.c.queue_drops, 1);
	CHECK_EQ_U64(im.c.lost, 1);
	CHECK_EQ(impair_path_ok(&p), 1);
	p.loss = 1.5;
	CHECK_EQ(impair_path_ok(&p), 0);
	impair_free(&im);
}

/* ------------------------------------------------------------------ */
/* The middleware in a link, over a socketpair.                        */

static struct synack_link *tun_pair(int *peer)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = 0x0a070002;
	struct synack_link *l = NULL;
	char err[160];
	CHECK_EQ(synack_link_open_fd(&l, SYNACK_LINK_TUN, sv[0], "pair", &lc, err, sizeof(err)), 0);
	*peer = sv[1];
	return l;
}

static size_t datagram(uint8_t *p, uint32_t src, uint32_t dst, uint8_t tag)
{
	memset(p, 0, 40);
	p[0] = 0x45;
	p[3] = 40;
	p[9] = 6;
	for (int i = 0; i < 4; i++) {
		p[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		p[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	p[39] = tag;
	return 40;
}

static void link_delays_both_directions_until_due(void)
{
	int peer;
	struct synack_link *l = tun_pair(&peer);
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.delay_us = 10 * MS;
	CHECK_EQ(synack_link_set_impairment(l, &p, &p, 1), 0);
	uint8_t d[64], buf[2048];
	size_t dl = datagram(d, 0x0a070002, 0x0a070001, 1);
	CHECK_EQ(synack_link_send(l, 0, d, dl), 0);
	CHECK_EQ(read(peer, buf, sizeof(buf)), -1); /* held */
	CHECK_EQ_U64(synack_link_next_deadline(l), 10 * MS);
	synack_link_advance(l, 10 * MS - 1);
	CHECK_EQ(read(peer, buf, sizeof(buf)), -1);
	synack_link_advance(l, 10 * MS);
	CHECK_EQ(read(peer, buf, sizeof(buf)), (ssize_t)dl);
	CHECK_EQ(buf[39], 1);

	/* Inbound: read from the device at 20 ms, handed over at 30 ms. */
	dl = datagram(d, 0x0a070001, 0x0a070002, 2);
	CHECK_EQ(write(peer, d, dl), (ssize_t)dl);
	CHECK_EQ(synack_link_recv(l, 20 * MS, buf, sizeof(buf)), 0);
	CHECK_EQ_U64(synack_link_next_deadline(l), 30 * MS);
	CHECK_EQ(synack_link_recv(l, 30 * MS - 1, buf, sizeof(buf)), 0);
	CHECK_EQ(synack_link_recv(l, 30 * MS, buf, sizeof(buf)), (ssize_t)dl);
	CHECK_EQ(buf[39], 2);
	struct synack_link_stats s;
	synack_link_stats(l, &s);
	CHECK_EQ_U64(s.datagrams_in, 1);
	CHECK_EQ_U64(s.datagrams_out, 1);
	CHECK_EQ_U64(s.frames_in, 1);
	CHECK_EQ_U64(s.frames_out, 1);
	synack_link_close(l);
	close(peer);
}

static void link_loss_is_counted_and_routing_refuses_off_prefix(void)
{
	int peer;
	struct synack_link *l = tun_pair(&peer);
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.loss = 1;
	CHECK_EQ(synack_link_set_impairment(l, &p, NULL, 1), 0);
	uint8_t d[64], buf[2048];
	size_t dl = datagram(d, 0x0a070002, 0x0a070001, 1);
	CHECK_EQ(synack_link_send(l, 0, d, dl), 0);
	dl = datagram(d, 0x0a070002, 0x0a080001, 1); /* not on 10.7.0.0/24 */
	CHECK_EQ(synack_link_send(l, 0, d, dl), 0);
	CHECK_EQ(read(peer, buf, sizeof(buf)), -1);
	/* The way in is clean. */
	dl = datagram(d, 0x0a070001, 0x0a070002, 3);
	CHECK_EQ(write(peer, d, dl), (ssize_t)dl);
	CHECK_EQ(synack_link_recv(l, 0, buf, sizeof(buf)), (ssize_t)dl);
	/* Neither IPv4 nor IPv6 on a TUN link (IPv6 passes, issue 14). */
	d[0] = 0x50;
	CHECK_EQ(write(peer, d, dl), (ssize_t)dl);
	CHECK_EQ(synack_link_recv(l, 0, buf, sizeof(buf)), 0);
	d[0] = 0x60;
	CHECK_EQ(write(peer, d, dl), (ssize_t)dl);
	CHECK_EQ(synack_link_recv(l, 0, buf, sizeof(buf)), (ssize_t)dl);
	struct synack_link_stats s;
	synack_link_stats(l, &s);
	CHECK_EQ_U64(s.drops[SYNACK_LINK_DROP_IMPAIR_LOST], 1);
	CHECK_EQ_U64(s.impair_out.lost, 1);
	CHECK_EQ_U64(s.drops[SYNACK_LINK_DROP_NO_ROUTE], 1);
	CHECK_EQ_U64(s.drops[SYNACK_LINK_DROP_NOT_IPV4], 1);
	CHECK_STR(synack_link_drop_name(SYNACK_LINK_DROP_NO_ROUTE), "no_route");
	CHECK_STR(synack_link_drop_name(-1), "?");
	p.loss = -0.1;
	CHECK_EQ(synack_link_set_impairment(l, &p, NULL, 1), -EINVAL);
	synack_link_close(l);
	close(peer);
}

int main(void)
{
	RUN(clean_path_passes_at_once_and_draws_nothing);
	RUN(certain_loss_and_duplication);
	RUN(seeded_fates_replay_and_match_their_rates);
	RUN(corruption_flips_one_bit);
	RUN(bottleneck_serialises_and_drops_tail);
	RUN(link_delays_both_directions_until_due);
	RUN(link_loss_is_counted_and_routing_refuses_off_prefix);
	return check_summary("test_impair");
}
