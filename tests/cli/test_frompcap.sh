#!/usr/bin/env bash
# `synack script --from-pcap` (issue 18 item 4), from the outside, without
# root (tests/interop/test_frompcap.sh replays captures of Linux):
#  - a capture of synack's own `synack demo --pcap` replayed with synack as
#    the server and as the client agrees segment for segment (exit 0), and
#    the script --emit writes runs again with `synack script`;
#  - the same capture as big-endian pcap, nanosecond pcap, pcapng of either
#    byte order, Ethernet, Linux cooked SLL and SLL2 (with the loopback's
#    leaving copies, which are left out) gives the same comparison;
#  - a run that differs exits 1 and names the difference; --json prints one
#    object per row and a summary;
#  - a capture starting mid-stream, --conn/--port that match nothing and
#    bad usage exit 2 with a sentence; so do hostile files (empty, wrong
#    magic, truncated, huge lengths, pcapng without a section header),
#    never a crash.
# Usage: test_frompcap.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"

"$synack" demo handshake --pcap "$tmp/hs.pcap" >/dev/null || bad "demo handshake --pcap"

# 1. synack against itself: every row agrees, both ways.
for side in server client; do
	rc=0
	"$synack" script --from-pcap "$tmp/hs.pcap" --side "$side" --emit "$tmp/hs-$side.synack" \
		>"$tmp/hs-$side.out" 2>"$tmp/err" || rc=$?
	rows=$(grep -c '^ *[0-9][0-9]* .*|' "$tmp/hs-$side.out")
	if [ "$rc" -eq 0 ] && [ "$rows" -ge 5 ] &&
		grep -q "^$rows rows: $rows agree, 0 differ, 0 only recorded, 0 only synack" "$tmp/hs-$side.out"; then ok; else
		bad "--side $side on demo's handshake: exit $rc, $rows rows: $(cat "$tmp/hs-$side.out" "$tmp/err")"
	fi
	# The emitted script is one synack script runs (no expectations: 0).
	if "$synack" script "$tmp/hs-$side.synack" >/dev/null 2>"$tmp/err"; then ok; else
		bad "the emitted script of --side $side does not run: $(cat "$tmp/err")"
	fi
done
if grep -q '^server listen 80$' "$tmp/hs-server.synack" && grep -q '^client down$' "$tmp/hs-server.synack" &&
	grep -q '^at [0-9]*us client inject S seq 0 win 65535 mss 1460 wscale 7 sackok ts [0-9]* 0$' "$tmp/hs-server.synack" &&
	grep -q '^at [0-9]*us server recv 28$' "$tmp/hs-server.synack" &&
	grep -q '^at [0-9]*us server send "HTTP/1.0 200 OK\\r\\n\\r\\nhello from 10.0.0.2\\n"$' "$tmp/hs-server.synack" &&
	grep -q '^at [0-9]*us server close$' "$tmp/hs-server.synack"; then ok; else
	bad "the server's script: $(cat "$tmp/hs-server.synack")"
fi

# 2. The same capture in the other formats and link types.
if command -v python3 >/dev/null 2>&1; then
	python3 - "$tmp/hs.pcap" "$tmp" <<'EOF'
import struct, sys
src, out = sys.argv[1], sys.argv[2]
d = open(src, 'rb').read()
recs, off = [], 24
while off < len(d):
    s, us, incl, orig = struct.unpack('<IIII', d[off:off + 16])
    recs.append((s, us, d[off + 16:off + 16 + incl]))
    off += 16 + incl
def classic(name, e, magic, lt, frames, nano=False):
    b = struct.pack(e + 'IHHiIII', magic, 2, 4, 0, 0, 65535, lt)
    for s, us, p in frames:
        b += struct.pack(e + 'IIII', s, us * 1000 if nano else us, len(p), len(p)) + p
    open(out + '/' + name, 'wb').write(b)
def block(e, t, body):
    body += b'\0' * (-len(body) % 4)
    return struct.pack(e + 'II', t, len(body) + 12) + body + struct.pack(e + 'I', len(body) + 12)
