"""Convergence family: model lines 8 (sub-second up to 52 members) and 9 (CPU > 80%)."""

from __future__ import annotations

from twin.testing import group_load, member_failure, member_load, run_scenario, single_site


def test_failover_converges_in_300_ms_normally() -> None:
    result = run_scenario(single_site(members=4) + group_load(cpu_pct=50))
    failover = result.metric("convergence.failover_s")
    assert (failover.low, failover.value, failover.high) == (0.3, 0.3, 0.3)


def test_cpu_above_80_percent_degrades_failover_to_7_to_9_s_until_it_drops() -> None:
    events = single_site(members=4) + group_load(cpu_pct=85) + group_load(cpu_pct=50)
    result = run_scenario(events)
    slow = result.metric("convergence.failover_s", at=-2)
    assert (slow.low, slow.value, slow.high) == (7.0, 8.0, 9.0)
    assert result.metric("convergence.failover_s", "group:1", at=-2).value == 8.0
    found = result.assert_finding(
        "convergence.cpu-overload", "member:1_03", severity="error", at=-2
    )
    assert found.finding.message == "CPU 85% > 80%: failover converges in 7-9 s"
    assert len(result.findings_for("convergence.cpu-overload", at=-2)) == 4
    assert result.value("convergence.failover_s") == 0.3
    result.assert_no_finding("convergence.cpu-overload")


def test_one_hot_member_is_enough_and_exactly_80_percent_is_not_above() -> None:
    events = single_site(members=3) + group_load(cpu_pct=40)
    events += member_load("1_02", cpu_pct=80) + member_load("1_02", cpu_pct=81)
    result = run_scenario(events)
    assert result.value("convergence.failover_s", at=-2) == 0.3
    assert result.value("convergence.failover_s") == 8.0
    result.assert_finding("convergence.cpu-overload", "member:1_02")
    result.assert_no_finding("convergence.cpu-overload", "member:1_01")


def test_an_overloaded_member_that_fails_no_longer_slows_failover() -> None:
    events = single_site(members=3) + member_load("1_02", cpu_pct=95)
    events += member_failure("1_02")
    result = run_scenario(events)
    result.assert_finding("convergence.cpu-overload", "member:1_02", at=-2)
    result.assert_no_finding("convergence.cpu-overload")
    assert result.value("convergence.failover_s") == 0.3


def test_more_than_52_members_is_too_many_for_sub_second_failover() -> None:
    events = single_site(members=52, orchestrators=1)
    events += [("member_added", {"member": "1_53", "group": 1, "site": 1})]
    events += [("member_removed", {"member": "1_53"})]
    result = run_scenario(events)
    result.assert_no_finding("convergence.too-many-members", at=-3)
    found = result.assert_finding(
        "convergence.too-many-members", "group:1", severity="error", at=-2
    )
    assert "53 members > 52" in found.finding.message
    result.assert_no_finding("convergence.too-many-members")
