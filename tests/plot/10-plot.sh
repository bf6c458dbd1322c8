#!/bin/bash
# scripts/plot_results.py on the fixtures in tests/fixtures: every figure is
# written as a valid PNG, --describe shows that the right things were drawn
# (panels, twin axis, step line, injection span, fit, log axis), and every
# missing or malformed input gives one "nfcost: plot:" line and exit 2.
# Needs neither root nor a kernel feature: only /usr/bin/python3 + matplotlib.
# lib.sh is followed with shellcheck -x; plain shellcheck need not say so.
# shellcheck source-path=SCRIPTDIR source=../lib.sh disable=SC1091
. "$(dirname "$0")/../lib.sh"

# shellcheck source=plotlib
. "$(dirname "$0")/plotlib"


# draw FIGURE DIR [ARGS...]: the figure, with its --describe output in DIR.json
draw() {
	local figure=$1 dir=$2; shift 2
	"$PY" "$PLOT" "$figure" "$dir" --describe "$@" >"$dir.json"
}

# png_ok FILE: the PNG signature, and matplotlib reads it back at a sane size
png_ok() {
	"$PY" - "$1" <<'PYEOF'
import sys
import matplotlib.image

path = sys.argv[1]
with open(path, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n", "no PNG signature"
height, width, channels = matplotlib.image.imread(path).shape
assert 800 <= width <= 3000 and 600 <= height <= 3000 and channels in (3, 4), (width, height)
PYEOF
}

# q DESC EXPR: a Python expression over a --describe output (d, and a = its axes)
q() {
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1])); a = d["axes"]
print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

# --------------------------------------------------------------- log-spaced sweep
D=$(fresh sweep_log)
check "sweep_log: draws the figure" draw sweep "$D"
check_eq "sweep_log: the rules axis is logarithmic (0 stays on it)" "symlog" \
	"$(q "$D.json" 'a[1]["xscale"]')"
check_eq "sweep_log: latencies over decades on a log axis" "log" "$(q "$D.json" 'a[1]["yscale"]')"
check_eq "sweep_log: the fit is drawn through every count" 5 \
	"$(q "$D.json" '[l for l in a[1]["lines"] if l["label"].startswith("least squares")][0]["points"]')"
D=$(fresh sweep)
check "sweep: an evenly spaced sweep draws" draw sweep "$D"
check_eq "sweep: evenly spaced counts keep linear axes" "linear linear" \
	"$(q "$D.json" 'a[1]["xscale"] + " " + a[1]["yscale"]')"

# --------------------------------------------------------------- sweep (TCP, 2 repeats, sweep.json)
D=$(fresh sweep)
check "sweep: draws the figure" draw sweep "$D"
check "sweep: sweep.png is a valid PNG" png_ok "$D/sweep.png"
check_eq "sweep: two panels and the cwnd twin" 3 "$(q "$D.json" 'len(a)')"
check_eq "sweep: panels share the rules axis" True "$(q "$D.json" '1 in a[0]["sharex"]')"
check_eq "sweep: throughput panel above latency panel" True \
	"$(q "$D.json" 'a[0]["position"][1] > a[1]["position"][1]')"
check_eq "sweep: cwnd on a twin of the throughput axis" "[0, 'congestion window (KB)']" \
	"$(q "$D.json" '[a[2]["twin_of"], a[2]["ylabel"]]')"
check_eq "sweep: axis labels with units" \
	"['throughput (Mbit/s)', 'hook latency per packet (ns)', 'rules in the OUTPUT chain']" \
	"$(q "$D.json" '[a[0]["ylabel"], a[1]["ylabel"], a[1]["xlabel"]]')"
check_eq "sweep: title names backend, shape, tracer, kernel" True \
	"$(q "$D.json" 'all(w in a[0]["title"] for w in ("iptables-legacy", "addr-port", "nfhook", "6.1.0-27-amd64"))')"
rows=$(($(wc -l <"$FIX/sweep/sweep.csv") - 1))
counts=$(tail -n +2 "$FIX/sweep/sweep.csv" | cut -d, -f1 | sort -u | wc -l)
check_eq "sweep: mean latency line has one point per rule count" "$counts" \
	"$(q "$D.json" '[l["points"] for l in a[1]["lines"] if l["label"].startswith("average")][0]')"
