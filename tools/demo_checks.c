#include "demo_checks.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void demo_result_check(struct demo_result *r, int ok, const char *fmt, ...)
{
	if (!ok)
		r->ok = 0;
	if (r->nchecks >= DEMO_MAX_CHECKS)
		return;
	struct demo_check *c = &r->checks[r->nchecks++];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->what, sizeof(c->what), fmt, ap);
	va_end(ap);
	c->ok = ok;
}

void demo_check_path(struct demo *d, int h, const char *want)
{
	char got[512];
	demo_state_path(d->res, h, got, sizeof(got));
	if (strcmp(got, want) == 0)
		demo_result_check(d->res, 1, "%s states %s", h == DEMO_CLIENT ? "client" : "server",
		                  want);
	else
		demo_result_check(d->res, 0, "%s states %s (got %s)",
		                  h == DEMO_CLIENT ? "client" : "server", want, got);
}

void demo_check_bytes(struct demo *d, int h, const char *want)
{
	size_t n = strlen(want);
	int ok = d->nrx[h] == n && memcmp(d->rx[h], want, n) == 0;
	demo_result_check(d->res, ok, "%s received exactly the %zu bytes sent (got %zu)",
	                  h == DEMO_CLIENT ? "client" : "server", n, d->nrx[h]);
}

const struct demo_transition *demo_trans(struct demo *d, int h, int to, int nth)
{
	const struct demo_host_result *hr = &d->res->host[h];
	int seen = 0;
	for (size_t i = 0; i < hr->ntr; i++)
		if (hr->tr[i].to == to && seen++ == nth)
			return &hr->tr[i];
	return NULL;
}

/* Time spent in state `st` by host h's first visit, or -1. */
static int64_t state_duration(struct demo *d, int h, int st)
{
	const struct demo_host_result *hr = &d->res->host[h];
	for (size_t i = 0; i < hr->ntr; i++) {
		if (hr->tr[i].to != st)
			continue;
		for (size_t j = i + 1; j < hr->ntr; j++)
			if (hr->tr[j].from == st && hr->tr[j].local.port == hr->tr[i].local.port &&
			    hr->tr[j].remote.port == hr->tr[i].remote.port)
				return (int64_t)(hr->tr[j].t_us - hr->tr[i].t_us);
		return -1;
	}
	return -1;
}

/* Whether e is a trace record of host h of kind `kind` whose flags include
 * all and none of none, with data (data > 0), without (data < 0) or
 * either (0). */
static int seg_matches(const struct render_event *e, int h, int kind, uint8_t all, uint8_t none,
                       int data)
{
	if (e->kind != RENDER_TRACE || e->host != h || e->tr.kind != kind)
		return 0;
	if ((e->tr.flags & all) != all || (e->tr.flags & none))
		return 0;
	return !((data > 0 && e->tr.len == 0) || (data < 0 && e->tr.len != 0));
}

const struct render_event *demo_seg(struct demo *d, int h, int kind, uint8_t all, uint8_t none,
                                    int data, int nth)
{
	int seen = 0;
	for (size_t i = 0; i < d->log.n; i++)
		if (seg_matches(&d->log.ev[i], h, kind, all, none, data) && seen++ == nth)
			return &d->log.ev[i];
	return NULL;
}

int demo_seg_count(struct demo *d, int h, int kind, uint8_t all, uint8_t none, int data)
{
	int n = 0;
	for (size_t i = 0; i < d->log.n; i++)
		n += seg_matches(&d->log.ev[i], h, kind, all, none, data);
	return n;
}

uint64_t demo_result_counter(const struct demo_result *r, int h, const char *name)
{
	for (size_t i = 0; i < synack_counter_count(); i++)
		if (strcmp(synack_counter_name(i), name) == 0)
			return synack_counter_value(&r->host[h].stats, i);
	return UINT64_MAX;
}

uint64_t demo_counter(struct demo *d, int h, const char *name)
{
	return demo_result_counter(d->res, h, name);
}

void demo_check_counter(struct demo *d, int h, const char *name, uint64_t want)
{
	uint64_t v = demo_counter(d, h, name);
	demo_result_check(d->res, v == want, "%s %s = %llu (want %llu)",
	                  h == DEMO_CLIENT ? "client" : "server", name, (unsigned long long)v,
	                  (unsigned long long)want);
}

void demo_check_timed_state(struct demo *d, int h, int st, uint64_t want_us, const char *setting)
{
	int64_t got = state_duration(d, h, st);
	demo_result_check(d->res, got == (int64_t)want_us,
	                  "%s stayed in %s for %s = %.3f ms (got %.3f ms)",
	                  h == DEMO_CLIENT ? "client" : "server", synack_state_name(st), setting,
	                  (double)want_us / 1000.0, (double)got / 1000.0);
}

const char *demo_host_name(int h)
{
	return h == DEMO_CLIENT ? "client" : "server";
}

/*
 * TIME_WAIT lasts time_wait_ms from when it is entered, or from the last
 * retransmitted FIN that arrives in it: RFC 9293 3.10.7.4 says to acknowledge
 * such a FIN and restart the 2 MSL timeout.
 */
