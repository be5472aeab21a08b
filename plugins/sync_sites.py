"""Sync across sites and in time: the standby site's backups, and what delta sync has not sent yet.

Part of the ``sync`` family (registered by :mod:`plugins.sync`). From the
documented ancestors of HyperSync, not from the seed note:

- SyncXL keeps one backup of each connection on the active site and one on
  the standby site, and switches the cross-site backups off while the
  standby site has fewer than half of the active site's members UP
  (R76SP Security System Admin Guide, "SyncXL");
- delta sync sends its updates every 100 ms (R80.20 CLI Reference,
  ``cphaprob syncstat``), so a connection opened within the last interval
  has no backup yet.
"""

from __future__ import annotations

from typing import Any

from twin.api import MEMBER_STATE_EVENTS, UP, Parameter, Rule, RuleContext, Segment, parameter, rule

STANDBY_MIN = "sync.standby_min_fraction"
INTERVAL = "sync.delta_interval_ms"

SYNCXL = "https://sc1.checkpoint.com/documents/R76SP/CP_R76SP_SecuritySystem_AdminGuide/104936.htm"
SYNCSTAT = (
    "https://sc1.checkpoint.com/documents/R80.20_GA/WebAdminGuides/EN/"
    "CP_R80.20_CLI_ReferenceGuide/196273.htm"
)

SITE_EVENTS = (*MEMBER_STATE_EVENTS, "site_added", "site_failover", "group_created")

BACKUPS_OFF = (
    "standby site {standby} has {standby_up} of {group_size} members UP, fewer than "
    "{min_pct:.0f}% of active site {active}'s {active_up}: cross-site backups are off, so a "
    "site failover now drops the group's connections"
)


def _up_by_site(ctx: RuleContext, group: int) -> dict[int, int]:
    counts = dict.fromkeys(ctx.state.sites, 0)
    for member_id in ctx.state.groups[group]["members"]:
        m = ctx.state.members[member_id]
        if m["state"] == UP:
            counts[m["site"]] = counts.get(m["site"], 0) + 1
    return counts


@rule(
    id="sync.standby-site",
    summary="cross-site backups switched off while the standby site has too few members UP",
    events=SITE_EVENTS,
    parameters=(STANDBY_MIN,),
    raises={"sync.standby-backups-off": "warning"},
    metrics={"sync.standby_up_ratio": "ratio"},
)
def standby_site(ctx: RuleContext) -> None:
    """In a deployment with a standby site, ``sync.standby_up_ratio`` per group =
    the group's UP members at the standby site ÷ its UP members at the ACTIVE site.
    ``sync.standby-backups-off`` (warning, per group) while that ratio is below
    ``sync.standby_min_fraction`` (0.5): the cross-site backups are switched off,
    so a site failover would drop the group's connections instead of moving them.
    Only groups with members at another site are judged (the ratio is 1 for the
    others); with more than one standby site, the one with the fewest UP members
    counts.
    Judged as a whole on every membership, state and site event; a group with no
    UP member at the ACTIVE site is not judged (ratio 1: every UP member serves)."""
    state = ctx.state
    active = state.active_site
    if active is None or len(state.sites) < 2:
        return
    minimum = ctx.param(STANDBY_MIN)
    for g in sorted(state.groups):
        counts = _up_by_site(ctx, g)
        active_up = counts.get(active, 0)
        deployed = {state.members[i]["site"] for i in state.groups[g]["members"]} - {active}
        if not deployed:
            # No member of the group at another site: no cross-site backups to lose.
            ctx.metric(f"group:{g}", "sync.standby_up_ratio", 1.0)
            continue
        standby = min(deployed, key=lambda s: (counts[s], s))
        standby_up = counts.get(standby, 0)
        # No UP member at the ACTIVE site: every UP member serves; nothing to judge.
        ratio = standby_up / active_up if active_up else 1.0
        ctx.metric(f"group:{g}", "sync.standby_up_ratio", ratio)
        if active_up and ratio < minimum:
            size = sum(1 for i in state.groups[g]["members"] if state.members[i]["site"] == standby)
            ctx.finding(
                "sync.standby-backups-off",
                f"group:{g}",
                BACKUPS_OFF,
                standby=standby,
                standby_up=standby_up,
                group_size=size,
                active=active,
                active_up=active_up,
                min_pct=minimum * 100,
            )


def _backup_lag_segment(seg: Segment) -> None:
    """:func:`backup_lag` over a run of load events (the same sums, on columns)."""
    state = seg.state
    interval_s = seg.param(INTERVAL) / 1000.0
    total: Any = 0.0
    for g in sorted(state.groups):
        group = state.groups[g]
        cps: Any = 0.0
        if group["hypersync"]:
            cps = 0
            for i in group["members"]:
                cps = cps + seg.member_loads(i).cps
        lag = cps * interval_s
        total = total + lag
        seg.metric(f"group:{g}", "sync.unsynced_connections", lag)
    if state.groups:
        seg.metric("system", "sync.unsynced_connections", total)


@rule(
    id="sync.backup-lag",
    summary="connections opened within the last delta-sync interval, which have no backup yet",
    events=("load_changed", "group_created", "hypersync_changed", *MEMBER_STATE_EVENTS),
    parameters=(INTERVAL,),
    metrics={"sync.unsynced_connections": "connections"},
    segment=_backup_lag_segment,
)
def backup_lag(ctx: RuleContext) -> None:
    """``sync.unsynced_connections`` per group with HyperSync on = the group's new
    connections per second (the sum over its members) × ``sync.delta_interval_ms``
    ÷ 1000: the connections opened since the last delta-sync update, which a
    failure of their owner loses because no backup holds them yet. The system
    value is the sum over groups."""
    state = ctx.state
    interval_s = ctx.param(INTERVAL) / 1000.0
    total = 0.0
    for g in sorted(state.groups):
        group = state.groups[g]
        cps = sum(state.members[i]["cps"] for i in group["members"]) if group["hypersync"] else 0.0
        lag = cps * interval_s
        total += lag
        ctx.metric(f"group:{g}", "sync.unsynced_connections", lag)
    if state.groups:
        ctx.metric("system", "sync.unsynced_connections", total)


def site_parameters() -> list[Parameter]:
    """The parameters of these rules, each from a primary source."""
    return [
        parameter(
            STANDBY_MIN,
            0.5,
            "ratio",
            provenance="official",
            source="ANCESTOR: SyncXL switches the cross-site backups off when the standby "
            "chassis has fewer than 50% of the active chassis's members UP (R76SP Security "
            f"System Admin Guide, 'SyncXL': {SYNCXL})",
            summary="standby site's UP members ÷ the active site's below which cross-site "
            "backups are off",
            domain="fraction",
        ),
        parameter(
            INTERVAL,
            100,
            "ms",
            provenance="official",
            source="OFFICIAL: 'Delta Sync interval (ms) 100' in the `cphaprob syncstat` "
            f"example of the R80.20 CLI Reference Guide: {SYNCSTAT}",
            summary="how often delta sync sends its updates to the backups",
            domain="positive",
        ),
    ]


def rules() -> list[Rule]:
    """The rules of this module."""
    return [standby_site, backup_lag]
