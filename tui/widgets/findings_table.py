"""Pane 4: the findings active at the cursor, and those it just cleared (dimmed).

Columns are sized to their content; the message takes the rest and ends in
``…`` when cut; the highlighted finding's whole message is shown under the
table. Enter (or ``w``) jumps to the event that raised it.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from tui.formatting import elide, printable
from tui.timeline_data import SEVERITY_GLYPH
from twin.rules import ActiveFinding

STYLE = {"error": "bold red", "warning": "yellow", "info": "blue"}


class FindingsTable(DataTable[Text]):
    """The rows; :attr:`shown` holds the findings in row order."""

    def __init__(self) -> None:
        super().__init__(id="findings-table", cursor_type="row", zebra_stripes=False)
        self.shown: list[tuple[ActiveFinding, bool]] = []  # (finding, cleared here)

    def selected(self) -> ActiveFinding | None:
        """The highlighted finding."""
        if not self.shown or not 0 <= self.cursor_row < len(self.shown):
            return None
        return self.shown[self.cursor_row][0]


class FindingsPane(Vertical):
    """The findings table and the full text of the highlighted one."""

    DEFAULT_CSS = """
    FindingsPane FindingsTable { height: 1fr; }
    FindingsPane #finding-text { height: auto; max-height: 4; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._key: tuple[object, ...] | None = None
        self._findings: tuple[ActiveFinding, ...] = ()
        self._cleared: tuple[ActiveFinding, ...] = ()

    def compose(self) -> ComposeResult:
        """Table, then the highlighted finding's text."""
        yield FindingsTable()
        yield Static("", id="finding-text", markup=False)

    @property
    def table(self) -> FindingsTable:
        """The table."""
        return self.query_one(FindingsTable)

    def show(
        self, findings: tuple[ActiveFinding, ...], cleared: tuple[ActiveFinding, ...] = ()
    ) -> None:
        """Show ``findings`` and, dimmed, the ones ``cleared`` at this event."""
        width = self.table.size.width or self.size.width or 80
        key = (findings, cleared, width)
        if key == self._key:
            return
        self._key = key
        self._findings, self._cleared = findings, cleared
        table = self.table
        row = table.cursor_row
        table.clear(columns=True)
        items = [(a, False) for a in findings] + [(a, True) for a in cleared]
        rule_w = max([4, *(len(a.finding.rule) for a, _ in items)])
        subject_w = max([7, *(len(a.finding.subject) for a, _ in items)])
        since_w = max([5, *(len(f"#{a.since}") for a, _ in items)])
        fixed = 1 + rule_w + subject_w + since_w + 4 * 2 + 2
        room = width - fixed
        if room < 16:  # narrow: give the message room, cut the others
            rule_w = min(rule_w, 18)
            subject_w = min(subject_w, 10)
            room = max(12, width - (1 + rule_w + subject_w + since_w + 10))
        table.add_column("", width=1, key="sev")
        table.add_column("rule", width=rule_w, key="rule")
        table.add_column("subject", width=subject_w, key="subject")
        table.add_column("since", width=since_w, key="since")
        table.add_column("message", width=max(8, room), key="message")
        table.shown = items
        for active, was_cleared in items:
            f = active.finding
            sev = f.severity.value
            style = "dim" if was_cleared else ""
            table.add_row(
                Text(
                    "✓" if was_cleared else SEVERITY_GLYPH[sev],
                    "green" if was_cleared else STYLE[sev],
                ),
                Text(elide(printable(f.rule), rule_w), style),
                Text(elide(printable(f.subject), subject_w), style),
                Text(f"#{active.since}", style),
                Text(elide(printable(f.message), max(8, room)), style or ""),
            )
        if items:
            table.move_cursor(row=min(row, len(items) - 1), animate=False)
        self._show_text()

    def on_resize(self) -> None:
        """Re-fit the columns."""
        self._key = None
        self.show(self._findings, self._cleared)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The full message of the highlighted finding."""
        self._show_text()

    def _show_text(self) -> None:
        table = self.table
        chosen = table.shown[table.cursor_row] if 0 <= table.cursor_row < len(table.shown) else None
        if chosen is None:
            self._text(Text("no findings active" if not table.shown else ""))
            return
        active, was_cleared = chosen
        f = active.finding
        verb = "cleared here; raised at" if was_cleared else "since"
        self._text(
            Text(printable(f"{f.rule} on {f.subject} ({verb} #{active.since}): {f.message}"))
        )

    def _text(self, line: Text) -> None:
        if line != self._last_text:
            self._last_text = line
            self.query_one("#finding-text", Static).update(line)

    _last_text: Text | None = None
