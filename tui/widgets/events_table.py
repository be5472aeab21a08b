"""Pane 1: the event list. Its highlighted row *is* the timeline cursor."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from tui.timeline_data import Row
from twin.textsafe import safe_text

#: Journals longer than this are shown as a window of rows around the cursor.
WINDOW = 4000


def _dt(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"+{seconds:.0f}s"
    if seconds < 3600:
        return f"+{seconds / 60:.0f}m"
    return f"+{seconds / 3600:.0f}h"


def _time(occurred_at: str) -> str:
    _, _, clock = occurred_at.partition("T")
    return (clock or occurred_at)[:8]


class EventsTable(DataTable[str | Text]):
    """Every event (or a window of them): #, time, Δt, type, subject, ⚑.

    The screen moves the row with :meth:`show`; a row the user highlights is
    reported through :meth:`seq_at` and the ``RowHighlighted`` message.
    """

    DEFAULT_CSS = """
    EventsTable {
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._rows: Sequence[Row] = ()
        self._start = 1  # seq of the first row in the widget
        self._count = 0

    def on_mount(self) -> None:
        """Create the columns."""
        for label, width in (("#", 4), ("time", 8), ("Δt", 4), ("type", 17), ("subject", 7)):
            self.add_column(label, width=width, key=label)
        self.add_column("⚑", width=2, key="flag")

    def load(self, rows: Sequence[Row]) -> None:
        """Use ``rows`` (all events; the widget shows a window of them if many)."""
        self._rows = rows
        self._count = 0
        self.clear()

    def _fill(self, seq: int) -> None:
        total = len(self._rows)
        start = max(1, min(seq - WINDOW // 2, total - WINDOW + 1))
        stop = min(total, start + WINDOW - 1)
        self.clear()
        for row in self._rows[start - 1 : stop]:
            flag = Text(row.flag, style="bold red" if "✖" in row.flag else "yellow")
            subject = row.subject.split(":", 1)[-1] if row.subject != "system" else "system"
            self.add_row(
                str(row.seq),
                _time(row.occurred_at),
                _dt(row.dt),
                Text(safe_text(row.type)),
                Text(safe_text(subject)),
                flag,
                key=str(row.seq),
            )
        self._start, self._count = start, stop - start + 1

    def seq_at(self, row_index: int) -> int:
        """The seq shown on row ``row_index``."""
        return self._start + row_index

    def show(self, seq: int) -> None:
        """Put the cursor row on ``seq`` without reporting it back (no loops)."""
        if not self._rows or seq < 1:
            return
        with self.prevent(DataTable.RowHighlighted):
            if not self._start <= seq < self._start + self._count:
                self._fill(seq)
            self.move_cursor(row=seq - self._start, animate=False)
