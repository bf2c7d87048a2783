#include "demo_scenarios.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_checks.h"
#include "demo_engine.h"
#include "synack/sim.h"
#include "wire/wire.h"
#include "wire/wire6.h"

static const char REQUEST[] = "GET /index.html HTTP/1.0\r\n\r\n";
static const char RESPONSE[] = "HTTP/1.0 200 OK\r\n\r\nhello from 10.0.0.2\n";

/* ------------------------------------------------------------------ */
/* Scenarios.                                                          */

#define PATH_ACTIVE_CLIENT "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED"
#define PATH_PASSIVE_CLIENT "CLOSED>SYN_SENT>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED"
#define PATH_LISTENER "CLOSED>LISTEN"
#define PATH_PASSIVE_SERVER                                                                        \
	PATH_LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED"
#define PATH_ACTIVE_SERVER                                                                         \
	PATH_LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED"

static void ck_handshake(struct demo *d)
{
	demo_check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	demo_check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	demo_check_bytes(d, DEMO_SERVER, REQUEST);
	demo_check_bytes(d, DEMO_CLIENT, RESPONSE);
	const struct render_event *syn =
	    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 0);
	const struct render_event *synack =
	    demo_seg(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_SYN | SYNACK_TH_ACK, 0, 0, 0);
	demo_result_check(d->res, syn && synack && synack->tr.ack == syn->tr.seq + 1,
	                  "three-way handshake: SYN, SYN+ACK acknowledging ISN+1, ACK");
	demo_check_isns(d);
	demo_check_four_way(d, DEMO_CLIENT, DEMO_SERVER);
	demo_check_time_wait(d, DEMO_CLIENT);
	demo_check_counter(d, DEMO_CLIENT, "TimeWaitExpired", 1);
}

static void ck_server_closes_first(struct demo *d)
{
	demo_check_path(d, DEMO_CLIENT, PATH_PASSIVE_CLIENT);
	demo_check_path(d, DEMO_SERVER, PATH_ACTIVE_SERVER);
	demo_check_bytes(d, DEMO_SERVER, REQUEST);
	demo_check_bytes(d, DEMO_CLIENT, RESPONSE);
	demo_check_four_way(d, DEMO_SERVER, DEMO_CLIENT);
	demo_check_time_wait(d, DEMO_SERVER);
	demo_check_counter(d, DEMO_SERVER, "TimeWaitExpired", 1);
}

static void ck_simultaneous_open(struct demo *d)
{
	demo_check_path(
	    d, DEMO_CLIENT,
	    "CLOSED>SYN_SENT>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED");
	demo_check_path(d, DEMO_SERVER,
	                "CLOSED>SYN_SENT>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED");
	for (int h = 0; h < 2; h++) {
		int bare = demo_seg_count(d, h, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0);
		int both =
		    demo_seg_count(d, h, SYNACK_TRACE_TX, SYNACK_TH_SYN | SYNACK_TH_ACK, 0, 0);
		const struct render_event *syn =
		    demo_seg(d, h, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 0);
		const struct render_event *synack =
		    demo_seg(d, h, SYNACK_TRACE_TX, SYNACK_TH_SYN | SYNACK_TH_ACK, 0, 0, 0);
		demo_result_check(
		    d->res, syn && synack && syn < synack && synack->tr.seq == syn->tr.seq,
		    "%s sent a SYN, then a SYN+ACK with the same ISN (%d and %d sent)",
		    demo_host_name(h), bare, both);
		demo_check_counter(d, h, "ActiveOpens", 1);
	}
	demo_check_bytes(d, DEMO_SERVER, REQUEST);
	demo_check_bytes(d, DEMO_CLIENT, RESPONSE);
}

static void ck_simultaneous_close(struct demo *d)
{
	demo_check_path(d, DEMO_CLIENT,
	                "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>CLOSING>TIME_WAIT>CLOSED");
	demo_check_path(d, DEMO_SERVER,
	                PATH_LISTENER
	                "; LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>CLOSING>TIME_WAIT>CLOSED");
	for (int h = 0; h < 2; h++) {
		const struct render_event *tx =
		    demo_seg(d, h, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0, 0);
		const struct render_event *rx =
		    demo_seg(d, h, SYNACK_TRACE_RX, SYNACK_TH_FIN, 0, 0, 0);
		demo_result_check(d->res, tx && rx && tx->t_us < rx->t_us,
		                  "the FINs crossed: %s sent its FIN before the other's arrived",
		                  demo_host_name(h));
		demo_check_time_wait(d, h);
	}
}

static const char HALF_CHUNKS[3][24] = {"chunk one\n", "chunk two\n", "chunk three\n"};

static void ck_half_close(struct demo *d)
{
	char want[64] = "";
	/* The chunks the client read, and how many in FIN_WAIT_2: its recv()
	 * calls that returned data, and its state when each returned. */
	int chunks = 0, in_fw2 = 0;
	const struct demo_host_result *hr = &d->res->host[DEMO_CLIENT];
	for (size_t i = 0; i < d->log.n; i++) {
		const struct render_event *e = &d->log.ev[i];
		if (e->kind != RENDER_APP || e->host != DEMO_CLIENT ||
		    strcmp(e->call, "recv") != 0 || e->ret <= 0)
			continue;
		int st = SYNACK_CLOSED;
		for (size_t j = 0; j < hr->ntr && hr->tr[j].t_us <= e->t_us; j++)
			st = hr->tr[j].to;
		chunks++;
		in_fw2 += st == SYNACK_FIN_WAIT_2;
	}
	for (int i = 0; i < 3; i++)
		strcat(want, HALF_CHUNKS[i]);
	demo_check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	demo_check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	demo_check_bytes(d, DEMO_SERVER, REQUEST);
	demo_check_bytes(d, DEMO_CLIENT, want);
	demo_result_check(d->res, chunks == 3 && in_fw2 == 3,
	                  "client read all 3 chunks while in FIN_WAIT_2 (got %d of %d)", in_fw2,
	                  chunks);
	const struct demo_transition *fw2 = demo_trans(d, DEMO_CLIENT, SYNACK_FIN_WAIT_2, 0);
	int after = 0;
	for (int i = 0; fw2; i++) {
		const struct render_event *e =
		    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_RX, 0, 0, 1, i);
		if (!e)
			break;
		if (e->t_us >= fw2->t_us)
			after++;
	}
	demo_result_check(d->res, after >= 3,
	                  "data segments arrived after the client's FIN was acknowledged (%d)",
	                  after);
}

