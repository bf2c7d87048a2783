/*
 * synack run loop: one stack and one link on real time.
 *
 * The loop owns the clock (CLOCK_MONOTONIC, in microseconds, continuing
 * from the stack's own time) and an epoll set holding the link's device,
 * an eventfd to wake it, optionally a signalfd, and any descriptors of the
 * caller's.  Each turn (synack_run_once) it hands what the stack queued to
 * the link, sleeps until a datagram arrives or the earliest deadline
 * (synack_next_deadline(), the link's ARP retries and delayed datagrams,
 * the caller's timeout), feeds what arrived to the stack, runs the timers
 * and sends again.
 *
 * Event-driven programs call synack_run_once() in their own loop and read
 * synack_event_next() after each turn.  Programs written in blocking style
 * use the helpers at the end (synack_run_connect, _accept, _send_all,
 * _recv, _close; _send and _recv_flags with MSG_ flags; _poll over many
 * sockets), which turn the loop until their sockets are ready.  All
 * functions return 0 (or a size, or a socket) or a negative errno.
 *
 * A complete client, as in examples/echo_client.c:
 *
 *     struct synack_link_config lc;
 *     synack_link_config_default(&lc);
 *     lc.addr = 0x0a070002;                        // 10.7.0.2/24
 *     struct synack_link *link;
 *     char err[200];
 *     if (synack_link_open(&link, SYNACK_LINK_TAP, "tap0", &lc, err, sizeof(err)) < 0)
 *             return fprintf(stderr, "%s\n", err), 2;
 *     struct synack_config cfg;
 *     synack_config_default(&cfg);
 *     cfg.addr = lc.addr;
 *     cfg.mtu = synack_link_mtu(link);
 *     getrandom(cfg.secret, sizeof(cfg.secret), 0);
 *     struct synack_stack *st = synack_stack_new(&cfg, NULL);
 *     struct synack_run *r = synack_run_new(st, link, NULL);
 *
 *     struct synack_endpoint peer = {0x0a070001, 7};
 *     int s = synack_run_connect(r, &peer, 5000);   // -ECONNREFUSED, -ETIMEDOUT ...
 *     synack_run_send_all(r, s, "hello\n", 6, 5000);
 *     char buf[64];
 *     ssize_t n = synack_run_recv(r, s, buf, sizeof(buf), 5000);
 *     synack_run_close(r, s, 5000);                 // FIN, until CLOSED or TIME_WAIT
 *
 *     synack_run_free(r); synack_stack_free(st); synack_link_close(link);
 */
#ifndef SYNACK_RUN_H
#define SYNACK_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "synack/link.h"
#include "synack/synack.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#pragma GCC visibility push(default) /* the API; the rest of libsynack is hidden */
#endif

struct synack_run;

/*
 * A loop for st and link (neither is owned).  The clock starts at
 * synack_now(st), so a fresh stack sees time 0 at this call.  Returns NULL
 * and sets *error (when not NULL) on failure: -EINVAL (st or link NULL),
 * -ENOMEM, or the negated errno of epoll_create1(2), eventfd(2) or
 * epoll_ctl(2) (-EMFILE, -ENFILE, -EPERM for a descriptor epoll refuses ...).
 */
struct synack_run *synack_run_new(struct synack_stack *st, struct synack_link *link, int *error);
/* Frees the loop (not the stack or the link); restores blocked signals. */
void synack_run_free(struct synack_run *r);

/* The stack the loop was made for. */
struct synack_stack *synack_run_stack(const struct synack_run *r);
/* The link the loop was made for. */
struct synack_link *synack_run_link(const struct synack_run *r);
/* The loop's clock now, in microseconds (the time the stack is given). */
uint64_t synack_run_now(const struct synack_run *r);

/*
 * One turn of the loop: send what is queued, sleep until input, a
 * deadline, a descriptor of the caller's, a signal or a wake, but at most
 * timeout_us (0: do not sleep; SYNACK_NEVER: no limit), then process what
 * came and send again.  Returns 0; -EINTR when a watched signal arrived or
 * synack_run_wake() was called during the turn; -EINVAL for a NULL r; when
 * the device failed, what synack_link_recv() returned (-EPIPE, -EIO ...) or
 * the negated errno of epoll_pwait2(2).
 */
