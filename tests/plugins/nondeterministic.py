"""Bad sample plugin: a rule that keeps a counter of its own, so replays differ."""

from __future__ import annotations

from collections.abc import Iterator

from twin.api import Metric, RuleContext, hookimpl, rule

_calls = [0]


@rule(id="acme.forgetful", summary="counts its own calls", metrics={"acme.calls": "count"})
def forgetful(ctx: RuleContext) -> Iterator[Metric]:
    _calls[0] += 1
    yield Metric("system", "acme.calls", float(_calls[0]))


@hookimpl
def twin_register_rules() -> list[object]:
    return [forgetful]
