#include "render.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "demo.h"

/* Ladder geometry: the time, then the client's column with its bar, the lane
 * the arrows cross, the server's bar and column. */
#define COL_CLIENT 16
#define LANE_WIDTH 46
#define COL_SERVER_BAR (COL_CLIENT + LANE_WIDTH - 1)
#define COL_SERVER 64
#define LINE_MAX_COLS 100

void render_log_init(struct render_log *log)
{
	memset(log, 0, sizeof(*log));
}

void render_log_free(struct render_log *log)
{
	free(log->ev);
	memset(log, 0, sizeof(*log));
}

struct render_event *render_log_add(struct render_log *log, uint64_t t_us, int host, int kind)
{
	if (log->n == log->cap) {
		size_t cap = log->cap ? log->cap * 2 : 256;
		struct render_event *ev = realloc(log->ev, cap * sizeof(*ev));
		if (!ev)
			return NULL;
		log->ev = ev;
		log->cap = cap;
	}
	struct render_event *e = &log->ev[log->n++];
	memset(e, 0, sizeof(*e));
	e->t_us = t_us;
	e->order = log->next_order++;
	e->host = host;
	e->kind = kind;
	return e;
}

static int event_cmp(const void *a, const void *b)
{
	const struct render_event *x = a, *y = b;
	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return 0;
}

void render_log_sort(struct render_log *log)
{
	if (log->n > 1)
		qsort(log->ev, log->n, sizeof(log->ev[0]), event_cmp);
}

const char *render_conn_str(const struct synack_endpoint *local,
                            const struct synack_endpoint *remote, char *buf, size_t len)
{
	/* "a.b.c.d:port-a.b.c.d:port", or IPv6's bracketed form (issue 14). */
	char a[64], b[64];
	snprintf(buf, len, "%s-%s", synack_endpoint_str(local, a, sizeof(a)),
	         synack_endpoint_str(remote, b, sizeof(b)));
	return buf;
}

/* The IP ECN codepoint as tcpdump names it (RFC 3168 5). */
static const char *ecn_name(uint8_t ecn)
{
	static const char *const names[4] = {"Not-ECT", "ECT(1)", "ECT(0)", "CE"};
	return names[ecn & 3];
}

static const char *host_name(int host)
{
	return host == DEMO_CLIENT ? "client" : "server";
}

/*
 * A SYN's options as tcpdump prints them ("mss 1460,sackOK,TS val 123 ecr
 * 0,nop,wscale 7"), in the order and with the NOPs synack writes them
 * (wire.c's write_opts).  Empty when the record has none.
 */
static void render_opts(const struct synack_trace *tr, char *buf, size_t len)
{
	int n = 0;
	buf[0] = 0;
#define OPT_PUT(...)                                                                               \
	do {                                                                                       \
		if (n >= 0 && (size_t)n < len)                                                     \
			n += snprintf(buf + n, len - (size_t)n, __VA_ARGS__);                      \
	} while (0)
	if (tr->opts & SYNACK_TRACE_OPT_MSS)
		OPT_PUT("%smss %u", n ? "," : "", (unsigned)tr->opt_mss);
	if ((tr->opts & SYNACK_TRACE_OPT_SACK_PERM) && (tr->opts & SYNACK_TRACE_OPT_TS))
		OPT_PUT("%ssackOK", n ? "," : "");
	else if (tr->opts & SYNACK_TRACE_OPT_SACK_PERM)
		OPT_PUT("%snop,nop,sackOK", n ? "," : "");
	else if (tr->opts & SYNACK_TRACE_OPT_TS)
		OPT_PUT("%snop,nop", n ? "," : "");
	if (tr->opts & SYNACK_TRACE_OPT_TS)
		OPT_PUT("%sTS val %lu ecr %lu", n ? "," : "", (unsigned long)tr->opt_ts_val,
		        (unsigned long)tr->opt_ts_ecr);
	if (tr->opts & SYNACK_TRACE_OPT_WSCALE)
		OPT_PUT("%snop,wscale %u", n ? "," : "", (unsigned)tr->opt_wscale);
	/* TCP Fast Open (RFC 7413) as tcpdump prints it, with the NOPs that
	 * pad it to a word. */
	if (tr->opts & (SYNACK_TRACE_OPT_TFO | SYNACK_TRACE_OPT_TFO_EXP)) {
		unsigned clen = tr->opt_tfo_len, exp = !!(tr->opts & SYNACK_TRACE_OPT_TFO_EXP);
		OPT_PUT("%s%s", n ? "," : "", exp ? "exp-tfo" : "tfo");
		if (clen == 0)
			OPT_PUT(" cookiereq");
		else
			OPT_PUT(" cookie ");
		for (unsigned i = 0; i < clen && i < sizeof(tr->opt_tfo_cookie); i++)
			OPT_PUT("%02x", tr->opt_tfo_cookie[i]);
		for (unsigned pad = (2 + 2 * exp + clen) % 4; pad && pad < 4; pad++)
			OPT_PUT(",nop");
	}
#undef OPT_PUT
}

