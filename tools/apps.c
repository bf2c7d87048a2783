#include "apps.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define APP_CHUNK 16384

struct app_conn {
	int kind;
	uint64_t http_size;
	int stopping; /* app_conn_stop: FIN sent, reading until the peer's */
	int peer_eof; /* the peer's FIN has been read */

	/* echo: bytes read and not yet sent back */
	uint8_t *buf;
	size_t len, off;

	/* http: the request being read, then the response being sent */
	char *req; /* APP_HTTP_MAX_REQUEST bytes, then out's APP_CHUNK */
	size_t reqlen;
	int sending;
	/*
	 * The bytes of the response to send next: first its header and the
	 * start of its body together, so that one send (one segment for a
	 * small response) carries both; then the body's next chunks.
	 */
	char *out;
	size_t outlen, outoff;
	uint64_t body_len, body_off; /* body_len 0 for HEAD; body_off: bytes put in out */
	const char *body_text;       /* a short fixed body (errors), or NULL: the pattern */
	int close_after;
};

int app_kind_parse(const char *name)
{
	if (strcmp(name, "echo") == 0)
		return APP_ECHO;
	if (strcmp(name, "discard") == 0)
		return APP_DISCARD;
	if (strcmp(name, "http") == 0)
		return APP_HTTP;
	return 0;
}

const char *app_kind_name(int kind)
{
	switch (kind) {
	case APP_ECHO:
		return "echo";
	case APP_DISCARD:
		return "discard";
	case APP_HTTP:
		return "http";
	default:
		return "?";
	}
}

uint16_t app_default_port(int kind)
{
	return kind == APP_ECHO ? 7 : kind == APP_DISCARD ? 9 : 80;
}

void app_pattern(uint64_t offset, uint8_t *buf, size_t len)
{
	static const char HEX[] = "0123456789abcdef";
	uint64_t line = offset / 9;
	unsigned pos = (unsigned)(offset % 9);
	size_t i = 0;
	while (i < len) {
		if (pos == 8) {
			buf[i++] = '\n';
			pos = 0;
			line++;
			continue;
		}
		buf[i++] = (uint8_t)HEX[(line >> (4 * (7 - pos))) & 0xf];
		pos++;
	}
}

struct app_conn *app_conn_new(int kind, uint64_t http_size)
{
	struct app_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = kind;
	c->http_size = http_size;
	return c;
}

void app_conn_free(struct app_conn *c)
{
	if (!c)
		return;
	free(c->buf);
	free(c->req);
	free(c);
}

static int finish(struct app_conn *c, struct synack_stack *st, int s)
{
	(void)c;
	synack_close(st, s);
	return 1;
}

/* Reads and drops everything; 1 at the peer's FIN, -1 on an error. */
static int drain(struct synack_stack *st, int s)
{
	uint8_t tmp[APP_CHUNK];
	for (;;) {
		ssize_t n = synack_recv(st, s, tmp, sizeof(tmp), 0);
		if (n > 0)
			continue;
		if (n == 0)
			return 1;
		return n == -EAGAIN ? 0 : -1;
	}
}

/* ------------------------------------------------------------------ */
/* echo                                                                */

static int echo_event(struct app_conn *c, struct synack_stack *st, int s)
{
	if (!c->buf) {
		c->buf = malloc(APP_CHUNK);
		if (!c->buf)
			return finish(c, st, s);
	}
	for (;;) {
		if (c->off < c->len) {
			ssize_t n = synack_send(st, s, c->buf + c->off, c->len - c->off);
			if (n == -EAGAIN)
				return 0;
			if (n < 0)
				return finish(c, st, s);
			c->off += (size_t)n;
			continue;
		}
		if (c->peer_eof)
			return finish(c, st, s); /* everything echoed: FIN */
		ssize_t n = synack_recv(st, s, c->buf, APP_CHUNK, 0);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return finish(c, st, s);
		if (n == 0) {
			c->peer_eof = 1;
			continue;
		}
		c->len = (size_t)n;
		c->off = 0;
	}
}

/* ------------------------------------------------------------------ */
/* http                                                                */

/* Case-insensitive search of token in a comma-separated header value. */
static int has_token(const char *v, size_t vlen, const char *token)
{
	size_t tl = strlen(token);
	size_t i = 0;
	while (i < vlen) {
		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t j = i;
		while (j < vlen && v[j] != ',')
			j++;
		size_t e = j;
		while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - i == tl && strncasecmp(v + i, token, tl) == 0)
			return 1;
		i = j;
	}
	return 0;
}

