"""A plan file as a source: its base up to ``at``, then its steps, in a temporary journal.

Contract §3: every command that takes a journal also takes a plan file. So
``twin run plan.toml``, ``twin state``, ``twin diff``, ``twin log`` and
``twin tui`` replay the plan's base up to its point followed by its steps,
exactly as ``twin plan check`` applies them (the same times, group loads as
demand measured at the base point, the same preconditions), from an
in-memory journal. The base is only read.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from journal import Journal
from twin.demand import serving_count
from twin.errors import TwinInputError
from twin.event_files import BUILTIN_IMPORTERS, Importer, NewEvent, read_event_file
from twin.events import EventRegistry, LoadChanged
from twin.plan.model import EMPTY_BASE_START, PLAN_ACTOR, Plan
from twin.plan.parse import read_plan
from twin.plugin_manager import TwinPluginManager
from twin.preconditions import check as check_preconditions
from twin.reducer import apply
from twin.sources import SQLITE_MAGIC, no_text_options, open_source
from twin.text_import import ImportOptions, ImportReport

PLAN_TABLES = ("plan", "step", "expect")


def is_plan_file(path: Path) -> bool:
    """True if ``path`` is a ``.toml`` whose tables are a plan's (``[plan]``, ``[[step]]``)."""
    if path.suffix.lower() != ".toml" or not path.is_file():
        return False
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return bool(doc) and ("plan" in doc or "step" in doc) and set(doc) <= set(PLAN_TABLES)


def _iso(moment: datetime) -> str:
    spec = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.astimezone(UTC).strftime(spec)


def _base_events(
    plan: Plan,
    registry: EventRegistry,
    importers: list[Importer],
    manager: TwinPluginManager | None,
    options: ImportOptions,
    reports: list[ImportReport],
) -> Iterator[NewEvent]:
    """The base's events up to ``at`` (all of them for ``"end"``), as new events to copy.

    What was read of a base that is gateway output is added to ``reports``.
    """
    if plan.base is None:
        no_text_options(options, "an empty twin (the plan names no base)")
        return
    if not plan.base.exists():
        raise TwinInputError(
            f"no such file {str(plan.base)!r} (relative to the plan's folder)",
            field="base",
            source=str(plan.path),
            line=plan.line_of("base"),
        )
    name = plan.base.name.lower()
    if options.format is None and any(
        name.endswith(s) for i in (*importers, *BUILTIN_IMPORTERS) for s in i.suffixes
    ):
        no_text_options(options, "an event file")
        for count, new in enumerate(
            read_event_file(plan.base, registry, importers=importers), start=1
        ):
            if plan.at is not None and count > plan.at:
                return
            yield new
        return
    with plan.base.open("rb") as handle:
        is_journal = handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    if is_journal and options.format is None:
        no_text_options(options, "a journal")
        journal = Journal.open(plan.base, registry=registry, read_only=True)
    elif manager is not None:  # gateway output (or --input-format): read like any SOURCE
        source = open_source(plan.base, manager, import_options=options)
        journal = source.journal
        if source.import_report is not None:
            reports.append(source.import_report)
    else:
        raise TwinInputError(
            "not a journal or an event file; give a journal (.db) or an event file (.jsonl, .csv)",
            source=str(plan.base),
        )
    with journal:
        for env in journal.read(1, plan.at):
            yield NewEvent(
                env.event,
                env.type,
                event_id=env.event_id,
                occurred_at=env.occurred_at,
                actor=env.actor,
                reason=env.reason,
                correlation_id=env.correlation_id,
                causation_id=env.causation_id,
            )


def plan_journal(
    path: Path,
    registry: EventRegistry,
    *,
    importers: list[Importer] | None = None,
    progress: Callable[[int], None] | None = None,
    manager: TwinPluginManager | None = None,
    import_options: ImportOptions | None = None,
    reports: list[ImportReport] | None = None,
) -> tuple[Journal, Plan]:
    """An in-memory journal holding the plan's base up to its point, then its steps.

    Args:
        path: the plan file.
        registry: the event types (plugin types too).
        importers: the plugins' importers of event files.
        progress: called while the events are copied.
        manager: the plugin manager, needed to read a base that is gateway output.
        import_options: how to read a base that is gateway output (``--map``...).
        reports: what was read of a gateway-output base is added here.

    Raises:
        TwinInputError: an invalid plan, a missing base, an ``at`` past the base's end,
            or a step that breaks a precondition (named with its step and line).
    """
    plan = read_plan(path, registry)
    journal = Journal.in_memory(registry=registry)
    try:
        base = list(
            _base_events(
                plan,
                registry,
                importers or [],
                manager,
                import_options or ImportOptions(),
                [] if reports is None else reports,
            )
        )
        if plan.at is not None and len(base) < plan.at:
            raise TwinInputError(
                f"must be a seq from 0 to {len(base)} (the last event of {plan.base_text}) "
                f'or "end" (got {plan.at})',
                field="at",
                value=plan.at,
                source=str(plan.path),
                line=plan.line_of("at"),
            )
        if base:
            journal.append(base, progress=progress)
        head = journal.head()
        state = journal.state_at(head)
        serving = {g: serving_count(state, g) for g in state.groups}
        last = journal.get(head).occurred_at if head else None
        clock = datetime.fromisoformat(
            (plan.start or last or EMPTY_BASE_START).replace("Z", "+00:00")
        )
        steps: list[NewEvent] = []
        for step in plan.steps:
            clock += timedelta(seconds=step.duration_s)
            event = step.event.event
            if type(event) is LoadChanged and event.group is not None and event.serving is None:
                count = serving.get(event.group)
                if count:
                    event = attrs.evolve(event, serving=count)
            try:
                check_preconditions(state, event)
                apply(state, event)
            except TwinInputError as exc:
                field = f"{step.name}: {exc.field}" if exc.field else step.name
                raise type(exc)(
                    exc.problem,
                    field=field,
                    value=exc.value,
                    source=str(plan.path),
                    line=step.line_of(exc.field),
                ) from None
            steps.append(attrs.evolve(step.event, event=event, occurred_at=_iso(clock)))
        if steps:
            journal.append(steps, actor=PLAN_ACTOR)
    except BaseException:
        journal.close()
        raise
    return journal, plan
