/*
 * `synack transfer`: a bulk transfer from a client (10.0.0.1) to a server
 * (10.0.0.2:80), two synack stacks in one process over the simulated
 * network, on a virtual clock.  The payload is pseudo-random from the seed;
 * the client closes once it has sent everything, the server reads to end of
 * stream and closes, and the run goes on until both connections are CLOSED
 * (TIME_WAIT included).  It reports what TCP did: duration, goodput,
 * retransmissions, the congestion window, and whether every byte arrived.
 */
#ifndef SYNACK_TOOLS_TRANSFER_H
#define SYNACK_TOOLS_TRANSFER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "impair_flags.h"
#include "synack/sim.h"
#include "synack/synack.h"

#define TRANSFER_DEFAULT_BYTES 1048576u
#define TRANSFER_DEFAULT_DELAY_MS 10
#define TRANSFER_DEFAULT_QUEUE 100      /* packets, when --bw-mbps is given */
#define TRANSFER_MAX_BYTES (1ull << 32) /* 4 GiB */
#define TRANSFER_MAX_DELAY_MS 60000
#define TRANSFER_MIN_BW_MBPS IMPAIR_FLAGS_MIN_BW_MBPS
#define TRANSFER_MAX_BW_MBPS IMPAIR_FLAGS_MAX_BW_MBPS
#define TRANSFER_MAX_QUEUE IMPAIR_FLAGS_MAX_QUEUE
/* Runaway guards: a day of virtual time, and a number of simulation steps
 * that grows with the size of the transfer (see transfer_step_cap). */
#define TRANSFER_CAP_US (24ull * 3600 * 1000000)
/* Trace records and calls a picture keeps (about 250 bytes each); a longer
 * run is drawn up to there and says so. */
#define TRANSFER_PICTURE_MAX_EVENTS 200000

/* What the user asked for. */
#define TRANSFER_MAX_SETS 16

struct transfer_opts {
	uint64_t bytes;            /* payload size (default 1 MiB) */
	uint64_t seed;             /* network, secrets and payload (default 1) */
	double loss, dup, reorder; /* per direction, both ways */
	int64_t delay_ms;          /* one-way delay (default 10) */
	double bw_mbps;            /* bottleneck rate each way; 0: none (default) */
	int64_t queue_pkts;        /* bottleneck queue; -1: not given */
	int64_t ecn_mark_pkts;     /* ECN: mark CE at this many waiting, client ecn = 1; -1: off */
	int json;                  /* trace as JSON lines, then a summary line */
	int help;
	/* --set NAME=VALUE, both hosts (e.g. congestion_control=reno). */
	const char *set[TRANSFER_MAX_SETS];
	int nset;
	/* Pictures and the capture (svg.h, html.h, capture.h); NULL: none. */
	const char *svg, *html, *pcap;
	int have_bw; /* --bw-mbps was given */
};

/* The flags of `synack transfer` (tools/cli_parse.h). */
struct cli_table;
extern const struct cli_table transfer_cli;

void transfer_opts_default(struct transfer_opts *o);
/*
 * Parses the arguments after "transfer".  Returns 0, or -1 and a sentence in
 * err for an unknown flag, a missing value or a value out of range.
 */
int transfer_parse_args(int argc, char **argv, struct transfer_opts *o, char *err, size_t errlen);
void transfer_usage(FILE *out);
/* Most simulation steps a transfer of this many bytes may take. */
uint64_t transfer_step_cap(uint64_t bytes);

struct transfer_result {
	int ok;          /* every byte arrived intact and both ends reached CLOSED */
	char error[200]; /* why not, when !ok */
	struct synack_endpoint client, server;
	uint64_t bytes;                    /* asked for */
	uint64_t bytes_sent;               /* accepted by send() */
	uint64_t bytes_received;           /* returned by recv() at the server */
	uint64_t hash_sent, hash_received; /* FNV-1a 64 of each stream */
	uint64_t first_bad;                /* offset of the first wrong byte; UINT64_MAX: none */
	uint64_t t_connect_us;             /* connect() */
	uint64_t t_eof_us;                 /* the server read end of stream, if eof */
	int eof;                           /* it did */
	uint64_t t_end_us;                 /* the run ended (everything closed, or failure) */
	double virtual_ms;                 /* connect() to the server's end of stream */
	double goodput_mbps;       /* bytes received * 8 / virtual_ms; NAN when no time passed */
	uint64_t retransmits;      /* client RetransSegs */
	uint64_t rto_expiries;     /* client Timeouts */
	uint64_t fast_retransmits; /* client FastRetrans */
	uint64_t win_probes;       /* client WinProbes */
	/* Client payload bytes sent again, and of those the ones the server
	 * was handed twice (tools/rtx_meter.h). */
	uint64_t retrans_bytes, spurious_bytes;
	uint32_t cwnd, ssthresh, mss; /* client, at close() */
	uint32_t cwnd_max;            /* largest cwnd seen while the client held the socket */
	int ecn_ok;                   /* the client's connection negotiated ECN (RFC 3168) */
	int info_seen;                /* cwnd and friends are known */
	/* The client's delivery rate (synack_tcp_info's, bytes per second)
	 * when it last looked: at the end of sending (issue 13). */
	uint64_t delivery_rate;
	/* Each end's last transition: from, to and its cause (-1: none). */
	int from[2], state[2], cause[2];
	/* It was the orderly end: the client from TIME_WAIT when it expired,
	 * the server from LAST_ACK on the ACK of its FIN. */
	int orderly[2];
	char path[2][256]; /* each end's states, "CLOSED>SYN_SENT>..." */
	struct synack_stats stats[2];
	struct synack_sim_counters net[2]; /* client->server, server->client */
	uint64_t steps;
	int capped;
};

/*
 * Runs the transfer, writing the human report (or, with o->json, the trace
 * and the summary line) to out, which may be NULL.  Returns 0 when it ran
 * (res->ok says whether it succeeded), or a negative errno with res->error
 * set when it could not run at all.
 */
int transfer_run(const struct transfer_opts *o, FILE *out, struct transfer_result *res);

#endif
