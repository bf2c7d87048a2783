/* Built when lwIP cannot be part of this build (CMake says why in
 * SYNACK_BENCH_LWIP_WHY): the lwIP rows say so. */
#include "bench.h"

void bench_lwip(const struct bench_opts *o)
{
	(void)o;
	res_skip("lifecycle", "lwip", "all", "lifecycles_per_s", "%s", SYNACK_BENCH_LWIP_WHY);
}
