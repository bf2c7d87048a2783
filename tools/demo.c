#include "demo.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "attack.h"
#include "cli.h"
#include "render.h"
#include "synack/sim.h"

#define CLIENT_ADDR 0x0a000001u /* 10.0.0.1 */
#define SERVER_ADDR 0x0a000002u /* 10.0.0.2 */
#define SERVER_PORT 80
#define DEFAULT_DELAY_MS 10
/* Hard caps so that a bug never hangs a run: a day of virtual time. */
#define CAP_US (24ull * 3600 * 1000000)
#define CAP_STEPS 1000000u
#define RXBUF 16384
#define TAP_MAX 100000
#define TAP_WINDOW 1024
#define LOG_MAX 200000 /* events; a runaway stack ends the run instead of eating memory */

static const char REQUEST[] = "GET /index.html HTTP/1.0\r\n\r\n";
static const char RESPONSE[] = "HTTP/1.0 200 OK\r\n\r\nhello from 10.0.0.2\n";

/* ------------------------------------------------------------------ */
/* The engine.                                                         */

/* A datagram as the sim tap saw it, and what became of it. */
struct tap_pkt {
	int from, to; /* sim host indices; from is -1 for injected datagrams */
	uint8_t *bytes;
	size_t len;
	int lost;
	size_t narrive;
	uint64_t arrive_us[RENDER_MAX_ARRIVALS];
	int matched; /* attached to a TX trace record */
};

/* The TCP fields of a datagram. */
struct seginfo {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint32_t len;
};

enum filter_mode {
	FILTER_NONE,
	FILTER_SYN_LOST,   /* drop the client's first SYN */
	FILTER_DELAY_DATA, /* hold back the client's next data segment */
	FILTER_STRAGGLER,  /* keep a copy of server data; drop client ACKs while the server
	                      retransmits */
	FILTER_LOSE_DATA,  /* drop the first sending of the client's f_nth data segment */
};

struct demo;
struct scenario {
	struct demo_scenario_info info;
	const char *moral;             /* what the run showed, printed at the end */
	void (*run)(struct demo *d);   /* the script */
	void (*check)(struct demo *d); /* its checks, on the finished run */
	int attack;                    /* enum attack_kind: run by attack.c, not scripted */
};

struct demo {
	const struct demo_opts *o;
	const struct scenario *sc;
	struct demo_result *res;
	struct synack_config cfg[2];
	struct synack_sim *sim;
	struct synack_stack *st[2];
	int hid[2]; /* sim host index of client and server */
	struct render_log log;
	struct tap_pkt *pk;
	size_t npk, cappk;
	int oom;
	uint64_t steps;
	struct synack_endpoint ep[2]; /* the endpoints shown in the ladder header */

	/* Sockets of the script. */
	int lsock;   /* server listener */
	int sock[2]; /* the connection's socket on each host, -1 when closed */
	uint8_t rx[2][RXBUF];
	size_t nrx[2];
	int eof[2];

	/* Filter state. */
	int fmode;
	int f_armed;
	uint32_t f_extra_us;
	int f_server_fins;
	uint8_t saved[2048];
	size_t saved_len;
	int f_nth, f_seen;   /* FILTER_LOSE_DATA: which data segment, how many so far */
	uint32_t f_lost_seq; /* the sequence number of the segment it dropped */
	int f_lost;          /* it did */
	int server_rcvbuf;   /* SO_RCVBUF of the server's listener; 0: the default */

	int show_ss;
	/* What a script observed, for its checks. */
	int64_t val[2];
	uint64_t t_inject;
};

static void *xrealloc(struct demo *d, void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q)
		d->oom = 1;
	return q;
}

static int ep_same(const struct synack_endpoint *a, const struct synack_endpoint *b)
{
	return a->addr == b->addr && a->port == b->port;
}

static int host_of(const struct demo *d, int sim_host)
{
	if (sim_host == d->hid[DEMO_CLIENT])
		return DEMO_CLIENT;
	if (sim_host == d->hid[DEMO_SERVER])
		return DEMO_SERVER;
	return -1;
}

static int parse_seg(const uint8_t *p, size_t len, struct seginfo *si)
{
	if (len < 40 || (p[0] >> 4) != 4 || p[9] != 6)
		return 0;
	size_t ihl = (size_t)(p[0] & 15) * 4;
	size_t total = ((size_t)p[2] << 8) | p[3];
	if (ihl < 20 || total > len || total < ihl + 20)
		return 0;
	const uint8_t *t = p + ihl;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20 || ihl + doff > total)
		return 0;
	si->sport = (uint16_t)((t[0] << 8) | t[1]);
	si->dport = (uint16_t)((t[2] << 8) | t[3]);
	si->seq = ((uint32_t)t[4] << 24) | ((uint32_t)t[5] << 16) | ((uint32_t)t[6] << 8) | t[7];
	si->ack = ((uint32_t)t[8] << 24) | ((uint32_t)t[9] << 16) | ((uint32_t)t[10] << 8) | t[11];
	si->flags = t[13];
	si->len = (uint32_t)(total - ihl - doff);
	return 1;
}

static struct tap_pkt *tap_add(struct demo *d, int from, int to, const uint8_t *pkt, size_t len)
{
	if (d->npk >= TAP_MAX)
		return NULL;
	if (d->npk == d->cappk) {
		size_t cap = d->cappk ? d->cappk * 2 : 128;
		struct tap_pkt *n = xrealloc(d, d->pk, cap * sizeof(*n));
		if (!n)
			return NULL;
		d->pk = n;
		d->cappk = cap;
	}
	struct tap_pkt *t = &d->pk[d->npk];
	memset(t, 0, sizeof(*t));
	t->bytes = malloc(len ? len : 1);
	if (!t->bytes) {
		d->oom = 1;
		return NULL;
	}
	memcpy(t->bytes, pkt, len);
	t->len = len;
	t->from = from;
	t->to = to;
	d->npk++;
	return t;
}

static void tap_fn(void *ctx, int event, int from, int to, const uint8_t *pkt, size_t len,
                   uint64_t now)
{
	struct demo *d = ctx;
	if (event == SYNACK_SIM_SENT) {
		tap_add(d, from, to, pkt, len);
		return;
	}
	/* A fate: the earliest datagram with the same bytes that has none yet;
	 * a second delivery of one already delivered is a duplicate.  Fates come
	 * soon after the sending, so only the recent datagrams are searched and
	 * a storm of segments stays linear. */
	struct tap_pkt *first = NULL, *last = NULL;
	for (size_t i = d->npk > TAP_WINDOW ? d->npk - TAP_WINDOW : 0; i < d->npk; i++) {
		struct tap_pkt *t = &d->pk[i];
		if (t->to != to || t->len != len || memcmp(t->bytes, pkt, len) != 0)
			continue;
		if (from >= 0 && t->from != from)
			continue;
		if (!first && !t->lost && t->narrive == 0)
			first = t;
		if (t->narrive > 0)
			last = t;
	}
	if (from < 0)
		return; /* injected by a scenario, which narrates it itself */
	if (event == SYNACK_SIM_LOST) {
		if (first)
			first->lost = 1;
		return;
	}
	struct tap_pkt *t = first ? first : last;
	if (t && t->narrive < RENDER_MAX_ARRIVALS)
		t->arrive_us[t->narrive++] = now;
}

static int filter_fn(void *ctx, int from, int to, const uint8_t *pkt, size_t len, uint64_t now,
                     uint32_t *extra_delay_us)
{
	struct demo *d = ctx;
	struct seginfo si;
	(void)to;
	(void)now;
	if (!parse_seg(pkt, len, &si))
		return SYNACK_SIM_PASS;
	int h = host_of(d, from);
	switch (d->fmode) {
	case FILTER_SYN_LOST:
		if (h == DEMO_CLIENT && (si.flags & SYNACK_TH_SYN) && d->f_armed) {
			d->f_armed = 0;
			return SYNACK_SIM_DROP;
		}
		break;
	case FILTER_DELAY_DATA:
		if (h == DEMO_CLIENT && si.len > 0 && d->f_armed) {
			d->f_armed = 0;
			*extra_delay_us = d->f_extra_us;
			return SYNACK_SIM_DELAY;
		}
		break;
	case FILTER_LOSE_DATA:
		if (h == DEMO_CLIENT && si.len > 0 && d->f_armed && ++d->f_seen == d->f_nth) {
			d->f_armed = 0;
			d->f_lost = 1;
			d->f_lost_seq = si.seq;
			return SYNACK_SIM_DROP;
		}
		break;
	case FILTER_STRAGGLER:
		if (h == DEMO_SERVER && si.len > 0 && d->saved_len == 0 &&
		    len <= sizeof(d->saved)) {
			memcpy(d->saved, pkt, len);
			d->saved_len = len;
		}
		if (h == DEMO_SERVER && (si.flags & SYNACK_TH_FIN))
			d->f_server_fins++;
		if (h == DEMO_CLIENT && d->f_server_fins == 1)
			return SYNACK_SIM_DROP;
		break;
	default:
		break;
	}
	return SYNACK_SIM_PASS;
}

static void note_transition(struct demo *d, int h, const struct synack_trace *tr)
{
	struct demo_host_result *hr = &d->res->host[h];
	if (hr->ntr >= DEMO_MAX_TRANSITIONS)
		return;
	struct demo_transition *t = &hr->tr[hr->ntr++];
	t->t_us = tr->t_us;
	t->local = tr->local;
	t->remote = tr->remote;
	t->from = tr->from;
	t->to = tr->to;
	t->cause = tr->cause;
}

/* Moves every trace record of both stacks into the log. */
static void drain(struct demo *d)
{
	struct synack_trace buf[64];
	for (int h = 0; h < 2; h++) {
		size_t n;
		while ((n = synack_trace_read(d->st[h], buf, 64)) > 0) {
			for (size_t i = 0; i < n; i++) {
				struct render_event *e =
				    render_log_add(&d->log, buf[i].t_us, h, RENDER_TRACE);
				if (!e) {
					d->oom = 1;
					return;
				}
				e->tr = buf[i];
				if (buf[i].kind == SYNACK_TRACE_STATE)
					note_transition(d, h, &buf[i]);
				if (buf[i].kind == SYNACK_TRACE_TX &&
				    (buf[i].flags & SYNACK_TH_SYN) && !d->res->host[h].sent_syn) {
					d->res->host[h].sent_syn = 1;
					d->res->host[h].iss = buf[i].seq;
				}
			}
		}
	}
}

static uint64_t now(const struct demo *d)
{
	return synack_sim_now(d->sim);
}

/* One step of the simulation; SYNACK_NEVER when nothing is left or a cap hit. */
static uint64_t step(struct demo *d)
{
	if (d->res->capped || d->oom)
		return SYNACK_NEVER;
	if (d->steps >= CAP_STEPS || now(d) > CAP_US) {
		d->res->capped = 1;
		return SYNACK_NEVER;
	}
	uint64_t t = synack_sim_step(d->sim);
	d->steps++;
	drain(d);
	if (d->log.n > LOG_MAX)
		d->res->capped = 1;
	return t;
}

