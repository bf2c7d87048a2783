#include "cli_parse.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "FLAG: 'VALUE' is not WHAT in [MIN, MAX]NOTE" for a whole number. */
static int bad_whole(const struct cli_opt *o, const char *val, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: '%s' is not %s in [%llu, %llu]%s", o->name, val,
	         o->what ? o->what : "a whole number", (unsigned long long)o->min,
	         (unsigned long long)o->max, o->note ? o->note : "");
	return -1;
}

/* The value of flag o, stored into opts; -1 with a sentence. */
static int take_value(const struct cli_opt *o, void *opts, const char *val, char *err,
                      size_t errlen)
{
	char *dst = (char *)opts + o->off;
	uint64_t u;
	double d;
	switch (o->kind) {
	case CLI_U64:
	case CLI_I64:
	case CLI_INT:
	case CLI_UINT:
		if (cli_parse_u64(val, o->max, &u) != 0)
			return bad_whole(o, val, err, errlen);
		if (u < o->min) {
			if (!o->low)
				return bad_whole(o, val, err, errlen);
			snprintf(err, errlen, "%s: %s", o->name, o->low);
			return -1;
		}
		if (o->kind == CLI_U64)
			memcpy(dst, &u, sizeof(u));
		else if (o->kind == CLI_I64)
			memcpy(dst, &(int64_t){(int64_t)u}, sizeof(int64_t));
		else if (o->kind == CLI_INT)
			memcpy(dst, &(int){(int)u}, sizeof(int));
		else
			memcpy(dst, &(unsigned){(unsigned)u}, sizeof(unsigned));
		return 0;
	case CLI_PROB:
		if (cli_flag_prob(o->name, val, &d, err, errlen) != 0)
			return -1;
		memcpy(dst, &d, sizeof(d));
		return 0;
	case CLI_DOUBLE:
		if (cli_parse_double(val, o->dmin, o->dmax, &d) != 0) {
			snprintf(err, errlen, "%s: '%s' is not %s in [%g, %g]%s", o->name, val,
			         o->what ? o->what : "a number", o->dmin, o->dmax,
			         o->note ? o->note : "");
			return -1;
		}
		memcpy(dst, &d, sizeof(d));
		return 0;
	case CLI_BYTES:
		if (cli_flag_bytes(o->name, val, o->max, &u, err, errlen) != 0)
			return -1;
		memcpy(dst, &u, sizeof(u));
		return 0;
	case CLI_TIME_MS:
		if (cli_flag_time_ms(o->name, val, o->max, &u, err, errlen) != 0)
			return -1;
		memcpy(dst, &u, sizeof(u));
		return 0;
	case CLI_PATH: {
		const char *p;
		if (cli_flag_path(o->name, val, &p, err, errlen) != 0)
			return -1;
		memcpy(dst, &p, sizeof(p));
		return 0;
	}
	default:
		return o->fn(opts, o->name, val, err, errlen);
	}
}

static void set_int(void *opts, size_t off_plus_1)
{
	if (off_plus_1)
		memcpy((char *)opts + off_plus_1 - 1, &(int){1}, sizeof(int));
}

int cli_parse(const struct cli_table *t, void *opts, int argc, char **argv, char *err,
              size_t errlen)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (t->help && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			set_int(opts, t->help);
			if (t->help_stops)
				return i + 1;
			continue;
		}
		if (a[0] != '-' || a[1] == 0) {
			if (!t->positional) {
				snprintf(err, errlen, "%s '%s' %s",
				         t->args_are_flags ? t->unknown : "unexpected argument", a,
				         t->hint);
				return -1;
			}
			int rc = t->positional(opts, a, err, errlen);
			if (rc < 0)
				return -1;
			if (rc > 0)
				return i;
			continue;
		}
		if (t->dashdash && strcmp(a, "--") == 0)
			return i + 1;
		if (t->more) {
			int rc = t->more(opts, argc, argv, &i, err, errlen);
			if (rc < 0)
				return -1;
			if (rc > 0)
				continue;
		}
		const struct cli_opt *o = NULL;
		const char *val = NULL;
		for (size_t k = 0; k < t->n && !o; k++) {
			size_t len = strlen(t->opts[k].name);
			if (strncmp(a, t->opts[k].name, len) != 0)
				continue;
			if (a[len] == 0)
				o = &t->opts[k];
			else if (a[len] == '=' && t->opts[k].kind != CLI_SWITCH)
				o = &t->opts[k], val = a + len + 1;
		}
		if (!o) {
			snprintf(err, errlen, "%s '%s' %s", t->unknown, a, t->hint);
			return -1;
		}
		if (o->kind == CLI_SWITCH) {
			set_int(opts, o->off + 1);
		} else {
			if (!val) {
				if (i + 1 >= argc) {
					snprintf(err, errlen, "%s needs a value", o->name);
					return -1;
				}
				val = argv[++i];
			}
			if (take_value(o, opts, val, err, errlen) != 0)
				return -1;
		}
		set_int(opts, o->seen);
	}
	return argc;
}

int cli_usage_check(const struct cli_table *t, void (*usage)(FILE *out), char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		snprintf(err, errlen, "open_memstream failed");
		return -1;
	}
	usage(f);
	fclose(f);
	int rc = 0;
	for (size_t k = 0; k < t->n && rc == 0; k++) {
		const char *name = t->opts[k].name;
		size_t n = strlen(name);
		const char *p = text;
		while ((p = strstr(p, name)) != NULL) {
			char after = p[n];
			if (!(after >= 'a' && after <= 'z') && after != '-' &&
			    !(after >= '0' && after <= '9'))
				break;
			p += n;
		}
		if (!p) {
			snprintf(err, errlen, "%s is not in the help text", name);
			rc = -1;
		}
	}
	free(text);
	return rc;
}
