#!/bin/bash
# Faults from outside: `nfcost cleanup` while a sweep runs (it must skip a
# live run's testbed, and with --force the sweep must fail promptly and leave
# nothing), two creators of one testbed name at once, UDP without --size.
. "$(dirname "$0")/../lib.sh"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

col() { # col FILE NAME: the column's values, one per line
	awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } { print $c }' "$1"
}
# wait_for SECS CMD...: polls CMD until it succeeds; false at the deadline
wait_for() {
	local end=$((SECONDS + $1)); shift
	until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done
}
# wait_pid SECS PID: waits for our background job PID with a deadline; sets
# RC to its exit status, or kills it (SIGKILL) and sets RC=timeout
wait_pid() {
	local end=$((SECONDS + $1))
	while kill -0 "$2" 2>/dev/null; do
		if [ $SECONDS -ge $end ]; then kill -9 "$2"; wait "$2"; RC=timeout; return; fi
		sleep 0.2
	done
	wait "$2"; RC=$?
}
# Namespaces of other people's runs: cleanup without an owner record (an
# older nfcost) would take them, so cleanup runs only while there are none.
foreign_ns() { # foreign_ns [OURS_PREFIX]
	ip netns list 2>/dev/null | awk '{print $1}' | grep '^nfcost-' | grep -v "^nfcost-${1:-/}" || true
}
no_foreign_ns() { [ -z "$(foreign_ns "${1:-}")" ]; }
ours_gone() { # ours_gone TESTBED_PREFIX ARGS_PATTERN: namespaces and processes
	local ns procs
	ns=$(ip netns list 2>/dev/null | grep "^nfcost-$1" || true)
	procs=$(procs_of "$2")
	[ -z "$ns$procs" ] && return 0
	# What is left, so that a failing check names it.
	echo "left: ${ns:+namespaces: $ns }${procs:+processes: $procs}" | tr '\n' ' '
	echo
	return 1
}
# The BPF links and programs process $1 holds (its fds' fdinfo says), as
# "link:ID prog:ID ...", and which of those still exist.
links_held() {
	grep -hsE '^(link|prog)_id:' /proc/"$1"/fdinfo/* | sed 's/_id:[[:space:]]*/:/' | sort -u | xargs
}
links_alive() {
	local o; for o in $1; do bpftool "${o%%:*}" show id "${o#*:}" >/dev/null 2>&1 && echo "$o"; done; true
}
no_links_alive() { [ -z "$(links_alive "$1")" ]; }
rows_ok() { # every row measured something: no zero/junk throughput
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "throughput_mbps") c = i; next }
		!($c > 0) { bad = 1 } END { exit bad }' "$1"
}

# Sections 1 and 2 run `nfcost cleanup`, which would take the testbeds of
# other people's runs (an older nfcost records no owner): they run only on a
# machine with no other nfcost namespace, checked again right before.
not_quiet() { # not_quiet SWEEP_PID: one failure, then let our sweep finish
	fail "another nfcost run appeared: cleanup not run (it would disturb it)"
	wait_pid 120 "$1"
}

# --- 1. cleanup (no --force) 1.5 s into a sweep: it skips the sweep's testbed
section_skip() {
	D=$OUT/skip
	$NFCOST sweep --rules 0:2000:500 -d 3 --backend iptables-legacy --no-plot --out "$D" \
		>"$OUT"/skip.log 2>"$OUT"/skip.err &
	spid=$!
	sleep 1.5
	check "the sweep's testbed is there" wait_for 20 test -e /run/netns/nfcost-sw${spid}_0-cli
	wait_for 12 no_foreign_ns "sw${spid}_" || { not_quiet $spid; return; }
	check "the sweep is still running" kill -0 $spid
	$NFCOST cleanup >"$OUT"/cleanup.out 2>&1
	check_eq "cleanup exits 0" 0 $?
	check "cleanup names the sweep's testbed as skipped, with its pid and command" \
		grep -Eq "^skipped nfcost-sw${spid}_0-cli.*in use by nfcost pid $spid \(sweep\); --force removes it" "$OUT"/cleanup.out
	check "the testbed is still there after cleanup" test -e /run/netns/nfcost-sw${spid}_0-cli
	wait_pid 90 $spid
	check_eq "the sweep completes normally" 0 "$RC"
	[ "$RC" = 0 ] || tail -3 "$OUT"/skip.err | sed 's/^/    /'
	check_eq "all 5 steps measured" 5 "$(tail -n +2 "$D"/sweep.csv | grep -c .)"
	check "every row measured throughput" rows_ok "$D"/sweep.csv
	check "nothing of the sweep left (namespaces, processes)" wait_for 10 ours_gone "sw${spid}_" "--out $D"
}

