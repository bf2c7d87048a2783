#!/usr/bin/env bash
# ECN (RFC 3168) with the Linux kernel, net.ipv4.tcp_ecn=1 in the test's own
# namespace:
#  1. a Linux client asks for ECN (ECE+CWR on its SYN) of `synack serve
#     --app echo` with the default ecn=2: synack's SYN-ACK agrees (ECE, no
#     CWR), 1 MiB goes both ways, and each side's data is ECT(0);
#  2. `synack connect --set ecn=1` asks a Linux server: synack's SYN has ECE
#     and CWR, the kernel's SYN-ACK ECE alone, synack's data is ECT(0);
#  3. with ecn=0 synack answers the kernel's ECN-setup SYN without ECN (never
#     drops it) and nothing is ECN-capable.
# On every capture, synack's SYN, SYN-ACK and pure ACKs are Not-ECT, and
# the capture is clean.
# Usage: test_ecn.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init ecn "${1:-}" tshark
it_dev tap
ns sysctl -qw net.ipv4.tcp_ecn=1 || it_skip "cannot set net.ipv4.tcp_ecn in the namespace"

# count PCAP FILTER: frames tshark finds matching the display filter.
count() {
	tshark -n -r "$1" -Y "$2" 2>/dev/null | wc -l
}
want() { # WHAT N_GOT TEST
	if [ "$3" ]; then ok; else bad "$1 (got $2)"; fi
}
US="ip.src == $IT_SYNACK"
KERNEL="ip.src == $IT_LINUX"
SYN="tcp.flags.syn == 1 && tcp.flags.ack == 0"
SYNACK="tcp.flags.syn == 1 && tcp.flags.ack == 1"
SETUP="tcp.flags.ece == 1 && tcp.flags.cwr == 1"
ECE_ONLY="tcp.flags.ece == 1 && tcp.flags.cwr == 0"
ECT0="ip.dsfield.ecn == 2"

# synack sends nothing ECN-capable but new data: SYNs, SYN-ACKs, pure ACKs
# (and FINs, RSTs) are Not-ECT.
no_ect_but_data() { # PCAP CASE
	local n
	n=$(count "$1" "$US && tcp.len == 0 && ip.dsfield.ecn != 0")
	want "$2: synack sent $n segments without data that were not Not-ECT" "$n" "$([ "$n" -eq 0 ] && echo y)"
}

# 1. A Linux client asks synack serve (ecn=2, the default).
it_serve serve --app echo --stats-every 0.2 --pcap "$IT_TMP/ecn-serve.pcap"
ns timeout 150 python3 "$IT_PEER" echo "$IT_SYNACK" 7 1048576 1 >"$IT_TMP/echo.out" 2>"$IT_TMP/echo.err"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "1: echo of 1 MiB: $(cat "$IT_TMP/echo.err")"; fi
it_wait_summary serve 'connections? \(LISTEN 1\)$' 10 || bad "1: synack still has: $(it_last_summary serve)"
it_serve_stop serve
p=$IT_TMP/ecn-serve.pcap
n=$(count "$p" "$KERNEL && $SYN && $SETUP")
want "1: the kernel's SYN is not ECN-setup" "$n" "$([ "$n" -ge 1 ] && echo y)"
# Every SYN-ACK (one, or more when one was sent again) agrees, Not-ECT.
n=$(count "$p" "$US && $SYNACK && $ECE_ONLY && ip.dsfield.ecn == 0")
m=$(count "$p" "$US && $SYNACK && !($ECE_ONLY && ip.dsfield.ecn == 0)")
want "1: synack's SYN-ACK does not agree with ECE alone, Not-ECT ($m do not)" "$n" "$([ "$n" -ge 1 ] && [ "$m" -eq 0 ] && echo y)"
us_ect=$(count "$p" "$US && tcp.len > 0 && $ECT0")
us_data=$(count "$p" "$US && tcp.len > 0")
want "1: synack's data ECT(0) $us_ect of $us_data" "$us_ect" "$([ "$us_ect" -gt 0 ] && echo y)"
k_ect=$(count "$p" "$KERNEL && tcp.len > 0 && $ECT0")
want "1: the kernel's data is not ECT(0)" "$k_ect" "$([ "$k_ect" -gt 0 ] && echo y)"
no_ect_but_data "$p" 1
note "1. Linux asks, synack accepts: synack data ECT(0) $us_ect of $us_data, kernel data ECT(0) $k_ect"

# 2. synack connect asks (ecn=1) a Linux server.
it_peer_server sink2 "$IT_LINUX" 5002 sink
it_connect c2 "$IT_LINUX:5002" --send-bytes 1MiB --set ecn=1 --pcap "$IT_TMP/ecn-connect.pcap"
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "2: connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c2.err")"; fi
if [ "$(kv received "$IT_TMP/sink2.out")" = 1048576 ]; then ok; else bad "2: Linux received $(cat "$IT_TMP/sink2.out")"; fi
p=$IT_TMP/ecn-connect.pcap
n=$(count "$p" "$US && $SYN && $SETUP && ip.dsfield.ecn == 0")
want "2: synack's SYN is not an ECN-setup SYN, Not-ECT" "$n" "$([ "$n" -ge 1 ] && echo y)"
n=$(count "$p" "$KERNEL && $SYNACK && $ECE_ONLY")
m=$(count "$p" "$KERNEL && $SYNACK && !($ECE_ONLY)")
want "2: the kernel's SYN-ACK does not agree ($m do not)" "$n" "$([ "$n" -ge 1 ] && [ "$m" -eq 0 ] && echo y)"
us_ect=$(count "$p" "$US && tcp.len > 0 && $ECT0")
us_data=$(count "$p" "$US && tcp.len > 0")
want "2: synack's data ECT(0) $us_ect of $us_data" "$us_ect" "$([ "$us_ect" -gt 0 ] && echo y)"
no_ect_but_data "$p" 2
note "2. synack asks, Linux accepts: synack data ECT(0) $us_ect of $us_data"

# 3. ecn=0: the ECN-setup SYN is answered, without ECN.
it_serve serve3 --app echo --set ecn=0 --stats-every 0.2 --pcap "$IT_TMP/ecn-off.pcap"
ns timeout 150 python3 "$IT_PEER" echo "$IT_SYNACK" 7 65536 2 >"$IT_TMP/echo3.out" 2>"$IT_TMP/echo3.err"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "3: echo with ecn=0: $(cat "$IT_TMP/echo3.err")"; fi
it_wait_summary serve3 'connections? \(LISTEN 1\)$' 10 || bad "3: synack still has: $(it_last_summary serve3)"
it_serve_stop serve3
p=$IT_TMP/ecn-off.pcap
n=$(count "$p" "$US && $SYNACK && tcp.flags.ece == 0 && tcp.flags.cwr == 0")
m=$(count "$p" "$US && $SYNACK && (tcp.flags.ece == 1 || tcp.flags.cwr == 1)")
want "3: synack did not answer the ECN-setup SYN with a plain SYN-ACK ($m not plain)" "$n" "$([ "$n" -ge 1 ] && [ "$m" -eq 0 ] && echo y)"
n=$(count "$p" "ip.dsfield.ecn != 0")
want "3: $n ECN-capable datagrams on a connection without ECN" "$n" "$([ "$n" -eq 0 ] && echo y)"

it_pcap_check "$IT_TMP/ecn-serve.pcap" "$IT_TMP/ecn-connect.pcap" "$IT_TMP/ecn-off.pcap"
it_finish
