"""Pane 4: the findings active at the cursor (severity glyph, rule, subject, since, message)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui.timeline_data import SEVERITY_GLYPH
from twin.rules import ActiveFinding
from twin.textsafe import safe_text

STYLE = {"error": "bold red", "warning": "yellow", "info": "blue"}


class FindingsTable(DataTable[str | Text]):
    """Active findings, most severe first."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row")
        self._shown: tuple[ActiveFinding, ...] | None = None

    def on_mount(self) -> None:
        """Create the columns."""
        for label, width in (("", 1), ("rule", 22), ("subject", 12), ("since", 5), ("message", 90)):
            self.add_column(label, width=width, key=label or "sev")

    def show(self, findings: tuple[ActiveFinding, ...]) -> None:
        """Show ``findings`` (unchanged tuples are not redrawn)."""
        if findings is self._shown:
            return
        self._shown = findings
        self.clear()
        for active in findings:
            f = active.finding
            sev = f.severity.value
            self.add_row(
                Text(SEVERITY_GLYPH[sev], style=STYLE[sev]),
                Text(safe_text(f.rule)),
                Text(safe_text(f.subject)),
                f"#{active.since}",
                Text(safe_text(f.message)),
            )
