"""Bad sample plugin: a rule lists a parameter that no plugin declares."""

from __future__ import annotations

from twin.api import hookimpl, rule


@rule(id="acme.limits", summary="reads an undeclared number", parameters=["acme.cpu_limit"])
def limits(ctx: object) -> list[object]:
    return []


@hookimpl
def twin_register_rules() -> list[object]:
    return [limits]