/* Appends to out as much of the body as fits after what out holds. */
static void fill_body(struct app_conn *c)
{
	uint64_t left = c->body_len - c->body_off;
	size_t room = APP_CHUNK - c->outlen;
	size_t want = left < room ? (size_t)left : room;
	if (c->body_text)
		memcpy(c->out + c->outlen, c->body_text + c->body_off, want);
	else
		app_pattern(c->body_off, (uint8_t *)c->out + c->outlen, want);
	c->outlen += want;
	c->body_off += want;
}

/*
 * keep_alive: an HTTP/1.0 request asked for a persistent connection and
 * gets one, so the response says so (RFC 9112 C.2.2: such a client
 * otherwise takes the connection to close after the response, and waits
 * for the close).  An HTTP/1.1 client needs no header for persistence.
 */
static void respond(struct app_conn *c, int status, const char *reason, uint64_t content_len,
                    int with_body, const char *body_text, int close_after, int keep_alive)
{
	const char *extra = status == 405 ? "Allow: GET, HEAD\r\n" : "";
	const char *conn = close_after  ? "Connection: close\r\n"
	                   : keep_alive ? "Connection: keep-alive\r\n"
	                                : "";
	int n = snprintf(c->out, APP_CHUNK,
	                 "HTTP/1.1 %d %s\r\nServer: synack\r\nContent-Type: %s\r\n"
	                 "Content-Length: %llu\r\n%s%s\r\n",
	                 status, reason, body_text ? "text/plain" : "application/octet-stream",
	                 (unsigned long long)content_len, extra, conn);
	c->outlen = (size_t)n;
	c->outoff = 0;
	c->body_len = with_body ? content_len : 0;
	c->body_off = 0;
	c->body_text = body_text;
	c->close_after = close_after;
	c->sending = 1;
	fill_body(c);
}

/*
 * Takes one complete request off the front of c->req, if there is one,
 * and sets up its response.  Returns 1 when a response was set up, 0 when
 * more input is needed.
 */
