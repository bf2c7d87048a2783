#!/usr/bin/env bash
# libsynack-preload (issue 15 items 1-3) in a namespace of its own: synack on
# a TAP device (10.7.0.2), the kernel on the other side (10.7.0.1).
#  - bad SYNACK_* values stop the program at load, status 2, the variable named;
#  - preload_calls prints the same lines under the preload as on kernel sockets
#    (each call's result and errno; the last, a RST after the peer's FIN);
#  - curl under synack fetches from a kernel python3 http.server (several
#    files, 10 MiB checked by sha256), and python3's urllib does too (also
#    over a TUN device through SYNACK_GW), six threads at once;
#  - python3 -m http.server (threaded) under synack serves the kernel's curl,
#    eight at once;
#  - socat under synack echoes with half-close both ways (the kernel's peer.py
#    echo client; socat as a client of peer.py's reply-after-eof server), and
#    nc -N half-closes as a client too.
#  - fork: a master listens, its one worker accepts and answers (the master's
#    calls fail with EPERM meanwhile); with two workers the second's calls fail
#    with EPERM and one message on stderr; exec closes the connections with a FIN.
# In the ASan build libasan is preloaded first (curl under synack is skipped there).
# Usage: test_preload.sh SYNACK PRELOAD PRELOAD_CALLS PRELOAD_FORK
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../interop/lib.sh"
preload=$(readlink -f "${2:?usage: test_preload.sh SYNACK PRELOAD PRELOAD_CALLS}")
calls=$(readlink -f "${3:?usage: test_preload.sh SYNACK PRELOAD PRELOAD_CALLS PRELOAD_FORK}")
forker=$(readlink -f "${4:?usage: test_preload.sh SYNACK PRELOAD PRELOAD_CALLS PRELOAD_FORK}")
it_init preload "${1:-}" curl socat nc sha256sum
it_dev tap
HELPER="$HERE/helper.py"
SYN=(env -u SYNACK_IT_KEEP LD_PRELOAD="$preload" SYNACK_DEV="$IT_DEV" SYNACK_TAP=1 SYNACK_ADDR="$IT_SYNACK/24")
# The ASan build's library needs the ASan runtime loaded before it: preload
# that first, with the programs' own leak check off (their leaks at exit
# are not synack's; a memory error in the library still aborts).  curl
# 7.88 deadlocks in setlocale() with libasan preloaded, synack or not, so
# the curl-under-synack checks run in the normal build only.
asan=$(ldd "$preload" 2>/dev/null | awk '/libasan/ {print $3}')
curl_ok=1
if [ -n "$asan" ]; then
	SYN=(env -u SYNACK_IT_KEEP LD_PRELOAD="$asan:$preload" ASAN_OPTIONS=detect_leaks=0
		SYNACK_DEV="$IT_DEV" SYNACK_TAP=1 SYNACK_ADDR="$IT_SYNACK/24")
	curl_ok=0
	note "ASan build: libasan preloaded first; curl under synack skipped (setlocale deadlock)"
fi

# bg LOG CMD...: start CMD in the namespace in the background.
bg() {
	local log=$IT_TMP/$1
	shift
	ip netns exec "$IT_NS" "$@" >"$log.out" 2>"$log.err" &
	IT_PIDS+=("$!")
	BG_PID=$!
}
# wait_port ADDR PORT: until something listens there (kernel side sees it).
wait_port() {
	local i
	for i in $(seq 1 100); do
		ns python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(('$1', $2)))" && return 0
		sleep 0.1
	done
	return 1
}

