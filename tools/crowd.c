/*
 * The engine of scripts with `trace off` (crowd.h, docs/SCRIPTS.md): a
 * server (10.0.0.2, or 2001:db8::2 with --ipv6) and a crowd of client
 * stacks (`clients N from PREFIX`, one stack and one address each) on the
 * simulated network, each client running the built-in echo application
 * (`echo N bytes every T rounds R`: connect, send, check the echo byte for
 * byte, pause, again) while the server echoes every connection from one
 * event loop; off-path attackers inject forged segments straight at the
 * server: `flood` from spoofed sources, `sweep` on the crowd's own
 * addresses and ports through the sequence space a window at a time (the
 * blind attacks of RFC 5961).  The run ends with the file's figures and
 * its `expect figure` checks.
 *
 * Time goes in ticks of 1 ms while the attacks last and clients are still
 * to start: at each tick the applications run, the clients due connect,
 * then each attack injects its tick's share of segments.  Afterwards the
 * network runs until the clients are done and every timer has run out.
 */
#include "crowd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "synack/sim.h"
#include "wire/wire.h"
#include "wire/wire6.h"

#define SERVER_ADDR 0x0a000002u /* 10.0.0.2 */
/* With --ipv6 (issue 14): the server 2001:db8::2, client i 2001:db8:1::i+1,
 * spoofed flood sources in 2001:db8:8000::/33, none of them ours. */
static const uint8_t SERVER6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
#define DELAY_US 10000u
#define TICK_US 1000u
#define CAP_US (600ull * 1000000u) /* virtual time */
#define MAX_ATTACKS 8

/* ------------------------------------------------------------------ */
/* Figure expressions.                                                 */

static int name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == ':';
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

int crowd_expr(const char *w, size_t len, crowd_lookup_fn look, void *ctx, uint64_t *v, size_t *bad,
               size_t *badlen)
{
	uint64_t sum = 0, prod = 1;
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < len && name_char(w[i]))
			i++;
		if (i == start) {
			*bad = i;
			return -1;
		}
		uint64_t f = 0;
		int digits = 1;
		for (size_t k = start; k < i; k++)
			digits &= w[k] >= '0' && w[k] <= '9';
		if (digits) {
			for (size_t k = start; k < i; k++)
				f = sat_add(sat_mul(f, 10), (uint64_t)(w[k] - '0'));
		} else if (look(ctx, w + start, i - start, &f) != 0) {
			*bad = start;
			*badlen = i - start;
			return -2;
		}
		prod = sat_mul(prod, f);
		if (i == len || w[i] == '+') {
			sum = sat_add(sum, prod);
			prod = 1;
			if (i == len)
				break;
		} else if (w[i] != '*') {
			*bad = i;
			return -1;
		}
		i++;
	}
	*v = sum;
	return 0;
}

/* The figures every crowd run measures (FIG_*, struct crowd's fig[]). */
#define BUILTINS(X)                                                                                \
	X(clients)         /* the crowd's size */                                                  \
	X(legit_ok)        /* clients that did every round intact and closed */                    \
	X(legit_failed)    /* the others */                                                        \
	X(legit_connected) /* clients whose connection opened */                                   \
	X(legit_corrupted) /* clients that got an echo differing from what they sent */            \
	X(legit_reset)     /* clients whose connection was reset (ECONNRESET) */                   \
	X(legit_refused)   /* ... refused (ECONNREFUSED) */                                        \
	X(legit_timeout)   /* ... timed out (ETIMEDOUT) */                                         \
	X(rounds_wanted)   /* echo's rounds, per client */                                         \
	X(rounds_done)     /* echoes received intact, all clients */                               \
	X(accepted)        /* connections the server accepted */                                   \
	X(forged)          /* segments the attackers sent */                                       \
	X(forged_wanted)   /* segments the attacks were to send */                                 \
	X(peak_conns)      /* the server's live TCBs, at most, sampled each tick */                \
	X(peak_orphans)    /* its orphaned connections, at most */                                 \
	X(peak_mem_bytes)  /* its synack_memory() total, at most, sampled */                       \
	X(final_conns)     /* its live TCBs at the end */                                          \
	X(final_orphans)   /* orphans at the end */                                                \
	X(final_time_wait) /* TIME_WAIT at the end */                                              \
	X(syn_queue_max)   /* the listener's SYN queue: min(backlog, max_syn_backlog) */

enum {
#define BUILTIN_ENUM(n) FIG_##n,
	BUILTINS(BUILTIN_ENUM)
#undef BUILTIN_ENUM
	    FIG_COUNT
};

static const char *const BUILTIN_NAMES[] = {
#define BUILTIN_NAME(n) #n,
    BUILTINS(BUILTIN_NAME)
#undef BUILTIN_NAME
};

static int name_eq(const char *a, size_t len, const char *b)
{
	return strlen(b) == len && memcmp(a, b, len) == 0;
}

static int builtin_index(const char *name, size_t len)
{
	for (int i = 0; i < FIG_COUNT; i++)
		if (name_eq(name, len, BUILTIN_NAMES[i]))
			return i;
	return -1;
}