static const char LAST[] = "the last words before the FIN\n";

static void ck_fin_before_data(struct demo *d)
{
	char want[128];
	snprintf(want, sizeof(want), "%s%s", REQUEST, LAST);
	demo_check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	demo_check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	demo_check_bytes(d, DEMO_SERVER, want);
	const struct render_event *fin =
	    demo_seg(d, DEMO_SERVER, SYNACK_TRACE_RX, SYNACK_TH_FIN, 0, 0, 0);
	const struct render_event *data = NULL;
	for (int i = 0; (data = demo_seg(d, DEMO_SERVER, SYNACK_TRACE_RX, 0, SYNACK_TH_FIN, 1, i));
	     i++)
		if (data->tr.len == strlen(LAST))
			break;
	demo_result_check(d->res, fin && data && fin->t_us < data->t_us,
	                  "the FIN arrived before the data sent ahead of it");
	const struct demo_transition *cw = demo_trans(d, DEMO_SERVER, SYNACK_CLOSE_WAIT, 0);
	demo_result_check(d->res,
	                  cw && fin && data && cw->t_us == data->t_us && cw->t_us > fin->t_us,
	                  "server entered CLOSE_WAIT only when the missing data arrived");
	demo_check_counter(d, DEMO_SERVER, "DelayedFinQueued", 1);
	/* Say in the ladder what the FIN's arrival did, since it changed no state. */
	if (fin && (!cw || cw->t_us > fin->t_us)) {
		uint64_t t = fin->t_us;
		struct render_event *e = render_log_add(&d->log, t, DEMO_SERVER, RENDER_NOTE);
		if (e)
			snprintf(e->text, sizeof(e->text), "FIN out of order: held");
		e = render_log_add(&d->log, t, DEMO_SERVER, RENDER_NOTE);
		if (e)
			snprintf(e->text, sizeof(e->text), "(still ESTABLISHED)");
	}
}

static void ck_time_wait_straggler(struct demo *d)
{
	uint64_t t_inject = d->t_inject;
	demo_check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	demo_check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	demo_check_bytes(d, DEMO_CLIENT, RESPONSE);
	const struct demo_transition *tw = demo_trans(d, DEMO_CLIENT, SYNACK_TIME_WAIT, 0);
	const struct demo_transition *cl = demo_trans(d, DEMO_CLIENT, SYNACK_CLOSED, 0);
	/* The old data: dropped by the client, which changed no state then. */
	const struct render_event *old = NULL;
	for (int i = 0; (old = demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_DROP, 0, 0, 1, i)); i++)
		if (old->t_us == t_inject)
			break;
	demo_result_check(d->res, t_inject && old != NULL,
	                  "the stray old data was dropped in TIME_WAIT (%s)",
	                  old ? synack_drop_name(old->tr.reason) : "no drop recorded");
	int fins = demo_seg_count(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0);
	demo_result_check(d->res, fins >= 2, "server retransmitted its FIN (%d FINs)", fins);
	int nfin = demo_seg_count(d, DEMO_CLIENT, SYNACK_TRACE_RX, SYNACK_TH_FIN, 0, 0);
	const struct render_event *refin =
	    nfin >= 2 ? demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_RX, SYNACK_TH_FIN, 0, 0, nfin - 1)
	              : NULL;
	const struct render_event *reack = NULL;
	if (refin)
		for (int i = 0;
		     (reack = demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_ACK, 0, -1, i));
		     i++)
			if (reack->t_us == refin->t_us && reack->tr.ack == refin->tr.seq + 1)
				break;
	demo_result_check(
	    d->res, refin && tw && refin->t_us > tw->t_us && reack,
	    "the retransmitted FIN reached the client in TIME_WAIT and was ACKed again");
	uint64_t tw_us = (uint64_t)d->cfg[0].time_wait_ms * 1000;
	demo_result_check(
	    d->res, refin && cl && cl->from == SYNACK_TIME_WAIT && cl->t_us == refin->t_us + tw_us,
	    "TIME_WAIT restarted on the retransmitted FIN: CLOSED %.3f ms after it",
	    (double)tw_us / 1000.0);
	demo_check_counter(d, DEMO_CLIENT, "TimeWaitExpired", 1);
}

static void ck_refused(struct demo *d)
{
	/* What the client's SO_ERROR said (1: it never asked). */
	int r = 1;
	for (size_t i = 0; i < d->log.n; i++) {
		const struct render_event *e = &d->log.ev[i];
		if (e->kind == RENDER_APP && e->host == DEMO_CLIENT &&
		    strcmp(e->call, "so_error") == 0)
			r = (int)e->ret;
	}
	demo_check_path(d, DEMO_CLIENT, "CLOSED>SYN_SENT>CLOSED");
	demo_check_path(d, DEMO_SERVER, PATH_LISTENER);
	demo_result_check(d->res, r == -ECONNREFUSED, "connect failed with ECONNREFUSED (got %d)",
	                  r);
	const struct render_event *syn =
	    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 0);
	const struct render_event *rst =
	    demo_seg(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_RST | SYNACK_TH_ACK, 0, 0, 0);
	demo_result_check(
	    d->res, syn && rst && rst->tr.seq == 0 && rst->tr.ack == syn->tr.seq + 1,
	    "server answered the SYN with RST+ACK, seq 0, ack ISN+1 (RFC 9293 3.10.7.1)");
	int syns = demo_seg_count(d, DEMO_SERVER, SYNACK_TRACE_DROP, SYNACK_TH_SYN, 0, 0);
	int rsts = demo_seg_count(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_RST, 0, 0);
	demo_result_check(
	    d->res,
	    syns >= 1 && rsts == syns && demo_counter(d, DEMO_SERVER, "OutRsts") == (uint64_t)rsts,
	    "one RST for each SYN that reached the closed port (%d SYNs, %d RSTs)", syns, rsts);
	demo_check_counter(d, DEMO_CLIENT, "AttemptFails", 1);
}

