/*
 * lwIP's side of the benchmark, on the library Debian packages
 * (liblwip-dev 2.1.3, built for the GNU Hurd: NO_SYS=0, core locking,
 * MEM_LIBC_MALLOC and MEMP_MEM_MALLOC, TCP_MSS 1460, TCP_WND 65535).
 *
 * Two netifs (10.1.0.1 and 10.2.0.1) are wired in memory: what one sends
 * is copied into a queue and handed to the other's ip_input() by the loop,
 * one thread, the raw (callback) API, no tcpip thread.  Each pcb is bound
 * to its netif (tcp_bind_netif) so traffic crosses the wire instead of
 * lwIP's loopback.  lwIP keeps its state in globals, so every measurement
 * runs in a forked child with a fresh lwIP.  Its allocations go through
 * malloc, so the C library's heap counters give its memory exactly.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "bench.h"

/*
 * lwIP is loaded with dlopen(RTLD_DEEPBIND), not linked: its exported names
 * tcp_input, tcp_output, tcp_close, tcp_abort, tcp_accept and ip4_input are
 * also internal names in libsynack.a, and a linked lwIP would have its own
 * internal calls bound to synack's functions.  Every lwIP function and list
 * used below goes through this table.
 */
#define LWIP_FUNCS(X)                                                                              \
	X(lwip_init)                                                                               \
	X(netif_add)                                                                               \
	X(netif_set_up)                                                                            \
	X(netif_set_link_up)                                                                       \
	X(ip_input)                                                                                \
	X(pbuf_alloc)                                                                              \
	X(pbuf_copy)                                                                               \
	X(pbuf_free)                                                                               \
	X(pbuf_copy_partial)                                                                       \
	X(sys_check_timeouts)                                                                      \
	X(tcp_new)                                                                                 \
	X(tcp_bind)                                                                                \
	X(tcp_bind_netif)                                                                          \
	X(tcp_listen_with_backlog)                                                                 \
	X(tcp_accept)                                                                              \
	X(tcp_recv)                                                                                \
	X(tcp_arg)                                                                                 \
	X(tcp_err)                                                                                 \
	X(tcp_write)                                                                               \
	X(tcp_output)                                                                              \
	X(tcp_close)                                                                               \
	X(tcp_abort)                                                                               \
	X(tcp_recved)                                                                              \
	X(tcp_connect)                                                                             \
	X(tcp_slowtmr)

static struct {
#define LWIP_FIELD(name) __typeof__(name) *name;
	LWIP_FUNCS(LWIP_FIELD)
#undef LWIP_FIELD
	struct tcp_pcb **tcp_active_pcbs, **tcp_tw_pcbs;
} L;