# 1. Bad values: exit 2 at load, the variable named.
check_bad() { # WANT_IN_MESSAGE VAR=VALUE...
	local want=$1 out rc
	shift
	out=$(env -i PATH="$PATH" LD_PRELOAD="${asan:+$asan:}$preload" ASAN_OPTIONS=detect_leaks=0 "$@" true 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$want" <<<"$out"; then ok; else bad "env $*: status $rc, '$out' (want 2 and '$want')"; fi
}
base=(SYNACK_DEV=tap0 SYNACK_TAP=1 SYNACK_ADDR=10.7.0.2/24)
check_bad "SYNACK_TIME_WAIT_MS=soon" "${base[@]}" SYNACK_TIME_WAIT_MS=soon
check_bad "SYNACK_TAP=2" SYNACK_DEV=tap0 SYNACK_TAP=2 SYNACK_ADDR=10.7.0.2/24
check_bad "SYNACK_ADDR=10.7.0.2" SYNACK_DEV=tap0 SYNACK_TAP=1 SYNACK_ADDR=10.7.0.2
check_bad "SYNACK_GW=nowhere" "${base[@]}" SYNACK_GW=nowhere
out=$(env -i PATH="$PATH" LD_PRELOAD="${asan:+$asan:}$preload" ASAN_OPTIONS=detect_leaks=0 "${base[@]}" SYNACK_NO_SUCH_SETTING=1 true 2>&1)
if [ $? -eq 0 ] && grep -q "SYNACK_NO_SUCH_SETTING ignored" <<<"$out"; then ok; else bad "an unknown SYNACK_ variable: $out"; fi
check_bad "SYNACK_DEV is not set" SYNACK_TAP=1 SYNACK_ADDR=10.7.0.2/24
check_bad "SYNACK_TAP=1 nor SYNACK_TUN=1" SYNACK_DEV=tap0 SYNACK_ADDR=10.7.0.2/24
check_bad "SYNACK_CONGESTION_CONTROL" "${base[@]}" SYNACK_CONGESTION_CONTROL=
check_bad "SYNACK_DEBUG=yes" "${base[@]}" SYNACK_DEBUG=yes
# The link's settings too: a bad one refused with its name.
check_bad "SYNACK_ARP_RETRIES: arp_retries: 0 is outside" "${base[@]}" SYNACK_ARP_RETRIES=0
check_bad "SYNACK_ND_RETRANS_MS=soon" "${base[@]}" SYNACK_ND_RETRANS_MS=soon
check_bad "SYNACK_LINK_UP_WAIT_MS: link_up_wait_ms: 60001 is outside" "${base[@]}" SYNACK_LINK_UP_WAIT_MS=60001
check_bad "SYNACK_TIME_WAIT_MS: time_wait_ms: 0 is outside" "${base[@]}" SYNACK_TIME_WAIT_MS=0
# A missing device stops the program at its first TCP socket, and the
# message says how the preload asks for it to be created.
out=$(ns env -i PATH="$PATH" LD_PRELOAD="${asan:+$asan:}$preload" ASAN_OPTIONS=detect_leaks=0 SYNACK_DEV=sknodev0 SYNACK_TAP=1 SYNACK_ADDR=10.7.0.2/24 python3 -c 'import socket; socket.socket()' 2>&1)
rc=$?
if [ $rc -eq 2 ] && grep -q "give SYNACK_CREATE=1 to have synack create it" <<<"$out"; then ok; else bad "missing device: status $rc, '$out'"; fi
# A good setting loads (and a program without TCP sockets never opens the device).
if env -i PATH="$PATH" LD_PRELOAD="${asan:+$asan:}$preload" ASAN_OPTIONS=detect_leaks=0 "${base[@]}" SYNACK_TIME_WAIT_MS=5s SYNACK_RMEM_DEFAULT=256K \
	SYNACK_ARP_RETRIES=5 SYNACK_ND_RETRANS_MS=200ms SYNACK_LINK_UP_WAIT_MS=0 true; then ok; else bad "good settings refused"; fi

# 2. Each call against the kernel's answer.
bg echo python3 "$HELPER" echo "$IT_LINUX" 7
wait_port "$IT_LINUX" 7 || bad "echo server did not start"
bg finrst python3 "$HELPER" finrst "$IT_LINUX" 8
wait_port "$IT_LINUX" 8 || bad "FIN-then-RST server did not start"
bg ping-kernel python3 "$HELPER" ping "$IT_LINUX" 5555 3
ns timeout 60 "$calls" "$IT_LINUX" 7 9 5555 8 >"$IT_TMP/calls-kernel.txt" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || bad "preload_calls on kernel sockets exited $rc: $(tail -n 3 "$IT_TMP/calls-kernel.txt")"
bg ping-synack python3 "$HELPER" ping "$IT_SYNACK" 5555 3
ns timeout 60 "${SYN[@]}" "$calls" "$IT_LINUX" 7 9 5555 8 >"$IT_TMP/calls-synack.txt" 2>&1
rc=$?
[ $rc -eq 0 ] && ok || bad "preload_calls under the preload exited $rc: $(tail -n 3 "$IT_TMP/calls-synack.txt")"
if diff "$IT_TMP/calls-kernel.txt" "$IT_TMP/calls-synack.txt" >"$IT_TMP/calls.diff"; then
	ok
	note "preload_calls: $(wc -l <"$IT_TMP/calls-synack.txt") calls answer as the kernel's"
else
	bad "preload_calls differs from the kernel (< kernel, > synack):
$(cat "$IT_TMP/calls.diff")"
fi

# 3. curl and urllib under synack, a kernel http.server.
mkdir -p "$IT_TMP/www"
head -c 10485760 /dev/urandom >"$IT_TMP/www/big.bin"
for i in 1 2 3; do head -c $((i * 1000)) /dev/urandom >"$IT_TMP/www/small$i.bin"; done
(cd "$IT_TMP/www" && exec ip netns exec "$IT_NS" python3 -m http.server 8080 --bind "$IT_LINUX" >"$IT_TMP/khttp.out" 2>&1) &
IT_PIDS+=("$!")
wait_port "$IT_LINUX" 8080 || bad "kernel http.server did not start"
want=$(sha256sum <"$IT_TMP/www/big.bin" | cut -d' ' -f1)
[ $curl_ok = 1 ] && ns timeout 120 "${SYN[@]}" curl -sS -o "$IT_TMP/got-big.bin" "http://$IT_LINUX:8080/big.bin" \
	-o "$IT_TMP/got-small1.bin" "http://$IT_LINUX:8080/small1.bin" \
	-o "$IT_TMP/got-small2.bin" "http://$IT_LINUX:8080/small2.bin" 2>"$IT_TMP/curl.err"
rc=$?
if [ $curl_ok = 1 ]; then
	[ $rc -eq 0 ] && ok || bad "curl under synack exited $rc: $(cat "$IT_TMP/curl.err")"
	got=$(sha256sum <"$IT_TMP/got-big.bin" 2>/dev/null | cut -d' ' -f1)
	[ "$got" = "$want" ] && ok || bad "curl under synack: 10 MiB sha256 $got, want $want"
	for i in 1 2; do
		cmp -s "$IT_TMP/got-small$i.bin" "$IT_TMP/www/small$i.bin" && ok || bad "curl under synack: small$i.bin differs"
	done
fi
out=$(ns timeout 60 "${SYN[@]}" python3 -c "
import hashlib, urllib.request
d = urllib.request.urlopen('http://$IT_LINUX:8080/big.bin', timeout=30).read()
print(hashlib.sha256(d).hexdigest())" 2>&1)
[ "$out" = "$want" ] && ok || bad "urllib under synack: '$out', want $want"
# Six client threads at once, each with blocking sockets and a timeout.
out=$(ns timeout 60 "${SYN[@]}" python3 -c "
import hashlib, threading, urllib.request
res = {}
def get(i):
    d = urllib.request.urlopen('http://$IT_LINUX:8080/small%d.bin' % (i % 3 + 1), timeout=30).read()
    res[i] = len(d)
ts = [threading.Thread(target=get, args=(i,)) for i in range(6)]
[t.start() for t in ts]
[t.join() for t in ts]
print(sorted(res.values()))" 2>&1)
[ "$out" = "[1000, 1000, 2000, 2000, 3000, 3000]" ] && ok || bad "six urllib threads under synack: '$out'"

# 3b. Over a TUN device, through a gateway: synack is 10.8.0.2/24 on tun0,
# the kernel 10.8.0.1, and the kernel's server at 10.7.0.1 is reached by
# SYNACK_GW.
ip -n "$IT_NS" tuntap add dev tun0 mode tun && ip -n "$IT_NS" addr add 10.8.0.1/24 dev tun0 &&
	ip -n "$IT_NS" link set tun0 up || bad "tun0"
TUN=(env -u SYNACK_IT_KEEP LD_PRELOAD="${asan:+$asan:}$preload" ASAN_OPTIONS=detect_leaks=0
	SYNACK_DEV=tun0 SYNACK_TUN=1 SYNACK_ADDR=10.8.0.2/24 SYNACK_GW=10.8.0.1)
out=$(ns timeout 60 "${TUN[@]}" python3 -c "
import hashlib, urllib.request
d = urllib.request.urlopen('http://$IT_LINUX:8080/big.bin', timeout=30).read()
print(hashlib.sha256(d).hexdigest())" 2>&1)
[ "$out" = "$want" ] && ok || bad "urllib under synack on TUN via SYNACK_GW: '$out', want $want"

# 4. python3 -m http.server (ThreadingHTTPServer) under synack; the kernel's curl.
(cd "$IT_TMP/www" && exec ip netns exec "$IT_NS" "${SYN[@]}" python3 -m http.server 8000 --bind "$IT_SYNACK" >"$IT_TMP/shttp.out" 2>&1) &
SHTTP=$!
IT_PIDS+=("$SHTTP")
wait_port "$IT_SYNACK" 8000 || bad "http.server under synack did not start: $(cat "$IT_TMP/shttp.out")"
ns timeout 120 curl -sS -o "$IT_TMP/k-big.bin" "http://$IT_SYNACK:8000/big.bin" 2>"$IT_TMP/kcurl.err"
got=$(sha256sum <"$IT_TMP/k-big.bin" 2>/dev/null | cut -d' ' -f1)
[ "$got" = "$want" ] && ok || bad "curl from the kernel: sha256 $got, want $want: $(cat "$IT_TMP/kcurl.err")"
pids=()
for i in 1 2 3 4 5 6 7 8; do
	ns timeout 60 curl -sS -o "$IT_TMP/k-par$i.bin" "http://$IT_SYNACK:8000/small$(((i % 3) + 1)).bin" 2>"$IT_TMP/kpar$i.err" &
	pids+=("$!")
done
nfail=0
for i in 1 2 3 4 5 6 7 8; do
	wait "${pids[$((i - 1))]}" || nfail=$((nfail + 1))
	cmp -s "$IT_TMP/k-par$i.bin" "$IT_TMP/www/small$(((i % 3) + 1)).bin" || nfail=$((nfail + 1))
done
[ $nfail -eq 0 ] && ok || bad "8 concurrent curls from the kernel: $nfail failures"
kill -TERM "$SHTTP" 2>/dev/null
wait "$SHTTP" 2>/dev/null

# 5. socat under synack, half-close both ways.
bg socat-echo "${SYN[@]}" socat TCP-LISTEN:7000,reuseaddr PIPE
wait_port "$IT_SYNACK" 7000 || bad "socat under synack did not listen"
# wait_port's probe took the one connection socat serves: start it again.
wait "$BG_PID" 2>/dev/null
bg socat-echo2 "${SYN[@]}" socat TCP-LISTEN:7000,reuseaddr PIPE
sleep 0.5
out=$(ns timeout 60 python3 "$IT_PEER" echo "$IT_SYNACK" 7000 300000 7 2>&1)
[ $? -eq 0 ] && ok || bad "peer.py echo through socat under synack: $out"
bg reply python3 "$IT_PEER" server "$IT_LINUX" 7001 reply-after-eof 100000
for i in $(seq 1 50); do grep -q ready "$IT_TMP/reply.out" 2>/dev/null && break; sleep 0.1; done
head -c 5000 /dev/urandom >"$IT_TMP/req.bin"
ns timeout 60 "${SYN[@]}" socat -t 30 - "TCP:$IT_LINUX:7001" <"$IT_TMP/req.bin" >"$IT_TMP/reply.bin" 2>"$IT_TMP/socat-c.err"
len=$(stat -c %s "$IT_TMP/reply.bin")
[ "$len" = 100000 ] && ok || bad "socat client under synack: $len bytes after its half-close, want 100000: $(cat "$IT_TMP/socat-c.err")"
wait "$BG_PID" 2>/dev/null
grep -q "received=5000" "$IT_TMP/reply.out" && ok || bad "peer.py server read: $(cat "$IT_TMP/reply.out" "$IT_TMP/reply.err")"

# nc (OpenBSD) under synack: -N shuts its sending side down at the end of
# its input, then it reads the reply to the end.
bg reply-nc python3 "$IT_PEER" server "$IT_LINUX" 7002 reply-after-eof 50000
for i in $(seq 1 50); do grep -q ready "$IT_TMP/reply-nc.out" 2>/dev/null && break; sleep 0.1; done
ns timeout 60 "${SYN[@]}" nc -N "$IT_LINUX" 7002 <"$IT_TMP/req.bin" >"$IT_TMP/reply-nc.bin" 2>"$IT_TMP/nc.err"
len=$(stat -c %s "$IT_TMP/reply-nc.bin")
[ "$len" = 50000 ] && ok || bad "nc -N under synack: $len bytes after its half-close, want 50000: $(cat "$IT_TMP/nc.err")"
wait "$BG_PID" 2>/dev/null
grep -q "received=5000 " "$IT_TMP/reply-nc.out" && ok || bad "peer.py server read from nc: $(cat "$IT_TMP/reply-nc.out" "$IT_TMP/reply-nc.err")"

# 5b. An AF_INET6 socket on :: under synack takes the kernel's IPv4 client
# (IPv4-mapped), as a dual-stack Linux listener does.
bg ping-v6 python3 "$HELPER" ping "$IT_SYNACK" 8100
out=$(ns timeout 60 "${SYN[@]}" python3 -c "
import socket
ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('::', 8100))
ls.listen(4)
c, peer = ls.accept()
print(ls.getsockname()[0], peer[0], c.recv(4).decode())
c.sendall(b'pong')
c.close()" 2>&1)
[ "$out" = ":: ::ffff:$IT_LINUX ping" ] && ok || bad "dual-stack listener under synack: '$out'"
wait "$BG_PID" 2>/dev/null

# 5c. An unsupported option: Linux's errno for one it does not have
# (ENOPROTOOPT), and with SYNACK_DEBUG=1 one note, however often it is tried.
out=$(ns timeout 60 "${SYN[@]}" SYNACK_DEBUG=1 python3 -c "
import errno, socket
s = socket.socket()
for i in range(3):
    try:
        s.setsockopt(socket.SOL_SOCKET, 60, 1)  # SO_ZEROCOPY
        print('set')
    except OSError as e:
        print(errno.errorcode[e.errno])" 2>"$IT_TMP/debug.err")
notes=$(grep -c "option 60 is not supported" "$IT_TMP/debug.err")
[ "$(echo $out)" = "ENOPROTOOPT ENOPROTOOPT ENOPROTOOPT" ] && [ "$notes" = 1 ] && ok ||
	bad "SO_ZEROCOPY under synack: '$out', $notes notes: $(cat "$IT_TMP/debug.err")"

# MSG_ZEROCOPY (without SO_ZEROCOPY, which is refused) is ignored as Linux
# ignores it: the send succeeds, and SYNACK_DEBUG notes it once.
out=$(ns timeout 60 "${SYN[@]}" SYNACK_DEBUG=1 python3 -c "
import socket
s = socket.create_connection(('$IT_LINUX', 7), timeout=30)
sent = [s.send(b'z', 0x4000000) for i in range(3)]
got = b''
while len(got) < 3:
    got += s.recv(3 - len(got))
print(sent, len(got))" 2>"$IT_TMP/debug2.err")
notes=$(grep -c "send flags 0x4000000 ignored" "$IT_TMP/debug2.err")
[ "$out" = "[1, 1, 1] 3" ] && [ "$notes" = 1 ] && ok ||
	bad "MSG_ZEROCOPY under synack: '$out', $notes notes: $(cat "$IT_TMP/debug2.err")"

# 6. fork (master and one worker) and exec.
bg ping-worker python3 "$HELPER" ping "$IT_SYNACK" 6000
out=$(ns timeout 60 "${SYN[@]}" "$forker" worker 6000 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q "worker ok" <<<"$out" && ok || bad "preload_fork worker exited $rc: $out"
wait "$BG_PID" 2>/dev/null
grep -q "ping got pong" "$IT_TMP/ping-worker.out" && ok || bad "the worker's answer: $(cat "$IT_TMP/ping-worker.out" "$IT_TMP/ping-worker.err")"
# Two workers (nginx's worker_processes 2): the second's calls fail with
# EPERM, and the preload says why on stderr, once, without SYNACK_DEBUG.
out=$(ns timeout 60 "${SYN[@]}" "$forker" workers 6002 2>"$IT_TMP/workers.err")
rc=$?
msgs=$(grep -c "cannot use its synack sockets.*worker_processes 1" "$IT_TMP/workers.err")
[ $rc -eq 0 ] && grep -q "workers ok" <<<"$out" && [ "$msgs" = 1 ] && ok ||
	bad "preload_fork workers exited $rc, $msgs messages: $out $(cat "$IT_TMP/workers.err")"
bg sink python3 "$IT_PEER" server "$IT_LINUX" 6001 sink
for i in $(seq 1 50); do grep -q ready "$IT_TMP/sink.out" 2>/dev/null && break; sleep 0.1; done
out=$(ns timeout 60 "${SYN[@]}" "$forker" exec "$IT_LINUX" 6001 2>&1)
rc=$?
[ $rc -eq 0 ] && ok || bad "preload_fork exec exited $rc: $out"
wait "$BG_PID" 2>/dev/null
grep -q "received=1000 " "$IT_TMP/sink.out" && ok || bad "after exec, the peer read: $(cat "$IT_TMP/sink.out" "$IT_TMP/sink.err")"

# 7. Bring-up: a program's first connection on a TAP device needs one ARP
# request.  Attaching to the device turns its carrier on, and until the
# kernel's link watch has handled that the kernel drops what it sends
# through the device (QDISC_DROP): the reply to the first request was lost
# now and then (one open in ten or so here) and the connection waited 1 s
# for the second.  The open now waits for IFF_RUNNING.  Eight programs,
# each a new open of the device, each capture counted.
ip -n "$IT_NS" tuntap add dev tap9 mode tap && ip -n "$IT_NS" addr add 10.9.0.1/24 dev tap9 &&
	ip -n "$IT_NS" link set tap9 up || bad "tap9"
bg echo9 python3 "$HELPER" echo 10.9.0.1 7009
wait_port 10.9.0.1 7009 || bad "echo server on tap9 did not start"
UP9=(env -u SYNACK_IT_KEEP LD_PRELOAD="${asan:+$asan:}$preload" ASAN_OPTIONS=detect_leaks=0
	SYNACK_DEV=tap9 SYNACK_TAP=1 SYNACK_ADDR=10.9.0.2/24)
nbad=0
for i in $(seq 1 8); do
	# The race is there when the kernel has handled the previous
	# program's detach (state DOWN, the noop qdisc in place), which the
	# link watch does up to 1 s late.
	for k in $(seq 1 40); do
		ip -n "$IT_NS" link show tap9 | grep -q "state DOWN" && break
		sleep 0.05
	done
	ns timeout 60 "${UP9[@]}" SYNACK_PCAP="$IT_TMP/up$i.pcap" "$forker" exec 10.9.0.1 7009 >"$IT_TMP/up$i.out" 2>&1 ||
		nbad=$((nbad + 1))
	requests=$(python3 -c "
import struct, sys
d = open(sys.argv[1], 'rb').read()
off, n = 24, 0
while off + 16 <= len(d):
    incl = struct.unpack_from('<I', d, off + 8)[0]
    f = d[off + 16:off + 16 + incl]
    off += 16 + incl
    # ARP requests from synack (not its announcement: target = sender)
    if len(f) >= 42 and f[12:14] == b'\x08\x06' and f[20:22] == b'\x00\x01' and f[28:32] != f[38:42]:
        n += 1
print(n)" "$IT_TMP/up$i.pcap" 2>&1)
	[ "$requests" = 1 ] || { nbad=$((nbad + 1)); note "open $i: $requests ARP requests"; }
done
[ $nbad -eq 0 ] && ok || bad "first connections on a TAP device just brought up: $nbad of 8 needed more than one ARP request (or failed)"

# Nothing left half-open on the kernel's side once the programs ended.
it_wait_no_kernel_stuck 10 && ok || bad "kernel sockets left: $(it_ss_states close-wait fin-wait-1 fin-wait-2)"
it_finish
