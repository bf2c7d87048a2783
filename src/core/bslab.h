/*
 * A cache of fixed-size objects carved out of blocks of 64 KiB, for
 * objects that come and go between long-lived ones (issue 16 item 4).
 *
 * A connection's sender's state (struct tcp_sender) is taken at the
 * handshake, between the TCB and the socket, and given back when the
 * connection goes quiet (tcp_snd_rest.c).  From malloc, each one left a
 * hole of a few hundred bytes between TCBs that lived on: after 100,000
 * connections went idle, 103 MB of the heap lay free in 108,000 holes no
 * page of which the allocator could give back, and the process's RSS was
 * twice its heap.  From blocks, the objects of a burst lie together, and
 * a block whose objects have all gone back is freed whole: its pages go
 * back to the system (malloc_trim) or to the next large allocation.
 *
 * Blocks grow with the load: the first holds two objects, each new one
 * twice as many as there are blocks, up to 64 KiB, so that a stack with a
 * few connections pays for a few objects, not for a 64 KiB block.  Why 64
 * and not 16 KiB (branch memory2): a freed block whose neighbours live on
 * keeps the pages its ends share with them resident, about one page per
 * block whatever its size; at 100,000 idle connections the 2,666 freed
 * blocks of 16 KiB kept 11 MB (55 B per endpoint), 930 of 64 KiB keep a
 * third of it.  Larger blocks would pass glibc's mmap threshold (128 KiB).
 *
 * Datagrams come from blocks too (net/net.c): the connect bursts' SYNs,
 * SYN-ACKs and ACKs were malloc'd between the TCBs and sockets they made,
 * and freed when the pool decayed, leaving one hole of 272 bytes per
 * endpoint that no page of could go back.
 *
 * Each slot holds a pointer to its block, then the object.  A block with
 * a free slot is on the partial list; one wholly free block is kept for
 * the next allocation (a connection made and ended over and over does not
 * take and free a block each time), and goes back when a whole trim
 * period (pool_trim_ms, bslab_trim) did not need it.  Stacks share
 * nothing, so there is no locking.
 */
#ifndef SYNACK_BSLAB_H
#define SYNACK_BSLAB_H

#include <stddef.h>
#include <stdint.h>

/* The largest block's bytes as requested from malloc: 64 KiB with the
 * allocator's header. */
#define BSLAB_BLOCK_MAX (65536u - 16u)

struct bslab_block;

struct bslab {
	struct bslab_block *partial; /* blocks with a free slot */
	struct bslab_block *empty;   /* a wholly free block kept, or NULL */
	size_t size;                 /* object size in bytes */
	size_t slot;                 /* bytes per slot: the block pointer, the object */
	uint32_t max_slots;          /* slots in the largest block */
	uint8_t empty_idle;          /* empty stayed unused since the last bslab_trim */
	uint8_t orphaned;            /* bslab_release'd with objects still out */
	uint64_t live;               /* objects handed out and not returned */
	uint64_t blocks;             /* blocks allocated */
	uint64_t bytes;              /* their bytes, as requested from malloc */
};

void bslab_init(struct bslab *s, size_t size);
/* An object (contents unspecified), or NULL when out of memory. */
void *bslab_alloc(struct bslab *s);
/* Takes back an object of s (NULL is ignored). */
void bslab_free(struct bslab *s, void *p);
/* The end of a trim period: the kept empty block goes back if the whole
 * period did not use it. */
void bslab_trim(struct bslab *s);
/* Frees the blocks; every object must have come back. */
void bslab_fini(struct bslab *s);
/* A cache of its own allocation (NULL when out of memory), for objects
 * that may outlive their owner: the datagrams a link took out of a stack
 * (synack_output_take) and gives back after the stack was freed.
 * bslab_release ends it: at once when every object came back, else when
 * the last one does (bslab_free_any). */
struct bslab *bslab_new(size_t size);
void bslab_release(struct bslab *s);
/* Takes back an object to the cache it came from, released or not (NULL
 * is ignored). */
void bslab_free_any(void *p);
/* Bytes of the objects handed out, and everything else the blocks hold
 * (free slots, the slots' block pointers, the blocks' headers): the two
 * sum to what the blocks took from malloc. */
static inline uint64_t bslab_live_bytes(const struct bslab *s)
{
	return s->live * s->size;
}
static inline uint64_t bslab_cached_bytes(const struct bslab *s)
{
	return s->bytes - s->live * s->size;
}

#endif
