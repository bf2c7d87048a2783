/*
 * The wan workload (issue 13, Targets): one bulk transfer over a path of a
 * given rate, RTT, queue and random loss, for Linux and synack side by side
 * on the identical path.  This kernel has no netem, so the path is
 * `synack bridge` (tools/bridge.c, run here in a forked child) between two
 * TAP devices, in namespaces this program creates:
 *
 *     ns A: the sender         ns BR: synack bridge          ns B: receiver
 *     10.203.0.1  --- tap wa ----- [rate, queue, delay, --- tap wb --- 10.203.0.2
 *                                   loss, each way]
 *
 * The bridge opens wa and wb in BR; they are then moved into A and B.
 *   linux:  the kernel's TCP (CUBIC, its defaults) in A sends to the
 *           kernel's receiver in B;
 *   synack: in A a Linux bridge joins wa and a second TAP device ws on which
 *           a synack stack (src/link, src/run) is 10.203.0.1 and sends to
 *           the same kernel receiver in B;
 *   sim:    synack to synack over the simulator with the same path on the
 *           virtual clock (metrics sim_*, reported under impl synack).
 * The rate counts IP bytes (as `synack transfer --bw-mbps` does), the delay
 * is RTT / 2 each way, the loss applies to data and ACKs alike, the queue
 * is --wan-queue packets (default one bandwidth-delay product); --wan-dup
 * and --wan-reorder add duplication and reordering each way (the issue's
 * spurious-retransmission target: 20 % and 5 %).
 *
 * The sender sends until the receiver has measured: goodput is the bytes
 * the receiver read between wan_skip_s and wan_duration_s after its
 * accept, over that time (slow start left out).  Then the sender closes,
 * the receiver reads to the end, and every byte is checked against the
 * payload (a pseudo-random pattern of prime period), so a row is reported
 * only for a byte-exact transfer.  Retransmitted bytes: the kernel's
 * tcpi_bytes_retrans; synack has no byte counter yet, so RetransSegs times
 * the MSS (an upper bound: a retransmission may be shorter).
 *
 * Buffers: by default both kernels' and synack's own bounds (Linux's
 * tcp_rmem[2] 6 MiB, tcp_wmem[2] 4 MiB, synack's rmem_max and wmem_max
 * alike) cap a window, and so goodput at bound / RTT: 4 MiB at 100 ms is
 * 335 Mbit/s.  --wan-buffers bdp raises every bound to 2 x BDP (never
 * below the default; the kernel's sysctls are per network namespace, set
 * in A and B), so the 1 Gbit/s rows show whether the sender fills the
 * path when buffers are not the limit.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bridge.h"
#include "settings.h"
#include "synack/link.h"
#include "synack/run.h"
#include "synack/sim.h"
#include "synack/synack.h"

#define WAN_A 0x0acb0001u /* 10.203.0.1: the sender */
#define WAN_B 0x0acb0002u /* 10.203.0.2: the receiver */
#define WAN_PORT 5001
#define PERIOD 65521u /* the payload repeats with this prime period */
#define CHUNK 65536u
#define MSS_GUESS 1448 /* a full segment with timestamps, to size the queue */

static unsigned char payload[PERIOD + CHUNK];

/* The payload from stream offset off: at least CHUNK contiguous bytes. */
static const unsigned char *payload_at(uint64_t off)
{
	return payload + off % PERIOD;
}

static void payload_init(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < PERIOD; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		payload[i] = (unsigned char)(x >> 32);
	}
	/* CHUNK > PERIOD: the tail repeats the start, byte by byte. */
	for (size_t i = PERIOD; i < sizeof(payload); i++)
		payload[i] = payload[i - PERIOD];
}

/* 1 when the n bytes at buf are the payload from stream offset off. */
static int payload_check(const unsigned char *buf, size_t n, uint64_t off)
{
	for (size_t k = 0; k < n; k += CHUNK) {
		size_t len = n - k < CHUNK ? n - k : CHUNK;
		if (memcmp(buf + k, payload_at(off + k), len) != 0)
			return 0;
	}
	return 1;
}

