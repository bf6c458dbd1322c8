#!/bin/bash
# Runs every test suite: the cmocka unit tests, then the runner's own
# selftest, the integration tests (root, real kernel) and the plot tests.
# Checks that the host's own firewall and network namespaces are untouched by
# the whole run. Ends with "N passed, N failed"; exits non-zero on a failure.
#
#   tests/run.sh          everything (needs root)
#   tests/run.sh --unit   the unit tests, tests/lint and tests/plot only: no root,
#                         no kernel feature, no host snapshot
#
# A suite is a bash script that sources tests/lib.sh and ends with `finish`,
# which prints its tally and appends it to the file $TALLY. A suite that ends
# without its tally (it died, or was killed by the timeout), or exits non-zero
# while reporting 0 failed, counts as one failure, named. So does a unit test
# binary that ends without cmocka's summary or exits non-zero with 0 failed.
#
# Environment:
#   SUITES="a.sh b.sh"  the suites to run, instead of the default list
#                       (paths from the source tree's top; patterns allowed)
#   ONLY="20-trace.sh"  only the suites whose file name ONLY contains
#   SUITE_TIMEOUT=900   seconds a suite may take (unit binaries: UNIT_TIMEOUT=300)
#   BUILD=build         where the unit test binaries are (BUILD/tests/test_*)
#   NFCOST_RUN_NESTED=1 no root check and no host snapshot: set by the
#                       runner's selftest, which runs this script inside itself
set -u
cd "$(dirname "$0")/.." || exit 2

unit_only=""
case "${1:-}" in
"") ;;
--unit) unit_only=1 ;;
*) echo "usage: tests/run.sh [--unit]" >&2; exit 2 ;;
esac

BUILD=${BUILD:-build}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-900}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
if [ -n "${SUITES:-}" ]; then
	# shellcheck disable=SC2206 # split on blanks, and a pattern may be given
	suites=($SUITES)
else
	shopt -s nullglob
	if [ -n "$unit_only" ]; then
		suites=(tests/lint/*.sh tests/plot/*.sh)
	else
		suites=(tests/selftest/runner.sh tests/lint/*.sh tests/integration/*.sh tests/plot/*.sh)
	fi
	shopt -u nullglob
fi

P=0 F=0
broken=()
# broken WHAT WHY: one failure the runner itself finds, e.g. a suite that died
broken() { echo "FAIL - $1 $2"; F=$((F + 1)); broken+=("$1"); }

# how_ended STATUS: "exited 134 (SIGABRT)", "was killed by the 900 s timeout"
how_ended() {
	if [ "$1" -eq 124 ]; then
		echo "was killed by the $2 s timeout (exit 124)"
	elif [ "$1" -gt 128 ] && [ "$1" -lt 192 ]; then
		echo "exited $1 (SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128))))"
	else
		echo "exited $1"
	fi
}

snapshot() {
	{
		echo "== iptables-save"; iptables-save 2>&1 | grep -v '^#'
		echo "== iptables-legacy-save"; iptables-legacy-save 2>&1 | grep -v '^#'
		echo "== nft"; nft list ruleset 2>&1
		echo "== netns"; ip netns list 2>&1
		echo "== links"; ip -o link show 2>&1 | awk '{print $2}'
	} >"$1"
}

host_check=""
[ -z "$unit_only" ] && [ -z "${NFCOST_RUN_NESTED:-}" ] && host_check=1
if [ -n "$host_check" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "tests/run.sh: the integration tests need root (sudo make check;" \
			"make check-unit needs none)" >&2
		exit 1
	fi
	before=$(mktemp); after=$(mktemp)
	snapshot "$before"
fi

echo "### unit tests (cmocka)"
units=0
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	units=$((units + 1))
	out=$(CMOCKA_MESSAGE_OUTPUT=stdout timeout -k 10 "$UNIT_TIMEOUT" "$t" 2>&1); rc=$?
	echo "$out"
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	if [ -z "$p$f" ]; then
		broken "unit test $t" "$(how_ended $rc "$UNIT_TIMEOUT") without cmocka's summary"
		continue
	fi
	P=$((P + ${p:-0})); F=$((F + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		broken "unit test $t" "$(how_ended $rc "$UNIT_TIMEOUT") while reporting 0 failed"
	fi
done
[ "$units" -eq 0 ] && broken "unit tests:" "none in $BUILD/tests (make unit)"

for t in "${suites[@]}"; do
	case "${ONLY:-}" in ""|*"$(basename "$t")"*) ;; *) continue ;; esac
	echo "### $t"
	if [ ! -f "$t" ]; then
		broken "suite $t" "does not exist"
		continue
	fi
	tally=$(mktemp)
	t0=$SECONDS
	TALLY=$tally timeout -k 30 "$SUITE_TIMEOUT" bash "$t"; rc=$?
	echo "### $t: $((SECONDS - t0)) s, exit $rc"
	if [ ! -s "$tally" ]; then
		broken "suite $t" "$(how_ended $rc "$SUITE_TIMEOUT") without its tally"
	else
		read -r p f < <(awk '{p += $1; f += $2} END {print p + 0, f + 0}' "$tally")
		P=$((P + p)); F=$((F + f))
		if [ "$rc" -eq 124 ] || [ "$rc" -gt 128 ]; then
			broken "suite $t" "$(how_ended $rc "$SUITE_TIMEOUT") after its tally"
		elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			broken "suite $t" "$(how_ended $rc "$SUITE_TIMEOUT") while reporting 0 failed"
		fi
	fi
	rm -f "$tally"
done

if [ -n "$host_check" ]; then
	snapshot "$after"
	if diff -u "$before" "$after"; then
		echo "ok - host firewall, namespaces and links unchanged by the test run"
		P=$((P + 1))
	else
		echo "FAIL - the test run changed the host's firewall, namespaces or links"
		F=$((F + 1))
	fi
	rm -f "$before" "$after"
fi
[ "${#broken[@]}" -gt 0 ] && printf 'broken: %s\n' "${broken[@]}"
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