void demo_check_time_wait(struct demo *d, int h)
{
	const struct demo_transition *in = demo_trans(d, h, SYNACK_TIME_WAIT, 0);
	const struct demo_transition *out = NULL;
	const struct demo_host_result *hr = &d->res->host[h];
	for (size_t i = 0; in && i < hr->ntr; i++)
		if (hr->tr[i].from == SYNACK_TIME_WAIT && hr->tr[i].t_us >= in->t_us)
			out = &hr->tr[i];
	uint64_t want = (uint64_t)d->cfg[h].time_wait_ms * 1000;
	uint64_t base = in ? in->t_us : 0;
	const struct render_event *e;
	for (int i = 0; in && out && (e = demo_seg(d, h, SYNACK_TRACE_RX, SYNACK_TH_FIN, 0, 0, i));
	     i++)
		if (e->t_us > in->t_us && e->t_us < out->t_us)
			base = e->t_us;
	demo_result_check(d->res,
	                  in && out && out->cause == SYNACK_CAUSE_TIME_WAIT_EXPIRED &&
	                      out->t_us - base == want,
	                  "%s left TIME_WAIT time_wait_ms = %.3f ms after %s (got %.3f ms, %s)",
	                  demo_host_name(h), (double)want / 1000.0,
	                  in && base != in->t_us ? "the last FIN" : "entering it",
	                  in && out ? (double)(out->t_us - base) / 1000.0 : -1.0,
	                  out ? synack_cause_name(out->cause) : "never left");
}

/* The four separate closing segments of the article: FIN, ACK, FIN, ACK.
 * `a` closes actively, `p` passively. */
void demo_check_four_way(struct demo *d, int a, int p)
{
	const struct render_event *fin_a = demo_seg(d, a, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, -1, 0);
	const struct render_event *fin_p = demo_seg(d, p, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, -1, 0);
	const struct render_event *ack_p = NULL, *ack_a = NULL;
	if (fin_a)
		for (int i = 0; (ack_p = demo_seg(d, p, SYNACK_TRACE_TX, SYNACK_TH_ACK,
		                                  SYNACK_TH_FIN, -1, i)) != NULL;
		     i++)
			if (ack_p->tr.ack == fin_a->tr.seq + 1)
				break;
	if (fin_p)
		for (int i = 0; (ack_a = demo_seg(d, a, SYNACK_TRACE_TX, SYNACK_TH_ACK,
		                                  SYNACK_TH_FIN, -1, i)) != NULL;
		     i++)
			if (ack_a->tr.ack == fin_p->tr.seq + 1)
				break;
	/* The log is sorted by time, so positions in it are the order on the wire. */
	int ok = fin_a && fin_p && ack_p && ack_a && fin_a < ack_p && ack_p < fin_p &&
	         fin_p < ack_a && ack_p->t_us < fin_p->t_us;
	demo_result_check(
	    d->res, ok, "four separate closing segments: %s FIN, %s ACK, %s FIN, %s ACK",
	    demo_host_name(a), demo_host_name(p), demo_host_name(p), demo_host_name(a));
}

void demo_check_isns(struct demo *d)
{
	const struct demo_host_result *c = &d->res->host[DEMO_CLIENT],
	                              *s = &d->res->host[DEMO_SERVER];
	demo_result_check(
	    d->res, c->sent_syn && s->sent_syn && c->iss != 0 && s->iss != 0 && c->iss != s->iss,
	    "ISNs are random-looking: client %lu, server %lu", (unsigned long)c->iss,
	    (unsigned long)s->iss);
}

const char *demo_state_path(const struct demo_result *res, int host, char *buf, size_t len)
{
	const struct demo_host_result *hr = &res->host[host];
	size_t n = 0;
	int done[DEMO_MAX_TRANSITIONS] = {0};
	if (len == 0)
		return buf;
	buf[0] = 0;
#define APPEND(...)                                                                                \
	do {                                                                                       \
		int k_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__);                    \
		if (k_ > 0)                                                                        \
			n += (size_t)k_;                                                           \
		if (n >= len)                                                                      \
			n = len - 1;                                                               \
	} while (0)
	for (size_t i = 0; i < hr->ntr; i++) {
		if (done[i])
			continue;
		const struct demo_transition *a = &hr->tr[i];
		if (n > 0)
			APPEND("; ");
		APPEND("%s", synack_state_name(a->from));
		int last = -1;
		for (size_t j = i; j < hr->ntr; j++) {
			const struct demo_transition *b = &hr->tr[j];
			if (done[j] || !cli_endpoint_eq(&a->local, &b->local) ||
			    !cli_endpoint_eq(&a->remote, &b->remote))
				continue;
			done[j] = 1;
			if (last >= 0 && b->from != last)
				APPEND("~%s", synack_state_name(b->from));
			APPEND(">%s", synack_state_name(b->to));
			last = b->to;
		}
	}
#undef APPEND
	return buf;
}

uint64_t demo_figure(const struct demo_result *res, const char *name)
{
	for (size_t i = 0; i < res->nfigures; i++)
		if (strcmp(res->figures[i].name, name) == 0)
			return res->figures[i].value;
	return UINT64_MAX;
}
