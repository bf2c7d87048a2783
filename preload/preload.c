/*
 * libsynack-preload (issue 15 items 1-3): unmodified programs on synack.
 *
 * LD_PRELOAD=libsynack-preload.so PROGRAM puts this library's socket calls
 * in front of libc's.  A TCP socket the program makes (AF_INET or
 * AF_INET6, SOCK_STREAM) becomes a synack socket; every other descriptor
 * goes to libc untouched.
 *
 * The pieces:
 *  - One stack on one TAP or TUN device (the SYNACK_* variables, env.c),
 *    opened at the program's first TCP socket, so that a shell or any
 *    program that never makes one does not hold the device.
 *  - One I/O thread drives it: each turn it runs synack_run_once() without
 *    sleeping (input, timers, output), reports the sockets whose readiness
 *    changed, sets a timerfd to the stack's next deadline, then sleeps in
 *    ppoll(2) on the device, the timerfd and a wake eventfd, without the
 *    lock.
 *  - A lock serialises the I/O thread and the program's threads.  A call
 *    takes it, calls the stack, sends what the call queued (the device
 *    write happens in the caller's thread) and, when the call made a
 *    deadline earlier than the timer's, sets the timer sooner: the I/O
 *    thread is not woken for it.
 *  - Each synack socket is backed by an eventfd, so the program holds a
 *    real descriptor number (dup, fcntl, FD_CLOEXEC, close-on-exec, fd
 *    limits all as the kernel keeps them).  The eventfd is readable while
 *    the socket is readable, at its end, or in error (what select(2)
 *    calls readable); O_NONBLOCK is kept by the kernel on it, so fcntl and
 *    FIONBIO pass through.  An eventfd is always writable, so the calls
 *    that wait on descriptors (poll, ppoll, select, pselect, epoll) are
 *    intercepted too and ask the stack for a synack socket's readiness
 *    (wait.c): see docs/PRELOAD.md.
 *  - A call that blocks sleeps in ppoll(2) on a per-thread eventfd that a
 *    change of the socket's readiness writes (so a signal interrupts it
 *    with EINTR), bounded by SO_RCVTIMEO / SO_SNDTIMEO.
 *
 * Errors are those Linux gives for the same call on a kernel TCP socket;
 * the stack already answers with Linux's errno values (synack/synack.h).
 */
#define _GNU_SOURCE
#include "preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <semaphore.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

extern char **environ;

struct preload_real preload_real;
#define R preload_real

/* One synack socket. */
struct psock {
	int id;              /* the stack's socket number */
	int refs;            /* descriptors naming it (dup) */
	int inflight;        /* calls under way (a blocked recv holds it, as a file ref) */
	int family;          /* AF_INET or AF_INET6: how addresses are written */
	int mirror_fd;       /* a descriptor of the eventfd, to set its readability */
	int mirror_on;       /* the eventfd's counter is not 0 */
	int64_t rcvtimeo_ms; /* SO_RCVTIMEO, 0 none */
	int64_t sndtimeo_ms; /* SO_SNDTIMEO */
	struct timeval rcvtv, sndtv;
	/* Options Linux keeps that mean nothing here: read back as set. */
	int reuseport, broadcast, oobinline, priority, tos, defer_accept, window_clamp;
	int bound_any;          /* bound to 0.0.0.0 or :: (or never bound): see getsockname */
	int nonblock;           /* O_NONBLOCK of the eventfd (kept up by fcntl, FIONBIO) */
	struct preg *regs;      /* epoll registrations (wait.c) */
	struct pwnode *waiters; /* threads sleeping on it (wait.c) */
};

/* The state.  fdtab and byid change under the lock; fdtab is read without
 * it to tell a synack descriptor from any other (that answer cannot change
 * under a correct program: only closing fd makes fd stop being ours). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(struct psock *) *fdtab;
static size_t fdcap;
static struct psock **byid;
static size_t byid_cap;
static struct net_env env;
static int started;  /* the stack is up (under mu) */
static int detached; /* the stack was finished (exit, exec): nothing drives it */
static pthread_t io_thread;
static int io_wake = -1;  /* eventfd: the I/O thread looks again (stop, fork) */
static int io_timer = -1; /* timerfd: the stack's next deadline */
static _Atomic uint64_t io_until = SYNACK_NEVER; /* what io_timer is set to */
static atomic_int io_stop;
/* Fork: the process that owns the stack, shared with the children (see
 * docs/PRELOAD.md). */
static _Atomic pid_t *owner;
static pid_t my_pid, parent_pid;
/* Bit n-1: signal n has a handler installed without SA_RESTART that the
 * trampoline does not run (set past the preload's sigaction). */
static _Atomic uint64_t norestart;
/* Bit n-1: a handler of signal n ran in this thread (the trampoline),
 * since the thread last cleared it before sleeping. */
static _Thread_local volatile uint64_t caught __attribute__((tls_model("initial-exec")));

/* ------------------------------------------------------------------ */
/* libc underneath                                                     */

#define RESOLVE(name)                                                                              \
	do {                                                                                       \
		if (!R.name)                                                                       \
			*(void **)&R.name = dlsym(RTLD_NEXT, #name);                               \
	} while (0)

void preload_resolve(void)
{
	RESOLVE(socket);
	RESOLVE(close);
	RESOLVE(read);
	RESOLVE(write);
	RESOLVE(poll);
	RESOLVE(ppoll);
	RESOLVE(select);
	RESOLVE(pselect);
	RESOLVE(epoll_ctl);
	RESOLVE(epoll_wait);
	RESOLVE(epoll_pwait);
	RESOLVE(dup);
	RESOLVE(dup2);
	RESOLVE(dup3);
	RESOLVE(fcntl);
	RESOLVE(ioctl);
	RESOLVE(readv);
	RESOLVE(writev);
	RESOLVE(recv);
	RESOLVE(recvfrom);
	RESOLVE(recvmsg);
	RESOLVE(send);
	RESOLVE(sendto);
	RESOLVE(sendmsg);
	RESOLVE(sendfile);
	RESOLVE(bind);
	RESOLVE(listen);
	RESOLVE(accept);
	RESOLVE(accept4);
	RESOLVE(connect);
	RESOLVE(shutdown);
	RESOLVE(getsockname);
	RESOLVE(getpeername);
	RESOLVE(getsockopt);
	RESOLVE(setsockopt);
	RESOLVE(execve);
	RESOLVE(execv);
	RESOLVE(execvp);
	RESOLVE(execvpe);
	RESOLVE(fexecve);
	RESOLVE(sigaction);
	RESOLVE(signal);
}

/* A call can arrive before the constructor ran (another library's). */
#define REAL(name) (R.name ? R.name : (preload_resolve(), R.name))

static int fail(int err)
{
	errno = err;
	return -1;
}

static ssize_t result(ssize_t rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

int64_t preload_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void preload_debug_once(const char *key, const char *fmt, ...)
{
	static char seen[64][48];
	static int nseen;
	static pthread_mutex_t dmu = PTHREAD_MUTEX_INITIALIZER;
	if (!preload_conf.debug)
		return;
	pthread_mutex_lock(&dmu);
	for (int i = 0; i < nseen; i++)
		if (strncmp(seen[i], key, sizeof(seen[i]) - 1) == 0) {
			pthread_mutex_unlock(&dmu);
			return;
		}
	if (nseen < 64)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", key);
	pthread_mutex_unlock(&dmu);
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "libsynack-preload: %s\n", line);
}

/* ------------------------------------------------------------------ */
/* The lock and the I/O thread                                          */

void preload_lock(void)
{
	pthread_mutex_lock(&mu);
}

/* With the lock held: the I/O thread's timer goes off at stack time d
 * (SYNACK_NEVER: not at all).  A deadline the stack left in place after
 * passing it gets its next chance a millisecond later (as run/loop.c). */
static void arm(uint64_t d)
{
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (d != SYNACK_NEVER) {
		uint64_t now = synack_run_now(env.run);
		uint64_t wait = d > now ? d - now : 1000;
		struct timespec mono;
		clock_gettime(CLOCK_MONOTONIC, &mono);
		uint64_t ns = (uint64_t)mono.tv_nsec + wait * 1000;
		its.it_value.tv_sec = mono.tv_sec + (time_t)(ns / 1000000000);
		its.it_value.tv_nsec = (long)(ns % 1000000000);
	}
	timerfd_settime(io_timer, TFD_TIMER_ABSTIME, &its, NULL);
	atomic_store(&io_until, d);
}

static uint64_t next_deadline(void)
{
	uint64_t d = synack_next_deadline(env.st);
	uint64_t l = synack_link_next_deadline(env.link);
	return l < d ? l : d;
}

/* Sends what the calls queued and, when they made a deadline earlier than
 * the I/O thread's timer, sets the timer sooner: a system call, but no
 * wake-up of the I/O thread until the time comes (or a datagram). */
void preload_unlock(void)
{
	if (started && !detached && atomic_load(owner) == my_pid) {
		synack_run_flush(env.run);
		uint64_t d = next_deadline();
		if (d < atomic_load(&io_until))
			arm(d);
	}
	pthread_mutex_unlock(&mu);
}

struct psock *preload_sock(int fd)
{
	if (fd < 0 || (size_t)fd >= fdcap || !fdtab)
		return NULL;
	return atomic_load_explicit(&fdtab[fd], memory_order_acquire);
}

uint32_t preload_events(struct psock *sk)
{
	return synack_events(env.st, sk->id);
}

struct preg **preload_sock_regs(struct psock *sk)
{
	return &sk->regs;
}

struct pwnode **preload_sock_waiters(struct psock *sk)
{
	return &sk->waiters;
}

/* The eventfd's readability follows the socket's (POLLIN, end, error). */
static void mirror(struct psock *sk, uint32_t ev)
{
	int on = (ev & (SYNACK_POLLIN | SYNACK_POLLHUP | SYNACK_POLLERR)) != 0;
	if (on == sk->mirror_on)
		return;
	uint64_t v = 1;
	ssize_t n = on ? REAL(write)(sk->mirror_fd, &v, sizeof(v))
	               : REAL(read)(sk->mirror_fd, &v, sizeof(v));
	if (n == (ssize_t)sizeof(v))
		sk->mirror_on = on;
}

/* With the lock held: sk may have changed; mirror it, wake its waiters. */
static void changed(struct psock *sk)
{
	mirror(sk, preload_events(sk));
	preload_wake_sock(sk);
}

static sem_t io_started; /* posted by the I/O thread when it runs io_main */

static void *io_main(void *arg)
{
	(void)arg;
	sem_post(&io_started);
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	int linkfd = synack_link_fd(env.link);
	for (;;) {
		pthread_mutex_lock(&mu);
		if (atomic_load(&io_stop) || detached || atomic_load(owner) != my_pid) {
			pthread_mutex_unlock(&mu);
			break;
		}
		int rc = synack_run_once(env.run, 0);
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "libsynack-preload: the device %s failed: %s\n",
			        preload_conf.net.dev, synack_strerror(rc));
			pthread_mutex_unlock(&mu);
			break;
		}
		uint64_t d = next_deadline();
		if (d != atomic_load(&io_until) || d <= synack_run_now(env.run))
			arm(d);
		/* The sleepers last, just before the lock is let go: a woken
		 * thread then seldom finds it still taken. */
		struct synack_event ev;
		while (synack_event_next(env.st, &ev)) {
			if (ev.socket >= 0 && (size_t)ev.socket < byid_cap && byid[ev.socket])
				changed(byid[ev.socket]);
		}
		pthread_mutex_unlock(&mu);

		struct pollfd pfd[3] = {
		    {linkfd, POLLIN, 0}, {io_wake, POLLIN, 0}, {io_timer, POLLIN, 0}};
		if (REAL(ppoll)(pfd, 3, NULL, NULL) > 0) {
			uint64_t v;
			if (pfd[1].revents && REAL(read)(io_wake, &v, sizeof(v)) < 0) {
				/* nothing to read: another turn drained it */
			}
			if (pfd[2].revents && REAL(read)(io_timer, &v, sizeof(v)) < 0) {
				/* re-armed meanwhile */
			}
		}
	}
	return NULL;
}

