#!/usr/bin/env bash
# Smoke test of synack-bench's wan workload: one short run (3 s, the first
# second left out) at 100 Mbit/s, 20 ms, 0.1 % loss.  Checks that every row
# produced a number: the simulated synack always, and as root the Linux and
# the synack-on-TAP transfers across `synack bridge`; a row exists only when
# its transfer was byte-exact (the bench checks every byte).  Never judges a
# speed.  Usage: wan_smoke.sh PATH_TO_SYNACK_BENCH
set -euo pipefail
bench=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bench" --bench wan --only synack,linux --smoke --wan-loss 0.001 --json >"$out"
python3 - "$out" "$(id -u)" <<'PY'
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in rows if r.get("bench") == "wan" and "/" not in r.get("impl", "")]
want = [("synack", "sim_goodput_mbps"), ("synack", "sim_retrans_bytes")]
if sys.argv[2] == "0":
    want += [("linux", "goodput_mbps"), ("linux", "retrans_bytes"),
             ("synack", "goodput_mbps"), ("synack", "retrans_bytes")]
for impl, metric in want:
    got = [r for r in rows if r["impl"] == impl and r["metric"] == metric]
    assert got, "no %s %s row" % (impl, metric)
    v = got[0]["value"]
    assert v is not None, "%s %s skipped: %s" % (impl, metric, got[0].get("note"))
    assert isinstance(v, (int, float)) and v >= 0, got[0]
    if metric.endswith("goodput_mbps"):
        assert v > 0, got[0]
    # The Linux row names the algorithm the kernel ran (TCP_CONGESTION read
    # back): a "linux" figure is only comparable when it says which.
    if impl == "linux" and metric == "goodput_mbps":
        assert re.search(r"linux cc [a-z0-9_]+; ", got[0].get("note", "")), got[0]
print("wan smoke: %s" % ", ".join("%s %s %.3g" % (r["impl"], r["metric"], r["value"])
                                  for r in rows if r["value"] is not None
                                  and r["metric"].endswith("goodput_mbps")))
PY
