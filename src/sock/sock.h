/* Sockets: the descriptor table between the BSD-style API and TCBs. */
#ifndef SYNACK_SOCK_H
#define SYNACK_SOCK_H

#include <stdint.h>

#include "core/ring.h"
#include "core/slab.h"
#include "tcp/tcp.h"

/* Socket options few applications set, out of line (issue 16 item 4: the
 * socket of an idle endpoint stays a 112-byte malloc chunk): allocated
 * with their defaults by the first setsockopt of one of them (or at
 * accept, from the listener's), freed with the socket. */
struct sock_rare {
	int linger;             /* SO_LINGER: -1 off, else seconds */
	int rcvlowat;           /* SO_RCVLOWAT, at least 1 */
	int notsent_lowat;      /* TCP_NOTSENT_LOWAT, <= 0: none */
	int peek_off;           /* SO_PEEK_OFF, -1: off */
	uint32_t fastopen_qlen; /* TCP_FASTOPEN's queue length, given to the listener */
	/* Unread data kept after the connection ended (allocated then, and
	 * only if there is some; freed once read).  Here, not in the socket
	 * (branch memory2): few connections end with data unread, and the
	 * socket came to 88 bytes, a 96-byte malloc chunk instead of 112. */
	struct ring *left;
};

struct sock {
	int fd;
	int rcvbuf, sndbuf;
	int16_t error;     /* pending SO_ERROR, a negative errno (above -32768) */
	uint16_t maxseg;   /* TCP_MAXSEG: at most the MTU less 40, which is below 65536 */
	uint8_t buf_locks; /* TCP_LOCK_*: SO_RCVBUF, SO_SNDBUF set (no autotuning) */
	/* TCP_FASTOPEN_CONNECT (RFC 7413), given to the connection; here,
	 * in what was padding, to keep the socket small (issue 16 item 4). */
	uint8_t fastopen_connect;
	/* Sixteen flags: two bytes beside the two above. */
	unsigned bound : 1;
	unsigned listening : 1;
	unsigned connecting : 1; /* connect() called */
	unsigned wr_shut : 1, rd_shut : 1;
	unsigned eof : 1; /* detached: the peer's FIN had arrived */
	unsigned reuseaddr : 1;
	unsigned named : 1;      /* the local address is set (see lport) */
	unsigned v6 : 1;         /* IPv6 (issue 14): bound to, or connected over, IPv6 */
	unsigned v6only : 1;     /* IPV6_V6ONLY */
	unsigned bound_any : 1;  /* bound to the unspecified address (0.0.0.0, ::) */
	unsigned v4mapped : 1;   /* IPv4, accepted by a dual-stack listener: shown ::ffff:a.b.c.d */
	unsigned port_cover : 2; /* the families its port is counted for (sock.c's sock_covers) */
	/* Socket calls (issue 17 item 11), among the flags to keep the
	 * socket small (issue 16 item 4). */
	unsigned inq : 1;    /* TCP_INQ */
	unsigned delack : 1; /* TCP_QUICKACK 0 before a connection: it starts in pingpong */
	/* The local address is the stack's once named (by bind, listen,
	 * connect or accept; 0 before); ports and the peer's address here
	 * (the ports beside the flags, where they fill what was padding). */
	uint16_t lport, rport;
	struct tcb *tcb; /* NULL before connect/listen and after the connection ended */
	struct addr raddr;
	/* The local address bind() named or connect() chose (route.h's
	 * source selection); unspecified (all zero, or 0.0.0.0) for all of
	 * the stack's addresses. */
	struct addr laddr;
	struct tcp_opts opts; /* given to the connection when it exists */
	/* SO_LINGER and the socket calls of issue 17 item 11 (SO_RCVLOWAT,
	 * TCP_NOTSENT_LOWAT, SO_PEEK_OFF, TCP_FASTOPEN's queue length) and
	 * the unread data left after the connection: NULL while they all
	 * have their defaults. */
	struct sock_rare *rare;
};
_Static_assert(sizeof(struct sock) <= 88, "struct sock fits a 96-byte malloc chunk");

/* How many bound sockets use a local port, and how many of them refuse to
 * share it (no SO_REUSEADDR, or listening), for each family ([0] IPv4,
 * [1] IPv6; a dual-stack socket on :: counts in both, issue 14). */
struct port_use {
	uint32_t bound[2], blocking[2];
	uint16_t port;
};

/*
 * The socket layer's state in a stack: the descriptor table, the readiness
 * queue, the local ports in use and the RFC 6056 port selection.  It
 * begins with TCP's state (env.h says why); the stack object, src/stack,
 * begins with this.
 */
struct sock_layer {
	struct tcp_layer tcp;
	uint8_t key_port[16]; /* RFC 6056's secret (derived from cfg.secret) */
	struct slab sock_slab;

	/* Sockets: a table indexed by descriptor with a free list. */
	struct sock **socks;
	int *free_fds; /* a stack of unused descriptors */
	int nsocks, nfree;

	/* Readiness queue: sockets whose readiness may have changed. */
	int *evq;
	/* evq_mark[fd]: fd is in evq.  Kept per descriptor, not per socket,
	 * so that a socket closed while queued and a new one given its
	 * descriptor share the one entry instead of queueing it twice (an
	 * application that never drains would grow the queue forever). */
	uint8_t *evq_mark;
	size_t evq_head, evq_len, evq_cap;

	/* Local ports bound by sockets: an open-addressing table so that
	 * finding whether a port is taken is O(1). */
	struct port_use *ports;
	uint32_t ports_mask, ports_used;

	uint32_t ephemeral_next; /* RFC 6056 algorithm 3 counter */
	/* RFC 6056 offsets of recent peers (sock_port_offset), direct-mapped
	 * by the peer; a slot is valid when its `ok` is set. */
	struct port_memo {
		struct addr addr;
		uint32_t offset;
		uint16_t port, ok;
	} port_memo[8];
};
_Static_assert(offsetof(struct sock_layer, tcp) == 0, "a layer begins with the one below (env.h)");

/* The socket layer of a stack object, which begins with it (src/stack
 * asserts this); NULL for NULL.  The public calls of sock.c take the stack
 * object, whose definition lies above this layer. */
static inline struct sock_layer *sock_layer_of(struct synack_stack *st)
{
	return (struct sock_layer *)(void *)st;
}
static inline const struct sock_layer *sock_layer_of_const(const struct synack_stack *st)
{
	return (const struct sock_layer *)(const void *)st;
}

/* Sets up the layer and tells TCP where its news goes; 0 or -ENOMEM. */
int sock_layer_init(struct sock_layer *sl);
/* Frees every socket and the tables (stack teardown, before TCP's). */
void sock_layer_fini(struct sock_layer *sl);
/* What the sockets hold (the sockets field, their unread data in buffers,
 * the table and queue in other, the cache in cached), and their unread
 * bytes. */
void sock_memory(const struct sock_layer *sl, struct synack_mem *out);
uint64_t sock_bytes_buffered(const struct sock_layer *sl);

/* The socket fd names, or NULL (inline: every call and every readiness
 * report looks one up). */
static inline struct sock *sock_get(struct sock_layer *st, int fd)
{
	if (!st || fd < 0 || fd >= st->nsocks)
		return NULL;
	return st->socks[fd];
}
/* Queues fd for synack_event_next (its readiness may have changed). */
void sock_notify(struct sock_layer *st, int fd);

#endif