static const char *lwip_load(void)
{
	static char why[256];
	void *h = dlopen("liblwip.so.0", RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
	if (!h) {
		snprintf(why, sizeof(why), "cannot load liblwip.so.0: %s", dlerror());
		return why;
	}
#define LWIP_LOAD(name)                                                                            \
	if (!(*(void **)&L.name = dlsym(h, #name))) {                                              \
		snprintf(why, sizeof(why), "liblwip.so.0 has no %s", #name);                       \
		return why;                                                                        \
	}
	LWIP_FUNCS(LWIP_LOAD)
	LWIP_LOAD(tcp_active_pcbs)
	LWIP_LOAD(tcp_tw_pcbs)
#undef LWIP_LOAD
	return NULL;
}

#define lwip_init (*L.lwip_init)
#define netif_add (*L.netif_add)
#define netif_set_up (*L.netif_set_up)
#define netif_set_link_up (*L.netif_set_link_up)
#define ip_input (*L.ip_input)
#define pbuf_alloc (*L.pbuf_alloc)
#define pbuf_copy (*L.pbuf_copy)
#define pbuf_free (*L.pbuf_free)
#define pbuf_copy_partial (*L.pbuf_copy_partial)
#define sys_check_timeouts (*L.sys_check_timeouts)
#define tcp_new (*L.tcp_new)
#define tcp_bind (*L.tcp_bind)
#define tcp_bind_netif (*L.tcp_bind_netif)
#define tcp_listen_with_backlog (*L.tcp_listen_with_backlog)
#define tcp_accept (*L.tcp_accept)
#define tcp_recv (*L.tcp_recv)
#define tcp_arg (*L.tcp_arg)
#define tcp_err (*L.tcp_err)
#define tcp_write (*L.tcp_write)
#define tcp_output (*L.tcp_output)
#define tcp_close (*L.tcp_close)
#define tcp_abort (*L.tcp_abort)
#define tcp_recved (*L.tcp_recved)
#define tcp_connect (*L.tcp_connect)
#define tcp_slowtmr (*L.tcp_slowtmr)
#define tcp_active_pcbs (*L.tcp_active_pcbs)
#define tcp_tw_pcbs (*L.tcp_tw_pcbs)

#define REQ_LEN 64
#define NLISTEN 8

/* ------------------------------------------------------------------ */
/* The wire.                                                           */

struct wire {
	struct pbuf **q;
	size_t head, n, cap;
};

static struct netif na, nb;
static struct wire wires[2]; /* [0]: towards nb, [1]: towards na */
static ip_addr_t addr_a, addr_b;
static ip4_addr_t mask, gw; /* gw stays 0.0.0.0 */
static uint64_t wire_drops;

static err_t wire_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *dst)
{
	(void)dst;
	struct wire *w = &wires[netif == &na ? 0 : 1];
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		struct pbuf **q = malloc(cap * sizeof(*q));
		if (!q) {
			wire_drops++;
			return ERR_MEM;
		}
		for (size_t i = 0; i < w->n; i++)
			q[i] = w->q[(w->head + i) % w->cap];
		free(w->q);
		w->q = q;
		w->head = 0;
		w->cap = cap;
	}
	/* lwIP keeps the segment for retransmission: the wire gets a copy. */
	struct pbuf *c = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
	if (!c || pbuf_copy(c, p) != ERR_OK) {
		if (c)
			pbuf_free(c);
		wire_drops++;
		return ERR_MEM;
	}
	w->q[(w->head + w->n++) % w->cap] = c;
	return ERR_OK;
}

static err_t netif_setup(struct netif *netif)
{
	netif->output = wire_output;
	netif->mtu = 1500;
	netif->name[0] = 'w';
	netif->name[1] = netif == &na ? 'a' : 'b';
	return ERR_OK;
}

/* Delivers what is on the wire now (not what these deliveries send), so
 * a loop that reopens connections from callbacks still gets control back. */
static int pump_once(void)
{
	int moved = 0;
	for (int d = 0; d < 2; d++) {
		struct wire *w = &wires[d];
		for (size_t k = w->n; k > 0; k--) {
			struct pbuf *p = w->q[w->head];
			w->head = (w->head + 1) % w->cap;
			w->n--;
			ip_input(p, d == 0 ? &nb : &na);
			moved = 1;
		}
	}
	sys_check_timeouts();
	return moved;
}

/* Delivers until the wire is quiet. */
static void pump(void)
{
	while (pump_once())
		;
}

static void lwip_setup(void)
{
	lwip_init();
	IP_ADDR4(&addr_a, 10, 1, 0, 1);
	IP_ADDR4(&addr_b, 10, 2, 0, 1);
	IP4_ADDR(&mask, 255, 255, 0, 0);
	netif_add(&na, ip_2_ip4(&addr_a), &mask, &gw, NULL, netif_setup, ip_input);
	netif_add(&nb, ip_2_ip4(&addr_b), &mask, &gw, NULL, netif_setup, ip_input);
	netif_set_up(&na);
	netif_set_link_up(&na);
	netif_set_up(&nb);
	netif_set_link_up(&nb);
}

static size_t list_len(struct tcp_pcb *p, int state)
{
	size_t n = 0;
	for (; p; p = p->next)
		if (state < 0 || (int)p->state == state)
			n++;
	return n;
}

/* ------------------------------------------------------------------ */
/* Server: echo, close on EOF.                                         */

static uint64_t srv_bytes;
static int srv_echo = 1;

static err_t srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)err;
	if (!p) {
		tcp_recv(pcb, NULL);
		tcp_close(pcb);
		return ERR_OK;
	}
	srv_bytes += p->tot_len;
	if (srv_echo) {
		char buf[2048];
		u16_t n = pbuf_copy_partial(p, buf,
		                            p->tot_len < sizeof(buf) ? p->tot_len : sizeof(buf), 0);
		tcp_write(pcb, buf, n, TCP_WRITE_FLAG_COPY);
		tcp_output(pcb);
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static struct tcp_pcb *last_accepted;
static uint64_t accepted;

static err_t srv_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	tcp_recv(pcb, srv_recv);
	last_accepted = pcb;
	accepted++;
	return ERR_OK;
}

static int listen_all(void)
{
	for (int i = 0; i < NLISTEN; i++) {
		struct tcp_pcb *l = tcp_new();
		if (!l)
			return -1;
		tcp_bind_netif(l, &nb);
		if (tcp_bind(l, &addr_b, (u16_t)(8000 + i)) != ERR_OK)
			return -1;
		l = tcp_listen_with_backlog(l, 255);
		if (!l)
			return -1;
		tcp_accept(l, srv_accept);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Client.  Ports are chosen here (SO_REUSEADDR + an explicit bind over
 * 1024..65535 x 8 server ports): lwIP's own ephemeral range is 16,384
 * ports, which TIME_WAIT (2 x 60 s here) would use up in a fraction of a
 * second. */

static unsigned next_port, next_srv;
static uint64_t lc_done, lc_failed;
static int lc_reopen;

static void slot_open(void);

static void cli_finish(struct tcp_pcb *pcb, int ok)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) != ERR_OK)
		tcp_abort(pcb);
	if (ok)
		lc_done++;
	else
		lc_failed++;
	if (lc_reopen)
		slot_open();
}

