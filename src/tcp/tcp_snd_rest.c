/*
 * The sender's state at rest (issue 16 item 4: an idle established
 * connection's memory).
 *
 * struct tcp_sender (congestion control's area, the scoreboard's sums,
 * RACK-TLP, undo, F-RTO, pacing, the delivery rate) is some 300 bytes,
 * most of which describe a flight: with nothing outstanding they are
 * zero.  A connection quiet for a retransmission timeout (RFC 5681 4.1's
 * idle; the reclaim deadline that also gives back drained buffers, here
 * armed too when everything sent is acknowledged) keeps instead only the
 * state's nonzero 64-bit words, with a bitmap of where they go: the
 * algorithm's w_max, the minimum RTTs, the delivered count and the like:
 * 3 of its 40 words after a handshake alone, about half after a transfer.  The encoding is
 * lossless, so nothing is decided differently: the state is put back word for word before anything
 * reads it.  Everything that reads the sender's state runs behind one of the entry points that wake
 * it (a segment for the connection, tcp_output, a change of the algorithm), or, when it only
 * reports (tcp_status, the connection list), reads a decoded copy
 * (tcp_snd_view); at rest tcb->sender is NULL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"

#define SND_WORDS (sizeof(struct tcp_sender) / sizeof(uint64_t))
#define SND_MAPS ((SND_WORDS + 63) / 64)
_Static_assert(sizeof(struct tcp_sender) % sizeof(uint64_t) == 0,
               "the sender's state is a whole number of 64-bit words");

struct tcp_snd_rest {
	uint64_t map[SND_MAPS]; /* bit i: word i of the state is nonzero, and stored */
	uint64_t word[];        /* the nonzero words, in order */
};

static uint32_t rest_words(const struct tcp_snd_rest *r)
{
	uint32_t n = 0;
	for (size_t i = 0; i < SND_MAPS; i++)
		n += (uint32_t)__builtin_popcountll(r->map[i]);
	return n;
}

uint64_t tcp_snd_rest_bytes(const struct tcb *tcb)
{
	const struct tcp_snd_rest *r = tcb->snd_rest;
	return r ? sizeof(*r) + rest_words(r) * sizeof(uint64_t) : 0;
}

static void decode(const struct tcb *tcb, const struct tcp_snd_rest *r, struct tcp_sender *s)
{
	unsigned char *p = (unsigned char *)s;
	memset(s, 0, sizeof(*s));
	const uint64_t *w = r->word;
	for (size_t i = 0; i < SND_WORDS; i++)
		if (r->map[i / 64] >> (i % 64) & 1)
			memcpy(p + i * sizeof(uint64_t), w++, sizeof(uint64_t));
	/* Off at rest (at_rest), and not stored. */
	s->pace_at = SYNACK_NEVER;
	s->snd_sml += tcb->iss;
}

/* The state only describes a flight when the connection has one, or is
 * about to: nothing outstanding, no records, no recovery, and neither
 * the retransmission (or probe) timer nor pacing holding a send. */
static int at_rest(const struct tcb *tcb)
{
	return tcb->sender && !tcb->sender->txq && tcb->snd_una == tcb->snd_max &&
	       tcb->ca_state == SYNACK_CA_OPEN && tcb->rtx_at == SYNACK_NEVER &&
	       tcb->sender->pace_at == SYNACK_NEVER && !tcb->txq_untracked;
}

void tcp_snd_rest(struct tcb *tcb)
{
	if (!at_rest(tcb))
		return;
	/* The pacing deadline is SYNACK_NEVER here: stored as 0, it costs no
	 * word (decode puts it back). */
	struct tcp_sender snd = *tcb->sender;
	snd.pace_at = 0;
	/* Minshall's last short segment is stored relative to the ISS: until
	 * a short segment leaves it is SND.UNA when the state was made, the
	 * ISS, so after a handshake alone its word rests as zero (decode adds
	 * the ISS back; the ISS never changes). */
	snd.snd_sml -= tcb->iss;
	/* The delivery rate's sample of the last ACK (tcp_rate.c) once taken
	 * (rs_valid 0): the next ACK's first delivered record writes every
	 * field before tcp_rate_gen reads one, so they are dead and rest as
	 * zeros (three words fewer after a transfer). */
	if (!snd.rs_valid) {
		snd.rs_prior_dlv = snd.rs_prior_time = snd.rs_end_seq = snd.rs_send_us = 0;
		snd.rs_xmit = 0;
		snd.rs_app_limited = snd.rs_retrans = 0;
	}
	const unsigned char *p = (const unsigned char *)&snd;
	uint64_t map[SND_MAPS] = {0};
	uint32_t n = 0;
	for (size_t i = 0; i < SND_WORDS; i++) {
		uint64_t v;
		memcpy(&v, p + i * sizeof(uint64_t), sizeof(v));
		if (v) {
			map[i / 64] |= (uint64_t)1 << (i % 64);
			n++;
		}
	}
	/* Worth it only when the record, with the allocator's header (16
	 * bytes at most), is smaller than the state: after a transfer about
	 * half the words are set, after a handshake alone three. */
	if (sizeof(struct tcp_snd_rest) + n * sizeof(uint64_t) + 16 >= sizeof(struct tcp_sender))
		return;
	struct tcp_snd_rest *r = malloc(sizeof(*r) + n * sizeof(uint64_t));
	if (!r)
		return; /* the state stays awake: nothing lost */
	memcpy(r->map, map, sizeof(map));
	for (size_t i = 0, k = 0; i < SND_WORDS; i++)
		if (map[i / 64] >> (i % 64) & 1)
			memcpy(&r->word[k++], p + i * sizeof(uint64_t), sizeof(uint64_t));
	/* Back to its block, which goes back whole once every sender in it
	 * rests (core/bslab.h). */
	bslab_free(&tcb->st->sender_slab, tcb->sender);
	tcb->sender = NULL;
	tcb->snd_rest = r;
}

int tcp_snd_wake_slow(struct tcb *tcb)
{
	struct tcp_snd_rest *r = tcb->snd_rest;
	struct tcp_sender *s = bslab_alloc(&tcb->st->sender_slab);
	if (!s)
		return -ENOMEM;
	decode(tcb, r, s);
	free(r);
	tcb->snd_rest = NULL;
	tcb->sender = s;
	/* Quiet again for a retransmission timeout, it rests again. */
	tcp_buf_kept(tcb);
	return 0;
}

const struct tcb *tcp_snd_view(const struct tcb *tcb, struct tcb *tcb_tmp,
                               struct tcp_sender *snd_tmp)
{
	if (!tcb->snd_rest)
		return tcb;
	*tcb_tmp = *tcb;
	decode(tcb, tcb->snd_rest, snd_tmp);
	tcb_tmp->sender = snd_tmp;
	tcb_tmp->snd_rest = NULL;
	return tcb_tmp;
}

void tcp_snd_rest_free(struct tcb *tcb)
{
	free(tcb->snd_rest);
	tcb->snd_rest = NULL;
}