/*
 * Starts the I/O thread and returns once it runs io_main.  Until then the
 * new thread is still being set up by the C library (and by a sanitizer's
 * runtime, which allocates there under its own locks); a fork() in that
 * window would give the child those locks held by a thread it does not
 * have, and its first allocation would hang.  Programs fork right after
 * their first socket (the master/worker pattern), so the window is real.
 */
static int io_start(void)
{
	if (sem_init(&io_started, 0, 0) != 0)
		return errno;
	int rc = pthread_create(&io_thread, NULL, io_main, NULL);
	if (rc != 0)
		return rc;
	while (sem_wait(&io_started) != 0 && errno == EINTR) {
		/* a signal: wait on */
	}
	return 0;
}

static void at_exit(void);
static void guard_install(void);

/* Opens the device and the stack and starts the I/O thread, at the first
 * TCP socket.  A device that cannot be opened stops the program: a
 * preloaded program never falls back to the kernel's TCP. */
static void start(void)
{
	if (started)
		return;
	char err[1024];
	int rc = net_open(&preload_conf.net, 0, &env, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "libsynack-preload: SYNACK_DEV=%s: %s\n", preload_conf.net.dev,
		        err);
		exit(2);
	}
	io_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	io_timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (io_wake < 0 || io_timer < 0) {
		fprintf(stderr, "libsynack-preload: eventfd, timerfd: %s\n", strerror(errno));
		exit(2);
	}
	guard_install();
	started = 1;
	atomic_store(owner, my_pid);
	rc = io_start();
	if (rc != 0) {
		fprintf(stderr, "libsynack-preload: cannot start the I/O thread: %s\n",
		        strerror(rc));
		exit(2);
	}
	atexit(at_exit);
}

/* ------------------------------------------------------------------ */
/* The descriptor table                                                 */

static int byid_put(int id, struct psock *sk)
{
	if ((size_t)id >= byid_cap) {
		size_t cap = byid_cap ? byid_cap : 64;
		while (cap <= (size_t)id)
			cap *= 2;
		struct psock **n = realloc(byid, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + byid_cap, 0, (cap - byid_cap) * sizeof(*n));
		byid = n;
		byid_cap = cap;
	}
	byid[id] = sk;
	return 0;
}

/* With the lock held: a new descriptor for stack socket id.  flags are
 * SOCK_NONBLOCK / SOCK_CLOEXEC.  Returns the descriptor or -errno (the
 * stack socket is then still the caller's). */
static int sock_new(int id, int family, int flags)
{
	struct psock *sk = calloc(1, sizeof(*sk));
	if (!sk)
		return -ENOMEM;
	int efd = eventfd(0, (flags & SOCK_NONBLOCK ? EFD_NONBLOCK : 0) |
	                         (flags & SOCK_CLOEXEC ? EFD_CLOEXEC : 0));
	if (efd < 0) {
		int e = errno;
		free(sk);
		return -e;
	}
	if ((size_t)efd >= fdcap || byid_put(id, sk) != 0) {
		REAL(close)(efd);
		free(sk);
		return (size_t)efd >= fdcap ? -EMFILE : -ENOMEM;
	}
	sk->id = id;
	sk->refs = 1;
	sk->bound_any = 1;
	sk->nonblock = (flags & SOCK_NONBLOCK) != 0;
	sk->family = family;
	sk->mirror_fd = efd;
	atomic_store_explicit(&fdtab[efd], sk, memory_order_release);
	changed(sk);
	return efd;
}

static void sock_destroy(struct psock *sk)
{
	if (sk->id >= 0 && !detached && atomic_load(owner) == my_pid) {
		synack_close(env.st, sk->id);
		if ((size_t)sk->id < byid_cap && byid[sk->id] == sk)
			byid[sk->id] = NULL;
	}
	preload_epoll_forget_sock(sk);
	free(sk);
}

/* The call on fd starts: the lock is taken and the socket held, or NULL
 * (fd stopped being a synack socket meanwhile: the caller goes to libc). */
static struct psock *enter(int fd)
{
	preload_lock();
	struct psock *sk = preload_sock(fd);
	if (!sk) {
		preload_unlock();
		return NULL;
	}
	sk->inflight++;
	return sk;
}

void preload_hold(struct psock *sk)
{
	sk->inflight++;
}

void preload_release(struct psock *sk)
{
	if (--sk->inflight == 0 && sk->refs == 0)
		sock_destroy(sk);
}

static void leave(struct psock *sk)
{
	preload_release(sk);
	preload_unlock();
}

int preload_started(void)
{
	return started;
}

size_t preload_fdcap(void)
{
	return fdcap;
}

static void *io_main(void *arg);
static void drop_fd(int fd, struct psock *sk);

/*
 * After fork(), parent and child hold the same stack (a copy each) and the
 * same device.  Only one may drive it: the first that uses a synack socket
 * after the fork takes it, when the process that had it is the one it was
 * forked from or is gone (or finished); the other's calls fail with EPERM
 * while the owner lives (preload_lost; docs/PRELOAD.md: the pre-fork
 * master/worker pattern, one worker).
 */
int preload_owned(void)
{
	if (!started)
		return 1;
	if (detached)
		return 0;
	pid_t o = atomic_load(owner);
	if (o == my_pid)
		return 1;
	if (o == 0 || o == parent_pid || (kill(o, 0) != 0 && errno == ESRCH)) {
		if (atomic_compare_exchange_strong(owner, &o, my_pid)) {
			/* The old owner's I/O thread sees it and stops. */
			uint64_t one = 1;
			if (REAL(write)(io_wake, &one, sizeof(one)) < 0) {
				/* a wake is pending */
			}
			/* Our own: the parent's are shared with it. */
			io_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			io_timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
			atomic_store(&io_until, SYNACK_NEVER);
			if (io_wake < 0 || io_timer < 0 || io_start() != 0) {
				fprintf(stderr,
				        "libsynack-preload: cannot take the stack over after "
				        "fork\n");
				exit(2);
			}
			preload_debug_once("claim", "process %d drives the stack from now on",
			                   (int)my_pid);
			return 1;
		}
	}
	return 0;
}

/*
 * Another process drives the stack (fork: several worker processes using
 * the sockets, or the parent after a child took it): a clear error.  The
 * calls fail with EPERM ("Operation not permitted": this process may not
 * use the socket now; EBADF would say the descriptor is not open, which
 * it is), and the first such call of each process says on stderr, always,
 * what happened and what to do.  With the lock held.
 */
int preload_lost(void)
{
	static pid_t told;
	if (told != my_pid) {
		told = my_pid;
		fprintf(stderr,
		        "libsynack-preload: process %d cannot use its synack sockets: %s.  After "
		        "fork() one process at a time drives the stack (the first to use a "
		        "socket); the socket calls of the others fail with EPERM.  Run one worker "
		        "process (nginx: worker_processes 1), or one preloaded program per stack "
		        "and device (docs/PRELOAD.md).\n",
		        (int)my_pid,
		        detached ? "its stack was closed (exit or exec)"
		                 : "another process drives the stack");
	}
	return -EPERM;
}

/* Whether the signals that interrupted a sleep restart the call (signal(7)):
 * each handler the trampoline ran was installed with SA_RESTART (asked of
 * the kernel now, so siginterrupt() counts too), and no handler the
 * trampoline does not see lacks it (one installed without the preload's
 * sigaction: for those it cannot know whether they ran, and assumes they
 * may have when they are not blocked in this thread).  The synchronous
 * signals (SIGPIPE from our own send, SIGSEGV ...) do not interrupt a
 * sleep and are left out. */
