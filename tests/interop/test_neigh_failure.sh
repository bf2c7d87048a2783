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

# arp_requests PCAP ADDR: the ARP requests (RFC 826 opcode 1) for ADDR in
# the Ethernet capture.
arp_requests() {
	python3 - "$1" "$2" <<'EOF'
import socket, struct, sys
data = open(sys.argv[1], "rb").read()
want = socket.inet_aton(sys.argv[2])
endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
n, off = 0, 24
while off + 16 <= len(data):
    incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
    f = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(f) >= 42 and f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x01" and f[38:42] == want:
        n += 1
print(n)
EOF
}

# The link's settings by --set: five requests 100 ms apart, not the
# default three a second apart (the count is the assertion, not the time).
log=$IT_TMP/retries
ns timeout 60 "$synack" connect --dev "$IT_DEV" "$IT_MODE" --addr "$IT_SYNACK/24" \
	--set arp_retries=5 --set arp_retry_ms=100ms --pcap "$log.pcap" "$absent:80" >"$log.out" 2>"$log.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "no route to host (EHOSTUNREACH)" "$log.err"; then ok; else
	bad "connect --set arp_retries=5 exited $rc (want 1, EHOSTUNREACH): $(tail -n 3 "$log.err")"
fi
n=$(arp_requests "$log.pcap" "$absent")
if [ "$n" = 5 ]; then ok; else bad "--set arp_retries=5: $n ARP requests for $absent (want 5)"; fi
note "--set arp_retries=5 arp_retry_ms=100ms: $n ARP requests, exit $rc"
it_finish