static int counter_index(const char *name, size_t len)
{
	for (size_t i = 0; i < synack_counter_count(); i++)
		if (name_eq(name, len, synack_counter_name(i)))
			return (int)i;
	return -1;
}

/* drop:REASON, a reason of synack_drop_name(). */
static int drop_index(const char *name, size_t len)
{
	if (len < 6 || memcmp(name, "drop:", 5) != 0)
		return -1;
	for (int i = 0; i < SYNACK_DROP_COUNT; i++)
		if (name_eq(name + 5, len - 5, synack_drop_name(i)))
			return i;
	return -1;
}

int crowd_known_name(const char *name, size_t len)
{
	return builtin_index(name, len) >= 0 || counter_index(name, len) >= 0 ||
	       drop_index(name, len) >= 0;
}

/* ------------------------------------------------------------------ */
/* The run's state.                                                    */

enum client_state { C_IDLE, C_CONNECTING, C_WAIT, C_PAUSE, C_DONE, C_FAILED };

struct client {
	struct synack_stack *st;
	int sock;
	int state;
	uint64_t start_us, next_send_us;
	uint16_t port;
	uint32_t rounds;     /* echoes received intact */
	uint32_t got;        /* bytes of the current echo */
	int corrupted;       /* an echo differed from what was sent */
	int connected;       /* its connection opened */
	int err;             /* how it failed */
	uint32_t sweep_base; /* sweeps: where this connection's sweep starts */
	uint32_t swept;      /* forged segments aimed at it so far */
};

struct sconn {
	uint8_t pend[4096];
	size_t plen;
	int eof;
	int used;
};

/* One flood or sweep: its segments spread over its ticks. */
struct attack {
	const struct script_stmt *st;
	int sweep;
	uint64_t count, sent;
	uint64_t first_tick, ticks;
};

struct crowd {
	const struct script *s;
	const struct demo_opts *o;
	struct demo_result *res;
	struct rng rng;
	struct synack_sim *sim;
	struct synack_stack *server;
	struct synack_config scfg;
	int server_host;
	int lsock;
	uint16_t port;
	int backlog;
	/* The crowd and its application. */
	const struct script_stmt *clients;
	struct client *cl;
	size_t ncl;
	uint32_t msg_len, rounds_wanted;
	uint64_t gap_us;
	uint8_t *msg, *rbuf;
	struct attack at[MAX_ATTACKS];
	size_t nat;
	struct sconn *sc; /* by server socket number */
	size_t nsc;
	uint64_t injected;
	uint64_t peak_conns, peak_orphans;
	uint64_t peak_mem;  /* the server's synack_memory() total, sampled */
	uint64_t mem_polls; /* apps() calls, to sample memory every 256th */
	uint64_t accepted;
	int oom;
	int v6; /* --ipv6: every host and every forged datagram IPv6 */
	uint8_t pkt[WIRE_IP6_HDR_LEN + 60 + 1500];
	/* The results, for the figures. */
	uint64_t fig[FIG_COUNT];
	struct synack_stats stats; /* the server's, at the end */
};

/* The server's address, and client i's (its host number n = i + 1), in the
 * run's family. */
static struct addr server_addr(const struct crowd *a)
{
	return a->v6 ? wire_addr6_from_bytes(SERVER6) : addr_v4(SERVER_ADDR);
}
static struct addr client_addr(const struct crowd *a, uint32_t n)
{
	if (!a->v6)
		return addr_v4((uint32_t)a->clients->addr + n);
	struct addr c = {{0x20010db8u, 0x00010000u, 0, n}};
	return c;
}
static struct synack_endpoint server_endpoint(const struct crowd *a)
{
	struct synack_endpoint e;
	memset(&e, 0, sizeof(e));
	e.port = a->port;
	if (a->v6) {
		e.family = SYNACK_AF_INET6;
		memcpy(e.addr6, SERVER6, 16);
	} else {
		e.addr = SERVER_ADDR;
	}
	return e;
}

/* A time of the file: the path's delays are DELAY_US each way. */
static uint64_t span_of(uint64_t us, const struct script_rel *rel)
{
	return us + (uint64_t)(rel->delay * DELAY_US + rel->rtt * 2 * DELAY_US);
}

/* ------------------------------------------------------------------ */
/* The applications: the echo server and the crowd's clients.          */

static uint8_t payload(size_t client, uint32_t round, uint32_t i)
{
	return (uint8_t)('a' + (client * 7 + round * 3 + i) % 26);
}

static struct sconn *sconn(struct crowd *a, int s)
{
	if (s < 0)
		return NULL;
	if ((size_t)s >= a->nsc) {
		size_t n = a->nsc ? a->nsc : 64;
		while (n <= (size_t)s)
			n *= 2;
		struct sconn *p = realloc(a->sc, n * sizeof(*p));
		if (!p) {
			a->oom = 1;
			return NULL;
		}
		memset(p + a->nsc, 0, (n - a->nsc) * sizeof(*p));
		a->sc = p;
		a->nsc = n;
	}
	return &a->sc[s];
}

