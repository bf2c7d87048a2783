/*
 * The command-line tools' shared parsers (tools/cli.c) and `synack transfer`
 * as a library call: sizes with units, numbers at their limits, the
 * transfer's option rules, and runs whose result fields say what happened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "transfer.h"

static void cli_parse_bytes_units(void)
{
	uint64_t v = 0;
	CHECK_EQ(cli_parse_bytes("0", 100, &v), 0);
	CHECK_EQ_U64(v, 0);
	CHECK_EQ(cli_parse_bytes("1048576", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 1048576);
	CHECK_EQ(cli_parse_bytes("3K", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 3000);
	CHECK_EQ(cli_parse_bytes("3k", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 3000);
	CHECK_EQ(cli_parse_bytes("2M", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 2000000);
	CHECK_EQ(cli_parse_bytes("1G", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 1000000000);
	CHECK_EQ(cli_parse_bytes("64KiB", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 65536);
	CHECK_EQ(cli_parse_bytes("1MiB", UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 1048576);
	CHECK_EQ(cli_parse_bytes("4GiB", 1ull << 32, &v), 0);
	CHECK_EQ_U64(v, 1ull << 32);
	/* Past the maximum, with or without a unit, and one digit past a
	 * maximum below ten (which once wrapped around). */
	CHECK_EQ(cli_parse_bytes("5GiB", 1ull << 32, &v), -1);
	CHECK_EQ(cli_parse_bytes("4294967297", 1ull << 32, &v), -1);
	CHECK_EQ(cli_parse_bytes("99999999999999999999999", UINT64_MAX, &v), -1);
	CHECK_EQ(cli_parse_u64("5", 4, &v), -1);
	CHECK_EQ(cli_parse_u64("4", 4, &v), 0);
	/* Not a size. */
	const char *bad[] = {"",    "-1",  "+1", " 1",  "1 ",   "1.5M", "1m",
	                     "1KB", "1Ki", "K",  "1e3", "0x10", "1KiBx"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(cli_parse_bytes(bad[i], UINT64_MAX, &v), -1);
	CHECK_EQ(cli_parse_bytes(NULL, UINT64_MAX, &v), -1);
}

static void cli_parse_double_range(void)
{
	double d = -1;
	CHECK_EQ(cli_parse_double("0.5", 0.001, 10, &d), 0);
	CHECK(d == 0.5);
	CHECK_EQ(cli_parse_double("1e1", 0.001, 10, &d), 0);
	CHECK(d == 10);
	CHECK_EQ(cli_parse_double("10.01", 0.001, 10, &d), -1);
	CHECK_EQ(cli_parse_double("0", 0.001, 10, &d), -1);
	CHECK_EQ(cli_parse_double("nan", 0, 10, &d), -1);
	CHECK_EQ(cli_parse_double("inf", 0, 1e308, &d), -1);
	CHECK_EQ(cli_parse_double(" 1", 0, 10, &d), -1);
	CHECK_EQ(cli_parse_double("1x", 0, 10, &d), -1);
	CHECK_EQ(cli_parse_prob("1", &d), 0);
	CHECK_EQ(cli_parse_prob("1.0000001", &d), -1);
}

static void cli_flag_value_forms(void)
{
	static const char *const names[] = {"--bytes", "--bw-mbps"};
	char err[128] = "";
	const char *val = NULL;
	char *argv[] = {"--bytes=7", "--bw-mbps", "2", "--bytesx", "--bw-mbps"};
	int i = 0;
	CHECK_EQ(cli_flag_value(5, argv, &i, names, 2, &val, err, sizeof(err)), 0);
	CHECK_STR(val, "7");
	CHECK_EQ(i, 0);
	i = 1;
	CHECK_EQ(cli_flag_value(5, argv, &i, names, 2, &val, err, sizeof(err)), 1);
	CHECK_STR(val, "2");
	CHECK_EQ(i, 2);
	i = 3;
	CHECK_EQ(cli_flag_value(5, argv, &i, names, 2, &val, err, sizeof(err)), -1);
	i = 4;
	CHECK_EQ(cli_flag_value(5, argv, &i, names, 2, &val, err, sizeof(err)), -2);
	CHECK_STR(err, "--bw-mbps needs a value");
}

