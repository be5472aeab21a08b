"""What a rule is: metrics and findings computed from the state after an event.

A rule is any object with the attributes of :class:`Rule` and an
``evaluate(ctx)`` method; the :func:`rule` decorator turns a plain function
into one. Rules read the state and never change it. The engine runs them in
sorted id order, only for the event types they declare, and isolates any
that raise.

A rule reports in one of two ways. It writes through the context
(``ctx.metric(...)``, ``ctx.finding(...)``) and returns None: nothing is built
but numbers, and a finding's message is made only when someone reads it. Or,
as plugin API 0.1 rules do, it returns (or yields) :class:`Metric` and
:class:`Finding` objects; the engine stores them the same way. Metrics that
follow from the state of one member (``per_member``) are not computed per
event at all: the metric store computes them when they are read.

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
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

import attrs

from twin.events import Event
from twin.profile import Domain, Parameter, Profile, domain_of
from twin.records import GroupRecord, LinkRecord, MemberRecord, OrchestratorRecord, SiteRecord
from twin.subjects import group_of

if TYPE_CHECKING:
    from twin.reducer import Changes
    from twin.state import TwinState

RULE_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9]+(-[a-z0-9]+)*\Z")


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


MessageSource = str | Callable[[Mapping[str, Any]], str]
"""How a finding's message is made when it is read: a ``str.format`` template filled
from the evidence (``"CPU {cpu:.0f}% > {limit:g}%"``), or a function of the evidence."""


class Finding:
    """A condition a rule raised about a subject.

    Treat it as immutable. The message may be given as text, or be made from
    the evidence only when someone reads it (``render``): rules judge every
    event, but people read few of the findings, so formatting waits.

    Attributes:
        rule: the finding's rule id (``convergence.cpu-overload``).
        severity: info, warning or error.
        subject: what it is about (``member:1_03``, ``group:1``, ``system``).
        message: one line for people, with the numbers that matter.
        evidence: the values behind it, for reports and the TUI.
    """

    __slots__ = ("_message", "_render", "evidence", "rule", "severity", "subject")

    def __init__(
        self,
        rule: str,
        severity: Severity,
        subject: str,
        message: str | None = None,
        evidence: Mapping[str, Any] | None = None,
        *,
        render: MessageSource | None = None,
    ) -> None:
        self.rule = rule
        self.severity = severity
        self.subject = subject
        self.evidence: Mapping[str, Any] = {} if evidence is None else evidence
        self._message = message
        self._render = render

    @property
    def message(self) -> str:
        """The message (made from the evidence on first read when it was given as a template)."""
        text = self._message
        if text is None:
            text = self._message = render_message(self._render, self.evidence)
        return text

    def _key(self) -> tuple[str, Severity, str, str]:
        return (self.rule, self.severity, self.subject, self.message)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Finding:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Finding(rule={self.rule!r}, severity={self.severity!r}, subject={self.subject!r}, "
            f"message={self.message!r})"
        )


def render_message(source: MessageSource | None, evidence: Mapping[str, Any]) -> str:
    """The message of ``source`` (a template or a function) filled from ``evidence``.

    Never raises: a template that does not fit its evidence shows what went wrong
    instead of hiding the finding.
    """
    if source is None:
        return ""
    try:
        if isinstance(source, str):
            return source.format_map(evidence)
        return str(source(evidence))
    except Exception as exc:
        return f"(message could not be made: {type(exc).__name__}: {exc}) {dict(evidence)!r}"


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


class SeverityWatch:
    """Follows the active findings from frame to frame and says which changed severity.

    A finding that escalates (or calms down) keeps its ``since`` and is neither
    raised nor cleared: only comparing the active findings of consecutive frames
    shows it. Feed it every frame, in order; it costs nothing while the active
    findings stay the same tuple (the engine reuses it then).
    """

    __slots__ = ("_seen", "_severities")

    def __init__(self) -> None:
        self._seen: object = None
        self._severities: dict[tuple[str, str], Severity] = {}

    def changes(
        self, findings: tuple[ActiveFinding, ...], raised: Iterable[ActiveFinding] = ()
    ) -> list[tuple[ActiveFinding, Severity]]:
        """``(finding now, severity before)`` for each finding whose severity changed."""
        if findings is self._seen:
            return []
        self._seen = findings
        before = self._severities
        now: dict[tuple[str, str], Severity] = {}
        out: list[tuple[ActiveFinding, Severity]] = []
        fresh: set[tuple[str, str]] | None = None
        for active in findings:
            f = active.finding
            key = (f.rule, f.subject)
            now[key] = f.severity
            old = before.get(key)
            if old is not None and old is not f.severity:
                if fresh is None:
                    fresh = {(a.finding.rule, a.finding.subject) for a in raised}
                if key not in fresh:  # cleared and raised again at once is a new finding
                    out.append((active, old))
        self._severities = now
        return out


def severity_change_text(before: Severity | str, after: Severity | str, seq: int) -> str:
    """How the TUI and the history say a severity change: ``warning→error at #40``."""
    old = before.value if isinstance(before, Severity) else before
    new = after.value if isinstance(after, Severity) else after
    return f"{old}→{new} at #{seq}"


