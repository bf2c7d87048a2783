/*
 * The stack object: configuration, packets and time in, datagrams out,
 * counters, the trace ring, the readiness queue, and names for everything.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "core/stack.h"
#include "net/net.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "wire/wire.h"

/* ------------------------------------------------------------------ */
/* Configuration.                                                      */

void synack_config_default(struct synack_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->ttl = 64;
	cfg->time_wait_ms = 60000;
	cfg->fin_timeout_ms = 60000;
	cfg->close_wait_timeout_ms = 0;
	cfg->syn_retries = 6;
	cfg->synack_retries = 5;
	cfg->orphan_retries = 8;
	cfg->retries2 = 15;
	cfg->rto_initial_ms = 1000;
	cfg->rto_min_ms = 200;
	cfg->rto_max_ms = 120000;
	cfg->max_orphans = 65536;
	cfg->max_tw_buckets = 262144;
	cfg->somaxconn = 4096;
	cfg->rcvbuf = 65535;
	cfg->sndbuf = 65536;
	cfg->ephemeral_port_min = 32768;
	cfg->ephemeral_port_max = 60999;
	cfg->trace_capacity = 4096;
	cfg->outbox_max = 4096;
	cfg->delack_ms = 40;
	cfg->init_cwnd = 10;
	memcpy(cfg->congestion_control, "reno", 5);
	cfg->keepalive_time_ms = 7200000;
	cfg->keepalive_intvl_ms = 75000;
	cfg->keepalive_probes = 9;
	cfg->max_syn_backlog = 4096;
	cfg->syncookies = 1;
	cfg->abort_on_overflow = 0;
	cfg->challenge_ack_limit = 100;
	cfg->rfc1337 = 0;
	cfg->ofo_budget = 32u << 20;
	cfg->icmp_ratelimit_ms = 1000;
	cfg->icmp_ratelimit_burst = 6;
	cfg->min_pmtu = 552;
	cfg->invalid_ratelimit_ms = 500;
}

#define CHECK_SETTING(cond, ...)                                                                   \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			if (err && errlen)                                                         \
				snprintf(err, errlen, __VA_ARGS__);                                \
			return -EINVAL;                                                            \
		}                                                                                  \
	} while (0)

