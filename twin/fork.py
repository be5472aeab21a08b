"""What-if sessions: a base at seq N, and proposed events applied on top, one by one.

A :class:`WhatIf` loads a base (a journal, an event file, or nothing) at a
seq, then applies events through the same reducer and rules as every other
command (an :class:`~twin.engine.Engine` built by the plugin manager). The
base is never written: a journal is opened read-only (its bytes are the same
afterwards; no snapshot is saved into it) and an event file is only read.
Only :meth:`WhatIf.keep` writes, and only when asked: it records the applied
events as a new branch of the base journal, where ``twin diff --branch``,
``twin run --branch`` and the TUI read them.

Group loads are demand (:mod:`twin.demand`): a group ``load_changed`` without
``serving`` is taken as measured on the members serving at the base point
("today"), so adding members in the session spreads the same work thinner.

Used by ``twin plan check`` (:mod:`twin.plan`), and meant for ``twin whatif``
and the TUI's plan mode.

Example::

    manager = TwinPluginManager().load()
    with WhatIf.open("prod.db", manager, manager.profile(), at=120) as session:
        before = session.metrics.value("system", "convergence.failover_s")
        frame = session.apply(MemberFailed(member="1_03"))          # a Frame, like Replay's
        session.apply(session.decode("load_changed", {"group": "1", "cpu_pct": "86"}, text=True))
        after = session.metrics.value("system", "convergence.failover_s")
        print(before, after, [a.finding.rule for a in frame.raised])
        session.rewind(1)                     # back to after the first proposed event
        session.keep("what-if/lose-1_03")     # optional: a branch of prod.db at seq 120
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs

from journal import BranchInfo, Journal, new_event_id
from twin import preconditions
from twin.demand import serving_count
from twin.engine import Engine
from twin.envelope import Envelope
from twin.errors import TwinInputError
from twin.event_files import NewEvent, Record, normalise_time, to_new_event
from twin.events import (
    CORE_EVENTS,
    Event,
    EventRegistry,
    LoadChanged,
    MetricObserved,
    OpaqueEvent,
)
from twin.frames import Frame, MetricStore
from twin.plugin_manager import TwinPluginManager
from twin.profile import Profile
from twin.replay import Replay
from twin.rules import ActiveFinding
from twin.sources import SQLITE_MAGIC, no_text_options, open_source
from twin.state import TwinState
from twin.text_import import ImportOptions, ImportReport

Progress = Callable[[str, int, int | None], None]
"""``progress(what, done, total)``: loading the base (``"importing"``, ``"replaying"``)."""

PROGRESS_EVERY = 1000
"""Base events between two progress calls while replaying."""

FOLD_BEYOND = 2000
"""With ``fold``, a base whose nearest engine snapshot is more than this many events before
its point is folded instead of replayed (~0.5 s of rules at ~250 µs an event)."""

FOLDABLE_TYPES = frozenset(t.event_type for t in CORE_EVENTS) - {MetricObserved.event_type}
"""Event types after which the built-in rules' verdicts are a function of the state alone.

``metric_observed`` is not: ``twin.model-drift`` judges an observation against the model
at that moment, which the state after it no longer holds."""

DEFAULT_START = "2000-01-01T00:00:00Z"
"""The domain time of a session on an empty base that names no start."""


class PointOutside(TwinInputError):
    """The point asked for is not in the base; ``head`` is the base's last seq."""

    head: int = 0


@attrs.frozen(slots=True)
class Proposed:
    """One event applied in a session.

    Attributes:
        index: 1 for the first event applied on the base, 2 for the next...
        new: the event as it would be recorded (``serving`` filled, time set, id given).
        envelope: the envelope the engine stepped.
    """

    index: int
    new: NewEvent
    envelope: Envelope


def _no_progress(_what: str, _done: int, _total: int | None) -> None:
    return None