struct wan_path {
	double rate_mbps;
	uint32_t rtt_ms;
	double loss;
	uint32_t queue;      /* packets */
	double dup, reorder; /* each way, for the spurious-retransmission target */
	uint32_t buf_max;    /* --wan-buffers bdp: every buffer bound; 0: the defaults */
	/* --wan-set NAME=VALUE (nset of them) and --wan-trace. */
	const char *const *set;
	int nset, trace;
};

/* Linux's tcp_rmem and tcp_wmem defaults (min, default, max), as the
 * kernel boots with them and as synack's rmem_* and wmem_* copy. */
#define LINUX_RMEM "4096 131072"
#define LINUX_WMEM "4096 16384"

/* synack's configuration for the path: the defaults, with the buffer
 * bounds raised when --wan-buffers bdp asks, then the --wan-set settings
 * (each checked when the flag was read). */
static void wan_config(struct synack_config *cfg, const struct wan_path *p)
{
	char err[1024];
	synack_config_default(cfg);
	if (p->buf_max > cfg->rmem_max)
		cfg->rmem_max = p->buf_max;
	if (p->buf_max > cfg->wmem_max)
		cfg->wmem_max = p->buf_max;
	for (int i = 0; i < p->nset; i++)
		if (settings_parse("--wan-set", p->set[i], cfg, err, sizeof(err)) < 0)
			fprintf(stderr, "synack-bench: %s\n", err);
}

/* "; settings a=1 b=2" for a row's note, or "" without --wan-set. */
static void wan_set_note(const struct wan_path *p, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	for (int i = 0; i < p->nset && n < len; i++) {
		int k = snprintf(buf + n, len - n, "%s%s", i ? " " : "; settings ", p->set[i]);
		n += k > 0 ? (size_t)k : 0;
	}
}

/* --wan-trace: the sender's state at t seconds, one line on stderr. */
static void wan_trace_line(struct synack_stack *st, int s, double t)
{
	struct synack_tcp_info ti;
	struct synack_stats stats;
	if (synack_tcp_info(st, s, &ti) != 0)
		return;
	synack_stats(st, &stats);
	uint32_t mss = ti.mss ? ti.mss : 1;
	fprintf(stderr,
	        "wan trace %.1f s: cwnd %u ssthresh %u (segments) srtt %u min_rtt %u us "
	        "hystart %d ca %s snd_wnd %u send_queue %u inflight %u delivery %.1f Mbit/s%s "
	        "retrans %llu; HystartRound %llu/%llu Delay %llu/%llu\n",
	        t, ti.cwnd / mss, ti.ssthresh / mss, ti.srtt_us, ti.min_rtt, ti.hystart,
	        synack_ca_state_name(ti.ca_state), ti.snd_wnd, ti.send_queue,
	        ti.snd_nxt - ti.snd_una, (double)ti.delivery_rate * 8 / 1e6,
	        ti.delivery_rate_app_limited ? " (app limited)" : "",
	        (unsigned long long)ti.total_retrans,
	        (unsigned long long)stats.TCPHystartRoundDetect,
	        (unsigned long long)stats.TCPHystartRoundCwnd,
	        (unsigned long long)stats.TCPHystartDelayDetect,
	        (unsigned long long)stats.TCPHystartDelayCwnd);
}

/* What the receiver measured (two messages: the window, then the end). */
struct rx_window {
	uint64_t bytes, us;
};
struct rx_end {
	uint64_t bytes;
	int exact; /* every byte the payload, and the stream ended with a FIN */
};
struct tx_out {
	uint64_t sent, retrans_bytes, retrans_segs;
	int ok;
	char cc[16]; /* Linux: the congestion control in effect (TCP_CONGESTION) */
};

/* The goodput window over a byte stream read as time passes. */
struct window {
	uint64_t skip_us, end_us;
	uint64_t at_skip, t_skip;
	int started, done;
	struct rx_window w;
};

/* Notes the stream at t_us (since the start) with got bytes read. */
static void window_see(struct window *w, uint64_t t_us, uint64_t got)
{
	if (!w->started && t_us >= w->skip_us) {
		w->started = 1;
		w->t_skip = t_us;
		w->at_skip = got;
	}
	if (w->started && !w->done && t_us >= w->end_us) {
		w->done = 1;
		w->w.bytes = got - w->at_skip;
		w->w.us = t_us - w->t_skip;
	}
}

