"""Bad sample plugin: a registration hook that raises."""

from __future__ import annotations

from twin.api import hookimpl


@hookimpl
def twin_register_rules() -> list[object]:
    raise RuntimeError("cannot read acme.yaml")
