/*
 * The socket API: BSD names and semantics, always non-blocking, errors as
 * negative errno values.  A socket is a descriptor-table entry that points
 * at a TCB while a connection or listener exists; when the connection ends
 * the socket keeps what the application has not read yet and the error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/siphash.h"
#include "net/net.h"
#include "sock/sock.h"
#include "tcp/tcp.h"

/* The stack's own address of a socket's family: the IPv4 one, or the
 * IPv6 one when v6 (issue 14). */
static struct addr local_addr(const struct sock_layer *st, int v6)
{
	return v6 ? net_addr6(&st->tcp.net) : addr_v4(ENV(st)->cfg.addr);
}

/* The MSS a link of the stack's MTU carries: the MTU less the network and
 * TCP headers (RFC 9293 3.7.1). */
static uint32_t default_mss(const struct sock_layer *st)
{
	struct addr ours = local_addr(st, 0);
	return ENV(st)->cfg.mtu - (uint32_t)ip_hdr_len(&ours) - WIRE_TCP_HDR_LEN;
}

#define SOCK_MAX 1048576

static int port_ref(struct sock_layer *st, struct sock *so);
static void port_unref(struct sock_layer *st, const struct sock *so);

/* Declares so, the socket s names, for a public call, which returns
 * -EBADF when there is none (-EINVAL without a stack). */
/* clang-format off */
#define SOCK_LOOKUP(so, st, s)                                                                     \
	struct sock *so = sock_get(st, s);                                                         \
	if (!so)                                                                                   \
		return (st) ? -EBADF : -EINVAL
/* clang-format on */

/* The options of struct sock_rare as a socket starts with them: what a
 * socket without one reads, and what one gets when first allocated. */
static const struct sock_rare sock_rare_default = {.linger = -1,
                                                   .rcvlowat = 1,
                                                   .notsent_lowat = 0,
                                                   .peek_off = -1,
                                                   .fastopen_qlen = 0,
                                                   .left = NULL};

static const struct sock_rare *so_rare_get(const struct sock *so)
{
	return so->rare ? so->rare : &sock_rare_default;
}
static int so_linger(const struct sock *so)
{
	return so_rare_get(so)->linger;
}
static int so_rcvlowat(const struct sock *so)
{
	return so_rare_get(so)->rcvlowat;
}
static int so_notsent_lowat(const struct sock *so)
{
	return so_rare_get(so)->notsent_lowat;
}
static int so_peek_off(const struct sock *so)
{
	return so_rare_get(so)->peek_off;
}
static uint32_t so_fastopen_qlen(const struct sock *so)
{
	return so_rare_get(so)->fastopen_qlen;
}

/* The socket's struct sock_rare, allocated now with the defaults if it
 * has none; NULL when memory ran out. */
static struct sock_rare *so_rare(struct sock *so)
{
	if (!so->rare) {
		so->rare = malloc(sizeof(*so->rare));
		if (!so->rare)
			return NULL;
		*so->rare = sock_rare_default;
	}
	return so->rare;
}

/* The unread data the ended connection left, or NULL. */
static struct ring *so_left(const struct sock *so)
{
	return so->rare ? so->rare->left : NULL;
}

/* What the socket hands the connection or listener it opens. */
static struct tcp_user_cfg user_cfg(const struct sock *so)
{
	struct tcp_user_cfg c = {
	    (uint32_t)so->maxseg, (uint32_t)so->rcvbuf, (uint32_t)so->sndbuf, so->opts,
	    so->buf_locks,        so->fastopen_connect, so_fastopen_qlen(so)};
	/* Each connection caps the MSS by its family's header (tcp_mss_cap). */
	return c;
}

