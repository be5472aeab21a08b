"""Throughput: what the serving members can deliver of the offered throughput.

Model line 7: throughput grows near-linearly with members, with a marginal
per-member overhead, so n members deliver a bit less than n × one member.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.api import (
    DISTRIBUTION_EVENTS,
    Parameter,
    Rule,
    RuleContext,
    Segment,
    group_rule,
    hookimpl,
    parameter,
)

DEFAULT = "throughput.default_gbps"
OVERHEAD = "throughput.overhead_per_member"
NAMES = (DEFAULT, OVERHEAD)

EVENTS = DISTRIBUTION_EVENTS


def _scale(ctx: RuleContext, serving: int) -> float:
    """What each serving member keeps of its capacity when ``serving`` members serve."""
    scale: float = (1.0 - ctx.param(OVERHEAD)) ** max(serving - 1, 0)
    return scale


def _member_gbps(ctx: RuleContext, m: dict[str, Any]) -> float:
    """A member's delivered throughput: its offered share, up to its capacity; 0 if it
    does not serve."""
    serving = ctx.state.serving_members(m["group"])
    if not any(peer is m for peer in serving):
        return 0.0
    own = m["throughput_capacity_gbps"]
    cap = (ctx.param(DEFAULT) if own is None else float(own)) * _scale(ctx, len(serving))
    offered: float = m["throughput_gbps"]
    return offered if offered < cap else cap


def _delivery_segment(seg: Segment, g: int) -> None:
    """:func:`delivery` of group ``g`` over a run of load events (the same arithmetic,
    on columns)."""
    default = seg.values[DEFAULT]
    overhead = seg.values[OVERHEAD]
    state = seg.state
    members = seg.loads.members
    serving = state.serving_members(g)
    scale = (1.0 - overhead) ** max(len(serving) - 1, 0)
    total: Any = 0.0
    capacity = 0.0
    delivered = {}
    for m in serving:
        own = m["throughput_capacity_gbps"]
        cap = (default if own is None else float(own)) * scale
        offered = seg.member_loads(m["id"]).throughput_gbps
        value = np.where(offered < cap, offered, cap)
        capacity += cap
        total = total + value
        delivered[m["id"]] = value
    seg.metric(f"group:{g}", "throughput.gbps", total)
    seg.metric(f"group:{g}", "throughput.capacity_gbps", capacity)
    for member_id in state.groups[g]["members"]:
        if member_id in members:
            seg.metric("member:" + member_id, "throughput.gbps", delivered.get(member_id, 0.0))


@group_rule(
    id="throughput.delivery",
    summary="deliverable throughput of the serving members, with per-member overhead",
    events=EVENTS,
    parameters=NAMES,
    metrics={"throughput.gbps": "Gbps", "throughput.capacity_gbps": "Gbps"},
    system={"throughput.gbps": "sum", "throughput.capacity_gbps": "sum"},
    per_member={"throughput.gbps": _member_gbps},
    segment=_delivery_segment,
)
def delivery(ctx: RuleContext, g: int) -> None:
    """A serving member's throughput capacity is its standalone ``throughput_gbps``
    (member_added, else ``throughput.default_gbps``) × (1 − ``throughput.overhead_per_member``)
    ^(n − 1), n = serving members of its group (UP, on the ACTIVE site): each extra
    member costs every member a little coordination. ``throughput.gbps`` per member =
    min(its share of the offered throughput, that capacity); 0 for members that do not
    serve. Per group and system: ``throughput.gbps`` = the sum over serving members,
    ``throughput.capacity_gbps`` = the sum of their capacities, so n equal members can
    deliver n × (1 − overhead)^(n − 1) × one member: near-linear, a bit less than n ×."""
    default = ctx.param(DEFAULT)
    serving = ctx.state.serving_members(g)
    scale = _scale(ctx, len(serving))
    total = capacity = 0.0
    for m in serving:
        own = m["throughput_capacity_gbps"]
        cap = (default if own is None else float(own)) * scale
        offered = m["throughput_gbps"]
        capacity += cap
        total += offered if offered < cap else cap
    ctx.metric(f"group:{g}", "throughput.gbps", total)
    ctx.metric(f"group:{g}", "throughput.capacity_gbps", capacity)


@hookimpl
def twin_register_rules() -> list[Rule]:
    """The throughput family's rules."""
    return [delivery]


@hookimpl
def twin_register_parameters() -> list[Parameter]:
    """The throughput family's parameters."""
    return [
        parameter(
            DEFAULT,
            20,
            "Gbps",
            provenance="assumption",
            source="assumption: the order of a mid-range Maestro appliance's threat-"
            "prevention throughput; give throughput_gbps per member instead",
            summary="standalone throughput of a member that does not say",
            domain="positive",
        ),
        parameter(
            OVERHEAD,
            0.01,
            "ratio",
            provenance="assumption",
            source="assumption: the seed says 'marginal'; sibling AI notes in its source "
            "repository say ~1% per member (domain reference §0.1)",
            summary="throughput capacity each extra serving member costs every member",
            domain="fraction",
        ),
    ]
