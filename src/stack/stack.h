/*
 * The stack object: the layers' states nested in one allocation (env.h
 * says how), the socket layer's, which holds TCP's, which holds the network
 * layer's, which holds what they all share.  Only src/stack sees it whole;
 * each layer sees its own state and those below.  Private to the library.
 */
#ifndef SYNACK_STACK_H
#define SYNACK_STACK_H

#include <stddef.h>

#include "sock/sock.h"

struct synack_stack {
	struct sock_layer sock;
};
_Static_assert(offsetof(struct synack_stack, sock) == 0,
               "a layer begins with the one below (env.h)");

#endif
