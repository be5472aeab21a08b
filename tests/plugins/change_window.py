"""Sample plugin with its own event type and a rule that reacts to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import attrs

from twin.api import Event, Finding, RuleContext, Severity, hookimpl, rule


@attrs.frozen(kw_only=True)
class ChangeWindowOpened(Event):
    """An approved change window opens (no state change; rules may react)."""

    event_type: ClassVar[str] = "change_window_opened"
    ticket: str
    minutes: int = attrs.field(default=60, converter=int)  # text sources give "90"


@rule(
    id="acme.change-window",
    summary="a change window is open",
    events=[ChangeWindowOpened],
    raises={"acme.change-window": "info"},
)
def change_window(ctx: RuleContext) -> Iterator[Finding]:
    event = ctx.event
    assert isinstance(event, ChangeWindowOpened)
    yield Finding(
        "acme.change-window",
        Severity.INFO,
        "system",
        f"change window {event.ticket} open for {event.minutes} min",
    )


@hookimpl
def twin_register_event_types() -> list[type[Event]]:
    return [ChangeWindowOpened]


@hookimpl
def twin_register_rules() -> list[object]:
    return [change_window]
