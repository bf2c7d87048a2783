#!/usr/bin/env bash
# Pictures and captures of `synack demo` and `synack transfer` (--svg,
# --html, --pcap; issue 18 items 2 and 3), from the outside:
#  - the SVG passes an XML parser and holds what the run showed: every state
#    name, a TIME_WAIT band with its length, a break marker where time is
#    compressed, one arrow per segment sent, a crossed-out arrow per lost one;
#    a transfer adds the sequence and the cwnd graphs;
#  - the same seed gives the same SVG, page and capture, byte for byte, and
#    the flags leave the ladder and the JSON lines unchanged;
#  - the page renders in headless Chromium to a PNG without console errors;
#  - tshark opens the capture without a complaint, and its conversation and
#    expert-info output agree with synack's trace and counters: as many
#    frames as segments sent, as many resent segments as RetransSegs;
#  - bad usage (no file name, an attack scenario, a path that cannot be
#    created) exits 2 with a message.
# Usage: test_pictures.sh PATH_TO_SYNACK
set -u
synack=${1:?usage: test_pictures.sh PATH_TO_SYNACK}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() {
	pass=$((pass + 1))
}
bad() {
	echo "FAIL: $*" >&2
	fail=$((fail + 1))
}

# A well-formed XML document (python3's parser, else xmllint).
xml_ok() { # FILE
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$1"
	elif command -v xmllint >/dev/null 2>&1; then
		xmllint --noout "$1"
	else
		echo "no XML parser (python3 or xmllint)" >&2
		return 1
	fi
}
count() { # PATTERN FILE: lines of FILE matching the fixed string
	grep -cF -- "$1" "$2"
}
# The value of a counter of a host in the demo's JSON summary line.
counter() { # HOST NAME FILE
	tail -n 1 "$3" | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]]["counters"][sys.argv[2]])' "$1" "$2"
}

# ---------------------------------------------------------------------------
# The demo's default scenario: what its picture must hold.
if "$synack" demo handshake --svg "$tmp/h.svg" --html "$tmp/h.html" --pcap "$tmp/h.pcap" \
	>"$tmp/h.txt" 2>"$tmp/err"; then ok; else bad "demo --svg --html --pcap exited $?: $(cat "$tmp/err")"; fi
"$synack" demo handshake >"$tmp/plain.txt"
if cmp -s "$tmp/h.txt" "$tmp/plain.txt"; then ok; else bad "--svg/--html/--pcap changed the ladder"; fi
"$synack" demo handshake --json --svg "$tmp/j.svg" >"$tmp/h.json"
"$synack" demo handshake --json >"$tmp/plain.json"
if cmp -s "$tmp/h.json" "$tmp/plain.json"; then ok; else bad "--svg changed the JSON lines"; fi
if cmp -s "$tmp/h.svg" "$tmp/j.svg"; then ok; else bad "the SVG differs with --json"; fi
if xml_ok "$tmp/h.svg"; then ok; else bad "demo SVG is not well-formed XML"; fi
for state in LISTEN SYN_SENT SYN_RECEIVED ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 CLOSE_WAIT LAST_ACK TIME_WAIT CLOSED; do
	if grep -q ">$state<" "$tmp/h.svg"; then ok; else bad "demo SVG lacks the state name $state"; fi
done
if grep -q '<rect class="band"[^>]*><title>client TIME_WAIT: 60.000 s</title>' "$tmp/h.svg"; then
	ok
else bad "demo SVG has no 60 s TIME_WAIT band on the client's line"; fi
if grep -q '<rect class="band"[^>]*><title>server CLOSE_WAIT: ' "$tmp/h.svg"; then ok; else bad "no CLOSE_WAIT band"; fi
if grep -q 'class="brktext"[^>]*>[^<]*59.990 s without an event (time compressed)' "$tmp/h.svg"; then
	ok
