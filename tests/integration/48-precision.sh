#!/bin/bash
# Issue 13, part 6: precision on demand. --repeat N runs N rounds, each
# visiting the rule counts in its own random order and loading the exact
# count in one transaction; sweep.json records every visit and the per-round
# slopes with their spread; --precision PCT adds rounds until the pooled
# slope's 95 % CI half-width is at most PCT % of it, or --budget ends.
. "$(dirname "$0")/../lib.sh"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
json() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
col() { # col FILE NAME: the column's values, one per line
	awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } { print $c }' "$1"
}
# UDP and 1 s steps: iptables-legacy addr-port still costs several ns per
# rule per datagram, 10 us and more at 2000 rules, far above the noise.
COMMON=(--backend iptables-legacy --traffic udp -d 1 --no-plot --updates 0)

# --- --repeat 3: rounds in their own orders, exact counts ---
R="$OUT/r3"
check "sweep --repeat 3 runs" "$NFCOST" sweep --rules 0:2000:500 --repeat 3 --seed 11 "${COMMON[@]}" --out "$R"
check_eq "15 rows: 5 counts x 3 rounds" 15 "$(tail -n +2 "$R/sweep.csv" | grep -c .)"
check_eq "the repeat column is the round: each count once per round" \
	"$(printf '%s\n' {1..3},{0,500,1000,1500,2000} | sort | xargs)" \
	"$(paste -d, <(col "$R/sweep.csv" repeat) <(col "$R/sweep.csv" rules) | sort | xargs)"
check_eq "sweep.json: 3 rounds, all done" "3 rounds" \
	"$(json "$R/sweep.json" 'd["rounds"]["rounds"], d["rounds"]["stop_reason"]' | tr -d "(),'")"
check_eq "sweep.json records the seed" 11 "$(json "$R/sweep.json" 'd["random_seed"]')"
# the visits, in the order they happened, against the CSV's rows
visits=$(json "$R/sweep.json" '" ".join("%d:%d" % (i + 1, v["rules"]) for i, r in enumerate(d["rounds"]["visits"]) for v in r)')
check_eq "visits in sweep.json are the CSV's rows, in order" \
	"$(paste -d: <(col "$R/sweep.csv" repeat) <(col "$R/sweep.csv" rules) | xargs)" "$visits"
# ... and the order the iperf3 files were written in
by_mtime() { # by_mtime ROUND: the rule counts of that round's iperf3 files, oldest first
	find "$R/iperf" -name "rules-*-r$1.json" -printf '%T@ %f\n' | sort -n |
		sed -E 's/.*rules-0*([0-9]+)-r.*/\1/; s/^$/0/' | xargs
}
orders=""
for r in 1 2 3; do
	check_eq "round $r's iperf3 files were written in the recorded order" \
		"$(json "$R/sweep.json" "\" \".join(str(v[\"rules\"]) for v in d[\"rounds\"][\"visits\"][$r - 1])")" \
		"$(by_mtime $r)"
	orders+="$(by_mtime $r | tr ' ' ,)"$'\n'
done
check_num "the rounds visit the counts in different orders (distinct orders)" \
	"$(printf '%s' "$orders" | sort -u | grep -c .)" -ge 2
check_eq "after every load the kernel held exactly the row's rule count" "True" \
	"$(json "$R/sweep.json" 'all(v["counted"] == v["rules"] for r in d["rounds"]["visits"] for v in r)')"
check_eq "every row's inject_ms is its own load's (> 0)" "" \
	"$(col "$R/sweep.csv" inject_ms | awk '!($1 > 0)')"
# A load that did not flush would leave the last round's rules in place: the
# empty chain would cost what a long one does. Per round, 0 rules stays far
# below 1000 rules whatever order the round had.
for r in 1 2 3; do
	l0=$(awk -F, -v r=$r 'NR > 1 && $2 == r && $1 == 0 { print $7 }' "$R/sweep.csv")
	l1k=$(awk -F, -v r=$r 'NR > 1 && $2 == r && $1 == 1000 { print $7 }' "$R/sweep.csv")
	check_num "round $r: the empty chain ($l0 ns) costs under half of 1000 rules ($l1k ns)" \
		"$l0" -lt "$(awk -v a="$l1k" 'BEGIN { print a / 2 }')"
done
check_eq "three per-round slopes, each > 0" "3 True" \
	"$(json "$R/sweep.json" 'len(d["rounds"]["slopes_ns_per_rule"]), all(s > 0 for s in d["rounds"]["slopes_ns_per_rule"])' | tr -d '(),')"
check_eq "mean, SD and CV agree with the per-round slopes" "True" "$(json "$R/sweep.json" \
	'(lambda r, s: abs(r["slope_mean_ns_per_rule"] - sum(s) / len(s)) < 1e-9 * abs(sum(s)) and abs(r["slope_cv"] - r["slope_sd_ns_per_rule"] / abs(r["slope_mean_ns_per_rule"])) < 1e-9 and abs(r["slope_sd_ns_per_rule"] ** 2 - sum((x - sum(s) / len(s)) ** 2 for x in s) / (len(s) - 1)) < 1e-6 * r["slope_sd_ns_per_rule"] ** 2 + 1e-12)(d["rounds"], d["rounds"]["slopes_ns_per_rule"])')"
