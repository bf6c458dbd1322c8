#!/bin/bash
# scripts/plot_results.py profile on tests/fixtures/profile (a 5000-rule
# chain at ~120 us per packet, three fixes at ~200-430 ns, one with a verdict
# difference, one that does not apply; two flows): one panel per flow, one
# stacked bar per applied variant whose segments are the measured hook's
# parts, the speed-ups over the fixes, the hatch on the fix whose verdicts
# differ, a log axis for that spread and a linear one for a small spread, an
# empty panel with its error for a flow not measured; and every malformed
# profile.json gives one "nfcost: plot:" line, exit 2 and no profile.png.
# Needs neither root nor a kernel feature: only /usr/bin/python3 + matplotlib.
# lib.sh is followed with shellcheck -x; plain shellcheck need not say so.
# shellcheck source-path=SCRIPTDIR source=../lib.sh disable=SC1091
. "$(dirname "$0")/../lib.sh"

# shellcheck source=plotlib
. "$(dirname "$0")/plotlib"
GOOD=$FIX/profile/profile.json

# draw DIR: profile.png, with its --describe output in DIR.json
draw() {
	"$PY" "$PLOT" profile "$1" --describe >"$1.json"
}

# q DESC EXPR: a Python expression over a --describe output (d, and a = its axes)
q() {
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1])); a = d["axes"]
print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

# fx EXPR: a Python expression over the fixture itself (p = profile.json,
# v = its applied variants): what the figure should show, computed here
fx() {
	"$PY" -c 'import json, sys
p = json.load(open(sys.argv[1])); v = [x for x in p["variants"] if x["applied"]]
print(eval(sys.argv[2]))' "$GOOD" "$1" 2>&1
}

# edit STATEMENTS: D/profile.json = the fixture after the Python statements
# (on d, the document; o = d["variants"][0], the original)
edit() {
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1])); o = d["variants"][0]
exec(sys.argv[2])
json.dump(d, open(sys.argv[3], "w"), indent=1)' "$GOOD" "$1" "$D/profile.json"
}

# png_ok FILE: the PNG signature, and matplotlib reads it back at a sane size
png_ok() {
	"$PY" - "$1" <<'PYEOF'
import sys
import matplotlib.image

path = sys.argv[1]
with open(path, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n", "no PNG signature"
height, width, channels = matplotlib.image.imread(path).shape
assert 800 <= width <= 3000 and 500 <= height <= 3000 and channels in (3, 4), (width, height)
PYEOF
}

# ---------------------------------------------------------------- the fixture
D=$(fresh profile)
check "draws the figure" draw "$D"
check "profile.png is a valid PNG" png_ok "$D/profile.png"
check_eq "one panel per flow, titled with the flow and its verdict" \
	"$(fx '[f["flow"] + " (" + f["verdict"] + ")" for f in v[0]["flows"]]')" \
	"$(q "$D.json" '[ax["title"] for ax in a]')"
check_eq "panels side by side" True "$(q "$D.json" 'a[0]["position"][0] < a[1]["position"][0] and a[0]["position"][1] == a[1]["position"][1]')"
check_eq "the y label once, on the first panel, naming the hook and the unit" \
	"['time per packet in the OUTPUT hook (ns)', '']" "$(q "$D.json" '[ax["ylabel"] for ax in a]')"
applied=$(fx 'len(v)')
check_eq "the fix that does not apply has no bar: $applied bars per panel" "[$applied, $applied]" \
	"$(q "$D.json" '[len({x for b in ax["bars"] for x in b["x"]}) for ax in a]')"
check_eq "the bars are the applied variants, the original first" \
	"$(fx '[x["name"] for x in v]')" \
	"$(q "$D.json" '[t.split(chr(10))[0] for t in a[0]["xticklabels"]]')"
# one segment per part with time in it, of the hook crossed by the flow
# itself (reply false) in which its ns_per_packet was measured
segments=$(fx '[sum(1 for x in v for f in x["flows"] if f["flow"] == g["flow"]
	for h in f["hooks"] if not h["reply"] for q in h["parts"] if q["ns_per_packet"] > 0)
	for g in v[0]["flows"]]')
