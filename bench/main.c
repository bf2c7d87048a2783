/*
 * synack-bench: options, the order of the runs, and the output (a table, or
 * JSON lines with --json), the synack/peer ratios and the targets.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "settings.h"

static void usage(FILE *f)
{
	fputs(
	    "usage: synack-bench [--quick | --smoke] [--json] [--reps N]\n"
	    "                    [--only synack,linux,lwip,gvisor]\n"
	    "                    [--bench lifecycle,bulk,memory,scale,tap]\n"
	    "                    [--inflight N,N,...]\n"
	    "       synack-bench --bench wan [--only synack,linux] [--wan-matrix]\n"
	    "                    [--wan-rate MBPS] [--wan-rtt MS] [--wan-loss P] [--wan-queue N]\n"
	    "                    [--wan-dup P] [--wan-reorder P] [--wan-buffers bdp]\n"
	    "                    [--wan-duration S] [--wan-skip S] [--wan-set NAME=VALUE]...\n"
	    "                    [--wan-trace] [--smoke] [--json]\n"
	    "       synack-bench --bench tap [--only synack,linux,gvisor] [--smoke | --quick]\n"
	    "                    [--json]\n"
	    "       synack-bench --bench threads [--smoke | --quick] [--json]\n"
	    "       synack-bench --callgrind [--json]\n"
	    "\n"
	    "Runs the same work on synack (two stacks over the simulated network), the\n"
	    "Linux kernel (loopback and veth inside network namespaces it creates; needs\n"
	    "root), lwIP (two netifs wired in memory) and gVisor's netstack (two stacks\n"
	    "wired through channel endpoints, bench/gvisor, when built), and prints them\n"
	    "side by side.  The tap workload (only when asked for; needs root): gVisor on\n"
	    "a TAP device against the kernel, bulk both directions.\n"
	    "  --quick      every workload, small: well under 60 s in total\n"
	    "  --smoke      a second or two, for the test suite (figures are not meaningful)\n"
	    "  --json       JSON lines: the run's header ({\"meta\":\"run\"}), then one per\n"
	    "               figure, ratio and target (bench/report.py makes tables of them)\n"
	    "  --reps N     repetitions of each timed figure (median kept; default 3, quick 1)\n"
	    "  --inflight L the lifecycle's connections in flight, up to 8 counts (default\n"
	    "               1,128,10000,100000; quick 1,128,10000; smoke 1,128)\n"
	    "  --callgrind  instructions per lifecycle and per byte for synack, under\n"
	    "               valgrind --tool=callgrind (repeatable on a noisy machine)\n"
	    "\n"
	    "The wan workload (only when asked for with --bench wan; needs root): one bulk\n"
	    "transfer over a path built by `synack bridge` between namespaces (rate with\n"
	    "a drop-tail queue, RTT, random loss each way): Linux to Linux, synack on a TAP\n"
	    "device to Linux, and synack to synack in the simulator; goodput between\n"
	    "--wan-skip and --wan-duration seconds, retransmitted bytes.\n"
	    "  --wan-rate MBPS  the bottleneck each way (default 100)\n"
	    "  --wan-rtt MS     round-trip delay (default 20)\n"
	    "  --wan-loss P     random loss each way, 0..1 (default 0)\n"
	    "  --wan-queue N    bottleneck queue in packets (default: one BDP, at least 10)\n"
	    "  --wan-dup P, --wan-reorder P  duplication and reordering each way (default 0;\n"
	    "                   the matrix applies them to every point)\n"
	    "  --wan-duration S the measured window ends S s after the accept (default 15;\n"
	    "                   smoke 3)\n"
	    "  --wan-skip S     and starts S s after it (default 10; smoke 1)\n"
	    "  --wan-linux-cc NAME  the Linux sender's TCP_CONGESTION (default cubic); the\n"
	    "                   algorithm in effect is in the row's note\n"
	    "  --wan-buffers bdp  raise every buffer bound to 2 x the path's BDP (at least\n"
	    "                   the defaults): the kernel's tcp_rmem and tcp_wmem maximum in\n"
	    "                   the bench's namespaces, synack's rmem_max and wmem_max; the\n"
	    "                   row's note says the bounds (default: the defaults)\n"
	    "  --wan-set NAME=VALUE  a setting of synack's stacks (on TAP and in the\n"
	    "                   simulator), as `synack serve --set` takes it; repeatable,\n"
	    "                   applied after --wan-buffers; the row's note lists them\n"
	    "  --wan-trace      synack's sender on TAP prints cwnd, ssthresh, RTT, HyStart++\n"
	    "                   and the send queue to stderr once a second\n"
	    "  --wan-matrix     issue 13's grid: 100 and 1000 Mbit/s x 20, 100, 200 ms x\n"
	    "                   0, 0.1, 1 % loss\n"
	    "\n"
	    "The tap workload (only when asked for with --bench tap; needs root): synack on\n"
	    "a TAP device sending 1 GiB to the kernel and receiving 1 GiB from it (256 MiB\n"
	    "quick, 32 MiB smoke), MTU 1500, with the device's offloads on and off: Gbit/s,\n"
	    "CPU s per GB of synack's process, device reads and writes per GB; beside Linux\n"
	    "over a veth pair with offloads on and off and gVisor on TAP (when built).\n"
	    "\n"
	    "The threads workload (only when asked for with --bench threads; needs root):\n"
	    "one synack stack per queue of a multi-queue TAP device, each on its own\n"
	    "thread, with 1 and 2 threads: connections per second from 4 kernel client\n"
	    "processes, and 4 bulk flows at once (the tap workload's bytes in all).\n",
	    f);
}

static int list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Output.                                                             */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_head(const char *bench, const char *impl, const char *variant, const char *metric)
{
	printf("{\"bench\":");
	json_str(bench);
	printf(",\"impl\":");
	json_str(impl);
	printf(",\"variant\":");
	json_str(variant);
	printf(",\"metric\":");
	json_str(metric);
}

