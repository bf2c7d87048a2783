/*
 * `synack script --from-pcap` (script_pcap.h, docs/SCRIPTS.md "Replaying a
 * capture").
 *
 * The replay: the script's two hosts stand for the two ends of the
 * recorded conversation (client 10.0.0.1, server 10.0.0.2, with the
 * recorded ports; an IPv6 conversation is replayed over IPv4, which changes
 * no TCP rule the comparison looks at).  synack plays --side.  The other
 * host is taken off the network: its stack only opens and aborts the
 * connection to give its inject statements their addresses, ports and an
 * ISN (which the recorded side's relative numbers are taken relative to),
 * and every segment the recorded side sent is injected at its recorded
 * time, relative to the conversation's first segment, with its flags,
 * relative seq/ack, raw window, options and payload.  The path has no
 * delay, so a segment arrives when the capture saw it and synack answers
 * at once: synack's answers come no later than the recorded ones, before
 * the next recorded segment of the other side.
 *
 * synack's application does what the recorded data says its side's did:
 * it accepts (a server, when the handshake's last ACK arrived), connects
 * (a client, when the recorded SYN left), sends the bytes its side sent
 * first at the time they were first sent, reads every byte as soon as it
 * arrives in order, and closes when its side sent its FIN (shuts down
 * writing instead, when the other side still sent data after that).
 *
 * The comparison: the segments synack sent in the run (from a capture of
 * the run, read back with pcap_read.c) against the ones its side sent in
 * the recording, in order, paired by their flags, relative seq, ack and
 * length (a row of each that agree, or the nearest unpaired ones side by
 * side with their differences named).  Windows, timestamp values and
 * times are shown, never compared: they differ by design (synack's buffers
 * and clock are its own).
 */
#include "script_pcap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_parse.h"
#include "demo.h"
#include "render.h"
#include "script.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_ECE 0x40
#define TH_CWR 0x80

#define MAX_CONVS 4096
#define MAX_STRING 256        /* payloads up to this long are written as strings */
#define LOOKAHEAD 16          /* how far the pairing looks for a segment that agrees */
#define END_MARGIN_US 1000000 /* the run goes on this long after the last record */
/* A script's times are at most a day (docs/SCRIPTS.md), the stop included. */
#define MAX_SPAN_US (86400000000ull - END_MARGIN_US)

static const char *side_name(int h)
{
	return h == DEMO_CLIENT ? "client" : "server";
}

/* ------------------------------------------------------------------ */
/* A growing text.                                                     */

struct sb {
	char *s;
	size_t n, cap;
	int oom;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
sb_printf(struct sb *b, const char *fmt, ...)
{
	if (b->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->n;
		int k = vsnprintf(b->s ? b->s + b->n : NULL, room, fmt, ap);
		va_end(ap);
		if (k < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)k < room) {
			b->n += (size_t)k;
			return;
		}
		size_t nc = b->cap ? b->cap * 2 : 4096;
		while (nc - b->n <= (size_t)k)
			nc *= 2;
		char *ns = realloc(b->s, nc);
		if (!ns) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
}

/* A payload as a script string (docs/SCRIPTS.md: C escapes). */
static void sb_string(struct sb *b, const uint8_t *p, size_t n)
{
	sb_printf(b, " \"");
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c == '\r')
			sb_printf(b, "\\r");
		else if (c == '\n')
			sb_printf(b, "\\n");
		else if (c == '\t')
			sb_printf(b, "\\t");
		else if (c < 32 || c >= 127)
			sb_printf(b, "\\x%02x", c);
		else
			sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

/* ------------------------------------------------------------------ */
/* Conversations.                                                      */

struct conv {
	uint8_t family;
	uint8_t addr[2][16]; /* [0] the client's */
	uint16_t port[2];
	int client_known; /* a SYN or SYN-ACK said which end is the client */
	int ended;        /* a FIN or RST was seen */
	uint32_t syn_seq;
	int has_syn;
	size_t first, nseg;
};

/* The end of conversation c that sent s: 0 the first end, 1 the other, -1
 * not c's. */
static int end_of(const struct conv *c, const struct pcap_seg *s)
{
	size_t al = c->family == 4 ? 4 : 16;
	for (int e = 0; e < 2; e++)
		if (s->family == c->family && s->sport == c->port[e] && s->dport == c->port[!e] &&
		    memcmp(s->src, c->addr[e], al) == 0 && memcmp(s->dst, c->addr[!e], al) == 0)
			return e;
	return -1;
}

static void conv_swap(struct conv *c)
{
	uint8_t a[16];
	memcpy(a, c->addr[0], 16);
	memcpy(c->addr[0], c->addr[1], 16);
	memcpy(c->addr[1], a, 16);
	uint16_t p = c->port[0];
	c->port[0] = c->port[1];
	c->port[1] = p;
}

/* The conversation each segment belongs to (conv_of[i], -1: none kept),
 * and the conversations in the order of their first segment.  A SYN on an
 * ended conversation with a new sequence number starts another one (a
 * port used again).  Returns the number of conversations. */
static size_t conversations(const struct pcap_trace *t, struct conv *cv, long *conv_of)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct pcap_seg *s = &t->seg[i];
		int syn = (s->flags & (TH_SYN | TH_ACK)) == TH_SYN;
		long k = -1;
		int e = -1;
		for (size_t j = n; j-- > 0;) {
			e = end_of(&cv[j], s);
			if (e >= 0) {
				k = (long)j;
				break;
			}
		}
		if (k >= 0 && syn && cv[k].ended && cv[k].has_syn && s->seq != cv[k].syn_seq)
			k = -1;
		if (k < 0) {
			if (n == MAX_CONVS) {
				conv_of[i] = -1;
				continue;
			}
			struct conv *c = &cv[n];
			memset(c, 0, sizeof(*c));
			c->family = s->family;
			memcpy(c->addr[0], s->src, 16);
			memcpy(c->addr[1], s->dst, 16);
			c->port[0] = s->sport;
			c->port[1] = s->dport;
			c->first = i;
			/* Until a SYN says otherwise, the client is the higher
			 * port's end (the lower port is the service's). */
			if (s->sport < s->dport)
				conv_swap(c);
			k = (long)n++;
			e = end_of(c, s);
		}
		struct conv *c = &cv[k];
		if ((s->flags & TH_SYN) && !c->client_known) {
			/* The SYN's sender is the client, the SYN-ACK's receiver. */
			int client_end = (s->flags & TH_ACK) ? !e : e;
			if (client_end != 0)
				conv_swap(c);
			c->client_known = 1;
		}
		if (syn && !c->has_syn) {
			c->has_syn = 1;
			c->syn_seq = s->seq;
		}
		if (s->flags & (TH_FIN | TH_RST))
			c->ended = 1;
		c->nseg++;
		conv_of[i] = k;
	}
	return n;
}

