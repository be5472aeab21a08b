"""Bad sample plugin: raises a finding with another severity than it declares."""

from __future__ import annotations

from collections.abc import Iterator

from twin.api import Finding, RuleContext, Severity, hookimpl, rule


@rule(
    id="acme.mild",
    summary="declares a warning, raises an error",
    events=["member_failed"],
    raises={"acme.mild": "warning"},
)
def mild(ctx: RuleContext) -> Iterator[Finding]:
    yield Finding("acme.mild", Severity.ERROR, ctx.event.subject, "not so mild")


@hookimpl
def twin_register_rules() -> list[object]:
    return [mild]