int synack_socket(struct synack_stack *stack)
{
	struct sock_layer *st = sock_layer_of(stack);
	struct sock *so;
	int fd;
	if (!st)
		return -EINVAL;
	if (st->nfree == 0) {
		/* Grow the table; the new descriptors go on the free stack so
		 * that the lowest is handed out first. */
		if (st->nsocks >= SOCK_MAX)
			return -EMFILE;
		int cap = st->nsocks ? st->nsocks * 2 : 16;
		struct sock **t = realloc(st->socks, (size_t)cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		st->socks = t;
		int *f = realloc(st->free_fds, (size_t)cap * sizeof(*f));
		if (!f)
			return -ENOMEM;
		st->free_fds = f;
		uint8_t *m = realloc(st->evq_mark, (size_t)cap);
		if (!m)
			return -ENOMEM;
		st->evq_mark = m;
		memset(m + st->nsocks, 0, (size_t)(cap - st->nsocks));
		for (int i = cap - 1; i >= st->nsocks; i--) {
			t[i] = NULL;
			f[st->nfree++] = i;
		}
		st->nsocks = cap;
	}
	so = slab_alloc(&st->sock_slab);
	if (!so)
		return -ENOMEM;
	memset(so, 0, sizeof(*so));
	fd = st->free_fds[--st->nfree];
	so->fd = fd;
	so->rcvbuf = (int)ENV(st)->cfg.rmem_default;
	so->sndbuf = (int)ENV(st)->cfg.wmem_default;
	so->maxseg = (int)default_mss(st);
	so->opts.ka_idle_ms = ENV(st)->cfg.keepalive_time_ms;
	so->opts.ka_intvl_ms = ENV(st)->cfg.keepalive_intvl_ms;
	so->opts.ka_cnt = (uint8_t)ENV(st)->cfg.keepalive_probes;
	st->socks[fd] = so;
	return fd;
}

static void sock_left_free(struct sock_layer *st, struct sock *so)
{
	struct ring *left = so_left(so);
	if (!left)
		return;
	ring_fini_pool(left, &st->tcp.buf_pool);
	free(left);
	so->rare->left = NULL;
}

static void sock_release(struct sock_layer *st, struct sock *so)
{
	int fd = so->fd;
	if (so->bound)
		port_unref(st, so);
	sock_left_free(st, so);
	free(so->rare);
	st->socks[fd] = NULL;
	st->free_fds[st->nfree++] = fd;
	slab_free(&st->sock_slab, so);
}

/* ------------------------------------------------------------------ */
/* Readiness queue.                                                    */

/* Inline in both callers: TCP reports readiness on every ACK and state
 * change, through sock_tcp_event. */
static inline void notify(struct sock_layer *st, int fd)
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

void sock_notify(struct sock_layer *st, int fd)
{
	notify(st, fd);
}

/* The connection of fd is going away (err: 0, or what the application is
 * told): the socket keeps unread data and the error. */
static void sock_detach(struct sock_layer *st, int fd, int err)
{
	struct sock *so = sock_get(st, fd);
	if (!so || !so->tcb)
		return;
	/* Unread data outlives the connection: the application reads it
	 * and then sees end of file (or the error). */
	if (tcp_unread(so->tcb)) {
		struct sock_rare *rare = so_rare(so);
		struct ring *left = rare ? malloc(sizeof(*left)) : NULL;
		if (left) {
			tcp_receive_take(so->tcb, left);
			rare->left = left;
		} else if (!err) {
			/* No memory to keep it: the data is lost, and the
			 * application is told so instead of seeing EOF. */
			err = -ENOMEM;
		}
	}
	so->eof = tcp_fin_received(so->tcb);
	so->tcb = NULL;
	if (err && !so->error)
		so->error = err;
	sock_notify(st, fd);
}

/* TCP's news about the socket fd (struct tcp_layer.sock_event), at the
 * moment it happens.  TCP's state is the first member of ours. */
static void sock_tcp_event(struct tcp_layer *tl, int fd, int ev, int err)
{
	struct sock_layer *st = (struct sock_layer *)(void *)tl;
	if (ev == TCP_SOCK_DETACH)
		sock_detach(st, fd, err);
	else
		notify(st, fd);
}

int sock_layer_init(struct sock_layer *st)
{
	slab_init(&st->sock_slab, sizeof(struct sock), 256);
	st->sock_slab.keep_pct = ENV(st)->cfg.pool_keep_pct; /* issue 16, core/slab.h */
	st->tcp.sock_event = sock_tcp_event;
	return 0;
}

void sock_layer_fini(struct sock_layer *st)
{
	for (int i = 0; i < st->nsocks; i++)
		if (st->socks[i]) {
			sock_left_free(st, st->socks[i]);
			free(st->socks[i]->rare);
			slab_free(&st->sock_slab, st->socks[i]);
		}
	free(st->socks);
	free(st->free_fds);
	free(st->evq_mark);
	free(st->evq);
	free(st->ports);
	slab_fini(&st->sock_slab);
	st->evq_mark = NULL;
	st->evq = NULL;
	st->ports = NULL;
	st->ports_mask = st->ports_used = 0;
	st->socks = NULL;
	st->free_fds = NULL;
	st->nsocks = st->nfree = 0;
}

void sock_memory(const struct sock_layer *st, struct synack_mem *out)
{
	out->sockets = (uint64_t)st->nsocks *
	                   (sizeof(*st->socks) + sizeof(*st->free_fds) + sizeof(*st->evq_mark)) +
	               (st->ports ? (uint64_t)(st->ports_mask + 1) * sizeof(*st->ports) : 0);
	for (int i = 0; i < st->nsocks; i++)
		if (st->socks[i]) {
			out->sockets += sizeof(struct sock);
			if (st->socks[i]->rare)
				out->sockets += sizeof(struct sock_rare);
			if (so_left(st->socks[i]))
				out->buffers += sizeof(struct ring) + so_left(st->socks[i])->alloc;
		}
	out->cached += slab_cached_bytes(&st->sock_slab);
	out->other += st->evq_cap * sizeof(*st->evq);
}

uint64_t sock_bytes_buffered(const struct sock_layer *st)
{
	uint64_t sum = 0;
	for (int i = 0; i < st->nsocks; i++)
		if (st->socks[i] && so_left(st->socks[i]))
			sum += so_left(st->socks[i])->len;
	return sum;
}

/*
 * The event queue says which sockets the application will touch next, so
 * their memory is asked for ahead of time: with many connections in
 * flight a socket and its TCB are cold when their event comes up (the
 * readiness and the application's calls on them were ~40 of the ~400 LL
 * misses of a lifecycle at 10,000 in flight).  Two stages, as the TCB's
 * address is in the socket: the socket two events ahead, and the TCB of
 * the next event's socket, asked for one event earlier.  A prefetch is a
 * hint: it changes no result.
 */
static void event_prefetch(struct sock_layer *st)
{
	if (st->evq_len >= 2) {
		size_t i = st->evq_head + 1 == st->evq_cap ? 0 : st->evq_head + 1;
		const struct sock *later = sock_get(st, st->evq[i]);
		if (later)
			mem_prefetch(later);
	}
	if (st->evq_len >= 1) {
		const struct sock *next = sock_get(st, st->evq[st->evq_head]);
		if (next && next->tcb)
			mem_prefetch(next->tcb);
	}
}

int synack_event_next(struct synack_stack *stack, struct synack_event *ev)
{
	struct sock_layer *st = sock_layer_of(stack);
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
		event_prefetch(st);
		ev->socket = fd;
		ev->events = synack_events(stack, fd);
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Ports.                                                              */

/* RFC 6056 algorithm 3's F(local address, remote address, remote port,
 * secret): SipHash-2-4 under key_port, remembered for recent peers since a
 * client connects to the same few servers again and again. */
static uint32_t sock_port_offset(struct sock_layer *st, const struct addr *raddr, uint16_t rport)
{
	uint32_t x = raddr->w[0] ^ raddr->w[1] ^ raddr->w[2] ^ raddr->w[3] ^ rport;
	x ^= x >> 16;
	x ^= x >> 8;
	struct port_memo *m = &st->port_memo[x % (sizeof(st->port_memo) / sizeof(*st->port_memo))];
	if (m->ok && addr_eq(&m->addr, raddr) && m->port == rport)
		return m->offset;
	/* F(local address, remote address, remote port): the addresses in
	 * their wire form, so an IPv4 peer hashes 10 bytes. */
	struct addr laddr = local_addr(st, !addr_is_v4(raddr));
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

static struct synack_endpoint endpoint(const struct addr *addr, uint16_t port)
{
	struct synack_endpoint e;
	env_endpoint(&e, addr, port);
	return e;
}

/* An endpoint of a socket as the socket shows it: an IPv4 connection that a
 * dual-stack IPv6 listener accepted shows its addresses IPv4-mapped (RFC
 * 4291 2.5.5.2), as Linux's AF_INET6 sockets do. */
static struct synack_endpoint sock_endpoint(const struct sock *so, const struct addr *addr,
                                            uint16_t port)
{
	struct synack_endpoint e = endpoint(addr, port);
	if (so->v4mapped && e.family == SYNACK_AF_INET) {
		e.family = SYNACK_AF_INET6;
		e.addr = 0;
		wire_addr6_to_bytes(addr, e.addr6);
	}
	return e;
}

/* The address of an endpoint the application gave: 0, or -EINVAL for a
 * family that does not exist.  An IPv4-mapped IPv6 address is the IPv4
 * address it maps (RFC 4291 2.5.5.2), as on a Linux dual-stack socket. */
static int endpoint_addr(const struct synack_endpoint *e, struct addr *out)
{
	switch (e->family) {
	case SYNACK_AF_INET:
		*out = addr_v4(e->addr);
		return 0;
	case SYNACK_AF_INET6:
		*out = wire_addr6_from_bytes(e->addr6);
		return 0;
	default:
		return -EINVAL;
	}
}

static int is_local_addr(const struct sock_layer *st, const struct addr *a)
{
	if (addr_is_any(a))
		return 1;
	/* Any of the stack's addresses of either family, and 127.0.0.0/8 as
	 * Linux's lo. */
	return route_is_ours(&st->tcp.net, a, 1);
}

/* The address a socket's connection or listener is keyed by: the one it
 * was bound to or chose, else the unspecified one of its family (a
 * listener then takes segments to every address of ours). */
static struct addr sock_laddr(const struct sock_layer *st, const struct sock *so)
{
	struct addr ours = local_addr(st, so->v6);
	return addr_is_any(&so->laddr) ? addr_any_like(&ours) : so->laddr;
}

/* ------------------------------------------------------------------ */
/* Local ports in use: counts per port in a linear-probing table, so   */
/* bind and the ephemeral port search never scan the sockets.          */

#define PORTS_MIN 64

static int port_used(const struct port_use *u)
{
	return (u->bound[0] | u->bound[1]) != 0;
}

static struct port_use *port_slot(const struct sock_layer *st, uint16_t port)
{
	/* Ports are not secret and the table holds at most 65536 keys, so a
	 * multiplicative hash spreads them well enough. */
	uint32_t i = ((uint32_t)port * 0x9e3779b1u >> 16) & st->ports_mask;
	while (port_used(&st->ports[i]) && st->ports[i].port != port)
		i = (i + 1) & st->ports_mask;
	return &st->ports[i];
}

static int ports_grow(struct sock_layer *st)
{
	uint32_t old_n = st->ports ? st->ports_mask + 1 : 0, n = old_n ? old_n * 2 : PORTS_MIN;
	struct port_use *old = st->ports, *t = calloc(n, sizeof(*t));
	if (!t)
		return -ENOMEM;
	st->ports = t;
	st->ports_mask = n - 1;
	for (uint32_t i = 0; i < old_n; i++)
		if (port_used(&old[i]))
			*port_slot(st, old[i].port) = old[i];
	free(old);
	return 0;
}

static int sock_blocks_port(const struct sock *so)
{
	return !so->reuseaddr || so->listening;
}

/*
 * The families whose segments a socket's port takes (issue 14), as Linux's
 * bind rules see them: bit 0 IPv4, bit 1 IPv6.  An IPv4 socket (an IPv6
 * one named by an IPv4-mapped address included) covers IPv4; an IPv6 one
 * IPv6; one bound to :: without IPV6_V6ONLY both, since it takes IPv4 as
 * ::ffff:a.b.c.d.  Sockets whose families do not meet share a port: an
 * IPv4 listener beside an IPV6_V6ONLY one (Linux allows it); a dual-stack
 * :: listener conflicts with 0.0.0.0 (-EADDRINUSE, as Linux).  Within a
 * family any two sockets on a port meet, whatever their addresses.
 */
static unsigned sock_covers(const struct sock *so)
{
	if (!so->v6)
		return 1;
	return so->bound_any && !so->v6only ? 3 : 2;
}

/* Counts so on its local port (it has just become bound).  Returns 0 or
 * -ENOMEM. */
static int port_ref(struct sock_layer *st, struct sock *so)
{
	struct port_use *u = st->ports ? port_slot(st, so->lport) : NULL;
	if (!u || !port_used(u)) {
		/* A new port: keep the table at most half full. */
		if ((!st->ports || (st->ports_used + 1) * 2 > st->ports_mask + 1) &&
		    ports_grow(st) < 0)
			return -ENOMEM;
		u = port_slot(st, so->lport);
		u->port = so->lport;
		st->ports_used++;
	}
	/* Kept, so that port_unref takes back what was counted. */
	so->port_cover = sock_covers(so) & 3u;
	for (int f = 0; f < 2; f++)
		if (so->port_cover & (1u << f)) {
			u->bound[f]++;
			u->blocking[f] += (uint32_t)sock_blocks_port(so);
		}
	return 0;
}

/* Takes so off its local port (before it is released or changes how it
 * shares the port). */
static void port_unref(struct sock_layer *st, const struct sock *so)
{
	struct port_use *u = port_slot(st, so->lport);
	if (!port_used(u))
		return;
	for (int f = 0; f < 2; f++)
		if (so->port_cover & (1u << f)) {
			u->blocking[f] -= (uint32_t)sock_blocks_port(so);
			u->bound[f]--;
		}
	if (port_used(u))
		return;
	/* Deleting from a linear-probing table: move later entries of the
	 * cluster back into the hole so that lookups still find them. */
	st->ports_used--;
	uint32_t hole = (uint32_t)(u - st->ports), i = hole;
	for (;;) {
		i = (i + 1) & st->ports_mask;
		if (!port_used(&st->ports[i]))
			break;
		uint32_t home = ((uint32_t)st->ports[i].port * 0x9e3779b1u >> 16) & st->ports_mask;
		/* The entry may fill the hole when its home is not inside
		 * (hole, i], cyclically. */
		if (((i - home) & st->ports_mask) >= ((i - hole) & st->ports_mask)) {
			st->ports[hole] = st->ports[i];
			hole = i;
		}
	}
	memset(&st->ports[hole], 0, sizeof(st->ports[hole]));
}

/* Whether self may not use port.  SO_REUSEADDR lets a new socket bind beside
 * connections that still use the port, but never beside a listener; only
 * sockets of a family self covers count (sock_covers).  self is never bound
 * when asking. */
static int port_taken(struct sock_layer *st, const struct sock *self, uint16_t port)
{
	if (!st->ports)
		return 0;
	const struct port_use *u = port_slot(st, port);
	unsigned cover = sock_covers(self);
	for (int f = 0; f < 2; f++)
		if ((cover & (1u << f)) && (self->reuseaddr ? u->blocking[f] : u->bound[f]) > 0)
			return 1;
	return 0;
}

int synack_bind(struct synack_stack *stack, int s, const struct synack_endpoint *local)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	int err;
	if (!local)
		return -EINVAL;
	struct addr laddr;
	if ((err = endpoint_addr(local, &laddr)) != 0)
		return err;
	if (so->bound || so->tcb)
		return -EINVAL;
	if (!is_local_addr(st, &laddr))
		return -EADDRNOTAVAIL;
	so->v6 = !addr_is_v4(&laddr);
	so->bound_any = addr_is_any(&laddr) != 0;
	if (local->port != 0 && port_taken(st, so, local->port))
		return -EADDRINUSE;
	so->lport = local->port;
	so->laddr = laddr;
	so->named = 1;
	/* Port 0: an ephemeral port is chosen at listen/connect. */
	if (local->port != 0) {
		if (port_ref(st, so) < 0)
			return -ENOMEM;
		so->bound = 1;
	}
	return 0;
}

/*
 * RFC 6056 algorithm 3: the ephemeral port search starts at an offset
 * given by a keyed hash of the remote endpoint, so ports are hard to guess
 * yet a local port is reused for a given peer only after the range cycles.
 */
static int pick_port(struct sock_layer *st, struct sock *so, const struct addr *raddr,
                     uint16_t rport)
{
	uint32_t lo = ENV(st)->cfg.ephemeral_port_min, hi = ENV(st)->cfg.ephemeral_port_max;
	uint32_t num = hi - lo + 1;
	struct addr ours = local_addr(st, so->v6), any = addr_any_like(&ours);
	uint32_t offset = sock_port_offset(st, raddr ? raddr : &any, rport);
	for (uint32_t i = 0; i < num; i++) {
		uint16_t port = (uint16_t)(lo + (offset + st->ephemeral_next + i) % num);
		if (port_taken(st, so, port))
			continue;
		if (raddr) {
			struct tuple t = {so->laddr, *raddr, port, rport};
			if (tcp_conn_exists(&st->tcp, &t))
				continue;
		} else {
			struct tuple t = {any, any, port, 0};
			if (tcp_listener_exists(&st->tcp, &t))
				continue;
		}
		so->named = 1;
		so->lport = port;
		if (port_ref(st, so) < 0)
			return -ENOMEM;
		st->ephemeral_next += i + 1;
		so->bound = 1;
		return 0;
	}
	return -EADDRNOTAVAIL;
}

/* The backlog is capped at somaxconn, as Linux does; a backlog of zero or
 * less still admits one connection. */
static uint32_t listen_backlog(const struct sock_layer *st, int backlog)
{
	uint32_t b = backlog < 1 ? 1 : (uint32_t)backlog;
	return b > ENV(st)->cfg.somaxconn ? ENV(st)->cfg.somaxconn : b;
}

int synack_listen(struct synack_stack *stack, int s, int backlog)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	struct tcb *l;
	int err;
	if (so->listening) {
		/* Like Linux: listen() again only changes the backlog. */
		tcp_set_backlog(so->tcb, listen_backlog(st, backlog));
		return 0;
	}
	if (so->tcb || so->connecting)
		return -EINVAL;
	if (!so->bound && (err = pick_port(st, so, NULL, 0)) != 0)
		return err;
	struct addr ours = local_addr(st, so->v6);
	struct tuple t = {sock_laddr(st, so), addr_any_like(&ours), so->lport, 0};
	/* A socket bound to :: without IPV6_V6ONLY listens on the unspecified
	 * address itself: IPv6 segments find it there after their own
	 * address, IPv4 segments after theirs (tcp_find_listener).  With
	 * IPV6_V6ONLY it listens on :: for IPv6 only, under the key
	 * tcp_find_listener asks only for IPv6 segments (::, 0.0.0.0). */
	if (so->v6 && so->bound_any && !so->v6only)
		t.laddr = t.raddr;
	else if (so->v6 && !net_has_addr6(&st->tcp.net))
		return -EADDRNOTAVAIL; /* no IPv6 address to listen on */
	else if (so->v6 && addr_is_any(&t.laddr))
		t.raddr = addr_v4(0);
	if (tcp_listener_exists(&st->tcp, &t))
		return -EADDRINUSE;
	struct tcp_user_cfg cfg = user_cfg(so);
	err = tcp_open_passive(&st->tcp, s, &t, listen_backlog(st, backlog), &cfg, &l);
	if (err)
		return err;
	so->tcb = l;
	port_unref(st, so);
	so->listening = 1;
	(void)port_ref(st, so); /* the slot was just freed: no allocation */
	return 0;
}

int synack_accept(struct synack_stack *stack, int s, struct synack_endpoint *peer)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	if (!so->listening)
		return -EINVAL;
	if (!tcp_acceptq_len(so->tcb))
		return -EAGAIN;
	int fd = synack_socket(stack);
	if (fd < 0)
		return fd;
	so = sock_get(st, s); /* the table may have moved */
	struct sock *ns = sock_get(st, fd);
	/* The socket-level options an accepted socket inherits (below) that
	 * live out of line come first: without memory for them the
	 * connection stays queued. */
	if (so->rare) {
		if (!so_rare(ns)) {
			sock_release(st, ns);
			return -ENOMEM;
		}
		ns->rare->linger = so->rare->linger;
		ns->rare->rcvlowat = so->rare->rcvlowat;
		ns->rare->notsent_lowat = so->rare->notsent_lowat;
	}
	struct tcb *c = tcp_acceptq_head(so->tcb);
	const struct tuple *t = tcp_tuple(c);
	struct tcp_user_cfg cfg = tcp_user_cfg_of(c);
	ns->tcb = c;
	ns->connecting = 1;
	ns->named = 1; /* t->laddr: the address of ours the SYN came to */
	ns->laddr = t->laddr;
	ns->lport = t->lport;
	/* The socket-level options an accepted socket inherits, as Linux's
	 * clone of the listener does (sk_clone_lock copies the whole socket):
	 * SO_REUSEADDR, so that a restarted server can bind its port while
	 * the old connections live, and SO_LINGER.  What TCP holds (buffer
	 * sizes, TCP_MAXSEG, TCP_NODELAY, keepalive, TCP_USER_TIMEOUT) the
	 * connection took from its listener when the SYN came (cfg below). */
	ns->reuseaddr = so->reuseaddr;
	ns->inq = so->inq;
	/* The port's slot exists (the listener holds it), so this cannot fail. */
	(void)port_ref(st, ns);
	ns->bound = 1;
	ns->v6 = !addr_is_v4(&t->laddr);
	ns->v4mapped = so->v6 && !ns->v6;
	ns->raddr = t->raddr;
	ns->rport = t->rport;
	ns->rcvbuf = (int)cfg.rcvbuf;
	ns->sndbuf = (int)cfg.sndbuf;
	ns->buf_locks = cfg.buf_locks;
	ns->opts = cfg.opts;
	ns->maxseg = (uint16_t)cfg.mss;
	if (peer)
		*peer = sock_endpoint(ns, &ns->raddr, ns->rport);
	/* Last, since it may end c: one reset while it waited leaves the
	 * socket its data and -ECONNRESET, as Linux's accept() does. */
	tcp_accept(c, fd);
	/* The child may already have data, a FIN, or both. */
	sock_notify(st, fd);
	sock_notify(st, s);
	return fd;
}