/* Runs the network until time t (the applications do something else). */
static void sleep_ms(struct demo *d, uint32_t ms)
{
	uint64_t target = now(d) + (uint64_t)ms * 1000;
	while (!d->res->capped && !d->oom) {
		synack_sim_flush(d->sim);
		uint64_t next = synack_sim_next_event(d->sim);
		if (next == SYNACK_NEVER || next > target)
			break;
		if (step(d) == SYNACK_NEVER)
			break;
	}
	if (!d->res->capped && !d->oom && now(d) < target) {
		synack_sim_run_until(d->sim, target);
		drain(d);
	}
}

/* Steps until socket s of host h reports one of mask; 1 when it does. */
static int wait_for(struct demo *d, int h, int s, uint32_t mask)
{
	for (;;) {
		if (s >= 0 && (synack_events(d->st[h], s) & mask))
			return 1;
		if (step(d) == SYNACK_NEVER)
			return 0;
	}
}

/* Steps until host h has made the nth (0-based) transition into state `to`. */
static int wait_state(struct demo *d, int h, int to, int nth)
{
	for (;;) {
		int seen = 0;
		const struct demo_host_result *hr = &d->res->host[h];
		for (size_t i = 0; i < hr->ntr; i++)
			if (hr->tr[i].to == to && seen++ == nth)
				return 1;
		if (step(d) == SYNACK_NEVER)
			return 0;
	}
}

/* Runs until no host has anything left to do. */
static void finish(struct demo *d)
{
	while (step(d) != SYNACK_NEVER)
		;
}

