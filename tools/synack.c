/*
 * synack: the command-line tool.  `synack demo` replays the scenarios of the
 * article on two stacks over the simulated network; `synack transfer` moves
 * a bulk transfer over it; `synack serve` and `synack connect` run the
 * stack on a real TUN/TAP device against the kernel's TCP; `synack bridge`
 * forwards frames between two TAP devices through an impaired path; `synack
 * run` runs an unmodified program over synack through the preload library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "connect.h"
#include "demo.h"
#include "run.h"
#include "script.h"
#include "script_pcap.h"
#include "serve.h"
#include "transfer.h"
#include "synack/synack.h"

static void usage(FILE *out)
{
	fputs("usage: synack COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  demo [SCENARIO] [FLAGS]   replay a TCP scenario on two simulated hosts\n"
	      "                            (synack demo --list, synack demo --help)\n"
	      "  script FILE [FLAGS]       run a scenario file of your own (docs/SCRIPTS.md;\n"
	      "                            synack script --help)\n"
	      "  script --from-pcap FILE --side client|server\n"
	      "                            replay a captured TCP conversation against synack\n"
	      "                            and compare (synack script --from-pcap x --help)\n"
	      "  transfer [FLAGS]          a bulk transfer between two simulated hosts: goodput,\n"
	      "                            retransmissions, cwnd (synack transfer --help)\n"
	      "  serve --dev NAME ...      serve echo, discard or http on a TUN/TAP device\n"
	      "                            (synack serve --help)\n"
	      "  connect --dev NAME ... HOST:PORT\n"
	      "                            connect to a host behind a TUN/TAP device, send and\n"
	      "                            receive (synack connect --help)\n"
	      "  bridge --dev-a NAME --dev-b NAME ...\n"
	      "                            forward frames between two TAP devices through an\n"
	      "                            impaired path (synack bridge --help)\n"
	      "  run --dev NAME ... -- PROGRAM [ARGS]\n"
	      "                            run an unmodified program over a synack stack on\n"
	      "                            a TUN/TAP device (LD_PRELOAD; synack run --help)\n"
	      "  help                      this text\n",
	      out);
}

static int cmd_demo(int argc, char **argv)
{
	struct demo_opts o;
	char err[256];
	demo_opts_default(&o);
	if (demo_parse_args(argc, argv, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "synack demo: %s\n", err);
		return 2;
	}
	if (o.help) {
		demo_usage(stdout);
		return 0;
	}
	if (o.list) {
		demo_list(stdout);
		return 0;
	}
	struct demo_result *res = calloc(1, sizeof(*res));
	if (!res) {
		fprintf(stderr, "synack demo: out of memory\n");
		return 2;
	}
	int rc = demo_run(&o, stdout, res);
	int status;
	if (rc != 0) {
		fprintf(stderr, "synack demo: %s\n",
		        res->error[0] ? res->error : synack_strerror(rc));
		status = 2;
	} else {
		status = res->ok ? 0 : 1;
	}
	free(res);
	fflush(stdout);
	return status;
}

static int cmd_script(int argc, char **argv)
{
	struct script_opts o;
	char err[4096];                  /* the settings list of an unknown --set */
	if (frompcap_wanted(argc, argv)) /* issue 18 item 4: a capture replayed */
		return frompcap_main(argc, argv);
	if (script_parse_args(argc, argv, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "synack script: %s\n", err);
		return 2;
	}
	if (o.help) {
		script_usage(stdout);
		return 0;
	}
	struct script *sc = script_load(o.file, err, sizeof(err));
	if (!sc) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	struct demo_result *res = calloc(1, sizeof(*res));
	if (!res) {
		script_free(sc);
		fprintf(stderr, "synack script: out of memory\n");
		return 2;
	}
	int rc = script_run(sc, &o, stdout, stderr, res);
	int status;
	fflush(stdout);
	if (rc != 0) {
		fprintf(stderr, "synack script: %s\n",
		        res->error[0] ? res->error : synack_strerror(rc));
		status = 2;
	} else {
		status = res->ok ? 0 : 1;
	}
	free(res);
	script_free(sc);
	return status;
}

static int cmd_transfer(int argc, char **argv)
{
	struct transfer_opts o;
	char err[4096]; /* the settings list of an unknown --set */
	transfer_opts_default(&o);
	if (transfer_parse_args(argc, argv, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "synack transfer: %s\n", err);
		return 2;
	}
	if (o.help) {
		transfer_usage(stdout);
		return 0;
	}
	struct transfer_result *res = calloc(1, sizeof(*res));
	if (!res) {
		fprintf(stderr, "synack transfer: out of memory\n");
		return 2;
	}
	int rc = transfer_run(&o, stdout, res);
	int status;
	fflush(stdout);
	if (rc != 0) {
		fprintf(stderr, "synack transfer: %s\n",
		        res->error[0] ? res->error : synack_strerror(rc));
		status = 2;
	} else if (!res->ok) {
		fprintf(stderr, "synack transfer: failed: %s\n", res->error);
		status = 1;
	} else {
		status = 0;
	}
	free(res);
	return status;
}

/*
 * The four commands on a TUN/TAP device (serve, connect, bridge, run) have
 * one shape here: their defaults, their flags parsed (status 2 and the
 * message on an error), --help (the usage on stdout, status 0), then the
 * command itself, whose status is the program's.  Each module names its
 * parts after the command: NAME_opts, NAME_opts_default, NAME_parse_args,
 * NAME_usage and NAME_main.
 */
#define DEVICE_COMMAND(name)                                                                       \
	static int cmd_##name(int argc, char **argv)                                               \
	{                                                                                          \
		struct name##_opts o;                                                              \
		char err[4096]; /* the settings list of an unknown --set */                        \
		name##_opts_default(&o);                                                           \
		if (name##_parse_args(argc, argv, &o, err, sizeof(err)) != 0) {                    \
			fprintf(stderr, "synack " #name ": %s\n", err);                            \
			return 2;                                                                  \
		}                                                                                  \
		if (o.help) {                                                                      \
			name##_usage(stdout);                                                      \
			return 0;                                                                  \
		}                                                                                  \
		return name##_main(&o);                                                            \
	}
DEVICE_COMMAND(serve)
DEVICE_COMMAND(connect)
DEVICE_COMMAND(bridge)
DEVICE_COMMAND(run)
#undef DEVICE_COMMAND

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "demo") == 0)
		return cmd_demo(argc - 2, argv + 2);
	if (strcmp(cmd, "script") == 0)
		return cmd_script(argc - 2, argv + 2);
	if (strcmp(cmd, "transfer") == 0)
		return cmd_transfer(argc - 2, argv + 2);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(cmd, "connect") == 0)
		return cmd_connect(argc - 2, argv + 2);
	if (strcmp(cmd, "bridge") == 0)
		return cmd_bridge(argc - 2, argv + 2);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	fprintf(stderr, "synack: unknown command '%s' (synack --help lists them)\n", cmd);
	return 2;
}
