"""The TUI's background threads: the indexer and the seeker (no Textual here).

Both are daemon threads of our own rather than Textual thread workers: a
thread worker runs in asyncio's default executor, and leaving ``asyncio.run``
waits for every executor thread to finish, so ``q`` during a long replay
waited for the replay (seen: over 10 s). These threads check a stop flag
every few hundred events, close their own journal when they end, and are
never waited for: quitting is immediate.

They report through ``post(report)``, which the app turns into a
thread-safe Textual message; a report the app can no longer receive is
dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import attrs

from tui.filtering import Filter, event_text, matches
from tui.formatting import printable
from tui.timeline_data import Detail, TimelineData, build_detail
from twin.frames import Frame
from twin.replay import Replay

CHECK_EVERY = 256  # events between two progress reports
YIELD_EVERY = 8  # events between two looks at whether the user is busy or quitting
NEAR = 1024  # a seek replays at most this many events past a snapshot (else it waits)
REPORT_EVERY_S = 0.2
POLL_S = 0.5  # live mode: how often the head is read


@attrs.frozen
class Progress:
    """How far the index is: scanned and evaluated events out of ``head``."""

    scanned: int
    evaluated: int
    head: int
    done: bool


@attrs.frozen
class DetailReady:
    """The detail at ``seq`` (None: the journal is empty there, or ``waiting``)."""

    seq: int
    detail: Detail | None
    waiting: bool = False  # the evaluation has not reached ``seq`` yet: ask again later


@attrs.frozen
class JournalWarning:
    """Something the journal's reader noticed (a broken chain link, a gap) — said once."""

    message: str


@attrs.frozen
class Failed:
    """A thread ended on an error (a journal the twin cannot replay, a strict plugin)."""

    error: BaseException


Post = Callable[[object], None]


class Job(threading.Thread):
    """A background thread of the TUI: a stop flag, a wake-up event, reports to the app."""

    def __init__(self, data: TimelineData, post: Post, name: str) -> None:
        super().__init__(name=f"twin-tui-{name}", daemon=True)
        self.data = data
        self._post = post
        self.stopping = threading.Event()
        self.wake = threading.Event()

    def pause_for_user(self, margin: float = 0.0) -> None:
        """While the user is pressing keys, let the UI thread have the interpreter.

        Python runs one thread at a time; a thread replaying events would make
        each repaint wait for its turn. So background work sleeps while
        ``data.busy_until`` (set by the app on every move) is in the future.
        """
        while time.monotonic() < self.data.busy_until - margin and not self.stopping.is_set():
            time.sleep(0.01)

    def stop(self) -> None:
        """Ask the thread to end soon (it is never waited for)."""
        self.stopping.set()
        self.wake.set()

    def post(self, report: object) -> None:
        if self.stopping.is_set():
            return
        try:
            self._post(report)
        except RuntimeError:  # the app's loop is gone: nobody is listening
            self.stopping.set()


