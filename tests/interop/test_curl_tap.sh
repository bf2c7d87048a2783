#!/usr/bin/env bash
# Linux's curl fetches from `synack serve --app http` on a TAP device: a
# 1 KiB and a 10 MiB body, each checked against the pattern's sha256; HEAD
# gives the length, another method 405.  serve prints its ready line
# exactly, stops on SIGINT with status 0, and every pcap is clean.
# IT_VARIANT=tun runs the same over a TUN device (test_curl_tun.sh).
# Usage: test_curl_tap.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
variant=${IT_VARIANT:-tap}
it_init "curl-$variant" "${1:-}" curl sha256sum
it_dev "$variant"

for size in 1KiB 10MiB; do
	case $size in
	1KiB) bytes=1024 ;;
	10MiB) bytes=10485760 ;;
	esac
	it_serve "serve-$size" --app http --http-size "$size" --pcap "$IT_TMP/curl-$variant-$size.pcap"
	want_ready="synack serve: listening on $IT_SYNACK:80 (dev $IT_DEV, $variant, app http)"
	got_ready=$(head -n 1 "$IT_TMP/serve-$size.out")
	if [ "$got_ready" = "$want_ready" ]; then ok; else bad "ready line '$got_ready', want '$want_ready'"; fi

	t0=$(date +%s.%N)
	ns curl -sS --max-time 120 -o "$IT_TMP/body-$size" "http://$IT_SYNACK/file-$size"
	rc=$?
	t1=$(date +%s.%N)
	if [ $rc -eq 0 ]; then ok; else bad "curl $size exited $rc"; fi
	want=$(python3 "$IT_PEER" body-hash "$bytes")
	got=$(sha256sum <"$IT_TMP/body-$size" | cut -d' ' -f1)
	len=$(stat -c %s "$IT_TMP/body-$size" 2>/dev/null || echo 0)
	if [ "$got" = "$want" ]; then ok; else bad "curl $size: $len bytes, sha256 $got, want $want"; fi
	note "curl GET $size over $variant: $len bytes in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s, sha256 ${got:0:16}..."

	if [ "$size" = 1KiB ]; then
		# HEAD: the length and no body; another method: 405.
		ns curl -sS --max-time 20 -I "http://$IT_SYNACK/x" >"$IT_TMP/head" 2>&1
		if grep -qi "^content-length: $bytes" "$IT_TMP/head" && grep -q '^HTTP/1.1 200' "$IT_TMP/head"; then
			ok
		else
			bad "HEAD: $(cat "$IT_TMP/head")"
		fi
		code=$(ns curl -sS --max-time 20 -o /dev/null -w '%{http_code}' -X DELETE "http://$IT_SYNACK/x")
		if [ "$code" = 405 ]; then ok; else bad "DELETE answered $code, want 405"; fi
	fi
	it_serve_stop "serve-$size"
done
it_pcap_check "$IT_TMP"/curl-*.pcap
it_finish
