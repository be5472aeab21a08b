"""Bad sample plugin: yields plain dicts instead of Metric and Finding objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from twin.api import RuleContext, hookimpl, rule


@rule(id="acme.dicts", summary="yields dicts", events=["load_changed"])
def dicts(ctx: RuleContext) -> Iterator[dict[str, Any]]:
    yield {"subject": "system", "name": "acme.load", "value": 1.0}


@hookimpl
def twin_register_rules() -> list[object]:
    return [dicts]
