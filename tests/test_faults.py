"""Faults a journal meets in the field: held locks, full disks, read-only files and media.

Each write that cannot happen ends in one line (exit 2, or 1 for a lock held
too long) and leaves the journal exactly as it was: same head, chain intact.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from journal import Journal
from tests.cli_helpers import run_twin
from tests.fault_helpers import (
    in_namespace,
    lock_held,
    namespaces_available,
    read_only_bind,
    small_filesystem,
    twin_command,
)
from twin.errors import TwinInputError

needs_namespaces = pytest.mark.skipif(
    not namespaces_available(), reason="needs unprivileged mount namespaces (unshare)"
)

GENESIS = [
    {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1},
    {"type": "group_created", "group": 1},
    {"type": "member_added", "member": "1_01", "group": 1, "site": 1},
]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def loads(count: int) -> list[dict[str, object]]:
    return [{"type": "note", "text": f"note {i} " + "x" * 200} for i in range(count)]


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "j.db"
    assert run_twin("init", path).code == 0
    assert run_twin("import", path, write_jsonl(tmp_path / "g.jsonl", GENESIS)).code == 0
    return path


def head_and_ok(path: Path) -> tuple[int, bool]:
    with Journal.open(path) as j:
        return j.head(), j.verify().ok


# -- item 7: the lock, held too long -------------------------------------------------------------


def test_a_held_lock_gives_up_after_wait_and_names_the_holder(journal: Path) -> None:
    with lock_held(journal) as pid:
        started = time.monotonic()
        result = run_twin("append", journal, "note", "text=hi", "--wait", "1")
        waited = time.monotonic() - started
    assert result.code == 1 and result.traceback is None
    assert len(result.err.strip().splitlines()) == 1
    assert "another writer holds the journal's lock" in result.err
    assert "gave up after waiting 1 s and wrote nothing" in result.err and "--wait" in result.err
    if Path("/proc/locks").exists():
        assert f"process {pid} (" in result.err
    assert 0.9 <= waited < 30
    assert head_and_ok(journal) == (3, True)


def test_import_waits_as_long_as_asked(journal: Path, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "n.jsonl", loads(3))
    with lock_held(journal):
        result = run_twin("import", journal, source, "--wait", "0.5")
    assert result.code == 1 and "gave up after waiting 0.5 s" in result.err
    assert run_twin("import", journal, source, "--wait", "5").code == 0


def test_a_negative_wait_is_bad_usage(journal: Path) -> None:
    assert run_twin("append", journal, "note", "text=hi", "--wait", "-1").code == 2


# -- item 7: a full disk --------------------------------------------------------------------------


def test_a_full_database_refuses_the_import_in_one_line_and_writes_nothing(
    journal: Path, tmp_path: Path
) -> None:
    """SQLite's own page limit raises the same SQLITE_FULL a full disk does."""
    source = write_jsonl(tmp_path / "big.jsonl", loads(3000))
    with Journal.open(journal) as j:
        pages = j._conn.execute("PRAGMA page_count").fetchone()[0]
        j._conn.execute(f"PRAGMA max_page_count = {pages + 20}")
        with pytest.raises(TwinInputError) as caught:
            j.import_file(source)
        assert j.head() == 3
    assert "the disk is full; nothing was written" in caught.value.one_line()
    assert str(journal) in caught.value.one_line()
    assert head_and_ok(journal) == (3, True)


@needs_namespaces
def test_a_full_filesystem_refuses_the_import_and_the_journal_stays_whole(
    tmp_path: Path,
) -> None:
    disk = tmp_path / "small"
    disk.mkdir()
    source = write_jsonl(tmp_path / "big.jsonl", loads(4000))
    small = write_jsonl(tmp_path / "small.jsonl", GENESIS)
    journal = disk / "j.db"
    ran = in_namespace(
        small_filesystem(disk, 256),
        " && ".join(
            [
                twin_command("init", journal),
                twin_command("import", journal, small),
                f"{{ {twin_command('import', journal, source)}; echo rc=$?; }}",
                twin_command("verify", journal),
                twin_command("log", journal, "--format", "jsonl"),
            ]
        ),
    )
    assert ran.code == 0, ran.err
    assert "rc=2" in ran.out
    assert "the disk is full; nothing was written" in ran.err
    assert "Traceback" not in ran.err
    assert "ok: 3 events, hash chain intact" in ran.out
    assert ran.out.count('"seq":') == 3


