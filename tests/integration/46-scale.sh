#!/bin/bash
# Rule sets at scale, sized for CI: 20,000 rules (200,000 set elements) per
# backend: one add, the count nfcost gives against the kernel's own listing,
# nfcost's own peak memory (printed), and a flush.
. "$(dirname "$0")/../lib.sh"
T=sc$$
NS=nfcost-$T-cli
trap '$NFCOST testbed down --name $T >/dev/null 2>&1' EXIT
ASAN=$(nm "$NFCOST" 2>/dev/null | grep -m1 __asan_init || true)
RULES=${SCALE_RULES:-20000}
ELEMS=${SCALE_ELEMS:-200000}

# What the kernel itself lists for a backend (the backends' own tools).
kernel_count() {
	case $1 in
	iptables-legacy) ip netns exec $NS iptables-legacy-save -t filter | grep -c '^-A OUTPUT ' ;;
	iptables-nft) ip netns exec $NS iptables-nft-save -t filter | grep -c '^-A OUTPUT ' ;;
	nft) ip netns exec $NS nft list chain ip nfcost output | grep -c 'ip daddr 240\.' ;;
	nft-set) ip netns exec $NS nft -j list set ip nfcost_set blocked |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(len(x["set"].get("elem", [])) for x in d["nftables"] if "set" in x))' ;;
	ipset) ip netns exec $NS ipset list nfcost-blocked | grep -c '^240\.' ;;
	esac
}

check "testbed up" "$NFCOST" testbed up --name $T
for b in iptables-legacy iptables-nft nft nft-set ipset; do
	n=$RULES
	case $b in nft-set | ipset) n=$ELEMS ;; esac
	out=$(NFCOST_RUSAGE=1 "$NFCOST" rules add --count "$n" --backend $b --name $T 2>&1)
	check_eq "$b: $n added" "0" "$?"
	kb=$(sed -n 's/^nfcost: peak RSS \([0-9]*\) KB.*/\1/p' <<<"$out")
	echo "# $b: $(grep -o 'in [a-z].*all' <<<"$out"), nfcost's peak RSS ${kb:-?} KB"
	# Sanitizers' shadow memory and quarantine say nothing about nfcost's own.
	if [ -z "$ASAN" ]; then
		check_num "$b: nfcost's own peak memory under 64 MB" "${kb:-999999}" -lt 65536
	fi
	t0=$(date +%s.%N)
	got=$("$NFCOST" rules count --backend $b --name $T)
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	echo "# $b: rules count took $secs s"
	check_eq "$b: rules count says $n" "$n" "$got"
	check_eq "$b: the kernel's own listing says $n too" "$n" "$(kernel_count $b)"
	check "$b: flush" "$NFCOST" rules flush --backend $b --name $T
	check_eq "$b: count 0 after the flush" "0" "$("$NFCOST" rules count --backend $b --name $T)"
done
check "testbed down" "$NFCOST" testbed down --name $T
finish