static void addr_text(uint8_t family, const uint8_t *a, uint16_t port, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, family == 4 ? "%s:%u" : "[%s]:%u", ip, port);
}

/* ------------------------------------------------------------------ */
/* The script.                                                         */

/* The chosen conversation's segments, in capture order. */
struct chosen {
	struct conv c;
	size_t idx_conv, nconv;
	const struct pcap_seg **seg;
	size_t n;
	struct pcap_seg *own; /* the pieces of segments split (split_gso) */
	int side;             /* synack's */
	uint32_t isn[2];      /* the client's and the server's */
	int has_isn[2];
	uint64_t t0_ns;
};

static void chosen_free(struct chosen *ch)
{
	free(ch->seg);
	free(ch->own);
	ch->seg = NULL;
	ch->own = NULL;
}

static int split_gso(struct chosen *ch, char *err, size_t errlen);

static int choose(const struct pcap_trace *t, const struct frompcap_opts *o, struct chosen *ch,
                  char *err, size_t errlen)
{
	memset(ch, 0, sizeof(*ch));
	struct conv *cv = calloc(MAX_CONVS, sizeof(*cv));
	long *conv_of = calloc(t->n ? t->n : 1, sizeof(*conv_of));
	int rc = -1;
	if (!cv || !conv_of) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	size_t n = conversations(t, cv, conv_of), k = 0;
	if (n == 0) {
		snprintf(err, errlen, "the capture holds no TCP segment (%llu records read)",
		         (unsigned long long)t->frames);
		goto out;
	}
	if (o->conn) {
		if (o->conn > n) {
			snprintf(err, errlen,
			         "--conn %llu: the capture holds %zu TCP conversation%s",
			         (unsigned long long)o->conn, n, n == 1 ? "" : "s");
			goto out;
		}
		k = (size_t)o->conn - 1;
	} else if (o->port >= 0) {
		for (k = 0; k < n && cv[k].port[0] != o->port && cv[k].port[1] != o->port; k++)
			;
		if (k == n) {
			snprintf(err, errlen,
			         "--port %d: no TCP conversation of the capture uses it", o->port);
			goto out;
		}
	}
	ch->c = cv[k];
	ch->idx_conv = k;
	ch->nconv = n;
	ch->side = o->side;
	ch->seg = calloc(ch->c.nseg, sizeof(*ch->seg));
	if (!ch->seg) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < t->n; i++)
		if (conv_of[i] == (long)k)
			ch->seg[ch->n++] = &t->seg[i];
	ch->t0_ns = ch->seg[0]->t_ns;
	for (size_t i = 0; i < ch->n; i++) {
		const struct pcap_seg *s = ch->seg[i];
		int e = end_of(&ch->c, s);
		if ((s->flags & TH_SYN) && !ch->has_isn[e]) {
			ch->isn[e] = s->seq;
			ch->has_isn[e] = 1;
		}
	}
	uint64_t span = 0;
	for (size_t i = 0; i < ch->n; i++)
		if (ch->seg[i]->t_ns > ch->t0_ns && ch->seg[i]->t_ns - ch->t0_ns > span)
			span = ch->seg[i]->t_ns - ch->t0_ns;
	if (span / 1000 > MAX_SPAN_US) {
		snprintf(err, errlen,
		         "conversation %zu lasts %.0f s, longer than the day a script's times "
		         "say: cut it (editcap -A/-B) and replay the part",
		         k + 1, (double)span / 1e9);
		chosen_free(ch);
		goto out;
	}
	if (ch->c.port[0] == 0 || ch->c.port[1] == 0) {
		snprintf(err, errlen,
		         "conversation %zu uses port 0, which no host can use (RFC 9293 "
		         "3.1): it cannot be replayed",
		         k + 1);
		chosen_free(ch);
		goto out;
	}
	if (!ch->has_isn[0] || !ch->c.client_known) {
		char a[64], b[64];
		addr_text(ch->c.family, ch->c.addr[0], ch->c.port[0], a, sizeof(a));
		addr_text(ch->c.family, ch->c.addr[1], ch->c.port[1], b, sizeof(b));
		snprintf(err, errlen,
		         "conversation %zu (%s > %s, the lower port taken for the server) starts "
		         "mid-stream: the capture has no SYN from its client, and a replay needs "
		         "the handshake (capture from before the connection opens)",
		         k + 1, a, b);
		chosen_free(ch);
		goto out;
	}
	rc = split_gso(ch, err, errlen);
