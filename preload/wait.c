/*
 * libsynack-preload: waiting on descriptors (poll, ppoll, select, pselect,
 * epoll) when some of them are synack sockets.
 *
 * A synack socket's eventfd is readable as the socket is, but always
 * writable, so these calls cannot simply be handed to the kernel.  They
 * ask the stack for each synack socket's readiness, and when nothing is
 * ready they sleep in the kernel on the other descriptors plus one
 * eventfd of the calling thread, which the I/O thread (or another
 * application thread) writes when one of the sockets changes.  Nothing
 * busy-waits.
 *
 * epoll: the program's epoll set stays a kernel one, holding its other
 * descriptors; a synack socket added to it is kept here instead (events,
 * data, EPOLLET, EPOLLONESHOT), with a ready list the socket's changes
 * feed, and the set gets one more eventfd of ours, made readable when the
 * ready list gains an entry.  epoll_wait reports from the ready list, then
 * from the kernel; the eventfd's events (its data is our record's address,
 * which no program's data can equal) are taken out.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"

#define EXPORT __attribute__((visibility("default")))
#define R preload_real

/* ------------------------------------------------------------------ */
/* Sleeping threads                                                     */

struct pwait {
	int efd;   /* readable when woken */
	int woken; /* efd written since the thread last went to sleep */
};

struct pwnode {
	struct pwait *w;
	struct pwnode *next;
};

static pthread_key_t wkey;
static pthread_once_t wonce = PTHREAD_ONCE_INIT;

static void waiter_free(void *p)
{
	struct pwait *w = p;
	R.close(w->efd);
	free(w);
}

static void waiter_key(void)
{
	pthread_key_create(&wkey, waiter_free);
}

static struct pwait *waiter(void)
{
	pthread_once(&wonce, waiter_key);
	struct pwait *w = pthread_getspecific(wkey);
	if (w)
		return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		free(w);
		return NULL;
	}
	pthread_setspecific(wkey, w);
	return w;
}

