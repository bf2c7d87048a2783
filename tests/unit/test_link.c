/*
 * Links and the run loop without a device or privileges: two stacks, each
 * on a TAP link, the two links joined by a socketpair (one datagram per
 * frame, as a TAP descriptor reads and writes).  They announce themselves,
 * resolve each other with ARP, connect, move data both ways and close,
 * driven by two run loops turned alternately without sleeping.  Nothing
 * here asserts a time; the turns are only bounded.  Also: the settings'
 * bounds and the errors of opening a device by a bad name.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "script.h"
#include "synack/link.h"
#include "synack/pcap.h"
#include "synack/run.h"

#define TURNS 200000

struct host {
	struct synack_link *link;
	struct synack_stack *st;
	struct synack_run *run;
};

/* 2001:db8::N beside 10.7.0.N when v6 (issue 14 item 3). */
static void host_open6(struct host *h, int fd, uint32_t addr, const char *pcap, int v6)
{
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = addr;
	uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = (uint8_t)addr};
	if (v6)
		memcpy(lc.addr6, a6, 16);
	char err[160];
	CHECK_EQ(synack_link_open_fd(&h->link, SYNACK_LINK_TAP, fd, "pair", &lc, err, sizeof(err)),
	         0);
	if (pcap)
		CHECK_EQ(synack_link_set_pcap(h->link, pcap, err, sizeof(err)), 0);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = addr;
	cfg.secret[0] = (uint8_t)addr;
	if (v6)
		memcpy(cfg.addr6, a6, 16);
	h->st = synack_stack_new(&cfg, NULL);
	CHECK(h->st != NULL);
	int e;
	h->run = synack_run_new(h->st, h->link, &e);
	CHECK(h->run != NULL);
}

static void host_open(struct host *h, int fd, uint32_t addr, const char *pcap)
{
	host_open6(h, fd, addr, pcap, 0);
}

static void host_close(struct host *h)
{
	synack_run_free(h->run);
	synack_stack_free(h->st);
	synack_link_close(h->link);
}

static void turn_both(struct host *a, struct host *b)
{
	CHECK_EQ(synack_run_once(a->run, 0), 0);
	CHECK_EQ(synack_run_once(b->run, 0), 0);
}