int synack_connect(struct synack_stack *stack, int s, const struct synack_endpoint *peer)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	struct tcb *tcb;
	int err;
	if (!peer)
		return -EINVAL;
	struct addr raddr;
	if ((err = endpoint_addr(peer, &raddr)) != 0)
		return err;
	if (peer->port == 0 || addr_is_any(&raddr))
		return -EINVAL;
	if (so->listening)
		return -EINVAL;
	if (so->tcb) {
		int state = tcp_state_of(so->tcb);
		return state == SYNACK_SYN_SENT || state == SYNACK_SYN_RECEIVED ? -EALREADY
		                                                                : -EISCONN;
	}
	if (so->connecting)
		return -EISCONN; /* a finished connection cannot be reused */
	/* RFC 1122 4.2.3.10: an OPEN to a broadcast or multicast address is
	 * an error.  Linux's tcp_v4_connect refuses a route flagged broadcast
	 * or multicast with -ENETUNREACH, after the socket's own state was
	 * checked, and so one with no route at all; so do we.  A connected
	 * prefix's directed broadcast is one too (route.h).  The source is
	 * the one bound, else the route's (RFC 1122 3.3.4.3). */
	int v6 = !addr_is_v4(&raddr);
	/* IPv6 (issue 14): no multicast peer either (RFC 4291 2.7), and none
	 * at all without an address of our own to send from (Linux finds no
	 * route).  A socket named in one family stays in it.  The IPv6
	 * source is RFC 6724's choice among our addresses (route.h). */
	if (v6 && (!net_addr6_is_unicast(&raddr) || !net_has_addr6(&st->tcp.net)))
		return -ENETUNREACH;
	if (so->named && so->v6 != v6)
		return -EAFNOSUPPORT;
	struct addr hop, src, bound = so->laddr;
	unsigned was_v6 = so->v6;
	int route = route_lookup(&st->tcp.net, &raddr, &hop, &src, NULL);
	if (route != ROUTE_VIA && route != ROUTE_LOCAL)
		return -ENETUNREACH;
	if (!addr_is_any(&so->laddr))
		src = so->laddr;
	so->v6 = (unsigned)v6;
	so->laddr = src; /* pick_port's 4-tuple */
	struct tuple t = {src, raddr, so->lport, peer->port};
	if (!so->bound && (err = pick_port(st, so, &raddr, peer->port)) != 0)
		goto fail;
	t.lport = so->lport;
	err = -EADDRINUSE;
	if (tcp_conn_exists(&st->tcp, &t))
		goto fail;
	struct tcp_user_cfg cfg = user_cfg(so);
	err = tcp_open_active(&st->tcp, s, &t, &cfg, &tcb);
	if (err)
		goto fail;
	so->tcb = tcb;
	if (so->delack)
		tcp_set_quickack(tcb, 0); /* TCP_QUICKACK 0 set before connect */
	so->connecting = 1;
	so->raddr = raddr;
	so->rport = peer->port;
	/* TCP_FASTOPEN_CONNECT with a cookie: the SYN waits for the first
	 * send, and connect() succeeds at once, as on Linux. */
	return tcp_fastopen_deferred(tcb) ? 0 : -EINPROGRESS;
