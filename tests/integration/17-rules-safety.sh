#!/bin/bash
# rules/ leaves nothing half-done: an `ipset restore` stops at the first
# element that fails and keeps those before it, so `rules add --backend
# ipset` refuses what would not fit the set and undoes a failed add;
# `rules count` is the same before and after a failing add.
. "$(dirname "$0")/../lib.sh"
T=rs$$
CLI=nfcost-$T-cli
trap '$NFCOST testbed down --name $T >/dev/null 2>&1' EXIT

ipsetx() { ip netns exec $CLI ipset "$@"; }
count() { $NFCOST rules count --backend ipset --name $T; }
member() { ipsetx test nfcost-blocked "$1" >/dev/null 2>&1; }

check "testbed up" "$NFCOST" testbed up --name $T

# A set near its size limit (issue 20's case: 1,999,500 of 2,000,000,
# scaled down): a set made with maxelem 1000 is taken as it is.
check "a set that takes at most 1000 elements" ipsetx create nfcost-blocked hash:ip maxelem 1000
check "995 rules fit" "$NFCOST" rules add --count 995 --backend ipset --name $T
check_eq "995 counted" 995 "$(count)"
check_exit "10 more are refused, one line" 2 "takes at most 1000.*flush it first" \
	"$NFCOST" rules add --count 10 --backend ipset --name $T
check_eq "the failed add changed nothing" 995 "$(count)"
check "5 more still fit" "$NFCOST" rules add --count 5 --backend ipset --name $T
check_eq "1000 counted" 1000 "$(count)"
check "flush" "$NFCOST" rules flush --backend ipset --name $T
check "the set is gone" bash -c "! ip netns exec $CLI ipset list nfcost-blocked"

# A failure past the check: an element that is there already stops the
# restore halfway (240.0.0.6 is rule 5's address; the set's 1 element makes
# the add start at rule 1, so rules 1..4 would go in before it fails).
check "a set holding rule 5's address" ipsetx create nfcost-blocked hash:ip maxelem 1000
check "  240.0.0.6 added by hand" ipsetx add nfcost-blocked 240.0.0.6
check_exit "the add fails halfway, one line" 1 "already added.*the set is as it was" \
	"$NFCOST" rules add --count 10 --backend ipset --name $T
check_eq "the failed add changed nothing" 1 "$(count)"
check "  240.0.0.6 is still there" member 240.0.0.6
check "  240.0.0.2 (rule 1, added before the failure) is gone" bash -c "! ip netns exec $CLI ipset test nfcost-blocked 240.0.0.2"
check_eq "  and no iptables rule matches the set" 0 \
	"$(ip netns exec $CLI iptables-nft-save 2>/dev/null | grep -c -- '--match-set nfcost-blocked')"
check "flush" "$NFCOST" rules flush --backend ipset --name $T
check_eq "flushed" 0 "$(count)"

finish
