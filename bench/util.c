/* Result store, clocks, memory probes and the network-namespace helpers
 * shared by every implementation. */
#define _GNU_SOURCE /* setns(2) */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "synack/link.h"
#include "synack/run.h"
#include "synack/synack.h"

struct store {
	size_t n;
	struct bench_result r[BENCH_MAX_RESULTS];
};

static struct store *store;

void res_init(void)
{
	/* Shared, so figures added in a forked child (the Linux runs) reach
	 * the parent; children run one at a time, the parent waiting. */
	void *p = mmap(NULL, sizeof(struct store), PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("synack-bench: mmap");
		exit(1);
	}
	store = p;
	store->n = 0;
}

static struct bench_result *res_new(const char *bench, const char *impl, const char *variant,
                                    const char *metric)
{
	if (store->n >= BENCH_MAX_RESULTS) {
		fprintf(stderr, "synack-bench: too many results\n");
		exit(1);
	}
	struct bench_result *r = &store->r[store->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->bench, sizeof(r->bench), "%s", bench);
	snprintf(r->impl, sizeof(r->impl), "%s", impl);
	snprintf(r->variant, sizeof(r->variant), "%s", variant);
	snprintf(r->metric, sizeof(r->metric), "%s", metric);
	return r;
}

void res_add(const char *bench, const char *impl, const char *variant, const char *metric,
             double value)
{
	struct bench_result *r = res_new(bench, impl, variant, metric);
	r->value = value;
	r->has_value = 1;
}

void res_add_note(const char *bench, const char *impl, const char *variant, const char *metric,
                  double value, const char *fmt, ...)
{
	struct bench_result *r = res_new(bench, impl, variant, metric);
	r->value = value;
	r->has_value = 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

void res_skip(const char *bench, const char *impl, const char *variant, const char *metric,
              const char *fmt, ...)
{
	struct bench_result *r = res_new(bench, impl, variant, metric);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

void res_remark(const char *impl, const char *fmt, ...)
{
	struct bench_result *r = res_new("remark", impl, "", "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

size_t res_count(void)
{
	return store->n;
}

void res_truncate(size_t n)
{
	if (n < store->n)
		store->n = n;
}

struct bench_result *res_get(size_t i)
{
	return &store->r[i];
}

void bench_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("synack-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_wall_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t bench_cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

uint64_t bench_thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

uint64_t bench_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, resident = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t bench_heap(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

void bench_trim(void)
{
	malloc_trim(0);
}

void bench_heap_shape(const char *where)
{
	struct mallinfo2 mi = mallinfo2();
	bench_log("heap shape %s: rss %.1f MB, arena %.1f MB (in use %.1f, free %.1f in %zu "
	          "chunks, top %.1f), mmapped %.1f MB in %zu",
	          where, (double)bench_rss() / 1e6, (double)mi.arena / 1e6,
	          (double)mi.uordblks / 1e6, (double)mi.fordblks / 1e6, mi.ordblks,
	          (double)mi.keepcost / 1e6, (double)mi.hblkhd / 1e6, mi.hblks);
	const char *dir = getenv("SYNACK_BENCH_MALLOC_INFO");
	if (dir) {
		static int seq;
		char path[512];
		snprintf(path, sizeof(path), "%s/malloc_info.%d.xml", dir, seq++);
		FILE *f = fopen(path, "w");
		if (f) {
			malloc_info(0, f);
			fclose(f);
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int bench_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

int bench_join_netns(const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	int err = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return err;
}

void bench_tap_stack_open(struct bench_tap_stack *t, const char *what, const char *ns,
                          const char *dev, uint32_t addr, int offload)
{
	bench_tap_stack_open_cfg(t, what, ns, dev, addr, offload, NULL);
}

void bench_tap_stack_open_cfg(struct bench_tap_stack *t, const char *what, const char *ns,
                              const char *dev, uint32_t addr, int offload,
                              const struct synack_config *base)
{
	char err[256];
	struct synack_link_config lc;
	if (bench_join_netns(ns) < 0)
		_exit(1);
	synack_link_config_default(&lc);
	lc.addr = addr;
	lc.csum_offload = lc.gro = lc.tso = offload;
	t->link = NULL;
	if (synack_link_open(&t->link, SYNACK_LINK_TAP, dev, &lc, err, sizeof(err)) < 0) {
		fprintf(stderr, "synack-bench: %s: %s\n", what, err);
		_exit(1);
	}
	struct synack_config cfg;
	if (base)
		cfg = *base;
	else
		synack_config_default(&cfg);
	cfg.addr = addr;
	cfg.mtu = synack_link_mtu(t->link);
	if (getrandom(cfg.secret, sizeof(cfg.secret), 0) != sizeof(cfg.secret))
		_exit(1);
	t->st = synack_stack_new(&cfg, NULL);
	t->r = t->st ? synack_run_new(t->st, t->link, NULL) : NULL;
	if (!t->r)
		_exit(1);
}

void bench_tap_stack_close(struct bench_tap_stack *t)
{
	synack_run_free(t->r);
	synack_stack_free(t->st);
	synack_link_close(t->link);
}