class WhatIf:
    """A what-if session on a base; make one with :meth:`open`.

    Attributes:
        label: the base as named to people (the path as given, or ``(empty)``).
        kind: ``journal``, ``events`` (an event file or gateway output, in memory),
            ``plan`` (a plan file's base and steps, in memory) or ``empty``.
        path: the base file (None for an empty base).
        branch: the branch of the base journal the session forks (None: main).
        base_seq: the seq the session starts after.
        base_frame: the frame after ``base_seq`` (None for seq 0).
        base_occurred_at: the domain time of the base's event ``base_seq`` (or the start).
        profile: the parameter profile in use.
        proposed: the events applied so far, in order.
        import_report: what was read, when the base is gateway output (else None).
        folded: the base was folded (:meth:`open` with ``fold``): the findings active at
            the base point carry ``since = base_seq``.
    """

    def __init__(
        self,
        journal: Journal,
        replay: Replay,
        *,
        label: str,
        kind: str,
        path: Path | None,
        branch: str | None,
        base_seq: int,
        base_frame: Frame | None,
        base_occurred_at: str,
    ) -> None:
        """Wrap a loaded base; use :meth:`open`."""
        self._journal = journal
        self._replay = replay
        self.label = label
        self.kind = kind
        self.path = path
        self.branch = branch
        self.base_seq = base_seq
        self.base_frame = base_frame
        self.base_occurred_at = base_occurred_at
        self.profile = replay.profile
        self.proposed: list[Proposed] = []
        self.import_report: ImportReport | None = None
        self.folded = False
        self._engine: Engine = replay.engine
        self._base_blob = self._engine.snapshot()
        self._base_serving = {g: serving_count(self.state, g) for g in sorted(self.state.groups)}
        self._closed = False

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        base: str | Path | None,
        manager: TwinPluginManager,
        profile: Profile,
        *,
        at: int | None = None,
        branch: str | None = None,
        progress: Progress | None = None,
        import_options: ImportOptions | None = None,
        fold: bool = False,
    ) -> WhatIf:
        """Load ``base`` at seq ``at`` (None: its last event) without writing it.

        Loading a base means evaluating the rules on it. Near an engine snapshot
        (a journal that ``twin run`` or the TUI has read), the few events after it
        are replayed. Otherwise every event is replayed through the rules, unless
        ``fold``: then the reducer state is folded to ``at`` (no rules) and every
        rule is evaluated once there (:meth:`twin.engine.Engine.evaluate_everything`),
        several times faster on a long base. Its metrics and findings are the same
        (the engine's invariant), but the findings active at the base point then
        carry ``since = at``: when they were raised before it is not known. A base
        is folded only where that invariant holds: every rule a built-in, and only
        core event types other than ``metric_observed`` up to ``at``
        (:attr:`folded` says whether it was).

        Args:
            base: a journal, an event file (``.jsonl``, ``.csv``, an importer's format),
                gateway output (read as ``import_options`` say, like every SOURCE), a
                plan file, or None for an empty twin.
            manager: the plugin manager (rules, event types, importers).
            profile: the parameter profile.
            at: the seq to start after (0: before the first event; None: the last).
            branch: fork this branch of the base journal instead of its main line.
            progress: called while loading a long base.
            import_options: how to read gateway output (``--input-format``, ``--map``...).
            fold: fold a long base never replayed instead of replaying it (see above).

        Raises:
            TwinInputError: no such file, not a journal or event file (nor gateway output
                a format recognises), a bad event line, an unknown branch, or ``at``
                outside ``0..head``.
        """
        tick = progress or _no_progress
        registry = manager.event_registry()
        options = import_options or ImportOptions()
        path = None if base is None else Path(base)
        report: ImportReport | None = None
        if path is None:
            no_text_options(options, "an empty twin")
            journal = Journal.in_memory(registry=registry)
            label, kind = "(empty)", "empty"
        else:
            label = str(base)
            if not path.exists():
                raise TwinInputError("no such file", source=label)
            if path.is_dir():
                raise TwinInputError("is a directory, not a journal or an event file", source=label)
            with path.open("rb") as handle:
                is_journal = handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
            if is_journal and options.format is None:
                no_text_options(options, "a journal")
                journal = Journal.open(path, registry=registry, read_only=True)
                kind = "journal"
            else:  # an event file, gateway output or a plan: read into memory
                source = open_source(
                    path,
                    manager,
                    progress=lambda n: tick("importing", n, None),
                    import_options=options,
                )
                journal, kind, report = source.journal, source.kind, source.import_report
        try:
            session = cls._load(
                journal, manager, profile, label, kind, path, branch, at, tick, fold
            )
        except BaseException:
            journal.close()
            raise
        session.import_report = report
        return session

    @classmethod
    def _load(
        cls,
        journal: Journal,
        manager: TwinPluginManager,
        profile: Profile,
        label: str,
        kind: str,
        path: Path | None,
        branch: str | None,
        at: int | None,
        tick: Progress,
        fold: bool = False,
    ) -> WhatIf:
        try:
            head = journal.head(branch=branch)
        except TwinInputError as exc:
            raise TwinInputError(exc.problem, field="branch", value=branch, source=label) from None
        target = head if at is None else at
        if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target <= head:
            outside = PointOutside(
                f"must be a seq from 0 to {head} (the last event of {label}) (got {at!r})",
                field="at",
                value=at,
            )
            outside.head = head
            raise outside
        replay = Replay(journal, manager, profile, branch=branch, snapshot_every=0)
        folded = fold and _foldable(journal, replay, branch, target)
        if folded:
            frame: Frame | None = cls._fold(journal, replay, branch, target, tick)
        else:
            frame = cls._seek(journal, replay, branch, target, tick)
        occurred = frame.envelope.occurred_at if frame is not None else DEFAULT_START
        session = cls(
            journal,
            replay,
            label=label,
            kind=kind,
            path=path,
            branch=branch,
            base_seq=target,
            base_frame=frame,
            base_occurred_at=occurred,
        )
        session.folded = folded
        return session

    @staticmethod
    def _fold(
        journal: Journal, replay: Replay, branch: str | None, target: int, tick: Progress
    ) -> Frame:
        """The frame at ``target`` from the folded state, every rule evaluated once."""
        tick("folding", 0, None)
        state = journal.state_at(target, branch=branch)
        engine = replay.manager.build_engine(replay.profile)
        engine.state = state
        frame = engine.evaluate_everything(journal.get(target, branch=branch))
        replay.engine = engine
        tick("folding", target, target)
        return frame

    @staticmethod
    def _seek(
        journal: Journal, replay: Replay, branch: str | None, target: int, tick: Progress
    ) -> Frame | None:
        """The frame after ``target``, replaying from the nearest snapshot with progress."""
        if target == 0:
            replay.at(0)
            return None
        found = journal.load_snapshot(replay.key, target - 1, branch=branch)
        start = 1 if found is None else found[0] + 1
        total = target - start + 1
        last: Frame | None = None
        tick("replaying", 0, total)
        for done, frame in enumerate(replay.frames(start, target), start=1):
            last = frame
            if done % PROGRESS_EVERY == 0:
                tick("replaying", done, total)
        tick("replaying", total, total)
        return last

    # -- what the twin looks like now ---------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The engine holding the session's state, metrics and findings."""
        return self._engine

    @property
    def journal(self) -> Journal:
        """The base, to read (opened read-only, or in memory)."""
        return self._journal

    def base_engine(self) -> Engine:
        """A new engine at the base point: the state, metrics and findings before any step."""
        engine = self._replay.manager.build_engine(self.profile)
        engine.restore(self._base_blob)
        return engine

    @property
    def state(self) -> TwinState:
        """The twin after the last applied event (read-only)."""
        return self._engine.state

    @property
    def metrics(self) -> MetricStore:
        """The metrics after the last applied event (live)."""
        return self._engine.metrics

    @property
    def findings(self) -> tuple[ActiveFinding, ...]:
        """The findings active after the last applied event, most severe first."""
        return self._engine.findings

    @property
    def head(self) -> int:
        """The seq of the last applied event (``base_seq`` before any)."""
        return self.base_seq + len(self.proposed)

    @property
    def occurred_at(self) -> str:
        """The domain time of the last applied event (the base's before any)."""
        if self.proposed:
            return self.proposed[-1].new.occurred_at or self.base_occurred_at
        return self.base_occurred_at

    def base_serving(self, group: int) -> int | None:
        """How many members of ``group`` served at the base point (None: no such group then)."""
        return self._base_serving.get(group)

    # -- applying ----------------------------------------------------------------------------

    def decode(self, event_type: str, fields: Mapping[str, Any], *, text: bool = False) -> NewEvent:
        """Validate ``fields`` as an event of ``event_type`` (plugin types too).

        Args:
            event_type: the event type name.
            fields: data fields, plus envelope keys (``ts``, ``actor``, ``reason``...).
            text: the values are text to coerce (``key=value`` from a command line).

        Raises:
            TwinInputError: an unknown type (with the closest known one) or a bad field.
        """
        return decode_event(self._replay.manager.event_registry(), event_type, fields, text=text)

    def _as_demand(self, event: Event) -> Event:
        """A group load without ``serving`` is taken as measured at the base point."""
        if type(event) is LoadChanged and event.group is not None and event.serving is None:
            count = self._base_serving.get(event.group)
            if count:
                return attrs.evolve(event, serving=count)
        return event

    def apply(
        self,
        event: Event | NewEvent,
        *,
        occurred_at: str | None = None,
        check_preconditions: bool = False,
    ) -> Frame:
        """Apply one event on top of the session and evaluate the rules.

        Args:
            event: the event (a :class:`~twin.event_files.NewEvent` keeps its envelope
                fields: time, actor, reason, correlation and event ids).
            occurred_at: its domain time (ISO 8601); default: the event's own, else the
                time of the event before it.
            check_preconditions: refuse operator mistakes first (:mod:`twin.preconditions`).

        Returns:
            The frame after it. Its ``metrics`` are live: they move on with the next event.

        Raises:
            TwinInputError: the event does not fit the state (unknown id, impossible
                transition) or breaks a precondition; the session is unchanged.
            PluginError: a rule raised, in strict mode.
        """
        new = event if isinstance(event, NewEvent) else NewEvent(event, _type_of(event))
        filled = self._as_demand(new.event)
        when = occurred_at or new.occurred_at or self.occurred_at
        when = normalise_time(when, "occurred_at")
        if check_preconditions:
            preconditions.check(self.state, filled)
        new = attrs.evolve(
            new, event=filled, occurred_at=when, event_id=new.event_id or new_event_id()
        )
        envelope = _envelope(self.head + 1, new)
        frame = self._engine.step(envelope)
        self.proposed.append(Proposed(len(self.proposed) + 1, new, envelope))
        return frame

    def apply_all(self, events: Iterable[Event | NewEvent]) -> Frame | None:
        """Apply events in order; the frame after the last (None if there were none)."""
        frame: Frame | None = None
        for event in events:
            frame = self.apply(event)
        return frame

    def rewind(self, count: int = 0) -> None:
        """Go back to after the first ``count`` applied events (0: the base itself).

        Raises:
            ValueError: ``count`` is not between 0 and the number of applied events.
        """
        if not 0 <= count <= len(self.proposed):
            raise ValueError(f"count must be 0..{len(self.proposed)}")
        kept = self.proposed[:count]
        self._engine.restore(self._base_blob)
        self.proposed = []
        for item in kept:
            self._engine.step(item.envelope)
            self.proposed.append(item)

    # -- keeping -----------------------------------------------------------------------------

    def keep(self, branch: str, *, actor: str | None = None) -> BranchInfo:
        """Record the applied events as a new branch of the base journal, forked at ``base_seq``.

        The only write a session makes. The events are stored as applied (with
        their ``serving`` and times), so replaying the branch gives the session's
        metrics and findings.

        Args:
            branch: the new branch's name.
            actor: the actor of events that name none.

        Raises:
            TwinInputError: the base is not a journal, or the branch name is taken or invalid.
        """
        if self.kind != "journal" or self.path is None:
            what = {
                "events": "read into memory (load it into a journal with `twin import` first)",
                "plan": "a plan file (give its base journal instead)",
            }.get(self.kind, "empty (give the plan a base journal)")
            raise TwinInputError(
                f"--keep needs a journal base; {self.label} is {what}",
                field="--keep",
                value=branch,
            )
        registry = self._replay.manager.event_registry()
        with Journal.open(self.path, registry=registry) as journal:
            journal.create_branch(branch, at=self.base_seq, parent=self.branch)
            if self.proposed:
                journal.append([p.new for p in self.proposed], branch=branch, actor=actor)
            return next(b for b in journal.branches() if b.name == branch)

    # -- closing -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the base (safe to call twice)."""
        if not self._closed:
            self._closed = True
            self._journal.close()

    def __enter__(self) -> WhatIf:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _foldable(journal: Journal, replay: Replay, branch: str | None, target: int) -> bool:
    """True if folding the base to ``target`` gives what replaying it gives, and is worth it.

    Worth it: no engine snapshot within :data:`FOLD_BEYOND` events before ``target``
    (with one, replaying from it is cheap and exact). The same: every rule is a built-in
    (their verdicts are a function of the state, a tested invariant; a plugin's rule may
    keep history) and every event up to ``target`` is of a :data:`FOLDABLE_TYPES` type.
    """
    if target <= FOLD_BEYOND:
        return False
    found = journal.load_snapshot(replay.key, target, branch=branch)
    if found is not None and target - found[0] <= FOLD_BEYOND:
        return False
    manager = replay.manager
    infos = manager.infos
    if not all(r.plugin in infos and infos[r.plugin].builtin for r in manager.rules()):
        return False
    return journal.event_types(target, branch=branch) <= FOLDABLE_TYPES


