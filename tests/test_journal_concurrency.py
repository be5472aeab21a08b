"""The journal under several processes: writers take turns, a killed writer leaves all or none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from journal import Journal
from twin import events as ev
from twin.event_files import NewEvent

IMPORTER = """
import sys
from journal import Journal
path, file = sys.argv[1:3]
with Journal.open(path) as j:
    print("ready", flush=True)
    sys.stdin.readline()  # the go signal
    result = j.import_file(file)
print(result.first_seq, result.last_seq, result.appended, flush=True)
"""

KILLED_IMPORTER = """
import sys
from journal import Journal
path, file = sys.argv[1:3]
with Journal.open(path) as j:
    j.import_file(file, progress=lambda n: print("progress", n, flush=True))
print("committed", flush=True)
"""


def topology() -> list[NewEvent]:
    events: list[ev.Event] = [ev.SiteAdded(site=1), ev.GroupCreated(group=1)]
    events += [ev.MemberAdded(member=f"1_0{i}", group=1, site=1) for i in range(1, 5)]
    return [NewEvent(event=e, type=e.event_type) for e in events]


def load_file(path: Path, count: int, tag: str) -> Path:
    records: list[dict[str, Any]] = [
        {
            "type": "load_changed",
            "group": 1,
            "connections": i,
            "cpu_pct": i % 90,
            "event_id": f"{tag}-{i}",
        }
        for i in range(count)
    ]
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def python(code: str, *args: str, stdin: Any = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_importing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "twin.db"
    with Journal.create(path) as j:
        j.append(topology())
    files = [load_file(tmp_path / f"{tag}.jsonl", 2000, tag) for tag in ("a", "b")]
    procs = [python(IMPORTER, str(path), str(f), stdin=subprocess.PIPE) for f in files]
    for proc in procs:  # both are up, connected and waiting
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n", proc.communicate()[1]
    for proc in procs:  # go: both import at once
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [p.communicate(timeout=60) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    ranges = sorted(tuple(int(x) for x in out.split()) for out, _ in outputs)
    assert ranges == [(7, 2006, 2000), (2007, 4006, 2000)]
    with Journal.open(path) as j:
        assert j.head() == 4006
        assert j.verify().ok
        ids = [e.event_id for e in j.read(7)]
    # Each import went in whole, one after the other.
    assert sorted(ids) == sorted([f"a-{i}" for i in range(2000)] + [f"b-{i}" for i in range(2000)])
    assert len({i[0] for i in ids[:2000]}) == 1
    assert len({i[0] for i in ids[2000:]}) == 1


def wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.mark.parametrize("moment", ["validating", "writing"])
def test_a_writer_killed_mid_import_leaves_all_or_nothing(tmp_path: Path, moment: str) -> None:
    path = tmp_path / "twin.db"
    count = 30_000
    with Journal.create(path) as j:
        j.append(topology())
    file = load_file(tmp_path / "big.jsonl", count, "big")
    proc = python(KILLED_IMPORTER, str(path), str(file))
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("progress"), proc.communicate()[1]
    if moment == "writing":
        # The rows are going into the WAL: the transaction is large and not yet committed.
        base = wal_size(path)
        deadline = time.monotonic() + 30
        while wal_size(path) < base + 4_000_000 and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with Journal.open(path) as j:
        head = j.head()
        assert head in (6, 6 + count)
        assert j.verify().ok
        assert sum(1 for _ in j.read()) == head
        # The journal is not left locked: the next writer goes straight in.
        small = load_file(tmp_path / "small.jsonl", 10, "small")
        assert j.import_file(small).last_seq == head + 10
        assert j.verify().ok
