#!/bin/bash
# Debian's shellcheck over every shell script of the project: a finding is
# a failing check. Settings in .shellcheckrc (follow sourced files).
. "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
mapfile -t scripts < <({ find . -name '*.sh' -not -path './build/*' -not -path './debian/*' \
	-not -path './.git/*'; echo .ci/run; echo completion/nfcost; find scripts/vmtest -type f; } | sort -u)
check_num "scripts found" "${#scripts[@]}" -ge 30
for s in "${scripts[@]}"; do
	check "shellcheck: ${s#./}" shellcheck -x "$s"
done
finish