static uint64_t wall_us(void)
{
	return bench_wall_ns() / 1000u;
}

static int write_all(int fd, const void *p, size_t n)
{
	return write(fd, p, n) == (ssize_t)n ? 0 : -1;
}

static int read_all(int fd, void *p, size_t n)
{
	return read(fd, p, n) == (ssize_t)n ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* The path: three namespaces and the bridge.                         */

struct wan_ns {
	char br[32], a[32], b[32];
	char log[64]; /* the bridge's output */
	pid_t bridge;
};

static void ns_down(struct wan_ns *n)
{
	if (n->bridge > 0) {
		kill(n->bridge, SIGTERM);
		waitpid(n->bridge, NULL, 0);
		n->bridge = 0;
	}
	bench_sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; "
	         "ip netns del %s 2>/dev/null",
	         n->br, n->a, n->b);
}

/* In the child: the bridge on wa and wb in BR, its output into the log. */
static void bridge_child(const struct wan_ns *n, const struct wan_path *p)
{
	if (bench_join_netns(n->br) < 0 || !freopen(n->log, "w", stdout) ||
	    dup2(fileno(stdout), 2) < 0)
		_exit(2);
	struct bridge_opts o;
	bridge_opts_default(&o);
	o.dev[0] = "wa";
	o.dev[1] = "wb";
	o.json = 1;
	for (int d = 0; d < 2; d++) {
		o.dir[d].loss = p->loss;
		o.dir[d].dup = p->dup;
		o.dir[d].reorder = p->reorder;
		o.dir[d].delay_ms = p->rtt_ms / 2;
		o.dir[d].bw_mbps = p->rate_mbps;
		o.dir[d].have_bw = 1;
		o.dir[d].queue_pkts = p->queue;
	}
	/* Room for the queue and the delay line of 1 Gbit/s and 200 ms. */
	o.limit_pkts = 1u << 17;
	o.limit_bytes = 256ull << 20;
	_exit(bridge_main(&o));
}

/* Builds the path; synack: the sender is a synack stack on ws. */
static int ns_up(struct wan_ns *n, const struct wan_path *p, int synack)
{
	static unsigned seq;
	int id = (int)getpid();
	memset(n, 0, sizeof(*n));
	snprintf(n->br, sizeof(n->br), "sbwan-br-%d-%u", id, seq);
	snprintf(n->a, sizeof(n->a), "sbwan-a-%d-%u", id, seq);
	snprintf(n->b, sizeof(n->b), "sbwan-b-%d-%u", id, seq++);
	snprintf(n->log, sizeof(n->log), "/tmp/%s.log", n->br);
	const char *ns[3] = {n->br, n->a, n->b};
	for (int i = 0; i < 3; i++)
		if (bench_sh(
		        "ip netns add %s && ip -n %s link set lo up && ip netns exec %s sysctl "
		        "-qw net.ipv6.conf.all.disable_ipv6=1 "
		        "net.ipv6.conf.default.disable_ipv6=1",
		        ns[i], ns[i], ns[i]) != 0)
			return -1;
	if (bench_sh("ip -n %s tuntap add dev wa mode tap && ip -n %s tuntap add dev wb mode tap",
	             n->br, n->br) != 0)
		return -1;
	/* --wan-buffers bdp: the kernel's bounds in the sender's and the
	 * receiver's namespace (per namespace since Linux 4.15). */
	for (int i = 1; p->buf_max && i < 3; i++)
		if (bench_sh("ip netns exec %s sysctl -qw 'net.ipv4.tcp_rmem=" LINUX_RMEM " %u' "
		             "'net.ipv4.tcp_wmem=" LINUX_WMEM " %u'",
		             ns[i], p->buf_max, p->buf_max) != 0)
			return -1;
	fflush(NULL);
	n->bridge = fork();
	if (n->bridge == 0)
		bridge_child(n, p);
	if (n->bridge < 0)
		return -1;
	/* The bridge says it forwards once both devices are open. */
	int ready = 0;
	for (int i = 0; i < 100 && !ready; i++) {
		char line[256] = "";
		FILE *f = fopen(n->log, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "synack bridge: forwarding"))
				ready = 1;
		if (f)
			fclose(f);
		if (!ready)
			usleep(50000);
	}
	if (!ready)
		return -1;
	if (bench_sh("ip -n %s link set wa netns %s && ip -n %s link set wb netns %s && "
	             "ip -n %s addr add 10.203.0.2/24 dev wb && ip -n %s link set wb up",
	             n->br, n->a, n->br, n->b, n->b, n->b) != 0)
		return -1;
	if (!synack)
		return bench_sh("ip -n %s addr add 10.203.0.1/24 dev wa && ip -n %s link set wa up",
		                n->a, n->a) == 0
		           ? 0
		           : -1;
	return bench_sh("ip -n %s link add wbr type bridge && ip -n %s link set wa master wbr && "
	                "ip -n %s tuntap add dev ws mode tap && ip -n %s link set ws master wbr && "
	                "ip -n %s link set wbr up && ip -n %s link set wa up && "
	                "ip -n %s link set ws up",
	                n->a, n->a, n->a, n->a, n->a, n->a, n->a) == 0
	           ? 0
	           : -1;
}

