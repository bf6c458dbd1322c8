#!/bin/bash
# nfcost trace --split (per-table brackets, nfhook): in a real testbed with
# iptables-legacy rules in raw, mangle and filter OUTPUT and splits at
# -250,-175,-50,25, every part that holds rules takes time, the parts of a
# hook add up exactly to its total in every window, 500 more filter rules
# grow the filter part and not the raw part, and bad splits are refused.
. "$(dirname "$0")/../lib.sh"

A=brk$$
CLI=nfcost-$A-cli
TMP=$(mktemp -d)
PY=/usr/bin/python3
SPLITS=-250,-175,-50,25

cleanup() {
	[ -n "${IPERF_PID:-}" ] && kill "$IPERF_PID" 2>/dev/null
	wait 2>/dev/null
	"$NFCOST" testbed down --name "$A" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# Bad input: exit 2, one line naming the problem.
for bad in "-250,-300" "1,2,3,4,5,6,7,8,9" "-2147483647" "2147483646" "x" ""; do
	"$NFCOST" trace --tracer nfhook --split "$bad" -d 1 >/dev/null 2>"$TMP/err"
	check_eq "--split '$bad' is bad usage" "2 1" "$? $(grep -c '^nfcost: .*split' "$TMP/err")"
done
"$NFCOST" trace --tracer fentry --split -50 -d 1 >/dev/null 2>"$TMP/err"
check_eq "--split with --tracer fentry is bad usage" "2 1" "$? $(grep -c 'nfhook' "$TMP/err")"

"$NFCOST" testbed up --name "$A" >/dev/null || { fail "testbed up"; finish; exit; }
# 20 never-matching rules per table: raw (-300), mangle (-150), filter (0).
{
	for t in raw mangle filter; do
		echo "*$t"
		for i in $(seq 20); do echo "-A OUTPUT -d 240.0.1.$i/32 -p udp --dport 443 -j DROP"; done
		echo COMMIT
	done
} >"$TMP/rules"
check "20 rules each in raw, mangle and filter OUTPUT" \
	ip netns exec "$CLI" iptables-legacy-restore --noflush "$TMP/rules"

# measure TAG: 3 s of trace --json with the splits during a UDP stream at a
# fixed rate; per-packet parts go to $TMP/TAG.parts ("p0 p1 p2 p3 p4 count")
measure() {
	ip netns exec "$CLI" iperf3 -c 198.18.0.2 -p 443 -u -b 20M -l 64 -t 6 >/dev/null 2>&1 &
	IPERF_PID=$!
	sleep 1
	"$NFCOST" trace --tracer nfhook --netns "$CLI" --split "$SPLITS" -i 1 -d 3 --json \
		>"$TMP/$1.json" 2>"$TMP/$1.err"
	local rc=$?
	wait "$IPERF_PID"
	IPERF_PID=
	check_eq "$1: trace --split exits 0" 0 "$rc"
	$PY - "$TMP/$1.json" >"$TMP/$1.parts" 2>"$TMP/$1.perr" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
iv = [r for r in rows if r.get("type") == "interval"]
bad = [r for r in iv if sum(r["parts_by_hook_ns"]["LOCAL_OUT"]) != r["sum_by_hook_ns"]["LOCAL_OUT"]
       or len(r["parts_by_hook_ns"]["LOCAL_OUT"]) != 5 or r["splits"] != [-250, -175, -50, 25]]
if not iv or bad:
    sys.exit("windows whose parts do not add up: %s" % bad)
n = sum(r["count"] for r in iv)
tot = [sum(r["parts_by_hook_ns"]["LOCAL_OUT"][k] for r in iv) for k in range(5)]
hook = sum(r["sum_by_hook_ns"]["LOCAL_OUT"] for r in iv)
cnt_avg = sum(r["count"] * r["avg_ns"] for r in iv)
# avg_ns is printed with one decimal: the total agrees within rounding
if abs(hook - cnt_avg) > 0.06 * n + 1:
    sys.exit("sum_by_hook_ns %d is not count x avg_ns %.0f" % (hook, cnt_avg))
print(" ".join("%.1f" % (t / n) for t in tot), n)
EOF
	check "$1: every window's parts add up to the hook total $(cat "$TMP/$1.perr")" \
		test -s "$TMP/$1.parts"
}

measure base
read -r raw0 ct0 mangle0 filter0 rest0 n0 <"$TMP/base.parts"
echo "# base per packet (ns): raw $raw0 conntrack $ct0 mangle+nat $mangle0 filter $filter0 rest $rest0 ($n0 packets)"
check "base: packets were timed ($n0)" test "$n0" -gt 1000
for p in raw0 mangle0 filter0; do
	check "base: the part with rules ($p) takes time: ${!p} ns" awk -v v="${!p}" 'BEGIN { exit !(v > 0) }'
done

{
	echo "*filter"
	for i in $(seq 500); do echo "-A OUTPUT -d 240.0.2.$((i % 250))/32 -p udp --dport $((1000 + i)) -j DROP"; done
	echo COMMIT
} >"$TMP/more"
check "500 more filter rules" ip netns exec "$CLI" iptables-legacy-restore --noflush "$TMP/more"
measure more
read -r raw1 _ _ filter1 _ n1 <"$TMP/more.parts"
echo "# 500 more filter rules, per packet (ns): raw $raw1 filter $filter1 ($n1 packets)"
check "the filter part grows with 500 filter rules ($filter0 -> $filter1 ns, >= 3x)" \
	awk -v a="$filter0" -v b="$filter1" 'BEGIN { exit !(b >= 3 * a) }'
check "the raw part does not ($raw0 -> $raw1 ns, < 1.5x)" \
	awk -v a="$raw0" -v b="$raw1" 'BEGIN { exit !(b < 1.5 * a) }'

finish
