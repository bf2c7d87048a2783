/*
 * The simulator lends each delivered datagram's buffer to the receiving
 * stack (src/link/sim.c deliver, synack_output_block, synack_input_block):
 * in-order text that fills at least half of the sender's datagram block
 * stays in it until the application reads it (TCPRcvQueueRef counts each
 * block kept), the block becomes the receiver's, and the sender's pool is
 * made whole with a block the receiver read out (synack_block_spare,
 * synack_output_give).  The data must arrive byte for byte whatever the
 * path does (loss, duplication, reordering, corruption), over IPv4 and
 * IPv6, and ASan checks that no block leaks or is used after its free,
 * including when one stack is freed while the other holds its buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "synack/sim.h"
#include "synack/synack.h"

#define ADDR_A 0x0a000001u /* 10.0.0.1 */
#define ADDR_B 0x0a000002u /* 10.0.0.2 */
#define PORT 80

static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

struct net {
	struct synack_sim *sim;
	struct synack_stack *a, *b; /* a sends, b receives */
	int ha, hb;
	int cs, as;
	size_t sent, got, wrong;
};

static struct synack_stack *stack_at(uint32_t addr, const uint8_t *addr6)
{
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = addr;
	if (addr6)
		memcpy(cfg.addr6, addr6, 16);
	for (int i = 0; i < 16; i++)
		cfg.secret[i] = (uint8_t)(3 * i + 5);
	/* Far beyond what the impairments below exhaust. */
	cfg.retries2 = 60;
	int err = 0;
	struct synack_stack *st = synack_stack_new(&cfg, &err);
	CHECK(st != NULL);
	CHECK_EQ(err, 0);
	return st;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i % 251 * 7 + 3);
}

/* Two stacks over a fresh simulator, connected a -> b (over IPv6 when v6). */
static int net_open(struct net *n, uint64_t seed, int v6, int trust,
                    const struct synack_sim_path *ab, const struct synack_sim_path *ba)
{
	memset(n, 0, sizeof(*n));
	n->sim = synack_sim_new(seed);
	n->a = stack_at(ADDR_A, v6 ? A6 : NULL);
	n->b = stack_at(ADDR_B, v6 ? B6 : NULL);
	if (!n->sim || !n->a || !n->b)
		return -1;
	n->ha = synack_sim_add_host(n->sim, n->a, "a");
	n->hb = synack_sim_add_host(n->sim, n->b, "b");
	CHECK_EQ(synack_sim_set_csum_trust(n->sim, trust), 0);
	if (ab)
		CHECK_EQ(synack_sim_set_path(n->sim, n->ha, n->hb, ab), 0);
	if (ba)
		CHECK_EQ(synack_sim_set_path(n->sim, n->hb, n->ha, ba), 0);
	struct synack_endpoint srv = {
	    .family = v6 ? SYNACK_AF_INET6 : SYNACK_AF_INET, .addr = ADDR_B, .port = PORT};
	if (v6)
		memcpy(srv.addr6, B6, 16);
	int ls = synack_socket(n->b);
	CHECK_EQ(synack_bind(n->b, ls, &srv), 0);
	CHECK_EQ(synack_listen(n->b, ls, 8), 0);
	n->cs = synack_socket(n->a);
	CHECK_EQ(synack_connect(n->a, n->cs, &srv), -EINPROGRESS);
	n->as = -1;
	for (int i = 0; i < 2000 && n->as < 0; i++) {
		synack_sim_run_until(n->sim, synack_sim_now(n->sim) + 10000);
		n->as = synack_accept(n->b, ls, NULL);
	}
	CHECK(n->as >= 0);
	CHECK_EQ(synack_close(n->b, ls), 0);
	return n->as >= 0 ? 0 : -1;
}

/* What b reads, checked against the pattern. */
static void drain(struct net *n)
{
	static uint8_t in[1 << 16];
	ssize_t k;
	while ((k = synack_recv(n->b, n->as, in, sizeof in, 0)) > 0) {
		for (ssize_t i = 0; i < k; i++)
			n->wrong += in[i] != pattern(n->got + (size_t)i);
		n->got += (size_t)k;
	}
}

