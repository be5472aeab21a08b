"""Versions family: model line 10 (mixed versions while an upgrade is not unified)."""

from __future__ import annotations

from twin.testing import rolling_upgrade, run_scenario, single_site


def test_a_group_is_mixed_from_the_first_upgraded_member_until_the_last() -> None:
    events = single_site(members=3) + rolling_upgrade(["1_01", "1_02", "1_03"], "R82")
    result = run_scenario(events)
    start = len(single_site(members=3))  # step index of the first upgrade_started
    assert result.value("versions.count", "group:1", at=start - 1) == 1
    result.assert_no_finding("versions.mixed", at=start)  # 1_01 UPGRADING runs nothing
    mixed = result.assert_finding("versions.mixed", "group:1", severity="error", at=start + 1)
    assert "R81.20 ×2, R82 ×1" in mixed.finding.message
    assert "stateful failover at risk" in mixed.finding.message
    assert result.value("versions.count", "group:1", at=start + 1) == 2
    result.assert_finding("versions.mixed", "group:1", at=-3)  # R82 ×2, R81.20 ×1
    result.assert_no_finding("versions.mixed", at=-2)  # the last one is UPGRADING
    result.assert_no_finding("versions.mixed")
    assert result.value("versions.count", "group:1") == 1


def test_rolling_back_the_only_upgraded_member_unifies_the_group() -> None:
    events = single_site(members=2) + rolling_upgrade(["1_01"], "R82")
    events += [("upgrade_rolled_back", {"member": "1_01"})]
    result = run_scenario(events)
    result.assert_finding("versions.mixed", "group:1", at=-2)
    result.assert_no_finding("versions.mixed")


def test_a_down_member_on_another_version_does_not_mix_the_group() -> None:
    events = single_site(members=2)
    events += [("member_added", {"member": "1_03", "group": 1, "site": 1, "version": "R82"})]
    events += [("member_failed", {"member": "1_03"})]
    result = run_scenario(events)
    result.assert_finding("versions.mixed", "group:1", at=-2)
    result.assert_no_finding("versions.mixed")
