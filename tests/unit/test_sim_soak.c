/*
 * Soak: the whole product promise, checked over many seeded simulations.
 *
 * For every seed two stacks (client 10.0.0.1, server 10.0.0.2) talk over a
 * synack_sim path whose impairments (loss, duplication, reordering,
 * corruption, delay, jitter) are drawn from the seed, per direction.  A
 * server application listens, accepts and either echoes or sinks; a client
 * application connects, sends N pseudo-random bytes and closes in the way
 * the seed chooses: client first, server first, both at the same instant,
 * half-close (shutdown(SHUT_WR), then read the echo to the end), or an abort
 * (SO_LINGER 0) on either side.  The applications act only on readiness
 * reported by synack_event_next(), between synack_sim_step() calls.
 *
 * For every seed:
 *  - when both sides closed gracefully the bytes received are exactly the
 *    bytes sent (each direction); otherwise they are a prefix of them, and
 *    the cause of the ungraceful end must be visible (an abort the seed
 *    chose, or a retransmission limit under the seed's losses);
 *  - an application is never left waiting for readiness that the stack has
 *    but never reported, and never waits forever without a reason;
 *  - after the applications are done and virtual time runs past every
 *    timeout, both stacks hold nothing but the listener: synack_conns, the
 *    live counters, buffered bytes and synack_next_deadline say so;
 *  - every state change in the trace is an RFC 9293 transition (the table
 *    below), continuous per connection.
 *
 * SYNACK_SOAK_SEEDS sets the number of seeds (default 5000), SYNACK_SOAK_FIRST
 * the first one; SYNACK_SOAK_SEED=<n> runs one seed and prints its trace;
 * SYNACK_SOAK_LIST=1 lists the seeds that hit a limit, hung or failed;
 * SYNACK_SOAK_EVENTS_ONLY=1 turns off the recovery from lost wakeups (F1).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "soak.h"
#include "synack/sim.h"
#include "synack/synack.h"

#define ADDR_C 0x0a000001u /* 10.0.0.1 */
#define ADDR_S 0x0a000002u /* 10.0.0.2 */
#define PORT_S 7
#define MAX_N (200u * 1024u)
#define SEND_CHUNK 4096u
#define TRACE_CAP 65536u
#define STEP_CAP 4000000u
#define VTIME_CAP (24ull * 3600u * 1000000u) /* a virtual day */
#define EXCERPT 48                           /* trace records kept for a failure report */

/* ------------------------------------------------------------------ */
/* What a seed chooses.                                                */

enum pattern {
	P_CLIENT_FIRST, /* active close by the client */
	P_SERVER_FIRST, /* active close by the server */
	P_SIMULTANEOUS, /* both close at the same virtual instant */
	P_HALF_CLOSE,   /* client shutdown(SHUT_WR), reads the echo to EOF */
	P_ABORT_CLIENT, /* client SO_LINGER 0 after some bytes */
	P_ABORT_SERVER, /* server SO_LINGER 0 after some bytes */
	P_COUNT
};

static const char *const pattern_names[P_COUNT] = {
    "client_first", "server_first", "simultaneous", "half_close", "abort_client", "abort_server",
};

struct params {
	uint64_t seed;
	int pattern;
	int echo;
	size_t n;
	long abort_at; /* bytes before the abort; -1: the client aborts while connecting */
	struct synack_sim_path path[2]; /* [0] client -> server, [1] server -> client */
};

static void draw_path(uint64_t *r, struct synack_sim_path *p)
{
	memset(p, 0, sizeof(*p));
	/* A quarter of the paths are clean, so the easy case is soaked too. */
	if (soak_below(r, 4) == 0)
		return;
	p->loss = soak_unit(r) * 0.20;
	p->dup = soak_unit(r) * 0.10;
	p->reorder = soak_unit(r) * 0.20;
	p->corrupt = soak_unit(r) * 0.05;
	p->delay_us = soak_below(r, 50001);
	p->jitter_us = soak_below(r, 10001);
}

static void draw_params(uint64_t seed, struct params *p)
{
	uint64_t r = seed * 0x2545f4914f6cdd1dULL + 1;
	memset(p, 0, sizeof(*p));
	p->seed = seed;
	p->pattern = (int)soak_below(&r, P_COUNT);
	switch (soak_below(&r, 10)) {
	case 0:
		p->n = 0;
		break;
	case 1:
		p->n = 1;
		break;
	case 2:
	case 3:
	case 4:
		p->n = 2 + soak_below(&r, 3000);
		break;
	case 5:
	case 6:
	case 7:
		p->n = 3000 + soak_below(&r, 30000);
		break;
	default:
		p->n = 30000 + soak_below(&r, MAX_N - 30000 + 1);
		break;
	}
	/* Half-close is about reading after our FIN: mostly echo. */
	p->echo = p->pattern == P_HALF_CLOSE ? soak_below(&r, 4) != 0 : (int)soak_below(&r, 2);
	p->abort_at = (long)soak_below(&r, (uint32_t)p->n + 1);
	if (p->pattern == P_ABORT_CLIENT && soak_below(&r, 8) == 0)
		p->abort_at = -1;
	draw_path(&r, &p->path[0]);
	draw_path(&r, &p->path[1]);
}

/* ------------------------------------------------------------------ */
/* RFC 9293 state transitions.                                         */

static unsigned char legal[SYNACK_STATE_COUNT][SYNACK_STATE_COUNT];

