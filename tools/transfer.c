#include "transfer.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cli.h"
#include "cli_parse.h"
#include "demo.h"
#include "html.h"
#include "impair_flags.h"
#include "render.h"
#include "rtx_meter.h"
#include "settings.h"

#define CLIENT_ADDR 0x0a000001u /* 10.0.0.1 */
#define SERVER_ADDR 0x0a000002u /* 10.0.0.2 */
#define SERVER_PORT 80
#define CHUNK 65536
/* Trace records one stack may write between two drains (one simulation
 * step): a window of segments and their ACKs is a few hundred at most. */
#define TRACE_CAPACITY 16384
#define TRACE_BATCH 256

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

#define H(h) ((h) == DEMO_CLIENT ? "client" : "server")

/* ------------------------------------------------------------------ */
/* Options.                                                            */

void transfer_opts_default(struct transfer_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bytes = TRANSFER_DEFAULT_BYTES;
	o->seed = 1;
	o->delay_ms = TRANSFER_DEFAULT_DELAY_MS;
	o->queue_pkts = -1;
	o->ecn_mark_pkts = -1;
}

void transfer_usage(FILE *out)
{
	fprintf(out,
	        "usage: synack transfer [--bytes N] [--loss P] [--dup P] [--reorder P]\n"
	        "                       [--delay-ms N] [--bw-mbps R] [--queue N] [--ecn-mark N]\n"
	        "                       [--seed N] [--json] [--set NAME=VALUE]...\n"
	        "                       [--svg FILE] [--html FILE] [--pcap FILE]\n"
	        "\n"
	        "Sends N bytes from a client (10.0.0.1) to a server (10.0.0.2:80), two synack\n"
	        "stacks over the simulated network on a virtual clock.  The client closes once\n"
	        "it has sent everything; the server reads to the end and closes; the run goes\n"
	        "on until both connections are CLOSED (the client's TIME_WAIT included).\n"
	        "Impairments apply to each direction, data and ACKs alike.\n"
	        "\n"
	        "  --bytes N      payload size (default %u); a unit may follow: K, M, G are\n"
	        "                 powers of 1000, KiB, MiB, GiB powers of 1024 (at most 4GiB;\n"
	        "                 0 only opens and closes the connection)\n"
	        "  --loss P       probability a datagram is lost (0..1)\n"
	        "  --dup P        probability a datagram is duplicated (0..1)\n"
	        "  --reorder P    probability a datagram is held back and overtaken (0..1)\n"
	        "  --delay-ms N   one-way delay in milliseconds (default %d, at most %d)\n"
	        "  --bw-mbps R    a bottleneck of R Mbit/s each way (default: none); R in\n"
	        "                 %g..%g, fractions allowed\n"
	        "  --queue N      packets the bottleneck queue holds before it drops (default\n"
	        "                 %d; 0: unlimited); needs --bw-mbps\n"
	        "  --ecn-mark N   ECN (RFC 3168): the client asks for it (setting ecn = 1) and\n"
	        "                 the bottleneck marks an ECN-capable datagram CE when N or\n"
	        "                 more wait ahead of it, as an AQM does, instead of letting the\n"
	        "                 queue fill and drop; needs --bw-mbps\n"
	        "  --seed N       seed of the network, the hosts' secrets and the payload\n"
	        "                 (default 1); the same seed gives the same run\n"
	        "  --set NAME=VALUE  a stack setting for both hosts, as synack serve --set\n"
	        "                 (e.g. congestion_control=reno, hystart=0); up to %d\n"
	        "  --json         every trace record as a JSON line (as synack demo --json),\n"
	        "                 then one summary line:\n"
	        "                 {\"ev\":\"summary\",\"ok\":..,\"bytes\":..,\"retransmits\":..,\n"
	        "                  \"virtual_ms\":..,\"goodput_mbps\":..,...}\n"
	        "  --svg FILE     also draw the run: the ladder of its segments (the first and\n"
	        "                 the last ones of a long run), the client's sequence numbers,\n"
	        "                 ACKs and receive window against time, and its cwnd\n"
	        "  --html FILE    also write one self-contained page with those pictures and a\n"
	        "                 table of the events\n"
	        "  --pcap FILE    also capture every datagram of both hosts, stamped with the\n"
	        "                 virtual time, as a pcap file (raw IPv4)\n"
	        "\n"
	        "virtual_ms runs from connect() until the server reads the end of the stream;\n"
	        "goodput is the bytes received over that time (null in --json when no time\n"
	        "passed: --delay-ms 0 without a bottleneck or loss).  Exit status: 0 when\n"
	        "every byte arrived intact and both ends reached CLOSED, 1 when not, 2 on bad\n"
	        "usage.\n",
	        TRANSFER_DEFAULT_BYTES, TRANSFER_DEFAULT_DELAY_MS, TRANSFER_MAX_DELAY_MS,
	        TRANSFER_MIN_BW_MBPS, TRANSFER_MAX_BW_MBPS, TRANSFER_DEFAULT_QUEUE,
	        TRANSFER_MAX_SETS);
}

/* The impairment flags (impair_flags.h) this command takes. */
static int transfer_impair(void *opts, int argc, char **argv, int *i, char *err, size_t errlen)
{
	struct transfer_opts *o = opts;
	const struct impair_flags imp = {
	    .loss = &o->loss,
	    .dup = &o->dup,
	    .reorder = &o->reorder,
	    .delay_ms = &o->delay_ms,
	    .max_ms = TRANSFER_MAX_DELAY_MS,
	    .bw_mbps = &o->bw_mbps,
	    .have_bw = &o->have_bw,
	    .queue_pkts = &o->queue_pkts,
	    .seed = &o->seed,
	};
	return impair_flags_parse(argc, argv, i, &imp, err, errlen);
}