static void note(struct demo *d, int h, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(struct demo *d, int h, const char *fmt, ...)
{
	struct render_event *e = render_log_add(&d->log, now(d), h, RENDER_NOTE);
	if (!e) {
		d->oom = 1;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

/* Application calls: each one is logged with its result, after the records
 * that came before it and before the records it causes. */
static void app_event(struct demo *d, int h, int s, const char *call, long ret,
                      const struct synack_endpoint *local, const struct synack_endpoint *remote)
{
	struct render_event *e = render_log_add(&d->log, now(d), h, RENDER_APP);
	if (!e) {
		d->oom = 1;
		return;
	}
	e->call = call;
	e->ret = ret;
	if (local)
		e->local = *local;
	else if (s >= 0)
		synack_getsockname(d->st[h], s, &e->local);
	if (remote)
		e->remote = *remote;
	else if (s >= 0)
		synack_getpeername(d->st[h], s, &e->remote);
}

static int app_socket(struct demo *d, int h)
{
	int s = synack_socket(d->st[h]);
	if (s < 0)
		note(d, h, "socket() = %d", s);
	return s;
}

static int app_bind(struct demo *d, int h, int s, uint16_t port)
{
	struct synack_endpoint ep = {synack_stack_addr(d->st[h]), port};
	drain(d);
	int r = synack_bind(d->st[h], s, &ep);
	app_event(d, h, s, "bind", r, &ep, NULL);
	drain(d);
	return r;
}

static int app_listen(struct demo *d, int h, uint16_t port)
{
	int s = app_socket(d, h);
	if (s < 0)
		return s;
	struct synack_endpoint ep = {synack_stack_addr(d->st[h]), port};
	drain(d);
	if (h == DEMO_SERVER && d->server_rcvbuf > 0) {
		/* Before listen(): the connections it accepts inherit the size,
		 * and their SYN-ACK already offers no more than it. */
		int r = synack_setsockopt(d->st[h], s, SYNACK_SO_RCVBUF, d->server_rcvbuf);
		app_event(d, h, s, "setsockopt", r, &ep, NULL);
		note(d, h, "(SO_RCVBUF %d)", d->server_rcvbuf);
	}
	int r = synack_bind(d->st[h], s, &ep);
	if (r == 0)
		r = synack_listen(d->st[h], s, 16);
	app_event(d, h, s, "listen", r, &ep, NULL);
	drain(d);
	return r < 0 ? r : s;
}

static int app_connect(struct demo *d, int h, int s, uint32_t addr, uint16_t port)
{
	struct synack_endpoint peer = {addr, port};
	drain(d);
	int r = synack_connect(d->st[h], s, &peer);
	app_event(d, h, s, "connect", r, NULL, &peer);
	drain(d);
	return r;
}

static int app_accept(struct demo *d, int h, int ls)
{
	if (!wait_for(d, h, ls, SYNACK_POLLIN))
		return -EAGAIN;
	drain(d);
	int r = synack_accept(d->st[h], ls, NULL);
	app_event(d, h, r >= 0 ? r : ls, "accept", r, NULL, NULL);
	drain(d);
	return r;
}

static long app_send(struct demo *d, int h, const void *buf, size_t len)
{
	drain(d);
	long r = (long)synack_send(d->st[h], d->sock[h], buf, len);
	app_event(d, h, d->sock[h], "send", r, NULL, NULL);
	drain(d);
	return r;
}

/* One recv() of everything readable into the host's buffer. */
static long app_recv(struct demo *d, int h)
{
	drain(d);
	size_t room = RXBUF - d->nrx[h];
	long r = (long)synack_recv(d->st[h], d->sock[h], d->rx[h] + d->nrx[h], room, 0);
	app_event(d, h, d->sock[h], "recv", r, NULL, NULL);
	if (r > 0)
		d->nrx[h] += (size_t)r;
	if (r == 0)
		d->eof[h] = 1;
	drain(d);
	return r;
}

/* Waits until the host has received at least n bytes (or EOF). */
static int recv_bytes(struct demo *d, int h, size_t n)
{
	while (d->nrx[h] < n && !d->eof[h]) {
		if (!wait_for(d, h, d->sock[h],
		              SYNACK_POLLIN | SYNACK_POLLERR | SYNACK_POLLHUP | SYNACK_POLLRDHUP))
			return 0;
		long r = app_recv(d, h);
		if (r < 0 && r != -EAGAIN)
			return 0;
	}
	return d->nrx[h] >= n;
}

/* Waits until recv() says end of stream. */
static int recv_eof(struct demo *d, int h)
{
	while (!d->eof[h]) {
		if (!wait_for(d, h, d->sock[h],
		              SYNACK_POLLIN | SYNACK_POLLERR | SYNACK_POLLHUP | SYNACK_POLLRDHUP))
			return 0;
		long r = app_recv(d, h);
		if (r < 0 && r != -EAGAIN)
			return 0;
	}
	return 1;
}

static int app_shutdown(struct demo *d, int h, int how)
{
	drain(d);
	int r = synack_shutdown(d->st[h], d->sock[h], how);
	app_event(d, h, d->sock[h], "shutdown", r, NULL, NULL);
	drain(d);
	return r;
}

static int app_close(struct demo *d, int h)
{
	struct synack_endpoint l = {0, 0}, p = {0, 0};
	int s = d->sock[h];
	synack_getsockname(d->st[h], s, &l);
	synack_getpeername(d->st[h], s, &p);
	drain(d);
	int r = synack_close(d->st[h], s);
	app_event(d, h, -1, "close", r, &l, &p);
	d->sock[h] = -1;
	drain(d);
	return r;
}

/* ------------------------------------------------------------------ */
/* Checks.                                                             */

void demo_result_check(struct demo_result *r, int ok, const char *fmt, ...)
{
	if (!ok)
		r->ok = 0;
	if (r->nchecks >= DEMO_MAX_CHECKS)
		return;
	struct demo_check *c = &r->checks[r->nchecks++];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->what, sizeof(c->what), fmt, ap);
	va_end(ap);
	c->ok = ok;
}

static void check_path(struct demo *d, int h, const char *want)
{
	char got[512];
	demo_state_path(d->res, h, got, sizeof(got));
	if (strcmp(got, want) == 0)
		demo_result_check(d->res, 1, "%s states %s", h == DEMO_CLIENT ? "client" : "server",
		                  want);
	else
		demo_result_check(d->res, 0, "%s states %s (got %s)",
		                  h == DEMO_CLIENT ? "client" : "server", want, got);
}

static void check_bytes(struct demo *d, int h, const char *want)
{
	size_t n = strlen(want);
	int ok = d->nrx[h] == n && memcmp(d->rx[h], want, n) == 0;
	demo_result_check(d->res, ok, "%s received exactly the %zu bytes sent (got %zu)",
	                  h == DEMO_CLIENT ? "client" : "server", n, d->nrx[h]);
}

/* The nth (0-based) transition of host h into state `to`, or NULL. */
static const struct demo_transition *trans(struct demo *d, int h, int to, int nth)
{
	const struct demo_host_result *hr = &d->res->host[h];
	int seen = 0;
	for (size_t i = 0; i < hr->ntr; i++)
		if (hr->tr[i].to == to && seen++ == nth)
			return &hr->tr[i];
	return NULL;
}

/* Time spent in state `st` by host h's first visit, or -1. */
static int64_t state_duration(struct demo *d, int h, int st)
{
	const struct demo_host_result *hr = &d->res->host[h];
	for (size_t i = 0; i < hr->ntr; i++) {
		if (hr->tr[i].to != st)
			continue;
		for (size_t j = i + 1; j < hr->ntr; j++)
			if (hr->tr[j].from == st && hr->tr[j].local.port == hr->tr[i].local.port &&
			    hr->tr[j].remote.port == hr->tr[i].remote.port)
				return (int64_t)(hr->tr[j].t_us - hr->tr[i].t_us);
		return -1;
	}
	return -1;
}

/* The nth (0-based) trace record of host h of kind `kind` whose flags include
 * `all` and none of `none`, with payload when data > 0 and none when data < 0. */
static const struct render_event *seg(struct demo *d, int h, int kind, uint8_t all, uint8_t none,
                                      int data, int nth)
{
	int seen = 0;
	for (size_t i = 0; i < d->log.n; i++) {
		const struct render_event *e = &d->log.ev[i];
		if (e->kind != RENDER_TRACE || e->host != h || e->tr.kind != kind)
			continue;
		if ((e->tr.flags & all) != all || (e->tr.flags & none))
			continue;
		if ((data > 0 && e->tr.len == 0) || (data < 0 && e->tr.len != 0))
			continue;
		if (seen++ == nth)
			return e;
	}
	return NULL;
}

static int seg_count(struct demo *d, int h, int kind, uint8_t all, uint8_t none, int data)
{
	int n = 0;
	for (size_t i = 0; i < d->log.n; i++) {
		const struct render_event *e = &d->log.ev[i];
		if (e->kind != RENDER_TRACE || e->host != h || e->tr.kind != kind)
			continue;
		if ((e->tr.flags & all) != all || (e->tr.flags & none))
			continue;
		if ((data > 0 && e->tr.len == 0) || (data < 0 && e->tr.len != 0))
			continue;
		n++;
	}
	return n;
}

static uint64_t counter(struct demo *d, int h, const char *name)
{
	for (size_t i = 0; i < synack_counter_count(); i++)
		if (strcmp(synack_counter_name(i), name) == 0)
			return synack_counter_value(&d->res->host[h].stats, i);
	return UINT64_MAX;
}

static void check_counter(struct demo *d, int h, const char *name, uint64_t want)
{
	uint64_t v = counter(d, h, name);
	demo_result_check(d->res, v == want, "%s %s = %llu (want %llu)",
	                  h == DEMO_CLIENT ? "client" : "server", name, (unsigned long long)v,
	                  (unsigned long long)want);
}

static void check_timed_state(struct demo *d, int h, int st, uint64_t want_us, const char *setting)
{
	int64_t got = state_duration(d, h, st);
	demo_result_check(d->res, got == (int64_t)want_us,
	                  "%s stayed in %s for %s = %.3f ms (got %.3f ms)",
	                  h == DEMO_CLIENT ? "client" : "server", synack_state_name(st), setting,
	                  (double)want_us / 1000.0, (double)got / 1000.0);
}

static const char *H(int h)
{
	return h == DEMO_CLIENT ? "client" : "server";
}

/*
 * TIME_WAIT lasts time_wait_ms from when it is entered, or from the last
 * retransmitted FIN that arrives in it: RFC 9293 3.10.7.4 says to acknowledge
 * such a FIN and restart the 2 MSL timeout.
 */
static void check_time_wait(struct demo *d, int h)
{
	const struct demo_transition *in = trans(d, h, SYNACK_TIME_WAIT, 0);
	const struct demo_transition *out = NULL;
	const struct demo_host_result *hr = &d->res->host[h];
	for (size_t i = 0; in && i < hr->ntr; i++)
		if (hr->tr[i].from == SYNACK_TIME_WAIT && hr->tr[i].t_us >= in->t_us)
			out = &hr->tr[i];
	uint64_t want = (uint64_t)d->cfg[h].time_wait_ms * 1000;
	uint64_t base = in ? in->t_us : 0;
	const struct render_event *e;
	for (int i = 0; in && out && (e = seg(d, h, SYNACK_TRACE_RX, SYNACK_TH_FIN, 0, 0, i)); i++)
		if (e->t_us > in->t_us && e->t_us < out->t_us)
			base = e->t_us;
	demo_result_check(
	    d->res,
	    in && out && out->cause == SYNACK_CAUSE_TIME_WAIT_EXPIRED && out->t_us - base == want,
	    "%s left TIME_WAIT time_wait_ms = %.3f ms after %s (got %.3f ms, %s)", H(h),
	    (double)want / 1000.0, in && base != in->t_us ? "the last FIN" : "entering it",
	    in && out ? (double)(out->t_us - base) / 1000.0 : -1.0,
	    out ? synack_cause_name(out->cause) : "never left");
}

/* ------------------------------------------------------------------ */
/* Scenario building blocks.                                           */

/* Server listens on port 80; the client connects to it and both ends get
 * their socket.  Returns 1 when the connection is up on both hosts. */
static int open_conn(struct demo *d)
{
	d->lsock = app_listen(d, DEMO_SERVER, SERVER_PORT);
	int s = app_socket(d, DEMO_CLIENT);
	if (d->lsock < 0 || s < 0)
		return 0;
	d->sock[DEMO_CLIENT] = s;
	app_connect(d, DEMO_CLIENT, s, SERVER_ADDR, SERVER_PORT);
	synack_getsockname(d->st[DEMO_CLIENT], s, &d->ep[DEMO_CLIENT]);
	if (!wait_for(d, DEMO_CLIENT, s, SYNACK_POLLOUT | SYNACK_POLLERR | SYNACK_POLLHUP))
		return 0;
	int r = synack_socket_error(d->st[DEMO_CLIENT], s);
	if (r != 0) {
		app_event(d, DEMO_CLIENT, s, "so_error", r, NULL, NULL);
		return 0;
	}
	int a = app_accept(d, DEMO_SERVER, d->lsock);
	if (a < 0)
		return 0;
	d->sock[DEMO_SERVER] = a;
	return 1;
}

/* The client sends its request; the server reads it and answers. */
static int exchange(struct demo *d)
{
	if (app_send(d, DEMO_CLIENT, REQUEST, strlen(REQUEST)) != (long)strlen(REQUEST))
		return 0;
	if (!recv_bytes(d, DEMO_SERVER, strlen(REQUEST)))
		return 0;
	if (app_send(d, DEMO_SERVER, RESPONSE, strlen(RESPONSE)) != (long)strlen(RESPONSE))
		return 0;
	return recv_bytes(d, DEMO_CLIENT, strlen(RESPONSE));
}

/* The four separate closing segments of the article: FIN, ACK, FIN, ACK.
 * `a` closes actively, `p` passively. */
static void check_four_way(struct demo *d, int a, int p)
{
	const struct render_event *fin_a = seg(d, a, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, -1, 0);
	const struct render_event *fin_p = seg(d, p, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, -1, 0);
	const struct render_event *ack_p = NULL, *ack_a = NULL;
	if (fin_a)
		for (int i = 0; (ack_p = seg(d, p, SYNACK_TRACE_TX, SYNACK_TH_ACK, SYNACK_TH_FIN,
		                             -1, i)) != NULL;
		     i++)
			if (ack_p->tr.ack == fin_a->tr.seq + 1)
				break;
	if (fin_p)
		for (int i = 0; (ack_a = seg(d, a, SYNACK_TRACE_TX, SYNACK_TH_ACK, SYNACK_TH_FIN,
		                             -1, i)) != NULL;
		     i++)
			if (ack_a->tr.ack == fin_p->tr.seq + 1)
				break;
	/* The log is sorted by time, so positions in it are the order on the wire. */
	int ok = fin_a && fin_p && ack_p && ack_a && fin_a < ack_p && ack_p < fin_p &&
	         fin_p < ack_a && ack_p->t_us < fin_p->t_us;
	demo_result_check(d->res, ok,
	                  "four separate closing segments: %s FIN, %s ACK, %s FIN, %s ACK", H(a),
	                  H(p), H(p), H(a));
}

static void check_isns(struct demo *d)
{
	const struct demo_host_result *c = &d->res->host[DEMO_CLIENT],
	                              *s = &d->res->host[DEMO_SERVER];
	demo_result_check(
	    d->res, c->sent_syn && s->sent_syn && c->iss != 0 && s->iss != 0 && c->iss != s->iss,
	    "ISNs are random-looking: client %lu, server %lu", (unsigned long)c->iss,
	    (unsigned long)s->iss);
}

/* ------------------------------------------------------------------ */
/* Scenarios.                                                          */

#define PATH_ACTIVE_CLIENT "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED"
#define PATH_PASSIVE_CLIENT "CLOSED>SYN_SENT>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED"
#define PATH_LISTENER "CLOSED>LISTEN"
#define PATH_PASSIVE_SERVER                                                                        \
	PATH_LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED"
#define PATH_ACTIVE_SERVER                                                                         \
	PATH_LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED"

/* A passive closer's application closes only after it has read EOF, and a
 * few milliseconds later, so its FIN is a segment of its own. */
static void passive_close(struct demo *d, int p)
{
	if (!recv_eof(d, p))
		return;
	sleep_ms(d, 5);
	app_close(d, p);
}

static void sc_handshake(struct demo *d)
{
	if (open_conn(d) && exchange(d)) {
		app_close(d, DEMO_CLIENT);
		passive_close(d, DEMO_SERVER);
	}
}

static void ck_handshake(struct demo *d)
{
	check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	check_bytes(d, DEMO_SERVER, REQUEST);
	check_bytes(d, DEMO_CLIENT, RESPONSE);
	const struct render_event *syn =
	    seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 0);
	const struct render_event *synack =
	    seg(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_SYN | SYNACK_TH_ACK, 0, 0, 0);
	demo_result_check(d->res, syn && synack && synack->tr.ack == syn->tr.seq + 1,
	                  "three-way handshake: SYN, SYN+ACK acknowledging ISN+1, ACK");
	check_isns(d);
	check_four_way(d, DEMO_CLIENT, DEMO_SERVER);
	check_time_wait(d, DEMO_CLIENT);
	check_counter(d, DEMO_CLIENT, "TimeWaitExpired", 1);
}

static void sc_server_closes_first(struct demo *d)
{
	if (open_conn(d) && exchange(d)) {
		app_close(d, DEMO_SERVER);
		passive_close(d, DEMO_CLIENT);
	}
}

static void ck_server_closes_first(struct demo *d)
{
	check_path(d, DEMO_CLIENT, PATH_PASSIVE_CLIENT);
	check_path(d, DEMO_SERVER, PATH_ACTIVE_SERVER);
	check_bytes(d, DEMO_SERVER, REQUEST);
	check_bytes(d, DEMO_CLIENT, RESPONSE);
	check_four_way(d, DEMO_SERVER, DEMO_CLIENT);
	check_time_wait(d, DEMO_SERVER);
	check_counter(d, DEMO_SERVER, "TimeWaitExpired", 1);
}

static void sc_simultaneous_open(struct demo *d)
{
	int cs = app_socket(d, DEMO_CLIENT), ss = app_socket(d, DEMO_SERVER);
	d->sock[DEMO_CLIENT] = cs;
	d->sock[DEMO_SERVER] = ss;
	d->ep[DEMO_CLIENT] = (struct synack_endpoint){CLIENT_ADDR, 5000};
	d->ep[DEMO_SERVER] = (struct synack_endpoint){SERVER_ADDR, 6000};
	if (cs >= 0 && ss >= 0 && app_bind(d, DEMO_CLIENT, cs, 5000) == 0 &&
	    app_bind(d, DEMO_SERVER, ss, 6000) == 0) {
		note(d, DEMO_CLIENT, "both connect at the same instant:");
		app_connect(d, DEMO_CLIENT, cs, SERVER_ADDR, 6000);
		app_connect(d, DEMO_SERVER, ss, CLIENT_ADDR, 5000);
		if (wait_for(d, DEMO_CLIENT, cs, SYNACK_POLLOUT | SYNACK_POLLERR) &&
		    wait_for(d, DEMO_SERVER, ss, SYNACK_POLLOUT | SYNACK_POLLERR) && exchange(d)) {
			app_close(d, DEMO_CLIENT);
			passive_close(d, DEMO_SERVER);
		}
	}
}

static void ck_simultaneous_open(struct demo *d)
{
	check_path(
	    d, DEMO_CLIENT,
	    "CLOSED>SYN_SENT>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED");
	check_path(d, DEMO_SERVER,
	           "CLOSED>SYN_SENT>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED");
	for (int h = 0; h < 2; h++) {
		int bare = seg_count(d, h, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0);
		int both = seg_count(d, h, SYNACK_TRACE_TX, SYNACK_TH_SYN | SYNACK_TH_ACK, 0, 0);
		const struct render_event *syn =
		    seg(d, h, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 0);
		const struct render_event *synack =
		    seg(d, h, SYNACK_TRACE_TX, SYNACK_TH_SYN | SYNACK_TH_ACK, 0, 0, 0);
		demo_result_check(
		    d->res, syn && synack && syn < synack && synack->tr.seq == syn->tr.seq,
		    "%s sent a SYN, then a SYN+ACK with the same ISN (%d and %d sent)", H(h), bare,
		    both);
		check_counter(d, h, "ActiveOpens", 1);
	}
	check_bytes(d, DEMO_SERVER, REQUEST);
	check_bytes(d, DEMO_CLIENT, RESPONSE);
}

static void sc_simultaneous_close(struct demo *d)
{
	if (open_conn(d) && exchange(d)) {
		sleep_ms(d, 50);
		note(d, DEMO_CLIENT, "both close at the same instant:");
		app_close(d, DEMO_CLIENT);
		app_close(d, DEMO_SERVER);
	}
}

static void ck_simultaneous_close(struct demo *d)
{
	check_path(d, DEMO_CLIENT,
	           "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>CLOSING>TIME_WAIT>CLOSED");
	check_path(d, DEMO_SERVER,
	           PATH_LISTENER
	           "; LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>CLOSING>TIME_WAIT>CLOSED");
	for (int h = 0; h < 2; h++) {
		const struct render_event *tx = seg(d, h, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0, 0);
		const struct render_event *rx = seg(d, h, SYNACK_TRACE_RX, SYNACK_TH_FIN, 0, 0, 0);
		demo_result_check(d->res, tx && rx && tx->t_us < rx->t_us,
		                  "the FINs crossed: %s sent its FIN before the other's arrived",
		                  H(h));
		check_time_wait(d, h);
	}
}

static const char HALF_CHUNKS[3][24] = {"chunk one\n", "chunk two\n", "chunk three\n"};

static void sc_half_close(struct demo *d)
{
	int in_fw2 = 0, chunks = 0;
	if (open_conn(d) && app_send(d, DEMO_CLIENT, REQUEST, strlen(REQUEST)) > 0 &&
	    recv_bytes(d, DEMO_SERVER, strlen(REQUEST))) {
		note(d, DEMO_CLIENT, "client: done sending, still reading");
		app_shutdown(d, DEMO_CLIENT, SYNACK_SHUT_WR);
		if (recv_eof(d, DEMO_SERVER)) {
			wait_state(d, DEMO_CLIENT, SYNACK_FIN_WAIT_2, 0);
			size_t got = 0;
			for (int i = 0; i < 3; i++) {
				size_t n = strlen(HALF_CHUNKS[i]);
				if (app_send(d, DEMO_SERVER, HALF_CHUNKS[i], n) != (long)n)
					break;
				got += n;
				if (!recv_bytes(d, DEMO_CLIENT, got))
					break;
				struct synack_tcp_info ti;
				if (synack_tcp_info(d->st[DEMO_CLIENT], d->sock[DEMO_CLIENT],
				                    &ti) == 0 &&
				    ti.state == SYNACK_FIN_WAIT_2)
					in_fw2++;
				chunks++;
				sleep_ms(d, 5);
			}
			d->val[0] = chunks;
			d->val[1] = in_fw2;
			app_close(d, DEMO_SERVER);
			recv_eof(d, DEMO_CLIENT);
			app_close(d, DEMO_CLIENT);
		}
	}
}

static void ck_half_close(struct demo *d)
{
	char want[64] = "";
	int chunks = (int)d->val[0], in_fw2 = (int)d->val[1];
	for (int i = 0; i < 3; i++)
		strcat(want, HALF_CHUNKS[i]);
	check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	check_bytes(d, DEMO_SERVER, REQUEST);
	check_bytes(d, DEMO_CLIENT, want);
	demo_result_check(d->res, chunks == 3 && in_fw2 == 3,
	                  "client read all 3 chunks while in FIN_WAIT_2 (got %d of %d)", in_fw2,
	                  chunks);
	const struct demo_transition *fw2 = trans(d, DEMO_CLIENT, SYNACK_FIN_WAIT_2, 0);
	int after = 0;
	for (int i = 0; fw2; i++) {
		const struct render_event *e = seg(d, DEMO_CLIENT, SYNACK_TRACE_RX, 0, 0, 1, i);
		if (!e)
			break;
		if (e->t_us >= fw2->t_us)
			after++;
	}
	demo_result_check(d->res, after >= 3,
	                  "data segments arrived after the client's FIN was acknowledged (%d)",
	                  after);
}

static const char LAST[] = "the last words before the FIN\n";

static void sc_fin_before_data(struct demo *d)
{
	uint64_t hold =
	    3 * (uint64_t)(d->o->delay_ms >= 0 ? d->o->delay_ms : DEFAULT_DELAY_MS) * 1000 + 20000;
	if (open_conn(d) && exchange(d)) {
		sleep_ms(d, 50);
		d->fmode = FILTER_DELAY_DATA;
		d->f_armed = 1;
		d->f_extra_us = (uint32_t)hold;
		note(d, DEMO_CLIENT, "the network will hold the next data segment %.0f ms longer",
		     (double)hold / 1000.0);
		app_send(d, DEMO_CLIENT, LAST, strlen(LAST));
		synack_sim_flush(d->sim);
		app_close(d, DEMO_CLIENT);
		passive_close(d, DEMO_SERVER);
	}
}

static void ck_fin_before_data(struct demo *d)
{
	char want[128];
	snprintf(want, sizeof(want), "%s%s", REQUEST, LAST);
	check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	check_bytes(d, DEMO_SERVER, want);
	const struct render_event *fin =
	    seg(d, DEMO_SERVER, SYNACK_TRACE_RX, SYNACK_TH_FIN, 0, 0, 0);
	const struct render_event *data = NULL;
	for (int i = 0; (data = seg(d, DEMO_SERVER, SYNACK_TRACE_RX, 0, SYNACK_TH_FIN, 1, i)); i++)
		if (data->tr.len == strlen(LAST))
			break;
	demo_result_check(d->res, fin && data && fin->t_us < data->t_us,
	                  "the FIN arrived before the data sent ahead of it");
	const struct demo_transition *cw = trans(d, DEMO_SERVER, SYNACK_CLOSE_WAIT, 0);
	demo_result_check(d->res,
	                  cw && fin && data && cw->t_us == data->t_us && cw->t_us > fin->t_us,
	                  "server entered CLOSE_WAIT only when the missing data arrived");
	check_counter(d, DEMO_SERVER, "DelayedFinQueued", 1);
	/* Say in the ladder what the FIN's arrival did, since it changed no state. */
	if (fin && (!cw || cw->t_us > fin->t_us)) {
		uint64_t t = fin->t_us;
		struct render_event *e = render_log_add(&d->log, t, DEMO_SERVER, RENDER_NOTE);
		if (e)
			snprintf(e->text, sizeof(e->text), "FIN out of order: held");
		e = render_log_add(&d->log, t, DEMO_SERVER, RENDER_NOTE);
		if (e)
			snprintf(e->text, sizeof(e->text), "(still ESTABLISHED)");
	}
}

static void sc_time_wait_straggler(struct demo *d)
{
	d->fmode = FILTER_STRAGGLER;
	if (open_conn(d) && exchange(d)) {
		app_close(d, DEMO_CLIENT);
		passive_close(d, DEMO_SERVER);
		if (wait_state(d, DEMO_CLIENT, SYNACK_TIME_WAIT, 0)) {
			note(d, DEMO_CLIENT, "the client's last ACK is lost, and so is what it");
			note(d, DEMO_CLIENT, "sends until the server retransmits its FIN");
			sleep_ms(d, 5);
			if (d->saved_len > 0) {
				note(d, DEMO_CLIENT,
				     "a stray old copy of the server's data segment arrives:");
				d->t_inject = now(d);
				synack_sim_inject(d->sim, d->hid[DEMO_CLIENT], d->saved,
				                  d->saved_len, d->t_inject);
			}
		}
	}
}

static void ck_time_wait_straggler(struct demo *d)
{
	uint64_t t_inject = d->t_inject;
	check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	check_bytes(d, DEMO_CLIENT, RESPONSE);
	const struct demo_transition *tw = trans(d, DEMO_CLIENT, SYNACK_TIME_WAIT, 0);
	const struct demo_transition *cl = trans(d, DEMO_CLIENT, SYNACK_CLOSED, 0);
	/* The old data: dropped by the client, which changed no state then. */
	const struct render_event *old = NULL;
	for (int i = 0; (old = seg(d, DEMO_CLIENT, SYNACK_TRACE_DROP, 0, 0, 1, i)); i++)
		if (old->t_us == t_inject)
			break;
	demo_result_check(d->res, t_inject && old != NULL,
	                  "the stray old data was dropped in TIME_WAIT (%s)",
	                  old ? synack_drop_name(old->tr.reason) : "no drop recorded");
	int fins = seg_count(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0);
	demo_result_check(d->res, fins >= 2, "server retransmitted its FIN (%d FINs)", fins);
	int nfin = seg_count(d, DEMO_CLIENT, SYNACK_TRACE_RX, SYNACK_TH_FIN, 0, 0);
	const struct render_event *refin =
	    nfin >= 2 ? seg(d, DEMO_CLIENT, SYNACK_TRACE_RX, SYNACK_TH_FIN, 0, 0, nfin - 1) : NULL;
	const struct render_event *reack = NULL;
	if (refin)
		for (int i = 0;
		     (reack = seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_ACK, 0, -1, i)); i++)
			if (reack->t_us == refin->t_us && reack->tr.ack == refin->tr.seq + 1)
				break;
	demo_result_check(
	    d->res, refin && tw && refin->t_us > tw->t_us && reack,
	    "the retransmitted FIN reached the client in TIME_WAIT and was ACKed again");
	uint64_t tw_us = (uint64_t)d->cfg[0].time_wait_ms * 1000;
	demo_result_check(
	    d->res, refin && cl && cl->from == SYNACK_TIME_WAIT && cl->t_us == refin->t_us + tw_us,
	    "TIME_WAIT restarted on the retransmitted FIN: CLOSED %.3f ms after it",
	    (double)tw_us / 1000.0);
	check_counter(d, DEMO_CLIENT, "TimeWaitExpired", 1);
}

