"""The built-in rule families keep contract §6: metric names, rule ids, severities, units.

The lists below are the contract's tables, written out by hand: they are the
spec, so a rename in the code fails here. Extensions (names the contract does
not list yet) are listed apart so that adding one is a deliberate act.
"""

from __future__ import annotations

from typing import Any

import pytest

from twin.api import Finding, RuleContext, hookimpl, rule
from twin.plugin_manager import TwinPluginManager, builtin_names
from twin.testing import check_plugin, group_load, run_scenario, single_site

FAMILIES = {
    "capacity",
    "latency",
    "sync",
    "memory",
    "convergence",
    "versions",
    "checkpoint",
    "throughput",
    "weights",
    "members",
}

# contract §6, metric names and units ("" where the contract gives none)
CONTRACT_METRICS = {
    "members.active": "count",
    "members.total": "count",
    "capacity.connections_max": "connections",
    "capacity.utilization": "ratio",
    "load.connections": "",
    "load.cps": "",
    "load.cpu_pct": "",
    "latency.setup_us": "µs",
    "sync.traffic_gbps": "Gbps",
    "sync.utilization": "ratio",
    "memory.table_gb": "GB",
    "memory.required_gb": "GB",
    "memory.physical_gb": "GB",
    "memory.fragmentation": "0..1",
    "convergence.failover_s": "s",
    "throughput.gbps": "Gbps",
    "checkpoint.disk_write_factor": "ratio",
}
PER_MEMBER = {
    "capacity.connections_max",
    "load.connections",
    "load.cps",
    "load.cpu_pct",
    "memory.table_gb",
    "memory.required_gb",
    "memory.physical_gb",
    "memory.fragmentation",
    "throughput.gbps",
}
SYSTEM = set(CONTRACT_METRICS) - {
    "load.connections",
    "load.cps",
    "load.cpu_pct",
    "memory.table_gb",
    "memory.required_gb",
    "memory.physical_gb",
}
# contract §6, rule ids and severities (the engine's twin.* ids are not the families')
CONTRACT_FINDINGS = {
    "capacity.high": "warning",
    "capacity.exhausted": "error",
    "sync.high": "warning",
    "sync.saturated": "error",
    "sync.link-down": "error",
    "sync.not-dedicated": "warning",
    "memory.headroom": "error",
    "memory.vs-over-limit": "error",
    "memory.fragmented": "warning",
    "memory.upgrade-needed": "warning",
    "convergence.cpu-overload": "error",
    "convergence.too-many-members": "error",
    "versions.mixed": "error",
    "checkpoint.interval": "warning",
    "weights.imbalance": "warning",
}
# extensions beyond the contract (to be added to it)
EXTENSION_METRICS = {
    "latency.setup_cpu_pct": "%",
    "sync.capacity_gbps": "Gbps",
    "throughput.capacity_gbps": "Gbps",
    "versions.count": "versions",
    "versions.upgrading": "members",
    "convergence.dead_timer_s": "s",
    "sync.standby_up_ratio": "ratio",
    "sync.unsynced_connections": "connections",
}
EXTENSION_FINDINGS = {
    "capacity.smo-moved": "info",
    "versions.upgrade-not-grouped": "warning",
    "versions.mixed-outside-window": "error",
    "members.down": "error",
    "members.down-admin": "info",
    "sync.standby-backups-off": "warning",
}


def builtin_rules() -> list[Any]:
    manager = TwinPluginManager(autoload=False, strict=True)
    return [r.rule for r in manager.rules() if r.plugin in FAMILIES]


def test_every_family_is_a_builtin_entry_point() -> None:
    assert set(builtin_names()) >= FAMILIES


def test_metric_names_and_units_are_the_contracts() -> None:
    declared: dict[str, str] = {}
    for r in builtin_rules():
        for name, unit in r.metrics.items():
            assert declared.setdefault(name, unit) == unit, f"{name} declared with two units"
    assert set(declared) == set(CONTRACT_METRICS) | set(EXTENSION_METRICS)
    for name, unit in {**CONTRACT_METRICS, **EXTENSION_METRICS}.items():
        if unit:
            assert declared[name] == unit, name


def test_finding_ids_and_severities_are_the_contracts() -> None:
    declared = {
        finding: severity.value for r in builtin_rules() for finding, severity in r.raises.items()
    }
    assert declared == {**CONTRACT_FINDINGS, **EXTENSION_FINDINGS}


