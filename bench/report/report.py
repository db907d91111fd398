#!/usr/bin/env python3
"""Turns the `name value unit` lines of `bench/run` into a report a person can read.

    python3 bench/report/report.py [--output bench/results/DATE.md] [--date DATE] [FILE ...]

Reads the lines from the FILEs (or standard input), ignores every other line, and writes:
  bench/results/DATE.md            the machine (core count first), a table of the Weft/Redis ratios with both
                                   absolute figures, the transaction workloads' latencies, scaling, the other
                                   figures, and every line as it came;
  bench/results/DATE-throughput.svg   ops/s of Weft and Redis per workload (each row on its own scale);
  bench/results/DATE-latency.svg      p50/p99/p999 of Weft and Redis per workload (log scale);
  bench/results/DATE-scaling.svg      Weft's ops/s per io-threads count (only if the tx suite's scaling ran).
The SVGs are written by hand: nothing beyond the standard library is needed.
"""

import argparse
import datetime
import html
import math
import os
import platform
import re
import subprocess
import sys

WEFT_COLOUR = "#1f6fb4"
REDIS_COLOUR = "#d0473a"
LINE_COLOURS = ["#1f6fb4", "#2a9d5c", "#d0473a", "#8a5cc2", "#c98a13"]
# What the tx suite's scaling series run (bench/load/tx.sh `scale`).
SCALE_LABELS = {"transfer": "transfer (Zipf 0.99)", "mixed": "mixed (uniform)"}
# Units where a larger figure is better; for every other unit (bytes, seconds, us) smaller is better.
HIGHER_IS_BETTER = {"ops/s", "keys/s"}


def parse(lines):
    """The figures in `lines`: an ordered dict of name -> (value, unit). A later line of the same name wins."""
    figures = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 3:
            continue
        name, value, unit = parts
        try:
            number = float(value)
        except ValueError:
            continue
        if not re.match(r"^[A-Za-z0-9_.\-]+$", name):
            continue
        figures[name] = (number, unit)
    return figures


def fmt(value, unit=""):
    """A figure for a table: thousands separators for large numbers, three digits for small ones."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "ratio":
        return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100 or value == int(value):
        return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    return f"{value:.3g}"


def short(value):
    """A compact figure for plot labels: 12.3k, 1.2M."""
    if value >= 1e6:
        return f"{value / 1e6:.2f}M"
    if value >= 1e3:
        return f"{value / 1e3:.1f}k"
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def command_output(*command):
    """A command's first output line, or None if it fails."""
    try:
        text = subprocess.run(command, capture_output=True, text=True, timeout=30).stdout.strip()
        return text.splitlines()[0] if text else None
    except (OSError, subprocess.SubprocessError):
        return None


def machine(figures):
    """What the figures were measured on, as (label, value) rows."""
    cores = os.cpu_count()
    if "tx.cores" in figures:
        cores = int(figures["tx.cores"][0])
    model = None
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                    break
    except OSError:
        pass
    os_name = platform.platform()
    try:
        with open("/etc/os-release") as release:
            for line in release:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    rows = [
        ("cores (`nproc`)", str(cores)),
        ("CPU", model or platform.processor() or "unknown"),
        ("memory", memory or "unknown"),
        ("system", f"{os_name}, kernel {platform.release()}"),
        ("Swift", command_output("swift", "--version") or "unknown"),
        ("redis-server", command_output("redis-server", "--version") or "unknown"),
        ("commit", command_output("git", "rev-parse", "--short", "HEAD") or "unknown"),
    ]
    if "tx.io_threads" in figures:
        rows.append(("weft-server io-threads (tx suite)", fmt(figures["tx.io_threads"][0])))
    return rows


def ratio_rows(figures, used):
    """Every `X.ratio` with its absolute figures `X.weft` (`X.floor` for weft-nio-floor's) and `X.redis` where they
    exist."""
    rows = []
    for name, (value, unit) in figures.items():
        if not name.endswith(".ratio"):
            continue
        base = name[: -len(".ratio")]
        subject = ".floor" if base + ".floor" in figures else ".weft"
        weft = figures.get(base + subject)
        redis = figures.get(base + ".redis")
        used.add(name)
        absolute_unit = (weft or redis or (None, ""))[1]
        if weft:
            used.add(base + subject)
        if redis:
            used.add(base + ".redis")
        if absolute_unit in HIGHER_IS_BETTER:
            better = "higher"
        elif absolute_unit:
            better = "lower"
        else:
            better = ""
        rows.append(
            (
                f"`{name}`",
                fmt(value, "ratio"),
                fmt(weft[0]) if weft else "",
                fmt(redis[0]) if redis else "",
                absolute_unit,
                better,
            )
        )
    return rows


