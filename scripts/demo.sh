#!/bin/sh
# `make demo`: the lab's main experiment with the defaults (0..3000 rules in
# steps of 100, TCP, OUTPUT hook, iptables-nft, addr-port rules) into results/.
set -eu
cd "$(dirname "$0")/.."
out=results/demo-$(date -u +%Y%m%dT%H%M%SZ)
echo "nfcost demo: default sweep into $out (about 3 minutes)"
build/nfcost sweep --out "$out"
echo
sed -n '/^## Does hook latency/,/^## Figure/p' "$out/report.md" | sed '$d'
echo "Report: $out/report.md  Figure: $out/sweep.png  Data: $out/sweep.csv"