/* Over IPv4 (ARP) or IPv6 (neighbour discovery, issue 14 item 3). */
static void two_stacks_over_tap_links(int v6)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	char pcap[] = "/tmp/synack_test_link_XXXXXX";
	int pfd = mkstemp(pcap);
	CHECK(pfd >= 0);
	close(pfd);
	struct host a, b;
	host_open6(&a, sv[0], 0x0a070002, pcap, v6);
	host_open6(&b, sv[1], 0x0a070001, NULL, v6);

	int l = synack_run_listen(b.run, 80, 16);
	CHECK(l >= 0);
	synack_advance(a.st, synack_run_now(a.run));
	int s = synack_socket(a.st);
	struct synack_endpoint peer = {.addr = 0x0a070001, .port = 80};
	if (v6) {
		peer = (struct synack_endpoint){.family = SYNACK_AF_INET6, .port = 80};
		synack_stack_addr6(b.st, peer.addr6);
	}
	CHECK_EQ(synack_connect(a.st, s, &peer), -EINPROGRESS);
	int c = -1;
	for (int i = 0; i < TURNS && c < 0; i++) {
		turn_both(&a, &b);
		c = synack_accept(b.st, l, NULL);
	}
	CHECK(c >= 0);
	for (int i = 0; i < TURNS && !(synack_events(a.st, s) & SYNACK_POLLOUT); i++)
		turn_both(&a, &b);
	CHECK(synack_events(a.st, s) & SYNACK_POLLOUT);

	/* 200 KB from a to b, more than the windows hold. */
	static uint8_t out[200000], in[200000];
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + i / 256);
	size_t sent = 0, got = 0;
	for (int i = 0; i < TURNS && got < sizeof(in); i++) {
		if (sent < sizeof(out)) {
			ssize_t n = synack_send(a.st, s, out + sent, sizeof(out) - sent);
			if (n > 0)
				sent += (size_t)n;
		}
		turn_both(&a, &b);
		ssize_t n = synack_recv(b.st, c, in + got, sizeof(in) - got, 0);
		if (n > 0)
			got += (size_t)n;
	}
	CHECK_EQ(got, sizeof(in));
	CHECK(memcmp(in, out, sizeof(in)) == 0);

	/* a closes first and ends in TIME_WAIT, b in CLOSED. */
	struct synack_endpoint la;
	synack_getsockname(a.st, s, &la);
	CHECK_EQ(synack_close(a.st, s), 0);
	int b_closed = 0;
	for (int i = 0; i < TURNS; i++) {
		turn_both(&a, &b);
		if (!b_closed && synack_recv(b.st, c, in, sizeof(in), 0) == 0) {
			synack_close(b.st, c);
			b_closed = 1;
		}
		if (b_closed && synack_run_conn_state(a.run, &la, &peer) == SYNACK_TIME_WAIT &&
		    synack_run_conn_state(b.run, &peer, &la) == SYNACK_CLOSED)
			break;
	}
	CHECK_EQ(synack_run_conn_state(a.run, &la, &peer), SYNACK_TIME_WAIT);
	CHECK_EQ(synack_run_conn_state(b.run, &peer, &la), SYNACK_CLOSED);

	struct synack_link_stats sa, sb;
	synack_link_stats(a.link, &sa);
	synack_link_stats(b.link, &sb);
	CHECK_EQ_U64(sa.arp_gratuitous_out, 1);
	CHECK_EQ_U64(sb.arp_gratuitous_out, 1);
	if (!v6) {
		/* a asked for b; b learnt a from the request and never needed
		 * to ask. */
		CHECK_EQ_U64(sa.arp_requests_out, 1);
		CHECK_EQ_U64(sb.arp_replies_out, 1);
		CHECK_EQ_U64(sb.arp_requests_out, 0);
		CHECK_EQ_U64(sa.nd_solicits_out, 0);
	} else {
		/* a solicited b, which answered and learnt a (STALE) from the
		 * solicitation; no ARP at all, every datagram IPv6.  (b may
		 * probe a later: its entry is only STALE; time is real.) */
		CHECK_EQ_U64(sa.arp_requests_out, 0);
		CHECK(sa.nd_solicits_out >= 1 && sb.nd_adverts_out >= 1);
		CHECK_EQ_U64(sa.nd_resolved, 1);
		CHECK_EQ_U64(sb.nd_entries, 1);
		CHECK(sa.datagrams6_out > 0 && sa.datagrams6_out == sa.datagrams_out);
		CHECK_EQ_U64(sb.datagrams6_in, sb.datagrams_in);
		uint8_t mac[6], a6[16];
		synack_stack_addr6(b.st, a6);
		CHECK_EQ(synack_link_neigh6(a.link, a6, mac), 2); /* REACHABLE */
		uint8_t bmac[6];
		synack_link_mac(b.link, bmac);
		CHECK(memcmp(mac, bmac, 6) == 0);
	}
	CHECK_EQ_U64(sa.frames_out, sb.frames_in);
	CHECK_EQ_U64(sb.frames_out, sa.frames_in);
	CHECK(sa.datagrams_out > 0 && sa.datagrams_out == sb.datagrams_in);
	host_close(&a);
	host_close(&b);

	/* The capture holds every frame a saw, the announcement first. */
	FILE *f = fopen(pcap, "rb");
	CHECK(f != NULL);
	uint8_t hdr[24], rec[16], frame[2048];
	CHECK_EQ(fread(hdr, 1, 24, f), 24);
	uint32_t linktype;
	memcpy(&linktype, hdr + 20, 4);
	CHECK_EQ_U64(linktype, SYNACK_PCAP_LINKTYPE_ETHERNET);
	uint64_t records = 0;
	while (fread(rec, 1, 16, f) == 16) {
		uint32_t caplen;
		memcpy(&caplen, rec + 8, 4);
		CHECK(caplen <= sizeof(frame));
		if (caplen > sizeof(frame) || fread(frame, 1, caplen, f) != caplen)
			break;
		if (records == 0) /* ARP, or over IPv6 perhaps the solicitation */
			CHECK((frame[12] == 0x08 && frame[13] == 0x06) ||
			      (v6 && frame[12] == 0x86 && frame[13] == 0xdd));
		records++;
	}
	fclose(f);
	CHECK_EQ_U64(records, sa.frames_in + sa.frames_out);
	unlink(pcap);
}

