/*
 * What `synack serve` and `synack connect` share: the flags that choose and
 * impair the device (--dev, --create, --tap/--tun, --addr, --pcap, --loss,
 * --dup, --reorder, --delay-ms, --seed, --txqueuelen, --no-csum-offload, --no-gro,
 * --no-tso), the stack's settings (--set
 * NAME=VALUE and the named timeout flags) and the options every connection
 * gets (--keepalive, --user-timeout-ms), opening the link, the stack and
 * the run loop (SIGINT and SIGTERM watched), and the ss-like stats block,
 * as text or as one JSON object.
 */
#ifndef SYNACK_TOOLS_NET_H
#define SYNACK_TOOLS_NET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/link.h"
#include "synack/run.h"
#include "synack/synack.h"

#define NET_MAX_DELAY_MS 60000
#define NET_MAX_TXQUEUELEN 1000000u /* as synack_link_set_txqueuelen() takes */
#define NET_MAX_SETTINGS 256        /* rows of settings_at() net_opts can mark given */
#define NET_MAX_ADDRS 15            /* --addr beside the first (a link takes 15 more) */
#define NET_MAX_ROUTES 64           /* --gw and --route */

/* TCP_USER_TIMEOUT as Linux takes it: an int of milliseconds. */
#define NET_MAX_USER_TIMEOUT_MS 2147483647u

struct net_opts {
	const char *prog; /* "synack serve": the prefix of notes on stderr */
	const char *dev;
	int create; /* --create: make the device when it is missing */
	int kind;   /* SYNACK_LINK_TAP, SYNACK_LINK_TUN; 0 until given */
	uint32_t addr, prefix_len;
	int have_addr;
	const char *pcap;
	double loss, dup, reorder;
	int64_t delay_ms;
	uint64_t seed;
	/* The stack's settings: the defaults, then --set and the named flags
	 * in order; addr, secret, and (unless given) mtu and trace_capacity
	 * are filled when the stack is made. */
	struct synack_config cfg;
	uint64_t given[NET_MAX_SETTINGS / 64]; /* net_setting_given() */
	/* The link's settings by --set (link_settings_at(); addr, prefixes,
	 * txqueuelen and the offloads are the flags' and filled at the open):
	 * the defaults, then each in order. */
	struct synack_link_config link;
	uint64_t link_given; /* bit i: row i of link_settings_at() was given */
	/* Options of every connection (SO_KEEPALIVE, TCP_USER_TIMEOUT). */
	int keepalive;
	int64_t user_timeout_ms; /* -1: not given */
	/* --txqueuelen (issue 17 item 5): the device's queue; 0 not given. */
	uint32_t txqueuelen;
	/* Routing (issue 17 item 1): the addresses after the first --addr,
	 * --gw and --route PREFIX [via ADDR], and --routes (print the table). */
	struct synack_prefix addrs[NET_MAX_ADDRS];
	int naddrs;
	struct net_route {
		struct synack_prefix dst;
		uint32_t via;     /* 0: on-link */
		uint8_t via6[16]; /* an IPv6 route's gateway (all zero: on-link) */
		const char *flag; /* "--gw" or "--route", for the error */
	} routes[NET_MAX_ROUTES];
	int nroutes;
	int print_routes;
	/* --no-csum-offload, --no-gro, --no-tso (issue 16 item 2): each
	 * offload of the device turned off. */
	int no_csum_offload, no_gro, no_tso;
	/* --no-csum-trust (issue 16 item 2): the kernel's checksum state
	 * not taken as verified (link cfg.csum_trust 0). */
	int no_csum_trust;
	/* libsynack-preload (issue 15): the program's signals stay its own
	 * (net_open() watches none), and the notes about the device are not
	 * printed (the program's stderr is its own). */
	int keep_signals, quiet;
	/* How the user asks for the device to be created, named in the
	 * missing-device message (NULL: "--create"; the preload library says
	 * "SYNACK_CREATE=1"). */
	const char *create_how;
	/* IPv6 beside IPv4 (issue 14): the first IPv6 --addr (the stack's
	 * addr6; further ones join addrs[] with family SYNACK_AF_INET6) and
	 * an IPv6 --gw, the default gateway of IPv6 destinations off-link
	 * (the link resolves it with neighbour discovery). */
	uint8_t addr6[16];
	uint32_t prefix6_len;
	int have_addr6;
	uint8_t gw6[16];
	int have_gw6;
};

struct net_env {
	struct synack_link *link;
	struct synack_stack *st;
	struct synack_run *run;
};

void net_opts_default(struct net_opts *o, const char *prog);
/* Whether row i of settings_at() was given (--set or its named flag). */
int net_setting_given(const struct net_opts *o, size_t i);
/*
 * If argv[*i] is one of the shared flags, takes it (and its value) and
 * returns 1; returns 0 when it is not one of them, -1 with a sentence in err
 * when its value is bad.
 */
int net_parse_flag(int argc, char **argv, int *i, struct net_opts *o, char *err, size_t errlen);
/* After all flags: -1 with a sentence when --dev, --tap/--tun or --addr is
 * missing, or when synack_config_check() refuses the settings. */
