/* Sockets: the descriptor table between the BSD-style API and TCBs. */
#ifndef SYNACK_SOCK_H
#define SYNACK_SOCK_H

#include <stdint.h>

#include "core/ring.h"
#include "core/stack.h"
#include "tcp/tcp.h"

struct sock {
	int fd;
	uint8_t bound;
	uint8_t listening;
	uint8_t connecting; /* connect() called */
	uint8_t wr_shut, rd_shut;
	uint8_t eof;     /* detached: the peer's FIN had arrived */
	struct tcb *tcb; /* NULL before connect/listen and after the connection ended */
	struct synack_endpoint local, remote;
	int error;  /* pending SO_ERROR, a negative errno */
	int linger; /* -1 off, else seconds */
	int rcvbuf, sndbuf, reuseaddr, maxseg;
	struct tcp_opts opts; /* given to the connection when it exists */
	struct ring rcv_left; /* unread data kept after the connection ended */
};

struct sock *sock_get(struct synack_stack *st, int fd);
/* The TCB of fd is going away (err: 0, or what the application is told).
 * The socket keeps unread data and the error. */
void sock_detach(struct synack_stack *st, int fd, int err);
/* Frees every socket (stack teardown). */
void sock_table_free(struct synack_stack *st);

#endif
