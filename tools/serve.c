#include "serve.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "apps.h"
#include "cli.h"
#include "cli_parse.h"

#define SERVE_BACKLOG 4096
#define SERVE_DRAIN_MS 5000u        /* --drain-ms by default */
#define SERVE_MAX_DRAIN_MS 3600000u /* an hour */

void serve_opts_default(struct serve_opts *o)
{
	memset(o, 0, sizeof(*o));
	net_opts_default(&o->net, "synack serve");
	o->port = -1;
	o->http_size = APP_HTTP_DEFAULT_SIZE;
	o->drain_ms = SERVE_DRAIN_MS;
	o->threads = 1;
}

void serve_usage(FILE *out)
{
	fputs("usage: synack serve --dev NAME [--create] (--tap|--tun) --addr A.B.C.D/NN\n"
	      "                    [--addr 2001:db8::2/64]\n"
	      "                    (--app echo|discard|http [--port N] | --listen PORT:APP ...)\n"
	      "                    [--http-size BYTES] [--pcap FILE] [--stats-every S [--json]]\n"
	      "                    [--drain-ms N] [--threads N]\n",
	      out);
	net_synopsis(out, "                    ");
	fputs(
	    "\n"
	    "Runs a synack stack on a TUN/TAP device and serves an application on each\n"
	    "port until SIGINT or SIGTERM.  The first signal stops accepting; idle\n"
	    "connections get a FIN, the ones sending a response or an echo may finish\n"
	    "it (then a FIN) within --drain-ms, and what is left after that is aborted\n"
	    "with RSTs, so no peer takes a cut response for a whole one.  A second\n"
	    "signal aborts every connection at once.  The device is not configured:\n"
	    "the kernel's address on it is synack's peer.  It prints one line per port,\n"
	    "\"synack serve: listening on A.B.C.D:PORT (dev NAME, tap, app APP)\", when\n"
	    "it is ready.\n"
	    "\n"
	    "  --app NAME       echo (port 7), discard (port 9), or http (port 80): GET\n"
	    "                   and HEAD of any path, keep-alive, the body is lines of\n"
	    "                   8 hex digits of the line number (00000000\\n00000001\\n...)\n"
	    "  --port N         the port to listen on (1..65535)\n"
	    "  --listen PORT:APP  serve APP on PORT (APP alone: its default port);\n"
	    "                   repeatable: --listen 80:http --listen 7:echo serves both;\n"
	    "                   --app NAME --port N is the same as --listen N:NAME\n"
	    "  --http-size B    the http body size (default 1024; units K, M, G, KiB,\n"
	    "                   MiB, GiB; at most 16GiB)\n"
	    "  --stats-every S  every S seconds (decimals allowed) print the connections\n"
	    "                   like ss and the counters\n"
	    "  --drain-ms N     at a stop, how long responses in progress may take to\n"
	    "                   finish before they are aborted with RSTs (milliseconds,\n"
	    "                   0..3600000, default 5000; 0 aborts every connection at\n"
	    "                   once)\n"
	    "  --threads N      N stacks sharing nothing, each on its own thread and its\n"
	    "                   own queue of the device, opened as a multi-queue device\n"
	    "                   (IFF_MULTI_QUEUE; one made by hand needs ip tuntap add\n"
	    "                   ... multi_queue): the kernel spreads the connections\n"
	    "                   over the queues by their hash (1..256, default 1); the\n"
	    "                   stats are merged, with a thread column, and --pcap\n"
	    "                   writes one file in time order\n"
	    "  --json           the stats (every S seconds, and the last at the stop) as\n"
	    "                   one JSON object per line: {\"ev\":\"stats\",\"t_us\",\"states\",\n"
	    "                   \"conns\":[{\"state\",\"local\",\"peer\",\"send_queue\",\n"
	    "                   \"recv_queue\",\"age_us\"}],\"counters\":{NAME:N}}\n",
	    out);
	net_usage(out);
}

