/*
 * libsynack-preload (issue 15): what the parts of the drop-in share.
 *
 * preload.c holds the state (one stack, its I/O thread, the table of
 * descriptors that are synack sockets) and the socket calls; wait.c the
 * calls that wait on several descriptors (poll, select, epoll); env.c the
 * configuration from the environment.  docs/PRELOAD.md describes the whole.
 */
#ifndef SYNACK_PRELOAD_H
#define SYNACK_PRELOAD_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "net.h"
#include "synack/run.h"
#include "synack/synack.h"

/* The libc functions the drop-in calls past itself (dlsym RTLD_NEXT). */
struct preload_real {
	int (*socket)(int, int, int);
	int (*close)(int);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *,
	               const sigset_t *);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_wait)(int, struct epoll_event *, int, int);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *,
	                    const sigset_t *);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*shutdown)(int, int);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execv)(const char *, char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	void (*(*signal)(int, void (*)(int)))(int);
};
extern struct preload_real preload_real;
void preload_resolve(void);

/* One synack socket, shared by the descriptors that dup() made of it. */
struct psock;
struct pwait;

/* Configuration from the environment (env.c). */
struct preload_conf {
	struct net_opts net;
	int debug;                /* SYNACK_DEBUG */
	uint64_t exit_timeout_ms; /* SYNACK_EXIT_TIMEOUT_MS */
};
extern struct preload_conf preload_conf;
/* Reads the SYNACK_* variables into preload_conf; on a bad one prints a
 * sentence naming it and exits with status 2. */
void preload_env_load(void);

/* The lock: every call into the stack holds it. */
void preload_lock(void);
void preload_unlock(void);
/* The socket behind descriptor fd, or NULL (no lock needed to ask). */
struct psock *preload_sock(int fd);
/* With the lock held: its readiness (SYNACK_POLL* bits). */
uint32_t preload_events(struct psock *sk);
/* With the lock held: keeps sk alive across a sleep (a close by another
 * thread frees it only at the release). */
void preload_hold(struct psock *sk);
void preload_release(struct psock *sk);
/* With the lock held: 1 when this process drives the stack (claiming it
 * after a fork when it may), 0 when it gave it away. */
int preload_owned(void);
/* With the lock held, when preload_owned() said 0: says once per process
 * on stderr that another process drives the stack; returns -EPERM. */
int preload_lost(void);
/* The size of the descriptor table. */
size_t preload_fdcap(void);

/*
 * Waiting (wait.c).  A thread that sleeps hangs a node on each socket it
 * waits for; a change of readiness writes its eventfd.  With the lock
 * held: hangs the nodes, unlocks, sleeps in ppoll over kfds (may be NULL)
 * and the thread's eventfd, locks again and takes the nodes off.
 * timeout_ms < 0: no limit.  Returns what ppoll returned for kfds (0 when
 * only a change of a socket woke it), or -errno (-EINTR).
 */
int preload_sleep(struct psock **socks, size_t n, struct pollfd *kfds, nfds_t nk, int timeout_ms,
                  const sigset_t *mask);
/* With the lock held: sk's readiness may have changed: wake its sleepers
 * and epoll sets. */
void preload_wake_sock(struct psock *sk);
/* With the lock held: forget sk in every epoll set (it is being freed). */
void preload_epoll_forget_sock(struct psock *sk);
/* With the lock held: descriptor fd was closed; if it was an epoll set
 * holding synack sockets, forget it. */
void preload_epoll_closed(int fd);
/* Whether fd is an epoll set holding synack sockets (no lock needed). */
int preload_epoll_known(int fd);
/* The socket's epoll registrations (a list wait.c keeps). */
struct preg;
struct preg **preload_sock_regs(struct psock *sk);
struct pwnode **preload_sock_waiters(struct psock *sk);

/* A note on stderr when SYNACK_DEBUG is set, once per distinct key. */
void preload_debug_once(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Buffers that fault (fault.c): how many leading bytes of [p, p + len) the
 * program may read (and write, when writing); len when all of them, else
 * the offset of the first page it may not.  A system call; no lock needed.
 */
size_t preload_probe_at(uintptr_t p, size_t len, int writing);
/* (An address, not a pointer: probing reads nothing, even where the
 * program's buffer is declared write-only, as poll's and epoll's are.) */
#define preload_probe(p, len, writing) preload_probe_at((uintptr_t)(p), len, writing)
/* Whether the len bytes at p may be read (written, when writing). */
#define preload_mem_ok(p, len, writing)                                                            \
	(preload_probe_at((uintptr_t)(p), len, writing) == (size_t)(len))
/* The guard (fault.c): the SIGSEGV/SIGBUS handler the kernel holds once
 * the stack starts; preload_guard_ready() after it is installed. */
void preload_guard(int sig, siginfo_t *si, void *uc);
void preload_guard_ready(void);
/* What the program asked for sig (its handler, ignoring or the default
 * action), from a signal handler: the guard passes on a fault not its
 * own (preload.c). */
void preload_sig_chain(int sig, siginfo_t *si, void *uc);
/* Whether the stack was opened (a synack socket was ever made). */
int preload_started(void);

/* Milliseconds left until deadline (CLOCK_MONOTONIC, ms), -1 for none. */
int64_t preload_now_ms(void);

#endif
