"""Pane 5: the event at the cursor: summary, the reducer's changes, raw envelope."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from tui.timeline_data import Detail
from twin.textsafe import safe_text


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

    def show(self, detail: Detail) -> None:
        """Fill every tab from ``detail``."""
        self.query_one("#detail-event", Static).update(_safe("\n".join(detail.summary)))
        lines = list(detail.changes) or ["(no field changed)"]
        lines += [f"note: {n}" for n in detail.notes]
        self.query_one("#detail-changes", Static).update(_safe("\n".join(lines)))
        self.query_one("#detail-raw", Static).update(_safe(detail.raw))


def _safe(text: str) -> Text:
    """Text from the journal: controls and bidi characters escaped, never markup."""
    return Text(safe_text(text, keep_newlines=True))