check_eq "one stack segment per part of the measured hook: $segments" "$segments" \
	"$(q "$D.json" '[sum(len(b["x"]) for b in ax["bars"]) for ax in a]')"
check_eq "each bar is as high as its flow's ns_per_packet" \
	"$(fx '[[round(f["ns_per_packet"], 1) for x in v for f in x["flows"] if f["flow"] == g["flow"]]
		for g in v[0]["flows"]]')" \
	"$(q "$D.json" '[[round(max(b + h for c in ax["bars"] for y, b, h in zip(c["x"], c["bottom"], c["height"]) if y == x), 1)
		for x in range(len(ax["xticklabels"]))] for ax in a]')"
check_eq "segments stack without gaps or overlaps" True \
	"$(q "$D.json" 'all(sorted((b, b + h) for c in ax["bars"] for y, b, h in zip(c["x"], c["bottom"], c["height"]) if y == x)[k][1]
		== sorted((b, b + h) for c in ax["bars"] for y, b, h in zip(c["x"], c["bottom"], c["height"]) if y == x)[k + 1][0]
		for ax in a for x in range(4) for k in range(len([1 for c in ax["bars"] if x in c["x"]]) - 1))')"
check_eq "the filter table is the top segment of the original's bar" filter \
	"$(q "$D.json" 'max((b + h, c["label"]) for c in a[0]["bars"] for y, b, h in zip(c["x"], c["bottom"], c["height"]) if y == 0)[1]')"
check_eq "one colour per label across the figure" True \
	"$(q "$D.json" '(all(len({col for ax in a for c in ax["bars"] if c["label"] == l for col in c["colour"]}) == 1
		for l in {c["label"] for ax in a for c in ax["bars"]}) and
		len({c["colour"][0] for ax in a for c in ax["bars"]}) == len({c["label"] for ax in a for c in ax["bars"]}))')"
check_eq "one legend, every label once, unlabeled parts as probe/other" \
	"[['probe/other', 'conntrack', 'filter', 'ip/filter/OUTPUT', 'verdicts differ from the original']]" \
	"$(q "$D.json" '[ax["legend"] for ax in a if ax["legend"]]')"
check_eq "the spread (> 30x) puts both panels on a log axis" "['log', 'log']" \
	"$(q "$D.json" '[ax["yscale"] for ax in a]')"
check_eq "... whose bottom leaves the foot of every bar visible" True \
	"$(q "$D.json" 'all(ax["ylim"][0] < min(h for c in ax["bars"] for b, h in zip(c["bottom"], c["height"]) if b == 0) for ax in a)')"
check_eq "the speed-up over each fix's bar (original / fix, per flow)" \
	"$(fx '[["%.0fx" % (o["ns_per_packet"] / f["ns_per_packet"]) for x in v[1:] for f in x["flows"] if f["flow"] == o["flow"]]
		for o in v[0]["flows"]]')" \
	"$(q "$D.json" '[ax["texts"] for ax in a]')"
diff=$(fx '[i for i, x in enumerate(v) if x["verdict_check"] and not x["verdict_check"]["equal"]]')
check_eq "only the fix whose verdicts differ ($diff) is hatched" "[$diff, $diff]" \
	"$(q "$D.json" '[sorted({int(x) for c in ax["bars"] for x, h in zip(c["x"], c["hatched"]) if h}) for ax in a]')"
check_eq "... and its tick says so" "ipset|≠ 1 verdict" \
	"$(q "$D.json" '"|".join(a[0]["xticklabels"][2].split(chr(10)))')"
check_eq "the title names the rule set, its size, tracer and kernel" True \
	"$(q "$D.json" 'all(w in d["suptitle"] for w in ("examples/bloated-chain.rules", "5000 rules", "nfhook", "6.1.0-27-amd64"))')"
