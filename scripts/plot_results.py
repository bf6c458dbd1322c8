#!/usr/bin/python3
"""Draw nfcost's figures from its data files alone (see docs/formats.md).

  plot_results.py sweep DIR    sweep.csv [+ sweep.json]           -> DIR/sweep.png
  plot_results.py live DIR     iperf_results.json, bpf_results.txt,
                               injection.csv                      -> DIR/results.png
  plot_results.py compare DIR  compare.csv [+ compare.json]       -> DIR/compare.png

Exit status: 0 when the figure was written; 1 on a runtime failure (no
matplotlib, the output cannot be written); 2 on bad usage or a missing or
malformed input file. Every error is one line on stderr starting "nfcost: plot:".
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

PROG = "nfcost: plot"

SWEEP_COLUMNS = ("rules", "repeat", "throughput_mbps", "cwnd_kb", "retransmits", "packets",
                 "lat_avg_ns", "lat_p50_ns", "lat_p99_ns", "inject_ms")
INTEGER_COLUMNS = {"rules", "repeat"}

# One block of `nfcost trace` text output (docs/formats.md): a header line
# "HH:MM:SS t=10.0s HOOK NETNS via TRACER", then an indented statistics line.
BLOCK_HEADER = re.compile(r"^\S+\s+t=(?P<t>[-+]?\d+(?:\.\d*)?)s\s+(?P<hook>\S+)\s+"
                          r"(?P<netns>\S+)\s+via\s+(?P<tracer>\S+)\s*$")
BLOCK_STATS = re.compile(r"^\s+count\s+(?P<count>\d+)\s+avg\s+(?P<avg>\d+(?:\.\d*)?|-?nan)\s+ns\b")

# One colour per quantity in every figure, so that the figures read alike.
C_TPUT, C_CWND, C_LAT, C_FIT = "tab:blue", "tab:orange", "tab:red", "black"


class Failure(Exception):
    """An error to report as one line; status 1 (runtime) unless overridden."""
    status = 1


class InputError(Failure):
    """A missing or malformed input file."""
    status = 2


class UsageError(Failure):
    """Bad command-line arguments."""
    status = 2


# ---------------------------------------------------------------- parsing

def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None


def parse_number(text, integer):
    """A finite number (or NaN, which C's printf writes as "nan" or "-nan")."""
    if integer:
        value = int(text)
        if value < 0:
            raise ValueError
        return value
    value = float(text)
    if math.isinf(value):
        raise ValueError
    return value


def read_csv(path, columns, text_columns=(), allow_no_rows=False):
    """Rows of a CSV file as dicts of the named columns, numbers parsed.

    Extra columns are ignored so that newer files still plot."""
    rows = list(csv.reader(io.StringIO(read_text(path))))
    if not rows:
        raise InputError(f"{path}: empty file, expected the header {','.join(columns)}")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)} in the header")
    index = {c: header.index(c) for c in columns}
    records = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not field.strip() for field in row):
            continue
        if len(row) != len(header):
            raise InputError(f"{path}: line {lineno}: {len(row)} fields, "
                             f"the header has {len(header)}")
        record = {}
        for c in columns:
            raw = row[index[c]].strip()
            if c in text_columns:
                if not raw:
                    raise InputError(f"{path}: line {lineno}: column {c} is empty")
                record[c] = raw
                continue
            try:
                record[c] = parse_number(raw, c in INTEGER_COLUMNS)
            except ValueError:
                kind = "a non-negative integer" if c in INTEGER_COLUMNS else "a number"
                raise InputError(f"{path}: line {lineno}: column {c}: "
                                 f"'{raw}' is not {kind}") from None
        records.append(record)
    if not records and not allow_no_rows:
        raise InputError(f"{path}: no data rows after the header")
    return records


def read_json(path, optional=False):
    if optional and not os.path.exists(path):
        return None
    text = read_text(path).rstrip()
    if not text:
        raise InputError(f"{path}: empty file, expected JSON")
    try:
        doc = json.loads(text)
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
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a JSON object at the top level")
    return doc


