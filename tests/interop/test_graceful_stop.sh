#!/usr/bin/env bash
# The graceful stop of `synack serve` (SIGINT) while curl fetches a large
# body slowly (--limit-rate):
#   - --drain-ms long enough: the listener closes at once (a new connection
#     is refused), the response in progress finishes intact (sha256) and
#     serve exits 0 after it;
#   - a short --drain-ms: the transfer is cut by a RST, so curl fails (never
#     a shorter body taken for a whole one) and serve exits 0;
#   - a second SIGINT aborts at once: curl fails, serve exits 1.
# Only behaviour is asserted, with generous polling timeouts.
# Usage: test_graceful_stop.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init stop "${1:-}" curl sha256sum
it_dev tap

# fetch NAME SIZE_BYTES RATE: curl in the background (CURL_PID), the body in
# $IT_TMP/NAME.body; returns once some of it has arrived.
fetch() {
	local i
	ip netns exec "$IT_NS" curl -sS --max-time 120 --limit-rate "$3" \
		-o "$IT_TMP/$1.body" "http://$IT_SYNACK/$1" 2>"$IT_TMP/$1.curl-err" &
	CURL_PID=$!
	IT_PIDS+=("$CURL_PID")
	for i in $(seq 1 200); do
		[ "$(stat -c %s "$IT_TMP/$1.body" 2>/dev/null || echo 0)" -gt 0 ] && return 0
		kill -0 "$CURL_PID" 2>/dev/null || break
		sleep 0.1
	done
	bad "$1: no byte of the body arrived: $(cat "$IT_TMP/$1.curl-err")"
	it_finish
}

# wait_exit PID SECONDS: its exit status in RC (124 when still running).
wait_exit() {
	local i
	for i in $(seq 1 $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		RC=124
		return
	fi
	wait "$1"
	RC=$?
}

size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

# 1. A long drain: the response in progress completes.
bytes=8388608
it_serve long --app http --http-size $bytes --drain-ms 120000
fetch long $bytes 1M
kill -INT "$SERVE_PID"
got=$(size_of "$IT_TMP/long.body")
if [ "$got" -lt $bytes ]; then ok; else bad "long: the body was complete before SIGINT: no drain to test"; fi
# The listener is gone: a new connection is refused (curl 7), not served.
ns curl -sS --max-time 20 -o /dev/null "http://$IT_SYNACK/new" 2>"$IT_TMP/new.err"
rc=$?
if [ $rc -eq 7 ]; then ok; else bad "a connection after SIGINT: curl exited $rc, want 7 (refused): $(cat "$IT_TMP/new.err")"; fi
if kill -0 "$SERVE_PID" 2>/dev/null; then ok; else bad "long: serve exited while a response was in progress"; fi
wait_exit "$CURL_PID" 120
if [ $RC -eq 0 ]; then ok; else bad "long: curl exited $RC: $(cat "$IT_TMP/long.curl-err")"; fi
want=$(python3 "$IT_PEER" body-hash $bytes)
sum=$(sha256sum <"$IT_TMP/long.body" | cut -d' ' -f1)
if [ "$sum" = "$want" ]; then ok; else bad "long: $(size_of "$IT_TMP/long.body") bytes, sha256 $sum, want $want"; fi
wait_exit "$SERVE_PID" 60
if [ $RC -eq 0 ]; then ok; else bad "long: serve exited $RC after the drain: $(tail -n 3 "$IT_TMP/long.err")"; fi
note "long --drain-ms: $got of $bytes bytes at SIGINT, then all $(size_of "$IT_TMP/long.body") (sha256 ${sum:0:16}...), serve exit 0"

# 2. A short drain: the response is cut by a RST, and curl says so.
bytes=67108864
it_serve short --app http --http-size $bytes --drain-ms 200
fetch short $bytes 200K
kill -INT "$SERVE_PID"
wait_exit "$CURL_PID" 60
got=$(size_of "$IT_TMP/short.body")
if [ $RC -ne 0 ] && [ $RC -ne 124 ]; then ok; else bad "short: curl exited $RC with $got of $bytes bytes: a cut body taken for a whole one"; fi
if [ "$got" -lt $bytes ]; then ok; else bad "short: the whole body arrived: nothing was cut"; fi
if grep -q 'aborted (RST)' "$IT_TMP/short.err"; then ok; else bad "short: serve did not say it aborted: $(cat "$IT_TMP/short.err")"; fi
wait_exit "$SERVE_PID" 30
if [ $RC -eq 0 ]; then ok; else bad "short: serve exited $RC"; fi
note "short --drain-ms: curl failed ($(head -n 1 "$IT_TMP/short.curl-err")) after $got of $bytes bytes"

# 3. A second signal aborts at once.
it_serve twice --app http --http-size $bytes --drain-ms 120000
fetch twice $bytes 200K
kill -INT "$SERVE_PID"
# Two signals sent back to back may arrive as one: the second goes once
# the first has been taken (the listener is closed).
for i in $(seq 1 100); do
	ns curl -s --max-time 5 -o /dev/null "http://$IT_SYNACK/new"
	[ $? -eq 7 ] && break
	sleep 0.1
done
kill -INT "$SERVE_PID"
wait_exit "$SERVE_PID" 30
if [ $RC -eq 1 ]; then ok; else bad "twice: serve exited $RC, want 1"; fi
wait_exit "$CURL_PID" 60
if [ $RC -ne 0 ] && [ $RC -ne 124 ]; then ok; else bad "twice: curl exited $RC: the abort did not reach it"; fi
it_finish