/* The server echoes everything and closes after the client's FIN. */
static void server_io(struct crowd *a, int s)
{
	struct sconn *c = sconn(a, s);
	if (!c || !c->used)
		return;
	for (;;) {
		if (c->plen) {
			ssize_t n = synack_send(a->server, s, c->pend, c->plen);
			if (n > 0) {
				memmove(c->pend, c->pend + n, c->plen - (size_t)n);
				c->plen -= (size_t)n;
			}
		}
		if (c->eof || c->plen == sizeof(c->pend))
			break;
		ssize_t n =
		    synack_recv(a->server, s, c->pend + c->plen, sizeof(c->pend) - c->plen, 0);
		if (n > 0) {
			c->plen += (size_t)n;
			continue;
		}
		if (n == 0)
			c->eof = 1;
		else if (n != -EAGAIN) {
			c->eof = 1;
			c->plen = 0;
		}
		break;
	}
	if (c->eof && c->plen == 0) {
		synack_close(a->server, s);
		c->used = 0;
	}
}

static void server_poll(struct crowd *a)
{
	struct synack_event ev;
	while (synack_event_next(a->server, &ev)) {
		if (ev.socket == a->lsock) {
			int s;
			while ((s = synack_accept(a->server, a->lsock, NULL)) >= 0) {
				struct sconn *c = sconn(a, s);
				if (!c) {
					synack_close(a->server, s);
					continue;
				}
				memset(c, 0, sizeof(*c));
				c->used = 1;
				a->accepted++;
				server_io(a, s);
			}
			continue;
		}
		server_io(a, ev.socket);
	}
}

static void client_send(struct crowd *a, struct client *c)
{
	size_t id = (size_t)(c - a->cl);
	for (uint32_t i = 0; i < a->msg_len; i++)
		a->msg[i] = payload(id, c->rounds, i);
	ssize_t n = synack_send(c->st, c->sock, a->msg, a->msg_len);
	if (n != (ssize_t)a->msg_len) {
		c->state = C_FAILED;
		c->err = n < 0 ? (int)n : -EAGAIN;
		return;
	}
	c->got = 0;
	c->state = C_WAIT;
}

static void client_fail(struct client *c)
{
	int e = synack_socket_error(c->st, c->sock);
	c->err = e ? e : -EPIPE;
	c->state = C_FAILED;
	synack_close(c->st, c->sock);
}

static void client_io(struct crowd *a, struct client *c, uint64_t now)
{
	size_t id = (size_t)(c - a->cl);
	uint32_t ev = synack_events(c->st, c->sock);
	switch (c->state) {
	case C_CONNECTING:
		if (ev & (SYNACK_POLLERR | SYNACK_POLLHUP)) {
			client_fail(c);
			return;
		}
		if (ev & SYNACK_POLLOUT) {
			c->connected = 1;
			client_send(a, c);
		}
		return;
	case C_WAIT:
		for (;;) {
			ssize_t n = synack_recv(c->st, c->sock, a->rbuf, a->msg_len - c->got, 0);
			if (n == -EAGAIN)
				break;
			if (n <= 0) {
				client_fail(c);
				return;
			}
			for (ssize_t i = 0; i < n; i++)
				if (a->rbuf[i] != payload(id, c->rounds, c->got + (uint32_t)i))
					c->corrupted = 1;
			c->got += (uint32_t)n;
			if (c->got < a->msg_len)
				continue;
			c->rounds++;
			if (c->rounds >= a->rounds_wanted) {
				synack_close(c->st, c->sock);
				c->state = c->corrupted ? C_FAILED : C_DONE;
				return;
			}
			c->state = C_PAUSE;
			c->next_send_us = now + a->gap_us;
			return;
		}
		if (ev & (SYNACK_POLLERR | SYNACK_POLLHUP))
			client_fail(c);
		return;
	case C_PAUSE:
		if (ev & (SYNACK_POLLERR | SYNACK_POLLHUP)) {
			client_fail(c);
			return;
		}
		if (now >= c->next_send_us)
			client_send(a, c);
		return;
	default:
		return;
	}
}

static void client_start(struct crowd *a, struct client *c)
{
	struct synack_endpoint srv = server_endpoint(a), local;
	c->sock = synack_socket(c->st);
	if (c->sock < 0 || synack_connect(c->st, c->sock, &srv) != -EINPROGRESS) {
		c->state = C_FAILED;
		c->err = -EINVAL;
		return;
	}
	synack_getsockname(c->st, c->sock, &local);
	c->port = local.port;
	c->state = C_CONNECTING;
}

static int client_active(const struct client *c)
{
	return c->state == C_CONNECTING || c->state == C_WAIT || c->state == C_PAUSE;
}

