/*
 * The run loop: one stack and one link on CLOCK_MONOTONIC with epoll.
 *
 * Each turn sleeps exactly until the earliest thing that wants to happen:
 * a datagram on the device (epoll), the stack's next timer, the link's next
 * deadline (an ARP retry, a datagram the impairments delayed, a capture
 * flush), a descriptor of the caller's, a signal or a wake.  The sleep is
 * epoll_pwait2's (nanoseconds), so a 40 ms delayed ACK fires at 40 ms, not
 * at the next millisecond tick.
 */
#define _GNU_SOURCE
#include "synack/run.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define RUN_BUF 65536u
/*
 * How a turn takes input, after Linux's NAPI (net/core/dev.c).  A driver's
 * poll handles at most its weight of frames (NAPI_POLL_WEIGHT, 64) before
 * the others get their turn, and one softirq run stops after netdev_budget
 * frames (300) or netdev_budget_usecs, so user space is not starved by a
 * flood.  Here the kernel's device queue is the ring a NIC would have, and
 * what overflows it is lost (tx_dropped) until the sender's retransmission
 * timeout, a second or more.  So a turn reads until the device has nothing
 * (EAGAIN): a queue emptied whenever the loop gets a CPU is the best
 * defence when it does not get one promptly.  Every RUN_WEIGHT datagrams
 * the stack's clock and timers are advanced and its output is written, as
 * the NAPI poll hands its work on: replies and ACKs leave while the rest is
 * read, and the outbox (outbox_max) never has to hold a whole burst's.  A
 * turn ends after RUN_TURN_BUDGET datagrams even if more wait, so the
 * caller's descriptors, signals and the applications still run under a
 * flood that never lets the queue empty (the next turn goes on at once:
 * the device stays readable).  It counts datagrams, not time, so a turn
 * does the same whatever the machine's speed.
 */
#define RUN_WEIGHT 64
#define RUN_TURN_BUDGET 4096
#define RUN_MAX_EVENTS 64
#define RUN_SIGNALS 32 /* signals remembered until taken */

/* Tags of the descriptors in the epoll set that are not the caller's. */
#define TAG_LINK (-1)
#define TAG_WAKE (-2)
#define TAG_SIGNAL (-3)

struct user_fd {
	int fd;
	synack_run_fd_fn fn;
	void *ctx;
	uint32_t fired; /* events reported in this turn */
};

struct synack_run {
	struct synack_stack *st;
	struct synack_link *link;
	int epfd, wakefd, sigfd;
	sigset_t sigs, old_mask;
	struct sigaction old_act[NSIG]; /* dispositions we changed from SIG_IGN */
	sigset_t unignored;
	int have_sigs;
	int signals[RUN_SIGNALS];
	size_t nsignals;
	int interrupted;
	struct timespec t0;
	uint64_t base;        /* the stack's time when the loop started */
	uint64_t advanced_to; /* the last time given to synack_advance */
	struct user_fd *fds;
	size_t nfds, capfds;
	uint8_t *buf;
};

uint64_t synack_run_now(const struct synack_run *r)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns =
	    (int64_t)(ts.tv_sec - r->t0.tv_sec) * 1000000000 + (ts.tv_nsec - r->t0.tv_nsec);
	return r->base + (ns > 0 ? (uint64_t)ns / 1000u : 0);
}

static int ep_add(int epfd, int fd, uint32_t events, int tag)
{
	struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)(int64_t)tag};
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