out:
	free(cv);
	free(conv_of);
	return rc;
}

static uint64_t rel_us(const struct chosen *ch, const struct pcap_seg *s)
{
	return s->t_ns >= ch->t0_ns ? (s->t_ns - ch->t0_ns) / 1000 : 0;
}

/* The first segment end e sent with SYN, or NULL. */
static const struct pcap_seg *syn_of(const struct chosen *ch, int e)
{
	for (size_t i = 0; i < ch->n; i++)
		if (end_of(&ch->c, ch->seg[i]) == e && (ch->seg[i]->flags & TH_SYN))
			return ch->seg[i];
	return NULL;
}

/*
 * A capture on the sending host shows a segment as the stack handed it to
 * a device that segments (TSO, GSO; the loopback does): longer than the
 * peer's MSS.  The wire carried it in pieces of the MSS less the
 * timestamps option (RFC 9293 3.7.1, RFC 7323 3), each with the ACK, the
 * last with the PSH and FIN, which is how it is replayed and compared.
 */
static int split_gso(struct chosen *ch, char *err, size_t errlen)
{
	uint32_t size[2];
	size_t extra = 0;
	for (int e = 0; e < 2; e++) {
		const struct pcap_seg *mine = syn_of(ch, e), *peer = syn_of(ch, !e);
		size[e] = peer && peer->has_mss ? peer->mss : 536;
		if (mine && peer && mine->has_ts && peer->has_ts && size[e] > 12 + 64)
			size[e] -= 12;
		if (size[e] < 64)
			size[e] = 64;
	}
	for (size_t i = 0; i < ch->n; i++) {
		const struct pcap_seg *s = ch->seg[i];
		uint32_t z = size[end_of(&ch->c, s)];
		if (s->len > z && !(s->flags & TH_SYN))
			extra += (s->len + z - 1) / z - 1;
	}
	if (extra == 0)
		return 0;
	const struct pcap_seg **seg = calloc(ch->n + extra, sizeof(*seg));
	ch->own = calloc(ch->n + extra, sizeof(*ch->own));
	if (!seg || !ch->own) {
		free(seg);
		chosen_free(ch);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < ch->n; i++) {
		const struct pcap_seg *s = ch->seg[i];
		uint32_t z = size[end_of(&ch->c, s)];
		if (s->len <= z || (s->flags & TH_SYN)) {
			ch->own[k] = *s;
			seg[k] = &ch->own[k];
			k++;
			continue;
		}
		for (uint32_t off = 0; off < s->len; off += z) {
			struct pcap_seg *p = &ch->own[k];
			*p = *s;
			p->seq = s->seq + off;
			p->len = s->len - off < z ? s->len - off : z;
			p->caplen = s->caplen > off ? s->caplen - off : 0;
			if (p->caplen > p->len)
				p->caplen = p->len;
			p->data = s->data + (s->caplen > off ? off : s->caplen);
			if (off + p->len < s->len)
				p->flags &= (uint8_t) ~(TH_PSH | TH_FIN);
			seg[k++] = p;
		}
	}
	free(ch->seg);
	ch->seg = seg;
	ch->n = k;
	return 0;
}

/* synack's settings from what its side's SYN (or SYN-ACK) shows. */
static void emit_settings(struct sb *b, const struct chosen *ch)
{
	int me = ch->side;
	const struct pcap_seg *mine = syn_of(ch, me), *theirs = syn_of(ch, !me);
	if (!mine)
		return;
	/* A server answers only what the client offered: an option the
	 * client did not offer says nothing of the server's settings. */
	int client = me == DEMO_CLIENT;
	char keys[128] = "";
	size_t k = 0;
	if (mine->has_mss) {
		uint32_t mtu = (uint32_t)mine->mss + 40;
		k += (size_t)snprintf(keys + k, sizeof(keys) - k, " mtu=%u",
		                      mtu < 576     ? 576
		                      : mtu > 65535 ? 65535
		                                    : mtu);
	}
	if (client || (theirs && theirs->has_wscale))
		k += (size_t)snprintf(keys + k, sizeof(keys) - k, " window_scaling=%d",
		                      mine->has_wscale);
	if (client || (theirs && theirs->has_ts))
		k += (size_t)snprintf(keys + k, sizeof(keys) - k, " timestamps=%d", mine->has_ts);
	if (client || (theirs && theirs->sackok))
		k += (size_t)snprintf(keys + k, sizeof(keys) - k, " sack=%d", mine->sackok);
	if (client && (mine->flags & (TH_ECE | TH_CWR)) == (TH_ECE | TH_CWR))
		snprintf(keys + k, sizeof(keys) - k, " ecn=1");
	if (keys[0])
		sb_printf(b, "set %s%s\n", side_name(me), keys);
}

/* Bytes received in order, from the relative sequence number 1, with the
 * ranges that arrived ahead of a hole. */
struct inorder {
	uint64_t next;
	uint64_t (*ahead)[2];
	size_t n;
};

