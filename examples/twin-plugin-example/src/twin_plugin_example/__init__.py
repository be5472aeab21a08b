"""An example Maestro Twin plugin: ``example.thin-site``.

In a Maestro Security Group every member is active, so one member that
fails is covered by the others at its site. A site that keeps fewer UP
members of a group than ``example.min_up_per_site`` (2 by default) has no
such local redundancy: one more failure there moves the whole load or fails
over the site. This plugin raises a warning on the group when that happens,
and publishes the smallest number of UP members any of its sites keeps.

It imports nothing from the twin but :mod:`twin.api`.
"""

from __future__ import annotations

from collections.abc import Iterator

from twin.api import (
    UP,
    Finding,
    FunctionRule,
    Metric,
    Parameter,
    RuleContext,
    Severity,
    hookimpl,
    parameter,
    rule,
)

__version__ = "0.1.0"

MIN_UP = "example.min_up_per_site"

# Only these events change which members are UP; the rule skips every other one cheaply.
EVENTS = (
    "member_added",
    "member_removed",
    "member_failed",
    "member_recovered",
    "member_admin_changed",
    "upgrade_started",
    "upgrade_finished",
    "upgrade_rolled_back",
)


@rule(
    id="example.thin-site",
    summary="a site keeps fewer UP members of a group than the local-redundancy minimum",
    events=EVENTS,
    parameters=[MIN_UP],
    raises={"example.thin-site": "warning"},
    metrics={"example.site_up_min": "members"},
    incremental=True,
)
def thin_site(ctx: RuleContext) -> Iterator[Metric | Finding]:
    """For each group the event touched, count the UP members at every site where the
    group has members. ``example.site_up_min`` is the smallest count; a warning names
    each site whose count is below ``example.min_up_per_site``.
    """
    minimum = ctx.param(MIN_UP)
    for group_id in ctx.changes.touched_groups():
        if group_id not in ctx.state.groups:
            continue
        up_by_site: dict[int, int] = {}
        for member in ctx.state.group_members(group_id):
            site = member["site"]
            up_by_site[site] = up_by_site.get(site, 0) + (member["state"] == UP)
        subject = f"group:{group_id}"
        yield Metric(subject, "example.site_up_min", float(min(up_by_site.values(), default=0)))
        thin = {site: up for site, up in sorted(up_by_site.items()) if up < minimum}
        if thin:
            where = ", ".join(f"site {site}: {up} UP" for site, up in thin.items())
            yield Finding(
                "example.thin-site",
                Severity.WARNING,
                subject,
                f"group {group_id} has too little local redundancy ({where}; minimum {minimum:g})",
                evidence={"up_by_site": up_by_site, "minimum": minimum},
            )


@hookimpl
def twin_register_rules() -> list[FunctionRule]:
    """The plugin's one rule."""
    return [thin_site]


@hookimpl
def twin_register_parameters() -> list[Parameter]:
    """The number the rule reads, with where it comes from."""
    return [
        parameter(
            MIN_UP,
            2,
            "members",
            provenance="assumption",
            source="twin-plugin-example: N+1 at each site, an operator's choice "
            "(not a Check Point figure)",
            summary="fewest UP members of a group each site should keep",
        )
    ]
