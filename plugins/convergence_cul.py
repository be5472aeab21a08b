"""Convergence, the dead timer: how long a silent member takes to be declared dead.

Part of the ``convergence`` family (registered by :mod:`plugins.convergence`).
From primary sources, not from the seed note:

- a Scalable Platform member is declared dead after 3 s without cluster
  control protocol packets (``BLADE_DEAD_INTERVAL``), a ClusterXL member after
  about 2.5 s;
- while any member's kernel CPU is at or above 80% (Cluster Under Load,
  ClusterXL R77.30 and later; "System Under Load" on the Scalable Platform),
  the dead timer is widened to 10 s so that a busy member is not declared
  dead.

The window ends on the gateway when no member was above the threshold for
10 s (or after 3 minutes); the twin has no clock ticks between events, so
its window closes at the first event with no member at or above the
threshold (an imported ``Stopping CUL mode`` line carries the gateway's own
end).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.api import (
    DISTRIBUTION_EVENTS,
    UP,
    Parameter,
    Rule,
    RuleContext,
    Segment,
    group_rule,
    parameter,
)

DEAD = "convergence.dead_timer_s"
CUL_DEAD = "convergence.cul_dead_timer_s"
CPU = "convergence.cpu_threshold_pct"

R76SP_LOAD = (
    "https://sc1.checkpoint.com/documents/R76SP/CP_R76SP_SecuritySystem_AdminGuide/104540.htm"
)
CPUG_TIM_HALL = (
    "https://www.cpug.org/forums/showthread.php/22237-Question-regarding-failover-in-ClusterXL-"
    "%28and-not-only%29"
)
CHECKMATES_CUL = (
    "https://community.checkpoint.com/t5/Security-Gateways/IN-VAR-LOG-messages-keep-getting-"
    "Stopping-CUL-mode/m-p/115879"
)
DEAD_SOURCE = (
    "ANCESTOR: a Scalable Platform member is declared dead after 3 s without CCP "
    "(BLADE_DEAD_INTERVAL), R76SP Security System Admin Guide, 'System Under Load': "
    f"{R76SP_LOAD} ; "
    f"FIRST-HAND: the ClusterXL dead timer is about 2.5 s (Tim Hall on CPUG: {CPUG_TIM_HALL})"
)
CUL_SOURCE = (
    "FIRST-HAND: while a member's CPU is at or above 80% (Cluster Under Load, R77.30 and "
    f"later) the ClusterXL dead timer is 10 s (Tim Hall on CPUG: {CPUG_TIM_HALL}); observed "
    f"CUL windows last 10-17 s (CheckMates, 2021: {CHECKMATES_CUL})"
)

EVENTS = (*DISTRIBUTION_EVENTS, "hypersync_changed")


def _dead_timer_segment(seg: Segment, g: int) -> None:
    """:func:`dead_timer` of group ``g`` over a run of load events (the same verdict, on
    columns)."""
    bands = seg.bands
    normal = bands[DEAD]
    widened = bands[CUL_DEAD]
    threshold = bands[CPU][1]
    state = seg.state
    under: Any = False
    for member_id in state.groups[g]["members"]:
        if state.members[member_id]["state"] == UP:
            under = under | (seg.member_loads(member_id).cpu_pct >= threshold)
    band = [np.where(under, widened[k], normal[k]) for k in range(3)]
    seg.metric(f"group:{g}", "convergence.dead_timer_s", band[1], band[0], band[2])


@group_rule(
    id="convergence.dead-timer",
    summary="how long a silent member takes to be declared dead; widened while under load",
    events=EVENTS,
    parameters=(DEAD, CUL_DEAD, CPU),
    metrics={"convergence.dead_timer_s": "s"},
    system={"convergence.dead_timer_s": "max"},
    segment=_dead_timer_segment,
)
def dead_timer(ctx: RuleContext, g: int) -> None:
    """``convergence.dead_timer_s`` per group is ``convergence.cul_dead_timer_s``
    (10 s) while any UP member of the group has a CPU at or above
    ``convergence.cpu_threshold_pct`` (the group is under load: the cluster widens
    its dead timer so a busy member is not declared dead), else
    ``convergence.dead_timer_s`` (band 2.5–3 s). A member that fails inside the
    window is noticed only after the widened timer. The system value is the
    longest group's. The window closes at the first event with no member at or
    above the threshold (the gateway's 10 s quiet period and 3 min cap are not
    modelled: events carry no clock ticks)."""
    bands = ctx.bands
    threshold = bands[CPU][1]
    members = ctx.state.members
    under = False
    for member_id in ctx.state.groups[g]["members"]:
        m = members[member_id]
        if m["state"] == UP and m["cpu_pct"] >= threshold:
            under = True
            break
    band = bands[CUL_DEAD] if under else bands[DEAD]
    ctx.metric(f"group:{g}", "convergence.dead_timer_s", band[1], band[0], band[2])


def cul_parameters() -> list[Parameter]:
    """The dead timer's parameters, each from a primary source."""
    return [
        parameter(
            DEAD,
            3.0,
            "s",
            low=2.5,
            high=3.0,
            provenance="official",
            source=DEAD_SOURCE,
            summary="time without cluster control packets before a member is declared dead",
            domain="positive",
        ),
        parameter(
            CUL_DEAD,
            10.0,
            "s",
            provenance="community",
            source=CUL_SOURCE,
            summary="the dead timer while a member's CPU is at or above the under-load threshold",
            domain="positive",
        ),
    ]


def rules() -> list[Rule]:
    """The rules of this module."""
    return [dead_timer]
