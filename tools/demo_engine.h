/*
 * The scenario engine of `synack demo`: two synack stacks (the client at
 * 10.0.0.1 and the server at 10.0.0.2) on the simulated network, stepped on
 * its virtual clock.  It collects every trace record of both stacks, every
 * application call and every fate of a datagram (from the sim tap) into a
 * render log, and asks a script's filter about every datagram.
 *
 * A scenario script (a file, run by script_run.c) drives it through the
 * application calls and the waits below; the checks (demo_scenarios.c,
 * demo_checks.c) read what it collected, and demo_output renders it.
 */
#ifndef SYNACK_TOOLS_DEMO_ENGINE_H
#define SYNACK_TOOLS_DEMO_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "demo.h"
#include "render.h"
#include "synack/synack.h"

#define DEMO_CLIENT_ADDR 0x0a000001u /* 10.0.0.1 */
#define DEMO_SERVER_ADDR 0x0a000002u /* 10.0.0.2 */
#define DEMO_SERVER_PORT 80
/* With --ipv6 (issue 14) the hosts are 2001:db8::1 and 2001:db8::2: the last
 * byte of their IPv4 address after RFC 3849's documentation prefix. */
#define DEMO_DEFAULT_DELAY_MS 10
#define DEMO_RXBUF 16384

struct demo_scenario;
struct demo_tap_pkt;
struct capture;

/* One run: the stacks, the simulated network, the log and the script's state. */
struct demo {
	const struct demo_opts *o;
	const struct demo_scenario *sc;
	struct demo_result *res;
	struct synack_config cfg[2];
	struct synack_sim *sim;
	struct synack_stack *st[2];
	int hid[2]; /* sim host index of client and server */
	struct render_log log;
	struct demo_tap_pkt *pk;
	size_t npk, cappk;
	int oom;
	uint64_t steps;
	struct synack_endpoint ep[2]; /* the endpoints shown in the ladder header */

	/* Sockets of the script. */
	int sock[2]; /* the connection's socket on each host, -1 when closed */
	uint8_t rx[2][DEMO_RXBUF];
	size_t nrx[2];
	int eof[2];

	/* What the script's drop rules did. */
	uint32_t f_lost_seq;      /* the sequence number of the data segment they dropped first */
	int f_lost;               /* they did */
	int server_rcvbuf;        /* SO_RCVBUF of the server's listener; 0: the default */
	int server_fastopen_qlen; /* TCP_FASTOPEN on the server's listener (0: not set) */

	int show_ss;
	struct capture *cap; /* --pcap: every datagram goes to it too */
	/* What a script observed, for its checks. */
	int64_t val[2];
	uint64_t t_inject;

	/* synack script (script_run.c): its settings of each host's
	 * configuration, applied after the defaults and before the check;
	 * its filter, asked first about every datagram a host sends; the
	 * backlog of its listeners (0: 16). */
	void (*configure)(void *ctx, int h, struct synack_config *c);
	int (*filter)(void *ctx, int h, const uint8_t *pkt, size_t len, uint32_t *extra_delay_us);
	void *script;
	int backlog;
	/* A script's comparison run (compare NAME set ...), after the run:
	 * its result and its first two timers (val[] of the comparison). */
	const struct demo_result *cmp;
	int64_t cmp_val[2];
	/* A script's flood (flood N S to server:80 over T): pump queues its
	 * next forged segments before every step; with hide_foreign the
	 * trace records and datagrams of addresses that are neither host's
	 * (its spoofed sources) are counted in hidden instead of drawn. */
	void (*pump)(void *ctx);
	int hide_foreign;
	uint64_t hidden;
};

/*
 * Set-up and tear-down of a run: demo_setup makes both stacks and the network
 * from d->o (0, or a negative errno with d->res->error set); demo_teardown
 * frees what it made, also after a failed set-up.
 */
int demo_setup(struct demo *d);
/* A zeroed run made ready for demo_setup: options, scenario, result. */
/* The endpoint of a demo host's address (DEMO_CLIENT_ADDR, DEMO_SERVER_ADDR,
 * or 0) and a port, in the run's family: IPv4, or with --ipv6 the host's
 * IPv6 address. */
struct synack_endpoint demo_endpoint(const struct demo *d, uint32_t addr, uint16_t port);
void demo_init(struct demo *d, const struct demo_opts *o, const struct demo_scenario *sc,
               struct demo_result *res);
void demo_teardown(struct demo *d);
/* After the run: the ladder or the JSON lines to out (may be NULL), then
 * the pictures of --svg and --html; 0 or -EIO with d->res->error set. */
int demo_output(struct demo *d, FILE *out);
/* Attaches to each TX record of the log what became of its datagram; the log
 * must be sorted. */
void demo_match_fates(struct demo *d);

/* The virtual time of the run. */
uint64_t demo_now(const struct demo *d);
/* Moves every trace record of both stacks into the log. */
void demo_drain(struct demo *d);
/* One step of the simulation; SYNACK_NEVER when nothing is left or a cap hit. */
uint64_t demo_step(struct demo *d);
/* Runs the network for ms milliseconds (the applications do something else). */
void demo_sleep_ms(struct demo *d, uint32_t ms);
/* The same until the virtual clock reads target (microseconds). */
void demo_sleep_until(struct demo *d, uint64_t target);
/* Steps until socket s of host h reports one of mask; 1 when it does. */
int demo_wait_for(struct demo *d, int h, int s, uint32_t mask);
/* Steps until host h has made the nth (0-based) transition into state `to`. */
int demo_wait_state(struct demo *d, int h, int to, int nth);
/* Runs until no host has anything left to do. */
void demo_finish(struct demo *d);
/* A line of narration on host h's side of the ladder. */
void demo_note(struct demo *d, int h, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Application calls of the script on host h: each is logged with its result,
 * after the records that came before it and before the records it causes.
 * Those without a socket argument act on d->sock[h].
 */
void demo_app_event(struct demo *d, int h, int s, const char *call, long ret,
                    const struct synack_endpoint *local, const struct synack_endpoint *remote);
int demo_app_socket(struct demo *d, int h);
int demo_app_bind(struct demo *d, int h, int s, uint16_t port);
/* A listening socket on port (with SO_RCVBUF d->server_rcvbuf when set), or a
 * negative errno. */
int demo_app_listen(struct demo *d, int h, uint16_t port);
int demo_app_connect(struct demo *d, int h, int s, uint32_t addr, uint16_t port);
/* Waits for a connection on ls and accepts it. */
int demo_app_accept(struct demo *d, int h, int ls);
long demo_app_send(struct demo *d, int h, const void *buf, size_t len);
int demo_app_shutdown(struct demo *d, int h, int how);
int demo_app_close(struct demo *d, int h);
/* Waits until host h has received at least n bytes into d->rx[h] (or EOF). */
int demo_recv_bytes(struct demo *d, int h, size_t n);
/* Waits until recv() on host h says end of stream. */
int demo_recv_eof(struct demo *d, int h);
/* Reads and counts (without keeping) until host h has received n bytes
 * in all, or the end of the stream; 1 when it has.  The count is in
 * d->nrx[h]. */
int demo_recv_discard(struct demo *d, int h, size_t n);
/* Printable bytes for the data scenarios, so that a mix-up shows: a..z in
 * a pattern that salt shifts. */
void demo_fill_payload(uint8_t *buf, size_t n, unsigned salt);

#endif