else bad "demo SVG has no break marker for TIME_WAIT's quiet minute"; fi
tx=$(count '"ev":"tx"' "$tmp/h.json")
arrows=$(count '<g class="seg">' "$tmp/h.svg")
# 11: the request and the reply are each acknowledged at once, as the
# first data of a connection is in Linux's quick-ACK mode.
if [ "$tx" -eq 11 ] && [ "$arrows" -eq "$tx" ]; then ok; else bad "demo SVG has $arrows arrows for $tx segments (want 11)"; fi
if [ "$(count '>S seq 0 win 65535<' "$tmp/h.svg")" -eq 1 ] &&
	[ "$(count '>P. 1:29(28) ack 1 win 512<' "$tmp/h.svg")" -eq 1 ]; then
	ok
else bad "demo SVG lacks the labels of the SYN and of the request"; fi
if [ "$(count 'class="lost"' "$tmp/h.svg")" -eq 0 ]; then ok; else bad "a segment of a lossless run drawn lost"; fi

# A lost segment is drawn to where it died.
"$synack" demo syn-lost --svg "$tmp/l.svg" --json >"$tmp/l.json"
if xml_ok "$tmp/l.svg"; then ok; else bad "syn-lost SVG is not well-formed XML"; fi
tx=$(count '"ev":"tx"' "$tmp/l.json")
if [ "$(count '<g class="seg">' "$tmp/l.svg")" -eq "$tx" ]; then ok; else bad "syn-lost: arrows != $tx segments"; fi
if [ "$(count '>lost</text>' "$tmp/l.svg")" -eq 1 ] &&
	grep -q '<title>client sends S seq 0 win 65535, lost</title>' "$tmp/l.svg"; then
	ok
else bad "syn-lost SVG does not show the first SYN lost"; fi
if grep -q 'without an event (time compressed)' "$tmp/l.svg"; then ok; else bad "syn-lost: no break for the RTO"; fi

# Every two-host scenario draws well-formed XML.
attacks=" syn-flood blind-reset blind-data ack-flood "
for s in $("$synack" demo --list | awk '{print $1}'); do
	case "$attacks" in *" $s "*) continue ;; esac
	if "$synack" demo "$s" --svg "$tmp/s.svg" --html "$tmp/s.html" >/dev/null 2>"$tmp/err" &&
		xml_ok "$tmp/s.svg"; then
		ok
	else bad "demo $s --svg: $(cat "$tmp/err")"; fi
done

# Same seed, same bytes.
"$synack" demo handshake --seed 7 --svg "$tmp/a.svg" --html "$tmp/a.html" --pcap "$tmp/a.pcap" >/dev/null
"$synack" demo handshake --seed 7 --svg "$tmp/b.svg" --html "$tmp/b.html" --pcap "$tmp/b.pcap" >/dev/null
"$synack" demo handshake --seed 8 --svg "$tmp/c.svg" >/dev/null
for f in svg html pcap; do
	if cmp -s "$tmp/a.$f" "$tmp/b.$f"; then ok; else bad "--seed 7 twice gives different --$f"; fi
done
if ! cmp -s "$tmp/a.svg" "$tmp/c.svg"; then ok; else bad "--seed 7 and --seed 8 draw the same SVG"; fi

# ---------------------------------------------------------------------------
# The transfer: the ladder and the two graphs.
"$synack" transfer --bytes 200K --loss 0.02 --seed 3 --svg "$tmp/t.svg" --html "$tmp/t.html" \
	--pcap "$tmp/t.pcap" --json >"$tmp/t.json"
rc=$?
if [ $rc -eq 0 ]; then ok; else bad "transfer --svg --html --pcap exited $rc"; fi
if xml_ok "$tmp/t.svg"; then ok; else bad "transfer SVG is not well-formed XML"; fi
for want in 'sequence number (client to server) against time' "congestion window against time" \
	'class="sent"' 'class="retx"' 'class="acked"' 'class="rwnd"' 'class="cwnd"' 'class="ssthresh"'; do
	if grep -qF "$want" "$tmp/t.svg"; then ok; else bad "transfer SVG lacks $want"; fi
