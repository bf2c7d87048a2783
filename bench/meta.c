/*
 * The run's header (issue 16 item 5): when and where the figures were
 * taken, so that a table generated from one run's JSON (bench/report.py)
 * says so: date, commit, build, machine (CPU, cores, RAM, kernel, OS) and
 * the load average at the start and at the end of the run.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#ifndef SYNACK_BENCH_SOURCE_DIR
#define SYNACK_BENCH_SOURCE_DIR "."
#endif
#ifndef SYNACK_BENCH_BUILD_TYPE
#define SYNACK_BENCH_BUILD_TYPE "unknown"
#endif

/* The first line of a command's output, without its newline ("" if none). */
static void first_line(const char *cmd, char *buf, size_t len)
{
	buf[0] = 0;
	FILE *p = popen(cmd, "r");
	if (!p)
		return;
	if (fgets(buf, (int)len, p))
		buf[strcspn(buf, "\n")] = 0;
	else
		buf[0] = 0;
	pclose(p);
}

/* The value of the first line of file that starts with key, after the
 * separator ("" if none). */
static void file_key(const char *file, const char *key, char sep, char *buf, size_t len)
{
	buf[0] = 0;
	FILE *f = fopen(file, "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		char *v = strchr(line, sep);
		if (strncmp(line, key, strlen(key)) || !v)
			continue;
		for (v++; *v == ' ' || *v == '\t' || *v == '"'; v++)
			;
		v[strcspn(v, "\"\n")] = 0;
		snprintf(buf, len, "%s", v);
		break;
	}
	if (f)
		fclose(f);
}

static void loadavg(double l[3])
{
	l[0] = l[1] = l[2] = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) != 3)
			l[0] = l[1] = l[2] = -1;
		fclose(f);
	}
}

void bench_meta_start(struct bench_meta *m, int argc, char **argv)
{
	memset(m, 0, sizeof(*m));
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(m->date, sizeof(m->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(m->args);
		snprintf(m->args + n, sizeof(m->args) - n, "%s%s", i > 1 ? " " : "", argv[i]);
	}
	/* The commit: SYNACK_BENCH_COMMIT if set (e.g. by bench/full_run.sh),
	 * else the source tree's HEAD, "-dirty" with tracked changes. */
	const char *env = getenv("SYNACK_BENCH_COMMIT");
	if (env && env[0]) {
		snprintf(m->commit, sizeof(m->commit), "%s", env);
	} else {
		first_line("git -C '" SYNACK_BENCH_SOURCE_DIR "' rev-parse --short=12 HEAD "
		           "2>/dev/null",
		           m->commit, sizeof(m->commit));
		char dirty[8];
		first_line("git -C '" SYNACK_BENCH_SOURCE_DIR "' status --porcelain "
		           "--untracked-files=no 2>/dev/null | head -1 | cut -c1-2",
		           dirty, sizeof(dirty));
		if (m->commit[0] && dirty[0])
			strncat(m->commit, "-dirty", sizeof(m->commit) - strlen(m->commit) - 1);
		if (!m->commit[0])
			snprintf(m->commit, sizeof(m->commit), "unknown");
	}
	snprintf(m->build, sizeof(m->build), "%s", SYNACK_BENCH_BUILD_TYPE);
#if defined(__GNUC__) && !defined(__clang__)
	snprintf(m->compiler, sizeof(m->compiler), "gcc %s", __VERSION__);
#else
	snprintf(m->compiler, sizeof(m->compiler), "%s", __VERSION__);
#endif
	file_key("/proc/cpuinfo", "model name", ':', m->cpu, sizeof(m->cpu));
	file_key("/etc/os-release", "PRETTY_NAME", '=', m->os, sizeof(m->os));
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(m->kernel, sizeof(m->kernel), "%s %s", u.sysname, u.release);
	long cores = sysconf(_SC_NPROCESSORS_ONLN), pages = sysconf(_SC_PHYS_PAGES),
	     page = sysconf(_SC_PAGESIZE);
	m->cores = cores > 0 ? (int)cores : 0;
	m->ram_bytes = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
	loadavg(m->load_start);
	m->wall0_ns = bench_wall_ns();
}

void bench_meta_end(struct bench_meta *m)
{
	loadavg(m->load_end);
	m->wall_s = (double)(bench_wall_ns() - m->wall0_ns) / 1e9;
}