struct synack_run *synack_run_new(struct synack_stack *st, struct synack_link *link, int *error)
{
	int dummy;
	if (!error)
		error = &dummy;
	if (!st || !link) {
		*error = -EINVAL;
		return NULL;
	}
	struct synack_run *r = calloc(1, sizeof(*r));
	if (!r) {
		*error = -ENOMEM;
		return NULL;
	}
	r->st = st;
	r->link = link;
	r->sigfd = -1;
	r->wakefd = -1;
	r->buf = malloc(RUN_BUF);
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!r->buf || r->epfd < 0) {
		*error = r->buf ? -errno : -ENOMEM;
		goto fail;
	}
	r->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->wakefd < 0) {
		*error = -errno;
		goto fail;
	}
	int rc = ep_add(r->epfd, synack_link_fd(link), EPOLLIN, TAG_LINK);
	if (!rc)
		rc = ep_add(r->epfd, r->wakefd, EPOLLIN, TAG_WAKE);
	/* A queue of a multi-queue device: news from the other queues is
	 * input too (synack_link_wake_fd). */
	if (!rc && synack_link_wake_fd(link) >= 0)
		rc = ep_add(r->epfd, synack_link_wake_fd(link), EPOLLIN, TAG_LINK);
	if (rc) {
		*error = rc;
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->base = synack_now(st);
	r->advanced_to = r->base;
	*error = 0;
	return r;
fail:
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->wakefd >= 0)
		close(r->wakefd);
	free(r->buf);
	free(r);
	return NULL;
}

void synack_run_free(struct synack_run *r)
{
	if (!r)
		return;
	if (r->have_sigs) {
		for (int sig = 1; sig < NSIG; sig++)
			if (sigismember(&r->unignored, sig) == 1)
				sigaction(sig, &r->old_act[sig], NULL);
		sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
		close(r->sigfd);
	}
	close(r->epfd);
	close(r->wakefd);
	free(r->fds);
	free(r->buf);
	free(r);
}

struct synack_stack *synack_run_stack(const struct synack_run *r)
{
	return r ? r->st : NULL;
}

struct synack_link *synack_run_link(const struct synack_run *r)
{
	return r ? r->link : NULL;
}

void synack_run_flush(struct synack_run *r)
{
	uint64_t now = synack_run_now(r);
	ssize_t n;
	struct synack_endpoint hop;
	/* Each datagram to its next hop, which the stack's routes chose. */
	while ((n = synack_output_via(r->st, r->buf, RUN_BUF, &hop)) > 0)
		synack_link_send_via(r->link, now, r->buf, (size_t)n, &hop);
	/* What the link joined into a super-segment goes now (tso). */
	synack_link_flush(r->link, now);
}

int synack_run_add_fd(struct synack_run *r, int fd, uint32_t events, synack_run_fd_fn fn, void *ctx)
{
	if (!r || fd < 0 || !fn)
		return -EINVAL;
	for (size_t i = 0; i < r->nfds; i++)
		if (r->fds[i].fd == fd)
			return -EEXIST;
	if (r->nfds == r->capfds) {
		size_t cap = r->capfds ? r->capfds * 2 : 4;
		struct user_fd *v = realloc(r->fds, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->fds = v;
		r->capfds = cap;
	}
	int rc = ep_add(r->epfd, fd, events, fd);
	if (rc)
		return rc;
	r->fds[r->nfds++] = (struct user_fd){.fd = fd, .fn = fn, .ctx = ctx};
	return 0;
}

int synack_run_del_fd(struct synack_run *r, int fd)
{
	if (!r)
		return -EINVAL;
	for (size_t i = 0; i < r->nfds; i++) {
		if (r->fds[i].fd != fd)
			continue;
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
		r->fds[i] = r->fds[--r->nfds];
		return 0;
	}
	return -ENOENT;
}

int synack_run_watch_signals(struct synack_run *r, const int *signals, size_t n)
{
	if (!r || (!signals && n) || n > SYNACK_RUN_MAX_SIGNALS)
		return -EINVAL;
	if (!n)
		return 0;
	sigset_t add;
	sigemptyset(&add);
	for (size_t i = 0; i < n; i++) {
		/* SIGKILL and SIGSTOP can be neither blocked nor read. */
		int sig = signals[i];
		if (sig < 1 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP ||
		    sigaddset(&add, sig) != 0)
			return -EINVAL;
	}
	/* A signalfd reads exactly its mask: it is the union of every call's. */
	sigset_t set = add;
	if (r->have_sigs)
		sigorset(&set, &r->sigs, &add);
	sigset_t old;
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
		return -errno;
	int fd = signalfd(r->sigfd, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		int e = -errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		return e;
	}
	if (r->sigfd < 0) {
		int rc = ep_add(r->epfd, fd, EPOLLIN, TAG_SIGNAL);
		if (rc) {
			close(fd);
			sigprocmask(SIG_SETMASK, &old, NULL);
			return rc;
		}
	}
	if (!r->have_sigs) {
		r->old_mask = old;
		sigemptyset(&r->unignored);
	}
	/* An ignored signal is discarded when it is sent, before a signalfd
	 * could read it; shells start background jobs with SIGINT ignored.
	 * Blocked, the default action never runs, so restoring it is safe. */
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction act;
		if (sigismember(&add, sig) != 1 || sigismember(&r->unignored, sig) == 1 ||
		    sigaction(sig, NULL, &act) != 0 || act.sa_handler != SIG_IGN)
			continue;
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		if (sigaction(sig, &dfl, &r->old_act[sig]) == 0)
			sigaddset(&r->unignored, sig);
	}
	r->sigfd = fd;
	r->sigs = set;
	r->have_sigs = 1;
	return 0;
}