void render_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void render_json_event(FILE *out, const struct render_event *e)
{
	char conn[128], fl[16];
	const struct synack_trace *tr = &e->tr;

	if (e->kind == RENDER_APP) {
		render_conn_str(&e->local, &e->remote, conn, sizeof(conn));
		fprintf(out, "{\"t_us\":%llu,\"host\":\"%s\",\"conn\":\"%s\",\"ev\":\"app\",",
		        (unsigned long long)e->t_us, host_name(e->host), conn);
		fprintf(out, "\"call\":");
		render_json_string(out, e->call);
		fprintf(out, ",\"ret\":%ld}\n", e->ret);
		return;
	}
	if (e->kind != RENDER_TRACE)
		return;
	render_conn_str(&tr->local, &tr->remote, conn, sizeof(conn));
	fprintf(out, "{\"t_us\":%llu,\"host\":\"%s\",\"conn\":\"%s\",",
	        (unsigned long long)tr->t_us, host_name(e->host), conn);
	switch (tr->kind) {
	case SYNACK_TRACE_STATE:
		fprintf(out, "\"ev\":\"state\",\"from\":\"%s\",\"to\":\"%s\",\"cause\":\"%s\"}\n",
		        synack_state_name(tr->from), synack_state_name(tr->to),
		        synack_cause_name(tr->cause));
		return;
	case SYNACK_TRACE_TX:
	case SYNACK_TRACE_RX:
	case SYNACK_TRACE_DROP:
		fprintf(out,
		        "\"ev\":\"%s\",\"flags\":\"%s\",\"seq\":%lu,\"ack\":%lu,\"len\":%lu,"
		        "\"win\":%lu",
		        tr->kind == SYNACK_TRACE_TX   ? "tx"
		        : tr->kind == SYNACK_TRACE_RX ? "rx"
		                                      : "drop",
		        synack_flags_str(tr->flags, fl, sizeof(fl)), (unsigned long)tr->seq,
		        (unsigned long)tr->ack, (unsigned long)tr->len, (unsigned long)tr->win);
		if (tr->ecn)
			fprintf(out, ",\"ecn\":\"%s\"", ecn_name(tr->ecn));
		if (tr->kind == SYNACK_TRACE_DROP)
			fprintf(out, ",\"reason\":\"%s\"", synack_drop_name(tr->reason));
		if (tr->opts) {
			char opts[128];
			render_opts(tr, opts, sizeof(opts));
			fprintf(out, ",\"options\":\"%s\"", opts);
		}
		if (tr->sack_count) {
			/* SACK blocks (RFC 2018) as sequence numbers, like seq and ack. */
			fputs(",\"sack\":[", out);
			for (unsigned i = 0; i < tr->sack_count && i < 4; i++)
				fprintf(out, "%s[%lu,%lu]", i ? "," : "",
				        (unsigned long)tr->sack[i].start,
				        (unsigned long)tr->sack[i].end);
			fputc(']', out);
		}
		fputs("}\n", out);
		return;
	default:
		fprintf(out, "\"ev\":\"unknown\",\"kind\":%u}\n", (unsigned)tr->kind);
		return;
	}
}

void render_json(FILE *out, const struct render_log *log)
{
	for (size_t i = 0; i < log->n; i++)
		render_json_event(out, &log->ev[i]);
}

/* ------------------------------------------------------------------ */
/* Ladder.                                                             */

/* The ISS each side of a connection used, learned from its SYN, so that
 * sequence numbers can be shown relative to it as tcpdump does. */
struct iss_entry {
	struct synack_endpoint c, s; /* client side, server side */
	uint32_t iss[2];
	int known[2];
};

struct iss_map {
	struct iss_entry e[16];
	size_t n;
};

