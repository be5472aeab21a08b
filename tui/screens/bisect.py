"""The Bisect screen: the first event at which a condition holds, with ``twin bisect``'s own code.

The condition is a rule (``convergence.cpu-overload [member:1_03]``: a finding
of that rule is active) or a metric comparison (``members.active < 12``,
``load.cpu_pct@member:1_03 > 80``), parsed and searched by :mod:`twin.bisect`
exactly as ``twin bisect`` does. The range is mark A (or the start) to mark B
(or the cursor). Each probe is listed as it is made ("#215 holds, 3 steps
left"); at the end the cursor lands on the first holding event and the
Detail pane shows what it changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui.background import BisectJob
from tui.formatting import printable
from tui.timeline_data import TimelineData
from twin.bisect import BisectResult, Condition, Probe, parse_when, rule_condition
from twin.engine import CRASHED, UNKNOWN_TYPE
from twin.errors import TwinInputError
from twin.units import format_value

if TYPE_CHECKING:
    from tui.app import TwinApp

OPERATORS = (">=", "<=", "==", "!=", ">", "<")
HINT = (
    "a rule (convergence.cpu-overload [member:1_03]) or METRIC[@SUBJECT] OP VALUE "
    "(members.active < 12) · enter runs · esc closes"
)


def parse_condition(text: str, data: TimelineData) -> Condition:
    """A rule or metric condition from what was typed, as ``twin bisect`` builds it.

    Raises:
        TwinInputError: bad syntax, or an unknown rule or metric (with the closest name).
    """
    text = text.strip()
    if not text:
        raise TwinInputError("type a rule id or METRIC OP VALUE", field="condition")
    if any(op in text for op in OPERATORS):
        units = data.units
        return parse_when(
            text, units, fmt=lambda name, value: format_value(value, units.get(name), name=name)
        )
    words = text.removeprefix("rule ").split()
    if len(words) > 2:
        raise TwinInputError("a rule condition is RULE [SUBJECT]", field="condition", value=text)
    rules = {f for r in data.manager.rules() for f in r.rule.raises}
    return rule_condition(
        words[0], words[1] if len(words) > 1 else None, [*rules, CRASHED, UNKNOWN_TYPE]
    )


class BisectScreen(ModalScreen[None]):
    """Collects a condition, runs the bisection in a thread, lists the probes, lands."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="bisect.close"),
    ]
    DEFAULT_CSS = """
    BisectScreen { align: center middle; background: $background 40%; }
    BisectScreen > Vertical {
        width: 90%; max-width: 110; height: 80%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    BisectScreen #bisect-hint, BisectScreen #bisect-range { color: $text-muted; height: auto; }
    BisectScreen #bisect-error { color: $error; height: auto; }
    BisectScreen VerticalScroll { height: 1fr; }
    """

    def __init__(self, data: TimelineData, condition: str | None = None) -> None:
        super().__init__()
        self.data = data
        self.initial = condition or ""
        self.result: BisectResult | None = None
        self.probes: list[tuple[Probe, int]] = []
        self._job: BisectJob | None = None
        self.start = 0
        self.stop = 0

    @property
    def twin(self) -> TwinApp:
        """The app, typed."""
        return cast("TwinApp", self.app)

    def compose(self) -> ComposeResult:
        """Hint, range, input, error, the probes."""
        with Vertical() as box:
            box.border_title = "Bisect: the first event where it holds"
            yield Label(Text(HINT), id="bisect-hint")
            yield Label("", id="bisect-range")
            yield Input(placeholder="convergence.cpu-overload", id="bisect-input")
            yield Label("", id="bisect-error")
            with VerticalScroll():
                yield Static("", id="bisect-log")

    def on_mount(self) -> None:
        """Pre-fill the condition and the range (mark A or the start → mark B or the cursor)."""
        cursor = self.twin.cursor
        marks = cursor.marks
        if "A" in marks and "B" in marks:
            self.start, self.stop = sorted((marks["A"], marks["B"]))
        else:
            self.start, self.stop = marks.get("A", 0), cursor.seq or cursor.total
            if self.start > self.stop:
                self.start = 0
        where = "mark A" if "A" in marks else "the start"
        until = "mark B" if "B" in marks else "the cursor"
        self.query_one("#bisect-range", Label).update(
            Text(f"range: #{self.start} ({where}) → #{self.stop} ({until})")
        )
        field = self.query_one(Input)
        field.cursor_blink = False
        field.value = self.initial or self.twin.bisect_suggestion()
        field.cursor_position = len(field.value)
        field.focus()

    def on_input_changed(self, _event: Input.Changed) -> None:
        """Clear the error while the user edits."""
        self.query_one("#bisect-error", Label).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Parse the condition and start (or say what is wrong)."""
        event.stop()
        if self.result is not None:  # after a run, enter closes and shows the event
            self.action_close()
            return
        try:
            condition = parse_condition(event.value, self.data)
        except TwinInputError as exc:
            self.query_one("#bisect-error", Label).update(Text(f"✖ {exc.one_line()}"))
            return
        if self._job is not None:
            self._job.stop()
        self.probes.clear()
        self.query_one("#bisect-log", Static).update(Text(f"bisecting: {condition.text} …"))
        self._job = BisectJob(self.data, self.twin._post, condition, self.start, self.stop)
        self._job.start()

    def on_unmount(self) -> None:
        """Stop a bisection still running."""
        if self._job is not None:
            self._job.stop()

    # -- reports ----------------------------------------------------------------------------

    def probed(self, probe: Probe, steps_left: int) -> None:
        """One more probe."""
        self.probes.append((probe, steps_left))
        self._show_log()

    def done(self, result: BisectResult) -> None:
        """The answer: list it, and land the cursor on it."""
        self.result = result
        self._show_log()
        if result.seq is not None:
            self.twin.cursor.move(result.seq, jump=True)

    def failed(self, error: BaseException) -> None:
        """A bound or condition the bisection refused."""
        message = error.one_line() if isinstance(error, TwinInputError) else repr(error)
        self.query_one("#bisect-error", Label).update(Text(f"✖ {message}"))

    def _show_log(self) -> None:
        log = Text()
        for probe, left in self.probes:
            verdict = "holds" if probe.holds else "does not hold"
            log.append(f"#{probe.seq:<7} ", "bold")
            log.append(f"{verdict:<14}", "red" if probe.holds else "green")
            log.append(printable(f" {probe.detail}"))
            log.append(f"  ({left} steps left)\n" if left else "\n", "dim")
        result = self.result
        if result is not None:
            log.append("\n")
            if result.seq is None:
                log.append(f"never holds in #{result.start}..#{result.stop}\n", "bold yellow")
            else:
                env = result.frame.envelope if result.frame is not None else None
                what = f" {env.type} {env.event.subject}" if env is not None else ""
                log.append(printable(f"first holds at #{result.seq}:{what}\n"), "bold")
                if result.monotone is False:
                    log.append(
                        "not monotone: it held earlier too; this is the first holding event\n",
                        "yellow",
                    )
                log.append("enter or esc: back to the timeline, at that event\n", "dim")
        self.query_one("#bisect-log", Static).update(log)

    def action_close(self) -> None:
        """Back to the timeline (on the event found, with its changes shown)."""
        found = self.result is not None and self.result.seq is not None
        self.dismiss(None)
        if found:
            self.twin.timeline.show_changes()