# --- 2. cleanup --force in the middle of a sweep's traffic: bounded, exit 1, no junk
section_force() {
	D=$OUT/force
	$NFCOST sweep --rules 0:2000:500 -d 2 --backend iptables-legacy --no-plot --out "$D" \
		>"$OUT"/force.log 2>"$OUT"/force.err &
	spid=$!
	wait_for 60 test -e /run/netns/nfcost-sw${spid}_0-cli
	sleep 1.5 # into the traffic of the first step
	links=$(links_held $spid)
	check "the sweep holds BPF objects ($links)" test -n "$links"
	no_foreign_ns "sw${spid}_" || { not_quiet $spid; return; }
	check "the sweep is still running" kill -0 $spid
	t0=$SECONDS
	$NFCOST cleanup --force >"$OUT"/cleanup2.out 2>&1
	check_eq "cleanup --force exits 0" 0 $?
	check "cleanup --force removed the sweep's testbed" grep -q "^removed testbed sw${spid}_0" "$OUT"/cleanup2.out
	wait_pid 30 $spid
	check "the sweep ends within 30 s of cleanup --force (it took $((SECONDS - t0)) s)" test "$RC" != timeout
	check "the sweep ends with exit 0 (done) or 1 (failed) (got $RC)" test "$RC" = 0 -o "$RC" = 1
	if [ "$RC" = 1 ]; then
		check "its error is an nfcost: line" grep -q '^nfcost: ' "$OUT"/force.err
	fi
	check_eq "stderr: nfcost: lines only" "" "$(grep -v '^nfcost: ' "$OUT"/force.err || true)"
	[ -s "$D"/sweep.csv ] && check "no junk row" rows_ok "$D"/sweep.csv
	check "nothing of the sweep left (namespaces, processes)" wait_for 10 ours_gone "sw${spid}_" "--out $D"
	check "none of its BPF links or programs is left" wait_for 10 no_links_alive "$links"
}

if wait_for 300 no_foreign_ns; then
	section_skip
	if wait_for 300 no_foreign_ns; then
		section_force
	else
		fail "no quiet moment for cleanup --force in 300 s"
	fi
else
	fail "no quiet moment in 300 s (other nfcost runs): the cleanup sections did not run"
fi

# --- 2b. the same through `testbed down` of the sweep's own testbed (needs
# no quiet machine: it touches nothing else)
D=$OUT/down
$NFCOST sweep --rules 0:2000:500 -d 2 --backend iptables-legacy --no-plot --out "$D" \
	>/dev/null 2>"$OUT"/down.err &
spid=$!
wait_for 60 test -e /run/netns/nfcost-sw${spid}_0-cli
sleep 3 # into the traffic
links=$(links_held $spid)
check "testbed down of a running sweep's testbed" "$NFCOST" testbed down --name sw${spid}_0
t0=$SECONDS
wait_pid 30 $spid
check "the sweep ends within 30 s (took $((SECONDS - t0)) s)" test "$RC" != timeout
check "exit 0 or 1 (got $RC)" test "$RC" = 0 -o "$RC" = 1
check_eq "stderr: nfcost: lines only" "" "$(grep -v '^nfcost: ' "$OUT"/down.err || true)"
# (3 s in may still be the probe-cost runs before the first step)
[ "$RC" = 1 ] && check "the error says which step's traffic failed" \
	grep -Eq "^nfcost: (traffic at [0-9]* rules failed|measuring the probe's own cost failed): " "$OUT"/down.err
check "no junk row" rows_ok "$D"/sweep.csv
check "nothing of the sweep left" wait_for 10 ours_gone "sw${spid}_" "--out $D"
check "none of its BPF links or programs is left" wait_for 10 no_links_alive "$links"

# --- 3. SIGTERM during traffic: prompt exit 1, nothing left
D=$OUT/term
$NFCOST sweep --rules 0:0:1 -d 20 --backend iptables-legacy --no-plot --out "$D" \
	>"$OUT"/term.log 2>"$OUT"/term.err &
