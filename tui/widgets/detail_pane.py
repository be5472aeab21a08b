"""Pane 5: the event at the cursor, whole: Event, Changes, Raw (long text wraps, never cut)."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from tui.timeline_data import SEVERITY_GLYPH, Detail
from twin.rules import severity_change_text


def event_text(
    detail: Detail, changes: Mapping[tuple[str, str], list[tuple[int, str, str]]] | None = None
) -> Text:
    """The event's fields as ``label: value`` lines, then what it raised, escalated and
    cleared (``changes``: severity changes of the active findings, see the findings pane)."""
    text = Text()
    width = max(len(label) for label, _ in detail.event)
    for label, shown in detail.event:
        text.append(f"{label:>{width}}: ", "bold")
        text.append(shown + "\n")
    for active in detail.raised:
        f = active.finding
        text.append(f"+ {SEVERITY_GLYPH[f.severity.value]} {f.rule} {f.subject}: {f.message}\n")
    for active in detail.findings:
        f = active.finding
        for at, before, after in (changes or {}).get((f.rule, f.subject), ()):
            if at == detail.seq:
                text.append(
                    f"^ {SEVERITY_GLYPH[f.severity.value]} {f.rule} {f.subject}: "
                    f"{severity_change_text(before, after, at)} (raised at #{active.since})\n"
                )
    for active in detail.cleared:
        f = active.finding
        text.append(f"- ✓ {f.rule} {f.subject} (raised at #{active.since})\n", "green")
    return text


class DetailPane(Vertical):
    """Tabs: Event, Changes, Raw.

    A container that holds a :class:`TabbedContent` (overriding
    ``TabbedContent.compose`` would lose its tab bar).
    """

    def compose(self) -> ComposeResult:
        """One scrolling text per tab."""
        with TabbedContent():
            for tab_id, title in (("event", "Event"), ("changes", "Changes"), ("raw", "Raw")):
                with TabPane(title, id=f"tab-{tab_id}"), VerticalScroll():
                    yield Static("", id=f"detail-{tab_id}", markup=False)

    def show(
        self,
        detail: Detail | None,
        changes: Mapping[tuple[str, str], list[tuple[int, str, str]]] | None = None,
    ) -> None:
        """Fill every tab from ``detail`` (None: nothing at the cursor)."""
        if detail is None:
            for tab in ("event", "changes", "raw"):
                self.query_one(f"#detail-{tab}", Static).update("(before the first event)")
            return
        self.query_one("#detail-event", Static).update(event_text(detail, changes))
        lines = Text()
        for line in detail.changes or ("(no field changed)",):
            lines.append(line + "\n")
        for note in detail.notes:
            lines.append(f"note: {note}\n", "italic")
        self.query_one("#detail-changes", Static).update(lines)
        self.query_one("#detail-raw", Static).update(Text(detail.raw))

    def pending(self, seq: int) -> None:
        """Say the detail is on its way."""
        self.query_one("#detail-event", Static).update(Text(f"#{seq}: computing…", "dim italic"))