def test_rules_are_documented_and_named_in_their_family() -> None:
    for r in builtin_rules():
        family = r.id.split(".")[0]
        assert family in FAMILIES
        assert all(name.split(".")[0] == family for name in r.raises), r.id
        assert r.summary, r.id
        assert r.doc, r.id
        assert r.events is not None, f"{r.id} should declare the events it cares about"


def test_every_contract_metric_is_computed_for_its_subjects() -> None:
    events = single_site(members=3) + group_load(connections=1_000_000, cps=50_000, cpu_pct=40)
    events += [("checkpoint_interval_changed", {"seconds": 60})]
    result = run_scenario(events)
    metrics = result.steps[-1].metrics
    for name in SYSTEM:
        assert name in metrics["system"], name
    for name in PER_MEMBER:
        assert name in metrics["member:1_02"], name


def test_parameters_have_one_family_a_provenance_and_a_source() -> None:
    manager = TwinPluginManager(autoload=False, strict=True)
    owner: dict[str, str] = {}
    for plugin, result in manager.collect("twin_register_parameters"):
        if plugin not in FAMILIES:
            continue
        for p in result:
            assert p.name not in owner, f"{p.name} declared by {owner[p.name]} and {plugin}"
            owner[p.name] = plugin
            assert p.name.split(".")[0] in {plugin, "hypersync"}, p.name
            assert p.provenance in {"seed", "official", "community", "assumption"}, p.name
            assert p.source, p.name
            assert "\n" not in p.source, p.name
            assert p.summary, p.name
            if p.provenance == "seed":
                assert p.source.startswith("seed note: "), p.name
    assert owner["hypersync.capacity_factor"] == "capacity"


@pytest.mark.parametrize(
    ("name", "band"),
    [
        ("hypersync.capacity_factor", (0.5, 0.5, 0.5)),
        ("latency.setup_us.hypersync", (3.0, 3.0, 3.0)),
        ("latency.setup_us.standalone", (1.2, 1.2, 1.2)),
        ("sync.growth_per_member", (0.08, 0.10, 0.12)),
        ("sync.network_gbps", (10.0, 10.0, 10.0)),
        ("memory.hypersync_headroom", (0.2, 0.2, 0.2)),
        ("memory.vs_max_fraction", (0.8, 0.8, 0.8)),
        ("convergence.normal_s", (0.3, 0.3, 0.3)),
        ("convergence.max_members", (52.0, 52.0, 52.0)),
        ("convergence.cpu_threshold_pct", (80.0, 80.0, 80.0)),
        ("convergence.overload_s", (7.0, 8.0, 9.0)),
        ("checkpoint.recommended_s", (60.0, 60.0, 60.0)),
        ("checkpoint.max_extra_writes", (1.4, 1.4, 1.4)),
    ],
)
def test_the_seed_profile_holds_the_model_numbers(
    name: str, band: tuple[float, float, float]
) -> None:
    profile = TwinPluginManager(autoload=False, strict=True).profile()
    assert profile.band(name) == pytest.approx(band)
    assert profile[name].provenance == "seed"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_family_passes_the_plugin_check(family: str) -> None:
    module = __import__(f"plugins.{family}", fromlist=["_"])
    assert check_plugin(module, name=family) == []


@rule(id="crashy.boom", summary="always raises", events=["load_changed"])
def boom(ctx: RuleContext) -> list[Finding]:
    raise RuntimeError("kaboom")


class Crashing:
    """A plugin whose only rule raises."""

    @hookimpl
    def twin_register_rules(self) -> list[Any]:
        return [boom]


def test_a_rule_that_raises_is_reported_and_every_other_metric_is_still_there() -> None:
    events = single_site(members=3) + group_load(connections=1_000_000, cps=50_000, cpu_pct=85)
    baseline = run_scenario(events)
    crashed = run_scenario(events, plugins=[Crashing()], strict=False)
    found = crashed.assert_finding("twin.rule-crashed", "rule:crashy.boom", severity="error")
    assert "kaboom" in found.finding.message
    assert crashed.steps[-1].metrics == baseline.steps[-1].metrics
    crashed.assert_finding("convergence.cpu-overload", "member:1_01")
