"""The journal: an append-only, hash-chained SQLite file that is the twin's source of truth."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journal.snapshots
from journal import (
    GENESIS_HASH,
    SNAPSHOT_EVERY,
    STATE_KEY,
    Journal,
    canonical_bytes,
    chain_hash,
    new_event_id,
    new_event_ids,
)
from journal.snapshots import STRUCTURE_KEY
from twin import events as ev
from twin.errors import ConflictError, EventDataError, InvalidEventError, TwinInputError
from twin.event_files import NewEvent
from twin.events import CORE_EVENTS, Event, EventRegistry, OpaqueEvent

# -- helpers ---------------------------------------------------------------------------------

UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def new(event: Event, **envelope: Any) -> NewEvent:
    """A NewEvent for ``event`` with optional envelope fields."""
    return NewEvent(event=event, type=event.event_type, **envelope)


def topology() -> list[NewEvent]:
    """Sites 1 and 2, group 1, members 1_01..1_04, a sync link: 8 events."""
    events: list[Event] = [ev.SiteAdded(site=1), ev.SiteAdded(site=2), ev.GroupCreated(group=1)]
    events += [ev.MemberAdded(member=f"1_0{i}", group=1, site=1) for i in range(1, 5)]
    events.append(ev.LinkAdded(link="sync-1", a="1_01", b="1_02", kind="sync"))
    return [new(e, occurred_at="2026-03-14T02:00:00Z") for e in events]


def loads(count: int, *, start: int = 0, ids: str | None = None) -> list[NewEvent]:
    """``count`` group-level load_changed events (with ids ``<ids>-<n>`` if ``ids`` is given)."""
    return [
        new(
            ev.LoadChanged(group=1, connections=1000 * (i + 1), cpu_pct=float(i % 90)),
            event_id=None if ids is None else f"{ids}-{i}",
        )
        for i in range(start, start + count)
    ]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write records as an event file, one JSON object per line."""
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


TOPOLOGY_LINES: list[dict[str, Any]] = [
    {"ts": "2026-03-14T02:00:00Z", "type": "site_added", "site": 1, "event_id": "t-1"},
    {"type": "site_added", "site": 2, "event_id": "t-2"},
    {"type": "group_created", "group": 1, "event_id": "t-3"},
    {"type": "member_added", "member": "1_01", "group": 1, "site": 1, "event_id": "t-4"},
    {"type": "member_added", "member": "1_02", "group": 1, "site": 1, "event_id": "t-5"},
    {"type": "member_added", "member": "1_03", "group": 1, "site": 1, "event_id": "t-6"},
    {"type": "member_added", "member": "1_04", "group": 1, "site": 1, "event_id": "t-7"},
    {"type": "link_added", "link": "sync-1", "a": "1_01", "b": "1_02", "kind": "sync"},
]


@pytest.fixture
def jpath(tmp_path: Path) -> Path:
    return tmp_path / "twin.db"