int synack_run_once(struct synack_run *r, uint64_t timeout_us);
/* Sends what the stack has queued, now (the turns do it too). */
void synack_run_flush(struct synack_run *r);

/*
 * Watches the caller's descriptor: fn(ctx, fd, events) runs at the end of
 * a turn in which epoll reported events (EPOLLIN, EPOLLOUT ...) for it.
 * It may call into the stack freely.  Returns 0, -EEXIST when fd is watched
 * already, -EINVAL (r or fn NULL, fd < 0), -ENOMEM, or the negated errno of
 * epoll_ctl(2) (-EPERM for a regular file, -EBADF ...).
 */
typedef void (*synack_run_fd_fn)(void *ctx, int fd, uint32_t events);
int synack_run_add_fd(struct synack_run *r, int fd, uint32_t events, synack_run_fd_fn fn,
                      void *ctx);
/* Stops watching fd.  Returns 0, -ENOENT (not watched), -EINVAL (r NULL). */
int synack_run_del_fd(struct synack_run *r, int fd);

/* The most signal numbers one synack_run_watch_signals() call takes. */
#define SYNACK_RUN_MAX_SIGNALS 64

/*
 * Takes over the n signals numbered in signals[] (SIGINT, SIGTERM ...):
 * they are blocked and read from a signalfd, so they interrupt the loop
 * (the turn and any blocking helper return -EINTR) instead of a handler.
 * Signal numbers, not a sigset_t, so that this header needs no POSIX
 * type.  A signal the process inherited as ignored (shells start
 * background jobs with SIGINT ignored) is set back to its default
 * disposition, or it could never be read; blocked, the default action
 * never runs.  Calls add to the signals already watched; n 0 changes
 * nothing.  synack_run_free() restores both.  Returns 0, -EINVAL (r NULL,
 * signals NULL with n > 0, n > SYNACK_RUN_MAX_SIGNALS, or a number that
 * is not a signal or cannot be caught: SIGKILL, SIGSTOP), or the negated
 * errno of sigprocmask(2), signalfd(2) or epoll_ctl(2).
 */
int synack_run_watch_signals(struct synack_run *r, const int *signals, size_t n);
/* The oldest signal received and not yet taken, or 0. */
int synack_run_take_signal(struct synack_run *r);
/* Interrupts the loop from anywhere, a signal handler or another thread
 * included (async-signal-safe): the current or next turn returns -EINTR. */
void synack_run_wake(struct synack_run *r);

/* ------------------------------------------------------------------ */
/* Blocking style.  timeout_ms < 0 waits forever.  Each returns -EINTR  */
/* when a watched signal or a wake interrupts it (the signal stays to   */
/* be taken) and -EAGAIN when the timeout passes, except where noted.   */

/* Turns the loop until synack_events(s) has one of events; returns them (all
 * of synack_events(), a positive value), -EAGAIN, -EINTR, -EINVAL (r NULL),
 * or an error of synack_run_once(). */
int synack_run_wait(struct synack_run *r, int s, uint32_t events, int timeout_ms);
/*
 * Opens a connection to peer: returns the connected socket, or
 * -ENETUNREACH (peer not on the link's prefix), -ECONNREFUSED, -ETIMEDOUT
 * (the SYN retries ran out, or timeout_ms passed: the attempt is aborted),
 * -EHOSTUNREACH ...: the pending error of the socket (synack/synack.h) or
 * -ECONNRESET when the attempt ended without one; -EINTR, -EINVAL (r or peer
 * NULL, or an address synack_connect() refuses), what synack_socket() and
 * synack_connect() return (-EMFILE, -EADDRNOTAVAIL, -ENOMEM ...) or an error
 * of synack_run_once().  The socket is released on failure.
 */
int synack_run_connect(struct synack_run *r, const struct synack_endpoint *peer, int timeout_ms);
/* A socket listening on port at every address of the stack (bound to
 * 0.0.0.0, or to :: when the stack has an IPv6 address: IPv4 peers then
 * come as ::ffff:a.b.c.d) with the given backlog, or what synack_socket(),
 * synack_bind() and synack_listen() return (-EADDRINUSE, -EMFILE, -ENOMEM
 * ...), -EINVAL (r NULL). */
int synack_run_listen(struct synack_run *r, uint16_t port, int backlog);
/* Waits for a connection on listener; returns the new socket, what
 * synack_accept() returns other than -EAGAIN (-EBADF, -EINVAL ...), -EAGAIN
 * (timeout), -EINTR, or an error of synack_run_once(). */