static int targs(struct transfer_opts *o, int argc, const char *a0, const char *a1, const char *a2,
                 const char *a3)
{
	char *argv[4] = {(char *)a0, (char *)a1, (char *)a2, (char *)a3};
	char err[256] = "";
	transfer_opts_default(o);
	int r = transfer_parse_args(argc, argv, o, err, sizeof(err));
	if (r != 0)
		CHECK(strlen(err) > 0);
	return r;
}

static void transfer_args(void)
{
	struct transfer_opts o;
	CHECK_EQ(targs(&o, 0, NULL, NULL, NULL, NULL), 0);
	CHECK_EQ_U64(o.bytes, TRANSFER_DEFAULT_BYTES);
	CHECK_EQ(o.delay_ms, TRANSFER_DEFAULT_DELAY_MS);
	CHECK_EQ_U64(o.seed, 1);
	CHECK(o.bw_mbps == 0 && o.queue_pkts == -1 && !o.json);
	CHECK_EQ(targs(&o, 4, "--bytes", "2MiB", "--bw-mbps=0.5", "--json"), 0);
	CHECK_EQ_U64(o.bytes, 2097152);
	CHECK(o.bw_mbps == 0.5 && o.json);
	CHECK_EQ(targs(&o, 3, "--bw-mbps", "3", "--queue=0", NULL), 0);
	CHECK_EQ(o.queue_pkts, 0);
	CHECK_EQ(targs(&o, 2, "--loss", "0.1", NULL, NULL), 0);
	CHECK(o.loss == 0.1);

	CHECK_EQ(targs(&o, 2, "--queue", "5", NULL, NULL), -1); /* no bottleneck */
	CHECK_EQ(targs(&o, 2, "--bw-mbps", "0", NULL, NULL), -1);
	CHECK_EQ(targs(&o, 2, "--delay-ms", "60001", NULL, NULL), -1);
	CHECK_EQ(targs(&o, 2, "--bytes", "5GiB", NULL, NULL), -1);
	CHECK_EQ(targs(&o, 1, "scenario", NULL, NULL, NULL), -1);
	CHECK_EQ(targs(&o, 1, "--seed", NULL, NULL, NULL), -1);
	CHECK_EQ(targs(&o, 2, "--dup", "-0", NULL, NULL), -1);
}

static struct transfer_result *trun(struct transfer_opts *o, char **text)
{
	struct transfer_result *r = calloc(1, sizeof(*r));
	size_t n = 0;
	FILE *out = text ? open_memstream(text, &n) : NULL;
	CHECK_EQ(transfer_run(o, out, r), 0);
	if (out)
		fclose(out);
	if (!r->ok)
		fprintf(stderr, "  transfer failed: %s\n", r->error);
	return r;
}

/* A clean run: every byte, the same hash, both ends closed in order. */
static void transfer_clean_run(void)
{
	struct transfer_opts o;
	transfer_opts_default(&o);
	o.bytes = 100000;
	struct transfer_result *r = trun(&o, NULL);
	CHECK(r->ok);
	CHECK_EQ_U64(r->bytes_sent, 100000);
	CHECK_EQ_U64(r->bytes_received, 100000);
	CHECK(r->hash_sent == r->hash_received);
	CHECK(r->first_bad == UINT64_MAX);
	CHECK_EQ(r->state[0], SYNACK_CLOSED);
	CHECK_EQ(r->state[1], SYNACK_CLOSED);
	CHECK_EQ(r->cause[0], SYNACK_CAUSE_TIME_WAIT_EXPIRED);
	CHECK_EQ(r->cause[1], SYNACK_CAUSE_RCV_ACK_OF_FIN);
	CHECK(r->orderly[0] && r->orderly[1]);
	CHECK_STR(r->path[0], "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED");
	CHECK_STR(r->path[1], "LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED");
	CHECK_EQ_U64(r->retransmits, 0);
	CHECK(r->info_seen && r->cwnd > 0 && r->mss == 1460);
	CHECK(r->virtual_ms > 0 && r->goodput_mbps > 0);
	/* TIME_WAIT ran to its end in virtual time. */
	CHECK(r->t_end_us >= r->t_eof_us + 60000000ull);
	CHECK_EQ_U64(r->stats[0].TraceLost, 0);
	CHECK_EQ_U64(r->stats[1].TraceLost, 0);
	free(r);
}

