/*
 * Congestion control: the interface an algorithm implements.
 *
 * An algorithm decides how the congestion window grows and how far it
 * falls; it does not detect loss.  Loss detection and recovery (duplicate
 * ACKs, fast retransmit, NewReno partial ACKs, the reaction to a
 * retransmission timeout; later SACK and RACK-TLP) live in tcp_recovery.c,
 * which tells the algorithm what happened through the typed signals below.
 * Every signal carries the time, so an algorithm that grows with time
 * (CUBIC, RFC 9438) needs no clock of its own.
 *
 * Each algorithm is one file (cc_reno.c ...) defining a struct tcp_cc_ops,
 * listed in tcp_cc.c.  Its per-connection state lives in the sender's
 * state beside the TCB (struct tcp_sender, tcp_cc_priv()), TCP_CC_PRIV_SIZE
 * bytes aligned for uint64_t: out of line, taken from a per-stack cache
 * when the connection will send, so that listeners and half-open
 * connections do not carry it and the TCB keeps its size.  An algorithm
 * declares its state as a struct and checks with TCP_CC_PRIV_FITS that it
 * fits.
 */
#ifndef SYNACK_TCP_CC_H
#define SYNACK_TCP_CC_H

#include <stddef.h>
#include <stdint.h>

struct tcb;
struct synack_tcp_info;

/* Room for an algorithm's state: Linux's CUBIC (struct bictcp) needs about
 * 64 bytes with HyStart. */
