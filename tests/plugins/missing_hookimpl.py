"""Bad sample plugin: a hook without @hookimpl and a misspelt hook name."""

from __future__ import annotations

from twin.api import hookimpl, rule


@rule(id="acme.ignored", summary="never registered")
def ignored(ctx: object) -> list[object]:
    return []


def twin_register_rules() -> list[object]:
    return [ignored]


@hookimpl
def twin_register_rule() -> list[object]:
    return [ignored]
