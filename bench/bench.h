/*
 * synack-bench: the same work on synack, the Linux kernel and lwIP, side by
 * side in one process and one invocation.
 *
 * Each implementation lives in its own file (b_synack.c, b_linux.c,
 * b_lwip.c) and reports figures through res_add(); main.c prints them as a
 * table or as JSON lines, adds the synack/peer ratios and checks the targets.
 * The result store is a shared mapping so that forked children (the Linux
 * runs work inside network namespaces they create) can add figures too.
 */
#ifndef SYNACK_BENCH_H
#define SYNACK_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* What to run and how big. */
struct bench_opts {
	int quick; /* every workload, small enough for well under 60 s */
	int smoke; /* a second or two: each implementation's smallest case */
	int json;
	int reps;        /* repetitions of each timed figure; the median is kept */
	double budget_s; /* wall time of one timed lifecycle run */
	int run_synack, run_linux, run_lwip;
	int do_lifecycle, do_bulk, do_memory, do_scale;
	/* Sizes. */
	uint32_t inflight[8];
	int ninflight;
	uint64_t bulk_bytes_synack, bulk_bytes_linux, bulk_bytes_lwip;
	uint32_t mem_conns;       /* connections in the memory workload */
	uint32_t scale_big;       /* the scale workload's large count (1,000,000) */
	uint32_t scale_small;     /* and its small count (1,000) */
	uint32_t scale_linux_big; /* the kernel's large count (it needs 2 fds each) */
	uint64_t scale_msgs;      /* messages echoed to measure the cost per segment */
	/* The wan workload (b_wan.c): one path, or with wan_matrix the grid
	 * of issue 13 (100 Mbit/s and 1 Gbit/s, 20/100/200 ms, 0/0.1/1 %). */
	int do_wan;
	int wan_matrix;
	double wan_rate_mbps;  /* bottleneck rate each way */
	uint32_t wan_rtt_ms;   /* round-trip propagation delay */
	double wan_loss;       /* random loss each way (0..1) */
	double wan_dup;        /* duplication each way (0..1) */
	double wan_reorder;    /* reordering each way (0..1) */
	uint32_t wan_queue;    /* bottleneck queue, packets; 0: one BDP */
	double wan_duration_s; /* measured window ends here (from the accept) */
	double wan_skip_s;     /* and starts here: slow start is left out */
	/* The Linux sender's TCP_CONGESTION (lossperf; default cubic). */
	const char *wan_linux_cc;
	/* --wan-buffers bdp (issue 13, the 1 Gbit/s rows): every sender's
	 * and receiver's buffer bound 2 x BDP (the kernel's tcp_rmem[2] and
	 * tcp_wmem[2] in the bench's namespaces, synack's rmem_max and
	 * wmem_max) instead of the defaults. */
	int wan_buffers_bdp;
	/* --wan-set NAME=VALUE, repeatable: settings of synack's stacks in
	 * the wan workload (TAP and simulator), parsed and checked as `synack
	 * serve --set` does (tools/settings.c), applied after --wan-buffers.
	 * --wan-trace: synack's TAP sender prints its tcp_info once a second. */
	const char *wan_set[32];
	int wan_nset;
	int wan_trace;
	/* The tap workload (b_tap.c): bytes each way. */
	int do_tap;
	uint64_t tap_bytes;
	/* gVisor's netstack as a peer (b_gvisor.c, bench/gvisor). */
	int run_gvisor;
	/* The threads workload (b_threads.c, issue 16 item 3; root). */
	int do_threads;
};

/* ------------------------------------------------------------------ */
/* Results.                                                            */

#define BENCH_MAX_RESULTS 512

struct bench_result {
	char bench[16];
	char impl[8];
	char variant[32];
	char metric[32];
	double value;
	int has_value; /* 0: skipped, why says why */
	char why[480]; /* reason for a skip, or a note on how the figure was taken */
};

/* Allocates the shared store; call once before any fork. */
void res_init(void);
void res_add(const char *bench, const char *impl, const char *variant, const char *metric,
             double value);
