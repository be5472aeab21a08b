"""Bad sample plugin: parameters that are not Parameter objects or have no source."""

from __future__ import annotations

from twin.api import hookimpl, parameter


@hookimpl
def twin_register_parameters() -> list[object]:
    return [
        {"name": "acme.limit", "value": 3},
        parameter("acme.sourceless", 1, "s", provenance="assumption", source=""),
    ]
