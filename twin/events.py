"""The event catalog: one frozen attrs class per fact the twin understands.

An event is a fact that happened (or, in a plan, is proposed to happen). Every
class here names its ``event_type`` (snake_case, past tense; the public name
of contract §2) and its payload ``schema`` version. Field validators refuse
bad data with an :class:`~twin.errors.EventDataError` that names the field,
the value and what would be valid.

Plugins add event classes through the ``twin_register_event_types`` hook; the
:class:`EventRegistry` holds whatever is known in one process. Old payloads
are upcast on read by functions registered with :meth:`EventRegistry.upcaster`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, TypeVar

import attrs

from twin.errors import EventDataError, UnknownEventTypeError
from twin.textsafe import first_unsafe

MEMBER_ID = re.compile(r"^([1-9][0-9]*)_([0-9]+)\Z")
LINK_KINDS = ("downlink", "uplink", "sync", "site", "mgmt")
GROUP_MODES = ("gateway", "vsx", "vsnext")
LOAD_FIELDS = ("connections", "cps", "cpu_pct", "throughput_gbps")
SUBJECT = re.compile(r"^(site|group|member|orchestrator|link):[^\s/@]+\Z")
METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+\Z")

E = TypeVar("E", bound="Event")

MAX_MAGNITUDE = 10**15
"""The largest number an event field takes (a quadrillion connections, Gbps, GB...).