int net_check(const struct net_opts *o, char *err, size_t errlen);
/* "A.B.C.D/NN" with NN in 1..32. */
int net_parse_cidr(const char *s, uint32_t *addr, uint32_t *prefix_len);
/* "2001:db8::2/64" with the length in 1..128 (RFC 4291 2.3): 0 or -1. */
int net_parse_cidr6(const char *s, uint8_t addr[16], uint32_t *prefix_len);
/* -1 with a sentence when the addresses and routes of o give no route to
 * peer (a broadcast or multicast address included): refused before the
 * device is touched, as connect() would refuse it with ENETUNREACH. */
int net_check_reach(const struct net_opts *o, const struct synack_endpoint *peer, char *err,
                    size_t errlen);
/* Gives a stack made with o's first address the other addresses and the
 * routes of o (and the link, when not NULL, the addresses): 0, or -1 with
 * a sentence naming the flag in err. */
int net_apply_routes(const struct net_opts *o, struct synack_stack *st, struct synack_link *link,
                     char *err, size_t errlen);
/* The addresses and the routing table, one line each after prefix
 * ("addr 10.7.0.2/24", "route default via 10.7.0.1 src 10.7.0.2"). */
void net_print_routes(FILE *out, const char *prefix, struct synack_stack *st);
/* Usage lines of the shared flags. */
void net_usage(FILE *out);
/* The shared flags in a usage synopsis, each line after indent. */
void net_synopsis(FILE *out, const char *indent);

/*
 * Opens the device of o alone (--dev, --tap/--tun, --create, with --addr as
 * the link's own address), with the sentences of net_open() for a missing
 * device or a missing permission.
 */
int net_open_device(const struct net_opts *o, struct synack_link **link, char *err, size_t errlen);
/*
 * Opens the device, the capture, the stack (the settings of o, secret from
 * getrandom, MTU from the device and trace_capacity as given unless o sets
 * them) and the run loop, with SIGINT and SIGTERM watched.  A device that
 * does not exist is refused (-ENODEV) unless o->create; a permission error
 * names the missing capability and how to give a user a device.  Returns
 * 0, or a negative errno with a sentence in err; nothing is left open on
 * failure.
 */
int net_open(const struct net_opts *o, uint32_t trace_capacity, struct net_env *env, char *err,
             size_t errlen);
/*
 * --threads N (issue 16 item 3): opens N queues of the device as a
 * multi-queue device (net_open_device's sentences), one capture for all
 * (o->pcap, in time order), and on each queue a stack (the same addresses
 * and settings, its own secret) with its own run loop in envs[0..n-1].
 * No signal is watched: the threads' caller takes them.  0, or a negative
 * errno with a sentence; nothing is left open on failure.
 */
int net_open_threads(const struct net_opts *o, unsigned n, uint32_t trace_capacity,
                     struct net_env *envs, char *err, size_t errlen);
/* The device's n queues (links[0..n-1]), as net_open_device() opens one. */
int net_open_queues(const struct net_opts *o, unsigned n, struct synack_link **link, char *err,
                    size_t errlen);
void net_close(struct net_env *env);
/* Gives connection s the per-connection options of o (SO_KEEPALIVE,
 * TCP_USER_TIMEOUT); 0 or what synack_setsockopt() returned. */
int net_conn_opts(const struct net_opts *o, struct synack_stack *st, int s);

/*
 * The stats block: "--- synack stats at T s: N connections (STATE n, ...)",
 * the ss-like table, the counter lines, a blank line.  With json, one line
 * holding one object instead: {"ev":"stats","t_us":T,"states":{STATE:n},
 * "conns":[{"state","local","peer","send_queue","recv_queue","age_us"}],
 * "counters":{NAME:n}} with the same counter names as the text.
 */
void net_print_stats(FILE *out, struct net_env *env, int json);
/*
 * --threads N (issue 16 item 3): the stats of several stacks merged on
 * read.  Each snapshot is taken on the thread that owns its stack
 * (synack_run_group_call); net_print_snaps() prints them as one block:
 * the counters summed (the device's own counters once: they are the
 * device's), the connections of all with a Thread column (JSON: "thread"
 * in each conn), then one line per thread ("thread K: connections N
 * PassiveOpens N ..."; JSON: "threads":[{"thread":K,...}]).  With one
 * snapshot it is net_print_stats() exactly.
 */
struct net_snap {
	uint64_t now;
	unsigned thread;
	int kind;
	struct synack_stats s;
	struct synack_link_stats ls;
	int have_dev;
	struct synack_link_device_stats ds;
	struct synack_conn *conns;
	size_t nconns, capconns;
};
/* Takes env's snapshot (sn zeroed or reused: its list is refilled). */
void net_snap_take(struct net_env *env, unsigned thread, struct net_snap *sn);
void net_snap_free(struct net_snap *sn);
void net_print_snaps(FILE *out, const struct net_snap *snaps, unsigned n, int json);
/* "LISTEN 1, TIME_WAIT 2" style counts into buf; returns the total. */
size_t net_state_counts(struct synack_stack *st, size_t counts[SYNACK_STATE_COUNT]);

#endif