done
if grep -q 'class="cwnd" d="M[0-9.]* [0-9.]*H' "$tmp/t.svg"; then ok; else bad "transfer: the cwnd line is empty"; fi
lost=$(tail -n 1 "$tmp/t.json" | sed -n 's/.*"lost":\([0-9]*\).*/\1/p')
if [ "$lost" -gt 0 ] && grep -q '<path class="cross" d="M' "$tmp/t.svg"; then ok; else bad "transfer: $lost lost, none crossed out"; fi
"$synack" transfer --bytes 200K --loss 0.02 --seed 3 --svg "$tmp/t2.svg" >/dev/null
if cmp -s "$tmp/t.svg" "$tmp/t2.svg"; then ok; else bad "transfer: same seed, different SVG"; fi
# A long run keeps the ladder to a page or so and says what it left out.
if grep -q 'events not drawn: the graphs below show them all' "$tmp/t.svg"; then ok; else bad "transfer: no elision marker"; fi

# ---------------------------------------------------------------------------
# The page in a real browser.
chromium_bin=""
for c in chromium chromium-browser google-chrome; do
	command -v "$c" >/dev/null 2>&1 && chromium_bin=$c && break
done
if [ -z "$chromium_bin" ]; then
	echo "SKIP: the HTML rendering checks need chromium (tests/run.sh installs it as root)"