/* Runs the applications: the server, then every client still at work. */
static size_t apps(struct crowd *a, uint64_t now)
{
	size_t active = 0;
	server_poll(a);
	for (size_t i = 0; i < a->ncl; i++) {
		struct client *c = &a->cl[i];
		struct synack_event ev;
		while (synack_event_next(c->st, &ev))
			;
		if (client_active(c))
			client_io(a, c, now);
		if (client_active(c) || c->state == C_IDLE)
			active++;
	}
	server_poll(a);
	struct synack_stats s;
	synack_stats(a->server, &s);
	int new_peak = s.conns_live > a->peak_conns;
	if (new_peak)
		a->peak_conns = s.conns_live;
	if (new_peak || a->mem_polls++ % 256 == 0) {
		struct synack_mem m;
		synack_memory(a->server, &m);
		if (m.total > a->peak_mem)
			a->peak_mem = m.total;
	}
	if (s.orphans_live > a->peak_orphans)
		a->peak_orphans = s.orphans_live;
	return active;
}

/* ------------------------------------------------------------------ */
/* The attackers.                                                      */

struct addr crowd_spoofed_source(struct rng *rng, int v6)
{
	if (v6) {
		/* 2001:db8:8000::/33, random below: no host of the run. */
		uint64_t r = rng_next(rng);
		struct addr s = {{0x20010db8u, 0x80000000u | (uint32_t)(rng_next(rng) >> 33),
		                  (uint32_t)(r >> 32), (uint32_t)r | 1u}};
		return s;
	}
	for (;;) {
		uint32_t s = (uint32_t)rng_next(rng);
		uint32_t top = s >> 24;
		/* Not ours (10/8), and one the server takes as a source. */
		if (top != 10 && top != 0 && top != 127 && (s >> 28) < 0xe)
			return addr_v4(s);
	}
}

static void forge(struct crowd *a, struct addr src, uint16_t sport, uint16_t dport, uint8_t flags,
                  uint32_t seq, uint32_t ack, const uint8_t *data, size_t len)
{
	struct wire_tcp_out o;
	memset(&o, 0, sizeof(o));
	o.saddr = src;
	o.daddr = server_addr(a);
	o.sport = sport;
	o.dport = dport;
	o.seq = seq;
	o.ack = ack;
	o.flags = flags;
	o.wnd = 65535;
	/* A SYN carries the MSS option a real one does. */
	if (flags & SYNACK_TH_SYN) {
		o.opts.has_mss = 1;
		o.opts.mss = 1460;
	}
	size_t hl = a->v6 ? WIRE_IP6_HDR_LEN : WIRE_IP4_HDR_LEN;
	size_t n = wire_tcp_emit(a->pkt + hl, sizeof(a->pkt) - hl, &o, data, len);
	if (!n)
		return;
	if (a->v6)
		wire_ip6_emit(a->pkt, &o.saddr, &o.daddr, WIRE_IPPROTO_TCP, 64, 0, n, 0);
	else
		wire_ip4_emit(a->pkt, addr_to_v4(&src), SERVER_ADDR, WIRE_IPPROTO_TCP, 64,
		              (uint16_t)a->injected, n);
	if (synack_sim_inject(a->sim, a->server_host, a->pkt, n + hl, synack_sim_now(a->sim)) != 0)
		a->oom = 1;
	a->injected++;
}

static void forge_one(struct crowd *a, struct attack *t)
{
	const struct script_stmt *st = t->st;
	uint8_t fl = st->flags;
	if (!t->sweep) {
		/* flood: a random spoofed source and port, random numbers. */
		struct addr src = crowd_spoofed_source(&a->rng, a->v6);
		uint16_t sport = (uint16_t)(1024 + rng_below(&a->rng, 64512));
		uint32_t seq = (uint32_t)rng_next(&a->rng);
		uint32_t ack = (fl & SYNACK_TH_ACK) ? (uint32_t)rng_next(&a->rng) : 0;
		forge(a, src, sport, st->port, fl, seq, ack, NULL, 0);
	} else {
		/* sweep: the attacker knows each connection's addresses and
		 * ports (the server's, and a guessable client port) but not
		 * its sequence numbers: it walks them a window at a time, and
		 * guesses the acknowledgement. */
		struct client *c = &a->cl[t->sent % a->ncl];
		uint32_t seq = c->sweep_base + c->swept++ * (uint32_t)st->value;
		struct addr src = client_addr(a, (uint32_t)(c - a->cl) + 1);
		uint32_t ack = (fl & SYNACK_TH_ACK) ? (uint32_t)rng_next(&a->rng) : 0;
		forge(a, src, c->port, a->port, fl, seq, ack, (const uint8_t *)st->text,
		      st->text ? st->textlen : 0);
	}
	t->sent++;
}

/* ------------------------------------------------------------------ */
/* Set-up and the run.                                                 */

