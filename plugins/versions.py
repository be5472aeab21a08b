"""Versions: a group running more than one software version.

Model line 10: mixed versions in a group cause sync failures until the
upgrade is unified, and stateful failover is at risk meanwhile. Multi-Version
Cluster upgrades (domain reference §2.3) make such a window legitimate, but
it should be short, so the twin keeps it visible the whole time.
"""

from __future__ import annotations

from typing import Any

from twin.api import MEMBER_STATE_EVENTS, UP, Finding, Metric, RuleContext, Severity, hookimpl, rule

EVENTS = ("group_created", *MEMBER_STATE_EVENTS)

Out = list[Metric | Finding]


@rule(
    id="versions.mixed",
    summary="a group runs more than one software version on its UP members",
    events=EVENTS,
    raises={"versions.mixed": "error"},
    metrics={"versions.count": "versions"},
    incremental=True,
)
def mixed(ctx: RuleContext) -> Out:
    """``versions.count`` (per group) = the number of distinct versions among the
    group's UP members (an UPGRADING or DOWN member runs nothing yet). While it is
    above 1, ``versions.mixed`` (error, per group) names the versions and how many
    members run each: connections between members on different versions may fail to
    sync, so stateful failover is at risk until the upgrade is finished (or rolled
    back) on every member."""
    out: Out = []
    state = ctx.state
    for s in sorted(ctx.changes.subjects):
        if s[:6] != "group:":
            continue
        g = int(s[6:])
        group = state.groups.get(g)
        if group is None:
            continue
        counts: dict[str, int] = {}
        for i in group["members"]:
            m = state.members[i]
            if m["state"] == UP:
                counts[m["version"]] = counts.get(m["version"], 0) + 1
        out.append(Metric(s, "versions.count", float(len(counts))))
        if len(counts) > 1:
            spread = ", ".join(f"{version} ×{counts[version]}" for version in sorted(counts))
            out.append(
                Finding(
                    "versions.mixed",
                    Severity.ERROR,
                    s,
                    f"group {g} runs {len(counts)} versions ({spread}): sync between "
                    "versions fails until the upgrade is unified; stateful failover at risk",
                    evidence={"versions": dict(sorted(counts.items()))},
                )
            )
    return out


@hookimpl
def twin_register_rules() -> list[Any]:
    """The versions family's rules."""
    return [mixed]


@hookimpl
def twin_register_parameters() -> list[Any]:
    """The versions family declares no parameters (it counts, it does not measure)."""
    return []
