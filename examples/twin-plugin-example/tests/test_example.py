"""Scenario tests for example.thin-site, written with the twin.testing kit."""

from __future__ import annotations

import twin_plugin_example

from twin.testing import (
    assert_plugin_ok,
    dual_site,
    member_failure,
    member_recovery,
    rolling_upgrade,
    run_scenario,
    single_site,
)

RULE = "example.thin-site"


def test_the_plugin_keeps_the_plugin_contract() -> None:
    assert_plugin_ok(twin_plugin_example, name="example")


def test_no_warning_while_every_site_keeps_two_up_members() -> None:
    result = run_scenario(dual_site(members_per_site=2), plugins=[twin_plugin_example])
    result.assert_no_finding(RULE)
    assert result.value("example.site_up_min", "group:1") == 2


def test_a_failure_thins_a_site_and_the_recovery_clears_it() -> None:
    events = dual_site(members_per_site=2) + member_failure("2_01") + member_recovery("2_01")
    result = run_scenario(events, plugins=[twin_plugin_example])
    found = result.assert_finding(RULE, "group:1", severity="warning", at=-2)
    assert "site 2: 1 UP" in found.finding.message
    assert result.value("example.site_up_min", "group:1", at=-2) == 1
    result.assert_no_finding(RULE)


def test_an_upgrade_takes_a_member_out_of_service_for_a_while() -> None:
    events = single_site(members=2) + rolling_upgrade(["1_01"], "R82")
    result = run_scenario(events, plugins=[twin_plugin_example])
    result.assert_finding(RULE, "group:1", at=-2)  # 1_01 is UPGRADING
    result.assert_no_finding(RULE)


def test_the_minimum_is_a_parameter() -> None:
    result = run_scenario(
        dual_site(members_per_site=2),
        plugins=[twin_plugin_example],
        parameters={"example.min_up_per_site": 3},
    )
    found = result.assert_finding(RULE, "group:1")
    assert "site 1: 2 UP, site 2: 2 UP" in found.finding.message
