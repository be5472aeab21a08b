"""Latency: connection setup latency, and the CPU that setting up connections costs.

Model line 2: setting up a connection takes 3 µs with HyperSync and 1.2 µs
standalone, and at high connection rates that setup work loads the CPU.
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
    hookimpl,
    parameter,
    rule,
)

HYPERSYNC_US = "latency.setup_us.hypersync"
STANDALONE_US = "latency.setup_us.standalone"
CPU_SHARE = "latency.setup_cpu_share"
NAMES = (HYPERSYNC_US, STANDALONE_US, CPU_SHARE)

EVENTS = (*DISTRIBUTION_EVENTS, "hypersync_changed")


def _setup_cpu_pct(ctx: RuleContext, m: dict[str, Any]) -> float:
    """The share of a member's CPU spent setting up connections (%)."""
    v = ctx.values
    us = v[HYPERSYNC_US] if ctx.state.groups[m["group"]]["hypersync"] else v[STANDALONE_US]
    cpu: float = m["cps"] * us * 1e-6 * v[CPU_SHARE] / m["cores"] * 100.0
    return cpu


def _setup_segment(seg: Segment) -> None:
    """:func:`setup` over a run of load events (the same arithmetic, on columns)."""
    v = seg.values
    groups = seg.state.groups
    hs_us = v[HYPERSYNC_US]
    sa_us = v[STANDALONE_US]
    for g, group in groups.items():
        seg.metric(f"group:{g}", "latency.setup_us", hs_us if group["hypersync"] else sa_us)
    if groups:
        weighted: Any = 0.0
        total_cps: Any = 0.0
        plain = 0.0
        low = float("inf")
        high = float("-inf")
        for g, group in groups.items():
            us = hs_us if group["hypersync"] else sa_us
            cps = seg.column(f"group:{g}", "load.cps", 0.0)
            weighted = weighted + us * cps
            total_cps = total_cps + cps
            plain += us
            low = min(low, us)
            high = max(high, us)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(total_cps > 0, weighted / total_cps, plain / len(groups))
        mean = np.where(mean < low, low, np.where(mean > high, high, mean))
        seg.metric("system", "latency.setup_us", mean, low, high)
    share = v[CPU_SHARE]
    members = seg.state.members
    rows: dict[str, Any] = {}
    for g, table in seg.loads.tables.items():  # a group's members at once, the same arithmetic
        us = hs_us if groups[g]["hypersync"] else sa_us
        cores = np.fromiter((members[i]["cores"] for i in table.ids), dtype=np.float64)
        cpu = table.cps * us * 1e-6 * share / cores[:, None] * 100.0
        rows.update(zip(table.ids, cpu, strict=True))
    for member_id, loads in seg.loads.members.items():
        cpu = rows.get(member_id)
        if cpu is None:
            m = members[member_id]
            us = hs_us if groups[m["group"]]["hypersync"] else sa_us
            cpu = loads.cps * us * 1e-6 * share / m["cores"] * 100.0
        seg.metric("member:" + member_id, "latency.setup_cpu_pct", cpu)


@rule(
    id="latency.setup",
    summary="connection setup latency, and the CPU share connection setup takes",
    events=EVENTS,
    parameters=NAMES,
    metrics={"latency.setup_us": "µs", "latency.setup_cpu_pct": "%"},
    incremental=True,
    reads=("load.cps",),
    per_member={"latency.setup_cpu_pct": _setup_cpu_pct},
    segment=_setup_segment,
)
def setup(ctx: RuleContext) -> None:
    """A group's ``latency.setup_us`` (per group) is ``latency.setup_us.hypersync`` when
    its HyperSync is on, else ``latency.setup_us.standalone``. The system value is the
    mean over groups weighted by each group's new connections per second (``load.cps``
    of the group: the latency the average new connection sees), or the plain mean over
    groups while no group sets up connections; its band runs from the lowest to the
    highest group value, so a deployment that mixes HyperSync on and off shows it.

    ``latency.setup_cpu_pct`` (per member) = its cps × its group's setup latency
    × ``latency.setup_cpu_share`` (the part of the latency that is CPU work on the
    member) ÷ its CPU cores × 100: the share of the member's CPU spent setting up
    connections. ``convergence`` reads it as a floor under the measured CPU, so a
    connection rate high enough can overload a member on its own."""
    v = ctx.values
    groups = ctx.state.groups
    hs_us = v[HYPERSYNC_US]
    sa_us = v[STANDALONE_US]
    for g in ctx.touched_groups():
        ctx.metric(f"group:{g}", "latency.setup_us", hs_us if groups[g]["hypersync"] else sa_us)
    if groups:
        value = ctx.metrics.value
        weighted = total_cps = plain = 0.0
        low = float("inf")
        high = float("-inf")
        for g, group in groups.items():
            us = hs_us if group["hypersync"] else sa_us
            cps = value(f"group:{g}", "load.cps", 0.0)
            weighted += us * cps
            total_cps += cps
            plain += us
            low = min(low, us)
            high = max(high, us)
        mean = weighted / total_cps if total_cps > 0 else plain / len(groups)
        mean = low if mean < low else high if mean > high else mean  # rounding
        ctx.metric("system", "latency.setup_us", mean, low, high)


@hookimpl
def twin_register_rules() -> list[Rule]:
    """The latency family's rules."""
    return [setup]


@hookimpl
def twin_register_parameters() -> list[Parameter]:
    """The latency family's parameters."""
    quote = (
        "seed note: Connection setup penalty: 3μs latency for new connections versus "
        "1.2μs in standalone gateways"
    )
    return [
        parameter(
            HYPERSYNC_US,
            3.0,
            "µs",
            provenance="seed",
            source=quote,
            summary="connection setup latency with HyperSync on",
            domain="positive",
        ),
        parameter(
            STANDALONE_US,
            1.2,
            "µs",
            provenance="seed",
            source=quote,
            summary="connection setup latency with HyperSync off",
            domain="positive",
        ),
        parameter(
            CPU_SHARE,
            1.0,
            "ratio",
            provenance="assumption",
            source="assumption: setting up a connection is CPU work on the owning member "
            "for its whole latency (an upper bound; lower it if part is waiting)",
            summary="share of the setup latency that is CPU time on the member",
            domain="fraction",
        ),
    ]