static void sc_refused(struct demo *d)
{
	int r = 0;
	d->val[0] = 1;
	d->lsock = app_listen(d, DEMO_SERVER, SERVER_PORT);
	int s = app_socket(d, DEMO_CLIENT);
	d->sock[DEMO_CLIENT] = s;
	if (s >= 0) {
		note(d, DEMO_CLIENT, "nobody listens on port 81:");
		app_connect(d, DEMO_CLIENT, s, SERVER_ADDR, 81);
		synack_getsockname(d->st[DEMO_CLIENT], s, &d->ep[DEMO_CLIENT]);
		d->ep[DEMO_SERVER].port = 81;
		if (wait_for(d, DEMO_CLIENT, s, SYNACK_POLLOUT | SYNACK_POLLERR | SYNACK_POLLHUP)) {
			drain(d);
			r = synack_socket_error(d->st[DEMO_CLIENT], s);
			app_event(d, DEMO_CLIENT, s, "so_error", r, NULL, NULL);
			d->val[0] = r;
		}
		app_close(d, DEMO_CLIENT);
	}
}

static void ck_refused(struct demo *d)
{
	int r = (int)d->val[0];
	check_path(d, DEMO_CLIENT, "CLOSED>SYN_SENT>CLOSED");
	check_path(d, DEMO_SERVER, PATH_LISTENER);
	demo_result_check(d->res, r == -ECONNREFUSED, "connect failed with ECONNREFUSED (got %d)",
	                  r);
	const struct render_event *syn =
	    seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 0);
	const struct render_event *rst =
	    seg(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_RST | SYNACK_TH_ACK, 0, 0, 0);
	demo_result_check(
	    d->res, syn && rst && rst->tr.seq == 0 && rst->tr.ack == syn->tr.seq + 1,
	    "server answered the SYN with RST+ACK, seq 0, ack ISN+1 (RFC 9293 3.10.7.1)");
	int syns = seg_count(d, DEMO_SERVER, SYNACK_TRACE_DROP, SYNACK_TH_SYN, 0, 0);
	int rsts = seg_count(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_RST, 0, 0);
	demo_result_check(
	    d->res,
	    syns >= 1 && rsts == syns && counter(d, DEMO_SERVER, "OutRsts") == (uint64_t)rsts,
	    "one RST for each SYN that reached the closed port (%d SYNs, %d RSTs)", syns, rsts);
	check_counter(d, DEMO_CLIENT, "AttemptFails", 1);
}

