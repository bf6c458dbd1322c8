#!/usr/bin/python3
"""Draw nfcost's figures from its data files alone (see docs/formats.md).

  plot_results.py sweep DIR    sweep.csv [+ sweep.json]           -> DIR/sweep.png
  plot_results.py live DIR     iperf_results.json, bpf_windows.csv,
                               injection.csv                      -> DIR/results.png
  plot_results.py compare DIR  compare.csv [+ compare.json]       -> DIR/compare.png
  plot_results.py profile DIR  profile.json                       -> DIR/profile.png

Exit status: 0 when the figure was written; 1 on a runtime failure (no
matplotlib, the output cannot be written, an internal error); 2 on bad usage
or a missing or malformed input file. Every error is one line on stderr
starting "nfcost: plot:", and nothing else is ever written there.
"""

import argparse
import csv
import io
import json
import logging
import math
import os
import re
import statistics
import sys
import textwrap
import warnings

PROG = "nfcost: plot"

SWEEP_COLUMNS = ("rules", "repeat", "throughput_mbps", "cwnd_kb", "retransmits", "packets",
                 "lat_avg_ns", "lat_p50_ns", "lat_p99_ns", "inject_ms")
INTEGER_COLUMNS = {"rules", "repeat", "packets"}
LATENCY_COLUMNS = ("lat_avg_ns", "lat_p50_ns", "lat_p99_ns")
WINDOW_COLUMNS = ("t_start_s", "t_end_s", "hook", "packets", "lat_avg_ns", "lat_p50_ns",
                  "lat_p99_ns", "unmatched")

# What C's printf writes for a number ("%ld", "%.1f", "%g", "nan", "-nan"),
# and nothing of what float() also takes ("1_000", " inf", "infinity", "٣").
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\Z", re.ASCII)
NAN = re.compile(r"[-+]?nan\Z", re.ASCII | re.IGNORECASE)
# No measured quantity comes near this; it keeps every sum of squares in the
# fit and every axis limit in matplotlib finite.
MAGNITUDE_LIMIT = 1e15
# Names drawn in a figure (backends, hooks, run metadata): the font has every
# printable ASCII character, and a name longer than this is no name.
NAME_MAX = 100
MAX_BACKENDS = 10

# One colour per quantity in every figure, so that the figures read alike.
C_TPUT, C_CWND, C_LAT, C_FIT = "tab:blue", "tab:orange", "tab:red", "black"
# profile: one colour per part label (a table, conntrack, an nft chain):
# tab10's, then tab20's lighter shades, without the greys, which are the
# probe's own time (a part nothing of the rule set is registered in) and a
# hook that was not split.
PART_COLOURS = tuple(f"C{i}" for i in range(10) if i != 7) + (
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d",
    "#9edae5")
C_UNLABELED, C_WHOLE = "0.8", "0.55"


class Failure(Exception):
    """An error to report as one line; status 1 (runtime) unless overridden."""
    status = 1


class InputError(Failure):
    """A missing or malformed input file."""
    status = 2


class UsageError(Failure):
    """Bad command-line arguments."""
    status = 2


# ---------------------------------------------------------------- messages

def escape(text):
    """text with every unprintable character (NUL, newline, ESC, ...) as a
    \\xNN / \\uNNNN escape, so that a message stays one line on a terminal."""
    return "".join(c if c.isprintable() else
                   f"\\x{ord(c):02x}" if ord(c) < 0x100 else
                   f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"
                   for c in text)


def show(text, limit=40):
    """Input quoted in a message: escaped, and cut so that a 100 kB field or
    the rest of a file never floods the terminal."""
    text = escape(text[:limit + 1])
    return text if len(text) <= limit else text[:limit] + "..."


def show_json(value):
    """A JSON value in a message, without serializing it: it may be nested
    deep enough to exhaust the recursion limit."""
    if isinstance(value, str):
        return f'"{show(value)}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return show(repr(value))


def plain(text):
    """Text for a figure, drawn as it is: a "$" would start matplotlib's math
    mode, which fails on most input."""
    return str(text).replace("$", r"\$")


# ---------------------------------------------------------------- parsing

def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None


def parse_number(text, integer, allow_nan=True):
    """A number as C's printf writes it; NaN (C's "nan" or "-nan") only where
    allowed. Raises ValueError with what is expected."""
    if integer:
        if not text.isascii() or not text.isdigit():
            raise ValueError("is not a non-negative integer")
        # More digits than the limit allows are out of range anyway; this also
        # spares int() its own digit limit (4300).
        if len(text) > 16 or int(text) > MAGNITUDE_LIMIT:
            raise ValueError(f"is out of range (over {MAGNITUDE_LIMIT:g})")
        return int(text)
    if allow_nan and NAN.match(text):
        return math.nan
    if not NUMBER.match(text):
        raise ValueError("is not a number")
    value = float(text)
    if not abs(value) <= MAGNITUDE_LIMIT:
        raise ValueError(f"is out of range (magnitude over {MAGNITUDE_LIMIT:g})")
    return value


def check_name(text):
    """A name to draw: printable ASCII, not too long. Raises ValueError."""
    if not text:
        raise ValueError("is empty")
    if not (text.isascii() and text.isprintable()):
        raise ValueError("is not a name: only printable ASCII characters")
    if len(text) > NAME_MAX:
        raise ValueError(f"is longer than {NAME_MAX} characters")
    return text


def csv_rows(path):
    """(header, [(line number, fields), ...]) of a CSV file; blank lines are
    skipped. Fields are stripped."""
    text = read_text(path)
    # strict: a quote that is opened and never closed is an error, not a
    # field that swallows the rest of the file.
    reader = csv.reader(io.StringIO(text), strict=True)
    rows = []
    line = 1
    try:
        for row in reader:
            rows.append((line, [field.strip() for field in row]))
            line = reader.line_num + 1
    except csv.Error as e:
        msg = str(e)
        if "field limit" in msg:
            msg = f"a field longer than {csv.field_size_limit()} characters"
        elif "unexpected end of data" in msg:
            msg = "a quoted field is never closed"
        elif "expected after" in msg:
            msg = "a closing quote is not followed by a comma"
        else:
            msg = f"not valid CSV ({show(msg, 80)})"
        raise InputError(f"{path}: line {line}: {msg}") from None
    rows = [(n, row) for n, row in rows if any(row)]
    if not rows:
        return None, []
    return rows[0][1], rows[1:]


