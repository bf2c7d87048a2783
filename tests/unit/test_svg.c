/*
 * The pictures (tools/svg.c, tools/html.c) from hand-made render logs: text
 * is escaped for XML whatever it holds, segment labels count from each
 * side's ISS, a quiet minute becomes one break, a lost segment is crossed
 * out, a host's band follows its connection and not its listener, a long
 * log keeps its ladder short, and an empty log still makes a picture.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "demo.h"
#include "render.h"
#include "svg.h"

#define CLIENT_ADDR 0x0a000001u
#define SERVER_ADDR 0x0a000002u

/* Occurrences of needle in hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static char *draw(const struct render_log *log, int graphs)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct picture p = {.log = log, .title = "t<1>", .description = "d&d", .graphs = graphs};
	p.client.addr = CLIENT_ADDR;
	p.client.port = 40000;
	p.server.addr = SERVER_ADDR;
	p.server.port = 80;
	svg_write(out, &p);
	fclose(out);
	return text;
}

static struct render_event *seg(struct render_log *log, uint64_t t, int host, int kind,
                                uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct render_event *e = render_log_add(log, t, host, RENDER_TRACE);
	struct synack_trace *tr = &e->tr;
	tr->t_us = t;
	tr->kind = (uint8_t)kind;
	tr->flags = flags;
	tr->seq = seq;
	tr->ack = ack;
	tr->len = len;
	tr->win = 65535;
	int client = host == DEMO_CLIENT;
	tr->local.addr = client ? CLIENT_ADDR : SERVER_ADDR;
	tr->local.port = client ? 40000 : 80;
	tr->remote.addr = client ? SERVER_ADDR : CLIENT_ADDR;
	tr->remote.port = client ? 80 : 40000;
	tr->iss = client ? 1000 : 5000;
	tr->irs = client ? 5000 : 1000;
	return e;
}

static void state(struct render_log *log, uint64_t t, int host, int from, int to, int listener)
{
	struct render_event *e = seg(log, t, host, SYNACK_TRACE_STATE, 0, 0, 0, 0);
	e->tr.from = (uint8_t)from;
	e->tr.to = (uint8_t)to;
	if (listener)
		memset(&e->tr.remote, 0, sizeof(e->tr.remote));
}

static void svg_text_escapes_markup_and_drops_control_characters(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	svg_text(out, "a<b>&\"'\x01\x1f"
	              "c\td");
	fclose(out);
	CHECK_STR(text, "a&lt;b&gt;&amp;&quot;&apos;c\td");
	free(text);
	/* UTF-8 passes; Latin-1 and cut sequences become '?'. */
	out = open_memstream(&text, &len);
	svg_text(out, "\xe2\x89\x88 caf\xe9 \xe2\x89");
	fclose(out);
	CHECK_STR(text, "\xe2\x89\x88 caf? ??");
	free(text);
}

static void svg_segment_label_counts_from_each_sides_iss(void)
{
	struct render_log log;
	char buf[160];
	render_log_init(&log);
	/* Sent by the client: seq from its ISS (1000), ack from the server's. */
	struct render_event *tx = seg(&log, 0, DEMO_CLIENT, SYNACK_TRACE_TX,
	                              SYNACK_TH_PSH | SYNACK_TH_ACK, 1001, 5001, 28);
	CHECK_STR(svg_segment_label(&tx->tr, buf, sizeof(buf)), "P. 1:29(28) ack 1 win 65535");
	/* The same segment as the server received it: its irs is the client's ISS. */
	struct render_event *rx = seg(&log, 0, DEMO_SERVER, SYNACK_TRACE_RX,
	                              SYNACK_TH_PSH | SYNACK_TH_ACK, 1001, 5001, 28);
	CHECK_STR(svg_segment_label(&rx->tr, buf, sizeof(buf)), "P. 1:29(28) ack 1 win 65535");
	struct render_event *syn =
	    seg(&log, 0, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, 1000, 0, 0);
	CHECK_STR(svg_segment_label(&syn->tr, buf, sizeof(buf)), "S seq 0 win 65535");
	/* A RST from no connection has no ISS to count from: raw numbers. */
	struct render_event *rst =
	    seg(&log, 0, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_RST, 77, 0, 0);
	rst->tr.iss = rst->tr.irs = 0;
	rst->tr.win = 0;
	CHECK_STR(svg_segment_label(&rst->tr, buf, sizeof(buf)), "R seq 77 win 0");
	/* A buffer too small is cut, never overrun. */
	char tiny[6];
	svg_segment_label(&tx->tr, tiny, sizeof(tiny));
	CHECK_EQ(strlen(tiny), 5);
	render_log_free(&log);
}

/* The handshake and close of the demo in miniature, with a lost FIN, a
 * hostile note and a minute in TIME_WAIT. */
