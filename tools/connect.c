#include "connect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apps.h"
#include "cli.h"
#include "cli_parse.h"

#define CONNECT_CHUNK 65536
#define CONNECT_MAX_CLOSE_AFTER_MS 3600000
#define CONNECT_TRACE_CAPACITY 65536
#define CONNECT_MAX_TIMEOUT_MS 86400000 /* --connect-timeout-ms, --idle-timeout-ms: a day */

void connect_opts_default(struct connect_opts *o)
{
	memset(o, 0, sizeof(*o));
	net_opts_default(&o->net, "synack connect");
	o->close_after_ms = -1;
	o->connect_timeout_ms = -1;
	o->idle_timeout_ms = -1;
}

void connect_usage(FILE *out)
{
	fputs("usage: synack connect --dev NAME [--create] (--tap|--tun) --addr A.B.C.D/NN\n"
	      "                      [--addr 2001:db8::2/64] HOST:PORT|[ADDR6]:PORT\n"
	      "                      [--send FILE | --send-bytes N] [--output FILE]\n"
	      "                      [--wait-eof | --close-after-ms N] [--pcap FILE]\n"
	      "                      [--connect-timeout-ms T] [--idle-timeout-ms T] [--fastopen]\n",
	      out);
	net_synopsis(out, "                      ");
	fputs("\n"
	      "Connects from a synack stack on a TUN/TAP device to HOST:PORT, sends the\n"
	      "data while reading everything the peer sends, then closes:\n"
	      "  by default     shutdown(SHUT_WR) once all is sent (synack closes first),\n"
	      "                 read until the peer's FIN, close()\n"
	      "  --wait-eof     read until the peer's FIN first (the peer closes first),\n"
	      "                 send what is left, close()\n"
	      "  --close-after-ms N  once all is sent, wait N ms (still reading), close()\n"
	      "It waits until the connection is CLOSED or in TIME_WAIT.  Every state change\n"
	      "goes to stderr (state A -> B (cause)), then a summary line.\n"
	      "\n"
	      "  --send FILE      the bytes to send (a regular file, a pipe or a device;\n"
	      "                   a directory is refused before connecting)\n"
	      "  --send-bytes N   send N bytes of the pattern 00000000\\n00000001\\n... (units\n"
	      "                   as K, M, G, KiB, MiB, GiB)\n"
	      "  --output FILE    write what the peer sends here (default: only counted)\n"
	      "  --fastopen       TCP Fast Open (RFC 7413, TCP_FASTOPEN_CONNECT): the SYN asks\n"
	      "                   for a cookie, or with one (or --set fastopen=5) carries\n"
	      "                   the first data\n"
	      "  --connect-timeout-ms T  give up when the connection is not established\n"
	      "                   T after the SYN (default: when syn_retries run out);\n"
	      "                   exit status 3\n"
	      "  --idle-timeout-ms T  once established, abort the connection (RST) when no\n"
	      "                   byte was sent, received or acknowledged for T; exit status 4\n"
	      "                   (T in ms, or with a unit: ms, s, min, h; at most 24h)\n",
	      out);
	net_usage(out);
	fputs("\nExit status: 0 when all sent data was acknowledged and the peer's FIN\n"
	      "arrived; 1 on a connection error (ECONNREFUSED, ECONNRESET, ETIMEDOUT ...);\n"
	      "2 on bad usage (nothing was sent); 3 when --connect-timeout-ms ran out; 4 when\n"
	      "--idle-timeout-ms ran out.  SIGINT aborts the connection (RST) and exits 1.\n",
	      out);
}

/* The device, address, impairment and settings flags (net.c). */
static int connect_net(void *opts, int argc, char **argv, int *i, char *err, size_t errlen)
{
	return net_parse_flag(argc, argv, i, &((struct connect_opts *)opts)->net, err, errlen);
}