/* --set NAME=VALUE: checked now on a scratch configuration, applied to
 * both hosts at setup. */
static int set_flag(void *opts, const char *flag, const char *val, char *err, size_t errlen)
{
	struct transfer_opts *o = opts;
	struct synack_config scratch;
	synack_config_default(&scratch);
	scratch.addr = CLIENT_ADDR;
	if (settings_parse(flag, val, &scratch, err, errlen) < 0 ||
	    synack_config_check(&scratch, err, errlen) != 0)
		return -1;
	if (o->nset == TRANSFER_MAX_SETS) {
		snprintf(err, errlen, "%s: at most %d settings", flag, TRANSFER_MAX_SETS);
		return -1;
	}
	o->set[o->nset++] = val;
	return 0;
}

#define O(n, k, f) CLI_OPT(struct transfer_opts, n, k, f)
static const struct cli_opt TRANSFER_FLAGS[] = {
    {O("--bytes", CLI_BYTES, bytes), .max = TRANSFER_MAX_BYTES},
    {O("--ecn-mark", CLI_I64, ecn_mark_pkts), .min = 1, .max = TRANSFER_MAX_QUEUE,
     .what = "a whole number of packets"},
    {O("--set", CLI_CUSTOM, set), .fn = set_flag},
    {O("--svg", CLI_PATH, svg)},
    {O("--html", CLI_PATH, html)},
    {O("--pcap", CLI_PATH, pcap)},
    {O("--json", CLI_SWITCH, json)},
};
#undef O

const struct cli_table transfer_cli = {
    CLI_ROWS(TRANSFER_FLAGS),
    .unknown = "unknown option",
    .hint = "(synack transfer --help)",
    .help = CLI_SEEN(struct transfer_opts, help),
    .more = transfer_impair,
};

int transfer_parse_args(int argc, char **argv, struct transfer_opts *o, char *err, size_t errlen)
{
	if (cli_parse(&transfer_cli, o, argc, argv, err, errlen) < 0)
		return -1;
	int have_bw = o->have_bw;
	if (o->queue_pkts >= 0 && !have_bw) {
		snprintf(err, errlen,
		         "--queue needs --bw-mbps (a queue only fills behind a "
		         "bottleneck)");
		return -1;
	}
	if (o->ecn_mark_pkts >= 0 && !have_bw) {
		snprintf(err, errlen,
		         "--ecn-mark needs --bw-mbps (a queue only fills behind a "
		         "bottleneck)");
		return -1;
	}
	return 0;
}

uint64_t transfer_step_cap(uint64_t bytes)
{
	/* A clean transfer takes about two steps per full segment (the data
	 * arriving, its ACK arriving); loss, duplication and timers add some.
	 * Fifty per 500 bytes leaves a wide margin and still ends a runaway. */
	return 1000000 + bytes / 10;
}

/* ------------------------------------------------------------------ */
/* The payload: a pseudo-random stream any offset of which is computable. */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void payload_fill(uint64_t key, uint64_t off, uint8_t *buf, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint64_t pos = off + i;
		uint64_t w = mix64(key + (pos >> 3) * 0x9e3779b97f4a7c15ull);
		for (unsigned b = (unsigned)(pos & 7); b < 8 && i < n; b++)
			buf[i++] = (uint8_t)(w >> (8 * b));
	}
}

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* ------------------------------------------------------------------ */
/* The run.                                                            */

struct xfer {
	const struct transfer_opts *o;
	struct transfer_result *res;
	FILE *json; /* trace lines go here with --json */
	struct synack_config cfg[2];
	struct synack_stack *st[2];
	struct synack_sim *sim;
	int hid[2];
	int lsock, csock, ssock;
	int connected, client_closed, server_closed, failed;
	int orphan_done; /* the closed client's connection has all its data acknowledged */
	uint64_t key;
	uint64_t cap_steps;
	int last[2]; /* last state of each host's connection, -1 before any */
	size_t plen[2];
	/* The client's pending output: stream bytes [out_off, out_off + out_len). */
	uint64_t out_off;
	size_t out_len;
	uint8_t out[CHUNK], in[CHUNK], want[CHUNK];
	/* --svg, --html, --pcap: the capture, and what the pictures draw. */
	struct capture *cap;
	int pictures;
	struct render_log log;
	int log_full;
	struct picture_cwnd *cw;
	size_t ncw, capcw;
	/* Retransmitted and spurious bytes of the client's data (the tap). */
	struct rtx_meter meter;
};

static uint64_t now(const struct xfer *x)
{
	return synack_sim_now(x->sim);
}

static void fail(struct xfer *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct xfer *x, const char *fmt, ...)
{
	if (x->failed)
		return;
	x->failed = 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->res->error, sizeof(x->res->error), fmt, ap);
	va_end(ap);
}

/* A state change of a host's connection (the listener is left out). */
static void note_state(struct xfer *x, int h, const struct synack_trace *tr)
{
	struct transfer_result *r = x->res;
	char *p = r->path[h];
	size_t cap = sizeof(r->path[h]);
	size_t n = x->plen[h];
	int k;
	if (x->last[h] < 0)
		k = snprintf(p + n, cap - n, "%s>%s", synack_state_name(tr->from),
		             synack_state_name(tr->to));
	else if (x->last[h] != tr->from)
		k = snprintf(p + n, cap - n, "~%s>%s", synack_state_name(tr->from),
		             synack_state_name(tr->to));
	else
		k = snprintf(p + n, cap - n, ">%s", synack_state_name(tr->to));
	if (k > 0)
		n += (size_t)k;
	x->plen[h] = n < cap ? n : cap - 1;
	x->last[h] = tr->to;
	r->from[h] = tr->from;
	r->state[h] = tr->to;
	r->cause[h] = tr->cause;
}