def read_csv(path, columns, text_columns=(), allow_no_rows=False, allow_nan=True):
    """Rows of a CSV file as dicts of the named columns, numbers parsed.

    Extra columns are ignored so that newer files still plot."""
    header, rows = csv_rows(path)
    if header is None:
        raise InputError(f"{path}: empty file, expected the header {','.join(columns)}")
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)} in the header")
    index = {c: header.index(c) for c in columns}
    records = []
    for lineno, row in rows:
        if len(row) != len(header):
            raise InputError(f"{path}: line {lineno}: {len(row)} fields, "
                             f"the header has {len(header)}")
        record = {"line": lineno}
        for c in columns:
            raw = row[index[c]]
            try:
                record[c] = (check_name(raw) if c in text_columns else
                             parse_number(raw, c in INTEGER_COLUMNS, allow_nan))
            except ValueError as e:
                raise InputError(f"{path}: line {lineno}: column {c}: "
                                 f"'{show(raw)}' {e}") from None
        records.append(record)
    if not records and not allow_no_rows:
        raise InputError(f"{path}: no data rows after the header")
    return records


def no_latency_without_packets(rows):
    """A row whose probe saw no packet has no latency, whatever its lat_*
    columns hold: it counts for throughput only (as in results.c's fit)."""
    for row in rows:
        if row["packets"] == 0:
            for c in LATENCY_COLUMNS:
                row[c] = math.nan
    return rows


def read_windows(path):
    """The probe windows of live's bpf_windows.csv: dicts with t_start_s,
    t_end_s, hook, packets, unmatched and lat_* (NaN when no packet was
    timed), checked to be in time order."""
    if not os.path.exists(path):
        older = os.path.exists(os.path.join(os.path.dirname(path), "bpf_results.txt"))
        raise InputError(f"{path}: no such file" + (
            " (only bpf_results.txt is there: an older nfcost wrote this run; run nfcost "
            "live again)" if older else ""))
    header, rows = csv_rows(path)
    if header is None:
        raise InputError(f"{path}: empty file, expected the header {','.join(WINDOW_COLUMNS)}")
    # The C side writes exactly this; later columns may only be appended.
    if tuple(header[:len(WINDOW_COLUMNS)]) != WINDOW_COLUMNS:
        raise InputError(f"{path}: line 1: expected the header {','.join(WINDOW_COLUMNS)}")
    windows = []
    for lineno, row in rows:
        if len(row) != len(header):
            raise InputError(f"{path}: line {lineno}: {len(row)} fields, "
                             f"the header has {len(header)}")
        w = dict(zip(WINDOW_COLUMNS, row), line=lineno)
        where = f"{path}: line {lineno}"
        for c in WINDOW_COLUMNS:
            raw = w[c]
            try:
                if c == "hook":
                    check_name(raw)
                elif c in ("packets", "unmatched"):
                    w[c] = parse_number(raw, integer=True)
                elif c.startswith("t_"):
                    w[c] = parse_number(raw, integer=False, allow_nan=False)
                    if w[c] < 0:
                        raise ValueError("is negative")
            except ValueError as e:
                raise InputError(f"{where}: column {c}: '{show(raw)}' {e}") from None
        # No packet, no average: an empty field, never a 0 that would plot.
        for c in LATENCY_COLUMNS:
            raw = w[c]
            if w["packets"] == 0:
                if raw:
                    raise InputError(f"{where}: column {c}: '{show(raw)}' in a window without "
                                     f"packets (packets 0 leaves it empty)")
                w[c] = math.nan
                continue
            if not raw:
                raise InputError(f"{where}: column {c} is empty, but the window has "
                                 f"{w['packets']} packets")
            try:
                w[c] = parse_number(raw, integer=False, allow_nan=False)
                if w[c] < 0:
                    raise ValueError("is negative")
            except ValueError as e:
                raise InputError(f"{where}: column {c}: '{show(raw)}' {e}") from None
        if w["t_end_s"] < w["t_start_s"]:
            raise InputError(f"{where}: the window ends ({w['t_end_s']:g} s) before it "
                             f"starts ({w['t_start_s']:g} s)")
        # live probes one hook: a window is one row.
        if windows and w["hook"] != windows[0]["hook"]:
            raise InputError(f"{where}: hook {show(w['hook'])}, but line {windows[0]['line']} has "
                             f"{show(windows[0]['hook'])}: a live run probes one hook")
        if windows and w["t_start_s"] < windows[-1]["t_end_s"]:
            raise InputError(f"{where}: the window starts at {w['t_start_s']:g} s, before the "
                             f"previous one ends ({windows[-1]['t_end_s']:g} s): windows must "
                             f"be in time order")
        windows.append(w)
    if not windows:
        raise InputError(f"{path}: no probe windows after the header")
    return windows


def reject_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def read_json(path, optional=False):
    if optional and not os.path.exists(path):
        return None
    text = read_text(path).rstrip()
    if not text:
        raise InputError(f"{path}: empty file, expected JSON")
    try:
        # Every number as a float: a 5000-digit integer becomes inf (and is
        # then out of range) instead of tripping int()'s digit limit.
        doc = json.loads(text, parse_int=float, parse_constant=reject_constant)
    except json.JSONDecodeError as e:
        # A run killed while writing leaves a cut-off document: say so
        # rather than quote the parser's view of the last token. A string
        # can only be unterminated at the end: a raw newline inside one is
        # an "Invalid control character" error.
        if e.pos >= len(text) - 1 or e.msg.startswith("Unterminated string"):
            raise InputError(f"{path}: truncated JSON, the document breaks off at line "
                             f"{text.count(chr(10)) + 1}") from None
        raise InputError(f"{path}: not valid JSON: {e.msg} at line {e.lineno} "
                         f"column {e.colno}") from None
    except RecursionError:
        raise InputError(f"{path}: not valid JSON for nfcost: arrays or objects nested "
                         f"too deeply") from None
    except ValueError as e:
        raise InputError(f"{path}: not valid JSON for nfcost: {show(str(e), 80)}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a JSON object at the top level")
    return doc


def json_number(obj, key, where):
    """obj[key] as a float, None when absent or null."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: {key} is {show_json(value)}, not a number")
    if not abs(value) <= MAGNITUDE_LIMIT:
        raise InputError(f"{where}: {key} is {show_json(value)}, out of range "
                         f"(magnitude over {MAGNITUDE_LIMIT:g})")
    return float(value)


def json_name(obj, key, where):
    """obj[key] as a name to draw, None when absent or null."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{where}: {key} is {show_json(value)}, not a string")
    try:
        return check_name(value)
    except ValueError as e:
        raise InputError(f"{where}: {key} \"{show(value)}\" {e}") from None