/* Takes [s, e); returns how many bytes more are now in order. */
static uint64_t inorder_add(struct inorder *io, uint64_t s, uint64_t e, size_t cap)
{
	uint64_t before = io->next;
	if (e <= io->next)
		return 0;
	if (s > io->next) {
		if (io->n < cap) {
			io->ahead[io->n][0] = s;
			io->ahead[io->n][1] = e;
			io->n++;
		}
		return 0;
	}
	io->next = e;
	for (int moved = 1; moved;) {
		moved = 0;
		for (size_t i = 0; i < io->n; i++)
			if (io->ahead[i][0] <= io->next) {
				if (io->ahead[i][1] > io->next)
					io->next = io->ahead[i][1];
				io->n--;
				io->ahead[i][0] = io->ahead[io->n][0];
				io->ahead[i][1] = io->ahead[io->n][1];
				moved = 1;
				break;
			}
	}
	return io->next - before;
}

/* The options and payload of an injected segment. */
static void emit_inject(struct sb *b, const struct chosen *ch, const struct pcap_seg *s, int e)
{
	char fl[16];
	synack_flags_str(s->flags, fl, sizeof(fl));
	if (s->flags == 0) {
		/* The language writes no segment without flags. */
		sb_printf(b, "# at %lluus the %s sent a segment without flags (not injected)\n",
		          (unsigned long long)rel_us(ch, s), side_name(e));
		return;
	}
	uint32_t seq = s->seq - (ch->has_isn[e] ? ch->isn[e] : 0);
	sb_printf(b, "at %lluus %s inject %s seq %u", (unsigned long long)rel_us(ch, s),
	          side_name(e), fl, seq);
	if (s->flags & TH_ACK)
		sb_printf(b, " ack %u", s->ack - (ch->has_isn[!e] ? ch->isn[!e] : 0));
	sb_printf(b, " win %u", s->win);
	if (s->has_mss)
		sb_printf(b, " mss %u", s->mss);
	if (s->has_wscale)
		sb_printf(b, " wscale %u", s->wscale > 14 ? 14 : s->wscale);
	if (s->sackok)
		sb_printf(b, " sackok");
	/* The echo is 0: the recorded one echoes the recorded peer's clock,
	 * not synack's, and 0 gives synack no false RTT sample (RFC 7323 4.3,
	 * as Linux: a zero TSecr is not used). */
	if (s->has_ts)
		sb_printf(b, " ts %u 0", s->ts_val);
	if (s->len > 0 && s->caplen >= s->len && s->len <= MAX_STRING)
		sb_string(b, s->data, s->len);
	else if (s->len > 0)
		sb_printf(b, " %u bytes", s->len);
	if (s->nsack)
		sb_printf(b, "  # and %u SACK block%s (not injected)", s->nsack,
		          s->nsack == 1 ? "" : "s");
	sb_printf(b, "\n");
}

/* The bytes synack's application writes at one time: the pieces of a
 * segment split (split_gso) and segments sent back to back are one send. */
struct pend {
	int on, exact;
	unsigned long long us;
	uint64_t n;
	uint8_t bytes[MAX_STRING];
};

static void pend_flush(struct sb *b, struct pend *p, int me)
{
	if (!p->on)
		return;
	sb_printf(b, "at %lluus %s send", p->us, side_name(me));
	if (p->exact)
		sb_string(b, p->bytes, (size_t)p->n);
	else
		sb_printf(b, " %llu bytes", (unsigned long long)p->n);
	sb_printf(b, "\n");
	p->on = 0;
}

static void pend_add(struct sb *b, struct pend *p, int me, unsigned long long us,
                     const uint8_t *data, uint64_t k, int captured)
{
	if (p->on && (p->us != us || k > SCRIPT_MAX_BYTES - p->n))
		pend_flush(b, p, me);
	if (!p->on) {
		p->on = 1;
		p->exact = 1;
		p->us = us;
		p->n = 0;
	}
	if (p->exact && captured && k <= MAX_STRING - p->n)
		memcpy(p->bytes + p->n, data, (size_t)k);
	else
		p->exact = 0;
	p->n += k;
}