static void two_stacks_over_tap_links_resolve_connect_and_close(void)
{
	two_stacks_over_tap_links(0);
}

static void two_stacks_over_tap_links_resolve_connect_and_close_ipv6(void)
{
	two_stacks_over_tap_links(1);
}

static void blocking_helper_times_out_and_wake_interrupts(void)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	struct host a;
	host_open(&a, sv[0], 0x0a070002, NULL);
	int l = synack_run_listen(a.run, 7, 4);
	CHECK(l >= 0);
	/* Nobody connects: the accept gives up when its timeout passes. */
	CHECK_EQ(synack_run_accept(a.run, l, NULL, 0), -EAGAIN);
	synack_run_wake(a.run);
	CHECK_EQ(synack_run_accept(a.run, l, NULL, -1), -EINTR);
	/* Off the prefix: refused before anything is sent. */
	struct synack_endpoint far = {.addr = 0x0a080001, .port = 7};
	CHECK_EQ(synack_run_connect(a.run, &far, 0), -ENETUNREACH);
	host_close(&a);
	close(sv[1]);
}

static void settings_are_bounds_checked(void)
{
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	char err[160];
	CHECK_EQ(synack_link_config_check(&lc, err, sizeof(err)), -EINVAL); /* no address */
	lc.addr = 0x0a070002;
	CHECK_EQ(synack_link_config_check(&lc, err, sizeof(err)), 0);
	struct {
		uint32_t *field;
		uint32_t bad_low, bad_high;
		const char *name;
	} cases[] = {
	    {&lc.prefix_len, 0, 33, "prefix_len"},
	    {&lc.arp_lifetime_ms, 0, 86400001, "arp_lifetime_ms"},
	    {&lc.arp_retry_ms, 9, 60001, "arp_retry_ms"},
	    {&lc.arp_retries, 0, 101, "arp_retries"},
	    {&lc.arp_queue_len, UINT32_MAX, 1025, "arp_queue_len"},
	    {&lc.arp_cache_max, 0, 65537, "arp_cache_max"},
	    {&lc.read_batch, 0, 65537, "read_batch"},
	    {&lc.txqueuelen, UINT32_MAX, 1000001, "txqueuelen"},
	    /* IPv6 (issue 14 item 3). */
	    {&lc.prefix6_len, 0, 129, "prefix6_len"},
	    {&lc.nd_reachable_ms, 0, 3600001, "nd_reachable_ms"},
	    {&lc.nd_retrans_ms, 9, 60001, "nd_retrans_ms"},
	    {&lc.nd_delay_first_probe_ms, 0, 60001, "nd_delay_first_probe_ms"},
	    {&lc.nd_max_multicast_solicit, 0, 101, "nd_max_multicast_solicit"},
	    {&lc.nd_max_unicast_solicit, 0, 101, "nd_max_unicast_solicit"},
	    {&lc.nd_queue_len, UINT32_MAX, 1025, "nd_queue_len"},
	    {&lc.nd_cache_max, 0, 65537, "nd_cache_max"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t keep = *cases[i].field;
		if (cases[i].bad_low != UINT32_MAX) {
			*cases[i].field = cases[i].bad_low;
			CHECK_EQ(synack_link_config_check(&lc, err, sizeof(err)), -EINVAL);
			CHECK(strstr(err, cases[i].name) != NULL);
		}
		*cases[i].field = cases[i].bad_high;
		CHECK_EQ(synack_link_config_check(&lc, err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, cases[i].name) != NULL);
		*cases[i].field = keep;
	}
	CHECK_EQ(synack_link_config_check(&lc, err, sizeof(err)), 0);
	lc.addr6[0] = 0xff; /* multicast */
	CHECK_EQ(synack_link_config_check(&lc, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "addr6") != NULL);
	memset(lc.addr6, 0, 16);
	lc.gw6[15] = 1; /* ::1 */
	CHECK_EQ(synack_link_config_check(&lc, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "gw6") != NULL);
}

static void bad_device_names_fail_before_opening(void)
{
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = 0x0a070002;
	struct synack_link *l = (struct synack_link *)&lc;
	char err[160];
	const char *bad[] = {"", "a-name-far-too-long", "tap/0", "tap 0", "tap%d", ".."};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(synack_link_open(&l, SYNACK_LINK_TAP, bad[i], &lc, err, sizeof(err)),
		         -EINVAL);
		CHECK(l == NULL);
		CHECK(strstr(err, "bad device name") != NULL);
	}
	CHECK_EQ(synack_link_open(&l, 7, "tap0", &lc, err, sizeof(err)), -EINVAL);
	CHECK_EQ(synack_link_open_fd(&l, SYNACK_LINK_TUN, -1, "x", &lc, err, sizeof(err)), -EINVAL);
}

