#!/bin/bash
# `make install`: a staged install (DESTDIR) puts the binary, the plot script
# and the man page where PREFIX says; an nfcost installed under another PREFIX
# than it was built for still finds its plot script and draws a sweep's
# figure, run from outside the source tree.
. "$(dirname "$0")/../lib.sh"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
is_png() { /usr/bin/python3 -c 'import sys,matplotlib.image as m; a=m.imread(sys.argv[1]); sys.exit(not (a.shape[0] > 200 and a.shape[1] > 200))' "$1"; }

check "make install PREFIX=/usr DESTDIR=stage" \
	make -s -C "$ROOT" install BUILD="${BUILD:-build}" PREFIX=/usr DESTDIR="$TMP/stage"
check "the binary in DESTDIR/usr/bin, executable" test -x "$TMP/stage/usr/bin/nfcost"
check "the plot script in DESTDIR/usr/share/nfcost" test -x "$TMP/stage/usr/share/nfcost/plot_results.py"
check "the man page in DESTDIR/usr/share/man/man8" test -s "$TMP/stage/usr/share/man/man8/nfcost.8"
check_eq "the installed binary runs" "$($NFCOST --version)" "$("$TMP/stage/usr/bin/nfcost" --version)"
check_eq "nothing outside DESTDIR/usr" "usr" "$(ls "$TMP/stage")"

check "make install PREFIX=elsewhere" \
	make -s -C "$ROOT" install BUILD="${BUILD:-build}" PREFIX="$TMP/opt"
(cd "$TMP" && "$TMP/opt/bin/nfcost" sweep --rules 0:500:500 -d 1 --backend iptables-legacy \
	--out "$TMP/sw" >"$TMP/sw.log" 2>&1)
check_eq "a sweep with the relocated binary exits 0" 0 $?
check_eq "it found its plot script" "" "$(grep 'plot_results.py not found' "$TMP/sw.log")"
check "and drew sweep.png" is_png "$TMP/sw/sweep.png"
finish
