"""The benchmark command runs end to end on a tiny data set and prints every row."""

from __future__ import annotations

import json
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
        assert rows[f"{mix}.rss_import"]["value"] > 0
    assert rows["verify"]["value"] > 0
    assert rows["seek_state_end"]["p99"] >= rows["seek_state_end"]["p50"] > 0
    assert not (tmp_path / "scratch").exists(), "scratch journals are removed"
