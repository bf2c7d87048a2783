/*
 * The runner of scenario scripts (docs/SCRIPTS.md) on the demo engine:
 * the statements run one after another on the virtual clock, the actions
 * through the engine's application calls (so the ladder is the one
 * `synack demo` draws), the path changes and drop rules through the sim's
 * path and the engine's filter hook, and each expectation becomes a check
 * of the result, named by its line when it fails.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crowd.h"
#include "capture.h"
#include "cli.h"
#include "cli_parse.h"
#include "core/rng.h"
#include "demo_checks.h"
#include "demo_engine.h"
#include "demo_scenarios.h"
#include "render.h"
#include "script.h"
#include "wire/wire6.h"
#include "synack/sim.h"
#include "wire/wire.h"

#define MAX_RULES 64
#define MAX_SOCKS 256
#define MAX_FLOODS 4

/* flood N FLAGS to HOST:PORT over T: segments still to forge. */
struct flood {
	uint64_t n, sent;
	uint64_t start, span; /* segment i is due at start + span * i / n */
	uint64_t last_at;     /* when the last one queued arrives */
	int to;
	uint16_t port;
	uint8_t flags;
};

struct rule {
	int host, sel;
	int64_t count; /* -1: all */
	int kind;      /* SCR_DROP, SCR_DELAY, SCR_KEEP */
	int64_t skip;  /* "after N": how many still pass first */
	uint32_t extra_us;
};

struct run {
	const struct script *s;
	struct demo *d;
	FILE *errout;
	struct rule rules[MAX_RULES];
	size_t nrules;
	int link_down;
	uint8_t *kept; /* keep: the copy replay sends again */
	size_t kept_len;
	int kept_to;
	struct synack_sim_path path[2]; /* by sending host */
	long err[2];                    /* the last error a call returned */
	int lsock[2], bound[2];
	int socks[2][MAX_SOCKS];
	size_t nsocks[2];
	struct synack_endpoint cur_local[2], cur_remote[2];
	int has_cur[2];
	int first_connect;
	int halted;                      /* an action could not complete: the timeline ends */
	int demo_mode;                   /* synack demo NAME: the scenario's C checks judge */
	int side;                        /* the comparison run (compare NAME): unseen, unjudged */
	const struct synack_config *cfg; /* the hosts' settings: s->cfg, or s->ccfg */
	uint64_t timer_start[SCRIPT_MAX_TIMERS];
	int64_t timer[SCRIPT_MAX_TIMERS]; /* microseconds (at least 1); 0: not stopped */
	/* The comparison run's result and timers, after the main run. */
	struct demo_result *cmp_res;
	int64_t cmp_timer[SCRIPT_MAX_TIMERS];
	struct flood flood[MAX_FLOODS];
	struct rng rng; /* the floods' spoofed sources, ports and numbers */
};

/* ------------------------------------------------------------------ */
/* Hooks of the engine.                                                */

static void configure(void *ctx, int h, struct synack_config *c)
{
	struct run *r = ctx;
	struct synack_config mine = r->cfg[h];
	mine.addr = c->addr;
	memcpy(mine.secret, c->secret, sizeof(mine.secret));
	/* demo --ipv6: the hosts' IPv6 addresses, and the MTU that keeps the
	 * IPv4 runs' MSS (demo_setup), unless the file sets its own. */
	memcpy(mine.addr6, c->addr6, sizeof(mine.addr6));
	struct synack_config def;
	synack_config_default(&def);
	if (r->d->o->ipv6 && mine.mtu == def.mtu)
		mine.mtu = c->mtu;
	/* demo's --time-wait-ms and --fin-timeout-ms win over the file. */
	const struct demo_opts *o = r->d->o;
	if (o->time_wait_ms >= 0)
		mine.time_wait_ms = c->time_wait_ms;
	if (o->fin_timeout_ms >= 0)
		mine.fin_timeout_ms = c->fin_timeout_ms;
	*c = mine;
}

static int sel_matches(int sel, uint8_t fl, size_t len)
{
	switch (sel) {
	case SEL_SYN:
		return (fl & SYNACK_TH_SYN) && !(fl & SYNACK_TH_ACK);
	case SEL_SYNACK:
		return (fl & SYNACK_TH_SYN) && (fl & SYNACK_TH_ACK);
	case SEL_FIN:
		return (fl & SYNACK_TH_FIN) != 0;
	case SEL_RST:
		return (fl & SYNACK_TH_RST) != 0;
	case SEL_ACK:
		return len == 0 && (fl & SYNACK_TH_ACK) &&
		       !(fl & (SYNACK_TH_SYN | SYNACK_TH_FIN | SYNACK_TH_RST));
	case SEL_DATA:
		return len > 0;
	default:
		return 1;
	}
}

/* The TCP segment a datagram of either family carries: 1, or 0 for
 * anything else (demo --ipv6 runs the scripts over IPv6, issue 14). */
static int tcp_of(const uint8_t *pkt, size_t len, struct wire_tcp *tcp)
{
	struct wire_net n;
	if (len && (pkt[0] >> 4) == 6) {
		struct wire_ip6 ip6;
		if (wire_ip6_parse(pkt, len, &ip6) != SYNACK_DROP_NONE || ip6.proto != 6)
			return 0;
		n = wire_ip6_net(&ip6);
	} else {
		struct wire_ip4 ip;
		if (wire_ip4_parse(pkt, len, &ip) != SYNACK_DROP_NONE || ip.proto != 6)
			return 0;
		n = wire_ip4_net(&ip);
	}
	return wire_tcp_parse_net(&n, tcp) == SYNACK_DROP_NONE;
}

static int filter(void *ctx, int h, const uint8_t *pkt, size_t len, uint32_t *extra)
{
	struct run *r = ctx;
	if (r->link_down)
		return SYNACK_SIM_DROP;
	struct wire_tcp tcp;
	if (!tcp_of(pkt, len, &tcp))
		return SYNACK_SIM_PASS;
	/* "after N": each rule counts the segments it lets pass itself, so
	 * that "drop next data after 1" and "... after 4" take the 2nd and
	 * the 5th data segment from now, whatever the other rules took. */
	uint8_t fires[MAX_RULES];
	for (size_t i = 0; i < r->nrules; i++) {
		struct rule *u = &r->rules[i];
		fires[i] = 0;
		if (u->host != h || u->count == 0 || !sel_matches(u->sel, tcp.flags, tcp.data_len))
			continue;
		if (u->skip > 0)
			u->skip--;
		else
			fires[i] = 1;
	}
	for (size_t i = 0; i < r->nrules; i++) {
		struct rule *u = &r->rules[i];
		if (!fires[i])
			continue;
		if (u->count > 0)
			u->count--;
		if (u->kind == SCR_KEEP) {
			uint8_t *k = realloc(r->kept, len);
			if (k) {
				memcpy(k, pkt, len);
				r->kept = k;
				r->kept_len = len;
				r->kept_to = !h;
			}
			continue;
		}
		if (u->kind == SCR_DELAY) {
			*extra = u->extra_us;
			return SYNACK_SIM_DELAY;
		}
		if (tcp.data_len > 0 && !r->d->f_lost) {
			/* The engine's record of the first data a filter lost. */
			r->d->f_lost = 1;
			r->d->f_lost_seq = tcp.seq;
		}
		return SYNACK_SIM_DROP;
	}
	return SYNACK_SIM_PASS;
}

