"""The report's plots: key metrics over time, bands shaded, findings marked (matplotlib, Agg).

Each plot is drawn once per format asked: SVG text to inline in HTML (no
fonts, scripts or links to fetch: text stays text, the prolog and metadata
are dropped) and PNG bytes to write beside a Markdown file. No GUI backend
is ever used, and nothing global is changed (``rc_context``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

import attrs
import matplotlib

matplotlib.use("Agg")  # never a GUI: reports are written on servers and in CI

from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from twin.report.model import Report
from twin.timeline import Series, Timeline, parse_time

ORIGINAL = "#1f5fa8"
BRANCH = "#d9730d"
ERROR = "#c62828"
WARNING = "#e0a100"
BAND_ALPHA = 0.22
STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.fonttype": "none",
    "svg.hashsalt": "maestro-twin-report",
    "figure.dpi": 100,
}
WIDTH_IN = 9.5
HEIGHT_IN = 2.9


@attrs.frozen
class Plot:
    """One drawn plot.

    Attributes:
        name: a file-name-safe id (``cpu``).
        title: its heading.
        caption: what to look for in it.
        svg: the SVG text (empty when not asked for).
        png: the PNG bytes (empty when not asked for).
    """

    name: str
    title: str
    caption: str
    svg: str = ""
    png: bytes = b""


Drawer = Callable[[Axes, "Canvas"], None]


@attrs.define
class Canvas:
    """What every plot shares: the x axis (times or seqs) and the findings to mark."""

    report: Report
    use_times: bool

    def xs(self, series: Series) -> list[Any]:
        """The x values of a series: datetimes when every time parses, else seqs."""
        if self.use_times:
            return [parse_time(t) for t in series.times]
        return list(series.seqs)

    def x_of(self, seq: int, at: str) -> Any:
        """One x position."""
        return parse_time(at) if self.use_times else seq


def _times_parse(timeline: Timeline) -> bool:
    series = next(iter(timeline.series.values()), None)
    if series is None or not series.times:
        return False
    return all(parse_time(t) is not None for t in series.times[:: max(1, len(series.times) // 50)])


def _step(
    ax: Axes, canvas: Canvas, series: Series | None, color: str, label: str, **kw: Any
) -> None:
    """A metric as a step line, with its band shaded when it has one."""
    if series is None or not series.seqs:
        return
    xs = canvas.xs(series)
    values = [float("nan") if v is None else v for v in series.values]
    if series.has_band():
        lows = [float("nan") if v is None else v for v in series.lows]
        highs = [float("nan") if v is None else v for v in series.highs]
        ax.fill_between(xs, lows, highs, step="post", color=color, alpha=BAND_ALPHA, linewidth=0)
    ax.step(xs, values, where="post", color=color, linewidth=1.4, label=label, **kw)


MOMENT_LINES = frozenset(
    {
        "member_failed",
        "member_recovered",
        "site_failover",
        "link_failed",
        "link_restored",
        "orchestrator_failed",
        "orchestrator_recovered",
    }
)
"""Key moments drawn as labelled vertical lines on every metric plot."""


def _merged(intervals: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Overlapping intervals merged, so that shading never stacks darker."""
    out: list[tuple[Any, Any]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _mark_findings(ax: Axes, canvas: Canvas, timeline: Timeline, rules: tuple[str, ...]) -> None:
    """Shade where this plot's findings are active (errors red, warnings amber), and draw
    the faults and failovers as labelled lines."""
    end = canvas.x_of(timeline.stop, timeline.last_at)
    # Errors only: warnings can last all night (a link without jumbo frames) and would tint
    # everything; the findings plot shows them.
    for severity, colour, alpha in (("error", ERROR, 0.10),):
        intervals = []
        for span in timeline.spans:
            if span.severity != severity or not span.rule.startswith(rules):
                continue
            x0 = canvas.x_of(max(span.raised_seq, timeline.start), span.raised_at)
            x1 = (
                end
                if span.cleared_seq is None
                else canvas.x_of(span.cleared_seq, span.cleared_at or "")
            )
            if x0 is not None and x1 is not None:
                intervals.append((x0, x1))
        for x0, x1 in _merged(intervals):
            ax.axvspan(x0, x1, color=colour, alpha=alpha, linewidth=0)
    for moment in timeline.moments:
        if moment.type not in MOMENT_LINES:
            continue
        x = canvas.x_of(moment.seq, moment.occurred_at)
        if x is None:
            continue
        ax.axvline(x, color="#444444", linewidth=0.7, alpha=0.6, linestyle=(0, (3, 2)))
        ax.annotate(
            f"#{moment.seq}",
            xy=(x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, -2),
            textcoords="offset points",
            fontsize=7,
            color="#444444",
            rotation=90,
            va="top",
            ha="left",
        )


def _time_axis(ax: Axes) -> None:
    """Hours and minutes along the x axis (journal time, UTC)."""
    locator = mdates.AutoDateLocator(minticks=5, maxticks=12)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))  # type: ignore[no-untyped-call]