#define NIMPLS 4
static const char *impls[NIMPLS] = {"synack", "linux", "lwip", "gvisor"};

static const struct bench_result *find(const char *bench, const char *impl, const char *variant,
                                       const char *metric)
{
	for (size_t i = 0; i < res_count(); i++) {
		const struct bench_result *r = res_get(i);
		if (r->has_value && !strcmp(r->bench, bench) && !strcmp(r->impl, impl) &&
		    !strcmp(r->variant, variant) && !strcmp(r->metric, metric))
			return r;
	}
	return NULL;
}

/* The peer figure a synack figure is compared with: same bench, metric
 * and variant, except that bulk compares synack's one figure with every
 * variant of the peer (veth with offloads off and on), and tap compares
 * synack on TAP with Linux over veth (offloads off and on) and with gVisor
 * on TAP in the same direction (synack's "send" is gVisor's "tx"). */
static int peer_matches(const struct bench_result *s, const struct bench_result *p)
{
	if (strcmp(s->bench, p->bench) || strcmp(s->metric, p->metric) || !p->has_value ||
	    !s->has_value)
		return 0;
	if (!strcmp(s->bench, "bulk"))
		return 1;
	if (!strcmp(s->bench, "tap") && !strcmp(p->impl, "linux"))
		return 1;
	if (!strcmp(s->bench, "tap") && !strcmp(p->impl, "gvisor"))
		return !strcmp(p->variant, strncmp(s->variant, "send", 4) ? "rx" : "tx");
	return !strcmp(s->variant, p->variant);
}

/* Every ratio line (issue 16 item 5: each names its peer): synack's figure
 * over each peer figure peer_matches() pairs it with, "synack/PEER"; in the
 * threads workload, 2 threads over 1 of the same figure,
 * "synack-2t/synack-1t".  fn gets the two figures and the two names. */
typedef void ratio_fn(const struct bench_result *s, const struct bench_result *p, const char *num,
                      const char *den);

static void each_ratio(ratio_fn *fn)
{
	for (size_t i = 0; i < res_count(); i++) {
		const struct bench_result *s = res_get(i);
		if (strcmp(s->impl, "synack") || !s->has_value)
			continue;
		size_t n = strlen(s->variant);
		if (!strcmp(s->bench, "threads")) {
			if (n < 2 || strcmp(s->variant + n - 2, "2t"))
				continue;
			char one[sizeof(s->variant)];
			snprintf(one, sizeof(one), "%.*s1t", (int)(n - 2), s->variant);
			const struct bench_result *p = find("threads", "synack", one, s->metric);
			if (p && p->value != 0)
				fn(s, p, "synack-2t", "synack-1t");
			continue;
		}
		for (size_t j = 0; j < res_count(); j++) {
			const struct bench_result *p = res_get(j);
			if (!strcmp(p->impl, "synack") || !peer_matches(s, p) || p->value == 0)
				continue;
			fn(s, p, "synack", p->impl);
		}
	}
}

