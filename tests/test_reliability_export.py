"""`twin export`: a single-file copy that holds every committed event, even those still in -wal."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from journal import Journal
from tests.cli_helpers import run_twin
from tests.fault_helpers import in_namespace, namespaces_available, read_only_bind, twin_command

ROWS = [
    {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1},
    {"type": "group_created", "group": 1},
    {"type": "member_added", "member": "1_01", "group": 1, "site": 1},
    *({"type": "note", "text": f"n{i}"} for i in range(20)),
]


def count(path: Path) -> int:
    """Events in the file at ``path`` alone (0 if even the schema is still in -wal)."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


@pytest.fixture
def live(tmp_path: Path) -> tuple[Path, Journal]:
    """A journal still open by a writer, its newest events only in J.db-wal."""
    source = tmp_path / "e.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    path = tmp_path / "j.db"
    journal = Journal.create(path)
    journal._conn.execute("PRAGMA wal_autocheckpoint = 0")  # as a busy writer leaves it
    journal.import_file(source)
    return path, journal


def test_copying_only_the_db_file_of_a_live_journal_loses_events(
    live: tuple[Path, Journal], tmp_path: Path
) -> None:
    path, journal = live
    shutil.copy(path, tmp_path / "copy.db")
    journal.close()
    assert count(tmp_path / "copy.db") < len(ROWS)  # why export exists (docs/reliability.md)


def test_export_holds_every_committed_event_in_one_file(
    live: tuple[Path, Journal], tmp_path: Path
) -> None:
    path, journal = live
    try:
        result = run_twin("export", path, tmp_path / "out.db")
    finally:
        journal.close()
    assert result.code == 0, result
    assert "23 events, verified" in result.out
    assert result.out.splitlines()[-1].startswith("head 23:")
    out = tmp_path / "out.db"
    assert count(out) == len(ROWS)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == ["out.db"]
    with sqlite3.connect(out) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 0
    assert run_twin("verify", out).code == 0


def test_export_refuses_to_overwrite_and_leaves_nothing_behind(
    live: tuple[Path, Journal], tmp_path: Path
) -> None:
    path, journal = live
    journal.close()
    (tmp_path / "taken.db").write_text("mine")
    result = run_twin("export", path, tmp_path / "taken.db")
    assert result.one_line_error and "already exists" in result.err
    assert (tmp_path / "taken.db").read_text() == "mine"
    missing = run_twin("export", path, tmp_path / "nowhere" / "x.db")
    assert missing.one_line_error
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


@pytest.mark.skipif(not namespaces_available(), reason="needs mount namespaces (unshare)")
def test_an_exported_copy_reads_on_read_only_media_without_any_warning(
    live: tuple[Path, Journal], tmp_path: Path
) -> None:
    path, journal = live
    journal.close()
    media = tmp_path / "media"
    media.mkdir()
    assert run_twin("export", path, media / "copy.db").code == 0
    ran = in_namespace(read_only_bind(media), twin_command("verify", media / "copy.db"))
    assert ran.code == 0 and ran.err == "", ran
    assert "ok: 23 events" in ran.out
