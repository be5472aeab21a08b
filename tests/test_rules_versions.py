"""Versions family: model line 10 (mixed versions while an upgrade is not unified)."""

from __future__ import annotations

from twin.testing import dual_site, rolling_upgrade, run_scenario, single_site


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


# -- MVC guidance: upgrade in groups A/B; mixed versions only inside the window --------------------


def test_upgrading_one_site_member_by_member_is_grouped() -> None:
    events = single_site(members=4) + rolling_upgrade(["1_01", "1_02", "1_03", "1_04"], "R82")
    result = run_scenario(events)
    for at in range(len(single_site(members=4)), len(events)):
        result.assert_no_finding("versions.upgrade-not-grouped", at=at)
        result.assert_no_finding("versions.mixed-outside-window", at=at)


def test_upgrading_more_than_half_of_a_group_at_once_is_not_grouped() -> None:
    events = single_site(members=4)
    events += [("upgrade_started", {"member": m, "to_version": "R82"}) for m in ("1_01", "1_02")]
    events += [("upgrade_started", {"member": "1_03", "to_version": "R82"})]
    result = run_scenario(events)
    result.assert_no_finding("versions.upgrade-not-grouped", at=-2)  # 2 of 4: group A
    found = result.assert_finding("versions.upgrade-not-grouped", "group:1", severity="warning")
    assert "3 of 4 members are upgrading at once" in found.finding.message
    assert result.value("versions.upgrading", "group:1") == 3


def test_upgrading_both_sites_at_once_is_not_grouped() -> None:
    events = dual_site(members_per_site=3)
    events += [("upgrade_started", {"member": "2_01", "to_version": "R82"})]
    events += [("upgrade_started", {"member": "1_01", "to_version": "R82"})]
    events += [("upgrade_finished", {"member": "2_01", "version": "R82"})]
    result = run_scenario(events)
    result.assert_no_finding("versions.upgrade-not-grouped", at=-3)
    found = result.assert_finding("versions.upgrade-not-grouped", "group:1", at=-2)
    assert "sites 1 and 2 are upgrading at once" in found.finding.message
    result.assert_no_finding("versions.upgrade-not-grouped")  # 2_01 is done


def test_a_member_joining_on_another_version_is_mixed_outside_the_window() -> None:
    events = single_site(members=3)
    events += [("member_added", {"member": "1_04", "group": 1, "site": 1, "version": "R82"})]
    result = run_scenario(events)
    found = result.assert_finding("versions.mixed-outside-window", "group:1", severity="error")
    assert "R81.20 ×3, R82 ×1" in found.finding.message
    assert "1_04 (R82) did not get there by an upgrade" in found.finding.message


def test_an_upgrade_and_its_rollback_stay_inside_the_window() -> None:
    members = ["1_01", "1_02", "1_03"]
    events = single_site(members=3) + rolling_upgrade(members[:2], "R82")
    events += [("upgrade_rolled_back", {"member": "1_01"})]
    result = run_scenario(events)
    for at in range(len(single_site(members=3)), len(events)):
        result.assert_no_finding("versions.mixed-outside-window", at=at)
    result.assert_finding("versions.mixed", "group:1")  # still mixed: 1_02 on R82


def test_a_second_upgrade_after_a_finished_one_is_inside_the_window() -> None:
    members = ["1_01", "1_02"]
    events = single_site(members=2) + rolling_upgrade(members, "R82")
    events += rolling_upgrade(["1_01"], "R82.10")
    result = run_scenario(events)
    result.assert_finding("versions.mixed", "group:1")
    result.assert_no_finding("versions.mixed-outside-window")


def test_three_versions_at_once_are_outside_the_window() -> None:
    events = single_site(members=3) + rolling_upgrade(["1_01"], "R82")
    events += [("member_added", {"member": "1_04", "group": 1, "site": 1, "version": "R81.10"})]
    result = run_scenario(events)
    found = result.assert_finding("versions.mixed-outside-window", "group:1")
    assert "more than two versions" in found.finding.message
