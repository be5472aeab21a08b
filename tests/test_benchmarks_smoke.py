"""The benchmark command runs end to end on a tiny data set and prints every row."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "benchmarks" / "run.py"
LABELS = (
    "bare insert (baseline)",
    "import_file, end to end",
    "append of pre-read events",
    "bare replay (baseline)",
    "reducer replay",
    "full evaluation, all rules",
    "seek state_at, 1% in",
    "seek state_at, 99% in",
    "seek with metrics, 1% in",
    "seek with metrics, 99% in",
    "verify",
    "peak RSS, reducer replay",
    "peak RSS, full evaluation",
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
    for key in ("bare_insert", "import_file", "bare_replay", "reducer_replay", "verify"):
        assert rows[key]["value"] > 0
        assert len(rows[key]["runs_s"]) == 2
    # A ratio is a fraction of the bare baseline measured in the same run.
    assert 0 < rows["import_file"]["ratio"] < 1
    assert rows["import_file"]["ratio_of"] == "bare insert"
    assert rows["seek_state_end"]["p99"] >= rows["seek_state_end"]["p50"] > 0
    assert rows["rss_reducer"]["value"] > 0
    assert not (tmp_path / "scratch").exists(), "scratch journals are removed"
