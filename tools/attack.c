/*
 * The attack scenarios of `synack demo`: a server (10.0.0.2:80) and many
 * legitimate clients (10.1.x.y, one stack each) on the simulated network,
 * and an off-path attacker who injects forged segments straight at the
 * server.  The legitimate clients send data and check the server's echo of
 * it byte for byte; the run ends with a summary of named figures and the
 * checks the scenario is meant to show.
 *
 *   syn-flood    spoofed SYNs from random sources: SYN queue, SYN cookies
 *   blind-reset  RSTs sweeping the sequence space of live connections
 *   blind-data   data segments sweeping it, with guessed acknowledgments
 *   ack-flood    spoofed ACKs at the listener, every one checked as a cookie
 *
 * The attack lasts ATTACK_US of virtual time, in ticks of 1 ms: at each tick
 * the applications run, then the tick's share of forged segments is injected
 * and the clients due to start connect.
 */
#include "attack.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/rng.h"
#include "synack/sim.h"
#include "wire/wire.h"
#include "wire/wire6.h"

#define SERVER_ADDR 0x0a000002u /* 10.0.0.2 */
#define SERVER_PORT 80
#define CLIENT_NET 0x0a010000u /* 10.1.0.0/16 */
/* With --ipv6 (issue 14): the server 2001:db8::2, client i 2001:db8:1::i+1,
 * spoofed flood sources in 2001:db8:8000::/33, none of them ours. */
static const uint8_t SERVER6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
#define DELAY_US 10000u
#define TICK_US 1000u
#define ATTACK_US 10000000ull /* 10 s */
#define TICKS (ATTACK_US / TICK_US)
#define BACKLOG 1024
#define MSG_LEN 1000u
#define ROUND_GAP_US 100000u
#define CAP_US (600ull * 1000000u) /* virtual time */
#define SWEEP_STEP 65535u          /* the largest window without scaling */
#define SWEEP_LEN 65538u           /* segments to cover 2^32 at that step */
#define MAX_CLIENTS 60000

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
	int err;             /* how it failed */
	uint32_t sweep_base; /* blind attacks: where this connection's sweep starts */
	uint32_t swept;      /* forged segments aimed at it so far */
};

struct sconn {
	uint8_t pend[4096];
	size_t plen;
	int eof;
	int used;
};

struct attack {
	const struct demo_opts *o;
	int kind;
	struct demo_result *res;
	struct rng rng;
	struct synack_sim *sim;
	struct synack_stack *server;
	struct synack_config scfg;
	int server_host;
	int lsock;
	struct client *cl;
	size_t ncl;
	uint32_t rounds_wanted;
	struct sconn *sc; /* by server socket number */
	size_t nsc;
	uint64_t count, injected;
	uint64_t peak_conns, peak_orphans;
	uint64_t peak_mem;  /* the server's synack_memory() total, sampled */
	uint64_t mem_polls; /* apps() calls, to sample memory every 256th */
	uint64_t accepted;
	int oom;
	int v6; /* --ipv6: every host and every forged datagram IPv6 */
	uint8_t pkt[128];
};

/* The server's address, and client i's (its host number n = i + 1), in the
 * run's family. */
static struct addr server_addr(const struct attack *a)
{
	return a->v6 ? wire_addr6_from_bytes(SERVER6) : addr_v4(SERVER_ADDR);
}
static struct addr client_addr(const struct attack *a, uint32_t n)
{
	if (!a->v6)
		return addr_v4(CLIENT_NET + n);
	struct addr c = {{0x20010db8u, 0x00010000u, 0, n}};
	return c;
}
static struct synack_endpoint server_endpoint(const struct attack *a)
{
	struct synack_endpoint e;
	memset(&e, 0, sizeof(e));
	e.port = SERVER_PORT;
	if (a->v6) {
		e.family = SYNACK_AF_INET6;
		memcpy(e.addr6, SERVER6, 16);
	} else {
		e.addr = SERVER_ADDR;
	}
	return e;
}