static void fmt_value(char *buf, size_t len, double v)
{
	if (v >= 1e6)
		snprintf(buf, len, "%.3g", v);
	else if (v >= 100)
		snprintf(buf, len, "%.0f", v);
	else if (v >= 1)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "%.3g", v);
}

struct target {
	const char *bench, *variant, *metric, *alt_variant;
	double limit;
	int at_least; /* 1: value >= limit; 0: value <= limit */
	const char *text;
	/* A target relative to a peer's figure of the same run (bench and
	 * metric): the limit is limit x that figure. */
	const char *ref_impl, *ref_variant;
};

/* One target's verdict: JSON {"bench":"target",..,"value","target","met",
 * "factor","name"} (value, target, met and factor null, "skipped", when
 * not measured in this run), or a line "TEXT VALUE: met" / "MISSED by Nx"
 * / "not measured in this run".  factor: how far the value is from the
 * limit, above 1 when missed. */
static void verdict(int json, const char *text, const char *variant, const char *metric,
                    const double *value, double limit, int at_least, const char *shown,
                    const char *relative_to)
{
	int met = 0;
	double factor = 0;
	if (value) {
		met = at_least ? *value >= limit : *value <= limit;
		factor = at_least ? limit / *value : *value / limit;
	}
	if (json) {
		json_head("target", "synack", variant, metric);
		if (value)
			printf(",\"value\":%.6g,\"target\":%.6g,\"met\":%s,\"factor\":%.9g", *value,
			       limit, met ? "true" : "false", factor);
		else
			printf(",\"value\":null,\"skipped\":true,\"target\":null,\"met\":null,"
			       "\"factor\":null,\"note\":\"not measured in this run\"");
		printf(",\"name\":");
		json_str(text);
		if (relative_to) {
			printf(",\"relative_to\":");
			json_str(relative_to);
		}
		printf("}\n");
	} else if (!value) {
		printf("  %-66s not measured in this run\n", text);
	} else if (met) {
		printf("  %-66s %s: met\n", text, shown);
	} else {
		/* Rounded up: a miss by under 1 % reads 1.01x, never 1.00x. */
		printf("  %-66s %s: MISSED by %.2fx\n", text, shown,
		       ceil(factor * 100 - 1e-9) / 100);
	}
}

