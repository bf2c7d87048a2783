/* synack's allocator accounting, built when include/synack/synack.h declares
 * synack_memory() (see bench/CMakeLists.txt). */
#include "bench.h"
#include "synack/synack.h"

int bench_synack_memory(const struct synack_stack *st, struct bench_mem *out)
{
	struct synack_mem m;
	synack_memory(st, &m);
	out->total = m.total;
	out->tcbs = m.tcbs;
	out->time_wait = m.time_wait;
	out->syn_pending = m.syn_pending;
	out->buffers = m.buffers;
	out->other = m.other;
	out->sockets = m.sockets;
	out->packets = m.packets;
	return 0;
}