/* Keeps an event for the pictures, up to their cap. */
static void keep_event(struct xfer *x, const struct render_event *e)
{
	if (!x->pictures || x->log_full)
		return;
	struct render_event *k = x->log.n < TRANSFER_PICTURE_MAX_EVENTS
	                             ? render_log_add(&x->log, e->t_us, e->host, e->kind)
	                             : NULL;
	if (!k) {
		x->log_full = 1;
		return;
	}
	uint64_t order = k->order;
	*k = *e;
	k->order = order;
}

/* Moves every trace record of both stacks out of their rings: to the output
 * with --json, to the pictures, and into the state paths. */
static void drain(struct xfer *x)
{
	struct synack_trace buf[TRACE_BATCH];
	for (int h = 0; h < 2; h++) {
		size_t n;
		while ((n = synack_trace_read(x->st[h], buf, TRACE_BATCH)) > 0) {
			for (size_t i = 0; i < n; i++) {
				const struct synack_trace *tr = &buf[i];
				if (x->json || x->pictures) {
					struct render_event e;
					memset(&e, 0, sizeof(e));
					e.t_us = tr->t_us;
					e.host = h;
					e.kind = RENDER_TRACE;
					e.tr = *tr;
					if (x->json)
						render_json_event(x->json, &e);
					keep_event(x, &e);
				}
				if (tr->kind == SYNACK_TRACE_STATE && tr->remote.addr != 0)
					note_state(x, h, tr);
			}
		}
	}
}

/* An application call, as a JSON line between the records before it and
 * the records it caused (callers drain before and after). */
static void app_event(struct xfer *x, int h, int s, const char *call, long ret,
                      const struct synack_endpoint *local, const struct synack_endpoint *remote)
{
	if (!x->json && !x->pictures)
		return;
	struct render_event e;
	memset(&e, 0, sizeof(e));
	e.t_us = now(x);
	e.host = h;
	e.kind = RENDER_APP;
	e.call = call;
	e.ret = ret;
	if (local)
		e.local = *local;
	else
		synack_getsockname(x->st[h], s, &e.local);
	if (remote)
		e.remote = *remote;
	else
		synack_getpeername(x->st[h], s, &e.remote);
	if (x->json)
		render_json_event(x->json, &e);
	keep_event(x, &e);
}

static void app_close(struct xfer *x, int h, int *s)
{
	struct synack_endpoint l = {.addr = 0, .port = 0}, p = {.addr = 0, .port = 0};
	synack_getsockname(x->st[h], *s, &l);
	synack_getpeername(x->st[h], *s, &p);
	drain(x);
	int r = synack_close(x->st[h], *s);
	app_event(x, h, *s, "close", r, &l, &p);
	drain(x);
	*s = -1;
}

/* A sample of the client's cwnd for the pictures, when it changed. */
static void keep_cwnd(struct xfer *x, uint32_t cwnd, uint32_t ssthresh)
{
	if (!x->pictures)
		return;
	struct picture_cwnd *last = x->ncw ? &x->cw[x->ncw - 1] : NULL;
	if (last && last->cwnd == cwnd && last->ssthresh == ssthresh)
		return;
	if (x->ncw == x->capcw) {
		size_t cap = x->capcw ? x->capcw * 2 : 256;
		if (cap > TRANSFER_PICTURE_MAX_EVENTS)
			return;
		struct picture_cwnd *n = realloc(x->cw, cap * sizeof(*n));
		if (!n)
			return;
		x->cw = n;
		x->capcw = cap;
	}
	x->cw[x->ncw++] = (struct picture_cwnd){now(x), cwnd, ssthresh};
}

static void keep_sample(struct xfer *x, uint32_t cwnd, uint32_t ssthresh)
{
	struct transfer_result *r = x->res;
	r->cwnd = cwnd;
	r->ssthresh = ssthresh;
	if (cwnd > r->cwnd_max)
		r->cwnd_max = cwnd;
	keep_cwnd(x, cwnd, ssthresh);
}

static void sample_info(struct xfer *x)
{
	struct synack_tcp_info ti;
	struct transfer_result *r = x->res;
	if (synack_tcp_info(x->st[DEMO_CLIENT], x->csock, &ti) != 0)
		return;
	r->info_seen = 1;
	r->ecn_ok = (ti.ecn & SYNACK_TCPI_ECN_OK) != 0;
	r->mss = ti.mss;
	r->delivery_rate = ti.delivery_rate;
	keep_sample(x, ti.cwnd, ti.ssthresh);
}

struct orphan_find {
	struct synack_endpoint local;
	int found;
	struct synack_conn c;
};

static void orphan_fn(void *ctx, const struct synack_conn *c)
{
	struct orphan_find *f = ctx;
	if (c->local.port == f->local.port && c->local.addr == f->local.addr && c->remote.port) {
		f->found = 1;
		f->c = *c;
	}
}

/*
 * The client closes as soon as the last byte is in its send buffer, which
 * autotuning makes large: its connection then sends on, orphaned, until
 * the server has everything.  Its congestion state is followed through
 * the connection listing until then (FIN_WAIT_1 ends when the data and
 * the FIN are acknowledged), so the summary's cwnd and ssthresh are those
 * at the end of sending, not at the close.
 */
static void sample_orphan(struct xfer *x)
{
	if (!x->client_closed || x->orphan_done)
		return;
	struct orphan_find f = {.local = x->res->client};
	synack_conns(x->st[DEMO_CLIENT], orphan_fn, &f);
	if (!f.found || f.c.cwnd == 0 ||
	    (f.c.state != SYNACK_FIN_WAIT_1 && f.c.state != SYNACK_CLOSING)) {
		x->orphan_done = 1;
		return;
	}
	keep_sample(x, f.c.cwnd, f.c.ssthresh);
}

/* The client: once connected, sends until the send buffer is full; once
 * everything is sent, closes. */