/* A number of the bridge's final JSON line: dir "a_to_b", key "lost". */
static uint64_t bridge_stat(const struct wan_ns *n, const char *dir, const char *key)
{
	char line[2048], last[2048] = "";
	FILE *f = fopen(n->log, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "\"final\":true"))
			snprintf(last, sizeof(last), "%s", line);
	if (f)
		fclose(f);
	char want[64];
	snprintf(want, sizeof(want), "\"%s\":{", dir);
	const char *p = strstr(last, want);
	snprintf(want, sizeof(want), "\"%s\":", key);
	p = p ? strstr(p, want) : NULL;
	return p ? strtoull(p + strlen(want), NULL, 10) : 0;
}

/* Frames the kernel dropped on the path's TAP devices (their tx_dropped
 * and rx_dropped: wa and ws in A, wb in B), so outside the bridge's
 * impairments: a loaded host whose forwarder or synack process falls
 * behind overflows a device's queue.  Read before the namespaces go. */
static uint64_t host_drops(const struct wan_ns *n)
{
	static const char *const where[][2] = {{"a", "wa"}, {"a", "ws"}, {"b", "wb"}};
	static const char *const stat[] = {"tx_dropped", "rx_dropped"};
	uint64_t sum = 0;
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		for (size_t k = 0; k < 2; k++) {
			char cmd[160], line[64];
			snprintf(cmd, sizeof(cmd),
			         "ip netns exec %s cat /sys/class/net/%s/statistics/%s 2>/dev/null",
			         where[i][0][0] == 'a' ? n->a : n->b, where[i][1], stat[k]);
			FILE *f = popen(cmd, "r");
			if (f && fgets(line, sizeof(line), f))
				sum += strtoull(line, NULL, 10);
			if (f)
				pclose(f);
		}
	return sum;
}

/* ------------------------------------------------------------------ */
/* The kernel's receiver and sender.                                  */

static void rx_child(const char *ns, const struct bench_opts *o, int ready_fd, int res_fd)
{
	static unsigned char buf[1 << 18];
	int one = 1;
	if (bench_join_netns(ns) < 0)
		_exit(1);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(WAN_PORT), .sin_addr.s_addr = htonl(WAN_B)};
	struct timeval tv = {30, 0};
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 ||
	    write_all(ready_fd, "r", 1) < 0)
		_exit(1);
	int s = accept(l, NULL, NULL);
	struct window w = {.skip_us = (uint64_t)(o->wan_skip_s * 1e6),
	                   .end_us = (uint64_t)(o->wan_duration_s * 1e6)};
	struct rx_end end = {0, 1};
	uint64_t t0 = wall_us();
	ssize_t n = -1;
	if (s >= 0) {
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while ((n = recv(s, buf, sizeof(buf), 0)) > 0) {
			end.exact &= payload_check(buf, (size_t)n, end.bytes);
			end.bytes += (uint64_t)n;
			int was = w.done;
			window_see(&w, wall_us() - t0, end.bytes);
			if (w.done && !was && write_all(res_fd, &w.w, sizeof(w.w)) < 0)
				_exit(1);
		}
	}
	if (!w.done) {
		struct rx_window none = {0, 0};
		if (write_all(res_fd, &none, sizeof(none)) < 0)
			_exit(1);
	}
	end.exact &= n == 0;
	if (s >= 0)
		close(s);
	_exit(write_all(res_fd, &end, sizeof(end)) < 0);
}