static int may_not_restart(void)
{
	uint64_t seen = caught;
	for (int sig = 1; sig <= 64; sig++) {
		struct sigaction a;
		if ((seen >> (sig - 1) & 1) && REAL(sigaction)(sig, NULL, &a) == 0 &&
		    !(a.sa_flags & SA_RESTART))
			return 1;
	}
	uint64_t bits = atomic_load(&norestart);
	static const int sync_sigs[] = {SIGPIPE, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
	for (size_t i = 0; i < sizeof(sync_sigs) / sizeof(sync_sigs[0]); i++)
		bits &= ~(1ull << (sync_sigs[i] - 1));
	sigset_t blocked;
	if (bits && pthread_sigmask(SIG_BLOCK, NULL, &blocked) == 0)
		for (int sig = 1; sig <= 64; sig++)
			if ((bits >> (sig - 1) & 1) && sigismember(&blocked, sig) == 1)
				bits &= ~(1ull << (sig - 1));
	return bits != 0;
}

/* Waits until sk has one of want (or an error, its end), the deadline
 * (ms, preload_now_ms(); -1 none) passes (-EAGAIN) or a signal (-EINTR). */
static int wait_for(struct psock *sk, uint32_t want, int64_t deadline)
{
	for (;;) {
		uint32_t ev = preload_events(sk);
		if (ev & (want | SYNACK_POLLERR | SYNACK_POLLHUP))
			return 0;
		int t = -1;
		if (deadline >= 0) {
			int64_t left = deadline - preload_now_ms();
			if (left <= 0)
				return -EAGAIN;
			t = left > INT_MAX ? INT_MAX : (int)left;
		}
		caught = 0;
		int rc = preload_sleep(&sk, 1, NULL, 0, t, NULL);
		/* SA_RESTART: Linux restarts the socket calls after a handler
		 * installed with it, unless the socket has a timeout
		 * (signal(7)); the trampoline tells which handlers ran. */
		if (rc == -EINTR && deadline < 0 && !may_not_restart())
			continue;
		if (rc < 0)
			return rc;
	}
}

static int64_t deadline_of(int64_t timeo_ms)
{
	return timeo_ms > 0 ? preload_now_ms() + timeo_ms : -1;
}

/* ------------------------------------------------------------------ */
/* Addresses                                                            */

static int sa_to_ep(const struct psock *sk, const struct sockaddr *sa, socklen_t len,
                    struct synack_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	/* Linux copies the address in first (move_addr_to_kernel): at most
	 * a sockaddr_storage, EFAULT when it cannot be read. */
	if (len > (socklen_t)sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (!preload_mem_ok(sa, len, 0))
		return -EFAULT;
	if (len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (sk->family == AF_INET) {
		if (len < (socklen_t)sizeof(struct sockaddr_in))
			return -EINVAL;
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		/* Linux takes AF_UNSPEC with INADDR_ANY for AF_INET (bind). */
		if (in->sin_family != AF_INET &&
		    !(in->sin_family == AF_UNSPEC && in->sin_addr.s_addr == htonl(INADDR_ANY)))
			return -EAFNOSUPPORT;
		ep->family = SYNACK_AF_INET;
		ep->addr = ntohl(in->sin_addr.s_addr);
		ep->port = ntohs(in->sin_port);
		return 0;
	}
	if (len < 24) /* SIN6_LEN_RFC2133: sockaddr_in6 without the scope */
		return -EINVAL;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
	if (in6->sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	ep->family = SYNACK_AF_INET6;
	memcpy(ep->addr6, &in6->sin6_addr, 16);
	ep->port = ntohs(in6->sin6_port);
	return 0;
}

/* Writes ep as the socket's family writes it (an IPv4 peer of an AF_INET6
 * socket as ::ffff:a.b.c.d), cut to *len, and sets *len to its size. */
static int ep_to_sa(const struct psock *sk, const struct synack_endpoint *ep, struct sockaddr *sa,
                    socklen_t *len)
{
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t n;
	memset(&u, 0, sizeof(u));
	if (sk->family == AF_INET) {
		u.in.sin_family = AF_INET;
		u.in.sin_port = htons(ep->port);
		u.in.sin_addr.s_addr = htonl(ep->addr);
		n = sizeof(u.in);
	} else {
		u.in6.sin6_family = AF_INET6;
		u.in6.sin6_port = htons(ep->port);
		if (ep->family == SYNACK_AF_INET6) {
			memcpy(&u.in6.sin6_addr, ep->addr6, 16);
		} else if (ep->addr) {
			u.in6.sin6_addr.s6_addr[10] = 0xff;
			u.in6.sin6_addr.s6_addr[11] = 0xff;
			uint32_t a = htonl(ep->addr);
			memcpy(&u.in6.sin6_addr.s6_addr[12], &a, 4);
		}
		n = sizeof(u.in6);
	}
	/* As Linux's move_addr_to_user: the length read and written back,
	 * the address cut to it; EFAULT when either cannot be. */
	if (!preload_mem_ok(len, sizeof(*len), 1))
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	socklen_t k = *len < n ? *len : n;
	if (!preload_mem_ok(sa, k, 1))
		return -EFAULT;
	memcpy(sa, &u, k);
	*len = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Loopback: the kernel's                                               */

static int is_loopback(const struct synack_endpoint *ep)
{
	static const uint8_t one6[16] = {[15] = 1};
	if (ep->family == SYNACK_AF_INET)
		return (ep->addr >> 24) == 127;
	if (memcmp(ep->addr6, one6, 16) == 0)
		return 1;
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	return memcmp(ep->addr6, mapped, 12) == 0 && ep->addr6[12] == 127;
}

/*
 * A socket the program binds or connects to a loopback address (127.0.0.0/8,
 * ::1) is not synack's to carry: a fresh one (not bound, not connected, not
 * in an epoll set, not dup'd) becomes a kernel socket at the same number,
 * with the options that matter copied, and the call goes to the kernel.
 * Returns 1 when it did (the lock is still held; sk goes at leave()), 0
 * when sk stays synack's, or -errno.
 */
static int to_kernel(int fd, struct psock *sk, const struct synack_endpoint *ep)
{
	struct synack_endpoint local;
	if (!is_loopback(ep) || sk->refs != 1 || sk->regs ||
	    synack_getsockname(env.st, sk->id, &local) != 0 || local.port != 0)
		return 0;
	int ks = REAL(socket)(sk->family, SOCK_STREAM | (sk->nonblock ? SOCK_NONBLOCK : 0), 0);
	if (ks < 0)
		return -errno;
	static const struct {
		int level, name, opt;
	} copy[] = {
	    {SOL_SOCKET, SO_REUSEADDR, SYNACK_SO_REUSEADDR},
	    {SOL_SOCKET, SO_KEEPALIVE, SYNACK_SO_KEEPALIVE},
	    {IPPROTO_TCP, TCP_NODELAY, SYNACK_TCP_NODELAY},
	};
	for (size_t i = 0; i < sizeof(copy) / sizeof(copy[0]); i++) {
		int v;
		if (synack_getsockopt(env.st, sk->id, copy[i].opt, &v) == 0 && v)
			REAL(setsockopt)(ks, copy[i].level, copy[i].name, &v, sizeof(v));
	}
	if (sk->reuseport)
		REAL(setsockopt)(ks, SOL_SOCKET, SO_REUSEPORT, &sk->reuseport, sizeof(int));
	if (sk->rcvtimeo_ms)
		REAL(setsockopt)(ks, SOL_SOCKET, SO_RCVTIMEO, &sk->rcvtv, sizeof(sk->rcvtv));
	if (sk->sndtimeo_ms)
		REAL(setsockopt)(ks, SOL_SOCKET, SO_SNDTIMEO, &sk->sndtv, sizeof(sk->sndtv));
	int cloexec = REAL(fcntl)(fd, F_GETFD) & FD_CLOEXEC;
	drop_fd(fd, sk);
	int rc = REAL(dup3)(ks, fd, cloexec ? O_CLOEXEC : 0);
	int e = errno;
	REAL(close)(ks);
	if (rc < 0)
		return -e;
	preload_debug_once("loopback", "a socket for a loopback address is the kernel's");
	return 1;
}

/* ------------------------------------------------------------------ */
/* socket, bind, listen, accept, connect                               */

EXPORT int socket(int domain, int type, int protocol)
{
	int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if ((domain != AF_INET && domain != AF_INET6) || kind != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP) || !preload_conf.net.dev)
		return REAL(socket)(domain, type, protocol);
	if (type & ~(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return fail(EINVAL);
	preload_lock();
	if (started && !preload_owned()) {
		preload_unlock();
		return fail(-preload_lost());
	}
	start();
	int id = synack_socket(env.st);
	int fd = id;
	if (id >= 0) {
		fd = sock_new(id, domain, type);
		if (fd < 0)
			synack_close(env.st, id);
	}
	preload_unlock();
	return (int)result(fd);
}

EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(bind)(fd, addr, len);
	struct synack_endpoint ep;
	int rc = !preload_owned() ? preload_lost() : sa_to_ep(sk, addr, len, &ep);
	if (rc == 0 && (rc = to_kernel(fd, sk, &ep)) == 1) {
		leave(sk);
		return REAL(bind)(fd, addr, len);
	}
	if (rc == 0)
		rc = synack_bind(env.st, sk->id, &ep);
	if (rc == 0) {
		static const uint8_t any6[16];
		sk->bound_any =
		    ep.family == SYNACK_AF_INET ? ep.addr == 0 : memcmp(ep.addr6, any6, 16) == 0;
		changed(sk);
	}
	leave(sk);
	return (int)result(rc);
}

EXPORT int listen(int fd, int backlog)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(listen)(fd, backlog);
	/* Linux takes a backlog above somaxconn, or negative, as somaxconn. */
	int rc = !preload_owned() ? preload_lost()
	                          : synack_listen(env.st, sk->id, backlog < 0 ? INT_MAX : backlog);
	if (rc == 0)
		changed(sk);
	leave(sk);
	return (int)result(rc);
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(accept4)(fd, addr, len, flags);
	int rc;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		rc = -EINVAL;
	} else if (!preload_owned()) {
		rc = preload_lost();
	} else {
		int nonblock = -1;
		int64_t deadline = deadline_of(sk->rcvtimeo_ms);
		struct synack_endpoint peer;
		for (;;) {
			rc = synack_accept(env.st, sk->id, &peer);
			if (rc != -EAGAIN)
				break;
			if (nonblock < 0)
				nonblock = sk->nonblock;
			if (nonblock)
				break;
			int w = wait_for(sk, SYNACK_POLLIN, deadline);
			if (w < 0) {
				rc = w;
				break;
			}
		}
		changed(sk);
		if (rc >= 0) {
			int id = rc;
			rc = sock_new(id, sk->family, flags);
			if (rc < 0) {
				synack_close(env.st, id);
			} else if (addr) {
				/* Linux writes the peer's address after taking the
				 * connection; when it cannot (EFAULT, EINVAL) the
				 * new socket is closed and the call fails. */
				int nfd = rc;
				struct psock *nsk = preload_sock(nfd);
				rc = ep_to_sa(nsk, &peer, addr, len);
				if (rc < 0) {
					drop_fd(nfd, nsk);
					REAL(close)(nfd);
				} else {
					rc = nfd;
				}
			}
		}
	}
	leave(sk);
	return (int)result(rc);
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	if (!preload_sock(fd))
		return REAL(accept)(fd, addr, len);
	return accept4(fd, addr, len, 0);
}

EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(connect)(fd, addr, len);
	struct synack_endpoint ep;
	int rc = !preload_owned() ? preload_lost() : sa_to_ep(sk, addr, len, &ep);
	if (rc == 0 && (rc = to_kernel(fd, sk, &ep)) == 1) {
		leave(sk);
		return REAL(connect)(fd, addr, len);
	}
	if (rc == 0)
		rc = synack_connect(env.st, sk->id, &ep);
	changed(sk);
	if (rc == -EINPROGRESS && !sk->nonblock) {
		/* A blocking connect waits for the handshake, at most
		 * SO_SNDTIMEO (then EINPROGRESS, as Linux). */
		rc = wait_for(sk, SYNACK_POLLOUT, deadline_of(sk->sndtimeo_ms));
		if (rc == -EAGAIN)
			rc = -EINPROGRESS;
		else if (rc == 0)
			rc = synack_socket_error(env.st, sk->id);
		changed(sk);
	}
	leave(sk);
	return (int)result(rc);
}

EXPORT int shutdown(int fd, int how)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(shutdown)(fd, how);
	int rc = !preload_owned() ? preload_lost() : synack_shutdown(env.st, sk->id, how);
	changed(sk);
	leave(sk);
	return (int)result(rc);
}

EXPORT int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(getsockname)(fd, addr, len);
	struct synack_endpoint ep;
	int rc = !preload_owned() ? preload_lost() : synack_getsockname(env.st, sk->id, &ep);
	struct synack_tcp_info ti;
	if (rc == 0 && sk->bound_any && synack_tcp_info(env.st, sk->id, &ti) == 0 &&
	    ti.state == SYNACK_LISTEN) {
		/* Linux names a listener bound to 0.0.0.0 or :: (or never
		 * bound) by that address, not the stack's. */
		ep.addr = 0;
		memset(ep.addr6, 0, sizeof(ep.addr6));
	}
	if (rc == 0)
		rc = ep_to_sa(sk, &ep, addr, len);
	leave(sk);
	return (int)result(rc);
}

