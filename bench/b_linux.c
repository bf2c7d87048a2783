/*
 * The Linux kernel's side of the benchmark.  Every run happens in a network
 * namespace this program creates, and every address used lives inside it:
 *  - lifecycle, memory and scale: a forked child unshares a new network
 *    namespace, brings its loopback up and runs both ends there, one thread,
 *    non-blocking sockets and epoll;
 *  - bulk: two namespaces joined by a veth pair (MTU 1500), with the
 *    offloads switched off and then on, a sender and a receiver process.
 * CPU is the processes' user + system time; this kernel has no
 * CONFIG_IRQ_TIME_ACCOUNTING, so the softirq work done while a process runs
 * (loopback and veth delivery happen in the sender's context) is charged to
 * it as system time.  Memory is the kernel's slab usage (/proc/slabinfo).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define REQ_LEN 64
#define LO_ADDR 0x7f000001u

/* ------------------------------------------------------------------ */
/* Namespaces and kernel settings.                                     */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

static int lo_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP;
	int err = ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
	close(fd);
	return err;
}

/* In a forked child: a fresh network namespace with loopback up, a wide
 * port range, deep queues and enough file descriptors. */
static int enter_fresh_netns(uint32_t conns)
{
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	if (lo_up() < 0)
		return -EIO;
	char v[64];
	write_file("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
	write_file("/proc/sys/net/core/somaxconn", "262144");
	write_file("/proc/sys/net/ipv4/tcp_max_syn_backlog", "262144");
	snprintf(v, sizeof(v), "%u", conns * 2 + 300000);
	write_file("/proc/sys/net/ipv4/tcp_max_tw_buckets", v);
	/* As many descriptors as the hard limit allows (raising it needs
	 * CAP_SYS_RESOURCE, which a container may not have). */
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	return 0;
}

static uint32_t fd_limit(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur > 1048576 ? 1048576 : (uint32_t)rl.rlim_cur;
}

/* Bytes of the named slab caches in use (a comma-separated list; NULL for
 * every cache).  Named caches avoid counting objects other caches keep in
 * partially used slabs after a free. */
static uint64_t slab_of(const char *names)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512];
	uint64_t sum = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char name[128], want[136];
		unsigned long active, num, objsize;
		if (sscanf(line, "%127s %lu %lu %lu", name, &active, &num, &objsize) != 4)
			continue;
		snprintf(want, sizeof(want), ",%s,", name);
		char list[256];
		snprintf(list, sizeof(list), ",%s,", names ? names : "");
		if (!names || strstr(list, want))
			sum += (uint64_t)active * objsize;
	}
	if (f)
		fclose(f);
	return sum;
}

/* What an established socket costs: the socket, its inode, dentry and file. */
#define SOCK_CACHES "TCP,sock_inode_cache,dentry,filp"

static uint64_t slab_bytes(void)
{
	return slab_of(SOCK_CACHES ",tw_sock_TCP,request_sock_TCP,eventpoll_epi");
}

/* A counter of this namespace's /proc/net/snmp ("Tcp:" line). */
static uint64_t snmp_tcp(const char *name)
{
	FILE *f = fopen("/proc/net/snmp", "r");
	char head[1024], vals[1024];
	uint64_t v = 0;
	while (f && fgets(head, sizeof(head), f) && fgets(vals, sizeof(vals), f)) {
		if (strncmp(head, "Tcp:", 4))
			continue;
		char *sh, *sv;
		char *h = strtok_r(head, " \n", &sh), *x = strtok_r(vals, " \n", &sv);
		while (h && x) {
			if (!strcmp(h, name))
				v = strtoull(x, NULL, 10);
			h = strtok_r(NULL, " \n", &sh);
			x = strtok_r(NULL, " \n", &sv);
		}
	}
	if (f)
		fclose(f);
	return v;
}

static uint64_t sockstat_tw(void)
{
	FILE *f = fopen("/proc/net/sockstat", "r");
	char line[256];
	unsigned long tw = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, " tw ");
		if (!strncmp(line, "TCP:", 4) && p)
			tw = strtoul(p + 4, NULL, 10);
	}
	if (f)
		fclose(f);
	return tw;
}

static void settle(void)
{
	/* Sockets are freed after an RCU grace period and deferred work. */
	usleep(300000);
}

/* ------------------------------------------------------------------ */
/* Lifecycle over loopback.                                            */

enum { R_NONE, R_LISTEN, R_SERVER, R_CONNECTING, R_SENT };

