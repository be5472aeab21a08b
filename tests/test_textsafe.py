"""Text from data never drives the terminal: escapes, bidi and Rich markup are shown, not obeyed."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cli_helpers import run_twin
from twin.textsafe import first_unsafe, safe_json, safe_text

# Written by hand from the Unicode categories: what a terminal obeys or hides.
HOSTILE = [
    "\x1b[2J\x1b[H",  # clear the screen, cursor home
    "\x1b]0;pwned\x07",  # set the window title
    "\x9b31m",  # C1 CSI
    "\x7f",  # DEL
    "\r",  # back to column 0: overwrite the line
    "\n",  # a fake extra line
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200b",  # zero-width space
    "\u2028",  # line separator
    "\ufeff",  # zero-width no-break space (BOM)
    "\U000e0041",  # a tag character (invisible)
]


def never_obeyed(text: str) -> bool:
    return not any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp", "Cs"} for c in text)


@pytest.mark.parametrize("bad", HOSTILE)
def test_each_hostile_character_is_shown_escaped(bad: str) -> None:
    shown = safe_text(f"ok{bad}ok")
    assert never_obeyed(shown)
    assert shown.startswith("ok") and shown.endswith("ok") and "\\" in shown
    assert first_unsafe(f"a{bad}") == bad[0]


def test_escapes_read_like_python_escapes() -> None:
    assert safe_text("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert safe_text("\u202eevil") == "\\u202eevil"
    assert safe_text("line1\nline2\tx") == "line1\\nline2\\tx"
    assert safe_text("\U000e0041") == "\\U000e0041"
    assert safe_text("two\nlines\x1b", keep_newlines=True) == "two\nlines\\x1b"


def test_ordinary_text_is_left_alone() -> None:
    for text in ("1_01", "pnote:Interface Active Check", "site 1 — ACTIVE", "µs ✖ ⚠ ℹ", "日本語"):
        assert safe_text(text) == text
        assert first_unsafe(text) is None


@given(st.text())
def test_safe_text_never_leaves_a_character_a_terminal_obeys(text: str) -> None:
    shown = safe_text(text)
    assert never_obeyed(shown)
    assert safe_text(shown) == shown  # idempotent
    if never_obeyed(text):
        assert shown == text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_safe_json_means_the_same_and_holds_nothing_a_terminal_obeys(value: Any) -> None:
    raw = orjson.dumps(value)
    shown = safe_json(raw)
    assert json.loads(shown) == value
    assert never_obeyed(shown.decode("utf-8"))


# -- the command line ----------------------------------------------------------------------------


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def hostile_incident(tmp_path: Path) -> Path:
    fake = "\x1b[2J\x1b[HALL MEMBERS UP - no findings\r\n"
    return write(
        tmp_path / "hostile.jsonl",
        [
            {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1, "name": fake},
            {"type": "group_created", "group": 1},
            {
                "type": "member_added",
                "member": "1_01",
                "group": 1,
                "site": 1,
                "version": "R81\x1b]0;pwned\x07",
                "model": "[bold red]x[/]",
            },
            {"type": "member_added", "member": "1_02", "group": 1, "site": 1},
            {"type": "note", "text": fake, "actor": "\u202eevil", "reason": "[/x]"},
            {"type": "member_failed", "member": "1_02", "cause": fake},
            {"type": "load_changed", "group": 1, "cpu_pct": 90},
        ],
    )


def assert_terminal_safe(text: str) -> None:
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text and "\r" not in text


@pytest.mark.parametrize(
    "args",
    [
        ["log", "{f}"],
        ["log", "{f}", "--format", "jsonl"],
        ["state", "{f}"],
        ["state", "{f}", "--format", "json"],
        ["run", "{f}"],
        ["run", "{f}", "--format", "jsonl"],
        ["diff", "{f}", "1", "7"],
    ],
)
def test_text_from_an_event_file_reaches_the_terminal_escaped(
    tmp_path: Path, args: list[str]
) -> None:
    path = hostile_incident(tmp_path)
    result = run_twin(*(a.format(f=path) for a in args))
    assert result.code == 0, result.err + (result.traceback or "")
    assert_terminal_safe(result.out + result.err)
    if args[0] in ("log", "state") and "--format" not in args:
        assert "\\x1b[2J" in result.out  # shown, visibly


def test_log_shows_the_escaped_actor_and_data(tmp_path: Path) -> None:
    result = run_twin("log", hostile_incident(tmp_path))
    note = next(line for line in result.out.splitlines() if " note " in line)
    assert "\\x1b[2J\\x1b[HALL MEMBERS UP - no findings\\r\\n" in note
    assert "(\\u202eevil)" in note


def test_json_output_keeps_the_exact_values(tmp_path: Path) -> None:
    result = run_twin("log", hostile_incident(tmp_path), "--format", "jsonl")
    rows = result.jsonl()
    assert rows[4]["actor"] == "\u202eevil"
    assert rows[2]["data"]["version"] == "R81\x1b]0;pwned\x07"


def test_an_event_type_in_markup_syntax_is_stored_once_and_printed_as_is(tmp_path: Path) -> None:
    journal = tmp_path / "j.db"
    assert run_twin("init", journal).code == 0
    result = run_twin("append", journal, "[/x]", "a=1", "--allow-unknown")
    assert result.code == 0, result.err + (result.traceback or "")
    assert result.out.strip() == "appended #1 [/x]"
    with sqlite3.connect(journal) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE type = '[/x]'").fetchone() == (1,)
    run_twin("append", journal, "note", "text=after")
    diff = run_twin("diff", journal, "0", "2")
    assert diff.code == 0, diff.err + (diff.traceback or "")
    assert "[/x] ×1" in diff.out


def test_a_file_name_in_markup_syntax_is_printed_as_is(tmp_path: Path) -> None:
    journal = tmp_path / "[bold red]y.db"
    result = run_twin("init", journal)
    assert result.code == 0
    assert f"created {journal} (empty)" in result.out
    again = run_twin("init", journal)
    assert again.code == 2 and "[bold red]y.db" in again.err


def test_an_error_about_a_hostile_file_name_is_one_escaped_line(tmp_path: Path) -> None:
    result = run_twin("log", tmp_path / "x\x1b[2J\n\u202e.jsonl")
    assert result.one_line_error
    assert_terminal_safe(result.err)
    assert "\\x1b[2J\\n\\u202e.jsonl" in result.err


def test_a_usage_error_echoing_what_was_typed_is_escaped(tmp_path: Path) -> None:
    result = run_twin("state", "x.jsonl", "--at", "1\x1b[2J")
    assert result.code == 2
    assert_terminal_safe(result.err)
    assert "1\\x1b[2J" in result.err


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"type": "orchestrator_added", "orchestrator": "m\x1b[2J", "site": 1}, "orchestrator"),
        (
            {"type": "link_added", "link": "l\u202e", "a": "1_01", "b": "1_02", "kind": "sync"},
            "link",
        ),
        ({"type": "note", "text": "hi", "event_id": "e\n1"}, "event_id"),
        ({"type": "note", "text": "hi", "correlation_id": "c\x00"}, "correlation_id"),
        ({"type": "member_failed", "member": "1_01\u200b"}, "member"),
    ],
)
def test_control_characters_in_ids_are_refused(
    tmp_path: Path, row: dict[str, Any], field: str
) -> None:
    rows = [{"type": "site_added", "site": 1}, row]
    result = run_twin("log", write(tmp_path / "ids.jsonl", rows))
    assert result.one_line_error, result
    assert f":2: {field}: " in result.err
    assert_terminal_safe(result.err)


# -- the TUI ------------------------------------------------------------------------------------


def tui_screen_text(path: Path, at: int) -> str:
    """The TUI's screen as text (from Textual's own SVG export), after it settles at ``at``."""
    import asyncio
    import html
    import re

    from tests.tui_helpers import settle
    from tui.app import TwinApp
    from tui.timeline_data import TimelineData

    app = TwinApp(TimelineData.open(path), at=at)
    shot: list[str] = []

    async def main() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(app, pilot)  # the index, and the detail at the cursor
            shot.append(app.export_screenshot())

    asyncio.run(main())
    return html.unescape(re.sub(r"<[^>]+>", "", shot[0]))


def test_the_tui_shows_hostile_text_escaped_and_markup_as_written(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in hostile_incident(tmp_path).read_text().splitlines()]
    rows.append({"type": "[b]loud[/b]", "x": 1})
    source = write(tmp_path / "with-unknown.jsonl", rows)
    journal = tmp_path / "j.db"
    assert run_twin("init", journal).code == 0
    assert run_twin("import", journal, source, "--allow-unknown").code == 0
    screen = tui_screen_text(journal, at=len(rows))
    assert_terminal_safe(screen)
    assert "R81\\x1b]0;pwned\\x07" in screen  # the member's version in the topology pane
    assert "[b]loud[/b]" in screen  # the event type, as written
