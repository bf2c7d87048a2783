#include "run.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_parse.h"
#include "settings.h"

#define RUN_LIBRARY "libsynack-preload.so"

/* Where an installed synack finds the library: the install's libdir
 * relative to its bindir (CMakeLists.txt defines it; "../lib" otherwise). */
#ifndef SYNACK_BIN_TO_LIBDIR
#define SYNACK_BIN_TO_LIBDIR "../lib"
#endif

void run_opts_default(struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	net_opts_default(&o->net, "synack run");
}

void run_usage(FILE *out)
{
	fputs("usage: synack run --dev NAME [--create] (--tap|--tun) --addr A.B.C.D/NN ...\n"
	      "                  [--gw ADDR] [--pcap FILE] [--txqueuelen N]\n"
	      "                  [--set NAME=VALUE ...] [--time-wait-ms T]\n"
	      "                  [--fin-timeout-ms T] [--syn-retries N] [--orphan-retries N]\n"
	      "                  [--keepalive-time-ms T] [--keepalive-intvl-ms T]\n"
	      "                  [--keepalive-probes N] [--debug] [--preload FILE]\n"
	      "                  [--print-env] -- PROGRAM [ARGS]\n"
	      "\n"
	      "Runs PROGRAM, unmodified, over a synack stack on a TUN/TAP device: sets\n"
	      "LD_PRELOAD to libsynack-preload.so and the SYNACK_* variables that\n"
	      "configure it (docs/PRELOAD.md; the SYNACK_* variables of the caller are\n"
	      "removed first), then executes PROGRAM in its place.  Its\n"
	      "TCP sockets are synack's; files, pipes, Unix and UDP sockets stay the\n"
	      "kernel's.  The flags are checked as `synack serve` checks them before\n"
	      "anything runs; PROGRAM's exit status is synack run's.  The device is not\n"
	      "configured: the kernel's address on it is the peer.\n"
	      "\n"
	      "  --dev NAME       the TUN/TAP device (SYNACK_DEV); it must exist (`ip\n"
	      "                   tuntap add dev NAME mode tap user USER`)\n"
	      "  --create         create the device when it is missing (SYNACK_CREATE=1)\n"
	      "  --tap | --tun    Ethernet frames with ARP, or raw IPv4 (SYNACK_TAP=1 or\n"
	      "                   SYNACK_TUN=1)\n"
	      "  --addr A.B.C.D/NN  synack's address and the on-link prefix (SYNACK_ADDR);\n"
	      "                   repeat it for more addresses (a comma list)\n"
	      "  --gw ADDR        the default route (SYNACK_GW), on the prefix of --addr\n"
	      "  --pcap FILE      capture every frame crossing the device (SYNACK_PCAP)\n"
	      "  --txqueuelen N   frames the kernel may queue on the device\n"
	      "                   (SYNACK_TXQUEUELEN)\n"
	      "  --set NAME=VALUE a setting of the stack, as for synack serve\n"
	      "                   (SYNACK_NAME=VALUE, NAME in capitals; repeatable):\n",
	      out);
	settings_names(out, "                     ", 79);
	fputs("                   and of the link:\n", out);
	link_settings_names(out, "                     ", 79);
	fputs("  --time-wait-ms T ... --keepalive-probes N  the same as --set\n"
	      "                   time_wait_ms=T ... keepalive_probes=N\n"
	      "  --debug          the library logs what it refuses (SYNACK_DEBUG=1)\n"
	      "  --preload FILE   the library to preload; by default libsynack-preload.so\n"
	      "                   beside the synack binary (a build tree) or in its\n"
	      "                   install's library directory\n"
	      "  --print-env      print the environment PROGRAM would get (NAME=VALUE\n"
	      "                   lines) and the command, and run nothing\n"
	      "\n"
	      "Exit status: PROGRAM's; 2 bad usage or no library, 126 PROGRAM cannot be\n"
	      "executed, 127 PROGRAM not found.\n",
	      out);
}

/* Whether the flag (without "=value") is one of serve's that run passes
 * to the library: the device, its address, the gateway, the capture and
 * the settings, by --set or by name. */
