#!/bin/bash
# nfcost watch (issue 23) against a real Prometheus: Prometheus (Debian's
# package) scrapes `nfcost watch --netns <testbed client>` every second from
# a temporary TSDB; traffic goes through the testbed; then Prometheus's HTTP
# API must agree with iperf3's packet count, see the median latency rise
# with 3,000 rules, and the exposition must pass promtool. Then the server:
# 2,000 scrapes in a row, one after 50 malformed requests, peak RSS; the
# textfile mode; SIGTERM leaves no BPF link; the namespace going away ends
# watch with one line and exit 1; the host's firewall and the watched
# namespace's rules are untouched throughout.
. "$(dirname "$0")/../lib.sh"

A=wat$$
TMP=$(mktemp -d)
PY=/usr/bin/python3
CLI=nfcost-$A-cli
WATCH_PID="" PROM_PID=""
STATS0=$(cat /proc/sys/kernel/bpf_stats_enabled)

cleanup() {
	[ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null
	[ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null
	wait 2>/dev/null
	"$NFCOST" testbed down --name "$A" >/dev/null 2>&1
	echo "$STATS0" >/proc/sys/kernel/bpf_stats_enabled
	rm -rf "$TMP"
}
trap cleanup EXIT

# free_port: a TCP port nothing listens on (from this process's id)
free_port() {
	local p=$((20000 + ($$ + $1) % 20000))
	while ss -Htln "sport = :$p" | grep -q .; do p=$((p + 1)); done
	echo "$p"
}

# host_firewall: the host's rule sets, without iptables-save's dated comments
host_firewall() {
	{ iptables-save 2>/dev/null; ip6tables-save 2>/dev/null; nft list ruleset; } | grep -v '^#'
}
netfilter_links() { bpftool link show 2>/dev/null | grep -c netfilter; }

# promq EXPR: the first value of an instant query, or "none"
promq() {
	curl -sG "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
		$PY -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "none")'
}

# udp_round SECS: 64-byte UDP through the testbed; prints the datagrams sent
udp_round() {
	ip netns exec "$CLI" iperf3 -c 198.18.0.2 -p 443 -u -b 20M -l 64 -t "$1" -J >"$TMP/iperf.json" 2>&1
	$PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["end"]["sum"]["packets"])' "$TMP/iperf.json"
}

# wait_scraped: until Prometheus has two scrapes newer than now
wait_scraped() { sleep 2.5; }

# --- bad usage ---
check_exit "--listen without a port is a usage error" 2 "ADDR:PORT" "$NFCOST" watch --listen 127.0.0.1
check_exit "--listen with a name is a usage error" 2 "not an IPv4 or IPv6" "$NFCOST" watch --listen localhost:1
check_exit "--hook junk is a usage error" 2 "unknown hook" "$NFCOST" watch --hook output,egress
check_exit "--sample 0 is a usage error" 2 "sample" "$NFCOST" watch --sample 0
check_exit "--family junk is a usage error" 2 "family" "$NFCOST" watch --family ipx
check_exit "a missing namespace is a usage error" 2 "namespace" "$NFCOST" watch --netns nfcost-none$$-cli

# --- the shipped Prometheus files ---
D=$ROOT/deploy/prometheus
check "deploy/prometheus/prometheus.yml passes promtool" promtool check config "$D/prometheus.yml"
check "the recording rules and the alert pass promtool" promtool check rules "$D/nfcost-rules.yml"
check "the alert fires for slow first packets only (promtool test rules)" \
	promtool test rules "$D/nfcost-rules.test.yml"

check "testbed $A up" "$NFCOST" testbed up --name "$A"
HOST_BEFORE=$(host_firewall)
LINKS0=$(netfilter_links)
PORT=$(free_port 0)
PPORT=$(free_port 7)

# --- watch and Prometheus ---
"$NFCOST" watch --netns "$CLI" --listen "127.0.0.1:$PORT" -i 1 --ready-file "$TMP/ready" \
	2>"$TMP/watch.err" &
