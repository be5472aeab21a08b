"""The one-row status line: mode, source, branch, position, time, event, findings, marks, filter.

Parts are dropped from the least important up when the terminal is narrow;
the position and the finding counts always stay.
"""

from __future__ import annotations

import attrs
from rich.text import Text
from textual.widgets import Static

from tui.formatting import elide, stamp
from tui.timeline_data import EventRow
from tui.widgets.events_list import short_subject

MODE_STYLE = {"REPLAY": "reverse bold", "LIVE": "reverse bold green", "PLAN": "reverse bold yellow"}


@attrs.frozen
class Status:
    """What the status line shows (all plain values; built by the app)."""

    mode: str
    label: str
    branch: str | None
    seq: int
    total: int
    row: EventRow | None
    counts: tuple[int, int, int] | None
    marks: dict[str, int]
    filter: str | None
    matches: int | None
    progress: str | None
    computing: bool
    new_events: int


class StatusLine(Static):
    """Shows a :class:`Status`."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    """

    def show(self, status: Status) -> None:
        """Render ``status`` into the width (least important parts dropped first)."""
        width = max(20, (self.size.width or 120) - 2)
        # (priority: lower stays longer, text)
        parts: list[tuple[int, Text]] = [(0, Text(f" {status.mode} ", MODE_STYLE[status.mode]))]
        parts.append((0, Text(f"#{status.seq}/{status.total}", "bold")))
        if status.counts is not None:
            e, w, i = status.counts
            counts = Text()
            counts.append(f"✖{e}", "bold red" if e else "dim")
            counts.append(" ")
            counts.append(f"⚠{w}", "yellow" if w else "dim")
            counts.append(" ")
            counts.append(f"ℹ{i}", "blue" if i else "dim")
            parts.append((1, counts))
        if status.row is not None:
            parts.append((2, Text(stamp(status.row.when, status.row.occurred_at))))
            what = Text(status.row.type, "cyan")
            what.append(" " + short_subject(status.row.subject))
            parts.append((4, what))
        if status.branch:
            parts.append((3, Text(f"⎇ {status.branch}", "magenta")))
        parts.append((6, Text(status.label, "dim")))
        if status.marks:
            marks = " ".join(f"{k}:#{v}" for k, v in sorted(status.marks.items()))
            parts.append((3, Text(marks, "magenta")))
        if status.filter:
            shown = f"/{status.filter}"
            if status.matches is not None:
                shown += f" ({status.matches:,})"
            parts.append((3, Text(shown, "cyan")))
        if status.new_events:
            parts.append((1, Text(f"▼ {status.new_events:,} new", "bold green")))
        if status.progress:
            parts.append((2, Text(status.progress, "italic yellow")))
        elif status.computing:
            parts.append((5, Text("computing…", "italic dim")))
        kept = list(parts)
        while sum(p.cell_len for _, p in kept) + 2 * (len(kept) - 1) > width and len(kept) > 2:
            worst = max(range(len(kept)), key=lambda k: (kept[k][0], k))
            if kept[worst][0] == 0:
                break
            del kept[worst]
        line = Text("  ").join(p for _, p in kept)
        if line.cell_len > width:
            line = Text(elide(line.plain, width))
        if line != self._shown:
            self._shown = line
            self.update(line, layout=False)  # one row, always: no layout pass per step

    _shown: Text | None = None