static void sc_syn_lost(struct demo *d)
{
	d->fmode = FILTER_SYN_LOST;
	d->f_armed = 1;
	if (open_conn(d) && exchange(d)) {
		app_close(d, DEMO_CLIENT);
		passive_close(d, DEMO_SERVER);
	}
}

static void ck_syn_lost(struct demo *d)
{
	check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	const struct render_event *s0 =
	    seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 0);
	const struct render_event *s1 =
	    seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 1);
	uint64_t rto = (uint64_t)d->cfg[0].rto_initial_ms * 1000;
	demo_result_check(d->res, s0 && s0->fate_known && s0->lost, "the first SYN was lost");
	demo_result_check(d->res,
	                  s0 && s1 && s1->t_us == s0->t_us + rto && s1->tr.seq == s0->tr.seq,
	                  "the SYN was retransmitted after the initial RTO of %u ms, same ISN",
	                  d->cfg[0].rto_initial_ms);
	demo_result_check(
	    d->res,
	    seg_count(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0) == 2,
	    "exactly two SYNs were sent");
	check_counter(d, DEMO_CLIENT, "RetransSegs", 1);
	check_bytes(d, DEMO_CLIENT, RESPONSE);
}

static void sc_close_wait_leak(struct demo *d)
{
	d->show_ss = 1;
	if (open_conn(d) && exchange(d)) {
		app_close(d, DEMO_CLIENT);
		recv_eof(d, DEMO_SERVER);
		note(d, DEMO_SERVER, "server app: sees EOF, never calls close()");
	}
}

static void ck_close_wait_leak(struct demo *d)
{
	check_path(d, DEMO_CLIENT, "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>CLOSED");
	check_path(d, DEMO_SERVER, PATH_LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT");
	check_timed_state(d, DEMO_CLIENT, SYNACK_FIN_WAIT_2,
	                  (uint64_t)d->cfg[0].fin_timeout_ms * 1000, "fin_timeout_ms");
	const struct demo_transition *cl = trans(d, DEMO_CLIENT, SYNACK_CLOSED, 0);
	demo_result_check(d->res, cl && cl->cause == SYNACK_CAUSE_FIN_WAIT_2_TIMEOUT,
	                  "client's orphaned FIN_WAIT_2 ended by fin_wait_2_timeout");
	check_counter(d, DEMO_CLIENT, "FinWait2Timeouts", 1);
	struct synack_tcp_info ti;
	int r = d->sock[DEMO_SERVER] >= 0
	            ? synack_tcp_info(d->st[DEMO_SERVER], d->sock[DEMO_SERVER], &ti)
	            : -1;
	demo_result_check(d->res, r == 0 && ti.state == SYNACK_CLOSE_WAIT,
	                  "server connection still in CLOSE_WAIT at the end");
}

static void sc_fin_wait_1_stuck(struct demo *d)
{
	d->show_ss = 1;
	if (open_conn(d) && exchange(d)) {
		sleep_ms(d, 50);
		app_close(d, DEMO_CLIENT);
		note(d, DEMO_SERVER, "the server vanishes from the network");
		synack_sim_set_down(d->sim, d->hid[DEMO_SERVER], 1);
	}
}

static void ck_fin_wait_1_stuck(struct demo *d)
{
	check_path(d, DEMO_CLIENT, "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>CLOSED");
	check_path(d, DEMO_SERVER, PATH_LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED");
	uint32_t retries = d->cfg[0].orphan_retries;
	int fins = seg_count(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0);
	demo_result_check(d->res, fins == (int)retries + 1,
	                  "client sent its FIN %u times: once and %u retries (got %d)", retries + 1,
	                  retries, fins);
	int backoff = fins >= 3;
	uint64_t rto_max = (uint64_t)d->cfg[0].rto_max_ms * 1000;
	for (int i = 2; i < fins && backoff; i++) {
		uint64_t a = seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0, i - 2)->t_us;
		uint64_t b = seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0, i - 1)->t_us;
		uint64_t c = seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0, i)->t_us;
		uint64_t want = 2 * (b - a) < rto_max ? 2 * (b - a) : rto_max;
		if (c - b != want)
			backoff = 0;
	}
	demo_result_check(d->res, backoff,
	                  "each retransmission waited twice as long as the one before");
	const struct demo_transition *cl = trans(d, DEMO_CLIENT, SYNACK_CLOSED, 0);
	demo_result_check(d->res, cl && cl->cause == SYNACK_CAUSE_ORPHAN_RETRIES,
	                  "client closed by itself after orphan_retries");
	check_counter(d, DEMO_CLIENT, "OrphanRetriesExceeded", 1);
}

static void sc_fin_wait_2_timeout(struct demo *d)
{
	d->show_ss = 1;
	if (open_conn(d) && exchange(d)) {
		app_close(d, DEMO_SERVER);
		recv_eof(d, DEMO_CLIENT);
		note(d, DEMO_CLIENT, "client app: hangs, never calls close()");
	}
}

static void ck_fin_wait_2_timeout(struct demo *d)
{
	check_path(d, DEMO_CLIENT, "CLOSED>SYN_SENT>ESTABLISHED>CLOSE_WAIT");
	check_path(d, DEMO_SERVER,
	           PATH_LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>CLOSED");
	check_timed_state(d, DEMO_SERVER, SYNACK_FIN_WAIT_2,
	                  (uint64_t)d->cfg[1].fin_timeout_ms * 1000, "fin_timeout_ms");
	const struct demo_transition *cl = trans(d, DEMO_SERVER, SYNACK_CLOSED, 0);
	demo_result_check(d->res, cl && cl->cause == SYNACK_CAUSE_FIN_WAIT_2_TIMEOUT,
	                  "server's orphaned FIN_WAIT_2 ended by fin_wait_2_timeout");
	check_counter(d, DEMO_SERVER, "FinWait2Timeouts", 1);
	demo_result_check(d->res, d->res->host[DEMO_SERVER].stats.orphans_live == 0,
	                  "no orphan left on the server");
}

/* Printable bytes for the data scenarios, so that a mix-up shows. */
static void fill_payload(uint8_t *buf, size_t n, unsigned salt)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)('a' + (i * 7 + i / 26 + salt) % 26);
}

static void check_payload(struct demo *d, int h, size_t n, unsigned salt)
{
	uint8_t want[RXBUF];
	fill_payload(want, n, salt);
	int ok = n <= RXBUF && d->nrx[h] == n && memcmp(d->rx[h], want, n) == 0;
	demo_result_check(d->res, ok, "%s received exactly the %zu bytes sent (got %zu)", H(h), n,
	                  d->nrx[h]);
}

/* Two full segments fill the server's receive buffer; the client has four
 * to send. */
#define ZW_RCVBUF 2920
#define ZW_BYTES 5840
#define ZW_SALT 3
#define ZW_PAUSE_MS 2500

static void sc_zero_window(struct demo *d)
{
	uint8_t data[ZW_BYTES];
	fill_payload(data, sizeof(data), ZW_SALT);
	d->server_rcvbuf = ZW_RCVBUF;
	if (!open_conn(d))
		return;
	note(d, DEMO_SERVER, "server app: busy, does not read");
	if (app_send(d, DEMO_CLIENT, data, sizeof(data)) != (long)sizeof(data))
		return;
	/* The pause counts from when the buffer is full, so that a lost
	 * segment (--loss) delays the zero window but does not hide it. */
	for (;;) {
		struct synack_tcp_info ti;
		if (synack_tcp_info(d->st[DEMO_SERVER], d->sock[DEMO_SERVER], &ti) != 0 ||
		    ti.recv_queue >= ZW_RCVBUF || step(d) == SYNACK_NEVER)
			break;
	}
	sleep_ms(d, ZW_PAUSE_MS);
	note(d, DEMO_SERVER, "server app: reads again");
	if (!recv_bytes(d, DEMO_SERVER, sizeof(data)))
		return;
	app_close(d, DEMO_CLIENT);
	passive_close(d, DEMO_SERVER);
}

/*
 * The zero-window episode as the client saw it: the log positions of the
 * first segment that closed the window and of the first later one that
 * opened it again (for the data it had acknowledged, so that a stale
 * duplicate does not count), or -1.
 */
static void zero_window_span(struct demo *d, long *closed, long *opened)
{
	*closed = *opened = -1;
	uint32_t ack = 0;
	for (size_t i = 0; i < d->log.n; i++) {
		const struct render_event *e = &d->log.ev[i];
		if (e->kind != RENDER_TRACE || e->host != DEMO_CLIENT ||
		    e->tr.kind != SYNACK_TRACE_RX || !(e->tr.flags & SYNACK_TH_ACK))
			continue;
		if (*closed < 0 && e->tr.win == 0) {
			*closed = (long)i;
			ack = e->tr.ack;
		} else if (*closed >= 0 && e->tr.win > 0 && (int32_t)(e->tr.ack - ack) >= 0) {
			*opened = (long)i;
			return;
		}
	}
}