/* No delay and no bottleneck: no virtual time passes, and the goodput has
 * no value (a NAN the summary writes as null), though the transfer works. */
static void transfer_in_no_time(void)
{
	struct transfer_opts o;
	transfer_opts_default(&o);
	o.delay_ms = 0;
	o.json = 1;
	char *t = NULL;
	struct transfer_result *r = trun(&o, &t);
	CHECK(r->ok && r->eof);
	CHECK_EQ_U64(r->t_eof_us, 0);
	CHECK(r->virtual_ms == 0);
	CHECK(r->goodput_mbps != r->goodput_mbps);
	CHECK(t && strstr(t, ",\"virtual_ms\":0.000,\"goodput_mbps\":null,") != NULL);
	free(t);
	free(r);
}

/* Loss, duplication and reordering: retransmissions, still every byte. */
static void transfer_lossy_runs(void)
{
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct transfer_opts o;
		transfer_opts_default(&o);
		o.bytes = 150000;
		o.seed = seed;
		o.loss = 0.05;
		o.dup = 0.02;
		o.reorder = 0.02;
		struct transfer_result *r = trun(&o, NULL);
		CHECK(r->ok);
		CHECK(r->retransmits > 0);
		CHECK(r->bytes_received == o.bytes && r->hash_received == r->hash_sent);
		free(r);
	}
}

/* Output is a function of the options: the same seed, the same text. */
static void transfer_same_seed_same_json(void)
{
	struct transfer_opts o;
	transfer_opts_default(&o);
	o.bytes = 200000;
	o.loss = 0.03;
	o.bw_mbps = 5;
	o.json = 1;
	char *a = NULL, *b = NULL;
	struct transfer_result *ra = trun(&o, &a);
	struct transfer_result *rb = trun(&o, &b);
	CHECK(a && b && strcmp(a, b) == 0);
	CHECK(a && strstr(a, "{\"ev\":\"summary\",\"ok\":true,\"bytes\":200000,\"retransmits\":"));
	free(a);
	free(b);
	free(ra);
	free(rb);
}

/* A transfer that cannot happen fails with a reason, not a hang. */
static void transfer_failure_is_reported(void)
{
	struct transfer_opts o;
	transfer_opts_default(&o);
	o.bytes = 1000;
	o.loss = 1;
	struct transfer_result *r = calloc(1, sizeof(*r));
	CHECK_EQ(transfer_run(&o, NULL, r), 0);
	CHECK(!r->ok);
	CHECK(strstr(r->error, "connect failed") != NULL);
	CHECK_EQ_U64(r->bytes_received, 0);
	free(r);

	/* A day of virtual time is not enough for 20 MB at 1 kbit/s. */
	transfer_opts_default(&o);
	o.bytes = 20000000;
	o.bw_mbps = 0.001;
	r = calloc(1, sizeof(*r));
	CHECK_EQ(transfer_run(&o, NULL, r), 0);
	CHECK(!r->ok && r->capped);
	CHECK(strstr(r->error, "cap") != NULL);
	free(r);
}

int main(void)
{
	RUN(cli_parse_bytes_units);
	RUN(cli_parse_double_range);
	RUN(cli_flag_value_forms);
	RUN(transfer_args);
	RUN(transfer_clean_run);
	RUN(transfer_in_no_time);
	RUN(transfer_lossy_runs);
	RUN(transfer_same_seed_same_json);
	RUN(transfer_failure_is_reported);
	return check_summary("test_cli");
}
