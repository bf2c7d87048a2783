/*
 * Out of memory on the paths that allocate on first use (docs/BEHAVIOUR.md,
 * "Memory"): the stack takes the cautious course and says so, never
 * crashes.  This program is linked with -Wl,--wrap=malloc, so every malloc
 * of the library (and of the harness) goes through wrap_malloc below, which
 * fails the next request of one chosen size when a test asks for it.  A
 * test then checks that the failure was really handed out, so it cannot
 * pass by the allocation not happening.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "check.h"
#include "script.h"
#include "sock/sock.h"
#include "tcp/tcp.h"

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);

static size_t fail_size; /* the next malloc of this size fails; 0: none */
static int failed;       /* failures handed out */

void *__wrap_malloc(size_t n)
{
	if (fail_size && n == fail_size) {
		fail_size = 0;
		failed++;
		return NULL;
	}
	return __real_malloc(n);
}

static void fail_next(size_t size)
{
	fail_size = size;
	failed = 0;
}

/* The failure was handed out.  Sizes may be shared (struct ring and struct
 * tcb_rare are both 24 bytes on x86-64), so each test also checks the
 * outcome only the allocation it aims at can cause. */
#define CHECK_FAILED_ONCE() CHECK_EQ(failed, 1)

/* No memory for a passive connection's links to its listener: the SYN is
 * dropped (no_memory) and unanswered; the peer's retransmission succeeds. */
static void syn_without_child_links_is_dropped(void)
{
	struct t *t = t_new();
	t_listen(t);
	fail_next(sizeof(struct tcp_child));
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	CHECK_FAILED_ONCE();
	t_dropped(t, SYNACK_DROP_NO_MEMORY);
	t_expect_nothing(t);
	t_drops(t, SYNACK_DROP_NO_MEMORY, 1);
	t_peer(t, "S", T_PEER_ISN, 0, 0);
	t_expect(t, "S.", T_ISS, T_PEER_ISN + 1, 0);
	t_state(t, SYNACK_SYN_RECEIVED);
	t_free(t);
}

/* RFC 5961 challenge ACK without memory to count it: not sent, counted as
 * limited; with memory again the next one goes out. */
static void challenge_ack_without_rare_state_is_not_sent(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	fail_next(sizeof(struct tcb_rare));
	t_peer(t, "S", 77777, 0, 0);
	CHECK_FAILED_ONCE();
	t_expect_nothing(t);
	t_counter(t, "ChallengeAcksLimited", 1);
	t_counter(t, "ChallengeAcks", 0);
	t_state(t, SYNACK_ESTABLISHED);
	t_peer(t, "S", 77777, 0, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_counter(t, "ChallengeAcks", 1);
	t_free(t);
}

/* An unacceptable pure ACK without memory to remember the last answer:
 * not answered (AckSkippedSeq), so no ACK storm can come of it. */
static void out_of_window_ack_without_rare_state_is_not_answered(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	fail_next(sizeof(struct tcb_rare));
	t_peer(t, ".", 1001 + 100000, T_ISS + 1, 0);
	CHECK_FAILED_ONCE();
	t_dropped(t, SYNACK_DROP_SEQ_OUT_OF_WINDOW);
	t_expect_nothing(t);
	t_counter(t, "AckSkippedSeq", 1);
	t_peer(t, ".", 1001 + 100000, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1001, 0);
	t_free(t);
}

/* The connection ends with unread data and there is no memory to keep it
 * for the socket: recv says ENOMEM instead of a silent end of file. */
static void unread_data_without_memory_is_reported(void)
{
	struct t *t = t_new();
	t_establish_passive(t);
	t_peer(t, "P.", 1001, T_ISS + 1, 300);
	t_drain(t);
	t_peer(t, "F.", 1301, T_ISS + 1, 0);
	t_expect(t, ".", T_ISS + 1, 1302, 0);
	t_shutdown_wr(t);
	t_expect(t, "F.", T_ISS + 1, 1302, 0);
	fail_next(sizeof(struct ring));
	t_peer(t, ".", 1302, T_ISS + 2, 0);
	CHECK_FAILED_ONCE();
	t_state(t, SYNACK_CLOSED);
	t_recv_err(t, -ENOMEM);
	struct synack_mem m;
	synack_memory(t->st, &m);
	CHECK_EQ_U64(m.buffers, 0); /* nothing held for the lost data */
	t_free(t);
}

int main(void)
{
	RUN(syn_without_child_links_is_dropped);
	RUN(challenge_ack_without_rare_state_is_not_sent);
	RUN(out_of_window_ack_without_rare_state_is_not_answered);
	RUN(unread_data_without_memory_is_reported);
	return check_summary("test_oom");
}
