"""Sample plugin in the 0.2 style: writes through the context, a metric computed on read."""

from __future__ import annotations

from typing import Any

from twin.api import RuleContext, hookimpl, parameter, rule

LIMIT = "lean.cpu_limit_pct"


def cpu_headroom(ctx: RuleContext, member: dict[str, Any]) -> float:
    """What is left below the limit, in CPU points."""
    headroom: float = ctx.param(LIMIT) - member["cpu_pct"]
    return headroom


@rule(
    id="lean.hot",
    summary="a member runs above the lean CPU limit",
    events=["load_changed", "member_added"],
    parameters=[LIMIT],
    raises={"lean.hot": "warning"},
    metrics={"lean.hot_members": "members", "lean.cpu_headroom": "%"},
    incremental=True,
    per_member={"lean.cpu_headroom": cpu_headroom},
)
def hot(ctx: RuleContext) -> None:
    """Counts the members above ``lean.cpu_limit_pct`` and raises a finding on each."""
    limit = ctx.param(LIMIT)
    for member_id in ctx.changes.touched_members():
        cpu = ctx.state.members[member_id]["cpu_pct"]
        if cpu > limit:
            ctx.finding(
                "lean.hot",
                f"member:{member_id}",
                "CPU {cpu:.0f}% > {limit:g}%",
                cpu=cpu,
                limit=limit,
            )
    count = sum(1 for m in ctx.state.members.values() if m["cpu_pct"] > limit)
    ctx.metric("system", "lean.hot_members", float(count))


@hookimpl
def twin_register_rules() -> list[Any]:
    return [hot]


@hookimpl
def twin_register_parameters() -> list[Any]:
    return [parameter(LIMIT, 90, "%", provenance="assumption", source="the lean sample")]