struct lx {
	int ep;
	int nlisten;
	int lfd[16];
	uint16_t lport[16];
	uint8_t *role;
	uint8_t *got;
	int cap;
	unsigned rr;
	uint64_t done, failed;
	int err;
	const char *errwhere;
};

static int lx_listen(struct lx *x, uint32_t addr, int nlisten)
{
	x->nlisten = nlisten;
	for (int i = 0; i < nlisten; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_port = htons((uint16_t)(9000 + i)),
		                         .sin_addr.s_addr = htonl(addr)};
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(fd, 262144) < 0)
			return -errno;
		x->lfd[i] = fd;
		x->lport[i] = (uint16_t)(9000 + i);
		x->role[fd] = R_LISTEN;
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		epoll_ctl(x->ep, EPOLL_CTL_ADD, fd, &ev);
	}
	return 0;
}

static int lx_init(struct lx *x)
{
	memset(x, 0, sizeof(*x));
	x->cap = (int)fd_limit() + 16;
	x->role = calloc((size_t)x->cap, 1);
	x->got = calloc((size_t)x->cap, 1);
	x->ep = epoll_create1(0);
	return x->role && x->got && x->ep >= 0 ? 0 : -ENOMEM;
}

static void lx_free(struct lx *x)
{
	for (int fd = 0; fd < x->cap; fd++)
		if (x->role[fd] != R_NONE)
			close(fd);
	close(x->ep);
	free(x->role);
	free(x->got);
}

static int lx_connect(struct lx *x, uint32_t addr, int want_epoll)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons(x->lport[x->rr++ % (unsigned)x->nlisten]),
	                         .sin_addr.s_addr = htonl(addr)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || fd >= x->cap)
		return fd < 0 ? -errno : -EMFILE;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		int err = -errno;
		close(fd);
		return err;
	}
	x->role[fd] = R_CONNECTING;
	x->got[fd] = 0;
	if (want_epoll) {
		struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};
		epoll_ctl(x->ep, EPOLL_CTL_ADD, fd, &ev);
	}
	return fd;
}

static void lx_fail(struct lx *x, int err, const char *where)
{
	if (!x->err) {
		x->err = err;
		x->errwhere = where;
	}
}

static void lx_close(struct lx *x, int fd)
{
	x->role[fd] = R_NONE;
	close(fd);
}

static void lx_event(struct lx *x, int fd, uint32_t events, int reopen)
{
	static const char req[REQ_LEN] =
	    "synack-bench lifecycle request, 64 bytes long, echoed back!!!!";
	char buf[2048];
	switch (x->role[fd]) {
	case R_LISTEN:
		for (;;) {
			int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK);
			if (c < 0)
				break;
			x->role[c] = R_SERVER;
			struct epoll_event ev = {.events = EPOLLIN, .data.fd = c};
			epoll_ctl(x->ep, EPOLL_CTL_ADD, c, &ev);
		}
		break;
	case R_SERVER: {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			if (send(fd, buf, (size_t)n, 0) != n)
				lx_fail(x, -errno, "server send");
		} else if (n == 0 || errno != EAGAIN) {
			lx_close(x, fd);
		}
		break;
	}
	case R_CONNECTING:
		if (events & (EPOLLERR | EPOLLHUP)) {
			int e = 0;
			socklen_t l = sizeof(e);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
			lx_fail(x, -e, "connect");
			lx_close(x, fd);
			x->failed++;
			break;
		}
		if (send(fd, req, REQ_LEN, 0) != REQ_LEN) {
			lx_fail(x, -errno, "client send");
			lx_close(x, fd);
			x->failed++;
			break;
		}
		x->role[fd] = R_SENT;
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		epoll_ctl(x->ep, EPOLL_CTL_MOD, fd, &ev);
		break;
	case R_SENT: {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			x->got[fd] = (uint8_t)(x->got[fd] + n);
			if (x->got[fd] < REQ_LEN)
				break;
			lx_close(x, fd);
			x->done++;
		} else if (n == 0 || errno != EAGAIN) {
			lx_fail(x, n == 0 ? -ECONNRESET : -errno, "client recv");
			lx_close(x, fd);
			x->failed++;
		} else {
			break;
		}
		if (reopen) {
			int c = lx_connect(x, LO_ADDR, 1);
			if (c < 0)
				lx_fail(x, c, "connect");
		}
		break;
	}
	}
}