def workloads(figures):
    """The workloads that have both a `.weft` and a `.redis` throughput in ops/s, in order of appearance."""
    names = []
    for name, (_, unit) in figures.items():
        if unit == "ops/s" and name.endswith(".weft"):
            base = name[: -len(".weft")]
            if base + ".redis" in figures and base not in names:
                names.append(base)
    return names


def latency_rows(figures, used):
    """One row per server and workload that has latency percentiles."""
    rows = []
    for base in workloads(figures):
        for server in ("weft", "redis"):
            prefix = f"{base}.{server}"
            if prefix + ".p50" not in figures:
                continue
            cells = [f"`{base}`", server.capitalize(), fmt(figures[prefix][0])]
            for suffix in ("p50", "p99", "p999", "retries", "errors"):
                entry = figures.get(f"{prefix}.{suffix}")
                cells.append(fmt(entry[0]) if entry else "")
                used.add(f"{prefix}.{suffix}")
            for suffix in ("max", "retries_per_op", "declined", "misses"):
                used.add(f"{prefix}.{suffix}")
            abort = figures.get(base + ".abort_rate") if server == "weft" else None
            cells.append(f"{abort[0]:.5f}" if abort else "")
            if abort:
                used.add(base + ".abort_rate")
            rows.append(tuple(cells))
    return rows


def scaling(figures):
    """{workload: [(threads, ops/s)]} from `scale.<workload>.t<N>` figures."""
    series = {}
    for name, (value, unit) in figures.items():
        match = re.match(r"^scale\.(.+)\.t(\d+)$", name)
        if match and unit == "ops/s":
            series.setdefault(match.group(1), []).append((int(match.group(2)), value))
    for points in series.values():
        points.sort()
    return series


def table(header, rows):
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


# MARK: SVG


class Svg:
    """A tiny SVG writer: rectangles, lines, text and polylines, in document order."""

    def __init__(self, width, height):
        self.width = width
        self.height = height
        self.items = []

    def rect(self, x, y, width, height, fill, title=None):
        tip = f"<title>{html.escape(title)}</title>" if title else ""
        self.items.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" height="{height:.1f}" fill="{fill}">'
            f"{tip}</rect>"
        )

    def line(self, x1, y1, x2, y2, stroke="#999", width=1, dash=None):
        pattern = f' stroke-dasharray="{dash}"' if dash else ""
        self.items.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
            f'stroke-width="{width}"{pattern}/>'
        )

    def text(self, x, y, content, size=12, anchor="start", fill="#222", weight="normal"):
        self.items.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}">{html.escape(str(content))}</text>'
        )

    def polyline(self, points, stroke, width=2):
        text = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.items.append(f'<polyline points="{text}" fill="none" stroke="{stroke}" stroke-width="{width}"/>')

    def circle(self, x, y, radius, fill, title=None):
        tip = f"<title>{html.escape(title)}</title>" if title else ""
        self.items.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{fill}">{tip}</circle>')

    def legend(self, x, y, entries):
        for index, (label, colour) in enumerate(entries):
            self.rect(x + index * 110, y - 10, 12, 12, colour)
            self.text(x + index * 110 + 17, y, label)

    def render(self):
        body = "\n".join(self.items)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}" font-family="Helvetica, Arial, sans-serif">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n{body}\n</svg>\n'
        )


