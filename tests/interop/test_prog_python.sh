#!/usr/bin/env bash
# Python, unmodified, over synack (issue 15 item 4): `python3 -m
# http.server` (a ThreadingHTTPServer: one thread per connection, the
# sockets used from threads that did not make them) under `synack run`
# serves files to the kernel's curl, five at once and a 20 MB one checked
# by sha256; a urllib client under synack fetches files from the kernel's
# HTTP server and PUTs 20 MB to it (both directions).
# Usage: test_prog_python.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps.sh"
it_apps_init prog-python "${1:-}" python3 curl
www=$IT_TMP/www
mkdir -p "$www"
for i in 1 2 3 4 5; do
	it_make_file "$www/f$i" $((i * 50000 + 3))
done
it_make_file "$www/big" 20000000
want_big=$(sha256sum <"$www/big" | cut -d' ' -f1)

# The server under synack, the kernel's curl as client.
it_run_bg http-server python3 -u -m http.server --bind 0.0.0.0 --directory "$www" 8000
srv=$RUN_PID
it_wait_line "$IT_TMP/http-server.out" '^Serving HTTP on ' 30 "$srv" "python3 -m http.server"
pids=()
for i in 1 2 3 4 5; do
	ns curl -sS --fail --max-time 60 -o "$IT_TMP/k-f$i" "http://$IT_SYNACK:8000/f$i" 2>"$IT_TMP/k-f$i.err" &
	pids+=($!)
done
for i in 1 2 3 4 5; do
	wait "${pids[$((i - 1))]}" || bad "curl f$i from http.server: $(cat "$IT_TMP/k-f$i.err")"
	cmp -s "$www/f$i" "$IT_TMP/k-f$i" && ok || bad "f$i from http.server differs"
done
ns curl -sS --fail --max-time 120 -o "$IT_TMP/k-big" "http://$IT_SYNACK:8000/big" 2>"$IT_TMP/k-big.err" ||
	bad "curl big from http.server: $(cat "$IT_TMP/k-big.err")"
it_check_sha "$IT_TMP/k-big" "$want_big" "http.server 20 MB"
kill -TERM "$srv" 2>/dev/null
wait "$srv" 2>/dev/null

# urllib under synack, the kernel's HTTP server.
it_kernel_bg server python3 "$IT_HERE/apps_http.py" "$www" "$IT_LINUX" 8080
it_wait_line "$IT_TMP/server.out" '^ready$' 20 "$KERNEL_PID" "the kernel's HTTP server"
cat >"$IT_TMP/client.py" <<'PY'
import hashlib, sys, urllib.request
base, www = sys.argv[1], sys.argv[2]
for i in range(1, 6):
    got = urllib.request.urlopen("%s/f%d" % (base, i), timeout=60).read()
    want = open("%s/f%d" % (www, i), "rb").read()
    print("f%d %s" % (i, "same" if got == want else "differs (%d bytes)" % len(got)))
big = open(www + "/big", "rb").read()
got = urllib.request.urlopen(base + "/big", timeout=120).read()
print("get big %s" % hashlib.sha256(got).hexdigest())
req = urllib.request.Request(base + "/upload", data=big, method="PUT")
print("put big %s" % urllib.request.urlopen(req, timeout=120).read().decode().strip())
PY
it_run urllib 200 python3 "$IT_TMP/client.py" "http://$IT_LINUX:8080" "$www"
if [ "$RUN_RC" -eq 0 ]; then ok; else bad "the urllib client exited $RUN_RC: $(tail -n 3 "$IT_TMP/urllib.err")"; fi
for i in 1 2 3 4 5; do
	grep -qx "f$i same" "$IT_TMP/urllib.out" && ok || bad "urllib f$i: $(grep "^f$i " "$IT_TMP/urllib.out")"
done
grep -qx "get big $want_big" "$IT_TMP/urllib.out" && ok || bad "urllib GET 20 MB: $(grep '^get' "$IT_TMP/urllib.out")"
grep -qx "put big $want_big 20000000" "$IT_TMP/urllib.out" && ok || bad "urllib PUT 20 MB: $(grep '^put' "$IT_TMP/urllib.out")"
it_finish