check_eq "sweep: each repeat drawn as a light point" "$rows" \
	"$(q "$D.json" '[c["points"] for c in a[1]["collections"] if c["kind"] == "scatter"][0]')"
check_eq "sweep: p50-p99 band" True \
	"$(q "$D.json" 'any(c["kind"] == "fill" and c["label"] == "p50–p99" for c in a[1]["collections"])')"
check_eq "sweep: fitted line from sweep.json, labelled with slope and R²" \
	"least squares: 3.92 ns/rule + 415 ns, R² = 1.000" \
	"$(q "$D.json" '[l["label"] for l in a[1]["lines"] if l["linestyle"] == "--"][0]')"
check_eq "sweep: fitted line spans the rule counts at sweep.json's intercept and slope" \
	"[[0.0, 2000.0], [415.2, 8263.2]]" \
	"$(q "$D.json" '[[l["x"], [round(v, 1) for v in l["y"]]] for l in a[1]["lines"] if l["linestyle"] == "--"][0]')"
check_eq "sweep: throughput knee from sweep.json marked" "[1000.0, 1000.0]" \
	"$(q "$D.json" '[l["x"] for l in a[0]["lines"] if "knee" in (l["label"] or "")][0]')"
check "sweep: -o writes elsewhere" "$PY" "$PLOT" sweep "$D" -o "$TMP/other.png"
check "sweep: -o output is a valid PNG" png_ok "$TMP/other.png"

# --------------------------------------------------------------- sweep (UDP: cwnd 0, no sweep.json)
D=$(fresh sweep_udp)
check "sweep udp: draws the figure without sweep.json" draw sweep "$D"
check "sweep udp: sweep.png is a valid PNG" png_ok "$D/sweep.png"
check_eq "sweep udp: no cwnd axis when every cwnd is 0" 2 "$(q "$D.json" 'len(a)')"
check_eq "sweep udp: no repeats, no per-repeat points" 0 \
	"$(q "$D.json" 'sum(c["kind"] == "scatter" for ax in a for c in ax["collections"])')"