def read_iperf(path):
    """Per-interval (start s, Mbit/s, cwnd KB or NaN) from iperf3 -J output."""
    doc = read_json(path)
    intervals = doc.get("intervals")
    if not isinstance(intervals, list):
        raise InputError(f"{path}: no intervals array (is it iperf3 -J output?)")
    if not intervals:
        error = doc.get("error")
        raise InputError(f"{path}: no intervals" +
                         (f" (iperf3: {show(str(error), 120)})" if error else ""))
    times, mbps, cwnd = [], [], []
    for i, interval in enumerate(intervals):
        where = f"{path}: intervals[{i}].sum"
        total = interval.get("sum") if isinstance(interval, dict) else None
        start = json_number(total, "start", where)
        bps = json_number(total, "bits_per_second", where)
        if start is None or bps is None:
            raise InputError(f"{where}: start or bits_per_second missing")
        streams = interval.get("streams")
        first = streams[0] if isinstance(streams, list) and streams else {}
        # UDP and receiver-side runs have no snd_cwnd: leave a gap.
        snd_cwnd = json_number(first, "snd_cwnd", f"{path}: intervals[{i}].streams[0]")
        times.append(start)
        mbps.append(bps / 1e6)
        cwnd.append(math.nan if snd_cwnd is None else snd_cwnd / 1000)
    return times, mbps, cwnd


def run_names(meta, path):
    """The metadata drawn in a title, checked: {key: name or None}."""
    if meta is None:
        return None
    traffic = meta.get("traffic") if isinstance(meta.get("traffic"), dict) else {}
    names = {key: json_name(meta, key, path)
             for key in ("backend", "shape", "hook", "tracer", "kernel")}
    names["protocol"] = json_name(traffic, "protocol", f"{path}: traffic")
    return names


def sweep_analysis(meta, path):
    """The fit (intercept, slope, r2) and the knee from sweep.json's analysis,
    each None when absent or null."""
    analysis = meta.get("analysis") if meta else None
    where = f"{path}: analysis"
    fit = tuple(json_number(analysis, key, where)
                for key in ("intercept_ns", "slope_ns_per_rule", "r2"))
    return (None if None in fit else fit), json_number(analysis, "throughput_knee_rules", where)


def compare_slopes(meta, path):
    """Each backend's slope from compare.json's "backends", where given."""
    fits = meta.get("backends") if meta else None
    if not isinstance(fits, dict):
        return {}
    slopes = {name: json_number(fit, "slope_ns_per_rule", f"{path}: backends.{show(name)}")
              for name, fit in fits.items()}
    return {name: slope for name, slope in slopes.items() if slope is not None}


# ---------------------------------------------------------------- profile.json

# profile.json holds a handful of each; far more is no nfcost run, and each
# flow is a panel, each variant a bar, each label a colour.
MAX_FLOWS = 12
MAX_VARIANTS = 16
MAX_HOOKS = 10
MAX_PARTS = 16
# A part without a label is time no rule set accounts for: the probe's own.
UNLABELED = "probe/other"
WHOLE_HOOK = "whole hook (not split)"


def json_list(obj, key, where, limit, required=True):
    """obj[key] as a list of at most limit items; None when absent or null
    and not required."""
    value = obj.get(key)
    if value is None:
        if required:
            raise InputError(f"{where}: {key} is missing")
        return None
    if not isinstance(value, list):
        raise InputError(f"{where}: {key} is {show_json(value)}, not an array")
    if len(value) > limit:
        raise InputError(f"{where}: {key} has {len(value)} entries, at most {limit} make sense")
    return value


def json_object(value, where):
    if not isinstance(value, dict):
        raise InputError(f"{where} is {show_json(value)}, not an object")
    return value


def json_bool(obj, key, where):
    value = obj.get(key)
    if not isinstance(value, bool):
        raise InputError(f"{where}: {key} is " +
                         ("missing" if value is None else f"{show_json(value)}, not true or false"))
    return value


def json_text(obj, key, where, limit):
    """obj[key], free text (a path, an error message) to draw: escaped onto
    one line and cut to limit characters; None when absent or null."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{where}: {key} is {show_json(value)}, not a string")
    return show(value, limit)


def json_time(obj, key, where, required=True):
    """obj[key]: nanoseconds, a non-negative number."""
    value = json_number(obj, key, where)
    if value is None:
        if required:
            raise InputError(f"{where}: {key} is missing")
        return None
    if value < 0:
        raise InputError(f"{where}: {key} is {value:g}, negative")
    return value


def read_parts(hook, total, where):
    """[(label, ns)] of a hook, in the order of its brackets; a hook without
    parts is one part, the whole of it."""
    parts = json_list(hook, "parts", where, MAX_PARTS, required=False)
    if not parts:
        return [(WHOLE_HOOK, total)]
    out = []
    for k, part in enumerate(parts):
        at = f"{where}.parts[{k}]"
        json_object(part, at)
        label = part.get("label")
        if label is None or label == "":
            label = UNLABELED
        else:
            label = json_name(part, "label", at)
        out.append((label, json_time(part, "ns_per_packet", at)))
    # The parts add up to the hook's time (docs/formats.md); rounding in
    # the file may move the sum a little, a different sum is another run.
    added = sum(ns for _, ns in out)
    if abs(added - total) > 0.02 * total + 1:
        raise InputError(f"{where}: the parts add up to {added:g} ns, the hook's "
                         f"ns_per_packet is {total:g} ns")
    return out


def measured_hook(flow, hook_name, where):
    """(hook name, [(label, ns)]) of the hook the flow's ns_per_packet was
    measured in: crossed by the flow itself (reply false), with the flow's
    ns_per_packet; the run's hook first when several are."""
    ns = json_time(flow, "ns_per_packet", where)
    hooks = json_list(flow, "hooks", where, MAX_HOOKS)
    found = []
    for j, hook in enumerate(hooks):
        at = f"{where}.hooks[{j}]"
        json_object(hook, at)
        name = json_name(hook, "hook", at)
        if name is None:
            raise InputError(f"{at}: hook is missing")
        total = json_time(hook, "ns_per_packet", at)
        parts = read_parts(hook, total, at)
        if not json_bool(hook, "reply", at) and abs(total - ns) <= 1e-6 * ns + 0.05:
            found.append((name != hook_name, name, parts))
    if not found:
        raise InputError(f"{where}: no hook with reply false has the flow's ns_per_packet "
                         f"({ns:g} ns)")
    _, name, parts = min(found, key=lambda f: f[0])
    return name, parts


