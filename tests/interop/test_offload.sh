#!/usr/bin/env bash
# The offloads of TUN/TAP (issue 16 item 2): on a TAP and on a TUN device,
# with every offload on (the default) and with each turned off
# (--no-tso, --no-gro, --no-csum-offload, --no-csum-trust):
#  1. synack connect sends 24 MiB to a Linux sink: its bytes hash as the
#     pattern;
#  2. a Linux server sends 24 MiB to synack connect: synack's --output
#     hashes as the pattern;
#  3. a Linux client sends 8 MiB of random bytes through synack serve
#     --app echo and reads them back identical; serve's counters say
#     whether super-segments crossed each way: link_gso_out (tso) and
#     link_gso_in (gro) above 0 when on, 0 when off, and no partial
#     checksum completed (link_csum_completed) without csum offload;
#     the kernel's checksum state taken as verified (link_csum_trusted)
#     by default and never with --no-csum-trust, which completes the
#     partial ones instead; no link_drop_vnet_bad ever.
# The captures (super-segments included, with the checksum they would
# carry whole) are clean.
# Usage: test_offload.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init offload "${1:-}" sha256sum
size=25165824
want=$(python3 "$IT_PEER" body-hash $size)
port=5000

run_case() { # KIND NAME FLAGS...
	local kind=$1 name=$2 tag
	shift 2
	tag="$kind $name"
	port=$((port + 1))
	# 1. synack sends.
	it_peer_server "s-$kind-$name" "$IT_LINUX" $port sink
	it_connect "c-$kind-$name" "$IT_LINUX:$port" --send-bytes $size "$@" \
		--pcap "$IT_TMP/send-$kind-$name.pcap"
	it_peer_wait
	if [ "$CONNECT_RC" -eq 0 ] && [ "$(kv received "$IT_TMP/s-$kind-$name.out")" = $size ] &&
		[ "$(kv sha256 "$IT_TMP/s-$kind-$name.out")" = "$want" ]; then
		ok
	else
		bad "$tag: synack -> Linux: connect $CONNECT_RC, $(cat "$IT_TMP/s-$kind-$name.out") $(tail -n 2 "$IT_TMP/c-$kind-$name.err")"
	fi
	# 2. Linux sends.
	port=$((port + 1))
	it_peer_server "r-$kind-$name" "$IT_LINUX" $port send-close $size
	it_connect "d-$kind-$name" "$IT_LINUX:$port" --wait-eof --output "$IT_TMP/got" "$@" \
		--pcap "$IT_TMP/recv-$kind-$name.pcap"
	it_peer_wait
	local got
	got=$(sha256sum <"$IT_TMP/got" | cut -d' ' -f1)
	if [ "$CONNECT_RC" -eq 0 ] && [ "$got" = "$want" ]; then
		ok
	else
		bad "$tag: Linux -> synack: connect $CONNECT_RC, $(stat -c %s "$IT_TMP/got") bytes sha256 $got $(tail -n 2 "$IT_TMP/d-$kind-$name.err")"
	fi
	rm -f "$IT_TMP/got"
	# 3. Both ways at once, with serve's counters.
	it_serve "e-$kind-$name" --app echo "$@"
	if ns python3 "$IT_PEER" echo "$IT_SYNACK" 7 8388608 7 >"$IT_TMP/echo.out" 2>&1; then
		ok
	else
		bad "$tag: echo: $(cat "$IT_TMP/echo.out")"
	fi
	it_serve_stop "e-$kind-$name"
	counters_of "$IT_TMP/e-$kind-$name.out" >"$IT_TMP/counters"
	local gin gout csum trusted vbad
	gin=$(value_of link_gso_in "$IT_TMP/counters")
	gout=$(value_of link_gso_out "$IT_TMP/counters")
	csum=$(value_of link_csum_completed "$IT_TMP/counters")
	trusted=$(value_of link_csum_trusted "$IT_TMP/counters")
	vbad=$(value_of link_drop_vnet_bad "$IT_TMP/counters")
	note "$tag: super-segments in $gin, out $gout ($(value_of link_gso_segs_out "$IT_TMP/counters") segments), checksums completed $csum, trusted $trusted; $(cat "$IT_TMP/echo.out")"
	case "$name" in
	all) [ "$gin" != none ] && [ "$gin" -gt 0 ] && [ "$gout" -gt 0 ] && [ "$trusted" -ge "$gin" ] &&
		[ "$csum" = 0 ] ;;
	no-tso) [ "$gin" -gt 0 ] && [ "$gout" = 0 ] ;;
	no-gro) [ "$gin" = 0 ] && [ "$gout" -gt 0 ] ;;
	no-csum-offload) [ "$gin" = 0 ] && [ "$gout" = 0 ] && [ "$csum" = 0 ] && [ "$trusted" = 0 ] ;;
	no-csum-trust) [ "$gin" -gt 0 ] && [ "$trusted" = 0 ] && [ "$csum" -ge "$gin" ] ;;
	esac
	if [ $? -eq 0 ] && [ "$vbad" = none ]; then ok; else
		bad "$tag: gso_in $gin, gso_out $gout, csum_completed $csum, csum_trusted $trusted, vnet_bad $vbad"
	fi
	it_wait_no_kernel_stuck 10 || bad "$tag: kernel sockets stuck: $(it_ss_states close-wait fin-wait-1 fin-wait-2)"
}

for kind in tap tun; do
	it_dev $kind
	run_case $kind all
	run_case $kind no-tso --no-tso
	run_case $kind no-gro --no-gro
	run_case $kind no-csum-offload --no-csum-offload
	run_case $kind no-csum-trust --no-csum-trust
	ip -n "$IT_NS" link del "$IT_DEV"
done
it_pcap_check "$IT_TMP"/send-tap-all.pcap "$IT_TMP"/recv-tap-all.pcap \
	"$IT_TMP"/send-tun-all.pcap "$IT_TMP"/recv-tun-all.pcap
it_finish