/* ------------------------------------------------------------------ */
/* Floods: an off-path attacker's hand-made segments.                  */

/* A source the victim takes, and not one of ours (10/8). */
/* One forged segment of f, arriving at the victim at time at: a random
 * spoofed source and port, random sequence and acknowledgement numbers, and
 * on a SYN the MSS option a real one carries. */
static void forge(struct run *r, struct flood *f, uint64_t at)
{
	struct demo *d = r->d;
	uint8_t pkt[WIRE_IP6_HDR_LEN + 64];
	struct wire_tcp_out o;
	memset(&o, 0, sizeof(o));
	/* In the run's family (issue 14): the victim's IPv6 address under
	 * --ipv6, its IPv4 one otherwise. */
	int v6 = d->o->ipv6 != 0;
	uint8_t a6[16];
	o.saddr = crowd_spoofed_source(&r->rng, v6);
	if (v6 && synack_stack_addr6(d->st[f->to], a6))
		o.daddr = wire_addr6_from_bytes(a6);
	else
		o.daddr = addr_v4(synack_stack_addr(d->st[f->to]));
	o.sport = (uint16_t)(1024 + rng_below(&r->rng, 64512));
	o.dport = f->port;
	o.seq = (uint32_t)rng_next(&r->rng);
	o.ack = (f->flags & SYNACK_TH_ACK) ? (uint32_t)rng_next(&r->rng) : 0;
	o.flags = f->flags;
	o.wnd = 65535;
	o.opts.has_mss = (f->flags & SYNACK_TH_SYN) != 0;
	o.opts.mss = 1460;
	size_t hl = v6 ? WIRE_IP6_HDR_LEN : WIRE_IP4_HDR_LEN;
	size_t n = wire_tcp_emit(pkt + hl, sizeof(pkt) - hl, &o, NULL, 0);
	if (!n)
		return;
	if (v6)
		wire_ip6_emit(pkt, &o.saddr, &o.daddr, WIRE_IPPROTO_TCP, 64, 0, n, 0);
	else
		wire_ip4_emit(pkt, addr_to_v4(&o.saddr), addr_to_v4(&o.daddr), WIRE_IPPROTO_TCP, 64,
		              (uint16_t)f->sent, n);
	if (synack_sim_inject(d->sim, d->hid[f->to], pkt, n + hl, at) != 0)
		d->oom = 1;
}

/*
 * The engine's pump, before every step: each flood queues the segments
 * due by now and the next one after, so that the network's next event is
 * never later than the flood's; a flood of 100000 holds one datagram at a
 * time, not 100000.
 */