check_eq "nothing drawn from the reply hook (the ACKs' INPUT)" False \
	"$(q "$D.json" 'any("INPUT" in (c["label"] or "") for ax in a for c in ax["bars"])')"
check "-o writes elsewhere" "$PY" "$PLOT" profile "$D" -o "$TMP/other.png"
check "-o output is a valid PNG" png_ok "$TMP/other.png"

# ---------------------------------------------------------------- a small spread
# the original 3x slower than its fixes, not 400x: bar heights read better
# on a linear axis, which starts at 0
edit 'for f in o["flows"]:
    h = f["hooks"][0]; h["parts"][3]["ns_per_packet"] = 900.0
    h["ns_per_packet"] = f["ns_per_packet"] = round(sum(q["ns_per_packet"] for q in h["parts"]), 1)'
check "a small spread draws" draw "$D"
check_eq "a small spread (< 30x) keeps linear axes from 0" "[['linear', 0.0], ['linear', 0.0]]" \
	"$(q "$D.json" '[[ax["yscale"], ax["ylim"][0]] for ax in a]')"
check_eq "... and the speed-ups are single digits" "[['3.3x', '3.4x', '5.2x'], ['2.7x', '2.8x', '3.7x']]" \
	"$(q "$D.json" '[ax["texts"] for ax in a]')"

# ---------------------------------------------------------------- parts of zero ns on a log axis
# conntrack not seen in one fix: that bar has no such segment, and the log
# axis is unbroken (no warning, a figure)
edit 'd["variants"][1]["flows"][0]["hooks"][0]["parts"][1]["ns_per_packet"] = 0.0
f = d["variants"][1]["flows"][0]; h = f["hooks"][0]
h["ns_per_packet"] = f["ns_per_packet"] = round(sum(q["ns_per_packet"] for q in h["parts"]), 1)
d["variants"][3]["flows"][1]["hooks"][0]["parts"][0]["ns_per_packet"] = 0.0
f = d["variants"][3]["flows"][1]; h = f["hooks"][0]
h["ns_per_packet"] = f["ns_per_packet"] = round(sum(q["ns_per_packet"] for q in h["parts"]), 1)'
err=$("$PY" "$PLOT" profile "$D" --describe 2>&1 >"$D.json"); rc=$?
check_eq "zero-ns parts on a log axis: exit 0, nothing on stderr" "0 " "$rc $err"
check_eq "... one segment fewer in each panel, still log" \
	"$(fx '[sum(1 for x in v for f in x["flows"] if f["flow"] == g["flow"]
		for h in f["hooks"] if not h["reply"] for q in h["parts"] if q["ns_per_packet"] > 0) - 1
		for g in v[0]["flows"]] + ["log", "log"]')" \
	"$(q "$D.json" '[sum(len(b["x"]) for b in ax["bars"]) for ax in a] + [ax["yscale"] for ax in a]')"
check_eq "... and no rectangle of height 0" True "$(q "$D.json" 'all(h > 0 for ax in a for c in ax["bars"] for h in c["height"])')"

# ---------------------------------------------------------------- flows not measured
edit 'for x in d["variants"]:
    if x["flows"]:
        f = json.loads(json.dumps(x["flows"][1])); x["flows"].append(f)
        f.update(flow="udp:198.18.0.9:123:64", verdict="not seen", measured=False, ns_per_packet=None,
                 hooks=[], error="iperf3: unable to connect to the server: Connection refused")
x = d["variants"][2]["flows"][0]
x.update(measured=False, ns_per_packet=None, hooks=None, error="the testbed went away")'
check "flows not measured: draws" draw "$D"
check_eq "a third flow, a third panel, in the same row" "[3, True]" \
	"$(q "$D.json" '[len(a), len({ax["position"][1] for ax in a}) == 1]')"
