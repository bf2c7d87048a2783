#include "impair_flags.h"

#include <stdio.h>

#include "cli.h"

int impair_flags_parse(int argc, char **argv, int *i, const struct impair_flags *f, char *err,
                       size_t errlen)
{
	enum { LOSS, DUP, REORDER, CORRUPT, DELAY, JITTER, BW, QUEUE, SEED, NFLAGS };
	static const char *const NAMES[NFLAGS] = {"--loss",    "--dup",      "--reorder",
	                                          "--corrupt", "--delay-ms", "--jitter-ms",
	                                          "--bw-mbps", "--queue",    "--seed"};
	/* Only the flags this command takes are looked for: another one is
	 * left to the command (which calls it unknown). */
	const void *const WHERE[NFLAGS] = {f->loss,    f->dup,        f->reorder,
	                                   f->corrupt, f->delay_ms,   f->jitter_ms,
	                                   f->bw_mbps, f->queue_pkts, f->seed};
	const char *names[NFLAGS];
	int index[NFLAGS];
	size_t n = 0;
	for (int k = 0; k < NFLAGS; k++) {
		if (WHERE[k]) {
			names[n] = NAMES[k];
			index[n++] = k;
		}
	}
	const char *val;
	int which = cli_flag_value(argc, argv, i, names, n, &val, err, errlen);
	if (which == -1)
		return 0;
	if (which == -2)
		return -1;
	int k = index[which];
	const char *flag = NAMES[k];
	int bad = 0;
	uint64_t u;
	switch (k) {
	case LOSS:
		bad = cli_flag_prob(flag, val, f->loss, err, errlen);
		break;
	case DUP:
		bad = cli_flag_prob(flag, val, f->dup, err, errlen);
		break;
	case REORDER:
		bad = cli_flag_prob(flag, val, f->reorder, err, errlen);
		break;
	case CORRUPT:
		bad = cli_flag_prob(flag, val, f->corrupt, err, errlen);
		break;
	case DELAY:
		bad = cli_flag_ms(flag, val, (uint64_t)f->max_ms, f->delay_ms, err, errlen);
		break;
	case JITTER:
		bad = cli_flag_ms(flag, val, (uint64_t)f->max_ms, f->jitter_ms, err, errlen);
		break;
	case BW:
		if (cli_parse_double(val, IMPAIR_FLAGS_MIN_BW_MBPS, IMPAIR_FLAGS_MAX_BW_MBPS,
		                     f->bw_mbps) != 0) {
			snprintf(err, errlen,
			         "%s: '%s' is not a rate in Mbit/s in [%g, %g] (leave the flag "
			         "out for no bottleneck)",
			         flag, val, IMPAIR_FLAGS_MIN_BW_MBPS, IMPAIR_FLAGS_MAX_BW_MBPS);
			bad = -1;
		}
		if (f->have_bw)
			*f->have_bw = 1;
		break;
	case QUEUE:
		if (cli_parse_u64(val, IMPAIR_FLAGS_MAX_QUEUE, &u) != 0) {
			snprintf(err, errlen,
			         "%s: '%s' is not a whole number of packets in [0, %u]", flag, val,
			         IMPAIR_FLAGS_MAX_QUEUE);
			bad = -1;
		} else {
			*f->queue_pkts = (int64_t)u;
		}
		break;
	default:
		bad = cli_flag_u64(flag, val, UINT64_MAX, f->seed, err, errlen);
		break;
	}
	return bad ? -1 : 1;
}