static struct iss_entry *iss_lookup(struct iss_map *m, int host, const struct synack_trace *tr,
                                    int create)
{
	const struct synack_endpoint *c = host == DEMO_CLIENT ? &tr->local : &tr->remote;
	const struct synack_endpoint *s = host == DEMO_CLIENT ? &tr->remote : &tr->local;
	for (size_t i = 0; i < m->n; i++)
		if (cli_endpoint_eq(&m->e[i].c, c) && cli_endpoint_eq(&m->e[i].s, s))
			return &m->e[i];
	if (!create || m->n == sizeof(m->e) / sizeof(m->e[0]))
		return NULL;
	struct iss_entry *e = &m->e[m->n++];
	memset(e, 0, sizeof(*e));
	e->c = *c;
	e->s = *s;
	return e;
}

static void iss_learn(struct iss_map *m, const struct render_log *log)
{
	for (size_t i = 0; i < log->n; i++) {
		const struct render_event *e = &log->ev[i];
		if (e->kind != RENDER_TRACE || e->tr.kind != SYNACK_TRACE_TX ||
		    !(e->tr.flags & SYNACK_TH_SYN))
			continue;
		struct iss_entry *ie = iss_lookup(m, e->host, &e->tr, 1);
		if (ie && !ie->known[e->host]) {
			ie->iss[e->host] = e->tr.seq;
			ie->known[e->host] = 1;
		}
	}
}

/* A line buffer the ladder is drawn into, column by column. */
struct line {
	char c[LINE_MAX_COLS + 64];
	int len;
};

static void line_init(struct line *l, uint64_t t_us)
{
	memset(l->c, ' ', sizeof(l->c));
	int n = snprintf(l->c, sizeof(l->c), "%11.3f ms", (double)t_us / 1000.0);
	l->c[n] = ' ';
	l->len = n;
}

static void line_put(struct line *l, int col, const char *s)
{
	int n = (int)strlen(s);
	if (col < 0)
		col = 0;
	if (col + n > (int)sizeof(l->c) - 1)
		n = (int)sizeof(l->c) - 1 - col;
	if (n <= 0)
		return;
	memcpy(l->c + col, s, (size_t)n);
	if (col + n > l->len)
		l->len = col + n;
}

static void line_print(FILE *out, struct line *l)
{
	while (l->len > 0 && l->c[l->len - 1] == ' ')
		l->len--;
	fprintf(out, "%.*s\n", l->len, l->c);
}

/* Text in a host's column: the client's starts at its bar, the server's at
 * its column, or ends at the right margin when it is long. */
static void line_put_host(struct line *l, int host, const char *s)
{
	if (host == DEMO_CLIENT) {
		line_put(l, COL_CLIENT, s);
		return;
	}
	int n = (int)strlen(s);
	int col = COL_SERVER;
	if (col + n > LINE_MAX_COLS)
		col = LINE_MAX_COLS - n;
	if (col < COL_CLIENT + 20)
		col = COL_CLIENT + 20;
	line_put(l, col, s);
}

