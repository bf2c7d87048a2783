/*
 * The stack's settings by name, for `--set NAME=VALUE` on `synack serve`
 * and `synack connect`: one table row per field of struct synack_config
 * (all but addr and secret, which the tools fill themselves), each with
 * the kind of value it takes.  The ranges are not repeated here: after the
 * flags, synack_config_check() judges the whole configuration and its
 * sentence is the message.
 */
#ifndef SYNACK_TOOLS_SETTINGS_H
#define SYNACK_TOOLS_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/link.h"
#include "synack/synack.h"

enum setting_kind {
	SETTING_NUMBER = 1, /* a whole number */
	SETTING_MS,         /* a time: milliseconds, or with a unit (ms, s, min, h) */
	SETTING_BYTES,      /* a size: bytes, or with a unit (K, M, G, KiB, MiB, GiB) */
	SETTING_TEXT,       /* a NUL-terminated name in a char array */
};

struct setting {
	const char *name; /* the field's name in struct synack_config */
	int kind;         /* enum setting_kind */
	size_t offset;    /* offsetof(struct synack_config, field) */
	size_t size;      /* sizeof the field: 1, 2, 4 or 8 bytes, or the array */
};

/* The rows in struct order; NULL past the end. */
const struct setting *settings_at(size_t i);
size_t settings_count(void);
/* The row called name, or NULL. */
const struct setting *settings_find(const char *name);

/*
 * Takes "NAME=VALUE" (flag names the flag for messages, e.g. "--set"):
 * writes the value into *cfg and returns the row's index, or -1 with a
 * sentence in err: no '=', an unknown NAME (the sentence lists every
 * name), or a VALUE that is not of the row's kind or does not fit the
 * field (the sentence names the accepted units).
 */
int settings_parse(const char *flag, const char *name_value, struct synack_config *cfg, char *err,
                   size_t errlen);
/* The same for a value whose setting is known (a named flag). */
int settings_set(const char *flag, const struct setting *row, const char *value,
                 struct synack_config *cfg, char *err, size_t errlen);
/* The row's value in *cfg as text ("60000", "reno"). */
void settings_str(const struct setting *row, const struct synack_config *cfg, char *buf,
                  size_t len);

/* "mtu, ttl, time_wait_ms, ..." wrapped at width columns, each line indented. */
void settings_names(FILE *out, const char *indent, int width);

/*
 * The link's settings: the fields of struct synack_link_config that a
 * command on a TUN/TAP device (serve, connect, run, libsynack-preload) takes
 * by --set NAME=VALUE as well: ARP, neighbour discovery (RFC 4861 10), the
 * bring-up wait and the offloads.  Rows as above, offsets into struct
 * synack_link_config; no name is also a stack setting's.  Their ranges are
 * judged by synack_link_config_check().
 */
size_t link_settings_count(void);
const struct setting *link_settings_at(size_t i);
const struct setting *link_settings_find(const char *name);
int link_settings_set(const char *flag, const struct setting *row, const char *value,
                      struct synack_link_config *lc, char *err, size_t errlen);
void link_settings_str(const struct setting *row, const struct synack_link_config *lc, char *buf,
                       size_t len);
/* "arp_lifetime_ms, ..." as settings_names. */
void link_settings_names(FILE *out, const char *indent, int width);
/*
 * settings_parse for a command with a link: NAME is a stack setting (into
 * *cfg; returns 0) or a link setting (into *lc; returns 1), and *row is its
 * row; -1 with a sentence in err, which for an unknown NAME lists both.
 */
int settings_parse_link(const char *flag, const char *name_value, struct synack_config *cfg,
                        struct synack_link_config *lc, const struct setting **row, char *err,
                        size_t errlen);

#endif