def read_flow(flow, hook_name, where):
    """A flow of a variant: {"flow", "verdict", "measured", "error", "ns",
    "hook", "parts"}; ns, hook and parts None when not measured."""
    json_object(flow, where)
    spec = json_name(flow, "flow", where)
    if spec is None:
        raise InputError(f"{where}: flow is missing")
    out = {"flow": spec, "verdict": json_name(flow, "verdict", where),
           "measured": json_bool(flow, "measured", where),
           "error": json_text(flow, "error", where, 160), "ns": None, "hook": None, "parts": None}
    if out["measured"]:
        out["ns"] = json_time(flow, "ns_per_packet", where)
        out["hook"], out["parts"] = measured_hook(flow, hook_name, where)
    return out


def read_check(variant, where):
    """A fix's verdict check: None (none made: the original), or the number
    of packets whose verdict differs (0 when equal)."""
    check = variant.get("verdict_check")
    if check is None:
        return None
    where = f"{where}.verdict_check"
    json_object(check, where)
    if json_bool(check, "equal", where):
        return 0
    diffs = json_list(check, "differences", where, 10**6, required=False)
    # Unequal with no difference listed: still a difference, of unknown count.
    return max(len(diffs or ()), 1)


def read_profile(path):
    """What profile.png draws from profile.json: (names, ruleset, flows,
    variants). flows are the original's specs (one panel each); variants
    are the applied ones, the original first: {"name", "differences"
    (None, or packets whose verdict differs), "flows": {spec: flow}}."""
    doc = read_json(path)
    names = run_names(doc, path)
    ruleset = doc.get("ruleset")
    if ruleset is not None:
        json_object(ruleset, f"{path}: ruleset")
        ruleset = {"source": json_text(ruleset, "source", f"{path}: ruleset", 60),
                   "format": json_name(ruleset, "format", f"{path}: ruleset"),
                   "rules": json_number(ruleset, "rules", f"{path}: ruleset")}
    variants = json_list(doc, "variants", path, MAX_VARIANTS)
    if not variants:
        raise InputError(f"{path}: variants is empty, expected the original first")
    out = []
    for i, variant in enumerate(variants):
        where = f"{path}: variants[{i}]"
        json_object(variant, where)
        name = json_name(variant, "name", where)
        if name is None:
            raise InputError(f"{where}: name is missing")
        applied = json_bool(variant, "applied", where)
        if i == 0 and not applied:
            raise InputError(f"{where}: the original ({show(name)}) is not applied")
        if not applied:
            continue  # a fix that does not apply here has no bar
        flows = {}
        for j, flow in enumerate(json_list(variant, "flows", where, MAX_FLOWS)):
            f = read_flow(flow, names["hook"], f"{where}.flows[{j}]")
            if f["flow"] in flows:
                raise InputError(f"{where}.flows[{j}]: flow {f['flow']} appears twice")
            if i > 0 and f["flow"] not in out[0]["flows"]:
                raise InputError(f"{where}.flows[{j}]: flow {f['flow']} is not one of the "
                                 f"original's")
            flows[f["flow"]] = f
        if i == 0 and not flows:
            raise InputError(f"{where}: flows is empty: no flow to draw")
        out.append({"name": name, "differences": None if i == 0 else read_check(variant, where),
                    "flows": flows})
    labels = {label for v in out for f in v["flows"].values() for label, _ in f["parts"] or ()}
    labels.discard(UNLABELED)
    labels.discard(WHOLE_HOOK)
    if len(labels) > len(PART_COLOURS):
        raise InputError(f"{path}: {len(labels)} part labels, a figure tells at most "
                         f"{len(PART_COLOURS)} apart")
    return names, ruleset, list(out[0]["flows"]), out


# ---------------------------------------------------------------- numbers

def finite(values):
    return [v for v in values if not math.isnan(v)]


def means_by(rows, key, column):
    """Sorted distinct values of rows[key] and the mean of column for each
    (NaN where no finite value): repeats collapse to one point."""
    groups = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row[column])
    xs = sorted(groups)
    return xs, [statistics.fmean(finite(groups[x])) if finite(groups[x]) else math.nan
                for x in xs]


def least_squares(xs, ys):
    """(intercept, slope, r2) of y = a + b x, or None when undefined."""
    pts = [(x, y) for x, y in zip(xs, ys) if not math.isnan(y)]
    if len({x for x, _ in pts}) < 2:
        return None
    mx = statistics.fmean(x for x, _ in pts)
    my = statistics.fmean(y for _, y in pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    sxy = sum((x - mx) * (y - my) for x, y in pts)
    syy = sum((y - my) ** 2 for _, y in pts)
    slope = sxy / sxx
    intercept = my - slope * mx
    r2 = sxy * sxy / (sxx * syy) if syy > 0 else 1.0
    return intercept, slope, r2


def per_rule(slope):
    """"3.92 ns/rule"; small slopes (a set lookup) keep a third digit, and a
    fit of a flat line never reads "-0.00"."""
    text = f"{slope:.{2 if abs(slope) >= 0.1 else 3}f}"
    return f"{text.lstrip('-') if float(text) == 0 else text} ns/rule"


def describe_run(names):
    """Title fragment from the names run_names() took from sweep.json /
    compare.json."""
    if names is None:
        return None
    parts = [names["backend"],
             f"{names['shape']} rules" if names["shape"] else None,
             names["protocol"],
             f"{names['hook'].upper()} hook" if names["hook"] else None,
             f"tracer {names['tracer']}" if names["tracer"] else None,
             f"kernel {names['kernel']}" if names["kernel"] else None]
    return ", ".join(p for p in parts if p)


def hook_chain(names):
    hook = names["hook"] if names else None
    return f"rules in the {hook.upper()} chain" if hook else "rules in the chain"


# ---------------------------------------------------------------- figures

def combined_legend(ax, twin, **kwargs):
    """One legend for an axes and its twin, so the cwnd line is explained too."""
    handles, labels = ax.get_legend_handles_labels()
    if twin is not None:
        h2, l2 = twin.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, **kwargs)


def log_spaced(xs):
    """Rule counts that span more than a decade in uneven steps (a log-spaced
    sweep such as 0,1000,10000,100000): a linear axis would crowd all but the
    last into its first tenth."""
    positive = sorted(x for x in set(xs) if x > 0)
    if len(positive) < 2 or positive[-1] / positive[0] <= 10:
        return False
    gaps = [b - a for a, b in zip(positive, positive[1:])]
    return max(gaps) > 2 * min(gaps)


