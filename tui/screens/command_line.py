"""One-line prompts at the bottom: the ``:`` command line and the ``/`` filter.

Bad input keeps the line open with a one-line error under it; ``esc`` closes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

#: Runs what was typed; returns an error message, or None when it was done.
Runner = Callable[[str], "str | None"]

COMMAND_HINT = (
    ":120 event · :@02:14 time · :+30s · :first :last · :mark · :diff [A B] · "
    ":bisect COND · :q · esc closes"
)
FILTER_HINT = (
    "type:link subject:1_03 sev>=warning is:change is:fault words… · enter applies · "
    "empty clears · esc closes"
)


class PromptLine(ModalScreen[None]):
    """A one-line prompt starting with ``prefix``."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", id="prompt.close")]
    DEFAULT_CSS = """
    PromptLine { align: left bottom; background: $background 30%; }
    PromptLine > Vertical { height: auto; width: 100%; background: $panel; }
    PromptLine Input.-error { color: $error; }
    PromptLine #prompt-error { color: $error; padding: 0 1; height: auto; }
    PromptLine #prompt-hint { color: $text-muted; padding: 0 1; height: auto; }
    """

    prefix = ":"
    hint = COMMAND_HINT

    def __init__(self, runner: Runner, initial: str = "") -> None:
        super().__init__()
        self.runner = runner
        self.initial = initial

    def compose(self) -> ComposeResult:
        """The error line, the hint and the input."""
        with Vertical():
            yield Label("", id="prompt-error")
            yield Label(Text(self.hint), id="prompt-hint")
            yield Input(placeholder=self.prefix, id="prompt-input")

    def on_mount(self) -> None:
        """Start with the prefix typed."""
        field = self.query_one(Input)
        field.cursor_blink = False
        field.value = self.prefix + self.initial
        field.cursor_position = len(field.value)
        field.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Clear the error while the user edits."""
        event.input.remove_class("-error")
        self.query_one("#prompt-error", Label).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Run it; keep the line open with an error if it failed."""
        event.stop()
        problem = self.runner(event.value.strip().removeprefix(self.prefix).strip())
        if problem is None:
            if self.is_attached and self.app.screen is self:
                self.dismiss(None)
            return
        event.input.add_class("-error")
        self.query_one("#prompt-error", Label).update(Text(f"✖ {problem}"))

    def action_close(self) -> None:
        """Close without running anything."""
        self.dismiss(None)


class CommandLine(PromptLine):
    """``:120`` goes to event 120, ``:q`` quits, and more (see the hint)."""

    prefix = ":"
    hint = COMMAND_HINT


class FilterLine(PromptLine):
    """``/type:link_failed`` filters the Events list; ``n``/``N`` walk the matches."""

    prefix = "/"
    hint = FILTER_HINT
