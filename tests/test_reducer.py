"""The reducer: Maestro's behaviour in the state, refusals that leave the state untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

import pytest

from twin.errors import InvalidEventError
from twin.events import default_registry
from twin.reducer import apply
from twin.state import DOWN, DOWN_ADMIN, UP, UPGRADING, TwinState

REGISTRY = default_registry()


def build(
    events: Iterable[tuple[str, dict[str, Any]]], state: TwinState | None = None
) -> TwinState:
    state = state or TwinState()
    for seq, (event_type, data) in enumerate(events, start=state.seq + 1):
        apply(state, REGISTRY.decode(event_type, data), seq=seq)
    return state


def dual_site(per_site: int = 3) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = [
        ("site_added", {"site": 1}),
        ("site_added", {"site": 2}),
        ("orchestrator_added", {"orchestrator": "mho-1a", "site": 1}),
        ("orchestrator_added", {"orchestrator": "mho-2a", "site": 2}),
        ("group_created", {"group": 1}),
    ]
    for site in (1, 2):
        for n in range(1, per_site + 1):
            events.append(("member_added", {"member": f"{site}_{n:02d}", "group": 1, "site": site}))
    events.append(("link_added", {"link": "sync-1", "a": "mho-1a", "b": "mho-2a", "kind": "sync"}))
    return events


def test_only_the_active_site_serves_and_failover_moves_the_load() -> None:
    state = build([*dual_site(), ("load_changed", {"group": 1, "connections": 3_000_000})])
    site1 = [state.members[f"1_0{n}"]["connections"] for n in (1, 2, 3)]
    site2 = [state.members[f"2_0{n}"]["connections"] for n in (1, 2, 3)]
    assert site1 == [1_000_000.0] * 3
    assert site2 == [0.0] * 3
    build([("site_failover", {"site": 2})], state)
    assert [state.members[f"2_0{n}"]["connections"] for n in (1, 2, 3)] == [1_000_000.0] * 3
    assert state.active_site == 2


def test_group_load_is_spread_by_weight_and_by_cores_by_default() -> None:
    events = [
        ("site_added", {"site": 1}),
        ("group_created", {"group": 1}),
        ("member_added", {"member": "1_01", "group": 1, "site": 1, "cores": 48}),
        ("member_added", {"member": "1_02", "group": 1, "site": 1, "cores": 16}),
        ("load_changed", {"group": 1, "connections": 6_400_000, "cpu_pct": 50}),
    ]
    state = build(events)
    assert state.members["1_01"]["connections"] == pytest.approx(4_800_000)
    assert state.members["1_02"]["connections"] == pytest.approx(1_600_000)
    # Proportional to cores, so both work equally hard.
    assert state.members["1_01"]["cpu_pct"] == pytest.approx(50)
    assert state.members["1_02"]["cpu_pct"] == pytest.approx(50)
    build([("weight_changed", {"member": "1_02", "weight": 48})], state)
    assert state.members["1_02"]["connections"] == pytest.approx(3_200_000)
    assert state.members["1_02"]["cpu_pct"] > 50  # 16 cores now carry half the load


def test_a_failed_member_sheds_its_load_onto_the_others() -> None:
    state = build(
        [*dual_site(), ("load_changed", {"group": 1, "connections": 3_000_000, "cpu_pct": 60})]
    )
    build([("member_failed", {"member": "1_02"})], state)
    assert state.members["1_02"]["state"] == DOWN
    assert state.members["1_02"]["connections"] == 0
    assert state.members["1_01"]["connections"] == pytest.approx(1_500_000)
    assert state.members["1_01"]["cpu_pct"] == pytest.approx(90)


def test_admin_up_cannot_lift_a_fault_down() -> None:
    state = build(
        [
            *dual_site(),
            ("member_failed", {"member": "1_01"}),
            ("member_admin_changed", {"member": "1_01", "up": False}),
        ]
    )
    assert state.members["1_01"]["state"] == DOWN
    changes = apply(state, REGISTRY.decode("member_admin_changed", {"member": "1_01", "up": True}))
    assert state.members["1_01"]["state"] == DOWN
    assert any("cannot lift a fault" in note for note in changes.notes)
    build([("member_recovered", {"member": "1_01"})], state)
    assert state.members["1_01"]["state"] == UP


def test_admin_down_then_up_without_a_fault() -> None:
    state = build([*dual_site(), ("member_admin_changed", {"member": "1_03", "up": False})])
    assert state.members["1_03"]["state"] == DOWN_ADMIN
    build([("member_admin_changed", {"member": "1_03", "up": True})], state)
    assert state.members["1_03"]["state"] == UP


def test_smo_master_is_the_lowest_up_member() -> None:
    state = build(dual_site())
    assert state.smo_master(1) == "1_01"
    build([("member_failed", {"member": "1_01"})], state)
    assert state.smo_master(1) == "1_02"
    build([("upgrade_started", {"member": "1_02", "to_version": "R82"})], state)
    assert state.members["1_02"]["state"] == UPGRADING
    assert state.smo_master(1) == "1_03"


def test_upgrade_then_roll_back_restores_the_version() -> None:
    state = build(
        [
            *dual_site(),
            ("upgrade_started", {"member": "1_01", "to_version": "R82"}),
            ("upgrade_finished", {"member": "1_01", "version": "R82"}),
        ]
    )
    assert (state.members["1_01"]["version"], state.members["1_01"]["state"]) == ("R82", UP)
    build([("upgrade_rolled_back", {"member": "1_01"})], state)
    assert state.members["1_01"]["version"] == "R81.20"


def test_restart_clears_churn_that_fragments_memory() -> None:
    state = build(
        [
            *dual_site(),
            ("vs_created", {"vs": "vs1", "member": "1_01", "memory_gb": 4}),
            ("vs_removed", {"vs": "vs1"}),
        ]
    )
    assert state.members["1_01"]["vs_churn"] == 2
    build([("member_failed", {"member": "1_01"}), ("member_recovered", {"member": "1_01"})], state)
    assert state.members["1_01"]["vs_churn"] == 0


def test_orchestrator_failure_takes_its_links_down() -> None:
    state = build(dual_site())
    link = state.links["sync-1"]
    assert state.link_is_up(link)
    build([("orchestrator_failed", {"orchestrator": "mho-2a"})], state)
    assert not state.link_is_up(link)
    build([("orchestrator_recovered", {"orchestrator": "mho-2a"})], state)
    assert state.link_is_up(link)


@pytest.mark.parametrize(
    ("event_type", "data", "field", "words"),
    [
        ("member_failed", {"member": "1_09"}, "member", "unknown member '1_09'"),
        ("member_added", {"member": "1_01", "group": 1, "site": 1}, "member", "already exists"),
        ("member_added", {"member": "1_07", "group": 4, "site": 1}, "group", "unknown group 4"),
        (
            "link_added",
            {"link": "x", "a": "1_01", "b": "mho-9", "kind": "downlink"},
            "b",
            "unknown",
        ),
        (
            "link_added",
            {"link": "sync-1", "a": "1_01", "b": "mho-1a", "kind": "sync"},
            "link",
            "already",
        ),
        ("upgrade_finished", {"member": "1_01", "version": "R82"}, "member", "not upgrading"),
        ("upgrade_rolled_back", {"member": "1_01"}, "member", "no upgrade"),
        ("vs_removed", {"vs": "nope"}, "vs", "unknown virtual system"),
        ("load_changed", {"group": 7, "cps": 5}, "group", "unknown group 7"),
        ("site_failover", {"site": 3}, "site", "unknown site 3"),
    ],
)
def test_invalid_events_are_refused_and_change_nothing(
    event_type: str, data: dict[str, Any], field: str, words: str
) -> None:
    state = build([*dual_site(), ("load_changed", {"group": 1, "connections": 1000})])
    before = state.digest()
    with pytest.raises(InvalidEventError) as caught:
        apply(state, REGISTRY.decode(event_type, data), seq=99)
    assert caught.value.field == field
    assert words in str(caught.value)
    assert state.digest() == before


def test_notes_and_unknown_events_change_nothing() -> None:
    state = build(dual_site())
    before = state.digest()
    changes = apply(state, REGISTRY.decode("note", {"text": "pager"}), seq=state.seq)
    changes2 = apply(
        state, REGISTRY.decode("psu_swapped", {"unit": 1}, allow_unknown=True), seq=state.seq
    )
    assert not changes.subjects and not changes2.subjects
    assert state.digest() == before


DIGEST_SCRIPT = """
from tests.test_reducer import build, dual_site
events = [*dual_site(4), ('load_changed', {'group': 1, 'connections': 5000000, 'cpu_pct': 55}),
          ('vs_created', {'vs': 'b', 'member': '1_02', 'memory_gb': 3}),
          ('vs_created', {'vs': 'a', 'member': '1_02', 'memory_gb': 5}),
          ('member_failed', {'member': '2_03'}),
          ('weight_changed', {'member': '1_04', 'weight': 7})]
print(build(events).digest())
"""


def test_digest_is_the_same_under_any_hash_seed() -> None:
    digests = set()
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", DIGEST_SCRIPT],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        digests.add(done.stdout.strip())
    assert len(digests) == 1
