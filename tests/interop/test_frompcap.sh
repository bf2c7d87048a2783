#!/usr/bin/env bash
# `synack script --from-pcap` on captures of the Linux kernel talking to
# itself (issue 18 item 4): in the test's namespace, curl fetches a file
# from python's http.server over IPv4 and socat echoes a line over IPv6, on
# a loopback of MTU 1500, while tshark captures lo (pcapng) and any (Linux
# cooked SLL2).  Each conversation is replayed with synack as the client
# and as the server:
#  - the capture is read (exit 0 or 1, never 2), the handshake's row agrees
#    (synack's SYN or SYN-ACK carries the options Linux's did: MSS, window
#    scale, SACK-permitted, timestamps),
#  - the first data segment Linux's side sent is matched by one of
#    synack's with the same flags, relative seq/ack and length, and synack
#    sends as many bytes in all (later rows may differ: synack's Nagle holds
#    a write's short tail that Linux sends, it acknowledges each segment of
#    what Linux received as one GRO'd super-segment ...),
#  - the script --emit writes runs with `synack script`,
#  - the lo and the any captures hold the same recorded segments.
# Needs root, tshark, curl, socat and python3; skipped (77) without them.
# Usage: test_frompcap.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init frompcap "${1:-}" tshark curl socat
ns ip link set lo mtu 1500

# The services, listening before the capture starts.
head -c 3000 /dev/zero | tr '\0' 'x' >"$IT_TMP/file.txt"
(cd "$IT_TMP" && exec ip netns exec "$IT_NS" python3 -m http.server 8000 --bind 127.0.0.1) \
	>/dev/null 2>&1 &
IT_PIDS+=($!)
ip netns exec "$IT_NS" socat TCP6-LISTEN:7000,bind=[::1],reuseaddr,fork SYSTEM:cat >/dev/null 2>&1 &
IT_PIDS+=($!)
listening() { ns ss -ltnH | grep -q "127.0.0.1:8000" && ns ss -ltnH | grep -q "\[::1\]:7000"; }
for _ in $(seq 1 100); do listening && break; sleep 0.1; done
listening || { bad "the services did not listen"; it_finish; }

ip netns exec "$IT_NS" tshark -q -i lo -w "$IT_TMP/lo.pcapng" -f tcp >/dev/null 2>"$IT_TMP/tshark-lo.err" &
lo_pid=$!
IT_PIDS+=($lo_pid)
ip netns exec "$IT_NS" tshark -q -i any -y LINUX_SLL2 -w "$IT_TMP/any.pcapng" -f tcp >/dev/null 2>"$IT_TMP/tshark-any.err" &
any_pid=$!
IT_PIDS+=($any_pid)
# Both captures are running once a probe shows in both: a connection to the
# closed port 9 (a SYN and the kernel's RST; the replays pick ports 8000 and
# 7000).  tshark's "Capturing on" line comes before the capture is armed,
# and on a loaded machine it takes seconds to start.
pkts() {
	python3 -c '
import struct, sys
d, off, n = open(sys.argv[1], "rb").read(), 0, 0
while off + 12 <= len(d):
    t, l = struct.unpack_from("<II", d, off)
    if l < 12 or off + l > len(d):
        break
    n += t == 6
    off += l
print(n)' "$1" 2>/dev/null || echo 0
}
armed=0
for _ in $(seq 1 300); do
	ns python3 -c 'import socket; s = socket.socket(); s.settimeout(0.2); s.connect_ex(("127.0.0.1", 9))'
	if [ "$(pkts "$IT_TMP/lo.pcapng")" -ge 1 ] && [ "$(pkts "$IT_TMP/any.pcapng")" -ge 1 ]; then
		armed=1
		break
	fi
	sleep 0.1
done
[ $armed = 1 ] || bad "tshark did not capture a probe within 30 s"

ns curl -s -o "$IT_TMP/got.txt" http://127.0.0.1:8000/file.txt || bad "curl"
cmp -s "$IT_TMP/got.txt" "$IT_TMP/file.txt" || bad "curl fetched other bytes"
printf 'hello over IPv6\n' | ns socat -t 1 - TCP6:[::1]:7000 >"$IT_TMP/echo.txt" || bad "socat"

