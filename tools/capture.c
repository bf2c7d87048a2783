#include "capture.h"

#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "synack/pcap.h"
#include "synack/sim.h"

#define IP_PROTO_TCP 6

/* The TCP header fields of a datagram the network lost, and when. */
struct lost_seg {
	uint64_t t_us;
	int from; /* simulator host index */
	uint16_t sport, dport;
	uint32_t seq, ack, len;
	uint8_t flags;
};

struct capture {
	struct synack_pcap *pcap;
	int error; /* first write error */
	int keep_lost;
	struct lost_seg *lost;
	size_t nlost, caplost;
};

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

struct capture *capture_open(const char *path, int keep_lost, char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->keep_lost = keep_lost;
	if (path) {
		int e = 0;
		c->pcap = synack_pcap_open(path, SYNACK_PCAP_LINKTYPE_RAW, 0, &e);
		if (!c->pcap) {
			snprintf(err, errlen, "--pcap: cannot create '%s': %s", path,
			         synack_strerror(e));
			free(c);
			return NULL;
		}
	}
	return c;
}

/* Remembers the TCP header of a lost datagram (IPv4, no fragments). */
static void remember_lost(struct capture *c, int from, const uint8_t *p, size_t len, uint64_t now)
{
	if (len < 20 || (p[0] >> 4) != 4 || p[9] != IP_PROTO_TCP)
		return;
	size_t ihl = (size_t)(p[0] & 15) * 4, total = ((size_t)p[2] << 8) | p[3];
	if (ihl < 20 || total > len || total < ihl + 20)
		return;
	const uint8_t *t = p + ihl;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20 || ihl + doff > total)
		return;
	if (c->nlost == c->caplost) {
		size_t cap = c->caplost ? c->caplost * 2 : 64;
		struct lost_seg *n = realloc(c->lost, cap * sizeof(*n));
		if (!n)
			return; /* the picture shows it arriving nowhere, not lost */
		c->lost = n;
		c->caplost = cap;
	}
	c->lost[c->nlost++] = (struct lost_seg){
	    .t_us = now,
	    .from = from,
	    .sport = (uint16_t)((t[0] << 8) | t[1]),
	    .dport = (uint16_t)((t[2] << 8) | t[3]),
	    .seq = be32(t + 4),
	    .ack = be32(t + 8),
	    .len = (uint32_t)(total - ihl - doff),
	    .flags = t[13],
	};
}

void capture_tap(struct capture *c, int event, int from, int to, const uint8_t *pkt, size_t len,
                 uint64_t now)
{
	(void)to;
	if (!c)
		return;
	/* A host's datagram when it leaves; an injected one (from no host)
	 * when it arrives, as it never left anywhere we watch. */
	int write =
	    (event == SYNACK_SIM_SENT && from >= 0) || (event == SYNACK_SIM_DELIVERED && from < 0);
	if (write && c->pcap && !c->error)
		c->error = synack_pcap_write(c->pcap, now, pkt, len);
	if (event == SYNACK_SIM_LOST && from >= 0 && c->keep_lost)
		remember_lost(c, from, pkt, len, now);
}

void capture_tap_fn(void *ctx, int event, int from, int to, const uint8_t *pkt, size_t len,
                    uint64_t now)
{
	capture_tap(ctx, event, from, to, pkt, len, now);
}

static int lost_is(const struct lost_seg *l, const struct synack_trace *tr)
{
	return l->seq == tr->seq && l->flags == tr->flags && l->len == tr->len &&
	       l->sport == tr->local.port && l->dport == tr->remote.port &&
	       (!(l->flags & SYNACK_TH_ACK) || l->ack == tr->ack);
}

void capture_mark_lost(const struct capture *c, struct render_log *log, const int *host_of_sim,
                       int sim_hosts)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nlost; i++) {
		const struct lost_seg *l = &c->lost[i];
		if (l->from >= sim_hosts)
			continue;
		int h = host_of_sim[l->from];
		/* The latest sending of the same segment at or before the loss
		 * that is not lost already: the network decides when it sends. */
		size_t lo = 0, hi = log->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (log->ev[mid].t_us <= l->t_us)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t j = lo; j-- > 0;) {
			struct render_event *e = &log->ev[j];
			if (e->kind != RENDER_TRACE || e->host != h ||
			    e->tr.kind != SYNACK_TRACE_TX || e->lost || !lost_is(l, &e->tr))
				continue;
			e->fate_known = 1;
			e->lost = 1;
			break;
		}
	}
}

uint64_t capture_records(const struct capture *c)
{
	return c && c->pcap ? synack_pcap_records(c->pcap) : 0;
}

int capture_close(struct capture *c, char *err, size_t errlen)
{
	if (!c)
		return 0;
	int e = c->error;
	if (c->pcap) {
		int e2 = synack_pcap_close(c->pcap);
		if (!e)
			e = e2;
	}
	free(c->lost);
	free(c);
	if (e) {
		snprintf(err, errlen, "--pcap: writing the capture failed: %s", synack_strerror(e));
		return -1;
	}
	return 0;
}