int synack_run_take_signal(struct synack_run *r)
{
	if (!r || !r->nsignals)
		return 0;
	int sig = r->signals[0];
	memmove(&r->signals[0], &r->signals[1], (r->nsignals - 1) * sizeof(r->signals[0]));
	r->nsignals--;
	return sig;
}

void synack_run_wake(struct synack_run *r)
{
	uint64_t one = 1;
	if (r && write(r->wakefd, &one, sizeof(one)) < 0) {
		/* The counter is full: a wake is pending anyway. */
	}
}

static void read_signals(struct synack_run *r)
{
	struct signalfd_siginfo si;
	while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (r->nsignals < RUN_SIGNALS)
			r->signals[r->nsignals++] = (int)si.ssi_signo;
		r->interrupted = 1;
	}
}

/* The earliest time something is due, in the loop's clock. */
static uint64_t next_due(struct synack_run *r)
{
	uint64_t d = synack_next_deadline(r->st);
	/* A deadline the stack was already advanced past and left in place
	 * would spin the loop; it gets its next chance a millisecond later. */
	if (d != SYNACK_NEVER && d <= r->advanced_to)
		d = r->advanced_to + 1000;
	uint64_t l = synack_link_next_deadline(r->link);
	return l < d ? l : d;
}

/* Runs the stack's and the link's timers up to now and writes what they
 * and the input made. */
static void service(struct synack_run *r, uint64_t now)
{
	synack_advance(r->st, now);
	r->advanced_to = now;
	synack_link_advance(r->link, now);
	/* Destinations the link gave up resolving fail their connections
	 * as in Linux (RFC 1122 4.2.3.9). */
	for (uint32_t a; synack_link_unreachable_next(r->link, &a) > 0;)
		synack_unreachable(r->st, now, &(struct synack_endpoint){.addr = a}, -EHOSTUNREACH);
	struct synack_endpoint e6 = {.family = SYNACK_AF_INET6};
	while (synack_link_unreachable6_next(r->link, e6.addr6) > 0)
		synack_unreachable(r->st, now, &e6, -EHOSTUNREACH);
	synack_run_flush(r);
}

/* Feeds the stack what the link has for it (input and due delayed
 * datagrams) until the device has nothing or the turn's budget is spent,
 * servicing the stack every RUN_WEIGHT datagrams (see RUN_WEIGHT).
 * Returns 0 or the device's error. */
static int feed(struct synack_run *r, uint64_t now)
{
	for (int i = 1; i <= RUN_TURN_BUDGET; i++) {
		/* The datagram where the link read it, with its checksum
		 * state (issue 16 item 2). */
		const void *pkt;
		unsigned flags;
		ssize_t n = synack_link_recv_ref(r->link, now, &pkt, &flags);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		/* A drop is counted by the stack itself.  The stack may keep
		 * the frame's buffer, text and all, until the application
		 * reads it (the zero-copy receive queue). */
		size_t size = 0;
		void *block = synack_link_rbuf(r->link, pkt, &size);
		int kept = 0;
		(void)synack_input_block(r->st, now, pkt, (size_t)n, flags, block, size, &kept);
		if (kept)
			synack_link_give_rbuf(r->link, synack_block_spare(r->st, size));
		if (i % RUN_WEIGHT == 0) {
			now = synack_run_now(r);
			service(r, now);
		}
	}
	return 0;
}

