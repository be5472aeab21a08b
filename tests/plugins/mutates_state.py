"""Bad sample plugin: a rule that writes into the state it should only read."""

from __future__ import annotations

from twin.api import RuleContext, hookimpl, rule


@rule(id="acme.meddler", summary="pins every member's CPU at 0", events=["load_changed"])
def meddler(ctx: RuleContext) -> list[object]:
    for member in ctx.state.members.values():
        member["cpu_pct"] = 0.0
    return []


@hookimpl
def twin_register_rules() -> list[object]:
    return [meddler]