int frompcap_script(const struct pcap_trace *t, const struct frompcap_opts *o, char **text,
                    char *err, size_t errlen)
{
	struct chosen ch;
	*text = NULL;
	if (choose(t, o, &ch, err, errlen) != 0)
		return -1;
	int me = ch.side, peer = !me;
	struct sb b = {0};
	char a0[64], a1[64];
	addr_text(ch.c.family, ch.c.addr[0], ch.c.port[0], a0, sizeof(a0));
	addr_text(ch.c.family, ch.c.addr[1], ch.c.port[1], a1, sizeof(a1));
	uint16_t cport = ch.c.port[0], sport = ch.c.port[1];
	const struct pcap_seg *last = ch.seg[ch.n - 1];
	sb_printf(&b, "# synack script --from-pcap %s --side %s\n", o->pcap ? o->pcap : "-",
	          side_name(me));
	sb_printf(&b,
	          "# Conversation %zu of %zu: client %s, server %s (IPv%u), %zu segments over "
	          "%.3f ms.\n",
	          ch.idx_conv + 1, ch.nconv, a0, a1, ch.c.family, ch.n,
	          (double)rel_us(&ch, last) / 1000.0);
	sb_printf(&b,
	          "# synack plays the %s (10.0.0.%d:%u here).  The recorded %s (10.0.0.%d:%u) is\n"
	          "# off the network: its stack only names the connection, and the segments\n"
	          "# it sent are injected at their recorded times.\n",
	          side_name(me), me + 1, me == DEMO_CLIENT ? cport : sport, side_name(peer),
	          peer + 1, peer == DEMO_CLIENT ? cport : sport);
	sb_printf(&b, "scenario from-pcap \"a recorded %s against synack as the %s\"\n",
	          side_name(peer), side_name(me));
	sb_printf(&b, "seed %llu\n", (unsigned long long)(o->has_seed ? o->seed : 1));
	emit_settings(&b, &ch);
	sb_printf(&b, "path delay 0ms\n");
	sb_printf(&b, "%s down\n", side_name(peer));
	if (me == DEMO_SERVER) {
		/* A server that answered with no SYN-ACK had no listener. */
		if (syn_of(&ch, DEMO_SERVER))
			sb_printf(&b, "server listen %u\n", sport);
		sb_printf(&b, "client connect server:%u from %u nowait\n", sport, cport);
	} else {
		sb_printf(&b, "server connect client:%u from %u nowait\n", cport, sport);
	}
	sb_printf(&b, "%s abort\n", side_name(peer));

	/* The other side's data synack reads, its own it sends, and where its
	 * FIN was. */
	struct inorder io = {1, calloc(ch.n, sizeof(*io.ahead)), 0};
	if (!io.ahead) {
		chosen_free(&ch);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint64_t sent_high = 1;
	int fin = 0, data_after_fin = 0, accepted = me == DEMO_CLIENT, connected = 0;
	for (size_t i = 0; i < ch.n; i++) {
		const struct pcap_seg *s = ch.seg[i];
		if (end_of(&ch.c, s) == me && (s->flags & TH_FIN))
			fin = 1;
		else if (fin && end_of(&ch.c, s) == peer && s->len > 0) {
			data_after_fin = 1;
		}
	}
	fin = 0;
	struct pend pd;
	memset(&pd, 0, sizeof(pd));
	for (size_t i = 0; i < ch.n; i++) {
		const struct pcap_seg *s = ch.seg[i];
		unsigned long long us = (unsigned long long)rel_us(&ch, s);
		int e = end_of(&ch.c, s);
		if (e == peer) {
			pend_flush(&b, &pd, me);
			emit_inject(&b, &ch, s, e);
			if (!accepted && (s->flags & (TH_SYN | TH_ACK)) == TH_ACK &&
			    ch.has_isn[me] && s->ack == ch.isn[me] + 1) {
				sb_printf(&b, "at %lluus server accept\n", us);
				accepted = 1;
			}
			uint64_t start = (uint32_t)(s->seq - ch.isn[peer]);
			uint64_t got = accepted && !(s->flags & TH_SYN) && s->len
			                   ? inorder_add(&io, start, start + s->len, ch.n)
			                   : 0;
			for (uint64_t part; got > 0; got -= part) {
				part = got < SCRIPT_MAX_BYTES ? got : SCRIPT_MAX_BYTES;
				sb_printf(&b, "at %lluus %s recv %llu\n", us, side_name(me),
				          (unsigned long long)part);
			}
			continue;
		}
		/* A segment of synack's side: what its application did. */
		if (s->flags & TH_SYN) {
			if (me == DEMO_CLIENT && !(s->flags & TH_ACK) && !connected++)
				sb_printf(&b, "at %lluus client connect server:%u from %u nowait\n",
				          us, sport, cport);
			continue;
		}
		uint64_t start = (uint32_t)(s->seq - ch.isn[me]), end = start + s->len;
		if (s->len && end > sent_high && start <= sent_high) {
			uint64_t k = end - sent_high, off = sent_high - start;
			pend_add(&b, &pd, me, us, s->data + off, k, s->caplen >= s->len);
			sent_high = end;
		}
		if ((s->flags & TH_FIN) && !fin && accepted) {
			pend_flush(&b, &pd, me);
			fin = 1;
			sb_printf(&b, "at %lluus %s %s\n", us, side_name(me),
			          data_after_fin ? "shutdown write" : "close");
		}
		if ((s->flags & TH_RST) && !(s->flags & TH_FIN)) {
			pend_flush(&b, &pd, me);
			sb_printf(&b,
			          "# at %lluus the recorded %s sent R (synack decides by itself)\n",
			          us, side_name(me));
		}
	}
	pend_flush(&b, &pd, me);
	sb_printf(&b, "at %lluus stop\n", (unsigned long long)(rel_us(&ch, last) + END_MARGIN_US));
	free(io.ahead);
	chosen_free(&ch);
	if (b.oom) {
		free(b.s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*text = b.s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The comparison.                                                     */

/* A segment of synack's side, numbered relative to the connection. */
struct item {
	const struct pcap_seg *s;
	uint64_t us;
	uint32_t seq, ack;
};

static size_t items_of(const struct pcap_seg *const *seg, size_t n,
                       int (*mine)(const void *, const struct pcap_seg *), const void *ctx,
                       uint32_t isn_me, uint32_t isn_peer, uint64_t t0_ns, struct item *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct pcap_seg *s = seg[i];
		if (!mine(ctx, s))
			continue;
		out[k].s = s;
		out[k].us = s->t_ns >= t0_ns ? (s->t_ns - t0_ns) / 1000 : 0;
		out[k].seq = s->seq - isn_me;
		out[k].ack = (s->flags & TH_ACK) ? s->ack - isn_peer : 0;
		k++;
	}
	return k;
}

static int key_eq(const struct item *a, const struct item *b)
{
	return a->s->flags == b->s->flags && a->seq == b->seq && a->ack == b->ack &&
	       a->s->len == b->s->len;
}

/* The names of what differs between two paired segments, in buf; 0 when
 * nothing compared differs. */
static int differences(const struct item *a, const struct item *b, char *buf, size_t len)
{
	const struct pcap_seg *x = a->s, *y = b->s;
	struct {
		int differs;
		const char *name;
	} f[] = {
	    {x->flags != y->flags, "flags"},
	    {a->seq != b->seq, "seq"},
	    {a->ack != b->ack, "ack"},
	    {x->len != y->len, "len"},
	    {x->has_mss != y->has_mss || x->mss != y->mss, "mss"},
	    {x->has_wscale != y->has_wscale, "wscale"},
	    {x->sackok != y->sackok, "sackok"},
	    {x->has_ts != y->has_ts, "ts"},
	    {(x->nsack > 0) != (y->nsack > 0), "sack"},
	};
	size_t k = 0;
	int n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].differs && k < len) {
			k += (size_t)snprintf(buf + k, len - k, "%s%s", n ? "," : "", f[i].name);
			n++;
		}
	return n;
}

static void seg_text(const struct item *it, char *buf, size_t len)
{
	const struct pcap_seg *s = it->s;
	char fl[16];
	synack_flags_str(s->flags, fl, sizeof(fl));
	size_t k =
	    (size_t)snprintf(buf, len, "%9.3f %-3s seq %u", (double)it->us / 1000.0, fl, it->seq);
	if ((s->flags & TH_ACK) && k < len)
		k += (size_t)snprintf(buf + k, len - k, " ack %u", it->ack);
	if (k < len)
		k += (size_t)snprintf(buf + k, len - k, " len %u win %u", s->len, s->win);
	if (s->has_mss && k < len)
		k += (size_t)snprintf(buf + k, len - k, " mss %u", s->mss);
	if (s->has_wscale && k < len)
		k += (size_t)snprintf(buf + k, len - k, " ws %u", s->wscale);
	if (s->sackok && k < len)
		k += (size_t)snprintf(buf + k, len - k, " sackok");
	if (s->has_ts && k < len)
		k += (size_t)snprintf(buf + k, len - k, " ts");
	if (s->nsack && k < len)
		snprintf(buf + k, len - k, " sack %u", s->nsack);
}

static void seg_json(FILE *out, const char *name, const struct item *it)
{
	const struct pcap_seg *s = it->s;
	char fl[16];
	synack_flags_str(s->flags, fl, sizeof(fl));
	fprintf(out,
	        ",\"%s\":{\"t_ms\":%.3f,\"flags\":\"%s\",\"seq\":%u,\"ack\":%u,\"len\":%u,"
	        "\"win\":%u",
	        name, (double)it->us / 1000.0, fl, it->seq, it->ack, s->len, s->win);
	if (s->has_mss)
		fprintf(out, ",\"mss\":%u", s->mss);
	if (s->has_wscale)
		fprintf(out, ",\"wscale\":%u", s->wscale);
	fprintf(out, ",\"sackok\":%s,\"ts\":%s,\"sack_blocks\":%u}", s->sackok ? "true" : "false",
	        s->has_ts ? "true" : "false", s->nsack);
}

struct tally {
	size_t rows, agree, differ, only_rec, only_syn;
};

static void row(FILE *out, int json, struct tally *t, const struct item *rec,
                const struct item *syn)
{
	char diff[96] = "", a[160] = "", b[160] = "";
	const char *status;
	t->rows++;
	if (rec && syn && differences(rec, syn, diff, sizeof(diff)) == 0) {
		status = "agree";
		t->agree++;
	} else if (rec && syn) {
		status = "differ";
		t->differ++;
	} else if (rec) {
		status = "only-recorded";
		t->only_rec++;
	} else {
		status = "only-synack";
		t->only_syn++;
	}
	if (json) {
		fprintf(out, "{\"row\":%zu,\"status\":\"%s\"", t->rows, status);
		if (diff[0])
			fprintf(out, ",\"differs\":\"%s\"", diff);
		if (rec)
			seg_json(out, "recorded", rec);
		if (syn)
			seg_json(out, "synack", syn);
		fprintf(out, "}\n");
		return;
	}
	if (rec)
		seg_text(rec, a, sizeof(a));
	if (syn)
		seg_text(syn, b, sizeof(b));
	const char *mark = syn && rec ? (diff[0] ? "" : "=")
	                   : rec      ? "only recorded"
	                              : "only synack";
	fprintf(out, "%4zu %-62s | %-62s %s%s\n", t->rows, a, b, diff[0] ? "differ: " : "",
	        diff[0] ? diff : mark);
}

/* Pairs rec[] and syn[] in order: equal keys pair; else the side whose
 * next segment appears soon on the other side gives up the segments before
 * it as unpaired; else the two are paired and differ. */
static void compare(FILE *out, int json, struct tally *t, const struct item *rec, size_t nr,
                    const struct item *syn, size_t ns)
{
	size_t i = 0, j = 0;
	while (i < nr || j < ns) {
		if (i < nr && j < ns && key_eq(&rec[i], &syn[j])) {
			row(out, json, t, &rec[i++], &syn[j++]);
			continue;
		}
		size_t k = LOOKAHEAD + 1, l = LOOKAHEAD + 1;
		for (size_t d = 1; d <= LOOKAHEAD && i < nr && j + d < ns && k > LOOKAHEAD; d++)
			if (key_eq(&rec[i], &syn[j + d]))
				k = d;
		for (size_t d = 1; d <= LOOKAHEAD && j < ns && i + d < nr && l > LOOKAHEAD; d++)
			if (key_eq(&rec[i + d], &syn[j]))
				l = d;
		if (i < nr && j < ns && k > LOOKAHEAD && l > LOOKAHEAD) {
			row(out, json, t, &rec[i++], &syn[j++]);
		} else if (j < ns && (i >= nr || k <= l)) {
			row(out, json, t, NULL, &syn[j++]);
		} else {
			row(out, json, t, &rec[i++], NULL);
		}
	}
}

struct who {
	const struct chosen *ch;
	uint8_t addr[4];
	uint16_t port;
};

static int recorded_mine(const void *ctx, const struct pcap_seg *s)
{
	const struct who *w = ctx;
	return end_of(&w->ch->c, s) == w->ch->side;
}

static int run_mine(const void *ctx, const struct pcap_seg *s)
{
	const struct who *w = ctx;
	return s->family == 4 && memcmp(s->src, w->addr, 4) == 0 && s->sport == w->port;
}

/* The first SYN from the run's host 10.0.0.(h+1) on port, or 0. */
static uint32_t run_isn(const struct pcap_trace *run, int h, uint16_t port)
{
	for (size_t i = 0; i < run->n; i++) {
		const struct pcap_seg *s = &run->seg[i];
		if ((s->flags & TH_SYN) && s->family == 4 && s->src[3] == h + 1 && s->sport == port)
			return s->seq;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The command.                                                        */

void frompcap_usage(FILE *out)
{
	fputs("usage: synack script --from-pcap FILE --side client|server [--conn N | --port P]\n"
	      "                     [--emit FILE.synack] [--seed N] [--json]\n"
	      "\n"
	      "Replays one TCP conversation of a capture (pcap or pcapng, as tcpdump -w or\n"
	      "tshark -w write it): synack plays --side, the recorded other side is injected\n"
	      "at its recorded times, and the segments synack sent are shown side by side\n"
	      "with the ones the recorded side sent (docs/SCRIPTS.md, \"Replaying a capture\").\n"
	      "\n"
	      "  --side client|server  the side synack plays (the client sent the SYN)\n"
	      "  --conn N              the Nth TCP conversation of the capture (default 1)\n"
	      "  --port P              the first conversation with an end on port P\n"
	      "  --emit FILE           also write the script, to edit and run with synack script\n"
	      "  --seed N              seed of synack's secrets (ISNs, timestamps; default 1)\n"
	      "  --json                one JSON object per row; the last is the summary\n"
	      "\n"
	      "Flags, relative seq and ack, length and the options present (and the MSS) are\n"
	      "compared; windows, timestamp values and times are shown, not compared.\n"
	      "Exit status: 0 every segment agrees; 1 one differs or is missing on a side;\n"
	      "2 bad usage or a capture that cannot be read or replayed.\n",
	      out);
}

int frompcap_wanted(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], "--from-pcap", 11) == 0 &&
		    (argv[i][11] == '\0' || argv[i][11] == '='))
			return 1;
	return 0;
}

