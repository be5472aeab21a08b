"""Readers do not trust a journal blindly: cheap checks while streaming, --verify, seq in errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import run_twin, tamper

ROWS: list[dict[str, Any]] = [
    {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1},
    {"type": "group_created", "group": 1},
    {"type": "member_added", "member": "1_01", "group": 1, "site": 1},
    {"type": "member_added", "member": "1_02", "group": 1, "site": 1},
    *({"type": "load_changed", "member": "1_01", "cpu_pct": 10 + i} for i in range(8)),
]
READERS = [
    ["log", "{j}"],
    ["run", "{j}", "--format", "jsonl"],
    ["state", "{j}", "--format", "json"],
]


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    path = tmp_path / "j.db"
    assert run_twin("init", path).code == 0
    assert run_twin("import", path, source).code == 0
    return path


def warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("twin: warning:")]


def test_a_clean_journal_reads_without_a_word(journal: Path) -> None:
    for args in READERS:
        result = run_twin(*(a.format(j=journal) for a in args))
        assert result.code == 0 and result.err == "", result


@pytest.mark.parametrize("args", READERS)
def test_a_rehashed_edit_is_noticed_while_streaming(journal: Path, args: list[str]) -> None:
    # Edit seq 6 and recompute its own hash: seq 7 no longer chains to it.
    tamper(
        journal,
        "UPDATE events SET data = replace(data, '\"cpu_pct\":11', '\"cpu_pct\":99'), "
        "hash = '" + "ab" * 32 + "' WHERE seq = 6",
    )
    result = run_twin(*(a.format(j=journal) for a in args))
    assert result.code == 0, result
    (warning,) = warnings(result.err)
    assert "seq 7 does not chain to seq 6" in warning and f"twin verify {journal}" in warning


def test_events_deleted_from_the_end_are_noticed_by_the_head_anchor(journal: Path) -> None:
    tamper(journal, "DELETE FROM events WHERE seq >= 11")
    result = run_twin("log", journal)
    (warning,) = warnings(result.err)
    assert "recorded events up to seq 12 but ends at seq 10" in warning


def test_a_gap_is_noticed_and_only_the_first_problem_is_reported(journal: Path) -> None:
    tamper(journal, "DELETE FROM events WHERE seq IN (5, 8)", "DELETE FROM events WHERE seq = 12")
    result = run_twin("log", journal)
    assert result.code == 0
    (warning,) = warnings(result.err)
    assert "seq 5 is missing (seq 6 follows seq 4)" in warning


def test_state_at_a_deleted_seq_says_so(journal: Path) -> None:
    tamper(journal, "DELETE FROM events WHERE seq = 7")
    result = run_twin("state", journal, "--at", "7")
    assert result.code == 2 and result.traceback is None
    assert "event 7 is missing from the journal (deleted?)" in result.err
    assert "before the first event" not in result.out


@pytest.mark.parametrize(
    ("args", "seq"),
    [
        (["run", "{j}"], 6),
        (["state", "{j}", "--at", "9"], 6),
        (["diff", "{j}", "4", "9"], 6),
        (["append", "{j}", "note", "text=x"], 6),
    ],
)
def test_a_payload_edited_to_a_wrong_type_is_an_error_naming_its_seq(
    journal: Path, args: list[str], seq: int
) -> None:
    tamper(journal, "UPDATE events SET data = replace(data, '11', '\"eleven\"') WHERE seq = 6")
    result = run_twin(*(a.format(j=journal) for a in args))
    assert result.one_line_error, result
    assert f"event {seq} (load_changed) holds invalid data" in result.err
    assert "cpu_pct" in result.err


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("UPDATE events SET data = '[1, 2]' WHERE seq = 6", "not a JSON object"),
        ("UPDATE events SET occurred_at = x'00ff' WHERE seq = 6", "envelope column of a type"),
        ("UPDATE events SET schema = 'one' WHERE seq = 6", "envelope column of a type"),
    ],
)
def test_rows_no_journal_writes_are_one_line_errors(journal: Path, sql: str, words: str) -> None:
    tamper(journal, sql)
    for args in (["log", journal], ["run", journal], ["state", journal]):
        result = run_twin(*args)
        assert result.code == 2 and result.traceback is None, result
        assert words in result.err


def test_an_id_edited_to_a_number_is_an_error_naming_its_seq(journal: Path) -> None:
    tamper(journal, 'UPDATE events SET data = \'{"member": 5, "cpu_pct": 1}\' WHERE seq = 6')
    for args in (["run", journal], ["state", journal]):
        result = run_twin(*args)
        assert result.code == 2 and result.traceback is None, result
        assert "event 6" in result.err


def test_verify_flag_refuses_a_journal_with_a_silently_edited_value(journal: Path) -> None:
    # An edit that keeps every link: only recomputing the hashes can tell.
    tamper(
        journal,
        "UPDATE events SET data = replace(data, '\"cpu_pct\":11', '\"cpu_pct\":12') WHERE seq = 6",
    )
    assert warnings(run_twin("run", journal).err) == []  # the limit of the cheap checks
    for command in ("log", "run", "state"):
        result = run_twin(command, journal, "--verify")
        assert result.code == 1 and result.out == ""
        assert "verify FAILED at seq 6: seq 6: hash does not match" in result.err
    diff = run_twin("diff", journal, "1", "3", "--verify")
    assert diff.code == 1


def test_verify_flag_reads_a_sound_journal(journal: Path) -> None:
    result = run_twin("state", journal, "--verify", "--format", "json")
    assert result.code == 0 and json.loads(result.out)["seq"] == 12
