/*
 * The blocking socket helpers of run.h with flags, and the wait on many
 * sockets (issue 17 item 11), without a device or privileges: two stacks
 * on TAP links joined by a socketpair, as test_link.c does.  The server's
 * loop blocks in the helper under test; the client's loop is turned from
 * it, by a callback on the client's end of the pair.  Timeouts here only
 * bound a failing test; nothing asserts a time.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "synack/link.h"
#include "synack/run.h"

#define LONG_MS 10000

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
	int e;
	h->run = synack_run_new(h->st, h->link, &e);
	CHECK(h->run != NULL);
}

static void host_close(struct host *h)
{
	synack_run_free(h->run);
	synack_stack_free(h->st);
	synack_link_close(h->link);
}

/* The client's end of the pair is readable: turn the client's loop. */
static void turn_client(void *ctx, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	struct host *a = ctx;
	CHECK_EQ(synack_run_once(a->run, 0), 0);
}

static int connect_to(struct host *a, uint16_t port)
{
	synack_advance(a->st, synack_run_now(a->run));
	int s = synack_socket(a->st);
	struct synack_endpoint peer = {.addr = 0x0a070001, .port = port};
	CHECK_EQ(synack_connect(a->st, s, &peer), -EINPROGRESS);
	CHECK_EQ(synack_run_once(a->run, 0), 0);
	return s;
}

static void send_from(struct host *a, int s, const char *text)
{
	synack_advance(a->st, synack_run_now(a->run));
	CHECK_EQ(synack_send(a->st, s, text, strlen(text)), (ssize_t)strlen(text));
	CHECK_EQ(synack_run_once(a->run, 0), 0);
}