static void ck_syn_lost(struct demo *d)
{
	demo_check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	demo_check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	const struct render_event *s0 =
	    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 0);
	const struct render_event *s1 =
	    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 1);
	uint64_t rto = (uint64_t)d->cfg[0].rto_initial_ms * 1000;
	demo_result_check(d->res, s0 && s0->fate_known && s0->lost, "the first SYN was lost");
	demo_result_check(d->res,
	                  s0 && s1 && s1->t_us == s0->t_us + rto && s1->tr.seq == s0->tr.seq,
	                  "the SYN was retransmitted after the initial RTO of %u ms, same ISN",
	                  d->cfg[0].rto_initial_ms);
	demo_result_check(
	    d->res,
	    demo_seg_count(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0) == 2,
	    "exactly two SYNs were sent");
	demo_check_counter(d, DEMO_CLIENT, "RetransSegs", 1);
	demo_check_bytes(d, DEMO_CLIENT, RESPONSE);
}

static void ck_close_wait_leak(struct demo *d)
{
	demo_check_path(d, DEMO_CLIENT, "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>CLOSED");
	demo_check_path(d, DEMO_SERVER,
	                PATH_LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT");
	demo_check_timed_state(d, DEMO_CLIENT, SYNACK_FIN_WAIT_2,
	                       (uint64_t)d->cfg[0].fin_timeout_ms * 1000, "fin_timeout_ms");
	const struct demo_transition *cl = demo_trans(d, DEMO_CLIENT, SYNACK_CLOSED, 0);
	demo_result_check(d->res, cl && cl->cause == SYNACK_CAUSE_FIN_WAIT_2_TIMEOUT,
	                  "client's orphaned FIN_WAIT_2 ended by fin_wait_2_timeout");
	demo_check_counter(d, DEMO_CLIENT, "FinWait2Timeouts", 1);
	struct synack_tcp_info ti;
	int r = d->sock[DEMO_SERVER] >= 0
	            ? synack_tcp_info(d->st[DEMO_SERVER], d->sock[DEMO_SERVER], &ti)
	            : -1;
	demo_result_check(d->res, r == 0 && ti.state == SYNACK_CLOSE_WAIT,
	                  "server connection still in CLOSE_WAIT at the end");
}

static void ck_fin_wait_1_stuck(struct demo *d)
{
	demo_check_path(d, DEMO_CLIENT, "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>CLOSED");
	demo_check_path(d, DEMO_SERVER, PATH_LISTENER "; LISTEN>SYN_RECEIVED>ESTABLISHED");
	uint32_t retries = d->cfg[0].orphan_retries;
	int fins = demo_seg_count(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0);
	demo_result_check(d->res, fins == (int)retries + 1,
	                  "client sent its FIN %u times: once and %u retries (got %d)", retries + 1,
	                  retries, fins);
	int backoff = fins >= 3;
	uint64_t rto_max = (uint64_t)d->cfg[0].rto_max_ms * 1000;
	for (int i = 2; i < fins && backoff; i++) {
		uint64_t a =
		    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0, i - 2)->t_us;
		uint64_t b =
		    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0, i - 1)->t_us;
		uint64_t c =
		    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_FIN, 0, 0, i)->t_us;
		uint64_t want = 2 * (b - a) < rto_max ? 2 * (b - a) : rto_max;
		if (c - b != want)
			backoff = 0;
	}
	demo_result_check(d->res, backoff,
	                  "each retransmission waited twice as long as the one before");
	const struct demo_transition *cl = demo_trans(d, DEMO_CLIENT, SYNACK_CLOSED, 0);
	demo_result_check(d->res, cl && cl->cause == SYNACK_CAUSE_ORPHAN_RETRIES,
	                  "client closed by itself after orphan_retries");
	demo_check_counter(d, DEMO_CLIENT, "OrphanRetriesExceeded", 1);
}

static void ck_fin_wait_2_timeout(struct demo *d)
{
	demo_check_path(d, DEMO_CLIENT, "CLOSED>SYN_SENT>ESTABLISHED>CLOSE_WAIT");
	demo_check_path(d, DEMO_SERVER,
	                PATH_LISTENER
	                "; LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>CLOSED");
	demo_check_timed_state(d, DEMO_SERVER, SYNACK_FIN_WAIT_2,
	                       (uint64_t)d->cfg[1].fin_timeout_ms * 1000, "fin_timeout_ms");
	const struct demo_transition *cl = demo_trans(d, DEMO_SERVER, SYNACK_CLOSED, 0);
	demo_result_check(d->res, cl && cl->cause == SYNACK_CAUSE_FIN_WAIT_2_TIMEOUT,
	                  "server's orphaned FIN_WAIT_2 ended by fin_wait_2_timeout");
	demo_check_counter(d, DEMO_SERVER, "FinWait2Timeouts", 1);
	demo_result_check(d->res, d->res->host[DEMO_SERVER].stats.orphans_live == 0,
	                  "no orphan left on the server");
}

static void check_payload(struct demo *d, int h, size_t n, unsigned salt)
{
	uint8_t want[DEMO_RXBUF];
	demo_fill_payload(want, n, salt);
	int ok = n <= DEMO_RXBUF && d->nrx[h] == n && memcmp(d->rx[h], want, n) == 0;
	demo_result_check(d->res, ok, "%s received exactly the %zu bytes sent (got %zu)",
	                  demo_host_name(h), n, d->nrx[h]);
}