def json_number(obj, key, where):
    """obj[key] as a float, None when absent or null."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: {key} is {json.dumps(value)}, not a number")
    return float(value)


def read_iperf(path):
    """Per-interval (start s, Mbit/s, cwnd KB or NaN) from iperf3 -J output."""
    doc = read_json(path)
    intervals = doc.get("intervals")
    if not isinstance(intervals, list):
        raise InputError(f"{path}: no intervals array (is it iperf3 -J output?)")
    if not intervals:
        error = doc.get("error")
        raise InputError(f"{path}: no intervals" + (f" (iperf3: {error})" if error else ""))
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


def read_bpf_blocks(path):
    """The blocks of a bpf_results.txt: dicts with t, avg (NaN when no packet
    was timed), count, hook, netns and tracer."""
    blocks, current = [], None
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            current = None
            continue
        if current is None:
            m = BLOCK_HEADER.match(line)
            if not m:
                raise InputError(f"{path}: line {lineno}: expected a block header "
                                 f"'HH:MM:SS t=SECSs HOOK NETNS via TRACER'")
            current = {"t": float(m["t"]), "hook": m["hook"], "netns": m["netns"],
                       "tracer": m["tracer"], "avg": None, "line": lineno}
            blocks.append(current)
        elif current["avg"] is None:
            m = BLOCK_STATS.match(line)
            if not m:
                raise InputError(f"{path}: line {lineno}: expected "
                                 f"'  count N avg N ns ...' after the block header")
            current["count"] = int(m["count"])
            # An interval without packets has no average, not an average of 0.
            current["avg"] = float(m["avg"]) if current["count"] else math.nan
        elif not line[0].isspace():
            raise InputError(f"{path}: line {lineno}: blocks must be separated by a blank line")
    if not blocks:
        raise InputError(f"{path}: no blocks (expected one per probe interval)")
    for block in blocks:
        if block["avg"] is None:
            raise InputError(f"{path}: line {block['line']}: block without a statistics line")
    return blocks


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
    slopes = {name: json_number(fit, "slope_ns_per_rule", f"{path}: backends.{name}")
              for name, fit in fits.items()}
    return {name: slope for name, slope in slopes.items() if slope is not None}


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


def describe_run(meta):
    """Title fragment from sweep.json / compare.json metadata."""
    if meta is None:
        return None
    traffic = meta.get("traffic") if isinstance(meta.get("traffic"), dict) else {}
    parts = [meta.get("backend"),
             f"{meta['shape']} rules" if meta.get("shape") else None,
             traffic.get("protocol"),
             f"{str(meta['hook']).upper()} hook" if meta.get("hook") else None,
             f"tracer {meta['tracer']}" if meta.get("tracer") else None,
             f"kernel {meta['kernel']}" if meta.get("kernel") else None]
    return ", ".join(str(p) for p in parts if p)


def hook_chain(meta):
    hook = meta.get("hook") if meta else None
    return f"rules in the {str(hook).upper()} chain" if hook else "rules in the chain"


# ---------------------------------------------------------------- figures

def combined_legend(ax, twin, **kwargs):
    """One legend for an axes and its twin, so the cwnd line is explained too."""
    handles, labels = ax.get_legend_handles_labels()
    if twin is not None:
        h2, l2 = twin.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, **kwargs)


def draw_sweep(fig, title, rows, meta, fit, knee):
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
        ax_l.scatter([r["rules"] for r in rows], [r["lat_avg_ns"] for r in rows],
                     s=14, color=C_LAT, alpha=0.3, label="average, each repeat")
    # The fit is sweep.json's (the one report.md quotes) when there is one.
    if fit is None:
        fit = least_squares([r["rules"] for r in rows], [r["lat_avg_ns"] for r in rows])
    if fit:
        a, b, r2 = fit
        ends = [xs[0], xs[-1]]
        ax_l.plot(ends, [a + b * x for x in ends], "--", color=C_FIT, linewidth=1.2,
                  label=f"least squares: {per_rule(b)} + {a:.0f} ns, R² = {r2:.3f}")
    ax_l.set_ylim(bottom=0)
    ax_l.set_ylabel("hook latency per packet (ns)")
    ax_l.set_xlabel(hook_chain(meta))
    ax_l.legend(loc="upper left", fontsize="small")

    ax_t.set_title(f"nfcost sweep: {describe_run(meta) or title}", fontsize="medium")
    for ax in (ax_t, ax_l):
        ax.grid(True, alpha=0.3)


def draw_live(fig, iperf, blocks, injection):
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

    first = blocks[0]
    ax_l.step([b["t"] for b in blocks], [b["avg"] for b in blocks], where="post",
              color=C_LAT, label=f"average per probe interval ({first['hook']}, {first['tracer']})")
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


def draw_compare(fig, title, rows, meta, slopes):
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
        ax_l.plot(xs, avg, "o-", color=colour, label=label)
        xs, tput = means_by(mine, "rules", "throughput_mbps")
        ax_t.plot(xs, tput, "o-", color=colour, label=name)

    # A flat set lookup next to a linear chain spans decades: only a log
    # axis keeps both readable.
    positive = [m for m in all_means if m > 0]
    if positive and max(positive) / min(positive) > 20:
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
    ax_t.set_xlabel(hook_chain(meta))
    ax_t.legend(loc="lower left", fontsize="small")
    if meta:
        title = describe_run({k: v for k, v in meta.items() if k != "backend"}) or title
    ax_l.set_title(f"nfcost compare: {title}", fontsize="medium")
    for ax in (ax_l, ax_t):
        ax.grid(True, alpha=0.3, which="both" if ax.get_yscale() == "log" else "major")


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

    axes = fig.axes
    positions = [tuple(round(v, 4) for v in ax.get_position().bounds) for ax in axes]
    out = []
    for i, ax in enumerate(axes):
        shared = ax.get_shared_x_axes()
        # A twin (twinx) is the earlier axes it shares both x and position with.
        twin_of = next((j for j in range(i) if positions[j] == positions[i]
                        and shared.joined(ax, axes[j])), None)
        lines = [{"label": _label(line), "points": len(line.get_xdata()),
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
        spans = []
        for p in ax.patches:
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
            "yscale": ax.get_yscale(),
            "xlim": [round(v, 6) for v in ax.get_xlim()],
            "ylim": [round(v, 6) for v in ax.get_ylim()],
            "lines": lines,
            "collections": collections,
            "spans": spans,
            "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
        })
    width, height = (fig.get_size_inches() * fig.dpi).round().astype(int).tolist()
    return {"figure": kind, "output": output, "size_px": [width, height], "axes": out}


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
                   help="iperf_results.json, bpf_results.txt, injection.csv -> results.png: "
                        "throughput, cwnd and latency against time")
    sub.add_parser("compare", parents=[common],
                   help="compare.csv (+ compare.json) -> compare.png: one line per backend")
    return parser.parse_args(argv)


def load_inputs(figure, d):
    """Parse and check every input before matplotlib is imported, so a bad
    file is reported the same way with or without it."""
    def p(name):
        return os.path.join(d, name)

    if not os.path.isdir(d):
        raise InputError(f"{d}: no such directory")
    if figure == "sweep":
        rows = read_csv(p("sweep.csv"), SWEEP_COLUMNS)
        meta = read_json(p("sweep.json"), optional=True)
        fit, knee = sweep_analysis(meta, p("sweep.json"))
        return "sweep.png", (os.path.basename(os.path.abspath(d)), rows, meta, fit, knee)
    if figure == "live":
        # A run stopped before the injection began has a header-only injection.csv.
        return "results.png", (read_iperf(p("iperf_results.json")),
                               read_bpf_blocks(p("bpf_results.txt")),
                               read_csv(p("injection.csv"), ("time_s", "rules"),
                                        allow_no_rows=True))
    rows = read_csv(p("compare.csv"), ("backend",) + SWEEP_COLUMNS, text_columns=("backend",))
    meta = read_json(p("compare.json"), optional=True)
    return "compare.png", (os.path.basename(os.path.abspath(d)), rows, meta,
                           compare_slopes(meta, p("compare.json")))


def import_figure():
    # Keep matplotlib's own warnings (font cache, config dir) off stderr,
    # which carries only our one-line errors.
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    try:
        import matplotlib
    except ImportError:
        raise Failure(f"matplotlib is not installed for {sys.executable}: "
                      f"apt-get install python3-matplotlib") from None
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    return Figure


def run(argv):
    args = parse_args(argv)
    default_name, inputs = load_inputs(args.figure, args.dir)
    output = args.output or os.path.join(args.dir, default_name)
    figure_class = import_figure()
    fig = figure_class(figsize=(10, 7.5), dpi=110, layout="constrained")
    {"sweep": draw_sweep, "live": draw_live, "compare": draw_compare}[args.figure](fig, *inputs)

    # Write beside the target and rename, so a failed run never leaves a
    # truncated PNG where an older, good one was.
    tmp = f"{output}.tmp{os.getpid()}"
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, output)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise Failure(f"cannot write {output}: {e.strerror or e}") from None
    if args.describe:
        print(json.dumps(describe(fig, args.figure, output), indent=1, ensure_ascii=False))


def main(argv=None):
    try:
        run(sys.argv[1:] if argv is None else argv)
    except Failure as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return e.status
    return 0


if __name__ == "__main__":
    sys.exit(main())