/* synack_run_watch_signals takes signal numbers (run.h needs no POSIX
 * type): bad arguments are refused before anything is blocked, a good set
 * is watched, and watching adds to what was watched. */
static void watch_signals_refuses_bad_arguments(void)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	struct host h;
	host_open(&h, sv[0], 0x0a000001, NULL);
	int usr[] = {SIGUSR1, SIGUSR2};
	int kill_sig[] = {SIGKILL};
	int stop_sig[] = {SIGSTOP};
	int bad[] = {0, -1, 100000};
	CHECK_EQ(synack_run_watch_signals(NULL, usr, 1), -EINVAL);
	CHECK_EQ(synack_run_watch_signals(h.run, NULL, 1), -EINVAL);
	CHECK_EQ(synack_run_watch_signals(h.run, usr, SYNACK_RUN_MAX_SIGNALS + 1), -EINVAL);
	CHECK_EQ(synack_run_watch_signals(h.run, kill_sig, 1), -EINVAL);
	CHECK_EQ(synack_run_watch_signals(h.run, stop_sig, 1), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(synack_run_watch_signals(h.run, &bad[i], 1), -EINVAL);
	CHECK_EQ(synack_run_watch_signals(h.run, NULL, 0), 0);
	CHECK_EQ(synack_run_watch_signals(h.run, &usr[0], 1), 0);
	CHECK_EQ(synack_run_watch_signals(h.run, &usr[1], 1), 0);
	/* Both are watched: raised, each is taken in turn, not delivered. */
	CHECK_EQ(raise(SIGUSR1), 0);
	CHECK_EQ(raise(SIGUSR2), 0);
	CHECK_EQ(synack_run_once(h.run, 0), -EINTR);
	int a = synack_run_take_signal(h.run), b = synack_run_take_signal(h.run);
	CHECK((a == SIGUSR1 && b == SIGUSR2) || (a == SIGUSR2 && b == SIGUSR1));
	CHECK_EQ(synack_run_take_signal(h.run), 0);
	host_close(&h);
	close(sv[1]);
}

/* A SYN from 10.7.0.1:port to 10.7.0.2:7, as the kernel would write it to
 * a TUN device. */
static size_t build_syn(uint8_t *p, uint16_t port)
{
	memset(p, 0, 40);
	p[0] = 0x45;
	p[3] = 40;
	p[8] = 64;
	p[9] = 6;
	const uint8_t addrs[8] = {10, 7, 0, 1, 10, 7, 0, 2};
	memcpy(p + 12, addrs, 8);
	p[20] = (uint8_t)(port >> 8);
	p[21] = (uint8_t)port;
	p[23] = 7;
	p[24] = 0x12; /* ISS 0x12345678 */
	p[25] = 0x34;
	p[26] = 0x56;
	p[27] = 0x78;
	p[32] = 5 << 4;
	p[33] = 0x02; /* SYN */
	p[34] = 0xff;
	p[35] = 0xff;
	t_fix_ip_csum(p);
	t_fix_tcp_csum(p, 40);
	return 40;
}

/*
 * Issue 17 item 5: one turn of the run loop reads the device until it has
 * nothing, and writes what the stack made as it goes (at least every 64
 * datagrams read, after NAPI's weight), so a burst left in the device's
 * queue while the loop waited for a CPU is taken at once, and the outbox
 * never has to hold the whole burst's answers.  300 SYNs wait in a TUN
 * descriptor (one end of a socketpair); the outbox holds 64 datagrams;
 * after one turn every SYN was read and every SYN-ACK was written.
 */
