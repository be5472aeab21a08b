"""Segment evaluation gives exactly the frames that stepping event by event gives.

Runs of load events are evaluated as columns by the rules' batch methods. Over
generated journals (hypothesis), long seeded scenarios and both benchmark load
mixes, every frame must equal the one stepping produces: every metric (all
subjects, bit for bit), the active findings with their messages and since,
what each event raised and cleared, what it changed field by field, and the
state the engine is left in.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twin.segments
from tests.rules_helpers import EventGenerator
from twin.engine import Engine
from twin.envelope import Envelope
from twin.frames import Frame
from twin.plugin_manager import TwinPluginManager
from twin.testing import make_envelopes
from twin.testing.strategies import event_sequences

MANAGER = TwinPluginManager(autoload=False, strict=True).load()
REGISTRY = MANAGER.event_registry()
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(autouse=True)
def short_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(twin.segments, "MIN_SEGMENT", 2)
    monkeypatch.setattr(twin.segments, "MAX_SEGMENT", 37)
    monkeypatch.setattr("twin.engine.MIN_SEGMENT", 2)


def picture(frame: Frame) -> tuple[Any, ...]:
    """Everything a reader of the frame can see."""
    return (
        frame.seq,
        json.dumps(frame.metrics.to_json(), sort_keys=True),
        [f.to_json() for f in frame.findings],
        [(a.finding.rule, a.finding.subject, a.since) for a in frame.raised],
        [(a.finding.rule, a.finding.subject) for a in frame.cleared],
        sorted(frame.changes.subjects),
        frame.changes.fields,
    )


def both(envelopes: list[Envelope]) -> Iterator[tuple[Frame, Frame, Engine, Engine]]:
    stepped = MANAGER.build_engine()
    segmented = MANAGER.build_engine()
    assert segmented.segments_possible(), "every built-in rule for loads has a batch method"
    for a, b in zip(stepped.run(envelopes), segmented.run(envelopes, bulk=True), strict=True):
        yield a, b, stepped, segmented


def assert_same(events: list[Any]) -> None:
    envelopes = make_envelopes(events, REGISTRY)
    engines = None
    for a, b, *pair in both(envelopes):
        assert picture(a) == picture(b), f"frames differ at seq {a.seq}"
        engines = pair
    if engines is not None:
        stepped, segmented = engines
        assert stepped.state_digest() == segmented.state_digest()
        assert stepped.metrics.to_json() == segmented.metrics.to_json()
        assert [f.to_json() for f in stepped.findings] == [f.to_json() for f in segmented.findings]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=event_sequences(max_events=120))
def test_any_journal_gives_the_same_frames_in_segments(events: list[Any]) -> None:
    assert_same(events)


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_long_random_scenarios_give_the_same_frames(seed: int) -> None:
    assert_same(EventGenerator(seed).events(900))


@pytest.mark.parametrize("mix", ["group", "member"])
def test_the_benchmark_mixes_give_the_same_frames(mix: str) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import generate
    finally:
        sys.path.remove(str(BENCHMARKS))
    lines = generate.lines(1500, seed=5, mix=mix)
    events = [(line.pop("type"), _data(line)) for line in lines]
    assert_same(events)


def _data(line: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k not in ("ts", "actor", "reason", "correlation_id")}


def test_a_segment_cut_at_snapshot_seqs_leaves_the_engine_there() -> None:
    events = EventGenerator(3).events(400)
    envelopes = make_envelopes(events, REGISTRY)
    engine = MANAGER.build_engine()
    for frame in engine.run(envelopes, bulk=True, cut=16):
        if frame.seq % 16 == 0:
            assert engine.state.seq == frame.seq
            twin_ = MANAGER.build_engine()
            list(twin_.run(envelopes[: frame.seq]))
            assert engine.state_digest() == twin_.state_digest(), f"at seq {frame.seq}"


def test_a_replay_in_segments_takes_true_snapshots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from journal import Journal
    from twin.event_files import NewEvent
    from twin.replay import Replay

    monkeypatch.setattr("twin.replay.BULK", 10)
    events = EventGenerator(8).events(500)
    with Journal.create(tmp_path / "j.db", registry=REGISTRY) as journal:
        journal.append(
            [
                NewEvent(event=REGISTRY.decode(t, d), type=t, occurred_at="2026-03-14T02:00:00Z")
                for t, d in events
            ]
        )
        profile = MANAGER.profile()
        straight = Replay(journal, MANAGER, profile, snapshot_every=0, use_snapshots=False)
        reference = [picture(f) for f in straight.frames()]
        warm = Replay(journal, MANAGER, profile, snapshot_every=16)
        assert [picture(f) for f in warm.frames()] == reference
        for target in (17, 100, 257, 499):
            seek = Replay(journal, MANAGER, profile, snapshot_every=16)
            frame = seek.at(target)
            assert frame is not None and picture(frame)[:3] == reference[target - 1][:3]


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 40),
    data=st.data(),
)
def test_forward_fill_gives_each_value_from_its_event_on(size: int, data: st.DataObject) -> None:
    """Both ways of filling (a few changes: slices; many: index arithmetic) are the plain one."""
    positions = sorted(data.draw(st.sets(st.integers(0, size - 1), max_size=size)))
    values = data.draw(
        st.lists(st.floats(-1e6, 1e6), min_size=len(positions), max_size=len(positions))
    )
    initial = data.draw(st.floats(-1e6, 1e6))
    expected = []
    current = initial
    for i in range(size):
        if i in positions:
            current = values[positions.index(i)]
        expected.append(current)
    assert twin.segments._ffill(initial, positions, values, size).tolist() == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.5, -1e-9, -3.25, -40.0]), min_size=1, max_size=60))
def test_expm1_over_a_column_is_math_expm1_bit_for_bit(values: list[float]) -> None:
    """Runs of equal values and mostly distinct ones both give math.expm1 of each value."""
    column = np.asarray(values, dtype=np.float64)
    assert twin.segments.expm1_exact(column).tolist() == [math.expm1(v) for v in values]


def test_a_segment_of_one_groups_loads_leaves_the_other_groups_members_as_stepping_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Members of a group no load of the segment reaches are computed from their constant
    loads (another rule asked for them), beside the group tables of the loaded group."""
    generator = EventGenerator(7)
    events = generator.genesis()
    group2 = sorted(m for m, d in generator.members.items() if d["group"] == 2)
    group1 = sorted(m for m, d in generator.members.items() if d["group"] == 1)
    events += [
        ("load_changed", {"group": 2, "connections": 3_000_000, "cps": 9_000.0, "cpu_pct": 55.0}),
        ("vs_created", {"vs": "vs1", "member": group2[0], "memory_gb": 30.0}),
        ("vs_removed", {"vs": "vs1"}),
        ("member_failed", {"member": group1[1]}),
    ]
    for i in range(40):
        if i % 5 == 4:
            events.append(("load_changed", {"member": group1[i % 3], "cpu_pct": 50.0 + i}))
        else:
            events.append(
                ("load_changed", {"group": 1, "connections": 1_000_000 * (i + 1), "cpu_pct": 90.0})
            )
    ran: list[int] = []
    segment = Engine._segment

    def counted(self: Engine, run: list[Envelope]) -> list[Frame] | None:
        frames = segment(self, run)
        if frames is not None:
            ran.append(len(run))
        return frames

    monkeypatch.setattr(Engine, "_segment", counted)
    assert_same(events)
    assert sum(ran) >= 40, "the run of loads went through the segment path"
