#!/bin/bash
# Runs every test suite: the cmocka unit tests, then the integration tests
# (root, real kernel). Checks that the host's own firewall and network
# namespaces are untouched by the whole run. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
export TALLY=$(mktemp)
total_fail=0

snapshot() {
	{
		echo "== iptables-save"; iptables-save 2>&1 | grep -v '^#'
		echo "== iptables-legacy-save"; iptables-legacy-save 2>&1 | grep -v '^#'
		echo "== nft"; nft list ruleset 2>&1
		echo "== netns"; ip netns list 2>&1
		echo "== links"; ip -o link show 2>&1 | awk '{print $2}'
	} >"$1"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/run.sh: the integration tests need root (sudo make check)" >&2
	exit 1
fi
before=$(mktemp); after=$(mktemp)
snapshot "$before"

echo "### unit tests (cmocka)"
for t in "${BUILD:-build}"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$(CMOCKA_MESSAGE_OUTPUT=stdout "$t" 2>&1); rc=$?
	echo "$out"
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	[ -z "$f" ] && [ "$rc" -ne 0 ] && f=1
	echo "${p:-0} ${f:-0}" >>"$TALLY"
done

for t in tests/integration/*.sh tests/plot/*.sh; do
	[ -f "$t" ] || continue
	case "${ONLY:-}" in ""|*"$(basename "$t")"*) ;; *) continue ;; esac
	echo "### $t"
	timeout 900 bash "$t" || true
done

snapshot "$after"
if diff -u "$before" "$after"; then
	echo "ok - host firewall, namespaces and links unchanged by the test run"
	echo "1 0" >>"$TALLY"
else
	echo "FAIL - the test run changed the host's firewall, namespaces or links"
	echo "0 1" >>"$TALLY"
fi
rm -f "$before" "$after"
read -r P F < <(awk '{p += $1; f += $2} END {print p + 0, f + 0}' "$TALLY")
rm -f "$TALLY"
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
