"""The Timeline screen: status line and five panes that follow the one cursor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Tabs

from tui.timeline_data import Detail, Row
from tui.widgets.detail_pane import DetailPane
from tui.widgets.events_table import EventsTable
from tui.widgets.findings_table import FindingsTable
from tui.widgets.metrics_pane import MetricsPane
from tui.widgets.status_line import StatusLine
from tui.widgets.topology_tree import TopologyTree

if TYPE_CHECKING:
    from tui.app import TwinApp

#: Pane number → (widget id, title, row container id).
PANES = {
    1: ("pane-events", "1 Events", "row-top"),
    2: ("pane-topology", "2 Topology", "row-top"),
    3: ("pane-metrics", "3 Metrics", "row-top"),
    4: ("pane-findings", "4 Findings", "row-bottom"),
    5: ("pane-detail", "5 Detail", "row-bottom"),
}


class TimelineScreen(Screen[None]):
    """The main screen (replay mode). Widgets never own time: the app's cursor does."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012 (typed by Screen)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket", "step(1)", "Step", key_display="]", id="timeline.next"),
        Binding(
            "left_square_bracket", "step(-1)", "Step back", key_display="[", id="timeline.prev"
        ),
        Binding(
            "right_curly_bracket",
            "change(1)",
            "Next change",
            key_display="}",
            id="timeline.next_change",
        ),
        Binding(
            "left_curly_bracket",
            "change(-1)",
            "Prev change",
            key_display="{",
            id="timeline.prev_change",
        ),
        Binding("g", "first", "First", show=False, id="timeline.first"),
        Binding("G", "last", "Last", show=False, id="timeline.last"),
        Binding("colon", "command", "Cmd", key_display=":", id="timeline.command"),
        Binding(
            "minus", "back", "Back to previous", key_display="-", show=False, id="timeline.back"
        ),
        *(
            Binding(str(n), f"pane({n})", f"Pane {title}", show=False, id=f"timeline.pane{n}")
            for n, (_wid, title, _row) in PANES.items()
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.shown = 1

    @property
    def twin(self) -> TwinApp:
        """The app, typed."""
        return cast("TwinApp", self.app)

    def compose(self) -> ComposeResult:
        """Status line, 3 + 2 panes, footer."""
        yield StatusLine(id="status")
        with Horizontal(id="row-top", classes="row -holds"):
            yield EventsTable(id="pane-events", classes="pane -shown")
            yield TopologyTree(id="pane-topology", classes="pane")
            yield MetricsPane(id="pane-metrics", classes="pane")
        with Horizontal(id="row-bottom", classes="row"):
            yield FindingsTable(id="pane-findings", classes="pane")
            yield DetailPane(id="pane-detail", classes="pane")
        yield Footer()

    def on_mount(self) -> None:
        """Title the panes and start loading."""
        for wid, title, _row in PANES.values():
            self.query_one(f"#{wid}").border_title = title
        self.query_one(EventsTable).focus()
        self.show_status()
        self.twin.begin()

    # -- following the cursor ---------------------------------------------------------------

    def load(self, rows: Sequence[Row]) -> None:
        """New rows from the loader."""
        self.query_one(EventsTable).load(rows)
        self.query_one(MetricsPane).load(rows)

    def show_cursor(self, seq: int) -> None:
        """Move every pane that reads the compact rows to ``seq``."""
        row = self.twin.data.row(seq)
        self.query_one(EventsTable).show(seq)
        self.query_one(MetricsPane).show(seq)
        if row is not None:
            self.query_one(FindingsTable).show(row.findings)
        self.show_status()

    def show_status(self) -> None:
        """Redraw the status line."""
        app = self.twin
        app_row = app.data.row(app.cursor.seq)
        self.query_one(StatusLine).show(
            app.data.label,
            app_row,
            app.cursor.total,
            computing=app.computing,
            marks=app.cursor.marks,
        )

    def show_detail(self, detail: Detail) -> None:
        """The seeking worker's result for the cursor."""
        self.query_one(TopologyTree).show(detail.topology)
        self.query_one(DetailPane).show(detail)
        self.show_status()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The user moved the Events row: that moves the cursor."""
        table = event.data_table
        if isinstance(table, EventsTable):
            self.twin.cursor.move(table.seq_at(event.cursor_row))

    # -- actions ----------------------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        """Step ``delta`` events."""
        self.twin.cursor.step(delta)

    def action_change(self, direction: int) -> None:
        """Go to the next or previous change event."""
        target = self.twin.data.next_change(self.twin.cursor.seq, direction)
        if target is None:
            self.notify("no further change event", severity="warning", timeout=2)
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

    def action_command(self) -> None:
        """Open the ``:`` command line."""
        from tui.screens.command_line import CommandLine

        self.app.push_screen(CommandLine(self.twin.run_command))

    def action_pane(self, number: int) -> None:
        """Focus pane ``number`` (narrow layout: show only it)."""
        self.shown = number
        wid, _title, row = PANES[number]
        for pane in self.query(".pane"):
            pane.set_class(pane.id == wid, "-shown")
        for container in self.query(".row"):
            container.set_class(container.id == row, "-holds")
        target: Widget = self.query_one(f"#{wid}")
        if isinstance(target, DetailPane):
            target = target.query_one(Tabs)
        target.focus()
