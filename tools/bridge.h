/*
 * `synack bridge`: a user-space impairment forwarder between two TAP
 * devices.  Every Ethernet frame read from one device is written to the
 * other; the IP datagrams cross the project's impairment model
 * (src/link/impair.c: a rate with a drop-tail queue, delay, jitter, loss,
 * reordering, duplication, corruption), independently in each direction,
 * seeded, on the real monotonic clock.  This kernel has no netem: the
 * bridge builds the path the interop tests and the bench's `wan` workload
 * run across.
 */
#ifndef SYNACK_TOOLS_BRIDGE_H
#define SYNACK_TOOLS_BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BRIDGE_MAX_DELAY_MS 60000
#define BRIDGE_DEFAULT_QUEUE 1000 /* packets, as Linux's txqueuelen */
#define BRIDGE_DEFAULT_LIMIT_PKTS 32768
#define BRIDGE_DEFAULT_LIMIT_BYTES (64ull << 20)
#define BRIDGE_MAX_LIMIT_BYTES (16ull << 30)
#define BRIDGE_DEFAULT_MTU 1500
#define BRIDGE_MIN_MTU 68
#define BRIDGE_MAX_MTU 65521 /* a frame of MTU + 14 fits 64 KiB */

/* One direction of the path, as the impairment flags set it. */
struct bridge_dir_opts {
	double loss, dup, reorder, corrupt;
	int64_t delay_ms, jitter_ms;
	double bw_mbps;     /* 0: no bottleneck */
	int64_t queue_pkts; /* -1: not given (BRIDGE_DEFAULT_QUEUE with a rate) */
	int have_bw;
};

struct bridge_opts {
	const char *dev[2]; /* --dev-a, --dev-b */
	int create;
	struct bridge_dir_opts dir[2]; /* [0]: a to b, [1]: b to a */
	uint64_t seed;
	uint64_t limit_pkts, limit_bytes; /* frames held per direction */
	uint64_t mtu;
	uint64_t stats_interval_ms; /* 0: only at the end */
	int json;
	int help;
	unsigned scope; /* while parsing: the directions --dir names (bit d: dir[d]) */
};

/* The flags of `synack bridge` (tools/cli_parse.h). */
struct cli_table;
extern const struct cli_table bridge_cli;

void bridge_opts_default(struct bridge_opts *o);
/* 0, or -1 with a sentence in err (bad flag or value, missing device). */
int bridge_parse_args(int argc, char **argv, struct bridge_opts *o, char *err, size_t errlen);
void bridge_usage(FILE *out);
/* Opens the devices and runs until SIGINT or SIGTERM, then prints the
 * counters; returns the exit status (0, or 2 with a sentence on stderr). */
int bridge_main(const struct bridge_opts *o);

/*
 * The forwarder itself, driven by its caller's clock (microseconds): what
 * bridge_main() runs on two TAP devices, and the unit tests on datagram
 * sockets.  fd_a and fd_b carry one frame per read and write and are
 * non-blocking; they stay the caller's.  o must outlive the bridge.
 */
struct bridge;

/* The counters of one direction (bridge_counters), as the lines name them. */
enum bridge_counter {
	BRIDGE_FRAMES_IN,
	BRIDGE_BYTES_IN,
	BRIDGE_FRAMES_OUT, /* a duplicate counts twice */
	BRIDGE_BYTES_OUT,
	BRIDGE_LOST, /* the random loss; a full queue is counted apart */
	BRIDGE_QUEUE_DROPS,
	BRIDGE_DUPLICATED,
	BRIDGE_REORDERED,
	BRIDGE_CORRUPTED,
	BRIDGE_LIMIT_DROPS, /* beyond limit_pkts or limit_bytes */
	BRIDGE_TOO_BIG,
	BRIDGE_WRITE_ERRORS, /* the other device refused the frame */
	BRIDGE_PASSED,       /* neither IPv4 nor IPv6: forwarded at once */
	BRIDGE_HELD,         /* queued or delayed now */
	BRIDGE_HELD_MAX,
	BRIDGE_NCOUNTERS
};

/* NULL when out of memory. */
struct bridge *bridge_new(const struct bridge_opts *o, int fd_a, int fd_b);
void bridge_free(struct bridge *b);
/* Reads up to a batch of frames from side d (0: a, 1: b) arriving at now.
 * Returns 1 when it has nothing more (EAGAIN), 0 when it may have, or a
 * negative errno when reading failed. */
int bridge_input(struct bridge *b, int d, uint64_t now);
/* Writes every frame due by now to its side. */
void bridge_release(struct bridge *b, uint64_t now);
/* When the next frame is due, or UINT64_MAX. */
uint64_t bridge_next_due(const struct bridge *b);
/* Direction d: 0 from a to b, 1 from b to a. */
void bridge_counters(const struct bridge *b, int d, uint64_t v[BRIDGE_NCOUNTERS]);

#endif
