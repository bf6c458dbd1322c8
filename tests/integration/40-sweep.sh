#!/bin/bash
# Issue 4's acceptance: a real sweep (TCP and UDP), its files, its numbers,
# and a clean stop on SIGINT.
. "$(dirname "$0")/../lib.sh"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
HEADER=rules,repeat,throughput_mbps,cwnd_kb,retransmits,packets,lat_avg_ns,lat_p50_ns,lat_p99_ns,inject_ms

# tests/run.sh compares the whole host before and after the suite; here only
# what this test could have made.
fw() { iptables-save | grep -v '^#'; iptables-legacy-save | grep -v '^#'; nft list ruleset; ip netns list | grep '^nfcost-sw'; }
fw_before=$(fw)

is_png() { /usr/bin/python3 -c 'import sys,matplotlib.image as m; a=m.imread(sys.argv[1]); sys.exit(not (a.shape[0] > 200 and a.shape[1] > 200))' "$1"; }
col() { # col FILE NAME: the column's values, one per line
	awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } { print $c }' "$1"
}
monotonic() { awk 'NR > 1 && $1 <= prev { bad = 1 } { prev = $1 } END { exit bad }'; }
json() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

sweep_checks() { # sweep_checks LABEL DIR
	local l=$1 d=$2
	# The documented columns first, exactly; new ones only after them.
	check_eq "$l: sweep.csv header starts with the documented columns" "$HEADER" \
		"$(head -1 "$d"/sweep.csv | cut -d, -f1-10)"
	check_eq "$l: 5 rows" 5 "$(tail -n +2 "$d"/sweep.csv | grep -c .)"
	check_eq "$l: rule counts" "0 500 1000 1500 2000" "$(col "$d"/sweep.csv rules | xargs)"
	check "$l: sweep.json parses, names the tracer" test -n "$(json "$d"/sweep.json 'd["tracer"]')"
	check_num "$l: sweep.json has probe_overhead_ns, above 0" \
		"$(json "$d"/sweep.json 'd["probe_overhead_ns"]')" -gt 0
	check_eq "$l: the probe overhead is measured at the largest step too" 2000 \
		"$(json "$d"/sweep.json 'd["probe_overhead"]["largest_step_rules"]')"
	check "$l: report.md gives the probe overhead" grep -q '^- probe overhead (probe_overhead_ns' "$d"/report.md
	check "$l: sweep.png is a real figure" is_png "$d"/sweep.png
	check "$l: report says how latency grows" grep -Eq '^\*\*(Yes, linearly|Mostly linearly|It grows)' "$d"/report.md
	check "$l: report gives the cost per rule and per match" grep -Eq '^[0-9.]+ ns per rule per packet, [0-9.]+ ns per match callback' "$d"/report.md
	check "$l: report answers where throughput degrades" grep -Eq '^(From \*\*[0-9]+ rules\*\* on|Not within this range)' "$d"/report.md
	check "$l: report answers about the congestion window" grep -Eq '^(cwnd went from|UDP has no congestion window|The congestion window did not vary)' "$d"/report.md
	check_eq "$l: one iperf3 JSON per step" 5 "$(find "$d/iperf" -name '*.json' | wc -l)"
	check "$l: every step saw packets" sh -c "! col $d/sweep.csv packets | grep -qx 0"
	check "$l: latency rises monotonically: $(col "$d"/sweep.csv lat_avg_ns | xargs)" \
		bash -c "col $d/sweep.csv lat_avg_ns | monotonic"
	# The cost per rule differs by machine (iptables-legacy addr-port: 30 to 57
	# ns/rule for TCP); that it is there and the growth is a line does not.
	check_num "$l: slope ns/rule" "$(json "$d"/sweep.json 'd["analysis"]["slope_ns_per_rule"]')" -gt 0
	# R² 0.99 and more measured: what the line leaves out is 10 times that at most
	check_num "$l: the latency follows a line, R²" "$(json "$d"/sweep.json 'd["analysis"]["r2"]')" -ge 0.9
	check_eq "$l: sweep.json splits the range at its middle" 1000 \
		"$(json "$d"/sweep.json 'd["analysis"]["split_at_rules"]')"
	# 0..1000 and 1000..2000: three steps each, a chain costs in both halves
	check_num "$l: slope over the lower half" \
		"$(json "$d"/sweep.json 'd["analysis"]["slope_lower_half_ns_per_rule"]')" -gt 0
	check_num "$l: slope over the upper half" \
		"$(json "$d"/sweep.json 'd["analysis"]["slope_upper_half_ns_per_rule"]')" -gt 0
}
export -f col monotonic

