/*
 * The sender's transmit records (tcp_snd.c) during real transfers over the
 * simulated network with loss: after every step of the simulation the
 * sending connection's records cover exactly [SND.UNA, SND.MAX), contiguous
 * and oldest first, each at most as old as now; a retransmission leaves
 * its mark on the records it covered; SACK (on by default between two
 * synack stacks) marks records SACKed, never one also deemed lost; and
 * once everything sent is acknowledged the connection holds no records
 * at all.
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sock/sock.h"
#include "synack/sim.h"
#include "synack/synack.h"
#include "tcp/tcp.h"

#define ADDR_C 0x0a000001u /* 10.0.0.1 */
#define ADDR_S 0x0a000002u /* 10.0.0.2 */
#define PORT_S 5001

struct seen {
	uint64_t checks;      /* steps at which the records were checked */
	uint64_t max_records; /* the most records held at once */
	uint64_t retrans;     /* checks that found a retransmitted record */
	uint64_t sacked;      /* checks that found a SACKed record */
};

/* The invariants of the records against the TCB. */
static void check_records(const struct tcb *tcb, uint64_t now, struct seen *seen)
{
	if (tcb->txq_untracked || seq_leq(tcb->snd_una, tcb->iss))
		return; /* memory ran out, or the SYN is not acknowledged yet */
	uint32_t n = tcp_snd_records(tcb), seq = tcb->snd_una;
	int any_retrans = 0, any_sacked = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct tcp_txrec *r = tcp_snd_record(tcb, i);
		CHECK_EQ(r->seq, seq); /* contiguous and ordered from SND.UNA */
		CHECK(r->len > 0);
		CHECK(r->xmit_at <= now);
		/* What the peer SACKed is never deemed lost (RFC 6675). */
		CHECK((r->flags & (TXREC_SACKED | TXREC_LOST)) != (TXREC_SACKED | TXREC_LOST));
		any_retrans |= r->flags & TXREC_RETRANS;
		any_sacked |= r->flags & TXREC_SACKED;
		seq += r->len;
	}
	CHECK_EQ(seq, tcb->snd_max); /* up to SND.MAX: data and FIN */
	if (n == 0)
		CHECK(tcb->sender->txq == NULL); /* an idle sender holds no records */
	seen->checks++;
	if (n > seen->max_records)
		seen->max_records = n;
	if (any_retrans)
		seen->retrans++;
	if (any_sacked)
		seen->sacked++;
}

static struct synack_stack *new_stack(uint32_t addr)
{
	struct synack_config cfg;
	int err = 0;
	synack_config_default(&cfg);
	cfg.addr = addr;
	cfg.syn_retries = cfg.synack_retries = cfg.orphan_retries = cfg.retries2 = 60;
	struct synack_stack *st = synack_stack_new(&cfg, &err);
	CHECK(st != NULL);
	return st;
}

/* One transfer of n bytes from client to server with loss on the path;
 * returns what was seen of the client's records. */
static struct seen transfer(uint64_t seed, size_t n, double loss)
{
	struct seen seen = {0};
	struct synack_stack *c = new_stack(ADDR_C), *s = new_stack(ADDR_S);
	struct synack_sim *sim = synack_sim_new(seed);
	int hc = synack_sim_add_host(sim, c, "client"), hs = synack_sim_add_host(sim, s, "server");
	struct synack_sim_path p;
	memset(&p, 0, sizeof(p));
	p.loss = loss;
	p.delay_us = 5000;
	CHECK_EQ(synack_sim_set_path(sim, hc, hs, &p), 0);
	CHECK_EQ(synack_sim_set_path(sim, hs, hc, &p), 0);

	struct synack_endpoint srv = {.addr = ADDR_S, .port = PORT_S};
	int lfd = synack_socket(s);
	CHECK_EQ(synack_bind(s, lfd, &srv), 0);
	CHECK_EQ(synack_listen(s, lfd, 8), 0);
	int cfd = synack_socket(c);
	CHECK_EQ(synack_connect(c, cfd, &srv), -EINPROGRESS);

	uint8_t *data = malloc(n), buf[4096];
	CHECK(data != NULL);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i * 7 + seed);
	size_t sent = 0, got = 0;
	int afd = -1, closed = 0;
	for (uint64_t steps = 0; steps < 5000000 && got < n; steps++) {
		if (synack_sim_step(sim) == SYNACK_NEVER)
			break;
		if (afd < 0) {
			struct synack_endpoint peer;
			afd = synack_accept(s, lfd, &peer);
		}
		if (sent < n) {
			ssize_t k = synack_send(c, cfd, data + sent, n - sent);
			if (k > 0)
				sent += (size_t)k;
		}
		if (sent == n && !closed) {
			CHECK_EQ(synack_shutdown(c, cfd, SHUT_WR), 0);
			closed = 1;
		}
		if (afd >= 0) {
			ssize_t k;
			while ((k = synack_recv(s, afd, buf, sizeof(buf), 0)) > 0) {
				CHECK_EQ(memcmp(buf, data + got, (size_t)k), 0);
				got += (size_t)k;
			}
		}
		struct sock *so = sock_get(sock_layer_of(c), cfd);
		if (so && so->tcb && so->tcb->state >= SYNACK_ESTABLISHED)
			check_records(so->tcb, synack_sim_now(sim), &seen);
	}
	CHECK_EQ(got, n);
	/* Run on until the FIN is acknowledged too: then nothing is held. */
	for (uint64_t steps = 0; steps < 1000000; steps++) {
		struct sock *so = sock_get(sock_layer_of(c), cfd);
		if (!so || !so->tcb || so->tcb->snd_una == so->tcb->snd_max)
			break;
		if (synack_sim_step(sim) == SYNACK_NEVER)
			break;
		check_records(so->tcb, synack_sim_now(sim), &seen);
	}
	struct sock *so = sock_get(sock_layer_of(c), cfd);
	if (so && so->tcb) {
		CHECK_EQ(so->tcb->snd_una, so->tcb->snd_max);
		CHECK(so->tcb->sender->txq == NULL);
	}
	free(data);
	synack_sim_free(sim);
	synack_stack_free(c);
	synack_stack_free(s);
	return seen;
}

/* A clean path: records come and go, none is ever retransmitted. */
static void records_cover_the_flight_on_a_clean_path(void)
{
	struct seen seen = transfer(1, 300000, 0);
	CHECK(seen.checks > 0);
	printf("clean path: %llu checks, at most %llu records\n", (unsigned long long)seen.checks,
	       (unsigned long long)seen.max_records);
	CHECK(seen.max_records > 10);
	CHECK_EQ(seen.retrans, 0);
}

/* With loss: fast retransmit, partial ACKs and timeouts send data again,
 * and the records say so; the invariants hold at every step. */
static void records_cover_the_flight_with_loss_and_mark_retransmissions(void)
{
	uint64_t with_retrans = 0, with_sacked = 0;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct seen seen = transfer(seed, 200000, 0.05);
		CHECK(seen.checks > 0);
		if (seen.retrans)
			with_retrans++;
		if (seen.sacked)
			with_sacked++;
	}
	printf("seeds with retransmitted records: %llu of 8, with SACKed ones: %llu\n",
	       (unsigned long long)with_retrans, (unsigned long long)with_sacked);
	CHECK(with_retrans > 0);
	CHECK(with_sacked > 0);
}

int main(void)
{
	RUN(records_cover_the_flight_on_a_clean_path);
	RUN(records_cover_the_flight_with_loss_and_mark_retransmissions);
	return check_summary("test_snd_records");
}