/* What the file asks for, with demo's --clients and --count over it. */
static int plan(struct crowd *a)
{
	const struct script *s = a->s;
	const struct demo_opts *o = a->o;
	struct demo_result *res = a->res;
	a->backlog = 16;
	a->msg_len = 1000;
	a->gap_us = 100000;
	a->rounds_wanted = 1;
	for (size_t i = 0; i < s->n; i++) {
		const struct script_stmt *st = &s->st[i];
		switch (st->kind) {
		case SCR_LISTEN:
			a->port = st->port;
			if (st->count > 0)
				a->backlog = (int)st->count;
			break;
		case SCR_CLIENTS:
			a->clients = st;
			a->ncl = (size_t)st->count;
			break;
		case SCR_ECHO:
			a->msg_len = (uint32_t)st->count;
			a->gap_us = span_of(st->time_us, &st->rel);
			a->rounds_wanted = (uint32_t)st->value;
			break;
		case SCR_FLOOD:
		case SCR_SWEEP: {
			struct attack *t = &a->at[a->nat++];
			t->st = st;
			t->sweep = st->kind == SCR_SWEEP;
			t->count = (uint64_t)st->count;
			uint64_t start = st->timing ? span_of(st->time_at_us, &st->at_rel) : 0;
			t->first_tick = start / TICK_US;
			t->ticks = span_of(st->time_us, &st->rel) / TICK_US;
			if (t->ticks == 0)
				t->ticks = 1;
			break;
		}
		default:
			break;
		}
	}
	if (!a->clients || !a->port) {
		snprintf(res->error, sizeof(res->error), "%s: a run with trace off needs %s",
		         s->file,
		         a->port ? "a crowd (clients N from PREFIX)" : "server listen PORT");
		return -EINVAL;
	}
	if (o->clients >= 0) {
		uint64_t room =
		    a->clients->value >= 32 ? 0 : (1ull << (32 - a->clients->value)) - 2;
		if (o->clients == 0 || o->clients > CROWD_MAX_CLIENTS ||
		    (uint64_t)o->clients > room) {
			snprintf(res->error, sizeof(res->error), "--clients must be within 1..%llu",
			         (unsigned long long)(room < CROWD_MAX_CLIENTS
			                                  ? room
			                                  : CROWD_MAX_CLIENTS));
			return -EINVAL;
		}
		a->ncl = (size_t)o->clients;
	}
	/* The ticks cost every client's application a step each: the attacks
	 * and the crowd's arrivals end within the run's cap. */
	uint64_t end = a->clients->has_at ? a->clients->at_us : a->clients->time_us;
	for (size_t i = 0; i < a->nat; i++)
		if ((a->at[i].first_tick + a->at[i].ticks) * TICK_US > end)
			end = (a->at[i].first_tick + a->at[i].ticks) * TICK_US;
	if (end > CAP_US) {
		snprintf(res->error, sizeof(res->error),
		         "%s: the attacks and the clients' starts end after %.3f s; a run with "
		         "trace off ends at %llu s",
		         s->file, (double)end / 1e6, CAP_US / 1000000ull);
		return -EINVAL;
	}
	for (size_t i = 0; i < a->nat; i++) {
		struct attack *t = &a->at[i];
		if (i == 0 && o->count >= 0)
			t->count = (uint64_t)o->count;
		else if (t->sweep && t->count == 0)
			/* The whole sequence space, a step at a time, for every
			 * connection: 2^32 / step segments, rounded up, each. */
			t->count = a->ncl * (((1ull << 32) + (uint64_t)t->st->value - 1) /
			                     (uint64_t)t->st->value);
		if (t->count > CROWD_MAX_FORGED) {
			snprintf(res->error, sizeof(res->error),
			         "%s:%d: %llu forged segments: at most %u in one flood or sweep",
			         s->file, t->st->line, (unsigned long long)t->count,
			         CROWD_MAX_FORGED);
			return -EINVAL;
		}
	}
	return 0;
}

static int setup(struct crowd *a)
{
	const struct script *s = a->s;
	struct synack_config *c = &a->scfg;
	*c = s->cfg[DEMO_SERVER];
	c->addr = SERVER_ADDR;
	if (a->v6)
		memcpy(c->addr6, SERVER6, 16);
	c->trace_capacity = 0; /* a million segments: counters tell the story */
	cli_derive_secret(a->o->seed, 1, c->secret);
	int err = 0;
	a->server = synack_stack_new(c, &err);
	a->sim = synack_sim_new(a->o->seed);
	a->msg = malloc(a->msg_len);
	a->rbuf = malloc(a->msg_len);
	if (!a->server || !a->sim || !a->msg || !a->rbuf)
		return err ? err : -ENOMEM;
	a->server_host = synack_sim_add_host(a->sim, a->server, "server");
	a->lsock = synack_socket(a->server);
	struct synack_endpoint ep = server_endpoint(a);
	if (a->server_host < 0 || a->lsock < 0 || synack_bind(a->server, a->lsock, &ep) != 0 ||
	    synack_listen(a->server, a->lsock, a->backlog) != 0)
		return -ENOMEM;
	a->cl = calloc(a->ncl, sizeof(*a->cl));
	if (!a->cl)
		return -ENOMEM;
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.delay_us = DELAY_US;
	const struct script_stmt *cs = a->clients;
	for (size_t i = 0; i < a->ncl; i++) {
		struct client *cl = &a->cl[i];
		struct synack_config cc = s->cfg[DEMO_CLIENT];
		cc.addr = (uint32_t)cs->addr + (uint32_t)i + 1;
		if (a->v6) {
			struct addr c6 = client_addr(a, (uint32_t)i + 1);
			wire_addr6_to_bytes(&c6, cc.addr6);
		}
		cc.trace_capacity = 0;
		cli_derive_secret(a->o->seed, (int)i + 2, cc.secret);
		cl->st = synack_stack_new(&cc, &err);
		if (!cl->st)
			return err ? err : -ENOMEM;
		int h = synack_sim_add_host(a->sim, cl->st, "client");
		if (h < 0 || synack_sim_set_path(a->sim, h, a->server_host, &p) != 0 ||
		    synack_sim_set_path(a->sim, a->server_host, h, &p) != 0)
			return -ENOMEM;
		cl->sock = -1;
		cl->sweep_base = (uint32_t)rng_next(&a->rng);
		/* start between LO and HI: spread at random; else at once. */
		cl->start_us = cs->time_us;
		if (cs->has_at)
			cl->start_us += rng_below(&a->rng, cs->at_us - cs->time_us);
	}
	return 0;
}

