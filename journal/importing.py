"""Importing event files into a journal, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from journal.results import AppendResult
from twin.event_files import Importer, read_event_file

if TYPE_CHECKING:
    from journal.store import Journal


def import_file(
    journal: Journal,
    path: str | Path,
    *,
    branch: str | None = None,
    expect_head: int | None = None,
    allow_unknown: bool = False,
    importers: Sequence[Importer] = (),
    progress: Callable[[int], None] | None = None,
) -> AppendResult:
    """Read a whole event file and append it to ``journal`` in one transaction.

    The file is read and decoded before the journal's write lock is taken, so a
    bad line costs other writers nothing; then every event is checked against
    the state it lands on. Any bad line or event refuses the whole file.

    Args:
        journal: where to append.
        path: the event file (``.jsonl``, ``.csv``, or a format an importer reads).
        branch: append to this branch instead of the main line.
        expect_head: refuse unless the head is still this.
        allow_unknown: keep events of unknown types (as opaque events) instead of refusing.
        importers: plugins' readers, tried before the built-in ones.
        progress: called with the number of events done every few thousand.

    Raises:
        TwinInputError: ``file:line: field: problem`` for the first bad line or event.
        ConflictError: the head moved on from ``expect_head``.
    """
    events = read_event_file(
        path, journal.registry, importers=importers, allow_unknown=allow_unknown
    )
    return journal.append(events, branch=branch, expect_head=expect_head, progress=progress)