fail:
	so->laddr = bound;
	so->v6 = was_v6;
	return err;
}

/* The error to report once, then clear (like SO_ERROR on a socket call). */
static int take_error(struct sock *so)
{
	int e = so->error;
	so->error = 0;
	return e;
}

#define SEND_FLAGS (SYNACK_MSG_DONTWAIT | SYNACK_MSG_MORE | SYNACK_MSG_NOSIGNAL)
#define RECV_FLAGS (SYNACK_MSG_PEEK | SYNACK_MSG_DONTWAIT | SYNACK_MSG_WAITALL)

/* The pieces of a vectored call: 0 and their total in *total (capped at
 * INT32_MAX, which no buffer reaches), or -EMSGSIZE, -EINVAL. */
static int iov_check(const struct synack_iovec *iov, int iovcnt, uint32_t *total)
{
	size_t sum = 0;
	if (iovcnt < 0 || iovcnt > SYNACK_IOV_MAX)
		return -EMSGSIZE;
	if (!iov && iovcnt > 0)
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].base && iov[i].len)
			return -EINVAL;
		if (iov[i].len > (SIZE_MAX >> 1) - sum)
			return -EINVAL; /* Linux's import_iovec */
		sum += iov[i].len;
	}
	*total = sum > INT32_MAX ? INT32_MAX : (uint32_t)sum;
	return 0;
}

