#!/usr/bin/env bash
# The flags of `synack serve` and `synack connect` that only a real device
# shows (issue 17, items 6 and 7):
#   - a device that does not exist is refused (exit 2, nothing created)
#     unless --create is given; with it the device is made, and removed at
#     exit;
#   - without CAP_NET_ADMIN (as nobody) the refusal names the capability and
#     `ip tuntap add ... user`, and a device given to nobody that way opens;
#   - one serve with --listen 80:http --listen 7:echo serves both at once;
#   - --stats-every --json prints one JSON object per interval that python
#     parses, and shows --time-wait-ms and --keepalive-* applied;
#   - connect's --connect-timeout-ms (exit 3), --idle-timeout-ms (exit 4,
#     RST) and --user-timeout-ms (the SYN gives up after it).
# Usage: test_cli_flags.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init cli_flags "${1:-}" curl runuser
it_dev tap

# 1. A missing device: refused, exit 2, one line naming --create and
# `ip tuntap add`, nothing on stdout, no device left behind.
for cmd in serve connect; do
	args=(--app echo)
	[ $cmd = connect ] && args=("$IT_LINUX:7")
	ns "$synack" $cmd --dev tapmissing --tap --addr "$IT_SYNACK/24" "${args[@]}" \
		>"$IT_TMP/missing.out" 2>"$IT_TMP/missing.err"
	rc=$?
	if [ $rc -eq 2 ] && [ ! -s "$IT_TMP/missing.out" ] &&
		grep -q "^synack $cmd: device 'tapmissing' does not exist: .*ip tuntap add dev tapmissing mode tap user USER.*--create" "$IT_TMP/missing.err" &&
		[ "$(wc -l <"$IT_TMP/missing.err")" -eq 1 ]; then
		ok
	else
		bad "$cmd on a missing device: exit $rc, $(cat "$IT_TMP/missing.err" "$IT_TMP/missing.out")"
	fi
	if ip -n "$IT_NS" link show tapmissing >/dev/null 2>&1; then bad "$cmd created tapmissing"; else ok; fi
done

# 2. --create: the device is made (down, said on stderr), synack serves on
# it, and it is gone after the stop.
ip netns exec "$IT_NS" "$synack" serve --dev tapnew --create --tap --addr 10.8.0.2/24 --app echo \
	>"$IT_TMP/create.out" 2>"$IT_TMP/create.err" &
pid=$!
IT_PIDS+=("$pid")
for i in $(seq 1 50); do
	grep -q '^synack serve: listening on 10.8.0.2:7 (dev tapnew, tap, app echo)$' "$IT_TMP/create.out" && break
	sleep 0.1
done
if grep -q '^synack serve: listening on 10.8.0.2:7' "$IT_TMP/create.out" &&
	ip -n "$IT_NS" link show tapnew >/dev/null 2>&1 &&
	grep -q '^synack serve: created device tapnew (removed at exit)' "$IT_TMP/create.err"; then
	ok
else
	bad "--create: $(cat "$IT_TMP/create.out" "$IT_TMP/create.err")"
fi
kill -INT "$pid"
wait "$pid"
rc=$?
if [ $rc -eq 0 ] && ! ip -n "$IT_NS" link show tapnew >/dev/null 2>&1; then ok; else bad "--create: exit $rc after SIGINT, device left: $(ip -n "$IT_NS" link show tapnew 2>&1 | head -1)"; fi