static void teardown(struct crowd *a)
{
	if (a->sim)
		synack_sim_free(a->sim);
	for (size_t i = 0; a->cl && i < a->ncl; i++)
		synack_stack_free(a->cl[i].st);
	free(a->cl);
	free(a->sc);
	free(a->msg);
	free(a->rbuf);
	if (a->server)
		synack_stack_free(a->server);
}

static void add_stats(struct synack_stats *sum, const struct synack_stats *s)
{
	uint64_t *d = (uint64_t *)(void *)sum;
	const uint64_t *v = (const void *)s;
	for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		d[i] += v[i];
}

static void run(struct crowd *a)
{
	/* Ticks while an attack lasts or a client is still to start. */
	uint64_t last = 0;
	for (size_t i = 0; i < a->nat; i++)
		if (a->at[i].first_tick + a->at[i].ticks > last)
			last = a->at[i].first_tick + a->at[i].ticks;
	for (size_t i = 0; i < a->ncl; i++)
		if (a->cl[i].start_us / TICK_US > last)
			last = a->cl[i].start_us / TICK_US;
	for (uint64_t k = 0; k <= last && !a->oom; k++) {
		uint64_t t = k * TICK_US;
		synack_sim_run_until(a->sim, t);
		apps(a, t);
		for (size_t i = 0; i < a->ncl; i++)
			if (a->cl[i].state == C_IDLE && a->cl[i].start_us <= t)
				client_start(a, &a->cl[i]);
		for (size_t i = 0; i < a->nat; i++) {
			struct attack *at = &a->at[i];
			if (k < at->first_tick || k >= at->first_tick + at->ticks)
				continue;
			uint64_t due = (k - at->first_tick + 1) * at->count / at->ticks;
			while (at->sent < due && !a->oom)
				forge_one(a, at);
		}
	}
	/* The attacks are over: run until the clients are done and every
	 * timer has run out (SYN-ACK retransmissions, TIME_WAIT), or the cap. */
	for (;;) {
		uint64_t t = synack_sim_now(a->sim);
		size_t active = apps(a, t);
		if (t > CAP_US || a->oom)
			break;
		/* A client pausing between rounds wakes on its own time. */
		uint64_t wake = SYNACK_NEVER;
		for (size_t i = 0; i < a->ncl; i++)
			if (a->cl[i].state == C_PAUSE && a->cl[i].next_send_us < wake)
				wake = a->cl[i].next_send_us > t ? a->cl[i].next_send_us : t + 1;
		uint64_t next = synack_sim_next_event(a->sim);
		if (wake != SYNACK_NEVER && wake <= next) {
			synack_sim_run_until(a->sim, wake);
			continue;
		}
		if (synack_sim_step(a->sim) == SYNACK_NEVER && !active)
			break;
	}
	a->res->capped = synack_sim_now(a->sim) > CAP_US;
}

/* ------------------------------------------------------------------ */
/* Figures and checks: what the file says to report.                   */

static void measure(struct crowd *a)
{
	uint64_t *f = a->fig;
	const struct synack_stats *s = &a->stats;
	f[FIG_clients] = a->ncl;
	for (size_t i = 0; i < a->ncl; i++) {
		const struct client *c = &a->cl[i];
		f[FIG_legit_ok] += c->state == C_DONE;
		f[FIG_legit_failed] += c->state != C_DONE;
		f[FIG_legit_connected] += c->connected != 0;
		f[FIG_legit_corrupted] += c->corrupted != 0;
		f[FIG_legit_reset] += c->err == -ECONNRESET;
		f[FIG_legit_refused] += c->err == -ECONNREFUSED;
		f[FIG_legit_timeout] += c->err == -ETIMEDOUT;
		f[FIG_rounds_done] += c->rounds;
	}
	f[FIG_rounds_wanted] = a->rounds_wanted;
	f[FIG_accepted] = a->accepted;
	f[FIG_forged] = a->injected;
	for (size_t i = 0; i < a->nat; i++)
		f[FIG_forged_wanted] += a->at[i].count;
	f[FIG_peak_conns] = a->peak_conns;
	f[FIG_peak_orphans] = a->peak_orphans;
	f[FIG_peak_mem_bytes] = a->peak_mem;
	f[FIG_final_conns] = s->conns_live;
	f[FIG_final_orphans] = s->orphans_live;
	f[FIG_final_time_wait] = s->time_wait_live;
	f[FIG_syn_queue_max] = (uint64_t)a->backlog < a->scfg.max_syn_backlog
	                           ? (uint64_t)a->backlog
	                           : (uint64_t)a->scfg.max_syn_backlog;
}