def ng(name, e, lt, frames, tsresol=None):
    b = block(e, 0x0A0D0D0A, struct.pack(e + 'IHHq', 0x1A2B3C4D, 1, 0, -1))
    opts = b''
    units = 10**6
    if tsresol is not None:
        opts = struct.pack(e + 'HH', 9, 1) + bytes([tsresol, 0, 0, 0]) + struct.pack(e + 'HH', 0, 0)
        units = 10**9
    b += block(e, 1, struct.pack(e + 'HHI', lt, 0, 65535) + opts)
    for s, us, p in frames:
        ts = s * units + us * (units // 10**6)
        b += block(e, 6, struct.pack(e + 'IIIII', 0, ts >> 32, ts & 0xffffffff, len(p), len(p)) + p)
    open(out + '/' + name, 'wb').write(b)
eth = [(s, us, b'\x02' * 6 + b'\x04' * 6 + b'\x08\x00' + p) for s, us, p in recs]
sll = [(s, us, struct.pack('>HHH', 0, 1, 6) + b'\x02' * 8 + b'\x08\x00' + p) for s, us, p in recs]
sll2 = []
for s, us, p in recs:  # each datagram leaving and arriving on a loopback
    sll2.append((s, us, struct.pack('>HHIHBB', 0x0800, 0, 1, 772, 4, 6) + b'\0' * 8 + p))
    sll2.append((s, us, struct.pack('>HHIHBB', 0x0800, 0, 1, 772, 0, 6) + b'\0' * 8 + p))
classic('be.pcap', '>', 0xa1b2c3d4, 101, recs)
classic('ns.pcap', '<', 0xa1b23c4d, 101, recs, nano=True)
classic('eth.pcap', '<', 0xa1b2c3d4, 1, eth)
classic('sll.pcap', '<', 0xa1b2c3d4, 113, sll)
classic('sll2.pcap', '>', 0xa1b2c3d4, 276, sll2)
ng('le.pcapng', '<', 228, recs)
ng('be.pcapng', '>', 1, eth, tsresol=9)
# A capture that starts mid-stream: the handshake's three records cut.
classic('mid.pcap', '<', 0xa1b2c3d4, 101, recs[3:])
EOF
	tail -n +2 "$tmp/hs-server.out" >"$tmp/want"
	for f in be.pcap ns.pcap eth.pcap sll.pcap sll2.pcap le.pcapng be.pcapng; do
		rc=0
		"$synack" script --from-pcap "$tmp/$f" --side server >"$tmp/got" 2>"$tmp/err" || rc=$?
		if [ "$rc" -eq 0 ] && tail -n +2 "$tmp/got" | cmp -s - "$tmp/want"; then ok; else
			bad "$f: exit $rc, $(diff <(tail -n +2 "$tmp/got") "$tmp/want") $(cat "$tmp/err")"
		fi
	done
	rc=0
	"$synack" script --from-pcap "$tmp/mid.pcap" --side server >/dev/null 2>"$tmp/err" || rc=$?
	if [ "$rc" -eq 2 ] && grep -q "starts mid-stream: the capture has no SYN from its client" "$tmp/err"; then ok; else
		bad "mid-stream: exit $rc, $(cat "$tmp/err")"
	fi
else
	echo "SKIP: the format checks need python3"
fi

# 3. A run that differs: the retransmit scenario's capture holds a segment
# the network lost, which the replay delivers.
"$synack" demo retransmit --pcap "$tmp/rt.pcap" >/dev/null || bad "demo retransmit --pcap"
rc=0
"$synack" script --from-pcap "$tmp/rt.pcap" --side server >"$tmp/rt.out" 2>&1 || rc=$?
if [ "$rc" -eq 1 ] && grep -q 'differ: \|only recorded$\|only synack$' "$tmp/rt.out"; then ok; else
	bad "retransmit: exit $rc, $(cat "$tmp/rt.out")"
fi
# --json: one object a row and the summary, which says the same.
rc=0
"$synack" script --from-pcap "$tmp/hs.pcap" --side client --json >"$tmp/j" || rc=$?
if [ "$rc" -eq 0 ] && grep -c '"row":' "$tmp/j" | grep -qx 6 &&
	tail -1 "$tmp/j" | grep -q '"summary":true,.*"side":"client".*"rows":6,"agree":6,"differ":0,"only_recorded":0,"only_synack":0,"ok":true}'; then ok; else
	bad "--json: exit $rc, $(cat "$tmp/j")"
fi
if command -v python3 >/dev/null 2>&1; then
	if python3 -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1])]' "$tmp/j"; then ok; else
		bad "--json is not JSON lines"
	fi
