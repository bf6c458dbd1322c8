#!/bin/bash
# Issue 5's acceptance: injection during one run, its four files and the
# latency rise between the first and the last intervals.
. "$(dirname "$0")/../lib.sh"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
D=$OUT/live
# what a run may leave, each empty once it is gone
netns_lv() { ip netns list | grep '^nfcost-lv' || true; }

check "live runs" sh -c "$NFCOST live -d 20 --inject-at 5 --rules 2000 --inject-rate 200 -i 2 --out $D > $OUT/live.out"
check "live reports its batches' transaction times" grep -Eq '^live: 10 batches, one transaction each: mean [0-9.]+ ms, max [0-9.]+ ms$' "$OUT"/live.out
for f in iperf_results.json bpf_results.txt injection.csv results.png; do
	check "live wrote $f" test -s "$D"/$f
done
avgs=$(sed -n 's/^ *count [0-9]* avg \([0-9]*\) ns.*/\1/p' "$D"/bpf_results.txt)
n=$(echo "$avgs" | grep -c .)
check_num "bpf_results.txt intervals" "$n" -ge 8
first=$(echo "$avgs" | head -2 | awk '{s += $1} END {print s / NR}')
last=$(echo "$avgs" | tail -2 | awk '{s += $1} END {print s / NR}')
# 2000 iptables-nft rules at 47 to 86 ns each on the machines measured, over
# an empty chain's few hundred ns: 200 to 400 times; at least 10 times on any.
check_num "latency rise, last two intervals over first two (ns): $first -> $last, ratio" \
	"$(awk -v a="$first" -v b="$last" 'BEGIN { print (a > 0 ? b / a : 0) }')" -ge 10
check_eq "injection.csv header" "time_s,rules" "$(head -1 "$D"/injection.csv)"
check_eq "injection ends at 2000 rules" 2000 "$(tail -1 "$D"/injection.csv | cut -d, -f2)"
check_num "injection starts at --inject-at" "$(sed -n 2p "$D"/injection.csv | cut -d, -f1)" -ge 5
check "iperf_results.json is iperf3's -J format" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
iv = d["intervals"]
assert len(iv) >= 18, len(iv)
assert all(i["sum"]["bits_per_second"] > 0 for i in iv)
assert all(i["streams"][0]["snd_cwnd"] > 0 for i in iv)' "$D"/iperf_results.json
check "results.png is a real figure" /usr/bin/python3 -c 'import sys,matplotlib.image as m; a=m.imread(sys.argv[1]); sys.exit(not (a.shape[0] > 200))' "$D"/results.png
# Ctrl-C in the middle: what was measured so far is written and plotted.
$NFCOST live -d 30 --inject-at 2 --rules 5000 --inject-rate 500 -i 1 --out "$OUT"/int >"$OUT"/int.log 2>&1 &
pid=$!
# five probe intervals written (60 s at most), well inside the 30 s run;
# while it runs the file is under its temporary name (.NAME.nfcost-XXXXXXXX)
# cat | grep -c: a number also before the file exists (grep alone prints none)
wait_until 60 sh -c "[ \$(cat $OUT/int/.bpf_results.txt.nfcost-* 2>/dev/null | grep -c ' t=') -ge 5 ]"
kill -INT $pid
wait $pid
check_eq "interrupted live exits 1" 1 "$?"
check "interrupted live: iperf_results.json with the intervals so far" /usr/bin/python3 -c '
import json, sys
iv = json.load(open(sys.argv[1]))["intervals"]
assert 3 <= len(iv) < 30, len(iv)' "$OUT"/int/iperf_results.json
check_num "interrupted live: probe intervals kept" "$(grep -c ' t=' "$OUT"/int/bpf_results.txt)" -ge 3
check "interrupted live: results.png drawn" test -s "$OUT"/int/results.png
check_eq_eventually "interrupted live: no namespace left" "$GONE_S" "" netns_lv
check_eq_eventually "interrupted live: no process of it left" "$GONE_S" "" procs_of "--out $OUT/int"
check_exit "inject-at after the end" 2 "before the end of the run" "$NFCOST" live -d 10 --inject-at 20
check_eq_eventually "no nfcost namespace left" "$GONE_S" "" netns_lv
finish