static err_t cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)err;
	uintptr_t got = (uintptr_t)arg;
	if (!p) {
		cli_finish(pcb, 0);
		return ERR_OK;
	}
	got += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (got >= REQ_LEN) {
		cli_finish(pcb, 1);
		return ERR_OK;
	}
	tcp_arg(pcb, (void *)got);
	return ERR_OK;
}

static void cli_err(void *arg, err_t err)
{
	(void)arg;
	(void)err;
	lc_failed++; /* the pcb is already freed */
	if (lc_reopen)
		slot_open();
}

static err_t cli_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	static const char req[REQ_LEN] =
	    "synack-bench lifecycle request, 64 bytes long, echoed back!!!!";
	if (err != ERR_OK)
		return err;
	tcp_write(pcb, req, REQ_LEN, TCP_WRITE_FLAG_COPY);
	tcp_output(pcb);
	return ERR_OK;
}

/* Opens a connection; returns its pcb or NULL. */
static struct tcp_pcb *cli_open(tcp_connected_fn on_connected)
{
	for (int tries = 0; tries < 64; tries++) {
		struct tcp_pcb *pcb = tcp_new();
		if (!pcb)
			return NULL;
		u16_t port = (u16_t)(1024 + next_port++ % 64512);
		u16_t sport = (u16_t)(8000 + next_srv++ % NLISTEN);
		ip_set_option(pcb, SOF_REUSEADDR);
		tcp_bind_netif(pcb, &na);
		/* A pcb that never connected is freed by tcp_close (an abort
		 * would call the error callback). */
		if (tcp_bind(pcb, &addr_a, port) != ERR_OK) {
			tcp_close(pcb);
			continue;
		}
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, cli_recv);
		if (tcp_connect(pcb, &addr_b, sport, on_connected) != ERR_OK) {
			tcp_close(pcb);
			continue;
		}
		tcp_err(pcb, cli_err);
		return pcb;
	}
	return NULL;
}

static void slot_open(void)
{
	if (!cli_open(cli_connected))
		lc_failed++;
}

/* ------------------------------------------------------------------ */
/* The workloads, each in a forked child.                              */