def _finish(ax: Axes, canvas: Canvas, ylabel: str) -> None:
    ax.set_ylabel(ylabel)
    if canvas.use_times:
        _time_axis(ax)
    else:
        ax.set_xlabel("event #")
    handles, _labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            fontsize=8,
            frameon=False,
            ncols=min(5, len(handles)),
        )


def _percent(ax: Axes, scale: float = 1.0) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v * scale:.0f}%"))


def _series(timeline: Timeline | None, key: str) -> Series | None:
    return None if timeline is None else timeline.series.get(key)


def _branch_timeline(report: Report) -> Timeline | None:
    return None if report.comparison is None else report.comparison.timeline


def _label(report: Report, what: str, branch: bool = False) -> str:
    if report.comparison is None:
        return what
    return f"{what} ({report.comparison.branch})" if branch else f"{what} (original)"


def _draw_cpu(ax: Axes, canvas: Canvas) -> None:
    report = canvas.report
    for timeline, colour, style, is_branch in _timelines(report):
        _step(
            ax,
            canvas,
            _series(timeline, "load.cpu_pct@hottest"),
            colour,
            _label(report, "hottest member", is_branch),
            linestyle=style,
        )
        groups = sorted(k for k in timeline.series if k.startswith("load.cpu_pct@group:"))
        for key in groups[:3]:
            _step(
                ax,
                canvas,
                timeline.series[key],
                colour,
                _label(report, f"{key.split('@')[1]} mean", is_branch),
                linestyle=":",
                alpha=0.9,
            )
    limit = report.thresholds.get("convergence.cpu_threshold_pct")
    if limit is not None:
        ax.axhline(limit, color=ERROR, linewidth=1, linestyle="--", label=f"limit {limit:g}%")
    ax.set_ylim(0, 105)
    _percent(ax)


def _draw_failover(ax: Axes, canvas: Canvas) -> None:
    report = canvas.report
    for timeline, colour, style, is_branch in _timelines(report):
        _step(
            ax,
            canvas,
            _series(timeline, "convergence.failover_s@system"),
            colour,
            _label(report, "failover time", is_branch),
            linestyle=style,
        )
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g} s"))


def _draw_sync(ax: Axes, canvas: Canvas) -> None:
    report = canvas.report
    for timeline, colour, style, is_branch in _timelines(report):
        _step(
            ax,
            canvas,
            _series(timeline, "sync.traffic_gbps@system"),
            colour,
            _label(report, "sync traffic", is_branch),
            linestyle=style,
        )
        _step(
            ax,
            canvas,
            _series(timeline, "sync.capacity_gbps@system"),
            "#555555",
            _label(report, "sync capacity", is_branch),
            linestyle=":" if is_branch else "-.",
        )
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g} Gbps"))


def _draw_capacity(ax: Axes, canvas: Canvas) -> None:
    report = canvas.report
    right = ax.twinx()
    right.spines["right"].set_visible(True)
    for timeline, colour, style, is_branch in _timelines(report):
        _step(
            ax,
            canvas,
            _series(timeline, "capacity.utilization@system"),
            colour,
            _label(report, "capacity used", is_branch),
            linestyle=style,
        )
        _step(
            right,
            canvas,
            _series(timeline, "members.active@system"),
            "#2e7d32",
            _label(report, "members UP", is_branch),
            linestyle=style,
            alpha=0.8,
        )
    ax.set_ylim(bottom=0)
    _percent(ax, 100.0)
    right.set_ylabel("members UP")
    right.set_ylim(bottom=0)
    right.grid(False)
    lines, labels = ax.get_legend_handles_labels()
    more, more_labels = right.get_legend_handles_labels()
    ax.legend(
        lines + more,
        labels + more_labels,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        fontsize=8,
        frameon=False,
        ncols=4,
    )


def _timelines(report: Report) -> list[tuple[Timeline, str, str, bool]]:
    out = [(report.timeline, ORIGINAL, "-", False)]
    branch = _branch_timeline(report)
    if branch is not None:
        out.append((branch, BRANCH, "--", True))
    return out