check_eq "the flow not measured: an empty panel with its error" \
	"[[], ['not measured:|iperf3: unable to connect to the|server: Connection refused'], []]" \
	"$(q "$D.json" '[[c["x"] for c in a[2]["bars"]], ["|".join(t.split(chr(10))) for t in a[2]["texts"]], a[2]["xticklabels"]]')"
check_eq "a fix not measured for one flow: no bar there, and a note" "[[0, 1, 3], 'not measured']" \
	"$(q "$D.json" '[sorted({int(x) for c in a[0]["bars"] for x in c["x"]}), [t for t in a[0]["texts"] if not t.endswith("x")][0]]')"

# ---------------------------------------------------------------- many flows
edit 'for x in d["variants"]:
    for k in range(5):
        if x["flows"]:
            f = json.loads(json.dumps(x["flows"][k % 2])); f["flow"] += f"-{k}"; x["flows"].append(f)'
check "seven flows draw" draw "$D"
check_eq "seven panels in rows of three" "[7, 3]" \
	"$(q "$D.json" '[len(a), len({ax["position"][1] for ax in a})]')"
check "seven flows: a valid PNG" png_ok "$D/profile.png"

# ---------------------------------------------------------------- malformed profile.json
# bad DESC MSG_REGEX: D/profile.json (as the caller wrote it) is refused
bad() {
	rm -f "$D/profile.png"
	check_exit "$1" 2 "$D/profile.json: .*$2" "$PY" "$PLOT" profile "$D"
	if [ -e "$D/profile.png" ]; then fail "$1: profile.png written"; fi
}
D=$(fresh profile)
rm "$D/profile.json"
bad "no profile.json" "no such file"
head -c 2000 "$GOOD" >"$D/profile.json"
bad "a truncated profile.json" "truncated JSON"
echo '[]' >"$D/profile.json"
bad "an array at the top" "expected a JSON object"
sed '0,/"ns_per_packet": 121840.0/s//"ns_per_packet": NaN/' "$GOOD" >"$D/profile.json"
bad "NaN as a time" "not valid JSON for nfcost: NaN"
edit 'del d["variants"]'
bad "no variants" "variants is missing"
edit 'd["variants"] = {"original": o}'
bad "variants an object" "variants is an object, not an array"
edit 'd["variants"] = []'
bad "no variant at all" "variants is empty"
edit 'd["variants"] = [o] * 17'
bad "17 variants" "variants has 17 entries, at most 16"
edit 'o["applied"] = False'
bad "an original that is not applied" "variants\[0\]: the original \(original\) is not applied"
edit 'o["applied"] = "yes"'
bad "applied a string" "variants\[0\]: applied is \"yes\", not true or false"
edit 'del d["variants"][1]["name"]'
bad "a variant without a name" "variants\[1\]: name is missing"
edit 'd["variants"][1]["name"] = "nft\u0000x"'
bad "NUL in a variant's name" 'variants\[1\]: name "nft\\x00x" is not a name'
edit 'o["flows"] = []'
bad "an original without flows" "variants\[0\]: flows is empty"
edit 'o["flows"] = o["flows"] * 7'
bad "14 flows" "flows has 14 entries, at most 12"
edit 'o["flows"].append(o["flows"][0])'
bad "a flow twice" "flows\[2\]: flow tcp:198.18.0.2:443 appears twice"
edit 'd["variants"][2]["flows"][1]["flow"] = "udp:198.18.0.3:53"'
bad "a fix's flow the original does not have" "variants\[2\].flows\[1\]: flow udp:198.18.0.3:53 is not one of the original's"
edit 'o["flows"][0]["measured"] = 1'
bad "measured a number" "flows\[0\]: measured is 1.0, not true or false"
edit 'o["flows"][1]["ns_per_packet"] = "fast"'
bad "ns_per_packet a string" "variants\[0\].flows\[1\]: ns_per_packet is \"fast\", not a number"
edit 'o["flows"][1]["ns_per_packet"] = None'
bad "a measured flow without ns_per_packet" "flows\[1\]: ns_per_packet is missing"
edit 'o["flows"][1]["ns_per_packet"] = 1e300'
bad "1e300 ns" "ns_per_packet is 1e\+300, out of range"
edit 'del o["flows"][0]["hooks"]'
bad "a measured flow without hooks" "flows\[0\]: hooks is missing"
edit 'o["flows"][0]["hooks"] = o["flows"][0]["hooks"] * 6'
bad "12 hooks" "hooks has 12 entries, at most 10"
edit 'o["flows"][0]["hooks"][0]["reply"] = True'
bad "no hook crossed by the flow itself" "flows\[0\]: no hook with reply false has the flow's ns_per_packet \(121840 ns\)"
edit 'o["flows"][0]["ns_per_packet"] = 120000.0'
bad "a flow time no hook has" "no hook with reply false has the flow's ns_per_packet \(120000 ns\)"
edit 'o["flows"][0]["hooks"][0]["parts"][3]["ns_per_packet"] = 90000.0'
bad "parts that do not add up to the hook" "hooks\[0\]: the parts add up to 90149.5 ns, the hook's ns_per_packet is 121840 ns"
edit 'o["flows"][0]["hooks"][0]["parts"][1]["ns_per_packet"] = -96.2'
bad "a negative part" "hooks\[0\].parts\[1\]: ns_per_packet is -96.2, negative"
edit 'o["flows"][0]["hooks"][0]["parts"][1]["label"] = 7'
bad "a label that is a number" "parts\[1\]: label is 7.0, not a string"
edit 'o["flows"][0]["hooks"][0]["parts"][1]["label"] = "con\u001b[31mtrack"'
bad "a terminal escape in a label, shown escaped" 'parts\[1\]: label "con\\x1b\[31mtrack" is not a name'
edit 'o["flows"][0]["hooks"][0]["parts"] = [{"label": f"t{k}", "ns_per_packet": 1.0} for k in range(17)]'
bad "17 parts" "parts has 17 entries, at most 16"
edit 'for k, x in enumerate(d["variants"][:4]):
    for j, f in enumerate(x["flows"]):
        for i, q in enumerate(f["hooks"][0]["parts"]): q["label"] = f"chain{k}.{j}.{i}"'
