/*
 * gVisor's netstack as a peer (issue 16 item 1).  The workloads are a Go
 * program, bench/gvisor (synack-gvisor-bench, built by CMake when Go and
 * Debian's golang-gvisor-gvisor-dev are installed); it prints the same JSON
 * lines as this program with "impl":"gvisor".  Each workload runs in its
 * own process so one workload's Go heap does not weigh on the next one's
 * figures; this file runs them, reads their lines back into the result
 * store, and for the tap workload builds the network namespace the Go
 * program runs in.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#ifdef SYNACK_BENCH_GVISOR_BIN
static const char *gvisor_bin = SYNACK_BENCH_GVISOR_BIN;
static const char *gvisor_why = "";
#else
static const char *gvisor_bin = NULL;
static const char *gvisor_why = SYNACK_BENCH_GVISOR_WHY;
#endif

/* ------------------------------------------------------------------ */
/* The lines: flat JSON objects of strings, numbers, null and booleans. */

struct gv_line {
	char bench[16], impl[8], variant[32], metric[32], note[240], remark[240];
	double value;
	int has_value;
};

static const char *json_skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Copies the JSON string at p (after its opening quote) into out
 * (truncated to len); returns the character after the closing quote, or
 * NULL. */
static const char *json_string(const char *p, char *out, size_t len)
{
	size_t n = 0;
	for (; *p && *p != '"'; p++) {
		char c = *p;
		if (c == '\\') {
			p++;
			switch (*p) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'u': {
				unsigned v = 0;
				for (int k = 1; k <= 4; k++) {
					char h = p[k];
					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
					      (h >= 'A' && h <= 'F')))
						return NULL;
					v = v * 16 +
					    (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
				}
				p += 4;
				c = v < 0x80 && v >= 0x20 ? (char)v : '?';
				break;
			}
			case 0:
				return NULL;
			default:
				c = *p; /* \" \\ \/ */
			}
		}
		if (n + 1 < len)
			out[n++] = c;
	}
	if (len)
		out[n] = 0;
	return *p == '"' ? p + 1 : NULL;
}

/* Parses one line; 0, or -1 when it is not such an object. */
static int gv_parse(const char *p, struct gv_line *l)
{
	memset(l, 0, sizeof(*l));
	p = json_skip_ws(p);
	if (*p++ != '{')
		return -1;
	for (;;) {
		char key[32], str[240];
		p = json_skip_ws(p);
		if (*p++ != '"' || !(p = json_string(p, key, sizeof(key))))
			return -1;
		p = json_skip_ws(p);
		if (*p++ != ':')
			return -1;
		p = json_skip_ws(p);
		if (*p == '"') {
			if (!(p = json_string(p + 1, str, sizeof(str))))
				return -1;
			char *dst = NULL;
			size_t dlen = 0;
			if (!strcmp(key, "bench"))
				dst = l->bench, dlen = sizeof(l->bench);
			else if (!strcmp(key, "impl"))
				dst = l->impl, dlen = sizeof(l->impl);
			else if (!strcmp(key, "variant"))
				dst = l->variant, dlen = sizeof(l->variant);
			else if (!strcmp(key, "metric"))
				dst = l->metric, dlen = sizeof(l->metric);
			else if (!strcmp(key, "note"))
				dst = l->note, dlen = sizeof(l->note);
			else if (!strcmp(key, "remark"))
				dst = l->remark, dlen = sizeof(l->remark);
			if (dst)
				snprintf(dst, dlen, "%s", str);
		} else if (!strncmp(p, "null", 4) || !strncmp(p, "true", 4)) {
			p += 4;
		} else if (!strncmp(p, "false", 5)) {
			p += 5;
		} else {
			char *end;
			double v = strtod(p, &end);
			if (end == p)
				return -1;
			if (!strcmp(key, "value")) {
				l->value = v;
				l->has_value = 1;
			}
			p = end;
		}
		p = json_skip_ws(p);
		if (*p == '}')
			return 0;
		if (*p++ != ',')
			return -1;
	}
}

