#include "serve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "cli.h"

#define SERVE_BACKLOG 4096
#define SERVE_STOP_US 5000000u /* how long a graceful stop may take */

void serve_opts_default(struct serve_opts *o)
{
	memset(o, 0, sizeof(*o));
	net_opts_default(&o->net);
	o->port = -1;
	o->http_size = APP_HTTP_DEFAULT_SIZE;
}

void serve_usage(FILE *out)
{
	fputs("usage: synack serve --dev NAME (--tap|--tun) --addr A.B.C.D/NN\n"
	      "                    --app echo|discard|http [--port N] [--http-size BYTES]\n"
	      "                    [--pcap FILE] [--stats-every S] [--loss P] [--dup P]\n"
	      "                    [--reorder P] [--delay-ms N] [--seed N]\n"
	      "\n"
	      "Runs a synack stack on a TUN/TAP device and serves an application on one\n"
	      "port until SIGINT or SIGTERM (a graceful stop: every connection gets a FIN;\n"
	      "a second signal aborts them with RSTs).  The device is not configured:\n"
	      "the kernel's address on it is synack's peer.\n"
	      "\n"
	      "  --app NAME       echo (port 7), discard (port 9), or http (port 80): GET\n"
	      "                   and HEAD of any path, keep-alive, the body is lines of\n"
	      "                   8 hex digits of the line number (00000000\\n00000001\\n...)\n"
	      "  --port N         the port to listen on (1..65535)\n"
	      "  --http-size B    the http body size (default 1024; units K, M, G, KiB,\n"
	      "                   MiB, GiB; at most 16GiB)\n"
	      "  --stats-every S  every S seconds (decimals allowed) print the connections\n"
	      "                   like ss and the counters\n",
	      out);
	net_usage(out);
}

int serve_parse_args(int argc, char **argv, struct serve_opts *o, char *err, size_t errlen)
{
	static const char *const NAMES[] = {"--app", "--port", "--http-size", "--stats-every"};
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = 1;
			return 0;
		}
		int rc = net_parse_flag(argc, argv, &i, &o->net, err, errlen);
		if (rc < 0)
			return -1;
		if (rc > 0)
			continue;
		const char *val;
		int k = cli_flag_value(argc, argv, &i, NAMES, 4, &val, err, errlen);
		if (k == -2)
			return -1;
		if (k == -1) {
			snprintf(err, errlen,
			         "unknown argument '%s' (synack serve --help lists the flags)", a);
			return -1;
		}
		uint64_t v;
		switch (k) {
		case 0:
			o->app = app_kind_parse(val);
			if (!o->app) {
				snprintf(err, errlen, "--app: '%s' is not echo, discard or http",
				         val);
				return -1;
			}
			break;
		case 1:
			if (cli_parse_u64(val, 65535, &v) != 0 || v == 0) {
				snprintf(err, errlen,
				         "--port: '%s' is not a port number in [1, 65535]", val);
				return -1;
			}
			o->port = (int)v;
			break;
		case 2:
			if (cli_parse_bytes(val, APP_HTTP_MAX_SIZE, &o->http_size) != 0) {
				snprintf(err, errlen,
				         "--http-size: '%s' is not a size in bytes up to 16GiB",
				         val);
				return -1;
			}
			break;
		default:
			if (cli_parse_double(val, 0.001, 86400, &o->stats_every) != 0) {
				snprintf(err, errlen,
				         "--stats-every: '%s' is not a number of seconds in "
				         "[0.001, 86400]",
				         val);
				return -1;
			}
			break;
		}
	}
	if (net_check(&o->net, err, errlen) != 0)
		return -1;
	if (!o->app) {
		snprintf(err, errlen, "--app echo|discard|http is required");
		return -1;
	}
	if (o->port < 0)
		o->port = app_default_port(o->app);
	return 0;
}

/* ------------------------------------------------------------------ */

struct server {
	struct net_env env;
	const struct serve_opts *o;
	int listener;
	struct app_conn **conns; /* by socket number */
	size_t cap;
	size_t live;
};

static int conn_put(struct server *sv, int s, struct app_conn *c)
{
	if ((size_t)s >= sv->cap) {
		size_t cap = sv->cap ? sv->cap : 64;
		while (cap <= (size_t)s)
			cap *= 2;
		struct app_conn **v = realloc(sv->conns, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + sv->cap, 0, (cap - sv->cap) * sizeof(*v));
		sv->conns = v;
		sv->cap = cap;
	}
	sv->conns[s] = c;
	sv->live++;
	return 0;
}

static void conn_done(struct server *sv, int s)
{
	app_conn_free(sv->conns[s]);
	sv->conns[s] = NULL;
	sv->live--;
}