int synack_run_accept(struct synack_run *r, int listener, struct synack_endpoint *peer,
                      int timeout_ms);
/* Sends all len bytes; returns len, or the error that stopped it (the
 * bytes already queued stay queued): what synack_send() returns (-EPIPE, the
 * pending error ...), -EAGAIN (timeout), -EINTR, -EINVAL (r NULL, or buf NULL
 * with len > 0), or an error of synack_run_once(). */
ssize_t synack_run_send_all(struct synack_run *r, int s, const void *buf, size_t len,
                            int timeout_ms);
/* Waits for data: returns 1..len bytes, 0 at the end of the stream, what
 * synack_recv() returns (the pending error, -ENOTCONN ...), -EAGAIN
 * (timeout), -EINTR, -EINVAL, or an error of synack_run_once(). */
ssize_t synack_run_recv(struct synack_run *r, int s, void *buf, size_t len, int timeout_ms);
/*
 * Closes s gracefully (the queued data, then a FIN) and turns the loop
 * until the connection is CLOSED or in TIME_WAIT.  Returns 0, -EAGAIN
 * when timeout_ms passed first (the connection goes on in the stack),
 * -EINTR, what synack_close() returns (-EBADF ...), -EINVAL (r NULL), or an
 * error of synack_run_once().  Unread data makes the close an abort (RST),
 * as with close(2).
 */
int synack_run_close(struct synack_run *r, int s, int timeout_ms);
/*
 * recv(2) on a blocking socket: flags as synack_recv() takes them.  Waits
 * until min(len, SO_RCVLOWAT) bytes are unread (with SYNACK_MSG_WAITALL:
 * len bytes, copying as they come), the end of the stream or an error,
 * then reads.  SYNACK_MSG_DONTWAIT reads once without waiting, after one
 * turn that does not sleep takes in what reached the device (-EAGAIN when
 * nothing is there).  With MSG_PEEK | MSG_WAITALL it waits until len
 * bytes are unread, then peeks.  Returns the bytes read (fewer than asked
 * with WAITALL only at the end, an error, a signal or the timeout, which
 * are then left for the next call: as Linux, bytes read win), 0 at the
 * end of the stream, or what synack_run_recv() returns (-EOPNOTSUPP for
 * a flag synack_recv() refuses, before any wait).  synack_run_recv() is
 * this with flags 0, so it follows SO_RCVLOWAT too.
 */
ssize_t synack_run_recv_flags(struct synack_run *r, int s, void *buf, size_t len, int flags,
                              int timeout_ms);
/*
 * send(2) on a blocking socket: flags as synack_sendv() takes them.
 * Queues all len bytes, waiting for room, as synack_run_send_all();
 * SYNACK_MSG_DONTWAIT queues what fits at once (-EAGAIN when nothing
 * does).  SYNACK_MSG_MORE holds a partial last segment.  Returns the
 * bytes queued (fewer than len after the timeout, a signal or an error
 * once some were queued, as Linux), or what synack_run_send_all() returns.
 */
ssize_t synack_run_send(struct synack_run *r, int s, const void *buf, size_t len, int flags,
                        int timeout_ms);

/* One socket of a synack_run_poll(): socket < 0 is skipped (revents 0). */
struct synack_pollfd {
	int socket;
	uint32_t events;  /* SYNACK_POLLIN, SYNACK_POLLOUT, SYNACK_POLLRDHUP */
	uint32_t revents; /* set: those of events that hold, and always ERR, HUP, NVAL */
};
/*
 * poll(2) over n sockets of the loop's stack: turns the loop until one of
 * them is ready or timeout_ms passes (0: look once; < 0: no limit).
 * SYNACK_POLLERR and SYNACK_POLLHUP are reported whether asked for or
 * not, SYNACK_POLLNVAL for a number that is no open socket.  Returns how
 * many entries have revents set, 0 when the timeout passed (poll's
 * answer, not -EAGAIN), -EINTR, -EINVAL (r NULL, fds NULL with n > 0, n
 * above SYNACK_RUN_POLL_MAX), or an error of synack_run_once().
 */
#define SYNACK_RUN_POLL_MAX 1048576
int synack_run_poll(struct synack_run *r, struct synack_pollfd *fds, size_t n, int timeout_ms);