/* The socket's state for sending: 0 when it may queue data, else the
 * error send() returns. */
static int send_check(struct sock *so)
{
	if (so->error)
		return take_error(so);
	if (so->listening)
		return -ENOTCONN;
	if (so->wr_shut)
		return -EPIPE;
	if (!so->tcb)
		return so->connecting ? -EPIPE : -ENOTCONN;
	switch (tcp_state_of(so->tcb)) {
	case SYNACK_SYN_SENT:
	case SYNACK_SYN_RECEIVED:
		/* RFC 9293 3.10.2: queued, sent once ESTABLISHED. */
	case SYNACK_ESTABLISHED:
	case SYNACK_CLOSE_WAIT:
		return 0;
	default:
		return -EPIPE;
	}
}

ssize_t synack_send(struct synack_stack *stack, int s, const void *buf, size_t len)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	if (!buf && len)
		return -EINVAL;
	int err = send_check(so);
	if (err)
		return err;
	if (len > INT32_MAX)
		len = INT32_MAX;
	return tcp_send(so->tcb, buf, (uint32_t)len);
}

ssize_t synack_sendv(struct synack_stack *stack, int s, const struct synack_iovec *iov, int iovcnt,
                     int flags)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	uint32_t total, done = 0;
	if (flags & ~SEND_FLAGS)
		return -EOPNOTSUPP;
	int err = iov_check(iov, iovcnt, &total);
	if (err)
		return err;
	if ((err = send_check(so)) != 0)
		return err;
	for (int i = 0; i < iovcnt && done < total; i++) {
		uint32_t want = iov[i].len > total - done ? total - done : (uint32_t)iov[i].len;
		if (want == 0)
			continue; /* base may be NULL */
		uint32_t n = tcp_send_queue(so->tcb, iov[i].base, want);
		done += n;
		if (n < want)
			break; /* the buffer is full */
	}
	if (done == 0)
		return total ? -EAGAIN : 0;
	tcp_send_push(so->tcb, flags & SYNACK_MSG_MORE);
	return done;
}

/* Copies up to max bytes of r from offset off into the pieces; returns
 * how many. */
static uint32_t ring_copy_iov(const struct ring *r, const struct tcb *t, uint32_t off,
                              const struct synack_iovec *iov, int iovcnt, uint32_t max)
{
	uint32_t done = 0;
	for (int i = 0; i < iovcnt && done < max; i++) {
		uint32_t n = iov[i].len > max - done ? max - done : (uint32_t)iov[i].len;
		if (n == 0)
			continue; /* base may be NULL */
		/* A connection's unread bytes may be held by reference too
		 * (tcp_unread_peek). */
		if (t)
			tcp_unread_peek(t, off + done, iov[i].base, n);
		else
			ring_peek(r, off + done, iov[i].base, n);
		done += n;
	}
	return done;
}

/* RECEIVE into the pieces (total bytes at most), from the connection or
 * from what the socket kept after it ended.  SO_PEEK_OFF moves the start
 * of a peek, and follows what is read (Linux's sk_peek_offset_fwd/bwd). */
