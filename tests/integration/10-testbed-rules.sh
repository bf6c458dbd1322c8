#!/bin/bash
# Issue 2's acceptance: testbed lifecycle, one-transaction rules for every
# backend, cleanup after a SIGKILLed run, and every bad input.
. "$(dirname "$0")/../lib.sh"
T=tb$$
CLI=nfcost-$T-cli
trap '$NFCOST testbed down --name $T >/dev/null 2>&1' EXIT

netns() { ip netns list | sort; }
links() { ip -o link show | awk '{print $2}' | sort; }
netns_before=$(netns)
links_before=$(links)

check "testbed up" "$NFCOST" testbed up --name $T
check "namespaces visible to ip netns" sh -c "ip netns list | grep -q '^$CLI' && ip netns list | grep -q '^nfcost-$T-srv'"
check "cli side has 198.18.0.1/30" sh -c "ip -n $CLI -o addr show | grep -q '198.18.0.1/30'"
check "TCP connect cli -> srv (iperf3 server port)" \
	ip netns exec $CLI bash -c 'exec 3<>/dev/tcp/198.18.0.2/443'
check "status lists the testbed with a running server" \
	sh -c "$NFCOST testbed status --name $T | grep -q 'server running'"
check_exit "up twice is refused" 2 "already exists" "$NFCOST" testbed up --name $T

listing() { # what the kernel itself says, per backend
	case $1 in
	iptables-nft) ip netns exec $CLI iptables-nft-save -t filter | grep -c '^-A OUTPUT' ;;
	iptables-legacy) ip netns exec $CLI iptables-legacy-save -t filter | grep -c '^-A OUTPUT' ;;
	nft) ip netns exec $CLI nft list chain ip nfcost output | grep -c ' drop$' ;;
	nft-set) ip netns exec $CLI nft -j list set ip nfcost_set blocked |
		/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)["nftables"]; print(sum(len(x["set"].get("elem",[])) for x in d if "set" in x))' ;;
	ipset) ip netns exec $CLI ipset list nfcost-blocked | sed -n '/^Members:/,$p' | grep -c '^240\.' ;;
	esac
}

for b in iptables-nft iptables-legacy nft nft-set ipset; do
	check "$b: add 1000" "$NFCOST" rules add --count 1000 --backend $b --name $T
	check "$b: add 2000 more" "$NFCOST" rules add --count 2000 --backend $b --name $T
	check_eq "$b: rules count says 3000" 3000 "$($NFCOST rules count --backend $b --name $T)"
	check_eq "$b: the kernel's listing agrees" 3000 "$(listing $b)"
	check "$b: flush" "$NFCOST" rules flush --backend $b --name $T
	check_eq "$b: count after flush" 0 "$($NFCOST rules count --backend $b --name $T)"
done
check "rules never match the test traffic: connect still works" \
	sh -c "$NFCOST rules add --count 100 --name $T >/dev/null && ip netns exec $CLI bash -c 'exec 3<>/dev/tcp/198.18.0.2/443'"
check "addr shape" sh -c "$NFCOST rules add --count 10 --shape addr --backend iptables-legacy --name $T >/dev/null && ip netns exec $CLI iptables-legacy-save | grep -q -- '-A OUTPUT -d 240.0.0.1/32 -j DROP'"
check "nft addr shape (netlink batch)" sh -c "$NFCOST rules add --count 10 --shape addr --backend nft --name $T >/dev/null && ip netns exec $CLI nft list chain ip nfcost output | grep -q '^\s*ip daddr 240.0.0.1 drop$'"
check "multiport shape" sh -c "$NFCOST rules add --count 10 --shape multiport --backend nft --name $T >/dev/null && ip netns exec $CLI nft list chain ip nfcost output | grep -q 'tcp dport {'"

check "testbed down" "$NFCOST" testbed down --name $T
check_eq_eventually "ip netns as before" "$GONE_S" "$netns_before" netns
check_eq_eventually "ip link as before" "$GONE_S" "$links_before" links
check_exit "down of a missing testbed" 2 "does not exist" "$NFCOST" testbed down --name $T

# A crashed run: testbed and rules in place, the owner SIGKILLed. `cleanup`
# removes every testbed, so developers working beside others can skip it.
if [ -z "${NFCOST_TEST_NO_GLOBAL_CLEANUP:-}" ]; then
$NFCOST testbed up --name $T >/dev/null
$NFCOST rules add --count 500 --backend iptables-legacy --name $T >/dev/null
setsid "$NFCOST" rules add --count 1000000 --backend iptables-legacy --name $T >/dev/null 2>&1 &
victim=$!
sleep 0.3
kill -9 $victim 2>/dev/null
wait $victim 2>/dev/null
srv_pid=$(cat /run/nfcost/$T/server.pid)
out=$($NFCOST cleanup)
check "cleanup says what it removed" sh -c "echo '$out' | grep -q 'namespace nfcost-$T-cli' && echo '$out' | grep -q 'process $srv_pid'"
check_eq_eventually "nothing nfcost left in ip netns" "$GONE_S" "" sh -c "ip netns list | grep '^nfcost-$T'"
# Dead means gone or a zombie (an init that reaps slowly keeps the entry a while).
check_eventually "the iperf3 server process is gone" "$GONE_S" sh -c "! kill -0 $srv_pid 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' /proc/$srv_pid/stat"
check_eventually "no state left in /run/nfcost" "$GONE_S" test ! -e /run/nfcost/$T
# Others' live runs may be skipped; nothing of this test's is left to remove.
check "cleanup a second time finds nothing of this test's" \
	sh -c "! $NFCOST cleanup | grep -q 'nfcost-$T-'"
fi

# Bad input: exit 2 for usage, 1 for runtime; one line starting "nfcost:".
check_exit "no command" 2 "" "$NFCOST"
check_exit "unknown command" 2 "unknown command" "$NFCOST" frobnicate
check_exit "unknown option" 2 "unrecognized option" "$NFCOST" rules add --bogus
check_exit "rules without action" 2 "needs an action" "$NFCOST" rules
check_exit "add without --count" 2 "needs --count" "$NFCOST" rules add
check_exit "--count without a value" 2 "requires an argument" "$NFCOST" rules add --count
check_exit "negative count" 2 "from 0 to 1000000" "$NFCOST" rules add --count -1
check_exit "count over 1000000" 2 "from 0 to 1000000" "$NFCOST" rules add --count 1000001
check_exit "malformed count" 2 "from 0 to 1000000" "$NFCOST" rules add --count 12x
check_exit "unknown shape" 2 "unknown shape 'star'" "$NFCOST" rules add --count 1 --shape star
check_exit "unknown backend" 2 "unknown backend 'pf'" "$NFCOST" rules add --count 1 --backend pf
check_exit "bad testbed name" 2 "invalid testbed name" "$NFCOST" testbed up --name 'a/b'
check_exit "testbed that does not exist" 2 "does not exist.*testbed up" "$NFCOST" rules add --count 1 --name nosuch$$
check_exit "not root" 2 "needs root" setpriv --reuid=65534 --regid=65534 --clear-groups "$NFCOST" testbed status
$NFCOST testbed up --name $T >/dev/null
check_exit "missing program (ipset not installed)" 1 "ipset is not installed" env PATH=/nonexistent "$NFCOST" rules add --count 5 --backend ipset --name $T
check_eq "nothing half-applied after the failure" 0 "$($NFCOST rules count --backend ipset --name $T)"
$NFCOST testbed down --name $T >/dev/null
finish
