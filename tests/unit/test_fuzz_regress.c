/*
 * Regressions for what the fuzz targets (fuzz/) found, one test per
 * finding, each named after the state and event as the state tests are.
 * The input that found it is kept in fuzz/regress/<target>/ and replayed
 * by the fuzz_<target>_corpus test.
 */
#include "check.h"
#include "script.h"

/*
 * fuzz_stack: close() in SYN_RECEIVED of an active (simultaneous) open goes
 * to FIN_WAIT_1 without passing ESTABLISHED, where congestion control is set
 * up; the retransmission timeout then used the connection's missing
 * algorithm (a NULL dereference).  Now the connection retransmits and the
 * peer's ACK of the SYN and FIN completes the close.
 */
static void syn_received_active_close_then_timeout_retransmits(void)
{
	struct t *t = t_new();
	t_at(t, 0);
	t_to_syn_sent(t);
	t_peer(t, "S", 1000, 0, 0);
	t_expect(t, "S.", T_ISS, 1001, 0);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_close(t);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_drain(t);
	t_at(t, 10000);
	CHECK(t_drain(t) > 0);
	t_state(t, SYNACK_FIN_WAIT_1);
	t_peer(t, ".", 1001, T_ISS + 2, 0);
	t_drain(t);
	t_state(t, SYNACK_FIN_WAIT_2);
	t_free(t);
}

int main(void)
{
	RUN(syn_received_active_close_then_timeout_retransmits);
	return check_summary("test_fuzz_regress");
}
