"""Weights: member load after the weighted distribution, and load out of line with capacity.

Model line 12 (official: SGM weights page, domain reference §1.8): a group's
offered load is spread over its serving members in proportion to their
weights (by default their CPU cores). The reducer does the spreading; this
family reports the result (``load.*``) and flags a member whose weight gives it
a larger share of the load than its share of the capacity (``weights.imbalance``).
"""

from __future__ import annotations

from typing import Any

from twin.api import (
    DISTRIBUTION_EVENTS,
    Parameter,
    Rule,
    RuleContext,
    Segment,
    hookimpl,
    parameter,
    rule,
)

TOLERANCE = "weights.imbalance_tolerance"

LOAD_EVENTS = DISTRIBUTION_EVENTS
IMBALANCE_EVENTS = tuple(e for e in LOAD_EVENTS if e != "load_changed")


def _connections(ctx: RuleContext, m: dict[str, Any]) -> float:
    """A member's concurrent connections, as the reducer distributed them."""
    value: float = m["connections"]
    return value


def _cps(ctx: RuleContext, m: dict[str, Any]) -> float:
    """A member's new connections per second."""
    value: float = m["cps"]
    return value


def _cpu_pct(ctx: RuleContext, m: dict[str, Any]) -> float:
    """A member's CPU %."""
    value: float = m["cpu_pct"]
    return value


def _load_segment(seg: Segment) -> None:
    """:func:`load` over a run of load events (the same sums, on columns)."""
    state = seg.state
    for g in state.groups:
        serving = state.serving_members(g)
        conns: Any = 0.0
        cps: Any = 0.0
        cpu: Any = 0.0
        for m in serving:
            loads = seg.member_loads(m["id"])
            conns = conns + loads.connections
            cps = cps + loads.cps
            cpu = cpu + loads.cpu_pct
        subject = f"group:{g}"
        seg.metric(subject, "load.connections", conns)
        seg.metric(subject, "load.cps", cps)
        seg.metric(subject, "load.cpu_pct", cpu / len(serving) if serving else 0.0)
    for member_id, loads in seg.loads.members.items():
        subject = "member:" + member_id
        seg.metric(subject, "load.connections", loads.connections)
        seg.metric(subject, "load.cps", loads.cps)
        seg.metric(subject, "load.cpu_pct", loads.cpu_pct)


@rule(
    id="weights.load",
    summary="each member's load after the weighted distribution of its group's offered load",
    events=LOAD_EVENTS,
    metrics={
        "load.connections": "connections",
        "load.cps": "connections/s",
        "load.cpu_pct": "%",
    },
    incremental=True,
    per_member={
        "load.connections": _connections,
        "load.cps": _cps,
        "load.cpu_pct": _cpu_pct,
    },
    segment=_load_segment,
)
def load(ctx: RuleContext) -> None:
    """Per member: its concurrent connections, new connections per second and CPU %
    straight from the reducer, which spreads a group's offered load over the serving
    members in proportion to their weights (weight 0..512; by default the member's CPU
    cores), carries CPU as work (fewer serving cores each work harder) and lets a
    member's own sample win over its share. Per group (``group:<n>``): the sum of
    connections and cps over the serving members, and their mean CPU %."""
    for g in ctx.touched_groups():
        serving = ctx.state.serving_members(g)
        subject = f"group:{g}"
        conns = cps = cpu = 0.0
        for m in serving:
            conns += m["connections"]
            cps += m["cps"]
            cpu += m["cpu_pct"]
        ctx.metric(subject, "load.connections", conns)
        ctx.metric(subject, "load.cps", cps)
        ctx.metric(subject, "load.cpu_pct", cpu / len(serving) if serving else 0.0)


IMBALANCED = (
    "member {member} gets {load_share:.0%} of group {group}'s load with {capacity_share:.0%} "
    "of its capacity (tolerance +{tolerance:.0%}): lower its weight"
)


@rule(
    id="weights.imbalance",
    summary="a member's share of its group's load exceeds its share of the group's capacity",
    events=IMBALANCE_EVENTS,
    parameters=[TOLERANCE],
    raises={"weights.imbalance": "warning"},
    incremental=True,
)
def imbalance(ctx: RuleContext) -> None:
    """Judges the distribution the weights ask for. A serving member's load share is
    its weight ÷ the serving members' total weight (the share the reducer gives it);
    its capacity share is its standalone ``connections_capacity`` ÷ the sum over the
    serving members that get load (weight > 0). HyperSync scales every member of a
    group alike, so it cancels out. A member whose load share exceeds its capacity
    share × (1 + ``weights.imbalance_tolerance``) is imbalanced: its weight sends it
    more connections than its table can take compared with its peers (typically mixed
    appliance models left on the default, core-based weights). A group is judged only
    when every member that gets load declares its ``connections_capacity``: without
    them the twin knows only the profile's default, the same for every member. Runs
    only for events that change weights, members or their states, never for load."""
    tolerance = ctx.param(TOLERANCE)
    state = ctx.state
    totals: dict[int, float] = {}
    for s in sorted(ctx.changes.subjects):
        if s[:7] != "member:":
            continue
        m = state.members.get(s[7:])
        if m is None or m["share"] <= 0 or m["connections_capacity"] is None:
            continue
        g = m["group"]
        if g not in totals:
            total = 0.0
            for peer in state.serving_members(g):
                if peer["share"] > 0:
                    if peer["connections_capacity"] is None:
                        total = 0.0
                        break
                    total += peer["connections_capacity"]
            totals[g] = total
        total_cap = totals[g]
        if not total_cap:
            continue
        cap_share = m["connections_capacity"] / total_cap
        if m["share"] > cap_share * (1 + tolerance):
            ctx.finding(
                "weights.imbalance",
                s,
                IMBALANCED,
                member=m["id"],
                group=g,
                load_share=m["share"],
                capacity_share=cap_share,
                tolerance=tolerance,
            )


@hookimpl
def twin_register_rules() -> list[Rule]:
    """The weights family's rules."""
    return [load, imbalance]


@hookimpl
def twin_register_parameters() -> list[Parameter]:
    """The weights family's parameters."""
    return [
        parameter(
            TOLERANCE,
            0.20,
            "ratio",
            provenance="assumption",
            source="assumption: 20% over its capacity share (40% of the load on 33% of "
            "the capacity) is a deliberate skew, not weight rounding",
            summary="how far a member's load share may exceed its capacity share",
            domain="non-negative",
        ),
    ]