static void ck_zero_window(struct demo *d)
{
	check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	check_payload(d, DEMO_SERVER, ZW_BYTES, ZW_SALT);
	long closed, opened;
	zero_window_span(d, &closed, &opened);
	const struct render_event *zw = closed >= 0 ? &d->log.ev[closed] : NULL;
	demo_result_check(d->res, zw != NULL, "the server advertised a zero window (at %.3f ms)",
	                  zw ? (double)zw->t_us / 1000.0 : -1.0);
	/* Every segment the client sent while the window was zero is a probe:
	 * it has nothing else to send then. */
	uint64_t t[16];
	int probes = 0;
	long end = opened >= 0 ? opened : (long)d->log.n;
	for (long i = closed + 1; closed >= 0 && i < end; i++) {
		const struct render_event *e = &d->log.ev[i];
		if (e->kind != RENDER_TRACE || e->host != DEMO_CLIENT ||
		    e->tr.kind != SYNACK_TRACE_TX)
			continue;
		if (probes < 16)
			t[probes] = e->t_us;
		probes++;
	}
	demo_result_check(
	    d->res, probes >= 2,
	    "the client sent %d window probes while the window was zero (WinProbes %llu)", probes,
	    (unsigned long long)counter(d, DEMO_CLIENT, "WinProbes"));
	char gaps[64] = "";
	int grew = probes >= 2, n = 0;
	for (int i = 1; i < probes && i < 16; i++) {
		uint64_t gap = t[i] - t[i - 1];
		if (i >= 2 && gap < t[i - 1] - t[i - 2])
			grew = 0;
		n += snprintf(gaps + n, sizeof(gaps) - (size_t)n, "%s%.0f", i > 1 ? ", " : "",
		              (double)gap / 1000.0);
		if (n >= (int)sizeof(gaps))
			break;
	}
	demo_result_check(d->res, grew,
	                  "each probe waited at least as long as the one before (%s ms apart)",
	                  gaps);
	/* The window update: the server's own segment that opened the window,
	 * and the client's data that followed it. */
	const struct render_event *upd = opened >= 0 ? &d->log.ev[opened] : NULL;
	int data_after = 0;
	for (long i = opened + 1; opened >= 0 && i < (long)d->log.n; i++) {
		const struct render_event *e = &d->log.ev[i];
		if (e->kind == RENDER_TRACE && e->host == DEMO_CLIENT &&
		    e->tr.kind == SYNACK_TRACE_TX && e->tr.len > 0)
			data_after++;
	}
	demo_result_check(
	    d->res, upd && data_after > 0,
	    "a window update (win %lu) reopened it and the client sent the rest (%d segments)",
	    upd ? (unsigned long)upd->tr.win : 0ul, data_after);
	/* Name the probes on the ladder, since they look like plain ACKs. */
	for (int i = 0; i < probes && i < 16; i++) {
		struct render_event *e = render_log_add(&d->log, t[i], DEMO_CLIENT, RENDER_NOTE);
		if (e)
			snprintf(e->text, sizeof(e->text), "window probe %d (persist timer)",
			         i + 1);
	}
}

/* Eight segments in one flight; the second is lost, and the six after it
 * each make the receiver say again what it is missing. */
#define RT_BYTES (8 * 1460)
#define RT_SALT 11
#define RT_LOST_NTH 2

static void sc_retransmit(struct demo *d)
{
	uint8_t data[RT_BYTES];
	fill_payload(data, sizeof(data), RT_SALT);
	d->fmode = FILTER_LOSE_DATA;
	d->f_armed = 1;
	d->f_nth = RT_LOST_NTH;
	if (!open_conn(d))
		return;
	note(d, DEMO_CLIENT, "the network will lose the second data segment");
	if (app_send(d, DEMO_CLIENT, data, sizeof(data)) != (long)sizeof(data))
		return;
	if (!recv_bytes(d, DEMO_SERVER, sizeof(data)))
		return;
	app_close(d, DEMO_CLIENT);
	passive_close(d, DEMO_SERVER);
}

static void ck_retransmit(struct demo *d)
{
	check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	check_payload(d, DEMO_SERVER, RT_BYTES, RT_SALT);
	uint32_t seq = d->f_lost_seq;
	const struct render_event *first = NULL, *again = NULL;
	int sent = 0;
	for (int i = 0; d->f_lost; i++) {
		const struct render_event *e = seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, 0, 0, 1, i);
		if (!e)
			break;
		if (e->tr.seq != seq)
			continue;
		if (sent == 0)
			first = e;
		else if (sent == 1)
			again = e;
		sent++;
	}
	uint32_t rel = first ? seq - first->tr.iss : 0;
	demo_result_check(d->res, first && first->fate_known && first->lost,
	                  "data segment %d (seq %lu) was lost", RT_LOST_NTH, (unsigned long)rel);
	demo_result_check(d->res, sent >= 2, "the client sent seq %lu %d times", (unsigned long)rel,
	                  sent);
	/* Which mechanism repaired it: fast retransmit if the counter moved,
	 * else the retransmission timeout. */
	int dups = -1; /* ACKs for the missing byte before the retransmission, but the first */
	for (int i = 0; again; i++) {
		const struct render_event *e = seg(d, DEMO_CLIENT, SYNACK_TRACE_RX, SYNACK_TH_ACK,
		                                   SYNACK_TH_SYN | SYNACK_TH_FIN, -1, i);
		if (!e || e > again)
			break;
		if (e->tr.ack == seq)
			dups++;
	}
	uint64_t fast = counter(d, DEMO_CLIENT, "FastRetrans");
	uint64_t waited = first && again ? again->t_us - first->t_us : 0;
	uint64_t rto_min = (uint64_t)d->cfg[DEMO_CLIENT].rto_min_ms * 1000;
	const char *how;
	if (fast > 0 && dups >= 3) {
		how = "fast retransmit";
		demo_result_check(
		    d->res, again != NULL,
		    "repaired by fast retransmit after %d duplicate ACKs (FastRetrans %llu)", dups,
		    (unsigned long long)fast);
	} else if (fast > 0) {
		/* Already in fast recovery for an earlier hole (--reorder, --loss):
		 * the ACK that filled it was partial and NewReno sent the next
		 * hole at once (RFC 6582 3.2 step 3), sooner than any timeout. */
		how = "fast recovery";
		demo_result_check(
		    d->res, again && waited < rto_min,
		    "repaired in fast recovery on a partial ACK after %.3f ms (FastRetrans %llu)",
		    (double)waited / 1000.0, (unsigned long long)fast);
	} else {
		how = "retransmission timeout";
		demo_result_check(
		    d->res, again && waited >= rto_min,
		    "repaired by a retransmission timeout after %.3f ms (Timeouts %llu)",
		    (double)waited / 1000.0,
		    (unsigned long long)counter(d, DEMO_CLIENT, "Timeouts"));
	}
	if (again) {
		struct render_event *e =
		    render_log_add(&d->log, again->t_us, DEMO_CLIENT, RENDER_NOTE);
		if (e)
			snprintf(e->text, sizeof(e->text), "^ %s of seq %lu", how,
			         (unsigned long)rel);
	}
}

static const struct scenario SCENARIOS[] = {
    {{"handshake",
      "open, request/response, the client closes first: FIN, ACK, FIN, ACK, TIME_WAIT"},
     "Three segments open the connection and both ends learn each other's ISN; four "
     "segments close it, one direction at a time, and the active closer waits in "
     "TIME_WAIT before it forgets the connection.",
     sc_handshake,
     ck_handshake,
     ATTACK_NONE},
    {{"server-closes-first", "the same exchange with the server as the active closer"},
     "Either end may close first: the active closer goes through FIN_WAIT_1, FIN_WAIT_2 "
     "and TIME_WAIT, the passive one through CLOSE_WAIT and LAST_ACK.",
     sc_server_closes_first,
     ck_server_closes_first,
     ATTACK_NONE},
    {{"simultaneous-open", "both ends connect to each other at once: SYN_SENT -> SYN_RECEIVED"},
     "Two SYNs cross: each end answers the other's SYN with SYN+ACK and both reach "
     "ESTABLISHED through SYN_RECEIVED, with no listener at all.",
     sc_simultaneous_open,
     ck_simultaneous_open,
     ATTACK_NONE},
    {{"simultaneous-close", "both ends close at once: FIN_WAIT_1 -> CLOSING -> TIME_WAIT"},
     "Two FINs cross: each end is in FIN_WAIT_1 when the other's FIN arrives, goes to "
     "CLOSING, and to TIME_WAIT when its own FIN is acknowledged.",
     sc_simultaneous_close,
     ck_simultaneous_close,
     ATTACK_NONE},
    {{"half-close", "the client shuts down writing and keeps reading in FIN_WAIT_2"},
     "A FIN closes one direction only: after shutdown(SHUT_WR) the client keeps receiving "
     "the server's data in FIN_WAIT_2 until the server closes too.",
     sc_half_close,
     ck_half_close,
     ATTACK_NONE},
    {{"fin-before-data", "the FIN overtakes the last data segment; the receiver waits for it"},
     "A FIN takes effect only in sequence: the receiver holds an early FIN until every "
     "byte before it has arrived, delivers them in order, and only then enters CLOSE_WAIT.",
     sc_fin_before_data,
     ck_fin_before_data,
     ATTACK_NONE},
    {{"time-wait-straggler", "old data and a retransmitted FIN reach the client in TIME_WAIT"},
     "TIME_WAIT absorbs what is still in flight: old data is dropped, never delivered, and "
     "a retransmitted FIN (the last ACK was lost) is acknowledged again and restarts the "
     "2 MSL timer.",
     sc_time_wait_straggler,
     ck_time_wait_straggler,
     ATTACK_NONE},
    {{"refused", "connect to a port nobody listens on: RST, ECONNREFUSED"},
     "A SYN to a closed port is answered with a RST (RFC 9293 3.10.7.1) and the connect "
     "fails with ECONNREFUSED.",
     sc_refused,
     ck_refused,
     ATTACK_NONE},
    {{"syn-lost", "the first SYN is lost; the client retransmits it after the RTO"},
     "A lost SYN costs one initial RTO: the client sends the same SYN again after 1 s and "
     "the handshake completes.",
     sc_syn_lost,
     ck_syn_lost,
     ATTACK_NONE},
    {{"close-wait-leak", "the server app never closes: CLOSE_WAIT forever, shown like ss"},
     "An application that never calls close() leaves its connection in CLOSE_WAIT for "
     "good, while the peer's orphaned FIN_WAIT_2 times out after fin_timeout_ms.",
     sc_close_wait_leak,
     ck_close_wait_leak,
     ATTACK_NONE},
    {{"fin-wait-1-stuck", "the peer vanishes after our FIN: retries with backoff, then CLOSED"},
     "A FIN that is never acknowledged is retransmitted with exponential backoff, and "
     "after orphan_retries the connection closes by itself.",
     sc_fin_wait_1_stuck,
     ck_fin_wait_1_stuck,
     ATTACK_NONE},
    {{"fin-wait-2-timeout", "our FIN is acknowledged but the peer app never closes"},
     "FIN_WAIT_2 is not a network fault: the peer acknowledged our FIN but its "
     "application does not close; the orphaned FIN_WAIT_2 ends after fin_timeout_ms.",
     sc_fin_wait_2_timeout,
     ck_fin_wait_2_timeout,
     ATTACK_NONE},
    {{"zero-window", "the server stops reading: zero window, persist probes, window update"},
     "A receiver that does not read closes its window; the sender keeps the connection "
     "alive with window probes sent further and further apart by the persist timer, and "
     "sends the rest as soon as a window update reopens the window.",
     sc_zero_window,
     ck_zero_window,
     ATTACK_NONE},
    {{"retransmit", "a data segment is lost and sent again: fast retransmit or RTO"},
     "A lost segment leaves a hole: the receiver acknowledges the last byte before it "
     "for every segment that arrives after it, and the sender repairs it, after three "
     "duplicate ACKs (fast retransmit) or when its retransmission timer expires.",
     sc_retransmit,
     ck_retransmit,
     ATTACK_NONE},
    {{"syn-flood", "1,000,000 spoofed SYNs while 1,000 clients connect: SYN queue, SYN cookies"},
     "A SYN flood fills the listener's SYN queue with connections that will never complete, "
     "but it fills nothing else: past the queue every SYN is answered with a SYN cookie and "
     "forgotten, the legitimate clients' ACKs bring their cookies back, and the memory the "
     "server holds stays bounded by the queue, whatever the number of spoofed SYNs.",
     NULL,
     NULL,
     ATTACK_SYN_FLOOD},
    {{"blind-reset", "an off-path attacker sweeps the sequence space with RSTs"},
     "A blind attacker who knows the ports can walk the sequence space a window at a time, "
     "but only a RST at exactly RCV.NXT resets a connection (RFC 5961 3.2): one landing "
     "anywhere else in the window gets a challenge ACK, which the real peer ignores.",
     NULL,
     NULL,
     ATTACK_BLIND_RESET},
    {{"blind-data", "an off-path attacker injects data with guessed sequence numbers"},
     "Injected text that lands in the window still has to carry an acceptable "
     "acknowledgment (RFC 5961 5.2): the attacker does not know SND.UNA, so its segments "
     "are challenged and dropped before a byte reaches the application.",
     NULL,
     NULL,
     ATTACK_BLIND_DATA},
    {{"ack-flood", "1,000,000 spoofed ACKs at a listener that checks every one as a cookie"},
     "With SYN cookies every ACK to a listener might complete a handshake, so every one is "
     "checked; a forged one fails the cookie's MAC and is answered with a RST, and no "
     "state is created by any of them.",
     NULL,
     NULL,
     ATTACK_ACK_FLOOD},
};

