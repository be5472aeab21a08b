"""Two plans on the same base, side by side (``twin plan compare``)."""

from __future__ import annotations

import os
from typing import Any

from twin.errors import TwinInputError
from twin.frames import MetricStore
from twin.plan.check import PlanResult, StepResult, Watched
from twin.plan.expect import judge
from twin.plan.model import Expectation, Plan


def same_base(a: Plan, b: Plan) -> bool:
    """True if both plans name the same base file (or both none) and the same ``at``."""
    path_a = None if a.base is None else os.path.realpath(a.base)
    path_b = None if b.base is None else os.path.realpath(b.base)
    return path_a == path_b and a.at == b.at


def refuse_different_bases(a: Plan, b: Plan) -> None:
    """Refuse (exit 2) two plans that start from different bases or points.

    Raises:
        TwinInputError: naming both bases and ``--force``.
    """
    if same_base(a, b):
        return

    def where(plan: Plan) -> str:
        base = plan.base_text or "an empty twin"
        return f"{base} at {'end' if plan.at is None else '#' + str(plan.at)}"

    raise TwinInputError(
        f"the plans start from different bases ({a.path}: {where(a)}; {b.path}: {where(b)}); "
        "compare them anyway with --force",
        field="PLAN",
    )


def expected_pairs(*plans: Plan) -> list[tuple[Watched, Expectation]]:
    """Every (subject, metric) any plan expects, with the first expectation naming it."""
    out: list[tuple[Watched, Expectation]] = []
    seen: set[Watched] = set()
    for plan in plans:
        for e in plan.expectations:
            if e.metric is None:
                continue
            pair = (e.subject or "system", e.metric)
            if pair not in seen:
                seen.add(pair)
                out.append((pair, e))
    return out


def _store(step: StepResult) -> MetricStore:
    store = MetricStore()
    for subject, names in step.metrics.items():
        for name, m in names.items():
            store.set(subject, name, m["value"], m["low"], m["high"])
    return store


def _worst(result: PlanResult, e: Expectation) -> dict[str, Any] | None:
    judged = []
    for step in result.steps:
        verdict = judge(e, _store(step), ())
        if verdict.margin is not None:
            judged.append((verdict.margin, step.number, step.label, verdict))
    if not judged:
        return None
    _margin, number, label, verdict = min(judged, key=lambda item: (item[0], item[1]))
    return {"observed": verdict.observed, "step": number, "label": label, "holds": verdict.holds}


def _raised(result: PlanResult) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for step in result.steps:
        for active in step.raised:
            f = active.finding
            out.setdefault(
                (f.rule, f.subject),
                {
                    "rule": f.rule,
                    "subject": f.subject,
                    "severity": f.severity.value,
                    "step": step.number,
                },
            )
    return out


def _broken(result: PlanResult) -> list[dict[str, Any]]:
    first: dict[int, dict[str, Any]] = {}
    for step, verdict in result.failed:
        first.setdefault(
            verdict.expectation.index,
            {
                "expect": verdict.expectation.text,
                "step": step,
                "observed": verdict.observed,
                "limit": verdict.limit,
            },
        )
    return [first[k] for k in sorted(first)]


def compare(a: PlanResult, b: PlanResult) -> dict[str, Any]:
    """What differs between two checked plans, as plain data (also ``--format json``).

    For every metric either plan expects: each plan's worst value (judged by the
    first expectation that names it) and the step of it; the findings each plan
    raises that the other never does; and which expectations each plan breaks.
    """
    raised_a, raised_b = _raised(a), _raised(b)
    rows = []
    for (subject, metric), e in expected_pairs(a.plan, b.plan):
        rows.append(
            {
                "metric": metric,
                "subject": subject,
                "judged_by": e.text,
                "a": _worst(a, e),
                "b": _worst(b, e),
            }
        )
    return {
        "a": {"plan": a.plan.name, "file": str(a.plan.path), "ok": a.ok},
        "b": {"plan": b.plan.name, "file": str(b.plan.path), "ok": b.ok},
        "base": None if a.base_kind == "empty" else a.base_label,
        "at": a.at,
        "profile": a.profile,
        "metrics": rows,
        "only_a": [raised_a[k] for k in sorted(set(raised_a) - set(raised_b))],
        "only_b": [raised_b[k] for k in sorted(set(raised_b) - set(raised_a))],
        "broken": {"a": _broken(a), "b": _broken(b)},
        "ok": a.ok and b.ok,
    }