static void wake(struct pwait *w)
{
	if (w->woken)
		return;
	uint64_t one = 1;
	if (R.write(w->efd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		w->woken = 1;
}

int preload_sleep(struct psock **socks, size_t n, struct pollfd *kfds, nfds_t nk, int timeout_ms,
                  const sigset_t *mask)
{
	struct pwait *w = waiter();
	struct pwnode small[8], *nodes = small;
	struct pollfd psmall[9], *pfd = psmall;
	if (!w)
		return -ENOMEM;
	if (n > 8 && !(nodes = malloc(n * sizeof(*nodes))))
		return -ENOMEM;
	if (nk + 1 > 9 && !(pfd = malloc((nk + 1) * sizeof(*pfd)))) {
		if (nodes != small)
			free(nodes);
		return -ENOMEM;
	}
	w->woken = 0;
	for (size_t i = 0; i < n; i++) {
		struct pwnode **head = preload_sock_waiters(socks[i]);
		nodes[i].w = w;
		nodes[i].next = *head;
		*head = &nodes[i];
		preload_hold(socks[i]);
	}
	if (nk)
		memcpy(pfd, kfds, nk * sizeof(*pfd));
	pfd[nk] = (struct pollfd){w->efd, POLLIN, 0};
	preload_unlock();

	struct timespec ts, *tsp = NULL;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	int rc = R.ppoll(pfd, nk + 1, tsp, mask);
	int e = errno;
	if (rc > 0 && pfd[nk].revents) {
		uint64_t v;
		if (R.read(w->efd, &v, sizeof(v)) < 0) {
			/* drained already */
		}
		rc--;
	}
	if (nk)
		for (nfds_t i = 0; i < nk; i++)
			kfds[i].revents = pfd[i].revents;

	preload_lock();
	for (size_t i = 0; i < n; i++) {
		struct pwnode **p = preload_sock_waiters(socks[i]);
		while (*p && *p != &nodes[i])
			p = &(*p)->next;
		if (*p)
			*p = nodes[i].next;
	}
	for (size_t i = 0; i < n; i++)
		preload_release(socks[i]);
	if (nodes != small)
		free(nodes);
	if (pfd != psmall)
		free(pfd);
	return rc < 0 ? -e : rc;
}

/* ------------------------------------------------------------------ */
/* epoll                                                                */

struct pep {
	int epfd;
	int nfd;      /* our eventfd in the kernel set: readable when ready gains */
	int notified; /* nfd written and not yet drained */
	struct preg *regs, *ready;
};

struct preg {
	struct pep *ep;
	struct psock *sk;
	int fd;
	uint32_t events;
	epoll_data_t data;
	int disabled; /* EPOLLONESHOT fired, until EPOLL_CTL_MOD */
	int on_ready;
	struct preg *next_sk, *next_ep, *next_ready;
};

static int ts_ms(const struct timespec *ts);

static _Atomic(struct pep *) *peptab;
static size_t pepcap;

static struct pep *pep_of(int fd)
{
	_Atomic(struct pep *) *t = peptab;
	if (fd < 0 || (size_t)fd >= pepcap || !t)
		return NULL;
	return atomic_load_explicit(&t[fd], memory_order_acquire);
}

int preload_epoll_known(int fd)
{
	return pep_of(fd) != NULL;
}

static void ep_ready(struct preg *r)
{
	if (r->disabled)
		return;
	if (!r->on_ready) {
		r->on_ready = 1;
		r->next_ready = r->ep->ready;
		r->ep->ready = r;
	}
	if (!r->ep->notified) {
		uint64_t one = 1;
		if (R.write(r->ep->nfd, &one, sizeof(one)) == (ssize_t)sizeof(one))
			r->ep->notified = 1;
	}
}

void preload_wake_sock(struct psock *sk)
{
	for (struct pwnode *n = *preload_sock_waiters(sk); n; n = n->next)
		wake(n->w);
	for (struct preg *r = *preload_sock_regs(sk); r; r = r->next_sk)
		ep_ready(r);
}

static void reg_unlink(struct preg *r)
{
	struct preg **p = preload_sock_regs(r->sk);
	while (*p && *p != r)
		p = &(*p)->next_sk;
	if (*p)
		*p = r->next_sk;
	for (p = &r->ep->regs; *p && *p != r; p = &(*p)->next_ep)
		;
	if (*p)
		*p = r->next_ep;
	for (p = &r->ep->ready; *p && *p != r; p = &(*p)->next_ready)
		;
	if (*p)
		*p = r->next_ready;
	free(r);
}

void preload_epoll_forget_sock(struct psock *sk)
{
	while (*preload_sock_regs(sk))
		reg_unlink(*preload_sock_regs(sk));
}

void preload_epoll_closed(int fd)
{
	struct pep *ep = pep_of(fd);
	if (!ep)
		return;
	while (ep->regs)
		reg_unlink(ep->regs);
	atomic_store(&peptab[fd], NULL);
	R.close(ep->nfd);
	free(ep);
}

/* With the lock held: epfd's record, made (with its eventfd in the set)
 * when create; NULL with *err. */
static struct pep *pep_get(int epfd, int create, int *err)
{
	struct pep *ep = pep_of(epfd);
	if (ep || !create) {
		*err = -ENOENT;
		return ep;
	}
	if (!peptab) {
		pepcap = preload_fdcap();
		peptab = calloc(pepcap, sizeof(*peptab));
		if (!peptab) {
			*err = -ENOMEM;
			return NULL;
		}
	}
	if (epfd < 0 || (size_t)epfd >= pepcap) {
		*err = -EBADF;
		return NULL;
	}
	ep = calloc(1, sizeof(*ep));
	if (!ep) {
		*err = -ENOMEM;
		return NULL;
	}
	ep->epfd = epfd;
	ep->nfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ep->nfd < 0) {
		*err = -errno;
		free(ep);
		return NULL;
	}
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = ep};
	if (R.epoll_ctl(epfd, EPOLL_CTL_ADD, ep->nfd, &e) != 0) {
		*err = -errno; /* EBADF, EINVAL (not an epoll set) */
		R.close(ep->nfd);
		free(ep);
		return NULL;
	}
	atomic_store_explicit(&peptab[epfd], ep, memory_order_release);
	return ep;
}

EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (!preload_sock(fd))
		return R.epoll_ctl(epfd, op, fd, ev);
	preload_lock();
	struct psock *sk = preload_sock(fd);
	if (!sk) {
		preload_unlock();
		return R.epoll_ctl(epfd, op, fd, ev);
	}
	int rc = 0;
	if (!preload_owned()) {
		rc = preload_lost();
	} else if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL) {
		rc = -EINVAL;
	} else if (op != EPOLL_CTL_DEL && !preload_mem_ok(ev, sizeof(*ev), 0)) {
		rc = -EFAULT;
	} else if (epfd == fd) {
		rc = -EINVAL;
	} else {
		struct pep *ep = pep_get(epfd, op == EPOLL_CTL_ADD, &rc);
		struct preg *r = NULL;
		if (!ep && op != EPOLL_CTL_ADD) {
			/* No synack socket in this set: the kernel says whether
			 * epfd is one (ENOENT) or not (EBADF, EINVAL). */
			struct epoll_event dummy = {0};
			rc = R.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &dummy) == 0 ? -ENOENT : -errno;
			if (rc == -ENOENT || rc == -EPERM)
				rc = -ENOENT;
		}
		if (ep) {
			rc = 0;
			for (r = ep->regs; r && r->fd != fd; r = r->next_ep)
				;
			if (op == EPOLL_CTL_ADD && r) {
				rc = -EEXIST;
			} else if (op == EPOLL_CTL_ADD) {
				r = calloc(1, sizeof(*r));
				if (!r) {
					rc = -ENOMEM;
				} else {
					r->ep = ep;
					r->sk = sk;
					r->fd = fd;
					r->events = ev->events;
					r->data = ev->data;
					r->next_ep = ep->regs;
					ep->regs = r;
					struct preg **head = preload_sock_regs(sk);
					r->next_sk = *head;
					*head = r;
					ep_ready(r);
				}
			} else if (!r) {
				rc = -ENOENT;
			} else if (op == EPOLL_CTL_MOD) {
				r->events = ev->events;
				r->data = ev->data;
				r->disabled = 0;
				ep_ready(r);
			} else {
				reg_unlink(r);
			}
		}
	}
	preload_unlock();
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* With the lock held: up to max events from ep's ready list. */
static int harvest(struct pep *ep, struct epoll_event *evs, int max)
{
	int n = 0;
	struct preg *keep = NULL, **tail = &keep, *r = ep->ready;
	ep->ready = NULL;
	while (r) {
		struct preg *next = r->next_ready;
		uint32_t ev = 0;
		if (n < max && !r->disabled)
			ev = preload_events(r->sk) & (r->events | EPOLLERR | EPOLLHUP) &
			     (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP);
		int stay;
		if (n >= max) {
			stay = 1; /* not looked at: next time */
		} else if (!ev) {
			stay = 0;
		} else {
			evs[n].events = ev;
			evs[n].data = r->data;
			n++;
			if (r->events & EPOLLONESHOT)
				r->disabled = 1;
			stay = !(r->events & (EPOLLET | EPOLLONESHOT));
		}
		if (stay) {
			*tail = r;
			tail = &r->next_ready;
		} else {
			r->on_ready = 0;
		}
		r = next;
	}
	*tail = NULL;
	ep->ready = keep;
	return n;
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout,
                       const sigset_t *mask)
{
	if (!pep_of(epfd) || max <= 0 || max > INT_MAX / (int)sizeof(*evs) || !evs)
		return R.epoll_pwait(epfd, evs, max, timeout, mask);
	/* An array that faults: EFAULT (Linux finds out when it writes the
	 * first event; here before waiting). */
	if (!preload_mem_ok(evs, (size_t)max * sizeof(*evs), 1)) {
		errno = EFAULT;
		return -1;
	}
	int64_t deadline = timeout < 0 ? -1 : preload_now_ms() + timeout;
	for (;;) {
		preload_lock();
		struct pep *ep = pep_of(epfd);
		if (!ep) {
			preload_unlock();
			return R.epoll_pwait(epfd, evs, max, timeout, mask);
		}
		if (ep->notified) {
			uint64_t v;
			if (R.read(ep->nfd, &v, sizeof(v)) < 0) {
				/* drained */
			}
			ep->notified = 0;
		}
		int n = preload_owned() ? harvest(ep, evs, max) : (preload_lost(), 0);
		preload_unlock();
		int t = 0;
		if (n == 0 && deadline >= 0) {
			int64_t left = deadline - preload_now_ms();
			t = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
		} else if (n == 0) {
			t = -1;
		}
		int k = n < max ? R.epoll_pwait(epfd, evs + n, max - n, t, mask) : 0;
		if (k < 0)
			return n > 0 ? n : -1;
		int m = n;
		for (int i = n; i < n + k; i++)
			if (evs[i].data.ptr != (void *)ep)
				evs[m++] = evs[i];
		if (m > 0 || k == 0)
			return m;
	}
}

/* epoll_pwait2 (Linux 5.11): a timespec instead of milliseconds, rounded
 * up to the next millisecond for a set holding synack sockets. */