def throughput_svg(figures, title):
    """Weft's and Redis's ops/s per workload, a pair of bars per row, each row scaled to its own larger figure
    (the rows differ by orders of magnitude), with the figures and the ratio written out."""
    names = workloads(figures)
    if not names:
        return None
    label_width, bar_width, right = 230, 420, 90
    row_height, top = 46, 60
    svg = Svg(label_width + bar_width + right + 20, top + row_height * len(names) + 30)
    svg.text(10, 22, title, size=15, weight="bold")
    svg.legend(label_width, 44, [("Weft", WEFT_COLOUR), ("Redis", REDIS_COLOUR)])
    svg.text(label_width + bar_width + right, 44, "Weft/Redis", anchor="end", fill="#555")
    for index, base in enumerate(names):
        weft = figures[base + ".weft"][0]
        redis = figures[base + ".redis"][0]
        largest = max(weft, redis, 1e-9)
        y = top + index * row_height
        svg.text(label_width - 8, y + 22, base, anchor="end")
        for offset, (value, colour, server) in enumerate(((weft, WEFT_COLOUR, "Weft"), (redis, REDIS_COLOUR, "Redis"))):
            width = bar_width * 0.8 * value / largest
            svg.rect(label_width, y + 4 + offset * 18, width, 15, colour, f"{base} {server}: {value:,.0f} ops/s")
            svg.text(label_width + width + 5, y + 16 + offset * 18, short(value) + " ops/s", size=11, fill="#333")
        ratio = weft / redis if redis > 0 else float("nan")
        colour = "#2a7d2a" if ratio >= 1 else "#a33"
        svg.text(label_width + bar_width + right, y + 24, f"{ratio:.2f}", anchor="end", fill=colour, weight="bold")
        svg.line(10, y + row_height - 4, label_width + bar_width + right, y + row_height - 4, "#eee")
    return svg.render()


def latency_svg(figures, title):
    """p50, p99 and p999 of Weft and Redis per workload, on one logarithmic axis of microseconds."""
    rows = []
    for base in workloads(figures):
        if f"{base}.weft.p50" not in figures:
            continue
        for percentile in ("p50", "p99", "p999"):
            weft = figures.get(f"{base}.weft.{percentile}")
            redis = figures.get(f"{base}.redis.{percentile}")
            if weft and redis:
                rows.append((base, percentile, weft[0], redis[0]))
    if not rows:
        return None
    values = [value for row in rows for value in row[2:] if value > 0]
    low = 10 ** math.floor(math.log10(min(values)))
    high = 10 ** math.ceil(math.log10(max(values)))
    if high <= low:
        high = low * 10
    label_width, bar_width, right = 260, 460, 20
    row_height, group_gap, top = 30, 14, 64
    groups = len({row[0] for row in rows})
    height = top + row_height * len(rows) + group_gap * groups + 40
    svg = Svg(label_width + bar_width + right + 20, height)
    svg.text(10, 22, title, size=15, weight="bold")
    svg.legend(label_width, 44, [("Weft", WEFT_COLOUR), ("Redis", REDIS_COLOUR)])

    def x_of(value):
        return label_width + bar_width * (math.log10(max(value, low)) - math.log10(low)) / (
            math.log10(high) - math.log10(low)
        )

    axis_bottom = height - 30
    decade = low
    while decade <= high * 1.0001:
        x = x_of(decade)
        svg.line(x, top - 6, x, axis_bottom, "#ddd")
        label = f"{decade / 1000:g} ms" if decade >= 1000 else f"{decade:g} µs"
        svg.text(x, axis_bottom + 16, label, size=11, anchor="middle", fill="#555")
        decade *= 10
    y = top
    previous = None
    for base, percentile, weft, redis in rows:
        if base != previous:
            if previous is not None:
                y += group_gap
            previous = base
        svg.text(label_width - 8, y + 19, f"{base} {percentile}", anchor="end", size=12)
        for offset, (value, colour, server) in enumerate(((weft, WEFT_COLOUR, "Weft"), (redis, REDIS_COLOUR, "Redis"))):
            width = x_of(value) - label_width
            svg.rect(label_width, y + 3 + offset * 12, width, 11, colour, f"{base} {percentile} {server}: {value} µs")
            svg.text(label_width + width + 4, y + 12 + offset * 12, short(value), size=9, fill="#333")
        y += row_height
    return svg.render()


