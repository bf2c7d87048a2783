/*
 * synack bridge's forwarder (tools/bridge.c) on its caller's clock: two
 * non-blocking datagram socket pairs stand in for the TAP devices (one
 * frame per read and write, as a TAP descriptor), the test writes what a
 * device sends and reads what the bridge delivers, at virtual times.  The
 * impairment model is src/link/impair.c's (its own tests cover the draws);
 * these check what the bridge adds: the delay line, the bottleneck in
 * front of it, ARP passing unimpaired, the two directions apart, duplicates
 * written twice, the memory limit and frames too long for the MTU.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bridge.h"
#include "check.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806

struct rig {
	int a[2], b[2]; /* [0]: the device's side (the test), [1]: the bridge's */
	struct bridge_opts o;
	struct bridge *br;
};

static void rig_default(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	bridge_opts_default(&r->o);
	r->o.dev[0] = "ta";
	r->o.dev[1] = "tb";
}

static void rig_open(struct rig *r)
{
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, r->a), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, r->b), 0);
	r->br = bridge_new(&r->o, r->a[1], r->b[1]);
	CHECK(r->br != NULL);
}

static void rig_close(struct rig *r)
{
	bridge_free(r->br);
	close(r->a[0]);
	close(r->a[1]);
	close(r->b[0]);
	close(r->b[1]);
}

/* A frame of len bytes with the given EtherType, its payload all tag. */
static size_t frame(uint8_t *buf, unsigned type, size_t len, uint8_t tag)
{
	memset(buf, tag, len);
	memset(buf, 0xff, 6);                           /* destination */
	memcpy(buf + 6, "\x02\x53\x59\x00\x00\x01", 6); /* source */
	buf[12] = (uint8_t)(type >> 8);
	buf[13] = (uint8_t)type;
	return len;
}

/* Device `side` (0: a, 1: b) sends a frame, which the bridge reads at now. */
static void send_at(struct rig *r, int side, unsigned type, size_t len, uint8_t tag, uint64_t now)
{
	uint8_t buf[2048];
	frame(buf, type, len, tag);
	CHECK_EQ(write(side ? r->b[0] : r->a[0], buf, len), (ssize_t)len);
	CHECK_EQ(bridge_input(r->br, side, now), 1);
}

/* The next frame the bridge wrote to device side: its length and first
 * payload byte, or -1 when there is none. */
static ssize_t got(struct rig *r, int side, uint8_t *tag)
{
	uint8_t buf[2048];
	ssize_t n = read(side ? r->b[0] : r->a[0], buf, sizeof(buf));
	if (n > 14 && tag)
		*tag = buf[14];
	return n;
}

static uint64_t ctr(const struct rig *r, int d, int k)
{
	uint64_t v[BRIDGE_NCOUNTERS];
	bridge_counters(r->br, d, v);
	return v[k];
}

static void bridge_delay_holds_a_frame_until_due(void)
{
	struct rig r;
	rig_default(&r);
	r.o.dir[0].delay_ms = 10;
	rig_open(&r);
	send_at(&r, 0, ETHERTYPE_IPV4, 100, 7, 1000);
	CHECK_EQ_U64(bridge_next_due(r.br), 11000);
	bridge_release(r.br, 10999);
	CHECK_EQ(got(&r, 1, NULL), -1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_HELD), 1);
	bridge_release(r.br, 11000);
	uint8_t tag = 0;
	CHECK_EQ(got(&r, 1, &tag), 100);
	CHECK_EQ(tag, 7);
	CHECK_EQ_U64(bridge_next_due(r.br), UINT64_MAX);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_FRAMES_IN), 1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_FRAMES_OUT), 1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_BYTES_OUT), 100);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_HELD), 0);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_HELD_MAX), 1);
	rig_close(&r);
}

static void bridge_arp_passes_at_once_while_ip_is_lost(void)
{
	struct rig r;
	rig_default(&r);
	r.o.dir[0].loss = 1;
	r.o.dir[0].delay_ms = 10;
	rig_open(&r);
	send_at(&r, 0, ETHERTYPE_ARP, 42, 1, 0);
	send_at(&r, 0, ETHERTYPE_IPV4, 100, 2, 0);
	uint8_t tag = 0;
	CHECK_EQ(got(&r, 1, &tag), 42); /* before any release: written at once */
	CHECK_EQ(tag, 1);
	bridge_release(r.br, 1000000);
	CHECK_EQ(got(&r, 1, NULL), -1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_PASSED), 1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_LOST), 1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_FRAMES_OUT), 1);
	rig_close(&r);
}

/* 8 Mbit/s is one byte per microsecond: a 1014-byte frame carries a
 * 1000-byte datagram, which occupies the link for 1000 us; a queue of one
 * holds the second while the first is sent and drops the third. */
