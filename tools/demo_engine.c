#include "demo_engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cli.h"
#include "synack/sim.h"
#include "wire/wire.h"

/* Hard caps so that a bug never hangs a run: a day of virtual time. */
#define CAP_US (24ull * 3600 * 1000000)
#define CAP_STEPS 1000000u
#define TAP_MAX 100000
#define TAP_WINDOW 1024
#define LOG_MAX 200000 /* events; a runaway stack ends the run instead of eating memory */

/* A datagram as the sim tap saw it, and what became of it. */
struct demo_tap_pkt {
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

static void *xrealloc(struct demo *d, void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q)
		d->oom = 1;
	return q;
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
	size_t ihl, total;
	if (len >= 60 && (p[0] >> 4) == 6 && p[6] == 6) {
		/* IPv6 (issue 14): the stacks send no extension headers. */
		ihl = 40;
		total = 40 + (((size_t)p[4] << 8) | p[5]);
	} else if (len < 40 || (p[0] >> 4) != 4 || p[9] != 6) {
		return 0;
	} else {
		ihl = (size_t)(p[0] & 15) * 4;
		total = ((size_t)p[2] << 8) | p[3];
	}
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

static struct demo_tap_pkt *tap_add(struct demo *d, int from, int to, const uint8_t *pkt,
                                    size_t len)
{
	if (d->npk >= TAP_MAX)
		return NULL;
	if (d->npk == d->cappk) {
		size_t cap = d->cappk ? d->cappk * 2 : 128;
		struct demo_tap_pkt *n = xrealloc(d, d->pk, cap * sizeof(*n));
		if (!n)
			return NULL;
		d->pk = n;
		d->cappk = cap;
	}
	struct demo_tap_pkt *t = &d->pk[d->npk];
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

/* An IPv4 address that is neither host's (a flood's spoofed source). */
static int foreign_addr(uint32_t a)
{
	return a != 0 && a != DEMO_CLIENT_ADDR && a != DEMO_SERVER_ADDR;
}

/* The same for IPv6 (--ipv6): neither 2001:db8::1 nor 2001:db8::2 (the
 * hosts' addresses, demo_endpoint()) and not the unspecified address. */
static int foreign_addr6(const uint8_t a[16])
{
	static const uint8_t zero[16];
	uint8_t host[16] = {0x20, 0x01, 0x0d, 0xb8};
	if (memcmp(a, zero, 16) == 0)
		return 0;
	host[15] = (uint8_t)DEMO_CLIENT_ADDR;
	if (memcmp(a, host, 16) == 0)
		return 0;
	host[15] = (uint8_t)DEMO_SERVER_ADDR;
	return memcmp(a, host, 16) != 0;
}

/* A flood's datagram (either family): counted, not drawn. */
static int foreign_datagram(const uint8_t *pkt, size_t len)
{
	if (len >= 20 && (pkt[0] >> 4) == 4)
		return foreign_addr(wire_get32(pkt + 12)) || foreign_addr(wire_get32(pkt + 16));
	if (len >= 40 && (pkt[0] >> 4) == 6)
		return foreign_addr6(pkt + 8) || foreign_addr6(pkt + 24);
	return 0;
}

static void tap_fn(void *ctx, int event, int from, int to, const uint8_t *pkt, size_t len,
                   uint64_t now)
{
	struct demo *d = ctx;
	capture_tap(d->cap, event, from, to, pkt, len, now);
	if (d->hide_foreign && foreign_datagram(pkt, len))
		return; /* a flood's datagram: counted, not drawn */
	if (event == SYNACK_SIM_SENT) {
		tap_add(d, from, to, pkt, len);
		return;
	}
	/* A fate: the earliest datagram with the same bytes that has none yet;
	 * a second delivery of one already delivered is a duplicate.  Fates come
	 * soon after the sending, so only the recent datagrams are searched and
	 * a storm of segments stays linear. */
	struct demo_tap_pkt *first = NULL, *last = NULL;
	for (size_t i = d->npk > TAP_WINDOW ? d->npk - TAP_WINDOW : 0; i < d->npk; i++) {
		struct demo_tap_pkt *t = &d->pk[i];
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
	struct demo_tap_pkt *t = first ? first : last;
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
	/* The script's drop, delay and keep rules. */
	int h = host_of(d, from);
	return d->filter && h >= 0 ? d->filter(d->script, h, pkt, len, extra_delay_us)
	                           : SYNACK_SIM_PASS;
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

void demo_drain(struct demo *d)
{
	struct synack_trace buf[64];
	for (int h = 0; h < 2; h++) {
		size_t n;
		while ((n = synack_trace_read(d->st[h], buf, 64)) > 0) {
			for (size_t i = 0; i < n; i++) {
				const struct synack_endpoint *rm = &buf[i].remote;
				if (d->hide_foreign &&
				    (rm->family == SYNACK_AF_INET6 ? foreign_addr6(rm->addr6)
				                                   : foreign_addr(rm->addr))) {
					d->hidden++;
					continue;
				}
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

uint64_t demo_now(const struct demo *d)
{
	return synack_sim_now(d->sim);
}

uint64_t demo_step(struct demo *d)
{
	if (d->res->capped || d->oom)
		return SYNACK_NEVER;
	if (d->steps >= CAP_STEPS || demo_now(d) > CAP_US) {
		d->res->capped = 1;
		return SYNACK_NEVER;
	}
	if (d->pump)
		d->pump(d->script);
	uint64_t t = synack_sim_step(d->sim);
	d->steps++;
	demo_drain(d);
	if (d->log.n > LOG_MAX)
		d->res->capped = 1;
	return t;
}

void demo_sleep_ms(struct demo *d, uint32_t ms)
{
	demo_sleep_until(d, demo_now(d) + (uint64_t)ms * 1000);
}

void demo_sleep_until(struct demo *d, uint64_t target)
{
	while (!d->res->capped && !d->oom) {
		if (d->pump)
			d->pump(d->script);
		synack_sim_flush(d->sim);
		uint64_t next = synack_sim_next_event(d->sim);
		if (next == SYNACK_NEVER || next > target)
			break;
		if (demo_step(d) == SYNACK_NEVER)
			break;
	}
	if (!d->res->capped && !d->oom && demo_now(d) < target) {
		synack_sim_run_until(d->sim, target);
		demo_drain(d);
	}
}

int demo_wait_for(struct demo *d, int h, int s, uint32_t mask)
{
	for (;;) {
		if (s >= 0 && (synack_events(d->st[h], s) & mask))
			return 1;
		if (demo_step(d) == SYNACK_NEVER)
			return 0;
	}
}

int demo_wait_state(struct demo *d, int h, int to, int nth)
{
	for (;;) {
		int seen = 0;
		const struct demo_host_result *hr = &d->res->host[h];
		for (size_t i = 0; i < hr->ntr; i++)
			if (hr->tr[i].to == to && seen++ == nth)
				return 1;
		if (demo_step(d) == SYNACK_NEVER)
			return 0;
	}
}

void demo_finish(struct demo *d)
{
	while (demo_step(d) != SYNACK_NEVER)
		;
}

void demo_note(struct demo *d, int h, const char *fmt, ...)
{
	struct render_event *e = render_log_add(&d->log, demo_now(d), h, RENDER_NOTE);
	if (!e) {
		d->oom = 1;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

void demo_app_event(struct demo *d, int h, int s, const char *call, long ret,
                    const struct synack_endpoint *local, const struct synack_endpoint *remote)
{
	struct render_event *e = render_log_add(&d->log, demo_now(d), h, RENDER_APP);
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
	if (remote) {
		e->remote = *remote;
	} else if (s >= 0 && synack_getpeername(d->st[h], s, &e->remote) != 0) {
		/* Not connected (a listener): the unspecified address of the
		 * socket's own family, [::]:0 over IPv6 as in the trace. */
		memset(&e->remote, 0, sizeof(e->remote));
		e->remote.family = e->local.family;
	}
}

int demo_app_socket(struct demo *d, int h)
{
	int s = synack_socket(d->st[h]);
	if (s < 0)
		demo_note(d, h, "socket() = %d", s);
	return s;
}

int demo_app_bind(struct demo *d, int h, int s, uint16_t port)
{
	struct synack_endpoint ep = demo_endpoint(d, synack_stack_addr(d->st[h]), port);
	demo_drain(d);
	int r = synack_bind(d->st[h], s, &ep);
	demo_app_event(d, h, s, "bind", r, &ep, NULL);
	demo_drain(d);
	return r;
}

int demo_app_listen(struct demo *d, int h, uint16_t port)
{
	int s = demo_app_socket(d, h);
	if (s < 0)
		return s;
	struct synack_endpoint ep = demo_endpoint(d, synack_stack_addr(d->st[h]), port);
	demo_drain(d);
	if (d->server_rcvbuf > 0) {
		/* Before listen(): the connections it accepts inherit the size,
		 * and their SYN-ACK already offers no more than it. */
		int r = synack_setsockopt(d->st[h], s, SYNACK_SO_RCVBUF, d->server_rcvbuf);
		demo_app_event(d, h, s, "setsockopt", r, &ep, NULL);
		demo_note(d, h, "(SO_RCVBUF %d)", d->server_rcvbuf);
	}
	if (h == DEMO_SERVER && d->server_fastopen_qlen > 0) {
		/* RFC 7413: the listener takes data in SYNs. */
		int r =
		    synack_setsockopt(d->st[h], s, SYNACK_TCP_FASTOPEN, d->server_fastopen_qlen);
		demo_app_event(d, h, s, "setsockopt", r, &ep, NULL);
		demo_note(d, h, "(TCP_FASTOPEN %d)", d->server_fastopen_qlen);
	}
	int r = synack_bind(d->st[h], s, &ep);
	if (r == 0)
		r = synack_listen(d->st[h], s, d->backlog > 0 ? d->backlog : 16);
	demo_app_event(d, h, s, "listen", r, &ep, NULL);
	demo_drain(d);
	return r < 0 ? r : s;
}

int demo_app_connect(struct demo *d, int h, int s, uint32_t addr, uint16_t port)
{
	struct synack_endpoint peer = demo_endpoint(d, addr, port);
	demo_drain(d);
	int r = synack_connect(d->st[h], s, &peer);
	demo_app_event(d, h, s, "connect", r, NULL, &peer);
	demo_drain(d);
	return r;
}

int demo_app_accept(struct demo *d, int h, int ls)
{
	if (!demo_wait_for(d, h, ls, SYNACK_POLLIN))
		return -EAGAIN;
	demo_drain(d);
	int r = synack_accept(d->st[h], ls, NULL);
	demo_app_event(d, h, r >= 0 ? r : ls, "accept", r, NULL, NULL);
	demo_drain(d);
	return r;
}

long demo_app_send(struct demo *d, int h, const void *buf, size_t len)
{
	demo_drain(d);
	long r = (long)synack_send(d->st[h], d->sock[h], buf, len);
	demo_app_event(d, h, d->sock[h], "send", r, NULL, NULL);
	demo_drain(d);
	return r;
}

/* One recv() of everything readable into the host's buffer. */
static long app_recv(struct demo *d, int h)
{
	static uint8_t sink[DEMO_RXBUF];
	demo_drain(d);
	/* Past the buffer (a script that read more before), read and count. */
	size_t room = d->nrx[h] < DEMO_RXBUF ? DEMO_RXBUF - d->nrx[h] : sizeof(sink);
	uint8_t *into = d->nrx[h] < DEMO_RXBUF ? d->rx[h] + d->nrx[h] : sink;
	long r = (long)synack_recv(d->st[h], d->sock[h], into, room, 0);
	demo_app_event(d, h, d->sock[h], "recv", r, NULL, NULL);
	if (r > 0)
		d->nrx[h] += (size_t)r;
	if (r == 0)
		d->eof[h] = 1;
	demo_drain(d);
	return r;
}

/* Waits until host h's socket is readable and reads what is there: 0 when
 * the wait timed out or the read failed with more than -EAGAIN. */
static int recv_more(struct demo *d, int h)
{
	if (!demo_wait_for(d, h, d->sock[h],
	                   SYNACK_POLLIN | SYNACK_POLLERR | SYNACK_POLLHUP | SYNACK_POLLRDHUP))
		return 0;
	long r = app_recv(d, h);
	return !(r < 0 && r != -EAGAIN);
}

int demo_recv_bytes(struct demo *d, int h, size_t n)
{
	while (d->nrx[h] < n && !d->eof[h])
		if (!recv_more(d, h))
			return 0;
	return d->nrx[h] >= n;
}

int demo_recv_discard(struct demo *d, int h, size_t n)
{
	static uint8_t sink[65536];
	while (d->nrx[h] < n && !d->eof[h]) {
		demo_drain(d);
		long r = (long)synack_recv(d->st[h], d->sock[h], sink, sizeof(sink), 0);
		if (r == -EAGAIN) {
			if (!demo_wait_for(d, h, d->sock[h],
			                   SYNACK_POLLIN | SYNACK_POLLERR | SYNACK_POLLHUP |
			                       SYNACK_POLLRDHUP))
				return 0;
			continue;
		}
		demo_app_event(d, h, d->sock[h], "recv", r, NULL, NULL);
		if (r <= 0) {
			d->eof[h] = 1;
			break;
		}
		d->nrx[h] += (size_t)r;
		demo_drain(d);
	}
	return d->nrx[h] >= n;
}

int demo_recv_eof(struct demo *d, int h)
{
	while (!d->eof[h])
		if (!recv_more(d, h))
			return 0;
	return 1;
}

int demo_app_shutdown(struct demo *d, int h, int how)
{
	demo_drain(d);
	int r = synack_shutdown(d->st[h], d->sock[h], how);
	demo_app_event(d, h, d->sock[h], "shutdown", r, NULL, NULL);
	demo_drain(d);
	return r;
}

int demo_app_close(struct demo *d, int h)
{
	struct synack_endpoint l = {.addr = 0, .port = 0}, p = {.addr = 0, .port = 0};
	int s = d->sock[h];
	synack_getsockname(d->st[h], s, &l);
	if (synack_getpeername(d->st[h], s, &p) != 0)
		p.family = l.family; /* a listener: [::]:0 over IPv6, as in demo_app_event */
	demo_drain(d);
	int r = synack_close(d->st[h], s);
	demo_app_event(d, h, -1, "close", r, &l, &p);
	d->sock[h] = -1;
	demo_drain(d);
	return r;
}

void demo_fill_payload(uint8_t *buf, size_t n, unsigned salt)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)('a' + (i * 7 + i / 26 + salt) % 26);
}

/* ------------------------------------------------------------------ */
/* Set-up, tear-down, and what became of each datagram.                */

void demo_match_fates(struct demo *d)
{
	for (int h = 0; h < 2; h++) {
		size_t cursor = 0;
		for (size_t i = 0; i < d->log.n; i++) {
			struct render_event *e = &d->log.ev[i];
			if (e->kind != RENDER_TRACE || e->host != h ||
			    e->tr.kind != SYNACK_TRACE_TX)
				continue;
			for (size_t j = cursor; j < d->npk && j < cursor + 256; j++) {
				struct demo_tap_pkt *t = &d->pk[j];
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

int demo_setup(struct demo *d)
{
	const struct demo_opts *o = d->o;
	for (int h = 0; h < 2; h++) {
		struct synack_config *c = &d->cfg[h];
		synack_config_default(c);
		c->addr = h == DEMO_CLIENT ? DEMO_CLIENT_ADDR : DEMO_SERVER_ADDR;
		if (o->ipv6) {
			struct synack_endpoint e6 = demo_endpoint(d, c->addr, 0);
			memcpy(c->addr6, e6.addr6, sizeof(c->addr6));
			/* IPv6's header is 20 bytes longer: a 1520-byte MTU keeps
			 * the MSS of the IPv4 runs (1460), so every scenario sends
			 * the same segments and its checks hold as they are. */
			c->mtu = 1520;
		}
		cli_derive_secret(o->seed, h, c->secret);
		if (o->time_wait_ms >= 0)
			c->time_wait_ms = (uint32_t)o->time_wait_ms;
		if (o->fin_timeout_ms >= 0)
			c->fin_timeout_ms = (uint32_t)o->fin_timeout_ms;
		if (d->configure)
			d->configure(d->script, h, c);
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
	p.delay_us = (uint32_t)((o->delay_ms >= 0 ? o->delay_ms : DEMO_DEFAULT_DELAY_MS) * 1000);
	if (synack_sim_set_path(d->sim, d->hid[0], d->hid[1], &p) != 0 ||
	    synack_sim_set_path(d->sim, d->hid[1], d->hid[0], &p) != 0) {
		snprintf(d->res->error, sizeof(d->res->error), "bad path impairments");
		return -EINVAL;
	}
	synack_sim_set_tap(d->sim, tap_fn, d);
	synack_sim_set_filter(d->sim, filter_fn, d);
	return 0;
}

struct synack_endpoint demo_endpoint(const struct demo *d, uint32_t addr, uint16_t port)
{
	struct synack_endpoint e;
	memset(&e, 0, sizeof(e));
	e.port = port;
	if (!d->o->ipv6) {
		e.addr = addr;
		return e;
	}
	e.family = SYNACK_AF_INET6;
	if (addr) {
		static const uint8_t prefix[4] = {0x20, 0x01, 0x0d, 0xb8}; /* RFC 3849 */
		memcpy(e.addr6, prefix, sizeof(prefix));
		e.addr6[15] = (uint8_t)addr;
	}
	return e;
}

void demo_init(struct demo *d, const struct demo_opts *o, const struct demo_scenario *sc,
               struct demo_result *res)
{
	d->o = o;
	d->sc = sc;
	d->res = res;
	d->sock[0] = d->sock[1] = -1;
	d->ep[DEMO_CLIENT] = demo_endpoint(d, DEMO_CLIENT_ADDR, 0);
	d->ep[DEMO_SERVER] = demo_endpoint(d, DEMO_SERVER_ADDR, DEMO_SERVER_PORT);
	render_log_init(&d->log);
}

void demo_teardown(struct demo *d)
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