def scaling_svg(series, title):
    """Weft's ops/s against its io-threads count, one line per workload."""
    if not series:
        return None
    left, width, top, height = 80, 520, 60, 300
    svg = Svg(left + width + 160, top + height + 60)
    svg.text(10, 22, title, size=15, weight="bold")
    threads = sorted({point[0] for points in series.values() for point in points})
    largest = max(value for points in series.values() for _, value in points) or 1
    # A round tick step (1, 2 or 5 times a power of ten) that gives about five grid lines.
    magnitude = 10 ** math.floor(math.log10(largest / 5))
    step = next(factor * magnitude for factor in (1, 2, 5, 10) if factor * magnitude * 5 >= largest)
    ceiling = math.ceil(largest / step) * step
    low, high = min(threads), max(threads)

    def x_of(count):
        return left + (width * (count - low) / (high - low) if high > low else width / 2)

    def y_of(value):
        return top + height - height * value / ceiling

    tick = 0.0
    while tick <= ceiling * 1.0001:
        svg.line(left, y_of(tick), left + width, y_of(tick), "#e4e4e4")
        svg.text(left - 6, y_of(tick) + 4, short(tick), size=11, anchor="end", fill="#555")
        tick += step
    for count in threads:
        svg.text(x_of(count), top + height + 18, str(count), size=11, anchor="middle", fill="#555")
    svg.text(left + width / 2, top + height + 40, "weft-server --io-threads", anchor="middle", fill="#333")
    svg.items.append(
        f'<text x="20" y="{top + height / 2:.1f}" font-size="12" text-anchor="middle" fill="#333" '
        f'transform="rotate(-90 20 {top + height / 2:.1f})">ops/s</text>'
    )
    for index, (name, points) in enumerate(sorted(series.items())):
        colour = LINE_COLOURS[index % len(LINE_COLOURS)]
        coordinates = [(x_of(count), y_of(value)) for count, value in points]
        if len(coordinates) > 1:
            svg.polyline(coordinates, colour)
        for (count, value), (x, y) in zip(points, coordinates):
            svg.circle(x, y, 4, colour, f"{name}, {count} io-threads: {value:,.0f} ops/s")
        svg.rect(left + width + 20, top + 10 + index * 22, 12, 12, colour)
        svg.text(left + width + 38, top + 21 + index * 22, SCALE_LABELS.get(name, name))
    return svg.render()


# MARK: Report


