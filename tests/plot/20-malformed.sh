#!/bin/bash
# scripts/plot_results.py on hostile input (cases from a fault campaign and
# their kin): every malformed file gives exactly one short "nfcost: plot:"
# line on stderr and exit 2: no traceback, no quoted rest of a file, no
# matplotlib or numpy warning. What is not bad input but still escapes is an
# internal error: one line, exit 1.
# Needs neither root nor a kernel feature: only /usr/bin/python3 + matplotlib.
# lib.sh is followed with shellcheck -x; plain shellcheck need not say so.
# shellcheck source-path=SCRIPTDIR source=../lib.sh disable=SC1091
. "$(dirname "$0")/../lib.sh"

# shellcheck source=plotlib
. "$(dirname "$0")/plotlib"


# nested N: a JSON object whose one member is N arrays deep
nested() {
	"$PY" -c 'import sys; n = int(sys.argv[1]); print("{\"a\": " + "[" * n + "]" * n + "}")' "$1"
}

# quiet DESC CMD...: exit 0 and nothing at all on stderr
quiet() {
	local desc=$1 err rc; shift
	err=$("$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$err" ]; then pass "$desc"; else
		fail "$desc: exit $rc, stderr: $(printf '%s' "$err" | head -c 300)"; fi
}

# ---------------------------------------------------------------- JSON nested too deeply
D=$(fresh sweep)
nested 100000 >"$D/sweep.json"
check_exit "sweep.json nested 100000 deep" 2 "sweep.json: .*nested too deeply" "$PY" "$PLOT" sweep "$D"
D=$(fresh compare)
nested 100000 >"$D/compare.json"
check_exit "compare.json nested 100000 deep" 2 "compare.json: .*nested too deeply" "$PY" "$PLOT" compare "$D"
D=$(fresh live)
nested 100000 >"$D/iperf_results.json"
check_exit "iperf_results.json nested 100000 deep" 2 "iperf_results.json: .*nested too deeply" \
	"$PY" "$PLOT" live "$D"

# ---------------------------------------------------------------- CSV field over csv's limit
D=$(fresh sweep)
{ head -n 2 "$FIX/sweep/sweep.csv"; printf '500,0,%0200000d,1,1,1,1,1,1,0\n' 1; } >"$D/sweep.csv"
check_exit "sweep.csv field of 200000 characters" 2 \
	"sweep.csv: line 3: a field longer than 131072 characters" "$PY" "$PLOT" sweep "$D"
D=$(fresh live)
{ cat "$FIX/live/injection.csv"; printf '9.0,%0140000d\n' 2; } >"$D/injection.csv"
check_exit "injection.csv field of 140000 characters" 2 \
	"injection.csv: line 12: a field longer than 131072" "$PY" "$PLOT" live "$D"

# ---------------------------------------------------------------- unbalanced quote
D=$(fresh sweep)
cp "$FIX/malformed/sweep_unbalanced_quote.csv" "$D/sweep.csv"
check_exit "sweep.csv with a quote never closed" 2 "sweep.csv: line 5: a quoted field is never closed" \
	"$PY" "$PLOT" sweep "$D"
err=$("$PY" "$PLOT" sweep "$D" 2>&1 >/dev/null)
check_eq "... and the message quotes nothing of the rest of the file" no \
	"$(case $err in *1000,0,*) echo yes ;; *) echo no ;; esac)"
# a field that holds a newline legitimately (quoted) is still not a number
printf '%s\n0,0,1,1,1,1,"4\n06",1,1,0\n' "$(head -n 1 "$FIX/sweep/sweep.csv")" >"$D/sweep.csv"
check_exit "quoted newline in a number: one line, escaped" 2 "line 2: column lat_avg_ns: '4\\\\x0a06' is not a number" \
	"$PY" "$PLOT" sweep "$D"

# ---------------------------------------------------------------- NUL and control characters
D=$(fresh compare)
sed '2s/^nft,/nft\x00x,/' "$FIX/compare/compare.csv" >"$D/compare.csv"
check_exit "NUL in a compare.csv backend name" 2 "compare.csv: line 2: column backend: 'nft\\\\x00x' is not a name" \
	"$PY" "$PLOT" compare "$D"
