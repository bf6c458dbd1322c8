# Shared by every integration test: assertions that print one line each and
# a tally that tests/run.sh adds up. Source it, run checks, call `finish`.
set -u
NFCOST=${NFCOST:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/${BUILD:-build}/nfcost}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PASSED=0
FAILED=0
TNAME=${TNAME:-t$$}

pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }

# check DESC CMD...: passes when CMD exits 0
check() {
	local desc=$1; shift
	if "$@" >/tmp/nfcost-check.$$ 2>&1; then pass "$desc"; else
		fail "$desc"; sed 's/^/    /' /tmp/nfcost-check.$$ | tail -20; fi
	rm -f /tmp/nfcost-check.$$
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

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

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ -n "${TALLY:-}" ] && echo "$PASSED $FAILED" >>"$TALLY"
	[ "$FAILED" -eq 0 ]
}
