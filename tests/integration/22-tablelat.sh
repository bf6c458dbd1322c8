#!/bin/bash
# The per-table tracer (src/probe/tablelat.c: fentry/fexit on ipt_do_table
# and nft_do_chain), driven by tests/tools/tablelat-tool.c. Where fentry is
# refused (this machine: EPERM), opening it on a testbed that holds
# iptables-legacy and nft tables fails cleanly: exit 1, one "nfcost:" line
# saying fentry was refused, no crash, and none of its programs left loaded.
# Where fentry loads, `make vmtest` proves what it measures
# (tests/vmtest/guest-tests.sh, group tables).
. "$(dirname "$0")/../lib.sh"
T=tl$$
CLI=/run/netns/nfcost-$T-cli
WORK=$(mktemp -d)
trap '$NFCOST testbed down --name $T >/dev/null 2>&1; rm -rf "$WORK"' EXIT

LIB="$ROOT/${BUILD:-build}/libnfcost.a"
SAN=""
nm "$LIB" 2>/dev/null | grep -q __asan_ && SAN="-fsanitize=address,undefined"
TOOL=$WORK/tablelat-tool
# shellcheck disable=SC2046,SC2086
check "tablelat-tool builds against libnfcost.a" ${CC:-cc} -std=c11 -D_GNU_SOURCE -I"$ROOT/src" \
	$SAN -o $TOOL "$ROOT/tests/tools/tablelat-tool.c" "$LIB" $(sed -n 's/^LDLIBS *:= *//p' "$ROOT/Makefile")

check_exit "tablelat-tool without arguments is bad usage" 2 "usage" "$TOOL"
check_exit "a namespace that does not exist: one line, exit 1" 1 "cannot open network namespace" \
	"$TOOL" run /run/netns/nfcost-$T-none 0

"$NFCOST" testbed up --name "$T" >/dev/null || { fail "testbed up"; finish; exit; }
printf '*mangle\n-A OUTPUT -d 240.0.2.1/32 -j DROP\nCOMMIT\n*filter\n-A OUTPUT -d 240.0.2.2/32 -j DROP\nCOMMIT\n' |
	ip netns exec "nfcost-$T-cli" iptables-legacy-restore
check "iptables-legacy mangle and filter OUTPUT rules in the testbed" \
	sh -c "ip netns exec nfcost-$T-cli iptables-legacy-save | grep -q 240.0.2.2"
check "an nft table in the testbed" ip netns exec "nfcost-$T-cli" nft \
	'add table inet nfctl; add chain inet nfctl out { type filter hook output priority 10; }; add rule inet nfctl out ip daddr 240.0.2.3 drop'

before=$("$TOOL" count)
if "$NFCOST" trace --tracer fentry -d 1 --netns "nfcost-$T-cli" >/dev/null 2>"$WORK/fentry.err"; then
	echo "# fentry loads on this kernel: the refusal path cannot be tested here (make vmtest tests the tracer)"
	check "tablelat-tool run on the testbed" "$TOOL" run "$CLI" 0.5
else
	check_exit "fentry refused: open fails with one line saying so, exit 1" 1 "fentry refused" \
		"$TOOL" run "$CLI" 0.5
	"$TOOL" run "$CLI" 0 >/dev/null 2>&1
	check_eq "no crash: the exit status is 1, not a signal" 1 "$?"
fi
check_eq_eventually "no tablelat program is left loaded" "$GONE_S" "$before" "$TOOL" count
check "testbed down" "$NFCOST" testbed down --name "$T"
check_eventually "no namespace of the testbed is left" "$GONE_S" test ! -e "$CLI"
finish
