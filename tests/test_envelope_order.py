"""The envelope's field order is defined once (twin.envelope.ENVELOPE_FIELDS) and held everywhere.

The hot paths (appending rows, decoding rows) spell the order out positionally
for speed; these tests catch any of them drifting from the one definition.
"""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path

from journal import Journal
from journal.reading import COLUMNS_SQL
from journal.schema import EVENT_COLUMNS
from twin import events as ev
from twin.envelope import ENVELOPE_FIELDS, Envelope
from twin.event_files import NewEvent


def test_the_journal_columns_are_the_envelope_fields() -> None:
    assert EVENT_COLUMNS == ENVELOPE_FIELDS
    assert COLUMNS_SQL.split(", ") == list(ENVELOPE_FIELDS)
    constructor = list(inspect.signature(Envelope.__new__).parameters)[1:]
    assert constructor == [*ENVELOPE_FIELDS, "event"]


def test_the_tables_hold_exactly_those_columns(tmp_path: Path) -> None:
    with Journal.create(tmp_path / "j.db"):
        pass
    conn = sqlite3.connect(tmp_path / "j.db")
    try:
        main = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
        branch = [row[1] for row in conn.execute("PRAGMA table_info(branch_events)")]
    finally:
        conn.close()
    assert sorted(main) == sorted(ENVELOPE_FIELDS)
    assert sorted(branch) == sorted(["branch", *ENVELOPE_FIELDS])


def test_every_field_lands_in_its_own_column_and_reads_back_in_place(tmp_path: Path) -> None:
    # Distinct values per field: a swapped position anywhere (append, read, decode) shows.
    path = tmp_path / "j.db"
    site = ev.SiteAdded(site=1)
    new = NewEvent(
        event=site,
        type=site.event_type,
        event_id="E-1",
        occurred_at="2026-03-14T01:00:00Z",
        actor="the actor",
        reason="the reason",
        correlation_id="the correlation",
        causation_id="the cause",
    )
    with Journal.create(path) as journal:
        journal.append([new])
        journal.create_branch("b", at=1)
        group = ev.GroupCreated(group=1)
        journal.append([NewEvent(event=group, type=group.event_type, event_id="E-2")], branch="b")
        read = list(journal.read())
        read_branch = list(journal.read(branch="b"))
    conn = sqlite3.connect(path)
    try:
        stored = conn.execute(f"SELECT {', '.join(ENVELOPE_FIELDS)} FROM events").fetchone()
        stored_branch = conn.execute(
            f"SELECT {', '.join(ENVELOPE_FIELDS)} FROM branch_events WHERE branch = 'b'"
        ).fetchone()
    finally:
        conn.close()
    by_name = dict(zip(ENVELOPE_FIELDS, stored, strict=True))
    assert by_name["event_id"] == "E-1" and by_name["type"] == "site_added"
    assert by_name["actor"] == "the actor" and by_name["reason"] == "the reason"
    assert by_name["correlation_id"] == "the correlation"
    assert by_name["causation_id"] == "the cause"
    assert by_name["occurred_at"] == "2026-03-14T01:00:00Z"
    (envelope,) = read
    for name in ENVELOPE_FIELDS:
        if name != "data":  # stored as JSON text, read back as the dict
            assert getattr(envelope, name) == by_name[name], name
    assert envelope.to_json()["data"] == {"site": 1}
    branch_row = dict(zip(ENVELOPE_FIELDS, stored_branch, strict=True))
    assert read_branch[-1].event_id == branch_row["event_id"] == "E-2"
    assert read_branch[-1].prev_hash == branch_row["prev_hash"] == envelope.hash
    assert read_branch[-1].hash == branch_row["hash"]