# wait_rows CSV N: until a running sweep has written N rows (60 s at most);
# while it runs, the CSV is under its temporary name, .NAME.nfcost-XXXXXXXX
wait_rows() { wait_until 60 has_rows "$1" "$2"; }
has_rows() {
	local f
	f=$(find "$(dirname "$1")" -maxdepth 1 \( -name ".$(basename "$1").nfcost-*" -o \
		-name "$(basename "$1")" \) 2>/dev/null | head -1)
	[ "$(tail -n +2 "$f" 2>/dev/null | grep -c .)" -ge "$2" ]
}
# what a stopped sweep may leave, each empty once it is gone
netns_like() { ip netns list | grep "^$1" || true; }
bpf_nfc() { bpftool "$1" list 2>/dev/null | grep -c 'nfc_' || true; }

check "sweep TCP runs" "$NFCOST" sweep --rules 0:2000:500 -d 1 --backend iptables-legacy --out "$OUT"/tcp
sweep_checks tcp "$OUT"/tcp
check_num "tcp: throughput measured" "$(col "$OUT"/tcp/sweep.csv throughput_mbps | head -1)" -gt 1
check_num "tcp: cwnd measured" "$(col "$OUT"/tcp/sweep.csv cwnd_kb | head -1)" -gt 1

check "sweep UDP 64-byte runs" "$NFCOST" sweep --rules 0:2000:500 -d 1 --backend iptables-legacy --traffic udp --size 64 --out "$OUT"/udp
sweep_checks udp "$OUT"/udp
check_eq "udp: sweep.json says udp" udp "$(json "$OUT"/udp/sweep.json 'd["traffic"]["protocol"]')"
# A UDP datagram leaves each addr-port rule at its "-p tcp" without running a
# match; a TCP segment runs two (tcp, iprange): the UDP slope is the smaller.
tcp_slope=$(json "$OUT"/tcp/sweep.json 'd["analysis"]["slope_ns_per_rule"]')
udp_slope=$(json "$OUT"/udp/sweep.json 'd["analysis"]["slope_ns_per_rule"]')
check_num "udp: a rule costs a datagram less than a TCP segment ($udp_slope vs $tcp_slope ns/rule), difference" \
	"$(awk -v u="$udp_slope" -v t="$tcp_slope" 'BEGIN { print u - t }')" -lt 0

# SIGINT in the middle: the rows so far stay, nothing is left behind.
$NFCOST sweep --rules 0:3000:250 -d 1 --backend iptables-legacy --no-plot --out "$OUT"/int >"$OUT"/int.log 2>&1 &
pid=$!
wait_rows "$OUT"/int/sweep.csv 2
kill -INT $pid
wait $pid
rc=$?
check_eq "interrupted sweep exits 1" 1 "$rc"
rows=$(tail -n +2 "$OUT"/int/sweep.csv | grep -c .)
check_num "interrupted sweep keeps its rows" "$rows" -ge 2
check_eq "sweep.json says interrupted" True "$(json "$OUT"/int/sweep.json 'd["interrupted"]')"
# Its own: other runs' sweeps may be measuring beside it.
check_eq_eventually "no nfcost namespace left" "$GONE_S" "" netns_like "nfcost-sw${pid}_"
# The sweep's children (its iperf3 server and client) carry its command line.
check_eq_eventually "no process of the sweep left running" "$GONE_S" "" procs_of "--out $OUT/int"
check_eq_eventually "no nfcost BPF link left" "$GONE_S" 0 bpf_nfc link
check_eq_eventually "no nfcost BPF program left" "$GONE_S" 0 bpf_nfc prog

# The iperf3 server dies in the middle: the next step restarts it.
$NFCOST sweep --rules 0:2000:500 -d 1 --backend iptables-legacy --no-plot --out "$OUT"/srv >"$OUT"/srv.log 2>&1 &
pid=$!
wait_rows "$OUT"/srv/sweep.csv 1
srvns=$(find /run/netns -maxdepth 1 -name "nfcost-sw${pid}_*-srv" -printf '%f\n')
victim=""
for p in $(pgrep -f -- "--out $OUT/srv"); do
	[ "$(stat -L -c %i /proc/"$p"/ns/net 2>/dev/null)" = "$(stat -L -c %i /run/netns/"$srvns")" ] && victim=$p
done
check "found the sweep's iperf3 server ($victim in $srvns)" test -n "$victim"
kill -9 "$victim"
wait $pid
rc=$?
check_eq "sweep with a killed server still succeeds" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/    /' "$OUT"/srv.log | tail -5
check_eq "and measures every step" 5 "$(tail -n +2 "$OUT"/srv/sweep.csv | grep -c .)"

check_exit "bad --rules" 2 "START:STOP:STEP" "$NFCOST" sweep --rules 5:1
check_exit "bad --traffic" 2 "tcp or udp" "$NFCOST" sweep --traffic sctp
check_exit "--rate without udp" 2 "goes with --traffic udp" "$NFCOST" sweep --rate 10M
check_exit "bpf shape with nft" 2 "use iptables" "$NFCOST" sweep --shape bpf --backend nft
check_eq_eventually "host firewall and namespaces unchanged" "$GONE_S" "$fw_before" fw
finish
