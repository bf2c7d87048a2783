/*
 * make_corpus OUTDIR: writes the seed corpus of the fuzz targets from real
 * traces.  It runs every `synack demo` scenario and a short lossy `synack
 * transfer` (seed 1) and records every datagram the simulated network
 * carried, by wrapping synack_sim_new and synack_sim_set_tap at link time
 * (-Wl,--wrap): every simulator gets our tap, which hands each event on to
 * the tap the tool installed.  From each trace it writes:
 *
 *  fuzz_wire:  up to four datagrams of different kinds (flags, whether it
 *              carries data, whether it carries options), as they were sent;
 *  fuzz_stack: two replays per trace, one per end: fuzz_stack's stack at
 *              that end's address (with the demo's secret) opens the way
 *              the trace shows (listen, or connect), is given every
 *              datagram that reached that end at the time it arrived, and
 *              makes the application calls the trace implies (accept and
 *              read after each arrival, send when new data left, shutdown
 *              or close when the FIN left).  With the same secret and the
 *              same times the stack chooses the trace's sequence numbers,
 *              so the replayed peer's segments are acceptable and the seed
 *              walks the whole connection;
 *  fuzz_config, fuzz_cli: a few hand-written seeds (the defaults, the
 *              README's command lines).
 *
 * The corpus under fuzz/corpus/ was written by this program; run it again
 * (and commit the result) when the traces change enough to matter.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "demo.h"
#include "fuzz_stack.h"
#include "synack/sim.h"
#include "transfer.h"
#include "wire/wire.h"

/* ------------------------------------------------------------------ */
/* Watching the simulated network.                                     */

struct event {
	int kind; /* SYNACK_SIM_SENT, _LOST, _DELIVERED */
	uint64_t t;
	uint8_t *b;
	size_t len;
};

static struct event *events;
static size_t nevents, cap_events;
static synack_sim_tap_fn chained_fn;
static void *chained_ctx;

struct synack_sim *__real_synack_sim_new(uint64_t seed);
void __real_synack_sim_set_tap(struct synack_sim *sim, synack_sim_tap_fn fn, void *ctx);
struct synack_sim *__wrap_synack_sim_new(uint64_t seed);
void __wrap_synack_sim_set_tap(struct synack_sim *sim, synack_sim_tap_fn fn, void *ctx);

static void record(void *ctx, int kind, int from, int to, const uint8_t *pkt, size_t len,
                   uint64_t now)
{
	(void)ctx;
	if (nevents == cap_events) {
		cap_events = cap_events ? cap_events * 2 : 256;
		events = realloc(events, cap_events * sizeof(*events));
		if (!events) {
			perror("make_corpus");
			exit(1);
		}
	}
	struct event *e = &events[nevents++];
	e->kind = kind;
	e->t = now;
	e->len = len;
	e->b = malloc(len ? len : 1);
	if (!e->b) {
		perror("make_corpus");
		exit(1);
	}
	memcpy(e->b, pkt, len);
	if (chained_fn)
		chained_fn(chained_ctx, kind, from, to, pkt, len, now);
}

struct synack_sim *__wrap_synack_sim_new(uint64_t seed)
{
	struct synack_sim *sim = __real_synack_sim_new(seed);
	chained_fn = NULL;
	chained_ctx = NULL;
	if (sim)
		__real_synack_sim_set_tap(sim, record, NULL);
	return sim;
}

void __wrap_synack_sim_set_tap(struct synack_sim *sim, synack_sim_tap_fn fn, void *ctx)
{
	chained_fn = fn;
	chained_ctx = ctx;
	__real_synack_sim_set_tap(sim, record, NULL);
}

static void forget_events(void)
{
	for (size_t i = 0; i < nevents; i++)
		free(events[i].b);
	nevents = 0;
}

/* ------------------------------------------------------------------ */
/* Output.                                                             */

static const char *outdir;