Far above any deployment, and far enough below float overflow that the rules'
products and sums stay finite (an input of 1.7e308 used to come out as ``inf``
and print as ``null``)."""

TOO_LARGE = "must be at most 1e15 in size (no deployment comes near; a typo?)"


# -- field helpers ---------------------------------------------------------------------------
#
# Each field records its ``kind`` in metadata so that text sources (CSV cells,
# ``twin append key=value``) can be coerced to the right Python type before
# the class validates them.


def _fail(field: str, value: Any, problem: str) -> EventDataError:
    return EventDataError(f"{problem} (got {value!r})", field=field, value=value)


def _check_kind(kind: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and attribute.default is None:
            return
        name = attribute.name
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise _fail(name, value, "must be an integer")
            if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
                raise _fail(name, value, TOO_LARGE)
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _fail(name, value, "must be a number")
            if value != value or value in (float("inf"), float("-inf")):
                raise _fail(name, value, "must be a finite number")
            if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
                raise _fail(name, value, TOO_LARGE)
        elif kind == "str":
            if not isinstance(value, str) or not value:
                raise _fail(name, value, "must be a non-empty string")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise _fail(name, value, "must be true or false")
        elif kind == "list" and (
            not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value)
        ):
            raise _fail(name, value, "must be a list of names")

    return check


def _to_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _field(
    kind: str,
    *,
    default: Any = attrs.NOTHING,
    checks: Iterable[Callable[[str, Any], str | None]] = (),
    doc: str = "",
) -> Any:
    validators: list[Any] = [_check_kind(kind)]
    for check in checks:

        def run(
            _inst: Any,
            attribute: attrs.Attribute[Any],
            value: Any,
            check: Callable[[str, Any], str | None] = check,
        ) -> None:
            if value is None:
                return
            problem = check(attribute.name, value)
            if problem:
                raise _fail(attribute.name, value, problem)

        validators.append(run)
    return attrs.field(
        default=default,
        validator=validators,
        converter=_to_tuple if kind == "list" else None,
        metadata={"kind": kind, "doc": doc, "checks": tuple(checks)},
    )


def _non_negative(_name: str, value: Any) -> str | None:
    return "must not be negative" if value < 0 else None


def _positive(_name: str, value: Any) -> str | None:
    return "must be greater than 0" if value <= 0 else None


def _percent(_name: str, value: Any) -> str | None:
    return "must be between 0 and 100" if not 0 <= value <= 100 else None


def _weight(_name: str, value: Any) -> str | None:
    return "must be between 0 and 512" if not 0 <= value <= 512 else None


def _site(_name: str, value: Any) -> str | None:
    return "must be a site number, 1 or greater" if value < 1 else None


def _member_id(_name: str, value: Any) -> str | None:
    if not MEMBER_ID.fullmatch(value):
        return "must be a member id of the form <site>_<n>, e.g. 1_01"
    return None


def _ident(_name: str, value: Any) -> str | None:
    """Ids are shown everywhere and compared exactly: no control or invisible characters."""
    found = first_unsafe(value)
    if found is not None:
        return (
            f"must not contain control, bidi or invisible characters "
            f"(found U+{ord(found):04X} at position {value.index(found)})"
        )
    return None


def _one_of(choices: tuple[str, ...]) -> Callable[[str, Any], str | None]:
    def check(_name: str, value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


# -- the base class ---------------------------------------------------------------------------

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
"""Event class → its field names (``attrs.fields`` is too slow to ask per event)."""


@attrs.frozen(kw_only=True)
class Event:
    """Base of every event class.

    Subclasses set ``event_type`` (the public snake_case name) and ``schema``
    (the payload version; bump it with an upcaster when the payload's shape
    changes).
    """

    event_type: ClassVar[str] = ""
    schema: ClassVar[int] = 1

    def to_data(self) -> dict[str, Any]:
        """The payload as plain JSON-able data (absent optional fields omitted)."""
        cls = type(self)
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = tuple(a.name for a in attrs.fields(cls))
        out: dict[str, Any] = {}
        for name in names:
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    @property
    def subject(self) -> str:
        """The main thing this event is about, as a subject string (``member:1_01``)."""
        return "system"


def _member_subject(self: Any) -> str:
    return f"member:{self.member}"


# -- the core catalog (contract §2, v1) --------------------------------------------------------


@attrs.frozen(kw_only=True)
class SiteAdded(Event):
    """A site (1 or 2) of the deployment."""

    event_type: ClassVar[str] = "site_added"
    site: int = _field("int", checks=[_site], doc="site number")
    name: str | None = _field("str", default=None, doc="display name")

    @property
    def subject(self) -> str:
        return f"site:{self.site}"


@attrs.frozen(kw_only=True)
class OrchestratorAdded(Event):
    """An orchestrator (MHO) at a site."""

    event_type: ClassVar[str] = "orchestrator_added"
    orchestrator: str = _field("str", checks=[_ident], doc="orchestrator id")
    site: int = _field("int", checks=[_site], doc="site number")
    model: str = _field("str", default="MHO-140", doc="orchestrator model")

    @property
    def subject(self) -> str:
        return f"orchestrator:{self.orchestrator}"


@attrs.frozen(kw_only=True)
class OrchestratorFailed(Event):
    """An orchestrator stops; its links carry nothing."""

    event_type: ClassVar[str] = "orchestrator_failed"
    orchestrator: str = _field("str", checks=[_ident], doc="orchestrator id")

    @property
    def subject(self) -> str:
        return f"orchestrator:{self.orchestrator}"


@attrs.frozen(kw_only=True)
class OrchestratorRecovered(Event):
    """A failed orchestrator is back."""

    event_type: ClassVar[str] = "orchestrator_recovered"
    orchestrator: str = _field("str", checks=[_ident], doc="orchestrator id")

    @property
    def subject(self) -> str:
        return f"orchestrator:{self.orchestrator}"


@attrs.frozen(kw_only=True)
class GroupCreated(Event):
    """A Security Group."""

    event_type: ClassVar[str] = "group_created"
    group: int = _field("int", checks=[_positive], doc="group number")
    mode: str = _field("str", default="gateway", checks=[_one_of(GROUP_MODES)], doc="SG mode")
    hypersync: bool = _field("bool", default=True, doc="HyperSync on")

    @property
    def subject(self) -> str:
        return f"group:{self.group}"


@attrs.frozen(kw_only=True)
class MemberAdded(Event):
    """A Security Group Member joins its group, state UP."""

    event_type: ClassVar[str] = "member_added"
    member: str = _field("str", checks=[_ident, _member_id], doc="member id <site>_<n>")
    group: int = _field("int", checks=[_positive], doc="group number")
    site: int = _field("int", checks=[_site], doc="site number")
    model: str | None = _field("str", default=None, doc="appliance model")
    cores: int = _field("int", default=16, checks=[_positive], doc="CPU cores")
    memory_gb: float = _field("float", default=64.0, checks=[_positive], doc="installed memory")
    version: str = _field("str", default="R81.20", doc="software version")
    weight: int | None = _field("int", default=None, checks=[_weight], doc="0..512; by cores")
    connections_capacity: int | None = _field(
        "int", default=None, checks=[_positive], doc="standalone concurrent connections"
    )
    throughput_gbps: float | None = _field(
        "float", default=None, checks=[_positive], doc="standalone throughput"
    )
    blades: tuple[str, ...] | None = _field("list", default=None, doc="enabled blades")
    hostname: str | None = _field(
        "str", default=None, doc="the name the member's own output prints (syslog host, prompt)"
    )

    def __attrs_post_init__(self) -> None:
        match = MEMBER_ID.fullmatch(self.member)
        if match and int(match.group(1)) != self.site:
            raise EventDataError(
                f"member {self.member} is named for site {match.group(1)} "
                f"but site is {self.site} (got {self.site!r})",
                field="site",
                value=self.site,
            )

    subject = property(_member_subject)


@attrs.frozen(kw_only=True)
class MemberRemoved(Event):
    """A member leaves its group."""

    event_type: ClassVar[str] = "member_removed"
    member: str = _field("str", checks=[_ident], doc="member id")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True)
class MemberFailed(Event):
    """A member goes DOWN through a fault."""

    event_type: ClassVar[str] = "member_failed"
    member: str = _field("str", checks=[_ident], doc="member id")
    cause: str | None = _field("str", default=None, doc="e.g. pnote:Interface Active Check")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True)
class MemberRecovered(Event):
    """A faulted member is back UP (unless it is also admin DOWN)."""

    event_type: ClassVar[str] = "member_recovered"
    member: str = _field("str", checks=[_ident], doc="member id")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True)
class MemberAdminChanged(Event):
    """An operator puts a member admin DOWN, or back UP (which cannot lift a fault)."""

    event_type: ClassVar[str] = "member_admin_changed"
    member: str = _field("str", checks=[_ident], doc="member id")
    up: bool = _field("bool", doc="true = admin UP")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True)
class LinkAdded(Event):
    """An edge of the graph: downlink, uplink, sync, site or management link."""

    event_type: ClassVar[str] = "link_added"
    link: str = _field("str", checks=[_ident], doc="link id")
    a: str = _field("str", checks=[_ident], doc="one end: a member, orchestrator or site:N")
    b: str = _field("str", checks=[_ident], doc="other end")
    kind: str = _field("str", checks=[_one_of(LINK_KINDS)], doc="link kind")
    gbps: float = _field("float", default=10.0, checks=[_positive], doc="link speed")
    dedicated: bool = _field("bool", default=True, doc="not shared with other traffic")
    jumbo: bool = _field("bool", default=False, doc="jumbo frames enabled")

    @property
    def subject(self) -> str:
        return f"link:{self.link}"


@attrs.frozen(kw_only=True)
class LinkFailed(Event):
    """A link goes down."""

    event_type: ClassVar[str] = "link_failed"
    link: str = _field("str", checks=[_ident], doc="link id")

    @property
    def subject(self) -> str:
        return f"link:{self.link}"


@attrs.frozen(kw_only=True)
class LinkRestored(Event):
    """A failed link is back up."""

    event_type: ClassVar[str] = "link_restored"
    link: str = _field("str", checks=[_ident], doc="link id")

    @property
    def subject(self) -> str:
        return f"link:{self.link}"


@attrs.frozen(kw_only=True)
class LoadChanged(Event):
    """Offered load, for one member or for a whole group (spread over UP members by weight).

    A group load is demand: ``connections``, ``cps`` and ``throughput_gbps`` are the
    group's totals, and ``cpu_pct`` is the mean CPU over the ``serving`` members it
    was measured on. The twin fills ``serving`` when it records a group load; without
    it (events recorded before it existed) the members serving at that event are meant.
    See docs/events.md, "Group load is demand".
    """

    event_type: ClassVar[str] = "load_changed"
    member: str | None = _field("str", default=None, checks=[_ident], doc="member id (or group)")
    group: int | None = _field("int", default=None, doc="group number (or member)")
    connections: int | None = _field(
        "int", default=None, checks=[_non_negative], doc="concurrent connections"
    )
    cps: float | None = _field("float", default=None, checks=[_non_negative], doc="new conn/s")
    cpu_pct: float | None = _field("float", default=None, checks=[_percent], doc="CPU load %")
    throughput_gbps: float | None = _field(
        "float", default=None, checks=[_non_negative], doc="offered throughput"
    )
    serving: int | None = _field(
        "int",
        default=None,
        checks=[_positive],
        doc="members serving when a group load was measured (filled by the twin)",
    )

    def __attrs_post_init__(self) -> None:
        if (self.member is None) == (self.group is None):
            raise EventDataError(
                "give exactly one of member or group", field="member", value=self.member
            )
        if self.serving is not None and self.group is None:
            raise EventDataError(
                "serving describes a group load; a member's own sample has no serving count",
                field="serving",
                value=self.serving,
            )
        if all(getattr(self, name) is None for name in LOAD_FIELDS):
            raise EventDataError(
                f"give at least one of {', '.join(LOAD_FIELDS)}", field="connections", value=None
            )

    def values(self) -> dict[str, float]:
        """The load fields that this event sets."""
        out = {}
        for name in LOAD_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    @property
    def subject(self) -> str:
        return f"member:{self.member}" if self.member is not None else f"group:{self.group}"


@attrs.frozen(kw_only=True)
class WeightChanged(Event):
    """A member's distribution weight (0..512)."""

    event_type: ClassVar[str] = "weight_changed"
    member: str = _field("str", checks=[_ident], doc="member id")
    weight: int = _field("int", checks=[_weight], doc="0..512")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True)
