/* Built when the lwIP headers or library (Debian liblwip-dev) were not found
 * at configure time: the lwIP rows say so. */
#include "bench.h"

void bench_lwip(const struct bench_opts *o)
{
	(void)o;
	res_skip("lifecycle", "lwip", "all", "lifecycles_per_s",
	         "not built: lwIP headers or library not found at configure time "
	         "(apt-get install liblwip-dev, then re-run cmake)");
}
