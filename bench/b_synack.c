/*
 * synack's side of the benchmark: stacks in one process over the simulated
 * network (include/synack/sim.h) with no impairment and no delay, and with
 * checksum offload as Linux's veth (synack_sim_set_csum_trust).
 *
 * One server stack (10.0.0.1) and one or more client stacks (10.1.x.y).
 * Client stacks hold at most CLIENT_CONNS connections each: one address's
 * ephemeral ports (1024-65535) cannot carry 100,000 connections to one
 * server port, and many clients are what a server meets.  The server side,
 * where the figures of the memory and scale workloads come from, is always
 * one stack.
 *
 * Time: the lifecycle and bulk runs give the stacks real elapsed time (so
 * ISNs, TIME_WAIT and delayed ACKs behave as on the peers); the memory and
 * scale runs and the callgrind workloads use a virtual clock moving 1 us per
 * pump, which makes them repeatable and keeps timers from firing mid-count.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "synack/sim.h"
#include "synack/synack.h"

#define CLIENT_CONNS 1000
#define SERVER_ADDR 0x0a000001u
#define MAX_LISTEN 16
#define REQ_LEN 64

struct world {
	struct synack_sim *sim;
	struct synack_stack *srv;
	int srv_host;
	int nlisten;
	int lsock[MAX_LISTEN];
	uint16_t lport[MAX_LISTEN];
	struct synack_stack **cli;
	int ncli;
	int virtual_clock;
	uint64_t vnow;
	uint64_t t0;
	unsigned rr; /* server port round robin */
	int error;   /* first unexpected error, 0 if none */
	char errwhere[64];
};

static void world_error(struct world *w, int err, const char *where)
{
	if (!w->error) {
		w->error = err;
		snprintf(w->errwhere, sizeof(w->errwhere), "%s", where);
	}
}

static uint64_t world_time(struct world *w)
{
	if (w->virtual_clock)
		return ++w->vnow;
	return (bench_wall_ns() - w->t0) / 1000u;
}

static void pump(struct world *w)
{
	synack_sim_run_until(w->sim, world_time(w));
}

static void base_config(struct synack_config *cfg, uint32_t addr)
{
	synack_config_default(cfg);
	cfg->addr = addr;
	for (int i = 0; i < 16; i++)
		cfg->secret[i] = (uint8_t)(0x5a + i * 7);
	cfg->ephemeral_port_min = 1024;
	cfg->ephemeral_port_max = 65535;
}

static void world_free(struct world *w)
{
	if (w->sim)
		synack_sim_free(w->sim);
	if (w->srv)
		synack_stack_free(w->srv);
	for (int i = 0; i < w->ncli; i++)
		if (w->cli[i])
			synack_stack_free(w->cli[i]);
	free(w->cli);
	memset(w, 0, sizeof(*w));
}

/* A server with nlisten listeners and ncli client stacks.  client_trace 0
 * turns the clients' trace ring off (the scale workload's 1,000 clients). */
static int world_new(struct world *w, int ncli, int nlisten, int virtual_clock, int client_trace)
{
	struct synack_config cfg;
	int err = 0;
	memset(w, 0, sizeof(*w));
	w->virtual_clock = virtual_clock;
	w->t0 = bench_wall_ns();
	w->sim = synack_sim_new(1);
	/* The link as the Linux veth synack is compared with: with checksum
	 * offload, a segment that went from memory to memory is not summed
	 * again on receipt (synack_sim_set_csum_trust).  The senders still
	 * sum theirs. */
	if (w->sim)
		(void)synack_sim_set_csum_trust(w->sim, 1);
	base_config(&cfg, SERVER_ADDR);
	cfg.somaxconn = 1u << 20;
	/* The memory workload holds 100,000 pending SYNs on one listener. */
	cfg.max_syn_backlog = 1u << 20;
	/* The lifecycle at 100,000 in flight closes them all in one pass. */
	cfg.max_orphans = 1u << 20;
	w->srv = synack_stack_new(&cfg, &err);
	if (!w->sim || !w->srv)
		return -ENOMEM;
	w->srv_host = synack_sim_add_host(w->sim, w->srv, "server");
	w->cli = calloc((size_t)ncli, sizeof(*w->cli));
	if (!w->cli)
		return -ENOMEM;
	w->ncli = ncli;
	for (int i = 0; i < ncli; i++) {
		char name[32];
		base_config(&cfg, 0x0a010000u + (uint32_t)i + 1);
		if (!client_trace)
			cfg.trace_capacity = 0;
		w->cli[i] = synack_stack_new(&cfg, &err);
		if (!w->cli[i])
			return err;
		snprintf(name, sizeof(name), "client%d", i);
		if (synack_sim_add_host(w->sim, w->cli[i], name) < 0)
			return -ENOMEM;
	}
	w->nlisten = nlisten;
	for (int i = 0; i < nlisten; i++) {
		struct synack_endpoint ep = {.addr = SERVER_ADDR, .port = (uint16_t)(8000 + i)};
		int s = synack_socket(w->srv);
		if (s < 0)
			return s;
		if ((err = synack_bind(w->srv, s, &ep)) < 0 ||
		    (err = synack_listen(w->srv, s, 1 << 20)) < 0)
			return err;
		w->lsock[i] = s;
		w->lport[i] = ep.port;
	}
	return 0;
}

