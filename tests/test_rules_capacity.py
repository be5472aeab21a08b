"""Capacity family: model line 1, member states, dual site, the SMO master."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from twin.testing import dual_site, group_load, member_failure, run_scenario, single_site

CAP = 8_000_000


def one_member(hypersync: bool) -> list[tuple[str, dict[str, object]]]:
    """One member with a declared standalone capacity (no peers: no membership churn)."""
    events = single_site(members=1, hypersync=hypersync)
    for event_type, data in events:
        if event_type == "member_added":
            data["connections_capacity"] = CAP
    return events


def member_caps(result: object, *members: str, at: int = -1) -> float:
    """The sum of the members' capacity.connections_max."""
    return sum(
        result.value("capacity.connections_max", f"member:{m}", at=at)  # type: ignore[attr-defined]
        for m in members
    )


def test_hypersync_halves_a_members_connection_capacity() -> None:
    with_sync = run_scenario(one_member(hypersync=True))
    without = run_scenario(one_member(hypersync=False))
    assert without.value("capacity.connections_max", "member:1_01") == CAP
    assert with_sync.value("capacity.connections_max", "member:1_01") == 0.5 * CAP
    assert with_sync.value("capacity.connections_max") == 0.5 * without.value(
        "capacity.connections_max"
    )


def test_hypersync_factor_holds_for_a_whole_group_all_else_equal() -> None:
    on = run_scenario(single_site(members=4, hypersync=True))
    off = run_scenario(single_site(members=4, hypersync=False))
    for subject in ("system", "group:1", "member:1_01", "member:1_04"):
        ratio = on.value("capacity.connections_max", subject) / off.value(
            "capacity.connections_max", subject
        )
        assert ratio == pytest.approx(0.5, rel=1e-12)


def test_a_profile_file_changes_the_capacity_factor(tmp_path: Path) -> None:
    profile = tmp_path / "lab.toml"
    profile.write_text('[parameters]\n"hypersync.capacity_factor" = 0.6\n', encoding="utf-8")
    result = run_scenario(one_member(hypersync=True), profile=profile)
    assert result.value("capacity.connections_max", "member:1_01") == pytest.approx(0.6 * CAP)


def test_utilization_raises_high_then_exhausted_then_clears() -> None:
    events = one_member(hypersync=True)  # 4,000,000 usable
    events += group_load(connections=3_400_000)
    events += group_load(connections=4_200_000)
    events += group_load(connections=1_000_000)
    result = run_scenario(events)
    assert result.value("capacity.utilization", at=-3) == pytest.approx(0.85)
    high = result.assert_finding("capacity.high", "group:1", severity="warning", at=-3)
    assert "85%" in high.finding.message
    result.assert_no_finding("capacity.exhausted", at=-3)
    result.assert_finding("capacity.exhausted", "group:1", severity="error", at=-2)
    result.assert_no_finding("capacity.high", at=-2)
    # shrinking freed 3.2M entries: a little fragmentation, so slightly above 1M / 4M
    assert 0.25 < result.value("capacity.utilization") < 0.26
    result.assert_no_finding("capacity.high")
    result.assert_no_finding("capacity.exhausted")


def test_members_active_counts_up_members_and_admin_up_cannot_lift_a_fault() -> None:
    events = single_site(members=4, hypersync=False)
    events += member_failure("1_02")
    events += [("member_admin_changed", {"member": "1_02", "up": True})]
    result = run_scenario(events)
    assert result.value("members.total") == 4
    assert result.value("members.active", at=-3) == 4
    assert result.value("members.active") == 3
    assert result.value("members.active", "group:1") == 3
    assert result.value("capacity.connections_max", "member:1_02") == 0
    assert result.value("capacity.connections_max") == pytest.approx(
        member_caps(result, "1_01", "1_03", "1_04")
    )


def test_only_the_active_site_serves_and_site_failover_moves_the_load() -> None:
    events = dual_site(members_per_site=2, hypersync=False)
    events += group_load(connections=2_000_000)
    events += [("site_failover", {"site": 2})]
    result = run_scenario(events)
    before = -2
    assert result.value("load.connections", "member:1_01", at=before) == 1_000_000
    assert result.value("load.connections", "member:2_01", at=before) == 0
    assert result.value("capacity.connections_max", "member:2_01", at=before) > 0
    assert result.value("capacity.connections_max", at=before) == pytest.approx(
        member_caps(result, "1_01", "1_02", at=before)
    )
    assert result.value("capacity.connections_max") == pytest.approx(
        member_caps(result, "2_01", "2_02")
    )
    assert result.value("load.connections", "member:1_01") == 0
    assert result.value("load.connections", "member:2_01") == 1_000_000


def test_a_group_with_load_and_no_serving_member_is_exhausted() -> None:
    events = single_site(members=2)
    events += group_load(connections=1_000_000)
    events += member_failure("1_01") + member_failure("1_02")
    result = run_scenario(events)
    assert result.value("capacity.connections_max", "group:1") == 0
    assert math.isinf(result.value("capacity.utilization", "group:1"))
    result.assert_finding("capacity.exhausted", "group:1", severity="error")


def test_smo_master_moves_to_the_lowest_up_member_and_back() -> None:
    events = single_site(members=3)
    events += member_failure("1_01")
    events += [("member_recovered", {"member": "1_01"})]
    result = run_scenario(events)
    result.assert_no_finding("capacity.smo-moved", at=-3)
    moved = result.assert_finding("capacity.smo-moved", "group:1", severity="info", at=-2)
    assert "1_02" in moved.finding.message
    result.assert_no_finding("capacity.smo-moved")
