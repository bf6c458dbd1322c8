#!/bin/bash
# Issue 7's acceptance for compare and shapes: a chain against a set, and
# what match callbacks cost.
. "$(dirname "$0")/../lib.sh"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
json() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

check "compare runs" $NFCOST compare --backends iptables-legacy,nft-set --rules 0:2000:1000 -d 1 --out $OUT/c
for f in compare.csv compare.json compare.png report.md; do
	check "compare wrote $f" test -s $OUT/c/$f
done
check_eq "compare.csv header" "backend,rules,repeat,throughput_mbps,cwnd_kb,retransmits,packets,lat_avg_ns,lat_p50_ns,lat_p99_ns,inject_ms" "$(head -1 $OUT/c/compare.csv)"
check_eq "3 rows per backend" "3 3" "$(grep -c '^iptables-legacy,' $OUT/c/compare.csv) $(grep -c '^nft-set,' $OUT/c/compare.csv)"
legacy=$(json $OUT/c/compare.json 'd["backends"]["iptables-legacy"]["slope_ns_per_rule"]')
set=$(json $OUT/c/compare.json 'd["backends"]["nft-set"]["slope_ns_per_rule"]')
check_num "nft-set slope ($set) under 20 % of iptables-legacy's ($legacy)" \
	"$(awk -v s=$set -v l=$legacy 'BEGIN {print s / l}')" -lt 0.2
check "report says legacy grows linearly" grep -q 'iptables-legacy grows linearly' $OUT/c/report.md
check "report says the set stays flat" grep -q 'nft-set stays flat' $OUT/c/report.md

# More match callbacks per rule cost more per rule.
check "addr shape sweep" $NFCOST sweep --rules 0:2000:1000 -d 1 --backend iptables-legacy --shape addr --no-plot --out $OUT/addr
check "addr-port shape sweep" $NFCOST sweep --rules 0:2000:1000 -d 1 --backend iptables-legacy --shape addr-port --no-plot --out $OUT/ap
a=$(json $OUT/addr/sweep.json 'd["analysis"]["slope_ns_per_rule"]')
ap=$(json $OUT/ap/sweep.json 'd["analysis"]["slope_ns_per_rule"]')
check_num "addr-port slope ($ap) exceeds addr's ($a)" "$(awk -v x=$ap -v y=$a 'BEGIN {print x - y}')" -gt 0
check "bpf shape sweep" $NFCOST sweep --rules 0:1000:1000 -d 1 --backend iptables-legacy --shape bpf --no-plot --out $OUT/bpf
check_num "bpf shape costs per rule" "$(json $OUT/bpf/sweep.json 'd["analysis"]["slope_ns_per_rule"]')" -gt 1
check_exit "unknown backend in the list" 2 "unknown backend 'pf'" $NFCOST compare --backends nft,pf
check_exit "compare without --backends" 2 "needs --backends" $NFCOST compare
finish
