"""The command benchmark runs end to end; generated data is never left half written."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "commands.py"
LABELS = (
    "twin init + twin import (group mix)",
    "twin verify",
    "twin run, table (first: writes snapshots)",
    "twin run, table",
    "twin run --format jsonl --changes-only --metrics members.active,capacity.utilization",
    "twin run --format jsonl (every metric, full findings)",
)


@pytest.mark.slow
def test_every_command_is_timed_with_its_peak_memory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--events", "400", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for label in LABELS:
        assert label in done.stdout, label
    report = json.loads((tmp_path / "commands.json").read_text(encoding="utf-8"))
    rows = {row["key"]: row for row in report["rows"]}
    assert len(rows) == len(LABELS)
    for row in rows.values():
        # The peak of the command's own process: an interpreter with the twin loaded.
        assert 20 < row["peak_rss_mb"] < 1000
        assert row["seconds"] > 0
    assert rows["run_table"]["output_bytes"] > 0
    # Every metric of every event is more to print than two metrics and the changes.
    assert rows["run_jsonl_all"]["output_bytes"] > rows["run_jsonl_changes"]["output_bytes"]
    assert rows["run_table"]["x_event_by_event_evaluation"] > 0
    assert len(report["load_average"]) == 3
    assert not (tmp_path / "scratch-commands-400").exists()


def test_an_interrupted_generation_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))

    real_lines = generate.lines

    def interrupted(n: int, seed: int, mix: str) -> Iterator[dict[str, Any]]:
        yield from real_lines(2, seed, mix)[:1]
        raise KeyboardInterrupt

    target = tmp_path / "events.jsonl"
    monkeypatch.setattr(generate, "lines", interrupted)
    with pytest.raises(KeyboardInterrupt):
        generate.write(target, 100)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    generate.write(target, 150)
    assert len(target.read_text(encoding="utf-8").splitlines()) == 150
