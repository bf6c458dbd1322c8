#!/bin/bash
# The environment a sweep records (sweep.json "environment") and the
# warnings it gives when something distorts the figures.
. "$(dirname "$0")/../lib.sh"
WORK=$(mktemp -d)
TB=env$$
trap 'kill $TRACE $HOG 2>/dev/null; wait 2>/dev/null; $NFCOST testbed down --name $TB >/dev/null 2>&1; rm -rf "$WORK"' EXIT
TRACE=""; HOG=""
env_of() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["environment"][sys.argv[2]]; print(v if not isinstance(v, list) else "|".join(v))' "$@"; }
sweep() { "$NFCOST" sweep --rules 0:500:500 -d 1 --backend nft-set --no-plot --updates 0 --out "$1" >/dev/null 2>"$1.err"; }

check "a quiet sweep" sweep "$WORK/quiet"
check_eq "the JIT field is net.core.bpf_jit_enable" "$(cat /proc/sys/net/core/bpf_jit_enable)" \
	"$(env_of "$WORK/quiet/sweep.json" bpf_jit)"
check_eq "iptables' own version" "$(iptables -V | head -1)" "$(env_of "$WORK/quiet/sweep.json" iptables_version)"
check_eq "nft's own version" "$(nft -v | head -1)" "$(env_of "$WORK/quiet/sweep.json" nft_version)"
check "the libbpf version is recorded" test -n "$(env_of "$WORK/quiet/sweep.json" libbpf_version)"
check "the kernel command line is recorded" test -n "$(env_of "$WORK/quiet/sweep.json" kernel_cmdline)"
check_eq "no packet socket in the sweep's own namespace" "0" "$(env_of "$WORK/quiet/sweep.json" packet_sockets_in_netns)"

# Another tracer attached: its two BPF netfilter links count and are named.
check "testbed for a second tracer" "$NFCOST" testbed up --name $TB
"$NFCOST" trace --netns nfcost-$TB-cli -i 1 --ready-file "$WORK/ready" >/dev/null 2>&1 &
TRACE=$!
wait_until 10 test -s "$WORK/ready"
check "a sweep beside a running trace" sweep "$WORK/traced"
links=$(env_of "$WORK/traced/sweep.json" other_bpf_netfilter_links)
check_num "the trace's links are counted" "$links" -ge 2
check "and named in a warning on stderr" grep -q "other BPF netfilter program" "$WORK/traced.err"
check "and in sweep.json's warnings" grep -q "other BPF netfilter" <<<"$(env_of "$WORK/traced/sweep.json" warnings)"
kill $TRACE; wait $TRACE 2>/dev/null; TRACE=""

# A busy machine: both CPUs looping while the sweep starts.
timeout 30 stress-ng --cpu 2 --quiet >/dev/null 2>&1 &
HOG=$!
sleep 1
check "a sweep on a busy machine" sweep "$WORK/busy"
kill $HOG 2>/dev/null; wait $HOG 2>/dev/null; HOG=""
check "the busy machine is named in a warning" grep -q "machine was busy" "$WORK/busy.err"
check "and in report.md" grep -q "warning.*busy" "$WORK/busy/report.md"

# Load that starts during the run: both CPUs looping from the end of the
# first step (0 rules, quiet as far as this test goes) on. Other helpers
# may load the machine too: only relations within this run are asserted.
col() { awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } { print $c }' "$1"; }
L=$WORK/late
"$NFCOST" sweep --rules 0:2000:500 -d 2 --backend iptables-legacy --no-plot --updates 0 --out "$L" >/dev/null 2>"$L.err" &
SW=$!
# (while the sweep runs, its CSV is under a temporary name: .sweep.csv.nfcost-*)
wait_until 60 sh -c "[ \$(cat '$L'/.sweep.csv.nfcost-* '$L/sweep.csv' 2>/dev/null | tail -n +2 | grep -c .) -ge 1 ]"
stress-ng --cpu 2 --quiet --timeout 60 >/dev/null 2>&1 &
HOG=$!
wait $SW; rc=$?
kill $HOG 2>/dev/null; wait $HOG 2>/dev/null; HOG=""
check_eq "a sweep with load starting in it runs" 0 "$rc"
check_eq "sweep.csv has other_cpu_pct after offload (later columns are only appended)" \
	"offload,other_cpu_pct" "$(head -1 "$L/sweep.csv" | grep -o 'offload,other_cpu_pct')"
quiet=$(col "$L/sweep.csv" other_cpu_pct | head -1)
loaded=$(col "$L/sweep.csv" other_cpu_pct | tail -n +2 | sort -n | tail -1)
check_num "the loaded steps' other load ($loaded %) is above the quiet first step's ($quiet %)" \
	"$(awk -v a="${loaded:-0}" -v b="${quiet:-0}" 'BEGIN { print a - b }')" -gt 0
named=$(python3 -c 'import json,sys; print(" ".join(s.split()[0] for s in json.load(open(sys.argv[1]))["other_load"]["distorted"]))' "$L/sweep.json")
check "sweep.json names the distorted steps, loaded ones among them: $named" \
	sh -c "echo '$named' | grep -Eqw '500|1000|1500|2000'"
check "report.md warns and names them" \
	grep -Eq '^- \*\*warning\*\*: .*other work took 25 % of the CPUs or more during [1-5] of 5 steps.*(500|1000|1500|2000) rules: [0-9]+ %' "$L/report.md"
check "so does stderr" grep -q "other work took" "$L.err"
check "and sweep.json's warnings" grep -q "other work took" <<<"$(env_of "$L/sweep.json" warnings)"
finish
