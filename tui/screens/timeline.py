"""The Timeline screen: status line, scrubber, five panes and the key bar, all following one cursor.

Layouts by width (``HORIZONTAL_BREAKPOINTS``):

- 140 columns and more: Events | Topology | Metrics above, Findings | Detail below;
- 100 to 139: Topology and Metrics share the centre (``2``/``3`` switch it);
- below 100: one pane at a time, named in the pane bar; ``1``-``5`` switch.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, Tabs

from tui.widgets.detail_pane import DetailPane
from tui.widgets.events_list import EventsList
from tui.widgets.findings_table import FindingsPane, FindingsTable, severity_changes
from tui.widgets.key_bar import KeyBar
from tui.widgets.metrics_pane import MetricPlot, MetricsPane, MetricTiles
from tui.widgets.scrubber import Scrubber
from tui.widgets.status_line import StatusLine
from tui.widgets.topology_tree import TopologyTree

if TYPE_CHECKING:
    from tui.app import TwinApp
    from tui.screens.command_line import PromptLine

#: Keys typed after ``:`` or ``/`` are held for the prompt only this long (seconds).
PROMPT_OPENS_WITHIN = 1.0

#: Pane number → (widget id, title).
PANES = {
    1: ("pane-events", "1 Events"),
    2: ("pane-topology", "2 Topology"),
    3: ("pane-metrics", "3 Metrics"),
    4: ("pane-findings", "4 Findings"),
    5: ("pane-detail", "5 Detail"),
}


def _b(key: str, action: str, description: str, name: str, display: str | None = None) -> Binding:
    return Binding(key, action, description, key_display=display, show=False, id=f"timeline.{name}")


class PaneBar(Static):
    """Below 100 columns: which pane is shown, and the keys for the others."""

    DEFAULT_CSS = """
    PaneBar { height: 1; display: none; background: $boost; }
    """

    def show(self, current: int) -> None:
        """Highlight pane ``current``."""
        line = Text()
        for number, (_wid, title) in PANES.items():
            line.append(f" {title} ", "reverse bold" if number == current else "dim")
            line.append(" ")
        self.update(line)


class TimelineScreen(Screen[None]):
    """The main screen. Widgets never own time: the app's cursor does."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-medium"), (140, "-wide")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        _b("right_square_bracket", "step(1)", "Step one event", "next", "]"),
        _b("left_square_bracket", "step(-1)", "Step back one event", "prev", "["),
        _b("right_curly_bracket", "change(1)", "Next change event", "next_change", "}"),
        _b("left_curly_bracket", "change(-1)", "Previous change event", "prev_change", "{"),
        _b("greater_than_sign", "same_type(1)", "Next event of this type", "next_type", ">"),
        _b("less_than_sign", "same_type(-1)", "Previous event of this type", "prev_type", "<"),
        _b("e", "same_subject(1)", "Next event on this subject", "next_subject"),
        _b("E", "same_subject(-1)", "Previous event on this subject", "prev_subject"),
        _b("g", "first", "First event", "first"),
        _b("G", "last", "Last event", "last"),
        _b("colon", "command", "Command line (:120, :@02:14, :diff)", "command", ":"),
        _b("ctrl+g", "command", "Go to an event or a time", "goto", "^g"),
        _b("minus", "back", "Back to where the last jump came from", "back", "-"),
        _b("left_parenthesis", "history(-1)", "Walk the jump history back", "history_back", "("),
        _b("right_parenthesis", "history(1)", "Walk the jump history forward", "history_fwd", ")"),
        _b("slash", "find", "Filter the events (type: subject: sev>= words)", "find", "/"),
        _b("n", "match(1)", "Next event the filter matches", "next_match"),
        _b("N", "match(-1)", "Previous event the filter matches", "prev_match"),
        _b("w", "why", "Why: the event behind this finding or metric", "why"),
        _b("m", "mark", "Set mark A, then B", "mark"),
        _b("M", "clear_marks", "Clear the marks", "clear_marks"),
        _b("apostrophe", "to_mark", "Jump to mark A, then B", "to_mark", "'"),
        _b("d", "diff", "Diff mark A ↔ B (or the previous event ↔ the cursor)", "diff"),
        _b("b", "bisect", "Bisect: the first event where a condition holds", "bisect"),
        _b("f", "maximize", "Maximize or restore the focused pane", "maximize"),
        _b("L", "follow", "Live: follow the end on / off", "follow"),
        _b("y", "copy", "Copy the position (twin tui … --at N)", "copy"),
        _b("escape", "escape", "Clear the filter / restore the pane", "escape", "esc"),
        *(
            _b(str(n), f"pane({n})", f"Show pane {title}", f"pane{n}")
            for n, (_wid, title) in PANES.items()
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.shown = 1
        self.centre = 2
        self._for_prompt: tuple[float, list[events.Key]] | None = None

    @property
    def twin(self) -> TwinApp:
        """The app, typed."""
        return cast("TwinApp", self.app)

    def compose(self) -> ComposeResult:
        """Status line, scrubber, pane bar, 3 + 2 panes, key bar."""
        yield StatusLine(id="status")
        yield Scrubber(id="scrubber")
        yield PaneBar(id="pane-bar")
        with Horizontal(id="row-top", classes="row -holds"):
            with Vertical(id="pane-events", classes="pane -shown"):
                yield EventsList(id="events")
            with Horizontal(id="centre"):
                yield TopologyTree(id="pane-topology", classes="pane -centre")
                yield MetricsPane(id="pane-metrics", classes="pane")
        with Horizontal(id="row-bottom", classes="row"):
            yield FindingsPane(id="pane-findings", classes="pane")
            yield DetailPane(id="pane-detail", classes="pane")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        """Title the panes and start."""
        for wid, title in PANES.values():
            self.query_one(f"#{wid}").border_title = title
        self.query_one(EventsList).focus()
        self.query_one(PaneBar).show(1)
        self._centre_titles()
        self.twin.begin()

    # -- following the cursor ---------------------------------------------------------------

    def show_cursor(self) -> None:
        """Redraw what reads the index and the rows (instant)."""
        self.query_one(EventsList).refresh()
        self.query_one(Scrubber).refresh()
        self.query_one(MetricsPane).show()
        self.show_status()

    def show_progress(self) -> None:
        """The index grew: redraw what reads it."""
        self.query_one(Scrubber).refresh()
        self.query_one(MetricsPane).show()
        self.query_one(EventsList).refresh()
        self.show_status()

    def show_status(self) -> None:
        """Redraw the status line."""
        self.query_one(StatusLine).show(self.twin.status())

    def show_detail(self) -> None:
        """The seeker's result for the cursor."""
        detail = self.twin.detail
        if detail is None:
            self.query_one(TopologyTree).show(())
            self.query_one(FindingsPane).show(())
            self.query_one(DetailPane).show(None)
        else:
            self.query_one(TopologyTree).show(detail.topology)
            index = self.twin.data.index
            changes = severity_changes(index, detail.findings, detail.seq)
            # severity changes are known once the evaluation has passed this event
            self.twin.marks_pending = detail.seq if index.evaluated < detail.seq else None
            self.query_one(FindingsPane).show(detail.findings, detail.cleared, changes)
            self.query_one(DetailPane).show(detail, changes)
        self.query_one(MetricsPane).show()
        self.show_status()

    def on_events_list_open(self, _message: EventsList.Open) -> None:
        """Enter on an event: the whole event, in the Detail pane's Event tab."""
        self.action_pane(5)
        self.query_one("#pane-detail TabbedContent", TabbedContent).active = "tab-event"

    def show_changes(self) -> None:
        """Show the Detail pane's Changes tab (after a bisection lands)."""
        self.action_pane(5)
        self.query_one("#pane-detail TabbedContent", TabbedContent).active = "tab-changes"

    def on_data_table_row_selected(self, event: FindingsTable.RowSelected) -> None:
        """Enter on a finding: why."""
        if isinstance(event.data_table, FindingsTable):
            self.why_finding()

    # -- actions ----------------------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        """Step ``delta`` events."""
        self.twin.cursor.step(delta)

    def action_change(self, direction: int) -> None:
        """Go to the next or previous change event."""
        app = self.twin
        target = app.data.index.next_change(app.cursor.seq, direction)
        if target is None:
            more = app.data.index.evaluated < app.cursor.total
            self.notify(
                "no further change event" + (" yet (still evaluating)" if more else ""),
                severity="warning",
                timeout=2,
            )
        else:
            app.cursor.move(target, jump=True)

    def action_same_type(self, direction: int) -> None:
        """The next or previous event of the cursor's type."""
        index = self.twin.data.index
        self._jump(index.next_same(self.twin.cursor.seq, direction, index.type), "of this type")

    def action_same_subject(self, direction: int) -> None:
        """The next or previous event on the cursor's subject."""
        index = self.twin.data.index
        self._jump(
            index.next_same(self.twin.cursor.seq, direction, index.subject), "on this subject"
        )

    def _jump(self, target: int | None, what: str) -> None:
        if target is None:
            self.notify(f"no further event {what}", severity="warning", timeout=2)
        else:
            self.twin.cursor.move(target, jump=True)

    def action_first(self) -> None:
        """The first event."""
        self.twin.cursor.move(1, jump=True)

    def action_last(self) -> None:
        """The last event."""
        self.twin.cursor.move(self.twin.cursor.total, jump=True)

    def action_back(self) -> None:
        """Back to the previous position (again: toggles)."""
        self.twin.cursor.back()

    def action_history(self, direction: int) -> None:
        """Walk the navigation history."""
        cursor = self.twin.cursor
        moved = cursor.walk_back() if direction < 0 else cursor.walk_forward()
        if not moved:
            self.notify("no further jump in the history", severity="warning", timeout=2)

    def on_key(self, event: events.Key) -> None:
        """Keys typed right after ``:`` or ``/`` belong to the prompt they open.

        The prompt opens only when the ``:`` has gone all the way up to the
        app's bindings, and the keys typed with it (fast typing, a paste,
        ``tmux send-keys ':238' Enter``) pass this screen before that: they are
        held here and handed to the prompt, instead of switching panes.
        """
        from tui.screens.command_line import PromptLine, typable

        top = self.app.screen
        if top is not self and isinstance(top, PromptLine):
            top.take_key(event)
            return
        held = self._for_prompt
        if held is not None and time.monotonic() - held[0] > PROMPT_OPENS_WITHIN:
            held = self._for_prompt = None  # the prompt never opened: stop holding keys
        if held is not None:
            if typable(event):
                event.stop()
                event.prevent_default()
                held[1].append(event)
            return
        if event.key in ("colon", "slash"):
            self._for_prompt = (time.monotonic(), [])

    def _open_prompt(self, prompt: PromptLine) -> None:
        """Push ``prompt`` with the keys typed for it before it opened."""
        held, self._for_prompt = self._for_prompt, None
        for event in held[1] if held is not None else ():
            prompt.take_key(event)
        self.app.push_screen(prompt)

    def action_command(self) -> None:
        """Open the ``:`` command line."""
        from tui.screens.command_line import CommandLine

        self._open_prompt(CommandLine(self.twin.run_command))

    def action_find(self) -> None:
        """Open the ``/`` filter line."""
        from tui.screens.command_line import FilterLine

        self._open_prompt(FilterLine(self.twin.apply_filter, self.twin.filter_text or ""))

    def action_match(self, direction: int) -> None:
        """The next or previous match of the filter on the whole timeline."""
        self.twin.next_match(direction)

    def action_why(self) -> None:
        """Jump to the cause of the selected finding, or of the selected metric's value."""
        focused = self.app.focused
        if isinstance(focused, MetricTiles):
            self.why_metric(focused.selected)
        else:
            self.why_finding()

    def why_finding(self) -> None:
        """The event that raised the highlighted finding."""
        chosen = self.query_one(FindingsTable).selected()
        if chosen is None:
            self.notify("no finding to explain here", severity="warning", timeout=2)
            return
        self.twin.cursor.move(chosen.since, jump=True)
        self.notify(
            f"#{chosen.since} raised {chosen.finding.rule} on {chosen.finding.subject}",
            timeout=3,
            markup=False,
        )

    def why_metric(self, metric: int) -> None:
        """The last event that changed headline metric ``metric``."""
        from tui.timeline_data import HEADLINE

        app = self.twin
        target = app.data.index.last_change_of(metric, app.cursor.seq)
        name = HEADLINE[metric][0]
        if target is None:
            self.notify(f"{name} has not changed up to here", severity="warning", timeout=2)
            return
        app.cursor.move(target, jump=True)
        self.notify(f"#{target} last changed {name}", timeout=3, markup=False)

    def action_mark(self) -> None:
        """Set a mark at the cursor."""
        cursor = self.twin.cursor
        if not cursor.seq:
            return
        name = cursor.mark()
        self.notify(f"mark {name} at #{cursor.seq}", timeout=2)

    def action_clear_marks(self) -> None:
        """Forget the marks."""
        self.twin.cursor.clear_marks()

    def action_to_mark(self) -> None:
        """Jump to mark A, then toggle between A and B."""
        cursor = self.twin.cursor
        marks = cursor.marks
        if not marks:
            self.notify("no marks: m sets one", severity="warning", timeout=2)
            return
        target = marks.get("A", marks.get("B"))
        if cursor.seq == marks.get("A") and "B" in marks:
            target = marks["B"]
        if target is not None:
            cursor.move(target, jump=True)

    def action_diff(self) -> None:
        """The Diff screen: A ↔ B, or the previous event ↔ the cursor."""
        self.twin.open_diff()

    def action_bisect(self) -> None:
        """The bisect screen."""
        self.twin.open_bisect()

    def action_maximize(self) -> None:
        """Maximize the focused pane (or restore it)."""
        if self.maximized is not None:
            self.minimize()
            return
        pane = self._focused_pane()
        if pane is not None:
            self.maximize(pane, container=False)

    def _focused_pane(self) -> Widget | None:
        node = self.app.focused
        while node is not None and not (isinstance(node, Widget) and node.has_class("pane")):
            node = node.parent  # type: ignore[assignment]
        return node

    def action_follow(self) -> None:
        """Live mode: follow the end, or stop following."""
        self.twin.toggle_follow()

    def action_copy(self) -> None:
        """Copy the position as a command."""
        self.twin.copy_position()

    def action_escape(self) -> None:
        """Restore a maximized pane, else clear the filter."""
        if self.maximized is not None:
            self.minimize()
        elif self.twin.filter_text:
            self.twin.apply_filter("")

    def action_pane(self, number: int) -> None:
        """Focus pane ``number`` (narrow: show only it; medium: 2 and 3 share the centre)."""
        self.shown = number
        if number in (2, 3):
            self.centre = number
        wid, _title = PANES[number]
        for pane in self.query(".pane"):
            pane.set_class(pane.id == wid, "-shown")
            if pane.id in ("pane-topology", "pane-metrics"):
                pane.set_class(pane.id == PANES[self.centre][0], "-centre")
        self.query_one("#row-top").set_class(number in (1, 2, 3), "-holds")
        self.query_one("#row-bottom").set_class(number in (4, 5), "-holds")
        self.query_one("#centre").set_class(number in (2, 3), "-holds")
        self.query_one(PaneBar).show(number)
        self._centre_titles()
        target: Widget = self.query_one(f"#{wid}")
        if isinstance(target, DetailPane):
            target = target.query_one(Tabs)
        elif isinstance(target, FindingsPane):
            target = target.table
        elif isinstance(target, MetricsPane):
            target = target.query_one(MetricTiles)
        elif target.id == "pane-events":
            target = self.query_one(EventsList)
        target.focus()
        self.query_one(MetricPlot).refresh()

    def _centre_titles(self) -> None:
        """At medium width, each centre pane names the other one it shares the space with."""
        topo, metrics = self.query_one("#pane-topology"), self.query_one("#pane-metrics")
        medium = self.has_class("-medium")
        topo.border_subtitle = "3 Metrics ⇄" if medium else ""
        metrics.border_subtitle = "2 Topology ⇄" if medium else ""

    def on_resize(self) -> None:
        """The layout may have changed breakpoint."""
        self.call_after_refresh(self._centre_titles)
