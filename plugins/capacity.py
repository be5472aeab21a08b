"""Capacity: members, usable connection capacity and its utilization; the SMO master.

Model lines 1 (HyperSync halves a member's usable connection capacity) and
13 (fragmentation lowers it), the reducer's member states (admin UP cannot
lift a fault DOWN; only the ACTIVE site serves), and the SMO master of
domain reference §1.6 (the UP member with the lowest id).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twin.api import (
    MEMBER_STATE_EVENTS,
    UP,
    Finding,
    Metric,
    MetricsView,
    Parameter,
    RuleContext,
    Severity,
    hookimpl,
    parameter,
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
# Events that change other members' inputs (their fragmentation) without touching them.
GROUP_WIDE = frozenset({"member_added", "member_removed"})

Out = list[Metric | Finding]


def _member_capacity(ctx: RuleContext, m: dict[str, Any], v: Mapping[str, float]) -> float:
    """Usable concurrent connections of an UP member (0 when it is not UP)."""
    if m["state"] != UP:
        return 0.0
    nominal = m["connections_capacity"]
    base = v[DEFAULT] if nominal is None else float(nominal)
    if ctx.state.groups[m["group"]]["hypersync"]:
        base *= v[FACTOR]
    frag = ctx.metrics.get("member:" + m["id"], "memory.fragmentation")
    return base if frag is None else base * (1.0 - frag.value)


def _ratio(load: float, capacity: float) -> float:
    if capacity > 0:
        return load / capacity
    return float("inf") if load > 0 else 0.0


@rule(
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
    incremental=True,
    reads=("memory.fragmentation", "load.connections"),
)
def connections(ctx: RuleContext) -> Out:
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
    v = ctx.profile.values
    state = ctx.state
    metrics = ctx.metrics
    subjects = ctx.changes.subjects
    out: Out = []
    findings: list[Finding] = []
    ids = {s[7:] for s in subjects if s[:7] == "member:"}
    touched = {int(s[6:]) for s in subjects if s[:6] == "group:"}
    if ctx.type in GROUP_WIDE:
        for g in touched:
            if g in state.groups:
                ids.update(state.groups[g]["members"])
    caps: dict[str, float] = {}
    for member_id in ids:
        m = state.members.get(member_id)
        if m is not None:
            cap = caps[member_id] = _member_capacity(ctx, m, v)
            out.append(Metric("member:" + member_id, "capacity.connections_max", cap))
    fresh: dict[int, tuple[float, float, float, float]] = {}
    for g in touched:
        group = state.groups.get(g)
        if group is None:
            continue
        subject = f"group:{g}"
        serving = state.serving_members(g)
        cap = 0.0
        load = 0.0
        for m in serving:
            member_cap = caps.get(m["id"])
            if member_cap is None:
                member_cap = _value(metrics, "member:" + m["id"], "capacity.connections_max")
            cap += member_cap
            load += m["connections"]
        if not serving:
            load = group["offered"].get("connections", 0.0)
        active = float(sum(1 for i in group["members"] if state.members[i]["state"] == UP))
        total = float(len(group["members"]))
        fresh[g] = (active, total, cap, load)
        util = _ratio(load, cap)
        out.append(Metric(subject, "members.active", active))
        out.append(Metric(subject, "members.total", total))
        out.append(Metric(subject, "capacity.connections_max", cap))
        out.append(Metric(subject, "capacity.utilization", util))
        if util >= v[EXHAUSTED]:
            rule_id, severity, limit = "capacity.exhausted", Severity.ERROR, v[EXHAUSTED]
        elif util >= v[HIGH]:
            rule_id, severity, limit = "capacity.high", Severity.WARNING, v[HIGH]
        else:
            continue
        findings.append(
            Finding(
                rule_id,
                severity,
                subject,
                f"group {g} uses {util:.0%} of its connection capacity "
                f"({load:,.0f} of {cap:,.0f}) ≥ {limit:.0%}",
                evidence={"utilization": util, "connections": load, "capacity": cap},
            )
        )
    if state.groups:
        totals = [0.0, 0.0, 0.0, 0.0]
        for g, group in state.groups.items():
            row = fresh.get(g)
            if row is None:
                subject = f"group:{g}"
                load = (
                    _value(metrics, subject, "load.connections")
                    if group["serving"]
                    else group["offered"].get("connections", 0.0)
                )
                row = (
                    _value(metrics, subject, "members.active"),
                    _value(metrics, subject, "members.total"),
                    _value(metrics, subject, "capacity.connections_max"),
                    load,
                )
            for i in range(4):
                totals[i] += row[i]
        out.append(Metric("system", "members.active", totals[0]))
        out.append(Metric("system", "members.total", totals[1]))
        out.append(Metric("system", "capacity.connections_max", totals[2]))
        out.append(Metric("system", "capacity.utilization", _ratio(totals[3], totals[2])))
    findings.sort(key=_subject)
    out.extend(findings)
    return out


def _subject(finding: Finding) -> str:
    return finding.subject


def _value(metrics: MetricsView, subject: str, name: str) -> float:
    metric = metrics.get(subject, name)
    return 0.0 if metric is None else metric.value


@rule(
    id="capacity.smo",
    summary="the SMO master (lowest-id UP member) is not the group's first member",
    events=("group_created", *STATE_EVENTS),
    raises={"capacity.smo-moved": "info"},
    incremental=True,
)
def smo(ctx: RuleContext) -> Out:
    """The SMO master, which installs policy and pushes configuration to the other
    members, is the UP member with the lowest id (domain reference §1.6, official).
    When the group's lowest-id member is not UP the role has moved to another member,
    or, with no member UP, nobody holds it: ``capacity.smo-moved`` (info, per group)
    says where it is, so that a timeline shows SMO master changes."""
    out: Out = []
    state = ctx.state
    for s in sorted(ctx.changes.subjects):
        if s[:6] != "group:":
            continue
        g = int(s[6:])
        group = state.groups.get(g)
        if group is None or not group["members"]:
            continue
        first = group["members"][0]
        master = state.smo_master(g)
        if master == first:
            continue
        if master is None:
            text = f"group {g} has no UP member: no SMO master"
        else:
            text = f"SMO master moved to {master}: {first} is {state.members[first]['state']}"
        out.append(Finding("capacity.smo-moved", Severity.INFO, s, text, evidence={"smo": master}))
    return out


@hookimpl
def twin_register_rules() -> list[Any]:
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
        ),
        parameter(
            DEFAULT,
            10_000_000,
            "connections",
            provenance="assumption",
            source="assumption: the order of a mid-range Maestro appliance's datasheet "
            "concurrent connections; give connections_capacity per member instead",
            summary="standalone concurrent connections of a member that does not say",
        ),
        parameter(
            HIGH,
            0.8,
            "ratio",
            provenance="assumption",
            source="assumption: at 80% one failed member of five already pushes the others to 100%",
            summary="utilization from which capacity.high warns",
        ),
        parameter(
            EXHAUSTED,
            1.0,
            "ratio",
            provenance="assumption",
            source="assumption: a full table drops new connections",
            summary="utilization from which capacity.exhausted is an error",
        ),
    ]
