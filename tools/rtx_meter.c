#include "rtx_meter.h"

#include <stdlib.h>
#include <string.h>

void rtx_meter_init(struct rtx_meter *m, int from, int to, synack_sim_tap_fn next, void *next_ctx)
{
	memset(m, 0, sizeof(*m));
	m->from = from;
	m->to = to;
	m->next = next;
	m->next_ctx = next_ctx;
}

void rtx_meter_fini(struct rtx_meter *m)
{
	free(m->span);
	free(m->seen);
	m->span = NULL;
	m->seen = NULL;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The TCP segment in an IPv4 datagram: its sequence number, SYN flag and
 * payload length.  Returns 0, or -1 for anything else. */
static int tcp_of(const uint8_t *pkt, size_t len, uint32_t *seq, int *syn, size_t *plen)
{
	if (len < 20 || (pkt[0] >> 4) != 4 || pkt[9] != 6)
		return -1;
	size_t ihl = (size_t)(pkt[0] & 0xf) * 4, tot = (size_t)pkt[2] << 8 | pkt[3];
	if (ihl < 20 || tot > len || tot < ihl + 20)
		return -1;
	const uint8_t *t = pkt + ihl;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20 || ihl + doff > tot)
		return -1;
	*seq = be32(t + 4);
	*syn = (t[13] & 0x02) != 0;
	*plen = tot - ihl - doff;
	return 0;
}

static uint64_t fnv64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

/* Adds h to the set of datagrams seen; returns 1 when it was there. */
static int seen_add(struct rtx_meter *m, uint64_t h)
{
	if (2 * (m->nseen + 1) > m->capseen) {
		size_t cap = m->capseen ? 2 * m->capseen : 1024;
		uint64_t *n = calloc(cap, sizeof(*n));
		if (!n) {
			m->oom = 1;
			return 0;
		}
		for (size_t i = 0; i < m->capseen; i++)
			if (m->seen[i])
				for (size_t j = m->seen[i] & (cap - 1);; j = (j + 1) & (cap - 1))
					if (!n[j]) {
						n[j] = m->seen[i];
						break;
					}
		free(m->seen);
		m->seen = n;
		m->capseen = cap;
	}
	for (size_t j = h & (m->capseen - 1);; j = (j + 1) & (m->capseen - 1)) {
		if (m->seen[j] == h)
			return 1;
		if (!m->seen[j]) {
			m->seen[j] = h;
			m->nseen++;
			return 0;
		}
	}
}

/* Marks [lo, hi) delivered; returns how many of those bytes already were. */
static uint64_t span_add(struct rtx_meter *m, uint64_t lo, uint64_t hi)
{
	/* The first span that ends at or after lo (spans are few: holes). */
	size_t i = m->nspan;
	while (i > 0 && m->span[i - 1].hi >= lo)
		i--;
	uint64_t dup = 0, nlo = lo, nhi = hi;
	size_t j = i;
	for (; j < m->nspan && m->span[j].lo <= hi; j++) {
		uint64_t a = m->span[j].lo > lo ? m->span[j].lo : lo;
		uint64_t b = m->span[j].hi < hi ? m->span[j].hi : hi;
		if (b > a)
			dup += b - a;
		if (m->span[j].lo < nlo)
			nlo = m->span[j].lo;
		if (m->span[j].hi > nhi)
			nhi = m->span[j].hi;
	}
	/* Spans i..j-1 merge into one. */
	if (j == i) {
		if (m->nspan == m->capspan) {
			size_t cap = m->capspan ? 2 * m->capspan : 64;
			struct rtx_span *n = realloc(m->span, cap * sizeof(*n));
			if (!n) {
				m->oom = 1;
				return 0;
			}
			m->span = n;
			m->capspan = cap;
		}
		memmove(&m->span[i + 1], &m->span[i], (m->nspan - i) * sizeof(*m->span));
		m->nspan++;
	} else if (j > i + 1) {
		memmove(&m->span[i + 1], &m->span[j], (m->nspan - j) * sizeof(*m->span));
		m->nspan -= j - i - 1;
	}
	m->span[i].lo = nlo;
	m->span[i].hi = nhi;
	return dup;
}

void rtx_meter_tap(void *ctx, int event, int from, int to, const uint8_t *pkt, size_t len,
                   uint64_t now)
{
	struct rtx_meter *m = ctx;
	if (m->next)
		m->next(m->next_ctx, event, from, to, pkt, len, now);
	uint32_t seq;
	int syn;
	size_t plen;
	if (from != m->from || to != m->to || tcp_of(pkt, len, &seq, &syn, &plen) != 0)
		return;
	if (syn && event == SYNACK_SIM_SENT) {
		m->isn = seq;
		m->have_isn = 1;
		return;
	}
	if (!m->have_isn || plen == 0 || syn)
		return;
	/* The stream offset, unwrapped near the highest one sent. */
	uint32_t rel = seq - m->isn - 1;
	uint64_t lo = m->sent_end + (uint64_t)(int64_t)(int32_t)(rel - (uint32_t)m->sent_end);
	uint64_t hi = lo + plen;
	if (event == SYNACK_SIM_SENT) {
		if (lo < m->sent_end)
			m->retrans_bytes += (hi < m->sent_end ? hi : m->sent_end) - lo;
		if (hi > m->sent_end)
			m->sent_end = hi;
	} else if (event == SYNACK_SIM_DELIVERED) {
		if (!seen_add(m, fnv64(pkt, len)))
			m->spurious_bytes += span_add(m, lo, hi);
	}
}
