"""Numbers for people: a metric's value in its unit, bands, deltas, and float-noise tolerance.

One place decides how every number the twin shows is written, so that
``state``, ``diff``, ``profile``, ``run``, ``bisect``, reports and the TUI agree:

- ratios (unit ``ratio`` or ``0..1``) as percentages: ``0.2415`` → ``24.2%``;
- ``%`` as it is: ``84.4%``; multipliers (``×``) as ``1.98×``;
- counts and connection numbers with thousands separators: ``23,890,000``;
- Gbps and GB with two decimals below 10, one below 1,000: ``2.69 Gbps``, ``42.1 Gbps``;
- seconds, microseconds and percentages with one decimal: ``8.0 s``, ``3.0 µs``, ``84.4%``;
- any value below 1 with two significant digits: ``0.30 s``, ``0.84 Gbps``, ``0.047%``;
- zero as ``0``;
- a band as ``7.0–9.0 s`` (both ends with the same decimals);
- a change as ``+2.17 Gbps``, and for percentages in points: ``+18.3 pp``.

Never scientific notation. Machine-readable output (JSON) keeps raw numbers:
these functions are for text only. :func:`same` is the tolerance diffs use, so
``3412999.999999999`` and ``3413000.0`` are the same value.

Example::

    >>> format_value(0.2415, "ratio")
    '24.2%'
    >>> format_metric(8.0, 7.0, 9.0, "s")
    '8.0 s (7.0–9.0 s)'
    >>> format_value(1e7, "connections")
    '10,000,000 connections'
    >>> format_value(1e7, "connections", compact=True)
    '10,000,000'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

PERCENT_OF_ONE = frozenset({"ratio", "0..1"})
"""Units whose value is a fraction of one, shown as a percentage."""
PERCENT = frozenset({"%"})
MULTIPLIER = frozenset({"×", "x", "times"})
COUNTS = frozenset(
    {"count", "members", "versions", "copies", "blades", "connections", "connections/s", "B", "B/s"}
)
"""Units of whole things: no decimals, thousands separators."""
SILENT = frozenset({"count"})
"""Units not written after the number (a count is just a number)."""
COMPACT: Mapping[str, str] = {
    "connections": "",
    "connections/s": "/s",
    "members": "",
    "versions": "",
    "copies": "",
    "blades": "",
}
"""Suffixes in tables, where the metric's name already says what is counted."""
ONE_DECIMAL = frozenset({"s", "ms", "µs", "us"})

DISPLAY_UNIT: Mapping[str, str] = {
    # Declared as "ratio" (contract §6) but meaning "times as much": 1.98× reads, 198% misleads.
    "checkpoint.disk_write_factor": "×",
    "checkpoint.saturation_ratio": "×",
}
"""Metrics and parameters whose declared unit is shown differently."""

FIELD_UNITS: Mapping[str, str] = {
    "connections": "connections",
    "cps": "connections/s",
    "cpu_pct": "%",
    "throughput_gbps": "Gbps",
    "share": "ratio",
    "memory_gb": "GB",
    "vs_memory_gb": "GB",
    "gbps": "Gbps",
    "cpu_work": "",
    "conn_turnover": "connections",
    "connections_capacity": "connections",
    "throughput_capacity_gbps": "Gbps",
    "checkpoint_interval_s": "s",
}
"""Units of the state's record fields (``twin diff`` topology rows, a frame's changes)."""

ABS_TOLERANCE = 1e-9
REL_TOLERANCE = 1e-9


def same(a: float | None, b: float | None) -> bool:
    """True when two values are equal up to float noise (or both absent).

    ``same(3412999.999999999, 3413000.0)`` and ``same(0.1 + 0.2, 0.3)`` are True.
    """
    if a is None or b is None:
        return a is b
    if a == b:
        return True
    if math.isnan(a) or math.isnan(b):
        return False
    return math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE)


def display_unit(unit: str | None, name: str | None = None) -> str:
    """The unit a value is shown in: the declared one, or an override for ``name``."""
    if name is not None and name in DISPLAY_UNIT:
        return DISPLAY_UNIT[name]
    return unit or ""


def _two_significant(magnitude: float) -> int:
    """Decimals that keep two significant digits of a value below 1 (at most 6)."""
    return min(6, 1 - math.floor(math.log10(magnitude)))


def _decimals(magnitude: float, unit: str) -> int:
    """How many decimals a value of this size gets in this unit."""
    if magnitude == 0:
        return 0
    if unit in COUNTS:
        if magnitude >= 100 or float(magnitude).is_integer():
            return 0
        return 1 if magnitude >= 1 else _two_significant(magnitude)
    if magnitude < 1:
        return _two_significant(magnitude)
    if unit in ONE_DECIMAL or unit in PERCENT or unit in PERCENT_OF_ONE:
        return 1
    if unit in MULTIPLIER:
        return 2
    if magnitude >= 1000:
        return 0
    return 1 if magnitude >= 10 else 2