bad "32 labels (more than the colours)" "32 part labels, a figure tells at most 18 apart"
edit 'd["variants"][2]["verdict_check"] = {"samples": 57}'
bad "a verdict check without equal" "variants\[2\].verdict_check: equal is missing"
edit 'd["variants"][2]["verdict_check"]["differences"] = "one"'
bad "differences a string" "verdict_check: differences is \"one\", not an array"
edit 'd["ruleset"]["source"] = ["a"]'
bad "a rule set source that is no string" "ruleset: source is an array, not a string"
edit 'o["flows"][0]["error"] = {"why": 1}'
bad "an error that is no string" "flows\[0\]: error is an object, not a string"
"$PY" -c 'import sys; n = 100000; print("{\"variants\": " + "[" * n + "]" * n + "}")' >"$D/profile.json"
bad "nested 100000 deep" "nested too deeply"

# not bad input: an unknown fix, a long error and a $ in a name draw quietly
# shellcheck disable=SC2016 # the $ is for matplotlib, not the shell
edit 'd["variants"][3]["name"] = "nat-bypass$x$"
x = d["variants"][3]["flows"][0]; x.update(measured=False, error="e\n" * 300)
d["variants"].append(dict(d["variants"][1], name="future-fix", speedup=None))'
err=$("$PY" "$PLOT" profile "$D" --describe 2>&1 >"$D.json"); rc=$?
check_eq "an unknown fix, a \$ in a name, a 600-character error: exit 0, nothing on stderr" "0 " "$rc $err"
check_eq "... the unknown fix is a bar like the others" "future-fix" "$(q "$D.json" 'a[0]["xticklabels"][-1]')"

finish