static void linux_tx_child(const char *ns, const char *cc, int stop_fd, int res_fd)
{
	struct tx_out out = {0, 0, 0, 0, "?"};
	if (bench_join_netns(ns) < 0)
		_exit(1);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	/* Linux sends with CUBIC, as the issue compares: a new namespace
	 * takes the host's default algorithm, which may be another (bbr on
	 * the machine of docs/PERFORMANCE.md, which ignores random loss).
	 * --wan-linux-cc picks another; the row's note says which ran. */
	if (setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) != 0)
		fprintf(stderr, "synack-bench: wan: Linux sends with its default algorithm (%s)\n",
		        strerror(errno));
	socklen_t cclen = sizeof(out.cc) - 1;
	if (getsockopt(s, IPPROTO_TCP, TCP_CONGESTION, out.cc, &cclen) != 0)
		snprintf(out.cc, sizeof(out.cc), "?");
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(WAN_PORT), .sin_addr.s_addr = htonl(WAN_B)};
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		struct pollfd p[2] = {{s, POLLOUT, 0}, {stop_fd, POLLIN, 0}};
		for (;;) {
			if (poll(p, 2, -1) < 0 && errno != EINTR)
				break;
			if (p[1].revents)
				break;
			ssize_t n = send(s, payload_at(out.sent), CHUNK, MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				break;
			if (n > 0)
				out.sent += (uint64_t)n;
		}
		/* The receiver closes once it has read everything: then every
		 * byte was acknowledged and the retransmissions are final. */
		char c;
		struct timeval tv = {60, 0};
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		shutdown(s, SHUT_WR);
		ssize_t r = recv(s, &c, 1, 0);
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		memset(&ti, 0, sizeof(ti));
		if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
			out.retrans_bytes = ti.tcpi_bytes_retrans;
			out.retrans_segs = ti.tcpi_total_retrans;
		}
		out.ok = r == 0;
	}
	close(s);
	_exit(write_all(res_fd, &out, sizeof(out)) < 0);
}

/* synack on the TAP device ws: a stack, a link and the run loop. */
static void synack_tx_child(const char *ns, const struct wan_path *wp, int stop_fd, int res_fd)
{
	struct tx_out out = {0, 0, 0, 0, "synack"};
	struct bench_tap_stack t;
	struct synack_config cfg;
	wan_config(&cfg, wp);
	bench_tap_stack_open_cfg(&t, "wan", ns, "ws", WAN_A, 1, &cfg);
	struct synack_stack *st = t.st;
	struct synack_run *r = t.r;
	struct synack_endpoint peer = {.addr = WAN_B, .port = WAN_PORT};
	int s = synack_run_connect(r, &peer, 10000);
	if (s >= 0) {
		struct pollfd p = {stop_fd, POLLIN, 0};
		int failed = 0;
		uint64_t t0 = wall_us(), next = 0;
		while (!failed && poll(&p, 1, 0) == 0) {
			if (wp->trace && wall_us() - t0 >= next) {
				wan_trace_line(st, s, (double)(wall_us() - t0) / 1e6);
				next += 1000000;
			}
			ssize_t n;
			while ((n = synack_send(st, s, payload_at(out.sent), CHUNK)) > 0)
				out.sent += (uint64_t)n;
			failed = n != -EAGAIN;
			synack_run_once(r, 10000);
		}
		struct synack_tcp_info ti;
		synack_tcp_info(st, s, &ti);
		/* FIN, then until CLOSED or TIME_WAIT: everything acknowledged. */
		out.ok = !failed && synack_run_close(r, s, 60000) == 0;
		struct synack_stats stats;
		synack_stats(st, &stats);
		out.retrans_segs = stats.RetransSegs;
		out.retrans_bytes = ti.bytes_retrans; /* counted, not segments x MSS */
	}
	bench_tap_stack_close(&t);
	_exit(write_all(res_fd, &out, sizeof(out)) < 0);
}

/* ------------------------------------------------------------------ */
/* One run across the bridge, and one in the simulator.               */