static void segment_label(const struct synack_trace *tr, int sender, struct iss_map *m, char *buf,
                          size_t len)
{
	char fl[24];
	uint32_t seq = tr->seq, ack = tr->ack;
	/* tr is seen from the host that recorded it; the sender is that host for
	 * TX and its peer for RX and DROP. */
	int recorder = tr->kind == SYNACK_TRACE_TX ? sender : !sender;
	struct iss_entry *ie = iss_lookup(m, recorder, tr, 0);
	if (ie && ie->known[sender])
		seq -= ie->iss[sender];
	if (ie && ie->known[!sender])
		ack -= ie->iss[!sender];
	synack_flags_str(tr->flags, fl, sizeof(fl));
	/* The IP ECN codepoint right after the flags, where set: the ladder
	 * cuts a long label from the end, and the window goes before it. */
	if (tr->ecn) {
		size_t k = strlen(fl);
		snprintf(fl + k, sizeof(fl) - k, " %s", ecn_name(tr->ecn));
	}
	int n;
	if (tr->len > 0)
		n = snprintf(buf, len, "%s seq %lu:%lu(%lu)", fl, (unsigned long)seq,
		             (unsigned long)(uint32_t)(seq + tr->len), (unsigned long)tr->len);
	else if (tr->flags & (SYNACK_TH_SYN | SYNACK_TH_FIN | SYNACK_TH_RST) ||
	         !(tr->flags & SYNACK_TH_ACK))
		n = snprintf(buf, len, "%s seq %lu", fl, (unsigned long)seq);
	else
		n = snprintf(buf, len, "%s", fl);
	if (n < 0 || (size_t)n >= len)
		return;
	if (tr->flags & SYNACK_TH_ACK)
		n += snprintf(buf + n, len - (size_t)n, " ack %lu", (unsigned long)ack);
	/* SACK blocks in tcpdump's notation, relative like the ack they go
	 * with: "sack 2 {3001:4001}{5001:6001}"; they take the window's
	 * place in the lane (--json has both). */
	if ((size_t)n < len && !tr->sack_count)
		n += snprintf(buf + n, len - (size_t)n, " win %lu", (unsigned long)tr->win);
	if (tr->sack_count && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " sack %u ", (unsigned)tr->sack_count);
	for (unsigned i = 0; i < tr->sack_count && i < 4 && (size_t)n < len; i++) {
		uint32_t a = tr->sack[i].start, b = tr->sack[i].end;
		if (ie && ie->known[!sender]) {
			a -= ie->iss[!sender];
			b -= ie->iss[!sender];
		}
		n += snprintf(buf + n, len - (size_t)n, "{%lu:%lu}", (unsigned long)a,
		              (unsigned long)b);
	}
}

static void draw_arrow(struct line *l, int from_client, const char *label, int lost)
{
	char lane[LANE_WIDTH + 1];
	memset(lane, '-', LANE_WIDTH);
	lane[LANE_WIDTH] = 0;
	lane[0] = '|';
	lane[LANE_WIDTH - 1] = '|';
	if (from_client)
		lane[LANE_WIDTH - 2] = '>';
	else
		lane[1] = '<';
	int n = (int)strlen(label);
	if (n > LANE_WIDTH - 8) {
		/* Too long for the lane: leave out whole words from the end, and
		 * a field name whose value went with them, rather than show a
		 * number cut short ("win 655" for "win 65535"). */
		n = LANE_WIDTH - 8;
		/* Within SACK blocks, cut after the last whole block that fits
		 * (the count says how many there were). */
		const char *sack = strstr(label, " sack ");
		int cut = n;
		while (sack && cut > sack - label && label[cut - 1] != '}')
			cut--;
		if (sack && cut > sack - label + 6) {
			n = cut;
		} else {
			if (sack)
				n = (int)(sack - label); /* no "sack 2" without a block */
			while (n > 0 && label[n] != ' ')
				n--;
			if (n >= 4 && (strncmp(label + n - 4, " win", 4) == 0 ||
			               strncmp(label + n - 4, " ack", 4) == 0))
				n -= 4;
		}
		if (n <= 0)
			n = LANE_WIDTH - 8;
	}
	int start = from_client ? 4 : LANE_WIDTH - 4 - n - 2;
	lane[start - 1] = ' ';
	memcpy(lane + start, label, (size_t)n);
	lane[start + n] = ' ';
	if (lost) {
		/* The arrow stops short of the receiver: the network ate it. */
		int x = from_client ? LANE_WIDTH - 8 : 7;
		if (from_client) {
			if (x <= start + n)
				x = start + n + 1;
			lane[x] = 'x';
			for (int i = x + 1; i < LANE_WIDTH - 1; i++)
				lane[i] = ' ';
		} else {
			if (x >= start - 1)
				x = start - 2;
			lane[x] = 'x';
			for (int i = 1; i < x; i++)
				lane[i] = ' ';
		}
	}
	line_put(l, COL_CLIENT, lane);
}

const char *render_errno_name(long e)
{
	switch (e) {
	case EINPROGRESS:
		return "EINPROGRESS";
	case EAGAIN:
		return "EAGAIN";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ECONNRESET:
		return "ECONNRESET";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EPIPE:
		return "EPIPE";
	case ENOTCONN:
		return "ENOTCONN";
	case EINVAL:
		return "EINVAL";
	case EISCONN:
		return "EISCONN";
	case EADDRINUSE:
		return "EADDRINUSE";
	default:
		return NULL;
	}
}

