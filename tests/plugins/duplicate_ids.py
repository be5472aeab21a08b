"""Bad sample plugin: two rules with the same id."""

from __future__ import annotations

from twin.api import hookimpl, rule


@rule(id="acme.twice", summary="first")
def first(ctx: object) -> list[object]:
    return []


@rule(id="acme.twice", summary="second")
def second(ctx: object) -> list[object]:
    return []


@hookimpl
def twin_register_rules() -> list[object]:
    return [first, second]