static void child_lifecycle(const struct bench_opts *o, uint32_t inflight)
{
	char variant[32];
	double rate[9], cpu[9];
	size_t tw_end = 0;
	snprintf(variant, sizeof(variant), "c%u", inflight);
	for (int r = 0; r < o->reps; r++) {
		/* A fresh lwIP per repetition: TIME_WAIT pcbs of the last one
		 * would otherwise still be on the lists. */
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			lwip_setup();
			if (listen_all() < 0)
				_exit(2);
			lc_reopen = 1;
			uint64_t w0 = bench_wall_ns(), c0 = bench_cpu_ns();
			uint64_t limit = (uint64_t)(o->budget_s * 1e9);
			for (uint32_t i = 0; i < inflight; i++)
				slot_open();
			for (;;) {
				pump_once();
				uint64_t el = bench_wall_ns() - w0;
				if ((el >= limit && lc_done >= inflight) || el >= 20 * limit ||
				    lc_failed)
					break;
			}
			uint64_t wall = bench_wall_ns() - w0, cpun = bench_cpu_ns() - c0;
			if (lc_failed || !lc_done) {
				fprintf(stderr,
				        "synack-bench: lwip lifecycle: %llu done, %llu failed\n",
				        (unsigned long long)lc_done, (unsigned long long)lc_failed);
				_exit(3);
			}
			double v[3] = {(double)lc_done / ((double)wall / 1e9),
			               (double)cpun / 1e3 / (double)lc_done,
			               (double)list_len(tcp_tw_pcbs, -1)};
			res_add("tmp", "lwip", variant, "a", v[0]);
			res_add("tmp", "lwip", variant, "b", v[1]);
			res_add("tmp", "lwip", variant, "c", v[2]);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			res_skip("lifecycle", "lwip", variant, "lifecycles_per_s",
			         "failed (child status %d)", st);
			return;
		}
		/* Take the three figures back out of the store. */
		size_t n = res_count();
		rate[r] = res_get(n - 3)->value;
		cpu[r] = res_get(n - 2)->value;
		tw_end = (size_t)res_get(n - 1)->value;
		res_truncate(n - 3);
		bench_log(
		    "lwip lifecycle %s: %.0f/s, %.2f us CPU each (%zu TIME_WAIT pcbs at the end)",
		    variant, rate[r], cpu[r], tw_end);
	}
	res_add_note("lifecycle", "lwip", variant, "lifecycles_per_s", bench_median(rate, o->reps),
	             "lwIP raw API, one thread, two netifs wired in memory; the client closes "
	             "first; TIME_WAIT lasts 120 s and lwIP finds pcbs by walking its lists (%zu "
	             "TIME_WAIT pcbs at the end of the last run)",
	             tw_end);
	res_add("lifecycle", "lwip", variant, "cpu_us_per_lifecycle", bench_median(cpu, o->reps));
}

static uint64_t bulk_total;

static int child_bulk(uint64_t total, double *gbit, double *cpu_s_gb)
{
	static char buf[65536];
	lwip_setup();
	if (listen_all() < 0)
		return -1;
	srv_echo = 0;
	lc_reopen = 0;
	struct tcp_pcb *c = cli_open(NULL);
	if (!c)
		return -1;
	tcp_recv(c, NULL);
	pump();
	if (c->state != ESTABLISHED)
		return -1;
	uint64_t sent = 0, w0 = bench_wall_ns(), c0 = bench_cpu_ns();
	bulk_total = total;
	while (srv_bytes < total) {
		while (sent < total) {
			u16_t room = tcp_sndbuf(c);
			uint64_t want = total - sent;
			if (want > room)
				want = room;
			if (want > 16384)
				want = 16384;
			if (!want || tcp_write(c, buf, (u16_t)want, TCP_WRITE_FLAG_COPY) != ERR_OK)
				break;
			sent += want;
		}
		tcp_output(c);
		pump();
	}
	uint64_t wall = bench_wall_ns() - w0, cpu = bench_cpu_ns() - c0;
	*gbit = (double)total * 8 / (double)wall;
	*cpu_s_gb = ((double)cpu / 1e9) / ((double)total / 1e9);
	return 0;
}

static void run_bulk(const struct bench_opts *o)
{
	double g[9], c[9];
	for (int r = 0; r < o->reps; r++) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			double gbit, cpu;
			if (child_bulk(o->bulk_bytes_lwip, &gbit, &cpu) < 0)
				_exit(1);
			res_add("tmp", "lwip", "", "", gbit);
			res_add("tmp", "lwip", "", "", cpu);
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			res_skip("bulk", "lwip", "mss1460", "gbit_per_s",
			         "failed (child status %d)", st);
			return;
		}
		size_t n = res_count();
		g[r] = res_get(n - 2)->value;
		c[r] = res_get(n - 1)->value;
		res_truncate(n - 2);
		bench_log("lwip bulk: %.2f Gbit/s, %.3f s CPU per GB", g[r], c[r]);
	}
	res_add_note(
	    "bulk", "lwip", "mss1460", "gbit_per_s", bench_median(g, o->reps),
	    "lwIP TCP_MSS 1460, TCP_WND 65535 (the packaged build's settings), wire copies "
	    "every segment");
	res_add("bulk", "lwip", "mss1460", "cpu_s_per_gb", bench_median(c, o->reps));
}

/* Opens n connections and waits until all are established and accepted. */
static int open_many(uint32_t n)
{
	srv_echo = 1;
	lc_reopen = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct tcp_pcb *c = cli_open(NULL);
		if (!c)
			return -1;
		tcp_recv(c, NULL);
		tcp_err(c, NULL);
		if ((i + 1) % 1024 == 0)
			pump();
	}
	pump();
	return accepted == n ? 0 : -1;
}

