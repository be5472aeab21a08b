"""One journal, read from several threads (no Textual here).

A :class:`~journal.Journal` is meant for one thread at a time. The TUI reads
from three: the UI (rows on demand, the live head), the indexer (scan and
evaluation) and the seeker (the detail at the cursor). A journal *file* gets
one connection per thread, so no thread ever waits for another (SQLite's WAL
lets them read at once). An in-memory journal (an event file loaded for the
session) has only one connection: :class:`LockedJournal` shares it, one
call or one chunk at a time, so the UI never waits for a whole replay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from journal import Journal

SHARED_CHUNK = 256
#: Rows per query when a thread reads a journal file: a query's rows are fetched and
#: decoded in one go, with no look at whether the user is pressing keys in between.
THREAD_CHUNK = 256


class JournalClosing(RuntimeError):
    """The shared journal is being closed: a background thread's call is refused."""


class LockedJournal:
    """A journal whose every call, and every step of every read, holds one lock.

    Only what the TUI's threads call is wrapped explicitly; other attributes are
    forwarded, callables under the lock.
    """

    def __init__(
        self, journal: Journal, lock: threading.RLock, closing: threading.Event | None = None
    ) -> None:
        self._journal = journal
        self._lock = lock
        self._closing = closing or threading.Event()
        self.path = journal.path
        self.registry = journal.registry

    def read(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """:meth:`Journal.read`, holding the lock for each step (a chunk's query at most).

        Chunks are small (256 events), so another thread never waits long for its turn.
        """
        kwargs["chunk"] = min(int(kwargs.get("chunk", SHARED_CHUNK)), SHARED_CHUNK)
        with self._lock:
            if self._closing.is_set():
                raise JournalClosing("the journal is closing (read refused)")
            inner = self._journal.read(*args, **kwargs)
        return self._locked_steps(inner)

    def _locked_steps(self, inner: Iterator[Any]) -> Iterator[Any]:
        closing = self._closing
        while True:
            if closing.is_set():  # let the closer have the lock: the read ends here
                raise JournalClosing("the journal is closing (read cut short)")
            with self._lock:
                if closing.is_set():
                    raise JournalClosing("the journal is closing (read cut short)")
                try:
                    item = next(inner)
                except StopIteration:
                    return
            yield item

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._journal, name)
        if not callable(value):
            return value
        lock, closing = self._lock, self._closing

        def locked(*args: Any, **kwargs: Any) -> Any:
            if closing.is_set():
                raise JournalClosing(f"the journal is closing ({name} refused)")
            with lock:
                if closing.is_set():
                    raise JournalClosing(f"the journal is closing ({name} refused)")
                return value(*args, **kwargs)

        return locked


class ThreadJournal:
    """A journal file opened for one thread, read in small chunks.

    :meth:`Journal.read` fetches and decodes a chunk of rows (2,000 by default) before
    it yields the first; a background thread looks at whether the user is busy only
    between events, so a big chunk is a stretch of tens of milliseconds (far more on
    a loaded machine) during which a key press waits for the interpreter.
    """

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def read(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """:meth:`Journal.read` with at most :data:`THREAD_CHUNK` rows per query."""
        kwargs["chunk"] = min(int(kwargs.get("chunk", THREAD_CHUNK)), THREAD_CHUNK)
        return self._journal.read(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._journal, name)


class JournalPool:
    """Hands each thread a journal of its own (file) or the shared one, locked (memory).

    A thread closes what it was given with :meth:`release` when it ends; the
    source's own journal is closed by its owner, under :attr:`lock`.

    Args:
        journal: the source's journal.
    """

    def __init__(self, journal: Journal) -> None:
        self.main = journal
        self.lock = threading.RLock()
        #: set by :meth:`close_main`: the shared journal takes no more calls
        self.closing = threading.Event()

    def for_thread(self) -> Journal:
        """A journal for one more thread."""
        path = self.main.path
        if path is None:
            return LockedJournal(self.main, self.lock, self.closing)  # type: ignore[return-value]
        return ThreadJournal(Journal.open(path, registry=self.main.registry))  # type: ignore[return-value]

    def release(self, journal: Journal) -> None:
        """Close a journal that :meth:`for_thread` opened (the shared one stays open)."""
        if isinstance(journal, ThreadJournal):
            journal._journal.close()
        elif isinstance(journal, Journal) and journal is not self.main:
            journal.close()

    def close_main(self, close: Callable[[], None]) -> None:
        """Run ``close`` (closing the source) while no thread is inside a call.

        From then on the shared journal refuses other threads' calls (a read in
        progress ends at its next step): a thread replaying under the lock would
        otherwise take it again at once, event after event, and the closer would
        wait for its turn (Python's locks are not fair: that was up to the whole
        timeout, which made ``q`` take over 2 s under load). It waits at most a
        second for a thread to leave its call; a thread that does not is stuck,
        and the process is ending anyway.
        """
        self.closing.set()
        if self.lock.acquire(timeout=1.0):
            try:
                close()
            finally:
                self.lock.release()
