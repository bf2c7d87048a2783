/*
 * fuzz_pcap: the capture reader of `synack script --from-pcap`
 * (tools/pcap_read.c) and the script it makes (tools/script_pcap.c) on any
 * bytes.
 *
 * Nothing may crash, leak or read past the input.  A refusal must come
 * with one terminated, non-empty sentence; a capture read must give
 * segments whose payload lies inside the input, no more segments than
 * records, and captured bytes no more than the segment carried.  The
 * script made from it, for either side, must be one `synack script`
 * reads (tools/script_parse.c): a replay the user can edit and run.
 */
#include <stdlib.h>
#include <string.h>

#include "demo.h"
#include "fuzz.h"
#include "pcap_read.h"
#include "script.h"
#include "script_pcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	memset(err, 0x55, sizeof(err));
	/* A copy of exactly size bytes, so ASan sees a read past its end. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	struct pcap_trace t;
	if (pcap_trace_read(buf, size, &t, err, sizeof(err)) != 0) {
		if (!memchr(err, '\0', sizeof(err)) || err[0] == '\0')
			fuzz_fail("refused without a sentence");
		if (t.seg || t.n)
			fuzz_fail("refused, but kept %zu segments", t.n);
		free(buf);
		return 0;
	}
	if (t.n > t.frames)
		fuzz_fail("%zu segments from %llu records", t.n, (unsigned long long)t.frames);
	for (size_t i = 0; i < t.n; i++) {
		const struct pcap_seg *s = &t.seg[i];
		if (s->caplen > s->len)
			fuzz_fail("segment %zu: %u bytes captured of %u", i, s->caplen, s->len);
		if (s->data < buf || s->data + s->caplen > buf + size)
			fuzz_fail("segment %zu: payload outside the input", i);
		if (s->family != 4 && s->family != 6)
			fuzz_fail("segment %zu: family %u", i, s->family);
	}
	for (int side = DEMO_CLIENT; side <= DEMO_SERVER; side++) {
		struct frompcap_opts o;
		memset(&o, 0, sizeof(o));
		o.pcap = "fuzz.pcap";
		o.side = side;
		o.port = -1;
		char *text = NULL;
		memset(err, 0x55, sizeof(err));
		if (frompcap_script(&t, &o, &text, err, sizeof(err)) != 0) {
			if (!memchr(err, '\0', sizeof(err)) || err[0] == '\0' || text)
				fuzz_fail("no script, and no sentence");
			continue;
		}
		char perr[512];
		struct script *s =
		    script_parse("fuzz.synack", text, strlen(text), perr, sizeof(perr));
		if (!s)
			fuzz_fail("the script made does not parse: %s", perr);
		script_free(s);
		free(text);
	}
	pcap_trace_free(&t); /* t.buf is NULL: buf is ours */
	free(buf);
	return 0;
}