# Both conversations closed in both captures: four FINs in each.
# (A few lines of python read the growing pcapng: tshark takes seconds to
# start on a loaded machine.)
fins() {
	python3 -c '
import struct, sys
d, off, lts, n = open(sys.argv[1], "rb").read(), 0, [], 0
while off + 12 <= len(d):
    t, l = struct.unpack_from("<II", d, off)
    if l < 12 or off + l > len(d):
        break
    if t == 1:
        lts.append(struct.unpack_from("<H", d, off + 8)[0])
    elif t == 6:
        p = d[off + 28:off + l - 4]
        p = p[14:] if lts[0] == 1 else p[20:]
        tcp = p[(p[0] & 15) * 4:] if p[0] >> 4 == 4 else p[40:]
        n += len(tcp) > 13 and tcp[13] & 1
    off += l
print(n)' "$1" 2>/dev/null || echo 0
}
for _ in $(seq 1 100); do
	[ "$(fins "$IT_TMP/lo.pcapng")" -ge 4 ] && [ "$(fins "$IT_TMP/any.pcapng")" -ge 4 ] && break
	sleep 0.1
done
kill -TERM "$lo_pid" "$any_pid" 2>/dev/null
wait "$lo_pid" "$any_pid" 2>/dev/null

replay() { # CAPTURE SIDE PORT NAME
	local rc=0 out="$IT_TMP/$4.json"
	"$synack" script --from-pcap "$1" --side "$2" --port "$3" --emit "$IT_TMP/$4.synack" --json \
		>"$out" 2>"$IT_TMP/$4.err" || rc=$?
	if [ "$rc" -le 1 ] && [ -s "$out" ]; then ok; else
		bad "$4: exit $rc: $(cat "$IT_TMP/$4.err")"
		return
	fi
	# The handshake row agrees; each recorded data segment has an
	# agreeing one of synack's.
	if python3 - "$out" <<'EOF'; then ok; else bad "$4: $(cat "$out")"; fi
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
summary, rows = rows[-1], rows[:-1]
assert summary["summary"] and summary["rows"] == len(rows), summary
first = rows[0]
assert first["status"] == "agree" and "S" in first["recorded"]["flags"], first
data = [r for r in rows if "recorded" in r and r["recorded"]["len"] > 0]
assert data and data[0]["status"] == "agree", data
# The same stream: it ends at the same byte on both sides.
def sent(side):
    return max(r[side]["seq"] + r[side]["len"] for r in rows if side in r)
assert sent("recorded") == sent("synack"), (sent("recorded"), sent("synack"))
EOF
	if "$synack" script "$IT_TMP/$4.synack" >/dev/null 2>"$IT_TMP/$4.rerun"; then ok; else
		bad "$4: the emitted script does not run: $(cat "$IT_TMP/$4.rerun")"
	fi
}
replay "$IT_TMP/lo.pcapng" server 8000 http-server
replay "$IT_TMP/lo.pcapng" client 8000 http-client
replay "$IT_TMP/lo.pcapng" server 7000 echo6-server
replay "$IT_TMP/lo.pcapng" client 7000 echo6-client
replay "$IT_TMP/any.pcapng" server 8000 any-http-server
if grep -q '"family":6' "$IT_TMP/echo6-server.json"; then ok; else bad "the IPv6 conversation"; fi
# SLL2 of -i any (its leaving copies left out) reads as lo's capture does:
# the same recorded segments (synack's rows may differ, as the two
# captures' times differ by microseconds).
recorded() {
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l).get("recorded")
    if isinstance(r, dict):
        print(r["flags"], r["seq"], r["ack"], r["len"], r["win"])' "$1"
}
if [ -n "$(recorded "$IT_TMP/http-server.json")" ] &&
	[ "$(recorded "$IT_TMP/http-server.json")" = "$(recorded "$IT_TMP/any-http-server.json")" ]; then ok; else
	bad "lo and any differ: $(diff <(recorded "$IT_TMP/http-server.json") <(recorded "$IT_TMP/any-http-server.json"))"
fi
it_finish
