/*
 * Rendering of a demo run: the events the engine collected (trace records of
 * both stacks, application calls, narration), in virtual-time order, as a
 * ladder diagram for people or as JSON lines for programs.
 */
#ifndef SYNACK_TOOLS_RENDER_H
#define SYNACK_TOOLS_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "synack/synack.h"

enum render_kind {
	RENDER_TRACE = 1, /* a synack_trace record */
	RENDER_APP,       /* an application call and its return value */
	RENDER_NOTE,      /* a line of narration (ladder only) */
};

#define RENDER_MAX_ARRIVALS 4

struct render_event {
	uint64_t t_us;
	uint64_t order;         /* collection order, breaks ties in time */
	int host;               /* DEMO_CLIENT, DEMO_SERVER */
	int kind;               /* enum render_kind */
	struct synack_trace tr; /* RENDER_TRACE */
	/* RENDER_APP: call name, return value, the socket's endpoints */
	const char *call;
	long ret;
	struct synack_endpoint local, remote;
	char text[96]; /* RENDER_NOTE */
	/* Fate of a sent segment (RENDER_TRACE, SYNACK_TRACE_TX), from the sim tap. */
	int fate_known;
	int lost;
	size_t narrive;
	uint64_t arrive_us[RENDER_MAX_ARRIVALS];
};

struct render_log {
	struct render_event *ev;
	size_t n, cap;
	uint64_t next_order;
};

void render_log_init(struct render_log *log);
void render_log_free(struct render_log *log);
/* Appends a zeroed event and returns it, or NULL when out of memory. */
struct render_event *render_log_add(struct render_log *log, uint64_t t_us, int host, int kind);
/* Sorts by time, ties by collection order. */
void render_log_sort(struct render_log *log);

/* "a.b.c.d:p-e.f.g.h:q", local first; buf >= 48 bytes. */
const char *render_conn_str(const struct synack_endpoint *local,
                            const struct synack_endpoint *remote, char *buf, size_t len);

/* One JSON object per event (notes are left out). */
void render_json(FILE *out, const struct render_log *log);
/* The JSON line of one event (nothing for a note), for callers that stream
 * events in time order instead of collecting a log. */
void render_json_event(FILE *out, const struct render_event *e);

struct render_ladder_info {
	const char *scenario, *description;
	uint64_t seed;
	struct synack_endpoint client, server; /* shown in the header */
};
void render_ladder(FILE *out, const struct render_log *log, const struct render_ladder_info *info);

/* "EINPROGRESS", "ECONNRESET" ... for the errno values calls return; NULL
 * for others. */
const char *render_errno_name(long e);

/* Writes s as a JSON string (with quotes). */
void render_json_string(FILE *out, const char *s);

#endif