#define HINT "with --from-pcap (synack script --from-pcap x --help)"

static int side_flag(void *opts, const char *flag, const char *val, char *err, size_t errlen)
{
	struct frompcap_opts *o = opts;
	if (strcmp(val, "client") == 0) {
		o->side = DEMO_CLIENT;
	} else if (strcmp(val, "server") == 0) {
		o->side = DEMO_SERVER;
	} else {
		snprintf(err, errlen, "%s: expected client or server, got '%s'", flag, val);
		return -1;
	}
	return 0;
}

static int port_flag(void *opts, const char *flag, const char *val, char *err, size_t errlen)
{
	uint64_t v;
	if (cli_flag_u64(flag, val, 65535, &v, err, errlen) != 0)
		return -1;
	((struct frompcap_opts *)opts)->port = (int)v;
	return 0;
}

#define O(n, k, f) CLI_OPT(struct frompcap_opts, n, k, f)
static const struct cli_opt FROMPCAP_FLAGS[] = {
    {O("--from-pcap", CLI_PATH, pcap)},
    {O("--side", CLI_CUSTOM, side), .fn = side_flag},
    {O("--conn", CLI_U64, conn), .min = 1, .max = MAX_CONVS, .low = "conversations count from 1"},
    {O("--port", CLI_CUSTOM, port), .fn = port_flag},
    {O("--emit", CLI_PATH, emit)},
    {O("--seed", CLI_U64, seed), .max = UINT64_MAX,
     .seen = CLI_SEEN(struct frompcap_opts, has_seed)},
    {O("--json", CLI_SWITCH, json)},
};
#undef O