static void poll_recv_flags_and_send_over_a_pair(void)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	struct host a, b;
	host_open(&a, sv[0], 0x0a070002);
	host_open(&b, sv[1], 0x0a070001);
	CHECK_EQ(synack_run_add_fd(b.run, sv[0], EPOLLIN, turn_client, &a), 0);
	int l = synack_run_listen(b.run, 80, 16);
	CHECK(l >= 0);

	/* Nothing ready: timeout 0 looks once; a number that is no socket
	 * is POLLNVAL, a negative one is skipped. */
	struct synack_pollfd fds[3] = {
	    {l, SYNACK_POLLIN, 77}, {-1, SYNACK_POLLIN, 77}, {999, 0, 0}};
	CHECK_EQ(synack_run_poll(b.run, fds, 2, 0), 0);
	CHECK_EQ(fds[0].revents, 0);
	CHECK_EQ(fds[1].revents, 0);
	CHECK_EQ(synack_run_poll(b.run, fds, 3, LONG_MS), 1);
	CHECK_EQ(fds[2].revents, SYNACK_POLLNVAL);
	CHECK_EQ(synack_run_poll(NULL, fds, 1, 0), -EINVAL);
	CHECK_EQ(synack_run_poll(b.run, NULL, 1, 0), -EINVAL);
	CHECK_EQ(synack_run_poll(b.run, NULL, 0, 0), 0);

	/* Two clients; the listener becomes readable while the loop turns. */
	int s1 = connect_to(&a, 80), s2 = connect_to(&a, 80);
	int c[2], got = 0;
	while (got < 2) {
		CHECK_EQ(synack_run_poll(b.run, fds, 1, LONG_MS), 1);
		CHECK_EQ(fds[0].revents, SYNACK_POLLIN);
		while (got < 2 && (c[got] = synack_accept(b.st, l, NULL)) >= 0)
			got++;
		if (fds[0].revents != SYNACK_POLLIN)
			break;
	}
	CHECK_EQ(got, 2);
	/* The second client speaks: only its connection is readable. */
	send_from(&a, s2, "ping");
	struct synack_pollfd two[2] = {{c[0], SYNACK_POLLIN | SYNACK_POLLRDHUP, 0},
	                               {c[1], SYNACK_POLLIN | SYNACK_POLLRDHUP, 0}};
	int c2 = -1, c1 = -1;
	CHECK_EQ(synack_run_poll(b.run, two, 2, LONG_MS), 1);
	c2 = two[0].revents ? c[0] : c[1];
	c1 = two[0].revents ? c[1] : c[0];
	CHECK_EQ(two[0].revents | two[1].revents, SYNACK_POLLIN);

	/* DONTWAIT on the silent one: at once. */
	char buf[64];
	CHECK_EQ(synack_run_recv_flags(b.run, c1, buf, sizeof buf, SYNACK_MSG_DONTWAIT, LONG_MS),
	         -EAGAIN);
	CHECK_EQ(synack_run_recv_flags(b.run, c1, buf, sizeof buf, 0, 0), -EAGAIN);
	CHECK_EQ(synack_run_recv_flags(b.run, c1, buf, sizeof buf, 0x1, 0), -EOPNOTSUPP);
	/* PEEK | WAITALL waits for all 10, then leaves them. */
	send_from(&a, s2, "-pong!");
	memset(buf, 0, sizeof buf);
	CHECK_EQ(synack_run_recv_flags(b.run, c2, buf, 10, SYNACK_MSG_PEEK | SYNACK_MSG_WAITALL,
	                               LONG_MS),
	         10);
	CHECK(memcmp(buf, "ping-pong!", 10) == 0);
	/* WAITALL collects what comes in pieces: 10 now, 4 more later. */
	send_from(&a, s2, "abcd");
	memset(buf, 0, sizeof buf);
	CHECK_EQ(synack_run_recv_flags(b.run, c2, buf, 14, SYNACK_MSG_WAITALL, LONG_MS), 14);
	CHECK(memcmp(buf, "ping-pong!abcd", 14) == 0);
	/* SO_RCVLOWAT: a plain blocking read waits for min(len, lowat). */
	CHECK_EQ(synack_setsockopt(b.st, c2, SYNACK_SO_RCVLOWAT, 6), 0);
	send_from(&a, s2, "xyz");
	CHECK_EQ(synack_run_recv_flags(b.run, c2, buf, sizeof buf, SYNACK_MSG_DONTWAIT, 0), 3);
	send_from(&a, s2, "123");
	send_from(&a, s2, "4567");
	memset(buf, 0, sizeof buf);
	ssize_t n = synack_run_recv(b.run, c2, buf, sizeof buf, LONG_MS);
	CHECK(n >= 6 && n <= 7);
	CHECK(memcmp(buf, "1234567", (size_t)n) == 0);
	if (n == 6)
		CHECK_EQ(synack_run_recv(b.run, c2, buf, sizeof buf, LONG_MS), 1);
	/* WAITALL at the end of the stream returns what came. */
	CHECK_EQ(synack_setsockopt(b.st, c2, SYNACK_SO_RCVLOWAT, 1), 0);
	send_from(&a, s2, "tail");
	synack_advance(a.st, synack_run_now(a.run));
	CHECK_EQ(synack_shutdown(a.st, s2, SYNACK_SHUT_WR), 0);
	CHECK_EQ(synack_run_once(a.run, 0), 0);
	CHECK_EQ(synack_run_recv_flags(b.run, c2, buf, sizeof buf, SYNACK_MSG_WAITALL, LONG_MS), 4);
	CHECK(memcmp(buf, "tail", 4) == 0);
	CHECK_EQ(synack_run_recv_flags(b.run, c2, buf, sizeof buf, SYNACK_MSG_WAITALL, LONG_MS), 0);
	two[0].socket = c2;
	two[0].events = SYNACK_POLLRDHUP;
	CHECK_EQ(synack_run_poll(b.run, two, 1, 0), 1);
	CHECK_EQ(two[0].revents, SYNACK_POLLRDHUP);

	/* synack_run_send: DONTWAIT queues what fits and returns. */
	CHECK_EQ(synack_setsockopt(b.st, c1, SYNACK_SO_SNDBUF, 1000), 0);
	static char big[3000];
	memset(big, 'b', sizeof big);
	CHECK_EQ(synack_run_send(b.run, c1, big, sizeof big, SYNACK_MSG_DONTWAIT, LONG_MS), 1000);
	CHECK_EQ(synack_run_send(b.run, c1, big, sizeof big, SYNACK_MSG_DONTWAIT | 0x1, LONG_MS),
	         -EOPNOTSUPP);
	CHECK_EQ(synack_run_send(NULL, c1, big, 1, 0, 0), -EINVAL);
	CHECK_EQ(synack_run_recv_flags(NULL, c1, buf, 1, 0, 0), -EINVAL);
	(void)s1;

	CHECK_EQ(synack_run_del_fd(b.run, sv[0]), 0);
	host_close(&a);
	host_close(&b);
}

int main(void)
{
	RUN(poll_recv_flags_and_send_over_a_pair);
	return check_summary("test_run_sockets");
}
