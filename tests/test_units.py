"""Numbers for people: every metric in its unit, bands, deltas, and float noise ignored."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twin.units import (
    format_band,
    format_delta,
    format_field,
    format_metric,
    format_percent_change,
    format_value,
    same,
)


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.2445, "ratio", "24.4%"),
        (0.0939, "0..1", "9.4%"),
        (0.002, "ratio", "0.20%"),
        (84.4, "%", "84.4%"),
        (23_892_758.4, "connections", "23,892,758 connections"),
        (1e7, "connections", "10,000,000 connections"),
        (49_620.3, "connections/s", "49,620 connections/s"),
        (2.687, "Gbps", "2.69 Gbps"),
        (42.1, "Gbps", "42.1 Gbps"),
        (0.84, "Gbps", "0.84 Gbps"),
        (46.8, "GB", "46.8 GB"),
        (8.0, "s", "8.0 s"),
        (0.3, "s", "0.30 s"),
        (3.0, "µs", "3.0 µs"),
        (12.0, "count", "12"),
        (52.0, "members", "52 members"),
        (1000.0, "B", "1,000 B"),
        (0.0, "Gbps", "0 Gbps"),
        (0.0, "ratio", "0%"),
        (None, "Gbps", "–"),
        (float("inf"), "ratio", "∞"),
        (3.5, "", "3.50"),
    ],
)
def test_values_are_written_in_their_unit_without_scientific_notation(
    value: float | None, unit: str, shown: str
) -> None:
    assert format_value(value, unit) == shown


def test_tables_drop_the_word_the_metric_name_already_says() -> None:
    assert format_value(23_892_758, "connections", compact=True) == "23,892,758"
    assert format_value(49_620, "connections/s", compact=True) == "49,620/s"
    assert format_value(2.69, "Gbps", compact=True) == "2.69 Gbps"


def test_a_ratio_that_means_times_as_much_is_a_multiplier() -> None:
    assert format_value(1.9786, "ratio", name="checkpoint.disk_write_factor") == "1.98×"
    assert format_value(0.5, "ratio", name="hypersync.capacity_factor") == "50.0%"


def test_bands_share_their_decimals_and_the_unit_is_written_once() -> None:
    assert format_band(7.0, 9.0, "s") == "7.0–9.0 s"
    assert format_band(2.236, 3.217, "Gbps") == "2.24–3.22 Gbps"
    assert format_band(0.2236, 0.3217, "ratio") == "22.4–32.2%"
    assert format_metric(8.0, 7.0, 9.0, "s") == "8.0 s (7.0–9.0 s)"
    assert format_metric(0.2445, 0.2445, 0.2445, "ratio") == "24.4%"


def test_changes_are_signed_and_percentages_change_in_points() -> None:
    assert format_delta(2.173, "Gbps") == "+2.17 Gbps"
    assert format_delta(-4_892_000.0, "connections") == "-4,892,000 connections"
    assert format_delta(18.3, "%") == "+18.3 pp"
    assert format_delta(0.04, "ratio") == "+4.0 pp"
    assert format_delta(-1.0, "count") == "-1"
    assert format_delta(4.44e-16, "Gbps") == "0"
    assert format_percent_change(34.13) == "+34.1%"
    assert format_percent_change(-100.0) == "-100%"
    assert format_percent_change(2566.7) == "+2,567%"
    assert format_percent_change(None) == ""


def test_float_noise_is_not_a_difference() -> None:
    assert same(3412999.999999999, 3413000.0)
    assert same(0.1 + 0.2, 0.3)
    assert same(None, None)
    assert not same(None, 0.0)
    assert not same(1.0, 1.001)
    assert not same(0.0, 1e-6)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_no_value_is_ever_written_in_scientific_notation(value: float) -> None:
    for unit in ("ratio", "%", "Gbps", "s", "connections", "", "GB", "µs"):
        text = format_value(value, unit)
        assert "e+" not in text and "e-" not in text, text


def test_state_fields_are_written_in_their_units() -> None:
    assert format_field("connections", 1_210_000.0) == "1,210,000 connections"
    assert format_field("cpu_pct", 82.0) == "82.0%"
    assert format_field("up", False) == "no"
    assert format_field("cause", None) == "—"
    assert format_field("offered", {"connections": 3e6, "cps": 1.2e5}) == (
        "connections=3,000,000 cps=120,000/s"
    )
