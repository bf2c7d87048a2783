#!/usr/bin/env bash
# `synack script FILE` (docs/SCRIPTS.md): every shipped scenario script in
# examples/scenarios exits 0; the scripts of demo scenarios draw the same
# ladder as `synack demo`; a bad file exits 2 with FILE:LINE:COL and what
# was expected; a failing expectation or an action that cannot complete
# exits 1 naming its line; the same seed gives the same output.
# Usage: test_script.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
scripts=$(cd "$(dirname "$0")/../../examples/scenarios" && pwd)

# Every shipped script holds, as the ladder and as JSON.
n=0
for f in "$scripts"/*.synack; do
	n=$((n + 1))
	name=$(basename "$f" .synack)
	rc=0
	"$synack" script "$f" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && tail -1 "$tmp/out" | grep -qx ok; then ok; else
		bad "$name: exit $rc: $(head -3 "$tmp/err")"
	fi
	rc=0
	"$synack" script "$f" --json >"$tmp/json" 2>"$tmp/err" || rc=$?
	if [ "$rc" -eq 0 ] && tail -1 "$tmp/json" | grep -q "^{\"ev\":\"summary\",\"ok\":true,\"scenario\":\"$name\""; then ok; else
		bad "$name --json: exit $rc, last line $(tail -1 "$tmp/json" | cut -c1-80)"
	fi
done
if [ "$n" -ge 27 ]; then ok; else bad "only $n scripts in examples/scenarios"; fi

# ... and over IPv6 (issue 14): the same expectations, hand-made segments
# included, which then travel as IPv6 datagrams on the connection's 4-tuple.
for f in "$scripts"/*.synack; do
	name=$(basename "$f" .synack)
	rc=0
	"$synack" script "$f" --ipv6 >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && tail -1 "$tmp/out" | grep -qx ok; then ok; else
		bad "$name --ipv6: exit $rc: $(head -3 "$tmp/err")"
	fi
done
"$synack" script "$scripts/rst-in-time-wait.synack" --ipv6 --json >"$tmp/json"
if grep -q '"conn":"\[2001:db8::1\]:[0-9]*-\[2001:db8::2\]:80","ev":"rx","flags":"R"' "$tmp/json"; then ok; else
	bad "rst-in-time-wait --ipv6: the injected RST did not arrive over IPv6"
fi

# The scripts of demo scenarios draw demo's ladder, line for line, down to
# the moral (the checks below it are the script's own).
for name in handshake server-closes-first simultaneous-open simultaneous-close half-close \
	refused syn-lost close-wait-leak fin-wait-1-stuck fin-wait-2-timeout time-wait-straggler \
	window-scale paws sack-recovery fast-open; do
	"$synack" demo "$name" >"$tmp/demo"
	"$synack" script "$scripts/$name.synack" >"$tmp/script"
	lines=$(awk 'NR > 3 && $0 == "" { print NR; exit }' "$tmp/demo")
	if cmp -s <(head -n "$lines" "$tmp/demo") <(head -n "$lines" "$tmp/script"); then ok; else
		bad "$name: the script's ladder differs from synack demo $name"
		diff <(head -n "$lines" "$tmp/demo") <(head -n "$lines" "$tmp/script") | head -5 >&2
	fi
done

# The same seed gives the same run, byte for byte; another seed another.
"$synack" script "$scripts/handshake.synack" --seed 7 --json >"$tmp/a"
"$synack" script "$scripts/handshake.synack" --seed 7 --json >"$tmp/b"
"$synack" script "$scripts/handshake.synack" --seed 8 --json >"$tmp/c"
if cmp -s "$tmp/a" "$tmp/b"; then ok; else bad "--seed 7 twice: different output"; fi
if ! cmp -s "$tmp/a" "$tmp/c"; then ok; else bad "--seed 7 and 8: the same output"; fi
if grep -q '"seed":7' "$tmp/a"; then ok; else bad "--seed 7 not in the summary"; fi

# Bad files: exit 2, the exact FILE:LINE:COL message on stderr, nothing run.
bad_file() { # TEXT WANT
	printf '%s\n' "$1" >"$tmp/bad.synack"
	rc=0
	"$synack" script "$tmp/bad.synack" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -eq 2 ] && [ "$(cat "$tmp/err")" = "$tmp/bad.synack:$2" ] && [ ! -s "$tmp/out" ]; then ok; else
		bad "bad file '$1': exit $rc, stderr '$(cat "$tmp/err")', want '$2'"
	fi
}
bad_file 'clinet connect server:80' \
	"1:1: expected a statement (a host's action, expect, path, link, drop, delay, keep, replay, flood, timer, note, finish, stop, at TIME or +TIME; with trace off: clients, echo, sweep, figure), got 'clinet'"
bad_file 'server listen 0' "1:15: expected a port (1 to 65535), got '0'"
bad_file 'server listen 80 backlog' "1:25: expected a backlog (1 to 65535), got the end of the line"
bad_file 'at 2 server close' \
	"1:4: expected a time with its unit (250us, 200ms, 2s, 1.5s, 2min, 1h; at most a day), got '2'"
bad_file 'client send "abc' "1:17: expected a closing '\"', got the end of the line"
bad_file '  client connect server  # no port' \
	"1:18: expected HOST:PORT (server:80, client:5000 or 10.0.0.2:80), got 'server'"
bad_file 'drop next FIN form server' "1:15: expected 'from', got 'form'"
bad_file 'keep all data from server' "1:6: expected 'next', got 'all'"
bad_file 'drop next data from client after x' \
	"1:34: expected a count of segments to let pass (0 to 1000000), got 'x'"
bad_file 'replay now' "1:8: expected the end of the line, got 'now'"
bad_file $'server listen 80\nclient send "x\\q"' \
	"2:15: expected an escape (\\r \\n \\t \\\\ \\\" \\0 \\xHH), got '\\q'"
bad_file $'finish\nclient close' "2:1: expected an expectation (only expect follows finish or stop), got 'client'"
bad_file $'# settings first\nclient connect server:80\nset client sack=0' \
	"3:1: expected an action (scenario, moral, seed, ss, set and trace come before the first action), got 'set'"
bad_file 'expect client states CLOSED>NOPE' \
	"1:22: expected a state path (CLOSED>SYN_SENT>ESTABLISHED ...), got 'CLOSED>NOPE'"
bad_file 'expect client counter Nope = 1' \
	"1:23: expected a counter name (as synack demo --json prints them: TimeWaitEntered, RetransSegs, ...), got 'Nope'"
bad_file 'path delay 10ms loss 2' "1:22: expected a probability (0.01 or 1%), got '2'"
bad_file 'client inject Q' "1:15: expected flags as the ladder writes them (S, S., ., P., F., R, R. ...), got 'Q'"
bad_file 'expect server sent F. seq' "1:26: expected a whole number (0 to 4294967295), got the end of the line"
bad_file 'set both time_wait_ms=forever' \
	"1:10: expected KEY=VALUE, got 'time_wait_ms=forever' (set time_wait_ms: 'forever' is not a time up to 4294967295 ms (digits: milliseconds, or digits with a unit: ms, s, min, h))"
# The constructs of the demo scenarios (issue 18): times relative to the
# path, times in notes, renumbered replays, timers, the comparison run.
bad_file 'delay next data from client by 3*dly' \
	"1:32: expected a sum of times and multiples of delay and rtt (3*delay+20ms, 2*rtt), got '3*dly'"
bad_file 'at 2*rtt+ client close' \
	"1:4: expected a sum of times and multiples of delay and rtt (3*delay+20ms, 2*rtt), got '2*rtt+'"
bad_file 'note client "held {3*delay longer"' \
	"1:13: expected a time in braces, closed ({3*delay+20ms}), got \"held {3*delay longer\""
bad_file 'note client "held {soon} longer"' \
	"1:13: expected a time in braces ({200ms}, {3*delay+20ms}, {rtt}), got \"held {soon} longer\""
bad_file 'replay seq later' "1:12: expected next or a relative sequence number (0 to 4294967295), got 'later'"
bad_file 'timer Big start' "1:7: expected a timer's name (a-z, 0-9, '-', '_'; at most 31), got 'Big'"
bad_file 'timer t go' "1:9: expected start or stop, got 'go'"
bad_file 'expect timer nope < 1s' \
	"1:14: expected the name of a timer started before (timer NAME start), got 'nope'"
bad_file 'expect in newreno client counter Timeouts = 0' \
	"1:11: expected the name of the comparison run (compare NAME set ...), got 'newreno'"
bad_file $'compare newreno set both sack=0\nfinish\nexpect in newreno client state CLOSED' \
	"3:26: expected 'counter' (or 'timer' before the host), got 'state'"
bad_file $'compare newreno set both sack=0\nexpect in newreno client counter Timeouts = 0' \
	"2:1: expected 'finish' before an expectation about the comparison run, got 'expect'"
bad_file 'compare newreno both sack=0' "1:17: expected 'set', got 'both'"
bad_file $'compare a set both sack=0\ncompare b set both sack=0' "2:1: expected one compare line, got 'compare'"
bad_file 'server listen 80 fastopen 0' "1:27: expected a queue length (1 to 65535), got '0'"
bad_file 'server close listeners' "1:14: expected the end of the line, got 'listeners'"
bad_file 'flood 0 S to server:80 over 1s' "1:7: expected a count of segments (1 to 100000), got '0'"
bad_file 'flood 200000 S to server:80 over 1s' "1:7: expected a count of segments (1 to 100000), got '200000'"
bad_file 'flood 5 S to 10.0.0.2:80 over 1s' "1:14: expected HOST:PORT (server:80 or client:5000), got '10.0.0.2:80'"
bad_file 'flood 5 S server:80 over 1s' "1:11: expected 'to', got 'server:80'"
bad_file 'flood 5 S to server:80 in 1s' "1:24: expected 'over', got 'in'"
# Crowds and attacks at scale (trace off; the attack demos are such files):
# one refusal per construct.
to=$'trace off\nserver listen 80\n'
crowd=$'trace off\nserver listen 80\nclients 5 from 10.1.0.0/16\n'
bad_file 'trace on' "1:7: expected 'off', got 'on'"
bad_file 'clients 5 from 10.1.0.0/16' \
	"1:1: expected 'trace off' before the first action (a crowd is told in figures, not drawn), got 'clients'"
bad_file "${to}clients 0 from 10.1.0.0/16" "3:9: expected a number of clients (1 to 60000), got '0'"
bad_file "${to}clients 5 from 10.1.0.1/16" \
	"3:16: expected an IPv4 prefix without host bits (10.1.0.0/16), got '10.1.0.1/16'"
bad_file "${to}clients 300 from 10.1.0.0/24" \
	"3:18: expected a prefix with room for the clients (10.1.0.0/16 holds 65534), got '10.1.0.0/24'"
bad_file "${to}clients 5 from 10.1.0.0/16 start between 2s and 1s" "3:49: expected a time after the first, got '1s'"
bad_file "${to}clients 5 from 10.1.0.0/16 start soon" "3:34: expected 'between' or 'at', got 'soon'"
bad_file "${crowd}echo 0 bytes every 100ms rounds 1" "4:6: expected a message size (1 to 65536), got '0'"
bad_file "${crowd}echo 1000 bytes each 100ms rounds 1" "4:17: expected 'every', got 'each'"
bad_file "${crowd}echo 1000 bytes every 100ms" "4:28: expected 'rounds', got the end of the line"
bad_file "${crowd}sweep Q over 1s" "4:7: expected flags as the ladder writes them (S, S., ., P., F., R, R. ...), got 'Q'"
bad_file "${crowd}sweep R over 1s step 0" "4:22: expected a step (1 to 4294967295), got '0'"
bad_file "${crowd}sweep R over 1s stride 5" "4:17: expected step, count or the end of the line, got 'stride'"
bad_file "${to}at 1s sweep R over 10s" \
	"3:1: expected a crowd (clients N from PREFIX) before a sweep of its connections, got 'at'"
bad_file "${to}flood 200000000 S to server:80 over 1s" "3:7: expected a count of segments (1 to 100000000), got '200000000'"
bad_file "${to}flood 5 S from 10.2.0.0/16 to server:80 over 1s" "3:16: expected 'random' (spoofed sources), got '10.2.0.0/16'"
bad_file $'trace off\nclient connect server:80' \
	"2:1: expected a statement of a run with trace off (server listen PORT [backlog N], clients, echo, flood ... to server:PORT, sweep, finish, figure, expect figure), got 'client'"
bad_file "${to}" "3:1: expected a crowd (clients N from PREFIX) in a run with trace off, got the end of the file"
bad_file "${crowd}figure clients" "4:1: expected 'finish' before figures and their expectations, got 'figure'"
bad_file "${crowd}finish"$'\nfigure nope' \
	"5:8: expected a figure (built in, a counter, drop:REASON, or a figure defined above), got 'nope'"
bad_file "${crowd}finish"$'\nfigure x = 2*clients+Nope' \
	"5:22: expected a figure (built in, a counter, drop:REASON, or a figure defined above), got 'Nope'"
bad_file "${crowd}finish"$'\nfigure x = 1+' \
	"5:12: expected a figure expression (names and whole numbers joined by + and *: 1+clients), got '1+'"
bad_file "${crowd}finish"$'\nexpect figure legit_ok == clients' "5:24: expected a comparison (=, !=, <, <=, >, >=), got '=='"
bad_file "${crowd}finish"$'\nexpect figure legit_ok = clients also' \
	"5:34: expected and, or, a sentence in quotes or the end of the line, got 'also'"
bad_file "${crowd}finish"$'\nexpect figure legit_ok = clients "ok ({nope})"' \
	"5:40: expected a figure (built in, a counter, drop:REASON, or a figure defined above), got 'nope'"
bad_file "${crowd}finish"$'\nexpect figure clients = 1 "two\\nlines"' \
	"5:27: expected a sentence of printable characters, got \"two?lines\""
bad_file "${crowd}finish"$'\nexpect figure 1 = 1 or 1 = 1 or 1 = 1 or 1 = 1 or 1 = 1 or 1 = 1 or 1 = 1 or 1 = 1 or 1 = 1' \
	"5:87: expected at most 8 comparisons, got '1'"
# A fifth attack, written in minutes: a small crowd, a SYN flood and a RST
# sweep at once; its figures and checks, exit 1 naming the line that failed.
cat >"$tmp/crowd.synack" <<'SCRIPT'
scenario mixed "a SYN flood and a RST sweep at once"
trace off
set server max_syn_backlog=8
server listen 80 backlog 8
clients 3 from 10.9.0.0/16
echo 200 bytes every 50ms rounds 20
flood 3000 S from random to server:80 over 1s
at 200ms sweep R over 500ms count 3000 step 1000000
finish
figure spoofed = forged
figure rounds_done
figure queue = syn_queue_max
expect figure legit_ok = clients and rounds_done = 20*clients "all {clients} clients did their {rounds_wanted} rounds"
expect figure forged = 6000 and SyncookiesSent > 0 "the attacks sent {forged}"
expect figure EstabResets = 0 and drop:rst_out_of_window+RstChallenge = 3000
expect figure queue > 8 "a SYN queue of {queue}: this one fails"
expect figure clients = 4 or clients = 4 or clients = 4 or clients = 4 or clients = 4 or clients = 4 or clients = 4 or clients = 3 "the eighth comparison counts"
SCRIPT
rc=0
"$synack" script "$tmp/crowd.synack" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 1 ] && grep -q "^synack script mixed (seed 1): server 10.0.0.2:80, 3 clients in 10.9/16$" "$tmp/out" &&
	grep -q "^  spoofed                  6000$" "$tmp/out" && grep -q "^  rounds_done              60$" "$tmp/out" &&
	grep -q "^  ok     all 3 clients did their 20 rounds$" "$tmp/out" &&
	grep -q "^  ok     the attacks sent 6000$" "$tmp/out" && grep -q "^  ok     the eighth comparison counts$" "$tmp/out" &&
	grep -q "^  ok     EstabResets = 0 and drop:rst_out_of_window+RstChallenge = 3000$" "$tmp/out" &&
	[ "$(cat "$tmp/err")" = "$tmp/crowd.synack:16: expectation failed: a SYN queue of 8: this one fails (queue > 8)" ]; then ok; else
	bad "crowd script: exit $rc, $(cat "$tmp/err"), $(cat "$tmp/out")"
fi
if "$synack" script "$tmp/crowd.synack" --json 2>/dev/null | grep -q '^{"ev":"summary","ok":false,"scenario":"mixed","seed":1,.*"spoofed":6000,"rounds_done":60,"queue":8,'; then ok; else
	bad "crowd script --json"; fi
rc=0
"$synack" script "$tmp/crowd.synack" --svg "$tmp/x.svg" >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q "has trace off" "$tmp/err"; then ok; else bad "crowd --svg: exit $rc"; fi
# The ticks of the attacks cost every client a step each: they end within
# the run's cap of 600 s, or the file is refused.
printf 'trace off\nserver listen 80\nclients 5 from 10.1.0.0/16\nat 500s flood 10 S to server:80 over 101s\n' >"$tmp/long.synack"
rc=0
"$synack" script "$tmp/long.synack" >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q "end after 601.000 s; a run with trace off ends at 600 s" "$tmp/err"; then ok; else
	bad "a flood past the cap: exit $rc, $(cat "$tmp/err")"; fi
# The shipped attack files run directly, as synack demo runs them.
if cmp -s <("$synack" script "$scripts/blind-data.synack" --seed 3 --json) <("$synack" demo blind-data --seed 3 --json); then ok; else
	bad "script blind-data.synack --json differs from demo blind-data --json"; fi
# A flood is counted, not drawn: the ladder shows the two hosts only, and
# its segments reached the listener (every one answered with a cookie).
printf 'server listen 80 backlog 4\nflood 300 S to server:80 over 300ms\nfinish\nexpect server counter SyncookiesSent = 296\n' >"$tmp/flood.synack"
rc=0
"$synack" script "$tmp/flood.synack" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 0 ] && grep -q "flood: 300 S over 300 ms, spoofed" "$tmp/out" &&
	grep -q "flood: the last of its 300 segments arrives" "$tmp/out" && ! grep -q -- "-->|" "$tmp/out"; then ok; else
	bad "flood: exit $rc, $(cat "$tmp/err") $(grep -E '^  (ok|FAILED)' "$tmp/out")"
fi
# A comparison run's settings are checked like the file's own.
printf 'compare x set client rto_min_ms=5000 rto_max_ms=1000\nserver listen 80\n' >"$tmp/cmp.synack"
rc=0
"$synack" script "$tmp/cmp.synack" >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q "^$tmp/cmp.synack:1:1: expected settings the stack takes, got: " "$tmp/err"; then ok; else
	bad "refused comparison settings: exit $rc, $(cat "$tmp/err")"
fi
# A comparison run and timers: the same timeline, other settings; a
# relative time follows the path (--delay-ms has no say here: path delay).
cat >"$tmp/cmp.synack" <<'SCRIPT'
compare slow set both rto_initial_ms=3000
path delay 40ms
server listen 80
drop next SYN from client
timer open start
client connect server:80
timer open stop
note client "one rtt is {rtt}"
finish
expect timer open >= 1s+rtt
expect timer open < slow
expect in slow timer open >= 3s+rtt
expect in slow client counter RetransSegs = 1
expect timer open > 2*open
SCRIPT
rc=0
"$synack" script "$tmp/cmp.synack" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 1 ] && grep -q "one rtt is 80 ms" "$tmp/out" &&
	grep -q "^  ok     timer open 1080.000 ms (want >= 1080.000 ms)" "$tmp/out" &&
	grep -q "^  ok     timer open 1080.000 ms (want < 3080.000 ms in slow)" "$tmp/out" &&
	grep -q "^  ok     in slow: client RetransSegs = 1 (want = 1)" "$tmp/out" &&
	[ "$(cat "$tmp/err")" = "$tmp/cmp.synack:14: expectation failed: timer open 1080.000 ms (want > 2160.000 ms: 2 times open)" ]; then ok; else
	bad "compare and timers: exit $rc, $(cat "$tmp/err"), $(grep -E '^  (ok|FAILED)' "$tmp/out")"
fi
# A configuration the stack refuses as a whole: the line of the last `set`.
printf 'set client rto_min_ms=5000 rto_max_ms=1000\nserver listen 80\n' >"$tmp/cfg.synack"
rc=0
"$synack" script "$tmp/cfg.synack" >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q "^$tmp/cfg.synack:1:1: expected settings the stack takes, got: " "$tmp/err"; then ok; else
	bad "refused configuration: exit $rc, $(cat "$tmp/err")"
fi
# Usage.
rc=0
"$synack" script >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q "which script" "$tmp/err"; then ok; else bad "no FILE: exit $rc"; fi
rc=0
"$synack" script "$tmp/none.synack" >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 2 ] && grep -q "none.synack: No such file" "$tmp/err"; then ok; else bad "missing FILE: exit $rc"; fi
if "$synack" script --help | grep -q -- --seed; then ok; else bad "synack script --help"; fi
if "$synack" --help | grep -q "script FILE"; then ok; else bad "synack --help does not mention script"; fi

# A failing expectation: exit 1, its line named, the run drawn with FAILED.
cat >"$tmp/fail.synack" <<'SCRIPT'
server listen 80
client connect server:80
server accept
client close
finish
expect client counter ActiveOpens = 1
expect client counter ActiveOpens = 2
SCRIPT
rc=0
"$synack" script "$tmp/fail.synack" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 1 ] &&
	[ "$(cat "$tmp/err")" = "$tmp/fail.synack:7: expectation failed: client ActiveOpens = 1 (want 2)" ] &&
	tail -1 "$tmp/out" | grep -qx FAILED; then ok; else
	bad "failing expectation: exit $rc, stderr '$(cat "$tmp/err")'"
fi
# An action that cannot complete: exit 1 at its line, the rest not run.
cat >"$tmp/stuck.synack" <<'SCRIPT'
server listen 80
client connect server:80
server accept
server recv 10     # the client sends nothing
client close
SCRIPT
rc=0
"$synack" script "$tmp/stuck.synack" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 1 ] &&
	[ "$(cat "$tmp/err")" = "$tmp/stuck.synack:4: server recv 10 could not complete: nothing more happened after 0 bytes" ] &&
	! grep -q "close()" "$tmp/out"; then ok; else
	bad "stuck action: exit $rc, stderr '$(cat "$tmp/err")'"
fi
# `at T stop` ends a run that never goes idle (keepalives on a live
# connection) at T, and the expectations after it see T.
cat >"$tmp/stop.synack" <<'SCRIPT'
set both keepalive_time_ms=1s keepalive_intvl_ms=1s
server listen 80
client connect server:80
client setsockopt keepalive 1
server accept
at 10s stop
expect client state ESTABLISHED
expect client counter KeepAliveProbes >= 5
SCRIPT
rc=0
"$synack" script "$tmp/stop.synack" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 0 ] && grep -q "client in ESTABLISHED at 10000.000 ms" "$tmp/out"; then ok; else
	bad "at 10s stop: exit $rc, $(cat "$tmp/err")"
fi
# A send on a reset connection ends with its error (no endless retry).
printf 'server listen 80\nclient connect server:80\nserver accept\nserver abort\nclient wait CLOSED\nclient send 100000 bytes\nexpect client error ECONNRESET\n' >"$tmp/reset.synack"
rc=0
"$synack" script "$tmp/reset.synack" >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 0 ]; then ok; else bad "send after a reset: exit $rc, $(cat "$tmp/err")"; fi
# replay with nothing kept.
printf 'replay\n' >"$tmp/replay.synack"
rc=0
"$synack" script "$tmp/replay.synack" >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 1 ] && [ "$(cat "$tmp/err")" = "$tmp/replay.synack:1: replay: no segment was kept" ]; then ok; else
	bad "replay without keep: exit $rc, $(cat "$tmp/err")"
fi
# A time in the past.
printf 'at 1s\nat 500ms client connect server:80\n' >"$tmp/past.synack"
rc=0
"$synack" script "$tmp/past.synack" >/dev/null 2>"$tmp/err" || rc=$?
if [ "$rc" -eq 1 ] && grep -q "past.synack:2: 'at 500.000 ms' is past: the clock reads 1000.000 ms" "$tmp/err"; then ok; else
	bad "time in the past: exit $rc, $(cat "$tmp/err")"
fi

# The pictures and the capture, as demo writes them.
if "$synack" script "$scripts/lost-final-ack.synack" --svg "$tmp/p.svg" --html "$tmp/p.html" \
	--pcap "$tmp/p.pcap" >/dev/null && [ -s "$tmp/p.svg" ] && [ -s "$tmp/p.html" ] && [ -s "$tmp/p.pcap" ]; then ok; else
	bad "--svg --html --pcap"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
