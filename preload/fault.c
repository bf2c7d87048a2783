/*
 * libsynack-preload (issue 15, "buffers that fault"): a program's buffer
 * that is not mapped (or, for what a call writes, not writable) gives
 * EFAULT, as the kernel's copy_from_user()/copy_to_user() do, and never a
 * fault in the program.
 *
 * The stack copies in user space, so the pages of a buffer are probed
 * before the stack touches them: one byte of each page is read (for a
 * buffer the call writes, written back with its own value: only bytes the
 * call then writes anyway, or the call's own structures, are probed so),
 * under a guard.  The
 * guard is a SIGSEGV/SIGBUS handler, installed when the stack starts, that
 * jumps back out of a probe that faulted (sigsetjmp without saving the
 * mask: no system call unless a probe faults), and otherwise passes the
 * signal to the program's handler (or ASan's, or the default action) as if
 * it were alone: preload.c's sigaction() keeps the program's handler for
 * these two signals and reads it back, the kernel holding the guard.
 *
 * Only the bytes a call will copy are probed (what is queued for recv,
 * what fits for send), so a huge lazily mapped buffer is not touched
 * beyond them, and a fault ends the data there.
 *
 * Cost (a loaded 2-core machine): 10-25 ns for a 100-byte buffer, 60-250 ns
 * for 64 KiB.  process_vm_readv(2) on our own pid was tried first: 2 us a
 * call, 5 us with the write check, 0.7 us more a page -- more than the
 * copy itself.
 */
#define _GNU_SOURCE
#include "preload.h"

#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

static _Thread_local sigjmp_buf *volatile probe_jmp __attribute__((tls_model("initial-exec")));
static atomic_int guard_on;

void preload_guard(int sig, siginfo_t *si, void *uc)
{
	sigjmp_buf *j = probe_jmp;
	/* A fault of the probe (si_code > 0: raised by the MMU, not sent). */
	if (j && si && si->si_code > 0) {
		probe_jmp = NULL;
		siglongjmp(*j, 1);
	}
	preload_sig_chain(sig, si, uc);
}

void preload_guard_ready(void)
{
	atomic_store(&guard_on, 1);
}

/* The probe's loads must reach memory as they are: ASan's check of the
 * address first would report instead of faulting, UBSan's of a null
 * pointer would abort. */
__attribute__((no_sanitize("address", "undefined"))) size_t
preload_probe_at(uintptr_t a, size_t len, int writing)
{
	if (len == 0)
		return 0;
	static long psz;
	if (!psz)
		psz = sysconf(_SC_PAGESIZE);
	uintptr_t end = a + len < a ? UINTPTR_MAX : a + len;
	if (!atomic_load_explicit(&guard_on, memory_order_relaxed))
		return a < (uintptr_t)psz ? 0 : len; /* NULL's page at least */
	volatile uintptr_t at = a;
	sigjmp_buf env;
	if (sigsetjmp(env, 0)) {
		/* The kernel blocked the signal for the handler, which did
		 * not return: unblock it. */
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGSEGV);
		sigaddset(&s, SIGBUS);
		pthread_sigmask(SIG_UNBLOCK, &s, NULL);
		return at - a;
	}
	probe_jmp = &env;
	for (;;) {
		if (writing) {
			volatile unsigned char *q = (volatile unsigned char *)at;
			*q = *q;
		} else {
			(void)*(volatile const unsigned char *)at;
		}
		uintptr_t next = (at | ((uintptr_t)psz - 1)) + 1;
		if (next == 0 || next >= end)
			break;
		at = next;
	}
	probe_jmp = NULL;
	return len;
}
