#!/usr/bin/env bash
# iperf3, unmodified, over synack (issue 15 item 4): iperf3 -s under
# `synack run` (pselect, a control and a data connection, TCP_INFO and
# TCP_CONGESTION asked for) against the kernel's iperf3 -c, sending and
# receiving (-R); then iperf3 -c under synack against the kernel's
# iperf3 -s, both ways.  Each test sends 50 MB and must end without an
# error.  (iperf3's sum_received is the receiver's count at its last
# report, which can be short of what was sent even on the kernel alone;
# with -R the sending server may overshoot -n by one 128 KiB write.  So
# the sender's count must reach 50 MB and something must have arrived.)
# Usage: test_prog_iperf3.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps.sh"
it_apps_init prog-iperf3 "${1:-}" iperf3
bytes=52428800 # -n 50M

# The bytes sent, received and the throughput in Mbit/s of an iperf3
# --json report ("0 0 0" when it has none or holds an error).
received() {
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
e = d.get("end", {})
s, r = e.get("sum_sent", {}), e.get("sum_received", {})
if "error" in d: raise SystemExit(1)
print(s.get("bytes", 0), r.get("bytes", 0), "%.0f" % (r.get("bits_per_second", 0) / 1e6))' "$1" 2>/dev/null || echo "0 0 0"
}
check() { # NAME WHAT

	read -r sent got mbps <<<"$(received "$IT_TMP/$1.out")"
	if [ "$sent" -ge "$bytes" ] && [ "$got" -gt 0 ]; then
		ok
		note "$2: $mbps Mbit/s"
	else
		bad "$2: sent $sent bytes (at least $bytes due), $got received: $(tail -n 3 "$IT_TMP/$1.err") $(grep -o '"error":.*' "$IT_TMP/$1.out")"
	fi
}

it_run_bg server iperf3 -s -p 5201 --forceflush
it_wait_line "$IT_TMP/server.out" 'Server listening on 5201' 30 "$RUN_PID" "iperf3 -s under synack"
ns timeout 120 iperf3 -c "$IT_SYNACK" -p 5201 -n 50M --json >"$IT_TMP/k-send.out" 2>"$IT_TMP/k-send.err"
check k-send "kernel iperf3 -c -> iperf3 -s under synack"
ns timeout 120 iperf3 -c "$IT_SYNACK" -p 5201 -n 50M -R --json >"$IT_TMP/k-recv.out" 2>"$IT_TMP/k-recv.err"
check k-recv "iperf3 -s under synack -> kernel iperf3 -c -R"
kill -TERM "$RUN_PID" 2>/dev/null
wait "$RUN_PID" 2>/dev/null

it_kernel_bg kserver iperf3 -s -p 5202 --forceflush -B "$IT_LINUX"
it_wait_line "$IT_TMP/kserver.out" 'Server listening on 5202' 30 "$KERNEL_PID" "the kernel's iperf3 -s"
it_run s-send 120 iperf3 -c "$IT_LINUX" -p 5202 -n 50M --json
check s-send "iperf3 -c under synack -> kernel iperf3 -s"
it_run s-recv 120 iperf3 -c "$IT_LINUX" -p 5202 -n 50M -R --json
check s-recv "kernel iperf3 -s -> iperf3 -c -R under synack"
it_finish