/*
 * The state of the connection local <-> remote as synack_conns() lists it,
 * or SYNACK_CLOSED when the stack holds no such connection; -EINVAL when an
 * argument is NULL.
 */
int synack_run_conn_state(struct synack_run *r, const struct synack_endpoint *local,
                          const struct synack_endpoint *remote);

/* ------------------------------------------------------------------ */
/* One stack per core (issue 16 item 3).                              */
/*
 * N stacks that share nothing, each with its own loop on its own queue of
 * a multi-queue device (synack_link_open_queues in synack/link.h), each
 * loop turned by its own thread: the kernel spreads the flows over the
 * queues by their hash, so each thread serves whole connections with no
 * lock in the stack.  The pattern (tools/serve.c --threads N is one):
 *
 *     struct synack_link *links[N];
 *     synack_link_open_queues(links, N, SYNACK_LINK_TAP, "tap0", &lc, err, sizeof(err));
 *     for (i = 0; i < N; i++) {           // the same addr, its own secret
 *             st[i] = synack_stack_new(&cfg, NULL);
 *             runs[i] = synack_run_new(st[i], links[i], NULL);
 *     }
 *     struct synack_run_group *g;
 *     synack_run_group_start(&g, runs, N, serve_one, ctx);
 *     ... sigwait() for SIGINT; synack_run_group_stop(g);
 *     synack_run_group_join(g, results);
 *
 * where serve_one(ctx, i, r) listens on r's stack and turns r until
 * synack_run_group_stops(g) grows (its turn returns -EINTR then).  Signals
 * stay with the caller's thread: the group's threads block them all.
 */
struct synack_run_group;
#define SYNACK_RUN_GROUP_MAX 256 /* threads in a group (one per queue) */
/* A thread's work: returns its result (synack_run_group_join). */
typedef int (*synack_run_group_fn)(void *ctx, unsigned index, struct synack_run *r);
/*
 * Starts n threads, thread i calling fn(ctx, i, runs[i]): from then on
 * runs[i] and its stack belong to that thread (read them from elsewhere
 * with synack_run_group_call).  *out is set before the threads start, so
 * fn may read it through ctx.  Returns 0 and sets *out, -EINVAL (out,
 * runs or fn NULL, a NULL or repeated loop, n outside
 * 1..SYNACK_RUN_GROUP_MAX), -ENOMEM, or the negated errno of eventfd(2)
 * or pthread_create(3) (the threads started are stopped and joined).
 */
int synack_run_group_start(struct synack_run_group **out, struct synack_run *const *runs,
                           unsigned n, synack_run_group_fn fn, void *ctx);
/* Asks every thread to stop: the stop count grows and every loop is woken
 * (its turn returns -EINTR).  Async-signal-safe. */
void synack_run_group_stop(struct synack_run_group *g);
/* How many times synack_run_group_stop() was called (0 for a NULL g): a
 * thread compares it after each turn with what it has seen. */
unsigned synack_run_group_stops(const struct synack_run_group *g);
/* The threads whose fn has not returned yet. */
unsigned synack_run_group_running(const struct synack_run_group *g);
/* The number of threads. */
unsigned synack_run_group_size(const struct synack_run_group *g);
/* A descriptor readable (EPOLLIN) each time a thread's fn returns, for the
 * caller's poll; -1 for a NULL g.  Owned by the group. */
int synack_run_group_fd(const struct synack_run_group *g);
/*
 * Runs fn(ctx, r) with thread index's loop, on that thread at the end of
 * one of its turns (any synack_run_once, the blocking helpers' included),
 * and waits for it: the way to read or change a stack from another thread
 * (counters, the connection list).  After that thread's fn returned, fn
 * runs on the caller's thread.  Calls are taken one at a time.  Returns 0,
 * or -EINVAL (g or fn NULL, index out of range).  Never from one of the
 * group's threads (it would wait for itself).
 */
int synack_run_group_call(struct synack_run_group *g, unsigned index,
                          void (*fn)(void *ctx, struct synack_run *r), void *ctx);
/* Waits for every thread to return, stores fn's results in results[0..n-1]
 * (when not NULL) and frees g (not the loops, stacks or links). */
void synack_run_group_join(struct synack_run_group *g, int *results);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
