"""Plan mode's model: a change plan stepped on a what-if session, with previews (no Textual here).

Built on :mod:`twin.plan` (reading the plan, judging expectations) and
:class:`twin.fork.WhatIf` (the base loaded read-only; steps applied through
the same reducer and rules as everything else). Nothing is ever written:
the base journal is opened read-only and :meth:`WhatIf.keep` is never called.

A *preview* applies the next step, records what it did, and rewinds the
session to where it was; *apply* does the same and stays.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from tui.formatting import printable
from tui.timeline_data import HEADLINE, EventRow, _finding_order, summary_of
from tui.timeline_index import parse_time
from tui.topology_view import Node, topology_nodes
from twin.errors import TwinInputError
from twin.fork import WhatIf
from twin.frames import Frame
from twin.plan import Plan, read_plan
from twin.plan.check import open_base, step_error
from twin.plan.expect import Verdict, judge
from twin.plugin_manager import TwinPluginManager
from twin.profile import Profile
from twin.rules import ActiveFinding
from twin.units import format_field


@attrs.frozen
class StepView:
    """The twin after one step (0: the base point), as plan mode shows it.

    Attributes:
        number: the step (0 for the base).
        row: the step's event as an Events row (None for the base).
        metrics: the headline metrics (name → value; absent ones missing).
        findings: active after it.
        raised: raised by it.
        cleared: cleared by it.
        changes: ``subject field old → new`` lines.
        notes: the reducer's remarks.
        topology: the deployment after it.
        verdicts: the expectations judged after it.
    """

    number: int
    row: EventRow | None
    metrics: dict[str, float]
    findings: tuple[ActiveFinding, ...]
    raised: tuple[ActiveFinding, ...]
    cleared: tuple[ActiveFinding, ...]
    changes: tuple[str, ...]
    notes: tuple[str, ...]
    topology: tuple[Node, ...]
    verdicts: tuple[Verdict, ...]

    @property
    def failing(self) -> tuple[Verdict, ...]:
        """The expectations that do not hold after it."""
        return tuple(v for v in self.verdicts if v.holds is False)


@attrs.frozen
class Refused:
    """A step that cannot apply (a precondition or the state refuses it)."""

    number: int
    message: str


def load_plan(path: str | Path, manager: TwinPluginManager) -> Plan:
    """Read a plan file, checking metric and rule names as ``twin plan check`` does.

    Raises:
        TwinInputError: the first mistake in the file, located.
    """
    units: dict[str, str] = {}
    for registered in manager.rules():
        units.update(registered.rule.metrics)
    rules = {f for r in manager.rules() for f in r.rule.raises}
    return read_plan(path, manager.event_registry(), metrics=set(units), rules=rules)


def is_plan_file(path: str | Path) -> bool:
    """A ``.toml`` file with a ``[plan]`` table."""
    file = Path(path)
    if file.suffix.lower() != ".toml" or not file.is_file():
        return False
    try:
        head = file.read_text(encoding="utf-8", errors="replace")[:65536]
    except OSError:
        return False
    return any(line.strip() == "[plan]" for line in head.splitlines())


class PlanRun:
    """A plan on its base; steps applied, previewed and rolled back one at a time.

    Args:
        plan: the plan.
        manager: the plugin manager.
        profile: the profile.
        progress: called while the base loads.
    """

    def __init__(
        self,
        plan: Plan,
        manager: TwinPluginManager,
        profile: Profile,
        progress: Callable[[str, int, int | None], None] | None = None,
    ) -> None:
        self.plan = plan
        self.profile = profile
        self.session: WhatIf = open_base(plan, manager, profile, progress)
        self.label = printable(plan.name or Path(str(plan.path)).name)
        base_name = Path(self.session.label).name if self.session.kind != "empty" else "empty"
        self.base_label = printable(f"{base_name} @#{self.session.base_seq}")
        self._start = _time(plan.start or self.session.base_occurred_at)
        self.views: list[StepView] = [self._view(0, None)]

    @property
    def applied(self) -> int:
        """Steps applied so far."""
        return len(self.views) - 1

    @property
    def total(self) -> int:
        """Steps in the plan."""
        return len(self.plan.steps)

    @property
    def current(self) -> StepView:
        """The twin after the last applied step (the base before any)."""
        return self.views[-1]

    def _clock(self, number: int) -> str:
        seconds = sum(s.duration_s for s in self.plan.steps[:number])
        moment = self._start + timedelta(seconds=seconds)
        spec = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
        return moment.astimezone(UTC).strftime(spec)

    def _apply(self, number: int) -> StepView | Refused:
        step = self.plan.steps[number - 1]
        try:
            frame = self.session.apply(
                step.event, occurred_at=self._clock(number), check_preconditions=True
            )
        except TwinInputError as exc:
            return Refused(number, step_error(self.plan, step, exc).one_line())
        return self._view(number, frame)

    def preview(self) -> StepView | Refused | None:
        """What the next step would do (the session is left as it was); None at the end."""
        if self.applied >= self.total:
            return None
        result = self._apply(self.applied + 1)
        if isinstance(result, StepView):
            self.session.rewind(self.applied)
        return result

    def apply_next(self) -> StepView | Refused | None:
        """Apply the next step and stay there; None at the end."""
        if self.applied >= self.total:
            return None
        result = self._apply(self.applied + 1)
        if isinstance(result, StepView):
            self.views.append(result)
        return result

    def rollback(self) -> bool:
        """Undo the last applied step."""
        if not self.applied:
            return False
        self.views.pop()
        self.session.rewind(self.applied)
        return True

    def _view(self, number: int, frame: Frame | None) -> StepView:
        session = self.session
        metrics = {
            name: m.value
            for name, _label in HEADLINE
            if (m := session.metrics.get("system", name)) is not None
        }
        last = self.total
        verdicts = tuple(
            judge(e, session.metrics, session.findings)
            for e in self.plan.expectations
            if number and e.applies_after(number, last)
        )
        row = None
        changes: tuple[str, ...] = ()
        notes: tuple[str, ...] = ()
        touched: set[str] = set()
        raised: tuple[ActiveFinding, ...] = ()
        cleared: tuple[ActiveFinding, ...] = ()
        if frame is not None:
            env = frame.envelope
            step = self.plan.steps[number - 1]
            row = EventRow(
                seq=number,
                occurred_at=printable(env.occurred_at),
                when=parse_time(env.occurred_at),
                type=printable(env.type),
                subject=printable(env.event.subject),
                summary=printable(summary_of(env.data)),
                actor=printable(step.label or ""),
                reason="",
            )
            changes = tuple(
                printable(f"{s} {f} {format_field(f, old)} → {format_field(f, new)}")
                for s, f, old, new in frame.changes.fields
            )
            notes = tuple(printable(n) for n in frame.changes.notes)
            touched = set(frame.changes.subjects)
            order = _finding_order
            raised = tuple(sorted(frame.raised, key=order))
            cleared = tuple(sorted(frame.cleared, key=order))
        return StepView(
            number=number,
            row=row,
            metrics=metrics,
            findings=session.findings,
            raised=raised,
            cleared=cleared,
            changes=changes,
            notes=notes,
            topology=topology_nodes(session.state, touched),
            verdicts=verdicts,
        )

    def close(self) -> None:
        """Close the base (nothing was written to it)."""
        self.session.close()


def _time(start: str) -> datetime:
    return datetime.fromisoformat(start.replace("Z", "+00:00"))