/* "PORT:APP" or "APP" -> *l; -1 with a sentence in err. */
static int parse_listen(const char *val, struct serve_listen *l, char *err, size_t errlen)
{
	const char *colon = strchr(val, ':');
	const char *app = colon ? colon + 1 : val;
	l->app = app_kind_parse(app);
	uint64_t port = l->app ? app_default_port(l->app) : 0;
	if (colon) {
		char num[8];
		size_t n = (size_t)(colon - val);
		if (n >= sizeof(num)) {
			port = 0;
		} else {
			memcpy(num, val, n);
			num[n] = 0;
			if (cli_parse_u64(num, 65535, &port) != 0)
				port = 0;
		}
	}
	if (!l->app || port == 0) {
		snprintf(err, errlen,
		         "--listen: '%s' is not PORT:APP (a port in [1, 65535], an app echo, "
		         "discard or http) or APP alone",
		         val);
		return -1;
	}
	l->port = (uint16_t)port;
	return 0;
}

static int add_listen(struct serve_opts *o, const struct serve_listen *l, char *err, size_t errlen)
{
	for (size_t i = 0; i < o->nlisten; i++) {
		if (o->listen[i].port == l->port) {
			snprintf(err, errlen, "port %u is given twice (--listen, --app/--port)",
			         (unsigned)l->port);
			return -1;
		}
	}
	if (o->nlisten == SERVE_MAX_LISTEN) {
		snprintf(err, errlen, "at most %d ports (--listen)", SERVE_MAX_LISTEN);
		return -1;
	}
	o->listen[o->nlisten++] = *l;
	return 0;
}

/* The device, address, impairment and settings flags (net.c). */
static int serve_net(void *opts, int argc, char **argv, int *i, char *err, size_t errlen)
{
	return net_parse_flag(argc, argv, i, &((struct serve_opts *)opts)->net, err, errlen);
}

static int app_flag(void *opts, const char *flag, const char *val, char *err, size_t errlen)
{
	struct serve_opts *o = opts;
	o->app = app_kind_parse(val);
	if (!o->app) {
		snprintf(err, errlen, "%s: '%s' is not echo, discard or http", flag, val);
		return -1;
	}
	return 0;
}

static int listen_flag(void *opts, const char *flag, const char *val, char *err, size_t errlen)
{
	(void)flag;
	struct serve_listen l;
	if (parse_listen(val, &l, err, errlen) != 0 || add_listen(opts, &l, err, errlen) != 0)
		return -1;
	return 0;
}

#define O(n, k, f) CLI_OPT(struct serve_opts, n, k, f)
static const struct cli_opt SERVE_FLAGS[] = {
    {O("--app", CLI_CUSTOM, app), .fn = app_flag},
    {O("--port", CLI_INT, port), .min = 1, .max = 65535, .what = "a port number"},
    {O("--http-size", CLI_BYTES, http_size), .max = APP_HTTP_MAX_SIZE},
    {O("--stats-every", CLI_DOUBLE, stats_every), .dmin = 0.001, .dmax = 86400,
     .what = "a number of seconds"},
    {O("--listen", CLI_CUSTOM, listen), .fn = listen_flag},
    {O("--drain-ms", CLI_U64, drain_ms), .max = SERVE_MAX_DRAIN_MS,
     .what = "a number of milliseconds"},
    {O("--threads", CLI_UINT, threads), .min = 1, .max = SERVE_MAX_THREADS,
     .what = "a number of threads", .note = " (one stack per queue of the device)"},
    {O("--json", CLI_SWITCH, json)},
};
#undef O

const struct cli_table serve_cli = {
    CLI_ROWS(SERVE_FLAGS),
    .unknown = "unknown argument",
    .hint = "(synack serve --help lists the flags)",
    .help = CLI_SEEN(struct serve_opts, help),
    .help_stops = 1,
    .args_are_flags = 1,
    .more = serve_net,
};