static int http_parse(struct app_conn *c)
{
	char *end = NULL;
	size_t hlen = 0;
	for (size_t i = 0; i + 1 < c->reqlen; i++) {
		if (c->req[i] == '\n' && c->req[i + 1] == '\n') {
			hlen = i + 2;
			break;
		}
		if (c->req[i] == '\n' && i + 2 < c->reqlen && c->req[i + 1] == '\r' &&
		    c->req[i + 2] == '\n') {
			hlen = i + 3;
			break;
		}
	}
	if (!hlen) {
		if (c->reqlen == APP_HTTP_MAX_REQUEST) {
			respond(c, 431, "Request Header Fields Too Large", 25, 1,
			        "request header too large\n", 1, 0);
			c->reqlen = 0;
			return 1;
		}
		return 0;
	}
	end = c->req + hlen;
	/* The request line: METHOD SP TARGET SP HTTP/1.x */
	char *line_end = memchr(c->req, '\n', hlen);
	size_t ll = (size_t)(line_end - c->req);
	if (ll && c->req[ll - 1] == '\r')
		ll--;
	char line[512];
	int bad = ll >= sizeof(line);
	if (!bad) {
		memcpy(line, c->req, ll);
		line[ll] = 0;
	}
	char method[16], target[400], version[16];
	if (bad || sscanf(line, "%15s %399s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1') ||
	    version[8]) {
		respond(c, 400, "Bad Request", 12, 1, "bad request\n", 1, 0);
		c->reqlen = 0;
		return 1;
	}
	int http10 = version[7] == '0';
	int conn_close = 0, conn_keep = 0, has_body = 0;
	for (char *h = line_end + 1; h < end;) {
		char *nl = memchr(h, '\n', (size_t)(end - h));
		if (!nl)
			break;
		char *colon = memchr(h, ':', (size_t)(nl - h));
		if (colon) {
			size_t nlen = (size_t)(colon - h);
			const char *v = colon + 1;
			size_t vlen = (size_t)(nl - v);
			if (vlen && v[vlen - 1] == '\r')
				vlen--;
			if (nlen == 10 && strncasecmp(h, "Connection", 10) == 0) {
				conn_close |= has_token(v, vlen, "close");
				conn_keep |= has_token(v, vlen, "keep-alive");
			} else if (nlen == 17 && strncasecmp(h, "Transfer-Encoding", 17) == 0) {
				has_body = 1;
			} else if (nlen == 14 && strncasecmp(h, "Content-Length", 14) == 0) {
				while (vlen && (*v == ' ' || *v == '\t'))
					v++, vlen--;
				if (!(vlen == 1 && *v == '0'))
					has_body = 1;
			}
		}
		h = nl + 1;
	}
	/*
	 * Persistence as RFC 9112 9.3 has it: "close" among the Connection
	 * options ends the connection after this response; otherwise an
	 * HTTP/1.1 request keeps it open, and an HTTP/1.0 one only when it
	 * carries the "keep-alive" option (the HTTP/1.0 mechanism, which this
	 * server honours).  Every response has a Content-Length, so its end is
	 * known without a close; pipelined requests wait in req and are
	 * answered in order, one response after the other.
	 */
	int close_after = conn_close || (http10 && !conn_keep);
	memmove(c->req, end, c->reqlen - hlen);
	c->reqlen -= hlen;
	int get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
	if (!get && !head) {
		/* The request's body (if any) is never read: close after. */
		respond(c, 405, "Method Not Allowed", 19, 1, "method not allowed\n", 1, 0);
		return 1;
	}
	/* A GET with a body: answered, then closed since the body is not
	 * parsed out of the stream. */
	close_after |= has_body;
	respond(c, 200, "OK", c->http_size, get, NULL, close_after, http10 && !close_after);
	return 1;
}

/* Sends what the response allows; 1 when it is complete, 0 when blocked,
 * -1 on an error. */
static int http_send(struct app_conn *c, struct synack_stack *st, int s)
{
	for (;;) {
		if (c->outoff < c->outlen) {
			ssize_t n = synack_send(st, s, c->out + c->outoff, c->outlen - c->outoff);
			if (n == -EAGAIN)
				return 0;
			if (n < 0)
				return -1;
			c->outoff += (size_t)n;
			continue;
		}
		if (c->body_off == c->body_len)
			break;
		c->outlen = c->outoff = 0;
		fill_body(c); /* large bodies: streamed a chunk at a time */
	}
	c->sending = 0;
	return 1;
}

static int http_event(struct app_conn *c, struct synack_stack *st, int s)
{
	if (!c->req) {
		c->req = malloc(APP_HTTP_MAX_REQUEST + APP_CHUNK);
		if (!c->req)
			return finish(c, st, s);
		c->out = c->req + APP_HTTP_MAX_REQUEST;
		/*
		 * No Nagle: a response whose last segment is short (a small one
		 * whole, or a large one's tail) would otherwise wait for the ACK
		 * of what precedes it, which a client that has nothing to send
		 * delays (40 ms on Linux).  Each send is a whole response or a
		 * 16 KiB chunk, so there are no tiny writes for Nagle to merge.
		 */
		synack_setsockopt(st, s, SYNACK_TCP_NODELAY, 1);
	}
	for (;;) {
		if (c->sending) {
			int rc = http_send(c, st, s);
			if (rc < 0)
				return finish(c, st, s);
			if (rc == 0)
				return 0;
			if (c->close_after)
				return finish(c, st, s);
			continue;
		}
		if (http_parse(c))
			continue;
		if (c->peer_eof)
			return finish(c, st, s);
		ssize_t n =
		    synack_recv(st, s, c->req + c->reqlen, APP_HTTP_MAX_REQUEST - c->reqlen, 0);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return finish(c, st, s);
		if (n == 0)
			c->peer_eof = 1;
		c->reqlen += (size_t)n;
	}
}

/* ------------------------------------------------------------------ */

int app_conn_event(struct app_conn *c, struct synack_stack *st, int s)
{
	if (c->stopping) {
		int rc = drain(st, s);
		return rc != 0 ? finish(c, st, s) : 0;
	}
	switch (c->kind) {
	case APP_ECHO:
		return echo_event(c, st, s);
	case APP_DISCARD: {
		int rc = drain(st, s);
		return rc != 0 ? finish(c, st, s) : 0;
	}
	default:
		return http_event(c, st, s);
	}
}

int app_conn_stop(struct app_conn *c, struct synack_stack *st, int s)
{
	if (c->stopping)
		return 0;
	c->stopping = 1;
	synack_shutdown(st, s, SYNACK_SHUT_WR);
	return app_conn_event(c, st, s);
}
