"""The soak (benchmarks/soak.py) runs end to end with tiny numbers, so it never rots."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOAK = ROOT / "benchmarks" / "soak.py"


@pytest.mark.slow
def test_a_tiny_soak_passes_every_check_and_reports_its_figures(tmp_path: Path) -> None:
    output = tmp_path / "soak.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SOAK),
            "--rounds",
            "4",
            "--import-events",
            "300",
            "--writers",
            "2",
            "--writer-events",
            "10",
            "--disk-cases",
            "1",
            "--tamper-events",
            "40",
            "--tamper-seqs",
            "1",
            "--fuzz",
            "24",
            "--cli-every",
            "12",
            "--workdir",
            str(tmp_path),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(output.read_text(encoding="utf-8"))
    figures = report["figures"]
    assert report["failures"] == []
    assert figures["rounds"] == figures["rounds_survived"] == 4
    assert figures["import_rounds"] == figures["append_rounds"] == 2
    assert figures["events_lost"] == 0 and figures["events_acknowledged"] > 0
    assert figures["concurrent_events_lost"] == 0
    assert figures["tamper_cases"] == figures["tamper_located"] == 15
    assert figures["fuzz_cases"] == 24 and figures["fuzz_bad"] == 0
    assert figures["fuzz_refused_cleanly"] + figures["fuzz_accepted"] == 24
    assert figures["fuzz_through_cli"] == 2
    if "full_disk" not in figures:  # skipped (and said so) without mount namespaces
        assert figures["disk_cases"] == 1
    for row in ("kill rounds survived", "events lost", "tamper cases located", "fuzz cases"):
        assert row in done.stdout
    assert "events lost                         0" in done.stdout
    assert not (tmp_path / "soak-scratch").exists(), "scratch files are removed"