class UpgradeStarted(Event):
    """A member leaves service to be upgraded (UPGRADING)."""

    event_type: ClassVar[str] = "upgrade_started"
    member: str = _field("str", checks=[_ident], doc="member id")
    to_version: str = _field("str", doc="target version")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True)
class UpgradeFinished(Event):
    """An upgraded member is back UP on ``version``."""

    event_type: ClassVar[str] = "upgrade_finished"
    member: str = _field("str", checks=[_ident], doc="member id")
    version: str = _field("str", doc="version now running")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True)
class UpgradeRolledBack(Event):
    """A member goes back UP on its previous version."""

    event_type: ClassVar[str] = "upgrade_rolled_back"
    member: str = _field("str", checks=[_ident], doc="member id")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True)
class VsCreated(Event):
    """A Virtual System's memory on a member."""

    event_type: ClassVar[str] = "vs_created"
    vs: str = _field("str", checks=[_ident], doc="virtual system id")
    member: str = _field("str", checks=[_ident], doc="member id")
    memory_gb: float = _field("float", checks=[_positive], doc="memory it takes")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True)
class VsRemoved(Event):
    """A Virtual System is removed; its memory is freed (fragmenting)."""

    event_type: ClassVar[str] = "vs_removed"
    vs: str = _field("str", checks=[_ident], doc="virtual system id")

    @property
    def subject(self) -> str:
        return f"vs:{self.vs}"


