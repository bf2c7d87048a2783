/*
 * The parser of scenario scripts (docs/SCRIPTS.md): one statement a line,
 * read strictly.  The first mistake ends the reading with
 * "FILE:LINE:COL: expected X, got Y", where COL is the 1-based column of the
 * word that did not fit (or of the end of the line).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "crowd.h"
#include "render.h"
#include "script.h"
#include "settings.h"

#define MAX_TOKENS 64
#define MAX_TEXT 16384 /* longest string; a payload is at most a demo buffer */

struct token {
	int col;    /* 1-based */
	int quoted; /* a "string" */
	char *s;    /* NUL-terminated (a string may also hold NULs: len) */
	size_t len;
};

struct cursor {
	struct script *sc;
	int line;
	struct token tok[MAX_TOKENS];
	int n, i;
	int end_col; /* the column after the last character of the line */
	char *err;
	size_t errlen;
	int failed;
};

/* "expected WHAT, got 'WORD'" at the current word (or the end of the line). */
static int fail_at(struct cursor *c, int i, const char *what)
{
	if (c->failed)
		return -1;
	c->failed = 1;
	if (i < c->n) {
		const struct token *t = &c->tok[i];
		char shown[48];
		size_t k = 0;
		for (size_t j = 0; j < t->len && k + 5 < sizeof(shown); j++) {
			unsigned char ch = (unsigned char)t->s[j];
			shown[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
		}
		if (k + 5 >= sizeof(shown))
			k += (size_t)snprintf(shown + k, sizeof(shown) - k, "...");
		shown[k < sizeof(shown) ? k : sizeof(shown) - 1] = 0;
		snprintf(c->err, c->errlen, "%s:%d:%d: expected %s, got %s%s%s", c->sc->file,
		         c->line, t->col, what, t->quoted ? "\"" : "'", shown,
		         t->quoted ? "\"" : "'");
	} else {
		snprintf(c->err, c->errlen, "%s:%d:%d: expected %s, got the end of the line",
		         c->sc->file, c->line, c->end_col, what);
	}
	return -1;
}

static int fail(struct cursor *c, const char *what)
{
	return fail_at(c, c->i, what);
}

static const char *peek(const struct cursor *c)
{
	return c->i < c->n && !c->tok[c->i].quoted ? c->tok[c->i].s : NULL;
}

static int is(const struct cursor *c, const char *w)
{
	const char *p = peek(c);
	return p && strcmp(p, w) == 0;
}

/* Takes the word w if it is next. */
static int accept_word(struct cursor *c, const char *w)
{
	if (!is(c, w))
		return 0;
	c->i++;
	return 1;
}

static int need_word(struct cursor *c, const char *w, const char *what)
{
	return accept_word(c, w) ? 0 : fail(c, what);
}

static int at_end(struct cursor *c)
{
	return c->i >= c->n ? 0 : fail(c, "the end of the line");
}

/* ------------------------------------------------------------------ */
/* Tokens.                                                             */

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Splits one line (without its newline) into tokens; 0 or -1 (err set). */
static int tokenize(struct cursor *c, const char *p, size_t len)
{
	size_t i = 0;
	c->n = c->i = 0;
	c->end_col = (int)len + 1;
	while (i < len) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r') {
			i++;
			continue;
		}
		if (p[i] == '#') {
			c->end_col = (int)i + 1;
			break;
		}
		if (c->n >= MAX_TOKENS) {
			c->i = c->n;
			c->end_col = (int)i + 1;
			return fail(c, "at most 64 words on a line");
		}
		struct token *t = &c->tok[c->n];
		t->col = (int)i + 1;
		t->quoted = p[i] == '"';
		size_t start = i;
		char *buf = malloc(t->quoted ? MAX_TEXT + 1 : len - i + 1);
		if (!buf) {
			snprintf(c->err, c->errlen, "%s: out of memory", c->sc->file);
			c->failed = 1;
			return -1;
		}
		t->s = buf;
		t->len = 0;
		c->n++;
		if (!t->quoted) {
			while (i < len && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
			       p[i] != '#')
				buf[t->len++] = p[i++];
			buf[t->len] = 0;
			continue;
		}
		i++;
		for (;;) {
			if (i >= len) {
				c->i = c->n;
				c->end_col = (int)len + 1;
				return fail(c, "a closing '\"'");
			}
			char ch = p[i];
			if (ch == '"') {
				i++;
				break;
			}
			if (t->len >= MAX_TEXT) {
				c->i = c->n - 1;
				return fail(c, "a string of at most 16384 bytes");
			}
			if (ch != '\\') {
				buf[t->len++] = ch;
				i++;
				continue;
			}
			char e = i + 1 < len ? p[i + 1] : 0;
			int h1, h2;
			switch (e) {
			case 'r':
				buf[t->len++] = '\r';
				break;
			case 'n':
				buf[t->len++] = '\n';
				break;
			case 't':
				buf[t->len++] = '\t';
				break;
			case '\\':
				buf[t->len++] = '\\';
				break;
			case '"':
				buf[t->len++] = '"';
				break;
			case '0':
				buf[t->len++] = 0;
				break;
			case 'x':
				h1 = i + 2 < len ? hexval(p[i + 2]) : -1;
				h2 = i + 3 < len ? hexval(p[i + 3]) : -1;
				if (h1 < 0 || h2 < 0) {
					c->failed = 1;
					snprintf(c->err, c->errlen,
					         "%s:%d:%d: expected two hex digits after \\x, got "
					         "'%.*s'",
					         c->sc->file, c->line, (int)i + 1,
					         (int)(len - i < 4 ? len - i : 4), p + i);
					return -1;
				}
				buf[t->len++] = (char)(h1 * 16 + h2);
				i += 2;
				break;
			default:
				c->failed = 1;
				snprintf(c->err, c->errlen,
				         "%s:%d:%d: expected an escape (\\r \\n \\t \\\\ \\\" \\0 "
				         "\\xHH), "
				         "got '\\%c'",
				         c->sc->file, c->line, (int)i + 1,
				         e >= 0x20 && e < 0x7f ? e : '?');
				return -1;
			}
			i += 2;
		}
		buf[t->len] = 0;
		(void)start;
	}
	return 0;
}

static void free_tokens(struct cursor *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->tok[i].s);
	c->n = c->i = 0;
}

/* ------------------------------------------------------------------ */
/* Values.                                                             */

/* One time with its unit (us, ms, s, min, h) of length len at w, in
 * microseconds: 0, or -1 when it is none or longer than a day. */
static int time_literal(const char *w, size_t len, uint64_t *us)
{
	static const struct {
		const char *unit;
		double us;
	} UNITS[] = {{"us", 1}, {"ms", 1e3}, {"s", 1e6}, {"min", 60e6}, {"h", 3600e6}};
	char tmp[40];
	if (len == 0 || len >= sizeof(tmp) || w[0] < '0' || w[0] > '9')
		return -1;
	memcpy(tmp, w, len);
	tmp[len] = 0;
	char *end;
	double v = strtod(tmp, &end);
	for (size_t u = 0; u < sizeof(UNITS) / sizeof(UNITS[0]); u++) {
		if (strcmp(end, UNITS[u].unit) != 0)
			continue;
		double t = v * UNITS[u].us;
		if (!(t >= 0 && t <= 86400e6) || t != floor(t))
			return -1;
		*us = (uint64_t)t;
		return 0;
	}
	return -1;
}

int script_time_word(const char *w, uint64_t *us, struct script_rel *rel)
{
	uint64_t sum = 0;
	struct script_rel r = {0, 0};
	if (!w || !*w)
		return -1;
	while (*w) {
		size_t len = strcspn(w, "+");
		const char *star = memchr(w, '*', len);
		size_t name = star ? (size_t)(star + 1 - w) : 0; /* where delay/rtt starts */
		double k = 1;
		if (star) {
			char num[24], *end;
			size_t nl = (size_t)(star - w);
			if (nl == 0 || nl >= sizeof(num) || w[0] < '0' || w[0] > '9')
				return -1;
			memcpy(num, w, nl);
			num[nl] = 0;
			k = strtod(num, &end);
			if (*end || !(k >= 0 && k <= 1000))
				return -1;
		}
		size_t rest = len - name;
		if (rest == 5 && strncmp(w + name, "delay", 5) == 0) {
			r.delay += k;
		} else if (rest == 3 && strncmp(w + name, "rtt", 3) == 0) {
			r.rtt += k;
		} else {
			uint64_t t;
			if (star || time_literal(w, len, &t) != 0 || sum + t > 86400000000ull)
				return -1;
			sum += t;
		}
		w += len;
		if (*w == '+' && *++w == 0)
			return -1; /* a sum ends in a term */
	}
	*us = sum;
	if (rel)
		*rel = r;
	return 0;
}