/* zero-window.synack: the client sends four full segments into a receive
 * buffer of two, as a script's "send N bytes" fills them (salt 0). */
#define ZW_BYTES 5840
#define ZW_SALT 0

/*
 * The zero-window episode as the client saw it: the log positions of the
 * first segment that closed the window and of the first later one that
 * opened it again (for the data it had acknowledged, so that a stale
 * duplicate does not count), or -1.
 */
static void zero_window_span(struct demo *d, long *closed, long *opened)
{
	*closed = *opened = -1;
	uint32_t ack = 0;
	for (size_t i = 0; i < d->log.n; i++) {
		const struct render_event *e = &d->log.ev[i];
		if (e->kind != RENDER_TRACE || e->host != DEMO_CLIENT ||
		    e->tr.kind != SYNACK_TRACE_RX || !(e->tr.flags & SYNACK_TH_ACK))
			continue;
		if (*closed < 0 && e->tr.win == 0) {
			*closed = (long)i;
			ack = e->tr.ack;
		} else if (*closed >= 0 && e->tr.win > 0 && (int32_t)(e->tr.ack - ack) >= 0) {
			*opened = (long)i;
			return;
		}
	}
}

static void ck_zero_window(struct demo *d)
{
	demo_check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	demo_check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	check_payload(d, DEMO_SERVER, ZW_BYTES, ZW_SALT);
	long closed, opened;
	zero_window_span(d, &closed, &opened);
	const struct render_event *zw = closed >= 0 ? &d->log.ev[closed] : NULL;
	demo_result_check(d->res, zw != NULL, "the server advertised a zero window (at %.3f ms)",
	                  zw ? (double)zw->t_us / 1000.0 : -1.0);
	/* Every segment the client sent while the window was zero is a probe:
	 * it has nothing else to send then. */
	uint64_t t[16];
	int probes = 0;
	long end = opened >= 0 ? opened : (long)d->log.n;
	for (long i = closed + 1; closed >= 0 && i < end; i++) {
		const struct render_event *e = &d->log.ev[i];
		if (e->kind != RENDER_TRACE || e->host != DEMO_CLIENT ||
		    e->tr.kind != SYNACK_TRACE_TX)
			continue;
		if (probes < 16)
			t[probes] = e->t_us;
		probes++;
	}
	demo_result_check(
	    d->res, probes >= 2,
	    "the client sent %d window probes while the window was zero (WinProbes %llu)", probes,
	    (unsigned long long)demo_counter(d, DEMO_CLIENT, "WinProbes"));
	char gaps[64] = "";
	int grew = probes >= 2, n = 0;
	for (int i = 1; i < probes && i < 16; i++) {
		uint64_t gap = t[i] - t[i - 1];
		if (i >= 2 && gap < t[i - 1] - t[i - 2])
			grew = 0;
		n += snprintf(gaps + n, sizeof(gaps) - (size_t)n, "%s%.0f", i > 1 ? ", " : "",
		              (double)gap / 1000.0);
		if (n >= (int)sizeof(gaps))
			break;
	}
	demo_result_check(d->res, grew,
	                  "each probe waited at least as long as the one before (%s ms apart)",
	                  gaps);
	/* The window update: the server's own segment that opened the window,
	 * and the client's data that followed it. */
	const struct render_event *upd = opened >= 0 ? &d->log.ev[opened] : NULL;
	int data_after = 0;
	for (long i = opened + 1; opened >= 0 && i < (long)d->log.n; i++) {
		const struct render_event *e = &d->log.ev[i];
		if (e->kind == RENDER_TRACE && e->host == DEMO_CLIENT &&
		    e->tr.kind == SYNACK_TRACE_TX && e->tr.len > 0)
			data_after++;
	}
	demo_result_check(
	    d->res, upd && data_after > 0,
	    "a window update (win %lu) reopened it and the client sent the rest (%d segments)",
	    upd ? (unsigned long)upd->tr.win : 0ul, data_after);
	/* Name the probes on the ladder, since they look like plain ACKs. */
	for (int i = 0; i < probes && i < 16; i++) {
		struct render_event *e = render_log_add(&d->log, t[i], DEMO_CLIENT, RENDER_NOTE);
		if (e)
			snprintf(e->text, sizeof(e->text), "window probe %d (persist timer)",
			         i + 1);
	}
}

/* Eight segments in one flight; the second is lost, and the six after it
 * each make the receiver say again what it is missing. */
#define RT_BYTES (8 * 1460)
#define RT_SALT 0 /* retransmit.synack sends the bytes of "send N bytes" */
#define RT_LOST_NTH 2

