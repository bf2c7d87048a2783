/*
 * The threads workload (issue 16 item 3): `synack serve --threads N` as an
 * embedder builds it, one stack per queue of a multi-queue TAP device, each
 * on its own thread (synack_link_open_queues, synack_run_group), against
 * many kernel clients in a namespace this program creates:
 *
 *     ns T: the kernel 10.205.0.1/24 --- tap st0 (N queues) --- synack 10.205.0.2
 *
 *   conns: THR_CLIENTS kernel client processes, each opening connections
 *          one after the other for the run's duration: connect, send the
 *          request ("64\n": the bytes wanted), read the 64-byte answer to
 *          the end (synack closes first), close; connections per second;
 *   bulk:  THR_FLOWS kernel clients at once, each asking for total/FLOWS
 *          bytes; Gbit/s of all flows from the first connect to the last
 *          end of stream.
 * For N = 1 and 2 threads (1 is one queue of the same device, so the two
 * differ only by the threads).  CPU is synack's process (all its threads);
 * the clients are the kernel's, in their own processes, and share the
 * machine's cores with synack: on a 2-core machine the kernel's side of
 * the TAP device and the clients are as busy as synack.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "synack/link.h"
#include "synack/run.h"
#include "synack/synack.h"

#define THR_KERNEL 0x0acd0001u /* 10.205.0.1 */
#define THR_SYNACK 0x0acd0002u /* 10.205.0.2 */
#define THR_PORT 80
#define THR_CLIENTS 4
#define THR_FLOWS 4
#define THR_MAX 2
#define THR_ANSWER 64
#define THR_CHUNK (64u << 10)

static unsigned char zeros[THR_CHUNK];

/* ------------------------------------------------------------------ */
/* synack: one thread per queue.                                       */

struct conn {
	int active;
	int asked; /* the request was read: left is what is owed */
	uint64_t left;
	char req[24];
	size_t reqlen;
};

struct server {
	struct synack_run_group **g;
	int listener;
	struct conn *c; /* by socket number */
	size_t cap;
};

struct fleet {
	struct synack_run_group *g;
	struct server sv[THR_MAX];
};

static struct conn *conn_at(struct server *sv, int s)
{
	if ((size_t)s >= sv->cap) {
		size_t cap = sv->cap ? sv->cap : 1024;
		while (cap <= (size_t)s)
			cap *= 2;
		struct conn *v = realloc(sv->c, cap * sizeof(*v));
		if (!v)
			return NULL;
		memset(v + sv->cap, 0, (cap - sv->cap) * sizeof(*v));
		sv->c = v;
		sv->cap = cap;
	}
	return &sv->c[s];
}

/* Reads the request, then sends what is owed as room allows; closes
 * (FIN after the data) once all is queued. */
static void conn_pump(struct synack_stack *st, struct server *sv, int s)
{
	struct conn *c = (size_t)s < sv->cap ? &sv->c[s] : NULL;
	if (!c || !c->active)
		return;
	while (!c->asked) {
		ssize_t n =
		    synack_recv(st, s, c->req + c->reqlen, sizeof(c->req) - 1 - c->reqlen, 0);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			c->active = 0;
			synack_close(st, s);
			return;
		}
		c->reqlen += (size_t)n;
		c->req[c->reqlen] = 0;
		if (strchr(c->req, '\n')) {
			c->asked = 1;
			c->left = strtoull(c->req, NULL, 10);
		} else if (c->reqlen == sizeof(c->req) - 1) {
			c->active = 0;
			synack_close(st, s);
			return;
		}
	}
	while (c->left > 0) {
		ssize_t n =
		    synack_send(st, s, zeros, c->left < THR_CHUNK ? (size_t)c->left : THR_CHUNK);
		if (n <= 0)
			return;
		c->left -= (uint64_t)n;
	}
	c->active = 0;
	synack_close(st, s);
}

static int server_thread(void *ctx, unsigned index, struct synack_run *r)
{
	struct fleet *f = ctx;
	struct server *sv = &f->sv[index];
	struct synack_stack *st = synack_run_stack(r);
	for (;;) {
		int rc = synack_run_once(r, SYNACK_NEVER);
		if (rc == -EINTR && synack_run_group_stops(f->g) > 0)
			return 0;
		if (rc < 0 && rc != -EINTR)
			return 1;
		struct synack_event ev;
		while (synack_event_next(st, &ev)) {
			if (ev.socket != sv->listener) {
				conn_pump(st, sv, ev.socket);
				continue;
			}
			int s;
			while ((s = synack_accept(st, sv->listener, NULL)) >= 0) {
				struct conn *c = conn_at(sv, s);
				if (!c) {
					synack_close(st, s);
					continue;
				}
				*c = (struct conn){.active = 1};
				conn_pump(st, sv, s);
			}
		}
	}
}

/* The synack process: n queues, stacks and threads; "r" on ready once
 * listening; then "s" on ctl starts the CPU count, "q" stops and the CPU
 * (ns) goes to res. */
