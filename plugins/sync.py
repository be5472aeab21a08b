"""Sync: HyperSync state-sync traffic, the sync network that carries it, and its links.

Model lines 3 (each added member raises sync traffic by 8–12% at the same
load; traffic grows with the connection rate), 4 (large deployments need a
dedicated 10 GbE sync network with jumbo frames) and 15 (a failed sync link
or orchestrator takes sync capacity away; with no sync path, failover is not
stateful).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugins.sync_sites import rules as site_rules
from plugins.sync_sites import site_parameters
from twin.api import (
    MEMBER_STATE_EVENTS,
    UP,
    Parameter,
    Rule,
    RuleContext,
    Segment,
    hookimpl,
    parameter,
    ratio,
    rule,
)

GROWTH = "sync.growth_per_member"
NETWORK = "sync.network_gbps"
NEW_BYTES = "sync.bytes_per_new_connection"
UPDATE_BYTES = "sync.update_bytes_per_connection_s"
LARGE = "sync.large_group_members"
HIGH = "sync.high_utilization"
SATURATED = "sync.saturated_utilization"

STATE_EVENTS = MEMBER_STATE_EVENTS
LINK_EVENTS = (
    "group_created",
    "member_added",
    "member_removed",
    "link_added",
    "link_failed",
    "link_restored",
    "orchestrator_failed",
    "orchestrator_recovered",
)
TRAFFIC_EVENTS = (
    *LINK_EVENTS,
    *STATE_EVENTS[2:],
    "load_changed",
    "weight_changed",
    "site_failover",
    "hypersync_changed",
)

NAMES = (GROWTH, NETWORK, NEW_BYTES, UPDATE_BYTES, LARGE, HIGH, SATURATED)


def _link_down_message(e: Mapping[str, Any]) -> str:
    failed = e["failed_orchestrators"]
    why = f" (orchestrator {', '.join(failed)} failed)" if failed else " (link failed)"
    tail = (
        "no sync path left: failover is not stateful"
        if e["capacity_gbps"] == 0
        else f"sync capacity {e['capacity_gbps']:g} of {e['total_gbps']:g} Gbps"
    )
    return f"sync link {e['link']} is down{why}: {tail}"


def _not_dedicated_message(e: Mapping[str, Any]) -> str:
    biggest = e["group_members"]
    size = f" (group of {biggest} > {e['large']:g} members)" if biggest > e["large"] else ""
    return (
        f"sync link {e['link']}{size}: {'; '.join(e['reasons'])}; large groups need "
        f"a dedicated {e['network_gbps']:g} GbE sync network with jumbo frames"
    )


@rule(
    id="sync.links",
    summary="sync network capacity; sync links that are down, shared, slow or without jumbo",
    events=LINK_EVENTS,
    parameters=(NETWORK, LARGE),
    raises={"sync.link-down": "error", "sync.not-dedicated": "warning"},
    metrics={"sync.capacity_gbps": "Gbps"},
)
def links(ctx: RuleContext) -> None:
    """``sync.capacity_gbps`` (system) = the sum of the speeds of the sync links that
    carry traffic (up, and no end at a failed orchestrator). A topology that declares
    no sync link is taken to sync over a network of ``sync.network_gbps`` (Maestro
    syncs over the orchestrators' internal network, domain reference §1.1).

    ``sync.link-down`` (error, per link) while a sync link does not carry traffic;
    when none is left the message says that failover is no longer stateful.
    ``sync.not-dedicated`` (warning, per link) when a sync link serves a group of more
    than ``sync.large_group_members`` members (a link with a member end serves that
    member's group, any other serves every group) and is shared or slower than
    ``sync.network_gbps``, or when any sync link lacks jumbo frames. Judged as a whole
    on every topology event (links, orchestrators, members joining or leaving)."""
    network = ctx.param(NETWORK)
    large = ctx.param(LARGE)
    state = ctx.state
    sync_links = state.links_of_kind("sync")
    down: list[dict[str, Any]] = []
    capacity = 0.0
    for link in sync_links:
        if state.link_is_up(link):
            capacity += link["gbps"]
        else:
            down.append(link)
    total = sum(link["gbps"] for link in sync_links)
    if not sync_links:
        capacity = network
    ctx.metric("system", "sync.capacity_gbps", capacity)
    for link in down:
        failed = []
        if link["up"]:
            failed = [
                e[13:]
                for e in (link["a"], link["b"])
                if e.startswith("orchestrator:") and not state.graph.nodes[e]["up"]
            ]
        ctx.finding(
            "sync.link-down",
            f"link:{link['id']}",
            _link_down_message,
            link=link["id"],
            failed_orchestrators=failed,
            capacity_gbps=capacity,
            total_gbps=total,
        )
    for link in sync_links:
        reasons = []
        ends = (ctx.group_of(link["a"]), ctx.group_of(link["b"]))
        served = [g for g in ends if g is not None] or list(state.groups)
        biggest = max((len(state.groups[g]["members"]) for g in served), default=0)
        if biggest > large:
            if not link["dedicated"]:
                reasons.append("shared with other traffic")
            if link["gbps"] < network:
                reasons.append(f"{link['gbps']:g} Gbps < {network:g} Gbps")
        if not link["jumbo"]:
            reasons.append("no jumbo frames")
        if reasons:
            ctx.finding(
                "sync.not-dedicated",
                f"link:{link['id']}",
                _not_dedicated_message,
                link=link["id"],
                reasons=reasons,
                group_members=biggest,
                large=large,
                network_gbps=network,
            )


SYNC_HIGH = (
    "sync traffic {traffic_gbps:.2f} Gbps ({low_gbps:.2f}-{high_gbps:.2f}) uses "
    "{utilization:.0%} of {capacity_gbps:g} Gbps sync capacity ≥ {limit:.0%}"
)


def _traffic_segment(seg: Segment) -> None:
    """:func:`traffic` over a run of load events (the same arithmetic, on columns)."""
    b = seg.bands
    g_low, g_mid, g_high = b[GROWTH]
    per_new = b[NEW_BYTES][1] * 8 / 1e9
    per_conn = b[UPDATE_BYTES][1] * 8 / 1e9
    state = seg.state
    members = state.members
    if not state.groups:
        return
    low: Any = 0.0
    mid: Any = 0.0
    high: Any = 0.0
    for group_id, group in state.groups.items():
        subject = f"group:{group_id}"
        if group["hypersync"]:
            base = (
                seg.column(subject, "load.cps", 0.0) * per_new
                + seg.column(subject, "load.connections", 0.0) * per_conn
            )
            n = sum(1 for i in group["members"] if members[i]["state"] == UP)
            k = max(n - 1, 0)
            row: tuple[Any, Any, Any] = (
                base * (1 + g_low) ** k,
                base * (1 + g_mid) ** k,
                base * (1 + g_high) ** k,
            )
        else:
            row = (0.0, 0.0, 0.0)
        seg.metric(subject, "sync.traffic_gbps", row[1], row[0], row[2])
        low = low + row[0]
        mid = mid + row[1]
        high = high + row[2]
    seg.metric("system", "sync.traffic_gbps", mid, low, high)
    stored = seg.stored("system", "sync.capacity_gbps")
    capacity = b[NETWORK][1] if stored is None else stored.value
    util = ratio(mid, capacity)
    seg.metric("system", "sync.utilization", util, ratio(low, capacity), ratio(high, capacity))
    saturated = util >= b[SATURATED][1]
    evidence = {
        "utilization": util,
        "traffic_gbps": mid,
        "low_gbps": low,
        "high_gbps": high,
        "capacity_gbps": capacity,
    }
    seg.finding("sync.saturated", "system", SYNC_HIGH, saturated, limit=b[SATURATED][1], **evidence)
    seg.finding(
        "sync.high",
        "system",
        SYNC_HIGH,
        (util >= b[HIGH][1]) & ~saturated,
        limit=b[HIGH][1],
        **evidence,
    )


@rule(
    id="sync.traffic",
    summary="HyperSync state-sync traffic and how much of the sync network it uses",
    events=TRAFFIC_EVENTS,
    parameters=(GROWTH, NETWORK, NEW_BYTES, UPDATE_BYTES, HIGH, SATURATED),
    raises={"sync.high": "warning", "sync.saturated": "error"},
    metrics={"sync.traffic_gbps": "Gbps", "sync.utilization": "ratio"},
    incremental=True,
    reads=("sync.capacity_gbps", "load.cps", "load.connections"),
    segment=_traffic_segment,
)
def traffic(ctx: RuleContext) -> None:
    """Per group with HyperSync on: base = (cps × ``sync.bytes_per_new_connection``
    + connections × ``sync.update_bytes_per_connection_s``) × 8 ÷ 1e9 Gbps, from the
    load its serving members carry (``load.cps``, ``load.connections`` of the group);
    ``sync.traffic_gbps`` = base × (1 + g)^(n − 1) with n its UP members (both sites:
    the standby site holds copies) and g = ``sync.growth_per_member``; low and high
    use the ends of g's band. So one more member at the same load multiplies the
    traffic by exactly 1 + g (1.08–1.12), and traffic grows linearly with the
    connection rate. Groups with HyperSync off send none. System traffic is the sum
    over groups; ``sync.utilization`` = traffic ÷ ``sync.capacity_gbps`` (band from
    the traffic band; ∞ when there is traffic and no sync link up).

    Findings (system): ``sync.saturated`` when utilization ≥
    ``sync.saturated_utilization``, else ``sync.high`` when it is ≥
    ``sync.high_utilization``."""
    b = ctx.bands
    g_low, g, g_high = b[GROWTH]
    per_new = b[NEW_BYTES][1] * 8 / 1e9
    per_conn = b[UPDATE_BYTES][1] * 8 / 1e9
    state = ctx.state
    members = state.members
    metrics = ctx.metrics
    value = metrics.value
    fresh: dict[int, tuple[float, float, float]] = {}
    for group_id in ctx.touched_groups():
        s = f"group:{group_id}"
        group = state.groups[group_id]
        if group["hypersync"]:
            base = (
                value(s, "load.cps", 0.0) * per_new + value(s, "load.connections", 0.0) * per_conn
            )
            n = sum(1 for i in group["members"] if members[i]["state"] == UP)
            k = max(n - 1, 0)
            row = (base * (1 + g_low) ** k, base * (1 + g) ** k, base * (1 + g_high) ** k)
        else:
            row = (0.0, 0.0, 0.0)
        fresh[group_id] = row
        ctx.metric(s, "sync.traffic_gbps", row[1], row[0], row[2])
    if not state.groups:
        return
    low, mid, high = ctx.band_sum_over_groups("sync.traffic_gbps", fresh)
    ctx.metric("system", "sync.traffic_gbps", mid, low, high)
    cap_metric = metrics.get("system", "sync.capacity_gbps")
    capacity = b[NETWORK][1] if cap_metric is None else cap_metric.value
    util = ratio(mid, capacity)
    ctx.metric("system", "sync.utilization", util, ratio(low, capacity), ratio(high, capacity))
    if util >= b[SATURATED][1]:
        finding_id, limit = "sync.saturated", b[SATURATED][1]
    elif util >= b[HIGH][1]:
        finding_id, limit = "sync.high", b[HIGH][1]
    else:
        return
    ctx.finding(
        finding_id,
        "system",
        SYNC_HIGH,
        utilization=util,
        traffic_gbps=mid,
        low_gbps=low,
        high_gbps=high,
        capacity_gbps=capacity,
        limit=limit,
    )


@hookimpl
def twin_register_rules() -> list[Rule]:
    """The sync family's rules."""
    return [links, traffic, *site_rules()]


@hookimpl
def twin_register_parameters() -> list[Parameter]:
    """The sync family's parameters."""
    return [*_seed_parameters(), *site_parameters()]


def _seed_parameters() -> list[Parameter]:
    return [
        parameter(
            GROWTH,
            0.10,
            "ratio",
            low=0.08,
            high=0.12,
            provenance="seed",
            source="seed note: Each additional member increases sync traffic by 8-12% system-wide",
            summary="growth of sync traffic per added member at the same load",
            domain="non-negative",
        ),
        parameter(
            NETWORK,
            10,
            "Gbps",
            provenance="seed",
            source="seed note: Dedicated 10GbE sync networks prevent synchronization bottlenecks",
            summary="speed of the dedicated sync network large deployments need",
            domain="positive",
        ),
        parameter(
            NEW_BYTES,
            300,
            "B",
            provenance="assumption",
            source="assumption: one backup-entry message (5-tuple, state, NAT, timers, framing), "
            "the order of a ClusterXL delta-sync record",
            summary="sync bytes sent for each new connection",
            domain="non-negative",
        ),
        parameter(
            UPDATE_BYTES,
            10,
            "B/s",
            provenance="assumption",
            source="assumption: state changes (TCP state, timers) of an established connection "
            "cost a few small updates a minute",
            summary="sync bytes per second for each established connection",
            domain="non-negative",
        ),
        parameter(
            LARGE,
            8,
            "members",
            provenance="assumption",
            source="assumption: twice the 4 load-sharing members beyond which ClusterXL delta "
            "sync stops scaling (domain reference §1.3, official)",
            summary="group size above which a group is a large deployment",
            domain="positive",
        ),
        parameter(
            HIGH,
            0.8,
            "ratio",
            provenance="assumption",
            source="assumption: keep a fifth of the sync network for bursts and failover resync",
            summary="sync utilization from which sync.high warns",
            domain="positive",
        ),
        parameter(
            SATURATED,
            1.0,
            "ratio",
            provenance="assumption",
            source="assumption: beyond the network's speed, sync lags and backups go stale",
            summary="sync utilization from which sync.saturated is an error",
            domain="positive",
        ),
    ]