@needs_namespaces
def test_a_journal_on_a_full_disk_can_still_be_read_and_refuses_writes_as_full(
    tmp_path: Path,
) -> None:
    """With no room for its -shm, SQLite reports an I/O error even to readers."""
    disk = tmp_path / "small"
    disk.mkdir()
    small = write_jsonl(tmp_path / "small.jsonl", GENESIS)
    journal = disk / "j.db"
    ran = in_namespace(
        small_filesystem(disk, 512),
        " && ".join(
            [
                twin_command("init", journal),
                twin_command("import", journal, small),
                f"{{ dd if=/dev/zero of={disk / 'filler'} bs=4k 2>/dev/null; true; }}",
                twin_command("log", journal, "--format", "jsonl"),
                twin_command("verify", journal),
                f"{{ {twin_command('append', journal, 'note', 'text=hi')}; echo append=$?; }}",
                f"rm {disk / 'filler'}",
                twin_command("append", journal, "note", "text=hi"),
                twin_command("verify", journal),
            ]
        ),
    )
    assert ran.code == 0, ran.err
    assert ran.out.count('"seq":') == 3
    assert "ok: 3 events, hash chain intact" in ran.out
    assert "append=2" in ran.out and "Traceback" not in ran.err
    refusal = [line for line in ran.err.splitlines() if "cannot write" in line]
    assert len(refusal) == 1 and "the disk is full" in refusal[0], ran.err
    assert "input/output error" not in ran.err
    assert "ok: 4 events, hash chain intact" in ran.out  # room again: writes work


# -- item 7: a read-only journal file ------------------------------------------------------------


def _read_only_file(journal: Path, command: str) -> str:
    """Run ``command`` with ``journal`` read-only; return the combined output."""
    if os.geteuid() != 0:
        journal.chmod(0o444)
        try:
            done = in_shell(command)
        finally:
            journal.chmod(0o644)
        return done
    if not namespaces_available():
        pytest.skip("root ignores file permissions, and no mount namespaces here")
    ran = in_namespace(read_only_bind(journal), command)
    return ran.out + ran.err + f"\nexit={ran.code}"


