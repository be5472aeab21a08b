"""How the TUI writes times, durations, values and cut text (no Textual here)."""

from __future__ import annotations

import math
from datetime import datetime

from twin.textsafe import safe_text
from twin.units import format_delta, format_value, same

ELLIPSIS = "…"


def elide(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ending in ``…`` when it was cut."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: width - 1] + ELLIPSIS


def clock(when: datetime | None, raw: str, *, dated: bool) -> str:
    """``02:14:00`` (``04-12 02:14:00`` when the journal spans dates); no fractions."""
    if when is None:
        return elide(raw, 14 if dated else 8)
    return when.strftime("%m-%d %H:%M:%S" if dated else "%H:%M:%S")


def stamp(when: datetime | None, raw: str) -> str:
    """The full time for the status line: ``2026-04-12 02:14:00`` (UTC, seconds)."""
    if when is None:
        return raw
    text = when.strftime("%Y-%m-%d %H:%M:%S")
    offset = when.utcoffset()
    return text if offset is None or not offset else text + when.strftime(" %z")


def delta_t(seconds: float | None) -> str:
    """Time since the previous event, compact and never cut: ``+0.4s +12s +5m +3h +234d``."""
    if seconds is None:
        return ""
    sign = "+" if seconds >= 0 else "-"
    s = abs(seconds)
    if s == 0:
        return "+0s"
    if s < 1:
        return f"{sign}{s:.1f}s"
    if s < 60:
        return f"{sign}{s:.0f}s"
    if s < 3600:
        return f"{sign}{s / 60:.0f}m"
    if s < 86400 * 2:
        return f"{sign}{s / 3600:.0f}h"
    return f"{sign}{s / 86400:.0f}d"


def value(unit: str | None, number: float | None, name: str | None = None) -> str:
    """A metric value in its unit (``twin.units``, as everywhere); ``—`` when absent."""
    if number is None or math.isnan(number):
        return "—"
    return format_value(number, unit, name=name, compact=True)


def delta(
    unit: str | None, now: float | None, before: float | None, name: str | None = None
) -> tuple[str, int]:
    """The change against the previous event and its direction (1 up, -1 down, 0 none).

    ``=`` when unchanged (within float noise); ``≈`` when it changed by less than
    the value's own precision (so nothing reads ``▲0%``).
    """
    if now is None or before is None or math.isnan(now) or math.isnan(before):
        return "", 0
    if same(now, before):
        return "=", 0
    shown = format_delta(now - before, unit, name=name, compact=True)
    # the value beside it carries the unit: keep only "pp" (points of a percentage)
    shown = shown.split(" ")[0] + ("pp" if shown.endswith(" pp") else "")
    if not any(c in "123456789" for c in shown):
        return "≈", 0
    up = now > before
    return ("▲" if up else "▼") + shown, 1 if up else -1


def printable(text: str) -> str:
    """Text from data, safe for a terminal (:func:`twin.textsafe.safe_text`).

    Everything the TUI shows from a journal goes through this and is drawn as
    :class:`rich.text.Text`, never as markup.
    """
    return safe_text(text)
