"""Capacity: members, usable connection capacity and its utilization; the SMO master.

Model lines 1 (HyperSync halves a member's usable connection capacity) and
13 (fragmentation lowers it), the reducer's member states (admin UP cannot
lift a fault DOWN; only the ACTIVE site serves), and the SMO master of
domain reference §1.6 (the UP member with the lowest id).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.api import (
    MEMBER_STATE_EVENTS,
    UP,
    GroupValues,
    Parameter,
    Rule,
    RuleContext,
    Segment,
    group_rule,
    hookimpl,
    parameter,
    ratio,
    rule,
)

FACTOR = "hypersync.capacity_factor"
DEFAULT = "capacity.default_connections"
HIGH = "capacity.high_utilization"
EXHAUSTED = "capacity.exhausted_utilization"
NAMES = (FACTOR, DEFAULT, HIGH, EXHAUSTED)

STATE_EVENTS = MEMBER_STATE_EVENTS
EVENTS = (
    "group_created",
    *STATE_EVENTS,
    "load_changed",
    "weight_changed",
    "site_failover",
    "vs_created",
    "vs_removed",
    "hypersync_changed",
)


def _member_capacity(ctx: RuleContext, m: dict[str, Any]) -> float:
    """Usable concurrent connections of an UP member (0 when it is not UP)."""
    if m["state"] != UP:
        return 0.0
    v = ctx.values
    nominal = m["connections_capacity"]
    base: float = v[DEFAULT] if nominal is None else float(nominal)
    if ctx.state.groups[m["group"]]["hypersync"]:
        base *= v[FACTOR]
    frag = ctx.metrics.value("member:" + m["id"], "memory.fragmentation", 0.0)
    return base * (1.0 - frag) if frag else base


UTILIZATION = (
    "group {group} uses {utilization:.0%} of its connection capacity "
    "({connections:,.0f} of {capacity:,.0f}) ≥ {limit:.0%}"
)


def _connections_segment(seg: Segment, g: int) -> None:
    """:func:`connections` of group ``g`` over a run of load events (the same arithmetic,
    on columns)."""
    v = seg.values
    default = v[DEFAULT]
    state = seg.state
    members = state.members
    group = state.groups[g]
    touched = seg.loads.members
    for member_id in group["members"]:
        if member_id not in touched:
            continue
        m = members[member_id]
        if m["state"] != UP:
            seg.metric("member:" + member_id, "capacity.connections_max", 0.0)
            continue
        nominal = m["connections_capacity"]
        base = default if nominal is None else float(nominal)
        if group["hypersync"]:
            base *= v[FACTOR]
        frag = seg.column("member:" + member_id, "memory.fragmentation", 0.0)
        usable = np.where(frag != 0, base * (1.0 - frag), base)
        seg.metric("member:" + member_id, "capacity.connections_max", usable)
    subject = f"group:{g}"
    serving = state.serving_members(g)
    cap: Any = 0.0
    load: Any = 0.0
    factor = v[FACTOR] if group["hypersync"] else 1.0
    for m in serving:
        nominal = m["connections_capacity"]
        base = (default if nominal is None else float(nominal)) * factor
        frag = seg.column("member:" + m["id"], "memory.fragmentation", 0.0)
        cap = cap + np.where(frag != 0, base * (1.0 - frag), base)
        load = load + seg.member_loads(m["id"]).connections
    if not serving:
        load = _offered_connections(seg, g)
    active = float(sum(1 for i in group["members"] if members[i]["state"] == UP))
    total = float(len(group["members"]))
    util = ratio(np.asarray(load, dtype=np.float64), cap)
    seg.metric(subject, "members.active", active)
    seg.metric(subject, "members.total", total)
    seg.metric(subject, "capacity.connections_max", cap)
    seg.metric(subject, "capacity.utilization", util)
    exhausted = util >= v[EXHAUSTED]
    evidence = {"group": g, "utilization": util, "connections": load, "capacity": cap}
    seg.finding(
        "capacity.exhausted", subject, UTILIZATION, exhausted, limit=v[EXHAUSTED], **evidence
    )
    seg.finding(
        "capacity.high",
        subject,
        UTILIZATION,
        (util >= v[HIGH]) & ~exhausted,
        limit=v[HIGH],
        **evidence,
    )


def _offered_connections(seg: Segment, g: int) -> Any:
    """The connections offered to group ``g`` over the segment (a column, or one value)."""
    loads = seg.loads.groups.get(g)
    if loads is not None:
        return loads.offered["connections"]
    return seg.state.groups[g]["offered"].get("connections", 0.0)


def _system_utilization(groups: GroupValues) -> Any:
    """System ``capacity.utilization``: connections carried by every group's serving
    members (its offered connections where none serves) ÷ their summed capacity."""
    load: Any = 0.0
    cap: Any = 0.0
    for g, group in groups.groups.items():
        cap = cap + groups.value(g, "capacity.connections_max")
        if group["serving"]:
            load = load + groups.value(g, "load.connections")
        else:
            load = load + groups.offered(g, "connections")
    return ratio(load, cap)


@group_rule(
    id="capacity.connections",
    summary="members UP, usable concurrent-connection capacity and its utilization",
    events=EVENTS,
    parameters=NAMES,
    raises={"capacity.high": "warning", "capacity.exhausted": "error"},
    metrics={
        "members.active": "count",
        "members.total": "count",
        "capacity.connections_max": "connections",
        "capacity.utilization": "ratio",
    },
    system={
        "members.active": "sum",
        "members.total": "sum",
        "capacity.connections_max": "sum",
        "capacity.utilization": _system_utilization,
    },
    reads=("memory.fragmentation", "load.connections"),
    per_member={"capacity.connections_max": _member_capacity},
    segment=_connections_segment,
)
def connections(ctx: RuleContext, g: int) -> None:
    """A member's usable capacity (``capacity.connections_max`` per member) is its
    standalone concurrent-connection capacity (``connections_capacity`` of
    member_added, else ``capacity.default_connections``) × ``hypersync.capacity_factor``
    when its group's HyperSync is on (backup entries take the other half) × (1 − its
    ``memory.fragmentation``); 0 when the member is not UP (DOWN, DOWN (admin),
    UPGRADING). A standby-site member is UP and shows its capacity, but only serving
    members count for a group: ``capacity.connections_max`` per group and system = the
    sum over serving members (UP, on the ACTIVE site), because the standby site
    carries no traffic. ``capacity.utilization`` (per group and system) = connections
    carried by the serving members (the group's offered connections if none serves)
    ÷ that capacity; ∞ when there is load and no capacity. ``members.active`` = UP
    members, ``members.total`` = all members, per group and system.

    Findings per group: ``capacity.exhausted`` when utilization ≥
    ``capacity.exhausted_utilization``, else ``capacity.high`` when it is ≥
    ``capacity.high_utilization`` (only the worse of the two is raised)."""
    v = ctx.values
    default = v[DEFAULT]
    state = ctx.state
    stored = ctx.metrics.value
    s = f"group:{g}"
    group = state.groups[g]
    serving = state.serving_members(g)
    cap = 0.0
    load = 0.0
    factor = v[FACTOR] if group["hypersync"] else 1.0
    for m in serving:  # serving members are UP: _member_capacity, inlined
        nominal = m["connections_capacity"]
        base = (default if nominal is None else float(nominal)) * factor
        frag = stored("member:" + m["id"], "memory.fragmentation", 0.0)
        cap += base * (1.0 - frag) if frag else base
        load += m["connections"]
    if not serving:
        load = group["offered"].get("connections", 0.0)
    members = state.members
    active = float(sum(1 for i in group["members"] if members[i]["state"] == UP))
    total = float(len(group["members"]))
    util = ratio(load, cap)
    ctx.metric(s, "members.active", active)
    ctx.metric(s, "members.total", total)
    ctx.metric(s, "capacity.connections_max", cap)
    ctx.metric(s, "capacity.utilization", util)
    if util >= v[EXHAUSTED]:
        finding_id, limit = "capacity.exhausted", v[EXHAUSTED]
    elif util >= v[HIGH]:
        finding_id, limit = "capacity.high", v[HIGH]
    else:
        return
    ctx.finding(
        finding_id,
        s,
        UTILIZATION,
        group=g,
        utilization=util,
        connections=load,
        capacity=cap,
        limit=limit,
    )


SMO_MOVED = "SMO master moved to {smo}: {first} is {first_state}"
NO_SMO = "group {group} has no UP member: no SMO master"


@rule(
    id="capacity.smo",
    summary="the SMO master (lowest-id UP member) is not the group's first member",
    events=("group_created", *STATE_EVENTS),
    raises={"capacity.smo-moved": "info"},
    incremental=True,
)
def smo(ctx: RuleContext) -> None:
    """The SMO master, which installs policy and pushes configuration to the other
    members, is the UP member with the lowest id (domain reference §1.6, official).
    When the group's lowest-id member is not UP the role has moved to another member,
    or, with no member UP, nobody holds it: ``capacity.smo-moved`` (info, per group)
    says where it is, so that a timeline shows SMO master changes."""
    state = ctx.state
    for g in ctx.touched_groups():
        s = f"group:{g}"
        group = state.groups[g]
        if not group["members"]:
            continue
        first = group["members"][0]
        master = state.smo_master(g)
        if master == first:
            continue
        ctx.finding(
            "capacity.smo-moved",
            s,
            NO_SMO if master is None else SMO_MOVED,
            group=g,
            smo=master,
            first=first,
            first_state=state.members[first]["state"],
        )


@hookimpl
def twin_register_rules() -> list[Rule]:
    """The capacity family's rules."""
    return [connections, smo]


@hookimpl
def twin_register_parameters() -> list[Parameter]:
    """The capacity family's parameters."""
    return [
        parameter(
            FACTOR,
            0.5,
            "ratio",
            provenance="seed",
            source="seed note: SGMs support 50% fewer connections than standalone mode due "
            "to backup state storage",
            summary="usable share of a member's standalone connection capacity with HyperSync",
            domain="share",
        ),
        parameter(
            DEFAULT,
            10_000_000,
            "connections",
            provenance="assumption",
            source="assumption: the order of a mid-range Maestro appliance's datasheet "
            "concurrent connections; give connections_capacity per member instead",
            summary="standalone concurrent connections of a member that does not say",
            domain="positive",
        ),
        parameter(
            HIGH,
            0.8,
            "ratio",
            provenance="assumption",
            source="assumption: at 80% one failed member of five already pushes the others to 100%",
            summary="utilization from which capacity.high warns",
            domain="positive",
        ),
        parameter(
            EXHAUSTED,
            1.0,
            "ratio",
            provenance="assumption",
            source="assumption: a full table drops new connections",
            summary="utilization from which capacity.exhausted is an error",
            domain="positive",
        ),
    ]
