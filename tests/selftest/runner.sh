#!/bin/bash
# The runner's selftest: tests/run.sh, run inside this suite against the fake
# suites in tests/selftest/fake and fake unit test binaries, must count a
# suite that aborts, exits without its tally, exits non-zero while reporting
# 0 failed, or hangs until the timeout as a failure, and name it; likewise a
# unit binary that crashes. The inner runs set NFCOST_RUN_NESTED: no root
# check, no host snapshot (the outer run takes it), and this suite does not
# run again inside them. Needs no root.
. "$(dirname "$0")/../lib.sh"

if [ -n "${NFCOST_RUN_NESTED:-}" ]; then
	echo "    runner selftest: nested inside a selftest run, not run again"
	finish
	exit
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAKE=tests/selftest/fake
HANG_S=117.$$ # the hung suite's sleep, to look for afterwards

# fake_unit DIR NAME SCRIPT: an executable DIR/tests/NAME that runs SCRIPT (sh)
fake_unit() {
	mkdir -p "$1/tests"
	printf '#!/bin/sh\n%s\n' "$3" >"$1/tests/$2"
	chmod 755 "$1" "$1/tests" "$1/tests/$2"
}
fake_unit "$TMP/ok" test_ok 'echo "[==========] 2 test(s) run."; echo "[  PASSED  ] 2 test(s)."'
fake_unit "$TMP/mixed" test_ok 'echo "[==========] 2 test(s) run."; echo "[  PASSED  ] 2 test(s)."'
fake_unit "$TMP/mixed" test_fail 'echo "[  PASSED  ] 1 test(s)."; echo "[  FAILED  ] 1 test(s), listed below:"; exit 1'
fake_unit "$TMP/mixed" test_crash 'echo "[ RUN      ] test_crashes"; ulimit -c 0; kill -SEGV $$'
mkdir -p "$TMP/empty/tests"

# inner OUT ARGS...: tests/run.sh ARGS nested, the environment as set by the
# caller (SUITES, BUILD, SUITE_TIMEOUT); its output in OUT, its exit status
inner() {
	local out=$1; shift
	env -u ONLY NFCOST_RUN_NESTED=1 HANG_S=$HANG_S bash "$ROOT/tests/run.sh" "$@" >"$out" 2>&1
}
# has OUT LINE: OUT holds exactly LINE
has() { grep -Fqx -- "$2" "$1"; }
# show OUT: the inner run's output, for a failed check
show() { sed 's/^/    | /' "$1" | tail -40; }

# --- every way to fail in one run --------------------------------------------
O=$TMP/mixed.out
SUITES="$FAKE/pass.sh $FAKE/fails.sh $FAKE/abort.sh $FAKE/notally.sh $FAKE/lies.sh $FAKE/missing.sh" \
	BUILD=$TMP/mixed inner "$O"
rc=$?
check "a run with broken suites exits non-zero (exit $rc)" test "$rc" -ne 0
check "the aborting suite is named, with its status" has "$O" \
	"FAIL - suite $FAKE/abort.sh exited 134 (SIGABRT) without its tally"
check "its output up to the abort is shown" has "$O" "ok - a check before the abort"
check "a suite that exits 0 halfway is named" has "$O" \
	"FAIL - suite $FAKE/notally.sh exited 0 without its tally"
check "a suite that exits 3 after '0 failed' is named" has "$O" \
	"FAIL - suite $FAKE/lies.sh exited 3 while reporting 0 failed"
check "a suite that does not exist is named" has "$O" \
	"FAIL - suite $FAKE/missing.sh does not exist"
check "a unit binary that crashes is named" has "$O" \
	"FAIL - unit test $TMP/mixed/tests/test_crash exited 139 (SIGSEGV) without cmocka's summary"
check "a suite that fails a check is counted, not named" \
	sh -c "! grep -q '^FAIL - suite $FAKE/fails.sh' '$O' && grep -qx 'FAIL - false fails' '$O'"
check "the broken ones are listed at the end" \
	test "$(grep -c '^broken: ' "$O")" -eq 5
# passed: test_ok 2, test_fail 1, pass.sh 2, fails.sh 1, lies.sh 1 (abort's
# and notally's checks are lost with their tallies); failed: test_fail 1,
# fails.sh 1, and one for each named: test_crash, abort, notally, lies, missing
check_eq "the tally adds what was reported and one per broken" "7 passed, 7 failed" "$(tail -1 "$O")"
check "no host snapshot in a nested run" sh -c "! grep -q 'host firewall' '$O'"
[ "$FAILED" -eq 0 ] || show "$O"

# --- a run where all is well -------------------------------------------------
O=$TMP/pass.out
SUITES="$FAKE/pass.sh" BUILD=$TMP/ok inner "$O"
check_eq "a run of passing suites exits 0" 0 "$?"
check_eq "and counts them" "4 passed, 0 failed" "$(tail -1 "$O")"
check "and names nothing" sh -c "! grep -q '^FAIL\|^broken' '$O'"

# --- a hung suite: the timeout kills it, and everything it started -----------
O=$TMP/hang.out
t0=$SECONDS
SUITES="$FAKE/hang.sh $FAKE/pass.sh" BUILD=$TMP/ok SUITE_TIMEOUT=2 inner "$O"
rc=$?
check "a run with a hung suite exits non-zero (exit $rc)" test "$rc" -ne 0
check_num "the hung suite is stopped by the timeout, 2 s (run took, s)" $((SECONDS - t0)) -lt 60
check "the hung suite is named" has "$O" \
	"FAIL - suite $FAKE/hang.sh was killed by the 2 s timeout (exit 124) without its tally"
check "the suites after it still run" has "$O" "ok - equal strings"
check_eventually "the hung suite's sleep is gone" "$GONE_S" sh -c "! pgrep -fx 'sleep $HANG_S'"
check_eq "its tally" "4 passed, 1 failed" "$(tail -1 "$O")"

# --- no unit test binary at all ----------------------------------------------
O=$TMP/empty.out
SUITES="$FAKE/pass.sh" BUILD=$TMP/empty inner "$O"
rc=$?
check "no unit binary: exits non-zero (exit $rc)" test "$rc" -ne 0
check "and says so" has "$O" "FAIL - unit tests: none in $TMP/empty/tests (make unit)"

# --- --unit: no root check, no snapshot, the same accounting -----------------
O=$TMP/unit.out
env -u ONLY -u NFCOST_RUN_NESTED SUITES="$FAKE/pass.sh $FAKE/abort.sh" BUILD="$TMP"/ok \
	bash "$ROOT/tests/run.sh" --unit >"$O" 2>&1
rc=$?
check "--unit with an aborting suite exits non-zero (exit $rc)" test "$rc" -ne 0
check "--unit names it" has "$O" "FAIL - suite $FAKE/abort.sh exited 134 (SIGABRT) without its tally"
check_eq "--unit tally" "4 passed, 1 failed" "$(tail -1 "$O")"
check "--unit takes no host snapshot" sh -c "! grep -q 'host firewall' '$O'"
env NFCOST_RUN_NESTED=1 bash "$ROOT/tests/run.sh" --bogus >/dev/null 2>&1
check_eq "an unknown option is a usage error" 2 "$?"
finish