static ssize_t receive_iov(struct sock_layer *st, struct sock *so, const struct synack_iovec *iov,
                           int iovcnt, uint32_t total, int flags)
{
	int peek = flags & SYNACK_MSG_PEEK;
	const struct ring *r;
	const struct tcb *t = NULL;
	uint32_t len;
	/* Data comes before a pending error, the error before the end; but
	 * after the peer's FIN a read sees only the end, and the error (a
	 * RST in CLOSE_WAIT: -EPIPE) waits for send() or SO_ERROR, as
	 * Linux's tcp_recvmsg tests SOCK_DONE before sk_err.  Data lost
	 * for want of memory (-ENOMEM) is told all the same. */
	if (so->tcb && (tcp_unread(so->tcb) || !so->error)) {
		r = tcp_unread_ring(so->tcb);
		t = so->tcb;
		len = tcp_unread(t);
	} else if (so_left(so) && so_left(so)->len) {
		r = so_left(so);
		len = r->len;
	} else if (so->error &&
	           (so->error == -ENOMEM || !(so->tcb ? tcp_fin_received(so->tcb) : so->eof))) {
		return take_error(so);
	} else {
		return 0; /* the connection ended; everything was read */
	}
	int peek_off = so_peek_off(so);
	uint32_t off = peek && peek_off > 0 ? (uint32_t)peek_off : 0;
	if (len <= off || total == 0) {
		if (total == 0)
			return 0;
		return so->tcb ? tcp_receive_none(so->tcb) : 0;
	}
	uint32_t n = ring_copy_iov(r, t, off, iov, iovcnt, total < len - off ? total : len - off);
	/* SO_PEEK_OFF on (peek_off >= 0) means so->rare exists. */
	if (peek) {
		if (peek_off >= 0)
			so->rare->peek_off += (int)n;
		return n;
	}
	if (peek_off >= 0)
		so->rare->peek_off = peek_off > (int)n ? peek_off - (int)n : 0;
	if (so->tcb) {
		tcp_receive_consume(so->tcb, n);
	} else {
		ring_consume_pool(so_left(so), &st->tcp.buf_pool, n);
		if (!r->len)
			sock_left_free(st, so);
	}
	return n;
}

/* What recv() checks before reading: 0, or its error. */
static int recv_check(const struct sock *so)
{
	if (so->listening)
		return -ENOTCONN;
	if (!so->tcb && !so->connecting)
		return -ENOTCONN;
	return 0;
}

ssize_t synack_recv(struct synack_stack *stack, int s, void *buf, size_t len, int flags)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	if (!buf && len)
		return -EINVAL;
	if (flags & ~RECV_FLAGS)
		return -EOPNOTSUPP;
	int err = recv_check(so);
	if (err)
		return err;
	if (so->rd_shut)
		return 0;
	struct synack_iovec one = {buf, len};
	return receive_iov(st, so, &one, 1, len > INT32_MAX ? INT32_MAX : (uint32_t)len, flags);
}

ssize_t synack_recvv(struct synack_stack *stack, int s, const struct synack_iovec *iov, int iovcnt,
                     int flags)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	uint32_t total;
	if (flags & ~RECV_FLAGS)
		return -EOPNOTSUPP;
	int err = iov_check(iov, iovcnt, &total);
	if (err)
		return err;
	if ((err = recv_check(so)) != 0)
		return err;
	if (so->rd_shut)
		return 0;
	return receive_iov(st, so, iov, iovcnt, total, flags);
}

int synack_ioctl(struct synack_stack *stack, int s, unsigned long request, int *value)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	if (request != SYNACK_SIOCINQ && request != SYNACK_SIOCOUTQ &&
	    request != SYNACK_SIOCOUTQNSD)
		return -ENOTTY; /* Linux: an ioctl the socket does not know */
	if (!value || so->listening)
		return -EINVAL;
	*value = 0;
	if (request == SYNACK_SIOCINQ) {
		/* Linux's tcp_inq: 0 during the handshake; what stays
		 * readable after the end counts too. */
		if (so->tcb)
			*value = (int)tcp_unread(so->tcb);
		else if (so_left(so))
			*value = (int)so_left(so)->len;
		return 0;
	}
	if (!so->tcb || tcp_state_of(so->tcb) == SYNACK_SYN_SENT ||
	    tcp_state_of(so->tcb) == SYNACK_SYN_RECEIVED)
		return 0;
	*value = (int)(request == SYNACK_SIOCOUTQ ? tcp_unacked_bytes(so->tcb)
	                                          : tcp_notsent_bytes(so->tcb));
	return 0;
}

int synack_shutdown(struct synack_stack *stack, int s, int how)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	if (how != SYNACK_SHUT_RD && how != SYNACK_SHUT_WR && how != SYNACK_SHUT_RDWR)
		return -EINVAL;
	if (so->listening || !so->tcb)
		return -ENOTCONN;
	if (how != SYNACK_SHUT_WR) {
		so->rd_shut = 1;
		tcp_receive_discard(so->tcb);
	}
	if (how != SYNACK_SHUT_RD && !so->wr_shut) {
		so->wr_shut = 1;
		tcp_close(so->tcb, SYNACK_CAUSE_APP_SHUTDOWN);
	}
	sock_notify(st, s);
	return 0;
}

int synack_close(struct synack_stack *stack, int s)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	struct tcb *tcb = so->tcb;
	unsigned how = (so_linger(so) == 0 ? TCP_CLOSE_LINGER_ZERO : 0) |
	               (so->rd_shut ? TCP_CLOSE_READ_SHUT : 0);
	/* The socket goes first, so that what TCP does next tells it nothing;
	 * TCP's CLOSE decides how the connection ends. */
	so->tcb = NULL;
	sock_release(st, so);
	if (tcb)
		tcp_close_handle(tcb, how);
	return 0;
}

int synack_socket_error(struct synack_stack *stack, int s)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	return take_error(so);
}

int synack_getsockname(struct synack_stack *stack, int s, struct synack_endpoint *local)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	if (!local)
		return -EINVAL;
	struct addr ours = local_addr(st, so->v6), any = addr_any_like(&ours);
	/* A socket named without an address of its own shows the stack's
	 * first of its family, as it always has. */
	if (so->named && !addr_is_any(&so->laddr))
		ours = so->laddr;
	*local = sock_endpoint(so, so->named ? &ours : &any, so->lport);
	return 0;
}

int synack_getpeername(struct synack_stack *stack, int s, struct synack_endpoint *peer)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	if (!peer)
		return -EINVAL;
	if (!so->connecting || so->listening)
		return -ENOTCONN;
	*peer = sock_endpoint(so, &so->raddr, so->rport);
	return 0;
}

/* The options a connection carries; Linux's ranges (times in ms here). */
static int set_tcp_opt(struct tcp_opts *o, int opt, int value)
{
	switch (opt) {
	case SYNACK_TCP_NODELAY:
	case SYNACK_SO_KEEPALIVE:
		if (value != 0 && value != 1)
			return -EINVAL;
		if (opt == SYNACK_TCP_NODELAY)
			o->nodelay = (uint8_t)value;
		else
			o->keepalive = (uint8_t)value;
		return 0;
	case SYNACK_TCP_KEEPIDLE:
	case SYNACK_TCP_KEEPINTVL:
		if (value < 1)
			return -EINVAL;
		if (opt == SYNACK_TCP_KEEPIDLE)
			o->ka_idle_ms = (uint32_t)value;
		else
			o->ka_intvl_ms = (uint32_t)value;
		return 0;
	case SYNACK_TCP_KEEPCNT:
		if (value < 1 || value > 127)
			return -EINVAL;
		o->ka_cnt = (uint8_t)value;
		return 0;
	default: /* SYNACK_TCP_USER_TIMEOUT */
		if (value < 0)
			return -EINVAL;
		o->user_timeout_ms = (uint32_t)value;
		return 0;
	}
}