WATCH_PID=$!
check "watch serves within 20 s" wait_until 20 test -s "$TMP/ready"
check_exit "a port in use is a runtime error" 1 "port $PORT" \
	"$NFCOST" watch --netns "$CLI" --listen "127.0.0.1:$PORT" -i 1
NS_BEFORE=$(ip netns exec "$CLI" nft list ruleset)
cat >"$TMP/prom.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: nfcost
    static_configs: [ { targets: ["127.0.0.1:$PORT"] } ]
EOF
prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" >"$TMP/prom.log" 2>&1 &
PROM_PID=$!
prom_up() { [ "$(promq 'up{job="nfcost"}' 2>/dev/null)" = 1 ]; }
check "Prometheus is up and scrapes watch" wait_until 30 prom_up

curl -s "127.0.0.1:$PORT/metrics" >"$TMP/m0.prom"
check "promtool check metrics is clean" promtool check metrics <"$TMP/m0.prom"
curl -s "127.0.0.1:$PORT/" >"$TMP/index.html"
check "/ names the version and links /metrics" sh -c \
	"grep -q 'nfcost [0-9]' '$TMP/index.html' && grep -q 'href=\"/metrics\"' '$TMP/index.html'"

# Round 1 on the empty chain: packets counted against iperf3's.
# increase() extrapolates its samples' span to the range: by about one
# scrape interval in all, +1/S for a span of S seconds. Scrapes for 10 s
# before the round (nothing else runs) make S about 18 s: +6 %.
sleep 10
SENT1=$(udp_round 3)
wait_scraped
GOT1=$(promq "increase(nfcost_hook_packets_total{hook=\"output\",family=\"ipv4\"}[20s])")
echo "    round 1: iperf3 sent $SENT1 datagrams, Prometheus counted $GOT1 at output"
check "Prometheus's packet count within 25 % of iperf3's" $PY -c "
s, g = float('$SENT1'), float('$GOT1')
assert s > 1000 and abs(g - s) <= 0.25 * s, (s, g)"
P50_EMPTY=$(promq "histogram_quantile(0.5, sum by (le) (increase(nfcost_hook_latency_seconds_bucket{hook=\"output\",family=\"ipv4\"}[10s])))")
check_eq "the watched namespace's rules are untouched" "$NS_BEFORE" "$(ip netns exec "$CLI" nft list ruleset)"

# Round 2 with 3,000 rules: followed without a restart, and slower.
check "3000 rules added to the watched namespace" "$NFCOST" rules add --count 3000 --name "$A"
sleep 2.5
check_eq "nfcost_rules follows the reload" 3000 \
	"$(promq 'sum(nfcost_rules{table="filter",chain="OUTPUT"})')"
SENT2=$(udp_round 3)
wait_scraped
# Round 1 lies inside any range long enough to tame increase()'s
# extrapolation here: the exact difference over the last 10 s instead.
V="nfcost_hook_packets_total{hook=\"output\",family=\"ipv4\"}"
GOT2=$(promq "max_over_time(${V}[10s]) - min_over_time(${V}[10s])")
P50_FULL=$(promq "histogram_quantile(0.5, sum by (le) (increase(nfcost_hook_latency_seconds_bucket{hook=\"output\",family=\"ipv4\"}[10s])))")
echo "    round 2: sent $SENT2, counted $GOT2; p50 $P50_EMPTY s empty, $P50_FULL s with 3000 rules"
check "the probe stays attached across the reload (count within 25 %)" $PY -c "
s, g = float('$SENT2'), float('$GOT2')
assert s > 100 and abs(g - s) <= 0.25 * s, (s, g)"
check "p50 at output rises >= 3x with 3000 rules" $PY -c "
a, b = float('$P50_EMPTY'), float('$P50_FULL')
assert a > 0 and b >= 3 * a, (a, b)"
curl -s "127.0.0.1:$PORT/metrics" >"$TMP/m1.prom"
grep -E '^nfcost_(hook_packets_total|rules)\{[^}]*(output|OUTPUT)' "$TMP/m1.prom" | sed 's/^/    /'
check "promtool is clean with traffic and rules" promtool check metrics <"$TMP/m1.prom"
check "both families' hooks are watched" sh -c \
	"grep -q '^nfcost_hook_packets_total{hook=\"output\",family=\"ipv6\"}' '$TMP/m1.prom' &&
	 grep -q '^nfcost_hook_packets_total{hook=\"output\",family=\"ipv4\"}' '$TMP/m1.prom'"