static void child_memory(uint32_t n)
{
	lwip_setup();
	if (listen_all() < 0)
		_exit(1);
	pump();
	bench_trim();
	uint64_t h0 = bench_heap();
	if (open_many(n) < 0) {
		res_skip("memory", "lwip", "heap", "bytes_per_established", "could not open %u", n);
		_exit(0);
	}
	bench_trim();
	uint64_t h1 = bench_heap();
	res_add_note("memory", "lwip", "heap", "bytes_per_established",
	             (double)(h1 - h0) / (2.0 * n),
	             "malloc'd bytes (lwIP allocates with malloc here), both ends, / (2 x %u)", n);
	/* Clients close first and keep TIME_WAIT; the server closes on EOF. */
	for (struct tcp_pcb *p = tcp_active_pcbs, *next; p; p = next) {
		next = p->next;
		if (p->local_port < 8000 || p->local_port >= 8000 + NLISTEN)
			tcp_close(p);
	}
	pump();
	size_t tw = list_len(tcp_tw_pcbs, -1);
	bench_trim();
	uint64_t h2 = bench_heap();
	/* Let 2 x MSL pass on lwIP's clock (one slow tick is 500 ms). */
	for (long i = 0; i < (long)(2 * TCP_MSL / TCP_SLOW_INTERVAL) + 2; i++)
		tcp_slowtmr();
	size_t tw_left = list_len(tcp_tw_pcbs, -1);
	bench_trim();
	uint64_t h3 = bench_heap();
	if (tw < n * 9 / 10 || tw_left)
		res_skip("memory", "lwip", "heap", "bytes_per_time_wait",
		         "%zu of %u reached TIME_WAIT, %zu left after 2 MSL", tw, n, tw_left);
	else
		res_add_note("memory", "lwip", "heap", "bytes_per_time_wait",
		             (double)(h2 - h3) / (double)tw,
		             "heap bytes freed when the %zu TIME_WAIT pcbs expired, / %zu", tw, tw);
	_exit(0);
}

