#!/bin/bash
# Per wire packet and total CPU: the probe counts the wire packets in each
# skb (one per UDP datagram; tens per TSO skb of TCP on the veth pair), and
# a rule's total CPU cost per skb is at least what the hooks account for.
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
col() { awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } { print $c }' "$1"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["analysis"]; v=d[sys.argv[2]]; print(v if not isinstance(v, list) else " ".join(map(str, v)))' "$@"; }

check "UDP 64-byte sweep" "$NFCOST" sweep --rules 0:1000:1000 -d 1 --traffic udp --size 64 \
	--backend iptables-legacy --no-plot --updates 0 --out "$WORK/udp"
check_eq "UDP: every skb is one wire packet (segments == packets)" \
	"$(col "$WORK/udp/sweep.csv" packets | xargs)" "$(col "$WORK/udp/sweep.csv" segments | xargs)"
check_eq "UDP: sweep.json says one segment per packet" "1.0" "$(json "$WORK/udp/sweep.json" segments_per_packet)"

check "TCP sweep (TSO on the veth pair)" "$NFCOST" sweep --rules 0:4000:2000 -d 2 \
	--backend iptables-legacy --no-plot --updates 0 --out "$WORK/tcp"
seg=$(json "$WORK/tcp/sweep.json" segments_per_packet)
echo "# TCP: $seg wire packets per skb"
check_num "TCP: more than 10 wire packets per skb" "$seg" -gt 10
p=$(col "$WORK/tcp/sweep.csv" packets | head -1); s=$(col "$WORK/tcp/sweep.csv" segments | head -1)
lat=$(col "$WORK/tcp/sweep.csv" lat_avg_ns | head -1); lps=$(col "$WORK/tcp/sweep.csv" lat_per_segment_ns | head -1)
check_num "TCP: the per-segment time is the per-skb time spread over the segments (within 1 %)" \
	"$(awk -v l="$lat" -v p="$p" -v s="$s" -v x="$lps" 'BEGIN { e = l * p / s; d = x - e; if (d < 0) d = -d; print d / e }')" -le 0.01
read -r hook_lo hook_hi <<<"$(json "$WORK/tcp/sweep.json" slope_ci95)"
hook=$(json "$WORK/tcp/sweep.json" slope_ns_per_rule)
cpu=$(json "$WORK/tcp/sweep.json" cpu_slope_ns_per_rule)
read -r cpu_lo cpu_hi <<<"$(json "$WORK/tcp/sweep.json" cpu_slope_ci95)"
echo "# TCP: hook slope $hook ($hook_lo..$hook_hi), total CPU slope $cpu ($cpu_lo..$cpu_hi) ns/rule"
check_num "the total-CPU slope is positive" "$cpu" -gt 0
check_num "the total-CPU slope reaches at least the hook slope's interval" "$cpu_hi" -ge "$hook_lo"
check "report.md says what small-packet traffic pays" grep -q "small packets" "$WORK/tcp/report.md"
check "report.md gives the hooks' share of a rule's cost" grep -q "the hooks account for" "$WORK/tcp/report.md"
# --offload off: one skb per wire packet, as on a router; then a rule costs a
# TCP skb what it costs a UDP datagram (shape addr: one check for either).
check "TCP sweep with --offload off (shape addr)" "$NFCOST" sweep --rules 0:2000:1000 -d 2 \
	--offload off --shape addr --backend iptables-legacy --no-plot --updates 0 --out "$WORK/off"
check "UDP 64-byte sweep (shape addr)" "$NFCOST" sweep --rules 0:2000:1000 -d 2 --traffic udp \
	--size 64 --shape addr --backend iptables-legacy --no-plot --updates 0 --out "$WORK/udpaddr"
check_eq "offload off: every skb is one wire packet" \
	"$(col "$WORK/off/sweep.csv" packets | xargs)" "$(col "$WORK/off/sweep.csv" segments | xargs)"
check_eq "sweep.json records the offload setting" "off" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["traffic"]["offload"])' "$WORK/off/sweep.json")"
tcp_off=$(json "$WORK/off/sweep.json" slope_ns_per_rule)
udp_addr=$(json "$WORK/udpaddr/sweep.json" slope_ns_per_rule)
echo "# shape addr: TCP without offloads $tcp_off ns/rule per skb, UDP $udp_addr"
ratio=$(awk -v a="$tcp_off" -v b="$udp_addr" 'BEGIN { print a / b }')
check_num "offload off: the per-skb slope is within 2x of UDP's (>= 0.5)" "$ratio" -ge 0.5
check_num "offload off: the per-skb slope is within 2x of UDP's (<= 2)" "$ratio" -le 2
check_exit "--offload takes on or off" 2 "on or off" "$NFCOST" sweep --offload maybe

# --streams N: N flows at once; packets_per_s is the rate through the hook.
check "UDP sweep with --streams 3" "$NFCOST" sweep --rules 0:0:1 -d 2 --traffic udp --size 64 \
	--streams 3 --backend nft-set --no-plot --updates 0 --out "$WORK/streams"
check_eq "iperf3 ran three streams" 3 "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["start"]["connected"]))' "$WORK"/streams/iperf/*.json)"
check_eq "sweep.json records them" 3 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["traffic"]["streams"])' "$WORK/streams/sweep.json")"
pps=$(col "$WORK/streams/sweep.csv" packets_per_s); pk=$(col "$WORK/streams/sweep.csv" packets_seen)
# The window holds the 2 s of traffic and lies within the run: how much
# longer than 2 s it is depends on the machine's speed and load.
wall=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["wall_s"])' "$WORK/streams/sweep.json")
check_num "packets_per_s is every packet over the window: at least packets_seen / the run's wall time ($wall s)" \
	"$pps" -ge "$(awk -v p="$pk" -v w="$wall" 'BEGIN { print p / w }')"
check_num "... and at most packets_seen / the 2 s of traffic" "$pps" -le "$(awk -v p="$pk" 'BEGIN { print p / 1.95 }')"
check_exit "--streams takes 1 to 128" 2 "from 1 to 128" "$NFCOST" sweep --streams 0
finish