class MetricsView(Protocol):
    """Read access to the metrics computed so far."""

    def get(self, subject: str, name: str) -> Metric | None:
        """The metric, or None if it was never computed."""

    def value(self, subject: str, name: str, default: float = 0.0) -> float:
        """The metric's value, or ``default`` when it was never computed."""


PendingFinding = tuple[str, str, "Severity | None", MessageSource, dict[str, Any]]
"""What :meth:`RuleContext.finding` records: id, subject, severity, message, evidence."""


class RuleContext:
    """Everything a rule may read while evaluating one event, and where it writes.

    The engine keeps one context and moves it on from event to event (a rule
    must not keep it). Rules read it and never change the state.

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
            run in id order, after the rules whose metrics they ``reads``).
        values: parameter name → value (the profile's, as a plain dict).
        bands: parameter name → ``(low, value, high)``.
    """

    __slots__ = (
        "_buckets",
        "_found",
        "_held",
        "bands",
        "changes",
        "event",
        "metrics",
        "occurred_at",
        "profile",
        "seq",
        "state",
        "type",
        "values",
    )

    def __init__(
        self,
        event: Event,
        type: str,
        seq: int,
        occurred_at: str,
        state: TwinState,
        changes: Changes,
        profile: Profile,
        metrics: MetricsView,
    ) -> None:
        self.event = event
        self.type = type
        self.seq = seq
        self.occurred_at = occurred_at
        self.state = state
        self.changes = changes
        self.profile = profile
        self.metrics = metrics
        self.values: Mapping[str, float] = profile.values
        self.bands: Mapping[str, tuple[float, float, float]] = profile.bands
        buckets = getattr(metrics, "buckets", None)
        self._buckets: dict[str, dict[str, Any]] = {} if buckets is None else buckets
        self._found: list[PendingFinding] = []
        self._held: Mapping[tuple[str, str], Any] = {}

    # -- typed records (plugin API 0.2): the state's own dicts, typed for mypy ---------------

    @property
    def members(self) -> Mapping[str, MemberRecord]:
        """Member id → :class:`~twin.records.MemberRecord` (``ctx.state.members``, typed)."""
        return cast("Mapping[str, MemberRecord]", self.state.members)

    @property
    def groups(self) -> Mapping[int, GroupRecord]:
        """Group number → :class:`~twin.records.GroupRecord` (``ctx.state.groups``, typed)."""
        return cast("Mapping[int, GroupRecord]", self.state.groups)

    @property
    def sites(self) -> Mapping[int, SiteRecord]:
        """Site number → :class:`~twin.records.SiteRecord` (``ctx.state.sites``, typed)."""
        return cast("Mapping[int, SiteRecord]", self.state.sites)

    @property
    def links(self) -> Mapping[str, LinkRecord]:
        """Link id → :class:`~twin.records.LinkRecord` (``ctx.state.links``, typed)."""
        return cast("Mapping[str, LinkRecord]", self.state.links)

    @property
    def orchestrators(self) -> Mapping[str, OrchestratorRecord]:
        """Orchestrator id → :class:`~twin.records.OrchestratorRecord`, typed."""
        return cast("Mapping[str, OrchestratorRecord]", self.state.orchestrators)

    # -- what the event touched (plugin API 0.2) ---------------------------------------------

    def touched_members(self) -> list[str]:
        """Ids of the existing members the event touched, in Maestro order.

        An incremental rule judges exactly these (and :meth:`touched_groups`).
        """
        members = self.state.members
        return [m for m in self.changes.touched_members() if m in members]

    def touched_groups(self) -> list[int]:
        """Numbers of the existing groups the event touched, ascending."""
        groups = self.state.groups
        return [g for g in self.changes.touched_groups() if g in groups]

    def group_of(self, subject: str) -> int | None:
        """The group ``subject`` is about: a group's number, a member's group, else None."""
        return group_of(self.state, subject)

    def sum_over_groups(self, name: str, fresh: Mapping[int, float]) -> float:
        """Group metric ``name`` summed over every group: the system value of a per-group rule.

        An incremental per-group rule computes its groups of this event into
        ``fresh`` (group number → value); every other group counts with the value
        it was given before (0 when never).
        """
        value = self.metrics.value
        total = 0.0
        for g in self.state.groups:
            got = fresh.get(g)
            total += value(f"group:{g}", name, 0.0) if got is None else got
        return total

    def band_sum_over_groups(
        self, name: str, fresh: Mapping[int, tuple[float, float, float]]
    ) -> tuple[float, float, float]:
        """Like :meth:`sum_over_groups` for a metric with a band: ``(low, value, high)`` sums.

        ``fresh`` maps group number → ``(low, value, high)``.
        """
        get = self.metrics.get
        low = mid = high = 0.0
        for g in self.state.groups:
            got = fresh.get(g)
            if got is None:
                metric = get(f"group:{g}", name)
                got = (0.0, 0.0, 0.0) if metric is None else (metric.low, metric.value, metric.high)
            low += got[0]
            mid += got[1]
            high += got[2]
        return low, mid, high

    # -- parameters ------------------------------------------------------------------------------

    def param(self, name: str) -> float:
        """The value of parameter ``name`` in the profile in use."""
        return self.values[name]

    def band(self, name: str) -> tuple[float, float, float]:
        """``(low, value, high)`` of parameter ``name``."""
        return self.bands[name]

    def metric(
        self,
        subject: str,
        name: str,
        value: float,
        low: float | None = None,
        high: float | None = None,
    ) -> None:
        """Record metric ``name`` of ``subject`` (``low``/``high``: its band, if it has one).

        The cheap way to compute a metric: nothing is built but the number.
        Declare ``name`` in the rule's ``metrics``.
        """
        bucket = self._buckets.get(subject)
        if bucket is None:
            bucket = self._buckets[subject] = {}
        if low is None and high is None:
            bucket[name] = value
        else:
            bucket[name] = (value, value if low is None else low, value if high is None else high)

    def finding(
        self,
        finding_id: str,
        subject: str,
        message: MessageSource,
        /,
        severity: Severity | None = None,
        **evidence: Any,
    ) -> None:
        """Say that ``finding_id`` holds for ``subject`` after this event.

        Args:
            finding_id: an id the rule declares in ``raises``.
            subject: what it is about (``group:1``).
            message: a ``str.format`` template filled from ``evidence`` when the
                message is read, or a function of the evidence.
            severity: the severity now, when the finding can escalate (default:
                the one declared in ``raises``); ``since`` is kept when it changes.
            **evidence: the values behind it (and the message's fields).
        """
        self._found.append((finding_id, subject, severity, message, evidence))

    def held(self, finding_id: str, subject: str) -> bool:
        """True if this rule's finding ``finding_id`` held for ``subject`` before this event.

        An incremental rule judges only the subjects the event touched; for the
        others its earlier verdict stands, and this is how it reads it (say, to
        know whether any member of a group is still overloaded without judging
        every member again).
        """
        return (finding_id, subject) in self._held

    def holding(self, finding_id: str) -> list[str]:
        """The subjects for which this rule's ``finding_id`` held before this event."""
        return [subject for fid, subject in self._held if fid == finding_id]

    def replace(self, **changes: Any) -> RuleContext:
        """A copy with some attributes replaced (tests and wrappers; the engine reuses one)."""
        copy = RuleContext.__new__(RuleContext)
        for name in RuleContext.__slots__:
            setattr(copy, name, changes.get(name, getattr(self, name)))
        return copy