struct wan_result {
	double goodput_mbps;
	uint64_t bytes, retrans_bytes, retrans_segs;
	int exact;
};

/* Linux (synack 0) or synack (1) sending to the kernel across the bridge. */
static int run_bridged(const struct bench_opts *o, const struct wan_path *p, int synack,
                       struct wan_result *res, char *note, size_t notelen)
{
	struct wan_ns n;
	struct tx_out out = {0, 0, 0, 0, ""};
	int rc = -1;
	int ready[2] = {-1, -1}, rx[2] = {-1, -1}, stop[2] = {-1, -1}, tx[2] = {-1, -1};
	pid_t rxp = -1, txp = -1;
	memset(res, 0, sizeof(*res));
	if (ns_up(&n, p, synack) != 0) {
		snprintf(note, notelen, "could not build the namespaces and the bridge");
		goto out;
	}
	if (pipe(ready) < 0 || pipe(rx) < 0 || pipe(stop) < 0 || pipe(tx) < 0)
		goto out;
	fflush(NULL);
	rxp = fork();
	if (rxp == 0)
		rx_child(n.b, o, ready[1], rx[1]);
	char c;
	if (rxp < 0 || read(ready[0], &c, 1) != 1)
		goto out;
	txp = fork();
	if (txp == 0) {
		if (synack)
			synack_tx_child(n.a, p, stop[0], tx[1]);
		linux_tx_child(n.a, o->wan_linux_cc, stop[0], tx[1]);
	}
	if (txp < 0)
		goto out;
	struct rx_window w;
	struct rx_end end;
	int got_w = read_all(rx[0], &w, sizeof(w)) == 0;
	if (write_all(stop[1], "s", 1) < 0)
		goto out;
	int got_tx = read_all(tx[0], &out, sizeof(out)) == 0;
	int got_end = read_all(rx[0], &end, sizeof(end)) == 0;
	if (!got_w || !got_tx || !got_end || !w.us) {
		snprintf(note, notelen, "the transfer did not last the measured window");
		goto out;
	}
	res->goodput_mbps = (double)w.bytes * 8 / (double)w.us;
	res->bytes = end.bytes;
	res->retrans_bytes = out.retrans_bytes;
	res->retrans_segs = out.retrans_segs;
	res->exact = end.exact && out.ok && end.bytes == out.sent;
	rc = 0;
out:
	if (txp > 0)
		waitpid(txp, NULL, 0);
	if (rxp > 0)
		waitpid(rxp, NULL, 0);
	uint64_t dropped = rc == 0 ? host_drops(&n) : 0;
	ns_down(&n);
	if (rc == 0)
		snprintf(note, notelen,
		         "%s%s%sbridge a->b: %llu frames out, %llu lost, %llu queue drops (most "
		         "queued %llu), %llu limit drops; b->a: %llu lost; host drops %llu",
		         synack ? "" : "linux cc ", synack ? "" : out.cc, synack ? "" : "; ",
		         (unsigned long long)bridge_stat(&n, "a_to_b", "frames_out"),
		         (unsigned long long)bridge_stat(&n, "a_to_b", "lost"),
		         (unsigned long long)bridge_stat(&n, "a_to_b", "queue_drops"),
		         (unsigned long long)bridge_stat(&n, "a_to_b", "queue_max"),
		         (unsigned long long)bridge_stat(&n, "a_to_b", "limit_drops"),
		         (unsigned long long)bridge_stat(&n, "b_to_a", "lost"),
		         (unsigned long long)dropped);
	unlink(n.log);
	int fds[] = {ready[0], ready[1], rx[0], rx[1], stop[0], stop[1], tx[0], tx[1]};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return rc;
}