/* Sends len bytes a -> b in writes of up to chunk bytes and reads them
 * (unless read is 0); returns 1 when b read them all, as sent. */
static int transfer(struct net *n, size_t len, size_t chunk, int read)
{
	static uint8_t out[(1 << 16) + 256];
	for (size_t i = 0; i < sizeof out; i++)
		out[i] = pattern(i);
	size_t goal = n->sent + len;
	for (int round = 0; round < 200000 && (read ? n->got < goal : 1); round++) {
		if (n->sent < goal) {
			size_t want = goal - n->sent < chunk ? goal - n->sent : chunk;
			ssize_t k = synack_send(n->a, n->cs, out + n->sent % 251, want);
			if (k > 0)
				n->sent += (size_t)k;
		} else if (!read && synack_sim_next_event(n->sim) == SYNACK_NEVER) {
			break;
		}
		synack_sim_run_until(n->sim, synack_sim_now(n->sim) + 1000);
		if (read)
			drain(n);
	}
	return n->sent == goal && (!read || (n->got == goal && n->wrong == 0));
}

static uint64_t stat_of(struct synack_stack *st, const char *name)
{
	struct synack_stats s;
	synack_stats(st, &s);
	for (size_t i = 0; i < synack_counter_count(); i++)
		if (strcmp(synack_counter_name(i), name) == 0)
			return synack_counter_value(&s, i);
	CHECK(!"no such counter");
	return 0;
}

static void net_close(struct net *n)
{
	synack_sim_free(n->sim);
	if (n->a)
		synack_stack_free(n->a);
	if (n->b)
		synack_stack_free(n->b);
}

/* A clean path: full segments stay in the sender's blocks, one kept per
 * segment; the other way only ACKs travel, and a bare ACK is never kept.
 * With checksums to verify (trust 0) too: a segment that can be kept is
 * summed where it lies rather than copied into the ring as it is summed
 * (tcp_rcv_precopy), which would leave nothing to keep. */
static void in_order_text_stays_in_the_senders_buffer(void)
{
	for (int k = 0; k < 4; k++) {
		int v6 = k & 1, trust = k >> 1;
		struct net n;
		if (net_open(&n, 1, v6, trust, NULL, NULL) == 0) {
			const size_t len = 4u << 20;
			CHECK(transfer(&n, len, 1 << 16, 1));
			uint64_t segs = stat_of(n.b, "InSegs"),
			         refs = stat_of(n.b, "TCPRcvQueueRef");
			/* Every full segment was kept: more than len / MSS. */
			CHECK(refs >= len / 1460);
			CHECK(refs <= segs);
			CHECK_EQ_U64(stat_of(n.a, "TCPRcvQueueRef"), 0);
			/* All read: b holds no text, and nothing is left over. */
			struct synack_tcp_info ti;
			CHECK_EQ(synack_tcp_info(n.b, n.as, &ti), 0);
			CHECK_EQ(ti.recv_queue, 0);
		}
		net_close(&n);
	}
}

/* Text that fills less than half of the sender's block (600 bytes in an
 * MTU-sized one) is copied, not kept: the block goes back to the sender. */
static void short_segments_are_copied_not_kept(void)
{
	struct net n;
	if (net_open(&n, 2, 0, 1, NULL, NULL) == 0) {
		CHECK_EQ(synack_setsockopt(n.a, n.cs, SYNACK_TCP_NODELAY, 1), 0);
		CHECK(transfer(&n, 600 * 50, 600, 1));
		CHECK_EQ_U64(stat_of(n.b, "TCPRcvQueueRef"), 0);
	}
	net_close(&n);
}

/* Loss, duplication, reordering and corruption both ways, checksums
 * trusted and not, IPv4 and IPv6: byte-exact, and blocks are still kept.
 * A duplicate travels in a pool copy, never lent; a corrupted datagram is
 * dropped by the checksum and its block goes back to the sender. */