/* Names in expressions: the file's figures so far, the built-in ones,
 * the server's counters and drop reasons. */
static int lookup(void *ctx, const char *name, size_t len, uint64_t *v)
{
	struct crowd *a = ctx;
	const struct demo_result *r = a->res;
	for (size_t i = 0; i < r->nfigures; i++)
		if (name_eq(name, len, r->figures[i].name)) {
			*v = r->figures[i].value;
			return 0;
		}
	int k = builtin_index(name, len);
	if (k >= 0) {
		*v = a->fig[k];
		return 0;
	}
	if ((k = counter_index(name, len)) >= 0) {
		*v = synack_counter_value(&a->stats, (size_t)k);
		return 0;
	}
	if ((k = drop_index(name, len)) >= 0) {
		*v = a->stats.drops[k];
		return 0;
	}
	return -1;
}

static uint64_t eval(struct crowd *a, const char *w, size_t len)
{
	uint64_t v = 0;
	size_t bad = 0, badlen = 0;
	if (crowd_expr(w, len, lookup, a, &v, &bad, &badlen) != 0)
		return 0; /* the parser took only good ones */
	return v;
}

static int cmp_of(const char *w, size_t len)
{
	static const char *const CMPS[] = {"=", "!=", "<", "<=", ">", ">="};
	for (int i = 0; i < 6; i++)
		if (name_eq(w, len, CMPS[i]))
			return i;
	return -1;
}

/* The conditions of an expect figure, "A CMP B and C CMP D or ...": and
 * binds closer than or. */
static int holds(struct crowd *a, const char *text)
{
	const char *w[4 * CROWD_MAX_CONDITIONS];
	size_t l[4 * CROWD_MAX_CONDITIONS], n = 0;
	for (const char *p = text; *p && n < sizeof(w) / sizeof(w[0]);) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		w[n] = p;
		while (*p && *p != ' ')
			p++;
		l[n] = (size_t)(p - w[n]);
		n++;
	}
	int any = 0, all = 1;
	for (size_t i = 0; i + 2 < n; i += 4) {
		uint64_t x = eval(a, w[i], l[i]), y = eval(a, w[i + 2], l[i + 2]);
		all &= script_cmp_holds(cmp_of(w[i + 1], l[i + 1]), x, y);
		if (i + 3 >= n || name_eq(w[i + 3], l[i + 3], "or")) {
			any |= all;
			all = 1;
		}
	}
	return any;
}

/* A check's sentence with each {EXPR} written as its value. */
static void sentence(struct crowd *a, const char *t, char *out, size_t outlen)
{
	size_t k = 0;
	for (size_t i = 0; t[i] && k + 1 < outlen; i++) {
		const char *close = t[i] == '{' ? strchr(t + i, '}') : NULL;
		if (!close) {
			out[k++] = t[i];
			continue;
		}
		size_t l = (size_t)(close - t) - i - 1;
		int n = snprintf(out + k, outlen - k, "%llu",
		                 (unsigned long long)eval(a, t + i + 1, l));
		k += n > 0 ? (size_t)n : 0;
		if (k >= outlen)
			k = outlen - 1;
		i += l + 1;
	}
	out[k] = 0;
}

static void report(struct crowd *a, int demo_mode, FILE *errout)
{
	struct demo_result *r = a->res;
	const struct script *s = a->s;
	for (size_t i = 0; i < s->n; i++) {
		const struct script_stmt *st = &s->st[i];
		if (st->kind == SCR_FIGURE && r->nfigures < DEMO_MAX_FIGURES) {
			uint64_t v = st->text ? eval(a, st->text, st->textlen)
			                      : eval(a, st->what, strlen(st->what));
			struct demo_figure *f = &r->figures[r->nfigures];
			snprintf(f->name, sizeof(f->name), "%s", st->what);
			f->value = v;
			r->nfigures++;
		} else if (st->kind == SCR_EXPECT_FIGURE) {
			char what[sizeof(r->checks[0].what)];
			sentence(a, st->what ? st->what : st->text, what, sizeof(what));
			int ok = holds(a, st->text);
			demo_result_check(r, ok, "%s", what);
			if (!ok && !demo_mode)
				fprintf(errout, "%s:%d: expectation failed: %s%s%s%s\n", s->file,
				        st->line, what, st->what ? " (" : "",
				        st->what ? st->text : "", st->what ? ")" : "");
		}
	}
}

