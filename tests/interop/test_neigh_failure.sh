#!/usr/bin/env bash
# synack connect on TAP to an address inside the namespace's subnet that no
# host has: ARP gets no answer, the link gives up (arp_retries requests
# arp_retry_ms apart, about 3 s as in Linux) and tells the stack, and the
# connection fails with EHOSTUNREACH (RFC 1122 4.2.3.9), as Linux's does,
# rather than ETIMEDOUT after the SYN retries (127 s).  The test's own
# timeout (60 s) is the only clock it asserts.
# Usage: test_neigh_failure.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init neigh_failure "${1:-}"
it_dev tap
absent=10.7.0.77 # inside 10.7.0.0/24, in our namespace, answered by no one

log=$IT_TMP/absent
ns timeout 60 "$synack" connect --dev "$IT_DEV" "$IT_MODE" --addr "$IT_SYNACK/24" \
	"$absent:80" >"$log.out" 2>"$log.err"
rc=$?
if [ "$rc" -eq 1 ]; then ok; else bad "connect exited $rc (want 1, a connection error): $(tail -n 3 "$log.err")"; fi
if grep -q "synack connect: $absent:80: .*no route to host (EHOSTUNREACH)" "$log.err"; then
	ok
else
	bad "no EHOSTUNREACH message: $(tail -n 5 "$log.err")"
fi
if grep -q "SYN_SENT -> CLOSED (neigh_failed)" "$log.err"; then
	ok
else
	bad "synack's states: $(it_transitions "$log.err")"
fi
note "connect to absent $absent: exit $rc, $(grep "synack connect: $absent" "$log.err")"
it_finish
