"""What a rule is: metrics and findings computed from the state after an event.

A rule is any object with the attributes of :class:`Rule` and an
``evaluate(ctx)`` method; the :func:`rule` decorator turns a plain function
into one. Rules read the state and never change it. The engine runs them in
sorted id order, only for the event types they declare, and isolates any
that raise.

How findings clear: the findings a rule yields are its verdict on the
subjects it looked at. For a rule declared ``incremental=True`` that means
the subjects the event touched (``ctx.changes.subjects``): its earlier
findings on those subjects are replaced by what it yields now, and findings
on untouched subjects stand. For any other rule, what it yields is its whole
verdict, and every earlier finding of it that it does not yield again
clears.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from twin.events import Event
from twin.profile import Parameter, Profile

if TYPE_CHECKING:
    from twin.reducer import Changes
    from twin.state import TwinState

RULE_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9]+(-[a-z0-9]+)*$")


class Severity(enum.Enum):
    """How bad a finding is: ``info`` < ``warning`` < ``error``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for error."""
        return _RANKS[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """``"warn"``/``"warning"``/``"error"``/``"info"`` → a severity."""
        text = text.strip().lower()
        if text == "warn":
            text = "warning"
        return cls(text)


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


class Metric:
    """A number computed for a subject after an event.

    Treat it as immutable. It is a plain slotted class rather than an attrs
    class because rules build dozens per event: construction is ~6x cheaper.

    Attributes:
        subject: ``system``, ``group:<n>``, ``member:<id>``, ``link:<id>``...
        name: the metric name (``capacity.utilization``).
        value: the value (the band's midpoint where the model gives a range).
        low: the band's lower end (``value`` when there is no band).
        high: the band's upper end (``value`` when there is no band).
    """

    __slots__ = ("high", "low", "name", "subject", "value")

    def __init__(
        self,
        subject: str,
        name: str,
        value: float,
        low: float | None = None,
        high: float | None = None,
    ) -> None:
        self.subject = subject
        self.name = name
        self.value = value
        self.low: float = value if low is None else low
        self.high: float = value if high is None else high

    def _key(self) -> tuple[str, str, float, float, float]:
        return (self.subject, self.name, self.value, self.low, self.high)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Metric:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Metric(subject={self.subject!r}, name={self.name!r}, value={self.value!r}, "
            f"low={self.low!r}, high={self.high!r})"
        )

    def __reduce__(self) -> tuple[type[Metric], tuple[str, str, float, float, float]]:
        return (Metric, self._key())

    def to_json(self) -> dict[str, float]:
        """``{"value", "low", "high"}`` as contract §5 prints it."""
        return {"value": self.value, "low": self.low, "high": self.high}


@attrs.frozen(slots=True)
class Finding:
    """A condition a rule raised about a subject.

    Attributes:
        rule: the finding's rule id (``convergence.cpu-overload``).
        severity: info, warning or error.
        subject: what it is about (``member:1_03``, ``group:1``, ``system``).
        message: one line for people, with the numbers that matter.
        evidence: the values behind it, for reports and the TUI.
    """

    rule: str
    severity: Severity
    subject: str
    message: str
    evidence: Mapping[str, Any] = attrs.field(factory=dict, eq=False)


@attrs.frozen(slots=True)
class ActiveFinding:
    """A finding that holds after an event, with the seq that raised it and its plugin."""

    finding: Finding
    since: int
    plugin: str

    def to_json(self) -> dict[str, Any]:
        """The finding as contract §5 prints it."""
        f = self.finding
        return {
            "rule": f.rule,
            "severity": f.severity.value,
            "subject": f.subject,
            "message": f.message,
            "plugin": self.plugin,
            "since": self.since,
        }


class MetricsView(Protocol):
    """Read access to the metrics computed so far."""

    def get(self, subject: str, name: str) -> Metric | None:
        """The metric, or None if it was never computed."""


@attrs.frozen(slots=True)
class RuleContext:
    """Everything a rule may read while evaluating one event.

    Attributes:
        event: the event just applied.
        type: its public type name (also for events no plugin knows).
        seq: its journal position.
        occurred_at: its domain time (rules never read the wall clock).
        state: the twin after the event; read-only.
        changes: what the event changed (``changes.subjects`` are the subjects to re-evaluate).
        profile: the parameter values in use.
        metrics: the metrics computed so far: every metric as of the previous
            event, updated by the rules that already ran for this one (rules
            run in id order). Prefer reading the state.
    """

    event: Event
    type: str
    seq: int
    occurred_at: str
    state: TwinState
    changes: Changes
    profile: Profile
    metrics: MetricsView

    def param(self, name: str) -> float:
        """The value of parameter ``name`` in the profile in use."""
        return self.profile.parameters[name].value

    def band(self, name: str) -> tuple[float, float, float]:
        """``(low, value, high)`` of parameter ``name``."""
        return self.profile.parameters[name].band


Output = Iterable[Metric | Finding]


@runtime_checkable
class Rule(Protocol):
    """The contract of a rule object.

    Attributes:
        id: ``<family>.<kebab-slug>``, unique across all plugins; sets the run order.
        summary: one line shown by ``twin rules``.
        events: the event type names it cares about (None: every event).
        parameters: names of the profile parameters it reads.
        raises: finding rule id → severity, for every finding it may raise.
        metrics: metric name → unit, for every metric it may compute.
        incremental: True if it evaluates only ``ctx.changes.subjects`` (see module doc).
        doc: how it computes, in words (``docs/rules.md``).

    Optional attribute:
        reads: metric names (of other rules) it reads from ``ctx.metrics``; the
            engine then runs it after the rules that compute them. Without it,
            rules run in plain sorted id order.
    """

    @property
    def id(self) -> str:
        """The rule id."""

    @property
    def summary(self) -> str:
        """One line for ``twin rules``."""

    @property
    def events(self) -> frozenset[str] | None:
        """Event type names it runs for (None: all)."""

    @property
    def parameters(self) -> tuple[str, ...]:
        """Profile parameters it reads."""

    @property
    def raises(self) -> Mapping[str, Severity]:
        """Finding id → severity."""

    @property
    def metrics(self) -> Mapping[str, str]:
        """Metric name → unit."""

    @property
    def incremental(self) -> bool:
        """Evaluates only the touched subjects."""

    @property
    def doc(self) -> str:
        """The formula in words."""

    def evaluate(self, ctx: RuleContext) -> Output:
        """Yield the metrics and findings that hold after ``ctx.event``."""


def _event_names(events: Iterable[type[Event] | str] | None) -> frozenset[str] | None:
    if events is None:
        return None
    names = set()
    for e in events:
        names.add(e if isinstance(e, str) else e.event_type)
    return frozenset(names)


@attrs.frozen
class FunctionRule:
    """A rule made from a plain function by :func:`rule`."""

    id: str
    summary: str
    function: Callable[[RuleContext], Output] = attrs.field(repr=False)
    events: frozenset[str] | None = None
    parameters: tuple[str, ...] = ()
    raises: Mapping[str, Severity] = attrs.field(factory=dict)
    metrics: Mapping[str, str] = attrs.field(factory=dict)
    incremental: bool = False
    doc: str = ""
    reads: tuple[str, ...] = ()

    def evaluate(self, ctx: RuleContext) -> Output:
        """Call the function."""
        return self.function(ctx)


def rule(
    *,
    id: str,
    summary: str,
    events: Iterable[type[Event] | str] | None = None,
    parameters: Iterable[str] = (),
    raises: Mapping[str, Severity | str] | None = None,
    metrics: Mapping[str, str] | None = None,
    incremental: bool = False,
    reads: Iterable[str] = (),
) -> Callable[[Callable[[RuleContext], Output]], FunctionRule]:
    """Decorator: turn ``def f(ctx) -> Iterable[Metric | Finding]`` into a rule.

    The function's docstring becomes the rule's ``doc`` (the formula in words).

    Example::

        @rule(id="acme.too-hot", summary="a member runs above 90% CPU",
              events=[LoadChanged], raises={"acme.too-hot": "warning"})
        def too_hot(ctx):
            for member_id in ctx.changes.touched_members():
                ...
    """

    def decorate(function: Callable[[RuleContext], Output]) -> FunctionRule:
        return FunctionRule(
            id=id,
            summary=summary,
            function=function,
            events=_event_names(events),
            parameters=tuple(parameters),
            raises={
                k: v if isinstance(v, Severity) else Severity.parse(v)
                for k, v in (raises or {}).items()
            },
            metrics=dict(metrics or {}),
            incremental=incremental,
            doc=(function.__doc__ or "").strip(),
            reads=tuple(reads),
        )

    return decorate


def parameter(
    name: str,
    value: float,
    unit: str,
    *,
    provenance: str,
    source: str,
    summary: str = "",
    low: float | None = None,
    high: float | None = None,
) -> Parameter:
    """Declare a parameter (return it from ``twin_register_parameters``)."""
    return Parameter(
        name=name,
        value=float(value),
        unit=unit,
        provenance=provenance,
        source=source,
        summary=summary,
        low=None if low is None else float(low),
        high=None if high is None else float(high),
    )


def check_rule_shape(rule_obj: Any) -> list[str]:
    """Problems with a rule object's declaration (empty when it is well formed)."""
    problems = []
    for attr in ("id", "summary", "events", "parameters", "raises", "metrics", "evaluate"):
        if not hasattr(rule_obj, attr):
            problems.append(f"missing attribute {attr!r}")
    if problems:
        return problems
    if not isinstance(rule_obj.id, str) or not RULE_ID.match(rule_obj.id):
        problems.append(f"rule id {rule_obj.id!r} is not <family>.<kebab-slug>")
    if not rule_obj.summary:
        problems.append(f"rule {rule_obj.id!r} has no summary")
    for finding_id in rule_obj.raises:
        if not RULE_ID.match(finding_id):
            problems.append(f"finding id {finding_id!r} is not <family>.<kebab-slug>")
    return problems


def parameters_of(items: Iterable[Parameter]) -> dict[str, Parameter]:
    """Index parameters by name."""
    return {p.name: p for p in items}