static int passed_flag(const char *a)
{
	static const char *const PASSED[] = {"--dev",  "--tap", "--tun",    "--addr",      "--gw",
	                                     "--pcap", "--set", "--create", "--txqueuelen"};
	char name[40];
	size_t n = strcspn(a, "=");
	if (n >= sizeof(name))
		return 0;
	memcpy(name, a, n);
	name[n] = 0;
	for (size_t i = 0; i < sizeof(PASSED) / sizeof(PASSED[0]); i++)
		if (strcmp(name, PASSED[i]) == 0)
			return 1;
	/* "--time-wait-ms" names the setting time_wait_ms. */
	if (strncmp(name, "--", 2) != 0)
		return 0;
	for (char *p = name + 2; *p; p++)
		if (*p == '-')
			*p = '_';
	return settings_find(name + 2) != NULL;
}

/* serve's flags that the library takes (net.c), into o->net only when
 * passed_flag() says the library takes them. */
static int run_net(void *opts, int argc, char **argv, int *i, char *err, size_t errlen)
{
	struct run_opts *o = opts;
	const char *a = argv[*i];
	int j = *i;
	struct net_opts scratch = o->net;
	int rc = net_parse_flag(argc, argv, &j, &scratch, err, errlen);
	if (rc <= 0)
		return rc;
	if (!passed_flag(a)) {
		snprintf(err, errlen,
		         "%s is a flag of synack serve and connect that the preload library "
		         "does not take (synack run passes --dev, --tap/--tun, --create, "
		         "--addr, --gw, --pcap, --txqueuelen and the settings)",
		         a);
		return -1;
	}
	o->net = scratch;
	*i = j;
	if (o->net.nroutes > 1) {
		snprintf(err, errlen, "--gw: the preload library takes one gateway");
		return -1;
	}
	return 1;
}

/* The program: the flags end at the first argument that is none ("-" is
 * an unknown one). */
static int run_program(void *opts, const char *a, char *err, size_t errlen)
{
	(void)opts;
	if (a[0] != '-')
		return 1;
	snprintf(err, errlen, "unknown argument '%s' (synack run --help lists the flags)", a);
	return -1;
}

#define O(n, k, f) CLI_OPT(struct run_opts, n, k, f)
static const struct cli_opt RUN_FLAGS[] = {
    {O("--preload", CLI_PATH, preload)},
    {O("--debug", CLI_SWITCH, debug)},
    {O("--print-env", CLI_SWITCH, print_env)},
};
#undef O

const struct cli_table run_cli = {
    CLI_ROWS(RUN_FLAGS),
    .unknown = "unknown argument",
    .hint = "(synack run --help lists the flags)",
    .help = CLI_SEEN(struct run_opts, help),
    .help_stops = 1,
    .positional = run_program,
    .more = run_net,
    .dashdash = 1,
};

int run_parse_args(int argc, char **argv, struct run_opts *o, char *err, size_t errlen)
{
	int i = cli_parse(&run_cli, o, argc, argv, err, errlen);
	if (i < 0)
		return -1;
	if (o->help)
		return 0;
	if (net_check(&o->net, err, errlen) != 0)
		return -1;
	if (i >= argc) {
		snprintf(err, errlen, "no program to run (synack run [FLAGS] -- PROGRAM [ARGS])");
		return -1;
	}
	o->argv = argv + i;
	o->argc = argc - i;
	return 0;
}

/* The absolute path of the library into out (PATH_MAX bytes, as realpath
 * writes): --preload, or the first of the candidates beside self that
 * exists; -1 with a sentence. */