def decode_event(
    registry: EventRegistry, event_type: str, fields: Mapping[str, Any], *, text: bool = False
) -> NewEvent:
    """An event given as a type and fields (a plan step, a what-if action), validated.

    Unlike an event file's line, it has no line to name, and an unknown type cannot be
    kept anyway: the error names the closest known type.

    Raises:
        TwinInputError: an unknown type or a bad field.
    """
    if event_type not in registry:
        hint = registry.suggest(event_type)
        tail = f"; did you mean {hint!r}?" if hint else "; see docs/events.md for the catalog"
        raise TwinInputError(
            f"unknown event type {event_type!r}{tail}", field="type", value=event_type
        )
    try:
        return to_new_event(Record(1, {"type": event_type, **fields}, text=text), registry)
    except TwinInputError as exc:
        raise type(exc)(exc.problem, field=exc.field, value=exc.value) from None


def _type_of(event: Event) -> str:
    return event.original_type if isinstance(event, OpaqueEvent) else event.event_type


def _envelope(seq: int, new: NewEvent) -> Envelope:
    """The envelope a session steps: not chained (hashes empty), never stored as such."""
    event = new.event
    schema = 1 if isinstance(event, OpaqueEvent) else type(event).schema
    occurred = new.occurred_at or DEFAULT_START
    return Envelope(
        seq=seq,
        event_id=new.event_id or "",
        type=new.type,
        schema=schema,
        occurred_at=occurred,
        recorded_at=occurred,
        actor=new.actor,
        reason=new.reason,
        correlation_id=new.correlation_id,
        causation_id=new.causation_id,
        data=event.to_data(),
        prev_hash="",
        hash="",
        event=event,
    )
