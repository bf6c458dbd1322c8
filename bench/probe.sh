#!/bin/bash
# Benchmark (not a test): what the probe itself costs every packet.
# 16-byte UDP datagrams at full speed (iperf3 -u -l 16 -b 0) from a
# testbed's client to its server, alternating without and with
# `nfcost trace --tracer nfhook` attached in the client namespace, ROUNDS
# rounds of SECS seconds each, in three settings: no hook at all in the
# client namespace (the probe's programs are its only hooks, so the probe
# also pays nf_hook_slow's entry), the empty chain (an empty iptables-legacy
# filter table, as a sweep's first step and the calibration have it), and
# RULES iptables-legacy rules in filter OUTPUT (RULES=0: no such setting).
# Prints datagrams/s each way, their ratio, and the probe's cost per
# datagram two ways: from the rate (1/with - 1/without: the sender is
# CPU-bound) and from the machine's busy CPU time per datagram (/proc/stat).
# Target: with/without >= 0.97 at the empty chain (<= ~100 ns per datagram).
# NOHOOK=0 skips the first setting. NFCOST=path runs another build (e.g. an older commit's, for before/after).
# Run it under the machine lock: flock /tmp/nfcost-machine.lock bench/probe.sh
set -eu
cd "$(dirname "$0")/.."
NFCOST=${NFCOST:-build/nfcost}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-3}
RULES=${RULES:-1000}
NOHOOK=${NOHOOK:-1} # 0: skip the setting without any hook
NAME=pb$$
CLI=nfcost-$NAME-cli
TMP=$(mktemp -d)
TRACE_PID=

cleanup() {
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

# with_probe: run_udp while nfcost trace is attached to the client's hooks
with_probe() {
	rm -f "$TMP/ready"
	"$NFCOST" trace --tracer nfhook --netns "$CLI" -i 1 --ready-file "$TMP/ready" >/dev/null 2>"$TMP/trace.err" &
	TRACE_PID=$!
	for _ in $(seq 100); do [ -e "$TMP/ready" ] && break; sleep 0.1; done
	[ -e "$TMP/ready" ] || { cat "$TMP/trace.err" >&2; exit 1; }
	run_udp
	kill -INT "$TRACE_PID"
	wait "$TRACE_PID" || true
	TRACE_PID=
}

# measure LABEL: ROUNDS alternating rounds, then the summary line
measure() {
	: >"$TMP/off"; : >"$TMP/on"
	for _ in $(seq "$ROUNDS"); do
		run_udp >>"$TMP/off"
		with_probe >>"$TMP/on"
	done
	awk -v label="$1" -v hz="$(getconf CLK_TCK)" '
		FILENAME ~ /off$/ { n0 += $1; s0 += $2; b0 += $3 }
		FILENAME ~ /on$/  { n1 += $1; s1 += $2; b1 += $3 }
		END {
			r0 = n0 / s0; r1 = n1 / s1
			c0 = b0 / hz / n0 * 1e9; c1 = b1 / hz / n1 * 1e9
			printf "%-12s without %8.0f dgram/s  with %8.0f dgram/s  ratio %.3f  overhead %5.0f ns/dgram (rate), %5.0f ns/dgram (cpu: %.0f -> %.0f)\n",
				label, r0, r1, r1 / r0, (1 / r1 - 1 / r0) * 1e9, c1 - c0, c0, c1
		}' "$TMP/off" "$TMP/on"
}

"$NFCOST" testbed up --name "$NAME" >/dev/null
[ "$NOHOOK" = 0 ] || measure "no hook"
ip netns exec "$CLI" iptables-legacy -w -n -L OUTPUT >/dev/null
measure "empty chain"
if [ "$RULES" -gt 0 ]; then
	"$NFCOST" rules add --count "$RULES" --backend iptables-legacy --name "$NAME" >/dev/null
	measure "$RULES rules"
fi
