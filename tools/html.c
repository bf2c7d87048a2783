#include "html.h"

#include <errno.h>
#include <string.h>

#include "demo.h"

/* Rows of the event table; a longer run says how many it left out. */
#define TABLE_MAX_ROWS 20000

static const char PAGE_STYLE[] =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:16px;color:#222}"
    "h1{font-size:20px}h2{font-size:16px;margin-top:24px}"
    "table{border-collapse:collapse;font-size:12px}"
    "th,td{padding:2px 8px;text-align:left;border-bottom:1px solid #eee}"
    "td.t{text-align:right;font-variant-numeric:tabular-nums;color:#555}"
    "tr.tx td.what{color:#1f4e9c}tr.state td.what{font-weight:bold}"
    "tr.drop td,tr.lost td.what{color:#c00000}tr.app td.what{font-style:italic}"
    "tr.note td{color:#666}";

/* The kind and the text of an event, as its table row shows them. */
static const char *event_row(const struct render_event *e, char *buf, size_t len)
{
	char label[160];
	const struct synack_trace *tr = &e->tr;
	switch (e->kind) {
	case RENDER_NOTE:
		snprintf(buf, len, "%s", e->text);
		return "note";
	case RENDER_APP:
		svg_app_text(e, buf, len);
		return "app";
	default:
		break;
	}
	switch (tr->kind) {
	case SYNACK_TRACE_STATE:
		snprintf(buf, len, "%s \u2192 %s [%s]", synack_state_name(tr->from),
		         synack_state_name(tr->to), synack_cause_name(tr->cause));
		return "state";
	case SYNACK_TRACE_TX:
		snprintf(buf, len, "sends %s%s", svg_segment_label(tr, label, sizeof(label)),
		         e->fate_known && e->lost ? " (lost)" : "");
		return e->fate_known && e->lost ? "tx lost" : "tx";
	case SYNACK_TRACE_RX:
		snprintf(buf, len, "receives %s", svg_segment_label(tr, label, sizeof(label)));
		return "rx";
	case SYNACK_TRACE_DROP:
		snprintf(buf, len, "drops %s (%s)", svg_segment_label(tr, label, sizeof(label)),
		         synack_drop_name(tr->reason));
		return "drop";
	default:
		snprintf(buf, len, "trace record of kind %u", (unsigned)tr->kind);
		return "other";
	}
}

int html_file(const char *path, const struct picture *p, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "--html: cannot create '%s': %s", path, strerror(errno));
		return -1;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
	svg_text(f, p->title);
	/* The picture carries the title and the description. */
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", PAGE_STYLE);
	svg_write(f, p);
	fputs("<h2>Events</h2>\n<table>\n<thead><tr><th>time (ms)</th><th>host</th>"
	      "<th>event</th></tr></thead>\n<tbody>\n",
	      f);
	const struct render_log *log = p->log;
	char buf[256];
	for (size_t i = 0; i < log->n && i < TABLE_MAX_ROWS; i++) {
		const struct render_event *e = &log->ev[i];
		const char *kind = event_row(e, buf, sizeof(buf));
		fprintf(
		    f, "<tr class=\"%s\"><td class=\"t\">%.3f</td><td>%s</td><td class=\"what\">",
		    kind, (double)e->t_us / 1000.0, e->host == DEMO_CLIENT ? "client" : "server");
		svg_text(f, buf);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
	if (log->n > TABLE_MAX_ROWS)
		fprintf(f, "<p>%zu more events are left out of the table.</p>\n",
		        log->n - TABLE_MAX_ROWS);
	fputs("</body>\n</html>\n", f);
	return svg_close(f, "--html", path, err, errlen);
}

int html_pictures(const struct picture *p, const char *svg_path, const char *html_path, char *err,
                  size_t errlen)
{
	if (svg_path && svg_file(svg_path, p, err, errlen) != 0)
		return -1;
	if (html_path && html_file(html_path, p, err, errlen) != 0)
		return -1;
	return 0;
}