def log_axes(ax_rules, xs, ax_lat, lat):
    """Log scales for a log-spaced sweep: symlog for the counts (0 stays on
    the axis), log for latencies that span decades. True when x is log."""
    if not log_spaced(xs):
        return False
    from matplotlib.ticker import LogLocator, ScalarFormatter

    ax_rules.set_xscale("symlog", linthresh=min(x for x in xs if x > 0))
    positive = [v for v in lat if v > 0]
    if positive and max(positive) / min(positive) > 20:
        ax_lat.set_yscale("log")
        ax_lat.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax_lat.yaxis.set_major_formatter(ScalarFormatter())
    return True


def draw_sweep(fig, title, rows, names, fit, knee, settings=None):
    if settings is not None:
        # sweep --offload on,off: one line per setting, as compare draws backends
        blank = dict.fromkeys(("backend", "shape", "hook", "tracer", "kernel", "protocol"))
        draw_compare(fig, title, rows, dict(blank, **(names or {}), offloads=True),
                     settings["slopes"])
        return
    repeats = len(rows) > len({r["rules"] for r in rows})
    xs, tput = means_by(rows, "rules", "throughput_mbps")
    _, cwnd = means_by(rows, "rules", "cwnd_kb")
    _, avg = means_by(rows, "rules", "lat_avg_ns")
    _, p50 = means_by(rows, "rules", "lat_p50_ns")
    _, p99 = means_by(rows, "rules", "lat_p99_ns")
    mean = " (mean of repeats)" if repeats else ""

    ax_t, ax_l = fig.subplots(2, 1, sharex=True)
    ax_t.plot(xs, tput, "o-", color=C_TPUT, label="throughput" + mean)
    if repeats:
        ax_t.scatter([r["rules"] for r in rows], [r["throughput_mbps"] for r in rows],
                     s=14, color=C_TPUT, alpha=0.3, label="throughput, each repeat")
    ax_t.set_ylabel("throughput (Mbit/s)")
    ax_t.set_ylim(bottom=0)
    twin = None
    if any(c > 0 for c in finite(cwnd)):
        twin = ax_t.twinx()
        twin.plot(xs, cwnd, "s--", color=C_CWND, markersize=4, label="cwnd" + mean)
        twin.set_ylabel("congestion window (KB)")
        twin.set_ylim(bottom=0)

    if knee is not None:
        ax_t.axvline(knee, color="0.4", linestyle=":",
                     label=f"throughput knee: {knee:g} rules")
    combined_legend(ax_t, twin, loc="lower left", fontsize="small")

    ax_l.fill_between(xs, p50, p99, color=C_LAT, alpha=0.18, linewidth=0, label="p50–p99")
    ax_l.plot(xs, avg, "o-", color=C_LAT, label="average" + mean)
    if repeats:
        timed = [r for r in rows if not math.isnan(r["lat_avg_ns"])]
        ax_l.scatter([r["rules"] for r in timed], [r["lat_avg_ns"] for r in timed],
                     s=14, color=C_LAT, alpha=0.3, label="average, each repeat")
    # The fit is sweep.json's (the one report.md quotes) when there is one.
    if fit is None:
        fit = least_squares([r["rules"] for r in rows], [r["lat_avg_ns"] for r in rows])
    logx = log_axes(ax_l, xs, ax_l, finite(avg))
    if fit:
        a, b, r2 = fit
        # On a log axis a line is a curve: draw it through every count.
        ends = xs if logx else [xs[0], xs[-1]]
        ax_l.plot(ends, [a + b * x for x in ends], "--", color=C_FIT, linewidth=1.2,
                  label=f"least squares: {per_rule(b)} + {a:.0f} ns, R² = {r2:.3f}")
    if ax_l.get_yscale() != "log":
        ax_l.set_ylim(bottom=0)
    ax_l.set_ylabel("hook latency per packet (ns)")
    ax_l.set_xlabel(plain(hook_chain(names)))
    ax_l.legend(loc="upper left", fontsize="small")

    ax_t.set_title(plain(f"nfcost sweep: {describe_run(names) or title}"), fontsize="medium")
    for ax in (ax_t, ax_l):
        ax.grid(True, alpha=0.3)


def draw_live(fig, iperf, windows, injection):
    times, mbps, cwnd = iperf
    ax_t, ax_l = fig.subplots(2, 1, sharex=True)

    ax_t.plot(times, mbps, color=C_TPUT, label="throughput")
    ax_t.set_ylabel("throughput (Mbit/s)")
    ax_t.set_ylim(bottom=0)
    twin = None
    if finite(cwnd):
        twin = ax_t.twinx()
        twin.plot(times, cwnd, color=C_CWND, label="cwnd")
        twin.set_ylabel("congestion window (KB)")
        twin.set_ylim(bottom=0)

    # One step per window, from its start; a window without packets (NaN)
    # leaves a gap rather than a latency of 0.
    ax_l.step([w["t_start_s"] for w in windows], [w["lat_avg_ns"] for w in windows],
              where="post", color=C_LAT,
              label=plain(f"average per probe interval ({windows[0]['hook']})"))
    ax_l.set_ylabel("average hook latency (ns)")
    ax_l.set_xlabel("time (s)")
    ax_l.set_ylim(bottom=0)

    title = "nfcost live: throughput, cwnd and hook latency"
    if injection:
        start, end = injection[0]["time_s"], injection[-1]["time_s"]
        label = f"rule injection ({start:g}–{end:g} s, up to {injection[-1]['rules']:g} rules)"
        ax_t.axvspan(start, end, color="0.5", alpha=0.2, label=label)
        ax_l.axvspan(start, end, color="0.5", alpha=0.2, label=label)
        title += f" while {injection[-1]['rules']:g} rules are injected"
    combined_legend(ax_t, twin, loc="lower left", fontsize="small")
    ax_l.legend(loc="upper left", fontsize="small")
    ax_t.set_title(title, fontsize="medium")
    for ax in (ax_t, ax_l):
        ax.grid(True, alpha=0.3)