static void client_poll(struct xfer *x)
{
	struct synack_stack *st = x->st[DEMO_CLIENT];
	struct transfer_result *r = x->res;
	if (x->csock < 0)
		return;
	uint32_t ev = synack_events(st, x->csock);
	if (ev & SYNACK_POLLERR) {
		drain(x);
		int e = synack_socket_error(st, x->csock);
		app_event(x, DEMO_CLIENT, x->csock, "so_error", e, NULL, NULL);
		fail(x, "client: %s: %s", x->connected ? "connection failed" : "connect failed",
		     synack_strerror(e));
		app_close(x, DEMO_CLIENT, &x->csock);
		return;
	}
	if (!x->connected) {
		if (!(ev & SYNACK_POLLOUT))
			return;
		x->connected = 1;
		synack_getsockname(st, x->csock, &r->client);
	}
	sample_info(x);
	while ((ev & SYNACK_POLLOUT) && r->bytes_sent < r->bytes) {
		if (r->bytes_sent == x->out_off + x->out_len) {
			uint64_t left = r->bytes - r->bytes_sent;
			x->out_off = r->bytes_sent;
			x->out_len = left < CHUNK ? (size_t)left : CHUNK;
			payload_fill(x->key, x->out_off, x->out, x->out_len);
		}
		size_t at = (size_t)(r->bytes_sent - x->out_off);
		size_t len = x->out_len - at;
		drain(x);
		ssize_t n = synack_send(st, x->csock, x->out + at, len);
		if (n == -EAGAIN)
			break;
		app_event(x, DEMO_CLIENT, x->csock, "send", (long)n, NULL, NULL);
		drain(x);
		if (n < 0) {
			fail(x, "client: send: %s", synack_strerror((int)n));
			app_close(x, DEMO_CLIENT, &x->csock);
			return;
		}
		r->hash_sent = fnv1a(r->hash_sent, x->out + at, (size_t)n);
		r->bytes_sent += (uint64_t)n;
	}
	if (r->bytes_sent == r->bytes) {
		sample_info(x);
		app_close(x, DEMO_CLIENT, &x->csock);
		x->client_closed = 1;
	}
}

static void check_bytes(struct xfer *x, const uint8_t *got, size_t n)
{
	struct transfer_result *r = x->res;
	if (r->first_bad != UINT64_MAX)
		return;
	if (r->bytes_received + n > r->bytes) {
		r->first_bad = r->bytes;
		return;
	}
	payload_fill(x->key, r->bytes_received, x->want, n);
	if (memcmp(got, x->want, n) == 0)
		return;
	size_t i = 0;
	while (got[i] == x->want[i])
		i++;
	r->first_bad = r->bytes_received + i;
}

/* The server: accepts one connection, stops listening, reads until end of
 * stream and closes. */
static void server_poll(struct xfer *x)
{
	struct synack_stack *st = x->st[DEMO_SERVER];
	struct transfer_result *r = x->res;
	if (x->lsock >= 0 && (synack_events(st, x->lsock) & SYNACK_POLLIN)) {
		drain(x);
		int a = synack_accept(st, x->lsock, NULL);
		if (a != -EAGAIN)
			app_event(x, DEMO_SERVER, a >= 0 ? a : x->lsock, "accept", a, NULL, NULL);
		drain(x);
		if (a >= 0) {
			x->ssock = a;
			app_close(x, DEMO_SERVER, &x->lsock);
		} else if (a != -EAGAIN) {
			fail(x, "server: accept: %s", synack_strerror(a));
			return;
		}
	}
	if (x->ssock < 0)
		return;
	uint32_t ev = synack_events(st, x->ssock);
	if (!(ev & (SYNACK_POLLIN | SYNACK_POLLERR | SYNACK_POLLHUP | SYNACK_POLLRDHUP)))
		return;
	for (;;) {
		drain(x);
		ssize_t n = synack_recv(st, x->ssock, x->in, sizeof(x->in), 0);
		if (n == -EAGAIN)
			break;
		app_event(x, DEMO_SERVER, x->ssock, "recv", (long)n, NULL, NULL);
		drain(x);
		if (n < 0) {
			fail(x, "server: recv: %s", synack_strerror((int)n));
			app_close(x, DEMO_SERVER, &x->ssock);
			return;
		}
		if (n == 0) {
			r->t_eof_us = now(x);
			r->eof = 1;
			app_close(x, DEMO_SERVER, &x->ssock);
			x->server_closed = 1;
			return;
		}
		check_bytes(x, x->in, (size_t)n);
		r->hash_received = fnv1a(r->hash_received, x->in, (size_t)n);
		r->bytes_received += (uint64_t)n;
	}
}

/* One step of the simulation; SYNACK_NEVER when nothing is left or a cap
 * was hit. */
static uint64_t step(struct xfer *x)
{
	struct transfer_result *r = x->res;
	synack_sim_flush(x->sim);
	uint64_t next = synack_sim_next_event(x->sim);
	if (next == SYNACK_NEVER)
		return SYNACK_NEVER;
	if (next > TRANSFER_CAP_US) {
		r->capped = 1;
		fail(x,
		     "the run hit its cap of %llu hours of virtual time (too many bytes for "
		     "the bottleneck, or a stack that never stops?)",
		     TRANSFER_CAP_US / 3600000000ull);
		return SYNACK_NEVER;
	}
	if (r->steps >= x->cap_steps) {
		r->capped = 1;
		fail(x, "the run hit its cap of %llu simulation steps (a stack that never stops?)",
		     (unsigned long long)x->cap_steps);
		return SYNACK_NEVER;
	}
	uint64_t t = synack_sim_step(x->sim);
	r->steps++;
	drain(x);
	if (x->pictures && x->csock >= 0)
		sample_info(x);
	sample_orphan(x);
	return t;
}

