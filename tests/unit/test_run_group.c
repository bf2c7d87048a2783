/*
 * One stack per core (issue 16 item 3) without a device: two server stacks,
 * each on its own TAP link and run loop, turned by the two threads of a
 * synack_run_group; two client stacks on the test's own thread, each joined
 * to one server by a socketpair (one datagram per frame, as the queues of a
 * multi-queue device are).  Every server thread listens and echoes in the
 * blocking style until the group is stopped; the test reads each server's
 * counters on its own thread (synack_run_group_call), and both server links
 * write one shared capture, whose records must be in time order and as many
 * as the links counted.  Nothing asserts a time; every wait has a bound.
 * Also the arguments the group and the multi-queue calls refuse.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "synack/link.h"
#include "synack/run.h"

#define WAIT_MS 20000

struct host {
	struct synack_link *link;
	struct synack_stack *st;
	struct synack_run *run;
};

static void host_open(struct host *h, int fd, uint32_t addr)
{
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = addr;
	char err[160];
	CHECK_EQ(synack_link_open_fd(&h->link, SYNACK_LINK_TAP, fd, "pair", &lc, err, sizeof(err)),
	         0);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = addr;
	cfg.secret[0] = (uint8_t)addr;
	h->st = synack_stack_new(&cfg, NULL);
	CHECK(h->st != NULL);
	h->run = synack_run_new(h->st, h->link, NULL);
	CHECK(h->run != NULL);
}

static void host_close(struct host *h)
{
	synack_run_free(h->run);
	synack_stack_free(h->st);
	synack_link_close(h->link);
}

struct echo_ctx {
	struct synack_run_group *g;
	int listeners[2];
};

/* A server thread: echoes one message per connection until stopped. */
static int echo_thread(void *ctx, unsigned index, struct synack_run *r)
{
	struct echo_ctx *e = ctx;
	int l = e->listeners[index];
	for (;;) {
		int c = synack_run_accept(r, l, NULL, WAIT_MS);
		if (c == -EINTR && synack_run_group_stops(e->g) > 0)
			return 100 + (int)index;
		if (c < 0)
			return -1;
		char buf[64];
		ssize_t n = synack_run_recv(r, c, buf, sizeof(buf), WAIT_MS);
		if (n > 0 && synack_run_send_all(r, c, buf, (size_t)n, WAIT_MS) != n)
			return -2;
		synack_run_close(r, c, WAIT_MS);
	}
}

struct opens {
	uint64_t passive;
	int ran;
};

/* On the server's own thread, between two of its turns. */
static void read_opens(void *ctx, struct synack_run *r)
{
	struct opens *o = ctx;
	struct synack_stats s;
	synack_stats(synack_run_stack(r), &s);
	o->passive = s.PassiveOpens;
	o->ran = 1;
}

static void two_threads_serve_their_own_connections(void)
{
	char pcap[] = "/tmp/synack_test_run_group_XXXXXX";
	int pfd = mkstemp(pcap);
	CHECK(pfd >= 0);
	close(pfd);
	struct host client[2], server[2];
	for (int k = 0; k < 2; k++) {
		int sv[2];
		CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
		host_open(&client[k], sv[0], 0x0a070001);
		host_open(&server[k], sv[1], 0x0a070002);
	}
	struct synack_link *links[2] = {server[0].link, server[1].link};
	char err[160];
	CHECK_EQ(synack_link_set_pcap_shared(links, 2, pcap, err, sizeof(err)), 0);

	struct echo_ctx e;
	struct synack_run *runs[2] = {server[0].run, server[1].run};
	for (int k = 0; k < 2; k++) {
		e.listeners[k] = synack_run_listen(server[k].run, 7, 16);
		CHECK(e.listeners[k] >= 0);
	}
	CHECK_EQ(synack_run_group_start(&e.g, runs, 2, echo_thread, &e), 0);
	CHECK_EQ(synack_run_group_size(e.g), 2);
	CHECK_EQ(synack_run_group_stops(e.g), 0);

	/* Three connections through each server, from this thread. */
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < 2; k++) {
			struct synack_endpoint peer = {.addr = 0x0a070002, .port = 7};
			int s = synack_run_connect(client[k].run, &peer, WAIT_MS);
			CHECK(s >= 0);
			if (s < 0)
				continue;
			char msg[32], back[32];
			int n = snprintf(msg, sizeof(msg), "hello %d from %d", round, k);
			CHECK_EQ(synack_run_send_all(client[k].run, s, msg, (size_t)n, WAIT_MS), n);
			ssize_t got = synack_run_recv_flags(client[k].run, s, back, (size_t)n,
			                                    SYNACK_MSG_WAITALL, WAIT_MS);
			CHECK_EQ(got, n);
			CHECK(got == n && memcmp(msg, back, (size_t)n) == 0);
			CHECK_EQ(synack_run_close(client[k].run, s, WAIT_MS), 0);
		}
	}
	/* Each server's counters, read on its own thread. */
	for (unsigned k = 0; k < 2; k++) {
		struct opens o = {0};
		CHECK_EQ(synack_run_group_call(e.g, k, read_opens, &o), 0);
		CHECK(o.ran);
		CHECK_EQ(o.passive, 3);
	}
	CHECK_EQ(synack_run_group_running(e.g), 2);
	synack_run_group_stop(e.g);
	CHECK_EQ(synack_run_group_stops(e.g), 1);
	/* The threads return; a call then runs on this thread. */
	while (synack_run_group_running(e.g) > 0) {
		char v[8];
		if (read(synack_run_group_fd(e.g), v, sizeof(v)) < 0)
			usleep(1000);
	}
	struct opens o = {0};
	CHECK_EQ(synack_run_group_call(e.g, 1, read_opens, &o), 0);
	CHECK(o.ran);
	int results[2] = {0, 0};
	synack_run_group_join(e.g, results);
	CHECK_EQ(results[0], 100);
	CHECK_EQ(results[1], 101);

	struct synack_link_stats ls[2];
	for (int k = 0; k < 2; k++)
		synack_link_stats(server[k].link, &ls[k]);
	uint64_t frames = ls[0].frames_in + ls[0].frames_out + ls[1].frames_in + ls[1].frames_out;
	for (int k = 0; k < 2; k++) {
		host_close(&server[k]);
		host_close(&client[k]);
	}
	/* The shared capture: every frame of both links, in time order. */
	FILE *f = fopen(pcap, "rb");
	CHECK(f != NULL);
	uint8_t hdr[24], rec[16];
	CHECK_EQ(fread(hdr, 1, sizeof(hdr), f), sizeof(hdr));
	uint64_t records = 0, prev = 0;
	int ordered = 1;
	while (fread(rec, 1, sizeof(rec), f) == sizeof(rec)) {
		uint32_t sec, usec, incl;
		memcpy(&sec, rec, 4);
		memcpy(&usec, rec + 4, 4);
		memcpy(&incl, rec + 8, 4);
		uint64_t t = (uint64_t)sec * 1000000u + usec;
		ordered &= t >= prev;
		prev = t;
		records++;
		if (fseek(f, (long)incl, SEEK_CUR) != 0)
			break;
	}
	fclose(f);
	unlink(pcap);
	CHECK(ordered);
	CHECK_EQ(records, frames);
	CHECK(records > 0);
}

