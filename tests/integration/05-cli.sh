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
# Input that used to be taken as something else, or to fail later (issue 20):
# each is refused while the options are read, before anything is made.
check_exit "live: -i longer than the run" 2 "-i \\(20 s\\) must be shorter than the run \\(-d 4\\)" \
	"$NFCOST" live -d 4 --inject-at 1 -i 20 --rules 10
check_exit "live: -i as long as the run" 2 "must be shorter than the run" "$NFCOST" live -d 4 -i 4 --inject-at 1
for l in '1,,2' ',1,2' '1,2,'; do
	check_exit "sweep --rules $l: an empty count" 2 "a count between every two commas" "$NFCOST" sweep --rules "$l"
done
check_exit "sweep: a UDP datagram over 65507 bytes" 2 "--size with UDP takes at most 65507 bytes" \
	"$NFCOST" sweep --traffic udp --size 100000
check_exit "sweep: 65508 too" 2 "at most 65507" "$NFCOST" sweep --traffic udp --size 65508
check_exit "sweep: drop mode's datagrams too" 2 "at most 65507" "$NFCOST" sweep --hit-traffic --size 70000
check_exit "compare: --backend beside --backends" 2 "takes its backends from --backends: drop --backend" \
	"$NFCOST" compare --backends nft,ipset --backend nft
check_exit "compare: --backend before --backends" 2 "drop --backend" \
	"$NFCOST" compare --backend nft --backends nft,ipset
finish
