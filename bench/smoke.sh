#!/usr/bin/env bash
# Smoke test of synack-bench: a tiny run of every workload on every
# implementation available.  Checks that the output is JSON lines with the
# documented keys and that every figure present is a positive number; it
# never judges a speed.
set -euo pipefail
bench=$1
out=$(mktemp)
tap=$(mktemp)
trap 'rm -f "$out" "$tap"' EXIT
"$bench" --smoke --json >"$out"
# gVisor's peer (bench/gvisor) is built when Go and its sources are
# installed; then its lines must be there too, and as root its TAP rows.
gvisor=0
if [ -x "$(dirname "$bench")/synack-gvisor-bench" ]; then
    gvisor=1
    if [ "$(id -u)" = 0 ]; then
        "$bench" --smoke --json --only gvisor --bench tap >"$tap"
    fi
fi
python3 - "$out" "$gvisor" "$tap" <<'PY'
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
if sys.argv[2] == "1":
    objs = [json.loads(l) for l in lines]
    have = {(o["bench"], o["metric"]) for o in objs
            if "remark" not in o and o["impl"] == "gvisor" and o["value"] is not None}
    want_gv = want - {("memory", "bytes_per_syn_pending")}
    missing = want_gv - have
    assert not missing, "gvisor figures missing: %s" % sorted(missing)
    remarks = [o["remark"] for o in objs if "remark" in o and o["impl"] == "gvisor"]
    assert not remarks, "gvisor runs failed: %s" % remarks
    ratios = {o["bench"] for o in objs if o.get("impl") == "synack/gvisor"}
    assert {"lifecycle", "bulk", "memory", "scale"} <= ratios, "synack/gvisor ratios: %s" % ratios
    tap = [json.loads(l) for l in open(sys.argv[3]).read().splitlines()]
    if tap:
        rows = {(o["variant"], o["metric"]) for o in tap if o.get("bench") == "tap"
                and o["impl"] == "gvisor" and o["value"] is not None and o["value"] > 0
                and o.get("dir") == o["variant"]}
        want_tap = {(d, m) for d in ("tx", "rx") for m in ("gbit_per_s", "cpu_s_per_gb")}
        assert rows >= want_tap, "gvisor tap rows missing: %s" % sorted(want_tap - rows)
        figures += len(rows)
print("bench smoke: %d figures from %s, all positive" % (figures, ", ".join(sorted(impls))))
PY

# The tap workload (issue 16 item 2; root only): synack on a TAP device
# sending to and receiving from the kernel, offloads on and off, and Linux
# over veth beside it.  Every row must be present and a positive number (a
# synack row exists only for a byte-exact transfer).
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ]; then
	"$bench" --bench tap --only synack,linux --smoke --json >"$out"
	python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in rows if r.get("bench") == "tap" and "/" not in r.get("impl", "")]
want = [("synack", "%s-offload-%s" % (d, o), m) for d in ("send", "recv") for o in ("on", "off")
        for m in ("gbit_per_s", "cpu_s_per_gb", "device_ops_per_gb")]
want += [("linux", "mss1460-veth-offload-%s" % o, m) for o in ("on", "off")
         for m in ("gbit_per_s", "cpu_s_per_gb")]
for impl, variant, metric in want:
    got = [r for r in rows if (r["impl"], r["variant"], r["metric"]) == (impl, variant, metric)]
    assert got, "no tap %s %s %s row" % (impl, variant, metric)
    v = got[0]["value"]
    assert v is not None, "tap %s %s %s skipped: %s" % (impl, variant, metric, got[0].get("note"))
    assert isinstance(v, (int, float)) and v > 0, got[0]
print("bench smoke: tap %d rows, all positive" % len(want))
PY
fi

# The threads workload (issue 16 item 3; root only): one stack per queue of
# a multi-queue TAP device, 1 and 2 threads.  Every row present and positive.
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ]; then
	"$bench" --bench threads --smoke --json >"$out"
	python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in rows if r.get("bench") == "threads" and r.get("impl") == "synack"]
want = [("conns-%dt" % n, m) for n in (1, 2) for m in ("conns_per_s", "cpu_us_per_conn")]
want += [("bulk-4flows-%dt" % n, m) for n in (1, 2) for m in ("gbit_per_s", "cpu_s_per_gb")]
for variant, metric in want:
    got = [r for r in rows if (r["variant"], r["metric"]) == (variant, metric)]
    assert got, "no threads %s %s row" % (variant, metric)
    v = got[0]["value"]
    assert v is not None, "threads %s %s skipped: %s" % (variant, metric, got[0].get("note"))
    assert isinstance(v, (int, float)) and v > 0, got[0]
print("bench smoke: threads %d rows, all positive" % len(want))
PY
fi