EXPORT int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(getpeername)(fd, addr, len);
	struct synack_endpoint ep;
	int rc = !preload_owned() ? preload_lost() : synack_getpeername(env.st, sk->id, &ep);
	if (rc == 0)
		rc = ep_to_sa(sk, &ep, addr, len);
	leave(sk);
	return (int)result(rc);
}

/* ------------------------------------------------------------------ */
/* Receiving and sending                                               */

/* The pieces past the first done bytes of iov (into out, at most
 * SYNACK_IOV_MAX); returns their count. */
static int iov_skip(const struct iovec *iov, int n, size_t done, struct synack_iovec *out)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		out[k].base = (char *)iov[i].iov_base + done;
		out[k].len = iov[i].iov_len - done;
		done = 0;
		k++;
	}
	return k;
}

/* The pieces past the first done bytes of iov, at most limit bytes of
 * them, cut before the first page the program may not read (writing:
 * write): a buffer that faults ends the data there, as the kernel's copy
 * stops at the fault.  Into out; returns their count, *bytes their size. */
static int iov_window(const struct iovec *iov, int n, size_t done, size_t limit, int writing,
                      struct synack_iovec *out, size_t *bytes)
{
	int k = 0;
	size_t t = 0;
	for (int i = 0; i < n && t < limit; i++) {
		if (done >= iov[i].iov_len) {
			done -= iov[i].iov_len;
			continue;
		}
		char *base = (char *)iov[i].iov_base + done;
		size_t len = iov[i].iov_len - done;
		done = 0;
		if (len > limit - t)
			len = limit - t;
		size_t ok = preload_probe(base, len, writing);
		if (ok > 0) {
			out[k].base = base;
			out[k].len = ok;
			k++;
			t += ok;
		}
		if (ok < len)
			break;
	}
	*bytes = t;
	return k;
}

/* As Linux's import_iovec: the array read (EFAULT), lengths summed
 * (EINVAL past SSIZE_MAX); the buffers themselves fault only when the
 * data is copied (iov_window). */
static int iov_check(const struct iovec *iov, int n, size_t *total)
{
	if (n < 0 || n > SYNACK_IOV_MAX)
		return -EINVAL;
	if (!preload_mem_ok(iov, (size_t)n * sizeof(*iov), 0))
		return -EFAULT;
	size_t t = 0;
	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len > (size_t)SSIZE_MAX - t)
			return -EINVAL;
		t += iov[i].iov_len;
	}
	*total = t;
	return 0;
}

/* recv(2) on sk: blocking unless MSG_DONTWAIT or O_NONBLOCK, waiting for
 * SO_RCVLOWAT bytes (the stack's readability), all with MSG_WAITALL. */
static ssize_t sk_recv(int fd, struct psock *sk, const struct iovec *iov, int iovcnt, int flags)
{
	(void)fd; /* O_NONBLOCK is the socket's (sk->nonblock) */
	size_t total;
	int rc = iov_check(iov, iovcnt, &total);
	if (rc)
		return rc;
	if (!preload_owned())
		return preload_lost();
	if (flags & MSG_OOB)
		return -EINVAL; /* no urgent data is ever pending (RFC 6093) */
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN; /* nothing is ever queued there */
	int known = MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_CMSG_CLOEXEC | MSG_NOSIGNAL;
	if (flags & ~known) {
		char key[32]; /* once per distinct set of flags */
		snprintf(key, sizeof(key), "recvflags %x", (unsigned)(flags & ~known));
		preload_debug_once(key, "recv flags 0x%x ignored", flags & ~known);
	}
	int sflags = flags & MSG_PEEK;
	int nonblock = (flags & MSG_DONTWAIT) ? 1 : -1;
	int64_t deadline = deadline_of(sk->rcvtimeo_ms);
	size_t got = 0;
	ssize_t n = 0;
	struct synack_iovec *v = malloc(sizeof(*v) * (size_t)(iovcnt ? iovcnt : 1));
	if (!v)
		return -ENOMEM;
	for (;;) {
		uint32_t ev = preload_events(sk);
		if (!(ev & (SYNACK_POLLIN | SYNACK_POLLERR | SYNACK_POLLHUP | SYNACK_POLLRDHUP)) &&
		    total > 0) {
			if (nonblock < 0)
				nonblock = sk->nonblock;
			if (!nonblock) {
				int w = wait_for(sk, SYNACK_POLLIN | SYNACK_POLLRDHUP, deadline);
				if (w < 0) {
					n = w;
					break;
				}
			}
		}
		/* What is queued is what the stack will copy: that much of
		 * the buffer is probed, and a page that faults ends it. */
		int inq = 0, k;
		if (synack_ioctl(env.st, sk->id, SYNACK_FIONREAD, &inq) == 0 && inq > 0 &&
		    got < total) {
			size_t ok;
			k = iov_window(iov, iovcnt, got, (size_t)inq, 1, v, &ok);
			if (ok == 0) {
				n = -EFAULT;
				break;
			}
		} else {
			k = iov_skip(iov, iovcnt, got, v);
		}
		n = synack_recvv(env.st, sk->id, v, k, sflags);
		if (n > 0) {
			got += (size_t)n;
			if ((flags & MSG_WAITALL) && !(flags & MSG_PEEK) && got < total &&
			    nonblock != 1) {
				if (nonblock < 0)
					nonblock = sk->nonblock;
				if (!nonblock)
					continue;
			}
			break;
		}
		if (n == -EAGAIN) {
			if (nonblock < 0)
				nonblock = sk->nonblock;
			if (!nonblock)
				continue;
		}
		break;
	}
	free(v);
	changed(sk);
	return got > 0 ? (ssize_t)got : n;
}

#define PRELOAD_SEND_PROBE_MIN 65536
/* send(2) on sk: all of it unless non-blocking; EPIPE raises SIGPIPE
 * unless MSG_NOSIGNAL. */