static void legal_init(void)
{
	static const int pairs[][2] = {
	    /* RFC 9293 Figure 5. */
	    {SYNACK_CLOSED, SYNACK_LISTEN},            /* passive OPEN */
	    {SYNACK_CLOSED, SYNACK_SYN_SENT},          /* active OPEN */
	    {SYNACK_LISTEN, SYNACK_CLOSED},            /* CLOSE */
	    {SYNACK_LISTEN, SYNACK_SYN_SENT},          /* SEND */
	    {SYNACK_LISTEN, SYNACK_SYN_RECEIVED},      /* rcv SYN (a new child) */
	    {SYNACK_SYN_SENT, SYNACK_CLOSED},          /* CLOSE, RST, timeout */
	    {SYNACK_SYN_SENT, SYNACK_SYN_RECEIVED},    /* simultaneous open */
	    {SYNACK_SYN_SENT, SYNACK_ESTABLISHED},     /* rcv SYN,ACK */
	    {SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED}, /* rcv ACK of SYN */
	    {SYNACK_SYN_RECEIVED, SYNACK_FIN_WAIT_1},  /* CLOSE */
	    {SYNACK_SYN_RECEIVED, SYNACK_LISTEN},      /* RST to a passive child */
	    {SYNACK_SYN_RECEIVED, SYNACK_CLOSED},      /* RST, abort, SYN-ACK retries */
	    {SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1},   /* CLOSE */
	    {SYNACK_ESTABLISHED, SYNACK_CLOSE_WAIT},   /* rcv FIN */
	    {SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2},    /* rcv ACK of FIN */
	    {SYNACK_FIN_WAIT_1, SYNACK_CLOSING},       /* rcv FIN */
	    {SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT},     /* rcv FIN */
	    {SYNACK_CLOSE_WAIT, SYNACK_LAST_ACK},      /* CLOSE */
	    {SYNACK_CLOSING, SYNACK_TIME_WAIT},        /* rcv ACK of FIN */
	    {SYNACK_LAST_ACK, SYNACK_CLOSED},          /* rcv ACK of FIN */
	    {SYNACK_TIME_WAIT, SYNACK_CLOSED},         /* 2 MSL timeout */
	    /* Synchronized states end on RST, abort or a timeout. */
	    {SYNACK_ESTABLISHED, SYNACK_CLOSED},
	    {SYNACK_FIN_WAIT_1, SYNACK_CLOSED},
	    {SYNACK_FIN_WAIT_2, SYNACK_CLOSED},
	    {SYNACK_CLOSE_WAIT, SYNACK_CLOSED},
	    {SYNACK_CLOSING, SYNACK_CLOSED},
	};
	memset(legal, 0, sizeof(legal));
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		legal[pairs[i][0]][pairs[i][1]] = 1;
}

/* Causes that end a connection because a retransmission limit ran out:
 * what the seed's losses may legitimately bring about. */
static int cause_is_give_up(int cause)
{
	return cause == SYNACK_CAUSE_SYN_TIMEOUT || cause == SYNACK_CAUSE_SYNACK_TIMEOUT ||
	       cause == SYNACK_CAUSE_RETRANS_TIMEOUT || cause == SYNACK_CAUSE_ORPHAN_RETRIES ||
	       cause == SYNACK_CAUSE_FIN_WAIT_2_TIMEOUT;
}

/* ------------------------------------------------------------------ */
/* One run.                                                            */

struct conn_track {
	int used;
	struct synack_endpoint local, remote;
	int state;
};

#define TRACKED 16

enum { CLIENT = 0, SERVER = 1 };

struct app {
	int fd;         /* the connection's socket, -1 before/after */
	int listen_fd;  /* server only */
	int started;    /* client: connect() called; server: a connection accepted */
	int connected;  /* client: the handshake finished */
	int done;       /* the application has released its connection */
	int shut;       /* shutdown(SHUT_WR) called */
	int closed_how; /* 0, 'g' graceful close, 'a' abort, 'f' fallback after a hang */
	int err;        /* first error a call returned */
	int eof;        /* recv returned 0 */
	size_t tx, rx;  /* bytes queued to send, bytes received */
	size_t bad_at;  /* first mismatching received byte, SIZE_MAX if none */
	size_t excess;  /* bytes received beyond what was sent */
	uint32_t seen;  /* readiness as the application last saw it */
	uint32_t told;  /* readiness as synack_event_next last reported it */
	int extra;      /* server: connections accepted beyond the first */
};

struct run {
	struct params p;
	struct synack_stack *st[2];
	struct synack_sim *sim;
	int host[2];
	uint8_t *data; /* what the client sends */
	uint8_t *echo; /* what the server received (and echoes) */
	struct app app[2];
	int verbose;
	int events_only; /* SYNACK_SOAK_EVENTS_ONLY: no recovery from lost wakeups */

	/* Trace checking. */
	struct conn_track track[2][TRACKED];
	struct synack_trace excerpt[2][EXCERPT];
	struct synack_trace prev[2]; /* the record before, per stack */
	size_t excerpt_n[2];
	uint64_t trace_hash, wire_hash;
	uint64_t damaged[2]; /* datagrams delivered to each host with a flipped bit */
	uint64_t records;
	int give_up;      /* some connection hit a retransmission limit */
	int rst_seen;     /* some RST crossed the wire */
	int lost_wakeups; /* readiness changes the event queue never reported */
	int lost_same;    /* ... of them, back to the mask last reported (finding F1) */
	uint32_t client_iss, server_iss;
	uint32_t transitions[SYNACK_STATE_COUNT][SYNACK_STATE_COUNT];
	uint32_t give_up_causes[SYNACK_CAUSE_COUNT];
	int failed;
	char why[256];
	uint64_t steps;
};

