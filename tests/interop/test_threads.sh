#!/usr/bin/env bash
# One stack per core (issue 16 item 3): `synack serve --threads 2` on a
# multi-queue TAP device (two queues, a stack and a thread on each).  300
# HTTP connections from Linux (200 one after the other, 100 at once) are all
# served; the kernel spreads them over both queues by their flow hash, so
# each thread's line of the stats shows connections of its own; the merged
# counters are the sums of the threads' (PassiveOpens = 300); the one pcap
# holds every frame of both queues, in time order, as many as the merged
# link counters say; what one queue learns from ARP the other is told.
# With SYN cookies for every SYN, each is validated by the stack that made
# it (100 good, none failed, on both threads).  A device made without
# multi_queue is refused with a
# sentence that says so (exit 2), and so is a bad --threads.
# Usage: test_threads.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init threads "${1:-}" tshark

IT_DEV=tap0
IT_MODE=--tap
ip -n "$IT_NS" tuntap add dev "$IT_DEV" mode tap multi_queue || { bad "tuntap add multi_queue"; it_finish; }
ip -n "$IT_NS" addr add "$IT_LINUX/24" dev "$IT_DEV"
ip -n "$IT_NS" link set "$IT_DEV" up

it_serve serve --app http --http-size 1KiB --threads 2 --stats-every 0.5 --pcap "$IT_TMP/threads.pcap"
if grep -q 'listening on 10.7.0.2:80 (dev tap0, tap, app http, 2 threads)' "$IT_TMP/serve.out"; then ok; else
	bad "ready line: $(head -n 1 "$IT_TMP/serve.out")"
fi
ns timeout 200 python3 "$IT_PEER" http "$IT_SYNACK" 80 --seq 200 --conc 100 --size 1024 \
	>"$IT_TMP/http.out" 2>"$IT_TMP/http.err"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "HTTP clients: $(cat "$IT_TMP/http.err")"; fi
note "$(cat "$IT_TMP/http.out")"

# Two listeners (one per stack) and TIME_WAITs, nothing else, on 2 threads.
if it_wait_summary serve 'connections \(LISTEN 2, TIME_WAIT [0-9]+\) on 2 threads$' 15; then ok; else
	bad "synack has more than the listeners and TIME_WAITs: $(it_last_summary serve)"
fi
it_serve_stop serve
note "synack: $(it_last_summary serve)"
counters_of "$IT_TMP/serve.out" >"$IT_TMP/counters"
# The per-thread lines of the last block: "thread K: name value ...".
awk '/^--- synack stats at /{delete t; inb=1; next}
	inb && /^thread [0-9]+:/{t[$2]=$0; next}
	inb && /^$/{for (k in t) last[k]=t[k]; inb=0}
	END{for (k in last) print last[k]}' "$IT_TMP/serve.out" | sort >"$IT_TMP/threads"
note "$(cat "$IT_TMP/threads")"
per() { # NAME THREAD
	awk -v n="$1" -v t="thread $2:" 'index($0, t) == 1 {
		for (i = 3; i < NF; i++) if ($i == n) print $(i + 1) }' "$IT_TMP/threads"
}
total=$(value_of PassiveOpens "$IT_TMP/counters")
p0=$(per PassiveOpens 0)
p1=$(per PassiveOpens 1)
if [ "$total" = 300 ]; then ok; else bad "PassiveOpens $total, want 300 (one per connection)"; fi
if [ -n "$p0" ] && [ -n "$p1" ] && [ "$p0" -gt 0 ] && [ "$p1" -gt 0 ]; then ok; else
	bad "both queues must serve connections: thread 0 PassiveOpens '${p0:-none}', thread 1 '${p1:-none}'"
fi
if [ -n "$p0" ] && [ -n "$p1" ] && [ $((p0 + p1)) = "$total" ]; then ok; else
	bad "merged PassiveOpens $total is not thread 0's ${p0:-?} + thread 1's ${p1:-?}"
