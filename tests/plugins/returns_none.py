"""Bad sample plugin: a rule that forgets to return anything."""

from __future__ import annotations

from twin.api import RuleContext, hookimpl, rule


@rule(id="acme.silent", summary="returns None", events=["note"])
def silent(ctx: RuleContext) -> None:
    ctx.state.members.get("1_01")


@hookimpl
def twin_register_rules() -> list[object]:
    return [silent]