/* Like res_add, with a note printed under the table (and in JSON as "note"). */
void res_add_note(const char *bench, const char *impl, const char *variant, const char *metric,
                  double value, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void res_skip(const char *bench, const char *impl, const char *variant, const char *metric,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
size_t res_count(void);
struct bench_result *res_get(size_t i);
/* Forgets every result after the first n (figures a child passed back). */
void res_truncate(size_t n);
/* A free-form remark about a run (printed after the table, JSON "remark"). */
void res_remark(const char *impl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Progress on stderr (never in the JSON on stdout). */
void bench_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command built like printf; system()'s status. */
int bench_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Moves the calling process into the network namespace `ip netns` named
 * name: 0 or a negative errno. */
int bench_join_netns(const char *name);
/* synack on a TAP device in a child process (the tap and wan workloads):
 * joins namespace ns, opens device dev with the stack's address addr and
 * its offloads on or off, and a stack and run loop over it.  On failure it
 * says why under what and ends the child (_exit(1)). */
struct synack_config;
struct bench_tap_stack {
	struct synack_link *link;
	struct synack_stack *st;
	struct synack_run *r;
};
void bench_tap_stack_open(struct bench_tap_stack *t, const char *what, const char *ns,
                          const char *dev, uint32_t addr, int offload);
/* The same with a stack configuration to start from (addr, mtu and the
 * secret are filled in), for workloads that change settings. */
void bench_tap_stack_open_cfg(struct bench_tap_stack *t, const char *what, const char *ns,
                              const char *dev, uint32_t addr, int offload,
                              const struct synack_config *base);
void bench_tap_stack_close(struct bench_tap_stack *t);

/* ------------------------------------------------------------------ */
/* Clocks and memory.                                                  */

uint64_t bench_wall_ns(void);
/* CPU time of the calling process (user + system), ns. */
uint64_t bench_cpu_ns(void);
/* CPU time of the calling thread, ns. */
uint64_t bench_thread_cpu_ns(void);
/* Resident set size of the process, bytes. */
uint64_t bench_rss(void);
/* Bytes the C library's allocator has handed out and not got back. */
uint64_t bench_heap(void);
/* Returns unused heap to the system so RSS deltas mean something. */
void bench_trim(void);
/* Logs the C library heap's shape (mallinfo2: in use, free and in how many
 * chunks, mmapped) beside the RSS, to stderr: where RSS exceeds heap. */
void bench_heap_shape(const char *where);
double bench_median(double *v, int n);

/* ------------------------------------------------------------------ */
/* The implementations.                                                */

void bench_synack(const struct bench_opts *o);
void bench_linux(const struct bench_opts *o);
void bench_lwip(const struct bench_opts *o);
void bench_wan(const struct bench_opts *o);
/* The tap workload (b_tap.c, issue 16 item 2; root). */
void bench_tap(const struct bench_opts *o);
/* The threads workload (b_threads.c, issue 16 item 3; root): one stack per
 * queue of a multi-queue TAP device, 1 and 2 threads. */
void bench_threads(const struct bench_opts *o);
/* Linux over a veth pair between two namespaces, offloads off then on:
 * total bytes each, figures reported under bench (b_linux.c). */
void bench_bulk_linux(const struct bench_opts *o, const char *bench, uint64_t total);
/* gVisor: runs the Go program bench/gvisor, one process per workload. */
void bench_gvisor(const struct bench_opts *o);

/* The run's header (meta.c, issue 16 item 5): printed first, as the JSON
 * line {"meta":"run",...} or the table's first lines. */
struct bench_meta {
	char date[32];     /* start, UTC, ISO 8601 */
	char commit[48];   /* short hash, "-dirty" with uncommitted changes */
	char build[32];    /* CMAKE_BUILD_TYPE */
	char compiler[96]; /* __VERSION__ */
	char cpu[96];      /* /proc/cpuinfo "model name" */
	char kernel[160];  /* uname: sysname release */
	char os[96];       /* /etc/os-release PRETTY_NAME */
	char args[256];    /* the command line after the program name */
	int cores;         /* online CPUs */
	double ram_bytes;
	double load_start[3], load_end[3]; /* /proc/loadavg: 1, 5, 15 minutes */
	uint64_t wall0_ns;
	double wall_s; /* the whole run */
};
void bench_meta_start(struct bench_meta *m, int argc, char **argv);
void bench_meta_end(struct bench_meta *m);

/*
 * A fixed, clock-free synack workload for callgrind: n lifecycles at one
 * connection in flight (kind 0) or n bytes of bulk transfer (kind 1).
 * Returns 0 on success.
 */
int bench_synack_fixed(int kind, uint64_t n, uint32_t inflight);

/* synack's own allocator accounting, where this build has it. */
struct bench_mem {
	uint64_t total, tcbs, time_wait, syn_pending, buffers, other, sockets, packets;
};
/* Returns 0 and fills *out, or -1 when the library has no synack_memory(). */
struct synack_stack;
int bench_synack_memory(const struct synack_stack *st, struct bench_mem *out);

#endif