static int find_library(const struct run_opts *o, const char *self, char out[PATH_MAX], char *err,
                        size_t errlen)
{
	if (o->preload) {
		if (access(o->preload, R_OK) != 0 || !realpath(o->preload, out)) {
			snprintf(err, errlen, "--preload: cannot read '%s': %s", o->preload,
			         strerror(errno));
			return -1;
		}
		return 0;
	}
	const char *slash = strrchr(self, '/');
	int dir = slash ? (int)(slash - self) : 1;
	if (!slash)
		self = ".";
	char cand[2][PATH_MAX];
	snprintf(cand[0], sizeof(cand[0]), "%.*s/%s", dir, self, RUN_LIBRARY);
	snprintf(cand[1], sizeof(cand[1]), "%.*s/%s/%s", dir, self, SYNACK_BIN_TO_LIBDIR,
	         RUN_LIBRARY);
	for (int c = 0; c < 2; c++) {
		if (access(cand[c], R_OK) == 0 && realpath(cand[c], out))
			return 0;
	}
	snprintf(err, errlen, "cannot find %s (looked for %s and %s; --preload FILE names it)",
	         RUN_LIBRARY, cand[0], cand[1]);
	return -1;
}

/* Appends "NAME=VALUE" to env/buf; -1 when full. */
static int put_env(char **env, size_t *n, size_t max, char *buf, size_t buflen, size_t *used,
                   const char *name, const char *value)
{
	int len = snprintf(buf + *used, buflen - *used, "%s=%s", name, value);
	if (*n >= max || len < 0 || (size_t)len >= buflen - *used)
		return -1;
	env[(*n)++] = buf + *used;
	*used += (size_t)len + 1;
	return 0;
}

/* put_env of SYNACK_NAME=value, NAME the setting's name in capitals. */
static int put_setting_env(char **env, size_t *n, size_t max, char *buf, size_t buflen,
                           size_t *used, const struct setting *row, const char *value)
{
	char name[48] = "SYNACK_";
	size_t k = 7;
	for (const char *s = row->name; *s && k + 1 < sizeof(name); s++)
		name[k++] = (char)toupper((unsigned char)*s);
	name[k] = 0;
	return put_env(env, n, max, buf, buflen, used, name, value);
}

int run_environment(const struct run_opts *o, const char *self, char **env, size_t max, char *buf,
                    size_t buflen, char *err, size_t errlen)
{
	char lib[PATH_MAX];
	if (find_library(o, self, lib, err, errlen) != 0)
		return -1;
	size_t n = 0, used = 0;
	int bad = 0;
	/* What the caller preloads stays first: a sanitizer's runtime must
	 * come before every other library (ASan refuses to start otherwise),
	 * and one that interposes what ours does was asked for on purpose. */
	const char *old = getenv("LD_PRELOAD");
	char preload[2 * PATH_MAX];
	snprintf(preload, sizeof(preload), "%s%s%s", old ? old : "", old && *old ? ":" : "", lib);
	bad |= put_env(env, &n, max, buf, buflen, &used, "LD_PRELOAD", preload);
	bad |= put_env(env, &n, max, buf, buflen, &used, "SYNACK_DEV", o->net.dev);
	bad |= put_env(env, &n, max, buf, buflen, &used,
	               o->net.kind == SYNACK_LINK_TAP ? "SYNACK_TAP" : "SYNACK_TUN", "1");
	if (o->net.create)
		bad |= put_env(env, &n, max, buf, buflen, &used, "SYNACK_CREATE", "1");
	/* The addresses, the device's first: "10.7.0.2/24,10.8.0.2/24", an
	 * IPv6 one (issue 14) after them: ",2001:db8::2/64". */
	char a[64], addrs[(NET_MAX_ADDRS + 2) * 48] = "";
	struct synack_prefix p = {
	    .addr = o->net.addr, .family = SYNACK_AF_INET, .len = (uint8_t)o->net.prefix_len};
	strcat(addrs, synack_prefix_str(&p, a, sizeof(a)));
	if (o->net.have_addr6) {
		struct synack_prefix p6 = {.family = SYNACK_AF_INET6,
		                           .len = (uint8_t)o->net.prefix6_len};
		memcpy(p6.addr6, o->net.addr6, 16);
		strcat(addrs, ",");
		strcat(addrs, synack_prefix_str(&p6, a, sizeof(a)));
	}
	for (int i = 0; i < o->net.naddrs; i++) {
		strcat(addrs, ",");
		strcat(addrs, synack_prefix_str(&o->net.addrs[i], a, sizeof(a)));
	}
	bad |= put_env(env, &n, max, buf, buflen, &used, "SYNACK_ADDR", addrs);
	if (o->net.nroutes) {
		/* The one gateway, of either family. */
		const struct net_route *r = &o->net.routes[0];
		struct synack_prefix gw = {.family = r->dst.family, .addr = r->via, .len = 128};
		memcpy(gw.addr6, r->via6, 16);
		if (gw.family == SYNACK_AF_INET)
			gw.len = 32;
		synack_prefix_str(&gw, a, sizeof(a));
		a[strcspn(a, "/")] = 0; /* "10.7.0.1/32" -> "10.7.0.1" */
		bad |= put_env(env, &n, max, buf, buflen, &used, "SYNACK_GW", a);
	}
	if (o->net.pcap)
		bad |= put_env(env, &n, max, buf, buflen, &used, "SYNACK_PCAP", o->net.pcap);
	if (o->net.txqueuelen) {
		snprintf(a, sizeof(a), "%u", (unsigned)o->net.txqueuelen);
		bad |= put_env(env, &n, max, buf, buflen, &used, "SYNACK_TXQUEUELEN", a);
	}
	if (o->debug)
		bad |= put_env(env, &n, max, buf, buflen, &used, "SYNACK_DEBUG", "1");
	/* Each setting given, by its config name in capitals: the stack's,
	 * then the link's. */
	for (size_t i = 0; i < settings_count(); i++) {
		if (!net_setting_given(&o->net, i))
			continue;
		char value[64];
		settings_str(settings_at(i), &o->net.cfg, value, sizeof(value));
		bad |= put_setting_env(env, &n, max, buf, buflen, &used, settings_at(i), value);
	}
	for (size_t i = 0; i < link_settings_count() && i < 64; i++) {
		if (!((o->net.link_given >> i) & 1))
			continue;
		char value[64];
		link_settings_str(link_settings_at(i), &o->net.link, value, sizeof(value));
		bad |=
		    put_setting_env(env, &n, max, buf, buflen, &used, link_settings_at(i), value);
	}
	if (bad) {
		snprintf(err, errlen, "the environment does not fit in %zu bytes", buflen);
		return -1;
	}
	return (int)n;
}

