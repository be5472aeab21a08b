"""Bad sample plugin: a rule that waits for an event type that does not exist."""

from __future__ import annotations

from twin.api import hookimpl, rule


@rule(id="acme.typo", summary="never runs", events=["load_chnaged"])
def typo(ctx: object) -> list[object]:
    return []


@hookimpl
def twin_register_rules() -> list[object]:
    return [typo]
