"""The benchmark command runs end to end on a tiny data set and prints every row."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "benchmarks" / "run.py"
PER_MIX = (
    "bare insert (baseline)",
    "import_file, end to end",
    "bare replay (baseline)",
    "reducer replay",
    "full evaluation, event by event",
    "full evaluation, bulk (segments)",
    "peak RSS, import",
    "peak RSS, full evaluation",
)
LABELS = (
    *(f"{label} [{mix}]" for mix in ("group", "member") for label in PER_MIX),
    "seek state_at, 1% in",
    "seek state_at, 99% in",
    "seek with metrics, 1% in",
    "seek with metrics, 99% in",
    "verify",
)


@pytest.mark.slow
def test_quick_run_prints_every_row_and_writes_json(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    done = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--quick",
            "--events",
            "2000",
            "--repeat",
            "2",
            "--seeks",
            "3",
            "--workdir",
            str(tmp_path),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    table = done.stdout
    assert "2,000 events" in table
    for label in LABELS:
        line = next((ln for ln in table.splitlines() if ln.startswith(label)), None)
        assert line is not None, f"row {label!r} missing from:\n{table}"
        assert "not run" not in line
    report = json.loads(output.read_text(encoding="utf-8"))
    assert report["events"] == 2000
    rows = {row["key"]: row for row in report["rows"]}
    assert len(rows) == len(LABELS)
    for mix in ("group", "member"):
        for key in ("bare_insert", "import_file", "bare_replay", "reducer_replay"):
            assert rows[f"{mix}.{key}"]["value"] > 0
            assert len(rows[f"{mix}.{key}"]["runs_s"]) == 2
        # A ratio is a fraction of the bare baseline measured in the same run, for that mix.
        assert 0 < rows[f"{mix}.import_file"]["ratio"] < 1
        assert rows[f"{mix}.import_file"]["ratio_of"] == "bare insert"
        # The same ratio by CPU time, which other processes on the machine do not inflate.
        assert rows[f"{mix}.import_file"]["ratio_cpu"] > 0
        assert rows[f"{mix}.full_evaluation"]["cpu_value"] > 0
        assert rows[f"{mix}.rss_import"]["value"] > 0
    assert rows["verify"]["value"] > 0
    assert rows["seek_state_end"]["p99"] >= rows["seek_state_end"]["p50"] > 0
    assert not (tmp_path / "scratch").exists(), "scratch journals are removed"


@pytest.mark.slow
def test_an_existing_journal_gets_only_seek_and_verify(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    events = generate.write(tmp_path / "events.jsonl", 1500)
    journal = tmp_path / "evaluated.db"
    twin = [sys.executable, "-m", "twin"]
    for args in (["init", journal], ["import", journal, events], ["run", journal]):
        subprocess.run([*twin, *map(str, args)], check=True, capture_output=True, cwd=ROOT)
    output = tmp_path / "seek.json"
    options = ["--repeat", "1", "--seeks", "3", "--workdir", str(tmp_path / "work")]
    done = subprocess.run(
        [sys.executable, str(RUN), "--journal", str(journal), *options, "--output", str(output)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(output.read_text(encoding="utf-8"))
    assert report["events"] == 1500
    rows = {row["key"]: row for row in report["rows"]}
    assert set(rows) == {
        "seek_state_start",
        "seek_state_end",
        "seek_frame_start",
        "seek_frame_end",
        "verify",
    }
    # Wall time and the seeking process's CPU time, which other processes do not inflate.
    assert rows["seek_frame_end"]["p99"] > 0
    assert 0 < rows["seek_frame_end"]["cpu_p50"] <= rows["seek_frame_end"]["cpu_p99"]
    assert "CPU" in done.stdout
    assert "not run" not in done.stdout, "only the rows measured are listed"
    assert "[group]" not in done.stdout
    assert not (tmp_path / "work" / "data").exists(), "no data is generated"


@pytest.mark.slow
def test_only_import_measures_the_import_rows_of_each_mix(tmp_path: Path) -> None:
    output = tmp_path / "import.json"
    options = ["--events", "600", "--repeat", "1", "--mix", "member", "--only", "import"]
    # As on the project's machine: Python may not write bytecode next to the sources.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        [sys.executable, str(RUN), *options, "--workdir", str(tmp_path), "--output", str(output)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = {row["key"]: row for row in json.loads(output.read_text(encoding="utf-8"))["rows"]}
    assert set(rows) == {"member.bare_insert", "member.import_file", "member.rss_import"}
    assert rows["member.import_file"]["ratio_cpu"] > 0
    assert "import_file, end to end [member]" in done.stdout
    assert "not run" not in done.stdout, "only the rows measured are listed"
    assert not (tmp_path / "scratch").exists(), "scratch journals are removed"
    # The timed children did not compile the twin: an untimed one did, into a shared cache.
    compiled = {p.name.split(".")[0] for p in (tmp_path / "pycache").rglob("*.pyc")}
    assert {"appending", "event_files", "reducer"} <= compiled


@pytest.mark.parametrize("grid", ["state", "frames"])
@pytest.mark.parametrize("head", [20_000, 200_000, 1_234_567])
def test_seeks_near_the_start_and_the_end_replay_the_same_numbers_of_events(
    head: int, grid: str
) -> None:
    # The end ÷ start ratio must measure the position, not which random targets each drew:
    # both positions replay the same distances from their snapshot.
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from journal.snapshots import SNAPSHOT_EVERY as STATE_EVERY
    from twin.replay import SNAPSHOT_EVERY as FRAME_EVERY

    every = STATE_EVERY if grid == "state" else FRAME_EVERY
    offsets = run.seek_offsets(head, 50, random.Random(7))
    start = run.seek_targets(head, 0.01, offsets, every)
    end = run.seek_targets(head, 0.99, offsets, every)
    assert all(0 < seq < head // 10 for seq in start)
    assert all(head * 0.9 < seq <= head for seq in end)
    assert [s % every for s in start] == [e % every for e in end]


def test_verify_cost_names_where_the_time_goes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate
        import verify_cost
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from journal import Journal

    journal = tmp_path / "j.db"
    with Journal.create(journal) as j:
        j.import_file(generate.write(tmp_path / "events.jsonl", 300))
    before = journal.read_bytes()
    assert verify_cost.main([str(journal), "--repeat", "1"]) == 0
    printed = capsys.readouterr().out
    for what in ("verify today", "read the 13 columns", "stored canonical bytes"):
        assert what in printed
    assert journal.read_bytes() == before, "the journal is only read"
