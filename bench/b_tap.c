/*
 * The tap workload (issue 16 item 2): synack on a real TAP device against
 * the Linux kernel, in a namespace this program creates, beside Linux over
 * a veth pair:
 *
 *     ns T: the kernel 10.204.0.1/24 --- tap st0 --- synack 10.204.0.2
 *
 *   send: synack sends tap_bytes (1 GiB) to a kernel receiver and closes;
 *         timed from the connection's establishment until every byte is
 *         acknowledged and the connection is closed;
 *   recv: a kernel sender sends tap_bytes to synack, which reads to the end;
 *         timed from the accept to the end of the stream.
 * Each with the device's offloads on (IFF_VNET_HDR: partial checksums,
 * super-segments of up to 64 KiB each way, gathered writes) and off (one
 * bare 1514-byte frame per read or write), the MTU 1500 and so MSS 1460 on
 * the wire either way.  CPU is synack's process alone (user + system; it is
 * one thread); the kernel's side runs in its own process, not counted,
 * whose softirq work is mostly charged to it.  The receiving side checks
 * every byte against the pattern, so a row is reported only for a
 * byte-exact transfer.  device_ops_per_gb: the frames synack read and
 * wrote per GB (each one system call; without offloads one per segment).
 * Linux over veth (b_linux.c, offloads on and off) is reported under the
 * same bench for comparison, its CPU that of both processes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "synack/link.h"
#include "synack/run.h"
#include "synack/synack.h"

#define TAP_KERNEL 0x0acc0001u /* 10.204.0.1 */
#define TAP_SYNACK 0x0acc0002u /* 10.204.0.2 */
#define TAP_PORT 5001
#define TAP_CHUNK (256u << 10)
#define TAP_PERIOD 251u /* the pattern: byte i of the stream is i % 251 */

static unsigned char pattern[TAP_PERIOD + TAP_CHUNK];

static const unsigned char *pattern_at(uint64_t off)
{
	return pattern + off % TAP_PERIOD;
}

struct tap_out {
	uint64_t bytes, wall_ns, cpu_ns, device_ops;
	int exact;
};

static int send_res(int fd, const struct tap_out *o)
{
	return write(fd, o, sizeof(*o)) == (ssize_t)sizeof(*o) ? 0 : -1;
}

/* synack on st0 in ns: sends total bytes (send) or reads them (recv). */
static void synack_child(const char *ns, int offload, int send, uint64_t total, int ready_fd,
                         int res_fd)
{
	static unsigned char buf[TAP_CHUNK];
	struct tap_out out = {0, 0, 0, 0, 0};
	struct bench_tap_stack t;
	bench_tap_stack_open(&t, "tap", ns, "st0", TAP_SYNACK, offload);
	struct synack_stack *st = t.st;
	struct synack_run *r = t.r;
	uint64_t w0, c0;
	if (send) {
		struct synack_endpoint peer = {.addr = TAP_KERNEL, .port = TAP_PORT};
		int s = synack_run_connect(r, &peer, 10000);
		if (s < 0)
			_exit(1);
		w0 = bench_wall_ns();
		c0 = bench_cpu_ns();
		while (out.bytes < total) {
			uint64_t left = total - out.bytes;
			ssize_t n = synack_send(st, s, pattern_at(out.bytes),
			                        left < TAP_CHUNK ? (size_t)left : TAP_CHUNK);
			if (n > 0)
				out.bytes += (uint64_t)n;
			else if (n != -EAGAIN || synack_run_once(r, 10000) < 0)
				break;
		}
		/* FIN, then until CLOSED or TIME_WAIT: everything acknowledged. */
		out.exact = out.bytes == total && synack_run_close(r, s, 60000) == 0;
	} else {
		int l = synack_run_listen(r, TAP_PORT, 1);
		if (l < 0 || write(ready_fd, "r", 1) != 1)
			_exit(1);
		int c = synack_run_accept(r, l, NULL, 30000);
		if (c < 0)
			_exit(1);
		w0 = bench_wall_ns();
		c0 = bench_cpu_ns();
		out.exact = 1;
		for (;;) {
			ssize_t n = synack_recv(st, c, buf, sizeof(buf), 0);
			if (n > 0) {
				out.exact &= memcmp(buf, pattern_at(out.bytes), (size_t)n) == 0;
				out.bytes += (uint64_t)n;
			} else if (n == 0) {
				break;
			} else if (n != -EAGAIN || synack_run_once(r, 10000) < 0) {
				out.exact = 0;
				break;
			}
		}
		out.exact &= out.bytes == total;
		synack_run_close(r, c, 10000);
	}
	out.wall_ns = bench_wall_ns() - w0;
	out.cpu_ns = bench_cpu_ns() - c0;
	struct synack_link_stats ls;
	synack_link_stats(t.link, &ls);
	out.device_ops = ls.frames_in + ls.frames_out;
	bench_tap_stack_close(&t);
	_exit(send_res(res_fd, &out) < 0);
}

