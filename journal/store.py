"""The :class:`Journal`: one SQLite file, the source of truth of a twin.

One connection per :class:`Journal`; several journals (in one process or
many) may use the same file at once. Writers take turns through SQLite's
write lock (each waits up to :data:`~journal.schema.BUSY_TIMEOUT_S`); readers
see a consistent WAL snapshot and are never blocked by a writer.

A :class:`Journal` is meant for one thread at a time.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType

from journal import (
    appending,
    branches,
    exporting,
    failures,
    snapshots,
    verifying,
)
from journal.folding import fold
from journal.reading import COLUMNS_SQL, decode_rows, read_view
from journal.results import AppendResult, BranchInfo, VerifyResult
from journal.schema import BUSY_TIMEOUT_S, connect, prepare
from twin.envelope import Envelope
from twin.errors import TwinInputError
from twin.event_files import Importer, NewEvent, read_event_file
from twin.events import EventRegistry, default_registry
from twin.state import TwinState


def _unwritable(file: Path, exc: sqlite3.Error) -> bool:
    """True if ``exc`` came from a journal SQLite could not open for writing where it lies."""
    code = failures.code_of(exc)
    if code not in (failures.SQLITE_CANTOPEN, failures.SQLITE_READONLY, failures.SQLITE_IOERR):
        return False
    return not os.access(file, os.W_OK) or not os.access(file.parent, os.W_OK)


def _no_room(file: Path, exc: sqlite3.Error) -> bool:
    """True if ``exc`` came from a disk too full for SQLite to open the journal to write.

    A WAL journal needs room for its ``-shm`` file even to be read; on a full disk it
    can still be read as an immutable file.
    """
    code = failures.code_of(exc)
    return code in (failures.SQLITE_FULL, failures.SQLITE_IOERR) and failures.disk_full(file)


_READ_ONLY_MEDIA = (
    "cannot write: the journal or its folder is read-only (read-only media or "
    "mount, or file permissions); it was opened for reading only; nothing was written"
)
_FULL_DISK = (
    "cannot write: the disk is full; it was opened for reading only; nothing was written "
    "(free some space, or use a journal on another disk)"
)


def _remove_journal_files(file: Path) -> None:
    """Remove a journal this process just failed to create (nothing half-made is left)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{file}{suffix}").unlink(missing_ok=True)


