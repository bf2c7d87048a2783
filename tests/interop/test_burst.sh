#!/usr/bin/env bash
# Issue 17 item 5: a burst of 2,000 parallel short connections from Linux
# (peer.py echo-burst: each sends 100 bytes of its own, shuts down its
# sending side, reads the echo to EOF) to `synack serve --app echo`, on TUN
# and on TAP devices made as a user would (`ip tuntap add`, the kernel's
# default queue: 500 frames on TUN, 1000 on TAP), which synack must leave as
# they are.  Every echo must come back byte-exact, every connection must be
# accepted once and end CLOSED, and the stats (text on TUN, --json on TAP,
# and the final block at the stop) must show the kernel's drops on the
# device (dev_tx_dropped, dev_rx_dropped) and the retransmission timeouts
# (Timeouts).  Their values and the time taken depend on the machine's load
# and are only reported, never asserted.  Then the queue setting: a device
# synack creates (--create) gets 10000 frames, the user's device changes
# only with --txqueuelen, and each is said on stderr.
# Usage: test_burst.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init burst "${1:-}"
N=2000

# burst MODE LOG JSON: one burst against synack serve on a MODE device.
burst() {
	local mode=$1 log=$2 json=$3 qlen rc drops rtos
	it_dev "$mode"
	qlen=$(ip -n "$IT_NS" -o link show "$IT_DEV" | sed -n 's/.* qlen \([0-9]*\).*/\1/p')
	it_serve "$log" --app echo --stats-every 0.5 ${json:+--json}
	if grep -q "device $IT_DEV queues $qlen frames (txqueuelen, the device's own" "$IT_TMP/$log.err"; then ok; else
		bad "$mode: no report of the device's own queue ($qlen): $(cat "$IT_TMP/$log.err")"
	fi
	ns nstat -n >/dev/null 2>&1
	ns timeout 280 python3 "$IT_PEER" echo-burst "$IT_SYNACK" 7 $N 100 1 \
		>"$IT_TMP/$log.burst" 2>"$IT_TMP/$log.burst-err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q "^connections=$N ok=$N failed=0 " "$IT_TMP/$log.burst"; then ok; else
		bad "$mode: the burst: exit $rc, $(cat "$IT_TMP/$log.burst") $(head -c 600 "$IT_TMP/$log.burst-err")"
	fi
	# Every connection ends CLOSED: only the listener is left.
	if [ -n "$json" ]; then
		local i last
		for i in $(seq 1 300); do
			last=$(grep '^{"ev":"stats"' "$IT_TMP/$log.out" | tail -n 1)
			grep -q '"states":{"LISTEN":1}' <<<"$last" && break
			sleep 0.1
		done
		if grep -q '"states":{"LISTEN":1}' <<<"$last"; then ok; else bad "$mode: synack still holds connections: ${last:0:300}"; fi
	else
		if it_wait_summary "$log" ': 1 connection \(LISTEN 1\)$' 30; then ok; else
			bad "$mode: synack still holds connections: $(it_last_summary "$log")"
		fi
	fi
	local kernel_rtos
	kernel_rtos=$(ns nstat -az TcpExtTCPTimeouts 2>/dev/null | awk '$1 == "TcpExtTCPTimeouts" { print $2 }')
	it_serve_stop "$log"
	# The counters of the final block, printed at the stop (a block printed
	# while the test reads it may be half written).
	if [ -n "$json" ]; then
		tail -n 1 "$IT_TMP/$log.out" | tr ',{}' '\n\n\n' | tr -d '"' | tr ':' ' ' >"$IT_TMP/$log.counters"
	else
		counters_of "$IT_TMP/$log.out" >"$IT_TMP/$log.counters"
	fi
	local opens
	opens=$(value_of PassiveOpens "$IT_TMP/$log.counters")
	if [ "$opens" = $N ]; then ok; else bad "$mode: PassiveOpens $opens, want $N"; fi
	drops=$(value_of dev_tx_dropped "$IT_TMP/$log.counters")
	rtos=$(value_of Timeouts "$IT_TMP/$log.counters")
	for v in "$drops" "$(value_of dev_rx_dropped "$IT_TMP/$log.counters")" "$rtos"; do
		if [[ "$v" =~ ^[0-9]+$ ]]; then ok; else bad "$mode: the final stats lack dev_tx_dropped, dev_rx_dropped or Timeouts"; fi
	done
	note "$mode (txqueuelen $qlen): $(cat "$IT_TMP/$log.burst"); device drops $drops, synack RTOs $rtos," \
		"kernel RTOs ${kernel_rtos:-?}"
	# synack left the user's device as it was.
	local after
	after=$(ip -n "$IT_NS" -o link show "$IT_DEV" | sed -n 's/.* qlen \([0-9]*\).*/\1/p')
	if [ "$after" = "$qlen" ]; then ok; else bad "$mode: the device's txqueuelen went from $qlen to $after"; fi
	ip -n "$IT_NS" link del "$IT_DEV"
}

burst tun tun ""
burst tap tap json

# The queue setting.  A device synack creates gets 10000 frames.
it_dev tun
ip netns exec "$IT_NS" "$synack" serve --dev burstc0 --create --tun --addr 10.8.0.2/24 --app echo \
	>"$IT_TMP/create.out" 2>"$IT_TMP/create.err" &
pid=$!
IT_PIDS+=("$pid")
for i in $(seq 1 100); do
	grep -q '^synack serve: listening on ' "$IT_TMP/create.out" 2>/dev/null && break
	sleep 0.1
done
qlen=$(ip -n "$IT_NS" -o link show burstc0 2>/dev/null | sed -n 's/.* qlen \([0-9]*\).*/\1/p')
if [ "$qlen" = 10000 ] && grep -q "device burstc0 queues 10000 frames (txqueuelen, set by synack)" "$IT_TMP/create.err"; then ok; else
	bad "--create: txqueuelen ${qlen:-?}, want 10000: $(cat "$IT_TMP/create.err")"
fi
kill -INT "$pid"
wait "$pid"
# The user's device changes only when asked.
it_serve flag --app echo --txqueuelen 4321
qlen=$(ip -n "$IT_NS" -o link show "$IT_DEV" | sed -n 's/.* qlen \([0-9]*\).*/\1/p')
if [ "$qlen" = 4321 ] && grep -q "device $IT_DEV queues 4321 frames (txqueuelen, was 500)" "$IT_TMP/flag.err"; then ok; else
	bad "--txqueuelen 4321: txqueuelen ${qlen:-?}: $(cat "$IT_TMP/flag.err")"
fi
it_serve_stop flag
it_finish
