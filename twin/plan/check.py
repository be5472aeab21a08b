"""Checking a plan: apply its steps on a what-if session and judge every expectation.

The base is loaded at the plan's point without being written
(:class:`twin.fork.WhatIf`). Before each step the domain preconditions are
checked (:mod:`twin.preconditions`); a step that breaks one, or that the
reducer refuses, makes the plan invalid (``TwinInputError``, exit 2) with the
step's number, label and line. After each step the metrics the plan watches
are kept, with the findings it raised and cleared and the verdict of every
expectation that applies there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from journal import BranchInfo
from twin.errors import TwinInputError
from twin.fork import PointOutside, Progress, WhatIf
from twin.frames import MetricStore
from twin.plan.expect import Verdict, judge
from twin.plan.model import PLAN_ACTOR, Expectation, Plan, Step
from twin.plugin_manager import TwinPluginManager
from twin.profile import Profile
from twin.rules import ActiveFinding
from twin.text_import import ImportOptions, ImportReport

HEADLINE = (
    "members.active",
    "capacity.utilization",
    "sync.traffic_gbps",
    "convergence.failover_s",
)
"""System metrics every plan table shows (with any metric an expectation names)."""

Watched = tuple[str, str]
"""``(subject, metric)``."""


@attrs.frozen
class StepResult:
    """The twin after one step (step 0 is the base point).

    Attributes:
        number: the step's number (0 for the base).
        label: its label.
        type: its event type (None for the base).
        occurred_at: its domain time.
        seq: its seq on the what-if line (base seq + number).
        data: the event's data as it would be recorded.
        metrics: the watched metrics: ``{subject: {name: {value, low, high}}}``.
        findings: the findings active after it.
        raised: findings it raised.
        cleared: findings it cleared.
        notes: the reducer's remarks (e.g. admin UP ignored).
        verdicts: the expectations judged after it.
    """

    number: int
    label: str | None
    type: str | None
    occurred_at: str
    seq: int
    data: dict[str, Any]
    metrics: dict[str, dict[str, dict[str, float]]]
    findings: tuple[ActiveFinding, ...]
    raised: tuple[ActiveFinding, ...] = ()
    cleared: tuple[ActiveFinding, ...] = ()
    notes: tuple[str, ...] = ()
    verdicts: tuple[Verdict, ...] = ()

    def metric(self, subject: str, name: str) -> dict[str, float] | None:
        """``{value, low, high}`` of a watched metric, or None."""
        return self.metrics.get(subject, {}).get(name)

    def to_json(self) -> dict[str, Any]:
        """The step as ``twin plan check --format json`` prints it."""
        return {
            "step": self.number,
            "label": self.label,
            "type": self.type,
            "seq": self.seq,
            "occurred_at": self.occurred_at,
            "data": self.data,
            "metrics": self.metrics,
            "raised": [a.to_json() for a in self.raised],
            "cleared": [a.to_json() for a in self.cleared],
            "notes": list(self.notes),
            "expectations": [v.to_json() for v in self.verdicts],
        }


@attrs.frozen
class Worst:
    """The worst step of a metric expectation: the least margin to its limit."""

    expectation: Expectation
    step: int
    observed: Any
    holds: bool


@attrs.frozen
class PlanResult:
    """A checked plan.

    Attributes:
        plan: the plan.
        base_label: the base as named (``(empty)`` for none).
        base_kind: ``journal``, ``events`` (event file or gateway output), ``plan`` or ``empty``.
        at: the seq the plan started after.
        profile: the profile's name.
        base: the base point (step 0).
        steps: every step's result.
        watched: the metrics shown for every step.
        kept: the branch written with ``--keep``, if any.
        import_report: what was read, when the base is gateway output.
        base_folded: the base was folded, not replayed: the findings active at the base
            point carry ``since = at`` (:meth:`twin.fork.WhatIf.open`).
    """

    plan: Plan
    base_label: str
    base_kind: str
    at: int
    profile: str
    base: StepResult
    steps: tuple[StepResult, ...]
    watched: tuple[Watched, ...]
    kept: BranchInfo | None = None
    import_report: ImportReport | None = None
    base_folded: bool = False

    @property
    def failed(self) -> list[tuple[int, Verdict]]:
        """``(step, verdict)`` for every check that did not hold."""
        return [(s.number, v) for s in self.steps for v in s.verdicts if v.holds is False]

    @property
    def ok(self) -> bool:
        """True if every expectation held wherever it was checked."""
        return not self.failed

    @property
    def checks(self) -> int:
        """How many checks were made (expectations × the steps they apply after)."""
        return sum(1 for s in self.steps for v in s.verdicts if v.holds is not None)

    def worst(self) -> list[Worst]:
        """For each metric expectation, the step where it came closest to (or past) its limit."""
        out: list[Worst] = []
        for e in self.plan.expectations:
            if e.metric is None:
                continue
            judged = [
                (s.number, v)
                for s in self.steps
                for v in s.verdicts
                if v.expectation is e and v.margin is not None
            ]
            if judged:
                step, v = min(judged, key=lambda item: (item[1].margin, item[0]))
                out.append(Worst(e, step, v.observed, bool(v.holds)))
        return out

    def raised_anywhere(self) -> set[tuple[str, str]]:
        """``(rule, subject)`` of every finding any step raised."""
        return {(a.finding.rule, a.finding.subject) for s in self.steps for a in s.raised}

    def to_json(self) -> dict[str, Any]:
        """The contract's shape: plan, base, at, profile, steps, failed, ok (and a little more)."""
        return {
            "plan": self.plan.name,
            "file": str(self.plan.path),
            "base": None if self.base_kind == "empty" else self.base_label,
            "at": self.at,
            "profile": self.profile,
            "base_point": {
                "seq": self.base.seq,
                "occurred_at": self.base.occurred_at,
                "metrics": self.base.metrics,
                "findings": [a.to_json() for a in self.base.findings],
                "folded": self.base_folded,
            },
            "steps": [s.to_json() for s in self.steps],
            "worst": [
                {
                    "expect": w.expectation.text,
                    "metric": w.expectation.metric,
                    "subject": w.expectation.subject,
                    "step": w.step,
                    "observed": w.observed,
                    "holds": w.holds,
                }
                for w in self.worst()
            ],
            "failed": [
                {
                    "step": step,
                    "expect": v.expectation.text,
                    "observed": v.observed,
                    "limit": v.limit,
                }
                for step, v in self.failed
            ],
            "kept": None if self.kept is None else self.kept.name,
            "ok": self.ok,
        }