# 3. Without CAP_NET_ADMIN.  In a mount namespace of its own the test puts
# a node of /dev/net/tun that anyone may open over the real one (the
# machine's may be 0600), so that what is checked is the kernel's rule for
# devices: creating one needs CAP_NET_ADMIN, opening one another user owns
# does too, opening one given to you does not.
if id nobody >/dev/null 2>&1; then
	chmod 755 "$IT_TMP"
	ip -n "$IT_NS" tuntap add dev taproot mode tap user root
	ip -n "$IT_NS" tuntap add dev tapnobody mode tap user nobody
	ip netns exec "$IT_NS" unshare -m sh -c '
		mknod "$1/tun" c 10 200 && chmod 666 "$1/tun" && mount --bind "$1/tun" /dev/net/tun || exit 99
		runuser -u nobody -- "$2" serve --dev tapcreate --create --tap --addr 10.8.0.2/24 --app echo \
			>"$1/perm-create.out" 2>"$1/perm-create.err"
		echo $? >"$1/perm-create.rc"
		runuser -u nobody -- "$2" serve --dev taproot --tap --addr 10.8.0.2/24 --app echo \
			>"$1/perm-root.out" 2>"$1/perm-root.err"
		echo $? >"$1/perm-root.rc"
		runuser -u nobody -- timeout -s INT 2 "$2" serve --dev tapnobody --tap --addr 10.8.0.2/24 \
			--app echo >"$1/perm-own.out" 2>"$1/perm-own.err"
		echo $? >"$1/perm-own.rc"' _ "$IT_TMP" "$synack"
	if [ $? -eq 99 ]; then
		note "skipped the permission checks: cannot bind a private /dev/net/tun"
	else
		if [ "$(cat "$IT_TMP/perm-create.rc")" = 2 ] &&
			grep -q "creating a device needs the capability CAP_NET_ADMIN.*ip tuntap add dev tapcreate mode tap user nobody" "$IT_TMP/perm-create.err"; then
			ok
		else
			bad "nobody --create: rc $(cat "$IT_TMP/perm-create.rc"): $(cat "$IT_TMP/perm-create.err")"
		fi
		if [ "$(cat "$IT_TMP/perm-root.rc")" = 2 ] &&
			grep -q "belongs to another user.*CAP_NET_ADMIN.*ip tuntap add dev NAME mode tap user nobody" "$IT_TMP/perm-root.err"; then
			ok
		else
			bad "nobody on root's device: rc $(cat "$IT_TMP/perm-root.rc"): $(cat "$IT_TMP/perm-root.err")"
		fi
		if grep -q '^synack serve: listening on 10.8.0.2:7 (dev tapnobody, tap, app echo)$' "$IT_TMP/perm-own.out"; then
			ok
		else
			bad "nobody on its own device: rc $(cat "$IT_TMP/perm-own.rc"): $(cat "$IT_TMP/perm-own.err")"
		fi
	fi
else
	note "skipped the permission checks: no user nobody"
fi

# 4. One serve, two ports, two apps, at once; the stats as JSON every
# 0.2 s, with a short TIME_WAIT and fast keepalives.
it_serve serve --listen 80:http --listen 7:echo --http-size 1MiB --stats-every 0.2 --json \
	--set time_wait_ms=500 --keepalive-time-ms 200 --keepalive-intvl-ms 200
if [ "$(sed -n 2p "$IT_TMP/serve.out")" = "synack serve: listening on $IT_SYNACK:7 (dev tap0, tap, app echo)" ]; then ok; else bad "second ready line: $(head -n 2 "$IT_TMP/serve.out")"; fi
ns timeout 60 python3 "$IT_PEER" echo "$IT_SYNACK" 7 1048576 1 >"$IT_TMP/echo.out" 2>"$IT_TMP/echo.err" &
echo_pid=$!
# Connection: close makes synack close first: its TIME_WAIT must end
# after time_wait_ms (500 ms), not the default 60 s.
ns timeout 60 curl -sS -H 'Connection: close' -o "$IT_TMP/body" "http://$IT_SYNACK/x" 2>"$IT_TMP/curl.err"
rc=$?
want=$(python3 "$IT_PEER" body-hash 1048576)
got=$(sha256sum "$IT_TMP/body" | cut -d' ' -f1)
if [ $rc -eq 0 ] && [ -n "$want" ] && [ "$got" = "$want" ]; then ok; else bad "curl of 1 MiB: rc $rc, sha256 $got, want $want: $(cat "$IT_TMP/curl.err")"; fi
wait "$echo_pid"
if [ $? -eq 0 ]; then ok; else bad "echo of 1 MiB beside it: $(cat "$IT_TMP/echo.err")"; fi
# An idle connection for 1 s: keepalive probes every 200 ms after 200 ms.
ns timeout 10 python3 -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7))
time.sleep(1.0)
s.close()' "$IT_SYNACK"
sleep 1
it_serve_stop serve
tail -n +3 "$IT_TMP/serve.out" >"$IT_TMP/stats.jsonl"
if python3 - "$IT_TMP/stats.jsonl" "$IT_SYNACK" >"$IT_TMP/json.out" 2>&1 <<'PY'; then ok; else bad "stats JSON: $(cat "$IT_TMP/json.out")"; fi
import json, sys
lines = open(sys.argv[1]).read().splitlines()
addr = sys.argv[2]
assert len(lines) >= 5, "only %d stats lines" % len(lines)
objs = [json.loads(line) for line in lines]
for o in objs:
    assert o["ev"] == "stats", o
    assert set(o) == {"ev", "t_us", "states", "conns", "counters"}, sorted(o)
    for c in o["conns"]:
        cc = {"cwnd", "rtt_us", "congestion", "delivery_rate"}  # a connection that sends
        assert set(c) - cc == {"state", "local", "peer", "send_queue", "recv_queue", "age_us"}, c
        assert not set(c) & cc or (set(c) >= cc and c["congestion"] in ("cubic", "reno")), c
    assert sum(o["states"].values()) == len(o["conns"]), o["states"]