class Indexer(Job):
    """Scans, then evaluates, every event into ``data.index``; in live mode, keeps going.

    Args:
        data: the timeline.
        post: where reports go.
        follow: keep reading new events as another process appends them.
    """

    def __init__(self, data: TimelineData, post: Post, *, follow: bool = False) -> None:
        super().__init__(data, post, "indexer")
        self.follow = follow
        self._last_report = 0.0

    def run(self) -> None:
        journal = self.data.pool.for_thread()
        inner = getattr(journal, "_journal", journal)  # a LockedJournal's own journal
        inner.on_warning = lambda message: self.post(JournalWarning(message))
        try:
            replay = Replay(journal, self.data.manager, self.data.profile, branch=self.data.branch)
            frames = None
            while not self.stopping.is_set():
                head = journal.head(branch=self.data.branch)
                self._scan(journal, head)
                if self.stopping.is_set():
                    return
                frames = self._evaluate(replay, journal, frames)
                if self.stopping.is_set():
                    return
                self._report(head, done=True)
                if not self.follow:
                    return
                self.wake.wait(POLL_S)
                self.wake.clear()
        except Exception as exc:  # reported to the UI, which ends with one line
            if not self.stopping.is_set():
                self.post(Failed(exc))
        finally:
            self.data.pool.release(journal)

    def _report(self, head: int, *, done: bool = False) -> None:
        now = time.monotonic()
        if done or now - self._last_report >= REPORT_EVERY_S:
            self._last_report = now
            index = self.data.index
            self.post(Progress(index.scanned, index.evaluated, head, done))

    def _scan(self, journal: object, head: int) -> None:
        index = self.data.index
        if index.scanned >= head:
            return
        add = index.add_event
        events = journal.read(index.scanned + 1, head, branch=self.data.branch)  # type: ignore[attr-defined]
        for count, env in enumerate(events, start=1):
            add(env.occurred_at, printable(env.type), printable(env.event.subject))
            if count % YIELD_EVERY == 0:
                self.pause_for_user()
                if self.stopping.is_set():
                    return
            if count % CHECK_EVERY == 0:
                self._report(head)

    def _evaluate(self, replay: Replay, journal: object, engine_at: int | None) -> int | None:
        """Evaluate up to the scanned events; return the seq the engine is at."""
        index = self.data.index
        target = index.scanned
        if index.evaluated >= target:
            return engine_at
        add = index.add_frame
        if engine_at is None:
            source = replay.frames(index.evaluated + 1, target)
        else:  # live mode: the engine is where we left it; step it on
            engine = replay.engine
            source = (
                engine.step(env)
                for env in journal.read(  # type: ignore[attr-defined]
                    index.evaluated + 1, target, branch=self.data.branch
                )
            )
        frame: Frame | None = None
        try:
            for count, frame in enumerate(source, start=1):
                add(frame)
                if count % YIELD_EVERY == 0:
                    self.pause_for_user()
                    if self.stopping.is_set():
                        return None
                if count % CHECK_EVERY == 0:
                    self._report(target)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()  # its clean-up (saving snapshots) runs here, not in a finalizer
        return frame.seq if frame is not None else engine_at


class Seeker(Job):
    """Works out the :class:`Detail` at the latest requested seq (older requests are dropped)."""

    def __init__(self, data: TimelineData, post: Post) -> None:
        super().__init__(data, post, "seeker")
        self._target = 0
        self._lock = threading.Lock()

    def request(self, seq: int) -> None:
        """Ask for the detail at ``seq``; only the latest request is answered."""
        with self._lock:
            self._target = seq
        self.wake.set()

    def pending(self) -> int:
        """The seq asked for last."""
        return self._target

    def run(self) -> None:
        journal = self.data.pool.for_thread()
        try:
            replay = Replay(journal, self.data.manager, self.data.profile, branch=self.data.branch)
            position: int | None = None
            while not self.stopping.is_set():
                self.wake.wait()
                self.wake.clear()
                if self.stopping.is_set():
                    return
                # the detail is shown once the keys pause: work it out then, not under them
                self.pause_for_user(margin=0.15)
                with self._lock:
                    target = self._target
                if target < 1:
                    position = None
                    self.post(DetailReady(target, None))
                    continue
                if not self._reachable(journal, replay, target, position):
                    self.post(DetailReady(target, None, waiting=True))
                    continue
                if position is not None and target == position + 1:
                    frame: Frame | None = replay.engine.step(
                        journal.get(target, branch=self.data.branch)
                    )
                elif position == target:
                    frame = self._last
                else:
                    frame = replay.at(target)
                position = target
                self._last = frame
                detail = None if frame is None else build_detail(frame, replay.engine.state)
                if self._target == target:
                    self.post(DetailReady(target, detail))
        except Exception as exc:
            if not self.stopping.is_set():
                self.post(Failed(exc))
        finally:
            self.data.pool.release(journal)

    _last: Frame | None = None

    def _reachable(self, journal: object, replay: Replay, target: int, at: int | None) -> bool:
        """True if seeking ``target`` costs a short replay (a snapshot near it, or one step).

        Far from any snapshot, the seek would replay up to the whole journal
        while the indexer's evaluation is on its way there writing snapshots:
        better wait for it (the app asks again as the evaluation moves on).
        """
        if at is not None and 0 <= target - at <= 1:
            return True
        if target <= max(NEAR, self.data.index.evaluated):
            return True
        found = journal.load_snapshot(replay.key, target, branch=self.data.branch)  # type: ignore[attr-defined]
        return found is not None and target - found[0] <= NEAR