def draw_compare(fig, title, rows, names, slopes):
    # Legend order = order of the lines at the largest rule count, top first.
    top = max(r["rules"] for r in rows)
    at_top = {}
    for r in rows:
        if r["rules"] == top and not math.isnan(r["lat_avg_ns"]):
            at_top.setdefault(r["backend"], []).append(r["lat_avg_ns"])
    backends = sorted(dict.fromkeys(r["backend"] for r in rows),
                      key=lambda b: -statistics.fmean(at_top[b]) if b in at_top else math.inf)
    ax_l, ax_t = fig.subplots(2, 1, sharex=True)
    all_means = []
    for i, name in enumerate(backends):
        mine = [r for r in rows if r["backend"] == name]
        colour = f"C{i % 10}"
        xs, avg = means_by(mine, "rules", "lat_avg_ns")
        all_means += finite(avg)
        slope = slopes.get(name)
        if slope is None:
            fit = least_squares([r["rules"] for r in mine], [r["lat_avg_ns"] for r in mine])
            slope = fit[1] if fit else None
        label = name if slope is None else f"{name} ({per_rule(slope)})"
        ax_l.plot(xs, avg, "o-", color=colour, label=plain(label))
        xs, tput = means_by(mine, "rules", "throughput_mbps")
        ax_t.plot(xs, tput, "o-", color=colour, label=plain(name))

    # A flat set lookup next to a linear chain spans decades: only a log
    # axis keeps both readable.
    positive = [m for m in all_means if m > 0]
    if log_axes(ax_t, [r["rules"] for r in rows], ax_l, all_means):
        pass
    elif positive and max(positive) / min(positive) > 20:
        from matplotlib.ticker import LogLocator, ScalarFormatter

        ax_l.set_yscale("log")
        # Plain numbers at 1-2-5 steps read better than bare powers of ten.
        ax_l.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax_l.yaxis.set_major_formatter(ScalarFormatter())
    else:
        ax_l.set_ylim(bottom=0)
    ax_l.set_ylabel("average hook latency per packet (ns)")
    ax_l.legend(loc="upper left", fontsize="small")
    ax_t.set_ylabel("throughput (Mbit/s)")
    ax_t.set_ylim(bottom=0)
    ax_t.set_xlabel(plain(hook_chain(names)))
    ax_t.legend(loc="lower left", fontsize="small")
    kind = "compare"
    if names and names.get("offloads"):  # a sweep of both offload settings
        kind = "sweep"
        title = describe_run(names) or title
        ax_l.set_ylabel("average hook latency per skb (ns)")
    elif names:
        title = describe_run(dict(names, backend=None)) or title
    ax_l.set_title(plain(f"nfcost {kind}: {title}"), fontsize="medium")
    for ax in (ax_l, ax_t):
        ax.grid(True, alpha=0.3, which="both" if ax.get_yscale() == "log" else "major")


def speedup_text(ratio):
    """A speed-up as read aloud: "412x", "41x", "4.1x", "0.85x"."""
    if ratio >= 9.95:
        return f"{ratio:.0f}x"
    return f"{ratio:.2g}x" if ratio < 1 else f"{ratio:.1f}x"


def profile_grid(n):
    """(rows, columns) of n panels: a row up to three, then rows of three."""
    columns = min(n, 3)
    return -(-n // columns), columns


def profile_size(flows):
    rows, columns = profile_grid(len(flows))
    return max(10.0, 3.6 * columns + 2.8), max(5.5, 4.4 * rows + 1.0)


def draw_profile(fig, names, ruleset, flows, variants):
    from matplotlib.patches import Patch
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    # Labels in the order they first appear, which is bracket order: one
    # colour each across every panel.
    order = list(dict.fromkeys(label for v in variants for f in v["flows"].values()
                               for label, _ in f["parts"] or ()))
    named = iter(PART_COLOURS)
    colours = {label: C_UNLABELED if label == UNLABELED else
               C_WHOLE if label == WHOLE_HOOK else next(named) for label in order}

    rows, columns = profile_grid(len(flows))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    hook = (names["hook"] or "measured").upper()
    xs = range(len(variants))
    ticks = [v["name"] if not v["differences"] else
             f"{v['name']}\n≠ {v['differences']} verdict{'s' if v['differences'] > 1 else ''}"
             for v in variants]
    for i, (ax, spec) in enumerate(zip(axes, flows)):
        base = variants[0]["flows"][spec]
        ax.set_title(plain(spec + (f" ({base['verdict']})" if base["verdict"] else "")),
                     fontsize="medium")
        if i % columns == 0:
            ax.set_ylabel(f"time per packet in the {hook} hook (ns)")
        mine = [v["flows"].get(spec) for v in variants]
        if not any(f and f["measured"] for f in mine):
            # Nothing to draw: say why, in the panel's place.
            ax.set_xticks([])
            ax.set_yticks([])
            error = base["error"] or "no reason given"
            ax.text(0.5, 0.5, plain("not measured:\n" + "\n".join(textwrap.wrap(error, 36))),
                    transform=ax.transAxes, ha="center", va="center", color="0.3")
            continue
        # Each bar stacks its parts in bracket order (a label may come back
        # higher up: the probe's own time before and after a table). One bar
        # call per level and label, with only the variants that have time
        # there: a zero-height rectangle at 0 has no place on a log axis.
        # Bottoms are linear sums; the axis scales them.
        tops = [0.0] * len(variants)
        levels = max(len(f["parts"]) for f in mine if f and f["measured"])
        for level, label in [(k, label) for k in range(levels) for label in order]:
            at, heights, bottoms = [], [], []
            for x, f in zip(xs, mine):
                if not f or not f["measured"] or level >= len(f["parts"]):
                    continue
                part, ns = f["parts"][level]
                if part == label and ns > 0:
                    at.append(x)
                    heights.append(ns)
                    bottoms.append(tops[x])
                    tops[x] += ns
            if at:
                unequal = [variants[x]["differences"] for x in at]
                ax.bar(at, heights, bottom=bottoms, width=0.6, color=colours[label],
                       edgecolor=["black" if d else "white" for d in unequal],
                       hatch=None, linewidth=0.5, label=plain(label))
                for patch, d in zip(ax.containers[-1], unequal):
                    if d:
                        patch.set_hatch("//")
        drawn = [t for t, f in zip(tops, mine) if f and f["measured"] and t > 0]
        logy = drawn and max(drawn) > 30 * min(drawn)
        reference = base["ns"] if base["measured"] else None
        for x, f, top in zip(xs, mine, tops):
            if not f or not f["measured"]:
                # x in data, y in the axes: at the foot of any y scale
                ax.text(x, 0.03, "not measured", transform=ax.get_xaxis_transform(),
                        rotation=90, ha="center", va="bottom", fontsize="small", color="0.3")
            elif x > 0 and reference and f["ns"] > 0:
                ax.annotate(speedup_text(reference / f["ns"]), (x, top), xytext=(0, 3),
                            textcoords="offset points", ha="center", va="bottom",
                            fontsize="small", fontweight="bold")
        # Names side by side until they would run into each other.
        crowded = sum(len(v["name"]) for v in variants) > 9 * columns and columns > 1 or \
            sum(len(v["name"]) for v in variants) > 60
        ax.set_xticks(list(xs), [plain(t) for t in ticks], fontsize="small",
                      rotation=25 if crowded else 0, ha="right" if crowded else "center")
        ax.set_xlim(-0.6, len(variants) - 0.4)
        if logy:
            ax.set_yscale("log")
            # From the smallest bar's first part, so that no bar hides its
            # foot below the axis; headroom for the speed-ups above.
            feet = [n for f in mine if f and f["measured"]
                    for n in [next((n for _, n in f["parts"] if n > 0), 0)] if n > 0]
            low = max(min(feet), min(drawn) / 1000)
            ax.set_ylim(10 ** math.floor(math.log10(low)), max(drawn) * 4)
            ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
            ax.yaxis.set_major_formatter(ScalarFormatter())
            ax.yaxis.set_minor_formatter(NullFormatter())
        elif drawn:
            ax.set_ylim(0, max(drawn) * 1.15)
        ax.set_axisbelow(True)  # grid lines behind the bars, not across them
        ax.grid(True, axis="y", alpha=0.3, which="both" if logy else "major")
    for ax in axes[len(flows):]:
        ax.remove()  # the grid's last row is not full

    handles = [Patch(facecolor=colours[label], edgecolor="white", label=plain(label))
               for label in order]
    if any(v["differences"] for v in variants):
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="//",
                             label="verdicts differ from the original"))
    axes[len(flows) - 1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1),
                                fontsize="small", title="where the time goes")

    what = []
    if ruleset:
        if ruleset["source"]:
            what.append(ruleset["source"])
        if ruleset["rules"] is not None:
            what.append(f"{ruleset['rules']:g} rules" +
                        (f" ({ruleset['format']})" if ruleset["format"] else ""))
    what += [f"tracer {names['tracer']}" if names["tracer"] else None,
             f"kernel {names['kernel']}" if names["kernel"] else None]
    fig.suptitle(plain("nfcost profile: " + ", ".join(w for w in what if w)), fontsize="medium")