const struct cli_table frompcap_cli = {
    CLI_ROWS(FROMPCAP_FLAGS),
    .unknown = "unknown option",
    .hint = HINT,
    .help = CLI_SEEN(struct frompcap_opts, help),
    .args_are_flags = 1, /* every argument is a flag here */
};
#undef HINT

static int parse_args(int argc, char **argv, struct frompcap_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	o->side = -1;
	o->port = -1;
	if (cli_parse(&frompcap_cli, o, argc, argv, err, errlen) < 0)
		return -1;
	if (o->help)
		return 0;
	if (o->side < 0) {
		snprintf(err, errlen, "--from-pcap needs --side client or --side server");
		return -1;
	}
	if (o->conn && o->port >= 0) {
		snprintf(err, errlen, "--conn and --port both choose a conversation: give one");
		return -1;
	}
	return 0;
}

/* Runs the script text (named file in messages) with a capture of the run
 * written to cap_path.  0, or -1 with err. */
static int run_script(const char *file, const char *text, const struct frompcap_opts *o,
                      const char *cap_path, char *err, size_t errlen)
{
	struct script *s = script_parse(file, text, strlen(text), err, errlen);
	if (!s)
		return -1;
	struct script_opts so;
	memset(&so, 0, sizeof(so));
	so.file = file;
	so.seed = o->seed;
	so.has_seed = o->has_seed;
	so.pcap = cap_path;
	struct demo_result *res = calloc(1, sizeof(*res));
	int rc = -1;
	if (!res) {
		snprintf(err, errlen, "out of memory");
	} else {
		/* The run's own failures (an action that could not complete)
		 * go to stderr; the comparison shows their effect. */
		rc = script_run(s, &so, NULL, stderr, res);
		if (rc != 0) {
			snprintf(err, errlen, "the replay did not run: %s",
			         res->error[0] ? res->error : synack_strerror(rc));
			rc = -1;
		}
	}
	free(res);
	script_free(s);
	return rc;
}