Output = Iterable[Metric | Finding] | None
"""What ``evaluate`` returns: metrics and findings (plugin API 0.1), or None when the
rule wrote them through the context."""

MetricValue = float | tuple[float, float, float]
"""A metric as a rule computes it: a value, or ``(value, low, high)``."""

MemberMetric = Callable[[RuleContext, Any], MetricValue]
"""A per-member metric: computed from the context and a member record when read (the
record is a :class:`~twin.records.MemberRecord`; typed ``Any`` here so that functions
annotated with either ``MemberRecord`` or the 0.1 ``dict[str, Any]`` fit)."""


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

    Optional attributes:
        reads: metric names (of other rules) it reads from ``ctx.metrics``; the
            engine then runs it after the rules that compute them. Without it,
            rules run in plain sorted id order.
        per_member: metric name → function ``(ctx, member) -> value`` for metrics
            that follow from one member's record (and the profile and other
            metrics): the metric store computes them for every member when they
            are read, instead of the rule writing them on every event. Each name
            is also declared in ``metrics``.
        evaluate_segment: a batch method ``(seg) -> None`` computing the rule over a
            run of load events at once (:class:`twin.segments.Segment`); long
            replays use it when every rule that runs for loads has one.
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
        """Write (or return) the metrics and findings that hold after ``ctx.event``."""


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
    per_member: Mapping[str, MemberMetric] = attrs.field(factory=dict, repr=False)
    segment: Callable[[Any], None] | None = attrs.field(default=None, repr=False)
    per_group: Callable[[RuleContext, int], None] | None = attrs.field(default=None, repr=False)
    """The per-group function of a rule made by :func:`group_rule` (None for others)."""
    system: Mapping[str, Combine] = attrs.field(factory=dict, repr=False)
    """How a :func:`group_rule` combines group values into ``system`` (metric → combine)."""

    def evaluate(self, ctx: RuleContext) -> Output:
        """Call the function."""
        return self.function(ctx)

    def batch(self) -> Callable[[Any], None] | None:
        """The batch method (``evaluate_segment``), if the rule has one."""
        return self.segment


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
    per_member: Mapping[str, MemberMetric] | None = None,
    segment: Callable[[Any], None] | None = None,
) -> Callable[[Callable[[RuleContext], Output]], FunctionRule]:
    """Decorator: turn ``def f(ctx) -> None`` (writing through ``ctx``) into a rule.

    ``segment`` is the rule's batch method (see :class:`Rule`), if it has one.

    The function's docstring becomes the rule's ``doc`` (the formula in words).
    A 0.1-style function that returns or yields :class:`Metric` and
    :class:`Finding` objects works too.

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
            per_member=dict(per_member or {}),
            segment=segment,
        )

    return decorate


# -- per-group rules (plugin API 0.2) ---------------------------------------------------------

COMBINE_KINDS = ("sum", "max", "min", "mean")
"""The named ways a :func:`group_rule` combines group values into the system value."""


Reader = Callable[[str, str], "tuple[Any, Any, Any] | None"]
"""Reads a metric of a subject as ``(value, low, high)`` (None: never computed)."""


class GroupValues:
    """What a combine function of a :func:`group_rule` reads: every group's values now.

    The same object answers both when the twin steps event by event (values are
    numbers) and when it evaluates a run of loads at once (values may be numpy
    columns, one value per event): write a combine function with arithmetic
    (``+ - * /``) and :func:`ratio`, and it works for both.

    Attributes:
        state: the twin (its structure; read loads through :meth:`value`/:meth:`offered`).
        groups: group number → :class:`~twin.records.GroupRecord`, every group, ascending.
        values: parameter name → value.
    """

    __slots__ = ("_buckets", "_read", "_source", "groups", "state", "values")

    def __init__(self, source: Any, read: Reader) -> None:
        self._source = source
        self._read = read
        # stepping: the metric store's own buckets, read directly for plain numbers
        self._buckets: dict[str, dict[str, Any]] | None = getattr(source, "_buckets", None)
        self.state: TwinState = source.state
        self.groups = cast("Mapping[int, GroupRecord]", source.state.groups)
        self.values: Mapping[str, float] = source.values

    def param(self, name: str) -> float:
        """The value of parameter ``name``."""
        return self.values[name]

    def value(self, group: int, name: str, default: float = 0.0) -> Any:
        """Metric ``name`` of ``group:<group>`` now (this rule's or another's), else ``default``."""
        subject = _group_subject(group)
        buckets = self._buckets
        if buckets is not None:
            bucket = buckets.get(subject)
            stored = None if bucket is None else bucket.get(name)
            if type(stored) is float:
                return stored
        found = self._read(subject, name)
        return default if found is None else found[0]

    def band(self, group: int, name: str) -> tuple[Any, Any, Any]:
        """``(value, low, high)`` of metric ``name`` of the group (zeros when never computed)."""
        found = self._read(f"group:{group}", name)
        return (0.0, 0.0, 0.0) if found is None else found

    def offered(self, group: int, key: str) -> Any:
        """The load offered to the group now: ``connections``, ``cps``, ``throughput_gbps``."""
        loads = getattr(self._source, "loads", None)
        if loads is not None:  # a segment: offered loads are columns
            columns = loads.groups.get(group)
            if columns is not None and key in columns.offered:
                return columns.offered[key]
        return self.state.groups[group]["offered"].get(key, 0.0)


Combine = str | Callable[[GroupValues], Any]
"""How a :func:`group_rule` makes a system value: ``"sum"``, ``"max"``, ``"min"``,
``"mean"`` of the groups' values of that metric (see :func:`group_rule`), or a function
of :class:`GroupValues` returning a value or ``(value, low, high)``."""


def ratio(part: Any, whole: Any) -> Any:
    """``part / whole``; ∞ when ``whole`` is 0 and ``part`` is not, 0 when both are.

    Works on numbers and on numpy columns alike (a combine function's values).
    """
    if hasattr(part, "shape") or hasattr(whole, "shape"):
        import numpy as np  # only segments hand out columns

        part = np.asarray(part, dtype=np.float64)
        whole = np.asarray(whole, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(whole > 0, part / whole, np.where(part > 0, float("inf"), 0.0))
    if whole > 0:
        return part / whole
    return float("inf") if part > 0 else 0.0


def _stored_triple(stored: Any) -> tuple[Any, Any, Any]:
    kind = type(stored)
    if kind is tuple:
        return stored[0], stored[1], stored[2]
    if kind is Metric:
        return stored.value, stored.low, stored.high
    return stored, stored, stored


def _combine_named(how: str, rows: list[tuple[Any, Any, Any]]) -> tuple[Any, Any, Any]:
    """``how`` over ``rows`` of ``(value, low, high)``.

    ``sum`` and ``mean`` combine each end of the band on its own; ``max`` and ``min``
    take the band of the group whose value is greatest (least), the first such group
    on a tie, so the system band is one group's band.
    """
    if how == "sum" or how == "mean":
        value: Any = 0.0
        low: Any = 0.0
        high: Any = 0.0
        for v, lo, hi in rows:
            value = value + v
            low = low + lo
            high = high + hi
        if how == "mean":
            n = len(rows)
            return value / n, low / n, high / n
        return value, low, high
    value, low, high = rows[0]
    for v, lo, hi in rows[1:]:
        better = v > value if how == "max" else v < value
        if hasattr(better, "shape"):  # columns: event by event
            import numpy as np

            value, low, high = (
                np.where(better, v, value),
                np.where(better, lo, low),
                np.where(better, hi, high),
            )
        elif better:
            value, low, high = v, lo, hi
    return value, low, high


def _system_value(
    view: GroupValues,
    name: str,
    how: Combine,
    subjects: list[str],
    read: Callable[[str, str], tuple[Any, Any, Any] | None],
) -> Any:
    """One ``system`` metric of a group rule, combined from the groups now: a value, or
    ``(value, low, high)`` when it has a band."""
    if isinstance(how, str):
        rows = []
        banded = False
        for subject in subjects:
            row = read(subject, name)
            if row is None:
                row = (0.0, 0.0, 0.0)
            elif row[1] is not row[0] or row[2] is not row[0]:
                banded = True
            rows.append(row)
        value, low, high = _combine_named(how, rows)
        return (value, low, high) if banded else value
    return how(view)


def _write_system(write: Callable[..., None], name: str, got: Any) -> None:
    if type(got) is tuple:
        write("system", name, got[0], got[1], got[2])
    else:
        write("system", name, got)


def _step_reader(ctx: RuleContext) -> Callable[[str, str], tuple[Any, Any, Any] | None]:
    """Read a group metric as ``(value, low, high)`` now: written this event, else stored."""
    buckets = ctx._buckets
    get = ctx.metrics.get

    def read(subject: str, name: str) -> tuple[Any, Any, Any] | None:
        bucket = buckets.get(subject)
        stored = None if bucket is None else bucket.get(name)
        if stored is not None:
            return _stored_triple(stored)
        metric = get(subject, name)
        return None if metric is None else (metric.value, metric.low, metric.high)

    return read


def _segment_reader(seg: Any) -> Callable[[str, str], tuple[Any, Any, Any] | None]:
    """Read a group metric as columns: computed in this segment, else as stored before it."""
    columns = seg.columns

    def read(subject: str, name: str) -> tuple[Any, Any, Any] | None:
        found = columns.get((subject, name))
        if found is not None:
            return found  # type: ignore[no-any-return]
        metric = seg.stored(subject, name)
        return None if metric is None else (metric.value, metric.low, metric.high)

    return read


def _group_evaluate(
    per_group: Callable[[RuleContext, int], None], system: Mapping[str, Combine]
) -> Callable[[RuleContext], None]:
    """The rule function of a group rule: touched groups, then the system values."""

    items = list(system.items())

    def evaluate(ctx: RuleContext) -> None:
        for g in ctx.touched_groups():
            per_group(ctx, g)
        groups = ctx.state.groups
        if not items or not groups:
            return
        subjects = [_group_subject(g) for g in groups]
        buckets = ctx._buckets
        view: GroupValues | None = None
        for name, how in items:
            if how == "sum":  # the common case, cheaply: plain numbers as written or stored
                total = 0.0
                for subject in subjects:
                    bucket = buckets.get(subject)
                    stored = None if bucket is None else bucket.get(name)
                    if type(stored) is not float:
                        break  # absent, banded or a Metric: the general way below
                    total += stored
                else:
                    ctx.metric("system", name, total)
                    continue
            if view is None:
                view = GroupValues(ctx, _step_reader(ctx))
            _write_system(ctx.metric, name, _system_value(view, name, how, subjects, view._read))

    return evaluate


_SUBJECTS: dict[int, str] = {}


def _group_subject(g: int) -> str:
    """``group:<g>``, made once per group number."""
    subject = _SUBJECTS.get(g)
    if subject is None:
        subject = _SUBJECTS[g] = f"group:{g}"
    return subject


def _group_batch(
    per_group: Callable[[Any, int], None], system: Mapping[str, Combine]
) -> Callable[[Any], None]:
    """The batch method of a group rule: every group over the segment, then the system."""

    def evaluate_segment(seg: Any) -> None:
        groups = seg.state.groups
        for g in groups:
            per_group(seg, g)
        if system and groups:
            read = _segment_reader(seg)
            view = GroupValues(seg, read)
            subjects = [_group_subject(g) for g in groups]
            for name, how in system.items():
                _write_system(seg.metric, name, _system_value(view, name, how, subjects, read))

    return evaluate_segment


def group_rule(
    *,
    id: str,
    summary: str,
    system: Mapping[str, Combine],
    events: Iterable[type[Event] | str] | None = None,
    parameters: Iterable[str] = (),
    raises: Mapping[str, Severity | str] | None = None,
    metrics: Mapping[str, str] | None = None,
    reads: Iterable[str] = (),
    per_member: Mapping[str, MemberMetric] | None = None,
    segment: Callable[[Any, int], None] | None = None,
) -> Callable[[Callable[[RuleContext, int], None]], FunctionRule]:
    """Decorator: a per-group rule. ``def f(ctx, g) -> None`` judges one group.

    The twin calls the function for each group the event touched (the rule is
    incremental: findings on other groups stand) and then makes each metric in
    ``system`` from every group's value of it now (the stored value for the
    groups it did not call the function for): ``"sum"``, ``"max"``, ``"min"``,
    ``"mean"`` (these two: each end of a band on its own; ``max``/``min``: the band of
    the group with the greatest/least value), or a function of :class:`GroupValues`
    returning a value or ``(value, low, high)``.

    ``segment`` is the same judgement of one group over a run of loads,
    ``(seg, g) -> None`` writing columns (see :class:`twin.segments.Segment`):
    with it, the rule has a batch method that calls it for every group and
    combines the system values the same way, on columns.

    The other arguments are :func:`rule`'s. Every name in ``system`` is
    declared in ``metrics``.

    Raises:
        ValueError: a ``system`` metric is not in ``metrics``, or an unknown combine name.
    """
    declared = dict(metrics or {})
    for name, how in system.items():
        if name not in declared:
            raise ValueError(f"{id}: system metric {name!r} is not declared in metrics")
        if isinstance(how, str) and how not in COMBINE_KINDS:
            raise ValueError(
                f"{id}: system metric {name!r} combines by {how!r}; "
                f"use one of {', '.join(COMBINE_KINDS)} or a function"
            )
        if not isinstance(how, str) and not callable(how):
            raise ValueError(f"{id}: system metric {name!r}: combine with a name or a function")
    combine = dict(system)

    def decorate(function: Callable[[RuleContext, int], None]) -> FunctionRule:
        made = rule(
            id=id,
            summary=summary,
            events=events,
            parameters=parameters,
            raises=raises,
            metrics=declared,
            incremental=True,
            reads=reads,
            per_member=per_member,
            segment=None if segment is None else _group_batch(segment, combine),
        )(_group_evaluate(function, combine))
        return attrs.evolve(
            made, doc=(function.__doc__ or "").strip(), per_group=function, system=combine
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
    domain: str | Domain | None = None,
) -> Parameter:
    """Declare a parameter (return it from ``twin_register_parameters``).

    Args:
        name: dotted id, ``<family>.<name>``.
        value: the default value.
        unit: its unit.
        provenance: ``seed``, ``official``, ``community``, ``assumption`` or ``measured``.
        source: what backs the number.
        summary: one line on what it means.
        low: lower end of its band, if any.
        high: upper end of its band, if any.
        domain: the values it may take: ``positive``, ``non-negative``, ``fraction``,
            ``share``, ``percent``, ``above-one``, a :class:`~twin.profile.Domain`, or
            None for any finite number. A profile that sets it outside is refused.

    Raises:
        ValueError: the value or band is outside the domain, or an unknown domain name.
    """
    return Parameter(
        name=name,
        value=float(value),
        unit=unit,
        provenance=provenance,
        source=source,
        summary=summary,
        low=None if low is None else float(low),
        high=None if high is None else float(high),
        domain=domain_of(domain),
    )


def parameters_of(items: Iterable[Parameter]) -> dict[str, Parameter]:
    """Index parameters by name."""
    return {p.name: p for p in items}