static void pump(void *ctx)
{
	struct run *r = ctx;
	uint64_t now = demo_now(r->d);
	for (int i = 0; i < MAX_FLOODS; i++) {
		struct flood *f = &r->flood[i];
		while (f->sent < f->n && !r->d->oom) {
			if (f->sent > 0 && f->last_at > now)
				break; /* the next one is queued */
			uint64_t at = f->start + f->span * f->sent / f->n;
			f->last_at = at > now ? at : now;
			forge(r, f, f->last_at);
			if (++f->sent == f->n) {
				struct render_event *e =
				    render_log_add(&r->d->log, f->last_at, f->to, RENDER_NOTE);
				if (e)
					snprintf(e->text, sizeof(e->text),
					         "flood: the last of its %llu segments arrives",
					         (unsigned long long)f->n);
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* What happened so far.                                               */

static int ep_eq(const struct synack_endpoint *a, const struct synack_endpoint *b)
{
	return a->family == b->family && a->addr == b->addr && a->port == b->port &&
	       (a->family != SYNACK_AF_INET6 || memcmp(a->addr6, b->addr6, sizeof(a->addr6)) == 0);
}

/* The state of host h's current connection at time t: its last
 * transition then, CLOSED before the first. */
static int state_at(struct run *r, int h, uint64_t t)
{
	const struct demo_host_result *hr = &r->d->res->host[h];
	int st = SYNACK_CLOSED;
	if (!r->has_cur[h])
		return st;
	for (size_t i = 0; i < hr->ntr; i++)
		if (hr->tr[i].t_us <= t && ep_eq(&hr->tr[i].local, &r->cur_local[h]) &&
		    ep_eq(&hr->tr[i].remote, &r->cur_remote[h]))
			st = hr->tr[i].to;
	return st;
}

/* The ISN host h chose on the connection local-remote: the sequence number
 * of its first SYN there; 0 when it sent none. */
static uint32_t isn_of(struct run *r, int h, const struct synack_endpoint *local,
                       const struct synack_endpoint *remote)
{
	const struct render_log *log = &r->d->log;
	for (size_t i = 0; i < log->n; i++) {
		const struct render_event *e = &log->ev[i];
		if (e->kind == RENDER_TRACE && e->host == h && e->tr.kind == SYNACK_TRACE_TX &&
		    (e->tr.flags & SYNACK_TH_SYN) && ep_eq(&e->tr.local, local) &&
		    ep_eq(&e->tr.remote, remote))
			return e->tr.seq;
	}
	return 0;
}

/* The last segment host h sent on its current connection, or NULL. */
static const struct render_event *last_tx(struct run *r, int h)
{
	const struct render_log *log = &r->d->log;
	const struct render_event *last = NULL;
	for (size_t i = 0; i < log->n; i++) {
		const struct render_event *e = &log->ev[i];
		if (e->kind == RENDER_TRACE && e->host == h && e->tr.kind == SYNACK_TRACE_TX &&
		    ep_eq(&e->tr.local, &r->cur_local[h]) &&
		    ep_eq(&e->tr.remote, &r->cur_remote[h]))
			last = e;
	}
	return last;
}

/* A time of the file relative to the path (3*delay+20ms): the multiples
 * of the client->server delay and of the round trip added as the path is
 * now. */
static uint64_t rel_time(const struct run *r, uint64_t us, const struct script_rel *rel)
{
	double delay = r->path[DEMO_CLIENT].delay_us;
	double rtt = delay + r->path[DEMO_SERVER].delay_us;
	return us + (uint64_t)(rel->delay * delay + rel->rtt * rtt + 0.5);
}

/* A note with each {TIME} in it written out as milliseconds. */
static void expand_note(const struct run *r, const char *t, size_t len, char *out, size_t outlen)
{
	size_t k = 0;
	for (size_t i = 0; i < len && k + 1 < outlen; i++) {
		const char *close = t[i] == '{' ? memchr(t + i, '}', len - i) : NULL;
		char w[64];
		size_t l = close ? (size_t)(close - t) - i - 1 : 0;
		uint64_t us;
		struct script_rel rel;
		if (!close || l >= sizeof(w)) {
			out[k++] = t[i];
			continue;
		}
		memcpy(w, t + i + 1, l);
		w[l] = 0;
		if (script_time_word(w, &us, &rel) != 0) {
			out[k++] = t[i];
			continue;
		}
		us = rel_time(r, us, &rel);
		int n = us % 1000 ? snprintf(out + k, outlen - k, "%.3f ms", (double)us / 1000.0)
		                  : snprintf(out + k, outlen - k, "%llu ms",
		                             (unsigned long long)(us / 1000));
		k = n < 0 || (size_t)n >= outlen - k ? outlen - 1 : k + (size_t)n;
		i += l + 1;
	}
	out[k < outlen ? k : outlen - 1] = 0;
}

static void set_current(struct run *r, int h, int s)
{
	struct demo *d = r->d;
	d->sock[h] = s;
	d->eof[h] = 0; /* recv and expect received: of this connection */
	d->nrx[h] = 0;
	if (r->nsocks[h] < MAX_SOCKS)
		r->socks[h][r->nsocks[h]++] = s;
	struct synack_endpoint l, p;
	if (synack_getsockname(d->st[h], s, &l) == 0 && synack_getpeername(d->st[h], s, &p) == 0) {
		r->cur_local[h] = l;
		r->cur_remote[h] = p;
		r->has_cur[h] = 1;
	}
}

/* ------------------------------------------------------------------ */
/* Statements.                                                         */

static const char *host_name(int h)
{
	return h == DEMO_CLIENT ? "client" : "server";
}

/* An action that cannot complete ends the timeline; the run fails there. */
static void halt(struct run *r, const struct script_stmt *st, const char *why)
{
	r->halted = 1;
	if (r->demo_mode || r->side)
		return;
	demo_result_check(r->d->res, 0, "line %d: %s", st->line, why);
	fprintf(r->errout, "%s:%d: %s\n", r->s->file, st->line, why);
}

static int need_sock(struct run *r, const struct script_stmt *st)
{
	if (r->d->sock[st->host] >= 0)
		return 1;
	char why[96];
	snprintf(why, sizeof(why), "%s has no open socket", host_name(st->host));
	halt(r, st, why);
	return 0;
}

static void do_send(struct run *r, const struct script_stmt *st)
{
	struct demo *d = r->d;
	int h = st->host;
	size_t n = st->text ? st->textlen : (size_t)st->count;
	uint8_t *buf = st->text ? NULL : malloc(n ? n : 1);
	const uint8_t *p = st->text ? (const uint8_t *)st->text : buf;
	if (!p) {
		d->oom = 1;
		return;
	}
	if (buf)
		demo_fill_payload(buf, n, 0);
	size_t sent = 0;
	int stalled = 0; /* calls in a row that sent nothing */
	for (int first = 1;; first = 0) {
		if (!first && !demo_wait_for(d, h, d->sock[h],
		                             SYNACK_POLLOUT | SYNACK_POLLERR | SYNACK_POLLHUP)) {
			halt(r, st, "the send could not complete: nothing more happened");
			break;
		}
		long w = demo_app_send(d, h, p + sent, n - sent);
		if (w < 0 && w != -EAGAIN) {
			r->err[h] = w;
			break;
		}
		if (w > 0) {
			sent += (size_t)w;
			stalled = 0;
		} else if (n > 0 && ++stalled > 1) {
			halt(r, st, "the send could not complete: the socket takes nothing");
			break;
		}
		if (sent >= n)
			break;
	}
	free(buf);
}

static void do_recv(struct run *r, const struct script_stmt *st)
{
	struct demo *d = r->d;
	int h = st->host;
	size_t want = d->nrx[h] + (size_t)st->count;
	int ok = want <= DEMO_RXBUF ? demo_recv_bytes(d, h, want) : demo_recv_discard(d, h, want);
	if (!ok) {
		char why[128];
		snprintf(why, sizeof(why), "%s recv %lld could not complete: %s after %zu bytes",
		         host_name(h), (long long)st->count,
		         d->eof[h] ? "the stream ended" : "nothing more happened", d->nrx[h]);
		halt(r, st, why);
	}
}

static void do_connect(struct run *r, const struct script_stmt *st)
{
	struct demo *d = r->d;
	int h = st->host;
	int s = r->bound[h] ? d->sock[h] : demo_app_socket(d, h);
	r->bound[h] = 0;
	if (s < 0) {
		r->err[h] = s;
		return;
	}
	if (st->from_port && demo_app_bind(d, h, s, st->from_port) != 0)
		r->err[h] = -EADDRINUSE;
	uint32_t addr = st->peer >= 0 ? synack_stack_addr(d->st[st->peer]) : st->addr;
	int rc = demo_app_connect(d, h, s, addr, st->port);
	if (rc < 0 && rc != -EINPROGRESS)
		r->err[h] = rc;
	d->sock[h] = s;
	set_current(r, h, s);
	if (!r->first_connect) {
		r->first_connect = 1;
		synack_getsockname(d->st[h], s, &d->ep[h]);
		d->ep[!h] = demo_endpoint(d, addr, st->port);
	}
	if (st->nowait)
		return;
	if (!demo_wait_for(d, h, s, SYNACK_POLLOUT | SYNACK_POLLERR | SYNACK_POLLHUP)) {
		halt(r, st, "the connect could not complete: nothing more happened");
		return;
	}
	int e = synack_socket_error(d->st[h], s);
	if (e != 0) {
		demo_app_event(d, h, s, "so_error", e, NULL, NULL);
		r->err[h] = e;
	}
}

static void do_setsockopt(struct run *r, const struct script_stmt *st)
{
	struct demo *d = r->d;
	int h = st->host;
	int s = d->sock[h] >= 0 ? d->sock[h] : r->lsock[h];
	if (s < 0) {
		halt(r, st, "setsockopt: the host has no socket");
		return;
	}
	int rc = synack_setsockopt(d->st[h], s, st->option, (int)st->value);
	demo_app_event(d, h, s, "setsockopt", rc, NULL, NULL);
	if (rc < 0)
		r->err[h] = rc;
}

static void do_abort(struct run *r, int h, int s, int log)
{
	struct demo *d = r->d;
	int rc = synack_setsockopt(d->st[h], s, SYNACK_SO_LINGER, 0);
	if (log)
		demo_app_event(d, h, s, "setsockopt", rc, NULL, NULL);
}

static void do_reboot(struct run *r, const struct script_stmt *st)
{
	struct demo *d = r->d;
	int h = st->host;
	demo_note(d, h, "%s reboots: it forgets its connections", host_name(h));
	synack_sim_set_down(d->sim, d->hid[h], 1);
	for (size_t i = 0; i < r->nsocks[h]; i++) {
		int s = r->socks[h][i];
		if (s == r->lsock[h])
			continue;
		do_abort(r, h, s, 0);
		synack_close(d->st[h], s);
	}
	r->nsocks[h] = 0;
	d->sock[h] = -1;
	demo_drain(d);
	synack_sim_flush(d->sim);
	synack_sim_set_down(d->sim, d->hid[h], 0);
}

static void do_inject(struct run *r, const struct script_stmt *st)
{
	struct demo *d = r->d;
	int h = st->host;
	if (!r->has_cur[h]) {
		halt(r, st, "inject: the host has had no connection to inject on");
		return;
	}
	const struct synack_endpoint *l = &r->cur_local[h], *p = &r->cur_remote[h];
	uint32_t iss = isn_of(r, h, l, p), irs = isn_of(r, !h, p, l);
	uint32_t seq = 0, ack = 0;
	struct synack_tcp_info ti;
	const struct render_event *last;
	if (d->sock[h] >= 0 && synack_tcp_info(d->st[h], d->sock[h], &ti) == 0 &&
	    ti.state != SYNACK_CLOSED) {
		seq = ti.snd_nxt;
		ack = ti.rcv_nxt;
	} else if ((last = last_tx(r, h)) != NULL) {
		seq = last->tr.seq + last->tr.len + ((last->tr.flags & SYNACK_TH_SYN) != 0) +
		      ((last->tr.flags & SYNACK_TH_FIN) != 0);
		ack = last->tr.ack;
	}
	if (st->has_seq)
		seq = iss + (uint32_t)st->seq;
	if (st->has_ack)
		ack = irs + (uint32_t)st->ack;
	size_t plen = st->text ? st->textlen : (size_t)st->count;
	uint8_t *payload = malloc(plen ? plen : 1);
	uint8_t *pkt = malloc(plen + 128);
	if (!payload || !pkt) {
		free(payload);
		free(pkt);
		d->oom = 1;
		return;
	}
	if (st->text)
		memcpy(payload, st->text, plen);
	else
		demo_fill_payload(payload, plen, 0);
	/* In the connection's family (issue 14): IPv6 endpoints make an IPv6
	 * datagram, IPv4(-mapped) ones an IPv4 one. */
	struct addr la = l->family == SYNACK_AF_INET6 ? wire_addr6_from_bytes(l->addr6)
	                                              : addr_v4(l->addr),
	            pa = p->family == SYNACK_AF_INET6 ? wire_addr6_from_bytes(p->addr6)
	                                              : addr_v4(p->addr);
	size_t hl = addr_is_v4(&la) ? WIRE_IP4_HDR_LEN : WIRE_IP6_HDR_LEN;
	struct wire_tcp_out seg;
	memset(&seg, 0, sizeof(seg));
	seg.saddr = la;
	seg.daddr = pa;
	seg.sport = l->port;
	seg.dport = p->port;
	seg.seq = seq;
	seg.ack = (st->flags & SYNACK_TH_ACK) ? ack : 0;
	seg.flags = st->flags;
	seg.wnd = (uint16_t)st->win;
	seg.opts.has_mss = st->has_mss;
	seg.opts.mss = st->mss;
	seg.opts.has_wscale = st->has_wscale;
	seg.opts.wscale = st->wscale;
	seg.opts.sack_permitted = st->sackok;
	seg.opts.has_ts = st->has_ts;
	seg.opts.ts_val = st->ts_val;
	seg.opts.ts_ecr = st->ts_ecr;
	size_t tl = wire_tcp_emit(pkt + hl, plen + 128 - hl, &seg, payload, plen);
	char fl[16];
	synack_flags_str(st->flags, fl, sizeof(fl));
	if (tl == 0 || tl + (hl == WIRE_IP4_HDR_LEN ? hl : 0) > 65535) {
		halt(r, st, "inject: the segment does not fit in a datagram");
	} else {
		if (hl == WIRE_IP4_HDR_LEN)
			wire_ip4_emit(pkt, addr_to_v4(&la), addr_to_v4(&pa), 6, 64, 0, tl);
		else
			wire_ip6_emit(pkt, &la, &pa, WIRE_IPPROTO_TCP, 64, 0, tl, 0);
		if ((st->flags & SYNACK_TH_ACK))
			demo_note(d, h, "injected: %s seq %lu ack %lu len %zu", fl,
			          (unsigned long)(seq - iss), (unsigned long)(ack - irs), plen);
		else
			demo_note(d, h, "injected: %s seq %lu len %zu", fl,
			          (unsigned long)(seq - iss), plen);
		synack_sim_inject(d->sim, d->hid[!h], pkt, tl + hl,
		                  demo_now(d) + r->path[h].delay_us);
	}
	free(payload);
	free(pkt);
}

/*
 * replay seq: the kept datagram renumbered, its TCP checksum made right.
 * `next` puts it at the receiver's RCV.NXT, as an old segment whose
 * sequence number wrapped (2^32 bytes later) into the window would be
 * (RFC 7323 5.1); a number is relative to the sender's ISN.  1 when done.
 */
static int renumber(struct run *r, const struct script_stmt *st)
{
	struct demo *d = r->d;
	uint8_t *p = r->kept;
	int to = r->kept_to;
	struct wire_tcp tcp;
	if (!tcp_of(p, r->kept_len, &tcp)) {
		halt(r, st, "replay: the kept datagram is no TCP segment");
		return 0;
	}
	size_t ihl = (size_t)(p[0] & 15) * 4, total = ((size_t)p[2] << 8) | p[3];
	struct addr src = addr_v4(wire_get32(p + 12)), dst = addr_v4(wire_get32(p + 16));
	if ((p[0] >> 4) == 6) { /* the fixed header; the sim's datagrams have no extensions */
		ihl = WIRE_IP6_HDR_LEN;
		total = ihl + wire_get16(p + 4);
		src = wire_addr6_from_bytes(p + 8);
		dst = wire_addr6_from_bytes(p + 24);
	}
	uint32_t seq;
	struct synack_tcp_info ti;
	if (st->value) {
		if (d->sock[to] < 0 || synack_tcp_info(d->st[to], d->sock[to], &ti) != 0) {
			halt(r, st, "replay seq next: the receiver has no connection");
			return 0;
		}
		seq = ti.rcv_nxt;
	} else {
		seq = isn_of(r, !to, &r->cur_local[!to], &r->cur_remote[!to]) + (uint32_t)st->seq;
	}
	uint8_t *t = p + ihl;
	wire_put32(t + 4, seq);
	t[16] = t[17] = 0;
	uint32_t sum = wire_csum_pseudo_net(&src, &dst, WIRE_IPPROTO_TCP, (uint32_t)(total - ihl));
	sum = wire_csum_add(sum, t, total - ihl);
	wire_put16(t + 16, wire_csum_fold(sum));
	return 1;
}

static void set_path(struct run *r, const struct script_stmt *st)
{
	for (int from = 0; from < 2; from++) {
		if (st->dir >= 0 && st->dir != from)
			continue;
		struct synack_sim_path *p = &r->path[from];
		const struct synack_sim_path *q = &st->path;
		if (st->mask & PATH_DELAY)
			p->delay_us = q->delay_us;
		if (st->mask & PATH_JITTER)
			p->jitter_us = q->jitter_us;
		if (st->mask & PATH_LOSS)
			p->loss = q->loss;
		if (st->mask & PATH_DUP)
			p->dup = q->dup;
		if (st->mask & PATH_REORDER)
			p->reorder = q->reorder;
		if (st->mask & PATH_CORRUPT)
			p->corrupt = q->corrupt;
		if (st->mask & PATH_RATE)
			p->rate_bps = q->rate_bps;
		if (st->mask & PATH_QUEUE)
			p->queue_pkts = q->queue_pkts;
		if (synack_sim_set_path(r->d->sim, r->d->hid[from], r->d->hid[!from], p) != 0)
			halt(r, st, "the path was refused");
	}
}

static void add_rule(struct run *r, const struct script_stmt *st)
{
	if (r->nrules >= MAX_RULES) {
		halt(r, st, "more than 64 drop and delay rules");
		return;
	}
	struct rule *u = &r->rules[r->nrules++];
	u->host = st->host;
	u->sel = st->sel;
	u->count = st->count;
	u->kind = st->kind;
	u->skip = st->value;
	uint64_t t = rel_time(r, st->time_us, &st->rel);
	u->extra_us = (uint32_t)(t > UINT32_MAX ? UINT32_MAX : t);
}

/* ------------------------------------------------------------------ */
/* Expectations.                                                       */

static void flags_text(uint8_t f, char *buf, size_t len)
{
	synack_flags_str(f, buf, len);
}

static void expect_sent(struct run *r, const struct script_stmt *st, char *what, size_t len)
{
	const struct render_log *log = &r->d->log;
	int h = st->host;
	long n = 0;
	for (size_t i = 0; i < log->n; i++) {
		const struct render_event *e = &log->ev[i];
		if (e->kind != RENDER_TRACE || e->host != h || e->tr.kind != SYNACK_TRACE_TX ||
		    e->tr.flags != st->flags)
			continue;
		uint32_t iss = isn_of(r, h, &e->tr.local, &e->tr.remote);
		uint32_t irs = isn_of(r, !h, &e->tr.remote, &e->tr.local);
		if (st->has_seq && e->tr.seq - iss != (uint32_t)st->seq)
			continue;
		if (st->has_ack && e->tr.ack - irs != (uint32_t)st->ack)
			continue;
		if (st->has_len && e->tr.len != (uint32_t)st->len)
			continue;
		n++;
	}
	char fl[16], extra[96] = "";
	size_t k = 0;
	flags_text(st->flags, fl, sizeof(fl));
	if (st->has_seq)
		k +=
		    (size_t)snprintf(extra + k, sizeof(extra) - k, " seq %lld", (long long)st->seq);
	if (st->has_ack)
		k +=
		    (size_t)snprintf(extra + k, sizeof(extra) - k, " ack %lld", (long long)st->ack);
	if (st->has_len)
		snprintf(extra + k, sizeof(extra) - k, " len %lld", (long long)st->len);
	int ok = st->count < 0 ? n > 0 : n == st->count;
	if (st->count < 0)
		snprintf(what, len, "%s sent %s%s (%ld such)", host_name(h), fl, extra, n);
	else
		snprintf(what, len, "%s sent %s%s (want %lld, got %ld)", host_name(h), fl, extra,
		         (long long)st->count, n);
	demo_result_check(r->d->res, ok, "%s", what);
}

static const char *const CMPS[] = {"=", "!=", "<", "<=", ">", ">="};

int script_cmp_holds(int cmp, uint64_t a, uint64_t b)
{
	switch (cmp) {
	case CMP_EQ:
		return a == b;
	case CMP_NE:
		return a != b;
	case CMP_LT:
		return a < b;
	case CMP_LE:
		return a <= b;
	case CMP_GT:
		return a > b;
	default:
		return a >= b;
	}
}

static void expectation(struct run *r, const struct script_stmt *st)
{
	struct demo *d = r->d;
	struct demo_result *res = d->res;
	int h = st->host;
	size_t before = res->nchecks;
	int was_ok = res->ok;
	char what[160] = "";
	res->ok = 1;
	for (int k = 0; k < 2; k++)
		synack_stats(d->st[k], &res->host[k].stats);
	switch (st->kind) {
	case SCR_EXPECT_STATE: {
		uint64_t t = st->has_at ? st->at_us : demo_now(d);
		int got = state_at(r, h, t);
		snprintf(what, sizeof(what), "%s in %s at %.3f ms (got %s)", host_name(h),
		         synack_state_name(st->state), (double)t / 1000.0, synack_state_name(got));
		demo_result_check(res, got == st->state, "%s", what);
		break;
	}
	case SCR_EXPECT_STATES:
		demo_check_path(d, h, st->text);
		break;
	case SCR_EXPECT_RECEIVED:
		if (st->text && strlen(st->text) == st->textlen) {
			demo_check_bytes(d, h, st->text);
		} else if (st->text) {
			demo_result_check(res,
			                  d->nrx[h] == st->textlen &&
			                      memcmp(d->rx[h], st->text, st->textlen) == 0,
			                  "%s received exactly the %zu bytes sent (got %zu)",
			                  host_name(h), st->textlen, d->nrx[h]);
		} else {
			demo_result_check(res, d->nrx[h] == (size_t)st->count,
			                  "%s received %lld bytes (got %zu)", host_name(h),
			                  (long long)st->count, d->nrx[h]);
		}
		break;
	case SCR_EXPECT_COUNTER:
		if (st->in_compare) {
			uint64_t v = r->cmp_res ? demo_result_counter(r->cmp_res, h, st->text) : 0;
			demo_result_check(
			    res, r->cmp_res && script_cmp_holds(st->cmp, v, (uint64_t)st->value),
			    "in %s: %s %s = %llu (want %s %lld)", r->s->compare, host_name(h),
			    st->text, (unsigned long long)v, CMPS[st->cmp], (long long)st->value);
		} else if (st->cmp == CMP_EQ) {
			demo_check_counter(d, h, st->text, (uint64_t)st->value);
		} else {
			uint64_t v = demo_counter(d, h, st->text);
			demo_result_check(res, script_cmp_holds(st->cmp, v, (uint64_t)st->value),
			                  "%s %s = %llu (want %s %lld)", host_name(h), st->text,
			                  (unsigned long long)v, CMPS[st->cmp],
			                  (long long)st->value);
		}
		break;
	case SCR_EXPECT_SENT:
		expect_sent(r, st, what, sizeof(what));
		break;
	case SCR_EXPECT_TIMER: {
		const char *name = r->s->timer[st->option];
		int64_t got = (st->in_compare ? r->cmp_timer : r->timer)[st->option];
		const int64_t *other = st->in_compare ? r->cmp_timer : r->timer;
		int64_t want = st->has_seq ? r->cmp_timer[st->option]
		               : st->has_len
		                   ? (int64_t)(st->factor * (double)other[st->count] + 0.5)
		                   : (int64_t)rel_time(r, st->time_us, &st->rel);
		char in[48] = "", of[80] = "";
		if (st->in_compare)
			snprintf(in, sizeof(in), "in %s: ", r->s->compare);
		if (st->has_seq)
			snprintf(of, sizeof(of), " in %s", r->s->compare);
		else if (st->has_len && st->factor == 1)
			snprintf(of, sizeof(of), ": timer %s", r->s->timer[st->count]);
		else if (st->has_len)
			snprintf(of, sizeof(of), ": %g times %s", st->factor,
			         r->s->timer[st->count]);
		if (got == 0 || ((st->has_seq || st->has_len) && want == 0)) {
			demo_result_check(res, 0, "%stimer %s never stopped%s", in,
			                  got ? (st->has_len ? r->s->timer[st->count] : name)
			                      : name,
			                  got && st->has_seq ? of : "");
			break;
		}
		demo_result_check(res, script_cmp_holds(st->cmp, (uint64_t)got, (uint64_t)want),
		                  "%stimer %s %.3f ms (want %s %.3f ms%s)", in, name,
		                  (double)got / 1000.0, CMPS[st->cmp], (double)want / 1000.0, of);
		break;
	}
	default: { /* SCR_EXPECT_ERROR */
		/* An error the socket holds and no call returned yet counts. */
		if (r->err[h] == 0 && d->sock[h] >= 0) {
			int e = synack_socket_error(d->st[h], d->sock[h]);
			if (e < 0)
				r->err[h] = e;
		}
		const char *want = st->value ? render_errno_name(-st->value) : "none";
		const char *got = r->err[h] ? render_errno_name(-r->err[h]) : "none";
		demo_result_check(res, r->err[h] == st->value, "%s's last error %s (got %s)",
		                  host_name(h), want, got ? got : "another");
		break;
	}
	}
	if (!res->ok) {
		const char *w = res->nchecks > before ? res->checks[res->nchecks - 1].what : what;
		fprintf(r->errout, "%s:%d: expectation failed: %s\n", r->s->file, st->line, w);
	}
	res->ok = res->ok && was_ok;
}

/* Waits for a statement's `at T` or `+T`; 0 when T is past. */
static int wait_timing(struct run *r, const struct script_stmt *st)
{
	if (!st->timing)
		return 1;
	uint64_t now = demo_now(r->d);
	uint64_t rel = rel_time(r, st->time_at_us, &st->at_rel);
	uint64_t t = st->timing == 1 ? rel : now + rel;
	if (t < now) {
		char why[96];
		snprintf(why, sizeof(why), "'at %.3f ms' is past: the clock reads %.3f ms",
		         (double)t / 1000.0, (double)now / 1000.0);
		halt(r, st, why);
		return 0;
	}
	demo_sleep_until(r->d, t);
	return 1;
}

static void start_flood(struct run *r, const struct script_stmt *st)
{
	struct demo *d = r->d;
	struct flood *f = NULL;
	for (int i = 0; i < MAX_FLOODS && !f; i++)
		if (r->flood[i].sent >= r->flood[i].n)
			f = &r->flood[i];
	if (!f) {
		halt(r, st, "flood: more than 4 floods at once");
		return;
	}
	memset(f, 0, sizeof(*f));
	f->n = (uint64_t)st->count;
	f->start = demo_now(d);
	f->span = rel_time(r, st->time_us, &st->rel);
	f->to = st->peer;
	f->port = st->port;
	f->flags = st->flags;
	char fl[16];
	synack_flags_str(st->flags, fl, sizeof(fl));
	demo_note(d, st->peer, "flood: %llu %s over %.0f ms, spoofed", (unsigned long long)f->n, fl,
	          (double)f->span / 1000.0);
	demo_note(d, st->peer, "(counted, not drawn)");
	pump(r);
}

/* One statement of the timeline. */
static void step(struct run *r, const struct script_stmt *st)
{
	struct demo *d = r->d;
	int h = st->host;
	if (!wait_timing(r, st))
		return;
	switch (st->kind) {
	case SCR_PATH:
		set_path(r, st);
		break;
	case SCR_LINK:
		r->link_down = (int)st->value;
		demo_note(d, DEMO_CLIENT, "the link goes %s", st->value ? "down" : "up");
		break;
	case SCR_HOST_DOWN:
		synack_sim_set_down(d->sim, d->hid[h], (int)st->value);
		demo_note(d, h, "the %s %s", host_name(h),
		          st->value ? "vanishes from the network" : "is back on the network");
		break;
	case SCR_REBOOT:
		do_reboot(r, st);
		break;
	case SCR_DROP:
	case SCR_DELAY:
		add_rule(r, st);
		break;
	case SCR_KEEP:
		add_rule(r, st);
		break;
	case SCR_DROP_NONE:
		/* The drop and delay rules go; keep rules stay. */
		for (size_t i = 0, n = r->nrules; i < n; i++)
			if (r->rules[i].kind != SCR_KEEP)
				r->rules[i].count = 0;
		break;
	case SCR_REPLAY:
		if (!r->kept) {
			halt(r, st, "replay: no segment was kept");
			break;
		}
		if (st->has_seq && !renumber(r, st))
			break;
		d->t_inject = demo_now(d);
		synack_sim_inject(d->sim, d->hid[r->kept_to], r->kept, r->kept_len, d->t_inject);
		break;
	case SCR_LISTEN: {
		d->backlog = (int)st->count;
		d->server_rcvbuf = (int)st->value;
		d->server_fastopen_qlen = (int)st->option;
		int s = demo_app_listen(d, h, st->port);
		d->server_rcvbuf = 0;
		d->server_fastopen_qlen = 0;
		if (s < 0)
			r->err[h] = s;
		else
			r->lsock[h] = s;
		break;
	}
	case SCR_CONNECT:
		do_connect(r, st);
		break;
	case SCR_BIND: {
		int s = demo_app_socket(d, h);
		if (s < 0) {
			r->err[h] = s;
			break;
		}
		d->sock[h] = s;
		r->bound[h] = 1;
		int rc = demo_app_bind(d, h, s, st->port);
		if (rc < 0)
			r->err[h] = rc;
		break;
	}
	case SCR_WAIT_CONN:
		if (!need_sock(r, st))
			break;
		if (!demo_wait_for(d, h, d->sock[h],
		                   SYNACK_POLLOUT | SYNACK_POLLERR | SYNACK_POLLHUP)) {
			halt(r, st, "the wait could not complete: nothing more happened");
			break;
		}
		set_current(r, h, d->sock[h]);
		break;
	case SCR_WAIT_STATE:
		while (state_at(r, h, demo_now(d)) != st->state)
			if (demo_step(d) == SYNACK_NEVER) {
				char why[96];
				snprintf(why, sizeof(why), "%s never reached %s", host_name(h),
				         synack_state_name(st->state));
				halt(r, st, why);
				break;
			}
		break;
	case SCR_WAIT_QUEUED:
		if (!need_sock(r, st))
			break;
		for (;;) {
			struct synack_tcp_info ti;
			if (synack_tcp_info(d->st[h], d->sock[h], &ti) != 0 ||
			    ti.recv_queue >= (uint64_t)st->count)
				break;
			if (demo_step(d) == SYNACK_NEVER) {
				halt(r, st, "the wait could not complete: nothing more happened");
				break;
			}
		}
		break;
	case SCR_ACCEPT: {
		if (r->lsock[h] < 0) {
			halt(r, st, "accept: the host listens on no port");
			break;
		}
		int s = demo_app_accept(d, h, r->lsock[h]);
		if (s == -EAGAIN)
			halt(r, st, "accept could not complete: no connection came");
		else if (s < 0)
			r->err[h] = s;
		else
			set_current(r, h, s);
		break;
	}
	case SCR_SEND:
		if (need_sock(r, st))
			do_send(r, st);
		break;
	case SCR_RECV:
		if (need_sock(r, st))
			do_recv(r, st);
		break;
	case SCR_RECV_EOF:
		if (need_sock(r, st) && !demo_recv_eof(d, h))
			halt(r, st, "recv eof could not complete: the stream did not end");
		break;
	case SCR_SHUTDOWN:
		if (need_sock(r, st)) {
			int rc = demo_app_shutdown(d, h, (int)st->value);
			if (rc < 0)
				r->err[h] = rc;
		}
		break;
	case SCR_ABORT:
		if (!need_sock(r, st))
			break;
		do_abort(r, h, d->sock[h], 1);
		/* fall through */
	case SCR_CLOSE:
		if (need_sock(r, st)) {
			int rc = demo_app_close(d, h);
			if (rc < 0)
				r->err[h] = rc;
		}
		break;
	case SCR_SETSOCKOPT:
		do_setsockopt(r, st);
		break;
	case SCR_NEVER:
		demo_note(d, h, "%s app: %s", host_name(h),
		          st->value ? "stops reading" : "never calls close()");
		break;
	case SCR_NOTE: {
		char text[128];
		expand_note(r, st->text, st->textlen, text, sizeof(text));
		demo_note(d, h, "%s", text);
		break;
	}
	case SCR_SOCKET: {
		/* A socket of its own for the next connect, so that options can
		 * be set before it (setsockopt sndbuf 512KiB). */
		int s = demo_app_socket(d, h);
		if (s < 0) {
			r->err[h] = s;
			break;
		}
		d->sock[h] = s;
		r->bound[h] = 1;
		break;
	}
	case SCR_CLOSE_LISTENER:
		if (r->lsock[h] < 0) {
			halt(r, st, "close listener: the host listens on no port");
			break;
		}
		{
			/* demo_app_close closes and logs the current socket. */
			int cur = d->sock[h];
			d->sock[h] = r->lsock[h];
			demo_app_close(d, h);
			d->sock[h] = cur;
			r->lsock[h] = -1;
		}
		break;
	case SCR_FLOOD:
		start_flood(r, st);
		break;
	case SCR_TIMER:
		if (st->value == 0) {
			r->timer_start[st->option] = demo_now(d);
		} else {
			uint64_t took = demo_now(d) - r->timer_start[st->option];
			r->timer[st->option] = took ? (int64_t)took : 1;
			if (st->option < 2)
				d->val[st->option] = r->timer[st->option]; /* demo's checks */
		}
		break;
	case SCR_INJECT:
		do_inject(r, st);
		break;
	default:
		if (st->kind >= SCR_EXPECT_STATE && !r->demo_mode && !r->side)
			expectation(r, st);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* The run.                                                            */

static int run_common(const struct script *s, const struct demo_opts *o,
                      const struct demo_scenario *sc, FILE *out, FILE *errout,
                      struct demo_result *res, int demo_mode, struct run *parent);

/* compare NAME set ...: the timeline once more on fresh stacks with the
 * comparison's settings and the same seed, for the expectations (and
 * demo's checks: d->cmp) to set beside the run. */
static void compare_run(struct run *r, const struct demo_opts *o, const struct demo_scenario *sc)
{
	struct demo_opts side = *o;
	side.json = 0;
	side.svg = side.html = side.pcap = NULL;
	r->cmp_res = calloc(1, sizeof(*r->cmp_res));
	if (!r->cmp_res) {
		r->d->oom = 1;
		return;
	}
	if (run_common(r->s, &side, sc, NULL, r->errout, r->cmp_res, r->demo_mode, r) != 0) {
		free(r->cmp_res);
		r->cmp_res = NULL;
		return;
	}
	r->d->cmp = r->cmp_res;
	memcpy(r->d->cmp_val, r->cmp_timer, sizeof(r->d->cmp_val));
}

/*
 * One run of s on the demo engine with demo's options o, named and
 * described by sc.  With demo_mode (`synack demo NAME`) the file is only
 * the timeline: its expectations are skipped, an action that cannot
 * complete ends the timeline silently, and sc->check judges the run, so
 * the output is the one the scenario's C script gave.  With parent, the
 * run is parent's comparison run (compare NAME set ...): the timeline
 * once more with the comparison's settings, drawn nowhere; its timers go
 * to parent.
 */
static int run_common(const struct script *s, const struct demo_opts *o,
                      const struct demo_scenario *sc, FILE *out, FILE *errout,
                      struct demo_result *res, int demo_mode, struct run *parent)
{
	memset(res, 0, sizeof(*res));
	struct demo *d = calloc(1, sizeof(*d));
	struct run *r = calloc(1, sizeof(*r));
	if (!d || !r) {
		free(d);
		free(r);
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -ENOMEM;
	}
	demo_init(d, o, sc, res);
	snprintf(res->scenario, sizeof(res->scenario), "%s", sc->info.name);
	res->ok = 1;
	r->s = s;
	r->d = d;
	r->errout = errout ? errout : stderr;
	r->demo_mode = demo_mode;
	r->side = parent != NULL;
	r->cfg = parent ? s->ccfg : s->cfg;
	r->lsock[0] = r->lsock[1] = -1;
	d->configure = configure;
	d->filter = filter;
	rng_seed(&r->rng, o->seed ^ 0xf100dull);
	for (size_t i = 0; i < s->n; i++)
		if (s->st[i].kind == SCR_FLOOD) {
			d->pump = pump;
			d->hide_foreign = 1;
		}
	d->script = r;
	d->show_ss = s->ss;
	for (int h = 0; h < 2; h++) {
		/* The path demo_setup makes from the options. */
		r->path[h].delay_us =
		    (uint32_t)((o->delay_ms >= 0 ? o->delay_ms : DEMO_DEFAULT_DELAY_MS) * 1000);
		r->path[h].loss = o->loss;
		r->path[h].dup = o->dup;
		r->path[h].reorder = o->reorder;
	}
	int rc = demo_setup(d);
	if (rc == 0 && o->pcap) {
		d->cap = capture_open(o->pcap, 0, res->error, sizeof(res->error));
		if (!d->cap)
			rc = -EIO;
	}
	if (rc == 0) {
		size_t i = 0;
		int finish = 1;
		for (; i < s->n && !r->halted && !d->oom && !res->capped; i++) {
			const struct script_stmt *st = &s->st[i];
			if (st->kind == SCR_FINISH || st->kind == SCR_STOP) {
				int waited = wait_timing(r, st);
				finish = st->kind == SCR_FINISH && waited;
				i++;
				break;
			}
			step(r, st);
		}
		if (finish)
			demo_finish(d);
		res->end_us = demo_now(d);
		for (int h = 0; h < 2; h++)
			synack_stats(d->st[h], &res->host[h].stats);
		render_log_sort(&d->log);
		demo_match_fates(d);
		if (parent) {
			memcpy(parent->cmp_timer, r->timer, sizeof(r->timer));
			goto done;
		}
		if (s->has_compare)
			compare_run(r, o, sc);
		if (demo_mode)
			sc->check(d);
		for (; i < s->n && !r->halted; i++)
			step(r, &s->st[i]);
		render_log_sort(&d->log);
		if (res->capped) {
			res->ok = 0;
			if (!demo_mode)
				fprintf(r->errout,
				        "%s: the run hit its cap of virtual time or steps\n",
				        s->file);
		}
		if (d->oom) {
			res->ok = 0;
			demo_result_check(res, 0, "ran out of memory");
		}
		if (demo_output(d, out) != 0)
			rc = -EIO;
	}
done:
	if (capture_close(d->cap, res->error, sizeof(res->error)) != 0 && rc == 0)
		rc = -EIO;
	demo_teardown(d);
	free(r->kept);
	free(r->cmp_res);
	free(d);
	free(r);
	return rc;
}

int script_run(const struct script *s, const struct script_opts *o, FILE *out, FILE *errout,
               struct demo_result *res)
{
	struct demo_opts dopts;
	demo_opts_default(&dopts);
	dopts.seed = o->has_seed ? o->seed : s->seed;
	dopts.json = o->json;
	dopts.svg = o->svg;
	dopts.html = o->html;
	dopts.pcap = o->pcap;
	dopts.ipv6 = o->ipv6;
	if (s->trace_off) {
		if (o->svg || o->html || o->pcap) {
			memset(res, 0, sizeof(*res));
			snprintf(res->error, sizeof(res->error),
			         "--svg, --html and --pcap draw a ladder; %s has trace off",
			         s->file);
			return -EINVAL;
		}
		return crowd_run(s, &dopts, 0, out, errout, res);
	}
	struct demo_scenario sc;
	memset(&sc, 0, sizeof(sc));
	sc.info.name = s->name;
	sc.info.description = s->description ? s->description : "";
	sc.moral = s->moral ? s->moral : "";
	return run_common(s, &dopts, &sc, out, errout, res, 0, NULL);
}

int script_demo_run(const struct demo_opts *o, const struct demo_scenario *sc, FILE *out,
                    struct demo_result *res)
{
	size_t len = 0;
	const char *text = script_embedded(sc->info.name, &len);
	char err[512];
	memset(res, 0, sizeof(*res));
	if (!text) {
		snprintf(res->error, sizeof(res->error), "scenario '%s' has no script",
		         sc->info.name);
		return -EINVAL;
	}
	char file[64];
	snprintf(file, sizeof(file), "%s.synack", sc->info.name);
	struct script *s = script_parse(file, text, len, err, sizeof(err));
	if (!s) {
		snprintf(res->error, sizeof(res->error), "%.*s", (int)sizeof(res->error) - 1, err);
		return -EINVAL;
	}
	int rc = s->trace_off ? crowd_run(s, o, 1, out, NULL, res)
	                      : run_common(s, o, sc, out, NULL, res, 1, NULL);
	script_free(s);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The command's options.                                              */

void script_usage(FILE *out)
{
	fputs("usage: synack script FILE [--seed N] [--json] [--svg FILE] [--html FILE]\n"
	      "                     [--pcap FILE] [--ipv6]\n"
	      "\n"
	      "Runs the scenario FILE (docs/SCRIPTS.md is the language; examples/scenarios has\n"
	      "the shipped ones) on two synack stacks, client 10.0.0.1 and server 10.0.0.2,\n"
	      "over the simulated network on a virtual clock, and draws it as synack demo\n"
	      "does: a ladder diagram, or JSON lines with --json.  A file with 'trace off'\n"
	      "runs a crowd of client stacks against the server instead, with floods and\n"
	      "sweeps, and prints its figures and checks (synack demo syn-flood is one).\n"
	      "\n"
	      "  --seed N            seed of the network and of both hosts' secrets (default:\n"
	      "                      the file's seed line, or 1)\n"
	      "  --json              one JSON object per line; the last is the summary\n"
	      "  --svg FILE          also draw the run as a ladder diagram in FILE (SVG)\n"
	      "  --html FILE         also write one self-contained page with the picture and a\n"
	      "                      table of the events\n"
	      "  --pcap FILE         also capture every datagram of both hosts (raw IP)\n"
	      "  --ipv6              the hosts speak IPv6 (2001:db8::1, 2001:db8::2), as demo\n"
	      "                      --ipv6: connections and hand-made segments alike\n"
	      "\n"
	      "Exit status: 0 when every expectation held; 1 when one did not or an action\n"
	      "could not complete (FILE:LINE on stderr); 2 for a bad file (FILE:LINE:COL:\n"
	      "expected X, got Y) or bad usage.\n",
	      out);
}

/* The script's file: one. */
static int script_positional(void *opts, const char *a, char *err, size_t errlen)
{
	struct script_opts *o = opts;
	if (o->file) {
		snprintf(err, errlen, "only one script at a time ('%s' and '%s')", o->file, a);
		return -1;
	}
	o->file = a;
	return 0;
}

#define O(n, k, f) CLI_OPT(struct script_opts, n, k, f)
static const struct cli_opt SCRIPT_FLAGS[] = {
    {O("--seed", CLI_U64, seed), .max = UINT64_MAX, .seen = CLI_SEEN(struct script_opts, has_seed)},
    {O("--svg", CLI_PATH, svg)},
    {O("--html", CLI_PATH, html)},
    {O("--pcap", CLI_PATH, pcap)},
    {O("--json", CLI_SWITCH, json)},
    {O("--ipv6", CLI_SWITCH, ipv6)},
};
#undef O

const struct cli_table script_cli = {
    CLI_ROWS(SCRIPT_FLAGS),           .unknown = "unknown option",
    .hint = "(synack script --help)", .help = CLI_SEEN(struct script_opts, help),
    .positional = script_positional,
};

int script_parse_args(int argc, char **argv, struct script_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	if (cli_parse(&script_cli, o, argc, argv, err, errlen) < 0)
		return -1;
	if (!o->file && !o->help) {
		snprintf(err, errlen, "which script? (synack script FILE; synack script --help)");
		return -1;
	}
	return 0;
}
