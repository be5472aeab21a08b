"""The event catalog: one frozen attrs class per fact the twin understands.

An event is a fact that happened (or, in a plan, is proposed to happen). Every
class here names its ``event_type`` (snake_case, past tense; the public name
of contract §2) and its payload ``schema`` version. Each field says what it
holds in its type hint (``member: MemberId``, ``cpu_pct: Percent | None``):
:func:`twin.field_kinds.kinds_from_hints` turns the hint into the validators
that refuse bad data with an :class:`~twin.errors.EventDataError` naming the
field, the value and what would be valid.

The annotations must stay objects (they are read when each class is built), so
this module does not use ``from __future__ import annotations``. Which types
exist in one process, and how payloads become events, is
:mod:`twin.event_registry`'s job.
"""

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, TypeVar

import attrs

from twin.errors import EventDataError
from twin.field_kinds import (
    MEMBER_ID,
    Check,
    Ident,
    MemberId,
    MetricName,
    NonNegativeFloat,
    NonNegativeInt,
    Percent,
    PositiveFloat,
    PositiveInt,
    SiteNumber,
    SubjectName,
    Weight,
    field,
    kinds_from_hints,
    one_of,
)

LINK_KINDS = ("downlink", "uplink", "sync", "site", "mgmt")
GROUP_MODES = ("gateway", "vsx", "vsnext")
LOAD_FIELDS = ("connections", "cps", "cpu_pct", "throughput_gbps")

GroupMode = Annotated[str, Check(one_of(GROUP_MODES))]
LinkKind = Annotated[str, Check(one_of(LINK_KINDS))]

