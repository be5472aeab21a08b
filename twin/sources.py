"""Open what a command was given: a journal file, or an event file loaded into a temporary journal.

Every command that takes a journal also takes an event file (contract §3):
``.jsonl``/``.ndjson``/``.csv`` (or a plugin importer's format) is imported,
all or nothing, into an in-memory journal first. A plan file (``.toml`` with
``[plan]``/``[[step]]``) becomes its base up to its point followed by its
steps (:mod:`twin.plan.source`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from journal import Journal
from twin.errors import TwinInputError
from twin.event_files import BUILTIN_IMPORTERS, Importer, to_new_event
from twin.input_files import check_input_file
from twin.plugin_manager import TwinPluginManager
from twin.state import TwinState

if TYPE_CHECKING:
    from twin.profile import Profile
    from twin.replay import Replay

from twin.text_import import (
    ImportOptions,
    ImportReport,
    detect_format,
    import_text,
    is_text_importer,
    refuse_nothing_read,
)

SQLITE_MAGIC = b"SQLite format 3\x00"


@attrs.define
class Source:
    """An opened source.

    Attributes:
        journal: the journal to read (temporary for an event file).
        label: how to name it to people (the path as given).
        kind: ``journal``, ``events`` or ``plan``.
        branch: the what-if branch selected with ``--branch``, or None for main.
        import_report: what was read, for gateway output (``--input-format``).
    """

    journal: Journal
    label: str
    kind: str
    branch: str | None = None
    import_report: ImportReport | None = None

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


def replay_of(src: Source, manager: TwinPluginManager, profile: Profile) -> Replay:
    """A replay of ``src``; an event file's temporary journal gets no snapshots (thrown away)."""
    from twin.replay import SNAPSHOT_EVERY, Replay

    every = 0 if src.kind == "events" else SNAPSHOT_EVERY
    return Replay(src.journal, manager, profile, branch=src.branch, snapshot_every=every)


def is_event_file(path: Path, importers: list[Importer]) -> bool:
    """True if ``path``'s name ends like an event file some importer reads."""
    name = path.name.lower()
    return any(name.endswith(s) for i in (*importers, *BUILTIN_IMPORTERS) for s in i.suffixes)


def all_importers(manager: TwinPluginManager) -> list[Importer]:
    """Every importer: the plugins' (gateway output and other formats), then jsonl and csv."""
    return [*manager.importers(), *BUILTIN_IMPORTERS]


def find_importer(name: str, importers: list[Importer]) -> Importer:
    """The importer called ``name``.

    Raises:
        TwinInputError: no importer has that name (the known ones are listed).
    """
    for importer in importers:
        if importer.name == name:
            return importer
    known = ", ".join(sorted(i.name for i in importers))
    raise TwinInputError(
        f"no such format; known: {known} (twin import --list-formats)", field="--format", value=name
    )


def _load_text(
    path: Path,
    importer: Importer,
    options: ImportOptions,
    manager: TwinPluginManager,
    branch: str | None,
    progress: Callable[[int], None] | None,
) -> Source:
    registry = manager.event_registry()
    events, report = import_text(path, importer, options, TwinState(), registry)
    journal = Journal.in_memory(registry=registry)
    try:
        journal.append(events, progress=progress)
    except BaseException:
        journal.close()
        raise
    return Source(journal, str(path), "events", branch, report)


def _load_with(
    path: Path,
    importer: Importer,
    manager: TwinPluginManager,
    allow_unknown: bool,
    progress: Callable[[int], None] | None,
) -> Journal:
    """An event file read by a chosen (not suffix-matched) plain importer."""
    registry = manager.event_registry()
    shown = str(path)
    try:
        events = [
            to_new_event(r, registry, source=shown, allow_unknown=allow_unknown)
            for r in importer.read(path)
        ]
    except TwinInputError as exc:
        raise exc.located(shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TwinInputError(f"cannot read: {exc}", source=shown) from None
    journal = Journal.in_memory(registry=registry)
    try:
        journal.append(events, progress=progress)
    except BaseException:
        journal.close()
        raise
    return journal


def open_source(
    path: str | Path,
    manager: TwinPluginManager,
    *,
    branch: str | None = None,
    allow_unknown: bool = False,
    progress: Callable[[int], None] | None = None,
    import_options: ImportOptions | None = None,
) -> Source:
    """Open ``path`` as a journal, or load it as an event file or as gateway output.

    Gateway output (``/var/log/messages``, ``cphaprob state``...) is read by the
    importer ``import_options.format`` names, or by the one that recognises
    its content; members are placed as the options say (see
    :mod:`twin.text_import`); ``Source.import_report`` says what was read.
    For a plan file, the options (``format`` too) read the plan's base.

    Raises:
        TwinInputError: missing file, unknown format, a bad event line, a line
            that names a member which cannot be placed, or an unknown ``--branch``.
    """
    path = Path(path)
    shown = str(path)
    options = import_options or ImportOptions()
    check_input_file(path, "journal or event file", limit=None)  # no FIFO, device or folder
    registry = manager.event_registry()
    importers = manager.importers()
    from twin.plan.source import is_plan_file, plan_journal  # a plan is a source too (§3)

    if is_plan_file(path):  # the gateway-output options, --input-format too, read its base
        reports: list[ImportReport] = []
        journal, _plan = plan_journal(
            path,
            registry,
            importers=importers,
            progress=progress,
            manager=manager,
            import_options=options,
            reports=reports,
        )
        source = Source(journal, shown, "plan", branch, reports[0] if reports else None)
    elif options.format is not None:
        chosen = find_importer(options.format, all_importers(manager))
        if is_text_importer(chosen):
            source = _load_text(path, chosen, options, manager, branch, progress)
            if source.import_report is not None:
                try:
                    refuse_nothing_read(
                        source.import_report, path, manager.importers(), "--input-format"
                    )
                except TwinInputError:
                    source.close()
                    raise
        else:
            no_text_options(options, chosen.name)
            journal = _load_with(path, chosen, manager, allow_unknown, progress)
            source = Source(journal, shown, "events", branch)
    elif is_event_file(path, importers):
        no_text_options(options, "an event file")
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
        detected = None if magic == SQLITE_MAGIC else detect_format(path, importers)
        if detected is not None:
            source = _load_text(path, detected, options, manager, branch, progress)
            if source.import_report is not None:
                source.import_report.detected = True
        elif magic != SQLITE_MAGIC:
            suffixes = sorted({s for i in (*importers, *BUILTIN_IMPORTERS) for s in i.suffixes})
            raise TwinInputError(
                f"not a journal or an event file (nor gateway output a format recognises); "
                f"give a journal (.db), one of {', '.join(suffixes)}, or --input-format NAME "
                "(twin import --list-formats)",
                source=shown,
            )
        else:
            no_text_options(options, "a journal")
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


def no_text_options(options: ImportOptions, what: str) -> None:
    """Refuse gateway-output options (``--map`` and the like) for a journal or event file."""
    if options.given:
        raise TwinInputError(
            f"--map, --create-members, --year, --tz and --strict read gateway output; "
            f"this source is {what}",
            field="--map",
        )
