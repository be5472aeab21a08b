"""Verify in two halves at once reaches exactly what verifying in order reaches.

A long main line is checked by two processes, the second starting from the
``prev_hash`` stored where its half begins. Whatever was done to the journal,
the result (ok, rows good, first bad seq, the problem) must be the one a
single pass gives. The split threshold is lowered so that small journals split.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import journal.verifying
from journal import Journal
from tests.cli_helpers import tamper
from twin import events as ev
from twin.event_files import NewEvent

ROWS = 240


def new(event: ev.Event) -> NewEvent:
    return NewEvent(event=event, type=event.event_type, occurred_at="2026-03-14T02:00:00Z")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("split") / "pristine.db"
    events = [
        new(ev.SiteAdded(site=1)),
        new(ev.GroupCreated(group=1)),
        new(ev.MemberAdded(member="1_01", group=1, site=1)),
    ]
    events += [new(ev.LoadChanged(group=1, connections=i, cpu_pct=1.0)) for i in range(ROWS - 3)]
    with Journal.create(path) as j:
        j.append(events)
    return path


def outcome(path: Path, split_at: int) -> tuple[object, ...]:
    old = journal.verifying.SPLIT_AT
    journal.verifying.SPLIT_AT = split_at
    try:
        with Journal.open(path) as j:
            seen: list[int] = []
            result = j.verify(progress=seen.append)
            return (
                result.ok,
                result.checked,
                result.first_bad_seq,
                result.problem,
                seen[-1] if seen else 0,
            )
    finally:
        journal.verifying.SPLIT_AT = old


EDITS = {
    "data": "UPDATE events SET data = replace(data, ':1.0', ':2.0') WHERE seq = {k}",
    "hash": "UPDATE events SET hash = '" + "ab" * 32 + "' WHERE seq = {k}",
    "delete": "DELETE FROM events WHERE seq = {k}",
    "link": "UPDATE events SET prev_hash = '" + "cd" * 32 + "' WHERE seq = {k}",
    "not utf-8": "UPDATE events SET reason = CAST(x'ff' AS TEXT) WHERE seq = {k}",
}


def test_a_clean_long_journal_verifies_in_halves(pristine: Path) -> None:
    split = outcome(pristine, 50)
    assert split[:4] == (True, ROWS, None, None)
    assert split == outcome(pristine, 10**9)
    assert split[4] == ROWS, "progress counts both halves"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(sorted(EDITS)), st.integers(1, ROWS)), min_size=1, max_size=3
    )
)
@example(edits=[("delete", ROWS // 2)])  # the first half's last row: a gap, not a broken link
@example(edits=[("delete", ROWS // 2 - 1), ("delete", ROWS // 2)])
@example(edits=[("not utf-8", ROWS // 2)])  # the other process cannot read its first row
@example(edits=[("not utf-8", ROWS - 5), ("delete", ROWS - 7)])
def test_halves_find_what_one_pass_finds(
    pristine: Path, tmp_path: Path, edits: list[tuple[str, int]]
) -> None:
    path = tmp_path / "edited.db"
    shutil.copyfile(pristine, path)
    tamper(path, *(EDITS[kind].format(k=k) for kind, k in edits))
    one_pass = outcome(path, 10**9)  # (an edit may change nothing: then both pass)
    assert outcome(path, 50)[:4] == one_pass[:4]


def test_the_junction_itself_is_checked(pristine: Path, tmp_path: Path) -> None:
    path = tmp_path / "junction.db"
    shutil.copyfile(pristine, path)
    middle = 1 + ROWS // 2  # where the second half starts
    tamper(path, EDITS["link"].format(k=middle))
    split = outcome(path, 50)
    assert split[:3] == (False, middle - 1, middle)
    assert "broken link" in str(split[3])
    assert split[:4] == outcome(path, 10**9)[:4]


def test_a_progress_bar_on_a_terminal_leaves_verify_free_to_fork(
    pristine: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `twin verify` in a terminal draws a progress bar while verify starts its second
    # process. A bar redrawn by a thread of its own would make that process a freshly
    # spawned interpreter (a second of CPU) instead of a fork.
    import io
    import multiprocessing.context
    import threading

    from twin.cli._common import progress_bar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    threads = threading.active_count()
    with progress_bar("verifying", ROWS) as tick, Journal.open(pristine) as j:
        assert threading.active_count() == threads
        if threads == 1:
            assert isinstance(journal.verifying._context(), multiprocessing.context.ForkContext)
        assert j.verify(progress=tick).ok
    assert "verifying" in screen.getvalue(), "the bar was drawn"


@pytest.mark.parametrize("name", ["prod#2.db", "a?b.db", "100%.db", "two words.db"])
def test_a_journal_named_with_uri_characters_is_split_without_touching_other_files(
    pristine: Path,
    tmp_path: Path,
    name: str,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The second process opens the journal by a file: URI; spelt into it as it is,
    # "prod#2.db" opened (and created) "prod" next to it, and printed a traceback.
    path = tmp_path / name
    shutil.copyfile(pristine, path)
    expected = outcome(pristine, split_at=10)
    checked_here: list[int] = []
    check_here = journal.verifying._check_here

    def spy(*args: Any, **kwargs: Any) -> Any:  # the child's calls stay in the child
        checked_here.append(1)
        return check_here(*args, **kwargs)

    monkeypatch.setattr(journal.verifying, "_check_here", spy)
    assert outcome(path, split_at=10) == expected
    assert checked_here == [], "the second half was checked by the other process"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(name)) == []
    assert "Traceback" not in capfd.readouterr().err


def test_a_script_with_a_thread_and_no_main_guard_runs_once(tmp_path: Path) -> None:
    # With another thread running, verify cannot fork its second process. A spawned one
    # would import the caller's main module again: this script, unguarded, appended its
    # 50 events twice (once more in the child) and printed the child's traceback.
    path = tmp_path / "j.db"
    script = tmp_path / "user.py"
    script.write_text(
        "import threading\n"
        "import journal.verifying\n"
        "from journal import Journal\n"
        "from twin import events as ev\n"
        "from twin.event_files import NewEvent\n"
        "journal.verifying.SPLIT_AT = 10\n"
        "stop = threading.Event()\n"
        "threading.Thread(target=stop.wait, daemon=True).start()\n"
        f"with Journal.open({str(path)!r}, create=True) as j:\n"
        "    j.append([NewEvent(event=ev.Note(text=str(i)), type='note') for i in range(50)])\n"
        "    print(j.verify().ok)\n"
        "stop.set()\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert "Traceback" not in done.stderr
    with Journal.open(path) as j:
        assert j.head() == 50
