"""One-line prompts at the bottom: the ``:`` command line and the ``/`` filter.

Bad input keeps the line open with a one-line error under it; ``esc`` closes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import events
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


def typable(event: events.Key) -> bool:
    """A key that types into a prompt: a character, backspace or enter."""
    return event.key in ("enter", "backspace") or (
        event.is_printable and event.character is not None
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
        self._early: list[events.Key] = []

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
        early, self._early = self._early, []
        for event in early:
            if self.is_attached and self.app.screen is self:
                self._type(event)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Clear the error while the user edits."""
        event.input.remove_class("-error")
        self.query_one("#prompt-error", Label).update("")

    def on_key(self, event: events.Key) -> None:
        """A key that reaches the screen itself came before the input had focus."""
        if self.focused is None:
            self.take_key(event)

    def take_key(self, event: events.Key) -> None:
        """Type a key meant for this prompt that was delivered elsewhere.

        Opening the prompt and focusing its input take a moment, so ``:238`` +
        enter sent at once (fast typing, a paste, tmux send-keys) would lose
        everything after the ``:``: those keys reach the screen below, or this
        screen before its input has focus. They are typed here, in order.
        """
        if not typable(event):
            return
        event.stop()
        event.prevent_default()
        if not self.is_mounted:
            self._early.append(event)
            return
        self._type(event)

    def _type(self, event: events.Key) -> None:
        field = self.query_one(Input)
        if event.key == "enter":
            self._run(field)
        elif event.key == "backspace":
            if len(field.value) > len(self.prefix):
                field.action_delete_left()
        elif event.character is not None:
            field.insert_text_at_cursor(event.character)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Run it; keep the line open with an error if it failed."""
        event.stop()
        self._run(event.input)

    def _run(self, field: Input) -> None:
        """Run what the input holds; keep the line open with an error if it failed."""
        problem = self.runner(field.value.strip().removeprefix(self.prefix).strip())
        if problem is None:
            if self.is_attached and self.app.screen is self:
                self.dismiss(None)
            return
        field.add_class("-error")
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