@attrs.frozen(kw_only=True)
class HypersyncChanged(Event):
    """HyperSync switched on or off for a group."""

    event_type: ClassVar[str] = "hypersync_changed"
    group: int = _field("int", checks=[_positive], doc="group number")
    enabled: bool = _field("bool", doc="HyperSync on")

    @property
    def subject(self) -> str:
        return f"group:{self.group}"


@attrs.frozen(kw_only=True)
class CheckpointIntervalChanged(Event):
    """The state checkpoint interval."""

    event_type: ClassVar[str] = "checkpoint_interval_changed"
    seconds: float = _field("float", checks=[_positive], doc="interval in seconds")


@attrs.frozen(kw_only=True)
class SiteFailover(Event):
    """That site becomes ACTIVE; the other goes STANDBY and holds the backups."""

    event_type: ClassVar[str] = "site_failover"
    site: int = _field("int", checks=[_site], doc="site that becomes ACTIVE")

    @property
    def subject(self) -> str:
        return f"site:{self.site}"


def _subject_name(_name: str, value: Any) -> str | None:
    if value == "system" or SUBJECT.match(value):
        return None
    return "must be system or kind:id, e.g. member:1_01, group:1, site:2, link:sync-1"


def _metric_name(_name: str, value: Any) -> str | None:
    if METRIC_NAME.match(value):
        return None
    return "must be a dotted metric name, e.g. load.connections (see `twin rules`)"