/* ------------------------------------------------------------------ */
/* The summary.                                                        */

static void print_summary(struct crowd *a, int demo_mode, FILE *out)
{
	struct demo_result *r = a->res;
	if (a->o->json) {
		fprintf(out,
		        "{\"ev\":\"summary\",\"ok\":%s,\"scenario\":\"%s\",\"seed\":%llu,"
		        "\"t_us\":%llu",
		        r->ok ? "true" : "false", r->scenario, (unsigned long long)a->o->seed,
		        (unsigned long long)r->end_us);
		for (size_t i = 0; i < r->nfigures; i++)
			fprintf(out, ",\"%s\":%llu", r->figures[i].name,
			        (unsigned long long)r->figures[i].value);
		fprintf(out, ",\"capped\":%s,\"checks\":[", r->capped ? "true" : "false");
		for (size_t i = 0; i < r->nchecks; i++) {
			fprintf(out, "%s{\"ok\":%s,\"what\":\"", i ? "," : "",
			        r->checks[i].ok ? "true" : "false");
			for (const char *p = r->checks[i].what; *p; p++)
				if (*p == '"' || *p == '\\')
					fprintf(out, "\\%c", *p);
				else
					fputc(*p, out);
			fputs("\"}", out);
		}
		fputs("]}\n", out);
		return;
	}
	const char *cmd = demo_mode ? "demo" : "script";
	if (a->v6) {
		fprintf(out,
		        "synack %s %s (seed %llu): server [2001:db8::2]:%d, %zu clients in "
		        "2001:db8:1::/64\n\n",
		        cmd, r->scenario, (unsigned long long)a->o->seed, a->port, a->ncl);
	} else {
		/* The crowd's prefix as people shorten it: 10.1/16. */
		uint32_t net = (uint32_t)a->clients->addr;
		int len = (int)a->clients->value, octets = (len + 7) / 8;
		char pfx[24];
		size_t k = 0;
		for (int i = 0; i < (octets ? octets : 1); i++)
			k += (size_t)snprintf(pfx + k, sizeof(pfx) - k, "%s%u", i ? "." : "",
			                      (net >> (24 - 8 * i)) & 0xffu);
		fprintf(
		    out, "synack %s %s (seed %llu): server 10.0.0.2:%d, %zu clients in %s/%d\n\n",
		    cmd, r->scenario, (unsigned long long)a->o->seed, a->port, a->ncl, pfx, len);
	}
	for (size_t i = 0; i < r->nfigures; i++)
		fprintf(out, "  %-24s %llu\n", r->figures[i].name,
		        (unsigned long long)r->figures[i].value);
	fprintf(out, "  %-24s %.3f s\n\n", "virtual_time", (double)r->end_us / 1e6);
	/* The moral, wrapped at 90 columns. */
	const char *p = a->s->moral ? a->s->moral : "";
	if (*p) {
		while (*p) {
			int n = (int)strlen(p);
			if (n > 90) {
				n = 90;
				while (n > 0 && p[n] != ' ')
					n--;
			}
			fprintf(out, "%.*s\n", n, p);
			p += n;
			while (*p == ' ')
				p++;
		}
		fputc('\n', out);
	}
	for (size_t i = 0; i < r->nchecks; i++)
		fprintf(out, "  %s %s\n", r->checks[i].ok ? "ok    " : "FAILED", r->checks[i].what);
	if (r->capped)
		fprintf(out, "  FAILED the run hit its cap of virtual time\n");
	fprintf(out, "\n%s\n", r->ok ? "ok" : "FAILED");
}

int crowd_run(const struct script *s, const struct demo_opts *o, int demo_mode, FILE *out,
              FILE *errout, struct demo_result *res)
{
	memset(res, 0, sizeof(*res));
	snprintf(res->scenario, sizeof(res->scenario), "%s", s->name);
	res->ok = 1;
	struct crowd *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -ENOMEM;
	}
	a->s = s;
	a->o = o;
	a->v6 = o->ipv6;
	a->res = res;
	rng_seed(&a->rng, o->seed ^ 0xa77ac4ull);
	int rc = plan(a);
	if (rc == 0 && (rc = setup(a)) != 0)
		snprintf(res->error, sizeof(res->error), "cannot set up the network: %s",
		         synack_strerror(rc));
	if (rc == 0) {
		run(a);
		res->end_us = synack_sim_now(a->sim);
		synack_stats(a->server, &a->stats);
		res->host[DEMO_SERVER].stats = a->stats;
		for (size_t i = 0; i < a->ncl; i++) {
			struct synack_stats st;
			synack_stats(a->cl[i].st, &st);
			add_stats(&res->host[DEMO_CLIENT].stats, &st);
		}
		measure(a);
		report(a, demo_mode, errout ? errout : stderr);
		if (res->capped || a->oom)
			res->ok = 0;
		if (a->oom)
			demo_result_check(res, 0, "ran out of memory");
		if (out)
			print_summary(a, demo_mode, out);
	}
	teardown(a);
	free(a);
	return rc;
}
