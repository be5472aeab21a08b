"""Replays: frames over a range of a journal, and seeking to any event.

A :class:`Replay` ties a journal to an engine. It seeks by restoring the
nearest persisted engine snapshot (state, metrics and findings) and replaying
the few events after it, and it writes a snapshot every ``snapshot_every``
events while it goes, so the next seek is cheap. Snapshots are a cache keyed
by the code version and the plugin/profile fingerprint: another version or
profile never reads them.
"""

from __future__ import annotations

from collections.abc import Iterator

from journal import Journal
from twin import __version__, snapshot_codec
from twin.engine import Engine
from twin.errors import InvalidEventError, TwinInputError, no_event_text
from twin.frames import Frame
from twin.plugin_manager import TwinPluginManager
from twin.profile import Profile
from twin.stored_events import USABLE_ERRORS, explain

# From the seek budget (16 ms), not a framework default: with every built-in rule an
# event costs ~150-250 µs to evaluate, so after restoring a snapshot (~0.3 ms) a seek
# may replay at most ~60-100 events. 64 keeps the worst case near the budget and the
# average near half of it. A compressed engine snapshot is ~5 KB.
SNAPSHOT_EVERY = 64
FLUSH_EVERY = 32  # snapshots written per transaction
BULK = 5000  # a replay longer than this quiets the garbage collector (twin.bulk)


class Replay:
    """Evaluates a journal (or one of its branches) with the installed rules.

    Args:
        journal: the journal to read.
        manager: the plugin manager (rules, observers).
        profile: the parameter values to use.
        branch: a what-if branch, or None for main.
        snapshot_every: persist an engine snapshot every this many events (0: never).
        use_snapshots: read persisted snapshots when seeking.
    """

    def __init__(
        self,
        journal: Journal,
        manager: TwinPluginManager,
        profile: Profile,
        *,
        branch: str | None = None,
        snapshot_every: int = SNAPSHOT_EVERY,
        use_snapshots: bool = True,
    ) -> None:
        self.journal = journal
        self.manager = manager
        self.profile = profile
        self.branch = branch
        self.snapshot_every = snapshot_every
        self.use_snapshots = use_snapshots
        self.key = f"engine:{__version__}+{snapshot_codec.FORMAT}:{manager.fingerprint(profile)}"
        self.engine = manager.build_engine(profile)

    def head(self) -> int:
        """The last seq."""
        return self.journal.head(branch=self.branch)

    def _fresh_engine(self) -> Engine:
        self.engine = self.manager.build_engine(self.profile)
        return self.engine

    def _restore_before(self, seq: int) -> int:
        """Reset the engine to the newest snapshot before ``seq``; return its seq (0: genesis)."""
        engine = self._fresh_engine()
        if not self.use_snapshots or seq <= 1:
            return 0
        found = self.journal.load_snapshot(self.key, seq - 1, branch=self.branch)
        while found is not None:
            snap_seq, blob = found
            try:
                engine.restore(blob)
                return snap_seq
            except ValueError:
                found = (
                    self.journal.load_snapshot(self.key, snap_seq - 1, branch=self.branch)
                    if snap_seq > 1
                    else None
                )
        return 0

    def frames(self, start: int = 1, stop: int | None = None) -> Iterator[Frame]:
        """Yield the frame after every event from ``start`` to ``stop`` (inclusive).

        Events before ``start`` are replayed silently from the nearest snapshot.
        """
        head = self.head()
        stop = head if stop is None else min(stop, head)
        start = max(1, start)
        done = self._restore_before(start)
        engine = self.engine
        every = self.snapshot_every if self.use_snapshots else 0
        if every:
            newest = self.journal.load_snapshot(self.key, stop, branch=self.branch)
            saved_upto = 0 if newest is None else newest[0]
        pending: list[tuple[int, bytes, str]] = []
        seq = done
        try:
            events = self.journal.read(done + 1, stop, branch=self.branch)
            for frame in engine.run(events, bulk=stop - done > BULK, cut=every):
                seq = frame.seq
                if every and seq % every == 0 and seq > saved_upto:
                    # No digest: nothing reads it back, and it costs as much as the snapshot.
                    pending.append((seq, engine.snapshot(), ""))
                    if len(pending) >= FLUSH_EVERY:
                        self._flush(pending)
                        every = self.snapshot_every
                if seq >= start:
                    yield frame
        except InvalidEventError as exc:
            # A stored event the state refuses: a journal written or edited by another tool.
            bad = self.journal.get(seq + 1, branch=self.branch)
            raise TwinInputError(
                f"event {bad.seq} ({bad.type}) does not fit the state: {exc.problem}",
                field=exc.field,
                value=exc.value,
                source=self.journal.path,
            ) from None
        except USABLE_ERRORS:
            # The reducer choked on the event after the last good frame: an edited payload?
            explained = explain(
                self.manager.event_registry(),
                self.journal.get(seq + 1, branch=self.branch),
                self.journal.path,
            )
            if explained is None:
                raise
            raise explained from None
        finally:
            if pending:
                self._flush(pending)

    def _flush(self, pending: list[tuple[int, bytes, str]]) -> None:
        """Write the snapshots taken so far; a journal that will not take them gets no more."""
        if not self.journal.save_snapshots(self.key, pending, branch=self.branch):
            self.snapshot_every = 0  # read-only or busy: stop paying for snapshots
        pending.clear()

    def at(self, seq: int | None = None) -> Frame | None:
        """The frame after event ``seq`` (None: the last); None for an empty journal.

        Raises:
            TwinInputError: ``seq`` is outside 0..head.
        """
        head = self.head()
        target = head if seq is None else seq
        if not 0 <= target <= head:
            raise TwinInputError(
                no_event_text(target, head),
                field="--at",
                value=target,
            )
        if target == 0:
            self._fresh_engine()
            return None
        last: Frame | None = None
        for frame in self.frames(target, target):
            last = frame
        if last is None or last.seq != target:
            raise TwinInputError(
                f"event {target} is missing from the journal (deleted?); run `twin verify`",
                field="--at",
                value=target,
                source=self.journal.path,
            )
        return last
