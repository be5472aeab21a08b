"""`twin bisect` as a user runs it on the bundled incident."""

from __future__ import annotations

import json

from tests.cli_helpers import ROOT
from tests.cli_helpers import run_twin as twin

INCIDENT = ROOT / "examples" / "incident-0412.jsonl"


def test_bisect_names_the_sample_that_overloaded_1_03_with_its_probes() -> None:
    # examples/README.md: 1_03's own samples climb 78.5 → 91.2% from 02:03; the
    # first above 80% is #214 (02:05:20), where convergence.cpu-overload is raised.
    result = twin(
        "bisect",
        INCIDENT,
        "--rule",
        "convergence.cpu-overload",
        "--subject",
        "member:1_03",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["seq"] == 214
    assert data["event"]["type"] == "load_changed"
    assert data["event"]["data"]["member"] == "1_03"
    assert {"seq", "value", "verdict"} <= set(data["probes"][0])
    assert {p["verdict"] for p in data["probes"]} <= {"holds", "does not hold"}
    # The finding clears when 1_03 fails at #233: the answer survives a non-monotone timeline.
    assert data["monotone"] is False
    assert data["earlier"] == {"first": 214, "cleared": 233}


def test_bisect_text_lists_each_probe_and_the_event_with_what_it_changed() -> None:
    result = twin("bisect", INCIDENT, "--when", "load.cpu_pct@member:1_03 > 80", "--to", "230")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("bisect ") and "load.cpu_pct@member:1_03 > 80" in lines[0]
    probes = [line for line in lines if line.lstrip().startswith("probe #")]
    assert probes[0].split()[1] == "#230" and "holds" in probes[0]
    assert len(probes) <= 10  # ⌈log2 230⌉ + 2
    assert any(line.startswith("first holding event: #214 ") for line in lines)
    assert any("cpu_pct" in line and "changed member:1_03" in line for line in lines)


def test_bisect_exits_1_when_the_condition_never_holds() -> None:
    result = twin("bisect", INCIDENT, "--when", "members.total > 12")
    assert result.code == 1
    assert "never holds" in result.out


def test_bisect_refuses_typos_and_ambiguous_conditions_in_one_line() -> None:
    typo = twin("bisect", INCIDENT, "--when", "load.cpu_pc@member:1_03 > 80")
    assert typo.code == 2
    assert typo.err.strip().splitlines() == [
        "twin: error: --when: unknown metric 'load.cpu_pc'; did you mean 'load.cpu_pct'?"
    ]
    both = twin("bisect", INCIDENT, "--rule", "versions.mixed", "--when", "members.total > 1")
    assert both.code == 2 and "exactly one of" in both.err
    subject = twin("bisect", INCIDENT, "--rule", "versions.mixed", "--subject", "group:7")
    assert subject.code == 2 and "unknown subject 'group:7'" in subject.err
    reversed_range = twin(
        "bisect", INCIDENT, "--rule", "versions.mixed", "--from", "300", "--to", "200"
    )
    assert reversed_range.code == 2 and "after --to" in reversed_range.err