check_eq "... and no figure" no "$([ -e "$D/compare.png" ] && echo yes || echo no)"
sed '3s/^iptables-legacy,/ipt\x1b[31mables,/' "$FIX/compare/compare.csv" >"$D/compare.csv"
check_exit "terminal escape in a backend name is shown escaped" 2 "line 3: column backend: 'ipt\\\\x1b\[31mables'" \
	"$PY" "$PLOT" compare "$D"
sed '2s/,412,/,4\x0012,/' "$FIX/compare/compare.csv" >"$D/compare.csv"
check_exit "NUL in a number" 2 "line 2: column lat_avg_ns: '4\\\\x0012' is not a number" "$PY" "$PLOT" compare "$D"
D=$(fresh sweep)
sed 's/"backend": "iptables-legacy"/"backend": "ipt\\u0000ables"/' "$FIX/sweep/sweep.json" >"$D/sweep.json"
check_exit "NUL in sweep.json's backend (drawn in the title)" 2 "sweep.json: backend \"ipt\\\\x00ables\" is not a name" \
	"$PY" "$PLOT" sweep "$D"
sed 's/"tracer": "nfhook"/"tracer": ["nfhook"]/' "$FIX/sweep/sweep.json" >"$D/sweep.json"
check_exit "a list where sweep.json has a name" 2 "sweep.json: tracer is an array, not a string" \
	"$PY" "$PLOT" sweep "$D"

# ---------------------------------------------------------------- numbers out of range
D=$(fresh sweep)
sed '4s/,2400,/,1e200,/' "$FIX/sweep/sweep.csv" >"$D/sweep.csv"
check_exit "1e200 ns in sweep.csv (its square overflows)" 2 "line 4: column lat_avg_ns: '1e200' is out of range" \
	"$PY" "$PLOT" sweep "$D"
sed '2s/,9440.7,/,1e300,/' "$FIX/sweep/sweep.csv" >"$D/sweep.csv"
check_exit "1e300 Mbit/s in sweep.csv (matplotlib overflows)" 2 "line 2: column throughput_mbps: '1e300' is out of range" \
	"$PY" "$PLOT" sweep "$D"
sed '2s/^0,0,9440.7/0,0,1_000/' "$FIX/sweep/sweep.csv" >"$D/sweep.csv"
check_exit "a number C's printf never writes (1_000)" 2 "line 2: column throughput_mbps: '1_000' is not a number" \
	"$PY" "$PLOT" sweep "$D"
cp "$FIX/sweep/sweep.csv" "$D/"
sed 's/"r2": 1.0/"r2": NaN/' "$FIX/sweep/sweep.json" >"$D/sweep.json"
check_exit "NaN in sweep.json (not JSON)" 2 "sweep.json: not valid JSON for nfcost: NaN" "$PY" "$PLOT" sweep "$D"
sed "s/\"r2\": 1.0/\"r2\": 1$(printf '%0400d' 0)/" "$FIX/sweep/sweep.json" >"$D/sweep.json"
check_exit "a 401-digit integer in sweep.json" 2 "sweep.json: analysis: r2 is inf, out of range" \
	"$PY" "$PLOT" sweep "$D"
sed "s/\"r2\": 1.0/\"r2\": 1$(printf '%05000d' 0)/" "$FIX/sweep/sweep.json" >"$D/sweep.json"
check_exit "a 5001-digit integer in sweep.json (int()'s digit limit)" 2 "sweep.json: analysis: r2 is inf, out of range" \
	"$PY" "$PLOT" sweep "$D"
sed 's/"throughput_knee_rules": 1000/"throughput_knee_rules": 1e300/' "$FIX/sweep/sweep.json" >"$D/sweep.json"
check_exit "a knee at 1e300 rules" 2 "throughput_knee_rules is 1e\+300, out of range" "$PY" "$PLOT" sweep "$D"
D=$(fresh live)
sed '3s/^3.5,/nan,/' "$FIX/live/injection.csv" >"$D/injection.csv"
check_exit "NaN as an injection time" 2 "injection.csv: line 3: column time_s: 'nan' is not a number" \
	"$PY" "$PLOT" live "$D"