ts = [o["t_us"] for o in objs]
assert ts == sorted(ts), ts
# Both listeners in every object until the stop.  The stop closes both
# first and then drains: a periodic line may fall in the drain, so the
# objects without them are a suffix (the last, and any printed while
# draining), and the listeners never come back once gone.
listen = [o["states"].get("LISTEN", 0) for o in objs]
k = next((i for i, n in enumerate(listen) if n != 2), len(listen))
assert k >= 4 and all(n == 0 for n in listen[k:]), listen
tw = [o for o in objs if any(c["state"] == "TIME_WAIT" and c["local"] == addr + ":80" for c in o["conns"])]
assert tw, "synack never held the http connection in TIME_WAIT"
last = objs[-1]["counters"]
assert last["TimeWaitExpired"] >= 1, last["TimeWaitExpired"]
assert last["PassiveOpens"] >= 3, last["PassiveOpens"]
assert last["KeepAliveProbes"] >= 2, last["KeepAliveProbes"]
assert last["link_frames_in"] > 0
# TIME_WAIT (500 ms) ended well before the default 60 s.
first_tw = min(o["t_us"] for o in tw)
gone = [o for o in objs if o["t_us"] > first_tw and not any(c["state"] == "TIME_WAIT" for c in o["conns"])]
assert gone and gone[0]["t_us"] - first_tw < 2000000, "TIME_WAIT lasted past 2 s"
print("%d objects, TimeWaitExpired %d, KeepAliveProbes %d" % (len(objs), last["TimeWaitExpired"], last["KeepAliveProbes"]))
PY
note "stats JSON: $(cat "$IT_TMP/json.out")"

# 5. connect's timeouts.  10.7.0.3 is on the link and absent (ARP gets no
# answer): the SYN never arrives.
start=$(date +%s%N)
it_connect ct 10.7.0.3:80 --connect-timeout-ms 500
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$CONNECT_RC" -eq 3 ] && grep -q '^synack connect: 10.7.0.3:80: no connection after 500 ms (--connect-timeout-ms), giving up$' "$IT_TMP/ct.err"; then ok; else bad "--connect-timeout-ms: exit $CONNECT_RC: $(cat "$IT_TMP/ct.err")"; fi
note "--connect-timeout-ms 500: gave up after $ms ms"
it_connect ut 10.7.0.3:80 --user-timeout-ms 1500
if [ "$CONNECT_RC" -eq 1 ] && grep -q '^state SYN_SENT -> CLOSED (user_timeout)$' "$IT_TMP/ut.err"; then ok; else bad "--user-timeout-ms: exit $CONNECT_RC: $(cat "$IT_TMP/ut.err")"; fi
# A kernel listener that never reads or writes: the session is idle.
ip netns exec "$IT_NS" timeout 30 python3 -c '
import socket, sys, time
s = socket.socket()
s.bind((sys.argv[1], 5099))
s.listen()
print("ready", flush=True)
time.sleep(30)' "$IT_LINUX" >"$IT_TMP/idle-peer.out" &
IT_PIDS+=("$!")
for i in $(seq 1 50); do grep -q ready "$IT_TMP/idle-peer.out" && break; sleep 0.1; done
it_connect idle "$IT_LINUX:5099" --wait-eof --idle-timeout-ms 700
if [ "$CONNECT_RC" -eq 4 ] &&
	grep -q "^synack connect: $IT_LINUX:5099: nothing sent, received or acknowledged for 700 ms (--idle-timeout-ms), aborting the connection$" "$IT_TMP/idle.err" &&
	grep -q '^state ESTABLISHED -> CLOSED (app_abort)$' "$IT_TMP/idle.err"; then
	ok
else
	bad "--idle-timeout-ms: exit $CONNECT_RC: $(cat "$IT_TMP/idle.err")"
fi
it_finish