static void ck_retransmit(struct demo *d)
{
	demo_check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	demo_check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	check_payload(d, DEMO_SERVER, RT_BYTES, RT_SALT);
	uint32_t seq = d->f_lost_seq;
	const struct render_event *first = NULL, *again = NULL;
	int sent = 0;
	for (int i = 0; d->f_lost; i++) {
		const struct render_event *e =
		    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, 0, 0, 1, i);
		if (!e)
			break;
		if (e->tr.seq != seq)
			continue;
		if (sent == 0)
			first = e;
		else if (sent == 1)
			again = e;
		sent++;
	}
	uint32_t rel = first ? seq - first->tr.iss : 0;
	demo_result_check(d->res, first && first->fate_known && first->lost,
	                  "data segment %d (seq %lu) was lost", RT_LOST_NTH, (unsigned long)rel);
	demo_result_check(d->res, sent >= 2, "the client sent seq %lu %d times", (unsigned long)rel,
	                  sent);
	/* Which mechanism repaired it: fast retransmit if the counter moved,
	 * else the retransmission timeout. */
	int dups = -1; /* ACKs for the missing byte before the retransmission, but the first */
	for (int i = 0; again; i++) {
		const struct render_event *e =
		    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_RX, SYNACK_TH_ACK,
		             SYNACK_TH_SYN | SYNACK_TH_FIN, -1, i);
		if (!e || e > again)
			break;
		if (e->tr.ack == seq)
			dups++;
	}
	uint64_t fast = demo_counter(d, DEMO_CLIENT, "FastRetrans");
	uint64_t waited = first && again ? again->t_us - first->t_us : 0;
	uint64_t rto_min = (uint64_t)d->cfg[DEMO_CLIENT].rto_min_ms * 1000;
	const char *how;
	uint64_t sack_rec = demo_counter(d, DEMO_CLIENT, "TCPSACKRecovery");
	if (fast > 0 && (dups >= 3 || (sack_rec > 0 && waited < rto_min))) {
		/* With SACK, RACK (RFC 8985) may start it before the third
		 * duplicate: the SACKed bytes past the hole say it is lost. */
		how = "fast retransmit";
		demo_result_check(
		    d->res, again != NULL,
		    "repaired by fast retransmit after %d duplicate ACKs (FastRetrans "
		    "%llu%s)",
		    dups, (unsigned long long)fast, sack_rec ? ", SACK recovery" : "");
	} else if (fast > 0) {
		/* Already in fast recovery for an earlier hole (--reorder, --loss):
		 * the ACK that filled it was partial and NewReno sent the next
		 * hole at once (RFC 6582 3.2 step 3), sooner than any timeout. */
		how = "fast recovery";
		demo_result_check(
		    d->res, again && waited < rto_min,
		    "repaired in fast recovery on a partial ACK after %.3f ms (FastRetrans %llu)",
		    (double)waited / 1000.0, (unsigned long long)fast);
	} else {
		how = "retransmission timeout";
		demo_result_check(
		    d->res, again && waited >= rto_min,
		    "repaired by a retransmission timeout after %.3f ms (Timeouts %llu)",
		    (double)waited / 1000.0,
		    (unsigned long long)demo_counter(d, DEMO_CLIENT, "Timeouts"));
	}
	if (again) {
		struct render_event *e =
		    render_log_add(&d->log, again->t_us, DEMO_CLIENT, RENDER_NOTE);
		if (e)
			snprintf(e->text, sizeof(e->text), "^ %s of seq %lu", how,
			         (unsigned long)rel);
	}
}

/* ------------------------------------------------------------------ */
/* RFC 7323.                                                           */

/* window-scale.synack: the same bulk transfer twice over the same path,
 * once with the server's window scaled (its default buffer, which
 * autotuning grows), once with SO_RCVBUF 65535 on its listener, so that its
 * SYN-ACK says wscale 0 and its window stops at the field's 65535; val[0]
 * and val[1] are its timers, from the first send to the last byte read. */
#define WS_BYTES (512 * 1024)
#define WS_UNSCALED_RCVBUF 65535

/* The window scale in the server's nth SYN-ACK, or -1. */
static int ws_synack_scale(struct demo *d, int nth)
{
	const struct render_event *e =
	    demo_seg(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_SYN | SYNACK_TH_ACK, 0, -1, nth);
	return e && (e->tr.opts & SYNACK_TRACE_OPT_WSCALE) ? e->tr.opt_wscale : -1;
}

static void ck_window_scale(struct demo *d)
{
	uint64_t scaled = (uint64_t)d->val[0], unscaled = (uint64_t)d->val[1];
	int ws0 = ws_synack_scale(d, 0), ws1 = ws_synack_scale(d, 1);
	demo_result_check(d->res, ws0 > 0, "the first SYN-ACK offers window scale %d", ws0);
	demo_result_check(d->res, ws1 == 0,
	                  "the second (SO_RCVBUF %d before listen) offers window scale %d",
	                  WS_UNSCALED_RCVBUF, ws1);
	/* The largest window the client was offered in each run, in bytes. */
	uint64_t most[2] = {0, 0};
	int run = -1;
	for (size_t i = 0; i < d->log.n; i++) {
		const struct render_event *e = &d->log.ev[i];
		if (e->kind != RENDER_TRACE || e->host != DEMO_CLIENT ||
		    e->tr.kind != SYNACK_TRACE_RX)
			continue;
		if (e->tr.flags & SYNACK_TH_SYN) {
			run++;
			continue;
		}
		uint64_t w = (uint64_t)e->tr.win << (run == 0 && ws0 > 0 ? ws0 : 0);
		if (run >= 0 && run < 2 && w > most[run])
			most[run] = w;
	}
	demo_result_check(d->res, most[0] > 65535,
	                  "with scaling the server offered up to %llu bytes (more than 65535)",
	                  (unsigned long long)most[0]);
	demo_result_check(d->res, most[1] > 0 && most[1] <= 65535,
	                  "without, at most %llu bytes: one window per round trip",
	                  (unsigned long long)most[1]);
	double g0 = scaled ? WS_BYTES * 8.0 / (double)scaled : 0;
	double g1 = unscaled ? WS_BYTES * 8.0 / (double)unscaled : 0;
	demo_result_check(d->res, scaled && unscaled && g0 > 1.5 * g1,
	                  "goodput %.2f Mbit/s with scaling, %.2f Mbit/s without", g0, g1);
	demo_check_counter(d, DEMO_SERVER, "PassiveOpens", 2);
}

/* paws.synack: a copy of the client's request is kept by the network;
 * later it comes back as if the sequence numbers had wrapped (2^32 bytes
 * later) and it now fell inside the window ("replay seq next", at
 * d->t_inject).  Only its timestamp betrays it. */
static const char PAWS_MORE[] = "POST /more HTTP/1.0\r\n\r\n";

