#!/bin/bash
# The connection workloads (src/traffic/conn.c, conn_server.c) and
# kube-proxy's rule sets (src/rules/kubeproxy.c) against the real kernel,
# driven by tests/tools/conn-tool.c (no CLI yet): crr and rr between the
# testbed's namespaces complete transactions with none failed, and rr's
# rate beats crr's; a crr run to a port where nothing listens counts its
# refusals and fails with one line, exit 1; kube-proxy's iptables layout of
# 1,000 Services loads with one iptables-restore (iptables-nft), and its
# nftables layout with one nft -f, in the client namespace, and connections
# to the measured Service's ClusterIP reach the real server through the
# DNAT (both endpoints); each mode's partial sync adding one Service loads
# on top; 5,000 Services (iptables mode) lower the crr rate against none,
# measured in the same run (the nftables layout's rate is shown beside). Everything made is removed (servers by PID).
. "$(dirname "$0")/../lib.sh"
T=cn$$
CLI_NAME=nfcost-$T-cli
CLI=/run/netns/$CLI_NAME
SRV=/run/netns/nfcost-$T-srv
WORK=$(mktemp -d)
SECS=${CONN_SECS:-2}
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do "$TOOL" stop "$p" >/dev/null 2>&1; done
	$NFCOST testbed down --name $T >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT

LIB="$ROOT/${BUILD:-build}/libnfcost.a"
SAN=""
nm "$LIB" 2>/dev/null | grep -q __asan_ && SAN="-fsanitize=address,undefined"
TOOL=$WORK/conn-tool
# shellcheck disable=SC2046,SC2086
check "conn-tool builds against libnfcost.a" ${CC:-cc} -std=c11 -D_GNU_SOURCE -I"$ROOT/src" \
	$SAN -o $TOOL "$ROOT/tests/tools/conn-tool.c" "$LIB" $(sed -n 's/^LDLIBS *:= *//p' "$ROOT/Makefile")

# --- bad input: one line, exit 2, before anything runs ---
check_exit "no arguments: usage" 2 "usage" "$TOOL"
check_exit "--size 0" 2 "size" "$TOOL" run - crr 198.18.0.2 8080 0 1 1
check_exit "--size beyond 64 KiB" 2 "64 KiB" "$TOOL" run - crr 198.18.0.2 8080 1:65537 1 1
check_exit "--endpoints 0" 2 "endpoints" "$TOOL" render iptables 10 endpoints=0 ep=198.18.0.2:8080
check_exit "unknown Service position" 2 "position" "$TOOL" render nft 10 position=centre ep=198.18.0.2:8080
check_exit "unknown workload" 2 "workload" "$TOOL" run - tcp_crr 198.18.0.2 8080 1 1 1

"$NFCOST" testbed up --name "$T" >/dev/null || { fail "testbed up"; finish; exit; }
# A client namespace's route to the ClusterIPs: the DNAT in nat OUTPUT
# comes after the route lookup, which must find one.
ip netns exec $CLI_NAME ip route add 240.0.0.0/12 via 198.18.0.2

# start_server PORT: a server in the srv namespace, its PID kept
start_server() {
	local pid
	pid=$("$TOOL" server $SRV 198.18.0.2 "$1" 1:1) || return 1
	PIDS+=("$pid")
}
if start_server 8080 && start_server 8081; then
	pass "servers in the srv namespace on :8080 and :8081"
else
	fail "servers start"
fi

# run NAME MODE DST PORT [STREAMS]: the client's "key value" lines into $WORK/NAME
NICE=()
run() {
	"${NICE[@]}" "$TOOL" run $CLI "$2" "$3" "$4" 1:1 "${5:-1}" "$SECS" >"$WORK/$1" 2>"$WORK/$1.err"
}
val() { sed -n "s/^$2 //p" "$WORK/$1"; }

