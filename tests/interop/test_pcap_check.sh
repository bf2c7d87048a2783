#!/usr/bin/env bash
# The pcap check of the interop tests can fail: it accepts two clean
# captures (raw IPv4 and Ethernet) and refuses each capture holding one fault
# (a bad IPv4, TCP or ICMP checksum, a TCP header longer than its datagram,
# a file cut short in the middle of a packet, a TCP checksum 0xFFFF for
# 0x0000 from synack; from the kernel that one is accepted, see lib.sh).  Needs tshark and python3, not
# root.
# Usage: test_pcap_check.sh [PATH_TO_SYNACK]
set -u
. "$(dirname "$0")/lib.sh"
for tool in tshark python3; do
	command -v "$tool" >/dev/null 2>&1 || it_skip "needs $tool (tests/run.sh installs it)"
done
IT_TMP=$(mktemp -d /tmp/synack-it-pcap.XXXXXX)
trap 'rm -rf "$IT_TMP"' EXIT
python3 "$IT_PEER" pcap-samples "$IT_TMP" || { bad "peer.py pcap-samples"; it_finish; }
n=0
for f in "$IT_TMP"/good-*.pcap "$IT_TMP"/bad-*.pcap; do
	n=$((n + 1))
	if it_pcap_problems "$f" >"$IT_TMP/out" 2>&1; then verdict=clean; else verdict=refused; fi
	case "$(basename "$f"):$verdict" in
	good-*:clean | bad-*:refused) ok ;;
	*) bad "$(basename "$f") was $verdict: $(cat "$IT_TMP/out")" ;;
	esac
done
if [ "$n" -eq 10 ]; then ok; else bad "expected 10 sample captures, found $n"; fi
# The kernel's 0xFFFF is taken from the address a test names as the
# kernel's (IT_PCAP_KERNEL_SRC, test_bridge.sh), and only from it.
f=$IT_TMP/good-kernel-checksum-ffff.pcap
if IT_PCAP_KERNEL_SRC=10.7.0.9 it_pcap_problems "$f" >"$IT_TMP/out" 2>&1; then
	bad "the kernel's 0xFFFF was taken from 10.7.0.1 with IT_PCAP_KERNEL_SRC=10.7.0.9"
else ok; fi
if IT_PCAP_KERNEL_SRC="10.7.0.9 10.7.0.1" it_pcap_problems "$f" >"$IT_TMP/out" 2>&1; then ok; else
	bad "the kernel's 0xFFFF refused with IT_PCAP_KERNEL_SRC naming 10.7.0.1: $(cat "$IT_TMP/out")"
fi
it_finish