static void bridge_bottleneck_spaces_frames_and_drops_at_a_full_queue(void)
{
	struct rig r;
	rig_default(&r);
	r.o.dir[0].bw_mbps = 8;
	r.o.dir[0].have_bw = 1;
	r.o.dir[0].queue_pkts = 1;
	rig_open(&r);
	for (uint8_t k = 1; k <= 3; k++)
		send_at(&r, 0, ETHERTYPE_IPV4, 1014, k, 0);
	CHECK_EQ_U64(bridge_next_due(r.br), 1000);
	bridge_release(r.br, 999);
	CHECK_EQ(got(&r, 1, NULL), -1);
	bridge_release(r.br, 1000);
	uint8_t tag = 0;
	CHECK_EQ(got(&r, 1, &tag), 1014);
	CHECK_EQ(tag, 1);
	CHECK_EQ_U64(bridge_next_due(r.br), 2000);
	bridge_release(r.br, 2000);
	CHECK_EQ(got(&r, 1, &tag), 1014);
	CHECK_EQ(tag, 2);
	CHECK_EQ(got(&r, 1, NULL), -1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_QUEUE_DROPS), 1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_LOST), 0); /* the random loss only */
	rig_close(&r);
}

static void bridge_directions_are_impaired_apart(void)
{
	struct rig r;
	rig_default(&r);
	r.o.dir[0].loss = 1; /* a to b only */
	r.o.dir[1].delay_ms = 3;
	rig_open(&r);
	send_at(&r, 0, ETHERTYPE_IPV4, 60, 1, 0);
	send_at(&r, 1, ETHERTYPE_IPV4, 60, 2, 0);
	bridge_release(r.br, 3000);
	uint8_t tag = 0;
	CHECK_EQ(got(&r, 0, &tag), 60);
	CHECK_EQ(tag, 2);
	CHECK_EQ(got(&r, 1, NULL), -1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_LOST), 1);
	CHECK_EQ_U64(ctr(&r, 1, BRIDGE_LOST), 0);
	CHECK_EQ_U64(ctr(&r, 1, BRIDGE_FRAMES_OUT), 1);
	rig_close(&r);
}

static void bridge_duplicate_is_written_twice(void)
{
	struct rig r;
	rig_default(&r);
	r.o.dir[0].dup = 1;
	rig_open(&r);
	send_at(&r, 0, ETHERTYPE_IPV4, 80, 5, 0);
	bridge_release(r.br, 1);
	CHECK_EQ(got(&r, 1, NULL), 80);
	CHECK_EQ(got(&r, 1, NULL), 80);
	CHECK_EQ(got(&r, 1, NULL), -1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_DUPLICATED), 1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_FRAMES_IN), 1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_FRAMES_OUT), 2);
	rig_close(&r);
}

static void bridge_holds_at_most_limit_pkts(void)
{
	struct rig r;
	rig_default(&r);
	r.o.dir[0].delay_ms = 5;
	r.o.limit_pkts = 2;
	rig_open(&r);
	for (uint8_t k = 1; k <= 3; k++)
		send_at(&r, 0, ETHERTYPE_IPV4, 60, k, 0);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_LIMIT_DROPS), 1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_HELD), 2);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_FRAMES_IN), 3);
	bridge_release(r.br, 5000);
	CHECK_EQ(got(&r, 1, NULL), 60);
	CHECK_EQ(got(&r, 1, NULL), 60);
	CHECK_EQ(got(&r, 1, NULL), -1);
	/* Room again once they left. */
	send_at(&r, 0, ETHERTYPE_IPV4, 60, 4, 5000);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_HELD), 1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_LIMIT_DROPS), 1);
	rig_close(&r);
}

static void bridge_frame_longer_than_the_mtu_is_dropped(void)
{
	struct rig r;
	rig_default(&r);
	r.o.mtu = 100; /* frames up to 100 + 14 + 4 bytes */
	rig_open(&r);
	send_at(&r, 0, ETHERTYPE_IPV4, 118, 1, 0);
	send_at(&r, 0, ETHERTYPE_IPV4, 119, 2, 0);
	bridge_release(r.br, 0);
	uint8_t tag = 0;
	CHECK_EQ(got(&r, 1, &tag), 118);
	CHECK_EQ(tag, 1);
	CHECK_EQ(got(&r, 1, NULL), -1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_TOO_BIG), 1);
	CHECK_EQ_U64(ctr(&r, 0, BRIDGE_FRAMES_IN), 2);
	rig_close(&r);
}

int main(void)
{
	RUN(bridge_delay_holds_a_frame_until_due);
	RUN(bridge_arp_passes_at_once_while_ip_is_lost);
	RUN(bridge_bottleneck_spaces_frames_and_drops_at_a_full_queue);
	RUN(bridge_directions_are_impaired_apart);
	RUN(bridge_duplicate_is_written_twice);
	RUN(bridge_holds_at_most_limit_pkts);
	RUN(bridge_frame_longer_than_the_mtu_is_dropped);
	return check_summary("test_bridge");
}
