#!/bin/bash
# A user's rule set (src/rules/ruleset.c, ruleset_fix.c) against the real
# kernel, driven by tests/tools/ruleset-tool.c (no CLI needed): both examples
# load with each iptables backend and as nft, and the kernel then holds
# every rule; a malformed rule set fails with its loader's line number and
# leaves the namespace empty; nft-optimize and ipset turn the bloated chain
# into rule sets that load and hold far fewer rules; established-first loads;
# reading the host's rule set leaves its listings byte-identical.
. "$(dirname "$0")/../lib.sh"
T=rs$$
CLI=nfcost-$T-cli
NS=/run/netns/$CLI
WORK=$(mktemp -d)
EX=$ROOT/examples
trap '$NFCOST testbed down --name $T >/dev/null 2>&1; rm -rf "$WORK"' EXIT

LIB="$ROOT/${BUILD:-build}/libnfcost.a"
SAN=""
nm "$LIB" 2>/dev/null | grep -q __asan_ && SAN="-fsanitize=address,undefined"
TOOL=$WORK/ruleset-tool
# shellcheck disable=SC2046,SC2086
check "ruleset-tool builds against libnfcost.a" ${CC:-cc} -std=c11 -D_GNU_SOURCE -I"$ROOT/src" \
	$SAN -o $TOOL "$ROOT/tests/tools/ruleset-tool.c" "$LIB" $(sed -n 's/^LDLIBS *:= *//p' "$ROOT/Makefile")

# The host's listings, minus what changes by itself (the save tools' dates,
# packet counters): compared before and after everything else.
host_state() {
	{
		iptables-nft-save; echo '--'; iptables-legacy-save; echo '--'; nft list ruleset
		echo '--'; cat /proc/net/ip_tables_names 2>/dev/null; echo '--'; ipset list -n 2>/dev/null
	} 2>&1 | sed -E '/^#/d; s/\[[0-9]+:[0-9]+\]/[c]/; s/packets [0-9]+ bytes [0-9]+/packets c/g'
}
host_state >"$WORK/host.before"

check "the examples are as examples/make-examples.sh writes them" \
	sh -c "'$EX/make-examples.sh' '$WORK' && cmp '$WORK/bloated-chain.rules' '$EX/bloated-chain.rules' &&
	       cmp '$WORK/multi-table.rules' '$EX/multi-table.rules'"
check "the examples name only 198.18.0.0/15 and 240.0.0.0/4" \
	sh -c "! grep -hoE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' '$EX'/*.rules | grep -vE '^(198\.1[89]|24[0-9]|25[0-5])\.'"

check "testbed up" "$NFCOST" testbed up --name $T
empty() { "$TOOL" empty $NS; }
# rules the kernel holds: every "-A" line that the backend's save tool lists
kernel_rules() {
	case $1 in
	iptables-nft) ip netns exec $CLI iptables-nft-save 2>/dev/null | grep -c '^-A' ;;
	iptables-legacy) ip netns exec $CLI iptables-legacy-save | grep -c '^-A' ;;
	esac
}
want() { "$TOOL" info "$1" | sed -n 's/^rules //p'; }

check "a fresh namespace is empty" empty
for b in iptables-nft iptables-legacy; do
	for ex in bloated-chain multi-table; do
		check "$ex loads with $b" "$TOOL" load $NS "$EX/$ex.rules" $b
		check_eq "$ex with $b: the kernel holds every rule" "$(want "$EX/$ex.rules")" "$(kernel_rules $b)"
		check "$ex with $b: flush" "$TOOL" flush $NS
		check "$ex with $b: empty after the flush" empty
	done
	check_eq "base chains as the kernel has them ($b)" \
		"0 -300 ip raw PREROUTING 2|0 -150 ip mangle PREROUTING 1|0 -100 ip nat PREROUTING 1|1 -150 ip mangle INPUT 0|1 0 ip filter INPUT 7|1 100 ip nat INPUT 0|2 -150 ip mangle FORWARD 0|2 0 ip filter FORWARD 5|3 -300 ip raw OUTPUT 1|3 -150 ip mangle OUTPUT 1|3 -100 ip nat OUTPUT 1|3 0 ip filter OUTPUT 1|4 -150 ip mangle POSTROUTING 1|4 100 ip nat POSTROUTING 1" \
		"$("$TOOL" chains $NS "$EX/multi-table.rules" $b | paste -sd'|')"
	"$TOOL" flush $NS >/dev/null 2>&1

	# malformed: the nat table fails after filter committed
	printf '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 240.0.0.1/32 -j DROP\nCOMMIT\n*nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -d 240.0.0.2/32 -j DNAT --to-destinationx 240.0.0.3\nCOMMIT\n' >"$WORK/bad.rules"
	check_exit "malformed rule set with $b: exit 2, the loader's line" 2 "line:? 7" \
		"$TOOL" load $NS "$WORK/bad.rules" $b
	check "malformed rule set with $b: nothing left" empty