/* The options of issue 17 item 11, as Linux takes them. */
static int set_call_opt(struct sock_layer *st, struct sock *so, int opt, int value)
{
	switch (opt) {
	case SYNACK_SO_RCVLOWAT:
		if (value < 0)
			return -EINVAL;
		if (!so_rare(so))
			return -ENOMEM;
		so->rare->rcvlowat = value ? value : 1; /* Linux: 0 is 1 */
		so->opts.lowat = value > 1;
		if (so->tcb)
			tcp_set_lowat(so->tcb, so->opts.lowat);
		break;
	case SYNACK_TCP_NOTSENT_LOWAT:
		if (!so_rare(so))
			return -ENOMEM;
		so->rare->notsent_lowat = value;
		break;
	case SYNACK_SO_PEEK_OFF:
		if (!so_rare(so))
			return -ENOMEM;
		so->rare->peek_off = value < 0 ? -1 : value;
		return 0;
	case SYNACK_TCP_CORK:
		so->opts.cork = value != 0; /* Linux: any non-zero corks */
		if (so->tcb)
			tcp_set_cork(so->tcb, so->opts.cork);
		break;
	case SYNACK_TCP_QUICKACK:
		so->delack = value == 0;
		if (so->tcb)
			tcp_set_quickack(so->tcb, value != 0);
		return 0;
	case SYNACK_TCP_INQ:
		if (value != 0 && value != 1)
			return -EINVAL;
		so->inq = value == 1;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
	/* Readiness may have changed. */
	if (so->tcb)
		sock_notify(st, so->fd);
	return 0;
}

int synack_setsockopt(struct synack_stack *stack, int s, int opt, int value)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	int err;
	switch (opt) {
	case SYNACK_SO_LINGER:
		if (value < -1)
			return -EINVAL;
		if (!so_rare(so))
			return -ENOMEM;
		so->rare->linger = value;
		return 0;
	case SYNACK_SO_RCVBUF:
	case SYNACK_SO_SNDBUF: {
		if (value < 1 || value > (1 << 30))
			return -EINVAL;
		if (so->tcb && (opt == SYNACK_SO_RCVBUF ? tcp_set_rcvbuf : tcp_set_sndbuf)(
		                   so->tcb, (uint32_t)value) != 0)
			return -EINVAL; /* smaller than what it holds now */
		/* What the connection took (a receive buffer at most what
		 * its window scale expresses), which getsockopt reads. */
		if (so->tcb)
			value = (int)tcp_buf_size(so->tcb, opt == SYNACK_SO_RCVBUF);
		if (opt == SYNACK_SO_RCVBUF)
			so->rcvbuf = value;
		else
			so->sndbuf = value;
		/* As on Linux, a size the application chose is kept:
		 * autotuning leaves this buffer alone from now on. */
		so->buf_locks |= opt == SYNACK_SO_RCVBUF ? TCP_LOCK_RCVBUF : TCP_LOCK_SNDBUF;
		if (so->tcb)
			sock_notify(st, s);
		return 0;
	}
	case SYNACK_SO_REUSEADDR:
		if (value != 0 && value != 1)
			return -EINVAL;
		if (so->bound)
			port_unref(st, so);
		so->reuseaddr = value;
		if (so->bound)
			(void)port_ref(st, so); /* its slot was just freed */
		return 0;
	case SYNACK_TCP_NODELAY:
	case SYNACK_SO_KEEPALIVE:
	case SYNACK_TCP_KEEPIDLE:
	case SYNACK_TCP_KEEPINTVL:
	case SYNACK_TCP_KEEPCNT:
	case SYNACK_TCP_USER_TIMEOUT:
		err = set_tcp_opt(&so->opts, opt, value);
		if (err)
			return err;
		if (so->tcb)
			tcp_set_opts(so->tcb, &so->opts, opt == SYNACK_TCP_NODELAY);
		return 0;
	case SYNACK_TCP_MAXSEG: {
		uint32_t max = default_mss(st);
		if (value < 88 || (uint32_t)value > max)
			return -EINVAL; /* RFC 9293 leaves room; Linux uses 88 */
		/* On a listener it applies to the connections it makes from
		 * now on, whose SYN-ACK announces it (as Linux); a connection
		 * announced its MSS already. */
		if (so->tcb && !so->listening)
			return -EISCONN;
		so->maxseg = value;
		if (so->tcb)
			tcp_set_maxseg(so->tcb, (uint32_t)value);
		return 0;
	}
	case SYNACK_SO_ERROR:
		return -ENOPROTOOPT;
	case SYNACK_TCP_CONGESTION:
		return -EINVAL; /* a name: synack_setsockopt_str */
	case SYNACK_IPV6_V6ONLY:
		/* Decided by listen() (or connect()): too late after. */
		if (value != 0 && value != 1)
			return -EINVAL;
		/* Linux: not after bind() either (its port's families,
		 * sock_covers, were decided). */
		if (so->tcb || so->listening || so->connecting || so->bound)
			return -EINVAL;
		so->v6only = (unsigned)value;
		return 0;
	case SYNACK_TCP_FASTOPEN:
		/* RFC 7413, as Linux: before listen() or on a listener. */
		if (value < 0 || (so->tcb && !so->listening))
			return -EINVAL;
		if (!so_rare(so))
			return -ENOMEM;
		so->rare->fastopen_qlen = (uint32_t)value;
		if (so->listening)
			tcp_fastopen_set_qlen(so->tcb, (uint32_t)value);
		return 0;
	case SYNACK_TCP_FASTOPEN_CONNECT:
		if (value != 0 && value != 1)
			return -EINVAL;
		if (!(ENV(st)->cfg.fastopen & SYNACK_FASTOPEN_CLIENT))
			return -EOPNOTSUPP; /* as Linux without the client bit */
		if (so->tcb || so->connecting)
			return -EINVAL;
		so->fastopen_connect = (uint8_t)value;
		return 0;
	default:
		return set_call_opt(st, so, opt, value);
	}
}

