"""Bad sample plugin: a rule that raises on one event type, next to one that works."""

from __future__ import annotations

from collections.abc import Iterator

from twin.api import Metric, RuleContext, hookimpl, rule


@rule(id="acme.fragile", summary="divides by the number of UP members")
def fragile(ctx: RuleContext) -> Iterator[Metric]:
    if ctx.type == "member_failed":
        raise ZeroDivisionError("no UP members to divide by")
    return iter(())


@rule(id="acme.steady", summary="counts members", metrics={"acme.members": "count"})
def steady(ctx: RuleContext) -> Iterator[Metric]:
    yield Metric("system", "acme.members", float(len(ctx.state.members)))


@hookimpl
def twin_register_rules() -> list[object]:
    return [fragile, steady]