/* The kernel's end in ns: receives (synack sends) or sends total bytes. */
static void kernel_child(const char *ns, int synack_sends, uint64_t total, int ready_fd, int res_fd)
{
	static unsigned char buf[TAP_CHUNK];
	struct tap_out out = {0, 0, 0, 0, 1};
	int one = 1;
	struct timeval tv = {60, 0};
	if (bench_join_netns(ns) < 0)
		_exit(1);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (synack_sends) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_port = htons(TAP_PORT),
		                         .sin_addr.s_addr = htonl(TAP_KERNEL)};
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0 ||
		    write(ready_fd, "r", 1) != 1)
			_exit(1);
		int c = accept(s, NULL, NULL);
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ssize_t n = -1;
		while (c >= 0 && (n = recv(c, buf, sizeof(buf), 0)) > 0) {
			out.exact &= memcmp(buf, pattern_at(out.bytes), (size_t)n) == 0;
			out.bytes += (uint64_t)n;
		}
		out.exact &= n == 0;
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_port = htons(TAP_PORT),
		                         .sin_addr.s_addr = htonl(TAP_SYNACK)};
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(1);
		while (out.bytes < total) {
			uint64_t left = total - out.bytes;
			ssize_t n = send(s, pattern_at(out.bytes),
			                 left < TAP_CHUNK ? (size_t)left : TAP_CHUNK, 0);
			if (n <= 0)
				break;
			out.bytes += (uint64_t)n;
		}
	}
	close(s);
	_exit(send_res(res_fd, &out) < 0);
}

/* One transfer; 0 and *synack filled, or -1. */
static int tap_once(const char *ns, int offload, int send, uint64_t total, struct tap_out *syn)
{
	int ready[2], rs[2], rk[2];
	if (pipe(ready) < 0 || pipe(rs) < 0 || pipe(rk) < 0)
		return -1;
	fflush(NULL);
	/* The listening side first, then the connecting one once it said
	 * ready. */
	pid_t first = fork();
	if (first == 0) {
		if (send)
			kernel_child(ns, 1, total, ready[1], rk[1]);
		synack_child(ns, offload, 0, total, ready[1], rs[1]);
	}
	/* Only the children write: a read sees the end when one dies. */
	close(ready[1]);
	char ch;
	int ok = first > 0 && read(ready[0], &ch, 1) == 1;
	pid_t second = ok ? fork() : -1;
	if (second == 0) {
		if (send)
			synack_child(ns, offload, 1, total, -1, rs[1]);
		kernel_child(ns, 0, total, -1, rk[1]);
	}
	close(rs[1]);
	close(rk[1]);
	struct tap_out k = {0, 0, 0, 0, 0};
	int st1 = 1, st2 = 1;
	if (second > 0) {
		ok = read(rs[0], syn, sizeof(*syn)) == (ssize_t)sizeof(*syn) &&
		     read(rk[0], &k, sizeof(k)) == (ssize_t)sizeof(k);
		waitpid(second, &st2, 0);
	}
	if (first > 0) {
		if (!ok)
			kill(first, SIGKILL);
		waitpid(first, &st1, 0);
	}
	close(ready[0]);
	close(rs[0]);
	close(rk[0]);
	return ok && st1 == 0 && st2 == 0 && syn->exact && k.exact && syn->bytes == total &&
	               k.bytes == total
	           ? 0
	           : -1;
}

static void tap_synack(const struct bench_opts *o)
{
	char ns[48];
	snprintf(ns, sizeof(ns), "sbtap-%d", (int)getpid());
	if (bench_sh("ip netns add %s && ip -n %s link set lo up && "
	             "ip -n %s tuntap add dev st0 mode tap && "
	             "ip -n %s addr add 10.204.0.1/24 dev st0 && ip -n %s link set st0 up",
	             ns, ns, ns, ns, ns) != 0) {
		res_skip("tap", "synack", "send-offload-on", "gbit_per_s",
		         "could not set up the TAP device");
		bench_sh("ip netns del %s 2>/dev/null", ns);
		return;
	}
	for (int send = 1; send >= 0; send--) {
		for (int offload = 1; offload >= 0; offload--) {
			char variant[32];
			snprintf(variant, sizeof(variant), "%s-offload-%s", send ? "send" : "recv",
			         offload ? "on" : "off");
			double g[9], c[9], ops[9];
			int ok = 1;
			for (int r = 0; r < o->reps && ok; r++) {
				struct tap_out out;
				ok = tap_once(ns, offload, send, o->tap_bytes, &out) == 0;
				if (!ok)
					break;
				double gb = (double)o->tap_bytes / 1e9;
				g[r] = (double)out.bytes * 8 / (double)out.wall_ns;
				c[r] = (double)out.cpu_ns / 1e9 / gb;
				ops[r] = (double)out.device_ops / gb;
				bench_log("synack tap %s: %.2f Gbit/s, %.3f s CPU per GB, %.0f "
				          "device reads and writes per GB",
				          variant, g[r], c[r], ops[r]);
			}
			if (!ok) {
				res_skip("tap", "synack", variant, "gbit_per_s",
				         "transfer failed or was not byte-exact");
				continue;
			}
			res_add_note(
			    "tap", "synack", variant, "gbit_per_s", bench_median(g, o->reps),
			    "synack on TAP %s the kernel, MTU 1500 (MSS 1460 on the wire), "
			    "offloads (csum_offload, gro, tso) %s; CPU of synack's process",
			    send ? "sending to" : "receiving from", offload ? "on" : "off");
			res_add("tap", "synack", variant, "cpu_s_per_gb", bench_median(c, o->reps));
			res_add("tap", "synack", variant, "device_ops_per_gb",
			        bench_median(ops, o->reps));
		}
	}
	bench_sh("ip netns del %s", ns);
}

void bench_tap(const struct bench_opts *o)
{
	if (geteuid() != 0) {
		res_skip("tap", "synack", "send-offload-on", "gbit_per_s",
		         "needs root (a TAP device in a network namespace)");
		return;
	}
	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (unsigned char)(i % TAP_PERIOD);
	if (o->run_synack)
		tap_synack(o);
	if (o->run_linux)
		bench_bulk_linux(o, "tap", o->tap_bytes);
}
