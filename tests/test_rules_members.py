"""Members family: a member out of service is a finding until it is back."""

from __future__ import annotations

from twin.testing import group_load, run_scenario, single_site

CAUSE = "pnote:Interface Active Check"


def test_a_faulted_member_is_an_error_with_its_cause_until_it_recovers() -> None:
    events = single_site(members=3) + group_load(connections=900_000, cps=30_000, cpu_pct=40)
    events += [
        ("member_failed", {"member": "1_02", "cause": CAUSE}),
        ("load_changed", {"group": 1, "cpu_pct": 55}),
        ("member_recovered", {"member": "1_02"}),
    ]
    result = run_scenario(events)
    failed_at = len(events) - 3
    result.assert_no_finding("members.down", at=failed_at - 1)
    down = result.assert_finding("members.down", "member:1_02", severity="error", at=failed_at)
    assert CAUSE in down.finding.message
    assert down.finding.evidence["cause"] == CAUSE
    still = result.assert_finding("members.down", "member:1_02", at=failed_at + 1)
    assert still.since == down.since  # the load sample does not restart it
    result.assert_no_finding("members.down")


def test_admin_up_cannot_lift_a_fault_so_the_error_stays() -> None:
    events = single_site(members=3)
    events += [
        ("member_failed", {"member": "1_03"}),
        ("member_admin_changed", {"member": "1_03", "up": False}),
        ("member_admin_changed", {"member": "1_03", "up": True}),
    ]
    result = run_scenario(events)
    first = result.assert_finding("members.down", "member:1_03", at=-3)
    assert "no cause recorded" in first.finding.message
    for at in (-2, -1):
        again = result.assert_finding("members.down", "member:1_03", severity="error", at=at)
        assert again.since == first.since
        result.assert_no_finding("members.down-admin", at=at)


def test_an_operator_taking_a_member_down_is_info_until_it_is_back_up() -> None:
    events = single_site(members=3)
    events += [
        ("member_admin_changed", {"member": "1_01", "up": False}),
        ("member_admin_changed", {"member": "1_01", "up": True}),
    ]
    result = run_scenario(events)
    result.assert_finding("members.down-admin", "member:1_01", severity="info", at=-2)
    result.assert_no_finding("members.down", at=-2)
    result.assert_no_finding("members.down-admin")


def test_upgrading_and_removed_members_raise_nothing() -> None:
    events = single_site(members=3)
    events += [
        ("upgrade_started", {"member": "1_01", "to_version": "R82"}),
        ("member_failed", {"member": "1_02"}),
        ("member_removed", {"member": "1_02"}),
    ]
    result = run_scenario(events)
    result.assert_no_finding("members.down", at=-3)
    result.assert_finding("members.down", "member:1_02", at=-2)
    result.assert_no_finding("members.down")