@attrs.frozen(kw_only=True)
class MetricObserved(Event):
    """What a gateway really showed: a measured value of one of the model's metrics."""

    event_type: ClassVar[str] = "metric_observed"
    subject: str = _field(
        "str", checks=[_subject_name], doc="what was measured: system, member:1_01, group:1"
    )
    metric: str = _field("str", checks=[_metric_name], doc="metric name, e.g. load.connections")
    value: float = _field("float", doc="the measured value, in the metric's unit")
    source: str | None = _field("str", default=None, doc="where it was read, e.g. fw tab -s")


@attrs.frozen(kw_only=True)
class Note(Event):
    """An annotation; changes no state."""

    event_type: ClassVar[str] = "note"
    text: str = _field("str", doc="the note")


@attrs.frozen(kw_only=True)
class OpaqueEvent(Event):
    """An event whose type no installed plugin knows: kept, shown, changes nothing."""

    event_type: ClassVar[str] = "opaque"
    original_type: str
    data: Mapping[str, Any] = attrs.field(factory=dict)

    def to_data(self) -> dict[str, Any]:
        return dict(self.data)


MEMBER_STATE_EVENTS: tuple[str, ...] = (
    "member_added",
    "member_removed",
    "member_failed",
    "member_recovered",
    "member_admin_changed",
    "upgrade_started",
    "upgrade_finished",
    "upgrade_rolled_back",
)
"""Event types that can change which members exist or are UP."""

DISTRIBUTION_EVENTS: tuple[str, ...] = (
    "group_created",
    *MEMBER_STATE_EVENTS,
    "weight_changed",
    "site_failover",
    "load_changed",
)
"""Event types that can change a member's share of its group's load, or the load itself."""

CORE_EVENTS: tuple[type[Event], ...] = (
    SiteAdded,
    OrchestratorAdded,
    OrchestratorFailed,
    OrchestratorRecovered,
    GroupCreated,
    MemberAdded,
    MemberRemoved,
    MemberFailed,
    MemberRecovered,
    MemberAdminChanged,
    LinkAdded,
    LinkFailed,
    LinkRestored,
    LoadChanged,
    WeightChanged,
    UpgradeStarted,
    UpgradeFinished,
    UpgradeRolledBack,
    VsCreated,
    VsRemoved,
    HypersyncChanged,
    CheckpointIntervalChanged,
    SiteFailover,
    Note,
    MetricObserved,
)


# -- coercion of text values ------------------------------------------------------------------

_TRUE = {"true", "yes", "1", "on", "up"}
_FALSE = {"false", "no", "0", "off", "down"}


