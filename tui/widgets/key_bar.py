"""The bottom row: the most useful keys that fit, always ending with help and quit.

Textual's Footer lists every shown binding and cuts the row at the screen's
edge, so at 80 columns ``Quit`` fell off. This bar drops the least useful
hints first instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

#: (key, what) in order of usefulness; ``? help`` and ``q quit`` always end the row.
REPLAY_KEYS: tuple[tuple[str, str], ...] = (
    ("]", "step"),
    ("[", "back"),
    ("}", "change"),
    ("/", "find"),
    (":", "cmd"),
    ("w", "why"),
    ("m", "mark"),
    ("d", "diff"),
    ("b", "bisect"),
    ("1-5", "pane"),
    ("{", "prev change"),
    ("n", "next match"),
    ("^p", "palette"),
)
ALWAYS: tuple[tuple[str, str], ...] = (("?", "help"), ("q", "quit"))


class KeyBar(Widget):
    """One row of key hints."""

    DEFAULT_CSS = """
    KeyBar { height: 1; background: $panel; color: $text-muted; }
    """

    def __init__(self, keys: Sequence[tuple[str, str]] = REPLAY_KEYS, *, id: str | None = None):
        super().__init__(id=id)
        self.keys = tuple(keys)

    def render(self) -> Text:
        """As many hints as fit, then help and quit."""
        width = self.size.width
        tail = _hints(ALWAYS)
        chosen: list[tuple[str, str]] = []
        for item in self.keys:
            trial = _hints((*chosen, item))
            if trial.cell_len + 2 + tail.cell_len > width:
                break
            chosen.append(item)
        line = _hints(chosen)
        gap = max(2, width - line.cell_len - tail.cell_len)
        line.append(" " * gap)
        line.append_text(tail)
        line.truncate(width)
        return line


def _hints(items: Sequence[tuple[str, str]]) -> Text:
    text = Text()
    for i, (key, what) in enumerate(items):
        if i:
            text.append("  ")
        text.append(f" {key} ", "bold reverse")
        text.append(f" {what}")
    return text
