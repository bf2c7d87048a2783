/* Sockets: the descriptor table between the BSD-style API and TCBs. */
#ifndef SYNACK_SOCK_H
#define SYNACK_SOCK_H

#include <stdint.h>

#include "core/ring.h"
#include "core/stack.h"
#include "tcp/tcp.h"

struct sock {
	int fd;
	int error;  /* pending SO_ERROR, a negative errno */
	int linger; /* -1 off, else seconds */
	int rcvbuf, sndbuf;
	uint16_t maxseg; /* TCP_MAXSEG: at most the MTU less 40, which is below 65536 */
	unsigned bound : 1;
	unsigned listening : 1;
	unsigned connecting : 1; /* connect() called */
	unsigned wr_shut : 1, rd_shut : 1;
	unsigned eof : 1; /* detached: the peer's FIN had arrived */
	unsigned reuseaddr : 1;
	unsigned named : 1; /* the local address is set (see lport) */
	struct tcb *tcb;    /* NULL before connect/listen and after the connection ended */
	/* The local address is the stack's once named (by bind, listen,
	 * connect or accept; 0 before); ports and the peer's address here. */
	uint16_t lport, rport;
	struct addr raddr;
	struct tcp_opts opts; /* given to the connection when it exists */
	/* Unread data kept after the connection ended (allocated then, and only
	 * if there is some; freed once read). */
	struct ring *rcv_left;
};

struct sock *sock_get(struct synack_stack *st, int fd);
/* The TCB of fd is going away (err: 0, or what the application is told):
 * TCP's STACK_SOCK_DETACH event, which the stack hands here.  The socket
 * keeps unread data and the error. */
void sock_detach(struct synack_stack *st, int fd, int err);
/* Frees every socket (stack teardown). */
void sock_table_free(struct synack_stack *st);

#endif