/* Keeps `inflight` lifecycles going from x until budget_s has passed and
 * each slot completed once on average (or 20 x budget_s at most). */
static void lx_loop(struct lx *x, uint32_t inflight, double budget_s)
{
	uint64_t w0 = bench_wall_ns(), limit = (uint64_t)(budget_s * 1e9);
	for (uint32_t i = 0; i < inflight; i++) {
		int c = lx_connect(x, LO_ADDR, 1);
		if (c < 0) {
			lx_fail(x, c, "connect");
			return;
		}
	}
	struct epoll_event evs[1024];
	while (!x->err) {
		int n = epoll_wait(x->ep, evs, 1024, 1000);
		for (int i = 0; i < n; i++)
			lx_event(x, evs[i].data.fd, evs[i].events, 1);
		uint64_t el = bench_wall_ns() - w0;
		if ((el >= limit && x->done >= inflight) || el >= 20 * limit)
			break;
	}
}

static volatile sig_atomic_t stop_server;

static void on_term(int sig)
{
	(void)sig;
	stop_server = 1;
}

static double tv_s(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

/*
 * One process, one thread, both ends: when the descriptors allow it.
 * Otherwise P server processes (SO_REUSEPORT listeners) and P client
 * processes; CPU is then the sum over all of them.
 */
static int lx_lifecycle(uint32_t inflight, double budget_s, int procs, double *rate, double *cpu_us,
                        char *err, size_t errlen)
{
	if (procs <= 1) {
		struct lx x;
		if (lx_init(&x) < 0 || lx_listen(&x, LO_ADDR, 8) < 0) {
			snprintf(err, errlen, "setup: %s", strerror(errno));
			return -1;
		}
		uint64_t w0 = bench_wall_ns(), c0 = bench_cpu_ns();
		lx_loop(&x, inflight, budget_s);
		uint64_t wall = bench_wall_ns() - w0, cpu = bench_cpu_ns() - c0;
		int rc = 0;
		if (x.err || x.done == 0) {
			snprintf(err, errlen, "%s: %s after %llu lifecycles",
			         x.errwhere ? x.errwhere : "run", strerror(-x.err),
			         (unsigned long long)x.done);
			rc = -1;
		} else {
			*rate = (double)x.done / ((double)wall / 1e9);
			*cpu_us = (double)cpu / 1e3 / (double)x.done;
		}
		lx_free(&x);
		return rc;
	}
	struct shared {
		uint64_t done;
		int err;
	} *sh = mmap(NULL, sizeof(*sh) * (size_t)procs, PROT_READ | PROT_WRITE,
	             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ready[2];
	pid_t srv[64], cli[64];
	if (sh == MAP_FAILED || pipe(ready) < 0 || procs > 64)
		return -1;
	memset(sh, 0, sizeof(*sh) * (size_t)procs);
	fflush(NULL);
	for (int i = 0; i < procs; i++) {
		srv[i] = fork();
		if (srv[i] == 0) {
			struct lx x;
			signal(SIGTERM, on_term);
			if (lx_init(&x) < 0 || lx_listen(&x, LO_ADDR, 8) < 0)
				_exit(1);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			struct epoll_event evs[1024];
			while (!stop_server) {
				int n = epoll_wait(x.ep, evs, 1024, 100);
				for (int k = 0; k < n; k++)
					lx_event(&x, evs[k].data.fd, evs[k].events, 0);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < procs; i++) {
		char ch;
		if (read(ready[0], &ch, 1) != 1)
			break;
	}
	uint64_t w0 = bench_wall_ns();
	for (int i = 0; i < procs; i++) {
		cli[i] = fork();
		if (cli[i] == 0) {
			struct lx x;
			if (lx_init(&x) < 0)
				_exit(1);
			x.nlisten = 8;
			for (int k = 0; k < 8; k++)
				x.lport[k] = (uint16_t)(9000 + k);
			x.rr = (unsigned)i;
			uint32_t mine =
			    inflight / (uint32_t)procs + (i < (int)(inflight % (uint32_t)procs));
			lx_loop(&x, mine, budget_s);
			sh[i].done = x.done;
			sh[i].err = x.err;
			_exit(0);
		}
	}
	double cpu = 0;
	uint64_t done = 0;
	int e = 0;
	for (int i = 0; i < procs; i++) {
		struct rusage ru;
		int st;
		wait4(cli[i], &st, 0, &ru);
		cpu += tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
		done += sh[i].done;
		if (sh[i].err && !e)
			e = sh[i].err;
	}
	uint64_t wall = bench_wall_ns() - w0;
	for (int i = 0; i < procs; i++)
		kill(srv[i], SIGTERM);
	for (int i = 0; i < procs; i++) {
		struct rusage ru;
		int st;
		wait4(srv[i], &st, 0, &ru);
		cpu += tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
	}
	close(ready[0]);
	close(ready[1]);
	munmap(sh, sizeof(*sh) * (size_t)procs);
	if (e || !done) {
		snprintf(err, errlen, "%s after %llu lifecycles", strerror(-e),
		         (unsigned long long)done);
		return -1;
	}
	*rate = (double)done / ((double)wall / 1e9);
	*cpu_us = cpu * 1e6 / (double)done;
	return 0;
}

/* Runs fn in a forked child inside a fresh network namespace. */
static void in_child_netns(const struct bench_opts *o, uint32_t conns,
                           void (*fn)(const struct bench_opts *o, uint32_t arg), uint32_t arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int err = enter_fresh_netns(conns);
		if (err < 0) {
			res_remark("linux", "could not create a network namespace: %s",
			           strerror(-err));
			_exit(1);
		}
		fn(o, arg);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status))
		res_remark("linux", "a benchmark child died (signal %d)",
		           WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void child_lifecycle(const struct bench_opts *o, uint32_t inflight)
{
	char variant[32], err[200] = "";
	double rate[9], cpu[9];
	/* Both ends in one thread need two descriptors per connection. */
	uint32_t per_proc = (fd_limit() - 100) / 2;
	int procs = inflight <= per_proc ? 1 : (int)((inflight + per_proc - 1) / per_proc);
	snprintf(variant, sizeof(variant), "c%u", inflight);
	for (int r = 0; r < o->reps; r++) {
		if (lx_lifecycle(inflight, o->budget_s, procs, &rate[r], &cpu[r], err,
		                 sizeof(err)) < 0) {
			res_skip("lifecycle", "linux", variant, "lifecycles_per_s", "failed: %s",
			         err);
			return;
		}
		bench_log("linux lifecycle %s: %.0f/s, %.2f us CPU each", variant, rate[r], cpu[r]);
		settle();
	}
	if (procs == 1)
		res_add_note(
		    "lifecycle", "linux", variant, "lifecycles_per_s", bench_median(rate, o->reps),
		    "loopback in a private namespace, both ends in one thread (epoll); the "
		    "client closes first (TIME_WAIT; tcp_tw_reuse=2 covers loopback)");
	else
		res_add_note("lifecycle", "linux", variant, "lifecycles_per_s",
		             bench_median(rate, o->reps),
		             "loopback; %d client and %d server processes (SO_REUSEPORT), as the "
		             "descriptor limit here is %u per process; CPU summed over them",
		             procs, procs, fd_limit());
	res_add("lifecycle", "linux", variant, "cpu_us_per_lifecycle", bench_median(cpu, o->reps));
}

/* ------------------------------------------------------------------ */
/* Memory: slab bytes per established socket, TIME_WAIT, pending SYN.  */

/* Opens n connections over loopback, both ends; returns 0 or -errno.
 * Client fds go to cfd, server fds to sfd. */
static int lx_open_many(struct lx *x, uint32_t n, uint32_t addr, int *cfd, int *sfd)
{
	uint32_t opened = 0, accepted = 0;
	while (accepted < n) {
		while (opened < n && opened - accepted < 4096) {
			int c = lx_connect(x, addr, 0);
			if (c < 0)
				return c;
			cfd[opened++] = c;
		}
		struct pollfd p[16];
		for (int i = 0; i < x->nlisten; i++)
			p[i] = (struct pollfd){.fd = x->lfd[i], .events = POLLIN};
		if (poll(p, (nfds_t)x->nlisten, 1000) <= 0)
			return -ETIMEDOUT;
		for (int i = 0; i < x->nlisten; i++) {
			int c;
			while ((c = accept4(x->lfd[i], NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				x->role[c] = R_SERVER;
				if (accepted < n)
					sfd[accepted] = c;
				accepted++;
			}
		}
	}
	return 0;
}

static uint64_t count_syn_recv(void)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	uint64_t n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned st;
		if (sscanf(line, " %*u: %*x:%*x %*x:%*x %x", &st) == 1 && st == 3)
			n++;
	}
	if (f)
		fclose(f);
	return n;
}

static uint16_t csum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void child_memory(const struct bench_opts *o, uint32_t n)
{
	(void)o;
	struct lx x;
	int *cfd = calloc(n, sizeof(int)), *sfd = calloc(n, sizeof(int));
	if (!cfd || lx_init(&x) < 0 || lx_listen(&x, LO_ADDR, 4) < 0) {
		res_skip("memory", "linux", "slab", "bytes_per_established", "setup failed");
		return;
	}
	settle();
	uint64_t s0 = slab_of(SOCK_CACHES), t0 = slab_of("tw_sock_TCP");
	int err = lx_open_many(&x, n, LO_ADDR, cfd, sfd);
	if (err < 0) {
		res_skip("memory", "linux", "slab", "bytes_per_established", "connect failed: %s",
		         strerror(-err));
		return;
	}
	settle();
	uint64_t s1 = slab_of(SOCK_CACHES);
	res_add_note("memory", "linux", "slab", "bytes_per_established",
	             s1 > s0 ? (double)(s1 - s0) / (2.0 * n) : 0,
	             "kernel slab caches " SOCK_CACHES " (/proc/slabinfo), delta over both "
	             "ends / (2 x %u); machine-wide caches, so other processes add noise",
	             n);
	for (uint32_t i = 0; i < n; i++)
		lx_close(&x, cfd[i]);
	usleep(100000);
	for (uint32_t i = 0; i < n; i++)
		lx_close(&x, sfd[i]);
	settle();
	uint64_t s2 = slab_of("tw_sock_TCP"), tw = sockstat_tw();
	if (tw < n * 9 / 10)
		res_skip("memory", "linux", "slab", "bytes_per_time_wait",
		         "only %llu of %u connections in TIME_WAIT", (unsigned long long)tw, n);
	else
		res_add_note("memory", "linux", "slab", "bytes_per_time_wait",
		             s2 > t0 ? (double)(s2 - t0) / (double)tw : 0,
		             "tw_sock_TCP slab delta / %llu TIME_WAIT sockets",
		             (unsigned long long)tw);

	/* Pending SYNs: raw SYNs from a prefix routed to a silent gateway, so the SYN-ACKs go
	 * nowhere and the requests stay (syncookies off). */
	write_file("/proc/sys/net/ipv4/tcp_syncookies", "0");
	write_file("/proc/sys/net/ipv4/conf/all/rp_filter", "0");
	write_file("/proc/sys/net/ipv4/conf/lo/rp_filter", "0");
	/* The SYN-ACKs go to a gateway on a veth pair that no one answers
	 * for (the kernel drops a request it has no route to answer). */
	if (system("ip addr add 10.78.0.1/32 dev lo && "
	           "ip link add sbv0 type veth peer name sbv1 && ip link set sbv0 up && "
	           "ip link set sbv1 up && ip addr add 10.79.0.1/24 dev sbv0 && "
	           "ip route add 10.77.0.0/16 via 10.79.0.2 dev sbv0") != 0) {
		res_skip("memory", "linux", "slab", "bytes_per_syn_pending", "ip commands failed");
		return;
	}
	struct lx y;
	if (lx_init(&y) < 0 || lx_listen(&y, 0x0a4e0001u, 1) < 0) {
		res_skip("memory", "linux", "slab", "bytes_per_syn_pending", "listen failed");
		return;
	}
	int raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	settle();
	uint64_t p0 = slab_of("request_sock_TCP");
	for (uint32_t i = 0; i < n && raw >= 0; i++) {
		uint8_t p[44];
		uint32_t saddr = 0x0a4d0000u + (i >> 14) + 1;
		uint16_t sport = (uint16_t)(1024 + (i & 16383));
		memset(p, 0, sizeof(p));
		p[0] = 0x45;
		p[3] = 44;
		p[8] = 64;
		p[9] = IPPROTO_TCP;
		uint32_t s_n = htonl(saddr), d_n = htonl(0x0a4e0001u), seq = htonl(0x1000u * i + 7);
		memcpy(p + 12, &s_n, 4);
		memcpy(p + 16, &d_n, 4);
		uint8_t *t = p + 20;
		t[0] = (uint8_t)(sport >> 8);
		t[1] = (uint8_t)sport;
		t[2] = (uint8_t)(y.lport[0] >> 8);
		t[3] = (uint8_t)y.lport[0];
		memcpy(t + 4, &seq, 4);
		t[12] = 6 << 4;
		t[13] = 0x02;
		t[14] = t[15] = 0xff;
		t[20] = 2;
		t[21] = 4;
		t[22] = 1460 >> 8;
		t[23] = 1460 & 0xff;
		uint32_t pseudo = (saddr >> 16) + (saddr & 0xffff) + (0x0a4e0001u >> 16) +
		                  (0x0a4e0001u & 0xffff) + IPPROTO_TCP + 24;
		uint16_t c = csum16(t, 24, pseudo);
		t[16] = (uint8_t)(c >> 8);
		t[17] = (uint8_t)c;
		c = csum16(p, 20, 0);
		p[10] = (uint8_t)(c >> 8);
		p[11] = (uint8_t)c;
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = d_n};
		sendto(raw, p, sizeof(p), 0, (struct sockaddr *)&sa, sizeof(sa));
	}
	settle();
	uint64_t p1 = slab_of("request_sock_TCP"), pending = count_syn_recv();
	if (pending < n * 9 / 10)
		res_skip("memory", "linux", "slab", "bytes_per_syn_pending",
		         "only %llu of %u SYNs left a request", (unsigned long long)pending, n);
	else
		res_add_note("memory", "linux", "slab", "bytes_per_syn_pending",
		             p1 > p0 ? (double)(p1 - p0) / (double)pending : 0,
		             "request_sock_TCP slab delta / %llu SYN_RECV requests (raw SYNs from "
		             "a prefix routed to a gateway that never answers, syncookies off)",
		             (unsigned long long)pending);
}

/* ------------------------------------------------------------------ */
/* Scale: many established connections, setup rate, memory, segment cost. */

static void child_scale(const struct bench_opts *o, uint32_t n)
{
	char variant[32];
	struct lx x;
	snprintf(variant, sizeof(variant), "%u", n);
	int *cfd = calloc(n, sizeof(int)), *sfd = calloc(n, sizeof(int));
	if (!cfd || !sfd || lx_init(&x) < 0 || lx_listen(&x, LO_ADDR, 4) < 0) {
		res_skip("scale", "linux", variant, "setup_per_s", "setup failed");
		return;
	}
	settle();
	uint64_t s0 = slab_bytes(), r0 = bench_rss(), w0 = bench_wall_ns();
	int err = lx_open_many(&x, n, LO_ADDR, cfd, sfd);
	uint64_t setup = bench_wall_ns() - w0;
	if (err < 0) {
		res_skip("scale", "linux", variant, "setup_per_s", "failed: %s", strerror(-err));
		return;
	}
	settle();
	uint64_t s1 = slab_bytes(), r1 = bench_rss();
	res_add("scale", "linux", variant, "setup_per_s", (double)n / ((double)setup / 1e9));
	res_add_note("scale", "linux", variant, "rss_bytes", (double)(s1 - s0 + r1 - r0),
	             "kernel slab delta + process RSS delta, both ends");
	bench_log("linux scale %u: setup %.0f/s, %.1f MiB", n, (double)n / ((double)setup / 1e9),
	          (double)(s1 - s0 + r1 - r0) / 1048576.0);

	/* 64-byte echoes on random connections, 1,000 at a time. */
	for (uint32_t i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = sfd[i]};
		epoll_ctl(x.ep, EPOLL_CTL_ADD, sfd[i], &ev);
	}
	uint64_t xs = 0x9e3779b97f4a7c15ull, segs0 = snmp_tcp("InSegs"), c0 = bench_cpu_ns();
	char msg[REQ_LEN] = {1}, buf[4096];
	int batch[1000];
	struct epoll_event evs[1024];
	for (uint64_t done = 0; done < o->scale_msgs; done += 1000) {
		for (int b = 0; b < 1000; b++) {
			xs ^= xs << 13;
			xs ^= xs >> 7;
			xs ^= xs << 17;
			batch[b] = cfd[xs % n];
			if (send(batch[b], msg, sizeof(msg), 0) < 0)
				break;
		}
		int echoed = 0;
		while (echoed < 1000) {
			int k = epoll_wait(x.ep, evs, 1024, 100);
			if (k <= 0)
				break;
			for (int i = 0; i < k; i++) {
				ssize_t m = recv(evs[i].data.fd, buf, sizeof(buf), 0);
				if (m > 0) {
					send(evs[i].data.fd, buf, (size_t)m, 0);
					echoed += (int)(m / REQ_LEN);
				}
			}
		}
		for (int b = 0; b < 1000; b++) {
			struct pollfd p = {.fd = batch[b], .events = POLLIN};
			while (recv(batch[b], buf, sizeof(buf), MSG_DONTWAIT) > 0)
				;
			(void)p;
		}
	}
	uint64_t cpu = bench_cpu_ns() - c0, segs = snmp_tcp("InSegs") - segs0;
	if (segs)
		res_add_note(
		    "scale", "linux", variant, "ns_per_segment", (double)cpu / (double)segs,
		    "CPU ns (user + system) per TCP segment received (InSegs), %llu segments",
		    (unsigned long long)segs);
	lx_free(&x);
}

/* ------------------------------------------------------------------ */
/* Bulk over veth.                                                     */

struct bulk_out {
	uint64_t bytes, wall_ns;
};

/* One transfer of total bytes from namespace a to namespace b. */
static int bulk_once(const char *a, const char *b, uint64_t total, double *gbit, double *cpu_snd,
                     double *cpu_rcv)
{
	int ready[2], res[2];
	if (pipe(ready) < 0 || pipe(res) < 0)
		return -errno;
	fflush(NULL);
	pid_t rcv = fork();
	if (rcv == 0) {
		static char buf[1 << 18];
		struct bulk_out out = {0, 0};
		int one = 1;
		if (bench_join_netns(b) < 0)
			_exit(1);
		int l = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_port = htons(5001),
		                         .sin_addr.s_addr = htonl(0x0ac90002u)};
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		int c = accept(l, NULL, NULL);
		uint64_t w0 = bench_wall_ns();
		ssize_t n;
		while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
			out.bytes += (uint64_t)n;
		out.wall_ns = bench_wall_ns() - w0;
		if (write(res[1], &out, sizeof(out)) != sizeof(out))
			_exit(1);
		_exit(0);
	}
	char ch;
	if (read(ready[0], &ch, 1) != 1) {
		waitpid(rcv, NULL, 0);
		return -EIO;
	}
	pid_t snd = fork();
	if (snd == 0) {
		static char buf[1 << 18];
		if (bench_join_netns(a) < 0)
			_exit(1);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_port = htons(5001),
		                         .sin_addr.s_addr = htonl(0x0ac90002u)};
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(1);
		for (uint64_t sent = 0; sent < total;) {
			size_t want =
			    total - sent < sizeof(buf) ? (size_t)(total - sent) : sizeof(buf);
			ssize_t n = send(s, buf, want, 0);
			if (n <= 0)
				_exit(1);
			sent += (uint64_t)n;
		}
		close(s);
		_exit(0);
	}
	struct rusage ru_s, ru_r;
	int st_s, st_r;
	wait4(snd, &st_s, 0, &ru_s);
	struct bulk_out out = {0, 0};
	ssize_t got = read(res[0], &out, sizeof(out));
	wait4(rcv, &st_r, 0, &ru_r);
	close(ready[0]);
	close(ready[1]);
	close(res[0]);
	close(res[1]);
	if (got != sizeof(out) || out.bytes != total || !WIFEXITED(st_s) || WEXITSTATUS(st_s))
		return -EIO;
#define TV(t) ((double)(t).tv_sec + (double)(t).tv_usec / 1e6)
	*cpu_snd = TV(ru_s.ru_utime) + TV(ru_s.ru_stime);
	*cpu_rcv = TV(ru_r.ru_utime) + TV(ru_r.ru_stime);
#undef TV
	*gbit = (double)total * 8 / (double)out.wall_ns;
	return 0;
}

