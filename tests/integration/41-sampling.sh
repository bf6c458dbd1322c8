#!/bin/bash
# Sampling in sweeps (--sample N, issue 21): by default the probe times one
# packet in 16 and counts every one; latencies come from the timed packets,
# rates and CPU per packet from all of them. The slope with the default
# sampling matches --sample 1's, measured in the same suite (in the order
# default, every packet, every packet, default, so that a linear drift of
# the machine's speed cancels), and every row says how it was sampled.
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
col() { awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } { print $c }' "$1"; }
slope() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["analysis"]["slope_ns_per_rule"])' "$1"; }
SW=(sweep --rules "0,2000" -d 2 --backend iptables-legacy --no-plot --updates 0)

check "sweep, default sampling" "$NFCOST" "${SW[@]}" --out "$WORK/s16a"
check "sweep, --sample 1" "$NFCOST" "${SW[@]}" --sample 1 --out "$WORK/s1"
check "sweep, --sample 1 again" "$NFCOST" "${SW[@]}" --sample 1 --out "$WORK/s1b"
check "sweep, default sampling again" "$NFCOST" "${SW[@]}" --out "$WORK/s16b"

D=$WORK/s16a
check_eq "every row says one packet in 16 was timed" "16 16" "$(col "$D/sweep.csv" sample_every | xargs)"
check_eq "sweep.json records it" 16 \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sample_every"])' "$D/sweep.json")"
check_eq "--sample 1: every packet" "1 1" "$(col "$WORK/s1/sweep.csv" sample_every | xargs)"
while IFS=, read -r timed seen p50 p99 ci; do
	check_num "every packet counted: packets_seen >= 8x the timed ($seen, $timed)" "$seen" -ge $((timed * 8))
	check_num "... and at most 32x" "$seen" -le $((timed * 32))
	check "the CI of the mean is given ($ci ns)" test -n "$ci"
	check_num "p99 ($p99) >= p50 ($p50)" "$p99" -ge "$p50"
done < <(paste -d, <(col "$D/sweep.csv" packets) <(col "$D/sweep.csv" packets_seen) \
	<(col "$D/sweep.csv" lat_p50_ns) <(col "$D/sweep.csv" lat_p99_ns) <(col "$D/sweep.csv" lat_ci95_ns))
check_eq "with every packet timed, packets_seen == packets" \
	"$(col "$WORK/s1/sweep.csv" packets | xargs)" "$(col "$WORK/s1/sweep.csv" packets_seen | xargs)"
check "report.md says how latencies were sampled" grep -q "timed one packet in 16" "$D/report.md"

a=$(slope "$WORK/s16a/sweep.json"); b=$(slope "$WORK/s16b/sweep.json")
c=$(slope "$WORK/s1/sweep.json"); d=$(slope "$WORK/s1b/sweep.json")
sampled=$(awk -v a="$a" -v b="$b" 'BEGIN { print (a + b) / 2 }')
one=$(awk -v a="$c" -v b="$d" 'BEGIN { print (a + b) / 2 }')
dev=$(awk -v s="$sampled" -v o="$one" 'BEGIN { d = s / o - 1; if (d < 0) d = -d; print d }')
echo "# slope ns/rule: sampled $a and $b (mean $sampled), every packet $c and $d (mean $one): $dev apart"
check_num "the sampled slope is within 10 % of --sample 1's" "$dev" -le 0.10

check_exit "--sample 0 is refused" 2 "from 1 to" "$NFCOST" sweep --sample 0
check_exit "--sample junk is refused" 2 "from 1 to" "$NFCOST" live --sample x
finish