@pytest.fixture
def journal_with_topology(jpath: Path) -> Iterator[Journal]:
    with Journal.create(jpath) as j:
        j.append(topology())
        yield j


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection, as any SQLite tool would open the file."""
    return sqlite3.connect(path, isolation_level=None)


# -- files -----------------------------------------------------------------------------------


def test_a_new_journal_is_empty_and_valid(jpath: Path) -> None:
    with Journal.create(jpath) as j:
        assert j.path == str(jpath)
        assert j.head() == 0
        assert list(j.read()) == []
        assert j.branches() == []
        assert j.verify().ok
        assert j.state_at().digest() == j.state_at(0).digest()


def test_journal_file_is_wal_sqlite_marked_as_a_twin_journal(jpath: Path) -> None:
    Journal.create(jpath).close()
    conn = raw(jpath)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        assert meta["format"] == "maestro-twin-journal"
        assert meta["format_version"] == "1"
        assert "created_at" in meta
        applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
        assert applied == ["0001_initial"]
    finally:
        conn.close()


def test_create_refuses_an_existing_file(jpath: Path) -> None:
    Journal.create(jpath).close()
    with pytest.raises(TwinInputError, match="already exists"):
        Journal.create(jpath)


def test_opening_a_missing_journal_says_how_to_create_it(jpath: Path) -> None:
    with pytest.raises(TwinInputError) as info:
        Journal.open(jpath)
    message = str(info.value)
    assert message.startswith(str(jpath))
    assert "no such journal" in message
    assert "twin init" in message
    assert "\n" not in message
    assert not jpath.exists()


def test_open_with_create_makes_a_journal_and_reopens_it(jpath: Path) -> None:
    with Journal.open(jpath, create=True) as j:
        j.append(topology())
    with Journal.open(jpath, create=True) as j:
        assert j.head() == 8


def test_a_text_file_is_not_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("hello, I am not a database\n" * 100)
    with pytest.raises(TwinInputError, match="not a twin journal") as info:
        Journal.open(path)
    assert str(info.value).startswith(str(path))


def test_another_sqlite_database_is_not_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = raw(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.close()
    for create in (False, True):
        with pytest.raises(TwinInputError, match="not a twin journal") as info:
            Journal.open(path, create=create)
        assert str(path) in str(info.value)


def test_a_journal_from_a_newer_twin_is_refused(jpath: Path) -> None:
    Journal.create(jpath).close()
    conn = raw(jpath)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'format_version'")
    conn.close()
    with pytest.raises(TwinInputError, match="newer"):
        Journal.open(jpath)


def test_an_in_memory_journal_works_like_a_file(tmp_path: Path) -> None:
    with Journal.in_memory() as j:
        assert j.path is None
        j.import_file(write_jsonl(tmp_path / "e.jsonl", TOPOLOGY_LINES))
        assert j.head() == j.head("main") == 8
        assert j.verify().ok
        assert sorted(j.state_at().members) == ["1_01", "1_02", "1_03", "1_04"]


# -- the catalog round trip ------------------------------------------------------------------


def every_core_event() -> list[Event]:
    """One of every core event type, optional fields set, in an order the reducer accepts."""
    return [
        ev.SiteAdded(site=1, name="Paris"),
        ev.SiteAdded(site=2, name="Lyon"),
        ev.OrchestratorAdded(orchestrator="mho-1", site=1, model="MHO-175"),
        ev.OrchestratorFailed(orchestrator="mho-1"),
        ev.OrchestratorRecovered(orchestrator="mho-1"),
        ev.GroupCreated(group=1, mode="vsx", hypersync=False),
        ev.MemberAdded(
            member="1_01",
            group=1,
            site=1,
            model="9700",
            cores=32,
            memory_gb=128.0,
            version="R81.10",
            weight=100,
            connections_capacity=2_000_000,
            throughput_gbps=40.5,
            blades=("fw", "ips"),
            hostname="gw-ch01-01",
        ),
        ev.MemberAdded(member="1_02", group=1, site=1),
        ev.MemberAdded(member="2_01", group=1, site=2),
        ev.LinkAdded(link="sync-1", a="1_01", b="1_02", kind="sync", gbps=25.0, dedicated=False),
        ev.LinkAdded(link="up-1", a="mho-1", b="1_01", kind="downlink", jumbo=True),
        ev.LinkFailed(link="sync-1"),
        ev.LinkRestored(link="sync-1"),
        ev.LoadChanged(
            group=1,
            connections=400_000,
            cps=15_000.5,
            cpu_pct=62.0,
            throughput_gbps=8.25,
            serving=2,  # 1_01 and 1_02 serve at site 1, the ACTIVE one
        ),
        ev.LoadChanged(member="1_01", cpu_pct=30.0),
        ev.WeightChanged(member="1_02", weight=200),
        ev.MemberFailed(member="1_02", cause="pnote:Interface Active Check"),
        ev.MemberRecovered(member="1_02"),
        ev.MemberAdminChanged(member="1_02", up=False),
        ev.MemberAdminChanged(member="1_02", up=True),
        ev.UpgradeStarted(member="1_02", to_version="R82"),
        ev.UpgradeFinished(member="1_02", version="R82"),
        ev.UpgradeRolledBack(member="1_02"),
        ev.VsCreated(vs="vs-1", member="1_01", memory_gb=4.0),
        ev.VsRemoved(vs="vs-1"),
        ev.HypersyncChanged(group=1, enabled=True),
        ev.CheckpointIntervalChanged(seconds=30.0),
        ev.SiteFailover(site=2),
        ev.MemberRemoved(member="2_01"),
        ev.Note(text="maintenance window — done ✓"),
        ev.MetricObserved(subject="member:1_01", metric="load.connections", value=79242.0),
    ]


def test_every_core_event_type_round_trips_with_its_envelope(jpath: Path) -> None:
    originals = every_core_event()
    assert {type(e) for e in originals} == set(CORE_EVENTS)
    batch = [
        new(
            e,
            event_id=f"id-{i:03d}",
            occurred_at=f"2026-03-14T02:{i:02d}:00Z",
            actor="alice",
            reason=f"step {i}",
            correlation_id="chg-42",
            causation_id=None if i == 0 else f"id-{i - 1:03d}",
        )
        for i, e in enumerate(originals)
    ]
    with Journal.create(jpath) as j:
        result = j.append(batch)
        assert (result.first_seq, result.last_seq) == (1, len(originals))
        assert (result.appended, result.skipped) == (len(originals), 0)
    with Journal.open(jpath) as j:
        back = list(j.read())
    assert [e.seq for e in back] == list(range(1, len(originals) + 1))
    prev = GENESIS_HASH
    for i, (env, original) in enumerate(zip(back, originals, strict=True)):
        assert env.event == original
        assert type(env.event) is type(original)
        assert env.type == original.event_type
        assert env.schema == original.schema
        assert env.data == original.to_data()
        assert env.event_id == f"id-{i:03d}"
        assert env.occurred_at == f"2026-03-14T02:{i:02d}:00Z"
        assert (env.actor, env.reason, env.correlation_id) == ("alice", f"step {i}", "chg-42")
        assert env.causation_id == (None if i == 0 else f"id-{i - 1:03d}")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", env.recorded_at)
        assert env.prev_hash == prev
        assert len(env.hash) == 64
        prev = env.hash


def test_get_returns_one_event_and_names_the_head_when_missing(
    journal_with_topology: Journal,
) -> None:
    j = journal_with_topology
    assert j.get(3).event == ev.GroupCreated(group=1)
    with pytest.raises(TwinInputError, match="head of main is 8"):
        j.get(9)
    with pytest.raises(TwinInputError):
        j.get(0)


def test_stored_rows_are_readable_with_plain_sqlite(journal_with_topology: Journal) -> None:
    conn = raw(Path(str(journal_with_topology.path)))
    try:
        rows = conn.execute("SELECT seq, type, data FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()
    assert rows[0] == (1, "site_added", '{"site":1}')
    assert [r[0] for r in rows] == list(range(1, 9))
    assert orjson.loads(rows[3][2])["member"] == "1_01"


# -- append ----------------------------------------------------------------------------------


def test_seq_is_dense_across_many_appends(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    for k in range(5):
        result = j.append(loads(3, start=3 * k))
        assert result.first_seq == 9 + 3 * k
    assert j.head() == 23
    assert [e.seq for e in j.read()] == list(range(1, 24))


def test_events_without_id_get_time_ordered_ids(journal_with_topology: Journal) -> None:
    ids = [e.event_id for e in journal_with_topology.read()]
    assert all(UUID7.fullmatch(i) for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_occurred_at_defaults_to_previous_event_then_to_recorded_at(jpath: Path) -> None:
    with Journal.create(jpath) as j:
        j.append([new(ev.SiteAdded(site=1))])
        first = j.get(1)
        assert first.occurred_at == first.recorded_at
        j.append(
            [
                new(ev.SiteAdded(site=2)),
                new(ev.GroupCreated(group=1), occurred_at="2026-03-14T02:10:00Z"),
                new(ev.Note(text="later")),
            ]
        )
        times = [e.occurred_at for e in j.read()]
    later = "2026-03-14T02:10:00Z"
    assert times == [first.occurred_at, first.occurred_at, later, later]


def test_actor_argument_fills_in_events_that_name_none(jpath: Path) -> None:
    with Journal.create(jpath) as j:
        j.append([new(ev.SiteAdded(site=1)), new(ev.SiteAdded(site=2), actor="bob")], actor="ops")
        assert [e.actor for e in j.read()] == ["ops", "bob"]
        j.append([new(ev.Note(text="x"))])
        assert j.get(3).actor is None


def test_reimporting_the_same_file_skips_everything(
    journal_with_topology: Journal, tmp_path: Path
) -> None:
    j = journal_with_topology
    records = [
        {"type": "load_changed", "group": 1, "connections": 10 * i, "event_id": f"load-{i}"}
        for i in range(50)
    ]
    path = write_jsonl(tmp_path / "loads.jsonl", records)
    first = j.import_file(path)
    assert (first.first_seq, first.last_seq, first.appended, first.skipped) == (9, 58, 50, 0)
    again = j.import_file(path)
    assert (again.appended, again.skipped) == (0, 50)
    assert (again.first_seq, again.last_seq) == (59, 58)
    assert j.head() == 58
    assert j.verify().ok


def test_a_file_that_partly_overlaps_appends_only_the_new_events(
    journal_with_topology: Journal,
) -> None:
    j = journal_with_topology
    j.append(loads(5, ids="x"))
    result = j.append(loads(8, ids="x"))
    assert (result.appended, result.skipped) == (3, 5)
    assert [e.event_id for e in j.read(9)] == [f"x-{i}" for i in range(8)]


def test_a_duplicate_id_within_one_batch_is_skipped(journal_with_topology: Journal) -> None:
    batch = [*loads(2, ids="dup"), *loads(2, ids="dup")]
    result = journal_with_topology.append(batch)
    assert (result.appended, result.skipped) == (2, 2)


def test_idempotency_survives_reopening_in_another_journal_object(jpath: Path) -> None:
    with Journal.create(jpath) as j:
        j.append([new(ev.SiteAdded(site=1), event_id="s1")])
    with Journal.open(jpath) as j:
        assert j.append([new(ev.SiteAdded(site=1), event_id="s1")]).skipped == 1
        assert j.head() == 1


def test_expect_head_refuses_a_stale_writer_with_a_conflict(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    with pytest.raises(ConflictError) as info:
        j.append(loads(1), expect_head=5)
    message = str(info.value)
    assert "conflict" in message
    assert "8" in message
    assert "5" in message
    assert (info.value.found, info.value.expected) == (8, 5)
    assert j.head() == 8
    assert j.append(loads(1), expect_head=8).last_seq == 9


def test_two_writers_with_the_same_expected_head_one_wins(jpath: Path) -> None:
    with Journal.create(jpath) as a:
        a.append(topology())
        with Journal.open(jpath) as b:
            assert a.append(loads(1), expect_head=8).last_seq == 9
            with pytest.raises(ConflictError, match="head is 9, expected 8"):
                b.append(loads(1), expect_head=8)
            assert b.head() == 9


def test_progress_is_reported_while_appending(journal_with_topology: Journal) -> None:
    seen: list[int] = []
    journal_with_topology.append(loads(12_000), progress=seen.append)
    assert seen == [5000, 10_000, 12_000]


BAD_LINES = [
    pytest.param(
        {"type": "member_failed", "member": "1_09"}, "member", "unknown member", id="unknown-member"
    ),
    pytest.param(
        {"type": "member_added", "member": "1_02", "group": 1, "site": 1},
        "member",
        "already exists",
        id="duplicate-member",
    ),
    pytest.param(
        {"type": "weight_changed", "member": "1_01", "weight": 600},
        "weight",
        "between 0 and 512",
        id="weight-600",
    ),
    pytest.param(
        {"type": "load_changed", "group": 1, "connections": -5},
        "connections",
        "must not be negative",
        id="negative-load",
    ),
    pytest.param(
        {"type": "load_changed", "member": "1_01", "cpu_pct": 150},
        "cpu_pct",
        "between 0 and 100",
        id="cpu-150",
    ),
    pytest.param(
        {"type": "member_add", "member": "1_05", "group": 1, "site": 1},
        "type",
        "did you mean 'member_added'",
        id="unknown-type",
    ),
]


@pytest.mark.parametrize(("bad", "field", "problem"), BAD_LINES)
def test_one_bad_line_refuses_the_whole_file(
    journal_with_topology: Journal, tmp_path: Path, bad: dict[str, Any], field: str, problem: str
) -> None:
    j = journal_with_topology
    good = [{"type": "load_changed", "group": 1, "connections": 100 * i} for i in range(5)]
    path = write_jsonl(tmp_path / "incident.jsonl", [*good, bad, *good])
    with pytest.raises(TwinInputError) as info:
        j.import_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}:6: {field}: ")
    assert problem in message
    assert j.head() == 8
    assert j.verify().ok
    # The refused file left nothing behind: the same good lines still go in afterwards.
    assert j.import_file(write_jsonl(tmp_path / "good.jsonl", good)).appended == 5


def test_a_refused_batch_does_not_poison_the_next_append(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    j.append([new(ev.MemberFailed(member="1_01"))])
    with pytest.raises(InvalidEventError):
        j.append([new(ev.MemberRecovered(member="1_01")), new(ev.MemberFailed(member="9_09"))])
    # 1_01 is still DOWN: the refused batch's first event was never kept, not even in memory.
    assert j.state_at().members["1_01"]["state"] == "DOWN"
    j.append([new(ev.LoadChanged(group=1, connections=5))])
    state = j.state_at()
    assert state.members["1_01"]["state"] == "DOWN"
    assert state.members["1_01"]["connections"] == 0.0


def test_an_unknown_type_is_kept_as_opaque_when_allowed(
    journal_with_topology: Journal, tmp_path: Path
) -> None:
    j = journal_with_topology
    path = write_jsonl(tmp_path / "x.jsonl", [{"type": "acme_happened", "level": 3}])
    with pytest.raises(TwinInputError, match="unknown event type 'acme_happened'"):
        j.import_file(path)
    before = j.state_at().digest()
    j.import_file(path, allow_unknown=True)
    stored = j.get(9)
    assert stored.type == "acme_happened"
    assert isinstance(stored.event, OpaqueEvent)
    assert stored.data == {"level": 3}
    assert j.state_at(9).seq == 9
    assert j.state_at(8).digest() == before


@attrs.frozen(kw_only=True)
class AcmeHappened(Event):
    """A plugin's event type."""

    event_type: ClassVar[str] = "acme_happened"
    level: int


