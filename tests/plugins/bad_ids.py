"""Bad sample plugin: a rule id and a finding id that are not <family>.<kebab-slug>."""

from __future__ import annotations

from twin.api import hookimpl, rule


@rule(id="Acme_HotMember", summary="badly named", raises={"acme.Hot_Member": "warning"})
def badly_named(ctx: object) -> list[object]:
    return []


@hookimpl
def twin_register_rules() -> list[object]:
    return [badly_named]