static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		snprintf(err, errlen, "--emit: cannot write '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int frompcap_main(int argc, char **argv)
{
	struct frompcap_opts o;
	char err[1024] = "";
	if (parse_args(argc, argv, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "synack script: %s\n", err);
		return 2;
	}
	if (o.help) {
		frompcap_usage(stdout);
		return 0;
	}
	struct pcap_trace rec, run;
	memset(&run, 0, sizeof(run));
	if (pcap_trace_load(o.pcap, &rec, err, sizeof(err)) != 0) {
		fprintf(stderr, "synack script: %s\n", err);
		return 2;
	}
	char *text = NULL;
	int status = 2;
	char cap_path[] = "/tmp/synack-frompcap-XXXXXX";
	int fd = -1;
	if (frompcap_script(&rec, &o, &text, err, sizeof(err)) != 0)
		goto out;
	if (o.emit && write_file(o.emit, text, err, sizeof(err)) != 0)
		goto out;
	fd = mkstemp(cap_path);
	if (fd < 0) {
		snprintf(err, sizeof(err), "cannot create a file for the run's capture: %s",
		         strerror(errno));
		goto out;
	}
	close(fd);
	if (run_script(o.emit ? o.emit : "from-pcap.synack", text, &o, cap_path, err,
	               sizeof(err)) != 0 ||
	    pcap_trace_load(cap_path, &run, err, sizeof(err)) != 0)
		goto out;
	struct chosen ch;
	if (choose(&rec, &o, &ch, err, sizeof(err)) != 0)
		goto out;
	int me = o.side;
	struct item *ri = calloc(ch.n, sizeof(*ri));
	struct item *si = calloc(run.n ? run.n : 1, sizeof(*si));
	const struct pcap_seg **rs = calloc(run.n ? run.n : 1, sizeof(*rs));
	if (!ri || !si || !rs) {
		snprintf(err, sizeof(err), "out of memory");
	} else {
		struct who w = {&ch, {10, 0, 0, (uint8_t)(me + 1)}, ch.c.port[me]};
		size_t nr = items_of(ch.seg, ch.n, recorded_mine, &w, ch.isn[me], ch.isn[!me],
		                     ch.t0_ns, ri);
		for (size_t i = 0; i < run.n; i++)
			rs[i] = &run.seg[i];
		uint64_t run_t0 = run.n ? run.seg[0].t_ns : 0;
		size_t ns = items_of(rs, run.n, run_mine, &w, run_isn(&run, me, ch.c.port[me]),
		                     run_isn(&run, !me, ch.c.port[!me]), run_t0, si);
		char a0[64], a1[64];
		addr_text(ch.c.family, ch.c.addr[0], ch.c.port[0], a0, sizeof(a0));
		addr_text(ch.c.family, ch.c.addr[1], ch.c.port[1], a1, sizeof(a1));
		if (!o.json) {
			printf("%s: conversation %zu of %zu, client %s, server %s (IPv%u)\n",
			       o.pcap, ch.idx_conv + 1, ch.nconv, a0, a1, ch.c.family);
			printf("synack plays the %s against the recorded %s (%zu segments "
			       "injected)\n\n",
			       side_name(me), side_name(!me), ch.n - nr);
			printf("%4s %-62s | %-62s\n", "row",
			       me == DEMO_CLIENT ? "recorded client" : "recorded server",
			       me == DEMO_CLIENT ? "synack client" : "synack server");
		}
		struct tally t = {0};
		compare(stdout, o.json, &t, ri, nr, si, ns);
		status = t.agree == t.rows ? 0 : 1;
		if (o.json) {
			printf("{\"summary\":true,\"pcap\":");
			render_json_string(stdout, o.pcap);
			printf(",\"conversation\":%zu,\"conversations\":%zu,\"side\":\"%s\","
			       "\"family\":%u,\"injected\":%zu,\"recorded\":%zu,\"synack\":%zu,"
			       "\"rows\":%zu,\"agree\":%zu,\"differ\":%zu,\"only_recorded\":%zu,"
			       "\"only_synack\":%zu,\"ok\":%s}\n",
			       ch.idx_conv + 1, ch.nconv, side_name(me), ch.c.family, ch.n - nr, nr,
			       ns, t.rows, t.agree, t.differ, t.only_rec, t.only_syn,
			       status == 0 ? "true" : "false");
		} else {
			printf("\n%zu rows: %zu agree, %zu differ, %zu only recorded, %zu only "
			       "synack.\n",
			       t.rows, t.agree, t.differ, t.only_rec, t.only_syn);
			printf("Compared: flags, relative seq/ack, length, options present, MSS; "
			       "windows,\n"
			       "timestamp values and times differ by design and are only shown.\n");
		}
	}
	free(ri);
	free(si);
	free(rs);
	chosen_free(&ch);
out:
	if (status == 2 && err[0])
		fprintf(stderr, "synack script: %s\n", err);
	if (fd >= 0)
		unlink(cap_path);
	free(text);
	pcap_trace_free(&rec);
	pcap_trace_free(&run);
	fflush(stdout);
	return status;
}
