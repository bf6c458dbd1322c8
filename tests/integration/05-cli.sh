#!/bin/bash
# The command line every user meets first: `nfcost --help` lists the
# commands, each `nfcost COMMAND --help` names that command in its usage line
# and exits 0, --usage and --version work everywhere, and bad input is one
# "nfcost:" line and exit 2. Touches no namespace or firewall.
. "$(dirname "$0")/../lib.sh"

COMMANDS="testbed rules trace sweep live compare watch compile cleanup"
version=$($NFCOST --version)
check_eq "--version" "nfcost" "${version%% *}"
for c in $COMMANDS; do
	check "nfcost --help lists $c" sh -c "$NFCOST --help | grep -q '^  $c '"
	out=$($NFCOST "$c" --help); rc=$?
	check_eq "$c --help exits 0" 0 "$rc"
	check_eq "$c --help: usage line names the command" "Usage: nfcost $c [OPTION...]" \
		"$(echo "$out" | head -1 | cut -d' ' -f1-4)"
	check "$c --help has examples or a description" test "$(echo "$out" | grep -c .)" -ge 5
	check_eq "$c --usage names the command" "Usage: nfcost $c" \
		"$($NFCOST "$c" --usage | head -1 | cut -d' ' -f1-3)"
	check_eq "$c -V" "$version" "$($NFCOST "$c" -V)"
	check_exit "$c with an unknown option" 2 "unrecognized option '--no-such-option'" \
		"$NFCOST" "$c" --no-such-option
done
check_exit "no command" 2 "no command given" "$NFCOST"
check_exit "unknown command" 2 "unknown command 'frobnicate'" "$NFCOST" frobnicate
finish