static void gv_store(const struct gv_line *l)
{
	if (l->remark[0])
		res_remark("gvisor", "%s", l->remark);
	else if (l->has_value && l->note[0])
		res_add_note(l->bench, "gvisor", l->variant, l->metric, l->value, "%s", l->note);
	else if (l->has_value)
		res_add(l->bench, "gvisor", l->variant, l->metric, l->value);
	else
		res_skip(l->bench, "gvisor", l->variant, l->metric, "%s",
		         l->note[0] ? l->note : "skipped");
}

/* ------------------------------------------------------------------ */
/* Running the Go program.                                             */

/*
 * Runs argv (NULL-terminated), stores each JSON line it prints, and kills
 * it after limit_s seconds of wall time.  Returns the number of lines
 * stored, or -1 (with a remark) when it failed.
 */
static int gv_run(char *const argv[], double limit_s, const char *what)
{
	int fds[2];
	if (pipe(fds) < 0) {
		res_remark("gvisor", "%s: pipe: %s", what, strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		res_remark("gvisor", "%s: fork: %s", what, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	uint64_t end = bench_wall_ns() + (uint64_t)(limit_s * 1e9);
	int stored = 0, bad = 0, killed = 0;
	char line[2048];
	size_t have = 0;
	for (;;) {
		uint64_t now = bench_wall_ns();
		if (now >= end) {
			kill(pid, SIGKILL);
			killed = 1;
			break;
		}
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
		int ms = (int)((end - now) / 1000000u) + 1;
		if (poll(&pfd, 1, ms > 1000 ? 1000 : ms) <= 0)
			continue;
		ssize_t n = read(fds[0], line + have, sizeof(line) - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		line[have] = 0;
		char *nl;
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = 0;
			struct gv_line l;
			if (gv_parse(line, &l) == 0 && (l.remark[0] || !strcmp(l.impl, "gvisor"))) {
				gv_store(&l);
				stored++;
			} else {
				bad++;
			}
			have -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, have + 1);
		}
		if (have == sizeof(line) - 1) {
			bad++;
			have = 0;
		}
	}
	close(fds[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	if (killed)
		res_remark("gvisor", "%s: killed after %.0f s", what, limit_s);
	else if (!WIFEXITED(st) || WEXITSTATUS(st))
		res_remark("gvisor", "%s: exited with status %d", what,
		           WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	if (bad)
		res_remark("gvisor", "%s: %d lines that are not its JSON", what, bad);
	return killed || bad || !WIFEXITED(st) || WEXITSTATUS(st) ? -1 : stored;
}

/* Formats into one of the argument buffers. */
#define GV_ARG(buf, ...) (snprintf(buf, sizeof(buf), __VA_ARGS__), buf)

static void gv_lifecycle(const struct bench_opts *o)
{
	char c[16], budget[32], reps[8];
	for (int k = 0; k < o->ninflight; k++) {
		char *argv[] = {(char *)gvisor_bin,
		                "-bench",
		                "lifecycle",
		                "-inflight",
		                GV_ARG(c, "%u", o->inflight[k]),
		                "-budget",
		                GV_ARG(budget, "%g", o->budget_s),
		                "-reps",
		                GV_ARG(reps, "%d", o->reps),
		                NULL};
		/* A run lasts 20 budgets at most, or with many in flight the
		 * time to open them all at 2,000 a second (gvisor/world.go). */
		double run = 20 * o->budget_s;
		if (o->inflight[k] / 2000.0 > run)
			run = o->inflight[k] / 2000.0;
		gv_run(argv, 60 + (run + 30) * o->reps, "lifecycle");
	}
}

static void gv_bulk(const struct bench_opts *o)
{
	char bytes[32], reps[8];
	char *argv[] = {(char *)gvisor_bin,
	                "-bench",
	                "bulk",
	                "-bytes",
	                GV_ARG(bytes, "%llu", (unsigned long long)o->bulk_bytes_lwip),
	                "-reps",
	                GV_ARG(reps, "%d", o->reps),
	                NULL};
	/* At 0.1 Gbit/s at worst. */
	gv_run(argv, 60 + (double)o->bulk_bytes_lwip * 8 / 1e8 * o->reps, "bulk");
}

static void gv_memory(const struct bench_opts *o)
{
	char conns[16];
	char *argv[] = {(char *)gvisor_bin,
	                "-bench",
	                "memory",
	                "-conns",
	                GV_ARG(conns, "%u", o->mem_conns),
	                NULL};
	/* A safety net, not a measure: on a loaded machine 100,000 gVisor
	 * connections took more than 320 s to open, close and count. */
	gv_run(argv, 120 + o->mem_conns / 50.0, "memory");
}

static void gv_scale(const struct bench_opts *o)
{
	char scale[32], msgs[32];
	/* --quick stays quick: gVisor opens ~5,000 connections a second. */
	uint32_t big = o->quick && o->scale_big > 10000 ? 10000 : o->scale_big;
	char *argv[] = {(char *)gvisor_bin,
	                "-bench",
	                "scale",
	                "-scale",
	                GV_ARG(scale, "%u,%u", o->scale_small, big),
	                "-msgs",
	                GV_ARG(msgs, "%llu", (unsigned long long)o->scale_msgs),
	                NULL};
	gv_run(argv, 300 + big / 100.0 + o->scale_msgs / 200.0, "scale");
}

/* The tap workload: gVisor on a TAP device in a namespace made here,
 * against the kernel in the same namespace; bulk both directions. */
static void gv_tap(const struct bench_opts *o)
{
	if (geteuid() != 0) {
		res_skip("tap", "gvisor", "tx", "gbit_per_s",
		         "not run: needs root (a network namespace and a TAP device)");
		return;
	}
	char ns[32], bytes[32], reps[8];
	snprintf(ns, sizeof(ns), "sbench-gv-%d", (int)getpid());
	if (bench_sh("ip netns add %s", ns) != 0) {
		res_skip("tap", "gvisor", "tx", "gbit_per_s",
		         "could not create a network namespace");
		return;
	}
	/* The same bytes each way as synack on TAP (b_tap.c). */
	uint64_t total = o->tap_bytes;
	char *argv[] = {"ip",
	                "netns",
	                "exec",
	                ns,
	                (char *)gvisor_bin,
	                "-bench",
	                "tap",
	                "-tap",
	                "gvtap0",
	                "-bytes",
	                GV_ARG(bytes, "%llu", (unsigned long long)total),
	                "-reps",
	                GV_ARG(reps, "%d", o->reps),
	                NULL};
	gv_run(argv, 60 + 2 * (double)total * 8 / 1e8 * o->reps, "tap");
	bench_sh("ip netns del %s", ns);
}

void bench_gvisor(const struct bench_opts *o)
{
	if (!o->do_lifecycle && !o->do_bulk && !o->do_memory && !o->do_scale && !o->do_tap)
		return; /* e.g. --bench wan */
	if (!gvisor_bin) {
		res_skip("lifecycle", "gvisor", "all", "lifecycles_per_s", "%s", gvisor_why);
		return;
	}
	if (access(gvisor_bin, X_OK) != 0) {
		res_skip("lifecycle", "gvisor", "all", "lifecycles_per_s",
		         "%s is missing (build the synack_gvisor_bench target)", gvisor_bin);
		return;
	}
	if (o->do_lifecycle)
		gv_lifecycle(o);
	if (o->do_bulk)
		gv_bulk(o);
	if (o->do_memory)
		gv_memory(o);
	if (o->do_scale)
		gv_scale(o);
	if (o->do_tap)
		gv_tap(o);
}