static void child_syn(uint32_t n)
{
	lwip_setup();
	if (listen_all() < 0)
		_exit(1);
	pump();
	bench_trim();
	uint64_t h0 = bench_heap();
	/* SYNs from addresses no netif owns: the SYN-ACKs cross the wire to
	 * na, which has no route for them, so the requests stay. */
	for (uint32_t i = 0; i < n; i++) {
		struct pbuf *p = pbuf_alloc(PBUF_RAW, 44, PBUF_RAM);
		uint8_t *b = p->payload;
		uint32_t saddr = 0x0a630000u + (i >> 14) + 1, daddr = 0x0a020001u;
		uint16_t sport = (uint16_t)(1024 + (i & 16383)), dport = 8000;
		uint32_t seq = 0x1000u * i + 7;
		memset(b, 0, 44);
		b[0] = 0x45;
		b[3] = 44;
		b[8] = 64;
		b[9] = 6;
		for (int k = 0; k < 4; k++) {
			b[12 + k] = (uint8_t)(saddr >> (24 - 8 * k));
			b[16 + k] = (uint8_t)(daddr >> (24 - 8 * k));
			b[24 + k] = (uint8_t)(seq >> (24 - 8 * k));
		}
		b[20] = (uint8_t)(sport >> 8);
		b[21] = (uint8_t)sport;
		b[22] = (uint8_t)(dport >> 8);
		b[23] = (uint8_t)dport;
		b[32] = 6 << 4;
		b[33] = 0x02;
		b[34] = b[35] = 0xff;
		b[40] = 2;
		b[41] = 4;
		b[42] = 1460 >> 8;
		b[43] = 1460 & 0xff;
		uint32_t sum = 0;
		for (int k = 0; k < 20; k += 2)
			sum += (uint32_t)(b[k] << 8 | b[k + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		b[10] = (uint8_t)(~sum >> 8);
		b[11] = (uint8_t)~sum;
		sum = (saddr >> 16) + (saddr & 0xffff) + (daddr >> 16) + (daddr & 0xffff) + 6 + 24;
		for (int k = 20; k < 44; k += 2)
			sum += (uint32_t)(b[k] << 8 | b[k + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		b[36] = (uint8_t)(~sum >> 8);
		b[37] = (uint8_t)~sum;
		ip_input(p, &nb);
		pump();
	}
	bench_trim();
	uint64_t h1 = bench_heap();
	size_t pending = list_len(tcp_active_pcbs, SYN_RCVD);
	if (pending < n)
		res_skip("memory", "lwip", "heap", "bytes_per_syn_pending",
		         "%zu of %u SYNs left a pending pcb", pending, n);
	else
		res_add_note("memory", "lwip", "heap", "bytes_per_syn_pending",
		             (double)(h1 - h0) / (double)pending, "heap delta / %zu SYN_RCVD pcbs",
		             pending);
	_exit(0);
}

static void child_scale(const struct bench_opts *o, uint32_t n)
{
	char variant[32];
	snprintf(variant, sizeof(variant), "%u", n);
	lwip_setup();
	if (listen_all() < 0)
		_exit(1);
	pump();
	bench_trim();
	uint64_t r0 = bench_rss(), w0 = bench_wall_ns();
	if (open_many(n) < 0) {
		res_skip("scale", "lwip", variant, "setup_per_s", "could not open %u", n);
		_exit(0);
	}
	uint64_t setup = bench_wall_ns() - w0;
	bench_trim();
	uint64_t r1 = bench_rss();
	res_add("scale", "lwip", variant, "setup_per_s", (double)n / ((double)setup / 1e9));
	res_add_note("scale", "lwip", variant, "rss_bytes", (double)(r1 - r0),
	             "process RSS delta, both ends");
	/* Echoes on random client pcbs. */
	struct tcp_pcb **cli = calloc(n, sizeof(*cli));
	uint32_t k = 0;
	for (struct tcp_pcb *p = tcp_active_pcbs; p && k < n; p = p->next)
		if (p->local_port < 8000 || p->local_port >= 8000 + NLISTEN)
			cli[k++] = p;
	uint64_t x = 0x9e3779b97f4a7c15ull, c0 = bench_cpu_ns();
	static const char msg[REQ_LEN] = {1};
	for (uint64_t done = 0; done < o->scale_msgs && k; done++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		struct tcp_pcb *p = cli[x % k];
		tcp_write(p, msg, REQ_LEN, TCP_WRITE_FLAG_COPY);
		tcp_output(p);
		if ((done + 1) % 1000 == 0)
			pump();
	}
	pump();
	uint64_t cpu = bench_cpu_ns() - c0;
	/* The packaged build has no statistics: each message is the data
	 * segment, the echo (carrying the ACK) and the client's ACK of it. */
	res_add_note("scale", "lwip", variant, "ns_per_segment",
	             (double)cpu / (3.0 * (double)o->scale_msgs),
	             "CPU ns per segment, counting 3 segments per echo (lwIP statistics are off "
	             "in the packaged build)");
	_exit(0);
}

static void in_child(void (*fn)(uint32_t), uint32_t arg, const char *what)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		fn(arg);
	int st;
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		res_remark("lwip", "%s failed (child status %d)", what, st);
}

static const struct bench_opts *scale_opts;

static void scale_thunk(uint32_t n)
{
	child_scale(scale_opts, n);
}

void bench_lwip(const struct bench_opts *o)
{
	const char *why = lwip_load();
	if (why) {
		res_skip("lifecycle", "lwip", "all", "lifecycles_per_s", "%s", why);
		return;
	}
	if (o->do_lifecycle) {
		for (int k = 0; k < o->ninflight; k++) {
			uint32_t c = o->inflight[k];
			if (c > 10000) {
				char variant[32];
				snprintf(variant, sizeof(variant), "c%u", c);
				res_skip(
				    "lifecycle", "lwip", variant, "lifecycles_per_s",
				    "not run: lwIP finds a segment's pcb by walking a linked list "
				    "of "
				    "every connection (and every TIME_WAIT pcb for a SYN), so each "
				    "lifecycle at %u in flight costs ~%u list steps per segment",
				    c, c);
				continue;
			}
			child_lifecycle(o, c);
		}
	}
	if (o->do_bulk)
		run_bulk(o);
	if (o->do_memory) {
		uint32_t n = o->mem_conns > 20000 ? 20000 : o->mem_conns;
		in_child(child_memory, n, "memory (established, TIME_WAIT)");
		in_child(child_syn, n, "memory (pending SYN)");
	}
	if (o->do_scale) {
		scale_opts = o;
		in_child(scale_thunk, o->scale_small, "scale");
		char variant[32];
		snprintf(variant, sizeof(variant), "%u", o->scale_big);
		res_skip("scale", "lwip", variant, "setup_per_s",
		         "not run: lwIP walks every pcb for each segment and each new port; at %u "
		         "connections setup alone is O(n^2)",
		         o->scale_big);
	}
}
