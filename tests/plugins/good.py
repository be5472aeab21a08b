"""A well-behaved sample plugin: one incremental rule, one metric, one parameter."""

from __future__ import annotations

from collections.abc import Iterator

from twin.api import Finding, Metric, RuleContext, Severity, hookimpl, parameter, rule

LIMIT = "acme.cpu_limit_pct"


@rule(
    id="acme.hot-member",
    summary="a member runs above the acme CPU limit",
    parameters=[LIMIT],
    raises={"acme.hot-member": "warning"},
    metrics={"acme.cpu_headroom_pct": "%"},
    incremental=True,
)
def hot_member(ctx: RuleContext) -> Iterator[Metric | Finding]:
    """Headroom = limit - CPU; a finding when CPU is above the limit."""
    limit = ctx.param(LIMIT)
    for member_id in ctx.changes.touched_members():
        member = ctx.state.members.get(member_id)
        if member is None:
            continue
        subject = f"member:{member_id}"
        yield Metric(subject, "acme.cpu_headroom_pct", limit - member["cpu_pct"])
        if member["cpu_pct"] > limit:
            yield Finding(
                "acme.hot-member",
                Severity.WARNING,
                subject,
                f"CPU {member['cpu_pct']:.0f}% > {limit:.0f}%",
            )


@hookimpl
def twin_register_rules() -> list[object]:
    return [hot_member]


@hookimpl
def twin_register_parameters() -> list[object]:
    return [parameter(LIMIT, 90, "%", provenance="assumption", source="acme runbook, section 4")]
