"""Branches a stranger edited, and verify: every line checked, a recorded head, a garbage anchor."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import deadline, run_twin, tamper

ROWS: list[dict[str, Any]] = [
    {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1},
    {"type": "group_created", "group": 1},
    {"type": "member_added", "member": "1_01", "group": 1, "site": 1},
    {"type": "member_added", "member": "1_02", "group": 1, "site": 1},
    *({"type": "load_changed", "group": 1, "cpu_pct": 10 + i} for i in range(6)),
]


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    """A 10-event journal with a branch `what-if` forked at 6 holding 2 events of its own."""
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    path = tmp_path / "j.db"
    assert run_twin("init", path).code == 0
    assert run_twin("import", path, source).code == 0
    assert run_twin("branch", path, "what-if", "--at", "6").code == 0
    for text in ("a", "b"):
        assert run_twin("append", path, "note", f"text={text}", "--branch", "what-if").code == 0
    return path


def insert_branch(name: str, parent: str, fork: int = 3) -> str:
    return (
        "INSERT INTO branches (name, parent, fork_seq, created_at) "
        f"VALUES ('{name}', '{parent}', {fork}, '2026-01-01T00:00:00Z')"
    )


# -- item 5: branch parents in a cycle, or missing ---------------------------------------------


def test_a_branch_parent_cycle_is_reported_and_the_rest_stays_usable(journal: Path) -> None:
    tamper(journal, insert_branch("x", "y"), insert_branch("y", "x"))
    with deadline(60):
        listing = run_twin("branch", journal)
        assert listing.code == 0
        assert "x  BROKEN: branch 'x' cannot be read: its parents form a cycle (x → y → x)" in (
            listing.out
        )
        assert "what-if  from main at #6, head #8" in listing.out
        for args in (
            ["run", journal, "--branch", "x"],
            ["append", journal, "note", "text=t", "--branch", "y"],
        ):
            refused = run_twin(*args)
            assert refused.one_line_error and "cycle" in refused.err, refused
        assert run_twin("append", journal, "note", "text=main still works").code == 0
        assert run_twin("append", journal, "note", "text=w", "--branch", "what-if").code == 0
        assert run_twin("branch", journal, "z", "--at", "2").code == 0
        verify = run_twin("verify", journal)
    assert verify.code == 1 and verify.traceback is None
    assert "verify FAILED on branch x: branch 'x' cannot be read: its parents form a cycle" in (
        verify.err
    )
    assert "on branch y" in verify.err and "what-if" not in verify.err


def test_a_branch_whose_parent_is_missing_is_reported(journal: Path) -> None:
    tamper(journal, insert_branch("orphan", "ghost"))
    with deadline(60):
        listing = run_twin("branch", journal)
        state = run_twin("state", journal, "--branch", "orphan")
        verify = run_twin("verify", journal)
    assert "orphan  BROKEN: branch 'orphan' cannot be read: its parent 'ghost' is missing" in (
        listing.out
    )
    assert state.one_line_error and "parent 'ghost' is missing" in state.err
    assert verify.code == 1 and "on branch orphan" in verify.err


def test_a_branch_forking_past_its_parents_head_fails_verify(journal: Path) -> None:
    tamper(journal, insert_branch("far", "what-if", fork=500))
    verify = run_twin("verify", journal)
    assert verify.code == 1
    assert "on branch far at seq 501: the branch forks at seq 500 but its parent's head is 8" in (
        verify.err
    )


# -- verify checks every branch ------------------------------------------------------------------


def test_plain_verify_checks_every_branch(journal: Path) -> None:
    ok = run_twin("verify", journal)
    assert ok.code == 0
    assert ok.out.strip() == "ok: 10 events on main and 2 on 1 branch, hash chains intact"
    tamper(journal, 'UPDATE branch_events SET data = \'{"text":"z"}\' WHERE seq = 8')
    verify = run_twin("verify", journal)
    assert verify.code == 1
    assert "verify FAILED on branch what-if at seq 8: seq 8: hash does not match" in verify.err
    assert run_twin("verify", journal, "--branch", "main").code == 0


def test_a_branch_chained_to_an_edited_fork_point_fails(journal: Path) -> None:
    tamper(journal, "UPDATE branch_events SET prev_hash = hash WHERE seq = 7")
    verify = run_twin("verify", journal)
    assert verify.code == 1 and "on branch what-if at seq 7" in verify.err


# -- the head anchor and a head recorded elsewhere ---------------------------------------------


@pytest.mark.parametrize("garbage", ["'garbage'", "CAST(x'3130ff' AS TEXT)"])
def test_a_garbage_head_anchor_is_a_failed_check_not_a_traceback(
    journal: Path, garbage: str
) -> None:
    # (the second is text that is not UTF-8: the journal still opens, and verify names it)
    tamper(journal, f"UPDATE meta SET value = {garbage} WHERE key = 'head:main'")
    verify = run_twin("verify", journal)
    assert verify.code == 1 and verify.traceback is None
    assert "head anchor 'head:main' in meta is not <seq>:<hash>" in verify.err
    assert len(verify.err.strip().splitlines()) == 1


def test_import_prints_the_head_and_verify_head_catches_a_rewritten_tail(
    tmp_path: Path, journal: Path
) -> None:
    more = tmp_path / "more.jsonl"
    more.write_text('{"type": "note", "text": "n1"}\n{"type": "note", "text": "n2"}\n')
    imported = run_twin("import", journal, more)
    found = re.search(r"^head (12:[0-9a-f]{64})$", imported.out, re.MULTILINE)
    assert found, imported.out
    recorded = found.group(1)
    assert run_twin("verify", journal, "--head", recorded).code == 0
    # More history is fine: the recorded head is still in it.
    assert run_twin("append", journal, "note", "text=later").code == 0
    later = run_twin("verify", journal, "--head", recorded)
    assert later.code == 0 and f"the recorded head {recorded} is in the history" in later.out
    assert run_twin("verify", journal, "--head", recorded.split(":")[1]).code == 0
    # Someone removes the last three events and rewrites the anchor to match.
    tamper(journal, "DELETE FROM events WHERE seq >= 11")
    tamper(
        journal,
        "UPDATE meta SET value = (SELECT '10:' || hash FROM events WHERE seq = 10) "
        "WHERE key = 'head:main'",
    )
    assert run_twin("verify", journal).code == 0  # the journal alone looks fine
    caught = run_twin("verify", journal, "--head", recorded)
    assert caught.code == 1 and "recorded head #12 is gone" in caught.err
    by_hash = run_twin("verify", journal, "--head", recorded.split(":")[1])
    assert by_hash.code == 1 and "no event has the recorded head hash" in by_hash.err


def test_a_malformed_head_is_bad_usage(journal: Path) -> None:
    result = run_twin("verify", journal, "--head", "12:nothex")
    assert result.one_line_error and "--head" in result.err
