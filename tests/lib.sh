# shellcheck shell=bash
# Shared by every integration test: assertions that print one line each and
# a tally that tests/run.sh adds up. Source it, run checks, call `finish`.
set -u
NFCOST=${NFCOST:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/${BUILD:-build}/nfcost}
# shellcheck disable=SC2034 # ROOT is for the suites that source this file
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PASSED=0
FAILED=0
TNAME=${TNAME:-t$$}
# How long a "gone" check waits: the kernel frees BPF programs, links and
# namespaces, and reaps processes, a moment after the last reference goes.
GONE_S=${GONE_S:-5}

pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }

# check DESC CMD...: passes when CMD exits 0
check() {
	local desc=$1 out; shift
	out=$(mktemp -t nfcost-check.XXXXXX) || { fail "$desc: mktemp"; return; }
	if "$@" >"$out" 2>&1; then pass "$desc"; else
		fail "$desc"; sed 's/^/    /' "$out" | tail -20; fi
	rm -f "$out"
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

# wait_until SECS CMD...: runs CMD every POLL_S seconds (0.1 unless set)
# until it exits 0 (returns 0) or SECS seconds have passed (returns 1).
# CMD runs at least once. WAITED: the seconds until it succeeded, or ""
# when it did at once.
wait_until() {
	local start end
	start=$(date +%s%N)
	end=$((start + $(awk -v s="$1" 'BEGIN { printf "%.0f", s * 1e9 }')))
	shift
	WAITED=""
	while :; do
		if "$@"; then
			[ -n "$WAITED" ] && WAITED=$(_seconds_since "$start")
			return 0
		fi
		WAITED=$(_seconds_since "$start")
		[ "$(date +%s%N)" -ge "$end" ] && return 1
		sleep "${POLL_S:-0.1}"
	done
}
_seconds_since() { awk -v n=$(($(date +%s%N) - $1)) 'BEGIN { printf "%.1f", n / 1e9 }'; }
# after_wait: " (after N s)" when the last wait_until had to wait
after_wait() { [ -z "${WAITED:-}" ] || echo " (after $WAITED s)"; }

# check_eventually DESC SECS CMD...: passes once CMD exits 0 within SECS
# seconds; shows the output of its last run otherwise. For what the kernel or
# init finishes a moment later: a freed BPF program, a reaped process.
check_eventually() {
	local desc=$1 secs=$2 out; shift 2
	out=$(mktemp -t nfcost-check.XXXXXX) || { fail "$desc: mktemp"; return; }
	if wait_until "$secs" _run_into "$out" "$@"; then pass "$desc$(after_wait)"; else
		fail "$desc (still not after $secs s)"; sed 's/^/    /' "$out" | tail -20; fi
	rm -f "$out"
}
_run_into() { local f=$1; shift; "$@" >"$f" 2>&1; }

# check_eq_eventually DESC SECS EXPECTED CMD...: passes once CMD prints
# EXPECTED within SECS seconds
check_eq_eventually() {
	local desc=$1 secs=$2 want=$3 got=""; shift 3
	if wait_until "$secs" _prints "$@"; then pass "$desc$(after_wait)"; else
		fail "$desc: expected '$want', got '$got' (after $secs s)"; fi
}
_prints() { got=$("$@"); [ "$got" = "$want" ]; } # sets the caller's got

# check_exit DESC CODE MSG_REGEX CMD...: exit status CODE and exactly one
# stderr line that starts with "nfcost:" and matches MSG_REGEX
check_exit() {
	local desc=$1 code=$2 re=$3; shift 3
	local err rc lines
	err=$("$@" 2>&1 >/dev/null); rc=$?
	lines=$(printf '%s' "$err" | grep -c '')
	if [ "$rc" -eq "$code" ] && [ "$lines" -eq 1 ] && printf '%s' "$err" | grep -Eq "^nfcost: .*($re)"; then
		pass "$desc"
	else
		fail "$desc: exit $rc (want $code), stderr: $err"
	fi
}

# check_num DESC VALUE OP LIMIT (OP: -lt -le -gt -ge) with decimals
check_num() {
	if awk -v a="$2" -v b="$4" -v op="$3" 'BEGIN {
		if (op == "-lt") exit !(a < b); if (op == "-le") exit !(a <= b);
		if (op == "-gt") exit !(a > b); if (op == "-ge") exit !(a >= b); exit 1 }'; then
		pass "$1 ($2 $3 $4)"
	else
		fail "$1: $2 is not $3 $4"
	fi
}

# The tally line: tests/run.sh counts a suite that ends without it as failed.
# procs_of TEXT: the live processes whose command line holds TEXT (pid and
# command line; zombies have none, so they never match).
procs_of() { pgrep -af -- "$1" || true; }

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ -n "${TALLY:-}" ] && echo "$PASSED $FAILED" >>"$TALLY"
	[ "$FAILED" -eq 0 ]
}