def test_a_plugin_registry_decodes_its_own_types(jpath: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"type": "acme_happened", "level": 3}])
    with Journal.create(jpath) as j:
        j.import_file(path, allow_unknown=True)
    registry = EventRegistry([*CORE_EVENTS, AcmeHappened])
    with Journal.open(jpath, registry=registry) as j:
        assert j.get(1).event == AcmeHappened(level=3)
        j.import_file(path)  # now a known type: no --allow-unknown needed
        assert j.head() == 2


def test_a_stored_payload_that_no_longer_decodes_is_reported_with_its_seq(jpath: Path) -> None:
    @attrs.frozen(kw_only=True)
    class AcmeV2(Event):
        event_type: ClassVar[str] = "acme_happened"
        schema: ClassVar[int] = 2
        level: int

    with Journal.create(jpath, registry=EventRegistry([*CORE_EVENTS, AcmeHappened])) as j:
        j.append([new(AcmeHappened(level=1))])
    with (
        Journal.open(jpath, registry=EventRegistry([*CORE_EVENTS, AcmeV2])) as j,
        pytest.raises(TwinInputError, match=r"event 1 \(acme_happened\).*upcaster"),
    ):
        j.get(1)


def test_old_payloads_are_upcast_on_read_and_never_rewritten(jpath: Path) -> None:
    @attrs.frozen(kw_only=True)
    class AcmeV2(Event):
        event_type: ClassVar[str] = "acme_happened"
        schema: ClassVar[int] = 2
        severity: str

    with Journal.create(jpath, registry=EventRegistry([*CORE_EVENTS, AcmeHappened])) as j:
        j.append([new(AcmeHappened(level=3))])
    registry = EventRegistry([*CORE_EVENTS, AcmeV2])

    @registry.upcaster("acme_happened", 1)
    def level_to_severity(data: dict[str, Any]) -> dict[str, Any]:
        return {"severity": "high" if data.pop("level") > 2 else "low"}

    with Journal.open(jpath, registry=registry) as j:
        env = j.get(1)
        assert env.event == AcmeV2(severity="high")
        assert (env.schema, env.data) == (1, {"level": 3})  # as stored
        assert j.verify().ok


