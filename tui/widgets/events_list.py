"""Pane 1: the event list. Its cursor row *is* the timeline cursor, and stays in the middle.

A widget of our own rather than a DataTable: it draws only the rows on
screen, straight from the index and the row cache, so a million events cost
nothing until they are looked at; the cursor row stays centred (like
``zz`` in vim) so the eye does not chase it; rows after the cursor are
dimmed (they are the future).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget

from tui.formatting import clock, delta_t, elide
from tui.timeline_data import RANK_GLYPH, EventRow
from tui.timeline_index import (
    CLEARED,
    FAULT,
    RAISED,
    RECOVERED,
    TOPOLOGY,
    worst_raised,
)

if TYPE_CHECKING:
    from tui.app import TwinApp

RANK_STYLE = {2: "bold red", 1: "yellow", 0: "blue"}
SHORT_KINDS = ("member:", "link:", "orchestrator:", "vs:")


def short_subject(subject: str) -> str:
    """``member:1_03`` → ``1_03``, ``group:1`` → ``group 1`` (the full one is in the detail)."""
    for prefix in SHORT_KINDS:
        if subject.startswith(prefix):
            return subject[len(prefix) :]
    return subject.replace(":", " ", 1)


def flag_cells(flags: int | None) -> Text:
    """The two ⚑ cells: a finding raised (✖ ⚠ ℹ) or cleared (✓); a fault (↓), recovery (↑)
    or other topology change (◇)."""
    if flags is None:
        return Text("  ")
    out = Text()
    rank = worst_raised(flags)
    if flags & RAISED and rank >= 0:
        out.append(RANK_GLYPH[rank], RANK_STYLE[rank])
    elif flags & CLEARED:
        out.append("✓", "green")
    else:
        out.append(" ")
    if flags & FAULT:
        out.append("↓", "bold red")
    elif flags & RECOVERED:
        out.append("↑", "green")
    elif flags & TOPOLOGY:
        out.append("◇", "cyan")
    else:
        out.append(" ")
    return out


class EventsList(Widget, can_focus=True):
    """Every event (or the filter's matches, plus the cursor's own row)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("home", "edge(-1)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "open", "Event detail", show=False),
    ]
    DEFAULT_CSS = """
    EventsList { height: 1fr; width: 1fr; }
    """

    class Open(Message):
        """Enter on the cursor row: show the whole event."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.seen_head: int | None = None  # live mode: events after it are new
        self._bodies: dict[tuple[object, ...], Text] = {}

    @property
    def twin(self) -> TwinApp:
        from tui.app import TwinApp

        assert isinstance(self.app, TwinApp)
        return self.app

    # -- what is listed -----------------------------------------------------------------------

    def _neighbours(self, seq: int, before: int, after: int) -> tuple[list[int], list[int]]:
        """Seqs listed above and below ``seq`` (the filter's matches, or every event)."""
        app = self.twin
        total = app.cursor.total
        matches = app.filter_matches
        if matches is None:
            above = list(range(max(1, seq - before), seq))
            below = list(range(seq + 1, min(total, seq + after) + 1))
            return above, below
        lo = bisect_left(matches, seq)
        hi = bisect_right(matches, seq)
        above = [int(s) for s in matches[max(0, lo - before) : lo]]
        below = [int(s) for s in matches[hi : hi + after]]
        return above, below

    def step_in_view(self, seq: int, delta: int) -> int:
        """The seq ``delta`` rows away from ``seq`` in what is listed."""
        if delta == 0:
            return seq
        above, below = self._neighbours(seq, max(0, -delta), max(0, delta))
        if delta > 0:
            return below[-1] if below else seq
        return above[0] if above else seq

    def edge(self, direction: int) -> int:
        """The first (-1) or last (1) seq listed."""
        matches = self.twin.filter_matches
        if matches is not None and len(matches):
            return int(matches[0] if direction < 0 else matches[-1])
        return 1 if direction < 0 else self.twin.cursor.total

    # -- keys and mouse -----------------------------------------------------------------------

    def action_move(self, delta: int) -> None:
        """Move the cursor ``delta`` listed rows."""
        cursor = self.twin.cursor
        cursor.move(self.step_in_view(cursor.seq, delta))

    def action_page(self, direction: int) -> None:
        """Move a page of rows."""
        self.action_move(direction * max(1, self.size.height - 2))

    def action_edge(self, direction: int) -> None:
        """Home / End: the first or last listed event."""
        self.twin.cursor.move(self.edge(direction), jump=True)

    def action_open(self) -> None:
        """Show the whole event at the cursor."""
        self.post_message(self.Open())

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to that row."""
        body_row = event.y - 1
        middle = self._middle()
        offset = body_row - middle
        if event.y >= 1 and offset:
            self.action_move(offset)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        """The wheel steps."""
        event.stop()
        self.action_move(1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        """The wheel steps back."""
        event.stop()
        self.action_move(-1)

    # -- drawing ------------------------------------------------------------------------------

    def _middle(self) -> int:
        return max(0, (self.size.height - 1 - 1) // 2)

    def render(self) -> Text:
        """The header and the rows around the cursor, cursor row centred."""
        app = self.twin
        width, height = self.size.width, self.size.height
        if width <= 0 or height <= 0:
            return Text()
        seq = app.cursor.seq
        body = height - 1
        middle = self._middle()
        above, below = self._neighbours(seq, middle, body - middle - 1)
        listed = [*above, *([seq] if seq else []), *below]
        rows = {row.seq: row for row in app.data.rows(listed)}
        widths = self._widths(width, rows.values())
        lines = [self._header(widths, width)]
        blank = body - len(listed)
        top_blank = middle - len(above) if seq else 0
        for i in range(max(0, top_blank)):
            lines.append(self._edge_line(width, "start of journal" if i == top_blank - 1 else ""))
        for s in listed:
            row = rows.get(s)
            lines.append(self._line(s, row, widths, width, seq))
        bottom_blank = blank - max(0, top_blank)
        for i in range(max(0, bottom_blank)):
            end_text = "end of journal" + (" · following" if app.following else "")
            lines.append(self._edge_line(width, end_text if i == 0 else ""))
        text = Text("\n").join(lines[:height])
        text.no_wrap = True
        text.overflow = "crop"
        return text

    def _widths(self, width: int, rows: object) -> dict[str, int]:
        app = self.twin
        visible = list(rows)  # type: ignore[call-overload]
        dated = app.data.crosses_midnight()
        seq_w = max(2, len(str(max(app.cursor.total, 1))))
        time_w = 14 if dated else 8
        dt_w = max([3, *(len(self._dt(r)) for r in visible)])
        type_w = max([4, *(len(r.type) for r in visible)])
        subject_w = max([7, *(len(short_subject(r.subject)) for r in visible)])
        fixed = 1 + seq_w + 1 + time_w + 1 + dt_w + 1 + 2 + 1 + 1 + 1  # gutter, gaps, ⚑
        room = width - fixed
        data_min = 8
        if type_w + subject_w + data_min > room:
            spare = max(0, room - data_min)
            type_w, subject_w = _share(type_w, subject_w, spare)
        data_w = max(0, room - type_w - subject_w)
        return {
            "seq": seq_w,
            "time": time_w,
            "dt": dt_w,
            "type": type_w,
            "subject": subject_w,
            "data": data_w,
            "dated": int(dated),
        }

    def _dt(self, row: EventRow) -> str:
        if row.seq <= 1 or row.when is None:
            return ""
        previous = self.twin.data.row(row.seq - 1)
        if previous is None or previous.when is None:
            return ""
        return delta_t((row.when - previous.when).total_seconds())

    def _header(self, w: dict[str, int], width: int) -> Text:
        parts = [
            " ",
            "#".rjust(w["seq"]),
            " ",
            "time".ljust(w["time"]),
            " ",
            "Δt".rjust(w["dt"]),
            " ",
            elide("type", w["type"]).ljust(w["type"]),
            " ",
            elide("subject", w["subject"]).ljust(w["subject"]),
            " ",
            "⚑ ",
            " ",
            elide("data", w["data"]),
        ]
        line = Text("".join(parts), style="bold")
        line.truncate(width, pad=True)
        return line

    def _edge_line(self, width: int, label: str) -> Text:
        if not label:
            return Text(" " * width)
        line = Text(f" ── {label} ", style="dim italic")
        line.truncate(width, pad=True)
        return line

    def _line(
        self, s: int, row: EventRow | None, w: dict[str, int], width: int, cursor: int
    ) -> Text:
        app = self.twin
        marks = app.cursor.marks
        gutter = " "
        gutter_style = ""
        if s == cursor:
            gutter, gutter_style = "▶", "bold"
        elif marks.get("A") == s:
            gutter, gutter_style = "A", "bold magenta"
        elif marks.get("B") == s:
            gutter, gutter_style = "B", "bold magenta"
        elif self.seen_head is not None and s > self.seen_head:
            gutter, gutter_style = "•", "bold green"
        elif s in app.bookmark_seqs:
            gutter, gutter_style = "★", "yellow"
        line = Text(gutter, gutter_style)
        line.append_text(self._body(s, row, w, width))
        if s == cursor:
            line.stylize(Style(reverse=True, bold=True))
        elif s > cursor:
            line.stylize("dim")
        return line

    def _body(self, s: int, row: EventRow | None, w: dict[str, int], width: int) -> Text:
        """The row without the gutter and the cursor's styles (kept: rows repeat as you step)."""
        flags = self.twin.data.index.flag(s)
        key = (s, row is not None, flags, width, *w.values())
        cached = self._bodies.get(key)
        if cached is not None:
            return cached
        line = Text(str(s).rjust(w["seq"]) + " ")
        if row is None:
            line.append("…".ljust(w["time"]))
        else:
            line.append(clock(row.when, row.occurred_at, dated=bool(w["dated"])).ljust(w["time"]))
            line.append(" " + self._dt(row).rjust(w["dt"]) + " ")
            line.append(elide(row.type, w["type"]).ljust(w["type"]), "cyan")
            line.append(" " + elide(short_subject(row.subject), w["subject"]).ljust(w["subject"]))
            line.append(" ")
            line.append_text(flag_cells(flags))
            line.append(" ")
            line.append(elide(row.summary, w["data"]), "dim")
        line.truncate(width - 1, pad=True)
        if len(self._bodies) > 2000:
            self._bodies.clear()
        self._bodies[key] = line
        return line


def _share(a: int, b: int, room: int) -> tuple[int, int]:
    """Shrink two column widths to fit ``room`` (each keeps at least 6 cells)."""
    if a + b <= room:
        return a, b
    a2 = max(6, room * a // max(1, a + b))
    b2 = max(6, room - a2)
    return min(a, a2), min(b, b2)
