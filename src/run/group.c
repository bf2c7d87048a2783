/*
 * One stack per core (issue 16 item 3): loops on threads.
 *
 * Each loop (struct synack_run, with its own stack and its own queue of a
 * multi-queue link) is turned by one thread and by no other: the stacks
 * share nothing, so nothing in them is locked.  What crosses threads is
 * here, and small: a stop count the threads read after a turn, a wake
 * (the loop's eventfd), and calls posted to a thread, which runs them at
 * the end of one of its turns (a descriptor of its loop, synack_run_add_fd)
 * while the caller waits, so that counters and connection lists are read
 * on the thread that owns them.
 */
#define _GNU_SOURCE
#include "synack/run.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct worker {
	struct synack_run_group *g;
	struct synack_run *r;
	unsigned index;
	pthread_t tid;
	int started;
	int callfd; /* readable when a call is posted */
	int result;
	int done; /* fn returned (under g->mu) */
	/* The call posted, under g->mu. */
	void (*call_fn)(void *ctx, struct synack_run *r);
	void *call_ctx;
	int call_pending;
};

struct synack_run_group {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int call_busy; /* one call at a time */
	atomic_uint stops;
	atomic_uint running;
	int donefd; /* written when a thread's fn returns */
	synack_run_group_fn fn;
	void *ctx;
	unsigned n;
	struct worker w[];
};

static void signal_fd(int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) < 0) {
		/* The counter is full: it is readable anyway. */
	}
}

/* On the worker's thread, at the end of a turn: runs the posted call. */
static void on_call(void *ctx, int fd, uint32_t events)
{
	struct worker *w = ctx;
	struct synack_run_group *g = w->g;
	uint64_t v;
	(void)events;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* Nothing posted: a spurious wake. */
	}
	pthread_mutex_lock(&g->mu);
	if (!w->call_pending) {
		pthread_mutex_unlock(&g->mu);
		return;
	}
	void (*fn)(void *, struct synack_run *) = w->call_fn;
	void *cctx = w->call_ctx;
	pthread_mutex_unlock(&g->mu);
	fn(cctx, w->r);
	pthread_mutex_lock(&g->mu);
	w->call_pending = 0;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct synack_run_group *g = w->g;
	int rc = g->fn(g->ctx, w->index, w->r);
	pthread_mutex_lock(&g->mu);
	w->result = rc;
	w->done = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	atomic_fetch_sub(&g->running, 1);
	signal_fd(g->donefd);
	return NULL;
}

static void group_free(struct synack_run_group *g)
{
	for (unsigned i = 0; i < g->n; i++) {
		if (g->w[i].callfd < 0)
			continue;
		synack_run_del_fd(g->w[i].r, g->w[i].callfd);
		close(g->w[i].callfd);
	}
	if (g->donefd >= 0)
		close(g->donefd);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

int synack_run_group_start(struct synack_run_group **out, struct synack_run *const *runs,
                           unsigned n, synack_run_group_fn fn, void *ctx)
{
	if (out)
		*out = NULL;
	if (!out || !runs || !fn || n < 1 || n > SYNACK_RUN_GROUP_MAX)
		return -EINVAL;
	/* A loop is turned by one thread only. */
	for (unsigned i = 0; i < n; i++) {
		if (!runs[i])
			return -EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (runs[j] == runs[i])
				return -EINVAL;
	}
	struct synack_run_group *g = calloc(1, sizeof(*g) + n * sizeof(g->w[0]));
	if (!g)
		return -ENOMEM;
	g->fn = fn;
	g->ctx = ctx;
	g->n = n;
	g->donefd = -1;
	for (unsigned i = 0; i < n; i++)
		g->w[i] = (struct worker){.g = g, .r = runs[i], .index = i, .callfd = -1};
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	int rc = 0;
	g->donefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (g->donefd < 0)
		rc = -errno;
	for (unsigned i = 0; i < n && !rc; i++) {
		struct worker *w = &g->w[i];
		w->callfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (w->callfd < 0) {
			rc = -errno;
			break;
		}
		rc = synack_run_add_fd(w->r, w->callfd, EPOLLIN, on_call, w);
		if (rc) {
			close(w->callfd);
			w->callfd = -1;
		}
	}
	if (rc) {
		group_free(g);
		return rc;
	}
	/* The threads start with every signal blocked: the process's
	 * signals go to the caller's thread, which decides (a stop). */
	/* Set before the threads start, so fn may read it through ctx. */
	*out = g;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < n; i++) {
		atomic_fetch_add(&g->running, 1);
		int e = pthread_create(&g->w[i].tid, NULL, worker_main, &g->w[i]);
		if (e) {
			atomic_fetch_sub(&g->running, 1);
			rc = -e;
			break;
		}
		g->w[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		synack_run_group_stop(g);
		synack_run_group_join(g, NULL);
		*out = NULL;
		return rc;
	}
	return 0;
}

void synack_run_group_stop(struct synack_run_group *g)
{
	if (!g)
		return;
	atomic_fetch_add(&g->stops, 1);
	for (unsigned i = 0; i < g->n; i++)
		synack_run_wake(g->w[i].r);
}

unsigned synack_run_group_stops(const struct synack_run_group *g)
{
	return g ? atomic_load(&((struct synack_run_group *)g)->stops) : 0;
}

unsigned synack_run_group_running(const struct synack_run_group *g)
{
	return g ? atomic_load(&((struct synack_run_group *)g)->running) : 0;
}

int synack_run_group_fd(const struct synack_run_group *g)
{
	return g ? g->donefd : -1;
}

unsigned synack_run_group_size(const struct synack_run_group *g)
{
	return g ? g->n : 0;
}

int synack_run_group_call(struct synack_run_group *g, unsigned index,
                          void (*fn)(void *ctx, struct synack_run *r), void *ctx)
{
	if (!g || !fn || index >= g->n)
		return -EINVAL;
	struct worker *w = &g->w[index];
	pthread_mutex_lock(&g->mu);
	while (g->call_busy)
		pthread_cond_wait(&g->cv, &g->mu);
	g->call_busy = 1;
	int here = w->done || !w->started;
	if (!here) {
		w->call_fn = fn;
		w->call_ctx = ctx;
		w->call_pending = 1;
		signal_fd(w->callfd);
		while (w->call_pending && !w->done)
			pthread_cond_wait(&g->cv, &g->mu);
		/* A thread that returned before taking the call leaves its
		 * loop to us. */
		here = w->call_pending;
		w->call_pending = 0;
	}
	pthread_mutex_unlock(&g->mu);
	if (here)
		fn(ctx, w->r);
	pthread_mutex_lock(&g->mu);
	g->call_busy = 0;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	return 0;
}

void synack_run_group_join(struct synack_run_group *g, int *results)
{
	if (!g)
		return;
	for (unsigned i = 0; i < g->n; i++) {
		if (g->w[i].started)
			pthread_join(g->w[i].tid, NULL);
		if (results)
			results[i] = g->w[i].result;
	}
	group_free(g);
}