int synack_config_check(const struct synack_config *cfg, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	CHECK_SETTING(cfg != NULL, "config: NULL");
	CHECK_SETTING(cfg->addr != 0 && cfg->addr != 0xffffffffu && (cfg->addr >> 28) != 0xe,
	              "addr: must be a unicast IPv4 address");
	CHECK_SETTING(cfg->mtu >= 576 && cfg->mtu <= 65535,
	              "mtu: %u is outside 576..65535 (RFC 791 requires 576)", cfg->mtu);
	CHECK_SETTING(cfg->ttl >= 1, "ttl: must be at least 1");
	CHECK_SETTING(cfg->time_wait_ms >= 1 && cfg->time_wait_ms <= 3600000,
	              "time_wait_ms: %u is outside 1..3600000", cfg->time_wait_ms);
	CHECK_SETTING(cfg->fin_timeout_ms >= 1 && cfg->fin_timeout_ms <= 3600000,
	              "fin_timeout_ms: %u is outside 1..3600000", cfg->fin_timeout_ms);
	CHECK_SETTING(cfg->close_wait_timeout_ms <= 86400000,
	              "close_wait_timeout_ms: %u is above 86400000 (0 disables it)",
	              cfg->close_wait_timeout_ms);
	CHECK_SETTING(cfg->syn_retries >= 1 && cfg->syn_retries <= 127,
	              "syn_retries: %u is outside 1..127", cfg->syn_retries);
	CHECK_SETTING(cfg->synack_retries >= 1 && cfg->synack_retries <= 127,
	              "synack_retries: %u is outside 1..127", cfg->synack_retries);
	CHECK_SETTING(cfg->orphan_retries >= 1 && cfg->orphan_retries <= 127,
	              "orphan_retries: %u is outside 1..127", cfg->orphan_retries);
	CHECK_SETTING(cfg->retries2 >= 1 && cfg->retries2 <= 127, "retries2: %u is outside 1..127",
	              cfg->retries2);
	CHECK_SETTING(cfg->rto_min_ms >= 1, "rto_min_ms: must be at least 1");
	CHECK_SETTING(cfg->rto_max_ms >= cfg->rto_min_ms && cfg->rto_max_ms <= 3600000,
	              "rto_max_ms: %u must be within rto_min_ms..3600000", cfg->rto_max_ms);
	CHECK_SETTING(
	    cfg->rto_initial_ms >= cfg->rto_min_ms && cfg->rto_initial_ms <= cfg->rto_max_ms,
	    "rto_initial_ms: %u must be within rto_min_ms..rto_max_ms", cfg->rto_initial_ms);
	CHECK_SETTING(cfg->max_orphans >= 1, "max_orphans: must be at least 1");
	CHECK_SETTING(cfg->somaxconn >= 1 && cfg->somaxconn <= 1u << 20,
	              "somaxconn: %u is outside 1..1048576", cfg->somaxconn);
	CHECK_SETTING(cfg->rcvbuf >= 1 && cfg->rcvbuf <= 1u << 30, "rcvbuf: %u is outside 1..2^30",
	              cfg->rcvbuf);
	CHECK_SETTING(cfg->sndbuf >= 1 && cfg->sndbuf <= 1u << 30, "sndbuf: %u is outside 1..2^30",
	              cfg->sndbuf);
	CHECK_SETTING(cfg->ephemeral_port_min >= 1 &&
	                  cfg->ephemeral_port_min <= cfg->ephemeral_port_max,
	              "ephemeral_port_min..max: %u..%u is not a range of ports",
	              cfg->ephemeral_port_min, cfg->ephemeral_port_max);
	CHECK_SETTING(cfg->trace_capacity <= 1u << 24, "trace_capacity: %u is above 16777216",
	              cfg->trace_capacity);
	CHECK_SETTING(cfg->outbox_max >= 1, "outbox_max: must be at least 1");
	CHECK_SETTING(cfg->delack_ms <= 500,
	              "delack_ms: %u is above 500 (RFC 1122 4.2.3.2; 0 acknowledges at once)",
	              cfg->delack_ms);
	CHECK_SETTING(cfg->init_cwnd >= 1 && cfg->init_cwnd <= 1000,
	              "init_cwnd: %u is outside 1..1000 segments", cfg->init_cwnd);
	if (!memchr(cfg->congestion_control, '\0', sizeof(cfg->congestion_control)) ||
	    !tcp_cc_find(cfg->congestion_control)) {
		char known[64] = "";
		for (size_t i = 0; tcp_cc_name(i); i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
			         i ? ", " : "", tcp_cc_name(i));
		CHECK_SETTING(0, "congestion_control: unknown algorithm (known: %s)", known);
	}
	CHECK_SETTING(cfg->keepalive_time_ms >= 1 && cfg->keepalive_time_ms <= 2147483647u,
	              "keepalive_time_ms: %u is outside 1..2147483647", cfg->keepalive_time_ms);
	CHECK_SETTING(cfg->keepalive_intvl_ms >= 1 && cfg->keepalive_intvl_ms <= 2147483647u,
	              "keepalive_intvl_ms: %u is outside 1..2147483647", cfg->keepalive_intvl_ms);
	CHECK_SETTING(cfg->keepalive_probes >= 1 && cfg->keepalive_probes <= 127,
	              "keepalive_probes: %u is outside 1..127", cfg->keepalive_probes);
	CHECK_SETTING(cfg->max_syn_backlog >= 1 && cfg->max_syn_backlog <= 1u << 20,
	              "max_syn_backlog: %u is outside 1..1048576", cfg->max_syn_backlog);
	CHECK_SETTING(cfg->syncookies <= 2,
	              "syncookies: %u is not 0 (off), 1 (when the SYN queue is full) or 2 (always)",
	              cfg->syncookies);
	CHECK_SETTING(cfg->abort_on_overflow <= 1, "abort_on_overflow: %u is not 0 or 1",
	              cfg->abort_on_overflow);
	CHECK_SETTING(cfg->challenge_ack_limit <= 1000000,
	              "challenge_ack_limit: %u is above 1000000 per second (0 = no limit)",
	              cfg->challenge_ack_limit);
	CHECK_SETTING(cfg->rfc1337 <= 1, "rfc1337: %u is not 0 or 1", cfg->rfc1337);
	CHECK_SETTING(cfg->ofo_budget <= 1u << 31, "ofo_budget: %u is above 2^31 bytes",
	              cfg->ofo_budget);
	CHECK_SETTING(cfg->icmp_ratelimit_ms <= 3600000,
	              "icmp_ratelimit_ms: %u is above 3600000 (0 turns the limit off)",
	              cfg->icmp_ratelimit_ms);
	CHECK_SETTING(cfg->icmp_ratelimit_burst >= 1 && cfg->icmp_ratelimit_burst <= 100000,
	              "icmp_ratelimit_burst: %u is outside 1..100000", cfg->icmp_ratelimit_burst);
	CHECK_SETTING(cfg->min_pmtu >= 68 && cfg->min_pmtu <= cfg->mtu,
	              "min_pmtu: %u is outside 68..mtu (RFC 791: every link carries 68 bytes)",
	              cfg->min_pmtu);
	CHECK_SETTING(cfg->invalid_ratelimit_ms <= 60000,
	              "invalid_ratelimit_ms: %u is above 60000 (0 answers every unacceptable ACK)",
	              cfg->invalid_ratelimit_ms);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lifecycle.                                                          */

static void derive_key(const uint8_t secret[16], uint8_t label, uint8_t out[16])
{
	uint8_t in[2] = {label, 0};
	uint64_t a = siphash24(secret, in, sizeof(in));
	in[1] = 1;
	uint64_t b = siphash24(secret, in, sizeof(in));
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
}

struct synack_stack *synack_stack_new(const struct synack_config *cfg, int *error)
{
	struct synack_stack *st;
	int err = synack_config_check(cfg, NULL, 0);
	if (err) {
		if (error)
			*error = err;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		goto nomem;
	st->cfg = *cfg;
	derive_key(cfg->secret, 'i', st->key_isn);
	derive_key(cfg->secret, 'p', st->key_port);
	derive_key(cfg->secret, 'h', st->key_hash);
	derive_key(cfg->secret, 'c', st->key_cookie);
	st->pkt_size = cfg->mtu;
	/* The ICMP error bucket starts full. */
	st->icmp_credit_us = (uint64_t)cfg->icmp_ratelimit_burst * cfg->icmp_ratelimit_ms * 1000u;
	timer_queue_init(&st->timers);
	timer_node_init(&st->tw_timer);
	/* The caches keep what a burst of this many connections frees. */
	slab_init(&st->tcb_slab, sizeof(struct tcb), 256);
	slab_init(&st->child_slab, sizeof(struct tcp_child), 256);
	slab_init(&st->rare_slab, sizeof(struct tcb_rare), 256);
	slab_init(&st->sender_slab, sizeof(struct tcp_sender), 256);
	slab_init(&st->txq_slab, TCP_TXQ_FIRST_BYTES, 256);
	slab_init(&st->sock_slab, sizeof(struct sock), 256);
	slab_init(&st->tw_slab, sizeof(struct tw), 1024);
	slab_init(&st->buf_slab, RING_FIRST_ALLOC, 256);
	slab_init(&st->ofo_slab, sizeof(struct ofo_seg) + cfg->mtu, 256);
	if (htable_init(&st->conns, st->key_hash, 64) != 0)
		goto nomem_free;
	if (htable_init(&st->listeners, st->key_hash, 16) != 0) {
		htable_fini(&st->conns);
		goto nomem_free;
	}
	if (cfg->trace_capacity) {
		st->trace = calloc(cfg->trace_capacity, sizeof(*st->trace));
		if (!st->trace) {
			htable_fini(&st->conns);
			htable_fini(&st->listeners);
			goto nomem_free;
		}
	}
	if (error)
		*error = 0;
	return st;
nomem_free:
	free(st);
nomem:
	if (error)
		*error = -ENOMEM;
	return NULL;
}

struct collect {
	struct conn_head **v;
	size_t n, cap;
};

static void collect_conn(void *ctx, struct hnode *n)
{
	struct collect *c = ctx;
	if (c->n < c->cap)
		c->v[c->n++] = container_of(n, struct conn_head, node);
}

static void free_tcb_now(struct tcb *tcb)
{
	/* Teardown: no segments are sent and no state changes traced. */
	struct synack_stack *st = tcb->st;
	ring_fini_pool(&tcb->snd_buf, &st->buf_slab);
	ring_fini_pool(&tcb->rcv_buf, &st->buf_slab);
	while (tcb->ofo) {
		struct ofo_seg *o = tcb->ofo;
		tcb->ofo = o->next;
		tcp_ofo_free(st, o);
	}
	tcp_tcb_ext_free(tcb);
	slab_free(&st->tcb_slab, tcb);
}

void synack_stack_free(struct synack_stack *st)
{
	struct collect c = {0};
	if (!st)
		return;
	sock_table_free(st);
	c.cap = st->conns.count + st->listeners.count;
	c.v = c.cap ? malloc(c.cap * sizeof(*c.v)) : NULL;
	if (c.v) {
		htable_foreach(&st->conns, collect_conn, &c);
		htable_foreach(&st->listeners, collect_conn, &c);
		for (size_t i = 0; i < c.n; i++)
			if (c.v[i]->node.kind == CONN_TCB)
				free_tcb_now(container_of(c.v[i], struct tcb, h));
		free(c.v);
	}
	tcp_tw_free_all(st);
	slab_fini(&st->tcb_slab);
	slab_fini(&st->child_slab);
	slab_fini(&st->rare_slab);
	slab_fini(&st->sender_slab);
	slab_fini(&st->txq_slab);
	slab_fini(&st->sock_slab);
	slab_fini(&st->tw_slab);
	slab_fini(&st->buf_slab);
	slab_fini(&st->ofo_slab);
	htable_fini(&st->conns);
	htable_fini(&st->listeners);
	timer_queue_fini(&st->timers);
	while (st->out_head) {
		struct pkt *p = st->out_head;
		st->out_head = p->next;
		free(p);
	}
	while (st->pkt_free) {
		struct pkt *p = st->pkt_free;
		st->pkt_free = p->next;
		free(p);
	}
	free(st->evq);
	free(st->trace);
	free(st);
}

/* ------------------------------------------------------------------ */
/* Packets and time.                                                   */

static void set_now(struct synack_stack *st, uint64_t now)
{
	/* Time never runs backwards inside the stack. */
	if (now > st->now)
		st->now = now;
}

int synack_input(struct synack_stack *st, uint64_t now, const void *pkt, size_t len)
{
	if (!st)
		return -EINVAL;
	set_now(st, now);
	if (!pkt)
		len = 0;
	/* The network layer validates the datagram and says what it carries
	 * up; the stack, which sees every layer, hands it to TCP.  No layer
	 * calls the one above it. */
	struct net_up up;
	int reason = net_input(st, pkt, len, &up);
	switch (up.kind) {
	case NET_UP_TCP:
		return tcp_input(st, &up.tcp);
	case NET_UP_TCP_ERROR:
		reason = tcp_net_error(st, &up.err);
		return reason == SYNACK_DROP_NONE ? 0 : net_error_dropped(st, &up, reason);
	default:
		return reason;
	}
}

void synack_advance(struct synack_stack *st, uint64_t now)
{
	struct timer_node *n;
	if (!st)
		return;
	set_now(st, now);
	while ((n = timer_pop_due(&st->timers, st->now)) != NULL)
		tcp_timer_fire(st, n);
}

uint64_t synack_next_deadline(const struct synack_stack *st)
{
	return st ? timer_next(&st->timers) : SYNACK_NEVER;
}

uint64_t synack_now(const struct synack_stack *st)
{
	return st ? st->now : 0;
}

uint32_t synack_stack_addr(const struct synack_stack *st)
{
	return st ? st->cfg.addr : 0;
}

struct pkt *stack_pkt_alloc(struct synack_stack *st)
{
	struct pkt *p = st->pkt_free;
	if (p) {
		st->pkt_free = p->next;
		st->pkt_free_len--;
	} else {
		p = malloc(sizeof(*p) + st->pkt_size);
		if (!p)
			return NULL;
	}
	p->next = NULL;
	p->len = 0;
	return p;
}

void stack_pkt_free(struct synack_stack *st, struct pkt *p)
{
	/* Keep a bounded free list so a burst does not pin memory forever. */
	if (st->pkt_free_len >= 256) {
		free(p);
		return;
	}
	p->next = st->pkt_free;
	st->pkt_free = p;
	st->pkt_free_len++;
}

void stack_outbox_push(struct synack_stack *st, struct pkt *p)
{
	if (st->out_len >= st->cfg.outbox_max) {
		STAT_INC(st, IpOutDiscards);
		stack_count_drop(st, SYNACK_DROP_OUTBOX_FULL);
		stack_pkt_free(st, p);
		return;
	}
	p->next = NULL;
	if (st->out_tail)
		st->out_tail->next = p;
	else
		st->out_head = p;
	st->out_tail = p;
	st->out_len++;
}

ssize_t synack_output(struct synack_stack *st, void *buf, size_t cap)
{
	struct pkt *p;
	size_t len;
	if (!st)
		return -EINVAL;
	p = st->out_head;
	if (!p)
		return 0;
	if (!buf || cap < p->len)
		return -EMSGSIZE;
	len = p->len;
	memcpy(buf, p->data, len);
	st->out_head = p->next;
	if (!st->out_head)
		st->out_tail = NULL;
	st->out_len--;
	stack_pkt_free(st, p);
	return (ssize_t)len;
}

size_t synack_output_pending(const struct synack_stack *st)
{
	return st ? st->out_len : 0;
}

uint32_t stack_port_offset(struct synack_stack *st, const struct addr *raddr, uint16_t rport)
{
	uint32_t x = raddr->w[0] ^ raddr->w[1] ^ raddr->w[2] ^ raddr->w[3] ^ rport;
	x ^= x >> 16;
	x ^= x >> 8;
	struct port_memo *m = &st->port_memo[x % (sizeof(st->port_memo) / sizeof(*st->port_memo))];
	if (m->ok && addr_eq(&m->addr, raddr) && m->port == rport)
		return m->offset;
	/* F(local address, remote address, remote port): the addresses in
	 * their wire form, so an IPv4 peer hashes 10 bytes. */
	struct addr laddr = addr_v4(st->cfg.addr);
	uint8_t b[2 * 16 + 2];
	size_t n = addr_put(b, &laddr);
	n += addr_put(b + n, raddr);
	wire_put16(b + n, rport);
	m->offset = (uint32_t)siphash24(st->key_port, b, n + 2);
	m->addr = *raddr;
	m->port = rport;
	m->ok = 1;
	return m->offset;
}

/* ------------------------------------------------------------------ */
/* Trace ring.                                                         */

size_t synack_trace_read(struct synack_stack *st, struct synack_trace *out, size_t max)
{
	size_t n = 0;
	if (!st || !out)
		return 0;
	while (n < max && st->trace_tail < st->trace_head) {
		out[n++] = st->trace[st->trace_tail % st->cfg.trace_capacity];
		st->trace_tail++;
	}
	return n;
}

/* synack_stats.drops is a fixed array in the public ABI. */
_Static_assert(SYNACK_DROP_COUNT <= 64, "more drop reasons than synack_stats.drops holds");

void stack_count_drop(struct synack_stack *st, int reason)
{
	if (reason > 0 && reason < SYNACK_DROP_COUNT)
		st->stats.drops[reason]++;
}

/* ------------------------------------------------------------------ */
/* Readiness queue.                                                    */

void stack_notify(struct synack_stack *st, int fd)
{
	struct sock *so = sock_get(st, fd);
	if (!so || st->evq_mark[fd])
		return;
	if (st->evq_len == st->evq_cap) {
		size_t cap = st->evq_cap ? st->evq_cap * 2 : 64;
		int *q = malloc(cap * sizeof(*q));
		if (!q)
			return; /* synack_events() still tells the truth */
		for (size_t i = 0; i < st->evq_len; i++)
			q[i] = st->evq[(st->evq_head + i) % st->evq_cap];
		free(st->evq);
		st->evq = q;
		st->evq_cap = cap;
		st->evq_head = 0;
	}
	st->evq[(st->evq_head + st->evq_len) % st->evq_cap] = fd;
	st->evq_len++;
	st->evq_mark[fd] = 1;
}

void stack_sock_detach(struct synack_stack *st, int fd, int err)
{
	sock_detach(st, fd, err);
}

int synack_event_next(struct synack_stack *st, struct synack_event *ev)
{
	if (!st || !ev)
		return 0;
	while (st->evq_len) {
		int fd = st->evq[st->evq_head];
		st->evq_head = (st->evq_head + 1) % st->evq_cap;
		st->evq_len--;
		st->evq_mark[fd] = 0;
		if (!sock_get(st, fd))
			continue;
		/* Every notified socket is reported, with its readiness now.
		 * Comparing with what was reported last would lose a wakeup
		 * when readiness went away (the application drained the
		 * socket) and came back (new data) in between. */
		ev->socket = fd;
		ev->events = synack_events(st, fd);
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Counters.                                                           */

static void sum_buffers(void *ctx, struct hnode *n)
{
	struct conn_head *h = container_of(n, struct conn_head, node);
	uint64_t *sum = ctx;
	if (h->node.kind == CONN_TCB) {
		const struct tcb *t = container_of(h, struct tcb, h);
		*sum += t->snd_buf.len + t->rcv_buf.len + t->ofo_bytes;
	}
}

void synack_stats(const struct synack_stack *st, struct synack_stats *out)
{
	uint64_t sum = 0;
	if (!st || !out)
		return;
	*out = st->stats;
	/* Buffered bytes are summed on demand rather than tracked on every
	 * packet: the hot path stays free of bookkeeping. */
	htable_foreach(&st->conns, sum_buffers, &sum);
	for (int i = 0; i < st->nsocks; i++)
		if (st->socks[i] && st->socks[i]->rcv_left)
			sum += st->socks[i]->rcv_left->len;
	out->bytes_buffered = sum;
}

/* ------------------------------------------------------------------ */
/* Memory accounting.                                                  */

struct mem_walk {
	const struct synack_stack *st;
	struct synack_mem *m;
	uint64_t syn_pending; /* TCBs in SYN_RECEIVED */
	uint64_t syn_ext;     /* bytes of their child links and rare state */
	uint64_t listen_ext;  /* bytes of listeners' queues */
};

static uint64_t tcb_buffer_bytes(const struct synack_stack *st, const struct tcb *t)
{
	uint64_t b = (uint64_t)t->snd_buf.alloc + t->rcv_buf.alloc + tcp_snd_bytes(t);
	for (const struct ofo_seg *o = t->ofo; o; o = o->next)
		b += tcp_ofo_bytes(st, o);
	return b;
}

static void mem_conn(void *ctx, struct hnode *n)
{
	struct mem_walk *w = ctx;
	struct conn_head *h = container_of(n, struct conn_head, node);
	if (h->node.kind != CONN_TCB)
		return; /* TIME_WAIT records are counted as a whole */
	const struct tcb *t = container_of(h, struct tcb, h);
	if (t->state == SYNACK_SYN_RECEIVED) {
		w->syn_pending++;
		if (tcp_child(t))
			w->syn_ext += sizeof(struct tcp_child);
		if (t->rare)
			w->syn_ext += sizeof(struct tcb_rare);
		if (t->sender)
			w->syn_ext += sizeof(struct tcp_sender);
	}
	if (tcp_lsn(t))
		w->listen_ext += sizeof(struct tcp_listen);
	w->m->buffers += tcb_buffer_bytes(w->st, t);
}

/*
 * Walks the tables rather than counting on every allocation: the answer is
 * exact, and the per-packet paths carry no bookkeeping for a question asked
 * rarely.  Every TCB is counted through conns_live, so one that sits in no
 * table (none should) would still be seen.
 */
void synack_memory(const struct synack_stack *st, struct synack_mem *out)
{
	struct mem_walk w;
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!st)
		return;
	w.st = st;
	w.m = out;
	w.syn_pending = 0;
	w.syn_ext = 0;
	w.listen_ext = 0;
	htable_foreach(&st->conns, mem_conn, &w);
	htable_foreach(&st->listeners, mem_conn, &w);
	/* Child links, rare state and the sender's state are counted with
	 * their TCB: in syn_pending while the handshake is open, else in
	 * tcbs; transmit records with the buffers. */
	out->syn_pending = w.syn_pending * sizeof(struct tcb) + w.syn_ext;
	out->tcbs = (st->stats.conns_live - w.syn_pending) * sizeof(struct tcb) +
	            slab_live_bytes(&st->child_slab) + slab_live_bytes(&st->rare_slab) +
	            slab_live_bytes(&st->sender_slab) - w.syn_ext +
	            w.listen_ext;
	out->time_wait = st->tw_records * sizeof(struct tw);
	out->cached = slab_cached_bytes(&st->tcb_slab) + slab_cached_bytes(&st->child_slab) +
	              slab_cached_bytes(&st->rare_slab) + slab_cached_bytes(&st->sender_slab) +
	              slab_cached_bytes(&st->txq_slab) + slab_cached_bytes(&st->sock_slab) +
	              slab_cached_bytes(&st->tw_slab) + slab_cached_bytes(&st->buf_slab) +
	              slab_cached_bytes(&st->ofo_slab);
	out->sockets = (uint64_t)st->nsocks *
	                   (sizeof(*st->socks) + sizeof(*st->free_fds) + sizeof(*st->evq_mark)) +
	               (st->ports ? (uint64_t)(st->ports_mask + 1) * sizeof(*st->ports) : 0);
	for (int i = 0; i < st->nsocks; i++)
		if (st->socks[i]) {
			out->sockets += sizeof(struct sock);
			if (st->socks[i]->rcv_left)
				out->buffers += sizeof(struct ring) + st->socks[i]->rcv_left->alloc;
		}
	out->packets =
	    (uint64_t)(st->out_len + st->pkt_free_len) * (sizeof(struct pkt) + st->pkt_size);
	out->other = sizeof(*st) +
	             (uint64_t)st->cfg.trace_capacity * sizeof(*st->trace) +
	             htable_bytes(&st->conns) + htable_bytes(&st->listeners) +
	             timer_queue_bytes(&st->timers) + st->evq_cap * sizeof(*st->evq);
	out->total = out->tcbs + out->time_wait + out->syn_pending + out->buffers + out->other +
	             out->sockets + out->packets + out->cached;
}

static const char *const counter_names[] = {
#define SYNACK_COUNTER_NAME(name) #name,
    SYNACK_COUNTERS(SYNACK_COUNTER_NAME)
#undef SYNACK_COUNTER_NAME
};

size_t synack_counter_count(void)
{
	return sizeof(counter_names) / sizeof(counter_names[0]);
}

const char *synack_counter_name(size_t i)
{
	return i < synack_counter_count() ? counter_names[i] : NULL;
}

uint64_t synack_counter_value(const struct synack_stats *s, size_t i)
{
	/* The counters are the leading uint64_t fields, in list order. */
	const uint64_t *v = (const uint64_t *)(const void *)s;
	return i < synack_counter_count() ? v[i] : 0;
}

/* ------------------------------------------------------------------ */
/* Names.                                                              */

const char *synack_state_name(int state)
{
	static const char *const names[] = {
#define SYNACK_STATE_NAME(name) #name,
	    SYNACK_STATES(SYNACK_STATE_NAME)
#undef SYNACK_STATE_NAME
	};
	return state >= 0 && state < SYNACK_STATE_COUNT ? names[state] : "?";
}

const char *synack_ca_state_name(int ca_state)
{
	static const char *const names[] = {"open", "recovery", "loss"};
	return ca_state >= 0 && ca_state <= SYNACK_CA_LOSS ? names[ca_state] : "?";
}

const char *synack_drop_name(int reason)
{
	static const char *const names[] = {
#define SYNACK_DROP_NAME(name, str) str,
	    SYNACK_DROPS(SYNACK_DROP_NAME)
#undef SYNACK_DROP_NAME
	};
	return reason >= 0 && reason < SYNACK_DROP_COUNT ? names[reason] : "?";
}

const char *synack_cause_name(int cause)
{
	static const char *const names[] = {
#define SYNACK_CAUSE_NAME(name, str) str,
	    SYNACK_CAUSES(SYNACK_CAUSE_NAME)
#undef SYNACK_CAUSE_NAME
	};
	return cause >= 0 && cause < SYNACK_CAUSE_COUNT ? names[cause] : "?";
}

const char *synack_flags_str(uint8_t flags, char *buf, size_t len)
{
	/* tcpdump's notation: S F R P U E W letters, "." for ACK. */
	char tmp[16];
	size_t n = 0;
	if (flags & SYNACK_TH_SYN)
		tmp[n++] = 'S';
	if (flags & SYNACK_TH_FIN)
		tmp[n++] = 'F';
	if (flags & SYNACK_TH_RST)
		tmp[n++] = 'R';
	if (flags & SYNACK_TH_PSH)
		tmp[n++] = 'P';
	if (flags & SYNACK_TH_URG)
		tmp[n++] = 'U';
	if (flags & SYNACK_TH_ECE)
		tmp[n++] = 'E';
	if (flags & SYNACK_TH_CWR)
		tmp[n++] = 'W';
	if (flags & SYNACK_TH_ACK)
		tmp[n++] = '.';
	tmp[n] = '\0';
	if (n == 0)
		snprintf(tmp, sizeof(tmp), "none");
	if (buf && len)
		snprintf(buf, len, "%s", tmp);
	return buf;
}

const char *synack_strerror(int err)
{
	if (err == INT_MIN)
		return "unknown error";
	if (err > 0)
		err = -err;
	switch (-err) {
	case 0:
		return "success";
	case EAGAIN:
		return "operation would block (EAGAIN)";
	case EINPROGRESS:
		return "connection in progress (EINPROGRESS)";
	case EALREADY:
		return "connection already in progress (EALREADY)";
	case EISCONN:
		return "socket is already connected (EISCONN)";
	case ENOTCONN:
		return "socket is not connected (ENOTCONN)";
	case ECONNREFUSED:
		return "connection refused (ECONNREFUSED)";
	case ECONNRESET:
		return "connection reset by peer (ECONNRESET)";
	case ETIMEDOUT:
		return "connection timed out (ETIMEDOUT)";
	case EPIPE:
		return "broken pipe (EPIPE)";
	case EINVAL:
		return "invalid argument (EINVAL)";
	case EBADF:
		return "bad socket (EBADF)";
	case EADDRINUSE:
		return "address already in use (EADDRINUSE)";
	case EADDRNOTAVAIL:
		return "address not available (EADDRNOTAVAIL)";
	case ENOMEM:
		return "out of memory (ENOMEM)";
	case EMSGSIZE:
		return "message too long (EMSGSIZE)";
	case EOPNOTSUPP:
		return "operation not supported (EOPNOTSUPP)";
	case EMFILE:
		return "too many sockets (EMFILE)";
	case ENOPROTOOPT:
		return "protocol option not available (ENOPROTOOPT)";
	case ENETUNREACH:
		return "network is unreachable (ENETUNREACH)";
	case EHOSTUNREACH:
		return "no route to host (EHOSTUNREACH)";
	case EHOSTDOWN:
		return "host is down (EHOSTDOWN)";
	case ENONET:
		return "machine is not on the network (ENONET)";
	case EPROTO:
		return "protocol error (EPROTO)";
	default:
		return "unknown error";
	}
}

int synack_endpoint_parse(const char *text, struct synack_endpoint *ep)
{
	unsigned a[4], port = 0;
	int used = -1;
	if (!text || !ep)
		return -EINVAL;
	/* Digits, dots and one colon only: sscanf alone would skip spaces and
	 * signs and stop quietly before trailing text. */
	for (const char *p = text; *p; p++)
		if (!(*p == '.' || *p == ':' || (*p >= '0' && *p <= '9')))
			return -EINVAL;
	if (strchr(text, ':')) {
		if (sscanf(text, "%3u.%3u.%3u.%3u:%5u%n", &a[0], &a[1], &a[2], &a[3], &port,
		           &used) != 5)
			return -EINVAL;
	} else if (sscanf(text, "%3u.%3u.%3u.%3u%n", &a[0], &a[1], &a[2], &a[3], &used) != 4) {
		return -EINVAL;
	}
	if (used < 0 || text[used] != '\0')
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		if (a[i] > 255)
			return -EINVAL;
	if (port > 65535)
		return -EINVAL;
	ep->addr = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
	ep->port = (uint16_t)port;
	return 0;
}

const char *synack_endpoint_str(const struct synack_endpoint *ep, char *buf, size_t len)
{
	if (!buf || !len)
		return buf;
	if (!ep) {
		snprintf(buf, len, "?");
		return buf;
	}
	snprintf(buf, len, "%u.%u.%u.%u:%u", ep->addr >> 24, (ep->addr >> 16) & 255,
	         (ep->addr >> 8) & 255, ep->addr & 255, ep->port);
	return buf;
}