@attrs.frozen
class FilterReady:
    """The events a filter matched (``spec.text`` says which filter)."""

    spec: Filter
    seqs: object  # array('I') of matching seqs, in order


class FilterJob(Job):
    """Finds the events a filter matches, reading the journal only for plain words."""

    def __init__(self, data: TimelineData, post: Post, spec: Filter) -> None:
        super().__init__(data, post, "filter")
        self.spec = spec

    def run(self) -> None:
        journal = self.data.pool.for_thread() if self.spec.needs_text else None
        try:
            texts = None
            if journal is not None:
                texts = (
                    (env.seq, event_text(env.data, env.actor, env.reason))
                    for env in journal.read(1, self.data.index.scanned, branch=self.data.branch)
                )
            found = matches(self.data.index, self.spec, texts, self.stopping.is_set)
            if not self.stopping.is_set():
                self.post(FilterReady(self.spec, found))
        except Exception as exc:
            if not self.stopping.is_set():
                self.post(Failed(exc))
        finally:
            if journal is not None:
                self.data.pool.release(journal)


@attrs.frozen
class DiffReady:
    """``twin diff``'s result between ``a`` and ``b``."""

    a: int
    b: int
    result: dict[str, object]


class DiffJob(Job):
    """Works out the diff between two events with a replay of its own."""

    def __init__(self, data: TimelineData, post: Post, a: int, b: int) -> None:
        super().__init__(data, post, "diff")
        self.a, self.b = a, b

    def run(self) -> None:
        from twin.diff import diff_between

        journal = self.data.pool.for_thread()
        try:
            replay = Replay(journal, self.data.manager, self.data.profile, branch=self.data.branch)
            result = diff_between(replay, self.a, self.b)
            self.post(DiffReady(self.a, self.b, result))
        except Exception as exc:
            if not self.stopping.is_set():
                self.post(Failed(exc))
        finally:
            self.data.pool.release(journal)


@attrs.frozen
class BisectProbe:
    """One probe of a running bisection."""

    probe: object  # twin.bisect.Probe
    steps_left: int


@attrs.frozen
class BisectDone:
    """A bisection's result (``twin.bisect.BisectResult``) or its error."""

    result: object | None
    error: BaseException | None = None


class BisectJob(Job):
    """Runs :func:`twin.bisect.bisect` (the code of ``twin bisect``) with a replay of its own."""

    def __init__(
        self, data: TimelineData, post: Post, condition: object, start: int, stop: int
    ) -> None:
        super().__init__(data, post, "bisect")
        self.condition, self.start_seq, self.stop_seq = condition, start, stop

    def run(self) -> None:
        from twin.bisect import bisect
        from twin.errors import TwinInputError

        journal = self.data.pool.for_thread()
        try:
            replay = Replay(journal, self.data.manager, self.data.profile, branch=self.data.branch)

            def on_probe(probe: object, left: int) -> None:
                if self.stopping.is_set():
                    raise _Stopped
                self.post(BisectProbe(probe, left))

            def on_scan(_done: int, _total: int) -> None:
                if self.stopping.is_set():
                    raise _Stopped

            result = bisect(
                replay,
                self.condition,  # type: ignore[arg-type]
                self.start_seq,
                self.stop_seq,
                on_probe=on_probe,
                on_scan=on_scan,
            )
            self.post(BisectDone(result))
        except _Stopped:
            return
        except TwinInputError as exc:
            self.post(BisectDone(None, exc))
        except Exception as exc:
            if not self.stopping.is_set():
                self.post(Failed(exc))
        finally:
            self.data.pool.release(journal)


class _Stopped(Exception):
    """Raised inside a callback to end a job early."""
