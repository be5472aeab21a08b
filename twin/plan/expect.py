"""Judging expectations after a step: does it hold, what was seen, against what limit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from twin.frames import MetricStore
from twin.plan.model import Expectation
from twin.rules import ActiveFinding, Metric


@attrs.frozen
class Verdict:
    """One expectation judged after one step.

    Attributes:
        expectation: what was expected.
        holds: True or False; None when it does not apply there (the subject or
            metric does not exist at that step).
        observed: what was seen: a number, ``[low, high]`` for a band checked on both
            ends, a severity (or None: no finding), or the subjects a rule is active on.
        limit: the limit: a number, ``[low, high]``, a severity or a rule id.
        margin: how far inside its limit the observation is (negative: outside); for
            metric expectations only, to find the worst step.
    """

    expectation: Expectation
    holds: bool | None
    observed: Any
    limit: Any
    margin: float | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"expect", "holds", "observed", "limit"}`` plus the expectation's line."""
        return {
            "expect": self.expectation.text,
            "holds": self.holds,
            "observed": self.observed,
            "limit": self.limit,
            "line": self.expectation.line,
        }


def judge(
    expectation: Expectation, metrics: MetricStore, findings: Sequence[ActiveFinding]
) -> Verdict:
    """Judge ``expectation`` on the metrics and active findings after a step."""
    if expectation.metric is not None:
        return _metric(
            expectation, metrics.get(expectation.subject or "system", expectation.metric)
        )
    subject = expectation.subject
    active = [a for a in findings if subject is None or a.finding.subject == subject]
    if expectation.max_severity is not None:
        limit = expectation.max_severity
        worst = max(active, key=lambda a: a.finding.severity.rank, default=None)
        seen = None if worst is None else worst.finding.severity
        holds = seen is None or seen.rank <= limit.rank
        return Verdict(expectation, holds, None if seen is None else seen.value, limit.value)
    rule = expectation.absent if expectation.absent is not None else expectation.present
    on = sorted({a.finding.subject for a in active if a.finding.rule == rule})
    holds = not on if expectation.absent is not None else bool(on)
    return Verdict(expectation, holds, on, rule)


def _metric(expectation: Expectation, metric: Metric | None) -> Verdict:
    checks: list[tuple[float, float, str]] = []  # (observed, limit, op)
    e = expectation
    band = e.band
    if e.between is not None:
        low_limit, high_limit = e.between
        checks.append((metric.low if band and metric else 0.0, low_limit, "≥"))
        checks.append((metric.high if band and metric else 0.0, high_limit, "≤"))
        limit: Any = [low_limit, high_limit]
    else:
        if e.above is not None:
            checks.append((metric.low if band and metric else 0.0, e.above, ">"))
        if e.below is not None:
            checks.append((metric.high if band and metric else 0.0, e.below, "<"))
        limit = e.below if e.above is None else (e.above if e.below is None else [e.above, e.below])
    if metric is None:
        return Verdict(e, None, None, limit)
    if not band:
        checks = [(metric.value, lim, op) for _seen, lim, op in checks]
    margins = []
    for seen, lim, op in checks:
        margins.append(lim - seen if op in ("<", "≤") else seen - lim)
    holds = all(
        (m > 0 if op in ("<", ">") else m >= 0)
        for m, (_s, _l, op) in zip(margins, checks, strict=True)
    )
    if band and len(checks) == 2:
        observed: Any = [metric.low, metric.high]
    elif band:
        observed = checks[0][0]
    else:
        observed = metric.value
    return Verdict(e, holds, observed, limit, min(margins))