static void build_close(struct render_log *log)
{
	render_log_init(log);
	state(log, 0, DEMO_SERVER, SYNACK_CLOSED, SYNACK_LISTEN, 1);
	struct render_event *n = render_log_add(log, 0, DEMO_CLIENT, RENDER_NOTE);
	snprintf(n->text, sizeof(n->text), "</text><script>alert(1)</script> & \x02");
	state(log, 0, DEMO_CLIENT, SYNACK_CLOSED, SYNACK_SYN_SENT, 0);
	seg(log, 0, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, 1000, 0, 0);
	seg(log, 10000, DEMO_SERVER, SYNACK_TRACE_RX, SYNACK_TH_SYN, 1000, 0, 0);
	state(log, 10000, DEMO_SERVER, SYNACK_LISTEN, SYNACK_SYN_RECEIVED, 0);
	/* The listener closes while its child lives: the band stays. */
	state(log, 10000, DEMO_SERVER, SYNACK_LISTEN, SYNACK_CLOSED, 1);
	state(log, 20000, DEMO_CLIENT, SYNACK_SYN_SENT, SYNACK_FIN_WAIT_1, 0);
	struct render_event *fin = seg(log, 20000, DEMO_CLIENT, SYNACK_TRACE_TX,
	                               SYNACK_TH_FIN | SYNACK_TH_ACK, 1001, 5001, 0);
	fin->fate_known = 1;
	fin->lost = 1;
	state(log, 30000, DEMO_CLIENT, SYNACK_FIN_WAIT_1, SYNACK_TIME_WAIT, 0);
	state(log, 60030000, DEMO_CLIENT, SYNACK_TIME_WAIT, SYNACK_CLOSED, 0);
}

static void svg_draws_breaks_bands_and_lost_segments(void)
{
	struct render_log log;
	build_close(&log);
	char *s = draw(&log, 0);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(strstr(s, "<script") == NULL);
	CHECK(strstr(s, "&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; ") != NULL);
	CHECK(strchr(s, '\x02') == NULL);
	CHECK(strstr(s, ">t&lt;1&gt;</text>") != NULL);
	/* One quiet minute: one break, with its length. */
	CHECK_EQ(count(s, "class=\"brktext\""), 1);
	CHECK(strstr(s, "60.000 s without an event (time compressed)") != NULL);
	/* Two segments sent: the SYN arrives, the FIN dies on the way. */
	CHECK_EQ(count(s, "<g class=\"seg\">"), 2);
	CHECK_EQ(count(s, ">lost</text>"), 1);
	CHECK_EQ(count(s, "marker-end="), 1);
	/* The client's TIME_WAIT band with its length; the server's
	 * SYN_RECEIVED band is not ended by its listener's close. */
	CHECK(strstr(s, "<title>client TIME_WAIT: 60.000 s</title>") != NULL);
	CHECK(strstr(s, "<title>server SYN_RECEIVED: ") != NULL);
	CHECK(strstr(s, "<title>server SYN_RECEIVED: 0 us</title>") == NULL);
	CHECK(strstr(s, "listener LISTEN -&gt; CLOSED") != NULL);
	/* Every number is finite. */
	CHECK(strstr(s, "nan") == NULL && strstr(s, "inf") == NULL);
	free(s);
	render_log_free(&log);
}

static void svg_keeps_a_long_ladder_short_and_draws_graphs(void)
{
	struct render_log log;
	render_log_init(&log);
	for (uint32_t i = 0; i < 2000; i++) {
		seg(&log, i * 100u, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_ACK, 1001 + i * 1000,
		    5001, 1000);
		seg(&log, i * 100u + 10000, DEMO_SERVER, SYNACK_TRACE_RX, SYNACK_TH_ACK,
		    1001 + i * 1000, 5001, 1000);
	}
	render_log_sort(&log);
	struct picture_cwnd cw[2] = {{0, 14600, UINT32_MAX}, {100000, 29200, 20000}};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct picture p = {.log = &log, .title = "long", .graphs = 1, .cwnd = cw, .ncwnd = 2};
	svg_write(out, &p);
	fclose(out);
	CHECK(strstr(text, "3700 events not drawn") != NULL);
	/* Only arrows with both ends drawn. */
	CHECK(count(text, "<g class=\"seg\">") < 300);
	CHECK(strstr(text, "<path class=\"sent\" d=\"M") != NULL);
	CHECK(strstr(text, "<path class=\"cwnd\" d=\"M") != NULL);
	CHECK(strstr(text, "<path class=\"ssthresh\" d=\"M") != NULL);
	free(text);
	render_log_free(&log);
}

static void svg_of_an_empty_log_is_a_picture(void)
{
	struct render_log log;
	render_log_init(&log);
	char *s = draw(&log, 1);
	CHECK(s && strstr(s, "<svg ") != NULL && strstr(s, "</svg>") != NULL);
	free(s);
	render_log_free(&log);
}

int main(void)
{
	RUN(svg_text_escapes_markup_and_drops_control_characters);
	RUN(svg_segment_label_counts_from_each_sides_iss);
	RUN(svg_draws_breaks_bands_and_lost_segments);
	RUN(svg_keeps_a_long_ladder_short_and_draws_graphs);
	RUN(svg_of_an_empty_log_is_a_picture);
	return check_summary("test_svg");
}