EXPORT int epoll_pwait2(int epfd, struct epoll_event *evs, int max, const struct timespec *ts,
                        const sigset_t *mask)
{
	if (!pep_of(epfd)) {
		if (!R.epoll_pwait2)
			*(void **)&R.epoll_pwait2 = dlsym(RTLD_NEXT, "epoll_pwait2");
		if (!R.epoll_pwait2) {
			errno = ENOSYS;
			return -1;
		}
		return R.epoll_pwait2(epfd, evs, max, ts, mask);
	}
	if (ts && !preload_mem_ok(ts, sizeof(*ts), 0)) {
		errno = EFAULT;
		return -1;
	}
	if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)) {
		errno = EINVAL;
		return -1;
	}
	return epoll_pwait(epfd, evs, max, ts_ms(ts), mask);
}

EXPORT int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	if (!pep_of(epfd))
		return R.epoll_wait(epfd, evs, max, timeout);
	return epoll_pwait(epfd, evs, max, timeout, NULL);
}

/* ------------------------------------------------------------------ */
/* poll, ppoll, select, pselect                                         */

/* poll(2)'s bits of a synack socket's readiness. */
static short poll_bits(uint32_t ev, short want)
{
	short r = (short)(ev & (POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP));
	if ((want & POLLRDNORM) && (ev & POLLIN))
		r |= POLLRDNORM;
	if ((want & POLLWRNORM) && (ev & POLLOUT))
		r |= POLLWRNORM;
	return (short)(r & (want | POLLERR | POLLHUP));
}

/* poll over fds with some synack sockets; timeout_ms < 0: no limit. */
static int poll_mixed(struct pollfd *fds, nfds_t n, int timeout_ms, const sigset_t *mask)
{
	struct pollfd *k = malloc((n ? n : 1) * sizeof(*k));
	struct psock **socks = malloc((n ? n : 1) * sizeof(*socks));
	if (!k || !socks) {
		free(k);
		free(socks);
		errno = ENOMEM;
		return -1;
	}
	int64_t deadline = timeout_ms < 0 ? -1 : preload_now_ms() + timeout_ms;
	int force = 0, rc;
	for (;;) {
		preload_lock();
		size_t ns = 0;
		int cs = 0;
		int own = preload_owned() || (preload_lost(), 0);
		for (nfds_t i = 0; i < n; i++) {
			k[i] = fds[i];
			struct psock *sk = preload_sock(fds[i].fd);
			if (!sk)
				continue;
			k[i].fd = -1;
			socks[ns++] = sk;
			fds[i].revents =
			    own ? poll_bits(preload_events(sk), fds[i].events) : POLLNVAL;
			if (fds[i].revents)
				cs++;
		}
		int left = -1;
		if (deadline >= 0) {
			int64_t l = deadline - preload_now_ms();
			left = l <= 0 ? 0 : l > INT_MAX ? INT_MAX : (int)l;
		}
		if (cs > 0 || left == 0 || force) {
			preload_unlock();
			struct timespec zero = {0, 0};
			/* The other descriptors' state, unless all are synack's
			 * (then only a signal the mask lets in would matter). */
			int kr = ns == (size_t)n && !mask ? 0 : R.ppoll(k, n, &zero, mask);
			if (kr < 0) {
				rc = cs > 0 ? cs : -1;
				break;
			}
			for (nfds_t i = 0; i < n; i++)
				if (k[i].fd >= 0)
					fds[i].revents = k[i].revents;
			rc = cs + kr;
			break;
		}
		int s = preload_sleep(socks, ns, k, n, left, mask);
		preload_unlock();
		if (s < 0) {
			errno = -s;
			rc = -1;
			break;
		}
		if (s > 0)
			force = 1;
	}
	int e = errno;
	free(k);
	free(socks);
	errno = e;
	return rc;
}

/* Whether the array holds a synack socket.  An array that faults goes to
 * the kernel (which answers EFAULT), as does every array of a program
 * that never made a synack socket (then not even probed). */
static int any_synack(const struct pollfd *fds, nfds_t n)
{
	if (!fds || !preload_started() || n > (nfds_t)preload_fdcap() ||
	    !preload_mem_ok(fds, n * sizeof(*fds), 1))
		return 0;
	for (nfds_t i = 0; i < n; i++)
		if (preload_sock(fds[i].fd))
			return 1;
	return 0;
}

/* glibc declares poll's and ppoll's array write_only (the kernel fills
 * revents), so reading the events that the program wrote into it looks,
 * to GCC, like reading memory nobody set. */
#if defined(__GNUC__) && !defined(__clang__) /* clang has no such warning group */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!any_synack(fds, n))
		return R.poll(fds, n, timeout);
	return poll_mixed(fds, n, timeout, NULL);
}