/* HOST:PORT, once; an argument starting with '-' is an unknown flag. */
static int connect_peer(void *opts, const char *a, char *err, size_t errlen)
{
	struct connect_opts *o = opts;
	if (a[0] == '-') {
		snprintf(err, errlen,
		         "unknown argument '%s' (synack connect --help lists the flags)", a);
		return -1;
	}
	if (o->have_peer) {
		snprintf(err, errlen, "one HOST:PORT only ('%s' is a second)", a);
		return -1;
	}
	if (synack_endpoint_parse(a, &o->peer) != 0 || !strchr(a, ':') || o->peer.port == 0 ||
	    cli_endpoint_addr_is_any(&o->peer)) {
		snprintf(err, errlen,
		         "'%s' is not HOST:PORT (an IPv4 address or a bracketed IPv6 one, "
		         "[2001:db8::1]:80, and a port in [1, 65535])",
		         a);
		return -1;
	}
	o->have_peer = 1;
	return 0;
}

/* --send FILE, --output FILE. */
static int file_flag(void *opts, const char *flag, const char *val, char *err, size_t errlen)
{
	struct connect_opts *o = opts;
	if (!*val) {
		snprintf(err, errlen, "%s: the file name is empty", flag);
		return -1;
	}
	*(strcmp(flag, "--send") == 0 ? &o->send_file : &o->output) = val;
	return 0;
}

/* --connect-timeout-ms, --idle-timeout-ms: a time of at least 1 ms. */
static int timeout_flag(void *opts, const char *flag, const char *val, char *err, size_t errlen)
{
	struct connect_opts *o = opts;
	uint64_t ms;
	if (cli_flag_time_ms(flag, val, CONNECT_MAX_TIMEOUT_MS, &ms, err, errlen) != 0)
		return -1;
	if (ms == 0) {
		snprintf(err, errlen, "%s: the time must be at least 1 ms", flag);
		return -1;
	}
	*(strcmp(flag, "--connect-timeout-ms") == 0 ? &o->connect_timeout_ms
	                                            : &o->idle_timeout_ms) = (int64_t)ms;
	return 0;
}

#define O(n, k, f) CLI_OPT(struct connect_opts, n, k, f)
static const struct cli_opt CONNECT_FLAGS[] = {
    {O("--send", CLI_CUSTOM, send_file), .fn = file_flag},
    {O("--send-bytes", CLI_BYTES, send_bytes), .max = 1ull << 40,
     .seen = CLI_SEEN(struct connect_opts, have_send_bytes)},
    {O("--output", CLI_CUSTOM, output), .fn = file_flag},
    {O("--close-after-ms", CLI_I64, close_after_ms), .max = CONNECT_MAX_CLOSE_AFTER_MS,
     .what = "a whole number of milliseconds"},
    {O("--connect-timeout-ms", CLI_CUSTOM, connect_timeout_ms), .fn = timeout_flag},
    {O("--idle-timeout-ms", CLI_CUSTOM, idle_timeout_ms), .fn = timeout_flag},
    {O("--wait-eof", CLI_SWITCH, wait_eof)},
    {O("--fastopen", CLI_SWITCH, fastopen)},
};
#undef O

const struct cli_table connect_cli = {
    CLI_ROWS(CONNECT_FLAGS),
    .unknown = "unknown argument",
    .hint = "(synack connect --help lists the flags)",
    .help = CLI_SEEN(struct connect_opts, help),
    .help_stops = 1,
    .positional = connect_peer,
    .more = connect_net,
};