static ssize_t sk_send(int fd, struct psock *sk, const struct iovec *iov, int iovcnt, int flags,
                       int *sigpipe)
{
	(void)fd;
	size_t total;
	int rc = iov_check(iov, iovcnt, &total);
	if (rc)
		return rc;
	if (!preload_owned())
		return preload_lost();
	if (flags & MSG_OOB) {
		preload_debug_once("oob", "MSG_OOB (urgent data) is not supported: EOPNOTSUPP");
		return -EOPNOTSUPP;
	}
	int known = MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE;
	if (flags & ~known) {
		/* MSG_ZEROCOPY among them: Linux ignores it without
		 * SO_ZEROCOPY, which synack refuses. */
		char key[32];
		snprintf(key, sizeof(key), "sendflags %x", (unsigned)(flags & ~known));
		preload_debug_once(key, "send flags 0x%x ignored", flags & ~known);
	}
	int sflags = flags & MSG_MORE;
	int nonblock = (flags & MSG_DONTWAIT) ? 1 : -1;
	int64_t deadline = deadline_of(sk->sndtimeo_ms);
	size_t sent = 0;
	ssize_t n = 0;
	struct synack_iovec *v = malloc(sizeof(*v) * (size_t)(iovcnt ? iovcnt : 1));
	if (!v)
		return -ENOMEM;
	for (;;) {
		/* The buffer is probed as far as the send buffer has room
		 * (SO_SNDBUF less what is queued, a page at least); when the
		 * stack takes all of that, the next piece is probed. */
		int queued = 0, room = 0;
		synack_ioctl(env.st, sk->id, SYNACK_SIOCOUTQ, &queued);
		synack_getsockopt(env.st, sk->id, SYNACK_SO_SNDBUF, &room);
		size_t limit = room > queued ? (size_t)(room - queued) : 0;
		if (limit < PRELOAD_SEND_PROBE_MIN)
			limit = PRELOAD_SEND_PROBE_MIN;
		size_t ok;
		int k = iov_window(iov, iovcnt, sent, limit, 0, v, &ok);
		if (ok == 0 && sent < total) {
			/* Linux reports the socket's state first (not
			 * connected, shut down), then the fault. */
			n = synack_sendv(env.st, sk->id, v, 0, sflags);
			if (n >= 0)
				n = -EFAULT;
			break;
		}
		n = synack_sendv(env.st, sk->id, v, k, sflags);
		if (n > 0)
			sent += (size_t)n;
		if (n >= 0 && sent >= total)
			break;
		if (n > 0 && (size_t)n == ok && ok == limit)
			continue; /* all of the piece went: maybe more fits */
		if (n < 0 && n != -EAGAIN)
			break;
		if (nonblock < 0)
			nonblock = sk->nonblock;
		if (nonblock)
			break;
		synack_run_flush(env.run);
		int w = wait_for(sk, SYNACK_POLLOUT, deadline);
		if (w < 0) {
			n = w;
			break;
		}
	}
	free(v);
	changed(sk);
	if (sent > 0)
		return (ssize_t)sent;
	/* Linux: sending on a socket never connected (or listening) is EPIPE
	 * (tcp_sendmsg, sk_stream_wait_connect), the stack says ENOTCONN. */
	if (n == -ENOTCONN)
		n = -EPIPE;
	if (n == -EPIPE && !(flags & MSG_NOSIGNAL))
		*sigpipe = 1;
	return n;
}

static ssize_t do_recv(int fd, struct psock *sk, const struct iovec *iov, int n, int flags)
{
	ssize_t rc = sk_recv(fd, sk, iov, n, flags);
	leave(sk);
	return result(rc);
}

static ssize_t do_send(int fd, struct psock *sk, const struct iovec *iov, int n, int flags)
{
	int sigpipe = 0;
	ssize_t rc = sk_send(fd, sk, iov, n, flags, &sigpipe);
	leave(sk);
	if (sigpipe)
		pthread_kill(pthread_self(), SIGPIPE);
	return result(rc);
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(read)(fd, buf, len);
	struct iovec v = {buf, len};
	return do_recv(fd, sk, &v, 1, 0);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(readv)(fd, iov, n);
	return do_recv(fd, sk, iov, n, 0);
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(recv)(fd, buf, len, flags);
	struct iovec v = {buf, len};
	return do_recv(fd, sk, &v, 1, flags);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                        socklen_t *alen)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(recvfrom)(fd, buf, len, flags, addr, alen);
	struct iovec v = {buf, len};
	ssize_t n = do_recv(fd, sk, &v, 1, flags);
	/* TCP gives no source address: Linux then sets the length to 0
	 * (move_addr_to_user), and fails with EFAULT, the data taken, when
	 * the length cannot be read and written. */
	if (n >= 0 && addr) {
		int l;
		if (!preload_mem_ok(alen, sizeof(*alen), 1))
			return fail(EFAULT);
		memcpy(&l, alen, sizeof(l));
		if (l < 0)
			return fail(EINVAL);
		*alen = 0;
	}
	return n;
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(recvmsg)(fd, msg, flags);
	if (!preload_mem_ok(msg, sizeof(*msg), 0)) {
		leave(sk);
		return fail(EFAULT);
	}
	if (msg->msg_iovlen > SYNACK_IOV_MAX) {
		leave(sk);
		return fail(EMSGSIZE);
	}
	/* Linux writes the lengths and flags back after the data is taken
	 * (EFAULT then, the data gone, when it cannot). */
	int wok = preload_mem_ok(msg, sizeof(*msg), 1);
	ssize_t n = do_recv(fd, sk, msg->msg_iov, (int)msg->msg_iovlen, flags);
	if (n < 0)
		return n;
	if (!wok)
		return fail(EFAULT);
	if (msg->msg_name)
		msg->msg_namelen = 0;
	msg->msg_controllen = 0;
	msg->msg_flags = 0;
	return n;
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(write)(fd, buf, len);
	struct iovec v = {(void *)buf, len};
	return do_send(fd, sk, &v, 1, 0);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(writev)(fd, iov, n);
	return do_send(fd, sk, iov, n, 0);
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(send)(fd, buf, len, flags);
	struct iovec v = {(void *)buf, len};
	return do_send(fd, sk, &v, 1, flags);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
                      socklen_t alen)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(sendto)(fd, buf, len, flags, addr, alen);
	/* A connected TCP socket ignores the address, as Linux does, once
	 * it has copied it in (move_addr_to_kernel). */
	if (addr &&
	    (alen > (socklen_t)sizeof(struct sockaddr_storage) || !preload_mem_ok(addr, alen, 0))) {
		leave(sk);
		return fail(alen > (socklen_t)sizeof(struct sockaddr_storage) ? EINVAL : EFAULT);
	}
	struct iovec v = {(void *)buf, len};
	return do_send(fd, sk, &v, 1, flags);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(sendmsg)(fd, msg, flags);
	if (!preload_mem_ok(msg, sizeof(*msg), 0)) {
		leave(sk);
		return fail(EFAULT);
	}
	if (msg->msg_iovlen > SYNACK_IOV_MAX) {
		leave(sk);
		return fail(EMSGSIZE);
	}
	/* The name and the control data are copied in first (Linux's
	 * copy_msghdr_from_user, ____sys_sendmsg). */
	size_t namelen = msg->msg_namelen > sizeof(struct sockaddr_storage)
	                     ? sizeof(struct sockaddr_storage)
	                     : msg->msg_namelen;
	if ((msg->msg_name && !preload_mem_ok(msg->msg_name, namelen, 0)) ||
	    (msg->msg_controllen && !preload_mem_ok(msg->msg_control, msg->msg_controllen, 0))) {
		leave(sk);
		return fail(EFAULT);
	}
	if (msg->msg_controllen)
		preload_debug_once("cmsg", "sendmsg control data ignored");
	return do_send(fd, sk, msg->msg_iov, (int)msg->msg_iovlen, flags);
}

/* sendfile(2) from a file to a synack socket: read and send in pieces.
 * Returns what was sent; the file offset (or *offset) moves by that. */
#define PRELOAD_SENDFILE_CHUNK 65536
EXPORT ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
	if (preload_sock(in) && !preload_sock(out))
		return fail(EINVAL); /* in must be a file (Linux: mmap-able) */
	struct psock *sk = preload_sock(out) ? enter(out) : NULL;
	if (!sk)
		return REAL(sendfile)(out, in, offset, count);
	static _Thread_local char buf[PRELOAD_SENDFILE_CHUNK];
	size_t done = 0;
	ssize_t rc = 0;
	int sigpipe = 0;
	while (done < count) {
		size_t want = count - done < sizeof(buf) ? count - done : sizeof(buf);
		/* The file is read without the lock: a slow disk must not stop
		 * the stack. */
		preload_unlock();
		ssize_t n = offset ? pread(in, buf, want, *offset + (off_t)done)
		                   : REAL(read)(in, buf, want);
		int e = errno;
		preload_lock();
		if (n <= 0) {
			rc = n < 0 ? -e : 0;
			break;
		}
		struct iovec v = {buf, (size_t)n};
		/* After the first piece, no waiting: what fits now. */
		ssize_t s = sk_send(out, sk, &v, 1, done ? MSG_DONTWAIT : 0, &sigpipe);
		if (s < 0) {
			if (!offset)
				lseek(in, -(off_t)n, SEEK_CUR);
			rc = s;
			break;
		}
		done += (size_t)s;
		if (s < n) {
			if (!offset)
				lseek(in, -(off_t)(n - s), SEEK_CUR);
			break;
		}
	}
	leave(sk);
	if (offset)
		*offset += (off_t)done;
	if (done > 0)
		return (ssize_t)done;
	if (sigpipe)
		pthread_kill(pthread_self(), SIGPIPE);
	return result(rc);
}

EXPORT ssize_t sendfile64(int out, int in, off_t *offset, size_t count)
{
	return sendfile(out, in, offset, count);
}

/* ------------------------------------------------------------------ */
/* close, dup                                                           */

/* With the lock held: fd no longer names its socket. */
static void drop_fd(int fd, struct psock *sk)
{
	atomic_store_explicit(&fdtab[fd], NULL, memory_order_release);
	if (--sk->refs == 0) {
		if (sk->inflight == 0)
			sock_destroy(sk);
		return;
	}
	if (sk->mirror_fd == fd) {
		for (size_t i = 0; i < fdcap; i++)
			if (preload_sock((int)i) == sk) {
				sk->mirror_fd = (int)i;
				break;
			}
	}
}

EXPORT int close(int fd)
{
	if ((preload_sock(fd) || preload_epoll_known(fd)) && getpid() != my_pid)
		return REAL(close)(fd); /* a vfork() child: the memory is the parent's */
	if (preload_sock(fd)) {
		preload_lock();
		struct psock *sk = preload_sock(fd);
		if (sk)
			drop_fd(fd, sk);
		preload_unlock();
	} else if (preload_epoll_known(fd)) {
		preload_lock();
		preload_epoll_closed(fd);
		preload_unlock();
	}
	return REAL(close)(fd);
}