def _draw_findings(ax: Axes, canvas: Canvas) -> None:
    """Every warning and error finding as a bar from the event that raised it to the one that
    cleared it (the original's; a what-if branch's after the fork, hatched)."""
    report = canvas.report
    timeline = report.timeline
    rows: list[tuple[str, Any, Any, str, bool]] = []
    end = canvas.x_of(timeline.stop, timeline.last_at)
    sources: list[tuple[Timeline, bool]] = [(timeline, False)]
    if report.comparison is not None:
        sources.append((report.comparison.timeline, True))
    for source, is_branch in sources:
        stop = canvas.x_of(source.stop, source.last_at)
        for span in source.spans:
            if span.severity == "info" and not span.rule.startswith("members."):
                continue
            if is_branch and span.raised_seq <= report.comparison.fork_seq:  # type: ignore[union-attr]
                continue
            x0 = canvas.x_of(max(span.raised_seq, source.start), span.raised_at)
            x1 = (
                stop
                if span.cleared_seq is None
                else canvas.x_of(span.cleared_seq, span.cleared_at or "")
            )
            label = f"{span.rule} · {span.subject.split(':', 1)[-1]}"
            rows.append(
                (label + (" (what-if)" if is_branch else ""), x0, x1, span.severity, is_branch)
            )
    rows = rows[:MAX_FINDING_ROWS]
    colours = {"error": ERROR, "warning": WARNING, "info": "#3465a4"}
    for index, (_label, x0, x1, severity, is_branch) in enumerate(rows):
        if x0 is None or x1 is None:
            continue
        ax.barh(
            index,
            x1 - x0,
            left=x0,
            height=0.62,
            color=BRANCH if is_branch else colours.get(severity, "#888888"),
            alpha=0.85,
            hatch="//" if is_branch else None,
            edgecolor="white" if is_branch else None,
        )
    ax.set_yticks(range(len(rows)), [r[0] for r in rows], fontsize=7.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.grid(axis="y", visible=False)
    if canvas.use_times:
        _time_axis(ax)
    start = canvas.x_of(timeline.start, timeline.first_at)
    if start != end:  # a window whose events share one moment: let matplotlib pad it
        ax.set_xlim(start, end)


MAX_FINDING_ROWS = 40

PLOTS: Sequence[tuple[str, str, str, str, Drawer, tuple[str, ...]]] = (
    (
        "findings",
        "Findings over time",
        "",
        "Each warning (amber) and error (red) from the event that raised it to the one that "
        "cleared it. Dashed lines in the plots below: faults, failovers and links (#event).",
        _draw_findings,
        (),
    ),
    (
        "cpu",
        "CPU: the hottest member, and each group's mean",
        "",
        "Above the dashed limit a member's failover takes 7–9 s instead of 0.3 s. "
        "Red shading: a CPU-overload finding is active.",
        _draw_cpu,
        ("convergence.cpu-overload",),
    ),
    (
        "failover",
        "Failover convergence time (band shaded)",
        "",
        "How long a failover would take after each event; the blue band is the model's range.",
        _draw_failover,
        ("convergence.",),
    ),
    (
        "sync",
        "State-sync traffic (band shaded) and sync capacity",
        "",
        "Traffic between the members' state tables against what the sync links carry; "
        "shading: a sync finding is active.",
        _draw_sync,
        ("sync.",),
    ),
    (
        "capacity",
        "Connection capacity used, and members UP",
        "capacity used",
        "Concurrent connections as a share of the serving members' capacity (left), members UP "
        "(right); shading: a member is down or capacity is short.",
        _draw_capacity,
        ("capacity.", "members.down"),
    ),
)


def _clean_svg(text: str) -> str:
    """Inline-ready SVG: no XML prolog, DOCTYPE (its URL) or metadata block."""
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    return text.strip()


def draw(
    report: Report, *, svg: bool, png: bool, tick: Callable[[int, int], Any] | None = None
) -> list[Plot]:
    """Draw every plot in the formats asked.

    Args:
        report: what to draw.
        svg: produce SVG text (HTML reports).
        png: produce PNG bytes (Markdown reports).
        tick: called with the number of plots done and the number to draw (progress).
    """
    canvas = Canvas(report, _times_parse(report.timeline))
    plots: list[Plot] = []
    with matplotlib.rc_context(cast(Any, STYLE)):
        for index, (name, title, ylabel, caption, drawer, rules) in enumerate(PLOTS, start=1):
            height = HEIGHT_IN
            if name == "findings":
                height = max(1.6, 0.6 + 0.2 * min(MAX_FINDING_ROWS, _finding_rows(report)))
            fig = Figure(figsize=(WIDTH_IN, height), layout="constrained")
            ax = fig.add_subplot()
            if name != "findings":
                _mark_findings(ax, canvas, report.timeline, rules)
            drawer(ax, canvas)
            if name != "findings":
                _finish_axes(ax, canvas, ylabel, name)
            svg_text = _render_svg(fig) if svg else ""
            png_bytes = _render_png(fig) if png else b""
            plots.append(Plot(name, title, caption, svg_text, png_bytes))
            if tick is not None:
                tick(index, len(PLOTS))
    return plots


def _finding_rows(report: Report) -> int:
    count = sum(
        1 for s in report.timeline.spans if s.severity != "info" or s.rule.startswith("members.")
    )
    if report.comparison is not None:
        fork = report.comparison.fork_seq
        count += sum(1 for s in report.comparison.timeline.spans if s.raised_seq > fork)
    return count


def _finish_axes(ax: Axes, canvas: Canvas, ylabel: str, name: str) -> None:
    if name == "capacity":
        ax.set_ylabel(ylabel)
        if canvas.use_times:
            _time_axis(ax)
        return
    _finish(ax, canvas, ylabel)


def _render_svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(
        buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None}
    )
    return _clean_svg(buffer.getvalue())


def _render_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=130, metadata={"Software": None})
    return buffer.getvalue()


def x_limits(timeline: Timeline) -> tuple[datetime | None, datetime | None]:
    """The first and last time of a window (for captions)."""
    return parse_time(timeline.first_at), parse_time(timeline.last_at)
