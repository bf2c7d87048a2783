# The commands whose output is recorded in tests/golden/expected/, one per
# line: NAME ARGS...  (ARGS go to the synack binary).  Sourced by
# tests/golden/record.sh and tests/cli/test_golden.sh.
#
# Every `synack demo` scenario as JSON and as the ladder (the attack
# scenarios with small counts so the run stays short), and `synack transfer`
# for seeds 1..20 under four impairment mixes.  Everything runs on the
# virtual clock from fixed seeds, so the output is the same on every machine.
golden_cases() {
	local s sc
	for sc in handshake server-closes-first simultaneous-open simultaneous-close half-close \
		fin-before-data time-wait-straggler refused syn-lost close-wait-leak fin-wait-1-stuck \
		fin-wait-2-timeout zero-window retransmit window-scale paws sack-recovery tail-loss \
		fast-open; do
		echo "demo-$sc demo $sc --json"
		echo "demo-$sc.ladder demo $sc"
	done
	echo "demo-handshake-lossy demo handshake --json --seed 7 --loss 0.2 --dup 0.1 --reorder 0.1"
	echo "demo-close-wait-leak-tw demo close-wait-leak --json --time-wait-ms 1000 --fin-timeout-ms 2000"
	echo "demo-syn-flood demo syn-flood --json --count 20000 --clients 50"
	echo "demo-ack-flood demo ack-flood --json --count 20000 --clients 50"
	echo "demo-blind-reset demo blind-reset --json"
	echo "demo-blind-data demo blind-data --json"
	# synack script (issue 18): a few shipped scenario scripts.
	local scripts
	scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples/scenarios" && pwd)
	for sc in lost-final-ack rst-in-time-wait-rfc1337 keepalive-dead-peer half-open-reboot; do
		echo "script-$sc script $scripts/$sc.synack --json"
		echo "script-$sc.ladder script $scripts/$sc.synack"
	done
	for s in $(seq 1 20); do
		echo "transfer-clean-$s transfer --seed $s --json --bytes 100000"
		echo "transfer-lossy-$s transfer --seed $s --json --bytes 100000 --loss 0.03 --dup 0.01"
		echo "transfer-reorder-$s transfer --seed $s --json --bytes 100000 --reorder 0.05 --delay-ms 25"
		echo "transfer-bottleneck-$s transfer --seed $s --json --bytes 300000 --bw-mbps 10 --queue 20 --loss 0.005"
	done
}
