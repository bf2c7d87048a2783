#!/usr/bin/env bash
# curl and wget, unmodified, over synack (issue 15 item 4): under `synack
# run` on a TAP device they fetch several files from the kernel's HTTP
# server (one connection, keep-alive) and a 100 MB body checked by sha256
# (kernel -> synack), and curl uploads the 100 MB body with PUT, whose
# sha256 the server answers (synack -> kernel).
# Usage: test_prog_curl_wget.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/apps.sh"
it_apps_init prog-curl "${1:-}" curl wget
it_asan_probe curl --version
it_asan_probe wget --version
www=$IT_TMP/www
mkdir -p "$www"
for i in 1 2 3 4 5; do
	it_make_file "$www/f$i" $((i * 37000 + i))
done
it_make_file "$www/big" 100000000
want_big=$(sha256sum <"$www/big" | cut -d' ' -f1)

it_kernel_bg server python3 "$IT_HERE/apps_http.py" "$www" "$IT_LINUX" 8080
it_wait_line "$IT_TMP/server.out" '^ready$' 20 "$KERNEL_PID" "the kernel's HTTP server"
base=http://$IT_LINUX:8080

# curl: five files on one connection, then the big one.
urls=()
for i in 1 2 3 4 5; do
	urls+=("$base/f$i" -o "$IT_TMP/curl-f$i")
done
it_run curl-small 60 curl -sS --fail "${urls[@]}"
if [ "$RUN_RC" -eq 0 ]; then ok; else bad "curl of five files exited $RUN_RC: $(tail -n 3 "$IT_TMP/curl-small.err")"; fi
for i in 1 2 3 4 5; do
	cmp -s "$www/f$i" "$IT_TMP/curl-f$i" && ok || bad "curl f$i differs"
done
it_run curl-big 150 curl -sS --fail -o "$IT_TMP/curl-big" "$base/big"
if [ "$RUN_RC" -eq 0 ]; then ok; else bad "curl of 100 MB exited $RUN_RC: $(tail -n 3 "$IT_TMP/curl-big.err")"; fi
it_check_sha "$IT_TMP/curl-big" "$want_big" "curl GET 100 MB"
rm -f "$IT_TMP/curl-big"

# curl PUT: the 100 MB body the other way.
it_run curl-put 150 curl -sS --fail -T "$www/big" "$base/upload"
if [ "$RUN_RC" -eq 0 ]; then ok; else bad "curl PUT exited $RUN_RC: $(tail -n 3 "$IT_TMP/curl-put.err")"; fi
if [ "$(cat "$IT_TMP/curl-put.out")" = "$want_big 100000000" ]; then
	ok
else
	bad "curl PUT 100 MB: the server got '$(cat "$IT_TMP/curl-put.out")', want '$want_big 100000000'"
fi

# wget: the five files in one run (one connection), then the big one.
mkdir -p "$IT_TMP/wget"
wurls=()
for i in 1 2 3 4 5; do wurls+=("$base/f$i"); done
it_run wget-small 60 wget -q -P "$IT_TMP/wget" "${wurls[@]}"
if [ "$RUN_RC" -eq 0 ]; then ok; else bad "wget of five files exited $RUN_RC: $(tail -n 3 "$IT_TMP/wget-small.err")"; fi
for i in 1 2 3 4 5; do
	cmp -s "$www/f$i" "$IT_TMP/wget/f$i" && ok || bad "wget f$i differs"
done
it_run wget-big 150 wget -q -O "$IT_TMP/wget-big" "$base/big"
if [ "$RUN_RC" -eq 0 ]; then ok; else bad "wget of 100 MB exited $RUN_RC: $(tail -n 3 "$IT_TMP/wget-big.err")"; fi
it_check_sha "$IT_TMP/wget-big" "$want_big" "wget GET 100 MB"
it_finish
