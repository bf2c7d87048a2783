/*
 * fuzz_config: synack_config_check on any configuration.
 *
 * The first byte chooses the length of the error buffer (0..127, allocated
 * to exactly that size so ASan sees a sentence that runs past it) and how
 * the rest is read: as the raw bytes of a struct synack_config, or as
 * patches (field, 32-bit value) applied to the defaults, which keeps most
 * settings valid so each bound is reached.  A refused configuration must
 * say so with -EINVAL and a sentence; an accepted one must give a stack
 * that takes a datagram and a socket call and is freed without a leak.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "synack/synack.h"

#define F(name)                                                                                    \
	{                                                                                          \
		offsetof(struct synack_config, name), sizeof(((struct synack_config *)0)->name)    \
	}
static const struct {
	size_t off, size;
} FIELDS[] = {
    F(addr),
    F(mtu),
    F(ttl),
    F(time_wait_ms),
    F(fin_timeout_ms),
    F(close_wait_timeout_ms),
    F(syn_retries),
    F(synack_retries),
    F(orphan_retries),
    F(retries2),
    F(rto_initial_ms),
    F(rto_min_ms),
    F(rto_max_ms),
    F(max_orphans),
    F(max_tw_buckets),
    F(somaxconn),
    F(rcvbuf),
    F(sndbuf),
    F(ephemeral_port_min),
    F(ephemeral_port_max),
    F(trace_capacity),
    F(outbox_max),
    F(delack_ms),
    F(init_cwnd),
    F(keepalive_time_ms),
    F(keepalive_intvl_ms),
    F(keepalive_probes),
    F(invalid_ratelimit_ms),
    F(ipfrag_high_thresh),
    F(ipfrag_time_ms),
    F(ipfrag_max_frags),
};
#undef F
#define NFIELDS (sizeof(FIELDS) / sizeof(FIELDS[0]))

static void set_field(struct synack_config *c, size_t i, uint32_t v)
{
	uint8_t *p = (uint8_t *)c + FIELDS[i].off;
	if (FIELDS[i].size == 1) {
		*p = (uint8_t)v;
	} else if (FIELDS[i].size == 2) {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
	} else {
		memcpy(p, &v, 4);
	}
}

/* A stack built from an accepted configuration does its job. */
static void exercise(const struct synack_config *cfg)
{
	int err = 1;
	struct synack_stack *st = synack_stack_new(cfg, &err);
	if (!st)
		fuzz_fail("an accepted configuration gives no stack (%s)", synack_strerror(err));
	if (err != 0)
		fuzz_fail("synack_stack_new succeeded with error %d", err);
	int s = synack_socket(st);
	struct synack_endpoint ep = {.addr = 0, .port = 80};
	if (s < 0 || synack_bind(st, s, &ep) != 0 || synack_listen(st, s, 1) != 0)
		fuzz_fail("a listener cannot be opened");
	/* A SYN to the listener from 10.9.9.9:1234, hand-made. */
	static const uint8_t syn_tcp[20] = {0x04, 0xd2, 0x00, 0x50, 0,    0,    0, 1, 0, 0,
	                                    0,    0,    0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0};
	uint8_t pkt[40];
	memcpy(pkt + 20, syn_tcp, 20);
	uint32_t src = 0x0a090909u, dst = cfg->addr;
	uint8_t ip[20] = {0x45,
	                  0,
	                  0,
	                  40,
	                  0,
	                  0,
	                  0x40,
	                  0,
	                  64,
	                  6,
	                  0,
	                  0,
	                  (uint8_t)(src >> 24),
	                  (uint8_t)(src >> 16),
	                  (uint8_t)(src >> 8),
	                  (uint8_t)src,
	                  (uint8_t)(dst >> 24),
	                  (uint8_t)(dst >> 16),
	                  (uint8_t)(dst >> 8),
	                  (uint8_t)dst};
	memcpy(pkt, ip, 20);
	/* Checksums, the plain way. */
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	pkt[10] = (uint8_t)(~sum >> 8);
	pkt[11] = (uint8_t)~sum;
	sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + 20;
	for (int i = 20; i < 40; i += 2)
		sum += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	pkt[36] = (uint8_t)(~sum >> 8);
	pkt[37] = (uint8_t)~sum;
	synack_input(st, 1000, pkt, sizeof(pkt));
	uint8_t out[65536];
	while (synack_output(st, out, sizeof(out)) > 0)
		;
	synack_advance(st, 10ull * 3600 * 1000000);
	synack_stack_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t errlen = data[0] >> 1;
	int raw = data[0] & 1;
	data++;
	size--;

	struct synack_config cfg;
	synack_config_default(&cfg);
	cfg.addr = 0x0a000001u;
	if (raw) {
		memcpy(&cfg, data, size < sizeof(cfg) ? size : sizeof(cfg));
	} else {
		while (size >= 5) {
			size_t i = data[0];
			uint32_t v = (uint32_t)data[1] | (uint32_t)data[2] << 8 |
			             (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24;
			if (i < NFIELDS)
				set_field(&cfg, i, v);
			else if (i < NFIELDS + 16) /* a byte of the algorithm's name */
				cfg.congestion_control[i - NFIELDS] = (char)v;
			data += 5;
			size -= 5;
		}
	}

	char *err = errlen ? malloc(errlen) : NULL;
	if (errlen && !err)
		return 0;
	if (err)
		memset(err, 'x', errlen);
	int rc = synack_config_check(&cfg, err, errlen);
	if (rc != 0 && rc != -EINVAL)
		fuzz_fail("synack_config_check returned %d", rc);
	if (err && !memchr(err, '\0', errlen))
		fuzz_fail("the error sentence is not terminated within %zu bytes", errlen);
	if (rc != 0 && errlen > 1 && err[0] == '\0')
		fuzz_fail("a refused configuration without a sentence");
	if (rc == 0 && err && err[0] != '\0')
		fuzz_fail("an accepted configuration with a sentence: %s", err);
	free(err);

	int new_err = 0;
	if (rc != 0) {
		if (synack_stack_new(&cfg, &new_err) != NULL || new_err != -EINVAL)
			fuzz_fail("synack_stack_new took a configuration the check refuses");
		return 0;
	}
	/* A trace ring of 2^24 records is a valid gigabyte; building one per
	 * input would only measure the allocator. */
	if (cfg.trace_capacity <= 65536)
		exercise(&cfg);
	return 0;
}
