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
from twin.rules import ActiveFinding, severity_change_text

SeverityChanges = dict[tuple[str, str], list[tuple[int, str, str]]]
"""(rule, subject) → ``(seq, before, after)`` for each severity change of an active finding."""

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
        self._changes: SeverityChanges = {}

    def compose(self) -> ComposeResult:
        """Table, then the highlighted finding's text."""
        yield FindingsTable()
        yield Static("", id="finding-text", markup=False)

    @property
    def table(self) -> FindingsTable:
        """The table."""
        return self.query_one(FindingsTable)

    def show(
        self,
        findings: tuple[ActiveFinding, ...],
        cleared: tuple[ActiveFinding, ...] = (),
        changes: SeverityChanges | None = None,
    ) -> None:
        """Show ``findings`` and, dimmed, the ones ``cleared`` at this event.

        ``changes``: the severity changes of the active findings so far (escalations
        keep ``since``); the since column marks them ``↑``/``↓``, the text under the
        table says ``warning→error at #N``.
        """
        width = self.table.size.width or self.size.width or 80
        changes = changes or {}
        key = (findings, cleared, width, tuple(sorted(changes.items())))
        if key == self._key:
            return
        self._key = key
        self._findings, self._cleared, self._changes = findings, cleared, changes
        table = self.table
        row = table.cursor_row
        table.clear(columns=True)
        items = [(a, False) for a in findings] + [(a, True) for a in cleared]
        rule_w = max([4, *(len(a.finding.rule) for a, _ in items)])
        subject_w = max([7, *(len(a.finding.subject) for a, _ in items)])
        since_w = max([5, *(len(self._since(a, c)) for a, c in items)])
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
                Text(self._since(active, was_cleared), style),
                Text(elide(printable(f.message), max(8, room)), style or ""),
            )
        if items:
            table.move_cursor(row=min(row, len(items) - 1), animate=False)
        self._show_text()

    def on_resize(self) -> None:
        """Re-fit the columns."""
        self._key = None
        self.show(self._findings, self._cleared, self._changes)

    def _since(self, active: ActiveFinding, was_cleared: bool) -> str:
        """``#12``, or ``#12↑`` for an active finding whose severity rose since (``↓``: fell)."""
        found = None if was_cleared else self._changes.get(_key(active))
        if not found:
            return f"#{active.since}"
        _at, before, after = found[-1]
        return f"#{active.since}{'↑' if _RANK[after] > _RANK[before] else '↓'}"

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
        when = f"{verb} #{active.since}"
        if not was_cleared:
            for at, before, after in self._changes.get(_key(active), [])[-3:]:
                when += f"; {severity_change_text(before, after, at)}"
        self._text(Text(printable(f"{f.rule} on {f.subject} ({when}): {f.message}")))

    def _text(self, line: Text) -> None:
        if line != self._last_text:
            self._last_text = line
            self.query_one("#finding-text", Static).update(line)

    _last_text: Text | None = None


_RANK = {"info": 0, "warning": 1, "error": 2}


def _key(active: ActiveFinding) -> tuple[str, str]:
    return (active.finding.rule, active.finding.subject)


def severity_changes(
    index: object, findings: tuple[ActiveFinding, ...], seq: int
) -> SeverityChanges:
    """The severity changes of ``findings`` up to ``seq``, from the TUI's timeline index."""
    lookup = getattr(index, "severity_changes_of", None)
    if lookup is None or not getattr(index, "severity_changes", None):
        return {}
    out: SeverityChanges = {}
    for active in findings:
        found = lookup(active.finding.rule, active.finding.subject, active.since, seq)
        if found:
            out[_key(active)] = found
    return out