static int is_listener(const struct world *w, int s)
{
	for (int i = 0; i < w->nlisten; i++)
		if (w->lsock[i] == s)
			return 1;
	return 0;
}

/* Starts a connection from client c; returns the socket or a negative errno. */
static int world_connect(struct world *w, int c)
{
	struct synack_endpoint peer = {.addr = SERVER_ADDR,
	                               .port = w->lport[w->rr++ % (unsigned)w->nlisten]};
	int s = synack_socket(w->cli[c]);
	if (s < 0)
		return s;
	int err = synack_connect(w->cli[c], s, &peer);
	if (err != -EINPROGRESS && err != 0) {
		synack_close(w->cli[c], s);
		return err;
	}
	return s;
}

/* The echo server: reads what arrived, writes it back, closes on EOF. */
static void srv_serve(struct world *w, int s, uint64_t *served)
{
	uint8_t buf[2048];
	for (;;) {
		ssize_t n = synack_recv(w->srv, s, buf, sizeof(buf), 0);
		if (n > 0) {
			ssize_t m = synack_send(w->srv, s, buf, (size_t)n);
			if (m != n)
				world_error(w, m < 0 ? (int)m : -EAGAIN, "server send");
			if (served)
				(*served)++;
			continue;
		}
		if (n == -EAGAIN)
			return;
		synack_close(w->srv, s);
		return;
	}
}

/* The server's answers leave as it writes them, every DRAIN_WEIGHT
 * datagrams (the run loop's RUN_WEIGHT, src/run/loop.c): with 100,000
 * connections in flight one pass over the events writes 100,000 of them,
 * and the stack's outbox holds outbox_max (4,096). */
#define DRAIN_WEIGHT 64