static void accept_all(struct server *sv, int stopping)
{
	struct synack_stack *st = sv->env.st;
	for (;;) {
		int s = synack_accept(st, sv->listener, NULL);
		if (s < 0)
			return;
		struct app_conn *c = app_conn_new(sv->o->app, sv->o->http_size);
		if (!c || conn_put(sv, s, c) != 0) {
			app_conn_free(c);
			synack_setsockopt(st, s, SYNACK_SO_LINGER, 0);
			synack_close(st, s);
			continue;
		}
		/* Data may have come with the handshake. */
		int done = stopping ? app_conn_stop(c, st, s) : app_conn_event(c, st, s);
		if (done)
			conn_done(sv, s);
	}
}

static void handle_events(struct server *sv, int stopping)
{
	struct synack_event ev;
	while (synack_event_next(sv->env.st, &ev)) {
		if (ev.socket == sv->listener) {
			if (sv->listener >= 0)
				accept_all(sv, stopping);
			continue;
		}
		if (ev.socket < 0 || (size_t)ev.socket >= sv->cap || !sv->conns[ev.socket])
			continue;
		if (app_conn_event(sv->conns[ev.socket], sv->env.st, ev.socket))
			conn_done(sv, ev.socket);
	}
}

/* 1 when every connection is CLOSED or in TIME_WAIT. */
static int all_finished(struct server *sv)
{
	size_t counts[SYNACK_STATE_COUNT];
	size_t total = net_state_counts(sv->env.st, counts);
	return total == counts[SYNACK_CLOSED] + counts[SYNACK_TIME_WAIT];
}

static void abort_all(struct server *sv)
{
	struct synack_stack *st = sv->env.st;
	synack_advance(st, synack_run_now(sv->env.run));
	for (size_t s = 0; s < sv->cap; s++) {
		if (!sv->conns[s])
			continue;
		synack_setsockopt(st, (int)s, SYNACK_SO_LINGER, 0);
		synack_close(st, (int)s);
		conn_done(sv, (int)s);
	}
	synack_run_flush(sv->env.run);
}

static void release_all(struct server *sv)
{
	for (size_t s = 0; s < sv->cap; s++)
		if (sv->conns[s]) {
			synack_close(sv->env.st, (int)s);
			conn_done(sv, (int)s);
		}
	free(sv->conns);
}

int serve_main(const struct serve_opts *o)
{
	struct server sv;
	memset(&sv, 0, sizeof(sv));
	sv.o = o;
	char err[256];
	if (net_open(&o->net, 0, &sv.env, err, sizeof(err)) != 0) {
		fprintf(stderr, "synack serve: %s\n", err);
		return 2;
	}
	struct synack_run *run = sv.env.run;
	struct synack_stack *st = sv.env.st;
	sv.listener = synack_run_listen(run, (uint16_t)o->port, SERVE_BACKLOG);
	if (sv.listener < 0) {
		fprintf(stderr, "synack serve: cannot listen on port %d: %s\n", o->port,
		        synack_strerror(sv.listener));
		net_close(&sv.env);
		return 2;
	}
	char local[24];
	struct synack_endpoint ep = {.addr = o->net.addr, .port = (uint16_t)o->port};
	printf("synack serve: listening on %s (dev %s, %s, app %s)\n",
	       synack_endpoint_str(&ep, local, sizeof(local)), synack_link_name(sv.env.link),
	       o->net.kind == SYNACK_LINK_TAP ? "tap" : "tun", app_kind_name(o->app));
	fflush(stdout);

	uint64_t every = (uint64_t)(o->stats_every * 1e6 + 0.5);
	uint64_t next_stats = every ? synack_run_now(run) + every : SYNACK_NEVER;
	int stopping = 0, status = 0;
	uint64_t stop_deadline = SYNACK_NEVER;
	for (;;) {
		uint64_t now = synack_run_now(run);
		uint64_t until = next_stats < stop_deadline ? next_stats : stop_deadline;
		int rc = synack_run_once(
		    run, until == SYNACK_NEVER ? SYNACK_NEVER : (until > now ? until - now : 0));
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "synack serve: the device failed: %s\n", strerror(-rc));
			status = 1;
			break;
		}
		int sig;
		while ((sig = synack_run_take_signal(run)) != 0) {
			if (stopping) {
				abort_all(&sv);
				status = 1;
				goto out;
			}
			/* Graceful stop: no new connections, a FIN on every one. */
			stopping = 1;
			stop_deadline = synack_run_now(run) + SERVE_STOP_US;
			synack_advance(st, synack_run_now(run));
			synack_close(st, sv.listener);
			sv.listener = -1;
			for (size_t s = 0; s < sv.cap; s++)
				if (sv.conns[s] && app_conn_stop(sv.conns[s], st, (int)s))
					conn_done(&sv, (int)s);
		}
		handle_events(&sv, stopping);
		now = synack_run_now(run);
		if (now >= next_stats) {
			net_print_stats(stdout, &sv.env);
			while (next_stats <= now)
				next_stats += every;
		}
		if (stopping && (all_finished(&sv) || now >= stop_deadline)) {
			synack_run_flush(run);
			net_print_stats(stdout, &sv.env);
			break;
		}
	}
out:
	release_all(&sv);
	net_close(&sv.env);
	return status;
}