static void ck_paws(struct demo *d)
{
	char want[sizeof(REQUEST) + sizeof(PAWS_MORE)];
	snprintf(want, sizeof(want), "%s%s", REQUEST, PAWS_MORE);
	demo_check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	demo_check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	demo_check_bytes(d, DEMO_SERVER, want);
	const struct render_event *old = NULL;
	for (int i = 0; (old = demo_seg(d, DEMO_SERVER, SYNACK_TRACE_DROP, 0, 0, 1, i)); i++)
		if (old->t_us == d->t_inject)
			break;
	demo_result_check(d->res, d->t_inject && old && old->tr.reason == SYNACK_DROP_PAWS,
	                  "the old duplicate was dropped by its timestamp (%s)",
	                  old ? synack_drop_name(old->tr.reason) : "not dropped");
	const struct render_event *ack = NULL;
	for (int i = 0; (ack = demo_seg(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_ACK, 0, -1, i));
	     i++)
		if (ack->t_us == d->t_inject)
			break;
	demo_result_check(d->res, ack != NULL, "and answered with an ACK (RFC 7323 5.3 R1)");
	demo_check_counter(d, DEMO_SERVER, "PAWSEstab", 1);
}

/*
 * sack-recovery (examples/scenarios/sack-recovery.synack): ten segments in
 * one flight, three of them lost (the 2nd, 5th and 8th).  With SACK the
 * receiver's ACKs name every hole, and the sender sends all three again
 * within one round trip (RFC 6675, RACK RFC 8985); the file's comparison
 * run (compare newreno set both sack=0) has the same losses without SACK
 * (NewReno, RFC 6582): one hole per round trip.  val[0] of each is its
 * timer: from the send until every byte arrived.
 */
#define SR_SEGS 10
#define SR_BYTES (SR_SEGS * 1448) /* ten full segments beside timestamps */
#define SR_SALT 0                 /* the bytes of "send N bytes" */

static void ck_sack_recovery(struct demo *d)
{
	demo_check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	demo_check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	check_payload(d, DEMO_SERVER, SR_BYTES, SR_SALT);
	uint64_t rtt_us = 2ull * d->o->delay_ms * 1000u;
	uint64_t sack_us = (uint64_t)d->val[0];
	/* The first sendings of the flight's data segments 2, 5 and 8 died. */
	int lost = 0;
	for (int i = 1; i < SR_SEGS; i += 3) {
		const struct render_event *e =
		    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, 0, 0, 1, i);
		lost += e && e->fate_known && e->lost;
	}
	demo_result_check(d->res, lost == 3,
	                  "the network lost data segments 2, 5 and 8 of the flight");
	int with_blocks = 0;
	for (int i = 0;; i++) {
		const struct render_event *e =
		    demo_seg(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_ACK, 0, -1, i);
		if (!e)
			break;
		with_blocks += e->tr.sack_count > 0;
	}
	demo_result_check(d->res, with_blocks >= 3,
	                  "the receiver's ACKs carried SACK blocks naming the holes (%d ACKs)",
	                  with_blocks);
	demo_result_check(d->res, demo_counter(d, DEMO_CLIENT, "TCPSACKRecovery") == 1,
	                  "one SACK recovery repaired all three holes (TCPSACKRecovery %llu)",
	                  (unsigned long long)demo_counter(d, DEMO_CLIENT, "TCPSACKRecovery"));
	demo_result_check(d->res, demo_counter(d, DEMO_CLIENT, "Timeouts") == 0,
	                  "no retransmission timeout");
	demo_result_check(d->res, sack_us <= 4 * rtt_us + 50000,
	                  "with SACK every byte arrived %.3f ms after the send", sack_us / 1000.0);
	/* The comparison: the same losses, NewReno. */
	const struct demo_result *nr = d->cmp;
	if (!nr) {
		demo_result_check(d->res, 0, "the NewReno comparison ran");
		return;
	}
	uint64_t newreno_us = (uint64_t)d->cmp_val[0];
	demo_result_check(d->res, newreno_us > sack_us,
	                  "without SACK (NewReno, the same losses) every byte arrived only %.3f ms "
	                  "after the send (FastRetrans %llu, Timeouts %llu)",
	                  newreno_us / 1000.0,
	                  (unsigned long long)demo_result_counter(nr, DEMO_CLIENT, "FastRetrans"),
	                  (unsigned long long)demo_result_counter(nr, DEMO_CLIENT, "Timeouts"));
}

/*
 * tail-loss: the last segment of a transfer is lost and nothing follows
 * it, so no duplicate ACK will ever come.  The tail loss probe (RFC 8985
 * 7) sends it again when the probe timeout expires, no later than the
 * retransmission timeout would have: the loss is repaired without a
 * timeout and without the timeout's collapse of cwnd to one segment.
 */
#define TL_SEGS 8
#define TL_BYTES (TL_SEGS * 1448) /* eight full segments beside timestamps */
#define TL_SALT 0                 /* tail-loss.synack: the bytes of "send N bytes" */