spid=$!
wait_for 60 test -e /run/netns/nfcost-sw${spid}_0-cli
sleep 3
links=$(links_held $spid)
check "the sweep holds BPF objects ($links)" test -n "$links"
t0=$SECONDS
kill -TERM $spid
wait_pid 15 $spid
check "SIGTERM mid-run ends the sweep within 15 s (took $((SECONDS - t0)) s)" test "$RC" != timeout
check_eq "interrupted sweep exits 1" 1 "$RC"
check "no row from the cut-short run" test "$(tail -n +2 "$D"/sweep.csv 2>/dev/null | grep -c .)" = 0
check "nothing of the sweep left" wait_for 10 ours_gone "sw${spid}_" "--out $D"
check "none of its BPF links or programs is left" wait_for 10 no_links_alive "$links"

# --- 3b. a client that hangs (SIGSTOP): the deadline kills it, the step is retried
D=$OUT/stopped
$NFCOST sweep --rules 0:0:1 -d 2 --backend iptables-legacy --no-plot --out "$D" \
	>"$OUT"/stopped.log 2>"$OUT"/stopped.err &
spid=$!
client=""
find_client() { # the sweep's child in the cli namespace: the iperf3 client
	local p cli
	cli=$(stat -L -c %i /run/netns/nfcost-sw${spid}_0-cli 2>/dev/null) || return 1
	for p in $(pgrep -P $spid); do
		[ "$(stat -L -c %i /proc/"$p"/ns/net 2>/dev/null)" = "$cli" ] && client=$p && return 0
	done
	return 1
}
check "found the sweep's iperf3 client" wait_for 60 find_client
kill -STOP "$client"
t0=$SECONDS
wait_pid 60 $spid
check "a hung client does not hang the sweep (took $((SECONDS - t0)) s)" test "$RC" != timeout
check_eq "the retried step completes the sweep" 0 "$RC"
check_eq "one row, measured" 1 "$(tail -n +2 "$D"/sweep.csv | grep -c .)"
check "the stopped client is gone" wait_for 10 sh -c "! kill -0 $client 2>/dev/null"

# --- 4. two `testbed up --name X` at once: exactly one wins, the loser removes nothing
bad=0
for i in $(seq 1 12); do
	n=race$$_$i
	$NFCOST testbed up --name "$n" >/dev/null 2>"$OUT"/a.err & a=$!
	$NFCOST testbed up --name "$n" >/dev/null 2>"$OUT"/b.err & b=$!
	wait $a; ra=$?; wait $b; rb=$?
	codes=$(printf '%s\n' $ra $rb | sort | xargs)
	ok=1
	[ "$codes" = "0 2" ] || ok=0
	grep -hq "^nfcost: testbed '$n' already exists" "$OUT"/a.err "$OUT"/b.err || ok=0
	[ -e /run/netns/nfcost-"$n"-cli ] && [ -e /run/netns/nfcost-"$n"-srv ] || ok=0
	$NFCOST testbed status --name "$n" | grep -q 'iperf3 server running' || ok=0
	if [ $ok = 0 ]; then
		bad=$((bad + 1)); echo "    pair $i: exits $codes"; cat "$OUT"/a.err "$OUT"/b.err | sed 's/^/    /'
	fi
	$NFCOST testbed down --name "$n" >/dev/null 2>&1
done
check_eq "12 concurrent pairs: one up (0), one 'already exists' (2), winner intact" 0 $bad
race_gone() { [ -z "$(ip netns list 2>/dev/null | grep "^nfcost-race$$_" || true)" ]; }
check "no race testbed left" wait_for 10 race_gone

# --- 5. UDP without --size: datagrams that fit the path; libiperf's own
# messages reach the user only as nfcost: lines
D=$OUT/udp
$NFCOST sweep --rules 0:100:100 -d 1 --traffic udp --backend iptables-legacy --no-plot --out "$D" \
	>/dev/null 2>"$OUT"/udp.err