int serve_parse_args(int argc, char **argv, struct serve_opts *o, char *err, size_t errlen)
{
	if (cli_parse(&serve_cli, o, argc, argv, err, errlen) < 0)
		return -1;
	if (o->help)
		return 0;
	if (net_check(&o->net, err, errlen) != 0)
		return -1;
	if (o->app) {
		struct serve_listen l = {
		    .app = o->app,
		    .port = (uint16_t)(o->port < 0 ? app_default_port(o->app) : o->port)};
		if (add_listen(o, &l, err, errlen) != 0)
			return -1;
	} else if (o->port >= 0 && o->nlisten) {
		snprintf(err, errlen, "--port goes with --app (--listen PORT:APP names its own)");
		return -1;
	}
	if (!o->nlisten) {
		snprintf(err, errlen, "--app echo|discard|http is required (or --listen PORT:APP)");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

struct slot {
	struct app_conn *app; /* NULL: no connection on this socket */
	int stopped;          /* app_conn_stop() was called */
};

struct server {
	struct net_env env;
	const struct serve_opts *o;
	int listener[SERVE_MAX_LISTEN]; /* by o->listen index; -1 once closed */
	struct slot *conns;             /* by socket number */
	size_t cap;
	size_t live;
	/* --threads: the stop requests come from the group, not signals. */
	struct synack_run_group *const *group;
	unsigned stops_seen;
};

static int conn_put(struct server *sv, int s, struct app_conn *c)
{
	if ((size_t)s >= sv->cap) {
		size_t cap = sv->cap ? sv->cap : 64;
		while (cap <= (size_t)s)
			cap *= 2;
		struct slot *v = realloc(sv->conns, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memset(v + sv->cap, 0, (cap - sv->cap) * sizeof(*v));
		sv->conns = v;
		sv->cap = cap;
	}
	sv->conns[s] = (struct slot){.app = c};
	sv->live++;
	return 0;
}

static void conn_done(struct server *sv, int s)
{
	app_conn_free(sv->conns[s].app);
	sv->conns[s] = (struct slot){0};
	sv->live--;
}

/* The graceful stop of one connection: what is queued, then a FIN. */
static void conn_stop(struct server *sv, int s)
{
	sv->conns[s].stopped = 1;
	if (app_conn_stop(sv->conns[s].app, sv->env.st, s))
		conn_done(sv, s);
}

static void accept_all(struct server *sv, size_t l)
{
	struct synack_stack *st = sv->env.st;
	for (;;) {
		int s = synack_accept(st, sv->listener[l], NULL);
		if (s < 0)
			return;
		struct app_conn *c = app_conn_new(sv->o->listen[l].app, sv->o->http_size);
		if (!c || net_conn_opts(&sv->o->net, st, s) != 0 || conn_put(sv, s, c) != 0) {
			app_conn_free(c);
			synack_setsockopt(st, s, SYNACK_SO_LINGER, 0);
			synack_close(st, s);
			continue;
		}
		/* Data may have come with the handshake. */
		if (app_conn_event(c, st, s))
			conn_done(sv, s);
	}
}

static void handle_events(struct server *sv)
{
	struct synack_event ev;
	while (synack_event_next(sv->env.st, &ev)) {
		if (ev.socket < 0)
			continue;
		size_t l = 0;
		while (l < sv->o->nlisten && sv->listener[l] != ev.socket)
			l++;
		if (l < sv->o->nlisten) {
			accept_all(sv, l);
			continue;
		}
		if ((size_t)ev.socket >= sv->cap || !sv->conns[ev.socket].app)
			continue;
		if (app_conn_event(sv->conns[ev.socket].app, sv->env.st, ev.socket))
			conn_done(sv, ev.socket);
	}
}

/*
 * While stopping: a connection with nothing left unacknowledged is idle (a
 * keep-alive connection between requests, an echo with nothing to send
 * back), so it gets its FIN now; one still sending goes on until it has
 * been acknowledged in full.  Called after the turn's events, so an
 * application that could write more already has.
 */
static void drain_idle(struct server *sv)
{
	for (size_t s = 0; s < sv->cap; s++) {
		struct synack_tcp_info ti;
		if (!sv->conns[s].app || sv->conns[s].stopped ||
		    synack_tcp_info(sv->env.st, (int)s, &ti) != 0 || ti.send_queue > 0)
			continue;
		conn_stop(sv, (int)s);
	}
}

/* 1 when every connection is CLOSED or in TIME_WAIT. */
static int all_finished(struct server *sv)
{
	size_t counts[SYNACK_STATE_COUNT];
	size_t total = net_state_counts(sv->env.st, counts);
	return total == counts[SYNACK_CLOSED] + counts[SYNACK_TIME_WAIT];
}

/* RST on every connection the applications still hold; returns how many. */
static size_t abort_all(struct server *sv)
{
	struct synack_stack *st = sv->env.st;
	size_t n = 0;
	synack_advance(st, synack_run_now(sv->env.run));
	for (size_t s = 0; s < sv->cap; s++) {
		if (!sv->conns[s].app)
			continue;
		synack_setsockopt(st, (int)s, SYNACK_SO_LINGER, 0);
		synack_close(st, (int)s);
		conn_done(sv, (int)s);
		n++;
	}
	synack_run_flush(sv->env.run);
	return n;
}

/* The first signal: no new connections (the listeners close, and with them
 * the connections not yet accepted); the rest drains, unless there is no
 * time to (--drain-ms 0: the caller aborts them all now). */
static void stop_begin(struct server *sv)
{
	struct synack_stack *st = sv->env.st;
	synack_advance(st, synack_run_now(sv->env.run));
	for (size_t l = 0; l < sv->o->nlisten; l++) {
		synack_close(st, sv->listener[l]);
		sv->listener[l] = -1;
	}
	if (sv->o->drain_ms)
		drain_idle(sv);
}

static void release_all(struct server *sv)
{
	for (size_t s = 0; s < sv->cap; s++)
		if (sv->conns[s].app) {
			synack_close(sv->env.st, (int)s);
			conn_done(sv, (int)s);
		}
	free(sv->conns);
}

/* Listens on every port; 0 or -1 (said). */
static int listen_all(struct server *sv)
{
	const struct serve_opts *o = sv->o;
	for (size_t l = 0; l < o->nlisten; l++) {
		sv->listener[l] = synack_run_listen(sv->env.run, o->listen[l].port, SERVE_BACKLOG);
		if (sv->listener[l] < 0) {
			fprintf(stderr, "synack serve: cannot listen on port %u: %s\n",
			        (unsigned)o->listen[l].port, synack_strerror(sv->listener[l]));
			return -1;
		}
	}
	return 0;
}

/* The ready line of each port. */
static void print_ready(const struct serve_opts *o, struct synack_link *link)
{
	char threads[32] = "";
	if (o->threads > 1)
		snprintf(threads, sizeof(threads), ", %u threads", o->threads);
	for (size_t l = 0; l < o->nlisten; l++) {
		char local[64];
		struct synack_endpoint ep = {.addr = o->net.addr, .port = o->listen[l].port};
		/* One line per family: the IPv6 address's (issue 14) after. */
		for (int v6 = 0; v6 <= o->net.have_addr6; v6++) {
			if (v6) {
				ep.family = SYNACK_AF_INET6;
				memcpy(ep.addr6, o->net.addr6, 16);
			}
			printf("synack serve: listening on %s (dev %s, %s, app %s%s)\n",
			       synack_endpoint_str(&ep, local, sizeof(local)),
			       synack_link_name(link),
			       o->net.kind == SYNACK_LINK_TAP ? "tap" : "tun",
			       app_kind_name(o->listen[l].app), threads);
		}
	}
	fflush(stdout);
}

/* A stop request since the last call: a watched signal (one stack), or
 * synack_run_group_stop() (--threads).  1 or 0. */
static int take_stop(struct server *sv)
{
	if (!sv->group)
		return synack_run_take_signal(sv->env.run) != 0;
	if (sv->stops_seen == synack_run_group_stops(*sv->group))
		return 0;
	sv->stops_seen++;
	return 1;
}

/*
 * Serves until stopped: the first stop request closes the listeners and
 * drains, the second aborts.  With one stack it prints the stats every
 * --stats-every and at the end; with several the caller does, merged.
 * Returns the exit status.
 */
static int serve_loop(struct server *sv)
{
	const struct serve_opts *o = sv->o;
	struct synack_run *run = sv->env.run;
	uint64_t every = sv->group ? 0 : (uint64_t)(o->stats_every * 1e6 + 0.5);
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
			return 1;
		}
		while (take_stop(sv)) {
			if (stopping) {
				abort_all(sv);
				return 1;
			}
			stopping = 1;
			stop_deadline = synack_run_now(run) + o->drain_ms * 1000;
			stop_begin(sv);
		}
		handle_events(sv);
		if (stopping)
			drain_idle(sv);
		now = synack_run_now(run);
		if (now >= next_stats) {
			net_print_stats(stdout, &sv->env, o->json);
			while (next_stats <= now)
				next_stats += every;
		}
		if (stopping && (all_finished(sv) || now >= stop_deadline)) {
			/* Past the deadline: a FIN would make a cut response
			 * look complete, a RST says it is not. */
			size_t cut = all_finished(sv) ? 0 : abort_all(sv);
			if (cut && o->drain_ms)
				fprintf(stderr,
				        "synack serve: %zu connection%s still open after "
				        "--drain-ms %llu: aborted (RST)\n",
				        cut, cut == 1 ? "" : "s", (unsigned long long)o->drain_ms);
			if (!sv->group)
				net_print_stats(stdout, &sv->env, o->json);
			return status;
		}
	}
}

/* ------------------------------------------------------------------ */
/* --threads N (issue 16 item 3): one stack per queue, one thread each. */

struct fleet {
	const struct serve_opts *o;
	unsigned n;
	struct server *sv;    /* by thread */
	struct net_env *envs; /* by thread */
	struct net_snap *snaps;
	struct synack_run_group *group;
};

static int fleet_thread(void *ctx, unsigned index, struct synack_run *r)
{
	struct fleet *f = ctx;
	(void)r;
	return serve_loop(&f->sv[index]);
}

struct snap_call {
	struct fleet *f;
	unsigned index;
};

/* On thread index, between two of its turns. */
static void snap_on_thread(void *ctx, struct synack_run *r)
{
	struct snap_call *c = ctx;
	(void)r;
	net_snap_take(&c->f->envs[c->index], c->index, &c->f->snaps[c->index]);
}

static void fleet_print_stats(struct fleet *f)
{
	for (unsigned k = 0; k < f->n; k++) {
		struct snap_call c = {.f = f, .index = k};
		if (f->group)
			synack_run_group_call(f->group, k, snap_on_thread, &c);
		else
			snap_on_thread(&c, f->envs[k].run);
	}
	net_print_snaps(stdout, f->snaps, f->n, f->o->json);
}

/* SIGINT and SIGTERM, blocked (the threads inherit the mask) and read
 * from a signalfd; an ignored one is set back to its default first (see
 * synack_run_watch_signals).  The descriptor, or -1 (said). */
static int stop_signals(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, old);
	for (int sig = SIGINT; sig <= SIGTERM; sig++) {
		struct sigaction act;
		if (sigismember(&set, sig) == 1 && sigaction(sig, NULL, &act) == 0 &&
		    act.sa_handler == SIG_IGN) {
			act.sa_handler = SIG_DFL;
			sigaction(sig, &act, NULL);
		}
	}
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "synack serve: cannot watch signals: %s\n", strerror(errno));
	return fd;
}