class Journal:
    """An append-only, hash-chained event journal in one SQLite file.

    Make one with :meth:`create`, :meth:`open` or :meth:`in_memory`; close it with
    :meth:`close` or use it as a context manager.

    Attributes:
        path: the file, or None for an in-memory journal.
        registry: the event types used to decode stored payloads (core types by
            default; the plugin manager passes one that includes plugins' types).
        use_snapshots: read and write reducer-state snapshots (switch off to
            replay from the first event every time; results are the same).
        read_only: opened with ``read_only=True``: nothing is ever written to the
            file (appends and branches are refused, snapshots are read, not saved).
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: str | None,
        *,
        registry: EventRegistry | None = None,
        snapshots: bool = True,
        read_only: bool = False,
        wait: float | None = None,
    ) -> None:
        """Wrap a prepared connection; use :meth:`create`, :meth:`open` or :meth:`in_memory`."""
        self._conn = conn
        self.path = path
        self.read_only = read_only
        self.registry = registry if registry is not None else default_registry()
        self.use_snapshots = snapshots
        self.wait = BUSY_TIMEOUT_S if wait is None else wait
        self._read_only_why = "opened read-only; nothing is written to it"
        self._integrity_warned = False
        self.warnings: list[str] = []
        self.on_warning: Callable[[str], None] | None = None
        self._closed = False
        # The reducer state at the head of one branch after our last append.
        self._head_state: tuple[str | None, TwinState] | None = None

    def warn(self, message: str) -> None:
        """Record a warning about the journal (once) and pass it to :attr:`on_warning`.

        The CLI prints them on stderr; library callers read :attr:`warnings`.
        """
        if message in self.warnings:
            return
        self.warnings.append(message)
        if self.on_warning is not None:
            self.on_warning(message)

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        registry: EventRegistry | None = None,
        snapshots: bool = True,
        wait: float | None = None,
    ) -> Journal:
        """Create a new, empty journal file.

        Raises:
            TwinInputError: the file already exists or cannot be created.
        """
        if Path(path).exists():
            raise TwinInputError(
                "already exists; open it, or choose a new file name", source=str(path)
            )
        return cls.open(path, registry=registry, create=True, snapshots=snapshots, wait=wait)

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        registry: EventRegistry | None = None,
        create: bool = False,
        snapshots: bool = True,
        read_only: bool = False,
        wait: float | None = None,
    ) -> Journal:
        """Open a journal file (creating it first if ``create`` and it does not exist).

        A journal whose file or folder cannot be written (read-only media, a
        read-only mount) is opened read-only as an immutable file: it can be
        read, nothing is written to it. Changes still in its ``-wal`` file
        cannot be read that way; a warning says so.

        Args:
            path: the journal file.
            registry: event types for decoding (default: the core catalog).
            create: make a new journal if the file does not exist (or is empty).
            snapshots: use reducer-state snapshots.
            read_only: never write the file: the connection is ``query_only``, so
                the file's bytes are the same afterwards (what-if sessions and plans
                open their base this way). Cannot be combined with ``create``.
            wait: seconds a write waits for another writer's lock before giving up
                (default :data:`~journal.schema.BUSY_TIMEOUT_S`).

        Raises:
            TwinInputError: one line naming the file: no such journal, not a twin
                journal, a newer format, or the file cannot be opened.
            JournalLockedError: another writer held the lock during a needed
                schema upgrade for longer than ``wait``.
        """
        file = Path(path)
        shown = str(path)
        if file.is_dir():
            raise TwinInputError("is a directory, not a journal", source=shown)
        if not file.exists():
            if not create:
                raise TwinInputError(
                    f"no such journal; create it with `twin init {shown}`", source=shown
                )
            if not file.parent.is_dir():
                raise TwinInputError(
                    f"cannot create the journal: no such directory {str(file.parent)!r}",
                    source=shown,
                )
        elif not file.is_file():
            raise TwinInputError("not a regular file, so not a journal", source=shown)
        if read_only and create:
            raise ValueError("a journal cannot be created read-only")
        new_file = create and not file.exists()
        try:
            conn = connect(shown, wait=wait)
        except sqlite3.Error as exc:
            raise failures.translate(exc, shown, wait=wait) from None
        try:
            if read_only:
                conn.execute("PRAGMA query_only = 1")
            prepare(conn, shown, create=create, read_only=read_only)
        except sqlite3.Error as exc:
            conn.close()
            if new_file:
                _remove_journal_files(file)
            elif not create and _unwritable(file, exc):
                return cls._open_immutable(file, registry=registry, snapshots=snapshots)
            elif not create and _no_room(file, exc):
                return cls._open_immutable(
                    file, registry=registry, snapshots=snapshots, why=_FULL_DISK
                )
            raise failures.translate(exc, shown, wait=wait) from None
        except BaseException:
            conn.close()
            if new_file:
                _remove_journal_files(file)
            raise
        return cls(
            conn, shown, registry=registry, snapshots=snapshots, read_only=read_only, wait=wait
        )

    @classmethod
    def _open_immutable(
        cls,
        file: Path,
        *,
        registry: EventRegistry | None,
        snapshots: bool,
        why: str = _READ_ONLY_MEDIA,
    ) -> Journal:
        """Open a journal on read-only media (or a full disk): SQLite's ``immutable=1``.

        Nothing is written to it; ``why`` is what a refused write says.
        """
        shown = str(file)
        uri = f"file:{urllib.parse.quote(str(file.resolve()))}?immutable=1"
        try:
            conn = connect(uri, uri=True)
            prepare(conn, shown, create=False, read_only=True)
        except sqlite3.Error as exc:
            raise failures.translate(exc, shown) from None
        journal = cls(conn, shown, registry=registry, snapshots=snapshots, read_only=True)
        journal._read_only_why = why
        where = "on a full disk" if why is _FULL_DISK else "on read-only media"
        wal = Path(f"{file}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            journal.warn(
                f"{shown} is {where} and its {wal.name} ({wal.stat().st_size:,} "
                "bytes) cannot be read from there: the latest events may be missing. Copy "
                f"{file.name} together with {wal.name} to writable storage, or make a "
                "single-file copy with `twin export` where it was written"
            )
        return journal

    @classmethod
    def in_memory(cls, *, registry: EventRegistry | None = None, snapshots: bool = True) -> Journal:
        """A temporary journal that lives in memory (e.g. to load an event file)."""
        conn = connect(":memory:")
        prepare(conn, ":memory:", create=True)
        return cls(conn, None, registry=registry, snapshots=snapshots)

    def close(self) -> None:
        """Close the connection (safe to call twice)."""
        if not self._closed:
            self._closed = True
            self._head_state = None
            self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({self.path or ':memory:'!r})"

    # -- reading ---------------------------------------------------------------------------

    def head(self, branch: str | None = None) -> int:
        """The last seq (0 when empty); for a branch, its fork seq until it has events of its own.

        Raises:
            TwinInputError: no such branch.
        """
        return branches.head(self._conn, branches.segments(self._conn, branch))

    def read(
        self,
        start: int = 1,
        stop: int | None = None,
        *,
        branch: str | None = None,
        chunk: int = 2000,
    ) -> Iterator[Envelope]:
        """Stream the events with seq in ``[start, stop]`` (``stop`` None: the head now).

        Events are read ``chunk`` rows at a time; the journal is never loaded whole.
        Types that no installed plugin knows come back as
        :class:`~twin.events.OpaqueEvent`.

        Raises:
            TwinInputError: no such branch, or a stored payload that cannot be decoded.
        """
        if chunk < 1:
            raise ValueError("chunk must be at least 1")
        view = branches.segments(self._conn, branch)
        top = branches.head(self._conn, view)
        end = top if stop is None else stop
        rows = read_view(
            self._conn,
            view,
            max(start, 1),
            end,
            chunk=chunk,
            registry=self.registry,
            shown=self.path,
            warn=self._integrity_warning,
        )
        return self._checked_to_head(rows, view[-1].branch, top) if end >= top else rows

    def _checked_to_head(
        self, rows: Iterator[Envelope], line: str | None, top: int
    ) -> Iterator[Envelope]:
        """Pass ``rows`` on; at the line's end, compare the last one with the head anchor."""
        last: Envelope | None = None
        for last in rows:
            yield last
        if last is not None or top == 0:
            problem = verifying.anchor_problem(
                self._conn, line, top, None if last is None else last.hash
            )
            if problem is not None:
                self._integrity_warning(problem)

    def _integrity_warning(self, problem: str) -> None:
        """The first sign of an edited journal met while reading: one warning, then quiet."""
        if self._integrity_warned:
            return
        self._integrity_warned = True
        name = self.path or "the journal"
        self.warn(f"{name}: {problem}; it may have been edited: run `twin verify {name}`")

    def get(self, seq: int, *, branch: str | None = None) -> Envelope:
        """The event at ``seq``.

        Raises:
            TwinInputError: no event at ``seq`` (the message gives the head).
        """
        view = branches.segments(self._conn, branch)
        row = branches.fetch_row(self._conn, view, seq, COLUMNS_SQL) if seq >= 1 else None
        if row is None:
            raise TwinInputError(
                f"no event {seq}; the head of {branch or branches.MAIN} is "
                f"{branches.head(self._conn, view)}",
                field="seq",
                value=seq,
                source=self.path,
            )
        return decode_rows([row], self.registry, self.path)[0]

    def seq_of_event_id(self, event_id: str, *, branch: str | None = None) -> int | None:
        """The seq of the event with ``event_id`` in a view, or None if it is not there.

        Raises:
            TwinInputError: no such branch.
        """
        view = branches.segments(self._conn, branch)
        found = appending.existing_events(self._conn, view, [event_id]).get(event_id)
        return None if found is None else found[0]

    def event_types(self, stop: int | None = None, *, branch: str | None = None) -> frozenset[str]:
        """The event types stored in seqs ``1..stop`` of a view (``stop`` None: the head).

        Read from the ``type`` column, no payload decoded: types no installed
        plugin knows are included as stored.

        Raises:
            TwinInputError: no such branch.
        """
        view = branches.segments(self._conn, branch)
        end = branches.head(self._conn, view) if stop is None else stop
        found: set[str] = set()
        for seg in view:
            if seg.lo > end:
                break
            where, params = seg.where(1, end)
            found.update(
                str(r[0]) for r in self._conn.execute(f"SELECT DISTINCT type {where}", params)
            )
        return frozenset(found)

    def state_at(self, seq: int | None = None, *, branch: str | None = None) -> TwinState:
        """The reducer state (no rules) after ``seq`` (None: the head).

        Restores the nearest state snapshot at or before ``seq`` and replays the
        rest; snapshots passed on the way are saved if the journal lets us write.
        The state returned is the caller's own.

        Raises:
            TwinInputError: ``seq`` is outside ``0..head``, or no such branch.
        """
        view = branches.segments(self._conn, branch)
        top = branches.head(self._conn, view)
        target = top if seq is None else seq
        if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= top:
            raise TwinInputError(
                f"must be a seq from 0 to {top}, the head of {branch or branches.MAIN} "
                f"(got {seq!r})",
                field="seq",
                value=seq,
                source=self.path,
            )
        state, pending = fold(
            self._conn,
            view,
            target,
            registry=self.registry,
            shown=self.path,
            use_snapshots=self.use_snapshots,
            warn=self._integrity_warning,
        )
        if pending and not self.read_only:
            snapshots.try_insert(self._conn, pending)
        return state

    def verify(
        self, *, branch: str | None = None, progress: Callable[[int], None] | None = None
    ) -> VerifyResult:
        """Check the hash chain of the main line (or of a branch's whole view).

        Every row is re-hashed from its stored columns; the first missing seq,
        broken link or edited row is named, and the head anchor must match the
        last row (events deleted from the end).

        Args:
            branch: check this branch's view (its parent's prefix, then its own events).
            progress: called with the number of events checked, now and then.

        Raises:
            TwinInputError: no such branch, or one whose parents are missing or in a cycle.
        """
        self._conn.execute("BEGIN")  # one snapshot for every segment
        try:
            return verifying.verify_view(self._conn, branch, progress)
        finally:
            self._conn.execute("COMMIT")

    def verify_all(self, *, progress: Callable[[int], None] | None = None) -> list[VerifyResult]:
        """Check the main line and every branch (each stored row once): one result per line.

        A branch whose parents are missing or form a cycle is a failed result; the
        other lines are still checked.

        Args:
            progress: called with the number of events checked so far, now and then.
        """
        return verifying.verify_all(self._conn, progress)

    def check_recorded_head(self, head: str) -> str | None:
        """Whether the main line still holds ``head`` (``SEQ:HASH`` or ``HASH``), recorded
        elsewhere (``twin import`` prints it); run after a successful :meth:`verify`.

        Returns:
            None if it does, else what is wrong in words (the history was rewritten).

        Raises:
            TwinInputError: ``head`` is not ``SEQ:HASH`` or a 64-digit hex hash.
        """
        seq, head_hash = verifying.parse_recorded_head(head)
        return verifying.check_recorded_head(self._conn, seq, head_hash)

    # -- writing ---------------------------------------------------------------------------

    def append(
        self,
        events: Iterable[NewEvent],
        *,
        branch: str | None = None,
        expect_head: int | None = None,
        actor: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> AppendResult:
        """Append events, all or nothing.

        Events whose ``event_id`` is already in the journal (or earlier in the same
        batch) with the same content are skipped and counted, so appending the same
        events twice is harmless; the same id with different content is refused.
        Every other event is checked against the state it lands on; the first one
        that does not fit refuses the whole batch and nothing is written. The input
        is read lazily, a few thousand events at a time, inside the one transaction,
        so memory stays bounded whatever its size.

        Args:
            events: the events, in order.
            branch: append to this branch instead of the main line.
            expect_head: refuse unless the head is still this (optimistic concurrency).
            actor: the actor of events that name none.
            progress: called with the number of events done every few thousand.

        Raises:
            ConflictError: the head moved on from ``expect_head``.
            TwinInputError: an invalid event or an ``event_id`` reused for different
                content, located at its file and line; or no such branch; or the
                journal cannot be written (read-only, disk full): nothing was written.
            JournalLockedError: another writer held the lock longer than :attr:`wait`.
        """
        self._refuse_if_read_only()
        view = branches.segments(self._conn, branch)
        name = view[-1].branch
        cached = None
        if self._head_state is not None and self._head_state[0] == name:
            cached = self._head_state[1]
        self._head_state = None
        with failures.sqlite_failures(self.path, wait=self.wait):
            result, state = appending.write(
                self._conn,
                view,
                events,
                registry=self.registry,
                shown=self.path,
                use_snapshots=self.use_snapshots,
                expect_head=expect_head,
                actor=actor,
                progress=progress,
                cached=cached,
            )
        self._head_state = (name, state)
        return result

    def import_file(
        self,
        path: str | Path,
        *,
        branch: str | None = None,
        expect_head: int | None = None,
        allow_unknown: bool = False,
        importers: Sequence[Importer] = (),
        progress: Callable[[int], None] | None = None,
    ) -> AppendResult:
        """Append an event file (``.jsonl``, ``.csv`` or a plugin's format), all or nothing.

        The file is read, decoded and checked a batch at a time inside the write
        transaction, so a file of any size is imported in bounded memory; every
        event is checked against the state it lands on. Any bad line or event
        refuses the whole file and nothing is written.

        Args:
            path: the event file.
            branch: append to this branch instead of the main line.
            expect_head: refuse unless the head is still this.
            allow_unknown: keep events of unknown types (as opaque events) instead of refusing.
            importers: plugins' readers, tried before the built-in ones.
            progress: called with the number of events done every few thousand.

        Raises:
            TwinInputError: the first bad line as ``file:line: field: problem``
                (unknown types suggest the closest known one unless ``allow_unknown``).
            ConflictError: the head moved on from ``expect_head``.
        """
        events = read_event_file(
            path, self.registry, importers=importers, allow_unknown=allow_unknown
        )
        return self.append(events, branch=branch, expect_head=expect_head, progress=progress)

    def export(self, target: str | Path, *, keep_snapshots: bool = False) -> Path:
        """Write a checkpointed single-file copy of this journal (see :mod:`journal.exporting`).

        Everything committed is in the copy, including what is still in ``-wal``;
        the copy is one file (rollback journal mode) that reads anywhere.

        Raises:
            TwinInputError: ``target`` exists or cannot be written.
        """
        if self.path is None:
            raise TwinInputError("an in-memory journal has nothing to export")
        return exporting.export(self._conn, self.path, target, keep_snapshots=keep_snapshots)

    # -- branches --------------------------------------------------------------------------

    def branches(self) -> list[BranchInfo]:
        """Every what-if branch (the main line is not listed), by name."""
        return branches.list_branches(self._conn)

    def create_branch(self, name: str, *, at: int, parent: str | None = None) -> BranchInfo:
        """Fork a what-if branch from ``parent`` (None: the main line) after seq ``at``.

        Raises:
            TwinInputError: the name is taken or invalid, no such parent, or ``at`` is
                outside ``0..head of parent``.
        """
        self._refuse_if_read_only()
        with failures.sqlite_failures(self.path, wait=self.wait):
            return branches.create(self._conn, name, at=at, parent=parent)

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise TwinInputError(self._read_only_why, source=self.path)

    # -- snapshots -------------------------------------------------------------------------

    def save_snapshot(
        self, key: str, seq: int, blob: bytes, digest: str, *, branch: str | None = None
    ) -> bool:
        """Cache something folded from events ``1..seq`` of a view under ``key``.

        Best effort: a journal that is busy for long or read-only just does not
        keep it.

        Returns:
            True if it was saved.

        Raises:
            ValueError: ``seq`` is not an event of the view.
        """
        view = branches.segments(self._conn, branch)
        top = branches.head(self._conn, view)
        if not 1 <= seq <= top:
            raise ValueError(f"seq {seq} is not an event of {branch or branches.MAIN} (1..{top})")
        if self.read_only:
            return False
        return snapshots.try_insert(self._conn, [snapshots.row(view, key, seq, blob, digest)])

    def save_snapshots(
        self,
        key: str,
        items: Sequence[tuple[int, bytes, str]],
        *,
        branch: str | None = None,
    ) -> bool:
        """Cache several ``(seq, blob, digest)`` snapshots of ``key`` in one short transaction.

        Best effort, like :meth:`save_snapshot`.

        Raises:
            ValueError: a ``seq`` is not an event of the view.
        """
        view = branches.segments(self._conn, branch)
        top = branches.head(self._conn, view)
        for seq, _blob, _digest in items:
            if not 1 <= seq <= top:
                raise ValueError(
                    f"seq {seq} is not an event of {branch or branches.MAIN} (1..{top})"
                )
        if self.read_only:
            return False
        rows = [snapshots.row(view, key, seq, blob, digest) for seq, blob, digest in items]
        return snapshots.try_insert(self._conn, rows)

    def load_snapshot(
        self, key: str, at_or_before: int, *, branch: str | None = None
    ) -> tuple[int, bytes] | None:
        """The newest snapshot of ``key`` with seq <= ``at_or_before`` in the view, as (seq, blob).

        A branch also sees its parent's snapshots up to its fork seq.
        """
        view = branches.segments(self._conn, branch)
        found = snapshots.load(self._conn, view, key, at_or_before)
        return None if found is None else (found[0], found[1])

    def snapshot_summary(self) -> list[tuple[str, int, int]]:
        """``(key, count, bytes)`` for every snapshot key kept in the file, by key."""
        rows = self._conn.execute(
            "SELECT key, COUNT(*), COALESCE(SUM(LENGTH(blob)), 0) FROM snapshots "
            "GROUP BY key ORDER BY key"
        ).fetchall()
        return [(str(k), int(n), int(size)) for k, n, size in rows]

    def drop_snapshots(self, key: str | None = None) -> int:
        """Delete the snapshots of ``key`` (all snapshots for None); return how many."""
        self._refuse_if_read_only()
        with failures.sqlite_failures(self.path, wait=self.wait):
            return snapshots.drop(self._conn, key)
