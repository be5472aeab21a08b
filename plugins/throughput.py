"""Throughput: what the serving members can deliver of the offered throughput.

Model line 7: throughput grows near-linearly with members, with a marginal
per-member overhead, so n members deliver a bit less than n × one member.
"""

from __future__ import annotations

from typing import Any

from twin.api import (
    DISTRIBUTION_EVENTS,
    Metric,
    Parameter,
    RuleContext,
    hookimpl,
    parameter,
    rule,
)

DEFAULT = "throughput.default_gbps"
OVERHEAD = "throughput.overhead_per_member"
NAMES = (DEFAULT, OVERHEAD)

EVENTS = DISTRIBUTION_EVENTS
# Events that change the serving set, and so every serving member's capacity.
GROUP_WIDE = frozenset(EVENTS) - {"load_changed", "weight_changed", "group_created"}

Out = list[Metric]


@rule(
    id="throughput.delivery",
    summary="deliverable throughput of the serving members, with per-member overhead",
    events=EVENTS,
    parameters=NAMES,
    metrics={"throughput.gbps": "Gbps", "throughput.capacity_gbps": "Gbps"},
    incremental=True,
)
def delivery(ctx: RuleContext) -> Out:
    """A serving member's throughput capacity is its standalone ``throughput_gbps``
    (member_added, else ``throughput.default_gbps``) × (1 − ``throughput.overhead_per_member``)
    ^(n − 1), n = serving members of its group (UP, on the ACTIVE site): each extra
    member costs every member a little coordination. ``throughput.gbps`` per member =
    min(its share of the offered throughput, that capacity); 0 for members that do not
    serve. Per group and system: ``throughput.gbps`` = the sum over serving members,
    ``throughput.capacity_gbps`` = the sum of their capacities, so n equal members can
    deliver n × (1 − overhead)^(n − 1) × one member: near-linear, a bit less than n ×."""
    v = ctx.profile.values
    default = v[DEFAULT]
    state = ctx.state
    metrics = ctx.metrics
    subjects = ctx.changes.subjects
    out: Out = []
    touched = [g for g in (int(s[6:]) for s in subjects if s[:6] == "group:") if g in state.groups]
    ids = {s[7:] for s in subjects if s[:7] == "member:"}
    if ctx.type in GROUP_WIDE:
        for g in touched:
            ids.update(state.groups[g]["members"])
    for m_id in ids:
        m = state.members.get(m_id)
        if m is not None and m["group"] not in touched:
            touched.append(m["group"])
    rows: dict[int, tuple[float, float]] = {}
    for g in touched:
        serving = state.serving_members(g)
        scale = (1.0 - v[OVERHEAD]) ** max(len(serving) - 1, 0)
        total = capacity = 0.0
        for m in serving:
            own = m["throughput_capacity_gbps"]
            cap = (default if own is None else float(own)) * scale
            offered = m["throughput_gbps"]
            value = offered if offered < cap else cap
            capacity += cap
            total += value
            if m["id"] in ids:
                ids.discard(m["id"])
                out.append(Metric("member:" + m["id"], "throughput.gbps", value))
        rows[g] = (total, capacity)
        out.append(Metric(f"group:{g}", "throughput.gbps", total))
        out.append(Metric(f"group:{g}", "throughput.capacity_gbps", capacity))
    for m_id in ids:  # touched members that do not serve
        if m_id in state.members:
            out.append(Metric("member:" + m_id, "throughput.gbps", 0.0))
    if state.groups:
        total = capacity = 0.0
        for g in state.groups:
            row = rows.get(g)
            if row is None:
                delivered = metrics.get(f"group:{g}", "throughput.gbps")
                cap_metric = metrics.get(f"group:{g}", "throughput.capacity_gbps")
                row = (
                    0.0 if delivered is None else delivered.value,
                    0.0 if cap_metric is None else cap_metric.value,
                )
            total += row[0]
            capacity += row[1]
        out.append(Metric("system", "throughput.gbps", total))
        out.append(Metric("system", "throughput.capacity_gbps", capacity))
    return out


@hookimpl
def twin_register_rules() -> list[Any]:
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
        ),
        parameter(
            OVERHEAD,
            0.01,
            "ratio",
            provenance="assumption",
            source="assumption: the seed says 'marginal'; sibling AI notes in its source "
            "repository say ~1% per member (domain reference §0.1)",
            summary="throughput capacity each extra serving member costs every member",
        ),
    ]