/* The caller's thread: signals become group stops, the stats are taken
 * from each thread and printed merged, until every thread returned. */
static void fleet_watch(struct fleet *f, int sigfd)
{
	uint64_t every = (uint64_t)(f->o->stats_every * 1e6 + 0.5);
	struct synack_run *clock = f->envs[0].run; /* read-only: the time */
	uint64_t next_stats = every ? synack_run_now(clock) + every : SYNACK_NEVER;
	int stopped = 0;
	while (synack_run_group_running(f->group) > 0) {
		uint64_t now = synack_run_now(clock);
		int ms = -1;
		if (next_stats != SYNACK_NEVER)
			ms = next_stats > now ? (int)((next_stats - now + 999) / 1000) : 0;
		struct pollfd p[2] = {{.fd = sigfd, .events = POLLIN},
		                      {.fd = synack_run_group_fd(f->group), .events = POLLIN}};
		if (poll(p, 2, ms) < 0 && errno != EINTR)
			break;
		struct signalfd_siginfo si;
		while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			stopped = 1;
			synack_run_group_stop(f->group);
		}
		uint64_t v;
		if (p[1].revents && read(p[1].fd, &v, sizeof(v)) > 0 && !stopped) {
			/* A thread ended on its own (its device failed):
			 * the others stop too. */
			stopped = 1;
			synack_run_group_stop(f->group);
		}
		now = synack_run_now(clock);
		if (now >= next_stats) {
			fleet_print_stats(f);
			while (next_stats <= now)
				next_stats += every;
		}
	}
}

