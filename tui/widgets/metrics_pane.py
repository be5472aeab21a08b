"""Pane 3: the headline metrics as tiles, and a plot of the chosen one over the whole journal.

A tile: label, value at the cursor in its unit, the change against the
previous event (``=`` unchanged, ``≈`` below the shown precision), a
sparkline of the events up to the cursor and the sparkline's own scale
(``min–max``). ↑/↓ choose a tile; the plot below shows that metric; ``w``
jumps to the last event that changed it.

Between the tiles and the plot, when the journal holds observations
(``metric_observed``) at or before the cursor: what the gateways showed
beside the model, the latest first (``1_03 load.cpu_pct obs 71.0% (Δ +6.0 pp)
model 65.0% #230``), the gap in yellow while ``twin.model-drift`` holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget

from tui.formatting import delta, value
from tui.timeline_data import HEADLINE, Observation
from tui.widgets.events_list import short_subject
from twin.units import format_band, format_delta

if TYPE_CHECKING:
    from tui.app import TwinApp

SPARK = "▁▂▃▄▅▆▇█"
MAX_OBSERVED = 4  # observation lines at most (then "+N more")
BLOCK = 32  # events per sparkline cell (cells are whole blocks, the last one up to the cursor)
BRAILLE_BASE = 0x2800
# dot bits of a braille cell: (column, row from the top) → bit
DOT = {(0, 0): 0x01, (0, 1): 0x02, (0, 2): 0x04, (0, 3): 0x40,
       (1, 0): 0x08, (1, 1): 0x10, (1, 2): 0x20, (1, 3): 0x80}  # fmt: skip


def sparkline(values: list[float], width: int) -> tuple[str, float, float] | None:
    """At most ``width`` bar characters for ``values`` (the max of each stretch), with the
    min and max of ``values`` (the scale to show beside it)."""
    if not values or width <= 0:
        return None
    n = len(values)
    if n <= width:
        cells = values
    else:
        cells = [max(values[x * n // width : max(x * n // width + 1, (x + 1) * n // width)])
                 for x in range(width)]  # fmt: skip
    low, high = min(values), max(values)
    span = high - low
    if span <= 0:
        return SPARK[0] * len(cells), low, high
    scale = 7.999 / span
    return "".join(SPARK[min(7, int((v - low) * scale))] for v in cells), low, high


class MetricTiles(Widget, can_focus=True):
    """The headline metric tiles; the selected one is plotted."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "select(1)", "Next metric", show=False),
        Binding("up,k", "select(-1)", "Previous metric", show=False),
    ]
    DEFAULT_CSS = """
    MetricTiles { height: auto; width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__(id="metric-tiles")
        self.selected = 1  # capacity

    @property
    def twin(self) -> TwinApp:
        from tui.app import TwinApp

        assert isinstance(self.app, TwinApp)
        return self.app

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """One row per tile."""
        return len(HEADLINE)

    def action_select(self, step: int) -> None:
        """Choose the next or previous tile (the plot follows)."""
        self.selected = (self.selected + step) % len(HEADLINE)
        self.refresh()
        plot = self.screen.query(MetricPlot)
        for p in plot:
            p.refresh()

    def on_click(self, event: events.Click) -> None:
        """Clicking a tile selects it."""
        if 0 <= event.y < len(HEADLINE):
            self.selected = event.y
            self.refresh()
            for p in self.screen.query(MetricPlot):
                p.refresh()

    def _history(self, metric: int, seq: int, cells: int) -> list[float]:
        """The max of each block of events up to ``seq`` (the last ``cells`` blocks)."""
        if seq < 1:
            return []
        index = self.twin.data.index
        last = (seq - 1) // BLOCK
        out = []
        for block in range(max(0, last - cells + 1), last + 1):
            lo = block * BLOCK + 1
            found = index.span(metric, lo, min(seq, lo + BLOCK - 1))
            if found is not None:
                out.append(found[1])
        return out

    def values_at(self, index: int, seq: int) -> tuple[float | None, float | None]:
        """Metric ``index`` at ``seq`` and at the event before (index, or the seeked detail)."""
        app = self.twin
        data = app.data.index
        now = data.metric(index, seq)
        before = data.metric(index, seq - 1) if seq > 1 else None
        if now is None and app.detail is not None and app.detail.seq == seq:
            found = app.detail.metrics.get(HEADLINE[index][0])
            now = None if found is None else found[0]
        return now, before

    def render(self) -> Text:
        """One line per tile."""
        app = self.twin
        width = self.size.width
        seq = app.cursor.seq
        lines = []
        tiles = []
        for i, (name, _label) in enumerate(HEADLINE):
            unit = app.data.units.get(name)
            now, before = self.values_at(i, seq)
            tiles.append((unit, now, delta(unit, now, before, name)))
        # as wide as the widest change (▲+0.091pp), so the sparklines stay in one column
        change_w = max(8, *(len(t[2][0]) for t in tiles))
        for i, (name, label) in enumerate(HEADLINE):
            unit, now, (change, direction) = tiles[i]
            shown = value(unit, now, name)
            history = self._history(i, seq, max(1, width - 26 - change_w))
            line = Text()
            line.append("▸" if i == self.selected else " ", "bold")
            line.append(f"{label:<10} ", "bold" if i == self.selected else "")
            line.append(f"{shown:>10} ")
            line.append(
                f"{change:<{change_w}} ",
                "green" if direction > 0 else "red" if direction < 0 else "dim",
            )
            room = width - line.cell_len
            if not history:
                line.append("no data", "dim")
            else:
                low, high = min(history), max(history)
                scale = (
                    f" {value(unit, low, name)}"
                    if low == high
                    else f" {format_band(low, high, unit, name=name, compact=True)}"
                )
                spark_w = room - len(scale) if room - len(scale) >= 6 else room
                drawn = sparkline(history[-spark_w:] if spark_w > 0 else [], spark_w)
                if drawn is not None:
                    bars = drawn[0] if low != high else "─" * len(drawn[0])
                    line.append(bars, "cyan")
                if spark_w < room:
                    line.append(scale, "dim")
            line.truncate(width, pad=True)
            if i == self.selected and self.has_focus:
                line.stylize("reverse")
            lines.append(line)
        text = Text("\n").join(lines)
        text.no_wrap = True
        return text


def index_key(app: TwinApp) -> int:
    """Changes when the evaluated part of the index grows (the plot's data)."""
    return app.data.index.evaluated


class MetricPlot(Widget):
    """The selected headline metric over every evaluated event; the cursor as a vertical line."""

    DEFAULT_CSS = """
    MetricPlot { height: 1fr; min-height: 4; width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__(id="metric-plot")
        self._grid: tuple[object, list[str], list[list[int]]] | None = None

    @property
    def twin(self) -> TwinApp:
        from tui.app import TwinApp

        assert isinstance(self.app, TwinApp)
        return self.app

    def _columns(self, metric: int, dots: int, total: int) -> list[tuple[float, float] | None]:
        index = self.twin.data.index
        return [index.span(metric, lo, hi) for lo, hi in index.buckets(dots, total)]

    def render(self) -> Text:
        """Title, y scale with units, braille curve, cursor and marks, x labels."""
        app = self.twin
        width, height = self.size.width, self.size.height
        tiles = self.screen.query(MetricTiles)
        metric = tiles.first().selected if tiles else 1
        name, label = HEADLINE[metric]
        unit = app.data.units.get(name)
        total = app.cursor.total
        title = Text(f" {label} over the journal ({name})", style="bold")
        title.truncate(max(1, width))
        if width < 20 or height < 4 or total <= 0:
            return title
        plot_h = height - 2
        axis_w = 10
        for _ in range(2):  # the axis is as wide as its labels, which depend on the data
            plot_w = width - axis_w
            columns = self._columns(metric, plot_w * 2, total)
            known = [c for c in columns if c is not None]
            if not known:
                return Text.assemble(title, "\n", Text(" no data yet", style="dim"))
            low = min(c[0] for c in known)
            high = max(c[1] for c in known)
            wanted = 1 + max(len(value(unit, low, name)), len(value(unit, high, name)))
            if wanted <= axis_w:
                break
            axis_w = min(wanted, width // 2)
        if high - low < 1e-12:
            high = low + (abs(low) * 0.1 or 1.0)
        key = (metric, plot_w, plot_h, total, index_key(app), low, high)
        if self._grid is None or self._grid[0] != key:
            rows = plot_h * 4
            grid = [[0] * plot_w for _ in range(plot_h)]
            span = high - low

            def dot_row(v: float) -> int:
                return rows - 1 - min(rows - 1, max(0, int((v - low) / span * (rows - 1))))

            for dx, col in enumerate(columns):
                if col is None:
                    continue
                for r in range(dot_row(col[1]), dot_row(col[0]) + 1):
                    grid[r // 4][dx // 2] |= DOT[(dx % 2, r % 4)]
            strings = ["".join(chr(BRAILLE_BASE + b) for b in line) for line in grid]
            self._grid = (key, strings, grid)
        _key, strings, grid = self._grid
        cursor_x = min(plot_w - 1, (app.cursor.seq - 1) * plot_w // total) if app.cursor.seq else -1
        marks = {min(plot_w - 1, (s - 1) * plot_w // total): n for n, s in app.cursor.marks.items()}
        lines = [title]
        for r in range(plot_h):
            if r == 0:
                axis = value(unit, high, name)
            elif r == plot_h - 1:
                axis = value(unit, low, name)
            else:
                axis = ""
            prefix = axis.rjust(axis_w - 1) + "┤" if axis else " " * (axis_w - 1) + "│"
            chars = list(strings[r])
            if 0 <= cursor_x < plot_w and not grid[r][cursor_x]:
                chars[cursor_x] = "│"
            for x in marks:
                if 0 <= x < plot_w and not grid[r][x] and x != cursor_x:
                    chars[x] = "┆"
            line = Text(prefix, "dim")
            line.append("".join(chars), "cyan")
            base = len(prefix)
            for x in marks:
                line.stylize("magenta", base + x, base + x + 1)
            if cursor_x >= 0:
                line.stylize("bold yellow", base + cursor_x, base + cursor_x + 1)
            lines.append(line)
        left, right = "#1", f"#{total}"
        at = f"▲#{app.cursor.seq}" if app.cursor.seq else ""
        footer = [" "] * plot_w
        for i, ch in enumerate(left):
            footer[i] = ch
        for i, ch in enumerate(right):
            footer[plot_w - len(right) + i] = ch
        if cursor_x >= 0 and at:
            start = max(0, min(plot_w - len(at), cursor_x))
            if start > len(left) and start + len(at) < plot_w - len(right):
                for i, ch in enumerate(at):
                    footer[start + i] = ch
        lines.append(Text(" " * axis_w + "".join(footer), "dim"))
        text = Text("\n").join(lines)
        text.no_wrap = True
        return text


def observation_line(obs: Observation, unit: str | None, width: int) -> Text:
    """``1_03 load.cpu_pct obs 71.0% (Δ +6.0 pp) model 65.0% #230``, cut to ``width``.

    The gap is observed − model (the model at the cursor), in the metric's unit
    (percentages in points); the most useful parts come first, so a narrow pane
    loses ``#seq`` and the model's value before the gap.
    """
    name = obs.metric
    line = Text(" ")
    line.append(f"{short_subject(obs.subject)} {name} ", "bold")
    line.append(f"obs {value(unit, obs.observed, name)}")
    if obs.predicted is None:
        line.append(" (no model)", "dim")
    else:
        gap = format_delta(obs.observed - obs.predicted, unit, name=name, compact=True)
        line.append(" (Δ ")
        line.append(gap, "bold yellow" if obs.drift else "green")
        line.append(")")
        line.append(f" model {value(unit, obs.predicted, name)}", "dim")
    line.append(f" #{obs.seq}", "dim")
    line.truncate(max(0, width), overflow="ellipsis", pad=True)
    return line


class ObservedLines(Widget):
    """What the gateways showed (``metric_observed``) beside the model at the cursor."""

    DEFAULT_CSS = """
    ObservedLines { height: auto; width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__(id="metric-observed")
        self._shown: tuple[Observation, ...] = ()  # the last detail's (kept while a seek runs)
        self._fresh = False

    @property
    def twin(self) -> TwinApp:
        from tui.app import TwinApp

        assert isinstance(self.app, TwinApp)
        return self.app

    def rows(self) -> tuple[tuple[Observation, ...], bool]:
        """The observations at or before the cursor, and whether they are the cursor's own
        (else from the last detail, while the seek for the cursor runs: shown dimmed)."""
        app = self.twin
        seq = app.cursor.seq
        detail = app.detail
        if detail is not None and detail.seq == seq:
            return detail.observed, True
        if seq < 1:
            return (), True
        return tuple(o for o in self._shown if o.seq <= seq), False

    def follow(self) -> None:
        """The cursor or the detail moved: take the rows, and lay out again if their number
        changed."""
        rows, fresh = self.rows()
        relayout = self._line_count(rows) != self._line_count(self._shown)
        self._shown, self._fresh = rows, fresh
        self.refresh(layout=relayout)

    @staticmethod
    def _line_count(rows: tuple[Observation, ...]) -> int:
        return min(len(rows), MAX_OBSERVED + 1)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """One line per observation (at most :data:`MAX_OBSERVED`, then one for the rest)."""
        return self._line_count(self._shown)

    def render(self) -> Text:
        """One line per observation, the latest first."""
        rows = self._shown
        width = self.size.width
        units = self.twin.data.units
        shown = rows if len(rows) <= MAX_OBSERVED + 1 else rows[:MAX_OBSERVED]
        lines = [observation_line(o, units.get(o.metric), width) for o in shown]
        if len(shown) < len(rows):
            more = Text(f"+{len(rows) - len(shown)} more observations: twin state", "dim")
            more.truncate(max(0, width), overflow="ellipsis", pad=True)
            lines.append(more)
        text = Text("\n").join(lines)
        text.no_wrap = True
        if not self._fresh:
            text.stylize("dim")
        return text


class MetricsPane(Vertical, can_focus=False):
    """Tiles above, what gateways showed, the plot below."""

    DEFAULT_CSS = """
    MetricsPane { height: 1fr; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        """Tiles, observations and plot."""
        yield MetricTiles()
        yield ObservedLines()
        yield MetricPlot()

    def show(self) -> None:
        """Redraw for the cursor."""
        for child in self.children:
            if isinstance(child, ObservedLines):
                child.follow()
            else:
                child.refresh()