check "latency per class: UDP out is first and established, sampled" sh -c "
	grep -Eq '^nfcost_hook_latency_seconds_count\\{hook=\"output\",family=\"ipv4\",class=\"established\"\\} [1-9]' '$TMP/m1.prom' &&
	grep -q 'class=\"first\"' '$TMP/m1.prom' && grep -q 'class=\"reply\"' '$TMP/m1.prom' &&
	grep -Eq '^nfcost_tracer_info\\{tracer=\"[a-z]+\",netns=\"$CLI\",sample_every=\"[0-9]+\"\\} 1' '$TMP/m1.prom'"
kill "$PROM_PID"; wait "$PROM_PID" 2>/dev/null; PROM_PID=""

# --- the server under load and abuse ---
check "2000 scrapes in a row, all answered" $PY - "$PORT" <<'EOF'
import http.client, sys
bad = 0
for i in range(2000):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read()
    bad += r.status != 200 or b"nfcost_build_info" not in body
    c.close()
assert bad == 0, bad
EOF
check "50 malformed requests, then a scrape is answered" $PY - "$PORT" <<'EOF'
import http.client, socket, sys
port = int(sys.argv[1])
junk = [b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"\x00\xff" * 500 + b"\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\nabc",
        b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\n" + b"X: " + b"y" * 40000 + b"\r\n\r\n",
        b"GET /metrics HTTP/9.9\r\n\r\n", b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]
for i in range(50):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(junk[i % len(junk)])
        s.recv(4096)
    except OSError:
        pass
    s.close()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
c.request("GET", "/metrics")
r = c.getresponse()
assert r.status == 200 and b"nfcost_build_info" in r.read()
for path, method, want in (("/nope", "GET", 404), ("/metrics", "PUT", 405)):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request(method, path)
    assert c.getresponse().status == want, (path, method)
EOF
HWM=$(awk '/^VmHWM/ { print $2 }' "/proc/$WATCH_PID/status")
if ldd "$NFCOST" | grep -q libasan; then
	echo "    peak RSS $HWM kB: an ASan build (shadow memory), not held to 64 MB"
else
	check_num "peak RSS in kB" "$HWM" -le 65536
fi
check_eq "the namespace's rules are still untouched by watch" 3000 \
	"$(ip netns exec "$CLI" iptables -S OUTPUT | grep -c -- '-j DROP')"

# --- SIGTERM: exit 0, every link gone ---
kill -TERM "$WATCH_PID"
wait "$WATCH_PID"
check_eq "SIGTERM ends watch with status 0" 0 $?
WATCH_PID=""
check_eventually "no netfilter BPF link left after SIGTERM" "$GONE_S" \
	test "$(netfilter_links)" -le "$LINKS0"

# --- with only the systemd unit's capabilities (debian/nfcost.service),
# on this namespace's output hook (watching it only observes) ---
UNIT_CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT/debian/nfcost.service" | tr 'A-Z ' 'a-z,')
DROP=$(capsh --print | sed -n 's/^Bounding set =//p' | tr ',' '\n' |
	grep -vxF "$(tr ',' '\n' <<<"$UNIT_CAPS")" | paste -sd,)
PORT3=$(free_port 13)
capsh --drop="$DROP" -- -c "exec '$NFCOST' watch --hook output --listen 127.0.0.1:$PORT3 -i 0.2 \
	--ready-file '$TMP/ready3'" 2>"$TMP/watch3.err" &
WATCH_PID=$!
check "with the unit's capabilities ($UNIT_CAPS) watch attaches and serves" \
	wait_until 20 test -s "$TMP/ready3"
