"""Metric history: what it keeps equals what a replay shows, and it never trusts its cache.

Chunks are made small so that journals of a few hundred events span several.
"""

from __future__ import annotations

import math
import pickle
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import twin.history
from journal import Journal
from tests.rules_helpers import EventGenerator
from twin.event_files import NewEvent
from twin.history import MetricHistory, decode_chunk, encode_chunk
from twin.plugin_manager import TwinPluginManager
from twin.replay import Replay
from twin.testing import override_parameters
from twin.testing.strategies import event_sequences

MANAGER = TwinPluginManager(autoload=False, strict=True).load()
REGISTRY = MANAGER.event_registry()
PROFILE = MANAGER.profile()
SMALL = 64


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(twin.history, "CHUNK", SMALL)


def new_events(events: list[tuple[str, dict[str, Any]]]) -> list[NewEvent]:
    return [
        NewEvent(event=REGISTRY.decode(t, d), type=t, occurred_at="2026-03-14T02:00:00Z")
        for t, d in events
    ]


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal.create(tmp_path / "j.db", registry=REGISTRY) as j:
        j.append(new_events(EventGenerator(5).events(300)))
        yield j


def straight(j: Journal, branch: str | None = None) -> list[Any]:
    """What a plain replay shows after every event: the history's reference."""
    replay = Replay(j, MANAGER, PROFILE, branch=branch, snapshot_every=0, use_snapshots=False)
    rows = []
    for frame in replay.frames():
        metrics = {
            (s, n): frame.metrics.value(s, n, math.nan)
            for s, n in twin.history.default_series(MANAGER)
        }
        severities = [a.finding.severity.value for a in frame.findings]
        counts = (severities.count("error"), severities.count("warning"), severities.count("info"))
        changes = [("+", a.finding.rule, a.finding.subject) for a in frame.raised]
        changes += [("-", a.finding.rule, a.finding.subject) for a in frame.cleared]
        rows.append((metrics, counts, changes))
    return rows


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def assert_history_is_the_replay(history: MetricHistory, reference: list[Any]) -> None:
    errors, warnings, infos = history.counts()
    assert len(errors) == len(reference)
    for subject, name in history.series:
        column = history.column(name, subject)
        for seq, (metrics, _counts, _changes) in enumerate(reference, start=1):
            assert same(column[seq - 1], metrics[(subject, name)]), f"{name} at seq {seq}"
    for seq, (_m, counts, changes) in enumerate(reference, start=1):
        assert (errors[seq - 1], warnings[seq - 1], infos[seq - 1]) == counts, f"seq {seq}"
        kept = [(c.sign, c.rule, c.subject) for c in history.changes(seq, seq)]
        assert kept == changes, f"seq {seq}"