static void targets(int json)
{
	static const struct target t[] = {
	    {"lifecycle", "c1", "lifecycles_per_s", NULL, 2e6, 1,
	     "lifecycle >= 2,000,000/s, one connection in flight", NULL, NULL},
	    {"bulk", "mss1460", "gbit_per_s", NULL, 40, 1, "bulk >= 40 Gbit/s at MSS 1460", NULL,
	     NULL},
	    {"bulk", "mss1460", "cpu_s_per_gb", NULL, 0.2, 0, "bulk <= 0.2 s CPU per GB", NULL,
	     NULL},
	    {"memory", "accounting", "bytes_per_established", "heap", 256, 0,
	     "<= 256 B per idle established connection", NULL, NULL},
	    /* Issue 16 item 4: by malloc, not only by synack's accounting. */
	    {"memory", "heap", "bytes_per_established", NULL, 256, 0,
	     "<= 256 B per idle established endpoint, by malloc (heap)", NULL, NULL},
	    {"memory", "accounting", "bytes_per_time_wait", "heap", 64, 0,
	     "<= 64 B per TIME_WAIT entry", NULL, NULL},
	    {"scale", "1000000", "server_stack_bytes", NULL, 1073741824.0, 0,
	     "1,000,000 established connections under 1 GiB (server stack)", NULL, NULL},
	    {"scale", "1000000", "rss_bytes", NULL, 1073741824.0, 0,
	     "1,000,000 established connections under 1 GiB (process RSS, both ends)", NULL, NULL},
	    /* Issue 16 item 2: synack on TAP against Linux over veth with
	     * offloads, measured in the same run (--bench tap). */
	    {"tap", "send-offload-on", "gbit_per_s", NULL, 1, 1,
	     "TAP: synack sending >= Linux veth with offloads (Gbit/s)", "linux",
	     "mss1460-veth-offload-on"},
	    {"tap", "recv-offload-on", "gbit_per_s", NULL, 1, 1,
	     "TAP: synack receiving >= Linux veth with offloads (Gbit/s)", "linux",
	     "mss1460-veth-offload-on"},
	    {"tap", "send-offload-on", "cpu_s_per_gb", NULL, 1, 0,
	     "TAP: synack sending, CPU per GB <= Linux veth with offloads", "linux",
	     "mss1460-veth-offload-on"},
	    {"tap", "recv-offload-on", "cpu_s_per_gb", NULL, 1, 0,
	     "TAP: synack receiving, CPU per GB <= Linux veth with offloads", "linux",
	     "mss1460-veth-offload-on"},
	};
	if (!json)
		printf("\nTargets (synack)\n");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *variant = t[i].variant;
		const struct bench_result *r = find(t[i].bench, "synack", variant, t[i].metric);
		if (!r && t[i].alt_variant) {
			variant = t[i].alt_variant;
			r = find(t[i].bench, "synack", variant, t[i].metric);
		}
		if (!r)
			variant = t[i].variant;
		double limit = t[i].limit;
		char rel[64] = "";
		if (t[i].ref_impl) {
			const struct bench_result *ref =
			    find(t[i].bench, t[i].ref_impl, t[i].ref_variant, t[i].metric);
			snprintf(rel, sizeof(rel), "%s %s", t[i].ref_impl, t[i].ref_variant);
			if (!ref || ref->value == 0)
				r = NULL;
			else
				limit *= ref->value;
		}
		char v[64] = "", ref[32] = "";
		if (r)
			fmt_value(v, sizeof(v), r->value);
		if (r && rel[0]) {
			/* "6.84 vs 4.23": and the peer's figure the limit is. */
			fmt_value(ref, sizeof(ref), limit / t[i].limit);
			size_t n = strlen(v);
			snprintf(v + n, sizeof(v) - n, " vs %s", ref);
		}
		verdict(json, t[i].text, variant, t[i].metric, r ? &r->value : NULL, limit,
		        t[i].at_least, v, rel[0] ? rel : NULL);
	}
	/* No more than 1.5x slower per lifecycle at 100,000 in flight than at 1. */
	const struct bench_result *a = find("lifecycle", "synack", "c1", "cpu_us_per_lifecycle");
	const struct bench_result *b =
	    find("lifecycle", "synack", "c100000", "cpu_us_per_lifecycle");
	double f = a && b && a->value > 0 ? b->value / a->value : 0;
	char v[32];
	snprintf(v, sizeof(v), "%.2fx", f);
	verdict(json, "per lifecycle at 100,000 in flight <= 1.5x at 1", "c100000/c1",
	        "cpu_us_per_lifecycle", f > 0 ? &f : NULL, 1.5, 0, v, NULL);
}

/* A ratio's names: "NUM/DEN", and the pair's variant, or "S vs P" when
 * the two figures' variants differ. */
static void ratio_names(const struct bench_result *s, const struct bench_result *p, const char *num,
                        const char *den, char impl[40], char variant[80])
{
	snprintf(impl, 40, "%s/%s", num, den);
	if (!strcmp(s->variant, p->variant))
		snprintf(variant, 80, "%s", s->variant);
	else
		snprintf(variant, 80, "%s vs %s", s->variant, p->variant);
}

/* A ratio as a JSON line, with the peer and both variants spelt out. */
static void json_ratio(const struct bench_result *s, const struct bench_result *p, const char *num,
                       const char *den)
{
	char impl[40], variant[80];
	ratio_names(s, p, num, den, impl, variant);
	json_head(s->bench, impl, variant, s->metric);
	printf(",\"value\":%.6g,\"peer\":", s->value / p->value);
	json_str(den);
	printf(",\"synack_variant\":");
	json_str(s->variant);
	printf(",\"peer_variant\":");
	json_str(p->variant);
	printf("}\n");
}

static int ratio_lines;

