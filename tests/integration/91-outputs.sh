#!/bin/bash
# Issue 20 items 1, 4, 7, 8 and 11: output files are never written through a
# symlink planted in the output directory (nor at the default directory's
# name), a full filesystem leaves no empty or truncated file and is one
# line, modes are 0644/0755 whatever the umask, a reused --out has exactly
# nfcost's own files removed (and says so) or is refused, and an --out over
# PATH_MAX is refused before anything is created.
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d)
FULL=$T/full
cleanup() { mountpoint -q "$FULL" && umount "$FULL"; rm -rf "$T"; }
trap cleanup EXIT
EX=$(cd "$(dirname "$0")/../.." && pwd)/examples
SWEEP=(sweep --rules 0:1000:500 -d 1 --backend iptables-legacy --no-plot)
names() { find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | xargs; }
json_ok() { /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1"; }
mode() { stat -c %a "$1"; }
# the lines on stderr that are errors: not the start line, not a warning
errors() { grep '^nfcost: ' "$1" | grep -v -e '^nfcost: sweep ' -e '^nfcost: warning: ' || true; }
echo V >"$T/victim"

# --- a directory nfcost did not make, with symlinks planted in it: refused ---
mkdir -p "$T/o/iperf"
ln -s "$T/victim" "$T/o/sweep.csv"
ln -s "$T/victim" "$T/o/iperf/rules-0000000-r1.json"
check_exit "a non-empty --out nfcost did not make is refused" 2 \
	"not empty and nfcost did not make it.*give a new or empty directory" \
	"$NFCOST" "${SWEEP[@]}" --out "$T/o"
check_eq "the victim is untouched" V "$(cat "$T/victim")"
check_exit "profile refuses it too" 2 "not empty and nfcost did not make it" \
	"$NFCOST" profile "$EX/bloated-chain.rules" -d 1 --no-plot --out "$T/o"
check_eq "... and nothing was written there" "iperf sweep.csv" "$(names "$T/o")"
ln -s "$T/victim" "$T/link"
check_exit "an --out that is a symlink is refused" 2 "symbolic link" \
	"$NFCOST" "${SWEEP[@]}" --out "$T/link"

# --- a first run under umask 000: 0644 files, 0755 directories ---
R=$T/r/deep
check "first sweep (umask 000)" sh -c "umask 000; exec $NFCOST ${SWEEP[*]} --out $R >$T/r1.out 2>$T/r1.err"
check_eq "the directory is 0755" 755 "$(mode "$R")"
check_eq "its new parent is 0755" 755 "$(mode "$T/r")"
check_eq "iperf/ is 0755" 755 "$(mode "$R/iperf")"
for f in sweep.csv sweep.json report.md .nfcost iperf/rules-0000000-r1.json; do
	check_eq "$f is 0644" 644 "$(mode "$R/$f")"
done
check_eq "no temporary file left" "" "$(find "$R" -name '.*.nfcost-*')"

# --- the same --out again, with symlinks planted before and during the run ---
rm "$R/sweep.csv" "$R/iperf/rules-0000000-r1.json"
ln -s "$T/victim" "$R/sweep.csv"
ln -s "$T/victim" "$R/iperf/rules-0000000-r1.json"
$NFCOST sweep --rules 0:1000:1000 -d 1 --backend iptables-legacy --no-plot --out "$R" >"$T/r2.out" 2>"$T/r2.err" &
pid=$!
# once it measures (its CSV is under a temporary name), links at the names
# it has not written yet
wait_until 60 sh -c "ls $R/.sweep.csv.nfcost-* >/dev/null 2>&1"
for f in sweep.json report.md iperf/rules-0001000-r1.json; do ln -sf "$T/victim" "$R/$f"; done
wait $pid
rc=$?
check_eq "second sweep into the same --out succeeds" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/    /' "$T/r2.err" | tail -5
check "it says it removed the earlier run's files" \
	grep -Eq "^$R: removed the [0-9]+ files of an earlier nfcost run there$" "$T/r2.out"
check_eq "the victim is untouched" V "$(cat "$T/victim")"
for f in sweep.csv sweep.json report.md iperf/rules-0000000-r1.json iperf/rules-0001000-r1.json; do
	check "$f is a regular file of the new run" test -f "$R/$f" -a ! -L "$R/$f"
done
check_eq "only the new run's iperf3 files" "rules-0000000-r1.json rules-0001000-r1.json" \
	"$(names "$R/iperf")"
check_eq "only the new run's rows" "0 1000" "$(tail -n +2 "$R/sweep.csv" | cut -d, -f1 | xargs)"
check "sweep.json parses" json_ok "$R/sweep.json"
echo mine >"$R/notes.txt"
check_exit "a file of someone else's beside nfcost's: refused" 2 "notes.txt, which nfcost did not write" \
	"$NFCOST" "${SWEEP[@]}" --out "$R"
check_eq "... and nfcost's files stay" "0 1000" "$(tail -n +2 "$R/sweep.csv" | cut -d, -f1 | xargs)"

# --- profile: profile.md and fixes/original.rules planted as links ---
P=$T/p
check "a profile" "$NFCOST" profile "$EX/bloated-chain.rules" --fix none -d 1 --no-plot --out "$P"
check "... wrote fixes/original.rules" test -f "$P/fixes/original.rules"
for f in profile.md fixes/original.rules; do rm -f "$P/$f"; ln -s "$T/victim" "$P/$f"; done
check "the same profile again into it" "$NFCOST" profile "$EX/bloated-chain.rules" --fix none -d 1 \
	--no-plot --out "$P"
check_eq "the victim is untouched" V "$(cat "$T/victim")"
for f in profile.md profile.json fixes/original.rules; do
	check "$f is a regular file" test -f "$P/$f" -a ! -L "$P/$f"
done

# --- the default directory: a symlink planted at its predictable name ---
mkdir -p "$T/cwd/results" "$T/victimdir"
for i in $(seq 0 120); do
	ln -s "$T/victimdir" "$T/cwd/results/sweep-$(date -u -d "+$i sec" +%Y%m%dT%H%M%SZ)"
done
check "sweep into the default directory" sh -c "cd $T/cwd && exec $NFCOST sweep --rules 0:500:500 -d 1 --backend iptables-legacy --no-plot >$T/d.out 2>$T/d.err"
check_eq "nothing went where the link points" "" "$(ls -A "$T/victimdir")"
made=$(find "$T/cwd/results" -mindepth 1 -maxdepth 1 -type d -name 'sweep-*')
check "a new directory beside the link holds the files" test -f "$made/sweep.json" -a -f "$made/sweep.csv"

# --- a full filesystem: exit 1, one line, no empty or truncated file ---
mkdir -p "$FULL"
mount -t tmpfs -o size=64k,mode=0755 tmpfs "$FULL"
head -c $((56 * 1024)) /dev/zero >"$FULL/fill" 2>/dev/null
"$NFCOST" "${SWEEP[@]}" --out "$FULL/o" >"$T/f.out" 2>"$T/f.err"
rc=$?
check_eq "a full filesystem: exit 1" 1 "$rc"
check_eq "one error line" 1 "$(errors "$T/f.err" | grep -c .)"
check "it names the file and the reason" sh -c "grep -Eq '^nfcost: cannot write $FULL/o/[^ ]+: No space left on device$' $T/f.err"
check_eq "no empty file" "" "$(find "$FULL/o" -type f -size 0)"
check_eq "no temporary file left" "" "$(find "$FULL/o" -name '.*.nfcost-*')"
while IFS= read -r f; do
	check "$f is whole JSON" json_ok "$f"
done < <(find "$FULL/o" -name '*.json')
[ -f "$FULL/o/report.md" ] && check "report.md is whole" grep -q '^Data: sweep.csv' "$FULL/o/report.md"
[ -f "$FULL/o/sweep.csv" ] && check "sweep.csv rows are whole" \
	awk -F, 'NR == 1 { n = NF } NR > 1 && NF != n { exit 1 }' "$FULL/o/sweep.csv"
umount "$FULL"

# --- PATH_MAX: refused before anything is created ---
long=$T/long$(printf '/%0200d' $(seq 1 21))
check_exit "an --out over PATH_MAX is refused" 2 "choose a shorter path" "$NFCOST" "${SWEEP[@]}" --out "$long"
check "nothing was created" test ! -e "$T/long"
check_exit "a name over NAME_MAX is refused" 2 "at most 255" \
	"$NFCOST" "${SWEEP[@]}" --out "$T/n/$(printf '%0300d' 0)"
check "nothing was created" test ! -e "$T/n"

# --- a run that fails before its first step leaves no directory behind ---
# (a resource limit is named as one, with the way to raise it)
# shellcheck disable=SC2016 # expanded by the inner shell
check_exit "too few open files: one line naming ulimit -n" 1 "ulimit -n" \
	bash -c 'ulimit -n 12; exec "$0" "$@"' "$NFCOST" "${SWEEP[@]}" --out "$T/lim/o"
check "and no --out was left behind" test ! -e "$T/lim"
finish
