/* The classic pcap writer: the file header, records, snaplen, flushing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "synack/pcap.h"

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4); /* host order, as written */
	return v;
}

static uint16_t u16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return 0;
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void header_and_records_as_written(void)
{
	char path[] = "/tmp/synack_test_pcap_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	int err = 1;
	struct synack_pcap *p = synack_pcap_open(path, SYNACK_PCAP_LINKTYPE_RAW, 32, &err);
	CHECK(p != NULL);
	CHECK_EQ(err, 0);
	uint8_t buf[512];
	/* The header reaches the file at once. */
	CHECK_EQ(slurp(path, buf, sizeof(buf)), 24);
	CHECK_EQ_U64(u32(buf), 0xa1b2c3d4u);
	CHECK_EQ(u16(buf + 4), 2);
	CHECK_EQ(u16(buf + 6), 4);
	CHECK_EQ_U64(u32(buf + 8), 0);
	CHECK_EQ_U64(u32(buf + 16), 32);
	CHECK_EQ_U64(u32(buf + 20), 101);

	uint8_t a[20], b[40];
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	CHECK_EQ(synack_pcap_write(p, 1700000000123456ull, a, sizeof(a)), 0);
	CHECK_EQ(synack_pcap_write(p, 1700000001000001ull, b, sizeof(b)), 0);
	CHECK_EQ_U64(synack_pcap_records(p), 2);
	CHECK_EQ(synack_pcap_flush(p), 0);
	size_t n = slurp(path, buf, sizeof(buf));
	CHECK_EQ(n, 24 + 16 + 20 + 16 + 32);
	const uint8_t *r = buf + 24;
	CHECK_EQ_U64(u32(r), 1700000000u);
	CHECK_EQ_U64(u32(r + 4), 123456);
	CHECK_EQ_U64(u32(r + 8), 20);
	CHECK_EQ_U64(u32(r + 12), 20);
	CHECK(memcmp(r + 16, a, 20) == 0);
	r += 16 + 20;
	CHECK_EQ_U64(u32(r), 1700000001u);
	CHECK_EQ_U64(u32(r + 4), 1);
	CHECK_EQ_U64(u32(r + 8), 32); /* cut to snaplen */
	CHECK_EQ_U64(u32(r + 12), 40);
	CHECK(memcmp(r + 16, b, 32) == 0);
	CHECK_EQ(synack_pcap_close(p), 0);
	unlink(path);
}

static void unwritable_path_fails_cleanly(void)
{
	int err = 0;
	CHECK(synack_pcap_open("/nonexistent-dir/x.pcap", 1, 0, &err) == NULL);
	CHECK_EQ(err, -ENOENT);
	CHECK(synack_pcap_open("", 1, 0, &err) == NULL);
	CHECK_EQ(err, -EINVAL);
	CHECK_EQ(synack_pcap_write(NULL, 0, "", 0), -EINVAL);
	CHECK_EQ(synack_pcap_close(NULL), 0);
}

int main(void)
{
	RUN(header_and_records_as_written);
	RUN(unwritable_path_fails_cleanly);
	return check_summary("test_pcap");
}
