"""Bad sample plugin: computes a metric its rule does not declare in ``metrics``."""

from __future__ import annotations

from collections.abc import Iterator

from twin.api import Metric, RuleContext, hookimpl, rule


@rule(id="acme.counter", summary="counts members", metrics={"acme.members": "count"})
def counter(ctx: RuleContext) -> Iterator[Metric]:
    yield Metric("system", "acme.member_count", float(len(ctx.state.members)))


@hookimpl
def twin_register_rules() -> list[object]:
    return [counter]
