"""Latency: connection setup latency, and the CPU that setting up connections costs.

Model line 2: setting up a connection takes 3 µs with HyperSync and 1.2 µs
standalone, and at high connection rates that setup work loads the CPU.
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

HYPERSYNC_US = "latency.setup_us.hypersync"
STANDALONE_US = "latency.setup_us.standalone"
CPU_SHARE = "latency.setup_cpu_share"
NAMES = (HYPERSYNC_US, STANDALONE_US, CPU_SHARE)

EVENTS = (*DISTRIBUTION_EVENTS, "hypersync_changed")

Out = list[Metric]


@rule(
    id="latency.setup",
    summary="connection setup latency, and the CPU share connection setup takes",
    events=EVENTS,
    parameters=NAMES,
    metrics={"latency.setup_us": "µs", "latency.setup_cpu_pct": "%"},
    incremental=True,
    reads=("load.cps",),
)
def setup(ctx: RuleContext) -> Out:
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
    v = ctx.profile.values
    state = ctx.state
    metrics = ctx.metrics
    groups = state.groups
    out: Out = []
    hs_us = v[HYPERSYNC_US]
    sa_us = v[STANDALONE_US]
    share = v[CPU_SHARE]
    for s in ctx.changes.subjects:
        if s[:7] == "member:":
            m = state.members.get(s[7:])
            if m is None:
                continue
            us = hs_us if groups[m["group"]]["hypersync"] else sa_us
            cpu = m["cps"] * us * 1e-6 * share / m["cores"] * 100.0
            out.append(Metric(s, "latency.setup_cpu_pct", cpu, cpu, cpu))
        elif s[:6] == "group:":
            group = groups.get(int(s[6:]))
            if group is not None:
                us = hs_us if group["hypersync"] else sa_us
                out.append(Metric(s, "latency.setup_us", us, us, us))
    if groups:
        weighted = total_cps = plain = 0.0
        low = float("inf")
        high = float("-inf")
        for g, group in groups.items():
            us = hs_us if group["hypersync"] else sa_us
            cps_metric = metrics.get(f"group:{g}", "load.cps")
            cps = 0.0 if cps_metric is None else cps_metric.value
            weighted += us * cps
            total_cps += cps
            plain += us
            low = min(low, us)
            high = max(high, us)
        value = weighted / total_cps if total_cps > 0 else plain / len(groups)
        value = low if value < low else high if value > high else value  # rounding
        out.append(Metric("system", "latency.setup_us", value, low, high))
    return out


@hookimpl
def twin_register_rules() -> list[Any]:
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
        ),
        parameter(
            STANDALONE_US,
            1.2,
            "µs",
            provenance="seed",
            source=quote,
            summary="connection setup latency with HyperSync off",
        ),
        parameter(
            CPU_SHARE,
            1.0,
            "ratio",
            provenance="assumption",
            source="assumption: setting up a connection is CPU work on the owning member "
            "for its whole latency (an upper bound; lower it if part is waiting)",
            summary="share of the setup latency that is CPU time on the member",
        ),
    ]
