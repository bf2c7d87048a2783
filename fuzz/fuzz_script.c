/*
 * fuzz_script: the parser of `synack script` files (tools/script_parse.c,
 * docs/SCRIPTS.md) on any text.
 *
 * Nothing may crash, leak or read past the input (which is not
 * NUL-terminated).  A refusal must come with one terminated sentence in
 * the FILE:LINE:COL form ("fuzz.synack:3:7: expected ..."), at a line the
 * input has; an accepted script must hold statements of known kinds, at
 * increasing lines, with configurations synack_config_check takes.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	memset(err, 0x55, sizeof(err));
	/* A copy of exactly size bytes, so ASan sees a read past its end. */
	char *text = calloc(1, size ? size : 1);
	if (!text)
		return 0;
	if (size)
		memcpy(text, data, size);
	struct script *s = script_parse("fuzz.synack", text, size, err, sizeof(err));
	size_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (!s) {
		if (!memchr(err, '\0', sizeof(err)))
			fuzz_fail("refused without a terminated sentence");
		unsigned long line = 0, col = 0;
		if (strncmp(err, "fuzz.synack:", 12) != 0)
			fuzz_fail("refusal not naming the file: %.80s", err);
		char *end;
		line = strtoul(err + 12, &end, 10);
		if (*end == ':')
			col = strtoul(end + 1, &end, 10);
		if (line == 0 || line > lines || col == 0 || strncmp(end, ": expected ", 11) != 0)
			fuzz_fail("refusal not FILE:LINE:COL: expected ...: %.120s", err);
		free(text);
		return 0;
	}
	int last = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct script_stmt *st = &s->st[i];
		if (st->kind < SCR_PATH || st->kind > SCR_LAST)
			fuzz_fail("statement %zu of unknown kind %d", i, st->kind);
		if (st->line <= last || (size_t)st->line > lines)
			fuzz_fail("statement %zu at line %d after line %d", i, st->line, last);
		last = st->line;
		if (st->host < 0 || st->host > SCRIPT_BOTH)
			fuzz_fail("statement %zu: host %d", i, st->host);
		if ((st->kind == SCR_TIMER || st->kind == SCR_EXPECT_TIMER) &&
		    (st->option < 0 || st->option >= s->ntimers ||
		     (st->has_len && (st->count < 0 || st->count >= s->ntimers))))
			fuzz_fail("statement %zu: timer %d of %d", i, st->option, s->ntimers);
		if ((st->in_compare || (st->kind == SCR_EXPECT_TIMER && st->has_seq)) &&
		    !s->has_compare)
			fuzz_fail("statement %zu: about a comparison run the file has not", i);
	}
	for (int k = 0; k < (s->has_compare ? 4 : 2); k++) {
		int h = k & 1;
		struct synack_config c = k < 2 ? s->cfg[h] : s->ccfg[h]; /* ccfg: compare NAME */
		c.addr = h == DEMO_CLIENT ? 0x0a000001u : 0x0a000002u;
		if (synack_config_check(&c, NULL, 0) != 0)
			fuzz_fail("host %d: a configuration the stack refuses was accepted", h);
	}
	script_free(s);
	free(text);
	return 0;
}
