"""Versions: a group running more than one software version.

Model line 10: mixed versions in a group cause sync failures until the
upgrade is unified, and stateful failover is at risk meanwhile. Multi-Version
Cluster upgrades (domain reference §2.3) make such a window legitimate, but
it should be short, so the twin keeps it visible the whole time.

Maestro's MVC guidance becomes findings a change plan sees (domain reference
§2.3, §5.2 item 6): upgrade in logical groups, A then B, never everyone at
once (``versions.upgrade-not-grouped``); and mixed versions only inside an
upgrade window, i.e. only where some members were upgraded from the version
the others still run (``versions.mixed-outside-window``).
"""

from __future__ import annotations

from typing import Any

from twin.api import (
    MEMBER_STATE_EVENTS,
    UP,
    UPGRADING,
    Finding,
    Metric,
    Parameter,
    Rule,
    RuleContext,
    Severity,
    hookimpl,
    rule,
)

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
    for g in ctx.touched_groups():
        s = f"group:{g}"
        group = state.groups[g]
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


def _touched_groups(ctx: RuleContext) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for g in ctx.changes.touched_groups():
        group = ctx.state.groups.get(g)
        if group is not None:
            out.append((g, group))
    return out


@rule(
    id="versions.upgrade-not-grouped",
    summary="members of a group are upgraded all at once, or at both sites at once",
    events=EVENTS,
    raises={"versions.upgrade-not-grouped": "warning"},
    metrics={"versions.upgrading": "members"},
    incremental=True,
)
def upgrade_not_grouped(ctx: RuleContext) -> Out:
    """``versions.upgrading`` (per group) = how many of the group's members are UPGRADING.
    Maestro's guidance for an upgrade with full connectivity is to split the members
    into logical groups, A and B, and upgrade one group at a time, never all at once
    (domain reference §2.3). ``versions.upgrade-not-grouped`` (warning, per group) is
    raised while members at more than one site are UPGRADING at the same time (in a
    dual-site deployment the sites are the natural groups: upgrade the standby site,
    fail over, then the other), or while more than half of the group's members are
    UPGRADING at once (so no group B is left serving on the old version)."""
    out: Out = []
    state = ctx.state
    for g, group in _touched_groups(ctx):
        members = [state.members[i] for i in group["members"]]
        upgrading = [m for m in members if m["state"] == UPGRADING]
        subject = f"group:{g}"
        out.append(Metric(subject, "versions.upgrading", float(len(upgrading))))
        sites = sorted({int(m["site"]) for m in upgrading})
        ids = ", ".join(str(m["id"]) for m in upgrading)
        problem = None
        if len(sites) > 1:
            where = " and ".join(str(site) for site in sites)
            problem = (
                f"members at sites {where} are upgrading at once ({ids}): upgrade one "
                "logical group at a time (the standby site, then, after a failover, the other)"
            )
        elif len(members) > 1 and 2 * len(upgrading) > len(members):
            problem = (
                f"{len(upgrading)} of {len(members)} members are upgrading at once ({ids}): "
                "split the group into logical groups A and B and upgrade one at a time"
            )
        if problem is not None:
            out.append(
                Finding(
                    "versions.upgrade-not-grouped",
                    Severity.WARNING,
                    subject,
                    f"group {g}: {problem}",
                    evidence={"upgrading": [m["id"] for m in upgrading], "sites": sites},
                )
            )
    return out


def _not_upgraded(members: list[dict[str, Any]], old: str, new: str) -> list[dict[str, Any]]:
    """Members on ``new`` that did not get there by an upgrade from ``old``."""
    return [m for m in members if m["version"] == new and m["previous_version"] != old]


@rule(
    id="versions.mixed-outside-window",
    summary="a group mixes software versions that no MVC upgrade explains",
    events=EVENTS,
    raises={"versions.mixed-outside-window": "error"},
    incremental=True,
)
def mixed_outside_window(ctx: RuleContext) -> Out:
    """Mixed versions are allowed only inside a Multi-Version Cluster upgrade window
    (domain reference §5.2 item 6). A group is inside such a window when its members
    run two versions, old and new, and every member on the new one was upgraded from
    the old one (the twin keeps each member's previous version until a rollback).
    ``versions.mixed-outside-window`` (error, per group) is raised when the group's
    members (UP or not) run versions that no upgrade explains: a member that joined
    on another version, or three versions at once. Upgrade or roll back until the
    group runs one version."""
    out: Out = []
    state = ctx.state
    for g, group in _touched_groups(ctx):
        members = [state.members[i] for i in group["members"]]
        versions = sorted({str(m["version"]) for m in members})
        if len(versions) < 2:
            continue
        odd: list[dict[str, Any]] = members
        if len(versions) == 2:
            a, b = versions
            odd = min(_not_upgraded(members, a, b), _not_upgraded(members, b, a), key=len)
            if not odd:
                continue  # an upgrade (or its rollback) in progress: the window
        counts = {v: sum(1 for m in members if m["version"] == v) for v in versions}
        spread = ", ".join(f"{v} ×{counts[v]}" for v in versions)
        if len(versions) > 2:
            why = "more than two versions at once"
        else:
            shown = ", ".join(f"{m['id']} ({m['version']})" for m in odd[:6])
            why = f"{shown} did not get there by an upgrade"
        out.append(
            Finding(
                "versions.mixed-outside-window",
                Severity.ERROR,
                f"group:{g}",
                f"group {g} mixes versions outside an MVC upgrade ({spread}): {why}; "
                "mixed versions belong only inside an upgrade window",
                evidence={"versions": counts, "not_upgraded": [m["id"] for m in odd]},
            )
        )
    return out


@hookimpl
def twin_register_rules() -> list[Rule]:
    """The versions family's rules."""
    return [mixed, mixed_outside_window, upgrade_not_grouped]


@hookimpl
def twin_register_parameters() -> list[Parameter]:
    """The versions family declares no parameters (it counts, it does not measure)."""
    return []