int connect_parse_args(int argc, char **argv, struct connect_opts *o, char *err, size_t errlen)
{
	if (cli_parse(&connect_cli, o, argc, argv, err, errlen) < 0)
		return -1;
	if (o->help)
		return 0;
	if (net_check(&o->net, err, errlen) != 0)
		return -1;
	if (!o->have_peer) {
		snprintf(err, errlen, "HOST:PORT is required");
		return -1;
	}
	if (net_check_reach(&o->net, &o->peer, err, errlen) != 0)
		return -1;
	if (o->send_file && o->have_send_bytes) {
		snprintf(err, errlen, "--send and --send-bytes exclude each other");
		return -1;
	}
	if (o->wait_eof && o->close_after_ms >= 0) {
		snprintf(err, errlen, "--wait-eof and --close-after-ms exclude each other");
		return -1;
	}
	if (o->net.cfg.trace_capacity == 0) {
		snprintf(err, errlen,
		         "--set trace_capacity=0: synack connect follows its connection in the "
		         "trace, give it at least 1 entry");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

struct client {
	const struct connect_opts *o;
	struct net_env env;
	FILE *in, *out;
	int s; /* -1 once closed */
	struct synack_endpoint local;
	uint64_t sent, received;
	uint8_t *buf;
	size_t len, off; /* bytes read from the source, not yet accepted by send() */
	int source_done; /* nothing more to read from the source */
	int shut;        /* SHUT_WR done */
	int eof;         /* the peer's FIN was read */
	int fin_seen;    /* the peer's FIN arrived (read or not) */
	uint64_t close_at;
	int error; /* the connection's error */
	int state; /* last state seen in the trace */
	int last_cause;
	int established; /* the connection reached ESTABLISHED */
	/* --idle-timeout-ms: what moved last, and when (0: not established). */
	uint64_t seen_sent, seen_received;
	uint32_t seen_snd_una;
	uint64_t active_at;
};

/* Prints the state changes of our connection from the trace. */
static void report_states(struct client *c)
{
	struct synack_trace tr[256];
	size_t n;
	while ((n = synack_trace_read(c->env.st, tr, 256)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (tr[i].kind != SYNACK_TRACE_STATE || tr[i].local.port != c->local.port ||
			    !cli_endpoint_eq(&tr[i].remote, &c->o->peer))
				continue;
			fprintf(stderr, "state %s -> %s (%s)\n", synack_state_name(tr[i].from),
			        synack_state_name(tr[i].to), synack_cause_name(tr[i].cause));
			c->state = tr[i].to;
			c->last_cause = tr[i].cause;
			if (tr[i].to == SYNACK_ESTABLISHED)
				c->established = 1;
			/* After close() the FIN can only be seen here. */
			if (tr[i].cause == SYNACK_CAUSE_RCV_FIN ||
			    tr[i].cause == SYNACK_CAUSE_RCV_FIN_ACK)
				c->fin_seen = 1;
		}
	}
}

/* Fills the send buffer from the source when it is empty. */
static int refill(struct client *c)
{
	if (c->off < c->len || c->source_done)
		return 0;
	c->off = c->len = 0;
	if (c->in) {
		size_t n = fread(c->buf, 1, CONNECT_CHUNK, c->in);
		if (n == 0) {
			if (ferror(c->in)) {
				fprintf(stderr, "synack connect: reading %s failed\n",
				        c->o->send_file);
				return -1;
			}
			c->source_done = 1;
		}
		c->len = n;
	} else {
		uint64_t left = c->o->send_bytes - c->sent;
		size_t want = left < CONNECT_CHUNK ? (size_t)left : CONNECT_CHUNK;
		app_pattern(c->sent, c->buf, want);
		c->len = want;
		if (!want)
			c->source_done = 1;
	}
	return 0;
}

static int all_sent(const struct client *c)
{
	return c->source_done && c->off == c->len;
}

/* Does what the socket allows.  Returns 0, or a negative errno. */
static int pump(struct client *c)
{
	struct synack_stack *st = c->env.st;
	uint32_t ev = synack_events(st, c->s);
	if (ev & SYNACK_POLLERR) {
		int e = synack_socket_error(st, c->s);
		if (e)
			return e;
	}
	/* Not connected yet -- unless TCP_FASTOPEN_CONNECT deferred the SYN
	 * to the first send (writable in SYN_SENT): the data goes in it. */
	if ((c->state == SYNACK_SYN_SENT && !(ev & SYNACK_POLLOUT)) || c->state == SYNACK_CLOSED)
		return 0;
	/* Read everything there is. */
	for (;;) {
		ssize_t n = synack_recv(st, c->s, c->buf + CONNECT_CHUNK, CONNECT_CHUNK, 0);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return (int)n;
		if (n == 0) {
			c->eof = 1;
			break;
		}
		c->received += (uint64_t)n;
		if (c->out && fwrite(c->buf + CONNECT_CHUNK, 1, (size_t)n, c->out) != (size_t)n) {
			fprintf(stderr, "synack connect: writing %s failed\n", c->o->output);
			return -EIO;
		}
	}
	/* Send what may be sent: everything, except with --wait-eof... the
	 * data goes out as it can in every mode; only the FIN waits. */
	while (!all_sent(c)) {
		if (refill(c) != 0)
			return -EIO;
		if (c->off == c->len)
			continue;
		ssize_t n = synack_send(st, c->s, c->buf + c->off, c->len - c->off);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return (int)n;
		c->off += (size_t)n;
		c->sent += (uint64_t)n;
	}
	return 0;
}

/*
 * Which of our timeouts ran out at now: CONNECT_EXIT_CONNECT_TIMEOUT while
 * the handshake is not done by connect_at + --connect-timeout-ms,
 * CONNECT_EXIT_IDLE_TIMEOUT once nothing was sent, received or
 * acknowledged for --idle-timeout-ms; else 0, with *next the time to look
 * again (or left alone).
 */
static int timeout_due(struct client *c, uint64_t connect_at, uint64_t now, uint64_t *next)
{
	const struct connect_opts *o = c->o;
	if (c->s < 0)
		return 0;
	if (!c->established) {
		if (o->connect_timeout_ms < 0)
			return 0;
		uint64_t at = connect_at + (uint64_t)o->connect_timeout_ms * 1000;
		if (now >= at)
			return CONNECT_EXIT_CONNECT_TIMEOUT;
		*next = at < *next ? at : *next;
		return 0;
	}
	if (o->idle_timeout_ms < 0)
		return 0;
	struct synack_tcp_info ti;
	synack_tcp_info(c->env.st, c->s, &ti);
	if (!c->active_at || c->sent != c->seen_sent || c->received != c->seen_received ||
	    ti.snd_una != c->seen_snd_una) {
		c->seen_sent = c->sent;
		c->seen_received = c->received;
		c->seen_snd_una = ti.snd_una;
		c->active_at = now ? now : 1;
	}
	uint64_t at = c->active_at + (uint64_t)o->idle_timeout_ms * 1000;
	if (now >= at)
		return CONNECT_EXIT_IDLE_TIMEOUT;
	*next = at < *next ? at : *next;
	return 0;
}

int connect_main(const struct connect_opts *o)
{
	struct client c;
	memset(&c, 0, sizeof(c));
	c.o = o;
	c.s = -1;
	c.state = SYNACK_CLOSED;
	c.close_at = SYNACK_NEVER;
	int status = 1, timed_out = 0;
	uint64_t connect_at = 0;
	char err[1024];
	/* Files first: a bad one is bad usage and must not touch the device. */
	if (o->send_file && !(c.in = fopen(o->send_file, "rb"))) {
		fprintf(stderr, "synack connect: --send: cannot read '%s': %s\n", o->send_file,
		        strerror(errno));
		return 2;
	}
	/* fopen() opens a directory for reading; only read() says EISDIR. */
	struct stat sb;
	if (c.in && fstat(fileno(c.in), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "synack connect: --send: '%s' is a directory, not a file\n",
		        o->send_file);
		fclose(c.in);
		return 2;
	}
	if (o->output && !(c.out = fopen(o->output, "wb"))) {
		fprintf(stderr, "synack connect: --output: cannot write '%s': %s\n", o->output,
		        strerror(errno));
		if (c.in)
			fclose(c.in);
		return 2;
	}
	if (!o->send_file && !o->have_send_bytes)
		c.source_done = 1;
	c.buf = malloc(2 * CONNECT_CHUNK);
	if (!c.buf || net_open(&o->net, CONNECT_TRACE_CAPACITY, &c.env, err, sizeof(err)) != 0) {
		fprintf(stderr, "synack connect: %s\n", c.buf ? err : "out of memory");
		status = 2;
		goto out_files;
	}
	struct synack_run *run = c.env.run;
	struct synack_stack *st = c.env.st;
	char peer[64];
	synack_endpoint_str(&o->peer, peer, sizeof(peer));
	int rc;
	synack_advance(st, synack_run_now(run));
	c.s = synack_socket(st);
	if (c.s < 0) {
		rc = c.s;
		goto failed;
	}
	rc = net_conn_opts(&o->net, st, c.s);
	if (rc == 0 && o->fastopen)
		rc = synack_setsockopt(st, c.s, SYNACK_TCP_FASTOPEN_CONNECT, 1);
	if (rc)
		goto failed;
	connect_at = synack_run_now(run);
	rc = synack_connect(st, c.s, &o->peer);
	if (rc != -EINPROGRESS && rc != 0)
		goto failed;
	synack_getsockname(st, c.s, &c.local);
	rc = 0;
	for (;;) {
		report_states(&c);
		if (c.s >= 0) {
			rc = pump(&c);
			if (rc)
				goto failed;
			uint64_t now = synack_run_now(run);
			int ready_to_close = 0;
			if (all_sent(&c) && c.state != SYNACK_SYN_SENT &&
			    c.state != SYNACK_CLOSED) {
				if (o->close_after_ms >= 0) {
					if (c.close_at == SYNACK_NEVER)
						c.close_at =
						    now + (uint64_t)o->close_after_ms * 1000;
					ready_to_close = now >= c.close_at;
				} else if (o->wait_eof) {
					ready_to_close = c.eof;
				} else {
					if (!c.shut) {
						synack_shutdown(st, c.s, SYNACK_SHUT_WR);
						c.shut = 1;
					}
					ready_to_close = c.eof;
				}
			}
			if (ready_to_close) {
				rc = pump(&c); /* read what came meanwhile: unread data would RST */
				if (rc)
					goto failed;
				synack_close(st, c.s);
				c.s = -1;
			}
		}
		if (c.s < 0) {
			report_states(&c);
			int state = synack_run_conn_state(run, &c.local, &o->peer);
			if (state == SYNACK_CLOSED || state == SYNACK_TIME_WAIT) {
				c.state = state;
				break;
			}
		}
		uint64_t now = synack_run_now(run);
		uint64_t wake = c.s >= 0 ? c.close_at : SYNACK_NEVER;
		timed_out = timeout_due(&c, connect_at, now, &wake);
		if (timed_out)
			goto timeout;
		rc = synack_run_once(run, wake == SYNACK_NEVER ? SYNACK_NEVER
		                                               : (wake > now ? wake - now : 0));
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "synack connect: the device failed: %s\n", strerror(-rc));
			goto abort;
		}
		if (synack_run_take_signal(run)) {
			fprintf(stderr, "synack connect: interrupted, aborting the connection\n");
			goto abort;
		}
	}
	/* The connection ended: how? */
	if (c.state == SYNACK_CLOSED && c.last_cause != SYNACK_CAUSE_RCV_ACK_OF_FIN &&
	    c.last_cause != SYNACK_CAUSE_TIME_WAIT_EXPIRED) {
		rc = c.last_cause == SYNACK_CAUSE_RCV_RST ? -ECONNRESET : -ETIMEDOUT;
		goto failed;
	}
	status = c.eof || c.fin_seen ? 0 : 1;
	if (status)
		fprintf(stderr, "synack connect: the connection ended without the peer's FIN\n");
	goto summary;

failed:
	report_states(&c);
	fprintf(stderr, "synack connect: %s: %s\n", peer, synack_strerror(rc));
	if (c.s >= 0) {
		synack_close(st, c.s);
		c.s = -1;
		synack_run_flush(run);
	}
	status = 1;
	goto summary;
timeout:
	if (timed_out == CONNECT_EXIT_CONNECT_TIMEOUT)
		fprintf(stderr,
		        "synack connect: %s: no connection after %lld ms (--connect-timeout-ms), "
		        "giving up\n",
		        peer, (long long)o->connect_timeout_ms);
	else
		fprintf(stderr,
		        "synack connect: %s: nothing sent, received or acknowledged for %lld ms "
		        "(--idle-timeout-ms), aborting the connection\n",
		        peer, (long long)o->idle_timeout_ms);
abort:
	if (c.s >= 0) {
		synack_advance(st, synack_run_now(run));
		synack_setsockopt(st, c.s, SYNACK_SO_LINGER, 0);
		synack_close(st, c.s);
		c.s = -1;
		synack_run_flush(run);
	}
	report_states(&c);
	status = timed_out ? timed_out : 1;
summary:
	report_states(&c);
	{
		int final = c.s >= 0 ? c.state : synack_run_conn_state(run, &c.local, &o->peer);
		fprintf(stderr,
		        "synack connect: sent %llu bytes, received %llu bytes, final state %s\n",
		        (unsigned long long)c.sent, (unsigned long long)c.received,
		        synack_state_name(final));
	}
	net_close(&c.env);
out_files:
	free(c.buf);
	if (c.in)
		fclose(c.in);
	if (c.out && fclose(c.out) != 0 && status == 0) {
		fprintf(stderr, "synack connect: writing %s failed\n", o->output);
		status = 1;
	}
	return status;
}
