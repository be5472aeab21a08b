"""The ``:`` command line: a one-line modal input with inline errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from twin.textsafe import safe_text

#: Runs a command; returns an error message, or None when it was done.
Runner = Callable[[str], "str | None"]


class CommandLine(ModalScreen[None]):
    """``:120`` goes to event 120, ``:q`` quits; bad input keeps the line open with an error."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="command.close")
    ]
    DEFAULT_CSS = """
    CommandLine { align: left bottom; background: $background 30%; }
    CommandLine > Vertical { height: auto; width: 100%; background: $panel; }
    CommandLine Input.-error { color: $error; }
    CommandLine #command-error { color: $error; padding: 0 1; height: auto; }
    CommandLine #command-hint { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, runner: Runner) -> None:
        super().__init__()
        self.runner = runner

    def compose(self) -> ComposeResult:
        """The input and its error line."""
        with Vertical():
            yield Label("", id="command-error")
            yield Label(
                ":120 go to event · :first · :last · :q quit · esc closes", id="command-hint"
            )
            yield Input(placeholder=":120", id="command-input")

    def on_mount(self) -> None:
        """Start with ``:`` typed."""
        field = self.query_one(Input)
        field.cursor_blink = False
        field.value = ":"
        field.cursor_position = 1
        field.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Clear the error while the user edits."""
        event.input.remove_class("-error")
        self.query_one("#command-error", Label).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Run the command; keep the line open with an error if it failed."""
        event.stop()
        problem = self.runner(event.value.strip().removeprefix(":").strip())
        if problem is None:
            if self.is_attached and self.app.screen is self:
                self.dismiss(None)
            return
        event.input.add_class("-error")
        self.query_one("#command-error", Label).update(Text(f"✖ {safe_text(problem)}"))

    def action_close(self) -> None:
        """Close without running anything."""
        self.dismiss(None)
