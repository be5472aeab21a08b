"""Bad sample plugin: an incremental rule that judges subjects the event did not touch."""

from __future__ import annotations

from collections.abc import Iterator

from twin.api import Finding, RuleContext, Severity, hookimpl, rule


@rule(
    id="acme.first-member",
    summary="always complains about the first member",
    raises={"acme.first-member": "info"},
    incremental=True,
)
def first_member(ctx: RuleContext) -> Iterator[Finding]:
    if "1_01" in ctx.state.members:
        yield Finding("acme.first-member", Severity.INFO, "member:1_01", "the first member")


@hookimpl
def twin_register_rules() -> list[object]:
    return [first_member]
