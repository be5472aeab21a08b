"""Throughput family: model line 7 (near-linear growth with a per-member overhead)."""

from __future__ import annotations

import pytest

from twin.testing import group_load, member_failure, run_scenario, single_site

FLOOD = group_load(throughput_gbps=10_000)  # far more than any group can deliver


def deliverable(members: int) -> float:
    return run_scenario(single_site(members=members) + FLOOD).value("throughput.gbps")


def test_n_members_deliver_a_bit_less_than_n_times_one_member() -> None:
    one = deliverable(1)
    assert one == 20.0
    for n in (2, 4, 8):
        total = deliverable(n)
        assert total == pytest.approx(n * one * 0.99 ** (n - 1))
        assert 0.9 * n * one < total < n * one
    assert deliverable(8) > deliverable(4) > deliverable(2) > one


def test_offered_throughput_below_capacity_is_delivered_in_full() -> None:
    result = run_scenario(single_site(members=4) + group_load(throughput_gbps=40))
    assert result.value("throughput.gbps") == pytest.approx(40)
    assert result.value("throughput.gbps", "member:1_02") == pytest.approx(10)
    assert result.value("throughput.capacity_gbps") == pytest.approx(4 * 20 * 0.99**3)


def test_a_failed_member_delivers_nothing_and_the_others_take_its_share() -> None:
    events = single_site(members=4) + group_load(throughput_gbps=60) + member_failure("1_04")
    result = run_scenario(events)
    assert result.value("throughput.gbps", "member:1_04") == 0
    assert result.value("throughput.gbps", "member:1_01") == pytest.approx(20 * 0.99**2)
    assert result.value("throughput.gbps") == pytest.approx(3 * 20 * 0.99**2)


def test_a_member_declares_its_own_throughput() -> None:
    events = single_site(members=1)
    for event_type, data in events:
        if event_type == "member_added":
            data["throughput_gbps"] = 45.0
    result = run_scenario(events + FLOOD)
    assert result.value("throughput.gbps", "member:1_01") == 45.0
