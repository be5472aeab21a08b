"""The plugin-author kit: builders, strategies, check_plugin, isolation helpers, fixtures."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

import twin.testing
from twin.api import hookimpl
from twin.events import CORE_EVENTS, default_registry
from twin.plugin_manager import GROUP, TwinPluginManager, builtin_names
from twin.reducer import apply
from twin.state import DOWN, UP, TwinState
from twin.testing import (
    ScenarioResult,
    assert_plugin_ok,
    check_plugin,
    dual_site,
    event_types,
    group_load,
    isolated_manager,
    load_plugin_file,
    member_failure,
    member_load,
    registered,
    rolling_upgrade,
    run_scenario,
    single_site,
    smoke_events,
)
from twin.testing.strategies import event_sequences, load_events, topologies

pytest_plugins = ["twin.testing.pytest_plugin"]

SAMPLES = Path(__file__).parent / "plugins"
EXAMPLE = Path(__file__).parents[1] / "examples" / "twin-plugin-example"
CORE_TYPES = sorted(cls.event_type for cls in CORE_EVENTS)


def sample(name: str) -> ModuleType:
    """A fresh copy of the sample plugin ``tests/plugins/<name>.py``."""
    return load_plugin_file(SAMPLES / f"{name}.py")


def replay(events: list[tuple[str, dict[str, Any]]]) -> TwinState:
    """Apply events with the reducer alone (raises on the first one it refuses)."""
    registry = default_registry()
    state = TwinState()
    for seq, (event_type, data) in enumerate(events, start=1):
        apply(state, registry.decode(event_type, data), seq=seq)
    return state


# -- builders ---------------------------------------------------------------------------------


def test_single_site_builds_the_topology_it_names() -> None:
    state = replay(
        single_site(members=5, group=2, cores=32, memory_gb=128, version="R82", sync_links=2)
    )
    assert list(state.sites) == [1]
    assert sorted(state.orchestrators) == ["mho-1-1", "mho-1-2"]
    assert state.groups[2]["members"] == ["1_01", "1_02", "1_03", "1_04", "1_05"]
    assert state.groups[2]["hypersync"] is True
    for member in state.members.values():
        assert (member["state"], member["cores"], member["memory_gb"], member["version"]) == (
            UP,
            32,
            128.0,
            "R82",
        )
    assert len(state.links_of_kind("downlink")) == 5 * 2
    sync = state.links_of_kind("sync")
    assert [link["id"] for link in sync] == ["sync-1-1", "sync-1-2"]
    assert all(link["dedicated"] and link["jumbo"] and link["gbps"] == 10.0 for link in sync)


def test_single_site_without_hypersync_or_sync_links() -> None:
    state = replay(single_site(members=2, hypersync=False, sync_links=0, orchestrators=1))
    assert state.groups[1]["hypersync"] is False
    assert state.links_of_kind("sync") == []
    assert len(state.links_of_kind("downlink")) == 2


def test_dual_site_builds_an_active_and_a_standby_site() -> None:
    state = replay(dual_site(members_per_site=3) + group_load(connections=3_000_000))
    assert state.active_site == 1
    assert state.groups[1]["members"] == ["1_01", "1_02", "1_03", "2_01", "2_02", "2_03"]
    assert [link["id"] for link in state.links_of_kind("site")] == ["site-1-2"]
    assert len(state.links_of_kind("sync")) == 2
    # Only the ACTIVE site serves; the standby site holds backups.
    assert [state.members[m]["connections"] for m in ("1_01", "2_01")] == [1_000_000, 0]


def test_load_and_failure_builders() -> None:
    events = single_site(members=2) + member_failure("1_02", cause="pnote:fan")
    events += member_load("1_01", cpu_pct=70) + rolling_upgrade(["1_01"], "R82")
    state = replay(events)
    assert state.members["1_02"]["state"] == DOWN
    assert state.members["1_02"]["cause"] == "pnote:fan"
    assert state.members["1_01"]["version"] == "R82"
    with pytest.raises(ValueError, match="at least one"):
        group_load()


def test_smoke_set_has_every_core_event_type_and_replays() -> None:
    events = smoke_events()
    assert event_types(events) == set(CORE_TYPES)
    replay(events)


# -- strategies -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event_sequences(max_members=8, max_events=60))
def test_event_sequences_are_accepted_by_the_reducer(events: list[Any]) -> None:
    state = replay(events)
    assert len(state.members) <= 8


@pytest.mark.parametrize("event_type", CORE_TYPES)
def test_event_sequences_reach_every_core_event_type(event_type: str) -> None:
    found = find(
        event_sequences(max_members=4, max_events=30),
        lambda events: event_type in event_types(events),
        settings=settings(max_examples=500, phases=[Phase.generate], database=None),
    )
    assert event_type in event_types(found)


@settings(max_examples=50, deadline=None)
@given(topologies(max_members=3))
def test_topologies_are_genesis_only(events: list[Any]) -> None:
    state = replay(events)
    assert 1 <= len(state.members) <= 3
    genesis = {"site_added", "orchestrator_added", "group_created", "member_added", "link_added"}
    assert event_types(events) <= genesis


@settings(max_examples=100, deadline=None)
@given(load_events(groups=(1,), members=("1_01", "1_02")))
def test_load_events_are_valid(event: tuple[str, dict[str, Any]]) -> None:
    event_type, data = event
    assert event_type == "load_changed"
    assert ("group" in data) != ("member" in data)
    replay([*single_site(members=2), event])


# -- check_plugin -----------------------------------------------------------------------------


def test_a_good_plugin_passes() -> None:
    assert check_plugin(sample("good")) == []
    assert_plugin_ok(sample("good"))


BAD = [
    ("bad_ids", "rule id 'Acme_HotMember' is not <family>.<kebab-slug>"),
    ("bad_ids", "finding id 'acme.Hot_Member' is not <family>.<kebab-slug>"),
    ("duplicate_ids", "'acme.twice': the id is registered twice"),
    ("reserved_family", "the family 'twin' is reserved"),
    ("undeclared_finding", "raised finding 'acme.surprise' at seq"),
    ("undeclared_metric", "computed metric 'acme.member_count'"),
    ("wrong_severity", "raised 'acme.mild' as error"),
    ("undeclared_parameter", "reads parameter 'acme.cpu_limit', which no plugin declares"),
    ("bad_parameters", "is not a twin.api.Parameter"),
    ("bad_parameters", "parameter 'acme.sourceless': no source"),
    ("unknown_event", "unknown event type 'load_chnaged'; did you mean 'load_changed'?"),
    ("crashing", "rule 'acme.fragile' raised ZeroDivisionError"),
    ("nondeterministic", "not deterministic"),
    ("missing_hookimpl", "twin_register_rules is not decorated with @hookimpl"),
    ("missing_hookimpl", "twin_register_rule is marked @hookimpl but is not a twin hook"),
    ("wrong_output", "yielded a dict"),
    ("mutates_state", "changed the state"),
    ("out_of_scope", "is incremental but raised 'acme.first-member' on member:1_01"),
    ("returns_none", "evaluate returned None"),
    ("not_iterable", "must return an iterable (a list is fine), not FunctionRule"),
    ("raising_hook", "twin_register_rules raised: cannot read acme.yaml"),
    ("no_hooks", "implements no twin hook"),
    ("bad_hook_args", "does not register"),
]


BAD_IDS = [f"{name}-{index}" for index, (name, _expected) in enumerate(BAD)]


@pytest.mark.parametrize(("name", "expected"), BAD, ids=BAD_IDS)
def test_check_plugin_finds_each_kind_of_problem(name: str, expected: str) -> None:
    problems = check_plugin(sample(name))
    assert any(expected in p for p in problems), problems


def test_check_plugin_names_only_the_problems_there_are() -> None:
    problems = check_plugin(sample("crashing"))
    assert len(problems) == 1  # the steady rule beside the fragile one is fine


def test_assert_plugin_ok_lists_every_problem() -> None:
    with pytest.raises(AssertionError, match=r"2 problem\(s\)") as raised:
        assert_plugin_ok(sample("bad_ids"), name="bad")
    assert "Acme_HotMember" in str(raised.value)
    assert "acme.Hot_Member" in str(raised.value)


def test_check_plugin_accepts_a_plugin_object() -> None:
    good = sample("good")

    class AcmePlugin:
        @hookimpl
        def twin_register_rules(self) -> list[object]:
            return [good.hot_member]

        @hookimpl
        def twin_register_parameters(self) -> list[object]:
            return list(good.twin_register_parameters())

    assert check_plugin(AcmePlugin(), name="acme") == []


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_plugin_passes_check_plugin(name: str) -> None:
    from importlib.metadata import entry_points

    (ep,) = [e for e in entry_points(group=GROUP) if e.name == name]
    assert_plugin_ok(ep.load(), name=name)


def test_the_example_plugin_passes_check_plugin() -> None:
    module = load_plugin_file(
        EXAMPLE / "src" / "twin_plugin_example" / "__init__.py", "twin_plugin_example_in_tree"
    )
    assert_plugin_ok(module, name="example")


# -- isolation helpers and scenarios ------------------------------------------------------------


def test_registered_unregisters_afterwards() -> None:
    manager = isolated_manager(builtins=False)
    with registered(manager, sample("good"), name="acme") as info:
        assert info.status == "loaded"
        assert [r.id for r in manager.rules()] == ["acme.hot-member"]
        assert "acme.cpu_limit_pct" in manager.profile().parameters
    assert manager.rules() == []
    assert "acme.cpu_limit_pct" not in manager.profile().parameters
    assert "acme" not in {i.name for i in manager.plugin_infos()}


def test_registered_unregisters_when_the_block_raises() -> None:
    manager = isolated_manager(builtins=False)
    with pytest.raises(RuntimeError), registered(manager, sample("good"), name="acme"):
        raise RuntimeError("test failed inside the block")
    assert manager.rules() == []


def test_isolated_manager_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_PLUGINS", "acme")
    monkeypatch.setenv("TWIN_STRICT_PLUGINS", "0")
    manager = isolated_manager(builtins=False)
    assert manager.autoload is False
    assert manager.strict is True


def test_run_scenario_with_a_plugin_and_parameter_overrides() -> None:
    events = single_site(members=2) + group_load(cpu_pct=60)
    plain = run_scenario(events, plugins=[sample("good")], builtins=False)
    assert isinstance(plain, ScenarioResult)
    assert plain.value("acme.cpu_headroom_pct", "member:1_01") == pytest.approx(30)
    plain.assert_no_finding("acme.hot-member")
    tight = run_scenario(
        events, plugins=[sample("good")], builtins=False, parameters={"acme.cpu_limit_pct": 50}
    )
    tight.assert_finding("acme.hot-member", "member:1_01", severity="warning")
    assert tight.engine.profile.parameters["acme.cpu_limit_pct"].provenance == "measured"
    with pytest.raises(KeyError, match=r"did you mean 'acme\.cpu_limit_pct'"):
        run_scenario(events, plugins=[sample("good")], builtins=False, parameters={"acme.cpu": 1})


def test_public_names_of_the_kit() -> None:
    assert sorted(twin.testing.__all__) == twin.testing.__all__
    for name in twin.testing.__all__:
        assert getattr(twin.testing, name) is not None


# -- pytest fixtures -----------------------------------------------------------------------------


def test_twin_pm_fixture_is_isolated_and_strict(twin_pm: TwinPluginManager) -> None:
    assert (twin_pm.autoload, twin_pm.strict, twin_pm.builtins) == (False, True, True)
    ids = {r.id for r in twin_pm.rules()}
    assert "acme.hot-member" not in ids
    loaded = {i.name for i in twin_pm.plugin_infos() if i.status == "loaded"}
    assert loaded <= set(builtin_names())


def test_twin_registered_fixture(twin_pm: TwinPluginManager, twin_registered: Any) -> None:
    with twin_registered(sample("good"), name="acme"):
        assert "acme.hot-member" in {r.id for r in twin_pm.rules()}
    assert "acme.hot-member" not in {r.id for r in twin_pm.rules()}


def test_twin_scenario_fixture(twin_scenario: Any) -> None:
    assert twin_scenario is run_scenario
    result = twin_scenario(single_site(members=2), builtins=False)
    assert len(result.steps) == len(single_site(members=2))