check "... and has no other capability" $PY -c "
caps = [l.split()[1] for l in open('/proc/$WATCH_PID/status') if l.startswith('CapEff')][0]
bits = {39: 'bpf', 38: 'perfmon', 12: 'net_admin', 24: 'sys_resource'}
eff = int(caps, 16)
assert eff and not eff & ~sum(1 << b for b in bits), hex(eff)"
check "... and its metrics name the tracer" sh -c \
	"curl -s 127.0.0.1:$PORT3/metrics | grep -q '^nfcost_tracer_info{tracer=\"[a-z]*\",netns='"
kill -TERM "$WATCH_PID"; wait "$WATCH_PID"
check_eq "... and SIGTERM ends it with 0" 0 $?
WATCH_PID=""

# --- the textfile, with no port opened; the probe's cost from the kernel's
# BPF statistics (on for this part only) ---
echo 1 >/proc/sys/kernel/bpf_stats_enabled
"$NFCOST" watch --netns "$CLI" --hook output --tables --sample 1 --textfile "$TMP/nfcost.prom" \
	-i 0.2 --ready-file "$TMP/ready2" 2>"$TMP/watch2.err" &
WATCH_PID=$!
check "watch --textfile writes the exposition" wait_until 20 test -s "$TMP/nfcost.prom"
udp_round 1 >/dev/null
sleep 0.5
# --tables: the parts of the output hook add up to its time (same packets).
check "--tables: filter holds most of output's time, the parts add up to it" $PY - "$TMP/nfcost.prom" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def val(pat):
    return sum(float(v) for v in re.findall(pat + r" (\S+)\n", text))
hook = val(r'nfcost_hook_latency_seconds_sum\{hook="output",[^}]*\}')
parts = {t: float(v) for t, v in re.findall(
    r'nfcost_table_latency_seconds_sum\{hook="output",table="(\w+)"\} (\S+)\n', text)}
assert set(parts) == {"raw", "conntrack", "mangle_dnat", "filter", "security_snat"}, parts
assert hook > 0 and abs(sum(parts.values()) - hook) <= 0.01 * hook, (hook, parts)
assert parts["filter"] == max(parts.values()), parts
EOF
echo "$STATS0" >/proc/sys/kernel/bpf_stats_enabled
check "the probe's cost per packet: above 0, a small part of a hook with 3000 rules" $PY - "$TMP/nfcost.prom" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
cost = float(re.search(r"^nfcost_probe_overhead_seconds (\S+)$", text, re.M).group(1))
n = sum(float(v) for v in re.findall(r'^nfcost_hook_latency_seconds_count\{hook="output",[^}]*\} (\S+)$', text, re.M))
t = sum(float(v) for v in re.findall(r'^nfcost_hook_latency_seconds_sum\{hook="output",[^}]*\} (\S+)$', text, re.M))
assert n > 0 and 0 < cost < 0.25 * t / n, (cost, t / n)
EOF
check "the textfile passes promtool" sh -c "promtool check metrics <'$TMP/nfcost.prom'"
check_eq "no temporary file left beside it" "nfcost.prom" "$(cd "$TMP" && ls nfcost.prom*)"
check_exit "--tables with another tracer is a usage error" 2 "nfhook" \
	"$NFCOST" watch --tables --tracer kprobe
check_eq "--textfile alone opens no port" "" "$(ss -Htlnp | grep "pid=$WATCH_PID,")"

# --- the watched namespace disappears: one line, exit 1 ---
"$NFCOST" testbed down --name "$A" >/dev/null 2>&1
wait_until 10 sh -c "! kill -0 $WATCH_PID 2>/dev/null"
wait "$WATCH_PID"
RC=$?
WATCH_PID=""
check_eq "the namespace gone: exit 1" 1 "$RC"
check "... and one nfcost: line saying so" sh -c \
	"[ \$(grep -c . '$TMP/watch2.err') -eq 1 ] && grep -q '^nfcost: .*gone' '$TMP/watch2.err'"
check_eventually "no netfilter BPF link left after that" "$GONE_S" \
	test "$(netfilter_links)" -le "$LINKS0"
check_eq "the host's firewall is byte-identical" "$HOST_BEFORE" "$(host_firewall)"
finish
