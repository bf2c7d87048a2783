/*
 * The applications `synack serve` runs on each connection: echo, discard
 * and a small HTTP/1.1 server whose body is a checkable pattern.  They are
 * event-driven: app_conn_event() does what the socket's readiness allows
 * and returns; nothing here blocks or loops waiting.
 */
#ifndef SYNACK_TOOLS_APPS_H
#define SYNACK_TOOLS_APPS_H

#include <stddef.h>
#include <stdint.h>

#include "synack/synack.h"

enum app_kind {
	APP_ECHO = 1,
	APP_DISCARD,
	APP_HTTP,
};

#define APP_HTTP_DEFAULT_SIZE 1024
#define APP_HTTP_MAX_SIZE (16ull << 30) /* 16 GiB: line numbers stay 8 hex digits */
#define APP_HTTP_MAX_REQUEST 8192

/* "echo", "discard", "http" -> enum app_kind, or 0. */
int app_kind_parse(const char *name);
const char *app_kind_name(int kind);
uint16_t app_default_port(int kind);

/*
 * The body pattern: lines of 8 lowercase hex digits of the line number and
 * "\n" ("00000000\n00000001\n..."); fills buf with len bytes of it starting
 * at byte offset.
 */
void app_pattern(uint64_t offset, uint8_t *buf, size_t len);

struct app_conn;

struct app_conn *app_conn_new(int kind, uint64_t http_size);
void app_conn_free(struct app_conn *c);
/*
 * Does what socket s's readiness allows.  Returns 1 when the application is
 * done with the connection and has released the socket (synack_close), 0
 * otherwise.
 */
int app_conn_event(struct app_conn *c, struct synack_stack *st, int s);
/*
 * Graceful stop (SIGINT): no new requests or echoes; what is queued goes
 * out, then a FIN (shutdown SHUT_WR); input is read and dropped until the
 * peer's FIN.  Returns 1 when the socket was released.
 */
int app_conn_stop(struct app_conn *c, struct synack_stack *st, int s);

#endif