/* synack to synack in the simulator, the same path on the virtual clock. */
static int run_sim(const struct bench_opts *o, const struct wan_path *p, struct wan_result *res)
{
	static unsigned char buf[1 << 16];
	struct synack_stack *st[2] = {NULL, NULL};
	struct synack_sim *sim = synack_sim_new(1);
	int rc = -1, host[2];
	memset(res, 0, sizeof(*res));
	for (int h = 0; h < 2; h++) {
		struct synack_config cfg;
		wan_config(&cfg, p);
		cfg.addr = h ? WAN_B : WAN_A;
		for (int i = 0; i < 16; i++)
			cfg.secret[i] = (uint8_t)(0x31 * (h + 1) + i);
		st[h] = synack_stack_new(&cfg, NULL);
		if (!sim || !st[h])
			goto out;
		host[h] = synack_sim_add_host(sim, st[h], h ? "receiver" : "sender");
	}
	struct synack_sim_path path;
	memset(&path, 0, sizeof(path));
	path.loss = p->loss;
	path.dup = p->dup;
	path.reorder = p->reorder;
	path.delay_us = p->rtt_ms * 1000 / 2;
	path.rate_bps = (uint64_t)(p->rate_mbps * 1e6);
	path.queue_pkts = p->queue;
	synack_sim_set_path(sim, host[0], host[1], &path);
	synack_sim_set_path(sim, host[1], host[0], &path);
	struct synack_endpoint ep = {.addr = WAN_B, .port = WAN_PORT};
	int ls = synack_socket(st[1]), cs = synack_socket(st[0]), ss = -1;
	if (synack_bind(st[1], ls, &ep) < 0 || synack_listen(st[1], ls, 1) < 0)
		goto out;
	int err = synack_connect(st[0], cs, &ep);
	if (err != -EINPROGRESS && err != 0)
		goto out;
	while (ss < 0 && synack_sim_step(sim) != SYNACK_NEVER && synack_sim_now(sim) < 60000000u)
		ss = synack_accept(st[1], ls, NULL);
	if (ss < 0)
		goto out;
	struct window w = {.skip_us = (uint64_t)(o->wan_skip_s * 1e6),
	                   .end_us = (uint64_t)(o->wan_duration_s * 1e6)};
	uint64_t t0 = synack_sim_now(sim), sent = 0, got = 0, next = 0;
	int exact = 1;
	while (!w.done) {
		if (p->trace && synack_sim_now(sim) - t0 >= next) {
			fprintf(stderr, "(sim) ");
			wan_trace_line(st[0], cs, (double)(synack_sim_now(sim) - t0) / 1e6);
			next += 1000000;
		}
		ssize_t n;
		while ((n = synack_send(st[0], cs, payload_at(sent), CHUNK)) > 0)
			sent += (uint64_t)n;
		if (synack_sim_step(sim) == SYNACK_NEVER)
			break;
		while ((n = synack_recv(st[1], ss, buf, sizeof(buf), 0)) > 0) {
			exact &= payload_check(buf, (size_t)n, got);
			got += (uint64_t)n;
		}
		window_see(&w, synack_sim_now(sim) - t0, got);
	}
	struct synack_tcp_info ti;
	struct synack_stats stats;
	synack_tcp_info(st[0], cs, &ti);
	synack_stats(st[0], &stats);
	if (w.done && w.w.us) {
		res->goodput_mbps = (double)w.w.bytes * 8 / (double)w.w.us;
		res->bytes = got;
		res->retrans_segs = stats.RetransSegs;
		res->retrans_bytes = ti.bytes_retrans;
		/* Every byte read was the payload in order; the rest is in
		 * flight when the window closes. */
		res->exact = exact && got <= sent;
		rc = 0;
	}
out:
	synack_sim_free(sim);
	for (int h = 0; h < 2; h++)
		synack_stack_free(st[h]);
	return rc;
}

/* ------------------------------------------------------------------ */

static void report(const char *impl, const char *prefix, const char *variant,
                   const struct wan_result *r, const char *note)
{
	char m[32];
	if (!r->exact) {
		snprintf(m, sizeof(m), "%sgoodput_mbps", prefix);
		res_skip("wan", impl, variant, m, "the transfer was not byte-exact");
		return;
	}
	snprintf(m, sizeof(m), "%sgoodput_mbps", prefix);
	if (note && note[0])
		res_add_note("wan", impl, variant, m, r->goodput_mbps, "%s", note);
	else
		res_add("wan", impl, variant, m, r->goodput_mbps);
	snprintf(m, sizeof(m), "%sretrans_bytes", prefix);
	res_add("wan", impl, variant, m, (double)r->retrans_bytes);
	snprintf(m, sizeof(m), "%sretrans_pct", prefix);
	res_add("wan", impl, variant, m,
	        r->bytes ? 100.0 * (double)r->retrans_bytes / (double)r->bytes : 0);
}

