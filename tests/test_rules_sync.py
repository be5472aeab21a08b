"""Sync family: model lines 3 (growth per member), 4 (dedicated network), 15 (links)."""

from __future__ import annotations

import math

import pytest

from twin.testing import group_load, orchestrator_id, run_scenario, single_site

LOAD = group_load(connections=4_000_000, cps=150_000)


def test_adding_a_member_multiplies_sync_traffic_by_1_08_to_1_12() -> None:
    events = single_site(members=4) + LOAD
    events += [("member_added", {"member": "1_05", "group": 1, "site": 1})]
    result = run_scenario(events)
    before = result.metric("sync.traffic_gbps", at=-2)
    after = result.metric("sync.traffic_gbps")
    assert after.value / before.value == pytest.approx(1.10, rel=1e-9)
    assert after.low / before.low == pytest.approx(1.08, rel=1e-9)
    assert after.high / before.high == pytest.approx(1.12, rel=1e-9)
    assert before.low < before.value < before.high


def test_sync_traffic_grows_with_the_connection_rate() -> None:
    events = single_site(members=1) + group_load(cps=100_000) + group_load(cps=200_000)
    result = run_scenario(events)
    # one member, 100k new connections/s x 300 B x 8 bit = 0.24 Gbps
    assert result.value("sync.traffic_gbps", at=-2) == pytest.approx(0.24)
    assert result.value("sync.traffic_gbps") == pytest.approx(0.48)


def test_groups_without_hypersync_send_no_sync_traffic() -> None:
    result = run_scenario(single_site(members=4, hypersync=False) + LOAD)
    assert result.value("sync.traffic_gbps") == 0
    assert result.value("sync.utilization") == 0


def test_sync_utilization_compares_traffic_with_the_sync_links() -> None:
    events = single_site(members=4, sync_links=2, sync_gbps=10.0) + LOAD
    result = run_scenario(events)
    utilization = result.metric("sync.utilization")
    traffic = result.metric("sync.traffic_gbps")
    assert result.value("sync.capacity_gbps") == 20.0
    assert utilization.value == pytest.approx(traffic.value / 20.0)
    assert utilization.high == pytest.approx(traffic.high / 20.0)


def test_sync_high_and_saturated() -> None:
    events = single_site(members=4, sync_gbps=1.0)
    events += group_load(cps=300_000)  # 0.72 Gbps x 1.1^3 = 0.958 of 1 Gbps
    events += group_load(cps=400_000)
    events += group_load(cps=10_000)
    result = run_scenario(events)
    assert result.value("sync.utilization", at=-3) == pytest.approx(0.72 * 1.1**3)
    result.assert_finding("sync.high", "system", severity="warning", at=-3)
    result.assert_finding("sync.saturated", "system", severity="error", at=-2)
    result.assert_no_finding("sync.high", at=-2)
    result.assert_no_finding("sync.saturated")
    result.assert_no_finding("sync.high")


def test_a_large_group_on_a_shared_or_slow_sync_link_is_flagged() -> None:
    events = single_site(members=9, sync_links=0)
    events += [
        (
            "link_added",
            {
                "link": "good",
                "a": orchestrator_id(1, 1),
                "b": "site:1",
                "kind": "sync",
                "gbps": 10,
                "dedicated": True,
                "jumbo": True,
            },
        ),
        (
            "link_added",
            {
                "link": "shared",
                "a": orchestrator_id(1, 2),
                "b": "site:1",
                "kind": "sync",
                "gbps": 10,
                "dedicated": False,
                "jumbo": True,
            },
        ),
        (
            "link_added",
            {
                "link": "slow",
                "a": "1_01",
                "b": orchestrator_id(1, 1),
                "kind": "sync",
                "gbps": 1,
                "dedicated": True,
                "jumbo": True,
            },
        ),
    ]
    result = run_scenario(events)
    result.assert_no_finding("sync.not-dedicated", "link:good")
    shared = result.assert_finding("sync.not-dedicated", "link:shared", severity="warning")
    assert "shared" in shared.finding.message
    slow = result.assert_finding("sync.not-dedicated", "link:slow")
    assert "1 Gbps < 10 Gbps" in slow.finding.message


def test_a_small_group_may_share_its_sync_link_but_jumbo_frames_are_always_needed() -> None:
    events = single_site(members=4, sync_links=0)
    events += [
        (
            "link_added",
            {
                "link": "shared",
                "a": orchestrator_id(1, 1),
                "b": "site:1",
                "kind": "sync",
                "gbps": 1,
                "dedicated": False,
                "jumbo": True,
            },
        ),
        (
            "link_added",
            {"link": "plain", "a": orchestrator_id(1, 2), "b": "site:1", "kind": "sync"},
        ),
    ]
    result = run_scenario(events)
    result.assert_no_finding("sync.not-dedicated", "link:shared")
    plain = result.assert_finding("sync.not-dedicated", "link:plain")
    assert "no jumbo frames" in plain.finding.message


def test_a_failed_sync_link_or_orchestrator_takes_sync_capacity_away() -> None:
    events = single_site(members=4, sync_links=2, orchestrators=2) + LOAD
    events += [("link_failed", {"link": "sync-1-1"})]
    events += [("orchestrator_failed", {"orchestrator": orchestrator_id(1, 2)})]
    events += [("link_restored", {"link": "sync-1-1"})]
    events += [("orchestrator_recovered", {"orchestrator": orchestrator_id(1, 2)})]
    result = run_scenario(events)
    assert result.value("sync.capacity_gbps", at=-5) == 20
    assert result.value("sync.capacity_gbps", at=-4) == 10
    down = result.assert_finding("sync.link-down", "link:sync-1-1", severity="error", at=-4)
    assert "10 of 20 Gbps" in down.finding.message
    assert result.value("sync.utilization", at=-4) == pytest.approx(
        2 * result.value("sync.utilization", at=-5)
    )
    # both paths gone: no sync path, failover is not stateful
    assert result.value("sync.capacity_gbps", at=-3) == 0
    assert math.isinf(result.value("sync.utilization", at=-3))
    lost = result.assert_finding("sync.link-down", "link:sync-1-2", at=-3)
    assert "failover is not stateful" in lost.finding.message
    result.assert_finding("sync.saturated", "system", at=-3)
    assert result.value("sync.capacity_gbps", at=-2) == 10
    result.assert_no_finding("sync.link-down", "link:sync-1-1", at=-2)
    result.assert_no_finding("sync.link-down")
    assert result.value("sync.capacity_gbps") == 20


def test_without_declared_sync_links_the_recommended_network_is_assumed() -> None:
    result = run_scenario(single_site(members=2, sync_links=0) + LOAD)
    assert result.value("sync.capacity_gbps") == 10
    result.assert_no_finding("sync.link-down")
