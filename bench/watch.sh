#!/bin/bash
# Benchmark (not a test): what `nfcost watch` costs the traffic it watches.
# 16-byte UDP datagrams at full speed (iperf3 -u -l 16 -b 0) from a
# testbed's client to its server, alternating unwatched and watched (`nfcost
# watch --netns <client>` with its defaults: every hook, the default
# sampling, serving on 127.0.0.1 and scraped once a second, as a Prometheus
# would), ROUNDS rounds of SECS seconds each, on the empty chain (an empty
# iptables-legacy filter table in the client namespace, as a sweep's first
# step has it). Prints datagrams/s each way and their ratio; the target is
# watched/unwatched >= 0.97 at the default sampling.
# SAMPLE=N watches with --sample N instead of the default; HOOK=LIST with
# --hook LIST (the default watches every hook: this traffic passes two,
# output and postrouting, so it pays the probe twice).
# Run it under the machine lock: flock /tmp/nfcost-machine.lock bench/watch.sh
set -eu
cd "$(dirname "$0")/.."
NFCOST=${NFCOST:-build/nfcost}
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-3}
SAMPLE=${SAMPLE:-}
HOOK=${HOOK:-}
NAME=wb$$
CLI=nfcost-$NAME-cli
PORT=$((20000 + $$ % 20000))
TMP=$(mktemp -d)
WATCH_PID='' SCRAPE_PID=''

stop_watch() {
	if [ -n "$SCRAPE_PID" ]; then kill "$SCRAPE_PID" 2>/dev/null; wait "$SCRAPE_PID" 2>/dev/null || true; fi
	if [ -n "$WATCH_PID" ]; then kill -TERM "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null || true; fi
	SCRAPE_PID='' WATCH_PID=''
}
cleanup() {
	stop_watch || true
	"$NFCOST" testbed down --name "$NAME" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

# run_udp: one iperf3 run; prints "DATAGRAMS SECONDS"
run_udp() {
	ip netns exec "$CLI" iperf3 -c 198.18.0.2 -p 443 -u -l 16 -b 0 -t "$SECS" -J >"$TMP/iperf.json"
	/usr/bin/python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))["end"]["sum"]
print(s["packets"], s["seconds"])' "$TMP/iperf.json"
}

# watched: run_udp while watch is attached and scraped every second
watched() {
	rm -f "$TMP/ready"
	# shellcheck disable=SC2086 # empty, or "--sample N" / "--hook LIST"
	"$NFCOST" watch --netns "$CLI" --listen "127.0.0.1:$PORT" -i 1 \
		${SAMPLE:+--sample $SAMPLE} ${HOOK:+--hook $HOOK} --ready-file "$TMP/ready" 2>"$TMP/watch.err" &
	WATCH_PID=$!
	for _ in $(seq 100); do [ -s "$TMP/ready" ] && break; sleep 0.1; done
	[ -s "$TMP/ready" ] || { cat "$TMP/watch.err" >&2; exit 1; }
	while :; do curl -s -o /dev/null "127.0.0.1:$PORT/metrics"; sleep 1; done &
	SCRAPE_PID=$!
	run_udp
	stop_watch
}

"$NFCOST" testbed up --name "$NAME" >/dev/null
ip netns exec "$CLI" iptables-legacy -w -n -L OUTPUT >/dev/null
: >"$TMP/off"; : >"$TMP/on"
for _ in $(seq "$ROUNDS"); do
	run_udp >>"$TMP/off"
	watched >>"$TMP/on"
done
awk -v sample="${SAMPLE:-default}" -v hook="${HOOK:-all}" '
	FILENAME ~ /off$/ { n0 += $1; s0 += $2; r[FNR] = $1 / $2 }
	FILENAME ~ /on$/  { n1 += $1; s1 += $2; w[FNR] = $1 / $2 }
	END {
		r0 = n0 / s0; r1 = n1 / s1
		for (i = 1; i in r; i++)
			printf "round %d: unwatched %8.0f dgram/s  watched %8.0f dgram/s  ratio %.3f\n",
				i, r[i], w[i], w[i] / r[i]
		printf "watch (sample %s, hooks %s): unwatched %8.0f dgram/s  watched %8.0f dgram/s  ratio %.3f (target >= 0.97)\n",
			sample, hook, r0, r1, r1 / r0
	}' "$TMP/off" "$TMP/on"
