"""Replay invariants over real journal files: prefix + rest == all; snapshots change nothing."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journal import Journal
from twin.event_files import NewEvent
from twin.events import default_registry
from twin.plugin_manager import TwinPluginManager
from twin.replay import Replay
from twin.testing.strategies import event_sequences

REGISTRY = default_registry()
MANAGER = TwinPluginManager(autoload=False, strict=True).load()
PROFILE = MANAGER.profile()
_counter = itertools.count()


def new_events(events: list[tuple[str, dict[str, Any]]]) -> list[NewEvent]:
    return [
        NewEvent(event=REGISTRY.decode(t, d), type=t, occurred_at="2026-03-14T02:00:00Z")
        for t, d in events
    ]


def fresh_journal(tmp: Path) -> Journal:
    return Journal.create(tmp / f"j{next(_counter)}.db", registry=REGISTRY)


def outcome(journal: Journal, *, snapshots: bool, every: int = 1000) -> tuple[str, Any, Any]:
    replay = Replay(journal, MANAGER, PROFILE, snapshot_every=every, use_snapshots=snapshots)
    frame = replay.at()
    findings = [] if frame is None else [f.to_json() for f in frame.findings]
    return replay.engine.state_digest(), replay.engine.metrics.to_json(), findings


SLOW_OK = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SLOW_OK
@given(events=event_sequences(max_events=50), cut=st.floats(0, 1))
def test_importing_a_prefix_then_the_rest_equals_importing_all(
    tmp_path: Path, events: list[tuple[str, dict[str, Any]]], cut: float
) -> None:
    split = int(len(events) * cut)
    whole = fresh_journal(tmp_path)
    parts = fresh_journal(tmp_path)
    try:
        whole.append(new_events(events))
        if split:
            parts.append(new_events(events[:split]))
        if split < len(events):
            parts.append(new_events(events[split:]))
        assert parts.head() == whole.head() == len(events)
        assert outcome(parts, snapshots=False) == outcome(whole, snapshots=False)
    finally:
        whole.close()
        parts.close()


@SLOW_OK
@given(events=event_sequences(max_events=60), every=st.integers(2, 9))
def test_snapshots_on_or_off_give_the_same_digest_metrics_and_findings(
    tmp_path: Path, events: list[tuple[str, dict[str, Any]]], every: int
) -> None:
    journal = fresh_journal(tmp_path)
    try:
        journal.append(new_events(events))
        plain = outcome(journal, snapshots=False)
        # The first pass writes a snapshot every `every` events; the second reads them.
        assert outcome(journal, snapshots=True, every=every) == plain
        assert outcome(journal, snapshots=True, every=every) == plain
    finally:
        journal.close()


@SLOW_OK
@given(events=event_sequences(max_events=40), data=st.data())
def test_seeking_anywhere_equals_replaying_up_to_there(
    tmp_path: Path, events: list[tuple[str, dict[str, Any]]], data: st.DataObject
) -> None:
    journal = fresh_journal(tmp_path)
    try:
        journal.append(new_events(events))
        warm = Replay(journal, MANAGER, PROFILE, snapshot_every=3)
        list(warm.frames())  # leaves snapshots every 3 events
        target = data.draw(st.integers(1, len(events)))
        seek = Replay(journal, MANAGER, PROFILE, snapshot_every=3)
        sought = seek.at(target)
        straight = Replay(journal, MANAGER, PROFILE, snapshot_every=0, use_snapshots=False)
        frame = None
        for frame in straight.frames(1, target):  # noqa: B007 - the last frame is wanted
            pass
        assert sought is not None and frame is not None
        assert seek.engine.state_digest() == straight.engine.state_digest()
        assert sought.metrics.to_json() == frame.metrics.to_json()
        assert [f.to_json() for f in sought.findings] == [f.to_json() for f in frame.findings]
    finally:
        journal.close()


LOCAL_RULE = """
from twin.api import Metric, hookimpl, rule

@rule(id="local.count", summary="members", metrics={{"local.count": "count"}})
def count(ctx):
    yield Metric("system", "local.count", {value})

@hookimpl
def twin_register_rules():
    return [count]
"""


def test_editing_a_local_plugin_changes_the_snapshot_key(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    plugin = folder / "local_count.py"

    def fingerprint(value: int) -> str:
        plugin.write_text(LOCAL_RULE.format(value=value))
        manager = TwinPluginManager(autoload=False, plugins_dir=folder).load()
        return manager.fingerprint(manager.profile())

    first = fingerprint(1)
    assert fingerprint(1) == first
    assert fingerprint(2) != first
