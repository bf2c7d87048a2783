/*
 * `synack script FILE`: scenario files (docs/SCRIPTS.md is the language).
 * script_parse.c reads a file into a list of statements, strictly: the
 * first mistake ends it with "FILE:LINE:COL: expected X, got Y".
 * script_run.c runs the statements on the demo engine (demo_engine.h) and
 * renders the run as `synack demo` does.
 */
#ifndef SYNACK_TOOLS_SCRIPT_H
#define SYNACK_TOOLS_SCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "demo.h"
#include "synack/sim.h"
#include "synack/synack.h"

#define SCRIPT_BOTH 2            /* a host field: both hosts */
#define SCRIPT_MAX_BYTES 1048576 /* the most a send, recv or payload takes */

enum script_kind {
	/* The network. */
	SCR_PATH = 1,  /* path: dir (-1 both, or the sending host), path, mask */
	SCR_LINK,      /* link up/down: value 1 = down */
	SCR_HOST_DOWN, /* HOST down/up: value 1 = down */
	SCR_REBOOT,    /* HOST reboots */
	SCR_DROP,      /* drop next [count] SEL from HOST; count -1: all */
	SCR_DROP_NONE, /* drop none */
	SCR_DELAY,     /* delay next [count] SEL from HOST by time_us */
	SCR_KEEP,      /* keep next SEL from HOST: a copy for replay */
	SCR_REPLAY,    /* the kept copy arrives again, now; has_seq: renumbered to seq
	                  (value 1: to the receiver's RCV.NXT) */
	/* Applications. */
	SCR_LISTEN,      /* port, backlog (count), rcvbuf (value), fastopen (option) */
	SCR_CONNECT,     /* peer (host or addr), port, from_port, nowait */
	SCR_BIND,        /* port */
	SCR_WAIT_CONN,   /* wait connected */
	SCR_WAIT_STATE,  /* wait STATE: state */
	SCR_WAIT_QUEUED, /* wait queued N: count bytes unread in the receive queue */
	SCR_ACCEPT,
	SCR_SEND,     /* text/textlen, or count bytes */
	SCR_RECV,     /* count more bytes */
	SCR_RECV_EOF, /* recv eof */
	SCR_SHUTDOWN, /* value: SYNACK_SHUT_* */
	SCR_CLOSE,
	SCR_ABORT,
	SCR_SETSOCKOPT, /* option, value */
	SCR_NEVER,      /* never closes / stops reading: text is the note */
	SCR_NOTE,       /* note HOST "text" */
	SCR_INJECT,     /* flags, seq/ack (has_seq/has_ack), win, opts, payload */
	SCR_WAIT,       /* only a timing prefix */
	SCR_FINISH,
	SCR_STOP,
	/* Comparisons and sequences (issue 18: the demo scenarios as scripts). */
	SCR_SOCKET,         /* HOST socket: a fresh socket for the next connect */
	SCR_CLOSE_LISTENER, /* HOST close listener */
	SCR_TIMER,          /* timer NAME start|stop: option is the timer, value 1 stop */
	SCR_FLOOD,          /* flood count FLAGS to peer:port over time_us (+rel) */
	/* Expectations. */
	SCR_EXPECT_STATE,    /* state, has_at/at_us */
	SCR_EXPECT_STATES,   /* text: the path */
	SCR_EXPECT_RECEIVED, /* text, or count bytes */
	SCR_EXPECT_COUNTER,  /* text: name; cmp; value */
	SCR_EXPECT_SENT,     /* flags, seq/ack/len (has_*), times (-1: at least one) */
	SCR_EXPECT_ERROR,    /* value: the negative errno */
	SCR_EXPECT_TIMER,    /* option: the timer; cmp; a time, or has_seq: the same
	                        timer of the comparison run, or has_len: factor
	                        times timer count */
	/* Crowds and attacks at scale (issue 18: the attack demos as scripts;
	 * crowd.h runs them). */
	SCR_CLIENTS,       /* clients count from addr/value [start between time_us and
	                      at_us (has_at)], or start at time_us */
	SCR_ECHO,          /* echo count bytes every time_us (+rel) rounds value */
	SCR_SWEEP,         /* sweep FLAGS [payload text] [step value] [count count]
	                      over time_us (+rel); count 0: the whole space */
	SCR_FIGURE,        /* figure NAME (what) [= EXPR (text)] */
	SCR_EXPECT_FIGURE, /* text: the conditions; what: the sentence, or NULL */
	SCR_LAST = SCR_EXPECT_FIGURE
};

enum script_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };
/* a CMP b (enum script_cmp). */
int script_cmp_holds(int cmp, uint64_t a, uint64_t b);

/* Which segments a drop or delay rule takes. */
enum script_sel { SEL_SYN, SEL_SYNACK, SEL_FIN, SEL_RST, SEL_ACK, SEL_DATA, SEL_ANY };

/* Path keys a `path` line set (mask bits). */
enum {
	PATH_DELAY = 1,
	PATH_JITTER = 2,
	PATH_LOSS = 4,
	PATH_DUP = 8,
	PATH_REORDER = 16,
	PATH_CORRUPT = 32,
	PATH_RATE = 64,
	PATH_QUEUE = 128,
};

