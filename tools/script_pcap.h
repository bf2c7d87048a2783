/*
 * `synack script --from-pcap FILE --side client|server` (docs/SCRIPTS.md,
 * "Replaying a capture"): one TCP conversation of a capture becomes a
 * scenario script in which synack plays one side and the recorded other
 * side is injected, segment by segment, at its recorded times; the script
 * runs, and the segments synack sent are put side by side with the ones
 * the recorded side sent.
 */
#ifndef SYNACK_TOOLS_SCRIPT_PCAP_H
#define SYNACK_TOOLS_SCRIPT_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pcap_read.h"

struct frompcap_opts {
	const char *pcap, *emit;
	int side;      /* DEMO_CLIENT or DEMO_SERVER: the side synack plays */
	uint64_t conn; /* --conn N (from 1), 0: not given */
	int port;      /* --port P, -1: not given */
	uint64_t seed;
	int has_seed;
	int json, help;
};

/*
 * The script replaying the chosen conversation of t with synack as
 * o->side (o->pcap names the capture in its comments).  Returns 0 with a
 * malloc'ed NUL-terminated text in *text, or -1 with a sentence in err
 * (no such conversation, no handshake to replay).
 */
int frompcap_script(const struct pcap_trace *t, const struct frompcap_opts *o, char **text,
                    char *err, size_t errlen);

/* `synack script --from-pcap ...` from its arguments (those after
 * "script"); returns the exit status (0 agree, 1 differ, 2 bad input). */
int frompcap_main(int argc, char **argv);
/* 1 when the arguments ask for --from-pcap. */
int frompcap_wanted(int argc, char **argv);
/* Its usage text, and its flags (tools/cli_parse.h). */
void frompcap_usage(FILE *out);
struct cli_table;
extern const struct cli_table frompcap_cli;

#endif
