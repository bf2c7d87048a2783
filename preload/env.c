/*
 * libsynack-preload: the configuration from the environment.
 *
 * Each variable becomes the flag of `synack serve` that means the same
 * (SYNACK_DEV=tap0 is --dev tap0, SYNACK_TIME_WAIT_MS=5s is --set
 * time_wait_ms=5s) and goes through the same parser (tools/net.c, whose
 * settings table is tools/settings.c), so there is one table of settings
 * and one set of error sentences.  A sentence about a bad value is printed
 * after the variable's name, and the program exits with status 2: a
 * preloaded program never falls back to the kernel's TCP silently.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "preload.h"
#include "settings.h"

struct preload_conf preload_conf;

extern char **environ;

#define PRELOAD_MAX_EXIT_TIMEOUT_MS 3600000u

static void die(const char *var, const char *val, const char *why)
{
	if (val)
		fprintf(stderr, "libsynack-preload: %s=%s: %s\n", var, val, why);
	else
		fprintf(stderr, "libsynack-preload: %s\n", why);
	exit(2);
}

/* Feeds net_parse_flag() one flag (and its value) as if from argv. */
static void flag(const char *var, const char *val, const char *name, const char *arg)
{
	char *argv[3] = {(char *)name, (char *)arg, NULL};
	int argc = arg ? 2 : 1, i = 0;
	char err[4096];
	int rc = net_parse_flag(argc, argv, &i, &preload_conf.net, err, sizeof(err));
	if (rc != 1)
		die(var, val, rc < 0 ? err : "not taken");
}

/* "1" (on) or "0" (off) for the switches. */
static int on_off(const char *var, const char *val)
{
	if (strcmp(val, "1") == 0)
		return 1;
	if (strcmp(val, "0") == 0)
		return 0;
	die(var, val, "is not 1 (on) or 0 (off)");
	return 0;
}

static void one(const char *var, const char *val)
{
	const char *key = var + strlen("SYNACK_");
	if (strcmp(key, "DEV") == 0) {
		flag(var, val, "--dev", val);
	} else if (strcmp(key, "TAP") == 0 || strcmp(key, "TUN") == 0) {
		if (on_off(var, val))
			flag(var, val, key[1] == 'A' ? "--tap" : "--tun", NULL);
	} else if (strcmp(key, "CREATE") == 0) {
		if (on_off(var, val))
			flag(var, val, "--create", NULL);
	} else if (strcmp(key, "ADDR") == 0) {
		/* A comma list: the first is the device's, the others more
		 * addresses of the stack. */
		char buf[1024];
		if (strlen(val) >= sizeof(buf) || !*val)
			die(var, val, "is not a list of A.B.C.D/NN addresses separated by commas");
		strcpy(buf, val);
		for (char *save = NULL, *a = strtok_r(buf, ",", &save); a;
		     a = strtok_r(NULL, ",", &save))
			flag(var, val, "--addr", a);
	} else if (strcmp(key, "GW") == 0) {
		flag(var, val, "--gw", val);
	} else if (strcmp(key, "PCAP") == 0) {
		flag(var, val, "--pcap", val);
	} else if (strcmp(key, "TXQUEUELEN") == 0) {
		flag(var, val, "--txqueuelen", val);
	} else if (strcmp(key, "DEBUG") == 0) {
		preload_conf.debug = on_off(var, val);
	} else if (strcmp(key, "EXIT_TIMEOUT_MS") == 0) {
		char err[256];
		if (cli_flag_time_ms(var, val, PRELOAD_MAX_EXIT_TIMEOUT_MS,
		                     &preload_conf.exit_timeout_ms, err, sizeof(err)) != 0)
			die(var, val, err);
	} else {
		/* SYNACK_<SETTING>: a stack or link setting by its config name. */
		char name[64], set[1100];
		size_t n = strlen(key);
		if (n == 0 || n >= sizeof(name))
			die(var, val,
			    "is not a variable libsynack-preload knows (docs/PRELOAD.md)");
		for (size_t i = 0; i < n; i++)
			name[i] = (char)tolower((unsigned char)key[i]);
		name[n] = 0;
		if (!settings_find(name) && !link_settings_find(name)) {
			/* Not fatal: other programs use the prefix too; said so
			 * that a misspelt setting does not go unnoticed. */
			fprintf(stderr,
			        "libsynack-preload: %s ignored: neither a variable of the preload "
			        "nor a stack setting (docs/PRELOAD.md lists them)\n",
			        var);
			return;
		}
		snprintf(set, sizeof(set), "%s=%s", name, val);
		flag(var, val, "--set", set);
	}
}

void preload_env_load(void)
{
	net_opts_default(&preload_conf.net, "libsynack-preload");
	preload_conf.net.keep_signals = 1;
	preload_conf.net.quiet = 1;
	preload_conf.net.create_how = "SYNACK_CREATE=1";
	preload_conf.exit_timeout_ms = 2000;
	int any = 0;
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, "SYNACK_", 7) != 0)
			continue;
		const char *eq = strchr(*e, '=');
		char var[128];
		size_t n = eq ? (size_t)(eq - *e) : 0;
		if (!eq || n >= sizeof(var))
			continue;
		memcpy(var, *e, n);
		var[n] = 0;
		one(var, eq + 1);
		any = 1;
	}
	(void)any;
	const struct net_opts *o = &preload_conf.net;
	if (!o->dev)
		die("SYNACK_DEV", NULL,
		    "SYNACK_DEV is not set: name the TAP or TUN device synack uses "
		    "(docs/PRELOAD.md)");
	if (!o->kind)
		die("SYNACK_TAP", NULL,
		    "neither SYNACK_TAP=1 nor SYNACK_TUN=1 is set: say what kind of device "
		    "SYNACK_DEV is");
	if (!o->have_addr)
		die("SYNACK_ADDR", NULL,
		    "SYNACK_ADDR is not set: give synack's address, A.B.C.D/NN");
	char err[1024];
	if (net_check(o, err, sizeof(err)) != 0) {
		/* A setting out of range: the sentence starts with its name,
		 * "arp_retries: 0 is outside ..."; named as its variable. */
		char name[64], var[80];
		size_t n = strcspn(err, " :");
		if (n < sizeof(name)) {
			memcpy(name, err, n);
			name[n] = 0;
			if (settings_find(name) || link_settings_find(name)) {
				size_t k = 0;
				for (; name[k]; k++)
					name[k] = (char)toupper((unsigned char)name[k]);
				snprintf(var, sizeof(var), "SYNACK_%s", name);
				fprintf(stderr, "libsynack-preload: %s: %s\n", var, err);
				exit(2);
			}
		}
		die("SYNACK_*", NULL, err);
	}
}