#define NSCENARIOS (sizeof(SCENARIOS) / sizeof(SCENARIOS[0]))

size_t demo_scenario_count(void)
{
	return NSCENARIOS;
}

const struct demo_scenario_info *demo_scenario_info(size_t i)
{
	return i < NSCENARIOS ? &SCENARIOS[i].info : NULL;
}

int demo_scenario_find(const char *name)
{
	for (size_t i = 0; i < NSCENARIOS; i++)
		if (strcmp(SCENARIOS[i].info.name, name) == 0)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Options.                                                            */

void demo_opts_default(struct demo_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->scenario = "handshake";
	o->seed = 1;
	o->delay_ms = -1;
	o->time_wait_ms = -1;
	o->fin_timeout_ms = -1;
	o->count = -1;
	o->clients = -1;
}

void demo_usage(FILE *out)
{
	fputs(
	    "usage: synack demo [SCENARIO] [--seed N] [--loss P] [--dup P] [--reorder P]\n"
	    "                   [--delay-ms N] [--time-wait-ms N] [--fin-timeout-ms N] [--json]\n"
	    "       synack demo --list\n"
	    "\n"
	    "Runs two synack stacks (client 10.0.0.1, server 10.0.0.2) over the simulated\n"
	    "network on a virtual clock and draws what happens as a ladder diagram, or as\n"
	    "JSON lines with --json.  SCENARIO defaults to handshake.\n"
	    "\n"
	    "  --seed N            seed of the network and of both hosts' secrets (default 1)\n"
	    "  --loss P            probability a datagram is lost, each direction (0..1)\n"
	    "  --dup P             probability a datagram is duplicated (0..1)\n"
	    "  --reorder P         probability a datagram is held back and overtaken (0..1)\n"
	    "  --delay-ms N        one-way delay in milliseconds (default 10)\n"
	    "  --time-wait-ms N    TIME_WAIT length of both hosts (default: the stack's, 60000)\n"
	    "  --fin-timeout-ms N  orphaned FIN_WAIT_2 lifetime (default: the stack's, 60000)\n"
	    "  --count N           attack scenarios: forged segments (syn-flood, ack-flood:\n"
	    "                      1000000; blind-*: one sweep of the sequence space per client)\n"
	    "  --clients N         attack scenarios: legitimate clients (floods 1000, blind-* 4)\n"
	    "  --json              one JSON object per line; the last is the summary\n"
	    "  --list              list the scenarios\n"
	    "\n"
	    "Exit status: 0 when the scenario showed what it should, 1 when not, 2 on bad usage.\n",
	    out);
}

void demo_list(FILE *out)
{
	for (size_t i = 0; i < NSCENARIOS; i++)
		fprintf(out, "%-22s %s\n", SCENARIOS[i].info.name, SCENARIOS[i].info.description);
}

int demo_parse_args(int argc, char **argv, struct demo_opts *o, char *err, size_t errlen)
{
	/* Flags with a value: "--flag value" or "--flag=value". */
	static const char *const VALUED[] = {"--seed",           "--loss",     "--dup",
	                                     "--reorder",        "--delay-ms", "--time-wait-ms",
	                                     "--fin-timeout-ms", "--count",    "--clients"};
	int have_scenario = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == 0) {
			if (have_scenario) {
				snprintf(err, errlen, "only one scenario at a time ('%s' and '%s')",
				         o->scenario, a);
				return -1;
			}
			if (demo_scenario_find(a) < 0) {
				snprintf(err, errlen,
				         "unknown scenario '%s' (synack demo --list shows them)",
				         a);
				return -1;
			}
			o->scenario = a;
			have_scenario = 1;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			o->json = 1;
			continue;
		}
		if (strcmp(a, "--list") == 0) {
			o->list = 1;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = 1;
			continue;
		}
		const char *val = NULL;
		int which = cli_flag_value(argc, argv, &i, VALUED,
		                           sizeof(VALUED) / sizeof(VALUED[0]), &val, err, errlen);
		if (which == -2)
			return -1;
		if (which < 0) {
			snprintf(err, errlen, "unknown option '%s' (synack demo --help)", a);
			return -1;
		}
		const char *f = VALUED[which];
		int bad;
		switch (which) {
		case 0:
			bad = cli_flag_u64(f, val, UINT64_MAX, &o->seed, err, errlen);
			break;
		case 1:
			bad = cli_flag_prob(f, val, &o->loss, err, errlen);
			break;
		case 2:
			bad = cli_flag_prob(f, val, &o->dup, err, errlen);
			break;
		case 3:
			bad = cli_flag_prob(f, val, &o->reorder, err, errlen);
			break;
		case 4:
			bad = cli_flag_ms(f, val, UINT32_MAX / 1000, &o->delay_ms, err, errlen);
			break;
		case 5:
			bad = cli_flag_ms(f, val, UINT32_MAX, &o->time_wait_ms, err, errlen);
			break;
		case 6:
			bad = cli_flag_ms(f, val, UINT32_MAX, &o->fin_timeout_ms, err, errlen);
			break;
		case 7:
			bad = cli_flag_ms(f, val, 100000000, &o->count, err, errlen);
			break;
		default:
			bad = cli_flag_ms(f, val, 60000, &o->clients, err, errlen);
			if (!bad && o->clients == 0) {
				snprintf(err, errlen, "--clients: at least 1");
				bad = -1;
			}
			break;
		}
		if (bad)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The run.                                                            */

static void match_fates(struct demo *d)
{
	for (int h = 0; h < 2; h++) {
		size_t cursor = 0;
		for (size_t i = 0; i < d->log.n; i++) {
			struct render_event *e = &d->log.ev[i];
			if (e->kind != RENDER_TRACE || e->host != h ||
			    e->tr.kind != SYNACK_TRACE_TX)
				continue;
			for (size_t j = cursor; j < d->npk && j < cursor + 256; j++) {
				struct tap_pkt *t = &d->pk[j];
				struct seginfo si;
				if (t->matched || t->from != d->hid[h] ||
				    !parse_seg(t->bytes, t->len, &si))
					continue;
				if (si.seq != e->tr.seq || si.flags != e->tr.flags ||
				    si.len != e->tr.len || si.sport != e->tr.local.port ||
				    si.dport != e->tr.remote.port ||
				    ((si.flags & SYNACK_TH_ACK) && si.ack != e->tr.ack))
					continue;
				t->matched = 1;
				e->fate_known = t->lost || t->narrive > 0;
				e->lost = t->lost;
				e->narrive = t->narrive;
				memcpy(e->arrive_us, t->arrive_us, sizeof(e->arrive_us));
				while (cursor < d->npk &&
				       (d->pk[cursor].matched || d->pk[cursor].from != d->hid[h]))
					cursor++;
				break;
			}
		}
	}
}

struct ss_ctx {
	FILE *out;
	const char *host;
	uint64_t now;
	int json;
	int first;
};

static void ss_line(void *ctx, const struct synack_conn *c)
{
	struct ss_ctx *x = ctx;
	char l[32], r[32];
	synack_endpoint_str(&c->local, l, sizeof(l));
	if (c->remote.addr == 0 && c->remote.port == 0)
		snprintf(r, sizeof(r), "*:*");
	else
		synack_endpoint_str(&c->remote, r, sizeof(r));
	uint64_t age = x->now >= c->state_since_us ? x->now - c->state_since_us : 0;
	if (x->json) {
		fprintf(x->out,
		        "%s{\"state\":\"%s\",\"local\":\"%s\",\"peer\":\"%s\",\"age_us\":%llu}",
		        x->first ? "" : ",", synack_state_name(c->state), l, r,
		        (unsigned long long)age);
		x->first = 0;
		return;
	}
	fprintf(x->out, "  %-7s %-12s %-22s %-22s %6u %6u %11.3f s%s\n", x->host,
	        synack_state_name(c->state), l, r, (unsigned)c->recv_queue, (unsigned)c->send_queue,
	        (double)age / 1e6, c->socket < 0 ? "  (orphan)" : "");
}

static void print_ss(struct demo *d, FILE *out)
{
	fprintf(out, "\nss at %.3f ms:\n", (double)now(d) / 1000.0);
	fprintf(out, "  %-7s %-12s %-22s %-22s %6s %6s %13s\n", "host", "State", "Local", "Peer",
	        "Recv-Q", "Send-Q", "Age");
	for (int h = 0; h < 2; h++) {
		struct ss_ctx x = {out, H(h), now(d), 0, 1};
		if (synack_conns(d->st[h], ss_line, &x) == 0)
			fprintf(out, "  %-7s (no connections)\n", H(h));
	}
}

static const char *const SUMMARY_COUNTERS[] = {
    "ActiveOpens",      "PassiveOpens",    "AttemptFails",     "EstabResets",
    "OutSegs",          "InSegs",          "RetransSegs",      "OutRsts",
    "TimeWaitEntered",  "TimeWaitExpired", "FinWait2Timeouts", "OrphanRetriesExceeded",
    "DelayedFinQueued", "OfoQueued",       "ChallengeAcks",
};

static void json_summary(struct demo *d, FILE *out)
{
	struct demo_result *r = d->res;
	char path[512];
	fprintf(out,
	        "{\"ev\":\"summary\",\"ok\":%s,\"scenario\":\"%s\",\"seed\":%llu,\"t_us\":%llu",
	        r->ok ? "true" : "false", r->scenario, (unsigned long long)d->o->seed,
	        (unsigned long long)r->end_us);
	for (int h = 0; h < 2; h++) {
		fprintf(out, ",\"%s\":{\"iss\":%lu,\"states\":", H(h),
		        (unsigned long)r->host[h].iss);
		render_json_string(out, demo_state_path(r, h, path, sizeof(path)));
		fprintf(out, ",\"conns\":[");
		struct ss_ctx x = {out, H(h), now(d), 1, 1};
		synack_conns(d->st[h], ss_line, &x);
		fprintf(out, "],\"counters\":{");
		for (size_t i = 0; i < sizeof(SUMMARY_COUNTERS) / sizeof(SUMMARY_COUNTERS[0]); i++)
			fprintf(out, "%s\"%s\":%llu", i ? "," : "", SUMMARY_COUNTERS[i],
			        (unsigned long long)counter(d, h, SUMMARY_COUNTERS[i]));
		fprintf(out, "}}");
	}
	fprintf(out, ",\"capped\":%s,\"checks\":[", r->capped ? "true" : "false");
	for (size_t i = 0; i < r->nchecks; i++) {
		fprintf(out, "%s{\"ok\":%s,\"what\":", i ? "," : "",
		        r->checks[i].ok ? "true" : "false");
		render_json_string(out, r->checks[i].what);
		fputc('}', out);
	}
	fputs("]}\n", out);
}

/* Prints text as lines of at most width columns, broken at spaces; the first
 * line starts with `first`, the others with as many spaces. */
static void print_wrapped(FILE *out, const char *first, const char *text, int width)
{
	const char *p = text;
	int indent = (int)strlen(first);
	int avail = width - indent;
	fputs(first, out);
	while (*p) {
		int n = (int)strlen(p);
		if (n > avail) {
			n = avail;
			while (n > 0 && p[n] != ' ')
				n--;
			if (n == 0)
				n = avail;
		}
		fprintf(out, "%.*s\n", n, p);
		p += n;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(out, "%*s", indent, "");
	}
}

static void ladder_summary(struct demo *d, FILE *out)
{
	struct demo_result *r = d->res;
	char path[512];
	if (d->show_ss)
		print_ss(d, out);
	fputc('\n', out);
	print_wrapped(out, "", d->sc->moral, 90);
	fputc('\n', out);
	for (int h = 0; h < 2; h++)
		fprintf(out, "  %s: %s\n", H(h), demo_state_path(r, h, path, sizeof(path)));
	fputc('\n', out);
	for (size_t i = 0; i < r->nchecks; i++)
		print_wrapped(out, r->checks[i].ok ? "  ok     " : "  FAILED ", r->checks[i].what,
		              96);
	if (r->capped)
		fprintf(out, "  FAILED the run hit its cap of virtual time or steps\n");
	fprintf(out, "\n%s\n", r->ok ? "ok" : "FAILED");
}

static int setup(struct demo *d)
{
	const struct demo_opts *o = d->o;
	for (int h = 0; h < 2; h++) {
		struct synack_config *c = &d->cfg[h];
		synack_config_default(c);
		c->addr = h == DEMO_CLIENT ? CLIENT_ADDR : SERVER_ADDR;
		cli_derive_secret(o->seed, h, c->secret);
		if (o->time_wait_ms >= 0)
			c->time_wait_ms = (uint32_t)o->time_wait_ms;
		if (o->fin_timeout_ms >= 0)
			c->fin_timeout_ms = (uint32_t)o->fin_timeout_ms;
		char err[160] = "";
		if (synack_config_check(c, err, sizeof(err)) != 0) {
			snprintf(d->res->error, sizeof(d->res->error), "%s",
			         err[0] ? err : "bad setting");
			return -EINVAL;
		}
		int e = 0;
		d->st[h] = synack_stack_new(c, &e);
		if (!d->st[h]) {
			snprintf(d->res->error, sizeof(d->res->error), "cannot create a stack: %s",
			         synack_strerror(e));
			return e ? e : -ENOMEM;
		}
	}
	d->sim = synack_sim_new(o->seed);
	if (!d->sim) {
		snprintf(d->res->error, sizeof(d->res->error), "out of memory");
		return -ENOMEM;
	}
	d->hid[DEMO_CLIENT] = synack_sim_add_host(d->sim, d->st[DEMO_CLIENT], "client");
	d->hid[DEMO_SERVER] = synack_sim_add_host(d->sim, d->st[DEMO_SERVER], "server");
	if (d->hid[0] < 0 || d->hid[1] < 0) {
		snprintf(d->res->error, sizeof(d->res->error), "cannot attach the hosts");
		return -ENOMEM;
	}
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.loss = o->loss;
	p.dup = o->dup;
	p.reorder = o->reorder;
	p.delay_us = (uint32_t)((o->delay_ms >= 0 ? o->delay_ms : DEFAULT_DELAY_MS) * 1000);
	if (synack_sim_set_path(d->sim, d->hid[0], d->hid[1], &p) != 0 ||
	    synack_sim_set_path(d->sim, d->hid[1], d->hid[0], &p) != 0) {
		snprintf(d->res->error, sizeof(d->res->error), "bad path impairments");
		return -EINVAL;
	}
	synack_sim_set_tap(d->sim, tap_fn, d);
	synack_sim_set_filter(d->sim, filter_fn, d);
	return 0;
}

static void teardown(struct demo *d)
{
	if (d->sim)
		synack_sim_free(d->sim);
	for (int h = 0; h < 2; h++)
		if (d->st[h])
			synack_stack_free(d->st[h]);
	for (size_t i = 0; i < d->npk; i++)
		free(d->pk[i].bytes);
	free(d->pk);
	render_log_free(&d->log);
}

int demo_run(const struct demo_opts *o, FILE *out, struct demo_result *res)
{
	struct demo_opts defaults;
	if (!o) {
		demo_opts_default(&defaults);
		o = &defaults;
	}
	memset(res, 0, sizeof(*res));
	const char *name = o->scenario ? o->scenario : "handshake";
	int idx = demo_scenario_find(name);
	if (idx < 0) {
		snprintf(res->error, sizeof(res->error), "unknown scenario '%s'", name);
		return -EINVAL;
	}
	if (!(o->loss >= 0 && o->loss <= 1 && o->dup >= 0 && o->dup <= 1 && o->reorder >= 0 &&
	      o->reorder <= 1)) {
		snprintf(res->error, sizeof(res->error), "probabilities must be in [0, 1]");
		return -EINVAL;
	}
	struct demo *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -ENOMEM;
	}
	if (SCENARIOS[idx].attack) {
		free(d);
		snprintf(res->scenario, sizeof(res->scenario), "%s", name);
		res->ok = 1;
		return attack_run(o, SCENARIOS[idx].attack, SCENARIOS[idx].moral, out, res);
	}
	d->o = o;
	d->sc = &SCENARIOS[idx];
	d->res = res;
	d->lsock = d->sock[0] = d->sock[1] = -1;
	d->ep[DEMO_CLIENT].addr = CLIENT_ADDR;
	d->ep[DEMO_SERVER] = (struct synack_endpoint){SERVER_ADDR, SERVER_PORT};
	render_log_init(&d->log);
	snprintf(res->scenario, sizeof(res->scenario), "%s", name);
	res->ok = 1;
	int rc = setup(d);
	if (rc == 0) {
		d->sc->run(d);
		finish(d);
		res->end_us = now(d);
		for (int h = 0; h < 2; h++)
			synack_stats(d->st[h], &res->host[h].stats);
		render_log_sort(&d->log);
		match_fates(d);
		d->sc->check(d);
		render_log_sort(&d->log); /* checks may have added notes */
		if (res->capped)
			res->ok = 0;
		if (d->oom) {
			res->ok = 0;
			demo_result_check(d->res, 0, "ran out of memory");
		}
		if (out) {
			if (o->json) {
				render_json(out, &d->log);
				json_summary(d, out);
			} else {
				struct render_ladder_info info = {
				    d->sc->info.name, d->sc->info.description, o->seed,
				    d->ep[DEMO_CLIENT], d->ep[DEMO_SERVER]};
				render_ladder(out, &d->log, &info);
				ladder_summary(d, out);
			}
		}
	}
	teardown(d);
	free(d);
	return rc;
}

