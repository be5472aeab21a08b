"""Imports: all or nothing, in bounded memory, never losing rows or mixing up events (issue 9)."""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import journal.appending
from journal import Journal
from tests.cli_helpers import run_twin
from twin.errors import TwinInputError
from twin.event_files import read_event_file
from twin.events import default_registry

GENESIS = [
    {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1, "event_id": "g-1"},
    {"type": "group_created", "group": 1, "event_id": "g-2"},
    {"type": "member_added", "member": "1_01", "group": 1, "site": 1, "event_id": "g-3"},
    {"type": "member_added", "member": "1_02", "group": 1, "site": 1, "event_id": "g-4"},
]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


# -- item 4: a CSV quote that never closes -----------------------------------------------------


def test_a_csv_with_an_unterminated_quote_is_refused_at_the_line_it_opens(tmp_path: Path) -> None:
    csv_file = tmp_path / "notes.csv"
    csv_file.write_text(
        'type,text\nnote,first\nnote,"second\nnote,third\nnote,fourth\n', encoding="utf-8"
    )
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    result = run_twin("import", journal, csv_file)
    assert result.one_line_error, result
    assert f"{csv_file}:3: " in result.err and "never closed" in result.err
    assert count(journal) == 0


def test_a_quoted_csv_cell_may_span_lines_and_rows_keep_their_first_line(tmp_path: Path) -> None:
    csv_file = tmp_path / "notes.csv"
    csv_file.write_text('type,text\nnote,"two\nlines"\nnote,bad,extra\n', encoding="utf-8")
    with pytest.raises(TwinInputError) as caught:
        list(read_event_file(csv_file, default_registry()))
    assert caught.value.line == 4  # the third row starts on line 4, after the 2-line cell
    csv_file.write_text('type,text\nnote,"two\nlines"\n', encoding="utf-8")
    (event,) = read_event_file(csv_file, default_registry())
    assert event.event.to_data() == {"text": "two\nlines"} and event.line == 2


def test_text_after_a_closing_quote_is_refused(tmp_path: Path) -> None:
    csv_file = tmp_path / "notes.csv"
    csv_file.write_text('type,text\nnote,"a"b\n', encoding="utf-8")
    result = run_twin("log", csv_file)
    assert result.one_line_error and f"{csv_file}:2: not valid CSV" in result.err


def test_a_csv_row_cut_short_is_refused_naming_its_line(tmp_path: Path) -> None:
    """A truncated row would lose its last fields without a word: refused like a long one."""
    csv_file = tmp_path / "loads.csv"
    csv_file.write_text(
        "type,group,connections,cpu_pct\nload_changed,1,1000,40\nload_changed,1,2000\n",
        encoding="utf-8",
    )
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    result = run_twin("import", journal, csv_file)
    assert result.one_line_error, result
    assert f"{csv_file}:3: " in result.err and "3 cells but the header has 4" in result.err
    assert count(journal) == 0
    csv_file.write_text(  # an empty cell kept with its comma is an absent field
        "type,group,connections,cpu_pct\nload_changed,1,2000,\n", encoding="utf-8"
    )
    (event,) = read_event_file(csv_file, default_registry())
    assert "cpu_pct" not in event.event.to_data()