/* ------------------------------------------------------------------ */
/* Results.                                                            */

static void figure(struct attack *a, const char *name, uint64_t v)
{
	struct demo_result *r = a->res;
	if (r->nfigures < DEMO_MAX_FIGURES) {
		r->figures[r->nfigures].name = name;
		r->figures[r->nfigures].value = v;
		r->nfigures++;
	}
}

/* ------------------------------------------------------------------ */
/* The legitimate applications.                                        */

static uint8_t payload(size_t client, uint32_t round, uint32_t i)
{
	return (uint8_t)('a' + (client * 7 + round * 3 + i) % 26);
}

static struct sconn *sconn(struct attack *a, int s)
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
static void server_io(struct attack *a, int s)
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

static void server_poll(struct attack *a)
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

static void client_send(struct attack *a, struct client *c)
{
	uint8_t msg[MSG_LEN];
	size_t id = (size_t)(c - a->cl);
	for (uint32_t i = 0; i < MSG_LEN; i++)
		msg[i] = payload(id, c->rounds, i);
	ssize_t n = synack_send(c->st, c->sock, msg, MSG_LEN);
	if (n != (ssize_t)MSG_LEN) {
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

static void client_io(struct attack *a, struct client *c, uint64_t now)
{
	size_t id = (size_t)(c - a->cl);
	uint32_t ev = synack_events(c->st, c->sock);
	switch (c->state) {
	case C_CONNECTING:
		if (ev & (SYNACK_POLLERR | SYNACK_POLLHUP)) {
			client_fail(c);
			return;
		}
		if (ev & SYNACK_POLLOUT)
			client_send(a, c);
		return;
	case C_WAIT:
		for (;;) {
			uint8_t buf[MSG_LEN];
			ssize_t n = synack_recv(c->st, c->sock, buf, MSG_LEN - c->got, 0);
			if (n == -EAGAIN)
				break;
			if (n <= 0) {
				client_fail(c);
				return;
			}
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] != payload(id, c->rounds, c->got + (uint32_t)i))
					c->corrupted = 1;
			c->got += (uint32_t)n;
			if (c->got < MSG_LEN)
				continue;
			c->rounds++;
			if (c->rounds >= a->rounds_wanted) {
				synack_close(c->st, c->sock);
				c->state = c->corrupted ? C_FAILED : C_DONE;
				return;
			}
			c->state = C_PAUSE;
			c->next_send_us = now + ROUND_GAP_US;
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

static void client_start(struct attack *a, struct client *c)
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
static size_t apps(struct attack *a, uint64_t now)
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
/* The attacker.                                                       */

struct addr attack_spoofed_source(struct rng *rng, int v6)
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

static struct addr spoofed_source(struct attack *a)
{
	return attack_spoofed_source(&a->rng, a->v6);
}

static void forge(struct attack *a, struct addr src, uint16_t sport, uint8_t flags, uint32_t seq,
                  uint32_t ack, const uint8_t *data, size_t len, int mss)
{
	struct wire_tcp_out o;
	memset(&o, 0, sizeof(o));
	o.saddr = src;
	o.daddr = server_addr(a);
	o.sport = sport;
	o.dport = SERVER_PORT;
	o.seq = seq;
	o.ack = ack;
	o.flags = flags;
	o.wnd = 65535;
	if (mss) {
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

static void forge_one(struct attack *a)
{
	static const uint8_t EVIL[32] = "EVIL EVIL EVIL EVIL EVIL EVIL !";
	switch (a->kind) {
	case ATTACK_SYN_FLOOD:
		forge(a, spoofed_source(a), (uint16_t)(1024 + rng_below(&a->rng, 64512)),
		      SYNACK_TH_SYN, (uint32_t)rng_next(&a->rng), 0, NULL, 0, 1);
		return;
	case ATTACK_ACK_FLOOD:
		forge(a, spoofed_source(a), (uint16_t)(1024 + rng_below(&a->rng, 64512)),
		      SYNACK_TH_ACK, (uint32_t)rng_next(&a->rng), (uint32_t)rng_next(&a->rng), NULL,
		      0, 0);
		return;
	default: {
		/* The attacker knows each connection's addresses and ports
		 * (a server port and a guessable client port) but not its
		 * sequence numbers: it sweeps them a window at a time. */
		struct client *c = &a->cl[a->injected % a->ncl];
		uint32_t seq = c->sweep_base + c->swept++ * SWEEP_STEP;
		struct addr src = client_addr(a, (uint32_t)(c - a->cl) + 1);
		if (a->kind == ATTACK_BLIND_RESET)
			forge(a, src, c->port, SYNACK_TH_RST, seq, 0, NULL, 0, 0);
		else
			forge(a, src, c->port, SYNACK_TH_ACK | SYNACK_TH_PSH, seq,
			      (uint32_t)rng_next(&a->rng), EVIL, sizeof(EVIL), 0);
		return;
	}
	}
}

/* ------------------------------------------------------------------ */
/* Set-up and the run.                                                 */

static int setup(struct attack *a)
{
	struct synack_config *c = &a->scfg;
	synack_config_default(c);
	c->addr = SERVER_ADDR;
	if (a->v6)
		memcpy(c->addr6, SERVER6, 16);
	c->trace_capacity = 0; /* a million segments: counters tell the story */
	cli_derive_secret(a->o->seed, 1, c->secret);
	if (a->kind == ATTACK_ACK_FLOOD)
		c->syncookies = 2;
	int err = 0;
	a->server = synack_stack_new(c, &err);
	a->sim = synack_sim_new(a->o->seed);
	if (!a->server || !a->sim)
		return -ENOMEM;
	a->server_host = synack_sim_add_host(a->sim, a->server, "server");
	a->lsock = synack_socket(a->server);
	struct synack_endpoint ep = server_endpoint(a);
	if (a->server_host < 0 || a->lsock < 0 || synack_bind(a->server, a->lsock, &ep) != 0 ||
	    synack_listen(a->server, a->lsock, BACKLOG) != 0)
		return -ENOMEM;
	a->cl = calloc(a->ncl, sizeof(*a->cl));
	if (!a->cl)
		return -ENOMEM;
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.delay_us = DELAY_US;
	for (size_t i = 0; i < a->ncl; i++) {
		struct client *cl = &a->cl[i];
		struct synack_config cc;
		synack_config_default(&cc);
		cc.addr = CLIENT_NET + (uint32_t)i + 1;
		if (a->v6) {
			struct addr c6 = client_addr(a, (uint32_t)i + 1);
			wire_addr6_to_bytes(&c6, cc.addr6);
		}
		cc.trace_capacity = 0;
		cli_derive_secret(a->o->seed, (int)i + 2, cc.secret);
		cl->st = synack_stack_new(&cc, &err);
		if (!cl->st)
			return -ENOMEM;
		int h = synack_sim_add_host(a->sim, cl->st, "client");
		if (h < 0 || synack_sim_set_path(a->sim, h, a->server_host, &p) != 0 ||
		    synack_sim_set_path(a->sim, a->server_host, h, &p) != 0)
			return -ENOMEM;
		cl->sock = -1;
		cl->sweep_base = (uint32_t)rng_next(&a->rng);
		/* Floods: the clients arrive spread over the attack, from
		 * 0.5 s to 8 s.  Blind attacks: they are connected before it. */
		if (a->kind == ATTACK_SYN_FLOOD || a->kind == ATTACK_ACK_FLOOD)
			cl->start_us = 500000u + rng_below(&a->rng, 7500000u);
		else
			cl->start_us = 0;
	}
	return 0;
}

static void teardown(struct attack *a)
{
	if (a->sim)
		synack_sim_free(a->sim);
	for (size_t i = 0; a->cl && i < a->ncl; i++)
		synack_stack_free(a->cl[i].st);
	free(a->cl);
	free(a->sc);
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

static void run(struct attack *a)
{
	/* Blind attacks start once the connections are up. */
	uint64_t t0 = a->kind == ATTACK_SYN_FLOOD || a->kind == ATTACK_ACK_FLOOD ? 0 : 1000000u;
	for (uint64_t k = 0; k <= t0 / TICK_US + TICKS && !a->oom; k++) {
		uint64_t t = k * TICK_US;
		synack_sim_run_until(a->sim, t);
		apps(a, t);
		for (size_t i = 0; i < a->ncl; i++)
			if (a->cl[i].state == C_IDLE && a->cl[i].start_us <= t)
				client_start(a, &a->cl[i]);
		if (t >= t0 && k < t0 / TICK_US + TICKS) {
			uint64_t tick = k - t0 / TICK_US;
			uint64_t due = (tick + 1) * a->count / TICKS;
			while (a->injected < due && !a->oom)
				forge_one(a);
		}
	}
	/* The attack is over: run until the clients are done and every timer
	 * has run out (SYN-ACK retransmissions, TIME_WAIT), or the cap. */
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
/* What each scenario reports and checks.                              */

static uint64_t ctr(const struct synack_stats *s, const char *name)
{
	for (size_t i = 0; i < synack_counter_count(); i++)
		if (strcmp(synack_counter_name(i), name) == 0)
			return synack_counter_value(s, i);
	return 0;
}

static void report(struct attack *a)
{
	struct demo_result *r = a->res;
	const struct synack_stats *s = &r->host[DEMO_SERVER].stats;
	uint64_t ok = 0, failed = 0, corrupted = 0, reset = 0;
	for (size_t i = 0; i < a->ncl; i++) {
		const struct client *c = &a->cl[i];
		ok += c->state == C_DONE;
		failed += c->state != C_DONE;
		corrupted += c->corrupted != 0;
		reset += c->err == -ECONNRESET;
	}
	uint64_t synq_max =
	    BACKLOG < a->scfg.max_syn_backlog ? BACKLOG : (uint64_t)a->scfg.max_syn_backlog;
	/* Every TCB the server may hold at once: the listener, a full SYN
	 * queue, and one per legitimate client. */
	uint64_t bound = 1 + synq_max + a->ncl;
	const char *what = a->kind == ATTACK_SYN_FLOOD     ? "spoofed_syns"
	                   : a->kind == ATTACK_ACK_FLOOD   ? "spoofed_acks"
	                   : a->kind == ATTACK_BLIND_RESET ? "forged_rsts"
	                                                   : "forged_segments";
	figure(a, what, a->injected);
	figure(a, "clients", a->ncl);
	figure(a, "legit_ok", ok);
	figure(a, "legit_failed", failed);
	figure(a, "legit_corrupted", corrupted);
	figure(a, "legit_reset", reset);
	figure(a, "accepted", a->accepted);
	figure(a, "peak_conns", a->peak_conns);
	figure(a, "conns_bound", bound);
	figure(a, "peak_mem_bytes", a->peak_mem);
	figure(a, "final_conns", s->conns_live);
	switch (a->kind) {
	case ATTACK_SYN_FLOOD:
		figure(a, "syn_queue_max", synq_max);
		figure(a, "syncookies_sent", ctr(s, "SyncookiesSent"));
		figure(a, "syncookies_recv", ctr(s, "SyncookiesRecv"));
		figure(a, "syncookies_failed", ctr(s, "SyncookiesFailed"));
		figure(a, "listen_drops", ctr(s, "ListenDrops"));
		figure(a, "synack_timeouts", ctr(s, "SynAckRetransTimeouts"));
		break;
	case ATTACK_ACK_FLOOD:
		figure(a, "syncookies_sent", ctr(s, "SyncookiesSent"));
		figure(a, "syncookies_recv", ctr(s, "SyncookiesRecv"));
		figure(a, "syncookies_failed", ctr(s, "SyncookiesFailed"));
		figure(a, "rsts_sent", ctr(s, "OutRsts"));
		break;
	default:
		figure(a, "rounds", (uint64_t)a->rounds_wanted * a->ncl);
		figure(a, "challenge_acks", ctr(s, "ChallengeAcks"));
		figure(a, "challenge_acks_limited", ctr(s, "ChallengeAcksLimited"));
		figure(a, "rst_challenges", ctr(s, "RstChallenge"));
		figure(a, "ack_challenges", ctr(s, "AckChallenge"));
		figure(a, "dropped_out_of_window",
		       s->drops[SYNACK_DROP_SEQ_OUT_OF_WINDOW] +
		           s->drops[SYNACK_DROP_RST_OUT_OF_WINDOW]);
		figure(a, "estab_resets", ctr(s, "EstabResets"));
		break;
	}

	demo_result_check(
	    a->res, ok == a->ncl && failed == 0,
	    "every legitimate connection succeeded and exchanged its data (%llu of %zu)",
	    (unsigned long long)ok, a->ncl);
	demo_result_check(a->res, corrupted == 0, "no echo was corrupted (%llu)",
	                  (unsigned long long)corrupted);
	demo_result_check(a->res, a->injected == a->count, "the attacker sent %llu forged segments",
	                  (unsigned long long)a->injected);
	demo_result_check(a->res, a->peak_conns <= bound,
	                  "the server never held more than 1 + %llu + %zu TCBs (peak %llu)",
	                  (unsigned long long)synq_max, a->ncl, (unsigned long long)a->peak_conns);
	demo_result_check(a->res,
	                  s->conns_live == 1 && s->orphans_live == 0 && s->time_wait_live == 0,
	                  "at the end the server holds only its listener (%llu TCBs)",
	                  (unsigned long long)s->conns_live);
	switch (a->kind) {
	case ATTACK_SYN_FLOOD:
		demo_result_check(a->res, a->count < synq_max || ctr(s, "SyncookiesSent") > 0,
		                  "the SYN queue filled and SYN cookies answered (%llu sent)",
		                  (unsigned long long)ctr(s, "SyncookiesSent"));
		demo_result_check(
		    a->res, ctr(s, "PassiveOpens") <= synq_max + a->ncl + ctr(s, "SyncookiesRecv"),
		    "spoofed SYNs made no connection beyond the SYN queue");
		break;
	case ATTACK_ACK_FLOOD:
		demo_result_check(a->res, ctr(s, "SyncookiesFailed") == a->injected,
		                  "every spoofed ACK failed the cookie check (%llu)",
		                  (unsigned long long)ctr(s, "SyncookiesFailed"));
		demo_result_check(a->res, a->accepted == a->ncl && ctr(s, "PassiveOpens") == a->ncl,
		                  "no forged ACK made a connection (%llu accepted)",
		                  (unsigned long long)a->accepted);
		break;
	case ATTACK_BLIND_RESET:
		demo_result_check(a->res, ctr(s, "EstabResets") == 0 && reset == 0,
		                  "no established connection was reset");
		demo_result_check(a->res,
		                  ctr(s, "RstChallenge") > 0 &&
		                      ctr(s, "RstChallenge") ==
		                          ctr(s, "ChallengeAcks") + ctr(s, "ChallengeAcksLimited"),
		                  "in-window RSTs got challenge ACKs instead (%llu)",
		                  (unsigned long long)ctr(s, "RstChallenge"));
		break;
	default:
		demo_result_check(a->res, ctr(s, "EstabResets") == 0,
		                  "no established connection was reset");
		demo_result_check(
		    a->res, ctr(s, "AckChallenge") > 0,
		    "in-window forgeries failed the ACK check and were challenged (%llu)",
		    (unsigned long long)ctr(s, "AckChallenge"));
		break;
	}
}

/* ------------------------------------------------------------------ */

static void print_summary(struct attack *a, const char *moral, FILE *out)
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
	if (a->v6)
		fprintf(out,
		        "synack demo %s (seed %llu): server [2001:db8::2]:%d, %zu clients in "
		        "2001:db8:1::/64\n\n",
		        r->scenario, (unsigned long long)a->o->seed, SERVER_PORT, a->ncl);
	else
		fprintf(
		    out,
		    "synack demo %s (seed %llu): server 10.0.0.2:%d, %zu clients in 10.1/16\n\n",
		    r->scenario, (unsigned long long)a->o->seed, SERVER_PORT, a->ncl);
	for (size_t i = 0; i < r->nfigures; i++)
		fprintf(out, "  %-24s %llu\n", r->figures[i].name,
		        (unsigned long long)r->figures[i].value);
	fprintf(out, "  %-24s %.3f s\n\n", "virtual_time", (double)r->end_us / 1e6);
	/* The moral, wrapped at 90 columns. */
	const char *p = moral;
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
	for (size_t i = 0; i < r->nchecks; i++)
		fprintf(out, "  %s %s\n", r->checks[i].ok ? "ok    " : "FAILED", r->checks[i].what);
	if (r->capped)
		fprintf(out, "  FAILED the run hit its cap of virtual time\n");
	fprintf(out, "\n%s\n", r->ok ? "ok" : "FAILED");
}

uint64_t attack_default_count(int kind, uint64_t clients)
{
	if (kind == ATTACK_SYN_FLOOD || kind == ATTACK_ACK_FLOOD)
		return 1000000;
	return clients * SWEEP_LEN;
}

uint64_t attack_default_clients(int kind)
{
	return kind == ATTACK_SYN_FLOOD || kind == ATTACK_ACK_FLOOD ? 1000 : 4;
}

int attack_run(const struct demo_opts *o, int kind, const char *moral, FILE *out,
               struct demo_result *res)
{
	struct attack *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -ENOMEM;
	}
	a->o = o;
	a->v6 = o->ipv6;
	a->kind = kind;
	a->res = res;
	a->ncl = o->clients >= 0 ? (size_t)o->clients : attack_default_clients(kind);
	if (a->ncl == 0 || a->ncl > MAX_CLIENTS) {
		snprintf(res->error, sizeof(res->error), "--clients must be within 1..%d",
		         MAX_CLIENTS);
		free(a);
		return -EINVAL;
	}
	a->count = o->count >= 0 ? (uint64_t)o->count : attack_default_count(kind, a->ncl);
	a->rounds_wanted =
	    kind == ATTACK_SYN_FLOOD || kind == ATTACK_ACK_FLOOD
	        ? 1
	        : (uint32_t)((ATTACK_US + 1000000u + ROUND_GAP_US - 1) / ROUND_GAP_US);
	rng_seed(&a->rng, o->seed ^ 0xa77ac4ull);
	int rc = setup(a);
	if (rc != 0) {
		snprintf(res->error, sizeof(res->error), "cannot set up the network: %s",
		         synack_strerror(rc));
	} else {
		run(a);
		res->end_us = synack_sim_now(a->sim);
		synack_stats(a->server, &res->host[DEMO_SERVER].stats);
		for (size_t i = 0; i < a->ncl; i++) {
			struct synack_stats s;
			synack_stats(a->cl[i].st, &s);
			add_stats(&res->host[DEMO_CLIENT].stats, &s);
		}
		report(a);
		if (res->capped || a->oom)
			res->ok = 0;
		if (a->oom)
			demo_result_check(a->res, 0, "ran out of memory");
		if (out)
			print_summary(a, moral, out);
	}
	teardown(a);
	free(a);
	return rc;
}