static void one_turn_drains_a_burst_and_writes_as_it_reads(void)
{
	enum { BURST = 300 };
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	/* Room for the whole burst both ways (root may go past wmem_max). */
	int big = 4 << 20;
	for (int k = 0; k < 2; k++)
		if (setsockopt(sv[k], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) != 0)
			CHECK_EQ(setsockopt(sv[k], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)), 0);
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = 0x0a070002;
	struct host h;
	char err[160];
	CHECK_EQ(
	    synack_link_open_fd(&h.link, SYNACK_LINK_TUN, sv[0], "pair", &lc, err, sizeof(err)), 0);
	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = lc.addr;
	cfg.outbox_max = 64;
	h.st = synack_stack_new(&cfg, NULL);
	CHECK(h.st != NULL);
	int e;
	h.run = synack_run_new(h.st, h.link, &e);
	CHECK(h.run != NULL);
	CHECK(synack_run_listen(h.run, 7, 1024) >= 0);

	uint8_t pkt[64];
	int queued = 0;
	for (int i = 0; i < BURST; i++) {
		size_t n = build_syn(pkt, (uint16_t)(20000 + i));
		if (send(sv[1], pkt, n, 0) != (ssize_t)n)
			break;
		queued++;
	}
	CHECK_EQ(queued, BURST);
	CHECK_EQ(synack_run_once(h.run, 0), 0);

	struct synack_link_stats ls;
	synack_link_stats(h.link, &ls);
	CHECK_EQ(ls.datagrams_in, (uint64_t)BURST);
	struct synack_stats st;
	synack_stats(h.st, &st);
	CHECK_EQ(st.drops[SYNACK_DROP_OUTBOX_FULL], 0u);
	int synacks = 0;
	uint8_t in[128];
	for (ssize_t n; (n = recv(sv[1], in, sizeof(in), 0)) > 0;)
		if (n >= 40 && in[9] == 6 && in[33] == 0x12)
			synacks++;
	CHECK_EQ(synacks, BURST);
	host_close(&h);
	close(sv[1]);
}

/* A wrapped descriptor is not a device: it has no queue length or kernel
 * counters to give, and says so. */
static void wrapped_descriptor_has_no_device_queue(void)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	struct host h;
	host_open(&h, sv[0], 0x0a070002, NULL);
	struct synack_link_device_stats ds;
	CHECK_EQ(synack_link_txqueuelen(h.link), -ENODEV);
	CHECK_EQ(synack_link_set_txqueuelen(h.link, 1000), -ENODEV);
	CHECK_EQ(synack_link_set_txqueuelen(h.link, 0), -EINVAL);
	CHECK_EQ(synack_link_set_txqueuelen(h.link, 1000001), -EINVAL);
	CHECK_EQ(synack_link_device_stats(h.link, &ds), -ENODEV);
	CHECK_EQ(synack_link_device_stats(NULL, &ds), -EINVAL);
	CHECK_EQ(synack_link_txqueuelen(NULL), -EINVAL);
	host_close(&h);
	close(sv[1]);
}

/* The NS target of the one frame a link wrote on sv (0 when none). */
static int solicited_target(int fd, uint8_t target[16])
{
	uint8_t f[2048];
	ssize_t n = read(fd, f, sizeof(f));
	if (n < 14 + 40 + 24 || f[12] != 0x86 || f[13] != 0xdd || f[14 + 40] != 135)
		return 0;
	memcpy(target, f + 14 + 40 + 8, 16);
	return 1;
}

/* An IPv6 datagram's next hop (issue 14): the destination when on-link
 * (the prefix of addr6 or of an added address, fe80::/10), else gw6; with
 * no gw6, dropped (no_route).  The stack's own next hop wins when it gives
 * an IPv6 one. */
