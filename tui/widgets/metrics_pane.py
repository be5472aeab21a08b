"""Pane 3: system metric tiles (value, Δ against the previous event, sparkline)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Sparkline

from tui.timeline_data import HEADLINE, Row

#: Events of history drawn in each sparkline (up to the cursor).
SPAN = 600


def _delta(now: float | None, before: float | None, fmt: str) -> str:
    if now is None or before is None:
        return "   "
    diff = now - before
    if abs(diff) < 1e-9:
        return "="
    arrow = "▲" if diff > 0 else "▼"
    return f"{arrow}{fmt.format(abs(diff))}"


class MetricTile(Horizontal):
    """One metric: label, value at the cursor, Δ, and a sparkline."""

    DEFAULT_CSS = """
    MetricTile { height: 1; }
    MetricTile .name { width: 11; color: $text-muted; }
    MetricTile .value { width: 7; text-align: right; }
    MetricTile .delta { width: 8; padding-left: 1; }
    MetricTile Sparkline { width: 1fr; min-width: 4; height: 1; }
    """

    def __init__(self, name: str, label: str, fmt: str) -> None:
        super().__init__(id=f"tile-{name.replace('.', '-')}")
        self.metric = name
        self.label_text = label
        self.fmt = fmt

    def compose(self) -> ComposeResult:
        """Label, value, delta, sparkline."""
        yield Label(self.label_text, classes="name")
        yield Label("–", classes="value")
        yield Label("", classes="delta")
        yield Sparkline([], summary_function=max)

    def show(self, history: Sequence[float | None]) -> None:
        """Show the value at the end of ``history`` (the cursor) and its trend."""
        now = history[-1] if history else None
        before = history[-2] if len(history) > 1 else None
        self.query_one(".value", Label).update("–" if now is None else self.fmt.format(now))
        self.query_one(".delta", Label).update(_delta(now, before, self.fmt))
        self.query_one(Sparkline).data = [v for v in history if v is not None]


class MetricsPane(VerticalScroll):
    """The headline system metrics at the cursor."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: Sequence[Row] = ()

    def compose(self) -> ComposeResult:
        """A tile per headline metric."""
        for name, label, fmt in HEADLINE:
            yield MetricTile(name, label, fmt)

    def load(self, rows: Sequence[Row]) -> None:
        """Use ``rows`` as the history."""
        self._rows = rows

    def show(self, seq: int) -> None:
        """Show every tile at event ``seq``."""
        window = self._rows[max(0, seq - SPAN) : seq]
        for index, tile in enumerate(self.query(MetricTile)):
            tile.show([row.metrics[index] for row in window])