static void write_file(const char *target, const char *name, const uint8_t *b, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

struct bytes {
	uint8_t b[1 << 20];
	size_t len;
};

#define STACK_SEED_MAX (64u << 10)

static void put8(struct bytes *o, uint8_t v)
{
	if (o->len == sizeof(o->b)) {
		fprintf(stderr, "make_corpus: a replay outgrew %zu bytes\n", sizeof(o->b));
		exit(1);
	}
	o->b[o->len++] = v;
}

static void put16(struct bytes *o, uint16_t v)
{
	put8(o, (uint8_t)v);
	put8(o, (uint8_t)(v >> 8));
}

static void put32(struct bytes *o, uint32_t v)
{
	put16(o, (uint16_t)v);
	put16(o, (uint16_t)(v >> 16));
}

/* ------------------------------------------------------------------ */
/* Traces to seeds.                                                    */

struct seg {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t flags;
	size_t data_len, hdr_len;
};

static int parse(const struct event *e, struct seg *s)
{
	struct wire_ip4 ip;
	struct wire_tcp t;
	if (wire_ip4_parse(e->b, e->len, &ip) != SYNACK_DROP_NONE ||
	    wire_tcp_parse(&ip, &t) != SYNACK_DROP_NONE)
		return -1;
	s->src = addr_to_v4(&t.saddr);
	s->dst = addr_to_v4(&t.daddr);
	s->sport = t.sport;
	s->dport = t.dport;
	s->seq = t.seq;
	s->flags = t.flags;
	s->data_len = t.data_len;
	s->hdr_len = t.hdr_len;
	return 0;
}

/* At most four datagrams of a trace, each of a kind not yet taken from it. */
static void wire_seeds(const char *trace)
{
	unsigned char wire_kinds_seen[1024] = {0};
	int n = 0;
	for (size_t i = 0; i < nevents && n < 4; i++) {
		struct seg s;
		if (events[i].kind != SYNACK_SIM_SENT || parse(&events[i], &s) != 0)
			continue;
		unsigned kind = s.flags | (s.data_len ? 0x100u : 0) | (s.hdr_len > 20 ? 0x200u : 0);
		if (wire_kinds_seen[kind]++)
			continue;
		char name[96];
		snprintf(name, sizeof(name), "%s-%02d", trace, n++);
		write_file("fuzz_wire", name, events[i].b, events[i].len);
	}
}

static void advance_to(struct bytes *o, uint64_t *now, uint64_t t)
{
	while (t > *now) {
		uint64_t d = t - *now > UINT32_MAX ? UINT32_MAX : t - *now;
		put8(o, OP_ADVANCE);
		put32(o, (uint32_t)d);
		*now += d;
	}
}

/* A replay of the trace as seen by the end at addr (stack index h). */
static void stack_seed(const char *trace, int h, uint32_t addr)
{
	struct bytes *o = calloc(1, sizeof(*o));
	if (!o) {
		perror("make_corpus");
		exit(1);
	}
	put8(o, 0); /* both stacks with the default configuration */
	put8(o, 0);

	/* How this end opened: its first SYN says. */
	int mode = 0; /* 0: no connection of its own, 1: listen, 2: connect */
	struct seg first;
	for (size_t i = 0; i < nevents && !mode; i++) {
		struct seg s;
		if (events[i].kind == SYNACK_SIM_SENT && parse(&events[i], &s) == 0 &&
		    s.src == addr && (s.flags & SYNACK_TH_SYN)) {
			mode = s.flags & SYNACK_TH_ACK ? 1 : 2;
			first = s;
		}
	}
	int conn_fd = 0;
	if (mode == 1) {
		put8(o, OP_SOCKET);
		put8(o, (uint8_t)h);
		put8(o, OP_BIND);
		put8(o, (uint8_t)h);
		put8(o, 0);
		put8(o, EP_ANY);
		put16(o, first.sport);
		put8(o, OP_LISTEN);
		put8(o, (uint8_t)h);
		put8(o, 0);
		put8(o, 16);
		conn_fd = 1;
	} else if (mode == 2) {
		put8(o, OP_SOCKET);
		put8(o, (uint8_t)h);
		/* A fixed port is bound; an ephemeral one the stack chooses
		 * again from the same secret. */
		if (first.sport < 32768) {
			put8(o, OP_BIND);
			put8(o, (uint8_t)h);
			put8(o, 0);
			put8(o, EP_ANY);
			put16(o, first.sport);
		}
		put8(o, OP_CONNECT);
		put8(o, (uint8_t)h);
		put8(o, 0);
		put8(o, first.dst == FUZZ_ADDR_A ? EP_A : EP_B);
		put16(o, first.dport);
	}

	uint64_t now = 0;
	uint32_t data_end = 0;
	int data_seen = 0, fin_sent = 0;
	/* A long trace (the floods carry a million datagrams) is replayed up to
	 * STACK_SEED_MAX bytes: a seed is a place to start mutating from, and
	 * a fuzzer gains nothing from megabytes of the same SYN.  The cut falls
	 * between operations, below the buffer by more than one datagram. */
	for (size_t i = 0; i < nevents && o->len < STACK_SEED_MAX; i++) {
		const struct event *e = &events[i];
		struct seg s;
		if (parse(e, &s) != 0)
			continue;
		if (e->kind == SYNACK_SIM_DELIVERED && s.dst == addr) {
			advance_to(o, &now, e->t);
			put8(o, OP_RAW);
			put8(o, (uint8_t)h);
			put8(o, 0);
			put16(o, (uint16_t)e->len);
			for (size_t k = 0; k < e->len; k++)
				put8(o, e->b[k]);
			if (mode == 1) {
				put8(o, OP_ACCEPT);
				put8(o, (uint8_t)h);
				put8(o, 0);
			}
			if (mode) {
				put8(o, OP_RECV);
				put8(o, (uint8_t)h);
				put8(o, (uint8_t)conn_fd);
				put16(o, 16384);
				put8(o, 0);
			}
			continue;
		}
		if (e->kind != SYNACK_SIM_SENT || s.src != addr || !mode)
			continue;
		uint32_t end = s.seq + (uint32_t)s.data_len;
		if (s.data_len && (!data_seen || (int32_t)(end - data_end) > 0)) {
			uint32_t fresh = data_seen ? end - data_end : (uint32_t)s.data_len;
			advance_to(o, &now, e->t);
			put8(o, OP_SEND);
			put8(o, (uint8_t)h);
			put8(o, (uint8_t)conn_fd);
			put16(o, (uint16_t)(fresh > 16384 ? 16384 : fresh));
			data_end = end;
			data_seen = 1;
		}
		if ((s.flags & SYNACK_TH_FIN) && !fin_sent) {
			/* close() unless data still comes in after our FIN
			 * (a half-close): then shutdown(SHUT_WR). */
			int more = 0;
			for (size_t k = i + 1; k < nevents && !more; k++) {
				struct seg l;
				if (events[k].kind == SYNACK_SIM_DELIVERED &&
				    parse(&events[k], &l) == 0 && l.dst == addr && l.data_len)
					more = 1;
			}
			advance_to(o, &now, e->t);
			if (more) {
				put8(o, OP_SHUTDOWN);
				put8(o, (uint8_t)h);
				put8(o, (uint8_t)conn_fd);
				put8(o, SYNACK_SHUT_WR);
			} else {
				put8(o, OP_CLOSE);
				put8(o, (uint8_t)h);
				put8(o, (uint8_t)conn_fd);
			}
			fin_sent = 1;
		}
	}
	char name[96];
	snprintf(name, sizeof(name), "%s-%s", trace, h ? "server" : "client");
	write_file("fuzz_stack", name, o->b, o->len);
	free(o);
}

static void seeds_of_trace(const char *trace)
{
	wire_seeds(trace);
	stack_seed(trace, 0, FUZZ_ADDR_A);
	stack_seed(trace, 1, FUZZ_ADDR_B);
	forget_events();
}

static void hand_seeds(void)
{
	/* fuzz_config: the first byte is (error buffer length << 1) | raw. */
	uint8_t cfg[1 + 5 * 3] = {120 << 1};
	write_file("fuzz_config", "defaults", cfg, 1);
	struct synack_config c;
	synack_config_default(&c);
	c.addr = FUZZ_ADDR_A;
	uint8_t raw[1 + sizeof(c)];
	raw[0] = (120 << 1) | 1;
	memcpy(raw + 1, &c, sizeof(c));
	write_file("fuzz_config", "raw-defaults", raw, sizeof(raw));
	/* mtu 576, rto_min_ms 1, rto_initial_ms 1 (fields 1, 11, 10). */
	const uint8_t patches[] = {1, 0x40, 0x02, 0, 0, 11, 1, 0, 0, 0, 10, 1, 0, 0, 0};
	memcpy(cfg + 1, patches, sizeof(patches));
	write_file("fuzz_config", "patches", cfg, sizeof(cfg));

	/* fuzz_cli: arguments separated by NUL bytes. */
#define CLI_SEED(name, text) write_file("fuzz_cli", name, (const uint8_t *)(text), sizeof(text) - 1)
	CLI_SEED("demo", "handshake\0--seed\0"
	                 "7\0--json");
	CLI_SEED("demo-flags", "fin-wait-2-timeout\0--loss=0.1\0--dup\0"
	                       "0.05\0--delay-ms\0"
	                       "5\0--time-wait-ms\0"
	                       "1000\0--fin-timeout-ms=2000");
	CLI_SEED("transfer", "--bytes\0"
	                     "64KiB\0--loss=0.01\0--bw-mbps\0"
	                     "10\0--queue\0"
	                     "20");
	CLI_SEED("endpoint", "10.0.0.2:80");
#undef CLI_SEED

	/* fuzz_stack: a connection whose SYN, data and FIN travel in
	 * fragments (reversed, shuffled, overlapping, one piece lost), so the
	 * fuzzer starts inside reassembly. */
	/* One operation a line. */
	/* clang-format off */
	const uint8_t frag[] = {
	    0, 0,                                                         /* both stacks with defaults */
	    OP_SOCKET, 0, OP_BIND, 0, 0, EP_ANY, 80, 0, OP_LISTEN, 0, 0, 16, /* A listens on 80 */
	    OP_SOCKET, 1, OP_CONNECT, 1, 0, EP_A, 80, 0,                  /* B connects */
	    OP_FRAGMENT, 0, 0, 1,                                         /* the SYN, 8-byte pieces reversed */
	    OP_DELIVER, 1, 4, OP_DELIVER, 0, 4, OP_ACCEPT, 0, 0,
	    OP_SEND, 1, 0, 0xb8, 0x0b,                                    /* 3000 bytes */
	    OP_FRAGMENT, 0, 20, 2,                                        /* shuffled 168-byte pieces */
	    OP_FRAGMENT, 0, 31, 3,                                        /* a piece twice: lost */
	    OP_FRAGMENT, 0, 5, 4,                                         /* the last piece lost */
	    OP_DEADLINE, OP_DELIVER, 0, 8, OP_DELIVER, 1, 8, OP_DEADLINE, OP_DELIVER, 0, 8,
	    OP_RECV, 0, 1, 0xb8, 0x0b, 0, OP_CLOSE, 1, 0, OP_FRAGMENT, 0, 1, 0,
	    OP_DELIVER, 1, 8, OP_CLOSE, 0, 1, OP_DELIVER, 1, 8, OP_DELIVER, 0, 8,
	};
	/* clang-format on */
	write_file("fuzz_stack", "fragments", frag, sizeof(frag));

	/* fuzz_wire: the two ends of a fragmented datagram. */
	uint8_t d[20 + 24];
	memset(d, 0, sizeof(d));
	wire_ip4_emit_frag(d, FUZZ_ADDR_B, FUZZ_ADDR_A, WIRE_IPPROTO_TCP, 64, 7, 24, WIRE_IP4_MF);
	write_file("fuzz_wire", "ip-first-fragment", d, sizeof(d));
	wire_ip4_emit_frag(d, FUZZ_ADDR_B, FUZZ_ADDR_A, WIRE_IPPROTO_TCP, 64, 7, 24, 3);
	write_file("fuzz_wire", "ip-last-fragment", d, sizeof(d));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make_corpus OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	for (size_t i = 0; i < demo_scenario_count(); i++) {
		struct demo_opts o;
		struct demo_result res;
		demo_opts_default(&o);
		o.scenario = demo_scenario_info(i)->name;
		if (demo_run(&o, NULL, &res) != 0 || !res.ok) {
			fprintf(stderr, "make_corpus: demo %s failed: %s\n", o.scenario, res.error);
			return 1;
		}
		seeds_of_trace(o.scenario);
	}
	struct transfer_opts t;
	struct transfer_result tr;
	transfer_opts_default(&t);
	t.bytes = 8000;
	t.loss = 0.05;
	t.seed = 1;
	if (transfer_run(&t, NULL, &tr) != 0 || !tr.ok) {
		fprintf(stderr, "make_corpus: transfer failed: %s\n", tr.error);
		return 1;
	}
	seeds_of_trace("transfer-lossy");
	hand_seeds();
	free(events);
	printf("corpus written to %s\n", outdir);
	return 0;
}
