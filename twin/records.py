"""The shapes of the records a rule reads from the state, as typed dictionaries.

The state keeps each site, orchestrator, group, member and link as a plain
dict (the attribute dict of its node or edge in the topology graph). These
:class:`~typing.TypedDict` classes name every key of those dicts and its type,
so that a type checker catches ``m["cpu_pcnt"]`` in a plugin. They describe;
they convert nothing: reading a record through a typed accessor
(``ctx.members``, ``ctx.state.member(id)``) returns the very dict the state
holds, at no cost.

Records are read-only for rules: only the reducer changes the state.

Added in plugin API 0.2.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class SiteRecord(TypedDict):
    """A site (``site:<id>``), from ``site_added``.

    Keys:
        kind: always ``"site"``.
        id: the site number (1 or 2).
        name: its display name (``"site 1"`` unless the event named it).
        active: True for the ACTIVE site (the first site added, until ``site_failover``).
    """

    kind: str
    id: int
    name: str
    active: bool


class OrchestratorRecord(TypedDict):
    """An orchestrator, MHO (``orchestrator:<id>``), from ``orchestrator_added``.

    Keys:
        kind: always ``"orchestrator"``.
        id: the orchestrator id (``mho-1``).
        site: the site number it stands at.
        model: its model (``MHO-140`` by default).
        up: False after ``orchestrator_failed`` until ``orchestrator_recovered``.
    """

    kind: str
    id: str
    site: int
    model: str
    up: bool


class GroupRecord(TypedDict):
    """A Security Group (``group:<n>``), from ``group_created``.

    Keys:
        kind: always ``"group"``.
        id: the group number.
        mode: ``gateway``, ``vsx`` or ``vsnext``.
        hypersync: HyperSync on (``hypersync_changed``).
        members: the ids of its members, in Maestro order (site, then number).
        offered: the load offered to the whole group by group-level ``load_changed``
            events: any of ``connections``, ``cps``, ``throughput_gbps``.
        cpu_work: the group's CPU demand in core-percent (the ``cpu_pct`` of a group
            load times the cores that served then), or None before any group CPU load.
        serving: how many members carry its traffic now (UP, on the ACTIVE site).
    """

    kind: str
    id: int
    mode: str
    hypersync: bool
    members: list[str]
    offered: dict[str, float]
    cpu_work: float | None
    serving: int


class MemberRecord(TypedDict):
    """A Security Group Member, SGM (``member:<id>``), from ``member_added``.

    Keys:
        kind: always ``"member"``.
        id: the member id, ``<site>_<n>`` (``1_01``).
        group: its group number.
        site: its site number.
        model: its appliance model, or None when the event named none.
        cores: CPU cores.
        memory_gb: installed memory, GB.
        version: the software version it runs (``R81.20``).
        previous_version: the version before its last finished upgrade (what a roll
            back returns to), or None.
        target_version: the version it is upgrading to, while UPGRADING; else None.
        weight: its distribution weight (0..512) when set, else None (then its
            cores count: :meth:`TwinState.member_weight`).
        connections_capacity: standalone concurrent-connection capacity from the
            event, or None for the profile default.
        throughput_capacity_gbps: standalone throughput from the event (its
            ``throughput_gbps`` field), or None for the profile default.
        blades: the enabled blades.
        hostname: the name its own output prints, or None; absent from states
            restored from snapshots written before it existed (read it with ``.get``).
        fault: DOWN by a fault (``member_failed``) until ``member_recovered``.
        cause: the fault's cause as the event gave it, or None.
        admin_down: taken DOWN by an operator (``member_admin_changed up=false``).
        upgrading: between ``upgrade_started`` and its finish or roll back.
        state: ``UP``, ``DOWN``, ``DOWN_ADMIN`` or ``UPGRADING`` (derived from the
            three flags above: upgrading, then fault, then admin).
        vs: Virtual System id → its memory on this member, GB.
        vs_memory_gb: the sum of ``vs``.
        sample: the member's own measured load (member-level ``load_changed``):
            any of ``connections``, ``cps``, ``cpu_pct``, ``throughput_gbps``; it wins
            over its share of the group's load, and is cleared when its state changes.
        share: its fraction of the group's load (0 when it does not serve).
        connections: concurrent connections it carries now.
        cps: new connections per second it handles now.
        cpu_pct: its CPU now, percent (0..100).
        throughput_gbps: the throughput it carries now, Gbps.
        vs_churn: Virtual Systems created or removed on it since its last restart.
        membership_churn: members that joined or left its group since its last restart.
        conn_turnover: connections it has gained and lost since its last restart
            (the sum of the changes of ``connections``).
    """

    kind: str
    id: str
    group: int
    site: int
    model: str | None
    cores: int
    memory_gb: float
    version: str
    previous_version: str | None
    target_version: str | None
    weight: int | None
    connections_capacity: int | None
    throughput_capacity_gbps: float | None
    blades: list[str]
    hostname: NotRequired[str | None]
    fault: bool
    cause: str | None
    admin_down: bool
    upgrading: bool
    state: str
    vs: dict[str, float]
    vs_memory_gb: float
    sample: dict[str, float]
    share: float
    connections: float
    cps: float
    cpu_pct: float
    throughput_gbps: float
    vs_churn: int
    membership_churn: int
    conn_turnover: float


class LinkRecord(TypedDict):
    """A link (``link:<id>``), an edge of the topology, from ``link_added``.

    Keys:
        id: the link id.
        a: one end, as a subject (``member:1_01``, ``orchestrator:mho-1``, ``site:1``).
        b: the other end, likewise.
        kind: ``downlink``, ``uplink``, ``sync``, ``site`` or ``mgmt``.
        gbps: its speed.
        dedicated: not shared with other traffic.
        jumbo: jumbo frames enabled.
        up: False after ``link_failed`` until ``link_restored`` (a link also carries
            nothing while an orchestrator at one end is down:
            :meth:`TwinState.link_is_up`).
    """

    id: str
    a: str
    b: str
    kind: str
    gbps: float
    dedicated: bool
    jumbo: bool
    up: bool


class VirtualSystemRecord(TypedDict):
    """A Virtual System's memory on a member, from ``vs_created``.

    Keys:
        member: the id of the member it runs on.
        memory_gb: its memory there, GB.
    """

    member: str
    memory_gb: float


class ObservedRecord(TypedDict):
    """The latest ``metric_observed`` of one metric of one subject.

    Keys:
        value: what the gateway showed.
        source: where it was read (a file or command), or None.
        seq: the seq of that event.
        occurred_at: its domain time.
    """

    value: float
    source: str | None
    seq: int
    occurred_at: str
