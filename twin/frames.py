"""Frames: what the twin looks like after one event, for the CLI, the TUI and observers.

Pure data types (no engine logic), so that plugin authors can name them
through :mod:`twin.api`.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from twin.envelope import Envelope
from twin.reducer import Changes
from twin.rules import ActiveFinding, MemberMetric, Metric, RuleContext

Stored = Any
"""How a metric sits in the store: a number (no band), ``(value, low, high)``, or a
:class:`Metric` (as a plugin API 0.1 rule returned it)."""


class MetricStore:
    """Subject → metric name → metric: the metrics after the last event.

    Rules write numbers (see :meth:`twin.rules.RuleContext.metric`); readers get
    :class:`Metric` objects from :meth:`get`, plain floats from :meth:`value`.
    Per-member metrics that a rule declares ``per_member`` are not stored: they
    are computed from the current state when read, for every member.
    """

    __slots__ = ("_computed", "_ctx", "buckets")

    def __init__(self) -> None:
        self.buckets: dict[str, dict[str, Stored]] = {}
        self._computed: dict[str, MemberMetric] = {}
        self._ctx: RuleContext | None = None

    def compute_on_read(self, functions: Mapping[str, MemberMetric], ctx: RuleContext) -> None:
        """Compute these per-member metrics when read, with ``ctx`` (the engine's context)."""
        self._computed = dict(functions)
        self._ctx = ctx

    @property
    def computed_names(self) -> frozenset[str]:
        """The per-member metrics computed when read."""
        return frozenset(self._computed)

    def _compute(self, subject: str, name: str) -> Stored:
        function = self._computed.get(name)
        ctx = self._ctx
        if function is None or ctx is None or subject[:7] != "member:":
            return None
        member = ctx.state.members.get(subject[7:])
        if member is None:
            return None
        return function(ctx, member)

    def get(self, subject: str, name: str) -> Metric | None:
        """The metric, or None."""
        names = self.buckets.get(subject)
        stored = None if names is None else names.get(name)
        if stored is None:
            if not self._computed:
                return None
            stored = self._compute(subject, name)
            if stored is None:
                return None
        kind = type(stored)
        if kind is tuple:
            return Metric(subject, name, *stored)
        if kind is Metric:
            return stored  # type: ignore[no-any-return]
        return Metric(subject, name, stored)

    def value(self, subject: str, name: str, default: float = 0.0) -> float:
        """The metric's value, or ``default``."""
        names = self.buckets.get(subject)
        stored = None if names is None else names.get(name)
        if stored is None:
            if not self._computed:
                return default
            stored = self._compute(subject, name)
            if stored is None:
                return default
        kind = type(stored)
        if kind is tuple:
            return stored[0]  # type: ignore[no-any-return]
        if kind is Metric:
            return stored.value  # type: ignore[no-any-return]
        return stored  # type: ignore[no-any-return]

    def set(
        self,
        subject: str,
        name: str,
        value: float,
        low: float | None = None,
        high: float | None = None,
    ) -> None:
        """Store a metric (as :meth:`twin.rules.RuleContext.metric` does)."""
        bucket = self.buckets.get(subject)
        if bucket is None:
            bucket = self.buckets[subject] = {}
        if low is None and high is None:
            bucket[name] = value
        else:
            bucket[name] = (value, value if low is None else low, value if high is None else high)

    def subjects(self) -> list[str]:
        """Every subject with a metric, in display order."""
        found = set(self.buckets)
        ctx = self._ctx
        if self._computed and ctx is not None:
            found.update("member:" + m for m in ctx.state.members)
        return sorted(found, key=_subject_order)

    def metrics_of(self, subject: str, names: Collection[str] | None = None) -> dict[str, Metric]:
        """Every metric of ``subject`` (narrowed to ``names``), by name, sorted."""
        out: dict[str, Metric] = {}
        stored = self.buckets.get(subject, {})
        wanted: Iterable[str] = stored if names is None else [n for n in names if n in stored]
        for name in wanted:
            metric = self.get(subject, name)
            if metric is not None:
                out[name] = metric
        if self._computed and subject[:7] == "member:":
            computed = (
                self._computed if names is None else [n for n in names if n in self._computed]
            )
            for name in computed:
                if name not in out:
                    metric = self.get(subject, name)
                    if metric is not None:
                        out[name] = metric
        return {name: out[name] for name in sorted(out)}

    @property
    def by_subject(self) -> dict[str, dict[str, Metric]]:
        """Every metric as ``{subject: {name: Metric}}`` (a copy, computed metrics included)."""
        out = {}
        for subject in self.subjects():
            metrics = self.metrics_of(subject)
            if metrics:
                out[subject] = metrics
        return out

    @by_subject.setter
    def by_subject(self, metrics: Mapping[str, Mapping[str, Metric]]) -> None:
        self.load_stored(metrics)

    def stored(self) -> dict[str, dict[str, Metric]]:
        """The metrics rules wrote (not those computed on read), as :class:`Metric` objects."""
        out: dict[str, dict[str, Metric]] = {}
        for subject, names in self.buckets.items():
            bucket = out[subject] = {}
            for name in names:
                metric = self.get(subject, name)
                if metric is not None:
                    bucket[name] = metric
        return out

    def load_stored(self, metrics: Mapping[str, Mapping[str, Metric]]) -> None:
        """Replace the stored metrics (restoring a snapshot); computed ones are left alone."""
        self.buckets.clear()
        for subject, names in metrics.items():
            bucket = self.buckets[subject] = {}
            for name, metric in names.items():
                if name in self._computed and subject[:7] == "member:":
                    continue  # computed on read; a stored copy would go stale
                if metric.low == metric.value == metric.high:
                    bucket[name] = metric.value
                else:
                    bucket[name] = (metric.value, metric.low, metric.high)

    def drop(self, subject: str) -> None:
        """Forget every stored metric of ``subject``."""
        self.buckets.pop(subject, None)

    def to_json(
        self, names: Sequence[str] | None = None, subjects: Sequence[str] | None = None
    ) -> dict[str, dict[str, dict[str, float]]]:
        """``{subject: {name: {value, low, high}}}``, narrowed to ``names``/``subjects``.

        Only what is asked for is computed: narrowing is how ``twin run`` stays cheap.
        """
        out: dict[str, dict[str, dict[str, float]]] = {}
        chosen = (
            self.subjects() if subjects is None else [s for s in self.subjects() if s in subjects]
        )
        for subject in chosen:
            metrics = self.metrics_of(subject, names)
            if metrics:
                out[subject] = {n: m.to_json() for n, m in metrics.items()}
        return out


def _subject_order(subject: str) -> tuple[int, str]:
    kind = subject.split(":", 1)[0]
    rank = {"system": 0, "site": 1, "orchestrator": 2, "group": 3, "member": 4, "link": 5}
    return (rank.get(kind, 9), subject)


FRAME_FIELDS = ("seq", "envelope", "changes", "metrics", "findings", "raised", "cleared")


class Frame(tuple):  # type: ignore[type-arg]
    """The twin after one event: what the TUI, the CLI and observers see.

    Immutable; a tuple underneath (one is built per event), so use the names.

    Attributes:
        seq: the event's position.
        envelope: the event with its envelope.
        changes: what the event changed in the state.
        metrics: the metric store *as it is now* (live: it moves on with the
            next step; use ``metrics.to_json()`` to keep a copy).
        findings: the findings active after this event, sorted (an immutable tuple,
            the same object as the previous frame's when nothing changed).
        raised: findings that became active at this event.
        cleared: findings that stopped holding at this event.
    """

    __slots__ = ()

    seq: int
    envelope: Envelope
    changes: Changes
    metrics: MetricStore
    findings: tuple[ActiveFinding, ...]
    raised: tuple[ActiveFinding, ...]
    cleared: tuple[ActiveFinding, ...]

    def __new__(
        cls,
        seq: int,
        envelope: Envelope,
        changes: Changes,
        metrics: MetricStore,
        findings: tuple[ActiveFinding, ...],
        raised: tuple[ActiveFinding, ...] = (),
        cleared: tuple[ActiveFinding, ...] = (),
    ) -> Frame:
        return tuple.__new__(cls, (seq, envelope, changes, metrics, findings, raised, cleared))

    def __repr__(self) -> str:
        return (
            f"Frame(seq={self[0]!r}, type={self[1].type!r}, findings={len(self[4])}, "
            f"raised={len(self[5])}, cleared={len(self[6])})"
        )

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)

    def to_json(
        self, names: Sequence[str] | None = None, subjects: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """The frame as contract §5 prints it (``twin run --format jsonl``)."""
        return {
            "seq": self.seq,
            "type": self.envelope.type,
            "occurred_at": self.envelope.occurred_at,
            "metrics": self.metrics.to_json(names, subjects),
            "findings": [f.to_json() for f in self.findings],
        }


for _index, _name in enumerate(FRAME_FIELDS):
    setattr(Frame, _name, property(operator.itemgetter(_index), doc=f"The frame's {_name}."))
del _index, _name