def test_a_corrupted_payload_is_reported_not_a_traceback(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    tamper(Path(str(j.path)), "UPDATE events SET data = 'oops' WHERE seq = 2")
    with pytest.raises(TwinInputError, match=r"event 2 \(site_added\) holds data that is not JSON"):
        list(j.read())
    assert j.verify().first_bad_seq == 2


# -- append-only and the hash chain ----------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET data = '{\"site\":3}' WHERE seq = 1",
        "DELETE FROM events WHERE seq = 8",
        "UPDATE branch_events SET data = '{}'",
        "DELETE FROM branch_events",
    ],
)
def test_sqlite_itself_refuses_to_change_or_delete_events(
    journal_with_topology: Journal, sql: str
) -> None:
    j = journal_with_topology
    j.create_branch("what-if", at=8)
    j.append(loads(2), branch="what-if")
    conn = raw(Path(str(j.path)))
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    finally:
        conn.close()
    assert j.verify().ok
    assert j.verify(branch="what-if").ok


def tamper(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Change a journal behind the twin's back, as an attacker with sqlite3 could."""
    conn = raw(path)
    try:
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute("DROP TRIGGER events_no_delete")
        conn.execute(sql, params)
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("sql", "bad_seq", "words"),
    [
        ('UPDATE events SET data = \'{"connections":1,"group":1}\' WHERE seq = 12', 12, "hash"),
        ("UPDATE events SET actor = 'mallory' WHERE seq = 12", 12, "hash"),
        ("UPDATE events SET prev_hash = hash WHERE seq = 12", 12, "broken link"),
        ("UPDATE events SET actor = CAST(x'6dff' AS TEXT) WHERE seq = 12", 12, "not UTF-8"),
        ("UPDATE events SET data = CAST(x'7bff7d' AS TEXT) WHERE seq = 12", 12, "not UTF-8"),
        ("DELETE FROM events WHERE seq = 12", 12, "missing"),
        ("UPDATE events SET seq = 100 WHERE seq = 20", 20, "missing"),
        ("DELETE FROM events WHERE seq = 28", 28, "deleted from the end"),
        ("DELETE FROM events WHERE seq >= 26", 26, "deleted from the end"),
    ],
)
def test_verify_names_the_first_tampered_seq(
    journal_with_topology: Journal, sql: str, bad_seq: int, words: str
) -> None:
    j = journal_with_topology
    j.append(loads(20))
    assert j.verify() == journal_verify_ok(28)
    tamper(Path(str(j.path)), sql)
    result = j.verify()
    assert not result.ok
    assert result.first_bad_seq == bad_seq
    assert result.checked == bad_seq - 1
    assert result.problem is not None
    assert words in result.problem
    assert f"seq {bad_seq}" in result.problem