#define TIME_WHAT "a time with its unit (250us, 200ms, 2s, 1.5s, 2min, 1h; at most a day)"

/* A time with its unit in microseconds, at most a day. */
static int parse_time(struct cursor *c, uint64_t *us)
{
	const char *w = peek(c);
	if (w && time_literal(w, strlen(w), us) == 0) {
		c->i++;
		return 0;
	}
	return fail(c, TIME_WHAT);
}

/* A time that may be relative to the path: 3*delay+20ms, rtt, 2*rtt+1s. */
static int parse_time_rel(struct cursor *c, uint64_t *us, struct script_rel *rel)
{
	const char *w = peek(c);
	if (w && script_time_word(w, us, rel) == 0) {
		c->i++;
		return 0;
	}
	if (w && !strpbrk(w, "*+") && !strstr(w, "delay") && !strstr(w, "rtt"))
		return fail(c, TIME_WHAT);
	return fail(c, "a sum of times and multiples of delay and rtt (3*delay+20ms, 2*rtt)");
}

static int parse_u64(struct cursor *c, uint64_t max, uint64_t *out, const char *what)
{
	const char *w = peek(c);
	if (w && cli_parse_u64(w, max, out) == 0) {
		c->i++;
		return 0;
	}
	return fail(c, what);
}

/* A whole number from 1 to max. */
static int parse_positive(struct cursor *c, uint64_t max, uint64_t *out, const char *what)
{
	if (parse_u64(c, max, out, what))
		return -1;
	return *out == 0 ? fail_at(c, c->i - 1, what) : 0;
}

static int parse_prob(struct cursor *c, double *out)
{
	const char *w = peek(c);
	if (w) {
		size_t l = strlen(w);
		double v;
		if (l > 1 && w[l - 1] == '%') {
			char tmp[32];
			if (l < sizeof(tmp)) {
				memcpy(tmp, w, l - 1);
				tmp[l - 1] = 0;
				if (cli_parse_double(tmp, 0, 100, &v) == 0) {
					*out = v / 100;
					c->i++;
					return 0;
				}
			}
		} else if (cli_parse_prob(w, &v) == 0) {
			*out = v;
			c->i++;
			return 0;
		}
	}
	return fail(c, "a probability (0.01 or 1%)");
}

static int parse_rate(struct cursor *c, uint64_t *bps)
{
	const char *w = peek(c);
	static const struct {
		const char *unit;
		double mult;
	} UNITS[] = {{"bps", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}};
	if (w && w[0] >= '0' && w[0] <= '9') {
		char *end;
		double v = strtod(w, &end);
		for (size_t u = 0; u < sizeof(UNITS) / sizeof(UNITS[0]); u++) {
			if (strcmp(end, UNITS[u].unit) != 0)
				continue;
			double r = v * UNITS[u].mult;
			if (!(r >= 1 && r <= 1e12))
				break;
			*bps = (uint64_t)r;
			c->i++;
			return 0;
		}
	}
	return fail(c, "a rate (64kbit, 10mbit, 1gbit, 9600bps)");
}

/* client or server (or both, when allowed). */
static int parse_host(struct cursor *c, int both_ok, int *h)
{
	if (accept_word(c, "client"))
		*h = DEMO_CLIENT;
	else if (accept_word(c, "server"))
		*h = DEMO_SERVER;
	else if (both_ok && accept_word(c, "both"))
		*h = SCRIPT_BOTH;
	else
		return fail(c, both_ok ? "a host (client, server or both)"
		                       : "a host (client or server)");
	return 0;
}

static int parse_state(struct cursor *c, int *st)
{
	const char *w = peek(c);
	for (int i = 0; w && i < SYNACK_STATE_COUNT; i++)
		if (strcmp(w, synack_state_name(i)) == 0) {
			*st = i;
			c->i++;
			return 0;
		}
	return fail(c, "a state (CLOSED, LISTEN, SYN_SENT, ESTABLISHED, FIN_WAIT_1, ...)");
}

/* Flags as the ladder writes them: S F R P U E W, and '.' for ACK. */
static int parse_flags(struct cursor *c, uint8_t *flags)
{
	const char *w = peek(c);
	uint8_t f = 0;
	int ok = w && w[0];
	for (const char *p = w; ok && *p; p++) {
		uint8_t b = 0;
		switch (*p) {
		case 'S':
			b = SYNACK_TH_SYN;
			break;
		case 'F':
			b = SYNACK_TH_FIN;
			break;
		case 'R':
			b = SYNACK_TH_RST;
			break;
		case 'P':
			b = SYNACK_TH_PSH;
			break;
		case 'U':
			b = SYNACK_TH_URG;
			break;
		case 'E':
			b = SYNACK_TH_ECE;
			break;
		case 'W':
			b = SYNACK_TH_CWR;
			break;
		case '.':
			b = SYNACK_TH_ACK;
			break;
		default:
			ok = 0;
			break;
		}
		if (f & b)
			ok = 0;
		f |= b;
	}
	if (!ok)
		return fail(c, "flags as the ladder writes them (S, S., ., P., F., R, R. ...)");
	*flags = f;
	c->i++;
	return 0;
}

static int parse_string(struct cursor *c, struct script_stmt *s, const char *what)
{
	if (c->i >= c->n || !c->tok[c->i].quoted)
		return fail(c, what);
	struct token *t = &c->tok[c->i++];
	s->text = malloc(t->len + 1);
	if (!s->text) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->sc->file);
		c->failed = 1;
		return -1;
	}
	memcpy(s->text, t->s, t->len + 1);
	s->textlen = t->len;
	return 0;
}

/* A string, or "N bytes". */
static int parse_payload(struct cursor *c, struct script_stmt *s)
{
	if (c->i < c->n && c->tok[c->i].quoted)
		return parse_string(c, s, "a string");
	uint64_t n;
	if (parse_u64(c, SCRIPT_MAX_BYTES, &n, "a string or N bytes (N at most 1048576)") != 0)
		return -1;
	s->count = (int64_t)n;
	return need_word(c, "bytes", "'bytes'");
}

static int parse_sel(struct cursor *c, int *sel)
{
	static const char *const NAMES[] = {"SYN", "SYN-ACK", "FIN",    "RST",
	                                    "ACK", "data",    "segment"};
	for (int i = 0; i < (int)(sizeof(NAMES) / sizeof(NAMES[0])); i++)
		if (accept_word(c, NAMES[i])) {
			*sel = i;
			return 0;
		}
	return fail(c, "a kind of segment (SYN, SYN-ACK, FIN, RST, ACK, data or segment)");
}

/* A name of the file's own (a timer, a comparison run): a-z, 0-9, '-', '_';
 * at most 31 characters.  1 when w is one. */