#define TCP_CC_PRIV_SIZE 64
#define TCP_CC_PRIV_FITS(type)                                                                     \
	_Static_assert(sizeof(type) <= TCP_CC_PRIV_SIZE && _Alignof(type) <= _Alignof(uint64_t),   \
	               #type " fits in the congestion control area")

/* The ACK signal: an ACK advanced SND.UNA (RFC 5681 section 2's "new
 * data" ACK).  Recovery has already acted on it when the algorithm hears
 * of it; ca_state says where the connection was when it arrived. */
struct tcp_cc_ack {
	uint64_t now;
	uint32_t acked;         /* bytes newly acknowledged */
	uint32_t flight_before; /* bytes in flight before the ACK (FlightSize) */
	uint32_t rtt_us;        /* the RTT sample it gave (RFC 6298), 0 when none */
	uint8_t ca_state;       /* enum synack_ca_state when the ACK arrived */
};

/* The other signals. */
enum tcp_cc_signal {
	CC_SIG_RECOVERY_ENTER, /* loss detected, recovery begins (cause says how) */
	CC_SIG_RECOVERY_EXIT,  /* recovery ended: every byte sent before it acknowledged */
	CC_SIG_RTO,            /* a retransmission timeout: cwnd is now one segment */
	CC_SIG_IDLE_RESTART,   /* sending after an idle period longer than the RTO */
	CC_SIG_ECN_ECHO,       /* an ECN-Echo (RFC 3168 6.1.2): ssthresh asked, cwnd reduced */
};

/* How a loss was detected. */
enum tcp_cc_cause {
	CC_CAUSE_NONE,
	CC_CAUSE_DUPACKS, /* three duplicate ACKs (RFC 5681 3.2) */
	CC_CAUSE_SACK,    /* reserved: the SACK scoreboard (RFC 6675), later */
	CC_CAUSE_RACK,    /* reserved: RACK-TLP (RFC 8985), later */
	CC_CAUSE_RTO,     /* the retransmission timer */
	CC_CAUSE_ECN,     /* the peer echoed a congestion mark (RFC 3168 6.1.2): no loss */
};

struct tcp_cc_event {
	uint64_t now;
	uint32_t flight; /* bytes in flight when it happened */
	uint8_t signal;  /* enum tcp_cc_signal */
	uint8_t cause;   /* enum tcp_cc_cause */
	/* A reduction inside an episode whose undo state stands (a timeout
	 * during a fast recovery, tcp_recovery_timeout): what the
	 * algorithm's undo_cwnd restores stays the one from before the
	 * episode's first reduction. */
	uint8_t undo_kept;
};

struct tcp_cc_ops {
	const char *name;
	/* Sets up its area (cwnd and ssthresh are already the initial values). */
	void (*init)(struct tcb *tcb, uint64_t now);
	/* The ACK signal, for every ACK of new data on a synchronized
	 * connection: grow cwnd where the algorithm's rules say so. */
	void (*ack)(struct tcb *tcb, const struct tcp_cc_ack *ack);
	/* Loss detected (recovery entry, or the first timeout of a
	 * segment), or an ECN-Echo: the new ssthresh.  Asked once per
	 * reduction; an algorithm treats them alike (RFC 9438 4.6 applies to
	 * ECN as to loss), ev->signal says which it was. */
	uint32_t (*ssthresh)(struct tcb *tcb, const struct tcp_cc_event *ev);
	/* Optional: told of every signal of enum tcp_cc_signal. */
	void (*event)(struct tcb *tcb, const struct tcp_cc_event *ev);
	/* Optional: the last reduction was spurious (RFC 9438 4.9): put the
	 * algorithm's state back and return the cwnd to restore. */
	uint32_t (*undo_cwnd)(struct tcb *tcb);
	/* Optional: its state for synack_tcp_info (cubic_wmax, cubic_k_ms,
	 * hystart). */
	void (*info)(const struct tcb *tcb, struct synack_tcp_info *info);
};

const struct tcp_cc_ops *tcp_cc_find(const char *name);
/* The algorithm's place in the list (what tcb->cc_algo and
 * tcp_opts.cc_algo hold), or -1 when none has that name.  Names are
 * resolved once: at stack creation for congestion_control, and when
 * TCP_CONGESTION is set; connections keep the index. */
int tcp_cc_lookup(const char *name);
/* The name of algorithm i, NULL past the last (for error messages). */
const char *tcp_cc_name(size_t i);

/* What recovery calls: the signals, delivered to the connection's algorithm. */
void tcp_cc_ack(struct tcb *tcb, const struct tcp_cc_ack *ack);
uint32_t tcp_cc_ssthresh(struct tcb *tcb, const struct tcp_cc_event *ev);
void tcp_cc_event(struct tcb *tcb, const struct tcp_cc_event *ev);
/* RFC 5681 4.1: the restart window after an idle period, then the
 * algorithm's CC_SIG_IDLE_RESTART. */
void tcp_cc_idle_restart(struct tcb *tcb, const struct tcp_cc_event *ev);
/* A spurious reduction is undone (RFC 9438 4.9): the cwnd to go back to,
 * from the algorithm (the current cwnd when it has no undo). */
uint32_t tcp_cc_undo_cwnd(struct tcb *tcb);
/* TCP_CONGESTION on a live connection: the connection takes algorithm
 * algo (tcp_cc_lookup), set up afresh with cwnd and ssthresh as they are
 * (Linux's tcp_reinit_congestion_control). */
void tcp_cc_switch(struct tcb *tcb, uint8_t algo);

/* Helpers for algorithms. */
/* RFC 5681 3.1 slow start with RFC 3465 appropriate byte counting (L = 2
 * SMSS).  Returns the acked bytes slow start did not use (left for
 * congestion avoidance once cwnd reaches ssthresh). */
uint32_t tcp_cc_slow_start(struct tcb *tcb, uint32_t acked);
/* tcp_cc_cwnd_limited (is cwnd what limits sending, RFC 7661?) and
 * tcp_cc_flight (bytes sent and not yet acknowledged) are inline in tcp.h,
 * after struct tcb: every ACK asks them. */

/* HyStart++ (RFC 9406, tcp_hystart.c): slow start that leaves early on a
 * delay increase, for any algorithm (it is CC-neutral).  The algorithm
 * keeps this in its area and calls tcp_hystart_ack instead of
 * tcp_cc_slow_start. */
struct tcp_hystart {
	uint32_t window_end;         /* windowEnd: SND.NXT when the round began */
	uint32_t last_round_min_rtt; /* lastRoundMinRTT, microseconds (UINT32_MAX: none) */
	uint32_t cur_round_min_rtt;  /* currentRoundMinRTT */
	union {
		uint32_t css_baseline_min_rtt; /* in CSS: cssBaselineMinRtt */
		/* In standard slow start, for hystart_detect 2: when the last
		 * sample came, or in a pause's shadow (group_count's top bit)
		 * when the shadow ends (the clock in microseconds, truncated). */
		uint32_t group_at_us;
	};
	uint8_t rtt_sample_count; /* rttSampleCount (saturates) */
	uint8_t css_rounds;       /* rounds spent in CSS */
	uint8_t phase;            /* enum tcp_hystart_phase */
	/* hystart_detect 2 (issue 13): the samples of the group of
	 * N_RTT_SAMPLE being collected in this round (the top bit: in a
	 * pause's shadow), and their minimum. */
	uint8_t group_count;
	uint32_t group_min_rtt;
};
enum tcp_hystart_phase {
	HYSTART_OFF, /* not the initial slow start, or the setting is 0 */
	HYSTART_SS,  /* standard slow start, watching the delay */
	HYSTART_CSS, /* Conservative Slow Start (RFC 9406 4.2) */
};
void tcp_hystart_init(struct tcb *tcb, struct tcp_hystart *h);
/* An ACK in slow start (cwnd < ssthresh): cwnd grows as RFC 9406 4.2
 * says.  Returns the acked bytes slow start did not use, as
 * tcp_cc_slow_start. */
uint32_t tcp_hystart_ack(struct tcb *tcb, struct tcp_hystart *h, const struct tcp_cc_ack *a);
/* A reduction (loss or ECN) ends HyStart++ for the connection (RFC 9406
 * 4.3: only the initial slow start uses it). */
static inline void tcp_hystart_stop(struct tcp_hystart *h)
{
	h->phase = HYSTART_OFF;
}

/* The algorithm's fields of synack_tcp_info (its name, its state). */
void tcp_cc_info(const struct tcb *tcb, struct synack_tcp_info *info);
/* Has tcp_cc_init run for the connection (its algorithm's area is set up)? */
int tcp_cc_running(const struct tcb *tcb);

/* CUBIC's arithmetic (cc_cubic.c), open to the tests: floor(cbrt(x)); K
 * of RFC 9438 eq. 2 in 1/1024 s for windows in bytes; W_cubic(t) of eq. 1
 * in bytes for t and K in 1/1024 s. */
uint32_t tcp_cubic_root(uint64_t x);
uint32_t tcp_cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss);
uint64_t tcp_cubic_window(uint32_t w_max, uint32_t k, uint64_t t, uint32_t mss);

extern const struct tcp_cc_ops tcp_cc_reno;
extern const struct tcp_cc_ops tcp_cc_cubic;

#endif
