"""What-if sessions: a base at seq N, events on top, the base never written unless kept."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from journal import Journal
from twin import events as ev
from twin.errors import TwinInputError
from twin.event_files import NewEvent
from twin.fork import WhatIf
from twin.plugin_manager import TwinPluginManager
from twin.preconditions import PreconditionError
from twin.replay import Replay
from twin.state import UP
from twin.testing.builders import single_site

ROOT = Path(__file__).resolve().parents[1]
INCIDENT = ROOT / "examples" / "incident-0412.jsonl"
MANAGER = TwinPluginManager(autoload=False, strict=True).load()
PROFILE = MANAGER.profile()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def journal_from_incident(tmp_path: Path, *, warm: bool = False) -> Path:
    path = tmp_path / "prod.db"
    with Journal.create(path, registry=MANAGER.event_registry()) as journal:
        journal.import_file(INCIDENT)
        if warm:  # the engine snapshots a `twin run` leaves behind
            for _ in Replay(journal, MANAGER, PROFILE).frames():
                pass
    return path


def findings(frames_findings: Any) -> list[tuple[str, str, int]]:
    return sorted((a.finding.rule, a.finding.subject, a.since) for a in frames_findings)


@pytest.mark.parametrize("warm", [False, True], ids=["no-snapshots", "with-snapshots"])
def test_a_session_on_a_journal_never_writes_it(tmp_path: Path, warm: bool) -> None:
    path = journal_from_incident(tmp_path, warm=warm)
    before = sha(path)
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    with WhatIf.open(path, MANAGER, PROFILE, at=238) as session:
        session.apply(ev.MemberFailed(member="1_04"))
        session.apply(ev.LoadChanged(group=1, cpu_pct=70.0))
        session.rewind(1)
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == leftovers  # no -wal/-shm left


def test_the_base_point_is_what_replay_says_it_is(tmp_path: Path) -> None:
    path = journal_from_incident(tmp_path)
    with Journal.open(path, registry=MANAGER.event_registry()) as journal:
        replay = Replay(journal, MANAGER, PROFILE, snapshot_every=0)
        expected = replay.at(238)
        assert expected is not None
        expected_metrics = expected.metrics.to_json()
        expected_findings = findings(expected.findings)
    with WhatIf.open(path, MANAGER, PROFILE, at=238) as session:
        assert (session.kind, session.base_seq, session.head) == ("journal", 238, 238)
        assert session.metrics.to_json() == expected_metrics
        assert findings(session.findings) == expected_findings
        assert session.base_occurred_at == expected.envelope.occurred_at


def test_an_event_file_base_starts_after_its_last_event() -> None:
    with WhatIf.open(INCIDENT, MANAGER, PROFILE) as session:
        assert session.kind == "events"
        assert session.base_seq == 450
        assert session.base_occurred_at == "2026-04-12T03:50:00Z"


def test_an_empty_base_builds_from_nothing() -> None:
    with WhatIf.open(None, MANAGER, PROFILE) as session:
        for kind, data in single_site(members=3):
            session.apply(session.decode(kind, data))
        assert session.head == len(single_site(members=3))
        assert session.metrics.value("system", "members.active") == 3.0


def test_a_refused_event_leaves_the_session_as_it_was(tmp_path: Path) -> None:
    with WhatIf.open(INCIDENT, MANAGER, PROFILE, at=100) as session:
        before = (session.head, session.metrics.to_json(), findings(session.findings))
        with pytest.raises(TwinInputError) as caught:
            session.apply(ev.MemberFailed(member="1_99"))
        assert caught.value.field == "member"
        assert (session.head, session.metrics.to_json(), findings(session.findings)) == before


def test_preconditions_are_checked_only_when_asked() -> None:
    with WhatIf.open(INCIDENT, MANAGER, PROFILE, at=240) as session:
        assert session.state.members["1_03"]["state"] == "DOWN"  # failed at #233
        with pytest.raises(PreconditionError, match="admin UP cannot lift a fault"):
            session.apply(ev.MemberAdminChanged(member="1_03", up=True), check_preconditions=True)
        assert session.head == 240
        session.apply(ev.MemberAdminChanged(member="1_03", up=True))  # history did this (#251)
        assert session.state.members["1_03"]["state"] == "DOWN"


def test_rewind_returns_to_the_base_and_to_any_step() -> None:
    with WhatIf.open(INCIDENT, MANAGER, PROFILE, at=200) as session:
        base = session.metrics.to_json()
        session.apply(ev.MemberFailed(member="1_01"))
        after_one = session.metrics.to_json()
        session.apply(ev.MemberFailed(member="1_02"))
        session.rewind(1)
        assert session.metrics.to_json() == after_one
        assert session.head == 201
        session.rewind(0)
        assert session.metrics.to_json() == base
        assert session.proposed == []


def test_group_load_steps_are_taken_as_measured_on_todays_members(tmp_path: Path) -> None:
    path = tmp_path / "four.db"
    registry = MANAGER.event_registry()
    with Journal.create(path, registry=registry) as journal:
        journal.append([NewEvent(registry.decode(t, d), t) for t, d in single_site(members=4)])
    with WhatIf.open(path, MANAGER, PROFILE) as session:
        assert session.base_serving(1) == 4
        for n in (5, 6):
            session.apply(ev.MemberAdded(member=f"1_0{n}", group=1, site=1))
        session.apply(ev.LoadChanged(group=1, cpu_pct=86.0))
        assert session.proposed[-1].new.event.serving == 4
        cpus = [m["cpu_pct"] for m in session.state.group_members(1) if m["state"] == UP]
    assert cpus == pytest.approx([86.0 * 4 / 6] * 6)


def test_keep_records_the_session_as_a_branch_that_replays_the_same(tmp_path: Path) -> None:
    path = journal_from_incident(tmp_path)
    main_before = sha(path)
    with WhatIf.open(path, MANAGER, PROFILE, at=200) as session:
        session.apply(ev.MemberFailed(member="1_02"), occurred_at="2026-04-12T02:05:00Z")
        session.apply(ev.LoadChanged(group=1, cpu_pct=75.0, connections=5_000_000))
        expected_metrics = session.metrics.to_json()
        expected_findings = findings(session.findings)
        info = session.keep("what-if/lose-1_02")
    assert (info.name, info.fork_seq, info.head) == ("what-if/lose-1_02", 200, 202)
    assert sha(path) != main_before  # the branch was written ...
    with Journal.open(path, registry=MANAGER.event_registry()) as journal:
        assert journal.head() == 450  # ... and the main line is untouched
        assert journal.verify().ok
        stored = list(journal.read(201, 202, branch="what-if/lose-1_02"))
        assert [e.type for e in stored] == ["member_failed", "load_changed"]
        assert stored[0].occurred_at == "2026-04-12T02:05:00Z"
        assert stored[1].occurred_at == "2026-04-12T02:05:00Z"  # no time: the one before
        replay = Replay(journal, MANAGER, PROFILE, branch="what-if/lose-1_02", snapshot_every=0)
        frame = replay.at()
        assert frame is not None
        assert frame.metrics.to_json() == expected_metrics
        assert findings(frame.findings) == expected_findings


def test_keep_refuses_an_event_file_base_and_a_taken_name(tmp_path: Path) -> None:
    with WhatIf.open(INCIDENT, MANAGER, PROFILE) as session, pytest.raises(TwinInputError) as e:
        session.keep("x")
    assert "needs a journal base" in e.value.problem
    path = journal_from_incident(tmp_path)
    with Journal.open(path) as journal:
        journal.create_branch("taken", at=10)
    with WhatIf.open(path, MANAGER, PROFILE) as session, pytest.raises(TwinInputError):
        session.keep("taken")


def test_opening_bad_bases_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(TwinInputError, match="no such file"):
        WhatIf.open(tmp_path / "nope.db", MANAGER, PROFILE)
    junk = tmp_path / "junk.db"
    junk.write_text("hello")
    with pytest.raises(TwinInputError, match="not a journal or an event file"):
        WhatIf.open(junk, MANAGER, PROFILE)
    with pytest.raises(TwinInputError) as caught:
        WhatIf.open(INCIDENT, MANAGER, PROFILE, at=9999)
    assert caught.value.field == "at"


def test_a_read_only_journal_refuses_writes_and_saves_no_snapshots(tmp_path: Path) -> None:
    path = journal_from_incident(tmp_path)
    before = sha(path)
    with Journal.open(path, read_only=True) as journal:
        assert journal.state_at(450).seq == 450  # would save state snapshots if it could
        with pytest.raises(TwinInputError, match="read-only"):
            journal.create_branch("b", at=1)
        with pytest.raises(TwinInputError, match="read-only"):
            journal.append([])
    assert sha(path) == before