int synack_run_once(struct synack_run *r, uint64_t timeout_us)
{
	if (!r)
		return -EINVAL;
	synack_run_flush(r);
	uint64_t now = synack_run_now(r);
	uint64_t until = next_due(r);
	if (timeout_us != SYNACK_NEVER && now + timeout_us < until)
		until = now + timeout_us;

	struct epoll_event evs[RUN_MAX_EVENTS];
	int n;
	if (r->interrupted) {
		n = 0; /* a wake or signal from a callback: do not sleep */
	} else if (until == SYNACK_NEVER) {
		n = epoll_pwait2(r->epfd, evs, RUN_MAX_EVENTS, NULL, NULL);
	} else {
		uint64_t wait = until > now ? until - now : 0;
		struct timespec ts = {.tv_sec = (time_t)(wait / 1000000),
		                      .tv_nsec = (long)(wait % 1000000) * 1000};
		n = epoll_pwait2(r->epfd, evs, RUN_MAX_EVENTS, &ts, NULL);
	}
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	int link_input = 0;
	for (int i = 0; i < n; i++) {
		int tag = (int)(int64_t)evs[i].data.u64;
		if (tag == TAG_LINK) {
			link_input = 1;
		} else if (tag == TAG_WAKE) {
			uint64_t v;
			if (read(r->wakefd, &v, sizeof(v)) > 0)
				r->interrupted = 1;
		} else if (tag == TAG_SIGNAL) {
			read_signals(r);
		} else {
			for (size_t k = 0; k < r->nfds; k++)
				if (r->fds[k].fd == tag)
					r->fds[k].fired |= evs[i].events;
		}
	}

	now = synack_run_now(r);
	int rc = 0;
	if (link_input || synack_link_next_deadline(r->link) <= now)
		rc = feed(r, now);
	service(r, synack_run_now(r));

	/* The caller's descriptors last, with the stack up to date.  A
	 * callback may add or remove descriptors, so look each up again. */
	for (size_t k = 0; k < r->nfds; k++) {
		if (!r->fds[k].fired)
			continue;
		uint32_t ev = r->fds[k].fired;
		r->fds[k].fired = 0;
		r->fds[k].fn(r->fds[k].ctx, r->fds[k].fd, ev);
	}
	if (rc)
		return rc;
	if (r->interrupted) {
		r->interrupted = 0;
		return -EINTR;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Blocking style.                                                     */

static uint64_t deadline_of(struct synack_run *r, int timeout_ms)
{
	if (timeout_ms < 0)
		return SYNACK_NEVER;
	return synack_run_now(r) + (uint64_t)timeout_ms * 1000;
}

/* One turn for a blocking helper: 0, -EAGAIN (timed out), -EINTR or the
 * device's error. */
static int turn(struct synack_run *r, uint64_t deadline)
{
	if (r->nsignals)
		return -EINTR;
	uint64_t now = synack_run_now(r);
	if (deadline != SYNACK_NEVER && now >= deadline)
		return -EAGAIN;
	return synack_run_once(r, deadline == SYNACK_NEVER ? SYNACK_NEVER : deadline - now);
}

static int wait_until(struct synack_run *r, int s, uint32_t events, uint64_t deadline)
{
	for (;;) {
		uint32_t ev = synack_events(r->st, s);
		if (ev & events)
			return (int)ev;
		int rc = turn(r, deadline);
		if (rc)
			return rc;
	}
}

int synack_run_wait(struct synack_run *r, int s, uint32_t events, int timeout_ms)
{
	if (!r)
		return -EINVAL;
	return wait_until(r, s, events, deadline_of(r, timeout_ms));
}

static void abort_socket(struct synack_run *r, int s)
{
	synack_setsockopt(r->st, s, SYNACK_SO_LINGER, 0);
	synack_close(r->st, s);
	synack_run_flush(r);
}

int synack_run_connect(struct synack_run *r, const struct synack_endpoint *peer, int timeout_ms)
{
	if (!r || !peer)
		return -EINVAL;
	/* The stack's routes decide (its own addresses stay inside it); a
	 * next hop must also be on the link. */
	struct synack_route route;
	int rc = synack_route_get(r->st, peer, &route);
	if (rc)
		return rc;
	if (route.kind &&
	    !synack_link_routes(r->link,
	                        route.kind == SYNACK_ROUTE_GATEWAY ? route.via.addr : peer->addr))
		return -ENETUNREACH;
	uint64_t deadline = deadline_of(r, timeout_ms);
	/* Socket calls act at the time the stack last saw; bring it to now. */
	synack_advance(r->st, synack_run_now(r));
	int s = synack_socket(r->st);
	if (s < 0)
		return s;
	rc = synack_connect(r->st, s, peer);
	if (rc != -EINPROGRESS && rc != 0) {
		synack_close(r->st, s);
		return rc;
	}
	synack_run_flush(r);
	rc = wait_until(r, s, SYNACK_POLLOUT | SYNACK_POLLERR | SYNACK_POLLHUP, deadline);
	if (rc < 0) {
		abort_socket(r, s);
		return rc == -EAGAIN ? -ETIMEDOUT : rc;
	}
	int err = synack_socket_error(r->st, s);
	if (err || !((uint32_t)rc & SYNACK_POLLOUT)) {
		synack_close(r->st, s);
		synack_run_flush(r);
		return err ? err : -ECONNRESET;
	}
	return s;
}

int synack_run_listen(struct synack_run *r, uint16_t port, int backlog)
{
	if (!r)
		return -EINVAL;
	synack_advance(r->st, synack_run_now(r));
	int s = synack_socket(r->st);
	if (s < 0)
		return s;
	/* Every address of the stack (synack_addr_add), as a server bound
	 * to INADDR_ANY; with an IPv6 address, to :: (issue 14), which takes
	 * IPv4 too, as a Linux listener without IPV6_V6ONLY does. */
	struct synack_endpoint local = {.addr = 0, .port = port};
	uint8_t a6[16];
	if (synack_stack_addr6(r->st, a6))
		local.family = SYNACK_AF_INET6;
	int rc = synack_bind(r->st, s, &local);
	if (!rc)
		rc = synack_listen(r->st, s, backlog);
	if (rc) {
		synack_close(r->st, s);
		return rc;
	}
	return s;
}

int synack_run_accept(struct synack_run *r, int listener, struct synack_endpoint *peer,
                      int timeout_ms)
{
	if (!r)
		return -EINVAL;
	uint64_t deadline = deadline_of(r, timeout_ms);
	for (;;) {
		int s = synack_accept(r->st, listener, peer);
		if (s != -EAGAIN)
			return s;
		int rc = turn(r, deadline);
		if (rc)
			return rc;
	}
}

ssize_t synack_run_send_all(struct synack_run *r, int s, const void *buf, size_t len,
                            int timeout_ms)
{
	if (!r || (!buf && len))
		return -EINVAL;
	uint64_t deadline = deadline_of(r, timeout_ms);
	size_t done = 0;
	while (done < len) {
		synack_advance(r->st, synack_run_now(r));
		ssize_t n = synack_send(r->st, s, (const uint8_t *)buf + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n != -EAGAIN)
			return n;
		synack_run_flush(r);
		int rc =
		    wait_until(r, s, SYNACK_POLLOUT | SYNACK_POLLERR | SYNACK_POLLHUP, deadline);
		if (rc < 0)
			return rc;
	}
	synack_run_flush(r);
	return (ssize_t)len;
}

static ssize_t run_recv_flags(struct synack_run *r, int s, void *buf, size_t len, int flags,
                              int timeout_ms);

ssize_t synack_run_recv(struct synack_run *r, int s, void *buf, size_t len, int timeout_ms)
{
	return run_recv_flags(r, s, buf, len, 0, timeout_ms);
}

/* ------------------------------------------------------------------ */
/* Blocking socket calls with flags, and poll (issue 17 item 11).      */

/* v, but at most s's receive buffer / div (at least 1), as Linux caps
 * SO_RCVLOWAT at half of it: a wait the buffer could never satisfy would
 * hang. */
static uint32_t buf_cap(struct synack_run *r, int s, uint32_t v, uint32_t div)
{
	int buf = 0;
	if (synack_getsockopt(r->st, s, SYNACK_SO_RCVBUF, &buf) == 0 && (uint32_t)buf / div < v)
		v = (uint32_t)buf / div;
	return v ? v : 1;
}

/* May a blocking read of s go: want bytes unread, or the end of the
 * stream, an error, or a socket recv() answers at once?  *inq: unread. */
static int readable(struct synack_run *r, int s, uint32_t want, int *inq)
{
	uint32_t ev = synack_events(r->st, s);
	*inq = 0;
	if (ev & (SYNACK_POLLERR | SYNACK_POLLHUP | SYNACK_POLLRDHUP))
		return 1;
	if (synack_ioctl(r->st, s, SYNACK_SIOCINQ, inq) != 0)
		return 1; /* a listener or a bad socket: recv() says why */
	/* Readable with nothing unread: shut for reading, at the end. */
	return (uint32_t)*inq >= want || ((ev & SYNACK_POLLIN) && *inq == 0);
}

ssize_t synack_run_recv_flags(struct synack_run *r, int s, void *buf, size_t len, int flags,
                              int timeout_ms)
{
	return run_recv_flags(r, s, buf, len, flags, timeout_ms);
}

static ssize_t run_recv_flags(struct synack_run *r, int s, void *buf, size_t len, int flags,
                              int timeout_ms)
{
	if (!r || (!buf && len))
		return -EINVAL;
	uint64_t deadline = deadline_of(r, timeout_ms);
	int peek = flags & SYNACK_MSG_PEEK, waitall = flags & SYNACK_MSG_WAITALL;
	if (flags & ~(SYNACK_MSG_PEEK | SYNACK_MSG_DONTWAIT | SYNACK_MSG_WAITALL))
		return -EOPNOTSUPP; /* as synack_recv, before any wait */
	if ((flags & SYNACK_MSG_DONTWAIT) || len == 0) {
		/* What has arrived at the device counts: one turn that
		 * does not sleep takes it in. */
		int rc = synack_run_once(r, 0);
		if (rc)
			return rc;
		ssize_t n = synack_recv(r->st, s, buf, len, flags);
		synack_run_flush(r);
		return n;
	}
	uint32_t cap = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	int lowat = 1;
	(void)synack_getsockopt(r->st, s, SYNACK_SO_RCVLOWAT, &lowat);
	size_t got = 0;
	for (;;) {
		/* Linux's sock_rcvlowat: min(len, SO_RCVLOWAT); with
		 * WAITALL, whatever comes is taken until len is (a peek
		 * waits for all of it, as far as the buffer can hold). */
		uint32_t want =
		    waitall ? (peek ? buf_cap(r, s, cap, 1) : 1)
		            : buf_cap(r, s, cap < (uint32_t)lowat ? cap : (uint32_t)lowat, 2);
		int inq;
		while (!readable(r, s, want, &inq)) {
			int rc = turn(r, deadline);
			if (rc)
				return got ? (ssize_t)got : rc;
		}
		/* The end or an error after some data: the data now, the
		 * rest on the next call (recv() would consume the error). */
		if (got && inq == 0)
			break;
		ssize_t n = synack_recv(r->st, s, (uint8_t *)buf + got, len - got,
		                        flags & ~SYNACK_MSG_WAITALL);
		synack_run_flush(r); /* reading opens the window */
		if (n <= 0)
			return got ? (ssize_t)got : n;
		got += (size_t)n;
		if (!waitall || peek || got == len || len == 0)
			break;
	}
	return (ssize_t)got;
}

ssize_t synack_run_send(struct synack_run *r, int s, const void *buf, size_t len, int flags,
                        int timeout_ms)
{
	if (!r || (!buf && len))
		return -EINVAL;
	uint64_t deadline = deadline_of(r, timeout_ms);
	size_t done = 0;
	for (;;) {
		synack_advance(r->st, synack_run_now(r));
		struct synack_iovec iov = {(uint8_t *)(uintptr_t)buf + done, len - done};
		ssize_t n = synack_sendv(r->st, s, &iov, 1, flags);
		if (n > 0) {
			done += (size_t)n;
			if (done == len || (flags & SYNACK_MSG_DONTWAIT))
				break;
			continue;
		}
		if (n == 0)
			break;
		if (n != -EAGAIN || (flags & SYNACK_MSG_DONTWAIT)) {
			synack_run_flush(r);
			return done ? (ssize_t)done : n;
		}
		synack_run_flush(r);
		int rc =
		    wait_until(r, s, SYNACK_POLLOUT | SYNACK_POLLERR | SYNACK_POLLHUP, deadline);
		if (rc < 0)
			return done ? (ssize_t)done : rc;
	}
	synack_run_flush(r);
	return (ssize_t)done;
}

int synack_run_poll(struct synack_run *r, struct synack_pollfd *fds, size_t n, int timeout_ms)
{
	if (!r || (!fds && n) || n > SYNACK_RUN_POLL_MAX)
		return -EINVAL;
	uint64_t deadline = deadline_of(r, timeout_ms);
	for (;;) {
		int ready = 0;
		for (size_t i = 0; i < n; i++) {
			struct synack_endpoint ep;
			fds[i].revents = 0;
			if (fds[i].socket < 0)
				continue;
			if (synack_getsockname(r->st, fds[i].socket, &ep) != 0)
				fds[i].revents = SYNACK_POLLNVAL;
			else
				fds[i].revents = synack_events(r->st, fds[i].socket) &
				                 (fds[i].events | SYNACK_POLLERR | SYNACK_POLLHUP);
			ready += fds[i].revents != 0;
		}
		if (ready)
			return ready;
		int rc = turn(r, deadline);
		if (rc)
			return rc == -EAGAIN ? 0 : rc;
	}
}

struct conn_find {
	struct synack_endpoint local, remote;
	int state;
};

static void conn_find_fn(void *ctx, const struct synack_conn *c)
{
	struct conn_find *f = ctx;
	if (c->local.addr == f->local.addr && c->local.port == f->local.port &&
	    c->remote.addr == f->remote.addr && c->remote.port == f->remote.port)
		f->state = c->state;
}

int synack_run_conn_state(struct synack_run *r, const struct synack_endpoint *local,
                          const struct synack_endpoint *remote)
{
	if (!r || !local || !remote)
		return -EINVAL;
	struct conn_find f = {.local = *local, .remote = *remote, .state = SYNACK_CLOSED};
	synack_conns(r->st, conn_find_fn, &f);
	return f.state;
}

int synack_run_close(struct synack_run *r, int s, int timeout_ms)
{
	if (!r)
		return -EINVAL;
	uint64_t deadline = deadline_of(r, timeout_ms);
	struct synack_endpoint local, remote;
	int known =
	    synack_getsockname(r->st, s, &local) == 0 && synack_getpeername(r->st, s, &remote) == 0;
	synack_advance(r->st, synack_run_now(r));
	int rc = synack_close(r->st, s);
	if (rc)
		return rc;
	synack_run_flush(r);
	if (!known)
		return 0;
	for (;;) {
		int state = synack_run_conn_state(r, &local, &remote);
		if (state == SYNACK_CLOSED || state == SYNACK_TIME_WAIT)
			return 0;
		rc = turn(r, deadline);
		if (rc)
			return rc;
	}
}