def test_a_misspelt_envelope_key_is_named(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text('{"type": "note", "text": "x", "occured_at": "2026-01-01T00:00:00Z"}\n')
    with pytest.raises(TwinInputError) as caught:
        list(read_event_file(events, default_registry()))
    assert caught.value.field == "occured_at" and caught.value.line == 1
    assert "did you mean 'occurred_at'?" in caught.value.problem
    events.write_text('{"type": "note", "txt": "x"}\n')  # the event's own field wins
    with pytest.raises(TwinInputError) as caught:
        list(read_event_file(events, default_registry()))
    assert "did you mean 'text'?" in caught.value.problem


def test_a_bad_time_is_named_by_the_key_the_file_used(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text('{"type": "note", "text": "x", "occurred_at": "yesterday"}\n')
    with pytest.raises(TwinInputError) as caught:
        list(read_event_file(events, default_registry()))
    assert caught.value.field == "occurred_at"
    events.write_text('{"type": "note", "text": "x", "ts": "yesterday"}\n')
    with pytest.raises(TwinInputError) as caught:
        list(read_event_file(events, default_registry()))
    assert caught.value.field == "ts"


# -- item 13: the same event_id twice ----------------------------------------------------------


def test_the_same_event_id_with_the_same_content_is_skipped(tmp_path: Path) -> None:
    rows = [*GENESIS, {"type": "note", "text": "hello", "event_id": "n-1"}]
    source = write_jsonl(tmp_path / "a.jsonl", rows)
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    assert run_twin("import", journal, source).code == 0
    again = run_twin("import", journal, source)
    assert again.code == 0 and "skipped 5 already in the journal" in again.out
    assert count(journal) == 5


def test_the_same_event_id_with_different_content_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    first = [*GENESIS, {"type": "note", "text": "hello", "event_id": "n-1"}]
    assert run_twin("import", journal, write_jsonl(tmp_path / "a.jsonl", first)).code == 0
    changed = [
        {"type": "note", "text": "other", "event_id": "fresh"},
        {"type": "note", "text": "HELLO", "event_id": "n-1"},
    ]
    source = write_jsonl(tmp_path / "b.jsonl", changed)
    result = run_twin("import", journal, source)
    assert result.one_line_error, result
    assert f"{source}:2: event_id: " in result.err and "different content" in result.err
    assert "event 5 (note)" in result.err
    assert count(journal) == 5  # nothing of b.jsonl written, not even its first line


def test_an_append_retried_with_its_event_id_is_idempotent(tmp_path: Path) -> None:
    """An operator re-runs the same `twin append` (say, after a kill): no "now" in the way."""
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    assert run_twin("import", journal, write_jsonl(tmp_path / "g.jsonl", GENESIS)).code == 0
    command = ("append", journal, "member_failed", "member=1_02", "event_id=op-7")
    assert run_twin(*command).out.strip() == "appended #5 member_failed"
    again = run_twin(*command)
    assert again.code == 0, again
    assert again.out.strip() == "event_id 'op-7' is already in the journal as #5; nothing appended"
    assert count(journal) == 5
    # Different content under the same id is still refused, and so is a different time.
    other = run_twin("append", journal, "member_failed", "member=1_01", "event_id=op-7")
    assert other.one_line_error and "different content" in other.err
    timed = run_twin(*command, "--ts", "2020-01-01T00:00:00Z")
    assert timed.one_line_error and "different content" in timed.err
    assert count(journal) == 5 and run_twin("verify", journal).code == 0


def test_an_event_id_reused_inside_one_file_for_different_events_is_refused(
    tmp_path: Path,
) -> None:
    rows = [
        *GENESIS,
        {"type": "member_failed", "member": "1_01", "event_id": "x"},
        {"type": "member_failed", "member": "1_02", "event_id": "x"},
    ]
    result = run_twin("log", write_jsonl(tmp_path / "a.jsonl", rows))
    assert result.one_line_error and ":6: event_id: " in result.err


def test_a_group_load_resent_without_what_the_journal_filled_in_is_the_same(
    tmp_path: Path,
) -> None:
    rows = [*GENESIS, {"type": "load_changed", "group": 1, "cpu_pct": 40, "event_id": "l-1"}]
    source = write_jsonl(tmp_path / "a.jsonl", rows)
    journal = tmp_path / "j.db"
    run_twin("init", journal)
    run_twin("import", journal, source)
    assert "serving" in run_twin("log", journal, "--format", "jsonl").jsonl()[-1]["data"]
    again = run_twin("import", journal, source)
    assert again.code == 0 and "imported nothing new; skipped 5" in again.out


def test_an_id_already_in_an_earlier_batch_of_the_same_import_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal.appending, "BATCH", 3)
    rows = [*GENESIS, *({"type": "note", "text": f"n{i}", "event_id": f"id-{i}"} for i in range(5))]
    rows.append({"type": "note", "text": "n0", "event_id": "id-0"})  # same content: skipped
    path = tmp_path / "j.db"
    with Journal.create(path) as j:
        result = j.import_file(write_jsonl(tmp_path / "a.jsonl", rows))
        assert (result.appended, result.skipped) == (9, 1)
        rows[-1] = {"type": "note", "text": "not n0", "event_id": "id-0"}
        with pytest.raises(TwinInputError, match="different content"):
            j.import_file(write_jsonl(tmp_path / "b.jsonl", rows))
        assert j.head() == 9


# -- item 13: streaming in bounded memory --------------------------------------------------------


def _peak_import_bytes(tmp_path: Path, events: int) -> int:
    rows = [*GENESIS]
    rows += [{"type": "load_changed", "group": 1, "cpu_pct": i % 100} for i in range(events)]
    source = write_jsonl(tmp_path / f"load-{events}.jsonl", rows)
    with Journal.create(tmp_path / f"j-{events}.db", snapshots=False) as j:
        tracemalloc.start()
        try:
            j.import_file(source)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_importing_streams_the_file_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal.appending, "BATCH", 200)
    small = _peak_import_bytes(tmp_path, 1_000)
    large = _peak_import_bytes(tmp_path, 6_000)
    # Holding the whole file would cost ~6x; streaming costs the same per batch.
    assert large < small * 1.6, (small, large)