void bench_bulk_linux(const struct bench_opts *o, const char *bench, uint64_t total)
{
	char a[32], b[32];
	snprintf(a, sizeof(a), "sbench-a-%d", (int)getpid());
	snprintf(b, sizeof(b), "sbench-b-%d", (int)getpid());
	if (system("command -v ethtool >/dev/null 2>&1") != 0)
		bench_sh("DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ethtool >/dev/null "
		         "2>&1");
	if (bench_sh("ip netns add %s && ip netns add %s", a, b) != 0 ||
	    bench_sh("ip link add va netns %s type veth peer name vb netns %s", a, b) != 0 ||
	    bench_sh(
	        "ip -n %s addr add 10.201.0.1/24 dev va && ip -n %s addr add 10.201.0.2/24 dev vb",
	        a, b) != 0 ||
	    bench_sh("ip -n %s link set va mtu 1500 up && ip -n %s link set vb mtu 1500 up && "
	             "ip -n %s link set lo up && ip -n %s link set lo up",
	             a, b, a, b) != 0) {
		res_skip(bench, "linux", "veth", "gbit_per_s", "could not set up the veth pair");
		bench_sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", a, b);
		return;
	}
	/* Off: segmentation first; on: the features they depend on first. */
	static const char *knobs_off[] = {"tso", "gso", "gro", "tx", "rx", "sg"};
	static const char *knobs_on[] = {"sg", "tx", "rx", "tso", "gso", "gro"};
	for (int on = 0; on <= 1; on++) {
		const char **knobs = on ? knobs_on : knobs_off;
		char variant[48], failed[128] = "";
		snprintf(variant, sizeof(variant), "mss1460-veth-offload-%s", on ? "on" : "off");
		for (size_t k = 0; k < 6; k++) {
			int ra = bench_sh("ip netns exec %s ethtool -K va %s %s >/dev/null 2>&1", a,
			                  knobs[k], on ? "on" : "off");
			int rb = bench_sh("ip netns exec %s ethtool -K vb %s %s >/dev/null 2>&1", b,
			                  knobs[k], on ? "on" : "off");
			if (ra || rb) {
				size_t l = strlen(failed);
				snprintf(failed + l, sizeof(failed) - l, "%s%s", l ? "," : "",
				         knobs[k]);
			}
		}
		double gbit[9], cpu[9], cs[9], cr[9];
		int ok = 1;
		for (int r = 0; r < o->reps; r++) {
			if (bulk_once(a, b, total, &gbit[r], &cs[r], &cr[r]) < 0) {
				ok = 0;
				break;
			}
			double gb = (double)total / 1e9;
			cpu[r] = (cs[r] + cr[r]) / gb;
			cs[r] /= gb;
			cr[r] /= gb;
			bench_log(
			    "linux bulk %s: %.2f Gbit/s, %.3f s CPU per GB (sender %.3f, receiver "
			    "%.3f)",
			    variant, gbit[r], cpu[r], cs[r], cr[r]);
		}
		if (!ok) {
			res_skip(bench, "linux", variant, "gbit_per_s", "transfer failed");
			continue;
		}
		res_add_note(bench, "linux", variant, "gbit_per_s", bench_median(gbit, o->reps),
		             "veth pair between two namespaces, MTU 1500, offloads (%s) %s%s%s; "
		             "sender and receiver processes",
		             "tso,gso,gro,tx,rx,sg", on ? "on" : "off",
		             failed[0] ? "; could not change: " : "", failed);
		res_add(bench, "linux", variant, "cpu_s_per_gb", bench_median(cpu, o->reps));
		res_add(bench, "linux", variant, "cpu_s_per_gb_sender", bench_median(cs, o->reps));
		res_add(bench, "linux", variant, "cpu_s_per_gb_receiver",
		        bench_median(cr, o->reps));
	}
	bench_sh("ip netns del %s; ip netns del %s", a, b);
}

