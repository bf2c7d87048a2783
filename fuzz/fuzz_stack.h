/*
 * The input language of fuzz_stack, shared with make_corpus (which writes
 * seeds in it).  An input is two configuration bytes (one per stack; 0 is
 * every default, each bit a variant, see fuzz_stack.c) and then operations,
 * each an opcode byte (taken modulo OP_COUNT) and its arguments.  Integers
 * are little-endian.  An input that ends in the middle of an operation
 * reads zeros for what is missing.
 *
 *   SOCKET     stack
 *   BIND       stack fd ep           ep = addrsel u8, port u16
 *   LISTEN     stack fd backlog(i8)
 *   CONNECT    stack fd ep
 *   ACCEPT     stack fd
 *   SEND       stack fd len u16
 *   RECV       stack fd len u16 flags u8 (bit 0: peek)
 *   SHUTDOWN   stack fd how u8
 *   CLOSE      stack fd
 *   SETSOCKOPT stack fd opt u8 value i32
 *   QUERY      stack fd              every getter on the socket
 *   ADVANCE    delta_us u32
 *   DEADLINE                         to the earliest timer of either stack
 *   DELIVER    to count u8           the next count datagrams queued for `to`
 *   DROP       to
 *   DUP        to                    deliver the next one and keep it queued
 *   SWAP       to                    the next two trade places
 *   MUTATE     to field u8 value u32 the next one, one field changed,
 *                                    checksums made right, delivered
 *   REPLAY     to k u8 field u8 value u32   a datagram from the history
 *   CRAFT      to fd flags u8 seqd i16 ackd i16 win u16 optmask u8 mss u16
 *              ws u8 tsval u32 tsecr u32 len u16 srcsel u8
 *   RAW        to fix u8 len u16 bytes[len]   fix: RAW_FIX_* bits
 *   FRAGMENT   to size u8 how u8    the next one in fragments of
 *                                    (size % 32 + 1) * 8 bytes, DF cleared;
 *                                    how % 4: in order, reversed, shuffled,
 *                                    a piece sent twice (an overlap);
 *                                    how & 4: the last piece is lost
 *
 * stack and to are one byte (bit 0: 0 = A at 10.0.0.1, 1 = B at 10.0.0.2).
 */
#ifndef SYNACK_FUZZ_STACK_H
#define SYNACK_FUZZ_STACK_H

enum fuzz_op {
	OP_SOCKET,
	OP_BIND,
	OP_LISTEN,
	OP_CONNECT,
	OP_ACCEPT,
	OP_SEND,
	OP_RECV,
	OP_SHUTDOWN,
	OP_CLOSE,
	OP_SETSOCKOPT,
	OP_QUERY,
	OP_ADVANCE,
	OP_DEADLINE,
	OP_DELIVER,
	OP_DROP,
	OP_DUP,
	OP_SWAP,
	OP_MUTATE,
	OP_REPLAY,
	OP_CRAFT,
	OP_RAW,
	OP_FRAGMENT,
	OP_COUNT
};

#define FUZZ_ADDR_A 0x0a000001u   /* stack A, the demo's client address */
#define FUZZ_ADDR_B 0x0a000002u   /* stack B, the demo's server address */
#define FUZZ_ADDR_RAW 0x0a000003u /* a host with no stack: what goes there is lost */

/* IPv6 (issue 14): each stack also has an IPv6 address, 2001:db8::1 (A) and
 * 2001:db8::2 (B), unless its MTU is below IPv6's 1280; 2001:db8::3 has no
 * stack.  An ep argument's addrsel from 0xf0 up, when odd, names an IPv6
 * endpoint: (addrsel >> 1) & 3 picks ::, A, B or the stackless one. */
#define FUZZ_ADDR6_LAST_A 1
#define FUZZ_ADDR6_LAST_B 2
#define FUZZ_ADDR6_LAST_RAW 3

/* addrsel values of an ep argument. */
enum { EP_ANY, EP_A, EP_B, EP_RAW, EP_BROADCAST };

/* RAW's fix bits: make the IPv4 header right (version, length, addresses to
 * the target, checksum), make the TCP checksum right. */
#define RAW_FIX_IP 1
#define RAW_FIX_TCP 2
/* ... or make it an IPv6 datagram (version, payload length, addresses to the
 * target; the next header as the bytes say), the TCP checksum right when
 * the next header is TCP and RAW_FIX_TCP is set. */
#define RAW_FIX_IP6 4

/* Both stacks use the demo's secrets for seed 1 (cli_derive_secret(1, 0)
 * for A, (1, 1) for B), so a stack given a demo peer's datagrams at the
 * demo's times answers with the demo's sequence numbers. */
#define FUZZ_SECRET_SEED 1

#endif