def _scaled(value: float, unit: str) -> float:
    return value * 100.0 if unit in PERCENT_OF_ONE else value


def _suffix(unit: str, compact: bool = False) -> str:
    if compact and unit in COMPACT:
        return COMPACT[unit]
    if unit in PERCENT or unit in PERCENT_OF_ONE:
        return "%"
    if unit in MULTIPLIER:
        return "×"
    if not unit or unit in SILENT:
        return ""
    return f" {unit}"


def _number(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(value) == 0 else text


def _special(value: float) -> str | None:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return None


def format_value(
    value: float | None,
    unit: str | None,
    *,
    name: str | None = None,
    suffix: bool = True,
    compact: bool = False,
) -> str:
    """A value in its unit: ``24.2%``, ``2.69 Gbps``, ``23,890,000 connections``, ``8.0 s``.

    Args:
        value: the raw value (None shows as ``–``).
        unit: its declared unit (``ratio``, ``Gbps``…; None or "" for none).
        name: the metric or parameter name (a few have a display override).
        suffix: write the unit after the number.
        compact: for tables: drop words the metric's name already says
            (``23,890,000`` rather than ``23,890,000 connections``; ``/s`` for a rate).
    """
    if value is None:
        return "–"
    unit = display_unit(unit, name)
    special = _special(value)
    if special is not None:
        return special
    shown = _scaled(value, unit)
    text = "0" if shown == 0 else _number(shown, _decimals(abs(shown), unit))
    return text + (_suffix(unit, compact) if suffix else "")


def format_band(
    low: float, high: float, unit: str | None, *, name: str | None = None, compact: bool = False
) -> str:
    """A band as ``7.0–9.0 s`` (both ends with the same decimals, the unit once)."""
    unit = display_unit(unit, name)
    for end in (low, high):
        special = _special(end)
        if special is not None:
            return f"{format_value(low, unit)}–{format_value(high, unit)}"
    lo, hi = _scaled(low, unit), _scaled(high, unit)
    decimals = max(_decimals(abs(lo), unit), _decimals(abs(hi), unit))
    return f"{_number(lo, decimals)}–{_number(hi, decimals)}{_suffix(unit, compact)}"


def has_band(low: float, value: float, high: float) -> bool:
    """True when the band is wider than float noise."""
    return not (same(low, value) and same(high, value))


def format_metric(
    value: float,
    low: float,
    high: float,
    unit: str | None,
    *,
    name: str | None = None,
    compact: bool = False,
) -> str:
    """A metric with its band when it has one: ``8.0 s (7.0–9.0 s)``, or just ``24.2%``."""
    text = format_value(value, unit, name=name, compact=compact)
    if has_band(low, value, high):
        text += f" ({format_band(low, high, unit, name=name, compact=compact)})"
    return text


def format_delta(
    delta: float | None, unit: str | None, *, name: str | None = None, compact: bool = False
) -> str:
    """A change with its sign: ``+2.17 Gbps``, ``-1``; percentages in points: ``+18.3 pp``."""
    if delta is None:
        return ""
    unit = display_unit(unit, name)
    if same(delta, 0.0):
        return "0"
    special = _special(delta)
    if special is not None:
        return special
    shown = _scaled(delta, unit)
    text = _number(shown, _decimals(abs(shown), unit))
    sign = "+" if shown > 0 else ""
    if unit in PERCENT or unit in PERCENT_OF_ONE:
        return f"{sign}{text} pp"
    return f"{sign}{text}{_suffix(unit, compact)}"


def format_percent_change(pct: float | None) -> str:
    """A relative change in percent: ``+34.1%``, ``-100%``; empty when unknown."""
    if pct is None:
        return ""
    special = _special(pct)
    if special is not None:
        return special
    magnitude = abs(pct)
    if magnitude >= 100:
        return f"{pct:+,.0f}%"
    if magnitude >= 0.1 or magnitude == 0:
        return f"{pct:+.1f}%"
    return f"{pct:+.{_two_significant(magnitude)}f}%"


def format_field(field: str, value: Any, *, suffix: bool = True) -> str:
    """A state record's field value: numbers in the field's unit, flags as yes/no, None as —.

    A dict (a group's offered load) is written ``connections=3,000,000 cps=120,000``.
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        unit = FIELD_UNITS.get(field)
        if unit is None:
            return format_value(float(value), "") if isinstance(value, float) else f"{value:,}"
        return format_value(float(value), unit, compact=not suffix)
    if isinstance(value, dict):
        inner = " ".join(
            f"{k}={format_field(str(k), v, suffix=False)}" for k, v in sorted(value.items())
        )
        return inner or "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)