static void ladder_event(FILE *out, const struct render_event *e, struct iss_map *m)
{
	struct line l;
	char buf[160], label[96];
	const struct synack_trace *tr = &e->tr;

	line_init(&l, e->t_us);
	if (e->kind == RENDER_NOTE) {
		line_put_host(&l, e->host, e->text);
		line_print(out, &l);
		return;
	}
	if (e->kind == RENDER_APP) {
		const char *en = e->ret < 0 ? render_errno_name(-e->ret) : NULL;
		if (en)
			snprintf(buf, sizeof(buf), "%s() = -%s", e->call, en);
		else
			snprintf(buf, sizeof(buf), "%s() = %ld", e->call, e->ret);
		line_put_host(&l, e->host, buf);
		line_print(out, &l);
		return;
	}
	switch (tr->kind) {
	case SYNACK_TRACE_STATE:
		if (tr->cause == SYNACK_CAUSE_NONE)
			snprintf(buf, sizeof(buf), "%s -> %s", synack_state_name(tr->from),
			         synack_state_name(tr->to));
		else
			snprintf(buf, sizeof(buf), "%s -> %s  [%s]", synack_state_name(tr->from),
			         synack_state_name(tr->to), synack_cause_name(tr->cause));
		line_put_host(&l, e->host, buf);
		break;
	case SYNACK_TRACE_TX:
		segment_label(tr, e->host, m, label, sizeof(label));
		draw_arrow(&l, e->host == DEMO_CLIENT, label, e->fate_known && e->lost);
		if (e->fate_known && e->lost) {
			line_put(&l, COL_SERVER_BAR + 3, "lost");
		} else if (e->narrive > 0) {
			int n =
			    snprintf(buf, sizeof(buf), "at %.3f", (double)e->arrive_us[0] / 1000.0);
			for (size_t i = 1; i < e->narrive && n > 0 && (size_t)n < sizeof(buf); i++)
				n += snprintf(buf + n, sizeof(buf) - (size_t)n, ", %.3f",
				              (double)e->arrive_us[i] / 1000.0);
			line_put(&l, COL_SERVER_BAR + 3, buf);
		}
		break;
	case SYNACK_TRACE_RX:
		/* The arrow of the sender already shows the arrival. */
		return;
	case SYNACK_TRACE_DROP:
		segment_label(tr, !e->host, m, label, sizeof(label));
		snprintf(buf, sizeof(buf), "drop %s (%s)", label, synack_drop_name(tr->reason));
		line_put_host(&l, e->host, buf);
		break;
	default:
		return;
	}
	line_print(out, &l);
	if (tr->kind == SYNACK_TRACE_TX && tr->opts) {
		/* A SYN's options on a line of their own under the arrow,
		 * on the sender's side: too long for the lane. */
		char opts[128];
		render_opts(tr, opts, sizeof(opts));
		/* TCP Fast Open's cookie makes the list too wide: it goes
		 * on a line of its own. */
		char *tfo = strstr(opts, ",tfo ");
		if (!tfo)
			tfo = strstr(opts, ",exp-tfo ");
		if (tfo) {
			tfo[0] = 0;
			snprintf(buf, sizeof(buf), "[%s,", opts);
			line_init(&l, e->t_us);
			line_put_host(&l, e->host, buf);
			line_print(out, &l);
		}
		snprintf(buf, sizeof(buf), "%s%s]", tfo ? " " : "[", tfo ? tfo + 1 : opts);
		line_init(&l, e->t_us);
		line_put_host(&l, e->host, buf);
		line_print(out, &l);
	}
}

void render_ladder(FILE *out, const struct render_log *log, const struct render_ladder_info *info)
{
	struct iss_map m;
	struct line l;
	char a[64]; /* an IPv6 endpoint takes up to 48 bytes */

	memset(&m, 0, sizeof(m));
	iss_learn(&m, log);
	fprintf(out, "synack demo %s (seed %llu)\n%s\n\n", info->scenario,
	        (unsigned long long)info->seed, info->description);
	memset(l.c, ' ', sizeof(l.c));
	l.len = 0;
	line_put(&l, 7, "time");
	line_put(&l, COL_CLIENT, "client ");
	line_put(&l, COL_CLIENT + 7, synack_endpoint_str(&info->client, a, sizeof(a)));
	line_put(&l, COL_SERVER, "server ");
	line_put(&l, COL_SERVER + 7, synack_endpoint_str(&info->server, a, sizeof(a)));
	line_print(out, &l);
	for (size_t i = 0; i < log->n; i++)
		ladder_event(out, &log->ev[i], &m);
}