def test_the_history_is_what_a_replay_shows_and_is_read_back_not_recomputed(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = straight(journal)
    history = MetricHistory.open(journal, MANAGER, PROFILE)
    history.ensure()
    assert_history_is_the_replay(history, reference)
    stored = {k: n for k, n, _size in journal.snapshot_summary()}
    assert stored[history.key] == len(reference) // SMALL, "full chunks only are kept"

    def no_replay(*_args: Any) -> Any:
        raise AssertionError("a stored chunk was computed again")

    again = MetricHistory.open(journal, MANAGER, PROFILE)
    monkeypatch.setattr(again, "_compute", no_replay)
    for index in range(len(reference) // SMALL):
        assert again.chunk(index, compute=False) is not None
    kept = again.column("capacity.utilization", stop=SMALL)
    assert np.array_equal(kept, history.column("capacity.utilization", stop=SMALL), equal_nan=True)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=event_sequences(max_events=150))
def test_any_journal_and_any_range(
    tmp_path_factory: pytest.TempPathFactory, events: list[tuple[str, dict[str, Any]]]
) -> None:
    path = tmp_path_factory.mktemp("h") / "j.db"
    with Journal.create(path, registry=REGISTRY) as j:
        j.append(new_events(events))
        history = MetricHistory.open(j, MANAGER, PROFILE)
        assert_history_is_the_replay(history, straight(j))


def test_first_where_finds_the_first_event_that_holds(journal: Journal) -> None:
    history = MetricHistory.open(journal, MANAGER, PROFILE)
    column = history.column("members.active")
    target = float(max(column[~(column != column)]))
    first = history.first_where("members.active", ">=", target)
    assert first is not None and column[first - 1] >= target
    assert all(not v >= target for v in column[: first - 1])
    assert history.first_where("members.active", ">", 10**9) is None
    with pytest.raises(ValueError, match="op must be one of"):
        history.first_where("members.active", "=>", 1)


def test_a_branch_has_its_own_history_and_shares_its_parents_chunks(journal: Journal) -> None:
    journal.create_branch("b", at=2 * SMALL + 5)
    journal.append(new_events([("load_changed", {"group": 1, "cpu_pct": 99.0})] * 80), branch="b")
    main = MetricHistory.open(journal, MANAGER, PROFILE)
    main.ensure()
    on_branch = MetricHistory.open(journal, MANAGER, PROFILE, branch="b")
    assert_history_is_the_replay(on_branch, straight(journal, "b"))
    assert on_branch.chunk(0, compute=False) is not None, "the parent's chunk before the fork"


def test_another_profile_or_other_series_never_read_these_chunks(journal: Journal) -> None:
    base = MetricHistory.open(journal, MANAGER, PROFILE)
    other = override_parameters(PROFILE, {"capacity.high_utilization": 0.5})
    assert MetricHistory.open(journal, MANAGER, other).key != base.key
    narrow = MetricHistory.open(journal, MANAGER, PROFILE, series=[("system", "members.active")])
    assert narrow.key != base.key
    with pytest.raises(ValueError, match="at most"):
        MetricHistory.open(
            journal, MANAGER, PROFILE, series=[("system", str(i)) for i in range(99)]
        )


# -- a journal from a stranger -------------------------------------------------------------------


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def test_planted_or_moved_chunks_run_nothing_and_are_computed_again(
    journal: Journal, tmp_path: Path
) -> None:
    history = MetricHistory.open(journal, MANAGER, PROFILE)
    history.ensure()
    reference = straight(journal)
    marker = tmp_path / "pwned"
    genuine = encode_chunk(history.chunk(1) or pytest.fail("no chunk"), history.series)
    with pytest.raises(ValueError, match="another range"):
        decode_chunk(genuine, 1, SMALL, history.series)  # a chunk does not fit elsewhere
    conn = sqlite3.connect(str(journal.path))
    try:
        hostile = [pickle.dumps(_Payload(marker)), b"garbage", genuine]
        conn.executemany(
            "INSERT OR REPLACE INTO snapshots (key, branch, seq, digest, blob, created_at) "
            "VALUES (?, '', ?, '', ?, '2026-01-01T00:00:00Z')",
            [(history.key, seq, hostile[seq % 3]) for seq in range(1, len(reference) + 1)],
        )
        conn.commit()
    finally:
        conn.close()
    fresh = MetricHistory.open(journal, MANAGER, PROFILE)
    assert_history_is_the_replay(fresh, reference)
    assert not marker.exists()


def test_an_escalation_is_kept_as_a_severity_change_with_its_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.escalation_helpers import CLEARED, ESCALATED, RAISED, Escalating
    from tests.tui_helpers import fixture_rows

    manager = TwinPluginManager(autoload=False, strict=True).load()
    manager.register(Escalating(), name="acme")
    registry = manager.event_registry()
    rows = fixture_rows()
    events = [
        NewEvent(
            event=registry.decode(
                row["type"], {k: v for k, v in row.items() if k not in ("ts", "type")}
            ),
            type=row["type"],
            occurred_at="2026-03-14T02:00:00Z",
        )
        for row in rows
    ]
    with Journal.create(tmp_path / "j.db", registry=registry) as j:
        j.append(events)
        # a chunk boundary right at the escalation: the chunk must know what was active before
        for size in (64, ESCALATED - 11):  # 10: #21 opens the third chunk
            monkeypatch.setattr(twin.history, "CHUNK", size)
            history = MetricHistory.open(j, manager, manager.profile())
            mine = [c for c in history.changes() if c.rule == "acme.group-cpu"]
            assert [(c.seq, c.sign, c.severity, c.previous) for c in mine] == [
                (RAISED, "+", "warning", ""),
                (ESCALATED, "^", "error", "warning"),
                (CLEARED, "-", "error", ""),
            ], size
            assert mine[1].text() == "^ acme.group-cpu group:1 warning→error at #21"
        history.ensure()

        def no_replay(*_args: Any) -> Any:
            raise AssertionError("recomputed instead of read back")

        monkeypatch.setattr(MetricHistory, "_compute", no_replay)
        again = MetricHistory.open(j, manager, manager.profile())
        assert [c for c in again.changes() if c.rule == "acme.group-cpu"] == mine