static void ck_tail_loss(struct demo *d)
{
	demo_check_path(d, DEMO_CLIENT, PATH_ACTIVE_CLIENT);
	demo_check_path(d, DEMO_SERVER, PATH_PASSIVE_SERVER);
	check_payload(d, DEMO_SERVER, TL_BYTES, TL_SALT);
	demo_result_check(d->res, d->f_lost, "the last data segment was lost");
	uint64_t probes = demo_counter(d, DEMO_CLIENT, "TCPLossProbes");
	demo_result_check(d->res, probes >= 1,
	                  "a tail loss probe sent it again (TCPLossProbes %llu)",
	                  (unsigned long long)probes);
	demo_result_check(d->res, demo_counter(d, DEMO_CLIENT, "Timeouts") == 0,
	                  "no retransmission timeout fired (Timeouts 0)");
	demo_result_check(
	    d->res, demo_counter(d, DEMO_CLIENT, "TCPLossProbeRecovery") == 1,
	    "the probe's ACK showed it repaired a real loss (TCPLossProbeRecovery 1)");
	/* Name the probe on the ladder. */
	for (int i = 0; d->f_lost; i++) {
		const struct render_event *e =
		    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, 0, 0, 1, i);
		if (!e)
			break;
		if (e->tr.seq == d->f_lost_seq && !e->lost) {
			struct render_event *n =
			    render_log_add(&d->log, e->tr.t_us, DEMO_CLIENT, RENDER_NOTE);
			if (n)
				snprintf(n->text, sizeof(n->text),
				         "tail loss probe (RFC 8985 7.3)");
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* TCP Fast Open (RFC 7413).                                           */

/* fast-open.synack: two connections over TCP_FASTOPEN_CONNECT sockets to
 * a listener with TCP_FASTOPEN; val[0] and val[1] are its timers, from
 * connect() to the last byte of the response. */

/* The TFO option of a traced SYN: -1 none, else the cookie's length (0: a
 * request), its bytes into cookie. */
static int fo_cookie(const struct render_event *e, uint8_t cookie[16])
{
	if (!e || !(e->tr.opts & SYNACK_TRACE_OPT_TFO))
		return -1;
	memcpy(cookie, e->tr.opt_tfo_cookie, sizeof(e->tr.opt_tfo_cookie));
	return e->tr.opt_tfo_len;
}

static void ck_fast_open(struct demo *d)
{
	uint8_t c_syn0[16], c_synack0[16], c_syn1[16], c_synack1[16];
	const struct render_event *syn0 =
	    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 0);
	const struct render_event *synack0 =
	    demo_seg(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_SYN | SYNACK_TH_ACK, 0, 0, 0);
	const struct render_event *syn1 =
	    demo_seg(d, DEMO_CLIENT, SYNACK_TRACE_TX, SYNACK_TH_SYN, SYNACK_TH_ACK, 0, 1);
	const struct render_event *synack1 =
	    demo_seg(d, DEMO_SERVER, SYNACK_TRACE_TX, SYNACK_TH_SYN | SYNACK_TH_ACK, 0, 0, 1);
	int l_syn0 = fo_cookie(syn0, c_syn0), l_synack0 = fo_cookie(synack0, c_synack0);
	int l_syn1 = fo_cookie(syn1, c_syn1), l_synack1 = fo_cookie(synack1, c_synack1);
	demo_result_check(d->res, l_syn0 == 0 && syn0->tr.len == 0,
	                  "the first SYN asks for a cookie and carries no data");
	demo_result_check(d->res, l_synack0 == 8, "the first SYN-ACK gives an 8-byte cookie");
	demo_result_check(d->res,
	                  l_syn1 == 8 && l_synack0 == 8 && memcmp(c_syn1, c_synack0, 8) == 0 &&
	                      syn1->tr.len == strlen(REQUEST),
	                  "the second SYN carries that cookie and the %zu-byte request",
	                  strlen(REQUEST));
	demo_result_check(d->res,
	                  syn1 && synack1 && l_synack1 < 0 &&
	                      synack1->tr.ack == syn1->tr.seq + 1 + syn1->tr.len,
	                  "its SYN-ACK acknowledges the request with the SYN");
	int64_t rtt = 2 * DEMO_DEFAULT_DELAY_MS * 1000;
	demo_result_check(d->res, d->val[0] > 0 && d->val[1] > 0 && d->val[0] - d->val[1] >= rtt,
	                  "the response came %lld ms after connect() instead of %lld ms: one round "
	                  "trip saved",
	                  (long long)(d->val[1] / 1000), (long long)(d->val[0] / 1000));
	demo_check_bytes(d, DEMO_SERVER, REQUEST);
	demo_check_bytes(d, DEMO_CLIENT, RESPONSE);
	demo_check_counter(d, DEMO_SERVER, "TCPFastOpenCookieReqd", 1);
	demo_check_counter(d, DEMO_SERVER, "TCPFastOpenPassive", 1);
	demo_check_counter(d, DEMO_CLIENT, "TCPFastOpenActive", 1);
	demo_check_counter(d, DEMO_CLIENT, "TCPFastOpenActiveFail", 0);
}

static const struct demo_scenario SCENARIOS[] = {
    {{"handshake",
      "open, request/response, the client closes first: FIN, ACK, FIN, ACK, TIME_WAIT"},
     "Three segments open the connection and both ends learn each other's ISN; four "
     "segments close it, one direction at a time, and the active closer waits in "
     "TIME_WAIT before it forgets the connection.",
     ck_handshake,
     0},
    {{"server-closes-first", "the same exchange with the server as the active closer"},
     "Either end may close first: the active closer goes through FIN_WAIT_1, FIN_WAIT_2 "
     "and TIME_WAIT, the passive one through CLOSE_WAIT and LAST_ACK.",
     ck_server_closes_first,
     0},
    {{"simultaneous-open", "both ends connect to each other at once: SYN_SENT -> SYN_RECEIVED"},
     "Two SYNs cross: each end answers the other's SYN with SYN+ACK and both reach "
     "ESTABLISHED through SYN_RECEIVED, with no listener at all.",
     ck_simultaneous_open,
     0},
    {{"simultaneous-close", "both ends close at once: FIN_WAIT_1 -> CLOSING -> TIME_WAIT"},
     "Two FINs cross: each end is in FIN_WAIT_1 when the other's FIN arrives, goes to "
     "CLOSING, and to TIME_WAIT when its own FIN is acknowledged.",
     ck_simultaneous_close,
     0},
    {{"half-close", "the client shuts down writing and keeps reading in FIN_WAIT_2"},
     "A FIN closes one direction only: after shutdown(SHUT_WR) the client keeps receiving "
     "the server's data in FIN_WAIT_2 until the server closes too.",
     ck_half_close,
     0},
    {{"fin-before-data", "the FIN overtakes the last data segment; the receiver waits for it"},
     "A FIN takes effect only in sequence: the receiver holds an early FIN until every "
     "byte before it has arrived, delivers them in order, and only then enters CLOSE_WAIT.",
     ck_fin_before_data,
     0},
    {{"time-wait-straggler", "old data and a retransmitted FIN reach the client in TIME_WAIT"},
     "TIME_WAIT absorbs what is still in flight: old data is dropped, never delivered, and "
     "a retransmitted FIN (the last ACK was lost) is acknowledged again and restarts the "
     "2 MSL timer.",
     ck_time_wait_straggler,
     0},
    {{"refused", "connect to a port nobody listens on: RST, ECONNREFUSED"},
     "A SYN to a closed port is answered with a RST (RFC 9293 3.10.7.1) and the connect "
     "fails with ECONNREFUSED.",
     ck_refused,
     0},
    {{"syn-lost", "the first SYN is lost; the client retransmits it after the RTO"},
     "A lost SYN costs one initial RTO: the client sends the same SYN again after 1 s and "
     "the handshake completes.",
     ck_syn_lost,
     0},
    {{"close-wait-leak", "the server app never closes: CLOSE_WAIT forever, shown like ss"},
     "An application that never calls close() leaves its connection in CLOSE_WAIT for "
     "good, while the peer's orphaned FIN_WAIT_2 times out after fin_timeout_ms.",
     ck_close_wait_leak,
     0},
    {{"fin-wait-1-stuck", "the peer vanishes after our FIN: retries with backoff, then CLOSED"},
     "A FIN that is never acknowledged is retransmitted with exponential backoff, and "
     "after orphan_retries the connection closes by itself.",
     ck_fin_wait_1_stuck,
     0},
    {{"fin-wait-2-timeout", "our FIN is acknowledged but the peer app never closes"},
     "FIN_WAIT_2 is not a network fault: the peer acknowledged our FIN but its "
     "application does not close; the orphaned FIN_WAIT_2 ends after fin_timeout_ms.",
     ck_fin_wait_2_timeout,
     0},
    {{"zero-window", "the server stops reading: zero window, persist probes, window update"},
     "A receiver that does not read closes its window; the sender keeps the connection "
     "alive with window probes sent further and further apart by the persist timer, and "
     "sends the rest as soon as a window update reopens the window.",
     ck_zero_window,
     0},
    {{"retransmit", "a data segment is lost and sent again: fast retransmit or RTO"},
     "A lost segment leaves a hole: the receiver acknowledges the last byte before it "
     "for every segment that arrives after it, and the sender repairs it, after three "
     "duplicate ACKs (fast retransmit) or when its retransmission timer expires.",
     ck_retransmit,
     0},
    {{"window-scale", "a high-BDP path: 512 KiB with and without window scaling"},
     "The 16-bit window field carries at most 65535 bytes, one window per round trip; "
     "window scaling (RFC 7323 2) shifts it, so that a receive buffer larger than 64 KiB "
     "(grown by autotuning) can be offered and the path's bandwidth-delay product filled.",
     ck_window_scale,
     0},
    {{"paws", "an old duplicate whose sequence number wrapped into the window"},
     "Sequence numbers wrap after 4 GiB, so an old segment that lingered in the network "
     "can fall inside the window again; its timestamp is older than the last one seen, "
     "and PAWS (RFC 7323 5) drops it before the sequence check could accept it.",
     ck_paws,
     0},
    {{"sack-recovery",
      "three holes in one flight repaired in one round trip by SACK, NewReno beside"},
     "SACK blocks tell the sender exactly which segments are missing, so every hole of a "
     "window goes again in the round trip after the losses are seen (RFC 6675, RACK RFC "
     "8985); NewReno, which learns one hole per partial ACK, needs a round trip for each.",
     ck_sack_recovery,
     0},
    {{"tail-loss", "the last segment is lost: a tail loss probe repairs it in the RTO's place"},
     "A loss at the tail of a transfer draws no duplicate ACKs; the tail loss probe (RFC "
     "8985 7) sends the last segment again when the probe timeout expires (never later "
     "than the RTO would), so the loss is repaired without a retransmission timeout and "
     "without collapsing cwnd.",
     ck_tail_loss,
     0},
    {{"fast-open", "TCP Fast Open: a cookie, then the request in the SYN, one RTT saved"},
     "The first connection asks for a cookie in its SYN and the server gives one, a MAC "
     "of the client's address (RFC 7413).  The next connection sends its request in the "
     "SYN with that cookie; the server takes it at once, accepts the connection before "
     "the handshake completes and answers in the SYN-ACK's flight: the response arrives "
     "one round trip sooner.",
     ck_fast_open,
     0},
    {{"syn-flood", "1,000,000 spoofed SYNs while 1,000 clients connect: SYN queue, SYN cookies"},
     NULL, /* the moral is the file's (trace off) */
     NULL,
     1},
    {{"blind-reset", "an off-path attacker sweeps the sequence space with RSTs"},
     NULL, /* the moral is the file's (trace off) */
     NULL,
     1},
    {{"blind-data", "an off-path attacker injects data with guessed sequence numbers"},
     NULL, /* the moral is the file's (trace off) */
     NULL,
     1},
    {{"ack-flood", "1,000,000 spoofed ACKs at a listener that checks every one as a cookie"},
     NULL, /* the moral is the file's (trace off) */
     NULL,
     1},
};

#define NSCENARIOS (sizeof(SCENARIOS) / sizeof(SCENARIOS[0]))

const struct demo_scenario *demo_scenario_at(size_t i)
{
	return &SCENARIOS[i];
}

size_t demo_scenario_count(void)
{
	return NSCENARIOS;
}

const struct demo_scenario_info *demo_scenario_info(size_t i)
{
	return i < NSCENARIOS ? &SCENARIOS[i].info : NULL;
}

int demo_scenario_find(const char *name)
{
	for (size_t i = 0; i < NSCENARIOS; i++)
		if (strcmp(SCENARIOS[i].info.name, name) == 0)
			return (int)i;
	return -1;
}
