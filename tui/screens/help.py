"""The ``?`` help screen: every binding of the app and the timeline, grouped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {
    "right_square_bracket": "]",
    "left_square_bracket": "[",
    "right_curly_bracket": "}",
    "left_curly_bracket": "{",
    "question_mark": "?",
    "colon": ":",
    "minus": "-",
    "escape": "esc",
}


def key_label(binding: Binding) -> str:
    """How a binding's keys look to people (``]``, ``g``, ``1``)."""
    if binding.key_display:
        return binding.key_display
    return ",".join(KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(","))


def _lines(title: str, bindings: Iterable[BindingType]) -> list[str]:
    lines = [f"[b]{title}[/b]"]
    for item in bindings:
        if isinstance(item, Binding):
            # Pad, then escape every "[" (rich's escape leaves a lone "[" alone, and
            # next to the closing tag it would read as "[[/]").
            label = f"{key_label(item):>8}".replace("[", "\\[")
            lines.append(f"  [b cyan]{label}[/]  {escape(item.description)}")
    return lines


class HelpScreen(ModalScreen[None]):
    """Lists every binding; ``esc`` (or ``?``, ``q``) closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close help", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 64; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    """

    def __init__(self, groups: Sequence[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.groups = groups

    def compose(self) -> ComposeResult:
        """The binding list."""
        lines: list[str] = []
        for title, bindings in self.groups:
            lines += [*_lines(title, bindings), ""]
        lines += [
            "[b]Command line[/b]",
            "  [b cyan]    :120[/]  go to event 120 (also :first, :last)",
            "  [b cyan]      :q[/]  quit",
            "",
            "[b]In the focused pane[/b]",
            "  [b cyan]   ↑ ↓ ⏎[/]  move / activate (in Events: moves the cursor)",
            "  [b cyan]  ctrl+p[/]  command palette",
            "  [b cyan]  ctrl+q[/]  quit",
            "",
            "[dim]esc closes this help[/]",
        ]
        with VerticalScroll() as scroll:
            scroll.border_title = "Help — keys"
            yield Static("\n".join(lines), id="help-text")

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