static int is_name(const char *w)
{
	size_t l = w ? strlen(w) : 0;
	int ok = l > 0 && l < 32;
	for (size_t i = 0; ok && i < l; i++)
		ok = (w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9') || w[i] == '-' ||
		     w[i] == '_';
	return ok;
}

/* timer NAME: its index, a new one when add (-1: not known, or too many). */
static int timer_index(struct script *sc, const char *w, int add)
{
	for (int i = 0; i < sc->ntimers; i++)
		if (strcmp(sc->timer[i], w) == 0)
			return i;
	if (!add || sc->ntimers >= SCRIPT_MAX_TIMERS)
		return -1;
	snprintf(sc->timer[sc->ntimers], sizeof(sc->timer[0]), "%s", w);
	return sc->ntimers++;
}

/* A comparison: =, !=, <, <=, >, >=. */
static int parse_cmp(struct cursor *c, int *cmp)
{
	static const char *const CMPS[] = {"=", "!=", "<", "<=", ">", ">="};
	for (int i = 0; i < 6; i++)
		if (accept_word(c, CMPS[i])) {
			*cmp = i;
			return 0;
		}
	return fail(c, "a comparison (=, !=, <, <=, >, >=)");
}

/*
 * The times a note names in braces ("hold it {3*delay+20ms}") must be
 * times of the language; 0, or -1 with the error at the note's word.
 */
static int check_note_times(struct cursor *c, const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (t[i] != '{')
			continue;
		const char *close = memchr(t + i, '}', len - i);
		char w[64];
		size_t l = close ? (size_t)(close - t) - i - 1 : 0;
		uint64_t us;
		if (!close || l == 0 || l >= sizeof(w))
			return fail_at(c, c->i - 1, "a time in braces, closed ({3*delay+20ms})");
		memcpy(w, t + i + 1, l);
		w[l] = 0;
		if (script_time_word(w, &us, NULL) != 0)
			return fail_at(c, c->i - 1,
			               "a time in braces ({200ms}, {3*delay+20ms}, {rtt})");
		i += l + 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Statements.                                                         */

static int parse_path(struct cursor *c, struct script_stmt *s)
{
	s->dir = -1;
	if (accept_word(c, "client->server"))
		s->dir = DEMO_CLIENT;
	else if (accept_word(c, "server->client"))
		s->dir = DEMO_SERVER;
	static const char *const KEYS[] = {"delay",   "jitter",  "loss", "dup",
	                                   "reorder", "corrupt", "rate", "queue"};
	if (c->i >= c->n)
		return fail(c,
		            "a path key (delay, jitter, loss, dup, reorder, corrupt, rate, queue)");
	while (c->i < c->n) {
		int k = -1;
		for (int j = 0; j < 8; j++)
			if (is(c, KEYS[j]))
				k = j;
		if (k < 0)
			return fail(
			    c,
			    "a path key (delay, jitter, loss, dup, reorder, corrupt, rate, queue)");
		c->i++;
		uint64_t v;
		int r = 0;
		switch (k) {
		case 0:
		case 1:
			r = parse_time(c, &v);
			if (r == 0 && v > UINT32_MAX)
				r = fail_at(c, c->i - 1, "a delay of at most 4294967295us");
			if (k == 0)
				s->path.delay_us = (uint32_t)v;
			else
				s->path.jitter_us = (uint32_t)v;
			break;
		case 2:
			r = parse_prob(c, &s->path.loss);
			break;
		case 3:
			r = parse_prob(c, &s->path.dup);
			break;
		case 4:
			r = parse_prob(c, &s->path.reorder);
			break;
		case 5:
			r = parse_prob(c, &s->path.corrupt);
			break;
		case 6:
			r = parse_rate(c, &s->path.rate_bps);
			break;
		default:
			r = parse_u64(c, 1000000, &v,
			              "a queue length in datagrams (at most 1000000)");
			s->path.queue_pkts = (uint32_t)v;
			break;
		}
		if (r)
			return -1;
		s->mask |= 1u << k;
	}
	return 0;
}

/* drop next [N] SEL from HOST | drop all SEL from HOST | drop none;
 * delay next [N] SEL from HOST by TIME */
static int parse_rule(struct cursor *c, struct script_stmt *s)
{
	if (s->kind == SCR_DROP && accept_word(c, "none")) {
		s->kind = SCR_DROP_NONE;
		return 0;
	}
	s->count = 1;
	if (s->kind == SCR_DROP && accept_word(c, "all")) {
		s->count = -1;
	} else if (accept_word(c, "next")) {
		const char *w = peek(c);
		if (w && w[0] >= '0' && w[0] <= '9') {
			uint64_t n;
			if (parse_u64(c, 1000000, &n, "a count of segments (1 to 1000000)") != 0)
				return -1;
			if (n == 0)
				return fail_at(c, c->i - 1, "a count of segments (1 to 1000000)");
			s->count = (int64_t)n;
		}
	} else {
		return fail(c, s->kind == SCR_DROP ? "'next', 'all' or 'none'" : "'next'");
	}
	if (parse_sel(c, &s->sel) || need_word(c, "from", "'from'") || parse_host(c, 0, &s->host))
		return -1;
	if (s->count > 0 && accept_word(c, "after")) {
		/* "after N": the first N such segments pass. */
		uint64_t n;
		if (parse_u64(c, 1000000, &n, "a count of segments to let pass (0 to 1000000)") !=
		    0)
			return -1;
		s->value = (int64_t)n;
	}
	if (s->kind == SCR_DELAY &&
	    (need_word(c, "by", "'by'") || parse_time_rel(c, &s->time_us, &s->rel)))
		return -1;
	return 0;
}

static int parse_connect(struct cursor *c, struct script_stmt *s)
{
	const char *w = peek(c);
	const char *colon = w ? strrchr(w, ':') : NULL;
	uint64_t port = 0;
	static const char WHAT[] = "HOST:PORT (server:80, client:5000 or 10.0.0.2:80)";
	if (!colon || cli_parse_u64(colon + 1, 65535, &port) != 0 || port == 0)
		return fail(c, WHAT);
	size_t hl = (size_t)(colon - w);
	s->peer = -1;
	if (hl == 6 && strncmp(w, "client", 6) == 0) {
		s->peer = DEMO_CLIENT;
	} else if (hl == 6 && strncmp(w, "server", 6) == 0) {
		s->peer = DEMO_SERVER;
	} else {
		char tmp[64];
		struct synack_endpoint ep;
		if (strlen(w) >= sizeof(tmp) || synack_endpoint_parse(w, &ep) != 0)
			return fail(c, WHAT);
		s->addr = ep.addr;
	}
	s->port = (uint16_t)port;
	c->i++;
	while (c->i < c->n) {
		if (accept_word(c, "nowait")) {
			s->nowait = 1;
		} else if (accept_word(c, "from")) {
			if (parse_u64(c, 65535, &port, "a port (1 to 65535)") != 0)
				return -1;
			if (port == 0)
				return fail_at(c, c->i - 1, "a port (1 to 65535)");
			s->from_port = (uint16_t)port;
		} else {
			return fail(c, "'from PORT', 'nowait' or the end of the line");
		}
	}
	return 0;
}

static int parse_setsockopt(struct cursor *c, struct script_stmt *s)
{
	static const struct {
		const char *name;
		int opt;
		int time; /* the value is a time in ms */
	} OPTS[] = {
	    {"keepalive", SYNACK_SO_KEEPALIVE, 0},
	    {"keepidle", SYNACK_TCP_KEEPIDLE, 1},
	    {"keepintvl", SYNACK_TCP_KEEPINTVL, 1},
	    {"keepcnt", SYNACK_TCP_KEEPCNT, 0},
	    {"nodelay", SYNACK_TCP_NODELAY, 0},
	    {"rcvbuf", SYNACK_SO_RCVBUF, 0},
	    {"sndbuf", SYNACK_SO_SNDBUF, 0},
	    {"linger", SYNACK_SO_LINGER, 0},
	    {"user_timeout", SYNACK_TCP_USER_TIMEOUT, 1},
	    {"reuseaddr", SYNACK_SO_REUSEADDR, 0},
	    {"fastopen_connect", SYNACK_TCP_FASTOPEN_CONNECT, 0},
	};
	for (size_t i = 0; i < sizeof(OPTS) / sizeof(OPTS[0]); i++) {
		if (!accept_word(c, OPTS[i].name))
			continue;
		s->option = OPTS[i].opt;
		uint64_t v;
		if (OPTS[i].time) {
			if (parse_time(c, &v) != 0)
				return -1;
			v /= 1000;
		} else {
			const char *w = peek(c);
			if (!w || cli_parse_bytes(w, INT32_MAX, &v) != 0)
				return fail(c, "a value (a whole number, at most 2147483647)");
			c->i++;
		}
		if (v > INT32_MAX)
			return fail_at(c, c->i - 1, "a time of at most 2147483647 ms");
		s->value = (int64_t)v;
		return 0;
	}
	return fail(c, "an option (keepalive, keepidle, keepintvl, keepcnt, nodelay, rcvbuf, "
	               "sndbuf, linger, user_timeout, reuseaddr, fastopen_connect)");
}

static int parse_inject(struct cursor *c, struct script_stmt *s)
{
	if (parse_flags(c, &s->flags))
		return -1;
	s->win = 65535;
	while (c->i < c->n) {
		uint64_t v;
		if (c->tok[c->i].quoted || (peek(c) && peek(c)[0] >= '0' && peek(c)[0] <= '9')) {
			if (s->text || s->count > 0)
				return fail(c, "one payload");
			if (parse_payload(c, s))
				return -1;
		} else if (accept_word(c, "seq") || accept_word(c, "ack")) {
			int isseq = strcmp(c->tok[c->i - 1].s, "seq") == 0;
			if (parse_u64(c, UINT32_MAX, &v,
			              "a relative sequence number (0 to 4294967295)"))
				return -1;
			if (isseq) {
				s->has_seq = 1;
				s->seq = (int64_t)v;
			} else {
				s->has_ack = 1;
				s->ack = (int64_t)v;
			}
		} else if (accept_word(c, "win")) {
			if (parse_u64(c, 65535, &v, "a window (0 to 65535)"))
				return -1;
			s->win = (uint32_t)v;
		} else if (accept_word(c, "mss")) {
			if (parse_u64(c, 65535, &v, "an MSS (0 to 65535)"))
				return -1;
			s->has_mss = 1;
			s->mss = (uint16_t)v;
		} else if (accept_word(c, "wscale")) {
			if (parse_u64(c, 14, &v, "a window scale (0 to 14)"))
				return -1;
			s->has_wscale = 1;
			s->wscale = (uint8_t)v;
		} else if (accept_word(c, "sackok")) {
			s->sackok = 1;
		} else if (accept_word(c, "ts")) {
			uint64_t e;
			if (parse_u64(c, UINT32_MAX, &v, "a timestamp value (0 to 4294967295)") ||
			    parse_u64(c, UINT32_MAX, &e, "a timestamp echo (0 to 4294967295)"))
				return -1;
			s->has_ts = 1;
			s->ts_val = (uint32_t)v;
			s->ts_ecr = (uint32_t)e;
		} else {
			return fail(c,
			            "seq, ack, win, mss, wscale, sackok, ts, a string or N bytes");
		}
	}
	return 0;
}

/* expect timer NAME CMP TIME|RUN (after `expect [in RUN]`). */
static int parse_expect_timer(struct cursor *c, struct script_stmt *s)
{
	s->kind = SCR_EXPECT_TIMER;
	const char *w = peek(c);
	s->option = w ? timer_index(c->sc, w, 0) : -1;
	if (s->option < 0)
		return fail(c, "the name of a timer started before (timer NAME start)");
	c->i++;
	if (parse_cmp(c, &s->cmp))
		return -1;
	w = peek(c);
	const char *star = w ? strchr(w, '*') : NULL;
	const char *other = star ? star + 1 : w;
	if (!s->in_compare && w && c->sc->has_compare && strcmp(w, c->sc->compare) == 0) {
		s->has_seq = 1; /* the same timer of the comparison run */
		c->i++;
	} else if (other && timer_index(c->sc, other, 0) >= 0) {
		/* Another timer of the run, or a multiple of it: 1.5*scaled. */
		char num[24], *end;
		s->has_len = 1;
		s->count = timer_index(c->sc, other, 0);
		s->factor = 1;
		if (star) {
			size_t nl = (size_t)(star - w);
			if (nl == 0 || nl >= sizeof(num) || w[0] < '0' || w[0] > '9')
				return fail(c, "a timer, or a number times a timer (1.5*scaled)");
			memcpy(num, w, nl);
			num[nl] = 0;
			s->factor = strtod(num, &end);
			if (*end || !(s->factor >= 0 && s->factor <= 1000))
				return fail(c, "a timer, or a number times a timer (1.5*scaled)");
		}
		c->i++;
	} else if (parse_time_rel(c, &s->time_us, &s->rel)) {
		return -1;
	}
	return at_end(c);
}

static int parse_expect(struct cursor *c, struct script_stmt *s)
{
	if (accept_word(c, "in")) {
		const char *w = peek(c);
		if (!c->sc->has_compare || !w || strcmp(w, c->sc->compare) != 0)
			return fail(c, "the name of the comparison run (compare NAME set ...)");
		c->i++;
		s->in_compare = 1;
		if (accept_word(c, "timer"))
			return parse_expect_timer(c, s);
		if (parse_host(c, 0, &s->host))
			return -1;
		if (!is(c, "counter"))
			return fail(c, "'counter' (or 'timer' before the host)");
	} else if (accept_word(c, "timer")) {
		return parse_expect_timer(c, s);
	} else if (parse_host(c, 0, &s->host)) {
		return -1;
	}
	if (accept_word(c, "state")) {
		s->kind = SCR_EXPECT_STATE;
		if (parse_state(c, &s->state))
			return -1;
		if (accept_word(c, "at")) {
			s->has_at = 1;
			if (parse_time(c, &s->at_us))
				return -1;
		}
	} else if (accept_word(c, "states")) {
		s->kind = SCR_EXPECT_STATES;
		/* The path as the summary writes it: words up to the end. */
		char buf[512];
		size_t k = 0;
		if (c->i >= c->n || c->tok[c->i].quoted)
			return fail(c, "a state path (CLOSED>SYN_SENT>ESTABLISHED ...)");
		while (c->i < c->n) {
			if (c->tok[c->i].quoted)
				return fail(c, "a state path (CLOSED>SYN_SENT>ESTABLISHED ...)");
			const char *w = c->tok[c->i].s;
			/* Each name between '>' and ';' is a state. */
			const char *p = w;
			while (*p) {
				size_t l = strcspn(p, ">;~");
				int found = l == 0 && p != w && p[-1] == ';';
				for (int st = 0; !found && st < SYNACK_STATE_COUNT; st++)
					found = strlen(synack_state_name(st)) == l &&
					        strncmp(p, synack_state_name(st), l) == 0;
				if (!found)
					return fail(
					    c, "a state path (CLOSED>SYN_SENT>ESTABLISHED ...)");
				p += l;
				if (*p)
					p++;
			}
			int wrote = snprintf(buf + k, sizeof(buf) - k, "%s%s", k ? " " : "", w);
			if (wrote < 0 || (size_t)wrote >= sizeof(buf) - k)
				return fail(c, "a state path of at most 511 characters");
			k += (size_t)wrote;
			c->i++;
		}
		s->text = strdup(buf);
		if (!s->text) {
			snprintf(c->err, c->errlen, "%s: out of memory", c->sc->file);
			c->failed = 1;
			return -1;
		}
		s->textlen = k;
		return 0;
	} else if (accept_word(c, "received")) {
		s->kind = SCR_EXPECT_RECEIVED;
		if (parse_payload(c, s))
			return -1;
	} else if (accept_word(c, "counter")) {
		s->kind = SCR_EXPECT_COUNTER;
		const char *w = peek(c);
		int found = 0;
		for (size_t i = 0; w && i < synack_counter_count(); i++)
			found |= strcmp(synack_counter_name(i), w) == 0;
		if (!found)
			return fail(c, "a counter name (as synack demo --json prints them: "
			               "TimeWaitEntered, RetransSegs, ...)");
		s->text = strdup(w);
		if (!s->text)
			return fail(c, "memory");
		c->i++;
		if (parse_cmp(c, &s->cmp))
			return -1;
		uint64_t v;
		if (parse_u64(c, INT64_MAX, &v, "a whole number"))
			return -1;
		s->value = (int64_t)v;
	} else if (accept_word(c, "sent")) {
		s->kind = SCR_EXPECT_SENT;
		s->count = -1;
		if (parse_flags(c, &s->flags))
			return -1;
		while (c->i < c->n) {
			uint64_t v;
			const char *w = peek(c);
			if (!w)
				return fail(c, "seq, ack, len, times or the end of the line");
			if (strcmp(w, "seq") == 0 || strcmp(w, "ack") == 0 ||
			    strcmp(w, "len") == 0 || strcmp(w, "times") == 0) {
				c->i++;
				if (parse_u64(c, UINT32_MAX, &v,
				              "a whole number (0 to 4294967295)"))
					return -1;
				if (w[0] == 's') {
					s->has_seq = 1;
					s->seq = (int64_t)v;
				} else if (w[0] == 'a') {
					s->has_ack = 1;
					s->ack = (int64_t)v;
				} else if (w[0] == 'l') {
					s->has_len = 1;
					s->len = (int64_t)v;
				} else {
					s->count = (int64_t)v;
				}
			} else {
				return fail(c, "seq, ack, len, times or the end of the line");
			}
		}
	} else if (accept_word(c, "error")) {
		s->kind = SCR_EXPECT_ERROR;
		const char *w = peek(c);
		for (int e = 1; w && e < 256; e++) {
			const char *nm = render_errno_name(e);
			if (nm && strcmp(nm, w) == 0) {
				s->value = -e;
				c->i++;
				return at_end(c);
			}
		}
		if (accept_word(c, "none")) {
			s->value = 0;
			return at_end(c);
		}
		return fail(
		    c, "an error name (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, ...) or none");
	} else {
		return fail(c, "state, states, received, counter, sent or error");
	}
	return at_end(c);
}

/* HOST VERB ...: the applications' actions, and the host's fate. */
static int parse_host_stmt(struct cursor *c, struct script_stmt *s)
{
	if (parse_host(c, 0, &s->host))
		return -1;
	uint64_t v;
	if (accept_word(c, "listen")) {
		s->kind = SCR_LISTEN;
		if (parse_positive(c, 65535, &v, "a port (1 to 65535)"))
			return -1;
		s->port = (uint16_t)v;
		while (c->i < c->n) {
			if (accept_word(c, "backlog")) {
				if (parse_positive(c, 65535, &v, "a backlog (1 to 65535)"))
					return -1;
				s->count = (int64_t)v;
			} else if (accept_word(c, "rcvbuf")) {
				const char *w = peek(c);
				if (!w || cli_parse_bytes(w, INT32_MAX, &v) != 0 || v == 0)
					return fail(c, "a buffer size in bytes (1 to 2147483647)");
				c->i++;
				s->value = (int64_t)v;
			} else if (accept_word(c, "fastopen")) {
				/* TCP_FASTOPEN before listen (RFC 7413): the queue of
				 * connections whose SYN carried data. */
				if (parse_positive(c, 65535, &v, "a queue length (1 to 65535)"))
					return -1;
				s->option = (int)v;
			} else {
				return fail(c,
				            "'backlog N', 'rcvbuf N', 'fastopen N' or the end of "
				            "the line");
			}
		}
		return 0;
	}
	if (accept_word(c, "connect")) {
		s->kind = SCR_CONNECT;
		return parse_connect(c, s);
	}
	if (accept_word(c, "bind")) {
		s->kind = SCR_BIND;
		if (parse_positive(c, 65535, &v, "a port (1 to 65535)"))
			return -1;
		s->port = (uint16_t)v;
		return at_end(c);
	}
	if (accept_word(c, "wait")) {
		if (accept_word(c, "connected")) {
			s->kind = SCR_WAIT_CONN;
		} else if (accept_word(c, "queued")) {
			s->kind = SCR_WAIT_QUEUED;
			if (parse_u64(c, INT32_MAX, &v, "a byte count (at most 2147483647)"))
				return -1;
			s->count = (int64_t)v;
		} else if (s->kind = SCR_WAIT_STATE, parse_state(c, &s->state))
			return -1;
		return at_end(c);
	}
	if (accept_word(c, "accept")) {
		s->kind = SCR_ACCEPT;
		return at_end(c);
	}
	if (accept_word(c, "send")) {
		s->kind = SCR_SEND;
		if (parse_payload(c, s))
			return -1;
		return at_end(c);
	}
	if (accept_word(c, "recv")) {
		if (accept_word(c, "eof")) {
			s->kind = SCR_RECV_EOF;
		} else {
			s->kind = SCR_RECV;
			if (parse_u64(c, SCRIPT_MAX_BYTES, &v,
			              "a byte count (at most 1048576) or eof"))
				return -1;
			s->count = (int64_t)v;
		}
		return at_end(c);
	}
	if (accept_word(c, "shutdown")) {
		s->kind = SCR_SHUTDOWN;
		if (accept_word(c, "write"))
			s->value = SYNACK_SHUT_WR;
		else if (accept_word(c, "read"))
			s->value = SYNACK_SHUT_RD;
		else if (accept_word(c, "both"))
			s->value = SYNACK_SHUT_RDWR;
		else
			return fail(c, "write, read or both");
		return at_end(c);
	}
	if (accept_word(c, "close")) {
		s->kind = accept_word(c, "listener") ? SCR_CLOSE_LISTENER : SCR_CLOSE;
		return at_end(c);
	}
	if (accept_word(c, "socket")) {
		s->kind = SCR_SOCKET;
		return at_end(c);
	}
	if (accept_word(c, "abort")) {
		s->kind = SCR_ABORT;
		return at_end(c);
	}
	if (accept_word(c, "setsockopt")) {
		s->kind = SCR_SETSOCKOPT;
		if (parse_setsockopt(c, s))
			return -1;
		return at_end(c);
	}
	if (accept_word(c, "never")) {
		s->kind = SCR_NEVER;
		if (need_word(c, "closes", "'closes'"))
			return -1;
		s->value = 0;
		return at_end(c);
	}
	if (accept_word(c, "stops")) {
		s->kind = SCR_NEVER;
		if (need_word(c, "reading", "'reading'"))
			return -1;
		s->value = 1;
		return at_end(c);
	}
	if (accept_word(c, "inject")) {
		s->kind = SCR_INJECT;
		return parse_inject(c, s);
	}
	if (accept_word(c, "down") || accept_word(c, "up")) {
		s->kind = SCR_HOST_DOWN;
		s->value = strcmp(c->tok[c->i - 1].s, "down") == 0;
		return at_end(c);
	}
	if (accept_word(c, "reboots")) {
		s->kind = SCR_REBOOT;
		return at_end(c);
	}
	return fail(c, "an action (listen, connect, bind, socket, wait, accept, send, recv, "
	               "shutdown, close, abort, setsockopt, never closes, stops reading, inject, "
	               "down, up, reboots)");
}

/*
 * flood N FLAGS to HOST:PORT over TIME: N hand-made segments from spoofed
 * sources (an off-path attacker's), spread evenly over TIME.
 */
static int parse_flood(struct cursor *c, struct script_stmt *s)
{
	uint64_t n;
	s->kind = SCR_FLOOD;
	/* Counted, not drawn, with trace off: a flood of a real attack's size. */
	const char *what = c->sc->trace_off ? "a count of segments (1 to 100000000)"
	                                    : "a count of segments (1 to 100000)";
	if (parse_positive(c, c->sc->trace_off ? CROWD_MAX_FORGED : SCRIPT_MAX_FLOOD, &n, what))
		return -1;
	s->count = (int64_t)n;
	if (parse_flags(c, &s->flags))
		return -1;
	if (accept_word(c, "from") && need_word(c, "random", "'random' (spoofed sources)"))
		return -1;
	if (need_word(c, "to", "'to'"))
		return -1;
	const char *w = peek(c);
	const char *colon = w ? strrchr(w, ':') : NULL;
	uint64_t port = 0;
	size_t hl = colon ? (size_t)(colon - w) : 0;
	if (!colon || cli_parse_u64(colon + 1, 65535, &port) != 0 || port == 0 ||
	    !(hl == 6 && (strncmp(w, "client", 6) == 0 || strncmp(w, "server", 6) == 0)))
		return fail(c, "HOST:PORT (server:80 or client:5000)");
	s->peer = w[0] == 'c' ? DEMO_CLIENT : DEMO_SERVER;
	s->host = s->peer;
	s->port = (uint16_t)port;
	c->i++;
	if (need_word(c, "over", "'over'") || parse_time_rel(c, &s->time_us, &s->rel))
		return -1;
	return at_end(c);
}

/* ------------------------------------------------------------------ */
/* Crowds and attacks at scale (trace off; crowd.h runs them).         */

/* A.B.C.D/LEN with no host bits set; 0 or -1. */
static int ipv4_prefix(const char *w, uint32_t *net, int *len)
{
	uint32_t a = 0;
	int octets = 0;
	const char *p = w;
	while (octets < 4) {
		if (*p < '0' || *p > '9')
			return -1;
		unsigned v = 0;
		int digits = 0;
		while (*p >= '0' && *p <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (v > 255 || digits > 3)
			return -1;
		a = a << 8 | v;
		octets++;
		if (octets < 4 && *p++ != '.')
			return -1;
	}
	uint64_t l;
	if (*p != '/' || cli_parse_u64(p + 1, 32, &l) != 0)
		return -1;
	if (l < 32 && (a & (uint32_t)((1ull << (32 - l)) - 1)) != 0)
		return -1;
	*net = a;
	*len = (int)l;
	return 0;
}

/* clients N from PREFIX [start between T and T | start at T] */
static int parse_clients(struct cursor *c, struct script_stmt *s)
{
	uint64_t n;
	s->kind = SCR_CLIENTS;
	if (parse_positive(c, CROWD_MAX_CLIENTS, &n, "a number of clients (1 to 60000)"))
		return -1;
	s->count = (int64_t)n;
	if (need_word(c, "from", "'from'"))
		return -1;
	const char *w = peek(c);
	uint32_t net;
	int len;
	if (!w || ipv4_prefix(w, &net, &len) != 0)
		return fail(c, "an IPv4 prefix without host bits (10.1.0.0/16)");
	/* Host numbers 1..N, none of them the broadcast address. */
	if (len > 30 || n + 2 > (1ull << (32 - len)))
		return fail(c, "a prefix with room for the clients (10.1.0.0/16 holds 65534)");
	s->addr = net;
	s->value = len;
	c->i++;
	if (accept_word(c, "start")) {
		if (accept_word(c, "at")) {
			if (parse_time(c, &s->time_us))
				return -1;
		} else if (accept_word(c, "between")) {
			if (parse_time(c, &s->time_us) || need_word(c, "and", "'and'") ||
			    parse_time(c, &s->at_us))
				return -1;
			if (s->at_us <= s->time_us)
				return fail_at(c, c->i - 1, "a time after the first");
			s->has_at = 1;
		} else {
			return fail(c, "'between' or 'at'");
		}
	}
	return at_end(c);
}

/* echo N bytes every T rounds R: the crowd's application. */
static int parse_echo(struct cursor *c, struct script_stmt *s)
{
	uint64_t n;
	s->kind = SCR_ECHO;
	if (parse_positive(c, CROWD_MAX_MSG, &n, "a message size (1 to 65536)"))
		return -1;
	s->count = (int64_t)n;
	if (need_word(c, "bytes", "'bytes'") || need_word(c, "every", "'every'") ||
	    parse_time_rel(c, &s->time_us, &s->rel) || need_word(c, "rounds", "'rounds'") ||
	    parse_u64(c, CROWD_MAX_ROUNDS, &n, "a number of rounds (1 to 1000000)"))
		return -1;
	if (n == 0)
		return fail_at(c, c->i - 1, "a number of rounds (1 to 1000000)");
	s->value = (int64_t)n;
	return at_end(c);
}

/* sweep FLAGS ["payload"] over T [step N] [count N]: forged segments on
 * the crowd's connections, walking the sequence space. */
static int parse_sweep(struct cursor *c, struct script_stmt *s)
{
	uint64_t n;
	s->kind = SCR_SWEEP;
	s->value = CROWD_SWEEP_STEP;
	if (parse_flags(c, &s->flags))
		return -1;
	if (c->i < c->n && c->tok[c->i].quoted) {
		if (parse_string(c, s, "a payload"))
			return -1;
		if (s->textlen > 1000)
			return fail_at(c, c->i - 1, "a payload of at most 1000 bytes");
	}
	if (need_word(c, "over", "'over'") || parse_time_rel(c, &s->time_us, &s->rel))
		return -1;
	while (c->i < c->n) {
		if (accept_word(c, "step")) {
			if (parse_positive(c, UINT32_MAX, &n, "a step (1 to 4294967295)"))
				return -1;
			s->value = (int64_t)n;
		} else if (accept_word(c, "count")) {
			if (parse_u64(c, CROWD_MAX_FORGED, &n,
			              "a count of segments (1 to 100000000)"))
				return -1;
			if (n == 0)
				return fail_at(c, c->i - 1, "a count of segments (1 to 100000000)");
			s->count = (int64_t)n;
		} else {
			return fail(c, "step, count or the end of the line");
		}
	}
	return 0;
}

/* Names in figure expressions at parse time: built-in ones, counters,
 * drop reasons, and the file's figures above. */
static int known_name(void *ctx, const char *name, size_t len, uint64_t *v)
{
	const struct script *sc = ctx;
	*v = 0;
	if (crowd_known_name(name, len))
		return 0;
	/* The statements above the one being read (the last). */
	for (size_t i = 0; i + 1 < sc->n; i++)
		if (sc->st[i].kind == SCR_FIGURE && sc->st[i].what &&
		    strlen(sc->st[i].what) == len && memcmp(sc->st[i].what, name, len) == 0)
			return 0;
	return -1;
}

#define EXPR_WHAT "a figure expression (names and whole numbers joined by + and *: 1+clients)"
#define NAME_WHAT "a figure (built in, a counter, drop:REASON, or a figure defined above)"

/* An expression of figures at the word (col: the word's, plus at). */
static int check_expr(struct cursor *c, const char *w, size_t len, int col)
{
	uint64_t v;
	size_t bad = 0, badlen = 0;
	int rc = crowd_expr(w, len, known_name, c->sc, &v, &bad, &badlen);
	if (rc == 0)
		return 0;
	c->failed = 1;
	if (rc == -2)
		snprintf(c->err, c->errlen, "%s:%d:%d: expected %s, got '%.*s'", c->sc->file,
		         c->line, col + (int)bad, NAME_WHAT, (int)(badlen < 40 ? badlen : 40),
		         w + bad);
	else
		snprintf(c->err, c->errlen, "%s:%d:%d: expected %s, got '%.*s'", c->sc->file,
		         c->line, col, EXPR_WHAT, (int)(len < 40 ? len : 40), w);
	return -1;
}

static int parse_expr_word(struct cursor *c)
{
	if (c->i >= c->n || c->tok[c->i].quoted)
		return fail(c, EXPR_WHAT);
	const struct token *t = &c->tok[c->i];
	if (check_expr(c, t->s, t->len, t->col))
		return -1;
	c->i++;
	return 0;
}

static char *dup_text(struct cursor *c, const char *t, size_t len)
{
	char *p = malloc(len + 1);
	if (!p) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->sc->file);
		c->failed = 1;
		return NULL;
	}
	memcpy(p, t, len);
	p[len] = 0;
	return p;
}

/* figure NAME [= EXPR]: a line of the summary. */
static int parse_figure(struct cursor *c, struct script_stmt *s, int *nfigures)
{
	s->kind = SCR_FIGURE;
	const char *w = peek(c);
	int col = c->i < c->n ? c->tok[c->i].col : c->end_col;
	if (!w || strlen(w) >= 32 || !is_name(w) || strchr(w, '-'))
		return fail(c, "a figure's name (a-z, 0-9, '_'; at most 31)");
	if (*nfigures >= DEMO_MAX_FIGURES)
		return fail(c, "at most 32 figures");
	/* Without "= EXPR", a figure known already (before this one is). */
	if (c->i + 1 == c->n && check_expr(c, w, strlen(w), col))
		return -1;
	if (!(s->what = dup_text(c, w, strlen(w))))
		return -1;
	c->i++;
	if (accept_word(c, "=")) {
		const struct token *t = c->i < c->n ? &c->tok[c->i] : NULL;
		if (parse_expr_word(c) || !(s->text = dup_text(c, t->s, t->len)))
			return -1;
		s->textlen = t->len;
	}
	(*nfigures)++;
	return at_end(c);
}

/* expect figure A CMP B [and|or A CMP B ...] ["sentence with {EXPR}"] */
static int parse_expect_figure(struct cursor *c, struct script_stmt *s)
{
	s->kind = SCR_EXPECT_FIGURE;
	int first = c->i, conds = 0, cmp;
	for (;;) {
		if (parse_expr_word(c) || parse_cmp(c, &cmp) || parse_expr_word(c))
			return -1;
		if (++conds > CROWD_MAX_CONDITIONS)
			return fail_at(c, c->i - 3, "at most 8 comparisons");
		if (!accept_word(c, "and") && !accept_word(c, "or"))
			break;
	}
	size_t len = 0;
	for (int i = first; i < c->i; i++)
		len += c->tok[i].len + 1;
	if (!(s->text = malloc(len))) {
		snprintf(c->err, c->errlen, "%s: out of memory", c->sc->file);
		c->failed = 1;
		return -1;
	}
	len = 0;
	for (int i = first; i < c->i; i++) {
		memcpy(s->text + len, c->tok[i].s, c->tok[i].len);
		len += c->tok[i].len;
		s->text[len++] = i + 1 < c->i ? ' ' : 0;
	}
	s->textlen = len - 1;
	if (c->i < c->n) {
		if (!c->tok[c->i].quoted)
			return fail(c, "and, or, a sentence in quotes or the end of the line");
		const struct token *t = &c->tok[c->i];
		for (size_t i = 0; i < t->len; i++) {
			if ((unsigned char)t->s[i] < 0x20 || t->s[i] == 0x7f)
				return fail(c, "a sentence of printable characters");
			if (t->s[i] != '{')
				continue;
			const char *close = memchr(t->s + i, '}', t->len - i);
			if (!close)
				return fail(c, "a figure in braces, closed ({legit_ok})");
			size_t l = (size_t)(close - t->s) - i - 1;
			if (check_expr(c, t->s + i + 1, l, t->col + 2 + (int)i))
				return -1;
			i += l + 1;
		}
		if (t->len >= sizeof(((struct demo_check *)0)->what))
			return fail(c, "a sentence of at most 119 characters");
		if (!(s->what = dup_text(c, t->s, t->len)))
			return -1;
		c->i++;
	}
	return at_end(c);
}

struct parse_state {
	int seen_action; /* header statements come before */
	/* trace off: one listener, one crowd, one echo, a few attacks. */
	int listens, crowds, echoes, attacks, figures;
	int finished; /* after `finish` or `stop`: only expectations */
	int have_scenario, have_moral;
	/* compare NAME set HOST KEY=VALUE ...: applied over every `set` at the end. */
	char *cset[SCRIPT_MAX_COMPARE_SETS];
	int chost, ncset, cline;
};

static int is_header_word(const char *w)
{
	return strcmp(w, "scenario") == 0 || strcmp(w, "moral") == 0 || strcmp(w, "seed") == 0 ||
	       strcmp(w, "ss") == 0 || strcmp(w, "set") == 0 || strcmp(w, "compare") == 0 ||
	       strcmp(w, "trace") == 0;
}

/* HOST KEY=VALUE ...: each word applied to cfg[] of the host (or both);
 * 0, or -1 with the error at the word.  With keep, the words are kept in
 * ps for the comparison run. */
static int parse_settings(struct cursor *c, struct synack_config cfg[2], struct parse_state *ps,
                          int keep)
{
	struct script *sc = c->sc;
	int h;
	if (parse_host(c, 1, &h))
		return -1;
	if (c->i >= c->n)
		return fail(c, "KEY=VALUE (a setting of synack serve --set)");
	if (keep)
		ps->chost = h;
	while (c->i < c->n) {
		const struct token *t = &c->tok[c->i];
		char err[4096]; /* an unknown setting's message lists them all */
		for (int k = 0; k < 2; k++) {
			if (h != SCRIPT_BOTH && h != k)
				continue;
			if (t->quoted ||
			    settings_parse("set", t->s, &cfg[k], err, sizeof(err)) < 0) {
				c->failed = 1;
				snprintf(c->err, c->errlen,
				         "%s:%d:%d: expected KEY=VALUE, got '%.40s' (%s)", sc->file,
				         c->line, t->col, t->s, t->quoted ? "a string" : err);
				return -1;
			}
			if (!keep)
				sc->set_line[k] = c->line;
		}
		if (keep) {
			if (ps->ncset >= SCRIPT_MAX_COMPARE_SETS)
				return fail(c, "at most 16 settings of the comparison run");
			if (!(ps->cset[ps->ncset++] = strdup(t->s))) {
				snprintf(c->err, c->errlen, "%s: out of memory", sc->file);
				c->failed = 1;
				return -1;
			}
		}
		c->i++;
	}
	return 0;
}

static int parse_header(struct cursor *c, struct parse_state *ps)
{
	struct script *sc = c->sc;
	if (ps->seen_action)
		return fail(
		    c, "an action (scenario, moral, seed, ss, set and trace come before the first "
		       "action)");
	if (accept_word(c, "scenario")) {
		const char *w = peek(c);
		if (ps->have_scenario)
			return fail_at(c, c->i - 1, "one scenario line");
		size_t l = w ? strlen(w) : 0;
		int ok = l > 0 && l < sizeof(sc->name);
		for (size_t i = 0; ok && i < l; i++)
			ok = (w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9') ||
			     w[i] == '-' || w[i] == '_';
		if (!ok)
			return fail(c, "a name (a-z, 0-9, '-', '_'; at most 31)");
		memcpy(sc->name, w, l + 1);
		c->i++;
		ps->have_scenario = 1;
		if (c->i < c->n) {
			struct script_stmt tmp = {0};
			if (parse_string(c, &tmp, "a description in quotes"))
				return -1;
			free(sc->description);
			sc->description = tmp.text;
		}
		return at_end(c);
	}
	if (accept_word(c, "moral")) {
		if (ps->have_moral)
			return fail_at(c, c->i - 1, "one moral line");
		struct script_stmt tmp = {0};
		if (parse_string(c, &tmp, "the moral in quotes"))
			return -1;
		sc->moral = tmp.text;
		ps->have_moral = 1;
		return at_end(c);
	}
	if (accept_word(c, "seed")) {
		if (parse_u64(c, UINT64_MAX, &sc->seed, "a seed (a whole number)"))
			return -1;
		sc->has_seed = 1;
		return at_end(c);
	}
	if (accept_word(c, "ss")) {
		sc->ss = 1;
		return at_end(c);
	}
	if (accept_word(c, "trace")) {
		/* trace off: a crowd run, told in figures (crowd.h). */
		if (need_word(c, "off", "'off'"))
			return -1;
		sc->trace_off = 1;
		return at_end(c);
	}
	if (accept_word(c, "compare")) {
		/* compare NAME set HOST KEY=VALUE ...: the timeline once more. */
		if (sc->has_compare)
			return fail_at(c, c->i - 1, "one compare line");
		const char *w = peek(c);
		if (!is_name(w))
			return fail(c, "a name for the comparison run (a-z, 0-9, '-', '_'; at most "
			               "31)");
		snprintf(sc->compare, sizeof(sc->compare), "%s", w);
		sc->has_compare = 1;
		ps->cline = c->line;
		c->i++;
		struct synack_config scratch[2];
		memcpy(scratch, sc->cfg, sizeof(scratch));
		if (need_word(c, "set", "'set'"))
			return -1;
		return parse_settings(c, scratch, ps, 1);
	}
	need_word(c, "set", "set");
	return parse_settings(c, sc->cfg, ps, 0);
}

/*
 * What a line may be with trace off, and what only trace off takes; rc is
 * the line's parse so far.  0, or -1 with the error at the line's start.
 */
static int crowd_line(struct cursor *c, struct parse_state *ps, struct script_stmt *s, int rc)
{
	if (rc != 0)
		return rc;
	int k = s->kind;
	int crowd_only = k == SCR_CLIENTS || k == SCR_ECHO || k == SCR_SWEEP || k == SCR_FIGURE ||
	                 k == SCR_EXPECT_FIGURE;
	if (!c->sc->trace_off)
		return crowd_only ? fail_at(c, 0,
		                            "'trace off' before the first action (a crowd "
		                            "is told in figures, not drawn)")
		                  : 0;
	int ok = crowd_only || k == SCR_FINISH || (k == SCR_FLOOD && s->peer == DEMO_SERVER) ||
	         (k == SCR_LISTEN && s->host == DEMO_SERVER && !s->value && !s->option);
	if (!ok)
		return fail_at(c, 0,
		               "a statement of a run with trace off (server listen PORT [backlog "
		               "N], clients, echo, flood ... to server:PORT, sweep, finish, "
		               "figure, expect figure)");
	if (s->timing && !((k == SCR_FLOOD || k == SCR_SWEEP) && s->timing == 1))
		return fail_at(c, 0,
		               "a statement without a time (with trace off only a flood or "
		               "a sweep starts 'at T')");
	if ((k == SCR_FIGURE || k == SCR_EXPECT_FIGURE) && !ps->finished)
		return fail_at(c, 0, "'finish' before figures and their expectations");
	int *n = k == SCR_LISTEN    ? &ps->listens
	         : k == SCR_CLIENTS ? &ps->crowds
	         : k == SCR_ECHO    ? &ps->echoes
	                            : NULL;
	if (n && ++*n > 1)
		return fail_at(c, 0,
		               k == SCR_LISTEN    ? "one listen with trace off"
		               : k == SCR_CLIENTS ? "one crowd (clients line)"
		                                  : "one echo line");
	if ((k == SCR_FLOOD || k == SCR_SWEEP) && ++ps->attacks > 8)
		return fail_at(c, 0, "at most 8 floods and sweeps");
	if (k == SCR_SWEEP && !ps->crowds)
		return fail_at(c, 0,
		               "a crowd (clients N from PREFIX) before a sweep of its "
		               "connections");
	return 0;
}

static int parse_line(struct cursor *c, struct parse_state *ps)
{
	struct script *sc = c->sc;
	if (c->n == 0)
		return 0;
	const char *w0 = peek(c);
	if (w0 && is_header_word(w0))
		return parse_header(c, ps);
	if (sc->n == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 32;
		struct script_stmt *n = realloc(sc->st, cap * sizeof(*n));
		if (!n) {
			snprintf(c->err, c->errlen, "%s: out of memory", sc->file);
			c->failed = 1;
			return -1;
		}
		sc->st = n;
		sc->cap = cap;
	}
	struct script_stmt *s = &sc->st[sc->n];
	memset(s, 0, sizeof(*s));
	s->line = c->line;
	sc->n++;
	/* The timing prefix. */
	if (accept_word(c, "at")) {
		s->timing = 1;
		if (parse_time_rel(c, &s->time_at_us, &s->at_rel))
			return -1;
	} else if (peek(c) && peek(c)[0] == '+') {
		/* "+200ms": the time is the rest of the word. */
		struct token *t = &c->tok[c->i];
		memmove(t->s, t->s + 1, t->len);
		t->len--;
		t->col++;
		s->timing = 2;
		if (parse_time_rel(c, &s->time_at_us, &s->at_rel))
			return -1;
	}
	if (c->i >= c->n) {
		if (!s->timing)
			return fail(c, "a statement");
		s->kind = SCR_WAIT;
		if (ps->finished)
			return fail_at(c, 0, "an expectation (only expect follows finish or stop)");
		ps->seen_action = 1;
		return 0;
	}
	int r;
	int is_expect = is(c, "expect") || is(c, "figure");
	if (accept_word(c, "figure"))
		return crowd_line(c, ps, s, parse_figure(c, s, &ps->figures));
	if (ps->finished && !is_expect)
		return fail(c, "an expectation (only expect follows finish or stop)");
	if (!is_expect)
		ps->seen_action = 1;
	if (peek(c) && is_header_word(peek(c)))
		return fail(c,
		            "a statement (scenario, moral, seed, ss, set and trace take a line of "
		            "their own before the first action)");
	if (accept_word(c, "expect")) {
		r = accept_word(c, "figure") ? parse_expect_figure(c, s) : parse_expect(c, s);
	} else if (accept_word(c, "clients")) {
		r = parse_clients(c, s);
	} else if (accept_word(c, "echo")) {
		r = parse_echo(c, s);
	} else if (accept_word(c, "sweep")) {
		r = parse_sweep(c, s);
	} else if (accept_word(c, "path")) {
		s->kind = SCR_PATH;
		r = parse_path(c, s);
	} else if (accept_word(c, "link")) {
		s->kind = SCR_LINK;
		if (accept_word(c, "down"))
			s->value = 1;
		else if (!accept_word(c, "up"))
			return fail(c, "up or down");
		r = at_end(c);
	} else if (accept_word(c, "drop")) {
		s->kind = SCR_DROP;
		r = parse_rule(c, s);
		if (r == 0)
			r = at_end(c);
	} else if (accept_word(c, "delay")) {
		s->kind = SCR_DELAY;
		r = parse_rule(c, s);
		if (r == 0)
			r = at_end(c);
	} else if (accept_word(c, "keep")) {
		s->kind = SCR_KEEP;
		r = parse_rule(c, s);
		if (r == 0)
			r = at_end(c);
	} else if (accept_word(c, "replay")) {
		s->kind = SCR_REPLAY;
		r = 0;
		if (accept_word(c, "seq")) {
			/* Renumbered: to the receiver's RCV.NXT (a wrapped sequence
			 * number, 2^32 bytes later), or relative to the sender's ISN. */
			uint64_t v;
			s->has_seq = 1;
			if (accept_word(c, "next"))
				s->value = 1;
			else if (parse_u64(c, UINT32_MAX, &v,
			                   "next or a relative sequence number (0 to 4294967295)"))
				r = -1;
			else
				s->seq = (int64_t)v;
		}
		if (r == 0)
			r = at_end(c);
	} else if (accept_word(c, "flood")) {
		r = parse_flood(c, s);
	} else if (accept_word(c, "timer")) {
		s->kind = SCR_TIMER;
		const char *w = peek(c);
		if (!is_name(w))
			r = fail(c, "a timer's name (a-z, 0-9, '-', '_'; at most 31)");
		else if ((s->option = timer_index(sc, w, 1)) < 0)
			r = fail(c, "at most 8 timers");
		else if (c->i++, accept_word(c, "start"))
			r = at_end(c);
		else if (accept_word(c, "stop"))
			r = (s->value = 1, at_end(c));
		else
			r = fail(c, "start or stop");
	} else if (accept_word(c, "note")) {
		s->kind = SCR_NOTE;
		r = parse_host(c, 0, &s->host);
		if (r == 0)
			r = parse_string(c, s, "the note in quotes");
		if (r == 0 && s->textlen > 90)
			r = fail_at(c, c->i - 1, "a note of at most 90 characters");
		if (r == 0)
			r = check_note_times(c, s->text, s->textlen);
		if (r == 0)
			r = at_end(c);
	} else if (accept_word(c, "finish") || accept_word(c, "stop")) {
		s->kind = c->tok[c->i - 1].s[0] == 'f' ? SCR_FINISH : SCR_STOP;
		ps->finished = 1;
		r = at_end(c);
	} else if (is(c, "client") || is(c, "server")) {
		r = parse_host_stmt(c, s);
	} else {
		r = fail(c,
		         "a statement (a host's action, expect, path, link, drop, delay, keep, "
		         "replay, flood, timer, note, finish, stop, at TIME or +TIME; with trace "
		         "off: clients, echo, sweep, figure)");
	}
	if (r == 0)
		r = crowd_line(c, ps, s, 0);
	if (r == 0 && is_expect && !ps->finished &&
	    (s->in_compare || (s->kind == SCR_EXPECT_TIMER && s->has_seq)))
		r = fail_at(c, 0, "'finish' before an expectation about the comparison run");
	if (r == 0 && is_expect && s->kind == SCR_EXPECT_STATE && s->has_at && s->timing)
		r = fail_at(c, 0, "either 'at T expect' or 'expect ... at T', not both");
	return r;
}

struct script *script_parse(const char *file, const char *text, size_t len, char *err,
                            size_t errlen)
{
	struct script *sc = calloc(1, sizeof(*sc));
	struct cursor *c = calloc(1, sizeof(*c));
	if (!sc || !c || !(sc->file = strdup(file ? file : "-"))) {
		snprintf(err, errlen, "%s: out of memory", file ? file : "-");
		free(c);
		script_free(sc);
		return NULL;
	}
	sc->seed = 1;
	synack_config_default(&sc->cfg[0]);
	synack_config_default(&sc->cfg[1]);
	/* The name: the file's base name without its extension. */
	const char *base = strrchr(sc->file, '/');
	base = base ? base + 1 : sc->file;
	size_t bl = strcspn(base, ".");
	if (bl >= sizeof(sc->name))
		bl = sizeof(sc->name) - 1;
	memcpy(sc->name, base, bl);
	sc->name[bl] = 0;
	c->sc = sc;
	c->err = err;
	c->errlen = errlen;
	struct parse_state ps = {0};
	size_t pos = 0;
	int rc = 0;
	while (pos < len && rc == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		c->line++;
		if (memchr(text + pos, 0, l)) {
			snprintf(err, errlen, "%s:%d:%d: expected text, got a NUL byte", sc->file,
			         c->line,
			         (int)((const char *)memchr(text + pos, 0, l) - (text + pos)) + 1);
			rc = -1;
			break;
		}
		rc = tokenize(c, text + pos, l);
		if (rc == 0)
			rc = parse_line(c, &ps);
		free_tokens(c);
		pos += l + 1;
	}
	/* A run with trace off needs its listener and its crowd. */
	if (rc == 0 && sc->trace_off && (!ps.listens || !ps.crowds)) {
		snprintf(err, errlen,
		         "%s:%d:1: expected %s in a run with trace off, got the end of "
		         "the file",
		         sc->file, c->line ? c->line : 1,
		         ps.listens ? "a crowd (clients N from PREFIX)" : "server listen PORT");
		rc = -1;
	}
	/* The comparison run's configuration: every `set`, then its own. */
	memcpy(sc->ccfg, sc->cfg, sizeof(sc->ccfg));
	for (int i = 0; i < ps.ncset && rc == 0; i++)
		for (int h = 0; h < 2; h++)
			if (ps.chost == SCRIPT_BOTH || ps.chost == h)
				settings_parse("set", ps.cset[i], &sc->ccfg[h], err, errlen);
	for (int i = 0; i < ps.ncset; i++)
		free(ps.cset[i]);
	/* The configuration of each host as a whole, at its last `set`. */
	for (int k = 0; k < 4 && rc == 0; k++) {
		int h = k & 1;
		if (k >= 2 && !sc->has_compare)
			break;
		char why[200];
		struct synack_config cfg = k < 2 ? sc->cfg[h] : sc->ccfg[h];
		cfg.addr = h == DEMO_CLIENT ? 0x0a000001u : 0x0a000002u;
		if (synack_config_check(&cfg, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%d:1: expected settings the stack takes, got: %s",
			         sc->file, k < 2 ? sc->set_line[h] : ps.cline, why);
			rc = -1;
		}
	}
	free(c);
	if (rc != 0) {
		script_free(sc);
		return NULL;
	}
	return sc;
}

struct script *script_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			if (cap >= (1u << 22)) {
				snprintf(err, errlen, "%s: longer than 4 MiB", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf || bad) {
		snprintf(err, errlen, "%s: %s", path, buf ? "read error" : "out of memory");
		free(buf);
		return NULL;
	}
	struct script *sc = script_parse(path, buf, n, err, errlen);
	free(buf);
	return sc;
}

void script_free(struct script *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->st[i].text);
		free(s->st[i].what);
	}
	free(s->st);
	free(s->file);
	free(s->description);
	free(s->moral);
	free(s);
}