fi
for name in InSegs OutSegs; do
	a=$(per $name 0)
	b=$(per $name 1)
	sum=$(value_of $name "$IT_TMP/counters")
	if [ -n "$a" ] && [ -n "$b" ] && [ $((a + b)) = "$sum" ]; then ok; else
		bad "merged $name $sum is not ${a:-?} + ${b:-?}"
	fi
done
# The kernel's ARP frames all go to one queue (the one that wrote ARP
# last): what one queue learns, the other is told (arp_shared_in).
shared=$(value_of arp_shared_in "$IT_TMP/counters")
if [ "$shared" != none ] && [ "$shared" -gt 0 ]; then ok; else
	bad "no neighbour passed on between the queues (arp_shared_in $shared)"
fi
if it_wait_no_kernel_stuck 15; then ok; else bad "kernel sockets stuck: $(it_ss_states close-wait fin-wait-1 fin-wait-2 | head)"; fi

# One capture for both queues: every frame the links counted, in time order.
it_pcap_check "$IT_TMP/threads.pcap"
frames=$(tshark -n -r "$IT_TMP/threads.pcap" -T fields -e frame.time_epoch 2>/dev/null |
	awk 'NR > 1 && $1 < prev {bad++} {prev = $1; n++} END {print n + 0, bad + 0}')
fin=$(value_of link_frames_in "$IT_TMP/counters")
fout=$(value_of link_frames_out "$IT_TMP/counters")
if [ "${frames% *}" = $((fin + fout)) ]; then ok; else
	bad "pcap holds ${frames% *} frames, the links counted $fin in + $fout out"
fi
if [ "${frames#* }" = 0 ]; then ok; else bad "pcap: ${frames#* } frames out of time order"; fi
note "pcap: ${frames% *} frames of both queues, in time order"

# SYN cookies (syncookies=2: every SYN is answered with one) are checked by
# the stack that made them, with its own secret: the ACK of a 4-tuple comes
# to the queue its SYN came to.  Every cookie is good, on both threads.
it_serve serve2 --app http --http-size 1KiB --threads 2 --set syncookies=2
ns timeout 200 python3 "$IT_PEER" http "$IT_SYNACK" 80 --seq 50 --conc 50 --size 1024 \
	>"$IT_TMP/http2.out" 2>"$IT_TMP/http2.err"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "HTTP clients with SYN cookies: $(cat "$IT_TMP/http2.err")"; fi
it_stop "$SERVE_PID" "synack serve" "$IT_TMP/serve2.err"
counters_of "$IT_TMP/serve2.out" >"$IT_TMP/counters2"
recv=$(value_of SyncookiesRecv "$IT_TMP/counters2")
failed=$(value_of SyncookiesFailed "$IT_TMP/counters2")
t0=$(awk '/^thread 0:/ {for (i = 3; i < NF; i++) if ($i == "PassiveOpens") v = $(i + 1)} END {print v + 0}' "$IT_TMP/serve2.out")
t1=$(awk '/^thread 1:/ {for (i = 3; i < NF; i++) if ($i == "PassiveOpens") v = $(i + 1)} END {print v + 0}' "$IT_TMP/serve2.out")
note "SYN cookies: SyncookiesRecv $recv, SyncookiesFailed $failed, PassiveOpens thread 0 $t0, thread 1 $t1"
if [ "$recv" = 100 ] && [ "$failed" = 0 ] && [ "$t0" -gt 0 ] && [ "$t1" -gt 0 ]; then ok; else
	bad "SYN cookies: SyncookiesRecv $recv (want 100), SyncookiesFailed $failed, PassiveOpens $t0 + $t1"
fi

# A device made without multi_queue takes one queue: refused, said why.
ip -n "$IT_NS" tuntap add dev tap1 mode tap
ns "$synack" serve --dev tap1 --tap --addr 10.7.1.2/24 --app echo --threads 2 \
	>"$IT_TMP/single.out" 2>"$IT_TMP/single.err"
rc=$?
if [ $rc = 2 ] && grep -q "multi_queue" "$IT_TMP/single.err" && [ ! -s "$IT_TMP/single.out" ]; then ok; else
	bad "--threads 2 on a single-queue device: exit $rc, $(cat "$IT_TMP/single.err")"
fi
it_finish
