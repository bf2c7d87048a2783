#!/usr/bin/env bash
# TCP Fast Open (RFC 7413) with the Linux kernel, net.ipv4.tcp_fastopen set
# in the test's own namespace:
#  1. a Linux client (python3, sendto with MSG_FASTOPEN) to `synack serve
#     --app echo --set fastopen=1027` (client, server, every listener):
#     the first connection's SYN asks for a cookie, the next ones carry
#     their data with it; synack counts TCPFastOpenCookieReqd and
#     TCPFastOpenPassive, the kernel TCPFastOpenActive, every echo is
#     right;
#  2. `synack connect --fastopen` to a Linux server with TCP_FASTOPEN: its
#     SYN asks for a cookie (the kernel counts TCPFastOpenCookieReqd and
#     its SYN-ACK carries one);
#  3. `synack connect --fastopen --set fastopen=5` (data without a cookie)
#     to a Linux server that takes SYN data without one (tcp_fastopen =
#     0x203): the data rides in synack's SYN and the kernel takes it
#     (TCPFastOpenPassive), all of it arriving.
# Every capture is clean.
# Usage: test_fastopen.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init fastopen "${1:-}" tshark
it_dev tap
ns sysctl -qw net.ipv4.tcp_fastopen=3 || it_skip "cannot set net.ipv4.tcp_fastopen in the namespace"

# kernel_counter NAME: the namespace's TcpExt counter NAME.
kernel_counter() {
	ns awk -v n="$1" '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) k[i] = $i; h = 1 }
		else for (i = 1; i <= NF; i++) if (k[i] == n) print $i }' /proc/net/netstat
}
count() { # PCAP FILTER
	tshark -n -r "$1" -Y "$2" 2>/dev/null | wc -l
}
want() { # WHAT TEST
	if [ "$2" ]; then ok; else bad "$1"; fi
}
seen() { # PCAP FILTER WHAT: at least one frame matches
	local n
	n=$(count "$1" "$2")
	want "$n $3" "$([ "$n" -ge 1 ] && echo y)"
}
US="ip.src == $IT_SYNACK"
KERNEL="ip.src == $IT_LINUX"
SYN="tcp.flags.syn == 1 && tcp.flags.ack == 0"
SYNACK="tcp.flags.syn == 1 && tcp.flags.ack == 1"

# 1. Linux client, synack server.
it_serve serve --app echo --set fastopen=1027 --stats-every 0.2 --pcap "$IT_TMP/tfo-serve.pcap"
cat >"$IT_TMP/client.py" <<'EOF'
import socket, sys
MSG_FASTOPEN = 0x20000000
addr = (sys.argv[1], int(sys.argv[2]))
for i in range(int(sys.argv[3])):
    msg = b"fast open request %d\n" % i
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.sendto(msg, MSG_FASTOPEN, addr)  # blocking: no EINPROGRESS without a cookie
    s.settimeout(20)
    got = b""
    while len(got) < len(msg):
        d = s.recv(4096)
        if not d:
            break
        got += d
    s.close()
    if got != msg:
        print("echo %d: sent %r, got %r" % (i, msg, got), file=sys.stderr)
        sys.exit(1)
print("ok")
EOF
active0=$(kernel_counter TCPFastOpenActive)
if ns timeout 60 python3 "$IT_TMP/client.py" "$IT_SYNACK" 7 3 >"$IT_TMP/c1.out" 2>"$IT_TMP/c1.err"; then
	ok
else
	bad "1: the MSG_FASTOPEN client failed: $(cat "$IT_TMP/c1.err")"
fi
active1=$(kernel_counter TCPFastOpenActive)
want "1: the kernel's TCPFastOpenActive went from $active0 to $active1 (want +2)" \
	"$([ "$((active1 - active0))" -ge 2 ] && echo y)"
