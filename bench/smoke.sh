#!/usr/bin/env bash
# Smoke test of synack-bench: a tiny run of every workload on every
# implementation available.  Checks that the output is JSON lines with the
# documented keys, that every figure present is a positive number, that
# every ratio line names its peer and matches the two figures it divides,
# that every target line says met or the factor it misses by, that the run
# header is there, and that bench/report.py turns the run into its tables.
# It never judges a speed.
set -euo pipefail
bench=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# The usage: printed as it is written (fputs, so no printf escapes such as
# "%%" may appear in it), on stdout with --help (status 0), on stderr with
# status 2 for an unknown flag.
"$bench" --help >"$dir/help.txt"
grep -q "^usage: synack-bench" "$dir/help.txt"
grep -q "1 % loss" "$dir/help.txt"
if grep -n "%%" "$dir/help.txt"; then
	echo "bench smoke: the usage shows a printf escape" >&2
	exit 1
fi
rc=0
"$bench" --no-such-flag >/dev/null 2>"$dir/usage.txt" || rc=$?
[ "$rc" -eq 2 ] && cmp -s "$dir/help.txt" "$dir/usage.txt" || {
	echo "bench smoke: an unknown flag should print the usage on stderr, status 2 (got $rc)" >&2
	exit 1
}
"$bench" --smoke --json >"$dir/default.json"
# gVisor's peer (bench/gvisor) is built when Go and its sources are
# installed; then its lines must be there too, and as root its TAP rows.
gvisor=0
[ -x "$(dirname "$bench")/synack-gvisor-bench" ] && gvisor=1
# The tap and threads workloads (issue 16 items 2 and 3) need root and TUN.
root=0
if [ "$(id -u)" -eq 0 ] && [ -c /dev/net/tun ]; then
	root=1
	"$bench" --bench tap --smoke --json >"$dir/tap.json"
	"$bench" --bench threads --smoke --json >"$dir/threads.json"
else
	echo "bench smoke: not root or no /dev/net/tun: the tap and threads workloads are not checked"
fi

python3 - "$dir" "$gvisor" "$root" <<'PY'
import json, math, os, re, sys
d, gvisor, root = sys.argv[1], sys.argv[2] == "1", sys.argv[3] == "1"
PEERS = ("linux", "lwip", "gvisor")
TARGETS = {
    "lifecycle >= 2,000,000/s, one connection in flight",
    "bulk >= 40 Gbit/s at MSS 1460", "bulk <= 0.2 s CPU per GB",
    "<= 256 B per idle established connection",
    "<= 256 B per idle established endpoint, by malloc (heap)",
    "<= 64 B per TIME_WAIT entry",
    "1,000,000 established connections under 1 GiB (server stack)",
    "1,000,000 established connections under 1 GiB (process RSS, both ends)",
    "TAP: synack sending >= Linux veth with offloads (Gbit/s)",
    "TAP: synack receiving >= Linux veth with offloads (Gbit/s)",
    "TAP: synack sending, CPU per GB <= Linux veth with offloads",
    "TAP: synack receiving, CPU per GB <= Linux veth with offloads",
    "per lifecycle at 100,000 in flight <= 1.5x at 1",
}

