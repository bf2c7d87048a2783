/*
 * echo_client: blocking-style code on a synack stack over a TAP device.
 *
 *   echo_client DEV OUR_ADDR/NN PEER:PORT [MESSAGE]
 *
 * Opens the TAP device DEV (which must exist or is created; run it inside a
 * network namespace of your own), connects to PEER:PORT, sends MESSAGE
 * (default "hello from synack\n"), reads the same number of bytes back,
 * closes gracefully and prints what came back.  Ctrl-C interrupts any step.
 *
 *   ip netns add demo; ip -n demo tuntap add dev tap0 mode tap
 *   ip -n demo addr add 10.7.0.1/24 dev tap0; ip -n demo link set tap0 up
 *   ip netns exec demo socat TCP-LISTEN:7,fork EXEC:cat &
 *   ip netns exec demo ./build/examples/echo_client tap0 10.7.0.2/24 10.7.0.1:7
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <synack/link.h>
#include <synack/run.h>
#include <synack/synack.h>

#define TIMEOUT_MS 10000

static int fail(const char *what, int err)
{
	fprintf(stderr, "echo_client: %s: %s\n", what, synack_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: echo_client DEV OUR_ADDR/NN PEER:PORT [MESSAGE]\n");
		return 2;
	}
	const char *msg = argc > 4 ? argv[4] : "hello from synack\n";
	size_t len = strlen(msg);

	/* Our address and prefix ("10.7.0.2/24"). */
	char addr[32];
	snprintf(addr, sizeof(addr), "%s", argv[2]);
	char *slash = strchr(addr, '/');
	struct synack_endpoint us, peer;
	if (!slash || (*slash = 0, synack_endpoint_parse(addr, &us)) != 0 ||
	    synack_endpoint_parse(argv[3], &peer) != 0 || peer.port == 0) {
		fprintf(stderr, "echo_client: bad address\n");
		return 2;
	}

	/* The link: a TAP device with ARP. */
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = us.addr;
	lc.prefix_len = (uint32_t)atoi(slash + 1);
	struct synack_link *link;
	char err[200];
	if (synack_link_open(&link, SYNACK_LINK_TAP, argv[1], &lc, err, sizeof(err)) < 0) {
		fprintf(stderr, "echo_client: %s\n", err);
		return 2;
	}

	/* The stack, with a random secret and the device's MTU. */
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = us.addr;
	cfg.mtu = synack_link_mtu(link);
	if (getrandom(cfg.secret, sizeof(cfg.secret), 0) != (ssize_t)sizeof(cfg.secret))
		return 1;
	int rc;
	struct synack_stack *st = synack_stack_new(&cfg, &rc);
	if (!st)
		return fail("stack", rc);

	/* The loop, with Ctrl-C turned into -EINTR from any blocking call. */
	struct synack_run *r = synack_run_new(st, link, &rc);
	if (!r)
		return fail("run loop", rc);
	int sigint = SIGINT;
	synack_run_watch_signals(r, &sigint, 1);

	int status = 1;
	char *back = calloc(1, len + 1);
	int s = synack_run_connect(r, &peer, TIMEOUT_MS);
	if (s < 0) {
		fail("connect", s);
		goto out;
	}
	ssize_t n = synack_run_send_all(r, s, msg, len, TIMEOUT_MS);
	if (n < 0) {
		fail("send", (int)n);
		goto out_close;
	}
	size_t got = 0;
	while (got < len) {
		n = synack_run_recv(r, s, back + got, len - got, TIMEOUT_MS);
		if (n <= 0) {
			fail("recv", n == 0 ? -ECONNRESET : (int)n);
			goto out_close;
		}
		got += (size_t)n;
	}
	printf("%s", back);
	status = 0;
out_close:
	/* FIN, then wait until the connection is in TIME_WAIT or CLOSED. */
	rc = synack_run_close(r, s, TIMEOUT_MS);
	if (rc < 0 && status == 0)
		status = fail("close", rc);
out:
	free(back);
	synack_run_free(r);
	synack_stack_free(st);
	synack_link_close(link);
	return status;
}