extern char **environ;

/* Removes every SYNACK_* variable from the environment. */
static void clear_synack_env(void)
{
	for (;;) {
		char name[128];
		char **e = environ;
		while (e && *e && strncmp(*e, "SYNACK_", 7) != 0)
			e++;
		if (!e || !*e)
			return;
		size_t n = strcspn(*e, "=");
		if (n >= sizeof(name)) {
			/* Too long to name: drop it from the array directly. */
			while ((e[0] = e[1]) != NULL)
				e++;
			continue;
		}
		memcpy(name, *e, n);
		name[n] = 0;
		unsetenv(name);
	}
}

int run_main(const struct run_opts *o)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		len = 0;
	self[len] = 0;
	char *env[80], buf[16384], err[PATH_MAX * 3];
	int n =
	    run_environment(o, len ? self : "synack", env, 80, buf, sizeof(buf), err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "synack run: %s\n", err);
		return 2;
	}
	if (o->print_env) {
		for (int i = 0; i < n; i++)
			printf("%s\n", env[i]);
		for (int i = 0; i < o->argc; i++)
			printf("%s%s", i ? " " : "", o->argv[i]);
		printf("\n");
		return 0;
	}
	/* The program's SYNACK_* variables are the flags' alone: the library
	 * refuses one it does not know (SYNACK_IT_KEEP of the tests), and a
	 * SYNACK_TUN left by the caller would contradict --tap. */
	clear_synack_env();
	for (int i = 0; i < n; i++) {
		char *eq = strchr(env[i], '=');
		*eq = 0;
		int rc = setenv(env[i], eq + 1, 1);
		*eq = '=';
		if (rc != 0) {
			fprintf(stderr, "synack run: setenv %s: %s\n", env[i], strerror(errno));
			return 2;
		}
	}
	fflush(stdout);
	execvp(o->argv[0], o->argv);
	int e = errno;
	fprintf(stderr, "synack run: %s: %s\n", o->argv[0], strerror(e));
	return e == ENOENT ? 127 : 126;
}
