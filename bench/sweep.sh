#!/bin/sh
# Benchmark (not a test): wall time of the lab's sweep with 1 s steps.
# Target: <= 60 s for --rules 0:3000:100 -d 1 on a 2-core machine.
set -eu
cd "$(dirname "$0")/.."
out=$(mktemp -d)
start=$(date +%s.%N)
${NFCOST:-build/nfcost} sweep --rules 0:3000:100 -d 1 --backend iptables-legacy --no-plot --out "$out" | tail -2
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { w = e - s; printf "wall %.1f s, target 60 s: %s (%.2fx)\n", w, w <= 60 ? "met" : "MISSED", w / 60 }'
rm -rf "$out"
