"""Latency family: model line 2 (setup latency, and the CPU that setup costs)."""

from __future__ import annotations

import pytest

from twin.testing import group_load, run_scenario, single_site


def test_setup_latency_is_3us_with_hypersync_and_1_2us_standalone() -> None:
    on = run_scenario(single_site(members=2, hypersync=True))
    off = run_scenario(single_site(members=2, hypersync=False))
    assert on.value("latency.setup_us") == 3.0
    assert on.value("latency.setup_us", "group:1") == 3.0
    assert off.value("latency.setup_us") == 1.2


def test_turning_hypersync_off_lowers_setup_latency() -> None:
    events = [*single_site(members=2), ("hypersync_changed", {"group": 1, "enabled": False})]
    result = run_scenario(events)
    assert result.value("latency.setup_us", at=-2) == 3.0
    assert result.value("latency.setup_us") == 1.2


def test_mixed_groups_weight_latency_by_connection_rate_with_a_band() -> None:
    events = single_site(members=2, group=1, hypersync=True)
    events += [("group_created", {"group": 2, "hypersync": False})]
    events += [("member_added", {"member": f"1_{n:02d}", "group": 2, "site": 1}) for n in (3, 4)]
    events += group_load(cps=100_000, group=1) + group_load(cps=300_000, group=2)
    result = run_scenario(events)
    setup = result.metric("latency.setup_us")
    assert setup.value == pytest.approx((3.0 * 100_000 + 1.2 * 300_000) / 400_000)
    assert (setup.low, setup.high) == (1.2, 3.0)


def test_setup_cost_loads_the_cpu_at_high_connection_rates() -> None:
    events = single_site(members=1, cores=16)
    events += group_load(cps=1_600_000, cpu_pct=10)
    result = run_scenario(events)
    # 1.6M new connections/s x 3 µs = 4.8 core-seconds per second on 16 cores = 30%
    assert result.value("latency.setup_cpu_pct", "member:1_01") == pytest.approx(30.0)


def test_a_connection_rate_alone_can_overload_a_member() -> None:
    events = single_site(members=1, cores=16)
    events += group_load(cps=4_800_000, cpu_pct=10)  # setup alone: 90% of 16 cores
    result = run_scenario(events)
    assert result.value("latency.setup_cpu_pct", "member:1_01") == pytest.approx(90.0)
    result.assert_finding("convergence.cpu-overload", "member:1_01", severity="error")
    assert result.value("convergence.failover_s") == 8.0