done

# nft: the optimizer's output of the multi-table example is an nft rule set
check "nft-optimize of multi-table" sh -c "'$TOOL' fix nft-optimize '$EX/multi-table.rules' $NS '$WORK/mt.nft' >'$WORK/mt.out'"
check "the scratch namespace is flushed after the optimizer" empty
check "an nft rule set loads (libnftables)" "$TOOL" load $NS "$WORK/mt.nft" nft
check_eq "the kernel holds every nft rule" "$(want "$WORK/mt.nft")" \
	"$("$TOOL" chains $NS "$WORK/mt.nft" nft >/dev/null; "$TOOL" flush $NS; "$TOOL" load $NS "$WORK/mt.nft" nft; \
	   ip netns exec $CLI nft list ruleset | "$TOOL" info - | sed -n 's/^rules //p')"
"$TOOL" flush $NS >/dev/null 2>&1
printf 'table ip t {\n\tchain c {\n\t\ttype filter hook output priority 0;\n\t\tip daddr 240.0.0.1 dropx\n\t}\n}\n' >"$WORK/bad.nft"
check_exit "malformed nft rule set: exit 2, the line" 2 "line 4" "$TOOL" load $NS "$WORK/bad.nft" nft
check "malformed nft rule set: nothing left" empty

# the bloated chain's fixes: far fewer rules, and they load
bc=$EX/bloated-chain.rules
for f in nft-optimize ipset; do
	check "$f of the bloated chain" sh -c "'$TOOL' fix $f '$bc' $NS '$WORK/bc.$f' >'$WORK/bc.$f.out'"
	n=$(sed -n 's/^rules //p' "$WORK/bc.$f.out")
	check_num "$f: rules of the fixed bloated chain, against 5000" "${n:-99999}" -le 10
done
check "nft-optimize: the 5000 addresses are one set" \
	sh -c "grep -c '240\.' '$WORK/bc.nft-optimize' | grep -qx 1 && grep -o '240\.[0-9.]*' '$WORK/bc.nft-optimize' | wc -l | grep -qx 5000"
check "nft-optimize of the bloated chain loads" "$TOOL" load $NS "$WORK/bc.nft-optimize" nft
"$TOOL" flush $NS >/dev/null 2>&1
for b in iptables-nft iptables-legacy; do
	check "ipset fix loads with $b (ipset restore, then the rules)" "$TOOL" load $NS "$WORK/bc.ipset" $b
	check_eq "ipset fix with $b: one set of 5000" "5000" \
		"$(ip netns exec $CLI ipset list nfcost_fix_1 | sed -n 's/^Number of entries: //p')"
	check_eq "ipset fix with $b: one rule" "1" "$(kernel_rules $b)"
	check "ipset fix with $b: flush leaves nothing" sh -c "'$TOOL' flush $NS && '$TOOL' empty $NS"
done
# the iptables part fails after the sets loaded: the sets go too
sed 's/-j DROP/-j DROPX/' "$WORK/bc.ipset" >"$WORK/bcbad.ipset"
cp "$WORK/bc.ipset.ipset" "$WORK/bcbad.ipset.ipset"
check_exit "ipset fix whose rules fail: exit 2" 2 "line" "$TOOL" load $NS "$WORK/bcbad.ipset" iptables-nft
check "ipset fix whose rules fail: no set left" empty

check "established-first of multi-table" "$TOOL" fix established-first "$EX/multi-table.rules" $NS "$WORK/mt.est"
check "established-first loads" "$TOOL" load $NS "$WORK/mt.est" iptables-nft
check_eq "established-first: the ct rule heads each filter base chain" "INPUT FORWARD OUTPUT" \
	"$(ip netns exec $CLI iptables-nft-save -t filter 2>/dev/null | awk '/^-A (INPUT|FORWARD|OUTPUT) /{ if (!seen[$2]++ && /ESTABLISHED/) printf "%s%s", n++ ? " " : "", $2 }')"
"$TOOL" flush $NS >/dev/null 2>&1

# the host: read, never written
check "the host's rule set reads (an empty filter table when it has none)" \
	"$TOOL" host
host_state >"$WORK/host.after"
check "reading the host's rule set leaves its listings byte-identical" cmp "$WORK/host.before" "$WORK/host.after"

finish