def _coerce(kind: str, field: str, text: str) -> Any:
    text = text.strip()
    try:
        if kind == "int":
            return int(text.replace("_", ""))
        if kind == "float":
            return float(text.replace("_", ""))
    except ValueError:
        problem = "must be an integer" if kind == "int" else "must be a number"
        raise _fail(field, text, problem) from None
    if kind == "bool":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise _fail(field, text, "must be true or false")
    if kind == "list":
        return tuple(p.strip() for p in re.split(r"[;,]", text) if p.strip())
    return text


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _kind_of(annotation: Any) -> str:
    """The coercion kind of a plugin's field from its annotation (``int | None`` → int)."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    text = str(text).replace("Optional[", "").replace(" ", "")
    parts = [p for p in re.split(r"[|\]]", text) if p and p != "None"]
    head = parts[0] if parts else "str"
    if head in ("int", "float", "bool"):
        return head
    if head.startswith(("tuple", "list", "Sequence", "Tuple", "List")):
        return "list"
    return "str"


class EventRegistry:
    """The event types known in one process, and the upcasters of old payloads.

    The twin builds one from :data:`CORE_EVENTS` plus whatever plugins
    register. Decoding is the single place where payloads become events.
    """

    def __init__(self, classes: Iterable[type[Event]] = CORE_EVENTS) -> None:
        self._classes: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._fields: dict[str, dict[str, str]] = {}
        self._defaults: dict[str, tuple[tuple[str, Any], ...]] = {}
        self._builders: dict[str, Callable[[Mapping[str, Any]], Event | None]] = {}
        self._checked: dict[str, Callable[[Mapping[str, Any]], Event | None]] = {}
        for cls in classes:
            self.register(cls)

    def register(self, cls: type[Event]) -> None:
        """Add an event class; its ``event_type`` must be new and snake_case."""
        name = cls.event_type
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
            raise ValueError(f"event class {cls.__name__} needs a snake_case event_type")
        known = self._classes.get(name)
        if known is not None and known is not cls:
            raise ValueError(f"event type {name!r} is already registered by {known.__name__}")
        self._classes[name] = cls
        self._fields[name] = {
            a.name: a.metadata.get("kind") or _kind_of(a.type) for a in attrs.fields(cls)
        }
        trusted = all(
            not isinstance(a.default, attrs.Factory)  # type: ignore[arg-type]
            for a in attrs.fields(cls)
        )
        if trusted:
            self._defaults[name] = tuple((a.name, a.default) for a in attrs.fields(cls))
            checked = _checked_builder(cls)
            if checked is not None:
                self._checked[name] = checked
                # Skipping validation on replay is only safe for classes whose checks we
                # know (this module's field helper): a plugin's class may convert values
                # (converter=int), and its events may have been stored as opaque, never
                # validated, while the plugin was absent.
                self._builders[name] = _stored_builder(cls)

    def upcaster(self, event_type: str, from_schema: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register a function that turns a ``from_schema`` payload into the next one."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_schema)] = fn
            return fn

        return decorate

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._classes

    def get(self, event_type: str) -> type[Event] | None:
        """The class of ``event_type``, or None."""
        return self._classes.get(event_type)

    def names(self) -> list[str]:
        """Every known event type, sorted."""
        return sorted(self._classes)

    def fields(self, event_type: str) -> dict[str, str]:
        """Field name → kind (int, float, str, bool, list) of a known type."""
        return self._fields[event_type]

    def suggest(self, event_type: str) -> str | None:
        """The closest known type name, for 'did you mean' messages."""
        found = difflib.get_close_matches(event_type, self._classes, n=1, cutoff=0.5)
        return found[0] if found else None

    def unknown_type_error(self, event_type: str) -> UnknownEventTypeError:
        """An error for an unknown ``type`` that suggests the closest known one."""
        hint = self.suggest(event_type)
        tail = f"; did you mean {hint!r}?" if hint else ""
        return UnknownEventTypeError(
            f"unknown event type {event_type!r}{tail} (use --allow-unknown to keep it anyway)",
            field="type",
            value=event_type,
        )

    def schema_of(self, event_type: str) -> int:
        """The current payload schema of ``event_type`` (1 for unknown types)."""
        cls = self._classes.get(event_type)
        return cls.schema if cls is not None else 1

    def decode(
        self,
        event_type: str,
        data: Mapping[str, Any],
        *,
        schema: int | None = None,
        coerce: bool = False,
        allow_unknown: bool = False,
    ) -> Event:
        """Turn a payload into an event, upcasting old schemas first.

        Args:
            event_type: the public type name.
            data: the payload fields.
            schema: the payload's schema version; None means current.
            coerce: convert text values (CSV cells, ``key=value``) to each field's type.
            allow_unknown: return an :class:`OpaqueEvent` for an unknown type instead of
                raising :class:`~twin.errors.UnknownEventTypeError`.

        Raises:
            EventDataError: a field is missing, unexpected or invalid.
            UnknownEventTypeError: ``event_type`` is unknown and ``allow_unknown`` is false.
        """
        cls = self._classes.get(event_type)
        if cls is None:
            if allow_unknown:
                return OpaqueEvent(original_type=event_type, data=dict(data))
            raise self.unknown_type_error(event_type)
        if not coerce and (schema is None or schema == cls.schema):
            checked = self._checked.get(event_type)
            if checked is not None:
                event = checked(data)
                if event is not None:
                    return event  # valid: the slow path below would build the same event
        payload = dict(data)
        if schema is not None and schema != cls.schema:
            payload = self.upcast(event_type, schema, payload)
        kinds = self._fields[event_type]
        for name in payload:
            if name not in kinds:
                hint = difflib.get_close_matches(name, kinds, n=1)
                valid = f"did you mean {hint[0]!r}?" if hint else f"valid: {', '.join(kinds)}"
                raise EventDataError(
                    f"unknown field for {event_type}; {valid}", field=name, value=payload[name]
                )
        if coerce:
            for name, value in list(payload.items()):
                if isinstance(value, str) and kinds[name] != "str":
                    payload[name] = _coerce(kinds[name], name, value)
        try:
            return cls(**payload)
        except (TypeError, ValueError, ArithmeticError) as exc:
            missing = [
                a.name
                for a in attrs.fields(cls)
                if a.default is attrs.NOTHING and a.name not in payload
            ]
            if missing:
                raise EventDataError(
                    f"required field missing for {event_type}", field=missing[0]
                ) from exc
            # A plugin's own validator or converter refused a value (attrs validators and
            # converter=int raise ValueError or TypeError): name the field if we can.
            field = _failed_field(cls, payload, exc)
            shown = payload.get(field) if field is not None else None
            raise EventDataError(
                f"{exc} (got {shown!r})" if field is not None else str(exc),
                field=field or "type",
                value=shown if field is not None else event_type,
            ) from exc

    def decode_stored(self, event_type: str, data: Mapping[str, Any], schema: int) -> Event:
        """Decode a payload that was validated when it was appended (the replay hot path).

        Field validators are skipped by building the object directly (thread-safe,
        unlike switching attrs validators off globally). Anything unexpected falls
        back to :meth:`decode`, which validates and explains.
        """
        build = self._builders.get(event_type)
        if build is not None and schema == self._classes[event_type].schema:
            event = build(data)
            if event is not None:
                return event
        return self.decode(event_type, data, schema=schema, allow_unknown=True)

    def upcast(self, event_type: str, schema: int, data: dict[str, Any]) -> dict[str, Any]:
        """Apply the upcaster chain from ``schema`` to the current schema of ``event_type``."""
        cls = self._classes[event_type]
        while schema < cls.schema:
            step = self._upcasters.get((event_type, schema))
            if step is None:
                raise EventDataError(
                    f"no upcaster from schema {schema} of {event_type}",
                    field="schema",
                    value=schema,
                )
            data = step(dict(data))
            schema += 1
        if schema > cls.schema:
            raise EventDataError(
                f"schema {schema} of {event_type} is newer than this twin knows ({cls.schema}); "
                "upgrade maestro-twin or the plugin that defines it",
                field="schema",
                value=schema,
            )
        return data


def _failed_field(cls: type[Event], payload: Mapping[str, Any], exc: BaseException) -> str | None:
    """The field a plugin class's validator or converter refused, if it can be told.

    attrs' type validators put the field's ``Attribute`` in the exception's args;
    otherwise each given field's converter and validator are tried on its value.
    """
    for arg in exc.args:
        if isinstance(arg, attrs.Attribute):
            return str(arg.name)
    for a in attrs.fields(cls):
        if a.name not in payload:
            continue
        value = payload[a.name]
        try:
            if a.converter is not None:
                value = a.converter(value)
            if a.validator is not None:
                a.validator(None, a, value)
        except Exception:
            return str(a.name)
    return None


def _stored_builder(cls: type[Event]) -> Callable[[Mapping[str, Any]], Event | None]:
    """A function that builds a ``cls`` from a stored payload without validating it.

    It sets the slots directly (through their descriptors) and returns None when
    the payload has a field ``cls`` does not know or lacks a required one, so that
    the caller can fall back to the validating path, which explains.
    """
    fields = attrs.fields(cls)
    names = frozenset(a.name for a in fields)
    slots = []
    for a in fields:
        descriptor = getattr(cls, a.name, None)
        setter = getattr(descriptor, "__set__", None)
        if setter is None:  # not a slotted attrs class: use the generic setter
            setter = _setter_of(a.name)
        slots.append((setter, a.name, a.default))
    plan = tuple(slots)
    missing = attrs.NOTHING
    new = object.__new__

    def build(data: Mapping[str, Any]) -> Event | None:
        if not names.issuperset(data):
            return None
        event = new(cls)
        get = data.get
        for setter, name, default in plan:
            value = get(name, default)
            if value is missing:
                return None
            if type(value) is list:
                value = tuple(value)
            setter(event, value)
        return event

    return build


def _is_int(value: Any) -> bool:
    return type(value) is int and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE


def _is_float(value: Any) -> bool:
    kind = type(value)
    # Within the bound means finite too (NaN fails every comparison).
    return (kind is int or kind is float) and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE


def _is_str(value: Any) -> bool:
    return type(value) is str and bool(value)


def _is_bool(value: Any) -> bool:
    return type(value) is bool


def _is_list(value: Any) -> bool:
    return type(value) in (list, tuple) and all(type(v) is str and v for v in value)


_KIND_TESTS: dict[str, Callable[[Any], bool]] = {
    "int": _is_int,
    "float": _is_float,
    "str": _is_str,
    "bool": _is_bool,
    "list": _is_list,
}


def _checked_builder(cls: type[Event]) -> Callable[[Mapping[str, Any]], Event | None] | None:
    """A validating builder of ``cls`` for the import hot path, or None if it cannot have one.

    Only for classes whose every field is declared with this module's field helper:
    it runs the same checks as the attrs validators (kind, then each check, then
    ``__attrs_post_init__``) without attrs' per-field machinery. It accepts a
    subset of what the validating constructor accepts (exact types only) and
    returns None for anything else, so that the caller takes the slow path,
    which either accepts it too or explains what is wrong.
    """
    fields = attrs.fields(cls)
    plan = []
    for a in fields:
        kind = a.metadata.get("kind")
        checks = a.metadata.get("checks")
        descriptor = getattr(cls, a.name, None)
        setter = getattr(descriptor, "__set__", None)
        if kind not in _KIND_TESTS or checks is None or setter is None:
            return None
        plan.append((setter, a.name, a.default, _KIND_TESTS[kind], checks, kind == "list"))
    names = frozenset(a.name for a in fields)
    post = getattr(cls, "__attrs_post_init__", None)
    missing = attrs.NOTHING
    new = object.__new__
    steps = tuple(plan)

    def build(data: Mapping[str, Any]) -> Event | None:
        if not names.issuperset(data):
            return None
        event = new(cls)
        get = data.get
        for setter, name, default, test, checks, is_list in steps:
            value = get(name, default)
            if value is None:
                if default is not None:
                    return None
            else:
                if value is missing or not test(value):
                    return None
                for check in checks:
                    if check(name, value) is not None:
                        return None
                if is_list:
                    value = tuple(value)
            setter(event, value)
        if post is not None:
            try:
                post(event)
            except EventDataError:
                return None
        return event

    return build


def _setter_of(name: str) -> Callable[[object, Any], None]:
    def setter(obj: object, value: Any) -> None:
        object.__setattr__(obj, name, value)

    return setter


def default_registry() -> EventRegistry:
    """A registry of the core catalog only (plugins' types are added by the plugin manager)."""
    return EventRegistry(CORE_EVENTS)
