"""Memory family: model lines 5 (headroom), 6 (VS limit), 13 (fragmentation), 14 (upgrades)."""

from __future__ import annotations

import itertools

import pytest

from twin.testing import group_load, member_failure, member_recovery, run_scenario, single_site


def one_member(**fields: object) -> list[tuple[str, dict[str, object]]]:
    events = single_site(members=1)
    for event_type, data in events:
        if event_type == "member_added":
            data.update(fields)
    return events


def test_hypersync_needs_20_percent_headroom_beyond_the_tables_plus_vs_memory() -> None:
    events = one_member() + group_load(connections=5_000_000)
    events += [("vs_created", {"vs": "vs-1", "member": "1_01", "memory_gb": 4})]
    result = run_scenario(events)
    # 5M connections x 1 kB x 2 (own + backup entries) = 10 GB of tables
    assert result.value("memory.table_gb", "member:1_01") == pytest.approx(10.0)
    assert result.value("memory.required_gb", "member:1_01") == pytest.approx(10.0 * 1.2 + 4)
    assert result.value("memory.physical_gb", "member:1_01") == 64


def test_without_hypersync_there_is_no_backup_copy_and_no_headroom() -> None:
    events = one_member() + group_load(connections=5_000_000)
    events += [("hypersync_changed", {"group": 1, "enabled": False})]
    result = run_scenario(events)
    assert result.value("memory.table_gb", "member:1_01") == pytest.approx(5.0)
    assert result.value("memory.required_gb", "member:1_01") == pytest.approx(5.0)


def test_physical_memory_below_required_is_a_headroom_error() -> None:
    events = one_member(memory_gb=16) + group_load(connections=5_000_000)  # needs 12 GB
    events += group_load(connections=7_000_000)  # needs 16.8 GB
    events += group_load(connections=6_000_000)  # needs 14.4 GB
    result = run_scenario(events)
    result.assert_no_finding("memory.headroom", at=-3)
    found = result.assert_finding("memory.headroom", "member:1_01", severity="error", at=-2)
    assert "16.8 GB" in found.finding.message
    result.assert_no_finding("memory.headroom")


def test_virtual_systems_may_use_at_most_80_percent_of_physical_memory() -> None:
    events = one_member(memory_gb=64)
    events += [("vs_created", {"vs": "a", "member": "1_01", "memory_gb": 50})]  # 78%
    events += [("vs_created", {"vs": "b", "member": "1_01", "memory_gb": 2})]  # 81%
    events += [("vs_removed", {"vs": "b"})]
    result = run_scenario(events)
    result.assert_no_finding("memory.vs-over-limit", at=-3)
    over = result.assert_finding("memory.vs-over-limit", "member:1_01", severity="error", at=-2)
    assert "81% > 80%" in over.finding.message
    result.assert_no_finding("memory.vs-over-limit")


def vs_churn(member: str, times: int) -> list[tuple[str, dict[str, object]]]:
    events: list[tuple[str, dict[str, object]]] = []
    for n in range(times):
        events.append(("vs_created", {"vs": f"t{n}", "member": member, "memory_gb": 1}))
        events.append(("vs_removed", {"vs": f"t{n}"}))
    return events


def test_fragmentation_rises_with_churn_lowers_capacity_and_a_restart_clears_it() -> None:
    events = single_site(members=1) + vs_churn("1_01", 3)
    events += member_failure("1_01") + member_recovery("1_01")
    result = run_scenario(events)
    frag = [result.value("memory.fragmentation", "member:1_01", at=i) for i in range(-9, -2)]
    assert frag[0] == 0
    assert all(a < b for a, b in itertools.pairwise(frag))
    capacity = result.value("capacity.connections_max", "member:1_01", at=-3)
    assert capacity == pytest.approx(10_000_000 * 0.5 * (1 - frag[-1]))
    assert result.value("memory.fragmentation", "member:1_01") == 0
    assert result.value("memory.fragmentation") == 0
    assert result.value("capacity.connections_max", "member:1_01") == 5_000_000


def test_load_swings_fragment_memory_but_growing_the_table_does_not() -> None:
    events = single_site(members=1) + group_load(connections=20_000_000)
    events += group_load(connections=0) + group_load(connections=20_000_000)
    result = run_scenario(events)
    assert result.value("memory.fragmentation", "member:1_01", at=-3) == 0
    assert result.value("memory.fragmentation", "member:1_01", at=-2) > 0
    assert result.value("memory.fragmentation", "member:1_01") == result.value(
        "memory.fragmentation", "member:1_01", at=-2
    )


def test_an_upgrade_clears_fragmentation_and_the_warning() -> None:
    events = single_site(members=2) + vs_churn("1_01", 6)
    events += [("upgrade_started", {"member": "1_01", "to_version": "R82"})]
    events += [("upgrade_finished", {"member": "1_01", "version": "R82"})]
    result = run_scenario(events)
    assert result.value("memory.fragmentation", "member:1_01", at=-3) > 0.1
    assert result.value("memory.fragmentation", at=-3) > 0.1
    warning = result.assert_finding("memory.fragmented", "group:1", severity="warning", at=-3)
    assert "1_01" in warning.finding.message
    assert result.value("memory.fragmentation", "member:1_01") == 0
    result.assert_no_finding("memory.fragmented")


def test_members_joining_and_leaving_fragment_their_peers() -> None:
    events = single_site(members=1)
    events += [("member_added", {"member": "1_02", "group": 1, "site": 1})]
    events += [("member_removed", {"member": "1_02"})]
    result = run_scenario(events)
    frag = [result.value("memory.fragmentation", "member:1_01", at=i) for i in (-3, -2, -1)]
    assert frag[0] < frag[1] < frag[2]


def test_combined_services_on_default_memory_need_an_upgrade() -> None:
    blades = ["fw", "ips", "appi", "urlf", "ab"]
    events = one_member(blades=blades)
    events += [
        (
            "member_added",
            {"member": "1_02", "group": 1, "site": 1, "blades": blades, "memory_gb": 128},
        ),
        ("member_added", {"member": "1_03", "group": 1, "site": 1, "blades": blades[:3]}),
    ]
    result = run_scenario(events)
    found = result.assert_finding("memory.upgrade-needed", "member:1_01", severity="warning")
    assert "5 blades on 64 GB" in found.finding.message
    result.assert_no_finding("memory.upgrade-needed", "member:1_02")
    result.assert_no_finding("memory.upgrade-needed", "member:1_03")