it_wait_summary serve 'connections? \(LISTEN 1\)$' 10 || bad "1: synack still has: $(it_last_summary serve)"
it_serve_stop serve
counters_of "$IT_TMP/serve.out" >"$IT_TMP/serve.counters"
reqd=$(value_of TCPFastOpenCookieReqd "$IT_TMP/serve.counters")
passive=$(value_of TCPFastOpenPassive "$IT_TMP/serve.counters")
pfail=$(value_of TCPFastOpenPassiveFail "$IT_TMP/serve.counters")
want "1: synack TCPFastOpenCookieReqd $reqd (want 1)" "$([ "$reqd" = 1 ] && echo y)"
want "1: synack TCPFastOpenPassive $passive (want 2)" "$([ "$passive" = 2 ] && echo y)"
want "1: synack TCPFastOpenPassiveFail $pfail (want 0)" "$([ "$pfail" = 0 ] && echo y)"
p=$IT_TMP/tfo-serve.pcap
n=$(count "$p" "$KERNEL && $SYN && tcp.len > 0")
want "1: $n kernel SYNs carried data (want 2)" "$([ "$n" -eq 2 ] && echo y)"
n=$(count "$p" "$US && $SYNACK && tcp.options.tfo.cookie")
want "1: $n synack SYN-ACKs carried a cookie (want 1)" "$([ "$n" -eq 1 ] && echo y)"
note "1. Linux client: cookie requested $reqd, SYN data taken $passive, kernel active +$((active1 - active0))"

# The Linux server of 2 and 3: TCP_FASTOPEN on its listener, reads all.
cat >"$IT_TMP/server.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
s.settimeout(60)
print("ready", flush=True)
c, _ = s.accept()
c.settimeout(60)
n = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
c.close()
print("received=%d" % n, flush=True)
EOF
kernel_server() { # LOG PORT
	ip netns exec "$IT_NS" timeout 120 python3 "$IT_TMP/server.py" "$IT_LINUX" "$2" \
		>"$IT_TMP/$1.out" 2>"$IT_TMP/$1.err" &
	PEER_PID=$!
	IT_PIDS+=("$PEER_PID")
	local i
	for i in $(seq 1 100); do
		grep -qx ready "$IT_TMP/$1.out" 2>/dev/null && return 0
		sleep 0.1
	done
	bad "the Linux server is not ready: $(cat "$IT_TMP/$1.err")"
	it_finish
}

# synack_client CASE PORT BYTES KERNEL_COUNTER ARGS...: synack connect sends
# BYTES to a Linux server on PORT; the server must get them all and the
# kernel's KERNEL_COUNTER must grow.  The capture is $IT_TMP/tfo-CASE.pcap.
synack_client() {
	local c=$1 port=$2 bytes=$3 counter=$4 before after
	shift 4
	before=$(kernel_counter "$counter")
	kernel_server "s$c" "$port"
	it_connect "c$c" "$IT_LINUX:$port" --fastopen --send-bytes "$bytes" "$@" \
		--pcap "$IT_TMP/tfo-$c.pcap"
	wait "$PEER_PID"
	if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "$c: connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c$c.err")"; fi
	want "$c: the Linux server got $(tail -n 1 "$IT_TMP/s$c.out")" "$([ "$(kv received "$IT_TMP/s$c.out")" = "$bytes" ] && echo y)"
	after=$(kernel_counter "$counter")
	want "$c: the kernel's $counter went from $before to $after" "$([ "$((after - before))" -ge 1 ] && echo y)"
	GREW=$((after - before))
}

# 2. synack asks a Linux server for a cookie.
synack_client 2 5002 3000 TCPFastOpenCookieReqd
reqd=$GREW
seen "$IT_TMP/tfo-2.pcap" "$US && $SYN && tcp.options.tfo.request" "2: synack SYNs asked for a cookie"
seen "$IT_TMP/tfo-2.pcap" "$KERNEL && $SYNACK && tcp.options.tfo.cookie" "2: kernel SYN-ACKs carried a cookie"

# 3. synack's SYN carries data; Linux takes it without a cookie.
ns sysctl -qw net.ipv4.tcp_fastopen=515 || bad "3: cannot set tcp_fastopen=0x203"
synack_client 3 5003 1000 TCPFastOpenPassive --set fastopen=5
passive=$GREW
seen "$IT_TMP/tfo-3.pcap" "$US && $SYN && tcp.len == 1000" "3: synack SYNs carried the 1000 bytes"
seen "$IT_TMP/tfo-3.pcap" "$KERNEL && $SYNACK && tcp.ack == 1001" "3: kernel SYN-ACKs acknowledged them"
note "2, 3. synack client: cookie requested (kernel +$reqd), SYN data taken (kernel +$passive)"

it_pcap_check "$IT_TMP/tfo-serve.pcap" "$IT_TMP/tfo-2.pcap" "$IT_TMP/tfo-3.pcap"
it_finish