/* With the lock held: newfd, a new descriptor of fd's eventfd, names sk. */
static void dup_to(struct psock *sk, int newfd)
{
	if (newfd < 0)
		return;
	if ((size_t)newfd >= fdcap) {
		REAL(close)(newfd);
		return;
	}
	sk->refs++;
	atomic_store_explicit(&fdtab[newfd], sk, memory_order_release);
}

EXPORT int dup(int fd)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(dup)(fd);
	int n = REAL(dup)(fd);
	int e = errno;
	dup_to(sk, n);
	leave(sk);
	if ((size_t)n >= fdcap && n >= 0)
		return fail(EMFILE);
	errno = e;
	return n;
}

static int dup_common(int fd, int newfd, int flags, int three)
{
	if ((!preload_sock(fd) && !preload_sock(newfd) && !preload_epoll_known(newfd)) ||
	    getpid() != my_pid) /* a vfork() child: the memory is the parent's */
		return three ? REAL(dup3)(fd, newfd, flags) : REAL(dup2)(fd, newfd);
	preload_lock();
	struct psock *sk = preload_sock(fd);
	if (fd == newfd && !three) {
		preload_unlock();
		return REAL(dup2)(fd, newfd); /* fd, or EBADF */
	}
	int n = three ? REAL(dup3)(fd, newfd, flags) : REAL(dup2)(fd, newfd);
	int e = errno;
	if (n >= 0) {
		/* newfd was closed by the call: forget what it named. */
		struct psock *old = preload_sock(newfd);
		if (old)
			drop_fd(newfd, old);
		else
			preload_epoll_closed(newfd);
		if (sk)
			dup_to(sk, n);
	}
	preload_unlock();
	errno = e;
	return n;
}

EXPORT int dup2(int fd, int newfd)
{
	return dup_common(fd, newfd, 0, 0);
}

EXPORT int dup3(int fd, int newfd, int flags)
{
	return dup_common(fd, newfd, flags, 1);
}

/* fcntl: the eventfd keeps O_NONBLOCK and FD_CLOEXEC itself, so every
 * command passes through; F_DUPFD and F_DUPFD_CLOEXEC also name the socket
 * by the new descriptor. */
static int fcntl_common(int fd, int cmd, void *arg)
{
	struct psock *sk = preload_sock(fd);
	if (!sk || (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC && cmd != F_SETFL))
		return REAL(fcntl)(fd, cmd, arg);
	sk = enter(fd);
	if (!sk)
		return REAL(fcntl)(fd, cmd, arg);
	int n = REAL(fcntl)(fd, cmd, arg);
	int e = errno;
	if (cmd == F_SETFL && n == 0)
		sk->nonblock = ((uintptr_t)arg & O_NONBLOCK) != 0;
	else if (cmd != F_SETFL)
		dup_to(sk, n);
	leave(sk);
	errno = e;
	return n;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg);
}

/* ioctl: FIONREAD (SIOCINQ), SIOCOUTQ, SIOCOUTQNSD from the stack; FIONBIO
 * and the rest pass to the eventfd (FIONBIO sets its O_NONBLOCK). */
EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	struct psock *sk = preload_sock(fd);
	if (!sk || (req != FIONREAD && req != SIOCOUTQ && req != SIOCOUTQNSD && req != FIONBIO))
		return REAL(ioctl)(fd, req, arg);
	sk = enter(fd);
	if (!sk)
		return REAL(ioctl)(fd, req, arg);
	if (req == FIONBIO) {
		/* The eventfd keeps the flag; the socket remembers it. */
		int n = REAL(ioctl)(fd, req, arg);
		int e = errno;
		if (n == 0 && arg) {
			int on;
			memcpy(&on, arg, sizeof(on));
			sk->nonblock = on != 0;
		}
		leave(sk);
		errno = e;
		return n;
	}
	int v = 0;
	int rc = !preload_owned() ? preload_lost() : synack_ioctl(env.st, sk->id, req, &v);
	if (rc == 0) {
		if (!preload_mem_ok(arg, sizeof(v), 1))
			rc = -EFAULT;
		else
			memcpy(arg, &v, sizeof(v));
	}
	leave(sk);
	return (int)result(rc);
}

/* ------------------------------------------------------------------ */
/* Socket options: Linux's numbers to synack's.                         */

static int opt_int(const void *val, socklen_t len, int *out)
{
	if (len < (socklen_t)sizeof(int))
		return -EINVAL;
	if (!preload_mem_ok(val, sizeof(int), 0))
		return -EFAULT;
	memcpy(out, val, sizeof(int));
	return 0;
}

static int opt_tv(const void *val, socklen_t len, struct timeval *tv, int64_t *ms)
{
	if (len < (socklen_t)sizeof(*tv))
		return -EINVAL;
	if (!preload_mem_ok(val, sizeof(*tv), 0))
		return -EFAULT;
	memcpy(tv, val, sizeof(*tv));
	if (tv->tv_usec < 0 || tv->tv_usec >= 1000000)
		return -EDOM;
	if (tv->tv_sec < 0) {
		*tv = (struct timeval){0, 0}; /* Linux: a negative time is no timeout */
		*ms = 0;
		return 0;
	}
	*ms = (int64_t)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000;
	return 0;
}

/* The synack option for a Linux (level, name) of an int, or -1. */
static int int_opt(int level, int name)
{
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			return SYNACK_SO_REUSEADDR;
		case SO_KEEPALIVE:
			return SYNACK_SO_KEEPALIVE;
		case SO_SNDBUF:
			return SYNACK_SO_SNDBUF;
		case SO_RCVBUF:
			return SYNACK_SO_RCVBUF;
		case SO_RCVLOWAT:
			return SYNACK_SO_RCVLOWAT;
		case SO_PEEK_OFF:
			return SYNACK_SO_PEEK_OFF;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			return SYNACK_TCP_NODELAY;
		case TCP_MAXSEG:
			return SYNACK_TCP_MAXSEG;
		case TCP_CORK:
			return SYNACK_TCP_CORK;
		case TCP_KEEPCNT:
			return SYNACK_TCP_KEEPCNT;
		case TCP_USER_TIMEOUT:
			return SYNACK_TCP_USER_TIMEOUT;
		case TCP_QUICKACK:
			return SYNACK_TCP_QUICKACK;
		case TCP_NOTSENT_LOWAT:
			return SYNACK_TCP_NOTSENT_LOWAT;
		case TCP_INQ:
			return SYNACK_TCP_INQ;
		case TCP_FASTOPEN:
			return SYNACK_TCP_FASTOPEN;
		case TCP_FASTOPEN_CONNECT:
			return SYNACK_TCP_FASTOPEN_CONNECT;
		}
	}
	return -1;
}

/* Options Linux keeps that change nothing for synack (read back as set). */
static int *kept_opt(struct psock *sk, int level, int name)
{
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEPORT:
			return &sk->reuseport;
		case SO_BROADCAST:
			return &sk->broadcast;
		case SO_OOBINLINE:
			return &sk->oobinline;
		case SO_PRIORITY:
			return &sk->priority;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_DEFER_ACCEPT:
			return &sk->defer_accept;
		case TCP_WINDOW_CLAMP:
			return &sk->window_clamp;
		}
	} else if (level == IPPROTO_IP && name == IP_TOS) {
		return &sk->tos;
	} else if (level == IPPROTO_IPV6 && name == IPV6_TCLASS && sk->family == AF_INET6) {
		return &sk->tos;
	}
	return NULL;
}

static int sk_setsockopt(struct psock *sk, int level, int name, const void *val, socklen_t len)
{
	int v, rc, opt = int_opt(level, name);
	/* Linux: IPv6 options on an AF_INET socket are ENOPROTOOPT. */
	if (level == IPPROTO_IPV6 && sk->family == AF_INET6 && name == IPV6_V6ONLY)
		opt = SYNACK_IPV6_V6ONLY;
	if (opt >= 0) {
		if ((rc = opt_int(val, len, &v)) != 0)
			return rc;
		return synack_setsockopt(env.st, sk->id, opt, v);
	}
	int *kept = kept_opt(sk, level, name);
	if (kept) {
		if ((rc = opt_int(val, len, &v)) != 0)
			return rc;
		*kept = v;
		preload_debug_once("kept", "setsockopt(%d, %d) kept but without effect", level,
		                   name);
		return 0;
	}
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD)) {
		int r = name == SO_RCVTIMEO_OLD;
		return opt_tv(val, len, r ? &sk->rcvtv : &sk->sndtv,
		              r ? &sk->rcvtimeo_ms : &sk->sndtimeo_ms);
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l;
		if (len < (socklen_t)sizeof(l))
			return -EINVAL;
		if (!preload_mem_ok(val, sizeof(l), 0))
			return -EFAULT;
		memcpy(&l, val, sizeof(l));
		return synack_setsockopt(env.st, sk->id, SYNACK_SO_LINGER,
		                         l.l_onoff ? (l.l_linger < 0 ? 0 : l.l_linger) : -1);
	}
	if (level == IPPROTO_TCP && (name == TCP_KEEPIDLE || name == TCP_KEEPINTVL)) {
		/* Linux: seconds, 1..32767; synack: milliseconds. */
		if ((rc = opt_int(val, len, &v)) != 0)
			return rc;
		if (v < 1 || v > 32767)
			return -EINVAL;
		return synack_setsockopt(
		    env.st, sk->id,
		    name == TCP_KEEPIDLE ? SYNACK_TCP_KEEPIDLE : SYNACK_TCP_KEEPINTVL, v * 1000);
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		char name16[16];
		size_t n = len < sizeof(name16) - 1 ? len : sizeof(name16) - 1;
		if (!preload_mem_ok(val, n, 0))
			return -EFAULT;
		memcpy(name16, val, n);
		name16[n] = 0;
		return synack_setsockopt_str(env.st, sk->id, SYNACK_TCP_CONGESTION, name16);
	}
	preload_debug_once("setsockopt",
	                   "setsockopt level %d option %d is not supported: "
	                   "ENOPROTOOPT",
	                   level, name);
	return -ENOPROTOOPT;
}