check_eq "sweep --traffic udp without --size succeeds" 0 $?
check "it measured every step" test "$(tail -n +2 "$D"/sweep.csv | grep -c .)" = 2
check "every UDP row measured throughput" rows_ok "$D"/sweep.csv
check "UDP packets were sent" test "$(python3 -c 'import json,glob; print(min(json.load(open(f))["end"]["sum"]["packets"] for f in glob.glob("'"$D"'/iperf/*.json")))')" -gt 0
check_eq "no unprefixed stderr line" "" "$(grep -v '^nfcost: ' "$OUT"/udp.err || true)"
D=$OUT/udpbig
$NFCOST sweep --rules 0:0:1 -d 1 --traffic udp --size 3000 --backend iptables-legacy --no-plot \
	--out "$D" >/dev/null 2>"$OUT"/udpbig.err
check_eq "UDP with 3000-byte datagrams succeeds" 0 $?
check "libiperf's warning comes as one nfcost: iperf3: line" \
	grep -q '^nfcost: iperf3: warning: UDP block size 3000' "$OUT"/udpbig.err
check_eq "and nothing unprefixed" "" "$(grep -v '^nfcost: ' "$OUT"/udpbig.err || true)"

# --- 6. a testbed made by `testbed up` has no live owner: cleanup removes it
if wait_for 300 no_foreign_ns; then
	$NFCOST testbed up --name own$$ >/dev/null
	if no_foreign_ns "own$$"; then
		$NFCOST cleanup >"$OUT"/cleanup3.out 2>&1
		check "cleanup removes a testbed whose maker exited" grep -q "^removed testbed own$$:" "$OUT"/cleanup3.out
		check "its namespaces are gone" wait_for 10 test ! -e /run/netns/nfcost-own$$-cli
	else
		fail "another nfcost run appeared: cleanup not run (it would disturb it)"
	fi
	$NFCOST testbed down --name own$$ >/dev/null 2>&1
else
	fail "no quiet moment in 300 s (other nfcost runs): cleanup of an ownerless testbed not run"
fi

# --- 7. compile: no accept-all program, the xt_bpf limit in both forms
check_exit "compile '' is refused (it would match every packet)" 2 "empty pcap expression matches every packet" \
	"$NFCOST" compile ''
check_exit "compile -d ' ' too" 2 "empty pcap expression" "$NFCOST" compile -d ' '
long="$(printf 'host 10.0.0.%d or ' $(seq 0 38))host 10.0.0.39"
check_exit "compile -d enforces xt_bpf's 64 instructions" 2 "at most 64" "$NFCOST" compile -d "$long"
check_exit "compile too" 2 "at most 64" "$NFCOST" compile "$long"
check "compile -d of a short program still lists it" sh -c "$NFCOST compile -d ip | grep -q '^(000) '"

# --- 8. bad input stays one line, whatever it quotes
check_exit "--backend with a newline: one line" 2 "unknown backend 'nft\\\\nx'" "$NFCOST" sweep --backend $'nft\nx'
check_exit "--rules with a newline: one line" 2 "got '0:10\\\\n:5'" "$NFCOST" sweep --rules $'0:10\n:5'
check_exit "-d with a newline and a tab: one line" 2 "got '1\\\\n\\\\t'" "$NFCOST" sweep -d $'1\n\t'
check_exit "--name with a newline: one line" 2 "invalid testbed name 'a\\\\nb'" "$NFCOST" testbed up --name $'a\nb'
check_exit "an unknown option with a newline: one line" 2 "unrecognized option '--bogus\\\\nx'" \
	"$NFCOST" sweep --bogus$'\n'x
check_exit "--rules of 70 characters is read, not refused for its length" 2 "-d takes whole seconds" \
	"$NFCOST" sweep --rules "$(printf '0%.0s' $(seq 1 60)):10:5" -d 0
check_exit "--out '' is bad usage" 2 "--out needs a directory" "$NFCOST" sweep --out ''
check_exit "compare --out '' too" 2 "--out needs a directory" "$NFCOST" compare --backends nft,ipset --out ''
for v in ' 5' '+5' '-0' 'nan' '5 '; do
	check_exit "-d '$v' is refused" 2 "-d takes whole seconds" "$NFCOST" sweep -d "$v"
done
check_eq "not root: the command named once" \
	"nfcost: sweep needs root (network namespaces, BPF and netfilter rules): run it with sudo" \
	"$(setpriv --reuid=65534 --regid=65534 --clear-groups "$NFCOST" sweep 2>&1)"
check_exit "--rate inf is refused" 2 "--rate takes" "$NFCOST" sweep --traffic udp --rate inf

finish
