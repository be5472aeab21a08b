"""Bad sample plugin: a hook implementation asking for an argument the hook does not have."""

from __future__ import annotations

from twin.api import hookimpl


@hookimpl
def twin_register_rules(config: object) -> list[object]:
    return []
