#include "svg.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "demo.h"

/* Page geometry, in SVG user units (pixels at 100 %). */
#define PAGE_W 1100
#define X_TIME 8     /* left edge of the time column */
#define X_CLIENT 400 /* the client's time line */
#define X_SERVER 760 /* the server's time line */
#define BAND_W 12    /* a state band, outside its line */
#define TEXT_GAP 18  /* from a line to the text beside it */
#define Y_LINES 96   /* the time lines start here */
#define ROW_PITCH 16 /* between two events at the same instant */
#define GAP_PX 30.0  /* room for a gap: GAP_PX * log2(1 + gap / GAP_UNIT_US) */
#define GAP_UNIT_US 5000.0
#define BREAK_US 250000 /* a quiet gap this long or longer is cut out */
#define BREAK_H 56      /* the room a break takes */
#define LOST_REACH 0.6  /* a lost segment dies this far across */
#define LOST_DROP 36.0  /* and this far down */
/* A long run (a transfer) keeps the first and the last events of its
 * ladder; the graphs show the whole of it. */
#define MAX_ROWS 320
#define KEEP_HEAD 220
#define KEEP_TAIL 80
/* The graphs: plot area inside a box of GRAPH_H per graph. */
#define GRAPH_H 330
#define PLOT_X0 100
#define PLOT_X1 1060
#define PLOT_TOP 40
#define PLOT_H 240
#define TICKS 8

/* A cut in the time line: a quiet gap, or events left out of a long run. */
struct brk {
	double y0, y1;
	uint64_t gap_us; /* quiet gap; 0 for left-out events */
	size_t hidden;   /* events left out */
};

/* A label placed on an arrow: its centre, angle (radians) and half sizes. */
struct placed {
	double cx, cy, ang, hw, hh;
};

struct layout {
	double *y;   /* per event of the log; NAN when the event has no row */
	int *drives; /* a state record that moves its host's band (see layout_ladder) */
	struct placed *lbl;
	size_t nlbl;
	int *hidden; /* the event's row was left out (it sits at a break) */
	int *peer;   /* per TX: index of the RX or DROP record of its arrival, or -1 */
	struct brk *brk;
	size_t nbrk;
	double bottom; /* below the last row */
	double height; /* of the whole picture */
};

/* ------------------------------------------------------------------ */
/* Text.                                                               */

/* Bytes in the well-formed UTF-8 sequence at s (1 to 4), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4   ? 4
	           : s[0] >= 0xe0 && s[0] <= 0xef ? 3
	           : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
	                                          : 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void svg_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x80) {
			/* Text a user wrote may be in any encoding; the page is
			 * UTF-8, so a byte that is no part of it becomes '?'. */
			size_t n = utf8_len((const unsigned char *)s);
			if (n == 0) {
				fputc('?', out);
				continue;
			}
			fwrite(s, 1, n, out);
			s += n - 1;
			continue;
		}
		switch (c) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		default:
			/* XML 1.0 allows no control characters but tab and newlines. */
			if (c >= 0x20 || c == '\t' || c == '\n')
				fputc(c, out);
			break;
		}
	}
}

const char *svg_segment_label(const struct synack_trace *tr, char *buf, size_t len)
{
	char fl[16];
	/* The record's iss is its host's, irs the peer's: a segment sent
	 * counts seq from iss and ack from irs, one received the other way. */
	int tx = tr->kind == SYNACK_TRACE_TX;
	int rel = tr->iss != 0 || tr->irs != 0;
	uint32_t seq = tr->seq - (rel ? (tx ? tr->iss : tr->irs) : 0);
	uint32_t ack = tr->ack - (rel ? (tx ? tr->irs : tr->iss) : 0);
	size_t n = 0;
#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (n < len) {                                                                     \
			int k_ = snprintf(buf + n, len - n, __VA_ARGS__);                          \
			n += k_ > 0 ? (size_t)k_ : 0;                                              \
		}                                                                                  \
	} while (0)
	if (len)
		buf[0] = 0;
	ADD("%s", synack_flags_str(tr->flags, fl, sizeof(fl)));
	if (tr->len > 0)
		ADD(" %lu:%lu(%lu)", (unsigned long)seq, (unsigned long)(uint32_t)(seq + tr->len),
		    (unsigned long)tr->len);
	else if (tr->flags & (SYNACK_TH_SYN | SYNACK_TH_FIN | SYNACK_TH_RST) ||
	         !(tr->flags & SYNACK_TH_ACK))
		ADD(" seq %lu", (unsigned long)seq);
	if (tr->flags & SYNACK_TH_ACK)
		ADD(" ack %lu", (unsigned long)ack);
	ADD(" win %lu", (unsigned long)tr->win);
	/* Options, SACK blocks and ECN marks go here when the trace carries them. */
#undef ADD
	return buf;
}

static const char *host_label(int host)
{
	return host == DEMO_CLIENT ? "client" : "server";
}

/* Writes a duration as people read it: "850 us", "20.000 ms", "60.000 s". */
static void put_duration(FILE *out, uint64_t us)
{
	if (us < 1000)
		fprintf(out, "%llu us", (unsigned long long)us);
	else if (us < 10000000)
		fprintf(out, "%.3f ms", (double)us / 1000.0);
	else
		fprintf(out, "%.3f s", (double)us / 1e6);
}

