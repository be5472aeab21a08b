"""Bad sample plugin: claims the engine's reserved ``twin`` family."""

from __future__ import annotations

from twin.api import hookimpl, rule


@rule(id="twin.my-check", summary="not ours to name", raises={"twin.my-check": "info"})
def mine(ctx: object) -> list[object]:
    return []


@hookimpl
def twin_register_rules() -> list[object]:
    return [mine]
