"""What a change plan is: its base, its steps and what it expects (contract §3, plan file)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs

from twin.event_files import NewEvent
from twin.rules import Severity

EVERY_STEP = None
"""``Expectation.after`` for an expectation checked after every step."""

LAST = "last"
"""``after = "last"``: checked after the last step only."""

DEFAULT_STEP_S = 60.0
"""A step without a ``duration`` advances the plan's clock by a minute."""

EMPTY_BASE_START = "2000-01-01T00:00:00Z"
"""The clock of a plan with no base and no ``start``."""

PLAN_ACTOR = "twin plan"
"""The actor of steps kept (``--keep``) or replayed from a plan file, unless a step names one."""


@attrs.frozen
class Expectation:
    """One ``[[expect]]`` (or a step's own ``expect``): what must hold after a step.

    Exactly one kind is set: ``metric`` (with ``below``/``above``/``between``),
    ``max_severity``, ``absent`` or ``present``.

    Attributes:
        index: 1-based position among the plan's expectations (file order).
        line: its line in the plan file (the table header or the ``expect`` key).
        metric: the metric name.
        subject: the subject (metric: default ``system``; rules: None = any subject).
        below: the value must be below this (strictly).
        above: the value must be above this (strictly).
        between: the value must be within ``[low, high]`` (inclusive).
        band: check the band's worst end (``high`` for below, ``low`` for above).
        max_severity: no active finding worse than this.
        absent: this rule must not be active.
        present: this rule must be active.
        after: None (every step), a step number, or ``"last"`` (labels are resolved to
            numbers when the plan is read).
        step: for a step's own expectation, that step's number.
    """

    index: int
    line: int | None
    metric: str | None = None
    subject: str | None = None
    below: float | None = None
    above: float | None = None
    between: tuple[float, float] | None = None
    band: bool = False
    max_severity: Severity | None = None
    absent: str | None = None
    present: str | None = None
    after: int | str | None = EVERY_STEP
    step: int | None = None

    @property
    def kind(self) -> str:
        """``metric``, ``max_severity``, ``absent`` or ``present``."""
        if self.metric is not None:
            return "metric"
        if self.max_severity is not None:
            return "max_severity"
        return "absent" if self.absent is not None else "present"

    def applies_after(self, step: int, last: int) -> bool:
        """True if this expectation is checked after step ``step`` of ``last``."""
        if self.step is not None:
            return step == self.step
        if self.after is EVERY_STEP:
            return True
        if self.after == LAST:
            return step == last
        return step == self.after

    @property
    def text(self) -> str:
        """The expectation in a few words, limits as written: ``capacity.utilization < 0.8``."""
        return self.text_with(_num)

    def text_with(self, number: Callable[[float], str]) -> str:
        """The expectation in a few words, each limit written by ``number``.

        ``number`` is given each limit of a metric expectation (e.g. a formatter that
        writes 0.8 of a ratio as ``80.0%``); :attr:`text` writes them as the plan does.
        """
        on = f"@{self.subject}" if self.subject and self.subject != "system" else ""
        if self.metric is not None:
            name = f"{self.metric}{on}"
            band = " (band)" if self.band else ""
            if self.between is not None:
                return f"{number(self.between[0])} ≤ {name} ≤ {number(self.between[1])}{band}"
            if self.below is not None and self.above is not None:
                return f"{number(self.above)} < {name} < {number(self.below)}{band}"
            if self.below is not None:
                return f"{name} < {number(self.below)}{band}"
            return f"{name} > {number(self.above or 0.0)}{band}"
        if self.max_severity is not None:
            return f"max severity {self.max_severity.value}{' on ' + on[1:] if on else ''}"
        if self.absent is not None:
            return f"no {self.absent}{' on ' + on[1:] if on else ''}"
        return f"{self.present} active{' on ' + on[1:] if on else ''}"

    @property
    def when(self) -> str:
        """When it is checked: ``every step``, ``after step 3``, ``after the last step``."""
        if self.step is not None:
            return f"after step {self.step}"
        if self.after is EVERY_STEP:
            return "every step"
        if self.after == LAST:
            return "after the last step"
        return f"after step {self.after}"


def _num(value: float) -> str:
    return f"{value:g}"


@attrs.frozen
class Step:
    """One ``[[step]]``: one event of the catalog (plugin types too), proposed.

    Attributes:
        number: 1-based position in the plan.
        event: the decoded event with its envelope fields (actor, reason).
        label: a name for people (and for ``after = "label"``).
        duration_s: how far the plan's clock advances for this step.
        line: the line of its ``[[step]]`` header.
        key_lines: the line of each of its keys.
    """

    number: int
    event: NewEvent
    label: str | None
    duration_s: float
    line: int | None
    key_lines: dict[str, int] = attrs.field(factory=dict)

    @property
    def type(self) -> str:
        """The event type."""
        return self.event.type

    @property
    def name(self) -> str:
        """``step 3 (lose 1_03)`` for messages."""
        return f"step {self.number}" + (f" ({self.label})" if self.label else "")

    def line_of(self, key: str | None) -> int | None:
        """The line of ``key`` in this step, else of its header."""
        if key is not None and key in self.key_lines:
            return self.key_lines[key]
        return self.line


@attrs.frozen
class Plan:
    """A change plan read from a ``.toml`` file.

    Attributes:
        path: the plan file as given.
        name: ``[plan] name`` (default: the file's stem).
        description: ``[plan] description``, if any.
        base: the base file, resolved against the plan's folder (None: an empty twin).
        base_text: ``base`` as written in the plan.
        at: the seq to start after (None: ``"end"``).
        profile: a profile name or a path resolved against the plan's folder (None: seed).
        start: the domain time the plan starts at (None: the base's last event's time).
        steps: the steps, in order.
        expectations: every expectation, the plan's ``[[expect]]`` and the steps' own.
        lines: the line of each ``[plan]`` key (and ``plan`` for its header).
    """

    path: Path
    name: str
    description: str | None
    base: Path | None
    base_text: str | None
    at: int | None
    profile: str | None
    start: str | None
    steps: tuple[Step, ...]
    expectations: tuple[Expectation, ...]
    lines: dict[str, int] = attrs.field(factory=dict)

    def line_of(self, key: str) -> int | None:
        """The line of ``[plan]`` key ``key`` (else of the ``[plan]`` header, if any)."""
        return self.lines.get(key, self.lines.get("plan"))

    def step_by_label(self, label: str) -> Step | None:
        """The step labelled ``label``, if one is."""
        return next((s for s in self.steps if s.label == label), None)