static void synack_child(const char *ns, unsigned n, int ready_fd, int ctl_fd, int res_fd)
{
	if (bench_join_netns(ns) < 0)
		_exit(1);
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = THR_SYNACK;
	struct synack_link *links[THR_MAX];
	char err[256];
	if (synack_link_open_queues(links, n, SYNACK_LINK_TAP, "st0", &lc, err, sizeof(err)) < 0) {
		fprintf(stderr, "synack-bench: threads: %s\n", err);
		_exit(1);
	}
	static struct fleet f;
	struct synack_stack *st[THR_MAX];
	struct synack_run *runs[THR_MAX];
	for (unsigned k = 0; k < n; k++) {
		struct synack_config cfg;
		synack_config_default(&cfg);
		cfg.addr = THR_SYNACK;
		cfg.mtu = synack_link_mtu(links[k]);
		if (getrandom(cfg.secret, sizeof(cfg.secret), 0) != sizeof(cfg.secret))
			_exit(1);
		st[k] = synack_stack_new(&cfg, NULL);
		runs[k] = st[k] ? synack_run_new(st[k], links[k], NULL) : NULL;
		if (!runs[k])
			_exit(1);
		f.sv[k].listener = synack_run_listen(runs[k], THR_PORT, 4096);
		if (f.sv[k].listener < 0)
			_exit(1);
	}
	if (synack_run_group_start(&f.g, runs, n, server_thread, &f) != 0)
		_exit(1);
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	uint64_t c0 = bench_cpu_ns(), cpu = 0;
	char ch;
	while (read(ctl_fd, &ch, 1) == 1) {
		if (ch == 's')
			c0 = bench_cpu_ns();
		if (ch == 'q')
			break;
	}
	cpu = bench_cpu_ns() - c0;
	synack_run_group_stop(f.g);
	synack_run_group_join(f.g, NULL);
	for (unsigned k = 0; k < n; k++) {
		synack_run_free(runs[k]);
		synack_stack_free(st[k]);
		synack_link_close(links[k]);
		free(f.sv[k].c);
	}
	_exit(write(res_fd, &cpu, sizeof(cpu)) == (ssize_t)sizeof(cpu) ? 0 : 1);
}

/* ------------------------------------------------------------------ */
/* The kernel's clients.                                               */

/* One connection asking for want bytes, read to the end: the bytes, or
 * -1. */
static int64_t one_request(uint64_t want)
{
	static unsigned char buf[THR_CHUNK];
	struct timeval tv = {30, 0};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons(THR_PORT),
	                         .sin_addr.s_addr = htonl(THR_SYNACK)};
	char req[32];
	int len = snprintf(req, sizeof(req), "%llu\n", (unsigned long long)want);
	int64_t got = -1;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    send(s, req, (size_t)len, 0) == len) {
		ssize_t n;
		got = 0;
		while ((n = recv(s, buf, sizeof(buf), 0)) > 0)
			got += n;
		if (n < 0)
			got = -1;
	}
	close(s);
	return got;
}

/* A client process: conns (bulk 0) for seconds, or one request of bulk
 * bytes; writes {count, ok} to res_fd. */
static void client_child(const char *ns, double seconds, uint64_t bulk, int go_fd, int res_fd)
{
	uint64_t out[2] = {0, 1};
	char ch;
	if (bench_join_netns(ns) < 0 || read(go_fd, &ch, 1) != 1)
		_exit(1);
	if (bulk) {
		out[0] = (uint64_t)one_request(bulk);
		out[1] = out[0] == bulk;
	} else {
		uint64_t end = bench_wall_ns() + (uint64_t)(seconds * 1e9);
		while (bench_wall_ns() < end) {
			if (one_request(THR_ANSWER) != THR_ANSWER) {
				out[1] = 0;
				break;
			}
			out[0]++;
		}
	}
	_exit(write(res_fd, out, sizeof(out)) == (ssize_t)sizeof(out) ? 0 : 1);
}

/* One run with n threads: clients processes each doing conns (bulk 0) or
 * one bulk request; 0 with the total (connections or bytes), the wall
 * time and synack's CPU, or -1. */