struct script_stmt {
	int line;
	int kind;   /* enum script_kind */
	int timing; /* 0 none, 1 `at T`, 2 `+T` */
	uint64_t time_at_us;
	int host; /* DEMO_CLIENT, DEMO_SERVER, SCRIPT_BOTH */
	/* Arguments; which are used depends on kind. */
	int peer;      /* SCR_CONNECT: host index, or -1 with addr */
	uint32_t addr; /* SCR_CONNECT to an address */
	uint16_t port, from_port;
	int nowait;
	int64_t count; /* bytes, segments, times (-1: all / at least one) */
	int64_t value;
	int sel;   /* enum script_sel */
	int state; /* enum synack_state */
	int option;
	int cmp;
	uint64_t time_us;
	int has_at;
	uint64_t at_us;
	int dir; /* SCR_PATH: -1 both, or the sending host */
	unsigned mask;
	struct synack_sim_path path;
	uint8_t flags;
	int has_seq, has_ack, has_len;
	int64_t seq, ack, len;
	uint32_t win;
	uint8_t has_mss, has_wscale, sackok, has_ts;
	uint16_t mss;
	uint8_t wscale;
	uint32_t ts_val, ts_ecr;
	char *text; /* strings: payload, note, path, counter name */
	size_t textlen;
	/* Times relative to the path (3*delay+20ms): multiples of the
	 * client->server one-way delay and of the round trip, added when the
	 * statement runs; at_* for the timing prefix, the others for time_us. */
	struct script_rel {
		double delay, rtt;
	} at_rel, rel;
	int in_compare; /* an expectation about the comparison run */
	double factor;  /* expect timer A CMP 1.5*B: the 1.5 (B: count, has_len) */
	char *what;     /* SCR_FIGURE: the name; SCR_EXPECT_FIGURE: the sentence */
};

#define SCRIPT_MAX_TIMERS 8
#define SCRIPT_MAX_FLOOD 100000 /* segments of one flood: a ladder's run is capped */
#define SCRIPT_MAX_COMPARE_SETS 16

struct script {
	char *file; /* as given, for messages */
	char name[32];
	char *description, *moral;
	uint64_t seed;
	int has_seed;
	int ss;
	struct synack_config cfg[2]; /* defaults plus every `set` */
	int set_line[2];             /* the last `set` of each host (0: none) */
	struct script_stmt *st;
	size_t n, cap;
	/* timer NAME: the names, in the order they first appear (the first
	 * two are demo's val[0] and val[1]). */
	char timer[SCRIPT_MAX_TIMERS][32];
	int ntimers;
	/* compare NAME set HOST KEY=VALUE ...: the whole timeline runs again
	 * on fresh stacks with these settings over the others (ccfg), unseen,
	 * for expectations to compare against. */
	char compare[32];
	int has_compare;
	struct synack_config ccfg[2];
	/* trace off: a crowd run (crowd.h), told in figures, not a ladder. */
	int trace_off;
};

/*
 * Reads the text of a script (len bytes; it need not end in NUL) called
 * file.  Returns the script, or NULL with "FILE:LINE:COL: expected X, got Y"
 * (or "FILE: out of memory") in err.
 */
struct script *script_parse(const char *file, const char *text, size_t len, char *err,
                            size_t errlen);
/*
 * A time word of the language, relative to the path or not: a sum of
 * times with units and multiples of `delay` (the client->server one-way
 * delay) and `rtt` (the round trip), e.g. 3*delay+20ms.  0, or -1 when w
 * is no such time.
 */
int script_time_word(const char *w, uint64_t *us, struct script_rel *rel);
/* Reads the file at path and parses it; NULL with a sentence in err. */
struct script *script_load(const char *path, char *err, size_t errlen);
void script_free(struct script *s);

/* The options of `synack script`. */
struct script_opts {
	const char *file;
	uint64_t seed;
	int has_seed;
	int json, help;
	const char *svg, *html, *pcap;
	int ipv6; /* --ipv6 (issue 14), as synack demo's */
};
int script_parse_args(int argc, char **argv, struct script_opts *o, char *err, size_t errlen);
void script_usage(FILE *out);
/* The flags of `synack script` (tools/cli_parse.h). */
extern const struct cli_table script_cli;

/*
 * Runs the script and renders it to out (may be NULL).  Returns 0 when it
 * ran (res->ok: every expectation held; each that did not, and an action
 * that could not complete, is written to errout as "FILE:LINE: ..."), or a
 * negative errno with res->error set.
 */
int script_run(const struct script *s, const struct script_opts *o, FILE *out, FILE *errout,
               struct demo_result *res);

/* The shipped script called name (examples/scenarios/NAME.synack, built in
 * by cmake/embed_scenarios.cmake) and its length, or NULL. */
const char *script_embedded(const char *name, size_t *len);
/*
 * `synack demo NAME` for a scenario of the table without a C script
 * (sc->run is NULL): runs the built-in file of the same name with demo's
 * options and the scenario's C checks, rendering exactly as demo_run does.
 */
struct demo_scenario;
int script_demo_run(const struct demo_opts *o, const struct demo_scenario *sc, FILE *out,
                    struct demo_result *res);

#endif