# the least-squares slope over the CSV, computed here independently
slope=$(awk -F, 'NR > 1 { n++; sx += $1; sy += $7; sxx += $1 * $1; sxy += $1 * $7 }
	END { printf "%.2f", (n * sxy - sx * sy) / (n * sxx - sx * sx) }' "$FIX/sweep_udp/sweep.csv")
check_eq "sweep udp: fits the line itself ($slope ns/rule)" True \
	"$(q "$D.json" 'any("'"$slope"' ns/rule" in (l["label"] or "") for l in a[1]["lines"])')"
check_eq "sweep udp: title falls back to the directory" "nfcost sweep: sweep_udp" "$(q "$D.json" 'a[0]["title"]')"

# --------------------------------------------------------------- sweep: steps in which the probe saw no packet
# packets 0 = no latency, whatever lat_* hold (0.0, nan, a stale 99999.0):
# such a row counts for throughput only, as in results.c's fit
D=$(fresh sweep_nopackets)
check "no packets: draws the figure" draw sweep "$D"
slope=$(awk -F, 'NR > 1 && $6 > 0 { n++; sx += $1; sy += $7; sxx += $1 * $1; sxy += $1 * $7 }
	END { printf "%.2f", (n * sxy - sx * sy) / (n * sxx - sx * sx) }' "$FIX/sweep_nopackets/sweep.csv")
check_eq "no packets: the fitted slope leaves those rows out ($slope ns/rule)" True \
	"$(q "$D.json" 'any("'"$slope"' ns/rule" in (l["label"] or "") for l in a[1]["lines"])')"
timed=$(awk -F, 'NR > 1 && $6 > 0' "$FIX/sweep_nopackets/sweep.csv" | wc -l)
check_eq "no packets: only rows with packets are latency points" "$timed" \
	"$(q "$D.json" '[c["points"] for c in a[1]["collections"] if c["kind"] == "scatter"][0]')"
check_eq "no packets: mean latency per rule count over those rows; none at 2000 rules" "[5, 4, [406.0, 6303.5]]" \
	"$(q "$D.json" '[[l["points"], l["finite"], l["y"]] for l in a[1]["lines"] if l["label"].startswith("average")][0]')"
check_eq "no packets: their throughput still counts" "[5, 5, [6995.25, 9460.6]]" \
	"$(q "$D.json" '[[l["points"], l["finite"], [round(v, 2) for v in l["y"]]] for l in a[0]["lines"] if l["label"].startswith("throughput")][0]')"

# --------------------------------------------------------------- live
D=$(fresh live)
check "live: draws the figure" draw live "$D"
check "live: results.png is a valid PNG" png_ok "$D/results.png"
# what the iperf3 file holds: its interval count, and its peak in Mbit/s
read -r intervals peak < <("$PY" -c 'import json, sys
iv = json.load(open(sys.argv[1]))["intervals"]
print(len(iv), round(max(i["sum"]["bits_per_second"] for i in iv) / 1e6, 6))' "$D/iperf_results.json")
windows=$(($(wc -l <"$D/bpf_windows.csv") - 1))
t0=$(sed -n 2p "$D/injection.csv" | cut -d, -f1)
t1=$(tail -n 1 "$D/injection.csv" | cut -d, -f1)
check_eq "live: two stacked panels and the cwnd twin" 3 "$(q "$D.json" 'len(a)')"
check_eq "live: panels share the time axis, throughput on top" True \
	"$(q "$D.json" '1 in a[0]["sharex"] and a[0]["position"][1] > a[1]["position"][1]')"
check_eq "live: time axis labelled" "time (s)" "$(q "$D.json" 'a[1]["xlabel"]')"
check_eq "live: throughput line, one point per iperf3 interval" "['throughput (Mbit/s)', $intervals]" \
	"$(q "$D.json" '[a[0]["ylabel"], a[0]["lines"][0]["points"]]')"
check_eq "live: throughput peak = max bits_per_second / 1e6" "$peak" "$(q "$D.json" 'a[0]["lines"][0]["y"][1]')"
check_eq "live: cwnd line on the twin axis, in KB" "[0, 'congestion window (KB)', $intervals, 3274.15]" \
	"$(q "$D.json" '[a[2]["twin_of"], a[2]["ylabel"], a[2]["lines"][0]["points"], a[2]["lines"][0]["y"][1]]')"
check_eq "live: latency is a step plot (post), one point per probe window" "['steps-post', $windows]" \
	"$(q "$D.json" '[a[1]["lines"][0]["drawstyle"], a[1]["lines"][0]["points"]]')"
check_eq "live: step plot spans the windows' starts and lat_avg_ns values" "[[0.0, 10.0], [455.0, 8310.0]]" \
	"$(q "$D.json" '[a[1]["lines"][0]["x"], a[1]["lines"][0]["y"]]')"
check_eq "live: the step line is labelled with the hook" "average per probe interval (LOCAL_OUT)" \
	"$(q "$D.json" 'a[1]["lines"][0]["label"]')"
check_eq "live: axvspan over the injection window on both panels" "True True" \
	"$(q "$D.json" '" ".join(str([s["x"] for s in ax["spans"]] == [['"$t0, $t1"']]) for ax in a[:2])')"

# the human text beside it is not read any more: garbage there changes nothing
echo 'not the format of any block' >"$D/bpf_results.txt"
check "live: bpf_results.txt is not read" draw live "$D"
check_eq "live: ... the same step line" "[$windows, [[0.0, 10.0], [455.0, 8310.0]]]" \
	"$(q "$D.json" '[a[1]["lines"][0]["points"], [a[1]["lines"][0]["x"], a[1]["lines"][0]["y"]]]')"
rm "$D/bpf_results.txt"
check "live: nor needed" draw live "$D"
cp "$FIX/live/bpf_results.txt" "$D/"
# a window in which no packet was timed is a gap, not a latency of 0 ns
sed '2s/^\([^,]*,[^,]*,[^,]*\),[0-9]*,[^,]*,[^,]*,[^,]*,/\1,0,,,,/' "$FIX/live/bpf_windows.csv" >"$D/bpf_windows.csv"
check "live: a window with packets 0" draw live "$D"
check_eq "live: ... leaves a gap, not a 0 ns step" "[$windows, $((windows - 1)), [1262.0, 8310.0]]" \
	"$(q "$D.json" '[a[1]["lines"][0]["points"], a[1]["lines"][0]["finite"], a[1]["lines"][0]["y"]]')"
# a column appended after the eight is ignored, as in sweep.csv
awk '{ print $0 (NR == 1 ? ",cpu" : ",1") }' "$FIX/live/bpf_windows.csv" >"$D/bpf_windows.csv"
check "live: an appended column" draw live "$D"
check_eq "live: ... the same step line" "[$windows, [[0.0, 10.0], [455.0, 8310.0]]]" \
	"$(q "$D.json" '[a[1]["lines"][0]["points"], [a[1]["lines"][0]["x"], a[1]["lines"][0]["y"]]]')"
cp "$FIX/live/bpf_windows.csv" "$D/"
# stopped before the injection started: the figure, without a span
head -n 1 "$FIX/live/injection.csv" >"$D/injection.csv"
check "live: header-only injection.csv still plots" draw live "$D"
check_eq "live: no injection span then" 0 "$(q "$D.json" 'sum(len(ax["spans"]) for ax in a)')"

# --------------------------------------------------------------- compare
D=$(fresh compare)
check "compare: draws the figure" draw compare "$D"
check "compare: compare.png is a valid PNG" png_ok "$D/compare.png"
backends=$(tail -n +2 "$FIX/compare/compare.csv" | cut -d, -f1 | sort -u | wc -l)
check_eq "compare: latency over throughput, sharing the rules axis" "[2, True, 'throughput (Mbit/s)']" \
	"$(q "$D.json" '[len(a), 1 in a[0]["sharex"], a[1]["ylabel"]]')"
check_eq "compare: one latency and one throughput line per backend" "[$backends, $backends]" \
	"$(q "$D.json" '[len(a[0]["lines"]), len(a[1]["lines"])]')"
check_eq "compare: log latency axis when the means span > 20x" log "$(q "$D.json" 'a[0]["yscale"]')"
check_eq "compare: legend, steepest first, with each slope" \
	"['iptables-legacy (3.89 ns/rule)', 'nft (2.59 ns/rule)', 'nft-set (-0.001 ns/rule)']" \
	"$(q "$D.json" 'a[0]["legend"]')"
# nft's step at 3000 rules saw no packet: its slope comes from the other three
awk -F, 'BEGIN { OFS = "," } $1 == "nft" && $2 == 3000 { $7 = 0; $8 = $9 = $10 = "0.0" } { print }' \
	"$FIX/compare/compare.csv" >"$D/compare.csv"
slope=$(awk -F, '$1 == "nft" && $7 > 0 { n++; sx += $2; sy += $8; sxx += $2 * $2; sxy += $2 * $8 }
	END { printf "%.2f", (n * sxy - sx * sy) / (n * sxx - sx * sx) }' "$D/compare.csv")
check "compare: a step without packets" draw compare "$D"
check_eq "compare: ... is no latency point: nft's slope over the other steps" "nft ($slope ns/rule)" \
	"$(q "$D.json" '[t for t in a[0]["legend"] if t.startswith("nft ")][0]')"
check_eq "compare: ... nor a point on nft's latency line" "[4, 3]" \
	"$(q "$D.json" '[[l["points"], l["finite"]] for l in a[0]["lines"] if l["label"].startswith("nft ")][0]')"
awk -F, 'NR == 1 || $2 <= 1000' "$FIX/compare/compare.csv" >"$D/compare.csv"
check "compare: up to 1000 rules" draw compare "$D"
check_eq "compare: linear latency axis when the means span < 20x" linear "$(q "$D.json" 'a[0]["yscale"]')"
echo '{"shape": "addr", "tracer": "fentry", "backends": {"iptables-legacy": {"slope_ns_per_rule": 3.95}}}' \
	>"$D/compare.json"
check "compare: with compare.json" draw compare "$D"
check_eq "compare: slope from compare.json, title from its metadata" "['iptables-legacy (3.95 ns/rule)', True]" \
	"$(q "$D.json" '[a[0]["legend"][0], "addr rules" in a[0]["title"] and "fentry" in a[0]["title"]]')"

# --------------------------------------------------------------- malformed inputs
M=$FIX/malformed
D=$(fresh live live_bad)
cp "$M/iperf_results_truncated.json" "$D/iperf_results.json"
check_exit "live: truncated iperf JSON" 2 "iperf_results.json: truncated JSON" "$PY" "$PLOT" live "$D"
check_eq "live: nothing written for a bad input" no "$([ -e "$D/results.png" ] && echo yes || echo no)"
echo '{"start": {}, "intervals": [], "error": "unable to connect to server: Connection refused"}' \
	>"$D/iperf_results.json"
check_exit "live: iperf3 error and no intervals" 2 "iperf_results.json: no intervals \(iperf3: unable to connect" \
	"$PY" "$PLOT" live "$D"
cp "$FIX/live/iperf_results.json" "$D/"
rm "$D/bpf_windows.csv"
check_exit "live: missing bpf_windows.csv, named, an older run's directory" 2 \
	"bpf_windows.csv: no such file \(only bpf_results.txt is there: an older nfcost wrote this run" \
	"$PY" "$PLOT" live "$D"
rm "$D/bpf_results.txt"
check_exit "live: missing bpf_windows.csv" 2 "$D/bpf_windows.csv: no such file$" "$PY" "$PLOT" live "$D"
cp "$FIX/live/bpf_windows.csv" "$FIX/live/bpf_results.txt" "$D/"
rm "$D/injection.csv"
check_exit "live: missing injection.csv" 2 "injection.csv: no such file" "$PY" "$PLOT" live "$D"
printf 'time_s\n3.0\n' >"$D/injection.csv"
check_exit "live: injection.csv without rules column" 2 "injection.csv: missing column rules" "$PY" "$PLOT" live "$D"

D=$(fresh sweep sweep_bad)
"$PY" "$PLOT" sweep "$D" && cp "$D/sweep.png" "$TMP/good.png"
cp "$M/sweep_missing_column.csv" "$D/sweep.csv"
check_exit "sweep: CSV with a missing column" 2 "sweep.csv: missing column lat_p99_ns" "$PY" "$PLOT" sweep "$D"
check "sweep: a failed run leaves the earlier figure alone" cmp "$D/sweep.png" "$TMP/good.png"
cp "$M/sweep_non_numeric.csv" "$D/sweep.csv"
check_exit "sweep: non-numeric value" 2 "sweep.csv: line 5: column lat_avg_ns: '2374ns' is not a number" \
	"$PY" "$PLOT" sweep "$D"
: >"$D/sweep.csv"
check_exit "sweep: empty CSV" 2 "sweep.csv: empty file" "$PY" "$PLOT" sweep "$D"
head -n 1 "$FIX/sweep/sweep.csv" >"$D/sweep.csv"
check_exit "sweep: header only" 2 "sweep.csv: no data rows" "$PY" "$PLOT" sweep "$D"
cp "$FIX/sweep/sweep.csv" "$D/"
head -c 300 "$FIX/sweep/sweep.json" >"$D/sweep.json"
check_exit "sweep: truncated sweep.json" 2 "sweep.json: truncated JSON" "$PY" "$PLOT" sweep "$D"
sed 's/"r2": [0-9.]*/"r2": "high"/' "$FIX/sweep/sweep.json" >"$D/sweep.json"
check_exit "sweep: non-numeric r2 in sweep.json" 2 "sweep.json: analysis: r2 is \"high\", not a number" \
	"$PY" "$PLOT" sweep "$D"

D=$(fresh compare compare_bad)
cut -d, -f2- "$FIX/compare/compare.csv" >"$D/compare.csv"
check_exit "compare: CSV without backend column" 2 "compare.csv: missing column backend" "$PY" "$PLOT" compare "$D"

# --------------------------------------------------------------- usage and environment
check_exit "no such directory" 2 "$TMP/nope: no such directory" "$PY" "$PLOT" sweep "$TMP/nope"
check_exit "no figure named" 2 "required: FIGURE" "$PY" "$PLOT"
check_exit "unknown figure" 2 "invalid choice: 'bogus'" "$PY" "$PLOT" bogus "$TMP"
check_exit "output not writable" 1 "cannot write $TMP/nope/x.png" \
	"$PY" "$PLOT" sweep "$TMP/sweep" -o "$TMP/nope/x.png"
mkdir -p "$TMP/nompl/matplotlib"
echo 'raise ImportError("No module named matplotlib")' >"$TMP/nompl/matplotlib/__init__.py"
check_exit "matplotlib missing" 1 "matplotlib is not installed for .*python.*: apt-get install python3-matplotlib" \
	env PYTHONPATH="$TMP/nompl" "$PY" "$PLOT" sweep "$TMP/sweep"
check "--help exits 0" "$PY" "$PLOT" --help
check_eq "--help names the four figures" 4 \
	"$("$PY" "$PLOT" --help | grep -cE '^ +(sweep|live|compare|profile) ')"

finish
