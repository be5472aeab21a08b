"""twin.model-drift and twin.model_error: observations held against the model's band."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import run_twin
from twin.observed import relative_error
from twin.testing import group_load, run_scenario, single_site


def observe(subject: str, metric: str, value: float, source: str | None = None) -> Any:
    data: dict[str, Any] = {"subject": subject, "metric": metric, "value": value}
    if source:
        data["source"] = source
    return ("metric_observed", data)


# Three equal members, 3,000,000 connections: the model puts 1,000,000 on each.
BASE = single_site(members=3) + group_load(connections=3_000_000, cps=30_000, cpu_pct=40)


@pytest.mark.parametrize(
    ("observed", "predicted", "error"),
    [(100.0, 80.0, 0.2), (80.0, 100.0, 0.25), (0.0, 5.0, 1.0), (0.0, 0.0, 0.0), (-2.0, 2.0, 2.0)],
)
def test_relative_error_is_measured_against_the_observation(
    observed: float, predicted: float, error: float
) -> None:
    assert relative_error(observed, predicted) == pytest.approx(error)


def test_an_observation_inside_the_band_has_an_error_and_no_finding() -> None:
    result = run_scenario([*BASE, observe("member:1_02", "load.connections", 1_050_000)])
    where = "observed:load.connections@member:1_02"
    assert result.value("twin.model_error", where) == pytest.approx(50_000 / 1_050_000)
    result.assert_no_finding("twin.model-drift")


def test_an_observation_outside_the_band_warns_with_both_numbers_until_seen_again() -> None:
    events = [*BASE, observe("member:1_02", "load.connections", 1_400_000, "fw tab -s")]
    events += [observe("member:1_02", "load.connections", 980_000)]
    result = run_scenario(events)
    where = "observed:load.connections@member:1_02"
    found = result.assert_finding("twin.model-drift", where, severity="warning", at=-2)
    message = found.finding.message
    assert "observed load.connections 1.4e+06" in message
    assert "outside the model's 1e+06" in message and "seen in fw tab -s" in message
    assert result.value("twin.model_error", where, at=-2) == pytest.approx(400_000 / 1_400_000)
    result.assert_no_finding("twin.model-drift")  # the next observation is within 10%


def test_the_band_is_widened_by_the_tolerance_only() -> None:
    # sync.growth_per_member gives sync.traffic_gbps a band; observe just inside and outside it.
    first = run_scenario(BASE)
    band = first.metric("sync.traffic_gbps")
    inside = band.high * 1.09
    outside = band.high * 1.11
    result = run_scenario(
        [
            *BASE,
            observe("system", "sync.traffic_gbps", inside),
            observe("system", "sync.traffic_gbps", outside),
        ]
    )
    result.assert_no_finding("twin.model-drift", at=-2)
    result.assert_finding("twin.model-drift", "observed:sync.traffic_gbps@system")


def test_a_metric_the_model_does_not_compute_is_kept_and_not_judged() -> None:
    result = run_scenario([*BASE, observe("member:1_01", "cluster.failover_count", 3)])
    result.assert_no_finding("twin.model-drift")
    assert "observed:cluster.failover_count@member:1_01" not in result.steps[-1].metrics
    assert result.engine.state.observed["member:1_01"]["cluster.failover_count"]["value"] == 3.0


def test_state_shows_observed_beside_predicted(tmp_path: Path) -> None:
    lines = [
        '{"ts": "2026-03-03T02:00:00Z", "type": "site_added", "site": 1}',
        '{"type": "group_created", "group": 1}',
        '{"type": "member_added", "member": "1_01", "group": 1, "site": 1}',
        '{"type": "member_added", "member": "1_02", "group": 1, "site": 1}',
        '{"type": "load_changed", "group": 1, "connections": 200000}',
        '{"ts": "2026-03-03T02:05:00Z", "type": "metric_observed", "subject": "member:1_01",'
        ' "metric": "load.connections", "value": 79242, "source": "fw ctl pstat"}',
    ]
    events = tmp_path / "observed.jsonl"
    events.write_text("\n".join(lines) + "\n")
    data = json.loads(run_twin("state", events, "--format", "json").out)
    row = data["observed"][0]
    assert row["subject"] == "member:1_01" and row["metric"] == "load.connections"
    assert row["observed"] == 79242.0 and row["source"] == "fw ctl pstat" and row["seq"] == 6
    assert row["predicted"]["value"] == 100_000.0
    assert row["error_then"] == pytest.approx(20_758 / 79_242)
    table = run_twin("state", events).out
    row_line = next(line for line in table.splitlines() if "member:1_01" in line and "load" in line)
    assert "79,242" in row_line and "100,000" in row_line and "26%" in row_line
    assert "observed beside predicted" in table
    assert "twin.model-drift" in table
