#!/bin/bash
# Log-spaced sweeps (--rules as a list and as START:STOP:xF), the growth
# exponent that says "linear" or "flat" across decades, and updates.csv:
# the cost of changing one rule at every step.
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[int(k)] if isinstance(d, list) else d[k]
print(d)' "$@"; }

check "sweep --rules as a list (iptables-legacy)" "$NFCOST" sweep --rules 0,300,1000,3000,10000 \
	-d 1 --backend iptables-legacy --no-plot --out "$WORK/legacy"
check "sweep --rules as a list (nft-set)" "$NFCOST" sweep --rules 0,300,1000,3000,10000 \
	-d 1 --backend nft-set --no-plot --out "$WORK/set"
check_eq "sweep.csv has a row per listed count" "0 300 1000 3000 10000" \
	"$(tail -n +2 "$WORK/legacy/sweep.csv" | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//')"
check_eq "sweep.json lists the counts" "[0, 300, 1000, 3000, 10000]" "$(json "$WORK/legacy/sweep.json" rules.counts)"
check_eq "and has no step for uneven counts" "None" "$(json "$WORK/legacy/sweep.json" rules.step)"
k=$(json "$WORK/legacy/sweep.json" analysis.growth_exponent)
check_num "a linear chain's growth exponent is near 1 (>= 0.8)" "$k" -ge 0.8
check_num "a linear chain's growth exponent is near 1 (<= 1.2)" "$k" -le 1.2
ks=$(json "$WORK/set/sweep.json" analysis.growth_exponent)
check_num "a set's growth exponent is near 0 (>= -0.2)" "$ks" -ge -0.2
check_num "a set's growth exponent is near 0 (<= 0.2)" "$ks" -le 0.2
check_eq "updates.csv has its header" "rules,add_ms,delete_ms,reps" "$(head -1 "$WORK/legacy/updates.csv")"
check_eq "updates.csv has a row per count" "5" "$(tail -n +2 "$WORK/legacy/updates.csv" | grep -c .)"
# iptables-legacy rewrites the whole table: one more rule costs more in a longer chain
a0=$(sed -n 2p "$WORK/legacy/updates.csv" | cut -d, -f2)
a4=$(sed -n 6p "$WORK/legacy/updates.csv" | cut -d, -f2)
check_num "iptables-legacy: adding one rule to 10000 costs over 2x adding it to 0" "$a4" -gt \
	"$(awk -v a="$a0" 'BEGIN { print 2 * a }')"
s0=$(sed -n 2p "$WORK/set/updates.csv" | cut -d, -f2)
s4=$(sed -n 6p "$WORK/set/updates.csv" | cut -d, -f2)
check_num "nft-set: adding one element to 10000 costs under 3x adding it to 0" "$s4" -lt \
	"$(awk -v a="$s0" 'BEGIN { print 3 * a }')"
check "report.md answers the update question" grep -q "cost of changing one rule grow" "$WORK/legacy/report.md"
check "START:STOP:xF is log-spaced" "$NFCOST" sweep --rules 10:1000:x10 -d 1 --backend nft-set \
	--no-plot --updates 0 --out "$WORK/geo"
check_eq "10:1000:x10 measures 10, 100, 1000" "10 100 1000" \
	"$(tail -n +2 "$WORK/geo/sweep.csv" | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//')"
check "--updates 0 writes no updates.csv" test ! -e "$WORK/geo/updates.csv"
check_exit "a list that does not grow is bad usage" 2 "grow" "$NFCOST" sweep --rules 5,3
check_exit "a geometric spec from 0 is bad usage" 2 "START >= 1" "$NFCOST" sweep --rules 0:10:x2
finish
