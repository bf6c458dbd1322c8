#!/bin/bash
# Issue 7's acceptance for compare and shapes: a chain against a set, and
# what match callbacks cost.
. "$(dirname "$0")/../lib.sh"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
json() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

check "compare runs" "$NFCOST" compare --backends iptables-legacy,nft-set --rules 0:2000:1000 -d 1 --out "$OUT"/c
for f in compare.csv compare.json compare.png report.md; do
	check "compare wrote $f" test -s "$OUT"/c/$f
done
check_eq "compare.csv header starts with backend and the documented columns" "backend,rules,repeat,throughput_mbps,cwnd_kb,retransmits,packets,lat_avg_ns,lat_p50_ns,lat_p99_ns,inject_ms" "$(head -1 "$OUT"/c/compare.csv | cut -d, -f1-11)"
check_eq "3 rows per backend" "3 3" "$(grep -c '^iptables-legacy,' "$OUT"/c/compare.csv) $(grep -c '^nft-set,' "$OUT"/c/compare.csv)"
legacy=$(json "$OUT"/c/compare.json 'd["backends"]["iptables-legacy"]["slope_ns_per_rule"]')
set=$(json "$OUT"/c/compare.json 'd["backends"]["nft-set"]["slope_ns_per_rule"]')
check_num "nft-set slope ($set) under 20 % of iptables-legacy's ($legacy)" \
	"$(awk -v s="$set" -v l="$legacy" 'BEGIN {print s / l}')" -lt 0.2
check "report says legacy grows" grep -q 'iptables-legacy grows' "$OUT"/c/report.md
check "report says the set stays flat" grep -q 'nft-set stays flat' "$OUT"/c/report.md

# More match callbacks per rule cost more per rule.
check "addr shape sweep" "$NFCOST" sweep --rules 0:2000:1000 -d 1 --backend iptables-legacy --shape addr --no-plot --out "$OUT"/addr
check "addr-port shape sweep" "$NFCOST" sweep --rules 0:2000:1000 -d 1 --backend iptables-legacy --shape addr-port --no-plot --out "$OUT"/ap
a=$(json "$OUT"/addr/sweep.json 'd["analysis"]["slope_ns_per_rule"]')
ap=$(json "$OUT"/ap/sweep.json 'd["analysis"]["slope_ns_per_rule"]')
check_num "addr-port slope ($ap) exceeds addr's ($a)" "$(awk -v x="$ap" -v y="$a" 'BEGIN {print x - y}')" -gt 0
check "bpf shape sweep" "$NFCOST" sweep --rules 0:1000:1000 -d 1 --backend iptables-legacy --shape bpf --no-plot --out "$OUT"/bpf
check_num "bpf shape costs per rule" "$(json "$OUT"/bpf/sweep.json 'd["analysis"]["slope_ns_per_rule"]')" -gt 1
# Drops: the last rule matches the test traffic with DROP; UDP datagrams stop
# in LOCAL_OUT, and sendto() says EPERM for each.
for b in iptables-legacy nft; do
	check "$b: drop mode sweep" "$NFCOST" sweep --rules 0:1000:1000 --verdict drop --hit-traffic --packets 500 --backend $b --no-plot --out "$OUT"/drop-$b
	d=$OUT/drop-$b/sweep.json
	check_eq "$b: datagrams sent" 1000 "$(json "$d" 'd["drops"]["sent"]')"
	check_eq "$b: sendto refused with EPERM" 1000 "$(json "$d" 'd["drops"]["send_eperm"]')"
	check_eq "$b: drop count at LOCAL_OUT equals the datagrams" 1000 "$(json "$d" 'd["drops"]["by_hook"]["LOCAL_OUT"]["lost"]')"
	check_eq "$b: none reached POST_ROUTING" 0 "$(json "$d" 'd["drops"]["by_hook"]["POST_ROUTING"]["entered"]')"
	check_eq "$b: the path is cut at LOCAL_OUT" LOCAL_OUT "$(json "$d" 'd["drops"]["cut_at"]')"
	check "$b: report says where" grep -q '\*\*At LOCAL_OUT\*\*: 1000 packets' "$OUT"/drop-$b/report.md
	check_eq "$b: drops.csv, one LOCAL_OUT row per step" "0,500 1000,500" "$(awk -F, '$5 == "LOCAL_OUT" {print $1 "," $7}' "$OUT"/drop-$b/drops.csv | xargs)"
done
check "accept verdict with the hit rule: TCP flows" "$NFCOST" sweep --rules 0:500:500 -d 1 --verdict accept --hit-traffic --backend iptables-legacy --no-plot --out "$OUT"/acc
# TCP flows through the chain to its accepting last rule: 500 rules cost each
# skb microseconds, far from stopping the flow (a tenth of the empty chain's
# throughput in the same run; what that is depends on the machine).
acc0=$(awk -F, 'NR == 2 {print $3}' "$OUT"/acc/sweep.csv)
check_num "accept: throughput at 500 rules, against a tenth of the empty chain's ($acc0 Mbit/s)" \
	"$(awk -F, 'NR == 3 {print $3}' "$OUT"/acc/sweep.csv)" -gt "$(awk -v a="${acc0:-0}" 'BEGIN { print a / 10 }')"
check_num "... which flowed too" "${acc0:-0}" -gt 0
check_exit "--packets without drop mode" 2 "goes with --hit-traffic" "$NFCOST" sweep --packets 10
check_exit "unknown backend in the list" 2 "unknown backend 'pf'" "$NFCOST" compare --backends nft,pf
check_exit "compare without --backends" 2 "needs --backends" "$NFCOST" compare
finish