E = TypeVar("E", bound="Event")


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


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class SiteAdded(Event):
    """A site (1 or 2) of the deployment."""

    event_type: ClassVar[str] = "site_added"
    site: SiteNumber = field(doc="site number")
    name: str | None = field(default=None, doc="display name")

    @property
    def subject(self) -> str:
        return f"site:{self.site}"


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class OrchestratorAdded(Event):
    """An orchestrator (MHO) at a site."""

    event_type: ClassVar[str] = "orchestrator_added"
    orchestrator: Ident = field(doc="orchestrator id")
    site: SiteNumber = field(doc="site number")
    model: str = field(default="MHO-140", doc="orchestrator model")

    @property
    def subject(self) -> str:
        return f"orchestrator:{self.orchestrator}"


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class OrchestratorFailed(Event):
    """An orchestrator stops; its links carry nothing."""

    event_type: ClassVar[str] = "orchestrator_failed"
    orchestrator: Ident = field(doc="orchestrator id")

    @property
    def subject(self) -> str:
        return f"orchestrator:{self.orchestrator}"


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class OrchestratorRecovered(Event):
    """A failed orchestrator is back."""

    event_type: ClassVar[str] = "orchestrator_recovered"
    orchestrator: Ident = field(doc="orchestrator id")

    @property
    def subject(self) -> str:
        return f"orchestrator:{self.orchestrator}"


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class GroupCreated(Event):
    """A Security Group."""

    event_type: ClassVar[str] = "group_created"
    group: PositiveInt = field(doc="group number")
    mode: GroupMode = field(default="gateway", doc="SG mode")
    hypersync: bool = field(default=True, doc="HyperSync on")

    @property
    def subject(self) -> str:
        return f"group:{self.group}"


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class MemberAdded(Event):
    """A Security Group Member joins its group, state UP."""

    event_type: ClassVar[str] = "member_added"
    member: MemberId = field(doc="member id <site>_<n>")
    group: PositiveInt = field(doc="group number")
    site: SiteNumber = field(doc="site number")
    model: str | None = field(default=None, doc="appliance model")
    cores: PositiveInt = field(default=16, doc="CPU cores")
    memory_gb: PositiveFloat = field(default=64.0, doc="installed memory")
    version: str = field(default="R81.20", doc="software version")
    weight: Weight | None = field(default=None, doc="0..512; by cores")
    connections_capacity: PositiveInt | None = field(
        default=None, doc="standalone concurrent connections"
    )
    throughput_gbps: PositiveFloat | None = field(default=None, doc="standalone throughput")
    blades: tuple[str, ...] | None = field(default=None, doc="enabled blades")
    hostname: str | None = field(
        default=None, doc="the name the member's own output prints (syslog host, prompt)"
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


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class MemberRemoved(Event):
    """A member leaves its group."""

    event_type: ClassVar[str] = "member_removed"
    member: Ident = field(doc="member id")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class MemberFailed(Event):
    """A member goes DOWN through a fault."""

    event_type: ClassVar[str] = "member_failed"
    member: Ident = field(doc="member id")
    cause: str | None = field(default=None, doc="e.g. pnote:Interface Active Check")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class MemberRecovered(Event):
    """A faulted member is back UP (unless it is also admin DOWN)."""

    event_type: ClassVar[str] = "member_recovered"
    member: Ident = field(doc="member id")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class MemberAdminChanged(Event):
    """An operator puts a member admin DOWN, or back UP (which cannot lift a fault)."""

    event_type: ClassVar[str] = "member_admin_changed"
    member: Ident = field(doc="member id")
    up: bool = field(doc="true = admin UP")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class LinkAdded(Event):
    """An edge of the graph: downlink, uplink, sync, site or management link."""

    event_type: ClassVar[str] = "link_added"
    link: Ident = field(doc="link id")
    a: Ident = field(doc="one end: a member, orchestrator or site:N")
    b: Ident = field(doc="other end")
    kind: LinkKind = field(doc="link kind")
    gbps: PositiveFloat = field(default=10.0, doc="link speed")
    dedicated: bool = field(default=True, doc="not shared with other traffic")
    jumbo: bool = field(default=False, doc="jumbo frames enabled")

    @property
    def subject(self) -> str:
        return f"link:{self.link}"


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class LinkFailed(Event):
    """A link goes down."""

    event_type: ClassVar[str] = "link_failed"
    link: Ident = field(doc="link id")

    @property
    def subject(self) -> str:
        return f"link:{self.link}"


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class LinkRestored(Event):
    """A failed link is back up."""

    event_type: ClassVar[str] = "link_restored"
    link: Ident = field(doc="link id")

    @property
    def subject(self) -> str:
        return f"link:{self.link}"


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class LoadChanged(Event):
    """Offered load, for one member or for a whole group (spread over UP members by weight).

    A group load is demand: ``connections``, ``cps`` and ``throughput_gbps`` are the
    group's totals, and ``cpu_pct`` is the mean CPU over the ``serving`` members it
    was measured on. The twin fills ``serving`` when it records a group load; without
    it (events recorded before it existed) the members serving at that event are meant.
    See docs/events.md, "Group load is demand".
    """

    event_type: ClassVar[str] = "load_changed"
    member: Ident | None = field(default=None, doc="member id (or group)")
    group: int | None = field(default=None, doc="group number (or member)")
    connections: NonNegativeInt | None = field(default=None, doc="concurrent connections")
    cps: NonNegativeFloat | None = field(default=None, doc="new conn/s")
    cpu_pct: Percent | None = field(default=None, doc="CPU load %")
    throughput_gbps: NonNegativeFloat | None = field(default=None, doc="offered throughput")
    serving: PositiveInt | None = field(
        default=None, doc="members serving when a group load was measured (filled by the twin)"
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


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class WeightChanged(Event):
    """A member's distribution weight (0..512)."""

    event_type: ClassVar[str] = "weight_changed"
    member: Ident = field(doc="member id")
    weight: Weight = field(doc="0..512")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class UpgradeStarted(Event):
    """A member leaves service to be upgraded (UPGRADING)."""

    event_type: ClassVar[str] = "upgrade_started"
    member: Ident = field(doc="member id")
    to_version: str = field(doc="target version")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class UpgradeFinished(Event):
    """An upgraded member is back UP on ``version``."""

    event_type: ClassVar[str] = "upgrade_finished"
    member: Ident = field(doc="member id")
    version: str = field(doc="version now running")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class UpgradeRolledBack(Event):
    """A member goes back UP on its previous version."""

    event_type: ClassVar[str] = "upgrade_rolled_back"
    member: Ident = field(doc="member id")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class VsCreated(Event):
    """A Virtual System's memory on a member."""

    event_type: ClassVar[str] = "vs_created"
    vs: Ident = field(doc="virtual system id")
    member: Ident = field(doc="member id")
    memory_gb: PositiveFloat = field(doc="memory it takes")
    subject = property(_member_subject)


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class VsRemoved(Event):
    """A Virtual System is removed; its memory is freed (fragmenting)."""

    event_type: ClassVar[str] = "vs_removed"
    vs: Ident = field(doc="virtual system id")

    @property
    def subject(self) -> str:
        return f"vs:{self.vs}"


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class HypersyncChanged(Event):
    """HyperSync switched on or off for a group."""

    event_type: ClassVar[str] = "hypersync_changed"
    group: PositiveInt = field(doc="group number")
    enabled: bool = field(doc="HyperSync on")

    @property
    def subject(self) -> str:
        return f"group:{self.group}"


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class CheckpointIntervalChanged(Event):
    """The state checkpoint interval."""

    event_type: ClassVar[str] = "checkpoint_interval_changed"
    seconds: PositiveFloat = field(doc="interval in seconds")


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class SiteFailover(Event):
    """That site becomes ACTIVE; the other goes STANDBY and holds the backups."""

    event_type: ClassVar[str] = "site_failover"
    site: SiteNumber = field(doc="site that becomes ACTIVE")

    @property
    def subject(self) -> str:
        return f"site:{self.site}"


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class MetricObserved(Event):
    """What a gateway really showed: a measured value of one of the model's metrics."""

    event_type: ClassVar[str] = "metric_observed"
    subject: SubjectName = field(doc="what was measured: system, member:1_01, group:1")
    metric: MetricName = field(doc="metric name, e.g. load.connections")
    value: float = field(doc="the measured value, in the metric's unit")
    source: str | None = field(default=None, doc="where it was read, e.g. fw tab -s")


@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
class Note(Event):
    """An annotation; changes no state."""

    event_type: ClassVar[str] = "note"
    text: str = field(doc="the note")


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