static int put_opt(void *val, socklen_t *len, const void *v, size_t n)
{
	if (!preload_mem_ok(len, sizeof(*len), 1))
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	size_t k = *len < n ? *len : n;
	if (!preload_mem_ok(val, k, 1))
		return -EFAULT;
	memcpy(val, v, k);
	*len = (socklen_t)k;
	return 0;
}

static int put_int(void *val, socklen_t *len, int v)
{
	return put_opt(val, len, &v, sizeof(v));
}

static int tcp_info_opt(struct psock *sk, void *val, socklen_t *len)
{
	struct synack_tcp_info si;
	int rc = synack_tcp_info(env.st, sk->id, &si);
	if (rc)
		return rc;
	/* Linux's TCP_* states are synack's, in the same order (ESTABLISHED 1). */
	static const uint8_t state_map[] = {TCP_CLOSE,     TCP_LISTEN,      TCP_SYN_SENT,
	                                    TCP_SYN_RECV,  TCP_ESTABLISHED, TCP_FIN_WAIT1,
	                                    TCP_FIN_WAIT2, TCP_CLOSE_WAIT,  TCP_CLOSING,
	                                    TCP_LAST_ACK,  TCP_TIME_WAIT};
	struct tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_state =
	    si.state >= 0 && (size_t)si.state < sizeof(state_map) ? state_map[si.state] : TCP_CLOSE;
	ti.tcpi_ca_state = (uint8_t)si.ca_state;
	ti.tcpi_retransmits = (uint8_t)si.retransmits;
	ti.tcpi_options = si.options;
	ti.tcpi_snd_wscale = si.snd_wscale & 0xf;
	ti.tcpi_rcv_wscale = si.rcv_wscale & 0xf;
	ti.tcpi_rto = si.rto_us;
	ti.tcpi_snd_mss = si.mss;
	ti.tcpi_rcv_mss = si.mss;
	ti.tcpi_lost = si.lost;
	ti.tcpi_retrans = si.retrans;
	ti.tcpi_rtt = si.srtt_us;
	ti.tcpi_rttvar = si.rttvar_us;
	ti.tcpi_snd_ssthresh = si.mss ? si.ssthresh / si.mss : 0;
	ti.tcpi_snd_cwnd = si.mss ? si.cwnd / si.mss : 0;
	ti.tcpi_advmss = si.mss;
	ti.tcpi_reordering = si.reordering;
	ti.tcpi_rcv_space = si.rcv_space;
	ti.tcpi_total_retrans = (uint32_t)si.total_retrans;
	return put_opt(val, len, &ti, sizeof(ti));
}

static int sk_getsockopt(struct psock *sk, int level, int name, void *val, socklen_t *len)
{
	int v, rc, opt = int_opt(level, name);
	if (level == IPPROTO_IPV6 && sk->family == AF_INET6 && name == IPV6_V6ONLY)
		opt = SYNACK_IPV6_V6ONLY;
	if (opt >= 0) {
		if ((rc = synack_getsockopt(env.st, sk->id, opt, &v)) != 0)
			return rc;
		return put_int(val, len, v);
	}
	int *kept = kept_opt(sk, level, name);
	if (kept)
		return put_int(val, len, *kept);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_ERROR:
			return put_int(val, len, -synack_socket_error(env.st, sk->id));
		case SO_TYPE:
			return put_int(val, len, SOCK_STREAM);
		case SO_DOMAIN:
			return put_int(val, len, sk->family);
		case SO_PROTOCOL:
			return put_int(val, len, IPPROTO_TCP);
		case SO_ACCEPTCONN: {
			struct synack_tcp_info si;
			rc = synack_tcp_info(env.st, sk->id, &si);
			return put_int(val, len, rc == 0 && si.state == SYNACK_LISTEN);
		}
		case SO_SNDLOWAT:
			return put_int(val, len, 1);
		case SO_RCVTIMEO_OLD:
			return put_opt(val, len, &sk->rcvtv, sizeof(sk->rcvtv));
		case SO_SNDTIMEO_OLD:
			return put_opt(val, len, &sk->sndtv, sizeof(sk->sndtv));
		case SO_LINGER: {
			if ((rc = synack_getsockopt(env.st, sk->id, SYNACK_SO_LINGER, &v)) != 0)
				return rc;
			struct linger l = {v >= 0, v >= 0 ? v : 0};
			return put_opt(val, len, &l, sizeof(l));
		}
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
			rc = synack_getsockopt(
			    env.st, sk->id,
			    name == TCP_KEEPIDLE ? SYNACK_TCP_KEEPIDLE : SYNACK_TCP_KEEPINTVL, &v);
			return rc ? rc : put_int(val, len, v / 1000);
		case TCP_INFO:
			return tcp_info_opt(sk, val, len);
		case TCP_CONGESTION: {
			char name16[16];
			if ((rc = synack_getsockopt_str(env.st, sk->id, SYNACK_TCP_CONGESTION,
			                                name16, sizeof(name16))) != 0)
				return rc;
			return put_opt(val, len, name16, sizeof(name16));
		}
		}
	}
	preload_debug_once("getsockopt",
	                   "getsockopt level %d option %d is not supported: "
	                   "ENOPROTOOPT",
	                   level, name);
	return -ENOPROTOOPT;
}

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(setsockopt)(fd, level, name, val, len);
	int rc = !preload_owned() ? preload_lost() : sk_setsockopt(sk, level, name, val, len);
	changed(sk);
	leave(sk);
	return (int)result(rc);
}

EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct psock *sk = preload_sock(fd) ? enter(fd) : NULL;
	if (!sk)
		return REAL(getsockopt)(fd, level, name, val, len);
	int rc = !preload_owned() ? preload_lost() : sk_getsockopt(sk, level, name, val, len);
	if (level == SOL_SOCKET && name == SO_ERROR)
		changed(sk);
	leave(sk);
	return (int)result(rc);
}

/* ------------------------------------------------------------------ */
/* Signals: which handlers restart calls (see wait_for)                 */

/*
 * The program's handlers run through a trampoline that notes, per thread,
 * which signal came: a blocking call interrupted by a handler installed
 * with SA_RESTART starts again, by one without it fails with EINTR, as
 * Linux decides per signal (signal(7), "Interruption of system calls").
 * The kernel holds the trampoline with the program's flags and mask (and
 * SA_SIGINFO); sigaction() reads back the program's handler and flags.
 * Signals that report faults (SIGSEGV, SIGBUS ...) keep the program's
 * handler as it is: they never interrupt a sleep, and ASan's or a crash
 * reporter's handler must see its own fault.
 */
static _Atomic(void *) user_fn[65]; /* the program's handler, by signal */
static atomic_int user_flags[65];   /* its sa_flags as the program gave them */
static pthread_mutex_t sigmu = PTHREAD_MUTEX_INITIALIZER;

static int wrappable(int sig)
{
	switch (sig) {
	case SIGKILL:
	case SIGSTOP:
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGTRAP:
	case SIGSYS:
		return 0;
	}
	return sig >= 1 && sig <= 64;
}

static void trampoline(int sig, siginfo_t *si, void *uc)
{
	caught |= 1ull << (sig - 1);
	void *fn = atomic_load(&user_fn[sig]);
	if (atomic_load(&user_flags[sig]) & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))fn)(sig, si, uc);
	else if (fn != (void *)SIG_DFL && fn != (void *)SIG_IGN)
		((void (*)(int))fn)(sig);
}

static int is_handler(const struct sigaction *act)
{
	return act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
}

static void note_handler(int sig, const struct sigaction *act)
{
	if (sig < 1 || sig > 64 || !act)
		return;
	uint64_t bit = 1ull << (sig - 1);
	int untracked = act->sa_sigaction != trampoline && is_handler(act);
	if (untracked && !(act->sa_flags & SA_RESTART))
		atomic_fetch_or(&norestart, bit);
	else
		atomic_fetch_and(&norestart, ~bit);
}

/*
 * SIGSEGV and SIGBUS, once the stack started: the kernel holds the guard
 * of fault.c (with the program's mask and flags, SA_SIGINFO and SA_ONSTACK
 * added, SA_RESETHAND done here), the program's action is kept here and
 * read back, and the guard passes every fault but a probe's on to it.
 */
static atomic_int guard_set;

static int guarded(int sig)
{
	return (sig == SIGSEGV || sig == SIGBUS) && atomic_load(&guard_set);
}

void preload_sig_chain(int sig, siginfo_t *si, void *uc)
{
	void *fn = atomic_load(&user_fn[sig]);
	int flags = atomic_load(&user_flags[sig]);
	if (fn != (void *)SIG_DFL && fn != (void *)SIG_IGN) {
		if (flags & SA_RESETHAND) {
			atomic_store(&user_fn[sig], (void *)SIG_DFL);
			atomic_store(&user_flags[sig], 0);
		}
		if (flags & SA_SIGINFO)
			((void (*)(int, siginfo_t *, void *))fn)(sig, si, uc);
		else
			((void (*)(int))fn)(sig);
		return;
	}
	int sent = !si || si->si_code <= 0; /* kill(), not the MMU */
	if (fn == (void *)SIG_IGN && sent)
		return;
	/* The default action: put back, the fault happens again on return
	 * (a sent signal is raised again, delivered once this returns). */
	struct sigaction d;
	memset(&d, 0, sizeof(d));
	d.sa_handler = SIG_DFL;
	sigemptyset(&d.sa_mask);
	REAL(sigaction)(sig, &d, NULL);
	if (sent)
		raise(sig);
}

static void guard_install(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS};
	pthread_mutex_lock(&sigmu);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int sig = sigs[i];
		struct sigaction cur, k;
		if (REAL(sigaction)(sig, NULL, &cur) != 0)
			continue;
		atomic_store(&user_fn[sig], cur.sa_flags & SA_SIGINFO ? (void *)cur.sa_sigaction
		                                                      : (void *)cur.sa_handler);
		atomic_store(&user_flags[sig], cur.sa_flags);
		k = cur;
		k.sa_sigaction = preload_guard;
		k.sa_flags = (cur.sa_flags | SA_SIGINFO | SA_ONSTACK) & ~SA_RESETHAND;
		REAL(sigaction)(sig, &k, NULL);
	}
	atomic_store(&guard_set, 1);
	pthread_mutex_unlock(&sigmu);
	preload_guard_ready();
}

