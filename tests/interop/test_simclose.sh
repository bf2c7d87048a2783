#!/usr/bin/env bash
# Simultaneous close between synack connect and a Linux server.  synack's
# link delays every datagram 200 ms each way (--delay-ms 200).  synack sends
# one byte (arriving at t = 200 ms); the server closes as soon as it reads
# it, so Linux's FIN leaves at t = 200 ms and reaches synack at 400 ms;
# synack closes 300 ms after sending (--close-after-ms 300), before that
# FIN arrives, and its FIN reaches Linux at 500 ms, before the ACK of
# Linux's FIN (600 ms).  Both FINs cross: synack goes FIN_WAIT_1 -> CLOSING
# -> TIME_WAIT, and Linux's socket ends in TIME_WAIT (or is gone), not
# stuck in CLOSING, LAST_ACK or FIN_WAIT.  The timing has 100 ms of slack
# or more on each side (a slow Python server, a loaded machine), hence the
# long delay.  In the pcap neither FIN acknowledges the other (each
# was sent before the other arrived); the pcap is clean.
# Usage: test_simclose.sh PATH_TO_SYNACK
set -u
. "$(dirname "$0")/lib.sh"
it_init simclose "${1:-}" tshark
it_dev tap

it_peer_server s "$IT_LINUX" 5021 close-on-byte
it_connect c "$IT_LINUX:5021" --send-bytes 1 --close-after-ms 300 --delay-ms 200 --pcap "$IT_TMP/simclose.pcap"
it_peer_wait
if [ "$CONNECT_RC" -eq 0 ]; then ok; else bad "connect exited $CONNECT_RC: $(tail -n 3 "$IT_TMP/c.err")"; fi
if [ "$(kv received "$IT_TMP/s.out")" = 1 ]; then ok; else bad "Linux received: $(cat "$IT_TMP/s.out")"; fi
tr=$(it_transitions "$IT_TMP/c.err")
if grep -q 'ESTABLISHED->FIN_WAIT_1 .*FIN_WAIT_1->CLOSING .*CLOSING->TIME_WAIT' <<<"$tr"; then
	ok
else
	bad "synack's states (want FIN_WAIT_1 -> CLOSING -> TIME_WAIT): $tr"
fi
if grep -q '^state FIN_WAIT_1 -> CLOSING ' "$IT_TMP/c.err"; then ok; else bad "no '-> CLOSING' line on synack's stderr"; fi
if [ "$(it_connect_summary c)" = "synack connect: sent 1 bytes, received 0 bytes, final state TIME_WAIT" ]; then
	ok
else
	bad "summary '$(it_connect_summary c)'"
fi
# Linux: TIME_WAIT or CLOSED, nothing else, once its last ACK arrived.
linux_state=
for i in $(seq 1 30); do
	linux_state=$(ns ss -Htan "( sport = :5021 )" | awk '{print $1}' | tr '\n' ' ')
	case "$linux_state" in "" | "TIME-WAIT ") break ;; esac
	sleep 0.1
done
if [ -z "$linux_state" ] || [ "$linux_state" = "TIME-WAIT " ]; then
	ok
else
	bad "Linux's socket is in '$linux_state', want TIME-WAIT or closed"
fi
# On the wire: each FIN was sent before the other arrived, so neither
# acknowledges the other's FIN (absolute sequence numbers).
fin_of() { # SRC -> "seq ack" of its first FIN (seq: the FIN's own number)
	local seq len ack
	read -r seq len ack < <(tshark -n -r "$IT_TMP/simclose.pcap" -Y "ip.src == $1 && tcp.flags.fin == 1" \
		-T fields -e tcp.seq_raw -e tcp.len -e tcp.ack_raw 2>/dev/null | head -n 1)
	[ -n "${seq:-}" ] && echo "$(((seq + len) % 4294967296)) $ack"
}
read -r s_seq s_ack <<<"$(fin_of "$IT_SYNACK")"
read -r l_seq l_ack <<<"$(fin_of "$IT_LINUX")"
if [ -n "${s_seq:-}" ] && [ -n "${l_seq:-}" ] &&
	[ "$s_ack" != $(((l_seq + 1) % 4294967296)) ] && [ "$l_ack" != $(((s_seq + 1) % 4294967296)) ]; then
	ok
else
	bad "the FINs did not cross: synack FIN seq ${s_seq:-?} ack ${s_ack:-?}, Linux FIN seq ${l_seq:-?} ack ${l_ack:-?}"
fi
note "synack FIN seq $s_seq ack $s_ack, Linux FIN seq $l_seq ack $l_ack; synack: $tr; Linux: ${linux_state:-CLOSED}"
it_pcap_check "$IT_TMP/simclose.pcap"
it_finish