static int setup(struct xfer *x)
{
	const struct transfer_opts *o = x->o;
	struct transfer_result *r = x->res;
	for (int h = 0; h < 2; h++) {
		struct synack_config *c = &x->cfg[h];
		synack_config_default(c);
		char ignored[8];
		for (int i = 0; i < o->nset; i++) /* checked by transfer_parse_args */
			(void)settings_parse("--set", o->set[i], c, ignored, sizeof(ignored));
		c->addr = h == DEMO_CLIENT ? CLIENT_ADDR : SERVER_ADDR;
		cli_derive_secret(o->seed, h, c->secret);
		c->trace_capacity = TRACE_CAPACITY;
		/* --ecn-mark: the client asks for ECN; the server's default
		 * (ecn = 2) accepts. */
		if (o->ecn_mark_pkts >= 0 && h == DEMO_CLIENT)
			c->ecn = 1;
		char err[160] = "";
		if (synack_config_check(c, err, sizeof(err)) != 0) {
			snprintf(r->error, sizeof(r->error), "%s", err[0] ? err : "bad setting");
			return -EINVAL;
		}
		int e = 0;
		x->st[h] = synack_stack_new(c, &e);
		if (!x->st[h]) {
			snprintf(r->error, sizeof(r->error), "cannot create a stack: %s",
			         synack_strerror(e));
			return e ? e : -ENOMEM;
		}
	}
	x->sim = synack_sim_new(o->seed);
	if (!x->sim) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return -ENOMEM;
	}
	x->hid[DEMO_CLIENT] = synack_sim_add_host(x->sim, x->st[DEMO_CLIENT], "client");
	x->hid[DEMO_SERVER] = synack_sim_add_host(x->sim, x->st[DEMO_SERVER], "server");
	if (x->hid[0] < 0 || x->hid[1] < 0) {
		snprintf(r->error, sizeof(r->error), "cannot attach the hosts");
		return -ENOMEM;
	}
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.loss = o->loss;
	p.dup = o->dup;
	p.reorder = o->reorder;
	p.delay_us = (uint32_t)(o->delay_ms * 1000);
	if (o->bw_mbps > 0) {
		p.rate_bps = (uint64_t)(o->bw_mbps * 1e6 + 0.5);
		p.queue_pkts =
		    (uint32_t)(o->queue_pkts >= 0 ? o->queue_pkts : TRANSFER_DEFAULT_QUEUE);
		if (o->ecn_mark_pkts >= 0)
			p.ecn_mark_pkts = (uint32_t)o->ecn_mark_pkts;
	}
	if (synack_sim_set_path(x->sim, x->hid[0], x->hid[1], &p) != 0 ||
	    synack_sim_set_path(x->sim, x->hid[1], x->hid[0], &p) != 0) {
		snprintf(r->error, sizeof(r->error), "bad path impairments");
		return -EINVAL;
	}
	if (o->pcap || x->pictures) {
		char err[200];
		x->cap = capture_open(o->pcap, x->pictures, err, sizeof(err));
		if (!x->cap) {
			snprintf(r->error, sizeof(r->error), "%s", err);
			return -EIO;
		}
	}
	rtx_meter_init(&x->meter, x->hid[DEMO_CLIENT], x->hid[DEMO_SERVER],
	               x->cap ? capture_tap_fn : NULL, x->cap);
	synack_sim_set_tap(x->sim, rtx_meter_tap, &x->meter);
	/* The payload's own key, apart from the network's and the hosts'. */
	x->key = mix64(o->seed ^ 0x7061796c6f616421ull);
	return 0;
}

/* Opens the listener and starts the client's connect. */
static void start(struct xfer *x)
{
	struct transfer_result *r = x->res;
	struct synack_stack *ss = x->st[DEMO_SERVER], *cs = x->st[DEMO_CLIENT];
	struct synack_endpoint ep = {.addr = SERVER_ADDR, .port = SERVER_PORT};
	r->server = ep;
	r->client.addr = CLIENT_ADDR;
	x->lsock = synack_socket(ss);
	int e = x->lsock < 0 ? x->lsock : synack_bind(ss, x->lsock, &ep);
	if (e == 0)
		e = synack_listen(ss, x->lsock, 16);
	if (x->lsock >= 0)
		app_event(x, DEMO_SERVER, x->lsock, "listen", e, &ep, NULL);
	drain(x);
	if (e != 0) {
		fail(x, "server: listen: %s", synack_strerror(e));
		return;
	}
	x->csock = synack_socket(cs);
	if (x->csock < 0) {
		fail(x, "client: socket: %s", synack_strerror(x->csock));
		return;
	}
	r->t_connect_us = now(x);
	e = synack_connect(cs, x->csock, &ep);
	app_event(x, DEMO_CLIENT, x->csock, "connect", e, NULL, &ep);
	drain(x);
	if (e != -EINPROGRESS && e != 0)
		fail(x, "client: connect: %s", synack_strerror(e));
	synack_getsockname(cs, x->csock, &r->client);
}

static const char *state_str(int s)
{
	return s < 0 ? "none" : synack_state_name(s);
}

