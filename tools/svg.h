/*
 * Pictures of a run (`--svg FILE` of `synack demo` and `synack transfer`),
 * drawn from the same event log the ladder and the JSON lines come from
 * (render.h), so any command that fills a render log can draw them.
 *
 * The ladder as textbooks draw it: one vertical time line per host, a
 * slanted arrow per segment from its sending to its arrival, labelled with
 * its flags and sequence numbers (relative to each side's ISS, as tcpdump
 * shows them), lost segments drawn to where the network dropped them and
 * crossed out, the state names written where they change and a coloured
 * band along each line for the time spent in each state, with its length.
 * Time runs down and is compressed: the gap between two events takes room
 * that grows with the logarithm of its length, and a long quiet gap (a
 * TIME_WAIT, a retransmission timeout) is cut out and marked as a break
 * with its length, so a 60 s TIME_WAIT and a 10 ms handshake fit one page.
 *
 * With graphs (synack transfer), two more pictures on a linear time axis:
 * the sequence numbers the client sent against time with the ACK line and
 * the receive window above it (as tcptrace and Wireshark's stream graph draw
 * them), and the client's congestion window against time.
 *
 * Every text is escaped for XML and every number is printed from integers
 * or with a fixed precision: the same run gives the same bytes.
 */
#ifndef SYNACK_TOOLS_SVG_H
#define SYNACK_TOOLS_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "render.h"
#include "synack/synack.h"

/* A sample of the client's congestion control (synack_tcp_info). */
struct picture_cwnd {
	uint64_t t_us;
	uint32_t cwnd, ssthresh; /* bytes; ssthresh UINT32_MAX: not set yet */
};

/* What to draw: the log (sorted, fates attached) and its captions. */
struct picture {
	const struct render_log *log;
	const char *title;       /* "synack demo handshake (seed 1)" */
	const char *description; /* one sentence, or NULL */
	struct synack_endpoint client, server;
	int graphs; /* draw the sequence and cwnd graphs (transfer) */
	const struct picture_cwnd *cwnd;
	size_t ncwnd;
	int truncated; /* the log stopped growing at its cap: say so */
};

/*
 * The label of a segment record (TX, RX or DROP): tcpdump's flag letters,
 * seq first:end(len) or seq, ack, win, relative to the ISS of each side
 * when the record carries them.  Every field of a segment a picture shows
 * is added here, one line each.  Returns buf.
 */
const char *svg_segment_label(const struct synack_trace *tr, char *buf, size_t len);
/* The text of an application call: "connect() = -EINPROGRESS".  Returns buf. */
const char *svg_app_text(const struct render_event *e, char *buf, size_t len);
/* Writes s with &, <, >, " and ' escaped, control characters left out and
 * each byte that is not part of well-formed UTF-8 written as '?'. */
void svg_text(FILE *out, const char *s);
/* The picture as an <svg> element (no XML declaration), for a page. */
void svg_write(FILE *out, const struct picture *p);
/*
 * Writes the picture as a standalone SVG document to path.  Returns 0, or
 * -1 with a sentence in err when the file cannot be written.
 */
int svg_file(const char *path, const struct picture *p, char *err, size_t errlen);
/* Closes a picture file f written for flag: 0, or -1 with a sentence in err
 * when a write or the close failed. */
int svg_close(FILE *f, const char *flag, const char *path, char *err, size_t errlen);

#endif