def watched_metrics(plan: Plan) -> tuple[Watched, ...]:
    """The headline metrics, then every (subject, metric) an expectation names."""
    out: list[Watched] = [("system", name) for name in HEADLINE]
    for e in plan.expectations:
        if e.metric is not None:
            pair = (e.subject or "system", e.metric)
            if pair not in out:
                out.append(pair)
    return tuple(out)


def _copy(
    metrics: MetricStore, watched: Iterable[Watched]
) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for subject, name in watched:
        metric = metrics.get(subject, name)
        if metric is not None:
            out.setdefault(subject, {})[name] = metric.to_json()
    return out


def _ordered(found: Iterable[ActiveFinding]) -> tuple[ActiveFinding, ...]:
    """Most severe first, then by rule and subject: the same order in every process."""
    return tuple(
        sorted(found, key=lambda a: (-a.finding.severity.rank, a.finding.rule, a.finding.subject))
    )


def _time(start: str) -> datetime:
    return datetime.fromisoformat(start.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    spec = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.astimezone(UTC).strftime(spec)


def step_error(plan: Plan, step: Step, exc: TwinInputError) -> TwinInputError:
    """``exc`` (a refused step) located at the step's line, naming the step."""
    field = f"{step.name}: {exc.field}" if exc.field else step.name
    return type(exc)(
        exc.problem,
        field=field,
        value=exc.value,
        source=str(plan.path),
        line=step.line_of(exc.field),
    )


def open_base(
    plan: Plan,
    manager: TwinPluginManager,
    profile: Profile,
    progress: Progress | None = None,
    import_options: ImportOptions | None = None,
) -> WhatIf:
    """Load the plan's base at its point, read-only.

    ``import_options`` say how to read a base that is gateway output (``--map``...).
    A long base never replayed is folded, not replayed (:meth:`twin.fork.WhatIf.open`):
    the same metrics and findings, but those active at the base point have ``since = at``.

    Raises:
        TwinInputError: the base does not exist (located at the plan's ``base`` line),
            cannot be read, or has no such ``at``.
    """
    if plan.base is not None and not plan.base.exists():
        raise TwinInputError(
            f"no such file {str(plan.base)!r} (relative to the plan's folder)",
            field="base",
            value=plan.base_text,
            source=str(plan.path),
            line=plan.line_of("base"),
        )
    try:
        return WhatIf.open(
            plan.base,
            manager,
            profile,
            at=plan.at,
            progress=progress,
            import_options=import_options,
            fold=True,  # a long base never replayed: fold it (findings at the base: since = at)
        )
    except PointOutside as exc:
        raise TwinInputError(
            f"must be a seq from 0 to {exc.head} (the last event of {plan.base_text}), "
            f'or "end" (got {plan.at!r})',
            field="at",
            value=plan.at,
            source=str(plan.path),
            line=plan.line_of("at"),
        ) from None


def check_plan(
    plan: Plan,
    manager: TwinPluginManager,
    profile: Profile,
    *,
    keep: str | None = None,
    progress: Progress | None = None,
    watch: Iterable[Watched] = (),
    import_options: ImportOptions | None = None,
) -> PlanResult:
    """Apply the plan's steps on its base and judge every expectation.

    Args:
        plan: the plan (from :func:`twin.plan.read_plan`).
        manager: the plugin manager (rules, event types).
        profile: the parameter profile.
        keep: also record the steps as this new branch of the base journal.
        progress: called while loading a long base.
        watch: more ``(subject, metric)`` pairs to keep for every step (a comparison
            watches both plans' expected metrics).
        import_options: how to read a base that is gateway output (``--map``...).

    Raises:
        TwinInputError: the base cannot be loaded, a step breaks a precondition or does
            not fit the state (``file:line: step N (label): field: why``), or a metric
            expectation names a subject that never has that metric. Nothing is kept then.
    """
    watched = watched_metrics(plan)
    watched += tuple(pair for pair in watch if pair not in watched)
    with open_base(plan, manager, profile, progress, import_options) as session:
        if keep is not None and session.kind != "journal":
            session.keep(keep)  # refuses (saying why) before any work is done
        base = StepResult(
            number=0,
            label="base",
            type=None,
            occurred_at=session.base_occurred_at,
            seq=session.base_seq,
            data={},
            metrics=_copy(session.metrics, watched),
            findings=session.findings,
        )
        clock = _time(plan.start or session.base_occurred_at)
        last = len(plan.steps)
        results: list[StepResult] = []
        for step in plan.steps:
            clock += timedelta(seconds=step.duration_s)
            try:
                frame = session.apply(step.event, occurred_at=_iso(clock), check_preconditions=True)
            except TwinInputError as exc:
                raise step_error(plan, step, exc) from None
            applied = session.proposed[-1]
            verdicts = tuple(
                judge(e, session.metrics, session.findings)
                for e in plan.expectations
                if e.applies_after(step.number, last)
            )
            results.append(
                StepResult(
                    number=step.number,
                    label=step.label,
                    type=step.type,
                    occurred_at=applied.envelope.occurred_at,
                    seq=applied.envelope.seq,
                    data=applied.envelope.data,
                    metrics=_copy(session.metrics, watched),
                    findings=session.findings,
                    raised=_ordered(frame.raised),
                    cleared=_ordered(frame.cleared),
                    notes=tuple(frame.changes.notes),
                    verdicts=verdicts,
                )
            )
        _check_subjects(plan, results)
        kept = session.keep(keep, actor=PLAN_ACTOR) if keep is not None else None
        return PlanResult(
            plan=plan,
            base_label=session.label,
            base_kind=session.kind,
            at=session.base_seq,
            profile=profile.name,
            base=base,
            steps=tuple(results),
            watched=watched,
            kept=kept,
            import_report=session.import_report,
            base_folded=session.folded,
        )


def _check_subjects(plan: Plan, results: list[StepResult]) -> None:
    """A metric expectation that never had a value anywhere it was checked is a plan mistake."""
    for e in plan.expectations:
        if e.metric is None:
            continue
        judged = [v for r in results for v in r.verdicts if v.expectation is e]
        if judged and all(v.holds is None for v in judged):
            raise TwinInputError(
                f"{e.metric} has no value on {e.subject} after any step it is checked after "
                '(a per-member metric needs subject = "member:<id>"; see `twin rules`)',
                field=f"expect {e.index}" if e.step is None else f"step {e.step}: expect",
                value=e.subject,
                source=str(plan.path),
                line=e.line,
            )
