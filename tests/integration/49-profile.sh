#!/bin/bash
# nfcost profile: a given rule set in a testbed of its own: the bloated
# chain and its fixes (speed-up and verdict check, also of a wrong rewrite),
# the split by table of a rule set with raw, mangle, nat and filter, a flow
# with its real addresses and a renamed interface, --from-host leaving the
# host's rule sets as they were, and bad input.
. "$(dirname "$0")/../lib.sh"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
EX=$ROOT/examples
json() { /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
host_fw() { iptables-save 2>&1 | grep -v '^#'; iptables-legacy-save 2>&1 | grep -v '^#'; nft list ruleset 2>&1; }
ours() { ip netns list | grep '^nfcost-pf' || true; procs_of "$NFCOST profile" | grep -v "$$" || true; }
fw_before=$(host_fw)

# --- the lab's bloated chain: 5000 DROP rules in OUTPUT ---
D=$OUT/bloated
check "profile of the bloated chain (all fixes)" \
	"$NFCOST" profile "$EX/bloated-chain.rules" -d 2 --samples 1000 --out "$D" --no-plot
check "profile.json, profile.md, fixes/ written" test -s "$D/profile.json" -a -s "$D/profile.md" -a -d "$D/fixes"
check_num "profile.json has the probe's own cost, measured (probe_overhead_ns)" \
	"$(json "$D/profile.json" 'd["probe_overhead_ns"] or 0')" -gt 0
check "profile.md states it" grep -q "the probe's own cost" "$D/profile.md"
check_eq "the original's flow passes" "passed" "$(json "$D/profile.json" 'd["variants"][0]["flows"][0]["verdict"]')"
filter_share=$(json "$D/profile.json" '[p["share"] for h in d["variants"][0]["flows"][0]["hooks"] if h["hook"] == "output" for p in h["parts"] if "filter" in p["label"]][0]')
check_num "filter takes >= 90 % of the OUTPUT hook's time" "$filter_share" -ge 0.9
for fix in nft-optimize ipset; do
	sp=$(json "$D/profile.json" "[v['speedup'] for v in d['variants'] if v['name'] == '$fix'][0]")
	check_num "$fix cuts the per-packet time >= 10x" "$sp" -ge 10
	check_eq "$fix keeps every verdict" "True" \
		"$(json "$D/profile.json" "[v['verdict_check']['equal'] for v in d['variants'] if v['name'] == '$fix'][0]")"
	check_num "$fix: the check sent the flow and samples" \
		"$(json "$D/profile.json" "[v['verdict_check']['samples'] for v in d['variants'] if v['name'] == '$fix'][0]")" -ge 20
	f=$(json "$D/profile.json" "[v['file'] for v in d['variants'] if v['name'] == '$fix'][0]")
	check "$fix: its rule set is under fixes/" test -s "$D/$f"
done
check_eq "established-first keeps every verdict" "True" \
	"$(json "$D/profile.json" "[v['verdict_check']['equal'] for v in d['variants'] if v['name'] == 'established-first'][0]")"
check "ipset: its sets are under fixes/ too" sh -c "test -s '$D/fixes/ipset.ipset'"
check "the dropped samples were seen dropped in output" sh -c "grep -q 'speed-up' '$D/profile.md'"
check "profile.md names the winner" grep -q '^\*\*Answer:\*\*' "$D/profile.md"
check_eq_eventually "nothing of the profile left" "$GONE_S" "" ours

# --- a wrong rewrite: the chain without 10 of its rules, one in every 500 ---
grep -v -- '-A OUTPUT' "$EX/bloated-chain.rules" | grep -v '^COMMIT' >"$OUT/wrong.rules"
grep -- '-A OUTPUT' "$EX/bloated-chain.rules" | awk 'NR % 500 != 1' >>"$OUT/wrong.rules"
echo COMMIT >>"$OUT/wrong.rules"
W=$OUT/wrong
check "profile with a wrong candidate" "$NFCOST" profile "$EX/bloated-chain.rules" --fix none \
	--candidate "$OUT/wrong.rules" -d 1 --samples 5000 --out "$W" --no-plot
check_eq "the verdict check catches it" "False" \
	"$(json "$W/profile.json" 'd["variants"][1]["verdict_check"]["equal"]')"
check_eq "and lists the 10 packets it lets through" "10" \
	"$(json "$W/profile.json" 'len([x for x in d["variants"][1]["verdict_check"]["differences"] if x["original"] == "dropped in output" and x["fixed"] == "passed"])')"
check "profile.md says the verdicts differ" grep -q 'DIFFERENT' "$W/profile.md"

# --- raw, mangle, nat and filter: the split by table ---
M=$OUT/multi
check "profile of the multi-table example" "$NFCOST" profile "$EX/multi-table.rules" --fix none -d 2 --out "$M" --no-plot
for t in raw mangle nat filter conntrack; do
	v=$(json "$M/profile.json" "sum(p['ns_per_packet'] for h in d['variants'][0]['flows'][0]['hooks'] if h['hook'] == 'output' for p in h['parts'] if '$t' in p['label'])")
	check_num "$t shows a time in OUTPUT" "$v" -gt 0
done
ratio=$(json "$M/profile.json" "[sum(p['ns_per_packet'] for p in h['parts']) / h['ns_per_packet'] for h in d['variants'][0]['flows'][0]['hooks'] if h['hook'] == 'output'][0]")
check_num "the parts add up to the hook's time (within 10 %)" "$ratio" -ge 0.9
check_num "... from above too" "$ratio" -le 1.1

# --- an nft rule set: its own base chains at their own priorities ---
cat >"$OUT/fw.nft" <<'NFT'
table inet fw {
	set blocked {
		type ipv4_addr
		elements = { 240.0.0.1, 240.0.0.2 }
	}
	chain early {
		type filter hook output priority -10; policy accept;
		ip daddr @blocked drop
	}
	chain late {
		type filter hook output priority 10; policy accept;
		ip daddr 240.0.0.5 tcp dport 443 drop
		ip daddr 240.0.0.6 tcp dport 443 drop
	}
}
NFT
N=$OUT/nft
check "profile of an nft rule set" "$NFCOST" profile "$OUT/fw.nft" -d 1 --out "$N" --no-plot
for c in early late; do
	v=$(json "$N/profile.json" "sum(p['ns_per_packet'] for h in d['variants'][0]['flows'][0]['hooks'] if h['hook'] == 'output' for p in h['parts'] if p['label'] == 'inet fw $c')")
	check_num "base chain $c is a part of its own with a time" "$v" -gt 0
done
check_eq "the ipset fix says it is for iptables rule sets" "False" \
	"$(json "$N/profile.json" "[v['applied'] for v in d['variants'] if v['name'] == 'ipset'][0]")"
check_eq "the check sent the flow and both rules' addresses (a named set's elements are not sampled)" "3" \
	"$(json "$N/profile.json" "[v['verdict_check']['samples'] for v in d['variants'] if v['name'] == 'established-first'][0]")"

# --- a flow with its real addresses, and an interface named as the rules expect ---
cat >"$OUT/iface.rules" <<'RULES'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A OUTPUT -o wan0 -d 198.19.7.7/32 -p udp -m udp --dport 53 -j DROP
COMMIT
RULES
I=$OUT/iface
check "profile with --iface wan0" "$NFCOST" profile "$OUT/iface.rules" --fix none --iface wan0 \
	--flow 'udp:198.19.5.5>198.19.7.7:53' --flow 'tcp:198.19.5.5>198.19.7.8:8443' --samples 0 -d 1 --out "$I" --no-plot
check_eq "the rule matches the flow on wan0: dropped in output" "dropped in output" \
	"$(json "$I/profile.json" 'd["variants"][0]["flows"][0]["verdict"]')"
check_eq "the other flow passes and is measured" "passed True" \
	"$(json "$I/profile.json" 'd["variants"][0]["flows"][1]["verdict"] + " " + str(d["variants"][0]["flows"][1]["measured"])')"
I2=$OUT/noiface
check "the same without --iface" "$NFCOST" profile "$OUT/iface.rules" --fix none \
	--flow 'udp:198.19.5.5>198.19.7.7:53' --samples 0 -d 1 --out "$I2" --no-plot
check_eq "then the rule does not match: passed" "passed" \
	"$(json "$I2/profile.json" 'd["variants"][0]["flows"][0]["verdict"]')"

# --- --from-host: read only ---
H=$OUT/host
check "profile --from-host" "$NFCOST" profile --from-host --fix none -d 1 --out "$H" --no-plot
check_eq "it says it read the host" "host" "$(json "$H/profile.json" 'd["ruleset"]["source"][:4]')"
check_eq_eventually "host's iptables-save, iptables-legacy-save and nft list ruleset byte-identical" "$GONE_S" "$fw_before" host_fw

# --- interrupted: exit 1, what was measured kept, nothing left ---
"$NFCOST" profile "$EX/bloated-chain.rules" -d 3 --out "$OUT/int" --no-plot >"$OUT/int.log" 2>&1 &
ppid=$!
sleep 4
kill -INT $ppid
wait $ppid; rc=$?
check_eq "a SIGINT ends the profile with exit 1" 1 "$rc"
check "it says so in one nfcost: line" grep -q '^nfcost: profile interrupted' "$OUT/int.log"
check "no other stderr line but nfcost:'s" sh -c "! grep -v -e '^nfcost: ' -e '^profile: ' '$OUT/int.log'"
check_eq_eventually "nothing of the interrupted profile left" "$GONE_S" "" ours

# --- bad input: one line, exit 2, nothing left ---
printf '*filter\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -d 240.0.0.1 -j NOSUCHTARGET\nCOMMIT\n' >"$OUT/bad.rules"
check_exit "a rule set that does not load" 2 "does not load.*(line|NOSUCHTARGET)" "$NFCOST" profile "$OUT/bad.rules" --fix none -d 1 --out "$OUT/bad" --no-plot
check_eq_eventually "nothing left after the failed load" "$GONE_S" "" ours
check "and no --out behind it" test ! -e "$OUT/bad"
mkdir "$OUT/had"
check_exit "the same into deeper new directories" 2 "does not load" "$NFCOST" profile "$OUT/bad.rules" --fix none -d 1 --out "$OUT/had/new/deeper" --no-plot
check "none of them is left; the one that was there stays" sh -c "test -d '$OUT/had' && ! test -e '$OUT/had/new'"
printf 'this is not a rule set\n' >"$OUT/junk.rules"
check_exit "a file in no rule-set format" 2 "" "$NFCOST" profile "$OUT/junk.rules" --out "$OUT/junk"
check_exit "an unknown fix" 2 "unknown fix" "$NFCOST" profile "$EX/bloated-chain.rules" --fix ipset,magic
check_exit "a bad flow" 2 "flow" "$NFCOST" profile "$EX/bloated-chain.rules" --flow tcp:198.18.0.2
check_exit "a flow to loopback" 2 "flow" "$NFCOST" profile "$EX/bloated-chain.rules" --flow udp:127.0.0.1:53
check_exit "no rule set" 2 "rule set" "$NFCOST" profile
check_exit "both a file and --from-host" 2 "rule set" "$NFCOST" profile "$EX/bloated-chain.rules" --from-host
check_exit "flowtable on the output hook" 2 "forward" "$NFCOST" profile "$EX/bloated-chain.rules" --fix flowtable
check_exit "a missing file" 2 "" "$NFCOST" profile "$OUT/nonexistent.rules"
check_eq_eventually "nothing of any profile left" "$GONE_S" "" ours
check_eq_eventually "the host's firewall as before" "$GONE_S" "$fw_before" host_fw
finish