/* What the run shows, once it is over: the verdict and the numbers. */
static void conclude(struct xfer *x)
{
	struct transfer_result *r = x->res;
	r->t_end_us = now(x);
	for (int h = 0; h < 2; h++)
		synack_stats(x->st[h], &r->stats[h]);
	synack_sim_counters(x->sim, x->hid[0], x->hid[1], &r->net[0]);
	synack_sim_counters(x->sim, x->hid[1], x->hid[0], &r->net[1]);
	r->retransmits = r->stats[DEMO_CLIENT].RetransSegs;
	r->rto_expiries = r->stats[DEMO_CLIENT].Timeouts;
	r->fast_retransmits = r->stats[DEMO_CLIENT].FastRetrans;
	r->win_probes = r->stats[DEMO_CLIENT].WinProbes;
	r->retrans_bytes = x->meter.retrans_bytes;
	r->spurious_bytes = x->meter.spurious_bytes;
	uint64_t t_done = r->eof ? r->t_eof_us : r->t_end_us;
	uint64_t dur = t_done > r->t_connect_us ? t_done - r->t_connect_us : 0;
	r->virtual_ms = (double)dur / 1000.0;
	/* With no delay and no bottleneck no virtual time may pass at all, and
	 * the goodput is infinite: NAN says "no value" to the reports. */
	r->goodput_mbps =
	    dur ? (double)r->bytes_received * 8.0 / (double)dur : (r->bytes_received ? NAN : 0.0);

	if (!x->failed && !x->server_closed)
		fail(x,
		     "the network went quiet before the server saw the end of the stream "
		     "(%llu of %llu bytes received; client %s by %s, server %s)",
		     (unsigned long long)r->bytes_received, (unsigned long long)r->bytes,
		     state_str(r->state[DEMO_CLIENT]),
		     r->cause[DEMO_CLIENT] < 0 ? "nothing"
		                               : synack_cause_name(r->cause[DEMO_CLIENT]),
		     state_str(r->state[DEMO_SERVER]));
	if (!x->failed && r->first_bad != UINT64_MAX)
		fail(x, "the data differs from what was sent, from byte %llu on",
		     (unsigned long long)r->first_bad);
	if (!x->failed && (r->bytes_received != r->bytes || r->hash_received != r->hash_sent))
		fail(x, "received %llu bytes (FNV-1a %016llx), sent %llu (FNV-1a %016llx)",
		     (unsigned long long)r->bytes_received, (unsigned long long)r->hash_received,
		     (unsigned long long)r->bytes_sent, (unsigned long long)r->hash_sent);
	/* Both ends must reach CLOSED.  The orderly way: the server (the
	 * passive closer) from LAST_ACK when the ACK of its FIN arrives, the
	 * client (the active closer) from TIME_WAIT when it expires.  Heavy
	 * loss can end either otherwise with every byte delivered and both
	 * applications done: the server's FIN retransmissions backed off past
	 * the client's TIME_WAIT and a RST ends its LAST_ACK, or a RST the
	 * closed server sends in answer to a stray duplicate ends the client's
	 * TIME_WAIT (RFC 1337's TIME-WAIT assassination, which RFC 9293
	 * 3.10.7.4 and Linux allow).  Those count as done; the report and
	 * clean_close say how each end closed. */
	for (int h = 0; h < 2; h++) {
		int want_from = h == DEMO_CLIENT ? SYNACK_TIME_WAIT : SYNACK_LAST_ACK;
		int want_cause =
		    h == DEMO_CLIENT ? SYNACK_CAUSE_TIME_WAIT_EXPIRED : SYNACK_CAUSE_RCV_ACK_OF_FIN;
		r->orderly[h] = r->state[h] == SYNACK_CLOSED && r->from[h] == want_from &&
		                r->cause[h] == want_cause;
		if (!x->failed && r->state[h] != SYNACK_CLOSED)
			fail(x, "the %s's connection ended in %s, not CLOSED", H(h),
			     r->state[h] < 0 ? "no state" : synack_state_name(r->state[h]));
	}
	for (int h = 0; h < 2 && !x->failed; h++)
		if (r->stats[h].TraceLost)
			fail(x, "the %s's trace ring overflowed: %llu records lost", H(h),
			     (unsigned long long)r->stats[h].TraceLost);
	r->ok = !x->failed;
}

/* ------------------------------------------------------------------ */
/* Reports.                                                            */

static void json_summary(const struct transfer_opts *o, const struct transfer_result *r, FILE *out)
{
	fprintf(out,
	        "{\"ev\":\"summary\",\"ok\":%s,\"bytes\":%llu,\"retransmits\":%llu,"
	        "\"virtual_ms\":%.3f,\"goodput_mbps\":",
	        r->ok ? "true" : "false", (unsigned long long)r->bytes,
	        (unsigned long long)r->retransmits, r->virtual_ms);
	if (isnan(r->goodput_mbps))
		fputs("null", out);
	else
		fprintf(out, "%.6f", r->goodput_mbps);
	fprintf(out,
	        ",\"rto_expiries\":%llu,\"fast_retransmits\":%llu,\"win_probes\":%llu,"
	        "\"retrans_bytes\":%llu,\"spurious_bytes\":%llu,"
	        "\"cwnd\":%lu,\"cwnd_max\":%lu,\"ssthresh\":%lu,\"mss\":%lu",
	        (unsigned long long)r->rto_expiries, (unsigned long long)r->fast_retransmits,
	        (unsigned long long)r->win_probes, (unsigned long long)r->retrans_bytes,
	        (unsigned long long)r->spurious_bytes, (unsigned long)r->cwnd,
	        (unsigned long)r->cwnd_max, (unsigned long)r->ssthresh, (unsigned long)r->mss);
	fprintf(out, ",\"delivery_rate_mbps\":%.6f", (double)r->delivery_rate * 8 / 1e6);
	fprintf(out,
	        ",\"bytes_sent\":%llu,\"bytes_received\":%llu,\"hash_sent\":\"%016llx\","
	        "\"hash_received\":\"%016llx\"",
	        (unsigned long long)r->bytes_sent, (unsigned long long)r->bytes_received,
	        (unsigned long long)r->hash_sent, (unsigned long long)r->hash_received);
	for (int h = 0; h < 2; h++) {
		fprintf(out, ",\"%s_state\":\"%s\",\"%s_cause\":\"%s\",\"%s_states\":", H(h),
		        state_str(r->state[h]), H(h),
		        r->cause[h] < 0 ? "none" : synack_cause_name(r->cause[h]), H(h));
		render_json_string(out, r->path[h]);
	}
	fprintf(out, ",\"clean_close\":%s", r->orderly[0] && r->orderly[1] ? "true" : "false");
	fprintf(out,
	        ",\"seed\":%llu,\"end_ms\":%.3f,\"datagrams\":%llu,\"lost\":%llu,"
	        "\"queue_drops\":%llu,\"steps\":%llu,\"error\":",
	        (unsigned long long)o->seed, (double)r->t_end_us / 1000.0,
	        (unsigned long long)(r->net[0].sent + r->net[1].sent),
	        (unsigned long long)(r->net[0].lost + r->net[1].lost),
	        (unsigned long long)(r->net[0].queue_drops + r->net[1].queue_drops),
	        (unsigned long long)r->steps);
	if (r->ok)
		fputs("null", out);
	else
		render_json_string(out, r->error);
	/* Only with --ecn-mark, so that every other summary stays as it was. */
	if (o->ecn_mark_pkts >= 0)
		fprintf(out, ",\"ecn\":%s,\"ce_marked\":%llu", r->ecn_ok ? "true" : "false",
		        (unsigned long long)(r->net[0].ce_marked + r->net[1].ce_marked));
	fputs("}\n", out);
}