check "crr from the client namespace" run crr crr 198.18.0.2 8080
check_num "crr: transactions/s" "$(val crr tps)" -gt 0
check_eq "crr: no failed transaction" 0 "$(val crr failed)"
check_num "crr: p50 <= p99 <= max" "$(val crr p50_us)" -le "$(val crr p99_us)"
check "rr from the client namespace" run rr rr 198.18.0.2 8080
check_eq "rr: no failed transaction" 0 "$(val rr failed)"
check_num "rr's rate beats crr's (one connection against one per transaction)" "$(val rr tps)" -gt "$(val crr tps)"
check "crr with 4 streams" run crr4 crr 198.18.0.2 8080 4
check_eq "crr with 4 streams: no failed transaction" 0 "$(val crr4 failed)"

check_exit "crr to a port where nothing listens: one line, exit 1" 1 "nothing listens" \
	"$TOOL" run $CLI crr 198.18.0.2 9 1 1 1
"$TOOL" run $CLI crr 198.18.0.2 9 1 1 1 >"$WORK/refused" 2>/dev/null
check_num "crr to a closed port: the refusals are counted" "$(val refused refused)" -gt 0
check_eq "crr to a closed port: none completed" 0 "$(val refused transactions)"

# --- kube-proxy, iptables mode ---
EPS=ep=198.18.0.2:8080,198.18.0.2:8081
kernel_rules() { ip netns exec $CLI_NAME iptables-nft-save 2>/dev/null | grep -c '^-A'; }
flush_cli() { ip netns exec $CLI_NAME nft flush ruleset; }
# cluster_ip N: the measured (last) Service's ClusterIP, 240.0.0.1 + N - 1
cluster_ip() { awk -v n="$1" 'BEGIN { i = n; printf "240.0.%d.%d", int(i / 256), i % 256 }'; }

"$TOOL" render iptables 1000 $EPS >"$WORK/kp1000.rules" 2>"$WORK/kp1000.count"
want=$(sed -n 's/^rules \([0-9]*\).*/\1/p' "$WORK/kp1000.count")
check "1,000 Services (iptables layout) load with one iptables-restore" \
	sh -c "ip netns exec $CLI_NAME iptables-nft-restore <'$WORK/kp1000.rules'"
check_eq "the kernel holds every rule" "$want" "$(kernel_rules)"
VIP=$(cluster_ip 1000)
check "crr to the measured Service's ClusterIP $VIP:80" run kpi crr "$VIP" 80
check_eq "crr through the DNAT: no failed transaction" 0 "$(val kpi failed)"
check_num "crr through the DNAT: transactions/s" "$(val kpi tps)" -gt 0
# both endpoints' DNAT rules took connections (kube-proxy's statistic match)
dnat_packets() {
	ip netns exec $CLI_NAME iptables-nft-save -c -t nat 2>/dev/null |
		sed -n "s/^\[\([0-9]*\):[0-9]*\] .*DNAT --to-destination 198.18.0.2:$1\$/\1/p"
}
check_num "the DNAT to endpoint :8080 took connections" "$(dnat_packets 8080)" -gt 0
check_num "the DNAT to endpoint :8081 took connections" "$(dnat_packets 8081)" -gt 0
"$TOOL" render iptables 1000 $EPS update >"$WORK/kp1000.update" 2>/dev/null
check "one Service added as kube-proxy's partial sync (iptables-restore --noflush)" \
	sh -c "ip netns exec $CLI_NAME iptables-nft-restore --noflush <'$WORK/kp1000.update'"
check_eq "KUBE-SERVICES holds 1,001 Services and the nodeports rule" 1002 \
	"$(ip netns exec $CLI_NAME iptables-nft-save -t nat 2>/dev/null | grep -c '^-A KUBE-SERVICES')"
check_eq "the kernel holds the new Service's 8 rules more" "$((want + 8))" "$(kernel_rules)"
check "crr still reaches the measured Service after the update" run kpi2 crr "$VIP" 80
check_eq "after the update: no failed transaction" 0 "$(val kpi2 failed)"
flush_cli

# --- kube-proxy, nftables mode ---
"$TOOL" render nft 1000 $EPS >"$WORK/kp1000.nft" 2>/dev/null
check "1,000 Services (nftables layout) load with one nft -f" ip netns exec $CLI_NAME nft -f "$WORK/kp1000.nft"
check_eq "service-ips holds 1,000 elements" 1000 \
	"$(ip netns exec $CLI_NAME nft list map ip kube-proxy service-ips | grep -o ' : goto service-' | wc -l)"