static void fail_run(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_run(struct run *r, const char *fmt, ...)
{
	va_list ap;
	if (r->failed++)
		return;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

static const char *side_name(int h)
{
	return h == CLIENT ? "C" : "S";
}

static void print_record(int h, const struct synack_trace *t)
{
	soak_print_record(side_name(h), t);
}

static struct conn_track *track_find(struct run *r, int h, const struct synack_trace *t)
{
	for (int i = 0; i < TRACKED; i++) {
		struct conn_track *c = &r->track[h][i];
		if (c->used && c->local.addr == t->local.addr && c->local.port == t->local.port &&
		    c->remote.addr == t->remote.addr && c->remote.port == t->remote.port)
			return c;
	}
	return NULL;
}

static void check_state_record(struct run *r, int h, const struct synack_trace *t)
{
	struct conn_track *c = track_find(r, h, t);
	if (t->from >= SYNACK_STATE_COUNT || t->to >= SYNACK_STATE_COUNT) {
		fail_run(r, "%s: state out of range %u -> %u", side_name(h), t->from, t->to);
		return;
	}
	if (!legal[t->from][t->to])
		fail_run(r, "%s: illegal transition %s -> %s (%s) at %" PRIu64, side_name(h),
		         synack_state_name(t->from), synack_state_name(t->to),
		         synack_cause_name(t->cause), t->t_us);
	/* TIME_WAIT is entered only on the FIN in FIN_WAIT_2 or on the ACK of
	 * our FIN in CLOSING (RFC 9293 3.10.7.4, fifth and eighth steps). */
	if (t->to == SYNACK_TIME_WAIT &&
	    !((t->from == SYNACK_FIN_WAIT_2 && t->cause == SYNACK_CAUSE_RCV_FIN) ||
	      (t->from == SYNACK_CLOSING && t->cause == SYNACK_CAUSE_RCV_ACK_OF_FIN)))
		fail_run(r, "%s: TIME_WAIT from %s by %s", side_name(h), synack_state_name(t->from),
		         synack_cause_name(t->cause));
	r->transitions[t->from][t->to]++;
	if (cause_is_give_up(t->cause) && t->cause < SYNACK_CAUSE_COUNT) {
		r->give_up = 1;
		r->give_up_causes[t->cause]++;
	}
	if (t->to == SYNACK_SYN_SENT && h == CLIENT)
		r->client_iss = t->iss;
	if (t->from == SYNACK_LISTEN && t->to == SYNACK_SYN_RECEIVED && h == SERVER)
		r->server_iss = t->iss;
	if (!c) {
		/* A new connection starts CLOSED, or in LISTEN when a
		 * listener forks it on a SYN. */
		int fresh = t->from == SYNACK_CLOSED ||
		            (t->from == SYNACK_LISTEN && t->to == SYNACK_SYN_RECEIVED);
		if (!fresh) {
			fail_run(r, "%s: first transition of :%u<->:%u is %s -> %s", side_name(h),
			         t->local.port, t->remote.port, synack_state_name(t->from),
			         synack_state_name(t->to));
			return;
		}
		for (int i = 0; i < TRACKED && !c; i++)
			if (!r->track[h][i].used)
				c = &r->track[h][i];
		if (!c) {
			fail_run(r, "%s: more than %d connections tracked", side_name(h), TRACKED);
			return;
		}
		c->used = 1;
		c->local = t->local;
		c->remote = t->remote;
		c->state = t->from;
	}
	if (c->state != t->from)
		fail_run(r, "%s: :%u<->:%u was %s, trace says %s -> %s", side_name(h),
		         t->local.port, t->remote.port, synack_state_name(c->state),
		         synack_state_name(t->from), synack_state_name(t->to));
	c->state = t->to;
	if (t->to == SYNACK_CLOSED)
		c->used = 0;
}

static void drain_trace(struct run *r)
{
	struct synack_trace buf[256];
	for (int h = 0; h < 2; h++) {
		size_t n;
		while ((n = synack_trace_read(r->st[h], buf, 256)) > 0) {
			for (size_t i = 0; i < n; i++) {
				const struct synack_trace *t = &buf[i];
				r->records++;
				r->trace_hash = soak_hash_record(r->trace_hash, h, t);
				r->excerpt[h][r->excerpt_n[h]++ % EXCERPT] = *t;
				if (r->verbose)
					print_record(h, t);
				if (t->kind == SYNACK_TRACE_STATE)
					check_state_record(r, h, t);
				if (t->kind == SYNACK_TRACE_STATE && t->to == SYNACK_CLOSED &&
				    t->cause == SYNACK_CAUSE_APP_ABORT &&
				    t->from != SYNACK_SYN_SENT &&
				    !(r->prev[h].kind == SYNACK_TRACE_TX &&
				      (r->prev[h].flags & SYNACK_TH_RST) &&
				      r->prev[h].remote.port == t->remote.port))
					/* RFC 9293 3.10.5: ABORT sends a reset from
					 * every state where the peer holds state. */
					fail_run(r, "%s: abort from %s without a RST", side_name(h),
					         synack_state_name(t->from));
				if (t->kind == SYNACK_TRACE_TX && (t->flags & SYNACK_TH_RST))
					r->rst_seen = 1;
				r->prev[h] = *t;
			}
		}
	}
}

static void tap(void *ctx, int event, int from, int to, const uint8_t *pkt, size_t len,
                uint64_t now)
{
	struct run *r = ctx;
	uint64_t x = r->wire_hash;
	x = soak_fnv_u64(x, (uint64_t)event);
	x = soak_fnv_u64(x, (uint64_t)from);
	x = soak_fnv_u64(x, (uint64_t)to);
	x = soak_fnv_u64(x, now);
	x = soak_fnv_u64(x, len);
	r->wire_hash = soak_fnv(x, pkt, len);
	if (event == SYNACK_SIM_DELIVERED && to >= 0 && to < 2 && !soak_datagram_intact(pkt, len))
		r->damaged[to]++;
}

/* ------------------------------------------------------------------ */
/* The applications.                                                   */

static void take(struct run *r, struct app *a, const uint8_t *buf, size_t n, int h)
{
	size_t room = a->rx < r->p.n ? r->p.n - a->rx : 0;
	size_t k = n < room ? n : room;
	for (size_t i = 0; i < k && a->bad_at == SIZE_MAX; i++)
		if (buf[i] != r->data[a->rx + i])
			a->bad_at = a->rx + i;
	if (h == SERVER && k)
		memcpy(r->echo + a->rx, buf, k);
	a->rx += k;
	a->excess += n - k;
}

/* Reads until the socket has nothing more (EAGAIN), EOF or an error. */
static void read_all(struct run *r, int h)
{
	struct app *a = &r->app[h];
	uint8_t buf[8192];
	while (a->fd >= 0 && !a->eof) {
		ssize_t n = synack_recv(r->st[h], a->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			take(r, a, buf, (size_t)n, h);
			continue;
		}
		if (n == 0)
			a->eof = 1;
		else if (n != -EAGAIN && !a->err)
			a->err = (int)n;
		break;
	}
}

static void app_close(struct run *r, int h, int how)
{
	struct app *a = &r->app[h];
	if (a->fd < 0)
		return;
	if (how == 'a')
		CHECK_EQ(synack_setsockopt(r->st[h], a->fd, SYNACK_SO_LINGER, 0), 0);
	CHECK_EQ(synack_close(r->st[h], a->fd), 0);
	a->fd = -1;
	a->closed_how = how;
	a->done = 1;
}

static int client_ready_to_close(const struct run *r)
{
	const struct app *c = &r->app[CLIENT];
	return c->connected && c->tx == r->p.n && (!r->p.echo || c->rx == r->p.n);
}

static int server_ready_to_close(const struct run *r)
{
	const struct app *s = &r->app[SERVER];
	return s->fd >= 0 && s->rx == r->p.n && (!r->p.echo || s->tx == s->rx);
}

static void client_pump(struct run *r)
{
	struct app *c = &r->app[CLIENT];
	struct synack_stack *st = r->st[CLIENT];
	const struct params *p = &r->p;
	if (c->fd < 0)
		return;
	if (!c->connected) {
		uint32_t ev = synack_events(st, c->fd);
		if (!(ev & (SYNACK_POLLOUT | SYNACK_POLLERR | SYNACK_POLLHUP)))
			return;
		int e = synack_socket_error(st, c->fd);
		if (e) {
			c->err = e;
			app_close(r, CLIENT, 'g');
			return;
		}
		c->connected = 1;
	}
	while (!c->err && !c->shut && c->tx < p->n) {
		size_t want = p->n - c->tx;
		if (p->pattern == P_ABORT_CLIENT && c->tx < (size_t)p->abort_at &&
		    want > (size_t)p->abort_at - c->tx)
			want = (size_t)p->abort_at - c->tx;
		if (want == 0)
			break;
		ssize_t k =
		    synack_send(st, c->fd, r->data + c->tx, want < SEND_CHUNK ? want : SEND_CHUNK);
		if (k > 0)
			c->tx += (size_t)k;
		else if (k != -EAGAIN)
			c->err = (int)k;
		if (k <= 0)
			break;
		if (p->pattern == P_ABORT_CLIENT && c->tx >= (size_t)p->abort_at)
			break;
	}
	read_all(r, CLIENT);
	if (p->pattern == P_ABORT_CLIENT && !c->err && c->tx >= (size_t)p->abort_at) {
		app_close(r, CLIENT, 'a');
		return;
	}
	if (p->pattern == P_HALF_CLOSE && !c->err && !c->shut && c->tx == p->n) {
		CHECK_EQ(synack_shutdown(st, c->fd, SYNACK_SHUT_WR), 0);
		c->shut = 1;
	}
	if (c->err || (c->eof && c->tx == p->n) ||
	    (p->pattern == P_CLIENT_FIRST && client_ready_to_close(r))) {
		read_all(r, CLIENT); /* what is left before the error */
		app_close(r, CLIENT, 'g');
		return;
	}
	c->seen = synack_events(st, c->fd);
}

static void server_conn_pump(struct run *r)
{
	struct app *s = &r->app[SERVER];
	struct synack_stack *st = r->st[SERVER];
	const struct params *p = &r->p;
	if (s->fd < 0)
		return;
	read_all(r, SERVER);
	while (p->echo && !s->err && s->tx < s->rx) {
		ssize_t k = synack_send(st, s->fd, r->echo + s->tx, s->rx - s->tx);
		if (k > 0)
			s->tx += (size_t)k;
		else if (k != -EAGAIN)
			s->err = (int)k;
		if (k <= 0)
			break;
	}
	if (p->pattern == P_ABORT_SERVER && !s->err && s->rx >= (size_t)p->abort_at) {
		app_close(r, SERVER, 'a');
		return;
	}
	if (s->err || (s->eof && (!p->echo || s->tx == s->rx)) ||
	    (p->pattern == P_SERVER_FIRST && server_ready_to_close(r))) {
		read_all(r, SERVER);
		app_close(r, SERVER, 'g');
		return;
	}
	s->seen = synack_events(st, s->fd);
}

static void server_listen_pump(struct run *r)
{
	struct app *s = &r->app[SERVER];
	struct synack_stack *st = r->st[SERVER];
	for (;;) {
		struct synack_endpoint peer;
		int fd = synack_accept(st, s->listen_fd, &peer);
		if (fd == -EAGAIN)
			break;
		if (fd < 0) {
			fail_run(r, "accept: %s", synack_strerror(fd));
			break;
		}
		if (s->started) {
			/* One client, one connection: a second one means a
			 * stale segment opened a connection. */
			s->extra++;
			fail_run(r, "a second connection was accepted from port %u", peer.port);
			CHECK_EQ(synack_setsockopt(st, fd, SYNACK_SO_LINGER, 0), 0);
			CHECK_EQ(synack_close(st, fd), 0);
			continue;
		}
		s->started = 1;
		s->fd = fd;
		server_conn_pump(r);
	}
}

/* Both close at the same instant, once each has everything it waits for. */
static void coordinate(struct run *r)
{
	if (r->p.pattern != P_SIMULTANEOUS || r->app[CLIENT].fd < 0 || r->app[SERVER].fd < 0)
		return;
	if (!client_ready_to_close(r) || !server_ready_to_close(r))
		return;
	app_close(r, CLIENT, 'g');
	app_close(r, SERVER, 'g');
}

static void dispatch_events(struct run *r)
{
	struct synack_event ev;
	while (synack_event_next(r->st[CLIENT], &ev)) {
		if (r->verbose)
			printf("    event C socket %d 0x%x\n", ev.socket, ev.events);
		if (ev.socket == r->app[CLIENT].fd) {
			r->app[CLIENT].told = ev.events;
			client_pump(r);
		}
	}
	while (synack_event_next(r->st[SERVER], &ev)) {
		if (r->verbose)
			printf("    event S socket %d 0x%x\n", ev.socket, ev.events);
		if (ev.socket == r->app[SERVER].listen_fd)
			server_listen_pump(r);
		else if (ev.socket == r->app[SERVER].fd) {
			r->app[SERVER].told = ev.events;
			server_conn_pump(r);
		}
	}
	coordinate(r);
}

/*
 * With every reported event handled, each open socket's readiness must be
 * what its application last saw: a difference is a change the event queue
 * never reported, and an application driven by events alone would wait for
 * it forever.  Count it and let the application act, so the run goes on.
 */
static void check_wakeups(struct run *r)
{
	for (int h = 0; h < 2; h++) {
		struct app *a = &r->app[h];
		if (a->fd < 0)
			continue;
		if (h == CLIENT && !a->connected)
			continue;
		uint32_t now = synack_events(r->st[h], a->fd);
		if (now == a->seen)
			continue;
		/* The queue compares with the mask it last reported (F1 in
		 * tests/SOAK_FINDINGS.md); any other silence is worse. */
		r->lost_same += now == a->told;
		if (now != a->told)
			fail_run(
			    r,
			    "%s socket %d: readiness 0x%x (reported 0x%x, seen 0x%x) never queued",
			    side_name(h), a->fd, now, a->told, a->seen);
		if (!r->lost_wakeups++ && r->verbose)
			printf("    lost wakeup: %s socket %d saw 0x%x, now 0x%x, last reported "
			       "0x%x\n",
			       side_name(h), a->fd, a->seen, now, a->told);
		if (r->events_only)
			continue; /* show what an application driven by events alone does */
		if (h == CLIENT)
			client_pump(r);
		else
			server_conn_pump(r);
	}
	coordinate(r);
}

/* ------------------------------------------------------------------ */

static void check_idle_stack(struct run *r, int h, uint64_t listeners)
{
	char why[160];
	if (!soak_stack_idle(r->st[h], listeners, why, sizeof(why)))
		fail_run(r, "%s: %s", side_name(h), why);
	/* A flipped bit is caught by the IPv4 or TCP checksum (or by an
	 * earlier header check): every damaged datagram is dropped and counted
	 * below TCP, and nothing else is.  (The sim's `corrupted` counter
	 * counts flips, and a flipped datagram may then be duplicated, so the
	 * tap checks each delivery itself.) */
	if (!soak_stack_damage_counted(r->st[h], r->damaged[r->host[h]], why, sizeof(why)))
		fail_run(r, "%s: %s", side_name(h), why);
}

/* Outcome of one seed, for the summary. */
struct outcome {
	int clean; /* both closed gracefully, nothing given up */
	int give_up;
	int fallback;
	size_t bytes; /* payload bytes delivered to applications */
	uint64_t vtime;
};

static int seed_is_abort(const struct params *p)
{
	return p->pattern == P_ABORT_CLIENT || p->pattern == P_ABORT_SERVER;
}

/* The data checks, once both applications are done. */
static void check_data(struct run *r, struct outcome *o)
{
	const struct params *p = &r->p;
	const struct app *c = &r->app[CLIENT], *s = &r->app[SERVER];
	int graceful = !seed_is_abort(p) && c->closed_how == 'g' && s->closed_how != 'f' &&
	               s->closed_how != 'a' && !c->err && !s->err;
	/* Whatever happened, what arrived is a prefix of what was sent. */
	if (s->bad_at != SIZE_MAX)
		fail_run(r, "server received a wrong byte at offset %zu", s->bad_at);
	if (c->bad_at != SIZE_MAX)
		fail_run(r, "client received a wrong byte at offset %zu", c->bad_at);
	if (s->excess || c->excess)
		fail_run(r, "bytes beyond what was sent: server %zu, client %zu", s->excess,
		         c->excess);
	if (p->echo && c->rx > s->rx)
		fail_run(r, "client got %zu echoed bytes, server only received %zu", c->rx, s->rx);
	if (!p->echo && c->rx)
		fail_run(r, "client got %zu bytes from a sink", c->rx);
	if (graceful) {
		if (s->rx != p->n)
			fail_run(r, "graceful close but the server received %zu of %zu bytes",
			         s->rx, p->n);
		if (p->echo && c->rx != p->n)
			fail_run(r,
			         "graceful close but the client received %zu of %zu echoed bytes",
			         c->rx, p->n);
		if ((p->pattern == P_CLIENT_FIRST || p->pattern == P_HALF_CLOSE) && !s->eof)
			fail_run(r, "the server never saw the client's FIN");
		if ((p->pattern == P_SERVER_FIRST || p->pattern == P_HALF_CLOSE) && !c->eof)
			fail_run(r, "the client never saw the server's FIN");
	} else if (!seed_is_abort(p) && !r->give_up) {
		/* A graceful pattern ended badly without a retransmission
		 * limit running out: nothing in the seed explains it. */
		fail_run(
		    r, "graceful pattern ended badly (client %c err %s, server %c err %s)",
		    c->closed_how ? c->closed_how : '-', c->err ? synack_strerror(c->err) : "0",
		    s->closed_how ? s->closed_how : '-', s->err ? synack_strerror(s->err) : "0");
	}
	if (seed_is_abort(p) && p->abort_at >= 0 && !r->give_up) {
		int aborter = p->pattern == P_ABORT_CLIENT ? CLIENT : SERVER;
		if (r->app[aborter].closed_how != 'a')
			fail_run(r, "the %s was to abort but closed with '%c'",
			         aborter == CLIENT ? "client" : "server",
			         r->app[aborter].closed_how ? r->app[aborter].closed_how : '-');
	}
	o->clean = graceful && !r->give_up;
	o->give_up = r->give_up;
	o->fallback = c->closed_how == 'f' || s->closed_how == 'f';
	o->bytes = c->rx + s->rx;
}

static int run_seed(uint64_t seed, int verbose, struct run *r, struct outcome *o)
{
	struct synack_config cfg;
	uint64_t sk = seed ^ 0x5eed5eed5eed5eedULL;
	int err;

	memset(r, 0, sizeof(*r));
	memset(o, 0, sizeof(*o));
	draw_params(seed, &r->p);
	r->verbose = verbose;
	r->events_only = getenv("SYNACK_SOAK_EVENTS_ONLY") != NULL;
	r->trace_hash = r->wire_hash = SOAK_FNV_INIT;
	r->app[CLIENT].fd = r->app[SERVER].fd = -1;
	r->app[CLIENT].listen_fd = r->app[SERVER].listen_fd = -1;
	r->app[CLIENT].bad_at = r->app[SERVER].bad_at = SIZE_MAX;

	r->data = malloc(r->p.n ? r->p.n : 1);
	r->echo = malloc(r->p.n ? r->p.n : 1);
	if (!r->data || !r->echo)
		abort();
	{
		uint64_t ds = seed * 0x9e3779b97f4a7c15ULL + 7;
		for (size_t i = 0; i < r->p.n; i++)
			r->data[i] = (uint8_t)(soak_next(&ds) >> 56);
	}

	for (int h = 0; h < 2; h++) {
		synack_config_default(&cfg);
		cfg.addr = h == CLIENT ? ADDR_C : ADDR_S;
		for (int i = 0; i < 16; i++)
			cfg.secret[i] = (uint8_t)(soak_next(&sk) >> 24);
		cfg.trace_capacity = TRACE_CAP;
		r->st[h] = synack_stack_new(&cfg, &err);
		if (!r->st[h]) {
			fprintf(stderr, "synack_stack_new: %s\n", synack_strerror(err));
			abort();
		}
	}
	r->sim = synack_sim_new(seed);
	r->host[CLIENT] = synack_sim_add_host(r->sim, r->st[CLIENT], "client");
	r->host[SERVER] = synack_sim_add_host(r->sim, r->st[SERVER], "server");
	CHECK_EQ(synack_sim_set_path(r->sim, r->host[CLIENT], r->host[SERVER], &r->p.path[0]), 0);
	CHECK_EQ(synack_sim_set_path(r->sim, r->host[SERVER], r->host[CLIENT], &r->p.path[1]), 0);
	synack_sim_set_tap(r->sim, tap, r);

	if (verbose) {
		const struct synack_sim_path *a = &r->p.path[0], *b = &r->p.path[1];
		printf("seed %" PRIu64 ": %s %s n=%zu abort_at=%ld\n", seed,
		       pattern_names[r->p.pattern], r->p.echo ? "echo" : "sink", r->p.n,
		       r->p.abort_at);
		printf("  c->s loss %.3f dup %.3f reorder %.3f corrupt %.3f delay %u jitter %u\n",
		       a->loss, a->dup, a->reorder, a->corrupt, a->delay_us, a->jitter_us);
		printf("  s->c loss %.3f dup %.3f reorder %.3f corrupt %.3f delay %u jitter %u\n",
		       b->loss, b->dup, b->reorder, b->corrupt, b->delay_us, b->jitter_us);
	}

	/* Server: listen.  Client: connect. */
	{
		struct app *s = &r->app[SERVER], *c = &r->app[CLIENT];
		struct synack_endpoint local = {.addr = ADDR_S, .port = PORT_S},
		                       peer = {.addr = ADDR_S, .port = PORT_S};
		s->listen_fd = synack_socket(r->st[SERVER]);
		CHECK(s->listen_fd >= 0);
		CHECK_EQ(synack_bind(r->st[SERVER], s->listen_fd, &local), 0);
		CHECK_EQ(synack_listen(r->st[SERVER], s->listen_fd, 16), 0);
		c->fd = synack_socket(r->st[CLIENT]);
		CHECK(c->fd >= 0);
		CHECK_EQ(synack_connect(r->st[CLIENT], c->fd, &peer), -EINPROGRESS);
		c->started = 1;
		if (r->p.pattern == P_ABORT_CLIENT && r->p.abort_at < 0)
			app_close(r, CLIENT, 'a');
	}

	/* The applications' life. */
	for (;;) {
		dispatch_events(r);
		check_wakeups(r);
		drain_trace(r);
		struct app *c = &r->app[CLIENT], *s = &r->app[SERVER];
		if (c->done &&
		    (s->done || (!s->started && synack_sim_next_event(r->sim) == SYNACK_NEVER)))
			break;
		if (++r->steps > STEP_CAP || synack_sim_now(r->sim) > VTIME_CAP) {
			fail_run(r, "runaway: %" PRIu64 " steps, virtual time %" PRIu64 " us",
			         r->steps, synack_sim_now(r->sim));
			break;
		}
		if (synack_sim_step(r->sim) != SYNACK_NEVER)
			continue;
		/*
		 * Nothing can happen any more, yet an application waits.
		 * That is right only when the seed explains it: an abort
		 * whose RST was lost, or a peer that gave up after its
		 * retransmission limit.  Either way the application ends
		 * its wait (as a real one would after its own timeout).
		 */
		drain_trace(r);
		int justified = seed_is_abort(&r->p) || r->give_up;
		for (int h = 0; h < 2; h++) {
			struct app *a = &r->app[h];
			if (a->done || a->fd < 0)
				continue;
			if (!justified)
				fail_run(r, "%s application hangs: events 0x%x, nothing pending",
				         side_name(h), synack_events(r->st[h], a->fd));
			if (verbose)
				printf("    %s application gives up waiting\n", side_name(h));
			app_close(r, h, 'f');
		}
		if (!c->done && c->fd < 0)
			c->done = 1;
	}

	/* Past every timeout: TIME_WAIT, FIN_WAIT_2, retransmission limits. */
	for (uint64_t n = 0; synack_sim_step(r->sim) != SYNACK_NEVER; n++) {
		struct synack_event ev;
		for (int h = 0; h < 2; h++)
			while (synack_event_next(r->st[h], &ev))
				;
		drain_trace(r);
		if (n > STEP_CAP || synack_sim_now(r->sim) > 2 * VTIME_CAP) {
			fail_run(r, "timers never stop: virtual time %" PRIu64,
			         synack_sim_now(r->sim));
			break;
		}
	}
	drain_trace(r);
	check_data(r, o);
	check_idle_stack(r, CLIENT, 0);
	check_idle_stack(r, SERVER, 1);
	o->vtime = synack_sim_now(r->sim);

	if (r->failed) {
		const struct synack_sim_path *a = &r->p.path[0], *b = &r->p.path[1];
		fprintf(
		    stderr,
		    "seed %" PRIu64 " FAILED: %s\n  %s %s n=%zu abort_at=%ld; client tx %zu rx %zu "
		    "%c err %d eof %d; server tx %zu rx %zu %c err %d eof %d\n"
		    "  c->s loss %.3f dup %.3f reorder %.3f corrupt %.3f delay %u jitter %u\n"
		    "  s->c loss %.3f dup %.3f reorder %.3f corrupt %.3f delay %u jitter %u\n",
		    seed, r->why, pattern_names[r->p.pattern], r->p.echo ? "echo" : "sink", r->p.n,
		    r->p.abort_at, r->app[0].tx, r->app[0].rx,
		    r->app[0].closed_how ? r->app[0].closed_how : '-', r->app[0].err, r->app[0].eof,
		    r->app[1].tx, r->app[1].rx, r->app[1].closed_how ? r->app[1].closed_how : '-',
		    r->app[1].err, r->app[1].eof, a->loss, a->dup, a->reorder, a->corrupt,
		    a->delay_us, a->jitter_us, b->loss, b->dup, b->reorder, b->corrupt, b->delay_us,
		    b->jitter_us);
		for (int h = 0; h < 2; h++) {
			size_t n = r->excerpt_n[h] < EXCERPT ? r->excerpt_n[h] : EXCERPT;
			fprintf(stderr, "  last %zu trace records of %s:\n", n, side_name(h));
			fflush(stderr);
			for (size_t i = r->excerpt_n[h] - n; i < r->excerpt_n[h]; i++)
				print_record(h, &r->excerpt[h][i % EXCERPT]);
			fflush(stdout);
		}
	}

	synack_sim_free(r->sim);
	synack_stack_free(r->st[CLIENT]);
	synack_stack_free(r->st[SERVER]);
	free(r->data);
	free(r->echo);
	r->sim = NULL;
	r->st[0] = r->st[1] = NULL;
	r->data = r->echo = NULL;
	return r->failed == 0;
}

/* ------------------------------------------------------------------ */
/* Tests.                                                              */

static void soak_seeds(void)
{
	uint64_t first = soak_env_u64("SYNACK_SOAK_FIRST", 1);
	uint64_t count = soak_env_u64("SYNACK_SOAK_SEEDS", 5000);
	int list = getenv("SYNACK_SOAK_LIST") != NULL; /* one line per unusual seed */
	uint64_t per_pattern[P_COUNT] = {0}, failed_per_pattern[P_COUNT] = {0};
	uint64_t clean = 0, give_up = 0, fallback = 0, failed = 0, lost_wakeup_seeds = 0;
	uint64_t bytes = 0, vtime = 0, steps = 0, echo = 0, lost_same = 0;
	uint64_t transitions[SYNACK_STATE_COUNT][SYNACK_STATE_COUNT] = {{0}};
	uint64_t causes[SYNACK_CAUSE_COUNT] = {0};
	double least_lossy_give_up = 1.0;
	struct timespec t0, t1;
	struct run *r = malloc(sizeof(*r));
	struct outcome o;
	if (!r)
		abort();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t seed = first; seed < first + count; seed++) {
		int ok = run_seed(seed, 0, r, &o);
		if (list && (r->give_up || o.fallback || !ok))
			printf("  seed %" PRIu64 ": %s %s n=%zu%s%s%s\n", seed,
			       pattern_names[r->p.pattern], r->p.echo ? "echo" : "sink", r->p.n,
			       r->give_up ? " give-up" : "", o.fallback ? " fallback" : "",
			       ok ? "" : " FAILED");
		per_pattern[r->p.pattern]++;
		echo += (uint64_t)r->p.echo;
		if (!ok) {
			failed++;
			failed_per_pattern[r->p.pattern]++;
		}
		clean += (uint64_t)o.clean;
		give_up += (uint64_t)o.give_up;
		fallback += (uint64_t)o.fallback;
		lost_wakeup_seeds += r->lost_wakeups != 0;
		lost_same += (uint64_t)r->lost_same;
		for (int i = 0; i < SYNACK_STATE_COUNT; i++)
			for (int j = 0; j < SYNACK_STATE_COUNT; j++)
				transitions[i][j] += r->transitions[i][j];
		for (int i = 0; i < SYNACK_CAUSE_COUNT; i++)
			causes[i] += r->give_up_causes[i];
		if (r->give_up) {
			/* The worse direction's chance to lose a datagram. */
			double w = 0;
			for (int d = 0; d < 2; d++) {
				double l = r->p.path[d].loss + r->p.path[d].corrupt;
				w = l > w ? l : w;
			}
			least_lossy_give_up = w < least_lossy_give_up ? w : least_lossy_give_up;
		}
		bytes += o.bytes;
		vtime += o.vtime;
		steps += r->steps;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("soak: %" PRIu64 " seeds from %" PRIu64 " in %.1f s wall, %" PRIu64 " failed\n",
	       count, first, wall, failed);
	for (int i = 0; i < P_COUNT; i++)
		printf("  %-13s %6" PRIu64 " seeds, %" PRIu64 " failed\n", pattern_names[i],
		       per_pattern[i], failed_per_pattern[i]);
	printf("  echo %" PRIu64 ", sink %" PRIu64 "; clean %" PRIu64 ", retransmission limit hit "
	       "%" PRIu64 ", application gave up waiting %" PRIu64 "\n",
	       echo, count - echo, clean, give_up, fallback);
	printf("  %" PRIu64 " payload bytes delivered, %.1f h virtual time, %" PRIu64
	       " app-loop steps\n",
	       bytes, (double)vtime / 3.6e9, steps);
	printf("  transitions seen:");
	for (int i = 0, k = 0; i < SYNACK_STATE_COUNT; i++)
		for (int j = 0; j < SYNACK_STATE_COUNT; j++)
			if (transitions[i][j])
				printf("%s%s->%s %" PRIu64, k++ % 4 ? ", " : "\n    ",
				       synack_state_name(i), synack_state_name(j),
				       transitions[i][j]);
	printf("\n  retransmission limits:");
	for (int i = 0; i < SYNACK_CAUSE_COUNT; i++)
		if (causes[i])
			printf(" %s %" PRIu64, synack_cause_name(i), causes[i]);
	if (give_up)
		printf("; on paths losing at least %.1f%% one way", 100 * least_lossy_give_up);
	printf("\n");
	/* Every transition this soak is built to reach is reached (given
	 * enough seeds):
	 * a change that stops one from happening shows here. */
	CHECK(count < 1000 || transitions[SYNACK_FIN_WAIT_1][SYNACK_CLOSING] > 0);
	CHECK(count < 1000 || transitions[SYNACK_CLOSING][SYNACK_TIME_WAIT] > 0);
	CHECK(count < 1000 || transitions[SYNACK_FIN_WAIT_2][SYNACK_TIME_WAIT] > 0);
	CHECK(count < 1000 || transitions[SYNACK_LAST_ACK][SYNACK_CLOSED] > 0);
	CHECK(count < 1000 || transitions[SYNACK_TIME_WAIT][SYNACK_CLOSED] > 0);
	CHECK(count < 1000 || transitions[SYNACK_ESTABLISHED][SYNACK_CLOSED] > 0);
	CHECK(transitions[SYNACK_SYN_RECEIVED][SYNACK_LISTEN] > 0 || count < 1000);
	CHECK_EQ_U64(failed, 0);
	if (lost_wakeup_seeds)
		printf("  lost wakeups (finding F1 in tests/SOAK_FINDINGS.md): readiness never "
		       "reported by synack_event_next in %" PRIu64 " seeds (%" PRIu64
		       " back to the mask last reported)\n",
		       lost_wakeup_seeds, lost_same);
	CHECK_EQ_U64(lost_wakeup_seeds, 0);
	free(r);
}

/* The same seed twice: the same trace records and the same bytes on the
 * wire.  Different seeds: different initial sequence numbers. */
static void same_seed_same_run_different_seeds_different_isns(void)
{
	struct run *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct outcome o;
	enum { NSEEDS = 64 };
	uint32_t isn[2 * NSEEDS];
	size_t nisn = 0;
	if (!a || !b)
		abort();
	for (uint64_t seed = 1000001; seed < 1000001 + NSEEDS; seed++) {
		run_seed(seed, 0, a, &o);
		run_seed(seed, 0, b, &o);
		CHECK(a->records > 0);
		CHECK_EQ_U64(a->records, b->records);
		CHECK_EQ_U64(a->trace_hash, b->trace_hash);
		CHECK_EQ_U64(a->wire_hash, b->wire_hash);
		CHECK_EQ_U64(a->client_iss, b->client_iss);
		CHECK_EQ_U64(a->server_iss, b->server_iss);
		isn[nisn++] = a->client_iss;
		if (a->server_iss)
			isn[nisn++] = a->server_iss;
	}
	for (size_t i = 0; i < nisn; i++)
		for (size_t j = i + 1; j < nisn; j++)
			if (isn[i] == isn[j])
				check_fail(__FILE__, __LINE__, "ISN %u repeats (entries %zu, %zu)",
				           isn[i], i, j);
	/* A neighbouring seed changes the run. */
	run_seed(1000001, 0, a, &o);
	run_seed(1000002, 0, b, &o);
	CHECK(a->wire_hash != b->wire_hash);
	CHECK(a->trace_hash != b->trace_hash);
	free(a);
	free(b);
}

/* The transition checker itself: a legal close passes, FIN_WAIT_1 straight
 * to TIME_WAIT, a jump and a first record out of nowhere do not. */
static int feed(const int (*seq)[3], size_t n)
{
	struct run *r = calloc(1, sizeof(*r));
	int failed;
	if (!r)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct synack_trace t;
		memset(&t, 0, sizeof(t));
		t.kind = SYNACK_TRACE_STATE;
		t.local.addr = ADDR_C;
		t.local.port = 40000;
		t.remote.addr = ADDR_S;
		t.remote.port = PORT_S;
		t.from = (uint8_t)seq[i][0];
		t.to = (uint8_t)seq[i][1];
		t.cause = (uint8_t)seq[i][2];
		check_state_record(r, CLIENT, &t);
	}
	failed = r->failed;
	free(r);
	return failed;
}

static void transition_checker_rejects_what_rfc_9293_forbids(void)
{
	static const int good[][3] = {
	    {SYNACK_CLOSED, SYNACK_SYN_SENT, SYNACK_CAUSE_APP_CONNECT},
	    {SYNACK_SYN_SENT, SYNACK_ESTABLISHED, SYNACK_CAUSE_RCV_SYN_ACK},
	    {SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1, SYNACK_CAUSE_APP_CLOSE},
	    {SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2, SYNACK_CAUSE_RCV_ACK_OF_FIN},
	    {SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT, SYNACK_CAUSE_RCV_FIN},
	    {SYNACK_TIME_WAIT, SYNACK_CLOSED, SYNACK_CAUSE_TIME_WAIT_EXPIRED},
	};
	static const int fw1_to_tw[][3] = {
	    {SYNACK_CLOSED, SYNACK_SYN_SENT, SYNACK_CAUSE_APP_CONNECT},
	    {SYNACK_SYN_SENT, SYNACK_ESTABLISHED, SYNACK_CAUSE_RCV_SYN_ACK},
	    {SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1, SYNACK_CAUSE_APP_CLOSE},
	    {SYNACK_FIN_WAIT_1, SYNACK_TIME_WAIT, SYNACK_CAUSE_RCV_FIN},
	};
	static const int jump[][3] = {
	    {SYNACK_CLOSED, SYNACK_SYN_SENT, SYNACK_CAUSE_APP_CONNECT},
	    {SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1, SYNACK_CAUSE_APP_CLOSE},
	};
	static const int from_nowhere[][3] = {
	    {SYNACK_ESTABLISHED, SYNACK_CLOSE_WAIT, SYNACK_CAUSE_RCV_FIN},
	};
	static const int close_wait_to_tw[][3] = {
	    {SYNACK_CLOSED, SYNACK_SYN_SENT, SYNACK_CAUSE_APP_CONNECT},
	    {SYNACK_SYN_SENT, SYNACK_ESTABLISHED, SYNACK_CAUSE_RCV_SYN_ACK},
	    {SYNACK_ESTABLISHED, SYNACK_CLOSE_WAIT, SYNACK_CAUSE_RCV_FIN},
	    {SYNACK_CLOSE_WAIT, SYNACK_TIME_WAIT, SYNACK_CAUSE_RCV_ACK},
	};
	CHECK_EQ(feed(good, 6), 0);
	CHECK(feed(fw1_to_tw, 4) > 0);
	CHECK(feed(jump, 2) > 0);
	CHECK(feed(from_nowhere, 1) > 0);
	CHECK(feed(close_wait_to_tw, 4) > 0);
}

static void one_seed(uint64_t seed)
{
	struct run *r = malloc(sizeof(*r));
	struct outcome o;
	if (!r)
		abort();
	if (!run_seed(seed, 1, r, &o))
		check_fail(__FILE__, __LINE__, "seed %" PRIu64 ": %s", seed, r->why);
	printf("seed %" PRIu64 ": %" PRIu64 " records, %zu bytes delivered, virtual %.3f s, "
	       "lost wakeups %d\n",
	       seed, r->records, o.bytes, (double)o.vtime / 1e6, r->lost_wakeups);
	free(r);
}

int main(void)
{
	legal_init();
	if (getenv("SYNACK_SOAK_SEED")) {
		check_current_test = "one_seed";
		one_seed(soak_env_u64("SYNACK_SOAK_SEED", 1));
		return check_failures_in_test ? 1 : 0;
	}
	RUN(transition_checker_rejects_what_rfc_9293_forbids);
	RUN(same_seed_same_run_different_seeds_different_isns);
	RUN(soak_seeds);
	return check_summary("test_sim_soak");
}
