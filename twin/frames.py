"""Frames: what the twin looks like after one event, for the CLI, the TUI and observers.

Pure data types (no engine logic), so that plugin authors can name them
through :mod:`twin.api`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from twin.envelope import Envelope
from twin.reducer import Changes
from twin.rules import ActiveFinding, Metric


class MetricStore:
    """Subject → metric name → :class:`Metric`: the metrics after the last event."""

    __slots__ = ("by_subject",)

    def __init__(self) -> None:
        self.by_subject: dict[str, dict[str, Metric]] = {}

    def get(self, subject: str, name: str) -> Metric | None:
        """The metric, or None."""
        names = self.by_subject.get(subject)
        return None if names is None else names.get(name)

    def value(self, subject: str, name: str, default: float = 0.0) -> float:
        """The metric's value, or ``default``."""
        metric = self.get(subject, name)
        return default if metric is None else metric.value

    def to_json(
        self, names: Sequence[str] | None = None, subjects: Sequence[str] | None = None
    ) -> dict[str, dict[str, dict[str, float]]]:
        """``{subject: {name: {value, low, high}}}``, narrowed to ``names``/``subjects``."""
        out: dict[str, dict[str, dict[str, float]]] = {}
        for subject in sorted(self.by_subject, key=_subject_order):
            if subjects is not None and subject not in subjects:
                continue
            metrics = self.by_subject[subject]
            chosen = {
                n: metrics[n].to_json() for n in sorted(metrics) if names is None or n in names
            }
            if chosen:
                out[subject] = chosen
        return out


def _subject_order(subject: str) -> tuple[int, str]:
    kind = subject.split(":", 1)[0]
    rank = {"system": 0, "site": 1, "orchestrator": 2, "group": 3, "member": 4, "link": 5}
    return (rank.get(kind, 9), subject)


@attrs.frozen(slots=True)
class Frame:
    """The twin after one event: what the TUI, the CLI and observers see.

    Attributes:
        seq: the event's position.
        envelope: the event with its envelope.
        changes: what the event changed in the state.
        metrics: the metric store *as it is now* (live: it moves on with the
            next step; use ``metrics.to_json()`` to keep a copy).
        findings: the findings active after this event, sorted (an immutable tuple).
        raised: findings that became active at this event.
        cleared: findings that stopped holding at this event.
    """

    seq: int
    envelope: Envelope
    changes: Changes
    metrics: MetricStore
    findings: tuple[ActiveFinding, ...]
    raised: tuple[ActiveFinding, ...] = ()
    cleared: tuple[ActiveFinding, ...] = ()

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