static int never(void *ctx, unsigned index, struct synack_run *r)
{
	(void)ctx;
	(void)index;
	(void)r;
	return 0;
}

static void bad_arguments_are_refused(void)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	struct host a, b;
	host_open(&a, sv[0], 0x0a070001);
	host_open(&b, sv[1], 0x0a070002);
	struct synack_run_group *g = (struct synack_run_group *)1;
	struct synack_run *runs[2] = {a.run, a.run};
	CHECK_EQ(synack_run_group_start(&g, runs, 0, never, NULL), -EINVAL);
	CHECK(g == NULL);
	CHECK_EQ(synack_run_group_start(&g, runs, 2, never, NULL), -EINVAL); /* twice a.run */
	CHECK_EQ(synack_run_group_start(&g, runs, 1, NULL, NULL), -EINVAL);
	CHECK_EQ(synack_run_group_start(NULL, runs, 1, never, NULL), -EINVAL);
	CHECK_EQ(synack_run_group_start(&g, runs, SYNACK_RUN_GROUP_MAX + 1, never, NULL), -EINVAL);
	CHECK_EQ(synack_run_group_call(NULL, 0, read_opens, NULL), -EINVAL);
	CHECK_EQ(synack_run_group_stops(NULL), 0);
	CHECK_EQ(synack_run_group_fd(NULL), -1);
	synack_run_group_stop(NULL);
	synack_run_group_join(NULL, NULL);
	/* A group whose threads return at once; out of range calls refused. */
	runs[1] = b.run;
	CHECK_EQ(synack_run_group_start(&g, runs, 2, never, NULL), 0);
	CHECK_EQ(synack_run_group_call(g, 2, read_opens, NULL), -EINVAL);
	CHECK_EQ(synack_run_group_call(g, 0, NULL, NULL), -EINVAL);
	int results[2] = {-1, -1};
	synack_run_group_join(g, results);
	CHECK_EQ(results[0], 0);
	CHECK_EQ(results[1], 0);
	host_close(&a);
	host_close(&b);

	struct synack_link *links[2];
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = 0x0a070002;
	char err[200];
	CHECK_EQ(synack_link_open_queues(links, 0, SYNACK_LINK_TAP, "tap0", &lc, err, sizeof(err)),
	         -EINVAL);
	CHECK(strstr(err, "1 to 256 queues") != NULL);
	CHECK_EQ(synack_link_open_queues(links, SYNACK_LINK_MAX_QUEUES + 1, SYNACK_LINK_TAP, "tap0",
	                                 &lc, err, sizeof(err)),
	         -EINVAL);
	CHECK_EQ(
	    synack_link_open_queues(links, 2, SYNACK_LINK_TAP, "bad/name", &lc, err, sizeof(err)),
	    -EINVAL);
	CHECK(links[0] == NULL && links[1] == NULL);
	CHECK_EQ(synack_link_set_pcap_shared(NULL, 1, "/tmp/x", err, sizeof(err)), -EINVAL);
}

int main(void)
{
	RUN(two_threads_serve_their_own_connections);
	RUN(bad_arguments_are_refused);
	return check_summary("test_run_group");
}