static void describe_network(const struct transfer_opts *o, FILE *out)
{
	fprintf(out, "network, each way: %lld ms delay", (long long)o->delay_ms);
	if (o->loss > 0)
		fprintf(out, ", loss %g", o->loss);
	if (o->dup > 0)
		fprintf(out, ", duplication %g", o->dup);
	if (o->reorder > 0)
		fprintf(out, ", reordering %g", o->reorder);
	if (o->loss == 0 && o->dup == 0 && o->reorder == 0)
		fputs(", no loss", out);
	if (o->bw_mbps > 0) {
		long long q = o->queue_pkts >= 0 ? o->queue_pkts : TRANSFER_DEFAULT_QUEUE;
		fprintf(out, ",\n                   a %g Mbit/s bottleneck with ", o->bw_mbps);
		if (q)
			fprintf(out, "a %lld-packet queue", q);
		else
			fputs("an unlimited queue", out);
		if (o->ecn_mark_pkts >= 0)
			fprintf(out,
			        ",\n                   marking ECN-capable datagrams CE at %lld "
			        "waiting",
			        (long long)o->ecn_mark_pkts);
		fputs("\n", out);
	} else {
		fputs(", no bottleneck\n", out);
	}
}

static void human_report(const struct transfer_opts *o, const struct transfer_result *r, FILE *out)
{
	char a[32], b[32];
	fprintf(out, "synack transfer: %llu bytes from %s to %s (seed %llu)\n",
	        (unsigned long long)r->bytes, synack_endpoint_str(&r->client, a, sizeof(a)),
	        synack_endpoint_str(&r->server, b, sizeof(b)), (unsigned long long)o->seed);
	describe_network(o, out);
	fputc('\n', out);
	fprintf(out, "  sent               %llu bytes, FNV-1a 64 %016llx\n",
	        (unsigned long long)r->bytes_sent, (unsigned long long)r->hash_sent);
	fprintf(out, "  received           %llu bytes, FNV-1a 64 %016llx (%s)\n",
	        (unsigned long long)r->bytes_received, (unsigned long long)r->hash_received,
	        r->bytes_received == r->bytes && r->hash_received == r->hash_sent &&
	                r->first_bad == UINT64_MAX
	            ? "identical"
	            : "DIFFERENT");
	fprintf(out, "  virtual duration   %.3f ms (connect to %s)\n", r->virtual_ms,
	        r->eof ? "the server's end of stream"
	               : "the end of the run; the stream never ended");
	if (isnan(r->goodput_mbps))
		fputs("  goodput            infinite (no virtual time passed: no delay, no "
		      "bottleneck)\n",
		      out);
	else
		fprintf(out,
		        r->goodput_mbps >= 1 ? "  goodput            %.3f Mbit/s\n"
		                             : "  goodput            %.6f Mbit/s\n",
		        r->goodput_mbps);
	fprintf(out, "  retransmits        %llu segments (client RetransSegs)\n",
	        (unsigned long long)r->retransmits);
	fprintf(out,
	        "  retransmitted      %llu bytes, %llu of them spurious (the earlier copy "
	        "arrived too)\n",
	        (unsigned long long)r->retrans_bytes, (unsigned long long)r->spurious_bytes);
	fprintf(out, "  rto expiries       %llu (client Timeouts)\n",
	        (unsigned long long)r->rto_expiries);
	fprintf(out, "  fast retransmits   %llu (client FastRetrans)\n",
	        (unsigned long long)r->fast_retransmits);
	if (r->info_seen) {
		fprintf(out,
		        "  cwnd               %lu bytes at the end of sending (%.1f segments of "
		        "%lu), at most %lu\n",
		        (unsigned long)r->cwnd, r->mss ? (double)r->cwnd / r->mss : 0.0,
		        (unsigned long)r->mss, (unsigned long)r->cwnd_max);
		if (r->ssthresh == UINT32_MAX)
			fputs("  ssthresh           infinite (never set by a loss)\n", out);
		else
			fprintf(out, "  ssthresh           %lu bytes\n",
			        (unsigned long)r->ssthresh);
		fprintf(out,
		        "  delivery rate      %.3f Mbit/s (the client's last sample at the end of "
		        "sending)\n",
		        (double)r->delivery_rate * 8 / 1e6);
	} else {
		fputs("  cwnd               unknown (the client never connected)\n", out);
	}
	for (int h = 0; h < 2; h++) {
		fprintf(out, "  %-18s %s", H(h), state_str(r->state[h]));
		if (r->cause[h] >= 0)
			fprintf(out, " [%s]", synack_cause_name(r->cause[h]));
		if (r->state[h] == SYNACK_CLOSED && !r->orderly[h]) {
			if (r->from[h] == SYNACK_TIME_WAIT && r->cause[h] == SYNACK_CAUSE_RCV_RST)
				fputs(" (TIME_WAIT cut short by the peer's RST, RFC 1337)", out);
			else
				fprintf(out, " (not the orderly end: from %s)",
				        synack_state_name(r->from[h]));
		}
		fprintf(out, "\n  %-18s %s\n", "", r->path[h][0] ? r->path[h] : "(no states)");
	}
	fprintf(
	    out,
	    "  network            %llu datagrams, %llu lost (%llu of them at a full queue), %llu "
	    "duplicated\n",
	    (unsigned long long)(r->net[0].sent + r->net[1].sent),
	    (unsigned long long)(r->net[0].lost + r->net[1].lost),
	    (unsigned long long)(r->net[0].queue_drops + r->net[1].queue_drops),
	    (unsigned long long)(r->net[0].duplicated + r->net[1].duplicated));
	if (o->ecn_mark_pkts >= 0)
		fprintf(out, "  ecn                %llu datagrams marked CE, client ECN %s\n",
		        (unsigned long long)(r->net[0].ce_marked + r->net[1].ce_marked),
		        r->ecn_ok ? "negotiated" : "not negotiated");
	fprintf(out, "  run ended at       %.3f ms of virtual time, %llu steps\n",
	        (double)r->t_end_us / 1000.0, (unsigned long long)r->steps);
	if (r->ok)
		fputs("\nok\n", out);
	else
		fprintf(out, "\nFAILED: %s\n", r->error);
}