static int ts_ms(const struct timespec *ts)
{
	if (!ts)
		return -1;
	int64_t ms = (int64_t)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	if (!any_synack(fds, n) || (ts && !preload_mem_ok(ts, sizeof(*ts), 0)))
		return R.ppoll(fds, n, ts, mask);
	if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)) {
		errno = EINVAL;
		return -1;
	}
	return poll_mixed(fds, n, ts_ms(ts), mask);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* select over sets with some synack sockets, through poll_mixed. */
static int select_mixed(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int timeout_ms,
                        const sigset_t *mask)
{
	struct pollfd *p = malloc((size_t)(nfds > 0 ? nfds : 1) * sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	nfds_t n = 0;
	for (int fd = 0; fd < nfds; fd++) {
		short ev = 0;
		if (rd && FD_ISSET(fd, rd))
			ev |= POLLIN;
		if (wr && FD_ISSET(fd, wr))
			ev |= POLLOUT;
		if (ex && FD_ISSET(fd, ex))
			ev |= POLLPRI;
		if (ev)
			p[n++] = (struct pollfd){fd, ev, 0};
	}
	int rc = poll_mixed(p, n, timeout_ms, mask);
	if (rc < 0) {
		int e = errno;
		free(p);
		errno = e;
		return -1;
	}
	for (nfds_t i = 0; i < n; i++)
		if (p[i].revents & POLLNVAL) {
			free(p);
			errno = EBADF;
			return -1;
		}
	int count = 0;
	for (nfds_t i = 0; i < n; i++) {
		int fd = p[i].fd;
		short r = p[i].revents;
		if (rd && FD_ISSET(fd, rd)) {
			if (r & (POLLIN | POLLHUP | POLLERR))
				count++;
			else
				FD_CLR(fd, rd);
		}
		if (wr && FD_ISSET(fd, wr)) {
			if (r & (POLLOUT | POLLERR))
				count++;
			else
				FD_CLR(fd, wr);
		}
		if (ex && FD_ISSET(fd, ex)) {
			if (r & POLLPRI)
				count++;
			else
				FD_CLR(fd, ex);
		}
	}
	free(p);
	return count;
}

static int sets_synack(int nfds, fd_set *rd, fd_set *wr, fd_set *ex)
{
	if (nfds > FD_SETSIZE)
		nfds = FD_SETSIZE;
	/* Sets that fault go to the kernel (EFAULT), as the sets of a
	 * program without synack sockets (not even probed). */
	size_t bytes = (size_t)(nfds + 63) / 64 * 8;
	if (!preload_started() || (rd && !preload_mem_ok(rd, bytes, 1)) ||
	    (wr && !preload_mem_ok(wr, bytes, 1)) || (ex && !preload_mem_ok(ex, bytes, 1)))
		return 0;
	for (int fd = 0; fd < nfds; fd++)
		if (((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) ||
		     (ex && FD_ISSET(fd, ex))) &&
		    preload_sock(fd))
			return 1;
	return 0;
}

EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	if (nfds < 0 || nfds > FD_SETSIZE || !sets_synack(nfds, rd, wr, ex) ||
	    (tv && !preload_mem_ok(tv, sizeof(*tv), 1)))
		return R.select(nfds, rd, wr, ex, tv);
	if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0)) {
		errno = EINVAL;
		return -1;
	}
	int ms = -1;
	if (tv) {
		int64_t t = (int64_t)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000;
		ms = t > INT_MAX ? INT_MAX : (int)t;
	}
	int64_t t0 = preload_now_ms();
	int rc = select_mixed(nfds, rd, wr, ex, ms, NULL);
	if (tv) {
		/* Linux writes back the time left. */
		int64_t left = (int64_t)ms - (preload_now_ms() - t0);
		if (left < 0)
			left = 0;
		tv->tv_sec = (time_t)(left / 1000);
		tv->tv_usec = (suseconds_t)(left % 1000) * 1000;
	}
	return rc;
}

EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts,
                   const sigset_t *mask)
{
	if (nfds < 0 || nfds > FD_SETSIZE || !sets_synack(nfds, rd, wr, ex) ||
	    (ts && !preload_mem_ok(ts, sizeof(*ts), 0)))
		return R.pselect(nfds, rd, wr, ex, ts, mask);
	if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)) {
		errno = EINVAL;
		return -1;
	}
	return select_mixed(nfds, rd, wr, ex, ts_ms(ts), mask);
}