static int threads_once(const char *ns, unsigned n, int clients, double seconds, uint64_t bulk,
                        uint64_t *total, uint64_t *wall_ns, uint64_t *cpu_ns)
{
	int ready[2], ctl[2], rs[2], go[2], rc[2];
	if (pipe(ready) < 0 || pipe(ctl) < 0 || pipe(rs) < 0 || pipe(go) < 0 || pipe(rc) < 0)
		return -1;
	fflush(NULL);
	pid_t syn = fork();
	if (syn == 0) {
		close(ctl[1]);
		synack_child(ns, n, ready[1], ctl[0], rs[1]);
	}
	close(ready[1]);
	close(ctl[0]);
	close(rs[1]);
	char ch;
	int ok = syn > 0 && read(ready[0], &ch, 1) == 1;
	pid_t kids[THR_CLIENTS > THR_FLOWS ? THR_CLIENTS : THR_FLOWS];
	int nk = 0;
	for (int i = 0; ok && i < clients; i++) {
		pid_t p = fork();
		if (p == 0)
			client_child(ns, seconds, bulk, go[0], rc[1]);
		if (p > 0)
			kids[nk++] = p;
	}
	close(go[0]);
	close(rc[1]);
	ok = ok && nk == clients && write(ctl[1], "s", 1) == 1;
	uint64_t w0 = bench_wall_ns();
	for (int i = 0; ok && i < clients; i++)
		ok = write(go[1], "g", 1) == 1;
	*total = 0;
	for (int i = 0; i < nk; i++) {
		uint64_t out[2];
		if (read(rc[0], out, sizeof(out)) != (ssize_t)sizeof(out) || !out[1])
			ok = 0;
		else
			*total += out[0];
	}
	*wall_ns = bench_wall_ns() - w0;
	if (write(ctl[1], "q", 1) != 1 || read(rs[0], cpu_ns, sizeof(*cpu_ns)) != sizeof(*cpu_ns))
		ok = 0;
	int status = 1;
	for (int i = 0; i < nk; i++)
		waitpid(kids[i], NULL, 0);
	if (syn > 0) {
		if (!ok)
			kill(syn, SIGKILL);
		waitpid(syn, &status, 0);
	}
	close(ready[0]);
	close(ctl[1]);
	close(rs[0]);
	close(go[1]);
	close(rc[0]);
	return ok && status == 0 ? 0 : -1;
}

void bench_threads(const struct bench_opts *o)
{
	if (geteuid() != 0) {
		res_skip("threads", "synack", "conns-1t", "conns_per_s",
		         "needs root (a multi-queue TAP device in a network namespace)");
		return;
	}
	char ns[48];
	snprintf(ns, sizeof(ns), "sbthr-%d", (int)getpid());
	if (bench_sh("ip netns add %s && ip -n %s link set lo up && "
	             "ip -n %s tuntap add dev st0 mode tap multi_queue && "
	             "ip -n %s addr add 10.205.0.1/24 dev st0 && ip -n %s link set st0 up",
	             ns, ns, ns, ns, ns) != 0) {
		res_skip("threads", "synack", "conns-1t", "conns_per_s",
		         "could not set up the multi-queue TAP device");
		bench_sh("ip netns del %s 2>/dev/null", ns);
		return;
	}
	double seconds = o->smoke ? 0.5 : o->quick ? 2 : 5;
	uint64_t bulk = o->tap_bytes / THR_FLOWS;
	for (unsigned n = 1; n <= THR_MAX; n++) {
		char variant[32];
		double cps[9], cpc[9], g[9], cpg[9];
		int ok = 1;
		snprintf(variant, sizeof(variant), "conns-%ut", n);
		for (int r = 0; r < o->reps && ok; r++) {
			uint64_t total, wall, cpu;
			ok = threads_once(ns, n, THR_CLIENTS, seconds, 0, &total, &wall, &cpu) ==
			         0 &&
			     total > 0;
			if (!ok)
				break;
			cps[r] = (double)total / ((double)wall / 1e9);
			cpc[r] = (double)cpu / 1e3 / (double)total;
			bench_log("synack threads %s: %llu connections in %.2f s: %.0f/s, %.1f us "
			          "CPU each",
			          variant, (unsigned long long)total, (double)wall / 1e9, cps[r],
			          cpc[r]);
		}
		if (ok) {
			res_add_note("threads", "synack", variant, "conns_per_s",
			             bench_median(cps, o->reps),
			             "%u stack%s on %u queue%s of one TAP device, %d kernel client "
			             "processes opening connections one after the other (64-byte "
			             "answer each); CPU of synack's process",
			             n, n == 1 ? "" : "s", n, n == 1 ? "" : "s", THR_CLIENTS);
			res_add("threads", "synack", variant, "cpu_us_per_conn",
			        bench_median(cpc, o->reps));
		} else {
			res_skip("threads", "synack", variant, "conns_per_s",
			         "a connection failed");
		}
		snprintf(variant, sizeof(variant), "bulk-%dflows-%ut", THR_FLOWS, n);
		ok = 1;
		for (int r = 0; r < o->reps && ok; r++) {
			uint64_t total, wall, cpu;
			ok = threads_once(ns, n, THR_FLOWS, 0, bulk, &total, &wall, &cpu) == 0 &&
			     total == bulk * THR_FLOWS;
			if (!ok)
				break;
			g[r] = (double)total * 8 / (double)wall;
			cpg[r] = (double)cpu / 1e9 / ((double)total / 1e9);
			bench_log("synack threads %s: %.2f Gbit/s, %.3f s CPU per GB", variant,
			          g[r], cpg[r]);
		}
		if (ok) {
			res_add_note(
			    "threads", "synack", variant, "gbit_per_s", bench_median(g, o->reps),
			    "%u stack%s, %d kernel clients at once each receiving %llu MiB "
			    "from synack, offloads on",
			    n, n == 1 ? "" : "s", THR_FLOWS, (unsigned long long)(bulk >> 20));
			res_add("threads", "synack", variant, "cpu_s_per_gb",
			        bench_median(cpg, o->reps));
		} else {
			res_skip("threads", "synack", variant, "gbit_per_s",
			         "a transfer failed or was short");
		}
	}
	bench_sh("ip netns del %s", ns);
}