# ---------------------------------------------------------------- multi-line messages
D=$(fresh live)
printf '{"intervals": [], "error": "line one\\nline two"}' >"$D/iperf_results.json"
check_exit "iperf3 error text with a newline" 2 "no intervals \(iperf3: line one\\\\x0aline two\)" \
	"$PY" "$PLOT" live "$D"
check_exit "a directory name with a newline" 2 'nl\\x0anope: no such directory' \
	"$PY" "$PLOT" sweep "$TMP/nl
nope"

# ---------------------------------------------------------------- text matplotlib would parse
D=$(fresh sweep)
sed 's/"backend": "iptables-legacy"/"backend": "a$\\\\frac$"/' "$FIX/sweep/sweep.json" >"$D/sweep.json"
quiet "a \$...\$ name in sweep.json is drawn as text, not math" "$PY" "$PLOT" sweep "$D"
D=$(fresh sweep_udp "q\$\\frac\$")
quiet "a directory named q\$\\frac\$ is drawn as text, not math" "$PY" "$PLOT" sweep "$D"

# ---------------------------------------------------------------- data that would make matplotlib warn
D=$(fresh compare)
for i in $(seq 1 30); do echo "b$i,0,0,1,1,1,1,1,1,1,0"; done >>"$D/compare.csv"
check_exit "33 backends (layout collapses; ten colours)" 2 "compare.csv: 33 backends, a figure tells at most 10 apart" \
	"$PY" "$PLOT" compare "$D"
D=$(fresh sweep)
awk -F, 'BEGIN { OFS = "," } NR > 1 { $3 = $7 = $8 = $9 = "nan" } { print }' \
	"$FIX/sweep/sweep.csv" >"$D/sweep.csv"
rm "$D/sweep.json"
quiet "all-NaN throughput and latency columns: a figure, silently" "$PY" "$PLOT" sweep "$D"
head -n 2 "$FIX/sweep/sweep.csv" >"$D/sweep.csv"
quiet "a single row: a figure, silently" "$PY" "$PLOT" sweep "$D"

# ---------------------------------------------------------------- runtime failures, one line too
check_exit "DIR is a file" 2 "sweep.csv: not a directory" "$PY" "$PLOT" sweep "$FIX/sweep/sweep.csv"
D=$(fresh sweep)
# shellcheck disable=SC2016 # expanded by the inner bash
check_exit "--describe into a pipe nobody reads" 1 "cannot write the description on stdout: Broken pipe" \
	bash -c '"$0" "$1" sweep "$2" --describe | head -c 0; exit "${PIPESTATUS[0]}"' "$PY" "$PLOT" "$D"

# ---------------------------------------------------------------- the last resort
# a matplotlib that fails (or warns) where no input check could have known:
# one line that says it is an internal error, exit 1
mkdir -p "$TMP/fake/matplotlib"
echo 'def use(backend): pass' >"$TMP/fake/matplotlib/__init__.py"
printf 'class Figure:\n    def __init__(self, *a, **k):\n        raise RuntimeError("boom\\nsecond line")\n' \
	>"$TMP/fake/matplotlib/figure.py"
check_exit "an unexpected exception" 1 "internal error, please report it: RuntimeError: boom\\\\x0asecond line" \
	env PYTHONPATH="$TMP/fake" "$PY" "$PLOT" sweep "$FIX/sweep" -o "$TMP/x.png"
printf 'import warnings\nclass Figure:\n    def __init__(self, *a, **k):\n        warnings.warn("odd data")\n' \
	>"$TMP/fake/matplotlib/figure.py"
check_exit "an unexpected warning" 1 "internal error, please report it: UserWarning: odd data" \
	env PYTHONPATH="$TMP/fake" "$PY" "$PLOT" sweep "$FIX/sweep" -o "$TMP/x.png"

finish
