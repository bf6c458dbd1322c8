#!/bin/bash
# Issue 13, part 2: one sweep measures the testbed with offloads on AND off
# (--offload on,off), one testbed per setting visited in a random order at
# every rule count, and report.md compares them: per skb the chain costs
# about the same (one walk per skb), per wire packet it costs as many times
# more with offload off as an skb carried wire packets with offload on.
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# col FILE NAME [OFFLOAD]: the column's values, one per line (only OFFLOAD's rows)
col() {
	awk -F, -v n="$2" -v o="${3:-}" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == n) c = i; if ($i == "offload") k = i }; next }
		o == "" || $k == o { print $c }' "$1"
}
sw_netns() { ip netns list | grep -c '^nfcost-sw' || true; }
BEFORE=$(sw_netns)
json() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

D="$WORK/both"
# shape addr: one check per rule, so TCP skbs and the walk line up with UDP's
check "sweep --offload on,off runs" "$NFCOST" sweep --rules 0:3000:1000 -d 2 --offload on,off \
	--shape addr --backend iptables-legacy --updates 0 --seed 7 --out "$D"
check_eq "the offload column follows packets_per_s (later columns are only appended)" \
	"packets_per_s,offload" "$(head -1 "$D/sweep.csv" | grep -o 'packets_per_s,offload')"
check "the documented columns come first, unchanged" \
	grep -q '^rules,repeat,throughput_mbps,cwnd_kb,retransmits,packets,lat_avg_ns,lat_p50_ns,lat_p99_ns,inject_ms,' "$D/sweep.csv"
check_eq "every rule count has a row with offload on" "0 1000 2000 3000" "$(col "$D/sweep.csv" rules on | xargs)"
check_eq "... and one with offload off" "0 1000 2000 3000" "$(col "$D/sweep.csv" rules off | xargs)"
check_eq "both settings' iperf3 JSON are kept, apart" 8 "$(find "$D/iperf" -name 'offload-o*-rules-*.json' | wc -l)"
check_eq "sweep.json records both settings, in the order named" "on,off on,off" \
	"$(json "$D/sweep.json" '"%s %s" % (d["traffic"]["offload"], ",".join(d["offloads"]["order"]))')"
on_segs=$(json "$D/sweep.json" 'd["offloads"]["on"]["segments_per_packet"]')
echo "# offload on: $on_segs wire packets per skb"
check_num "offload on: more than 10 wire packets per skb" "$on_segs" -gt 10
check_eq "offload off: every skb is one wire packet (segments == packets)" \
	"$(col "$D/sweep.csv" packets off | xargs)" "$(col "$D/sweep.csv" segments off | xargs)"
check_eq "offload off: sweep.json says 1 wire packet per skb" 1.0 "$(json "$D/sweep.json" 'd["offloads"]["off"]["segments_per_packet"]')"
check_eq "\"analysis\" is the first setting's (on)" \
	"$(json "$D/sweep.json" 'd["offloads"]["on"]["slope_ns_per_rule"]')" "$(json "$D/sweep.json" 'd["analysis"]["slope_ns_per_rule"]')"
on=$(json "$D/sweep.json" 'd["offloads"]["on"]["slope_ns_per_rule"]')
off=$(json "$D/sweep.json" 'd["offloads"]["off"]["slope_ns_per_rule"]')
on_seg=$(json "$D/sweep.json" 'd["offloads"]["on"]["slope_ns_per_rule_per_segment"]')
off_seg=$(json "$D/sweep.json" 'd["offloads"]["off"]["slope_ns_per_rule_per_segment"]')
echo "# per skb: on $on, off $off ns/rule; per wire packet: on $on_seg, off $off_seg ns/rule"
r=$(awk -v a="$off" -v b="$on" 'BEGIN { print a / b }')
check_num "per skb the slopes are within 2x of each other (off/on >= 0.5)" "$r" -ge 0.5
check_num "per skb the slopes are within 2x of each other (off/on <= 2)" "$r" -le 2
check_num "per wire packet offload off costs at least a third of the wire packets per skb more" \
	"$(awk -v a="$off_seg" -v b="$on_seg" 'BEGIN { print a / b }')" -ge "$(awk -v s="$on_segs" 'BEGIN { print s / 3 }')"
check_eq "the comparison's ratio is the slopes' own" \
	"$(awk -v a="$off_seg" -v b="$on_seg" 'BEGIN { printf "%.3f", a / b }')" \
	"$(json "$D/sweep.json" '"%.3f" % d["offloads"]["comparison"]["slope_per_segment_off_over_on"]')"
check "report.md has the section \"Offload on and off\"" grep -q '^## Offload on and off$' "$D/report.md"
sec=$(sed -n '/^## Offload on and off$/,$p' "$D/report.md")
check "... with the per-skb slope of offload on" grep -q "$(printf '%.2f' "$on")" <<<"$sec"
check "... and of offload off" grep -q "$(printf '%.2f' "$off")" <<<"$sec"
check "... with both per-wire-packet slopes" grep -q "| per wire packet: ns per rule | $(printf '%.3f' "$on_seg") | $(printf '%.3f' "$off_seg") |" <<<"$sec"
check "... and what it means for a router" grep -q "What it means for a router" <<<"$sec"
check "the main sections say which setting they describe" grep -q "the sections below are for offload \*\*on\*\*" "$D/report.md"
check_eq "the figure has a line per setting" "offload off offload on" \
	"$(/usr/bin/python3 "$ROOT/scripts/plot_results.py" sweep "$D" --output "$WORK/fig.png" --describe |
	   /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(sorted({l["label"].split(" (")[0] for l in d["axes"][1]["lines"]})))')"

# In rounds: both settings in every round, visits named by setting.
R="$WORK/rounds"
check "sweep --offload off,on --repeat 2 runs" "$NFCOST" sweep --rules 0:1000:1000 -d 1 --repeat 2 \
	--offload off,on --traffic udp --backend iptables-legacy --no-plot --updates 0 --out "$R"
check_eq "8 rows: 2 counts x 2 settings x 2 rounds" 8 "$(tail -n +2 "$R/sweep.csv" | grep -c .)"
check_eq "rounds: a spread per setting" "['off', 'on']" "$(json "$R/sweep.json" 'sorted(d["rounds"]["offloads"])')"
check_eq "every visit names its setting" "off on" \
	"$(json "$R/sweep.json" '" ".join(sorted({v["offload"] for r in d["rounds"]["visits"] for v in r}))')"
check_eq "\"analysis\" is the first named setting's (off)" \
	"$(json "$R/sweep.json" 'd["offloads"]["off"]["slope_ns_per_rule"]')" "$(json "$R/sweep.json" 'd["analysis"]["slope_ns_per_rule"]')"

check_exit "--offload rejects junk" 2 "on or off, or both as on,off" "$NFCOST" sweep --offload on,maybe
check_exit "--offload rejects a setting named twice" 2 "on or off, or both as on,off" "$NFCOST" sweep --offload off,off
check_exit "compare takes one setting" 2 "compare measures one offload setting" \
	"$NFCOST" compare --backends nft --offload on,off
check_exit "drop mode takes one setting" 2 "give one setting with --hit-traffic" \
	"$NFCOST" sweep --offload on,off --hit-traffic
check_exit "live takes one setting" 2 "on or off" "$NFCOST" live --offload on,off
check_eq_eventually "no namespace of the four testbeds is left" "$GONE_S" "$BEFORE" sw_netns
finish
