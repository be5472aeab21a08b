"""Checkpoint family: model line 11 (disk writes vs the 60 s checkpoint interval)."""

from __future__ import annotations

import math

import pytest

from twin.testing import run_scenario, single_site


def interval(seconds: float) -> tuple[str, dict[str, object]]:
    return ("checkpoint_interval_changed", {"seconds": seconds})


def test_disk_writes_are_nominal_at_the_recommended_60_s_and_by_default() -> None:
    result = run_scenario([*single_site(members=2), interval(60)])
    assert result.value("checkpoint.disk_write_factor", at=-2) == 1.0
    assert result.value("checkpoint.disk_write_factor") == 1.0
    result.assert_no_finding("checkpoint.interval")


@pytest.mark.parametrize(
    ("seconds", "factor"),
    [
        (30, 1 + 1.4 * math.log(2) / math.log(10)),
        (120, 1 + 1.4 * math.log(2) / math.log(10)),
        (6, 2.4),
        (600, 2.4),
        (1, 2.4),
        (3600, 2.4),
    ],
)
def test_disk_writes_rise_as_the_interval_departs_from_60_s_up_to_2_4(
    seconds: float, factor: float
) -> None:
    result = run_scenario([*single_site(members=1), interval(seconds)])
    assert result.value("checkpoint.disk_write_factor") == pytest.approx(factor)
    found = result.assert_finding("checkpoint.interval", "system", severity="warning")
    assert f"{seconds:g} s" in found.finding.message


def test_a_small_departure_is_tolerated_and_returning_clears_the_warning() -> None:
    result = run_scenario([*single_site(members=1), interval(65), interval(10), interval(60)])
    assert 1.0 < result.value("checkpoint.disk_write_factor", at=-3) < 1.1
    result.assert_no_finding("checkpoint.interval", at=-3)
    result.assert_finding("checkpoint.interval", at=-2)
    result.assert_no_finding("checkpoint.interval")


def test_the_checkpoint_parameters_say_the_concept_is_doubted() -> None:
    result = run_scenario(single_site(members=1))
    for name in ("checkpoint.recommended_s", "checkpoint.max_extra_writes"):
        parameter = result.engine.profile[name]
        assert parameter.provenance == "seed"
        assert "Domain reference §0.1" in parameter.source