def report(figures, raw_lines, date, output, machine_rows=(), notes=()):
    """Writes the markdown report and its plots next to `output`. `machine_rows` (label, value) replace or add to
    the rows read off this machine (for figures measured on another); `notes` are paragraphs after the intro."""
    folder = os.path.dirname(output) or "."
    os.makedirs(folder, exist_ok=True)
    stem = os.path.splitext(os.path.basename(output))[0]
    used = set(name for name in figures if name in ("tx.cores", "tx.io_threads"))
    lines = [f"# Weft benchmark results, {date}", ""]
    lines.append("Produced by `bench/run` (every suite; see `bench/README.md` for one suite at a time).")
    lines.append("Ratios are Weft over Redis, measured with the same client, flags and machine, alternating. A `net`")
    lines.append("ratio is the median over `WEFT_BENCH_ROUNDS` (5) pairs of runs, and its ops/s are each server's best")
    lines.append("run; a `net` `.cpu.ratio` compares the servers' CPU time (user and system) per request, with each")
    lines.append("server's median µs/op. The other suites take each server's best of `WEFT_BENCH_ROUNDS` (3) runs. The")
    lines.append("client runs on the same machine as the server, so on a small one it competes for the cores; the")
    lines.append("`net.pinned.*` lines split them: the client on one CPU, each server on the others (Weft with its")
    lines.append("default io-threads, one loop per CPU it may run on). In the `net.floor.*` rows weft-nio-floor stands")
    lines.append("in Weft's place: a SwiftNIO server with Weft's transport and as many loops that parses nothing and")
    lines.append("answers +OK, so its ratio is the most weft-server's transport lets it reach.")
    lines.append("")
    for note in notes:
        lines.append(note)
        lines.append("")
    lines.append("## Machine")
    lines.append("")
    rows = dict(machine(figures))
    rows.update(machine_rows)
    lines.append(table(("", ""), list(rows.items())))
    lines.append("")
    ratios = ratio_rows(figures, used)
    if ratios:
        lines.append("## Weft / Redis")
        lines.append("")
        lines.append("`better` says which way is better for the absolute figures (so for the ratio too).")
        lines.append("")
        lines.append(table(("figure", "Weft/Redis", "Weft", "Redis", "unit", "better"), ratios))
        lines.append("")
    plots = [
        ("throughput", throughput_svg(figures, "Throughput per workload (each row on its own scale)")),
        ("latency", latency_svg(figures, "Latency percentiles per workload (µs, log scale)")),
        ("scaling", scaling_svg(scaling(figures), "Weft: throughput by io-threads")),
    ]
    for kind, svg in plots:
        if svg is None:
            continue
        name = f"{stem}-{kind}.svg"
        with open(os.path.join(folder, name), "w") as file:
            file.write(svg)
        if kind == "throughput":
            lines.append(f"![throughput]({name})")
            lines.append("")
    latencies = latency_rows(figures, used)
    if latencies:
        lines.append("## Latency and retries")
        lines.append("")
        lines.append(
            "Latency in µs per operation (a transfer is one operation; a transfer-watch runs from its first WATCH to"
        )
        lines.append(
            "its commit, retries included). Retries are client-visible (EXEC answered nil); the abort rate is"
        )
        lines.append("Weft's engine aborts per commit from `INFO transactions`, invisible to clients.")
        lines.append("")
        lines.append(
            table(
                ("workload", "server", "ops/s", "p50", "p99", "p999", "retries", "errors", "abort rate"),
                latencies,
            )
        )
        lines.append("")
        if any(kind == "latency" and svg for kind, svg in plots):
            lines.append(f"![latency]({stem}-latency.svg)")
            lines.append("")
    series = scaling(figures)
    if series:
        lines.append("## Scaling with io-threads")
        lines.append("")
        counts = sorted({point[0] for points in series.values() for point in points})
        names = sorted(series)
        rows = []
        for count in counts:
            row = [str(count)]
            for name in names:
                value = dict(series[name]).get(count)
                row.append(fmt(value) if value is not None else "")
                used.add(f"scale.{name}.t{count}")
            rows.append(row)
        lines.append(table(["io-threads"] + [f"{SCALE_LABELS.get(name, name)} ops/s" for name in names], rows))
        lines.append("")
        lines.append(f"![scaling]({stem}-scaling.svg)")
        lines.append("")
    rest = [(f"`{name}`", fmt(value, unit), unit) for name, (value, unit) in figures.items() if name not in used]
    if rest:
        lines.append("## Other figures")
        lines.append("")
        lines.append(table(("figure", "value", "unit"), rest))
        lines.append("")
    lines.append("## Every line")
    lines.append("")
    lines.append("```")
    lines.extend(raw_lines)
    lines.append("```")
    lines.append("")
    with open(output, "w") as file:
        file.write("\n".join(lines))
    return [output] + [os.path.join(folder, f"{stem}-{kind}.svg") for kind, svg in plots if svg]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="files of `name value unit` lines (default: standard input)")
    parser.add_argument("--date", default=datetime.date.today().isoformat())
    parser.add_argument("--output", help="the markdown file (default: bench/results/DATE.md)")
    parser.add_argument(
        "--machine",
        action="append",
        default=[],
        metavar="LABEL=VALUE",
        help="a row of the machine table, for figures measured elsewhere (`--machine 'cores (`nproc`)=16'`)",
    )
    parser.add_argument("--note", action="append", default=[], help="a paragraph after the introduction")
    arguments = parser.parse_args()
    machine_rows = []
    for row in arguments.machine:
        label, separator, value = row.partition("=")
        if not separator:
            parser.error(f"--machine wants LABEL=VALUE, not {row!r}")
        machine_rows.append((label, value))
    lines = []
    if arguments.files:
        for path in arguments.files:
            with open(path) as file:
                lines.extend(file.read().splitlines())
    else:
        lines = sys.stdin.read().splitlines()
    figures = parse(lines)
    if not figures:
        print("report.py: no `name value unit` lines in the input", file=sys.stderr)
        return 1
    raw = [line for line in lines if len(line.split()) == 3 and line.split()[0] in figures]
    output = arguments.output or os.path.join("bench", "results", f"{arguments.date}.md")
    for path in report(figures, raw, arguments.date, output, machine_rows, arguments.note):
        print(f"report: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