/* A ratio as a line of the table, under one header. */
static void text_ratio(const struct bench_result *s, const struct bench_result *p, const char *num,
                       const char *den)
{
	char impl[40], variant[80];
	if (!ratio_lines++)
		printf("\nRatios synack/peer (above 1 means synack's figure is larger)\n");
	ratio_names(s, p, num, den, impl, variant);
	printf("  %-10s %-24s %-20s %-44s %10.3g\n", s->bench, s->metric, impl, variant,
	       s->value / p->value);
}

/* The run's header (meta.c): {"meta":"run",...}, or the table's first line. */
static struct bench_meta meta;

static void print_meta(int json)
{
	const double *ls = meta.load_start, *le = meta.load_end;
	if (!json) {
		printf("Run %s, commit %s (%s), %s, %d cores, %.1f GB RAM, %s, %s; load average "
		       "%.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end; %.0f s\n",
		       meta.date, meta.commit, meta.build, meta.cpu, meta.cores,
		       meta.ram_bytes / 1e9, meta.kernel, meta.os, ls[0], ls[1], ls[2], le[0],
		       le[1], le[2], meta.wall_s);
		return;
	}
	const char *keys[] = {"date", "commit", "build", "compiler", "cpu", "kernel", "os", "args"};
	const char *vals[] = {meta.date, meta.commit, meta.build, meta.compiler,
	                      meta.cpu,  meta.kernel, meta.os,    meta.args};
	printf("{\"meta\":\"run\"");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		printf(",\"%s\":", keys[i]);
		json_str(vals[i]);
	}
	printf(",\"cores\":%d,\"ram_bytes\":%.0f,\"load_start\":[%.2f,%.2f,%.2f],"
	       "\"load_end\":[%.2f,%.2f,%.2f],\"wall_s\":%.1f}\n",
	       meta.cores, meta.ram_bytes, ls[0], ls[1], ls[2], le[0], le[1], le[2], meta.wall_s);
}

static void print_json(void)
{
	print_meta(1);
	for (size_t i = 0; i < res_count(); i++) {
		const struct bench_result *r = res_get(i);
		if (!strcmp(r->bench, "remark")) {
			printf("{\"remark\":");
			json_str(r->why);
			printf(",\"impl\":");
			json_str(r->impl);
			printf("}\n");
			continue;
		}
		json_head(r->bench, r->impl, r->variant, r->metric);
		/* The tap rows also say their direction: "tx", synack or the
		 * peer sends to the kernel; "rx", the kernel sends. */
		if (!strcmp(r->bench, "tap") &&
		    (!strncmp(r->variant, "tx", 2) || !strncmp(r->variant, "rx", 2)))
			printf(",\"dir\":\"%.2s\"", r->variant);
		if (r->has_value)
			printf(",\"value\":%.6g", r->value);
		else
			printf(",\"value\":null,\"skipped\":true");
		if (r->why[0]) {
			printf(",\"note\":");
			json_str(r->why);
		}
		printf("}\n");
	}
	each_ratio(json_ratio);
	targets(1);
}

static void print_table(void)
{
	int done[BENCH_MAX_RESULTS] = {0};
	int nnotes = 0;
	const char *notes[BENCH_MAX_RESULTS];
	print_meta(0);
	/* Benches in a fixed order, rows in the order they were measured. */
	static const char *order[] = {"lifecycle", "bulk", "memory", "scale",
	                              "wan",       "tap",  "threads"};
	for (size_t b = 0; b < sizeof(order) / sizeof(order[0]); b++)
		for (size_t i = 0, first = 1; i < res_count(); i++) {
			const struct bench_result *r = res_get(i);
			if (done[i] || strcmp(r->bench, order[b]))
				continue;
			if (first) {
				first = 0;
				printf("\n%-10s %-26s %-24s %12s %12s %12s %12s\n", order[b],
				       "variant", "metric", "synack", "linux", "lwip", "gvisor");
			}
			char cells[NIMPLS][48];
			for (int k = 0; k < NIMPLS; k++)
				snprintf(cells[k], sizeof(cells[k]), "-");
			for (size_t j = i; j < res_count(); j++) {
				const struct bench_result *q = res_get(j);
				if (done[j] || strcmp(q->bench, r->bench) ||
				    strcmp(q->variant, r->variant) || strcmp(q->metric, r->metric))
					continue;
				done[j] = 1;
				for (int k = 0; k < NIMPLS; k++) {
					if (strcmp(q->impl, impls[k]))
						continue;
					char v[32], mark[16] = "";
					if (q->why[0] && nnotes < BENCH_MAX_RESULTS) {
						notes[nnotes++] = q->why;
						snprintf(mark, sizeof(mark), "[%d]", nnotes);
					}
					if (q->has_value)
						fmt_value(v, sizeof(v), q->value);
					else
						snprintf(v, sizeof(v), "skipped");
					snprintf(cells[k], sizeof(cells[k]), "%s%s", v, mark);
				}
			}
			printf("%-10s %-26s %-24s %12s %12s %12s %12s\n", "", r->variant, r->metric,
			       cells[0], cells[1], cells[2], cells[3]);
		}
	each_ratio(text_ratio);
	targets(0);
	if (nnotes) {
		printf("\nNotes\n");
		for (int i = 0; i < nnotes; i++)
			printf("  [%d] %s\n", i + 1, notes[i]);
	}
	int header = 0;
	for (size_t i = 0; i < res_count(); i++) {
		const struct bench_result *r = res_get(i);
		if (strcmp(r->bench, "remark"))
			continue;
		if (!header++)
			printf("\nRemarks\n");
		printf("  %s: %s\n", r->impl, r->why);
	}
}

