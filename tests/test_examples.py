"""The bundled examples: the topology reads, the incident replays, and its story is all there."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from twin.event_files import NewEvent, read_event_file
from twin.events import default_registry
from twin.reducer import apply
from twin.state import DOWN, UP, TwinState
from twin.topology import read_topology

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TOPOLOGY = EXAMPLES / "dual-site.toml"
INCIDENT = EXAMPLES / "incident-0412.jsonl"


@pytest.fixture(scope="module")
def incident() -> list[NewEvent]:
    return list(read_event_file(INCIDENT, default_registry()))


@pytest.fixture(scope="module")
def timeline(incident: list[NewEvent]) -> list[tuple[NewEvent, dict[str, Any]]]:
    """Every event with a summary of the twin right after it (and any reducer notes)."""
    state = TwinState()
    out = []
    for seq, new in enumerate(incident, start=1):
        changes = apply(state, new.event, seq=seq, occurred_at=new.occurred_at or "")
        members = state.members.values()
        out.append(
            (
                new,
                {
                    "seq": seq,
                    "versions_up": sorted({m["version"] for m in members if m["state"] == UP}),
                    "max_cpu": max((m["cpu_pct"] for m in members), default=0.0),
                    "states": {m["id"]: m["state"] for m in members},
                    "active_site": state.active_site,
                    "sync_up": {k: v["up"] for k, v in state.links.items() if v["kind"] == "sync"},
                    "checkpoint": state.settings["checkpoint_interval_s"],
                    "vs_memory": {m["id"]: m["vs_memory_gb"] for m in members},
                    "notes": list(changes.notes),
                },
            )
        )
    return out


def first(
    timeline: list[tuple[NewEvent, dict[str, Any]]],
    test: Callable[[NewEvent, dict[str, Any]], bool],
) -> tuple[NewEvent, dict[str, Any]]:
    return next(item for item in timeline if test(*item))


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_incident", EXAMPLES / "make_incident.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the topology ---------------------------------------------------------------------------------


def test_dual_site_topology_reads_and_has_the_expected_shape() -> None:
    events = read_topology(TOPOLOGY, default_registry())
    state = TwinState()
    for seq, new in enumerate(events, start=1):
        apply(state, new.event, seq=seq)
    assert sorted(state.sites) == [1, 2]
    assert sorted(state.orchestrators) == ["mho-1a", "mho-1b", "mho-2a", "mho-2b"]
    assert {o["model"] for o in state.orchestrators.values()} == {"MHO-140"}
    assert state.groups[1]["mode"] == "gateway"
    assert state.groups[1]["hypersync"] is True
    assert state.groups[1]["members"] == [f"{s}_{n:02d}" for s in (1, 2) for n in range(1, 7)]
    assert {m["version"] for m in state.members.values()} == {"R81.20"}
    assert state.active_site == 1
    sync = state.links_of_kind("sync")
    assert [link["id"] for link in sync] == ["sync-1a", "sync-1b"]
    assert all(link["gbps"] == 10 and link["dedicated"] for link in sync)
    assert [link["jumbo"] for link in sync] == [True, False]  # makes the sync finding possible
    assert len(state.links_of_kind("downlink")) == 24
    assert len(state.links_of_kind("uplink")) == 4
    assert len(state.links_of_kind("site")) == 1
    assert state.settings["checkpoint_interval_s"] == 60.0


# -- the incident file ----------------------------------------------------------------------------


def test_incident_starts_with_the_topologys_genesis(incident: list[NewEvent]) -> None:
    genesis = read_topology(TOPOLOGY, default_registry())
    head = incident[: len(genesis)]
    assert [(e.type, e.event.to_data()) for e in head] == [
        (e.type, e.event.to_data()) for e in genesis
    ]
    assert {e.actor for e in head} == {"topology"}
    assert incident[len(genesis)].correlation_id == "INC-0412"


def test_incident_has_a_realistic_size_and_envelope(incident: list[NewEvent]) -> None:
    assert 300 <= len(incident) <= 500
    assert all(e.occurred_at for e in incident)
    times = [e.occurred_at or "" for e in incident]
    assert times == sorted(times), "events are in time order"
    story = [e for e in incident if e.actor != "topology"]
    assert {e.correlation_id for e in story} == {"INC-0412"}
    actors = {e.actor for e in story}
    assert {"monitor", "ops:alice"} <= actors
    admin = [e for e in story if e.actor and e.actor.startswith("ops:") and e.type != "note"]
    assert admin
    assert all(e.reason for e in admin), "every operator action says why"


def test_group_samples_stay_in_realistic_ranges(incident: list[NewEvent]) -> None:
    samples = [e.event.to_data() for e in incident if e.type == "load_changed"]
    group = [d for d in samples if "group" in d]
    assert len(group) > 300
    assert all(3_000_000 * 0.9 <= d["connections"] <= 6_000_000 * 1.05 for d in group)
    assert all(100_000 * 0.95 <= d["cps"] <= 250_000 * 1.05 for d in group)
    assert min(d["cpu_pct"] for d in group) >= 35
    assert any(d["cpu_pct"] > 80 for d in group)


def test_every_event_applies(timeline: list[tuple[NewEvent, dict[str, Any]]]) -> None:
    assert len(timeline) > 300
    final = timeline[-1][1]
    assert set(final["states"].values()) == {UP}
    assert final["versions_up"] == ["R81.20"]
    assert final["active_site"] == 1
    assert final["checkpoint"] == 60.0
    assert all(v == 0 for v in final["vs_memory"].values())


def test_generator_rewrites_the_file_byte_for_byte() -> None:
    assert load_generator().render() == INCIDENT.read_text(encoding="utf-8")


# -- the story's key moments ----------------------------------------------------------------------


def test_mvc_upgrade_window_has_two_versions_up_at_once(
    timeline: list[tuple[NewEvent, dict[str, Any]]],
) -> None:
    mixed = [info["seq"] for _e, info in timeline if len(info["versions_up"]) == 2]
    assert mixed, "an upgrade window with two versions UP at once"
    assert mixed == list(range(mixed[0], mixed[-1] + 1)), "one contiguous window"
    opened, _ = first(timeline, lambda _e, info: info["seq"] == mixed[0])
    assert opened.type == "upgrade_finished"
    assert opened.occurred_at == "2026-04-12T01:11:00Z"
    closed, _ = first(timeline, lambda _e, info: info["seq"] == mixed[-1] + 1)
    assert closed.type == "upgrade_rolled_back"


def test_member_fails_with_a_pnote_and_recovers(
    timeline: list[tuple[NewEvent, dict[str, Any]]],
) -> None:
    failed, at_failure = first(timeline, lambda e, _i: e.type == "member_failed")
    assert failed.event.to_data() == {"member": "1_03", "cause": "pnote:Interface Active Check"}
    assert at_failure["states"]["1_03"] == DOWN
    admin_up, info = first(
        timeline, lambda e, _i: e.type == "member_admin_changed" and e.event.to_data()["up"]
    )
    assert info["states"]["1_03"] == DOWN, "admin UP cannot lift a fault"
    assert any("cannot lift a fault" in n for n in info["notes"])
    recovered, info = first(timeline, lambda e, _i: e.type == "member_recovered")
    assert info["states"]["1_03"] == UP
    moments = [failed.occurred_at, admin_up.occurred_at, recovered.occurred_at]
    assert moments == sorted(m or "" for m in moments)


def test_cpu_rises_above_80_at_the_peak_then_drops(
    timeline: list[tuple[NewEvent, dict[str, Any]]],
) -> None:
    hot = [(e.occurred_at or "", info["max_cpu"]) for e, info in timeline if info["max_cpu"] > 80]
    assert hot
    assert any(t.startswith("2026-04-12T02:14") for t, _cpu in hot)
    assert max(t for t, _cpu in hot) < "2026-04-12T02:30"
    assert timeline[-1][1]["max_cpu"] < 60
    pager, _ = first(timeline, lambda e, _i: e.type == "note" and "pager" in (e.actor or ""))
    assert pager.occurred_at == "2026-04-12T02:14:00Z"


def test_sync_link_fails_and_is_restored(timeline: list[tuple[NewEvent, dict[str, Any]]]) -> None:
    down = [info["seq"] for _e, info in timeline if not all(info["sync_up"].values())]
    assert down
    assert all(info["sync_up"]["sync-1b"] for _e, info in timeline[down[-1] :])


def test_site_fails_over_and_back(timeline: list[tuple[NewEvent, dict[str, Any]]]) -> None:
    sites = [info["active_site"] for e, info in timeline if e.type == "site_failover"]
    assert sites == [2, 1]


def test_checkpoint_interval_goes_to_300_and_back(
    timeline: list[tuple[NewEvent, dict[str, Any]]],
) -> None:
    values = [info["checkpoint"] for e, info in timeline if e.type == "checkpoint_interval_changed"]
    assert values == [60.0, 300.0, 60.0]


def test_vs_churn_goes_over_the_80_percent_memory_line(
    timeline: list[tuple[NewEvent, dict[str, Any]]],
) -> None:
    types = [e.type for e, _i in timeline]
    assert types.count("vs_created") >= 5
    assert types.count("vs_removed") >= 5
    peak = max(info["vs_memory"].get("1_05", 0.0) for _e, info in timeline)
    assert peak > 0.8 * 128
