#!/bin/bash
# scripts/plot_results.py live on malformed bpf_windows.csv (docs/formats.md):
# each case gives one "nfcost: plot:" line naming the file and the line, and
# exit 2, and leaves no results.png.
# Needs neither root nor a kernel feature: only /usr/bin/python3 + matplotlib.
# The awk edits below are single-quoted on purpose: awk expands their $N.
# shellcheck disable=SC2016
# lib.sh is followed with shellcheck -x; plain shellcheck need not say so.
# shellcheck source-path=SCRIPTDIR source=../lib.sh disable=SC1091
. "$(dirname "$0")/../lib.sh"

# shellcheck source=plotlib
. "$(dirname "$0")/plotlib"
GOOD=$FIX/live/bpf_windows.csv

D=$TMP/live
cp -r "$FIX/live" "$D"
check "the fixture plots" "$PY" "$PLOT" live "$D" -o "$TMP/good.png"

# bad DESC MSG_REGEX: bpf_windows.csv (as written by the caller) is refused
bad() {
	rm -f "$D/results.png"
	check_exit "$1" 2 "$D/bpf_windows.csv: $2" "$PY" "$PLOT" live "$D"
	if [ -e "$D/results.png" ]; then fail "$1: results.png written"; fi
}

# edit LINE AWK_ASSIGNMENTS: the good file with fields of line LINE changed
edit() {
	awk -F, -v n="$1" 'BEGIN { OFS = "," } NR == n { '"$2"' } { print }' "$GOOD" >"$D/bpf_windows.csv"
}

# ---------------------------------------------------------------- header
sed '1s/lat_avg_ns/avg_ns/' "$GOOD" >"$D/bpf_windows.csv"
bad "a renamed column" "line 1: expected the header t_start_s,t_end_s,hook,packets,lat_avg_ns,"
sed '1s/t_start_s,t_end_s/t_end_s,t_start_s/' "$GOOD" >"$D/bpf_windows.csv"
bad "columns swapped" "line 1: expected the header"
cut -d, -f1-7 "$GOOD" >"$D/bpf_windows.csv"
bad "no unmatched column" "line 1: expected the header"
tail -n +2 "$GOOD" >"$D/bpf_windows.csv"
bad "no header at all" "line 1: expected the header"
: >"$D/bpf_windows.csv"
bad "an empty file" "empty file, expected the header t_start_s,"
head -n 1 "$GOOD" >"$D/bpf_windows.csv"
bad "a header and no window" "no probe windows after the header"

# ---------------------------------------------------------------- fields
edit 3 '$1 = "2.0s"'
bad "a time with a unit" "line 3: column t_start_s: '2.0s' is not a number"
edit 3 '$2 = "nan"'
bad "a NaN end time" "line 3: column t_end_s: 'nan' is not a number"
edit 2 '$1 = "-0.5"'
bad "a negative start time" "line 2: column t_start_s: '-0.5' is negative"
edit 4 '$4 = "49630.5"'
bad "a fractional packet count" "line 4: column packets: '49630.5' is not a non-negative integer"
edit 4 '$4 = "-3"'
bad "a negative packet count" "line 4: column packets: '-3' is not a non-negative integer"
edit 5 '$8 = "x"'
bad "a non-numeric unmatched" "line 5: column unmatched: 'x' is not a non-negative integer"
edit 5 '$5 = "7154 ns"'
bad "an average with a unit" "line 5: column lat_avg_ns: '7154 ns' is not a number"
edit 5 '$7 = "-1.0"'
bad "a negative p99" "line 5: column lat_p99_ns: '-1.0' is negative"
edit 6 '$3 = ""'
bad "an empty hook" "line 6: column hook: '' is empty"
edit 6 '$3 = "LOCAL_IN"'
bad "a second hook" "line 6: hook LOCAL_IN, but line 2 has LOCAL_OUT: a live run probes one hook"
edit 7 '$9 = "1"'
bad "a row with a ninth field" "line 7: 9 fields, the header has 8"

# ---------------------------------------------------------------- packets and latency agree
edit 3 '$4 = 0'
bad "packets 0 with an average" "line 3: column lat_avg_ns: '1262.0' in a window without packets"
edit 3 '$4 = 0; $5 = $6 = ""; $7 = "0.0"'
bad "packets 0 with a p99 of 0" "line 3: column lat_p99_ns: '0.0' in a window without packets"
edit 3 '$5 = ""'
bad "packets and no average" "line 3: column lat_avg_ns is empty, but the window has 50877 packets"
edit 3 '$5 = "nan"'
bad "packets and a NaN average" "line 3: column lat_avg_ns: 'nan' is not a number"

# ---------------------------------------------------------------- time order
awk 'NR == 4 { held = $0; next } { print } NR == 5 { print held }' "$GOOD" >"$D/bpf_windows.csv"
bad "two rows swapped" "line 5: the window starts at 4 s, before the previous one ends \(8 s\): windows must be in time order"
edit 4 '$1 = "3.500"'
bad "overlapping windows" "line 4: the window starts at 3.5 s, before the previous one ends \(4 s\)"
edit 4 '$2 = "3.000"'
bad "a window that ends before it starts" "line 4: the window ends \(3 s\) before it starts \(4 s\)"

# ---------------------------------------------------------------- what is fine
edit 4 '$1 = "4.250"'
check "a gap between windows is fine" "$PY" "$PLOT" live "$D"
edit 7 '$2 = $1'
check "a window of no length is fine" "$PY" "$PLOT" live "$D"
sed 's/,/ , /g' "$GOOD" >"$D/bpf_windows.csv"
check "spaces around fields are fine" "$PY" "$PLOT" live "$D"

finish