# ---------------------------------------------------------------- describe

def _range(values):
    values = [float(v) for v in values if not math.isnan(float(v))]
    return [round(min(values), 6), round(max(values), 6)] if values else None


def _label(artist):
    label = artist.get_label()
    return None if not label or label.startswith("_") else label


def describe(fig, kind, output):
    """What the saved figure contains, read back from matplotlib's artists so
    that a test sees what was drawn rather than what was meant."""
    from matplotlib.collections import PathCollection, PolyCollection
    from matplotlib.colors import to_hex
    from matplotlib.container import BarContainer

    axes = fig.axes
    positions = [tuple(round(v, 4) for v in ax.get_position().bounds) for ax in axes]
    out = []
    for i, ax in enumerate(axes):
        shared = ax.get_shared_x_axes()
        # A twin (twinx) is the earlier axes it shares both x and position with.
        twin_of = next((j for j in range(i) if positions[j] == positions[i]
                        and shared.joined(ax, axes[j])), None)
        lines = [{"label": _label(line), "points": len(line.get_xdata()),
                  "finite": sum(not math.isnan(float(v)) for v in line.get_ydata()),
                  "drawstyle": line.get_drawstyle(), "linestyle": line.get_linestyle(),
                  "x": _range(line.get_xdata()), "y": _range(line.get_ydata())}
                 for line in ax.get_lines()]
        collections = []
        for c in ax.collections:
            entry = {"label": _label(c)}
            if isinstance(c, PathCollection):
                entry.update(kind="scatter", points=len(c.get_offsets()))
            elif isinstance(c, PolyCollection):
                entry.update(kind="fill", polygons=len(c.get_paths()))
            else:
                entry.update(kind=type(c).__name__)
            collections.append(entry)
        # Bars (profile's stacks): one container per bar() call, i.e. per
        # part label, each with its rectangles.
        bars = [{"label": _label(c),
                 "x": [round(r.get_x() + r.get_width() / 2, 6) for r in c],
                 "bottom": [round(r.get_y(), 6) for r in c],
                 "height": [round(r.get_height(), 6) for r in c],
                 "hatched": [bool(r.get_hatch()) for r in c],
                 "colour": sorted({to_hex(r.get_facecolor()) for r in c})}
                for c in ax.containers if isinstance(c, BarContainer)]
        in_bars = {id(r) for c in ax.containers for r in c}
        spans = []
        for p in ax.patches:
            if id(p) in in_bars:
                continue
            # Polygon (axvspan up to 3.8) and Rectangle alike: the patch
            # transform maps its path to data x.
            xy = p.get_patch_transform().transform(p.get_path().vertices)
            spans.append({"label": _label(p), "x": _range(xy[:, 0])})
        legend = ax.get_legend()
        out.append({
            "index": i,
            "position": list(positions[i]),
            "twin_of": twin_of,
            "sharex": [j for j, other in enumerate(axes) if other is not ax
                       and shared.joined(ax, other)],
            "title": ax.get_title(),
            "xlabel": ax.get_xlabel(),
            "ylabel": ax.get_ylabel(),
            "xscale": ax.get_xscale(),
            "yscale": ax.get_yscale(),
            "xlim": [round(v, 6) for v in ax.get_xlim()],
            "ylim": [round(v, 6) for v in ax.get_ylim()],
            "lines": lines,
            "collections": collections,
            "spans": spans,
            "bars": bars,
            "texts": [t.get_text() for t in ax.texts],
            "xticklabels": [t.get_text() for t in ax.get_xticklabels()],
            "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
        })
    width, height = (fig.get_size_inches() * fig.dpi).round().astype(int).tolist()
    suptitle = getattr(fig, "_suptitle", None)
    return {"figure": kind, "output": output, "size_px": [width, height],
            "suptitle": suptitle.get_text() if suptitle else None, "axes": out}


# ---------------------------------------------------------------- main

class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)") from None


def parse_args(argv):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("dir", metavar="DIR", help="the experiment's output directory")
    common.add_argument("-o", "--output", metavar="OUT.png",
                        help="where to write the figure (default: in DIR)")
    common.add_argument("--describe", action="store_true",
                        help="also print a JSON summary of the drawn figure on stdout")
    parser = Parser(prog="plot_results.py",
                    description="Draw nfcost's figures from its data files alone.")
    sub = parser.add_subparsers(dest="figure", metavar="FIGURE", required=True)
    sub.add_parser("sweep", parents=[common],
                   help="sweep.csv (+ sweep.json) -> sweep.png: latency and throughput "
                        "against the rule count")
    sub.add_parser("live", parents=[common],
                   help="iperf_results.json, bpf_windows.csv, injection.csv -> results.png: "
                        "throughput, cwnd and latency against time")
    sub.add_parser("compare", parents=[common],
                   help="compare.csv (+ compare.json) -> compare.png: one line per backend")
    sub.add_parser("profile", parents=[common],
                   help="profile.json -> profile.png: per flow, a bar per rule set (the "
                        "original and each fix), stacked by where in the hook the time goes")
    return parser.parse_args(argv)