check_eq "the pooled slope is the analysis' fit over every round's rows" "True" \
	"$(json "$R/sweep.json" 'abs(d["rounds"]["pooled_slope_ns_per_rule"] - d["analysis"]["slope_ns_per_rule"]) < 1e-9 * abs(d["analysis"]["slope_ns_per_rule"]) and d["analysis"]["rows"] == 15')"
check "report.md says how precise the slope is" grep -q '^## How precise is the slope?' "$R/report.md"
check "report.md lists the per-round slopes" grep -Eq '^\| [0-9.]+, [0-9.]+, [0-9.]+ \| [0-9.]+ \|' "$R/report.md"

# --- the acceptance: --precision 5 --budget 120 ---
P="$OUT/p5"
check "sweep --precision 5 --budget 120 runs" bash -c "'$NFCOST' sweep --rules 0:2000:500 --precision 5 --budget 120 ${COMMON[*]} --out '$P' >'$OUT/p5.out'"
check_eq "it stopped because the target was reached" "True precision" \
	"$(json "$P/sweep.json" 'd["rounds"]["precision_reached"], d["rounds"]["stop_reason"]' | tr -d "(),'")"
lo=$(json "$P/sweep.json" 'd["analysis"]["slope_ci95"][0]')
hi=$(json "$P/sweep.json" 'd["analysis"]["slope_ci95"][1]')
slope=$(json "$P/sweep.json" 'd["analysis"]["slope_ns_per_rule"]')
check_num "the pooled slope's 95 % CI half-width in % of the slope ($slope ns/rule, CI $lo..$hi)" \
	"$(awk -v l="$lo" -v h="$hi" -v s="$slope" 'BEGIN { print 100 * (h - l) / 2 / s }')" -le 5
rounds=$(json "$P/sweep.json" 'd["rounds"]["rounds"]')
check_num "at least two rounds, so that a spread exists: rounds" "$rounds" -ge 2
check_eq "its rounds are recorded: a slope each, every row's round among them" "True" \
	"$(json "$P/sweep.json" 'len(d["rounds"]["slopes_ns_per_rule"]) == d["rounds"]["rounds"] == len(d["rounds"]["visits"]) and d["analysis"]["rows"] == 5 * d["rounds"]["rounds"]')"
check_eq "the CSV holds every round" "$rounds" "$(col "$P/sweep.csv" repeat | sort -n | tail -1)"
check_num "the coefficient of variation is recorded" "$(json "$P/sweep.json" 'd["rounds"]["slope_cv"]')" -ge 0
check_num "within the budget: wall time" "$(json "$P/sweep.json" 'd["wall_s"]')" -le 120
check "stdout says the target was reached" grep -q '^precision 5 %: reached (stopped by: precision)' "$OUT/p5.out"
check "report.md says so" grep -q '\*\*Reached\*\* (stopped by: precision)' "$P/report.md"

# --- a target out of reach: the budget ends it, and it says so ---
B="$OUT/budget"
check "sweep --precision 0.01 --budget 15 runs (exit 0)" bash -c "'$NFCOST' sweep --rules 0:1000:500 --precision 0.01 --budget 15 ${COMMON[*]} --out '$B' >'$OUT/b.out'"
check_eq "the budget stopped it, the target not reached" "False budget" \
	"$(json "$B/sweep.json" 'd["rounds"]["precision_reached"], d["rounds"]["stop_reason"]' | tr -d "(),'")"
check_num "no round started that would end well after the budget: wall time" \
	"$(json "$B/sweep.json" 'd["wall_s"]')" -le 20
check "stdout says the target was not reached" grep -q 'NOT reached (stopped by: budget)' "$OUT/b.out"

# --- bad input ---
check_exit "--precision with --repeat is bad usage" 2 "drop --repeat" "$NFCOST" sweep --precision 5 --repeat 3
check_exit "--precision 0 is bad usage" 2 "above 0 and below 100" "$NFCOST" sweep --precision 0
check_exit "--precision 100 is bad usage" 2 "above 0 and below 100" "$NFCOST" sweep --precision 100
check_exit "--precision abc is bad usage" 2 "above 0 and below 100" "$NFCOST" sweep --precision abc
check_exit "--budget 0 is bad usage" 2 "--budget takes" "$NFCOST" sweep --precision 5 --budget 0
check_exit "--budget without --precision is bad usage" 2 "goes with --precision" "$NFCOST" sweep --budget 60
check_exit "compare: --precision with --repeat is bad usage" 2 "drop --repeat" \
	"$NFCOST" compare --backends nft,nft-set --precision 5 --repeat 2
check_eq "nothing is left behind" "" "$(ip netns list | grep '^nfcost-sw' || true)"
finish
