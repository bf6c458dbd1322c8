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
finish