def load_inputs(figure, d):
    """Parse and check every input before matplotlib is imported, so a bad
    file is reported the same way with or without it."""
    def p(name):
        return os.path.join(d, name)

    if not os.path.isdir(d):
        raise InputError(f"{d}: {'not a directory' if os.path.exists(d) else 'no such directory'}")
    # The fallback title: the directory's name, shown as typed, on one line.
    title = show(os.path.basename(os.path.abspath(d)), 80)
    if figure == "sweep":
        header, _ = csv_rows(p("sweep.csv"))
        both = header is not None and "offload" in header
        rows = no_latency_without_packets(read_csv(
            p("sweep.csv"), SWEEP_COLUMNS + (("offload",) if both else ()),
            text_columns=("offload",)))
        meta = read_json(p("sweep.json"), optional=True)
        fit, knee = sweep_analysis(meta, p("sweep.json"))
        settings = list(dict.fromkeys(r["offload"] for r in rows)) if both else []
        if len(settings) > 1:
            # --offload on,off: a line per setting, labelled as compare labels backends
            if len(settings) > MAX_BACKENDS:
                raise InputError(f"{p('sweep.csv')}: {len(settings)} offload settings, a "
                                 f"figure tells at most {MAX_BACKENDS} apart")
            for r in rows:
                r["backend"] = f"offload {r['offload']}"
            offloads = (meta or {}).get("offloads")
            fits = ({name: offloads[name] for name in settings if name in offloads}
                    if isinstance(offloads, dict) else {})
            slopes = {f"offload {name}": slope for name, slope in
                      compare_slopes({"backends": fits}, f"{p('sweep.json')}: offloads").items()}
            return "sweep.png", (title, rows, run_names(meta, p("sweep.json")), fit, knee,
                                 {"slopes": slopes})
        return "sweep.png", (title, rows, run_names(meta, p("sweep.json")), fit, knee)
    if figure == "live":
        # A run stopped before the injection began has a header-only injection.csv.
        return "results.png", (read_iperf(p("iperf_results.json")),
                               read_windows(p("bpf_windows.csv")),
                               read_csv(p("injection.csv"), ("time_s", "rules"),
                                        allow_no_rows=True, allow_nan=False))
    if figure == "profile":
        return "profile.png", read_profile(p("profile.json"))
    rows = no_latency_without_packets(
        read_csv(p("compare.csv"), ("backend",) + SWEEP_COLUMNS, text_columns=("backend",)))
    # Matplotlib has ten colours to tell lines apart (and nfcost five backends).
    backends = list(dict.fromkeys(r["backend"] for r in rows))
    if len(backends) > MAX_BACKENDS:
        raise InputError(f"{p('compare.csv')}: {len(backends)} backends, a figure tells at "
                         f"most {MAX_BACKENDS} apart")
    meta = read_json(p("compare.json"), optional=True)
    return "compare.png", (title, rows, run_names(meta, p("compare.json")),
                           compare_slopes(meta, p("compare.json")))


def import_figure():
    # Keep matplotlib's own warnings (font cache, config dir) off stderr,
    # which carries only our one-line errors.
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import matplotlib
            matplotlib.use("Agg")
            from matplotlib.figure import Figure
    except ImportError:
        raise Failure(f"matplotlib is not installed for {sys.executable}: "
                      f"apt-get install python3-matplotlib") from None
    return Figure


def save(fig, output):
    """Writes the PNG beside its target under a temporary name of its own
    and renames it into place, so a failed run never leaves a truncated PNG
    where an older, good one was. The temporary file is created anew
    (O_EXCL, O_NOFOLLOW, mode 0644 whatever the umask) and the rename
    replaces a symlink at the target rather than following it: the script
    never writes through a link planted in the directory."""
    parent, name = os.path.split(output)
    tmp = f".{name}.nfcost-plot{os.getpid()}"
    dfd = fd = None
    try:
        dfd = os.open(parent or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o644, dir_fd=dfd)
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            fd = None
            fig.savefig(f, format="png")
        os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
    except OSError as e:
        raise Failure(f"cannot write {output}: {e.strerror or e}") from None
    finally:
        if fd is not None:
            os.close(fd)
        if dfd is not None:
            try:
                os.unlink(tmp, dir_fd=dfd)
            except OSError:
                pass  # renamed into place, or never written
            os.close(dfd)


def run(argv):
    args = parse_args(argv)
    default_name, inputs = load_inputs(args.figure, args.dir)
    output = args.output or os.path.join(args.dir, default_name)
    figure_class = import_figure()
    with warnings.catch_warnings():
        # A warning from matplotlib or numpy would be text on stderr beside
        # an exit status of 0: the inputs are checked so that none comes from
        # the data, and any other is an internal error (main() says so).
        # Deprecations concern this script, not the figure: never shown.
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        # The directory's name is the only text drawn unchecked; a character
        # the font lacks is drawn as a box.
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        size = profile_size(inputs[2]) if args.figure == "profile" else (10, 7.5)
        fig = figure_class(figsize=size, dpi=110, layout="constrained")
        {"sweep": draw_sweep, "live": draw_live, "compare": draw_compare,
         "profile": draw_profile}[args.figure](fig, *inputs)

        save(fig, output)
    if args.describe:
        # ASCII: stdout's encoding may be anything
        text = json.dumps(describe(fig, args.figure, output), indent=1)
        try:
            print(text, flush=True)
        except OSError as e:
            # Python's own flush at exit would fail again, with a message of
            # its own: give it somewhere to write.
            sys.stdout = open(os.devnull, "w", encoding="ascii")
            raise Failure(f"cannot write the description on stdout: "
                          f"{e.strerror or e}") from None


def main(argv=None):
    try:
        run(sys.argv[1:] if argv is None else argv)
    except Failure as e:
        status, message = e.status, str(e)
    except KeyboardInterrupt:
        status, message = 130, "interrupted"
    except Exception as e:  # pylint: disable=broad-except
        # Whatever escaped the checks above is a bug here, not bad input:
        # one line that says so, never a traceback.
        status = 1
        message = (f"internal error, please report it: {type(e).__name__}: "
                   f"{show(str(e), 200)}")
    else:
        return 0
    # Paths come from the user and may hold a newline: escape, stay one line.
    print(f"{PROG}: {escape(message)}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