fi
# The same seed, the same run; --port picks the conversation as --conn 1.
"$synack" script --from-pcap "$tmp/hs.pcap" --side client --port 80 --seed 1 --json >"$tmp/j2"
if cmp -s "$tmp/j" "$tmp/j2"; then ok; else bad "--port 80 --seed 1 changed the run"; fi

# 4. Bad usage and hostile files: exit 2 with a sentence, never a crash.
: >"$tmp/empty.pcap"
printf 'GIF89a, not a capture at all..........' >"$tmp/magic.pcap"
head -c 30 "$tmp/hs.pcap" >"$tmp/trunc-hdr.pcap"
head -c 130 "$tmp/hs.pcap" >"$tmp/trunc-rec.pcap"
{ head -c 24 "$tmp/hs.pcap"; printf '\0\0\0\0\0\0\0\0\xff\xff\xff\x7f\xff\xff\xff\x7f'; head -c 64 /dev/zero; } >"$tmp/huge.pcap"
printf '\x06\0\0\0\x0c\0\0\0\x0c\0\0\0' >"$tmp/nosection.pcapng"
printf '\x0a\x0d\x0d\x0a\x1c\0\0\0\x4d\x3c\x2b\x1a\x01\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff\x1c\0\0\0\x06\0\0\0\xf0\xff\xff\xff\0\0\0\0\0\0\0\0' >"$tmp/hugeblock.pcapng"
check2() { # WHAT PATTERN ARGS...
	local what=$1 pat=$2 rc=0
	shift 2
	"$synack" script "$@" >/dev/null 2>"$tmp/err" || rc=$?
	if [ "$rc" -eq 2 ] && grep -q -- "$pat" "$tmp/err"; then ok; else
		bad "$what: exit $rc, $(cat "$tmp/err")"
	fi
}
check2 empty "empty.pcap: not a capture: 0 bytes" --from-pcap "$tmp/empty.pcap" --side client
check2 magic "not a pcap or pcapng file (magic 47494638" --from-pcap "$tmp/magic.pcap" --side client
check2 "truncated header" "record 1 is truncated (its header has 6 of 16 bytes)" --from-pcap "$tmp/trunc-hdr.pcap" --side client
check2 "truncated record" "record 2 is truncated (14 of its" --from-pcap "$tmp/trunc-rec.pcap" --side client
check2 "huge record" "record 1 claims 2147483647 bytes (at most 262144)" --from-pcap "$tmp/huge.pcap" --side client
check2 "no section" "not a pcap or pcapng file" --from-pcap "$tmp/nosection.pcapng" --side client
check2 "huge block" "pcapng block at byte 28 claims 4294967280 bytes" --from-pcap "$tmp/hugeblock.pcapng" --side client
check2 "no file" "cannot open" --from-pcap "$tmp/none.pcap" --side client
check2 "no side" "needs --side client or --side server" --from-pcap "$tmp/hs.pcap"
check2 "bad side" "expected client or server, got 'both'" --from-pcap "$tmp/hs.pcap" --side both
check2 "--conn 2" "--conn 2: the capture holds 1 TCP conversation" --from-pcap "$tmp/hs.pcap" --side client --conn 2
check2 "--port 81" "--port 81: no TCP conversation" --from-pcap "$tmp/hs.pcap" --side client --port 81
check2 "--conn and --port" "give one" --from-pcap "$tmp/hs.pcap" --side client --conn 1 --port 80
check2 "unknown flag" "unknown option '--svg'" --from-pcap "$tmp/hs.pcap" --side client --svg x
if "$synack" script --from-pcap x --help | grep -q -- '--side client|server'; then ok; else bad "--help"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