static void ipv6_next_hop_is_on_link_or_the_gateway(void)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	struct synack_link_config lc;
	synack_link_config_default(&lc);
	lc.addr = 0x0a070002;
	lc.gratuitous_arp = 0;
	static const uint8_t us[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	static const uint8_t gw[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t far[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 5, [15] = 1};
	static const uint8_t other[16] = {0x20, 0x01, 0x0d, 0xb9, [15] = 9};
	static const uint8_t ll[16] = {0xfe, 0x80, [15] = 7};
	memcpy(lc.addr6, us, 16);
	memcpy(lc.gw6, gw, 16);
	struct synack_link *l;
	char err[160];
	CHECK_EQ(synack_link_open_fd(&l, SYNACK_LINK_TAP, sv[0], "pair", &lc, err, sizeof(err)), 0);
	uint8_t d[60] = {0x60, [5] = 20, [6] = 6, [7] = 64}, t[16];
	memcpy(d + 8, us, 16);
	/* Off-link: the gateway is solicited, never the destination. */
	memcpy(d + 24, far, 16);
	CHECK_EQ(synack_link_send(l, 0, d, sizeof(d)), 0);
	CHECK(solicited_target(sv[1], t) && memcmp(t, gw, 16) == 0);
	/* On-link and link-local: the destination itself. */
	memcpy(d + 24, us, 16);
	d[39] = 3;
	CHECK_EQ(synack_link_send(l, 0, d, sizeof(d)), 0);
	CHECK(solicited_target(sv[1], t) && memcmp(t, d + 24, 16) == 0);
	memcpy(d + 24, ll, 16);
	CHECK_EQ(synack_link_send(l, 0, d, sizeof(d)), 0);
	CHECK(solicited_target(sv[1], t) && memcmp(t, ll, 16) == 0);
	/* The stack's IPv6 next hop wins. */
	struct synack_endpoint hop = {.family = SYNACK_AF_INET6};
	memcpy(hop.addr6, ll, 16);
	hop.addr6[15] = 8;
	memcpy(d + 24, far, 16);
	CHECK_EQ(synack_link_send_via(l, 0, d, sizeof(d), &hop), 0);
	CHECK(solicited_target(sv[1], t) && memcmp(t, hop.addr6, 16) == 0);
	/* Another prefix, once added, is on-link. */
	memcpy(d + 24, other, 16);
	CHECK_EQ(synack_link_add_addr6(l, other, 64), 0);
	CHECK_EQ(synack_link_send(l, 0, d, sizeof(d)), 0);
	CHECK(solicited_target(sv[1], t) && memcmp(t, other, 16) == 0);
	CHECK_EQ(synack_link_add_addr6(l, ll, 129), -EINVAL);
	struct synack_link_stats st;
	synack_link_stats(l, &st);
	CHECK_EQ_U64(st.drops[SYNACK_LINK_DROP_NO_ROUTE], 0);
	CHECK_EQ_U64(st.datagrams6_out, 5);
	synack_link_close(l);
	close(sv[1]);
	/* Without a gateway, off-link is no route. */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	memset(lc.gw6, 0, 16);
	CHECK_EQ(synack_link_open_fd(&l, SYNACK_LINK_TAP, sv[0], "pair", &lc, err, sizeof(err)), 0);
	memcpy(d + 24, far, 16);
	CHECK_EQ(synack_link_send(l, 0, d, sizeof(d)), 0);
	CHECK(!solicited_target(sv[1], t));
	synack_link_stats(l, &st);
	CHECK_EQ_U64(st.drops[SYNACK_LINK_DROP_NO_ROUTE], 1);
	uint8_t got[16];
	CHECK_EQ(synack_link_addr6_link_local(l, got), 1);
	CHECK(got[0] == 0xfe && got[1] == 0x80 && got[11] == 0xff && got[12] == 0xfe);
	synack_link_close(l);
	close(sv[1]);
}

int main(void)
{
	RUN(two_stacks_over_tap_links_resolve_connect_and_close);
	RUN(two_stacks_over_tap_links_resolve_connect_and_close_ipv6);
	RUN(blocking_helper_times_out_and_wake_interrupts);
	RUN(settings_are_bounds_checked);
	RUN(bad_device_names_fail_before_opening);
	RUN(watch_signals_refuses_bad_arguments);
	RUN(one_turn_drains_a_burst_and_writes_as_it_reads);
	RUN(wrapped_descriptor_has_no_device_queue);
	RUN(ipv6_next_hop_is_on_link_or_the_gateway);
	return check_summary("test_link");
}
