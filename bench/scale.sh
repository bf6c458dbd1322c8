#!/bin/bash
# Benchmark (not a test): kube-proxy scale. For each backend, `nfcost rules
# add` of N rules (100,000; sets: 1,000,000 elements) as a whole command,
# against the backend's own tool applying the same rules in one transaction
# in the same run; `nfcost rules count`; nfcost's peak RSS.
# Targets (issue 12): whole command <= 1.2x the raw tool, count <= 0.5 s for
# 100k rules, peak RSS <= 64 MB.
# Usage: bench/scale.sh [RULES [ELEMENTS]]   (defaults 100000 1000000)
set -eu
cd "$(dirname "$0")/.."
NFCOST=${NFCOST:-$PWD/build/nfcost}
RULES=${1:-100000}
ELEMS=${2:-1000000}
T=scale$$
WORK=$(mktemp -d)
trap '$NFCOST testbed down --name $T >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
$NFCOST testbed up --name $T >/dev/null
ns=nfcost-$T-cli

# The same rules nfcost renders (rules/rules.c), for the raw tools.
addrs() { awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) { a = 4026531840 + i
	printf "%d.%d.%d.%d\n", int(a / 16777216), int(a / 65536) % 256, int(a / 256) % 256, a % 256 } }'; }
raw_input() { # BACKEND N
	case $1 in
	iptables-*) { echo "*filter"; addrs "$2" | sed 's/.*/-A OUTPUT -p tcp -m tcp --dport 443 -m iprange --dst-range & -j DROP/'; echo COMMIT; } ;;
	nft) { echo "add table ip nfcost"; echo "add chain ip nfcost output { type filter hook output priority 0; policy accept; }"
		addrs "$2" | sed 's/.*/add rule ip nfcost output tcp dport 443 ip daddr & drop/'; } ;;
	nft-set) { echo "add table ip nfcost_set"; echo "add chain ip nfcost_set output { type filter hook output priority 0; policy accept; }"
		echo "add set ip nfcost_set blocked { type ipv4_addr; }"
		echo "add rule ip nfcost_set output tcp dport 443 ip daddr @blocked drop"
		addrs "$2" | awk '{ if ((NR - 1) % 1000 == 0) { if (NR > 1) print " }"; printf "add element ip nfcost_set blocked { %s", $0 } else printf ", %s", $0 } END { print " }" }'; } ;;
	ipset) { echo "create nfcost-blocked hash:ip family inet hashsize 1024 maxelem 2000000 -exist"
		addrs "$2" | sed 's/.*/add nfcost-blocked &/'; } ;;
	esac
}
raw_run() { # BACKEND FILE
	case $1 in
	iptables-nft) ip netns exec $ns iptables-nft-restore --noflush <"$2" ;;
	iptables-legacy) ip netns exec $ns iptables-legacy-restore --noflush <"$2" ;;
	nft | nft-set) ip netns exec $ns nft -f "$2" ;;
	ipset) ip netns exec $ns ipset restore <"$2" ;;
	esac
}
raw_clean() {
	ip netns exec $ns nft flush ruleset 2>/dev/null || true
	ip netns exec $ns iptables-legacy -F OUTPUT 2>/dev/null || true
	ip netns exec $ns ipset destroy nfcost-blocked 2>/dev/null || true
}
timed() { # OUT_PREFIX PROGRAM...: seconds and peak RSS (KB) into OUT_PREFIX.{s,kb}
	local p=$1; shift
	/usr/bin/time -f '%e %M' -o "$p.time" "$@" >"$p.out" 2>"$p.err"
	read -r s kb <"$p.time"
	echo "$s" >"$p.s"; echo "$kb" >"$p.kb"
}

printf '%-16s %8s %9s %9s %7s %9s %8s %9s\n' backend rules "nfcost s" "raw s" ratio "count s" "RSS MB" "tx ms"
for b in iptables-legacy iptables-nft nft nft-set ipset; do
	n=$RULES
	case $b in nft-set | ipset) n=$ELEMS ;; esac
	raw_input $b "$n" >"$WORK/$b.in"
	raw_clean
	t0=$(date +%s.%N)
	raw_run $b "$WORK/$b.in"
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", b - a }' >"$WORK/raw.s"
	raw_clean
	NFCOST_RUSAGE=1 timed "$WORK/add" "$NFCOST" rules add --count "$n" --backend $b --name $T
	NFCOST_RUSAGE=1 timed "$WORK/cnt" "$NFCOST" rules count --backend $b --name $T
	got=$(cat "$WORK/cnt.out")
	tx=$(sed -n 's/.*: \([0-9.]*\) ms; .*/\1/p' "$WORK/add.out")
	# nfcost's own peak (its children, the restore tools, are the raw tool's cost)
	rss=$(sed -n 's/^nfcost: peak RSS \([0-9]*\) KB.*/\1/p' "$WORK/add.err" "$WORK/cnt.err" | sort -n | tail -1)
	rss=$(awk -v k="${rss:-0}" 'BEGIN { print k / 1024 }')
	printf '%-16s %8d %9.2f %9.2f %7.2f %9.2f %8.1f %9.0f%s\n' $b "$n" "$(cat "$WORK/add.s")" \
		"$(cat "$WORK/raw.s")" "$(awk -v a="$(cat "$WORK/add.s")" -v r="$(cat "$WORK/raw.s")" 'BEGIN { print (r > 0 ? a / r : 0) }')" \
		"$(cat "$WORK/cnt.s")" "$rss" "${tx:-0}" "$([ "$got" = "$n" ] || echo "  (count said $got)")"
	$NFCOST rules flush --backend $b --name $T >/dev/null
done
echo "(nfcost s: the whole 'rules add' command, transaction and counts; raw s: the backend's"
echo " own tool applying the same rules in one transaction; targets: ratio <= 1.2,"
echo " count <= 0.5 s at 100k rules, RSS <= 64 MB)"