/* Fill and text colours of a state's band. */
static const char *state_fill(int s)
{
	switch (s) {
	case SYNACK_LISTEN:
		return "#d9d9d9";
	case SYNACK_SYN_SENT:
	case SYNACK_SYN_RECEIVED:
		return "#ffe08a";
	case SYNACK_ESTABLISHED:
		return "#9fd89f";
	case SYNACK_FIN_WAIT_1:
		return "#ffc285";
	case SYNACK_FIN_WAIT_2:
		return "#ff9147";
	case SYNACK_CLOSE_WAIT:
		return "#f26b6b";
	case SYNACK_CLOSING:
		return "#c9a0dc";
	case SYNACK_LAST_ACK:
		return "#f5a3c7";
	case SYNACK_TIME_WAIT:
		return "#7fa7e8";
	default:
		return "none";
	}
}

static const char *state_ink(int s)
{
	switch (s) {
	case SYNACK_ESTABLISHED:
		return "#1d6b1d";
	case SYNACK_FIN_WAIT_1:
	case SYNACK_FIN_WAIT_2:
		return "#a84300";
	case SYNACK_CLOSE_WAIT:
		return "#a31515";
	case SYNACK_TIME_WAIT:
		return "#1f4e9c";
	case SYNACK_CLOSING:
	case SYNACK_LAST_ACK:
		return "#7a2f6b";
	case SYNACK_SYN_SENT:
	case SYNACK_SYN_RECEIVED:
		return "#7a5c00";
	default:
		return "#444444";
	}
}

/* The colour of a segment's arrow says what it does, not who sends it;
 * each colour has its arrowhead (#head0 ...). */
static const char *const INKS[] = {"#555555", "#1f4e9c", "#1d7a1d", "#7a2f6b", "#c00000"};