static void impaired_paths_arrive_byte_exact(void)
{
	struct synack_sim_path p = {
	    .delay_us = 2000, .loss = 0.03, .dup = 0.05, .reorder = 0.05, .corrupt = 0.03};
	for (int v6 = 0; v6 < 2; v6++) {
		for (int trust = 0; trust < 2; trust++) {
			for (uint64_t seed = 10; seed < 13; seed++) {
				struct net n;
				if (net_open(&n, seed, v6, trust, &p, &p) == 0) {
					CHECK(transfer(&n, 1u << 20, 1 << 16, 1));
					CHECK(stat_of(n.b, "TCPRcvQueueRef") > 0);
					CHECK(stat_of(n.b, "InCsumErrors") > 0);
					struct synack_sim_counters c;
					synack_sim_counters(n.sim, n.ha, n.hb, &c);
					CHECK(c.duplicated > 0 && c.lost > 0 && c.corrupted > 0);
				}
				net_close(&n);
			}
		}
	}
}

/* b keeps a's blocks unread; a (the stack whose pool they came from) and
 * the simulator go first.  What b holds is its own: still readable, then
 * freed with b (ASan: no use after free, no leak). */
static void receiver_keeps_blocks_after_the_sender_is_freed(void)
{
	struct net n;
	if (net_open(&n, 3, 0, 1, NULL, NULL) == 0) {
		/* Less than the first window: all of it arrives unread. */
		CHECK(transfer(&n, 50000, 1 << 16, 0));
		CHECK(stat_of(n.b, "TCPRcvQueueRef") >= 50000 / 1460);
		synack_sim_free(n.sim);
		n.sim = NULL;
		synack_stack_free(n.a);
		n.a = NULL;
		drain(&n);
		CHECK_EQ(n.got, 50000);
		CHECK_EQ(n.wrong, 0);
	}
	net_close(&n);
}

/* The other order: b goes with a's blocks unread, while a, whose pool
 * holds blocks b gave back, carries on sending into the void. */
static void sender_outlives_a_receiver_holding_its_blocks(void)
{
	struct net n;
	if (net_open(&n, 4, 0, 1, NULL, NULL) == 0) {
		CHECK(transfer(&n, 300000, 1 << 16, 1));
		CHECK(transfer(&n, 50000, 1 << 16, 0));
		synack_sim_free(n.sim);
		n.sim = NULL;
		synack_stack_free(n.b);
		n.b = NULL;
		static uint8_t out[1 << 14];
		CHECK(synack_send(n.a, n.cs, out, sizeof out) >= 0);
		synack_advance(n.a, synack_now(n.a) + 1000000);
		void *pkt;
		ssize_t k;
		while ((k = synack_output_take(n.a, &pkt)) > 0)
			synack_output_done(n.a, pkt);
	}
	net_close(&n);
}

/* The API's edges: a small datagram is not lent, a block of another size
 * than the stack's datagrams is freed rather than pooled. */
static void block_api_edges(void)
{
	struct synack_stack *st = stack_at(ADDR_A, NULL);
	size_t size = 7;
	CHECK(synack_output_block(NULL, &size, &size) == NULL);
	CHECK(synack_output_block(st, NULL, &size) == NULL);
	CHECK_EQ(size, 7);
	synack_output_give(st, NULL, 100);
	synack_output_give(st, malloc(100), 100);
	synack_output_give(NULL, malloc(100), 100);
	/* A SYN is of the small class; a full segment's block holds it. */
	struct synack_endpoint dst = {.addr = ADDR_B, .port = PORT};
	int s = synack_socket(st);
	CHECK_EQ(synack_connect(st, s, &dst), -EINPROGRESS);
	void *pkt;
	ssize_t k = synack_output_take(st, &pkt);
	CHECK(k > 0);
	if (k > 0) {
		CHECK(synack_output_block(st, pkt, &size) == NULL);
		CHECK_EQ(size, 7);
		synack_output_done(st, pkt);
	}
	synack_stack_free(st);
}

int main(void)
{
	RUN(in_order_text_stays_in_the_senders_buffer);
	RUN(short_segments_are_copied_not_kept);
	RUN(impaired_paths_arrive_byte_exact);
	RUN(receiver_keeps_blocks_after_the_sender_is_freed);
	RUN(sender_outlives_a_receiver_holding_its_blocks);
	RUN(block_api_edges);
	return check_summary("test_sim_lend");
}
