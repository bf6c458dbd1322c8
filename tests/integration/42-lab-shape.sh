#!/bin/bash
# --shape lab: the lab's literal `-p tcp -d X --dport 443`. iptables tests the
# address in the rule header before any match callback, so lab costs about
# what addr costs per rule and far less than addr-port (address last), all
# measured in the same run of this test.
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

slope_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["analysis"]["slope_ns_per_rule"])' "$1"; }
for shape in lab addr addr-port; do
	check "sweep --shape $shape (iptables-legacy)" "$NFCOST" sweep --rules 0:4000:2000 -d 1 \
		--backend iptables-legacy --shape $shape --no-plot --out "$WORK/$shape"
done
lab=$(slope_of "$WORK/lab/sweep.json")
addr=$(slope_of "$WORK/addr/sweep.json")
ap=$(slope_of "$WORK/addr-port/sweep.json")
echo "# ns/rule: lab $lab, addr $addr, addr-port $ap"
check_num "lab costs something per rule" "$lab" -gt 0
check_num "lab costs at most 2x addr per rule" "$lab" -le "$(awk -v a="$addr" 'BEGIN { print 2 * a }')"
check_num "lab costs at least half of addr per rule" "$lab" -ge "$(awk -v a="$addr" 'BEGIN { print a / 2 }')"
check_num "addr-port costs over 3x lab per rule" "$ap" -gt "$(awk -v l="$lab" 'BEGIN { print 3 * l }')"
check "report.md explains the header test" grep -q "rule header, before any match callback" \
	"$WORK/lab/report.md"
finish