static int segment_ink(const struct synack_trace *tr)
{
	if (tr->flags & SYNACK_TH_RST)
		return 4;
	if (tr->flags & SYNACK_TH_SYN)
		return 2;
	if (tr->flags & SYNACK_TH_FIN)
		return 3;
	return tr->len > 0 ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Layout of the ladder.                                               */

static int has_row(const struct render_event *e)
{
	if (e->kind == RENDER_APP || e->kind == RENDER_NOTE)
		return 1;
	return e->kind == RENDER_TRACE &&
	       (e->tr.kind == SYNACK_TRACE_STATE || e->tr.kind == SYNACK_TRACE_TX ||
	        e->tr.kind == SYNACK_TRACE_RX || e->tr.kind == SYNACK_TRACE_DROP);
}

static double gap_px(uint64_t gap_us)
{
	return gap_us ? GAP_PX * log2(1.0 + (double)gap_us / GAP_UNIT_US) : 0.0;
}

static struct brk *add_break(struct layout *L, double y0, uint64_t gap_us, size_t hidden)
{
	struct brk *b = &L->brk[L->nbrk++];
	b->y0 = y0;
	b->y1 = y0 + BREAK_H - ROW_PITCH;
	b->gap_us = gap_us;
	b->hidden = hidden;
	return b;
}

/* The arrival of the segment sent by TX record i: the receiver's RX or
 * DROP record of the same segment at its arrival time (or the first
 * after the sending when its fate is unknown), not yet taken by another. */
static int find_arrival(const struct render_log *log, size_t i, const char *taken)
{
	const struct render_event *e = &log->ev[i];
	const struct synack_trace *t = &e->tr;
	if (e->fate_known && e->lost)
		return -1;
	for (size_t j = i + 1; j < log->n && j < i + 4096; j++) {
		const struct render_event *r = &log->ev[j];
		const struct synack_trace *u = &r->tr;
		if (taken[j] || r->kind != RENDER_TRACE || r->host == e->host ||
		    (u->kind != SYNACK_TRACE_RX && u->kind != SYNACK_TRACE_DROP))
			continue;
		if (e->narrive > 0 && r->t_us != e->arrive_us[0])
			continue;
		if (u->seq == t->seq && u->ack == t->ack && u->flags == t->flags &&
		    u->len == t->len && u->local.port == t->remote.port &&
		    u->remote.port == t->local.port)
			return (int)j;
	}
	return -1;
}

static int layout_ladder(struct layout *L, const struct render_log *log)
{
	size_t n = log->n;
	memset(L, 0, sizeof(*L));
	L->y = malloc((n ? n : 1) * sizeof(*L->y));
	L->hidden = calloc(n ? n : 1, sizeof(*L->hidden));
	L->peer = malloc((n ? n : 1) * sizeof(*L->peer));
	L->brk = malloc((n + 1) * sizeof(*L->brk));
	L->drives = calloc(n ? n : 1, sizeof(*L->drives));
	L->lbl = malloc((n ? n : 1) * sizeof(*L->lbl));
	char *taken = calloc(n ? n : 1, 1);
	if (!L->y || !L->hidden || !L->peer || !L->brk || !L->drives || !L->lbl || !taken) {
		free(taken);
		return -1;
	}
	size_t rows = 0;
	for (size_t i = 0; i < n; i++)
		rows += has_row(&log->ev[i]);
	size_t hide_from = rows, hide_to = rows; /* rows [hide_from, hide_to) are left out */
	if (rows > MAX_ROWS) {
		hide_from = KEEP_HEAD;
		hide_to = rows - KEEP_TAIL;
	}

	double y = Y_LINES + 14, lost_until = 0;
	uint64_t prev_t = 0;
	size_t rank = 0;
	struct brk *elide = NULL;
	int first = 1, after_elide = 0;
	for (size_t i = 0; i < n; i++) {
		const struct render_event *e = &log->ev[i];
		L->peer[i] = -1;
		L->y[i] = NAN;
		if (!has_row(e))
			continue;
		size_t r = rank++;
		if (r >= hide_from && r < hide_to) {
			if (!elide) {
				elide = add_break(L, y + ROW_PITCH / 2.0, 0, hide_to - hide_from);
				y += BREAK_H;
			}
			L->y[i] = (elide->y0 + elide->y1) / 2;
			L->hidden[i] = 1;
			prev_t = e->t_us;
			after_elide = 1;
			continue;
		}
		if (!first && !after_elide) {
			uint64_t gap = e->t_us - prev_t;
			if (gap >= BREAK_US) {
				/* A lost segment's arrow ends before the cut. */
				if (y < lost_until)
					y = lost_until;
				add_break(L, y + ROW_PITCH / 2.0, gap, 0);
				y += BREAK_H;
			} else {
				y += ROW_PITCH + gap_px(gap);
			}
		} else if (after_elide) {
			y += ROW_PITCH;
		}
		first = after_elide = 0;
		L->y[i] = y;
		prev_t = e->t_us;
		if (e->kind == RENDER_TRACE && e->tr.kind == SYNACK_TRACE_TX && e->fate_known &&
		    e->lost)
			lost_until = y + LOST_DROP + 20;
	}
	L->bottom = y + 24;
	/* A host's band follows its connection; its listener's states show
	 * only while it has no connection (before the first SYN arrives, and
	 * after the connection is gone). */
	int conn[2] = {0, 0};
	for (size_t i = 0; i < n; i++) {
		const struct render_event *e = &log->ev[i];
		if (e->kind != RENDER_TRACE || e->tr.kind != SYNACK_TRACE_STATE || e->host < 0 ||
		    e->host > 1)
			continue;
		if (!cli_endpoint_addr_is_any(&e->tr.remote)) {
			L->drives[i] = 1;
			conn[e->host] = e->tr.to != SYNACK_CLOSED;
		} else {
			L->drives[i] = !conn[e->host];
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct render_event *e = &log->ev[i];
		if (e->kind != RENDER_TRACE || e->tr.kind != SYNACK_TRACE_TX)
			continue;
		int j = find_arrival(log, i, taken);
		if (j >= 0) {
			taken[j] = 1;
			L->peer[i] = j;
		}
	}
	free(taken);
	return 0;
}

static void layout_free(struct layout *L)
{
	free(L->y);
	free(L->hidden);
	free(L->peer);
	free(L->brk);
	free(L->drives);
	free(L->lbl);
}

/* ------------------------------------------------------------------ */
/* Drawing the ladder.                                                 */

static double line_x(int host)
{
	return host == DEMO_CLIENT ? X_CLIENT : X_SERVER;
}

/* Opens a <text> beside host's line, outside the lane. */
static void text_beside(FILE *out, int host, double y, const char *cls)
{
	if (host == DEMO_CLIENT)
		fprintf(out, "<text class=\"%s\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", cls,
		        X_CLIENT - BAND_W - TEXT_GAP / 2, y + 4);
	else
		fprintf(out, "<text class=\"%s\" x=\"%d\" y=\"%.1f\">", cls,
		        X_SERVER + BAND_W + TEXT_GAP / 2, y + 4);
}

/* "call() = 3", "connect() = -EINPROGRESS", as the ladder writes them. */
const char *svg_app_text(const struct render_event *e, char *buf, size_t len)
{
	const char *en = e->ret < 0 ? render_errno_name(-e->ret) : NULL;
	if (en)
		snprintf(buf, len, "%s() = -%s", e->call, en);
	else if (e->ret < 0)
		snprintf(buf, len, "%s() = -%s", e->call, synack_strerror((int)-e->ret));
	else
		snprintf(buf, len, "%s() = %ld", e->call, e->ret);
	return buf;
}

/* When the band's state entered at event i ends: its host's next band
 * change, or the end of the run (*open set). */
static uint64_t state_end(const struct render_log *log, const struct layout *L, size_t i, int *open)
{
	for (size_t j = i + 1; j < log->n; j++) {
		const struct render_event *e = &log->ev[j];
		if (L->drives[j] && e->host == log->ev[i].host) {
			*open = 0;
			return e->t_us;
		}
	}
	*open = 1;
	return log->n ? log->ev[log->n - 1].t_us : log->ev[i].t_us;
}

static void draw_bands(FILE *out, const struct render_log *log, const struct layout *L)
{
	for (int h = 0; h < 2; h++) {
		int state = SYNACK_CLOSED;
		double y0 = 0;
		uint64_t t0 = 0;
		for (size_t i = 0; i <= log->n; i++) {
			const struct render_event *e = i < log->n ? &log->ev[i] : NULL;
			if (e && !(L->drives[i] && e->host == h))
				continue;
			double y1 = e ? L->y[i] : L->bottom - 10;
			uint64_t t1 = e ? e->t_us : (log->n ? log->ev[log->n - 1].t_us : 0);
			if (state != SYNACK_CLOSED && y1 > y0) {
				double x = h == DEMO_CLIENT ? X_CLIENT - BAND_W : X_SERVER;
				fprintf(out,
				        "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" "
				        "height=\"%.1f\" fill=\"%s\"><title>%s %s: ",
				        x, y0, BAND_W, y1 - y0, state_fill(state), host_label(h),
				        synack_state_name(state));
				put_duration(out, t1 - t0);
				fputs("</title></rect>\n", out);
			}
			if (!e)
				break;
			state = e->tr.to;
			y0 = L->y[i];
			t0 = e->t_us;
		}
	}
}

static void draw_breaks(FILE *out, const struct layout *L)
{
	for (size_t k = 0; k < L->nbrk; k++) {
		const struct brk *b = &L->brk[k];
		double ym = (b->y0 + b->y1) / 2;
		for (int h = 0; h < 2; h++) {
			double x = line_x(h) + (h == DEMO_CLIENT ? -BAND_W / 2.0 : BAND_W / 2.0);
			fprintf(out,
			        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
			        "fill=\"white\"/>\n",
			        x - 14, ym - 6, 28, 12.0);
			for (int s = -1; s <= 1; s += 2)
				fprintf(out,
				        "<line class=\"brk\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				        "y2=\"%.1f\"/>\n",
				        x - 14, ym + s * 6 + 4, x + 14, ym + s * 6 - 4);
		}
		fprintf(out, "<text class=\"brktext\" x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">",
		        (X_CLIENT + X_SERVER) / 2, ym + 4);
		if (b->gap_us) {
			fputs("\u2248 ", out);
			put_duration(out, b->gap_us);
			fputs(" without an event (time compressed) \u2248", out);
		} else {
			fprintf(
			    out,
			    "\u2248 %zu events not drawn: the graphs below show them all \u2248",
			    b->hidden);
		}
		fputs("</text>\n", out);
	}
}

/* Whether two placed labels overlap: the separating axis test of two
 * rotated rectangles. */
static int overlap(const struct placed *a, const struct placed *b)
{
	const struct placed *r[2] = {a, b};
	double dx = b->cx - a->cx, dy = b->cy - a->cy;
	for (int k = 0; k < 4; k++) {
		double t = r[k / 2]->ang + (k % 2) * M_PI / 2, nx = cos(t), ny = sin(t);
		double reach = 0;
		for (int m = 0; m < 2; m++)
			reach += r[m]->hw * fabs(cos(r[m]->ang) * nx + sin(r[m]->ang) * ny) +
			         r[m]->hh * fabs(-sin(r[m]->ang) * nx + cos(r[m]->ang) * ny);
		if (fabs(dx * nx + dy * ny) > reach)
			return 0;
	}
	return 1;
}

/* Finds a place for the label of the arrow (x0, y0) -> (x1, y1) along it,
 * above the line, clear of the labels placed before: the middle first,
 * then nearer either end.  Returns 0 when there is none (the arrow keeps
 * its label in its tooltip and in the page's table). */
static int place_label(struct layout *L, double x0, double y0, double x1, double y1, size_t chars,
                       double *mx, double *my, double *ang)
{
	static const double AT[] = {0.5, 0.35, 0.65, 0.25, 0.75};
	double a = atan2(y1 - y0, x1 - x0);
	if (a > M_PI / 2)
		a -= M_PI;
	else if (a < -M_PI / 2)
		a += M_PI;
	for (size_t k = 0; k < sizeof(AT) / sizeof(AT[0]); k++) {
		double px0 = x0 + (x1 - x0) * AT[k], py0 = y0 + (y1 - y0) * AT[k];
		struct placed c = {px0 + 8 * sin(a), py0 - 8 * cos(a), a, 2.9 * (double)chars + 2,
		                   5.5};
		size_t m = 0;
		while (m < L->nlbl && !overlap(&c, &L->lbl[m]))
			m++;
		if (m < L->nlbl)
			continue;
		L->lbl[L->nlbl++] = c;
		*mx = px0;
		*my = py0;
		*ang = a;
		return 1;
	}
	return 0;
}

static void draw_arrow(FILE *out, const struct render_log *log, struct layout *L, size_t i)
{
	const struct render_event *e = &log->ev[i];
	double x0 = line_x(e->host), x1 = line_x(!e->host), y0 = L->y[i], y1;
	int j = L->peer[i];
	int lost = e->fate_known && e->lost;
	char label[160];
	if (L->hidden[i] || (j >= 0 && L->hidden[j]))
		return; /* one end is in the part of a long run left out */
	if (lost) {
		x1 = x0 + (x1 - x0) * LOST_REACH;
		y1 = y0 + LOST_DROP;
	} else if (j >= 0) {
		y1 = L->y[j];
	} else {
		return; /* never arrived in the run, nor lost: nothing to draw */
	}
	int k = segment_ink(&e->tr);
	const char *ink = INKS[k];
	fprintf(out, "<g class=\"seg\"><title>");
	svg_text(out, host_label(e->host));
	fputs(" sends ", out);
	svg_text(out, svg_segment_label(&e->tr, label, sizeof(label)));
	fputs(lost ? ", lost</title>" : "</title>", out);
	fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"", x0, y0,
	        x1, y1, ink);
	if (lost)
		fputs(" stroke-dasharray=\"5 3\"/>", out);
	else
		fprintf(out, " marker-end=\"url(#head%d)\"/>", k);
	if (lost)
		fprintf(
		    out,
		    "<path class=\"cross\" d=\"M%.1f %.1fl10 10m0 -10l-10 10\"/>"
		    "<text class=\"lost\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">lost</text>",
		    x1 - 5, y1 - 5, x1, y1 + 18);
	double mx, my, ang;
	if (place_label(L, x0, y0, x1, y1, strlen(label), &mx, &my, &ang)) {
		fprintf(out,
		        "<text class=\"lbl\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
		        "fill=\"%s\" transform=\"rotate(%.2f %.1f %.1f)\" dy=\"-4\">",
		        mx, my, ink, ang * 180.0 / M_PI, mx, my);
		svg_text(out, label);
		fputs("</text>", out);
	}
	fputs("</g>\n", out);
}

static void draw_event_text(FILE *out, const struct render_log *log, const struct layout *L,
                            size_t i)
{
	const struct render_event *e = &log->ev[i];
	char buf[192];
	double y = L->y[i];
	if (L->hidden[i])
		return;
	if (e->kind == RENDER_NOTE) {
		text_beside(out, e->host, y, "note");
		svg_text(out, e->text);
		fputs("</text>\n", out);
		return;
	}
	if (e->kind == RENDER_APP) {
		text_beside(out, e->host, y, "app");
		svg_text(out, svg_app_text(e, buf, sizeof(buf)));
		fputs("</text>\n", out);
		return;
	}
	const struct synack_trace *tr = &e->tr;
	if (tr->kind == SYNACK_TRACE_STATE && !L->drives[i]) {
		text_beside(out, e->host, y, "note");
		snprintf(buf, sizeof(buf), "listener %s -> %s [%s]", synack_state_name(tr->from),
		         synack_state_name(tr->to), synack_cause_name(tr->cause));
		svg_text(out, buf);
		fputs("</text>\n", out);
		return;
	}
	if (tr->kind == SYNACK_TRACE_STATE) {
		int open;
		uint64_t end = state_end(log, L, i, &open);
		text_beside(out, e->host, y, "state");
		fprintf(out, "<tspan fill=\"%s\">", state_ink(tr->to));
		svg_text(out, synack_state_name(tr->to));
		fputs("</tspan><tspan class=\"dur\"> ", out);
		if (tr->to != SYNACK_CLOSED) {
			fputs(open ? "\u2265 " : "", out);
			put_duration(out, end - e->t_us);
		}
		fputs(" [", out);
		svg_text(out, synack_cause_name(tr->cause));
		fputs("]</tspan></text>\n", out);
		return;
	}
	if (tr->kind == SYNACK_TRACE_DROP) {
		char label[160];
		text_beside(out, e->host, y, "drop");
		snprintf(buf, sizeof(buf), "dropped %s (%s)",
		         svg_segment_label(tr, label, sizeof(label)), synack_drop_name(tr->reason));
		svg_text(out, buf);
		fputs("</text>\n", out);
	}
}

static void draw_time_labels(FILE *out, const struct render_log *log, const struct layout *L)
{
	int have = 0;
	uint64_t last = 0;
	for (size_t i = 0; i < log->n; i++) {
		if (isnan(L->y[i]) || L->hidden[i] || (have && log->ev[i].t_us == last))
			continue;
		fprintf(out, "<text class=\"time\" x=\"%d\" y=\"%.1f\">%.3f ms</text>\n", X_TIME,
		        L->y[i] + 4, (double)log->ev[i].t_us / 1000.0);
		have = 1;
		last = log->ev[i].t_us;
	}
}

static void draw_legend(FILE *out, const struct render_log *log, double y)
{
	int seen[SYNACK_STATE_COUNT] = {0};
	for (size_t i = 0; i < log->n; i++) {
		const struct render_event *e = &log->ev[i];
		if (e->kind == RENDER_TRACE && e->tr.kind == SYNACK_TRACE_STATE &&
		    e->tr.to < SYNACK_STATE_COUNT)
			seen[e->tr.to] = 1;
	}
	double x = X_TIME;
	fprintf(out, "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">states:</text>\n", x, y + 10);
	x += 52;
	for (int s = 0; s < SYNACK_STATE_COUNT; s++) {
		if (!seen[s] || s == SYNACK_CLOSED)
			continue;
		const char *name = synack_state_name(s);
		fprintf(out,
		        "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
		        "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
		        x, y, state_fill(s), x + 16, y + 10, name);
		x += 26 + 7.0 * (double)strlen(name);
	}
}

static void draw_ladder(FILE *out, const struct picture *p, struct layout *L)
{
	const struct render_log *log = p->log;
	char a[64];
	fprintf(out, "<text class=\"title\" x=\"%d\" y=\"26\">", X_TIME);
	svg_text(out, p->title);
	fputs("</text>\n", out);
	if (p->description) {
		fprintf(out, "<text class=\"desc\" x=\"%d\" y=\"48\">", X_TIME);
		svg_text(out, p->description);
		fputs("</text>\n", out);
	}
	for (int h = 0; h < 2; h++) {
		fprintf(out,
		        "<text class=\"host\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s "
		        "<tspan class=\"addr\">",
		        line_x(h), Y_LINES - 14, host_label(h));
		svg_text(out, synack_endpoint_str(h == DEMO_CLIENT ? &p->client : &p->server, a,
		                                  sizeof(a)));
		fputs("</tspan></text>\n", out);
	}
	fprintf(out, "<text class=\"time\" x=\"%d\" y=\"%d\">time</text>\n", X_TIME, Y_LINES - 14);
	draw_bands(out, log, L);
	for (int h = 0; h < 2; h++)
		fprintf(out,
		        "<line class=\"life\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
		        line_x(h), Y_LINES, line_x(h), L->bottom);
	draw_breaks(out, L);
	draw_time_labels(out, log, L);
	for (size_t i = 0; i < log->n; i++) {
		const struct render_event *e = &log->ev[i];
		if (e->kind == RENDER_TRACE && e->tr.kind == SYNACK_TRACE_TX)
			draw_arrow(out, log, L, i);
		else if (!isnan(L->y[i]))
			draw_event_text(out, log, L, i);
	}
	draw_legend(out, log, L->bottom + 12);
	if (p->truncated)
		fprintf(out,
		        "<text class=\"note\" x=\"%d\" y=\"%.1f\">the run was longer than the "
		        "picture keeps: only its first %zu events are drawn</text>\n",
		        X_TIME, L->bottom + 44, log->n);
}

/* ------------------------------------------------------------------ */
/* The graphs of a transfer.                                           */

struct plot {
	double y0;       /* top of the box */
	uint64_t t0, t1; /* time axis */
	double v1;       /* value axis: 0 .. v1 */
	const char *title, *unit;
};

static double px(const struct plot *g, uint64_t t)
{
	double span = g->t1 > g->t0 ? (double)(g->t1 - g->t0) : 1.0;
	double f = (double)(t < g->t0 ? 0 : t - g->t0) / span;
	return PLOT_X0 + (f > 1 ? 1 : f) * (PLOT_X1 - PLOT_X0);
}

static double py(const struct plot *g, double v)
{
	double f = g->v1 > 0 ? v / g->v1 : 0;
	return g->y0 + PLOT_TOP + PLOT_H - (f > 1 ? 1 : f) * PLOT_H;
}

/* 1, 2 or 5 times a power of ten, giving at most TICKS steps over span. */
static double nice_step(double span)
{
	double raw = span / TICKS;
	if (!(raw > 0))
		return 1;
	double p = pow(10, floor(log10(raw)));
	if (raw <= p)
		return p;
	if (raw <= 2 * p)
		return 2 * p;
	return raw <= 5 * p ? 5 * p : 10 * p;
}

static void draw_axes(FILE *out, const struct plot *g)
{
	double top = g->y0 + PLOT_TOP, bot = top + PLOT_H;
	fprintf(out, "<text class=\"gtitle\" x=\"%d\" y=\"%.1f\">", PLOT_X0, g->y0 + 24);
	svg_text(out, g->title);
	fputs("</text>\n", out);
	fprintf(out, "<rect class=\"frame\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>\n",
	        PLOT_X0, top, PLOT_X1 - PLOT_X0, PLOT_H);
	double span_ms = (double)(g->t1 - g->t0) / 1000.0, st = nice_step(span_ms);
	for (double v = 0; v <= span_ms + 1e-9 && st > 0; v += st) {
		double x = px(g, g->t0 + (uint64_t)(v * 1000.0 + 0.5));
		fprintf(
		    out,
		    "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		    "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
		    x, top, x, bot, x, bot + 14, (double)g->t0 / 1000.0 + v);
	}
	fprintf(
	    out,
	    "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"middle\">time (ms)</text>\n",
	    (PLOT_X0 + PLOT_X1) / 2, bot + 32);
	double sv = nice_step(g->v1);
	for (double v = 0; v <= g->v1 + 1e-9 && sv > 0; v += sv) {
		double y = py(g, v);
		fprintf(
		    out,
		    "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
		    "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
		    PLOT_X0, y, PLOT_X1, y, PLOT_X0 - 6, y + 4, v);
	}
	fprintf(out,
	        "<text class=\"tick\" transform=\"rotate(-90 %d %.1f)\" x=\"%d\" y=\"%.1f\" "
	        "text-anchor=\"middle\">",
	        18, top + PLOT_H / 2.0, 18, top + PLOT_H / 2.0);
	svg_text(out, g->unit);
	fputs("</text>\n", out);
}

static int client_seg(const struct render_event *e, int kind)
{
	return e->kind == RENDER_TRACE && e->host == DEMO_CLIENT && e->tr.kind == kind;
}

/* Sequence numbers the client sent against time, tcptrace style: a
 * vertical stroke per segment (red when it sends bytes again, crossed
 * when the network lost it), the ACKs it received as a step line and the
 * receive window the server offered above it (ack + win: the highest
 * sequence number the client may send). */
/* RFC 7323 2.2-2.3: the shift the server's window field takes on the
 * client's side: the server's SYN-ACK's window scale when the client's
 * SYN offered the option too, else 0. */
static unsigned client_snd_wscale(const struct render_log *log)
{
	int offered = 0;
	for (size_t i = 0; i < log->n; i++) {
		const struct render_event *e = &log->ev[i];
		const struct synack_trace *t = &e->tr;
		if (!(t->flags & SYNACK_TH_SYN))
			continue;
		if (client_seg(e, SYNACK_TRACE_TX))
			offered = !!(t->opts & SYNACK_TRACE_OPT_WSCALE);
		else if (client_seg(e, SYNACK_TRACE_RX) && (t->flags & SYNACK_TH_ACK))
			return offered && (t->opts & SYNACK_TRACE_OPT_WSCALE) ? t->opt_wscale : 0;
	}
	return 0;
}

/* The window a segment the client received offers, in bytes: never scaled
 * on a SYN (RFC 7323 2.2). */
static double rx_window(const struct synack_trace *t, unsigned shift)
{
	return (t->flags & SYNACK_TH_SYN) ? (double)t->win : (double)t->win * (double)(1u << shift);
}

static void draw_seq_graph(FILE *out, const struct picture *p, double y0)
{
	const struct render_log *log = p->log;
	struct plot g = {y0,
	                 0,
	                 0,
	                 1,
	                 "sequence number (client to server) against time",
	                 "relative sequence number (bytes)"};
	int have = 0;
	uint64_t last = 0;
	double vmax = 1, acked = 0;
	unsigned shift = client_snd_wscale(log);
	for (size_t i = 0; i < log->n; i++) {
		const struct render_event *e = &log->ev[i];
		const struct synack_trace *t = &e->tr;
		if (client_seg(e, SYNACK_TRACE_TX)) {
			if (!have)
				g.t0 = e->t_us;
			have = 1;
			if (t->len || (t->flags & (SYNACK_TH_SYN | SYNACK_TH_FIN))) {
				last = e->t_us;
				double end = (double)(uint32_t)(t->seq - t->iss + t->len);
				vmax = end > vmax ? end : vmax;
			}
		} else if (client_seg(e, SYNACK_TRACE_RX) && (t->flags & SYNACK_TH_ACK) && have) {
			/* The window of a segment that acks nothing new still
			 * moves the right edge; both end when the data does. */
			double ack = (double)(uint32_t)(t->ack - t->iss);
			if (ack + rx_window(t, shift) > vmax)
				vmax = ack + rx_window(t, shift);
			if (ack > acked) {
				acked = ack;
				last = e->t_us;
			}
		}
	}
	g.t1 = last > g.t0 ? last + (last - g.t0) / 40 : g.t0 + 1000;
	g.v1 = vmax * 1.05;
	draw_axes(out, &g);
	if (!have)
		return;
	/* New data, then retransmissions, each one path. */
	for (int pass = 0; pass < 2; pass++) {
		uint32_t high = 0;
		fprintf(out, "<path class=\"%s\" d=\"", pass ? "retx" : "sent");
		for (size_t i = 0; i < log->n; i++) {
			const struct render_event *e = &log->ev[i];
			const struct synack_trace *t = &e->tr;
			if (!client_seg(e, SYNACK_TRACE_TX) || e->t_us > g.t1)
				continue;
			uint32_t s = t->seq - t->iss;
			uint32_t len = t->len + !!(t->flags & (SYNACK_TH_SYN | SYNACK_TH_FIN));
			if (!len)
				continue;
			int again = s + len <= high;
			if (s + len > high)
				high = s + len;
			if (again != pass)
				continue;
			double x = px(&g, e->t_us);
			fprintf(out, "M%.1f %.1fV%.1fm-2 0h4", x, py(&g, s), py(&g, s + len));
		}
		fputs("\"/>\n", out);
	}
	fputs("<path class=\"cross\" d=\"", out);
	for (size_t i = 0; i < log->n; i++) {
		const struct render_event *e = &log->ev[i];
		if (client_seg(e, SYNACK_TRACE_TX) && e->fate_known && e->lost && e->t_us <= g.t1)
			fprintf(out, "M%.1f %.1fl6 6m0 -6l-6 6", px(&g, e->t_us) - 3,
			        py(&g, (uint32_t)(e->tr.seq - e->tr.iss)) - 3);
	}
	fputs("\"/>\n", out);
	/* The ACK line and the window line, steps in time. */
	for (int win = 0; win < 2; win++) {
		int started = 0;
		fprintf(out, "<path class=\"%s\" d=\"", win ? "rwnd" : "acked");
		for (size_t i = 0; i < log->n; i++) {
			const struct render_event *e = &log->ev[i];
			const struct synack_trace *t = &e->tr;
			if (!client_seg(e, SYNACK_TRACE_RX) || !(t->flags & SYNACK_TH_ACK) ||
			    e->t_us > g.t1 || e->t_us < g.t0)
				continue;
			double v =
			    (double)(uint32_t)(t->ack - t->iss) + (win ? rx_window(t, shift) : 0);
			if (!started)
				fprintf(out, "M%.1f %.1f", px(&g, e->t_us), py(&g, v));
			else
				fprintf(out, "H%.1fV%.1f", px(&g, e->t_us), py(&g, v));
			started = 1;
		}
		if (started)
			fprintf(out, "H%.1f", px(&g, g.t1));
		fputs("\"/>\n", out);
	}
	double ly = g.y0 + 24; /* the legend, right of the title */
	fprintf(out,
	        "<text class=\"legend\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\"><tspan "
	        "fill=\"#1f4e9c\">| segment "
	        "sent</tspan>   <tspan fill=\"#c00000\">| sent again</tspan>   "
	        "<tspan fill=\"#c00000\">\u00d7 lost</tspan>   <tspan fill=\"#1d7a1d\">\u2014 "
	        "acknowledged</tspan>   <tspan fill=\"#a84300\">\u2014 receive window "
	        "(ack + win)</tspan></text>\n",
	        PLOT_X1, ly);
	struct plot c = g; /* the cwnd graph shares the time axis */
	c.y0 = y0 + GRAPH_H;
	c.title = "the client's congestion window against time";
	c.unit = "bytes";
	double cmax = 1;
	for (size_t i = 0; i < p->ncwnd; i++) {
		const struct picture_cwnd *s = &p->cwnd[i];
		if (s->t_us > c.t1)
			break;
		if (s->cwnd > cmax)
			cmax = s->cwnd;
		if (s->ssthresh != UINT32_MAX && s->ssthresh > cmax)
			cmax = s->ssthresh;
	}
	c.v1 = cmax * 1.1;
	draw_axes(out, &c);
	for (int ss = 0; ss < 2; ss++) {
		int started = 0;
		fprintf(out, "<path class=\"%s\" d=\"", ss ? "ssthresh" : "cwnd");
		for (size_t i = 0; i < p->ncwnd; i++) {
			const struct picture_cwnd *s = &p->cwnd[i];
			if (s->t_us > c.t1)
				break;
			if (ss && s->ssthresh == UINT32_MAX) {
				started = 0;
				continue;
			}
			double v = ss ? s->ssthresh : s->cwnd;
			if (!started)
				fprintf(out, "M%.1f %.1f", px(&c, s->t_us), py(&c, v));
			else
				fprintf(out, "H%.1fV%.1f", px(&c, s->t_us), py(&c, v));
			started = 1;
		}
		if (started)
			fprintf(out, "H%.1f", px(&c, c.t1));
		fputs("\"/>\n", out);
	}
	fprintf(out,
	        "<text class=\"legend\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\"><tspan "
	        "fill=\"#1f4e9c\">\u2014 "
	        "cwnd</tspan>   <tspan fill=\"#a84300\">- - ssthresh</tspan></text>\n",
	        PLOT_X1, c.y0 + 24);
}

/* ------------------------------------------------------------------ */
/* The document.                                                       */

static const char STYLE[] =
    "text{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;font-size:11px;fill:#222}"
    ".title{font-size:16px;font-weight:bold}.desc{font-size:12px;fill:#444}"
    ".host{font-size:13px;font-weight:bold}.addr{font-weight:normal;fill:#555}"
    ".time,.tick{font-size:10px;fill:#777}.life{stroke:#222;stroke-width:1.5}"
    ".app{font-style:italic;fill:#333}.note{fill:#666;font-size:10px}"
    ".state{font-weight:bold}.dur{font-weight:normal;fill:#555;font-size:10px}"
    ".drop,.lost{fill:#c00000}.lbl{font-size:10.5px}"
    ".cross{stroke:#c00000;stroke-width:2;fill:none}"
    ".seg line{stroke-width:1.3}.brk{stroke:#222;stroke-width:1.5}"
    ".brktext{fill:#777;font-style:italic}.legend{font-size:11px}"
    ".gtitle{font-size:13px;font-weight:bold}.frame{fill:none;stroke:#444}"
    ".grid{stroke:#e3e3e3}.sent{stroke:#1f4e9c;fill:none}.retx{stroke:#c00000;fill:none}"
    ".acked{stroke:#1d7a1d;fill:none;stroke-width:1.5}"
    ".rwnd{stroke:#a84300;fill:none;stroke-width:1.2}"
    ".cwnd{stroke:#1f4e9c;fill:none;stroke-width:1.5}"
    ".ssthresh{stroke:#a84300;fill:none;stroke-dasharray:6 4}";

void svg_write(FILE *out, const struct picture *p)
{
	struct layout L;
	if (layout_ladder(&L, p->log) != 0) {
		layout_free(&L);
		fputs("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"40\">"
		      "<text x=\"8\" y=\"24\">out of memory drawing the picture</text></svg>\n",
		      out);
		return;
	}
	double ladder_h = L.bottom + (p->truncated ? 60 : 40);
	double height = ladder_h + (p->graphs ? 2 * GRAPH_H : 0);
	fprintf(out,
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
	        "height=\"%.0f\" viewBox=\"0 0 %d %.0f\">\n",
	        PAGE_W, height, PAGE_W, height);
	fprintf(out, "<title>");
	svg_text(out, p->title);
	fprintf(out, "</title>\n<style>%s</style>\n", STYLE);
	fputs("<defs>", out);
	for (size_t k = 0; k < sizeof(INKS) / sizeof(INKS[0]); k++)
		fprintf(out,
		        "<marker id=\"head%zu\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
		        "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
		        "<path d=\"M0 0L10 5L0 10z\" fill=\"%s\"/></marker>",
		        k, INKS[k]);
	fputs("</defs>\n", out);
	fprintf(out, "<rect width=\"%d\" height=\"%.0f\" fill=\"white\"/>\n", PAGE_W, height);
	fputs("<g class=\"ladder\">\n", out);
	draw_ladder(out, p, &L);
	fputs("</g>\n", out);
	if (p->graphs) {
		fputs("<g class=\"graphs\">\n", out);
		draw_seq_graph(out, p, ladder_h);
		fputs("</g>\n", out);
	}
	fputs("</svg>\n", out);
	layout_free(&L);
}

int svg_file(const char *path, const struct picture *p, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "--svg: cannot create '%s': %s", path, strerror(errno));
		return -1;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	svg_write(f, p);
	return svg_close(f, "--svg", path, err, errlen);
}

int svg_close(FILE *f, const char *flag, const char *path, char *err, size_t errlen)
{
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		snprintf(err, errlen, "%s: writing '%s' failed", flag, path);
		return -1;
	}
	return 0;
}