/* ------------------------------------------------------------------ */
/* callgrind mode.                                                     */

/* Runs this program under callgrind with a fixed workload and returns the
 * instructions executed (the "summary:" line), or 0 on failure. */
static double callgrind_ir(const char *self, const char *kind, uint64_t n)
{
	char out[] = "/tmp/synack-bench-cg-XXXXXX";
	int fd = mkstemp(out);
	if (fd < 0)
		return 0;
	close(fd);
	char outarg[64], narg[32];
	snprintf(outarg, sizeof(outarg), "--callgrind-out-file=%s", out);
	snprintf(narg, sizeof(narg), "%llu", (unsigned long long)n);
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", 1);
		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execlp("valgrind", "valgrind", "--tool=callgrind", outarg, self,
		       "--callgrind-child", kind, narg, (char *)NULL);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	double ir = 0;
	FILE *f = fopen(out, "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "summary: %llu", &v) == 1)
			ir = (double)v;
	}
	if (f)
		fclose(f);
	unlink(out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 0;
	return ir;
}

static int callgrind_mode(const char *self, int json)
{
	if (system("valgrind --version >/dev/null 2>&1") != 0) {
		fprintf(stderr,
		        "synack-bench: --callgrind needs valgrind (apt-get install valgrind)\n");
		return 1;
	}
	/* Two sizes of each workload; the difference removes start-up and
	 * set-up costs (stacks, simulator, valgrind's own start). */
	struct {
		const char *kind, *metric;
		uint64_t a, b;
	} w[] = {{"lifecycle", "ir_per_lifecycle", 2000, 6000},
	         {"bulk", "ir_per_byte", 4u << 20, 12u << 20}};
	int rc = 0;
	for (int i = 0; i < 2; i++) {
		double ia = callgrind_ir(self, w[i].kind, w[i].a);
		double ib = callgrind_ir(self, w[i].kind, w[i].b);
		if (ia == 0 || ib == 0) {
			fprintf(stderr, "synack-bench: callgrind run of %s failed\n", w[i].kind);
			rc = 1;
			continue;
		}
		double v = (ib - ia) / (double)(w[i].b - w[i].a);
		if (json) {
			json_head("callgrind", "synack", w[i].kind, w[i].metric);
			printf(",\"value\":%.6g}\n", v);
		} else {
			printf("callgrind  synack  %-10s %-18s %12.1f  (%llu vs %llu)\n", w[i].kind,
			       w[i].metric, v, (unsigned long long)w[i].a,
			       (unsigned long long)w[i].b);
		}
	}
	return rc;
}

/* ------------------------------------------------------------------ */

/* One of the --wan-* flags with its value: 0, or -1 after a sentence. */
static int wan_flag(struct bench_opts *o, const char *flag, const char *val)
{
	if (!strcmp(flag, "--wan-linux-cc") && val[0] && strlen(val) < 16) {
		o->wan_linux_cc = val;
		return 0;
	}
	if (!strcmp(flag, "--wan-set")) {
		/* Checked now on a scratch configuration, applied in b_wan.c. */
		char err[1024];
		struct synack_config scratch;
		synack_config_default(&scratch);
		scratch.addr = 0x0acb0001u; /* the sender's, 10.203.0.1 (b_wan.c) */
		if (settings_parse(flag, val, &scratch, err, sizeof(err)) < 0 ||
		    synack_config_check(&scratch, err, sizeof(err)) != 0) {
			fprintf(stderr, "synack-bench: %s\n", err);
			return -1;
		}
		if (o->wan_nset == (int)(sizeof(o->wan_set) / sizeof(o->wan_set[0]))) {
			fprintf(stderr, "synack-bench: --wan-set: at most %d settings\n",
			        o->wan_nset);
			return -1;
		}
		o->wan_set[o->wan_nset++] = val;
		return 0;
	}
	if (!strcmp(flag, "--wan-buffers") && (!strcmp(val, "bdp") || !strcmp(val, "default"))) {
		o->wan_buffers_bdp = !strcmp(val, "bdp");
		return 0;
	}
	char *end;
	double v = strtod(val, &end);
	int bad = *end || end == val || !(v >= 0);
	if (!strcmp(flag, "--wan-rate") && !bad && v >= 0.001 && v <= 100000)
		o->wan_rate_mbps = v;
	else if (!strcmp(flag, "--wan-rtt") && !bad && v <= 60000 && v == (uint32_t)v)
		o->wan_rtt_ms = (uint32_t)v;
	else if (!strcmp(flag, "--wan-loss") && !bad && v <= 1)
		o->wan_loss = v;
	else if (!strcmp(flag, "--wan-dup") && !bad && v <= 1)
		o->wan_dup = v;
	else if (!strcmp(flag, "--wan-reorder") && !bad && v <= 1)
		o->wan_reorder = v;
	else if (!strcmp(flag, "--wan-queue") && !bad && v <= 1000000 && v == (uint32_t)v)
		o->wan_queue = (uint32_t)v;
	else if (!strcmp(flag, "--wan-duration") && !bad && v > 0 && v <= 3600)
		o->wan_duration_s = v;
	else if (!strcmp(flag, "--wan-skip") && !bad && v <= 3600)
		o->wan_skip_s = v;
	else {
		fprintf(stderr,
		        "synack-bench: %s '%s': not a known --wan flag or out of its range "
		        "(synack-bench --help)\n",
		        flag, val);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	memset(&o, 0, sizeof(o));
	o.wan_rate_mbps = 100;
	o.wan_rtt_ms = 20;
	o.wan_linux_cc = "cubic";
	const char *only = "synack,linux,lwip,gvisor", *benches = "lifecycle,bulk,memory,scale";
	int reps = 0, callgrind = 0;
	const char *inflight = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			o.quick = 1;
		else if (!strcmp(argv[i], "--smoke"))
			o.smoke = 1;
		else if (!strcmp(argv[i], "--json"))
			o.json = 1;
		else if (!strcmp(argv[i], "--callgrind"))
			callgrind = 1;
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--inflight") && i + 1 < argc)
			inflight = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--bench") && i + 1 < argc)
			benches = argv[++i];
		else if (!strcmp(argv[i], "--wan-matrix"))
			o.wan_matrix = 1;
		else if (!strcmp(argv[i], "--wan-trace"))
			o.wan_trace = 1;
		else if (i + 1 < argc && !strncmp(argv[i], "--wan-", 6)) {
			if (wan_flag(&o, argv[i], argv[i + 1]) != 0)
				return 2;
			i++;
		} else if (!strcmp(argv[i], "--callgrind-child") && i + 2 < argc) {
			/* An optional third argument: connections in flight
			 * (lifecycle; default 1), for profiling by hand. */
			int kind = strcmp(argv[i + 1], "lifecycle") ? 1 : 0;
			uint32_t nin = 1;
			if (i + 3 < argc && argv[i + 3][0] != '-')
				nin = (uint32_t)strtoul(argv[i + 3], NULL, 10);
			if (nin == 0 || nin > 1000000)
				return 2;
			return bench_synack_fixed(kind, strtoull(argv[i + 2], NULL, 10), nin) ? 1
			                                                                      : 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (reps < 0 || reps > 9) {
		fprintf(stderr, "synack-bench: --reps must be 1..9\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_meta_start(&meta, argc, argv);
	if (callgrind) {
		/* Under valgrind /proc/self/exe would name valgrind: resolve it now. */
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return 1;
		self[n] = 0;
		int rc = callgrind_mode(self, o.json);
		bench_meta_end(&meta);
		if (o.json)
			print_meta(1);
		return rc;
	}

	o.run_synack = list_has(only, "synack");
	o.run_linux = list_has(only, "linux");
	o.run_lwip = list_has(only, "lwip");
	o.run_gvisor = list_has(only, "gvisor");
	o.do_lifecycle = list_has(benches, "lifecycle");
	o.do_bulk = list_has(benches, "bulk");
	o.do_memory = list_has(benches, "memory");
	o.do_scale = list_has(benches, "scale");
	o.do_wan = list_has(benches, "wan");
	o.do_tap = list_has(benches, "tap");
	o.do_threads = list_has(benches, "threads");
	if (o.smoke) {
		static const uint32_t c[] = {1, 128};
		memcpy(o.inflight, c, sizeof(c));
		o.ninflight = 2;
		o.reps = 1;
		o.budget_s = 0.05;
		o.bulk_bytes_synack = o.bulk_bytes_lwip = 16u << 20;
		o.bulk_bytes_linux = 32u << 20;
		o.mem_conns = 1000;
		o.scale_small = 1000;
		o.scale_big = 4000;
		o.scale_linux_big = 2000;
		o.scale_msgs = 4000;
	} else if (o.quick) {
		static const uint32_t c[] = {1, 128, 10000};
		memcpy(o.inflight, c, sizeof(c));
		o.ninflight = 3;
		o.reps = 1;
		o.budget_s = 0.3;
		o.bulk_bytes_synack = o.bulk_bytes_lwip = 256u << 20;
		o.bulk_bytes_linux = 512u << 20;
		o.mem_conns = 10000;
		o.scale_small = 1000;
		o.scale_big = 100000;
		o.scale_linux_big = 10000;
		o.scale_msgs = 50000;
	} else {
		static const uint32_t c[] = {1, 128, 10000, 100000};
		memcpy(o.inflight, c, sizeof(c));
		o.ninflight = 4;
		o.reps = 3;
		o.budget_s = 1.0;
		o.bulk_bytes_synack = o.bulk_bytes_lwip = 1u << 30;
		o.bulk_bytes_linux = 2u << 30;
		o.mem_conns = 100000;
		o.scale_small = 1000;
		o.scale_big = 1000000;
		o.scale_linux_big = 100000;
		o.scale_msgs = 200000;
	}
	o.tap_bytes = o.smoke ? 32u << 20 : o.quick ? 256u << 20 : 1u << 30;
	if (reps)
		o.reps = reps;
	if (!o.wan_duration_s) {
		o.wan_duration_s = o.smoke ? 3 : 15;
		if (!o.wan_skip_s)
			o.wan_skip_s = o.smoke ? 1 : 10;
	}
	if (o.wan_skip_s >= o.wan_duration_s) {
		fprintf(stderr, "synack-bench: --wan-skip must be below --wan-duration\n");
		return 2;
	}
	if (inflight) {
		o.ninflight = 0;
		for (const char *p = inflight; *p;) {
			char *end;
			unsigned long v = strtoul(p, &end, 10);
			if (end == p || v == 0 || v > 1000000 || o.ninflight == 8 ||
			    (*end && *end != ',')) {
				fprintf(stderr, "synack-bench: --inflight wants up to 8 counts "
				                "in 1..1000000, comma-separated\n");
				return 2;
			}
			o.inflight[o.ninflight++] = (uint32_t)v;
			p = *end ? end + 1 : end;
		}
	}

	res_init();
	if (o.run_synack)
		bench_synack(&o);
	if (o.run_linux)
		bench_linux(&o);
	if (o.run_lwip)
		bench_lwip(&o);
	if (o.run_gvisor)
		bench_gvisor(&o);
	if (o.do_wan)
		bench_wan(&o);
	if (o.do_tap)
		bench_tap(&o);
	if (o.do_threads)
		bench_threads(&o);
	bench_meta_end(&meta);
	if (o.json)
		print_json();
	else
		print_table();
	return 0;
}
