"""Segment evaluation: a run of load events evaluated as columns, not one event at a time.

Between two events that change the topology or a member's state, only loads
change: the members, their states, shares, weights and the groups' HyperSync
stay as they are. A run of ``load_changed`` events (a *segment*) is therefore
a table: every member's connections, cps, CPU, throughput and connection
turnover after each event are columns computed at once (:func:`load_columns`,
the reducer's arithmetic on arrays), and every rule that runs for loads can
compute its metrics as columns too and its findings as runs of True
(``evaluate_segment(seg)``, the optional batch method of a rule).

The engine uses segments for long replays (:meth:`twin.engine.Engine.run` with
``bulk=True``) when every rule that runs for ``load_changed`` has a batch
method; otherwise it evaluates event by event. Either way every frame is the
same, exactly: numbers are computed with the same operations in the same
order (a tested invariant), and the findings raised and cleared at each event
are the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from twin.demand import work_factor
from twin.envelope import Envelope
from twin.events import LOAD_FIELDS, LoadChanged
from twin.frames import MetricStore, _subject_order
from twin.reducer import Changes
from twin.rules import MessageSource, Metric, Severity
from twin.state import UP, TwinState

if TYPE_CHECKING:
    from twin.profile import Profile

Array = npt.NDArray[Any]
Column = Array | float
"""A metric over a segment: an array (one value per event) or one value for all."""

SEGMENT_TYPES = frozenset({"load_changed"})
"""Event types a segment is made of."""

MAX_SEGMENT = 4096
"""Events per segment at most (bounds the memory of its columns)."""

MIN_SEGMENT = 16
"""Shorter runs of loads are evaluated event by event: a segment's fixed cost (~2 ms with
the built-in rules on a 12-member group) is worth about 15 group loads stepped, so its
columns pay from ~16 events on (measured; see docs/performance.md)."""

_LOAD_KEYS = ("share", "connections", "cps", "throughput_gbps", "cpu_pct")
"""The member fields the reducer records a change of, in its order."""


class MemberLoads:
    """One member's load over a segment (each array has one value per event).

    Attributes:
        connections: concurrent connections.
        cps: new connections per second.
        cpu_pct: CPU %.
        throughput_gbps: throughput.
        conn_turnover: Σ|Δconnections| since the last restart (the reducer's counter).
        changed: True where the event changed any of the member's loads.
        sample: the member's own sample after the segment (what the reducer keeps).
        before: its share and loads before the segment.
    """

    __slots__ = (
        "before",
        "changed",
        "conn_turnover",
        "connections",
        "cps",
        "cpu_pct",
        "sample",
        "throughput_gbps",
    )

    def __init__(
        self,
        connections: Array,
        cps: Array,
        cpu_pct: Array,
        throughput_gbps: Array,
        conn_turnover: Array,
        changed: Array,
        sample: dict[str, float],
        before: dict[str, float] | None = None,
    ) -> None:
        self.before: dict[str, float] = before or {}
        self.connections = connections
        self.cps = cps
        self.cpu_pct = cpu_pct
        self.throughput_gbps = throughput_gbps
        self.conn_turnover = conn_turnover
        self.changed = changed
        self.sample = sample


class GroupLoads:
    """A group's offered load over a segment.

    Attributes:
        offered: ``connections``/``cps``/``throughput_gbps`` → array (forward-filled).
        cpu_work: the work its CPU readings stand for (see :mod:`twin.demand`).
        events: True where the event is a load of this group.
        first_set: offered key → the first event that sets it (keys the group's
            ``offered`` gains or updates).
        cpu_events: the events that set its CPU (and so ``cpu_work``).
    """

    __slots__ = (
        "cpu_events",
        "cpu_work",
        "events",
        "first_set",
        "offered",
        "offered_before",
        "work_before",
    )

    def __init__(
        self,
        offered: dict[str, Array],
        cpu_work: Array,
        events: Array,
        first_set: dict[str, int],
        cpu_events: list[int],
        offered_before: dict[str, float] | None = None,
        work_before: float | None = None,
    ) -> None:
        self.offered_before: dict[str, float] = offered_before or {}
        self.work_before = work_before
        self.offered = offered
        self.cpu_work = cpu_work
        self.events = events
        self.first_set = first_set
        self.cpu_events = cpu_events


class GroupTable:
    """The loads of every member of one group at once: one row per member, one column per event.

    The rows of :attr:`MemberLoads` of these members are views of these tables, so
    a batch method may compute over a whole group with one numpy call instead of
    one per member.

    Attributes:
        ids: the members' ids, in Maestro order (row order).
        connections: concurrent connections (members × events).
        cps: new connections per second.
        cpu_pct: CPU %.
        throughput_gbps: throughput.
        conn_turnover: the reducer's Σ|Δconnections| counter.
    """

    __slots__ = ("conn_turnover", "connections", "cps", "cpu_pct", "ids", "throughput_gbps")

    def __init__(self, ids: tuple[str, ...], table: Array, turnover: Array) -> None:
        self.ids = ids
        self.connections = table[0]
        self.cps = table[1]
        self.cpu_pct = table[2]
        self.throughput_gbps = table[3]
        self.conn_turnover = turnover


class LoadColumns:
    """Every member's and group's load after each event of a segment.

    Attributes:
        size: how many events.
        seqs: their seqs.
        members: member id → :class:`MemberLoads`.
        groups: group number → :class:`GroupLoads`.
        subjects: per event, the subject it named (``group:<n>`` or ``member:<id>``).
        tables: group number → :class:`GroupTable`, for the groups in :attr:`groups`.
    """

    def __init__(
        self,
        seqs: Array,
        members: dict[str, MemberLoads],
        groups: dict[int, GroupLoads],
        subjects: list[str],
        tables: dict[int, GroupTable] | None = None,
    ) -> None:
        self.size = len(seqs)
        self.seqs = seqs
        self.members = members
        self.groups = groups
        self.subjects = subjects
        self.tables: dict[int, GroupTable] = tables or {}


def _ffill(initial: float, positions: Sequence[int], values: Sequence[float], size: int) -> Array:
    """An array of ``size`` that is ``initial`` until the first position, then each value on."""
    out = np.full(size, initial, dtype=np.float64)
    if 0 < len(positions) <= 8:  # a few changes: slices cost less than the index arithmetic
        ends = [*positions[1:], size]
        for start, end, value in zip(positions, ends, values, strict=True):
            out[start:end] = value
    elif positions:
        marks = np.full(size, -1, dtype=np.int64)
        marks[np.asarray(positions)] = np.arange(len(positions))
        np.maximum.accumulate(marks, out=marks)
        taken = marks >= 0
        out[taken] = np.asarray(values, dtype=np.float64)[marks[taken]]
    return out


def _number(value: Any) -> bool:
    kind = type(value)
    return kind is float or kind is int


def load_columns(state: TwinState, envelopes: Sequence[Envelope]) -> LoadColumns | None:
    """The loads after each event of a run of ``load_changed`` events applied to ``state``.

    ``state`` is not changed. The arithmetic is the reducer's
    (:func:`twin.reducer.redistribute` and :func:`~twin.reducer.resample`), on arrays.

    Returns:
        The columns, or None if an event is one the reducer would refuse or that
        does not hold numbers (the caller then applies them one by one, which explains).
    """
    size = len(envelopes)
    group_sets: dict[int, dict[str, tuple[list[int], list[float]]]] = {}
    group_cpu: dict[int, tuple[list[int], list[float], list[int | None]]] = {}
    member_sets: dict[str, dict[str, tuple[list[int], list[float]]]] = {}
    subjects: list[str] = []
    for i, env in enumerate(envelopes):
        e = env.event
        if type(e) is not LoadChanged:
            return None
        values = e.values()
        if not all(_number(v) for v in values.values()):
            return None
        if e.group is not None:
            if e.group not in state.groups or not (e.serving is None or _number(e.serving)):
                return None
            sets = group_sets.setdefault(e.group, {})
            for key in ("connections", "cps", "throughput_gbps"):
                if key in values:
                    pos, vals = sets.setdefault(key, ([], []))
                    pos.append(i)
                    vals.append(float(values[key]))
            if "cpu_pct" in values:
                pos, vals, serving = group_cpu.setdefault(e.group, ([], [], []))
                pos.append(i)
                vals.append(float(values["cpu_pct"]))
                serving.append(e.serving)
            subjects.append(f"group:{e.group}")
        else:
            member = state.members.get(str(e.member))
            if member is None:
                return None
            sets = member_sets.setdefault(member["id"], {})
            for key, value in values.items():
                pos, vals = sets.setdefault(key, ([], []))
                pos.append(i)
                vals.append(float(value))
            subjects.append(f"member:{member['id']}")
    seqs = np.fromiter((env.seq for env in envelopes), dtype=np.int64, count=size)
    groups: dict[int, GroupLoads] = {}
    members: dict[str, MemberLoads] = {}
    tables: dict[int, GroupTable] = {}
    touched_groups = set(group_sets) | set(group_cpu)
    touched_groups.update(state.members[m]["group"] for m in member_sets)
    for g in state.groups:
        if g not in touched_groups:
            continue
        group = state.groups[g]
        sets = group_sets.get(g, {})
        offered = {
            key: _ffill(float(group["offered"].get(key, 0.0)), *sets.get(key, ([], [])), size=size)
            for key in ("connections", "cps", "throughput_gbps")
        }
        works: list[float] = []
        cpu = group_cpu.get(g)
        if cpu is not None:
            factors: dict[int | None, tuple[int, float]] = {}
            for pct, measured in zip(cpu[1], cpu[2], strict=True):
                factor = factors.get(measured)
                if factor is None:
                    factor = factors[measured] = work_factor(state, g, measured)
                measured_on, per_core = factor
                works.append(
                    0.0 if measured_on < 1 or per_core <= 0 else pct * measured_on / per_core
                )
        work = _ffill(float(group["cpu_work"] or 0.0), cpu[0] if cpu else [], works, size)
        events = np.zeros(size, dtype=bool)
        for subject_index in _group_event_positions(subjects, g):
            events[subject_index] = True
        first_set = {key: positions[0] for key, (positions, _v) in sets.items() if positions}
        groups[g] = GroupLoads(
            offered,
            work,
            events,
            first_set,
            cpu[0] if cpu else [],
            dict(group["offered"]),
            group["cpu_work"],
        )
        shares, _serving = state.distribution(g)
        if shares:
            tables[g] = _group_member_loads(shares, offered, work, member_sets, size, members)
    return LoadColumns(seqs, members, groups, subjects, tables)


def _group_event_positions(subjects: list[str], g: int) -> list[int]:
    name = f"group:{g}"
    return [i for i, s in enumerate(subjects) if s == name]


def _group_member_loads(
    shares: Sequence[tuple[dict[str, Any], float]],
    offered: dict[str, Array],
    work: Array,
    member_sets: dict[str, dict[str, tuple[list[int], list[float]]]],
    size: int,
    out: dict[str, MemberLoads],
) -> GroupTable:
    """Every member's loads of one group: its sample where it has one, else its share.

    The reducer's rule (:func:`twin.reducer.redistribute`), computed for all the
    group's members at once: one row per member, one column per event. Each
    number comes from the same operations as the reducer's, so it is the same.
    """
    n = len(shares)
    share = np.fromiter((s for _m, s in shares), dtype=np.float64, count=n)[:, None]
    cores = np.fromiter((m["cores"] for m, _s in shares), dtype=np.float64, count=n)[:, None]
    # (field, member, event), fields in LOAD_FIELDS order: connections, cps, cpu_pct, gbps.
    table = np.empty((4, n, size), dtype=np.float64)
    np.multiply(offered["connections"], share, out=table[0])
    np.multiply(offered["cps"], share, out=table[1])
    np.multiply(offered["throughput_gbps"], share, out=table[3])
    with np.errstate(invalid="ignore", divide="ignore"):
        np.minimum(100.0, work * share / cores, out=table[2])
    table[2][:, work == 0] = 0.0
    before = [[float(m[key]) for m, _s in shares] for key in LOAD_FIELDS]
    previous = np.array(before, dtype=np.float64)[:, :, None]
    samples: list[dict[str, float]] = []
    for row, (m, _share) in enumerate(shares):
        sample: dict[str, float] = dict(m["sample"])
        sets = member_sets.get(m["id"])
        if sample or sets:
            for k, key in enumerate(LOAD_FIELDS):
                positions, values = sets.get(key, ([], [])) if sets else ([], [])
                if not positions:
                    if key in sample:
                        table[k, row] = float(sample[key])
                    continue
                start = 0 if key in sample else positions[0]
                own = _ffill(float(sample.get(key, 0.0)), positions, values, size)
                table[k, row, start:] = own[start:]
                sample[key] = float(values[-1])
        samples.append(sample)
    changed = np.empty((n, size), dtype=bool)
    np.any(table[:, :, :1] != previous, axis=0, out=changed[:, :1])
    np.any(table[:, :, 1:] != table[:, :, :-1], axis=0, out=changed[:, 1:])
    steps = np.empty((n, size + 1), dtype=np.float64)
    steps[:, :1] = np.fromiter(
        (float(m["conn_turnover"]) for m, _s in shares), dtype=np.float64, count=n
    )[:, None]
    np.subtract(table[0], np.concatenate((previous[0], table[0][:, :-1]), axis=1), out=steps[:, 1:])
    np.abs(steps[:, 1:], out=steps[:, 1:])
    turnover = np.cumsum(steps, axis=1)[:, 1:]
    for row, (m, member_share) in enumerate(shares):
        if m["share"] != member_share:
            changed[row, 0] = True
        out[m["id"]] = MemberLoads(
            table[0, row],
            table[1, row],
            table[2, row],
            table[3, row],
            turnover[row],
            changed[row],
            samples[row],
            {
                "share": float(m["share"]),
                "connections": before[0][row],
                "cps": before[1][row],
                "cpu_pct": before[2][row],
                "throughput_gbps": before[3][row],
            },
        )
    return GroupTable(tuple(m["id"] for m, _s in shares), table, turnover)


def end_state(state: TwinState, loads: LoadColumns, last: Envelope) -> None:
    """Leave ``state`` as the reducer leaves it after the segment's last event."""
    for g, group_loads in loads.groups.items():
        group = state.groups[g]
        group["offered"] = offered_at(group["offered"], group_loads, loads.size - 1)
        if group_loads.cpu_events:
            group["cpu_work"] = float(group_loads.cpu_work[-1])
    for member_id, member_loads in loads.members.items():
        m = state.members[member_id]
        for key in LOAD_FIELDS:
            m[key] = float(getattr(member_loads, key)[-1])
        m["conn_turnover"] = float(member_loads.conn_turnover[-1])
        m["sample"] = member_loads.sample
    state.seq = last.seq
    state.occurred_at = last.occurred_at


def offered_at(before: Mapping[str, float], group_loads: GroupLoads, i: int) -> dict[str, float]:
    """The group's ``offered`` after event ``i`` (keys it had, plus those set by then)."""
    out = dict(before)
    for key, column in group_loads.offered.items():
        first = group_loads.first_set.get(key)
        if first is not None and first <= i:
            out[key] = float(column[i])
    return out


# -- what a rule's batch method gets ---------------------------------------------------------------


class Segment:
    """What a rule's ``evaluate_segment(seg)`` reads and writes: a run of load events at once.

    Attributes:
        size: how many events.
        seqs: their seqs (an int array).
        state: the twin before the segment; its structure (members, states, shares,
            groups, links) holds for every event of it, its loads do not: read
            loads from :attr:`loads`.
        loads: every member's and group's load after each event.
        values: parameter name → value.
        bands: parameter name → ``(low, value, high)``.
    """

    def __init__(
        self,
        state: TwinState,
        loads: LoadColumns,
        profile: Profile,
        stored: Callable[[str, str, float], float],
        stored_metric: Callable[[str, str], Metric | None] | None = None,
    ) -> None:
        self._stored_metric: Callable[[str, str], Metric | None] = stored_metric or (
            lambda _s, _n: None
        )
        self.state = state
        self.loads = loads
        self.size = loads.size
        self.seqs = loads.seqs
        self.values: Mapping[str, float] = profile.values
        self.bands: Mapping[str, tuple[float, float, float]] = profile.bands
        self._stored = stored
        self.columns: dict[tuple[str, str], tuple[Column, Column, Column]] = {}
        self.found: list[SegmentFinding] = []
        self._rule: Any = None

    def param(self, name: str) -> float:
        """The value of parameter ``name``."""
        return self.values[name]

    def band(self, name: str) -> tuple[float, float, float]:
        """``(low, value, high)`` of parameter ``name``."""
        return self.bands[name]

    def member_loads(self, member_id: str) -> MemberLoads:
        """A member's loads (constant ones for a member no event of the segment changed)."""
        found = self.loads.members.get(member_id)
        if found is None:
            m = self.state.members[member_id]
            size = self.size

            def constant(key: str) -> Array:
                return np.full(size, float(m[key]), dtype=np.float64)

            found = MemberLoads(
                constant("connections"),
                constant("cps"),
                constant("cpu_pct"),
                constant("throughput_gbps"),
                constant("conn_turnover"),
                np.zeros(size, dtype=bool),
                dict(m["sample"]),
            )
            self.loads.members[member_id] = found
        return found

    def metric(
        self,
        subject: str,
        name: str,
        value: Column,
        low: Column | None = None,
        high: Column | None = None,
    ) -> None:
        """Record metric ``name`` of ``subject`` for every event (an array, or one value)."""
        if type(value) is not float and not (isinstance(value, np.ndarray) and value.ndim):
            value = _flat(value)
        if low is None and high is None:
            self.columns[(subject, name)] = (value, value, value)
            return
        self.columns[(subject, name)] = (
            value,
            value if low is None else _flat(low),
            value if high is None else _flat(high),
        )

    def stored(self, subject: str, name: str) -> Metric | None:
        """A metric as it stood before the segment (one no rule of the segment computes)."""
        return self._stored_metric(subject, name)

    def column(self, subject: str, name: str, default: float = 0.0) -> Array:
        """A metric's values over the segment: computed by a rule before, else as stored."""
        found = self.columns.get((subject, name))
        if found is not None:
            value = found[0]
            if isinstance(value, np.ndarray):
                return value
            return np.full(self.size, value, dtype=np.float64)
        return np.full(self.size, self._stored(subject, name, default), dtype=np.float64)

    def finding(
        self,
        finding_id: str,
        subject: str,
        message: MessageSource,
        holds: Array | bool,
        /,
        severity: Severity | None = None,
        **evidence: Any,
    ) -> None:
        """Say where ``finding_id`` holds for ``subject``: ``holds`` is one bool per event (or
        one for all); each evidence value is an array (one per event) or one value."""
        self.found.append(
            SegmentFinding(
                self._rule,
                finding_id,
                subject,
                message,
                holds,
                severity,
                evidence,
            )
        )


class SegmentFinding:
    """A finding a batch method reported: where it holds, and its evidence at each event."""

    __slots__ = ("evidence", "finding_id", "holds", "message", "rule", "severity", "subject")

    def __init__(
        self,
        rule: Any,
        finding_id: str,
        subject: str,
        message: MessageSource,
        holds: Array | bool,
        severity: Severity | None,
        evidence: dict[str, Any],
    ) -> None:
        self.rule = rule
        self.finding_id = finding_id
        self.subject = subject
        self.message = message
        self.holds = holds
        self.severity = severity
        self.evidence = evidence

    def at(self, i: int) -> dict[str, Any]:
        """The evidence at event ``i`` (plain Python values, as stepping gives them)."""
        out = {}
        for key, value in self.evidence.items():
            if isinstance(value, np.ndarray):
                item = value[i] if value.ndim else value.item()
                out[key] = item.item() if hasattr(item, "item") else item
            elif isinstance(value, np.generic):
                out[key] = value.item()
            else:
                out[key] = value
        return out

    def anywhere(self) -> bool:
        """True if the finding holds at some event of the segment."""
        holds = self.holds
        if isinstance(holds, np.ndarray):
            return bool(holds.any())
        return bool(holds)


def expm1_exact(x: Array) -> Array:
    """``math.expm1`` of each value (numpy's may differ in the last bit; results must not).

    Computed once per run of equal values, since churn changes at few events.
    """
    out = np.empty_like(x)
    if x.size == 0:
        return out
    starts = np.flatnonzero(np.concatenate(([True], x[1:] != x[:-1])))
    if 4 * len(starts) > x.size:  # mostly distinct values: one call each costs less
        expm1 = math.expm1
        out[:] = [expm1(value) for value in x.tolist()]
        return out
    ends = np.concatenate((starts[1:], [x.size]))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        out[start:end] = math.expm1(float(x[start]))
    return out


def up_members(state: TwinState, group: int) -> list[dict[str, Any]]:
    """The UP members of ``group``, in Maestro order."""
    return [m for m in state.group_members(group) if m["state"] == UP]


def runs(envelopes: Iterable[Envelope], cut: int = 0) -> Iterator[tuple[bool, list[Envelope]]]:
    """Split events into runs: ``(True, loads)`` for runs of loads, ``(False, [event])`` else.

    A run of loads ends after :data:`MAX_SEGMENT` events, and after a seq that is a
    multiple of ``cut`` (where a replay takes a snapshot) when ``cut`` is given.
    """
    run: list[Envelope] = []
    for env in envelopes:
        if env.type in SEGMENT_TYPES:
            run.append(env)
            if len(run) >= MAX_SEGMENT or (cut and env.seq % cut == 0):
                yield True, run
                run = []
            continue
        if run:
            yield True, run
            run = []
        yield False, [env]
    if run:
        yield True, run


# -- what each event of a segment changed, and its metrics ---------------------------------------


class ChangeSource:
    """What each event of a segment changed, made when someone asks (the reducer's record)."""

    def __init__(self, state: TwinState, loads: LoadColumns) -> None:
        self.state = state
        self.loads = loads
        self.group_members = {
            g: [m for m in state.groups[g]["members"] if m in loads.members] for g in loads.groups
        }

    def subjects(self, i: int) -> set[str]:
        """The subjects event ``i`` touched."""
        loads = self.loads
        subject = loads.subjects[i]
        if subject[:6] == "group:":
            touched = {subject, "system"}
            for m in self.group_members[int(subject[6:])]:
                if loads.members[m].changed[i]:
                    touched.add("member:" + m)
            return touched
        g = self.state.members[subject[7:]]["group"]
        return {subject, f"group:{g}", "system"}

    def fields(self, i: int) -> list[tuple[str, str, Any, Any]]:
        """``(subject, field, old, new)`` of event ``i``, in the reducer's order."""
        loads = self.loads
        subject = loads.subjects[i]
        out: list[tuple[str, str, Any, Any]] = []
        if subject[:6] == "group:":
            g = int(subject[6:])
            members = self.group_members[g]
            group_loads = loads.groups[g]
            old = offered_at(group_loads.offered_before, group_loads, i - 1)
            new = offered_at(group_loads.offered_before, group_loads, i)
            if old != new:
                out.append((subject, "offered", old, new))
            if i in group_loads.cpu_events:
                earlier = [k for k in group_loads.cpu_events if k < i]
                before = (
                    float(group_loads.cpu_work[earlier[-1]]) if earlier else group_loads.work_before
                )
                after = float(group_loads.cpu_work[i])
                if before != after:
                    out.append((subject, "cpu_work", before, after))
        else:
            members = [subject[7:]]
        for member_id in members:
            ml = loads.members[member_id]
            if not ml.changed[i]:
                continue
            name = "member:" + member_id
            for key in _LOAD_KEYS[1:]:  # the share is constant within a segment
                column = getattr(ml, key)
                before = ml.before[key] if i == 0 else float(column[i - 1])
                after = float(column[i])
                if before != after:
                    out.append((name, key, before, after))
        return out


_SUBJECTS = Changes.__dict__["subjects"]
_FIELDS = Changes.__dict__["fields"]


class SegmentChanges(Changes):
    """What one event of a segment changed; its subjects and fields are made on first read."""

    __slots__ = ("_i", "_source")

    def __init__(self, source: ChangeSource, i: int) -> None:  # no Changes.__init__: lazy
        self._source: ChangeSource | None = source
        self._i = i
        _FIELDS.__set__(self, None)
        self.added = set()
        self.removed = set()
        self.notes = []

    @property
    def subjects(self) -> set[str]:
        """The subjects the event touched."""
        try:
            found: set[str] = _SUBJECTS.__get__(self)
            return found
        except AttributeError:
            assert self._source is not None
            made = self._source.subjects(self._i)
            _SUBJECTS.__set__(self, made)
            return made

    @subjects.setter
    def subjects(self, value: set[str]) -> None:
        _SUBJECTS.__set__(self, value)

    @property
    def fields(self) -> list[tuple[str, str, Any, Any]]:
        """``(subject, field, old, new)`` for every recorded change."""
        found: list[tuple[str, str, Any, Any]] | None = _FIELDS.__get__(self)
        if found is None:
            assert self._source is not None
            found = self._source.fields(self._i)
            _FIELDS.__set__(self, found)
        return found

    @fields.setter
    def fields(self, value: list[tuple[str, str, Any, Any]]) -> None:
        _FIELDS.__set__(self, value)


def _flat(value: Any) -> Any:
    """A 0-dimensional array (numpy's answer for scalars in) as the plain value it holds."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _at(column: Column, i: int) -> float:
    if isinstance(column, np.ndarray):
        return float(column[i])
    return float(column)


class SegmentMetrics(MetricStore):
    """The metrics after event ``i`` of a segment: its columns, over the engine's store."""

    __slots__ = ("_base", "_by_subject", "_columns", "_i")

    def __init__(
        self,
        base: MetricStore,
        columns: Mapping[tuple[str, str], tuple[Column, Column, Column]],
        by_subject: Mapping[str, Sequence[str]],
        i: int,
    ) -> None:
        self._base = base
        self._columns = columns
        self._by_subject = by_subject
        self._i = i
        self.buckets = base.buckets
        self._computed = {}
        self._ctx = None

    def get(self, subject: str, name: str) -> Metric | None:
        """The metric after this event, or None."""
        found = self._columns.get((subject, name))
        if found is None:
            return self._base.get(subject, name)
        i = self._i
        return Metric(subject, name, _at(found[0], i), _at(found[1], i), _at(found[2], i))

    def value(self, subject: str, name: str, default: float = 0.0) -> float:
        """The metric's value after this event, or ``default``."""
        found = self._columns.get((subject, name))
        if found is None:
            return self._base.value(subject, name, default)
        column = found[0]
        if isinstance(column, np.ndarray):
            return float(column[self._i])
        return float(column)

    def subjects(self) -> list[str]:
        """Every subject with a metric, in display order."""
        return sorted(set(self._base.subjects()) | set(self._by_subject), key=_subject_order)

    def metrics_of(self, subject: str, names: Collection[str] | None = None) -> dict[str, Metric]:
        """Every metric of ``subject`` (narrowed to ``names``), by name, sorted."""
        out = self._base.metrics_of(subject, names)
        for name in self._by_subject.get(subject, ()):
            if names is None or name in names:
                metric = self.get(subject, name)
                if metric is not None:
                    out[name] = metric
        return {name: out[name] for name in sorted(out)}

    def stored(self) -> dict[str, dict[str, Metric]]:
        """The metrics rules wrote, as after this event."""
        out = self._base.stored()
        for subject, names in self._by_subject.items():
            bucket = out.setdefault(subject, {})
            for name in names:
                metric = self.get(subject, name)
                if metric is not None:
                    bucket[name] = metric
        return out