static int serve_threads(const struct serve_opts *o)
{
	unsigned n = o->threads;
	struct fleet f = {.o = o, .n = n};
	f.sv = calloc(n, sizeof(*f.sv));
	f.envs = calloc(n, sizeof(*f.envs));
	f.snaps = calloc(n, sizeof(*f.snaps));
	int *results = calloc(n, sizeof(*results));
	char err[1024];
	int status = 2, opened = 0;
	sigset_t old;
	int sigfd = stop_signals(&old);
	if (!f.sv || !f.envs || !f.snaps || !results || sigfd < 0)
		goto out;
	if (net_open_threads(&o->net, n, 0, f.envs, err, sizeof(err)) != 0) {
		fprintf(stderr, "synack serve: %s\n", err);
		goto out;
	}
	opened = 1;
	for (unsigned k = 0; k < n; k++) {
		f.sv[k].env = f.envs[k];
		f.sv[k].o = o;
		f.sv[k].group = &f.group;
		if (listen_all(&f.sv[k]) != 0)
			goto out;
	}
	print_ready(o, f.envs[0].link);
	struct synack_run *runs[SERVE_MAX_THREADS];
	for (unsigned k = 0; k < n; k++)
		runs[k] = f.envs[k].run;
	int rc = synack_run_group_start(&f.group, runs, n, fleet_thread, &f);
	if (rc) {
		fprintf(stderr, "synack serve: cannot start %u threads: %s\n", n, strerror(-rc));
		goto out;
	}
	fleet_watch(&f, sigfd);
	synack_run_group_join(f.group, results);
	f.group = NULL;
	status = 0;
	for (unsigned k = 0; k < n; k++)
		if (results[k] > status)
			status = results[k];
	fleet_print_stats(&f);
out:
	for (unsigned k = 0; opened && k < n; k++) {
		release_all(&f.sv[k]);
		net_close(&f.envs[k]);
		net_snap_free(&f.snaps[k]);
	}
	if (sigfd >= 0)
		close(sigfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(results);
	free(f.snaps);
	free(f.envs);
	free(f.sv);
	return status;
}

int serve_main(const struct serve_opts *o)
{
	if (o->threads > 1)
		return serve_threads(o);
	struct server sv;
	memset(&sv, 0, sizeof(sv));
	sv.o = o;
	char err[1024];
	if (net_open(&o->net, 0, &sv.env, err, sizeof(err)) != 0) {
		fprintf(stderr, "synack serve: %s\n", err);
		return 2;
	}
	if (listen_all(&sv) != 0) {
		net_close(&sv.env);
		return 2;
	}
	print_ready(o, sv.env.link);
	int status = serve_loop(&sv);
	release_all(&sv);
	net_close(&sv.env);
	return status;
}
