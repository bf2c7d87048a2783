#!/usr/bin/env bash
# Persistent connections of `synack serve --app http` (RFC 9112 9.3) as
# Linux's HTTP clients use them: curl reuses one HTTP/1.1 connection for
# several URLs, and one HTTP/1.0 connection when it asks for keep-alive (the
# response says "Connection: keep-alive"); plain HTTP/1.0 and
# "Connection: close" get "Connection: close" and a closed connection;
# pipelined requests are answered in order; `ab -k` and `wrk -c1` finish
# with every request answered and none failed.  No speed is asserted here
# (docs/PERFORMANCE.md has the measurements); the pcap is clean.
# Usage: test_http_keepalive.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init http-keepalive "${1:-}" curl ab wrk
it_dev tap
size=1024
url=http://$IT_SYNACK

it_serve serve --app http --http-size "$size" --pcap "$IT_TMP/http-keepalive.pcap"
want=$(python3 "$IT_PEER" body-hash "$size")

# curl_check NAME CONNECTIONS CONN_HEADER CURL_ARGS...: curl -v fetches
# three URLs; each body is the pattern, curl opened CONNECTIONS connections,
# and every response carried CONN_HEADER ("" for none).
curl_check() {
	local name=$1 conns=$2 hdr=$3 i got n h
	shift 3
	ns curl -sS -v --max-time 30 "$@" -o "$IT_TMP/$name-1" "$url/a" -o "$IT_TMP/$name-2" "$url/b" \
		-o "$IT_TMP/$name-3" "$url/c" 2>"$IT_TMP/$name.err" || bad "$name: curl exited $?: $(tail -n 3 "$IT_TMP/$name.err")"
	for i in 1 2 3; do
		got=$(sha256sum <"$IT_TMP/$name-$i" | cut -d' ' -f1)
		[ "$got" = "$want" ] && ok || bad "$name: body $i sha256 $got, want $want"
	done
	n=$(grep -c '^\* Connected to' "$IT_TMP/$name.err")
	[ "$n" = "$conns" ] && ok || bad "$name: $n connections, want $conns: $(grep '^\*' "$IT_TMP/$name.err")"
	n=$(grep -ci '^< Connection:' "$IT_TMP/$name.err")
	h=$(grep -ci "^< Connection: $hdr"$'\r'"\?\$" "$IT_TMP/$name.err")
	if [ -z "$hdr" ]; then
		[ "$n" = 0 ] && ok || bad "$name: a Connection header: $(grep -i '^< Connection:' "$IT_TMP/$name.err")"
	else
		[ "$h" = 3 ] && ok || bad "$name: $h of 3 responses say 'Connection: $hdr'"
	fi
	note "$name: $conns connection(s) for 3 URLs${hdr:+, Connection: $hdr}"
}
curl_check http11 1 ""
curl_check http10-keepalive 1 keep-alive --http1.0 -H 'Connection: keep-alive'
curl_check http10 3 close --http1.0
curl_check http11-close 3 close -H 'Connection: close'

# HEAD on a kept connection: the length, no body, and the GET after it on
# the same connection gets its whole body.
ns curl -sS -v --max-time 30 -I "$url/h" --next -o "$IT_TMP/after-head" "$url/g" >"$IT_TMP/head.out" 2>"$IT_TMP/head.err"
grep -qi "^content-length: $size" "$IT_TMP/head.out" && ok || bad "HEAD: $(cat "$IT_TMP/head.out")"
got=$(sha256sum <"$IT_TMP/after-head" | cut -d' ' -f1)
[ "$got" = "$want" ] && ok || bad "GET after HEAD: sha256 $got, want $want"
n=$(grep -c '^\* Connected to' "$IT_TMP/head.err")
[ "$n" = 1 ] && ok || bad "HEAD then GET: $n connections, want 1"

ns timeout 60 python3 "$IT_PEER" http-pipeline "$IT_SYNACK" 80 "$size" >"$IT_TMP/pipe.out" 2>"$IT_TMP/pipe.err" &&
	ok || bad "pipelined: $(cat "$IT_TMP/pipe.out" "$IT_TMP/pipe.err")"
note "pipelined: $(cat "$IT_TMP/pipe.out")"
it_serve_stop serve
it_pcap_check "$IT_TMP/http-keepalive.pcap"

# ab and wrk: many requests, one kept connection; no capture (volume).
it_serve load --app http --http-size "$size"
ns timeout 60 ab -k -n 200 -c 1 "$url/" >"$IT_TMP/ab.out" 2>&1 || bad "ab -k exited $?: $(tail -n 5 "$IT_TMP/ab.out")"
complete=$(sed -n 's/^Complete requests: *//p' "$IT_TMP/ab.out")
failed=$(sed -n 's/^Failed requests: *//p' "$IT_TMP/ab.out")
kept=$(sed -n 's/^Keep-Alive requests: *//p' "$IT_TMP/ab.out")
[ "$complete" = 200 ] && [ "$failed" = 0 ] && [ "$kept" = 200 ] && ok ||
	bad "ab -k: complete '$complete' failed '$failed' keep-alive '$kept', want 200 0 200"
note "ab -k -n 200 -c 1: $complete complete, $failed failed, $kept kept alive"

ns timeout 30 wrk -c1 -t1 -d2s "$url/" >"$IT_TMP/wrk.out" 2>&1 || bad "wrk exited $?: $(cat "$IT_TMP/wrk.out")"
reqs=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$IT_TMP/wrk.out")
# wrk prints these lines only when there were errors or non-2xx answers.
if [ "${reqs:-0}" -gt 0 ] && ! grep -qE 'Socket errors|Non-2xx' "$IT_TMP/wrk.out"; then ok; else bad "wrk -c1: $(cat "$IT_TMP/wrk.out")"; fi
note "wrk -c1 -d2s: ${reqs:-0} requests, no error"
it_serve_stop load
it_finish
