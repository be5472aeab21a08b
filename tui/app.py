"""The Maestro Twin terminal UI: ``twin tui SOURCE`` and ``twin demo``."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from tui.cursor import TimelineCursor
from tui.screens.help import HelpScreen
from tui.screens.timeline import TimelineScreen
from tui.timeline_data import Detail, Row, TimelineData
from twin.engine import PluginError
from twin.errors import TwinInputError


class TwinApp(App[None]):
    """Replays a journal; every pane follows :attr:`cursor`.

    Args:
        data: the opened timeline (the app closes it when it ends).
        at: the event to start at (default: the last).
    """

    CSS_PATH = "app.tcss"
    TITLE = "Maestro Twin"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, data: TimelineData, *, at: int | None = None) -> None:
        super().__init__()
        self.data = data
        self.start_at = at
        self.cursor = TimelineCursor(0)
        self.computing = True
        self._started = False

    def get_default_screen(self) -> Screen[None]:
        """The Timeline screen."""
        return TimelineScreen()

    @property
    def timeline(self) -> TimelineScreen:
        """The Timeline screen (the default one, even under a modal)."""
        screen = self.screen_stack[0]
        assert isinstance(screen, TimelineScreen)
        return screen

    def begin(self) -> None:
        """Start loading (once, when the Timeline screen is mounted)."""
        if self._started:
            return
        self._started = True
        self.cursor.subscribe(self._moved)
        self.load_rows()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_rows(self) -> list[Row]:
        """Replay every event once, in a thread (the result arrives as a state change)."""
        worker = get_current_worker()
        return self.data.load(lambda: worker.is_cancelled)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker finished: show its result (never blocks a thread on the UI)."""
        worker = event.worker
        if event.state is WorkerState.ERROR:
            self._failed(worker.error)
            return
        if event.state is not WorkerState.SUCCESS or worker.result is None:
            return
        if worker.group == "load":
            self._loaded(worker.result)
        elif worker.group == "detail":
            self._detail_ready(worker.result)

    def _failed(self, error: BaseException | None) -> None:
        """A journal the twin cannot replay, or a plugin failing in strict mode: one line, exit."""
        if isinstance(error, TwinInputError):
            self.exit(return_code=2, message=f"twin: error: {error.one_line()}")
        elif isinstance(error, PluginError):
            self.exit(return_code=3, message=f"twin: plugin error: {error}")
        else:
            self.exit(return_code=3, message=f"twin: internal error: {error!r}")

    def _loaded(self, rows: list[Row]) -> None:
        self.timeline.load(rows)
        self.cursor.reset(len(rows), self.start_at)

    def _moved(self, cursor: TimelineCursor) -> None:
        self.computing = True
        self.timeline.show_cursor(cursor.seq)
        if cursor.seq:
            self.fetch_detail(cursor.seq)
        else:
            self.computing = False
            self.timeline.show_status()

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def fetch_detail(self, seq: int) -> Detail | None:
        """Seek to ``seq`` for the topology and the changes, in a thread."""
        if get_current_worker().is_cancelled or self.cursor.seq != seq:
            return None
        return self.data.detail(seq)

    def _detail_ready(self, detail: Detail) -> None:
        if detail.seq != self.cursor.seq:
            return
        self.computing = False
        self.timeline.show_detail(detail)

    def run_command(self, text: str) -> str | None:
        """Run a ``:`` command; return an error message, or None when done."""
        command = text.strip()
        total = self.cursor.total
        if command.lower() in ("q", "quit"):
            self.exit()
            return None
        if command.lower() == "first" or command == "g":
            self.cursor.move(1, jump=True)
            return None
        if command.lower() == "last" or command == "G":
            self.cursor.move(total, jump=True)
            return None
        number = command.removeprefix("#")
        if number.isdigit():
            seq = int(number)
            if not 1 <= seq <= total:
                return f"no event {seq}: the journal holds 1..{total}"
            self.cursor.move(seq, jump=True)
            return None
        if not command:
            return "type a command: :120, :first, :last, :q"
        return f"unknown command {text!r}: try :120, :first, :last, :q"

    def action_help(self) -> None:
        """Open the help screen."""
        if isinstance(self.screen, HelpScreen):
            return
        groups = [
            ("Timeline", TimelineScreen.BINDINGS),
            ("App", self.BINDINGS),
        ]
        self.push_screen(HelpScreen(groups))

    def on_unmount(self) -> None:
        """Close the journal."""
        self.data.close()