int synack_getsockopt(struct synack_stack *stack, int s, int opt, int *value)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	if (!value)
		return -EINVAL;
	switch (opt) {
	case SYNACK_SO_LINGER:
		*value = so_linger(so);
		return 0;
	case SYNACK_SO_RCVBUF:
	case SYNACK_SO_SNDBUF:
		/* What the connection's buffer holds now, as Linux reads
		 * sk_rcvbuf/sk_sndbuf: autotuning may have grown it past the
		 * size the socket started with. */
		if (so->tcb)
			*value = (int)tcp_buf_size(so->tcb, opt == SYNACK_SO_RCVBUF);
		else
			*value = opt == SYNACK_SO_RCVBUF ? so->rcvbuf : so->sndbuf;
		return 0;
	case SYNACK_SO_REUSEADDR:
		*value = so->reuseaddr;
		return 0;
	case SYNACK_TCP_NODELAY:
		*value = so->opts.nodelay;
		return 0;
	case SYNACK_SO_KEEPALIVE:
		*value = so->opts.keepalive;
		return 0;
	case SYNACK_TCP_KEEPIDLE:
		*value = (int)so->opts.ka_idle_ms;
		return 0;
	case SYNACK_TCP_KEEPINTVL:
		*value = (int)so->opts.ka_intvl_ms;
		return 0;
	case SYNACK_TCP_KEEPCNT:
		*value = so->opts.ka_cnt;
		return 0;
	case SYNACK_TCP_USER_TIMEOUT:
		*value = (int)so->opts.user_timeout_ms;
		return 0;
	case SYNACK_TCP_MAXSEG:
		*value = so->tcb && tcp_state_of(so->tcb) != SYNACK_LISTEN
		             ? (int)tcp_snd_mss(so->tcb)
		             : so->maxseg;
		return 0;
	case SYNACK_SO_ERROR:
		*value = take_error(so);
		return 0;
	case SYNACK_TCP_CONGESTION:
		return -EINVAL; /* a name: synack_getsockopt_str */
	case SYNACK_SO_RCVLOWAT:
		*value = so_rcvlowat(so);
		return 0;
	case SYNACK_TCP_NOTSENT_LOWAT:
		*value = so_notsent_lowat(so);
		return 0;
	case SYNACK_SO_PEEK_OFF:
		*value = so_peek_off(so);
		return 0;
	case SYNACK_TCP_CORK:
		*value = so->opts.cork;
		return 0;
	case SYNACK_TCP_QUICKACK:
		*value = so->tcb ? tcp_quickack_on(so->tcb) : !so->delack;
		return 0;
	case SYNACK_TCP_INQ:
		*value = so->inq;
		return 0;
	case SYNACK_IPV6_V6ONLY:
		*value = so->v6only;
		return 0;
	case SYNACK_TCP_FASTOPEN:
		*value = (int)so_fastopen_qlen(so);
		return 0;
	case SYNACK_TCP_FASTOPEN_CONNECT:
		*value = so->fastopen_connect;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int synack_setsockopt_str(struct synack_stack *stack, int s, int opt, const char *value)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	if (opt != SYNACK_TCP_CONGESTION)
		return -ENOPROTOOPT;
	if (!value)
		return -EINVAL;
	/* Linux's TCP_CONGESTION: the name is resolved here, once. */
	int algo = tcp_cc_lookup(value);
	if (algo < 0)
		return -ENOENT;
	so->opts.cc_algo = (uint8_t)(algo + 1);
	if (so->tcb)
		tcp_set_congestion(so->tcb, (uint8_t)algo);
	return 0;
}

int synack_getsockopt_str(struct synack_stack *stack, int s, int opt, char *buf, size_t len)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	if (opt != SYNACK_TCP_CONGESTION)
		return -ENOPROTOOPT;
	if (!buf || len == 0)
		return -EINVAL;
	if (so->tcb) {
		/* What the connection runs (or will, before the handshake). */
		struct synack_tcp_info info;
		memset(&info, 0, sizeof(info));
		tcp_cc_info(so->tcb, &info);
		snprintf(buf, len, "%s", info.congestion);
		return 0;
	}
	uint8_t algo = so->opts.cc_algo ? (uint8_t)(so->opts.cc_algo - 1) : st->tcp.cc_default;
	snprintf(buf, len, "%s", tcp_cc_name(algo));
	return 0;
}

/* SO_RCVLOWAT as readiness counts it: at most half the receive buffer
 * (Linux caps it so), so that it can always be met. */
static uint32_t rcv_lowat(const struct sock *so)
{
	uint32_t half = tcp_buf_size(so->tcb, 1) / 2;
	uint32_t want = (uint32_t)so_rcvlowat(so);
	if (want > half)
		want = half ? half : 1;
	return want;
}

uint32_t synack_events(struct synack_stack *stack, int s)
{
	struct sock_layer *st = sock_layer_of(stack);
	struct sock *so = sock_get(st, s);
	uint32_t e = 0;
	if (!so)
		return SYNACK_POLLERR;
	if (so->error)
		e |= SYNACK_POLLERR;
	if (so->listening) {
		if (tcp_acceptq_len(so->tcb))
			e |= SYNACK_POLLIN;
		return e;
	}
	if (!so->tcb) {
		if (so->connecting) {
			/* The connection is over: readable (data or EOF), and
			 * writable in the sense that a write no longer blocks
			 * (it fails), as Linux reports it. */
			e |= SYNACK_POLLIN | SYNACK_POLLRDHUP | SYNACK_POLLHUP | SYNACK_POLLOUT;
		} else {
			/* Never connected: Linux reports POLLOUT | POLLHUP. */
			e |= SYNACK_POLLOUT | SYNACK_POLLHUP;
		}
		return e;
	}
	const struct tcb *t = so->tcb;
	uint32_t unread = tcp_unread(t);
	if ((unread && (so_rcvlowat(so) <= 1 || unread >= rcv_lowat(so))) || tcp_fin_received(t) ||
	    so->rd_shut)
		e |= SYNACK_POLLIN;
	if (tcp_fin_received(t))
		e |= SYNACK_POLLRDHUP;
	/* After shutdown(SHUT_WR) a write fails at once, so it is reported
	 * writable, as Linux does. */
	if (so->wr_shut ||
	    ((tcp_state_of(t) == SYNACK_ESTABLISHED || tcp_state_of(t) == SYNACK_CLOSE_WAIT ||
	      tcp_fastopen_writable(t)) &&
	     tcp_send_space(t) &&
	     (so_notsent_lowat(so) <= 0 || tcp_notsent_bytes(t) < (uint32_t)so_notsent_lowat(so))))
		e |= SYNACK_POLLOUT;
	if (tcp_fin_received(t) && so->wr_shut)
		e |= SYNACK_POLLHUP;
	return e;
}

int synack_tcp_info(struct synack_stack *stack, int s, struct synack_tcp_info *info)
{
	struct sock_layer *st = sock_layer_of(stack);
	SOCK_LOOKUP(so, st, s);
	if (!info)
		return -EINVAL;
	if (so->tcb) {
		tcp_status(so->tcb, info);
		return 0;
	}
	/* The connection may live on as a TIME_WAIT record. */
	struct addr ours = local_addr(st, so->v6);
	if (!addr_is_any(&so->laddr))
		ours = so->laddr;
	struct tuple k = {so->named ? ours : addr_any_like(&ours), so->raddr, so->lport, so->rport};
	tcp_status_gone(&st->tcp, so->connecting ? &k : NULL, info);
	info->recv_queue = so_left(so) ? so_left(so)->len : 0;
	return 0;
}

/* Listing connections, as `ss` does: TCP's tables hold them all. */
size_t synack_conns(struct synack_stack *stack, synack_conn_fn fn, void *ctx)
{
	struct sock_layer *st = sock_layer_of(stack);
	return st ? tcp_conns(&st->tcp, fn, ctx) : 0;
}