/* The program's sigaction() of SIGSEGV or SIGBUS with the guard in place. */
static int guarded_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	void *prev_fn = atomic_load(&user_fn[sig]);
	int prev_flags = atomic_load(&user_flags[sig]);
	int rc = 0;
	if (old && (rc = REAL(sigaction)(sig, NULL, old)) != 0)
		return rc;
	if (act) {
		struct sigaction k = *act;
		k.sa_sigaction = preload_guard;
		k.sa_flags = (act->sa_flags | SA_SIGINFO | SA_ONSTACK) & ~SA_RESETHAND;
		if ((rc = REAL(sigaction)(sig, &k, NULL)) != 0)
			return rc;
		atomic_store(&user_fn[sig], act->sa_flags & SA_SIGINFO ? (void *)act->sa_sigaction
		                                                       : (void *)act->sa_handler);
		atomic_store(&user_flags[sig], act->sa_flags);
	}
	if (old) {
		if (prev_flags & SA_SIGINFO)
			old->sa_sigaction = (void (*)(int, siginfo_t *, void *))prev_fn;
		else
			old->sa_handler = (void (*)(int))prev_fn;
		old->sa_flags = prev_flags;
	}
	return 0;
}

/* old as the program installed it: the trampoline replaced by fn, flags. */
static void unwrap(struct sigaction *old, void *fn, int flags)
{
	if (old && old->sa_sigaction == trampoline) {
		if (flags & SA_SIGINFO)
			old->sa_sigaction = (void (*)(int, siginfo_t *, void *))fn;
		else
			old->sa_handler = (void (*)(int))fn;
		old->sa_flags = flags;
	}
}

static int wrap_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (guarded(sig)) {
		pthread_mutex_lock(&sigmu);
		int rc = guarded_sigaction(sig, act, old);
		pthread_mutex_unlock(&sigmu);
		return rc;
	}
	if (!wrappable(sig)) {
		int rc = REAL(sigaction)(sig, act, old);
		if (rc == 0)
			note_handler(sig, act);
		return rc;
	}
	pthread_mutex_lock(&sigmu);
	void *prev_fn = atomic_load(&user_fn[sig]);
	int prev_flags = atomic_load(&user_flags[sig]);
	struct sigaction k;
	const struct sigaction *give = act;
	if (act && is_handler(act)) {
		k = *act;
		k.sa_sigaction = trampoline;
		k.sa_flags |= SA_SIGINFO;
		atomic_store(&user_fn[sig], act->sa_flags & SA_SIGINFO ? (void *)act->sa_sigaction
		                                                       : (void *)act->sa_handler);
		atomic_store(&user_flags[sig], act->sa_flags);
		give = &k;
	}
	int rc = REAL(sigaction)(sig, give, old);
	if (rc != 0) {
		atomic_store(&user_fn[sig], prev_fn);
		atomic_store(&user_flags[sig], prev_flags);
	} else {
		unwrap(old, prev_fn, prev_flags);
		note_handler(sig, give);
	}
	pthread_mutex_unlock(&sigmu);
	return rc;
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return wrap_sigaction(sig, act, old);
}

/* glibc's signal() has BSD semantics (SA_RESTART unless siginterrupt())
 * and sets the handler inside libc, out of sigaction's sight: it is set,
 * then read back and put behind the trampoline. */
EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	if (guarded(sig)) {
		/* As glibc's: SA_RESTART, the signal itself blocked. */
		struct sigaction a, o;
		memset(&a, 0, sizeof(a));
		a.sa_handler = handler;
		sigemptyset(&a.sa_mask);
		sigaddset(&a.sa_mask, sig);
		a.sa_flags = SA_RESTART;
		return wrap_sigaction(sig, &a, &o) == 0 ? o.sa_handler : SIG_ERR;
	}
	pthread_mutex_lock(&sigmu);
	void *prev_fn = wrappable(sig) ? atomic_load(&user_fn[sig]) : NULL;
	pthread_mutex_unlock(&sigmu);
	sighandler_t rc = REAL(signal)(sig, handler);
	if (rc == SIG_ERR)
		return rc;
	if ((void *)rc == (void *)trampoline)
		rc = (sighandler_t)prev_fn;
	struct sigaction a;
	if (REAL(sigaction)(sig, NULL, &a) == 0) {
		if (wrappable(sig) && is_handler(&a) && a.sa_handler == handler)
			wrap_sigaction(sig, &a, NULL);
		else
			note_handler(sig, &a);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Exit, exec, fork                                                     */

struct count_ctx {
	size_t live;
};

static void count_live(void *ctx, const struct synack_conn *c)
{
	struct count_ctx *k = ctx;
	if (c->state != SYNACK_TIME_WAIT && c->state != SYNACK_CLOSED &&
	    c->state != SYNACK_LISTEN && c->state != SYNACK_FIN_WAIT_2)
		k->live++;
}

/*
 * The process ends (exit, or exec of another image): every synack socket
 * is closed as the kernel closes a dying process's sockets (a FIN after
 * the queued data; a RST when unread data is pending), and the stack runs
 * for at most SYNACK_EXIT_TIMEOUT_MS until each connection has sent its
 * FIN and had it acknowledged, so that no peer is left with a half-open
 * connection.
 */
static void finish(void)
{
	if (!started || getpid() != my_pid || atomic_load(owner) != my_pid)
		return;
	preload_lock();
	if (!started || detached) {
		preload_unlock();
		return;
	}
	for (size_t i = 0; i < fdcap; i++) {
		struct psock *sk = preload_sock((int)i);
		if (!sk)
			continue;
		if (sk->id >= 0) {
			/* Closed now even if another thread is blocked on it:
			 * that call wakes and fails with EBADF. */
			synack_close(env.st, sk->id);
			if ((size_t)sk->id < byid_cap)
				byid[sk->id] = NULL;
			sk->id = -1;
			preload_wake_sock(sk);
		}
		drop_fd((int)i, sk);
	}
	preload_unlock();
	int64_t deadline = preload_now_ms() + (int64_t)preload_conf.exit_timeout_ms;
	for (;;) {
		struct count_ctx k = {0};
		preload_lock();
		synack_conns(env.st, count_live, &k);
		preload_unlock();
		if (k.live == 0 || preload_now_ms() >= deadline)
			break;
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	atomic_store(&io_stop, 1);
	uint64_t one = 1;
	if (REAL(write)(io_wake, &one, sizeof(one)) < 0) {
		/* a wake is pending */
	}
	pthread_join(io_thread, NULL);
	preload_lock();
	synack_run_flush(env.run);
	/* The capture is complete on disk before an exec replaces the
	 * process (exit would flush it, exec does not). */
	if (preload_conf.net.pcap)
		synack_link_set_pcap(env.link, NULL, NULL, 0);
	detached = 1; /* nothing runs the stack any more */
	/* Free for a child to take (a zombie owner still answers kill 0). */
	atomic_store(owner, 0);
	pthread_mutex_unlock(&mu);
}

static void at_exit(void)
{
	finish();
}

/* The exec family: glibc's execv, execvp ... call execve inside libc, where
 * the preload cannot see it, so each is interposed.  A failed exec has
 * closed the sockets already (docs/PRELOAD.md). */
EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	finish();
	return REAL(execve)(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	finish();
	return REAL(execv)(path, argv);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	finish();
	return REAL(execvp)(file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	finish();
	return REAL(execvpe)(file, argv, envp);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	finish();
	return REAL(fexecve)(fd, argv, envp);
}

/* execl, execlp, execle: the list made an array (as glibc does). */
#define PRELOAD_EXECL_MAX 4096
static int execl_common(const char *path, const char *arg, va_list ap, int kind)
{
	char *argv[PRELOAD_EXECL_MAX];
	int n = 0;
	argv[n++] = (char *)arg;
	while (arg && n < PRELOAD_EXECL_MAX) {
		arg = va_arg(ap, const char *);
		argv[n++] = (char *)arg;
	}
	if (n == PRELOAD_EXECL_MAX && argv[n - 1])
		return fail(E2BIG);
	char *const *envp = kind == 2 ? va_arg(ap, char *const *) : environ;
	if (kind == 1)
		return execvpe(path, argv, environ);
	return execve(path, argv, envp);
}

EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	int rc = execl_common(path, arg, ap, 0);
	va_end(ap);
	return rc;
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	int rc = execl_common(file, arg, ap, 1);
	va_end(ap);
	return rc;
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	int rc = execl_common(path, arg, ap, 2);
	va_end(ap);
	return rc;
}

static void fork_prepare(void)
{
	pthread_mutex_lock(&mu);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&mu);
}

/*
 * The child of fork() has a copy of the stack and no I/O thread.  The
 * stack follows the first process that uses a synack socket after the
 * fork: see preload_owned().  Until then the child only holds descriptors.
 */
static void fork_child(void)
{
	pthread_mutex_init(&mu, NULL);
	parent_pid = my_pid;
	my_pid = getpid();
}

static __attribute__((constructor)) void preload_init(void)
{
	preload_resolve();
	preload_env_load();
	struct rlimit rl;
	fdcap = 1u << 16;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max > fdcap)
		fdcap = rl.rlim_max < (1u << 20) ? (size_t)rl.rlim_max : (1u << 20);
	void *p = mmap(NULL, fdcap * sizeof(*fdtab), PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	void *o =
	    mmap(NULL, sizeof(pid_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || o == MAP_FAILED) {
		fprintf(stderr, "libsynack-preload: out of memory at start\n");
		exit(2);
	}
	fdtab = p;
	owner = o;
	my_pid = getpid();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	/* Handlers set before the library loaded go behind the trampoline
	 * too. */
	for (int sig = 1; sig <= 64; sig++) {
		struct sigaction a;
		if (REAL(sigaction)(sig, NULL, &a) != 0)
			continue;
		if (wrappable(sig) && is_handler(&a))
			wrap_sigaction(sig, &a, NULL);
		else
			note_handler(sig, &a);
	}
}