def pos(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0

def check(name):
    """Every line of one run: the header, figures, ratios, targets."""
    lines = open(os.path.join(d, name)).read().splitlines()
    assert lines, "%s: no output" % name
    objs = [json.loads(l) for l in lines]
    metas = [o for o in objs if "meta" in o]
    assert len(metas) == 1 and metas[0]["meta"] == "run", "%s: one run header wanted" % name
    m = metas[0]
    for k in ("date", "commit", "build", "compiler", "cpu", "kernel", "os", "args"):
        assert isinstance(m.get(k), str), (name, k, m)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", m["date"]), m
    assert m["commit"], m
    assert isinstance(m["cores"], int) and m["cores"] > 0 and pos(m["ram_bytes"]), m
    for k in ("load_start", "load_end"):
        assert len(m[k]) == 3 and all(isinstance(x, (int, float)) and x >= 0 for x in m[k]), m
    assert m["wall_s"] >= 0, m
    figs, ratios, targets = [], [], []
    for o in objs:
        if "meta" in o or "remark" in o:
            continue
        for k in ("bench", "impl", "variant", "metric", "value"):
            assert k in o, (name, k, o)
        if o["bench"] == "target":
            targets.append(o)
        elif "/" in o["impl"]:
            ratios.append(o)
        else:
            figs.append(o)
            if o["value"] is None:
                assert o.get("skipped") and o.get("note"), o
            else:
                assert pos(o["value"]), o
    by = {(o["bench"], o["impl"], o["variant"], o["metric"]): o["value"] for o in figs
          if o["value"] is not None}
    # Ratios: "synack/PEER" (or synack-2t/synack-1t), the peer spelt out,
    # and the value the two figures' quotient.
    for r in ratios:
        mt = re.match(r"^(synack|synack-2t)/(linux|lwip|gvisor|synack-1t)$", r["impl"])
        assert mt and r.get("peer") == mt.group(2), ("ratio names no peer", r)
        s = by.get((r["bench"], "synack", r.get("synack_variant"), r["metric"]))
        peer = "synack" if mt.group(2) == "synack-1t" else mt.group(2)
        p = by.get((r["bench"], peer, r.get("peer_variant"), r["metric"]))
        assert s and p, ("ratio of figures not in the run", r)
        assert pos(r["value"]) and abs(r["value"] - s / p) <= 1e-3 * (s / p), r
    have_ratio = {(r["bench"], r["peer"], r["synack_variant"], r["peer_variant"], r["metric"])
                  for r in ratios}
    # Every peer figure with a synack figure of the same bench, variant and
    # metric has its ratio line (bulk: every variant of the peer).
    for (b, impl, v, mt), val in by.items():
        if impl not in PEERS or b in ("tap", "wan"):
            continue
        sv = "mss1460" if b == "bulk" else v
        if (b, "synack", sv, mt) in by:
            assert (b, impl, sv, v, mt) in have_ratio, ("no ratio line", b, impl, v, mt)
    # Targets: each named, met or the factor it misses by, or not measured.
    names = [t.get("name") for t in targets]
    assert len(names) == len(set(names)), ("a target twice", names)
    assert set(names) == TARGETS, ("targets", sorted(TARGETS ^ set(names)))
    for t in targets:
        if t["value"] is None:
            assert t.get("skipped") and t.get("note") and t["met"] is None, t
            continue
        assert pos(t["value"]) and pos(t["target"]) and pos(t["factor"]), t
        assert isinstance(t["met"], bool) and t["met"] == (t["factor"] <= 1 + 1e-9), t
    return objs, by, have_ratio, {t["name"]: t for t in targets}

objs, by, have_ratio, targets = check("default.json")
figures = sum(1 for k in by if k[0] in ("lifecycle", "bulk", "memory", "scale"))
impls = sorted({k[1] for k in by})
want = {("lifecycle", "lifecycles_per_s"), ("lifecycle", "cpu_us_per_lifecycle"),
        ("bulk", "gbit_per_s"), ("bulk", "cpu_s_per_gb"),
        ("memory", "bytes_per_established"), ("memory", "bytes_per_time_wait"),
        ("memory", "bytes_per_syn_pending"), ("scale", "setup_per_s"),
        ("scale", "ns_per_segment"), ("scale", "rss_bytes")}
have = {(k[0], k[3]) for k in by if k[1] == "synack"}
missing = want - have
assert not missing, "synack figures missing: %s" % sorted(missing)
for t in ("lifecycle >= 2,000,000/s, one connection in flight",
          "bulk >= 40 Gbit/s at MSS 1460", "bulk <= 0.2 s CPU per GB"):
    assert targets[t]["value"] is not None, ("target not measured", t)
# By malloc where the build can count it (the sanitizer build cannot).
t = "<= 256 B per idle established endpoint, by malloc (heap)"
assert (targets[t]["value"] is None) == (("memory", "synack", "heap", "bytes_per_established")
                                          not in by), targets[t]
if gvisor or any(k[1] == "gvisor" for k in by):
    have = {(k[0], k[3]) for k in by if k[1] == "gvisor"}
    want_gv = want - {("memory", "bytes_per_syn_pending")}
    missing = want_gv - have
    assert not missing, "gvisor figures missing: %s" % sorted(missing)
    remarks = [o["remark"] for o in objs if "remark" in o and o["impl"] == "gvisor"]
    assert not remarks, "gvisor runs failed: %s" % remarks
    benches = {r[0] for r in have_ratio if r[1] == "gvisor"}
    assert {"lifecycle", "bulk", "memory", "scale"} <= benches, "synack/gvisor ratios: %s" % benches
else:
    why = [o.get("note") for o in objs if o.get("impl") == "gvisor" and o.get("value") is None]
    assert why, "gVisor is not built and its skipped line does not say why"
    print("bench smoke: no gVisor rows: %s" % why[0])
print("bench smoke: %d figures from %s, %d ratios, %d targets, all well-formed"
      % (figures, ", ".join(impls), len(have_ratio), len(targets)))

if root:
    # The tap workload: synack on TAP both ways, offloads on and off, Linux
    # over veth, gVisor on TAP (when built); every row positive (a synack
    # row exists only for a byte-exact transfer), every ratio and the TAP
    # targets measured.
    objs, by, have_ratio, targets = check("tap.json")
    want = [("synack", "%s-offload-%s" % (d_, o), m) for d_ in ("send", "recv")
            for o in ("on", "off") for m in ("gbit_per_s", "cpu_s_per_gb", "device_ops_per_gb")]
    want += [("linux", "mss1460-veth-offload-%s" % o, m) for o in ("on", "off")
             for m in ("gbit_per_s", "cpu_s_per_gb")]
    if gvisor:
        want += [("gvisor", d_, m) for d_ in ("tx", "rx") for m in ("gbit_per_s", "cpu_s_per_gb")]
        dirs = {(o["variant"], o.get("dir")) for o in objs if o.get("impl") == "gvisor"
                and o.get("bench") == "tap" and o.get("value") is not None}
        assert dirs >= {("tx", "tx"), ("rx", "rx")}, "gvisor tap rows without dir: %s" % dirs
    for impl, variant, metric in want:
        assert ("tap", impl, variant, metric) in by, "no tap %s %s %s row (or skipped): %s" % (
            impl, variant, metric, [o.get("note") for o in objs if o.get("impl") == impl
                                    and o.get("variant") == variant and o.get("value") is None])
    n = 0
    for d_, g in (("send", "tx"), ("recv", "rx")):
        for o in ("on", "off"):
            for m in ("gbit_per_s", "cpu_s_per_gb"):
                sv = "%s-offload-%s" % (d_, o)
                peers = [("linux", "mss1460-veth-offload-on"), ("linux", "mss1460-veth-offload-off")]
                if gvisor:
                    peers.append(("gvisor", g))
                for peer, pv in peers:
                    assert ("tap", peer, sv, pv, m) in have_ratio, ("no tap ratio", peer, sv, pv, m)
                    n += 1
    for name, t in targets.items():
        if name.startswith("TAP:"):
            assert t["value"] is not None and t.get("relative_to"), ("TAP target", t)
    print("bench smoke: tap %d rows, %d ratios, all positive" % (len(want), n))

    objs, by, have_ratio, targets = check("threads.json")
    want = [("conns-%dt" % n, m) for n in (1, 2) for m in ("conns_per_s", "cpu_us_per_conn")]
    want += [("bulk-4flows-%dt" % n, m) for n in (1, 2) for m in ("gbit_per_s", "cpu_s_per_gb")]
    for variant, metric in want:
        assert ("threads", "synack", variant, metric) in by, "no threads %s %s row" % (variant, metric)
        if variant.endswith("2t"):
            assert ("threads", "synack-1t", variant, variant[:-2] + "1t", metric) in have_ratio, \
                ("no threads ratio", variant, metric)
    print("bench smoke: threads %d rows and their 2t/1t ratios, all positive" % len(want))
PY

# The text output: a run header, the ratio lines name their peer, and every
# target line ends in met, MISSED by Nx, or not measured in this run.
"$bench" --smoke --only synack,lwip --bench lifecycle,memory >"$dir/table.txt" 2>/dev/null
python3 - "$dir/table.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
assert re.match(r"^Run \d{4}-\d\d-\d\dT\S+Z, commit \S+ ", text), text[:200]
assert "\nTargets (synack)\n" in text, text
tail = text.split("\nTargets (synack)\n", 1)[1].split("\n\n", 1)[0].splitlines()
assert len(tail) == 13, tail
for line in tail:
    assert re.search(r"(: met|: MISSED by \d+\.\d\dx| not measured in this run)$", line), line
if "\nRatios synack/peer" in text:
    rows = text.split("\nRatios synack/peer", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    assert rows, text
    for line in rows:
        assert re.match(r"^  \S+\s+\S+\s+synack/(linux|lwip|gvisor)\s", line), line
print("bench smoke: the table's header, ratio and target lines are well-formed")
PY

# bench/report.py turns the run (and the tap and threads runs) into the
# tables of docs/PERFORMANCE.md.
cat "$dir"/default.json $([ "$root" = 1 ] && echo "$dir/tap.json $dir/threads.json") >"$dir/all.json"
python3 "$here/report.py" "$dir/all.json" >"$dir/report.md"
for h in "### The run" "### Results" "### Targets" "### Ratios" "### Notes"; do
	grep -qx "$h" "$dir/report.md" || { echo "report.py: no '$h'"; exit 1; }
done
if [ "$root" = 1 ]; then
	grep -qx "### TAP" "$dir/report.md" && grep -qx "### Threads" "$dir/report.md" ||
		{ echo "report.py: no TAP or Threads table"; exit 1; }
fi
echo "bench smoke: report.py made $(grep -c '^|' "$dir/report.md") table rows"
