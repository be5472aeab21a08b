"""The plan benchmark runs end to end on a tiny base and prints every row."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "plans.py"
ROWS = (
    "replay to the end, every rule (baseline)",
    "base load, cold, replayed (twin whatif)",
    "base load, cold, folded (twin plan check)",
    "seek to the end from snapshots (baseline)",
    "plan base load, warm (after twin run)",
    "20 steps, bare Engine.step (baseline)",
    "20 steps checked (check - load, warm)",
    "plan check, warm, end to end",
    "plan check, cold, end to end",
    "plan base load, event file (.jsonl), folded",
)


@pytest.mark.slow
def test_the_plan_benchmark_prints_every_row(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--events", "600", "--repeat", "1", "--workdir", tmp_path],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    for row in ROWS:
        assert row in done.stdout, row
    results = json.loads((tmp_path / "plans.json").read_text(encoding="utf-8"))
    assert results["steps"] == 20 and results["events"] == 600
    assert not (tmp_path / "plans-scratch").exists()  # scratch journals are removed
