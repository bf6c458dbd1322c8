#!/bin/bash
# rules/ leaves nothing half-done: an `ipset restore` stops at the first
# element that fails and keeps those before it, so `rules add --backend
# ipset` refuses what would not fit the set and undoes a failed add;
# `rules count` is the same before and after a failing add.
. "$(dirname "$0")/../lib.sh"
T=rs$$
CLI=nfcost-$T-cli
WORK=$(mktemp -d)
trap '$NFCOST testbed down --name $T >/dev/null 2>&1; rm -rf "$WORK"' EXIT

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

# profile: a rule set that does not load says so once (it said "the rule
# set does not load: the rule set does not load: ..."), exit 2.
printf '*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -d 240.0.0.1/32 -j DROPX\nCOMMIT\n' >"$WORK/bad.rules"
check_exit "profile of a rule set that does not load: one line, exit 2" 2 \
	"the rule set does not load: iptables-nft-restore.*DROPX" \
	"$NFCOST" profile -d 1 --fix none --no-plot --out "$WORK/pbad" "$WORK/bad.rules"
check_eq "  and it says so once" 1 \
	"$("$NFCOST" profile -d 1 --fix none --no-plot --out "$WORK/pbad2" "$WORK/bad.rules" 2>&1 |
	   grep -o 'does not load' | wc -l)"

# A rule set that queues the flow to NFQUEUE with nothing listening: the
# kernel drops what it queues, and the verdict names NFQUEUE.
printf '*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -p udp -j NFQUEUE --queue-num 7\nCOMMIT\n' >"$WORK/q.rules"
check "profile of a rule set with an NFQUEUE rule and no listener" \
	"$NFCOST" profile -d 1 --fix none --no-plot --flow udp:198.18.0.2:443 --out "$WORK/pq" \
	"$WORK/q.rules"
check "  its verdict names NFQUEUE" grep -q '"dropped in output (by NFQUEUE? nothing listens)"' \
	"$WORK/pq/profile.json"

finish