static void srv_events(struct world *w, uint64_t *served)
{
	struct synack_event ev;
	while (synack_event_next(w->srv, &ev)) {
		if (synack_output_pending(w->srv) >= DRAIN_WEIGHT)
			synack_sim_flush(w->sim);
		if (is_listener(w, ev.socket)) {
			int c;
			while ((c = synack_accept(w->srv, ev.socket, NULL)) >= 0)
				srv_serve(w, c, served);
		} else {
			srv_serve(w, ev.socket, served);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Lifecycle: connect, 64-byte request, echo, close.                   */

enum { SLOT_IDLE, SLOT_CONNECTING, SLOT_SENT };

struct slot {
	int cli, sock, state, got;
};

struct lc {
	struct world w;
	struct slot *slots;
	int **map; /* per client: socket -> slot, -1 */
	int *mapcap;
	uint64_t done, failed;
	int reopen;
};

static int map_set(struct lc *l, int c, int s, int slot)
{
	if (s >= l->mapcap[c]) {
		int cap = l->mapcap[c] ? l->mapcap[c] : 64;
		while (cap <= s)
			cap *= 2;
		int *m = realloc(l->map[c], (size_t)cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		for (int i = l->mapcap[c]; i < cap; i++)
			m[i] = -1;
		l->map[c] = m;
		l->mapcap[c] = cap;
	}
	l->map[c][s] = slot;
	return 0;
}

static void slot_open(struct lc *l, int i)
{
	struct slot *sl = &l->slots[i];
	int s = world_connect(&l->w, sl->cli);
	if (s < 0) {
		world_error(&l->w, s, "client connect");
		sl->state = SLOT_IDLE;
		return;
	}
	if (map_set(l, sl->cli, s, i) < 0) {
		world_error(&l->w, -ENOMEM, "slot map");
		return;
	}
	sl->sock = s;
	sl->state = SLOT_CONNECTING;
	sl->got = 0;
}

static void slot_finish(struct lc *l, int i, int ok)
{
	struct slot *sl = &l->slots[i];
	synack_close(l->w.cli[sl->cli], sl->sock);
	l->map[sl->cli][sl->sock] = -1;
	sl->state = SLOT_IDLE;
	if (ok)
		l->done++;
	else
		l->failed++;
	if (l->reopen)
		slot_open(l, i);
}

static void slot_event(struct lc *l, int i, uint32_t events)
{
	struct slot *sl = &l->slots[i];
	struct synack_stack *st = l->w.cli[sl->cli];
	static const uint8_t req[REQ_LEN] =
	    "synack-bench lifecycle request, 64 bytes long, echoed back!!!!";
	if (sl->state == SLOT_CONNECTING) {
		if (events & SYNACK_POLLOUT) {
			ssize_t n = synack_send(st, sl->sock, req, REQ_LEN);
			if (n != REQ_LEN) {
				world_error(&l->w, n < 0 ? (int)n : -EAGAIN, "client send");
				slot_finish(l, i, 0);
				return;
			}
			sl->state = SLOT_SENT;
		} else if (events & (SYNACK_POLLERR | SYNACK_POLLHUP)) {
			world_error(&l->w, synack_socket_error(st, sl->sock),
			            "client connect result");
			slot_finish(l, i, 0);
		}
		return;
	}
	if (sl->state != SLOT_SENT)
		return;
	uint8_t buf[REQ_LEN];
	for (;;) {
		ssize_t n = synack_recv(st, sl->sock, buf, sizeof(buf), 0);
		if (n > 0) {
			sl->got += (int)n;
			if (sl->got >= REQ_LEN) {
				slot_finish(l, i, 1);
				return;
			}
			continue;
		}
		if (n == -EAGAIN)
			return;
		world_error(&l->w, n == 0 ? -ECONNRESET : (int)n, "client recv");
		slot_finish(l, i, 0);
		return;
	}
}

static void cli_events(struct lc *l)
{
	struct synack_event ev;
	for (int c = 0; c < l->w.ncli; c++) {
		while (synack_event_next(l->w.cli[c], &ev)) {
			if (ev.socket < l->mapcap[c] && l->map[c][ev.socket] >= 0)
				slot_event(l, l->map[c][ev.socket], ev.events);
		}
	}
}

static void lc_free(struct lc *l)
{
	for (int c = 0; c < l->w.ncli; c++)
		free(l->map[c]);
	free(l->map);
	free(l->mapcap);
	free(l->slots);
	world_free(&l->w);
}

/*
 * Runs lifecycles with `inflight` in flight until `count` have completed
 * (count > 0) or, with count 0, until budget_s of wall time has passed and
 * every slot completed at least once on average.  Fills the wall and CPU
 * time of the measured part.  Returns the number completed, or -1.
 */
static int64_t lifecycle_run(uint32_t inflight, uint64_t count, double budget_s, int virtual_clock,
                             uint64_t *wall_ns, uint64_t *cpu_ns, char *err, size_t errlen)
{
	struct lc l;
	memset(&l, 0, sizeof(l));
	int ncli = (int)((inflight + CLIENT_CONNS - 1) / CLIENT_CONNS);
	if (world_new(&l.w, ncli, 8, virtual_clock, 1) < 0) {
		snprintf(err, errlen, "could not build the stacks");
		world_free(&l.w);
		return -1;
	}
	l.slots = calloc(inflight, sizeof(*l.slots));
	l.map = calloc((size_t)ncli, sizeof(*l.map));
	l.mapcap = calloc((size_t)ncli, sizeof(*l.mapcap));
	if (!l.slots || !l.map || !l.mapcap) {
		lc_free(&l);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	l.reopen = 1;
	uint64_t w0 = bench_wall_ns(), c0 = bench_cpu_ns();
	uint64_t limit_ns = (uint64_t)(budget_s * 1e9);
	for (uint32_t i = 0; i < inflight; i++) {
		l.slots[i].cli = (int)(i % (uint32_t)ncli);
		slot_open(&l, (int)i);
	}
	/* Timed runs first complete one lifecycle per connection in flight,
	 * unmeasured: the pools, tables and pages a stack grows to once are
	 * then in place, and what is measured is connections kept in flight
	 * (at 100,000 the first round also faults in ~1 GB of fresh pages). */
	uint64_t iter = 0, warm = 0;
	int warming = count == 0;
	for (;;) {
		pump(&l.w);
		srv_events(&l.w, NULL);
		cli_events(&l);
		if (l.w.error)
			break;
		if (count) {
			if (l.done >= count)
				break;
		} else if ((++iter & 15) == 0 || inflight > 1000) {
			uint64_t el = bench_wall_ns() - w0;
			if (warming && (l.done >= inflight || el >= 20 * limit_ns)) {
				warming = 0;
				warm = l.done;
				w0 = bench_wall_ns();
				c0 = bench_cpu_ns();
				continue;
			}
			if ((el >= limit_ns && l.done - warm >= inflight) || el >= 20 * limit_ns)
				break;
		}
	}
	*wall_ns = bench_wall_ns() - w0;
	*cpu_ns = bench_cpu_ns() - c0;
	l.done -= warm;
	int64_t done = (int64_t)l.done;
	if (l.w.error) {
		snprintf(err, errlen, "%s: %s after %llu lifecycles", l.w.errwhere,
		         synack_strerror(l.w.error), (unsigned long long)l.done);
		done = -1;
	} else if (l.failed) {
		snprintf(err, errlen, "%llu lifecycles failed", (unsigned long long)l.failed);
		done = -1;
	}
	lc_free(&l);
	return done;
}

static void bench_lifecycle(const struct bench_opts *o)
{
	for (int k = 0; k < o->ninflight; k++) {
		uint32_t inflight = o->inflight[k];
		char variant[32], err[160] = "";
		double rate[9], cpu[9];
		int reps = o->reps, ok = 1;
		snprintf(variant, sizeof(variant), "c%u", inflight);
		for (int r = 0; r < reps; r++) {
			uint64_t wall, cpun;
			int64_t n = lifecycle_run(inflight, 0, o->budget_s, 0, &wall, &cpun, err,
			                          sizeof(err));
			if (n <= 0) {
				ok = 0;
				break;
			}
			rate[r] = (double)n / ((double)wall / 1e9);
			cpu[r] = (double)cpun / 1e3 / (double)n;
			bench_log("synack lifecycle %s: %.0f/s, %.3f us CPU each", variant, rate[r],
			          cpu[r]);
		}
		if (!ok) {
			res_skip("lifecycle", "synack", variant, "lifecycles_per_s", "failed: %s",
			         err);
			continue;
		}
		res_add("lifecycle", "synack", variant, "lifecycles_per_s",
		        bench_median(rate, reps));
		res_add("lifecycle", "synack", variant, "cpu_us_per_lifecycle",
		        bench_median(cpu, reps));
	}
}

/* ------------------------------------------------------------------ */
/* Bulk: one connection, MSS 1460, as fast as it goes.                 */

static int establish_one(struct world *w, int *cs, int *ss)
{
	*cs = world_connect(w, 0);
	if (*cs < 0)
		return *cs;
	*ss = -1;
	for (int i = 0; i < 100 && *ss < 0; i++) {
		pump(w);
		*ss = synack_accept(w->srv, w->lsock[0], NULL);
	}
	return *ss < 0 ? -ETIMEDOUT : 0;
}

static int bulk_run(uint64_t total, int virtual_clock, uint64_t *wall_ns, uint64_t *cpu_ns)
{
	struct world w;
	int cs, ss, err;
	static uint8_t buf[1 << 16];
	if ((err = world_new(&w, 1, 1, virtual_clock, 1)) < 0 ||
	    (err = establish_one(&w, &cs, &ss)) < 0) {
		world_free(&w);
		return err;
	}
	uint64_t sent = 0, got = 0, w0 = bench_wall_ns(), c0 = bench_cpu_ns();
	while (got < total) {
		while (sent < total) {
			size_t want =
			    total - sent < sizeof(buf) ? (size_t)(total - sent) : sizeof(buf);
			ssize_t n = synack_send(w.cli[0], cs, buf, want);
			if (n <= 0)
				break;
			sent += (uint64_t)n;
		}
		pump(&w);
		for (;;) {
			ssize_t n = synack_recv(w.srv, ss, buf, sizeof(buf), 0);
			if (n <= 0)
				break;
			got += (uint64_t)n;
		}
		pump(&w);
	}
	*wall_ns = bench_wall_ns() - w0;
	*cpu_ns = bench_cpu_ns() - c0;
	world_free(&w);
	return 0;
}

static void bench_bulk(const struct bench_opts *o)
{
	double gbit[9], cpu[9];
	for (int r = 0; r < o->reps; r++) {
		uint64_t wall, cpun;
		int err = bulk_run(o->bulk_bytes_synack, 0, &wall, &cpun);
		if (err < 0) {
			res_skip("bulk", "synack", "mss1460", "gbit_per_s", "failed: %s",
			         synack_strerror(err));
			return;
		}
		gbit[r] = (double)o->bulk_bytes_synack * 8 / (double)wall;
		cpu[r] = ((double)cpun / 1e9) / ((double)o->bulk_bytes_synack / 1e9);
		bench_log("synack bulk: %.2f Gbit/s, %.3f s CPU per GB", gbit[r], cpu[r]);
	}
	res_add("bulk", "synack", "mss1460", "gbit_per_s", bench_median(gbit, o->reps));
	res_add("bulk", "synack", "mss1460", "cpu_s_per_gb", bench_median(cpu, o->reps));
}

/* ------------------------------------------------------------------ */
/* Establishing many connections (memory and scale).                   */

struct many {
	struct world w;
	int *csock; /* client socket of connection i (client i / CLIENT_CONNS) */
	int *ssock; /* server socket, in accept order (not matched to csock) */
	uint32_t n, accepted;
};

static void accept_all(struct many *m)
{
	struct synack_event ev;
	while (synack_event_next(m->w.srv, &ev)) {
		if (!is_listener(&m->w, ev.socket))
			continue;
		int c;
		while ((c = synack_accept(m->w.srv, ev.socket, NULL)) >= 0) {
			if (m->accepted < m->n)
				m->ssock[m->accepted] = c;
			m->accepted++;
		}
	}
}

static void drain_client_events(struct world *w)
{
	struct synack_event ev;
	for (int c = 0; c < w->ncli; c++)
		while (synack_event_next(w->cli[c], &ev))
			;
}

/* Opens n connections, CLIENT_CONNS per client stack, and accepts them. */
static int many_open(struct many *m, uint32_t n, int client_trace)
{
	memset(m, 0, sizeof(*m));
	int ncli = (int)((n + CLIENT_CONNS - 1) / CLIENT_CONNS);
	int err = world_new(&m->w, ncli, 1, 1, client_trace);
	if (err < 0)
		return err;
	m->n = n;
	m->csock = calloc(n, sizeof(int));
	m->ssock = calloc(n, sizeof(int));
	if (!m->csock || !m->ssock)
		return -ENOMEM;
	return 0;
}

static int many_connect(struct many *m)
{
	for (uint32_t i = 0; i < m->n; i++) {
		int s = world_connect(&m->w, (int)(i / CLIENT_CONNS));
		if (s < 0)
			return s;
		m->csock[i] = s;
		if ((i + 1) % 2048 == 0 || i + 1 == m->n) {
			pump(&m->w);
			accept_all(m);
			drain_client_events(&m->w);
		}
	}
	for (int i = 0; i < 100 && m->accepted < m->n; i++) {
		pump(&m->w);
		accept_all(m);
	}
	drain_client_events(&m->w);
	return m->accepted == m->n ? 0 : -ETIMEDOUT;
}

static void many_free(struct many *m)
{
	free(m->csock);
	free(m->ssock);
	world_free(&m->w);
}

/* The connections lie idle for three of the stacks' pool periods
 * (packet_pool_trim_ms, default 1 s) on the virtual clock: timers due run,
 * and each stack is entered once a period, as a running stack is by its
 * traffic and timers, so the datagrams it kept for a burst long past go
 * back (an idle endpoint, not one caught mid-burst). */
static void world_idle(struct world *w)
{
	for (int k = 0; k < 3; k++) {
		w->vnow += 1000 * 1000;
		pump(w);
		synack_advance(w->srv, w->vnow);
		for (int c = 0; c < w->ncli; c++)
			synack_advance(w->cli[c], w->vnow);
	}
}

struct memsnap {
	uint64_t heap, rss;
	struct bench_mem srv, cli; /* cli: summed over client stacks */
	int have_acct;
};

static void snap(struct world *w, struct memsnap *s)
{
	memset(s, 0, sizeof(*s));
	bench_trim();
	s->heap = bench_heap();
	s->rss = bench_rss();
	bench_heap_shape("snapshot");
	s->have_acct = bench_synack_memory(w->srv, &s->srv) == 0;
	for (int c = 0; s->have_acct && c < w->ncli; c++) {
		struct bench_mem x;
		bench_synack_memory(w->cli[c], &x);
		s->cli.total += x.total;
		s->cli.tcbs += x.tcbs;
		s->cli.time_wait += x.time_wait;
		s->cli.syn_pending += x.syn_pending;
		s->cli.buffers += x.buffers;
		s->cli.other += x.other;
		s->cli.sockets += x.sockets;
		s->cli.packets += x.packets;
	}
}

/* Whether the C library's heap counters see this program's allocations
 * (they do not under AddressSanitizer, which has its own allocator). */
static int heap_visible(void)
{
	static int known, visible;
	if (!known) {
		uint64_t before = bench_heap();
		void *p = malloc(1 << 20);
		visible = p && bench_heap() >= before + (1 << 20);
		free(p);
		known = 1;
	}
	return visible;
}

static void heap_note(const char *bench, const char *variant, const char *metric, double v,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void heap_note(const char *bench, const char *variant, const char *metric, double v,
                      const char *fmt, ...)
{
	char note[240];
	va_list ap;
	if (!heap_visible()) {
		res_skip(bench, "synack", variant, metric,
		         "the C library's heap counters do not see this build's allocator "
		         "(sanitizers)");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	res_add_note(bench, "synack", variant, metric, v, "%s", note);
}

static double per(uint64_t after, uint64_t before, double n)
{
	return after > before ? (double)(after - before) / n : 0.0;
}

/* A SYN from addr:port to the server's first listener, as from the wire. */
static size_t craft_syn(uint8_t *p, uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport,
                        uint32_t seq)
{
	memset(p, 0, 44);
	p[0] = 0x45;
	p[2] = 0;
	p[3] = 44;
	p[8] = 64;
	p[9] = 6;
	for (int i = 0; i < 4; i++) {
		p[12 + i] = (uint8_t)(saddr >> (24 - 8 * i));
		p[16 + i] = (uint8_t)(daddr >> (24 - 8 * i));
	}
	uint8_t *t = p + 20;
	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	for (int i = 0; i < 4; i++)
		t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
	t[12] = 6 << 4; /* 24-byte header: MSS option */
	t[13] = SYNACK_TH_SYN;
	t[14] = 0xff;
	t[15] = 0xff;
	t[20] = 2;
	t[21] = 4;
	t[22] = 1460 >> 8;
	t[23] = 1460 & 0xff;
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	p[10] = (uint8_t)(~sum >> 8);
	p[11] = (uint8_t)~sum;
	sum = 0;
	for (int i = 12; i < 20; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	sum += 6 + 24;
	for (int i = 0; i < 24; i += 2)
		sum += (uint32_t)(t[i] << 8 | t[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	t[16] = (uint8_t)(~sum >> 8);
	t[17] = (uint8_t)~sum;
	return 44;
}

static void bench_memory(const struct bench_opts *o)
{
	uint32_t n = o->mem_conns;
	struct many m;
	struct memsnap s0, s1, s2;
	char variant_note[64];
	snprintf(variant_note, sizeof(variant_note), "%u connections", n);

	/* Established and TIME_WAIT.  The client stacks' trace rings are
	 * off, as in the scale workload: each is a fixed 667 KB per stack,
	 * untouched (not resident) before the connections and filled by
	 * them, which put the 100 clients' rings, 67 MB, in the RSS figure
	 * as 335 B per endpoint (branch memory2). */
	int err = many_open(&m, n, 0);
	if (!err) {
		snap(&m.w, &s0);
		err = many_connect(&m);
	}
	if (err) {
		res_skip("memory", "synack", "heap", "bytes_per_established", "failed: %s",
		         synack_strerror(err));
		many_free(&m);
		return;
	}
	world_idle(&m.w);
	snap(&m.w, &s1);
	/* Per endpoint: both stacks hold one TCB and socket per connection. */
	heap_note("memory", "heap", "bytes_per_established", per(s1.heap, s0.heap, 2.0 * n),
	          "malloc'd bytes in use (mallinfo2), both ends, / (2 x %u)", n);
	res_add_note("memory", "synack", "rss", "bytes_per_established",
	             per(s1.rss, s0.rss, 2.0 * n),
	             "process RSS delta, both ends (the clients' trace rings off), / (2 x %u)", n);
	if (s1.have_acct) {
		res_add_note(
		    "memory", "synack", "accounting", "bytes_per_established",
		    per(s1.srv.total + s1.cli.total, s0.srv.total + s0.cli.total, 2.0 * n),
		    "synack_memory() total of both stacks / (2 x %u); includes the packet "
		    "buffers each stack keeps for reuse (%.0f B per endpoint here)",
		    n,
		    per(s1.srv.packets + s1.cli.packets, s0.srv.packets + s0.cli.packets, 2.0 * n));
		/* What the connections themselves hold: TCBs, sockets and
		 * buffers, without the per-stack pools and tables. */
		uint64_t c1 = s1.srv.tcbs + s1.srv.sockets + s1.srv.buffers + s1.cli.tcbs +
		              s1.cli.sockets + s1.cli.buffers;
		uint64_t c0 = s0.srv.tcbs + s0.srv.sockets + s0.srv.buffers + s0.cli.tcbs +
		              s0.cli.sockets + s0.cli.buffers;
		/* Where the bytes are, per endpoint (stderr, for the profile in
		 * docs/PERFORMANCE.md). */
		double ep = 2.0 * n;
		bench_log("synack memory per established endpoint: tcbs %.1f, sockets %.1f, "
		          "buffers %.1f, packets %.1f, other %.1f (server %.1f, clients %.1f)",
		          per(s1.srv.tcbs + s1.cli.tcbs, s0.srv.tcbs + s0.cli.tcbs, ep),
		          per(s1.srv.sockets + s1.cli.sockets, s0.srv.sockets + s0.cli.sockets, ep),
		          per(s1.srv.buffers + s1.cli.buffers, s0.srv.buffers + s0.cli.buffers, ep),
		          per(s1.srv.packets + s1.cli.packets, s0.srv.packets + s0.cli.packets, ep),
		          per(s1.srv.other + s1.cli.other, s0.srv.other + s0.cli.other, ep),
		          per(s1.srv.other, s0.srv.other, ep), per(s1.cli.other, s0.cli.other, ep));
		res_add_note("memory", "synack", "connection", "bytes_per_established",
		             per(c1, c0, 2.0 * n),
		             "synack_memory() tcbs + sockets + buffers of both stacks / (2 x %u): "
		             "the connection without per-stack pools and tables",
		             n);
	} else
		res_skip("memory", "synack", "accounting", "bytes_per_established",
		         "this build has no synack_memory() (allocator accounting)");

	/* The clients close first and keep TIME_WAIT; the server answers
	 * each EOF with its own close and ends CLOSED. */
	/* In batches: the server's outbox holds outbox_max datagrams. */
	for (uint32_t i = 0; i < n; i++) {
		synack_close(m.w.cli[i / CLIENT_CONNS], m.csock[i]);
		if ((i + 1) % 1024 == 0 || i + 1 == n) {
			for (int k = 0; k < 4; k++) {
				pump(&m.w);
				srv_events(&m.w, NULL);
			}
		}
	}
	for (int i = 0; i < 20; i++) {
		pump(&m.w);
		srv_events(&m.w, NULL);
	}
	drain_client_events(&m.w);
	/* Idle as the established were: the caches' decay (pool_trim_ms)
	 * gives back the freed TCBs and sockets no new connection took, so
	 * what remains is the records, not the burst they came from. */
	world_idle(&m.w);
	uint64_t tw = 0;
	for (int c = 0; c < m.w.ncli; c++) {
		struct synack_stats st;
		synack_stats(m.w.cli[c], &st);
		tw += st.time_wait_live;
	}
	snap(&m.w, &s2);
	if (tw != n) {
		res_skip("memory", "synack", "heap", "bytes_per_time_wait",
		         "only %llu of %u connections reached TIME_WAIT", (unsigned long long)tw,
		         n);
	} else {
		heap_note("memory", "heap", "bytes_per_time_wait", per(s2.heap, s0.heap, n),
		          "heap delta from before the connections / %u TIME_WAIT, idle for three "
		          "pool_trim_ms periods: includes the tables grown for the connections",
		          n);
		res_add_note(
		    "memory", "synack", "rss", "bytes_per_time_wait", per(s2.rss, s0.rss, n),
		    "RSS delta from before the connections / %u TIME_WAIT (upper bound)", n);
		if (s2.have_acct)
			res_add_note("memory", "synack", "accounting", "bytes_per_time_wait",
			             (double)s2.cli.time_wait / n,
			             "synack_memory().time_wait of the clients / %u", n);
	}
	many_free(&m);

	/* Pending SYNs: SYNs from addresses no host owns, so the SYN-ACKs
	 * have no route and every connection stays SYN_RECEIVED. */
	struct world w;
	if (world_new(&w, 0, 1, 1, 1) < 0) {
		world_free(&w);
		return;
	}
	pump(&w);
	snap(&w, &s0);
	uint8_t pkt[64];
	for (uint32_t i = 0; i < n; i++) {
		size_t len =
		    craft_syn(pkt, 0x0a630000u + (i >> 14) + 1, (uint16_t)(1024 + (i & 16383)),
		              SERVER_ADDR, w.lport[0], 0x1000u * i + 7);
		synack_sim_inject(w.sim, w.srv_host, pkt, len, synack_sim_now(w.sim));
		if ((i + 1) % 4096 == 0)
			pump(&w);
	}
	pump(&w);
	pump(&w);
	struct synack_stats st;
	synack_stats(w.srv, &st);
	snap(&w, &s1);
	uint64_t pending = st.conns_live - 1; /* the listener */
	if (pending != n) {
		res_skip("memory", "synack", "heap", "bytes_per_syn_pending",
		         "%llu of %u SYNs left a pending connection", (unsigned long long)pending,
		         n);
	} else {
		heap_note("memory", "heap", "bytes_per_syn_pending", per(s1.heap, s0.heap, n),
		          "heap delta / %u SYN_RECEIVED", n);
		res_add_note("memory", "synack", "rss", "bytes_per_syn_pending",
		             per(s1.rss, s0.rss, n), "RSS delta / %u SYN_RECEIVED", n);
		if (s1.have_acct)
			res_add_note("memory", "synack", "accounting", "bytes_per_syn_pending",
			             per(s1.srv.total, s0.srv.total, n),
			             "synack_memory() total delta of the server / %u", n);
	}
	world_free(&w);
}

/* ------------------------------------------------------------------ */
/* Scale: many established connections in one process.                */

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint64_t in_segs(struct world *w)
{
	struct synack_stats st;
	uint64_t sum = 0;
	synack_stats(w->srv, &st);
	sum += st.InSegs;
	for (int c = 0; c < w->ncli; c++) {
		synack_stats(w->cli[c], &st);
		sum += st.InSegs;
	}
	return sum;
}

static void scale_one(const struct bench_opts *o, uint32_t n)
{
	char variant[32];
	struct many m;
	snprintf(variant, sizeof(variant), "%u", n);
	bench_trim();
	uint64_t rss0 = bench_rss(), heap0 = bench_heap();
	int err = many_open(&m, n, 0);
	struct bench_mem acct0 = {0};
	int have_acct = !err && bench_synack_memory(m.w.srv, &acct0) == 0;
	uint64_t w0 = bench_wall_ns();
	if (!err)
		err = many_connect(&m);
	uint64_t setup_ns = bench_wall_ns() - w0;
	if (err) {
		res_skip("scale", "synack", variant, "setup_per_s", "failed after %u: %s",
		         m.accepted, synack_strerror(err));
		many_free(&m);
		return;
	}
	world_idle(&m.w);
	bench_trim();
	uint64_t rss1 = bench_rss(), heap1 = bench_heap();
	bench_heap_shape("scale, idle");
	res_add("scale", "synack", variant, "setup_per_s", (double)n / ((double)setup_ns / 1e9));
	res_add_note("scale", "synack", variant, "rss_bytes", (double)(rss1 - rss0),
	             "process RSS delta: both ends (%u connections in one server stack and %d "
	             "client stacks), the simulator included",
	             n, m.w.ncli);
	heap_note("scale", variant, "heap_bytes", (double)(heap1 - heap0),
	          "malloc'd bytes in use (mallinfo2), both ends and the simulator");
	if (have_acct) {
		struct bench_mem a1;
		bench_synack_memory(m.w.srv, &a1);
		res_add_note("scale", "synack", variant, "server_stack_bytes",
		             (double)(a1.total - acct0.total),
		             "synack_memory() of the server stack alone");
	}
	bench_log("synack scale %u: setup %.0f/s, RSS +%.1f MiB", n,
	          (double)n / ((double)setup_ns / 1e9), (double)(rss1 - rss0) / 1048576.0);

	/* Cost per segment: 64-byte messages echoed on connections picked at
	 * random, in batches of 1,000. */
	static const uint8_t msg[REQ_LEN] = {1};
	uint8_t buf[256];
	uint64_t x = 0x9e3779b97f4a7c15ull, served = 0;
	int batch[1000];
	uint64_t msgs = o->scale_msgs, segs0 = in_segs(&m.w);
	uint64_t c0 = bench_cpu_ns();
	for (uint64_t done = 0; done < msgs; done += 1000) {
		for (int b = 0; b < 1000; b++) {
			uint32_t i = (uint32_t)(xorshift(&x) % n);
			batch[b] = (int)i;
			synack_send(m.w.cli[i / CLIENT_CONNS], m.csock[i], msg, sizeof(msg));
		}
		pump(&m.w);
		srv_events(&m.w, &served);
		pump(&m.w);
		for (int b = 0; b < 1000; b++) {
			uint32_t i = (uint32_t)batch[b];
			while (synack_recv(m.w.cli[i / CLIENT_CONNS], m.csock[i], buf, sizeof(buf),
			                   0) > 0)
				;
		}
	}
	uint64_t cpu = bench_cpu_ns() - c0;
	uint64_t segs = in_segs(&m.w) - segs0;
	drain_client_events(&m.w);
	if (segs)
		res_add_note(
		    "scale", "synack", variant, "ns_per_segment", (double)cpu / (double)segs,
		    "CPU ns per segment received (%llu segments, %llu 64-byte echoes "
		    "on random connections in batches of 1000, both ends and the simulator, "
		    "which moves all %d hosts' output once per batch)",
		    (unsigned long long)segs, (unsigned long long)msgs, m.w.ncli + 1);
	many_free(&m);
}

static void bench_scale(const struct bench_opts *o)
{
	scale_one(o, o->scale_small);
	scale_one(o, o->scale_big);
}

void bench_synack(const struct bench_opts *o)
{
	if (o->do_lifecycle)
		bench_lifecycle(o);
	if (o->do_bulk)
		bench_bulk(o);
	if (o->do_memory)
		bench_memory(o);
	if (o->do_scale)
		bench_scale(o);
}

int bench_synack_fixed(int kind, uint64_t n, uint32_t inflight)
{
	uint64_t wall, cpu;
	char err[160];
	if (kind == 0)
		return lifecycle_run(inflight, n, 0, 1, &wall, &cpu, err, sizeof(err)) >= (int64_t)n
		           ? 0
		           : -1;
	return bulk_run(n, 1, &wall, &cpu) == 0 ? 0 : -1;
}
