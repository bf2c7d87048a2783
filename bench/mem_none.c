/* Built when the library has no synack_memory(): the memory figures then
 * come from the C library's heap counters and RSS only, and the output says
 * that the accounting figures are missing. */
#include "bench.h"

int bench_synack_memory(const struct synack_stack *st, struct bench_mem *out)
{
	(void)st;
	(void)out;
	return -1;
}
