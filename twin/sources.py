"""Open what a command was given: a journal file, or an event file loaded into a temporary journal.

Every command that takes a journal also takes an event file (contract §3):
``.jsonl``/``.ndjson``/``.csv`` (or a plugin importer's format) is imported,
all or nothing, into an in-memory journal first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs

from journal import Journal
from twin.errors import TwinInputError
from twin.event_files import BUILTIN_IMPORTERS, Importer
from twin.plugin_manager import TwinPluginManager

SQLITE_MAGIC = b"SQLite format 3\x00"


@attrs.define
class Source:
    """An opened source.

    Attributes:
        journal: the journal to read (temporary for an event file).
        label: how to name it to people (the path as given).
        kind: ``journal`` or ``events``.
        branch: the what-if branch selected with ``--branch``, or None for main.
    """

    journal: Journal
    label: str
    kind: str
    branch: str | None = None

    def head(self) -> int:
        """The last seq of the selected branch."""
        return self.journal.head(branch=self.branch)

    def close(self) -> None:
        """Close the journal."""
        self.journal.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_event_file(path: Path, importers: list[Importer]) -> bool:
    """True if ``path``'s name ends like an event file some importer reads."""
    name = path.name.lower()
    return any(name.endswith(s) for i in (*importers, *BUILTIN_IMPORTERS) for s in i.suffixes)


def open_source(
    path: str | Path,
    manager: TwinPluginManager,
    *,
    branch: str | None = None,
    allow_unknown: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Source:
    """Open ``path`` as a journal, or load it as an event file.

    Raises:
        TwinInputError: missing file, unknown format, a bad event line, or an
            unknown ``--branch``.
    """
    path = Path(path)
    shown = str(path)
    if not path.exists():
        raise TwinInputError("no such file", source=shown)
    registry = manager.event_registry()
    importers = manager.importers()
    if is_event_file(path, importers):
        journal = Journal.in_memory(registry=registry)
        try:
            journal.import_file(
                path, allow_unknown=allow_unknown, importers=importers, progress=progress
            )
        except BaseException:
            journal.close()
            raise
        source = Source(journal, shown, "events", branch)
    else:
        with path.open("rb") as handle:
            magic = handle.read(len(SQLITE_MAGIC))
        if magic != SQLITE_MAGIC:
            suffixes = sorted({s for i in (*importers, *BUILTIN_IMPORTERS) for s in i.suffixes})
            raise TwinInputError(
                f"not a journal or an event file; give a journal (.db) or one of "
                f"{', '.join(suffixes)}",
                source=shown,
            )
        source = Source(Journal.open(path, registry=registry), shown, "journal", branch)
    if branch is not None:
        try:
            source.journal.head(branch=branch)  # refuses an unknown branch, naming the known ones
        except TwinInputError as exc:
            source.close()
            raise TwinInputError(
                exc.problem, field="--branch", value=branch, source=shown
            ) from None
    return source