/* ------------------------------------------------------------------ */

void bench_linux(const struct bench_opts *o)
{
	if (geteuid() != 0) {
		res_skip("lifecycle", "linux", "all", "lifecycles_per_s", "skipped (needs root)");
		return;
	}
	if (o->do_lifecycle)
		for (int k = 0; k < o->ninflight; k++)
			in_child_netns(o, o->inflight[k], child_lifecycle, o->inflight[k]);
	if (o->do_bulk)
		bench_bulk_linux(o, "bulk", o->bulk_bytes_linux);
	/* The memory and scale runs hold both ends in one process. */
	uint32_t most = (fd_limit() - 100) / 2;
	if (o->do_memory)
		in_child_netns(o, o->mem_conns, child_memory,
		               o->mem_conns < most ? o->mem_conns : most);
	if (o->do_scale) {
		in_child_netns(o, o->scale_small, child_scale, o->scale_small);
		uint32_t big = o->scale_linux_big < most ? o->scale_linux_big : most;
		if (big > o->scale_small)
			in_child_netns(o, big, child_scale, big);
		res_skip(
		    "scale", "linux", "1000000", "setup_per_s",
		    "not run: 1,000,000 connections over loopback need 2,000,000 file descriptors "
		    "in one process; the hard limit here is %u (raising it needs "
		    "CAP_SYS_RESOURCE); the largest Linux count is %u",
		    fd_limit(), big > o->scale_small ? big : o->scale_small);
	}
}
