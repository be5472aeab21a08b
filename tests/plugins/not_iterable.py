"""Bad sample plugin: returns one rule instead of a list of rules."""

from __future__ import annotations

from twin.api import hookimpl, rule


@rule(id="acme.alone", summary="one rule, not in a list")
def alone(ctx: object) -> list[object]:
    return []


@hookimpl
def twin_register_rules() -> object:
    return alone