else
	for page in h t; do
		# Root needs --no-sandbox; the D-Bus complaints of a headless
		# machine go to stderr, the page's console messages with
		# --enable-logging as CONSOLE lines.
		rm -f "$tmp/$page.png"
		timeout 120 "$chromium_bin" --headless --no-sandbox --disable-gpu --enable-logging=stderr \
			--v=0 --user-data-dir="$tmp/chrome" --screenshot="$tmp/$page.png" \
			--window-size=1200,2000 "file://$tmp/$page.html" >"$tmp/chrome.out" 2>&1
		if [ -s "$tmp/$page.png" ] && [ "$(head -c 8 "$tmp/$page.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
			ok
		else bad "$chromium_bin made no PNG of $page.html: $(tail -n 3 "$tmp/chrome.out")"; fi
		if grep -E 'CONSOLE|Uncaught|SVG|XML' "$tmp/chrome.out" | grep -v 'dbus' >"$tmp/console"; then
			bad "$page.html: console messages: $(head -n 3 "$tmp/console")"
		else ok; fi
		timeout 120 "$chromium_bin" --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/chrome" \
			--dump-dom "file://$tmp/$page.html" >"$tmp/dom" 2>/dev/null
		if grep -q '<svg' "$tmp/dom" && grep -q '<table>' "$tmp/dom"; then ok; else bad "$page.html: no svg and table in the DOM"; fi
	done
fi
# Self-contained: nothing fetched from anywhere.
if ! grep -qiE '(src|href)=|url\((https?:|//)|<script' "$tmp/h.html" "$tmp/t.html"; then ok; else bad "a page refers to an external resource"; fi

# ---------------------------------------------------------------------------
# The capture, read by tshark.
if ! command -v tshark >/dev/null 2>&1; then
	echo "SKIP: the capture checks need tshark (tests/run.sh installs it as root)"
else
	# HTTP is left undissected (the payloads are random bytes on port 80)
	# and so is reassembly: a capture at the sender holds a lost segment and
	# its retransmission, which Wireshark's reassembly calls an overlap.
	tsh=(tshark -n --disable-protocol http -o tcp.desegment_tcp_streams:FALSE
		-o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE)
	check_capture() { # NAME PCAP SEGMENTS RETRANSMISSIONS
		local name=$1 f=$2 segs=$3 retx=$4
		"${tsh[@]}" -r "$f" -q -z conv,tcp -z expert >"$tmp/ts.out" 2>"$tmp/ts.err"
		local rc=$?
		grep -v 'Running as user' "$tmp/ts.err" >"$tmp/ts.err2"
		if [ $rc -eq 0 ] && [ ! -s "$tmp/ts.err2" ]; then ok; else bad "$name: tshark exited $rc: $(head -n 3 "$tmp/ts.err2")"; fi
		# The conversation table: one TCP conversation, its total frames.
		local frames
		frames=$(awk '/<->/ {print $4 + $7}' "$tmp/ts.out")
		if [ "$frames" = "$segs" ]; then ok; else bad "$name: tshark's conversation has '$frames' frames, synack sent $segs segments"; fi
		if ! grep -qE 'Malformed|Bad checksum|Errors \(' "$tmp/ts.out"; then ok; else bad "$name: tshark expert errors: $(grep -A3 Errors "$tmp/ts.out")"; fi
		# Expert info: a segment sent again is a "retransmission" (fast or
		# after a timeout), a "spurious retransmission", or, when it
		# follows closely, an "out-of-order segment" (a sender emits in
		# order, so at the sender that too is a resend).
		local n
		n=$(awk '/This frame is a \(suspected\) (retransmission|spurious retransmission|out-of-order segment)/ {s += $1} END {print s + 0}' "$tmp/ts.out")
		if [ "$n" -eq "$retx" ]; then ok; else bad "$name: tshark counts $n resent segments, synack's RetransSegs $retx"; fi
	}
	for s in handshake syn-lost retransmit fin-wait-1-stuck fin-wait-2-timeout; do
		"$synack" demo "$s" --json --pcap "$tmp/$s.pcap" >"$tmp/$s.json"
		segs=$(($(counter client OutSegs "$tmp/$s.json") + $(counter server OutSegs "$tmp/$s.json")))
		tx=$(count '"ev":"tx"' "$tmp/$s.json")
		if [ "$segs" -eq "$tx" ]; then ok; else bad "$s: OutSegs $segs but $tx TX records"; fi
		retx=$(($(counter client RetransSegs "$tmp/$s.json") + $(counter server RetransSegs "$tmp/$s.json")))
		check_capture "demo $s" "$tmp/$s.pcap" "$segs" "$retx"
	done
	segs=$(count '"ev":"tx"' "$tmp/t.json")
	dgrams=$(tail -n 1 "$tmp/t.json" | sed -n 's/.*"datagrams":\([0-9]*\).*/\1/p')
	if [ "$segs" -eq "$dgrams" ]; then ok; else bad "transfer: $segs TX records, $dgrams datagrams"; fi
	# The summary counts the client's retransmissions; the server may
	# resend its FIN too: count each side's in the trace.
	retx=$(python3 - "$tmp/t.json" <<'EOF'
import json, sys
high, n = {}, 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("ev") != "tx":
        continue
    span = e["len"] + (1 if ("S" in e["flags"] or "F" in e["flags"]) else 0)
    if span == 0:
        continue
    h = e["host"]
    end = (e["seq"] + span) % 2**32
    if h in high and (end - high[h]) % 2**32 >= 2**31 or (h in high and end == high[h]):
        n += 1
    else:
        high[h] = end
print(n)
EOF
)
	want=$(tail -n 1 "$tmp/t.json" | sed -n 's/.*"retransmits":\([0-9]*\).*/\1/p')
	if [ "$retx" -ge "$want" ]; then ok; else bad "transfer: $retx resent segments in the trace, RetransSegs $want"; fi
	check_capture "transfer" "$tmp/t.pcap" "$segs" "$retx"
fi

# ---------------------------------------------------------------------------
# Bad usage: exit 2 and a message.
expect_usage_error() {
	"$synack" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && [ -s "$tmp/err" ]; then ok; else bad "synack $* exited $rc (want 2 and a message)"; fi
}
expect_usage_error demo --svg
expect_usage_error demo --svg=
expect_usage_error transfer --pcap
expect_usage_error demo syn-flood --svg "$tmp/x.svg"
expect_usage_error demo --pcap "$tmp/no/such/dir/x.pcap"
expect_usage_error transfer --bytes 1000 --html "$tmp/no/such/dir/x.html"
if grep -q -- '--svg FILE' <("$synack" demo --help) && grep -q -- '--pcap FILE' <("$synack" transfer --help); then
	ok
else bad "--help does not describe --svg and --pcap"; fi

echo "test_pictures: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
