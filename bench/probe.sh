#!/bin/bash
# Benchmark (not a test): what the probe itself costs every packet.
# 16-byte UDP datagrams at full speed (iperf3 -u -l 16 -b 0) from a
# testbed's client to its server, alternating without and with
# `nfcost trace --tracer nfhook` attached in the client namespace, ROUNDS
# rounds of SECS seconds each, per VARIANT of the probe's settings, in up to
# three settings: no hook at all in the client namespace (the probe's
# programs are its only hooks, so the probe also pays nf_hook_slow's entry),
# the empty chain (an empty iptables-legacy filter table, as a sweep's first
# step and the calibration have it), and RULES iptables-legacy rules in
# filter OUTPUT (RULES=0: no such setting).
# Prints, per setting and variant, datagrams/s each way, their ratio, and the
# probe's cost per datagram two ways: from the rate (1/with - 1/without: the
# sender is CPU-bound) and from the machine's busy CPU time per datagram
# (/proc/stat); then one more round with the kernel's BPF statistics on
# (kernel.bpf_stats_enabled, restored after), the run time per program run
# of each of the probe's programs. The rates come from rounds with the
# statistics off: they cost two clock reads per program run themselves.
# Then, at the empty chain, probe_overhead_ns per variant: the sending
# thread's CPU time per datagram with minus without the probe, the median
# of 15 short pairs (experiments/overhead.c, what nfcost reports), ROUNDS
# times, interleaved: the figure the default sampling is chosen by, since
# the thread's CPU time shrugs off the other load on the machine that the
# rates feel (bench/probe_cost.c, built here against build/libnfcost.a).
# Target: with/without >= 0.97 at the empty chain (<= ~100 ns per datagram).
# VARIANTS: the values of --sample to measure (default "1 4 16 64"); "-"
# runs trace without --sample (an older build, which has no such option).
# RATES=0 skips the iperf3 rounds (only probe_overhead_ns); COST=0 skips
# probe_overhead_ns (needed for an older build, which lacks --sample).
# NOHOOK=0 skips the first setting. NFCOST=path runs another build (e.g. an
# older commit's, for before/after).
# Run it under the machine lock: flock /tmp/nfcost-machine.lock bench/probe.sh
set -eu
cd "$(dirname "$0")/.."
NFCOST=${NFCOST:-build/nfcost}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-3}
RULES=${RULES:-1000}
NOHOOK=${NOHOOK:-1} # 0: skip the setting without any hook
VARIANTS=${VARIANTS:-1 4 16 64}
RATES=${RATES:-1}
COST=${COST:-1}
NAME=pb$$
CLI=nfcost-$NAME-cli
TMP=$(mktemp -d)
TRACE_PID=
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)

cleanup() {
	sysctl -q kernel.bpf_stats_enabled="$STATS_WAS" || true
	[ -n "$TRACE_PID" ] && kill -INT "$TRACE_PID" 2>/dev/null && wait "$TRACE_PID" 2>/dev/null
	"$NFCOST" testbed down --name "$NAME" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

# busy: the machine's non-idle CPU time so far, in clock ticks
busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }

# run_udp: one iperf3 run; prints "DATAGRAMS SECONDS BUSY_TICKS"
run_udp() {
	local b0 b1
	b0=$(busy)
	ip netns exec "$CLI" iperf3 -c 198.18.0.2 -p 443 -u -l 16 -b 0 -t "$SECS" -J >"$TMP/iperf.json"
	b1=$(busy)
	/usr/bin/python3 - "$TMP/iperf.json" "$((b1 - b0))" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["end"]["sum"]
print(s["packets"], s["seconds"], sys.argv[2])
EOF
}

# attach VARIANT: starts nfcost trace on the client's hooks, until ready
attach() {
	local args=()
	[ "$1" = - ] || args=(--sample "$1")
	rm -f "$TMP/ready"
	"$NFCOST" trace --tracer nfhook --netns "$CLI" -i 1 "${args[@]}" --ready-file "$TMP/ready" \
		>/dev/null 2>"$TMP/trace.err" &
	TRACE_PID=$!
	for _ in $(seq 100); do [ -e "$TMP/ready" ] && break; sleep 0.1; done
	[ -e "$TMP/ready" ] || { cat "$TMP/trace.err" >&2; exit 1; }
}