const char *demo_state_path(const struct demo_result *res, int host, char *buf, size_t len)
{
	const struct demo_host_result *hr = &res->host[host];
	size_t n = 0;
	int done[DEMO_MAX_TRANSITIONS] = {0};
	if (len == 0)
		return buf;
	buf[0] = 0;
#define APPEND(...)                                                                                \
	do {                                                                                       \
		int k_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__);                    \
		if (k_ > 0)                                                                        \
			n += (size_t)k_;                                                           \
		if (n >= len)                                                                      \
			n = len - 1;                                                               \
	} while (0)
	for (size_t i = 0; i < hr->ntr; i++) {
		if (done[i])
			continue;
		const struct demo_transition *a = &hr->tr[i];
		if (n > 0)
			APPEND("; ");
		APPEND("%s", synack_state_name(a->from));
		int last = -1;
		for (size_t j = i; j < hr->ntr; j++) {
			const struct demo_transition *b = &hr->tr[j];
			if (done[j] || !ep_same(&a->local, &b->local) ||
			    !ep_same(&a->remote, &b->remote))
				continue;
			done[j] = 1;
			if (last >= 0 && b->from != last)
				APPEND("~%s", synack_state_name(b->from));
			APPEND(">%s", synack_state_name(b->to));
			last = b->to;
		}
	}
#undef APPEND
	return buf;
}

uint64_t demo_figure(const struct demo_result *res, const char *name)
{
	for (size_t i = 0; i < res->nfigures; i++)
		if (strcmp(res->figures[i].name, name) == 0)
			return res->figures[i].value;
	return UINT64_MAX;
}
