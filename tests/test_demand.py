"""Group load is demand: a group's cpu_pct keeps the work it was measured on, on any fork.

Expected numbers are worked out by hand from the rule in docs/events.md:
equal members, so each member's CPU = cpu_pct × serving ÷ members serving now.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from journal import Journal
from twin import events as ev
from twin.demand import with_serving
from twin.errors import EventDataError
from twin.event_files import NewEvent
from twin.reducer import apply
from twin.state import UP, TwinState
from twin.testing.builders import single_site

Spec = tuple[str, dict[str, Any]]


def _new(spec: Spec) -> NewEvent:
    registry = ev.default_registry()
    kind, data = spec
    return NewEvent(registry.decode(kind, data), kind)


def _journal(path: Path, specs: list[Spec]) -> Journal:
    journal = Journal.create(path)
    journal.append([_new(s) for s in specs])
    return journal


def _serving_cpus(state: TwinState, group: int = 1) -> list[float]:
    return [
        round(m["cpu_pct"], 6)
        for m in state.group_members(group)
        if m["state"] == UP and m["share"] > 0
    ]


def test_the_twin_records_how_many_members_served_a_group_load(tmp_path: Path) -> None:
    specs = [*single_site(members=4), ("member_failed", {"member": "1_04"})]
    with _journal(tmp_path / "j.db", specs) as journal:
        journal.append([_new(("load_changed", {"group": 1, "cpu_pct": 60.0}))])
        stored = journal.get(journal.head())
    assert stored.data["serving"] == 3  # 1_04 is DOWN: three members served the reading
    assert stored.event.serving == 3


def test_a_serving_count_given_by_the_producer_is_kept(tmp_path: Path) -> None:
    with _journal(tmp_path / "j.db", single_site(members=4)) as journal:
        journal.append([_new(("load_changed", {"group": 1, "cpu_pct": 60.0, "serving": 2}))])
        assert journal.get(journal.head()).data["serving"] == 2


def test_member_samples_are_recorded_as_given(tmp_path: Path) -> None:
    with _journal(tmp_path / "j.db", single_site(members=2)) as journal:
        journal.append([_new(("load_changed", {"member": "1_01", "cpu_pct": 30.0}))])
        assert "serving" not in journal.get(journal.head()).data


def test_on_its_own_timeline_the_reading_is_the_mean_cpu_as_before(tmp_path: Path) -> None:
    with _journal(tmp_path / "j.db", single_site(members=4)) as journal:
        journal.append([_new(("load_changed", {"group": 1, "cpu_pct": 86.0}))])
        state = journal.state_at()
    assert _serving_cpus(state) == [86.0] * 4


def test_on_a_fork_with_two_more_members_the_same_reading_is_four_members_of_work(
    tmp_path: Path,
) -> None:
    with _journal(tmp_path / "j.db", single_site(members=4)) as journal:
        fork_at = journal.head()
        journal.append([_new(("load_changed", {"group": 1, "cpu_pct": 86.0}))])
        recorded = journal.get(journal.head())
        journal.create_branch("bigger", at=fork_at)
        journal.append(
            [
                _new(("member_added", {"member": "1_05", "group": 1, "site": 1})),
                _new(("member_added", {"member": "1_06", "group": 1, "site": 1})),
                NewEvent(recorded.event, recorded.type),  # the reading as it was recorded
            ],
            branch="bigger",
        )
        state = journal.state_at(branch="bigger")
    expected = round(86.0 * 4 / 6, 6)  # 57.333...
    assert _serving_cpus(state) == [expected] * 6


def test_an_old_reading_without_serving_means_the_members_serving_at_it() -> None:
    state = TwinState()
    registry = ev.default_registry()
    for kind, data in single_site(members=6):
        apply(state, registry.decode(kind, data))
    apply(state, ev.LoadChanged(group=1, cpu_pct=50.0))
    assert _serving_cpus(state) == [50.0] * 6


def test_work_named_while_nobody_serves_is_kept_for_when_members_return() -> None:
    state = TwinState()
    registry = ev.default_registry()
    for kind, data in single_site(members=2):
        apply(state, registry.decode(kind, data))
    apply(state, ev.MemberFailed(member="1_01"))
    apply(state, ev.MemberFailed(member="1_02"))
    apply(state, ev.LoadChanged(group=1, cpu_pct=40.0, serving=3))
    apply(state, ev.MemberRecovered(member="1_01"))
    apply(state, ev.MemberRecovered(member="1_02"))
    assert _serving_cpus(state) == [60.0, 60.0]  # 40% × 3 members over 2


def test_serving_is_refused_on_a_member_sample() -> None:
    with pytest.raises(EventDataError) as caught:
        ev.LoadChanged(member="1_01", cpu_pct=10.0, serving=2)
    assert caught.value.field == "serving"


@pytest.mark.parametrize("bad", [0, -1])
def test_serving_must_be_a_positive_count(bad: int) -> None:
    with pytest.raises(EventDataError) as caught:
        ev.LoadChanged(group=1, cpu_pct=10.0, serving=bad)
    assert caught.value.field == "serving"


def test_with_serving_leaves_other_events_and_unknown_groups_alone() -> None:
    state = TwinState()
    note = ev.Note(text="x")
    assert with_serving(state, note) is note
    unknown = ev.LoadChanged(group=7, cpu_pct=10.0)
    assert with_serving(state, unknown) is unknown


def test_importing_an_event_file_fills_serving(tmp_path: Path) -> None:
    rows = [{"type": t, **d} for t, d in single_site(members=3)]
    rows.append({"type": "load_changed", "group": 1, "cpu_pct": 40, "connections": 1000})
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with Journal.create(tmp_path / "j.db") as journal:
        journal.import_file(path)
        assert journal.get(journal.head()).data["serving"] == 3
