"""Per-group rules (plugin API 0.2): ``@group_rule`` judges one group, the twin makes ``system``.

The documented example plugin is run, checked with ``check_plugin`` and type-checked
with ``mypy --strict``; the built-ins written with it keep their frames identical
stepping and in segments (``tests/test_segments.py``), and these tests pin what a
plugin author relies on: only touched groups are judged, the system value is
combined from every group's value now, and the batch method combines the same way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import plugins.capacity
import plugins.throughput
import twin.api
import twin.segments
from tests.rules_helpers import mypy_strict
from twin.api import GroupValues, RuleContext, Segment, group_rule, hookimpl, ratio
from twin.plugin_manager import TwinPluginManager
from twin.testing import (
    assert_plugin_ok,
    check_plugin,
    group_load,
    load_plugin_file,
    make_envelopes,
    run_scenario,
    single_site,
)

ROOT = Path(__file__).resolve().parent.parent
WRITING = ROOT / "docs" / "writing-plugins.md"


def _documented_example() -> str:
    text = WRITING.read_text(encoding="utf-8")
    found = re.search(r"<!-- group-rule-example -->\n```python\n(.*?)```", text, re.DOTALL)
    assert found, "docs/writing-plugins.md lost its per-group rule example"
    return found.group(1)


def two_groups() -> list[Any]:
    """Group 1 with members 1_01, 1_02; group 2 with 1_03, 1_04 (one site)."""
    events = single_site(members=2)
    events.append(("group_created", {"group": 2, "hypersync": False}))
    for member in ("1_03", "1_04"):
        events.append(
            (
                "member_added",
                {"member": member, "group": 2, "site": 1, "cores": 16, "memory_gb": 64},
            )
        )
    return events


def test_the_documented_group_rule_plugin_works_and_keeps_the_contract(tmp_path: Path) -> None:
    path = tmp_path / "acme_groups.py"
    path.write_text(_documented_example(), encoding="utf-8")
    acme = load_plugin_file(path)
    assert check_plugin(acme, name="acme") == []
    events = two_groups() + group_load(cpu_pct=90) + group_load(cpu_pct=30, group=2)
    result = run_scenario(events, plugins=[acme], name="acme")
    assert result.value("acme.group_cpu_pct", "group:1") == pytest.approx(90.0)
    assert result.value("acme.group_cpu_pct", "group:2") == pytest.approx(30.0)
    assert result.value("acme.group_cpu_pct") == pytest.approx(90.0)  # system: max
    assert result.value("acme.busy_share") == pytest.approx(0.5)
    found = result.assert_finding("acme.busy-group", "group:1", severity="warning")
    assert found.finding.message == "group 1 runs at 90% CPU > 80%"
    result.assert_no_finding("acme.busy-group", "group:2")


@pytest.mark.slow
def test_the_documented_group_rule_plugin_passes_mypy_strict(tmp_path: Path) -> None:
    (tmp_path / "acme_groups.py").write_text(_documented_example(), encoding="utf-8")
    done = mypy_strict(tmp_path, "acme_groups.py")
    assert done.returncode == 0, done.stdout + done.stderr


def test_twin_api_exports_the_group_rule_shape() -> None:
    for name in ("group_rule", "GroupValues", "Combine", "ratio"):
        assert name in twin.api.__all__
        assert hasattr(twin.api, name)
    assert plugins.capacity.connections.per_group is not None
    assert plugins.throughput.delivery.per_group is not None
    assert plugins.throughput.delivery.system == {
        "throughput.gbps": "sum",
        "throughput.capacity_gbps": "sum",
    }


CALLS: list[int] = []


def _band_of(ctx: RuleContext, g: int) -> tuple[float, float, float]:
    cpu = sum(m["cpu_pct"] for m in ctx.state.serving(g))
    return cpu, cpu - g, cpu + g


def _probe_segment(seg: Segment, g: int) -> None:
    cpu: Any = 0.0
    for m in seg.state.serving(g):
        cpu = cpu + seg.member_loads(m["id"]).cpu_pct
    for name in ("probe.sum", "probe.max", "probe.min", "probe.mean"):
        seg.metric(f"group:{g}", name, cpu, cpu - g, cpu + g)
    seg.metric(f"group:{g}", "probe.plain", cpu)
    seg.metric(f"group:{g}", "probe.wide", cpu, cpu - 1000 * g, cpu + 1000 * g)


def _spread(groups: GroupValues) -> Any:
    values = [groups.value(g, "probe.plain") for g in groups.groups]
    return ratio(values[-1], values[0]) if len(values) > 1 else 0.0


@group_rule(
    id="probe.groups",
    summary="probe",
    events=["load_changed", "group_created", "member_added"],
    metrics={
        "probe.sum": "%",
        "probe.max": "%",
        "probe.min": "%",
        "probe.mean": "%",
        "probe.plain": "%",
        "probe.spread": "ratio",
        "probe.wide": "%",
    },
    system={
        "probe.sum": "sum",
        "probe.max": "max",
        "probe.min": "min",
        "probe.mean": "mean",
        "probe.plain": "sum",
        "probe.spread": _spread,
        "probe.wide": "max",
    },
    segment=_probe_segment,
)
def probe_groups(ctx: RuleContext, g: int) -> None:
    """Probe."""
    CALLS.append(g)
    low_mid_high = _band_of(ctx, g)
    mid, low, high = low_mid_high
    for name in ("probe.sum", "probe.max", "probe.min", "probe.mean"):
        ctx.metric(f"group:{g}", name, mid, low, high)
    ctx.metric(f"group:{g}", "probe.plain", mid)
    ctx.metric(f"group:{g}", "probe.wide", mid, mid - 1000 * g, mid + 1000 * g)


class Probe:
    @hookimpl
    def twin_register_rules(self) -> list[Any]:
        return [probe_groups]


def test_only_touched_groups_are_judged_and_system_combines_every_group() -> None:
    CALLS.clear()
    events = two_groups() + group_load(cpu_pct=40) + group_load(cpu_pct=10, group=2)
    events += group_load(cpu_pct=60)  # group 1 only: group 2 counts with its stored values
    result = run_scenario(events, plugins=[Probe()], builtins=False)
    assert CALLS[-2:] == [2, 1]  # each of the last two loads judged its own group alone
    # group 1: 2 members × 60 %; group 2: 2 × 10 %
    assert result.value("probe.sum") == pytest.approx(140.0)
    metric = result.steps[-1].metrics["system"]["probe.sum"]
    assert (metric.low, metric.high) == pytest.approx((140.0 - 3, 140.0 + 3))
    # max/min: the band of the group with the greatest/least value (group 1: ±1, 2: ±2)
    mx = result.steps[-1].metrics["system"]["probe.max"]
    assert (mx.value, mx.low, mx.high) == pytest.approx((120.0, 119.0, 121.0))
    mn = result.steps[-1].metrics["system"]["probe.min"]
    assert (mn.value, mn.low, mn.high) == pytest.approx((20.0, 18.0, 22.0))
    mean = result.steps[-1].metrics["system"]["probe.mean"]
    assert (mean.value, mean.low, mean.high) == pytest.approx((70.0, 68.5, 71.5))
    # ... not each end on its own: group 2's wider band does not leak into the system's
    wide = result.steps[-1].metrics["system"]["probe.wide"]
    assert (wide.value, wide.low, wide.high) == pytest.approx((120.0, -880.0, 1120.0))
    plain = result.steps[-1].metrics["system"]["probe.plain"]
    assert plain.low == plain.high == plain.value == pytest.approx(140.0)
    assert result.value("probe.spread") == pytest.approx(20.0 / 120.0)


def test_a_group_rule_batch_method_gives_the_frames_stepping_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(twin.segments, "MIN_SEGMENT", 2)
    monkeypatch.setattr("twin.engine.MIN_SEGMENT", 2)
    manager = TwinPluginManager(autoload=False, strict=True).load()
    manager.register(Probe(), name="probe")
    events = two_groups()
    for i in range(40):
        events += group_load(cpu_pct=5 + i, group=1 + i % 2)
    envelopes = make_envelopes(events, manager.event_registry())
    stepped = manager.build_engine()
    segmented = manager.build_engine()
    assert segmented.segments_possible()
    for a, b in zip(stepped.run(envelopes), segmented.run(envelopes, bulk=True), strict=True):
        assert a.metrics.to_json() == b.metrics.to_json(), f"frames differ at seq {a.seq}"


def test_a_system_metric_must_be_declared_and_combine_by_a_known_name() -> None:
    with pytest.raises(ValueError, match="not declared in metrics"):
        group_rule(id="probe.bad", summary="x", metrics={}, system={"probe.x": "sum"})
    with pytest.raises(ValueError, match="use one of sum, max, min, mean"):
        group_rule(id="probe.bad", summary="x", metrics={"probe.x": "%"}, system={"probe.x": "avg"})


def test_plugins_built_with_group_rules_pass_the_plugin_check() -> None:
    assert_plugin_ok(Probe(), name="probe")
