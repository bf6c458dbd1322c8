#!/bin/bash
# --hook forward: a routed testbed (cli <-> rtr <-> srv) whose router holds
# the rules and the probe; its lifecycle, a sweep through it, and the removal
# of a SIGKILLed routed run.
. "$(dirname "$0")/../lib.sh"
OUT=$(mktemp -d)
T=fw$$
CLI=nfcost-$T-cli
RTR=nfcost-$T-rtr
SRV=nfcost-$T-srv
trap '$NFCOST testbed down --name $T >/dev/null 2>&1; rm -rf "$OUT"' EXIT

# Only what this test could have made: other testbeds may come and go beside it.
fw() { iptables-save | grep -v '^#'; iptables-legacy-save | grep -v '^#'; nft list ruleset; cat /proc/sys/net/ipv4/ip_forward; }
fw_before=$(fw)
links_before=$(ip -o link show | awk '{print $2}' | sort)
col() { # col FILE NAME: the column's values, one per line
	awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } { print $c }' "$1"
}
monotonic() { awk 'NR > 1 && $1 <= prev { bad = 1 } { prev = $1 } END { exit bad }'; }
json() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
export -f col monotonic

# --- the routed testbed by itself ---
check "testbed up --routed" $NFCOST testbed up --routed --name $T
check "three namespaces" sh -c "ip netns list | grep -q '^$CLI' && ip netns list | grep -q '^$RTR' && ip netns list | grep -q '^$SRV'"
check "cli side has 198.18.1.1/30" sh -c "ip -n $CLI -o addr show | grep -q '198.18.1.1/30'"
check "server keeps 198.18.0.2/30" sh -c "ip -n $SRV -o addr show | grep -q '198.18.0.2/30'"
check "cli routes through the router" sh -c "ip -n $CLI route show default | grep -q 'via 198.18.1.2'"
check "srv routes back through the router" sh -c "ip -n $SRV route | grep -q '198.18.1.0/30 via 198.18.0.1'"
check_eq "forwarding on in the router" 1 "$(ip netns exec $RTR cat /proc/sys/net/ipv4/ip_forward)"
check_eq "forwarding off at the ends" "0 0" "$(ip netns exec $CLI cat /proc/sys/net/ipv4/ip_forward) $(ip netns exec $SRV cat /proc/sys/net/ipv4/ip_forward)"
check "TCP connect cli -> 198.18.0.2 through the router" \
	ip netns exec $CLI bash -c 'exec 3<>/dev/tcp/198.18.0.2/443'
check "status names the router and a running server" \
	sh -c "$NFCOST testbed status --name $T | grep -q '$RTR.*server running'"
check_exit "up twice is refused" 2 "already exists" $NFCOST testbed up --routed --name $T
check_exit "--routed with down" 2 "goes with 'testbed up'" $NFCOST testbed down --routed --name $T
check "testbed down" $NFCOST testbed down --name $T
check_eq "no namespace of it left" "" "$(ip netns list | grep "^nfcost-$T-" || true)"
check_eq "ip link as before" "$links_before" "$(ip -o link show | awk '{print $2}' | sort)"
check "no state left in /run/nfcost" test ! -e /run/nfcost/$T

# --- a sweep on the FORWARD hook ---
# Run in the background to know its pid, hence its testbed's name, and to
# look into the router while it measures.
D=$OUT/fwd
$NFCOST sweep --hook forward --rules 0:1000:500 -d 1 --backend iptables-legacy --out $D --no-plot >$OUT/fwd.log 2>&1 &
spid=$!
SW=nfcost-sw${spid}_0
max_fwd=0 cli_rules=0
while kill -0 $spid 2>/dev/null; do
	n=$(ip netns exec $SW-rtr iptables-legacy-save -t filter 2>/dev/null | grep -c '^-A FORWARD')
	[ "${n:-0}" -gt "$max_fwd" ] && max_fwd=$n
	c=$(ip netns exec $SW-cli iptables-legacy-save -t filter 2>/dev/null | grep -c '^-A ')
	[ "${c:-0}" -gt "$cli_rules" ] && cli_rules=$c
	sleep 0.1
done
wait $spid
rc=$?
check_eq "sweep --hook forward exits 0 ($(tail -1 $OUT/fwd.log))" 0 $rc
check_num "the router's FORWARD chain held the rules" "$max_fwd" -ge 500
check_eq "no rule on the cli side" 0 "$cli_rules"
check_eq "sweep.json: hook forward" forward "$(json $D/sweep.json 'd["hook"]')"
check_eq "3 rows" "0 500 1000" "$(col $D/sweep.csv rules | xargs)"
check "every step saw packets" sh -c "! col $D/sweep.csv packets | grep -qx 0"
check "latency rises monotonically: $(col $D/sweep.csv lat_avg_ns | xargs)" \
	bash -c "col $D/sweep.csv lat_avg_ns | monotonic"
slope=$(json $D/sweep.json 'd["analysis"]["slope_ns_per_rule"]')
check_num "forward slope ns/rule" "$slope" -gt 1
check_num "forward slope ns/rule" "$slope" -le 100
check_eq "no namespace of the sweep left" "" "$(ip netns list | grep "^$SW" || true)"

# --- a routed sweep SIGKILLed midway: testbed down removes all of it ---
setsid $NFCOST sweep --hook forward --rules 0:3000:100 -d 1 --backend iptables-legacy --no-plot --out $OUT/kill >$OUT/kill.log 2>&1 &
kpid=$!
KN=sw${kpid}_0
for i in $(seq 1 100); do
	[ -s /run/nfcost/$KN/server.pid ] && [ "$(tail -n +2 $OUT/kill/sweep.csv 2>/dev/null | grep -c .)" -ge 1 ] && break
	sleep 0.1
done
kill -9 $kpid 2>/dev/null
wait $kpid 2>/dev/null
srv_pid=$(cat /run/nfcost/$KN/server.pid 2>/dev/null)
check_eq "the killed sweep left its router behind" "nfcost-$KN-rtr" "$(ip netns list | grep -o "^nfcost-$KN-rtr" || true)"
check "status lists the leftover router" sh -c "$NFCOST testbed status --name $KN | grep -q 'nfcost-$KN-rtr'"
if [ -z "${NFCOST_TEST_NO_GLOBAL_CLEANUP:-}" ]; then
	# `cleanup` removes every testbed, so developers working beside others skip it.
	out=$($NFCOST cleanup)
	check "cleanup names the router namespace" sh -c "echo '$out' | grep -q 'namespace nfcost-$KN-rtr'"
else
	check "testbed down removes the killed routed testbed" $NFCOST testbed down --name $KN
fi
check_eq "no namespace of the killed sweep left" "" "$(ip netns list | grep "^nfcost-$KN-" || true)"
check "its iperf3 server is gone" sh -c "[ -n '$srv_pid' ] && { ! kill -0 $srv_pid 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' /proc/$srv_pid/stat; }"
check "no state left in /run/nfcost" test ! -e /run/nfcost/$KN
check_eq "no process of the killed sweep left" "" "$(ps -eo stat=,args= | grep -F -- "--out $OUT/kill" | grep -v -e grep -e '^Z')"

check_exit "unknown hook" 2 "output, input or forward" $NFCOST sweep --hook sideways
check_eq "host firewall and ip_forward unchanged" "$fw_before" "$(fw)"
check_eq "ip link as before" "$links_before" "$(ip -o link show | awk '{print $2}' | sort)"
finish