/* --svg and --html: the ladder, the sequence graph and the cwnd graph. */
static int write_pictures(struct xfer *x)
{
	const struct transfer_opts *o = x->o;
	struct transfer_result *r = x->res;
	if (!x->pictures)
		return 0;
	render_log_sort(&x->log);
	int host_of_sim[2];
	host_of_sim[x->hid[DEMO_CLIENT]] = DEMO_CLIENT;
	host_of_sim[x->hid[DEMO_SERVER]] = DEMO_SERVER;
	capture_mark_lost(x->cap, &x->log, host_of_sim, 2);
	char title[160], desc[160];
	snprintf(title, sizeof(title), "synack transfer: %llu bytes (seed %llu)",
	         (unsigned long long)o->bytes, (unsigned long long)o->seed);
	snprintf(desc, sizeof(desc),
	         "%lld ms each way, loss %g, duplication %g, reordering %g, bottleneck %g Mbit/s "
	         "(0: none); %llu retransmissions",
	         (long long)o->delay_ms, o->loss, o->dup, o->reorder, o->bw_mbps,
	         (unsigned long long)r->retransmits);
	struct picture p = {
	    .log = &x->log,
	    .title = title,
	    .description = desc,
	    .client = r->client,
	    .server = r->server,
	    .graphs = 1,
	    .cwnd = x->cw,
	    .ncwnd = x->ncw,
	    .truncated = x->log_full,
	};
	char err[200];
	if (html_pictures(&p, o->svg, o->html, err, sizeof(err)) != 0) {
		snprintf(r->error, sizeof(r->error), "%s", err);
		return -1;
	}
	return 0;
}

static void teardown(struct xfer *x)
{
	render_log_free(&x->log);
	free(x->cw);
	rtx_meter_fini(&x->meter);
	if (x->sim)
		synack_sim_free(x->sim);
	for (int h = 0; h < 2; h++)
		if (x->st[h])
			synack_stack_free(x->st[h]);
}

int transfer_run(const struct transfer_opts *o, FILE *out, struct transfer_result *res)
{
	memset(res, 0, sizeof(*res));
	res->bytes = o->bytes;
	res->first_bad = UINT64_MAX;
	res->hash_sent = res->hash_received = FNV_OFFSET;
	for (int h = 0; h < 2; h++)
		res->from[h] = res->state[h] = res->cause[h] = -1;
	if (!(o->loss >= 0 && o->loss <= 1 && o->dup >= 0 && o->dup <= 1 && o->reorder >= 0 &&
	      o->reorder <= 1) ||
	    o->bytes > TRANSFER_MAX_BYTES || o->delay_ms < 0 ||
	    o->delay_ms > TRANSFER_MAX_DELAY_MS ||
	    (o->bw_mbps != 0 &&
	     !(o->bw_mbps >= TRANSFER_MIN_BW_MBPS && o->bw_mbps <= TRANSFER_MAX_BW_MBPS)) ||
	    o->queue_pkts > TRANSFER_MAX_QUEUE || o->ecn_mark_pkts > TRANSFER_MAX_QUEUE) {
		snprintf(res->error, sizeof(res->error), "an option is out of range");
		return -EINVAL;
	}
	struct xfer *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return -ENOMEM;
	}
	x->o = o;
	x->res = res;
	x->json = o->json ? out : NULL;
	x->lsock = x->csock = x->ssock = -1;
	x->last[0] = x->last[1] = -1;
	x->cap_steps = transfer_step_cap(o->bytes);
	x->pictures = o->svg || o->html;
	render_log_init(&x->log);
	int rc = setup(x);
	if (rc == 0) {
		start(x);
		while (!x->failed) {
			client_poll(x);
			server_poll(x);
			if (x->failed || step(x) == SYNACK_NEVER)
				break;
		}
		conclude(x);
		if (out) {
			if (o->json)
				json_summary(o, res, out);
			else
				human_report(o, res, out);
		}
		if (write_pictures(x) != 0)
			rc = -EIO;
	}
	/* The tap writes no more once the run is over. */
	if (capture_close(x->cap, res->error, sizeof(res->error)) != 0 && rc == 0)
		rc = -EIO;
	teardown(x);
	free(x);
	return rc;
}