def journal_verify_ok(count: int) -> Any:
    from journal import VerifyResult

    return VerifyResult(True, count, None, None)


def test_a_rehashed_row_still_breaks_the_next_link(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    row = raw_row(j, 5)
    forged = (*row[:10], '{"group":1,"member":"1_09","site":1}', row[11])
    new_hash = chain_hash(row[11], canonical_bytes(*forged))
    tamper(
        Path(str(j.path)),
        "UPDATE events SET data = ?, hash = ? WHERE seq = 5",
        (forged[10], new_hash),
    )
    result = j.verify()
    assert (result.ok, result.first_bad_seq) == (False, 6)
    assert "broken link" in str(result.problem)


def raw_row(j: Journal, seq: int) -> tuple[Any, ...]:
    conn = raw(Path(str(j.path)))
    try:
        row: tuple[Any, ...] = conn.execute("SELECT * FROM events WHERE seq = ?", (seq,)).fetchone()
    finally:
        conn.close()
    return row


def test_stored_hash_is_sha256_of_prev_hash_and_canonical_envelope(
    journal_with_topology: Journal,
) -> None:
    env = journal_with_topology.get(4)
    document = {
        "seq": env.seq,
        "event_id": env.event_id,
        "type": env.type,
        "schema": env.schema,
        "occurred_at": env.occurred_at,
        "recorded_at": env.recorded_at,
        "actor": env.actor,
        "reason": env.reason,
        "correlation_id": env.correlation_id,
        "causation_id": env.causation_id,
        "data": env.data,
        "prev_hash": env.prev_hash,
    }
    import hashlib

    expected = hashlib.sha256(
        bytes.fromhex(env.prev_hash) + orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    assert env.hash == expected


text = st.one_of(st.none(), st.text(max_size=20))


@settings(max_examples=60, deadline=None)
@given(actor=text, reason=text, corr=text, note=st.text(min_size=1, max_size=40))
def test_canonical_bytes_equal_sorted_orjson_of_the_parsed_envelope(
    actor: str | None, reason: str | None, corr: str | None, note: str
) -> None:
    data = orjson.dumps({"text": note}, option=orjson.OPT_SORT_KEYS).decode()
    fields = (7, new_event_id(), "note", 1, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000001Z")
    ours = canonical_bytes(*fields, actor, reason, corr, None, data, GENESIS_HASH)
    document = dict(
        zip(
            ["seq", "event_id", "type", "schema", "occurred_at", "recorded_at"], fields, strict=True
        ),
        actor=actor,
        reason=reason,
        correlation_id=corr,
        causation_id=None,
        data={"text": note},
        prev_hash=GENESIS_HASH,
    )
    assert ours == orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


@settings(max_examples=25, deadline=None)
@given(notes=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=5), who=text)
def test_any_text_appended_verifies(notes: list[str], who: str | None) -> None:
    with Journal.in_memory() as j:
        j.append([new(ev.Note(text=n), reason=n) for n in notes], actor=who)
        assert j.verify().ok
        assert [e.event.text for e in j.read()] == notes  # type: ignore[attr-defined]


# -- ids -------------------------------------------------------------------------------------


def test_event_ids_are_uuid7_and_strictly_increasing() -> None:
    ids = [new_event_id() for _ in range(1000)] + new_event_ids(5000) + [new_event_id()]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    for i in ids[::500]:
        assert UUID7.fullmatch(i)


@pytest.mark.parametrize(
    "counter",
    [0, 5, (1 << 48) - 3, (1 << 62) - 2, (5 << 62) - 1, (1 << 74) - 4, 0x1234_5678_9ABC_DEF0_123],
)
def test_a_batch_of_ids_is_formatted_as_one_id_at_a_time(counter: int) -> None:
    """The batch formatter shares a prefix between ids: across 48- and 62-bit carries too."""
    from journal.ids import _format, _formatted

    ms = 0x0190_A2B3_C4D5
    count = 4 if counter >= (1 << 74) - 4 else 7
    assert _formatted(ms, counter, count) == [
        _format(ms, c) for c in range(counter, counter + count)
    ]


def test_an_event_id_carries_the_time_it_was_made() -> None:
    import time

    from journal.ids import event_id_time_ms

    before = time.time_ns() // 1_000_000
    made = event_id_time_ms(new_event_id())
    assert made is not None
    assert before <= made <= before + 5000
    assert event_id_time_ms("load-1") is None


# -- branches --------------------------------------------------------------------------------


def test_a_branch_reads_its_parent_up_to_the_fork_then_its_own_events(
    journal_with_topology: Journal,
) -> None:
    j = journal_with_topology
    j.append(loads(10))  # main: 1..18
    info = j.create_branch("add-sgm", at=12)
    assert (info.name, info.parent, info.fork_seq, info.head) == ("add-sgm", None, 12, 12)
    assert j.head("add-sgm") == 12
    result = j.append(
        [new(ev.MemberAdded(member="1_05", group=1, site=1)), *loads(2, start=100)],
        branch="add-sgm",
    )
    assert (result.first_seq, result.last_seq) == (13, 15)
    view = list(j.read(branch="add-sgm"))
    main = list(j.read())
    assert [e.seq for e in view] == list(range(1, 16))
    assert view[:12] == main[:12]
    assert view[12].event == ev.MemberAdded(member="1_05", group=1, site=1)
    assert view[12].prev_hash == main[11].hash
    # The main line did not move.
    assert j.head() == 18
    assert "1_05" not in j.state_at().members
    assert "1_05" in j.state_at(branch="add-sgm").members
    assert j.verify().ok
    assert j.verify(branch="add-sgm") == journal_verify_ok(15)
    assert [b.head for b in j.branches()] == [15]


def test_a_branch_of_a_branch_chains_through_both(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    j.create_branch("a", at=6)
    j.append(loads(4), branch="a")  # a: 7..10 own
    j.create_branch("b", at=8, parent="a")
    j.append(loads(3, start=50), branch="b")  # b: 9..11 own
    view = list(j.read(branch="b"))
    a_view = list(j.read(branch="a"))
    main = list(j.read())
    assert [e.seq for e in view] == list(range(1, 12))
    assert view[:6] == main[:6]
    assert view[6:8] == a_view[6:8]
    assert [e.event.connections for e in view[8:]] == [51_000, 52_000, 53_000]  # type: ignore[attr-defined]
    assert j.verify(branch="b").ok
    assert [(b.name, b.parent, b.fork_seq, b.head) for b in j.branches()] == [
        ("a", None, 6, 10),
        ("b", "a", 8, 11),
    ]
    assert j.head() == 8
    assert j.get(9, branch="b").event.connections == 51_000  # type: ignore[attr-defined]


def test_creating_a_branch_checks_its_name_and_fork_point(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    j.create_branch("plan-1", at=8)
    with pytest.raises(TwinInputError, match="already exists"):
        j.create_branch("plan-1", at=3)
    with pytest.raises(TwinInputError, match="from 0 to 8"):
        j.create_branch("plan-2", at=9)
    with pytest.raises(TwinInputError, match="from 0 to 8"):
        j.create_branch("plan-2", at=-1)
    with pytest.raises(TwinInputError, match="no such branch 'nope'"):
        j.create_branch("plan-2", at=1, parent="nope")
    for name in ("main", "", "has space", "-dash"):
        with pytest.raises(TwinInputError, match="branch name"):
            j.create_branch(name, at=1)
    assert [b.name for b in j.branches()] == ["plan-1"]
    assert j.create_branch("empty", at=0).head == 0


def test_an_unknown_branch_is_named_in_the_error(journal_with_topology: Journal) -> None:
    with pytest.raises(TwinInputError, match="no such branch 'ghost'"):
        journal_with_topology.head("ghost")
    with pytest.raises(TwinInputError, match="no such branch 'ghost'"):
        list(journal_with_topology.read(branch="ghost"))


def test_a_branch_skips_ids_of_its_prefix_but_not_of_main_after_the_fork(
    journal_with_topology: Journal,
) -> None:
    j = journal_with_topology
    j.append(loads(4, ids="m"))  # main 9..12: m-0..m-3
    j.create_branch("b", at=10)  # b sees m-0, m-1
    result = j.append(loads(4, ids="m"), branch="b")
    assert (result.appended, result.skipped) == (2, 2)
    assert [e.event_id for e in j.read(9, branch="b")] == ["m-0", "m-1", "m-2", "m-3"]
    assert j.verify(branch="b").ok
    assert j.head() == 12


def test_branch_expect_head_and_invalid_events(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    j.create_branch("b", at=8)
    with pytest.raises(ConflictError):
        j.append(loads(1), branch="b", expect_head=7)
    with pytest.raises(InvalidEventError, match="unknown member"):
        j.append([new(ev.MemberFailed(member="1_07"))], branch="b")
    assert j.head("b") == 8
    assert j.append(loads(1), branch="b", expect_head=8).last_seq == 9


# -- state and snapshots ---------------------------------------------------------------------


def test_state_at_folds_the_reducer_state(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    j.append([new(ev.MemberFailed(member="1_03"))])
    assert j.state_at(8).members["1_03"]["state"] == "UP"
    assert j.state_at().members["1_03"]["state"] == "DOWN"
    assert j.state_at(0).members == {}
    assert j.state_at().seq == 9
    with pytest.raises(TwinInputError, match="from 0 to 9"):
        j.state_at(10)


def test_state_at_returns_a_state_the_caller_owns(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    state = j.state_at()
    state.members.clear()
    assert len(j.state_at().members) == 4


def test_state_snapshots_are_written_every_n_events_by_readers(
    journal_with_topology: Journal,
) -> None:
    j = journal_with_topology
    j.append(loads(SNAPSHOT_EVERY * 2))
    # An append checks events against the structure only: the state is a reader's to fold.
    assert j.load_snapshot(STATE_KEY, j.head()) is None
    j.state_at()
    assert j.load_snapshot(STATE_KEY, j.head()) is not None
    seqs = snapshot_seqs(j)
    assert seqs == [SNAPSHOT_EVERY, 2 * SNAPSHOT_EVERY]
    with Journal.open(Path(str(j.path)), snapshots=False) as bare:
        middle = SNAPSHOT_EVERY + SNAPSHOT_EVERY // 2 + 3
        assert bare.state_at(middle).digest() == j.state_at(middle).digest()
    assert j.drop_snapshots() == 2
    assert snapshot_seqs(j) == []
    j.state_at()  # a read rebuilds them
    assert snapshot_seqs(j) == [SNAPSHOT_EVERY, 2 * SNAPSHOT_EVERY]


def snapshot_seqs(j: Journal) -> list[int]:
    conn = raw(Path(str(j.path)))
    try:
        return [r[0] for r in conn.execute("SELECT seq FROM snapshots ORDER BY seq")]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def snapshotted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Journal, Journal]]:
    """A 600-event journal with state snapshots every 50 events, and a view without snapshots.

    Branch ``b`` forks at 333 and has 100 events of its own.
    """
    path = tmp_path_factory.mktemp("snap") / "twin.db"
    events: list[NewEvent] = []
    for i in range(592):
        member = f"1_0{i % 4 + 1}"
        if i % 37 == 5:
            events.append(new(ev.MemberFailed(member=member)))
        elif i % 37 == 9:
            events.append(new(ev.MemberRecovered(member=member)))
        elif i % 53 == 0:
            events.append(new(ev.WeightChanged(member=member, weight=i % 300)))
        else:
            events.append(new(ev.LoadChanged(group=1, connections=i * 1000, cpu_pct=float(i % 97))))
    with Journal.create(path) as j, Journal.open(path, snapshots=False) as bare:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(journal.snapshots, "SNAPSHOT_EVERY", 50)
            j.append(topology())
            j.append(events)
            j.create_branch("b", at=333)
            j.append(loads(100), branch="b")
            j.state_at()  # readers write the state snapshots
            j.state_at(branch="b")
        yield j, bare


@settings(max_examples=40, deadline=None)
@given(seq=st.integers(0, 600), on_branch=st.booleans())
def test_state_with_snapshots_equals_state_without(
    snapshotted: tuple[Journal, Journal], seq: int, on_branch: bool
) -> None:
    j, bare = snapshotted
    branch = "b" if on_branch else None
    seq = min(seq, j.head(branch))
    assert j.state_at(seq, branch=branch).digest() == bare.state_at(seq, branch=branch).digest()


def test_a_branch_restores_its_parents_snapshot(snapshotted: tuple[Journal, Journal]) -> None:
    j, _ = snapshotted
    found = j.load_snapshot(STATE_KEY, 340, branch="b")
    assert found is not None
    assert found[0] == 300  # main's, before the fork at 333
    j.state_at(433, branch="b")
    own = j.load_snapshot(STATE_KEY, 433, branch="b")
    assert own is not None
    assert own[0] == 400


def test_a_broken_snapshot_is_ignored(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    j.append(loads(SNAPSHOT_EVERY + 10))
    expected = j.state_at().digest()
    conn = raw(Path(str(j.path)))
    try:
        conn.execute("UPDATE snapshots SET blob = X'00010203'")
    finally:
        conn.close()
    assert j.state_at().digest() == expected
    with Journal.open(Path(str(j.path))) as other:
        assert other.append(loads(1)).appended == 1  # the append path copes as well


def test_appends_check_the_structure_and_snapshot_it(
    journal_with_topology: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    j = journal_with_topology
    monkeypatch.setattr(journal.snapshots, "STRUCTURE_EVERY", 50)
    j.append(loads(120))
    structure = j.load_snapshot(STRUCTURE_KEY, j.head())
    assert structure is not None and structure[0] == 100
    with Journal.open(Path(str(j.path))) as other:  # folds from the structure snapshot
        with pytest.raises(TwinInputError, match="unknown member '9_99'"):
            other.append([new(ev.LoadChanged(member="9_99", cpu_pct=1.0))])
        conn = raw(Path(str(j.path)))
        try:
            conn.execute("UPDATE snapshots SET blob = X'00010203'")
        finally:
            conn.close()
        assert other.append(loads(1)).appended == 1  # a broken one is passed over
    # The twin's own state still folds every load.
    with Journal.open(Path(str(j.path)), snapshots=False) as bare:
        assert j.state_at().digest() == bare.state_at().digest()
        assert bare.state_at().members["1_01"]["connections"] > 0


def test_other_keys_are_opaque_snapshots(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    j.append(loads(30))
    assert j.save_snapshot("engine:1:abc", 10, b"ten", "d10")
    assert j.save_snapshot("engine:1:abc", 20, b"twenty", "d20")
    assert j.load_snapshot("engine:1:abc", 19) == (10, b"ten")
    assert j.load_snapshot("engine:1:abc", 1000) == (20, b"twenty")
    assert j.load_snapshot("engine:1:abc", 9) is None
    assert j.load_snapshot("engine:2:abc", 1000) is None
    with pytest.raises(ValueError, match="not an event"):
        j.save_snapshot("engine:1:abc", 39, b"", "")
    j.create_branch("b", at=15)
    j.append(loads(10), branch="b")
    assert j.save_snapshot("engine:1:abc", 22, b"b22", "d", branch="b")
    assert j.load_snapshot("engine:1:abc", 30, branch="b") == (22, b"b22")
    assert j.load_snapshot("engine:1:abc", 21, branch="b") == (10, b"ten")
    assert j.load_snapshot("engine:1:abc", 1000) == (20, b"twenty")
    assert j.drop_snapshots("engine:1:abc") == 3
    assert j.load_snapshot("engine:1:abc", 1000) is None


# -- reading ---------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(chunk=st.integers(1, 700), start=st.integers(-2, 620), span=st.integers(0, 700))
def test_reading_in_any_chunk_size_gives_the_same_events(
    snapshotted: tuple[Journal, Journal], chunk: int, start: int, span: int
) -> None:
    j, _ = snapshotted
    stop = start + span
    expected = [e for e in j.read(chunk=5000) if start <= e.seq <= stop]
    assert list(j.read(start, stop, chunk=chunk)) == expected
    branch_expected = [e for e in j.read(branch="b", chunk=5000) if start <= e.seq <= stop]
    assert list(j.read(start, stop, branch="b", chunk=chunk)) == branch_expected


def test_reading_while_writing_to_the_same_journal(journal_with_topology: Journal) -> None:
    j = journal_with_topology
    j.append(loads(50))
    seen = []
    for env in j.read(chunk=7):
        seen.append(env.seq)
        if env.seq == 20:
            j.append(loads(5, start=500))
    assert seen == list(range(1, 59))  # stop is the head when reading began
    assert j.head() == 63


def test_a_reader_is_not_blocked_by_a_writer_in_another_connection(
    journal_with_topology: Journal,
) -> None:
    path = Path(str(journal_with_topology.path))
    writer = raw(path)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO meta (key, value) VALUES ('pending', 'x')")
        with Journal.open(path) as reader:
            assert reader.head() == 8
            assert len(list(reader.read())) == 8
            assert reader.verify().ok
            assert len(reader.state_at().members) == 4
        writer.execute("ROLLBACK")
    finally:
        writer.close()


def test_opaque_data_with_nested_values_round_trips(jpath: Path, tmp_path: Path) -> None:
    record = {"type": "vendor_dump", "rows": [1, 2.5, {"b": None, "a": "é"}], "ok": True}
    with Journal.create(jpath) as j:
        j.import_file(write_jsonl(tmp_path / "v.jsonl", [record]), allow_unknown=True)
        env = j.get(1)
        assert env.data == {"rows": [1, 2.5, {"a": "é", "b": None}], "ok": True}
        assert j.verify().ok


def test_an_event_file_with_a_bad_time_is_refused_with_its_line(
    journal_with_topology: Journal, tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "t.jsonl",
        [{"type": "note", "text": "a"}, {"type": "note", "text": "b", "ts": "yesterday"}],
    )
    with pytest.raises(TwinInputError, match=r":2: ts: must be an ISO 8601 time"):
        journal_with_topology.import_file(path)
    assert journal_with_topology.head() == 8


def test_csv_files_import_too(jpath: Path, tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("type,site,group,member,connections\nsite_added,1,,,\ngroup_created,,1,,\n")
    with Journal.create(jpath) as j:
        assert j.import_file(path).appended == 2
        with pytest.raises(EventDataError):
            j.import_file(write_csv(tmp_path / "bad.csv"))
        assert j.head() == 2


def write_csv(path: Path) -> Path:
    path.write_text("type,group,connections\nload_changed,1,lots\n")
    return path
