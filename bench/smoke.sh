#!/usr/bin/env bash
# Smoke test of synack-bench: a tiny run of every workload on every
# implementation available.  Checks that the output is JSON lines with the
# documented keys and that every figure present is a positive number; it
# never judges a speed.
set -euo pipefail
bench=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bench" --smoke --json >"$out"
python3 - "$out" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no output"
figures = 0
impls = set()
for line in lines:
    o = json.loads(line)
    if "remark" in o:
        continue
    for k in ("bench", "impl", "variant", "metric", "value"):
        assert k in o, (k, line)
    if o["value"] is None:
        assert o.get("skipped") and o.get("note"), line
        continue
    assert isinstance(o["value"], (int, float)) and o["value"] > 0, line
    if o["bench"] in ("lifecycle", "bulk", "memory", "scale") and "/" not in o["impl"]:
        figures += 1
        impls.add(o["impl"])
want = {("lifecycle", "lifecycles_per_s"), ("lifecycle", "cpu_us_per_lifecycle"),
        ("bulk", "gbit_per_s"), ("bulk", "cpu_s_per_gb"),
        ("memory", "bytes_per_established"), ("memory", "bytes_per_time_wait"),
        ("memory", "bytes_per_syn_pending"), ("scale", "setup_per_s"),
        ("scale", "ns_per_segment"), ("scale", "rss_bytes")}
have = {(json.loads(l)["bench"], json.loads(l)["metric"]) for l in lines
        if "remark" not in json.loads(l) and json.loads(l)["impl"] == "synack"
        and json.loads(l)["value"] is not None}
missing = want - have
assert not missing, "synack figures missing: %s" % sorted(missing)
print("bench smoke: %d figures from %s, all positive" % (figures, ", ".join(sorted(impls))))
PY