check "crr to the measured Service's ClusterIP (nftables)" run kpn crr "$VIP" 80
check_eq "crr through the nft DNAT: no failed transaction" 0 "$(val kpn failed)"
check_num "crr through the nft DNAT: transactions/s" "$(val kpn tps)" -gt 0
"$TOOL" render nft 1000 $EPS update >"$WORK/kp1000.nft.update" 2>/dev/null
check "one Service added as kube-proxy's partial sync (one nft transaction)" \
	ip netns exec $CLI_NAME nft -f "$WORK/kp1000.nft.update"
check_eq "service-ips holds 1,001 elements" 1001 \
	"$(ip netns exec $CLI_NAME nft list map ip kube-proxy service-ips | grep -o ' : goto service-' | wc -l)"
flush_cli

# --- 5,000 Services against none, and iptables against nftables mode,
# alternating, in the same run ---
"$TOOL" render iptables 5000 $EPS >"$WORK/kp5000.rules" 2>/dev/null
"$TOOL" render nft 5000 $EPS >"$WORK/kp5000.nft" 2>/dev/null
VIP5=$(cluster_ip 5000)
sum() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
# The relation is about the kernel's work per connection: a client and
# server at normal priority beside other load (stress-ng --cpu 2) got rates
# that moved 1.7x between neighbouring 2 s runs and once put the 5,000
# Services above none. Both ends run niced above that load for these runs.
renice -n -10 -p "${PIDS[@]}" >/dev/null
NICE=(nice -n -10)
empty_sum=0 ipt_sum=0 nft_sum=0
for r in 1 2; do
	run empty$r crr 198.18.0.2 8080 || fail "crr round $r without rules: $(cat "$WORK/empty$r.err")"
	ip netns exec $CLI_NAME iptables-nft-restore <"$WORK/kp5000.rules" || fail "5,000 Services load (iptables, round $r)"
	run ipt$r crr "$VIP5" 80 || fail "crr round $r, 5,000 Services (iptables): $(cat "$WORK/ipt$r.err")"
	flush_cli
	ip netns exec $CLI_NAME nft -f "$WORK/kp5000.nft" || fail "5,000 Services load (nft, round $r)"
	run nft$r crr "$VIP5" 80 || fail "crr round $r, 5,000 Services (nft): $(cat "$WORK/nft$r.err")"
	flush_cli
	empty_sum=$(sum "$empty_sum" "$(val empty$r tps)")
	ipt_sum=$(sum "$ipt_sum" "$(val ipt$r tps)")
	nft_sum=$(sum "$nft_sum" "$(val nft$r tps)")
	echo "# round $r: crr/s without rules $(val empty$r tps), through 5,000 Services: iptables $(val ipt$r tps), nft $(val nft$r tps)"
done
check_eq "crr through 5,000 Services: no failed transaction" 0 \
	"$(( $(val ipt1 failed) + $(val ipt2 failed) + $(val nft1 failed) + $(val nft2 failed) ))"
check_num "5,000 Services (iptables) lower the crr rate against none (sum of 2 rounds)" "$ipt_sum" -lt "$empty_sum"
# Not asserted: at 5,000 Services the nftables layout's rate is near the
# empty one and the gap to iptables' is within what other work on a shared
# 2-core machine moves a 2 s rate (seen: nft 11265 then 4810/s); the
# per-packet probe's first-packet latency is what compare will assert on.
echo "# sums of 2 rounds: without rules $empty_sum, iptables $ipt_sum, nft $nft_sum crr/s"

# --- nothing left ---
for p in "${PIDS[@]}"; do
	check "server $p stops" "$TOOL" stop "$p"
	check_eventually "server $p is gone" "$GONE_S" sh -c "! kill -0 $p 2>/dev/null"
done
PIDS=()
check_eq "no conn-tool process left" "" "$(procs_of "$WORK/conn-tool")"
check "testbed down" "$NFCOST" testbed down --name "$T"
check_eventually "no namespace of the testbed is left" "$GONE_S" test ! -e "$CLI"
finish
