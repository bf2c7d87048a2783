/*
 * The impairment flags of the commands that impair a path (synack transfer,
 * serve, connect and bridge): --loss, --dup, --reorder, --corrupt,
 * --delay-ms, --jitter-ms, --bw-mbps, --queue and --seed, parsed in one
 * place so their names, ranges and error sentences are the same
 * everywhere.  A command says which of them it takes by where it wants the
 * values stored: a NULL member is a flag it does not take.
 */
#ifndef SYNACK_TOOLS_IMPAIR_FLAGS_H
#define SYNACK_TOOLS_IMPAIR_FLAGS_H

#include <stddef.h>
#include <stdint.h>

#define IMPAIR_FLAGS_MIN_BW_MBPS 0.001
#define IMPAIR_FLAGS_MAX_BW_MBPS 100000.0
#define IMPAIR_FLAGS_MAX_QUEUE 1000000

struct impair_flags {
	double *loss, *dup, *reorder, *corrupt; /* probabilities */
	int64_t *delay_ms, *jitter_ms;          /* at most max_ms */
	int64_t max_ms;
	double *bw_mbps;     /* a bottleneck rate; sets *have_bw */
	int *have_bw;        /* may be NULL */
	int64_t *queue_pkts; /* packets, IMPAIR_FLAGS_MAX_QUEUE at most */
	uint64_t *seed;
};

/*
 * If argv[*i] is one of the flags f takes ("--flag value" or
 * "--flag=value"), stores its value and returns 1 (*i moves past a separate
 * value); returns 0 when it is not one of them, and -1 with a sentence in
 * err when the value is missing or bad.
 */
int impair_flags_parse(int argc, char **argv, int *i, const struct impair_flags *f, char *err,
                       size_t errlen);

#endif
