"""The Maestro Twin terminal UI: ``twin tui SOURCE`` and ``twin demo``."""

from __future__ import annotations

import re
import sys
import time
from array import array
from bisect import bisect_left, bisect_right
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer

from tui.background import (
    BisectDone,
    BisectProbe,
    DetailReady,
    DiffReady,
    Failed,
    FilterJob,
    FilterReady,
    Indexer,
    Job,
    JournalWarning,
    Progress,
    Seeker,
)
from tui.cursor import TimelineCursor
from tui.filtering import FilterError, parse
from tui.palette import TimelineCommands
from tui.screens.help import HelpScreen
from tui.screens.timeline import TimelineScreen
from tui.timeline_data import Detail, TimelineData
from tui.widgets.status_line import Status
from twin.engine import PluginError
from twin.errors import TwinInputError, no_event_text

#: Where to start: an event number, or one of these.
START_LAST = "last"
STORY_TITLE = "Story starts here (any key hides)"
STORY_TIMEOUT_S = 8.0
"""How long the story toast stays when no key is pressed (it covers part of the list)."""

START_STORY = "story"  # the first bookmark, else the first error finding, else the last event
TIME_JUMP = re.compile(r"^@(\d{1,2}):(\d{2})(?::(\d{2}))?$")
RELATIVE = re.compile(r"^([+-])(\d+)([smhd])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Report(Message):
    """A background thread's report (progress, a detail, a filter's matches, a failure)."""

    def __init__(self, report: object) -> None:
        super().__init__()
        self.report = report


BUSY_S = 0.3  # after a move, the background threads stay quiet this long...
RAPID_S = 0.35  # ...or longer while moves come faster than this apart


def busy_window(gap: float) -> float:
    """How long after a move the user counts as busy (threads quiet, the detail waits).

    The detail panes follow 0.15 s before the end of it. While keys come in a
    rhythm (a held key, or a loaded machine where each repaint takes 200 ms and
    the next key follows it), the window is twice the rhythm: otherwise a slow
    repaint reads as a pause, the detail (a seek, then a layout of the tree,
    the tables and the tabs) starts, and the next key waits for it, which makes
    that step slower still (seen at 1M events under load: p99 near 1 s).
    """
    if gap >= RAPID_S:
        return BUSY_S
    return max(BUSY_S, 0.15 + 2 * gap)


class TwinApp(App[None]):
    """Replays a journal; every pane follows :attr:`cursor`.

    Args:
        data: the opened timeline (the app closes it when it ends).
        at: where to start: an event number (0: before the first), ``"last"``
            (the default) or ``"story"`` (the first bookmark of the file, else the
            first error finding).
        follow: live mode: read events another process appends, and follow the end.
    """

    CSS_PATH = "app.tcss"
    TITLE = "Maestro Twin"
    COMMANDS = App.COMMANDS | {TimelineCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self, data: TimelineData, *, at: int | str | None = None, follow: bool = False
    ) -> None:
        super().__init__()
        self.data = data
        self.start_at: int | str = START_LAST if at is None else at
        self.follow_mode = follow
        self.following = follow
        self.cursor = TimelineCursor(data.head, 0)
        self.detail: Detail | None = None
        self.computing = True
        self.waiting = False
        self.filter_text: str | None = None
        self.filter_matches: array[int] | None = None
        self.filter_pending = False
        self.bookmark_seqs = frozenset(b.seq for b in data.bookmarks)
        self.new_events = 0
        self.mode = "LIVE" if follow else "REPLAY"
        self.story_note: str | None = None
        self._story_shown = False
        self.marks_pending: int | None = None  # a shown detail waits for the evaluation here
        self._started = False
        self._waiting_for_story = False
        self._progress = Progress(0, 0, data.head, False)
        self._indexer: Indexer | None = None
        self._seeker: Seeker | None = None
        self._filter_job: FilterJob | None = None

    def get_default_screen(self) -> Screen[None]:
        """The Timeline screen."""
        return TimelineScreen()

    @property
    def timeline(self) -> TimelineScreen:
        """The Timeline screen (the default one, even under a modal)."""
        screen = self.screen_stack[0]
        assert isinstance(screen, TimelineScreen)
        return screen

    # -- starting and stopping --------------------------------------------------------------

    def begin(self) -> None:
        """Start the threads and put the cursor at its start (once, when the screen mounts)."""
        if self._started:
            return
        self._started = True
        self.cursor.subscribe(self._moved)
        self._indexer = Indexer(self.data, self._post, follow=self.follow_mode)
        self._seeker = Seeker(self.data, self._post)
        self._indexer.start()
        self._seeker.start()
        self.cursor.reset(self.data.head, self._start_seq())
        if self.story_note:  # the demo: say where the story starts
            self._tell_story(self.story_note)

    def _tell_story(self, note: str) -> None:
        """Say where the story starts in a toast that any key hides (it covers the list)."""
        self._story_shown = True
        self.notify(note, title=STORY_TITLE, timeout=STORY_TIMEOUT_S, markup=False)

    async def on_event(self, event: events.Event) -> None:
        """Any key hides the story toast (and still does what it does)."""
        if self._story_shown and isinstance(event, events.Key) and not event.is_forwarded:
            self._story_shown = False
            self.clear_notifications()
        await super().on_event(event)

    def _start_seq(self) -> int:
        head = self.data.head
        if isinstance(self.start_at, int):
            return self.start_at
        if self.start_at == START_STORY:
            if self.data.bookmarks:
                mark = self.data.bookmarks[0]
                self.story_note = f"#{mark.seq}: {mark.text}"
                return min(mark.seq, head)
            self._waiting_for_story = True  # the first error finding, once evaluated
        return head

    def _post(self, report: object) -> None:
        """From a thread: hand a report to the UI (thread-safe)."""
        self.post_message(Report(report))

    def on_mount(self) -> None:
        """Let the UI thread take the interpreter often (see background.py)."""
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(0.001)

    def on_unmount(self) -> None:
        """Stop the threads (never waited for) and close the journal."""
        self.stop_threads()
        sys.setswitchinterval(getattr(self, "_switch_interval", 0.005))
        self.data.close()

    async def action_quit(self) -> None:
        """Quit at once: the threads are told to stop before the app unwinds, so they stop
        competing with it for the interpreter (and for an in-memory journal's lock)."""
        self.stop_threads()
        self.exit()

    def stop_threads(self) -> None:
        """Ask every background thread to end (they are not waited for here)."""
        for job in self._jobs():
            job.stop()

    def _jobs(self) -> list[Job]:
        from tui.screens.diff import DiffScreen

        jobs: list[Job] = [
            j for j in (self._indexer, self._seeker, self._filter_job) if j is not None
        ]
        jobs += [s._job for s in self.screen_stack if isinstance(s, DiffScreen) and s._job]
        return jobs

    # -- reports from the threads -----------------------------------------------------------

    def on_report(self, message: Report) -> None:
        """Route a thread's report (late ones, after the screen went away, are dropped)."""
        try:
            self._route(message.report)
        except NoMatches:
            if self.is_running and not self._closing:
                raise

    def _route(self, report: object) -> None:
        if isinstance(report, Progress):
            self._on_progress(report)
        elif isinstance(report, DetailReady):
            if report.seq == self.cursor.seq:
                self.waiting = report.waiting
                if report.waiting:
                    return
                self.detail = report.detail
                self.computing = False
                self._show_detail_soon()
        elif isinstance(report, FilterReady):
            if self.filter_text is not None and report.spec.text == self.filter_text:
                self.filter_matches = report.seqs  # type: ignore[assignment]
                self.filter_pending = False
                self.timeline.show_cursor()
        elif isinstance(report, DiffReady):
            from tui.screens.diff import DiffScreen

            for screen in self.screen_stack:
                if isinstance(screen, DiffScreen) and (screen.a, screen.b) == (report.a, report.b):
                    screen.show(report.result)
        elif isinstance(report, BisectProbe | BisectDone):
            from tui.screens.bisect import BisectScreen

            for screen in self.screen_stack:
                if isinstance(screen, BisectScreen):
                    if isinstance(report, BisectProbe):
                        screen.probed(report.probe, report.steps_left)  # type: ignore[arg-type]
                    elif report.error is not None:
                        screen.failed(report.error)
                    else:
                        screen.done(report.result)  # type: ignore[arg-type]
        elif isinstance(report, JournalWarning):
            self.notify(
                report.message, title="journal", severity="warning", timeout=15, markup=False
            )
        elif isinstance(report, Failed):
            self._failed(report.error)

    def _show_detail_soon(self) -> None:
        """Show the detail now, or once the user pauses: while keys come fast, the panes that
        need a layout pass (tree, tables, wrapped text) wait, the cursor's own do not."""
        wait = self.data.busy_until - 0.15 - time.monotonic()
        if wait <= 0:
            self.timeline.show_detail()
            return
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(wait, self._show_detail_late)

    def _show_detail_late(self) -> None:
        self._detail_timer = None
        if self.detail is not None and self.detail.seq == self.cursor.seq:
            self.timeline.show_detail()

    _detail_timer: Timer | None = None
    _last_move = 0.0

    @property
    def detail_pending(self) -> bool:
        """True while a detail that arrived waits for the keys to pause before it is shown."""
        return self._detail_timer is not None

    def _on_progress(self, progress: Progress) -> None:
        self._progress = progress
        if self.waiting and self._seeker is not None:
            self._seeker.request(self.cursor.seq)  # the evaluation moved on: maybe near now
        grown = self.data.refresh_head() if progress.head > self.data.head else 0
        if grown:
            self.cursor.grow(self.data.head)
            if self.following:
                self.cursor.move(self.data.head)
            else:
                self.new_events += grown
                self.timeline.query_one("EventsList").seen_head = (  # type: ignore[attr-defined]
                    self.data.head - self.new_events
                )
        pending = self.marks_pending
        if pending is not None and self.data.index.evaluated >= pending:
            self.marks_pending = None  # its severity changes are known now: show them
            if self.detail is not None and self.detail.seq == pending:
                self.timeline.show_detail()
        if self._waiting_for_story:
            first = self.data.first_error()
            if first is not None:
                self._waiting_for_story = False
                if self.cursor.seq == self.data.head and not self.cursor.history:
                    self.cursor.move(first, jump=True)
                    self._tell_story(f"#{first}: the first error finding")
            elif progress.done:
                self._waiting_for_story = False
        self.timeline.show_progress()

    def _failed(self, error: BaseException | None) -> None:
        """A journal the twin cannot replay, or a plugin failing in strict mode: one line, exit."""
        self.stop_threads()
        if isinstance(error, TwinInputError):
            self.exit(return_code=2, message=f"twin: error: {error.one_line()}")
        elif isinstance(error, PluginError):
            self.exit(return_code=3, message=f"twin: plugin error: {error}")
        else:
            self.exit(return_code=3, message=f"twin: internal error: {error!r}")

    # -- the cursor ---------------------------------------------------------------------------

    def _moved(self, cursor: TimelineCursor) -> None:
        if self.following and cursor.seq != cursor.total:
            self.following = False  # stepping back stops following, like tail -f's reader
        if cursor.seq == cursor.total and self.new_events:
            self.new_events = 0
            self.timeline.query_one("EventsList").seen_head = None  # type: ignore[attr-defined]
        self.computing = bool(cursor.seq)
        now = time.monotonic()
        self.data.busy_until = now + busy_window(now - self._last_move)
        self._last_move = now
        if self._seeker is not None and cursor.seq:
            self._seeker.request(cursor.seq)
        elif not cursor.seq:
            self.detail = None
            self.timeline.show_detail()
        self.timeline.show_cursor()

    def status(self) -> Status:
        """What the status line shows now."""
        seq = self.cursor.seq
        index = self.data.index
        counts = index.counts(seq)
        if counts is None and self.detail is not None and self.detail.seq == seq:
            counts = self.detail.counts
        progress = None
        total = max(self.cursor.total, 1)
        if index.scanned < self.cursor.total:
            progress = f"scanning {100 * index.scanned // total}%"
        elif index.evaluated < self.cursor.total:
            progress = f"evaluating {100 * index.evaluated // total}%"
        elif self.filter_pending:
            progress = "filtering…"
        if self.waiting and index.evaluated < seq:
            progress = (
                f"evaluating {100 * index.evaluated // total}% (the detail here waits for it)"
            )
        return Status(
            mode=self.mode,
            label=self.data.label,
            branch=self.data.branch,
            seq=seq,
            total=self.cursor.total,
            row=self.data.row(seq) if seq else None,
            counts=counts,
            marks=dict(self.cursor.marks),
            filter=self.filter_text,
            matches=None if self.filter_matches is None else len(self.filter_matches),
            progress=progress,
            computing=self.computing,
            new_events=self.new_events,
        )

    def toggle_follow(self) -> None:
        """Follow the end (live mode), or stop."""
        if not self.follow_mode:
            self.notify("not a live session: open it with --follow", severity="warning")
            return
        self.following = not self.following
        if self.following:
            self.cursor.move(self.cursor.total, jump=True)
        self.notify("following the end" if self.following else "stopped following", timeout=2)
        self.timeline.show_status()

    # -- filter -------------------------------------------------------------------------------

    def apply_filter(self, text: str) -> str | None:
        """Filter the Events list by ``text`` ('' clears); return an error or None."""
        text = text.strip()
        if not text:
            self.filter_text = None
            self.filter_matches = None
            self.filter_pending = False
            self.timeline.show_cursor()
            return None
        try:
            spec = parse(text)
        except FilterError as exc:
            return str(exc)
        if self._filter_job is not None:
            self._filter_job.stop()
        self.filter_text = spec.text
        self.filter_matches = None
        self.filter_pending = True
        self._filter_job = FilterJob(self.data, self._post, spec)
        self._filter_job.start()
        self.timeline.show_status()
        return None

    def next_match(self, direction: int) -> None:
        """Go to the next (1) or previous (-1) event the filter matches."""
        matches = self.filter_matches
        if self.filter_text is None:
            self.notify("no filter: / sets one", severity="warning", timeout=2)
            return
        if matches is None:
            self.notify("still filtering…", timeout=2)
            return
        seq = self.cursor.seq
        if direction > 0:
            i = bisect_right(matches, seq)
            target = matches[i] if i < len(matches) else None
        else:
            i = bisect_left(matches, seq)
            target = matches[i - 1] if i > 0 else None
        if target is None:
            self.notify("no further match", severity="warning", timeout=2)
        else:
            self.cursor.move(int(target), jump=True)

    # -- commands -----------------------------------------------------------------------------

    def run_command(self, text: str) -> str | None:
        """Run a ``:`` command; return an error message, or None when done."""
        command = text.strip()
        low = command.lower()
        total = self.cursor.total
        if low in ("q", "quit"):
            self.stop_threads()
            self.exit()
            return None
        if low in ("first", "g"):
            self.cursor.move(1, jump=True)
            return None
        if low in ("last", "G"):
            self.cursor.move(total, jump=True)
            return None
        if low in ("mark", "mark a", "mark b"):
            self.timeline.action_mark()
            return None
        if low.startswith("diff"):
            return self._diff_command(command[4:].split())
        if low.startswith("bisect"):
            return self.open_bisect(command[6:].strip() or None)
        if low.startswith("filter ") or low.startswith("/"):
            return self.apply_filter(command.split(" ", 1)[1] if " " in command else command[1:])
        number = command.removeprefix("#")
        if number.isdigit():
            seq = int(number)
            if not 1 <= seq <= total:
                return no_event_text(seq, total, first=1)
            self.cursor.move(seq, jump=True)
            return None
        at_time = TIME_JUMP.match(command)
        if at_time:
            return self._time_jump(at_time)
        relative = RELATIVE.match(command)
        if relative:
            return self._relative_jump(relative)
        if not command:
            return "type a command: :120, :@02:14, :+30s, :first, :last, :diff, :q"
        return f"unknown command {text!r}: try :120, :@02:14, :+30s, :first, :last, :diff, :q"

    def _time_jump(self, match: re.Match[str]) -> str | None:
        index = self.data.index
        row = self.data.row(self.cursor.seq or 1)
        base = row.when if row is not None else self.data.first_time
        if base is None or index.epoch is None:
            return "the times are not known yet (still scanning)"
        hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            return f"{match.group(0)}: not a time of day (HH:MM or HH:MM:SS)"
        when = base.replace(hour=hour, minute=minute, second=second, microsecond=0)
        seq = index.seq_at_time(when)
        if seq is None:
            return "the times are not known yet (still scanning)"
        self.cursor.move(seq, jump=True)
        return None

    def _relative_jump(self, match: re.Match[str]) -> str | None:
        row = self.data.row(self.cursor.seq or 1)
        if row is None or row.when is None:
            return "this event has no time to count from"
        seconds = int(match.group(2)) * UNITS[match.group(3)]
        when = row.when + timedelta(seconds=seconds if match.group(1) == "+" else -seconds)
        seq = self.data.index.seq_at_time(when)
        if seq is None:
            return "the times are not known yet (still scanning)"
        self.cursor.move(seq, jump=True)
        return None

    def _diff_command(self, args: list[str]) -> str | None:
        if not args:
            self.open_diff()
            return None
        if len(args) != 2 or not all(a.removeprefix("#").isdigit() for a in args):
            return "diff takes two event numbers (:diff 230 240), or none for the marks"
        a, b = (int(x.removeprefix("#")) for x in args)
        for value in (a, b):
            if not 0 <= value <= self.cursor.total:
                return no_event_text(value, self.cursor.total)
        self.open_diff(a, b)
        return None

    def open_diff(self, a: int | None = None, b: int | None = None) -> None:
        """The Diff screen between ``a`` and ``b`` (default: the marks, or previous ↔ cursor)."""
        from tui.screens.diff import DiffScreen

        if a is None or b is None:
            marks = self.cursor.marks
            if "A" in marks and "B" in marks:
                a, b = marks["A"], marks["B"]
            else:
                b = self.cursor.seq
                a = marks.get("A", max(0, b - 1))
        if a == b:
            self.notify(
                "A and B are the same event: move, then m, or :diff A B", severity="warning"
            )
            return
        self.push_screen(DiffScreen(self.data, min(a, b), max(a, b)))

    def open_bisect(self, condition: str | None = None) -> str | None:
        """The Bisect screen, with ``condition`` typed in (default: from the selection)."""
        from tui.screens.bisect import BisectScreen

        self.push_screen(BisectScreen(self.data, condition))
        return None

    def bisect_suggestion(self) -> str:
        """A condition from what is selected: the highlighted finding, or the chosen metric."""
        from tui.timeline_data import HEADLINE
        from tui.widgets.findings_table import FindingsTable
        from tui.widgets.metrics_pane import MetricTiles

        screen = self.timeline
        focused = screen.focused
        if isinstance(focused, MetricTiles):
            name = HEADLINE[focused.selected][0]
            now = self.data.index.metric(focused.selected, self.cursor.seq)
            if now is not None:
                op = "<" if name == "members.active" else ">="
                return f"{name} {op} {now:g}"
        chosen = screen.query_one(FindingsTable).selected()
        if chosen is not None:
            return f"{chosen.finding.rule} {chosen.finding.subject}"
        return ""

    def copy_position(self) -> None:
        """Copy ``twin tui SOURCE --at N`` for the cursor."""
        text = f"twin tui {self.data.source.label} --at {self.cursor.seq}"
        self.copy_to_clipboard(text)
        self.notify(f"copied: {text}", timeout=3, markup=False)

    def action_help(self) -> None:
        """Open the help screen."""
        if isinstance(self.screen, HelpScreen):
            return
        groups = [("Timeline", TimelineScreen.BINDINGS), ("App", self.BINDINGS)]
        self.push_screen(HelpScreen(groups))

    # -- screenshots ----------------------------------------------------------------------------

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """Save the screenshot in the current directory (not ~/Downloads) and say where."""
        if self.is_web:
            return super().deliver_screenshot(filename, path, time_format)
        folder = Path(path) if path else Path.cwd()
        try:
            saved = self.save_screenshot(filename, str(folder), time_format)
        except OSError as exc:
            self.notify(f"could not save the screenshot: {exc}", severity="error", markup=False)
            return None
        self.notify(f"saved {saved}", title="Screenshot", markup=False)
        return saved
