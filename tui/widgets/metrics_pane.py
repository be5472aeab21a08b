"""Pane 3: the headline metrics as tiles, and a plot of the chosen one over the whole journal.

A tile: label, value at the cursor in its unit, the change against the
previous event (``=`` unchanged, ``≈`` below the shown precision), a
sparkline of the events up to the cursor and the sparkline's own scale
(``min–max``). ↑/↓ choose a tile; the plot below shows that metric; ``w``
jumps to the last event that changed it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget

from tui.formatting import delta, value
from tui.timeline_data import HEADLINE
from twin.units import format_band

if TYPE_CHECKING:
    from tui.app import TwinApp

SPARK = "▁▂▃▄▅▆▇█"
SPAN = 600  # events of history in a tile's sparkline
BRAILLE_BASE = 0x2800
# dot bits of a braille cell: (column, row from the top) → bit
DOT = {(0, 0): 0x01, (0, 1): 0x02, (0, 2): 0x04, (0, 3): 0x40,
       (1, 0): 0x08, (1, 1): 0x10, (1, 2): 0x20, (1, 3): 0x80}  # fmt: skip


def sparkline(values: list[float], width: int) -> tuple[str, float, float] | None:
    """``width`` bar characters for ``values`` (max per stretch), with the min and max shown."""
    if not values or width <= 0:
        return None
    n = len(values)
    cells = []
    for x in range(min(width, n)):
        lo = x * n // min(width, n)
        hi = max(lo + 1, (x + 1) * n // min(width, n))
        cells.append(max(values[lo:hi]))
    low, high = min(cells), max(cells)
    span = high - low
    chars = "".join(SPARK[0 if span <= 0 else min(7, int((v - low) / span * 7.999))] for v in cells)
    return chars, min(values), max(values)


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
        for i, (name, label) in enumerate(HEADLINE):
            unit = app.data.units.get(name)
            now, before = self.values_at(i, seq)
            shown = value(unit, now, name)
            change, direction = delta(unit, now, before, name)
            history = [
                v for v in app.data.index.history(i, max(1, seq - SPAN + 1), seq) if v is not None
            ]
            line = Text()
            line.append("▸" if i == self.selected else " ", "bold")
            line.append(f"{label:<10} ", "bold" if i == self.selected else "")
            line.append(f"{shown:>10} ")
            line.append(
                f"{change:<8} ",
                "green" if direction > 0 else "red" if direction < 0 else "dim",
            )
            room = width - line.cell_len
            drawn = sparkline(history, max(0, room))
            if drawn is None:
                line.append("no data" if not history else "", "dim")
            else:
                _chars, low, high = drawn
                scale = (
                    f" {value(unit, low, name)}"
                    if low == high
                    else f" {format_band(low, high, unit, name=name, compact=True)}"
                )
                spark_w = room - len(scale) if room - len(scale) >= 6 else room
                chars = sparkline(history, spark_w)
                if chars is not None:
                    bars = chars[0] if low != high else "─" * len(chars[0])
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


class MetricPlot(Widget):
    """The selected headline metric over every evaluated event; the cursor as a vertical line."""

    DEFAULT_CSS = """
    MetricPlot { height: 1fr; min-height: 4; width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__(id="metric-plot")
        self._cache: tuple[tuple[int, int, int, int], list[tuple[float, float] | None]] | None = (
            None
        )

    @property
    def twin(self) -> TwinApp:
        from tui.app import TwinApp

        assert isinstance(self.app, TwinApp)
        return self.app

    def _columns(self, metric: int, dots: int, total: int) -> list[tuple[float, float] | None]:
        index = self.twin.data.index
        key = (metric, dots, total, index.evaluated)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        column = index.metrics[metric]
        evaluated = len(column)
        out: list[tuple[float, float] | None] = []
        for lo, hi in index.buckets(dots, total):
            top = min(hi, evaluated)
            if hi < lo or lo > top:
                out.append(None)
                continue
            chunk = [v for v in column[lo - 1 : top] if not math.isnan(v)]
            out.append((min(chunk), max(chunk)) if chunk else None)
        self._cache = (key, out)
        return out

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
        rows = plot_h * 4
        grid = [[0] * plot_w for _ in range(plot_h)]

        def dot_row(v: float) -> int:
            return rows - 1 - min(rows - 1, max(0, int((v - low) / (high - low) * (rows - 1))))

        for dx, col in enumerate(columns):
            if col is None:
                continue
            top, bottom = dot_row(col[1]), dot_row(col[0])
            for r in range(top, bottom + 1):
                cell = grid[r // 4]
                cell[dx // 2] |= DOT[(dx % 2, r % 4)]
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
            line = Text(axis.rjust(axis_w - 1) + "┤" if axis else " " * (axis_w - 1) + "│", "dim")
            for x in range(plot_w):
                bits = grid[r][x]
                if x == cursor_x:
                    line.append(chr(BRAILLE_BASE + bits) if bits else "│", "bold yellow")
                elif x in marks:
                    line.append(chr(BRAILLE_BASE + bits) if bits else "┆", "magenta")
                else:
                    line.append(chr(BRAILLE_BASE + bits), "cyan")
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


class MetricsPane(Vertical, can_focus=False):
    """Tiles above, the plot below."""

    DEFAULT_CSS = """
    MetricsPane { height: 1fr; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        """Tiles and plot."""
        yield MetricTiles()
        yield MetricPlot()

    def show(self) -> None:
        """Redraw for the cursor."""
        for child in self.children:
            child.refresh()
