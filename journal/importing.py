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
    """Stream an event file into ``journal`` in one transaction, all or nothing.

    The file is read, decoded and checked a batch at a time inside the write
    transaction, so a file of any size is imported in bounded memory; every event
    is checked against the state it lands on. Any bad line or event refuses the
    whole file and nothing is written.

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
