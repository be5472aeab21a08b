"""Weights family: model line 12 (load spread by weight, by cores by default)."""

from __future__ import annotations

import pytest

from twin.testing import group_load, run_scenario, single_site


def members(*specs: dict[str, object]) -> list[tuple[str, dict[str, object]]]:
    events = single_site(members=0)
    for n, spec in enumerate(specs, start=1):
        events.append(("member_added", {"member": f"1_{n:02d}", "group": 1, "site": 1, **spec}))
    return events


def shares(result: object, count: int, name: str = "load.connections") -> list[float]:
    return [result.value(name, f"member:1_{n:02d}") for n in range(1, count + 1)]  # type: ignore[attr-defined]


def test_default_weights_spread_load_by_cpu_cores() -> None:
    events = members({"cores": 16}, {"cores": 16}, {"cores": 32})
    events += group_load(connections=4_000_000, cps=100_000)
    result = run_scenario(events)
    assert shares(result, 3) == pytest.approx([1_000_000, 1_000_000, 2_000_000])
    assert shares(result, 3, "load.cps") == pytest.approx([25_000, 25_000, 50_000])
    assert result.value("load.connections", "group:1") == pytest.approx(4_000_000)


def test_weights_spread_load_in_their_ratio() -> None:
    events = members({}, {}, {}) + group_load(connections=10_000_000)
    events += [("weight_changed", {"member": "1_01", "weight": 8})]
    events += [("weight_changed", {"member": "1_02", "weight": 1})]
    events += [("weight_changed", {"member": "1_03", "weight": 1})]
    result = run_scenario(events)
    assert shares(result, 3) == pytest.approx([8_000_000, 1_000_000, 1_000_000])


def test_a_member_of_weight_zero_gets_no_load() -> None:
    events = members({"weight": 0}, {}, {}) + group_load(connections=3_000_000, cpu_pct=60)
    result = run_scenario(events)
    assert shares(result, 3) == pytest.approx([0, 1_500_000, 1_500_000])
    assert result.value("load.cpu_pct", "member:1_01") == 0


def test_cpu_is_carried_as_work_when_a_member_leaves_service() -> None:
    events = members({}, {}, {}, {}) + group_load(cpu_pct=60)
    events += [("member_failed", {"member": "1_04"})]
    result = run_scenario(events)
    assert result.value("load.cpu_pct", "member:1_01", at=-2) == pytest.approx(60)
    assert result.value("load.cpu_pct", "member:1_01") == pytest.approx(80)


def test_a_weight_that_sends_more_load_than_capacity_is_an_imbalance() -> None:
    events = members(
        {"connections_capacity": 8_000_000},
        {"connections_capacity": 8_000_000},
        {"connections_capacity": 4_000_000},
    )
    events += [("weight_changed", {"member": "1_03", "weight": 8})]
    result = run_scenario(events)
    found = result.assert_finding("weights.imbalance", "member:1_03", severity="warning", at=-2)
    assert "33% of group 1's load with 20% of its capacity" in found.finding.message
    result.assert_no_finding("weights.imbalance", "member:1_01", at=-2)
    result.assert_no_finding("weights.imbalance")


def test_members_without_declared_capacity_are_not_judged() -> None:
    events = members({"cores": 8}, {"cores": 32})
    result = run_scenario(events)
    result.assert_no_finding("weights.imbalance")