def in_shell(command: str) -> str:
    import subprocess

    done = subprocess.run(
        ["sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TWIN_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    return done.stdout + done.stderr + f"\nexit={done.returncode}"


def test_a_read_only_journal_file_refuses_writes_in_one_line_and_still_reads(
    journal: Path,
) -> None:
    out = _read_only_file(
        journal,
        f"{{ {twin_command('append', journal, 'note', 'text=hi')}; echo append=$?; }}; "
        + twin_command("log", journal),
    )
    assert "append=2" in out and "exit=0" in out
    assert "cannot write: the journal is read-only" in out or "read-only" in out
    assert "Traceback" not in out
    assert "member_added" in out  # the log still reads
    assert head_and_ok(journal) == (3, True)


# -- item 8: read-only media ----------------------------------------------------------------------


@needs_namespaces
def test_a_journal_on_read_only_media_can_be_read_and_refuses_writes(
    journal: Path, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    shutil.copy(journal, media / "j.db")  # closed cleanly: no -wal or -shm beside it
    copy = media / "j.db"
    ran = in_namespace(
        read_only_bind(media),
        " && ".join(
            [
                twin_command("log", copy),
                twin_command("state", copy),
                twin_command("verify", copy),
                f"{{ {twin_command('append', copy, 'note', 'text=hi')}; echo append=$?; }}",
            ]
        ),
    )
    assert ran.code == 0, ran.err
    assert "member_added" in ran.out and "ok: 3 events, hash chain intact" in ran.out
    assert "append=2" in ran.out and "Traceback" not in ran.err
    assert "read-only" in ran.err
    assert sorted(p.name for p in media.iterdir()) == ["j.db"]


@needs_namespaces
def test_a_wal_left_beside_a_journal_on_read_only_media_is_warned_about(
    journal: Path, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    # Copy the journal while a writer has it open: the last events are only in -wal.
    conn = sqlite3.connect(journal, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    with Journal.open(journal) as j:
        j._conn.execute("PRAGMA wal_autocheckpoint = 0")
        j.import_file(write_jsonl(tmp_path / "n.jsonl", loads(2)))
        for suffix in ("", "-wal"):
            shutil.copy(f"{journal}{suffix}", f"{media / 'j.db'}{suffix}")
    conn.close()
    ran = in_namespace(read_only_bind(media), twin_command("log", media / "j.db"))
    assert ran.code == 0, ran.err
    assert "j.db-wal" in ran.err and "cannot be read from there" in ran.err
    assert "twin export" in ran.err


# -- item 13: a reader that stops reading, and an output that cannot be written ------------------

INCIDENT = Path(__file__).resolve().parents[1] / "examples" / "incident-0412.jsonl"


@pytest.mark.parametrize(
    "args", [["log", INCIDENT], ["run", INCIDENT, "--format", "jsonl"], ["run", INCIDENT]]
)
def test_a_reader_that_stops_reading_ends_the_command_quietly_with_exit_0(
    args: list[object],
) -> None:
    import subprocess
    import sys

    twin = subprocess.Popen(
        [sys.executable, "-m", "twin", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "TWIN_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert twin.stdout is not None and twin.stderr is not None
    first = twin.stdout.readline()  # like `| head -1`
    twin.stdout.close()
    err = twin.stderr.read()
    twin.stderr.close()
    assert twin.wait(timeout=120) == 0
    assert first and err == b""


def test_an_output_that_cannot_be_written_is_one_line() -> None:
    import subprocess
    import sys

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "twin", "log", str(INCIDENT)],
            stdout=full,
            stderr=subprocess.PIPE,
            env={**os.environ, "TWIN_DISABLE_PLUGIN_AUTOLOAD": "1"},
            timeout=120,
        )
    assert done.returncode == 2
    assert done.stderr.decode().strip() == (
        "twin: error: cannot write the output: No space left on device"
    )


# -- a damaged file --------------------------------------------------------------------------------


def _damaged_copies(journal: Path, tmp_path: Path) -> dict[str, Path]:
    source = write_jsonl(tmp_path / "more.jsonl", loads(600))
    assert run_twin("import", journal, source).code == 0
    size = journal.stat().st_size
    copies = {}
    for name in ("truncated", "overwritten", "header"):
        copy = tmp_path / f"{name}.db"
        shutil.copy(journal, copy)
        with copy.open("r+b") as handle:
            if name == "truncated":
                handle.truncate(size // 2)
            elif name == "overwritten":
                for offset in range(8192, size, 4096):
                    handle.seek(offset + 100)
                    handle.write(b"\xde\xad\xbe\xef" * 8)
            else:
                handle.seek(20)
                handle.write(b"\xff\xff\xff")
        copies[name] = copy
    return copies


@pytest.mark.parametrize("command", [["log"], ["verify"], ["state"], ["append", "note", "text=x"]])
def test_a_damaged_journal_is_one_line_for_every_command(
    journal: Path, tmp_path: Path, command: list[str]
) -> None:
    for name, copy in _damaged_copies(journal, tmp_path).items():
        result = run_twin(command[0], copy, *command[1:])
        if command == ["verify"] and result.code == 1:
            # rows SQLite still reads, garbled: verify names the first (a failed check)
            assert result.traceback is None and len(result.err.strip().splitlines()) == 1
            assert "verify FAILED at seq" in result.err, (name, result)
        else:
            assert result.one_line_error, (name, result)
        assert "damaged" in result.err or "not a twin journal" in result.err


# -- SIGKILL in the middle of a write -----------------------------------------------------------


def _kill_once_writing(args: list[object], wal: Path, grown: int) -> bool:
    """Start `twin ARGS`; SIGKILL it once ``wal`` holds ``grown`` bytes (mid-write).

    Returns:
        True if it was killed while writing (False: it finished first).
    """
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "twin", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TWIN_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if wal.exists() and wal.stat().st_size >= grown:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
            return True
        time.sleep(0.005)
    process.wait(timeout=60)
    return False


@pytest.mark.parametrize("grown", [64_000, 1_000_000, 3_000_000])
def test_an_import_killed_midway_leaves_all_or_nothing(
    journal: Path, tmp_path: Path, grown: int
) -> None:
    source = write_jsonl(tmp_path / "big.jsonl", loads(20_000))
    killed = _kill_once_writing(["import", journal, source], Path(f"{journal}-wal"), grown)
    head, ok = head_and_ok(journal)
    assert ok
    assert head == (3 if killed else 3 + 20_000)


APPENDER = """
import sys
from journal import Journal
from twin.event_files import NewEvent
from twin.events import Note

with Journal.open(sys.argv[1]) as journal:
    for n in range(100_000):
        journal.append([NewEvent(Note(text=f"n{n}"), "note")])
        print(n + 1, flush=True)  # committed
"""


def test_appends_killed_midway_lose_nothing_committed(journal: Path) -> None:
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(journal)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    committed = 0
    started = time.monotonic()
    while committed < 40 and time.monotonic() - started < 60:
        line = process.stdout.readline()
        if not line:
            break
        committed = int(line)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    for line in process.stdout:  # what it reported before it died
        committed = int(line)
    process.stdout.close()
    head, ok = head_and_ok(journal)
    # Everything reported committed is there; at most the one in flight besides.
    assert ok and 3 + committed <= head <= 3 + committed + 1