detach() {
	kill -INT "$TRACE_PID"
	wait "$TRACE_PID" || true
	TRACE_PID=
}

# prog_stats: "NAME NS_PER_RUN RUNS" of each program the tracer holds
prog_stats() {
	sed -n 's/^prog_id:[[:space:]]*//p' /proc/"$TRACE_PID"/fdinfo/* 2>/dev/null | sort -un |
	while read -r id; do
		bpftool -j prog show id "$id"
	done | /usr/bin/python3 -c '
import json, sys
dec = json.JSONDecoder()
text = sys.stdin.read()
i = 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    p, i = dec.raw_decode(text, i)
    n = p.get("run_cnt", 0)
    print(p.get("name", "?"), "%.1f" % (p.get("run_time_ns", 0) / n if n else 0), n)'
}

# measure LABEL VARIANT: ROUNDS alternating rounds, the summary line, then
# the BPF statistics of one more round
measure() {
	: >"$TMP/off"; : >"$TMP/on"
	for _ in $(seq "$ROUNDS"); do
		run_udp >>"$TMP/off"
		attach "$2"
		run_udp >>"$TMP/on"
		detach
	done
	awk -v label="$1" -v variant="$2" -v hz="$(getconf CLK_TCK)" '
		FILENAME ~ /off$/ { n0 += $1; s0 += $2; b0 += $3 }
		FILENAME ~ /on$/  { n1 += $1; s1 += $2; b1 += $3 }
		END {
			r0 = n0 / s0; r1 = n1 / s1
			c0 = b0 / hz / n0 * 1e9; c1 = b1 / hz / n1 * 1e9
			printf "%-12s sample %-3s without %8.0f dgram/s  with %8.0f dgram/s  ratio %.3f  overhead %5.0f ns/dgram (rate), %5.0f ns/dgram (cpu: %.0f -> %.0f)\n",
				label, variant, r0, r1, r1 / r0, (1 / r1 - 1 / r0) * 1e9, c1 - c0, c0, c1
		}' "$TMP/off" "$TMP/on"
	attach "$2"
	sysctl -q kernel.bpf_stats_enabled=1
	run_udp >/dev/null
	prog_stats | while read -r prog ns runs; do
		printf '%-12s sample %-3s   bpf_stats %-14s %6s ns/run  (%s runs)\n' "$1" "$2" "$prog" "$ns" "$runs"
	done
	sysctl -q kernel.bpf_stats_enabled="$STATS_WAS"
	detach
}

# cost: probe_overhead_ns per variant at the empty chain, "median (all)"
cost() {
	local bin=build/bench/probe_cost
	mkdir -p build/bench
	cc -O2 -std=c11 -D_GNU_SOURCE -Ibuild -Isrc -o "$bin" bench/probe_cost.c build/libnfcost.a \
		-lbpf -lelf -lz -lmnl -lnftnl -lnftables -liperf -ljson-c -lpcap -lgsl -lgslcblas \
		-lcrypto -lm
	# shellcheck disable=SC2086
	ROUNDS=$ROUNDS "$bin" "/run/netns/$CLI" $VARIANTS >"$TMP/cost"
	for v in $VARIANTS; do
		awk -v v="$v" '$2 == v { print $4 }' "$TMP/cost" | sort -n | awk -v v="$v" '
			{ x[NR] = $1; all = all (NR > 1 ? " " : "") sprintf("%.0f", $1) }
			END { m = NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
			      printf "empty chain  sample %-3s probe_overhead_ns %5.0f (median of %d: %s)\n", v, m, NR, all }'
	done
}

"$NFCOST" testbed up --name "$NAME" >/dev/null
if [ "$NOHOOK" != 0 ] && [ "$RATES" != 0 ]; then
	for v in $VARIANTS; do measure "no hook" "$v"; done
fi
ip netns exec "$CLI" iptables-legacy -w -n -L OUTPUT >/dev/null
[ "$COST" = 0 ] || cost
[ "$RATES" = 0 ] || for v in $VARIANTS; do measure "empty chain" "$v"; done
if [ "$RULES" -gt 0 ] && [ "$RATES" != 0 ]; then
	"$NFCOST" rules add --count "$RULES" --backend iptables-legacy --name "$NAME" >/dev/null
	for v in $VARIANTS; do measure "$RULES rules" "$v"; done
fi