static void wan_point(const struct bench_opts *o, double rate, uint32_t rtt, double loss)
{
	struct wan_path p = {.rate_mbps = rate,
	                     .rtt_ms = rtt,
	                     .loss = loss,
	                     .queue = o->wan_queue,
	                     .dup = o->wan_dup,
	                     .reorder = o->wan_reorder,
	                     .set = o->wan_set,
	                     .nset = o->wan_nset,
	                     .trace = o->wan_trace};
	if (o->wan_buffers_bdp) {
		/* 2 x BDP in bytes, at most 1 GiB (synack's bound on them). */
		double b = 2 * rate * 1e6 / 8 * rtt / 1000;
		p.buf_max = b > (double)(1u << 30) ? 1u << 30 : (uint32_t)b;
	}
	if (!p.queue) {
		/* One bandwidth-delay product of full-sized packets, at least 10. */
		double bdp = rate * 1e6 / 8 * rtt / 1000 / (MSS_GUESS + 52);
		p.queue = bdp < 10 ? 10 : (uint32_t)bdp;
	}
	char variant[32], note[512], sets[256];
	wan_set_note(&p, sets, sizeof(sets));
	int n = snprintf(variant, sizeof(variant), "%gM-%ums-%g%%", rate, rtt, loss * 100);
	if (p.dup > 0 || p.reorder > 0)
		snprintf(variant + n, sizeof(variant) - (size_t)n, "-d%g%%-r%g%%", p.dup * 100,
		         p.reorder * 100);
	struct wan_result r;
	if (o->run_synack) {
		if (run_sim(o, &p, &r) == 0) {
			bench_log("wan %s sim: %.1f Mbit/s, %llu bytes retransmitted", variant,
			          r.goodput_mbps, (unsigned long long)r.retrans_bytes);
			if (p.buf_max)
				snprintf(note, sizeof(note),
				         "buffers 2 x BDP: rmem_max/wmem_max %u%s", p.buf_max,
				         sets);
			else
				snprintf(note, sizeof(note), "%s", sets[0] ? sets + 2 : "");
			report("synack", "sim_", variant, &r, note);
		} else {
			res_skip("wan", "synack", variant, "sim_goodput_mbps",
			         "the simulated transfer failed");
		}
	}
	for (int synack = 0; synack <= 1; synack++) {
		const char *impl = synack ? "synack" : "linux";
		if (synack ? !o->run_synack : !o->run_linux)
			continue;
		if (geteuid() != 0) {
			res_skip("wan", impl, variant, "goodput_mbps",
			         "skipped (needs root: namespaces and TAP devices)");
			continue;
		}
		note[0] = 0;
		if (run_bridged(o, &p, synack, &r, note, sizeof(note)) != 0) {
			res_skip("wan", impl, variant, "goodput_mbps", "%s", note);
			continue;
		}
		bench_log("wan %s %s: %.1f Mbit/s, %llu bytes retransmitted (%s)", variant, impl,
		          r.goodput_mbps, (unsigned long long)r.retrans_bytes, note);
		char full[1024], bufs[96] = "";
		if (p.buf_max)
			snprintf(
			    bufs, sizeof(bufs),
			    "buffers 2 x BDP: tcp_rmem/tcp_wmem max and rmem_max/wmem_max %u; ",
			    p.buf_max);
		snprintf(full, sizeof(full), "queue %u packets; %s%s%s", p.queue, bufs, note,
		         synack ? sets : "");
		report(impl, "", variant, &r, full);
	}
}

void bench_wan(const struct bench_opts *o)
{
	payload_init();
	if (!o->wan_matrix) {
		wan_point(o, o->wan_rate_mbps, o->wan_rtt_ms, o->wan_loss);
		return;
	}
	static const double rates[] = {100, 1000};
	static const uint32_t rtts[] = {20, 100, 200};
	static const double losses[] = {0, 0.001, 0.01};
	for (size_t i = 0; i < 2; i++)
		for (size_t j = 0; j < 3; j++)
			for (size_t k = 0; k < 3; k++)
				wan_point(o, rates[i], rtts[j], losses[k]);
}
