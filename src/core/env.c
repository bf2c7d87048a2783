#include "core/env.h"

/* synack_stats.drops is a fixed array in the public ABI. */
_Static_assert(SYNACK_DROP_COUNT <= 128, "more drop reasons than synack_stats.drops holds");

void env_count_drop(struct env *st, int reason)
{
	if (reason > 0 && reason < SYNACK_DROP_COUNT)
		st->stats.drops[reason]++;
}
